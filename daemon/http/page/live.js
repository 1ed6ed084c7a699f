// Keeps the page current without a reload. The daemon's events request is
// a long poll: it answers as soon as anything changed (a sync brought
// something in, a peer came or went, another tab wrote), or after a while
// with nothing new, and the page asks again at once. A failed request
// means the daemon has stopped: api.js shows the banner, and the page
// asks again every second until it is back. The events request does not
// count as the teacher's activity, so an open page left alone still locks.

import { t, tn } from "./strings.js";
import { h } from "./dom.js";
import { api, inBackground } from "./api.js";
import * as fmt from "./fmt.js";

const RETRY_MS = 1000;
const TICK_MS = 30000;	// "2 minutes ago" is redrawn from what we have

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function seqOf(ev) {
	if (ev === null || ev === undefined)
		return null;
	if (typeof ev !== "object")
		return ev;
	return ev.seq ?? ev.since ?? ev.changes ?? null;
}

export function startLive({ onChange, onStatus, stopped }) {
	let since = null;
	let primed = false;	// the view has read once: later seqs are news
	let status = null;

	async function readStatus() {
		status = await inBackground(() => api.status());
		onStatus(status);
	}
	async function loop() {
		for (;;) {
			if (stopped && stopped())
				return;
			try {
				const ev = await api.events(since ?? undefined);
				const seq = seqOf(ev);
				if (seq !== null && seq !== since) {
					since = seq;
					await readStatus();
					// After a failed request too: what
					// changed meanwhile is not known.
					if (primed)
						await inBackground(onChange);
					primed = true;
				}
			} catch (e) {
				if (e.status === 401)
					return;
				// Down, or the daemon said no: start afresh.
				console.warn(`live: ${e.message}`);
				since = null;
				await sleep(RETRY_MS);
			}
		}
	}
	readStatus().catch(() => {});
	loop();
	setInterval(() => {
		if (status)
			onStatus(status);
	}, TICK_MS);
}

function peerName(p) {
	return p.name || p.addr || (p.device || "").slice(0, 12);
}

// The header's one line: "Up to date with the staff-room box, 2 minutes
// ago", or what is waiting and why.
export function syncLine(s) {
	if (!s)
		return "";
	const peers = s.peers || [];
	if (peers.length === 0)
		return h("span.sync-alone", t("sync_alone"));
	const best = peers.slice().sort((a, b) =>
	    (b.connected - a.connected) ||
	    ((b.last_sync_ms || 0) - (a.last_sync_ms || 0)))[0];
	const peer = peerName(best);
	const when = best.last_sync_ms ? fmt.ago(best.last_sync_ms) : "";
	let text, cls = "ok";
	if (best.connected && best.it_lacks > 0) {
		text = tn("sync_waiting", best.it_lacks, { peer });
		cls = "busy";
	} else if (best.connected && best.this_lacks > 0) {
		text = tn("sync_receiving", best.this_lacks, { peer });
		cls = "busy";
	} else if (best.connected) {
		text = t("sync_up_to_date", { peer, ago: when ||
		    fmt.ago(Date.now()) });
	} else if (!best.last_sync_ms) {
		text = t("sync_offline_never", { peer });
		cls = "warn";
	} else if (best.it_lacks > 0) {
		text = tn("sync_last_waiting", best.it_lacks, { peer,
		    ago: when });
		cls = "warn";
	} else {
		text = t("sync_last", { peer, ago: when });
	}
	return h("a.sync-" + cls, { href: "#/sync", title: best.addr || "" },
	    text);
}
