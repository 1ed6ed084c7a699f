/*
 * The records a transaction holds back (store/records.c, rec_cache): a
 * record several entries of one transaction touch is written once, yet
 * the transaction reads its newest state, a walk of the records sees
 * it, and the store ends with the digest of one that applied each entry
 * in its own transaction; an aborted transaction leaves nothing; more
 * records than are held at once still end whole.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "proto.h"
#include "store.h"
#include "tap.h"

#define NREC	5	/* records touched again and again */
#define ROUNDS	12	/* entries to each */
#define MANY	150	/* records touched once: more than are held */
#define NENT	(NREC * ROUNDS + MANY)

struct env {
	uint8_t	*p;
	size_t	 len;
};

static struct store_keyring kr;
static char dirs[8][64];
static int ndirs;
static uint8_t pk[PROTO_IDLEN], sk[PROTO_SKLEN];
static uint8_t ids[NREC][PROTO_RECIDLEN];
static struct env ents[NENT];
static uint8_t want[PROTO_HASHLEN];

static struct store *
new_store(void)
{
	struct store *st = NULL;
	char *d = dirs[ndirs++];

	snprintf(d, 64, "/tmp/satchel-recs-test.XXXXXX");
	if (mkdtemp(d) == NULL || store_open(&st, d, STORE_CREATE) != 0)
		return NULL;
	return st;
}

