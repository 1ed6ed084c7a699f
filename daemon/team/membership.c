/*
 * The team's membership as this device holds it: the membership entries
 * (every applied change of a KIND_MEMBER record, by any author, the box's
 * included) read from the records' histories and evaluated by
 * proto_members_eval (proto/members.h says the rules). The result is
 * cached in the device and evaluated again only when the store's
 * STORE_MEMBERS_GEN changes, that is when a membership entry is applied:
 * a connection's every batch and acknowledgement asks who is a member,
 * and the box answers from the cache.
 *
 * The entries read from the log are also kept in the store, sealed, for
 * the next process (view_keep, at the end of a one-shot sync): reading
 * and opening every membership entry anew was ~9% of a laptop's one-shot
 * sync in a team of 50, paid at each start to check the peer's
 * membership in the handshake. The copy is good while the store's
 * STORE_MEMBERS_GEN, the founder and the keyring are those it was read
 * with; else, or if it does not open, the view is read from the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"
#include "wire.h"

struct team_view {
	size_t			 nlog;		/* e[0..nlog): from the log */
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

/* 1 if the view holds the entry author:seq with hash from the log. */
static int
view_holds(const struct team_view *v, const uint8_t *author, uint64_t seq,
    const uint8_t *hash)
{
	for (size_t i = 0; i < v->nlog; i++)
		if (v->e[i].ref.seq == seq && v->e[i].ref.has_hash &&
		    memcmp(v->e[i].ref.author, author, PROTO_IDLEN) == 0 &&
		    memcmp(v->e[i].ref.hash, hash, PROTO_HASHLEN) == 0)
			return 1;
	return 0;
}

/* Adds the proofs of a hello: each must verify, sealed under a network
 * key this device holds. A proof the log holds already (the same entry,
 * hash and all: a device's own invite once its team's records reached
 * it) would add the same entry twice, which the evaluation drops: it is
 * skipped before its signature is checked and it is opened again. */
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
		if (view_holds(v, e.author, e.seq, hash) ||
		    proto_envelope_verify(&e, hash) != 0)
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

/* A view of every membership entry the log holds, not yet evaluated.
 * NULL if memory ran out or the store failed. */
static struct team_view *
view_from_log(const struct device *d, struct store_txn *t)
{
	struct team_view *v = calloc(1, sizeof(*v));
	struct gather g = { v, t, d->keyring, 0 };

	if (v == NULL)
		return NULL;
	founder_of(d, v->founder);
	/* The records' ids only: each of their entries is opened below, and
	 * loading their values as well opened every one twice. */
	if (store_records_heads_each(t, KIND_MEMBER, gather_record,
	    &g) != 0 || g.rc != 0) {
		team_view_free(v);
		return NULL;
	}
	v->nlog = v->n;
	return v;
}

/* Adds to v, which holds the log's entries, this device's own proofs and
 * extra (signed envelopes from a peer's hello: each must verify), and
 * evaluates it. Frees v and returns NULL on failure. */
static struct team_view *
view_finish(struct team_view *v, const struct device *d, struct store_txn *t,
    const uint8_t *const *extra, const size_t *lens, size_t nextra)
{
	if (v == NULL || view_add_own(v, d, t) != 0 ||
	    view_add_proofs(v, d, extra, lens, nextra) != 0 ||
	    (v->ms = proto_members_eval(v->founder, v->e, v->n)) == NULL) {
		team_view_free(v);
		return NULL;
	}
	return v;
}

/* Every membership entry held, plus extra (signed envelopes from a
 * peer's hello: each must verify), evaluated. NULL if memory ran out or
 * the store failed. */
