/*
 * What a user types for a record: any unique prefix of its id (like git),
 * or, for a student or a group, its exact name where that is unique.
 * Names are compared in NFC: a composed and a decomposed "José" are one
 * name, whichever form a peer stored.
 */
#include <ctype.h>
#include <string.h>

#include "satchel.h"

struct name_walk {
	struct store_txn *t;
	const char	*name;
	uint8_t		 kind;
	int		 matches;
	struct record	*found;
};

static int
name_matches(struct name_walk *w, struct record *r)
{
	const char *name = record_get(r, "name");

	/* A student merged into another answers to that one's name only. */
	if (name == NULL || record_deleted(r) || !proto_text_same(name,
	    strlen(name), w->name, strlen(w->name)) ||
	    student_merged(w->t, r)) {
		record_free(r);
		return 0;
	}
	if (w->matches++ == 0)
		w->found = r;
	else
		record_free(r);
	return w->matches > 1;
}

static int
student_name_cb(const uint8_t *key, size_t len, void *arg)
{
	struct name_walk *w = arg;
	struct record *r;

	if (store_record_get(w->t, KIND_STUDENT, key + len - PROTO_RECIDLEN,
	    &r) != 0)
		return 0;
	return name_matches(w, r);
}

static int
group_name_cb(const struct record *r, void *arg)
{
	struct name_walk *w = arg;
	struct record *copy;

	if (store_record_get(w->t, w->kind, r->id, &copy) != 0)
		return 0;
	return name_matches(w, copy);
}

/* Students come from the name index, under the name's folded form. */
static int
by_name(struct store_txn *t, const char *arg, uint8_t kind,
    struct name_walk *w)
{
	uint8_t prefix[STORE_INDEX_NAME_KEYMAX];
	size_t len;

	memset(w, 0, sizeof(*w));
	w->t = t;
	w->name = arg;
	w->kind = kind;
	if (kind == KIND_GROUP || kind == KIND_UNIT)
		return store_records_each(t, kind, group_name_cb, w);
	len = store_index_name_prefix(t, arg, prefix);
	return store_index_each(t, prefix, len, 0, student_name_cb, w);
}

static int
is_hex(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 2 * PROTO_RECIDLEN)
		return 0;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return 0;
	return 1;
}

/* A record named by a student's or a group's name, for the commands that
 * take any record (history, delete): unique across both, or refused. */
static int
resolve_any_name(struct store_txn *t, const char *arg, struct record **out)
{
	struct name_walk ws = { 0 }, wg = { 0 };
	int rc;

	if ((rc = by_name(t, arg, KIND_STUDENT, &ws)) != 0 ||
	    (rc = by_name(t, arg, KIND_GROUP, &wg)) != 0) {
		record_free(ws.found);
		record_free(wg.found);
		return device_store_error(rc, "lookup");
	}
	if (ws.matches + wg.matches == 1) {
		*out = ws.matches ? ws.found : wg.found;
		return 0;
	}
	record_free(ws.found);
	record_free(wg.found);
	if (ws.matches + wg.matches > 1)
		return fail_usage("more than one student or group is named "
		    "'%s'; use the id", arg);
	return fail_missing("no record matches '%s' (give an id, or a "
	    "student's or group's name)", arg);
}

/* 0 with *out set (free with record_free), or an exit code. */
int
resolve_record(struct store_txn *t, const char *arg, uint8_t want,
    struct record **out)
{
	struct name_walk w;
	uint8_t kind, id[PROTO_RECIDLEN];
	int rc = STORE_ENOTFOUND;

	*out = NULL;
	if (is_hex(arg))
		rc = store_record_find(t, arg, &kind, id);
	if (rc == STORE_EAMBIGUOUS)
		return fail_usage("'%s' matches more than one record; type "
		    "more of the id", arg);
	if (rc == 0) {
		if (want != 0 && kind != want)
			return fail_usage("'%s' is a %s, not a %s", arg,
			    model_kind_name(kind), model_kind_name(want));
		/* A student asked for as a student is the one it was
		 * merged into; asked for as a record, itself. */
		if (want == KIND_STUDENT && (rc = student_rep(t, id, id)) != 0)
			return device_store_error(rc, "read");
		if ((rc = store_record_get(t, kind, id, out)) != 0)
			return device_store_error(rc, "read");
		return 0;
	}
	if (rc != STORE_ENOTFOUND)
		return device_store_error(rc, "lookup");
	if (want == 0)
		return resolve_any_name(t, arg, out);
	if (want == KIND_STUDENT || want == KIND_GROUP || want == KIND_UNIT) {
		if ((rc = by_name(t, arg, want, &w)) != 0)
			return device_store_error(rc, "lookup");
		if (w.matches == 1) {
			*out = w.found;
			return 0;
		}
		if (w.matches > 1) {
			record_free(w.found);
			return fail_usage("more than one %s is named '%s'; "
			    "use the id", model_kind_name(want), arg);
		}
	}
	return fail_missing("no %s matches '%s'", want ? model_kind_name(want) :
	    "record", arg);
}

/* 0 if no live record of kind is named name, else an exit code after
 * saying which one is. */
int
resolve_name_unused(struct store_txn *t, const char *name, uint8_t kind)
{
	char hex[2 * PROTO_RECIDLEN + 1];
	struct name_walk w;
	int rc;

	if ((rc = by_name(t, name, kind, &w)) != 0)
		return device_store_error(rc, "lookup");
	if (w.matches == 0)
		return 0;
	hex_id(hex, w.found->id);
	record_free(w.found);
	return fail_usage("%s add: a %s named '%s' exists already (%.8s); if "
	    "this is another one, add --same-name", model_kind_name(kind),
	    model_kind_name(kind), name, hex);
}
