/* Private to store/: the handles and table helpers its files share. */
#ifndef SATCHEL_STORE_INT_H
#define SATCHEL_STORE_INT_H

#include <lmdb.h>

enum {
	TABLE_META, TABLE_LOG, TABLE_HEADS, TABLE_RECORDS, TABLE_INDEX,
	TABLE_HISTORY, TABLE_UNAPPLIED, TABLE_COUNT
};
/* The scrub's scratch table (store_scrub). */
#define TABLE_EXTRA	1

struct store {
	MDB_env	*env;
	MDB_dbi	 dbi[TABLE_COUNT];
	uint8_t	*key;		/* STORE_KEYLEN, sodium_malloc'd, or NULL */
	uint8_t	*seal_key;	/* derived from key: seals records */
	uint64_t docid_ahead;	/* records.c: the next record number to hand
				 * out ahead (store_docids_reserve); a hint */
	int	 docid_read;	/* records.c: docid_ahead read from the table */
	uint8_t	*seal_subkey;	/* seal_key + STORE_KEYLEN, key material:
				 * the write transaction's HChaCha20 subkey
				 * (recstore.c; one writer at a time) */
	uint8_t	*word_key;	/* derived from key: the word index's
				 * SipHash key (search.c) */
	struct store_keyring *keys;	/* opens log entries; sodium_malloc'd */
	unsigned long commits;	/* durable commits made through this handle */
	struct store_rebuild_rule rule;	/* store_set_rebuild_rule */
};

struct log_pend;

/* recstore.c: a record's nonce is the transaction's random base and a
 * count of the records it sealed. */
#define TXN_NONCEBASE	16
#define TXN_NONCELEN	24	/* XChaCha20-Poly1305's */
#define TXN_SUBKEYLEN	32	/* HChaCha20's output, a ChaCha20 key */

struct store_txn {
	struct store	*st;
	MDB_txn		*txn;
	struct log_pend	*pend;	/* logseg.c: tails not yet written */
	uint64_t	 nonces;	/* recstore.c: sealed so far */
	uint8_t		 nonce_base[TXN_NONCEBASE];
	struct store_words *words;	/* search.c: postings not yet written */
	uint8_t		 key_checked;	/* search.c: the key check is put */
	uint8_t		 drops;		/* erase.c: 0 not looked, 1 the
					 * store names no drop, 2 it may */
	uint8_t		 erased;	/* erase.c: as drops, for erased
					 * students and their records */
	uint8_t		 forks;		/* fork.c: as drops, for forks */
	uint64_t	 next_docid;	/* records.c: 0 not looked yet */
	struct store_counts *counts;	/* records.c: counts not written */
	uint8_t		 digest_held;	/* search.c: 0 not read, 1 read,
					 * 2 changed since */
	uint8_t		 digest[PROTO_HASHLEN];
	uint8_t		 hlc_held;	/* log.c: as digest_held */
	uint64_t	 hlc;
	struct store_heads *heads;	/* log.c: heads not yet written */
	const void	*words_pre;	/* search.c: store_words_hint's */
	const void	*rec_pre;	/* records.c: store_record_hint's */
	int		 rec_sealed;	/* its sealer has the store's key */
	size_t		 recs_sealed;	/* records.c: put as the worker sealed */
	size_t		 recs_taken;	/* records.c: records that took it */
	size_t		 words_taken;	/* search.c: records that took it */
};

/* 1 if no meta key starts with prefix, 0 if some may. *state (a field
 * of the transaction, zeroed with it) remembers the answer: 0 not looked
 * yet, 1 none, 2 maybe some; whoever puts such a key sets it to 2. For
 * what every entry applied would look up and almost no store has. */
int	store_meta_none(struct store_txn *, const char *prefix,
	    uint8_t *state);

typedef int (*store_scan_fn)(const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen, void *arg);

/* store.c */
int	store_lmdb_error(int);
int	store_get(struct store_txn *, int table, const void *key, size_t klen,
	    const void **val, size_t *vlen);
/* A value that is one be64 number: STORE_EIO if it is not 8 bytes. */
int	store_get_be64(struct store_txn *, int table, const void *key,
	    size_t klen, uint64_t *out);
int	store_put(struct store_txn *, int table, const void *key, size_t klen,
	    const void *val, size_t vlen);
int	store_put_append(struct store_txn *, int table, const void *key,
	    size_t klen, const void *val, size_t vlen);
int	store_put_new(struct store_txn *, int table, const void *key,
	    size_t klen, const void *val, size_t vlen);
