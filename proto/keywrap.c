/*
 * Keys at rest: sealed key files and the passphrase lock (keywrap.h).
 * Only libsodium's constructions: XChaCha20-Poly1305 (IETF) to seal,
 * Argon2id (crypto_pwhash) to stretch a passphrase, keyed BLAKE2b to
 * name a KEK.
 */
#include <string.h>

#include <sodium.h>

#include "keywrap.h"

static const uint8_t magic[6] = { 'S', 'A', 'T', 'K', 'E', 'Y' };

#define TYPE_KEY	'K'
#define TYPE_LOCK	'P'

void
keywrap_kek_id(const uint8_t kek[KEYWRAP_KEKLEN], uint8_t id[KEYWRAP_IDLEN])
{
	static const uint8_t label[] = "satchel kek id v1";

	crypto_generichash(id, KEYWRAP_IDLEN, label, sizeof(label) - 1, kek,
	    KEYWRAP_KEKLEN);
}

static void
head(uint8_t *out, uint8_t type, const uint8_t id[KEYWRAP_IDLEN])
{
	memcpy(out, magic, sizeof(magic));
	out[6] = KEYWRAP_VERSION;
	out[7] = type;
	memcpy(out + 8, id, KEYWRAP_IDLEN);
}

/* 0 if in starts with a header of this type; else KEYWRAP_E. */
static int
head_check(const uint8_t *in, size_t inlen, uint8_t type)
{
	if (inlen < 8 || memcmp(in, magic, sizeof(magic)) != 0)
		return KEYWRAP_ECLEAR;
	if (in[6] > KEYWRAP_VERSION)
		return KEYWRAP_ENEWER;
	if (in[6] != KEYWRAP_VERSION || in[7] != type)
		return KEYWRAP_EFORM;
	return 0;
}

void
keywrap_seal(const uint8_t kek[KEYWRAP_KEKLEN], const uint8_t *key,
    size_t len, uint8_t *out)
{
	uint8_t id[KEYWRAP_IDLEN], *nonce = out + KEYWRAP_HEADLEN;

	keywrap_kek_id(kek, id);
	head(out, TYPE_KEY, id);
	randombytes_buf(nonce, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + 24, NULL, key, len,
	    out, KEYWRAP_HEADLEN, NULL, nonce, kek);
}

int
keywrap_open(const uint8_t *kek, const uint8_t *in, size_t inlen,
    uint8_t *out, size_t cap, size_t *len, uint8_t kek_id[KEYWRAP_IDLEN])
{
	uint8_t id[KEYWRAP_IDLEN];
	unsigned long long n;
	size_t body;
	int rc;

	if ((rc = head_check(in, inlen, TYPE_KEY)) != 0)
		return rc;
	if (inlen < KEYWRAP_OVERHEAD)
		return KEYWRAP_EFORM;
	body = inlen - KEYWRAP_OVERHEAD;
	if (kek_id != NULL)
		memcpy(kek_id, in + 8, KEYWRAP_IDLEN);
	if (kek == NULL)
		return 0;
	keywrap_kek_id(kek, id);
	if (sodium_memcmp(id, in + 8, KEYWRAP_IDLEN) != 0)
		return KEYWRAP_EOTHER;
	if (body > cap)
		return KEYWRAP_EFORM;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &n, NULL,
	    in + KEYWRAP_HEADLEN + 24, inlen - KEYWRAP_HEADLEN - 24, in,
	    KEYWRAP_HEADLEN, in + KEYWRAP_HEADLEN, kek) != 0)
		return KEYWRAP_EAUTH;
	*len = (size_t)n;
	return 0;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Offsets in a lock file. */
#define LOCK_OPS	KEYWRAP_HEADLEN
#define LOCK_MEM	(LOCK_OPS + 8)
#define LOCK_SALT	(LOCK_MEM + 8)
#define LOCK_NONCE	(LOCK_SALT + 16)
#define LOCK_SEALED	(LOCK_NONCE + 24)

_Static_assert(LOCK_SEALED + KEYWRAP_KEKLEN + 16 == KEYLOCK_LEN,
    "lock layout");
