/*
 * A change: one record's ops, the plaintext sealed in an entry.
 *
 *	v1: [record_id: bin 16, kind: uint, [op...]]
 *	    ref = [author: bin 32, seq: uint]; a following
 *	    [hash: bin 32, 2^64-1] gives it its entry's hash
 *	v2: [version: uint, record_id: bin 16, kind: uint, [op...]]
 *	    ref = [author: bin 32, seq: uint, hash: bin 32]
 *	v3: as v2; its ops may name the kinds and fields of version 3
 *	op = [type: uint, field: str, value: str | nil, [ref...]]
 *
 * A newer version is recognised by its first element and kept for later:
 * its layout after the version is its own.
 */
#include <stddef.h>
#include <string.h>

#include "proto.h"

static int
value_expected(uint8_t type)
{
	return type == OP_SET || type == OP_ADD || type == OP_REMOVE;
}

/* The previous release reads only the v1 layout, with at most 8 refs of
 * [author, seq] an op. So that it keeps reading what this one writes, a
 * predecessor's hash travels there as a second ref, [hash, REF_HASH_MARK],
 * right after the ref it belongs to: the old merge takes it for a write
 * that never comes. An op naming more than V1_MAX_PREDS writes needs the
 * v2 layout, which only this release and later read. */
#define REF_HASH_MARK	UINT64_MAX
#define V1_MAX_REFS	8
#define V1_MAX_PREDS	(V1_MAX_REFS / 2)

static void
pack_refs(msgpack_packer *pk, const struct write_ref *refs, size_t n,
    int v1)
{
	msgpack_pack_array(pk, v1 ? 2 * n : n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(pk, v1 ? 2 : 3);
		mp_pack_bin(pk, refs[i].author, PROTO_IDLEN);
		msgpack_pack_uint64(pk, refs[i].seq);
		if (v1)
			msgpack_pack_array(pk, 2);
		mp_pack_bin(pk, refs[i].hash, PROTO_HASHLEN);
		if (v1)
			msgpack_pack_uint64(pk, REF_HASH_MARK);
	}
}

/* A ref of seq REF_HASH_MARK would read back as a hash mark: v2 then. */
static int
fits_v1(const struct change *c)
{
	for (size_t i = 0; i < c->nops; i++) {
		if (c->ops[i].npreds > V1_MAX_PREDS)
			return 0;
		for (size_t j = 0; j < c->ops[i].npreds; j++)
			if (c->ops[i].preds[j].seq == REF_HASH_MARK)
				return 0;
	}
	return 1;
}

/* Writes the v1 layout with hash marks when it can hold the change, else
 * v2. Every reference must carry its entry's hash. */
int
proto_change_encode(const struct change *c, msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	unsigned version;
	int v1;

	if (c->nops == 0 || c->nops > PROTO_MAX_OPS)
		return -1;
	/* only once nops is known to be in bounds */
	version = proto_change_needs(c) > 2 ? 3 : fits_v1(c) ? 1 : 2;
	v1 = version == 1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, v1 ? 3 : 4);
	if (!v1)
		msgpack_pack_uint8(&pk, version);
	mp_pack_bin(&pk, c->record_id, PROTO_RECIDLEN);
	msgpack_pack_uint8(&pk, c->kind);
	msgpack_pack_array(&pk, c->nops);
	for (size_t i = 0; i < c->nops; i++) {
		const struct op *op = &c->ops[i];

		if (op->npreds > PROTO_MAX_PREDS ||
		    op->field_len > PROTO_MAX_FIELD ||
		    op->value_len > PROTO_MAX_VALUE)
			return -1;
		for (size_t j = 0; j < op->npreds; j++)
			if (!op->preds[j].has_hash)
				return -1;
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, op->type);
		mp_pack_str(&pk, op->field, op->field_len);
		if (value_expected(op->type))
			mp_pack_str(&pk, (const char *)op->value, op->value_len);
		else
			msgpack_pack_nil(&pk);
		pack_refs(&pk, op->preds, op->npreds, v1);
	}
	return 0;
}

