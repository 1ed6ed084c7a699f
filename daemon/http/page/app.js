// The page's shell: navigation, the sync line, the Lock button, the
// "Satchel has stopped" banner, and the router that mounts one view at a
// time. A view is an object with mount(main, arg) and, where it shows data
// that a sync can change, refresh(), which re-reads that data without
// touching what the teacher is typing.

import { t } from "./strings.js";
import { h, fill, announce } from "./dom.js";
import { api, health, inBackground } from "./api.js";
import { startLive, syncLine } from "./live.js";
import { frontView } from "./views/front.js";
import { studentView } from "./views/student.js";
import { groupsView } from "./views/groups.js";
import { rotationView } from "./views/rotation.js";
import { unitsView, unitView } from "./views/units.js";
import { conflictsView } from "./views/conflicts.js";
import { historyView } from "./views/history.js";
import { printView } from "./views/print.js";
import { syncView } from "./views/sync.js";

const routes = {
	"": frontView,
	student: studentView,
	groups: groupsView,
	rotation: rotationView,
	units: unitsView,
	unit: unitView,
	conflicts: conflictsView,
	history: historyView,
	print: printView,
	sync: syncView,
};

const nav = [
	["#/", "nav_students", ""],
	["#/groups", "nav_groups", "groups"],
	["#/rotation", "nav_rotation", "rotation"],
	["#/units", "nav_units", "units"],
	["#/conflicts", "nav_conflicts", "conflicts"],
	["#/sync", "nav_sync", "sync"],
];

export const app = { view: null, status: null, locked: false };

const isBox = () => app.status && app.status.role === "box";

function parseHash() {
	const parts = location.hash.replace(/^#\/?/, "").split("/");
	return { name: parts[0] || "", arg: decodeURIComponent(parts[1] || "") };
}

let routed = 0;

async function route() {
	if (app.locked)
		return;
	let { name, arg } = parseHash();
	// A box holds no records: it shows its sync status only.
	if (isBox())
		name = "sync";
	const view = routes[name] || frontView;
	const main = document.getElementById("main");
	document.body.dataset.view = name || "front";
	for (const a of document.querySelectorAll("#nav a"))
		a.toggleAttribute("aria-current", a.dataset.route === name ||
		    (a.dataset.route === "" && name === "student"));
	app.view = view;
	fill(main, h("p.muted", t("loading")));
	try {
		await view.mount(main, arg);
	} catch (e) {
		if (e.status !== 401 && e.status !== 0)
			fill(main, h("p.error", e.message));
	}
	// After a move within the page, the focus goes to what it shows;
	// on the first load it stays at the top, where the skip link is.
	if (routed++)
		main.focus({ preventScroll: true });
}

// Called by live.js when the team's data changed (a sync, or another tab).
export async function refreshView() {
	if (app.locked || !app.view || !app.view.refresh)
		return;
	try {
		await app.view.refresh();
	} catch (e) {
		/* the next change or the banner says more */
	}
}

export function showLocked(message) {
	app.locked = true;
	document.body.dataset.view = "locked";
	document.title = t("app_name");
	fill(document.getElementById("main"), h("section.locked",
	    h("h1", t("locked_title")),
	    message ? h("p", message) : null,
	    h("p", t("locked_text"))));
}

// The daemon ends a session left idle (30 minutes unless it says
// otherwise in its status), but it only learns of it at the page's next
// request; the page locks itself as well, so that no child's data stays
// on the screen of a laptop left open in a classroom.
const IDLE_S = 30 * 60;
let lastActive = Date.now();

async function lockNow(message) {
	try {
		await api.lock();
	} catch (e) {
		/* locked either way: the page forgets what it showed */
	}
	showLocked(message);
}

function watchIdle() {
	for (const ev of ["keydown", "pointerdown", "input", "wheel"])
		document.addEventListener(ev, () => { lastActive = Date.now(); },
		    { capture: true, passive: true });
	setInterval(() => {
		const idle = ((app.status && app.status.idle_s) || IDLE_S) * 1000;
		if (!app.locked && Date.now() - lastActive > idle)
			lockNow(t("locked_idle"));
	}, 5000);
}

function shell() {
	document.title = t("app_name");
	const skip = document.getElementById("skip");
	skip.textContent = t("skip_to_main");
	// The routes live in the hash: the skip link moves the focus only.
	skip.addEventListener("click", (e) => {
		e.preventDefault();
		document.getElementById("main").focus();
	});
	document.getElementById("brand").textContent = t("app_name");
	fill(document.getElementById("nav"), h("ul", nav.map(([href, key,
	    r]) => h("li", h("a", { href, dataset: { route: r } }, t(key))))));
	const lock = document.getElementById("lock");
	lock.textContent = t("lock");
	lock.addEventListener("click", () => lockNow(t("locked_done")));
	const banner = document.getElementById("banner");
	health.onDown = () => {
		banner.textContent = t("daemon_down");
		banner.hidden = false;
		document.body.classList.add("down");
	};
	health.onUp = () => {
		banner.hidden = true;
		document.body.classList.remove("down");
		announce(t("daemon_back"));
		if (!app.locked)
			inBackground(refreshView);
	};
	health.onLocked = () => showLocked();
	// Ctrl+Enter anywhere in a form submits it: the one-keystroke save.
	document.addEventListener("keydown", (e) => {
		if (e.key === "Enter" && (e.ctrlKey || e.metaKey) &&
		    e.target.form) {
			e.preventDefault();
			e.target.form.requestSubmit();
		}
	});
	window.addEventListener("hashchange", route);
}

shell();
watchIdle();
startLive({ onChange: refreshView, stopped: () => app.locked, onStatus: (s) => {
	const wasBox = isBox();
	app.status = s;
	document.body.classList.toggle("admin", s && s.role === "admin");
	document.body.classList.toggle("box", isBox());
	if (isBox() && !wasBox)
		route();
	fill(document.getElementById("sync"), syncLine(s));
} });
route();
