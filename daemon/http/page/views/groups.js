// The groups board: lettered groups (same need) and numbered groups
// (mixed), one column each, and the students in no group. A name moves by
// drag and drop, or from the keyboard: Space picks it up, the arrow keys
// carry it from column to column, Space drops it, Escape puts it back.

import { t } from "../strings.js";
import { h, fill, field, announce } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";
import { F, S, onSave, keepFocus } from "./common.js";
import { groupDates, deletedList } from "./edit.js";

const NONE = "";	// the "not in a group" column's id
let board = null;	// { region, groups, students, cls }
let grab = null;	// { chip, from, col, name } while a name is carried

const coll = new Intl.Collator(undefined, { numeric: true });

function sortGroups(gs) {
	const rank = (g) => F(g).type === "same-need" ? 0 : 1;
	return gs.sort((a, b) => rank(a) - rank(b) ||
	    coll.compare(F(a).name || "", F(b).name || ""));
}

// The next free letter for a same-need group, number for a mixed one.
function nextName(kind) {
	// Ended groups too: a name stays taken in the rotation's history.
	const names = new Set((board.all || board.groups).map((g) =>
	    F(g).name));
	for (let i = 0; i < 52; i++) {
		const n = kind === "same-need" ?
		    `Group ${String.fromCharCode(65 + (i % 26))}${i >= 26 ?
		    i - 25 : ""}` : `Group ${i + 1}`;
		if (!names.has(n))
			return n;
	}
	return "";
}

async function move(student, from, to, name) {
	if (from === to)
		return;
	await api.moveStudent(student, from, to);
	const g = board.groups.find((x) => x.id === to);
	announce(t("grab_dropped", { name, group: g ? F(g).name :
	    t("groups_unplaced") }));
}

function chip(s, groupId) {
	const name = F(s).name || s.id;
	const el = h("button.chip.student-chip", { type: "button",
	    draggable: "true", "aria-describedby": "board-help",
	    "data-key": `chip-${groupId}-${s.id}`,
	    dataset: { student: s.id, group: groupId } }, name);
	el.addEventListener("dragstart", (e) => {
		e.dataTransfer.setData("text/plain", JSON.stringify(
		    { student: s.id, from: groupId, name }));
		e.dataTransfer.effectAllowed = "move";
		el.classList.add("dragging");
	});
	el.addEventListener("dragend", () => el.classList.remove("dragging"));
	el.addEventListener("keydown", (e) => chipKey(e, el, s, groupId, name));
	// A tap (a tablet has neither drag and drop everywhere nor keys):
	// the groups to move to, as buttons under the name.
	// (A click the keyboard made has detail 0: Space and Enter carry.)
	el.addEventListener("click", (e) => {
		if (e.detail !== 0)
			moveMenu(el, s.id, groupId, name);
	});
	el.addEventListener("blur", () => {
		if (grab && grab.chip === el && !grab.moving)
			cancelGrab();
	});
	return el;
}

function moveMenu(el, student, from, name) {
	const li = el.parentElement, open = li.querySelector(".move-menu");
	for (const m of board.region.querySelectorAll(".move-menu"))
		m.remove();
	if (open)
		return;
	const targets = columns().filter((c) => c.dataset.group !== from);
	li.append(h("div.move-menu", { role: "group",
	    "aria-label": t("move_to", { name }) },
	    h("span.muted", t("move_to", { name })),
	    targets.map((c) => h("button.secondary", { type: "button",
	    onclick: () => drop(student, from, c.dataset.group, name,
	    `chip-${c.dataset.group}-${student}`) }, c.dataset.name))));
}

function columns() {
	return [...board.region.querySelectorAll(".column")];
}

function carry(dir) {
	const cols = columns();
	let i = cols.indexOf(grab.col) + dir;
	i = (i + cols.length) % cols.length;
	grab.col = cols[i];
	grab.moving = true;
	grab.col.querySelector("ul").append(grab.chip);
	grab.chip.focus();
	grab.moving = false;
	for (const c of cols)
		c.classList.toggle("over", c === grab.col);
	announce(t("grab_over", { name: grab.name,
	    group: grab.col.dataset.name }));
}

function cancelGrab() {
	const g = grab;
	grab = null;
	g.chip.setAttribute("aria-pressed", "false");
	for (const c of columns())
		c.classList.remove("over");
	announce(t("grab_cancelled", { name: g.name, group: g.fromName }));
	groupsView.refresh(true);
}

async function chipKey(e, el, s, groupId, name) {
	if (!grab && (e.key === " " || e.key === "Enter")) {
		e.preventDefault();
		const col = el.closest(".column");
		grab = { chip: el, from: groupId, col, name,
		    fromName: col.dataset.name };
		el.setAttribute("aria-pressed", "true");
		col.classList.add("over");
		announce(t("grab_picked", { name, group: col.dataset.name }));
		return;
	}
	if (!grab || grab.chip !== el)
		return;
	if (["ArrowRight", "ArrowDown"].includes(e.key)) {
		e.preventDefault();
		carry(1);
	} else if (["ArrowLeft", "ArrowUp"].includes(e.key)) {
		e.preventDefault();
		carry(-1);
	} else if (e.key === "Escape") {
		e.preventDefault();
		cancelGrab();
	} else if (e.key === " " || e.key === "Enter") {
		e.preventDefault();
		const g = grab, to = g.col.dataset.group;
		grab = null;
		el.setAttribute("aria-pressed", "false");
		await drop(s.id, g.from, to, name, `chip-${to}-${s.id}`);
	}
}

