/*
 * The operations that write, with no face: typed inputs in, 0 or an exit
 * code out, the reason said through fail_usage and friends (util.c), so
 * that the command line (cmd_write.c) prints it and the page's API
 * (http/) catches it in a struct ops_err. Each checks everything first,
 * then builds one change and commits it in one transaction: an error
 * leaves the store exactly as it was, and what a peer would refuse is
 * never written (proto_change_validate, the check every peer makes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"

static int
begin(struct device *d, struct store_txn **t)
{
	int rc = store_begin(d->st, 0, t);

	return rc == 0 ? 0 : device_store_error(rc, "cannot write");
}

static int
abort_with(struct store_txn *t, int rc)
{
	store_abort(t);
	return rc;
}

/* Appends the n changes of cs and commits, all or nothing. */
static int
finish_scoped(struct device *d, struct store_txn *t, const struct change *cs,
    int n, uint8_t scope)
{
	const char *why;
	int rc;

	for (int i = 0; i < n; i++) {
		if (proto_change_validate(&cs[i], PROTO_KEY_CONTENT,
		    &why) != 0) {
			store_abort(t);
			return fail_usage("cannot write this change: %s", why);
		}
		if ((rc = device_write_scoped(d, t, &cs[i], scope)) != 0) {
			store_abort(t);
			return device_store_error(rc, "write failed");
		}
	}
	if ((rc = store_commit(t)) != 0)
		return device_store_error(rc, "write failed");
	return 0;
}

static int
finish_many(struct device *d, struct store_txn *t, const struct change *cs,
    int n)
{
	return finish_scoped(d, t, cs, n, SCOPE_TEAM);
}

/*
 * The scope a new note or entry is written in: as asked ("private" or
 * "team"), else this device's default (satchel scope). Private needs the
 * personal key, which a device made before recovery phrases lacks.
 */
static int
scope_of(struct device *d, struct store_txn *t, const char *asked,
    uint8_t *scope)
{
	const void *v;
	size_t len;

	if (asked == NULL && store_meta_get(t, "default_scope", &v, &len) ==
	    0 && len == 7 && memcmp(v, "private", 7) == 0)
		asked = "private";
	if (asked == NULL || strcmp(asked, "team") == 0) {
		*scope = SCOPE_TEAM;
		return 0;
	}
	if (strcmp(asked, "private") != 0)
		return fail_usage("scope: '%s' is neither private nor team",
		    asked);
	if (d->personal == NULL)
		return fail_usage("private: this device has no personal key "
		    "(it was made before recovery phrases); make one with "
		    "'satchel init --recover' in a new data directory");
	*scope = SCOPE_PRIVATE;
	return 0;
}

static int
first_scope_cb(const uint8_t *env, size_t len, void *arg)
{
	struct envelope e;

	if (proto_envelope_decode(&e, env, len) == 0)
		*(uint8_t *)arg = e.scope;
	return 1;	/* the entry that made it is enough */
}

/* A private record stays private: a change to it is sealed like the
 * entry that made it. */
uint8_t
ops_record_scope(struct store_txn *t, const struct record *r)
{
	uint8_t scope = SCOPE_TEAM;

	/* A history that cannot be read leaves the team's scope, which
	 * only a damaged store could make wrong; verify says so. */
	if (store_history_each(t, r->id, first_scope_cb, &scope) != 0)
		scope = SCOPE_TEAM;
	return scope;
}

static int
finish_new(struct device *d, struct store_txn *t, const struct change *c,
    uint8_t *id, uint8_t scope)
{
	int rc = finish_scoped(d, t, c, 1, scope);

	if (rc == 0 && id != NULL)
		memcpy(id, c->record_id, PROTO_RECIDLEN);
	return rc;
}

static int
finish(struct device *d, struct store_txn *t, const struct change *c,
    uint8_t *id)
{
	return finish_new(d, t, c, id, SCOPE_TEAM);
}

/* What a field is called in a message: its flag on the command line, its
 * JSON name on the page. */
static void
field_label(const struct field_def *f, char *out, size_t len)
{
	if (err_capturing() || f->flag == NULL)
		snprintf(out, len, "%s", f->name);
	else
		snprintf(out, len, "--%s", f->flag);
}

/* The model's check (text class, dates, emptiness), then the schema's,
 * which knows choices and scores: one message naming the field. */
