/*
 * Search: how text splits into words (proto_text_words), the word index
 * kept on apply (store_search), the per-student count show pages by, and
 * the digest kept as records change. Each store test makes a real device
 * in a scratch directory and writes through the same path as `note add`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"
#include "store_int.h"
#include "dev_fixture.h"
#include "tap.h"

#define LEN(a)	(sizeof(a) / sizeof((a)[0]))
/* A word index list's key (search.c): 'W', generation[4], the list's
 * kind ('W' or 'V'), hash[16], first id[8]; and 'W' 0[4], the list of
 * generations. */
#define GEN_LEN		4
#define LIST_KIND	(1 + GEN_LEN)
#define LIST_KEYLEN	(LIST_KIND + 1 + 16 + 8)

struct words {
	int	n;
	char	w[16][64];
	size_t	off[16];
};

static int
words_cb(const char *w, size_t wlen, size_t off, size_t olen, void *arg)
{
	struct words *ws = arg;

	(void)olen;
	if (ws->n == 16 || wlen >= 64)
		return 1;
	memcpy(ws->w[ws->n], w, wlen + 1);
	ws->off[ws->n++] = off;
	return 0;
}

/* Whether ws, joined by '|', is want; says what it got if not. */
static int
words_joined_are(const char *what, const char *s, const struct words *ws,
    const char *want)
{
	char got[1024] = "";

	for (int i = 0; i < ws->n; i++) {
		if (i > 0)
			strcat(got, "|");
		strcat(got, ws->w[i]);
	}
	if (strcmp(got, want) != 0)
		printf("#   %s of '%s' are '%s', not '%s'\n", what, s, got, want);
	return strcmp(got, want) == 0;
}

/* want: the folded words, separated by '|'. */
static int
words_are(const char *s, const char *want)
{
	struct words ws = { 0 };

	return proto_text_words(s, strlen(s), words_cb, &ws) == 0 &&
	    words_joined_are("words", s, &ws, want);
}

static void
test_words(void)
{
	struct words ws = { 0 };

	CHECK(words_are("Reads aloud, with CONFIDENCE!", "reads|aloud|with|"
	    "confidence"));
	CHECK(words_are("\xc3\x89lodie's dict\xc3\xa9" "e", "elodie|s|dictee"));
	/* A decomposed accent is a mark inside the word, then folded away. */
	CHECK(words_are("DICTE\xcc\x81" "E", "dictee"));
	CHECK(words_are("3rd-grade  42\tx", "3rd|grade|42|x"));
	CHECK(words_are("", ""));
	CHECK(words_are(" .,;- ", ""));
	/* Persian with a ZWNJ, Devanagari with a vowel sign: one word each. */
	CHECK(words_are("\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7"
	    "\xd9\x87\xd9\x85 x", "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88"
	    "\xd8\xa7\xd9\x87\xd9\x85|x"));
	CHECK(words_are("\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\x82\xe0\xa4\xa6"
	    "\xe0\xa5\x80", "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\x82\xe0\xa4\xa6"
	    "\xe0\xa5\x80"));
	/* Greek and Cyrillic fold their case and accents. */
	CHECK(words_are("\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91",
	    "\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1"));
	CHECK(proto_text_words("ab\xff", 3, words_cb, &ws) == -1);
	/* Offsets point into the original text. */
	ws.n = 0;
	CHECK(proto_text_words("  \xc3\x89t\xc3\xa9 fin", 11, words_cb,
	    &ws) == 0 && ws.n == 2 && ws.off[0] == 2 && ws.off[1] == 8);
}

/* want: the words of s cut to cap code points once folded, as the word
 * index keeps them, separated by '|'. */
static int
cut_words_are(const char *s, size_t cap, const char *want)
{
	struct words ws = { 0 };

	return proto_text_words_cap(s, strlen(s), cap, words_cb, &ws) == 0 &&
	    words_joined_are("cut words", s, &ws, want);
}

/* Only as much of a long word is folded as the cut needs, and the cut is
 * the whole word's fold's: a mark just past the cut still counts, and a
 * letter that folds to two counts twice. */
