/*
 * The word index that search reads, kept in the index table beside the
 * other indexes and rewritten with each record in the same transaction.
 * It holds no word in the clear: every word, and every prefix of one, is
 * a keyed hash under the store key (store_set_key).
 *
 *	'W' gen[4 BE] 'W' h(word)[16] first[8 BE]
 *					the records that hold word, as
 *					docids (recstore.c): first, then
 *					the rest in the value as varint
 *					deltas, at most CHUNK_MAX bytes
 *	'W' gen[4 BE] 'V' h(prefix)[16] first[8 BE]
 *					the words that start with prefix,
 *					each as the first 8 bytes of its
 *					hash, in lists as 'W' keeps docids
 *	'W' 0[4]			the generations, with their sizes
 *
 * The index is kept in generations (segments): each transaction's new
 * postings are one new generation, named past every other, so that a
 * sync's commits write their word keys together at the end of the
 * index table (MDB_APPEND: full pages), instead of rewriting a list's
 * last chunk in a page of its own for each word a commit touches
 * (scattered by hash: most of the index's pages, each commit). The
 * vocabulary's lists ('V') are 'W' keys too, so that they also go at
 * the end. A generation's vocabulary lists the words of its own 'W'
 * lists, so a query reads, in each generation, the words its prefix
 * starts and their lists there; a (word, record) pair is in one
 * generation at most, and a removal looks for it in each. Generations
 * of about the same size are merged into one as they accumulate
 * (gens_tidy): a search reads GENS_FEW of them at most.
 *
 * A posting list costs a byte or two per (word, record), where a key per
 * pair cost some sixty on disk.
 * A word here is a folded word of proto_text_words cut to its first
 * WORD_CAP code points (proto_text_words_cap: a long word is folded only
 * as far as that), and h is SipHash-2-4 with 128-bit output (libsodium's
 * crypto_shorthash_siphashx24) keyed with a key derived from the store
 * key: a keyed PRF, as BLAKE2b was before derived version 10, at a tenth
 * of its cost on words this short (a keyed BLAKE2b compresses the key's
 * block and the word's for every word). A query word q finds its
 * records through 'V' h(q): the words that start with it, then their 'W'
 * lists. A word no record holds any more stays in its generation's
 * vocabulary, merged or not, until the next rebuild (a lookup that
 * finds nothing). Every candidate is then
 * checked against the record's own text, so a hash collision or two words
 * alike in their first WORD_CAP code points never give a wrong result.
 *
 * A transaction's new postings are gathered in memory, by word, and
 * written when it ends (store_words_flush, from store_commit), or before
 * a search in it reads the lists, or when they grow past PEND_IDS_MAX:
 * each flush is one generation, written in key order, with no read.
 * The folded words are held in memory only, for their prefixes: what is
 * written is hashes and docids, as before.
 * Removals are written at once, and take the docid out of the pending
 * lists too, so a record edited or deleted in the transaction that added
 * it leaves what one transaction per change would have left.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"
#include "store_int.h"

#define WORD_CAP	12	/* code points of a word the index keeps */
#define WORD_CAP_BYTES	(4 * WORD_CAP)
#define WORD_HASHLEN	16
#define QUERY_MAX_WORDS	32
#define GEN_LEN		4	/* a generation's name: be32, not 0 */
#define WKEY_H		(1 + GEN_LEN + 1)	/* where a list key's hash starts */
#define WKEY_LEN	(WKEY_H + WORD_HASHLEN + 8)
#define GEN_ENTRY	(GEN_LEN + 8)	/* a generation in gens_key */
#define GENS_MAX	128	/* room: gens_tidy keeps GENS_FEW */
#define GENS_FEW	16
#define MERGE_WAYS	4	/* generations of one size merged */
#define GEN_BASE	16384	/* bytes: the first size class's bound */
#define MERGE_RANGE	(1u << 19)	/* bytes a merge reads at a time */
#define CHUNK_MAX	480	/* bytes of one posting chunk */
#define CAND_LEN	(1 + PROTO_RECIDLEN)

/* Where the store's key is kept: see store_set_key in store.h. */
static const char key_check_input[] = "\0satchel store key check v1";
static const char word_context[] = "satchel word index v2";

struct word {
	uint8_t	h[WORD_HASHLEN];
	uint8_t	len;			/* bytes of text */
	char	text[WORD_CAP_BYTES];	/* folded, cut to WORD_CAP */
};

/* A note's words fit in few, with no allocation for each note. */
#define WORDSET_FEW	16

struct wordset {
	const uint8_t	*key;
	size_t		 n, cap;
	struct word	*w;		/* few, or allocated */
	int		 oom;
	struct word	 few[WORDSET_FEW];
};

int
store_set_key(struct store *st, const uint8_t key[STORE_KEYLEN])
{
	if (st->key == NULL && (st->key = sodium_malloc(STORE_KEYLEN)) == NULL)
		return STORE_ENOMEM;
	/* The seal key and, after it, a write transaction's subkey. */
	if (st->seal_key == NULL &&
	    (st->seal_key = sodium_malloc(STORE_KEYLEN + TXN_SUBKEYLEN)) ==
	    NULL)
		return STORE_ENOMEM;
	st->seal_subkey = st->seal_key + STORE_KEYLEN;
	if (st->word_key == NULL && (st->word_key =
	    sodium_malloc(crypto_shorthash_siphashx24_KEYBYTES)) == NULL)
		return STORE_ENOMEM;
	memcpy(st->key, key, STORE_KEYLEN);
	recstore_derive_key(key, st->seal_key);
	crypto_generichash(st->word_key, crypto_shorthash_siphashx24_KEYBYTES,
	    (const uint8_t *)word_context, sizeof(word_context), key,
	    STORE_KEYLEN);
	return STORE_OK;
}

int
store_share_key(struct store *to, const struct store *from)
{
	return from->key == NULL ? STORE_OK : store_set_key(to, from->key);
}

/* wkey is the store's word_key. */
static void
word_hash(const uint8_t *wkey, const char *s, size_t len,
    uint8_t out[WORD_HASHLEN])
{
	crypto_shorthash_siphashx24(out, (const uint8_t *)s, len, wkey);
}

/* The check value of the store key (store_key_check_put): BLAKE2b keyed
 * with the store key itself, as since it was first written. */
static void
key_check_hash(const uint8_t *key, uint8_t out[WORD_HASHLEN])
{
	crypto_generichash(out, WORD_HASHLEN, (const uint8_t *)key_check_input,
	    sizeof(key_check_input), key, STORE_KEYLEN);
}

/* Records search finds, and which of their fields it reads: every text
 * register but references and Satchel's own ("_deleted"), and the tags. */
static int
kind_searched(uint8_t kind)
{
	return kind == KIND_NOTE || kind == KIND_ENTRY || kind == KIND_STUDENT;
}

static int
field_searched(const char *name)
{
	/* References hold ids, not words. Asked for each field of each
	 * record applied: the first letter spares most a strcmp. */
	switch (name[0]) {
	case '_':
		return 0;
	case 's':
		return strcmp(name, "student") != 0;
	case 'm':
		return strcmp(name, "merged_into") != 0;
	default:
		return 1;
	}
}

typedef int (*text_fn)(const char *field, const char *value, void *arg);

/* Calls fn with each searched value of r, registers first, by name. */
static int
record_texts(const struct record *r, text_fn fn, void *arg)
{
	int rc;

	for (size_t i = 0; i < r->nregs; i++) {
		const struct rec_register *g = &r->regs[i];

		if (g->nheads > 0 && field_searched(g->name) &&
		    (rc = fn(g->name, g->heads[0].value, arg)) != 0)
			return rc;
	}
	for (size_t i = 0; i < r->nsets; i++)
		for (size_t j = 0; j < r->sets[i].nelems; j++) {
			const struct rec_elem *e = &r->sets[i].elems[j];

			if (rec_elem_present(e) &&
			    field_searched(r->sets[i].name) &&
			    (rc = fn(r->sets[i].name, e->value, arg)) != 0)
				return rc;
		}
	return 0;
}

static int
wordset_add_cb(const char *w, size_t wlen, size_t off, size_t olen, void *arg)
{
	struct wordset *ws = arg;
	struct word *x;

	(void)off;
	(void)olen;
	if (ws->n == ws->cap) {
		size_t cap = 4 * ws->cap;

		if ((x = realloc(ws->w == ws->few ? NULL : ws->w,
		    cap * sizeof(*x))) == NULL) {
			ws->oom = 1;
			return 1;
		}
		if (ws->w == ws->few)
			memcpy(x, ws->few, sizeof(ws->few));
		ws->w = x;
		ws->cap = cap;
	}
	x = &ws->w[ws->n++];
	x->len = (uint8_t)proto_text_prefix(w, wlen, WORD_CAP);
	memcpy(x->text, w, x->len);
	return 0;
}

static void
wordset_init(struct wordset *ws, const uint8_t *key)
{
	ws->key = key;
	ws->n = 0;
	ws->cap = WORDSET_FEW;
	ws->w = ws->few;
	ws->oom = 0;
}

