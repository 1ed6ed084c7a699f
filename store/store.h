/*
 * store: Satchel's LMDB store and the merge of changes into records.
 * The only module that includes <lmdb.h>. Every function returns 0 or a
 * negative STORE_E* code; store_strerror() names it. Values handed out as
 * pointer and length are borrowed: valid until the transaction ends.
 */
#ifndef SATCHEL_STORE_H
#define SATCHEL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define STORE_WUR __attribute__((warn_unused_result))

enum {
	STORE_OK	=  0,
	STORE_ENOTFOUND	= -1,	/* no such record, key or entry */
	STORE_EIO	= -2,	/* LMDB or the file system failed */
	STORE_EFULL	= -3,	/* map or disk full; nothing was written */
	STORE_EBADENTRY	= -4,	/* malformed, badly signed or undecryptable */
	STORE_EFORK	= -5,	/* same (author, seq), another hash */
	STORE_EGAP	= -6,	/* entry past the author's next seq */
	STORE_ENOMEM	= -7,
	STORE_ENOSTORE	= -8,	/* the directory holds no Satchel store */
	STORE_EEXIST	= -9,	/* a store is already there */
	STORE_EAMBIGUOUS = -10,	/* an id prefix names several records */
	STORE_EDUP	= -11,	/* entry already held: a no-op */
	STORE_EBUSY	= -12	/* locked by another program */
};

#define STORE_CREATE	0x1
#define STORE_RDONLY	0x2

/* record.c: a record's merged state, decoded into owned memory. */
struct rec_write {
	uint64_t	 hlc;
	struct write_ref ref;
	char		*value;		/* owned, NUL-terminated */
	size_t		 value_len;
};

/* A last-writer-wins register. heads are the writes no known write
 * replaces, winner first; more than one head is a conflict. sup holds
 * every write some write named as replaced, so that a late arrival of a
 * replaced write is not taken for a head. */
struct rec_register {
	char		  name[PROTO_MAX_FIELD + 1];
	size_t		  nheads;
	struct rec_write *heads;
	size_t		  nsup;
	struct write_ref *sup;
};

/* An observed-remove set element: present while an add tag is not removed. */
struct rec_elem {
	char		 *value;	/* owned, NUL-terminated */
	size_t		  value_len;
	size_t		  nadds;
	struct write_ref *adds;
	size_t		  nrems;
	struct write_ref *rems;
};

struct rec_set {
	char		 name[PROTO_MAX_FIELD + 1];
	size_t		 nelems;
	struct rec_elem	*elems;		/* sorted by value */
};

struct record {
	uint8_t		 kind;
	uint8_t		 id[PROTO_RECIDLEN];
	size_t		 nregs;
	struct rec_register *regs;	/* sorted by name */
	size_t		 nsets;
	struct rec_set	*sets;		/* sorted by name */
};

#define RECORD_DELETED_FIELD	"_deleted"

struct record	*record_new(uint8_t kind, const uint8_t id[PROTO_RECIDLEN]);
void		 record_free(struct record *);
int		 record_apply(struct record *, uint64_t hlc,
		    const struct write_ref *, const struct op *) STORE_WUR;
int		 record_encode(const struct record *, msgpack_sbuffer *)
		    STORE_WUR;
int		 record_decode(struct record **, const uint8_t *, size_t)
		    STORE_WUR;
const struct rec_register *record_register(const struct record *,
		    const char *name);
const struct rec_set *record_set(const struct record *, const char *name);
/* The winning value of a field, or NULL if never set. */
const char	*record_get(const struct record *, const char *name);
int		 record_deleted(const struct record *);
int		 rec_elem_present(const struct rec_elem *);
int		 write_ref_cmp(const struct write_ref *, const struct write_ref *);

/* store.c */
struct store;
struct store_txn;

/* What a key may open: notes and the rest under the content key, the
 * team's membership under the network key, which the box holds too. */
