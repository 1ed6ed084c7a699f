/*
 * Materialised records, each with its history (recstore.c), and their
 * indexes. The indexes are derived from the records and rewritten with
 * them in the same transaction, so `show` and `list` never scan the
 * whole store.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"
#include "store_int.h"

#define REC_KEYLEN	(1 + PROTO_RECIDLEN)
#define INDEX_NAME_HASHLEN	16
#define INDEX_KEY_MAX	(1 + 16 + INDEX_DATE_LEN + 8 + 1 + PROTO_RECIDLEN)

struct index_keys {
	size_t	 n;
	uint8_t	(*keys)[INDEX_KEY_MAX];
	size_t	*lens;
};

int	store_apply_change(struct store_txn *, const struct envelope *,
	    const uint8_t hash[PROTO_HASHLEN], const struct change *);

static void
rec_key(uint8_t key[REC_KEYLEN], uint8_t kind, const uint8_t *id)
{
	key[0] = kind;
	memcpy(key + 1, id, PROTO_RECIDLEN);
}

static int
keys_add(struct index_keys *ik, const uint8_t *key, size_t len)
{
	void *k = realloc(ik->keys, (ik->n + 1) * sizeof(*ik->keys));
	void *l;

	if (k == NULL)
		return -1;
	ik->keys = k;
	if ((l = realloc(ik->lens, (ik->n + 1) * sizeof(*ik->lens))) == NULL)
		return -1;
	ik->lens = l;
	memcpy(ik->keys[ik->n], key, len);
	ik->lens[ik->n++] = len;
	return 0;
}

static void
keys_free(struct index_keys *ik)
{
	free(ik->keys);
	free(ik->lens);
}

/* A student reference is the student's id in hex. */
static int
student_bytes(const char *hex, uint8_t out[PROTO_RECIDLEN])
{
	if (hex == NULL || strlen(hex) != 2 * PROTO_RECIDLEN)
		return -1;
	/* Every note's index keys need it: decoded here, a byte a pair,
	 * taking both cases as sodium_hex2bin did. */
	for (size_t i = 0; i < 2 * PROTO_RECIDLEN; i++) {
		int c = (unsigned char)hex[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(d << 4);
		else
			out[i / 2] |= (uint8_t)d;
	}
	return 0;
}

/*
 * A student's 'S' and 'G' keys put the record's creation stamp before
 * its id: the clock of the earliest entry that touched it (its hist's
 * first), the same on every device that holds that entry. Why: record
 * ids are random, and a sync's thousands of new notes about a student
 * went to random places of the student's range, so that each commit
 * rewrote most of its pages; in creation order they go to the range's
 * end. And a day's notes are shown newest first in the order they were
 * written, on every device, not in the order of their random ids.
 *
 * New notes' ids start with their time too (daemon/ops.c), but not the
 * ids of older releases' notes, nor of notes a roster or a tool made:
 * the stamp orders them all.
 *
 * What it shows: the stamp is a clock the entry's envelope carries in
 * the clear (the log's, on the same disk, and any relay's), so the index
 * tells someone holding the data directory without its keys which entry
 * made which student's note. The docids did much the same already (a
 * record's docid is in apply order, next to its kind and id, and the
 * 'S' key names the id).
 */
static int
index_by_student(const struct record *r, uint64_t created,
    struct index_keys *ik)
{
	uint8_t key[INDEX_KEY_MAX], *p = key;
	const char *date = record_get(r, "date");

	if (record_deleted(r))
		return 0;	/* show pages and counts only what it shows */
	*p++ = INDEX_BY_STUDENT;
	if (student_bytes(record_get(r, "student"), p) != 0)
		return 0;
	p += PROTO_RECIDLEN;
	memset(p, '0', INDEX_DATE_LEN);
	if (date != NULL && strlen(date) == INDEX_DATE_LEN)
		memcpy(p, date, INDEX_DATE_LEN);
	p += INDEX_DATE_LEN;
	be64_put(p, created);
	p += 8;
	*p++ = r->kind;
	memcpy(p, r->id, PROTO_RECIDLEN);
	return keys_add(ik, key, (size_t)(p + PROTO_RECIDLEN - key));
}

static int
index_goal(const struct record *r, uint64_t created, struct index_keys *ik)
{
	uint8_t key[1 + PROTO_RECIDLEN + 8 + PROTO_RECIDLEN];

	key[0] = INDEX_GOAL;
	if (student_bytes(record_get(r, "student"), key + 1) != 0)
		return 0;
	be64_put(key + 1 + PROTO_RECIDLEN, created);
	memcpy(key + 1 + PROTO_RECIDLEN + 8, r->id, PROTO_RECIDLEN);
	return keys_add(ik, key, sizeof(key));
}

static int
index_members(const struct record *r, struct index_keys *ik)
{
	const struct rec_set *s = record_set(r, "members");
	uint8_t key[1 + 2 * PROTO_RECIDLEN];

	key[0] = INDEX_MEMBER;
	memcpy(key + 1 + PROTO_RECIDLEN, r->id, PROTO_RECIDLEN);
	for (size_t i = 0; s != NULL && i < s->nelems; i++) {
		if (!rec_elem_present(&s->elems[i]) ||
		    student_bytes(s->elems[i].value, key + 1) != 0)
			continue;
		if (keys_add(ik, key, sizeof(key)) != 0)
			return -1;
	}
	return 0;
}

/* A name is indexed by a keyed hash of its folded form (case and
 * accents, as search compares), never in the clear; readers compare the
 * names they find in full. A name that is not text (held from before the
 * text rule) is hashed as its bytes. A store without a key hashes
 * without one (tests and tools). */
size_t
store_index_name_prefix(struct store_txn *t, const char *name,
    uint8_t out[STORE_INDEX_NAME_KEYMAX])
{
	size_t len = strlen(name), flen;
	char *folded = proto_text_fold(name, len, PROTO_FOLD_ACCENTS, &flen);
	const char *src = folded != NULL ? folded : name;
	const uint8_t *key = t->st->key;

	if (folded != NULL)
		len = flen;
	out[0] = INDEX_NAME;
	crypto_generichash(out + 1, INDEX_NAME_HASHLEN, (const uint8_t *)src,
	    len, key, key != NULL ? STORE_KEYLEN : 0);
	free(folded);
	return 1 + INDEX_NAME_HASHLEN;
}

static int
index_name(struct store_txn *t, const struct record *r,
    struct index_keys *ik)
{
	uint8_t key[INDEX_KEY_MAX];
	const char *name = record_get(r, "name");
	size_t len;

	if (name == NULL)
		return 0;
	len = store_index_name_prefix(t, name, key);
	memcpy(key + len, r->id, PROTO_RECIDLEN);
	return keys_add(ik, key, len + PROTO_RECIDLEN);
}

/* created: the record's creation stamp (see index_by_student). */
static int
index_keys_of(struct store_txn *t, const struct record *r, uint64_t created,
    struct index_keys *ik)
{
	if (r == NULL)
		return 0;
	switch (r->kind) {
	case KIND_STUDENT:
		return index_name(t, r, ik);
	case KIND_NOTE:
	case KIND_ENTRY:
		return index_by_student(r, created, ik);
	case KIND_GOAL:
		return index_goal(r, created, ik);
	case KIND_GROUP:
		return index_members(r, ik);
	default:
		return 0;
	}
}

static int
keys_has(const struct index_keys *ik, const uint8_t *key, size_t len)
{
	for (size_t i = 0; i < ik->n; i++)
		if (ik->lens[i] == len && memcmp(ik->keys[i], key, len) == 0)
			return 1;
	return 0;
}

/*
 * Keeps 'C' student: the number of 'S' keys under the student, so that
 * show can say how many older notes it left out without counting them.
 * A transaction holds the counts it changed and writes them when it ends
 * (store_counts_flush, from txn_flush): a sync's thousand notes about one
 * student cost one read and one write of its count, not a thousand.
 */
#define COUNTS_HELD	32	/* students held before they are written */

struct store_counts {
	size_t		n;
	uint8_t		id[COUNTS_HELD][PROTO_RECIDLEN];
	uint64_t	count[COUNTS_HELD];
};

static void
count_key(uint8_t key[1 + PROTO_RECIDLEN], const uint8_t *student)
{
	key[0] = INDEX_COUNT;
	memcpy(key + 1, student, PROTO_RECIDLEN);
}

static int
count_read(struct store_txn *t, const uint8_t *student, uint64_t *n)
{
	uint8_t key[1 + PROTO_RECIDLEN];
	const void *v;
	size_t len;
	int rc;

	*n = 0;
	count_key(key, student);
	rc = store_get(t, TABLE_INDEX, key, sizeof(key), &v, &len);
	if (rc == 0 && len == 8)
		*n = be64_get(v);
	return rc == STORE_ENOTFOUND ? STORE_OK : rc;
}

/* The held count of student, or NULL. */
static uint64_t *
count_held(struct store_txn *t, const uint8_t *student)
{
	struct store_counts *c = t->counts;

	for (size_t i = 0; c != NULL && i < c->n; i++)
		if (memcmp(c->id[i], student, PROTO_RECIDLEN) == 0)
			return &c->count[i];
	return NULL;
}

int
store_counts_flush(struct store_txn *t)
{
	struct store_counts *c = t->counts;
	uint8_t key[1 + PROTO_RECIDLEN], val[8];
	int rc = STORE_OK;

	for (size_t i = 0; c != NULL && i < c->n && rc == 0; i++) {
		count_key(key, c->id[i]);
		be64_put(val, c->count[i]);
		rc = store_put(t, TABLE_INDEX, key, sizeof(key), val,
		    sizeof(val));
	}
	if (c != NULL)
		c->n = 0;
	return rc;
}

void
store_counts_free(struct store_txn *t)
{
	free(t->counts);
	t->counts = NULL;
}

/* skey is an 'S' key: the student's id follows its type byte. */
static int
count_adjust(struct store_txn *t, const uint8_t *skey, int delta)
{
	const uint8_t *student = skey + 1;
	uint64_t *n = count_held(t, student);
	int rc;

	if (n == NULL) {
		if (t->counts == NULL &&
		    (t->counts = calloc(1, sizeof(*t->counts))) == NULL)
			return STORE_ENOMEM;
		if (t->counts->n == COUNTS_HELD &&
		    (rc = store_counts_flush(t)) != 0)
			return rc;
		n = &t->counts->count[t->counts->n];
		if ((rc = count_read(t, student, n)) != 0)
			return rc;
		memcpy(t->counts->id[t->counts->n++], student,
		    PROTO_RECIDLEN);
	}
	*n = delta < 0 && *n == 0 ? 0 : *n + (uint64_t)(int64_t)delta;
	return STORE_OK;
}

int
store_student_count(struct store_txn *t,
    const uint8_t student[PROTO_RECIDLEN], uint64_t *n)
{
	const uint64_t *held = count_held(t, student);

	if (held != NULL) {
		*n = *held;
		return STORE_OK;
	}
	return count_read(t, student, n);
}

/* was, now: the record's creation stamps before and after. */
static int
index_update(struct store_txn *t, uint64_t docid, const struct record *before,
    uint64_t was, const struct record *after, uint64_t now)
{
	struct index_keys old = { 0 }, new = { 0 };
	int rc = STORE_ENOMEM;

	if (index_keys_of(t, before, was, &old) != 0 ||
	    index_keys_of(t, after, now, &new) != 0)
		goto out;
	rc = STORE_OK;
	for (size_t i = 0; i < old.n && rc == 0; i++)
		if (!keys_has(&new, old.keys[i], old.lens[i]) &&
		    (rc = store_del(t, TABLE_INDEX, old.keys[i],
		    old.lens[i])) == 0 && old.keys[i][0] == INDEX_BY_STUDENT)
			rc = count_adjust(t, old.keys[i], -1);
	for (size_t i = 0; i < new.n && rc == 0; i++)
		if (!keys_has(&old, new.keys[i], new.lens[i]) &&
		    (rc = store_put(t, TABLE_INDEX, new.keys[i],
		    new.lens[i], "", 0)) == 0 &&
		    new.keys[i][0] == INDEX_BY_STUDENT)
			rc = count_adjust(t, new.keys[i], 1);
	if (rc == 0)
		rc = store_words_update(t, docid, before, after);
out:
	keys_free(&old);
	keys_free(&new);
	return rc;
}

/*
 * The records table is keyed by docid, and the index's 'K' kind, id
 * names a record's docid:
 *
 *	records	docid[8 BE] -> kind[1] id[16] sealed (recstore.c)
 *	index	'K' kind[1] id[16] -> docid[8 BE]
 *
 * Why: record ids were random, and a sync's new records went to random
 * places of a table of ~230 bytes a record, so that each commit of a
 * sync rewrote most of its pages (a 100,000-note sync wrote the table
 * six times over). Docids are given in order, so a new record is put at
 * the table's end (MDB_APPEND: full pages, written once). The 'K' keys,
 * 33 bytes a record, go to the end of their kind's range for notes and
 * entries whose ids start with their time (ops_record_id), to random
 * places for the others. The kind and id
 * lead the value in the clear, as they were the key before: search
 * reads them from a docid without opening the record.
 */
static int
docid_last_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	(void)v;
	(void)vlen;
	if (klen == 8)
		*(uint64_t *)arg = be64_get(k);
	return 1;
}

