// Browser tests of the teacher's page: real `satchel serve` devices on
// 127.0.0.1 (ports from the kernel), Debian's chromium driven by
// playwright-core (never a browser download). Prints one TAP line per
// check; the first failure prints why (the page's console, the daemons'
// logs, a screenshot) and stops the run. Waits on conditions, never on
// fixed sleeps.
//
//	SATCHEL=build/test/satchel node tests/browser/run.mjs
//
// SCREENSHOTS names the folder for the screenshots (build/screenshots);
// CHROMIUM the browser (/usr/bin/chromium); KEEP=1 keeps the devices.

import { chromium } from "playwright-core";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const SATCHEL = path.resolve(process.env.SATCHEL ||
    path.join(repo, "build/test/satchel"));
const SHOTS = path.resolve(process.env.SCREENSHOTS ||
    path.join(repo, "build/screenshots"));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WAIT_MS = 30000;	// a generous bound for one condition (ASan, a busy box)
const EXACT = { exact: true };	// "Date" is not "Follow-up date"	// a generous bound for one condition (ASan build)

// The page's own words, so the test follows strings.js.
const stringsSrc = fs.readFileSync(path.join(repo,
    "daemon/http/page/strings.js"), "utf8");
const { t } = await import("data:text/javascript," +
    encodeURIComponent(stringsSrc));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "satchel-browser."));
const daemons = new Map();	// dir -> { proc, log }
let browser = null, page = null, n = 0;
const consoleLines = [];

function ok(desc) {
	console.log(`ok ${++n} - ${desc}`);
}

function comment(text) {
	for (const line of String(text).split("\n"))
		console.log(`#   ${line}`);
}

async function bail(desc, err) {
	console.log(`not ok ${++n} - ${desc}`);
	comment(err && err.stack ? err.stack : err);
	if (page) {
		try {
			fs.mkdirSync(SHOTS, { recursive: true });
			await page.screenshot({ path: path.join(SHOTS,
			    "failure.png"), fullPage: true });
			comment(`page at failure: ${page.url()}; ` +
			    `screenshot ${path.join(SHOTS, "failure.png")}`);
		} catch (e) {
			/* the page itself may be gone */
		}
	}
	if (consoleLines.length) {
		comment("the page's console:");
		comment(consoleLines.slice(-20).join("\n"));
	}
	for (const [dir, d] of daemons) {
		if (d.proc.exitCode !== null || d.proc.signalCode !== null)
			comment(`${path.basename(dir)} has ended: ` +
			    `${d.proc.exitCode ?? d.proc.signalCode}`);
		comment(`log of ${path.basename(dir)}:`);
		comment(tail(d.log, 30));
	}
	await cleanup();
	process.exit(1);
}

