/*
 * The per-author logs and the vector. Local writes and received entries
 * take the same path: check the chain, append, then apply the change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store.h"
#include "store_int.h"

#define HEAD_LEN	(8 + PROTO_HASHLEN)

int	store_apply_change(struct store_txn *, const struct envelope *,
	    const uint8_t hash[PROTO_HASHLEN], const struct change *);

/*
 * Every entry appended moves its author's head: a transaction holds the
 * heads it moved, for up to HEADS_HELD authors, and writes them when it
 * ends (store_heads_flush, from txn_flush) or before a walk of them. A
 * sync's thousands of entries of one author write its head once.
 */
#define HEADS_HELD	16

struct store_heads {
	size_t		n;
	uint8_t		author[HEADS_HELD][PROTO_IDLEN];
	uint8_t		head[HEADS_HELD][HEAD_LEN];	/* seq, hash */
};

static uint8_t *
head_held(const struct store_txn *t, const uint8_t *author)
{
	const struct store_heads *h = t->heads;

	for (size_t i = 0; h != NULL && i < h->n; i++)
		if (memcmp(h->author[i], author, PROTO_IDLEN) == 0)
			return t->heads->head[i];
	return NULL;
}

int
store_heads_flush(struct store_txn *t)
{
	struct store_heads *h = t->heads;
	int rc = STORE_OK;

	for (size_t i = 0; h != NULL && i < h->n && rc == 0; i++)
		rc = store_put(t, TABLE_HEADS, h->author[i], PROTO_IDLEN,
		    h->head[i], HEAD_LEN);
	if (h != NULL)
		h->n = 0;
	return rc;
}

void
store_heads_free(struct store_txn *t)
{
	free(t->heads);
	t->heads = NULL;
}

static int
head_put(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t hash[PROTO_HASHLEN])
{
	uint8_t *v = head_held(t, author);
	int rc;

	if (v == NULL) {
		if (t->heads == NULL &&
		    (t->heads = calloc(1, sizeof(*t->heads))) == NULL)
			return STORE_ENOMEM;
		if (t->heads->n == HEADS_HELD &&
		    (rc = store_heads_flush(t)) != 0)
			return rc;
		memcpy(t->heads->author[t->heads->n], author, PROTO_IDLEN);
		v = t->heads->head[t->heads->n++];
	}
	be64_put(v, seq);
	memcpy(v + 8, hash, PROTO_HASHLEN);
	return STORE_OK;
}

int
store_head_get(struct store_txn *t, const uint8_t *author, uint64_t *seq,
    uint8_t hash[PROTO_HASHLEN])
{
	const void *v;
	size_t len;
	int rc;

	if ((v = head_held(t, author)) != NULL) {
		*seq = be64_get(v);
		memcpy(hash, (const uint8_t *)v + 8, PROTO_HASHLEN);
		return STORE_OK;
	}
	rc = store_get(t, TABLE_HEADS, author, PROTO_IDLEN, &v, &len);
	if (rc == STORE_ENOTFOUND) {
		*seq = 0;
		memset(hash, 0, PROTO_HASHLEN);
		return STORE_OK;
	}
	if (rc != 0)
		return rc;
	if (len != HEAD_LEN)
		return STORE_EIO;
	*seq = be64_get(v);
	memcpy(hash, (const uint8_t *)v + 8, PROTO_HASHLEN);
	return STORE_OK;
}

static uint64_t
wall_ms_now(void)
{
	return store_wall_ms();
}

static int
clock_get(struct store_txn *t, uint64_t *last)
{
	const void *v;
	size_t len;
	int rc;

	/* Every entry moves it: read once a transaction, held in t and
	 * written when it ends (store_clock_flush). */
	if (t->hlc_held == 0) {
		rc = store_meta_get(t, "hlc", &v, &len);
		t->hlc = 0;
		if (rc == 0 && len == 8)
			t->hlc = be64_get(v);
		else if (rc != 0 && rc != STORE_ENOTFOUND)
			return rc;
		t->hlc_held = 1;
	}
	*last = t->hlc;
	return STORE_OK;
}

