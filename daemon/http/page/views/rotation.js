// The rotation view: for each student over a period, how many times they
// were pulled into same-need groups and into mixed groups, and a flag on
// anyone kept in one same-need group longer than the threshold. The
// daemon counts from the groups' history (GET rotation): each stint, a
// join up to the leave that ends it, is listed with its dates.

import { t, tn } from "../strings.js";
import { h, fill, field, formData } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";

let state = null;

const num = (x) => (typeof x === "number" ? x : parseInt(x || "0", 10)) || 0;

const weeksText = (w) => w >= 1 ? tn("rotation_weeks", w,
    { weeks: fmt.num(w) }) : t("rotation_under_week");

// One stint: the group, its dates, how long; marked if it began before
// the period.
function stint(g) {
	const what = g.left ? t("rotation_stint", { group: g.name,
	    from: fmt.day(g.joined), until: fmt.day(g.left) }) :
	    t("rotation_stint_open", { group: g.name, from: fmt.day(g.joined) });
	return h("li", { class: g.type === "same-need" ? "same-need" :
	    "mixed" }, what, h("span.muted", ` (${weeksText(num(g.weeks))})`),
	    g.before_period ? h("span.muted", ` · ${t("rotation_before")}`) :
	    null);
}

function row(r) {
	const id = r.student;
	const groups = r.groups || [];
	// The longest stay in one same-need group, and which.
	const same = groups.filter((g) => g.type === "same-need")
	    .sort((a, b) => b.weeks - a.weeks)[0];
	const weeks = num(r.longest_weeks);
	return h("tr", { class: r.flagged ? "flagged" : "" },
	    h("th", { scope: "row" }, h("a", { href: `#/student/${id}` },
	    r.name || id)),
	    h("td.n", fmt.num(num(r.same_need))),
	    h("td.n", fmt.num(num(r.mixed))),
	    h("td", same ? weeksText(weeks) : "—",
	    same ? h("span.muted", ` (${same.name})`) : null,
	    r.flagged ? h("strong.flag", " ⚑ " + tn("rotation_flag", weeks,
	    { weeks: fmt.num(weeks) })) : null),
	    h("td", groups.length ? h("ul.stints", groups.map(stint)) : "—"));
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
	    h("th", { scope: "col" }, t("rotation_longest")),
	    h("th", { scope: "col" }, t("rotation_groups")))),
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
		    { value: state.weeks, min: 1, max: 52 }),
		    h("button", { type: "submit" }, t("rotation_show")));
		// A filter, not a save: no "Saved." line, only what went wrong.
		const msg = h("p.form-msg", { role: "status" });
		form.append(msg);
		form.addEventListener("submit", async (e) => {
			e.preventDefault();
			Object.assign(state, formData(form));
			try {
				await draw();
				fill(msg);
				msg.className = "form-msg";
			} catch (err) {
				msg.className = "form-msg error";
				fill(msg, t("error_prefix", { message: err.message }));
			}
		});
		fill(main, h("h1", t("rotation_title")),
		    h("p.help", t("rotation_help")), form, state.region);
		await draw();
	},
	refresh() {
		return draw();
	},
};