static int
decode_ref(const msgpack_object *r, size_t width, struct write_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	if (mp_array(r, width, width) == -1 ||
	    mp_bin(&r->via.array.ptr[0], PROTO_IDLEN, ref->author) == -1 ||
	    mp_uint(&r->via.array.ptr[1], UINT64_MAX, &ref->seq) == -1 ||
	    ref->seq == 0)
		return -1;
	if (width == 3 && mp_bin(&r->via.array.ptr[2], PROTO_HASHLEN,
	    ref->hash) == -1)
		return -1;
	ref->has_hash = width == 3;
	return 0;
}

/* v1 refs, where a [hash, REF_HASH_MARK] gives the ref before it its
 * hash; a mark anywhere else is malformed. */
static int
decode_refs_v1(const msgpack_object *o, struct write_ref *refs, size_t *n)
{
	struct write_ref r;

	if (mp_array(o, 0, V1_MAX_REFS) == -1)
		return -1;
	*n = 0;
	for (size_t i = 0; i < o->via.array.size; i++) {
		if (decode_ref(&o->via.array.ptr[i], 2, &r) == -1)
			return -1;
		if (r.seq != REF_HASH_MARK) {
			refs[(*n)++] = r;
			continue;
		}
		if (*n == 0 || refs[*n - 1].has_hash)
			return -1;
		memcpy(refs[*n - 1].hash, r.author, PROTO_HASHLEN);
		refs[*n - 1].has_hash = 1;
	}
	return 0;
}

static int
decode_refs(const msgpack_object *o, uint8_t version, struct write_ref *refs,
    size_t *n)
{
	if (version < 2)
		return decode_refs_v1(o, refs, n);
	if (mp_array(o, 0, PROTO_MAX_PREDS) == -1)
		return -1;
	*n = o->via.array.size;
	for (size_t i = 0; i < *n; i++)
		if (decode_ref(&o->via.array.ptr[i], 3, &refs[i]) == -1)
			return -1;
	return 0;
}

/* The shape of an op; what its field and value may be is the schema's. */
static int
decode_op(const msgpack_object *o, uint8_t version, struct op *op)
{
	const msgpack_object *f;
	uint64_t type;

	if (mp_array(o, 4, 4) == -1)
		return -1;
	f = o->via.array.ptr;
	if (mp_uint(&f[0], UINT8_MAX, &type) == -1)
		return -1;
	op->type = (uint8_t)type;
	if (mp_str(&f[1], PROTO_MAX_FIELD, &op->field, &op->field_len) == -1)
		return -1;
	if (f[2].type == MSGPACK_OBJECT_NIL) {
		op->value = NULL;
		op->value_len = 0;
	} else if (mp_str(&f[2], PROTO_MAX_VALUE, (const char **)&op->value,
	    &op->value_len) == -1)
		return -1;
	return decode_refs(&f[3], version, op->preds, &op->npreds);
}

/* v1 is [id, kind, ops]; from v2 on the version comes first. */
static int
decode_parts(struct change *c, const msgpack_object *top)
{
	const msgpack_object *f = top->via.array.ptr;
	uint64_t v = 1, kind;

	if (top->via.array.size == 3) {
		c->version = 1;
	} else {
		if (mp_uint(&f[0], UINT8_MAX, &v) == -1 || v < 2)
			return -1;
		c->version = (uint8_t)v;
		if (v > PROTO_CHANGE_VERSION)
			return PROTO_CHANGE_NEWER;
		if (top->via.array.size != 4)
			return -1;
		f++;
	}
	if (mp_bin(&f[0], PROTO_RECIDLEN, c->record_id) == -1 ||
	    mp_uint(&f[1], UINT8_MAX, &kind) == -1 ||
	    mp_array(&f[2], 1, PROTO_MAX_OPS) == -1)
		return -1;
	c->kind = (uint8_t)kind;
	c->nops = f[2].via.array.size;
	for (size_t i = 0; i < c->nops; i++)
		if (decode_op(&f[2].via.array.ptr[i], c->version,
		    &c->ops[i]) == -1)
			return -1;
	return 0;
}

/* Decodes a change; c borrows strings from buf. */
int
proto_change_decode(struct change *c, const uint8_t *buf, size_t len)
{
	msgpack_unpacked u;
	int rc = -1;

	memset(c, 0, offsetof(struct change, ops));
	if (mp_unpack(&u, buf, len, PROTO_MAX_CHANGE) == -1)
		goto out;
	if (mp_array(&u.data, 3, 16) == -1)
		goto out;
	rc = decode_parts(c, &u.data);
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}
