/*
 * libFuzzer target: wire_decode reads every sync message a peer sends. It
 * must refuse, never crash; what it accepts must keep its promises (a known
 * type, counts within limits, every item readable through wire_vector_at or
 * wire_entry_at, entries borrowed from the input), and re-encoding it with
 * the wire_pack_* functions must decode to the same content, in no more
 * bytes than the input (the packer writes the shortest form).
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/wire_fuzz.c \
 *	    proto/wire.c proto/mpack.c \
 *	    $(pkg-config --cflags --libs libsodium msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/wire
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scrub.h"
#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Packs m again with the wire_pack_* functions. */
static void
repack(const struct wire_msg *m, msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	uint8_t author[PROTO_IDLEN], hash[PROTO_HASHLEN];
	const uint8_t *env;
	uint64_t seq;
	size_t len;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	switch (m->type) {
	case MSG_VECTOR:
		wire_pack_vector_begin(&pk, m->n);
		for (size_t i = 0; i < m->n; i++) {
			wire_vector_at(m, i, author, &seq, hash);
			wire_pack_vector_item(&pk, author, seq, hash);
		}
		break;
	case MSG_ENTRIES:
		wire_pack_entries_begin(&pk, m->n);
		for (size_t i = 0; i < m->n; i++) {
			wire_entry_at(m, i, &env, &len);
			wire_pack_entry(&pk, env, len);
		}
		break;
	case MSG_ACK:
		wire_pack_ack(&pk, m->author, m->seq);
		break;
	case MSG_REFUSE:
		wire_pack_refuse(&pk, m->author, m->seq);
		break;
	case MSG_BYE:
		wire_pack_bye(&pk);
		break;
	default:
		abort();
	}
}

/* Same type and same content, item by item. */
static int
same_msg(const struct wire_msg *a, const struct wire_msg *b)
{
	uint8_t aa[PROTO_IDLEN], ab[PROTO_IDLEN];
	uint8_t ha[PROTO_HASHLEN], hb[PROTO_HASHLEN];
	const uint8_t *ea, *eb;
	uint64_t sa, sb;
	size_t la, lb;

	if (a->type != b->type || a->n != b->n)
		return 0;
	switch (a->type) {
	case MSG_VECTOR:
		for (size_t i = 0; i < a->n; i++) {
			wire_vector_at(a, i, aa, &sa, ha);
			wire_vector_at(b, i, ab, &sb, hb);
			if (memcmp(aa, ab, sizeof(aa)) != 0 || sa != sb ||
			    memcmp(ha, hb, sizeof(ha)) != 0)
				return 0;
		}
		return 1;
	case MSG_ENTRIES:
		for (size_t i = 0; i < a->n; i++) {
			wire_entry_at(a, i, &ea, &la);
			wire_entry_at(b, i, &eb, &lb);
			if (la != lb || (la > 0 && memcmp(ea, eb, la) != 0))
				return 0;
		}
		return 1;
	case MSG_ACK:
	case MSG_REFUSE:
		return memcmp(a->author, b->author, PROTO_IDLEN) == 0 &&
		    a->seq == b->seq;
	case MSG_BYE:
		return 1;
	default:
		return 0;
	}
}