int	store_del(struct store_txn *, int table, const void *key, size_t klen);
int	store_drop(struct store_txn *, int table);
int	store_table_create(struct store_txn *, int table);
int	store_scan(struct store_txn *, int table, const uint8_t *prefix,
	    size_t plen, int reverse, store_scan_fn fn, void *arg);
int	store_seek_le(struct store_txn *, int table, const uint8_t *key,
	    size_t klen, const uint8_t **k, size_t *kl, const uint8_t **v,
	    size_t *vl);

/* search.c: the word index and the digest, kept as records are saved. */
/* For tests: 1 if store_words_update would take pre (store_words_pre's)
 * for the new record r and it is what r's own extraction gives, hash
 * for hash and text for text; 0 if it would not take it; -1 if it would
 * take it and they differ, or out of memory. */
int	store_words_pre_check(struct store_txn *, const void *pre,
	    const struct record *r);
int	store_words_update(struct store_txn *, uint64_t docid,
	    const struct record *before, const struct record *after);
/* Thread-safe: 1 if pre (store_words_pre's) is NULL, or if
 * store_words_update would take it as the new record r's words. */
int	store_words_pre_fits(const void *pre, const struct record *r);
/* 1 if store_words_add_new can post a new record of kind's words: its
 * kind is not searched, the store keeps no index, or a hint waits. */
int	store_words_ready(const struct store_txn *, uint8_t kind);
/* Posts the hinted words (store_words_hint) of a new record, docid, as
 * they are: for a record the worker checked them against
 * (store_words_pre_fits, from store_record_pre). Consumes the hint. */
int	store_words_add_new(struct store_txn *, uint64_t docid, uint8_t kind);
/* Writes the postings store_words_update gathered in memory: before the
 * transaction commits (store_commit does), and before anything reads the
 * word index ('W', 'V') in it (store_search does). */
int	store_words_flush(struct store_txn *);
/* Forgets them: the transaction is aborted, or the index dropped. */
void	store_words_free(struct store_txn *);
/* records.c: writes the students' note counts the transaction changed
 * (from txn_flush); _free drops them (an abort, a dropped index). */
int	store_counts_flush(struct store_txn *);
/* log.c: writes the device's clock if the transaction moved it, and
 * the authors' heads it moved; _free drops the heads (an abort). */
int	store_clock_flush(struct store_txn *);
int	store_heads_flush(struct store_txn *);
void	store_heads_free(struct store_txn *);
void	store_counts_free(struct store_txn *);
/* old is the record's plaintext before (NULL for a new record), new
 * after: see recstore.c. */
int	store_digest_update(struct store_txn *, const uint8_t *k, size_t klen,
	    const uint8_t *old, size_t oldlen, const uint8_t *new,
	    size_t newlen);
/* As store_digest_update, given the new plaintext's store_record_hash. */
int	store_digest_add(struct store_txn *, const uint8_t *k, size_t klen,
	    const uint8_t *old, size_t olen, const uint8_t h[PROTO_HASHLEN]);
/* Thread-safe: the digest's hash of record key k and plaintext v. */
void	store_record_hash(const uint8_t *k, size_t klen, const uint8_t *v,
	    size_t vlen, uint8_t out[PROTO_HASHLEN]);
/* Notes which key the store's derived tables are sealed and hashed
 * under, once. */
int	store_key_check_put(struct store_txn *);
/* Takes the check value out (a rebuild makes it again). */
int	store_key_check_del(struct store_txn *);
int	store_digest_reset(struct store_txn *);
/* Writes the records' digest if the transaction changed it. */
int	store_digest_flush(struct store_txn *);
/* 1 if the word index was built under another key than the store's. */
int	store_key_stale(struct store_txn *);

/* receipt.c: applies a validated receipt of entry e to the index. */
int	store_receipt_apply(struct store_txn *, const struct envelope *,
	    const struct change *);

/* erase.c */
int	store_erased_record(struct store_txn *, const uint8_t *id);
int	store_erased_record_put(struct store_txn *, const uint8_t *id);
int	store_stub_encode(const struct envelope *, msgpack_sbuffer *);
/* 1 if e (opened as c) touches an erased student: then held as its stub
 * and named for dropping, and not to be applied; 0; or a STORE_E* code. */
int	store_erase_on_apply(struct store_txn *, const struct envelope *,
	    const struct change *);

/* recstore.c: a record as the records table holds it. */
struct rec_hist {
	uint64_t	hlc;
	uint8_t		author[PROTO_IDLEN];
	uint64_t	seq;
	uint8_t		hash[PROTO_HASHLEN];
};
struct rec_stored {
	uint64_t	 docid;
	size_t		 nhist;
	struct rec_hist	*hist;		/* by (hlc, author, seq) */
};
void	recstore_derive_key(const uint8_t *store_key, uint8_t *out);
int	recstore_hist_add(struct rec_stored *, uint64_t hlc,
	    const struct write_ref *);
