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
	STORE_EFULL	= -3,	/* the map is full; nothing was written */
	STORE_EBADENTRY	= -4,	/* malformed, badly signed or undecryptable */
	STORE_EFORK	= -5,	/* same (author, seq), another hash */
	STORE_EGAP	= -6,	/* entry past the author's next seq */
	STORE_ENOMEM	= -7,
	STORE_ENOSTORE	= -8,	/* the directory holds no Satchel store */
	STORE_EEXIST	= -9,	/* a store is already there */
	STORE_EAMBIGUOUS = -10,	/* an id prefix names several records */
	STORE_EDUP	= -11,	/* entry already held: a no-op */
	STORE_EBUSY	= -12,	/* locked by another program */
	STORE_ENEWER	= -13,	/* written by a newer Satchel: see migrate.c */
	STORE_EINVALID	= -14,	/* a change the schema refuses */
	STORE_EDEFER	= -15,	/* a change of a newer format: kept for later */
	STORE_ENOSPC	= -16	/* the disk is full; nothing was written */
};

#define STORE_CREATE	0x1
#define STORE_RDONLY	0x2

/* record.c: a record's merged state, decoded into owned memory. Each
 * array of n items has room for the larger of n and its cap field: the
 * merge grows them by doubling, and a cap of 0 (as calloc leaves it)
 * means exactly n, so a decoder may allocate just what it reads. */
struct rec_write {
	uint64_t	 hlc;
	struct write_ref ref;
	char		*value;		/* owned, NUL-terminated */
	size_t		 value_len;
};

/* A last-writer-wins register. heads are the applied writes no applied
 * write replaces, winner first; more than one head is a conflict. A write
 * replaces those it names (when their hashes match) and its author's own
 * earlier writes, so there is at most one head per author. sup holds the
 * names of replaced writes that have not been applied yet, so that their
 * late arrival is not taken for a head; each goes when its write arrives. */
struct rec_register {
	char		  name[PROTO_MAX_FIELD + 1];
	size_t		  nheads;
	struct rec_write *heads;
	size_t		  nsup;
	struct write_ref *sup;
	size_t		  capheads, capsup;	/* see record.c: insert_slot */
};

/* An observed-remove set element: present while an add tag is not removed.
 * adds holds at most one tag per author (a later add replaces the
 * author's earlier one); rems only removes of adds not yet applied. */
struct rec_elem {
	char		 *value;	/* owned, NUL-terminated */
	size_t		  value_len;
	size_t		  nadds;
	struct write_ref *adds;
	size_t		  nrems;
	struct write_ref *rems;
	size_t		  capadds, caprems;
};

struct rec_set {
	char		 name[PROTO_MAX_FIELD + 1];
	size_t		 nelems;
	struct rec_elem	*elems;		/* sorted by value */
	size_t		 capelems;
};

struct record {
	uint8_t		 kind;
	uint8_t		 id[PROTO_RECIDLEN];
	size_t		 nregs;
	struct rec_register *regs;	/* sorted by name */
	size_t		 nsets;
	struct rec_set	*sets;		/* sorted by name */
	size_t		 capregs, capsets;
};

#define RECORD_DELETED_FIELD	"_deleted"

/* Tells the merge whether the write ref names has been applied to the
 * record being merged: 1 and its entry hash, or 0. With a NULL oracle
 * only the record's current heads and tags count as applied, which is
 * enough for replaying one order. */
struct rec_oracle {
	int	(*applied)(void *arg, const struct write_ref *ref,
		    uint8_t hash[PROTO_HASHLEN]);
	void	*arg;
};

struct record	*record_new(uint8_t kind, const uint8_t id[PROTO_RECIDLEN]);
void		 record_free(struct record *);
/* Applies one op of the entry named ref (which carries the entry's hash)
 * with clock hlc. The resulting state is a function of the set of ops
 * applied, in any order that keeps each author's seq order. */
int		 record_apply(struct record *, uint64_t hlc,
		    const struct write_ref *, const struct op *,
		    const struct rec_oracle *) STORE_WUR;
/* Says that every op of entry ref has been applied to the record: call
 * it once after the last record_apply of an entry. */
