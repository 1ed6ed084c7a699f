// Editing in place: a note's, an entry's, a goal's, a unit's and a group's
// fields (a PATCH naming the versions the page showed, so that a field a
// sync changed meanwhile is never overwritten: the daemon answers 409 and
// both values are shown), delete with an Undo, bring back what is
// deleted, and the private/team switch with this device's default.
// Every check is the daemon's, the command line's own: the page only says
// what it answered.

import { t } from "../strings.js";
import { h, fill, field, announce } from "../dom.js";
import { api } from "../api.js";
import * as fmt from "../fmt.js";
import { F, S, onSave, fieldLabel, kindLabel, title, isPrivate }
    from "./common.js";

// The fields a teacher edits, by kind: [name, input kind].
const EDITS = {
	note: [["strengths", "textarea"], ["obstacle", "textarea"],
	    ["action", "textarea"], ["student_words", "textarea"],
	    ["date", "date"], ["follow_up", "date"]],
	entry: [["title", "text"], ["body", "textarea"], ["date", "date"],
	    ["slice", "select"], ["score", "number"]],
	goal: [["text", "text"]],
	unit: [["name", "text"], ["from", "date"], ["until", "date"]],
	group: [["name", "text"], ["from", "date"], ["until", "date"]],
};

const LABELS = { goal: { text: "f_goal_text" }, unit: { name: "f_unit_name" },
    group: { name: "f_group_name" } };

function label(kind, name) {
	const k = LABELS[kind] && LABELS[kind][name];
	return k ? t(k) : fieldLabel(name);
}

const SLICES = () => [["", t("slice_none")], ["pre", t("slice_pre")],
    ["formative", t("slice_formative")], ["post", t("slice_post")]];

function input(kind, name, type, value) {
	const opts = { value: value ?? "" };
	if (type === "select")
		opts.options = SLICES();
	if (type === "number") {
		opts.min = 0;
		opts.step = "any";
	}
	if (["strengths", "obstacle", "action", "title", "name", "text"]
	    .includes(name))
		opts.required = true;
	return field(label(kind, name), name, type, opts);
}

export const splitTags = (s) => [...new Set((s || "").split(",")
    .map((x) => x.trim()).filter(Boolean))];

// What the teacher means by a record: "Conference note “Draw it first”".
export function describe(r) {
	const name = title(r);
	return name && name !== r.id ? `${kindLabel(r.kind)} “${name}”` :
	    kindLabel(r.kind);
}

// A field changed on another device while the teacher edited it (409):
// both values side by side, nothing overwritten until she chooses.
export function showClash(clash, form, c) {
	const el = form.elements[c.field];
	const choose = (value) => {
		if (el && value !== null)
			el.value = value;
		fill(clash);
		form.requestSubmit();
	};
	fill(clash, h("p", t("clash_text", { field: fieldLabel(c.field) })),
	    h("dl.kv", h("dt", t("clash_theirs")), h("dd", c.theirs ?? ""),
	    h("dt", t("clash_yours")), h("dd", c.yours ?? "")),
	    h("div.buttons",
	    h("button", { type: "button", onclick: () => choose(null) },
	    t("clash_keep_mine")),
	    h("button.secondary", { type: "button", onclick: () =>
	    choose(c.theirs ?? "") }, t("clash_keep_theirs"))));
}

// What the form holds that differs from base: {set, versions, add,
// remove}, or null when nothing does.
function changes(kind, base, d, tags) {
	const bf = F(base), set = {}, versions = {};
	for (const [name] of EDITS[kind]) {
		const v = d[name] ?? "";
		if (v !== (bf[name] ?? "")) {
			set[name] = v;
			// "": the field was empty when shown.
			versions[name] = (base.versions || {})[name] ?? "";
		}
	}
	let add = [], remove = [];
	if (tags) {
		const want = splitTags(d.tags), had = S(base, "tags");
		add = want.filter((x) => !had.includes(x));
		remove = had.filter((x) => !want.includes(x));
	}
	if (!Object.keys(set).length && !add.length && !remove.length)
		return null;
	return { set, versions, add: add.length ? add : undefined,
	    remove: remove.length ? remove : undefined };
}