static int
clock_put(struct store_txn *t, uint64_t hlc)
{
	t->hlc = hlc;
	t->hlc_held = 2;
	return STORE_OK;
}

int
store_clock_flush(struct store_txn *t)
{
	uint8_t buf[8];

	if (t->hlc_held != 2)
		return STORE_OK;
	t->hlc_held = 1;
	be64_put(buf, t->hlc);
	return store_meta_put(t, "hlc", buf, sizeof(buf));
}

/* Every entry received moves this device's clock past it (within
 * reason), so local edits order after what was seen. */
static int
clock_seen(struct store_txn *t, uint64_t hlc)
{
	uint64_t last, next;
	int rc;

	if ((rc = clock_get(t, &last)) != 0)
		return rc;
	next = proto_hlc_seen(last, hlc, wall_ms_now());
	return next == last ? STORE_OK : clock_put(t, next);
}

static int
clock_next(struct store_txn *t, uint64_t wall_ms, uint64_t *hlc)
{
	uint64_t last;
	int rc;

	if ((rc = clock_get(t, &last)) != 0)
		return rc;
	*hlc = proto_hlc_now(last, wall_ms);
	return clock_put(t, *hlc);
}

/* An entry at or below the head: the one held (a replay), a properly
 * signed other one (a fork, to report), or a forgery. */
static int
held_or_fork(struct store_txn *t, const struct envelope *e,
    const uint8_t hash[PROTO_HASHLEN], const uint8_t *new_env,
    size_t new_len)
{
	uint8_t held_hash[PROTO_HASHLEN];
	struct envelope held;
	const uint8_t *env;
	size_t len;
	int rc;

	if ((rc = store_log_get(t, e->author, e->seq, &env, &len)) != 0)
		return rc == STORE_ENOTFOUND ? STORE_EIO : rc;
	if (proto_envelope_decode(&held, env, len) != 0)
		return STORE_EIO;
	proto_envelope_hash(&held, held_hash);
	if (sodium_memcmp(held_hash, hash, PROTO_HASHLEN) == 0)
		return STORE_EDUP;
	return fork_found(t, e, new_env, new_len, env, len);
}

/*
 * Appends an envelope after its author's head. A replay of an entry held
 * is STORE_EDUP; the same (author, seq) with another hash is a fork and is
 * refused, never written over. hash gets the entry's hash, which the
 * apply needs too: computed once, or taken from known (e's hash, which
 * the caller has already computed) when that is not NULL.
 */
static int
chain_append(struct store_txn *t, const struct envelope *e,
    const uint8_t *env, size_t len, int verify_sig, const uint8_t *known,
    uint8_t hash[PROTO_HASHLEN])
{
	uint8_t head_hash[PROTO_HASHLEN];
	uint64_t head_seq;
	int rc;

	if ((rc = store_head_get(t, e->author, &head_seq, head_hash)) != 0)
		return rc;
	if (known != NULL)
		memmove(hash, known, PROTO_HASHLEN);
	else
		proto_envelope_hash(e, hash);
	/* A frozen author's entries past its fork point are kept aside. */
	if ((rc = fork_entry(t, e, hash, env, len)) != STORE_ENOTFOUND)
		return rc;
	if (e->seq <= head_seq)
		return held_or_fork(t, e, hash, env, len);
	if (e->seq != head_seq + 1)
		return STORE_EGAP;
	/* Public hashes: no need for a constant-time compare per entry. */
	if (memcmp(e->prev_hash, head_hash, PROTO_HASHLEN) != 0)
		return proto_envelope_verify(e, hash) == 0 ? STORE_EFORK :
		    STORE_EBADENTRY;	/* signed: a branch parted earlier */
	if (verify_sig && proto_envelope_verify(e, hash) != 0)
		return STORE_EBADENTRY;
	if ((rc = log_append(t, e->author, e->seq, env, len)) != 0 ||
	    (rc = head_put(t, e->author, e->seq, hash)) != 0)
		return rc;
	return clock_seen(t, e->hlc);
}

