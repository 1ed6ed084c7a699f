// Pieces several views share: how a record, a note and an entry look, and
// how a form reports saving and errors.

import { t, strings } from "../strings.js";
import { h, fill, formData, announce } from "../dom.js";
import * as fmt from "../fmt.js";

export const F = (r) => (r && r.fields) || {};
export const S = (r, name) => (r && r.sets && r.sets[name]) || [];

// A private note (#9): only its author's own devices read it. The API may
// say so on the record or in its fields.
export function isPrivate(r) {
	return r.scope === "private" || r.private === true ||
	    F(r).scope === "private";
}

export function title(r) {
	const f = F(r);
	return f.name || f.title || f.text || f.action || (r && r.id) || "";
}

export function studentLink(r) {
	return h("a", { href: `#/student/${r.id}` }, F(r).name || r.id);
}

// Newest first: by date, then by the moment written where the API gives it.
export function newestFirst(a, b) {
	const da = F(a).date || "", db = F(b).date || "";
	if (da !== db)
		return da < db ? 1 : -1;
	return (b.written_ms || 0) - (a.written_ms || 0);
}

// A field's name as the page says it: "Needs", "Checkpoint 2: date".
export function fieldLabel(name) {
	const cp = /^cp(\d+)_(date|text|done)$/.exec(name || "");
	if (cp)
		return t(`cp_field_${cp[2]}`, { n: cp[1] });
	return Object.prototype.hasOwnProperty.call(strings, "f_" + name) ?
	    t("f_" + name) : name;
}

export function kindLabel(kind) {
	return Object.prototype.hasOwnProperty.call(strings, "kind_" + kind) ?
	    t("kind_" + kind) : kind;
}

const slices = { pre: "slice_pre", formative: "slice_formative",
    post: "slice_post" };

export function sliceLabel(s) {
	return slices[s] ? t(slices[s]) : "";
}

// One conference note or portfolio entry, as the student page and the
// printed portfolio show it.
export function timelineItem(r, opts = {}) {
	const f = F(r);
	const head = h("p.meta",
	    h("span.kind", t(r.kind === "note" ? "note_label" : "entry_label")),
	    " · ", h("time", { datetime: f.date }, fmt.day(f.date)),
	    r.author || f.author ? [" · ", t("by_author",
	    { author: r.author || f.author })] : null,
	    isPrivate(r) ? [" · ", h("span.badge", t("private_badge"))]
	    : null);
	let body;
	if (r.kind === "note") {
		body = h("dl.three",
		    h("dt", t("f_strengths")), h("dd", f.strengths || ""),
		    h("dt", t("f_obstacle")), h("dd", f.obstacle || ""),
		    h("dt", t("f_action")), h("dd", f.action || ""),
		    f.student_words ? [h("dt", t("f_student_words")),
		    h("dd.words", t("student_words_quote",
		    { words: f.student_words }))] : null,
		    f.follow_up ? [h("dt", t("f_follow_up")),
		    h("dd", fmt.day(f.follow_up))] : null);
	} else {
		const tags = S(r, "tags");
		body = h("div",
		    h("h4", f.title || ""),
		    f.body ? h("p.body", f.body) : null,
		    f.slice || f.score || tags.length ? h("p.tags",
		    f.slice ? h("span.badge", sliceLabel(f.slice)) : null,
		    f.score ? h("span.badge", `${t("f_score")}: ` +
		    fmt.num(f.score)) : null,
		    tags.map((x) => h("span.tag", x))) : null);
	}
	return h("article.item." + r.kind, { dataset: { id: r.id } }, head,
	    body, opts.history === false ? null : h("p.actions",
	    h("a", { href: `#/history/${r.id}` }, t("student_history"))));
}

// Wires a form: on submit (or Ctrl+Enter, app.js) it calls save(data);
// shows "Saving…", then "Saved." or the daemon's message; resets on
// success unless keep is set.
export function onSave(form, save, { keep = false, after } = {}) {
	const msg = h("p.form-msg", { role: "status" });
	form.append(msg);
	form.addEventListener("submit", async (e) => {
		e.preventDefault();
		if (form.dataset.busy)
			return;
		form.dataset.busy = "1";
		fill(msg, t("saving"));
		msg.className = "form-msg";
		try {
			const res = await save(formData(form));
			fill(msg, t("saved"));
			announce(t("saved"));
			if (!keep)
				form.reset();
			else
				markSaved(form);
			form.dataset.saved = "1";
			try {
				if (after)
					await after(res);
			} finally {
				delete form.dataset.saved;
			}
		} catch (err) {
			msg.className = "form-msg error";
			// A conflict panel says it better than the line would.
			fill(msg, err.shown ? "" : t("error_prefix",
			    { message: err.message }));
		} finally {
			delete form.dataset.busy;
		}
	});
	return form;
}

// Whether the teacher has typed something in region that is not saved
// (a form whose save has just succeeded does not count; one being saved
// does, until the daemon has said yes).
function dirty(region) {
	for (const el of region.querySelectorAll("input, textarea, select")) {
		if (el.type === "checkbox" || el.type === "radio" ||
		    (el.form && el.form.dataset.saved))
			continue;
		if (el.tagName === "SELECT" ? unsavedChoice(el) :
		    el.value !== el.defaultValue)
			return true;
	}
	return false;
}

// A kept form's values become the ones it is drawn with, so that a later
// sync may redraw it again.
function markSaved(form) {
	for (const el of form.querySelectorAll("input, textarea"))
		if (el.type !== "checkbox" && el.type !== "radio")
			el.defaultValue = el.value;
	for (const o of form.querySelectorAll("option"))
		o.defaultSelected = o.selected;
}

// A select whose choice is not the one it was drawn with (the first
// option when none was marked).
function unsavedChoice(sel) {
	const d = [...sel.options].findIndex((o) => o.defaultSelected);
	return sel.selectedIndex !== (d < 0 ? 0 : d);
}

// Rebuilds a region that shows data, keeping the focus on the same control
// (by its data-key). A region where the teacher is typing, or holds words
// she has not saved, is left alone: a sync must never eat her words. force
// (after her own save) rebuilds even when the focus is in it.
export function keepFocus(region, rebuild, force) {
	const a = document.activeElement;
	const inside = a && region.contains(a);
	if (dirty(region) || (inside && !force &&
	    a.matches("input, textarea, select") && a.type !== "checkbox"))
		return;
	const key = inside ? a.dataset.key : null;
	rebuild();
	if (key) {
		const el = region.querySelector(`[data-key="${CSS.escape(key)}"]`);
		if (el)
			el.focus();
	}
}
