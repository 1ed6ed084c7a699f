/*
 * Recovery phrases (see phrase.h): a 128-bit secret in Syncthing's checked
 * base32 form, two halves of 13 characters with a check each.
 */
#include <sodium.h>

#include "checked32.h"
#include "phrase.h"

#define HALVES	2	/* of 13 base32 characters and a check each */

_Static_assert(CHECKED32_LEN(PROTO_PHRASE_SECRET, HALVES) ==
    PROTO_PHRASE_LEN, "a phrase is 4 groups of 7");
_Static_assert(PROTO_PHRASE_SECRET <= CHECKED32_MAX_BYTES &&
    CHECKED32_DATA(PROTO_PHRASE_SECRET) % HALVES == 0,
    "see checked32_encode");
_Static_assert(CHECKED32_EFORM == PROTO_PHRASE_EFORM &&
    CHECKED32_ECHECK == PROTO_PHRASE_ECHECK, "errors pass through");

void
proto_phrase_encode(const uint8_t secret[PROTO_PHRASE_SECRET],
    char out[PROTO_PHRASE_LEN + 1])
{
	checked32_encode(secret, PROTO_PHRASE_SECRET, HALVES, out);
}

int
proto_phrase_decode(const char *s, size_t len,
    uint8_t secret[PROTO_PHRASE_SECRET], int *half)
{
	/* White space too: a phrase is copied off paper, wrapped or not. */
	return checked32_decode(s, len, " \t\n\r", secret,
	    PROTO_PHRASE_SECRET, HALVES, half);
}

void
proto_phrase_key(const uint8_t secret[PROTO_PHRASE_SECRET],
    uint8_t out[PROTO_KEYLEN])
{
	uint8_t master[crypto_kdf_KEYBYTES];

	/* The secret is 128 random bits, not a password: a hash makes the
	 * KDF's master key, no slow password hash is needed. */
	crypto_generichash(master, sizeof(master), secret,
	    PROTO_PHRASE_SECRET, NULL, 0);
	crypto_kdf_derive_from_key(out, PROTO_KEYLEN, 1, "spersonl", master);
	sodium_memzero(master, sizeof(master));
}