static void
wordset_free(struct wordset *ws)
{
	if (ws->w != ws->few)
		free(ws->w);
}

/* A value that is not text (held from before the text rule) has no
 * words: search never found it by them. */
static int
wordset_text(struct wordset *ws, const char *value, size_t len)
{
	if (proto_text_words_cap(value, len, WORD_CAP, wordset_add_cb,
	    ws) != 0)
		return ws->oom;
	return ws->oom;
}

static int
wordset_text_cb(const char *field, const char *value, void *arg)
{
	(void)field;
	return wordset_text(arg, value, strlen(value));
}

/* memcmp of two hashes, for the sorts: their first 8 bytes decide
 * nearly always. */
static int
hash_cmp(const uint8_t *a, const uint8_t *b)
{
	uint64_t x = be64_get(a), y = be64_get(b);

	if (x != y)
		return x < y ? -1 : 1;
	x = be64_get(a + 8);
	y = be64_get(b + 8);
	return (x > y) - (x < y);
}

/* Whether two hashes are the same, without a call to memcmp. */
static int
hash_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

static int
word_cmp(const void *a, const void *b)
{
	return hash_cmp(((const struct word *)a)->h,
	    ((const struct word *)b)->h);
}

/* Sorts ws by cmp and keeps the first of each run of equal words. A
 * note's few words are sorted in place; qsort (glibc's merge sort)
 * would take a buffer for them. */
static void
wordset_unique(struct wordset *ws, int (*cmp)(const void *, const void *))
{
	size_t out = 0;

	if (ws->n > 16)
		qsort(ws->w, ws->n, sizeof(*ws->w), cmp);
	else
		for (size_t i = 1; i < ws->n; i++) {
			struct word x = ws->w[i];
			size_t j = i;

			for (; j > 0 && cmp(&ws->w[j - 1], &x) > 0; j--)
				ws->w[j] = ws->w[j - 1];
			ws->w[j] = x;
		}
	for (size_t i = 0; i < ws->n; i++)
		if (out == 0 || cmp(&ws->w[out - 1], &ws->w[i]) != 0)
			ws->w[out++] = ws->w[i];
	ws->n = out;
}

/* The words gathered, hashed, sorted and made distinct. */
static void
wordset_hash(struct wordset *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		word_hash(ws->key, ws->w[i].text, ws->w[i].len, ws->w[i].h);
	wordset_unique(ws, word_cmp);
}

/* The distinct words of r, sorted by hash; none for a record search does
 * not find (another kind, or deleted). A word a note repeats is hashed
 * each time: a SipHash of a short word costs less than sorting the words
 * by text first to hash each once. */
static int
wordset_of(struct wordset *ws, const struct record *r)
{
	if (r == NULL || !kind_searched(r->kind) || record_deleted(r))
		return 0;
	if (record_texts(r, wordset_text_cb, ws) != 0 || ws->oom)
		return STORE_ENOMEM;
	wordset_hash(ws);
	return 0;
}

static int
wordset_has(const struct wordset *ws, const struct word *w)
{
	return ws->n > 0 &&
	    bsearch(w, ws->w, ws->n, sizeof(*ws->w), word_cmp) != NULL;
}

/*
 * A new record's words worked out off the store (store_words_pre): a
 * pre_head, the texts they came from (pre_text, in the order
 * record_texts would give them: registers by name), then the words.
 * Apply takes them only where record_texts gives exactly those texts.
 */
_Static_assert(STORE_WORDKEYLEN == crypto_shorthash_siphashx24_KEYBYTES,
    "the word key");

struct pre_head {
	size_t		 ntexts, nwords;
};

struct pre_text {
	const char	*field, *value;	/* the change's: not NUL-terminated */
	size_t		 field_len, value_len;
};

#define PRE_ALIGN(n)	(((n) + 7) & ~(size_t)7)

int
store_buf_reserve(struct store_words_buf *b, size_t need)
{
	size_t cap = b->cap > 0 ? b->cap : 16 * 1024;
	uint8_t *p;

	if (need <= b->cap - b->len)
		return 0;
	while (need > cap - b->len)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* The change's searched texts into t, by field name as a record keeps
 * its registers: 0, or 1 if it holds other than sets of distinct
 * registers. */
static int
pre_texts(const struct change *c, struct pre_text *t, size_t *n)
{
	char name[PROTO_MAX_FIELD + 1];

	*n = 0;
	for (size_t i = 0; i < c->nops; i++) {
		const struct op *op = &c->ops[i];
		struct pre_text x;
		size_t j;

		if (op->type != OP_SET || op->field_len > PROTO_MAX_FIELD)
			return 1;
		for (j = 0; j < i; j++)
			if (c->ops[j].field_len == op->field_len &&
			    memcmp(c->ops[j].field, op->field,
			    op->field_len) == 0)
				return 1;
		memcpy(name, op->field, op->field_len);
		name[op->field_len] = '\0';
		if (strlen(name) != op->field_len || !field_searched(name))
			continue;
		x.field = op->field;
		x.field_len = op->field_len;
		x.value = (const char *)op->value;
		x.value_len = strnlen(x.value, op->value_len);
		for (j = *n; j > 0; j--) {
			size_t m = t[j - 1].field_len < x.field_len ?
			    t[j - 1].field_len : x.field_len;
			int cmp = memcmp(t[j - 1].field, x.field, m);

			if (cmp < 0 || (cmp == 0 &&
			    t[j - 1].field_len < x.field_len))
				break;
			t[j] = t[j - 1];
		}
		t[j] = x;
		(*n)++;
	}
	return 0;
}

int
store_words_pre(const uint8_t key[STORE_WORDKEYLEN], const struct change *c,
    struct store_words_buf *b, size_t *off)
{
	struct pre_text t[PROTO_MAX_OPS];
	struct pre_head h;
	struct wordset ws;
	size_t need;
	int rc = -1;

	if (!kind_searched(c->kind) || pre_texts(c, t, &h.ntexts) != 0)
		return 1;
	wordset_init(&ws, key);
	for (size_t i = 0; i < h.ntexts; i++)
		if (wordset_text(&ws, t[i].value, t[i].value_len) != 0)
			goto out;
	wordset_hash(&ws);
	h.nwords = ws.n;
	need = PRE_ALIGN(sizeof(h) + h.ntexts * sizeof(t[0]) +
	    ws.n * sizeof(ws.w[0]));
	if (store_buf_reserve(b, need) != 0)
		goto out;
	*off = b->len;
	memcpy(b->p + b->len, &h, sizeof(h));
	memcpy(b->p + b->len + sizeof(h), t, h.ntexts * sizeof(t[0]));
	memcpy(b->p + b->len + sizeof(h) + h.ntexts * sizeof(t[0]), ws.w,
	    ws.n * sizeof(ws.w[0]));
	b->len += need;
	rc = 0;
out:
	wordset_free(&ws);
	return rc;
}

int
store_word_key(const struct store *st, uint8_t key[STORE_WORDKEYLEN])
{
	if (st->word_key == NULL)
		return -1;
	memcpy(key, st->word_key, STORE_WORDKEYLEN);
	return 0;
}

void
store_words_hint(struct store_txn *t, const uint8_t key[STORE_WORDKEYLEN],
    const void *pre)
{
	const uint8_t *wkey = t->st->word_key;

	t->words_pre = pre != NULL && wkey != NULL &&
	    sodium_memcmp(key, wkey, STORE_WORDKEYLEN) == 0 ? pre : NULL;
}

struct pre_walk {
	const struct pre_text	*t;
	size_t			 n, at;
};

static int
pre_match_cb(const char *field, const char *value, void *arg)
{
	struct pre_walk *w = arg;
	const struct pre_text *x;

	if (w->at == w->n)
		return 1;
	x = &w->t[w->at];
	if (strlen(field) != x->field_len ||
	    memcmp(field, x->field, x->field_len) != 0 ||
	    strlen(value) != x->value_len ||
	    memcmp(value, x->value, x->value_len) != 0)
		return 1;
	w->at++;
	return 0;
}

/* The words pre holds, into ws (borrowed), if they are r's: r new, and
 * its searched texts exactly pre's. */
static int
pre_take(const void *pre, const struct record *r, struct wordset *ws)
{
	struct pre_head h;
	struct pre_walk w;

	memcpy(&h, pre, sizeof(h));
	w.t = (const struct pre_text *)((const uint8_t *)pre + sizeof(h));
	w.n = h.ntexts;
	w.at = 0;
	if (r == NULL || !kind_searched(r->kind) || record_deleted(r) ||
	    record_texts(r, pre_match_cb, &w) != 0 || w.at != w.n)
		return 0;
	ws->w = (struct word *)(w.t + h.ntexts);
	ws->n = ws->cap = h.nwords;
	return 1;
}

int
store_words_pre_fits(const void *pre, const struct record *r)
{
	struct wordset ws;

	return pre == NULL || pre_take(pre, r, &ws);
}

static int
word_same(const struct word *a, const struct word *b)
{
	return hash_eq(a->h, b->h) && a->len == b->len &&
	    memcmp(a->text, b->text, a->len) == 0;
}

int
store_words_pre_check(struct store_txn *t, const void *pre,
    const struct record *r)
{
	struct wordset got, want;
	int rc = -1;

	wordset_init(&got, t->st->word_key);
	wordset_init(&want, t->st->word_key);
	if (!pre_take(pre, r, &got))
		return 0;
	if (wordset_of(&want, r) == 0 && want.n == got.n) {
		rc = 1;
		for (size_t i = 0; i < got.n; i++)
			if (!word_same(&want.w[i], &got.w[i]))
				rc = -1;
	}
	wordset_free(&want);
	return rc;
}

/* --- Posting lists: 'W' gen 'W' h(word) first[8 BE] -> the docids
 * after first, each as a LEB128 varint of its distance from the one
 * before (after the chunk's last id, 8 bytes BE); the vocabulary's
 * lists ('V') alike, of word ids. */

static void
gen_put(uint8_t *p, uint32_t gen)
{
	p[0] = (uint8_t)(gen >> 24);
	p[1] = (uint8_t)(gen >> 16);
	p[2] = (uint8_t)(gen >> 8);
	p[3] = (uint8_t)gen;
}

static uint32_t
gen_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
wkey(uint8_t key[WKEY_LEN], uint8_t type, uint32_t gen, const uint8_t *h,
    uint64_t first)
{
	key[0] = INDEX_WORD;
	gen_put(key + 1, gen);
	key[1 + GEN_LEN] = type;
	memcpy(key + WKEY_H, h, WORD_HASHLEN);
	be64_put(key + WKEY_H + WORD_HASHLEN, first);
}

static uint64_t
wkey_first(const uint8_t *k)
{
	return be64_get(k + WKEY_H + WORD_HASHLEN);
}

struct plist {
	size_t		 n, cap;
	uint64_t	*ids;
};

static int
plist_push(struct plist *p, uint64_t id)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		uint64_t *x = realloc(p->ids, cap * sizeof(*x));

		if (x == NULL)
			return STORE_ENOMEM;
		p->ids = x;
		p->cap = cap;
	}
	p->ids[p->n++] = id;
	return STORE_OK;
}

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts ids[0..n) unless sorted says they are, drops repeats; the new n. */
static size_t
ids_settle(uint64_t *ids, size_t n, int sorted)
{
	size_t out = 0;

	if (!sorted && n > 1)
		qsort(ids, n, sizeof(*ids), id_cmp);
	for (size_t i = 0; i < n; i++)
		if (out == 0 || ids[out - 1] != ids[i])
			ids[out++] = ids[i];
	return out;
}

