/*
 * Records and their per-student index (store/records.c): where a
 * student's 'S' and 'G' keys go. Each test makes a real device in a
 * scratch directory and writes through the same path as `note add`.
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

#define NOTES	48	/* in 4 transactions */
#define GOALS	12

static int
dev_open_zoe(struct dev *v)
{
	const char *fv[] = { "name", "Zo\xc3\xab Dubois", "class", "3B",
	    NULL };

	return dev_open(v, "records", fv);
}

/* A student's index keys of one type, in key order. */
struct keys {
	size_t	 n;
	uint8_t	 k[NOTES + 8][128];
	size_t	 len[NOTES + 8];
};

static int
keys_cb(const uint8_t *key, size_t len, void *arg)
{
	struct keys *ks = arg;

	if (ks->n == NOTES + 8 || len > sizeof(ks->k[0]))
		return 1;
	memcpy(ks->k[ks->n], key, len);
	ks->len[ks->n++] = len;
	return 0;
}

static int
student_keys(struct dev *v, uint8_t type, struct keys *ks)
{
	uint8_t prefix[1 + PROTO_RECIDLEN];
	struct store_txn *t;
	int rc;

	memset(ks, 0, sizeof(*ks));
	prefix[0] = type;
	memcpy(prefix + 1, v->student, PROTO_RECIDLEN);
	if ((rc = store_begin(v->d.st, STORE_RDONLY, &t)) != 0)
		return rc;
	rc = store_index_each(t, prefix, sizeof(prefix), 0, keys_cb, ks);
	store_abort(t);
	return rc;
}

