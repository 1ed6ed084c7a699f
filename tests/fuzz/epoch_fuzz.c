/*
 * libFuzzer target: proto_epoch_decode reads an epoch record from a
 * peer's entry (once its envelope is opened with the epoch's record key,
 * which every member and the box hold, so any member could have written
 * it). It must refuse, never crash. What it accepts must keep its
 * promises (a recipient count within bounds, sealed parts of a sane
 * length, one part per device, a removal exactly on a new epoch), and
 * re-encode to bytes that decode to the same record. Every part is also
 * opened with a fixed identity, as a device does with its own part, and
 * the record is checked as the schema checks the text it travels in.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/epoch_fuzz.c \
 *	    proto/epoch.c proto/mpack.c \
 *	    $(pkg-config --cflags --libs libsodium msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/epoch
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"

/* The fixed identity the seeds seal their parts to. */
static const uint8_t fuzz_seed[crypto_sign_SEEDBYTES] = {
	0x21, 0x7a, 0x09, 0x33, 0xd4, 0x5e, 0x60, 0x81,
	0x12, 0xc5, 0x9f, 0x4b, 0x70, 0x2e, 0xe3, 0x18,
	0x3b, 0x91, 0x6c, 0x0d, 0xa7, 0x55, 0xf2, 0x84,
	0x49, 0x1f, 0xb0, 0x6e, 0xc2, 0x37, 0x98, 0x0a,
};
static uint8_t fuzz_pk[PROTO_IDLEN], fuzz_sk[PROTO_SKLEN];

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_keys(void)
{
	static int done;

	if (done)
		return;
	if (sodium_init() < 0 ||
	    crypto_sign_seed_keypair(fuzz_pk, fuzz_sk, fuzz_seed) != 0)
		abort();
	done = 1;
}

static void
check_promises(const struct proto_epoch *r)
{
	if (r->nrecipients == 0 ||
	    r->nrecipients > PROTO_EPOCH_MAX_RECIPIENTS ||
	    (r->what != EPOCH_NEW && r->what != EPOCH_GRANT) ||
	    (r->what == EPOCH_NEW) != (r->has_removed != 0))
		abort();
	for (size_t i = 0; i < r->nrecipients; i++) {
		if (r->recipients[i].sealed_len <= crypto_box_SEALBYTES ||
		    r->recipients[i].sealed_len > PROTO_EPOCH_MAX_SEALED)
			abort();
		for (size_t j = 0; j < i; j++)
			if (memcmp(r->recipients[i].id, r->recipients[j].id,
			    PROTO_IDLEN) == 0)
				abort();
	}
}

static int
same(const struct proto_epoch *a, const struct proto_epoch *b)
{
	if (a->what != b->what || a->epoch != b->epoch ||
	    memcmp(a->net_id, b->net_id, PROTO_KEYIDLEN) != 0 ||
	    a->has_removed != b->has_removed ||
	    (a->has_removed && memcmp(a->removed, b->removed,
	    PROTO_IDLEN) != 0) || a->nrecipients != b->nrecipients)
		return 0;
	for (size_t i = 0; i < a->nrecipients; i++)
		if (memcmp(a->recipients[i].id, b->recipients[i].id,
		    PROTO_IDLEN) != 0 ||
		    a->recipients[i].sealed_len != b->recipients[i].sealed_len ||
		    memcmp(a->recipients[i].sealed, b->recipients[i].sealed,
		    a->recipients[i].sealed_len) != 0)
			return 0;
	return 1;
}

static void
open_parts(const struct proto_epoch *r)
{
	static struct proto_epoch_key keys[PROTO_EPOCH_MAX_KEYS];
	size_t n;

	for (size_t i = 0; i < r->nrecipients; i++)
		if (proto_epoch_open(keys, PROTO_EPOCH_MAX_KEYS, &n,
		    r->recipients[i].sealed, r->recipients[i].sealed_len,
		    fuzz_pk, fuzz_sk) == 0 && (n == 0 ||
		    n > PROTO_EPOCH_MAX_KEYS))
			abort();
}

