/*
 * Key epochs: the record that hands out a new epoch's keys, or an earlier
 * epoch's keys to a new member, each sealed to one device.
 *
 *	record:	[version, what, epoch, net_id, removed | nil,
 *		 [[recipient, sealed]...], ...]
 *	sealed:	crypto_box_seal to the recipient's ed25519 key converted to
 *		X25519, of [[epoch, kind, key]...]
 *
 * what is EPOCH_NEW (a removal started epoch `epoch`, whose network key
 * net_id names) or EPOCH_GRANT (earlier epochs' keys for a new member,
 * up to `epoch`). A key is an epoch's team secret (EPOCH_KEY_SECRET: a
 * teacher derives the content and network keys from it) or its network
 * key alone (EPOCH_KEY_NETWORK: the box). Fields after the known ones
 * are a newer version's, ignored; a newer version is reported, not
 * refused (PROTO_EPOCH_NEWER), so a device stores and relays it.
 *
 * The record travels as the text value of a KIND_KEYS change, in the
 * URL-safe base64 alphabet without padding, so that every tool that shows
 * records shows it as text.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"

#define EPOCH_FIELDS	6
#define KEY_FIELDS	3

static void
pack_keys(msgpack_packer *pk, const struct proto_epoch_key *k, size_t n)
{
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(pk, KEY_FIELDS);
		msgpack_pack_uint32(pk, k[i].epoch);
		msgpack_pack_uint8(pk, k[i].kind);
		mp_pack_bin(pk, k[i].key, PROTO_KEYLEN);
	}
}

int
proto_epoch_seal(uint8_t *out, size_t cap, size_t *outlen,
    const struct proto_epoch_key *keys, size_t n,
    const uint8_t recipient[PROTO_IDLEN])
{
	uint8_t x_pk[crypto_box_PUBLICKEYBYTES];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc = -1;

	if (n == 0 || n > PROTO_EPOCH_MAX_KEYS)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (keys[i].kind != EPOCH_KEY_SECRET &&
		    keys[i].kind != EPOCH_KEY_NETWORK)
			return -1;
	if (crypto_sign_ed25519_pk_to_curve25519(x_pk, recipient) != 0)
		return -1;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_keys(&pk, keys, n);
	if (sb.size + crypto_box_SEALBYTES <= cap &&
	    crypto_box_seal(out, (const uint8_t *)sb.data, sb.size,
	    x_pk) == 0) {
		*outlen = sb.size + crypto_box_SEALBYTES;
		rc = 0;
	}
	sodium_memzero(sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int
decode_keys(const msgpack_object *o, struct proto_epoch_key *keys,
    size_t max, size_t *n)
{
	if (mp_array(o, 1, max) == -1)
		return -1;
	for (size_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *k = &o->via.array.ptr[i];
		uint64_t epoch, kind;

		if (mp_array(k, KEY_FIELDS, KEY_FIELDS) == -1 ||
		    mp_uint(&k->via.array.ptr[0], UINT32_MAX, &epoch) == -1 ||
		    mp_uint(&k->via.array.ptr[1], EPOCH_KEY_NETWORK,
		    &kind) == -1 || kind == 0 ||
		    mp_bin(&k->via.array.ptr[2], PROTO_KEYLEN,
		    keys[i].key) == -1)
			return -1;
		keys[i].epoch = (uint32_t)epoch;
		keys[i].kind = (uint8_t)kind;
	}
	*n = o->via.array.size;
	return 0;
}

int
proto_epoch_open(struct proto_epoch_key *keys, size_t max, size_t *n,
    const uint8_t *sealed, size_t len, const uint8_t id[PROTO_IDLEN],
    const uint8_t sk[PROTO_SKLEN])
{
	uint8_t x_pk[crypto_box_PUBLICKEYBYTES];
	uint8_t *x_sk = NULL, *pt = NULL;
	msgpack_unpacked u;
	int rc = -1;

	msgpack_unpacked_init(&u);
	if (len <= crypto_box_SEALBYTES || len > PROTO_EPOCH_MAX_SEALED ||
	    (x_sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL ||
	    (pt = sodium_malloc(len - crypto_box_SEALBYTES)) == NULL)
		goto out;
	if (crypto_sign_ed25519_pk_to_curve25519(x_pk, id) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(x_sk, sk) != 0 ||
	    crypto_box_seal_open(pt, sealed, len, x_pk, x_sk) != 0)
		goto out;
	msgpack_unpacked_destroy(&u);
	if (mp_unpack(&u, pt, len - crypto_box_SEALBYTES,
	    PROTO_EPOCH_MAX_SEALED) == -1 ||
	    decode_keys(&u.data, keys, max < PROTO_EPOCH_MAX_KEYS ? max :
	    PROTO_EPOCH_MAX_KEYS, n) == -1)
		goto out;
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	sodium_free(pt);
	sodium_free(x_sk);
	return rc;
}

int
proto_epoch_encode(const struct proto_epoch *r, msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	size_t start = sb->size;

	if ((r->what != EPOCH_NEW && r->what != EPOCH_GRANT) ||
	    r->nrecipients == 0 || r->nrecipients > PROTO_EPOCH_MAX_RECIPIENTS)
		return -1;
	for (size_t i = 0; i < r->nrecipients; i++)
		if (r->recipients[i].sealed_len <= crypto_box_SEALBYTES ||
		    r->recipients[i].sealed_len > PROTO_EPOCH_MAX_SEALED)
			return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, EPOCH_FIELDS);
	msgpack_pack_uint8(&pk, PROTO_EPOCH_VERSION);
	msgpack_pack_uint8(&pk, r->what);
	msgpack_pack_uint32(&pk, r->epoch);
	mp_pack_bin(&pk, r->net_id, PROTO_KEYIDLEN);
	if (r->has_removed)
		mp_pack_bin(&pk, r->removed, PROTO_IDLEN);
	else
		msgpack_pack_nil(&pk);
	msgpack_pack_array(&pk, r->nrecipients);
	for (size_t i = 0; i < r->nrecipients; i++) {
		msgpack_pack_array(&pk, 2);
		mp_pack_bin(&pk, r->recipients[i].id, PROTO_IDLEN);
		mp_pack_bin(&pk, r->recipients[i].sealed,
		    r->recipients[i].sealed_len);
	}
	return sb->size - start <= PROTO_EPOCH_MAX_BYTES ? 0 : -1;
}

static int
decode_recipients(struct proto_epoch *r, const msgpack_object *o)
{
	if (mp_array(o, 1, PROTO_EPOCH_MAX_RECIPIENTS) == -1)
		return -1;
	r->nrecipients = o->via.array.size;
	for (size_t i = 0; i < r->nrecipients; i++) {
		const msgpack_object *p = &o->via.array.ptr[i];

		if (mp_array(p, 2, 2) == -1 ||
		    mp_bin(&p->via.array.ptr[0], PROTO_IDLEN,
		    r->recipients[i].id) == -1 ||
		    mp_bytes(&p->via.array.ptr[1], PROTO_EPOCH_MAX_SEALED,
		    &r->recipients[i].sealed,
		    &r->recipients[i].sealed_len) == -1 ||
		    r->recipients[i].sealed_len <= crypto_box_SEALBYTES)
			return -1;
		/* One sealed part per device: the first would be the one read. */
		for (size_t j = 0; j < i; j++)
			if (memcmp(r->recipients[j].id, r->recipients[i].id,
			    PROTO_IDLEN) == 0)
				return -1;
	}
	return 0;
}

