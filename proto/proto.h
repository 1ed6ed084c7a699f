/*
 * proto: Satchel's byte formats as pure functions. Bytes in, structs out;
 * no I/O and no globals. Every decoder here accepts untrusted bytes, checks
 * every declared count against the bytes it has before msgpack-c sees them,
 * and returns -1 on anything malformed. Decoded structs borrow pointers into
 * the caller's buffer: they are valid while that buffer is.
 */
#ifndef SATCHEL_PROTO_H
#define SATCHEL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define PROTO_WUR __attribute__((warn_unused_result))

/*
 * Versions. Every format carries one, and a device treats data of a newer
 * version than it knows by one rule: what it can still check is stored,
 * relayed and verified like any other, and applied once it understands
 * it; what it cannot check is refused as narrowly as possible, never
 * taking down more than that data.
 *
 * The envelope is what every device, a box included, hashes, chains and
 * verifies. An envelope of a newer version cannot be checked (its hash or
 * signature may be computed otherwise), and storing it unchecked would let
 * anyone forge an author's next entry. So a device refuses that author's
 * entries from the first newer one on, and only those: the author's
 * earlier entries are applied, every other author and the connection go on
 * (MSG_REFUSE, REFUSE_NEWER; a bundle skips them with a warning), and the
 * device takes them once it is upgraded. Every version starts with
 * [version, author, seq], so that a device can place an entry it cannot
 * read (proto_envelope_peek).
 *
 * That makes an envelope bump cost every older device its author's later
 * entries, so the envelope stays at version 1: what evolves is the change
 * sealed inside it, which carries its own version and, being checked by
 * its envelope, is stored and relayed whatever its version. Bump
 * PROTO_VERSION only once every member is known to read the new one.
 */
#define PROTO_VERSION		1	/* envelope format; see above */
#define PROTO_CHANGE_VERSION	3	/* change format understood */
#define PROTO_IDLEN		32	/* device id: an ed25519 public key */
#define PROTO_SKLEN		64	/* ed25519 secret key */
#define PROTO_HASHLEN		32	/* BLAKE2b-256 entry hash */
#define PROTO_RECIDLEN		16	/* random 128-bit record id */
#define PROTO_KEYLEN		32	/* XChaCha20-Poly1305 key */
#define PROTO_KEYIDLEN		16	/* names a key without revealing it */
#define PROTO_NONCELEN		24
#define PROTO_TAGLEN		16
#define PROTO_SIGLEN		64
#define PROTO_MAX_VALUE		(64 * 1024)	/* one field's value */
#define PROTO_MAX_FIELD		32	/* a field's name */
#define PROTO_MAX_OPS		32	/* ops in one change */
#define PROTO_MAX_PREDS		64	/* writes one op names (v1: 8) */
#define PROTO_MAX_ELEM		256	/* one set element (a tag, a student id) */
#define PROTO_MAX_CHANGE	(1024 * 1024)	/* one decrypted change */
#define PROTO_MAX_ENVELOPE	(PROTO_MAX_CHANGE + 512)
#define PROTO_HEADER_MAX	160	/* encoded header: 8 fields, fixed sizes */

/* Record kinds; wire values, never reused. */
enum proto_kind {
	KIND_STUDENT	= 1,
	KIND_NOTE	= 2,
	KIND_ENTRY	= 3,
	KIND_GROUP	= 4,
	KIND_GOAL	= 5,
	KIND_MEMBER	= 6,	/* team membership; sealed under the network key */
	KIND_UNIT	= 7,	/* a unit of teaching; change v3 on */
	KIND_KEYS	= 8,	/* an epoch's keys, sealed to each member (epoch.c) */
	KIND_RECEIPT	= 9,	/* what a peer acknowledged in a sync: receipt.c */
	KIND_ERASE	= 10,	/* a student erased, or entries dropped: erase.c */
	KIND_MAX	= 10
};

