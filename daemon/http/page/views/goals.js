// Goals with negotiable checkpoints: add a goal or a checkpoint, tick one,
// move its date (the old dates stay visible: a moved date keeps its
// history).

import { t, tn } from "../strings.js";
import { h, field } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";
import { F, onSave } from "./common.js";

// A goal's checkpoints, from the API's list where it gives one, else from
// the record's numbered fields (cpN_date, cpN_text, cpN_done, cpN_moved).
export function checkpoints(g) {
	if (Array.isArray(g.checkpoints))
		return g.checkpoints.map((c, i) => ({ n: c.n || i + 1,
		    date: c.date, text: c.text, done: c.done === true ||
		    c.done === "yes", moved: c.moved || c.history || [] }));
	const f = F(g), out = [];
	const n = parseInt(f.checkpoints || "0", 10) || 0;
	for (let i = 1; i <= n; i++) {
		const moved = f[`cp${i}_moved`];
		out.push({ n: i, date: f[`cp${i}_date`], text: f[`cp${i}_text`],
		    done: f[`cp${i}_done`] === "yes" ||
		    f[`cp${i}_done`] === true,
		    moved: Array.isArray(moved) ? moved :
		    (moved ? String(moved).split(",").filter(Boolean) : []) });
	}
	return out;
}

function moveForm(g, c, after, li) {
	const form = h("form.inline",
	    field(t("checkpoint_new_date", { text: c.text || "" }), "date",
	    "date", { value: c.date, required: true }),
	    h("button", { type: "submit" }, t("save")),
	    h("button.secondary", { type: "button", onclick: after },
	    t("cancel")));
	onSave(form, (d) => api.moveCheckpoint(g.id, c.n, d.date),
	    { keep: true, after });
	li.append(form);
	form.querySelector("input").focus();
}

function checkpointItem(g, c, after) {
	const key = `cp-${g.id}-${c.n}`;
	const box = h("input", { type: "checkbox", id: key, "data-key": key,
	    checked: c.done });
	box.addEventListener("change", async () => {
		box.disabled = true;
		try {
			await api.tickCheckpoint(g.id, c.n, box.checked);
		} catch (e) {
			box.checked = !box.checked;
		}
		box.disabled = false;
		after();
	});
	const li = h("li.checkpoint", { class: c.done ? "done" : "",
	    dataset: { n: c.n } },
	    box, h("label", { for: key },
	    h("time", { datetime: c.date }, fmt.day(c.date)), " ",
	    h("span", c.text || "")),
	    h("button.link", { type: "button", "data-key": key + "-m",
	    onclick: () => moveForm(g, c, after, li) }, t("checkpoint_move")),
	    c.moved.length ? h("span.moved", t("checkpoint_moved",
	    { dates: c.moved.map(fmt.day).join(", ") })) : null);
	return li;
}

// The dates a checkpoint had before its present one, from the goal's
// history (the API keeps every change): "moved from 1 Dec".
async function showMoves(g, cps, ul) {
	if (cps.every((c) => c.moved.length) || cps.length === 0)
		return;
	let rows;
	try {
		rows = list(await api.history(g.id), "history");
	} catch (e) {
		return;
	}
	for (const c of cps) {
		if (c.moved.length)
			continue;
		const dates = [];
		for (const r of rows)
			if (r.field === `cp${c.n}_date` && r.value &&
			    r.value !== c.date && !dates.includes(r.value))
				dates.push(r.value);
		const li = ul.querySelector(`[data-n="${c.n}"]`);
		if (dates.length && li && !li.querySelector(".moved"))
			li.append(h("span.moved", t("checkpoint_moved",
			    { dates: dates.map(fmt.day).join(", ") })));
	}
}

export function goalCard(g, after) {
	const cps = checkpoints(g);
	const done = cps.filter((c) => c.done).length;
	const ul = h("ul.checkpoints", cps.map((c) => checkpointItem(g, c,
	    after)));
	showMoves(g, cps, ul);
	const add = h("form.inline.add-cp",
	    field(t("f_checkpoint_date"), "date", "date", { required: true }),
	    field(t("f_checkpoint_text"), "text", "text", { required: true }),
	    h("button.secondary", { type: "submit" }, t("checkpoint_add")));
	onSave(add, (d) => api.addCheckpoint(g.id, d), { after });
	return h("div.goal", { dataset: { id: g.id } },
	    h("h3", F(g).text || ""),
	    cps.length ? h("p.muted", tn("goal_done_of", cps.length,
	    { done, all: cps.length })) : null,
	    ul,
	    h("details", h("summary", t("checkpoint_add")), add));
}

export function goalForm(studentId, after) {
	const form = h("form.inline.goal-form",
	    field(t("goal_new"), "text", "text", { required: true }),
	    field(t("f_checkpoint_date"), "date", "date"),
	    field(t("f_checkpoint_text"), "cp_text", "text"),
	    h("button", { type: "submit" }, t("add")));
	return onSave(form, (d) => {
		const g = { student: studentId, text: d.text };
		if (d.date)
			g.checkpoints = [{ date: d.date, text: d.cp_text ||
			    d.text }];
		return api.addGoal(g);
	}, { after });
}

