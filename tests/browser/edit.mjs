// The page's editing, run by run.mjs on its devices once Ana has a note,
// an entry of the unit Fractions, a goal, and groups: a note and an entry
// edited in place, delete and Undo (by keyboard), "show deleted" and
// Bring back, a student deleted and brought back, the private/team switch
// and the teacher's default scope, a unit's and a group's dates, at
// desktop and tablet width. Each check looks in the store (the API) as
// well as on the page.

export async function editChecks(c) {
	const { check, page, apiGet, shot, byText, until, t, EXACT, anaId,
	    today, iso } = c;
	const studentUrl = (id) => new URL(`/#/student/${id}`, page.url()).href;
	const ana = async () => (await apiGet(`/students/${anaId}?deleted=1`))
	    .body;
	const item = (text) => byText("article.item", text);
	const rec = async (id) => (await apiGet(`/records/${id}`)).body;
	const inDays = (n) => iso(new Date(today.getTime() + n * 86400000));
	const openAna = async () => {
		await page.goto(studentUrl(anaId));
		await byText("h1", "Ana Lopez").waitFor();
	};

	await check("a note is edited in place and saved with Ctrl+Enter",
	    async () => {
		await openAna();
		const note = item("Draw each fraction first");
		await note.locator("[data-key^=edit-]").click();
		const form = page.locator("form.edit-form");
		const action = form.getByLabel(t("f_action"), EXACT);
		if (await action.inputValue() !== "Draw each fraction first")
			throw new Error("the form does not hold the note");
		await shot("note-edit");
		await action.fill("Draw each fraction, then say it");
		await action.press("Control+Enter");
		await item("Draw each fraction, then say it").waitFor();
		await until("the edit in the store", async () =>
		    (await ana()).items.some((i) => i.fields.action ===
		    "Draw each fraction, then say it"));
	});

	await check("Escape leaves an edit with nothing written", async () => {
		const note = item("Draw each fraction, then say it");
		await note.locator("[data-key^=edit-]").click();
		const form = page.locator("form.edit-form");
		await form.getByLabel(t("f_action"), EXACT).fill("not this");
		await form.getByLabel(t("f_action"), EXACT).press("Escape");
		// (The form's own text holds the note's words: wait for it
		// to go, not for them.)
		await until("the edit form to go", async () =>
		    await page.locator("form.edit-form").count() === 0);
		await item("Draw each fraction, then say it").waitFor();
		await until("the focus back on the note's Edit button", () =>
		    page.evaluate(() => (document.activeElement.dataset.key ||
		    "").startsWith("edit-")));
		if ((await ana()).items.some((i) => i.fields.action ===
		    "not this"))
			throw new Error("Escape saved");
	});

	let entryId;
	await check("an entry's title, score and tags are edited", async () => {
		const entry = item("Fractions quiz");
		entryId = await entry.getAttribute("data-id");
		await entry.locator("[data-key^=edit-]").click();
		const form = page.locator("form.edit-form");
		await form.getByLabel(t("f_title"), EXACT).fill("Fractions quiz, again");
		await form.getByLabel(t("f_score"), EXACT).fill("6");
		await form.getByLabel(t("f_tags"), EXACT).fill("fractions, retest");
		await form.getByRole("button", { name: t("save") }).click();
		await item("Fractions quiz, again").locator(".tag", { hasText:
		    "retest" }).waitFor();
		const r = await rec(entryId);
		if (r.fields.score !== "6" || r.fields.slice !== "pre" ||
		    r.sets.tags.join() !== "fractions,retest")
			throw new Error(`stored: ${JSON.stringify(r)}`);
	});

	await check("a bad edit says the daemon's words, and writes nothing",
	    async () => {
		const note = item("Draw each fraction, then say it");
		const id = await note.getAttribute("data-id");
		const before = await rec(id);
		await note.locator("[data-key^=edit-]").click();
		const form = page.locator("form.edit-form");
		await form.getByLabel(t("f_date"), EXACT).fill(inDays(3));
		await form.getByLabel(t("f_follow_up"), EXACT).fill(inDays(1));
		await form.getByRole("button", { name: t("save") }).click();
		await form.locator(".form-msg.error").waitFor();
		const msg = await form.locator(".form-msg.error").innerText();
		if (!/follow/i.test(msg))
			throw new Error(`said: ${msg}`);
		await shot("edit-refused");
		if (JSON.stringify(await rec(id)) !== JSON.stringify(before))
			throw new Error("something was written");
		await form.getByRole("button", { name: t("cancel") }).click();
	});

	await check("keyboard alone: a note deleted, then Undo brings it back",
	    async () => {
		const note = item("Mr. Kim checks in on Friday");
		const id = await note.getAttribute("data-id");
		await note.locator("[data-key^=del-]").focus();
		await page.keyboard.press("Enter");
		const undo = page.locator(".undo-bar button", { hasText:
		    t("undo") });
		await undo.waitFor();
		await until("the note to leave the page", async () =>
		    await item("Mr. Kim checks in on Friday").count() === 0);
		if (!(await rec(id)).deleted)
			throw new Error("not deleted in the store");
		if (!await undo.evaluate((b) => b === document.activeElement))
			throw new Error("the focus is not on Undo");
		await shot("deleted-undo");
		await page.keyboard.press("Enter");
		await item("Mr. Kim checks in on Friday").waitFor();
		await until("the note back in the store", async () =>
		    !(await rec(id)).deleted);
	});

	await check("show deleted lists a deleted entry; Bring back restores it",
	    async () => {
		await item("Fractions quiz, again").locator("[data-key^=del-]")
		    .click();
		await until("the entry to leave the page", async () =>
		    await item("Fractions quiz, again").count() === 0);
		await page.locator(".undo-bar button.link").click();
		await page.getByLabel(t("show_deleted"), EXACT).check();
		const gone = page.locator("article.item.deleted", { hasText:
		    "Fractions quiz, again" });
		await gone.locator(".badge", { hasText: t("deleted_badge") })
		    .waitFor();
		await shot("show-deleted");
		await gone.locator("[data-key^=undel-]").click();
		await page.locator("article.item:not(.deleted)", { hasText:
		    "Fractions quiz, again" }).waitFor();
		if ((await rec(entryId)).deleted)
			throw new Error("still deleted in the store");
		await page.getByLabel(t("show_deleted"), EXACT).uncheck();
	});

	await check("a goal is deleted and brought back", async () => {
		const goal = page.locator(".goal", { hasText:
		    "Add fractions alone" });
		const id = await goal.getAttribute("data-id");
		await goal.locator("[data-key^=del-]").click();
		await until("the goal to leave the page", async () =>
		    await page.locator(".goal:not(.deleted)", { hasText:
		    "Add fractions alone" }).count() === 0);
		await page.locator(".undo-bar button", { hasText: t("undo") })
		    .click();
		await page.locator(".goal", { hasText: "Add fractions alone" })
		    .waitFor();
		if ((await rec(id)).deleted)
			throw new Error("still deleted in the store");
	});

	await check("a private note: the switch, and the mark where it is listed",
	    async () => {
		const form = page.locator("form.note-form");
		const box = form.getByLabel(t("f_scope_private"), EXACT);
		if (await box.isChecked())
			throw new Error("private without being asked");
		await form.getByLabel(t("f_strengths"), EXACT).fill("Honest about it");
		await form.getByLabel(t("f_obstacle"), EXACT).fill("Home worries");
		await form.getByLabel(t("f_action"), EXACT).fill("Talk to the counsellor");
		await box.check();
		await form.getByLabel(t("f_action"), EXACT).press("Control+Enter");
		const note = item("Talk to the counsellor");
		await note.locator(".badge", { hasText: t("private_badge") })
		    .waitFor();
		if (await item("Draw each fraction, then say it")
		    .locator(".badge", { hasText: t("private_badge") }).count())
			throw new Error("a team note is marked private");
		const r = await rec(await note.getAttribute("data-id"));
		if (r.scope !== "private")
			throw new Error(`stored as ${r.scope}`);
		if (await box.isChecked())
			throw new Error("the switch stayed on for the next note");
	});

	await check("a private note is marked in search, left out of the portfolio",
	    async () => {
		await page.getByRole("link", { name: t("nav_students") }).click();
		await page.getByLabel(t("search_label")).fill("counsellor");
		await page.locator(".results li", { hasText: "counsellor" })
		    .locator(".badge", { hasText: t("private_badge") }).waitFor();
		await page.goto(new URL(`/#/print/${anaId}`, page.url()).href);
		await byText("article.sheet", "Draw each fraction, then say it")
		    .waitFor();
		if (await byText("article.sheet", "counsellor").count())
			throw new Error("a private note in the handout unasked");
		await page.getByLabel(t("print_include_private"), EXACT).check();
		await byText("article.sheet", "counsellor").waitFor();
	});

	await check("the teacher's default scope is set on the sync page",
	    async () => {
		await page.getByRole("link", { name: t("nav_sync") }).click();
		const form = page.locator("form.scope-form");
		await form.getByLabel(t("scope_default"), EXACT)
		    .selectOption("private");
		await form.getByRole("button", { name: t("save") }).click();
		// The form may be redrawn by a sync right after its save, and
		// its "Saved." with it: the page's announcement stays.
		await page.locator("#announce", { hasText: t("scope_saved",
		    { scope: t("scope_word_private") }) }).waitFor();
		if ((await apiGet("/scope")).body.scope !== "private")
			throw new Error("not stored");
		await shot("scope");
		await openAna();
		if (!await page.locator("form.note-form").getByLabel(
		    t("f_scope_private"), EXACT).isChecked())
			throw new Error("a new note is not private by default");
		await page.getByRole("link", { name: t("nav_sync") }).click();
		await page.locator("form.scope-form").getByLabel(
		    t("scope_default"), EXACT).selectOption("team");
		await page.locator("form.scope-form").getByRole("button",
		    { name: t("save") }).click();
		await until("team again", async () =>
		    (await apiGet("/scope")).body.scope === "team");
	});

	await check("a unit's name and dates are edited; a bad end is refused",
	    async () => {
		await page.getByRole("link", { name: t("nav_units") }).click();
		const li = page.locator("ul.units li", { hasText: "Fractions" });
		const id = await li.getAttribute("data-id");
		await li.locator("[data-key^=edit-]").click();
		const form = page.locator("form.edit-form");
		await form.getByLabel(t("f_until"), EXACT).fill(inDays(-400));
		await form.getByRole("button", { name: t("save") }).click();
		await form.locator(".form-msg.error", { hasText: "before" })
		    .waitFor();
		await form.getByLabel(t("f_unit_name"), EXACT)
		    .fill("Fractions and decimals");
		await form.getByLabel(t("f_from"), EXACT).fill(inDays(-7));
		await form.getByLabel(t("f_until"), EXACT).fill(inDays(21));
		await form.getByRole("button", { name: t("save") }).click();
		await byText("ul.units a", "Fractions and decimals").waitFor();
		const f = (await rec(id)).fields;
		if (f.from !== inDays(-7) || f.until !== inDays(21))
			throw new Error(`stored: ${JSON.stringify(f)}`);
		await shot("units-edited");
	});

	await check("a group's dates are set; a group ended leaves the board",
	    async () => {
		await page.getByRole("link", { name: t("nav_groups") }).click();
		const dates = page.locator("section.group-dates");
		const li = dates.locator("li").first();
		const name = await li.locator("strong").innerText();
		const id = await li.getAttribute("data-id");
		await li.locator("[data-key^=edit-]").click();
		const form = page.locator("form.edit-form");
		await form.getByLabel(t("f_from"), EXACT).fill(inDays(-60));
		await form.getByLabel(t("f_until"), EXACT).fill(inDays(-1));
		await form.getByRole("button", { name: t("save") }).click();
		await dates.locator(`li[data-id="${id}"] .badge`, { hasText:
		    t("group_ended") }).waitFor();
		await until("the ended group to leave the board", async () =>
		    await page.locator(`.board .column[data-group="${id}"]`)
		    .count() === 0);
		await shot("group-dates");
		const f = (await rec(id)).fields;
		if (f.until !== inDays(-1))
			throw new Error(`stored: ${JSON.stringify(f)}`);
		// Running again, for the checks after these.
		await dates.locator(`li[data-id="${id}"] [data-key^=edit-]`)
		    .click();
		await page.locator("form.edit-form").getByLabel(t("f_until"),
		    EXACT).fill(inDays(60));
		await page.locator("form.edit-form").getByRole("button",
		    { name: t("save") }).click();
		await page.locator(`.board .column[data-group="${id}"]`)
		    .waitFor();
		void name;
	});

	await check("a student is deleted, and brought back from her page",
	    async () => {
		const ben = (await apiGet("/students")).body.students
		    .find((s) => s.fields.name === "Ben Okafor");
		await page.goto(studentUrl(ben.id));
		await byText("h1", "Ben Okafor").waitFor();
		await page.locator(`[data-key="del-${ben.id}"]`).click();
		await page.locator(".deleted-banner").waitFor();
		if ((await apiGet("/students")).body.students.some((s) =>
		    s.id === ben.id))
			throw new Error("still in the class list");
		await shot("student-deleted");
		await page.locator(`.deleted-banner [data-key="undel-${ben.id}"]`)
		    .click();
		await page.locator(".deleted-banner").waitFor({ state: "detached" });
		if (!(await apiGet("/students")).body.students.some((s) =>
		    s.id === ben.id))
			throw new Error("not back in the class list");
	});

	await check("a unit deleted is brought back later, from the deleted list",
	    async () => {
		await page.getByRole("link", { name: t("nav_units") }).click();
		const li = page.locator("ul.units li", { hasText:
		    "Fractions and decimals" });
		const id = await li.getAttribute("data-id");
		await li.locator("[data-key^=del-]").click();
		await until("the unit to leave the list", async () =>
		    await page.locator("ul.units li", { hasText:
		    "Fractions and decimals" }).count() === 0);
		await page.locator(".undo-bar button.link").click();
		const gone = page.locator("details.deleted-list");
		await gone.locator("summary").click();
		await gone.locator(`li[data-id="${id}"] [data-key^=undel-]`)
		    .click();
		await byText("ul.units a", "Fractions and decimals").waitFor();
		if ((await rec(id)).deleted)
			throw new Error("still deleted in the store");
		await gone.locator("p.muted", { hasText: t("none") }).waitFor();
	});

	await check("at tablet width: editing and the undo bar fit", async () => {
		await page.setViewportSize({ width: 768, height: 1024 });
		await openAna();
		await item("Talk to the counsellor").locator("[data-key^=edit-]")
		    .click();
		const form = page.locator("form.edit-form");
		const box = await form.boundingBox();
		if (!box || box.x < 0 || box.x + box.width > 768)
			throw new Error(`the form is ${JSON.stringify(box)}`);
		await shot("edit-tablet");
		await form.getByRole("button", { name: t("cancel") }).click();
		await page.setViewportSize({ width: 1280, height: 900 });
	});
}