/* Op types; wire values, never reused. */
enum proto_op_type {
	OP_SET		= 1,	/* LWW register write; preds: writes replaced */
	OP_ADD		= 2,	/* OR-set add; tagged by the entry's (author, seq) */
	OP_REMOVE	= 3,	/* OR-set remove; preds: add tags observed */
	OP_DELETE	= 4,	/* tombstone register := deleted; preds as SET */
	OP_UNDELETE	= 5	/* tombstone register := live; preds as SET */
};

/* Scopes; wire values. */
enum proto_scope {
	SCOPE_TEAM	= 0,	/* sealed under the epoch's content key */
	SCOPE_PRIVATE	= 1	/* sealed under the author's personal key */
};

/* Names one write everywhere: an entry's (author, seq). Written by a
 * change of version 2 or later, a reference also carries the named entry's
 * hash, so that a write can replace only a write its author has held: the
 * hash of a future entry cannot be known. has_hash is 0 for references
 * decoded from version 1 changes, which match on (author, seq) alone. */
struct write_ref {
	uint8_t		author[PROTO_IDLEN];
	uint64_t	seq;
	uint8_t		hash[PROTO_HASHLEN];
	uint8_t		has_hash;
};

struct op {
	uint8_t		 type;
	const char	*field;		/* borrowed, not NUL-terminated */
	size_t		 field_len;
	const uint8_t	*value;		/* borrowed; NULL for delete/undelete */
	size_t		 value_len;
	size_t		 npreds;
	struct write_ref preds[PROTO_MAX_PREDS];
};

struct change {
	uint8_t		version;	/* change format; PROTO_CHANGE_VERSION */
	uint8_t		record_id[PROTO_RECIDLEN];
	uint8_t		kind;
	size_t		nops;
	struct op	ops[PROTO_MAX_OPS];
};

struct envelope {
	uint8_t		 version;
	uint8_t		 author[PROTO_IDLEN];
	uint64_t	 seq;
	uint8_t		 prev_hash[PROTO_HASHLEN];
	uint64_t	 hlc;
	uint8_t		 key_id[PROTO_KEYIDLEN];
	uint8_t		 scope;
	uint8_t		 nonce[PROTO_NONCELEN];
	const uint8_t	*ciphertext;	/* borrowed; NULL if erased */
	size_t		 ciphertext_len;
	uint8_t		 signature[PROTO_SIGLEN];
	/* An erased entry (a stub) keeps everything its hash covers: the
	 * header and its ciphertext's hash, not the ciphertext. */
	uint8_t		 erased;
	uint8_t		 ct_hash[PROTO_HASHLEN];	/* when erased */
};

/*
 * mpack.c: checked msgpack helpers shared by every decoder.
 *
 * msgpack-c spends sizeof(msgpack_object) (24 bytes on 64-bit) on every
 * object, so a buffer of one-byte objects would cost 24 times its size.
 * mp_unpack refuses a buffer whose objects would take more than
 * MP_OBJ_RATIO times its length plus MP_OBJ_FLOOR bytes; sync frames use
 * the tighter WIRE_OBJ_RATIO (wire.h). mp_max_objects gives that count.
 */
#define MP_OBJ_RATIO	6
#define MP_OBJ_FLOOR	(64 * 1024)
size_t	mp_max_objects(size_t len, unsigned ratio);
int	mp_check(const uint8_t *buf, size_t len) PROTO_WUR;
int	mp_check_objects(const uint8_t *buf, size_t len, size_t max_objects)
	    PROTO_WUR;
int	mp_unpack(msgpack_unpacked *out, const uint8_t *buf, size_t len,
	    size_t max) PROTO_WUR;
int	mp_unpack_ratio(msgpack_unpacked *out, const uint8_t *buf, size_t len,
	    size_t max, unsigned ratio) PROTO_WUR;
int	mp_uint(const msgpack_object *, uint64_t max, uint64_t *out) PROTO_WUR;
int	mp_bin(const msgpack_object *, size_t len, uint8_t *out) PROTO_WUR;
int	mp_bytes(const msgpack_object *, size_t max, const uint8_t **p,
	    size_t *len) PROTO_WUR;
