/*
 * The team's membership as this device holds it: the membership entries
 * (every applied change of a KIND_MEMBER record, by any author, the box's
 * included) read from the records' histories and evaluated by
 * proto_members_eval (proto/members.h says the rules). The result is
 * cached in the device and evaluated again only when the store's
 * STORE_MEMBERS_GEN changes, that is when a membership entry is applied:
 * a connection's every batch and acknowledgement asks who is a member,
 * and the box answers from the cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"
#include "wire.h"

struct team_view {
	uint8_t			 gen[STORE_MEMBERS_GENLEN];
	uint8_t			 keys[16];	/* the keyring it was read with */
	uint8_t			 founder[PROTO_IDLEN];
	struct member_entry	*e;
	size_t			 n, cap;
	uint8_t			**pts;		/* the plaintexts names borrow */
	size_t			 npts;
	uint8_t			**envs;		/* copies of entries not in the
						   log (proofs), else NULL */
	size_t			*envlens;
	struct members		*ms;
};

void
team_view_free(struct team_view *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->npts; i++) {
		free(v->pts[i]);
		free(v->envs[i]);
	}
	free(v->pts);
	free(v->envs);
	free(v->envlens);
	free(v->e);
	proto_members_free(v->ms);
	free(v);
}

const struct members *
team_view_members(const struct team_view *v)
{
	return v != NULL ? v->ms : NULL;
}

const struct member_entry *
team_view_entry(const struct team_view *v, long i)
{
	return v != NULL && i >= 0 && (size_t)i < v->n ? &v->e[i] : NULL;
}

/* The envelope of the view's entry i when it came from outside the log
 * (a proof), else NULL: borrowed from the view. */
const uint8_t *
team_view_env(const struct team_view *v, long i, size_t *len)
{
	if (v == NULL || i < 0 || (size_t)i >= v->n || v->envs[i] == NULL)
		return NULL;
	*len = v->envlens[i];
	return v->envs[i];
}

static int
view_grow(struct team_view *v)
{
	size_t cap = v->cap ? 2 * v->cap : 16;
	struct member_entry *ne;
	uint8_t **np, **nenv;
	size_t *nl;

	if ((ne = realloc(v->e, cap * sizeof(*ne))) != NULL)
		v->e = ne;
	if ((np = realloc(v->pts, cap * sizeof(*np))) != NULL)
		v->pts = np;
	if ((nenv = realloc(v->envs, cap * sizeof(*nenv))) != NULL)
		v->envs = nenv;
	if ((nl = realloc(v->envlens, cap * sizeof(*nl))) != NULL)
		v->envlens = nl;
	if (ne == NULL || np == NULL || nenv == NULL || nl == NULL)
		return -1;
	v->cap = cap;
	return 0;
}

/* Takes the change's plaintext, which e borrows from; keeps a copy of
 * env if copy. */
static int
view_push(struct team_view *v, const struct member_entry *e, uint8_t *pt,
    const uint8_t *env, size_t len, int copy)
{
	uint8_t *dup = NULL;

	if (v->n == v->cap && view_grow(v) != 0)
		return -1;
	if (copy && (dup = malloc(len)) == NULL)
		return -1;
	if (copy)
		memcpy(dup, env, len);
	v->e[v->n] = *e;
	v->envs[v->n] = dup;
	v->envlens[v->n++] = len;
	v->pts[v->npts++] = pt;
	return 0;
}

/* Reads one envelope, if it is a membership entry this device can open,
 * into the view. A change that is not one (or is not readable) is left
 * out: it counts for nothing, on every device alike. */
static int
view_add_env(struct team_view *v, const struct store_keyring *kr,
    const uint8_t *env, size_t len, int copy)
{
	struct member_entry me;
	struct envelope e;
	struct write_ref ref;
	struct change *c = NULL;
	uint8_t *pt = NULL;
	int rc = 0;

	if (proto_envelope_decode(&e, env, len) != 0)
		return 0;
	if (store_open_entry(kr, &e, &c, &pt) == 0 && c != NULL &&
	    c->kind == KIND_MEMBER) {
		memcpy(ref.author, e.author, PROTO_IDLEN);
		ref.seq = e.seq;
		proto_envelope_hash(&e, ref.hash);
		ref.has_hash = 1;
		if (proto_member_entry(&me, c, &ref, e.hlc) == 0) {
			if ((rc = view_push(v, &me, pt, env, len, copy)) == 0)
				pt = NULL;
		}
	}
	free(c);
	free(pt);
	return rc;
}