void		 record_settle(struct record *, const struct write_ref *);
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

/* clock.c: the wall clock in ms since the epoch, the one every part of
 * Satchel reads (test builds may shift it; see clock.c). */
uint64_t	 store_wall_ms(void);

/* store.c */
struct store;
struct store_txn;

/* received.c: when this device received entry (author, seq), recorded by
 * the caller for the entries it wants to remember it for; get returns
 * STORE_ENOTFOUND for the others. */
int		 store_received_put(struct store_txn *, const uint8_t *author,
		    uint64_t seq, uint64_t received_ms) STORE_WUR;
int		 store_received_get(struct store_txn *, const uint8_t *author,
		    uint64_t seq, uint64_t *received_ms) STORE_WUR;

/* What a key may open: notes and the rest under the content key, the
 * team's membership under the network key, which the box holds too. */
enum store_key_use {
	KEY_ANY		= 0,	/* tests and tools */
	KEY_CONTENT	= 1,	/* every kind but MEMBER, KEYS and RECEIPT */
	KEY_NETWORK	= 2,	/* KIND_MEMBER only */
	KEY_EPOCH	= 3,	/* KIND_KEYS only: an epoch's record key */
	KEY_RECEIPT	= 4,	/* KIND_RECEIPT only: derived from the network key */
	KEY_ERASE	= 5	/* KIND_ERASE only: derived from the network key */
};

struct store_key {
	uint8_t	id[PROTO_KEYIDLEN];
	uint8_t	key[PROTO_KEYLEN];
	int	use;
};

/* The keys an apply may open entries with: three for each key epoch a
 * teacher holds (content, network, record key), two for a box. */
#define STORE_KEYRING_MAX	200
struct store_keyring {
	size_t		 nkeys;
	struct store_key keys[STORE_KEYRING_MAX];
};

/* The key of the keyring that key id names, or NULL. */
const struct store_key *store_keyring_find(const struct store_keyring *,
		    const uint8_t *id);

/* Opens e with the keyring's key for it and validates its change
 * (proto_change_validate, with the key's use). *c is NULL when the
 * keyring has no key for e (a relay's lot). Returns STORE_EBADENTRY if
 * the key fails to open it, STORE_EINVALID or STORE_EDEFER (with *why, a
 * static sentence) if its change is refused or of a newer format. The
 * caller frees *c and *pt; *c borrows from *pt. */
int		 store_read_entry(const struct store_keyring *,
		    const struct envelope *e, struct change **c, uint8_t **pt,
		    const char **why) STORE_WUR;
/* store_read_entry without the reason; *c is NULL unless it is valid. */
int		 store_open_entry(const struct store_keyring *,
		    const struct envelope *e, struct change **c, uint8_t **pt)
		    STORE_WUR;

/* 1 if an entry sealed under the key key_id names is held unread (no key
 * for it when it was applied), else 0. */
int		 store_unread_has(struct store_txn *, const uint8_t *key_id);
/* Forgets that mark, once a rebuild has read what it could. */
int		 store_unread_forget(struct store_txn *, const uint8_t *key_id)
		    STORE_WUR;

/* What sealing a local change needs. */
struct store_author {
	const uint8_t	*id;		/* PROTO_IDLEN */
	const uint8_t	*sign_sk;	/* PROTO_SKLEN */
	const struct store_key *key;	/* seals the change */
	uint8_t		 scope;
};

const char	*store_strerror(int);
/* The LMDB map size in bytes (address space, not disk); never 0. */
size_t		 store_map_size(void);
int		 store_open(struct store **, const char *dir, unsigned flags)
		    STORE_WUR;
/* migrate.c: the store's layout. STORE_RELEASE is the first Satchel
 * release that reads STORE_VERSION: bump them together, with a step in
 * migrate.c. Bump STORE_DERIVED_VERSION whenever the records, index or
 * history a log gives change (record encoding, apply rules, index rules). */