static int
check_field(uint8_t kind, const struct field_def *f, const char *value)
{
	const struct proto_field *pf;
	const char *why;
	char label[48];
	int rc;

	if ((rc = model_check_field(f, value)) != 0)
		return rc;
	pf = proto_field_find(kind, f->name, strlen(f->name));
	if (pf != NULL && proto_value_check(pf, value, strlen(value),
	    &why) != 0) {
		field_label(f, label, sizeof(label));
		return fail_usage("%s: '%s' %s", label, value, why);
	}
	return 0;
}

static const struct field_def *
field_named(const struct kind_def *k, const char *name)
{
	for (const struct field_def *f = k->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* Sets each named field that has a value (NULL values are skipped). */
static int
set_fields(struct change *c, const struct record *r,
    const struct kind_def *k, const char *const *names,
    const char *const *values, int n)
{
	for (int i = 0; i < n; i++) {
		const struct field_def *f = field_named(k, names[i]);
		int rc;

		if (values[i] == NULL)
			continue;
		if (f == NULL)
			return fail_usage("a %s has no field '%s'", k->name,
			    names[i]);
		if ((rc = check_field(k->kind, f, values[i])) != 0)
			return rc;
		if (change_set(c, r, f->name, values[i]) != 0)
			return fail_usage("too many changes at once");
	}
	return 0;
}

/*
 * A new record's id. Notes and entries, which a class makes by the
 * thousand, take RFC 9562's UUIDv7 layout: 48 bits of Unix milliseconds,
 * then the version (7), 12 random bits, the variant (binary 10) and 62
 * random bits. A sync's new notes then go to the end of the records'
 * 'K' index instead of to random places of it, where each commit
 * rewrote most of its pages and looked each new id up in a cold one.
 *
 * What it shows, and to whom: the time the note was made, to the
 * millisecond by its author's wall clock, to whoever sees its id. On the
 * wire it travels inside the entry's seal, so a box or a relay never
 * sees it; those who can read the note see that time anyway (its
 * history and a family's export give it). At rest, a device's data.mdb
 * holds record ids in the clear (the 'K' and 'S' index keys, the
 * records table's keys, an erased child's notes' ids): someone with a
 * copy of the folder and no keys learns when each note was made, which
 * the 'S' keys' creation clock and the log's entry headers already
 * tell, but not by whom or what it says. Students, groups, goals and units, which
 * people name by id prefixes, keep random ids; a note's short id in
 * `show` is as long as it must be to name it alone (store_record_prefix).
 */
void
ops_record_id(uint8_t kind, uint8_t id[PROTO_RECIDLEN])
{
	uint64_t ms = now_ms();

	randombytes_buf(id, PROTO_RECIDLEN);
	if (kind != KIND_NOTE && kind != KIND_ENTRY)
		return;
	for (int i = 0; i < 6; i++)
		id[i] = (uint8_t)(ms >> (40 - 8 * i));
	id[6] = (uint8_t)(0x70 | (id[6] & 0x0f));
	id[8] = (uint8_t)(0x80 | (id[8] & 0x3f));
}

static void
new_change(struct change *c, uint8_t kind)
{
	uint8_t id[PROTO_RECIDLEN];

	ops_record_id(kind, id);
	change_init(c, kind, id);
}

static int
require(const char *what, const char *value)
{
	if (value == NULL)
		return fail_usage("%s%s is required", err_capturing() ? "" :
		    "--", what);
	return 0;
}

int
ops_student_add(struct device *d, const struct ops_student *in, uint8_t *id)
{
	const char *names[] = { "name", "class", "strengths", "needs",
	    "interests", "goals" };
	const char *values[] = { in->name, in->class_, in->strengths,
	    in->needs, in->interests, in->goals };
	struct change c;
	struct store_txn *t;
	int rc;

	if (in->name == NULL)
		return fail_usage("a student needs a name");
	new_change(&c, KIND_STUDENT);
	if ((rc = set_fields(&c, NULL, model_kind(KIND_STUDENT), names,
	    values, 6)) != 0)
		return rc;
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if (!in->same_name &&
	    (rc = resolve_name_unused(t, in->name, KIND_STUDENT)) != 0)
		return abort_with(t, rc);
	return finish(d, t, &c, id);
}

/* Resolves a live record of kind and sets field of the change to its id. */
static int
set_ref(struct store_txn *t, struct change *c, const char *field,
    uint8_t kind, const char *arg, char hex[2 * PROTO_RECIDLEN + 1])
{
	struct record *s;
	int rc;

	if ((rc = resolve_record(t, arg, kind, &s)) != 0)
		return rc;
	if (record_deleted(s)) {
		record_free(s);
		return fail_usage("%s '%s' is deleted (satchel undelete "
		    "to bring it back)", model_kind_name(kind), arg);
	}
	hex_id(hex, s->id);
	record_free(s);
	/* The change borrows hex, which the caller keeps until written. */
	return change_set(c, NULL, field, hex) == 0 ? 0 :
	    fail_usage("too many changes at once");
}

/* A note or an entry: its fields, a date (today if none), the author. */
static int
add_dated(struct device *d, uint8_t kind, const char *const *names,
    const char *const *values, int n, struct change *c)
{
	static char date[11];
	int rc;

	new_change(c, kind);
	if ((rc = set_fields(c, NULL, model_kind(kind), names, values,
	    n)) != 0)
		return rc;
	if (values[0] == NULL) {	/* names[0] is "date" */
		today(date);
		if (change_set(c, NULL, "date", date) != 0)
			return fail_usage("too many changes at once");
	}
	if (change_set(c, NULL, "author", d->name) != 0)
		return fail_usage("too many changes at once");
	return 0;
}

/* A follow-up comes on or after the note's date (today if none). */
static int
check_follow_up(const char *date, const char *follow_up)
{
	char now[11];

	if (date == NULL)
		today(now);
	return model_check_follow_up(date ? date : now, follow_up);
}

int
ops_note_add(struct device *d, const struct ops_note *in, uint8_t *id)
{
	const char *names[] = { "date", "strengths", "obstacle", "action",
	    "follow_up", "student_words" };
	const char *values[] = { in->date, in->strengths, in->obstacle,
	    in->action, in->follow_up, in->student_words };
	char hex[2 * PROTO_RECIDLEN + 1];
	struct change c;
	struct store_txn *t;
	uint8_t scope;
	int rc;

	if ((rc = require("strengths", in->strengths)) != 0 ||
	    (rc = require("obstacle", in->obstacle)) != 0 ||
	    (rc = require("action", in->action)) != 0 ||
	    (rc = require("student", in->student)) != 0)
		return rc;
	if ((rc = check_follow_up(in->date, in->follow_up)) != 0 ||
	    (rc = add_dated(d, KIND_NOTE, names, values, 6, &c)) != 0)
		return rc;
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = set_ref(t, &c, "student", KIND_STUDENT, in->student,
	    hex)) != 0 || (rc = scope_of(d, t, in->scope, &scope)) != 0)
		return abort_with(t, rc);
	return finish_new(d, t, &c, id, scope);
}