/* The record's number in this store (recstore.c): one past the last
 * given, so that the word index's lists and the records table grow at
 * their ends. Looked up once a transaction; record_save moves it on. */
static int
docid_next(struct store_txn *t, uint64_t *docid)
{
	uint64_t last = 0;
	uint8_t none = 0;	/* an empty prefix: the whole table */
	int rc;

	if (t->next_docid == 0) {
		if ((rc = store_scan(t, TABLE_RECORDS, &none, 0, 1,
		    docid_last_cb, &last)) != 0)
			return rc;
		t->next_docid = last + 1;
	}
	*docid = t->next_docid;
	return STORE_OK;
}

static void
reckey_key(uint8_t key[1 + REC_KEYLEN], uint8_t kind, const uint8_t *id)
{
	key[0] = INDEX_RECORD;
	rec_key(key + 1, kind, id);
}

/* The docid of record (kind, id). */
static int
record_docid(struct store_txn *t, uint8_t kind, const uint8_t *id,
    uint64_t *docid)
{
	uint8_t key[1 + REC_KEYLEN];

	reckey_key(key, kind, id);
	return store_get_be64(t, TABLE_INDEX, key, sizeof(key), docid);
}

/* The sealed record at docid, borrowed: its kind and id checked against
 * key (kind, id); STORE_EIO if the tables disagree. */
