/*
 * libFuzzer target: record_decode reads a record's bytes from the store's
 * records table. They are the store's own, yet a damaged file must not
 * crash the reader: it must refuse, never crash or leak. What it accepts
 * must encode again, and that encoding must decode and encode to the same
 * bytes (the canonical form is a fixed point).
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto -Istore tests/fuzz/record_fuzz.c \
 *	    store/record.c store/record_codec.c proto/mpack.c \
 *	    $(pkg-config --cflags --libs msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/record
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record *r, *r2;
	msgpack_sbuffer sb1, sb2;
	int ok;

	if (record_decode(&r, data, size) != 0) {
		if (r != NULL)
			abort();
		return 0;
	}
	if (r == NULL)
		abort();
	msgpack_sbuffer_init(&sb1);
	msgpack_sbuffer_init(&sb2);
	if (record_encode(r, &sb1) != 0 ||
	    record_decode(&r2, (const uint8_t *)sb1.data, sb1.size) != 0)
		abort();
	ok = record_encode(r2, &sb2) == 0 && sb1.size == sb2.size &&
	    memcmp(sb1.data, sb2.data, sb1.size) == 0;
	record_free(r2);
	record_free(r);
	msgpack_sbuffer_destroy(&sb1);
	msgpack_sbuffer_destroy(&sb2);
	if (!ok)
		abort();
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

static int
seed_record(const char *dir, const char *name, const struct record *r,
    size_t cut)
{
	msgpack_sbuffer sb;
	int rc;

	msgpack_sbuffer_init(&sb);
	rc = record_encode(r, &sb);
	if (rc == 0)
		rc = seed_write(dir, name, sb.data, sb.size - cut);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* Applies one op written by (author_byte, seq) at hlc. */
static int
apply(struct record *r, uint8_t type, const char *field, const char *value,
    uint8_t author_byte, uint64_t seq, uint64_t hlc,
    const struct write_ref *pred)
{
	struct write_ref ref;
	struct op op;

	memset(&op, 0, sizeof(op));
	op.type = type;
	op.field = field;
	op.field_len = strlen(field);
	if (value != NULL) {
		op.value = (const uint8_t *)value;
		op.value_len = strlen(value);
	}
	if (pred != NULL) {
		op.npreds = 1;
		op.preds[0] = *pred;
	}
	memset(ref.author, author_byte, PROTO_IDLEN);
	ref.seq = seq;
	return record_apply(r, hlc, &ref, &op, NULL);
}

int
main(int argc, char **argv)
{
	uint8_t id[PROTO_RECIDLEN];
	struct write_ref w;
	struct record *r;
	int rc = 0;

	if (argc != 2)
		return 1;
	memset(id, 0x42, sizeof(id));

	/* A student: plain fields, a replaced write, a conflict. */
	if ((r = record_new(KIND_STUDENT, id)) == NULL)
		return 1;
	memset(w.author, 0xa1, PROTO_IDLEN);
	w.seq = 1;
	rc |= apply(r, OP_SET, "name", "Ana Lopez", 0xa1, 1, 100, NULL);
	rc |= apply(r, OP_SET, "class", "3B", 0xa1, 1, 100, NULL);
	rc |= apply(r, OP_SET, "name", "Ana L\xc3\xb3pez", 0xa1, 2, 200, &w);
	rc |= apply(r, OP_SET, "needs", "fluency", 0xa1, 3, 300, NULL);
	rc |= apply(r, OP_SET, "needs", "phonics", 0xb2, 1, 301, NULL);
	rc |= seed_record(argv[1], "student-conflict", r, 0);
	rc |= seed_record(argv[1], "truncated", r, 9);
	record_free(r);

	/* A group: a set with adds, a remove, a re-add. */
	if ((r = record_new(KIND_GROUP, id)) == NULL)
		return 1;
	rc |= apply(r, OP_SET, "name", "Group A", 0xa1, 4, 400, NULL);
	rc |= apply(r, OP_ADD, "members", "ana", 0xa1, 5, 500, NULL);
	rc |= apply(r, OP_ADD, "members", "ben", 0xa1, 6, 600, NULL);
	w.seq = 6;
	rc |= apply(r, OP_REMOVE, "members", "ben", 0xb2, 2, 700, &w);
	rc |= apply(r, OP_ADD, "members", "ben", 0xb2, 3, 800, NULL);
	rc |= apply(r, OP_ADD, "tags", "", 0xb2, 4, 900, NULL);
	rc |= seed_record(argv[1], "group-set", r, 0);
	record_free(r);

	/* A deleted note, then a record with nothing in it. */
	if ((r = record_new(KIND_NOTE, id)) == NULL)
		return 1;
	rc |= apply(r, OP_SET, "action", "re-read chapter 2", 0xa1, 7, 1000,
	    NULL);
	rc |= apply(r, OP_DELETE, "", NULL, 0xa1, 8, 1100, NULL);
	rc |= seed_record(argv[1], "deleted", r, 0);
	record_free(r);
	if ((r = record_new(KIND_GOAL, id)) == NULL)
		return 1;
	rc |= seed_record(argv[1], "bare", r, 0);
	record_free(r);

	rc |= seed_write(argv[1], "empty", "", 0);
	return rc != 0;
}
#endif