static int
set_has(const struct record *r, const char *field, const char *elem)
{
	const struct rec_set *s = r ? record_set(r, field) : NULL;

	for (size_t i = 0; s != NULL && i < s->nelems; i++)
		if (strcmp(s->elems[i].value, elem) == 0)
			return rec_elem_present(&s->elems[i]);
	return 0;
}

static size_t
set_count(const struct record *r, const char *field)
{
	/* field is NULL when the kind has no set and no value is added. */
	const struct rec_set *s = r && field ? record_set(r, field) : NULL;
	size_t n = 0;

	for (size_t i = 0; s != NULL && i < s->nelems; i++)
		n += rec_elem_present(&s->elems[i]) != 0;
	return n;
}

/* Adds the values r does not hold yet: adding a tag twice must not leave
 * two add tags for a later remove to chase. A set is kept to what one
 * record can carry to every device. */
static int
add_elems(struct change *c, const struct record *r, const char *field,
    const char *const *elems, int n)
{
	if (n > 0 && field == NULL)
		return fail_usage("this kind of record has no set");
	if (n > 0 && set_count(r, field) + (size_t)n > PROTO_MAX_SET_ELEMS)
		return fail_usage("%s: at most %d values (remove some first)",
		    field, PROTO_MAX_SET_ELEMS);
	for (int i = 0; i < n; i++) {
		const char *why = text_problem(elems[i], 256, PROTO_TEXT_LINE);

		if (why != NULL || *elems[i] == '\0')
			return fail_usage("%s: %s", field, why ? why :
			    "must not be empty");
		if (set_has(r, field, elems[i]))
			continue;
		if (change_add(c, field, elems[i]) != 0)
			return fail_usage("too many values at once");
	}
	return 0;
}