#define STORE_VERSION		3
#define STORE_RELEASE		"0.3.0"
#define STORE_DERIVED_VERSION	14	/* 4: units, and epoch records held
					 * unread by 0.2; 5: external_id,
					 * merged_into; 6: receipts; 7: sealed
					 * records, posting lists; 8: erase
					 * records held unread before; 9: the
					 * membership's rule (a removed
					 * device's later entries, a box's
					 * content, left out); 10: word
					 * index keys are SipHash, not
					 * BLAKE2b (search.c); 11: records
					 * keyed by docid, 'K' names it;
					 * 12: 'S' and 'G' keys in creation
					 * order; 13 (a branch), 14: the
					 * word index in generations
					 * (search.c) */
struct store_format {
	uint64_t	version;	/* the store's, when it was opened */
	uint64_t	migrated_from;	/* version before this open's steps */
	char		release[32];	/* ENEWER: the release it needs, or "" */
};
/* store_open that says which format it found: on success, and with
 * STORE_ENEWER the newer version that was refused. fmt may be NULL. An
 * older store is migrated to STORE_VERSION, each step crash-safe. */
int		 store_open_format(struct store **, const char *dir,
		    unsigned flags, struct store_format *fmt) STORE_WUR;
int		 store_migrate(struct store *, unsigned flags,
		    struct store_format *) STORE_WUR;
/* 1 if the derived tables were built by another version's rules and must
 * be rebuilt with the keys (store_rebuild); 0 if not; or a STORE_E* code. */
int		 store_needs_rebuild(struct store *) STORE_WUR;
/* Rebuilds the records, index and history from the log in one
 * transaction, applying what kr opens: all of it or none of it. */
int		 store_rebuild(struct store *, const struct store_keyring *)
		    STORE_WUR;
void		 store_close(struct store *);
/* Overwrites the pages LMDB holds free with zeros, in three commits
 * (store_rebuild does it after replacing the derived tables, whose old
 * pages held an older layout's plaintext). */
int		 store_scrub(struct store *) STORE_WUR;

/* What a rebuild applies of each author's log, by rules store/ does not
 * know: the team's membership (a removed device's entries after its
 * cut-off), so that a rebuild derives what live applies did. begin is
 * called once per rebuild, in its transaction, before anything is
 * dropped; limit once per author, before its first entry: entries up to
 * *limit are applied with the rebuild's keyring, later ones with *past,
 * or, if *past is NULL, not at all (kept in the log, listed unapplied).
 * Either may be NULL; a nonzero return fails the rebuild with it. */
struct store_rebuild_rule {
	int	(*begin)(void *arg, struct store_txn *);
	int	(*limit)(void *arg, struct store_txn *, const uint8_t *author,
		    uint64_t *limit, const struct store_keyring **past);
	void	*arg;
};
/* Every later rebuild through st follows rule (copied); NULL: none. */
void		 store_set_rebuild_rule(struct store *,
		    const struct store_rebuild_rule *);

/* The store key: 32 secret bytes of this device alone, never sent, that
 * key what the store derives for itself (today the word index, whose
 * keys are BLAKE2b hashes under it; whatever seals records later). The
 * store never reads it from anywhere: the caller hands it over after
 * opening, before any write, and the store keeps a copy in
 * sodium_malloc'd memory until store_close. Where it comes from is the
 * caller's affair: today daemon/device.c keeps it in DIR/store.key (mode
 * 0600), made at init or on the first open that finds none; moving it
 * off the disk (issue 12: a passphrase, the OS keychain) changes only
 * that caller. A store opened without a key keeps no word index (tests,
 * tools), and a store whose index was built under another key asks for a
 * rebuild (store_needs_rebuild). */
#define STORE_KEYLEN	32
int		 store_set_key(struct store *, const uint8_t key[STORE_KEYLEN])
		    STORE_WUR;
/* Gives to the key from holds, if it holds one: a scratch store (verify's
 * replay) seals what it derives as the store it checks does. */
int		 store_share_key(struct store *to, const struct store *from)
		    STORE_WUR;
/*
 * A new record's words, worked out ahead of its apply, off the store
 * (the receiver's worker thread): the word index's key (store_word_key),
 * then store_words_pre for each change, then store_words_hint just
 * before the change's apply. The apply takes them in place of its own
 * extraction only if the record it writes is new and its searched texts
 * are exactly those the change gave, in the same order: what it would
 * have computed. Anything else is computed as before.
 */
