/*
 * libFuzzer target: wire_offer_decode reads the payload of the first
 * handshake message, which anyone holding the network key can send
 * before it has proved anything. It must refuse, never crash; what it
 * accepts is a version from 1 to 255, and only an empty offer is 1.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/offer_fuzz.c \
 *	    proto/wire.c proto/mpack.c \
 *	    $(pkg-config --cflags --libs libsodium msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/offer
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned version = 0;

	if (wire_offer_decode(&version, data, size) != 0)
		return 0;
	if (version == 0 || version > 255 || (version == 1) != (size == 0) ||
	    wire_version_spoken(version) > WIRE_PROTO_VERSION)
		abort();
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	static const uint8_t newer[] = { 0x93, 0x09, 0x80, 0xa3, 'n', 'e',
	    'w' };
	static const uint8_t v1[] = { 0x91, 0x01 };
	msgpack_sbuffer sb;
	int rc = 0;

	if (argc != 2)
		return 1;
	msgpack_sbuffer_init(&sb);
	if (wire_offer_encode(&sb, WIRE_PROTO_VERSION) != 0)
		return 1;
	rc |= seed_write(argv[1], "current", sb.data, sb.size);
	rc |= seed_write(argv[1], "empty", sb.data, 0);
	rc |= seed_write(argv[1], "truncated", sb.data, sb.size - 1);
	rc |= seed_write(argv[1], "newer-with-fields", newer, sizeof(newer));
	rc |= seed_write(argv[1], "version-1-refused", v1, sizeof(v1));
	msgpack_sbuffer_destroy(&sb);
	return rc != 0;
}
#endif
