// The one place that knows the daemon's JSON API (README "The web page's
// API"). Every call goes through request(), which tells the rest of the
// page when the daemon has stopped (a network error), when the session has
// ended (401), and otherwise returns the parsed JSON or throws ApiError
// with the daemon's own one-line message.

import { t } from "./strings.js";

const BASE = "/api/v1";

export class ApiError extends Error {
	constructor(status, message, body) {
		super(message);
		this.status = status;
		this.body = body;
	}
}

// Listeners the app registers: onDown(), onUp(), onLocked().
export const health = { down: false, onDown: null, onUp: null,
    onLocked: null };

function setDown(down) {
	if (health.down === down)
		return;
	health.down = down;
	const cb = down ? health.onDown : health.onUp;
	if (cb)
		cb();
}

// Requests the page makes by itself (to follow a sync) are marked, so that
// the daemon does not count them as the teacher's activity: a page left
// open still locks when she walks away.
let background = 0;
export async function inBackground(fn) {
	background++;
	try {
		return await fn();
	} finally {
		background--;
	}
}

export async function request(method, path, body) {
	const opts = { method, credentials: "same-origin", cache: "no-store",
	    headers: { Accept: "application/json" } };
	if (background)
		opts.headers["X-Satchel-Background"] = "1";
	if (body !== undefined) {
		opts.headers["Content-Type"] = "application/json";
		opts.body = JSON.stringify(body);
	}
	let res;
	try {
		res = await fetch(BASE + path, opts);
	} catch (e) {
		setDown(true);
		throw new ApiError(0, t("daemon_unreachable"));
	}
	setDown(false);
	const text = await res.text();
	let data = null;
	try {
		data = text ? JSON.parse(text) : null;
	} catch (e) {
		data = null;
	}
	if (res.status === 401) {
		if (health.onLocked)
			health.onLocked();
		throw new ApiError(401, "locked", data);
	}
	if (!res.ok)
		throw new ApiError(res.status, (data && (data.error ||
		    data.message)) || t("error_generic",
		    { status: res.status }), data);
	return data;
}

const q = (params) => {
	const s = new URLSearchParams();
	for (const [k, v] of Object.entries(params || {}))
		if (v !== undefined && v !== null && v !== "")
			s.set(k, v);
	const str = s.toString();
	return str ? "?" + str : "";
};
const enc = encodeURIComponent;

// Lists may come bare or wrapped ({students: [...]}): take either.
export function list(data, key) {
	if (Array.isArray(data))
		return data;
	if (data && Array.isArray(data[key]))
		return data[key];
	if (data && Array.isArray(data.items))
		return data.items;
	return [];
}

export const api = {
	status: () => request("GET", "/status"),
	lock: () => request("POST", "/lock", {}),
	// Answers when anything changed after seq `since` (or after a while
	// with nothing new): {seq: N}.
	events: (since) => request("GET", "/events" + q({ since })),

	students: (cls) => request("GET", "/students" + q({ class: cls })),
	addStudent: (s) => request("POST", "/students", s),
	student: (id, limit, offset) => request("GET",
	    `/students/${enc(id)}` + q({ limit, offset })),
	followups: () => request("GET", "/followups"),
	search: (text) => request("GET", "/search" + q({ q: text })),

	addNote: (n) => request("POST", "/notes", n),
	addEntry: (e) => request("POST", "/entries", e),
	// fields: {name: value}; versions: {name: version the page showed}.
	// A field changed meanwhile answers 409 with both values.
	patch: (id, fields, versions) => request("PATCH",
	    `/records/${enc(id)}`, { set: fields, versions }),
	history: (id) => request("GET", `/records/${enc(id)}/history`),
	record: (id) => request("GET", `/records/${enc(id)}`),

	groups: () => request("GET", "/groups"),
	addGroup: (g) => request("POST", "/groups", g),
	// One write: out of from (if any) into to (if any).
	moveStudent: (student, from, to) => request("POST", "/groups/move",
	    { student, from: from || undefined, to: to || undefined }),
	rotation: (from, until, weeks) => request("GET", "/rotation" +
	    q({ from, until, weeks })),

	// g.checkpoints: [{date, text}], sent as {date: text}.
	addGoal: (g) => request("POST", "/goals", { student: g.student,
	    text: g.text, checkpoints: Object.fromEntries((g.checkpoints ||
	    []).map((c) => [c.date, c.text])) }),
	addCheckpoint: (goal, c) => request("POST",
	    `/goals/${enc(goal)}/checkpoints`, c),
	tickCheckpoint: (goal, n, done) => request("PATCH",
	    `/goals/${enc(goal)}/checkpoints/${n}`, { done }),
	moveCheckpoint: (goal, n, date) => request("PATCH",
	    `/goals/${enc(goal)}/checkpoints/${n}`, { date }),

	units: () => request("GET", "/units"),
	addUnit: (u) => request("POST", "/units", u),
	unit: (id) => request("GET", `/units/${enc(id)}`),

	conflicts: () => request("GET", "/conflicts"),
	// Keeps one value of a conflict: the version /conflicts showed.
	restore: (record, field, version) => request("POST",
	    "/conflicts/restore", { record, field, version }),

	members: () => request("GET", "/members"),
	addMember: (m) => request("POST", "/members/invite", m),

	// Editing: set fields (with the versions shown), add and remove tags.
	edit: (id, set, versions, add, remove) => request("PATCH",
	    `/records/${enc(id)}`, { set, versions, add, remove }),
	remove: (id) => request("DELETE", `/records/${enc(id)}`),
	undelete: (id) => request("POST", `/records/${enc(id)}/undelete`, {}),
	// The student's page with the deleted goals, notes and entries too.
	studentAll: (id, limit, offset) => request("GET",
	    `/students/${enc(id)}` + q({ limit, offset, deleted: 1 })),
	// Deleted records (of one kind), to bring back.
	deleted: (kind) => request("GET", "/deleted" + q({ kind })),
	// This device's default scope of new notes and entries.
	scope: () => request("GET", "/scope"),
	setScope: (scope) => request("PUT", "/scope", { scope }),
};
