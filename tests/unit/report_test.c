/*
 * Receipts and the exposure report's computation (proto/receipt.c,
 * store/receipt.c, daemon/team/receipt.c, daemon/team/report.c), on one store that
 * holds the logs of four devices: A (the admin, who runs the report), D
 * (the lost laptop), B (the box) and P (another teacher). What D is
 * known to have held comes from receipts about it, receipts it wrote
 * (their "self"), its own entries and what they name; entries known held
 * but unreadable or missing are uncertain; a session of D's that left no
 * receipt makes every earlier entry possibly held. The vector text and
 * the schema's check of a receipt are tested too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"
#include "tap.h"

struct author {
	uint8_t	pk[PROTO_IDLEN];
	uint8_t	sk[PROTO_SKLEN];
};

static struct store_keyring kr;		/* content, network, receipt */
static struct store_key stranger;	/* a key no one here holds */
static struct author A, D, B, P;
static struct device dev;
static char dir[64];
static uint64_t wall = UINT64_C(1790000000000);

static void
author_new(struct author *a)
{
	crypto_sign_keypair(a->pk, a->sk);
}

static void
key_new(struct store_key *k, int use)
{
	randombytes_buf(k->key, PROTO_KEYLEN);
	proto_key_id(k->key, k->id);
	k->use = use;
}

static struct store *
setup(void)
{
	struct store *st = NULL;

	memset(&kr, 0, sizeof(kr));
	key_new(&kr.keys[0], KEY_CONTENT);
	key_new(&kr.keys[1], KEY_NETWORK);
	proto_receipt_key(kr.keys[1].key, kr.keys[2].key);
	proto_key_id(kr.keys[2].key, kr.keys[2].id);
	kr.keys[2].use = KEY_RECEIPT;
	kr.nkeys = 3;
	key_new(&stranger, KEY_CONTENT);
	author_new(&A);
	author_new(&D);
	author_new(&B);
	author_new(&P);
	memset(&dev, 0, sizeof(dev));
	dev.keyring = &kr;
	memcpy(dev.id, A.pk, PROTO_IDLEN);
	snprintf(dir, sizeof(dir), "/tmp/satchel-report-test.XXXXXX");
	if (mkdtemp(dir) == NULL || store_open(&st, dir, STORE_CREATE) != 0)
		return NULL;
	return st;
}

