/*
 * libFuzzer target: proto_devid_decode reads a device id a user typed or
 * pasted. It must refuse, never crash, and what it accepts must be the one
 * key whose checked form, read the same way (case, dashes and spaces, and
 * 0, 1, 8 for O, I, B set aside), is the input: encoding the key again
 * gives that form, which decodes to the same key (checked_form.h).
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/devid_fuzz.c proto/devid.c \
 *	    proto/checked32.c $(pkg-config --cflags msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/devid
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked_form.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct checked_form devid = {
		proto_devid_decode, proto_devid_encode, PROTO_IDLEN,
		PROTO_DEVID_LEN, 56, 4, PROTO_DEVID_EFORM, PROTO_DEVID_ECHECK,
		" "
	};

	checked_form_check(&devid, data, size);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	static const struct seed_text seeds[] = {
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

	if (argc != 2)
		return 1;
	return seed_write_texts(argv[1], seeds,
	    sizeof(seeds) / sizeof(seeds[0])) != 0;
}
#endif
