/*
 * wire: the peer protocol's byte formats. Sync messages (round trips of
 * every type, and the refusals: unknown types, field counts, item shapes,
 * batch and envelope limits, trailing bytes, truncation), the handshake
 * payload, invite tokens (round trip, every flipped byte, another key's
 * signature, too many addresses) and bundle files (round trip, every
 * flipped byte, the wrong key, every truncation, framing that disagrees
 * with the header). Uses proto/ and libsodium only; no timing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../fuzz/scrub.h"	/* the fuzz targets' */
#include "wire.h"
#include "tap.h"

#define LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Arbitrary fixed keys. */
static const uint8_t seed_a[crypto_sign_SEEDBYTES] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
	0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
	0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};
static const uint8_t seed_b[crypto_sign_SEEDBYTES] = {
	0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87,
	0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f,
	0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
	0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
};
static const uint8_t bundle_key_a[32] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};

/* A packer writing into a fresh buffer. */
struct buf {
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
};

static void
buf_init(struct buf *b)
{
	msgpack_sbuffer_init(&b->sb);
	msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

static void
buf_clear(struct buf *b)
{
	msgpack_sbuffer_clear(&b->sb);
}

static void
buf_free(struct buf *b)
{
	msgpack_sbuffer_destroy(&b->sb);
}

static const uint8_t *
buf_data(const struct buf *b)
{
	return (const uint8_t *)b->sb.data;
}

static void
pack_bin(msgpack_packer *pk, const uint8_t *p, size_t len)
{
	msgpack_pack_bin(pk, len);
	msgpack_pack_bin_body(pk, p, len);
}

/* A bin of len bytes of fill. */
static void
pack_fill(msgpack_packer *pk, uint8_t fill, size_t len)
{
	uint8_t chunk[256];

	memset(chunk, fill, sizeof(chunk));
	msgpack_pack_bin(pk, len);
	for (size_t done = 0; done < len; ) {
		size_t n = len - done < sizeof(chunk) ? len - done :
		    sizeof(chunk);

		msgpack_pack_bin_body(pk, chunk, n);
		done += n;
	}
}

/* wire_decode's verdict; frees what it decoded. */
static int
wire_ok(const uint8_t *p, size_t len)
{
	struct wire_msg m;

	if (wire_decode(&m, p, len) != 0) {
		CHECK(m.n == 0 && m.items == NULL);
		return 0;
	}
	wire_msg_free(&m);
	return 1;
}

static int
wire_buf_ok(const struct buf *b)
{
	return wire_ok(buf_data(b), b->sb.size);
}

/* Every proper prefix of p is refused. */
static void
check_truncations(const uint8_t *p, size_t len)
{
	for (size_t cut = 0; cut < len; cut++)
		if (wire_ok(p, cut)) {
			printf("#   accepted the first %zu of %zu bytes\n",
			    cut, len);
			CHECK(0);
		}
}

/* The same bytes with extra bytes after them are refused. */
static void
check_trailing(const uint8_t *p, size_t len)
{
	static const uint8_t extra[][2] = { { 0x00 }, { 0xc0 }, { 0x91 },
	    { 0x91, 0x04 } };
	static const size_t extra_len[] = { 1, 1, 1, 2 };
	uint8_t *q = malloc(len + 2);

	if (q == NULL)
		abort();
	memcpy(q, p, len);
	for (size_t i = 0; i < LEN(extra); i++) {
		memcpy(q + len, extra[i], extra_len[i]);
		CHECK(!wire_ok(q, len + extra_len[i]));
	}
	free(q);
}

/* ------------------------------------------------------------------ */
/* Sync messages: round trips */

static void
test_vector_round_trip(void)
{
	static const uint64_t seqs[] = { 0, 1, 127, 128, 300, 65536,
	    UINT64_C(0x100000000), UINT64_MAX };
	uint8_t author[PROTO_IDLEN], hash[PROTO_HASHLEN];
	struct wire_msg m;
	struct buf b;
	uint64_t seq;

	buf_init(&b);
	wire_pack_vector_begin(&b.pk, 0);
	CHECK(wire_decode(&m, buf_data(&b), b.sb.size) == 0);
	CHECK(m.type == MSG_VECTOR && m.n == 0);
	wire_msg_free(&m);

	buf_clear(&b);
	wire_pack_vector_begin(&b.pk, LEN(seqs));
	for (size_t i = 0; i < LEN(seqs); i++) {
		memset(author, 0x10 + (int)i, sizeof(author));
		memset(hash, 0x80 + (int)i, sizeof(hash));
		author[0] = (uint8_t)i;
		wire_pack_vector_item(&b.pk, author, seqs[i], hash);
	}
	CHECK(wire_decode(&m, buf_data(&b), b.sb.size) == 0);
	CHECK(m.type == MSG_VECTOR && m.n == LEN(seqs));
	for (size_t i = 0; i < m.n && i < LEN(seqs); i++) {
		uint8_t want_a[PROTO_IDLEN], want_h[PROTO_HASHLEN];

		memset(want_a, 0x10 + (int)i, sizeof(want_a));
		memset(want_h, 0x80 + (int)i, sizeof(want_h));
		want_a[0] = (uint8_t)i;
		wire_vector_at(&m, i, author, &seq, hash);
		CHECK(memcmp(author, want_a, PROTO_IDLEN) == 0);
		CHECK(seq == seqs[i]);
		CHECK(memcmp(hash, want_h, PROTO_HASHLEN) == 0);
	}
	wire_msg_free(&m);
	check_truncations(buf_data(&b), b.sb.size);
	check_trailing(buf_data(&b), b.sb.size);

	/* A vector of a thousand authors. */
	buf_clear(&b);
	wire_pack_vector_begin(&b.pk, 1000);
	for (size_t i = 0; i < 1000; i++) {
		memset(author, 0, sizeof(author));
		memcpy(author, &i, sizeof(i));
		memset(hash, (int)(i & 0xff), sizeof(hash));
		wire_pack_vector_item(&b.pk, author, i * 7, hash);
	}
	CHECK(wire_decode(&m, buf_data(&b), b.sb.size) == 0);
	CHECK(m.type == MSG_VECTOR && m.n == 1000);
	for (size_t i = 0; i < m.n; i++) {
		size_t got;

		wire_vector_at(&m, i, author, &seq, hash);
		memcpy(&got, author, sizeof(got));
		CHECK(got == i && seq == i * 7 && hash[31] == (i & 0xff));
	}
	wire_msg_free(&m);
	buf_free(&b);
}

static void
test_entries_round_trip(void)
{
	static const size_t lens[] = { 1, 2, 31, 32, 255, 256, 1000, 65536 };
	const uint8_t *env;
	struct wire_msg m;
	struct buf b;
	uint8_t *src;
	size_t len;

	if ((src = malloc(PROTO_MAX_ENVELOPE)) == NULL)
		abort();
	for (size_t i = 0; i < PROTO_MAX_ENVELOPE; i++)
		src[i] = (uint8_t)(i * 31 + 7);

	buf_init(&b);
	wire_pack_entries_begin(&b.pk, LEN(lens));
	for (size_t i = 0; i < LEN(lens); i++)
		wire_pack_entry(&b.pk, src + i, lens[i]);
	CHECK(wire_decode(&m, buf_data(&b), b.sb.size) == 0);
	CHECK(m.type == MSG_ENTRIES && m.n == LEN(lens));
	for (size_t i = 0; i < m.n && i < LEN(lens); i++) {
		wire_entry_at(&m, i, &env, &len);
		CHECK(len == lens[i] && memcmp(env, src + i, len) == 0);
		/* Borrowed from the input, not copied. */
		CHECK(env > buf_data(&b) &&
		    env + len <= buf_data(&b) + b.sb.size);
	}
	wire_msg_free(&m);

	/* One entry, then the shortest message's every prefix. */
	buf_clear(&b);
	wire_pack_entries_begin(&b.pk, 1);
	wire_pack_entry(&b.pk, src, 40);
	CHECK(wire_decode(&m, buf_data(&b), b.sb.size) == 0);
	CHECK(m.type == MSG_ENTRIES && m.n == 1);
	wire_entry_at(&m, 0, &env, &len);
	CHECK(len == 40 && memcmp(env, src, 40) == 0);
	wire_msg_free(&m);
	check_truncations(buf_data(&b), b.sb.size);
	check_trailing(buf_data(&b), b.sb.size);

	/* The limits themselves: a full batch; the largest envelope. */
	buf_clear(&b);
	wire_pack_entries_begin(&b.pk, WIRE_MAX_BATCH);
	for (size_t i = 0; i < WIRE_MAX_BATCH; i++)
		wire_pack_entry(&b.pk, src + i, 3);
	CHECK(wire_decode(&m, buf_data(&b), b.sb.size) == 0);
	CHECK(m.type == MSG_ENTRIES && m.n == WIRE_MAX_BATCH);
	wire_entry_at(&m, WIRE_MAX_BATCH - 1, &env, &len);
	CHECK(len == 3 && memcmp(env, src + WIRE_MAX_BATCH - 1, 3) == 0);
	wire_msg_free(&m);

	buf_clear(&b);
	wire_pack_entries_begin(&b.pk, 1);
	wire_pack_entry(&b.pk, src, PROTO_MAX_ENVELOPE);
	CHECK(wire_decode(&m, buf_data(&b), b.sb.size) == 0);
	CHECK(m.type == MSG_ENTRIES && m.n == 1);
	wire_entry_at(&m, 0, &env, &len);
	CHECK(len == PROTO_MAX_ENVELOPE &&
	    memcmp(env, src, PROTO_MAX_ENVELOPE) == 0);
	wire_msg_free(&m);
	buf_free(&b);
	free(src);
}

static void
test_ack_round_trip(void)
{
	static const uint64_t seqs[] = { 0, 1, 255, 65535, UINT64_MAX };
	uint8_t author[PROTO_IDLEN];
	struct wire_msg m;
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < LEN(seqs); i++) {
		buf_clear(&b);
		memset(author, 0xa0 + (int)i, sizeof(author));
		author[31] = 0x01;
		wire_pack_ack(&b.pk, author, seqs[i]);
		CHECK(wire_decode(&m, buf_data(&b), b.sb.size) == 0);
		CHECK(m.type == MSG_ACK && m.n == 0);
		CHECK(memcmp(m.author, author, PROTO_IDLEN) == 0);
		CHECK(m.seq == seqs[i]);
		wire_msg_free(&m);
	}
	check_truncations(buf_data(&b), b.sb.size);
	check_trailing(buf_data(&b), b.sb.size);
	buf_free(&b);
}