static size_t
varint_put(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* Appends the chunk (first, v) to p; -1 if it is damaged. v starts with
 * the chunk's last id, so that adding past it needs no decoding. */
static int
chunk_decode(uint64_t first, const uint8_t *v, size_t len, struct plist *p)
{
	uint64_t id = first;

	if (len < 8 || plist_push(p, id) != 0)
		return -1;
	for (size_t i = 8; i < len;) {
		uint64_t d = 0;
		int shift = 0;

		do {
			if (i == len || shift > 63)
				return -1;
			d |= (uint64_t)(v[i] & 0x7f) << shift;
			shift += 7;
		} while (v[i++] & 0x80);
		if (d == 0 || id + d < id)
			return -1;
		id += d;
		if (plist_push(p, id) != 0)
			return -1;
	}
	return id == be64_get(v) ? 0 : -1;
}

/* Writes ids (sorted, distinct) as list (type, gen, h): chunks of at
 * most about CHUNK_MAX bytes each. A new generation's keys are written
 * in order past every other key of the table ('W' is the index's last
 * type): with append, MDB_APPEND fills their pages. *bytes counts what
 * was written. */
static int
chunks_put(struct store_txn *t, uint8_t type, uint32_t gen, const uint8_t *h,
    const uint64_t *ids, size_t n, int append, uint64_t *bytes)
{
	uint8_t key[WKEY_LEN], buf[CHUNK_MAX + 10];
	size_t i = 0, len;
	int rc;

	while (i < n) {
		wkey(key, type, gen, h, ids[i]);
		len = 8;
		for (i++; i < n && len <= CHUNK_MAX - 10; i++)
			len += varint_put(buf + len, ids[i] - ids[i - 1]);
		be64_put(buf, ids[i - 1]);
		rc = append ? store_put_append(t, TABLE_INDEX, key,
		    sizeof(key), buf, len) : store_put(t, TABLE_INDEX, key,
		    sizeof(key), buf, len);
		if (rc != 0)
			return rc;
		*bytes += sizeof(key) + len;
	}
	return STORE_OK;
}

/* The chunk of list (type, gen, h) that would hold id, borrowed: its
 * first id and value. STORE_ENOTFOUND if the list has none at or before
 * id. */
static int
chunk_seek(struct store_txn *t, uint8_t type, uint32_t gen, const uint8_t *h,
    uint64_t id, uint64_t *first, const uint8_t **v, size_t *vl)
{
	uint8_t key[WKEY_LEN];
	const uint8_t *k;
	size_t kl;
	int rc;

	wkey(key, type, gen, h, id);
	if ((rc = store_seek_le(t, TABLE_INDEX, key, sizeof(key), &k, &kl, v,
	    vl)) != 0)
		return rc;
	if (kl != WKEY_LEN || memcmp(k, key, WKEY_H + WORD_HASHLEN) != 0)
		return STORE_ENOTFOUND;
	*first = wkey_first(k);
	return STORE_OK;
}

/* Takes id out of word h's list in generation gen, if it is there. */
static int
posting_del(struct store_txn *t, uint32_t gen, const uint8_t *h, uint64_t id)
{
	struct plist p = { 0, 0, NULL };
	uint8_t key[WKEY_LEN];
	const uint8_t *v;
	uint64_t first, bytes = 0;
	size_t vl, at;
	int rc = chunk_seek(t, INDEX_WORD, gen, h, id, &first, &v, &vl);

	if (rc != 0)
		goto out;
	if (vl < 8 || be64_get(v) < id)
		goto out;		/* past its last id: not there */
	if (chunk_decode(first, v, vl, &p) != 0) {
		rc = p.ids == NULL ? STORE_ENOMEM : STORE_EIO;
		goto out;
	}
	for (at = 0; at < p.n && p.ids[at] != id; at++)
		;
	if (at == p.n)
		goto out;		/* not there: nothing to do */
	memmove(&p.ids[at], &p.ids[at + 1], (p.n - at - 1) * sizeof(*p.ids));
	p.n--;
	if (at == 0) {		/* the chunk's key names id: it goes */
		wkey(key, INDEX_WORD, gen, h, first);
		if ((rc = store_del(t, TABLE_INDEX, key, sizeof(key))) != 0)
			goto out;
	}
	rc = chunks_put(t, INDEX_WORD, gen, h, p.ids, p.n, 0, &bytes);
out:
	free(p.ids);
	return rc == STORE_ENOTFOUND ? STORE_OK : rc;
}

/* --- The generations: which there are, and their sizes, kept under
 * gens_key as (gen[4 BE], bytes[8 BE]) each. */

struct gen {
	uint32_t	id;
	uint64_t	bytes;		/* keys and values written */
};

struct gens {
	size_t		n;
	struct gen	g[GENS_MAX];
};

static const uint8_t gens_key[1 + GEN_LEN] = { INDEX_WORD, 0, 0, 0, 0 };

static int
gens_load(struct store_txn *t, struct gens *gs)
{
	const uint8_t *v;
	const void *p;
	size_t len;
	int rc = store_get(t, TABLE_INDEX, gens_key, sizeof(gens_key), &p,
	    &len);

	gs->n = 0;
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (rc != 0)
		return rc;
	if (len % GEN_ENTRY != 0 || len / GEN_ENTRY > GENS_MAX)
		return STORE_EIO;
	v = p;
	for (size_t i = 0; i < len / GEN_ENTRY; i++) {
		gs->g[i].id = gen_get(v + i * GEN_ENTRY);
		gs->g[i].bytes = be64_get(v + i * GEN_ENTRY + GEN_LEN);
		if (gs->g[i].id == 0)
			return STORE_EIO;
	}
	gs->n = len / GEN_ENTRY;
	return STORE_OK;
}

static int
gens_save(struct store_txn *t, const struct gens *gs)
{
	uint8_t v[GENS_MAX * GEN_ENTRY];

	for (size_t i = 0; i < gs->n; i++) {
		gen_put(v + i * GEN_ENTRY, gs->g[i].id);
		be64_put(v + i * GEN_ENTRY + GEN_LEN, gs->g[i].bytes);
	}
	return store_put(t, TABLE_INDEX, gens_key, sizeof(gens_key), v,
	    gs->n * GEN_ENTRY);
}

/* A name for a new generation: past every other, so its keys go to the
 * end of the index table. */
static uint32_t
gens_next(const struct gens *gs)
{
	uint32_t max = 0;

	for (size_t i = 0; i < gs->n; i++)
		if (gs->g[i].id > max)
			max = gs->g[i].id;
	return max + 1;
}

static int
gens_add(struct gens *gs, uint32_t id, uint64_t bytes)
{
	if (gs->n == GENS_MAX)
		return STORE_EIO;
	gs->g[gs->n].id = id;
	gs->g[gs->n++].bytes = bytes;
	return STORE_OK;
}

/* --- Merging generations: several generations' lists become one
 * generation's, read and written a range of hashes at a time (the
 * hashes are keyed, so uniform: a range is its share of the bytes). */

struct mitem {
	uint8_t		h[WORD_HASHLEN];
	uint32_t	gen;
	uint64_t	first;
	size_t		off, len;	/* the value, in the arena */
};

struct mrange {
	size_t		 n, cap;
	struct mitem	*it;
	uint8_t		*buf;
	size_t		 blen, bcap;
	uint32_t	 gen;		/* the one being read */
	int		 oom;
};

static int
mrange_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct mrange *m = arg;
	struct mitem *it;

	if (klen != WKEY_LEN)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 256;

		if ((it = realloc(m->it, cap * sizeof(*it))) == NULL)
			goto oom;
		m->it = it;
		m->cap = cap;
	}
	if (m->blen + vlen > m->bcap) {
		size_t cap = m->bcap ? 2 * m->bcap : 16384;
		uint8_t *b;

		while (cap < m->blen + vlen)
			cap *= 2;
		if ((b = realloc(m->buf, cap)) == NULL)
			goto oom;
		m->buf = b;
		m->bcap = cap;
	}
	it = &m->it[m->n++];
	memcpy(it->h, k + WKEY_H, WORD_HASHLEN);
	it->gen = m->gen;
	it->first = wkey_first(k);
	it->off = m->blen;
	it->len = vlen;
	memcpy(m->buf + m->blen, v, vlen);
	m->blen += vlen;
	return 0;
