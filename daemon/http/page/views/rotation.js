// The rotation view: for each student over a period, how many times they
// were pulled into same-need groups and into mixed groups, and a flag on
// anyone kept in one same-need group longer than the threshold.

import { t, tn } from "../strings.js";
import { h, fill, field } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";
import { onSave } from "./common.js";

let state = null;

const num = (x) => (typeof x === "number" ? x : parseInt(x || "0", 10)) || 0;

function row(r) {
	const id = r.student_id || (r.student && r.student.id) || r.student;
	const name = r.name || (r.student && r.student.name) || id;
	// The longest stay in one same-need group, from the groups listed.
	const same = (r.groups || []).filter((g) => g.type === "same-need")
	    .sort((a, b) => b.weeks - a.weeks)[0];
	const weeks = same ? same.weeks : r.longest_weeks !== undefined ?
	    r.longest_weeks : num(r.longest_days) / 7;
	const longestGroup = same ? same.name : r.longest_group;
	return h("tr", { class: r.flagged ? "flagged" : "" },
	    h("th", { scope: "row" }, h("a", { href: `#/student/${id}` }, name)),
	    h("td.n", fmt.num(num(r.same_need))),
	    h("td.n", fmt.num(num(r.mixed))),
	    h("td", same || weeks ? (weeks >= 1 ? tn("rotation_weeks", weeks,
	    { weeks: fmt.num(weeks) }) : t("rotation_under_week")) : "—",
	    longestGroup ? h("span.muted", ` (${longestGroup})`) : null,
	    r.flagged ? h("strong.flag", " ⚑ " + tn("rotation_flag", weeks,
	    { weeks: fmt.num(weeks) })) : null));
}

async function draw() {
	const data = await api.rotation(state.from, state.until, state.weeks);
	const coll = new Intl.Collator(undefined, { numeric: true });
	const rows = list(data, "students").slice().sort((a, b) =>
	    (b.flagged ? 1 : 0) - (a.flagged ? 1 : 0) ||
	    coll.compare(a.name || "", b.name || ""));
	fill(state.region, h("table.rotation",
	    h("thead", h("tr", h("th", { scope: "col" }, t("rotation_student")),
	    h("th", { scope: "col" }, t("rotation_same_need")),
	    h("th", { scope: "col" }, t("rotation_mixed")),
	    h("th", { scope: "col" }, t("rotation_longest")))),
	    h("tbody", rows.map(row))));
}

export const rotationView = {
	async mount(main) {
		state = state || { from: fmt.addDays(fmt.today(), -42),
		    until: fmt.today(), weeks: 3 };
		state.region = h("div.table-wrap");
		const form = h("form.card.inline",
		    field(t("f_from"), "from", "date", { value: state.from }),
		    field(t("f_until"), "until", "date", { value: state.until }),
		    field(t("f_threshold"), "weeks", "number",
		    { value: state.weeks, min: 1 }),
		    h("button", { type: "submit" }, t("rotation_show")));
		onSave(form, async (d) => {
			Object.assign(state, d);
			await draw();
		}, { keep: true });
		fill(main, h("h1", t("rotation_title")),
		    h("p.help", t("rotation_help")), form, state.region);
		await draw();
	},
	refresh() {
		return draw();
	},
};
