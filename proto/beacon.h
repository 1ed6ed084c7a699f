/*
 * LAN discovery beacons: what a device broadcasts so that members of its
 * team on the same segment can dial it without a typed address
 * (Syncthing's local discovery, keyed). Pure: no I/O.
 *
 * A beacon is one UDP datagram of PROTO_BEACON_LEN bytes:
 *
 *   nonce[24] || XChaCha20-Poly1305(key, nonce, plain)     (RFC 8439 AEAD,
 *                                                          extended nonce)
 *   plain = version[1] = 1 || device id[32] || port[2] BE || sent ms[8] BE
 *
 * key is derived from the team's network key with crypto_kdf (BLAKE2b),
 * subkey 1, context "sbeacon1", so a beacon key opens nothing else. Only
 * holders of the network key can read or forge a beacon; to anyone else
 * it is 83 random bytes: not even the presence of a Satchel team shows.
 * A beacon only says where to dial: the handshake still proves who
 * answers, so a replayed beacon costs one refused connection.
 */
#ifndef SATCHEL_BEACON_H
#define SATCHEL_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define PROTO_BEACON_VERSION	1
#define PROTO_BEACON_PLAIN	(1 + PROTO_IDLEN + 2 + 8)
#define PROTO_BEACON_LEN	(PROTO_NONCELEN + PROTO_BEACON_PLAIN + \
				 PROTO_TAGLEN)
#define PROTO_BEACON_ENEWER	1	/* opened, but of a later version */

struct beacon {
	uint8_t		id[PROTO_IDLEN];	/* the announcing device */
	uint16_t	port;			/* where it listens (TCP) */
	uint64_t	sent_ms;		/* its wall clock: a hint only */
};

/* The beacon key for a team's network key: written to out. */
void	proto_beacon_key(uint8_t out[PROTO_KEYLEN],
	    const uint8_t network_key[PROTO_KEYLEN]);
/* Seals b under key into out, with a fresh random nonce. */
void	proto_beacon_seal(uint8_t out[PROTO_BEACON_LEN],
	    const uint8_t key[PROTO_KEYLEN], const struct beacon *b);
/* Opens the len bytes at buf (untrusted) with key. Returns 0 and fills b;
 * PROTO_BEACON_ENEWER for a later version (ignore it); -1 if buf is not a
 * beacon sealed under key (another team's, noise, a wrong length). */
int	proto_beacon_open(const uint8_t *buf, size_t len,
	    const uint8_t key[PROTO_KEYLEN], struct beacon *b) PROTO_WUR;

#endif
