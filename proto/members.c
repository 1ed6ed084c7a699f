/*
 * The membership as a pure function of the membership entries held: see
 * members.h for the rules. The work is quadratic in the entries evaluated
 * (each is judged against the state its writer had seen), which is why
 * only entries by devices that the founder, or one they made an admin,
 * names as an admin are evaluated at all, at most MEMBERS_MAX_ENTRIES of them, and why callers compute it
 * once per change of membership, not per question.
 */
#include <stdlib.h>
#include <string.h>

#include "members.h"

#define NONE		UINT64_MAX	/* no cut-off */
#define MAX_ROUNDS	16		/* rounds of the removal fixed point */

/* What one device is in a state being replayed; k are entry positions. */
struct mst {
	uint8_t		known, role, removal;
	uint32_t	by;		/* dev index of its adder */
	long		add_k, role_k, name_k, rem_k;
};

struct ev {
	const struct member_entry *in;
	size_t		 m;		/* entries ordered */
	size_t		*order;		/* position -> input index */
	uint32_t	*adev, *tdev;	/* position -> author, target dev */
	size_t		 words;
	uint64_t	*past;		/* m rows of words */
	size_t		 ndev;
	uint8_t		(*devs)[PROTO_IDLEN];
	uint32_t	 founder;
	uint64_t	*cut;		/* per dev: last seq taken, or NONE */
	uint8_t		*auth;		/* per position: its writer may */
	uint8_t		*supp;		/* a removal that lost to another */
	uint8_t		*valid;		/* auth && !supp */
	uint8_t		*tknown;	/* a removal whose target was a member */
	uint8_t		*dem;		/* a demotion with a cut-off that took
					   effect (the previous round's) */
	uint8_t		*ndem;		/* the same, found by this round */
	struct mst	*st;		/* ndev */
	struct mst	*run;		/* ndev: every valid entry so far */
};

static int
refcmp(const struct member_entry *a, const struct member_entry *b)
{
	int c = memcmp(a->ref.author, b->ref.author, PROTO_IDLEN);

	if (c != 0)
		return c;
	return a->ref.seq < b->ref.seq ? -1 : a->ref.seq > b->ref.seq;
}

/* Among entries that did not see each other: (clock, author, seq). */
static int
ordercmp(const struct member_entry *a, const struct member_entry *b)
{
	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	return refcmp(a, b);
}

static int
idcmp(const void *a, const void *b)
{
	return memcmp(a, b, PROTO_IDLEN);
}

static uint32_t
dev_of(const struct ev *v, const uint8_t *id)
{
	size_t lo = 0, hi = v->ndev;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(v->devs[mid], id, PROTO_IDLEN);

		if (c == 0)
			return (uint32_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return UINT32_MAX;	/* never: every id was collected */
}

static int
bit(const uint64_t *row, size_t k)
{
	return (row[k / 64] >> (k % 64)) & 1;
}

static uint64_t *
row(const struct ev *v, size_t k)
{
	return &v->past[k * v->words];
}

/* The devices: the founder, every author and every target, sorted. */
static int
collect_devs(struct ev *v, const uint8_t *founder, const size_t *keep,
    size_t nkeep)
{
	size_t n = 0;

	if ((v->devs = malloc((2 * nkeep + 1) * PROTO_IDLEN)) == NULL)
		return -1;
	memcpy(v->devs[n++], founder, PROTO_IDLEN);
	for (size_t i = 0; i < nkeep; i++) {
		memcpy(v->devs[n++], v->in[keep[i]].ref.author, PROTO_IDLEN);
		memcpy(v->devs[n++], v->in[keep[i]].target, PROTO_IDLEN);
	}
	qsort(v->devs, n, PROTO_IDLEN, idcmp);
	v->ndev = 0;
	for (size_t i = 0; i < n; i++)
		if (v->ndev == 0 || memcmp(v->devs[v->ndev - 1], v->devs[i],
		    PROTO_IDLEN) != 0)
			memmove(v->devs[v->ndev++], v->devs[i], PROTO_IDLEN);
	v->founder = dev_of(v, founder);
	return 0;
}

static int
in_set(const uint8_t (*set)[PROTO_IDLEN], size_t n, const uint8_t *id)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(set[i], id, PROTO_IDLEN) == 0)
			return 1;
	return 0;
}

