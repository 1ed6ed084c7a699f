/*
 * libFuzzer target: record_decode reads a record's bytes from the store's
 * records table. They are the store's own, yet a damaged file must not
 * crash the reader: it must refuse, never crash or leak. What it accepts
 * must encode again, and that encoding must decode and encode to the same
 * bytes (the canonical form is a fixed point). Then the merge runs on
 * what was decoded, with no oracle and with one: writes naming its heads
 * (and a forged hash), removes naming its tags, adds, a delete. It must
 * not crash, and the result must again be a canonical fixed point.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto -Istore tests/fuzz/record_fuzz.c \
 *	    store/record.c store/record_codec.c proto/mpack.c \
 *	    $(pkg-config --cflags --libs msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/record
 * The seeds named v2-* are written by it; the others hold references
 * without hashes, from before change v2.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* encode(decode(encode(r))) == encode(r); aborts otherwise. */
static void
check_fixed_point(const struct record *r)
{
	struct record *r2;
	msgpack_sbuffer sb1, sb2;
	int ok;

	msgpack_sbuffer_init(&sb1);
	msgpack_sbuffer_init(&sb2);
	if (record_encode(r, &sb1) != 0 ||
	    record_decode(&r2, (const uint8_t *)sb1.data, sb1.size) != 0)
		abort();
	ok = record_encode(r2, &sb2) == 0 && sb1.size == sb2.size &&
	    memcmp(sb1.data, sb2.data, sb1.size) == 0;
	record_free(r2);
	msgpack_sbuffer_destroy(&sb1);
	msgpack_sbuffer_destroy(&sb2);
	if (!ok)
		abort();
}

/* A made-up history: by seq, a write was applied with the hash its
 * reference names, applied with another hash, or not applied. */
static int
fuzz_applied(void *arg, const struct write_ref *ref,
    uint8_t hash[PROTO_HASHLEN])
{
	(void)arg;
	switch (ref->seq % 3) {
	case 0:
		memset(hash, 0x5a, PROTO_HASHLEN);
		return 1;
	case 1:
		memcpy(hash, ref->hash, PROTO_HASHLEN);
		return 1;
	default:
		return 0;
	}
}

struct fuzz_writer {
	struct write_ref ref;		/* the next entry's name */
	uint64_t	 hlc;
};

static void
next_entry(struct fuzz_writer *w)
{
	w->ref.seq++;
	w->ref.hash[0]++;
	w->hlc += 1000;
}

/* op names what reg holds, and a write of its first head's author still
 * to come, with a forged hash. */
static void
name_heads(struct op *op, const struct rec_register *reg)
{
	for (size_t h = 0; h < reg->nheads && op->npreds < 8; h++)
		op->preds[op->npreds++] = reg->heads[h].ref;
	if (reg->nheads > 0 && op->npreds < PROTO_MAX_PREDS) {
		struct write_ref *f = &op->preds[op->npreds++];

		*f = reg->heads[0].ref;
		f->seq++;
		memset(f->hash, 0x77, PROTO_HASHLEN);
		f->has_hash = 1;
	}
}

