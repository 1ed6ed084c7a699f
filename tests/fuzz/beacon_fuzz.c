/*
 * libFuzzer target: proto_beacon_open reads any datagram that reaches UDP
 * port 7420. Under a fixed key it must refuse, never crash; what it
 * accepts (inputs the seeds seal under that key, and the fuzzer's
 * mutations of them) must seal again into a beacon that opens to the
 * same fields.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/beacon_fuzz.c \
 *	    proto/beacon.c $(pkg-config --cflags --libs libsodium msgpack) \
 *	    -o seeds && ./seeds tests/fuzz/corpus/beacon
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "beacon.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_key(uint8_t key[PROTO_KEYLEN])
{
	uint8_t network[PROTO_KEYLEN];

	memset(network, 0x42, sizeof(network));
	proto_beacon_key(key, network);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[PROTO_KEYLEN], again[PROTO_BEACON_LEN];
	struct beacon b, c;
	int rc;

	if (sodium_init() < 0)
		abort();
	fuzz_key(key);
	rc = proto_beacon_open(data, size, key, &b);
	if (rc != 0) {
		if (rc != -1 && rc != PROTO_BEACON_ENEWER)
			abort();
		return 0;
	}
	if (size != PROTO_BEACON_LEN || b.port == 0)
		abort();
	proto_beacon_seal(again, key, &b);
	if (proto_beacon_open(again, sizeof(again), key, &c) != 0 ||
	    memcmp(&b.id, &c.id, sizeof(b.id)) != 0 || b.port != c.port ||
	    b.sent_ms != c.sent_ms)
		abort();
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	uint8_t key[PROTO_KEYLEN], buf[PROTO_BEACON_LEN], other[PROTO_KEYLEN];
	struct beacon b = { .port = 7420, .sent_ms = 1764460800000 };
	int rc = 0;

	if (argc != 2 || sodium_init() < 0)
		return 1;
	fuzz_key(key);
	memset(b.id, 0xa5, sizeof(b.id));
	proto_beacon_seal(buf, key, &b);
	rc |= seed_write(argv[1], "team", buf, sizeof(buf));
	memset(other, 0x17, sizeof(other));
	proto_beacon_seal(buf, other, &b);
	rc |= seed_write(argv[1], "other-team", buf, sizeof(buf));
	rc |= seed_write(argv[1], "short", buf, 40);
	rc |= seed_write(argv[1], "empty", buf, 0);
	return rc != 0;
}
#endif