oom:
	m->oom = 1;
	return 1;
}

static int
mitem_cmp(const void *a, const void *b)
{
	const struct mitem *x = a, *y = b;
	int c = hash_cmp(x->h, y->h);

	return c != 0 ? c : (x->first > y->first) - (x->first < y->first);
}

/* Merges the lists of type whose hashes start with a byte in [lo, hi)
 * from generations src[0..nsrc) into generation dst, and takes them out
 * of src. */
static int
merge_range(struct store_txn *t, uint8_t type, const uint32_t *src,
    size_t nsrc, uint32_t dst, unsigned lo, unsigned hi, uint64_t *bytes)
{
	struct mrange m = { 0, 0, NULL, NULL, 0, 0, 0, 0 };
	struct plist p = { 0, 0, NULL };
	uint8_t prefix[WKEY_H + 1], key[WKEY_LEN];
	size_t i = 0, j;
	int rc = STORE_OK;

	prefix[0] = INDEX_WORD;
	prefix[1 + GEN_LEN] = type;
	for (size_t s = 0; s < nsrc && rc == 0; s++) {
		gen_put(prefix + 1, src[s]);
		m.gen = src[s];
		for (unsigned b = lo; b < hi && rc == 0 && !m.oom; b++) {
			prefix[WKEY_H] = (uint8_t)b;
			rc = store_scan(t, TABLE_INDEX, prefix, sizeof(prefix),
			    0, mrange_cb, &m);
		}
	}
	if (rc == 0 && m.oom)
		rc = STORE_ENOMEM;
	if (rc == 0 && m.n > 1)
		qsort(m.it, m.n, sizeof(*m.it), mitem_cmp);
	while (rc == 0 && i < m.n) {
		p.n = 0;
		for (j = i; j < m.n && memcmp(m.it[j].h, m.it[i].h,
		    WORD_HASHLEN) == 0 && rc == 0; j++)
			if (chunk_decode(m.it[j].first, m.buf + m.it[j].off,
			    m.it[j].len, &p) != 0)
				rc = p.ids == NULL ? STORE_ENOMEM : STORE_EIO;
		if (rc == 0) {
			p.n = ids_settle(p.ids, p.n, nsrc == 1);
			rc = chunks_put(t, type, dst, m.it[i].h, p.ids, p.n,
			    1, bytes);
		}
		i = j;
	}
	for (i = 0; rc == 0 && i < m.n; i++) {
		wkey(key, type, m.it[i].gen, m.it[i].h, m.it[i].first);
		rc = store_del(t, TABLE_INDEX, key, sizeof(key));
	}
	free(p.ids);
	free(m.it);
	free(m.buf);
	return rc;
}

/* Merges the generations of gs that pick marks into one new one, which
 * takes their place in gs. */
static int
gens_merge(struct store_txn *t, struct gens *gs, const uint8_t *pick)
{
	static const uint8_t types[] = { INDEX_VOCAB, INDEX_WORD };
	uint32_t src[GENS_MAX], dst = gens_next(gs);
	uint64_t total = 0, bytes = 0;
	size_t nsrc = 0, out = 0;
	unsigned ranges = 1;
	int rc = STORE_OK;

	for (size_t i = 0; i < gs->n; i++)
		if (pick[i]) {
			src[nsrc++] = gs->g[i].id;
			total += gs->g[i].bytes;
		}
	while (ranges < 256 && total / ranges > MERGE_RANGE)
		ranges *= 2;
	for (size_t k = 0; k < sizeof(types) && rc == 0; k++)
		for (unsigned r = 0; r < ranges && rc == 0; r++)
			rc = merge_range(t, types[k], src, nsrc, dst,
			    r * 256 / ranges, (r + 1) * 256 / ranges, &bytes);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < gs->n; i++)
		if (!pick[i])
			gs->g[out++] = gs->g[i];
	gs->n = out;
	return bytes > 0 ? gens_add(gs, dst, bytes) : STORE_OK;
}

/* A generation's size class: below GEN_BASE bytes 0, then one more for
 * each MERGE_WAYS times as many. */
static unsigned
gen_class(uint64_t bytes)
{
	unsigned c = 0;

	for (uint64_t b = GEN_BASE; bytes >= b && c < 40; b *= MERGE_WAYS)
		c++;
	return c;
}

/*
 * Keeps the generations few: once there are more than GENS_FEW, the
 * MERGE_WAYS smallest of the smallest size class that has that many are
 * merged into one generation (of the next class, or more); if no class
 * has that many, the MERGE_WAYS smallest of all are. A flush adds one
 * generation and merges at most once, so a search reads GENS_FEW at
 * most, a posting is rewritten about once per class it climbs, and a
 * commit rewrites at most MERGE_WAYS generations of one class besides
 * its own. A 100,000-note sync (a dozen commits) merges nothing.
 */
static int
gens_tidy(struct store_txn *t, struct gens *gs)
{
	uint8_t pick[GENS_MAX] = { 0 };
	unsigned count[41] = { 0 }, c;

	if (gs->n <= GENS_FEW)
		return STORE_OK;
	for (size_t i = 0; i < gs->n; i++)
		count[gen_class(gs->g[i].bytes)]++;
	for (c = 0; c < 41 && count[c] < MERGE_WAYS; c++)
		;
	for (size_t n = 0; n < MERGE_WAYS; n++) {
		size_t min = gs->n;

		for (size_t i = 0; i < gs->n; i++)
			if (!pick[i] && (c == 41 ||
			    gen_class(gs->g[i].bytes) == c) && (min == gs->n ||
			    gs->g[i].bytes < gs->g[min].bytes))
				min = i;
		pick[min] = 1;
	}
	return gens_merge(t, gs, pick);
}

/* The check value that says which key built the index and sealed the
 * records: a store whose key changed (lost, or moved off the disk into
 * something that gives a new one) must be rebuilt, or search would miss
 * what it holds and the records would not open. */
int
store_key_check_put(struct store_txn *t)
{
	uint8_t check[WORD_HASHLEN];
	const void *v;
	size_t len;

	int rc;

	/* Every record written puts it: looked up once a transaction. */
	if (t->st->key == NULL || t->key_checked)
		return STORE_OK;
	if (store_meta_get(t, "store_key_check", &v, &len) == 0) {
		t->key_checked = 1;
		return STORE_OK;
	}
	key_check_hash(t->st->key, check);
	if ((rc = store_meta_put(t, "store_key_check", check,
	    sizeof(check))) == 0)
		t->key_checked = 1;
	return rc;
}

int
store_key_check_del(struct store_txn *t)
{
	int rc = store_meta_del(t, "store_key_check");

	t->key_checked = 0;
	return rc;
}

int
store_key_stale(struct store_txn *t)
{
	uint8_t check[WORD_HASHLEN];
	const void *v;
	size_t len;

	if (t->st->key == NULL ||
	    store_meta_get(t, "store_key_check", &v, &len) != 0)
		return 0;
	key_check_hash(t->st->key, check);
	return len != sizeof(check) || memcmp(v, check, len) != 0;
}

