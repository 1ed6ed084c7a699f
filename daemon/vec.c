/*
 * Vectors: for each author, the highest contiguous seq and its hash. Our
 * own comes from the store's heads; a peer's is what it told us, raised by
 * every acknowledgement, and kept in meta so that `status` and `export
 * --for` know it after the session ends.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"
#include "wire.h"

struct vec_item *
vec_find(const struct vec *v, const uint8_t *author)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(v->items[mid].author, author, PROTO_IDLEN);

		if (c == 0)
			return &v->items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint64_t
vec_seq(const struct vec *v, const uint8_t *author)
{
	const struct vec_item *it = vec_find(v, author);

	return it ? it->seq : 0;
}

/* Raises author's seq to at least seq; hash may be NULL if unknown. */
int
vec_raise(struct vec *v, const uint8_t *author, uint64_t seq,
    const uint8_t *hash)
{
	struct vec_item *it = vec_find(v, author);
	size_t at = 0;

	if (it == NULL) {
		if (v->n == v->cap) {
			size_t cap = v->cap ? v->cap * 2 : 16;
			void *p = realloc(v->items, cap * sizeof(*v->items));

			if (p == NULL)
				return -1;
			v->items = p;
			v->cap = cap;
		}
		while (at < v->n && memcmp(v->items[at].author, author,
		    PROTO_IDLEN) < 0)
			at++;
		memmove(&v->items[at + 1], &v->items[at],
		    (v->n - at) * sizeof(*v->items));
		v->n++;
		it = &v->items[at];
		memset(it, 0, sizeof(*it));
		memcpy(it->author, author, PROTO_IDLEN);
	}
	if (seq >= it->seq) {
		if (hash != NULL)
			memcpy(it->hash, hash, PROTO_HASHLEN);
		else if (seq > it->seq)
			memset(it->hash, 0, PROTO_HASHLEN);
		it->seq = seq;
	}
	return 0;
}

void
vec_free(struct vec *v)
{
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static int
heads_cb(const uint8_t *author, uint64_t seq, const uint8_t *hash, void *arg)
{
	return vec_raise(arg, author, seq, hash) != 0;
}

int
vec_from_heads(struct vec *v, struct store_txn *t)
{
	memset(v, 0, sizeof(*v));
	return store_heads_each(t, heads_cb, v);
}

void
vec_pack(const struct vec *v, msgpack_packer *pk)
{
	wire_pack_vector_begin(pk, v->n);
	for (size_t i = 0; i < v->n; i++)
		wire_pack_vector_item(pk, v->items[i].author, v->items[i].seq,
		    v->items[i].hash);
}

/* Fills v from a decoded MSG_VECTOR, whose authors must come in strictly
 * ascending order (as vec_pack writes them): anything else is refused, so
 * a peer cannot make us sort a large vector the slow way. */
int
vec_from_msg(struct vec *v, const struct wire_msg *m)
{
	memset(v, 0, sizeof(*v));
	if (m->n > 0 && (v->items = calloc(m->n, sizeof(*v->items))) == NULL)
		return -1;
	v->cap = m->n;
	for (size_t i = 0; i < m->n; i++) {
		struct vec_item *it = &v->items[i];

		wire_vector_at(m, i, it->author, &it->seq, it->hash);
		if (i > 0 && memcmp(v->items[i - 1].author, it->author,
		    PROTO_IDLEN) >= 0)
			return -1;
		v->n++;
	}
	return 0;
}

static void
peer_key(char out[80], const uint8_t *peer)
{
	char hex[2 * PROTO_IDLEN + 1];

	sodium_bin2hex(hex, sizeof(hex), peer, PROTO_IDLEN);
	snprintf(out, 80, "pvec:%s", hex);
}

/* What we last knew a peer to hold; empty if nothing. */
int
vec_load_peer(struct vec *v, struct store_txn *t, const uint8_t *peer)
{
	struct wire_msg m;
	const void *val;
	size_t len;
	char key[80];
	int rc;

	memset(v, 0, sizeof(*v));
	peer_key(key, peer);
	if (store_meta_get(t, key, &val, &len) != 0)
		return 0;
	if (wire_decode(&m, val, len) != 0 || m.type != MSG_VECTOR)
		return 0;	/* unreadable: start from nothing */
	rc = vec_from_msg(v, &m);
	wire_msg_free(&m);
	return rc;
}

/* 1 if this device holds a vector of peer: they have synced once. */
int
vec_peer_known(struct store_txn *t, const uint8_t *peer)
{
	const void *val;
	size_t len;
	char key[80];

	peer_key(key, peer);
	return store_meta_get(t, key, &val, &len) == 0;
}

int
vec_save_peer(const struct vec *v, struct store_txn *t, const uint8_t *peer)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char key[80];
	int rc;

	peer_key(key, peer);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	vec_pack(v, &pk);
	rc = store_meta_put(t, key, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}