int
ops_entry_add(struct device *d, const struct ops_entry *in, uint8_t *id)
{
	const char *names[] = { "date", "title", "body", "slice", "score" };
	const char *values[] = { in->date, in->title, in->body, in->slice,
	    in->score };
	char hex[2][2 * PROTO_RECIDLEN + 1];
	struct change c;
	struct store_txn *t;
	uint8_t scope;
	int rc;

	if ((rc = require("title", in->title)) != 0 ||
	    (rc = require("student", in->student)) != 0)
		return rc;
	if ((in->slice != NULL || in->score != NULL) && in->unit == NULL)
		return fail_usage("a slice or a score belongs to a unit: "
		    "name the unit too");
	if ((rc = add_dated(d, KIND_ENTRY, names, values, 5, &c)) != 0)
		return rc;
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = set_ref(t, &c, "student", KIND_STUDENT, in->student,
	    hex[0])) != 0 || (in->unit != NULL &&
	    (rc = set_ref(t, &c, "unit", KIND_UNIT, in->unit, hex[1])) != 0) ||
	    (rc = add_elems(&c, NULL, "tags", in->tags, in->ntags)) != 0 ||
	    (rc = scope_of(d, t, in->scope, &scope)) != 0)
		return abort_with(t, rc);
	return finish_new(d, t, &c, id, scope);
}

int
ops_unit_add(struct device *d, const struct ops_unit *in, uint8_t *id)
{
	const char *names[] = { "name", "from", "until" };
	const char *values[] = { in->name, in->from, in->until };
	struct change c;
	struct store_txn *t;
	int rc;

	if ((rc = require("name", in->name)) != 0)
		return rc;
	if (in->from != NULL && in->until != NULL &&
	    strcmp(in->from, in->until) > 0)
		return fail_usage("a unit ends after it starts (until is "
		    "before from)");
	new_change(&c, KIND_UNIT);
	if ((rc = set_fields(&c, NULL, model_kind(KIND_UNIT), names, values,
	    3)) != 0)
		return rc;
	if ((rc = begin(d, &t)) != 0)
		return rc;
	return finish(d, t, &c, id);
}

int
ops_group_add(struct device *d, const struct ops_group *in, uint8_t *id)
{
	static char hex[PROTO_MAX_OPS][2 * PROTO_RECIDLEN + 1];
	const char *ids[PROTO_MAX_OPS];
	const char *names[] = { "name", "type", "from", "until" };
	const char *values[] = { in->name, in->type, in->from, in->until };
	struct change c;
	struct store_txn *t;
	int rc;

	if (in->type == NULL || (strcmp(in->type, "same-need") != 0 &&
	    strcmp(in->type, "mixed") != 0))
		return fail_usage("group add: say --same-need (a lettered "
		    "group) or --mixed (a numbered group)");
	if ((rc = require("name", in->name)) != 0)
		return rc;
	if (in->nmembers > PROTO_MAX_OPS - 4)
		return fail_usage("too many members at once");
	new_change(&c, KIND_GROUP);
	if ((rc = set_fields(&c, NULL, model_kind(KIND_GROUP), names, values,
	    4)) != 0)
		return rc;
	if ((rc = begin(d, &t)) != 0)
		return rc;
	for (int i = 0; i < in->nmembers; i++) {
		struct record *s;

		if ((rc = resolve_record(t, in->members[i], KIND_STUDENT,
		    &s)) != 0)
			return abort_with(t, rc);
		hex_id(hex[i], s->id);
		ids[i] = hex[i];
		record_free(s);
	}
	if ((rc = add_elems(&c, NULL, "members", ids, in->nmembers)) != 0)
		return abort_with(t, rc);
	return finish(d, t, &c, id);
}

/* One student out of one group (join 0) or into it (join 1), as one
 * change appended to cs[*n]. */
static int
member_change(struct store_txn *t, const char *group, const char *student,
    int join, struct change *cs, int *n)
{
	static char hex[2][2 * PROTO_RECIDLEN + 1];
	struct record *g = NULL, *s = NULL;
	int rc;

	if ((rc = resolve_record(t, group, KIND_GROUP, &g)) != 0 ||
	    (rc = resolve_record(t, student, KIND_STUDENT, &s)) != 0)
		goto out;
	hex_id(hex[*n], s->id);
	if (join == set_has(g, "members", hex[*n])) {
		rc = fail_usage("'%s' is %s in '%s'", student, join ?
		    "already" : "not", group);
		goto out;
	}
	change_init(&cs[*n], KIND_GROUP, g->id);
	rc = join ? change_add(&cs[*n], "members", hex[*n]) :
	    change_remove(&cs[*n], g, "members", hex[*n]);
	if (rc != 0)
		rc = fail_usage("too many changes at once");
	else if (join && set_count(g, "members") >= PROTO_MAX_SET_ELEMS)
		rc = fail_usage("members: at most %d values (remove some "
		    "first)", PROTO_MAX_SET_ELEMS);
	else
		(*n)++;
out:
	record_free(g);
	record_free(s);
	return rc;
}

