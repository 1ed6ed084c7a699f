// The front page: follow-ups due today or overdue, the search box, the
// students by class, and a form to add a student.

import { t, tn } from "../strings.js";
import { h, fill, field } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";
import { F, studentLink, onSave, keepFocus } from "./common.js";
import { privateMark, deletedList } from "./edit.js";

let regions = null;
const names = new Map();	// student id -> name, for the search results

async function renderFollowups(el) {
	const data = await api.followups();
	const today = (data && data.today) || fmt.today();
	const due = Array.isArray(data) ? data :
	    [...(data.overdue || []), ...(data.due || [])];
	const rows = due.filter((n) => F(n).follow_up &&
	    F(n).follow_up <= today).sort((a, b) =>
	    F(a).follow_up < F(b).follow_up ? -1 : 1);
	fill(el, h("h2", { id: "followups-h" }, t("followups_title")),
	    rows.length === 0 ? h("p.muted", t("followups_none")) :
	    h("ul.followups", rows.map((n) => {
		const f = F(n), over = f.follow_up < today;
		return h("li", { class: over ? "overdue" : "today" },
		    h("a", { href: `#/student/${f.student}`,
		    "data-key": "fu-" + n.id }, n.student_name ||
		    f.student_name || f.student),
		    " — ", f.action || "", privateMark(n), " ",
		    h("span.when", over ? t("followup_overdue",
		    { date: fmt.day(f.follow_up) }) : t("followup_today")));
	})));
}

function byClass(students) {
	const classes = new Map();
	for (const s of students) {
		const c = F(s).class || "";
		if (!classes.has(c))
			classes.set(c, []);
		classes.get(c).push(s);
	}
	const coll = new Intl.Collator(undefined, { numeric: true });
	return [...classes.entries()].sort((a, b) => coll.compare(a[0], b[0]))
	    .map(([c, ss]) => [c, ss.sort((a, b) =>
	    coll.compare(F(a).name || "", F(b).name || ""))]);
}

async function renderClasses(el) {
	const students = list(await api.students(), "students")
	    .filter((s) => !s.deleted);
	names.clear();
	for (const s of students)
		names.set(s.id, F(s).name);
	if (students.length === 0)
		return fill(el, h("p.muted", t("students_none")));
	fill(el, byClass(students).map(([c, ss]) => h("section.class",
	    h("h2", c ? t("class_heading", { name: c }) : t("class_none")),
	    h("ul.students", ss.map((s) => h("li",
	    h("a", { href: `#/student/${s.id}`, "data-key": "s-" + s.id },
	    F(s).name), F(s).needs ? h("span.muted", " · " + F(s).needs) :
	    null))))));
}

function resultLine(r) {
	const f = F(r);
	if (r.kind === "student")
		return h("li", studentLink(r), " ", h("span.kind", f.class || ""));
	const text = f.title || [f.strengths, f.obstacle, f.action]
	    .filter(Boolean).join(" · ");
	return h("li", h("a", { href: `#/student/${f.student}` },
	    r.student_name || names.get(f.student) || t(r.kind === "note" ?
	    "note_label" : "entry_label")), " — ", h("span", text),
	    privateMark(r), " ", h("time.muted", fmt.day(f.date)));
}

function searchBox(out) {
	let seq = 0;
	const input = h("input", { type: "search", id: "search", name: "q",
	    placeholder: t("search_placeholder"), autocomplete: "off" });
	const run = async () => {
		const q = input.value.trim(), mine = ++seq;
		if (q === "")
			return fill(out);
		const found = list(await api.search(q), "results");
		if (mine !== seq)
			return;
		fill(out, h("p.muted", { role: "status" }, found.length ?
		    tn("search_results", found.length, { q }) :
		    t("search_none", { q })),
		    h("ul.results", found.map(resultLine)));
	};
	let timer;
	input.addEventListener("input", () => {
		clearTimeout(timer);
		timer = setTimeout(run, 200);
	});
	return h("form.search", { role: "search", onsubmit: (e) => {
		e.preventDefault();
		run();
	} }, h("label", { for: "search" }, t("search_label")), input);
}

function addStudentForm() {
	const form = h("form.card.add-student", { "aria-labelledby": "add-h" },
	    h("h2", { id: "add-h" }, t("add_student_title")),
	    h("div.row", field(t("f_name"), "name", "text", { required: true }),
	    field(t("f_class"), "class")),
	    h("div.row", field(t("f_strengths"), "strengths"),
	    field(t("f_needs"), "needs")),
	    h("div.row", field(t("f_interests"), "interests"),
	    field(t("f_goals"), "goals")),
	    h("button", { type: "submit" }, t("add")));
	return onSave(form, (d) => api.addStudent(d), {
		after: () => regions && renderClasses(regions.classes) });
}

export const frontView = {
	async mount(main) {
		const results = h("div.results", { "aria-live": "polite" });
		regions = { followups: h("section.card.followups-card",
		    { "aria-labelledby": "followups-h" }),
		    classes: h("div.classes") };
		fill(main, h("h1.sr-only", t("front_title")),
		    regions.followups, searchBox(results), results,
		    regions.classes, addStudentForm(),
		    deletedList("student", () => this.refresh()));
		await this.refresh();
	},
	async refresh() {
		const r = regions;
		const f = h("div"), c = h("div");
		await Promise.all([renderFollowups(f), renderClasses(c)]);
		keepFocus(r.followups, () => fill(r.followups, ...f.childNodes));
		keepFocus(r.classes, () => fill(r.classes, ...c.childNodes));
	},
};
