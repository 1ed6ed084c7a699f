/*
 * A record's canonical byte form, as kept in the records table:
 *
 *	[kind, id, [[name, [[hlc, ref, value]...], [ref...]]...],
 *	 [[name, [[value, [ref...], [ref...]]...]]...]]
 *	ref = [author, seq] or [author, seq, hash]
 *
 * Every array is written in its sorted order, so equal states give equal
 * bytes. The bytes come from this store, yet are decoded with the same
 * checks as a peer's: a damaged file must not crash the reader.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

/* One bound for encoder and decoder. A record holds at most one head per
 * author in each of its kind's few registers and one tag per author on
 * each set element, so only a team of hundreds writing 64 KiB values to
 * one record at once could come near it. */
#define RECORD_MAX_BYTES	(256 * 1024 * 1024)

void
rec_pack_ref(msgpack_packer *pk, const struct write_ref *r)
{
	msgpack_pack_array(pk, r->has_hash ? 3 : 2);
	mp_pack_bin(pk, r->author, PROTO_IDLEN);
	msgpack_pack_uint64(pk, r->seq);
	if (r->has_hash)
		mp_pack_bin(pk, r->hash, PROTO_HASHLEN);
}

static void
pack_refs(msgpack_packer *pk, const struct write_ref *refs, size_t n)
{
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		rec_pack_ref(pk, &refs[i]);
}

static void
pack_register(msgpack_packer *pk, const struct rec_register *reg)
{
	msgpack_pack_array(pk, 3);
	mp_pack_str(pk, reg->name, strlen(reg->name));
	msgpack_pack_array(pk, reg->nheads);
	for (size_t i = 0; i < reg->nheads; i++) {
		const struct rec_write *w = &reg->heads[i];

		msgpack_pack_array(pk, 3);
		msgpack_pack_uint64(pk, w->hlc);
		rec_pack_ref(pk, &w->ref);
		mp_pack_str(pk, w->value, w->value_len);
	}
	pack_refs(pk, reg->sup, reg->nsup);
}

static void
pack_set(msgpack_packer *pk, const struct rec_set *s)
{
	msgpack_pack_array(pk, 2);
	mp_pack_str(pk, s->name, strlen(s->name));
	msgpack_pack_array(pk, s->nelems);
	for (size_t i = 0; i < s->nelems; i++) {
		msgpack_pack_array(pk, 3);
		mp_pack_str(pk, s->elems[i].value, s->elems[i].value_len);
		pack_refs(pk, s->elems[i].adds, s->elems[i].nadds);
		pack_refs(pk, s->elems[i].rems, s->elems[i].nrems);
	}
}

int
record_encode(const struct record *r, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, r->kind);
	mp_pack_bin(&pk, r->id, PROTO_RECIDLEN);
	msgpack_pack_array(&pk, r->nregs);
	for (size_t i = 0; i < r->nregs; i++)
		pack_register(&pk, &r->regs[i]);
	msgpack_pack_array(&pk, r->nsets);
	for (size_t i = 0; i < r->nsets; i++)
		pack_set(&pk, &r->sets[i]);
	return sb->size <= RECORD_MAX_BYTES ? 0 : -1;
}

int
rec_decode_ref(const msgpack_object *r, struct write_ref *ref)
{
	if (mp_array(r, 2, 3) == -1 ||
	    mp_bin(&r->via.array.ptr[0], PROTO_IDLEN, ref->author) == -1 ||
	    mp_uint(&r->via.array.ptr[1], UINT64_MAX, &ref->seq) == -1)
		return -1;
	ref->has_hash = r->via.array.size == 3;
	if (ref->has_hash && mp_bin(&r->via.array.ptr[2], PROTO_HASHLEN,
	    ref->hash) == -1)
		return -1;
	return 0;
}

static int
decode_refs(const msgpack_object *o, struct write_ref **refs, size_t *n)
{
	if (mp_array(o, 0, SIZE_MAX) == -1)
		return -1;
	if (o->via.array.size == 0)
		return 0;
	*refs = calloc(o->via.array.size, sizeof(**refs));
	if (*refs == NULL)
		return -1;
	for (size_t i = 0; i < o->via.array.size; i++) {
		if (rec_decode_ref(&o->via.array.ptr[i], &(*refs)[i]) == -1)
			return -1;
		(*n)++;
	}
	return 0;
}

static int
decode_name(const msgpack_object *o, char name[PROTO_MAX_FIELD + 1])
{
	const char *p;
	size_t len;

	if (mp_str(o, PROTO_MAX_FIELD, &p, &len) == -1)
		return -1;
	memcpy(name, p, len);
	name[len] = '\0';
	return 0;
}

