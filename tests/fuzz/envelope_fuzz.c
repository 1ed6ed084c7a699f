/*
 * libFuzzer target: proto_envelope_decode reads what a peer sends. It must
 * refuse, never crash, and what it accepts must be the one canonical form:
 * re-encoding the decoded envelope gives back the input byte for byte, and
 * the header it hashes and authenticates is the input's own first eight
 * fields. Accepted inputs are also hashed and verified; those that verify
 * (the seeds, signed by a fixed author) and name the seeds' fixed key are
 * opened with it and their change decoded.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/envelope_fuzz.c \
 *	    proto/envelope.c proto/change.c proto/mpack.c \
 *	    $(pkg-config --cflags --libs libsodium msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/envelope
 * The seeds are deterministic: fixed keys, fixed nonces.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"

/* An arbitrary fixed key, shared by the seeds and the target. */
static const uint8_t fuzz_key[PROTO_KEYLEN] = {
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
	0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
	0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
	0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A verified envelope of the seeds' author: open it, read the change. */
static void
fuzz_open(const struct envelope *e)
{
	static struct change c;
	uint8_t kid[PROTO_KEYIDLEN], *pt;

	proto_key_id(fuzz_key, kid);
	if (memcmp(kid, e->key_id, PROTO_KEYIDLEN) != 0)
		return;
	if ((pt = malloc(e->ciphertext_len)) == NULL)
		abort();
	if (proto_envelope_open(e, fuzz_key, pt) == 0 &&
	    proto_change_decode(&c, pt, e->ciphertext_len - PROTO_TAGLEN) == 0
	    && (c.nops == 0 || c.nops > PROTO_MAX_OPS))
		abort();
	free(pt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope e;
	uint8_t hash[PROTO_HASHLEN], header[PROTO_HEADER_MAX];
	msgpack_sbuffer sb;
	uint8_t peek_author[PROTO_IDLEN];
	uint64_t peek_version, peek_seq;
	size_t hlen;
	int same, peeked;

	if (sodium_init() < 0)
		abort();
	peeked = proto_envelope_peek(data, size, &peek_version, peek_author,
	    &peek_seq);
	if (proto_envelope_decode(&e, data, size) != 0)
		return 0;
	/* What decodes is placed by peek as decode places it. */
	if (peeked != 0 || peek_version != e.version || peek_seq != e.seq ||
	    memcmp(peek_author, e.author, PROTO_IDLEN) != 0)
		abort();

	/* What decode promises of what it accepts. */
	if (e.version != PROTO_VERSION || e.seq == 0 ||
	    e.scope > SCOPE_PRIVATE)
		abort();
	if (e.erased ? e.ciphertext != NULL || e.ciphertext_len != 0 :
	    (e.ciphertext_len < PROTO_TAGLEN ||
	    e.ciphertext_len > PROTO_MAX_CHANGE + PROTO_TAGLEN ||
	    e.ciphertext < data || e.ciphertext_len > size ||
	    e.ciphertext > data + size - e.ciphertext_len))
		abort();

	/* One byte form: re-encoding gives back the input. */
	msgpack_sbuffer_init(&sb);
	same = proto_envelope_encode(&e, &sb) == 0 && sb.size == size &&
	    memcmp(sb.data, data, size) == 0;
	msgpack_sbuffer_destroy(&sb);
	if (!same)
		abort();

	/* The header hashed and authenticated is the one on the wire; a
	 * stub's marks its version (0xcc 0x81 for 0x01) and no more. */
	hlen = proto_envelope_header(&e, header);
	if (!e.erased && (hlen < 2 || hlen > size || header[0] != 0x98 ||
	    data[0] != 0x9a || memcmp(header + 1, data + 1, hlen - 1) != 0))
		abort();
	if (e.erased && (hlen < 3 || hlen + 1 > size || header[0] != 0x98 ||
	    header[1] != PROTO_VERSION || data[0] != 0x9a ||
	    data[1] != 0xcc || data[2] != (PROTO_STUB | PROTO_VERSION) ||
	    memcmp(header + 2, data + 3, hlen - 2) != 0))
		abort();

	proto_envelope_hash(&e, hash);
	if (proto_envelope_verify(&e, hash) == 0)
		fuzz_open(&e);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

/* The seeds' author: an arbitrary fixed signing key. */
static const uint8_t fuzz_sign_seed[crypto_sign_SEEDBYTES] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
	0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
	0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
	0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};

/* Seals pt into e with a nonce made from nonce_byte; encodes into sb. */
static int
seed_seal(struct envelope *e, const uint8_t *pt, size_t pt_len,
    uint8_t nonce_byte, uint8_t *ct, msgpack_sbuffer *sb,
    const uint8_t sk[PROTO_SKLEN])
{
	uint8_t header[PROTO_HEADER_MAX], hash[PROTO_HASHLEN];
	unsigned long long ct_len;
	size_t hlen;

	memset(e->nonce, nonce_byte, PROTO_NONCELEN);
	hlen = proto_envelope_header(e, header);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, pt,
	    pt_len, header, hlen, NULL, e->nonce, fuzz_key) != 0)
		return -1;
	e->ciphertext = ct;
	e->ciphertext_len = (size_t)ct_len;
	proto_envelope_hash(e, hash);
	crypto_sign_detached(e->signature, NULL, hash, sizeof(hash), sk);
	return proto_envelope_encode(e, sb);
}