static void
teardown(struct store *st)
{
	char path[128];

	store_close(st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

/* Appends c as a's next entry, sealed under k, in its own transaction. */
static int
append(struct store *st, const struct author *a, const struct store_key *k,
    const struct change *c)
{
	struct store_author sa = { a->pk, a->sk, k, SCOPE_TEAM };
	struct store_txn *t;
	int rc;

	if (store_begin(st, 0, &t) != 0)
		return -1;
	wall += 60000;
	if ((rc = store_append_local(t, &sa, c, wall, NULL)) != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

static int
student(struct store *st, const struct author *a, const char *name,
    uint8_t id[PROTO_RECIDLEN])
{
	struct change c;

	randombytes_buf(id, PROTO_RECIDLEN);
	change_init(&c, KIND_STUDENT, id);
	if (change_set(&c, NULL, "name", name) != 0 ||
	    change_set(&c, NULL, "class", "3B") != 0)
		return -1;
	return append(st, a, &kr.keys[0], &c);
}

/* A note about s under key k; its id in note. */
static int
note(struct store *st, const struct author *a, const struct store_key *k,
    const uint8_t *s, uint8_t note_id[PROTO_RECIDLEN])
{
	char hex[2 * PROTO_RECIDLEN + 1];
	struct change c;

	randombytes_buf(note_id, PROTO_RECIDLEN);
	sodium_bin2hex(hex, sizeof(hex), s, PROTO_RECIDLEN);
	change_init(&c, KIND_NOTE, note_id);
	if (change_set(&c, NULL, "student", hex) != 0 ||
	    change_set(&c, NULL, "date", "2026-11-30") != 0)
		return -1;
	return append(st, a, k, &c);
}

/* An edit of note that names no student, replacing pred. */
static int
note_edit(struct store *st, const struct author *a, const uint8_t *note_id,
    const struct author *pred_author, uint64_t pred_seq)
{
	struct store_txn *t;
	struct envelope e;
	const uint8_t *env;
	struct change c;
	size_t len;

	change_init(&c, KIND_NOTE, note_id);
	if (change_set(&c, NULL, "action", "reread") != 0)
		return -1;
	c.ops[0].npreds = 1;
	memcpy(c.ops[0].preds[0].author, pred_author->pk, PROTO_IDLEN);
	c.ops[0].preds[0].seq = pred_seq;
	if (store_begin(st, STORE_RDONLY, &t) != 0 ||
	    store_log_get(t, pred_author->pk, pred_seq, &env, &len) != 0 ||
	    proto_envelope_decode(&e, env, len) != 0)
		return -1;
	proto_envelope_hash(&e, c.ops[0].preds[0].hash);
	c.ops[0].preds[0].has_hash = 1;
	store_abort(t);
	return append(st, a, &kr.keys[0], &c);
}

static void
vec_of(struct vec *v, const struct author *a, uint64_t seq,
    const struct author *b, uint64_t bseq)
{
	memset(v, 0, sizeof(*v));
	if (a != NULL)
		(void)vec_raise(v, a->pk, seq, NULL);
	if (b != NULL)
		(void)vec_raise(v, b->pk, bseq, NULL);
}

/* writer's receipt about device: it held holds, writer held self. */
static int
receipt(struct store *st, const struct author *writer,
    const struct author *device, const struct vec *holds,
    const struct vec *self)
{
	struct store_author sa = { writer->pk, writer->sk, &kr.keys[2],
	    SCOPE_TEAM };
	struct store_txn *t;
	int rc;

	if (store_begin(st, 0, &t) != 0)
		return -1;
	wall += 60000;
	if ((rc = receipt_append(t, &sa, device->pk, holds, self,
	    wall)) != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

static int
report(struct store *st, const struct author *who, struct report *r)
{
	struct store_txn *t;
	int rc;

	if (store_begin(st, STORE_RDONLY, &t) != 0)
		return -1;
	rc = report_compute(&dev, t, who->pk, r);
	store_abort(t);
	return rc;
}

/* -1 if s is not in the report, else whether it is certain. */
static int
listed(const struct report *r, const uint8_t *s)
{
	for (size_t i = 0; i < r->nstudents; i++)
		if (memcmp(r->students[i].id, s, PROTO_RECIDLEN) == 0)
			return r->students[i].certain;
	return -1;
}

/* Receipts about D: it held what the box saw it acknowledge, no more. */
static void
test_receipt_about(void)
{
	struct store *st = setup();
	uint8_t s[4][PROTO_RECIDLEN];
	struct vec holds, none = { 0 };
	struct report r;

	CHECK(st != NULL);
	for (int i = 0; i < 4; i++)
		CHECK(student(st, &A, "Student", s[i]) == 0);
	vec_of(&holds, &A, 2, NULL, 0);
	CHECK(receipt(st, &B, &D, &holds, &none) == 0);
	CHECK(report(st, &D, &r) == 0);
	CHECK(r.nstudents == 2 && listed(&r, s[0]) == 1 &&
	    listed(&r, s[1]) == 1 && listed(&r, s[2]) == -1);
	CHECK(r.nreceipts == 1 && r.last_sync == wall &&
	    memcmp(r.last_by, B.pk, PROTO_IDLEN) == 0);
	CHECK(!r.incomplete && r.ngaps == 0);
	report_free(&r);
	/* A later receipt supersedes the box's earlier one in the index. */
	vec_free(&holds);
	vec_of(&holds, &A, 3, NULL, 0);
	CHECK(receipt(st, &B, &D, &holds, &none) == 0);
	CHECK(report(st, &D, &r) == 0);
	CHECK(r.nstudents == 3 && listed(&r, s[2]) == 1 && r.nreceipts == 1);
	report_free(&r);
	vec_free(&holds);
	teardown(st);
}

/* What D wrote, what its entries name, and its receipts' "self". */
static void
test_own_entries_and_self(void)
{
	struct store *st = setup();
	uint8_t s[4][PROTO_RECIDLEN], n1[PROTO_RECIDLEN], n2[PROTO_RECIDLEN];
	struct vec self, none = { 0 };
	struct report r;

	CHECK(st != NULL);
	for (int i = 0; i < 4; i++)		/* A:1-4 */
		CHECK(student(st, &A, "Student", s[i]) == 0);
	CHECK(note(st, &D, &kr.keys[0], s[3], n1) == 0);	/* D:1 */
	/* Its entry reached us, and no receipt says how: it may hold all
	 * that was written before it. */
	CHECK(report(st, &D, &r) == 0);
	CHECK(r.incomplete && listed(&r, s[3]) == 1 &&
	    listed(&r, s[0]) == 0 && listed(&r, s[2]) == 0);
	report_free(&r);
	/* P's note about s[2] (P:1); D edits it, naming P:1: D held it. */
	CHECK(note(st, &P, &kr.keys[0], s[2], n2) == 0);
	CHECK(note_edit(st, &D, n2, &P, 1) == 0);		/* D:2 */
	vec_of(&self, &A, 1, &D, 2);
	CHECK(receipt(st, &D, &P, &none, &self) == 0);	/* D's own word */
	CHECK(report(st, &D, &r) == 0);
	CHECK(listed(&r, s[0]) == 1 && listed(&r, s[1]) == -1 &&
	    listed(&r, s[2]) == 1 && listed(&r, s[3]) == 1);
	CHECK(!r.incomplete && r.nreceipts == 1);
	report_free(&r);
	vec_free(&self);
	teardown(st);
}

/* Known held but not held here, or sealed under a key not held here. */
static void
test_uncertain_entries(void)
{
	struct store *st = setup();
	uint8_t s[2][PROTO_RECIDLEN], n[PROTO_RECIDLEN];
	struct vec holds, none = { 0 };
	struct report r;

	CHECK(st != NULL);
	CHECK(student(st, &A, "One", s[0]) == 0);		/* A:1 */
	CHECK(note(st, &A, &stranger, s[0], n) == 0);		/* A:2 */
	CHECK(student(st, &A, "Two", s[1]) == 0);		/* A:3 */
	vec_of(&holds, &A, 5, NULL, 0);
	CHECK(receipt(st, &B, &D, &holds, &none) == 0);
	CHECK(report(st, &D, &r) == 0);
	CHECK(r.nstudents == 2 && listed(&r, s[0]) == 1 &&
	    listed(&r, s[1]) == 1);
	CHECK(r.ngaps == 2);
	CHECK(r.ngaps == 2 && r.gaps[0].from == 2 && r.gaps[0].to == 2 &&
	    r.gaps[1].from == 4 && r.gaps[1].to == 5 &&
	    memcmp(r.gaps[1].author, A.pk, PROTO_IDLEN) == 0);
	report_free(&r);
	vec_free(&holds);
	teardown(st);
}

/* D's entries past every receipt: a session without one, after which
 * what was written before D's last entry may be in D's hands. */
static void
test_session_without_receipt(void)
{
	struct store *st = setup();
	uint8_t s[4][PROTO_RECIDLEN], n[PROTO_RECIDLEN];
	struct vec holds, none = { 0 };
	struct report r;

	CHECK(st != NULL);
	CHECK(student(st, &A, "Held", s[0]) == 0);		/* A:1 */
	CHECK(note(st, &D, &kr.keys[0], s[0], n) == 0);		/* D:1 */
	vec_of(&holds, &A, 1, &D, 1);
	CHECK(receipt(st, &B, &D, &holds, &none) == 0);
	CHECK(student(st, &A, "Before", s[1]) == 0);		/* A:2 */
	CHECK(student(st, &P, "Before too", s[2]) == 0);	/* P:1 */
	CHECK(note(st, &D, &kr.keys[0], s[0], n) == 0);		/* D:2 */
	CHECK(student(st, &A, "After", s[3]) == 0);		/* A:3 */
	CHECK(report(st, &D, &r) == 0);
	CHECK(r.incomplete && r.receipted_own == 1 && r.own_head == 2);
	CHECK(listed(&r, s[0]) == 1 && listed(&r, s[1]) == 0 &&
	    listed(&r, s[2]) == 0 && listed(&r, s[3]) == -1);
	report_free(&r);
	vec_free(&holds);
	teardown(st);
}

/* The receipts index is derived: a rebuild from the log gives it again. */
static void
test_rebuild(void)
{
	struct store *st = setup();
	uint8_t s[PROTO_RECIDLEN];
	struct vec holds, none = { 0 };
	struct store_txn *t;
	uint64_t seq = 0;

	CHECK(st != NULL);
	CHECK(student(st, &A, "One", s) == 0);
	vec_of(&holds, &A, 1, NULL, 0);
	CHECK(receipt(st, &B, &D, &holds, &none) == 0);
	CHECK(receipt(st, &B, &D, &holds, &none) == 0);
	CHECK(store_rebuild(st, &kr) == 0);
	CHECK(store_begin(st, STORE_RDONLY, &t) == 0);
	CHECK(store_receipt_get(t, D.pk, B.pk, &seq) == 0 && seq == 2);
	CHECK(store_receipt_get(t, D.pk, A.pk, &seq) == 0 && seq == 0);
	store_abort(t);
	vec_free(&holds);
	teardown(st);
}

/* When the daemon writes a receipt (receipt_note): when the peer newly
 * acknowledged data, at a session's end or every RECEIPT_EVERY_MS; never
 * for receipts alone (or two devices' receipts would call for each other
 * without end), but once a day at a session's end. */
static void
test_receipt_due(void)
{
	struct store *st = setup();
	uint8_t s[2][PROTO_RECIDLEN];
	struct store_txn *t;
	struct receipt rc;
	struct vec theirs;
	uint64_t now, seq = 0;
	struct receipt_self said = { 0 };

	CHECK(st != NULL);
	dev.sign_sk = A.sk;
	dev.receipt = &kr.keys[2];
	dev.cache = calloc(1, sizeof(*dev.cache));	/* as device_open */
	memcpy(dev.founder, P.pk, PROTO_IDLEN);	/* P: a member, no box */
	CHECK(student(st, &A, "One", s[0]) == 0);		/* A:1 */
	now = wall;
	vec_of(&theirs, &A, 1, NULL, 0);
	CHECK(store_begin(st, 0, &t) == 0);
	CHECK(receipt_note(&dev, t, P.pk, &theirs, now, 0, &said) == 1); /* A:2 */
	CHECK(receipt_note(&dev, t, P.pk, &theirs, now + 1, 1, &said) == 0);
	CHECK(receipt_note(&dev, t, A.pk, &theirs, now + 1, 1, &said) == 0);
	vec_free(&theirs);
	/* P took our receipt A:2: nothing that calls for another. */
	vec_of(&theirs, &A, 2, NULL, 0);
	CHECK(receipt_note(&dev, t, P.pk, &theirs, now + 2, 1, &said) == 0);
	CHECK(receipt_note(&dev, t, P.pk, &theirs, now + 2, 0, &said) == 0);
	/* A day on, a session's end says when P was last seen. */
	CHECK(receipt_note(&dev, t, P.pk, &theirs,
	    now + UINT64_C(25) * 3600 * 1000, 1, &said) == 1);	/* A:3 */
	/* The first receipt of a transaction carries the writer's own
	 * vector, and so does a later one about the same peer: it replaces
	 * the first in the index, and the report reads our vector there. */
	CHECK(receipt_read(&dev, t, A.pk, 2, &rc) == 0 && rc.self.n == 1 &&
	    vec_seq(&rc.self, A.pk) == 1 && rc.holds.n == 1);
	receipt_free(&rc);
	CHECK(receipt_read(&dev, t, A.pk, 3, &rc) == 0 && rc.self.n == 1 &&
	    vec_seq(&rc.holds, A.pk) == 2);
	receipt_free(&rc);
	CHECK(store_receipt_get(t, P.pk, A.pk, &seq) == 0 && seq == 3);
	CHECK(store_commit(t) == 0);
	CHECK(student(st, &A, "Two", s[1]) == 0);		/* A:4 */
	vec_free(&theirs);
	vec_of(&theirs, &A, 4, NULL, 0);
	now += UINT64_C(25) * 3600 * 1000;
	CHECK(store_begin(st, 0, &t) == 0);
	memset(&said, 0, sizeof(said));
	CHECK(receipt_note(&dev, t, P.pk, &theirs, now + 60000, 0, &said) == 0);
	CHECK(receipt_note(&dev, t, P.pk, &theirs, now + RECEIPT_EVERY_MS,
	    0, &said) == 1);					/* A:5 */
	CHECK(store_receipt_get(t, P.pk, A.pk, &seq) == 0 && seq == 5);
	/* A new transaction's first receipt says it again, up to date. */
	CHECK(receipt_read(&dev, t, A.pk, 5, &rc) == 0 &&
	    vec_seq(&rc.self, A.pk) == 4);
	receipt_free(&rc);
	CHECK(store_commit(t) == 0);
	vec_free(&theirs);
	team_view_free(dev.cache->members);
	free(dev.cache);
	teardown(st);
}

static int
count_cb(const uint8_t *author, uint64_t seq, void *arg)
{
	(void)author;
	(void)seq;
	(*(int *)arg)++;
	return 0;
}

static void
test_vector_text(void)
{
	uint8_t a[PROTO_IDLEN], b[PROTO_IDLEN];
	char buf[512], bad[512];
	size_t len = 0;
	int n = 0;

	memset(a, 0x11, sizeof(a));
	memset(b, 0xab, sizeof(b));
	CHECK(proto_vector_put(buf, sizeof(buf), &len, a, 7) == 0);
	CHECK(proto_vector_put(buf, sizeof(buf), &len, b, 12345) == 0);
	CHECK(proto_vector_each(buf, len, count_cb, &n) == 0 && n == 2);
	CHECK(proto_vector_each("", 0, NULL, NULL) == 0);
	CHECK(proto_vector_put(buf, 100, &len, b, 1) == -1);	/* no room */
	CHECK(proto_vector_put(buf, sizeof(buf), &len, b, 0) == -1);
	/* b before a, a twice, upper case, a leading zero, seq 0, a
	 * trailing comma: each spelled otherwise than the one way. */
	len = 0;
	CHECK(proto_vector_put(bad, sizeof(bad), &len, b, 1) == 0);
	CHECK(proto_vector_put(bad, sizeof(bad), &len, a, 1) == 0);
	CHECK(proto_vector_each(bad, len, NULL, NULL) == -1);
	snprintf(bad, sizeof(bad), "%.*s,%.*s", 66, buf, 66, buf);
	CHECK(proto_vector_each(bad, strlen(bad), NULL, NULL) == -1);
	snprintf(bad, sizeof(bad), "%s", buf);
	bad[0] = 'A';
	CHECK(proto_vector_each(bad, strlen(bad), NULL, NULL) == -1);
	snprintf(bad, sizeof(bad), "%.65s07", buf);
	CHECK(proto_vector_each(bad, strlen(bad), NULL, NULL) == -1);
	snprintf(bad, sizeof(bad), "%.65s0", buf);
	CHECK(proto_vector_each(bad, strlen(bad), NULL, NULL) == -1);
	snprintf(bad, sizeof(bad), "%.66s,", buf);
	CHECK(proto_vector_each(bad, strlen(bad), NULL, NULL) == -1);
	snprintf(bad, sizeof(bad), "%.65s99999999999999999999", buf);
	CHECK(proto_vector_each(bad, strlen(bad), NULL, NULL) == -1);
	CHECK(proto_time_check("1790000000000", 13) == 0);
	CHECK(proto_time_check("0", 1) == -1 && proto_time_check("", 0) == -1);
}

/* The one validation knows receipts: their key, record and fields. */
static void
test_schema(void)
{
	uint8_t dev_id[PROTO_IDLEN], id[PROTO_RECIDLEN];
	char hex[2 * PROTO_IDLEN + 1];
	const char *why;
	struct change c;

	randombytes_buf(dev_id, sizeof(dev_id));
	sodium_bin2hex(hex, sizeof(hex), dev_id, PROTO_IDLEN);
	proto_receipt_id(dev_id, id);
	change_init(&c, KIND_RECEIPT, id);
	CHECK(change_set(&c, NULL, "device", hex) == 0 &&
	    change_set(&c, NULL, "synced", "1790000000000") == 0 &&
	    change_set(&c, NULL, "holds", "") == 0);
	CHECK(proto_change_validate(&c, PROTO_KEY_RECEIPT, &why) == 0);
	CHECK(proto_change_validate(&c, PROTO_KEY_NETWORK, &why) == -1);
	CHECK(proto_change_validate(&c, PROTO_KEY_CONTENT, &why) == -1);
	c.record_id[0] ^= 1;
	CHECK(proto_change_validate(&c, PROTO_KEY_RECEIPT, &why) == -1);
	c.record_id[0] ^= 1;
	c.ops[2].value = (const uint8_t *)"x";
	c.ops[2].value_len = 1;
	CHECK(proto_change_validate(&c, PROTO_KEY_RECEIPT, &why) == -1);
	c.nops = 2;
	CHECK(change_tombstone(&c, NULL, 1) == 0);
	CHECK(proto_change_validate(&c, PROTO_KEY_RECEIPT, &why) == -1);
}

TAP_MAIN(TAP_TEST(test_receipt_about), TAP_TEST(test_own_entries_and_self),
    TAP_TEST(test_uncertain_entries), TAP_TEST(test_session_without_receipt),
    TAP_TEST(test_rebuild), TAP_TEST(test_receipt_due),
    TAP_TEST(test_vector_text),
    TAP_TEST(test_schema))