int	mp_str(const msgpack_object *, size_t max, const char **p,
	    size_t *len) PROTO_WUR;
int	mp_array(const msgpack_object *, size_t min, size_t max) PROTO_WUR;
void	mp_pack_bin(msgpack_packer *, const void *, size_t);
void	mp_pack_str(msgpack_packer *, const char *, size_t);

/* change.c: the change format.
 *	v1: [record_id, kind, [op...]], ref = [author, seq], each
 *	    optionally followed by [hash, 2^64-1] carrying its hash
 *	v2: [2, record_id, kind, [op...]], ref = [author, seq, hash]
 *	op = [type, field, value | nil, [ref...]]
 *	v3: the v2 layout, whose ops may also name the fields and kinds
 *	    that came with version 3 (proto_change_needs says which)
 * proto_change_encode writes v1 with hashes when every op names at most
 * 4 writes and nothing newer, which the previous release reads too, else
 * the lowest of v2 and v3 that holds it (c->version is ignored). Decode checks
 * only the shape and the bounds; proto_change_validate (schema.c) checks
 * the content. Decode returns 0, -1 on malformed bytes, or
 * PROTO_CHANGE_NEWER for a version above PROTO_CHANGE_VERSION (c then
 * holds only version): such a change is kept until this device is
 * upgraded, never refused. */
#define PROTO_CHANGE_NEWER	1
int	proto_change_encode(const struct change *, msgpack_sbuffer *) PROTO_WUR;
int	proto_change_decode(struct change *, const uint8_t *, size_t)
	    PROTO_WUR;
/* The lowest change version whose schema has every kind and field c
 * names (schema.c): 1, or 3 for what came with version 3. */
unsigned proto_change_needs(const struct change *);

/* schema.c: what each kind holds, and the one validation of a change's
 * content, used alike for a local write (before it is sealed) and for a
 * received entry (after it is opened). A change that fails it is never
 * written; a received one is applied as a no-op on every device. */
enum proto_key_use {
	PROTO_KEY_CONTENT	= 1,	/* the epoch's content key: teachers */
	PROTO_KEY_NETWORK	= 2,	/* the network key: membership only */
	PROTO_KEY_EPOCH		= 3,	/* an epoch's record key: KIND_KEYS only */
	PROTO_KEY_RECEIPT	= 4,	/* the receipt key: receipts only */
	PROTO_KEY_ERASE		= 5	/* the erase key: erase records only */
};
enum proto_field_type {
	FT_LINE		= 1,	/* one line of text: names, titles */
	FT_TEXT		= 2,	/* long text: newlines and tabs allowed */
	FT_DATE		= 3,	/* YYYY-MM-DD */
	FT_STUDENT	= 4,	/* a student's record id in hex */
	FT_DEVICE	= 5,	/* a device id in hex */
	FT_CHOICE	= 6,	/* one of a fixed list */
	FT_COUNT	= 7,	/* a small decimal number */
	FT_REFS		= 8,	/* entries seen: members.h */
	FT_CUTOFF	= 9,	/* a removal's cut-off: members.h */
	FT_RECORD	= 10,	/* any record's id in hex (v3) */
	FT_SCORE	= 11,	/* a score: up to 6 digits, one '.' (v3) */
	FT_EPOCH	= 16,	/* an epoch record in base64 (epoch.c) */
	FT_VECTOR	= 17,	/* a vector of (author, seq): receipt.c */
	FT_TIME		= 18,	/* ms since the epoch, decimal */
	FT_DROP		= 19	/* entries to drop: erase.c */
};
struct proto_field {
	const char	*name;
	uint8_t		 type;
	const char *const *choices;	/* FT_CHOICE: NULL-terminated */
};
#define PROTO_MAX_SET_ELEMS	1000	/* elements one command may leave */
/* The fields of a kind (NULL-terminated), its set field (or NULL), and the
 * key use its entries must be sealed with; 0 if the kind is unknown. */
