/*
 * libFuzzer target: proto_phrase_decode reads a recovery phrase a teacher
 * typed or pasted. It must refuse, never crash, and what it accepts must
 * be the one secret whose phrase, encoded again, decodes to it.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/phrase_fuzz.c \
 *	    proto/phrase.c proto/devid.c $(pkg-config --cflags --libs \
 *	    libsodium msgpack) -o seeds && ./seeds tests/fuzz/corpus/phrase
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phrase.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t secret[PROTO_PHRASE_SECRET], again[PROTO_PHRASE_SECRET];
	char form[PROTO_PHRASE_LEN + 1];
	int half = 0, rc;

	rc = proto_phrase_decode((const char *)data, size, secret, &half);
	if (rc == PROTO_PHRASE_ECHECK && half != 1 && half != 2)
		abort();
	if (rc != 0) {
		if (rc != PROTO_PHRASE_EFORM && rc != PROTO_PHRASE_ECHECK)
			abort();
		return 0;
	}
	proto_phrase_encode(secret, form);
	if (strlen(form) != PROTO_PHRASE_LEN ||
	    proto_phrase_decode(form, strlen(form), again, NULL) != 0 ||
	    memcmp(secret, again, sizeof(secret)) != 0)
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
		{ "zero", "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA" },
		{ "lower-wrapped", "aaaaaaa aaaaaaa\naaaaaaa aaaaaaa\n" },
		{ "typo", "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAB" },
		{ "tail", "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAB7" },
		{ "short", "AAAAAAA-AAAAAAA" },
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
