/*
 * Materialised records, their indexes and each record's history. The
 * indexes are derived from the records and rewritten with them in the
 * same transaction, so `show` and `list` never scan the whole store.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"
#include "store_int.h"

#define REC_KEYLEN	(1 + PROTO_RECIDLEN)
#define HIST_KEYLEN	(PROTO_RECIDLEN + 8 + PROTO_IDLEN + 8)
#define INDEX_NAME_MAX	200
#define INDEX_KEY_MAX	(1 + INDEX_NAME_MAX + 1 + PROTO_RECIDLEN)

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
	size_t len;

	if (hex == NULL || strlen(hex) != 2 * PROTO_RECIDLEN)
		return -1;
	return sodium_hex2bin(out, PROTO_RECIDLEN, hex, strlen(hex), NULL,
	    &len, NULL) == 0 && len == PROTO_RECIDLEN ? 0 : -1;
}

static int
index_by_student(const struct record *r, struct index_keys *ik)
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
	*p++ = r->kind;
	memcpy(p, r->id, PROTO_RECIDLEN);
	return keys_add(ik, key, (size_t)(p + PROTO_RECIDLEN - key));
}

static int
index_goal(const struct record *r, struct index_keys *ik)
{
	uint8_t key[1 + 2 * PROTO_RECIDLEN];

	key[0] = INDEX_GOAL;
	if (student_bytes(record_get(r, "student"), key + 1) != 0)
		return 0;
	memcpy(key + 1 + PROTO_RECIDLEN, r->id, PROTO_RECIDLEN);
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

/* A name is indexed by its folded form (case and accents, as search
 * compares), cut at a character boundary; readers compare in full. A name
 * that is not text (held from before the text rule) is indexed as its
 * bytes. */