int
store_append_local(struct store_txn *t, const struct store_author *a,
    const struct change *c, uint64_t wall_ms, struct write_ref *ref)
{
	struct envelope e;
	msgpack_sbuffer pt, env;
	const char *why;
	uint8_t *ct = NULL, hash[PROTO_HASHLEN];
	int rc = STORE_ENOMEM;

	msgpack_sbuffer_init(&pt);
	msgpack_sbuffer_init(&env);
	memset(&e, 0, sizeof(e));
	e.version = PROTO_VERSION;
	memcpy(e.author, a->id, PROTO_IDLEN);
	e.scope = a->scope;
	memcpy(e.key_id, a->key->id, PROTO_KEYIDLEN);
	if ((rc = store_head_get(t, e.author, &e.seq, e.prev_hash)) != 0 ||
	    (rc = clock_next(t, wall_ms, &e.hlc)) != 0)
		goto out;
	e.seq++;
	rc = STORE_EINVALID;
	if (proto_change_validate(c, a->key->use, &why) != 0 ||
	    proto_change_encode(c, &pt) != 0 || pt.size > PROTO_MAX_CHANGE)
		goto out;
	rc = STORE_ENOMEM;
	if ((ct = malloc(pt.size + PROTO_TAGLEN)) == NULL)
		goto out;
	rc = STORE_EBADENTRY;
	if (proto_envelope_seal(&e, a->key->key, (uint8_t *)pt.data, pt.size,
	    ct, a->sign_sk) != 0 || proto_envelope_encode(&e, &env) != 0)
		goto out;
	if ((rc = store_key_learn(t->st, a->key)) != 0 ||
	    (rc = chain_append(t, &e, (uint8_t *)env.data, env.size, 0,
	    NULL, hash)) != 0 || (rc = store_apply_change(t, &e, hash, c)) != 0)
		goto out;
	if (ref != NULL) {
		memcpy(ref->author, e.author, PROTO_IDLEN);
		ref->seq = e.seq;
	}
out:
	free(ct);
	msgpack_sbuffer_destroy(&pt);
	msgpack_sbuffer_destroy(&env);
	return rc;
}

const struct store_key *
store_keyring_find(const struct store_keyring *kr, const uint8_t *id)
{
	for (size_t i = 0; kr != NULL && i < kr->nkeys; i++)
		if (memcmp(kr->keys[i].id, id, PROTO_KEYIDLEN) == 0)
			return &kr->keys[i];
	return NULL;
}

/* Opens e into pt (ciphertext_len bytes) and c, then decodes and
 * validates its change exactly as a local write is validated; k is the
 * key e names. */
static int
read_into(const struct store_key *k, const struct envelope *e,
    struct change *c, uint8_t *pt, const char **why)
{
	return store_read_code(proto_entry_read(e, k->key, k->use, c, pt,
	    why));
}

int
store_read_code(int rc)
{
	switch (rc) {
	case 0:
		return STORE_OK;
	case PROTO_CHANGE_NEWER:
		return STORE_EDEFER;
	case PROTO_ENTRY_INVALID:
		return STORE_EINVALID;
	default:
		return STORE_EBADENTRY;
	}
}

/* Opens an entry whose key the keyring holds, then decodes and validates
 * its change exactly as a local write is validated. */
int
store_read_entry(const struct store_keyring *kr, const struct envelope *e,
    struct change **c, uint8_t **pt, const char **why)
{
	const struct store_key *k = store_keyring_find(kr, e->key_id);

	*c = NULL;
	*pt = NULL;
	*why = NULL;
	if (k == NULL || e->erased)
		return STORE_OK;	/* a relay's lot: stored, not read */
	if ((*pt = malloc(e->ciphertext_len)) == NULL ||
	    (*c = malloc(sizeof(**c))) == NULL)
		return STORE_ENOMEM;
	return read_into(k, e, *c, *pt, why);
}

