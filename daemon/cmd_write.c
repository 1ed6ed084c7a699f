/*
 * Commands that write. Each checks everything the user typed first, then
 * builds one change and commits it in one transaction: an error leaves
 * the store exactly as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"

#define GOAL_MAX_CHECKPOINTS	9

static int
begin(struct device *d, struct store_txn **t)
{
	int rc = store_begin(d->st, 0, t);

	return rc == 0 ? 0 : device_store_error(rc, "cannot write");
}

/* Appends c and commits; prints the record's id if asked. */
static int
finish(struct device *d, struct store_txn *t, const struct change *c,
    int print_id)
{
	char hex[2 * PROTO_RECIDLEN + 1];
	const char *why;
	int rc;

	/* The check every peer makes on receipt, made first: what a peer
	 * would refuse is never written. */
	if (proto_change_validate(c, PROTO_KEY_CONTENT, &why) != 0) {
		store_abort(t);
		return fail_usage("cannot write this change: %s", why);
	}
	if ((rc = device_write(d, t, c)) != 0) {
		store_abort(t);
		return device_store_error(rc, "write failed");
	}
	if ((rc = store_commit(t)) != 0)
		return device_store_error(rc, "write failed");
	if (print_id) {
		hex_id(hex, c->record_id);
		printf("%s\n", hex);
	}
	return 0;
}

static int
abort_with(struct store_txn *t, int rc)
{
	store_abort(t);
	return rc;
}

/* Sets every field of kind k given as a flag, after checking it. */
static int
set_flagged(struct change *c, const struct record *r,
    const struct kind_def *k, const struct args *a, int *nset)
{
	for (const struct field_def *f = k->fields; f->name; f++) {
		const char *v = f->flag ? args_get(a, f->flag) : NULL;
		int rc;

		if (v == NULL)
			continue;
		if ((rc = model_check_field(f, v)) != 0)
			return rc;
		if (change_set(c, r, f->name, v) != 0)
			return fail_usage("too many changes at once");
		(*nset)++;
	}
	return 0;
}

static int
require_flags(const struct kind_def *k, const struct args *a)
{
	for (const struct field_def *f = k->fields; f->name; f++)
		if (f->required && f->flag != NULL &&
		    args_get(a, f->flag) == NULL)
			return fail_usage("%s: --%s is required", a->cmd,
			    f->flag);
	return 0;
}

static int
check_positional(const char *name, const char *value)
{
	struct field_def f = { name, name, F_TEXT, 1 };

	return model_check_field(&f, value);
}

static void
new_change(struct change *c, uint8_t kind)
{
	uint8_t id[PROTO_RECIDLEN];

	randombytes_buf(id, sizeof(id));
	change_init(c, kind, id);
}

int
cmd_student_add(struct device *d, struct args *a)
{
	struct change c;
	struct store_txn *t;
	int rc, n = 0;

	if ((rc = check_positional("name", a->pos[0])) != 0)
		return rc;
	new_change(&c, KIND_STUDENT);
	if (change_set(&c, NULL, "name", a->pos[0]) != 0)
		return fail_usage("too many changes at once");
	if ((rc = set_flagged(&c, NULL, model_kind(KIND_STUDENT), a, &n)) != 0)
		return rc;
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if (!args_has(a, "same-name") &&
	    (rc = resolve_name_unused(t, a->pos[0], KIND_STUDENT)) != 0)
		return abort_with(t, rc);
	return finish(d, t, &c, 1);
}

/* Resolves a live student and sets the change's student field to it. */
static int
set_student(struct store_txn *t, struct change *c, const char *arg,
    char hex[2 * PROTO_RECIDLEN + 1])
{
	struct record *s;
	int rc;

	if ((rc = resolve_record(t, arg, KIND_STUDENT, &s)) != 0)
		return rc;
	if (record_deleted(s)) {
		record_free(s);
		return fail_usage("student '%s' is deleted (satchel undelete "
		    "to bring it back)", arg);
	}
	hex_id(hex, s->id);
	record_free(s);
	return change_set(c, NULL, "student", hex) == 0 ? 0 :
	    fail_usage("too many changes at once");
}

/* Shared by note add and entry add: student, date, author, flags. */
static int
add_dated(struct device *d, struct args *a, uint8_t kind,
    struct change *c, struct store_txn **t)
{
	static char hex[2 * PROTO_RECIDLEN + 1], date[11];
	const struct kind_def *k = model_kind(kind);
	int rc, n = 0;

