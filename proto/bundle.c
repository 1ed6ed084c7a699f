/* Bundle files: see wire.h for the layout. */
#include <string.h>

#include <sodium.h>

#include "wire.h"

static void
be_put(uint8_t *p, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
be_get(const uint8_t *p, int width)
{
	uint64_t v = 0;

	for (int i = 0; i < width; i++)
		v = (v << 8) | p[i];
	return v;
}

void
bundle_header(uint8_t out[BUNDLE_HEADER_LEN], const uint8_t *team_id,
    const uint8_t *exporter, uint64_t count)
{
	memcpy(out, BUNDLE_MAGIC, 8);
	out[8] = BUNDLE_VERSION;
	memcpy(out + 9, team_id, WIRE_TEAMIDLEN);
	memcpy(out + 9 + WIRE_TEAMIDLEN, exporter, PROTO_IDLEN);
	be_put(out + 9 + WIRE_TEAMIDLEN + PROTO_IDLEN, count, 8);
}

void
bundle_mac(uint8_t out[BUNDLE_MACLEN], const uint8_t *key,
    const uint8_t *buf, size_t len)
{
	crypto_generichash(out, BUNDLE_MACLEN, buf, len, key, 32);
}

/* Walks the entry frames: each length fits, and they fill the body. */
static int
check_frames(const uint8_t *p, size_t left, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		uint64_t len;

		if (left < 4)
			return -1;
		len = be_get(p, 4);
		if (len == 0 || len > PROTO_MAX_ENVELOPE || len > left - 4)
			return -1;
		p += 4 + len;
		left -= 4 + len;
	}
	return left == 0 ? 0 : -1;
}

/* -1: not a bundle, truncated or malformed; -2: the MAC does not match
 * (damaged, or another team's); -3: a newer version, of which nothing
 * past the version byte is read. b->team_id is set whenever the header
 * could be read, so the caller can tell -2's two causes apart. */
int
bundle_open(struct bundle *b, const uint8_t *buf, size_t len,
    const uint8_t key[32])
{
	uint8_t mac[BUNDLE_MACLEN];
	size_t body;

	memset(b, 0, sizeof(*b));
	if (len < 9 || memcmp(buf, BUNDLE_MAGIC, 8) != 0)
		return -1;
	b->version = buf[8];
	if (b->version > BUNDLE_VERSION)
		return -3;
	if (len < BUNDLE_HEADER_LEN + BUNDLE_MACLEN ||
	    b->version != BUNDLE_VERSION)
		return -1;
	memcpy(b->team_id, buf + 9, WIRE_TEAMIDLEN);
	memcpy(b->exporter, buf + 9 + WIRE_TEAMIDLEN, PROTO_IDLEN);
	b->count = be_get(buf + 9 + WIRE_TEAMIDLEN + PROTO_IDLEN, 8);
	body = len - BUNDLE_MACLEN;
	bundle_mac(mac, key, buf, body);
	if (sodium_memcmp(mac, buf + body, BUNDLE_MACLEN) != 0)
		return -2;
	if (b->count > (body - BUNDLE_HEADER_LEN) / 5 ||
	    check_frames(buf + BUNDLE_HEADER_LEN, body - BUNDLE_HEADER_LEN,
	    b->count) == -1)
		return -1;
	b->next = buf + BUNDLE_HEADER_LEN;
	b->left = body - BUNDLE_HEADER_LEN;
	return 0;
}

int
bundle_next(struct bundle *b, const uint8_t **env, size_t *len)
{
	if (b->left < 4)
		return 0;
	*len = (size_t)be_get(b->next, 4);
	*env = b->next + 4;
	b->next += 4 + *len;
	b->left -= 4 + *len;
	return 1;
}
