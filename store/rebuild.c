/*
 * What is derived from the log: the entries held but not applied, and the
 * rebuild of records, indexes and history from the log when the way they
 * are derived changes (a new record format, new validation rules, new
 * index keys). The log and the vector are never rewritten.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

#define UNAPPLIED_KEYLEN	(PROTO_IDLEN + 8)
#define UNAPPLIED_WHY_MAX	200

int
store_unapplied_put(struct store_txn *t, const uint8_t *author, uint64_t seq,
    int kind, const char *why)
{
	uint8_t key[UNAPPLIED_KEYLEN], val[1 + UNAPPLIED_WHY_MAX];
	size_t n = why != NULL ? strlen(why) : 0;

	if (n > UNAPPLIED_WHY_MAX)
		n = UNAPPLIED_WHY_MAX;
	memcpy(key, author, PROTO_IDLEN);
	be64_put(key + PROTO_IDLEN, seq);
	val[0] = (uint8_t)kind;
	memcpy(val + 1, why, n);
	return store_put(t, TABLE_UNAPPLIED, key, sizeof(key), val, 1 + n);
}

struct unapplied_walk {
	int	(*fn)(const uint8_t *, uint64_t, int, const char *, void *);
	void	*arg;
};

static int
unapplied_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct unapplied_walk *w = arg;
	char why[UNAPPLIED_WHY_MAX + 1];

	if (klen != UNAPPLIED_KEYLEN || vlen < 1 || vlen > sizeof(why))
		return 0;	/* not ours: skip, never crash */
	memcpy(why, v + 1, vlen - 1);
	why[vlen - 1] = '\0';
	return w->fn(k, be64_get(k + PROTO_IDLEN), v[0], why, w->arg);
}

int
store_unapplied_each(struct store_txn *t,
    int (*fn)(const uint8_t *, uint64_t, int, const char *, void *),
    void *arg)
{
	struct unapplied_walk w = { fn, arg };

	return store_scan(t, TABLE_UNAPPLIED, NULL, 0, 0, unapplied_cb, &w);
}

struct rebuild_walk {
	struct store_txn		*t;
	const struct store_keyring	*kr;
	uint8_t				 author[PROTO_IDLEN];
	uint64_t			 limit;	/* apply up to this seq */
	uint64_t			 rule;	/* with kr up to this one */
	const struct store_keyring	*past;	/* after it, or NULL */
	int				 rc;
};

void
store_set_rebuild_rule(struct store *st, const struct store_rebuild_rule *r)
{
	if (r != NULL)
		st->rule = *r;
	else
		memset(&st->rule, 0, sizeof(st->rule));
}

/* A frozen author's entries past its fork point are never applied, on
 * any device: the walk learns each author's limit as it reaches it, and
 * the caller's rule for it (store_rebuild_rule). */
static int
rebuild_limit(struct rebuild_walk *w, const uint8_t *author)
{
	const struct store_rebuild_rule *r = &w->t->st->rule;
	uint64_t fseq;
	int rc;

	if (memcmp(author, w->author, PROTO_IDLEN) == 0)
		return 0;
	memcpy(w->author, author, PROTO_IDLEN);
	rc = store_fork_get(w->t, author, &fseq);
	if (rc != 0 && rc != STORE_ENOTFOUND)
		return rc;
	w->limit = rc == 0 ? fseq : UINT64_MAX;
	w->rule = UINT64_MAX;
	w->past = NULL;
	return r->limit != NULL ? r->limit(r->arg, w->t, author, &w->rule,
	    &w->past) : 0;
}

/* An entry after its author's limit by the rule: applied with the past
 * keyring, or listed unapplied. */
static int
rebuild_past(struct rebuild_walk *w, const struct envelope *e)
{
	if (w->past != NULL)
		return store_apply_held(w->t, w->past, e);
	return store_unapplied_put(w->t, e->author, e->seq, UNAPPLIED_INVALID,
	    "written after its device was removed from the team");
}

static int
rebuild_cb(const uint8_t *author, uint64_t seq, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct rebuild_walk *w = arg;
	struct envelope e;

	(void)author;
	(void)seq;
	if (proto_envelope_decode(&e, v, vlen) != 0)
		w->rc = STORE_EIO;
	else if ((w->rc = rebuild_limit(w, e.author)) != 0 ||
	    e.seq > w->limit)
		return w->rc != 0;	/* kept aside past a fork */
	else if (e.seq > w->rule)
		w->rc = rebuild_past(w, &e);
	else
		w->rc = store_apply_held(w->t, w->kr, &e);
	/* An entry its key no longer opens stays unapplied: a rebuild must
	 * not lock a teacher out of her store; verify reports damage. */
	if (w->rc == STORE_EBADENTRY)
		w->rc = store_unapplied_put(w->t, e.author, e.seq,
		    UNAPPLIED_INVALID, "does not open with the key it names");
	return w->rc != 0;
}

/* Derived state is a function of the entries held, so it can always be
 * made again from the log; done in the caller's transaction, a crash
 * leaves the old state whole. */
int
store_rebuild_txn(struct store_txn *t, const struct store_keyring *kr)
{
	static const int derived[] = { TABLE_RECORDS, TABLE_INDEX,
	    TABLE_UNAPPLIED };
	struct rebuild_walk w = { t, kr, { 0 }, UINT64_MAX, UINT64_MAX, NULL,
	    0 };
	const struct store_rebuild_rule *r = &t->st->rule;
	int rc;

	if ((rc = store_keys_learn(t->st, kr)) != 0)
		return rc;
	if (r->begin != NULL && (rc = r->begin(r->arg, t)) != 0)
		return rc;
	for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]); i++)
		if ((rc = store_drop(t, derived[i])) != 0)
			return rc;
	/* The digest and the key the word index is built under go with
	 * them: the applies below make both again. */
	if ((rc = store_digest_reset(t)) != 0 ||
	    (rc = store_key_check_del(t)) != 0)
		return rc;
	if ((rc = log_scan(t, rebuild_cb, &w)) != 0)
		return rc;
	return w.rc;
}