static int
record_body(struct store_txn *t, uint64_t docid, const uint8_t *key,
    const uint8_t **v, size_t *len)
{
	uint8_t dk[8];
	const void *x;
	int rc;

	be64_put(dk, docid);
	if ((rc = store_get(t, TABLE_RECORDS, dk, sizeof(dk), &x, len)) != 0)
		return rc == STORE_ENOTFOUND ? STORE_EIO : rc;
	if (*len < REC_KEYLEN || memcmp(x, key, REC_KEYLEN) != 0)
		return STORE_EIO;
	*v = (const uint8_t *)x + REC_KEYLEN;
	*len -= REC_KEYLEN;
	return STORE_OK;
}

/* Puts v, the record's key and its sealed value (recstore_seal), under
 * its docid; a new one at the table's end, and named in the index. */
static int
record_put(struct store_txn *t, const uint8_t *v, size_t vlen, uint64_t docid,
    int is_new)
{
	uint8_t dk[8], ik[1 + REC_KEYLEN];
	const uint8_t *key = v;
	int rc;

	be64_put(dk, docid);
	/* A new record's number is past the table's: one that is not
	 * (a docid given twice) fails rather than overwrite a record. */
	rc = is_new ? store_put_new(t, TABLE_RECORDS, dk, sizeof(dk), v,
	    vlen) : store_put(t, TABLE_RECORDS, dk, sizeof(dk), v, vlen);
	if (rc != 0 || !is_new)
		return rc;
	reckey_key(ik, key[0], key + 1);
	if (docid >= t->next_docid)
		t->next_docid = docid + 1;
	if (docid >= t->st->docid_ahead)	/* none ahead reuses it */
		t->st->docid_ahead = docid + 1;
	return store_put(t, TABLE_INDEX, ik, sizeof(ik), dk, sizeof(dk));
}