/* from (may be NULL: a join) to (may be NULL: a leave), in one
 * transaction: a move is never half done. */
int
ops_group_move(struct device *d, const char *student, const char *from,
    const char *to)
{
	struct change *cs;
	struct store_txn *t;
	int rc, n = 0;

	if (from == NULL && to == NULL)
		return fail_usage("say which group the student leaves or joins");
	if ((cs = calloc(2, sizeof(*cs))) == NULL)
		return fail("out of memory");
	if ((rc = begin(d, &t)) != 0)
		goto out;
	if ((from != NULL && (rc = member_change(t, from, student, 0, cs,
	    &n)) != 0) || (to != NULL && (rc = member_change(t, to, student,
	    1, cs, &n)) != 0)) {
		store_abort(t);
		goto out;
	}
	if (n == 2 && memcmp(cs[0].record_id, cs[1].record_id,
	    PROTO_RECIDLEN) == 0) {
		store_abort(t);
		rc = fail_usage("the student is moved into the group it leaves");
		goto out;
	}
	rc = finish_many(d, t, cs, n);
out:
	free(cs);
	return rc;
}

/* "cp3_date" and its kin. */
static void
cp_field(char out[24], int n, const char *what)
{
	snprintf(out, 24, "cp%d_%s", n, what);
}

static int
check_checkpoint(const char *date, const char *text)
{
	const char *why;

	if (date == NULL || !valid_date(date))
		return fail_usage("checkpoint: '%s' is not a date (YYYY-MM-DD)",
		    date ? date : "");
	if (text == NULL || (why = text_problem(text, 4096,
	    PROTO_TEXT_LINE)) != NULL || *text == '\0')
		return fail_usage("checkpoint: the text after the date: %s",
		    text == NULL || *text == '\0' ? "must not be empty" : why);
	return 0;
}

int
ops_goal_add(struct device *d, const struct ops_goal *in, uint8_t *id)
{
	static char names[GOAL_MAX_CHECKPOINTS][3][24];
	static char count[12];
	const struct field_def text_def = { "text", "text", F_TEXT, 1 };
	char hex[2 * PROTO_RECIDLEN + 1];
	struct change c;
	struct store_txn *t;
	int rc;

	if (in->ncp > GOAL_MAX_CHECKPOINTS)
		return fail_usage("goal add: at most %d checkpoints",
		    GOAL_MAX_CHECKPOINTS);
	if ((rc = require("text", in->text)) != 0 ||
	    (rc = check_field(KIND_GOAL, &text_def, in->text)) != 0 ||
	    (rc = require("student", in->student)) != 0)
		return rc;
	new_change(&c, KIND_GOAL);
	snprintf(count, sizeof(count), "%d", in->ncp);
	if (change_set(&c, NULL, "text", in->text) != 0 ||
	    change_set(&c, NULL, "checkpoints", count) != 0)
		return fail_usage("too many changes at once");
	for (int i = 0; i < in->ncp; i++) {
		if ((rc = check_checkpoint(in->cp_date[i], in->cp_text[i])) !=
		    0)
			return rc;
		cp_field(names[i][0], i + 1, "date");
		cp_field(names[i][1], i + 1, "text");
		cp_field(names[i][2], i + 1, "done");
		if (change_set(&c, NULL, names[i][0], in->cp_date[i]) != 0 ||
		    change_set(&c, NULL, names[i][1], in->cp_text[i]) != 0 ||
		    change_set(&c, NULL, names[i][2], "no") != 0)
			return fail_usage("too many changes at once");
	}
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = set_ref(t, &c, "student", KIND_STUDENT, in->student,
	    hex)) != 0)
		return abort_with(t, rc);
	return finish(d, t, &c, id);
}

/* The goal and the number of its checkpoint n, checked. */
static int
goal_checkpoint(struct store_txn *t, const char *goal, long n,
    struct record **g)
{
	const char *count;
	int rc;