const struct proto_field *proto_kind_fields(uint8_t kind);
const char	*proto_kind_set(uint8_t kind);
int		 proto_kind_key(uint8_t kind);
/* The field definition of name in kind, or NULL: one spelling per field. */
const struct proto_field *proto_field_find(uint8_t kind, const char *name,
	    size_t len);
/* 0 if value is well-formed for field type f; -1 and *why otherwise. */
int	proto_value_check(const struct proto_field *, const char *value,
	    size_t len, const char **why);
/* 0 if c may be written and applied when sealed under a key of key_use;
 * else -1 with *why set to a static sentence naming the problem. A
 * decoded change (c->version set) may name only the kinds and fields of
 * its version, so every release files it alike; a local one (version 0)
 * may name all this release knows, and is encoded in the version that
 * holds them. */
int	proto_change_validate(const struct change *, int key_use,
	    const char **why) PROTO_WUR;

/*
 * receipt.c: receipts. When a device syncs with another, it writes a
 * receipt of what that device acknowledged holding, so that the team can
 * later say which students' records a lost laptop held (the exposure
 * report). A receipt is a change of kind KIND_RECEIPT, checked by schema.c
 * like any other:
 *	device	the device synced with (FT_DEVICE); the record id is
 *		proto_receipt_id of it
 *	synced	when, by the writer's wall clock (FT_TIME)
 *	holds	the vector that device acknowledged (FT_VECTOR)
 *	self	the writer's own vector at that moment (FT_VECTOR)
 * It is sealed under the receipt key, derived from the network key, so
 * that whoever holds the network key (the box included) reads and writes
 * receipts. It is a key of its own, not the network key itself, because
 * the first release (0.1) refuses any change under the network key that
 * is not a member record, and with it every later entry of its author; a
 * key it does not hold it stores and relays without reading.
 *
 * A vector is text: items "author:seq", author in 64 lower-case hex
 * digits, seq in decimal without leading zeros (1 to 2^63 - 1), separated
 * by ",", authors strictly ascending; "" is the empty vector. So one
 * vector has one spelling.
 */
#define PROTO_VECTOR_ITEM_MAX	(2 * PROTO_IDLEN + 1 + 19 + 1)
/* The receipt record of device: a hash of its id, so that it never shares
 * an id prefix with the device's member record. */
void	proto_receipt_id(const uint8_t device[PROTO_IDLEN],
	    uint8_t out[PROTO_RECIDLEN]);
/* The receipt key of a network key (both PROTO_KEYLEN bytes). */
void	proto_receipt_key(const uint8_t network[PROTO_KEYLEN],
	    uint8_t out[PROTO_KEYLEN]);
/* Reads vector text s[0..len) from anyone: calls fn (if not NULL) with
 * each item in order; fn returns 0 to go on, nonzero to stop, and that
 * value is returned (give a positive one). -1 if s is not a vector. */
int	proto_vector_each(const char *s, size_t len,
	    int (*fn)(const uint8_t *author, uint64_t seq, void *), void *arg)
	    PROTO_WUR;
/* Appends the item (author, seq) to the vector text in out (*len bytes
 * used of cap; NUL-terminated after). Authors must come in ascending
 * order. -1, out unchanged, if it does not fit or seq is out of range. */
int	proto_vector_put(char *out, size_t cap, size_t *len,
	    const uint8_t author[PROTO_IDLEN], uint64_t seq) PROTO_WUR;
/* 0 if s[0..len) is a time: 1 to 15 decimal digits, no leading zero. */
int	proto_time_check(const char *s, size_t len);

/*
 * envelope.c. An erased entry is kept as a stub: the same array with the
 * version PROTO_STUB | version and, in the ciphertext's place, the
 * ciphertext's BLAKE2b-256 (bin 32). Its hash, and so its chain and its
 * signature, are those of the entry it was. A release that predates
 * stubs reads the version as a newer envelope's and refuses that author
 * from the stub on (REFUSE_NEWER), as for any newer envelope: it learns
 * no ciphertext, and takes the rest once upgraded. proto_envelope_peek
 * gives a stub's version as the entry's.
 */
