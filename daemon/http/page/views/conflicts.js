// Conflicts: each field where concurrent edits disagreed, with every value
// written, who wrote it and when, and a button to keep any of them.

import { t } from "../strings.js";
import { h, fill, announce } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";
import { fieldLabel, kindLabel } from "./common.js";

let region = null;

// The API gives each conflicting field with its values; rows of one value
// each (as `satchel conflicts --json` prints them) are grouped the same.
function group(rows) {
	const m = new Map();
	for (const r of rows) {
		const k = `${r.id}/${r.field}`;
		if (Array.isArray(r.values)) {
			m.set(k, r);
			continue;
		}
		if (!m.has(k))
			m.set(k, { id: r.id, kind: r.kind, field: r.field,
			    title: r.title || "", values: [] });
		m.get(k).values.push({ value: r.value, by: r.author_name ||
		    r.author, version: `${r.author}:${r.seq}`,
		    stamp_ms: r.stamp_ms, kept: r.status === "kept" });
	}
	return [...m.values()];
}

function value(c, v) {
	const when = v.stamp_ms ? fmt.moment(v.stamp_ms) : "";
	const keep = h("button", { type: "button", "data-key":
	    `keep-${c.id}-${c.field}-${v.version}` }, t("conflict_keep"));
	keep.addEventListener("click", async () => {
		keep.disabled = true;
		try {
			await api.restore(c.id, c.field, v.version);
			announce(t("saved"));
		} catch (e) {
			announce(e.message);
		}
		await draw();
	});
	return h("li.value", { class: v.kept ? "kept" : "lost" },
	    h("p.label", t(v.kept ? "conflict_kept" : "conflict_lost")),
	    h("blockquote", String(v.value ?? "")),
	    h("p.muted", t("conflict_by", { author: v.by || "", when })),
	    keep);
}

async function draw() {
	const cs = group(list(await api.conflicts(), "conflicts"));
	fill(region, cs.length === 0 ? h("p.muted", t("conflicts_none")) :
	    cs.map((c) => h("section.card.conflict",
	    h("h2", t("conflict_field", { kind: kindLabel(c.kind), title:
	    c.title || c.id.slice(0, 8), field: fieldLabel(c.field) })),
	    h("ul.values", c.values.map((v) => value(c, v))),
	    h("p", h("a", { href: `#/history/${c.id}` },
	    t("student_history"))))));
}

export const conflictsView = {
	async mount(main) {
		region = h("div");
		fill(main, h("h1", t("conflicts_title")), region);
		await draw();
	},
	refresh: () => draw(),
};
