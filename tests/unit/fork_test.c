/*
 * Forked authors in the store (store/fork.c). One author's log forks: two
 * branches share seq 1-2 and part at seq 3. Stores that receive the
 * branches in opposite orders must freeze the author at seq 2 and end
 * with the digest of a store that never saw either branch past it; a pair
 * that proves nothing freezes no one; entries past the fork are kept
 * aside, never applied, and the records of a store that had applied them
 * are rebuilt without them.
 */
#include "log_fixture.h"
#include "tap.h"

#define MAXE	8

/* Applies one entry the way a peer's batch is applied; settles a fork. */
static int
apply1(struct store *st, const struct env *e)
{
	struct store_txn *t;
	int rc, src;

	if ((rc = store_begin(st, 0, &t)) != 0)
		return rc;
	rc = store_apply_entry(t, &kr, e->p, e->len, 1);
	if (rc == STORE_EFORK && (src = store_fork_settle(t, &kr)) != 0) {
		store_abort(t);
		return src;
	}
	if (rc != 0 && rc != STORE_EDUP && rc != STORE_EFORK) {
		store_abort(t);
		return rc;
	}
	return store_commit(t) != 0 ? STORE_EIO : rc;
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

static int
frozen_at(struct store *st, const uint8_t *author, uint64_t *seq)
{
	struct store_txn *t;
	int rc;

	if (store_begin(st, STORE_RDONLY, &t) != 0)
		return -1;
	rc = store_fork_get(t, author, seq);
	store_abort(t);
	return rc;
}

static struct author x, y;
static struct env common[2], ba[2], bb[2], ys[2];

/* Author x writes seq 1-2 in one store, then each branch continues in a
 * store of its own that holds the common part; y writes beside. */
static int
make_branches(void)
{
	struct store *sx = new_store(), *sa = new_store(), *sb = new_store();
	struct store *sy = new_store();
	int rc = 0;

	crypto_sign_keypair(x.pk, x.sk);
	crypto_sign_keypair(y.pk, y.sk);
	rc |= write_student(sx, &x, "Common one", &common[0]);
	rc |= write_student(sx, &x, "Common two", &common[1]);
	for (int i = 0; i < 2; i++) {
		rc |= apply1(sa, &common[i]) != 0;
		rc |= apply1(sb, &common[i]) != 0;
	}
	rc |= write_student(sa, &x, "Branch A three", &ba[0]);
	rc |= write_student(sa, &x, "Branch A four", &ba[1]);
	rc |= write_student(sb, &x, "Branch B three", &bb[0]);
	rc |= write_student(sb, &x, "Branch B four", &bb[1]);
	rc |= write_student(sy, &y, "Y one", &ys[0]);
	rc |= write_student(sy, &y, "Y two", &ys[1]);
	store_close(sx);
	store_close(sa);
	store_close(sb);
	store_close(sy);
	return rc;
}

static void
test_order_independent(void)
{
	struct store *p = new_store(), *q = new_store(), *r = new_store();
	uint8_t dp[PROTO_HASHLEN], dq[PROTO_HASHLEN], dr[PROTO_HASHLEN];
	uint64_t fp = 0, fq = 0;

	CHECK(p != NULL && q != NULL && r != NULL);
	/* p: common, branch A whole (applied), y, then branch B. */
	for (int i = 0; i < 2; i++)
		CHECK(apply1(p, &common[i]) == 0);
	CHECK(apply1(p, &ba[0]) == 0);
	CHECK(apply1(p, &ys[0]) == 0);
	CHECK(apply1(p, &ba[1]) == 0);
	CHECK(apply1(p, &bb[1]) == STORE_EFORK);	/* parts earlier */
	CHECK(frozen_at(p, x.pk, &fp) == STORE_ENOTFOUND);
	CHECK(apply1(p, &bb[0]) == STORE_EFORK);	/* the evidence */
	CHECK(frozen_at(p, x.pk, &fp) == 0 && fp == 2);
	CHECK(apply1(p, &bb[1]) == STORE_EDUP);		/* kept aside */
	CHECK(apply1(p, &ys[1]) == 0);
	/* q: the other way round, y first. */
	for (int i = 0; i < 2; i++)
		CHECK(apply1(q, &ys[i]) == 0);
	for (int i = 0; i < 2; i++)
		CHECK(apply1(q, &common[i]) == 0);
	for (int i = 0; i < 2; i++)
		CHECK(apply1(q, &bb[i]) == 0);
	CHECK(apply1(q, &ba[0]) == STORE_EFORK);
	CHECK(frozen_at(q, x.pk, &fq) == 0 && fq == 2);
	CHECK(apply1(q, &ba[1]) == STORE_EDUP);
	/* r: never saw past the fork. */
	for (int i = 0; i < 2; i++) {
		CHECK(apply1(r, &common[i]) == 0);
		CHECK(apply1(r, &ys[i]) == 0);
	}
	digest(p, dp);
	digest(q, dq);
	digest(r, dr);
	CHECK(memcmp(dp, dq, PROTO_HASHLEN) == 0);
	CHECK(memcmp(dp, dr, PROTO_HASHLEN) == 0);
	/* r takes the evidence alone and freezes too, state unchanged. */
	{
		struct store_txn *t;
		const uint8_t *ev[2];
		size_t evlen[2];
		int rc;

		CHECK(store_begin(q, STORE_RDONLY, &t) == 0);
		CHECK(store_fork_evidence(t, x.pk, ev, evlen) == 0);
		store_abort(t);
		CHECK(store_begin(r, 0, &t) == 0);
		rc = store_fork_record(t, ev[0], evlen[0], ev[1], evlen[1]);
		CHECK(rc == 0);
		CHECK(store_fork_settle(t, &kr) == 0);
		CHECK(store_commit(t) == 0);
		CHECK(frozen_at(r, x.pk, &fp) == 0 && fp == 2);
		CHECK(apply1(r, &ba[0]) == STORE_EDUP);	/* kept, not applied */
		digest(r, dr);
		CHECK(memcmp(dp, dr, PROTO_HASHLEN) == 0);
	}
	store_close(p);
	store_close(q);
	store_close(r);
}

/* A stranger cannot freeze anyone: the pair must be two valid
 * signatures of one author at one seq on one predecessor. */
static void
test_evidence_checked(void)
{
	struct store *s = new_store();
	struct store_txn *t;
	struct env bad;
	uint64_t f;

	CHECK(s != NULL);
	bad.len = bb[0].len;
	bad.p = malloc(bad.len);
	memcpy(bad.p, bb[0].p, bad.len);
	bad.p[bad.len - 1] ^= 1;		/* the signature's last byte */
	CHECK(store_begin(s, 0, &t) == 0);
	CHECK(store_fork_record(t, ba[0].p, ba[0].len, ba[0].p,
	    ba[0].len) == STORE_EBADENTRY);	/* one entry twice */
	CHECK(store_fork_record(t, ba[0].p, ba[0].len, bad.p,
	    bad.len) == STORE_EBADENTRY);	/* a forged signature */
	CHECK(store_fork_record(t, ba[0].p, ba[0].len, bb[1].p,
	    bb[1].len) == STORE_EBADENTRY);	/* two seqs */
	CHECK(store_fork_record(t, ba[1].p, ba[1].len, bb[1].p,
	    bb[1].len) == STORE_EBADENTRY);	/* two predecessors */
	CHECK(store_fork_record(t, ba[0].p, ba[0].len, ys[0].p,
	    ys[0].len) == STORE_EBADENTRY);	/* two authors */
	store_abort(t);
	CHECK(frozen_at(s, x.pk, &f) == STORE_ENOTFOUND);
	/* A forged fork entry over the wire is a bad entry, not a fork. */
	for (int i = 0; i < 2; i++)
		CHECK(apply1(s, &common[i]) == 0);
	CHECK(apply1(s, &ba[0]) == 0);
	CHECK(apply1(s, &bad) == STORE_EBADENTRY);
	CHECK(frozen_at(s, x.pk, &f) == STORE_ENOTFOUND);
	free(bad.p);
	store_close(s);
}

int
main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(test_order_independent),
		TAP_TEST(test_evidence_checked),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	fixture_keys();
	if (make_branches() != 0) {
		printf("not ok 1 - cannot make the branches\n");
		rm_stores();
		return 1;
	}
	rc = tap_run(tests, sizeof(tests) / sizeof(tests[0]));
	for (int i = 0; i < 2; i++) {
		free(common[i].p);
		free(ba[i].p);
		free(bb[i].p);
		free(ys[i].p);
	}
	rm_stores();
	return rc;
}
