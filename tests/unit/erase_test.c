/*
 * Erasure's formats and store (issue 12): a stub keeps its entry's hash
 * and signature and opens nothing; a release that predates stubs reads
 * one as a newer envelope; drop lists round-trip and refuse disorder; the
 * schema takes an erase only under the erase key; and in a store, an
 * entry named for dropping is held as its stub whichever way it comes,
 * an entry about an erased student is dropped on apply, and every chain
 * still verifies.
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

static struct store_keyring kr;
static uint8_t pk[PROTO_IDLEN], sk[PROTO_SKLEN];

static int
seal(struct envelope *e, msgpack_sbuffer *sb, uint8_t *ct)
{
	static const uint8_t pt[] = "any plaintext";

	memset(e, 0, sizeof(*e));
	e->version = PROTO_VERSION;
	memcpy(e->author, pk, PROTO_IDLEN);
	e->seq = 7;
	memcpy(e->key_id, kr.keys[0].id, PROTO_KEYIDLEN);
	if (proto_envelope_seal(e, kr.keys[0].key, pt, sizeof(pt), ct, sk) != 0)
		return -1;
	return proto_envelope_encode(e, sb);
}

static void
test_stub_keeps_hash(void)
{
	uint8_t ct[64], h1[PROTO_HASHLEN], h2[PROTO_HASHLEN], pt[64];
	uint8_t author[PROTO_IDLEN];
	struct envelope e, d;
	msgpack_sbuffer sb, sb2;
	uint64_t v, seq;

	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&sb2);
	CHECK(seal(&e, &sb, ct) == 0);
	proto_envelope_hash(&e, h1);
	proto_envelope_erase(&e);
	CHECK(e.erased && e.ciphertext == NULL && e.ciphertext_len == 0);
	proto_envelope_hash(&e, h2);
	CHECK(memcmp(h1, h2, PROTO_HASHLEN) == 0);
	CHECK(proto_envelope_verify(&e, h2) == 0);
	CHECK(proto_envelope_encode(&e, &sb2) == 0);
	CHECK(proto_envelope_decode(&d, (uint8_t *)sb2.data, sb2.size) == 0);
	CHECK(d.erased && d.seq == 7);
	proto_envelope_hash(&d, h2);
	CHECK(memcmp(h1, h2, PROTO_HASHLEN) == 0);
	CHECK(proto_envelope_open(&d, kr.keys[0].key, pt) == -1);
	/* Placed as the entry it was, by a device that knows stubs. */
	CHECK(proto_envelope_peek((uint8_t *)sb2.data, sb2.size, &v, author,
	    &seq) == 0 && v == PROTO_VERSION && seq == 7);
	/* Its version byte is 0x81: newer to a release before stubs. */
	CHECK(((uint8_t *)sb2.data)[1] == 0xcc &&
	    ((uint8_t *)sb2.data)[2] == (PROTO_STUB | PROTO_VERSION));
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&sb2);
}

static void
test_drop_list(void)
{
	struct write_ref refs[3], back[3];
	char *text;
	size_t len, n;

	memset(refs, 0, sizeof(refs));
	for (int i = 0; i < 3; i++) {
		memset(refs[i].author, 3 - i, PROTO_IDLEN);
		refs[i].seq = 5;
		randombytes_buf(refs[i].hash, PROTO_HASHLEN);
		refs[i].has_hash = 1;
	}
	CHECK(proto_erase_encode(refs, 3, &text, &len) == -1);	/* unsorted */
	n = 3;
	proto_erase_sort(refs, &n);
	CHECK(n == 3 && refs[0].author[0] == 1);
	CHECK(proto_erase_encode(refs, 3, &text, &len) == 0);
	CHECK(proto_erase_decode(text, len, back, 3, &n) == 0 && n == 3);
	CHECK(memcmp(back, refs, sizeof(refs)) == 0);
	CHECK(proto_erase_decode(text, len, back, 2, &n) == -1);
	CHECK(proto_erase_check(text, len) == 0);
	CHECK(proto_erase_check(text, len - 1) == -1);
	free(text);
	CHECK(proto_erase_encode(refs, 0, &text, &len) == -1);
}