#define STORE_WORDKEYLEN	16
struct store_words_buf {	/* zero-initialised; free(p) */
	uint8_t		*p;
	size_t		 len, cap;
};
/* Grows b to hold need bytes more (it doubles, from 16 KB): 0, or -1
 * out of memory. Any of the worker's buffers may use it. */
int		 store_buf_reserve(struct store_words_buf *, size_t need);
/* Copies the word index's key into key: -1 if the store keeps none. */
int		 store_word_key(const struct store *,
		    uint8_t key[STORE_WORDKEYLEN]);
/* Thread-safe (no store, no LMDB: c and key alone): appends to b, at
 * *off, the words a record made by c alone would have, if c can make
 * one (a searched kind, only sets of distinct registers). 0 done, 1 c
 * is not such a change, -1 out of memory. The change's strings must
 * stay as long as b is handed to store_words_hint. */
int		 store_words_pre(const uint8_t key[STORE_WORDKEYLEN],
		    const struct change *c, struct store_words_buf *b,
		    size_t *off);
/* Offers pre (b->p + off, computed with key), or NULL, to the next
 * record the transaction applies; ignored unless key is the store's. */
void		 store_words_hint(struct store_txn *,
		    const uint8_t key[STORE_WORDKEYLEN], const void *pre);
/*
 * A new note's or entry's record, worked out ahead of its apply off the
 * store as its words are (records.c): store_record_pre for the change c
 * of entry e (hash its hash), with words the change's store_words_pre
 * (NULL if none), then store_record_hint just before the change's apply,
 * with store_words_hint. The apply takes it only for that entry, and
 * only if the record is not in the store yet; else it computes all as
 * before. With a sealer, the worker also seals the record under the
 * record number docid, which the loop reserved for the entry
 * (store_docids_reserve); the apply puts it as it is if that number
 * still comes after every record the table holds, else seals it again
 * under the next one.
 */
struct store_sealer {		/* sodium_malloc it: it holds a key */
	uint8_t		 key[STORE_KEYLEN];	/* the store's seal key */
	uint8_t		 base[16];		/* its nonces' random base */
	uint8_t		 subkey[32];		/* HChaCha20(key, base) */
	uint64_t	 count;			/* records sealed */
};
/* Copies the store's seal key into s, count 0: -1 if it seals nothing. */
int		 store_sealer_init(const struct store *, struct store_sealer *);
/* n record numbers, the first returned, for the new records of a batch
 * worked out ahead (on the loop, in the order batches arrive, outside
 * any transaction of the caller's): past every number the table held at
 * the first reservation or given since by this handle.
 * Numbers not used are skipped: a record's number only orders it. */
uint64_t	 store_docids_reserve(struct store *, size_t n);
/* Thread-safe (no store, no LMDB): appends to b, at *off, the record c
 * would make alone, sealed with s (NULL: not sealed) under docid. 0
 * done, 1 c is not such a change (not a note or an entry, or words that
 * are not the record's), -1 out of memory. Without words, the apply of
 * a searched kind takes it only in a store that keeps no word index. */
int		 store_record_pre(const struct envelope *e,
		    const uint8_t hash[PROTO_HASHLEN], const struct change *c,
		    const void *words, struct store_sealer *s, uint64_t docid,
		    struct store_words_buf *b, size_t *off);
/* Offers pre (b->p + off), or NULL, to the next record applied; s is
 * the sealer that sealed it (or NULL). */
void		 store_record_hint(struct store_txn *, const void *pre,
		    const struct store_sealer *s);
/* The keys the store opens log entries with to read records' values,
 * which the records table does not hold (recstore.c): the store keeps a
 * copy of kr's keys, and of every key an append or an apply is handed,
 * in sodium_malloc'd memory until store_close. A record whose entries
 * no key it holds opens reads as STORE_EBADENTRY: every key that sealed
 * an applied entry (an old epoch's, a personal key) must stay in the
 * keyring handed over. */
