// Sync and team: this device, its peers (connected or not, last sync,
// what each side lacks), the members, and for an admin the form that
// makes an invite, shown as text with a copy button and a QR code.

import { t } from "../strings.js";
import { h, fill, field, announce } from "../dom.js";
import { api, list } from "../api.js";
import * as fmt from "../fmt.js";
import { onSave } from "./common.js";
import { scopeCard } from "./edit.js";

let cur = null;

function peersTable(s) {
	const peers = s.peers || [];
	if (peers.length === 0)
		return h("p.muted", t("sync_no_peers"));
	return h("div.table-wrap", h("table.peers",
	    h("thead", h("tr", h("th", { scope: "col" }, t("sync_peer_addr")),
	    h("th", { scope: "col" }, t("sync_peer_state")),
	    h("th", { scope: "col" }, t("sync_peer_last")))),
	    h("tbody", peers.map((p) => h("tr",
	    h("th", { scope: "row" }, p.name ? `${p.name} (${p.addr})` :
	    p.addr), h("td", { class: p.connected ? "ok" : "warn" },
	    t(p.connected ? "sync_connected" : "sync_disconnected")),
	    h("td", p.last_sync_ms ? [fmt.ago(p.last_sync_ms), " · ",
	    h("span.muted", fmt.moment(p.last_sync_ms))] : t("never")))))));
}

function membersTable(ms) {
	if (ms.length === 0)
		return h("p.muted", t("none"));
	return h("div.table-wrap", h("table.members",
	    h("thead", h("tr", h("th", { scope: "col" }, t("member_name")),
	    h("th", { scope: "col" }, t("member_role")),
	    h("th", { scope: "col" }, t("member_state")))),
	    h("tbody", ms.map((m) => h("tr",
	    h("th", { scope: "row" }, m.name || "", h("br"),
	    h("code.devid", m.id || m.device || "")),
	    h("td", m.role || ""),
	    h("td", t(m.joined ? "member_joined" : "member_invited")))))));
}

// A QR code from the daemon's modules ({size, rows: ["0110...", ...]}),
// drawn as one SVG path: nothing loaded, nothing inline for the CSP.
function qrImage(qr) {
	const NS = "http://www.w3.org/2000/svg", quiet = 4;
	const n = qr.size + 2 * quiet;
	let d = "";
	qr.rows.forEach((row, y) => {
		for (let x = 0; x < row.length; x++)
			if (row[x] === "1")
				d += `M${x + quiet} ${y + quiet}h1v1h-1z`;
	});
	const svg = document.createElementNS(NS, "svg");
	svg.setAttribute("viewBox", `0 0 ${n} ${n}`);
	svg.setAttribute("width", "320");
	svg.setAttribute("height", "320");
	svg.setAttribute("role", "img");
	svg.setAttribute("aria-label", t("invite_qr"));
	svg.setAttribute("class", "qr");
	const bg = document.createElementNS(NS, "rect");
	bg.setAttribute("width", n);
	bg.setAttribute("height", n);
	bg.setAttribute("fill", "#fff");
	const p = document.createElementNS(NS, "path");
	p.setAttribute("d", d);
	p.setAttribute("fill", "#000");
	svg.append(bg, p);
	return svg;
}

function inviteBox(invite) {
	const token = invite.invite || invite.token || "";
	const text = h("textarea.invite", { readonly: true, rows: 5,
	    id: "invite-text", "aria-label": t("invite_text") });
	text.value = token;
	const copy = h("button", { type: "button" }, t("invite_copy"));
	copy.addEventListener("click", async () => {
		try {
			await navigator.clipboard.writeText(token);
		} catch (e) {
			text.select();
			document.execCommand("copy");
		}
		announce(t("invite_copied"));
		copy.textContent = t("invite_copied");
	});
	const qr = invite.qr && Array.isArray(invite.qr.rows) ?
	    qrImage(invite.qr) : null;
	return h("div.invite-box", h("label", { for: "invite-text" },
	    t("invite_text")), text, copy, qr);
}

function memberForm() {
	const out = h("div");
	const form = h("form.card.admin-only.member-form",
	    h("h2", t("member_add")),
	    field(t("member_name"), "name", "text", { required: true }),
	    field(t("member_device"), "device", "text", { required: true }),
	    field(t("member_addr"), "addr", "text"),
	    field(t("member_box"), "box", "checkbox"),
	    h("button", { type: "submit" }, t("add")), out);
	return onSave(form, (d) => api.addMember({ device: d.device,
	    name: d.name, box: d.box, addr: d.addr ? d.addr.split(/[\s,]+/)
	    .filter(Boolean) : undefined }), {
		after: (res) => {
			fill(out, inviteBox(res || {}));
			return draw();
		} });
}

async function draw() {
	const [s, ms] = await Promise.all([api.status(),
	    api.members().catch(() => [])]);
	// Inviting is an admin's (#6); in a team from before roles, where
	// no member is an admin, any teacher may.
	const members = list(ms, "members");
	const role = (ms && ms.role) || s.role;
	const isAdmin = role === "admin" || (role === "teacher" &&
	    !members.some((m) => m.role === "admin"));
	fill(cur.region,
	    h("section.card", h("h2", t("sync_this_device")),
	    h("dl.kv", h("dt", t("member_name")), h("dd", s.name || ""),
	    h("dt", t("member_role")), h("dd", s.role || ""),
	    h("dt", t("sync_team")), h("dd", h("code", s.team || "")))),
	    h("section.card", h("h2", t("sync_peers")), peersTable(s)),
	    h("section.card", h("h2", t("sync_members")),
	    membersTable(members)));
	cur.admin.hidden = !isAdmin;
}

export const syncView = {
	async mount(main) {
		cur = { region: h("div"), admin: h("div", memberForm()) };
		fill(main, h("h1", t("sync_title")), cur.region, scopeCard(),
		    cur.admin);
		await draw();
	},
	refresh: () => draw(),
};