static void
test_words_cap(void)
{
	char longw[2000];

	CHECK(cut_words_are("Reads ALOUD, with confidence", 3,
	    "rea|alo|wit|con"));
	memset(longw, 'X', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	CHECK(cut_words_are(longw, 12, "xxxxxxxxxxxx"));
	/* "DICTEE" with a combining acute on the cut's last letter. */
	CHECK(cut_words_are("DICTE\xcc\x81" "E", 5, "dicte"));
	CHECK(cut_words_are("ABCDE\xcc\x81" "FGH ab", 5, "abcde|ab"));
	/* German sharp s folds to "ss": two code points of the cut. */
	CHECK(cut_words_are("Stra\xc3\x9f" "e", 5, "stras"));
	CHECK(cut_words_are("ab\xc3\x89" "cdef", 12, "abecdef"));
	CHECK(cut_words_are("", 12, ""));
}

static void
test_prefix(void)
{
	CHECK(proto_text_prefix("abcdef", 6, 3) == 3);
	CHECK(proto_text_prefix("abc", 3, 12) == 3);
	CHECK(proto_text_prefix("\xc3\xa9t\xc3\xa9", 5, 2) == 3);
	CHECK(proto_text_prefix("\xc3\xa9t\xc3\xa9", 5, 0) == 0);
	CHECK(proto_text_prefix("\xf0\x9f\x98\x80x", 5, 1) == 4);
}

static int
tombstone_in(struct dev *v, struct store_txn *t, uint8_t kind,
    const uint8_t *id, int deleted)
{
	struct record *r = NULL;
	struct change c;
	int rc;

	if ((rc = store_record_get(t, kind, id, &r)) == 0) {
		change_init(&c, kind, id);
		rc = change_tombstone(&c, r, deleted) != 0 ? STORE_ENOMEM :
		    device_write(&v->d, t, &c);
	}
	record_free(r);
	return rc;
}

/* Each in its own transaction. */
static int
tombstone(struct dev *v, uint8_t kind, const uint8_t *id, int deleted)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(v->d.st, 0, &t)) != 0)
		return rc;
	if ((rc = tombstone_in(v, t, kind, id, deleted)) != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

static int
note(struct dev *v, uint8_t id[PROTO_RECIDLEN], const char *strengths,
    const char *obstacle, const char *action)
{
	const char *fv[] = { "student", v->student_hex, "date", "2026-10-01",
	    "strengths", strengths, "obstacle", obstacle, "action", action,
	    NULL };

	randombytes_buf(id, PROTO_RECIDLEN);
	return write_fields(v, KIND_NOTE, id, fv);
}

static int
dev_open_zoe(struct dev *v)
{
	const char *fv[] = { "name", "Zo\xc3\xab Dubois", "class", "3B",
	    "interests", "volcanoes", NULL };

	return dev_open(v, "search", fv);
}

struct found {
	int	 n;
	uint8_t	 ids[64][PROTO_RECIDLEN];
	char	 field[32];
};

static int
found_cb(const struct store_hit *h, void *arg)
{
	struct found *f = arg;

	if (f->n < 64)
		memcpy(f->ids[f->n], h->r->id, PROTO_RECIDLEN);
	if (f->n++ == 0)
		snprintf(f->field, sizeof(f->field), "%s", h->field);
	return 0;
}

/* The records query finds in t: -1 on an error, else how many. */
static int
search_in(struct store_txn *t, const char *query, struct found *f)
{
	memset(f, 0, sizeof(*f));
	return store_search(t, query, found_cb, f) == 0 ? f->n : -1;
}

static int
search(struct dev *v, const char *query, struct found *f)
{
	struct store_txn *t;
	int n;

	if (store_begin(v->d.st, STORE_RDONLY, &t) != 0)
		return -1;
	n = search_in(t, query, f);
	store_abort(t);
	return n;
}

/* 1 if query finds exactly the one record id. */
static int
finds(struct dev *v, const char *query, const uint8_t *id)
{
	struct found f;
	int n = search(v, query, &f);

	if (n != 1 || memcmp(f.ids[0], id, PROTO_RECIDLEN) != 0)
		printf("#   '%s' found %d records\n", query, n);
	return n == 1 && memcmp(f.ids[0], id, PROTO_RECIDLEN) == 0;
}

static int
finds_none(struct dev *v, const char *query)
{
	struct found f;
	int n = search(v, query, &f);

	if (n != 0)
		printf("#   '%s' found %d records, not none\n", query, n);
	return n == 0;
}

static void
test_search(void)
{
	uint8_t n1[PROTO_RECIDLEN], n2[PROTO_RECIDLEN];
	struct dev v;
	struct found f;
	struct store_txn *t;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	CHECK(note(&v, n1, "Reads aloud fluently", "Struggles with DICT\xc3\x89"
	    "E", "paired reading") == 0);
	CHECK(note(&v, n2, "counts to twenty", "o", "number line") == 0);
	CHECK(finds(&v, "fluently", n1));
	CHECK(finds(&v, "FLU", n1));			/* prefix, case */
	CHECK(finds(&v, "paired fluent", n1));		/* any order */
	CHECK(finds(&v, "dict\xc3\xa9" "e", n1));	/* accents */
	CHECK(finds(&v, "dictee", n1));
	CHECK(finds(&v, "DICTE\xcc\x81" "E", n1));	/* decomposed */
	CHECK(finds(&v, "twenty numb", n2));
	CHECK(finds(&v, "zoe", v.student));		/* a student's name */
	CHECK(finds(&v, "volcano", v.student));		/* and profile */
	CHECK(finds_none(&v, "reading twenty"));	/* every word */
	CHECK(finds_none(&v, "luently"));		/* starts, not inside */
	CHECK(finds_none(&v, "fluentlyx"));
	CHECK(finds_none(&v, "3B0"));
	CHECK(search(&v, "read", &f) == 1 && strcmp(f.field, "action") == 0);
	CHECK(search(&v, "read aloud", &f) == 1 &&
	    strcmp(f.field, "strengths") == 0);		/* most words */
	CHECK(search(&v, "!!", &f) == -1);		/* no words */
	/* A long word: the index keeps 12 code points, the check all. */
	{
		uint8_t n3[PROTO_RECIDLEN];

		CHECK(note(&v, n3, "internationalisation", "o", "a") == 0);
		CHECK(finds(&v, "internationalis", n3));
		CHECK(finds(&v, "internationalisation", n3));
		CHECK(finds_none(&v, "internationalization"));
	}
	/* New words found, old ones not. */
	{
		const char *fv[] = { "strengths", "Writes neatly", NULL };

		CHECK(write_fields(&v, KIND_NOTE, n1, fv) == 0);
		CHECK(finds(&v, "neat", n1));
		CHECK(finds_none(&v, "fluently"));
		CHECK(finds(&v, "paired", n1));
	}
	/* Deleted records are not found, and are again once undeleted. */
	CHECK(tombstone(&v, KIND_NOTE, n2, 1) == 0);
	CHECK(finds_none(&v, "twenty"));
	CHECK(tombstone(&v, KIND_NOTE, n2, 0) == 0);
	CHECK(finds(&v, "twenty", n2));
	/* The per-student count that show pages by. */
	{
		uint64_t count = 0;

		CHECK(store_begin(v.d.st, STORE_RDONLY, &t) == 0 &&
		    store_student_count(t, v.student, &count) == 0);
		store_abort(t);
		CHECK(count == 3);
		CHECK(tombstone(&v, KIND_NOTE, n2, 1) == 0);
		CHECK(store_begin(v.d.st, STORE_RDONLY, &t) == 0 &&
		    store_student_count(t, v.student, &count) == 0);
		store_abort(t);
		CHECK(count == 2);
	}
	dev_close(&v);
}

struct plain {
	const char *const *words;
	int		 hits, keys;
	uint8_t		 kind;		/* of the lists counted in keys */
};

static int
has_bytes(const uint8_t *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

static int
plain_cb(const uint8_t *key, size_t len, void *arg)
{
	struct plain *p = arg;

	p->keys += len == LIST_KEYLEN && key[LIST_KIND] == p->kind;
	for (size_t i = 0; p->words[i] != NULL; i++)
		if (has_bytes(key, len, p->words[i]))
			p->hits++;
	return 0;
}

/* The word index's keys are hashes: no word, nor a prefix of one. */
static void
test_index_opaque(void)
{
	static const char *const words[] = { "xylophone", "xylo", "quartz",
	    "quar", NULL };
	struct plain p = { words, 0, 0, INDEX_WORD };
	uint8_t n1[PROTO_RECIDLEN], type = INDEX_WORD;
	struct store_txn *t;
	struct dev v;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	CHECK(note(&v, n1, "xylophone quartz", "o", "a") == 0);
	CHECK(finds(&v, "xylo quar", n1));
	CHECK(store_begin(v.d.st, STORE_RDONLY, &t) == 0);
	CHECK(store_index_each(t, &type, 1, 0, plain_cb, &p) == 0);
	CHECK(p.keys >= 4);	/* the note's and the student's words */
	p.kind = INDEX_VOCAB;
	p.keys = 0;
	CHECK(store_index_each(t, &type, 1, 0, plain_cb, &p) == 0);
	CHECK(p.keys >= 9 + 6);	/* every prefix of both words */
	CHECK(p.hits == 0);
	store_abort(t);
	dev_close(&v);
}

static int
digests_agree(struct dev *v, uint8_t out[PROTO_HASHLEN])
{
	uint8_t scan[PROTO_HASHLEN];
	struct store_txn *t;
	int ok;

	if (store_begin(v->d.st, STORE_RDONLY, &t) != 0)
		return 0;
	ok = store_digest(t, out) == 0 && store_digest_scan(t, scan) == 0 &&
	    memcmp(out, scan, PROTO_HASHLEN) == 0;
	store_abort(t);
	return ok;
}

/* The digest kept through many edits is the one the records give, and a
 * rebuild from the log gives it again, with a working index. */
static void
test_digest_and_rebuild(void)
{
	uint8_t ids[20][PROTO_RECIDLEN], d1[PROTO_HASHLEN], d2[PROTO_HASHLEN];
	uint8_t key[STORE_KEYLEN];
	char text[64];
	struct dev v;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	for (size_t i = 0; i < LEN(ids); i++) {
		snprintf(text, sizeof(text), "word%zu common", i);
		CHECK(note(&v, ids[i], text, "o", "a") == 0);
	}
	for (int round = 0; round < 200; round++) {
		size_t i = randombytes_uniform(LEN(ids));
		const char *fv[] = { "action", text, NULL };

		snprintf(text, sizeof(text), "edit%d", round);
		if (round % 7 == 3)
			CHECK(tombstone(&v, KIND_NOTE, ids[i],
			    round % 2) == 0);
		else
			CHECK(write_fields(&v, KIND_NOTE, ids[i], fv) == 0);
	}
	CHECK(digests_agree(&v, d1));
	CHECK(store_rebuild(v.d.st, v.d.keyring) == 0);
	CHECK(digests_agree(&v, d2));
	CHECK(memcmp(d1, d2, sizeof(d1)) == 0);
	/* Another key (a lost store.key): the index must be built again. */
	CHECK(store_needs_rebuild(v.d.st) == 0);
	randombytes_buf(key, sizeof(key));
	CHECK(store_set_key(v.d.st, key) == 0);
	CHECK(store_needs_rebuild(v.d.st) == 1);
	CHECK(store_rebuild(v.d.st, v.d.keyring) == 0);
	CHECK(store_needs_rebuild(v.d.st) == 0);
	CHECK(finds(&v, "zoe", v.student));
	CHECK(digests_agree(&v, d2));
	CHECK(memcmp(d1, d2, sizeof(d1)) == 0);
	dev_close(&v);
}

/*
 * The word index a transaction gathers in memory and writes at its end
 * is the one a transaction per change writes: the same random history
 * (new notes, edits, deletions and undeletions of the same notes) is
 * written to one device a change per transaction and to another in one
 * transaction, under the same store key; searches agree, inside the
 * open transaction too, and so do the posting lists themselves.
 */
#define BATCH_NOTES	40
#define BATCH_OPS	400

static const char *const batch_vocab[] = {
	"apple", "Apply", "applesauce", "banana", "band", "BANDANA",
	"\xc3\x89lan", "elan", "\xc3\x89" "COLE", "e\xcc\x81" "cole",
	"internationalisation", "internationalization", "cat", "catalogue",
	"dog", "zebra", "\xc3\xbc" "ber", "uber", "na\xc3\xafve", "x"
};

static const char *const batch_queries[] = {
	"apple", "app", "apply", "applesauce", "ban", "band", "bandana",
	"elan", "\xc3\xa9lan", "ecole", "\xc3\x89" "co", "internationalis",
	"internationalisation", "internationalization", "cat", "catalog",
	"dog", "zeb", "uber", "\xc3\xbc", "naive", "x", "apple banana",
	"cat dog zebra", "band elan", "zoe", "volcano"
};

static uint64_t
batch_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
batch_text(uint64_t *rng, char *out, size_t cap)
{
	size_t n = 1 + batch_rand(rng) % 6, at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, cap - at, "%s%s",
		    i ? (batch_rand(rng) % 2 ? " " : ", ") : "",
		    batch_vocab[batch_rand(rng) % LEN(batch_vocab)]);
}

/* One step of the history, in t on device v: the same on both devices
 * for the same rng state. made counts the notes written so far. */
static int
batch_step(struct dev *v, struct store_txn *t, uint64_t *rng,
    uint8_t ids[][PROTO_RECIDLEN], size_t *made)
{
	static const char *const fields[] = { "strengths", "obstacle",
	    "action" };
	char a[160], b[160], c[160];
	uint64_t op = batch_rand(rng) % 100;
	size_t i;

	if (*made == 0 || (op < 35 && *made < BATCH_NOTES)) {
		const char *fv[] = { "student", v->student_hex, "date",
		    "2026-10-01", "strengths", a, "obstacle", b, "action", c,
		    NULL };

		batch_text(rng, a, sizeof(a));
		batch_text(rng, b, sizeof(b));
		batch_text(rng, c, sizeof(c));
		return write_fields_in(v, t, KIND_NOTE, ids[(*made)++], fv);
	}
	i = batch_rand(rng) % *made;
	if (op < 75) {
		const char *fv[] = { fields[batch_rand(rng) % 3], a, NULL };

		batch_text(rng, a, sizeof(a));
		return write_fields_in(v, t, KIND_NOTE, ids[i], fv);
	}
	return tombstone_in(v, t, KIND_NOTE, ids[i], op < 90);
}

static int
id_cmp16(const void *a, const void *b)
{
	return memcmp(a, b, PROTO_RECIDLEN);
}

/* 1 if query finds the same records in ta and tb. */
static int
batch_same(struct store_txn *ta, struct store_txn *tb, const char *query)
{
	struct found fa, fb;
	int na = search_in(ta, query, &fa), nb = search_in(tb, query, &fb);

	if (na < 0 || na != nb || na > 64)
		goto differ;
	qsort(fa.ids, (size_t)na, PROTO_RECIDLEN, id_cmp16);
	qsort(fb.ids, (size_t)nb, PROTO_RECIDLEN, id_cmp16);
	if (memcmp(fa.ids, fb.ids, (size_t)na * PROTO_RECIDLEN) == 0)
		return 1;
differ:
	printf("#   '%s': %d records one at a time, %d batched\n", query, na,
	    nb);
	return 0;
}

/* A posting list's entries: (list hash, what it lists), where a docid is
 * given as the record it names, so that two stores compare. */
struct post {
	uint8_t	h[16];
	uint8_t	what[1 + PROTO_RECIDLEN];
};

struct posts {
	struct store_txn *t;
	size_t		 n, cap;
	struct post	*p;
	int		 bad;
	uint8_t		 kind;		/* of the lists read */
};

static int
posts_add(struct posts *ps, const uint8_t *h, uint8_t type, uint64_t id)
{
	uint8_t key[9];
	const void *v;
	size_t len;
	struct post *x;

	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 256;
		if ((x = realloc(ps->p, ps->cap * sizeof(*x))) == NULL)
			return -1;
		ps->p = x;
	}
	x = &ps->p[ps->n++];
	memset(x, 0, sizeof(*x));
	memcpy(x->h, h, 16);
	if (type == INDEX_VOCAB) {
		be64_put(x->what, id);
		return 0;
	}
	be64_put(key, id);	/* the record's kind and id lead its value */
	if (store_get(ps->t, TABLE_RECORDS, key, 8, &v, &len) != 0 ||
	    len < sizeof(x->what))
		return -1;
	memcpy(x->what, v, sizeof(x->what));
	return 0;
}