static void
test_bye_round_trip(void)
{
	struct wire_msg m;
	struct buf b;

	buf_init(&b);
	wire_pack_bye(&b.pk);
	CHECK(b.sb.size == 2);
	CHECK(wire_decode(&m, buf_data(&b), b.sb.size) == 0);
	CHECK(m.type == MSG_BYE && m.n == 0);
	wire_msg_free(&m);
	check_truncations(buf_data(&b), b.sb.size);
	check_trailing(buf_data(&b), b.sb.size);
	buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Sync messages: refusals */

struct wire_case {
	const char	*name;
	size_t		 len;
	uint8_t		 b[8];
};

static void
test_wire_refuses_shapes(void)
{
	static const struct wire_case bad[] = {
		{ "empty input", 0, { 0 } },
		{ "not an array", 1, { 0x04 } },
		{ "a map", 3, { 0x81, 0x00, 0x04 } },
		{ "empty array", 1, { 0x90 } },
		{ "four fields", 5, { 0x94, 0x04, 0xc0, 0xc0, 0xc0 } },
		{ "type 0", 2, { 0x91, 0x00 } },
		{ "type 5", 2, { 0x91, 0x05 } },
		{ "type 5 with a body", 3, { 0x92, 0x05, 0x90 } },
		{ "type 127", 2, { 0x91, 0x7f } },
		{ "type 255", 3, { 0x91, 0xcc, 0xff } },
		{ "type 256 (would wrap to 0)", 4, { 0x91, 0xcd, 0x01,
		    0x00 } },
		{ "type 260 (would wrap to BYE)", 4, { 0x91, 0xcd, 0x01,
		    0x04 } },
		{ "type -1", 2, { 0x91, 0xff } },
		{ "type nil", 2, { 0x91, 0xc0 } },
		{ "type true", 2, { 0x91, 0xc3 } },
		{ "type as a string", 3, { 0x91, 0xa1, 0x04 } },
		{ "type as a float", 6, { 0x91, 0xca, 0x40, 0x80, 0, 0 } },
		{ "bye with a field", 3, { 0x92, 0x04, 0xc0 } },
		{ "bye with an array", 3, { 0x92, 0x04, 0x90 } },
		{ "vector alone", 2, { 0x91, 0x01 } },
		{ "vector of nil", 3, { 0x92, 0x01, 0xc0 } },
		{ "vector of a map", 3, { 0x92, 0x01, 0x80 } },
		{ "vector, 3 fields", 4, { 0x93, 0x01, 0x90, 0xc0 } },
		{ "entries alone", 2, { 0x91, 0x02 } },
		{ "entries of a bin", 4, { 0x92, 0x02, 0xc4, 0x00 } },
		{ "ack alone", 2, { 0x91, 0x03 } },
		{ "huge array", 6, { 0x92, 0x01, 0xdd, 0xff, 0xff, 0xff } },
		{ "ext", 4, { 0x92, 0x01, 0xd4, 0x00 } },
	};

	for (size_t i = 0; i < LEN(bad); i++)
		if (wire_ok(bad[i].b, bad[i].len)) {
			printf("#   accepted '%s'\n", bad[i].name);
			CHECK(0);
		}
}

static void
test_wire_refuses_field_counts(void)
{
	uint8_t author[PROTO_IDLEN + 1], hash[PROTO_HASHLEN];
	struct buf b;

	memset(author, 0x11, sizeof(author));
	memset(hash, 0x22, sizeof(hash));
	buf_init(&b);

	/* Vector: [1, items, extra]. */
	msgpack_pack_array(&b.pk, 3);
	msgpack_pack_uint8(&b.pk, MSG_VECTOR);
	msgpack_pack_array(&b.pk, 0);
	msgpack_pack_nil(&b.pk);
	CHECK(!wire_buf_ok(&b));

	/* Entries: [2, items, extra]. */
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 3);
	msgpack_pack_uint8(&b.pk, MSG_ENTRIES);
	msgpack_pack_array(&b.pk, 1);
	pack_bin(&b.pk, hash, 8);
	msgpack_pack_uint8(&b.pk, 0);
	CHECK(!wire_buf_ok(&b));

	/* Ack: [3, author], [3, author, seq, extra], [3, seq, author]. */
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_uint8(&b.pk, MSG_ACK);
	pack_bin(&b.pk, author, PROTO_IDLEN);
	CHECK(!wire_buf_ok(&b));
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 4);
	msgpack_pack_uint8(&b.pk, MSG_ACK);
	pack_bin(&b.pk, author, PROTO_IDLEN);
	msgpack_pack_uint8(&b.pk, 1);
	msgpack_pack_uint8(&b.pk, 1);
	CHECK(!wire_buf_ok(&b));
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 3);
	msgpack_pack_uint8(&b.pk, MSG_ACK);
	msgpack_pack_uint8(&b.pk, 1);
	pack_bin(&b.pk, author, PROTO_IDLEN);
	CHECK(!wire_buf_ok(&b));

	/* Ack: author of 31 and 33 bytes, as a string; seq negative or
	 * a float. */
	for (int k = 0; k < 5; k++) {
		buf_clear(&b);
		msgpack_pack_array(&b.pk, 3);
		msgpack_pack_uint8(&b.pk, MSG_ACK);
		if (k == 0 || k == 1)
			pack_bin(&b.pk, author, PROTO_IDLEN - 1 + 2 * k);
		else if (k == 2) {
			msgpack_pack_str(&b.pk, PROTO_IDLEN);
			msgpack_pack_str_body(&b.pk, author, PROTO_IDLEN);
		} else
			pack_bin(&b.pk, author, PROTO_IDLEN);
		if (k == 3)
			msgpack_pack_int8(&b.pk, -1);
		else if (k == 4)
			msgpack_pack_double(&b.pk, 1.0);
		else
			msgpack_pack_uint8(&b.pk, 1);
		CHECK(!wire_buf_ok(&b));
	}

	/* Bye: [4, nil] and [4, 0, 0]. */
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_uint8(&b.pk, MSG_BYE);
	msgpack_pack_nil(&b.pk);
	CHECK(!wire_buf_ok(&b));
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 3);
	msgpack_pack_uint8(&b.pk, MSG_BYE);
	msgpack_pack_uint8(&b.pk, 0);
	msgpack_pack_uint8(&b.pk, 0);
	CHECK(!wire_buf_ok(&b));

	/* Each type with the body of another. */
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 3);
	msgpack_pack_uint8(&b.pk, MSG_VECTOR);
	pack_bin(&b.pk, author, PROTO_IDLEN);
	msgpack_pack_uint8(&b.pk, 1);
	CHECK(!wire_buf_ok(&b));
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_uint8(&b.pk, MSG_ACK);
	msgpack_pack_array(&b.pk, 0);
	CHECK(!wire_buf_ok(&b));
	buf_free(&b);
}