/* Seals plaintext pt of the record named key (kind, id), whose digest
 * hash is h, and puts it at docid; old is its plaintext before (NULL if
 * new), which the digest takes out. */
static int
record_store(struct store_txn *t, const uint8_t key[REC_KEYLEN],
    uint64_t docid, const uint8_t *pt, size_t ptlen, const uint8_t *old,
    size_t oldlen, const uint8_t h[PROTO_HASHLEN])
{
	uint8_t room[2048], *v = room;
	size_t vlen;
	int rc;

	if ((rc = store_digest_add(t, key, REC_KEYLEN, old, oldlen, h)) != 0)
		return rc;
	vlen = recstore_sealed_len(t, REC_KEYLEN, ptlen);
	if (vlen > sizeof(room) && (v = malloc(vlen)) == NULL)
		return STORE_ENOMEM;
	if ((rc = recstore_seal(t, key, REC_KEYLEN, docid, pt, ptlen,
	    v)) == 0 && (rc = record_put(t, v, vlen, docid, old == NULL)) ==
	    0 && t->st->seal_key != NULL)
		rc = store_key_check_put(t);
	if (v != room)
		free(v);
	return rc;
}

/* Saves r with its history s; old is its plaintext before (NULL if new),
 * which the digest takes out. */
static int
record_save(struct store_txn *t, const struct record *r,
    const struct rec_stored *s, const uint8_t *old, size_t oldlen)
{
	uint8_t key[REC_KEYLEN], h[PROTO_HASHLEN];
	struct recstore_buf b;
	int rc;

	recstore_buf_init(&b);
	rec_key(key, r->kind, r->id);
	if ((rc = recstore_encode_buf(r, s, &b)) == 0) {
		store_record_hash(key, sizeof(key), b.data, b.size, h);
		rc = record_store(t, key, s->docid, b.data, b.size, old,
		    oldlen, h);
	}
	recstore_buf_free(&b);
	return rc;
}

/* A record as stored, values not read: *pt is its plaintext (the
 * caller frees it), s its history. */
static int
record_load(struct store_txn *t, uint8_t kind, const uint8_t *id,
    struct record **r, struct rec_stored *s, uint8_t **pt, size_t *ptlen)
{
	uint8_t key[REC_KEYLEN];
	const uint8_t *v;
	uint64_t docid;
	size_t len;
	int rc;

	*r = NULL;
	*pt = NULL;
	memset(s, 0, sizeof(*s));
	rec_key(key, kind, id);
	if ((rc = record_docid(t, kind, id, &docid)) != 0 ||
	    (rc = record_body(t, docid, key, &v, &len)) != 0)
		return rc;
	rc = recstore_unseal(t, key, sizeof(key), v, len, &s->docid, pt, ptlen);
	if (rc == 0 && s->docid != docid)
		rc = STORE_EIO;		/* sealed for another place */
	if (rc != 0 || (rc = recstore_decode(*pt, *ptlen, r, s)) != 0) {
		free(*pt);
		*pt = NULL;
		return rc;
	}
	return STORE_OK;
}

/* The merge's oracle: an entry has been applied to a record when the
 * record's history holds it, with its hash. */
static int
applied_cb(void *arg, const struct write_ref *ref, uint8_t hash[PROTO_HASHLEN])
{
	const struct rec_hist *h = recstore_hist_get(arg, ref->author,
	    ref->seq);

	if (h == NULL)
		return 0;
	memcpy(hash, h->hash, PROTO_HASHLEN);
	return 1;
}

/* A new random STORE_MEMBERS_GEN: whoever caches what it derives from
 * the membership entries sees that they changed. Random, not a count, so
 * that an aborted transaction's value is never seen again. */
