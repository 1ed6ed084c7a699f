/*
 * libFuzzer target: proto_change_decode reads an opened entry's plaintext,
 * which a peer wrote, and proto_change_validate then judges its content.
 * Both must refuse, never crash. What decode accepts must keep its
 * promises of shape (limits, a reference's hash always from v2 on and
 * only by a mark in v1, no seq 0; a newer version recognised, never
 * refused); what validation accepts must keep the schema's (a known kind,
 * op types, a value exactly on set/add/remove, no field on a tombstone).
 * A valid change whose references all carry their hash re-encodes (v1
 * with hash marks, or v2), decodes again to an equal change that
 * validates alike, and re-encodes to the same bytes; one with a reference
 * without hash (a v1 change from the previous release) cannot be written
 * again.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/change_fuzz.c \
 *	    proto/change.c proto/mpack.c proto/schema.c \
 *	    $(pkg-config --cflags --libs msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/change
 * It writes the seeds named *-marks (v1 layout with hash marks), v1-pred,
 * v2-max-preds and newer-v3; the other v2-* are the v2 layout as the
 * first v2 encoder wrote it, and the rest v1 changes from before v2.
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

/* What decode promises of any op it accepts. */
static int
op_shape_ok(const struct change *c, const struct op *op)
{
	if (op->field_len > PROTO_MAX_FIELD ||
	    (op->field_len > 0 && op->field == NULL) ||
	    op->value_len > PROTO_MAX_VALUE ||
	    (op->value == NULL && op->value_len != 0) ||
	    op->npreds > (c->version >= 2 ? PROTO_MAX_PREDS : 8))
		return 0;
	for (size_t i = 0; i < op->npreds; i++)
		if (op->preds[i].seq == 0 || (c->version >= 2 ?
		    !op->preds[i].has_hash : op->preds[i].seq == UINT64_MAX))
			return 0;	/* v1: 2^64-1 marks a hash */
	return 1;
}

/* What validation promises of any op it accepts. */
static int
op_content_ok(const struct op *op)
{
	if (op->type < OP_SET || op->type > OP_UNDELETE)
		return 0;
	if (has_value(op->type))
		return op->value != NULL && op->field_len > 0;
	return op->value == NULL && op->field_len == 0;
}

/* 0 if c validates under key use; why is set exactly on a refusal. */
static int
validates(const struct change *c, int key)
{
	const char *why = NULL;
	int rc = proto_change_validate(c, key, &why);

	if ((rc == 0) != (why == NULL) || (rc != 0 && rc != -1))
		abort();
	return rc;
}

static void
check_content(const struct change *c)
{
	int any = validates(c, 0), content = validates(c,
	    PROTO_KEY_CONTENT), network = validates(c, PROTO_KEY_NETWORK);

	/* A key use only narrows, and never both at once. */
	if ((content == 0 || network == 0) != (any == 0) ||
	    (content == 0 && network == 0))
		abort();
	if (any != 0)
		return;
	if (c->kind == 0 || c->kind > KIND_MAX ||
	    (network == 0) != (c->kind == KIND_MEMBER))
		abort();
	for (size_t i = 0; i < c->nops; i++)
		if (!op_content_ok(&c->ops[i]))
			abort();
}

static int
any_hashless(const struct change *c)
{
	for (size_t i = 0; i < c->nops; i++)
		for (size_t j = 0; j < c->ops[i].npreds; j++)
			if (!c->ops[i].preds[j].has_hash)
				return 1;
	return 0;
}

