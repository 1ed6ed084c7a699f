// A student's page: profile, groups, goals with their checkpoints, a new
// conference note (saved with Ctrl+Enter), a new portfolio entry, and the
// notes and entries newest first, a page at a time.

import { t } from "../strings.js";
import { h, fill, field } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";
import { F, onSave, keepFocus, timelineItem, newestFirst }
    from "./common.js";
import { goalCard, goalForm } from "./goals.js";
import { showClash, withActions, studentControls, defaultScope, scopeSwitch,
    withScope } from "./edit.js";

const PAGE = 20;
const PROFILE = ["strengths", "needs", "interests", "goals"];

let cur = null;	// { id, shown, regions, data, deleted, scope }

const refresh = () => studentView.refresh(true);

function profile(st) {
	const f = F(st);
	const dl = h("dl.profile", PROFILE.map((k) => [h("dt", t("f_" + k)),
	    h("dd", f[k] || t("profile_empty"))]));
	const edit = h("button.link", { type: "button", "data-key": "edit" },
	    t("student_edit_profile"));
	const wrap = h("div", dl, edit);
	edit.addEventListener("click", () => {
		const form = h("form.card.profile-form",
		    h("div.row", field(t("f_name"), "name", "text",
		    { value: f.name, required: true }),
		    field(t("f_class"), "class", "text", { value: f.class })),
		    PROFILE.map((k) => field(t("f_" + k), k, "textarea",
		    { value: f[k] })),
		    h("div.buttons", h("button", { type: "submit" }, t("save")),
		    h("button.secondary", { type: "button", onclick: () =>
		    fill(wrap, ...profile(st).childNodes) }, t("cancel"))));
		const clash = h("div.clash", { role: "alert" });
		form.insertBefore(clash, form.querySelector(".buttons"));
		let base = st;	// what the teacher is editing, with versions
		onSave(form, async (d) => {
			const bf = F(base), changed = {}, versions = {};
			for (const k of ["name", "class", ...PROFILE]) {
				const v = d[k] || "";
				if (v !== (bf[k] || "")) {
					changed[k] = v;
					// "": the field was empty when shown.
					versions[k] = (base.versions || {})[k] ?? "";
				}
			}
			fill(clash);
			if (Object.keys(changed).length === 0)
				return;
			try {
				await api.patch(base.id, changed, versions);
			} catch (e) {
				if (e.status === 409 && e.body && e.body.record) {
					base = e.body.record;
					showClash(clash, form, e.body);
					e.shown = true;
				}
				throw e;
			}
		}, { keep: true, after: () => studentView.refresh(true) });
		fill(wrap, form);
		form.querySelector("input").focus();
	});
	return wrap;
}

function header(st) {
	const f = F(st);
	return h("div.title-row",
	    h("h1", f.name, f.class ? h("span.class-tag", f.class) : null),
	    h("p.actions",
	    h("a.button", { href: `#/print/${st.id}` }, t("student_print")),
	    h("a", { href: `#/history/${st.id}` }, t("student_history")),
	    st.deleted ? null : studentControls(st, refresh)),
	    st.deleted ? studentControls(st, refresh) : null);
}

function about(st, groups) {
	return [h("h2", { id: "prof-h" }, t("student_profile")), profile(st),
	    h("h3", { id: "grp-h" }, t("student_groups")),
	    groups.length === 0 ? h("p.muted", t("student_no_groups")) :
	    h("ul.chips", groups.map((g) => h("li", h("a.chip",
	    { href: "#/groups" }, F(g).name))))];
}

function noteForm(studentId) {
	const form = h("form.card.note-form", { "aria-labelledby": "note-h" },
	    h("h2", { id: "note-h" }, t("note_new"),
	    h("span.hint", t("note_hint"))),
	    field(t("f_strengths"), "strengths", "textarea",
	    { required: true }),
	    field(t("f_obstacle"), "obstacle", "textarea", { required: true }),
	    field(t("f_action"), "action", "textarea", { required: true }),
	    field(t("f_student_words"), "student_words", "textarea"),
	    h("div.row", field(t("f_date"), "date", "date",
	    { value: fmt.today() }), field(t("f_follow_up"), "follow_up",
	    "date")), scopeSwitch(cur.scope),
	    h("button", { type: "submit" }, t("note_save")));
	return onSave(form, (d) => api.addNote({ student: studentId,
	    ...withScope(d) }), {
		after: () => {
			form.elements.date.value = fmt.today();
			form.elements.strengths.focus();
			return studentView.refresh(true);
		} });
}

async function unitOptions() {
	try {
		return list(await api.units(), "units");
	} catch (e) {
		return [];
	}
}