static void
erase_change(struct change *c, const char *student)
{
	memset(c, 0, sizeof(*c));
	memset(c->record_id, 9, PROTO_RECIDLEN);
	c->kind = KIND_ERASE;
	c->nops = 1;
	c->ops[0].type = OP_SET;
	c->ops[0].field = "student";
	c->ops[0].field_len = 7;
	c->ops[0].value = (const uint8_t *)student;
	c->ops[0].value_len = strlen(student);
}

static void
test_schema(void)
{
	struct change c;
	const char *why;

	erase_change(&c, "0123456789abcdef0123456789abcdef");
	CHECK(proto_change_validate(&c, PROTO_KEY_ERASE, &why) == 0);
	CHECK(proto_change_validate(&c, PROTO_KEY_CONTENT, &why) == -1);
	CHECK(proto_change_validate(&c, PROTO_KEY_RECEIPT, &why) == -1);
	c.ops[0].type = OP_DELETE;
	c.ops[0].field_len = 0;
	c.ops[0].value = NULL;
	c.ops[0].value_len = 0;
	CHECK(proto_change_validate(&c, PROTO_KEY_ERASE, &why) == -1);
}

/* A student and a note about it, by the test's author, in a new store;
 * the envelopes copied out into envs[0..1]. */
static struct store *
store_with_note(char *dir, uint8_t *student, uint8_t **envs, size_t *lens)
{
	struct store_author a = { pk, sk, &kr.keys[0], SCOPE_TEAM };
	char hex[2 * PROTO_RECIDLEN + 1];
	struct store *st = NULL;
	struct store_txn *t;
	struct write_ref ref;
	const uint8_t *env;
	struct change c;

	if (mkdtemp(dir) == NULL || store_open(&st, dir, STORE_CREATE) != 0 ||
	    store_begin(st, 0, &t) != 0)
		return NULL;
	randombytes_buf(student, PROTO_RECIDLEN);
	sodium_bin2hex(hex, sizeof(hex), student, PROTO_RECIDLEN);
	for (int i = 0; i < 2; i++) {
		memset(&c, 0, sizeof(c));
		c.nops = 1;
		c.ops[0].type = OP_SET;
		if (i == 0) {
			memcpy(c.record_id, student, PROTO_RECIDLEN);
			c.kind = KIND_STUDENT;
			c.ops[0].field = "name";
			c.ops[0].value = (const uint8_t *)"Zed";
			c.ops[0].value_len = 3;
		} else {
			randombytes_buf(c.record_id, PROTO_RECIDLEN);
			c.kind = KIND_NOTE;
			c.ops[0].field = "student";
			c.ops[0].value = (const uint8_t *)hex;
			c.ops[0].value_len = strlen(hex);
		}
		c.ops[0].field_len = strlen(c.ops[0].field);
		if (store_append_local(t, &a, &c, 1760000000000, &ref) != 0 ||
		    store_log_get(t, ref.author, ref.seq, &env, &lens[i]) != 0)
			return NULL;
		envs[i] = malloc(lens[i]);
		memcpy(envs[i], env, lens[i]);
	}
	return store_commit(t) == 0 ? st : NULL;
}