static void
rm_stores(void)
{
	char path[128];

	for (int i = 0; i < ndirs; i++) {
		snprintf(path, sizeof(path), "%s/data.mdb", dirs[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock.mdb", dirs[i]);
		unlink(path);
		rmdir(dirs[i]);
	}
}

/* Sets field to value on student id, as the author's next entry. */
static int
write1(struct store *st, const uint8_t *id, const char *field,
    const char *value, struct env *out)
{
	struct store_author sa = { pk, sk, &kr.keys[0], SCOPE_TEAM };
	struct store_txn *t;
	struct write_ref ref;
	struct change c;
	const uint8_t *env;
	int rc;

	memset(&c, 0, sizeof(c));
	memcpy(c.record_id, id, PROTO_RECIDLEN);
	c.kind = KIND_STUDENT;
	c.nops = 1;
	c.ops[0].type = OP_SET;
	c.ops[0].field = field;
	c.ops[0].field_len = strlen(field);
	c.ops[0].value = (const uint8_t *)value;
	c.ops[0].value_len = strlen(value);
	if ((rc = store_begin(st, 0, &t)) != 0)
		return rc;
	if ((rc = store_append_local(t, &sa, &c, 1760000000000, &ref)) != 0 ||
	    (rc = store_log_get(t, ref.author, ref.seq, &env,
	    &out->len)) != 0) {
		store_abort(t);
		return rc;
	}
	out->p = malloc(out->len);
	memcpy(out->p, env, out->len);
	return store_commit(t);
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

/* The entries: each of NREC students renamed ROUNDS times, and MANY
 * students named once, interleaved. */
static int
make_entries(void)
{
	struct store *src = new_store();
	char name[64];
	int n = 0;

	if (src == NULL)
		return -1;
	for (int i = 0; i < NREC; i++)
		randombytes_buf(ids[i], PROTO_RECIDLEN);
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < NREC; i++) {
			uint8_t other[PROTO_RECIDLEN];

			snprintf(name, sizeof(name), "Student %d round %d", i,
			    r);
			if (write1(src, ids[i], r % 3 == 2 ? "class" : "name",
			    name, &ents[n++]) != 0)
				return -1;
			if (n + (ROUNDS - r) * NREC > NENT)
				continue;
			randombytes_buf(other, sizeof(other));
			snprintf(name, sizeof(name), "Other %d", n);
			if (write1(src, other, "name", name, &ents[n++]) != 0)
				return -1;
		}
	while (n < NENT) {
		uint8_t other[PROTO_RECIDLEN];

		randombytes_buf(other, sizeof(other));
		snprintf(name, sizeof(name), "Other %d", n);
		if (write1(src, other, "name", name, &ents[n++]) != 0)
			return -1;
	}
	digest(src, want);
	store_close(src);
	return 0;
}

static int
name_is(struct store_txn *t, const uint8_t *id, const char *want_name)
{
	struct record *r = NULL;
	const char *v;
	int ok;

	if (store_record_get(t, KIND_STUDENT, id, &r) != 0)
		return 0;
	v = record_get(r, "name");
	ok = v != NULL && strcmp(v, want_name) == 0;
	record_free(r);
	return ok;
}

static int
hist_cb(const uint8_t *env, size_t len, void *arg)
{
	(void)env;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

static int
count_cb(const struct record *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

/* The newest name of student i once entries 0..upto are applied. */
static void
latest_name(int i, int upto, char *out, size_t len)
{
	int last = -1;

	for (int r = 0; r < ROUNDS; r++)
		if (r % 3 != 2)
			last = r;	/* a rename; r % 3 == 2 set the class */
	(void)upto;
	snprintf(out, len, "Student %d round %d", i, last);
}

/* All in one transaction: read back inside it (a record several entries
 * touched, its history, a walk), then the digest after the commit. */
static void
test_one_transaction(void)
{
	uint8_t d[PROTO_HASHLEN];
	struct store *st = new_store();
	struct store_txn *t;
	char name[64];
	int nhist = 0, nrec = 0;

	CHECK(st != NULL && store_begin(st, 0, &t) == 0);
	if (st == NULL)
		return;
	for (int n = 0; n < NENT; n++)
		CHECK(store_apply_entry(t, &kr, ents[n].p, ents[n].len, 1) ==
		    0);
	for (int i = 0; i < NREC; i++) {
		latest_name(i, NENT, name, sizeof(name));
		CHECK(name_is(t, ids[i], name));
	}
	CHECK(store_history_each(t, ids[0], hist_cb, &nhist) == 0 &&
	    nhist == ROUNDS);
	CHECK(store_records_each(t, KIND_STUDENT, count_cb, &nrec) == 0 &&
	    nrec == NREC + MANY);
	digest(st, d);	/* another transaction: sees nothing yet */
	CHECK(memcmp(d, want, PROTO_HASHLEN) != 0);
	CHECK(store_digest(t, d) == 0 && memcmp(d, want, PROTO_HASHLEN) == 0);
	CHECK(store_commit(t) == 0);
	digest(st, d);
	CHECK(memcmp(d, want, PROTO_HASHLEN) == 0);
	CHECK(store_begin(st, STORE_RDONLY, &t) == 0);
	CHECK(store_digest_scan(t, d) == 0 &&
	    memcmp(d, want, PROTO_HASHLEN) == 0);
	for (int i = 0; i < NREC; i++) {
		latest_name(i, NENT, name, sizeof(name));
		CHECK(name_is(t, ids[i], name));
	}
	store_abort(t);
	store_close(st);
}

/* Half committed, the rest aborted, then applied again: the same end. */
static void
test_abort(void)
{
	uint8_t d[PROTO_HASHLEN], mid[PROTO_HASHLEN];
	struct store *st = new_store();
	struct store_txn *t;

	CHECK(st != NULL && store_begin(st, 0, &t) == 0);
	if (st == NULL)
		return;
	for (int n = 0; n < NENT / 2; n++)
		CHECK(store_apply_entry(t, &kr, ents[n].p, ents[n].len, 1) ==
		    0);
	CHECK(store_commit(t) == 0);
	digest(st, mid);
	CHECK(store_begin(st, 0, &t) == 0);
	for (int n = NENT / 2; n < NENT; n++)
		CHECK(store_apply_entry(t, &kr, ents[n].p, ents[n].len, 1) ==
		    0);
	store_abort(t);
	digest(st, d);
	CHECK(memcmp(d, mid, PROTO_HASHLEN) == 0);
	CHECK(store_begin(st, STORE_RDONLY, &t) == 0);
	CHECK(store_digest_scan(t, d) == 0 &&
	    memcmp(d, mid, PROTO_HASHLEN) == 0);
	store_abort(t);
	CHECK(store_begin(st, 0, &t) == 0);
	for (int n = NENT / 2; n < NENT; n++)
		CHECK(store_apply_entry(t, &kr, ents[n].p, ents[n].len, 1) ==
		    0);
	CHECK(store_commit(t) == 0);
	digest(st, d);
	CHECK(memcmp(d, want, PROTO_HASHLEN) == 0);
	store_close(st);
}

/* A rebuild in the transaction that applied the entries (it drops the
 * records table and applies the log again) ends where the applies did. */
static void
test_rebuild_inside(void)
{
	uint8_t d[PROTO_HASHLEN];
	struct store *st = new_store();
	struct store_txn *t;

	CHECK(st != NULL && store_begin(st, 0, &t) == 0);
	if (st == NULL)
		return;
	for (int n = 0; n < NENT; n++)
		CHECK(store_apply_entry(t, &kr, ents[n].p, ents[n].len, 1) ==
		    0);
	CHECK(store_rebuild_derived(t, &kr) == 0);
	CHECK(store_commit(t) == 0);
	digest(st, d);
	CHECK(memcmp(d, want, PROTO_HASHLEN) == 0);
	CHECK(store_begin(st, STORE_RDONLY, &t) == 0);
	CHECK(store_digest_scan(t, d) == 0 &&
	    memcmp(d, want, PROTO_HASHLEN) == 0);
	store_abort(t);
	store_close(st);
}

int
main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(test_one_transaction),
		TAP_TEST(test_abort),
		TAP_TEST(test_rebuild_inside),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	kr.nkeys = 1;
	randombytes_buf(kr.keys[0].key, PROTO_KEYLEN);
	proto_key_id(kr.keys[0].key, kr.keys[0].id);
	kr.keys[0].use = KEY_CONTENT;
	crypto_sign_keypair(pk, sk);
	if (make_entries() != 0) {
		printf("not ok 1 - cannot make the entries\n");
		rm_stores();
		return 1;
	}
	rc = tap_run(tests, sizeof(tests) / sizeof(tests[0]));
	for (int n = 0; n < NENT; n++)
		free(ents[n].p);
	rm_stores();
	return rc;
}