async function drop(student, from, to, name, focusKey) {
	try {
		await move(student, from, to, name);
	} catch (e) {
		announce(e.message);
		fill(board.msg, t("error_prefix", { message: e.message }));
	}
	await groupsView.refresh(true);
	const el = focusKey && board.region.querySelector(
	    `[data-key="${CSS.escape(focusKey)}"]`);
	if (el)
		el.focus();
}

function column(id, name, kind, students) {
	const col = h("section.column", { class: kind, "aria-label": name,
	    dataset: { group: id, name } },
	    h("h2", name, kind ? h("span.kind", t(kind === "same-need" ?
	    "group_kind_same" : "group_kind_mixed")) : null),
	    h("ul", students.map((s) => h("li", chip(s, id)))),
	    students.length ? null : h("p.empty", t("group_empty")));
	col.addEventListener("dragover", (e) => {
		e.preventDefault();
		e.dataTransfer.dropEffect = "move";
		col.classList.add("over");
	});
	col.addEventListener("dragleave", (e) => {
		if (!col.contains(e.relatedTarget))
			col.classList.remove("over");
	});
	col.addEventListener("drop", async (e) => {
		e.preventDefault();
		col.classList.remove("over");
		let d;
		try {
			d = JSON.parse(e.dataTransfer.getData("text/plain"));
		} catch (err) {
			return;
		}
		await drop(d.student, d.from, id, d.name);
	});
	return col;
}

function draw(force) {
	const inClass = board.students.filter((s) => !board.cls ||
	    F(s).class === board.cls);
	const byId = new Map(inClass.map((s) => [s.id, s]));
	const placed = new Set();
	const cols = board.groups.map((g) => {
		const members = S(g, "members").filter((m) => byId.has(m))
		    .map((m) => byId.get(m));
		members.forEach((m) => placed.add(m.id));
		members.sort((a, b) => coll.compare(F(a).name, F(b).name));
		return column(g.id, F(g).name, F(g).type, members);
	});
	const rest = inClass.filter((s) => !placed.has(s.id))
	    .sort((a, b) => coll.compare(F(a).name, F(b).name));
	keepFocus(board.region, () => fill(board.region,
	    column(NONE, t("groups_unplaced"), "", rest), cols), force);
	keepFocus(board.dates, () => fill(board.dates, groupDates(board.all,
	    () => groupsView.refresh(true))), force);
}

function classPicker() {
	const classes = [...new Set(board.students.map((s) => F(s).class)
	    .filter(Boolean))].sort(coll.compare);
	const f = field(t("class_filter"), "class", "select", { value:
	    board.cls, options: [["", t("class_all")],
	    ...classes.map((c) => [c, c])] });
	f.querySelector("select").addEventListener("change", (e) => {
		board.cls = e.target.value;
		draw(true);
	});
	return f;
}

function addGroupForm() {
	const kind = field(t("f_group_type"), "type", "select", { options: [
	    ["same-need", t("group_same_need")], ["mixed", t("group_mixed")]] });
	const name = field(t("f_group_name"), "name", "text",
	    { required: true, value: nextName("same-need") });
	kind.querySelector("select").addEventListener("change", (e) => {
		name.querySelector("input").value = nextName(e.target.value);
	});
	const form = h("form.card.inline.add-group", { "aria-label":
	    t("group_add") }, kind, name,
	    h("button", { type: "submit" }, t("group_add")));
	return onSave(form, (d) => api.addGroup(d), { after: async () => {
		await groupsView.refresh(true);
		name.querySelector("input").value =
		    nextName(kind.querySelector("select").value);
	} });
}

async function load() {
	const [gs, ss] = await Promise.all([api.groups(), api.students()]);
	// A group whose dates have ended is history (the rotation view
	// counts it), not a place to move names to.
	const today = fmt.today();
	board.all = sortGroups(list(gs, "groups").filter((g) => !g.deleted));
	board.groups = sortGroups(list(gs, "groups").filter((g) => !g.deleted &&
	    !(F(g).until && F(g).until < today)));
	board.students = list(ss, "students").filter((s) => !s.deleted);
}

export const groupsView = {
	async mount(main) {
		board = { region: h("div.board"), groups: [], students: [],
		    dates: h("div"), all: [],
		    cls: board ? board.cls : "", msg: h("p.form-msg.error",
		    { role: "status" }) };
		grab = null;
		await load();
		fill(main, h("div.title-row", h("h1", t("groups_title")),
		    classPicker()),
		    h("p.help", { id: "board-help" }, t("groups_help")),
		    board.msg, board.region, addGroupForm(), board.dates,
		    deletedList("group", () => groupsView.refresh(true)));
		draw(true);
	},
	async refresh(force) {
		// Not under a name being carried, or a menu open on one.
		if (!board || (force !== true && (grab ||
		    board.region.querySelector(".move-menu"))))
			return;
		await load();
		draw(force === true);
	},
};
