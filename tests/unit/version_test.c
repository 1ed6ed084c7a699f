/*
 * Format versions. The store's: a new store is at this binary's version;
 * a version-1 store (Satchel 0.1's "satchel-store-1" marker) is migrated
 * once and its derived tables marked for a rebuild; a store of a newer
 * version is refused, naming the release it needs, and nothing is written
 * to it; a damaged marker is no store. The envelope's: an entry of a newer
 * version is placed by its author and seq (proto_envelope_peek) though it
 * cannot be decoded. The invite's: a newer one is named. The rebuild of
 * real entries, and old and new binaries side by side, are in
 * tests/regress/050-upgrade.sh.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "store.h"
#include "wire.h"
#include "tap.h"
#include "rmdir_all.h"

#define LEN(a)	(sizeof(a) / sizeof((a)[0]))

static int
tmpdir(char dir[64])
{
	snprintf(dir, 64, "%s/satchel-migrate.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static uint64_t
meta_u64(struct store *st, const char *key, int *found)
{
	struct store_txn *t;
	const void *v;
	size_t len;
	uint64_t n = 0;

	*found = 0;
	if (store_begin(st, STORE_RDONLY, &t) != 0)
		return 0;
	if (store_meta_get(t, key, &v, &len) == 0 && len == 8) {
		for (size_t i = 0; i < 8; i++)
			n = (n << 8) | ((const uint8_t *)v)[i];
		*found = 1;
	}
	store_abort(t);
	return n;
}

/* Rewrites meta keys as a test fixture: val NULL deletes the key. */
struct meta_edit {
	const char	*key;
	const void	*val;
	size_t		 len;
};

static int
meta_edit(const char *dir, const struct meta_edit *e, size_t n)
{
	struct store *st;
	struct store_txn *t;
	int rc;

	if ((rc = store_open(&st, dir, 0)) != 0)
		return rc;
	if ((rc = store_begin(st, 0, &t)) == 0) {
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = e[i].val == NULL ? store_meta_del(t, e[i].key) :
			    store_meta_put(t, e[i].key, e[i].val, e[i].len);
		rc = rc == 0 ? store_commit(t) : (store_abort(t), rc);
	}
	store_close(st);
	return rc;
}

/* Makes dir a store as Satchel 0.1 wrote it. */
static int
make_v1(const char *dir)
{
	static const struct meta_edit v1[] = {
		{ "format", "satchel-store-1", 15 },
		{ "store_version", NULL, 0 },
		{ "store_release", NULL, 0 },
		{ "derived_version", NULL, 0 },
	};
	struct store *st;
	int rc;

	if ((rc = store_open(&st, dir, STORE_CREATE)) != 0)
		return rc;
	store_close(st);
	return meta_edit(dir, v1, LEN(v1));
}

static void
test_new_store(void)
{
	struct store_format fmt;
	struct store *st;
	char dir[64];
	int found;

	if (tmpdir(dir) != 0) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK(store_open_format(&st, dir, STORE_CREATE, &fmt) == 0);
	CHECK(fmt.version == STORE_VERSION);
	store_close(st);
	CHECK(store_open_format(&st, dir, 0, &fmt) == 0);
	CHECK(fmt.version == STORE_VERSION && fmt.migrated_from ==
	    STORE_VERSION);
	CHECK(meta_u64(st, "store_version", &found) == STORE_VERSION &&
	    found);
	CHECK(meta_u64(st, "derived_version", &found) ==
	    STORE_DERIVED_VERSION && found);
	CHECK(store_needs_rebuild(st) == 0);
	store_close(st);
	rmdir_all(dir);
}