int		 store_set_keyring(struct store *, const struct store_keyring *)
		    STORE_WUR;
/* A transaction: STORE_RDONLY, or one write at a time (LMDB's lock; a
 * write waits for another process's or thread's). *out is the caller's
 * until store_commit (0, or a store error: then it is aborted) or
 * store_abort frees it. A write transaction must end on the thread that
 * began it (its lock is that thread's); another thread may use it in
 * between, never at the same time (daemon/net/writer.c). A read
 * transaction stays on its thread, one a thread at a time. */
int		 store_begin(struct store *, unsigned flags,
		    struct store_txn **) STORE_WUR;
int		 store_commit(struct store_txn *) STORE_WUR;
int		 store_commit_lazy(struct store_txn *) STORE_WUR;
/* Durable commits (store_commit) made through this handle since it was
 * opened: lets the caller tell whether a command wrote anything. */
unsigned long	 store_commits(const struct store *);
void		 store_abort(struct store_txn *);
/* The store's version that t sees: LMDB's id of the last transaction
 * committed when t began (by any process). Two read transactions with
 * the same id see the same store, so what one read may be kept for the
 * other. */
uint64_t	 store_txn_id(const struct store_txn *);

/* The meta key that changes (to random bytes) whenever a membership
 * entry is applied, in the same transaction: a cache of what the
 * membership entries give is good while it holds the same value. */
#define STORE_MEMBERS_GEN	"members_gen"
#define STORE_MEMBERS_GENLEN	16

int		 store_meta_get(struct store_txn *, const char *key,
		    const void **val, size_t *len) STORE_WUR;
int		 store_meta_put(struct store_txn *, const char *key,
		    const void *val, size_t len) STORE_WUR;
int		 store_meta_del(struct store_txn *, const char *key) STORE_WUR;
/* Calls fn with each meta key (not NUL-terminated) starting with prefix. */
int		 store_meta_each(struct store_txn *, const char *prefix,
		    int (*fn)(const char *key, size_t klen, const void *val,
		    size_t vlen, void *), void *arg) STORE_WUR;

/* Validates and seals c, appends it to the author's own log and applies
 * it, inside the caller's write transaction; STORE_EINVALID if the
 * schema refuses it. ref, if not NULL, names the new entry. */
int		 store_append_local(struct store_txn *,
		    const struct store_author *, const struct change *,
		    uint64_t wall_ms, struct write_ref *ref) STORE_WUR;
/* Checks a received entry against its author's chain, appends it, and
 * applies it if the keyring opens it. With verify_sig 0 the caller vouches
 * for the signature (a later entry of a contiguous run was verified). */
int		 store_apply_entry(struct store_txn *,
		    const struct store_keyring *, const uint8_t *env,
		    size_t len, int verify_sig) STORE_WUR;
/* Scratch space for applying received entries: a change and a
 * plaintext buffer, kept from one entry to the next so that a batch
 * allocates nothing per entry. Zero-initialise it; store_apply_buf_free
 * releases what it holds (and accepts one never used). */
struct store_apply_buf {
	struct change	*change;
	uint8_t		*pt;
	size_t		 pt_cap;
};
void		 store_apply_buf_free(struct store_apply_buf *);
/* store_apply_entry for an envelope the caller has decoded from env (len
 * bytes): each entry is decoded once on the receive path. */
int		 store_apply_decoded(struct store_txn *,
		    const struct store_keyring *, const struct envelope *e,
		    const uint8_t *env, size_t len, int verify_sig,
		    struct store_apply_buf *) STORE_WUR;
/* store_apply_decoded for an entry read and hashed beforehand, off the
 * store (the receiver's worker thread): hash is e's, rd what reading it
 * with the key kr holds for it gave (store_read_code of
 * proto_entry_read), c its change when rd is STORE_OK (NULL: kr holds no
 * key for it, it is stored unread) and why when it is STORE_EINVALID or
 * STORE_EDEFER. STORE_EBADENTRY refuses it before anything is written. */
