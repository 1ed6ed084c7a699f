/*
 * libFuzzer target: recstore_decode reads a record as the records table
 * holds it (store/recstore.c), once unsealed. The bytes are the store's
 * own, yet a damaged file must not crash the reader: it must refuse,
 * never crash or leak. What it accepts must encode again, and that
 * encoding must decode and encode to the same bytes: the canonical form
 * the digest is taken over is a fixed point.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * seed files into the directory named by its argument (see main below).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_fixed_point(const struct record *r, const struct rec_stored *s)
{
	struct rec_stored s2;
	struct record *r2;
	msgpack_sbuffer sb1, sb2;
	int ok;

	msgpack_sbuffer_init(&sb1);
	msgpack_sbuffer_init(&sb2);
	if (recstore_encode(r, s, &sb1) != 0)
		abort();	/* a decoded record always encodes */
	if (recstore_decode((const uint8_t *)sb1.data, sb1.size, &r2,
	    &s2) != 0)
		abort();
	ok = recstore_encode(r2, &s2, &sb2) == 0 && sb1.size == sb2.size &&
	    memcmp(sb1.data, sb2.data, sb1.size) == 0;
	record_free(r2);
	recstore_free(&s2);
	msgpack_sbuffer_destroy(&sb1);
	msgpack_sbuffer_destroy(&sb2);
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_stored s;
	struct record *r;

	if (recstore_decode(data, size, &r, &s) != 0)
		return 0;
	check_fixed_point(r, &s);
	record_free(r);
	recstore_free(&s);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
/*
 *	cc -DSATCHEL_FUZZ_SEEDS -D_DEFAULT_SOURCE -Iproto -Istore \
 *	    tests/fuzz/recstore_fuzz.c store/recstore.c store/record.c \
 *	    store/record_codec.c store/log.c ... (the store and proto objects)
 * or link against build/test's objects; then ./seeds DIR.
 */
static void
seed(const char *dir, const char *name, const struct record *r,
    const struct rec_stored *s)
{
	char path[4096];
	msgpack_sbuffer sb;
	FILE *f;

	msgpack_sbuffer_init(&sb);
	if (recstore_encode(r, s, &sb) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(sb.data, 1, sb.size, f) != sb.size || fclose(f) != 0)
		abort();
	msgpack_sbuffer_destroy(&sb);
}

int
main(int argc, char **argv)
{
	static const uint8_t id[PROTO_RECIDLEN] = { 1, 2, 3 };
	struct write_ref a = { { 0xaa }, 1, { 0x11 }, 1 };
	struct write_ref b = { { 0xbb }, 7, { 0x22 }, 1 };
	struct rec_stored s = { 0, 0, NULL };
	struct record *r = record_new(KIND_NOTE, id);
	struct op op;

	if (argc != 2 || r == NULL)
		return 2;
	seed(argv[1], "empty", r, &s);
	memset(&op, 0, sizeof(op));
	op.type = OP_SET;
	op.field = "strengths";
	op.field_len = 9;
	op.value = (const uint8_t *)"x";
	op.value_len = 1;
	if (record_apply(r, 100, &a, &op, NULL) != 0 ||
	    recstore_hist_add(&s, 100, &a) != 0)
		return 1;
	seed(argv[1], "one-write", r, &s);
	op.type = OP_ADD;
	op.field = "tags";
	op.field_len = 4;
	op.value = (const uint8_t *)"math";
	op.value_len = 4;
	if (record_apply(r, 90, &b, &op, NULL) != 0 ||
	    recstore_hist_add(&s, 90, &b) != 0)
		return 1;
	op.type = OP_SET;
	op.field = "obstacle";
	op.field_len = 8;
	op.npreds = 1;
	op.preds[0] = b;
	op.preds[0].seq = 99;	/* a write not applied yet: kept */
	if (record_apply(r, 90, &b, &op, NULL) != 0)
		return 1;
	seed(argv[1], "conflict-and-tag", r, &s);
	record_free(r);
	recstore_free(&s);
	return 0;
}
#endif
