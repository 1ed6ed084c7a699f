/*
 * Students as the people they are, not the records that name them. Two
 * teachers who add the same child offline make two records; `student
 * merge KEEP OTHER` sets OTHER's merged_into field to KEEP, an ordinary
 * register that syncs, conflicts and converges like any other. Nothing
 * is rewritten: every reader resolves a student record to its
 * representative by following merged_into, so notes, entries, goals and
 * group memberships written for OTHER, before or after the merge, on any
 * device, show under KEEP, and each record keeps its own history.
 *
 * The rule, the same on every device because it reads only the merged
 * records: follow merged_into from record to record; stop at a record
 * that has none, or whose target this device does not hold (yet); if
 * the walk comes back to a record it has passed (two devices merged A
 * into B and B into A at once), the representative is the record of
 * that cycle with the smallest id. A deleted representative deletes the
 * whole student; undelete brings it back.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"

#define MERGE_DEPTH	32	/* merges followed before giving up */

static int
id_from_hex(const char *hex, uint8_t id[PROTO_RECIDLEN])
{
	size_t len;

	return hex != NULL && strlen(hex) == 2 * PROTO_RECIDLEN &&
	    sodium_hex2bin(id, PROTO_RECIDLEN, hex, strlen(hex), NULL, &len,
	    NULL) == 0 && len == PROTO_RECIDLEN ? 0 : -1;
}

/* The smallest of ids[from..n): the representative of a cycle. */
static void
cycle_min(uint8_t ids[][PROTO_RECIDLEN], size_t from, size_t n,
    uint8_t out[PROTO_RECIDLEN])
{
	size_t best = from;

	for (size_t i = from + 1; i < n; i++)
		if (memcmp(ids[i], ids[best], PROTO_RECIDLEN) < 0)
			best = i;
	memcpy(out, ids[best], PROTO_RECIDLEN);
}

int
student_rep(struct store_txn *t, const uint8_t id[PROTO_RECIDLEN],
    uint8_t rep[PROTO_RECIDLEN])
{
	uint8_t seen[MERGE_DEPTH + 1][PROTO_RECIDLEN], next[PROTO_RECIDLEN];
	size_t n = 0;
	struct record *r;
	int rc;

	memcpy(next, id, PROTO_RECIDLEN);
	for (;;) {
		for (size_t i = 0; i < n; i++)
			if (memcmp(seen[i], next, PROTO_RECIDLEN) == 0) {
				cycle_min(seen, i, n, rep);
				return 0;
			}
		if (n == MERGE_DEPTH) {	/* not written by this program */
			cycle_min(seen, 0, n, rep);
			return 0;
		}
		rc = store_record_get(t, KIND_STUDENT, next, &r);
		if (rc == STORE_ENOTFOUND && n > 0)
			break;		/* the target has not arrived yet */
		if (rc != 0)
			return rc;
		memcpy(seen[n++], next, PROTO_RECIDLEN);
		rc = id_from_hex(record_get(r, "merged_into"), next);
		record_free(r);
		if (rc != 0)
			break;
	}
	memcpy(rep, seen[n - 1], PROTO_RECIDLEN);
	return 0;
}

int
student_merged(struct store_txn *t, const struct record *r)
{
	uint8_t rep[PROTO_RECIDLEN];

	if (r->kind != KIND_STUDENT || record_get(r, "merged_into") == NULL)
		return 0;
	if (student_rep(t, r->id, rep) != 0)
		return 0;
	return memcmp(rep, r->id, PROTO_RECIDLEN) != 0;
}

/* Appends the folded form of s, its runs of spaces made one, trimmed. */
static int
key_part(char **buf, size_t *len, const char *s)
{
	size_t flen;
	char *f = proto_text_fold(s, strlen(s), PROTO_FOLD_ACCENTS, &flen);
	char *grown;
	int space = 0;

	if (f == NULL || (grown = realloc(*buf, *len + flen + 2)) == NULL) {
		free(f);
		return -1;
	}
	*buf = grown;
	for (size_t i = 0; i < flen; i++) {
		if (f[i] == ' ' || f[i] == '\t') {
			space = 1;
			continue;
		}
		if (space && *len > 0 && (*buf)[*len - 1] != '\x1f')
			(*buf)[(*len)++] = ' ';
		space = 0;
		(*buf)[(*len)++] = f[i];
	}
	free(f);
	(*buf)[(*len)++] = '\x1f';
	(*buf)[*len] = '\0';
	return 0;
}