async function check(desc, fn) {
	const start = Date.now();
	try {
		await fn();
	} catch (e) {
		await bail(desc, e);
	}
	ok(`${desc} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
}

function tail(file, lines) {
	try {
		return fs.readFileSync(file, "utf8").trimEnd().split("\n")
		    .slice(-lines).join("\n");
	} catch (e) {
		return `(no ${file})`;
	}
}

// --- devices -------------------------------------------------------------

function sat(dir, ...args) {
	return satAt("", dir, ...args);
}

// The same with the device's clock moved (SATCHEL_CLOCK_OFFSET, "-30d").
function satAt(offset, dir, ...args) {
	return execFileSync(SATCHEL, ["-d", dir, ...args], { encoding: "utf8",
	    env: { ...process.env, SATCHEL_HOME: path.join(tmp, "home"),
	    SATCHEL_CLOCK_OFFSET: offset }, stdio: ["ignore", "pipe", "pipe"] })
	    .trim();
}

async function until(what, cond, ms = WAIT_MS) {
	const end = Date.now() + ms;
	for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
		const v = await cond();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error(`gave up after ${ms} ms waiting for ${what}`);
		await new Promise((r) => setTimeout(r, delay));
	}
}

const readIf = (f) => {
	try {
		return fs.readFileSync(f, "utf8").trim();
	} catch (e) {
		return "";
	}
};

// Starts `satchel serve` with both ports from the kernel (or the page on
// httpAddr); returns { sync: "127.0.0.1:P", http: "127.0.0.1:Q" } once
// both listen. A daemon that exits first fails the run with its log.
async function serve(dir, httpAddr = "127.0.0.1:0") {
	const portFile = `${dir}.port`, log = `${dir}.log`;
	fs.rmSync(portFile, { force: true });
	fs.rmSync(path.join(dir, "http.addr"), { force: true });
	const out = fs.openSync(log, "a");
	const proc = spawn(SATCHEL, ["-d", dir, "serve", "--listen",
	    "127.0.0.1:0", "--port-file", portFile, "--http", httpAddr],
	    { stdio: ["ignore", "ignore", out] });
	let exited = null;
	proc.on("exit", (code, sig) => { exited = sig || code; });
	daemons.set(dir, { proc, log });
	await until(`${path.basename(dir)} to listen`, () => {
		if (exited !== null)
			throw new Error(`${path.basename(dir)} exited (${exited}) ` +
			    `before it listened; its log:\n${tail(log, 20)}`);
		return readIf(portFile) && readIf(path.join(dir, "http.addr"));
	}, 60000);
	return { sync: `127.0.0.1:${readIf(portFile)}`,
	    http: readIf(path.join(dir, "http.addr")) };
}

// Stops a daemon with SIGTERM and waits for it; one that fails to stop,
// or stops with an error, fails the run.
async function stop(dir) {
	const d = daemons.get(dir);
	if (!d)
		return;
	daemons.delete(dir);
	if (d.proc.exitCode !== null || d.proc.signalCode !== null)
		throw new Error(`${path.basename(dir)} had already ended ` +
		    `(${d.proc.exitCode ?? d.proc.signalCode}); its log:\n` +
		    tail(d.log, 20));
	const done = new Promise((r) => d.proc.on("exit", (code) => r(code)));
	d.proc.kill("SIGTERM");
	const code = await Promise.race([done, new Promise((r) =>
	    setTimeout(() => r("timeout"), 60000))]);
	if (code !== 0)
		throw new Error(`${path.basename(dir)} stopped with ${code}; ` +
		    `its log:\n${tail(d.log, 20)}`);
}

async function cleanup() {
	if (browser)
		await browser.close().catch(() => {});
	browser = null;
	for (const [dir, d] of daemons) {
		d.proc.kill("SIGTERM");
		daemons.delete(dir);
	}
	if (process.env.KEEP)
		console.log(`# kept ${tmp}`);
	else
		fs.rmSync(tmp, { recursive: true, force: true });
}

// --- the page --------------------------------------------------------------

async function shot(name) {
	await page.screenshot({ path: path.join(SHOTS, `${name}.png`),
	    fullPage: true });
}

// The API as the page sees it (its cookie, its origin).
function apiGet(p) {
	return page.evaluate(async (u) => {
		const r = await fetch(u, { cache: "no-store" });
		return { status: r.status, body: await r.json() };
	}, "/api/v1" + p);
}

function byText(sel, text) {
	return page.locator(sel, { hasText: text });
}

async function login(dir) {
	const link = sat(dir, "open", "--no-browser").split("\n")
	    .find((l) => l.startsWith("http://"));
	if (!link)
		throw new Error("satchel open printed no link");
	await page.goto(link);
	await page.waitForURL((u) => !u.pathname.startsWith("/login"));
	await page.locator("#nav a").first().waitFor();
}

// ---------------------------------------------------------------------------

const A = path.join(tmp, "rivera"), B = path.join(tmp, "kim");
const today = new Date();
const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1)
    .padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
const nextWeek = iso(new Date(today.getTime() + 7 * 86400000));
const nextMonth = iso(new Date(today.getTime() + 30 * 86400000));

fs.mkdirSync(SHOTS, { recursive: true });
fs.rmSync(path.join(SHOTS, "failure.png"), { force: true });
let addrA;

await check("two devices: Ms. Rivera serves her page, Mr. Kim joins",
    async () => {
	sat(A, "init", "--name", "Ms. Rivera");
	const idB = sat(B, "init", "--name", "Mr. Kim");
	addrA = await serve(A);
	const invite = sat(A, "member", "add", idB, "--name", "Mr. Kim",
	    "--addr", addrA.sync);
	sat(B, "join", invite.split("\n").find((l) =>
	    l.startsWith("satchel-invite:")) || invite);
	sat(B, "peer", "add", addrA.sync);
});