/* Adds the proofs of a hello: each must verify, sealed under a network
 * key this device holds. */
static int
view_add_proofs(struct team_view *v, const struct device *d,
    const uint8_t *const *extra, const size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t hash[PROTO_HASHLEN];
		const struct store_key *k;
		struct envelope e;

		if (proto_envelope_decode(&e, extra[i], lens[i]) != 0 ||
		    (k = store_keyring_find(d->keyring, e.key_id)) == NULL ||
		    k->use != KEY_NETWORK)
			continue;
		proto_envelope_hash(&e, hash);
		if (proto_envelope_verify(&e, hash) != 0)
			continue;
		if (view_add_env(v, d->keyring, extra[i], lens[i], 1) != 0)
			return -1;
	}
	return 0;
}

/* The proofs this device's own invite carried, kept at join: until its
 * team's records reach it, they are how it knows it is a member. */
static int
view_add_own(struct team_view *v, const struct device *d,
    struct store_txn *t)
{
	char key[80], hex[2 * PROTO_IDLEN + 1];
	struct wire_hello h;
	const void *val;
	size_t len;

	sodium_bin2hex(hex, sizeof(hex), d->id, PROTO_IDLEN);
	snprintf(key, sizeof(key), "vouch:%s", hex);
	if (store_meta_get(t, key, &val, &len) != 0 ||
	    wire_hello_decode(&h, val, len) != 0)
		return 0;
	return view_add_proofs(v, d, h.proofs, h.proof_lens, h.nproofs);
}

struct gather {
	struct team_view		*v;
	struct store_txn		*t;
	const struct store_keyring	*kr;
	int				 rc;
};

static int
gather_env(const uint8_t *env, size_t len, void *arg)
{
	struct gather *g = arg;

	if (view_add_env(g->v, g->kr, env, len, 0) != 0)
		g->rc = -1;
	return g->rc;
}

static int
gather_record(const struct record *r, void *arg)
{
	struct gather *g = arg;
	int rc = store_history_each(g->t, r->id, gather_env, g);

	return rc != 0 ? rc : g->rc;
}

static void
founder_of(const struct device *d, uint8_t out[PROTO_IDLEN])
{
	/* A device of a team of one is its own founder. */
	memcpy(out, sodium_is_zero(d->founder, PROTO_IDLEN) ? d->id :
	    d->founder, PROTO_IDLEN);
}

/* Every membership entry held, plus extra (signed envelopes from a
 * peer's hello: each must verify), evaluated. NULL if memory ran out or
 * the store failed. */
struct team_view *
team_view_with(const struct device *d, struct store_txn *t,
    const uint8_t *const *extra, const size_t *lens, size_t nextra)
{
	struct team_view *v = calloc(1, sizeof(*v));
	struct gather g = { v, t, d->keyring, 0 };

	if (v == NULL)
		return NULL;
	founder_of(d, v->founder);
	if (store_records_each(t, KIND_MEMBER, gather_record, &g) != 0 ||
	    g.rc != 0 || view_add_own(v, d, t) != 0 ||
	    view_add_proofs(v, d, extra, lens, nextra) != 0)
		goto fail;
	if ((v->ms = proto_members_eval(v->founder, v->e, v->n)) == NULL)
		goto fail;
	return v;
fail:
	team_view_free(v);
	return NULL;
}

/* Which keys the keyring holds: a membership entry sealed under a key
 * learned since (a new epoch's) was left out of a view read before. */
static void
keyring_mark(const struct store_keyring *kr, uint8_t out[16])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 16);
	for (size_t i = 0; kr != NULL && i < kr->nkeys; i++)
		crypto_generichash_update(&st, kr->keys[i].id, PROTO_KEYIDLEN);
	crypto_generichash_final(&st, out, 16);
}

/* The cached view of what the store holds, evaluated again only when a
 * membership entry was applied since (or the transaction t sees another
 * generation), or the keyring changed. NULL if it cannot be read.
 * Borrowed from d until the next call. */
