/*
 * Erasure's part of the store (issue 12): what has been erased, and the
 * one place that rewrites the log. The daemon decides what to erase
 * (daemon/team/erase.c: an admin's erase, authors' addenda); the store keeps
 *	"erased:" hex(student)		-> be64 ms of the erase
 *	"erasedrec:" hex(record)	-> "": a note, entry or goal about one
 *	"drop:" hex(author) hex(seq)	-> the entry's hash
 * in the meta table, which a rebuild keeps, and from then on:
 *	- an entry named by "drop" is held as its stub (proto.h) whenever
 *	  it comes, whatever path brings it (sync, relay, an old bundle);
 *	- an entry this device opens that touches an erased student (its
 *	  record is the student or about it, or a value names the student)
 *	  is dropped on apply and held as its stub, whatever its author or
 *	  clock: decided by record, not by clock.
 * A stub keeps what the author's chain and signature cover (the header
 * and the ciphertext's hash), so every chain still verifies.
 *
 * LMDB does not clear the pages it frees: store_erase_scrub overwrites
 * them after an erasure, so that the bytes are gone from data.mdb.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "store.h"
#include "store_int.h"

#define META_KEYMAX	96
#define ERASE_PENDING	"erase_pending"	/* drops named, stubs not made */

static void
hex_key(char out[META_KEYMAX], const char *prefix, const uint8_t *a,
    size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = strlen(prefix);

	memcpy(out, prefix, n);
	sodium_bin2hex(out + n, META_KEYMAX - n, a, alen);
	if (b != NULL)
		sodium_bin2hex(out + n + 2 * alen, META_KEYMAX - n - 2 * alen,
		    b, blen);
}

int
store_erased_put(struct store_txn *t, const uint8_t *student, uint64_t ms)
{
	char key[META_KEYMAX];
	uint8_t v[8];

	hex_key(key, "erased:", student, PROTO_RECIDLEN, NULL, 0);
	be64_put(v, ms);
	t->erased = 2;
	return store_meta_put(t, key, v, sizeof(v));
}

int
store_erased_get(struct store_txn *t, const uint8_t *student, uint64_t *ms)
{
	char key[META_KEYMAX];
	const void *v;
	size_t len;
	int rc;

	hex_key(key, "erased:", student, PROTO_RECIDLEN, NULL, 0);
	if ((rc = store_meta_get(t, key, &v, &len)) != 0)
		return rc;
	if (ms != NULL)
		*ms = len == 8 ? be64_get(v) : 0;
	return STORE_OK;
}

struct erased_walk {
	int	(*fn)(const uint8_t *, uint64_t, void *);
	void	*arg;
};

static int
erased_cb(const char *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct erased_walk *w = arg;
	uint8_t id[PROTO_RECIDLEN];
	size_t n;

	if (klen != 7 + 2 * PROTO_RECIDLEN || vlen != 8 ||
	    sodium_hex2bin(id, sizeof(id), k + 7, klen - 7, NULL, &n,
	    NULL) != 0 || n != sizeof(id))
		return 0;
	return w->fn(id, be64_get(v), w->arg);
}

int
store_erased_each(struct store_txn *t,
    int (*fn)(const uint8_t *student, uint64_t ms, void *), void *arg)
{
	struct erased_walk w = { fn, arg };

	return store_meta_each(t, "erased:", erased_cb, &w);
}

int
store_erased_record_put(struct store_txn *t, const uint8_t *id)
{
	char key[META_KEYMAX];

	hex_key(key, "erasedrec:", id, PROTO_RECIDLEN, NULL, 0);
	t->erased = 2;
	return store_meta_put(t, key, "", 0);
}

int
store_erased_record(struct store_txn *t, const uint8_t *id)
{
	char key[META_KEYMAX];
	const void *v;
	size_t len;

	hex_key(key, "erasedrec:", id, PROTO_RECIDLEN, NULL, 0);
	return store_meta_get(t, key, &v, &len) == 0;
}