#define PROTO_STUB		0x80
int	proto_envelope_encode(const struct envelope *, msgpack_sbuffer *)
	    PROTO_WUR;
int	proto_envelope_decode(struct envelope *, const uint8_t *, size_t)
	    PROTO_WUR;
size_t	proto_envelope_header(const struct envelope *,
	    uint8_t out[PROTO_HEADER_MAX]);
void	proto_envelope_hash(const struct envelope *,
	    uint8_t out[PROTO_HASHLEN]);
/* Reads the [version, author, seq] that every envelope version starts
 * with, without checking the rest: to refuse an entry of a newer version
 * than PROTO_VERSION by its author and seq. 0, or -1 if buf does not start
 * so. Never vouches for anything: the entry is not verified. */
int	proto_envelope_peek(const uint8_t *buf, size_t len, uint64_t *version,
	    uint8_t author[PROTO_IDLEN], uint64_t *seq) PROTO_WUR;
/* Seals pt into ct (pt_len + PROTO_TAGLEN bytes, caller-allocated), picks
 * a fresh nonce, and signs; e's header fields must be set already. */
int	proto_envelope_seal(struct envelope *, const uint8_t key[PROTO_KEYLEN],
	    const uint8_t *pt, size_t pt_len, uint8_t *ct,
	    const uint8_t sk[PROTO_SKLEN]) PROTO_WUR;
int	proto_envelope_verify(const struct envelope *,
	    const uint8_t hash[PROTO_HASHLEN]) PROTO_WUR;
/* Turns e into its stub: keeps the ciphertext's hash, drops the
 * ciphertext. Its hash is unchanged. */
void	proto_envelope_erase(struct envelope *);
/* Opens the ciphertext into pt (ciphertext_len - PROTO_TAGLEN bytes);
 * -1 for a stub. */
int	proto_envelope_open(const struct envelope *,
	    const uint8_t key[PROTO_KEYLEN], uint8_t *pt) PROTO_WUR;
/* Opens e with key into pt (ciphertext_len bytes of room), decodes its
 * change into c (which borrows pt) and validates it as sealed under a key
 * of key_use, exactly as a local write is validated: 0; -1 if the key
 * does not open it (a forgery or damage); PROTO_CHANGE_NEWER if a newer
 * Satchel wrote it, PROTO_ENTRY_INVALID if it is not a valid change (both
 * with *why, a static sentence). Pure: any thread may call it. */
#define PROTO_ENTRY_INVALID	2
int	proto_entry_read(const struct envelope *,
	    const uint8_t key[PROTO_KEYLEN], int key_use, struct change *,
	    uint8_t *pt, const char **why) PROTO_WUR;
void	proto_key_id(const uint8_t key[PROTO_KEYLEN],
	    uint8_t out[PROTO_KEYIDLEN]);

/*
 * text.c: the one rule for text, from a keyboard or a peer. Text is UTF-8
 * (no overlong forms, no surrogates), with no C0 or C1 control, no DEL
 * and no bidirectional embedding, override or isolate control. A one-line
 * text (a name, class, title, tag) also refuses newline, tab, U+2028 and
 * U+2029, and the invisible direction marks LRM, RLM and ALM, which long
 * text (note parts, entry bodies, profile fields) keeps. Joiners (ZWJ,
 * ZWNJ), which Persian and Indic writing needs, are text like any other.
 */
#define PROTO_TEXT_LINE		1	/* names, classes, titles, tags */
#define PROTO_TEXT_LONG		2	/* note parts, bodies, profile fields */
#define PROTO_TEXT_MAX		PROTO_MAX_CHANGE /* longest text mapped */

