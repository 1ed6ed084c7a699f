/*
 * libFuzzer target: proto_phrase_decode reads a recovery phrase a teacher
 * typed or pasted. It must refuse, never crash, and what it accepts must
 * be the one secret whose phrase, read the same way (case, dashes, white
 * space, and 0, 1, 8 for O, I, B set aside), is the input: encoding the
 * secret again gives that phrase, which decodes to it (checked_form.h).
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/phrase_fuzz.c \
 *	    proto/phrase.c proto/checked32.c $(pkg-config --cflags --libs \
 *	    libsodium msgpack) -o seeds && ./seeds tests/fuzz/corpus/phrase
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checked_form.h"
#include "phrase.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct checked_form phrase = {
		proto_phrase_decode, proto_phrase_encode, PROTO_PHRASE_SECRET,
		PROTO_PHRASE_LEN, 28, 2, PROTO_PHRASE_EFORM,
		PROTO_PHRASE_ECHECK, " \t\n\r"
	};

	checked_form_check(&phrase, data, size);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	static const struct seed_text seeds[] = {
		{ "zero", "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA" },
		{ "lower-wrapped", "aaaaaaa aaaaaaa\naaaaaaa aaaaaaa\n" },
		{ "typo", "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAB" },
		{ "tail", "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAB7" },
		{ "short", "AAAAAAA-AAAAAAA" },
		{ "empty", "" },
	};

	if (argc != 2)
		return 1;
	return seed_write_texts(argv[1], seeds,
	    sizeof(seeds) / sizeof(seeds[0])) != 0;
}
#endif
