/*
 * The signed, encrypted entry envelope:
 *
 *	[version, author, seq, prev_hash, hlc, key_id, scope, nonce,
 *	 ciphertext, signature]
 *
 * The first eight fields are the header, which is the AEAD's associated
 * data. An entry's hash is BLAKE2b-256(header || BLAKE2b-256(ciphertext)),
 * so the chain survives a ciphertext being erased; the signature covers
 * the hash. Only the canonical (shortest) msgpack encoding is accepted, so
 * one entry has exactly one byte form.
 */
#include <string.h>

#include <sodium.h>

#include "proto.h"

#define ENVELOPE_FIELDS	10
#define HEADER_FIELDS	8

struct fixed_buf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
};

static int
fixed_write(void *data, const char *buf, size_t len)
{
	struct fixed_buf *fb = data;

	if (len > fb->cap - fb->len)
		return -1;
	memcpy(fb->p + fb->len, buf, len);
	fb->len += len;
	return 0;
}

/* The header as hashed and sealed; a stub's encoding marks its version
 * (stub set), never what is hashed. */
static void
pack_header(msgpack_packer *pk, const struct envelope *e, size_t nfields,
    int stub)
{
	msgpack_pack_array(pk, nfields);
	msgpack_pack_uint8(pk, stub ? (uint8_t)(PROTO_STUB | e->version) :
	    e->version);
	mp_pack_bin(pk, e->author, PROTO_IDLEN);
	msgpack_pack_uint64(pk, e->seq);
	mp_pack_bin(pk, e->prev_hash, PROTO_HASHLEN);
	msgpack_pack_uint64(pk, e->hlc);
	mp_pack_bin(pk, e->key_id, PROTO_KEYIDLEN);
	msgpack_pack_uint8(pk, e->scope);
	mp_pack_bin(pk, e->nonce, PROTO_NONCELEN);
}

size_t
proto_envelope_header(const struct envelope *e, uint8_t out[PROTO_HEADER_MAX])
{
	struct fixed_buf fb = { out, 0, PROTO_HEADER_MAX };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &fb, fixed_write);
	pack_header(&pk, e, HEADER_FIELDS, 0);
	return fb.len;
}

void
proto_envelope_hash(const struct envelope *e, uint8_t out[PROTO_HASHLEN])
{
	crypto_generichash_state st;
	uint8_t header[PROTO_HEADER_MAX], ct_hash[PROTO_HASHLEN];
	size_t hlen;

	if (e->erased)
		memcpy(ct_hash, e->ct_hash, sizeof(ct_hash));
	else
		crypto_generichash(ct_hash, sizeof(ct_hash), e->ciphertext,
		    e->ciphertext_len, NULL, 0);
	hlen = proto_envelope_header(e, header);
	crypto_generichash_init(&st, NULL, 0, PROTO_HASHLEN);
	crypto_generichash_update(&st, header, hlen);
	crypto_generichash_update(&st, ct_hash, sizeof(ct_hash));
	crypto_generichash_final(&st, out, PROTO_HASHLEN);
}

int
proto_envelope_encode(const struct envelope *e, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	if (!e->erased && (e->ciphertext_len < PROTO_TAGLEN ||
	    e->ciphertext_len > PROTO_MAX_CHANGE + PROTO_TAGLEN))
		return -1;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	pack_header(&pk, e, ENVELOPE_FIELDS, e->erased);
	if (e->erased)
		mp_pack_bin(&pk, e->ct_hash, PROTO_HASHLEN);
	else
		mp_pack_bin(&pk, e->ciphertext, e->ciphertext_len);
	mp_pack_bin(&pk, e->signature, PROTO_SIGLEN);
	return 0;
}

/*
 * The decoder reads the canonical form directly: each field in the one
 * encoding msgpack-c's packer gives it (the shortest), so what decodes
 * re-encodes to the same bytes without being re-encoded to check, and
 * nothing is allocated or copied but the fixed-size fields.
 */
struct rd {
	const uint8_t	*p;
	size_t		 left;
};