/* --- The transaction's pending postings (see the top of this file). */

/* Docids held in memory before they are written mid-transaction: a
 * rebuild applies the whole log in one transaction. 8 MB of ids. */
#define PEND_IDS_MAX	(1u << 20)

/* Most of a sync's words are new in one note, each with one id: that
 * id is held in the entry (one, while cap is 0), which saves them an
 * allocation each and the flush a read of memory elsewhere. */
struct pend {
	uint8_t		h[WORD_HASHLEN];
	uint8_t		sorted;		/* ids increasing as added */
	uint8_t		len;		/* bytes of text */
	char		text[WORD_CAP_BYTES];	/* folded; for the prefixes */
	uint32_t	n, cap;		/* ids, and room in ids */
	uint64_t	*ids;
	uint64_t	one;
};

/*
 * The entries in one array, in the order they came, and a table of
 * slots that finds them: open addressing on the hash's first bytes (the
 * hash is keyed and uniform, so no other mixing is needed), each slot
 * an entry's place and 4 more bytes of its hash. A slot is 8 bytes,
 * where an entry is about 100: a sync's tens of thousands of words are
 * looked up and the table grown without touching every entry's memory.
 */
struct pend_slot {
	uint32_t	tag;		/* the hash's bytes 8..11 */
	uint32_t	at;		/* the entry's index + 1; 0: free */
};

struct pend_table {
	size_t		 n, cap;	/* entries in p, and room */
	struct pend	*p;
	size_t		 slots;		/* a power of two, or 0 */
	struct pend_slot *s;
};

struct store_words {
	struct pend_table w;		/* 'W': h(word) -> docids */
	size_t		 nids;
	int		 gens_held;	/* gens read, and kept as written */
	struct gens	 gens;
};

static void
pend_table_free(struct pend_table *pt)
{
	for (size_t i = 0; i < pt->n; i++)
		free(pt->p[i].ids);
	free(pt->p);
	free(pt->s);
	memset(pt, 0, sizeof(*pt));
}

static uint32_t
pend_tag(const uint8_t *h)
{
	return (uint32_t)(be64_get(h + 8) >> 32);
}

/* The slot of hash h: its entry's, or the free one it would take. */
static struct pend_slot *
pend_slot(const struct pend_table *pt, const uint8_t *h)
{
	size_t i = (size_t)be64_get(h) & (pt->slots - 1);
	uint32_t tag = pend_tag(h);

	while (pt->s[i].at != 0 && (pt->s[i].tag != tag ||
	    !hash_eq(pt->p[pt->s[i].at - 1].h, h)))
		i = (i + 1) & (pt->slots - 1);
	return &pt->s[i];
}

static struct pend *
pend_find(const struct pend_table *pt, const uint8_t *h)
{
	struct pend_slot *sl;

	if (pt->slots == 0)
		return NULL;
	sl = pend_slot(pt, h);
	return sl->at != 0 ? &pt->p[sl->at - 1] : NULL;
}

/* Twice the slots (at least 512), the entries placed again. */
static int
pend_grow(struct pend_table *pt)
{
	size_t slots = pt->slots ? 2 * pt->slots : 512;
	struct pend_slot *s = calloc(slots, sizeof(*s)), *sl;

	if (s == NULL)
		return STORE_ENOMEM;
	free(pt->s);
	pt->s = s;
	pt->slots = slots;
	for (size_t k = 0; k < pt->n; k++) {
		sl = pend_slot(pt, pt->p[k].h);
		sl->tag = pend_tag(pt->p[k].h);
		sl->at = (uint32_t)(k + 1);
	}
	return STORE_OK;
}

/* The entry of hash h, made (empty, with text) if it is not there;
 * borrowed until the next pend_get. */
static int
pend_get(struct pend_table *pt, const uint8_t *h, const char *text,
    size_t len, struct pend **out)
{
	struct pend_slot *sl;
	struct pend *e;
	int rc;

	if (2 * (pt->n + 1) > pt->slots && (rc = pend_grow(pt)) != 0)
		return rc;
	if ((sl = pend_slot(pt, h))->at == 0) {
		if (pt->n == pt->cap) {
			size_t cap = pt->cap ? 2 * pt->cap : 256;

			if ((e = realloc(pt->p, cap * sizeof(*e))) == NULL)
				return STORE_ENOMEM;
			pt->p = e;
			pt->cap = cap;
		}
		e = &pt->p[pt->n];
		memset(e, 0, sizeof(*e));
		e->sorted = 1;
		memcpy(e->h, h, WORD_HASHLEN);
		e->len = (uint8_t)len;
		memcpy(e->text, text, len);
		sl->tag = pend_tag(h);
		sl->at = (uint32_t)++pt->n;
	}
	*out = &pt->p[sl->at - 1];
	return STORE_OK;
}

/* The ids of e, borrowed: in the entry while there is room for one. */
static uint64_t *
pend_ids(struct pend *e)
{
	return e->cap > 0 ? e->ids : &e->one;
}

/* A transaction's words mostly gain an id or two (a sync brings
 * thousands of words each new in one note): their lists start small, so
 * that the pending lists stay compact in memory. */
static int
pend_push(struct pend *e, uint64_t id)
{
	if (e->n > 0 && pend_ids(e)[e->n - 1] >= id)
		e->sorted = 0;
	if (e->cap == 0 && e->n == 0) {
		e->one = id;
		e->n = 1;
		return STORE_OK;
	}
	if (e->n >= e->cap) {
		size_t cap = e->cap ? 2 * (size_t)e->cap : 4;
		uint64_t *x;

		if (cap > UINT32_MAX ||
		    (x = realloc(e->ids, cap * sizeof(*x))) == NULL)
			return STORE_ENOMEM;
		if (e->cap == 0)
			x[0] = e->one;
		e->ids = x;
		e->cap = (uint32_t)cap;
	}
	e->ids[e->n++] = id;
	return STORE_OK;
}

/* Takes docid out of word w's pending list, if it is there. */
static void
pend_del(struct store_words *sw, const uint8_t *h, uint64_t id)
{
	struct pend *e;
	uint64_t *ids;
	uint32_t out = 0;

	if (sw == NULL || (e = pend_find(&sw->w, h)) == NULL)
		return;
	ids = pend_ids(e);
	for (uint32_t i = 0; i < e->n; i++)
		if (ids[i] != id)
			ids[out++] = ids[i];
	sw->nids -= e->n - out;
	e->n = out;
}

/* Sorts a pending list and drops repeats. */
static void
pend_settle(struct pend *e)
{
	if (!e->sorted)		/* sorted: increasing, so no repeats */
		e->n = (uint32_t)ids_settle(pend_ids(e), e->n, 0);
}

/* A word's id in the vocabulary's lists: its hash's first 8 bytes. Two
 * words that share them only make a query read both words' lists. */
static uint64_t
word_id(const uint8_t *h)
{
	return be64_get(h);
}

/*
 * The vocabulary's additions of one flush: a (prefix, word) pair for
 * each prefix of each word new to the index, sorted by prefix and then
 * written list by list. Pairs in one flat array, not a table of lists:
 * a sync's thousands of new words make tens of thousands of prefixes,
 * each with a word or two, and a table of lists cost a hash-table grow
 * (and its page faults) and a small allocation per prefix.
 */
struct vpair {
	uint8_t		h[WORD_HASHLEN];	/* h(prefix) */
	uint64_t	id;			/* word_id of the word */
};

struct vpairs {
	size_t		 n, cap;
	struct vpair	*v;
};

/* Notes word e under each of its prefixes, in vp. */
static int
vocab_pend(struct vpairs *vp, const uint8_t *skey, const struct pend *e)
{
	size_t n = 0, len;

	do {
		if (vp->n == vp->cap) {
			size_t cap = vp->cap ? 2 * vp->cap : 1024;
			struct vpair *x = realloc(vp->v, cap * sizeof(*x));

			if (x == NULL)
				return STORE_ENOMEM;
			vp->v = x;
			vp->cap = cap;
		}
		len = proto_text_prefix(e->text, e->len, ++n);
		if (len < e->len)
			word_hash(skey, e->text, len, vp->v[vp->n].h);
		else			/* the word itself: hashed already */
			memcpy(vp->v[vp->n].h, e->h, WORD_HASHLEN);
		vp->v[vp->n++].id = word_id(e->h);
	} while (len < e->len);
	return STORE_OK;
}

static int
vpair_cmp(const void *a, const void *b)
{
	const struct vpair *x = a, *y = b;
	int c = hash_cmp(x->h, y->h);

	return c != 0 ? c : (x->id > y->id) - (x->id < y->id);
}

#define RADIX_BITS	11
#define RADIX_PASSES	3	/* the hashes' first 33 bits */

/* Stable: v[0..n) by the digit of their hashes' first 8 bytes (as be64)
 * that shift picks, into out; count is that digit's histogram. */
