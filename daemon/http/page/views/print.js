// The printable portfolio for a parent conference: the profile, goals,
// the entries the teacher ticks, and the conference notes if she wants
// them (private notes only if she chooses them too). The controls are not
// printed; print-a4.css or print-letter.css sets the paper.

import { t } from "../strings.js";
import { h, fill, field } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";
import { F, timelineItem, newestFirst, isPrivate } from "./common.js";
import { checkpoints } from "./goals.js";

const ALL = 1000;
let cur = null;

function setPaper(paper) {
	document.getElementById("paper").setAttribute("href",
	    paper === "letter" ? "print-letter.css" : "print-a4.css");
}

function sheet() {
	const d = cur.data, st = d.student, f = F(st);
	const items = cur.items.filter((r) => cur.chosen.has(r.id) &&
	    (r.kind === "entry" || (cur.notes && (!isPrivate(r) ||
	    cur.privates))));
	const entries = items.filter((r) => r.kind === "entry");
	const notes = items.filter((r) => r.kind === "note");
	const goals = list(d.goals, "goals").filter((g) => !g.deleted);
	return h("article.sheet",
	    h("header", h("h1", t("print_title", { name: f.name })),
	    h("p.muted", [f.class, t("print_prepared",
	    { date: fmt.longDay(fmt.today()) })].filter(Boolean).join(" · "))),
	    h("section", h("h2", t("student_profile")), h("dl.profile",
	    ["strengths", "needs", "interests", "goals"].map((k) => [
	    h("dt", t("f_" + k)), h("dd", f[k] || t("profile_empty"))]))),
	    goals.length ? h("section", h("h2", t("student_goals")),
	    goals.map((g) => h("div.goal", h("h3", F(g).text),
	    h("ul.checkpoints", checkpoints(g).map((c) => h("li",
	    { class: c.done ? "done" : "" }, c.done ? "☑ " : "☐ ",
	    fmt.day(c.date), " — ", c.text || "")))))) : null,
	    entries.length ? h("section", h("h2", t("print_entries")),
	    entries.map((r) => timelineItem(r, { history: false }))) : null,
	    notes.length ? h("section", h("h2", t("print_notes")),
	    notes.map((r) => timelineItem(r, { history: false }))) : null);
}

function redraw() {
	fill(cur.sheet, sheet());
}

function check(label, name, checked, onchange) {
	const f = field(label, name, "checkbox", { checked });
	f.querySelector("input").addEventListener("change", (e) =>
	    onchange(e.target.checked));
	return f;
}

function controls() {
	const paper = field(t("print_paper"), "paper", "select", {
	    value: cur.paper, options: [["a4", t("print_a4")],
	    ["letter", t("print_letter")]] });
	paper.querySelector("select").addEventListener("change", (e) => {
		cur.paper = e.target.value;
		setPaper(cur.paper);
	});
	const pick = h("ul.pick", cur.items.map((r) => {
		const f = F(r);
		const label = `${fmt.day(f.date)} · ${r.kind === "note" ?
		    t("note_label") + (isPrivate(r) ?
		    ` (${t("private_badge")})` : "") : f.title || t("entry_label")}`;
		return h("li", check(label, "pick-" + r.id, cur.chosen.has(r.id),
		    (on) => {
			on ? cur.chosen.add(r.id) : cur.chosen.delete(r.id);
			redraw();
		}));
	}));
	return h("form.card.print-controls", { onsubmit: (e) => {
		e.preventDefault();
		window.print();
	} },
	    h("p", h("a", { href: `#/student/${cur.id}` },
	    F(cur.data.student).name)),
	    h("p.help", t("print_choose")),
	    h("div.row", paper,
	    check(t("print_include_notes"), "notes", cur.notes, (on) => {
		cur.notes = on;
		redraw();
	    }),
	    check(t("print_include_private"), "privates", cur.privates,
	    (on) => {
		cur.privates = on;
		redraw();
	    })),
	    h("details", h("summary", t("print_entries") + " / " +
	    t("print_notes")), pick),
	    h("button", { type: "submit", id: "print" }, t("print_button")));
}

export const printView = {
	async mount(main, id) {
		const data = await api.student(id, ALL, 0);
		const items = (data.items || data.notes_and_entries || [])
		    .filter((r) => !r.deleted).sort(newestFirst);
		cur = { id, data, items, notes: true, privates: false,
		    paper: cur ? cur.paper : "a4", sheet: h("div.sheet-wrap"),
		    chosen: new Set(items.map((r) => r.id)) };
		setPaper(cur.paper);
		fill(main, controls(), cur.sheet);
		redraw();
		document.title = t("print_title", { name: F(data.student).name });
	},
};