static int
posts_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct posts *ps = arg;
	uint64_t id;

	if (klen == 1 + GEN_LEN)
		return 0;
	if (klen != LIST_KEYLEN || vlen < 8) {
		ps->bad = 1;
		return 1;
	}
	if (k[LIST_KIND] != ps->kind)
		return 0;
	id = be64_get(k + LIST_KIND + 1 + 16);
	if (posts_add(ps, k + LIST_KIND + 1, ps->kind, id) != 0)
		ps->bad = 1;
	for (size_t i = 8; i < vlen && !ps->bad;) {
		uint64_t d = 0;

		for (int shift = 0; i < vlen; shift += 7) {
			d |= (uint64_t)(v[i] & 0x7f) << shift;
			if (!(v[i++] & 0x80))
				break;
		}
		id += d;
		if (posts_add(ps, k + LIST_KIND + 1, ps->kind, id) != 0)
			ps->bad = 1;
	}
	if (!ps->bad && id != be64_get(v))
		ps->bad = 1;		/* a chunk's last id leads its value */
	return ps->bad;
}

static int
post_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct post));
}

static int
posts_of(struct dev *v, uint8_t type, struct posts *ps)
{
	uint8_t word = INDEX_WORD;	/* every list is a 'W' key */
	size_t out = 1;

	memset(ps, 0, sizeof(*ps));
	ps->kind = type;
	if (store_begin(v->d.st, STORE_RDONLY, &ps->t) != 0)
		return -1;
	if (store_scan(ps->t, TABLE_INDEX, &word, 1, 0, posts_cb, ps) != 0)
		ps->bad = 1;
	store_abort(ps->t);
	if (ps->n > 1)
		qsort(ps->p, ps->n, sizeof(*ps->p), post_cmp);
	/* A word is in the vocabulary of each generation that holds its
	 * list, so maybe in several: counted once. */
	for (size_t i = 1; i < ps->n; i++)
		if (post_cmp(&ps->p[out - 1], &ps->p[i]) != 0)
			ps->p[out++] = ps->p[i];
		else if (type == INDEX_WORD)
			ps->bad = 1;	/* a record twice in one list */
	if (ps->n > 0)
		ps->n = out;
	return ps->bad ? -1 : 0;
}

/* 1 if some 'W' list of ws has word id (the first 8 bytes of its hash). */
static int
posts_has_word(const struct posts *ws, const uint8_t *word_id)
{
	for (size_t i = 0; i < ws->n; i++)
		if (memcmp(ws->p[i].h, word_id, 8) == 0)
			return 1;
	return 0;
}

/* The word lists are equal. The vocabulary of the batched store is the
 * other's but for words only ever held inside the transaction: a word
 * stays in the vocabulary once written (see search.c). A store whose
 * lists do not read fails the check, with nothing left unset to free. */
static int
batch_lists_same(struct dev *a, struct dev *b)
{
	struct posts wa = { 0 }, wb = { 0 }, va = { 0 }, vb = { 0 };
	int ok = posts_of(a, INDEX_WORD, &wa) == 0 &&
	    posts_of(b, INDEX_WORD, &wb) == 0 &&
	    posts_of(a, INDEX_VOCAB, &va) == 0 &&
	    posts_of(b, INDEX_VOCAB, &vb) == 0 && wa.n > 0 && va.n > 0;
	size_t j = 0;

	if (ok && (wa.n != wb.n ||
	    memcmp(wa.p, wb.p, wa.n * sizeof(*wa.p)) != 0)) {
		printf("#   word lists differ: %zu and %zu entries\n", wa.n,
		    wb.n);
		ok = 0;
	}
	for (size_t i = 0; ok && i < va.n; i++) {
		if (j < vb.n && post_cmp(&va.p[i], &vb.p[j]) == 0)
			j++;
		else if (posts_has_word(&wb, va.p[i].what)) {
			printf("#   the batched vocabulary lacks a word\n");
			ok = 0;
		}
	}
	if (ok && j != vb.n) {
		printf("#   the batched vocabulary has a word the other "
		    "lacks\n");
		ok = 0;
	}
	free(wa.p);
	free(wb.p);
	free(va.p);
	free(vb.p);
	return ok;
}

static void
test_batched_index(void)
{
	uint8_t ids[BATCH_NOTES][PROTO_RECIDLEN];
	uint64_t ra = 0x9e3779b97f4a7c15, rb = ra;
	size_t ma = 0, mb = 0;
	struct store_txn *ta, *tb;
	struct dev a, b;
	int ok = 1;

	if (dev_open_zoe(&a) != 0 || dev_open_zoe(&b) != 0) {
		CHECK(!"two devices");
		return;
	}
	/* b's index under a's key, so that their lists compare. */
	CHECK(store_share_key(b.d.st, a.d.st) == 0);
	CHECK(store_rebuild(b.d.st, b.d.keyring) == 0);
	/* and a's student instead of its own. */
	CHECK(tombstone(&b, KIND_STUDENT, b.student, 1) == 0);
	memcpy(b.student, a.student, sizeof(a.student));
	memcpy(b.student_hex, a.student_hex, sizeof(a.student_hex));
	{
		const char *fv[] = { "name", "Zo\xc3\xab Dubois", "class",
		    "3B", "interests", "volcanoes", NULL };

		CHECK(write_fields(&b, KIND_STUDENT, b.student, fv) == 0);
	}
	for (size_t i = 0; i < BATCH_NOTES; i++)
		randombytes_buf(ids[i], PROTO_RECIDLEN);
	CHECK(store_begin(b.d.st, 0, &tb) == 0);
	for (int op = 0; op < BATCH_OPS && ok; op++) {
		ok &= store_begin(a.d.st, 0, &ta) == 0;
		ok &= batch_step(&a, ta, &ra, ids, &ma) == 0;
		ok &= store_commit(ta) == 0;
		ok &= batch_step(&b, tb, &rb, ids, &mb) == 0;
		/* Searches inside the open transaction see its writes. */
		if (op == BATCH_OPS / 2 || op == BATCH_OPS / 2 + 7) {
			ok &= store_begin(a.d.st, STORE_RDONLY, &ta) == 0;
			for (size_t q = 0; q < LEN(batch_queries); q++)
				ok &= batch_same(ta, tb, batch_queries[q]);
			store_abort(ta);
		}
	}
	CHECK(ok);
	CHECK(store_commit(tb) == 0);
	CHECK(store_begin(a.d.st, STORE_RDONLY, &ta) == 0);
	CHECK(store_begin(b.d.st, STORE_RDONLY, &tb) == 0);
	for (size_t q = 0; q < LEN(batch_queries); q++)
		CHECK(batch_same(ta, tb, batch_queries[q]));
	store_abort(ta);
	store_abort(tb);
	CHECK(batch_lists_same(&a, &b));
	/* An aborted transaction's gathered words go with it. */
	CHECK(store_begin(b.d.st, 0, &tb) == 0);
	CHECK(batch_step(&b, tb, &rb, ids, &mb) == 0);
	store_abort(tb);
	CHECK(batch_lists_same(&a, &b));
	dev_close(&a);
	dev_close(&b);
}