static int
decode_value(const msgpack_object *o, char **value, size_t *len)
{
	const char *p;

	if (mp_str(o, PROTO_MAX_VALUE, &p, len) == -1)
		return -1;
	if ((*value = malloc(*len + 1)) == NULL)
		return -1;
	memcpy(*value, p, *len);
	(*value)[*len] = '\0';
	return 0;
}

static int
decode_register(const msgpack_object *o, struct rec_register *reg)
{
	const msgpack_object *f, *h;

	if (mp_array(o, 3, 3) == -1)
		return -1;
	f = o->via.array.ptr;
	if (decode_name(&f[0], reg->name) == -1 ||
	    mp_array(&f[1], 0, SIZE_MAX) == -1)
		return -1;
	if (f[1].via.array.size > 0 && (reg->heads = calloc(
	    f[1].via.array.size, sizeof(*reg->heads))) == NULL)
		return -1;
	for (size_t i = 0; i < f[1].via.array.size; i++) {
		struct rec_write *w = &reg->heads[i];

		h = &f[1].via.array.ptr[i];
		if (mp_array(h, 3, 3) == -1 ||
		    mp_uint(&h->via.array.ptr[0], UINT64_MAX, &w->hlc) == -1 ||
		    rec_decode_ref(&h->via.array.ptr[1], &w->ref) == -1 ||
		    decode_value(&h->via.array.ptr[2], &w->value,
		    &w->value_len) == -1)
			return -1;
		reg->nheads++;
	}
	return decode_refs(&f[2], &reg->sup, &reg->nsup);
}

static int
decode_set(const msgpack_object *o, struct rec_set *s)
{
	const msgpack_object *f;

	if (mp_array(o, 2, 2) == -1)
		return -1;
	f = o->via.array.ptr;
	if (decode_name(&f[0], s->name) == -1 ||
	    mp_array(&f[1], 0, SIZE_MAX) == -1)
		return -1;
	if (f[1].via.array.size > 0 && (s->elems = calloc(f[1].via.array.size,
	    sizeof(*s->elems))) == NULL)
		return -1;
	for (size_t i = 0; i < f[1].via.array.size; i++) {
		const msgpack_object *e = &f[1].via.array.ptr[i];
		struct rec_elem *el = &s->elems[i];

		s->nelems++;
		if (mp_array(e, 3, 3) == -1 ||
		    decode_value(&e->via.array.ptr[0], &el->value,
		    &el->value_len) == -1 ||
		    decode_refs(&e->via.array.ptr[1], &el->adds,
		    &el->nadds) == -1 ||
		    decode_refs(&e->via.array.ptr[2], &el->rems,
		    &el->nrems) == -1)
			return -1;
	}
	return 0;
}

static int
decode_parts(struct record *r, const msgpack_object *f)
{
	const msgpack_object *regs = &f[2], *sets = &f[3];

	if (mp_array(regs, 0, SIZE_MAX) == -1 ||
	    mp_array(sets, 0, SIZE_MAX) == -1)
		return -1;
	if (regs->via.array.size > 0 && (r->regs = calloc(regs->via.array.size,
	    sizeof(*r->regs))) == NULL)
		return -1;
	for (size_t i = 0; i < regs->via.array.size; i++) {
		r->nregs++;
		if (decode_register(&regs->via.array.ptr[i], &r->regs[i]) == -1)
			return -1;
	}
	if (sets->via.array.size > 0 && (r->sets = calloc(sets->via.array.size,
	    sizeof(*r->sets))) == NULL)
		return -1;
	for (size_t i = 0; i < sets->via.array.size; i++) {
		r->nsets++;
		if (decode_set(&sets->via.array.ptr[i], &r->sets[i]) == -1)
			return -1;
	}
	return 0;
}

int
record_decode(struct record **out, const uint8_t *buf, size_t len)
{
	msgpack_unpacked u;
	const msgpack_object *f;
	struct record *r = NULL;
	uint64_t kind;
	uint8_t id[PROTO_RECIDLEN];
	int rc = -1;

	*out = NULL;
	if (mp_unpack(&u, buf, len, RECORD_MAX_BYTES) == -1 ||
	    mp_array(&u.data, 4, 4) == -1)
		goto out;
	f = u.data.via.array.ptr;
	if (mp_uint(&f[0], KIND_MAX, &kind) == -1 ||
	    mp_bin(&f[1], PROTO_RECIDLEN, id) == -1)
		goto out;
	if ((r = record_new((uint8_t)kind, id)) == NULL)
		goto out;
	if (decode_parts(r, f) == -1)
		goto out;
	*out = r;
	r = NULL;
	rc = 0;
out:
	record_free(r);
	msgpack_unpacked_destroy(&u);
	return rc;
}