/* A vector of three good items, with item `bad` shaped by `how`. */
static void
pack_vector_with(struct buf *b, int bad, int how)
{
	uint8_t id[PROTO_IDLEN + 1], hash[PROTO_HASHLEN + 1];

	memset(id, 0x33, sizeof(id));
	memset(hash, 0x44, sizeof(hash));
	wire_pack_vector_begin(&b->pk, 3);
	for (int i = 0; i < 3; i++) {
		if (i != bad) {
			wire_pack_vector_item(&b->pk, id, (uint64_t)i, hash);
			continue;
		}
		switch (how) {
		case 0:		/* author of 31 bytes */
		case 1:		/* author of 33 bytes */
		case 2:		/* author empty */
			msgpack_pack_array(&b->pk, 3);
			pack_bin(&b->pk, id, how == 0 ? PROTO_IDLEN - 1 :
			    how == 1 ? PROTO_IDLEN + 1 : 0);
			msgpack_pack_uint8(&b->pk, 1);
			pack_bin(&b->pk, hash, PROTO_HASHLEN);
			break;
		case 3:		/* hash of 31 bytes */
		case 4:		/* hash of 33 bytes */
		case 5:		/* hash empty */
			msgpack_pack_array(&b->pk, 3);
			pack_bin(&b->pk, id, PROTO_IDLEN);
			msgpack_pack_uint8(&b->pk, 1);
			pack_bin(&b->pk, hash, how == 3 ? PROTO_HASHLEN - 1 :
			    how == 4 ? PROTO_HASHLEN + 1 : 0);
			break;
		case 6:		/* author as a string */
			msgpack_pack_array(&b->pk, 3);
			msgpack_pack_str(&b->pk, PROTO_IDLEN);
			msgpack_pack_str_body(&b->pk, id, PROTO_IDLEN);
			msgpack_pack_uint8(&b->pk, 1);
			pack_bin(&b->pk, hash, PROTO_HASHLEN);
			break;
		case 7:		/* seq negative */
		case 8:		/* seq nil */
			msgpack_pack_array(&b->pk, 3);
			pack_bin(&b->pk, id, PROTO_IDLEN);
			if (how == 7)
				msgpack_pack_int8(&b->pk, -1);
			else
				msgpack_pack_nil(&b->pk);
			pack_bin(&b->pk, hash, PROTO_HASHLEN);
			break;
		case 9:		/* two fields */
			msgpack_pack_array(&b->pk, 2);
			pack_bin(&b->pk, id, PROTO_IDLEN);
			msgpack_pack_uint8(&b->pk, 1);
			break;
		case 10:	/* four fields */
			msgpack_pack_array(&b->pk, 4);
			pack_bin(&b->pk, id, PROTO_IDLEN);
			msgpack_pack_uint8(&b->pk, 1);
			pack_bin(&b->pk, hash, PROTO_HASHLEN);
			msgpack_pack_uint8(&b->pk, 1);
			break;
		case 11:	/* not an array */
			pack_bin(&b->pk, id, PROTO_IDLEN);
			break;
		default:	/* hash and author swapped in type: hash str */
			msgpack_pack_array(&b->pk, 3);
			pack_bin(&b->pk, id, PROTO_IDLEN);
			msgpack_pack_uint8(&b->pk, 1);
			msgpack_pack_str(&b->pk, PROTO_HASHLEN);
			msgpack_pack_str_body(&b->pk, hash, PROTO_HASHLEN);
			break;
		}
	}
}

static void
test_wire_refuses_vector_items(void)
{
	struct buf b;

	buf_init(&b);
	pack_vector_with(&b, -1, 0);
	CHECK(wire_buf_ok(&b));		/* the harness itself */
	for (int how = 0; how <= 12; how++)
		for (int bad = 0; bad < 3; bad++) {
			buf_clear(&b);
			pack_vector_with(&b, bad, how);
			if (wire_buf_ok(&b)) {
				printf("#   accepted item %d shaped %d\n", bad,
				    how);
				CHECK(0);
			}
		}
	buf_free(&b);
}

static void
test_wire_refuses_entries(void)
{
	struct buf b;

	buf_init(&b);

	/* No entries at all. */
	wire_pack_entries_begin(&b.pk, 0);
	CHECK(!wire_buf_ok(&b));

	/* One more than a batch holds. */
	buf_clear(&b);
	wire_pack_entries_begin(&b.pk, WIRE_MAX_BATCH + 1);
	for (size_t i = 0; i < WIRE_MAX_BATCH + 1; i++)
		pack_fill(&b.pk, (uint8_t)i, 3);
	CHECK(!wire_buf_ok(&b));

	/* One entry a byte over the largest envelope, alone and last. */
	buf_clear(&b);
	wire_pack_entries_begin(&b.pk, 1);
	pack_fill(&b.pk, 0x5e, PROTO_MAX_ENVELOPE + 1);
	CHECK(!wire_buf_ok(&b));
	buf_clear(&b);
	wire_pack_entries_begin(&b.pk, 3);
	pack_fill(&b.pk, 0x5e, 10);
	pack_fill(&b.pk, 0x5e, 10);
	pack_fill(&b.pk, 0x5e, PROTO_MAX_ENVELOPE + 1);
	CHECK(!wire_buf_ok(&b));

	/* An entry that is not a bin. */
	buf_clear(&b);
	wire_pack_entries_begin(&b.pk, 2);
	pack_fill(&b.pk, 0x5e, 10);
	msgpack_pack_str(&b.pk, 3);
	msgpack_pack_str_body(&b.pk, "abc", 3);
	CHECK(!wire_buf_ok(&b));
	buf_clear(&b);
	wire_pack_entries_begin(&b.pk, 1);
	msgpack_pack_array(&b.pk, 0);
	CHECK(!wire_buf_ok(&b));

	/* Every entry within limits, the frame past WIRE_MAX_FRAME. */
	buf_clear(&b);
	wire_pack_entries_begin(&b.pk, 4);
	for (int i = 0; i < 4; i++)
		pack_fill(&b.pk, 0x5e, PROTO_MAX_ENVELOPE);
	CHECK(b.sb.size > WIRE_MAX_FRAME);
	CHECK(!wire_buf_ok(&b));
	buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* The handshake payload */

static void
test_hello_round_trip(void)
{
	static uint8_t proofs[WIRE_MAX_PROOFS][600];
	struct wire_hello h, got;
	msgpack_sbuffer sb;

	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < PROTO_IDLEN; i++)
		h.id[i] = (uint8_t)(0xf0 ^ i);
	msgpack_sbuffer_init(&sb);
	CHECK(wire_hello_encode(&sb, &h) == 0);
	CHECK(wire_hello_decode(&got, (const uint8_t *)sb.data,
	    sb.size) == 0);
	CHECK(memcmp(got.id, h.id, PROTO_IDLEN) == 0 && got.nproofs == 0);

	for (size_t i = 0; i < WIRE_MAX_PROOFS; i++) {
		for (size_t j = 0; j < sizeof(proofs[i]); j++)
			proofs[i][j] = (uint8_t)(i * 17 + j);
		h.proofs[i] = proofs[i];
		h.proof_lens[i] = i == 0 ? 1 : 75 * i;	/* up to 525 */
	}
	h.nproofs = WIRE_MAX_PROOFS;
	msgpack_sbuffer_clear(&sb);
	CHECK(wire_hello_encode(&sb, &h) == 0);
	CHECK(wire_hello_decode(&got, (const uint8_t *)sb.data,
	    sb.size) == 0);
	CHECK(memcmp(got.id, h.id, PROTO_IDLEN) == 0);
	CHECK(got.nproofs == WIRE_MAX_PROOFS);
	for (size_t i = 0; i < got.nproofs && i < WIRE_MAX_PROOFS; i++) {
		CHECK(got.proof_lens[i] == h.proof_lens[i]);
		CHECK(memcmp(got.proofs[i], proofs[i], h.proof_lens[i]) == 0);
		/* Borrowed from the buffer decoded. */
		CHECK(got.proofs[i] > (const uint8_t *)sb.data &&
		    got.proofs[i] + got.proof_lens[i] <=
		    (const uint8_t *)sb.data + sb.size);
	}
	for (size_t cut = 0; cut < sb.size; cut++)
		CHECK(wire_hello_decode(&got, (const uint8_t *)sb.data,
		    cut) != 0);
	msgpack_sbuffer_destroy(&sb);
}