const struct team_view *
team_view(const struct device *d, struct store_txn *t)
{
	uint8_t gen[STORE_MEMBERS_GENLEN] = { 0 }, founder[PROTO_IDLEN];
	uint8_t keys[16];
	struct team_view *v;
	const void *val;
	size_t len;

	if (d->cache == NULL)
		return NULL;	/* not opened by device_open */
	if (store_meta_get(t, STORE_MEMBERS_GEN, &val, &len) == 0 &&
	    len == sizeof(gen))
		memcpy(gen, val, len);
	founder_of(d, founder);
	keyring_mark(d->keyring, keys);
	v = d->cache->members;
	if (v != NULL && memcmp(v->gen, gen, sizeof(gen)) == 0 &&
	    memcmp(v->founder, founder, PROTO_IDLEN) == 0 &&
	    memcmp(v->keys, keys, sizeof(keys)) == 0)
		return v;
	if ((v = team_view_with(d, t, NULL, NULL, 0)) == NULL)
		return NULL;
	memcpy(v->gen, gen, sizeof(gen));
	memcpy(v->keys, keys, sizeof(keys));
	team_view_free(d->cache->members);
	d->cache->members = v;
	return v;
}

const struct members *
team_members(const struct device *d, struct store_txn *t)
{
	return team_view_members(team_view(d, t));
}

const char *
team_role_name(uint8_t role)
{
	switch (role) {
	case MROLE_ADMIN:
		return "admin";
	case MROLE_BOX:
		return "box";
	default:
		return "teacher";
	}
}

/* The "seen" value a new membership entry of this device carries: the
 * heads of the membership it holds. */
int
team_seen_value(const struct device *d, struct store_txn *t, char *out,
    size_t cap)
{
	const struct team_view *v = team_view(d, t);
	struct write_ref refs[MEMBERS_MAX_SEEN];
	size_t n = 0;

	if (v == NULL)
		return -1;
	for (size_t i = 0; i < v->n && n < MEMBERS_MAX_SEEN; i++)
		if (v->ms->head[i])
			refs[n++] = v->e[i].ref;
	return proto_member_refs_format(refs, n, out, cap);
}

struct store_keyring *
team_network_keyring(const struct device *d)
{
	struct store_keyring *kr = sodium_malloc(sizeof(*kr));

	if (kr == NULL)
		return NULL;
	kr->nkeys = 0;
	/* Epoch records too: whether one counts is judged when its keys are
	 * learned, by its author's cut-off then (epoch_author_ok), so that
	 * an admin's removal later overturned does not lose its epoch. */
	for (size_t i = 0; d->keyring != NULL && i < d->keyring->nkeys; i++)
		if (d->keyring->keys[i].use == KEY_NETWORK ||
		    d->keyring->keys[i].use == KEY_EPOCH ||
		    d->keyring->keys[i].use == KEY_RECEIPT)
			kr->keys[kr->nkeys++] = d->keyring->keys[i];
	return kr;
}

/* ---- rebuilds follow the membership (store_rebuild_rule) ---- */

/* What one rebuild consults: the membership as the log gives it (the
 * records are what is being rebuilt), and the network keys a removed
 * admin's later entries are applied with. */
struct team_rebuild {
	struct team_view	*view;
	struct store_keyring	*netonly;
};

void
team_rebuild_free(struct team_rebuild *r)
{
	if (r == NULL)
		return;
	team_view_free(r->view);
	sodium_free(r->netonly);
	free(r);
}

struct log_gather {
	struct team_view	*v;
	const struct device	*d;
	struct store_txn	*t;
	uint8_t			 author[PROTO_IDLEN];
	uint64_t		 fork;	/* the author's fork point, or max */
	int			 rc;
};

/* A membership entry of the log, as live applies read it: sealed under
 * a network key held, not past its author's fork point. */
static int
log_member(const uint8_t *env, size_t len, void *arg)
{
	struct log_gather *g = arg;
	const struct store_key *k;
	struct envelope e;
	uint64_t fseq;
	int rc;

	if (proto_envelope_decode(&e, env, len) != 0 ||
	    (k = store_keyring_find(g->d->keyring, e.key_id)) == NULL ||
	    k->use != KEY_NETWORK)
		return 0;
	if (memcmp(e.author, g->author, PROTO_IDLEN) != 0) {
		memcpy(g->author, e.author, PROTO_IDLEN);
		if ((rc = store_fork_get(g->t, e.author, &fseq)) != 0 &&
		    rc != STORE_ENOTFOUND)
			return g->rc = rc;
		g->fork = rc == 0 ? fseq : UINT64_MAX;
	}
	if (e.seq <= g->fork && view_add_env(g->v, g->d->keyring, env, len,
	    0) != 0)
		g->rc = STORE_ENOMEM;
	return g->rc;
}