static int
members_changed(struct store_txn *t)
{
	uint8_t gen[STORE_MEMBERS_GENLEN];

	randombytes_buf(gen, sizeof(gen));
	return store_meta_put(t, STORE_MEMBERS_GEN, gen, sizeof(gen));
}

static void
entry_ref(struct write_ref *ref, const struct envelope *e,
    const uint8_t hash[PROTO_HASHLEN])
{
	memcpy(ref->author, e->author, PROTO_IDLEN);
	ref->seq = e->seq;
	memcpy(ref->hash, hash, PROTO_HASHLEN);
	ref->has_hash = 1;
}

/*
 * A new note or entry worked out ahead of its apply, off the store
 * (store_record_pre, on the receiver's worker thread). For a record the
 * store does not hold yet, what store_apply_change writes is a function
 * of the entry alone: the merge's oracle finds no write applied (the
 * history is empty), and a note's index key reads the record alone. So
 * the worker runs that same code and keeps what the apply would write:
 * the plaintext, its digest hash and its index key, and with a sealer,
 * the record sealed under the number reserved for it. The apply
 * (apply_pre) takes them only for the entry they came from, and only if
 * the record is still absent; it seals again if that number is no
 * longer past the table's last. The words come in the words hint, which
 * the worker checked against the record it built (store_words_pre_fits),
 * so the apply posts them as they are.
 */
struct rec_pre {
	uint8_t		 author[PROTO_IDLEN];
	uint64_t	 seq;
	uint8_t		 hash[PROTO_HASHLEN];	/* the entry's */
	uint8_t		 key[REC_KEYLEN];	/* the record's kind, id */
	uint8_t		 rhash[PROTO_HASHLEN];	/* store_record_hash's */
	size_t		 ptlen;			/* the plaintext follows */
	uint64_t	 docid;			/* the number it is sealed for */
	size_t		 vlen;			/* 0, or the sealed key and value
						 * (recstore_seal's) follow it */
	size_t		 nkeys;			/* 0 or 1 */
	size_t		 klen;
	uint8_t		 ikey[INDEX_KEY_MAX];
};

#define PRE_ALIGN(n)	(((n) + 7) & ~(size_t)7)

/* Appends the pre of r, made by the entry ref alone, to b, at *off: pt
 * its plaintext, ik its index keys. */
static int
pre_put(const struct record *r, const struct write_ref *ref,
    const struct recstore_buf *pt, const struct index_keys *ik,
    struct store_sealer *s, uint64_t docid, struct store_words_buf *b,
    size_t *off)
{
	struct rec_pre h;
	size_t need;

	memset(&h, 0, sizeof(h));
	if (s != NULL) {
		h.docid = docid;
		h.vlen = recstore_sealer_len(REC_KEYLEN, pt->size);
	}
	need = PRE_ALIGN(sizeof(h) + pt->size + h.vlen);
	memcpy(h.author, ref->author, PROTO_IDLEN);
	h.seq = ref->seq;
	memcpy(h.hash, ref->hash, PROTO_HASHLEN);
	rec_key(h.key, r->kind, r->id);
	store_record_hash(h.key, sizeof(h.key), pt->data, pt->size, h.rhash);
	h.ptlen = pt->size;
	h.nkeys = ik->n;
	if (ik->n == 1) {
		h.klen = ik->lens[0];
		memcpy(h.ikey, ik->keys[0], h.klen);
	}
	if (store_buf_reserve(b, need) != 0)
		return -1;
	*off = b->len;
	memcpy(b->p + b->len, &h, sizeof(h));
	memcpy(b->p + b->len + sizeof(h), pt->data, pt->size);
	if (s != NULL)
		recstore_seal_off(s, h.key, REC_KEYLEN, docid, pt->data,
		    pt->size, b->p + b->len + sizeof(h) + pt->size);
	b->len += need;
	return 0;
}

int
store_record_pre(const struct envelope *e, const uint8_t hash[PROTO_HASHLEN],
    const struct change *c, const void *words, struct store_sealer *sl,
    uint64_t docid, struct store_words_buf *b, size_t *off)
{
	struct rec_stored s;
	struct rec_oracle o = { applied_cb, &s };
	struct index_keys ik = { 0 };
	struct recstore_buf pt;
	struct write_ref ref;
	struct record *r;
	int rc = 1;

	if (c->kind != KIND_NOTE && c->kind != KIND_ENTRY)
		return 1;
	if ((r = record_new(c->kind, c->record_id)) == NULL)
		return -1;
	memset(&s, 0, sizeof(s));
	recstore_buf_init(&pt);
	entry_ref(&ref, e, hash);
	for (size_t i = 0; i < c->nops; i++)
		if (record_apply(r, e->hlc, &ref, &c->ops[i], &o) != 0)
			goto out;
	record_settle(r, &ref);
	if (recstore_hist_add(&s, e->hlc, &ref) != 0 ||
	    recstore_encode_buf(r, &s, &pt) != 0 ||
	    index_by_student(r, s.hist[0].hlc, &ik) != 0 || ik.n > 1 ||
	    !store_words_pre_fits(words, r))
		goto out;
	rc = pre_put(r, &ref, &pt, &ik, sl, docid, b, off);
out:
	keys_free(&ik);
	recstore_buf_free(&pt);
	recstore_free(&s);
	record_free(r);
	return rc;
}

