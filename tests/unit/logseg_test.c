/*
 * The log's pending tails (store/logseg.c): a transaction keeps each
 * author's last segment in memory and writes it once. Entries of several
 * authors, interleaved, many to a segment, are read back inside the
 * transaction that appends them, after a walk of the log in the middle
 * of it, and after it commits and the store is opened again; an aborted
 * transaction leaves nothing; more authors than the tails kept at once
 * still end whole.
 */
#include "log_fixture.h"
#include "tap.h"

#define NAUTH	3
#define PER	45	/* ~1.2 KB each: four segments an author */
#define MANY	70	/* more authors than logseg.c keeps tails for */

static struct author auth[MANY];
static struct env ents[NAUTH][PER];	/* author a's entry seq i + 1 */
static struct env few[MANY][3];

/* a's next entry in st: a student whose name is about len bytes. */
static int
write1(struct store *st, const struct author *a, size_t len,
    struct env *out)
{
	char name[1400];

	for (size_t i = 0; i < len && i < sizeof(name) - 1; i++)
		name[i] = i % 7 == 6 ? ' ' : (char)('a' + randombytes_uniform(26));
	name[len < sizeof(name) - 1 ? len : sizeof(name) - 1] = '\0';
	return write_student(st, a, name, out);
}

static int
same(struct store_txn *t, const struct author *a, uint64_t seq,
    const struct env *want)
{
	const uint8_t *env;
	size_t len;

	return store_log_get(t, a->pk, seq, &env, &len) == 0 &&
	    len == want->len && memcmp(env, want->p, len) == 0;
}

static int
count_cb(const uint8_t *env, size_t len, void *arg)
{
	(void)env;
	(void)len;
	(*(size_t *)arg)++;
	return 0;
}

static void
digest(struct store *st, uint8_t out[PROTO_HASHLEN])
{
	struct store_txn *t;

	memset(out, 0, PROTO_HASHLEN);
	if (store_begin(st, STORE_RDONLY, &t) != 0)
		return;
	if (store_digest(t, out) != 0)
		memset(out, 0xee, PROTO_HASHLEN);
	store_abort(t);
}

/* Every entry of the first n of each author, in a store opened anew. */
static void
check_reopened(const char *dir, size_t n, const uint8_t *want_digest)
{
	uint8_t d[PROTO_HASHLEN];
	struct store *st = NULL;
	struct store_txn *t;
	uint64_t nent = 0;
	size_t count = 0;

	CHECK(store_open(&st, dir, 0) == 0);
	if (st == NULL)
		return;
	CHECK(store_begin(st, STORE_RDONLY, &t) == 0);
	for (int a = 0; a < NAUTH; a++)
		for (size_t i = 0; i < n; i++)
			CHECK(same(t, &auth[a], i + 1, &ents[a][i]));
	CHECK(store_verify_log(t, &nent) == 0 && nent == NAUTH * n);
	CHECK(store_log_each(t, count_cb, &count) == 0 &&
	    count == NAUTH * n);
	store_abort(t);
	digest(st, d);
	CHECK(memcmp(d, want_digest, PROTO_HASHLEN) == 0);
	store_close(st);
}

/* Entries of three authors, interleaved, in one transaction: each read
 * back as soon as it is appended and at the end; a walk in the middle;
 * the same after the commit, in a store opened again. */
static void
test_one_transaction(void)
{
	uint8_t want[PROTO_HASHLEN];
	struct store *src = new_store(), *st;
	struct store_txn *t;
	const char *dir = dirs[ndirs];
	size_t count = 0;

	CHECK(src != NULL);
	for (int a = 0; src != NULL && a < NAUTH; a++)
		for (int i = 0; i < PER; i++)
			CHECK(write1(src, &auth[a], 1100 + 37 * (size_t)i,
			    &ents[a][i]) == 0);
	if (src == NULL)
		return;
	digest(src, want);
	store_close(src);
	st = new_store();
	CHECK(st != NULL && store_begin(st, 0, &t) == 0);
	if (st == NULL)
		return;
	for (int i = 0; i < PER; i++)
		for (int a = 0; a < NAUTH; a++) {
			CHECK(store_apply_entry(t, &kr, ents[a][i].p,
			    ents[a][i].len, 1) == 0);
			CHECK(same(t, &auth[a], (uint64_t)i + 1,
			    &ents[a][i]));
			if (i == PER / 2 && a == 1) {
				CHECK(store_log_each(t, count_cb, &count) ==
				    0 && count == NAUTH * (size_t)i + 2);
			}
		}
	for (int a = 0; a < NAUTH; a++)
		for (int i = 0; i < PER; i++)
			CHECK(same(t, &auth[a], (uint64_t)i + 1, &ents[a][i]));
	/* A replay is still known as one, from the pending tail. */
	CHECK(store_apply_entry(t, &kr, ents[1][PER - 1].p,
	    ents[1][PER - 1].len, 1) == STORE_EDUP);
	CHECK(store_commit(t) == 0);
	store_close(st);
	check_reopened(dir, PER, want);
}