/* [version, id, [n proofs of plen bytes]], packed by hand. */
static void
pack_hello(struct buf *b, uint64_t version, size_t idlen, size_t n,
    size_t plen)
{
	uint8_t id[PROTO_IDLEN + 1];

	memset(id, 0x61, sizeof(id));
	msgpack_pack_array(&b->pk, 3);
	msgpack_pack_uint64(&b->pk, version);
	pack_bin(&b->pk, id, idlen);
	msgpack_pack_array(&b->pk, n);
	for (size_t i = 0; i < n; i++)
		pack_fill(&b->pk, (uint8_t)i, plen);
}

static int
hello_ok(const struct buf *b)
{
	struct wire_hello h;

	return wire_hello_decode(&h, buf_data(b), b->sb.size) == 0;
}

static void
test_hello_refuses(void)
{
	static uint8_t proof[16];
	struct wire_hello h;
	msgpack_sbuffer sb;
	struct buf b;
	uint8_t *q;

	buf_init(&b);
	pack_hello(&b, WIRE_VERSION, PROTO_IDLEN, WIRE_MAX_PROOFS, 10);
	CHECK(hello_ok(&b));		/* the hand packer itself */

	/* One proof too many: encode and decode both refuse. */
	buf_clear(&b);
	pack_hello(&b, WIRE_VERSION, PROTO_IDLEN, WIRE_MAX_PROOFS + 1, 10);
	CHECK(!hello_ok(&b));
	memset(&h, 0, sizeof(h));
	h.nproofs = WIRE_MAX_PROOFS + 1;
	for (size_t i = 0; i < WIRE_MAX_PROOFS; i++) {
		h.proofs[i] = proof;
		h.proof_lens[i] = sizeof(proof);
	}
	msgpack_sbuffer_init(&sb);
	CHECK(wire_hello_encode(&sb, &h) != 0);
	msgpack_sbuffer_destroy(&sb);

	/* Version 0, and versions 2 on without their clock field. */
	for (uint64_t v = 0; v < 4; v++) {
		if (v == WIRE_VERSION)
			continue;
		buf_clear(&b);
		pack_hello(&b, v, PROTO_IDLEN, 1, 10);
		CHECK(!hello_ok(&b));
	}
	buf_clear(&b);
	pack_hello(&b, WIRE_VERSION + 256, PROTO_IDLEN, 1, 10);
	CHECK(!hello_ok(&b));
	buf_clear(&b);
	pack_hello(&b, UINT64_MAX, PROTO_IDLEN, 1, 10);
	CHECK(!hello_ok(&b));

	/* An id of the wrong length. */
	buf_clear(&b);
	pack_hello(&b, WIRE_VERSION, PROTO_IDLEN - 1, 1, 10);
	CHECK(!hello_ok(&b));
	buf_clear(&b);
	pack_hello(&b, WIRE_VERSION, PROTO_IDLEN + 1, 1, 10);
	CHECK(!hello_ok(&b));

	/* Larger than WIRE_HELLO_MAX: the encoder refuses (the decoder,
	 * in test_oversize_refused). */
	{
		uint8_t *big = calloc(1, WIRE_HELLO_MAX);

		if (big == NULL)
			abort();
		memset(&h, 0, sizeof(h));
		h.nproofs = 1;
		h.proofs[0] = big;
		h.proof_lens[0] = WIRE_HELLO_MAX;
		msgpack_sbuffer_init(&sb);
		CHECK(wire_hello_encode(&sb, &h) != 0);
		msgpack_sbuffer_destroy(&sb);
		free(big);
	}

	/* Field counts, proof types, trailing bytes. */
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_uint8(&b.pk, WIRE_VERSION);
	pack_fill(&b.pk, 1, PROTO_IDLEN);
	CHECK(!hello_ok(&b));
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 4);
	msgpack_pack_uint8(&b.pk, WIRE_VERSION);
	pack_fill(&b.pk, 1, PROTO_IDLEN);
	msgpack_pack_array(&b.pk, 0);
	msgpack_pack_nil(&b.pk);
	CHECK(!hello_ok(&b));
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 3);
	msgpack_pack_uint8(&b.pk, WIRE_VERSION);
	pack_fill(&b.pk, 1, PROTO_IDLEN);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_str(&b.pk, 1);
	msgpack_pack_str_body(&b.pk, "p", 1);
	CHECK(!hello_ok(&b));

	buf_clear(&b);
	pack_hello(&b, WIRE_VERSION, PROTO_IDLEN, 1, 10);
	if ((q = malloc(b.sb.size + 1)) == NULL)
		abort();
	memcpy(q, b.sb.data, b.sb.size);
	q[b.sb.size] = 0x00;
	CHECK(wire_hello_decode(&h, q, b.sb.size) == 0);
	CHECK(wire_hello_decode(&h, q, b.sb.size + 1) != 0);
	free(q);
	CHECK(wire_hello_decode(&h, NULL, 0) != 0);
	buf_free(&b);
}

/*
 * The hello of the previous release (version 1), byte for byte as its
 * encoder wrote it: [1, id of 0x61 * 32, [bin of 0x00 * 3]]. A school
 * upgrades one machine at a time, so this must decode for good, and a
 * hello encoded for a version-1 peer must be exactly this form.
 */
static const uint8_t hello_v1[] = {
	0x93, 0x01, 0xc4, 0x20,
	0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
	0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
	0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
	0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
	0x91, 0xc4, 0x03, 0x00, 0x00, 0x00,
};