	if ((rc = require_flags(k, a)) != 0)
		return rc;
	new_change(c, kind);
	if ((rc = set_flagged(c, NULL, k, a, &n)) != 0)
		return rc;
	if (args_get(a, "date") == NULL) {
		today(date);
		if (change_set(c, NULL, "date", date) != 0)
			return fail_usage("too many changes at once");
	}
	if ((rc = model_check_follow_up(args_get(a, "date") ?
	    args_get(a, "date") : date, args_get(a, "follow-up"))) != 0)
		return rc;
	if (change_set(c, NULL, "author", d->name) != 0)
		return fail_usage("too many changes at once");
	if ((rc = begin(d, t)) != 0)
		return rc;
	if ((rc = set_student(*t, c, a->pos[0], hex)) != 0)
		return abort_with(*t, rc);
	return 0;
}

int
cmd_note_add(struct device *d, struct args *a)
{
	struct change c;
	struct store_txn *t;
	int rc;

	if ((rc = add_dated(d, a, KIND_NOTE, &c, &t)) != 0)
		return rc;
	return finish(d, t, &c, 1);
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
    const char **elems, int n)
{
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
cmd_entry_add(struct device *d, struct args *a)
{
	const char *tags[PROTO_MAX_OPS];
	struct change c;
	struct store_txn *t;
	int rc, n = args_all(a, "tag", tags, PROTO_MAX_OPS);

	if ((rc = add_dated(d, a, KIND_ENTRY, &c, &t)) != 0)
		return rc;
	if ((rc = add_elems(&c, NULL, "tags", tags, n)) != 0)
		return abort_with(t, rc);
	return finish(d, t, &c, 1);
}

int
cmd_group_add(struct device *d, struct args *a)
{
	static char hex[PROTO_MAX_OPS][2 * PROTO_RECIDLEN + 1];
	const char *members[PROTO_MAX_OPS], *ids[PROTO_MAX_OPS];
	int same = args_has(a, "same-need"), mixed = args_has(a, "mixed");
	int rc, n = 0, nmem = args_all(a, "member", members, PROTO_MAX_OPS);
	struct change c;
	struct store_txn *t;

	if (same == mixed)
		return fail_usage("group add: say --same-need (a lettered "
		    "group) or --mixed (a numbered group)");
	if ((rc = check_positional("name", a->pos[0])) != 0)
		return rc;
	new_change(&c, KIND_GROUP);
	if (change_set(&c, NULL, "name", a->pos[0]) != 0 ||
	    change_set(&c, NULL, "type", same ? "same-need" : "mixed") != 0)
		return fail_usage("too many changes at once");
	if ((rc = set_flagged(&c, NULL, model_kind(KIND_GROUP), a, &n)) != 0)
		return rc;
	if ((rc = begin(d, &t)) != 0)
		return rc;
	for (int i = 0; i < nmem; i++) {
		struct record *s;

		if ((rc = resolve_record(t, members[i], KIND_STUDENT, &s)) != 0)
			return abort_with(t, rc);
		hex_id(hex[i], s->id);
		ids[i] = hex[i];
		record_free(s);
	}
	if ((rc = add_elems(&c, NULL, "members", ids, nmem)) != 0)
		return abort_with(t, rc);
	return finish(d, t, &c, 1);
}

static int
group_member(struct device *d, struct args *a, int join)
{
	char hex[2 * PROTO_RECIDLEN + 1];
	struct record *g = NULL, *s = NULL;
	struct change c;
	struct store_txn *t;
	int rc;

	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = resolve_record(t, a->pos[0], KIND_GROUP, &g)) != 0 ||
	    (rc = resolve_record(t, a->pos[1], KIND_STUDENT, &s)) != 0)
		goto out;
	hex_id(hex, s->id);
	if (join == set_has(g, "members", hex)) {
		rc = fail_usage("'%s' is %s in '%s'", a->pos[1], join ?
		    "already" : "not", a->pos[0]);
		goto out;
	}
	change_init(&c, KIND_GROUP, g->id);
	rc = join ? change_add(&c, "members", hex) :
	    change_remove(&c, g, "members", hex);
	if (rc == 0) {
		rc = finish(d, t, &c, 0);
		t = NULL;
	}