static void
seed_change(struct change *c, int variant)
{
	static const char *const fields[] = { "name", "class", "needs" };
	static const char *const values[] = { "Ana Lopez", "3B", "fluency" };

	memset(c, 0, sizeof(*c));
	memset(c->record_id, 0x20 + variant, PROTO_RECIDLEN);
	c->kind = KIND_STUDENT;
	c->nops = 3;
	for (size_t i = 0; i < c->nops; i++) {
		c->ops[i].type = OP_SET;
		c->ops[i].field = fields[i];
		c->ops[i].field_len = strlen(fields[i]);
		c->ops[i].value = (const uint8_t *)values[i];
		c->ops[i].value_len = strlen(values[i]);
	}
	if (variant == 1) {
		c->ops[2].npreds = 1;
		memset(c->ops[2].preds[0].author, 0x77, PROTO_IDLEN);
		c->ops[2].preds[0].seq = 1;
		c->ops[1].type = OP_DELETE;
		c->ops[1].value = NULL;
		c->ops[1].value_len = 0;
	}
}

int
main(int argc, char **argv)
{
	static const uint8_t huge[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	static uint8_t ct[4096], ct2[4096], big[300];
	static struct change c;
	uint8_t pk[PROTO_IDLEN], sk[PROTO_SKLEN], hash[PROTO_HASHLEN];
	msgpack_sbuffer pt, sb;
	struct envelope e;
	uint8_t nc[512];
	int rc = 0;

	if (argc != 2 || sodium_init() < 0)
		return 1;
	crypto_sign_seed_keypair(pk, sk, fuzz_sign_seed);
	msgpack_sbuffer_init(&pt);
	msgpack_sbuffer_init(&sb);

	/* seq 1: a team entry holding a real change. */
	memset(&e, 0, sizeof(e));
	e.version = PROTO_VERSION;
	memcpy(e.author, pk, PROTO_IDLEN);
	e.seq = 1;
	e.hlc = (uint64_t)1700000000000 << 16;
	proto_key_id(fuzz_key, e.key_id);
	e.scope = SCOPE_TEAM;
	seed_change(&c, 0);
	if (proto_change_encode(&c, &pt) != 0 ||
	    seed_seal(&e, (const uint8_t *)pt.data, pt.size, 0x01, ct, &sb,
	    sk) != 0)
		return 1;
	rc |= seed_write(argv[1], "valid-seq1", sb.data, sb.size);
	rc |= seed_write(argv[1], "truncated", sb.data, sb.size - 10);
	/* The same with seq written as uint64: well-formed, not canonical. */
	if (sb.size + 8 > sizeof(nc) || ((uint8_t *)sb.data)[36] != 0x01)
		return 1;
	memcpy(nc, sb.data, 36);
	memcpy(nc + 36, "\xcf\0\0\0\0\0\0\0\x01", 9);
	memcpy(nc + 45, sb.data + 37, sb.size - 37);
	rc |= seed_write(argv[1], "noncanonical-seq", nc, sb.size + 8);

	/* seq 2, chained: private scope, a full-width hlc, a delete. */
	proto_envelope_hash(&e, hash);
	memcpy(e.prev_hash, hash, PROTO_HASHLEN);
	e.seq = 2;
	e.hlc = UINT64_C(0x8000000000000001);
	e.scope = SCOPE_PRIVATE;
	msgpack_sbuffer_clear(&pt);
	msgpack_sbuffer_clear(&sb);
	seed_change(&c, 1);
	if (proto_change_encode(&c, &pt) != 0 ||
	    seed_seal(&e, (const uint8_t *)pt.data, pt.size, 0x02, ct2, &sb,
	    sk) != 0)
		return 1;
	rc |= seed_write(argv[1], "valid-seq2", sb.data, sb.size);

	/* An empty plaintext: the ciphertext is the tag alone. */
	e.seq = 3;
	msgpack_sbuffer_clear(&sb);
	if (seed_seal(&e, NULL, 0, 0x03, ct, &sb, sk) != 0)
		return 1;
	rc |= seed_write(argv[1], "valid-empty-plaintext", sb.data, sb.size);

	/* A ciphertext past 255 bytes (bin16), seq past 255 (uint16). */
	e.seq = 300;
	memset(big, 'x', sizeof(big));
	msgpack_sbuffer_clear(&sb);
	if (seed_seal(&e, big, sizeof(big), 0x04, ct, &sb, sk) != 0)
		return 1;
	rc |= seed_write(argv[1], "valid-bin16", sb.data, sb.size);

	/* The same entry erased: its stub keeps the hash and signature. */
	proto_envelope_erase(&e);
	msgpack_sbuffer_clear(&sb);
	if (proto_envelope_encode(&e, &sb) != 0)
		return 1;
	rc |= seed_write(argv[1], "valid-stub", sb.data, sb.size);

	rc |= seed_write(argv[1], "empty", huge, 0);
	rc |= seed_write(argv[1], "huge-array", huge, sizeof(huge));
	msgpack_sbuffer_destroy(&pt);
	msgpack_sbuffer_destroy(&sb);
	return rc != 0;
}
#endif
