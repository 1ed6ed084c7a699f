/*
 * Key epochs (proto/epoch.c): keys sealed to one device open with that
 * device's identity only and come out as they went in; a tampered part
 * opens nowhere; the record round-trips, refuses what breaks its
 * promises, and a newer version is reported rather than refused; the
 * schema takes an epoch record only under an epoch's record key.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"
#include "tap.h"

struct ident {
	uint8_t	pk[PROTO_IDLEN];
	uint8_t	sk[PROTO_SKLEN];
};

static void
ident(struct ident *id)
{
	crypto_sign_keypair(id->pk, id->sk);
}

static void
some_keys(struct proto_epoch_key *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		k[i].epoch = (uint32_t)i;
		k[i].kind = i % 2 ? EPOCH_KEY_NETWORK : EPOCH_KEY_SECRET;
		randombytes_buf(k[i].key, PROTO_KEYLEN);
	}
}

static void
seal_open(void)
{
	static uint8_t sealed[PROTO_EPOCH_MAX_SEALED];
	struct proto_epoch_key in[5], out[8];
	struct ident a, b;
	size_t len, n = 0;

	ident(&a);
	ident(&b);
	some_keys(in, 5);
	CHECK(proto_epoch_seal(sealed, sizeof(sealed), &len, in, 5,
	    a.pk) == 0);
	CHECK(len > crypto_box_SEALBYTES);
	CHECK(proto_epoch_open(out, 8, &n, sealed, len, a.pk, a.sk) == 0);
	CHECK(n == 5);
	for (size_t i = 0; i < n && i < 5; i++)
		CHECK(out[i].epoch == in[i].epoch &&
		    out[i].kind == in[i].kind &&
		    memcmp(out[i].key, in[i].key, PROTO_KEYLEN) == 0);
	/* Another device's identity opens nothing. */
	CHECK(proto_epoch_open(out, 8, &n, sealed, len, b.pk, b.sk) != 0);
	/* Nor a part with one byte changed, anywhere. */
	for (size_t i = 0; i < len; i += 7) {
		sealed[i] ^= 0x40;
		CHECK(proto_epoch_open(out, 8, &n, sealed, len, a.pk,
		    a.sk) != 0);
		sealed[i] ^= 0x40;
	}
	CHECK(proto_epoch_open(out, 8, &n, sealed, len - 1, a.pk, a.sk) != 0);
	/* Fewer room than keys: refused, never written past. */
	CHECK(proto_epoch_open(out, 4, &n, sealed, len, a.pk, a.sk) != 0);
}

static void
seal_limits(void)
{
	static uint8_t sealed[PROTO_EPOCH_MAX_SEALED];
	static struct proto_epoch_key many[PROTO_EPOCH_MAX_KEYS + 1];
	struct ident a;
	size_t len;

	ident(&a);
	some_keys(many, PROTO_EPOCH_MAX_KEYS + 1);
	CHECK(proto_epoch_seal(sealed, sizeof(sealed), &len, many, 0,
	    a.pk) != 0);
	CHECK(proto_epoch_seal(sealed, sizeof(sealed), &len, many,
	    PROTO_EPOCH_MAX_KEYS + 1, a.pk) != 0);
	CHECK(proto_epoch_seal(sealed, sizeof(sealed), &len, many,
	    PROTO_EPOCH_MAX_KEYS, a.pk) == 0);
	CHECK(proto_epoch_seal(sealed, 60, &len, many, 1, a.pk) != 0);
	many[0].kind = 7;
	CHECK(proto_epoch_seal(sealed, sizeof(sealed), &len, many, 1,
	    a.pk) != 0);
}

/* A new epoch sealed to n devices, the first of which is a. */
static int
make_record(struct proto_epoch *r, uint8_t (*bufs)[PROTO_EPOCH_MAX_SEALED],
    const struct ident *a, size_t n, msgpack_sbuffer *sb)
{
	struct proto_epoch_key k;

	memset(r, 0, sizeof(*r));
	r->what = EPOCH_NEW;
	r->epoch = 3;
	randombytes_buf(r->net_id, PROTO_KEYIDLEN);
	r->has_removed = 1;
	randombytes_buf(r->removed, PROTO_IDLEN);
	some_keys(&k, 1);
	k.epoch = 3;
	for (size_t i = 0; i < n; i++) {
		struct proto_epoch_part *p = &r->recipients[i];

		if (i == 0)
			memcpy(p->id, a->pk, PROTO_IDLEN);
		else {
			uint8_t sk[PROTO_SKLEN];

			crypto_sign_keypair(p->id, sk);
		}
		if (proto_epoch_seal(bufs[i], PROTO_EPOCH_MAX_SEALED,
		    &p->sealed_len, &k, 1, p->id) != 0)
			return -1;
		p->sealed = bufs[i];
	}
	r->nrecipients = n;
	return proto_epoch_encode(r, sb);
}