static void
test_v1_migrates_once(void)
{
	struct store_format fmt;
	struct store_keyring kr;
	struct store *st;
	uint8_t before[PROTO_HASHLEN], after[PROTO_HASHLEN];
	struct store_txn *t;
	char dir[64];
	int found;

	memset(&kr, 0, sizeof(kr));
	if (tmpdir(dir) != 0) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK(make_v1(dir) == 0);
	CHECK(store_open_format(&st, dir, 0, &fmt) == 0);
	if (st == NULL) {
		rmdir_all(dir);
		return;
	}
	CHECK(fmt.migrated_from == 1 && fmt.version == STORE_VERSION);
	CHECK(meta_u64(st, "store_version", &found) == STORE_VERSION &&
	    found);
	/* 0.1's derived tables are rebuilt once, by this version's rules. */
	CHECK(store_needs_rebuild(st) == 1);
	CHECK(store_begin(st, STORE_RDONLY, &t) == 0 &&
	    store_digest(t, before) == 0);
	store_abort(t);
	CHECK(store_rebuild(st, &kr) == 0);
	CHECK(store_needs_rebuild(st) == 0);
	CHECK(store_begin(st, STORE_RDONLY, &t) == 0 &&
	    store_digest(t, after) == 0);
	store_abort(t);
	CHECK(memcmp(before, after, sizeof(before)) == 0);
	store_close(st);
	/* Opening again runs no step. */
	CHECK(store_open_format(&st, dir, 0, &fmt) == 0);
	CHECK(fmt.migrated_from == STORE_VERSION);
	store_close(st);
	rmdir_all(dir);
}

static int
file_same(const char *path, const struct stat *was)
{
	struct stat sb;

	return stat(path, &sb) == 0 && sb.st_size == was->st_size &&
	    sb.st_mtim.tv_sec == was->st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == was->st_mtim.tv_nsec;
}