/* The membership of the entries in the log (and this device's own
 * invite's proofs), evaluated; NULL on failure. */
static struct team_view *
team_view_of_log(const struct device *d, struct store_txn *t)
{
	struct team_view *v = calloc(1, sizeof(*v));
	struct log_gather g = { v, d, t, { 0 }, UINT64_MAX, 0 };

	if (v == NULL)
		return NULL;
	founder_of(d, v->founder);
	memset(g.author, 0xff, sizeof(g.author));
	if (store_log_each(t, log_member, &g) != 0 || g.rc != 0 ||
	    view_add_own(v, d, t) != 0 ||
	    (v->ms = proto_members_eval(v->founder, v->e, v->n)) == NULL) {
		team_view_free(v);
		return NULL;
	}
	return v;
}

#define CUT_PREFIX	"cut:"	/* + device hex: the cut-off a rebuild used */

static int
cut_collect(const char *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	char (*keys)[80] = arg;
	size_t n = 0;

	(void)val;
	(void)vlen;
	while (n < EPOCH_MAX && keys[n][0] != '\0')
		n++;
	if (n < EPOCH_MAX && klen < sizeof(keys[0])) {
		memcpy(keys[n], key, klen);
		keys[n][klen] = '\0';
	}
	return 0;
}

/* Notes the cut-off each removed device's entries were rebuilt with, so
 * that team_settle_cuts knows when a rebuild is owed. */
static int
cut_marks_write(struct store_txn *t, const struct members *ms)
{
	char (*keys)[80] = calloc(EPOCH_MAX, sizeof(*keys));
	char key[80], hex[2 * PROTO_IDLEN + 1];
	uint8_t be[8];
	int rc;

	if (keys == NULL)
		return STORE_ENOMEM;
	rc = store_meta_each(t, CUT_PREFIX, cut_collect, keys);
	for (size_t i = 0; rc == 0 && i < EPOCH_MAX && keys[i][0]; i++)
		rc = store_meta_del(t, keys[i]);
	free(keys);
	for (size_t i = 0; rc == 0 && i < ms->n; i++) {
		if (ms->m[i].removal == MREMOVE_NONE)
			continue;
		sodium_bin2hex(hex, sizeof(hex), ms->m[i].id, PROTO_IDLEN);
		snprintf(key, sizeof(key), CUT_PREFIX "%s", hex);
		for (int b = 0; b < 8; b++)
			be[b] = (uint8_t)(ms->m[i].cutoff_seq >> (56 - 8 * b));
		rc = store_meta_put(t, key, be, sizeof(be));
	}
	return rc;
}

static int
rule_begin(void *arg, struct store_txn *t)
{
	struct device *d = arg;
	struct team_rebuild *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return STORE_ENOMEM;
	team_rebuild_free(d->cache->rebuild);
	d->cache->rebuild = r;
	if ((r->view = team_view_of_log(d, t)) == NULL ||
	    (r->netonly = team_network_keyring(d)) == NULL)
		return STORE_ENOMEM;
	return cut_marks_write(t, r->view->ms);
}

/* Exactly what live applies do (team_limit): a removed device's entries
 * after its cut-off are not applied, but for a removed admin's, whose
 * membership entries count (with the network keys alone). */
static int
rule_limit(void *arg, struct store_txn *t, const uint8_t *author,
    uint64_t *limit, const struct store_keyring **past)
{
	struct device *d = arg;
	const struct team_rebuild *r = d->cache->rebuild;
	const struct member *m;

	(void)t;
	*limit = UINT64_MAX;
	*past = NULL;
	if (r == NULL || r->view == NULL ||
	    (m = proto_members_find(r->view->ms, author)) == NULL)
		return 0;
	if (m->role == MROLE_BOX && m->removal == MREMOVE_NONE) {
		*limit = 0;	/* receipts and membership entries only */
		*past = r->netonly;
		return 0;
	}
	if (m->removal == MREMOVE_NONE)
		return 0;
	*limit = m->cutoff_seq;
	if (m->role == MROLE_ADMIN)
		*past = r->netonly;
	return 0;
}