static int
decode_fields(struct proto_epoch *r, const msgpack_object *f)
{
	uint64_t what, epoch;

	if (mp_uint(&f[1], EPOCH_GRANT, &what) == -1 || what == 0 ||
	    mp_uint(&f[2], UINT32_MAX, &epoch) == -1 ||
	    mp_bin(&f[3], PROTO_KEYIDLEN, r->net_id) == -1)
		return -1;
	r->what = (uint8_t)what;
	r->epoch = (uint32_t)epoch;
	if (f[4].type == MSGPACK_OBJECT_NIL)
		r->has_removed = 0;
	else if (mp_bin(&f[4], PROTO_IDLEN, r->removed) == 0)
		r->has_removed = 1;
	else
		return -1;
	/* A grant removes no one; a new epoch starts with a removal. */
	if ((r->what == EPOCH_GRANT) == r->has_removed)
		return -1;
	return decode_recipients(r, &f[5]);
}

int
proto_epoch_decode(struct proto_epoch *r, const uint8_t *buf, size_t len)
{
	msgpack_unpacked u;
	uint64_t version;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (len > PROTO_EPOCH_MAX_BYTES ||
	    mp_unpack(&u, buf, len, PROTO_EPOCH_MAX_BYTES) == -1)
		return -1;
	if (mp_array(&u.data, 1, PROTO_EPOCH_MAX_BYTES) == -1 ||
	    mp_uint(&u.data.via.array.ptr[0], 255, &version) == -1 ||
	    version == 0)
		goto out;
	r->version = (uint8_t)version;
	if (version > PROTO_EPOCH_VERSION) {
		rc = PROTO_EPOCH_NEWER;
		goto out;
	}
	if (u.data.via.array.size < EPOCH_FIELDS ||
	    decode_fields(r, u.data.via.array.ptr) == -1)
		goto out;
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
proto_epoch_check(const char *text, size_t len)
{
	struct proto_epoch *r;
	uint8_t *buf;
	size_t blen;
	int rc = -1;

	if (len > PROTO_EPOCH_MAX_TEXT ||
	    (buf = malloc(len + 1)) == NULL)
		return -1;
	if ((r = malloc(sizeof(*r))) != NULL &&
	    sodium_base642bin(buf, len + 1, text, len, NULL, &blen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	    proto_epoch_decode(r, buf, blen) >= 0)
		rc = 0;
	free(r);
	free(buf);
	return rc;
}