static void
vpairs_scatter(const struct vpair *v, size_t n, unsigned shift,
    const size_t *count, struct vpair *out)
{
	size_t pos[1 << RADIX_BITS], at = 0;
	const uint64_t mask = (1 << RADIX_BITS) - 1;

	for (size_t d = 0; d <= mask; d++) {
		pos[d] = at;
		at += count[d];
	}
	for (size_t i = 0; i < n; i++)
		out[pos[(be64_get(v[i].h) >> shift) & mask]++] = v[i];
}

/*
 * Sorts v[0..n) as vpair_cmp orders them. A flush sorts hundreds of
 * thousands of pairs, and qsort, a compare through a pointer each step,
 * cost a tenth of a sync's time. The hashes are keyed, so uniform: a
 * radix sort on their first 33 bits, least significant digit first (so
 * stable), orders nearly all; an insertion pass then orders what those
 * bits leave, and moves nothing when they decide: the rest of a hash
 * (rarely: two of a flush's tens of thousands of hashes share their
 * first 33 bits about once in ten flushes), and the ids under one hash,
 * which come in order when the pairs are made in word order, as
 * pend_write makes them.
 * Without the memory for a second array, qsort does it.
 */
static void
vpairs_sort(struct vpair *v, size_t n)
{
	const uint64_t mask = (1 << RADIX_BITS) - 1;
	struct vpair *tmp, *src = v, *dst, x;
	size_t *count, j;
	unsigned shift;

	if (n > 32) {
		if ((count = calloc(RADIX_PASSES << RADIX_BITS,
		    sizeof(*count))) == NULL ||
		    (tmp = malloc(n * sizeof(*tmp))) == NULL) {
			free(count);
			qsort(v, n, sizeof(*v), vpair_cmp);
			return;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t k = be64_get(v[i].h) >> (64 -
			    RADIX_PASSES * RADIX_BITS);

			for (unsigned p = 0; p < RADIX_PASSES; p++)
				count[(p << RADIX_BITS) +
				    ((k >> (p * RADIX_BITS)) & mask)]++;
		}
		for (unsigned p = 0; p < RADIX_PASSES; p++) {
			shift = 64 - (RADIX_PASSES - p) * RADIX_BITS;
			dst = src == v ? tmp : v;
			vpairs_scatter(src, n, shift, count + (p << RADIX_BITS),
			    dst);
			src = dst;
		}
		if (src != v)
			memcpy(v, src, n * sizeof(*v));
		free(tmp);
		free(count);
	}
	for (size_t i = 1; i < n; i++) {
		if (vpair_cmp(&v[i - 1], &v[i]) <= 0)
			continue;
		x = v[i];
		for (j = i; j > 0 && vpair_cmp(&v[j - 1], &x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Writes the pairs' lists into generation gen, in key order. */
static int
vocab_write(struct store_txn *t, uint32_t gen, struct vpairs *vp,
    uint64_t *bytes)
{
	uint64_t *ids;
	size_t i = 0, j, n;
	int rc = STORE_OK;

	if (vp->n == 0)
		return STORE_OK;
	if ((ids = malloc(vp->n * sizeof(*ids))) == NULL)
		return STORE_ENOMEM;
	vpairs_sort(vp->v, vp->n);
	while (i < vp->n && rc == 0) {
		for (j = i, n = 0; j < vp->n && hash_eq(vp->v[j].h,
		    vp->v[i].h); j++)
			if (n == 0 || ids[n - 1] != vp->v[j].id)
				ids[n++] = vp->v[j].id;
		rc = chunks_put(t, INDEX_VOCAB, gen, vp->v[i].h, ids, n, 1,
		    bytes);
		i = j;
	}
	free(ids);
	return rc;
}

/* Entries read in hash order are read out of the order they were made
 * in: each a wait for memory, unless asked for a few entries ahead (in
 * the loop: GCC drops a call to a function that only prefetches). */
#define PEND_AHEAD	8

/* Writes every list of pt into the new generation gen, in key order:
 * first the vocabulary (each word's prefixes; a generation's vocabulary
 * names the words its own lists hold, so no word costs a lookup here),
 * then the words' lists. The words are put in hash order as pairs of
 * (hash, their place in pt), by vpairs_sort. */
static int
pend_write(struct store_txn *t, struct pend_table *pt, uint32_t gen,
    uint64_t *bytes)
{
	struct vpairs vp = { 0, 0, NULL };
	struct vpair *order;
	struct pend *e;
	size_t n = 0;
	int rc = STORE_OK;

	if (pt->n == 0)
		return STORE_OK;
	if ((order = malloc(pt->n * sizeof(*order))) == NULL)
		return STORE_ENOMEM;
	for (size_t i = 0; i < pt->n; i++)
		if (pt->p[i].n > 0) {
			memcpy(order[n].h, pt->p[i].h, WORD_HASHLEN);
			order[n++].id = i;
		}
	vpairs_sort(order, n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i + PEND_AHEAD < n)
			__builtin_prefetch(&pt->p[order[i + PEND_AHEAD].id]);
		rc = vocab_pend(&vp, t->st->word_key, &pt->p[order[i].id]);
	}
	if (rc == 0)
		rc = vocab_write(t, gen, &vp, bytes);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i + PEND_AHEAD < n)
			__builtin_prefetch(&pt->p[order[i + PEND_AHEAD].id]);
		e = &pt->p[order[i].id];
		pend_settle(e);
		rc = chunks_put(t, INDEX_WORD, gen, e->h, pend_ids(e), e->n, 1,
		    bytes);
	}
	free(vp.v);
	free(order);
	pend_table_free(pt);
	return rc;
}

static int
words_get(struct store_txn *t, struct store_words **out)
{
	int rc;

	if (t->words == NULL &&
	    (t->words = calloc(1, sizeof(*t->words))) == NULL)
		return STORE_ENOMEM;
	if (!t->words->gens_held) {
		if ((rc = gens_load(t, &t->words->gens)) != 0)
			return rc;
		t->words->gens_held = 1;
	}
	*out = t->words;
	return STORE_OK;
}

/* The pending lists become a new generation; then gens_tidy. */
int
store_words_flush(struct store_txn *t)
{
	struct store_words *sw = t->words;
	uint64_t bytes = 0;
	uint32_t gen;
	int rc;

	if (sw == NULL || sw->nids == 0)
		return STORE_OK;
	if ((rc = store_key_check_put(t)) != 0 || (rc = words_get(t, &sw)) != 0)
		goto out;
	gen = gens_next(&sw->gens);
	rc = pend_write(t, &sw->w, gen, &bytes);
	if (rc == 0 && bytes > 0 &&
	    (rc = gens_add(&sw->gens, gen, bytes)) == 0 &&
	    (rc = gens_tidy(t, &sw->gens)) == 0)
		rc = gens_save(t, &sw->gens);
	if (rc != 0)
		sw->gens_held = 0;	/* the transaction will not commit */
out:
	pend_table_free(&sw->w);
	sw->nids = 0;
	return rc;
}

void
store_words_free(struct store_txn *t)
{
	if (t->words == NULL)
		return;
	pend_table_free(&t->words->w);
	free(t->words);
	t->words = NULL;
}

static int
words_add(struct store_txn *t, const struct word *w, uint64_t docid)
{
	struct pend *e;
	int rc;

	if (t->words == NULL &&
	    (t->words = calloc(1, sizeof(*t->words))) == NULL)
		return STORE_ENOMEM;
	if ((rc = pend_get(&t->words->w, w->h, w->text, w->len, &e)) != 0 ||
	    (rc = pend_push(e, docid)) != 0)
		return rc;
	t->words->nids++;
	return STORE_OK;
}

/* Takes docid out of word h's list, in whichever generation holds it
 * (one at most), and out of the pending list. */
static int
words_del(struct store_txn *t, const uint8_t *h, uint64_t docid)
{
	struct store_words *sw;
	int rc;

	if ((rc = words_get(t, &sw)) != 0)
		return rc;
	pend_del(sw, h, docid);
	for (size_t i = 0; i < sw->gens.n && rc == 0; i++)
		rc = posting_del(t, sw->gens.g[i].id, h, docid);
	return rc;
}

/* Drops old's words new does not have and notes new's that old did not,
 * for docid. */
static int
words_post(struct store_txn *t, uint64_t docid, const struct wordset *old,
    const struct wordset *new)
{
	struct store_words *sw;
	int rc = STORE_OK;

	/* A new word's slot is a wait for memory (the table is a sync's
	 * words): asked for now, it comes while the others are looked up. */
	if ((sw = t->words) != NULL && sw->w.slots > 0)
		for (size_t i = 0; i < new->n; i++)
			__builtin_prefetch(&sw->w.s[be64_get(new->w[i].h) &
			    (sw->w.slots - 1)]);
	for (size_t i = 0; i < old->n && rc == 0; i++)
		if (!wordset_has(new, &old->w[i]))
			rc = words_del(t, old->w[i].h, docid);
	for (size_t i = 0; i < new->n && rc == 0; i++)
		if (!wordset_has(old, &new->w[i]))
			rc = words_add(t, &new->w[i], docid);
	if (rc == 0 && t->words != NULL && t->words->nids > PEND_IDS_MAX)
		rc = store_words_flush(t);
	return rc;
}

/* Rewrites the word keys of one record: those of before's words it no
 * longer has go now, those of after's new words are noted for the end
 * of the transaction. A store without a key (a test, a tool) keeps no
 * word index. */
int
store_words_update(struct store_txn *t, uint64_t docid,
    const struct record *before, const struct record *after)
{
	const uint8_t *skey = t->st->word_key;
	struct wordset old, new;
	const void *pre;
	int rc, borrowed = 0;

	pre = t->words_pre;
	t->words_pre = NULL;	/* for one record at most */
	if (skey == NULL)
		return STORE_OK;
	wordset_init(&old, skey);
	wordset_init(&new, skey);
	if (before == NULL && pre != NULL && pre_take(pre, after, &new)) {
		borrowed = 1;
		t->words_taken++;
	}
	else if ((rc = wordset_of(&new, after)) != 0)
		goto out;
	if ((rc = wordset_of(&old, before)) == 0)
		rc = words_post(t, docid, &old, &new);
out:
	wordset_free(&old);
	if (!borrowed)
		wordset_free(&new);
	return rc;
}

int
store_words_ready(const struct store_txn *t, uint8_t kind)
{
	return !kind_searched(kind) || t->st->word_key == NULL ||
	    t->words_pre != NULL;
}

int
store_words_add_new(struct store_txn *t, uint64_t docid, uint8_t kind)
{
	const void *pre = t->words_pre;
	struct wordset none, new;
	struct pre_head h;

	t->words_pre = NULL;
	if (!kind_searched(kind) || t->st->word_key == NULL)
		return STORE_OK;
	if (pre == NULL)
		return STORE_EIO;	/* store_words_ready said no */
	memcpy(&h, pre, sizeof(h));
	wordset_init(&none, t->st->word_key);
	wordset_init(&new, t->st->word_key);
	new.w = (struct word *)((const uint8_t *)pre + sizeof(h) +
	    h.ntexts * sizeof(struct pre_text));
	new.n = new.cap = h.nwords;
	t->words_taken++;
	return words_post(t, docid, &none, &new);
}

/* The query: its folded words, in full. */
struct query {
	size_t		 n;
	char		*text[QUERY_MAX_WORDS];
	size_t		 len[QUERY_MAX_WORDS];
	int		 oom;
};

static int
query_add_cb(const char *w, size_t wlen, size_t off, size_t olen, void *arg)
{
	struct query *q = arg;

	(void)off;
	(void)olen;
	if (q->n == QUERY_MAX_WORDS)
		return 1;
	if ((q->text[q->n] = malloc(wlen + 1)) == NULL) {
		q->oom = 1;
		return 1;
	}
	memcpy(q->text[q->n], w, wlen + 1);
	q->len[q->n++] = wlen;
	return 0;
}

static void
query_free(struct query *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->text[i]);
}

