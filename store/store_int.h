/* Private to store/: the handles and table helpers its files share. */
#ifndef SATCHEL_STORE_INT_H
#define SATCHEL_STORE_INT_H

#include <lmdb.h>

enum {
	TABLE_META, TABLE_LOG, TABLE_HEADS, TABLE_RECORDS, TABLE_INDEX,
	TABLE_HISTORY, TABLE_UNAPPLIED, TABLE_COUNT
};

struct store {
	MDB_env	*env;
	MDB_dbi	 dbi[TABLE_COUNT];
	uint8_t	*key;		/* STORE_KEYLEN, sodium_malloc'd, or NULL */
	unsigned long commits;	/* durable commits made through this handle */
	struct store_rebuild_rule rule;	/* store_set_rebuild_rule */
};

struct store_txn {
	struct store	*st;
	MDB_txn		*txn;
};

typedef int (*store_scan_fn)(const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen, void *arg);

/* store.c */
int	store_lmdb_error(int);
int	store_get(struct store_txn *, int table, const void *key, size_t klen,
	    const void **val, size_t *vlen);
int	store_put(struct store_txn *, int table, const void *key, size_t klen,
	    const void *val, size_t vlen);
int	store_put_append(struct store_txn *, int table, const void *key,
	    size_t klen, const void *val, size_t vlen);
int	store_del(struct store_txn *, int table, const void *key, size_t klen);
int	store_drop(struct store_txn *, int table);
int	store_table_create(struct store_txn *, int table);
int	store_scan(struct store_txn *, int table, const uint8_t *prefix,
	    size_t plen, int reverse, store_scan_fn fn, void *arg);

/* search.c: the word index and the digest, kept as records are saved. */
int	store_words_update(struct store_txn *, const struct record *before,
	    const struct record *after);
int	store_digest_update(struct store_txn *, const uint8_t *k, size_t klen,
	    const uint8_t *v, size_t vlen);
int	store_digest_reset(struct store_txn *);
/* 1 if the word index was built under another key than the store's. */
int	store_key_stale(struct store_txn *);

/* receipt.c: applies a validated receipt of entry e to the index. */
int	store_receipt_apply(struct store_txn *, const struct envelope *,
	    const struct change *);

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
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

#endif