await check("chromium opens the login link and the page loads", async () => {
	browser = await chromium.launch({ executablePath: CHROMIUM });
	const ctx = await browser.newContext({ viewport: { width: 1280,
	    height: 900 }, locale: "en-GB",
	    permissions: ["clipboard-read", "clipboard-write"] });
	page = await ctx.newPage();
	page.setDefaultTimeout(WAIT_MS);
	page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
	page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
	page.on("response", (r) => {
		if (r.status() >= 400)
			consoleLines.push(`${r.request().method()} ${r.url()}: ` +
			    `${r.status()}`);
	});
	await login(A);
	await page.getByText(t("students_none")).waitFor();
});

await check("a teacher adds two students from the front page", async () => {
	for (const [name, cls, needs] of [["Ana Lopez", "3B", "fractions"],
	    ["Ben Okafor", "3B", "decoding"]]) {
		const form = page.locator("form.add-student");
		await form.getByLabel(t("f_name"), EXACT).fill(name);
		await form.getByLabel(t("f_class"), EXACT).fill(cls);
		await form.getByLabel(t("f_needs"), EXACT).fill(needs);
		await form.getByRole("button", { name: t("add") }).click();
		await byText(".students a", name).waitFor();
	}
	await byText("h2", t("class_heading", { name: "3B" })).waitFor();
	await shot("front");
});

await check("the student page opens from the class list", async () => {
	await byText(".students a", "Ana Lopez").click();
	await byText("h1", "Ana Lopez").waitFor();
	await page.getByText(t("student_no_groups")).waitFor();
});

await check("a three-part conference note is saved with Ctrl+Enter",
    async () => {
	const form = page.locator("form.note-form");
	await form.getByLabel(t("f_strengths"), EXACT).fill("Explains her steps");
	await form.getByLabel(t("f_obstacle"), EXACT).fill("Mixes up numerators");
	await form.getByLabel(t("f_student_words"), EXACT)
	    .fill("I get it when I draw the pizza");
	await form.getByLabel(t("f_follow_up"), EXACT).fill(iso(today));
	await form.getByLabel(t("f_action"), EXACT).fill("Draw each fraction first");
	await form.getByLabel(t("f_action"), EXACT).press("Control+Enter");
	const note = byText("article.note", "Draw each fraction first");
	await note.waitFor();
	await byText("article.note .words", "pizza").waitFor();
	await until("the note form to be cleared", async () =>
	    await form.getByLabel(t("f_action"), EXACT).inputValue() === "");
});

await check("the follow-up due today is on the front page", async () => {
	await page.locator("#nav a").first().click();
	await byText(".followups li", "Draw each fraction first").waitFor();
	await byText(".followups li", t("followup_today")).waitFor();
});

await check("keyboard alone: the skip link, then a follow-up, focus shown",
    async () => {
	const focused = () => page.evaluate(() => {
		const a = document.activeElement, cs = getComputedStyle(a);
		return { id: a.id, text: a.textContent.trim(),
		    outline: cs.outlineStyle !== "none" &&
		    parseFloat(cs.outlineWidth) >= 2 };
	});
	await page.reload();
	await byText(".followups li", "Draw each fraction first").waitFor();
	await page.keyboard.press("Tab");
	let f = await focused();
	if (f.id !== "skip" || !f.outline)
		throw new Error(`first Tab: ${JSON.stringify(f)}`);
	await page.keyboard.press("Enter");
	await until("the focus on the page's main part", async () =>
	    (await focused()).id === "main");
	await page.keyboard.press("Tab");
	f = await focused();
	if (f.text !== "Ana Lopez" || !f.outline)
		throw new Error(`Tab after the skip link: ${JSON.stringify(f)}`);
	await page.keyboard.press("Enter");
	await byText("h1", "Ana Lopez").waitFor();
	await page.goBack();
	await byText(".followups li", "Draw each fraction first").waitFor();
});

await check("the search box finds the note by a word in it", async () => {
	await page.getByLabel(t("search_label"), EXACT).fill("numerators");
	await byText(".results li", "Mixes up numerators").waitFor();
	await page.getByLabel(t("search_label"), EXACT).fill("");
});