char *
student_key(const char *name, const char *class)
{
	char *buf = NULL;
	size_t len = 0;

	if (key_part(&buf, &len, name ? name : "") != 0 ||
	    key_part(&buf, &len, class ? class : "") != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void
student_list_free(struct student_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		record_free(l->items[i].r);
		free(l->items[i].key);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

struct load_walk {
	struct store_txn	*t;
	struct student_list	*l;
	int			 rc;
};

static int
load_cb(const struct record *r, void *arg)
{
	struct load_walk *w = arg;
	struct student_list *l = w->l;
	struct student_item *grown, *it;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;

		if ((grown = realloc(l->items, cap * sizeof(*grown))) == NULL) {
			w->rc = STORE_ENOMEM;
			return 1;
		}
		l->items = grown;
		l->cap = cap;
	}
	it = &l->items[l->n];
	memset(it, 0, sizeof(*it));
	if ((w->rc = store_record_get(w->t, KIND_STUDENT, r->id, &it->r)) != 0)
		return 1;
	l->n++;
	if ((w->rc = student_rep(w->t, r->id, it->rep)) != 0)
		return 1;
	it->merged = memcmp(it->rep, r->id, PROTO_RECIDLEN) != 0;
	it->deleted = record_deleted(r);
	if ((it->key = student_key(record_get(r, "name"),
	    record_get(r, "class"))) == NULL) {
		w->rc = STORE_ENOMEM;
		return 1;
	}
	return 0;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct student_item *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : memcmp(x->r->id, y->r->id, PROTO_RECIDLEN);
}

/* Marks the live, unmerged students whose key another one shares. */
static void
mark_dups(struct student_list *l)
{
	for (size_t i = 0; i < l->n;) {
		size_t j = i, live = 0;

		for (; j < l->n && strcmp(l->items[j].key, l->items[i].key) == 0;
		    j++)
			live += !l->items[j].merged && !l->items[j].deleted;
		for (size_t k = i; k < j; k++)
			l->items[k].dup = live > 1 && !l->items[k].merged &&
			    !l->items[k].deleted;
		i = j;
	}
}

int
student_list_load(struct store_txn *t, struct student_list *l)
{
	struct load_walk w = { t, l, 0 };
	int rc;

	memset(l, 0, sizeof(*l));
	rc = store_records_each(t, KIND_STUDENT, load_cb, &w);
	if (rc == 0)
		rc = w.rc;
	if (rc != 0) {
		student_list_free(l);
		return rc;
	}
	if (l->n > 0)
		qsort(l->items, l->n, sizeof(*l->items), item_cmp);
	mark_dups(l);
	return 0;
}

const struct student_item *
student_list_find(const struct student_list *l,
    const uint8_t id[PROTO_RECIDLEN])
{
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->items[i].r->id, id, PROTO_RECIDLEN) == 0)
			return &l->items[i];
	return NULL;
}

/* The first eight hex digits of every live, unmerged student with the
 * key of it, it excepted, comma separated; "" when it has none. */
void
student_dups_text(const struct student_list *l, const struct student_item *it,
    char *out, size_t len)
{
	char hex[2 * PROTO_RECIDLEN + 1];
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; it->dup && i < l->n; i++) {
		const struct student_item *o = &l->items[i];

		if (o == it || !o->dup || strcmp(o->key, it->key) != 0)
			continue;
		hex_id(hex, o->r->id);
		if (used + 11 >= len)
			break;
		used += (size_t)snprintf(out + used, len - used, "%s%.8s",
		    used ? ", " : "", hex);
	}
}

/* rep and every student merged into it, rep first. */
int
student_family(const struct student_list *l, const uint8_t rep[PROTO_RECIDLEN],
    uint8_t (**ids)[PROTO_RECIDLEN], size_t *n)
{
	*n = 0;
	if ((*ids = malloc((l->n + 1) * PROTO_RECIDLEN)) == NULL)
		return STORE_ENOMEM;
	memcpy((*ids)[(*n)++], rep, PROTO_RECIDLEN);
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].merged && memcmp(l->items[i].rep, rep,
		    PROTO_RECIDLEN) == 0)
			memcpy((*ids)[(*n)++], l->items[i].r->id,
			    PROTO_RECIDLEN);
	return 0;
}