static void
test_hello_versions(void)
{
	static const uint8_t zeros[3];
	struct wire_hello h, got;
	msgpack_sbuffer sb;
	struct buf b;

	/* The previous release's hello: version 1, no clock. */
	CHECK(wire_hello_decode(&got, hello_v1, sizeof(hello_v1)) == 0);
	CHECK(got.version == 1 && got.wall_ms == 0 && got.nproofs == 1);
	CHECK(got.id[0] == 0x61 && got.id[31] == 0x61);
	CHECK(got.proof_lens[0] == 3 && got.proofs[0][2] == 0);

	/* Encoded for a version-1 peer: that very form, clock left out. */
	memset(&h, 0, sizeof(h));
	memset(h.id, 0x61, sizeof(h.id));
	h.nproofs = 1;
	h.proofs[0] = zeros;
	h.proof_lens[0] = sizeof(zeros);
	h.wall_ms = 1796000000000;
	for (unsigned v = 0; v <= 1; v++) {
		h.version = v;
		msgpack_sbuffer_init(&sb);
		CHECK(wire_hello_encode(&sb, &h) == 0);
		CHECK(sb.size == sizeof(hello_v1) &&
		    memcmp(sb.data, hello_v1, sb.size) == 0);
		msgpack_sbuffer_destroy(&sb);
	}

	/* From version 2 on: the clock travels. */
	h.version = WIRE_PROTO_VERSION;
	msgpack_sbuffer_init(&sb);
	CHECK(wire_hello_encode(&sb, &h) == 0);
	CHECK(wire_hello_decode(&got, (const uint8_t *)sb.data, sb.size) == 0);
	CHECK(got.version == WIRE_PROTO_VERSION);
	CHECK(got.wall_ms == 1796000000000 && got.nproofs == 1);
	CHECK(memcmp(got.id, h.id, PROTO_IDLEN) == 0);
	for (size_t cut = 0; cut < sb.size; cut++)
		CHECK(wire_hello_decode(&got, (const uint8_t *)sb.data,
		    cut) != 0);
	msgpack_sbuffer_destroy(&sb);
	h.wall_ms = WIRE_MAX_WALL_MS + 1;
	msgpack_sbuffer_init(&sb);
	CHECK(wire_hello_encode(&sb, &h) != 0);
	msgpack_sbuffer_destroy(&sb);

	/* Version 3: the flags travel too; a version-2 hello has none. */
	h.version = 3;
	h.wall_ms = 1796000000000;
	h.flags = WIRE_HELLO_SNAPSHOT;
	msgpack_sbuffer_init(&sb);
	CHECK(wire_hello_encode(&sb, &h) == 0);
	CHECK(wire_hello_decode(&got, (const uint8_t *)sb.data, sb.size) == 0);
	CHECK(got.version == 3 && got.flags == WIRE_HELLO_SNAPSHOT);
	CHECK(got.wall_ms == 1796000000000 && got.nproofs == 1);
	msgpack_sbuffer_destroy(&sb);
	h.version = 2;
	msgpack_sbuffer_init(&sb);
	CHECK(wire_hello_encode(&sb, &h) != 0);	/* it cannot say them */
	msgpack_sbuffer_destroy(&sb);
	h.flags = 0;
	msgpack_sbuffer_init(&sb);
	CHECK(wire_hello_encode(&sb, &h) == 0);
	CHECK(wire_hello_decode(&got, (const uint8_t *)sb.data, sb.size) == 0);
	CHECK(got.version == 2 && got.flags == 0);
	CHECK(got.wall_ms == 1796000000000 && got.nproofs == 1);
	msgpack_sbuffer_destroy(&sb);

	/* A version-2 device reads a version-3 hello: our fields, then
	 * fields it does not know, of any shape: read, and the rest ignored
	 * (by the same rule, a newer device's hello is read here). */
	buf_init(&b);
	for (size_t extra = 0; extra <= WIRE_HELLO_MAX_FIELDS - 5; extra++) {
		buf_clear(&b);
		msgpack_pack_array(&b.pk, 5 + extra);
		msgpack_pack_uint8(&b.pk, WIRE_PROTO_VERSION + 1);
		pack_fill(&b.pk, 0x62, PROTO_IDLEN);
		msgpack_pack_array(&b.pk, 0);
		msgpack_pack_uint64(&b.pk, 1796000000123);
		msgpack_pack_uint32(&b.pk, WIRE_HELLO_SNAPSHOT | 0x80);
		for (size_t i = 0; i < extra; i++)
			switch (i % 4) {
			case 0: msgpack_pack_map(&b.pk, 1);
				msgpack_pack_uint8(&b.pk, 1);
				msgpack_pack_nil(&b.pk);
				break;
			case 1: msgpack_pack_str(&b.pk, 3);
				msgpack_pack_str_body(&b.pk, "new", 3);
				break;
			case 2: msgpack_pack_array(&b.pk, 2);
				msgpack_pack_int8(&b.pk, -1);
				msgpack_pack_double(&b.pk, 0.5);
				break;
			default: pack_fill(&b.pk, 0x7f, 100);
			}
		CHECK(wire_hello_decode(&got, buf_data(&b), b.sb.size) == 0);
		CHECK(got.version == WIRE_PROTO_VERSION + 1);
		CHECK(got.wall_ms == 1796000000123);
		CHECK(got.flags == (WIRE_HELLO_SNAPSHOT | 0x80));
		CHECK(got.id[0] == 0x62 && got.nproofs == 0);
	}
	CHECK(wire_version_spoken(got.version) == WIRE_PROTO_VERSION);
	CHECK(wire_version_spoken(1) == 1);

	/* Too many fields; version 2 with a clock that is no uint, too
	 * large, or missing; version 1 with a field more; version 256. */
	buf_clear(&b);
	msgpack_pack_array(&b.pk, WIRE_HELLO_MAX_FIELDS + 1);
	msgpack_pack_uint8(&b.pk, 3);
	pack_fill(&b.pk, 0x62, PROTO_IDLEN);
	msgpack_pack_array(&b.pk, 0);
	msgpack_pack_uint8(&b.pk, 1);
	for (size_t i = 4; i < WIRE_HELLO_MAX_FIELDS + 1; i++)
		msgpack_pack_nil(&b.pk);
	CHECK(!hello_ok(&b));
	/* Version 3 with flags that are no uint, too large, or missing. */
	for (int k = 0; k < 3; k++) {
		buf_clear(&b);
		msgpack_pack_array(&b.pk, k == 2 ? 4 : 5);
		msgpack_pack_uint8(&b.pk, 3);
		pack_fill(&b.pk, 0x62, PROTO_IDLEN);
		msgpack_pack_array(&b.pk, 0);
		msgpack_pack_uint64(&b.pk, 1796000000123);
		if (k == 0)
			msgpack_pack_nil(&b.pk);
		else if (k == 1)
			msgpack_pack_uint64(&b.pk, UINT64_C(1) << 32);
		CHECK(!hello_ok(&b));
	}
	for (int k = 0; k < 6; k++) {
		buf_clear(&b);
		msgpack_pack_array(&b.pk, 4);
		msgpack_pack_uint64(&b.pk, k == 4 ? 1 : k == 5 ? 256 : 2);
		pack_fill(&b.pk, 0x62, PROTO_IDLEN);
		msgpack_pack_array(&b.pk, 0);
		if (k == 0)
			msgpack_pack_int8(&b.pk, -5);
		else if (k == 1)
			msgpack_pack_uint64(&b.pk, WIRE_MAX_WALL_MS + 1);
		else if (k == 2)
			msgpack_pack_nil(&b.pk);
		else if (k == 3)
			msgpack_pack_str(&b.pk, 0);
		else
			msgpack_pack_uint8(&b.pk, 1);
		if (hello_ok(&b)) {
			printf("#   accepted hello case %d\n", k);
			CHECK(0);
		}
	}
	buf_free(&b);
}

static int
offer_ok(const uint8_t *p, size_t len, unsigned *v)
{
	return wire_offer_decode(v, p, len) == 0;
}