struct team_view *
team_view_with(const struct device *d, struct store_txn *t,
    const uint8_t *const *extra, const size_t *lens, size_t nextra)
{
	return view_finish(view_from_log(d, t), d, t, extra, lens, nextra);
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

/*
 * The log's membership entries kept for the next process: meta
 * VIEW_KEPT = header, nonce, then the entries sealed under a key derived
 * from this device's signing key (XChaCha20-Poly1305, the header as its
 * associated data), so the copy is as closed at rest as the entries in
 * the log, and only this device can read or write it. The header says what the copy was read with; any other
 * generation, founder or keyring, or a copy that does not open or parse,
 * and the view is read from the log again.
 */
#define VIEW_KEPT	"members_view"
#define VIEW_KEPT_FORMAT 2	/* 1 was sealed under a team key */
#define VIEW_HDRLEN	(1 + STORE_MEMBERS_GENLEN + 16 + PROTO_IDLEN)
#define VIEW_NONCELEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define VIEW_ABYTES	crypto_aead_xchacha20poly1305_ietf_ABYTES
#define VIEW_NAME_NONE	UINT32_MAX

static void
view_header(uint8_t hdr[VIEW_HDRLEN], const uint8_t *gen, const uint8_t *keys,
    const uint8_t *founder)
{
	hdr[0] = VIEW_KEPT_FORMAT;
	memcpy(hdr + 1, gen, STORE_MEMBERS_GENLEN);
	memcpy(hdr + 1 + STORE_MEMBERS_GENLEN, keys, 16);
	memcpy(hdr + 1 + STORE_MEMBERS_GENLEN + 16, founder, PROTO_IDLEN);
}

/* The sealing key, from this device's own signing key: not a team key,
 * which a removed member still holds for the epochs it was in (it could
 * read the roster of a later epoch from a copied folder, or write a copy
 * that re-adds it); the signing key is the device's alone and is sealed
 * under its passphrase at rest. -1 if it is not loaded. */
static int
view_key(const struct device *d, uint8_t key[32])
{
	static const char ctx[] = "satchel kept membership view v2";

	_Static_assert(PROTO_SKLEN <= crypto_generichash_KEYBYTES_MAX,
	    "the signing key keys BLAKE2b");
	if (d->sign_sk == NULL)
		return -1;
	return crypto_generichash(key, 32, (const uint8_t *)ctx,
	    sizeof(ctx) - 1, d->sign_sk, PROTO_SKLEN);
}

static void
put_be(msgpack_sbuffer *b, uint64_t v, int n)
{
	uint8_t x[8];

	for (int i = 0; i < n; i++)
		x[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	msgpack_sbuffer_write(b, (const char *)x, (size_t)n);
}

static void
put_ref(msgpack_sbuffer *b, const struct write_ref *r)
{
	msgpack_sbuffer_write(b, (const char *)r->author, PROTO_IDLEN);
	put_be(b, r->seq, 8);
	msgpack_sbuffer_write(b, (const char *)r->hash, PROTO_HASHLEN);
	put_be(b, r->has_hash, 1);
}

static void
put_entry(msgpack_sbuffer *b, const struct member_entry *e)
{
	put_ref(b, &e->ref);
	put_be(b, e->hlc, 8);
	msgpack_sbuffer_write(b, (const char *)e->target, PROTO_IDLEN);
	put_be(b, e->role, 1);
	put_be(b, e->removal, 1);
	put_be(b, e->has_seen, 1);
	put_be(b, e->has_cutoff, 1);
	put_be(b, e->name != NULL ? e->name_len : VIEW_NAME_NONE, 4);
	if (e->name != NULL)
		msgpack_sbuffer_write(b, e->name, e->name_len);
	put_be(b, e->cutoff_seq, 8);
	msgpack_sbuffer_write(b, (const char *)e->cutoff_hash, PROTO_HASHLEN);
	put_be(b, e->nseen, 1);
	for (size_t i = 0; i < e->nseen; i++)
		put_ref(b, &e->seen[i]);
}

struct cursor {
	const uint8_t	*p;
	size_t		 left;
	int		 bad;
};

static const uint8_t *
take(struct cursor *c, size_t n)
{
	const uint8_t *p = c->p;

	if (c->bad || n > c->left) {
		c->bad = 1;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

static uint64_t
take_be(struct cursor *c, int n)
{
	const uint8_t *p = take(c, (size_t)n);
	uint64_t v = 0;

	for (int i = 0; p != NULL && i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void
take_bytes(struct cursor *c, uint8_t *out, size_t n)
{
	const uint8_t *p = take(c, n);

	if (p != NULL)
		memcpy(out, p, n);
}

static void
take_ref(struct cursor *c, struct write_ref *r)
{
	take_bytes(c, r->author, PROTO_IDLEN);
	r->seq = take_be(c, 8);
	take_bytes(c, r->hash, PROTO_HASHLEN);
	r->has_hash = (uint8_t)take_be(c, 1);
}

/* One entry; its name borrows from the cursor's buffer. */
static void
take_entry(struct cursor *c, struct member_entry *e)
{
	uint32_t nlen;

	memset(e, 0, sizeof(*e));
	take_ref(c, &e->ref);
	e->hlc = take_be(c, 8);
	take_bytes(c, e->target, PROTO_IDLEN);
	e->role = (uint8_t)take_be(c, 1);
	e->removal = (uint8_t)take_be(c, 1);
	e->has_seen = (uint8_t)take_be(c, 1);
	e->has_cutoff = (uint8_t)take_be(c, 1);
	if ((nlen = (uint32_t)take_be(c, 4)) != VIEW_NAME_NONE) {
		e->name = (const char *)take(c, nlen);
		e->name_len = nlen;
	}
	e->cutoff_seq = take_be(c, 8);
	take_bytes(c, e->cutoff_hash, PROTO_HASHLEN);
	if ((e->nseen = (size_t)take_be(c, 1)) > MEMBERS_MAX_SEEN)
		c->bad = 1;
	for (size_t i = 0; i < e->nseen && !c->bad; i++)
		take_ref(c, &e->seen[i]);
}

/* The entries of pt (which the view takes) into a new view; NULL if
 * they do not parse. */
static struct team_view *
view_parse(uint8_t *pt, size_t len, const uint8_t *founder)
{
	struct cursor c = { pt, len, 0 };
	struct team_view *v = calloc(1, sizeof(*v));
	uint64_t n = take_be(&c, 4);

	if (v == NULL) {
		free(pt);
		return NULL;
	}
	memcpy(v->founder, founder, PROTO_IDLEN);
	for (uint64_t i = 0; i < n && !c.bad; i++) {
		struct member_entry e;

		take_entry(&c, &e);
		if (!c.bad && view_push(v, &e, i == 0 ? pt : NULL, NULL, 0,
		    0) != 0)
			c.bad = 1;
		if (!c.bad && i == 0)
			pt = NULL;	/* the view holds it */
	}
	free(pt);
	if (c.bad || c.left != 0) {
		team_view_free(v);
		return NULL;
	}
	v->nlog = v->n;
	return v;
}

/* The log's entries as kept in the store, if the copy was read with gen,
 * keys and founder; else NULL. Not evaluated. */
static struct team_view *
view_kept(const struct device *d, struct store_txn *t, const uint8_t *gen,
    const uint8_t *keys, const uint8_t *founder)
{
	uint8_t hdr[VIEW_HDRLEN], key[32], *pt;
	const uint8_t *val;
	const void *p;
	unsigned long long ptlen;
	size_t len;

	view_header(hdr, gen, keys, founder);
	if (store_meta_get(t, VIEW_KEPT, &p, &len) != 0 ||
	    len < VIEW_HDRLEN + VIEW_NONCELEN + VIEW_ABYTES ||
	    memcmp(p, hdr, VIEW_HDRLEN) != 0 || view_key(d, key) != 0)
		return NULL;
	val = (const uint8_t *)p + VIEW_HDRLEN;
	len -= VIEW_HDRLEN;
	if ((pt = malloc(len)) == NULL)
		return NULL;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL,
	    val + VIEW_NONCELEN, len - VIEW_NONCELEN, hdr, sizeof(hdr), val,
	    key) != 0) {
		sodium_memzero(key, sizeof(key));
		free(pt);
		return NULL;
	}
	sodium_memzero(key, sizeof(key));
	return view_parse(pt, (size_t)ptlen, founder);
}

/* Seals v's log entries into out (after hdr and a nonce). */
static int
view_seal(const struct device *d, const struct team_view *v,
    const uint8_t hdr[VIEW_HDRLEN], msgpack_sbuffer *out)
{
	msgpack_sbuffer pt;
	uint8_t key[32], *ct;
	int rc = -1;

	msgpack_sbuffer_init(&pt);
	put_be(&pt, v->nlog, 4);
	for (size_t i = 0; i < v->nlog; i++)
		put_entry(&pt, &v->e[i]);
	ct = malloc(VIEW_HDRLEN + VIEW_NONCELEN + pt.size + VIEW_ABYTES);
	if (ct != NULL && view_key(d, key) == 0) {
		memcpy(ct, hdr, VIEW_HDRLEN);
		randombytes_buf(ct + VIEW_HDRLEN, VIEW_NONCELEN);
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct + VIEW_HDRLEN +
		    VIEW_NONCELEN, NULL, (const uint8_t *)pt.data, pt.size,
		    hdr, VIEW_HDRLEN, NULL, ct + VIEW_HDRLEN, key);
		sodium_memzero(key, sizeof(key));
		msgpack_sbuffer_write(out, (const char *)ct, VIEW_HDRLEN +
		    VIEW_NONCELEN + pt.size + VIEW_ABYTES);
		rc = 0;
	}
	free(ct);
	sodium_memzero(pt.data, pt.size);
	msgpack_sbuffer_destroy(&pt);
	return rc;
}

int
team_view_keep(const struct device *d, struct store_txn *t)
{
	const struct team_view *v = team_view(d, t);
	uint8_t hdr[VIEW_HDRLEN];
	msgpack_sbuffer out;
	const void *p;
	size_t len;
	int rc;

	if (v == NULL)
		return 0;
	view_header(hdr, v->gen, v->keys, v->founder);
	if (store_meta_get(t, VIEW_KEPT, &p, &len) == 0 &&
	    len >= VIEW_HDRLEN && memcmp(p, hdr, VIEW_HDRLEN) == 0)
		return 0;	/* kept already */
	msgpack_sbuffer_init(&out);
	rc = 0;
	if (view_seal(d, v, hdr, &out) == 0)
		rc = store_meta_put(t, VIEW_KEPT, out.data, out.size);
	msgpack_sbuffer_destroy(&out);
	return rc;
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
	if ((v = view_finish(view_kept(d, t, gen, keys, founder), d, t, NULL,
	    NULL, 0)) == NULL &&
	    (v = team_view_with(d, t, NULL, NULL, 0)) == NULL)
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
