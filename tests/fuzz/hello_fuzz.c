/*
 * libFuzzer target: wire_hello_decode reads the payload a stranger sends
 * in the handshake, before anything about it is known. It must refuse,
 * never crash; what it accepts must keep its promises (at most
 * WIRE_MAX_PROOFS proofs, each borrowed from the input and no longer than
 * PROTO_MAX_ENVELOPE; a version, a clock from version 2 on and flags
 * from version 3 on), re-encode with wire_hello_encode in no more bytes
 * than the input (the fields of newer versions it does not know are
 * dropped), and decode again to the same fields.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/hello_fuzz.c \
 *	    proto/wire.c proto/mpack.c \
 *	    $(pkg-config --cflags --libs libsodium msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/hello
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scrub.h"
#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
same_hello(const struct wire_hello *a, const struct wire_hello *b)
{
	if (memcmp(a->id, b->id, PROTO_IDLEN) != 0 ||
	    a->nproofs != b->nproofs || a->version != b->version ||
	    a->wall_ms != b->wall_ms || a->flags != b->flags)
		return 0;
	for (size_t i = 0; i < a->nproofs; i++)
		if (a->proof_lens[i] != b->proof_lens[i] ||
		    (a->proof_lens[i] > 0 && memcmp(a->proofs[i], b->proofs[i],
		    a->proof_lens[i]) != 0))
			return 0;
	return 1;
}

static void
check_promises(const struct wire_hello *h, const uint8_t *data, size_t size)
{
	volatile uint8_t sink = 0;

	if (h->nproofs > WIRE_MAX_PROOFS || h->version == 0 ||
	    h->version > 255 || (h->version == 1 && h->wall_ms != 0) ||
	    h->wall_ms > WIRE_MAX_WALL_MS || (h->version < 3 && h->flags))
		abort();
	for (size_t i = 0; i < h->nproofs; i++) {
		const uint8_t *p = h->proofs[i];
		size_t len = h->proof_lens[i];

		if (len > PROTO_MAX_ENVELOPE || len > size ||
		    (len > 0 && (p < data || p > data + size - len)))
			abort();
		for (size_t j = 0; j < len; j++)
			sink ^= p[j];	/* ASan sees every byte */
	}
	(void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_hello h, h2;
	msgpack_sbuffer sb;

	scrub_stack();
	if (wire_hello_decode(&h, data, size) != 0)
		return 0;
	check_promises(&h, data, size);

	msgpack_sbuffer_init(&sb);
	if (wire_hello_encode(&sb, &h) != 0 || sb.size > size ||
	    wire_hello_decode(&h2, (const uint8_t *)sb.data, sb.size) != 0)
		abort();
	check_promises(&h2, (const uint8_t *)sb.data, sb.size);
	if (!same_hello(&h, &h2))
		abort();
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	static uint8_t proof[WIRE_MAX_PROOFS][40];
	struct wire_hello h;
	msgpack_sbuffer sb;
	int rc = 0;

	if (argc != 2)
		return 1;
	msgpack_sbuffer_init(&sb);
	memset(&h, 0, sizeof(h));
	memset(h.id, 0x5a, sizeof(h.id));
	if (wire_hello_encode(&sb, &h) != 0)
		return 1;
	rc |= seed_write(argv[1], "no-proofs", sb.data, sb.size);

	for (size_t i = 0; i < WIRE_MAX_PROOFS; i++) {
		memset(proof[i], 0x30 + (int)i, sizeof(proof[i]));
		h.proofs[i] = proof[i];
		h.proof_lens[i] = 1 + i * 5;
	}
	h.nproofs = 2;
	msgpack_sbuffer_clear(&sb);
	if (wire_hello_encode(&sb, &h) != 0)
		return 1;
	rc |= seed_write(argv[1], "two-proofs", sb.data, sb.size);
	rc |= seed_write(argv[1], "two-proofs-truncated", sb.data,
	    sb.size - 3);

	h.nproofs = WIRE_MAX_PROOFS;
	msgpack_sbuffer_clear(&sb);
	if (wire_hello_encode(&sb, &h) != 0)
		return 1;
	rc |= seed_write(argv[1], "max-proofs", sb.data, sb.size);
	/* The same with version 2: refused, for it has no clock. */
	((uint8_t *)sb.data)[1] = 2;
	rc |= seed_write(argv[1], "version-2", sb.data, sb.size);
	rc |= seed_write(argv[1], "empty", sb.data, 0);

	/* Version 2 with its clock; a newer version with fields after it. */
	h.version = WIRE_PROTO_VERSION;
	h.wall_ms = UINT64_C(1796000000000);
	h.nproofs = 1;
	msgpack_sbuffer_clear(&sb);
	if (wire_hello_encode(&sb, &h) != 0)
		return 1;
	rc |= seed_write(argv[1], "version-2-clock", sb.data, sb.size);
	h.version = 7;
	msgpack_sbuffer_clear(&sb);
	if (wire_hello_encode(&sb, &h) != 0)
		return 1;
	((uint8_t *)sb.data)[0] = 0x96;		/* two fields more: */
	msgpack_sbuffer_write(&sb, "\x81\x01\xc0\xa3new", 7);
	rc |= seed_write(argv[1], "version-7-extra-fields", sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return rc != 0;
}
#endif
