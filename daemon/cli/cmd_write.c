/*
 * Commands that write: the command line's face of ops.c. Each turns what
 * the user typed into an operation's typed input, runs it, and prints
 * the new record's id where there is one; the operation says what is
 * wrong on stderr and writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "satchel.h"

static int
print_id(int rc, const uint8_t *id)
{
	char hex[2 * PROTO_RECIDLEN + 1];

	if (rc == 0) {
		hex_id(hex, id);
		printf("%s\n", hex);
	}
	return rc;
}

int
cmd_student_add(struct device *d, struct args *a)
{
	struct ops_student in = {
		a->pos[0], args_get(a, "class"), args_get(a, "strengths"),
		args_get(a, "needs"), args_get(a, "interests"),
		args_get(a, "goals"), args_has(a, "same-name")
	};
	uint8_t id[PROTO_RECIDLEN];

	return print_id(ops_student_add(d, &in, id), id);
}

/* --private or --team; neither: the device's default (satchel scope). */
static const char *
cli_scope(const struct args *a)
{
	return args_has(a, "private") ? "private" : args_has(a, "team") ?
	    "team" : NULL;
}

int
cmd_note_add(struct device *d, struct args *a)
{
	struct ops_note in = {
		a->pos[0], args_get(a, "date"), args_get(a, "strengths"),
		args_get(a, "obstacle"), args_get(a, "action"),
		args_get(a, "follow-up"), args_get(a, "student-words"),
		cli_scope(a)
	};
	uint8_t id[PROTO_RECIDLEN];

	return print_id(ops_note_add(d, &in, id), id);
}

int
cmd_entry_add(struct device *d, struct args *a)
{
	const char *tags[PROTO_MAX_OPS];
	struct ops_entry in = {
		a->pos[0], args_get(a, "date"), args_get(a, "title"),
		args_get(a, "body"), args_get(a, "unit"), args_get(a, "slice"),
		args_get(a, "score"), tags,
		args_all(a, "tag", tags, PROTO_MAX_OPS), cli_scope(a)
	};
	uint8_t id[PROTO_RECIDLEN];

	return print_id(ops_entry_add(d, &in, id), id);
}

int
cmd_unit_add(struct device *d, struct args *a)
{
	struct ops_unit in = { a->pos[0], args_get(a, "from"),
	    args_get(a, "until") };
	uint8_t id[PROTO_RECIDLEN];

	return print_id(ops_unit_add(d, &in, id), id);
}

int
cmd_group_add(struct device *d, struct args *a)
{
	const char *members[PROTO_MAX_OPS];
	int same = args_has(a, "same-need"), mixed = args_has(a, "mixed");
	struct ops_group in = {
		a->pos[0], same == mixed ? NULL : same ? "same-need" : "mixed",
		args_get(a, "from"), args_get(a, "until"), members,
		args_all(a, "member", members, PROTO_MAX_OPS)
	};
	uint8_t id[PROTO_RECIDLEN];

	return print_id(ops_group_add(d, &in, id), id);
}

int
cmd_group_join(struct device *d, struct args *a)
{
	return ops_group_move(d, a->pos[1], NULL, a->pos[0]);
}

int
cmd_group_leave(struct device *d, struct args *a)
{
	return ops_group_move(d, a->pos[1], a->pos[0], NULL);
}

int
cmd_group_move(struct device *d, struct args *a)
{
	return ops_group_move(d, a->pos[0], a->pos[1], a->pos[2]);
}

/* "2026-12-01:half way" into its date and text. */
static int
checkpoint_split(const char *arg, char date[11], const char **text)
{
	if (strlen(arg) < 11 || arg[10] != ':')
		return fail_usage("--checkpoint: '%s' is not DATE:TEXT", arg);
	memcpy(date, arg, 10);
	date[10] = '\0';
	*text = arg + 11;
	return 0;
}

int
cmd_goal_add(struct device *d, struct args *a)
{
	char dates[GOAL_MAX_CHECKPOINTS][11];
	const char *cps[GOAL_MAX_CHECKPOINTS + 1];
	struct ops_goal in = { a->pos[0], a->pos[1], 0, { 0 }, { 0 } };
	uint8_t id[PROTO_RECIDLEN];
	int rc, n = args_all(a, "checkpoint", cps, GOAL_MAX_CHECKPOINTS + 1);

	if (n > GOAL_MAX_CHECKPOINTS)
		return fail_usage("goal add: at most %d checkpoints",
		    GOAL_MAX_CHECKPOINTS);
	for (in.ncp = 0; in.ncp < n; in.ncp++) {
		in.cp_date[in.ncp] = dates[in.ncp];
		if ((rc = checkpoint_split(cps[in.ncp], dates[in.ncp],
		    &in.cp_text[in.ncp])) != 0)
			return rc;
	}
	return print_id(ops_goal_add(d, &in, id), id);
}

static int
checkpoint_number(const char *arg, long *n)
{
	char *end;

	*n = strtol(arg, &end, 10);
	if (*end != '\0' || *n < 1 || *n > GOAL_MAX_CHECKPOINTS)
		return fail_usage("goal check: '%s' is not a checkpoint number",
		    arg);
	return 0;
}

int
cmd_goal_check(struct device *d, struct args *a)
{
	long n;
	int rc;

	if ((rc = checkpoint_number(a->pos[1], &n)) != 0)
		return rc;
	return ops_checkpoint_set(d, a->pos[0], n, 1, NULL);
}

int
cmd_goal_move(struct device *d, struct args *a)
{
	long n;
	int rc;

	if ((rc = checkpoint_number(a->pos[1], &n)) != 0)
		return rc;
	return ops_checkpoint_set(d, a->pos[0], n, -1, a->pos[2]);
}

/* student edit, note edit, entry edit, group edit, goal edit, unit edit:
 * every flag the kind has, no version check (the command line shows the
 * value it replaces in history). */
int
cmd_edit(struct device *d, struct args *a)
{
	struct ops_edit in;
	const struct kind_def *k;
	char kind_name[16];
	int rc, changed;

	memset(&in, 0, sizeof(in));
	snprintf(kind_name, sizeof(kind_name), "%.*s",
	    (int)strcspn(a->cmd, " "), a->cmd);
	k = model_kind_named(kind_name);
	in.record = a->pos[0];
	in.kind = k->kind;
	for (const struct field_def *f = k->fields; f->name; f++)
		if (f->flag != NULL && args_get(a, f->flag) != NULL &&
		    in.n < PROTO_MAX_OPS) {
			in.field[in.n] = f->name;
			in.value[in.n++] = args_get(a, f->flag);
		}
	if (k->set_flag != NULL)
		in.nadd = args_all(a, k->set_flag, in.add, PROTO_MAX_OPS);
	if (k->unset_flag != NULL)
		in.nrem = args_all(a, k->unset_flag, in.rem, PROTO_MAX_OPS);
	if (in.n + in.nadd + in.nrem == 0)
		return fail_usage("%s: nothing to change (see satchel %s --help)",
		    a->cmd, a->cmd);
	if ((rc = ops_edit(d, &in, &changed)) != 0)
		return rc;
	if (!changed)
		fprintf(stderr, "%s: nothing to change\n", a->cmd);
	return 0;
}

int
cmd_delete(struct device *d, struct args *a)
{
	return ops_tombstone(d, a->pos[0], 1);
}

int
cmd_undelete(struct device *d, struct args *a)
{
	return ops_tombstone(d, a->pos[0], 0);
}

int
cmd_restore(struct device *d, struct args *a)
{
	return ops_restore(d, a->pos[0], a->pos[1], a->pos[2]);
}