const struct rec_hist *recstore_hist_get(const struct rec_stored *,
	    const uint8_t *author, uint64_t seq);
void	recstore_free(struct rec_stored *);
int	recstore_encode(const struct record *, const struct rec_stored *,
	    msgpack_sbuffer *);
/* One record's encoding, on the stack while it fits: a sync saves
 * thousands of records of a few hundred bytes each. */
struct recstore_buf {
	uint8_t	*data;
	size_t	 size;
	size_t	 alloc;
	int	 failed;	/* 0, or why a write failed (STORE_E*) */
	uint8_t	 stack[1024];
};
void	recstore_buf_init(struct recstore_buf *);
void	recstore_buf_free(struct recstore_buf *);
int	recstore_encode_buf(const struct record *, const struct rec_stored *,
	    struct recstore_buf *);
int	recstore_decode(const uint8_t *, size_t, struct record **,
	    struct rec_stored *);
size_t	recstore_sealed_len(const struct store_txn *, size_t klen,
	    size_t len);
/* The worker's seal (store_sealer): recstore_seal's bytes, nonce from the
 * sealer; recstore_sealer_len bytes into out. store_sealer_same: 1 if s
 * holds st's seal key. */
size_t	recstore_sealer_len(size_t klen, size_t len);
void	recstore_seal_off(struct store_sealer *, const uint8_t *key,
	    size_t klen, uint64_t docid, const uint8_t *pt, size_t len,
	    uint8_t *out);
int	store_sealer_same(const struct store *, const struct store_sealer *);
void	recstore_subkey(uint8_t *subkey, const uint8_t *seal_key,
	    const uint8_t *base);
void	recstore_seal_sub(uint8_t *out, const uint8_t *pt, size_t len,
	    const uint8_t *ad, size_t adlen, const uint8_t *nonce,
	    const uint8_t *subkey);
int	recstore_seal(struct store_txn *, const uint8_t *key, size_t klen,
	    uint64_t docid, const uint8_t *pt, size_t len, uint8_t *out);
int	recstore_unseal(struct store_txn *, const uint8_t *key, size_t klen,
	    const uint8_t *v, size_t vlen, uint64_t *docid, uint8_t **pt,
	    size_t *ptlen);
int	recstore_fill(struct store_txn *, struct record *);
int	recstore_copy_values(struct record *to, const struct record *from);
int	store_keys_learn(struct store *, const struct store_keyring *);
int	store_key_learn(struct store *, const struct store_key *);
/* record_codec.c: one write reference, as both record forms write it. */
void	rec_pack_ref(msgpack_packer *, const struct write_ref *);
int	rec_decode_ref(const msgpack_object *, struct write_ref *);

/* logseg.c: the log table's segments. */
typedef int (*log_scan_fn)(const uint8_t *author, uint64_t seq,
    const uint8_t *env, size_t len, void *arg);
int	log_append(struct store_txn *, const uint8_t *author, uint64_t seq,
	    const uint8_t *env, size_t len);
int	log_rewrite(struct store_txn *, const uint8_t *author, uint64_t seq,
	    const uint8_t *env, size_t len);
int	log_scan(struct store_txn *, log_scan_fn, void *);
/* Writes the transaction's pending tails to LMDB (store_commit); then
 * log_pend_free frees them, as the transaction ends either way. */
int	log_flush(struct store_txn *);
void	log_pend_free(struct store_txn *);
/* Rewrites a log of one key per entry (store version 2) as segments. */
int	log_resegment(struct store_txn *);

/* log.c */
int	store_apply_held(struct store_txn *, const struct store_keyring *,
	    const struct envelope *);
/* rebuild.c: empties the derived tables and applies every held entry
 * again, inside the caller's transaction. */
int	store_rebuild_txn(struct store_txn *, const struct store_keyring *);
/* fork.c: the hooks of the log's append path. */
int	fork_entry(struct store_txn *, const struct envelope *,
	    const uint8_t *hash, const uint8_t *env, size_t len);
int	fork_found(struct store_txn *, const struct envelope *,
	    const uint8_t *env, size_t len, const uint8_t *held,
	    size_t held_len);

/* Big-endian so that LMDB's byte order is numeric order. */
static inline void
be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t
be64_get(const uint8_t *p)
{
	/* Written out, not a loop: gcc -O2 makes this one load and a
	 * byte swap, and a loop eight (the word index sorts on it). */
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
	    (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
	    (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	    (uint64_t)p[6] << 8 | p[7];
}

#endif