int		 store_apply_opened(struct store_txn *,
		    const struct store_keyring *, const struct envelope *e,
		    const uint8_t *env, size_t len, int verify_sig,
		    const uint8_t hash[PROTO_HASHLEN], int rd,
		    const struct change *c, const char *why) STORE_WUR;
/* A STORE_ code for what proto_entry_read returned. */
int		 store_read_code(int proto_rc);

/* *env points into the author's log segment (logseg.c): valid until
 * the transaction ends or, in a write transaction, until the next entry
 * of that author is appended. */
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
/* *len: the length of the shortest prefix of id's hex form, at least
 * min (and at most the whole), that no other record's id starts with:
 * what a listing shows for store_record_find to take back. */
int		 store_record_prefix(struct store_txn *,
		    const uint8_t id[PROTO_RECIDLEN], size_t min, size_t *len)
		    STORE_WUR;
/* Finds the one record whose hex id starts with prefix. */
int		 store_record_find(struct store_txn *, const char *prefix,
		    uint8_t *kind, uint8_t id[PROTO_RECIDLEN]) STORE_WUR;
/* Calls fn for each record of kind (0: every kind) in key order. */
int		 store_records_each(struct store_txn *, uint8_t kind,
		    int (*fn)(const struct record *, void *), void *arg)
		    STORE_WUR;
/* The same walk without the heads' values (each value is read back from
 * its log entry): heads, writers, sets and tombstones only, for counts
 * such as status's conflicts. Every rec_write's value is NULL. */
int		 store_records_heads_each(struct store_txn *, uint8_t kind,
		    int (*fn)(const struct record *, void *), void *arg)
		    STORE_WUR;

/* Index keys: a type byte, then the parts below. */
#define INDEX_BY_STUDENT	'S'	/* student, date[10], created[8 BE], kind,
					 * id: live only (records.c) */
#define INDEX_COUNT		'C'	/* student -> be64: its 'S' keys */
#define INDEX_WORD		'W'	/* see search.c */
#define INDEX_VOCAB		'V'	/* a kind of 'W' key: search.c */
#define INDEX_GOAL		'G'	/* student, created[8 BE], id */
#define INDEX_MEMBER		'M'	/* student, group id */
#define INDEX_NAME		'N'	/* h(folded name)[16], id */
#define INDEX_RECORD		'K'	/* kind, id -> docid[8 BE]: records.c */
#define INDEX_RECEIPT		'R'	/* device, writer -> be64 seq: receipt.c */
#define INDEX_DATE_LEN		10
#define STORE_INDEX_NAME_KEYMAX	(1 + 16)
/* Writes the prefix of the name index keys of every record named name
 * (INDEX_NAME, a keyed hash under the store key of the name folded as
 * search folds it); returns its length. The keys are in no useful order,
 * and a hash can collide: readers compare the names they find in full. */
size_t		 store_index_name_prefix(struct store_txn *, const char *name,
		    uint8_t out[STORE_INDEX_NAME_KEYMAX]);
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
/* The number of notes and entries (not deleted) of a student. */
int		 store_student_count(struct store_txn *,
		    const uint8_t student[PROTO_RECIDLEN], uint64_t *n)
		    STORE_WUR;

/* receipt.c: receipts (proto.h) are applied to an index, not to the
 * records: for each device and each writer of receipts about it, the seq
 * of the writer's latest receipt. store_receipt_get gives it (0 if none);
 * store_receipts_each calls fn with each (device, writer, seq), those
 * about device only unless device is NULL; fn returns nonzero to stop. */
int		 store_receipt_get(struct store_txn *, const uint8_t *device,
		    const uint8_t *writer, uint64_t *seq) STORE_WUR;
int		 store_receipts_each(struct store_txn *, const uint8_t *device,
		    int (*fn)(const uint8_t *device, const uint8_t *writer,
		    uint64_t seq, void *), void *arg) STORE_WUR;

