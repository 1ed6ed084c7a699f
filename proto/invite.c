/*
 * Invite tokens:
 *
 *	[version, team_id, founder, inviter, invitee, box, sealed,
 *	 [addr...], [proof...], signature]
 *
 * sealed is the team secret (or, for a box, only the network key) sealed
 * to the invitee's key with crypto_box_seal, so the token may travel by
 * any channel. The proofs are the signed membership entries that chain the
 * invitee to the founder: a new device offers them in its handshakes until
 * it has synced, since before that it holds no records to prove it belongs.
 * The signature is the inviter's, over the encoding of the
 * first eight fields.
 */
#include <string.h>

#include <sodium.h>

#include "wire.h"

#define INVITE_FIELDS	10

static void
pack_signed_part(msgpack_packer *pk, const struct invite *inv, size_t nf)
{
	msgpack_pack_array(pk, nf);
	msgpack_pack_uint8(pk, INVITE_VERSION);
	mp_pack_bin(pk, inv->team_id, WIRE_TEAMIDLEN);
	mp_pack_bin(pk, inv->founder, PROTO_IDLEN);
	mp_pack_bin(pk, inv->inviter, PROTO_IDLEN);
	mp_pack_bin(pk, inv->invitee, PROTO_IDLEN);
	if (inv->box)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mp_pack_bin(pk, inv->sealed, INVITE_SEALEDLEN);
	msgpack_pack_array(pk, inv->naddrs);
	for (size_t i = 0; i < inv->naddrs; i++) {
		size_t len = strnlen(inv->addrs[i], sizeof(inv->addrs[i]));

		msgpack_pack_str(pk, len);
		msgpack_pack_str_body(pk, inv->addrs[i], len);
	}
	if (nf < INVITE_FIELDS - 1)
		return;
	msgpack_pack_array(pk, inv->nproofs);
	for (size_t i = 0; i < inv->nproofs; i++)
		mp_pack_bin(pk, inv->proofs[i], inv->proof_lens[i]);
}

static void
signed_hash(const struct invite *inv, uint8_t out[32])
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_signed_part(&pk, inv, INVITE_FIELDS - 1);
	crypto_generichash(out, 32, (const uint8_t *)sb.data, sb.size, NULL,
	    0);
	msgpack_sbuffer_destroy(&sb);
}

int
invite_encode(struct invite *inv, const uint8_t sk[PROTO_SKLEN],
    msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	uint8_t h[32];

	if (inv->naddrs > INVITE_MAX_ADDRS || inv->nproofs > WIRE_MAX_PROOFS)
		return -1;
	for (size_t i = 0; i < inv->naddrs; i++)
		if (strnlen(inv->addrs[i], sizeof(inv->addrs[i])) ==
		    sizeof(inv->addrs[i]))
			return -1;	/* the decoder takes 63 bytes at most */
	signed_hash(inv, h);
	crypto_sign_detached(inv->signature, NULL, h, sizeof(h), sk);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	pack_signed_part(&pk, inv, INVITE_FIELDS);
	mp_pack_bin(&pk, inv->signature, PROTO_SIGLEN);
	return 0;
}

static int
decode_addrs(struct invite *inv, const msgpack_object *o)
{
	if (mp_array(o, 0, INVITE_MAX_ADDRS) == -1)
		return -1;
	inv->naddrs = o->via.array.size;
	for (size_t i = 0; i < inv->naddrs; i++) {
		const char *s;
		size_t len;

		if (mp_str(&o->via.array.ptr[i], sizeof(inv->addrs[i]) - 1,
		    &s, &len) == -1 || memchr(s, '\0', len) != NULL)
			return -1;
		memcpy(inv->addrs[i], s, len);
		inv->addrs[i][len] = '\0';
	}
	return 0;
}

static int
decode_proofs(struct invite *inv, const msgpack_object *o)
{
	if (mp_array(o, 0, WIRE_MAX_PROOFS) == -1)
		return -1;
	for (size_t i = 0; i < o->via.array.size; i++)
		if (mp_bytes(&o->via.array.ptr[i], PROTO_MAX_ENVELOPE,
		    &inv->proofs[i], &inv->proof_lens[i]) == -1 ||
		    inv->proof_lens[i] == 0)
			return -1;
	inv->nproofs = o->via.array.size;
	return 0;
}

int
invite_decode(struct invite *inv, const uint8_t *buf, size_t len)
{
	msgpack_unpacked u;
	const msgpack_object *f;
	uint64_t version;
	uint8_t h[32];
	int rc = -1;

	memset(inv, 0, sizeof(*inv));
	if (mp_unpack(&u, buf, len, INVITE_MAX_BYTES) == -1 ||
	    mp_array(&u.data, 1, INVITE_MAX_BYTES) == -1)
		goto out;
	f = u.data.via.array.ptr;
	/* A newer invite may have other fields: only its version is read. */
	if (mp_uint(&f[0], 255, &version) == 0 && version > INVITE_VERSION) {
		inv->version = (uint8_t)version;
		rc = -2;
		goto out;
	}
	if (mp_array(&u.data, INVITE_FIELDS, INVITE_FIELDS) == -1 ||
	    mp_uint(&f[0], 255, &version) == -1 || version != INVITE_VERSION ||
	    mp_bin(&f[1], WIRE_TEAMIDLEN, inv->team_id) == -1 ||
	    mp_bin(&f[2], PROTO_IDLEN, inv->founder) == -1 ||
	    mp_bin(&f[3], PROTO_IDLEN, inv->inviter) == -1 ||
	    mp_bin(&f[4], PROTO_IDLEN, inv->invitee) == -1 ||
	    f[5].type != MSGPACK_OBJECT_BOOLEAN ||
	    mp_bin(&f[6], INVITE_SEALEDLEN, inv->sealed) == -1 ||
	    decode_addrs(inv, &f[7]) == -1 ||
	    decode_proofs(inv, &f[8]) == -1 ||
	    mp_bin(&f[9], PROTO_SIGLEN, inv->signature) == -1)
		goto out;
	inv->box = f[5].via.boolean;
	signed_hash(inv, h);
	if (crypto_sign_verify_detached(inv->signature, h, sizeof(h),
	    inv->inviter) != 0)
		goto out;
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}