/* Reads every item as its type says; checks what decode promises. */
static void
walk(const struct wire_msg *m, const uint8_t *data, size_t size)
{
	uint8_t author[PROTO_IDLEN], hash[PROTO_HASHLEN];
	volatile uint8_t sink = 0;
	const uint8_t *env;
	uint64_t seq;
	size_t len;

	switch (m->type) {
	case MSG_VECTOR:
		if (m->n > WIRE_MAX_AUTHORS || (m->n > 0 && m->items == NULL))
			abort();
		for (size_t i = 0; i < m->n; i++) {
			wire_vector_at(m, i, author, &seq, hash);
			sink ^= author[0] ^ author[PROTO_IDLEN - 1] ^
			    hash[0] ^ hash[PROTO_HASHLEN - 1] ^ (uint8_t)seq;
		}
		break;
	case MSG_ENTRIES:
		if (m->n == 0 || m->n > WIRE_MAX_BATCH || m->items == NULL)
			abort();
		for (size_t i = 0; i < m->n; i++) {
			wire_entry_at(m, i, &env, &len);
			if (len > PROTO_MAX_ENVELOPE || len > size ||
			    (len > 0 && (env < data ||
			    env > data + size - len)))
				abort();
			for (size_t j = 0; j < len; j++)
				sink ^= env[j];	/* ASan sees every byte */
		}
		break;
	case MSG_ACK:
	case MSG_REFUSE:
		if (m->n != 0)
			abort();
		sink ^= m->author[0] ^ (uint8_t)m->seq;
		break;
	case MSG_BYE:
		if (m->n != 0)
			abort();
		break;
	default:
		abort();	/* an unknown type was accepted */
	}
	(void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg m, m2;
	msgpack_sbuffer sb;

	scrub_stack();
	if (wire_decode(&m, data, size) != 0) {
		if (m.items != NULL || m.n != 0)
			abort();	/* a refusal leaves nothing behind */
		return 0;
	}
	walk(&m, data, size);

	msgpack_sbuffer_init(&sb);
	repack(&m, &sb);
	if (sb.size > size ||
	    wire_decode(&m2, (const uint8_t *)sb.data, sb.size) != 0)
		abort();
	if (!same_msg(&m, &m2))
		abort();
	walk(&m2, (const uint8_t *)sb.data, sb.size);
	wire_msg_free(&m2);
	msgpack_sbuffer_destroy(&sb);
	wire_msg_free(&m);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	static const uint8_t huge[] = { 0x92, 0x01, 0xdd, 0xff, 0xff, 0xff };
	/* [0xcc 0x04]: BYE with its type as a uint8, not a fixint. */
	static const uint8_t bye_uint8[] = { 0x91, 0xcc, 0x04 };
	static const uint8_t unknown[] = { 0x91, 0x05 };
	uint8_t author[PROTO_IDLEN], hash[PROTO_HASHLEN], env[300];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc = 0;

	if (argc != 2)
		return 1;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

	/* A vector of three authors, seqs across the integer widths. */
	wire_pack_vector_begin(&pk, 3);
	for (int i = 0; i < 3; i++) {
		static const uint64_t seqs[] = { 1, 300, UINT64_MAX };

		memset(author, 0x10 + i, sizeof(author));
		memset(hash, 0xa0 + i, sizeof(hash));
		wire_pack_vector_item(&pk, author, seqs[i], hash);
	}
	rc |= seed_write(argv[1], "vector", sb.data, sb.size);
	rc |= seed_write(argv[1], "vector-truncated", sb.data, sb.size - 5);
	msgpack_sbuffer_clear(&sb);
	wire_pack_vector_begin(&pk, 0);
	rc |= seed_write(argv[1], "vector-empty", sb.data, sb.size);

	/* Entries: a short one and one past 255 bytes (bin16). */
	msgpack_sbuffer_clear(&sb);
	for (size_t i = 0; i < sizeof(env); i++)
		env[i] = (uint8_t)i;
	wire_pack_entries_begin(&pk, 2);
	wire_pack_entry(&pk, env, 7);
	wire_pack_entry(&pk, env, sizeof(env));
	rc |= seed_write(argv[1], "entries", sb.data, sb.size);
	rc |= seed_write(argv[1], "entries-truncated", sb.data, sb.size - 1);

	msgpack_sbuffer_clear(&sb);
	memset(author, 0x42, sizeof(author));
	wire_pack_ack(&pk, author, 123456789);
	rc |= seed_write(argv[1], "ack", sb.data, sb.size);
	rc |= seed_write(argv[1], "ack-truncated", sb.data, 20);

	msgpack_sbuffer_clear(&sb);
	wire_pack_bye(&pk);
	rc |= seed_write(argv[1], "bye", sb.data, sb.size);
	rc |= seed_write(argv[1], "bye-uint8", bye_uint8, sizeof(bye_uint8));
	rc |= seed_write(argv[1], "unknown-type", unknown, sizeof(unknown));
	rc |= seed_write(argv[1], "huge-array", huge, sizeof(huge));
	rc |= seed_write(argv[1], "empty", huge, 0);
	msgpack_sbuffer_destroy(&sb);
	return rc != 0;
}
#endif
