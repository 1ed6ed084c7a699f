/*
 * libFuzzer target: the erase record's decoder. An erase's "drop" field
 * is a list of entries (author, seq, hash) written by any member
 * (proto_erase_decode); every device, the box included, reads it to know
 * which ciphertexts to drop. It must refuse, never crash; what it
 * accepts is strictly ascending and has one spelling: encoding the refs
 * again gives the input byte for byte. The same bytes as the "drop" of
 * a whole erase change must pass the schema exactly when the decoder
 * takes them (a newer version included).
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/erase_fuzz.c \
 *	    proto/erase.c proto/schema.c proto/members.c proto/epoch.c \
 *	    proto/receipt.c proto/text.c proto/mpack.c \
 *	    $(pkg-config --cflags --libs msgpack libsodium libutf8proc) \
 *	    -o seeds && ./seeds tests/fuzz/corpus/erase
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The bytes as the drop list of an addendum. */
static int
as_erase(const uint8_t *data, size_t size)
{
	struct change c;
	const char *why;

	memset(&c, 0, sizeof(c));
	c.kind = KIND_ERASE;
	memset(c.record_id, 0x42, PROTO_RECIDLEN);
	c.nops = 1;
	c.ops[0].type = OP_SET;
	c.ops[0].field = "drop";
	c.ops[0].field_len = 4;
	c.ops[0].value = data;
	c.ops[0].value_len = size;
	return proto_change_validate(&c, PROTO_KEY_ERASE, &why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct write_ref refs[PROTO_ERASE_MAX_REFS];
	char *text;
	size_t n, len;
	int rc;

	if (size > PROTO_MAX_VALUE)
		return 0;
	rc = proto_erase_decode((const char *)data, size, refs,
	    PROTO_ERASE_MAX_REFS, &n);
	if (rc != 0 && rc != -1 && rc != PROTO_ERASE_NEWER)
		abort();
	if ((rc >= 0) != (as_erase(data, size) == 0))
		abort();
	if (rc != 0)
		return 0;
	if (n == 0 || n > PROTO_ERASE_MAX_REFS)
		abort();
	for (size_t i = 0; i < n; i++)
		if (refs[i].seq == 0 || !refs[i].has_hash ||
		    (i > 0 && (memcmp(refs[i - 1].author, refs[i].author,
		    PROTO_IDLEN) > 0 || (memcmp(refs[i - 1].author,
		    refs[i].author, PROTO_IDLEN) == 0 &&
		    refs[i - 1].seq >= refs[i].seq))))
			abort();
	/* Sorting what is sorted changes nothing. */
	len = n;
	proto_erase_sort(refs, &len);
	if (len != n)
		abort();
	if (proto_erase_encode(refs, n, &text, &len) != 0)
		abort();
	if (len != size || memcmp(text, data, size) != 0)
		abort();
	free(text);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include <sodium.h>

#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

static int
seed_list(const char *dir, const char *name, const struct write_ref *refs,
    size_t n)
{
	char *text;
	size_t len;
	int rc;

	if (proto_erase_encode(refs, n, &text, &len) != 0)
		return -1;
	rc = seed_write(dir, name, text, len);
	free(text);
	return rc;
}

/* msgpack bytes as the base64 a drop field holds. */
static int
seed_raw(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char buf[512];

	sodium_bin2base64(buf, sizeof(buf), p, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return seed_write(dir, name, buf, strlen(buf));
}

int
main(int argc, char **argv)
{
	static const uint8_t newer[] = { 0x92, 0x02, 0x90 };
	static const uint8_t empty[] = { 0x92, 0x01, 0x90 };
	static const uint8_t zero_seq[] = { 0x92, 0x01, 0x91, 0x93,
	    0xc4, 0x01, 0x00, 0x00, 0xc4, 0x01, 0x00 };
	struct write_ref refs[3];
	int rc = 0;

	if (argc != 2)
		return 1;
	memset(refs, 0, sizeof(refs));
	for (int i = 0; i < 3; i++) {
		memset(refs[i].author, i < 2 ? 0x11 : 0x22, PROTO_IDLEN);
		refs[i].seq = i == 1 ? 300 : i + 1;
		memset(refs[i].hash, 0xa0 + i, PROTO_HASHLEN);
		refs[i].has_hash = 1;
	}
	rc |= seed_list(argv[1], "one", refs, 1);
	rc |= seed_list(argv[1], "three", refs, 3);
	refs[0].seq = UINT64_C(9223372036854775807);
	rc |= seed_write(argv[1], "not-base64", "kgGR*", 5);
	rc |= seed_raw(argv[1], "newer", newer, sizeof(newer));
	rc |= seed_raw(argv[1], "empty-list", empty, sizeof(empty));
	rc |= seed_raw(argv[1], "short-bins", zero_seq, sizeof(zero_seq));
	rc |= seed_write(argv[1], "empty", "", 0);
	return rc != 0;
}
#endif