enum store_key_use {
	KEY_ANY		= 0,	/* tests and tools */
	KEY_CONTENT	= 1,	/* every kind but KIND_MEMBER */
	KEY_NETWORK	= 2	/* KIND_MEMBER only */
};

struct store_key {
	uint8_t	id[PROTO_KEYIDLEN];
	uint8_t	key[PROTO_KEYLEN];
	int	use;
};

/* The keys an apply may open entries with; a box holds none. */
struct store_keyring {
	size_t		 nkeys;
	struct store_key keys[8];
};

/* The key of the keyring that key id names, or NULL. */
const struct store_key *store_keyring_find(const struct store_keyring *,
		    const uint8_t *id);

/* Opens e with the keyring's key for it, checking the key may open that
 * kind. *c is NULL when the keyring has no key for e (a relay's lot). The
 * caller frees *c and *pt; *c borrows from *pt. */
int		 store_open_entry(const struct store_keyring *,
		    const struct envelope *e, struct change **c, uint8_t **pt)
		    STORE_WUR;

/* What sealing a local change needs. */
struct store_author {
	const uint8_t	*id;		/* PROTO_IDLEN */
	const uint8_t	*sign_sk;	/* PROTO_SKLEN */
	const struct store_key *key;	/* seals the change */
	uint8_t		 scope;
};

const char	*store_strerror(int);
int		 store_open(struct store **, const char *dir, unsigned flags)
		    STORE_WUR;
void		 store_close(struct store *);
int		 store_begin(struct store *, unsigned flags,
		    struct store_txn **) STORE_WUR;
int		 store_commit(struct store_txn *) STORE_WUR;
int		 store_commit_lazy(struct store_txn *) STORE_WUR;
void		 store_abort(struct store_txn *);

int		 store_meta_get(struct store_txn *, const char *key,
		    const void **val, size_t *len) STORE_WUR;
int		 store_meta_put(struct store_txn *, const char *key,
		    const void *val, size_t len) STORE_WUR;
int		 store_meta_del(struct store_txn *, const char *key) STORE_WUR;
/* Calls fn with each meta key (not NUL-terminated) starting with prefix. */
int		 store_meta_each(struct store_txn *, const char *prefix,
		    int (*fn)(const char *key, size_t klen, const void *val,
		    size_t vlen, void *), void *arg) STORE_WUR;

/* Seals c, appends it to the author's own log and applies it, inside the
 * caller's write transaction. ref, if not NULL, names the new entry. */
int		 store_append_local(struct store_txn *,
		    const struct store_author *, const struct change *,
		    uint64_t wall_ms, struct write_ref *ref) STORE_WUR;
/* Checks a received entry against its author's chain, appends it, and
 * applies it if the keyring opens it. With verify_sig 0 the caller vouches
 * for the signature (a later entry of a contiguous run was verified). */
int		 store_apply_entry(struct store_txn *,
		    const struct store_keyring *, const uint8_t *env,
		    size_t len, int verify_sig) STORE_WUR;

int		 store_log_get(struct store_txn *, const uint8_t *author,
		    uint64_t seq, const uint8_t **env, size_t *len) STORE_WUR;
int		 store_head_get(struct store_txn *, const uint8_t *author,
		    uint64_t *seq, uint8_t hash[PROTO_HASHLEN]) STORE_WUR;
/* Calls fn with every entry held, author by author in seq order. */
int		 store_log_each(struct store_txn *,
		    int (*fn)(const uint8_t *env, size_t len, void *),
		    void *arg) STORE_WUR;
/* Calls fn for every author's head; fn returns nonzero to stop. */
int		 store_heads_each(struct store_txn *,
		    int (*fn)(const uint8_t *author, uint64_t seq,
		    const uint8_t *hash, void *), void *arg) STORE_WUR;

/* Caller frees *out with record_free. */
int		 store_record_get(struct store_txn *, uint8_t kind,
		    const uint8_t id[PROTO_RECIDLEN], struct record **out)
		    STORE_WUR;
