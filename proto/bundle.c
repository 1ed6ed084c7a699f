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

_Static_assert(sizeof(crypto_generichash_state) <=
    sizeof(((struct bundle_mac *)0)->state), "bundle_mac holds the state");

void
bundle_mac_init(struct bundle_mac *m, const uint8_t key[32])
{
	crypto_generichash_init((crypto_generichash_state *)(void *)m->state,
	    key, 32, BUNDLE_MACLEN);
}

void
bundle_mac_update(struct bundle_mac *m, const uint8_t *p, size_t len)
{
	crypto_generichash_update((crypto_generichash_state *)(void *)
	    m->state, p, len);
}

/* The same MAC as bundle_mac over all the bytes given. */
void
bundle_mac_final(struct bundle_mac *m, uint8_t out[BUNDLE_MACLEN])
{
	crypto_generichash_final((crypto_generichash_state *)(void *)m->state,
	    out, BUNDLE_MACLEN);
	sodium_memzero(m, sizeof(*m));
}

int
bundle_header_read(struct bundle *b, const uint8_t hdr[BUNDLE_HEADER_LEN])
{
	memset(b, 0, sizeof(*b));
	if (memcmp(hdr, BUNDLE_MAGIC, 8) != 0)
		return -1;
	b->version = hdr[8];
	if (b->version > BUNDLE_VERSION)
		return -3;	/* nothing past the version byte is read */
	if (b->version != BUNDLE_VERSION)
		return -1;
	memcpy(b->team_id, hdr + 9, WIRE_TEAMIDLEN);
	memcpy(b->exporter, hdr + 9 + WIRE_TEAMIDLEN, PROTO_IDLEN);
	b->count = be_get(hdr + 9 + WIRE_TEAMIDLEN + PROTO_IDLEN, 8);
	return 0;
}

int
bundle_frame_len(const uint8_t be[4], uint64_t left, size_t *len)
{
	uint64_t n = be_get(be, 4);

	if (n == 0 || n > PROTO_MAX_ENVELOPE || left < 4 || n > left - 4)
		return -1;
	*len = (size_t)n;
	return 0;
}

/* Walks the entry frames: each length fits, and they fill the body. */
static int
check_frames(const uint8_t *p, size_t left, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		size_t len;

		if (left < 4 || bundle_frame_len(p, left, &len) != 0)
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
	    bundle_header_read(b, buf) != 0)
		return -1;
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
