/*
 * Erasure's pure parts: the drop list an erase record carries, and the
 * key erase records are sealed under. A drop list names entries by
 * (author, seq, hash), as hash-bound references do, so that a device
 * that cannot read an entry (a box; another teacher, for a private
 * entry) still knows which ciphertext to drop, and the hash makes sure
 * it drops that entry and no other at that place. Its text is the value
 * of an erase change's "drop" field: URL-safe base64 without padding of
 *
 *	[version, [[author: bin 32, seq: uint, hash: bin 32]...]]
 *
 * refs strictly ascending by (author, seq), so one list has one
 * spelling. The decoder reads bytes any member may have written: it
 * checks every count against the bytes it has before unpacking.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"

#define ERASE_KDF_CONTEXT	"saterase"	/* crypto_kdf: 8 bytes */
#define ERASE_KDF_ID		1

void
proto_erase_key(const uint8_t network[PROTO_KEYLEN],
    uint8_t out[PROTO_KEYLEN])
{
	crypto_kdf_derive_from_key(out, PROTO_KEYLEN, ERASE_KDF_ID,
	    ERASE_KDF_CONTEXT, network);
}

static int
ref_cmp(const struct write_ref *a, const struct write_ref *b)
{
	int c = memcmp(a->author, b->author, PROTO_IDLEN);

	if (c != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
ref_qcmp(const void *a, const void *b)
{
	return ref_cmp(a, b);
}

void
proto_erase_sort(struct write_ref *refs, size_t *n)
{
	size_t out = 0;

	qsort(refs, *n, sizeof(*refs), ref_qcmp);
	for (size_t i = 0; i < *n; i++)
		if (out == 0 || ref_cmp(&refs[out - 1], &refs[i]) != 0)
			refs[out++] = refs[i];
	*n = out;
}

int
proto_erase_encode(const struct write_ref *refs, size_t n, char **text,
    size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t cap;
	int rc = -1;

	*text = NULL;
	if (n == 0 || n > PROTO_ERASE_MAX_REFS)
		return -1;
	for (size_t i = 1; i < n; i++)
		if (ref_cmp(&refs[i - 1], &refs[i]) >= 0)
			return -1;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint8(&pk, PROTO_ERASE_VERSION);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(&pk, 3);
		mp_pack_bin(&pk, refs[i].author, PROTO_IDLEN);
		msgpack_pack_uint64(&pk, refs[i].seq);
		mp_pack_bin(&pk, refs[i].hash, PROTO_HASHLEN);
	}
	cap = sodium_base64_ENCODED_LEN(sb.size,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((*text = malloc(cap)) != NULL) {
		sodium_bin2base64(*text, cap, (uint8_t *)sb.data, sb.size,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		*len = strlen(*text);
		rc = *len <= PROTO_MAX_VALUE ? 0 : -1;
	}
	if (rc != 0) {
		free(*text);
		*text = NULL;
	}
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int
decode_ref(const msgpack_object *o, struct write_ref *r)
{
	const msgpack_object *f;

	if (mp_array(o, 3, 3) == -1)
		return -1;
	f = o->via.array.ptr;
	memset(r, 0, sizeof(*r));
	if (mp_bin(&f[0], PROTO_IDLEN, r->author) == -1 ||
	    mp_uint(&f[1], INT64_MAX, &r->seq) == -1 || r->seq == 0 ||
	    mp_bin(&f[2], PROTO_HASHLEN, r->hash) == -1)
		return -1;
	r->has_hash = 1;
	return 0;
}

/* The list in buf: 0, PROTO_ERASE_NEWER, or -1. */
static int
decode_list(const uint8_t *buf, size_t blen, struct write_ref *refs,
    size_t max, size_t *n)
{
	const msgpack_object *f;
	msgpack_unpacked u;
	uint64_t v;
	int rc = -1;

	*n = 0;
	if (mp_unpack(&u, buf, blen, PROTO_MAX_VALUE) == -1)
		return -1;
	if (mp_array(&u.data, 2, 2) == -1)
		goto out;
	f = u.data.via.array.ptr;
	if (mp_uint(&f[0], 255, &v) == -1 || v == 0)
		goto out;
	if (v > PROTO_ERASE_VERSION) {
		rc = PROTO_ERASE_NEWER;
		goto out;
	}
	if (mp_array(&f[1], 1, max < PROTO_ERASE_MAX_REFS ? max :
	    PROTO_ERASE_MAX_REFS) == -1)
		goto out;
	for (size_t i = 0; i < f[1].via.array.size; i++)
		if (decode_ref(&f[1].via.array.ptr[i], &refs[i]) == -1 ||
		    (i > 0 && ref_cmp(&refs[i - 1], &refs[i]) >= 0))
			goto out;
	*n = f[1].via.array.size;
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* libsodium's decoder takes some bytes outside the alphabet, and any
 * trailing bits: only the text the bytes encode back to is taken, so
 * one list has one spelling. */
static int
canonical(const char *text, size_t len, const uint8_t *bin, size_t blen)
{
	size_t cap = sodium_base64_ENCODED_LEN(blen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *again;
	int ok;

	if ((again = malloc(cap)) == NULL)
		return 0;
	sodium_bin2base64(again, cap, bin, blen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ok = strlen(again) == len && memcmp(again, text, len) == 0;
	free(again);
	return ok;
}

int
proto_erase_decode(const char *text, size_t len, struct write_ref *refs,
    size_t max, size_t *n)
{
	uint8_t *buf;
	size_t blen;
	int rc = -1;

	*n = 0;
	if (len == 0 || len > PROTO_MAX_VALUE || max == 0 ||
	    (buf = malloc(len + 1)) == NULL)
		return -1;
	if (sodium_base642bin(buf, len + 1, text, len, NULL, &blen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	    canonical(text, len, buf, blen))
		rc = decode_list(buf, blen, refs, max, n);
	free(buf);
	return rc;
}

int
proto_erase_check(const char *text, size_t len)
{
	struct write_ref *refs;
	size_t n;
	int rc;

	if ((refs = malloc(PROTO_ERASE_MAX_REFS * sizeof(*refs))) == NULL)
		return -1;
	rc = proto_erase_decode(text, len, refs, PROTO_ERASE_MAX_REFS, &n);
	free(refs);
	return rc < 0 ? -1 : 0;
}
