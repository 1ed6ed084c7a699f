/*
 * Forked authors. A device restored from a backup, or a data directory
 * copied to a second laptop, can write two different entries with the
 * same (author, seq): two branches of one log. Every device handles that
 * the same way, whichever branch it saw first: once it holds a verified
 * pair of entries at the first seq where the branches part (same author,
 * same seq, same predecessor, two valid signatures, two hashes), the
 * author is frozen at the fork point, the last seq both branches share.
 * Its entries past that point, on any branch, are kept aside and never
 * applied; the records are rebuilt from the log without them. Devices
 * that hold the same entries then show the same state.
 *
 * All of it lives in meta, so no table is added:
 *
 *	fork:<author hex>		   fork seq[8 BE], then the pair
 *					   { length[4 BE] envelope }*2
 *	forkkeep:<author hex><seq 16 hex><hash hex>  an entry past the fork
 *					   that is not in the log
 *	forkrebuild			   set when the records must be rebuilt
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"
#include "store_int.h"

#define FORK_PREFIX	"fork:"
#define KEEP_PREFIX	"forkkeep:"
#define REBUILD_KEY	"forkrebuild"
#define IDHEX		(2 * PROTO_IDLEN)
#define FORK_KEYLEN	(sizeof(FORK_PREFIX) - 1 + IDHEX + 1)
#define KEEP_KEYLEN	(sizeof(KEEP_PREFIX) - 1 + IDHEX + 16 + \
	2 * PROTO_HASHLEN + 1)


static void
fork_key(char out[FORK_KEYLEN], const uint8_t *author)
{
	memcpy(out, FORK_PREFIX, sizeof(FORK_PREFIX) - 1);
	sodium_bin2hex(out + sizeof(FORK_PREFIX) - 1, IDHEX + 1, author,
	    PROTO_IDLEN);
}

/* The key of a kept entry; with hash NULL, the prefix of every kept
 * entry of author at seq (or of every kept entry of author if seq is 0). */
static void
keep_key(char out[KEEP_KEYLEN], const uint8_t *author, uint64_t seq,
    const uint8_t *hash)
{
	size_t n = sizeof(KEEP_PREFIX) - 1;

	memcpy(out, KEEP_PREFIX, n);
	sodium_bin2hex(out + n, IDHEX + 1, author, PROTO_IDLEN);
	n += IDHEX;
	if (seq == 0)
		return;
	snprintf(out + n, 17, "%016llx", (unsigned long long)seq);
	n += 16;
	if (hash != NULL)
		sodium_bin2hex(out + n, 2 * PROTO_HASHLEN + 1, hash,
		    PROTO_HASHLEN);
}

int
store_fork_get(struct store_txn *t, const uint8_t *author,
    uint64_t *fork_seq)
{
	char key[FORK_KEYLEN];
	const void *v;
	size_t len;
	int rc;

	fork_key(key, author);
	if ((rc = store_meta_get(t, key, &v, &len)) != 0)
		return rc;
	if (len < 8)
		return STORE_EIO;
	*fork_seq = be64_get(v);
	return STORE_OK;
}

/* Splits a fork record into its two envelopes (borrowed). */
static int
fork_split(const uint8_t *v, size_t len, const uint8_t *env[2],
    size_t elen[2])
{
	size_t off = 8;

	for (int i = 0; i < 2; i++) {
		if (len - off < 4)
			return STORE_EIO;
		elen[i] = (size_t)v[off] << 24 | (size_t)v[off + 1] << 16 |
		    (size_t)v[off + 2] << 8 | v[off + 3];
		off += 4;
		if (len - off < elen[i])
			return STORE_EIO;
		env[i] = v + off;
		off += elen[i];
	}
	return off == len ? STORE_OK : STORE_EIO;
}

int
store_fork_evidence(struct store_txn *t, const uint8_t *author,
    const uint8_t *env[2], size_t len[2])
{
	char key[FORK_KEYLEN];
	const void *v;
	size_t vlen;
	int rc;

	fork_key(key, author);
	if ((rc = store_meta_get(t, key, &v, &vlen)) != 0)
		return rc;
	return vlen < 8 ? STORE_EIO : fork_split(v, vlen, env, len);
}

struct forks_walk {
	int	(*fn)(const uint8_t *, uint64_t, void *);
	void	*arg;
	int	 rc;
};

static int
forks_cb(const char *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct forks_walk *w = arg;
	uint8_t author[PROTO_IDLEN];
	size_t n = sizeof(FORK_PREFIX) - 1, len;

	if (klen != n + IDHEX || vlen < 8 || sodium_hex2bin(author,
	    sizeof(author), k + n, IDHEX, NULL, &len, NULL) != 0) {
		w->rc = STORE_EIO;
		return 1;
	}
	return w->fn(author, be64_get(v), w->arg);
}