static int
rd_take(struct rd *r, size_t n, const uint8_t **out)
{
	if (n > r->left)
		return -1;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static uint64_t
rd_be(const uint8_t *b, size_t width)
{
	uint64_t v = 0;

	for (size_t i = 0; i < width; i++)
		v = (v << 8) | b[i];
	return v;
}

/* A positive integer in its shortest form, at most max. */
static int
rd_uint(struct rd *r, uint64_t max, uint64_t *v)
{
	static const uint64_t least[4] = { 0x80, 0x100, 0x10000,
	    UINT64_C(0x100000000) };
	const uint8_t *b;
	size_t width;

	if (rd_take(r, 1, &b) == -1)
		return -1;
	if (*b <= 0x7f) {
		*v = *b;
		return *v <= max ? 0 : -1;
	}
	if (*b < 0xcc || *b > 0xcf)
		return -1;
	width = (size_t)1 << (*b - 0xcc);
	if (rd_take(r, width, &b) == -1)
		return -1;
	*v = rd_be(b, width);
	return *v >= least[width == 8 ? 3 : width / 2] && *v <= max ? 0 : -1;
}

/* A bin with its length in the shortest form; *p points into the input. */
static int
rd_bin(struct rd *r, size_t *len, const uint8_t **p)
{
	const uint8_t *b;
	size_t width;

	if (rd_take(r, 1, &b) == -1 || *b < 0xc4 || *b > 0xc6)
		return -1;
	width = (size_t)1 << (*b - 0xc4);
	if (rd_take(r, width, &b) == -1)
		return -1;
	*len = (size_t)rd_be(b, width);
	if ((width == 2 && *len < 0x100) || (width == 4 && *len < 0x10000))
		return -1;
	return rd_take(r, *len, p);
}

static int
rd_fixed(struct rd *r, size_t want, uint8_t *out)
{
	const uint8_t *p;
	size_t len;

	if (rd_bin(r, &len, &p) == -1 || len != want)
		return -1;
	memcpy(out, p, len);
	return 0;
}

/* Decodes an envelope; e->ciphertext points into buf. Checks form only:
 * the caller verifies the chain and the signature. */
int
proto_envelope_decode(struct envelope *e, const uint8_t *buf, size_t len)
{
	struct rd r = { buf, len };
	const uint8_t *b;
	uint64_t v;

	if (len > PROTO_MAX_ENVELOPE || rd_take(&r, 1, &b) == -1 ||
	    *b != (0x90 | ENVELOPE_FIELDS) ||
	    rd_uint(&r, 255, &v) == -1 ||
	    (v & ~(uint64_t)PROTO_STUB) != PROTO_VERSION)
		return -1;
	e->version = (uint8_t)(v & ~(uint64_t)PROTO_STUB);
	e->erased = (v & PROTO_STUB) != 0;
	if (rd_fixed(&r, PROTO_IDLEN, e->author) == -1 ||
	    rd_uint(&r, UINT64_MAX, &e->seq) == -1 || e->seq == 0 ||
	    rd_fixed(&r, PROTO_HASHLEN, e->prev_hash) == -1 ||
	    rd_uint(&r, UINT64_MAX, &e->hlc) == -1 ||
	    rd_fixed(&r, PROTO_KEYIDLEN, e->key_id) == -1 ||
	    rd_uint(&r, SCOPE_PRIVATE, &v) == -1)
		return -1;
	e->scope = (uint8_t)v;
	if (rd_fixed(&r, PROTO_NONCELEN, e->nonce) == -1)
		return -1;
	if (e->erased) {	/* a stub: the ciphertext's hash in its place */
		e->ciphertext = NULL;
		e->ciphertext_len = 0;
		if (rd_fixed(&r, PROTO_HASHLEN, e->ct_hash) == -1)
			return -1;
	} else if (rd_bin(&r, &e->ciphertext_len, &e->ciphertext) == -1 ||
	    e->ciphertext_len < PROTO_TAGLEN ||
	    e->ciphertext_len > PROTO_MAX_CHANGE + PROTO_TAGLEN)
		return -1;
	if (rd_fixed(&r, PROTO_SIGLEN, e->signature) == -1)
		return -1;
	return r.left == 0 ? 0 : -1;
}

/* Every version's first three fields; the field count of a newer version
 * is unknown, so any array of at least three is read. */
int
proto_envelope_peek(const uint8_t *buf, size_t len, uint64_t *version,
    uint8_t author[PROTO_IDLEN], uint64_t *seq)
{
	const msgpack_object *f;
	msgpack_unpacked u;
	int rc = -1;

	if (mp_unpack(&u, buf, len, PROTO_MAX_ENVELOPE) == -1)
		goto out;
	if (mp_array(&u.data, 3, PROTO_MAX_ENVELOPE) == -1)
		goto out;
	f = u.data.via.array.ptr;
	if (mp_uint(&f[0], 255, version) == -1 ||
	    (*version &= ~(uint64_t)PROTO_STUB) == 0 ||
	    mp_bin(&f[1], PROTO_IDLEN, author) == -1 ||
	    mp_uint(&f[2], UINT64_MAX, seq) == -1 || *seq == 0)
		goto out;
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

int
proto_envelope_seal(struct envelope *e, const uint8_t key[PROTO_KEYLEN],
    const uint8_t *pt, size_t pt_len, uint8_t *ct,
    const uint8_t sk[PROTO_SKLEN])
{
	uint8_t header[PROTO_HEADER_MAX], hash[PROTO_HASHLEN];
	unsigned long long ct_len;
	size_t hlen;

	if (pt_len > PROTO_MAX_CHANGE)
		return -1;
	randombytes_buf(e->nonce, sizeof(e->nonce));
	hlen = proto_envelope_header(e, header);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, pt,
	    pt_len, header, hlen, NULL, e->nonce, key) != 0)
		return -1;
	e->ciphertext = ct;
	e->ciphertext_len = (size_t)ct_len;
	proto_envelope_hash(e, hash);
	crypto_sign_detached(e->signature, NULL, hash, sizeof(hash), sk);
	return 0;
}