/* How many of the n notes' words words[i] start with prefix. */
static int
count_prefixed(char (*words)[16], int n, const char *prefix)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += strncmp(words[i], prefix, strlen(prefix)) == 0;
	return c;
}

/*
 * A flush of thousands of words, as a sync's commit makes: their
 * prefixes ("k", "k1", "k12", ...) each listed under many words, words
 * given ids out of order and taken away again in the transaction, and
 * lists that grow from one id. Each prefix finds exactly the notes whose
 * word it starts.
 */
#define FLUSH_NOTES	2000

static void
test_flush_many(void)
{
	static const char *const queries[] = { "k", "k1", "k12", "k123",
	    "k1999", "k7", "k70", "k700", "k0", "late", "pair", "shared" };
	static uint8_t ids[FLUSH_NOTES][PROTO_RECIDLEN];
	static char words[FLUSH_NOTES][16];
	struct store_txn *t;
	struct posts ps;
	struct found f;
	char a[64];
	struct dev v;
	int ok = 1;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	CHECK(store_begin(v.d.st, 0, &t) == 0);
	for (int i = 0; i < FLUSH_NOTES && ok; i++) {
		const char *fv[] = { "student", v.student_hex, "date",
		    "2026-10-01", "strengths", "shared words", "action", a,
		    NULL };

		snprintf(words[i], sizeof(words[i]), "k%d", i);
		snprintf(a, sizeof(a), "%s", words[i]);
		randombytes_buf(ids[i], PROTO_RECIDLEN);
		ok &= write_fields_in(&v, t, KIND_NOTE, ids[i], fv) == 0;
	}
	/* Later writes to earlier notes, last first: "late" gains ids in
	 * decreasing order; every third note's number goes, for another. */
	for (int i = FLUSH_NOTES - 1; i >= 0 && ok; i -= 3) {
		const char *fv[] = { "action", a, NULL };

		snprintf(words[i], sizeof(words[i]), "late");
		snprintf(a, sizeof(a), "%s", words[i]);
		ok &= write_fields_in(&v, t, KIND_NOTE, ids[i], fv) == 0;
	}
	for (int i = 5; i >= 3 && ok; i -= 2) {
		const char *fv[] = { "action", "pair", NULL };

		snprintf(words[i], sizeof(words[i]), "pair");
		ok &= write_fields_in(&v, t, KIND_NOTE, ids[i], fv) == 0;
	}
	CHECK(ok);
	CHECK(store_commit(t) == 0);
	for (size_t q = 0; q < LEN(queries); q++) {
		int want = strcmp(queries[q], "shared") == 0 ? FLUSH_NOTES :
		    count_prefixed(words, FLUSH_NOTES, queries[q]);
		int n = search(&v, queries[q], &f);

		if (n != want)
			printf("#   '%s' found %d notes, not %d\n", queries[q],
			    n, want);
		CHECK(n == want);
	}
	/* No record twice in a list. */
	CHECK(posts_of(&v, INDEX_WORD, &ps) == 0 && ps.n > FLUSH_NOTES);
	free(ps.p);
	dev_close(&v);
}

/* The records table's pages, and the bytes its entries take in them
 * (key, value, LMDB's 8-byte node header and 2-byte slot). */
struct fill_walk {
	size_t		 n, bytes;
	uint64_t	 last;
	int		 ordered;
};

static int
fill_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct fill_walk *w = arg;

	(void)v;
	if (klen != 8 || be64_get(k) <= w->last)
		w->ordered = 0;
	if (klen == 8)
		w->last = be64_get(k);
	w->n++;
	w->bytes += klen + vlen + 8 + 2;
	return 0;
}

/*
 * A sync's new records arrive under random ids, several commits of
 * them. They are kept under their docids, in order, so the table's pages
 * are filled to the end (LMDB appends) instead of split in halves at
 * random places, where each later commit rewrote most of them.
 */
static void
test_records_fill(void)
{
	const char *fv[] = { "student", NULL, "date", "2026-10-01",
	    "strengths", "reads aloud", "obstacle", "none",
	    "action", "more of the same", NULL };
	struct fill_walk w = { 0, 0, 0, 1 };
	uint8_t id[PROTO_RECIDLEN];
	struct store_txn *t;
	struct dev v;
	MDB_stat ms;
	size_t pages;
	int ok = 1;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	fv[1] = v.student_hex;
	for (int c = 0; c < 12 && ok; c++) {
		ok &= store_begin(v.d.st, 0, &t) == 0;
		for (int i = 0; i < 100 && ok; i++) {
			randombytes_buf(id, sizeof(id));
			ok &= write_fields_in(&v, t, KIND_NOTE, id, fv) == 0;
		}
		ok &= store_commit(t) == 0;
	}
	CHECK(ok);
	CHECK(store_begin(v.d.st, STORE_RDONLY, &t) == 0);
	CHECK(store_scan(t, TABLE_RECORDS, (const uint8_t *)"", 0, 0, fill_cb,
	    &w) == 0);
	CHECK(mdb_stat(t->txn, v.d.st->dbi[TABLE_RECORDS], &ms) == 0);
	store_abort(t);
	CHECK(w.n >= 1200);
	CHECK(w.ordered);		/* docids, each past the last */
	/* Pages full up to the record that did not fit (a record is about
	 * 1/16 of a page): random keys left them about 2/3 full. */
	pages = (w.bytes + ms.ms_psize - 17) / (ms.ms_psize - 16);
	if (ms.ms_leaf_pages > pages + pages / 10 + 1)
		printf("#   %zu records in %zu leaf pages; %zu would hold them\n",
		    w.n, (size_t)ms.ms_leaf_pages, pages);
	CHECK(ms.ms_leaf_pages <= pages + pages / 10 + 1);
	/* And each is found again by its id. */
	CHECK(store_begin(v.d.st, STORE_RDONLY, &t) == 0);
	{
		struct record *r = NULL;

		CHECK(store_record_get(t, KIND_NOTE, id, &r) == 0 &&
		    r != NULL);
		record_free(r);
	}
	store_abort(t);
	dev_close(&v);
}

/* Where each word-index key ('W' and 'V') lies: its bytes and the page
 * that holds it, in key order (a read-only transaction's keys point into
 * the map). */
struct key_pages {
	uint8_t		*base;
	size_t		 psize;
	size_t		 n, cap;
	struct key_page {
		uint8_t	 k[64];
		size_t	 len;
		size_t	 page;
	}		*kp;
	int		 oom;
};

static int
key_pages_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct key_pages *w = arg;
	struct key_page *x;

	(void)v;
	(void)vlen;
	if (klen == 0 || klen > sizeof(w->kp->k) ||
	    (k[0] != INDEX_WORD && k[0] != INDEX_VOCAB))
		return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 1024;
		if ((x = realloc(w->kp, w->cap * sizeof(*x))) == NULL) {
			w->oom = 1;
			return 1;
		}
		w->kp = x;
	}
	x = &w->kp[w->n++];
	memcpy(x->k, k, klen);
	x->len = klen;
	x->page = (size_t)(k - w->base) / w->psize;
	return 0;
}