let groupIds = {};
await check("groups board: a lettered and a numbered group are added",
    async () => {
	await page.getByRole("link", { name: t("nav_groups") }).click();
	const form = page.locator("form.add-group");
	await form.getByLabel(t("f_group_type"), EXACT).selectOption("same-need");
	await form.getByLabel(t("f_group_name"), EXACT).fill("Group A");
	await form.getByRole("button", { name: t("group_add") }).click();
	await page.locator(".column[data-name='Group A']").waitFor();
	await form.getByLabel(t("f_group_type"), EXACT).selectOption("mixed");
	await until("the suggested name of a mixed group", async () =>
	    await form.getByLabel(t("f_group_name"), EXACT).inputValue() ===
	    "Group 1");
	await form.getByRole("button", { name: t("group_add") }).click();
	await page.locator(".column[data-name='Group 1']").waitFor();
	for (const g of (await apiGet("/groups")).body.groups)
		groupIds[g.fields.name] = g.id;
});

const chipIn = (group, name) => page.locator(
    `.column[data-name='${group}'] .student-chip`, { hasText: name });
const membersOf = async (group) => (await apiGet("/groups")).body.groups
    .find((g) => g.fields.name === group).sets.members || [];

await check("a student is moved between two groups by drag and drop",
    async () => {
	await chipIn(t("groups_unplaced"), "Ana Lopez")
	    .dragTo(page.locator(".column[data-name='Group A']"));
	await chipIn("Group A", "Ana Lopez").waitFor();
	await chipIn("Group A", "Ana Lopez")
	    .dragTo(page.locator(".column[data-name='Group 1']"));
	await chipIn("Group 1", "Ana Lopez").waitFor();
	await until("Ana to be in Group 1 and out of Group A", async () => {
		const ana = (await apiGet("/students")).body.students
		    .find((s) => s.fields.name === "Ana Lopez").id;
		return (await membersOf("Group 1")).includes(ana) &&
		    !(await membersOf("Group A")).includes(ana);
	});
	await shot("groups");
});

await check("a student is moved with the keyboard alone", async () => {
	await chipIn(t("groups_unplaced"), "Ben Okafor").focus();
	await page.keyboard.press("Space");
	await page.keyboard.press("ArrowRight");
	await page.keyboard.press("Space");
	await chipIn("Group A", "Ben Okafor").waitFor();
	await until("Ben's chip to keep the focus", () => page.evaluate(() =>
	    document.activeElement.textContent === "Ben Okafor"));
	await page.keyboard.press("Space");
	await page.keyboard.press("ArrowRight");
	await page.keyboard.press("Escape");
	await chipIn("Group A", "Ben Okafor").waitFor();
});

await check("a tap on a name offers the groups to move it to", async () => {
	await chipIn("Group A", "Ben Okafor").click();
	await page.locator(".move-menu").getByRole("button",
	    { name: "Group 1" }).click();
	await chipIn("Group 1", "Ben Okafor").waitFor();
	if (await page.locator(".move-menu").count() !== 0)
		throw new Error("the menu stayed open");
});

let anaId;
await check("a goal with a checkpoint is added, ticked and moved",
    async () => {
	anaId = (await apiGet("/students")).body.students
	    .find((s) => s.fields.name === "Ana Lopez").id;
	await page.goto(new URL(`/#/student/${anaId}`, page.url()).href);
	await byText("h1", "Ana Lopez").waitFor();
	const form = page.locator("form.goal-form");
	await form.getByLabel(t("goal_new"), EXACT).fill("Add fractions alone");
	await form.getByLabel(t("f_checkpoint_date"), EXACT).fill(nextWeek);
	await form.getByLabel(t("f_checkpoint_text"), EXACT).fill("halves and quarters");
	await form.getByRole("button", { name: t("add") }).click();
	const cp = byText(".checkpoint", "halves and quarters");
	await cp.waitFor();
	// click, not check(): the tick rebuilds the list under the pointer.
	await cp.getByRole("checkbox").click();
	await until("the checkpoint to be done in the store", async () => {
		const st = (await apiGet(`/students/${anaId}`)).body;
		return st.goals[0] && st.goals[0].checkpoints[0].done;
	});
	await byText(".checkpoint.done", "halves and quarters").waitFor();
	await cp.getByRole("button", { name: t("checkpoint_move") }).click();
	await cp.locator("input[type=date]").fill(nextMonth);
	await cp.getByRole("button", { name: t("save") }).click();
	await until("the checkpoint's new date in the store", async () =>
	    (await apiGet(`/students/${anaId}`)).body.goals[0]
	    .checkpoints[0].date === nextMonth);
	await shot("student");
});