/* Whether the keys end in ids[0..n), in that order. */
static int
keys_name(const struct keys *ks, uint8_t (*ids)[PROTO_RECIDLEN], size_t n)
{
	if (ks->n != n) {
		printf("#   %zu keys for %zu records\n", ks->n, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (memcmp(ks->k[i] + ks->len[i] - PROTO_RECIDLEN, ids[i],
		    PROTO_RECIDLEN) != 0) {
			printf("#   key %zu names another record than write %zu\n",
			    i, i);
			return 0;
		}
	return 1;
}

/*
 * A day's notes about a student, under random ids, are indexed in the
 * order they were written: a sync's new notes go to the end of the
 * student's range (not to random places of it, where each commit
 * rewrote most of its pages), and show lists a day's notes newest first
 * as they were written. An edit keeps a note's place; the date still
 * comes first.
 */
static void
test_notes_in_creation_order(void)
{
	static uint8_t ids[NOTES + 1][PROTO_RECIDLEN];
	const char *fv[] = { "student", NULL, "date", "2026-10-01",
	    "strengths", "reads aloud", "obstacle", "none",
	    "action", "more of the same", NULL };
	const char *edit[] = { "action", "paired reading", NULL };
	const char *early[] = { "student", NULL, "date", "2026-09-30",
	    "strengths", "counts", "obstacle", "none", "action", "x", NULL };
	struct store_txn *t;
	struct keys ks;
	struct dev v;
	uint64_t n = 0;
	int ok = 1;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	fv[1] = early[1] = v.student_hex;
	for (int c = 0; c < 4 && ok; c++) {
		ok &= store_begin(v.d.st, 0, &t) == 0;
		for (int i = 0; i < NOTES / 4 && ok; i++) {
			randombytes_buf(ids[c * NOTES / 4 + i], PROTO_RECIDLEN);
			ok &= write_fields_in(&v, t, KIND_NOTE,
			    ids[c * NOTES / 4 + i], fv) == 0;
		}
		ok &= store_commit(t) == 0;
	}
	CHECK(ok);
	CHECK(write_fields(&v, KIND_NOTE, ids[0], edit) == 0);
	CHECK(student_keys(&v, INDEX_BY_STUDENT, &ks) == 0);
	CHECK(keys_name(&ks, ids, NOTES));
	/* The kind sits just before the id, where show reads it. */
	CHECK(ks.n > 0 && ks.k[0][ks.len[0] - PROTO_RECIDLEN - 1] ==
	    KIND_NOTE);
	/* A note written last about the day before comes first. */
	memmove(ids[1], ids[0], NOTES * sizeof(ids[0]));
	randombytes_buf(ids[0], PROTO_RECIDLEN);
	CHECK(write_fields(&v, KIND_NOTE, ids[0], early) == 0);
	CHECK(student_keys(&v, INDEX_BY_STUDENT, &ks) == 0);
	CHECK(keys_name(&ks, ids, NOTES + 1));
	CHECK(store_begin(v.d.st, STORE_RDONLY, &t) == 0);
	CHECK(store_student_count(t, v.student, &n) == 0 && n == NOTES + 1);
	store_abort(t);
	dev_close(&v);
}

/* A student's goals, too; and a rebuild from the log gives the same
 * keys, stamps and all. */
static void
test_goals_and_rebuild(void)
{
	static uint8_t ids[GOALS][PROTO_RECIDLEN];
	const char *fv[] = { "student", NULL, "text", "read a chapter book",
	    NULL };
	const char *nv[] = { "student", NULL, "date", "2026-10-01",
	    "strengths", "s", "obstacle", "o", "action", "a", NULL };
	uint8_t nid[PROTO_RECIDLEN];
	struct keys g, s, g2, s2;
	struct dev v;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	fv[1] = nv[1] = v.student_hex;
	for (int i = 0; i < GOALS; i++) {
		randombytes_buf(ids[i], PROTO_RECIDLEN);
		CHECK(write_fields(&v, KIND_GOAL, ids[i], fv) == 0);
	}
	for (int i = 0; i < 8; i++) {
		randombytes_buf(nid, PROTO_RECIDLEN);
		CHECK(write_fields(&v, KIND_NOTE, nid, nv) == 0);
	}
	CHECK(student_keys(&v, INDEX_GOAL, &g) == 0);
	CHECK(keys_name(&g, ids, GOALS));
	CHECK(student_keys(&v, INDEX_BY_STUDENT, &s) == 0);
	CHECK(s.n == 8);
	CHECK(store_rebuild(v.d.st, v.d.keyring) == 0);
	CHECK(student_keys(&v, INDEX_GOAL, &g2) == 0);
	CHECK(student_keys(&v, INDEX_BY_STUDENT, &s2) == 0);
	CHECK(g.n == g2.n && memcmp(g.k, g2.k, sizeof(g.k)) == 0 &&
	    memcmp(g.len, g2.len, sizeof(g.len)) == 0);
	CHECK(s.n == s2.n && memcmp(s.k, s2.k, sizeof(s.k)) == 0 &&
	    memcmp(s.len, s2.len, sizeof(s.len)) == 0);
	dev_close(&v);
}

/* New notes' and entries' ids start with the time (RFC 9562's UUIDv7
 * layout), so that they sort as they are made; the other kinds' ids stay
 * random. */
static void
test_new_ids(void)
{
	uint8_t prev[PROTO_RECIDLEN] = { 0 }, id[PROTO_RECIDLEN];
	uint64_t before = now_ms(), ms = 0, after;
	int sorted = 1, layout = 1, timed = 0;

	for (int i = 0; i < 2000; i++) {
		ops_record_id(i % 2 ? KIND_NOTE : KIND_ENTRY, id);
		sorted &= memcmp(prev, id, 6) <= 0;
		layout &= (id[6] >> 4) == 7 && (id[8] >> 6) == 2;
		memcpy(prev, id, sizeof(id));
	}
	after = now_ms();
	for (int i = 0; i < 6; i++)
		ms = ms << 8 | prev[i];
	CHECK(sorted);
	CHECK(layout);
	CHECK(ms >= before && ms <= after);
	for (int i = 0; i < 8; i++) {
		ops_record_id(KIND_STUDENT, id);
		ms = 0;
		for (int j = 0; j < 6; j++)
			ms = ms << 8 | id[j];
		timed += ms >= before && ms <= now_ms();
	}
	CHECK(timed < 8);	/* random: 2^-48 odds each to look timed */
}

static int
prefix_is(struct dev *v, const uint8_t *id, size_t want)
{
	char hex[2 * PROTO_RECIDLEN + 1];
	struct store_txn *t;
	uint8_t kind, found[PROTO_RECIDLEN];
	size_t n = 0;
	int ok;

	if (store_begin(v->d.st, STORE_RDONLY, &t) != 0)
		return 0;
	ok = store_record_prefix(t, id, 8, &n) == 0 && n == want;
	if (!ok)
		printf("#   a short id of %zu digits, not %zu\n", n, want);
	/* What is shown names the record again, and one digit less does
	 * not, unless it is the shortest shown. */
	sodium_bin2hex(hex, sizeof(hex), id, PROTO_RECIDLEN);
	hex[n] = '\0';
	ok &= store_record_find(t, hex, &kind, found) == 0 &&
	    memcmp(found, id, PROTO_RECIDLEN) == 0;
	hex[n - 1] = '\0';
	ok &= n == 8 || store_record_find(t, hex, &kind, found) ==
	    STORE_EAMBIGUOUS;
	store_abort(t);
	return ok;
}

/* A listing shows as much of an id as names it alone, 8 digits at
 * least: notes made in the same minute share their first 8. */
static void
test_short_ids(void)
{
	const char *nv[] = { "student", NULL, "date", "2026-10-01",
	    "strengths", "s", "obstacle", "o", "action", "a", NULL };
	const char *sv[] = { "name", "Ben Okafor", NULL };
	uint8_t a[PROTO_RECIDLEN], b[PROTO_RECIDLEN], c[PROTO_RECIDLEN];
	uint8_t s[PROTO_RECIDLEN];
	struct dev v;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	nv[1] = v.student_hex;
	ops_record_id(KIND_NOTE, a);
	memcpy(b, a, sizeof(b));
	b[5] ^= 0x01;		/* shares 11 digits with a */
	randombytes_buf(c, sizeof(c));
	c[0] = (uint8_t)~a[0];	/* shares none with a or b */
	memcpy(s, c, sizeof(s));
	s[4] ^= 0x10;		/* a student sharing 8 digits with c */
	CHECK(write_fields(&v, KIND_NOTE, a, nv) == 0);
	CHECK(prefix_is(&v, a, 8));
	CHECK(write_fields(&v, KIND_NOTE, b, nv) == 0);
	CHECK(write_fields(&v, KIND_NOTE, c, nv) == 0);
	CHECK(write_fields(&v, KIND_STUDENT, s, sv) == 0);
	CHECK(prefix_is(&v, a, 12));
	CHECK(prefix_is(&v, b, 12));
	CHECK(prefix_is(&v, c, 9));
	CHECK(prefix_is(&v, s, 9));
	CHECK(prefix_is(&v, v.student, 8));
	dev_close(&v);
}

/* --- Sealing: the transaction's subkey (recstore.c). */

#define SEAL_MAXLEN	600
#define SEAL_MAXAD	(1 + 8 + 64)	/* format, docid, a record key */
#define SEAL_PER	3		/* records under one subkey */
#define SEAL_ABYTES	crypto_aead_xchacha20poly1305_ietf_ABYTES

/* One record sealed both ways into buffers of just its size (so that
 * ASan sees an overrun), 1 if the bytes agree. */
static int
seal_agrees(const uint8_t *key, const uint8_t *sub, const uint8_t *nonce,
    size_t len, size_t adlen)
{
	uint8_t *pt = malloc(len ? len : 1), *ad = malloc(adlen ? adlen : 1);
	uint8_t *got = malloc(len + SEAL_ABYTES);
	uint8_t *want = malloc(len + SEAL_ABYTES);
	unsigned long long wlen = 0;
	int ok = pt != NULL && ad != NULL && got != NULL && want != NULL;

	if (ok) {
		randombytes_buf(pt, len);
		randombytes_buf(ad, adlen);
		recstore_seal_sub(got, pt, len, adlen ? ad : NULL, adlen,
		    nonce, sub);
		ok = crypto_aead_xchacha20poly1305_ietf_encrypt(want, &wlen,
		    pt, len, adlen ? ad : NULL, adlen, NULL, nonce, key) == 0 &&
		    wlen == len + SEAL_ABYTES &&
		    memcmp(got, want, len + SEAL_ABYTES) == 0;
	}
	free(pt);
	free(ad);
	free(got);
	free(want);
	return ok;
}

/* The subkey taken once and ChaCha20-Poly1305-IETF a record give what
 * XChaCha20-Poly1305 does, byte for byte: random keys, bases, counts
 * (and the counts' ends), every length to SEAL_MAXLEN, AD of any length
 * a record has, several records a subkey as a transaction seals them. */
static void
test_seal_sub_is_xchacha(void)
{
	uint8_t key[STORE_KEYLEN], nonce[TXN_NONCELEN], sub[TXN_SUBKEYLEN];
	int bad = 0;

	for (size_t len = 0; len <= SEAL_MAXLEN; len++) {
		uint64_t c;

		randombytes_buf(key, sizeof(key));
		randombytes_buf(nonce, TXN_NONCEBASE);
		randombytes_buf(&c, sizeof(c));
		if (len == 0)
			c = 0;
		else if (len == 1)
			c = UINT64_MAX - SEAL_PER + 1;
		recstore_subkey(sub, key, nonce);
		for (int i = 0; i < SEAL_PER; i++) {
			size_t n = i == 0 ? len :
			    randombytes_uniform(SEAL_MAXLEN + 1);

			be64_put(nonce + TXN_NONCEBASE, c + (uint64_t)i);
			bad += !seal_agrees(key, sub, nonce, n,
			    randombytes_uniform(SEAL_MAXAD + 1));
		}
	}
	sodium_memzero(sub, sizeof(sub));
	CHECK(bad == 0);
}

/* draft-irtf-cfrg-xchacha-03, A.3.1, through the two steps. */
static void
test_seal_sub_vector(void)
{
	static const char pt[] = "Ladies and Gentlemen of the class of "
	    "'99: If I could offer you only one tip for the future, "
	    "sunscreen would be it.";
	static const char want_hex[] =
	    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
	    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
	    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
	    "21f9664c97637da9768812f615c68b13b52e"
	    "c0875924c1c7987947deafd8780acf49";	/* the tag */
	static const uint8_t ad[] = { 0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1,
	    0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7 };
	uint8_t key[STORE_KEYLEN], nonce[TXN_NONCELEN], sub[TXN_SUBKEYLEN];
	uint8_t want[sizeof(pt) - 1 + SEAL_ABYTES], got[sizeof(want)];
	size_t wlen = 0;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = 0x80 + i;
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = 0x40 + i;
	CHECK(sodium_hex2bin(want, sizeof(want), want_hex,
	    sizeof(want_hex) - 1, NULL, &wlen, NULL) == 0);
	CHECK(wlen == sizeof(want));
	recstore_subkey(sub, key, nonce);
	recstore_seal_sub(got, (const uint8_t *)pt, sizeof(pt) - 1, ad,
	    sizeof(ad), nonce, sub);
	CHECK(memcmp(got, want, sizeof(want)) == 0);
}

/* recstore_seal in a transaction writes what XChaCha20-Poly1305 gives
 * under the store's seal key and the nonce it wrote down: the base
 * drawn at the first seal (with its subkey), a count after it; the
 * next transaction draws its own. */
static void
test_seal_in_txn(void)
{
	enum { HDR = 1 + 8, RECS = 40 };	/* format, docid */
	uint8_t key[PROTO_RECIDLEN + 1], base[2][TXN_NONCEBASE];
	uint8_t pt[SEAL_MAXLEN], out[sizeof(key) + HDR + TXN_NONCELEN +
	    SEAL_MAXLEN + SEAL_ABYTES], want[SEAL_MAXLEN + SEAL_ABYTES];
	uint8_t ad[HDR + sizeof(key)], *back;
	const uint8_t *val = out + sizeof(key), *nonce = val + HDR;
	struct store_txn *t;
	struct dev v;
	uint64_t docid;
	size_t n, blen;
	int ok = 1;

	if (dev_open_zoe(&v) != 0) {
		CHECK(!"a device");
		return;
	}
	CHECK(v.d.st->seal_key != NULL);
	for (int x = 0; x < 2 && ok; x++) {
		ok &= store_begin(v.d.st, 0, &t) == 0;
		for (int i = 0; i < RECS && ok; i++) {
			n = randombytes_uniform(sizeof(pt) + 1);
			randombytes_buf(pt, n);
			randombytes_buf(key, sizeof(key));
			ok &= recstore_sealed_len(t, sizeof(key), n) ==
			    sizeof(key) + HDR + TXN_NONCELEN + n + SEAL_ABYTES;
			ok &= recstore_seal(t, key, sizeof(key), 1000 + i,
			    pt, n, out) == 0;
			if (i == 0)
				memcpy(base[x], nonce, TXN_NONCEBASE);
			ok &= memcmp(nonce, base[x], TXN_NONCEBASE) == 0 &&
			    be64_get(nonce + TXN_NONCEBASE) == (uint64_t)i;
			memcpy(ad, val, HDR);
			memcpy(ad + HDR, key, sizeof(key));
			ok &= crypto_aead_xchacha20poly1305_ietf_encrypt(want,
			    NULL, pt, n, ad, sizeof(ad), NULL, nonce,
			    v.d.st->seal_key) == 0;
			ok &= memcmp(nonce + TXN_NONCELEN, want,
			    n + SEAL_ABYTES) == 0;
			if (recstore_unseal(t, key, sizeof(key), val,
			    HDR + TXN_NONCELEN + n + SEAL_ABYTES, &docid,
			    &back, &blen) != 0) {
				ok = 0;
				break;
			}
			ok &= docid == 1000u + i && blen == n &&
			    memcmp(back, pt, n) == 0;
			free(back);
		}
		store_abort(t);
	}
	CHECK(ok);
	CHECK(ok && memcmp(base[0], base[1], TXN_NONCEBASE) != 0);
	dev_close(&v);
}

TAP_MAIN(TAP_TEST(test_notes_in_creation_order),
    TAP_TEST(test_goals_and_rebuild), TAP_TEST(test_new_ids),
    TAP_TEST(test_short_ids), TAP_TEST(test_seal_sub_is_xchacha),
    TAP_TEST(test_seal_sub_vector), TAP_TEST(test_seal_in_txn))