static int
key_pages_of(struct dev *v, struct key_pages *w)
{
	struct store_txn *t;
	MDB_envinfo info;
	MDB_stat ms;
	int rc;

	memset(w, 0, sizeof(*w));
	if (mdb_env_info(v->d.st->env, &info) != 0 ||
	    mdb_env_stat(v->d.st->env, &ms) != 0 ||
	    store_begin(v->d.st, STORE_RDONLY, &t) != 0)
		return -1;
	w->base = info.me_mapaddr;
	w->psize = ms.ms_psize;
	rc = store_scan(t, TABLE_INDEX, (const uint8_t *)"", 0, 0,
	    key_pages_cb, w);
	store_abort(t);
	return rc == 0 && !w->oom ? 0 : -1;
}

static int
size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* How many pages hold keys of before that were written again since
 * (a key still there, on another page: its page was copied). */
static size_t
pages_rewritten(const struct key_pages *before, const struct key_pages *now)
{
	size_t *pages = malloc((before->n + 1) * sizeof(*pages));
	size_t i = 0, j = 0, n = 0, distinct = 0;

	if (pages == NULL)
		return SIZE_MAX;
	while (i < before->n && j < now->n) {
		const struct key_page *a = &before->kp[i], *b = &now->kp[j];
		size_t len = a->len < b->len ? a->len : b->len;
		int c = memcmp(a->k, b->k, len);

		if (c == 0)
			c = (a->len > b->len) - (a->len < b->len);
		if (c == 0 && a->page != b->page)
			pages[n++] = b->page;
		i += c <= 0;
		j += c >= 0;
	}
	qsort(pages, n, sizeof(*pages), size_cmp);
	for (i = 0; i < n; i++)
		distinct += i == 0 || pages[i] != pages[i - 1];
	free(pages);
	return distinct;
}

/* A note of random 8-letter words, and two words every note has. */
static int
note_in(struct dev *v, struct store_txn *t, uint8_t id[PROTO_RECIDLEN])
{
	char s[64], o[64];
	const char *fv[] = { "student", v->student_hex, "date", "2026-10-01",
	    "strengths", s, "obstacle", o, "action", "common words", NULL };
	uint8_t r[16];

	randombytes_buf(r, sizeof(r));
	for (int i = 0; i < 8; i++) {
		s[i] = (char)('a' + r[i] % 26);
		o[i] = (char)('a' + r[8 + i] % 26);
	}
	s[8] = o[8] = '\0';
	randombytes_buf(id, PROTO_RECIDLEN);
	return write_fields_in(v, t, KIND_NOTE, id, fv);
}

/* The word index's generations, from its list of them. */
static size_t
generations(struct dev *v)
{
	static const uint8_t key[] = { INDEX_WORD, 0, 0, 0, 0 };
	struct store_txn *t;
	const void *val;
	size_t len = 0;

	if (store_begin(v->d.st, STORE_RDONLY, &t) != 0)
		return SIZE_MAX;
	if (store_get(t, TABLE_INDEX, key, sizeof(key), &val, &len) != 0)
		len = SIZE_MAX;
	store_abort(t);
	return len == SIZE_MAX ? len : len / (GEN_LEN + 8);
}

/*
 * A commit of new notes writes its word-index keys together: as a new
 * generation at the end of the 'W' and 'V' keys, not into the lists of
 * each word and prefix it holds, scattered by hash over the index, where
 * every commit of a sync copied most of the index's pages. And the
 * generations stay few as commits add them: merged as they accumulate.
 */
static void
test_index_appends(void)
{
	uint8_t id[PROTO_RECIDLEN];
	struct key_pages before, now;
	struct store_txn *t;
	struct dev v;
	size_t rewritten, gens;
	int ok = 1;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	for (int c = 0; c < 30 && ok; c++) {
		ok &= store_begin(v.d.st, 0, &t) == 0;
		for (int i = 0; i < 100 && ok; i++)
			ok &= note_in(&v, t, id) == 0;
		ok &= store_commit(t) == 0;
	}
	CHECK(ok);
	gens = generations(&v);
	if (gens == SIZE_MAX)
		printf("#   no list of the word index's generations\n");
	else if (gens > 16)
		printf("#   %zu generations after 30 commits\n", gens);
	CHECK(gens >= 1 && gens <= 16);	/* search.c's GENS_FEW */
	CHECK(key_pages_of(&v, &before) == 0 && before.n > 3000);
	CHECK(store_begin(v.d.st, 0, &t) == 0);
	for (int i = 0; i < 100 && ok; i++)
		ok &= note_in(&v, t, id) == 0;
	CHECK(ok && store_commit(t) == 0);
	CHECK(key_pages_of(&v, &now) == 0);
	rewritten = pages_rewritten(&before, &now);
	if (rewritten > 16)
		printf("#   the commit copied %zu pages of the index's words\n",
		    rewritten);
	CHECK(rewritten <= 16);
	free(before.kp);
	free(now.kp);
	/* The notes of every generation are found. */
	{
		struct found f;

		CHECK(search(&v, "common", &f) == 3100);
	}
	dev_close(&v);
}

/* --- Words worked out off the store (store_words_pre): the receiver's
 * worker does it for each change, the apply takes them only for a new
 * record whose texts are the change's, and then they must be exactly
 * what the record's own extraction gives. */

static int
none_applied(void *arg, const struct write_ref *ref,
    uint8_t hash[PROTO_HASHLEN])
{
	(void)arg;
	(void)ref;
	(void)hash;
	return 0;
}

/* The record c makes alone, with extra (a change, or NULL) applied
 * after it as another entry. */
static struct record *
record_of(const struct change *c, const struct change *extra)
{
	struct rec_oracle o = { none_applied, NULL };
	struct write_ref ref = { .seq = 1, .has_hash = 1 };
	struct record *r = record_new(c->kind, c->record_id);

	randombytes_buf(ref.author, sizeof(ref.author));
	randombytes_buf(ref.hash, sizeof(ref.hash));
	for (size_t i = 0; r != NULL && i < c->nops; i++)
		if (record_apply(r, 100, &ref, &c->ops[i], &o) != 0) {
			record_free(r);
			return NULL;
		}
	if (r != NULL)
		record_settle(r, &ref);
	ref.seq = 2;
	randombytes_buf(ref.hash, sizeof(ref.hash));
	for (size_t i = 0; r != NULL && extra != NULL && i < extra->nops; i++)
		if (record_apply(r, 200, &ref, &extra->ops[i], &o) != 0) {
			record_free(r);
			return NULL;
		}
	if (r != NULL && extra != NULL)
		record_settle(r, &ref);
	return r;
}

/* store_words_pre_check of the change fv makes (kind, name value
 * pairs), with extra's pairs written after it if any; -2 if
 * store_words_pre finds it is not a change it can work out. */
static int
pre_check(struct dev *v, uint8_t kind, const char *const *fv,
    const char *const *extra)
{
	uint8_t id[PROTO_RECIDLEN], wkey[STORE_WORDKEYLEN];
	struct store_words_buf b = { 0 };
	struct change c, x;
	struct record *r = NULL;
	struct store_txn *t;
	size_t off;
	int rc;

	randombytes_buf(id, sizeof(id));
	change_init(&c, kind, id);
	change_init(&x, kind, id);
	for (size_t i = 0; fv[i] != NULL; i += 2)
		if (change_set(&c, NULL, fv[i], fv[i + 1]) != 0)
			return -3;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i += 2)
		if (change_set(&x, NULL, extra[i], extra[i + 1]) != 0)
			return -3;
	if (store_word_key(v->d.st, wkey) != 0)
		return -3;
	if ((rc = store_words_pre(wkey, &c, &b, &off)) != 0) {
		free(b.p);
		return rc == 1 ? -2 : -3;
	}
	rc = -3;
	if ((r = record_of(&c, extra != NULL ? &x : NULL)) != NULL &&
	    store_begin(v->d.st, STORE_RDONLY, &t) == 0) {
		rc = store_words_pre_check(t, b.p + off, r);
		store_abort(t);
	}
	record_free(r);
	free(b.p);
	return rc;
}