/* An aborted transaction leaves the log as it was; the same entries
 * applied again then commit whole. */
static void
test_abort(void)
{
	struct store *st = new_store();
	const char *dir = dirs[ndirs - 1];
	const uint8_t *env;
	struct store_txn *t;
	uint8_t want[PROTO_HASHLEN], hash[PROTO_HASHLEN];
	uint64_t seq;
	size_t len;

	CHECK(st != NULL && store_begin(st, 0, &t) == 0);
	if (st == NULL)
		return;
	for (int a = 0; a < NAUTH; a++)
		for (int i = 0; i < 10; i++)
			CHECK(store_apply_entry(t, &kr, ents[a][i].p,
			    ents[a][i].len, 1) == 0);
	CHECK(store_commit(t) == 0);
	CHECK(store_begin(st, 0, &t) == 0);
	for (int a = 0; a < NAUTH; a++)
		for (int i = 10; i < PER; i++)
			CHECK(store_apply_entry(t, &kr, ents[a][i].p,
			    ents[a][i].len, 1) == 0);
	store_abort(t);
	CHECK(store_begin(st, STORE_RDONLY, &t) == 0);
	for (int a = 0; a < NAUTH; a++) {
		CHECK(store_head_get(t, auth[a].pk, &seq, hash) == 0 &&
		    seq == 10);
		CHECK(same(t, &auth[a], 10, &ents[a][9]));
		CHECK(store_log_get(t, auth[a].pk, 11, &env, &len) ==
		    STORE_ENOTFOUND);
	}
	store_abort(t);
	CHECK(store_begin(st, 0, &t) == 0);
	for (int i = 10; i < PER; i++)
		for (int a = 0; a < NAUTH; a++)
			CHECK(store_apply_entry(t, &kr, ents[a][i].p,
			    ents[a][i].len, 1) == 0);
	CHECK(store_commit(t) == 0);
	store_close(st);
	/* The digest of test_one_transaction's store, the same entries. */
	st = NULL;
	CHECK(store_open(&st, dirs[1], 0) == 0);
	digest(st, want);
	store_close(st);
	check_reopened(dir, PER, want);
}

/* More authors in one transaction than tails are kept: the least
 * recently appended are written out early, and every entry is there. */
static void
test_many_authors(void)
{
	struct store *src = new_store(), *st;
	struct store_txn *t;
	const char *dir;
	uint64_t nent = 0;

	CHECK(src != NULL);
	for (int a = 0; src != NULL && a < MANY; a++)
		for (int i = 0; i < 3; i++)
			CHECK(write1(src, &auth[a], 300, &few[a][i]) == 0);
	store_close(src);
	dir = dirs[ndirs];
	st = new_store();
	CHECK(st != NULL && store_begin(st, 0, &t) == 0);
	if (st == NULL)
		return;
	for (int i = 0; i < 3; i++)
		for (int a = 0; a < MANY; a++) {
			CHECK(store_apply_entry(t, &kr, few[a][i].p,
			    few[a][i].len, 1) == 0);
			CHECK(same(t, &auth[a], (uint64_t)i + 1, &few[a][i]));
		}
	for (int a = 0; a < MANY; a++)
		for (int i = 0; i < 3; i++)
			CHECK(same(t, &auth[a], (uint64_t)i + 1, &few[a][i]));
	CHECK(store_commit(t) == 0);
	store_close(st);
	st = NULL;
	CHECK(store_open(&st, dir, 0) == 0);
	if (st == NULL)
		return;
	CHECK(store_begin(st, STORE_RDONLY, &t) == 0);
	for (int a = 0; a < MANY; a++)
		for (int i = 0; i < 3; i++)
			CHECK(same(t, &auth[a], (uint64_t)i + 1, &few[a][i]));
	CHECK(store_verify_log(t, &nent) == 0 && nent == 3 * MANY);
	store_abort(t);
	store_close(st);
}

int
main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(test_one_transaction),
		TAP_TEST(test_abort),
		TAP_TEST(test_many_authors),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	fixture_keys();
	for (int a = 0; a < MANY; a++)
		crypto_sign_keypair(auth[a].pk, auth[a].sk);
	rc = tap_run(tests, sizeof(tests) / sizeof(tests[0]));
	for (int a = 0; a < NAUTH; a++)
		for (int i = 0; i < PER; i++)
			free(ents[a][i].p);
	for (int a = 0; a < MANY; a++)
		for (int i = 0; i < 3; i++)
			free(few[a][i].p);
	rm_stores();
	return rc;
}