static void
test_offer(void)
{
	static const struct { size_t len; uint8_t b[8]; } bad[] = {
		{ 1, { 0x90 } },			/* [] */
		{ 2, { 0x91, 0x01 } },			/* [1]: v1 sends none */
		{ 2, { 0x91, 0x00 } },
		{ 2, { 0x91, 0xff } },			/* [-1] */
		{ 4, { 0x91, 0xcd, 0x01, 0x00 } },	/* [256] */
		{ 2, { 0x91, 0xc0 } },
		{ 1, { 0x02 } },			/* not an array */
		{ 3, { 0x81, 0x02, 0x02 } },		/* a map */
		{ 3, { 0x91, 0x02, 0x00 } },		/* trailing bytes */
		{ 1, { 0x91 } },			/* truncated */
		{ 2, { 0x91, 0xd4 } },
	};
	msgpack_sbuffer sb;
	struct buf b;
	unsigned v;

	CHECK(offer_ok(NULL, 0, &v) && v == 1);		/* a version-1 peer */
	msgpack_sbuffer_init(&sb);
	CHECK(wire_offer_encode(&sb, WIRE_PROTO_VERSION) == 0);
	CHECK(offer_ok((const uint8_t *)sb.data, sb.size, &v) &&
	    v == WIRE_PROTO_VERSION);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_init(&sb);
	CHECK(wire_offer_encode(&sb, 1) != 0);
	CHECK(wire_offer_encode(&sb, 256) != 0);
	msgpack_sbuffer_destroy(&sb);
	for (size_t i = 0; i < LEN(bad); i++)
		if (offer_ok(bad[i].b, bad[i].len, &v)) {
			printf("#   accepted offer case %zu\n", i);
			CHECK(0);
		}

	/* A newer device's offer: its version, then what we do not know. */
	buf_init(&b);
	msgpack_pack_array(&b.pk, 3);
	msgpack_pack_uint8(&b.pk, 9);
	msgpack_pack_map(&b.pk, 0);
	pack_fill(&b.pk, 1, 40);
	CHECK(offer_ok(buf_data(&b), b.sb.size, &v) && v == 9);
	CHECK(wire_version_spoken(v) == WIRE_PROTO_VERSION);
	buf_clear(&b);
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_uint8(&b.pk, 2);
	pack_fill(&b.pk, 1, WIRE_OFFER_MAX);	/* past the size limit */
	CHECK(!offer_ok(buf_data(&b), b.sb.size, &v));
	buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Invite tokens */

struct keys {
	uint8_t	pk[PROTO_IDLEN];
	uint8_t	sk[PROTO_SKLEN];
};

static void
keys_from(struct keys *k, const uint8_t *seed)
{
	if (crypto_sign_seed_keypair(k->pk, k->sk, seed) != 0)
		abort();
}

static void
invite_fill(struct invite *inv, const uint8_t *inviter, size_t naddrs,
    int box)
{
	static const char *const addrs[] = {
		"192.168.1.20:7412", "[fe80::1%eth0]:7412", "box.local:7412",
		"10.0.0.1:1",
	};

	memset(inv, 0, sizeof(*inv));
	for (size_t i = 0; i < WIRE_TEAMIDLEN; i++)
		inv->team_id[i] = (uint8_t)(0x10 + i);
	memset(inv->founder, 0xf0, PROTO_IDLEN);
	memcpy(inv->inviter, inviter, PROTO_IDLEN);
	memset(inv->invitee, 0x1e, PROTO_IDLEN);
	inv->box = box;
	for (size_t i = 0; i < INVITE_SEALEDLEN; i++)
		inv->sealed[i] = (uint8_t)(i * 3 + 1);
	inv->naddrs = naddrs;
	for (size_t i = 0; i < naddrs && i < INVITE_MAX_ADDRS; i++)
		strcpy(inv->addrs[i], addrs[i]);
}

static int
invite_eq(const struct invite *a, const struct invite *b)
{
	if (memcmp(a->team_id, b->team_id, WIRE_TEAMIDLEN) != 0 ||
	    memcmp(a->founder, b->founder, PROTO_IDLEN) != 0 ||
	    memcmp(a->inviter, b->inviter, PROTO_IDLEN) != 0 ||
	    memcmp(a->invitee, b->invitee, PROTO_IDLEN) != 0 ||
	    a->box != b->box ||
	    memcmp(a->sealed, b->sealed, INVITE_SEALEDLEN) != 0 ||
	    a->naddrs != b->naddrs ||
	    memcmp(a->signature, b->signature, PROTO_SIGLEN) != 0)
		return 0;
	for (size_t i = 0; i < a->naddrs; i++)
		if (strcmp(a->addrs[i], b->addrs[i]) != 0)
			return 0;
	return 1;
}

static void
test_invite_round_trip(void)
{
	struct invite inv, got;
	msgpack_sbuffer sb;
	struct keys a;

	keys_from(&a, seed_a);
	for (size_t n = 0; n <= INVITE_MAX_ADDRS; n++)
		for (int box = 0; box <= 1; box++) {
			invite_fill(&inv, a.pk, n, box);
			msgpack_sbuffer_init(&sb);
			CHECK(invite_encode(&inv, a.sk, &sb) == 0);
			CHECK(invite_decode(&got, (const uint8_t *)sb.data,
			    sb.size) == 0);
			CHECK(invite_eq(&inv, &got));
			msgpack_sbuffer_destroy(&sb);
		}

	/* The longest address that fits: 63 bytes and its NUL. */
	invite_fill(&inv, a.pk, 1, 0);
	memset(inv.addrs[0], 'x', sizeof(inv.addrs[0]) - 1);
	inv.addrs[0][sizeof(inv.addrs[0]) - 1] = '\0';
	msgpack_sbuffer_init(&sb);
	CHECK(invite_encode(&inv, a.sk, &sb) == 0);
	CHECK(invite_decode(&got, (const uint8_t *)sb.data, sb.size) == 0);
	CHECK(invite_eq(&inv, &got));
	msgpack_sbuffer_destroy(&sb);
}

static void
test_invite_flipped_bytes(void)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct invite inv, got;
	msgpack_sbuffer sb;
	struct keys a;
	uint8_t *p;

	keys_from(&a, seed_a);
	invite_fill(&inv, a.pk, 2, 1);
	msgpack_sbuffer_init(&sb);
	CHECK(invite_encode(&inv, a.sk, &sb) == 0);
	p = (uint8_t *)sb.data;
	CHECK(invite_decode(&got, p, sb.size) == 0);
	for (size_t i = 0; i < sb.size; i++)
		for (size_t k = 0; k < LEN(masks); k++) {
			p[i] ^= masks[k];
			if (invite_decode(&got, p, sb.size) == 0) {
				printf("#   accepted with byte %zu ^ 0x%02x\n",
				    i, masks[k]);
				CHECK(0);
			}
			p[i] ^= masks[k];
		}
	for (size_t cut = 0; cut < sb.size; cut++)
		CHECK(invite_decode(&got, p, cut) != 0);
	CHECK(invite_decode(&got, p, sb.size) == 0);	/* restored */
	msgpack_sbuffer_destroy(&sb);
}

static void
test_invite_other_key(void)
{
	struct invite inv, got;
	msgpack_sbuffer sb;
	struct keys a, b;

	keys_from(&a, seed_a);
	keys_from(&b, seed_b);

	/* Names a as the inviter, signed by b. */
	invite_fill(&inv, a.pk, 1, 0);
	msgpack_sbuffer_init(&sb);
	CHECK(invite_encode(&inv, b.sk, &sb) == 0);
	CHECK(invite_decode(&got, (const uint8_t *)sb.data, sb.size) != 0);
	msgpack_sbuffer_destroy(&sb);

	/* Names b and signed by b: fine. */
	invite_fill(&inv, b.pk, 1, 0);
	msgpack_sbuffer_init(&sb);
	CHECK(invite_encode(&inv, b.sk, &sb) == 0);
	CHECK(invite_decode(&got, (const uint8_t *)sb.data, sb.size) == 0);
	CHECK(invite_eq(&inv, &got));
	msgpack_sbuffer_destroy(&sb);
}

/*
 * An invite packed by hand with naddrs addresses (any number) and a good
 * signature: the inviter's, over the BLAKE2b-256 of the encoding of the
 * first eight fields, as invite.c signs.
 */
static void
pack_invite(struct buf *b, const struct invite *inv, size_t naddrs,
    const char *addr, size_t alen, const uint8_t *sk)
{
	uint8_t h[32], sig[PROTO_SIGLEN];
	struct buf part;

	buf_init(&part);
	for (int pass = 0; pass < 2; pass++) {
		msgpack_packer *pk = pass == 0 ? &part.pk : &b->pk;

		msgpack_pack_array(pk, pass == 0 ? 9 : 10);
		msgpack_pack_uint8(pk, WIRE_VERSION);
		pack_bin(pk, inv->team_id, WIRE_TEAMIDLEN);
		pack_bin(pk, inv->founder, PROTO_IDLEN);
		pack_bin(pk, inv->inviter, PROTO_IDLEN);
		pack_bin(pk, inv->invitee, PROTO_IDLEN);
		if (inv->box)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		pack_bin(pk, inv->sealed, INVITE_SEALEDLEN);
		msgpack_pack_array(pk, naddrs);
		for (size_t i = 0; i < naddrs; i++) {
			msgpack_pack_str(pk, alen);
			msgpack_pack_str_body(pk, addr, alen);
		}
		msgpack_pack_array(pk, 0);	/* no membership proofs */
		if (pass == 0) {
			crypto_generichash(h, sizeof(h), buf_data(&part),
			    part.sb.size, NULL, 0);
			crypto_sign_detached(sig, NULL, h, sizeof(h), sk);
		} else
			pack_bin(pk, sig, PROTO_SIGLEN);
	}
	buf_free(&part);
}

