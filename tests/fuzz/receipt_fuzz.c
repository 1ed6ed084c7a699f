/*
 * libFuzzer target: the receipt decoder. A receipt's "holds" and "self"
 * fields are vector text written by any member (proto_vector_each); the
 * schema checks them, and the exposure report reads them. It must refuse,
 * never crash, and what it accepts has one spelling: writing its items
 * again with proto_vector_put gives the input byte for byte. The same
 * bytes as a whole receipt change must pass the schema exactly when they
 * pass the vector check.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/receipt_fuzz.c \
 *	    proto/receipt.c proto/schema.c proto/text.c \
 *	    $(pkg-config --cflags --libs msgpack libsodium libutf8proc) \
 *	    -o seeds && ./seeds tests/fuzz/corpus/receipt
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct rewrite {
	char	*out;
	size_t	 len, cap;
};

static int
put_cb(const uint8_t *author, uint64_t seq, void *arg)
{
	struct rewrite *w = arg;

	return proto_vector_put(w->out, w->cap, &w->len, author, seq) != 0 ?
	    1 : 0;
}

/* The bytes as the holds of a receipt about an all-zero device id. */
static int
as_receipt(const uint8_t *data, size_t size)
{
	static const char dev[] = "00000000000000000000000000000000"
	    "00000000000000000000000000000000";
	uint8_t zero[PROTO_IDLEN] = { 0 };
	struct change c;
	const char *why;

	memset(&c, 0, sizeof(c));
	c.kind = KIND_RECEIPT;
	proto_receipt_id(zero, c.record_id);
	c.nops = 2;
	c.ops[0].type = OP_SET;
	c.ops[0].field = "device";
	c.ops[0].field_len = 6;
	c.ops[0].value = (const uint8_t *)dev;
	c.ops[0].value_len = sizeof(dev) - 1;
	c.ops[1].type = OP_SET;
	c.ops[1].field = "holds";
	c.ops[1].field_len = 5;
	c.ops[1].value = data;
	c.ops[1].value_len = size;
	return proto_change_validate(&c, PROTO_KEY_RECEIPT, &why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rewrite w;
	int rc;

	if (size > PROTO_MAX_VALUE)
		return 0;
	rc = proto_vector_each((const char *)data, size, NULL, NULL);
	if (rc != 0 && rc != -1)
		abort();
	if ((rc == 0) != (as_receipt(data, size) == 0))
		abort();
	(void)proto_time_check((const char *)data, size);
	if (rc != 0)
		return 0;
	w.cap = size + 1;
	w.len = 0;
	if ((w.out = malloc(w.cap)) == NULL)
		return 0;
	w.out[0] = '\0';
	if (proto_vector_each((const char *)data, size, put_cb, &w) != 0 ||
	    w.len != size || memcmp(w.out, data, size) != 0)
		abort();
	free(w.out);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	static const char a[] = "1111111111111111111111111111111111111111111111"
	    "111111111111111111";
	static const char b[] = "abababababababababababababababababababababab"
	    "abababababababababababab";
	char buf[512];
	int rc = 0;

	if (argc != 2)
		return 1;
	rc |= seed_write(argv[1], "empty", "", 0);
	snprintf(buf, sizeof(buf), "%s:1", a);
	rc |= seed_write(argv[1], "one", buf, strlen(buf));
	snprintf(buf, sizeof(buf), "%s:7,%s:9223372036854775807", a, b);
	rc |= seed_write(argv[1], "two", buf, strlen(buf));
	snprintf(buf, sizeof(buf), "%s:7,%s:1", b, a);
	rc |= seed_write(argv[1], "descending", buf, strlen(buf));
	snprintf(buf, sizeof(buf), "%s:07", a);
	rc |= seed_write(argv[1], "leading-zero", buf, strlen(buf));
	snprintf(buf, sizeof(buf), "%s:9223372036854775808", a);
	rc |= seed_write(argv[1], "too-big", buf, strlen(buf));
	snprintf(buf, sizeof(buf), "%s:1,", a);
	rc |= seed_write(argv[1], "trailing-comma", buf, strlen(buf));
	rc |= seed_write(argv[1], "time", "1790000000000", 13);
	return rc != 0;
}
#endif