void
store_record_hint(struct store_txn *t, const void *pre,
    const struct store_sealer *s)
{
	t->rec_pre = pre;
	t->rec_sealed = pre != NULL && s != NULL &&
	    store_sealer_same(t->st, s);
}

/* The first reservation starts past the table's last number: read
 * then, not at every open (a command that reserves none pays nothing).
 * A hint only: if the read fails, numbers it hands out too low are
 * sealed again by the apply. */
static void
docids_init(struct store *st)
{
	struct store_txn *t;
	uint64_t next;

	st->docid_read = 1;
	if (store_begin(st, STORE_RDONLY, &t) != 0)
		return;
	if (docid_next(t, &next) == 0 && next > st->docid_ahead)
		st->docid_ahead = next;
	store_abort(t);
}

uint64_t
store_docids_reserve(struct store *st, size_t n)
{
	uint64_t first;

	if (!st->docid_read)
		docids_init(st);
	first = st->docid_ahead;
	st->docid_ahead += n;
	return first;
}

/* The pre the apply of e's change c may take, or NULL. */
static const struct rec_pre *
pre_for(struct store_txn *t, const struct envelope *e,
    const uint8_t hash[PROTO_HASHLEN], const struct change *c)
{
	const struct rec_pre *h = t->rec_pre;

	t->rec_pre = NULL;	/* for one record at most */
	if (h == NULL || h->seq != e->seq || h->key[0] != c->kind ||
	    memcmp(h->key + 1, c->record_id, PROTO_RECIDLEN) != 0 ||
	    memcmp(h->author, e->author, PROTO_IDLEN) != 0 ||
	    memcmp(h->hash, hash, PROTO_HASHLEN) != 0 ||
	    !store_words_ready(t, c->kind))
		return NULL;
	return h;
}

/* Saves the new record pre describes, as store_apply_change would have:
 * the record, its 'K' key, its index key and count, its words. */
static int
apply_pre(struct store_txn *t, const struct rec_pre *h)
{
	const uint8_t *pt = (const uint8_t *)(h + 1);
	uint64_t docid;
	int rc;

	if ((rc = docid_next(t, &docid)) != 0)
		return rc;
	/* Sealed under its number on the worker: put as it is if that
	 * number still comes after every record's (the table is appended
	 * to in order), else sealed again under the next. */
	if (h->vlen > 0 && t->rec_sealed && h->docid >= docid) {
		docid = h->docid;
		if ((rc = store_digest_add(t, h->key, REC_KEYLEN, NULL, 0,
		    h->rhash)) != 0 || (rc = record_put(t, pt + h->ptlen,
		    h->vlen, docid, 1)) != 0 ||
		    (rc = store_key_check_put(t)) != 0)
			return rc;
		t->recs_sealed++;
	} else if ((rc = record_store(t, h->key, docid, pt, h->ptlen, NULL, 0,
	    h->rhash)) != 0)
		return rc;
	if (h->nkeys == 1 && ((rc = store_put(t, TABLE_INDEX, h->ikey,
	    h->klen, "", 0)) != 0 || (h->ikey[0] == INDEX_BY_STUDENT &&
	    (rc = count_adjust(t, h->ikey, 1)) != 0)))
		return rc;
	if ((rc = store_words_add_new(t, docid, h->key[0])) == 0)
		t->recs_taken++;
	return rc;
}

/* before, filled with its values, and after, a second copy to merge into
 * (the index diff needs both); for a new record, after alone. */
static int
apply_load(struct store_txn *t, const struct change *c, struct record **before,
    struct record **after, struct rec_stored *s, uint8_t **pt, size_t *ptlen)
{
	struct rec_stored again;
	int rc;

	rc = record_load(t, c->kind, c->record_id, before, s, pt, ptlen);
	if (rc == STORE_ENOTFOUND) {
		if ((rc = docid_next(t, &s->docid)) != 0)
			return rc;
		*after = record_new(c->kind, c->record_id);
		return *after == NULL ? STORE_ENOMEM : STORE_OK;
	}
	if (rc != 0 || (rc = recstore_fill(t, *before)) != 0 ||
	    (rc = recstore_decode(*pt, *ptlen, after, &again)) != 0)
		return rc;
	recstore_free(&again);
	return recstore_copy_values(*after, *before);
}

/* Applies a decrypted, validated change of entry e to its record and
 * indexes. */