/* Reasons proto_text_check gives; never 0. */
#define PROTO_TEXT_EUTF8	1	/* a stray, cut or out-of-range byte */
#define PROTO_TEXT_EOVERLONG	2
#define PROTO_TEXT_ESURROGATE	3
#define PROTO_TEXT_ECONTROL	4	/* C0 (but \n \t in long text), DEL, C1 */
#define PROTO_TEXT_ELINE	5	/* a line break or tab in one-line text */
#define PROTO_TEXT_EBIDI	6	/* U+202A-U+202E, U+2066-U+2069 */
#define PROTO_TEXT_EMARK	7	/* U+200E, U+200F, U+061C in one-line text */

/* Flags of proto_text_fold. */
#define PROTO_FOLD_ACCENTS	1	/* also drop accents (see text.c) */

/* 0 if s[0..len) is text of class cls, else a PROTO_TEXT_E* reason. */
int	proto_text_check(const char *s, size_t len, int cls) PROTO_WUR;
/* A static phrase for a reason, to follow the flag it concerns. */
const char *proto_text_reason(int why);
/* s normalised to NFC. Returns a new NUL-terminated string the caller
 * frees with free(), its length in *outlen (may be NULL); NULL if s is not
 * UTF-8, is longer than PROTO_TEXT_MAX, or memory ran out. */
char	*proto_text_nfc(const char *s, size_t len, size_t *outlen);
/* The form text is searched and indexed by: NFC after Unicode (full,
 * not Turkish) case folding, so "DICTÉE" and "dictée" fold alike; with
 * PROTO_FOLD_ACCENTS, also without the accents of Latin, Greek and
 * Cyrillic letters ("Élodie" as "elodie"). Ownership and errors as
 * proto_text_nfc. */
char	*proto_text_fold(const char *s, size_t len, unsigned flags,
	    size_t *outlen);
/* 1 if a and b are the same text once normalised to NFC (canonically
 * equivalent, like a composed and a decomposed "José"), else 0. */
int	proto_text_same(const char *a, size_t alen, const char *b,
	    size_t blen);
/* The words search finds text by: maximal runs of letters, marks and
 * digits (Unicode categories L, M and N, and the joiners ZWJ and ZWNJ
 * that Persian and Indic words hold); anything else separates. Calls fn
 * with each word folded (proto_text_fold with PROTO_FOLD_ACCENTS; borrowed
 * for the call, NUL-terminated) and where the word lies in s; stops early
 * when fn returns nonzero. Scripts written without spaces give one word
 * per run. 0, or -1 if s is not UTF-8 or memory ran out. */
int	proto_text_words(const char *s, size_t len,
	    int (*fn)(const char *word, size_t wlen, size_t off, size_t olen,
	    void *), void *arg) PROTO_WUR;
/* proto_text_words, with each word handed on cut to the first cap code
 * points of its folded form (proto_text_prefix of it): what the word
 * index keeps. Only as much of a long word is folded as the cut needs. */
int	proto_text_words_cap(const char *s, size_t len, size_t cap,
	    int (*fn)(const char *word, size_t wlen, size_t off, size_t olen,
	    void *), void *arg) PROTO_WUR;
/* The bytes the first n code points of UTF-8 s[0..len) take. */
size_t	proto_text_prefix(const char *s, size_t len, size_t n);
/* The change decoder's check: 1 if s is long text, else 0. */
int	proto_text_ok(const char *, size_t);

/*
 * epoch.c: key epochs. Removing a member starts a new epoch: a new team
 * secret, from which the content and network keys are derived apart
 * (crypto_kdf), handed to each remaining member in one record sealed to
 * that member's identity (crypto_box_seal to its ed25519 key converted to
 * X25519); the box gets only the network key. A new member gets the
 * earlier epochs' keys its role may hold the same way (a grant). The
 * record is the text value (base64, URL-safe, unpadded) of the field
 * "keys" of a KIND_KEYS change, which is sealed under the writer's
 * current epoch's record key (PROTO_KEY_EPOCH): a key derived from that
 * epoch's network key, which the previous release does not know, so it
 * stores and relays the entry without reading it.
 */