static void
test_invite_refuses_addrs(void)
{
	char long_addr[sizeof(((struct invite *)0)->addrs[0]) + 1];
	struct invite inv, got;
	msgpack_sbuffer sb;
	struct keys a;
	struct buf b;

	keys_from(&a, seed_a);
	invite_fill(&inv, a.pk, 0, 0);

	/* The encoder refuses one address too many. */
	inv.naddrs = INVITE_MAX_ADDRS + 1;
	msgpack_sbuffer_init(&sb);
	CHECK(invite_encode(&inv, a.sk, &sb) != 0);
	msgpack_sbuffer_destroy(&sb);
	inv.naddrs = 0;

	/* Hand-packed and well signed: the limit passes, one more not. */
	buf_init(&b);
	pack_invite(&b, &inv, INVITE_MAX_ADDRS, "10.1.1.1:7412", 13, a.sk);
	CHECK(invite_decode(&got, buf_data(&b), b.sb.size) == 0);
	CHECK(got.naddrs == INVITE_MAX_ADDRS &&
	    strcmp(got.addrs[INVITE_MAX_ADDRS - 1], "10.1.1.1:7412") == 0);
	for (size_t n = INVITE_MAX_ADDRS + 1; n <= INVITE_MAX_ADDRS + 3;
	    n++) {
		buf_clear(&b);
		pack_invite(&b, &inv, n, "10.1.1.1:7412", 13, a.sk);
		CHECK(invite_decode(&got, buf_data(&b), b.sb.size) != 0);
	}

	/* An address of 64 bytes (no room for its NUL), or holding one. */
	memset(long_addr, 'y', sizeof(long_addr) - 2);
	long_addr[sizeof(long_addr) - 2] = '\0';	/* 63 bytes */
	buf_clear(&b);
	pack_invite(&b, &inv, 1, long_addr, strlen(long_addr), a.sk);
	CHECK(invite_decode(&got, buf_data(&b), b.sb.size) == 0);
	memset(long_addr, 'y', sizeof(long_addr) - 1);
	long_addr[sizeof(long_addr) - 1] = '\0';	/* 64 bytes */
	buf_clear(&b);
	pack_invite(&b, &inv, 1, long_addr, strlen(long_addr), a.sk);
	CHECK(invite_decode(&got, buf_data(&b), b.sb.size) != 0);
	buf_clear(&b);
	pack_invite(&b, &inv, 1, "a\0:1", 4, a.sk);
	CHECK(invite_decode(&got, buf_data(&b), b.sb.size) != 0);
	buf_clear(&b);
	pack_invite(&b, &inv, 1, "a:1\0", 4, a.sk);
	CHECK(invite_decode(&got, buf_data(&b), b.sb.size) != 0);
	buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Bundle files */

static const size_t bundle_lens[] = { 1, 17, 100, 42, 3, 99, 2 };

static uint8_t *
make_bundle(const size_t *lens, size_t n, uint64_t count, const uint8_t *key,
    size_t *len)
{
	uint8_t team[WIRE_TEAMIDLEN], exporter[PROTO_IDLEN], *p;
	size_t off, total = BUNDLE_HEADER_LEN + BUNDLE_MACLEN;

	for (size_t i = 0; i < n; i++)
		total += 4 + lens[i];
	if ((p = malloc(total)) == NULL)
		abort();
	memset(team, 0x7e, sizeof(team));
	memset(exporter, 0xe7, sizeof(exporter));
	bundle_header(p, team, exporter, count);
	off = BUNDLE_HEADER_LEN;
	for (size_t i = 0; i < n; i++) {
		p[off++] = (uint8_t)(lens[i] >> 24);
		p[off++] = (uint8_t)(lens[i] >> 16);
		p[off++] = (uint8_t)(lens[i] >> 8);
		p[off++] = (uint8_t)lens[i];
		for (size_t j = 0; j < lens[i]; j++)
			p[off++] = (uint8_t)(i * 41 + j);
	}
	bundle_mac(p + off, key, p, off);
	*len = total;
	return p;
}

/* The MAC recomputed after the body was changed on purpose. */
static void
remac(uint8_t *p, size_t len)
{
	bundle_mac(p + len - BUNDLE_MACLEN, bundle_key_a, p,
	    len - BUNDLE_MACLEN);
}

static void
test_bundle_round_trip(void)
{
	const uint8_t *env;
	struct bundle b;
	size_t len, elen, n;
	uint8_t *p;

	p = make_bundle(bundle_lens, LEN(bundle_lens), LEN(bundle_lens),
	    bundle_key_a, &len);
	CHECK(len == BUNDLE_HEADER_LEN + BUNDLE_MACLEN + 4 * LEN(bundle_lens)
	    + 264);
	CHECK(bundle_open(&b, p, len, bundle_key_a) == 0);
	CHECK(b.count == LEN(bundle_lens));
	CHECK(b.team_id[0] == 0x7e && b.exporter[31] == 0xe7);
	for (n = 0; bundle_next(&b, &env, &elen); n++) {
		CHECK(n < LEN(bundle_lens));
		if (n >= LEN(bundle_lens))
			break;
		CHECK(elen == bundle_lens[n]);
		for (size_t j = 0; j < elen && j < bundle_lens[n]; j++)
			if (env[j] != (uint8_t)(n * 41 + j)) {
				CHECK(0);
				break;
			}
	}
	CHECK(n == LEN(bundle_lens));
	CHECK(bundle_next(&b, &env, &elen) == 0);
	free(p);

	/* No entries at all. */
	p = make_bundle(NULL, 0, 0, bundle_key_a, &len);
	CHECK(len == BUNDLE_HEADER_LEN + BUNDLE_MACLEN);
	CHECK(bundle_open(&b, p, len, bundle_key_a) == 0);
	CHECK(b.count == 0 && bundle_next(&b, &env, &elen) == 0);
	free(p);

	/* The largest envelope. */
	{
		static const size_t big[] = { 5, PROTO_MAX_ENVELOPE, 5 };

		p = make_bundle(big, LEN(big), LEN(big), bundle_key_a, &len);
		CHECK(bundle_open(&b, p, len, bundle_key_a) == 0);
		for (n = 0; bundle_next(&b, &env, &elen); n++)
			CHECK(n < LEN(big) && elen == big[n]);
		CHECK(n == LEN(big));
		free(p);
	}
}

static void
test_bundle_flipped_bytes(void)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct bundle b;
	size_t len;
	uint8_t *p;
	int rc;

	p = make_bundle(bundle_lens, 3, 3, bundle_key_a, &len);
	CHECK(bundle_open(&b, p, len, bundle_key_a) == 0);
	for (size_t i = 0; i < len; i++)
		for (size_t k = 0; k < LEN(masks); k++) {
			/* The magic and version say "not a bundle" (-1)
			 * or "a newer bundle" (-3) before the MAC is
			 * computed; every other byte is the MAC's to refuse
			 * (-2). */
			int want = i < 8 ? -1 : i > 8 ? -2 :
			    (p[i] ^ masks[k]) > BUNDLE_VERSION ? -3 : -1;

			p[i] ^= masks[k];
			rc = bundle_open(&b, p, len, bundle_key_a);
			if (rc != want) {
				printf("#   byte %zu ^ 0x%02x: %d, expected %d\n",
				    i, masks[k], rc, want);
				CHECK(0);
			}
			/* Refused for its MAC, the header was still read. */
			if (rc == -2 && i >= 9 + WIRE_TEAMIDLEN)
				CHECK(b.team_id[0] == 0x7e);
			p[i] ^= masks[k];
		}
	CHECK(bundle_open(&b, p, len, bundle_key_a) == 0);	/* restored */
	free(p);
}

/* A newer version is named, whatever follows it: its layout may differ. */
static void
test_bundle_newer_version(void)
{
	static const size_t cuts[] = { 9, 10, BUNDLE_HEADER_LEN };
	struct bundle b;
	size_t len;
	uint8_t *p;

	p = make_bundle(bundle_lens, 3, 3, bundle_key_a, &len);
	CHECK(p[8] == BUNDLE_VERSION);
	p[8] = BUNDLE_VERSION + 1;
	CHECK(bundle_open(&b, p, len, bundle_key_a) == -3);
	CHECK(b.version == BUNDLE_VERSION + 1);
	for (size_t i = 0; i < LEN(cuts); i++)
		CHECK(bundle_open(&b, p, cuts[i], bundle_key_a) == -3);
	p[8] = 0;	/* no version before the first */
	CHECK(bundle_open(&b, p, len, bundle_key_a) == -1);
	free(p);
}

static void
test_bundle_wrong_key(void)
{
	uint8_t key[32];
	struct bundle b;
	size_t len;
	uint8_t *p;

	p = make_bundle(bundle_lens, LEN(bundle_lens), LEN(bundle_lens),
	    bundle_key_a, &len);
	memcpy(key, bundle_key_a, sizeof(key));
	for (size_t i = 0; i < sizeof(key); i++) {
		key[i] ^= 0x01;
		CHECK(bundle_open(&b, p, len, key) == -2);
		key[i] ^= 0x01;
	}
	memset(key, 0, sizeof(key));
	CHECK(bundle_open(&b, p, len, key) == -2);
	CHECK(memcmp(b.team_id, p + 9, WIRE_TEAMIDLEN) == 0);
	free(p);

	/* Made with another key, opened with ours. */
	p = make_bundle(bundle_lens, 2, 2, key, &len);
	CHECK(bundle_open(&b, p, len, bundle_key_a) == -2);
	CHECK(bundle_open(&b, p, len, key) == 0);
	free(p);
}

static void
test_bundle_truncated(void)
{
	struct bundle b;
	size_t len;
	uint8_t *p, *q;
	int rc;

	p = make_bundle(bundle_lens, LEN(bundle_lens), LEN(bundle_lens),
	    bundle_key_a, &len);
	for (size_t cut = 0; cut < len; cut++) {
		/* A copy of exactly cut bytes, so ASan sees any overread. */
		if ((q = malloc(cut + 1)) == NULL)
			abort();
		memcpy(q, p, cut);
		rc = bundle_open(&b, q, cut, bundle_key_a);
		if (rc != -1 && rc != -2) {
			printf("#   cut to %zu of %zu bytes: %d\n", cut, len,
			    rc);
			CHECK(0);
		}
		if (cut < BUNDLE_HEADER_LEN + BUNDLE_MACLEN)
			CHECK(rc == -1);
		free(q);
	}
	free(p);
}

