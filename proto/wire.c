/* Sync messages and the handshake payload. */
#include <string.h>

#include <sodium.h>

#include "wire.h"

static int
check_vector(const msgpack_object *o)
{
	if (mp_array(o, 0, WIRE_MAX_AUTHORS) == -1)
		return -1;
	for (size_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *it = &o->via.array.ptr[i];
		const uint8_t *p;
		size_t len;
		uint64_t seq;

		if (mp_array(it, 3, 3) == -1 ||
		    mp_bytes(&it->via.array.ptr[0], PROTO_IDLEN, &p, &len) ||
		    len != PROTO_IDLEN ||
		    mp_uint(&it->via.array.ptr[1], UINT64_MAX, &seq) == -1 ||
		    mp_bytes(&it->via.array.ptr[2], PROTO_HASHLEN, &p, &len) ||
		    len != PROTO_HASHLEN)
			return -1;
	}
	return 0;
}

static int
check_entries(const msgpack_object *o)
{
	if (mp_array(o, 1, WIRE_MAX_BATCH) == -1)
		return -1;
	for (size_t i = 0; i < o->via.array.size; i++) {
		const uint8_t *p;
		size_t len;

		if (mp_bytes(&o->via.array.ptr[i], PROTO_MAX_ENVELOPE, &p,
		    &len) == -1 || len == 0)
			return -1;
	}
	return 0;
}

static int
decode_body(struct wire_msg *m, const msgpack_object *f, size_t nf)
{
	switch (m->type) {
	case MSG_VECTOR:
	case MSG_ENTRIES:
		if (nf != 2 || (m->type == MSG_VECTOR ? check_vector(&f[1]) :
		    check_entries(&f[1])) == -1)
			return -1;
		m->n = f[1].via.array.size;
		m->items = f[1].via.array.ptr;
		return 0;
	case MSG_ACK:
	case MSG_REFUSE:
		if (nf != 3 || mp_bin(&f[1], PROTO_IDLEN, m->author) == -1 ||
		    mp_uint(&f[2], UINT64_MAX, &m->seq) == -1)
			return -1;
		return 0;
	case MSG_BYE:
		return nf == 1 ? 0 : -1;
	default:
		return -1;
	}
}

int
wire_decode(struct wire_msg *m, const uint8_t *buf, size_t len)
{
	uint64_t type;

	memset(m, 0, sizeof(*m));
	if (mp_unpack_ratio(&m->u, buf, len, WIRE_MAX_FRAME,
	    WIRE_OBJ_RATIO) == -1 ||
	    mp_array(&m->u.data, 1, 3) == -1 ||
	    mp_uint(&m->u.data.via.array.ptr[0], 255, &type) == -1)
		goto bad;
	m->type = (uint8_t)type;
	if (decode_body(m, m->u.data.via.array.ptr,
	    m->u.data.via.array.size) == -1)
		goto bad;
	return 0;
bad:
	wire_msg_free(m);
	return -1;
}

void
wire_msg_free(struct wire_msg *m)
{
	msgpack_unpacked_destroy(&m->u);
	m->items = NULL;
	m->n = 0;
}

void
wire_vector_at(const struct wire_msg *m, size_t i, uint8_t *author,
    uint64_t *seq, uint8_t *hash)
{
	const msgpack_object *it = m->items[i].via.array.ptr;

	memcpy(author, it[0].via.bin.ptr, PROTO_IDLEN);
	*seq = it[1].via.u64;
	memcpy(hash, it[2].via.bin.ptr, PROTO_HASHLEN);
}

void
wire_entry_at(const struct wire_msg *m, size_t i, const uint8_t **env,
    size_t *len)
{
	*env = (const uint8_t *)m->items[i].via.bin.ptr;
	*len = m->items[i].via.bin.size;
}

void
wire_pack_vector_begin(msgpack_packer *pk, size_t n)
{
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint8(pk, MSG_VECTOR);
	msgpack_pack_array(pk, n);
}

void
wire_pack_vector_item(msgpack_packer *pk, const uint8_t *author,
    uint64_t seq, const uint8_t *hash)
{
	msgpack_pack_array(pk, 3);
	mp_pack_bin(pk, author, PROTO_IDLEN);
	msgpack_pack_uint64(pk, seq);
	mp_pack_bin(pk, hash, PROTO_HASHLEN);
}

void
wire_pack_entries_begin(msgpack_packer *pk, size_t n)
{
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint8(pk, MSG_ENTRIES);
	msgpack_pack_array(pk, n);
}

void
wire_pack_entry(msgpack_packer *pk, const uint8_t *env, size_t len)
{
	mp_pack_bin(pk, env, len);
}

void
wire_pack_ack(msgpack_packer *pk, const uint8_t *author, uint64_t seq)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, MSG_ACK);
	mp_pack_bin(pk, author, PROTO_IDLEN);
	msgpack_pack_uint64(pk, seq);
}