	if (n < 1 || n > GOAL_MAX_CHECKPOINTS)
		return fail_usage("goal check: '%ld' is not a checkpoint number",
		    n);
	if ((rc = resolve_record(t, goal, KIND_GOAL, g)) != 0)
		return rc;
	count = record_get(*g, "checkpoints");
	if (count == NULL || n > atol(count)) {
		rc = fail_usage("goal check: this goal has %s checkpoints",
		    count ? count : "no");
		record_free(*g);
		*g = NULL;
	}
	return rc;
}

/*
 * Changes checkpoint n of a goal: done (1, 0, or -1 to leave it) and a
 * new date (NULL to leave it). A moved date keeps its history: the log
 * holds every date the checkpoint had (see ops_checkpoint_dates).
 */
int
ops_checkpoint_set(struct device *d, const char *goal, long n, int done,
    const char *date)
{
	char fdone[24], fdate[24];
	struct record *g;
	struct change c;
	struct store_txn *t;
	int rc;

	if (date != NULL && !valid_date(date))
		return fail_usage("checkpoint: '%s' is not a date (YYYY-MM-DD)",
		    date);
	if (done < 0 && date == NULL)
		return fail_usage("checkpoint: nothing to change");
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = goal_checkpoint(t, goal, n, &g)) != 0)
		return abort_with(t, rc);
	cp_field(fdone, (int)n, "done");
	cp_field(fdate, (int)n, "date");
	change_init(&c, KIND_GOAL, g->id);
	rc = 0;
	if (done >= 0)
		rc = change_set(&c, g, fdone, done ? "yes" : "no");
	if (rc == 0 && date != NULL)
		rc = change_set(&c, g, fdate, date);
	record_free(g);
	if (rc != 0)
		return abort_with(t, fail_usage("too many changes at once"));
	return finish(d, t, &c, NULL);
}

/* Adds a checkpoint at the end of a goal's list. */
int
ops_checkpoint_add(struct device *d, const char *goal, const char *date,
    const char *text)
{
	char f[3][24], count[24];
	struct record *g;
	struct change c;
	struct store_txn *t;
	long n;
	int rc;

	if ((rc = check_checkpoint(date, text)) != 0)
		return rc;
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = resolve_record(t, goal, KIND_GOAL, &g)) != 0)
		return abort_with(t, rc);
	n = atol(record_get(g, "checkpoints") ? record_get(g, "checkpoints") :
	    "0") + 1;
	if (n > GOAL_MAX_CHECKPOINTS) {
		record_free(g);
		return abort_with(t, fail_usage("a goal has at most %d "
		    "checkpoints", GOAL_MAX_CHECKPOINTS));
	}
	snprintf(count, sizeof(count), "%ld", n);
	cp_field(f[0], (int)n, "date");
	cp_field(f[1], (int)n, "text");
	cp_field(f[2], (int)n, "done");
	change_init(&c, KIND_GOAL, g->id);
	rc = change_set(&c, g, "checkpoints", count) != 0 ||
	    change_set(&c, g, f[0], date) != 0 ||
	    change_set(&c, g, f[1], text) != 0 ||
	    change_set(&c, g, f[2], "no") != 0;
	record_free(g);
	if (rc != 0)
		return abort_with(t, fail_usage("too many changes at once"));
	return finish(d, t, &c, NULL);
}

/*
 * A field's version, as the page shows it and names it back: each head
 * of the register as the first 16 hex digits of its author and its seq,
 * comma separated, winner first; "" for a field never set. A field
 * changed by anyone since has another version.
 */