int
proto_envelope_verify(const struct envelope *e,
    const uint8_t hash[PROTO_HASHLEN])
{
	return crypto_sign_verify_detached(e->signature, hash, PROTO_HASHLEN,
	    e->author) == 0 ? 0 : -1;
}

int
proto_envelope_open(const struct envelope *e, const uint8_t key[PROTO_KEYLEN],
    uint8_t *pt)
{
	uint8_t header[PROTO_HEADER_MAX];
	unsigned long long pt_len;
	size_t hlen;

	if (e->erased)
		return -1;
	hlen = proto_envelope_header(e, header);
	return crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &pt_len, NULL,
	    e->ciphertext, e->ciphertext_len, header, hlen, e->nonce,
	    key) == 0 ? 0 : -1;
}

/* One reading of an entry for everyone who reads one (the store on apply,
 * the receiver's worker thread ahead of it), so that both judge alike. */
int
proto_entry_read(const struct envelope *e, const uint8_t key[PROTO_KEYLEN],
    int key_use, struct change *c, uint8_t *pt, const char **why)
{
	int rc;

	if (proto_envelope_open(e, key, pt) != 0)
		return -1;
	rc = proto_change_decode(c, pt, e->ciphertext_len - PROTO_TAGLEN);
	if (rc == PROTO_CHANGE_NEWER) {
		*why = "written by a newer version of Satchel";
		return PROTO_CHANGE_NEWER;
	}
	if (rc != 0) {
		*why = "not a well-formed change";
		return PROTO_ENTRY_INVALID;
	}
	/* The key binds the kind: a box holds the network key and must not
	 * write notes, nor a content key add members a box cannot see. */
	if (proto_change_validate(c, key_use, why) != 0)
		return PROTO_ENTRY_INVALID;
	return 0;
}

void
proto_envelope_erase(struct envelope *e)
{
	if (e->erased)
		return;
	crypto_generichash(e->ct_hash, sizeof(e->ct_hash), e->ciphertext,
	    e->ciphertext_len, NULL, 0);
	e->erased = 1;
	e->ciphertext = NULL;
	e->ciphertext_len = 0;
}

/* A key's public name: a keyed hash, so the id says nothing of the key. */
void
proto_key_id(const uint8_t key[PROTO_KEYLEN], uint8_t out[PROTO_KEYIDLEN])
{
	static const uint8_t label[] = "satchel key id v1";

	crypto_generichash(out, PROTO_KEYIDLEN, label, sizeof(label) - 1,
	    key, PROTO_KEYLEN);
}