#define PROTO_EPOCH_VERSION	1
#define PROTO_EPOCH_NEWER	1	/* decode: a newer version, kept */
#define PROTO_EPOCH_MAX_RECIPIENTS 256	/* devices one record seals to */
#define PROTO_EPOCH_MAX_KEYS	256	/* keys one sealed part holds */
#define PROTO_EPOCH_MAX_SEALED	(16 * 1024)	/* one sealed part */
#define PROTO_EPOCH_MAX_BYTES	(48 * 1024)	/* the record: base64 fits a value */
#define PROTO_EPOCH_MAX_TEXT	(PROTO_EPOCH_MAX_BYTES / 3 * 4 + 4)
enum proto_epoch_what {
	EPOCH_NEW	= 1,	/* a removal started this epoch */
	EPOCH_GRANT	= 2	/* earlier epochs' keys for a new member */
};
enum proto_epoch_key_kind {
	EPOCH_KEY_SECRET	= 1,	/* the team secret: content + network */
	EPOCH_KEY_NETWORK	= 2	/* the network key alone: a box */
};
struct proto_epoch_key {
	uint32_t	epoch;
	uint8_t		kind;		/* EPOCH_KEY_* */
	uint8_t		key[PROTO_KEYLEN];
};
struct proto_epoch_part {
	uint8_t		 id[PROTO_IDLEN];	/* the recipient device */
	const uint8_t	*sealed;		/* borrowed */
	size_t		 sealed_len;
};
struct proto_epoch {
	uint8_t		 version;
	uint8_t		 what;		/* EPOCH_NEW or EPOCH_GRANT */
	uint32_t	 epoch;		/* started, or the newest granted */
	uint8_t		 net_id[PROTO_KEYIDLEN];	/* that epoch's network key */
	int		 has_removed;	/* EPOCH_NEW: always */
	uint8_t		 removed[PROTO_IDLEN];
	size_t		 nrecipients;
	struct proto_epoch_part recipients[PROTO_EPOCH_MAX_RECIPIENTS];
};
/* Encodes r into sb: -1 if a count or size is out of bounds. */
int	proto_epoch_encode(const struct proto_epoch *, msgpack_sbuffer *)
	    PROTO_WUR;
/* 0; PROTO_EPOCH_NEWER (only r->version is set); or -1 if malformed. r
 * borrows the sealed parts from buf. Large: allocate r, not on a stack. */
int	proto_epoch_decode(struct proto_epoch *, const uint8_t *, size_t)
	    PROTO_WUR;
/* The schema's check of a "keys" value: 0 if it is base64 of a record
 * proto_epoch_decode takes (of a newer version too), else -1. */
int	proto_epoch_check(const char *text, size_t len) PROTO_WUR;
/* Seals n keys to recipient's identity into out (cap bytes); *outlen is
 * the sealed length. -1 on a bad count, kind or key, or if cap is short. */
int	proto_epoch_seal(uint8_t *out, size_t cap, size_t *outlen,
	    const struct proto_epoch_key *keys, size_t n,
	    const uint8_t recipient[PROTO_IDLEN]) PROTO_WUR;
/* Opens a part sealed to the identity (id, sk) into keys (at most max);
 * -1 if it is not for this device or malformed. The caller wipes keys. */
int	proto_epoch_open(struct proto_epoch_key *keys, size_t max, size_t *n,
	    const uint8_t *sealed, size_t len, const uint8_t id[PROTO_IDLEN],
	    const uint8_t sk[PROTO_SKLEN]) PROTO_WUR;

/*
 * erase.c: erasure (issue 12). An admin's `student erase` writes a change
 * of kind KIND_ERASE:
 *	student	the student erased (FT_STUDENT)
 *	drop	the entries about the student its writer held (FT_DROP)
 * and any teacher's device, meeting an erase, writes one with "drop"
 * alone (an addendum) naming its own entries about the student that the
 * erase did not name: those written offline, and private ones, which
 * only it can read; an addendum names no student. Both are sealed under
 * the erase key, derived from the network key, so that a box reads them
 * and drops the ciphertexts named; a release that predates erasure holds
 * no erase key and stores and relays them unread. The drop list's text
 * is described in erase.c.
 */