_Static_assert(crypto_pwhash_SALTBYTES == 16, "Argon2id salt");

int
keylock_decode(const uint8_t *in, size_t inlen, struct keylock *l)
{
	int rc;

	if ((rc = head_check(in, inlen, TYPE_LOCK)) != 0)
		return rc;
	if (inlen != KEYLOCK_LEN)
		return KEYWRAP_EFORM;
	memcpy(l->kek_id, in + 8, KEYWRAP_IDLEN);
	l->opslimit = get64(in + LOCK_OPS);
	l->memlimit = get64(in + LOCK_MEM);
	memcpy(l->salt, in + LOCK_SALT, sizeof(l->salt));
	memcpy(l->nonce, in + LOCK_NONCE, sizeof(l->nonce));
	memcpy(l->sealed, in + LOCK_SEALED, sizeof(l->sealed));
	if (l->opslimit < crypto_pwhash_OPSLIMIT_MIN ||
	    l->opslimit > KEYLOCK_OPS_MAX ||
	    l->memlimit < crypto_pwhash_MEMLIMIT_MIN ||
	    l->memlimit > KEYLOCK_MEM_MAX)
		return KEYWRAP_EFORM;
	return 0;
}

void
keylock_encode(const struct keylock *l, uint8_t out[KEYLOCK_LEN])
{
	head(out, TYPE_LOCK, l->kek_id);
	put64(out + LOCK_OPS, l->opslimit);
	put64(out + LOCK_MEM, l->memlimit);
	memcpy(out + LOCK_SALT, l->salt, sizeof(l->salt));
	memcpy(out + LOCK_NONCE, l->nonce, sizeof(l->nonce));
	memcpy(out + LOCK_SEALED, l->sealed, sizeof(l->sealed));
}

/* The key that seals the KEK: Argon2id of the passphrase. */
static int
stretch(const struct keylock *l, const char *pass, size_t passlen,
    uint8_t *out)
{
	return crypto_pwhash(out, KEYWRAP_KEKLEN, pass, passlen, l->salt,
	    l->opslimit, (size_t)l->memlimit, crypto_pwhash_ALG_ARGON2ID13);
}

int
keylock_make(struct keylock *l, const uint8_t kek[KEYWRAP_KEKLEN],
    const char *pass, size_t passlen, uint64_t opslimit, uint64_t memlimit)
{
	uint8_t ad[LOCK_NONCE], wk[KEYWRAP_KEKLEN];
	int rc;

	keywrap_kek_id(kek, l->kek_id);
	l->opslimit = opslimit;
	l->memlimit = memlimit;
	randombytes_buf(l->salt, sizeof(l->salt));
	randombytes_buf(l->nonce, sizeof(l->nonce));
	if ((rc = stretch(l, pass, passlen, wk)) == 0) {
		uint8_t full[KEYLOCK_LEN];

		keylock_encode(l, full);
		memcpy(ad, full, sizeof(ad));
		crypto_aead_xchacha20poly1305_ietf_encrypt(l->sealed, NULL,
		    kek, KEYWRAP_KEKLEN, ad, sizeof(ad), NULL, l->nonce, wk);
	}
	sodium_memzero(wk, sizeof(wk));
	return rc == 0 ? 0 : -1;
}

int
keylock_open(const struct keylock *l, const char *pass, size_t passlen,
    uint8_t kek[KEYWRAP_KEKLEN])
{
	uint8_t full[KEYLOCK_LEN], wk[KEYWRAP_KEKLEN], id[KEYWRAP_IDLEN];
	int rc = KEYWRAP_EAUTH;

	if (stretch(l, pass, passlen, wk) != 0)
		return -1;
	keylock_encode(l, full);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(kek, NULL, NULL,
	    l->sealed, sizeof(l->sealed), full, LOCK_NONCE, l->nonce,
	    wk) == 0) {
		keywrap_kek_id(kek, id);
		rc = sodium_memcmp(id, l->kek_id, KEYWRAP_IDLEN) == 0 ? 0 :
		    KEYWRAP_EFORM;
	}
	sodium_memzero(wk, sizeof(wk));
	return rc;
}