await check("a unit, and an entry as its pre-assessment with a score",
    async () => {
	await page.getByRole("link", { name: t("nav_units") }).click();
	const form = page.locator("form.add-unit");
	await form.getByLabel(t("f_unit_name"), EXACT).fill("Fractions");
	await form.getByRole("button", { name: t("unit_add") }).click();
	await byText("ul.units a", "Fractions").waitFor();
	await page.goto(new URL(`/#/student/${anaId}`, page.url()).href);
	await page.locator(".entry-card summary").click();
	const entry = page.locator("form.entry-form");
	await entry.getByLabel(t("f_title"), EXACT).fill("Fractions quiz");
	await entry.getByLabel(t("f_unit"), EXACT).selectOption({
	    label: "Fractions" });
	await entry.getByLabel(t("f_slice"), EXACT).selectOption("pre");
	await entry.getByLabel(t("f_score"), EXACT).fill("4");
	await entry.getByRole("button", { name: t("save") }).click();
	await byText("article.entry", "Fractions quiz").waitFor();
	await page.getByRole("link", { name: t("nav_units") }).click();
	await byText("ul.units a", "Fractions").click();
	await byText("table.unit tr", "Ana Lopez").waitFor();
	await byText("table.unit td", "4").first().waitFor();
	await shot("unit");
	await page.goto(new URL(`/#/student/${anaId}`, page.url()).href);
	await byText("h1", "Ana Lopez").waitFor();
});

await check("a second device's note appears on the open page, no reload",
    async () => {
	await page.evaluate(() => { window.__sameDocument = 1; });
	sat(B, "sync");
	sat(B, "note", "add", "Ana Lopez", "--strengths", "Counts on",
	    "--obstacle", "Forgets the denominator", "--action",
	    "Mr. Kim checks in on Friday");
	sat(B, "sync");
	await byText("article.note", "Mr. Kim checks in on Friday").waitFor();
	if (await page.evaluate(() => window.__sameDocument) !== 1)
		throw new Error("the page was reloaded");
});

const anaNow = async () => (await apiGet(`/students/${anaId}`)).body
    .student.fields;

await check("a field changed by a sync while edited answers with both values",
    async () => {
	await page.getByRole("button", { name: t("student_edit_profile") })
	    .click();
	const form = page.locator("form.profile-form");
	await form.getByLabel(t("f_interests"), EXACT).fill("Horses");
	sat(B, "student", "edit", "Ana Lopez", "--interests", "Dinosaurs");
	sat(B, "sync");
	await until("Mr. Kim's interests to reach this device", async () =>
	    (await anaNow()).interests === "Dinosaurs");
	if (await form.getByLabel(t("f_interests"), EXACT).inputValue() !==
	    "Horses")
		throw new Error("the sync overwrote what the teacher typed");
	await form.getByRole("button", { name: t("save") }).click();
	const clash = form.locator(".clash");
	await byText(".clash dd", "Dinosaurs").waitFor();
	await byText(".clash dd", "Horses").waitFor();
	if ((await anaNow()).interests !== "Dinosaurs")
		throw new Error("the 409 wrote something");
	await shot("profile-clash");
	await clash.getByRole("button", { name: t("clash_keep_mine") })
	    .click();
	await byText("dl.profile dd", "Horses").waitFor();
	await until("her value to be saved", async () =>
	    (await anaNow()).interests === "Horses");
});

await check("concurrent edits: both values shown, the teacher keeps one",
    async () => {
	sat(B, "student", "edit", "Ana Lopez", "--strengths", "Patient");
	sat(A, "student", "edit", "Ana Lopez", "--strengths", "Quick");
	sat(B, "sync");
	await page.getByRole("link", { name: t("nav_conflicts") }).click();
	const card = page.locator("section.conflict");
	await card.locator(".value", { hasText: "Patient" }).waitFor();
	await card.locator(".value", { hasText: "Quick" }).waitFor();
	await card.locator(".value", { hasText: "Mr. Kim" }).waitFor();
	await shot("conflicts");
	await card.locator(".value", { hasText: "Patient" })
	    .getByRole("button", { name: t("conflict_keep") }).click();
	await page.getByText(t("conflicts_none")).waitFor();
	if ((await anaNow()).strengths !== "Patient")
		throw new Error("the kept value is not the one shown");
	await page.goto(new URL(`/#/student/${anaId}`, page.url()).href);
	await byText("h1", "Ana Lopez").waitFor();
});