void
ops_field_version(const struct record *r, const char *field, char *out,
    size_t len)
{
	const struct rec_register *reg = r ? record_register(r, field) : NULL;
	char hex[2 * PROTO_IDLEN + 1];
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; reg != NULL && i < reg->nheads && used < len; i++) {
		int n;

		sodium_bin2hex(hex, sizeof(hex), reg->heads[i].ref.author,
		    PROTO_IDLEN);
		n = snprintf(out + used, len - used, "%s%.16s:%llu",
		    i ? "," : "", hex,
		    (unsigned long long)reg->heads[i].ref.seq);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Sets the edit's fields, each after checking the version the editor saw
 * (where it names one): one changed meanwhile refuses the whole edit. */
/* A note's follow-up stays on or after its date, whichever the edit
 * moves. */
static int
edited_follow_up(const struct record *r, const struct ops_edit *in)
{
	const char *date = record_get(r, "date");
	const char *follow = record_get(r, "follow_up");
	int moved = 0;

	for (int i = 0; i < in->n; i++) {
		if (strcmp(in->field[i], "date") == 0)
			date = in->value[i], moved = 1;
		else if (strcmp(in->field[i], "follow_up") == 0)
			follow = in->value[i], moved = 1;
	}
	return moved ? model_check_follow_up(date, follow) : 0;
}

/* A unit's or a group's until stays on or after its from, whichever the
 * edit moves (the check unit add makes). */
static int
edited_span(const struct record *r, const struct ops_edit *in)
{
	const char *from = record_get(r, "from");
	const char *until = record_get(r, "until");

	for (int i = 0; i < in->n; i++) {
		if (strcmp(in->field[i], "from") == 0)
			from = in->value[i];
		else if (strcmp(in->field[i], "until") == 0)
			until = in->value[i];
	}
	if (from != NULL && until != NULL && strcmp(from, until) > 0)
		return fail_usage("a %s cannot end before it starts (until %s is "
		    "before from %s)", model_kind_name(r->kind), until, from);
	return 0;
}

static int
edit_fields(struct change *c, const struct record *r,
    const struct kind_def *k, const struct ops_edit *in)
{
	char now[OPS_VERSION_MAX];
	int rc;

	for (int i = 0; i < in->n; i++) {
		const struct field_def *f = field_named(k, in->field[i]);

		if (f == NULL || f->flag == NULL)
			return fail_usage("%s: a %s's field '%s' cannot be "
			    "edited", k->name, k->name, in->field[i]);
		if (in->version[i] != NULL) {
			ops_field_version(r, f->name, now, sizeof(now));
			if (strcmp(now, in->version[i]) != 0) {
				rc = fail_conflict(f->name, "%s was changed "
				    "meanwhile (by a sync or another window)",
				    f->name);
				return rc;
			}
		}
		if ((rc = check_field(k->kind, f, in->value[i])) != 0)
			return rc;
		if (change_set(c, r, f->name, in->value[i]) != 0)
			return fail_usage("too many changes at once");
	}
	if (k->kind == KIND_UNIT || k->kind == KIND_GROUP)
		return edited_span(r, in);
	return k->kind == KIND_NOTE ? edited_follow_up(r, in) : 0;
}

/* Changes fields and set elements of one record of in->kind (0: any but
 * a member's). Nothing to change, after all, is not an error: *changed
 * says whether anything was written. */
int
ops_edit(struct device *d, const struct ops_edit *in, int *changed)
{
	const struct kind_def *k;
	struct record *r;
	struct change c;
	struct store_txn *t;
	uint8_t scope;
	int rc;

	*changed = 0;
	if (in->n + in->nadd + in->nrem == 0)
		return fail_usage("nothing to change");
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = resolve_record(t, in->record, in->kind, &r)) != 0)
		return abort_with(t, rc);
	if ((k = model_kind(r->kind)) == NULL || r->kind == KIND_MEMBER) {
		rc = fail_usage("'%s' is a team member's record: change it "
		    "with satchel member add", in->record);
		goto out;
	}
	change_init(&c, k->kind, r->id);
	if ((rc = edit_fields(&c, r, k, in)) != 0 ||
	    (rc = add_elems(&c, r, k->set_field, in->add, in->nadd)) != 0)
		goto out;
	for (int i = 0; i < in->nrem; i++)
		if (k->set_field == NULL ||
		    change_remove(&c, r, k->set_field, in->rem[i]) != 0) {
			rc = fail_usage("cannot remove '%s'", in->rem[i]);
			goto out;
		}
	scope = ops_record_scope(t, r);
	record_free(r);
	if (c.nops == 0) {	/* every tag asked for is there already */
		store_abort(t);
		return 0;
	}
	*changed = 1;
	return finish_scoped(d, t, &c, 1, scope);
out:
	record_free(r);
	return abort_with(t, rc);
}

/* Resolves any record a generic operation may change: not a member's,
 * which only the member commands write (under the network key). */
static int
resolve_content(struct store_txn *t, const char *arg, struct record **r)
{
	int rc = resolve_record(t, arg, 0, r);

	if (rc == 0 && (*r)->kind == KIND_MEMBER) {
		record_free(*r);
		*r = NULL;
		return fail_usage("'%s' is a team member's record: change it "
		    "with satchel member add (see satchel member --help)", arg);
	}
	return rc;
}