static void
rm_store(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

static int
held_erased(struct store_txn *t, uint64_t seq)
{
	struct envelope e;
	const uint8_t *env;
	size_t len;

	return store_log_get(t, pk, seq, &env, &len) == 0 &&
	    proto_envelope_decode(&e, env, len) == 0 && e.erased;
}

/* A received entry named for dropping is held as its stub. */
static void
test_store_drop_on_receive(void)
{
	char d1[] = "/tmp/satchel-erase-test.XXXXXX";
	char d2[] = "/tmp/satchel-erase-test.XXXXXX";
	uint8_t student[PROTO_RECIDLEN], *envs[2] = { 0 };
	size_t lens[2];
	struct store *a, *b = NULL;
	struct store_txn *t;
	struct envelope e;
	struct write_ref ref;
	uint64_t n;

	a = store_with_note(d1, student, envs, lens);
	CHECK(a != NULL && mkdtemp(d2) != NULL &&
	    store_open(&b, d2, STORE_CREATE) == 0);
	if (a == NULL || b == NULL)
		goto out;
	CHECK(proto_envelope_decode(&e, envs[1], lens[1]) == 0);
	memcpy(ref.author, pk, PROTO_IDLEN);
	ref.seq = e.seq;
	proto_envelope_hash(&e, ref.hash);
	ref.has_hash = 1;
	CHECK(store_begin(b, 0, &t) == 0);
	CHECK(store_drop_put(t, &ref) == 0);
	CHECK(store_apply_entry(t, &kr, envs[0], lens[0], 1) == 0);
	CHECK(store_apply_entry(t, &kr, envs[1], lens[1], 1) == 0);
	CHECK(!held_erased(t, 1) && held_erased(t, 2));
	CHECK(store_verify_log(t, &n) == 0 && n == 2);
	CHECK(store_commit(t) == 0);
out:
	free(envs[0]);
	free(envs[1]);
	if (a != NULL)
		store_close(a);
	if (b != NULL)
		store_close(b);
	rm_store(d1);
	rm_store(d2);
}

/* A held entry becomes its stub; a full copy of it is then a duplicate;
 * a rebuild drops what touches an erased student; chains verify. */
static void
test_store_erase_held(void)
{
	char d1[] = "/tmp/satchel-erase-test.XXXXXX";
	uint8_t student[PROTO_RECIDLEN], *envs[2] = { 0 };
	uint8_t other[PROTO_HASHLEN] = { 1 };
	size_t nerased;
	size_t lens[2];
	struct store *a;
	struct store_txn *t;
	struct record *r = NULL;
	uint64_t n;
	int erased;

	a = store_with_note(d1, student, envs, lens);
	CHECK(a != NULL);
	if (a == NULL)
		goto out;
	CHECK(store_begin(a, 0, &t) == 0);
	CHECK(store_erased_put(t, student, 1) == 0);
	/* A drop that names another hash at that place drops nothing. */
	CHECK(store_erase_held(t, pk, 2, other, &erased) == 0 && !erased);
	CHECK(store_erase_held(t, pk, 2, NULL, &erased) == 0 && erased);
	CHECK(store_erase_held(t, pk, 2, NULL, &erased) == 0 && !erased);
	CHECK(held_erased(t, 2) && !held_erased(t, 1));
	CHECK(store_verify_log(t, &n) == 0 && n == 2);
	CHECK(store_apply_entry(t, &kr, envs[1], lens[1], 1) == STORE_EDUP);
	CHECK(store_commit(t) == 0);
	CHECK(store_rebuild(a, &kr) == 0);
	CHECK(store_begin(a, STORE_RDONLY, &t) == 0);
	CHECK(store_record_get(t, KIND_STUDENT, student, &r) ==
	    STORE_ENOTFOUND);
	store_abort(t);
	/* The rebuild named the student's entry; its stub comes after. */
	CHECK(store_begin(a, 0, &t) == 0);
	CHECK(store_erase_pending(t) && !held_erased(t, 1));
	CHECK(store_erase_named(t, &nerased) == 0 && nerased == 1);
	CHECK(!store_erase_pending(t) && held_erased(t, 1));
	CHECK(store_verify_log(t, &n) == 0 && n == 2);
	CHECK(store_commit(t) == 0);
	record_free(r);
	CHECK(store_erase_scrub(a) == 0);
out:
	free(envs[0]);
	free(envs[1]);
	if (a != NULL)
		store_close(a);
	rm_store(d1);
}

int
main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(test_stub_keeps_hash), TAP_TEST(test_drop_list),
		TAP_TEST(test_schema), TAP_TEST(test_store_drop_on_receive),
		TAP_TEST(test_store_erase_held),
	};

	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	kr.nkeys = 1;
	randombytes_buf(kr.keys[0].key, PROTO_KEYLEN);
	proto_key_id(kr.keys[0].key, kr.keys[0].id);
	kr.keys[0].use = KEY_ANY;
	return tap_run(tests, sizeof(tests) / sizeof(tests[0]));
}