out:
	record_free(g);
	record_free(s);
	if (t != NULL)
		store_abort(t);
	return rc;
}

int
cmd_group_join(struct device *d, struct args *a)
{
	return group_member(d, a, 1);
}

int
cmd_group_leave(struct device *d, struct args *a)
{
	return group_member(d, a, 0);
}

/* "2026-12-01:half way" into its date and text. */
static int
checkpoint_split(const char *arg, char date[11], const char **text)
{
	const char *why;

	if (strlen(arg) < 11 || arg[10] != ':')
		return fail_usage("--checkpoint: '%s' is not DATE:TEXT", arg);
	memcpy(date, arg, 10);
	date[10] = '\0';
	if (!valid_date(date))
		return fail_usage("--checkpoint: '%s' is not a date "
		    "(YYYY-MM-DD)", date);
	*text = arg + 11;
	if ((why = text_problem(*text, 4096, PROTO_TEXT_LINE)) != NULL ||
	    **text == '\0')
		return fail_usage("--checkpoint: the text after the date: %s",
		    why ? why : "must not be empty");
	return 0;
}

int
cmd_goal_add(struct device *d, struct args *a)
{
	static char names[GOAL_MAX_CHECKPOINTS][3][24];
	static char dates[GOAL_MAX_CHECKPOINTS][11], count[12];
	static char hex[2 * PROTO_RECIDLEN + 1];
	const char *cps[GOAL_MAX_CHECKPOINTS + 1], *text = NULL;
	int rc, n = args_all(a, "checkpoint", cps, GOAL_MAX_CHECKPOINTS + 1);
	struct change c;
	struct store_txn *t;

	if (n > GOAL_MAX_CHECKPOINTS)
		return fail_usage("goal add: at most %d checkpoints",
		    GOAL_MAX_CHECKPOINTS);
	if ((rc = check_positional("goal", a->pos[1])) != 0)
		return rc;
	new_change(&c, KIND_GOAL);
	snprintf(count, sizeof(count), "%d", n);
	if (change_set(&c, NULL, "text", a->pos[1]) != 0 ||
	    change_set(&c, NULL, "checkpoints", count) != 0)
		return fail_usage("too many changes at once");
	for (int i = 0; i < n; i++) {
		if ((rc = checkpoint_split(cps[i], dates[i], &text)) != 0)
			return rc;
		snprintf(names[i][0], 24, "cp%d_date", i + 1);
		snprintf(names[i][1], 24, "cp%d_text", i + 1);
		snprintf(names[i][2], 24, "cp%d_done", i + 1);
		if (change_set(&c, NULL, names[i][0], dates[i]) != 0 ||
		    change_set(&c, NULL, names[i][1], text) != 0 ||
		    change_set(&c, NULL, names[i][2], "no") != 0)
			return fail_usage("too many changes at once");
	}
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = set_student(t, &c, a->pos[0], hex)) != 0)
		return abort_with(t, rc);
	return finish(d, t, &c, 1);
}

int
cmd_goal_check(struct device *d, struct args *a)
{
	char field[24], *end;
	const char *count;
	struct record *g;
	struct change c;
	struct store_txn *t;
	long n = strtol(a->pos[1], &end, 10);
	int rc;

	if (*end != '\0' || n < 1 || n > GOAL_MAX_CHECKPOINTS)
		return fail_usage("goal check: '%s' is not a checkpoint number",
		    a->pos[1]);
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = resolve_record(t, a->pos[0], KIND_GOAL, &g)) != 0)
		return abort_with(t, rc);
	count = record_get(g, "checkpoints");
	if (count == NULL || n > atol(count)) {
		rc = fail_usage("goal check: this goal has %s checkpoints",
		    count ? count : "no");
		record_free(g);
		return abort_with(t, rc);
	}
	snprintf(field, sizeof(field), "cp%ld_done", n);
	change_init(&c, KIND_GOAL, g->id);
	rc = change_set(&c, g, field, "yes");
	record_free(g);
	if (rc != 0)
		return abort_with(t, fail_usage("too many changes at once"));
	return finish(d, t, &c, 0);
}