// The form that edits rec in place; done() runs after a save or Cancel
// (Escape too), and redraws what the form stood in for.
export function editForm(rec, done) {
	const f = F(rec), kind = rec.kind;
	const tags = kind === "entry" ? field(t("f_tags"), "tags", "text",
	    { value: S(rec, "tags").join(", ") }) : null;
	const clash = h("div.clash", { role: "alert" });
	const what = kindLabel(kind);
	// Both buttons carry the Edit button's key: once the record is
	// redrawn, the focus goes back to its Edit button (keepFocus).
	const key = `edit-${rec.id}`;
	const save = h("button", { type: "submit", "data-key": key },
	    t("save"));
	const back = h("button.secondary", { type: "button", "data-key": key,
	    onclick: () => cancel() }, t("cancel"));
	// Cancel drops what was typed first: a region holding unsaved words
	// is never redrawn (common.js keepFocus).
	const cancel = () => {
		form.reset();
		back.focus();
		done();
	};
	const form = h("form.card.edit-form", { "aria-label":
	    t("edit_what", { what }), dataset: { id: rec.id } },
	    EDITS[kind].map(([name, type]) => input(kind, name, type,
	    f[name])), tags, clash, h("div.buttons", save, back));
	form.addEventListener("keydown", (e) => {
		if (e.key === "Escape") {
			e.preventDefault();
			cancel();
		}
	});
	let base = rec;	// what the teacher is editing, with versions
	onSave(form, async (d) => {
		const c = changes(kind, base, d, tags);
		fill(clash);
		if (!c)
			return;
		try {
			await api.edit(rec.id, c.set, c.versions, c.add,
			    c.remove);
		} catch (e) {
			if (e.status === 409 && e.body && e.body.record) {
				base = e.body.record;
				showClash(clash, form, e.body);
				e.shown = true;
			}
			throw e;
		}
	}, { keep: true, after: () => {
		save.focus();
		return done();
	} });
	return form;
}

// Puts the edit form where el is, and the focus in its first field.
export function editInPlace(el, rec, done) {
	const form = editForm(rec, done);
	el.replaceChildren(form);
	form.querySelector("input, textarea, select").focus();
}

// --- delete, undo, bring back ---------------------------------------------

let undoBar = null;

function hideUndo() {
	if (undoBar)
		undoBar.hidden = true;
}

// "Note deleted. [Undo]" at the foot of the window until the teacher
// goes elsewhere; the focus moves to Undo, where a keyboard user is.
function offerUndo(text, undo) {
	if (!undoBar) {
		undoBar = h("div.undo-bar", { role: "status", hidden: true });
		document.body.append(undoBar);
		window.addEventListener("hashchange", hideUndo);
	}
	const btn = h("button", { type: "button" }, t("undo"));
	btn.addEventListener("click", async () => {
		btn.disabled = true;
		try {
			await undo();
			hideUndo();
		} catch (e) {
			btn.disabled = false;
			fill(undoBar, t("error_prefix", { message: e.message }));
		}
	});
	fill(undoBar, h("span", text), btn,
	    h("button.link", { type: "button", "aria-label": t("close"),
	    onclick: hideUndo }, t("close_mark")));
	undoBar.hidden = false;
	btn.focus();
}

async function bringBack(rec, after) {
	await api.undelete(rec.id);
	announce(t("undeleted_one", { what: describe(rec) }));
	await after();
}

// Deletes rec (the daemon checks it as `satchel delete` does), redraws,
// and offers Undo.
export async function deleteRecord(rec, after) {
	const what = describe(rec);
	try {
		await api.remove(rec.id);
	} catch (e) {
		announce(e.message);
		offerUndo(t("error_prefix", { message: e.message }),
		    async () => {});
		return;
	}
	await after();
	offerUndo(t("deleted_one", { what }), () => bringBack(rec, after));
}

export function deleteButton(rec, after, text = t("delete")) {
	return h("button.link.danger", { type: "button", "data-key":
	    `del-${rec.id}`, "aria-label": t("delete_what",
	    { what: describe(rec) }), onclick: () => deleteRecord(rec, after) },
	    text);
}

export function undeleteButton(rec, after) {
	return h("button.link", { type: "button", "data-key": `undel-${rec.id}`,
	    "aria-label": t("undelete_what", { what: describe(rec) }),
	    onclick: () => bringBack(rec, after).catch((e) =>
	    announce(e.message)) }, t("undelete"));
}

// "Deleted, to bring back", folded: the deleted records of kind, read
// when opened; Bring back redraws what the page lists (after).
export function deletedList(kind, after) {
	const body = h("div");
	const load = async () => {
		let gone = [];
		try {
			gone = (await api.deleted(kind)).deleted || [];
		} catch (e) {
			fill(body, h("p.error", e.message));
			return;
		}
		const again = async () => {
			await after();
			await load();
		};
		fill(body, gone.length === 0 ? h("p.muted", t("none")) :
		    h("ul.dated", gone.map((r) => h("li", { dataset:
		    { id: r.id } }, h("span", title(r)), " ",
		    undeleteButton(r, again)))));
	};
	const d = h("details.deleted-list", { dataset: { kind } },
	    h("summary", t("deleted_list")), body);
	d.addEventListener("toggle", () => {
		if (d.open)
			load();
	});
	return d;
}