int
store_forks_each(struct store_txn *t,
    int (*fn)(const uint8_t *author, uint64_t fork_seq, void *), void *arg)
{
	struct forks_walk w = { fn, arg, 0 };
	int rc = store_meta_each(t, FORK_PREFIX, forks_cb, &w);

	return rc != 0 ? rc : w.rc;
}

struct keep_walk {
	int	(*fn)(const uint8_t *, size_t, void *);
	void	*arg;
};

static int
keep_cb(const char *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct keep_walk *w = arg;

	(void)k;
	(void)klen;
	return w->fn(v, vlen, w->arg);
}

int
store_fork_kept_each(struct store_txn *t, const uint8_t *author,
    int (*fn)(const uint8_t *env, size_t len, void *), void *arg)
{
	char key[KEEP_KEYLEN];
	struct keep_walk w = { fn, arg };

	memset(key, 0, sizeof(key));
	keep_key(key, author, 0, NULL);
	return store_meta_each(t, key, keep_cb, &w);
}

/* The hash of the log's entry author:seq, or STORE_ENOTFOUND. */
static int
log_hash(struct store_txn *t, const uint8_t *author, uint64_t seq,
    uint8_t hash[PROTO_HASHLEN])
{
	struct envelope e;
	const uint8_t *env;
	size_t len;
	int rc;

	if (seq == 0) {		/* what seq 1 chains to */
		memset(hash, 0, PROTO_HASHLEN);
		return STORE_OK;
	}
	if ((rc = store_log_get(t, author, seq, &env, &len)) != 0)
		return rc;
	if (proto_envelope_decode(&e, env, len) != 0)
		return STORE_EIO;
	proto_envelope_hash(&e, hash);
	return STORE_OK;
}

static int
kept_has(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t *hash)
{
	char key[KEEP_KEYLEN];
	const void *v;
	size_t len;

	keep_key(key, author, seq, hash);
	return store_meta_get(t, key, &v, &len) == 0;
}

static int
keep_put(struct store_txn *t, const struct envelope *e,
    const uint8_t *hash, const uint8_t *env, size_t len)
{
	char key[KEEP_KEYLEN];

	keep_key(key, e->author, e->seq, hash);
	return store_meta_put(t, key, env, len);
}

/*
 * An entry of a frozen author past its fork point, on whichever branch.
 * Held already: STORE_EDUP. Chained to an entry held (in the log or kept
 * aside) and properly signed: kept aside, never applied, and reported as
 * STORE_EDUP, for there is nothing to apply. Anything else: STORE_EFORK.
 */
static int
fork_keep(struct store_txn *t, const struct envelope *e,
    const uint8_t hash[PROTO_HASHLEN], const uint8_t *env, size_t len)
{
	uint8_t prev[PROTO_HASHLEN];
	int rc;

	rc = log_hash(t, e->author, e->seq, prev);
	if (rc == 0 && sodium_memcmp(prev, hash, PROTO_HASHLEN) == 0)
		return STORE_EDUP;
	if (rc != 0 && rc != STORE_ENOTFOUND)
		return rc;
	if (kept_has(t, e->author, e->seq, hash))
		return STORE_EDUP;
	rc = log_hash(t, e->author, e->seq - 1, prev);
	if (rc != 0 && rc != STORE_ENOTFOUND)
		return rc;
	if ((rc != 0 || sodium_memcmp(prev, e->prev_hash,
	    PROTO_HASHLEN) != 0) &&
	    !kept_has(t, e->author, e->seq - 1, e->prev_hash))
		return STORE_EFORK;	/* cannot be placed on any branch */
	if (proto_envelope_verify(e, hash) != 0)
		return STORE_EBADENTRY;
	return (rc = keep_put(t, e, hash, env, len)) != 0 ? rc : STORE_EDUP;
}

int
fork_entry(struct store_txn *t, const struct envelope *e,
    const uint8_t *hash, const uint8_t *env, size_t len)
{
	uint64_t fseq;
	int rc;

	if (store_meta_none(t, FORK_PREFIX, &t->forks))
		return STORE_ENOTFOUND;	/* no author is frozen */
	if ((rc = store_fork_get(t, e->author, &fseq)) != 0)
		return rc;	/* STORE_ENOTFOUND: not frozen */
	if (e->seq <= fseq)
		return STORE_ENOTFOUND;
	return fork_keep(t, e, hash, env, len);
}

static int
fork_put(struct store_txn *t, const uint8_t *author, uint64_t fseq,
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	char key[FORK_KEYLEN];
	uint8_t *v;
	size_t n = 8 + 4 + alen + 4 + blen;
	int rc;

	if ((v = malloc(n)) == NULL)
		return STORE_ENOMEM;
	be64_put(v, fseq);
	for (int i = 0; i < 4; i++) {
		v[8 + i] = (uint8_t)(alen >> (24 - 8 * i));
		v[12 + alen + i] = (uint8_t)(blen >> (24 - 8 * i));
	}
	memcpy(v + 12, a, alen);
	memcpy(v + 16 + alen, b, blen);
	fork_key(key, author);
	t->forks = 2;
	rc = store_meta_put(t, key, v, n);
	free(v);
	return rc;
}

