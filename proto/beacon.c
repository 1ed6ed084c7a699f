/*
 * LAN discovery beacons (see beacon.h): one AEAD-sealed datagram.
 */
#include <string.h>

#include <sodium.h>

#include "beacon.h"

void
proto_beacon_key(uint8_t out[PROTO_KEYLEN],
    const uint8_t network_key[PROTO_KEYLEN])
{
	crypto_kdf_derive_from_key(out, PROTO_KEYLEN, 1, "sbeacon1",
	    network_key);
}

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t
get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void
proto_beacon_seal(uint8_t out[PROTO_BEACON_LEN],
    const uint8_t key[PROTO_KEYLEN], const struct beacon *b)
{
	uint8_t plain[PROTO_BEACON_PLAIN];

	plain[0] = PROTO_BEACON_VERSION;
	memcpy(plain + 1, b->id, PROTO_IDLEN);
	put_be(plain + 1 + PROTO_IDLEN, b->port, 2);
	put_be(plain + 3 + PROTO_IDLEN, b->sent_ms, 8);
	randombytes_buf(out, PROTO_NONCELEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + PROTO_NONCELEN, NULL,
	    plain, sizeof(plain), NULL, 0, NULL, out, key);
	sodium_memzero(plain, sizeof(plain));
}

int
proto_beacon_open(const uint8_t *buf, size_t len,
    const uint8_t key[PROTO_KEYLEN], struct beacon *b)
{
	uint8_t plain[PROTO_BEACON_PLAIN];

	/* Every version is PROTO_BEACON_LEN long, its version byte inside
	 * the seal: a stranger cannot tell versions apart either. */
	if (len != PROTO_BEACON_LEN ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL,
	    buf + PROTO_NONCELEN, len - PROTO_NONCELEN, NULL, 0, buf, key) != 0)
		return -1;
	if (plain[0] != PROTO_BEACON_VERSION)
		return plain[0] > PROTO_BEACON_VERSION ? PROTO_BEACON_ENEWER : -1;
	memcpy(b->id, plain + 1, PROTO_IDLEN);
	b->port = (uint16_t)get_be(plain + 1 + PROTO_IDLEN, 2);
	b->sent_ms = get_be(plain + 3 + PROTO_IDLEN, 8);
	return b->port == 0 ? -1 : 0;
}