/* The schema's check of the same bytes as the text they travel in. */
static void
check_text(const uint8_t *data, size_t size, int accepted)
{
	size_t cap = sodium_base64_ENCODED_LEN(size,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *b64 = malloc(cap);

	if (b64 == NULL)
		abort();
	sodium_bin2base64(b64, cap, data, size,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((proto_epoch_check(b64, strlen(b64)) == 0) != accepted &&
	    size <= PROTO_EPOCH_MAX_BYTES)
		abort();
	free(b64);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proto_epoch r, again;
	msgpack_sbuffer sb;
	int rc;

	fuzz_keys();
	rc = proto_epoch_decode(&r, data, size);
	check_text(data, size, rc >= 0);
	if (rc != 0)
		return 0;
	check_promises(&r);
	open_parts(&r);
	msgpack_sbuffer_init(&sb);
	if (proto_epoch_encode(&r, &sb) != 0 ||
	    proto_epoch_decode(&again, (const uint8_t *)sb.data,
	    sb.size) != 0 || !same(&r, &again))
		abort();
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	static struct proto_epoch r;
	static uint8_t sealed[2][PROTO_EPOCH_MAX_SEALED];
	struct proto_epoch_key keys[3];
	msgpack_sbuffer sb;
	size_t len[2];
	int rc = 0;

	if (argc != 2)
		return 1;
	fuzz_keys();
	for (size_t i = 0; i < 3; i++) {
		keys[i].epoch = (uint32_t)i;
		keys[i].kind = i == 2 ? EPOCH_KEY_NETWORK : EPOCH_KEY_SECRET;
		memset(keys[i].key, 0x30 + (int)i, PROTO_KEYLEN);
	}
	if (proto_epoch_seal(sealed[0], sizeof(sealed[0]), &len[0], keys, 1,
	    fuzz_pk) != 0 || proto_epoch_seal(sealed[1], sizeof(sealed[1]),
	    &len[1], keys, 3, fuzz_pk) != 0)
		return 1;
	r.what = EPOCH_NEW;
	r.epoch = 1;
	memset(r.net_id, 0x5a, PROTO_KEYIDLEN);
	r.has_removed = 1;
	memset(r.removed, 0x66, PROTO_IDLEN);
	r.nrecipients = 2;
	memcpy(r.recipients[0].id, fuzz_pk, PROTO_IDLEN);
	r.recipients[0].sealed = sealed[0];
	r.recipients[0].sealed_len = len[0];
	memset(r.recipients[1].id, 0x77, PROTO_IDLEN);
	r.recipients[1].sealed = sealed[0];
	r.recipients[1].sealed_len = len[0];
	msgpack_sbuffer_init(&sb);
	if (proto_epoch_encode(&r, &sb) != 0)
		return 1;
	rc |= seed_write(argv[1], "new-epoch", sb.data, sb.size);
	rc |= seed_write(argv[1], "new-epoch-truncated", sb.data, sb.size - 7);

	r.what = EPOCH_GRANT;
	r.has_removed = 0;
	r.epoch = 2;
	r.nrecipients = 1;
	r.recipients[0].sealed = sealed[1];
	r.recipients[0].sealed_len = len[1];
	msgpack_sbuffer_clear(&sb);
	if (proto_epoch_encode(&r, &sb) != 0)
		return 1;
	rc |= seed_write(argv[1], "grant", sb.data, sb.size);
	/* A newer version: reported, not refused. */
	((uint8_t *)sb.data)[1] = 0x02;
	rc |= seed_write(argv[1], "newer-version", sb.data, sb.size);
	rc |= seed_write(argv[1], "empty", sb.data, 0);
	msgpack_sbuffer_destroy(&sb);
	return rc != 0;
}
#endif
