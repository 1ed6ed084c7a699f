/*
 * Recovery phrases: the 128-bit secret a teacher writes down at `init`,
 * from which the personal key that seals private notes is derived, so
 * that the teacher's other or next device (`init --recover`) reads them.
 * Pure: no I/O.
 *
 * The written form is the secret in base32 (RFC 4648 alphabet: 26
 * characters, the last holding two zero bits), in two halves of 13, each
 * followed by a Luhn mod 32 check character as in Syncthing's device ids
 * (proto.h), shown as four dash-separated groups of 7:
 *	ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ23
 * Any one mistyped character fails its half's check. Case, dashes and
 * spaces do not matter, and 0, 1, 8 are read as O, I, B.
 */
#ifndef SATCHEL_PHRASE_H
#define SATCHEL_PHRASE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define PROTO_PHRASE_SECRET	16	/* bytes */
#define PROTO_PHRASE_LEN	31	/* the written form, dashes included */
#define PROTO_PHRASE_EFORM	(-1)	/* not 28 base32 characters */
#define PROTO_PHRASE_ECHECK	(-2)	/* a check character does not match */

/* Writes the phrase of secret and a NUL into out. */
void	proto_phrase_encode(const uint8_t secret[PROTO_PHRASE_SECRET],
	    char out[PROTO_PHRASE_LEN + 1]);
/* Reads a phrase from s (len bytes, untrusted, not NUL-terminated).
 * Returns 0 and fills secret; PROTO_PHRASE_EFORM if s is not the form of
 * any phrase; PROTO_PHRASE_ECHECK with *half (1 or 2, may be NULL) the
 * first half whose check fails: groups 1-2 or 3-4. */
int	proto_phrase_decode(const char *s, size_t len,
	    uint8_t secret[PROTO_PHRASE_SECRET], int *half) PROTO_WUR;
/* The personal key of a secret (crypto_kdf, BLAKE2b; context "spersonl",
 * subkey 1 of the BLAKE2b-256 hash of the secret): out gets it. */
void	proto_phrase_key(const uint8_t secret[PROTO_PHRASE_SECRET],
	    uint8_t out[PROTO_KEYLEN]);

#endif