int
store_open_entry(const struct store_keyring *kr, const struct envelope *e,
    struct change **c, uint8_t **pt)
{
	const char *why;
	int rc = store_read_entry(kr, e, c, pt, &why);

	if (rc == STORE_EINVALID || rc == STORE_EDEFER) {
		free(*c);
		*c = NULL;
	}
	return rc;
}

static void
unread_key(char out[80], const uint8_t *key_id)
{
	char hex[2 * PROTO_KEYIDLEN + 1];

	sodium_bin2hex(hex, sizeof(hex), key_id, PROTO_KEYIDLEN);
	snprintf(out, 80, "unread:%s", hex);
}

/* An entry held without its key: remembered by key, so that learning
 * the key later (a key epoch) tells whether a rebuild would read more. */
static int
unread_put(struct store_txn *t, const uint8_t *key_id)
{
	const void *v;
	size_t len;
	char key[80];

	unread_key(key, key_id);
	if (store_meta_get(t, key, &v, &len) == 0)
		return STORE_OK;
	return store_meta_put(t, key, "", 0);
}

int
store_unread_has(struct store_txn *t, const uint8_t *key_id)
{
	const void *v;
	size_t len;
	char key[80];

	unread_key(key, key_id);
	return store_meta_get(t, key, &v, &len) == 0;
}

int
store_unread_forget(struct store_txn *t, const uint8_t *key_id)
{
	char key[80];
	int rc;

	unread_key(key, key_id);
	rc = store_meta_del(t, key);
	return rc == STORE_ENOTFOUND ? STORE_OK : rc;
}

/* Applies an opened entry, or notes why it is held unapplied: the same
 * no-op on every device, never a reason to stop its author. */
static int
apply_read(struct store_txn *t, const struct envelope *e,
    const uint8_t hash[PROTO_HASHLEN], int rc, const struct change *c,
    const char *why)
{
	if (rc == STORE_OK && e->erased)
		return STORE_OK;	/* a stub: nothing left to apply */
	if (rc == STORE_OK)
		return c != NULL ? store_apply_change(t, e, hash, c) :
		    unread_put(t, e->key_id);
	if (rc == STORE_EINVALID || rc == STORE_EDEFER)
		return store_unapplied_put(t, e->author, e->seq,
		    rc == STORE_EDEFER ? UNAPPLIED_NEWER : UNAPPLIED_INVALID,
		    why);
	return rc;
}

/* An entry whose chain is already checked: received entries and a
 * rebuild take this one path. */
int
store_apply_held(struct store_txn *t, const struct store_keyring *kr,
    const struct envelope *e)
{
	uint8_t hash[PROTO_HASHLEN] = { 0 };
	struct change *c;
	const char *why;
	uint8_t *pt;
	int rc = store_read_entry(kr, e, &c, &pt, &why);

	if (rc == STORE_OK && c != NULL)
		proto_envelope_hash(e, hash);
	rc = apply_read(t, e, hash, rc, c, why);
	free(c);
	free(pt);
	return rc;
}

/* An entry an erasure named (store/erase.c) is held as its stub however
 * it comes: STORE_ENOTFOUND if it is not named. hash0 is e0's hash. */
