/*
 * Recovery phrases (see phrase.h): a 128-bit secret in Syncthing's checked
 * base32 form, two halves of 13 characters with a check each.
 */
#include <string.h>

#include <sodium.h>

#include "checked32.h"
#include "phrase.h"

#define HALF		13
#define DATA_CHARS	(2 * HALF)		/* 26: 128 bits and 2 zeros */
#define CHECKED_CHARS	(2 * (HALF + 1))	/* 28 */

void
proto_phrase_encode(const uint8_t secret[PROTO_PHRASE_SECRET],
    char out[PROTO_PHRASE_LEN + 1])
{
	uint8_t v[DATA_CHARS];
	char checked[CHECKED_CHARS];
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0, o = 0;

	for (size_t i = 0; i < PROTO_PHRASE_SECRET; i++) {
		acc = (acc << 8 | secret[i]) & 0xfff;
		for (bits += 8; bits >= 5; bits -= 5)
			v[n++] = (uint8_t)(acc >> (bits - 5) & 31);
	}
	v[n++] = (uint8_t)(acc << (5 - bits) & 31);	/* 128 = 25 * 5 + 3 */
	for (int h = 0; h < 2; h++) {
		for (int i = 0; i < HALF; i++)
			checked[o++] = proto_b32[v[h * HALF + i]];
		checked[o++] = proto_b32[proto_luhn32(v + h * HALF, HALF)];
	}
	for (size_t i = 0, j = 0; i < CHECKED_CHARS; i++) {
		if (i > 0 && i % 7 == 0)
			out[j++] = '-';
		out[j++] = checked[i];
	}
	out[PROTO_PHRASE_LEN] = '\0';
}

/* The 28 values of s, dashes and white space skipped; -1 if s holds
 * anything else or another count. */
static int
phrase_values(const char *s, size_t len, uint8_t v[CHECKED_CHARS])
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int x;

		if (s[i] == '-' || s[i] == ' ' || s[i] == '\t' ||
		    s[i] == '\n' || s[i] == '\r')
			continue;
		if ((x = proto_b32_value(s[i])) < 0 || n == CHECKED_CHARS)
			return -1;
		v[n++] = (uint8_t)x;
	}
	return n == CHECKED_CHARS ? 0 : -1;
}

int
proto_phrase_decode(const char *s, size_t len,
    uint8_t secret[PROTO_PHRASE_SECRET], int *half)
{
	uint8_t v[CHECKED_CHARS], data[DATA_CHARS];
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	if (phrase_values(s, len, v) != 0)
		return PROTO_PHRASE_EFORM;
	for (int h = 0; h < 2; h++) {
		const uint8_t *p = v + h * (HALF + 1);

		if (proto_luhn32(p, HALF) != p[HALF]) {
			if (half != NULL)
				*half = h + 1;
			return PROTO_PHRASE_ECHECK;
		}
		memcpy(data + h * HALF, p, HALF);
	}
	/* The last character holds the secret's last 3 bits and two zeros:
	 * one secret, one phrase. */
	if ((data[DATA_CHARS - 1] & 3) != 0)
		return PROTO_PHRASE_EFORM;
	for (size_t i = 0; i < DATA_CHARS; i++) {
		acc = (acc << 5 | data[i]) & 0xfff;
		if ((bits += 5) >= 8 && n < PROTO_PHRASE_SECRET) {
			bits -= 8;
			secret[n++] = (uint8_t)(acc >> bits);
		}
	}
	return 0;
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