/* The devices that could ever be admins: the founder, and whoever one of
 * them names an admin (honoured or not: that is decided later). Only
 * their entries can be honoured, so only theirs are evaluated: a teacher
 * or a box that floods the team with membership entries, promoting
 * itself in each, costs nothing here. Returns the count, or -1. */
static long
possible_admins(const uint8_t *founder, const struct member_entry *in,
    size_t n, uint8_t (**out)[PROTO_IDLEN])
{
	uint8_t (*set)[PROTO_IDLEN] = malloc((n + 1) * PROTO_IDLEN);
	size_t k = 0;
	int grew = 1;

	if ((*out = set) == NULL)
		return -1;
	memcpy(set[k++], founder, PROTO_IDLEN);
	while (grew) {
		grew = 0;
		for (size_t i = 0; i < n; i++)
			if (in[i].role == MROLE_ADMIN &&
			    in_set(set, k, in[i].ref.author) &&
			    !in_set(set, k, in[i].target)) {
				memcpy(set[k++], in[i].target, PROTO_IDLEN);
				grew = 1;
			}
	}
	return (long)k;
}

typedef int (*idx_cmp)(const void *ctx, size_t, size_t);

/* Sorts a[0..n) with cmp and its context (qsort has none, and proto keeps
 * no globals): a stable merge sort; -1 if memory ran out. */
static int
sort_idx(size_t *a, size_t n, idx_cmp cmp, const void *ctx)
{
	size_t *tmp = malloc((n ? n : 1) * sizeof(*tmp));

	if (tmp == NULL)
		return -1;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, o = lo;

			while (i < mid && j < hi)
				tmp[o++] = cmp(ctx, a[j], a[i]) < 0 ? a[j++] :
				    a[i++];
			while (i < mid)
				tmp[o++] = a[i++];
			while (j < hi)
				tmp[o++] = a[j++];
		}
		memcpy(a, tmp, n * sizeof(*a));
	}
	free(tmp);
	return 0;
}

static int
keep_cmp(const void *ctx, size_t x, size_t y)
{
	const struct member_entry *in = ctx;
	int c = refcmp(&in[x], &in[y]);

	return c != 0 ? c : x < y ? -1 : x > y;
}