await check("the printable portfolio shows the profile, goals and notes",
    async () => {
	await page.getByRole("link", { name: t("student_print") }).click();
	const sheet = page.locator("article.sheet");
	await byText("article.sheet h1", "Ana Lopez").waitFor();
	await byText("article.sheet", "Add fractions alone").waitFor();
	await byText("article.sheet", "Draw each fraction first").waitFor();
	await page.emulateMedia({ media: "print" });
	await shot("portfolio-print");
	await page.pdf({ path: path.join(SHOTS, "portfolio-a4.pdf"),
	    preferCSSPageSize: true });
	await page.emulateMedia({ media: "screen" });
	await page.getByLabel(t("print_include_notes"), EXACT).uncheck();
	await until("the notes to leave the sheet", async () =>
	    await sheet.locator("article.note").count() === 0);
	await page.getByLabel(t("print_paper"), EXACT).selectOption("letter");
	await page.pdf({ path: path.join(SHOTS, "portfolio-letter.pdf"),
	    preferCSSPageSize: true });
	await page.getByLabel(t("print_include_notes"), EXACT).check();
	await shot("portfolio");
	// The print stylesheets set the paper: A4 is 595 x 842 points,
	// Letter 612 x 792.
	for (const [file, w, hgt] of [["portfolio-a4.pdf", 595, 842],
	    ["portfolio-letter.pdf", 612, 792]]) {
		const pdf = fs.readFileSync(path.join(SHOTS, file), "latin1");
		const m = /MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(pdf);
		if (!m || Math.round(+m[1]) !== w || Math.round(+m[2]) !== hgt)
			throw new Error(`${file}: page ${m ? m[1] + " x " + m[2] :
			    "size not found"}, not ${w} x ${hgt}`);
	}
});

// Editing, deleting and private notes: tests/browser/edit.mjs.
await (await import("./edit.mjs")).editChecks({ check, page, apiGet, shot,
    byText, until, t, EXACT, anaId, today, iso });

await check("screenshots of the other pages", async () => {
	for (const [name, hash, ready] of [
		["rotation", "#/rotation", "table.rotation"],
	]) {
		await page.goto(new URL("/" + hash, page.url()).href);
		await page.locator(ready).first().waitFor();
		await shot(name);
	}
	await page.setViewportSize({ width: 768, height: 1024 });
	await page.goto(new URL(`/#/student/${anaId}`, page.url()).href);
	await byText("h1", "Ana Lopez").waitFor();
	await shot("student-tablet");
	await page.setViewportSize({ width: 1280, height: 900 });
});

