/*
 * libFuzzer target: bundle_open reads a file from a USB stick. It must
 * refuse, never crash. The MAC gates everything after the header, so each
 * input is tried twice:
 *  - as it is, with a fixed key;
 *  - with its last BUNDLE_MACLEN bytes replaced by the right MAC over the
 *    rest, so the fuzzer reaches the framing checks. Such a copy must never
 *    be refused for its MAC (-2).
 * A bundle that opens must walk with bundle_next through exactly b.count
 * envelopes, each of 1..PROTO_MAX_ENVELOPE bytes inside the input, and end
 * with nothing left over.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/bundle_fuzz.c proto/bundle.c \
 *	    $(pkg-config --cflags --libs libsodium msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/bundle
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wire.h"

/* An arbitrary fixed key, shared by the seeds and the target. */
static const uint8_t fuzz_key[32] = {
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
	0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
	0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
	0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Opens buf; on success walks every envelope. Returns bundle_open's rc. */
static int
fuzz_open(const uint8_t *buf, size_t len)
{
	volatile uint8_t sink = 0;
	const uint8_t *env;
	struct bundle b;
	uint64_t n = 0;
	size_t elen;
	int rc;

	rc = bundle_open(&b, buf, len, fuzz_key);
	if (rc != 0 && rc != -1 && rc != -2 && rc != -3)
		abort();
	if (rc == -3 && (len < 9 || b.version <= BUNDLE_VERSION))
		abort();
	if (rc != 0)
		return rc;
	if (len < BUNDLE_HEADER_LEN + BUNDLE_MACLEN ||
	    memcmp(b.team_id, buf + 9, WIRE_TEAMIDLEN) != 0 ||
	    memcmp(b.exporter, buf + 9 + WIRE_TEAMIDLEN, PROTO_IDLEN) != 0)
		abort();
	while (bundle_next(&b, &env, &elen)) {
		if (++n > b.count || elen == 0 || elen > PROTO_MAX_ENVELOPE ||
		    env < buf + BUNDLE_HEADER_LEN ||
		    env > buf + len - BUNDLE_MACLEN ||
		    elen > (size_t)(buf + len - BUNDLE_MACLEN - env))
			abort();
		sink ^= env[0] ^ env[elen - 1];
	}
	if (n != b.count || b.left != 0)
		abort();
	(void)sink;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	int rc, rc2;

	if (sodium_init() < 0)
		abort();
	rc = fuzz_open(data, size);
	if (size < BUNDLE_MACLEN)
		return 0;

	/* The same with the right MAC: the framing is what decides. */
	if ((copy = malloc(size)) == NULL)
		abort();
	memcpy(copy, data, size);
	bundle_mac(copy + size - BUNDLE_MACLEN, fuzz_key, copy,
	    size - BUNDLE_MACLEN);
	rc2 = fuzz_open(copy, size);
	if (rc2 == -2 || (rc == 0 && rc2 != 0))
		abort();
	free(copy);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

static uint8_t seed_buf[4096];

/* A bundle of n envelopes of the given lengths, header saying count. */
static size_t
seed_bundle(const size_t *lens, size_t n, uint64_t count)
{
	uint8_t team[WIRE_TEAMIDLEN], exporter[PROTO_IDLEN];
	size_t off = BUNDLE_HEADER_LEN;

	memset(team, 0x7e, sizeof(team));
	memset(exporter, 0x33, sizeof(exporter));
	bundle_header(seed_buf, team, exporter, count);
	for (size_t i = 0; i < n; i++) {
		seed_buf[off++] = (uint8_t)(lens[i] >> 24);
		seed_buf[off++] = (uint8_t)(lens[i] >> 16);
		seed_buf[off++] = (uint8_t)(lens[i] >> 8);
		seed_buf[off++] = (uint8_t)lens[i];
		for (size_t j = 0; j < lens[i]; j++)
			seed_buf[off++] = (uint8_t)(i + j);
	}
	bundle_mac(seed_buf + off, fuzz_key, seed_buf, off);
	return off + BUNDLE_MACLEN;
}

int
main(int argc, char **argv)
{
	static const size_t three[] = { 1, 40, 300 }, one[] = { 9 };
	size_t len;
	int rc = 0;

	if (argc != 2 || sodium_init() < 0)
		return 1;
	len = seed_bundle(NULL, 0, 0);
	rc |= seed_write(argv[1], "no-entries", seed_buf, len);
	len = seed_bundle(one, 1, 1);
	rc |= seed_write(argv[1], "one-entry", seed_buf, len);
	len = seed_bundle(three, 3, 3);
	rc |= seed_write(argv[1], "three-entries", seed_buf, len);
	rc |= seed_write(argv[1], "three-entries-truncated", seed_buf,
	    len - 40);
	seed_buf[BUNDLE_HEADER_LEN + 7] ^= 0x04;
	rc |= seed_write(argv[1], "flipped-byte", seed_buf, len);
	/* Three frames, a header saying four, the right MAC. */
	len = seed_bundle(three, 3, 4);
	rc |= seed_write(argv[1], "count-mismatch", seed_buf, len);
	rc |= seed_write(argv[1], "empty", seed_buf, 0);
	return rc != 0;
}
#endif