/* The entries evaluated, sorted by (author, seq), duplicates dropped. */
static size_t *
select_entries(const uint8_t *founder, const struct member_entry *in,
    size_t n, size_t *nkeep)
{
	size_t *keep = malloc((n ? n : 1) * sizeof(*keep)), k = 0, out = 0;
	uint8_t (*admins_)[PROTO_IDLEN] = NULL;
	long na;

	if (keep == NULL ||
	    (na = possible_admins(founder, in, n, &admins_)) < 0) {
		free(keep);
		free(admins_);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (in_set(admins_, (size_t)na, in[i].ref.author))
			keep[k++] = i;
	free(admins_);
	if (sort_idx(keep, k, keep_cmp, in) != 0) {
		free(keep);
		return NULL;
	}
	for (size_t i = 0; i < k; i++)
		if (out == 0 || refcmp(&in[keep[out - 1]], &in[keep[i]]) != 0)
			keep[out++] = keep[i];
	*nkeep = out < MEMBERS_MAX_ENTRIES ? out : MEMBERS_MAX_ENTRIES;
	return keep;
}

/* The kept entry that ref names, hash and all, or -1. */
static long
find_ref(const struct member_entry *in, const size_t *keep, size_t nkeep,
    const struct write_ref *ref)
{
	size_t lo = 0, hi = nkeep;
	struct member_entry key;

	key.ref = *ref;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = refcmp(&in[keep[mid]], &key);

		if (c == 0)
			return ref->has_hash && memcmp(in[keep[mid]].ref.hash,
			    ref->hash, PROTO_HASHLEN) == 0 ? (long)mid : -1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The entries each one saw (indexes into keep): the ones its seen names
 * and its author's previous one. preds[i] has at most MEMBERS_MAX_SEEN + 1. */
static size_t
preds_of(const struct member_entry *in, const size_t *keep, size_t nkeep,
    size_t i, long *out, uint8_t *loose)
{
	const struct member_entry *e = &in[keep[i]];
	size_t n = 0;

	*loose = 0;

	if (i > 0 && memcmp(in[keep[i - 1]].ref.author, e->ref.author,
	    PROTO_IDLEN) == 0)
		out[n++] = (long)i - 1;
	for (size_t s = 0; s < e->nseen && s < MEMBERS_MAX_SEEN; s++) {
		long p = find_ref(in, keep, nkeep, &e->seen[s]);

		if (p >= 0 && (size_t)p != i)
			out[n++] = p;
		else
			*loose = 1;
	}
	return n;
}

/* Orders the kept entries so that each follows what it saw (Kahn's
 * algorithm, the least (clock, author, seq) first among the ready); a
 * cycle, which only forged hashes could make, is left out. Fills
 * v->order, v->m and the past rows. */
static int
order_entries(struct ev *v, const size_t *keep, size_t nkeep)
{
	long (*preds)[MEMBERS_MAX_SEEN + 1] = malloc((nkeep ? nkeep : 1) *
	    sizeof(*preds));
	size_t *npreds = calloc(nkeep ? nkeep : 1, sizeof(*npreds));
	size_t *left = calloc(nkeep ? nkeep : 1, sizeof(*left));
	long *pos = malloc((nkeep ? nkeep : 1) * sizeof(*pos));
	size_t *byk = malloc((nkeep ? nkeep : 1) * sizeof(*byk));
	uint8_t *done = calloc(nkeep ? nkeep : 1, 1);
	uint8_t *loose = calloc(nkeep ? nkeep : 1, 1);
	int rc = -1;

	v->m = 0;
	if (preds == NULL || npreds == NULL || left == NULL || pos == NULL ||
	    byk == NULL || done == NULL || loose == NULL)
		goto out;
	for (size_t i = 0; i < nkeep; i++) {
		npreds[i] = preds_of(v->in, keep, nkeep, i, preds[i],
		    &loose[i]);
		left[i] = npreds[i];
		pos[i] = -1;
	}
	for (;;) {
		long best = -1;

		for (size_t i = 0; i < nkeep; i++)
			if (!done[i] && left[i] == 0 && (best < 0 ||
			    ordercmp(&v->in[keep[i]], &v->in[keep[best]]) < 0))
				best = (long)i;
		if (best < 0)
			break;
		done[best] = 1;
		pos[best] = (long)v->m;
		byk[v->m] = (size_t)best;
		v->order[v->m++] = keep[best];
		for (size_t i = 0; i < nkeep; i++)
			for (size_t p = 0; !done[i] && p < npreds[i]; p++)
				if (preds[i][p] == best)
					left[i]--;
	}
	v->words = (v->m + 63) / 64;
	if ((v->past = calloc(v->m * v->words + 1, sizeof(uint64_t))) == NULL)
		goto out;
	/* In position order: a pred's row is complete before it is used. */
	for (size_t k = 0; k < v->m; k++) {
		size_t i = byk[k];
		uint64_t *r = row(v, k);

		if (!v->in[keep[i]].has_seen || loose[i]) {
			/* Written before causal membership, or naming what
			 * is not held (yet): judged by what came before it. */
			for (size_t j = 0; j < k; j++)
				r[j / 64] |= UINT64_C(1) << (j % 64);
			continue;
		}
		for (size_t p = 0; p < npreds[i]; p++) {
			long q = pos[preds[i][p]];
			const uint64_t *qr = row(v, (size_t)q);

			for (size_t w = 0; w < v->words; w++)
				r[w] |= qr[w];
			r[q / 64] |= UINT64_C(1) << (q % 64);
		}
	}
	rc = 0;
out:
	free(preds);
	free(npreds);
	free(left);
	free(pos);
	free(byk);
	free(done);
	free(loose);
	return rc;
}

static size_t
admins(const struct ev *v, const struct mst *st)
{
	size_t n = 0;

	for (size_t d = 0; d < v->ndev; d++)
		n += st[d].known && !st[d].removal && st[d].role == MROLE_ADMIN;
	return n;
}

static void
state_reset(const struct ev *v, struct mst *st)
{
	for (size_t d = 0; d < v->ndev; d++) {
		memset(&st[d], 0, sizeof(st[d]));
		st[d].add_k = st[d].role_k = st[d].name_k = st[d].rem_k = -1;
	}
	st[v->founder].known = 1;
	st[v->founder].role = MROLE_ADMIN;
	st[v->founder].by = v->founder;
}

static void
set_role(const struct ev *v, struct mst *st, uint32_t t, uint8_t role,
    size_t k)
{
	if (role == MROLE_NONE || role == st[t].role)
		return;
	if (st[t].role == MROLE_BOX || role == MROLE_BOX)
		return;		/* a box stays a box, and no one becomes one */
	if (st[t].role == MROLE_ADMIN && admins(v, st) <= 1)
		return;		/* never no admin */
	st[t].role = role;
	st[t].role_k = (long)k;
}

/* Applies the entry at position k to st. */
static void
apply(const struct ev *v, struct mst *st, size_t k)
{
	const struct member_entry *e = &v->in[v->order[k]];
	uint32_t a = v->adev[k], t = v->tdev[k];
	struct mst *s = &st[t];

	if (e->removal == MREMOVE_LEFT || e->removal == MREMOVE_LOST) {
		if (t == a || !s->known || s->removal)
			return;
		s->removal = e->removal;
		s->rem_k = (long)k;
		return;
	}
	if (!s->known) {
		if (t == a || e->role == MROLE_NONE)
			return;
		s->known = 1;
		s->role = e->role;
		s->by = a;
		s->add_k = s->role_k = (long)k;
		s->name_k = e->name != NULL ? (long)k : -1;
		return;
	}
	if (s->removal) {
		/* Only a writer who saw the removal undoes it. */
		if (s->rem_k < 0 || !bit(row(v, k), (size_t)s->rem_k) ||
		    t == a)
			return;
		s->removal = 0;
		s->rem_k = -1;
		s->by = a;
		s->add_k = (long)k;
	}
	if (t != a)
		set_role(v, st, t, e->role, k);
	if (e->name != NULL)
		s->name_k = (long)k;
}

/* st := the state of the valid entries that the entry at position k saw
 * (every valid entry, for k == v->m). */
static void
replay(const struct ev *v, struct mst *st, size_t k)
{
	state_reset(v, st);
	for (size_t j = 0; j < k && j < v->m; j++)
		if (v->valid[j] && (k == v->m || bit(row(v, k), j)))
			apply(v, st, j);
}

/* 1 if the entry at position k saw every entry before it: then the
 * state it saw is the running one, with no replay. */
static int
saw_all_before(const struct ev *v, size_t k)
{
	const uint64_t *r = row(v, k);

	for (size_t w = 0; w < k / 64; w++)
		if (r[w] != UINT64_MAX)
			return 0;
	return k % 64 == 0 ||
	    (r[k / 64] & ((UINT64_C(1) << (k % 64)) - 1)) ==
	    ((UINT64_C(1) << (k % 64)) - 1);
}

static int	is_removal(const struct member_entry *);

/* 1 if the entry at position k was written after a demotion of its
 * writer had reached the demoter (its seq is past the demotion's
 * cut-off) but does not name the demotion among what it saw: its writer
 * claims a state it was no longer in, and its entry counts for nothing,
 * as a removed device's after its cut-off. */
static int
demoted_unseen(const struct ev *v, size_t k)
{
	const struct member_entry *e = &v->in[v->order[k]];

	for (size_t p = 0; p < v->m; p++)
		if (v->dem[p] && p != k && v->tdev[p] == v->adev[k] &&
		    e->ref.seq > v->in[v->order[p]].cutoff_seq &&
		    (p > k || !bit(row(v, k), p)))
			return 1;
	return 0;
}

/* Judges every entry against the state its writer had seen. A team's
 * history is mostly a line (each change saw the one before), which costs
 * one pass; only concurrent changes are replayed from their own past. */
static void
judge(struct ev *v)
{
	state_reset(v, v->run);
	for (size_t k = 0; k < v->m; k++) {
		const struct member_entry *e = &v->in[v->order[k]];
		uint32_t a = v->adev[k], t = v->tdev[k];
		uint8_t was;

		v->auth[k] = 0;
		v->tknown[k] = 0;
		v->valid[k] = 0;
		v->ndem[k] = 0;
		if (v->cut[a] != NONE && e->ref.seq > v->cut[a])
			continue;
		if (demoted_unseen(v, k))
			continue;
		if (saw_all_before(v, k))
			memcpy(v->st, v->run, v->ndev * sizeof(*v->st));
		else
			replay(v, v->st, k);
		v->auth[k] = v->st[a].known && !v->st[a].removal &&
		    v->st[a].role == MROLE_ADMIN;
		v->tknown[k] = t != a && v->st[t].known && !v->st[t].removal;
		v->valid[k] = v->auth[k] && !v->supp[k];
		if (!v->valid[k])
			continue;
		was = v->run[t].role;
		apply(v, v->run, k);
		v->ndem[k] = e->has_cutoff && !is_removal(e) &&
		    was == MROLE_ADMIN && v->run[t].role == MROLE_TEACHER;
	}
}

static int
is_removal(const struct member_entry *e)
{
	return e->removal == MREMOVE_LEFT || e->removal == MREMOVE_LOST;
}

/* A removal undone by a valid re-add whose writer had seen it. */
static int
superseded(const struct ev *v, size_t r)
{
	for (size_t k = r + 1; k < v->m; k++)
		if (v->valid[k] && v->tdev[k] == v->tdev[r] &&
		    v->adev[k] != v->tdev[k] &&
		    !is_removal(&v->in[v->order[k]]) && bit(row(v, k), r))
			return 1;
	return 0;
}

/* How early a device was added: the founder first, then by the position
 * of the first authorised entry adding it. */
static long
rank(const struct ev *v, uint32_t d)
{
	if (d == v->founder)
		return -1;
	for (size_t k = 0; k < v->m; k++)
		if (v->auth[k] && v->tdev[k] == d && v->adev[k] != d &&
		    v->in[v->order[k]].role != MROLE_NONE &&
		    !is_removal(&v->in[v->order[k]]))
			return (long)k;
	return (long)v->m;
}

struct rank_ctx {
	const struct ev	*v;
	const long	*rank;
};

static int
cand_cmp(const void *ctx, size_t x, size_t y)
{
	const struct rank_ctx *rc = ctx;
	long rx = rc->rank[rc->v->adev[x]], ry = rc->rank[rc->v->adev[y]];

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Which authorised removals take effect, highest priority first: one
 * whose writer an accepted removal has cut off before it, or that would
 * cut off the writer of an accepted one before that removal, loses.
 * Writes the new cut-offs and suppressions into cut and supp; 1 if they
 * changed, 0 if not, -1 if memory ran out. */
static int
settle_removals(struct ev *v, uint64_t *cut, uint8_t *supp, long *ranks,
    size_t *cand)
{
	size_t nc = 0, nacc = 0;
	int changed = 0;

	for (size_t d = 0; d < v->ndev; d++) {
		ranks[d] = rank(v, (uint32_t)d);
		cut[d] = NONE;
	}
	for (size_t k = 0; k < v->m; k++) {
		supp[k] = 0;
		if (v->auth[k] && v->tknown[k] &&
		    is_removal(&v->in[v->order[k]]) && !superseded(v, k))
			cand[nc++] = k;
	}
	if (sort_idx(cand, nc, cand_cmp, &(struct rank_ctx){ v, ranks }) != 0)
		return -1;
	for (size_t i = 0; i < nc; i++) {
		size_t r = cand[i];
		const struct member_entry *e = &v->in[v->order[r]];
		uint32_t a = v->adev[r], t = v->tdev[r];
		int lose = cut[a] != NONE && e->ref.seq > cut[a];

		for (size_t j = 0; !lose && j < nacc; j++) {
			const struct member_entry *x =
			    &v->in[v->order[cand[j]]];

			lose = v->adev[cand[j]] == t &&
			    x->ref.seq > e->cutoff_seq;
		}
		if (lose) {
			supp[r] = 1;
			continue;
		}
		cand[nacc++] = r;	/* accepted ones move to the front */
		if (cut[t] == NONE || e->cutoff_seq < cut[t])
			cut[t] = e->cutoff_seq;
	}
	for (size_t d = 0; d < v->ndev; d++)
		changed |= cut[d] != v->cut[d];
	for (size_t k = 0; k < v->m; k++)
		changed |= supp[k] != v->supp[k];
	return changed;
}

static void
fill_member(const struct ev *v, const struct mst *s, uint32_t d,
    struct member *o)
{
	memset(o, 0, sizeof(*o));
	memcpy(o->id, v->devs[d], PROTO_IDLEN);
	o->role = s->role;
	o->removal = s->removal;
	o->founder = d == v->founder;
	memcpy(o->added_by, v->devs[s->by], PROTO_IDLEN);
	o->add_entry = s->add_k >= 0 ? (long)v->order[s->add_k] : -1;
	o->role_entry = s->role_k >= 0 ? (long)v->order[s->role_k] : -1;
	o->remove_entry = s->rem_k >= 0 ? (long)v->order[s->rem_k] : -1;
	o->cutoff_seq = NONE;
	if (s->add_k >= 0)
		o->added_hlc = v->in[v->order[s->add_k]].hlc;
	if (s->name_k >= 0) {
		o->name = v->in[v->order[s->name_k]].name;
		o->name_len = v->in[v->order[s->name_k]].name_len;
	}
	if (s->rem_k >= 0) {
		const struct member_entry *r = &v->in[v->order[s->rem_k]];

		memcpy(o->removed_by, r->ref.author, PROTO_IDLEN);
		o->removed_hlc = r->hlc;
		o->cutoff_seq = v->cut[d] != NONE ? v->cut[d] : r->cutoff_seq;
		memcpy(o->cutoff_hash, r->cutoff_hash, PROTO_HASHLEN);
	}
}

/* The final state, with never fewer than one admin while a non-box
 * member remains: the earliest added takes the role. */
static int
outcome(struct ev *v, struct members *out)
{
	uint64_t *u = calloc(v->words + 1, sizeof(uint64_t));
	long best = -1;

	if (u == NULL)
		return -1;
	replay(v, v->st, v->m);
	if (admins(v, v->st) == 0) {
		for (size_t d = 0; d < v->ndev; d++) {
			const struct mst *s = &v->st[d];

			if (s->known && !s->removal && s->role != MROLE_BOX &&
			    (best < 0 || s->add_k < v->st[best].add_k))
				best = (long)d;
		}
		if (best >= 0)
			v->st[best].role = MROLE_ADMIN;
	}
	for (size_t d = 0; d < v->ndev; d++)
		if (v->st[d].known)
			fill_member(v, &v->st[d], (uint32_t)d, &out->m[out->n++]);
	for (size_t k = 0; k < v->m; k++)
		if (v->valid[k])
			for (size_t w = 0; w < v->words; w++)
				u[w] |= row(v, k)[w];
	for (size_t k = 0; k < v->m; k++) {
		out->honoured[v->order[k]] = v->valid[k];
		out->head[v->order[k]] = v->valid[k] && !bit(u, k);
	}
	free(u);
	return 0;
}

static void
ev_free(struct ev *v)
{
	free(v->order);
	free(v->adev);
	free(v->tdev);
	free(v->past);
	free(v->devs);
	free(v->cut);
	free(v->auth);
	free(v->supp);
	free(v->valid);
	free(v->tknown);
	free(v->dem);
	free(v->ndem);
	free(v->st);
	free(v->run);
}

static int
ev_alloc(struct ev *v, size_t n)
{
	size_t c = n ? n : 1;

	v->order = malloc(c * sizeof(*v->order));
	v->adev = malloc(c * sizeof(*v->adev));
	v->tdev = malloc(c * sizeof(*v->tdev));
	v->auth = calloc(c, 1);
	v->supp = calloc(c, 1);
	v->valid = calloc(c, 1);
	v->tknown = calloc(c, 1);
	v->dem = calloc(c, 1);
	v->ndem = calloc(c, 1);
	return v->order && v->adev && v->tdev && v->auth && v->supp &&
	    v->valid && v->tknown && v->dem && v->ndem ? 0 : -1;
}

/* The removals' fixed point: judge, settle, again until nothing changes
 * (a bounded number of rounds; the result is deterministic either way). */
static int
rounds(struct ev *v)
{
	uint64_t *cut = malloc(v->ndev * sizeof(*cut));
	uint8_t *supp = calloc(v->m + 1, 1);
	long *ranks = malloc(v->ndev * sizeof(*ranks));
	size_t *cand = malloc((v->m + 1) * sizeof(*cand));
	int rc = -1;

	v->cut = malloc(v->ndev * sizeof(*v->cut));
	v->st = malloc(v->ndev * sizeof(*v->st));
	v->run = malloc(v->ndev * sizeof(*v->run));
	if (cut == NULL || supp == NULL || ranks == NULL || cand == NULL ||
	    v->cut == NULL || v->st == NULL || v->run == NULL)
		goto out;
	for (size_t d = 0; d < v->ndev; d++)
		v->cut[d] = NONE;
	for (int round = 0; round < MAX_ROUNDS; round++) {
		int changed;

		judge(v);
		if ((changed = settle_removals(v, cut, supp, ranks, cand)) < 0)
			goto out;
		changed |= memcmp(v->dem, v->ndem, v->m) != 0;
		if (changed == 0)
			break;
		memcpy(v->cut, cut, v->ndev * sizeof(*cut));
		memcpy(v->supp, supp, v->m);
		memcpy(v->dem, v->ndem, v->m);
	}
	judge(v);
	rc = 0;
out:
	free(cut);
	free(supp);
	free(ranks);
	free(cand);
	return rc;
}

struct members *
proto_members_eval(const uint8_t founder[PROTO_IDLEN],
    const struct member_entry *in, size_t n)
{
	struct ev v;
	struct members *out = calloc(1, sizeof(*out));
	size_t *keep = NULL, nkeep = 0;

	memset(&v, 0, sizeof(v));
	v.in = in;
	if (out == NULL || (keep = select_entries(founder, in, n,
	    &nkeep)) == NULL || ev_alloc(&v, nkeep) != 0 ||
	    collect_devs(&v, founder, keep, nkeep) != 0 ||
	    order_entries(&v, keep, nkeep) != 0)
		goto fail;
	for (size_t k = 0; k < v.m; k++) {
		v.adev[k] = dev_of(&v, in[v.order[k]].ref.author);
		v.tdev[k] = dev_of(&v, in[v.order[k]].target);
	}
	out->nentries = n;
	if (rounds(&v) != 0 ||
	    (out->m = calloc(v.ndev, sizeof(*out->m))) == NULL ||
	    (out->honoured = calloc(n ? n : 1, 1)) == NULL ||
	    (out->head = calloc(n ? n : 1, 1)) == NULL ||
	    outcome(&v, out) != 0)
		goto fail;
	free(keep);
	ev_free(&v);
	return out;
fail:
	free(keep);
	ev_free(&v);
	proto_members_free(out);
	return NULL;
}

void
proto_members_free(struct members *m)
{
	if (m == NULL)
		return;
	free(m->m);
	free(m->honoured);
	free(m->head);
	free(m);
}

const struct member *
proto_members_find(const struct members *ms, const uint8_t id[PROTO_IDLEN])
{
	size_t lo = 0, hi = ms != NULL ? ms->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ms->m[mid].id, id, PROTO_IDLEN);

		if (c == 0)
			return &ms->m[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
proto_members_current(const struct members *ms, const uint8_t id[PROTO_IDLEN])
{
	const struct member *m = proto_members_find(ms, id);

	return m != NULL && m->removal == MREMOVE_NONE;
}

int
proto_members_takes(const struct members *ms,
    const uint8_t author[PROTO_IDLEN], uint64_t seq)
{
	const struct member *m = proto_members_find(ms, author);

	if (m == NULL)
		return 0;
	return m->removal == MREMOVE_NONE || seq <= m->cutoff_seq;
}

size_t
proto_members_admins(const struct members *ms)
{
	size_t n = 0;

	for (size_t i = 0; ms != NULL && i < ms->n; i++)
		n += ms->m[i].removal == MREMOVE_NONE &&
		    ms->m[i].role == MROLE_ADMIN;
	return n;
}

/* ---- the text forms, and reading a change ---- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* lower case only: one spelling per value */
}

static int
hex_read(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void
hex_write(const uint8_t *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
}

/* A decimal without leading zeros (but "0"), up to UINT64_MAX - 1. */
static int
dec_read(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    v > (UINT64_MAX - 1 - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static size_t
dec_write(uint64_t v, char *out)
{
	char tmp[21];
	size_t n = 0, i = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		out[i++] = tmp[--n];
	return i;
}

static const char *
find_char(const char *s, const char *end, char c)
{
	while (s < end && *s != c)
		s++;
	return s;
}

int
proto_member_cutoff_parse(const char *s, size_t len, uint64_t *seq,
    uint8_t hash[PROTO_HASHLEN])
{
	const char *end = s + len, *colon = find_char(s, end, ':');

	if (colon == end || dec_read(s, (size_t)(colon - s), seq) != 0)
		return -1;
	return hex_read(colon + 1, (size_t)(end - colon - 1), hash,
	    PROTO_HASHLEN);
}

int
proto_member_refs_parse(const char *s, size_t len, struct write_ref *refs,
    size_t max, size_t *n)
{
	const char *end = s + len;

	*n = 0;
	if (len == 0)
		return 0;
	for (;;) {
		const char *stop = find_char(s, end, ',');
		const char *c1 = find_char(s, stop, ':');
		const char *c2 = find_char(c1 == stop ? stop : c1 + 1, stop,
		    ':');
		struct write_ref r;

		if (*n >= max || c1 == stop || c2 == stop ||
		    hex_read(s, (size_t)(c1 - s), r.author, PROTO_IDLEN) != 0 ||
		    dec_read(c1 + 1, (size_t)(c2 - c1 - 1), &r.seq) != 0 ||
		    hex_read(c2 + 1, (size_t)(stop - c2 - 1), r.hash,
		    PROTO_HASHLEN) != 0)
			return -1;
		r.has_hash = 1;
		refs[(*n)++] = r;
		if (stop == end)
			return 0;
		s = stop + 1;
	}
}

int
proto_member_refs_format(const struct write_ref *refs, size_t n, char *out,
    size_t cap)
{
	size_t o = 0;

	if (cap < n * (MEMBERS_REF_LEN + 1) + 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out[o++] = ',';
		hex_write(refs[i].author, PROTO_IDLEN, out + o);
		o += 2 * PROTO_IDLEN;
		out[o++] = ':';
		o += dec_write(refs[i].seq, out + o);
		out[o++] = ':';
		hex_write(refs[i].hash, PROTO_HASHLEN, out + o);
		o += 2 * PROTO_HASHLEN;
	}
	out[o] = '\0';
	return 0;
}

static int
field_is(const struct op *op, const char *name)
{
	return op->field_len == strlen(name) &&
	    memcmp(op->field, name, op->field_len) == 0;
}

static int
value_is(const struct op *op, const char *v)
{
	return op->value_len == strlen(v) &&
	    memcmp(op->value, v, op->value_len) == 0;
}

static int
entry_op(struct member_entry *e, const struct op *op, int *have_device)
{
	const char *v = (const char *)op->value;

	if (op->type != OP_SET || op->value == NULL)
		return -1;
	if (field_is(op, "device")) {
		*have_device = 1;
		return hex_read(v, op->value_len, e->target, PROTO_IDLEN);
	}
	if (field_is(op, "name")) {
		e->name = v;
		e->name_len = op->value_len;
	} else if (field_is(op, "role"))
		e->role = value_is(op, "admin") ? MROLE_ADMIN :
		    value_is(op, "teacher") ? MROLE_TEACHER :
		    value_is(op, "box") ? MROLE_BOX : MROLE_NONE;
	else if (field_is(op, "removed"))
		e->removal = value_is(op, "yes") ? MREMOVE_LEFT :
		    value_is(op, "lost") ? MREMOVE_LOST :
		    value_is(op, "no") ? MREMOVE_UNDO : MREMOVE_NONE;
	else if (field_is(op, "cutoff")) {
		e->has_cutoff = 1;
		return proto_member_cutoff_parse(v, op->value_len,
		    &e->cutoff_seq, e->cutoff_hash);
	}
	else if (field_is(op, "seen")) {
		e->has_seen = 1;
		return proto_member_refs_parse(v, op->value_len, e->seen,
		    MEMBERS_MAX_SEEN, &e->nseen);
	}
	return 0;	/* added_by, or a field of a later release */
}

int
proto_member_entry(struct member_entry *e, const struct change *c,
    const struct write_ref *ref, uint64_t hlc)
{
	int have_device = 0;

	memset(e, 0, sizeof(*e));
	e->ref = *ref;
	e->hlc = hlc;
	if (c->kind != KIND_MEMBER)
		return -1;
	for (size_t i = 0; i < c->nops; i++)
		if (entry_op(e, &c->ops[i], &have_device) != 0)
			return -1;
	/* The record's id is the device id's start: one record per device. */
	if (!have_device || memcmp(e->target, c->record_id,
	    PROTO_RECIDLEN) != 0)
		return -1;
	/* A removal without a cut-off keeps none of the device's entries. */
	return 0;
}