int
store_apply_change(struct store_txn *t, const struct envelope *e,
    const uint8_t hash[PROTO_HASHLEN], const struct change *c)
{
	struct record *before = NULL, *after = NULL;
	struct rec_stored s;
	struct rec_oracle o = { applied_cb, &s };
	const struct rec_pre *pre;
	struct write_ref ref;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	uint64_t was;
	int rc;

	if (c->kind == KIND_RECEIPT)	/* an index, not a record: receipt.c */
		return store_receipt_apply(t, e, c);
	/* About an erased student: dropped, whatever its author or clock. */
	if ((rc = store_erase_on_apply(t, e, c)) != 0)
		return rc < 0 ? rc : STORE_OK;
	if ((pre = pre_for(t, e, hash, c)) != NULL &&
	    (rc = record_docid(t, c->kind, c->record_id, &s.docid)) ==
	    STORE_ENOTFOUND)
		return apply_pre(t, pre);
	if (pre != NULL && rc != 0)
		return rc;
	if ((rc = apply_load(t, c, &before, &after, &s, &pt, &ptlen)) != 0)
		goto out;
	entry_ref(&ref, e, hash);
	rc = STORE_ENOMEM;
	for (size_t i = 0; i < c->nops; i++)
		if (record_apply(after, e->hlc, &ref, &c->ops[i], &o) != 0)
			goto out;
	record_settle(after, &ref);
	was = s.nhist > 0 ? s.hist[0].hlc : 0;
	if ((rc = recstore_hist_add(&s, e->hlc, &ref)) != 0 ||
	    (rc = record_save(t, after, &s, pt, ptlen)) != 0 ||
	    (rc = index_update(t, s.docid, before, was, after,
	    s.hist[0].hlc)) != 0)
		goto out;
	if (c->kind == KIND_MEMBER)
		rc = members_changed(t);
out:
	free(pt);
	recstore_free(&s);
	record_free(before);
	record_free(after);
	return rc;
}

int
store_record_get(struct store_txn *t, uint8_t kind,
    const uint8_t id[PROTO_RECIDLEN], struct record **out)
{
	struct rec_stored s;
	uint8_t *pt;
	size_t len;
	int rc;

	if ((rc = record_load(t, kind, id, out, &s, &pt, &len)) != 0)
		return rc;
	free(pt);
	recstore_free(&s);
	if ((rc = recstore_fill(t, *out)) != 0) {
		record_free(*out);
		*out = NULL;
	}
	return rc;
}

struct find_walk {
	const char	*prefix;
	size_t		 plen;
	size_t		 matches;
	uint8_t		 kind;
	uint8_t		 id[PROTO_RECIDLEN];
};

static int
find_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct find_walk *w = arg;
	char hex[2 * PROTO_RECIDLEN + 1];
	int cmp;

	(void)v;
	(void)vlen;
	if (klen != 1 + REC_KEYLEN)
		return 1;
	sodium_bin2hex(hex, sizeof(hex), k + 2, PROTO_RECIDLEN);
	cmp = strncmp(hex, w->prefix, w->plen);
	if (cmp != 0)
		return cmp > 0;	/* keys are in order: below, go on; above, stop */
	if (w->matches++ == 0) {
		w->kind = k[1];
		memcpy(w->id, k + 2, PROTO_RECIDLEN);
	}
	return w->matches > 1;
}

/* How many hex digits a and b share at their start. */
static size_t
hex_common(const uint8_t *a, const uint8_t *b)
{
	for (size_t i = 0; i < PROTO_RECIDLEN; i++)
		if (a[i] != b[i])
			return 2 * i + ((a[i] >> 4) == (b[i] >> 4));
	return 2 * PROTO_RECIDLEN;
}

/* If k is a key of key's kind, the hex digits their ids share, when
 * more than *most. */
static void
common_with(const MDB_val *k, const uint8_t *key, size_t *most)
{
	size_t n;

	if (k->mv_size != 1 + REC_KEYLEN || memcmp(k->mv_data, key, 2) != 0)
		return;
	if ((n = hex_common(key + 2, (const uint8_t *)k->mv_data + 2)) > *most)
		*most = n;
}

/* The most hex digits the id of key (a 'K' key) shares with the ids of
 * its kind just above and just below it. */
static int
neighbours_common(MDB_cursor *cur, const uint8_t *key, size_t *most)
{
	MDB_val k = { 1 + REC_KEYLEN, (void *)key }, v;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

	if (rc == 0 && k.mv_size == 1 + REC_KEYLEN &&
	    memcmp(k.mv_data, key, k.mv_size) == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);	/* past itself */
	if (rc == 0)
		common_with(&k, key, most);
	else if (rc != MDB_NOTFOUND)
		return store_lmdb_error(rc);
	k.mv_size = 1 + REC_KEYLEN;
	k.mv_data = (void *)key;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 || rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
	if (rc == 0)
		common_with(&k, key, most);
	return rc == 0 || rc == MDB_NOTFOUND ? STORE_OK :
	    store_lmdb_error(rc);
}

int
store_record_prefix(struct store_txn *t, const uint8_t id[PROTO_RECIDLEN],
    size_t min, size_t *len)
{
	uint8_t key[1 + REC_KEYLEN];
	MDB_cursor *cur;
	size_t most = 0;
	int rc = STORE_OK;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[TABLE_INDEX],
	    &cur)) != 0)
		return store_lmdb_error(rc);
	for (uint8_t k = 1; k <= KIND_MAX && rc == 0; k++) {
		reckey_key(key, k, id);
		rc = neighbours_common(cur, key, &most);
	}
	mdb_cursor_close(cur);
	*len = most + 1 > min ? most + 1 : min;
	if (*len > 2 * PROTO_RECIDLEN)
		*len = 2 * PROTO_RECIDLEN;
	return rc;
}