static void
merge_some(struct record *r, const struct rec_oracle *o)
{
	static struct op op;
	struct fuzz_writer w;

	memset(&w, 0, sizeof(w));
	memset(w.ref.author, 0xee, PROTO_IDLEN);
	w.ref.has_hash = 1;
	for (size_t i = 0; i < r->nregs && i < 4; i++) {
		/* The name is copied: applying may move the registers. */
		static char name[PROTO_MAX_FIELD + 1];

		memcpy(name, r->regs[i].name, sizeof(name));
		memset(&op, 0, sizeof(op));
		op.type = strcmp(name, RECORD_DELETED_FIELD) == 0 ?
		    OP_DELETE : OP_SET;
		op.field = op.type == OP_SET ? name : "";
		op.field_len = strlen(op.field);
		op.value = (const uint8_t *)(op.type == OP_SET ? "x" : NULL);
		op.value_len = op.type == OP_SET;
		name_heads(&op, &r->regs[i]);
		next_entry(&w);
		if (record_apply(r, w.hlc, &w.ref, &op, o) != 0)
			abort();	/* only out of memory */
		record_settle(r, &w.ref);
	}
	for (size_t i = 0; i < r->nsets && i < 2; i++)
		for (size_t j = 0; j < 4 && j < r->sets[i].nelems; j++) {
			const struct rec_elem *e = &r->sets[i].elems[j];
			static char value[PROTO_MAX_ELEM + 1];
			size_t len = e->value_len < PROTO_MAX_ELEM ?
			    e->value_len : PROTO_MAX_ELEM;

			static char name[PROTO_MAX_FIELD + 1];

			memcpy(value, e->value, len);
			memcpy(name, r->sets[i].name, sizeof(name));
			memset(&op, 0, sizeof(op));
			op.type = j % 2 == 0 ? OP_REMOVE : OP_ADD;
			op.field = name;
			op.field_len = strlen(op.field);
			op.value = (const uint8_t *)value;
			op.value_len = len;
			for (size_t k = 0; op.type == OP_REMOVE &&
			    k < e->nadds && k < 8; k++)
				op.preds[op.npreds++] = e->adds[k];
			next_entry(&w);
			/* The element may move or go: e is not used after. */
			if (record_apply(r, w.hlc, &w.ref, &op, o) != 0)
				abort();
			record_settle(r, &w.ref);
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_oracle o = { fuzz_applied, NULL };
	struct record *r, *r2;

	if (record_decode(&r, data, size) != 0) {
		if (r != NULL)
			abort();
		return 0;
	}
	if (r == NULL)
		abort();
	check_fixed_point(r);
	if (record_decode(&r2, data, size) != 0)
		abort();
	merge_some(r, NULL);
	check_fixed_point(r);
	merge_some(r2, &o);
	check_fixed_point(r2);
	record_free(r2);
	record_free(r);
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
	memset(ref.hash, (int)(author_byte ^ seq), PROTO_HASHLEN);
	ref.has_hash = 1;
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
	memset(w.hash, 0xa1 ^ 1, PROTO_HASHLEN);
	w.has_hash = 1;
	rc |= apply(r, OP_SET, "name", "Ana Lopez", 0xa1, 1, 100, NULL);
	rc |= apply(r, OP_SET, "class", "3B", 0xa1, 1, 100, NULL);
	rc |= apply(r, OP_SET, "name", "Ana L\xc3\xb3pez", 0xb2, 2, 200, &w);
	rc |= apply(r, OP_SET, "needs", "fluency", 0xa1, 3, 300, NULL);
	rc |= apply(r, OP_SET, "needs", "phonics", 0xb2, 3, 301, NULL);
	rc |= seed_record(argv[1], "v2-student-conflict", r, 0);
	rc |= seed_record(argv[1], "v2-truncated", r, 9);

	/* References to writes still to come: kept until they arrive. */
	memset(w.author, 0xc3, PROTO_IDLEN);
	w.seq = 9;
	rc |= apply(r, OP_SET, "class", "4A", 0xb2, 4, 400, &w);
	rc |= apply(r, OP_ADD, "tags", "late", 0xb2, 5, 500, NULL);
	rc |= apply(r, OP_REMOVE, "tags", "early", 0xa1, 4, 600, &w);
	rc |= seed_record(argv[1], "v2-kept", r, 0);
	record_free(r);

	/* A group: a set with adds, a remove, a re-add. */
	if ((r = record_new(KIND_GROUP, id)) == NULL)
		return 1;
	rc |= apply(r, OP_SET, "name", "Group A", 0xa1, 4, 400, NULL);
	rc |= apply(r, OP_ADD, "members", "ana", 0xa1, 5, 500, NULL);
	rc |= apply(r, OP_ADD, "members", "ben", 0xa1, 6, 600, NULL);
	memset(w.author, 0xa1, PROTO_IDLEN);
	w.seq = 6;
	memset(w.hash, 0xa1 ^ 6, PROTO_HASHLEN);
	rc |= apply(r, OP_REMOVE, "members", "ben", 0xb2, 2, 700, &w);
	rc |= apply(r, OP_ADD, "members", "ben", 0xb2, 3, 800, NULL);
	rc |= apply(r, OP_ADD, "members", "ana", 0xc3, 1, 850, NULL);
	rc |= apply(r, OP_ADD, "tags", "", 0xb2, 4, 900, NULL);
	rc |= seed_record(argv[1], "v2-group-set", r, 0);
	record_free(r);

	/* A deleted note, undeleted by another at once. */
	if ((r = record_new(KIND_NOTE, id)) == NULL)
		return 1;
	rc |= apply(r, OP_SET, "action", "re-read chapter 2", 0xa1, 7, 1000,
	    NULL);
	rc |= apply(r, OP_DELETE, "", NULL, 0xa1, 8, 1100, NULL);
	rc |= apply(r, OP_UNDELETE, "", NULL, 0xb2, 8, 1100, NULL);
	rc |= seed_record(argv[1], "v2-delete-conflict", r, 0);
	record_free(r);
	return rc != 0;
}
#endif