void
wire_pack_refuse(msgpack_packer *pk, const uint8_t *author, uint64_t why)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, MSG_REFUSE);
	mp_pack_bin(pk, author, PROTO_IDLEN);
	msgpack_pack_uint64(pk, why);
}

void
wire_pack_bye(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_uint8(pk, MSG_BYE);
}

/* The legacy form, all a version-1 device reads: [1, id, [proof...]]. */
static void
pack_hello_fields(msgpack_packer *pk, const struct wire_hello *h,
    unsigned version)
{
	int v1 = version <= 1;

	msgpack_pack_array(pk, v1 ? 3 : version == 2 ? 4 : 5);
	msgpack_pack_uint8(pk, v1 ? 1 : (uint8_t)version);
	mp_pack_bin(pk, h->id, PROTO_IDLEN);
	msgpack_pack_array(pk, h->nproofs);
	for (size_t i = 0; i < h->nproofs; i++)
		mp_pack_bin(pk, h->proofs[i], h->proof_lens[i]);
	if (!v1)
		msgpack_pack_uint64(pk, h->wall_ms);
	if (version >= 3)
		msgpack_pack_uint32(pk, h->flags);
}

int
wire_hello_encode(msgpack_sbuffer *sb, const struct wire_hello *h)
{
	msgpack_packer pk;

	if (h->nproofs > WIRE_MAX_PROOFS || h->version > 255 ||
	    h->wall_ms > WIRE_MAX_WALL_MS || (h->version < 3 && h->flags))
		return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	pack_hello_fields(&pk, h, h->version);
	return sb->size <= WIRE_HELLO_MAX ? 0 : -1;
}

/* Version 1 has exactly its three fields; a later version has at least
 * the four of version 2, from version 3 on the five with the flags, and
 * whatever follows them is a newer device's and is ignored. */
static int
hello_fields(struct wire_hello *h, const msgpack_object *f, size_t nf)
{
	uint64_t version, flags = 0;

	if (mp_uint(&f[0], 255, &version) == -1 || version == 0 ||
	    (version == 1 && nf != 3) || (version > 1 && nf < 4) ||
	    (version > 2 && nf < 5) ||
	    mp_bin(&f[1], PROTO_IDLEN, h->id) == -1 ||
	    mp_array(&f[2], 0, WIRE_MAX_PROOFS) == -1)
		return -1;
	h->version = (unsigned)version;
	if (version > 1 && mp_uint(&f[3], WIRE_MAX_WALL_MS, &h->wall_ms) == -1)
		return -1;
	if (version > 2 && mp_uint(&f[4], UINT32_MAX, &flags) == -1)
		return -1;
	h->flags = (uint32_t)flags;
	for (size_t i = 0; i < f[2].via.array.size; i++)
		if (mp_bytes(&f[2].via.array.ptr[i], PROTO_MAX_ENVELOPE,
		    &h->proofs[i], &h->proof_lens[i]) == -1)
			return -1;
	h->nproofs = f[2].via.array.size;
	return 0;
}

int
wire_hello_decode(struct wire_hello *h, const uint8_t *buf, size_t len)
{
	msgpack_unpacked u;
	int rc = -1;

	memset(h, 0, sizeof(*h));
	if (mp_unpack_ratio(&u, buf, len, WIRE_HELLO_MAX,
	    WIRE_OBJ_RATIO) == -1)
		return -1;
	if (mp_array(&u.data, 3, WIRE_HELLO_MAX_FIELDS) == 0 &&
	    hello_fields(h, u.data.via.array.ptr, u.data.via.array.size) == 0)
		rc = 0;
	else
		memset(h, 0, sizeof(*h));
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
wire_offer_encode(msgpack_sbuffer *sb, unsigned version)
{
	msgpack_packer pk;

	if (version < 2 || version > 255)
		return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_uint8(&pk, (uint8_t)version);
	return 0;
}

int
wire_offer_decode(unsigned *version, const uint8_t *buf, size_t len)
{
	msgpack_unpacked u;
	uint64_t v;
	int rc = -1;

	*version = 1;
	if (len == 0)
		return 0;	/* a version-1 device sends nothing */
	if (mp_unpack(&u, buf, len, WIRE_OFFER_MAX) == -1)
		return -1;
	if (mp_array(&u.data, 1, WIRE_HELLO_MAX_FIELDS) == 0 &&
	    mp_uint(&u.data.via.array.ptr[0], 255, &v) == 0 && v >= 2) {
		*version = (unsigned)v;
		rc = 0;
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

unsigned
wire_version_spoken(unsigned theirs)
{
	return theirs < WIRE_PROTO_VERSION ? theirs : WIRE_PROTO_VERSION;
}
