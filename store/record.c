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

/*
 * Grows *arr (of *n items of size sz) by one slot at index at. It has
 * room for the larger of *n and *cap (store.h); when full, the room
 * doubles, starting at first, so that a new note's registers take one
 * allocation rather than one each. A cap below n (0: a decoder's exact
 * allocation) counts as full, so the next insert reallocates.
 */
static int
insert_slot(void **arr, size_t *n, size_t *cap, size_t sz, size_t at,
    size_t first)
{
	char *p = *arr;

	if (*n >= *cap) {
		size_t c = *n < first ? first : 2 * *n;

		if (c > SIZE_MAX / sz || (p = realloc(p, c * sz)) == NULL)
			return -1;
		*arr = p;
		*cap = c;
	}
	if (at < *n)	/* most go at the end: spare the call */
		memmove(p + (at + 1) * sz, p + at * sz, (*n - at) * sz);
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
ref_add(struct write_ref **refs, size_t *n, size_t *cap,
    const struct write_ref *r)
{
	size_t at;

	if (ref_find(*refs, *n, r, &at))
		return 0;
	if (insert_slot((void **)refs, n, cap, sizeof(**refs), at, 1) == -1)
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

#define NAME_NUL	SIZE_MAX	/* name_cmp: name ends at its NUL */

/* As bytes_cmp of the NUL-terminated mname and name[len] (len NAME_NUL:
 * name is NUL-terminated too, a reader's), in one pass: names are short
 * and a record's are searched for each op and each read of a field. */
static int
name_cmp(const char *mname, const char *name, size_t len)
{
	for (size_t i = 0;; i++) {
		int mend = mname[i] == '\0';
		int nend = len == NAME_NUL ? name[i] == '\0' : i == len;

		if (mend || nend)
			return mend && nend ? 0 : mend ? -1 : 1;
		if (mname[i] != name[i])
			return (unsigned char)mname[i] <
			    (unsigned char)name[i] ? -1 : 1;
	}
}

/* The named register's or set's slot in arr (n items of size sz, by
 * name): 1 if there; else 0, *at where it would go. The name arrays
 * start each struct, so one search serves both. */
static int
named_search(const void *arr, size_t n, size_t sz, const char *name,
    size_t len, size_t *at)
{
	const char *base = arr;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(base + mid * sz, name, len);

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

/* Finds the named register or set, or makes it. */
static void *
named_slot(void **arr, size_t *n, size_t *cap, size_t sz, size_t first,
    const char *name, size_t name_len)
{
	size_t at;
	char *base;

	if (named_search(*arr, *n, sz, name, name_len, &at))
		return (char *)*arr + at * sz;
	if (name_len > PROTO_MAX_FIELD ||
	    insert_slot(arr, n, cap, sz, at, first) == -1)
		return NULL;
	base = *arr;
	memset(base + at * sz, 0, sz);
	memcpy(base + at * sz, name, name_len);
	return base + at * sz;
}

/* A reader's search, by a NUL-terminated name: no strlen. */
static const void *
named_find(const void *arr, size_t n, size_t sz, const char *name)
{
	size_t at;

	if (!named_search(arr, n, sz, name, NAME_NUL, &at))
		return NULL;
	return (const char *)arr + at * sz;
}

static struct rec_register *
reg_slot(struct record *r, const char *name, size_t len)
{
	return named_slot((void **)&r->regs, &r->nregs, &r->capregs,
	    sizeof(*r->regs), 8, name, len);
}

static struct rec_set *
set_slot(struct record *r, const char *name, size_t len)
{
	return named_slot((void **)&r->sets, &r->nsets, &r->capsets,
	    sizeof(*r->sets), 2, name, len);
}

static int
hash_eq(const struct write_ref *a, const uint8_t hash[PROTO_HASHLEN])
{
	return !a->has_hash || memcmp(a->hash, hash, PROTO_HASHLEN) == 0;
}

/* What a predecessor p names, by what this record has applied: 1 if p
 * names an applied write (and its hash matches, when p carries one), 0 if
 * p names nothing applied yet (kept, to be matched on arrival), -1 if p
 * can never match (void). Without an oracle only the current refs count
 * as applied (held: the one of p's name, or NULL): enough for a
 * single-order replay, and a forged hash still hides nothing. */
static int
pred_state(const struct rec_oracle *o, const struct write_ref *p,
    const struct write_ref *held)
{
	uint8_t hash[PROTO_HASHLEN];

	if (o == NULL)
		return held == NULL ? 0 : hash_eq(p, held->hash) ? 1 : -1;
	if (o->applied(o->arg, p, hash) != 1)
		return 0;
	return hash_eq(p, hash) ? 1 : -1;
}

static const struct write_ref *
head_ref(const struct rec_register *reg, const struct write_ref *p)
{
	for (size_t h = 0; h < reg->nheads; h++)
		if (write_ref_cmp(&reg->heads[h].ref, p) == 0)
			return &reg->heads[h].ref;
	return NULL;
}

/* Takes the kept predecessors that name w out of *refs: 1 if one of them
 * matches w's hash, so that w arrives already replaced. Every kept
 * reference to w's (author, seq) goes, matching or not: w is the only
 * entry ever to hold that name. */
static int
consume_kept(struct write_ref *refs, size_t *n, const struct write_ref *w)
{
	int replaced = 0;
	size_t at;

	while (ref_find(refs, *n, w, &at)) {
		replaced |= hash_eq(&refs[at], w->hash);
		remove_slot(refs, n, sizeof(*refs), at);
	}
	return replaced;
}

/* An author has seen its own earlier writes: a later one replaces them. */
static void
drop_own_heads(struct rec_register *reg, const struct write_ref *w)
{
	for (size_t h = reg->nheads; h-- > 0;) {
		struct rec_write *x = &reg->heads[h];

		if (memcmp(x->ref.author, w->author, PROTO_IDLEN) == 0 &&
		    x->ref.seq < w->seq) {
			free(x->value);
			remove_slot(reg->heads, &reg->nheads,
			    sizeof(*reg->heads), h);
		}
	}
}

static void
drop_head(struct rec_register *reg, const struct write_ref *p)
{
	for (size_t h = 0; h < reg->nheads; h++)
		if (write_ref_cmp(&reg->heads[h].ref, p) == 0) {
			free(reg->heads[h].value);
			remove_slot(reg->heads, &reg->nheads,
			    sizeof(*reg->heads), h);
			return;
		}
}

/* Kept refs sort by name, then hash: one name may be kept twice (a
 * forged hash beside the real one), and the order of the two must not
 * depend on which arrived first. */
static int
kept_cmp(const struct write_ref *a, const struct write_ref *b)
{
	int c = write_ref_cmp(a, b);

	if (c != 0)
		return c;
	if (a->has_hash != b->has_hash)
		return a->has_hash < b->has_hash ? -1 : 1;
	return memcmp(a->hash, b->hash, PROTO_HASHLEN);
}

static int
ref_keep(struct write_ref **refs, size_t *n, size_t *cap,
    const struct write_ref *r)
{
	size_t at = 0;
	int c = 1;

	while (at < *n && (c = kept_cmp(&(*refs)[at], r)) < 0)
		at++;
	if (at < *n && c == 0)
		return 0;
	if (insert_slot((void **)refs, n, cap, sizeof(**refs), at, 1) == -1)
		return -1;
	(*refs)[at] = *r;
	return 0;
}

/*
 * A register's heads are the applied writes that no applied write
 * replaces; sup keeps only the predecessors whose writes have not been
 * applied yet, and each is dropped when its write arrives. Both are thus
 * a function of the set of writes applied, and sup does not grow with the
 * number of edits.
 */
static int
reg_write(struct rec_register *reg, uint64_t hlc, const struct write_ref *ref,
    const uint8_t *value, size_t value_len, const struct op *op,
    const struct rec_oracle *o)
{
	struct rec_write w;
	size_t at;

	for (size_t i = 0; i < op->npreds; i++) {
		int st = pred_state(o, &op->preds[i],
		    head_ref(reg, &op->preds[i]));

		if (st == 1)
			drop_head(reg, &op->preds[i]);
		else if (st == 0 && ref_keep(&reg->sup, &reg->nsup,
		    &reg->capsup, &op->preds[i]) == -1)
			return -1;
	}
	drop_own_heads(reg, ref);
	if (consume_kept(reg->sup, &reg->nsup, ref))
		return 0;	/* a write applied earlier replaced this one */
	for (at = 0; at < reg->nheads; at++)
		if (write_ref_cmp(&reg->heads[at].ref, ref) == 0)
			return 0;	/* applied before */
	w.hlc = hlc;
	w.ref = *ref;
	w.value_len = value_len;
	if ((w.value = dup_value(value, value_len)) == NULL)
		return -1;
	for (at = 0; at < reg->nheads; at++)
		if (write_order(&w, &reg->heads[at]) < 0)
			break;
	if (insert_slot((void **)&reg->heads, &reg->nheads, &reg->capheads,
	    sizeof(*reg->heads), at, 1) == -1) {
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
	if (insert_slot((void **)&s->elems, &s->nelems, &s->capelems,
	    sizeof(*s->elems), lo, 4) == -1)
		return NULL;
	memset(&s->elems[lo], 0, sizeof(s->elems[lo]));
	if ((s->elems[lo].value = dup_value(value, len)) == NULL) {
		remove_slot(s->elems, &s->nelems, sizeof(*s->elems), lo);
		return NULL;
	}
	s->elems[lo].value_len = len;
	return &s->elems[lo];
}

/* An element no add holds and no remove waits on is gone for good. */
static void
elem_prune(struct rec_set *s, struct rec_elem *e)
{
	if (e->nadds != 0 || e->nrems != 0)
		return;
	free(e->value);
	free(e->adds);
	free(e->rems);
	remove_slot(s->elems, &s->nelems, sizeof(*s->elems),
	    (size_t)(e - s->elems));
}

static void
drop_own_adds(struct rec_elem *e, const struct write_ref *w)
{
	for (size_t i = e->nadds; i-- > 0;)
		if (memcmp(e->adds[i].author, w->author, PROTO_IDLEN) == 0 &&
		    e->adds[i].seq < w->seq)
			remove_slot(e->adds, &e->nadds, sizeof(*e->adds), i);
}

/* An observed-remove set. adds holds the add tags no applied remove
 * names; rems the removes' references to adds not applied yet. */
static int
set_apply(struct rec_set *s, const struct write_ref *ref, const struct op *op,
    const struct rec_oracle *o)
{
	struct rec_elem *e = elem_slot(s, op->value, op->value_len);
	size_t at;
	int rc = 0;

	if (e == NULL)
		return -1;
	if (op->type == OP_ADD) {
		drop_own_adds(e, ref);
		if (!consume_kept(e->rems, &e->nrems, ref) &&
		    !ref_find(e->adds, e->nadds, ref, &at))
			rc = ref_add(&e->adds, &e->nadds, &e->capadds, ref);
	}
	for (size_t i = 0; op->type == OP_REMOVE && i < op->npreds; i++) {
		int held = ref_find(e->adds, e->nadds, &op->preds[i], &at);
		int st = pred_state(o, &op->preds[i], held ? &e->adds[at] :
		    NULL);

		if (st != -1 && held)
			remove_slot(e->adds, &e->nadds, sizeof(*e->adds), at);
		if (st == 0 && ref_keep(&e->rems, &e->nrems, &e->caprems,
		    &op->preds[i]) == -1)
			return -1;
	}
	elem_prune(s, e);
	return rc;
}

/* Applies one op of the entry (ref, hlc) to r; ref carries the entry's
 * hash. o answers which writes the record has applied (see store.h). */
int
record_apply(struct record *r, uint64_t hlc, const struct write_ref *ref,
    const struct op *op, const struct rec_oracle *o)
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
		if ((reg = reg_slot(r, name, name_len)) == NULL)
			return -1;
		if (op->type == OP_SET)
			return reg_write(reg, hlc, ref, op->value,
			    op->value_len, op, o);
		return reg_write(reg, hlc, ref, deleted,
		    op->type == OP_DELETE ? 1 : 0, op, o);
	case OP_ADD:
	case OP_REMOVE:
		if ((s = set_slot(r, name, name_len)) == NULL)
			return -1;
		return set_apply(s, ref, op, o);
	default:
		return -1;
	}
}

/* Once every op of entry ref is applied, no kept reference may name it
 * any more: those its own ops met were consumed, and the rest named it
 * for a register or element it did not write. Dropping them here rather
 * than when they are met makes the state the same whichever of the two
 * arrived first (the oracle already voids them when ref came first). */
void
record_settle(struct record *r, const struct write_ref *ref)
{
	for (size_t i = 0; i < r->nregs; i++)
		(void)consume_kept(r->regs[i].sup, &r->regs[i].nsup, ref);
	for (size_t i = 0; i < r->nsets; i++) {
		struct rec_set *s = &r->sets[i];

		for (size_t j = s->nelems; j-- > 0;) {
			(void)consume_kept(s->elems[j].rems,
			    &s->elems[j].nrems, ref);
			elem_prune(s, &s->elems[j]);
		}
	}
}

const struct rec_register *
record_register(const struct record *r, const char *name)
{
	return named_find(r->regs, r->nregs, sizeof(*r->regs), name);
}

const struct rec_set *
record_set(const struct record *r, const char *name)
{
	return named_find(r->sets, r->nsets, sizeof(*r->sets), name);
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