/* Finds the one record whose hex id starts with prefix. */
int		 store_record_find(struct store_txn *, const char *prefix,
		    uint8_t *kind, uint8_t id[PROTO_RECIDLEN]) STORE_WUR;
/* Calls fn for each record of kind (0: every kind) in key order. */
int		 store_records_each(struct store_txn *, uint8_t kind,
		    int (*fn)(const struct record *, void *), void *arg)
		    STORE_WUR;

/* Index keys: a type byte, then the parts below. */
#define INDEX_BY_STUDENT	'S'	/* student, date[10], kind, id */
#define INDEX_GOAL		'G'	/* student, id */
#define INDEX_MEMBER		'M'	/* student, group id */
#define INDEX_NAME		'N'	/* lower-cased name[<=200], 0, id */
#define INDEX_DATE_LEN		10
/* Calls fn with each index key that starts with prefix; newest first if
 * reverse. */
int		 store_index_each(struct store_txn *, const uint8_t *prefix,
		    size_t prefix_len, int reverse,
		    int (*fn)(const uint8_t *key, size_t len, void *),
		    void *arg) STORE_WUR;
/* Calls fn with every entry that touched the record, oldest first. */
int		 store_history_each(struct store_txn *,
		    const uint8_t id[PROTO_RECIDLEN],
		    int (*fn)(const uint8_t *env, size_t len, void *),
		    void *arg) STORE_WUR;
/* A hash of every record's canonical state, in key order. */
int		 store_digest(struct store_txn *, uint8_t out[PROTO_HASHLEN])
		    STORE_WUR;
/* Re-checks every author's chain: 0, or STORE_EBADENTRY. */
int		 store_verify_log(struct store_txn *, uint64_t *nentries)
		    STORE_WUR;

/*
 * fork.c: forked authors. A log that forked (a device restored from a
 * backup, or a data directory copied to a second laptop, wrote again) is
 * frozen everywhere at its fork point, the last seq both branches share:
 * the author's entries past it, on every branch, are kept aside and never
 * applied. store_apply_entry refuses what it cannot keep with STORE_EFORK.
 */
/* STORE_ENOTFOUND unless author is frozen; *fork_seq is the fork point. */
int		 store_fork_get(struct store_txn *, const uint8_t *author,
		    uint64_t *fork_seq) STORE_WUR;
/* Calls fn for each frozen author; fn returns nonzero to stop. */
int		 store_forks_each(struct store_txn *,
		    int (*fn)(const uint8_t *author, uint64_t fork_seq,
		    void *), void *arg) STORE_WUR;
/* The two entries at fork_seq + 1 that prove the fork; borrowed. */
int		 store_fork_evidence(struct store_txn *, const uint8_t *author,
		    const uint8_t *env[2], size_t len[2]) STORE_WUR;
/* Calls fn with each entry of author kept aside past its fork point that
 * is not in the log, in seq order. */
int		 store_fork_kept_each(struct store_txn *, const uint8_t *author,
		    int (*fn)(const uint8_t *env, size_t len, void *),
		    void *arg) STORE_WUR;
/* 1 if the log or the entries kept aside hold author:seq with hash. */
int		 store_fork_holds(struct store_txn *, const uint8_t *author,
		    uint64_t seq, const uint8_t *hash);
/* Checks a pair of entries proves a fork (one author, one seq, one
 * predecessor, two hashes, both signatures valid) and freezes the author;
 * STORE_EBADENTRY if it proves nothing. Run store_fork_settle after. */
int		 store_fork_record(struct store_txn *, const uint8_t *a,
		    size_t alen, const uint8_t *b, size_t blen) STORE_WUR;
/* After an apply that returned STORE_EFORK, before commit: if a fork was
 * recorded, rebuilds the records without the frozen entries. */
int		 store_fork_settle(struct store_txn *,
		    const struct store_keyring *) STORE_WUR;
/* Rebuilds records, indexes and history from the log, frozen authors'
 * entries past their fork points left out. */
int		 store_rebuild_derived(struct store_txn *,
		    const struct store_keyring *) STORE_WUR;

#endif