static void
drop_key(char out[META_KEYMAX], const uint8_t *author, uint64_t seq)
{
	uint8_t s[8];

	be64_put(s, seq);
	hex_key(out, "drop:", author, PROTO_IDLEN, s, sizeof(s));
}

int
store_drop_put(struct store_txn *t, const struct write_ref *ref)
{
	char key[META_KEYMAX];

	drop_key(key, ref->author, ref->seq);
	t->drops = 2;
	return store_meta_put(t, key, ref->hash, PROTO_HASHLEN);
}

/* Every entry applied asks whether an erasure named it (twice), and
 * almost no store names any: whether it names one is looked up once a
 * transaction, and store_drop_put says when it may. */
static int
drops_none(struct store_txn *t)
{
	return store_meta_none(t, "drop:", &t->drops);
}

int
store_drop_has(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t hash[PROTO_HASHLEN])
{
	char key[META_KEYMAX];
	const void *v;
	size_t len;

	if (drops_none(t))
		return 0;
	drop_key(key, author, seq);
	return store_meta_get(t, key, &v, &len) == 0 && len == PROTO_HASHLEN &&
	    sodium_memcmp(v, hash, PROTO_HASHLEN) == 0;
}

int
store_stub_encode(const struct envelope *e, msgpack_sbuffer *sb)
{
	struct envelope s = *e;

	proto_envelope_erase(&s);
	return proto_envelope_encode(&s, sb) == 0 ? STORE_OK : STORE_EIO;
}

/*
 * The one rewrite of the log: the entry (author, seq), if held with its
 * ciphertext, is replaced by its stub (same hash), its author's segment
 * written again (logseg.c).
 */