/* student edit, note edit, entry edit, group edit, goal edit. */
int
cmd_edit(struct device *d, struct args *a)
{
	char kind_name[16];
	const char *adds[PROTO_MAX_OPS], *rems[PROTO_MAX_OPS];
	const struct kind_def *k;
	struct record *r;
	struct change c;
	struct store_txn *t;
	int rc, n = 0, nadd = 0, nrem = 0;

	snprintf(kind_name, sizeof(kind_name), "%.*s",
	    (int)strcspn(a->cmd, " "), a->cmd);
	k = model_kind_named(kind_name);
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = resolve_record(t, a->pos[0], k->kind, &r)) != 0)
		return abort_with(t, rc);
	change_init(&c, k->kind, r->id);
	if ((rc = set_flagged(&c, r, k, a, &n)) != 0)
		goto out;
	if (k->kind == KIND_NOTE && (args_has(a, "date") ||
	    args_has(a, "follow-up")) && (rc = model_check_follow_up(
	    args_get(a, "date") ? args_get(a, "date") : record_get(r, "date"),
	    args_get(a, "follow-up") ? args_get(a, "follow-up") :
	    record_get(r, "follow_up"))) != 0)
		goto out;
	if (k->set_flag != NULL)
		nadd = args_all(a, k->set_flag, adds, PROTO_MAX_OPS);
	if (k->unset_flag != NULL)
		nrem = args_all(a, k->unset_flag, rems, PROTO_MAX_OPS);
	if ((rc = add_elems(&c, r, k->set_field, adds, nadd)) != 0)
		goto out;
	for (int i = 0; i < nrem; i++)
		if (change_remove(&c, r, k->set_field, rems[i]) != 0) {
			rc = fail_usage("too many changes at once");
			goto out;
		}
	if (n + nadd + nrem == 0) {
		rc = fail_usage("%s: nothing to change (see satchel %s --help)",
		    a->cmd, a->cmd);
		goto out;
	}
	if (c.nops == 0) {	/* every tag asked for is there already */
		fprintf(stderr, "%s: nothing to change\n", a->cmd);
		rc = 0;
		goto out;
	}
	record_free(r);
	return finish(d, t, &c, 0);
out:
	record_free(r);
	return abort_with(t, rc);
}

/* Resolves any record a generic command may change: not a member's,
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

static int
tombstone(struct device *d, struct args *a, int deleted)
{
	struct record *r;
	struct change c;
	struct store_txn *t;
	int rc;

	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = resolve_content(t, a->pos[0], &r)) != 0)
		return abort_with(t, rc);
	if (record_deleted(r) == deleted && !tombstone_conflict(r)) {
		record_free(r);
		return abort_with(t, fail_usage("'%s' is %s", a->pos[0],
		    deleted ? "already deleted" : "not deleted"));
	}
	change_init(&c, r->kind, r->id);
	rc = change_tombstone(&c, r, deleted);
	record_free(r);
	if (rc != 0)
		return abort_with(t, fail_usage("cannot build the change"));
	return finish(d, t, &c, 0);
}

int
cmd_delete(struct device *d, struct args *a)
{
	return tombstone(d, a, 1);
}

int
cmd_undelete(struct device *d, struct args *a)
{
	return tombstone(d, a, 0);
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
cmd_restore(struct device *d, struct args *a)
{
	const struct rec_register *reg;
	const struct rec_write *w;
	struct record *r;
	struct change c;
	struct store_txn *t;
	int rc;

	if (a->pos[1][0] == '_')
		return fail_usage("restore: %s is Satchel's own; settle a "
		    "delete/undelete conflict with satchel delete or satchel "
		    "undelete", a->pos[1]);
	if ((rc = begin(d, &t)) != 0)
		return rc;
	if ((rc = resolve_content(t, a->pos[0], &r)) != 0)
		return abort_with(t, rc);
	reg = record_register(r, a->pos[1]);
	if ((w = find_head(reg, a->pos[2])) == NULL) {
		record_free(r);
		return abort_with(t, fail_usage("restore: no value of %s "
		    "written by %s (see satchel conflicts)", a->pos[1],
		    a->pos[2]));
	}
	change_init(&c, r->kind, r->id);
	rc = change_set(&c, r, reg->name, w->value);
	if (rc != 0) {
		record_free(r);
		return abort_with(t, fail_usage("cannot build the change"));
	}
	rc = finish(d, t, &c, 0);
	record_free(r);
	return rc;
}