/* Re-encoding: only with every hash, a fixed point, validated alike. */
static void
check_reencode(const struct change *a)
{
	static struct change b;
	msgpack_sbuffer sb1, sb2;
	int ok, enc;

	msgpack_sbuffer_init(&sb1);
	msgpack_sbuffer_init(&sb2);
	enc = proto_change_encode(a, &sb1);
	if (any_hashless(a)) {
		msgpack_sbuffer_destroy(&sb1);
		if (enc == 0)
			abort();	/* a reference without its hash */
		return;
	}
	if (enc != 0 || proto_change_decode(&b, (const uint8_t *)sb1.data,
	    sb1.size) != 0 || b.version < 1 ||
	    b.version > PROTO_CHANGE_VERSION || !change_eq(a, &b) || validates(a, 0) != validates(&b, 0))
		abort();
	/* The encoding is a fixed point: one change, one byte form. */
	ok = proto_change_encode(&b, &sb2) == 0 && sb2.size == sb1.size &&
	    memcmp(sb1.data, sb2.data, sb1.size) == 0;
	msgpack_sbuffer_destroy(&sb1);
	msgpack_sbuffer_destroy(&sb2);
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct change a;
	int rc = proto_change_decode(&a, data, size);

	if (rc == PROTO_CHANGE_NEWER) {
		if (a.version <= PROTO_CHANGE_VERSION)
			abort();
		return 0;
	}
	if (rc != 0) {
		if (rc != -1)
			abort();
		return 0;
	}
	if (a.version < 1 || a.version > PROTO_CHANGE_VERSION ||
	    a.nops == 0 || a.nops > PROTO_MAX_OPS)
		abort();
	for (size_t i = 0; i < a.nops; i++)
		if (!op_shape_ok(&a, &a.ops[i]))
			abort();
	check_content(&a);
	if (validates(&a, 0) == 0)
		check_reencode(&a);
	else {
		/* Only valid changes are written; this must just not crash. */
		msgpack_sbuffer sb;

		msgpack_sbuffer_init(&sb);
		(void)!proto_change_encode(&a, &sb);
		msgpack_sbuffer_destroy(&sb);
	}
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
		memset(op->preds[i].hash, 0x90 + (int)i, PROTO_HASHLEN);
		op->preds[i].has_hash = 1;
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

/* A version 1 change by hand: [id, kind, [[type, field, value,
 * [[author, seq]]]]], and one of a version this code does not know. */
static int
seed_by_hand(const char *dir)
{
	static const uint8_t id[PROTO_RECIDLEN], author[PROTO_IDLEN];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_bin_with_body(&pk, id, sizeof(id));
	msgpack_pack_uint8(&pk, KIND_STUDENT);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, OP_SET);
	msgpack_pack_str_with_body(&pk, "name", 4);
	msgpack_pack_str_with_body(&pk, "Ana", 3);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_bin_with_body(&pk, author, sizeof(author));
	msgpack_pack_uint8(&pk, 3);
	rc = seed_write(dir, "v1-pred", sb.data, sb.size);
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 5);
	msgpack_pack_uint8(&pk, PROTO_CHANGE_VERSION + 1);
	msgpack_pack_bin_with_body(&pk, id, sizeof(id));
	msgpack_pack_str_with_body(&pk, "a field v3 added", 16);
	msgpack_pack_nil(&pk);
	msgpack_pack_array(&pk, 0);
	rc |= seed_write(dir, "newer-v3", sb.data, sb.size);
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
	seed_op(&c.ops[2], OP_SET, "needs", "fluency", 2);
	rc |= seed_change(argv[1], "student-sets-marks", &c, 0);
	rc |= seed_change(argv[1], "truncated-marks", &c, 7);

	/* Every op type, with preds. */
	c.kind = KIND_GROUP;
	c.nops = 4;
	seed_op(&c.ops[0], OP_SET, "name", "Group A", 1);
	seed_op(&c.ops[1], OP_ADD, "members",
	    "0123456789abcdef0123456789abcdef", 0);
	seed_op(&c.ops[2], OP_REMOVE, "members",
	    "fedcba9876543210fedcba9876543210", 2);
	seed_op(&c.ops[3], OP_DELETE, "", NULL, 1);
	rc |= seed_change(argv[1], "every-op-marks", &c, 0);
	seed_op(&c.ops[3], OP_UNDELETE, "", NULL, 3);
	rc |= seed_change(argv[1], "undelete-marks", &c, 0);

	/* The limits: a checkpoint field and PROTO_MAX_PREDS preds. */
	c.kind = KIND_GOAL;
	c.nops = 1;
	seed_op(&c.ops[0], OP_SET, "cp9_text", "caf\xc3\xa9",
	    PROTO_MAX_PREDS);
	rc |= seed_change(argv[1], "v2-max-preds", &c, 0);

	/* Well-formed but refused by the schema: a bad date. */
	c.kind = KIND_NOTE;
	seed_op(&c.ops[0], OP_SET, "date", "2026-13-45", 1);
	rc |= seed_change(argv[1], "bad-date-marks", &c, 0);

	/* A member, under the network key. */
	c.kind = KIND_MEMBER;
	memset(c.record_id, 0xab, PROTO_RECIDLEN);
	seed_op(&c.ops[0], OP_SET, "device", "abababababababababababababababab"
	    "00000000000000000000000000000000", 0);
	rc |= seed_change(argv[1], "member-marks", &c, 0);

	rc |= seed_by_hand(argv[1]);
	return rc != 0;
}
#endif