/* A delete/undelete conflict is settled by either command, whatever the
 * winner: the new write replaces both. */
static int
tombstone_conflict(const struct record *r)
{
	const struct rec_register *reg = record_register(r,
	    RECORD_DELETED_FIELD);

	return reg != NULL && reg->nheads > 1;
}

int
ops_tombstone(struct device *d, const char *arg, int deleted)
{
	struct record *r;
	struct change c;
	struct store_txn *t;
	uint8_t scope;
	int rc;

	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = resolve_content(t, arg, &r)) != 0)
		return abort_with(t, rc);
	if (record_deleted(r) == deleted && !tombstone_conflict(r)) {
		record_free(r);
		return abort_with(t, fail_usage("'%s' is %s", arg,
		    deleted ? "already deleted" : "not deleted"));
	}
	change_init(&c, r->kind, r->id);
	rc = change_tombstone(&c, r, deleted);
	scope = ops_record_scope(t, r);
	record_free(r);
	if (rc != 0)
		return abort_with(t, fail_usage("cannot build the change"));
	return finish_scoped(d, t, &c, 1, scope);
}

/* Finds the head named "AUTHOR-PREFIX:SEQ" in a register. */
static const struct rec_write *
find_head(const struct rec_register *reg, const char *ref)
{
	char hex[2 * PROTO_IDLEN + 1];
	const char *colon = strrchr(ref, ':');
	const struct rec_write *found = NULL;

	if (reg == NULL || colon == NULL || colon == ref)
		return NULL;
	for (size_t i = 0; i < reg->nheads; i++) {
		const struct rec_write *w = &reg->heads[i];

		sodium_bin2hex(hex, sizeof(hex), w->ref.author, PROTO_IDLEN);
		if (strncmp(hex, ref, (size_t)(colon - ref)) == 0 &&
		    strtoull(colon + 1, NULL, 10) == w->ref.seq) {
			if (found != NULL)
				return NULL;
			found = w;
		}
	}
	return found;
}

/* Puts a conflict's losing value back; the new write replaces every head,
 * which settles the conflict. */
int
ops_restore(struct device *d, const char *arg, const char *field,
    const char *ref)
{
	const struct rec_register *reg;
	const struct rec_write *w;
	struct record *r;
	struct change c;
	struct store_txn *t;
	int rc;

	if (field[0] == '_')
		return fail_usage("restore: %s is Satchel's own; settle a "
		    "delete/undelete conflict with satchel delete or satchel "
		    "undelete", field);
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = resolve_content(t, arg, &r)) != 0)
		return abort_with(t, rc);
	reg = record_register(r, field);
	if ((w = find_head(reg, ref)) == NULL) {
		record_free(r);
		return abort_with(t, fail_usage("restore: no value of %s "
		    "written by %s (see satchel conflicts)", field, ref));
	}
	change_init(&c, r->kind, r->id);
	rc = change_set(&c, r, reg->name, w->value);
	if (rc != 0) {
		record_free(r);
		return abort_with(t, fail_usage("cannot build the change"));
	}
	rc = finish_scoped(d, t, &c, 1, ops_record_scope(t, r));
	record_free(r);
	return rc;
}

/* The default scope of new notes and entries on this device (satchel
 * scope), kept in the store's meta: "private" or "team". */
int
ops_scope_get(struct device *d, const char **scope)
{
	struct store_txn *t;
	const void *v;
	size_t len;
	int rc, priv;

	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		return device_store_error(rc, "scope");
	priv = store_meta_get(t, "default_scope", &v, &len) == 0 &&
	    len == 7 && memcmp(v, "private", 7) == 0;
	store_abort(t);
	*scope = priv ? "private" : "team";
	return 0;
}

int
ops_scope_set(struct device *d, const char *scope)
{
	struct store_txn *t;
	int rc;

	if (strcmp(scope, "private") != 0 && strcmp(scope, "team") != 0)
		return fail_usage("scope: '%s' is neither private nor team",
		    scope);
	if (strcmp(scope, "private") == 0 && d->personal == NULL)
		return fail_usage("scope: this device has no personal key (a "
		    "box, or made before recovery phrases)");
	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return device_store_error(rc, "scope");
	if ((rc = store_meta_put(t, "default_scope", scope,
	    strlen(scope))) != 0) {
		store_abort(t);
		return device_store_error(rc, "scope");
	}
	rc = store_commit(t);
	return rc == 0 ? 0 : device_store_error(rc, "scope");
}