static int
dropped_append(struct store_txn *t, const struct envelope *e0,
    const uint8_t *hash0, int verify_sig)
{
	struct envelope e = *e0;
	uint8_t hash[PROTO_HASHLEN];
	msgpack_sbuffer sb;
	int rc;

	if (e.erased || !store_drop_has(t, e.author, e.seq, hash0))
		return STORE_ENOTFOUND;
	msgpack_sbuffer_init(&sb);
	proto_envelope_erase(&e);
	if ((rc = store_stub_encode(&e, &sb)) == 0)
		rc = chain_append(t, &e, (uint8_t *)sb.data, sb.size,
		    verify_sig, NULL, hash);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* An entry its apply found about an erased student is held as its stub
 * from the start (store/erase.c); hash is e's. */
static int
dropped_now(struct store_txn *t, const struct envelope *e,
    const uint8_t *hash)
{
	int erased;

	if (e->erased || !store_drop_has(t, e->author, e->seq, hash))
		return STORE_OK;
	return store_erase_held(t, e->author, e->seq, hash, &erased);
}

void
store_apply_buf_free(struct store_apply_buf *b)
{
	if (b == NULL)
		return;
	free(b->change);
	free(b->pt);
	memset(b, 0, sizeof(*b));
}

/* Room in b for e's plaintext and a change; what it holds stays for the
 * next entry. */
static int
buf_reserve(struct store_apply_buf *b, size_t pt_len)
{
	uint8_t *p;

	if (b->change == NULL &&
	    (b->change = malloc(sizeof(*b->change))) == NULL)
		return STORE_ENOMEM;
	if (pt_len > b->pt_cap) {
		size_t cap = pt_len < 4096 ? 4096 : pt_len;

		if ((p = realloc(b->pt, cap)) == NULL)
			return STORE_ENOMEM;
		b->pt = p;
		b->pt_cap = cap;
	}
	return STORE_OK;
}

/* The apply of an entry read (or found unreadable) and hashed already:
 * rd is what reading it gave, with c or why (see store_apply_opened). */
static int
apply_opened(struct store_txn *t, const struct envelope *e,
    const uint8_t *env, size_t len, int verify_sig, const uint8_t *h0,
    int rd, const struct change *c, const char *why)
{
	uint8_t hash[PROTO_HASHLEN];
	int rc;

	if (rd == STORE_EBADENTRY || rd == STORE_ENOMEM)
		return rd;
	/* An entry an erasure named is held as its stub however it comes. */
	if ((rc = dropped_append(t, e, h0, verify_sig)) != STORE_ENOTFOUND)
		return rc;
	if ((rc = chain_append(t, e, env, len, verify_sig, h0, hash)) != 0 ||
	    (rc = apply_read(t, e, hash, rd, c, why)) != 0)
		return rc;
	return dropped_now(t, e, hash);
}

int
store_apply_decoded(struct store_txn *t, const struct store_keyring *kr,
    const struct envelope *e, const uint8_t *env, size_t len,
    int verify_sig, struct store_apply_buf *b)
{
	const struct store_key *k = store_keyring_find(kr, e->key_id);
	uint8_t h0[PROTO_HASHLEN];
	const char *why = NULL;
	int rc, rd = STORE_OK;

	if ((rc = store_keys_learn(t->st, kr)) != 0)
		return rc;
	/* A key that fails to open what it names is a forgery or damage:
	 * refused before anything is written. */
	if (e->erased)
		k = NULL;	/* a stub: nothing left to read */
	if (k != NULL && (rd = buf_reserve(b, e->ciphertext_len)) == STORE_OK)
		rd = read_into(k, e, b->change, b->pt, &why);
	if (rd == STORE_EBADENTRY || rd == STORE_ENOMEM)
		return rd;
	/* Hashed once: the drop list, the chain and the apply take it. */
	proto_envelope_hash(e, h0);
	return apply_opened(t, e, env, len, verify_sig, h0, rd,
	    k != NULL ? b->change : NULL, why);
}

int
store_apply_opened(struct store_txn *t, const struct store_keyring *kr,
    const struct envelope *e, const uint8_t *env, size_t len,
    int verify_sig, const uint8_t hash[PROTO_HASHLEN], int rd,
    const struct change *c, const char *why)
{
	int rc;

	if ((rc = store_keys_learn(t->st, kr)) != 0)
		return rc;
	return apply_opened(t, e, env, len, verify_sig, hash, rd, c, why);
}

int
store_apply_entry(struct store_txn *t, const struct store_keyring *kr,
    const uint8_t *env, size_t len, int verify_sig)
{
	struct store_apply_buf b = { 0 };
	struct envelope e;
	int rc;

	if (proto_envelope_decode(&e, env, len) != 0)
		return STORE_EBADENTRY;
	rc = store_apply_decoded(t, kr, &e, env, len, verify_sig, &b);
	store_apply_buf_free(&b);
	return rc;
}

struct heads_walk {
	int	(*fn)(const uint8_t *, uint64_t, const uint8_t *, void *);
	void	*arg;
	int	 bad;
};

static int
heads_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct heads_walk *w = arg;

	if (klen != PROTO_IDLEN || vlen != HEAD_LEN) {
		w->bad = 1;
		return 1;
	}
	return w->fn(k, be64_get(v), v + 8, w->arg);
}