static void
record_round_trip(void)
{
	static uint8_t bufs[4][PROTO_EPOCH_MAX_SEALED];
	static struct proto_epoch r, back;
	struct proto_epoch_key k[2];
	struct ident a;
	msgpack_sbuffer sb;
	size_t n;

	ident(&a);
	msgpack_sbuffer_init(&sb);
	CHECK(make_record(&r, bufs, &a, 4, &sb) == 0);
	CHECK(proto_epoch_decode(&back, (const uint8_t *)sb.data,
	    sb.size) == 0);
	CHECK(back.what == EPOCH_NEW && back.epoch == 3 &&
	    back.has_removed && back.nrecipients == 4 &&
	    memcmp(back.removed, r.removed, PROTO_IDLEN) == 0 &&
	    memcmp(back.net_id, r.net_id, PROTO_KEYIDLEN) == 0);
	CHECK(proto_epoch_open(k, 2, &n, back.recipients[0].sealed,
	    back.recipients[0].sealed_len, a.pk, a.sk) == 0 && n == 1 &&
	    k[0].epoch == 3);
	/* The other parts are not a's. */
	CHECK(proto_epoch_open(k, 2, &n, back.recipients[1].sealed,
	    back.recipients[1].sealed_len, a.pk, a.sk) != 0);
	/* Every cut is refused. */
	for (size_t cut = 0; cut < sb.size; cut += 11)
		CHECK(proto_epoch_decode(&back, (const uint8_t *)sb.data,
		    cut) == -1);
	msgpack_sbuffer_destroy(&sb);
}

static void
record_refusals(void)
{
	static uint8_t bufs[2][PROTO_EPOCH_MAX_SEALED];
	static struct proto_epoch r, back;
	struct ident a;
	msgpack_sbuffer sb;

	ident(&a);
	msgpack_sbuffer_init(&sb);
	CHECK(make_record(&r, bufs, &a, 2, &sb) == 0);
	/* Two parts for one device: refused (which would be read?). */
	memcpy(r.recipients[1].id, r.recipients[0].id, PROTO_IDLEN);
	msgpack_sbuffer_clear(&sb);
	CHECK(proto_epoch_encode(&r, &sb) == 0);
	CHECK(proto_epoch_decode(&back, (const uint8_t *)sb.data,
	    sb.size) == -1);
	/* A grant removes no one; a new epoch always does. */
	r.recipients[1].id[0] ^= 1;
	r.what = EPOCH_GRANT;
	msgpack_sbuffer_clear(&sb);
	CHECK(proto_epoch_encode(&r, &sb) == 0);
	CHECK(proto_epoch_decode(&back, (const uint8_t *)sb.data,
	    sb.size) == -1);
	r.has_removed = 0;
	msgpack_sbuffer_clear(&sb);
	CHECK(proto_epoch_encode(&r, &sb) == 0);
	CHECK(proto_epoch_decode(&back, (const uint8_t *)sb.data,
	    sb.size) == 0);
	/* No recipient, or a part too short to be sealed: not encoded. */
	r.nrecipients = 0;
	CHECK(proto_epoch_encode(&r, &sb) == -1);
	r.nrecipients = 1;
	r.recipients[0].sealed_len = crypto_box_SEALBYTES;
	CHECK(proto_epoch_encode(&r, &sb) == -1);
	msgpack_sbuffer_destroy(&sb);
}

/* A newer version is reported (kept, relayed), with its version. */
static void
record_newer(void)
{
	static struct proto_epoch back;
	static const uint8_t newer[] = { 0x93, 0x02, 0x01, 0xc0 };
	static const uint8_t zero[] = { 0x91, 0x00 };

	CHECK(proto_epoch_decode(&back, newer, sizeof(newer)) ==
	    PROTO_EPOCH_NEWER && back.version == 2);
	CHECK(proto_epoch_check("kwIBwA", 6) == 0);
	CHECK(proto_epoch_decode(&back, zero, sizeof(zero)) == -1);
	CHECK(proto_epoch_check("not base64!", 11) == -1);
}

/* The schema: a KIND_KEYS change only under an epoch's record key. */
static void
schema_key_use(void)
{
	static uint8_t bufs[1][PROTO_EPOCH_MAX_SEALED];
	static struct proto_epoch r;
	struct ident a;
	msgpack_sbuffer sb;
	struct change c;
	const char *why;
	char *b64;
	size_t cap;

	ident(&a);
	msgpack_sbuffer_init(&sb);
	CHECK(make_record(&r, bufs, &a, 1, &sb) == 0);
	cap = sodium_base64_ENCODED_LEN(sb.size,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	CHECK((b64 = malloc(cap)) != NULL);
	if (b64 == NULL)
		return;
	sodium_bin2base64(b64, cap, (const uint8_t *)sb.data, sb.size,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	memset(&c, 0, sizeof(c));
	c.kind = KIND_KEYS;
	c.nops = 1;
	c.ops[0].type = OP_SET;
	c.ops[0].field = "keys";
	c.ops[0].field_len = 4;
	c.ops[0].value = (const uint8_t *)b64;
	c.ops[0].value_len = strlen(b64);
	CHECK(proto_change_validate(&c, PROTO_KEY_EPOCH, &why) == 0);
	CHECK(proto_change_validate(&c, PROTO_KEY_NETWORK, &why) != 0);
	CHECK(proto_change_validate(&c, PROTO_KEY_CONTENT, &why) != 0);
	b64[5] = b64[5] == 'A' ? 'B' : 'A';
	CHECK(proto_change_validate(&c, PROTO_KEY_EPOCH, &why) != 0 ||
	    proto_epoch_check(b64, strlen(b64)) == 0);
	c.ops[0].type = OP_DELETE;
	c.ops[0].field_len = 0;
	c.ops[0].value = NULL;
	CHECK(proto_change_validate(&c, PROTO_KEY_EPOCH, &why) != 0);
	free(b64);
	msgpack_sbuffer_destroy(&sb);
}

TAP_MAIN(TAP_TEST(seal_open), TAP_TEST(seal_limits),
    TAP_TEST(record_round_trip), TAP_TEST(record_refusals),
    TAP_TEST(record_newer), TAP_TEST(schema_key_use))