#define PROTO_ERASE_VERSION	1
#define PROTO_ERASE_NEWER	1	/* decode: a newer list, kept */
#define PROTO_ERASE_MAX_REFS	400	/* entries one list names */
/* The erase key of a network key (both PROTO_KEYLEN bytes). */
void	proto_erase_key(const uint8_t network[PROTO_KEYLEN],
	    uint8_t out[PROTO_KEYLEN]);
/* Sorts refs by (author, seq) and drops repeats; *n is updated. */
void	proto_erase_sort(struct write_ref *refs, size_t *n);
/* The text of the list refs[0..n) (sorted, 1 to PROTO_ERASE_MAX_REFS):
 * a new NUL-terminated string the caller frees. -1 if n is out of range,
 * refs are not strictly ascending, or memory ran out. */
int	proto_erase_encode(const struct write_ref *refs, size_t n,
	    char **text, size_t *len) PROTO_WUR;
/* Reads list text from anyone into refs (at most max): 0 and *n;
 * PROTO_ERASE_NEWER for a newer version (nothing read, kept); -1 if it
 * is not a list, or holds more than max. */
int	proto_erase_decode(const char *text, size_t len,
	    struct write_ref *refs, size_t max, size_t *n) PROTO_WUR;
/* The schema's check of a "drop" value: 0 if proto_erase_decode takes it
 * (a newer version too), else -1. */
int	proto_erase_check(const char *text, size_t len) PROTO_WUR;

/* hlc.c: hybrid logical clock, 48-bit milliseconds and a 16-bit counter.
 * The most a clock runs ahead of its own wall clock: a day, so that one
 * laptop with a dead clock battery cannot drag the team into next year,
 * while a laptop a few hours behind its colleagues still orders its edits
 * after theirs. */
#define PROTO_HLC_MAX_AHEAD_MS	(UINT64_C(24) * 3600 * 1000)
/* The next clock value for a local write; a last value more than
 * PROTO_HLC_MAX_AHEAD_MS past wall_ms is ignored (see hlc.c for why). */
uint64_t proto_hlc_now(uint64_t last, uint64_t wall_ms);
/* The clock after seeing remote: adopted up to PROTO_HLC_MAX_AHEAD_MS past
 * wall_ms, never further. */
uint64_t proto_hlc_seen(uint64_t last, uint64_t remote, uint64_t wall_ms);
uint64_t proto_hlc_ms(uint64_t hlc);

/* devid.c: device ids as people read and type them. The checked form is
 * Syncthing's device ID format: the 32-byte key in base32 (RFC 4648
 * alphabet, no padding: 52 characters), cut into four groups of 13, each
 * followed by a Luhn mod 32 check character (Syncthing's variant: weights
 * 1, 2, 1, ... from the group's first character), written as eight
 * dash-separated groups of 7. Any one mistyped character fails its
 * group's check. The check only catches typing mistakes: what is verified
 * is always the full key it decodes to. */
#define PROTO_DEVID_LEN		63	/* the checked form, dashes included */
#define PROTO_DEVID_EFORM	(-1)	/* not 56 base32 characters */
#define PROTO_DEVID_ECHECK	(-2)	/* a check character does not match */
/* Writes the checked form of id and a NUL into out. */
void	proto_devid_encode(const uint8_t id[PROTO_IDLEN],
	    char out[PROTO_DEVID_LEN + 1]);
/* Reads the checked form from s (len bytes, not NUL-terminated): letters
 * in either case, dashes and spaces anywhere, and 0, 1, 8 read as O, I, B
 * (digits the alphabet lacks). Returns 0 and fills id; PROTO_DEVID_EFORM
 * if s is not the checked form of any key; PROTO_DEVID_ECHECK if it has
 * the form but a check fails, with *group (1 to 4, may be NULL) the first
 * failing group: characters 14 * (group - 1) + 1 to 14 * group. */
int	proto_devid_decode(const char *s, size_t len, uint8_t id[PROTO_IDLEN],
	    int *group) PROTO_WUR;

#endif