static void
test_words_pre(void)
{
	static const char *const accents[] = { "student", "ab",
	    "date", "2026-10-01",
	    "strengths", "\xc3\x89lodie LIT \xc3\x80 VOIX HAUTE",
	    "obstacle", "dict\xc3\xa9" "e DICT\xc3\x89" "E DICTE\xcc\x81" "E",
	    "action", "\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91 Stra\xc3\x9f"
	    "e", NULL };
	static const char *const longw[] = { "action",
	    "Anticonstitutionnellement anticonstitutionnel "
	    "anticonstitutionnalit\xc3\xa9 x", "obstacle",
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", NULL };
	static const char *const repeated[] = { "strengths",
	    "the the THE The tHe", "obstacle", "the", "action", "the, the.",
	    NULL };
	static const char *const unsearched[] = { "student", "volcanoes",
	    "merged_into", "lava", "_hidden", "magma", "strengths", "rocks",
	    NULL };
	static const char *const empty[] = { "strengths", "", "obstacle",
	    " .,;- ", "action", "", NULL };
	static const char *const entry[] = { "title", "Volcanoes",
	    "body", "Lava flows; magma chambers.", "unit", "u1", NULL };
	static const char *const student[] = { "name", "Zo\xc3\xab Dubois",
	    "class", "3B", "interests", "volcanoes and VOLCANOES", NULL };
	static const char *const dup[] = { "action", "a", "action", "b",
	    NULL };
	static const char *const edit[] = { "action", "other words", NULL };
	static const char *const edit_same[] = { "action", "x", NULL };
	static const char *const deleted[] = { "_deleted", "1", NULL };
	char many[4096] = "", word[32];
	const char *manyfv[] = { "strengths", many, "obstacle", many,
	    NULL };
	struct dev v;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	for (int i = 0; i < 200; i++) {
		snprintf(word, sizeof(word), "%sw%d ", i % 3 ? "" : "\xc3\xa9",
		    i);
		strcat(many, word);
	}
	/* Taken, and the same as the record's own. */
	CHECK(pre_check(&v, KIND_NOTE, accents, NULL) == 1);
	CHECK(pre_check(&v, KIND_NOTE, longw, NULL) == 1);
	CHECK(pre_check(&v, KIND_NOTE, repeated, NULL) == 1);
	CHECK(pre_check(&v, KIND_NOTE, unsearched, NULL) == 1);
	CHECK(pre_check(&v, KIND_NOTE, empty, NULL) == 1);
	CHECK(pre_check(&v, KIND_NOTE, manyfv, NULL) == 1);
	CHECK(pre_check(&v, KIND_ENTRY, entry, NULL) == 1);
	CHECK(pre_check(&v, KIND_STUDENT, student, NULL) == 1);
	/* Not taken: the record's texts are not the change's. */
	CHECK(pre_check(&v, KIND_NOTE, longw, edit) == 0);
	CHECK(pre_check(&v, KIND_NOTE, repeated, edit_same) == 0);
	CHECK(pre_check(&v, KIND_NOTE, accents, deleted) == 0);
	/* Not worked out: a kind search does not find, a register set
	 * twice. */
	CHECK(pre_check(&v, KIND_GROUP, accents, NULL) == -2);
	CHECK(pre_check(&v, KIND_NOTE, dup, NULL) == -2);
	dev_close(&v);
}

/* Through the apply: a note written with its words worked out finds
 * as one written without; an edit, or another key, does not take them. */
/* Writes c, or with fv those fields to c's record, in a transaction
 * offered pre as the words of its next record: how many records took
 * them, or -1 if the write failed. */
static int
hinted_write(struct dev *v, const uint8_t *wkey, const void *pre,
    const struct change *c, const char *const *fv)
{
	struct store_txn *t;
	size_t taken;
	int rc;

	if (store_begin(v->d.st, 0, &t) != 0)
		return -1;
	store_words_hint(t, wkey, pre);
	rc = fv == NULL ? device_write(&v->d, t, c) :
	    write_fields_in(v, t, c->kind, c->record_id, fv);
	taken = t->words_taken;
	if (rc != 0) {
		store_abort(t);
		return -1;
	}
	return store_commit(t) == 0 ? (int)taken : -1;
}

static void
test_words_hint(void)
{
	uint8_t id[PROTO_RECIDLEN], wkey[STORE_WORDKEYLEN];
	struct store_words_buf b = { 0 };
	struct change c;
	size_t off;
	struct dev v;
	int ok = 1;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	randombytes_buf(id, sizeof(id));
	change_init(&c, KIND_NOTE, id);
	ok &= change_set(&c, NULL, "student", v.student_hex) == 0;
	ok &= change_set(&c, NULL, "strengths", "Reads ALOUD with "
	    "\xc3\xa9" "lan") == 0;
	ok &= change_set(&c, NULL, "action", "Anticonstitutionnellement") == 0;
	ok &= store_word_key(v.d.st, wkey) == 0;
	ok &= store_words_pre(wkey, &c, &b, &off) == 0;
	CHECK(ok);
	CHECK(hinted_write(&v, wkey, b.p + off, &c, NULL) == 1);
	CHECK(finds(&v, "elan", id));
	CHECK(finds(&v, "aloud", id));
	CHECK(finds(&v, "anticonstitutionnellement", id));
	CHECK(finds(&v, "anticonst", id));
	/* The record is there now: an edit computes its own. */
	CHECK(hinted_write(&v, wkey, b.p + off, &c, (const char *[]){
	    "strengths", "Reads ALOUD with \xc3\xa9lan", NULL }) == 0);
	/* Another key's words are not taken. */
	randombytes_buf(id, sizeof(id));
	memcpy(c.record_id, id, sizeof(id));
	free(b.p);
	memset(&b, 0, sizeof(b));
	wkey[0] ^= 1;
	CHECK(store_words_pre(wkey, &c, &b, &off) == 0);
	CHECK(hinted_write(&v, wkey, b.p + off, &c, NULL) == 0);
	{
		struct found f;

		CHECK(search(&v, "elan", &f) == 2);
	}
	free(b.p);
	dev_close(&v);
}

/* A's log, copied out, to apply to other stores. */
struct envs {
	size_t	 n;
	uint8_t	*p[16];
	size_t	 len[16];
};

static int
envs_cb(const uint8_t *env, size_t len, void *arg)
{
	struct envs *es = arg;

	if (es->n == 16 || (es->p[es->n] = malloc(len)) == NULL)
		return -1;
	memcpy(es->p[es->n], env, len);
	es->len[es->n++] = len;
	return 0;
}

/* The record number the worker seals a new record under: the store's
 * next reserved one, or with low_docid set, one the table has passed
 * already, which the apply must seal again under its own. */
static int low_docid;

static uint64_t
pre_docid(struct store *st)
{
	uint64_t d = store_docids_reserve(st, 1);

	return low_docid ? 1 : d;
}

/* Applies env to st in t, offering what the receiver's worker would
 * have worked out ahead (daemon/net/rxprep.c): the change's words and the
 * new record, sealed with sl (NULL: not sealed) under docid. */
static int
apply_at(struct store *st, struct store_txn *t,
    const struct store_keyring *kr, const uint8_t *env, size_t len,
    struct store_sealer *sl, uint64_t docid)
{
	static struct change c;
	struct store_words_buf wb = { 0 }, rb = { 0 };
	uint8_t hash[PROTO_HASHLEN], wkey[STORE_WORDKEYLEN], *pt = NULL;
	const struct store_key *k;
	struct envelope e;
	const char *why;
	size_t woff, roff;
	int rc, words;

	if (proto_envelope_decode(&e, env, len) == 0 &&
	    (k = store_keyring_find(kr, e.key_id)) != NULL &&
	    (pt = malloc(e.ciphertext_len + 1)) != NULL &&
	    store_word_key(st, wkey) == 0) {
		proto_envelope_hash(&e, hash);
		if (proto_entry_read(&e, k->key, k->use, &c, pt, &why) == 0) {
			words = store_words_pre(wkey, &c, &wb, &woff) == 0;
			if (words)
				store_words_hint(t, wkey, wb.p + woff);
			if (store_record_pre(&e, hash, &c, words ?
			    wb.p + woff : NULL, sl, docid, &rb, &roff) == 0)
				store_record_hint(t, rb.p + roff, sl);
		}
	}
	rc = store_apply_entry(t, kr, env, len, 1);
	store_words_hint(t, NULL, NULL);
	store_record_hint(t, NULL, NULL);
	free(pt);
	free(wb.p);
	free(rb.p);
	return rc;
}

/* A sealer with w's seal key, sodium_malloc'd, or NULL. */
static struct store_sealer *
sealer_new(struct dev *w)
{
	struct store_sealer *sl = sodium_malloc(sizeof(*sl));

	if (sl != NULL && store_sealer_init(w->d.st, sl) != 0) {
		sodium_free(sl);
		sl = NULL;
	}
	return sl;
}

/* apply_at with (hint) or without the worker's work, under the next
 * reserved number (pre_docid). */
static int
apply_hinted(struct dev *w, struct store_txn *t,
    const struct store_keyring *kr, const uint8_t *env, size_t len,
    int hint)
{
	struct store_sealer *sl;
	int rc;

	if (!hint)
		return store_apply_entry(t, kr, env, len, 1);
	sl = sealer_new(w);
	rc = apply_at(w->d.st, t, kr, env, len, sl, pre_docid(w->d.st));
	sodium_free(sl);
	return rc;
}

/* The notes and counts w shows for A's student, and its digest kept as
 * it should be. */
static int
same_view(struct dev *a, struct dev *w, const uint8_t (*ids)[PROTO_RECIDLEN],
    size_t n)
{
	const char *q[] = { "elan", "aloud", "anticonst", "fractions",
	    "dictee", "magma" };
	uint8_t d1[PROTO_HASHLEN], d2[PROTO_HASHLEN];
	struct store_txn *t;
	uint64_t count = 0;
	int ok = 1;

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		struct found fa, fw;
		int na = search(a, q[i], &fa), nw = search(w, q[i], &fw);

		if (na != nw || na < 0)
			printf("#   '%s': %d and %d\n", q[i], na, nw);
		ok &= na == nw && na >= 0;
		for (int j = 0; ok && j < na; j++) {
			int hit = 0;

			for (int m = 0; m < nw; m++)
				hit |= memcmp(fa.ids[j], fw.ids[m],
				    PROTO_RECIDLEN) == 0;
			ok &= hit;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct record *r = NULL;

		if (store_begin(w->d.st, STORE_RDONLY, &t) != 0)
			return 0;
		ok &= store_record_get(t, i < 3 ? KIND_NOTE : KIND_ENTRY,
		    ids[i], &r) == 0 && record_get(r, "student") != NULL;
		record_free(r);
		store_abort(t);
	}
	if (store_begin(w->d.st, STORE_RDONLY, &t) != 0)
		return 0;
	ok &= store_student_count(t, a->student, &count) == 0 && count == n;
	if (count != n)
		printf("#   %llu notes counted\n", (unsigned long long)count);
	ok &= store_digest(t, d1) == 0 && store_digest_scan(t, d2) == 0 &&
	    memcmp(d1, d2, sizeof(d1)) == 0;
	store_abort(t);
	return ok;
}

/* A portfolio entry with a tag: its words are not worked out ahead. */
static int
tagged_entry(struct dev *a, const uint8_t *id)
{
	struct change c;
	struct store_txn *t;
	int rc;

	change_init(&c, KIND_ENTRY, id);
	if ((rc = change_set(&c, NULL, "student", a->student_hex)) != 0 ||
	    (rc = change_set(&c, NULL, "title", "Elan")) != 0 ||
	    (rc = change_add(&c, "tags", "reading")) != 0 ||
	    (rc = store_begin(a->d.st, 0, &t)) != 0)
		return rc;
	if ((rc = device_write(&a->d, t, &c)) != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

/* New notes applied with what the worker worked out ahead (their
 * records, index keys and words: store_record_pre), and sealed there
 * under numbers reserved for them, read exactly as those applied without
 * it; so do those whose numbers the table has passed, which the apply
 * seals again. An edit, an entry with tags (no words ahead) and an entry
 * offered twice take the long way. */
static void
test_record_hint(void)
{
	uint8_t ids[4][PROTO_RECIDLEN];
	struct dev a, w[3];
	struct envs es = { 0 };
	struct store_txn *t;
	size_t taken[3] = { 0, 0, 0 }, sealed[3] = { 0, 0, 0 };
	int ok = 1;

	if (dev_open_zoe(&a) != 0 || dev_open_zoe(&w[0]) != 0 ||
	    dev_open_zoe(&w[1]) != 0 || dev_open_zoe(&w[2]) != 0) {
		CHECK(!"four devices");
		return;
	}
	ok &= note(&a, ids[0], "Reads ALOUD with \xc3\xa9lan", "Fractions",
	    "Anticonstitutionnellement") == 0;
	ok &= note(&a, ids[1], "Counts on", "Dict\xc3\xa9" "e", "Pairs") == 0;
	ok &= note(&a, ids[2], "Asks why", "fractions again", "Magma") == 0;
	ok &= write_fields(&a, KIND_NOTE, ids[0], (const char *[]){
	    "action", "Anticonstitutionnel", NULL }) == 0;
	randombytes_buf(ids[3], PROTO_RECIDLEN);
	ok &= tagged_entry(&a, ids[3]) == 0;
	CHECK(ok);
	CHECK(store_begin(a.d.st, STORE_RDONLY, &t) == 0);
	CHECK(store_log_each(t, envs_cb, &es) == 0);
	store_abort(t);
	for (int h = 0; h < 3; h++) {
		low_docid = h == 2;	/* numbers passed: sealed again */
		CHECK(store_begin(w[h].d.st, 0, &t) == 0);
		for (size_t i = 0; i < es.n; i++)
			CHECK(apply_hinted(&w[h], t, a.d.keyring, es.p[i],
			    es.len[i], h != 1) == 0);
		CHECK(apply_hinted(&w[h], t, a.d.keyring, es.p[1], es.len[1],
		    h != 1) == STORE_EDUP);
		taken[h] = t->recs_taken;
		sealed[h] = t->recs_sealed;
		CHECK(store_commit(t) == 0);
		CHECK(same_view(&a, &w[h], ids, 4));
	}
	low_docid = 0;
	printf("# %zu of %zu entries taken as worked out ahead, %zu of them "
	    "as sealed there\n", taken[0], es.n, sealed[0]);
	CHECK(taken[0] == 3 && taken[1] == 0 && taken[2] == 3);
	CHECK(sealed[0] == 3 && sealed[1] == 0 && sealed[2] == 0);
	for (size_t i = 0; i < es.n; i++)
		free(es.p[i]);
	dev_close(&a);
	dev_close(&w[0]);
	dev_close(&w[1]);
	dev_close(&w[2]);
}

/* A's log as in test_record_hint: its student, three new notes, an edit
 * and a tagged entry; ids as same_view reads them. */
static int
record_hint_log(struct dev *a, uint8_t (*ids)[PROTO_RECIDLEN],
    struct envs *es)
{
	struct store_txn *t;
	int ok = 1;

	ok &= note(a, ids[0], "Reads ALOUD with \xc3\xa9lan", "Fractions",
	    "Anticonstitutionnellement") == 0;
	ok &= note(a, ids[1], "Counts on", "Dict\xc3\xa9" "e", "Pairs") == 0;
	ok &= note(a, ids[2], "Asks why", "fractions again", "Magma") == 0;
	ok &= write_fields(a, KIND_NOTE, ids[0], (const char *[]){
	    "action", "Anticonstitutionnel", NULL }) == 0;
	randombytes_buf(ids[3], PROTO_RECIDLEN);
	ok &= tagged_entry(a, ids[3]) == 0;
	if (!ok || store_begin(a->d.st, STORE_RDONLY, &t) != 0)
		return 0;
	ok &= store_log_each(t, envs_cb, es) == 0;
	store_abort(t);
	return ok;
}

/* Sealed ahead under numbers that do not come in the table's order: two
 * batches' numbers used the other way round (two peers' batches in one
 * group), a number the table has just passed (another process's write
 * in between: the hint is stale), the very next one, one far ahead (a
 * gap, which the table, the word index and later writes take), or a
 * sealer under another key. The apply puts as sealed exactly those
 * past the table's last and under its key, every record reads back, and
 * the next numbers reserved come past the gap. */
static void
test_record_sealed_order(void)
{
	uint8_t ids[4][PROTO_RECIDLEN], nid[PROTO_RECIDLEN];
	struct dev a, w[3];
	struct envs es = { 0 };
	struct store_txn *t;
	struct store_sealer *sl[3];
	uint64_t r1 = 0, r2 = 0, gap = 0, end = 0, d;
	size_t taken, sealed, bad = 0;

	if (dev_open_zoe(&a) != 0 || dev_open_zoe(&w[0]) != 0 ||
	    dev_open_zoe(&w[1]) != 0 || dev_open_zoe(&w[2]) != 0) {
		CHECK(!"four devices");
		return;
	}
	CHECK(record_hint_log(&a, ids, &es));
	for (int h = 0; h < 3; h++) {
		CHECK((sl[h] = sealer_new(&w[h])) != NULL);
		if (sl[h] == NULL)
			return;
	}
	sl[2]->key[0] ^= 1;		/* another store's */
	/* Two batches' numbers, the second's used first. */
	r1 = store_docids_reserve(w[0].d.st, es.n);
	r2 = store_docids_reserve(w[0].d.st, es.n);
	CHECK(r2 >= r1 + es.n);
	CHECK(store_begin(w[0].d.st, 0, &t) == 0);
	for (size_t i = 0; i < es.n; i++)
		CHECK(apply_at(w[0].d.st, t, a.d.keyring, es.p[i],
		    es.len[i], sl[0], t->recs_sealed == 0 ? r2 + i :
		    r1 + i) == 0);
	printf("# out of order: %zu taken, %zu as sealed\n", t->recs_taken,
	    t->recs_sealed);
	CHECK(t->recs_taken == 3 && t->recs_sealed == 1);
	CHECK(store_commit(t) == 0);
	/* Each pre in turn one below the table's next, the next, far past. */
	CHECK(store_begin(w[1].d.st, 0, &t) == 0);
	for (size_t i = 0; i < es.n; i++) {
		size_t k = t->recs_taken % 3;

		taken = t->recs_taken;
		sealed = t->recs_sealed;
		if (t->next_docid == 0) {	/* not looked up yet */
			CHECK(apply_at(w[1].d.st, t, a.d.keyring, es.p[i],
			    es.len[i], NULL, 0) == 0);
			continue;
		}
		d = k == 0 ? t->next_docid - 1 : k == 1 ? t->next_docid :
		    t->next_docid + 1000;
		CHECK(apply_at(w[1].d.st, t, a.d.keyring, es.p[i],
		    es.len[i], sl[1], d) == 0);
		if (t->recs_taken > taken && k == 2)
			gap = d;
		if (t->recs_taken > taken)
			bad += t->recs_sealed - sealed != (k != 0);
	}
	CHECK(t->recs_taken == 3 && t->recs_sealed == 2 && bad == 0);
	CHECK(gap != 0 && t->next_docid > gap);	/* the tagged entry's */
	end = t->next_docid;
	CHECK(store_commit(t) == 0);
	/* A sealer under another key: sealed again, each. */
	CHECK(store_begin(w[2].d.st, 0, &t) == 0);
	for (size_t i = 0; i < es.n; i++)
		CHECK(apply_at(w[2].d.st, t, a.d.keyring, es.p[i],
		    es.len[i], sl[2], store_docids_reserve(w[2].d.st, 1)) == 0);
	CHECK(t->recs_taken == 3 && t->recs_sealed == 0);
	CHECK(store_commit(t) == 0);
	for (int h = 0; h < 3; h++)
		CHECK(same_view(&a, &w[h], ids, 4));
	/* Past the gap: the next reserved numbers and a local write. */
	CHECK(store_docids_reserve(w[1].d.st, 1) >= end);
	w[1].d.st->docid_ahead = 1;	/* as if stale, and not read yet */
	w[1].d.st->docid_read = 0;
	CHECK(store_docids_reserve(w[1].d.st, 1) == end);
	CHECK(note(&w[1], nid, "Late", "none", "Gap") == 0);
	CHECK(store_docids_reserve(w[1].d.st, 1) == end + 1);
	for (int h = 0; h < 3; h++) {
		sodium_free(sl[h]);
		dev_close(&w[h]);
	}
	for (size_t i = 0; i < es.n; i++)
		free(es.p[i]);
	dev_close(&a);
}

/* --- The fast path's claim in full: two stores under one key, one
 * given every hint, the other none, hold the same bytes in every table
 * (records compared as plaintext: their seals are random). */
struct tabsum {
	struct store_txn	*t;
	crypto_generichash_state h;
	int			 table, bad;
	size_t			 n;
};

static int
tabsum_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct tabsum *s = arg;
	uint8_t len[8], *pt = NULL;
	uint64_t docid;
	size_t ptlen;

	be64_put(len, klen);
	crypto_generichash_update(&s->h, len, 8);
	crypto_generichash_update(&s->h, k, klen);
	if (s->table == TABLE_RECORDS) {
		if (vlen < 1 + PROTO_RECIDLEN || recstore_unseal(s->t, v,
		    1 + PROTO_RECIDLEN, v + 1 + PROTO_RECIDLEN,
		    vlen - 1 - PROTO_RECIDLEN, &docid, &pt, &ptlen) != 0) {
			s->bad = 1;
			return 1;
		}
		v = pt;
		vlen = ptlen;
	}
	be64_put(len, vlen);
	crypto_generichash_update(&s->h, len, 8);
	crypto_generichash_update(&s->h, v, vlen);
	free(pt);
	s->n++;
	return 0;
}

static int
table_sum(struct store *st, int table, uint8_t out[32], size_t *n)
{
	struct tabsum s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.table = table;
	if (store_begin(st, STORE_RDONLY, &s.t) != 0)
		return -1;
	crypto_generichash_init(&s.h, NULL, 0, 32);
	rc = store_scan(s.t, table, NULL, 0, 0, tabsum_cb, &s);
	crypto_generichash_final(&s.h, out, 32);
	store_abort(s.t);
	*n = s.n;
	return rc != 0 || s.bad ? -1 : 0;
}

/* As apply_hinted, into a bare store; without hint, as a command applies
 * (nothing worked out ahead). */
static int
apply_hinted_st(struct store *st, struct store_txn *t,
    const struct store_keyring *kr, const uint8_t *env, size_t len,
    int hint)
{
	if (!hint)
		return store_apply_entry(t, kr, env, len, 1);
	/* No sealer: the record is numbered as the apply gives. */
	return apply_at(st, t, kr, env, len, NULL, 0);
}

static void
test_record_hint_tables(void)
{
	static const int tables[] = { TABLE_RECORDS, TABLE_INDEX,
	    TABLE_META, TABLE_HISTORY, TABLE_UNAPPLIED };
	static const char *tnames[] = { "records", "index", "meta",
	    "history", "unapplied" };
	uint8_t ids[8][PROTO_RECIDLEN], key[STORE_KEYLEN];
	uint8_t sum[2][32];
	struct store *st[2] = { NULL, NULL };
	char dir[2][64];
	struct dev a;
	struct envs es = { 0 };
	struct store_txn *t;
	size_t taken = 0, n[2];
	int ok = 1;

	if (dev_open_zoe(&a) != 0) {
		CHECK(!"a device");
		return;
	}
	ok &= note(&a, ids[0], "Reads ALOUD with \xc3\xa9lan", "Fractions",
	    "Anticonstitutionnellement") == 0;
	ok &= note(&a, ids[1], "Counts on", "Dict\xc3\xa9" "e", "Pairs") == 0;
	ok &= write_fields(&a, KIND_NOTE, ids[0], (const char *[]){
	    "action", "Anticonstitutionnel", NULL }) == 0;
	randombytes_buf(ids[2], PROTO_RECIDLEN);
	ok &= tagged_entry(&a, ids[2]) == 0;
	randombytes_buf(ids[3], PROTO_RECIDLEN);
	ok &= write_fields(&a, KIND_NOTE, ids[3], (const char *[]){
	    "student", a.student_hex, "strengths", "No date", NULL }) == 0;
	randombytes_buf(ids[4], PROTO_RECIDLEN);
	ok &= write_fields(&a, KIND_ENTRY, ids[4], (const char *[]){
	    "student", a.student_hex, "title", "Magma", "date",
	    "2026-11-02", NULL }) == 0;
	randombytes_buf(ids[5], PROTO_RECIDLEN);
	ok &= write_fields(&a, KIND_NOTE, ids[5], (const char *[]){
	    "strengths", "no student at all", NULL }) == 0;
	CHECK(ok);
	CHECK(store_begin(a.d.st, STORE_RDONLY, &t) == 0);
	CHECK(store_log_each(t, envs_cb, &es) == 0);
	store_abort(t);
	randombytes_buf(key, sizeof(key));
	for (int h = 0; h < 2; h++) {
		snprintf(dir[h], sizeof(dir[h]), "%s/satchel-rht.XXXXXX",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		CHECK(mkdtemp(dir[h]) != NULL);
		CHECK(store_open(&st[h], dir[h], STORE_CREATE) == 0);
		CHECK(store_set_key(st[h], key) == 0);
		CHECK(store_begin(st[h], 0, &t) == 0);
		for (size_t i = 0; i < es.n; i++)
			CHECK(apply_hinted_st(st[h], t, a.d.keyring, es.p[i],
			    es.len[i], h == 0) == 0);
		if (h == 0)
			taken = t->recs_taken;
		CHECK(store_commit(t) == 0);
	}
	printf("# %zu of %zu entries taken as worked out ahead\n", taken,
	    es.n);
	CHECK(taken > 0);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		CHECK(table_sum(st[0], tables[i], sum[0], &n[0]) == 0);
		CHECK(table_sum(st[1], tables[i], sum[1], &n[1]) == 0);
		if (n[0] != n[1] || memcmp(sum[0], sum[1], 32) != 0) {
			printf("#   table %s differs: %zu and %zu rows\n",
			    tnames[i], n[0], n[1]);
			CHECK(!"the same tables with and without hints");
		}
	}
	for (int h = 0; h < 2; h++) {
		store_close(st[h]);
		rmdir_all(dir[h]);
	}
	for (size_t i = 0; i < es.n; i++)
		free(es.p[i]);
	dev_close(&a);
}

TAP_MAIN(TAP_TEST(test_words), TAP_TEST(test_words_cap),
    TAP_TEST(test_prefix),
    TAP_TEST(test_search), TAP_TEST(test_index_opaque),
    TAP_TEST(test_digest_and_rebuild), TAP_TEST(test_batched_index),
    TAP_TEST(test_flush_many), TAP_TEST(test_records_fill),
    TAP_TEST(test_index_appends), TAP_TEST(test_words_pre),
    TAP_TEST(test_words_hint), TAP_TEST(test_record_hint),
    TAP_TEST(test_record_sealed_order),
    TAP_TEST(test_record_hint_tables))
