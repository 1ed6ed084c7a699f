/*
 * Keys at rest: the two file formats that keep a device's keys off its
 * disk in the clear. Pure: no I/O, no globals.
 *
 * Every key file (identity.key, team.key, epochs.key, store.key, ...) is
 * sealed under the data directory's key-encryption key (KEK), 32 random
 * bytes made by `satchel protect`:
 *
 *	"SATKEY" 0x01 'K' | kek_id[16] | nonce[24] | XChaCha20-Poly1305(key)
 *
 * with the first 24 bytes (header and kek_id) as associated data. The
 * KEK itself is kept in DIR/unlock.key, sealed under a key derived from
 * the passphrase by Argon2id (crypto_pwhash):
 *
 *	"SATKEY" 0x01 'P' | kek_id[16] | opslimit u64 | memlimit u64 |
 *	salt[16] | nonce[24] | XChaCha20-Poly1305(KEK)
 *
 * big-endian integers, everything before the nonce as associated data.
 * kek_id (keywrap_kek_id) names the KEK without revealing it: the
 * keyring stores the KEK under it, and a key file sealed under another
 * directory's KEK is told apart from a wrong passphrase. A key file
 * without the header is a key in the clear (a directory from before
 * protection, or a box's), read as it is.
 */
#ifndef SATCHEL_KEYWRAP_H
#define SATCHEL_KEYWRAP_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define KEYWRAP_VERSION		1
#define KEYWRAP_KEKLEN		32
#define KEYWRAP_IDLEN		16
#define KEYWRAP_HEADLEN		(8 + KEYWRAP_IDLEN)
/* A sealed key file is this much longer than the key it holds. */
#define KEYWRAP_OVERHEAD	(KEYWRAP_HEADLEN + 24 + 16)
#define KEYLOCK_LEN		(KEYWRAP_HEADLEN + 16 + 16 + 24 + \
				 KEYWRAP_KEKLEN + 16)
/* Argon2id bounds a lock file may name: a damaged or planted one cannot
 * make an open take more than 1 GiB or run for minutes. */
#define KEYLOCK_MEM_MAX		(1024ULL * 1024 * 1024)
#define KEYLOCK_OPS_MAX		16ULL

#define KEYWRAP_ECLEAR	(-1)	/* no header: a key in the clear */
#define KEYWRAP_ENEWER	(-2)	/* a later format version */
#define KEYWRAP_EFORM	(-3)	/* damaged: bad length or fields */
#define KEYWRAP_EOTHER	(-4)	/* sealed under another KEK */
#define KEYWRAP_EAUTH	(-5)	/* right KEK id, but it does not open */

struct keylock {
	uint8_t		kek_id[KEYWRAP_IDLEN];
	uint64_t	opslimit, memlimit;	/* crypto_pwhash's, bytes */
	uint8_t		salt[16];
	uint8_t		nonce[24];
	uint8_t		sealed[KEYWRAP_KEKLEN + 16];
};

/* The public name of a KEK (keyed BLAKE2b-128, so it gives nothing). */
void	keywrap_kek_id(const uint8_t kek[KEYWRAP_KEKLEN],
	    uint8_t id[KEYWRAP_IDLEN]);
/* Seals len bytes of key into out (len + KEYWRAP_OVERHEAD bytes). */
void	keywrap_seal(const uint8_t kek[KEYWRAP_KEKLEN], const uint8_t *key,
	    size_t len, uint8_t *out);
/* Reads a key file's bytes (untrusted, inlen). 0 with *len and the key in
 * out (room for cap bytes); else a KEYWRAP_E code, out untouched but for
 * scratch. kek may be NULL, to ask only whether it is sealed and under
 * which KEK (kek_id, may be NULL): then 0 means "sealed, well formed". */
int	keywrap_open(const uint8_t *kek, const uint8_t *in, size_t inlen,
	    uint8_t *out, size_t cap, size_t *len,
	    uint8_t kek_id[KEYWRAP_IDLEN]) PROTO_WUR;

/* DIR/unlock.key: decodes its bytes (untrusted); 0 or a KEYWRAP_E code.
 * The Argon2id limits are checked against libsodium's minimum and the
 * maxima above. */
int	keylock_decode(const uint8_t *in, size_t inlen, struct keylock *l)
	    PROTO_WUR;
void	keylock_encode(const struct keylock *l, uint8_t out[KEYLOCK_LEN]);
/* Seals kek under pass (passlen bytes) with new salt and nonce and the
 * given limits. 0, or -1 if Argon2id ran out of memory. */
int	keylock_make(struct keylock *l, const uint8_t kek[KEYWRAP_KEKLEN],
	    const char *pass, size_t passlen, uint64_t opslimit,
	    uint64_t memlimit) PROTO_WUR;
/* Opens l with pass: 0 and kek; KEYWRAP_EAUTH for a wrong passphrase;
 * -1 if Argon2id ran out of memory. Slow by design (Argon2id). */
int	keylock_open(const struct keylock *l, const char *pass,
	    size_t passlen, uint8_t kek[KEYWRAP_KEKLEN]) PROTO_WUR;

#endif
