/*
 * phrase: recovery phrases (proto_phrase_encode/decode/key). Every secret
 * round-trips; every single-character substitution is caught by its
 * half's check; case, dashes, spaces and line breaks do not matter; other
 * lengths and non-canonical tails are refused; the personal key depends
 * on the whole secret and nothing else.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "phrase.h"
#include "tap.h"

static int
decode(const char *s, uint8_t secret[PROTO_PHRASE_SECRET], int *half)
{
	return proto_phrase_decode(s, strlen(s), secret, half);
}

static void
test_round_trip(void)
{
	uint8_t secret[PROTO_PHRASE_SECRET], back[PROTO_PHRASE_SECRET];
	char out[PROTO_PHRASE_LEN + 1];

	for (int i = 0; i < 1000; i++) {
		randombytes_buf(secret, sizeof(secret));
		proto_phrase_encode(secret, out);
		CHECK(strlen(out) == PROTO_PHRASE_LEN);
		CHECK(out[7] == '-' && out[15] == '-' && out[23] == '-');
		CHECK(decode(out, back, NULL) == 0);
		CHECK(memcmp(secret, back, sizeof(secret)) == 0);
	}
}

static void
test_every_single_typo_caught(void)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t secret[PROTO_PHRASE_SECRET], back[PROTO_PHRASE_SECRET];
	char out[PROTO_PHRASE_LEN + 1], typo[PROTO_PHRASE_LEN + 1];
	int half, caught = 0, tried = 0;

	randombytes_buf(secret, sizeof(secret));
	proto_phrase_encode(secret, out);
	for (int i = 0; i < PROTO_PHRASE_LEN; i++) {
		if (out[i] == '-')
			continue;
		for (int a = 0; a < 32; a++) {
			if (alphabet[a] == out[i])
				continue;
			memcpy(typo, out, sizeof(typo));
			typo[i] = alphabet[a];
			tried++;
			half = 0;
			if (decode(typo, back, &half) == PROTO_PHRASE_ECHECK &&
			    half == (i < 15 ? 1 : 2))
				caught++;
			else if (decode(typo, back, NULL) == PROTO_PHRASE_EFORM)
				caught++;	/* the tail's zero bits */
		}
	}
	CHECK(tried == 28 * 31);
	CHECK(caught == tried);
}

static void
test_spellings(void)
{
	uint8_t secret[PROTO_PHRASE_SECRET], back[PROTO_PHRASE_SECRET];
	char out[PROTO_PHRASE_LEN + 1], loose[96];
	size_t j = 0;

	memset(secret, 0x5a, sizeof(secret));
	proto_phrase_encode(secret, out);
	/* Lower case, spaces for dashes, a line break where a sheet of paper
	 * wrapped it, and a trailing newline. */
	for (size_t i = 0; out[i] != '\0'; i++) {
		if (i == 16)
			loose[j++] = '\n';
		loose[j++] = out[i] == '-' ? ' ' : (char)(out[i] | 0x20);
	}
	loose[j++] = '\n';
	loose[j] = '\0';
	CHECK(decode(loose, back, NULL) == 0);
	CHECK(memcmp(secret, back, sizeof(secret)) == 0);
}

static void
test_refusals(void)
{
	uint8_t back[PROTO_PHRASE_SECRET];

	CHECK(decode("", back, NULL) == PROTO_PHRASE_EFORM);
	CHECK(decode("AAAAAAA-AAAAAAA-AAAAAAA-AAAAAA", back, NULL) ==
	    PROTO_PHRASE_EFORM);
	CHECK(decode("AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAAA", back, NULL) ==
	    PROTO_PHRASE_EFORM);
	CHECK(decode("AAAAAAA-AAAAAAA-AAAAAAA-AAAAAA!", back, NULL) ==
	    PROTO_PHRASE_EFORM);
	CHECK(decode("AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA", back, NULL) == 0);
	/* 'B' (1) in the tail's zero bits, with its check (31, '7'). */
	CHECK(decode("AAAAAAA-AAAAAAA-AAAAAAA-AAAAAB7", back, NULL) ==
	    PROTO_PHRASE_EFORM);
}

static void
test_key(void)
{
	uint8_t a[PROTO_PHRASE_SECRET], k1[PROTO_KEYLEN], k2[PROTO_KEYLEN];

	memset(a, 1, sizeof(a));
	proto_phrase_key(a, k1);
	proto_phrase_key(a, k2);
	CHECK(memcmp(k1, k2, sizeof(k1)) == 0);
	for (size_t i = 0; i < sizeof(a); i++) {
		a[i] ^= 0x80;
		proto_phrase_key(a, k2);
		CHECK(memcmp(k1, k2, sizeof(k1)) != 0);
		a[i] ^= 0x80;
	}
}

TAP_MAIN(
	TAP_TEST(test_round_trip),
	TAP_TEST(test_every_single_typo_caught),
	TAP_TEST(test_spellings),
	TAP_TEST(test_refusals),
	TAP_TEST(test_key),
)
