/*
 * The merge: applying ops to a record's state. The state after a set of
 * entries is a function of that set alone, never of the order it arrived
 * in, and record_encode writes it in one canonical byte form, so two
 * devices that hold the same entries hold byte-identical records.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"

int
write_ref_cmp(const struct write_ref *a, const struct write_ref *b)
{
	int c = memcmp(a->author, b->author, PROTO_IDLEN);

	if (c != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Heads sort winner first: the greater (hlc, author, seq). */
static int
write_order(const struct rec_write *a, const struct rec_write *b)
{
	if (a->hlc != b->hlc)
		return a->hlc > b->hlc ? -1 : 1;
	return -write_ref_cmp(&a->ref, &b->ref);
}

static int
bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Grows *arr (of *n items of size sz) by one slot at index at. */
static int
insert_slot(void **arr, size_t *n, size_t sz, size_t at)
{
	char *p = realloc(*arr, (*n + 1) * sz);

	if (p == NULL)
		return -1;
	memmove(p + (at + 1) * sz, p + at * sz, (*n - at) * sz);
	*arr = p;
	(*n)++;
	return 0;
}

static void
remove_slot(void *arr, size_t *n, size_t sz, size_t at)
{
	char *p = arr;

	memmove(p + at * sz, p + (at + 1) * sz, (*n - at - 1) * sz);
	(*n)--;
}

/* Binary search in a sorted ref array: 1 if found; *at is the slot. */
static int
ref_find(const struct write_ref *refs, size_t n, const struct write_ref *r,
    size_t *at)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = write_ref_cmp(&refs[mid], r);

		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

/* Adds r to a sorted set of refs; 0 if added or already there. */
static int
ref_add(struct write_ref **refs, size_t *n, const struct write_ref *r)
{
	size_t at;

	if (ref_find(*refs, *n, r, &at))
		return 0;
	if (insert_slot((void **)refs, n, sizeof(**refs), at) == -1)
		return -1;
	(*refs)[at] = *r;
	return 0;
}

static char *
dup_value(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

struct record *
record_new(uint8_t kind, const uint8_t id[PROTO_RECIDLEN])
{
	struct record *r = calloc(1, sizeof(*r));

	if (r != NULL) {
		r->kind = kind;
		memcpy(r->id, id, PROTO_RECIDLEN);
	}
	return r;
}

void
record_free(struct record *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nregs; i++) {
		for (size_t j = 0; j < r->regs[i].nheads; j++)
			free(r->regs[i].heads[j].value);
		free(r->regs[i].heads);
		free(r->regs[i].sup);
	}
	for (size_t i = 0; i < r->nsets; i++) {
		for (size_t j = 0; j < r->sets[i].nelems; j++) {
			free(r->sets[i].elems[j].value);
			free(r->sets[i].elems[j].adds);
			free(r->sets[i].elems[j].rems);
		}
		free(r->sets[i].elems);
	}
	free(r->regs);
	free(r->sets);
	free(r);
}

/* Finds the named register or set; with create, makes it. The name
 * arrays start each struct, so one search serves both. */
static void *
named_slot(void **arr, size_t *n, size_t sz, const char *name,
    size_t name_len, int create)
{
	size_t lo = 0, hi = *n, at;
	char *base = *arr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *mname = base + mid * sz;
		int c = bytes_cmp(mname, strlen(mname), name, name_len);

		if (c == 0)
			return base + mid * sz;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!create || name_len > PROTO_MAX_FIELD)
		return NULL;
	at = lo;
	if (insert_slot(arr, n, sz, at) == -1)
		return NULL;
	base = *arr;
	memset(base + at * sz, 0, sz);
	memcpy(base + at * sz, name, name_len);
	return base + at * sz;
}

static struct rec_register *
reg_slot(struct record *r, const char *name, size_t len, int create)
{
	return named_slot((void **)&r->regs, &r->nregs, sizeof(*r->regs),
	    name, len, create);
}

static struct rec_set *
set_slot(struct record *r, const char *name, size_t len, int create)
{
	return named_slot((void **)&r->sets, &r->nsets, sizeof(*r->sets),
	    name, len, create);
}

