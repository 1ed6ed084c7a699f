// Units and their assessment slices: a unit has a name and dates; entries
// belong to it as its pre-assessment, formative checks or post-assessment,
// with an optional score. A unit's page shows, for each student,
// pre → formatives → post and the growth.

import { t } from "../strings.js";
import { h, fill, field } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";
import { F, onSave } from "./common.js";
import { unitItem, deletedList } from "./edit.js";

let listRegion = null, unitState = null;

async function drawList() {
	const units = list(await api.units(), "units").filter((u) => !u.deleted);
	fill(listRegion, units.length === 0 ? h("p.muted", t("units_none")) :
	    h("ul.units", units.map((u) => unitItem(u, drawList))));
}

export const unitsView = {
	async mount(main) {
		listRegion = h("div");
		const form = h("form.card.inline.add-unit",
		    field(t("f_unit_name"), "name", "text", { required: true }),
		    field(t("f_from"), "from", "date", { value: fmt.today() }),
		    field(t("f_until"), "until", "date",
		    { value: fmt.addDays(fmt.today(), 28) }),
		    h("button", { type: "submit" }, t("unit_add")));
		onSave(form, (d) => api.addUnit(d), { after: drawList });
		fill(main, h("h1", t("units_title")), listRegion, form,
		    deletedList("unit", drawList));
		await drawList();
	},
	refresh: () => drawList(),
};

const score = (e) => e === null || e === undefined ? null :
    typeof e === "object" ? (e.score ?? F(e).score ?? null) : e;

// From the unit's entries when the API gives them rather than rows.
function rowsFromEntries(entries) {
	const by = new Map();
	for (const e of entries) {
		const f = F(e);
		if (e.deleted || !f.student)
			continue;
		if (!by.has(f.student))
			by.set(f.student, { student: { id: f.student,
			    name: f.student_name || f.student }, formatives: [] });
		const r = by.get(f.student);
		if (f.slice === "pre")
			r.pre = f.score;
		else if (f.slice === "post")
			r.post = f.score;
		else if (f.slice === "formative")
			r.formatives.push({ date: f.date, score: f.score });
	}
	for (const r of by.values()) {
		r.formatives.sort((a, b) => (a.date < b.date ? -1 : 1));
		if (r.pre !== undefined && r.post !== undefined)
			r.growth = r.post - r.pre;
	}
	return [...by.values()];
}

function cell(v) {
	const s = score(v);
	return h("td.n", s === null ? "—" : fmt.num(s));
}

function unitRow(r) {
	const st = typeof r.student === "string" ? { id: r.student } :
	    (r.student || {});
	const id = st.id || r.student_id;
	const growth = r.growth ?? (score(r.pre) !== null &&
	    score(r.post) !== null ? score(r.post) - score(r.pre) : null);
	return h("tr",
	    h("th", { scope: "row" }, h("a", { href: `#/student/${id}` },
	    st.name || r.name || id)),
	    cell(r.pre),
	    h("td.formatives", (r.formatives || []).length ?
	    (r.formatives || []).slice().sort((a, b) => (F(a).date || "") <
	    (F(b).date || "") ? -1 : 1).map((x) => score(x) === null ? "·" :
	    fmt.num(score(x))).join(" → ") :
	    "—"),
	    cell(r.post),
	    h("td.n.growth", { class: growth > 0 ? "up" : growth < 0 ?
	    "down" : "" }, growth === null ? "—" : fmt.signed(growth)));
}

async function drawUnit() {
	const data = await api.unit(unitState.id);
	const u = data.unit || data;
	const rows = Array.isArray(data.students) ? data.students :
	    rowsFromEntries(list(data.entries, "entries"));
	fill(unitState.main, h("p", h("a", { href: "#/units" },
	    t("units_title"))),
	    h("h1", F(u).name),
	    h("p.muted", t("unit_dates", { from: fmt.day(F(u).from),
	    until: fmt.day(F(u).until) })),
	    h("div.table-wrap", h("table.unit",
	    h("thead", h("tr", h("th", { scope: "col" }, t("rotation_student")),
	    h("th", { scope: "col" }, t("unit_pre")),
	    h("th", { scope: "col" }, t("unit_formatives")),
	    h("th", { scope: "col" }, t("unit_post")),
	    h("th", { scope: "col" }, t("unit_growth")))),
	    h("tbody", rows.map(unitRow)))));
}

export const unitView = {
	async mount(main, id) {
		unitState = { main, id };
		await drawUnit();
	},
	refresh: () => drawUnit(),
};
