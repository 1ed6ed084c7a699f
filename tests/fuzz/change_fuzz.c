/*
 * libFuzzer target: proto_change_decode reads an opened entry's plaintext,
 * which a peer wrote. It must refuse, never crash; what it accepts must
 * keep the decoder's promises (kind, op types, limits, a value exactly on
 * set/add/remove, no seq 0), re-encode, decode again to an equal change,
 * and re-encode to the same bytes.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/change_fuzz.c \
 *	    proto/change.c proto/mpack.c \
 *	    $(pkg-config --cflags --libs msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/change
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "../unit/change_eq.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
has_value(uint8_t type)
{
	return type == OP_SET || type == OP_ADD || type == OP_REMOVE;
}

static int
op_ok(const struct op *op)
{
	if (op->type < OP_SET || op->type > OP_UNDELETE ||
	    op->field_len > PROTO_MAX_FIELD ||
	    (op->field_len > 0 && op->field == NULL) ||
	    op->value_len > PROTO_MAX_VALUE ||
	    op->npreds > PROTO_MAX_PREDS)
		return 0;
	if (has_value(op->type) ? op->value == NULL :
	    op->value != NULL || op->value_len != 0)
		return 0;
	for (size_t i = 0; i < op->npreds; i++)
		if (op->preds[i].seq == 0)
			return 0;
	return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct change a, b;
	msgpack_sbuffer sb1, sb2;
	int ok;

	if (proto_change_decode(&a, data, size) != 0)
		return 0;
	if (a.kind == 0 || a.kind > KIND_MAX || a.nops == 0 ||
	    a.nops > PROTO_MAX_OPS)
		abort();
	for (size_t i = 0; i < a.nops; i++)
		if (!op_ok(&a.ops[i]))
			abort();

	msgpack_sbuffer_init(&sb1);
	msgpack_sbuffer_init(&sb2);
	if (proto_change_encode(&a, &sb1) != 0 ||
	    proto_change_decode(&b, (const uint8_t *)sb1.data,
	    sb1.size) != 0 || !change_eq(&a, &b))
		abort();
	/* The encoding is a fixed point: one change, one byte form. */
	ok = proto_change_encode(&b, &sb2) == 0 && sb2.size == sb1.size &&
	    memcmp(sb1.data, sb2.data, sb1.size) == 0;
	msgpack_sbuffer_destroy(&sb1);
	msgpack_sbuffer_destroy(&sb2);
	if (!ok)
		abort();
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

static void
seed_op(struct op *op, uint8_t type, const char *field, const char *value,
    size_t npreds)
{
	memset(op, 0, sizeof(*op));
	op->type = type;
	op->field = field;
	op->field_len = strlen(field);
	if (value != NULL) {
		op->value = (const uint8_t *)value;
		op->value_len = strlen(value);
	}
	op->npreds = npreds;
	for (size_t i = 0; i < npreds; i++) {
		memset(op->preds[i].author, 0x30 + (int)i, PROTO_IDLEN);
		op->preds[i].seq = i == 0 ? UINT64_MAX : 1 + i * 300;
	}
}

static int
seed_change(const char *dir, const char *name, const struct change *c,
    size_t cut)
{
	msgpack_sbuffer sb;
	int rc;

	msgpack_sbuffer_init(&sb);
	rc = proto_change_encode(c, &sb);
	if (rc == 0)
		rc = seed_write(dir, name, sb.data, sb.size - cut);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct change c;
	int rc = 0;

	if (argc != 2)
		return 1;

	/* A student's first change: three sets, no preds. */
	memset(&c, 0, sizeof(c));
	memset(c.record_id, 0x11, PROTO_RECIDLEN);
	c.kind = KIND_STUDENT;
	c.nops = 3;
	seed_op(&c.ops[0], OP_SET, "name", "Ana Lopez", 0);
	seed_op(&c.ops[1], OP_SET, "class", "3B", 0);
	seed_op(&c.ops[2], OP_SET, "needs", "fluency", 0);
	rc |= seed_change(argv[1], "student-sets", &c, 0);
	rc |= seed_change(argv[1], "truncated", &c, 7);

	/* Every op type, with preds. */
	c.kind = KIND_GROUP;
	c.nops = 5;
	seed_op(&c.ops[0], OP_SET, "name", "Group A", 1);
	seed_op(&c.ops[1], OP_ADD, "members", "0123456789abcdef", 0);
	seed_op(&c.ops[2], OP_REMOVE, "members", "fedcba9876543210", 2);
	seed_op(&c.ops[3], OP_DELETE, "", NULL, 1);
	seed_op(&c.ops[4], OP_UNDELETE, "", NULL, 3);
	rc |= seed_change(argv[1], "every-op", &c, 0);

	/* The limits: a 32-byte field name and PROTO_MAX_PREDS preds. */
	c.kind = KIND_GOAL;
	c.nops = 1;
	seed_op(&c.ops[0], OP_SET, "a_field_name_of_32_bytes_exactly",
	    "caf\xc3\xa9", PROTO_MAX_PREDS);
	rc |= seed_change(argv[1], "max-field-preds", &c, 0);

	/* A delete alone. */
	c.kind = KIND_NOTE;
	seed_op(&c.ops[0], OP_DELETE, "", NULL, 1);
	rc |= seed_change(argv[1], "delete", &c, 0);

	rc |= seed_write(argv[1], "empty", "", 0);
	return rc != 0;
}
#endif