/* Looks up a hex id prefix in each kind's key range. */
int
store_record_find(struct store_txn *t, const char *prefix, uint8_t *kind,
    uint8_t id[PROTO_RECIDLEN])
{
	struct find_walk w = { prefix, strlen(prefix), 0, 0, { 0 } };
	uint8_t seek[1 + REC_KEYLEN];
	size_t nbytes = 0;
	int rc;

	if (w.plen == 0 || w.plen > 2 * PROTO_RECIDLEN)
		return STORE_ENOTFOUND;
	if (sodium_hex2bin(seek + 2, PROTO_RECIDLEN, prefix, w.plen & ~1u,
	    NULL, &nbytes, NULL) != 0 || nbytes != w.plen / 2)
		return STORE_ENOTFOUND;
	seek[0] = INDEX_RECORD;
	for (uint8_t k = 1; k <= KIND_MAX && w.matches < 2; k++) {
		seek[1] = k;
		if ((rc = store_scan(t, TABLE_INDEX, seek, 2 + nbytes, 0,
		    find_cb, &w)) != 0)
			return rc;
	}
	if (w.matches == 0)
		return STORE_ENOTFOUND;
	if (w.matches > 1)
		return STORE_EAMBIGUOUS;
	*kind = w.kind;
	memcpy(id, w.id, PROTO_RECIDLEN);
	return STORE_OK;
}

struct each_walk {
	struct store_txn *t;
	int	(*fn)(const struct record *, void *);
	void	*arg;
	int	 rc;
	int	 values;	/* read the heads' values from the log */
};

static int
each_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct each_walk *w = arg;
	struct rec_stored s;
	struct record *r = NULL;
	const uint8_t *body;
	uint8_t *pt;
	size_t len;
	int stop;

	if (klen != 1 + REC_KEYLEN || vlen != 8) {
		w->rc = STORE_EIO;
		return 1;
	}
	if ((w->rc = record_body(w->t, be64_get(v), k + 1, &body, &len)) == 0 &&
	    (w->rc = recstore_unseal(w->t, k + 1, REC_KEYLEN, body, len,
	    &s.docid, &pt, &len)) == 0) {
		w->rc = recstore_decode(pt, len, &r, &s);
		free(pt);
	}
	if (w->rc == 0) {
		recstore_free(&s);
		if (w->values)
			w->rc = recstore_fill(w->t, r);
	}
	if (w->rc != 0) {
		record_free(r);
		return 1;
	}
	stop = w->fn(r, w->arg);
	record_free(r);
	return stop;
}

int
store_records_each(struct store_txn *t, uint8_t kind,
    int (*fn)(const struct record *, void *), void *arg)
{
	struct each_walk w = { t, fn, arg, 0, 1 };
	uint8_t prefix[2] = { INDEX_RECORD, kind };
	int rc = store_scan(t, TABLE_INDEX, prefix, kind ? 2 : 1, 0, each_cb,
	    &w);

	return rc != 0 ? rc : w.rc;
}

int
store_records_heads_each(struct store_txn *t, uint8_t kind,
    int (*fn)(const struct record *, void *), void *arg)
{
	struct each_walk w = { t, fn, arg, 0, 0 };
	uint8_t prefix[2] = { INDEX_RECORD, kind };
	int rc = store_scan(t, TABLE_INDEX, prefix, kind ? 2 : 1, 0, each_cb,
	    &w);

	return rc != 0 ? rc : w.rc;
}

struct key_walk {
	int	(*fn)(const uint8_t *, size_t, void *);
	void	*arg;
};

static int
key_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct key_walk *w = arg;

	(void)v;
	(void)vlen;
	return w->fn(k, klen, w->arg);
}

int
store_index_each(struct store_txn *t, const uint8_t *prefix, size_t plen,
    int reverse, int (*fn)(const uint8_t *, size_t, void *), void *arg)
{
	struct key_walk w = { fn, arg };

	return store_scan(t, TABLE_INDEX, prefix, plen, reverse, key_cb, &w);
}

/* The entries that touched the record, oldest first: its history is
 * kept in the record itself. */
int
store_history_each(struct store_txn *t, const uint8_t id[PROTO_RECIDLEN],
    int (*fn)(const uint8_t *, size_t, void *), void *arg)
{
	struct rec_stored s;
	struct record *r = NULL;
	const uint8_t *env;
	uint8_t *pt = NULL;
	size_t len;
	int rc = STORE_ENOTFOUND;

	for (uint8_t k = 1; k <= KIND_MAX && rc == STORE_ENOTFOUND; k++)
		rc = record_load(t, k, id, &r, &s, &pt, &len);
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;	/* no record: no history */
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < s.nhist && rc == 0; i++)
		if ((rc = store_log_get(t, s.hist[i].author, s.hist[i].seq,
		    &env, &len)) == 0 && fn(env, len, arg) != 0)
			break;
	free(pt);
	recstore_free(&s);
	record_free(r);
	return rc;
}
