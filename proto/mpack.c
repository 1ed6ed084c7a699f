/*
 * Checked msgpack decoding. msgpack-c allocates from the counts a message
 * declares, so a few bytes can ask for gigabytes; mp_check walks the bytes
 * first and refuses any count that the bytes left cannot hold, any nesting
 * deeper than MP_MAX_DEPTH, and extension types, which Satchel never sends.
 * It also counts the objects, so that what msgpack-c will allocate for
 * them is known, and bounded, before it unpacks anything.
 */
#include <stdint.h>
#include <string.h>

#include "proto.h"

#define MP_MAX_DEPTH	8

struct mp_cursor {
	const uint8_t	*p;
	size_t		 left;
	size_t		 objects;	/* seen so far, this one included */
	size_t		 max_objects;
};

static int
take(struct mp_cursor *c, size_t n, const uint8_t **out)
{
	if (n > c->left)
		return -1;
	if (out != NULL)
		*out = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static int
take_be(struct mp_cursor *c, size_t width, uint64_t *out)
{
	const uint8_t *b;

	if (take(c, width, &b) == -1)
		return -1;
	*out = 0;
	for (size_t i = 0; i < width; i++)
		*out = (*out << 8) | b[i];
	return 0;
}

static int check_one(struct mp_cursor *, int depth);

/* Each element takes at least one byte, so a count past the bytes left is
 * a lie; a map's pairs take two. */
static int
check_items(struct mp_cursor *c, uint64_t n, int per, int depth)
{
	if (depth >= MP_MAX_DEPTH || n > c->left / per)
		return -1;
	for (uint64_t i = 0; i < n * per; i++)
		if (check_one(c, depth + 1) == -1)
			return -1;
	return 0;
}

static int
check_one(struct mp_cursor *c, int depth)
{
	const uint8_t *b;
	uint64_t n;
	uint8_t t;

	if (++c->objects > c->max_objects || take(c, 1, &b) == -1)
		return -1;
	t = *b;
	if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
		return 0;
	if (t >= 0xa0 && t <= 0xbf)
		return take(c, t & 0x1f, NULL);
	if (t >= 0x90 && t <= 0x9f)
		return check_items(c, t & 0x0f, 1, depth);
	if (t >= 0x80 && t <= 0x8f)
		return check_items(c, t & 0x0f, 2, depth);
	switch (t) {
	case 0xcc: case 0xd0: return take(c, 1, NULL);
	case 0xcd: case 0xd1: return take(c, 2, NULL);
	case 0xce: case 0xd2: case 0xca: return take(c, 4, NULL);
	case 0xcf: case 0xd3: case 0xcb: return take(c, 8, NULL);
	case 0xc4: case 0xd9:
		return take_be(c, 1, &n) == -1 ? -1 : take(c, n, NULL);
	case 0xc5: case 0xda:
		return take_be(c, 2, &n) == -1 ? -1 : take(c, n, NULL);
	case 0xc6: case 0xdb:
		return take_be(c, 4, &n) == -1 ? -1 : take(c, n, NULL);
	case 0xdc:
		return take_be(c, 2, &n) == -1 ? -1 : check_items(c, n, 1, depth);
	case 0xdd:
		return take_be(c, 4, &n) == -1 ? -1 : check_items(c, n, 1, depth);
	case 0xde:
		return take_be(c, 2, &n) == -1 ? -1 : check_items(c, n, 2, depth);
	case 0xdf:
		return take_be(c, 4, &n) == -1 ? -1 : check_items(c, n, 2, depth);
	default:
		return -1;	/* ext types and the never-used 0xc1 */
	}
}

/* Accepts exactly one well-formed object filling all of buf, made of at
 * most max_objects objects (each array element, map key and map value
 * counts one, as each costs msgpack-c one msgpack_object). */
int
mp_check_objects(const uint8_t *buf, size_t len, size_t max_objects)
{
	struct mp_cursor c = { buf, len, 0, max_objects };

	if (len == 0 || check_one(&c, 0) == -1)
		return -1;
	return c.left == 0 ? 0 : -1;
}

int
mp_check(const uint8_t *buf, size_t len)
{
	return mp_check_objects(buf, len, SIZE_MAX);
}

/* How many objects a buffer of len bytes may unpack to: their memory at
 * most ratio times len, plus a floor for small messages. */
size_t
mp_max_objects(size_t len, unsigned ratio)
{
	if (len > (SIZE_MAX - MP_OBJ_FLOOR) / (ratio ? ratio : 1))
		return SIZE_MAX / sizeof(msgpack_object);
	return (ratio * len + MP_OBJ_FLOOR) / sizeof(msgpack_object);
}

int
mp_unpack(msgpack_unpacked *out, const uint8_t *buf, size_t len, size_t max)
{
	return mp_unpack_ratio(out, buf, len, max, MP_OBJ_RATIO);
}

/* Unpacks a checked buffer of at most max bytes whose objects take at
 * most ratio times its size (see mp_max_objects). Strings and bins in the
 * result point into buf (msgpack-c references its input). out is always
 * initialised, so the caller destroys it with msgpack_unpacked_destroy on
 * every path, failure included. */
int
mp_unpack_ratio(msgpack_unpacked *out, const uint8_t *buf, size_t len,
    size_t max, unsigned ratio)
{
	size_t off = 0;

	msgpack_unpacked_init(out);
	if (len > max || mp_check_objects(buf, len,
	    mp_max_objects(len, ratio)) == -1)
		return -1;
	if (msgpack_unpack_next(out, (const char *)buf, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS || off != len)
		return -1;
	return 0;
}

int
mp_uint(const msgpack_object *o, uint64_t max, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
		return -1;
	*out = o->via.u64;
	return 0;
}

/* A bin of exactly len bytes, copied out. */
int
mp_bin(const msgpack_object *o, size_t len, uint8_t *out)
{
	if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != len)
		return -1;
	memcpy(out, o->via.bin.ptr, len);
	return 0;
}

int
mp_bytes(const msgpack_object *o, size_t max, const uint8_t **p, size_t *len)
{
	if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size > max)
		return -1;
	*p = (const uint8_t *)o->via.bin.ptr;
	*len = o->via.bin.size;
	return 0;
}

int
mp_str(const msgpack_object *o, size_t max, const char **p, size_t *len)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > max)
		return -1;
	*p = o->via.str.ptr;
	*len = o->via.str.size;
	return 0;
}

int
mp_array(const msgpack_object *o, size_t min, size_t max)
{
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < min ||
	    o->via.array.size > max)
		return -1;
	return 0;
}

void
mp_pack_bin(msgpack_packer *pk, const void *p, size_t len)
{
	msgpack_pack_bin(pk, len);
	msgpack_pack_bin_body(pk, p, len);
}

void
mp_pack_str(msgpack_packer *pk, const char *s, size_t len)
{
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}
