/*
 * libFuzzer target: proto_devid_decode reads a device id a user typed or
 * pasted. It must refuse, never crash, and what it accepts must be the one
 * key whose checked form, read the same way (case, dashes and spaces, and
 * 0, 1, 8 for O, I, B set aside), is the input: encoding the key again
 * gives that form, which decodes to the same key.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/devid_fuzz.c proto/devid.c \
 *	    $(pkg-config --cflags msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/devid
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The input as the decoder reads it: upper case, no dashes or spaces,
 * digits the alphabet lacks read as the letters they look like. */
static size_t
plain(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n < cap; i++) {
		char c = (char)in[i];

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		c = c == '0' ? 'O' : c == '1' ? 'I' : c == '8' ? 'B' : c;
		out[n++] = c;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t id[PROTO_IDLEN], again[PROTO_IDLEN];
	char form[PROTO_DEVID_LEN + 1], a[PROTO_DEVID_LEN], b[64];
	int group = 0, rc;

	rc = proto_devid_decode((const char *)data, size, id, &group);
	if (rc == PROTO_DEVID_ECHECK && (group < 1 || group > 4))
		abort();
	if (rc != 0) {
		if (rc != PROTO_DEVID_EFORM && rc != PROTO_DEVID_ECHECK)
			abort();
		return 0;
	}
	proto_devid_encode(id, form);
	if (strlen(form) != PROTO_DEVID_LEN ||
	    proto_devid_decode(form, strlen(form), again, NULL) != 0 ||
	    memcmp(id, again, PROTO_IDLEN) != 0)
		abort();
	if (plain(data, size, b, sizeof(b)) != 56 ||
	    plain((const uint8_t *)form, strlen(form), a, sizeof(a)) != 56 ||
	    memcmp(a, b, 56) != 0)
		abort();
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	static const char *const seeds[][2] = {
		{ "syncthing", "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-"
		    "PQ6W5BM-TBBZ4TJ-XZWICQ2" },
		{ "lower-spaces", "p56ioi7 mzjnu2y iqgdrey dm2mgti mgl3bxn "
		    "pq6w5bm tbbz4tj xzwicq2" },
		{ "look-alike-digits", "P561017MZJNU2YIQGDREYDM2MGTIMGL3BXNPQ6W5"
		    "BMT88Z4TJXZWICQ2" },
		{ "typo", "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-"
		    "TBBZ4TJ-XZWIDQ2" },
		{ "unchecked", "P56IOI7MZJNU2IQGDREYDM2MGTMGL3BXNPQ6W5BTBBZ4TJ"
		    "XZWICQ" },
		{ "hex", "7f7c8723ecca5b4d22061c4981b34c34d865ec376be1eb7433087"
		    "3c9a6f9b205" },
		{ "zero", "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-"
		    "AAAAAAA-AAAAAAA" },
		{ "noncanonical-tail", "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-"
		    "AAAAAAA-AAAAAAA-AAAAAB7" },
		{ "empty", "" },
	};
	int rc = 0;

	if (argc != 2)
		return 1;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		rc |= seed_write(argv[1], seeds[i][0], seeds[i][1],
		    strlen(seeds[i][1]));
	return rc != 0;
}
#endif