int
store_erase_held(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t *hash, int *erased)
{
	uint8_t held[PROTO_HASHLEN];
	struct envelope e;
	msgpack_sbuffer sb;
	const uint8_t *env;
	size_t len;
	int rc;

	*erased = 0;
	rc = store_log_get(t, author, seq, &env, &len);
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (rc != 0)
		return rc;
	if (proto_envelope_decode(&e, env, len) != 0)
		return STORE_EIO;
	if (e.erased)
		return STORE_OK;
	proto_envelope_hash(&e, held);
	if (hash != NULL && sodium_memcmp(held, hash, PROTO_HASHLEN) != 0)
		return STORE_OK;	/* named another entry: not this one */
	msgpack_sbuffer_init(&sb);
	if ((rc = store_stub_encode(&e, &sb)) == 0)
		rc = log_rewrite(t, author, seq, (uint8_t *)sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	*erased = rc == 0;
	return rc;
}

static int
count_cb(const uint8_t *env, size_t len, void *arg)
{
	struct envelope e;

	if (proto_envelope_decode(&e, env, len) == 0 && e.erased)
		(*(uint64_t *)arg)++;
	return 0;
}

int
store_erased_count(struct store_txn *t, uint64_t *n)
{
	*n = 0;
	return store_log_each(t, count_cb, n);
}

struct named_walk {
	struct store_txn *t;
	size_t		  erased;
	int		  rc;
};

static int
named_cb(const char *k, size_t klen, const void *v, size_t vlen, void *arg)
{
	struct named_walk *w = arg;
	uint8_t raw[PROTO_IDLEN + 8];
	size_t n;
	int erased;

	if (klen != 5 + 2 * sizeof(raw) || vlen != PROTO_HASHLEN ||
	    sodium_hex2bin(raw, sizeof(raw), k + 5, klen - 5, NULL, &n,
	    NULL) != 0 || n != sizeof(raw))
		return 0;
	if ((w->rc = store_erase_held(w->t, raw, be64_get(raw + PROTO_IDLEN),
	    v, &erased)) != 0)
		return 1;
	w->erased += (size_t)erased;
	return 0;
}

int
store_erase_named(struct store_txn *t, size_t *erased)
{
	struct named_walk w = { t, 0, 0 };
	int rc = store_meta_each(t, "drop:", named_cb, &w);

	*erased = w.erased;
	if (rc == 0 && (rc = w.rc) == 0 &&
	    (rc = store_meta_del(t, ERASE_PENDING)) == STORE_ENOTFOUND)
		rc = STORE_OK;
	return rc;
}

/* ---- what an entry touches ---- */

struct touch_walk {
	const struct change *c;
	struct store_txn *t;
	int		 hit;
	int		 about;		/* its "student" names one erased */
};

static int
names(const struct op *op, const char *hex)
{
	if (op->value == NULL || op->value_len < 2 * PROTO_RECIDLEN)
		return 0;
	for (size_t i = 0; i + 2 * PROTO_RECIDLEN <= op->value_len; i++)
		if (memcmp(op->value + i, hex, 2 * PROTO_RECIDLEN) == 0)
			return 1;
	return 0;
}

static int
touch_cb(const uint8_t *student, uint64_t ms, void *arg)
{
	struct touch_walk *w = arg;
	char hex[2 * PROTO_RECIDLEN + 1];

	(void)ms;
	if (memcmp(student, w->c->record_id, PROTO_RECIDLEN) == 0 &&
	    w->c->kind == KIND_STUDENT)
		w->hit = 1;
	sodium_bin2hex(hex, sizeof(hex), student, PROTO_RECIDLEN);
	for (size_t i = 0; i < w->c->nops; i++) {
		const struct op *op = &w->c->ops[i];

		if (!names(op, hex))
			continue;
		w->hit = 1;
		if (op->type == OP_SET && op->field_len == 7 &&
		    memcmp(op->field, "student", 7) == 0)
			w->about = 1;
	}
	return 0;
}

int
store_erase_touches(struct store_txn *t, const struct change *c)
{
	struct touch_walk w = { c, t, 0, 0 };
	int rc;

	if (c->kind == KIND_ERASE || c->kind == KIND_MEMBER ||
	    c->kind == KIND_KEYS || c->kind == KIND_RECEIPT)
		return 0;
	/* As with drops: most stores have erased no one ("erased:" and
	 * "erasedrec:" keys both start with "erased"). */
	if (store_meta_none(t, "erased", &t->erased))
		return 0;
	if (store_erased_record(t, c->record_id))
		return 1;
	if ((rc = store_erased_each(t, touch_cb, &w)) != 0)
		return rc;
	if (w.about && c->kind != KIND_STUDENT &&
	    (rc = store_erased_record_put(t, c->record_id)) != 0)
		return rc;
	return w.hit;
}

/* An entry opened on apply that touches an erased student: named for
 * dropping, never applied. Its stub is made later, outside any walk of
 * the log (a rebuild applies entries as it reads their segments):
 * store_apply_entry makes it at once, store_erase_named the rest. 1 if
 * so, 0 if not. */
int
store_erase_on_apply(struct store_txn *t, const struct envelope *e,
    const struct change *c)
{
	struct write_ref ref;
	int rc;

	if ((rc = store_erase_touches(t, c)) <= 0)
		return rc;
	memcpy(ref.author, e->author, PROTO_IDLEN);
	ref.seq = e->seq;
	proto_envelope_hash(e, ref.hash);
	ref.has_hash = 1;
	if ((rc = store_drop_put(t, &ref)) != 0 ||
	    (rc = store_meta_put(t, ERASE_PENDING, "", 0)) != 0)
		return rc;
	return 1;
}

int
store_erase_pending(struct store_txn *t)
{
	const void *v;
	size_t len;

	return store_meta_get(t, ERASE_PENDING, &v, &len) == 0;
}

/* The records, indexes and history again from what the log still holds,
 * in the transaction that made the stubs: no reader ever sees a record
 * whose entries are gone. */
int
store_erase_rebuild(struct store_txn *t, const struct store_keyring *kr)
{
	return store_rebuild_txn(t, kr);
}

/* ---- scrubbing freed pages ---- */

/* LMDB does not clear the pages it frees: the segments that held the
 * dropped ciphertexts and the records rebuilt without them stay in
 * data.mdb until used again. store_scrub overwrites them with zeros. */
int
store_erase_scrub(struct store *st)
{
	return store_scrub(st);
}