/* Candidates: the (kind, id) of each record one query word finds. */
struct cands {
	size_t		 n, cap;
	uint8_t		(*c)[CAND_LEN];
	struct store_txn *t;
	int		 rc;
	size_t		 limit;		/* stop past this many */
	int		 over;		/* stopped: more than limit */
	uint32_t	 gen;		/* the generation being read */
};

/* The record a docid names, as a candidate. */
static int
cand_push(struct cands *cs, uint64_t docid)
{
	uint8_t key[8];
	const void *v;
	size_t len;
	void *p;
	int rc;

	if (cs->n >= cs->limit) {
		cs->over = 1;
		return 1;
	}
	be64_put(key, docid);		/* the record: kind, id lead it */
	if ((rc = store_get(cs->t, TABLE_RECORDS, key, sizeof(key), &v,
	    &len)) != 0 || len < CAND_LEN) {
		cs->rc = rc != 0 ? rc : STORE_EIO;
		return 1;
	}
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? 2 * cs->cap : 64;

		if ((p = realloc(cs->c, cap * sizeof(*cs->c))) == NULL) {
			cs->rc = STORE_ENOMEM;
			return 1;
		}
		cs->c = p;
		cs->cap = cap;
	}
	memcpy(cs->c[cs->n++], v, CAND_LEN);
	return 0;
}

static int
cand_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct cands *cs = arg;
	struct plist p = { 0, 0, NULL };
	int stop = 0;

	if (klen != WKEY_LEN)
		return 0;
	if (chunk_decode(wkey_first(k), v, vlen, &p) != 0) {
		cs->rc = p.ids == NULL ? STORE_ENOMEM : STORE_EIO;
		stop = 1;
	}
	for (size_t i = 0; !stop && i < p.n; i++)
		stop = cand_push(cs, p.ids[i]);
	free(p.ids);
	return stop;
}

/* Each word the prefix starts, in the generation cs->gen: its records
 * there. */
static int
vocab_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct cands *cs = arg;
	struct plist p = { 0, 0, NULL };
	uint8_t prefix[WKEY_H + 8];
	int rc;

	if (klen != WKEY_LEN)
		return 0;
	if (chunk_decode(wkey_first(k), v, vlen, &p) != 0)
		cs->rc = p.ids == NULL ? STORE_ENOMEM : STORE_EIO;
	prefix[0] = INDEX_WORD;
	gen_put(prefix + 1, cs->gen);
	prefix[1 + GEN_LEN] = INDEX_WORD;
	for (size_t i = 0; cs->rc == 0 && !cs->over && i < p.n; i++) {
		be64_put(prefix + WKEY_H, p.ids[i]);
		if ((rc = store_scan(cs->t, TABLE_INDEX, prefix,
		    sizeof(prefix), 0, cand_cb, cs)) != 0 && cs->rc == 0)
			cs->rc = rc;
	}
	free(p.ids);
	return cs->rc != 0 || cs->over;
}

static int
cand_cmp(const void *a, const void *b)
{
	return memcmp(a, b, CAND_LEN);
}

/* How well one record matches: which query words each field holds. */
struct match {
	const struct query *q;
	uint32_t	 all;		/* words found anywhere */
	uint32_t	 field_words;	/* in the field being read */
	size_t		 field_off;
	int		 best_count;
	const char	*best_field, *best_value;
	size_t		 best_off;
};

static int
match_word_cb(const char *w, size_t wlen, size_t off, size_t olen, void *arg)
{
	struct match *m = arg;

	(void)olen;
	for (size_t i = 0; i < m->q->n; i++)
		if (m->q->len[i] <= wlen &&
		    memcmp(w, m->q->text[i], m->q->len[i]) == 0) {
			if (m->field_words == 0)
				m->field_off = off;
			m->field_words |= UINT32_C(1) << i;
		}
	return 0;
}

static int
match_field_cb(const char *field, const char *value, void *arg)
{
	struct match *m = arg;
	int count = 0;

	m->field_words = 0;
	if (proto_text_words(value, strlen(value), match_word_cb, m) != 0)
		m->field_words = 0;	/* not text: no words */
	for (uint32_t b = m->field_words; b; b &= b - 1)
		count++;
	if (count > m->best_count) {
		m->best_count = count;
		m->best_field = field;
		m->best_value = value;
		m->best_off = m->field_off;
	}
	m->all |= m->field_words;
	return 0;
}

static int
search_one(struct store_txn *t, const struct query *q, const uint8_t *cand,
    int (*fn)(const struct store_hit *, void *), void *arg)
{
	struct match m = { q, 0, 0, 0, 0, NULL, NULL, 0 };
	struct store_hit hit;
	struct record *r;
	int rc, stop = 0;

	if ((rc = store_record_get(t, cand[0], cand + 1, &r)) != 0)
		return rc == STORE_ENOTFOUND ? 0 : rc;
	if (!record_deleted(r) && record_texts(r, match_field_cb, &m) == 0 &&
	    m.all == (UINT32_C(1) << q->n) - 1) {
		hit.r = r;
		hit.field = m.best_field;
		hit.value = m.best_value;
		hit.off = m.best_off;
		stop = fn(&hit, arg);
	}
	record_free(r);
	return stop ? 1 : 0;
}

/* The candidates of query word i, up to cs->limit of them: in each
 * generation, the words its vocabulary says start with it, and their
 * lists there. */
static int
query_cands(struct store_txn *t, const struct gens *gs, const struct query *q,
    size_t i, struct cands *cs)
{
	uint8_t prefix[WKEY_H + WORD_HASHLEN];
	size_t len = proto_text_prefix(q->text[i], q->len[i], WORD_CAP);
	int rc = STORE_OK;

	cs->n = 0;
	cs->over = 0;
	prefix[0] = INDEX_WORD;
	prefix[1 + GEN_LEN] = INDEX_VOCAB;
	word_hash(t->st->word_key, q->text[i], len, prefix + WKEY_H);
	for (size_t g = 0; g < gs->n && rc == 0 && cs->rc == 0 && !cs->over;
	    g++) {
		cs->gen = gs->g[g].id;
		gen_put(prefix + 1, cs->gen);
		rc = store_scan(t, TABLE_INDEX, prefix, sizeof(prefix), 0,
		    vocab_cb, cs);
	}
	return rc != 0 ? rc : cs->rc;
}

