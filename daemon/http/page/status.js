// A placeholder page: this device's sync status, or how to log in.
// The teacher's page proper replaces this folder (see README).
const el = document.getElementById("status");
try {
	const r = await fetch("/api/v1/status", { credentials: "same-origin" });
	const s = await r.json();
	if (!r.ok) {
		el.textContent = s.error;
	} else {
		el.textContent = `${s.name} (${s.role}): ${s.entries} entries, ` +
		    `${s.peers.filter((p) => p.connected).length} of ` +
		    `${s.peers.length} peers connected`;
	}
} catch (e) {
	el.textContent = "The Satchel daemon is not running.";
}