/* Checks that a and b are evidence of a fork: two properly signed
 * entries of one author at one seq, chained to the same predecessor,
 * with different hashes. Sets *fseq to the fork point. */
static int
fork_pair_check(const struct envelope *a, const struct envelope *b,
    uint64_t *fseq)
{
	uint8_t ha[PROTO_HASHLEN], hb[PROTO_HASHLEN];

	proto_envelope_hash(a, ha);
	proto_envelope_hash(b, hb);
	if (memcmp(a->author, b->author, PROTO_IDLEN) != 0 ||
	    a->seq != b->seq || a->seq == 0 ||
	    sodium_memcmp(ha, hb, PROTO_HASHLEN) == 0 ||
	    sodium_memcmp(a->prev_hash, b->prev_hash, PROTO_HASHLEN) != 0 ||
	    proto_envelope_verify(a, ha) != 0 ||
	    proto_envelope_verify(b, hb) != 0)
		return -1;
	*fseq = a->seq - 1;
	return 0;
}

/*
 * Records a fork from a verified pair, unless the author is frozen at or
 * below that point already, and marks the records for a rebuild. Both
 * entries past the fork are kept aside (one may be in the log too: the
 * log is never rewritten). STORE_EBADENTRY if the pair proves nothing.
 */
int
store_fork_record(struct store_txn *t, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen)
{
	struct envelope ea, eb;
	uint8_t h[PROTO_HASHLEN];
	uint64_t fseq, held;
	int rc;

	if (proto_envelope_decode(&ea, a, alen) != 0 ||
	    proto_envelope_decode(&eb, b, blen) != 0 ||
	    fork_pair_check(&ea, &eb, &fseq) != 0)
		return STORE_EBADENTRY;
	rc = store_fork_get(t, ea.author, &held);
	if (rc == 0 && held <= fseq)
		return STORE_OK;	/* known, or a later fork of a branch */
	if (rc != 0 && rc != STORE_ENOTFOUND)
		return rc;
	if ((rc = fork_put(t, ea.author, fseq, a, alen, b, blen)) != 0)
		return rc;
	proto_envelope_hash(&ea, h);
	if ((rc = keep_put(t, &ea, h, a, alen)) != 0)
		return rc;
	proto_envelope_hash(&eb, h);
	if ((rc = keep_put(t, &eb, h, b, blen)) != 0)
		return rc;
	return store_meta_put(t, REBUILD_KEY, "1", 1);
}

/*
 * A properly signed entry e at a seq where the log holds another one
 * (held). If both chain to the same predecessor they are the evidence of
 * a fork, recorded here; if not, the branches part earlier and the
 * sender must offer earlier entries. Either way e is refused:
 * STORE_EFORK. After a new fork the caller runs store_fork_settle.
 */
int
fork_found(struct store_txn *t, const struct envelope *e,
    const uint8_t *env, size_t len, const uint8_t *held, size_t held_len)
{
	struct envelope h;
	uint8_t hash[PROTO_HASHLEN];
	uint64_t fseq;
	int rc;

	proto_envelope_hash(e, hash);
	if (proto_envelope_verify(e, hash) != 0)
		return STORE_EBADENTRY;
	if ((rc = store_fork_get(t, e->author, &fseq)) == 0 &&
	    e->seq > fseq)
		return fork_keep(t, e, hash, env, len);
	if (proto_envelope_decode(&h, held, held_len) != 0)
		return STORE_EIO;
	if (sodium_memcmp(h.prev_hash, e->prev_hash, PROTO_HASHLEN) != 0)
		return STORE_EFORK;
	rc = store_fork_record(t, held, held_len, env, len);
	return rc != 0 ? rc : STORE_EFORK;
}

/* The derived state without every frozen author's entries past its fork
 * point: the rebuild leaves them out (see rebuild.c), so the result is
 * the state any device holding these entries shows. */
int
store_rebuild_derived(struct store_txn *t, const struct store_keyring *kr)
{
	int rc = store_rebuild_txn(t, kr);

	return rc != 0 ? rc : store_meta_del(t, REBUILD_KEY);
}

int
store_fork_settle(struct store_txn *t, const struct store_keyring *kr)
{
	const void *v;
	size_t len;
	int rc = store_meta_get(t, REBUILD_KEY, &v, &len);

	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	return rc != 0 ? rc : store_rebuild_derived(t, kr);
}

int
store_fork_holds(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t *hash)
{
	uint8_t h[PROTO_HASHLEN];

	if (log_hash(t, author, seq, h) == 0 &&
	    sodium_memcmp(h, hash, PROTO_HASHLEN) == 0)
		return 1;
	return kept_has(t, author, seq, hash);
}