/* The candidates of the query word that has fewest, found without
 * reading any word's list much past that: every word is read up to a
 * limit that grows fourfold until one word's list fits. The work is at
 * most a few times the rarest word's records, whatever the store holds. */
static int
rarest_cands(struct store_txn *t, const struct gens *gs, const struct query *q,
    struct cands *cs)
{
	struct cands best = { 0, 0, NULL, t, 0, 0, 0, 0 };
	size_t limit = q->n == 1 ? SIZE_MAX : 256;
	int rc = 0;

	for (int found = 0; !found && rc == 0; limit *= 4) {
		for (size_t i = 0; i < q->n && rc == 0; i++) {
			cs->limit = limit;
			if ((rc = query_cands(t, gs, q, i, cs)) != 0 ||
			    cs->over)
				continue;
			if (!found || cs->n < best.n) {
				struct cands swap = best;

				best = *cs;
				*cs = swap;
			}
			found = 1;
			limit = best.n;	/* the rest need not pass it */
		}
	}
	free(cs->c);
	*cs = best;
	return rc;
}

int
store_search(struct store_txn *t, const char *text,
    int (*fn)(const struct store_hit *, void *), void *arg)
{
	struct query q = { 0 };
	struct cands cs = { 0, 0, NULL, t, 0, 0, 0, 0 };
	struct gens *gs = NULL;
	int rc = STORE_EINVALID;

	if (t->st->key == NULL)
		return STORE_ENOTFOUND;
	if ((rc = store_words_flush(t)) != 0)	/* this transaction's words */
		return rc;
	rc = STORE_EINVALID;
	if (proto_text_words(text, strlen(text), query_add_cb, &q) != 0 ||
	    q.oom || q.n == 0 || q.n == QUERY_MAX_WORDS)
		goto out;
	if ((gs = malloc(sizeof(*gs))) == NULL) {
		rc = STORE_ENOMEM;
		goto out;
	}
	if ((rc = gens_load(t, gs)) != 0 ||
	    (rc = rarest_cands(t, gs, &q, &cs)) != 0)
		goto out;
	if (cs.n > 1)
		qsort(cs.c, cs.n, sizeof(*cs.c), cand_cmp);
	for (size_t i = 0; i < cs.n && rc == 0; i++)
		if (i == 0 || cand_cmp(cs.c[i - 1], cs.c[i]) != 0)
			rc = search_one(t, &q, cs.c[i], fn, arg);
	rc = rc < 0 ? rc : STORE_OK;
out:
	free(gs);
	free(cs.c);
	query_free(&q);
	return rc;
}

/*
 * The digest: the records' state as one value, kept up to date as each
 * record is saved, so `digest` reads one meta key. It is the sum modulo
 * 2^256 of one BLAKE2b hash per record (of its key and canonical value,
 * each with its length), hashed once more when read. A sum does not
 * depend on the order records were saved in, and saving a record
 * subtracts its old hash and adds its new one.
 *
 * Why that is still a sound equality check for tests and `verify`: two
 * stores with different records give the same digest only if two
 * multisets of 256-bit hashes have the same sum. By accident that has
 * probability 2^-256, as for a chained hash. What a sum gives up is
 * resistance to someone who chooses many records to make a sum collide
 * (Wagner's generalised birthday attack is far cheaper than 2^128 for
 * sums of many terms, and cheaper still for XOR, which is why XOR is not
 * used); nothing trusts the digest against an adversary, and `verify`
 * recomputes it from scratch (store_digest_scan) and compares.
 */
#define DIGEST_META	"records_digest"

void
store_record_hash(const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen, uint8_t out[PROTO_HASHLEN])
{
	crypto_generichash_state st;
	uint8_t len[8];

	crypto_generichash_init(&st, NULL, 0, PROTO_HASHLEN);
	be64_put(len, klen);
	crypto_generichash_update(&st, len, sizeof(len));
	crypto_generichash_update(&st, k, klen);
	be64_put(len, vlen);
	crypto_generichash_update(&st, len, sizeof(len));
	crypto_generichash_update(&st, v, vlen);
	crypto_generichash_final(&st, out, PROTO_HASHLEN);
}

/* acc += h (sign 1) or acc -= h (sign -1), little-endian, mod 2^256. */
static void
acc_add(uint8_t acc[PROTO_HASHLEN], const uint8_t h[PROTO_HASHLEN], int sign)
{
	int carry = 0;

	for (size_t i = 0; i < PROTO_HASHLEN; i++) {
		int x = acc[i] + sign * h[i] + carry;

		carry = x < 0 ? -1 : x > 255 ? 1 : 0;
		acc[i] = (uint8_t)x;
	}
}

static void
acc_final(const uint8_t acc[PROTO_HASHLEN], uint8_t out[PROTO_HASHLEN])
{
	static const uint8_t tag[] = "satchel records digest v2";
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, PROTO_HASHLEN);
	crypto_generichash_update(&st, tag, sizeof(tag));
	crypto_generichash_update(&st, acc, PROTO_HASHLEN);
	crypto_generichash_final(&st, out, PROTO_HASHLEN);
}

/* Every record saved changes the digest: a transaction reads it once,
 * holds it (t->digest) and writes it when it ends (store_digest_flush). */
static void
acc_get(struct store_txn *t, uint8_t acc[PROTO_HASHLEN])
{
	const void *v;
	size_t len;

	if (t->digest_held == 0) {
		if (store_meta_get(t, DIGEST_META, &v, &len) == 0 &&
		    len == PROTO_HASHLEN)
			memcpy(t->digest, v, PROTO_HASHLEN);
		else
			memset(t->digest, 0, PROTO_HASHLEN); /* no record yet */
		t->digest_held = 1;
	}
	memcpy(acc, t->digest, PROTO_HASHLEN);
}

int
store_digest_flush(struct store_txn *t)
{
	if (t->digest_held != 2)
		return STORE_OK;
	t->digest_held = 1;
	return store_meta_put(t, DIGEST_META, t->digest, PROTO_HASHLEN);
}

/* Called as a record's plaintext old (NULL if it is new) is replaced by
 * v. The digest is over plaintexts, never over sealed bytes: two
 * devices' sealed records differ, their states do not. */
int
store_digest_update(struct store_txn *t, const uint8_t *k, size_t klen,
    const uint8_t *old, size_t olen, const uint8_t *v, size_t vlen)
{
	uint8_t h[PROTO_HASHLEN];

	store_record_hash(k, klen, v, vlen, h);
	return store_digest_add(t, k, klen, old, olen, h);
}

int
store_digest_add(struct store_txn *t, const uint8_t *k, size_t klen,
    const uint8_t *old, size_t olen, const uint8_t h[PROTO_HASHLEN])
{
	uint8_t acc[PROTO_HASHLEN], oh[PROTO_HASHLEN];

	acc_get(t, acc);
	if (old != NULL) {
		store_record_hash(k, klen, old, olen, oh);
		acc_add(acc, oh, -1);
	}
	acc_add(acc, h, 1);
	memcpy(t->digest, acc, PROTO_HASHLEN);
	t->digest_held = 2;
	return STORE_OK;
}

int
store_digest_reset(struct store_txn *t)
{
	t->digest_held = 0;
	return store_meta_del(t, DIGEST_META);
}

int
store_digest(struct store_txn *t, uint8_t out[PROTO_HASHLEN])
{
	uint8_t acc[PROTO_HASHLEN];

	acc_get(t, acc);
	acc_final(acc, out);
	return STORE_OK;
}

struct digest_walk {
	struct store_txn *t;
	uint8_t		 acc[PROTO_HASHLEN];
	int		 rc;
};

static int
digest_scan_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct digest_walk *w = arg;
	uint8_t h[PROTO_HASHLEN], *pt;
	uint64_t docid;
	size_t len;

	(void)k;
	(void)klen;
	if (vlen < CAND_LEN) {		/* kind, id, then the record */
		w->rc = STORE_EIO;
		return 1;
	}
	if ((w->rc = recstore_unseal(w->t, v, CAND_LEN, v + CAND_LEN,
	    vlen - CAND_LEN, &docid, &pt, &len)) != 0)
		return 1;
	store_record_hash(v, CAND_LEN, pt, len, h);
	free(pt);
	acc_add(w->acc, h, 1);
	return 0;
}

int
store_digest_scan(struct store_txn *t, uint8_t out[PROTO_HASHLEN])
{
	struct digest_walk w = { t, { 0 }, 0 };
	int rc;

	if ((rc = store_scan(t, TABLE_RECORDS, NULL, 0, 0, digest_scan_cb,
	    &w)) != 0)
		return rc;
	if (w.rc != 0)
		return w.rc;
	acc_final(w.acc, out);
	return STORE_OK;
}
