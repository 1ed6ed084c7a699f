/*
 * A change: one record's ops, the plaintext sealed in an entry.
 *
 *	[record_id: bin 16, kind: uint, [op...]]
 *	op = [type: uint, field: str, value: str | nil, [[author: bin 32, seq: uint]...]]
 */
#include <string.h>

#include "proto.h"

static int
value_expected(uint8_t type)
{
	return type == OP_SET || type == OP_ADD || type == OP_REMOVE;
}

static void
pack_refs(msgpack_packer *pk, const struct write_ref *refs, size_t n)
{
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(pk, 2);
		mp_pack_bin(pk, refs[i].author, PROTO_IDLEN);
		msgpack_pack_uint64(pk, refs[i].seq);
	}
}

int
proto_change_encode(const struct change *c, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	if (c->nops == 0 || c->nops > PROTO_MAX_OPS)
		return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	mp_pack_bin(&pk, c->record_id, PROTO_RECIDLEN);
	msgpack_pack_uint8(&pk, c->kind);
	msgpack_pack_array(&pk, c->nops);
	for (size_t i = 0; i < c->nops; i++) {
		const struct op *op = &c->ops[i];

		if (op->npreds > PROTO_MAX_PREDS ||
		    op->field_len > PROTO_MAX_FIELD ||
		    op->value_len > PROTO_MAX_VALUE)
			return -1;
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint8(&pk, op->type);
		mp_pack_str(&pk, op->field, op->field_len);
		if (value_expected(op->type))
			mp_pack_str(&pk, (const char *)op->value, op->value_len);
		else
			msgpack_pack_nil(&pk);
		pack_refs(&pk, op->preds, op->npreds);
	}
	return 0;
}

static int
decode_refs(const msgpack_object *o, struct write_ref *refs, size_t *n)
{
	if (mp_array(o, 0, PROTO_MAX_PREDS) == -1)
		return -1;
	*n = o->via.array.size;
	for (size_t i = 0; i < *n; i++) {
		const msgpack_object *r = &o->via.array.ptr[i];

		if (mp_array(r, 2, 2) == -1 ||
		    mp_bin(&r->via.array.ptr[0], PROTO_IDLEN,
		    refs[i].author) == -1 ||
		    mp_uint(&r->via.array.ptr[1], UINT64_MAX,
		    &refs[i].seq) == -1 || refs[i].seq == 0)
			return -1;
	}
	return 0;
}

/* Field names are short lower-case words: one spelling per field, so
 * every device files a write under the same register. A set, add or remove
 * names a field, never one of the store's own ("_..."); a delete or an
 * undelete names none. */
static int
field_name_ok(uint8_t type, const char *p, size_t len)
{
	if (!value_expected(type))
		return len == 0;
	if (len == 0 || p[0] == '_')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' &&
		    p[i] <= '9') || p[i] == '_'))
			return 0;
	return 1;
}

static int
decode_op(const msgpack_object *o, struct op *op)
{
	const msgpack_object *f;
	uint64_t type;

	if (mp_array(o, 4, 4) == -1)
		return -1;
	f = o->via.array.ptr;
	if (mp_uint(&f[0], OP_UNDELETE, &type) == -1 || type == 0)
		return -1;
	op->type = (uint8_t)type;
	if (mp_str(&f[1], PROTO_MAX_FIELD, &op->field, &op->field_len) == -1 ||
	    !field_name_ok(op->type, op->field, op->field_len))
		return -1;
	if (value_expected(op->type)) {
		if (mp_str(&f[2], PROTO_MAX_VALUE, (const char **)&op->value,
		    &op->value_len) == -1 ||
		    !proto_text_ok((const char *)op->value, op->value_len))
			return -1;
	} else {
		if (f[2].type != MSGPACK_OBJECT_NIL)
			return -1;
		op->value = NULL;
		op->value_len = 0;
	}
	return decode_refs(&f[3], op->preds, &op->npreds);
}

/* Decodes a change; c borrows strings from buf. */
int
proto_change_decode(struct change *c, const uint8_t *buf, size_t len)
{
	msgpack_unpacked u;
	const msgpack_object *f;
	uint64_t kind;
	int rc = -1;

	if (mp_unpack(&u, buf, len, PROTO_MAX_CHANGE) == -1)
		goto out;
	if (mp_array(&u.data, 3, 3) == -1)
		goto out;
	f = u.data.via.array.ptr;
	if (mp_bin(&f[0], PROTO_RECIDLEN, c->record_id) == -1 ||
	    mp_uint(&f[1], KIND_MAX, &kind) == -1 || kind == 0 ||
	    mp_array(&f[2], 1, PROTO_MAX_OPS) == -1)
		goto out;
	c->kind = (uint8_t)kind;
	c->nops = f[2].via.array.size;
	for (size_t i = 0; i < c->nops; i++)
		if (decode_op(&f[2].via.array.ptr[i], &c->ops[i]) == -1)
			goto out;
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}