int
store_heads_each(struct store_txn *t,
    int (*fn)(const uint8_t *, uint64_t, const uint8_t *, void *), void *arg)
{
	struct heads_walk w = { fn, arg, 0 };
	int rc = store_heads_flush(t);	/* the walk reads the table */

	if (rc == 0)
		rc = store_scan(t, TABLE_HEADS, NULL, 0, 0, heads_cb, &w);

	return rc != 0 ? rc : w.bad ? STORE_EIO : STORE_OK;
}

struct verify_walk {
	uint8_t		author[PROTO_IDLEN];
	uint64_t	seq;
	uint8_t		hash[PROTO_HASHLEN];
	uint64_t	count;
	struct store_txn *t;
	int		bad;
};

static int
verify_head(struct verify_walk *w)
{
	uint8_t hash[PROTO_HASHLEN];
	uint64_t seq;

	if (w->seq == 0)
		return 0;
	if (store_head_get(w->t, w->author, &seq, hash) != 0 ||
	    seq != w->seq || memcmp(hash, w->hash, PROTO_HASHLEN) != 0)
		return -1;
	return 0;
}

static int
verify_cb(const uint8_t *k, uint64_t kseq, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct verify_walk *w = arg;
	struct envelope e;

	if (proto_envelope_decode(&e, v, vlen) != 0)
		goto bad;
	if (memcmp(e.author, w->author, PROTO_IDLEN) != 0) {
		if (verify_head(w) != 0)
			goto bad;
		memcpy(w->author, e.author, PROTO_IDLEN);
		w->seq = 0;
		memset(w->hash, 0, PROTO_HASHLEN);
	}
	if (memcmp(k, e.author, PROTO_IDLEN) != 0 || e.seq != w->seq + 1 ||
	    kseq != e.seq ||
	    memcmp(e.prev_hash, w->hash, PROTO_HASHLEN) != 0)
		goto bad;
	proto_envelope_hash(&e, w->hash);
	if (proto_envelope_verify(&e, w->hash) != 0)
		goto bad;
	w->seq = e.seq;
	w->count++;
	return 0;
bad:
	w->bad = 1;
	return 1;
}

/* Walks every log from seq 1: chains, signatures and the vector. */
int
store_verify_log(struct store_txn *t, uint64_t *nentries)
{
	struct verify_walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.t = t;
	if ((rc = log_scan(t, verify_cb, &w)) != 0 && rc != STORE_EIO)
		return rc;
	if (rc == STORE_EIO)
		w.bad = 1;	/* a damaged segment */
	if (w.bad || verify_head(&w) != 0)
		return STORE_EBADENTRY;
	*nentries = w.count;
	return STORE_OK;
}

struct log_walk {
	int	(*fn)(const uint8_t *, size_t, void *);
	void	*arg;
};

static int
log_cb(const uint8_t *author, uint64_t seq, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct log_walk *w = arg;

	(void)author;
	(void)seq;
	return w->fn(v, vlen, w->arg);
}

/* Every entry held, author by author in seq order. */
int
store_log_each(struct store_txn *t,
    int (*fn)(const uint8_t *env, size_t len, void *), void *arg)
{
	struct log_walk w = { fn, arg };

	return log_scan(t, log_cb, &w);
}