/* A write's heads: every arrived write that no write names as replaced. */
static int
reg_write(struct rec_register *reg, uint64_t hlc, const struct write_ref *ref,
    const uint8_t *value, size_t value_len, const struct op *op)
{
	struct rec_write w;
	size_t at, i;

	for (i = 0; i < op->npreds; i++) {
		for (size_t h = 0; h < reg->nheads; h++)
			if (write_ref_cmp(&reg->heads[h].ref,
			    &op->preds[i]) == 0) {
				free(reg->heads[h].value);
				remove_slot(reg->heads, &reg->nheads,
				    sizeof(*reg->heads), h);
				break;
			}
		if (ref_add(&reg->sup, &reg->nsup, &op->preds[i]) == -1)
			return -1;
	}
	if (ref_find(reg->sup, reg->nsup, ref, &at))
		return 0;	/* a later write already replaced this one */
	for (i = 0; i < reg->nheads; i++)
		if (write_ref_cmp(&reg->heads[i].ref, ref) == 0)
			return 0;	/* applied before */
	w.hlc = hlc;
	w.ref = *ref;
	w.value_len = value_len;
	if ((w.value = dup_value(value, value_len)) == NULL)
		return -1;
	for (at = 0; at < reg->nheads; at++)
		if (write_order(&w, &reg->heads[at]) < 0)
			break;
	if (insert_slot((void **)&reg->heads, &reg->nheads,
	    sizeof(*reg->heads), at) == -1) {
		free(w.value);
		return -1;
	}
	reg->heads[at] = w;
	return 0;
}

static struct rec_elem *
elem_slot(struct rec_set *s, const uint8_t *value, size_t len)
{
	size_t lo = 0, hi = s->nelems;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = bytes_cmp(s->elems[mid].value, s->elems[mid].value_len,
		    (const char *)value, len);

		if (c == 0)
			return &s->elems[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (insert_slot((void **)&s->elems, &s->nelems, sizeof(*s->elems),
	    lo) == -1)
		return NULL;
	memset(&s->elems[lo], 0, sizeof(s->elems[lo]));
	if ((s->elems[lo].value = dup_value(value, len)) == NULL) {
		remove_slot(s->elems, &s->nelems, sizeof(*s->elems), lo);
		return NULL;
	}
	s->elems[lo].value_len = len;
	return &s->elems[lo];
}

/* adds holds the tags not (yet) removed; rems every tag ever removed, so a
 * remove that arrives before its add still wins over that add. */
static int
set_apply(struct rec_set *s, const struct write_ref *ref, const struct op *op)
{
	struct rec_elem *e = elem_slot(s, op->value, op->value_len);
	size_t at;

	if (e == NULL)
		return -1;
	if (op->type == OP_ADD) {
		if (ref_find(e->rems, e->nrems, ref, &at))
			return 0;
		return ref_add(&e->adds, &e->nadds, ref);
	}
	for (size_t i = 0; i < op->npreds; i++) {
		if (ref_find(e->adds, e->nadds, &op->preds[i], &at))
			remove_slot(e->adds, &e->nadds, sizeof(*e->adds), at);
		if (ref_add(&e->rems, &e->nrems, &op->preds[i]) == -1)
			return -1;
	}
	return 0;
}

/* Applies one op of the entry (ref, hlc) to r. */
int
record_apply(struct record *r, uint64_t hlc, const struct write_ref *ref,
    const struct op *op)
{
	static const uint8_t deleted[] = "1";
	struct rec_register *reg;
	struct rec_set *s;
	const char *name = op->field;
	size_t name_len = op->field_len;

	switch (op->type) {
	case OP_DELETE:
	case OP_UNDELETE:
		name = RECORD_DELETED_FIELD;
		name_len = strlen(name);
		/* FALLTHROUGH */
	case OP_SET:
		if ((reg = reg_slot(r, name, name_len, 1)) == NULL)
			return -1;
		if (op->type == OP_SET)
			return reg_write(reg, hlc, ref, op->value,
			    op->value_len, op);
		return reg_write(reg, hlc, ref, deleted,
		    op->type == OP_DELETE ? 1 : 0, op);
	case OP_ADD:
	case OP_REMOVE:
		if ((s = set_slot(r, name, name_len, 1)) == NULL)
			return -1;
		return set_apply(s, ref, op);
	default:
		return -1;
	}
}

const struct rec_register *
record_register(const struct record *r, const char *name)
{
	return named_slot((void **)&r->regs, (size_t *)&r->nregs,
	    sizeof(*r->regs), name, strlen(name), 0);
}

const struct rec_set *
record_set(const struct record *r, const char *name)
{
	return named_slot((void **)&r->sets, (size_t *)&r->nsets,
	    sizeof(*r->sets), name, strlen(name), 0);
}

const char *
record_get(const struct record *r, const char *name)
{
	const struct rec_register *reg = record_register(r, name);

	if (reg == NULL || reg->nheads == 0)
		return NULL;
	return reg->heads[0].value;
}

int
record_deleted(const struct record *r)
{
	const char *v = record_get(r, RECORD_DELETED_FIELD);

	return v != NULL && v[0] != '\0';
}

int
rec_elem_present(const struct rec_elem *e)
{
	return e->nadds > 0;
}
