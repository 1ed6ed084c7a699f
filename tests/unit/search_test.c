/*
 * Search: how text splits into words (proto_text_words), the word index
 * kept on apply (store_search), the per-student count show pages by, and
 * the digest kept as records change. Each store test makes a real device
 * in a scratch directory and writes through the same path as `note add`.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"
#include "tap.h"

#define LEN(a)	(sizeof(a) / sizeof((a)[0]))

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

/* want: the folded words, separated by '|'. */
static int
words_are(const char *s, const char *want)
{
	struct words ws = { 0 };
	char got[1024] = "";

	if (proto_text_words(s, strlen(s), words_cb, &ws) != 0)
		return 0;
	for (int i = 0; i < ws.n; i++) {
		if (i > 0)
			strcat(got, "|");
		strcat(got, ws.w[i]);
	}
	if (strcmp(got, want) != 0)
		printf("#   words of '%s' are '%s', not '%s'\n", s, got, want);
	return strcmp(got, want) == 0;
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

static void
test_prefix(void)
{
	CHECK(proto_text_prefix("abcdef", 6, 3) == 3);
	CHECK(proto_text_prefix("abc", 3, 12) == 3);
	CHECK(proto_text_prefix("\xc3\xa9t\xc3\xa9", 5, 2) == 3);
	CHECK(proto_text_prefix("\xc3\xa9t\xc3\xa9", 5, 0) == 0);
	CHECK(proto_text_prefix("\xf0\x9f\x98\x80x", 5, 1) == 4);
}

/* A device in a scratch directory, with its store open. */
struct dev {
	char		dir[64];
	struct device	d;
	uint8_t		student[PROTO_RECIDLEN];
	char		student_hex[2 * PROTO_RECIDLEN + 1];
};

static void
rmdir_all(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && snprintf(path,
			    sizeof(path), "%s/%s", dir, de->d_name) <
			    (int)sizeof(path))
				unlink(path);
		closedir(d);
	}
	rmdir(dir);
}

/* Writes fields (name, value pairs, NULL-ended) to record id. */
static int
write_fields(struct dev *v, uint8_t kind, const uint8_t *id,
    const char *const *fv)
{
	struct store_txn *t;
	struct record *r = NULL;
	struct change c;
	int rc;

	if ((rc = store_begin(v->d.st, 0, &t)) != 0)
		return rc;
	if ((rc = store_record_get(t, kind, id, &r)) != 0 &&
	    rc != STORE_ENOTFOUND)
		goto out;
	change_init(&c, kind, id);
	rc = 0;
	for (size_t i = 0; fv[i] != NULL && rc == 0; i += 2)
		rc = change_set(&c, r, fv[i], fv[i + 1]);
	if (rc == 0)
		rc = device_write(&v->d, t, &c);
out:
	record_free(r);
	if (rc != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

static int
tombstone(struct dev *v, uint8_t kind, const uint8_t *id, int deleted)
{
	struct store_txn *t;
	struct record *r = NULL;
	struct change c;
	int rc;

	if ((rc = store_begin(v->d.st, 0, &t)) != 0)
		return rc;
	if ((rc = store_record_get(t, kind, id, &r)) == 0) {
		change_init(&c, kind, id);
		rc = change_tombstone(&c, r, deleted) != 0 ? STORE_ENOMEM :
		    device_write(&v->d, t, &c);
	}
	record_free(r);
	if (rc != 0) {
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
dev_open(struct dev *v)
{
	const char *fv[] = { "name", "Zo\xc3\xab Dubois", "class", "3B",
	    "interests", "volcanoes", NULL };
	int saved = dup(1);

	snprintf(v->dir, sizeof(v->dir), "%s/satchel-search.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(v->dir) == NULL)
		return -1;
	/* device_init prints the new device's id: not a TAP line. */
	fflush(stdout);
	if (freopen("/dev/null", "w", stdout) == NULL)
		return -1;
	if (device_init(v->dir, "Tester", 0) != 0)
		return -1;
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	if (device_open(&v->d, v->dir) != 0)
		return -1;
	randombytes_buf(v->student, sizeof(v->student));
	sodium_bin2hex(v->student_hex, sizeof(v->student_hex), v->student,
	    sizeof(v->student));
	return write_fields(v, KIND_STUDENT, v->student, fv);
}

static void
dev_close(struct dev *v)
{
	device_close(&v->d);
	rmdir_all(v->dir);
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

/* The records query finds: -1 on an error, else how many. */
static int
search(struct dev *v, const char *query, struct found *f)
{
	struct store_txn *t;
	int rc;

	memset(f, 0, sizeof(*f));
	if (store_begin(v->d.st, STORE_RDONLY, &t) != 0)
		return -1;
	rc = store_search(t, query, found_cb, f);
	store_abort(t);
	return rc == 0 ? f->n : -1;
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

	if (dev_open(&v) != 0) {
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

	p->keys++;
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
	struct plain p = { words, 0, 0 };
	uint8_t n1[PROTO_RECIDLEN], type;
	struct store_txn *t;
	struct dev v;

	if (dev_open(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	CHECK(note(&v, n1, "xylophone quartz", "o", "a") == 0);
	CHECK(finds(&v, "xylo quar", n1));
	CHECK(store_begin(v.d.st, STORE_RDONLY, &t) == 0);
	type = INDEX_WORD;
	CHECK(store_index_each(t, &type, 1, 0, plain_cb, &p) == 0);
	CHECK(p.keys >= 4);	/* the note's and the student's words */
	type = INDEX_VOCAB;
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

	if (dev_open(&v) != 0) {
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

TAP_MAIN(TAP_TEST(test_words), TAP_TEST(test_prefix),
    TAP_TEST(test_search), TAP_TEST(test_index_opaque),
    TAP_TEST(test_digest_and_rebuild))