static void
test_bundle_framing(void)
{
	static const uint64_t counts[] = { 0, 1, 2, 4, 5, 6, 7, 1000,
	    UINT32_MAX, UINT64_MAX };
	struct bundle b;
	size_t len;
	uint8_t *p;

	/* Five frames; the header says otherwise; the MAC is right. */
	for (size_t i = 0; i < LEN(counts); i++) {
		p = make_bundle(bundle_lens, 5, counts[i], bundle_key_a,
		    &len);
		CHECK(bundle_open(&b, p, len, bundle_key_a) ==
		    (counts[i] == 5 ? 0 : -1));
		free(p);
	}

	/* A frame's length changed, MAC recomputed: zero, one short, one
	 * long, past the envelope limit, past the end. */
	{
		static const uint32_t bad[] = { 0, 16, 18, PROTO_MAX_ENVELOPE
		    + 1, UINT32_MAX };
		size_t at = BUNDLE_HEADER_LEN + 4 + 1;	/* second frame */

		for (size_t i = 0; i < LEN(bad); i++) {
			p = make_bundle(bundle_lens, 3, 3, bundle_key_a, &len);
			p[at] = (uint8_t)(bad[i] >> 24);
			p[at + 1] = (uint8_t)(bad[i] >> 16);
			p[at + 2] = (uint8_t)(bad[i] >> 8);
			p[at + 3] = (uint8_t)bad[i];
			remac(p, len);
			CHECK(bundle_open(&b, p, len, bundle_key_a) == -1);
			free(p);
		}
	}

	/* Bytes after the last frame, or a frame cut short, MAC right. */
	{
		uint8_t *q;
		size_t qlen;

		p = make_bundle(bundle_lens, 3, 3, bundle_key_a, &len);
		for (size_t extra = 1; extra <= 5; extra++) {
			qlen = len + extra;
			if ((q = malloc(qlen)) == NULL)
				abort();
			memcpy(q, p, len - BUNDLE_MACLEN);
			memset(q + len - BUNDLE_MACLEN, 0, extra);
			remac(q, qlen);
			CHECK(bundle_open(&b, q, qlen, bundle_key_a) == -1);
			free(q);
		}
		for (size_t less = 1; less < len - BUNDLE_MACLEN -
		    BUNDLE_HEADER_LEN; less++) {
			qlen = len - less;
			if ((q = malloc(qlen)) == NULL)
				abort();
			memcpy(q, p, qlen - BUNDLE_MACLEN);
			remac(q, qlen);
			CHECK(bundle_open(&b, q, qlen, bundle_key_a) == -1);
			free(q);
		}
		free(p);
	}

	/* Not a bundle: wrong magic or version 0; a newer one, MAC right. */
	p = make_bundle(bundle_lens, 3, 3, bundle_key_a, &len);
	p[0] = 'X';
	remac(p, len);
	CHECK(bundle_open(&b, p, len, bundle_key_a) == -1);
	p[0] = 'S';
	p[8] = 0;
	remac(p, len);
	CHECK(bundle_open(&b, p, len, bundle_key_a) == -1);
	p[8] = BUNDLE_VERSION + 1;
	remac(p, len);
	CHECK(bundle_open(&b, p, len, bundle_key_a) == -3);
	p[8] = BUNDLE_VERSION;
	remac(p, len);
	CHECK(bundle_open(&b, p, len, bundle_key_a) == 0);
	free(p);
}

/*
 * Inputs over a decoder's size limit are refused. Last, on its own: when
 * the length check refuses first, wire_hello_decode and invite_decode must
 * not destroy the msgpack_unpacked they never initialised (scrub_stack
 * makes that crash here rather than pass by luck).
 */
/*
 * A sync frame is shape-checked, objects counted, before msgpack-c
 * unpacks it: a frame of one-byte objects is refused (it would cost 24
 * bytes of msgpack_object per byte), while the largest real vector and a
 * full batch of the smallest entries pass.
 */
static void
test_wire_object_budget(void)
{
	uint8_t author[PROTO_IDLEN], hash[PROTO_HASHLEN], env[120];
	size_t n = WIRE_MAX_FRAME - 16, items;
	struct wire_msg m;
	struct buf b;

	buf_init(&b);
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_uint8(&b.pk, MSG_ENTRIES);
	msgpack_pack_array(&b.pk, n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_nil(&b.pk);
	CHECK(b.sb.size <= WIRE_MAX_FRAME);
	CHECK(mp_check(buf_data(&b), b.sb.size) == 0);
	CHECK(mp_check_objects(buf_data(&b), b.sb.size, mp_max_objects(
	    b.sb.size, WIRE_OBJ_RATIO)) == -1);
	CHECK(!wire_buf_ok(&b));

	/* Vector items with one-byte seqs: as many as a frame holds. */
	buf_clear(&b);
	items = (WIRE_MAX_FRAME - 16) / (4 + 2 * (2 + PROTO_IDLEN));
	wire_pack_vector_begin(&b.pk, items);
	for (size_t i = 0; i < items; i++) {
		memset(author, 0, sizeof(author));
		memcpy(author, &i, sizeof(i));
		memset(hash, 0x5a, sizeof(hash));
		wire_pack_vector_item(&b.pk, author, 1, hash);
	}
	CHECK(b.sb.size <= WIRE_MAX_FRAME);
	CHECK(wire_decode(&m, buf_data(&b), b.sb.size) == 0);
	CHECK(m.n == items);
	wire_msg_free(&m);

	/* A full batch of entries no larger than a bare envelope header. */
	buf_clear(&b);
	memset(env, 0x33, sizeof(env));
	wire_pack_entries_begin(&b.pk, WIRE_MAX_BATCH);
	for (size_t i = 0; i < WIRE_MAX_BATCH; i++)
		wire_pack_entry(&b.pk, env, sizeof(env));
	CHECK(wire_buf_ok(&b));
	buf_free(&b);
}

static void
test_oversize_refused(void)
{
	struct wire_hello h;
	struct invite inv;
	struct wire_msg m;
	struct buf b;
	uint8_t *big;

	buf_init(&b);
	pack_hello(&b, WIRE_VERSION, PROTO_IDLEN, 2, WIRE_HELLO_MAX / 2);
	CHECK(b.sb.size > WIRE_HELLO_MAX);
	scrub_stack();
	CHECK(wire_hello_decode(&h, buf_data(&b), b.sb.size) != 0);
	buf_free(&b);

	if ((big = calloc(1, WIRE_MAX_FRAME + 1)) == NULL)
		abort();
	scrub_stack();
	CHECK(wire_hello_decode(&h, big, WIRE_HELLO_MAX + 1) != 0);
	scrub_stack();
	CHECK(invite_decode(&inv, big, 4097) != 0);
	scrub_stack();
	CHECK(wire_decode(&m, big, WIRE_MAX_FRAME + 1) != 0);
	free(big);
}

TAP_MAIN(
	TAP_TEST(test_vector_round_trip),
	TAP_TEST(test_entries_round_trip),
	TAP_TEST(test_ack_round_trip),
	TAP_TEST(test_bye_round_trip),
	TAP_TEST(test_wire_refuses_shapes),
	TAP_TEST(test_wire_refuses_field_counts),
	TAP_TEST(test_wire_refuses_vector_items),
	TAP_TEST(test_wire_refuses_entries),
	TAP_TEST(test_hello_round_trip),
	TAP_TEST(test_hello_refuses),
	TAP_TEST(test_hello_versions),
	TAP_TEST(test_offer),
	TAP_TEST(test_invite_round_trip),
	TAP_TEST(test_invite_flipped_bytes),
	TAP_TEST(test_invite_other_key),
	TAP_TEST(test_invite_refuses_addrs),
	TAP_TEST(test_bundle_round_trip),
	TAP_TEST(test_bundle_flipped_bytes),
	TAP_TEST(test_bundle_newer_version),
	TAP_TEST(test_bundle_wrong_key),
	TAP_TEST(test_bundle_truncated),
	TAP_TEST(test_bundle_framing),
	TAP_TEST(test_wire_object_budget),
	TAP_TEST(test_oversize_refused))
