/*
 * satchel student merge KEEP OTHER: two records of one child become one.
 * OTHER gets merged_into = KEEP (a register like any other, so a merge
 * syncs, and concurrent merges converge by the rule in students.c), and
 * the profile fields KEEP lacks are filled from OTHER. Nothing else is
 * written: every note, entry, goal and group membership of OTHER, on
 * every device, shows under KEEP because readers resolve OTHER to KEEP;
 * both records keep their history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "satchel.h"

static const char *const fill_fields[] = {
	"class", "strengths", "needs", "interests", "goals"
};
#define NFILL	(sizeof(fill_fields) / sizeof(fill_fields[0]))

static int
write_change(struct device *d, struct store_txn *t, struct change *c)
{
	const char *why;
	int rc;

	if (proto_change_validate(c, PROTO_KEY_CONTENT, &why) != 0)
		return fail_usage("student merge: cannot write this change: %s",
		    why);
	if ((rc = device_write(d, t, c)) != 0)
		return device_store_error(rc, "student merge");
	return 0;
}

/* KEEP's empty profile fields, from OTHER. */
static int
fill_keep(struct device *d, struct store_txn *t, const struct record *keep,
    const struct record *other, struct change *c)
{
	change_init(c, KIND_STUDENT, keep->id);
	for (size_t i = 0; i < NFILL; i++) {
		const char *mine = record_get(keep, fill_fields[i]);
		const char *theirs = record_get(other, fill_fields[i]);

		if ((mine == NULL || *mine == '\0') && theirs != NULL &&
		    *theirs != '\0' &&
		    change_set(c, keep, fill_fields[i], theirs) != 0)
			return fail_usage("student merge: too many changes");
	}
	return c->nops == 0 ? 0 : write_change(d, t, c);
}

static int
merge(struct device *d, struct store_txn *t, const struct record *keep,
    const struct record *other)
{
	char hex[2 * PROTO_RECIDLEN + 1], ohex[2 * PROTO_RECIDLEN + 1];
	struct change *c;
	int rc;

	if ((c = malloc(sizeof(*c))) == NULL)
		return fail("student merge: out of memory");
	if ((rc = fill_keep(d, t, keep, other, c)) != 0)
		goto out;
	hex_id(hex, keep->id);
	change_init(c, KIND_STUDENT, other->id);
	if (change_set(c, other, "merged_into", hex) != 0) {
		rc = fail_usage("student merge: '%s' has too many concurrent "
		    "merges; see satchel conflicts", model_title(other));
		goto out;
	}
	if ((rc = write_change(d, t, c)) != 0)
		goto out;
	if ((rc = store_commit(t)) != 0) {
		rc = device_store_error(rc, "student merge");
		t = NULL;
		goto out;
	}
	t = NULL;
	hex_id(ohex, other->id);
	printf("%s\n", hex);
	fprintf(stderr, "merged %s (%.8s) into %s (%.8s): its notes, entries, "
	    "goals and groups show under %.8s on every device after sync\n",
	    model_title(other), ohex, model_title(keep), hex, hex);
out:
	if (t != NULL)
		store_abort(t);
	free(c);
	return rc;
}

int
cmd_student_merge(struct device *d, struct args *a)
{
	struct record *keep = NULL, *other = NULL;
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return device_store_error(rc, "cannot write");
	if ((rc = resolve_record(t, a->pos[0], KIND_STUDENT, &keep)) != 0 ||
	    (rc = resolve_record(t, a->pos[1], KIND_STUDENT, &other)) != 0)
		goto fail;
	if (memcmp(keep->id, other->id, PROTO_RECIDLEN) == 0) {
		rc = fail_usage("student merge: '%s' and '%s' are one student "
		    "already", a->pos[0], a->pos[1]);
		goto fail;
	}
	if (record_deleted(keep)) {
		rc = fail_usage("student merge: '%s' is deleted (satchel "
		    "undelete it first, or keep the other one)", a->pos[0]);
		goto fail;
	}
	rc = merge(d, t, keep, other);
	record_free(keep);
	record_free(other);
	return rc;
fail:
	record_free(keep);
	record_free(other);
	store_abort(t);
	return rc;
}