void
team_rebuild_rule(struct device *d)
{
	struct store_rebuild_rule rule = { rule_begin, rule_limit, d };

	store_set_rebuild_rule(d->st, &rule);
}

struct settle {
	struct device		*d;
	struct store_txn	*t;
	const struct members	*ms;
	int			 owed;
};

/* A device once cut off at another cut-off (or no longer removed) whose
 * entries past the old one are held. */
static int
settle_mark(const char *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct settle *s = arg;
	const uint8_t *b = val;
	uint8_t id[PROTO_IDLEN], hash[PROTO_HASHLEN];
	const struct member *m;
	uint64_t cut = 0, head;
	size_t n;

	if (vlen != 8 || klen != strlen(CUT_PREFIX) + 2 * PROTO_IDLEN ||
	    sodium_hex2bin(id, sizeof(id), key + strlen(CUT_PREFIX),
	    2 * PROTO_IDLEN, NULL, &n, NULL) != 0 || n != PROTO_IDLEN)
		return 0;
	for (int i = 0; i < 8; i++)
		cut = cut << 8 | b[i];
	m = proto_members_find(s->ms, id);
	if ((m == NULL || m->removal == MREMOVE_NONE ||
	    m->cutoff_seq != cut) && store_head_get(s->t, id, &head,
	    hash) == 0 && head > cut)
		s->owed = 1;
	return s->owed;
}

/* 1 if a removed device holds entries past its cut-off here that no
 * rebuild left out yet (they arrived before the removal did), or a
 * cut-off a rebuild used has moved; 0 if not; or a store code. */
static int
cuts_owed(struct device *d)
{
	struct settle s = { .d = d };
	uint8_t hash[PROTO_HASHLEN], be[8];
	char key[80], hex[2 * PROTO_IDLEN + 1];
	const void *v;
	uint64_t head;
	size_t len;
	int rc;

	if ((rc = store_begin(d->st, STORE_RDONLY, &s.t)) != 0)
		return rc;
	if ((s.ms = team_members(d, s.t)) == NULL) {
		store_abort(s.t);
		return STORE_ENOMEM;
	}
	for (size_t i = 0; !s.owed && i < s.ms->n; i++) {
		const struct member *m = &s.ms->m[i];

		if (m->removal == MREMOVE_NONE ||
		    store_head_get(s.t, m->id, &head, hash) != 0 ||
		    head <= m->cutoff_seq)
			continue;
		sodium_bin2hex(hex, sizeof(hex), m->id, PROTO_IDLEN);
		snprintf(key, sizeof(key), CUT_PREFIX "%s", hex);
		for (int b = 0; b < 8; b++)
			be[b] = (uint8_t)(m->cutoff_seq >> (56 - 8 * b));
		s.owed = store_meta_get(s.t, key, &v, &len) != 0 ||
		    len != sizeof(be) || memcmp(v, be, sizeof(be)) != 0;
	}
	if (!s.owed)
		rc = store_meta_each(s.t, CUT_PREFIX, settle_mark, &s);
	store_abort(s.t);
	return rc < 0 || rc > 1 ? rc : s.owed;
}

/*
 * Entries a removed device wrote after its cut-off that this device took
 * before it heard of the removal (from the device itself, or relayed)
 * were applied then. Once the removal is known they count for nothing,
 * as on a device that heard of the removal first: the derived state is
 * rebuilt without them (the rebuild rule above). Likewise when a removal
 * is overturned (two admins who removed each other) and entries it left
 * out count again. 1 if it rebuilt, 0, or a store code.
 */
int
team_settle_cuts(struct device *d)
{
	int rc;

	if (d->cache->unsettled)
		return 0;
	if ((rc = cuts_owed(d)) != 1)
		return rc;
	if ((rc = store_rebuild(d->st, d->keyring)) != 0)
		return rc;
	/* The log's membership and the rebuilt records' should agree; if
	 * some entry makes them differ, one rebuild per process is enough. */
	if ((rc = cuts_owed(d)) != 0)
		d->cache->unsettled = 1;
	return rc < 0 ? rc : 1;
}