// Ana and Ben went through Group A into Group 1 above; Cleo has sat in
// Group B for a month (written with the clock 30 days back).
await check("rotation: counted from the groups' history, a long stay flagged",
    async () => {
	satAt("-30d", A, "student", "add", "Cleo Diaz", "--class", "3B");
	satAt("-30d", A, "group", "add", "Group B", "--same-need", "--member",
	    "Cleo Diaz");
	await page.goto(new URL("/#/rotation", page.url()).href);
	const rowOf = (name) => byText("table.rotation tbody tr", name);
	const cells = async (name) => (await rowOf(name).locator("td")
	    .allInnerTexts()).slice(0, 2).join(" ");
	await rowOf("Cleo Diaz").locator(".flag").waitFor();
	for (const name of ["Ana Lopez", "Ben Okafor"]) {
		if (await cells(name) !== "1 1")
			throw new Error(`${name}: ${await cells(name)}, not ` +
			    "one same-need and one mixed group");
		await rowOf(name).locator("li.same-need", { hasText: "Group A" })
		    .waitFor();
		await rowOf(name).locator("li.mixed", { hasText: "Group 1" })
		    .waitFor();
	}
	if (await cells("Cleo Diaz") !== "1 0" ||
	    await rowOf("Cleo Diaz").locator("li", {
	    hasText: t("rotation_before") }).count() !== 0)
		throw new Error(`Cleo: ${await cells("Cleo Diaz")}`);
	if (!(await rowOf("Cleo Diaz").getAttribute("class")).includes(
	    "flagged") || (await page.locator("table.rotation tbody tr")
	    .first().innerText()).indexOf("Cleo Diaz") < 0)
		throw new Error("Cleo's row is not flagged first");
	await shot("rotation");
	const form = page.locator("form.inline");
	await form.getByLabel(t("f_threshold"), EXACT).fill("5");
	await form.getByRole("button", { name: t("rotation_show") }).click();
	await until("no flag with a threshold of 5 weeks", async () =>
	    await page.locator("table.rotation .flag").count() === 0);
	await form.getByLabel(t("f_threshold"), EXACT).fill("3");
	await form.getByRole("button", { name: t("rotation_show") }).click();
	await rowOf("Cleo Diaz").locator(".flag").waitFor();
	// A period that ends before it starts is said so, in the form.
	const until0 = await form.getByLabel(t("f_until"), EXACT).inputValue();
	await form.getByLabel(t("f_until"), EXACT).fill("2020-01-01");
	await form.getByRole("button", { name: t("rotation_show") }).click();
	await form.locator(".form-msg.error").waitFor();
	await form.getByLabel(t("f_until"), EXACT).fill(until0);
	await form.getByRole("button", { name: t("rotation_show") }).click();
	await until("the error line to clear", async () =>
	    await form.locator(".form-msg.error").count() === 0);
	await rowOf("Cleo Diaz").locator(".flag").waitFor();
});

await check("an invite is shown as text with a copy button and a QR code",
    async () => {
	const idC = sat(path.join(tmp, "lee"), "init", "--name", "Ms. Lee");
	await page.goto(new URL("/#/sync", page.url()).href);
	const form = page.locator("form.member-form");
	await form.getByLabel(t("member_name"), EXACT).fill("Ms. Lee");
	await form.getByLabel(t("member_device"), EXACT).fill(idC);
	await form.getByRole("button", { name: t("add") }).click();
	const text = page.locator("textarea.invite");
	await until("the invite's text", async () =>
	    (await text.inputValue()).startsWith("satchel-invite:"));
	await page.locator("svg.qr path").waitFor();
	await form.getByRole("button", { name: t("invite_copy") }).click();
	await form.getByRole("button", { name: t("invite_copied") }).waitFor();
	const copied = await page.evaluate(() =>
	    navigator.clipboard.readText());
	if (copied !== await text.inputValue())
		throw new Error("the copy button copied something else");
	await byText("table.members tr", "Ms. Lee").waitFor();
	await shot("sync");
});

await check("the page says plainly when the daemon stops", async () => {
	await page.goto(new URL("/#/", page.url()).href);
	await byText(".students a", "Ana Lopez").waitFor();
	await stop(A);
	await page.locator("#banner", { hasText: t("daemon_down") }).waitFor();
	await shot("daemon-stopped");
});

await check("and recovers when it is back", async () => {
	await serve(A, addrA.http);
	await page.locator("#banner").waitFor({ state: "hidden" });
	// Its session outlived the old process: no new login link.
	await byText(".students a", "Ana Lopez").waitFor();
	if (await page.getByText(t("locked_title")).count() !== 0)
		throw new Error("the page asks for a new login after a restart");
	if ((await apiGet("/students")).status !== 200)
		throw new Error("the session did not survive the restart");
});

await check("Lock ends the session: nothing shown, the API says 401",
    async () => {
	await page.getByRole("button", { name: t("lock") }).click();
	await page.getByText(t("locked_title")).waitFor();
	if (await page.locator(".students").count() !== 0)
		throw new Error("students still shown after Lock");
	const r = await apiGet("/students");
	if (r.status !== 401)
		throw new Error(`/students answered ${r.status} after Lock`);
});

await check("no script or style was refused by the page's CSP", async () => {
	const bad = consoleLines.filter((l) => /Content Security Policy|pageerror/
	    .test(l));
	if (bad.length)
		throw new Error(bad.join("\n"));
});

await cleanup();
console.log(`# screenshots in ${SHOTS}; the run took ` +
    `${Math.round(process.uptime())} s`);
