// The history of one record: every change, when, by which device, what.

import { t, strings } from "../strings.js";
import { fieldLabel } from "./common.js";
import { h, fill } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";

let cur = null;

function what(c) {
	const v = c.value === undefined || c.value === null ? "" :
	    String(c.value);
	const op = Object.prototype.hasOwnProperty.call(strings, "op_" + c.op) ?
	    t("op_" + c.op) : c.op;
	return [h("span.op", op), " ", c.field ? h("strong",
	    fieldLabel(c.field)) : null,
	    v ? [" = ", h("span", v)] : null,
	    c.conflict ? h("span.badge.warn", t("history_conflict")) : null];
}

async function draw() {
	const [data, rec] = await Promise.all([api.history(cur.id),
	    api.record(cur.id).catch(() => null)]);
	const rows = list(data, "history");
	const f = (rec && (rec.fields || (rec.record && rec.record.fields))) ||
	    {};
	const title = f.name || f.title || f.text || cur.id.slice(0, 12);
	fill(cur.main, h("h1", t("history_title", { title })),
	    h("div.table-wrap", h("table.history",
	    h("thead", h("tr", h("th", { scope: "col" }, t("history_when")),
	    h("th", { scope: "col" }, t("history_who")),
	    h("th", { scope: "col" }, t("history_what")))),
	    h("tbody", rows.map((c) => h("tr",
	    h("td", c.stamp_ms ? fmt.moment(c.stamp_ms) : c.time),
	    h("td", c.by || c.author_name || c.author || ""),
	    h("td", what(c))))))));
}

export const historyView = {
	async mount(main, id) {
		cur = { main, id };
		await draw();
	},
	refresh: () => draw(),
};