// Edit and Delete on something the page lists (a timeline item, a goal):
// added to its actions line. A deleted one shows "deleted" and Bring back.
export function withActions(el, rec, after, { edit = true } = {}) {
	let line = [...el.children].find((c) => c.matches("p.actions"));
	if (!line) {
		line = h("p.actions");
		el.append(line);
	}
	if (rec.deleted) {
		el.classList.add("deleted");
		line.append(h("span.badge", t("deleted_badge")), " ",
		    undeleteButton(rec, after));
		return el;
	}
	if (edit && EDITS[rec.kind])
		line.append(" ", h("button.link", { type: "button",
		    "data-key": `edit-${rec.id}`, "aria-label": t("edit_what",
		    { what: describe(rec) }), onclick: () => editInPlace(el,
		    rec, after) }, t("edit")));
	line.append(" ", deleteButton(rec, after));
	return el;
}

// The student's own delete, and what her page says once she is deleted.
export function studentControls(st, after) {
	if (!st.deleted)
		return deleteButton(st, after, t("student_delete"));
	return h("p.deleted-banner", { role: "status" },
	    t("student_is_deleted"), " ", undeleteButton(st, after));
}

// --- private or team --------------------------------------------------------

// The mark a private note or entry carries wherever the page lists it.
export function privateMark(r) {
	return isPrivate(r) ? [" ", h("span.badge.private", t("private_badge"))]
	    : null;
}

// The scope this device gives new notes and entries ("team" if unknown).
export async function defaultScope() {
	try {
		return (await api.scope()).scope || "team";
	} catch (e) {
		return "team";
	}
}

// The switch on a new note or entry: ticked if the default is private.
export function scopeSwitch(scope) {
	return field(t("f_scope_private"), "private", "checkbox",
	    { checked: scope === "private" });
}

// The form's data as the API takes it: "private" becomes the scope.
export function withScope(d) {
	const { private: priv, ...rest } = d;
	return { ...rest, scope: priv ? "private" : "team" };
}

// The teacher's default (satchel scope), on the sync and team page.
export function scopeCard() {
	const card = h("section.card.scope-card", { "aria-labelledby":
	    "scope-h" }, h("h2", { id: "scope-h" }, t("scope_title")));
	// A box has no default scope (and is not asked): no card then.
	api.scope().then(({ scope }) => {
		const form = h("form.inline.scope-form",
		    field(t("scope_default"), "scope", "select", { value: scope,
		    options: [["team", t("scope_team")],
		    ["private", t("scope_private")]] }),
		    h("button", { type: "submit" }, t("save")));
		onSave(form, (d) => api.setScope(d.scope), { keep: true,
		    after: (res) => announce(t("scope_saved", { scope:
		    t("scope_word_" + res.scope) })) });
		card.append(form);
	}, () => card.remove());
	return card;
}

// --- group and unit dates ----------------------------------------------------

function dates(r) {
	const f = F(r);
	if (!f.from && !f.until)
		return t("dates_open");
	return t("unit_dates", { from: f.from ? fmt.day(f.from) :
	    t("date_unset"), until: f.until ? fmt.day(f.until) :
	    t("date_unset") });
}

// Every group with its dates, the ended ones too, each with Edit and
// Delete: the board shows only the groups still running.
export function groupDates(groups, after) {
	const today = fmt.today();
	return h("section.card.group-dates", { "aria-labelledby": "gd-h" },
	    h("h2", { id: "gd-h" }, t("group_dates_title")),
	    h("p.help", t("group_dates_help")),
	    groups.length === 0 ? h("p.muted", t("none")) :
	    h("ul.dated", groups.map((g) => withActions(h("li",
	    { dataset: { id: g.id } }, h("strong", F(g).name || ""),
	    h("span.kind", t(F(g).type === "same-need" ? "group_kind_same" :
	    "group_kind_mixed")), " ", h("span.muted", dates(g)), F(g).until && F(g).until < today ?
	    [" ", h("span.badge", t("group_ended"))] : null), g, after))));
}

// A unit in the units list: its name, dates, Edit and Delete.
export function unitItem(u, after) {
	return withActions(h("li", { dataset: { id: u.id } },
	    h("a", { href: `#/unit/${u.id}` }, F(u).name), " ",
	    h("span.muted", dates(u))), u, after);
}