size_t
store_index_name_prefix(const char *name,
    uint8_t out[STORE_INDEX_NAME_KEYMAX])
{
	size_t len = strlen(name), flen;
	char *folded = proto_text_fold(name, len, PROTO_FOLD_ACCENTS, &flen);
	const char *src = folded != NULL ? folded : name;

	if (folded != NULL)
		len = flen;
	if (len > INDEX_NAME_MAX) {
		len = INDEX_NAME_MAX;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	out[0] = INDEX_NAME;
	memcpy(out + 1, src, len);
	out[1 + len] = 0;
	free(folded);
	return len + 2;
}

static int
index_name(const struct record *r, struct index_keys *ik)
{
	uint8_t key[INDEX_KEY_MAX];
	const char *name = record_get(r, "name");
	size_t len;

	if (name == NULL)
		return 0;
	len = store_index_name_prefix(name, key);
	memcpy(key + len, r->id, PROTO_RECIDLEN);
	return keys_add(ik, key, len + PROTO_RECIDLEN);
}

static int
index_keys_of(const struct record *r, struct index_keys *ik)
{
	if (r == NULL)
		return 0;
	switch (r->kind) {
	case KIND_STUDENT:
		return index_name(r, ik);
	case KIND_NOTE:
	case KIND_ENTRY:
		return index_by_student(r, ik);
	case KIND_GOAL:
		return index_goal(r, ik);
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

/* Keeps 'C' student: the number of 'S' keys under the student, so that
 * show can say how many older notes it left out without counting them. */
static int
count_adjust(struct store_txn *t, const uint8_t *skey, int delta)
{
	uint8_t key[1 + PROTO_RECIDLEN], val[8];
	const void *v;
	size_t len;
	uint64_t n = 0;
	int rc;

	key[0] = INDEX_COUNT;
	memcpy(key + 1, skey + 1, PROTO_RECIDLEN);
	rc = store_get(t, TABLE_INDEX, key, sizeof(key), &v, &len);
	if (rc == 0 && len == sizeof(val))
		n = be64_get(v);
	else if (rc != 0 && rc != STORE_ENOTFOUND)
		return rc;
	n = delta < 0 && n == 0 ? 0 : n + (uint64_t)(int64_t)delta;
	be64_put(val, n);
	return store_put(t, TABLE_INDEX, key, sizeof(key), val, sizeof(val));
}

int
store_student_count(struct store_txn *t,
    const uint8_t student[PROTO_RECIDLEN], uint64_t *n)
{
	uint8_t key[1 + PROTO_RECIDLEN];
	const void *v;
	size_t len;
	int rc;

	*n = 0;
	key[0] = INDEX_COUNT;
	memcpy(key + 1, student, PROTO_RECIDLEN);
	rc = store_get(t, TABLE_INDEX, key, sizeof(key), &v, &len);
	if (rc == 0 && len == 8)
		*n = be64_get(v);
	return rc == STORE_ENOTFOUND ? STORE_OK : rc;
}

static int
index_update(struct store_txn *t, const struct record *before,
    const struct record *after)
{
	struct index_keys old = { 0 }, new = { 0 };
	int rc = STORE_ENOMEM;

	if (index_keys_of(before, &old) != 0 ||
	    index_keys_of(after, &new) != 0)
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
		rc = store_words_update(t, before, after);
out:
	keys_free(&old);
	keys_free(&new);
	return rc;
}

static int
record_save(struct store_txn *t, const struct record *r)
{
	uint8_t key[REC_KEYLEN];
	msgpack_sbuffer sb;
	int rc;

	msgpack_sbuffer_init(&sb);
	rec_key(key, r->kind, r->id);
	if ((rc = record_encode(r, &sb) != 0 ? STORE_EFULL :
	    store_digest_update(t, key, sizeof(key), (uint8_t *)sb.data,
	    sb.size)) == 0)
		rc = store_put(t, TABLE_RECORDS, key, sizeof(key), sb.data,
		    sb.size);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static void
history_key(uint8_t key[HIST_KEYLEN], const uint8_t *id, uint64_t hlc,
    const uint8_t *author, uint64_t seq)
{
	memcpy(key, id, PROTO_RECIDLEN);
	be64_put(key + PROTO_RECIDLEN, hlc);
	memcpy(key + PROTO_RECIDLEN + 8, author, PROTO_IDLEN);
	be64_put(key + PROTO_RECIDLEN + 8 + PROTO_IDLEN, seq);
}

struct applied_walk {
	struct store_txn *t;
	const uint8_t	 *id;
};

/* The merge's oracle: an entry has been applied to a record when the
 * record's history holds it. The log gives its clock and hash. */
static int
applied_cb(void *arg, const struct write_ref *ref, uint8_t hash[PROTO_HASHLEN])
{
	struct applied_walk *w = arg;
	uint8_t key[HIST_KEYLEN];
	struct envelope e;
	const uint8_t *env;
	const void *v;
	size_t len;

	if (store_log_get(w->t, ref->author, ref->seq, &env, &len) != 0 ||
	    proto_envelope_decode(&e, env, len) != 0)
		return 0;
	history_key(key, w->id, e.hlc, e.author, e.seq);
	if (store_get(w->t, TABLE_HISTORY, key, sizeof(key), &v, &len) != 0)
		return 0;
	proto_envelope_hash(&e, hash);
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

/* Applies a decrypted, validated change of entry e (whose hash is hash)
 * to its record and indexes. The record is read once and decoded twice:
 * the index diff needs the state before beside the state after. */
int
store_apply_change(struct store_txn *t, const struct envelope *e,
    const uint8_t hash[PROTO_HASHLEN], const struct change *c)
{
	struct record *before = NULL, *after = NULL;
	struct applied_walk aw = { t, c->record_id };
	struct rec_oracle o = { applied_cb, &aw };
	uint8_t key[HIST_KEYLEN], rkey[REC_KEYLEN];
	struct write_ref ref;
	const void *v;
	size_t len;
	int rc;

	if (c->kind == KIND_RECEIPT)	/* an index, not a record: receipt.c */
		return store_receipt_apply(t, e, c);
	rec_key(rkey, c->kind, c->record_id);
	rc = store_get(t, TABLE_RECORDS, rkey, sizeof(rkey), &v, &len);
	if (rc != 0 && rc != STORE_ENOTFOUND)
		return rc;
	if (rc == STORE_ENOTFOUND)
		after = record_new(c->kind, c->record_id);
	else if (record_decode(&before, v, len) != 0 ||
	    record_decode(&after, v, len) != 0) {
		rc = STORE_EIO;
		goto out;
	}
	if (after == NULL) {
		rc = STORE_ENOMEM;
		goto out;
	}
	memcpy(ref.author, e->author, PROTO_IDLEN);
	ref.seq = e->seq;
	memcpy(ref.hash, hash, PROTO_HASHLEN);
	ref.has_hash = 1;
	rc = STORE_ENOMEM;
	for (size_t i = 0; i < c->nops; i++)
		if (record_apply(after, e->hlc, &ref, &c->ops[i], &o) != 0)
			goto out;
	record_settle(after, &ref);
	if ((rc = record_save(t, after)) != 0 ||
	    (rc = index_update(t, before, after)) != 0)
		goto out;
	history_key(key, c->record_id, e->hlc, e->author, e->seq);
	rc = store_put(t, TABLE_HISTORY, key, sizeof(key), "", 0);
	if (rc == 0 && c->kind == KIND_MEMBER)
		rc = members_changed(t);
out:
	record_free(before);
	record_free(after);
	return rc;
}

int
store_record_get(struct store_txn *t, uint8_t kind,
    const uint8_t id[PROTO_RECIDLEN], struct record **out)
{
	uint8_t key[REC_KEYLEN];
	const void *v;
	size_t len;
	int rc;

	*out = NULL;
	rec_key(key, kind, id);
	if ((rc = store_get(t, TABLE_RECORDS, key, sizeof(key), &v,
	    &len)) != 0)
		return rc;
	return record_decode(out, v, len) == 0 ? STORE_OK : STORE_EIO;
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
	if (klen != REC_KEYLEN)
		return 1;
	sodium_bin2hex(hex, sizeof(hex), k + 1, PROTO_RECIDLEN);
	cmp = strncmp(hex, w->prefix, w->plen);
	if (cmp != 0)
		return cmp > 0;	/* keys are in order: below, go on; above, stop */
	if (w->matches++ == 0) {
		w->kind = k[0];
		memcpy(w->id, k + 1, PROTO_RECIDLEN);
	}
	return w->matches > 1;
}

/* Looks up a hex id prefix in each kind's key range. */
int
store_record_find(struct store_txn *t, const char *prefix, uint8_t *kind,
    uint8_t id[PROTO_RECIDLEN])
{
	struct find_walk w = { prefix, strlen(prefix), 0, 0, { 0 } };
	uint8_t seek[REC_KEYLEN];
	size_t nbytes = 0;
	int rc;

	if (w.plen == 0 || w.plen > 2 * PROTO_RECIDLEN)
		return STORE_ENOTFOUND;
	if (sodium_hex2bin(seek + 1, PROTO_RECIDLEN, prefix, w.plen & ~1u,
	    NULL, &nbytes, NULL) != 0 || nbytes != w.plen / 2)
		return STORE_ENOTFOUND;
	for (uint8_t k = 1; k <= KIND_MAX && w.matches < 2; k++) {
		seek[0] = k;
		if ((rc = store_scan(t, TABLE_RECORDS, seek, 1 + nbytes, 0,
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
	int	(*fn)(const struct record *, void *);
	void	*arg;
	int	 rc;
};

static int
each_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct each_walk *w = arg;
	struct record *r;
	int stop;

	(void)k;
	(void)klen;
	if (record_decode(&r, v, vlen) != 0) {
		w->rc = STORE_EIO;
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
	struct each_walk w = { fn, arg, 0 };
	int rc = store_scan(t, TABLE_RECORDS, &kind, kind ? 1 : 0, 0, each_cb,
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

struct hist_walk {
	struct store_txn *t;
	int	(*fn)(const uint8_t *, size_t, void *);
	void	*arg;
	int	 rc;
};

static int
hist_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct hist_walk *w = arg;
	const uint8_t *env;
	size_t len;

	(void)v;
	(void)vlen;
	if (klen != HIST_KEYLEN) {
		w->rc = STORE_EIO;
		return 1;
	}
	w->rc = store_log_get(w->t, k + PROTO_RECIDLEN + 8,
	    be64_get(k + PROTO_RECIDLEN + 8 + PROTO_IDLEN), &env, &len);
	if (w->rc != 0)
		return 1;
	return w->fn(env, len, w->arg);
}

int
store_history_each(struct store_txn *t, const uint8_t id[PROTO_RECIDLEN],
    int (*fn)(const uint8_t *, size_t, void *), void *arg)
{
	struct hist_walk w = { t, fn, arg, 0 };
	int rc = store_scan(t, TABLE_HISTORY, id, PROTO_RECIDLEN, 0, hist_cb,
	    &w);

	return rc != 0 ? rc : w.rc;
}