/*
 * erase.c: erasure (see erase.c for what is kept and why). The daemon
 * decides; these record its decisions, in the caller's write
 * transaction. A student erased: store_erased_put (ms: when the erase
 * was written), store_erased_get (STORE_ENOTFOUND if not erased),
 * store_erased_each. An entry to drop wherever it is: store_drop_put,
 * store_drop_has (1 if named with that hash). store_erase_held turns a
 * held entry into its stub (*erased 1 if it did; nothing if it is not
 * held, already a stub, or hash is not NULL and not its hash). store_erase_touches: 1 if change c touches
 * an erased student (its record is one, or about one, or a value names
 * one), else 0, or a STORE_E* code. store_erase_scrub overwrites the
 * pages LMDB holds free, outside any transaction (three commits).
 */
int		 store_erased_put(struct store_txn *, const uint8_t *student,
		    uint64_t ms) STORE_WUR;
int		 store_erased_get(struct store_txn *, const uint8_t *student,
		    uint64_t *ms) STORE_WUR;
int		 store_erased_each(struct store_txn *,
		    int (*fn)(const uint8_t *student, uint64_t ms, void *),
		    void *arg) STORE_WUR;
int		 store_drop_put(struct store_txn *, const struct write_ref *)
		    STORE_WUR;
int		 store_drop_has(struct store_txn *, const uint8_t *author,
		    uint64_t seq, const uint8_t hash[PROTO_HASHLEN]);
int		 store_erase_held(struct store_txn *, const uint8_t *author,
		    uint64_t seq, const uint8_t *hash, int *erased) STORE_WUR;
/* store_erase_held of every entry named for dropping, with its hash;
 * *erased: how many became stubs. */
int		 store_erase_named(struct store_txn *, size_t *erased)
		    STORE_WUR;
/* 1 if an apply named entries for dropping whose stubs are not made yet
 * (store_erase_named makes them), else 0. */
int		 store_erase_pending(struct store_txn *);
int		 store_erase_touches(struct store_txn *, const struct change *)
		    STORE_WUR;
int		 store_erase_scrub(struct store *) STORE_WUR;
/* After entries became stubs: the derived tables rebuilt from the log in
 * the caller's transaction, applying what kr opens. */
int		 store_erase_rebuild(struct store_txn *,
		    const struct store_keyring *) STORE_WUR;
/* The entries held as stubs. */
int		 store_erased_count(struct store_txn *, uint64_t *n) STORE_WUR;

/* search.c: a match of store_search. All borrowed for the call. */
struct store_hit {
	const struct record *r;
	const char	*field;		/* the field holding most query words */
	const char	*value;		/* its value */
	size_t		 off;		/* where in value the first one starts */
};
/* Calls fn (which returns nonzero to stop) with each note, entry and
 * student, not deleted, whose searched text (every field but references,
 * and the tags) holds each word of query (proto_text_words: case and
 * Latin, Greek and Cyrillic accents ignored) as a word or the start of
 * one, in any order; in (kind, id) order. The work grows with the records
 * the query's longest word finds, never with the store. STORE_EINVALID if
 * query has no words or more than 31; STORE_ENOTFOUND without a key. */
int		 store_search(struct store_txn *, const char *query,
		    int (*fn)(const struct store_hit *, void *), void *arg)
		    STORE_WUR;
/* A digest of every record's canonical state, kept as records change:
 * equal on two stores exactly when their records are (see search.c for
 * how and how far). store_digest reads it; store_digest_scan computes it
 * again from every record, for verify. */
int		 store_digest(struct store_txn *, uint8_t out[PROTO_HASHLEN])
		    STORE_WUR;
int		 store_digest_scan(struct store_txn *,
		    uint8_t out[PROTO_HASHLEN]) STORE_WUR;
/* Entries held but not applied: valid chain and signature, but a change
 * the schema refuses (applied everywhere as the same no-op) or of a newer
 * format (applied once this device understands it). */
#define UNAPPLIED_INVALID	'i'
#define UNAPPLIED_NEWER		'n'
int		 store_unapplied_put(struct store_txn *, const uint8_t *author,
		    uint64_t seq, int why_kind, const char *why) STORE_WUR;
/* Calls fn for each, in (author, seq) order; why is NUL-terminated. */
int		 store_unapplied_each(struct store_txn *,
		    int (*fn)(const uint8_t *author, uint64_t seq, int kind,
		    const char *why, void *), void *arg) STORE_WUR;
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