function entryForm(studentId, units) {
	const form = h("form.entry-form",
	    field(t("f_title"), "title", "text", { required: true }),
	    field(t("f_body"), "body", "textarea", { rows: 3 }),
	    h("div.row", field(t("f_date"), "date", "date",
	    { value: fmt.today() }), field(t("f_tags"), "tags")),
	    units.length ? h("div.row",
	    field(t("f_unit"), "unit", "select", { options: [["", "—"],
	    ...units.map((u) => [u.id, F(u).name])] }),
	    field(t("f_slice"), "slice", "select", { options: [
	    ["", t("slice_none")], ["pre", t("slice_pre")],
	    ["formative", t("slice_formative")], ["post", t("slice_post")]] }),
	    field(t("f_score"), "score", "number", { min: 0, step: "any" }))
	    : null, scopeSwitch(cur.scope),
	    h("button", { type: "submit" }, t("save")));
	onSave(form, (d) => {
		const e = { student: studentId, ...withScope(d) };
		if (d.tags)
			e.tags = d.tags.split(",").map((x) => x.trim())
			    .filter(Boolean);
		if (d.score !== undefined)
			e.score = d.score;
		return api.addEntry(e);
	}, { after: () => {
		form.elements.date.value = fmt.today();
		return studentView.refresh(true);
	} });
	// Folded: the conference note is what the page is for.
	return h("details.card.entry-card", h("summary", h("h2", t("entry_new"))),
	    form);
}

function timeline(items, more) {
	const sorted = items.slice().sort(newestFirst);
	const moreBtn = more ? h("button.secondary", { type: "button",
	    "data-key": "more", onclick: () => {
		cur.shown += PAGE;
		studentView.refresh(true);
	} }, t("more")) : null;
	const showDeleted = h("input", { type: "checkbox", id: "show-deleted",
	    "data-key": "show-deleted", checked: cur.deleted });
	showDeleted.addEventListener("change", () => {
		cur.deleted = showDeleted.checked;
		refresh();
	});
	return [h("div.title-row", h("h2", { id: "tl-h" },
	    t("student_timeline")), h("div.field.check", showDeleted,
	    h("label", { for: "show-deleted" }, t("show_deleted")))),
	    sorted.length === 0 ? h("p.muted", t("none")) :
	    h("div.timeline", sorted.map((r) => withActions(timelineItem(r),
	    r, refresh))), moreBtn];
}

function goals(gs, studentId) {
	return [h("h2", { id: "goals-h" }, t("student_goals")),
	    gs.length === 0 ? h("p.muted", t("none")) :
	    gs.map((g) => withActions(goalCard(g, refresh), g, refresh)),
	    goalForm(studentId, () => studentView.refresh(true))];
}

// The page's data; with "show deleted", the deleted ones too.
function load() {
	return cur.deleted ? api.studentAll(cur.id, cur.shown, 0) :
	    api.student(cur.id, cur.shown, 0);
}

export const studentView = {
	async mount(main, id) {
		cur = { id, shown: PAGE, deleted: false, scope: await
		    defaultScope(), regions: {
			head: h("div.student-head"),
			about: h("section.card.about", { "aria-labelledby":
			    "prof-h" }),
			goals: h("section.card.goals", { "aria-labelledby":
			    "goals-h" }),
			timeline: h("section.timeline-wrap",
			    { "aria-labelledby": "tl-h" }) } };
		const data = await load();
		const units = await unitOptions();
		const r = cur.regions;
		fill(main, r.head, h("div.cols.student-body",
		    h("div.col", noteForm(data.student.id),
		    entryForm(data.student.id, units)),
		    h("div.col", r.about, r.goals)), r.timeline);
		this.draw(data, true);
	},
	draw(data, force) {
		const r = cur.regions;
		const items = (data.items || data.notes_and_entries || [])
		    .concat(cur.deleted ? data.deleted_items || [] : [])
		    .filter((x) => cur.deleted || !x.deleted);
		const more = data.total !== undefined ?
		    (data.offset || 0) + items.length < data.total :
		    items.length >= cur.shown;
		keepFocus(r.head, () => fill(r.head, header(data.student)),
		    force);
		keepFocus(r.about, () => fill(r.about, ...about(data.student,
		    list(data.groups, "groups").filter((g) => !g.deleted))),
		    force);
		keepFocus(r.goals, () => fill(r.goals, ...goals(list(data.goals,
		    "goals").filter((g) => cur.deleted || !g.deleted), data.student.id)),
		    force);
		keepFocus(r.timeline, () => fill(r.timeline,
		    ...timeline(items, more)), force);
		document.title = `${F(data.student).name} · ${t("app_name")}`;
	},
	async refresh(force) {
		if (!cur)
			return;
		const data = await load();
		this.draw(data, force === true);
	},
};