static void
test_newer_refused(void)
{
	static const uint8_t vn[8] = { 0, 0, 0, 0, 0, 0, 0, STORE_VERSION + 1 };
	const struct meta_edit newer[] = {
		{ "store_version", vn, 8 },
		{ "store_release", "9.9.0", 5 },
	};
	const struct meta_edit odd_release[] = {
		{ "store_release", "0.3\n; rm -rf", 12 },
	};
	struct store_format fmt;
	struct store *st = NULL;
	struct stat sb;
	char dir[64], path[128];

	if (tmpdir(dir) != 0) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK(store_open(&st, dir, STORE_CREATE) == 0);
	store_close(st);
	CHECK(meta_edit(dir, newer, LEN(newer)) == 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	CHECK(stat(path, &sb) == 0);
	usleep(20000);		/* an mtime that a write would move */
	st = (struct store *)&st;
	CHECK(store_open_format(&st, dir, 0, &fmt) == STORE_ENEWER);
	CHECK(st == NULL);
	CHECK(fmt.version == STORE_VERSION + 1 &&
	    strcmp(fmt.release, "9.9.0") == 0);
	CHECK(file_same(path, &sb));
	CHECK(store_open(&st, dir, 0) == STORE_ENEWER);
	CHECK(strcmp(store_strerror(STORE_ENEWER), "unknown store error") != 0);
	rmdir_all(dir);

	/* A release name that is not one is not repeated to the user. */
	if (tmpdir(dir) != 0) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK(store_open(&st, dir, STORE_CREATE) == 0);
	store_close(st);
	/* meta_edit cannot open a newer store: the release goes first. */
	CHECK(meta_edit(dir, odd_release, LEN(odd_release)) == 0);
	CHECK(meta_edit(dir, newer, 1) == 0);
	CHECK(store_open_format(&st, dir, 0, &fmt) == STORE_ENEWER);
	CHECK(fmt.version == STORE_VERSION + 1 && fmt.release[0] == '\0');
	rmdir_all(dir);
}

static void
test_damaged_marker(void)
{
	static const uint8_t short_v[4] = { 0, 0, 0, 2 };
	static const uint8_t v1[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	const struct meta_edit cases[][1] = {
		{ { "format", "satchel-store-9", 15 } },
		{ { "format", NULL, 0 } },
		{ { "store_version", NULL, 0 } },
		{ { "store_version", short_v, 4 } },
		{ { "store_version", v1, 8 } },	/* 1 has no integer */
	};
	struct store *st;
	char dir[64];

	for (size_t i = 0; i < LEN(cases); i++) {
		if (tmpdir(dir) != 0) {
			CHECK(!"mkdtemp");
			return;
		}
		CHECK(store_open(&st, dir, STORE_CREATE) == 0);
		store_close(st);
		CHECK(meta_edit(dir, cases[i], 1) == 0);
		CHECK(store_open(&st, dir, 0) == STORE_ENOSTORE);
		rmdir_all(dir);
	}
}

/* A sealed envelope of author pk at seq 7, encoded. */
static void
sealed(msgpack_sbuffer *sb, uint8_t pk[PROTO_IDLEN])
{
	uint8_t sk[PROTO_SKLEN], key[PROTO_KEYLEN], ct[3 + PROTO_TAGLEN];
	struct envelope e;

	memset(&e, 0, sizeof(e));
	crypto_sign_keypair(pk, sk);
	randombytes_buf(key, sizeof(key));
	e.version = PROTO_VERSION;
	memcpy(e.author, pk, PROTO_IDLEN);
	e.seq = 7;
	e.hlc = 1;
	proto_key_id(key, e.key_id);
	msgpack_sbuffer_init(sb);
	if (proto_envelope_seal(&e, key, (const uint8_t *)"abc", 3, ct,
	    sk) != 0 || proto_envelope_encode(&e, sb) != 0)
		CHECK(!"seal");
}

static void
test_envelope_peek(void)
{
	uint8_t pk[PROTO_IDLEN], author[PROTO_IDLEN];
	msgpack_sbuffer sb, fut;
	msgpack_packer pk2;
	struct envelope e;
	uint64_t v, seq;
	uint8_t *p;

	sealed(&sb, pk);
	p = (uint8_t *)sb.data;
	CHECK(proto_envelope_decode(&e, p, sb.size) == 0);
	CHECK(proto_envelope_peek(p, sb.size, &v, author, &seq) == 0);
	CHECK(v == PROTO_VERSION && seq == 7 &&
	    memcmp(author, pk, PROTO_IDLEN) == 0);
	/* The same entry as version 2 would write it: not decoded, placed. */
	CHECK(p[0] == 0x9a && p[1] == PROTO_VERSION);
	p[1] = PROTO_VERSION + 1;
	CHECK(proto_envelope_decode(&e, p, sb.size) != 0);
	CHECK(proto_envelope_peek(p, sb.size, &v, author, &seq) == 0);
	CHECK(v == PROTO_VERSION + 1 && seq == 7);
	/* Any cut is refused. */
	for (size_t cut = 0; cut < sb.size; cut++)
		CHECK(proto_envelope_peek(p, cut, &v, author, &seq) == -1);
	msgpack_sbuffer_destroy(&sb);

	/* A newer layout: the three first fields, then anything. */
	msgpack_sbuffer_init(&fut);
	msgpack_packer_init(&pk2, &fut, msgpack_sbuffer_write);
	msgpack_pack_array(&pk2, 4);
	msgpack_pack_uint8(&pk2, 9);
	mp_pack_bin(&pk2, pk, PROTO_IDLEN);
	msgpack_pack_uint64(&pk2, 1);
	msgpack_pack_map(&pk2, 1);
	mp_pack_str(&pk2, "new", 3);
	msgpack_pack_nil(&pk2);
	CHECK(proto_envelope_peek((const uint8_t *)fut.data, fut.size, &v,
	    author, &seq) == 0 && v == 9 && seq == 1);
	/* Version 0, seq 0, a short author, two fields: not an envelope. */
	for (int bad = 0; bad < 4; bad++) {
		msgpack_sbuffer_clear(&fut);
		msgpack_pack_array(&pk2, bad == 3 ? 2 : 3);
		msgpack_pack_uint8(&pk2, bad == 0 ? 0 : 2);
		mp_pack_bin(&pk2, pk, bad == 2 ? PROTO_IDLEN - 1 : PROTO_IDLEN);
		if (bad != 3)
			msgpack_pack_uint64(&pk2, bad == 1 ? 0 : 1);
		CHECK(proto_envelope_peek((const uint8_t *)fut.data, fut.size,
		    &v, author, &seq) == -1);
	}
	msgpack_sbuffer_destroy(&fut);
}

/* An invite of a newer version is named, whatever its fields. */
static void
test_invite_newer(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct invite inv;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint8(&pk, INVITE_VERSION + 1);
	mp_pack_str(&pk, "new", 3);
	CHECK(invite_decode(&inv, (const uint8_t *)sb.data, sb.size) == -2);
	CHECK(inv.version == INVITE_VERSION + 1);
	/* This version with two fields, or no version: damaged. */
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint8(&pk, INVITE_VERSION);
	mp_pack_str(&pk, "new", 3);
	CHECK(invite_decode(&inv, (const uint8_t *)sb.data, sb.size) == -1);
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 0);
	CHECK(invite_decode(&inv, (const uint8_t *)sb.data, sb.size) == -1);
	msgpack_sbuffer_destroy(&sb);
}

/* Encodes c and decodes it into *out (heap), which borrows the bytes
 * only until this returns: the version chosen, and whether the decoded
 * change validates in *valid. */
static int
round_version(const struct change *c, struct change *out, int *valid)
{
	msgpack_sbuffer sb;
	const char *why;
	int v = -1;

	*valid = 0;
	msgpack_sbuffer_init(&sb);
	if (proto_change_encode(c, &sb) == 0 &&
	    proto_change_decode(out, (const uint8_t *)sb.data, sb.size) == 0) {
		v = out->version;
		*valid = proto_change_validate(out, PROTO_KEY_CONTENT,
		    &why) == 0;
	}
	msgpack_sbuffer_destroy(&sb);
	return v;
}

/* The change's version 3 (units, slices, scores, the student's words):
 * written only by a change that needs it, so the previous release reads
 * every other; what a version lacks is invalid in it on every device. */
static void
test_change_v3(void)
{
	struct change *c = calloc(1, sizeof(*c)), *d = calloc(1, sizeof(*d));
	const char *why;
	int valid;
	static const char words[] = "I like endings", hex[] =
	    "00112233445566778899aabbccddeeff";

	if (c == NULL || d == NULL) {
		CHECK(0);
		goto out;
	}
	c->kind = KIND_NOTE;
	c->nops = 1;
	c->ops[0].type = OP_SET;
	c->ops[0].field = "student";
	c->ops[0].field_len = 7;
	c->ops[0].value = (const uint8_t *)hex;
	c->ops[0].value_len = 32;
	CHECK(proto_change_needs(c) == 1);
	CHECK(round_version(c, d, &valid) == 1 && valid);	/* old: v1 */
	c->ops[1] = c->ops[0];
	c->ops[1].field = "student_words";
	c->ops[1].field_len = 13;
	c->ops[1].value = (const uint8_t *)words;
	c->ops[1].value_len = strlen(words);
	c->nops = 2;
	CHECK(proto_change_needs(c) == 3);
	CHECK(proto_change_validate(c, PROTO_KEY_CONTENT, &why) == 0);
	CHECK(round_version(c, d, &valid) == 3 && valid);
	/* The same op in a v1 or v2 change: a field that version lacks. */
	c->version = 2;
	CHECK(proto_change_validate(c, PROTO_KEY_CONTENT, &why) == -1 &&
	    strstr(why, "field") != NULL);
	c->version = 1;
	CHECK(proto_change_validate(c, PROTO_KEY_CONTENT, &why) == -1);
	/* A unit is a kind of version 3. */
	memset(c, 0, sizeof(*c));
	c->kind = KIND_UNIT;
	c->nops = 1;
	c->ops[0].type = OP_SET;
	c->ops[0].field = "name";
	c->ops[0].field_len = 4;
	c->ops[0].value = (const uint8_t *)"Fractions";
	c->ops[0].value_len = 9;
	CHECK(round_version(c, d, &valid) == 3 && valid);
	c->version = 2;
	CHECK(proto_change_validate(c, PROTO_KEY_CONTENT, &why) == -1 &&
	    strstr(why, "kind") != NULL);
out:
	free(c);
	free(d);
}

int
main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(test_change_v3),
		TAP_TEST(test_new_store),
		TAP_TEST(test_v1_migrates_once),
		TAP_TEST(test_newer_refused),
		TAP_TEST(test_damaged_marker),
		TAP_TEST(test_envelope_peek),
		TAP_TEST(test_invite_newer),
	};

	if (sodium_init() < 0)
		return 1;
	return tap_run(tests, LEN(tests));
}
