/*
 * keywrap: keys at rest (proto/keywrap.h). A sealed key opens under its
 * KEK only, and every flipped byte is refused; a key in the clear, a
 * newer version and a short file are told apart; the passphrase lock
 * opens with its passphrase only, round-trips through its encoding, and
 * refuses Argon2id costs out of bounds.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "keywrap.h"
#include "tap.h"

static void
test_seal_open(void)
{
	uint8_t kek[KEYWRAP_KEKLEN], other[KEYWRAP_KEKLEN], key[64];
	uint8_t sealed[64 + KEYWRAP_OVERHEAD], out[64], id[KEYWRAP_IDLEN];
	uint8_t want[KEYWRAP_IDLEN];
	size_t len = 0;

	crypto_kdf_keygen(kek);
	crypto_kdf_keygen(other);
	randombytes_buf(key, sizeof(key));
	keywrap_seal(kek, key, sizeof(key), sealed);
	CHECK(memmem(sealed, sizeof(sealed), key, 16) == NULL);
	CHECK(keywrap_open(kek, sealed, sizeof(sealed), out, sizeof(out), &len,
	    id) == 0);
	CHECK(len == sizeof(key) && memcmp(out, key, len) == 0);
	keywrap_kek_id(kek, want);
	CHECK(memcmp(id, want, sizeof(id)) == 0);
	CHECK(keywrap_open(NULL, sealed, sizeof(sealed), NULL, 0, NULL,
	    NULL) == 0);
	CHECK(keywrap_open(other, sealed, sizeof(sealed), out, sizeof(out),
	    &len, NULL) == KEYWRAP_EOTHER);
	CHECK(keywrap_open(kek, sealed, sizeof(sealed), out, 63, &len,
	    NULL) == KEYWRAP_EFORM);
	for (size_t i = 0; i < sizeof(sealed); i++) {
		sealed[i] ^= 0x01;
		CHECK(keywrap_open(kek, sealed, sizeof(sealed), out,
		    sizeof(out), &len, NULL) != 0);
		sealed[i] ^= 0x01;
	}
}

static void
test_shapes(void)
{
	uint8_t kek[KEYWRAP_KEKLEN], key[32], sealed[32 + KEYWRAP_OVERHEAD];
	uint8_t out[32];
	size_t len;

	crypto_kdf_keygen(kek);
	memset(key, 0, sizeof(key));	/* epoch 0's record starts so */
	CHECK(keywrap_open(kek, key, sizeof(key), out, sizeof(out), &len,
	    NULL) == KEYWRAP_ECLEAR);
	keywrap_seal(kek, key, sizeof(key), sealed);
	CHECK(keywrap_open(kek, sealed, KEYWRAP_OVERHEAD - 1, out,
	    sizeof(out), &len, NULL) == KEYWRAP_EFORM);
	sealed[6]++;
	CHECK(keywrap_open(kek, sealed, sizeof(sealed), out, sizeof(out),
	    &len, NULL) == KEYWRAP_ENEWER);
	sealed[6]--;
	sealed[7] = 'P';
	CHECK(keywrap_open(kek, sealed, sizeof(sealed), out, sizeof(out),
	    &len, NULL) == KEYWRAP_EFORM);
}

static void
test_lock(void)
{
	uint8_t kek[KEYWRAP_KEKLEN], back[KEYWRAP_KEKLEN], raw[KEYLOCK_LEN];
	uint8_t again[KEYLOCK_LEN];
	struct keylock l, d;

	crypto_kdf_keygen(kek);
	CHECK(keylock_make(&l, kek, "correct horse", 13,
	    crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) == 0);
	keylock_encode(&l, raw);
	CHECK(memmem(raw, sizeof(raw), kek, 16) == NULL);
	CHECK(keylock_decode(raw, sizeof(raw), &d) == 0);
	keylock_encode(&d, again);
	CHECK(memcmp(raw, again, sizeof(raw)) == 0);
	CHECK(keylock_open(&d, "correct horse", 13, back) == 0);
	CHECK(memcmp(back, kek, sizeof(kek)) == 0);
	CHECK(keylock_open(&d, "correct horsE", 13, back) == KEYWRAP_EAUTH);
	CHECK(keylock_open(&d, "correct hors", 12, back) == KEYWRAP_EAUTH);
	d.sealed[0] ^= 1;
	CHECK(keylock_open(&d, "correct horse", 13, back) == KEYWRAP_EAUTH);
	CHECK(keylock_decode(raw, sizeof(raw) - 1, &d) == KEYWRAP_EFORM);
	raw[KEYWRAP_HEADLEN + 8] = 0x7f;	/* memlimit: terabytes */
	CHECK(keylock_decode(raw, sizeof(raw), &d) == KEYWRAP_EFORM);
}

TAP_MAIN(
	TAP_TEST(test_seal_open),
	TAP_TEST(test_shapes),
	TAP_TEST(test_lock),
)
