/*
 * The merge, property-tested. Three authors edit the same few records
 * concurrently, each from its own view, exchanging entries at random
 * points; then every entry is applied in many orders (each author's own
 * entries in seq order) and the records must come out byte-identical, and
 * equal to a model computed straight from the entries. The same histories
 * then go through the real store as signed, sealed envelopes, and the
 * store's digest must not depend on the arrival order. Then the store's
 * refusals (duplicate, fork, gap, bad signature), a relay's entries, a
 * concurrent overwrite and its restore, and the store basics.
 *
 * Random but replayable: the seed is printed as "# seed N"; MERGE_SEED=N
 * replays it, MERGE_HISTORIES=N changes the number of histories (1000).
 * Stores are made in mkdtemp directories under /tmp and removed.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "proto.h"
#include "store.h"
#include "satchel.h"
#include "tap.h"

#define MT_AUTHORS		3
#define MT_MAXRECS		3
#define MT_MAXENTRIES		48	/* entries of one history */
#define MT_MAXOPS		3	/* ops of one change */
#define MT_ORDERS		8	/* arrival orders per history */
#define MT_HISTORIES		1000
#define MT_STORE_HISTORIES	30
#define MT_STORE_ORDERS		4
#define MT_MAX_REPORTS		5	/* failing histories described */
#define MT_DAY_MS		UINT64_C(86400000)
#define MT_EPOCH_MS		UINT64_C(1760000000000)	/* late 2025 */
#define MT_SET_FIELD		"tags"

static const char *const mt_fields[] = { "name", "body", "date" };
#define MT_NFIELDS	(sizeof(mt_fields) / sizeof(mt_fields[0]))
static const char *const mt_elems[] = { "red", "green", "blue" };
#define MT_NELEMS	(sizeof(mt_elems) / sizeof(mt_elems[0]))

/* ---------------------------------------------------------------- */
/* Seeded randomness and the environment */

struct mt_rng {
	uint64_t	s;
};

/* splitmix64 */
static uint64_t
mt_next(struct mt_rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static size_t
mt_below(struct mt_rng *r, size_t n)
{
	return n == 0 ? 0 : (size_t)(mt_next(r) % n);
}

static void
mt_fill(struct mt_rng *r, uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)mt_next(r);
}

/* One stream per (test, history), so that any history replays alone. */
static void
mt_rng_init(struct mt_rng *r, uint64_t seed, uint64_t stream,
    uint64_t index)
{
	r->s = seed;
	r->s = mt_next(r) ^ stream;
	r->s = mt_next(r) ^ index;
	(void)mt_next(r);
}

static int mt_env_bad;

static uint64_t
mt_seed(void)
{
	static int done;
	static uint64_t seed;
	const char *s;
	char *end;

	if (done)
		return seed;
	done = 1;
	s = getenv("MERGE_SEED");
	if (s != NULL && *s != '\0') {
		errno = 0;
		seed = strtoull(s, &end, 0);
		if (errno != 0 || *end != '\0') {
			printf("# MERGE_SEED='%s' is not a number\n", s);
			mt_env_bad = 1;
			randombytes_buf(&seed, sizeof(seed));
		}
	} else
		randombytes_buf(&seed, sizeof(seed));
	printf("# seed %" PRIu64 "\n", seed);
	printf("# replay with MERGE_SEED=%" PRIu64 "\n", seed);
	fflush(stdout);
	return seed;
}

static size_t
mt_histories(void)
{
	const char *s = getenv("MERGE_HISTORIES");
	unsigned long long n;
	char *end;

	if (s == NULL || *s == '\0')
		return MT_HISTORIES;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || n == 0 || n > 10000000) {
		printf("# MERGE_HISTORIES='%s' is not a count\n", s);
		mt_env_bad = 1;
		return MT_HISTORIES;
	}
	return (size_t)n;
}

/* ---------------------------------------------------------------- */
/* Temporary stores */

static int
mt_tmpdir(char dir[64])
{
	snprintf(dir, 64, "/tmp/satchel-merge-test.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

/* LMDB makes only files: data.mdb and lock.mdb. */
static void
mt_rmdir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", dir,
			    de->d_name) < (int)sizeof(path))
				unlink(path);
		}
		closedir(d);
	}
	if (rmdir(dir) != 0)
		printf("# could not remove %s: %s\n", dir, strerror(errno));
}

/* ---------------------------------------------------------------- */
/* Sealing entries */

struct mt_blob {
	uint8_t	*p;
	size_t	 len;
};

static void
mt_blob_free(struct mt_blob *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

/* Seals c as entry (pk, seq) after prev; hash gets the entry's hash. */
static int
mt_seal(const uint8_t pk[PROTO_IDLEN], const uint8_t sk[PROTO_SKLEN],
    uint64_t seq, const uint8_t prev[PROTO_HASHLEN], uint64_t hlc,
    const struct store_key *k, const struct change *c, struct mt_blob *out,
    uint8_t hash[PROTO_HASHLEN])
{
	struct envelope e;
	msgpack_sbuffer pt, sb;
	uint8_t *ct = NULL;
	int rc = -1;

	out->p = NULL;
	out->len = 0;
	msgpack_sbuffer_init(&pt);
	msgpack_sbuffer_init(&sb);
	memset(&e, 0, sizeof(e));
	e.version = PROTO_VERSION;
	memcpy(e.author, pk, PROTO_IDLEN);
	e.seq = seq;
	memcpy(e.prev_hash, prev, PROTO_HASHLEN);
	e.hlc = hlc;
	memcpy(e.key_id, k->id, PROTO_KEYIDLEN);
	e.scope = SCOPE_TEAM;
	if (proto_change_encode(c, &pt) != 0 ||
	    (ct = malloc(pt.size + PROTO_TAGLEN)) == NULL ||
	    proto_envelope_seal(&e, k->key, (const uint8_t *)pt.data, pt.size,
	    ct, sk) != 0 || proto_envelope_encode(&e, &sb) != 0 ||
	    (out->p = malloc(sb.size)) == NULL)
		goto out;
	memcpy(out->p, sb.data, sb.size);
	out->len = sb.size;
	if (hash != NULL)
		proto_envelope_hash(&e, hash);
	rc = 0;
out:
	free(ct);
	msgpack_sbuffer_destroy(&pt);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* One author's chain, for the hand-written store tests. */
struct mt_chain {
	uint8_t		pk[PROTO_IDLEN];
	uint8_t		sk[PROTO_SKLEN];
	uint64_t	seq;
	uint8_t		head[PROTO_HASHLEN];
};

static void
mt_chain_init(struct mt_chain *ch)
{
	memset(ch, 0, sizeof(*ch));
	crypto_sign_keypair(ch->pk, ch->sk);
}

static int
mt_chain_seal(struct mt_chain *ch, const struct store_key *k,
    const struct change *c, uint64_t hlc, struct mt_blob *out)
{
	uint8_t hash[PROTO_HASHLEN];

	if (mt_seal(ch->pk, ch->sk, ch->seq + 1, ch->head, hlc, k, c, out,
	    hash) != 0)
		return -1;
	ch->seq++;
	memcpy(ch->head, hash, PROTO_HASHLEN);
	return 0;
}

static void
mt_key(struct store_key *k)
{
	randombytes_buf(k->key, sizeof(k->key));
	proto_key_id(k->key, k->id);
}

static void
mt_ref(struct write_ref *ref, const uint8_t *author, uint64_t seq)
{
	memcpy(ref->author, author, PROTO_IDLEN);
	ref->seq = seq;
}

/* ---------------------------------------------------------------- */
/* Random histories */

struct mt_entry {
	int		 author;
	size_t		 rec;
	uint64_t	 seq;
	uint64_t	 hlc;
	struct change	 c;		/* values point into vals */
	char		 vals[MT_MAXOPS][24];
	struct mt_blob	 env;		/* sealed form, store tests only */
};

struct mt_author {
	uint8_t		 pk[PROTO_IDLEN];
	uint8_t		 sk[PROTO_SKLEN];
	uint64_t	 skew;		/* added to the shared wall clock */
	uint64_t	 hlc;		/* greatest clock value seen or made */
	size_t		 seen[MT_AUTHORS];	/* entries applied, per author */
	struct record	*view[MT_MAXRECS];
	size_t		 nlog;
	struct mt_entry	*log[MT_MAXENTRIES];
	uint8_t		 head[PROTO_HASHLEN];	/* hash of the last entry */
};

struct mt_hist {
	size_t		 nrecs;
	uint8_t		 kind[MT_MAXRECS];
	uint8_t		 id[MT_MAXRECS][PROTO_RECIDLEN];
	uint64_t	 now;		/* the shared fake wall clock */
	struct mt_author a[MT_AUTHORS];
	size_t		 n;
	struct mt_entry	 e[MT_MAXENTRIES];
	int		 bad;		/* a view refused an op, or a clock ran back */
};

static void
mt_hist_free(struct mt_hist *h)
{
	for (size_t i = 0; i < MT_AUTHORS; i++)
		for (size_t r = 0; r < MT_MAXRECS; r++) {
			record_free(h->a[i].view[r]);
			h->a[i].view[r] = NULL;
		}
	for (size_t i = 0; i < h->n; i++)
		mt_blob_free(&h->e[i].env);
	h->n = 0;
}

static void
mt_entry_ref(const struct mt_hist *h, const struct mt_entry *e,
    struct write_ref *ref)
{
	mt_ref(ref, h->a[e->author].pk, e->seq);
}

static int
mt_apply_entry(const struct mt_hist *h, struct record *const *recs,
    const struct mt_entry *e)
{
	struct write_ref ref;

	mt_entry_ref(h, e, &ref);
	for (size_t i = 0; i < e->c.nops; i++)
		if (record_apply(recs[e->rec], e->hlc, &ref, &e->c.ops[i]) != 0)
			return -1;
	return 0;
}

/* Author i receives e: its view, its vector and its clock move on. */
static void
mt_receive(struct mt_hist *h, int i, const struct mt_entry *e)
{
	struct mt_author *a = &h->a[i];

	if (a->seen[e->author] + 1 != e->seq ||
	    mt_apply_entry(h, a->view, e) != 0)
		h->bad = 1;
	a->seen[e->author] = e->seq;
	a->hlc = proto_hlc_seen(a->hlc, e->hlc, UINT64_C(1) << 47);
}

static void
mt_catch_up(struct mt_hist *h, int i, int k, size_t upto)
{
	while (h->a[i].seen[k] < upto)
		mt_receive(h, i, h->a[k].log[h->a[i].seen[k]]);
}

/* Author i edits one record from its own view, as the satchel commands
 * do: a set names the heads it sees, a remove the add tags it sees. */
static void
mt_write(struct mt_hist *h, int i, struct mt_rng *rng)
{
	struct mt_author *a = &h->a[i];
	struct mt_entry *e;
	const struct record *view;
	int used[MT_NFIELDS] = { 0 }, tomb = 0;
	size_t nops;
	uint64_t before;

	if (h->n == MT_MAXENTRIES)
		return;
	e = &h->e[h->n++];
	memset(e, 0, sizeof(*e));
	e->author = i;
	e->rec = mt_below(rng, h->nrecs);
	e->seq = a->nlog + 1;
	before = a->hlc;
	e->hlc = a->hlc = proto_hlc_now(a->hlc, h->now + a->skew);
	if (e->hlc <= before)
		h->bad = 1;
	view = a->view[e->rec];
	change_init(&e->c, h->kind[e->rec], h->id[e->rec]);
	nops = 1 + mt_below(rng, MT_MAXOPS);
	for (size_t k = 0; k < nops; k++) {
		size_t f, x = mt_below(rng, 10);
		char *v = e->vals[k];
		int rc = 0;

		if (x < 5) {
			if (used[f = mt_below(rng, MT_NFIELDS)]++)
				continue;
			if (mt_below(rng, 4) == 0)	/* a value others use */
				snprintf(v, sizeof(e->vals[k]), "same");
			else
				snprintf(v, sizeof(e->vals[k]),
				    "%c%" PRIu64 ".%zu", 'A' + i, e->seq, k);
			rc = change_set(&e->c, view, mt_fields[f], v);
		} else if (x < 7)
			rc = change_add(&e->c, MT_SET_FIELD,
			    mt_elems[mt_below(rng, MT_NELEMS)]);
		else if (x < 9)
			rc = change_remove(&e->c, view, MT_SET_FIELD,
			    mt_elems[mt_below(rng, MT_NELEMS)]);
		else if (!tomb++)
			rc = change_tombstone(&e->c, view,
			    mt_below(rng, 3) != 0);
		if (rc != 0)
			h->bad = 1;
	}
	if (e->c.nops == 0 && change_set(&e->c, view, mt_fields[0],
	    "only") != 0)
		h->bad = 1;
	a->log[a->nlog++] = e;
	mt_receive(h, i, e);
}

/* Author i hears from author j: everything j holds, or one author's
 * entries up to some seq (a cut connection). */
static void
mt_sync(struct mt_hist *h, int i, int j, struct mt_rng *rng)
{
	const struct mt_author *from = &h->a[j];
	const struct mt_author *to = &h->a[i];
	int k;

	if (mt_below(rng, 3) != 0) {
		int start = (int)mt_below(rng, MT_AUTHORS);

		for (int n = 0; n < MT_AUTHORS; n++) {
			k = (start + n) % MT_AUTHORS;
			mt_catch_up(h, i, k, from->seen[k]);
		}
		return;
	}
	k = (int)mt_below(rng, MT_AUTHORS);
	if (from->seen[k] > to->seen[k])
		mt_catch_up(h, i, k, to->seen[k] + 1 +
		    mt_below(rng, from->seen[k] - to->seen[k]));
}

static void
mt_hist_gen(struct mt_hist *h, struct mt_rng *rng)
{
	static const uint64_t ticks[] = { 0, 0, 1, 3, 250, 60000 };
	size_t steps;

	memset(h, 0, sizeof(*h));
	h->nrecs = 2 + mt_below(rng, MT_MAXRECS - 1);
	for (size_t r = 0; r < h->nrecs; r++) {
		h->kind[r] = (uint8_t)(1 + mt_below(rng, KIND_MAX));
		mt_fill(rng, h->id[r], PROTO_RECIDLEN);
	}
	h->now = MT_EPOCH_MS + mt_below(rng, 1000000);
	for (int i = 0; i < MT_AUTHORS; i++) {
		struct mt_author *a = &h->a[i];
		uint8_t seed[crypto_sign_SEEDBYTES];

		mt_fill(rng, seed, sizeof(seed));
		crypto_sign_seed_keypair(a->pk, a->sk, seed);
		switch (mt_below(rng, 5)) {
		case 0:
		case 1:
			a->skew = MT_DAY_MS;		/* on time */
			break;
		case 2:
			a->skew = MT_DAY_MS + mt_below(rng, 500);
			break;
		case 3:
			a->skew = 0;			/* a day behind */
			break;
		default:
			a->skew = 2 * MT_DAY_MS;	/* a day ahead */
			break;
		}
		for (size_t r = 0; r < h->nrecs; r++)
			if ((a->view[r] = record_new(h->kind[r],
			    h->id[r])) == NULL)
				h->bad = 1;
	}
	steps = 8 + mt_below(rng, 2 * MT_MAXENTRIES);
	for (size_t s = 0; s < steps && h->n < MT_MAXENTRIES; s++) {
		int i = (int)mt_below(rng, MT_AUTHORS);

		h->now += ticks[mt_below(rng, sizeof(ticks) /
		    sizeof(ticks[0]))];
		if (mt_below(rng, 100) < 55)
			mt_write(h, i, rng);
		else
			mt_sync(h, i, (i + 1 + (int)mt_below(rng,
			    MT_AUTHORS - 1)) % MT_AUTHORS, rng);
	}
}

/* Every author receives everything. */
static void
mt_sync_all(struct mt_hist *h)
{
	for (int i = 0; i < MT_AUTHORS; i++)
		for (int k = 0; k < MT_AUTHORS; k++)
			mt_catch_up(h, i, k, h->a[k].nlog);
}

/* A random interleaving of the authors' logs, each in seq order; every
 * interleaving equally likely. */
static void
mt_order(const struct mt_hist *h, struct mt_rng *rng,
    const struct mt_entry **out)
{
	size_t pos[MT_AUTHORS] = { 0 };

	for (size_t n = 0; n < h->n; n++) {
		size_t pick = mt_below(rng, h->n - n);
		int k;

		for (k = 0; k < MT_AUTHORS; k++) {
			size_t left = h->a[k].nlog - pos[k];

			if (pick < left)
				break;
			pick -= left;
		}
		out[n] = h->a[k].log[pos[k]++];
	}
}

/* The same, with entries delivered again at random later points. */
static size_t
mt_order_dups(const struct mt_hist *h, struct mt_rng *rng,
    const struct mt_entry **out)
{
	const struct mt_entry *once[MT_MAXENTRIES];
	size_t n = 0;

	mt_order(h, rng, once);
	for (size_t i = 0; i < h->n; i++) {
		out[n++] = once[i];
		if (mt_below(rng, 3) == 0)
			out[n++] = once[mt_below(rng, i + 1)];
	}
	return n;
}

static void
mt_recs_free(struct record **recs, size_t n)
{
	for (size_t r = 0; r < n; r++) {
		record_free(recs[r]);
		recs[r] = NULL;
	}
}

/* Applies entries in order to fresh records. */
static int
mt_merge(const struct mt_hist *h, const struct mt_entry *const *order,
    size_t n, struct record **recs)
{
	for (size_t r = 0; r < h->nrecs; r++)
		if ((recs[r] = record_new(h->kind[r], h->id[r])) == NULL)
			return -1;
	for (size_t i = 0; i < n; i++)
		if (mt_apply_entry(h, recs, order[i]) != 0)
			return -1;
	return 0;
}

static int
mt_encode_all(struct record *const *recs, size_t n, msgpack_sbuffer *sb)
{
	for (size_t r = 0; r < n; r++)
		if (record_encode(recs[r], sb) != 0)
			return -1;
	return 0;
}

static int
mt_same(const msgpack_sbuffer *a, const msgpack_sbuffer *b)
{
	return a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

/* ---------------------------------------------------------------- */
/* The model: what the merged state must be, from the entries alone */

struct mt_refs {
	size_t		 n;
	struct write_ref r[MT_MAXENTRIES * MT_MAXOPS * PROTO_MAX_PREDS];
};

static int
mt_refs_has(const struct mt_refs *s, const struct write_ref *r)
{
	for (size_t i = 0; i < s->n; i++)
		if (write_ref_cmp(&s->r[i], r) == 0)
			return 1;
	return 0;
}

static void
mt_refs_add(struct mt_refs *s, const struct write_ref *r)
{
	if (!mt_refs_has(s, r))
		s->r[s->n++] = *r;
}

static int
mt_op_is(const struct op *op, const char *field, int set_op)
{
	if (set_op)
		return (op->type == OP_ADD || op->type == OP_REMOVE) &&
		    op->field_len == strlen(field) &&
		    memcmp(op->field, field, op->field_len) == 0;
	if (strcmp(field, RECORD_DELETED_FIELD) == 0)
		return op->type == OP_DELETE || op->type == OP_UNDELETE;
	return op->type == OP_SET && op->field_len == strlen(field) &&
	    memcmp(op->field, field, op->field_len) == 0;
}

struct mt_write {
	uint64_t	 hlc;
	struct write_ref ref;
	const char	*value;
	size_t		 len;
};

/* A register's heads: every write no write names, winner (the greatest
 * hlc, then author, then seq) first. */
static int
mt_check_register(const struct mt_hist *h, size_t rec,
    const struct record *r, const char *field, char *why, size_t whylen)
{
	static struct mt_refs preds;
	struct mt_write w[MT_MAXENTRIES], heads[MT_MAXENTRIES], t;
	const struct rec_register *reg = record_register(r, field);
	size_t nw = 0, nh = 0;

	preds.n = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct mt_entry *e = &h->e[i];
		int first = 1;

		if (e->rec != rec)
			continue;
		for (size_t k = 0; k < e->c.nops; k++) {
			const struct op *op = &e->c.ops[k];

			if (!mt_op_is(op, field, 0))
				continue;
			for (size_t p = 0; p < op->npreds; p++)
				mt_refs_add(&preds, &op->preds[p]);
			if (!first)
				continue;
			first = 0;
			w[nw].hlc = e->hlc;
			mt_entry_ref(h, e, &w[nw].ref);
			if (op->type == OP_SET) {
				w[nw].value = (const char *)op->value;
				w[nw].len = op->value_len;
			} else {
				w[nw].value = "1";
				w[nw].len = op->type == OP_DELETE;
			}
			nw++;
		}
	}
	if (nw == 0) {
		if (reg != NULL)
			snprintf(why, whylen, "%s: a register nobody wrote",
			    field);
		return reg == NULL ? 0 : -1;
	}
	for (size_t i = 0; i < nw; i++)
		if (!mt_refs_has(&preds, &w[i].ref))
			heads[nh++] = w[i];
	for (size_t i = 1; i < nh; i++)		/* insertion sort */
		for (size_t j = i; j > 0; j--) {
			const struct mt_write *x = &heads[j - 1], *y = &heads[j];
			int c = x->hlc != y->hlc ? (x->hlc < y->hlc ? -1 : 1) :
			    write_ref_cmp(&x->ref, &y->ref);

			if (c >= 0)
				break;
			t = heads[j - 1];
			heads[j - 1] = heads[j];
			heads[j] = t;
		}
	if (reg == NULL || reg->nheads != nh || reg->nsup != preds.n) {
		snprintf(why, whylen, "%s: %zu heads and %zu replaced, the "
		    "model says %zu and %zu", field, reg ? reg->nheads : 0,
		    reg ? reg->nsup : 0, nh, preds.n);
		return -1;
	}
	for (size_t i = 0; i < nh; i++) {
		const struct rec_write *rw = &reg->heads[i];

		if (rw->hlc != heads[i].hlc ||
		    write_ref_cmp(&rw->ref, &heads[i].ref) != 0 ||
		    rw->value_len != heads[i].len ||
		    memcmp(rw->value, heads[i].value, heads[i].len) != 0) {
			snprintf(why, whylen, "%s: head %zu is %s:%" PRIu64
			    ", the model says %s:%" PRIu64, field, i,
			    rw->value, rw->ref.seq, heads[i].value,
			    heads[i].ref.seq);
			return -1;
		}
	}
	for (size_t i = 0; i < reg->nsup; i++)
		if (!mt_refs_has(&preds, &reg->sup[i])) {
			snprintf(why, whylen, "%s: replaced write the model "
			    "does not know", field);
			return -1;
		}
	return 0;
}

/* An element's live add tags: every add no remove names. */
static int
mt_check_elem(const struct mt_hist *h, size_t rec, const struct record *r,
    const char *elem, char *why, size_t whylen)
{
	static struct mt_refs adds, rems;
	const struct rec_set *s = record_set(r, MT_SET_FIELD);
	const struct rec_elem *el = NULL;
	size_t live = 0, touched = 0;

	adds.n = rems.n = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct mt_entry *e = &h->e[i];

		if (e->rec != rec)
			continue;
		for (size_t k = 0; k < e->c.nops; k++) {
			const struct op *op = &e->c.ops[k];
			struct write_ref ref;

			if (!mt_op_is(op, MT_SET_FIELD, 1) ||
			    strcmp((const char *)op->value, elem) != 0)
				continue;
			touched++;
			if (op->type == OP_ADD) {
				mt_entry_ref(h, e, &ref);
				mt_refs_add(&adds, &ref);
			} else
				for (size_t p = 0; p < op->npreds; p++)
					mt_refs_add(&rems, &op->preds[p]);
		}
	}
	for (size_t i = 0; s != NULL && i < s->nelems; i++)
		if (strcmp(s->elems[i].value, elem) == 0)
			el = &s->elems[i];
	if (touched == 0) {
		if (el != NULL)
			snprintf(why, whylen, "element %s: nobody touched it",
			    elem);
		return el == NULL ? 0 : -1;
	}
	if (el == NULL) {
		snprintf(why, whylen, "element %s: missing", elem);
		return -1;
	}
	for (size_t i = 0; i < adds.n; i++) {
		size_t j;

		if (mt_refs_has(&rems, &adds.r[i]))
			continue;
		live++;
		for (j = 0; j < el->nadds; j++)
			if (write_ref_cmp(&el->adds[j], &adds.r[i]) == 0)
				break;
		if (j == el->nadds) {
			snprintf(why, whylen, "element %s: a live add tag is "
			    "missing", elem);
			return -1;
		}
	}
	if (el->nadds != live || el->nrems != rems.n ||
	    rec_elem_present(el) != (live > 0)) {
		snprintf(why, whylen, "element %s: %zu adds, %zu removes, "
		    "the model says %zu and %zu", elem, el->nadds, el->nrems,
		    live, rems.n);
		return -1;
	}
	return 0;
}

static int
mt_check_model(const struct mt_hist *h, struct record *const *recs,
    char *why, size_t whylen)
{
	for (size_t r = 0; r < h->nrecs; r++) {
		size_t nregs = 0;

		for (size_t f = 0; f <= MT_NFIELDS; f++) {
			const char *name = f < MT_NFIELDS ? mt_fields[f] :
			    RECORD_DELETED_FIELD;

			if (mt_check_register(h, r, recs[r], name, why,
			    whylen) != 0)
				return -1;
			nregs += record_register(recs[r], name) != NULL;
		}
		for (size_t x = 0; x < MT_NELEMS; x++)
			if (mt_check_elem(h, r, recs[r], mt_elems[x], why,
			    whylen) != 0)
				return -1;
		if (recs[r]->nregs != nregs || recs[r]->nsets > 1) {
			snprintf(why, whylen, "registers or sets nobody "
			    "wrote");
			return -1;
		}
	}
	return 0;
}

/* Canonical bytes decode and encode back to themselves. */
static int
mt_roundtrip(struct record *const *recs, size_t n)
{
	for (size_t r = 0; r < n; r++) {
		msgpack_sbuffer a, b;
		struct record *d = NULL;
		int ok;

		msgpack_sbuffer_init(&a);
		msgpack_sbuffer_init(&b);
		ok = record_encode(recs[r], &a) == 0 &&
		    record_decode(&d, (const uint8_t *)a.data, a.size) == 0 &&
		    record_encode(d, &b) == 0 && mt_same(&a, &b);
		record_free(d);
		msgpack_sbuffer_destroy(&a);
		msgpack_sbuffer_destroy(&b);
		if (!ok)
			return -1;
	}
	return 0;
}

/* Statistics, so that a generator gone tame is noticed. */
struct mt_stats {
	size_t	entries;
	size_t	conflicts;	/* histories ending with a two-headed register */
	size_t	concurrent_sets;	/* ... with an add a remove had not seen */
};

static void
mt_stats_add(struct mt_stats *st, const struct mt_hist *h,
    struct record *const *recs)
{
	int conflict = 0, survivor = 0;

	st->entries += h->n;
	for (size_t r = 0; r < h->nrecs; r++) {
		const struct rec_set *s = record_set(recs[r], MT_SET_FIELD);

		for (size_t i = 0; i < recs[r]->nregs; i++)
			conflict |= recs[r]->regs[i].nheads > 1;
		for (size_t i = 0; s != NULL && i < s->nelems; i++)
			survivor |= s->elems[i].nadds > 0 &&
			    s->elems[i].nrems > 0;
	}
	st->conflicts += conflict;
	st->concurrent_sets += survivor;
}

/* One history: the merge in MT_ORDERS orders, with duplicates, and in
 * every author's view after a full sync, against the model. */
static int
mt_check_history(struct mt_hist *h, struct mt_rng *rng,
    struct mt_stats *st, char *why, size_t whylen)
{
	const struct mt_entry *order[2 * MT_MAXENTRIES];
	struct record *ref[MT_MAXRECS] = { 0 }, *got[MT_MAXRECS] = { 0 };
	msgpack_sbuffer want, sb;
	int rc = -1;

	msgpack_sbuffer_init(&want);
	msgpack_sbuffer_init(&sb);
	if (h->bad) {
		snprintf(why, whylen, "an author's view refused an op");
		goto out;
	}
	for (size_t i = 0; i < h->n; i++)	/* the order they were made */
		order[i] = &h->e[i];
	if (mt_merge(h, order, h->n, ref) != 0 ||
	    mt_encode_all(ref, h->nrecs, &want) != 0) {
		snprintf(why, whylen, "record_apply or record_encode failed");
		goto out;
	}
	if (mt_check_model(h, ref, why, whylen) != 0)
		goto out;
	if (mt_roundtrip(ref, h->nrecs) != 0) {
		snprintf(why, whylen, "record_decode(record_encode(r)) "
		    "encodes differently");
		goto out;
	}
	mt_stats_add(st, h, ref);
	for (int o = 1; o <= MT_ORDERS; o++) {
		size_t n = h->n;

		if (o < MT_ORDERS)
			mt_order(h, rng, order);
		else
			n = mt_order_dups(h, rng, order);
		msgpack_sbuffer_clear(&sb);
		if (mt_merge(h, order, n, got) != 0 ||
		    mt_encode_all(got, h->nrecs, &sb) != 0 ||
		    !mt_same(&want, &sb)) {
			snprintf(why, whylen, "arrival order %d%s gives other "
			    "bytes", o, o == MT_ORDERS ?
			    " (with duplicates)" : "");
			goto out;
		}
		mt_recs_free(got, h->nrecs);
	}
	mt_sync_all(h);
	for (int i = 0; i < MT_AUTHORS; i++) {
		msgpack_sbuffer_clear(&sb);
		if (h->bad || mt_encode_all(h->a[i].view, h->nrecs, &sb) != 0 ||
		    !mt_same(&want, &sb)) {
			snprintf(why, whylen, "author %d's view after a full "
			    "sync differs", i);
			goto out;
		}
	}
	rc = 0;
out:
	mt_recs_free(ref, MT_MAXRECS);
	mt_recs_free(got, MT_MAXRECS);
	msgpack_sbuffer_destroy(&want);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static void
test_merge_records(void)
{
	uint64_t seed = mt_seed();
	size_t nhist = mt_histories(), nfail = 0;
	struct mt_stats st = { 0, 0, 0 };
	struct mt_hist *h = calloc(1, sizeof(*h));
	char why[256];

	CHECK(!mt_env_bad);
	CHECK(h != NULL);
	if (h == NULL)
		return;
	for (size_t hi = 0; hi < nhist && nfail < MT_MAX_REPORTS; hi++) {
		struct mt_rng rng;

		mt_rng_init(&rng, seed, 1, hi);
		mt_hist_gen(h, &rng);
		if (mt_check_history(h, &rng, &st, why, sizeof(why)) != 0) {
			printf("# history %zu (seed %" PRIu64 "): %s\n", hi,
			    seed, why);
			nfail++;
		}
		mt_hist_free(h);
	}
	free(h);
	CHECK(nfail == 0);
	printf("# %zu histories, %zu entries; %zu end in a conflict, %zu "
	    "with an add a remove had not seen\n", nhist, st.entries,
	    st.conflicts, st.concurrent_sets);
	if (nhist >= 100) {	/* the generator makes real concurrency */
		CHECK(st.conflicts > nhist / 10);
		CHECK(st.concurrent_sets > nhist / 10);
	}
}

/* ---------------------------------------------------------------- */
/* The same histories through the store */

static int
mt_seal_history(struct mt_hist *h, const struct store_key *k)
{
	for (int i = 0; i < MT_AUTHORS; i++) {
		struct mt_author *a = &h->a[i];

		memset(a->head, 0, PROTO_HASHLEN);
		for (size_t s = 0; s < a->nlog; s++) {
			struct mt_entry *e = a->log[s];

			if (mt_seal(a->pk, a->sk, e->seq, a->head, e->hlc, k,
			    &e->c, &e->env, a->head) != 0)
				return -1;
		}
	}
	return 0;
}

struct mt_store_run {
	uint8_t		 digest[PROTO_HASHLEN];
	size_t		 dups, gaps;
};

static int
mt_check_heads(struct store_txn *t, const struct mt_hist *h)
{
	for (int i = 0; i < MT_AUTHORS; i++) {
		uint8_t hash[PROTO_HASHLEN];
		uint64_t seq;

		if (store_head_get(t, h->a[i].pk, &seq, hash) != 0 ||
		    seq != h->a[i].nlog ||
		    memcmp(hash, h->a[i].head, PROTO_HASHLEN) != 0)
			return -1;
	}
	return 0;
}

/* The store's records equal the in-memory merge's; untouched ones are
 * absent. */
static int
mt_check_store_records(struct store_txn *t, const struct mt_hist *h,
    struct record *const *ref)
{
	for (size_t r = 0; r < h->nrecs; r++) {
		struct record *got = NULL;
		msgpack_sbuffer a, b;
		int rc = store_record_get(t, h->kind[r], h->id[r], &got), ok;

		if (ref[r]->nregs == 0 && ref[r]->nsets == 0) {
			record_free(got);
			if (rc != STORE_ENOTFOUND)
				return -1;
			continue;
		}
		if (rc != 0)
			return -1;
		msgpack_sbuffer_init(&a);
		msgpack_sbuffer_init(&b);
		ok = record_encode(ref[r], &a) == 0 &&
		    record_encode(got, &b) == 0 && mt_same(&a, &b);
		msgpack_sbuffer_destroy(&a);
		msgpack_sbuffer_destroy(&b);
		record_free(got);
		if (!ok)
			return -1;
	}
	return 0;
}

/* Applies every entry in order to a fresh store, committing at random
 * points; re-delivers held entries (STORE_EDUP) and offers entries too
 * early (STORE_EGAP) on the way. */
static int
mt_store_apply(const struct mt_hist *h, const struct store_keyring *kr,
    const struct mt_entry *const *order, struct mt_rng *rng,
    struct record *const *ref, struct mt_store_run *run, char *why,
    size_t whylen)
{
	struct store *st = NULL;
	struct store_txn *t = NULL;
	size_t applied[MT_AUTHORS] = { 0 };
	uint64_t nentries = 0;
	char dir[64];
	int rc = -1, erc;

	if (mt_tmpdir(dir) != 0) {
		snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	if ((erc = store_open(&st, dir, STORE_CREATE)) != 0 ||
	    (erc = store_begin(st, 0, &t)) != 0) {
		snprintf(why, whylen, "store_open/begin: %s",
		    store_strerror(erc));
		goto out;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct mt_entry *e = order[i];

		if (i > 0 && mt_below(rng, 6) == 0) {
			const struct mt_entry *d = order[mt_below(rng, i)];

			if ((erc = store_apply_entry(t, kr, d->env.p,
			    d->env.len, 1)) != STORE_EDUP) {
				snprintf(why, whylen, "a held entry again: "
				    "%s, not STORE_EDUP", store_strerror(erc));
				goto out;
			}
			run->dups++;
		}
		if (mt_below(rng, 6) == 0) {
			int k = (int)mt_below(rng, MT_AUTHORS);

			if (h->a[k].nlog >= applied[k] + 2) {
				const struct mt_entry *g =
				    h->a[k].log[applied[k] + 1];

				if ((erc = store_apply_entry(t, kr, g->env.p,
				    g->env.len, 1)) != STORE_EGAP) {
					snprintf(why, whylen, "an entry past "
					    "the next seq: %s, not STORE_EGAP",
					    store_strerror(erc));
					goto out;
				}
				run->gaps++;
			}
		}
		if ((erc = store_apply_entry(t, kr, e->env.p, e->env.len,
		    1)) != 0) {
			snprintf(why, whylen, "entry %d:%" PRIu64 ": %s",
			    e->author, e->seq, store_strerror(erc));
			goto out;
		}
		applied[e->author]++;
		if (mt_below(rng, 12) == 0) {
			erc = store_commit(t);
			t = NULL;
			if (erc != 0 || (erc = store_begin(st, 0, &t)) != 0) {
				snprintf(why, whylen, "commit/begin: %s",
				    store_strerror(erc));
				goto out;
			}
		}
	}
	erc = store_commit(t);
	t = NULL;
	if (erc != 0 || (erc = store_begin(st, STORE_RDONLY, &t)) != 0) {
		snprintf(why, whylen, "commit: %s", store_strerror(erc));
		goto out;
	}
	if ((erc = store_digest(t, run->digest)) != 0) {
		snprintf(why, whylen, "store_digest: %s", store_strerror(erc));
		goto out;
	}
	if (store_verify_log(t, &nentries) != 0 || nentries != h->n) {
		snprintf(why, whylen, "store_verify_log: %" PRIu64 " of %zu",
		    nentries, h->n);
		goto out;
	}
	if (mt_check_heads(t, h) != 0) {
		snprintf(why, whylen, "an author's head is not its last "
		    "entry");
		goto out;
	}
	if (mt_check_store_records(t, h, ref) != 0) {
		snprintf(why, whylen, "the store's records differ from the "
		    "in-memory merge");
		goto out;
	}
	rc = 0;
out:
	store_abort(t);
	store_close(st);
	mt_rmdir(dir);
	return rc;
}

static void
test_merge_store(void)
{
	uint64_t seed = mt_seed();
	struct mt_hist *h = calloc(1, sizeof(*h));
	struct store_keyring *kr = calloc(1, sizeof(*kr));
	size_t nfail = 0, dups = 0, gaps = 0, runs = 0;
	char why[256];

	CHECK(h != NULL && kr != NULL);
	if (h == NULL || kr == NULL)
		goto out;
	kr->nkeys = 1;
	mt_key(&kr->keys[0]);
	for (size_t hi = 0; hi < MT_STORE_HISTORIES && nfail < MT_MAX_REPORTS;
	    hi++) {
		const struct mt_entry *order[MT_MAXENTRIES];
		struct record *ref[MT_MAXRECS] = { 0 };
		uint8_t first[PROTO_HASHLEN];
		struct mt_rng rng;
		int bad = 0;

		mt_rng_init(&rng, seed, 2, hi);
		mt_hist_gen(h, &rng);
		for (size_t i = 0; i < h->n; i++)
			order[i] = &h->e[i];
		if (h->bad || mt_seal_history(h, &kr->keys[0]) != 0 ||
		    mt_merge(h, order, h->n, ref) != 0) {
			snprintf(why, sizeof(why), "could not build the "
			    "history");
			bad = 1;
		}
		for (int o = 0; o < MT_STORE_ORDERS && !bad; o++) {
			struct mt_store_run run;

			memset(&run, 0, sizeof(run));
			if (o > 0)
				mt_order(h, &rng, order);
			if (mt_store_apply(h, kr, order, &rng, ref, &run, why,
			    sizeof(why)) != 0)
				bad = 1;
			else if (o == 0)
				memcpy(first, run.digest, PROTO_HASHLEN);
			else if (memcmp(first, run.digest, PROTO_HASHLEN) != 0) {
				snprintf(why, sizeof(why), "arrival order %d "
				    "gives another digest", o);
				bad = 1;
			}
			dups += run.dups;
			gaps += run.gaps;
			runs++;
		}
		if (bad) {
			printf("# store history %zu (seed %" PRIu64 "): %s\n",
			    hi, seed, why);
			nfail++;
		}
		mt_recs_free(ref, MT_MAXRECS);
		mt_hist_free(h);
	}
	CHECK(nfail == 0);
	printf("# %zu stores filled; %zu duplicates and %zu gaps refused on "
	    "the way\n", runs, dups, gaps);
	CHECK(dups > 0 && gaps > 0);
out:
	free(h);
	free(kr);
}

/* ---------------------------------------------------------------- */
/* The store's refusals and a relay's entries */

struct mt_fixture {
	char		 dir[64];
	struct store	*st;
};

static int
mt_fixture_open(struct mt_fixture *f)
{
	f->st = NULL;
	if (mt_tmpdir(f->dir) != 0)
		return -1;
	if (store_open(&f->st, f->dir, STORE_CREATE) != 0) {
		mt_rmdir(f->dir);
		return -1;
	}
	return 0;
}

static void
mt_fixture_close(struct mt_fixture *f)
{
	store_close(f->st);
	f->st = NULL;
	mt_rmdir(f->dir);
}

/* Applies one entry in its own transaction, committed whatever the
 * result, as a sync batch of one would be. */
static int
mt_apply1(struct store *st, const struct store_keyring *kr,
    const struct mt_blob *b)
{
	struct store_txn *t;
	int rc, crc;

	if ((rc = store_begin(st, 0, &t)) != 0)
		return rc;
	rc = store_apply_entry(t, kr, b->p, b->len, 1);
	if (rc != 0 && rc != STORE_EDUP && rc != STORE_EFORK &&
	    rc != STORE_EGAP && rc != STORE_EBADENTRY) {
		store_abort(t);
		return rc;
	}
	crc = store_commit(t);
	return rc != 0 ? rc : crc;
}

/* What a reader sees: the digest and one author's head. */
struct mt_snap {
	uint8_t		digest[PROTO_HASHLEN];
	uint64_t	seq;
	uint8_t		hash[PROTO_HASHLEN];
	uint64_t	nentries;
};

static int
mt_snap(struct store *st, const uint8_t *author, struct mt_snap *s)
{
	struct store_txn *t;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = store_begin(st, STORE_RDONLY, &t)) != 0)
		return rc;
	if ((rc = store_digest(t, s->digest)) == 0 &&
	    (rc = store_head_get(t, author, &s->seq, s->hash)) == 0)
		rc = store_verify_log(t, &s->nentries);
	store_abort(t);
	return rc;
}

static int
mt_snap_eq(const struct mt_snap *a, const struct mt_snap *b)
{
	return memcmp(a->digest, b->digest, PROTO_HASHLEN) == 0 &&
	    a->seq == b->seq && memcmp(a->hash, b->hash, PROTO_HASHLEN) == 0 &&
	    a->nentries == b->nentries;
}

static void
mt_change_name(struct change *c, const uint8_t *id, const char *value)
{
	change_init(c, KIND_STUDENT, id);
	if (change_set(c, NULL, "name", value) != 0)
		c->nops = 0;
}

static void
test_store_refusals(void)
{
	struct mt_fixture f;
	struct store_keyring *kr = calloc(1, sizeof(*kr));
	struct store_key other;
	struct mt_chain a, relay;
	struct mt_blob e1 = { 0 }, e2 = { 0 }, e3 = { 0 }, fork1 = { 0 };
	struct mt_blob bad = { 0 }, wrongprev = { 0 }, r1 = { 0 }, r2 = { 0 };
	struct mt_snap s0, s1, s2;
	struct change *c = calloc(1, sizeof(*c));
	uint8_t id[PROTO_RECIDLEN], rid[PROTO_RECIDLEN], junk[PROTO_HASHLEN];
	uint64_t hlc = proto_hlc_now(0, MT_EPOCH_MS);
	struct store_txn *t;
	struct record *r;

	CHECK(kr != NULL && c != NULL);
	if (kr == NULL || c == NULL || mt_fixture_open(&f) != 0) {
		CHECK(!"a store to test in");
		free(kr);
		free(c);
		return;
	}
	kr->nkeys = 1;
	mt_key(&kr->keys[0]);
	mt_key(&other);
	mt_chain_init(&a);
	mt_chain_init(&relay);
	randombytes_buf(id, sizeof(id));
	randombytes_buf(rid, sizeof(rid));

	mt_change_name(c, id, "one");
	CHECK(mt_chain_seal(&a, &kr->keys[0], c, hlc + 1, &e1) == 0);
	mt_change_name(c, id, "two");
	CHECK(mt_chain_seal(&a, &kr->keys[0], c, hlc + 2, &e2) == 0);
	mt_change_name(c, id, "three");
	CHECK(mt_chain_seal(&a, &kr->keys[0], c, hlc + 3, &e3) == 0);
	/* Another entry 1 by the same author that does not part from the
	 * same predecessor: refused, and it proves no fork (a proper pair
	 * freezes the author: tests/unit/fork_test.c). */
	mt_change_name(c, id, "forked");
	randombytes_buf(junk, sizeof(junk));
	CHECK(mt_seal(a.pk, a.sk, 1, junk, hlc + 1, &kr->keys[0], c, &fork1,
	    NULL) == 0);
	/* A validly signed entry 2 that does not chain to entry 1. */
	randombytes_buf(junk, sizeof(junk));
	CHECK(mt_seal(a.pk, a.sk, 2, junk, hlc + 2, &kr->keys[0], c,
	    &wrongprev, NULL) == 0);

	CHECK(mt_apply1(f.st, kr, &e1) == 0);
	CHECK(mt_snap(f.st, a.pk, &s0) == 0);
	CHECK(s0.seq == 1 && s0.nentries == 1);

	/* The same entry again: a no-op. */
	CHECK(mt_apply1(f.st, kr, &e1) == STORE_EDUP);
	CHECK(mt_snap(f.st, a.pk, &s1) == 0 && mt_snap_eq(&s0, &s1));

	/* Same (author, seq), another entry: refused, never written over. */
	CHECK(mt_apply1(f.st, kr, &fork1) == STORE_EFORK);
	CHECK(mt_snap(f.st, a.pk, &s1) == 0 && mt_snap_eq(&s0, &s1));

	/* Entry 3 before entry 2. */
	CHECK(mt_apply1(f.st, kr, &e3) == STORE_EGAP);
	CHECK(mt_snap(f.st, a.pk, &s1) == 0 && mt_snap_eq(&s0, &s1));

	/* Entry 2 with a wrong prev_hash, properly signed: its author holds
	 * another entry 1, a fork; refused, and only that author stops. */
	CHECK(mt_apply1(f.st, kr, &wrongprev) == STORE_EFORK);
	CHECK(mt_snap(f.st, a.pk, &s1) == 0 && mt_snap_eq(&s0, &s1));

	/* Entry 2 with a flipped signature byte, first, middle and last:
	 * refused, and the committed transaction wrote nothing. */
	for (size_t at = 0; at < PROTO_SIGLEN; at += PROTO_SIGLEN / 2 - 1) {
		bad.p = malloc(e2.len);
		CHECK(bad.p != NULL);
		if (bad.p == NULL)
			break;
		bad.len = e2.len;
		memcpy(bad.p, e2.p, e2.len);
		bad.p[e2.len - PROTO_SIGLEN + at] ^= 0x01;
		CHECK(mt_apply1(f.st, kr, &bad) == STORE_EBADENTRY);
		CHECK(mt_snap(f.st, a.pk, &s1) == 0 && mt_snap_eq(&s0, &s1));
		CHECK(store_begin(f.st, STORE_RDONLY, &t) == 0);
		if (t != NULL) {
			const uint8_t *env;
			size_t len;

			CHECK(store_log_get(t, a.pk, 2, &env, &len) ==
			    STORE_ENOTFOUND);
			store_abort(t);
		}
		mt_blob_free(&bad);
	}

	/* The genuine entries still go in, in order. */
	CHECK(mt_apply1(f.st, kr, &e2) == 0);
	CHECK(mt_apply1(f.st, kr, &e3) == 0);
	CHECK(mt_snap(f.st, a.pk, &s1) == 0);
	CHECK(s1.seq == 3 && s1.nentries == 3);
	CHECK(memcmp(s1.hash, a.head, PROTO_HASHLEN) == 0);
	CHECK(store_begin(f.st, STORE_RDONLY, &t) == 0);
	if (t != NULL) {
		CHECK(store_record_get(t, KIND_STUDENT, id, &r) == 0);
		CHECK(r != NULL && record_get(r, "name") != NULL &&
		    strcmp(record_get(r, "name"), "three") == 0);
		record_free(r);
		store_abort(t);
	}

	/* A relay's lot: entries under a key the keyring lacks are
	 * chained and stored, but change no record. */
	mt_change_name(c, rid, "secret");
	CHECK(mt_chain_seal(&relay, &other, c, hlc + 4, &r1) == 0);
	mt_change_name(c, rid, "secret two");
	CHECK(mt_chain_seal(&relay, &other, c, hlc + 5, &r2) == 0);
	CHECK(mt_apply1(f.st, kr, &r1) == 0);
	CHECK(mt_apply1(f.st, kr, &r2) == 0);
	CHECK(mt_apply1(f.st, kr, &r2) == STORE_EDUP);
	CHECK(mt_snap(f.st, relay.pk, &s2) == 0);
	CHECK(s2.seq == 2 && memcmp(s2.hash, relay.head, PROTO_HASHLEN) == 0);
	CHECK(s2.nentries == 5);
	CHECK(memcmp(s2.digest, s1.digest, PROTO_HASHLEN) == 0);
	CHECK(store_begin(f.st, STORE_RDONLY, &t) == 0);
	if (t != NULL) {
		const uint8_t *env;
		size_t len;

		CHECK(store_record_get(t, KIND_STUDENT, rid, &r) ==
		    STORE_ENOTFOUND);
		record_free(r);
		CHECK(store_log_get(t, relay.pk, 2, &env, &len) == 0);
		CHECK(len == r2.len && memcmp(env, r2.p, len) == 0);
		store_abort(t);
	}

	mt_fixture_close(&f);
	mt_blob_free(&e1);
	mt_blob_free(&e2);
	mt_blob_free(&e3);
	mt_blob_free(&fork1);
	mt_blob_free(&wrongprev);
	mt_blob_free(&r1);
	mt_blob_free(&r2);
	free(kr);
	free(c);
}

/* ---------------------------------------------------------------- */
/* A concurrent overwrite, and its restore */

/* Applies the entries, in the order idx gives, to a fresh store. */
static int
mt_fill_store(struct mt_fixture *f, const struct store_keyring *kr,
    const struct mt_blob *const *b, const int *idx, size_t n)
{
	if (mt_fixture_open(f) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (mt_apply1(f->st, kr, b[idx[i]]) != 0)
			return -1;
	return 0;
}

static const struct rec_register *
mt_name_reg(struct store *st, const uint8_t *id, struct record **r,
    uint8_t digest[PROTO_HASHLEN])
{
	struct store_txn *t;

	*r = NULL;
	if (store_begin(st, STORE_RDONLY, &t) != 0)
		return NULL;
	if (store_record_get(t, KIND_STUDENT, id, r) != 0 ||
	    store_digest(t, digest) != 0) {
		store_abort(t);
		return NULL;
	}
	store_abort(t);
	return record_register(*r, "name");
}

static int
mt_head_is(const struct rec_write *w, const uint8_t *author, uint64_t seq,
    uint64_t hlc, const char *value)
{
	return memcmp(w->ref.author, author, PROTO_IDLEN) == 0 &&
	    w->ref.seq == seq && w->hlc == hlc && strcmp(w->value, value) == 0;
}

static void
mt_overwrite_case(int variant, const struct store_keyring *kr)
{
	static const int perms[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 }
	};
	struct mt_chain ca, cb, cc;
	struct mt_blob p = { 0 }, wa = { 0 }, wb = { 0 }, wr = { 0 };
	const struct mt_blob *blobs[3] = { &p, &wa, &wb };
	struct mt_fixture f[6];
	struct change *c = calloc(1, sizeof(*c));
	struct record *view = NULL, *r;
	struct write_ref pref;
	uint8_t id[PROTO_RECIDLEN], d0[PROTO_HASHLEN], d[PROTO_HASHLEN];
	uint64_t t0 = MT_EPOCH_MS, hp, ha, hb, hr;
	const struct mt_chain *win, *lose;
	const char *winv, *losev;
	uint64_t winh, loseh;
	size_t nf = 0;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	mt_chain_init(&ca);
	mt_chain_init(&cb);
	mt_chain_init(&cc);
	randombytes_buf(id, sizeof(id));

	/* C writes the name; A and B both see it. */
	hp = proto_hlc_now(0, t0);
	mt_change_name(c, id, "orig");
	CHECK(mt_chain_seal(&cc, &kr->keys[0], c, hp, &p) == 0);
	mt_ref(&pref, cc.pk, 1);
	view = record_new(KIND_STUDENT, id);
	CHECK(view != NULL && record_apply(view, hp, &pref, &c->ops[0]) == 0);

	/* Each overwrites it without seeing the other: both name C's
	 * write. Variant 0: A later; 1: B later; 2: the same clock. */
	ha = proto_hlc_now(hp, t0 + (variant == 1 ? 5 : 10));
	hb = proto_hlc_now(hp, t0 + (variant == 0 ? 5 : 10));
	change_init(c, KIND_STUDENT, id);
	CHECK(change_set(c, view, "name", "from A") == 0);
	CHECK(c->ops[0].npreds == 1 &&
	    write_ref_cmp(&c->ops[0].preds[0], &pref) == 0);
	CHECK(mt_chain_seal(&ca, &kr->keys[0], c, ha, &wa) == 0);
	change_init(c, KIND_STUDENT, id);
	CHECK(change_set(c, view, "name", "from B") == 0);
	CHECK(mt_chain_seal(&cb, &kr->keys[0], c, hb, &wb) == 0);
	record_free(view);
	view = NULL;

	/* The winner: the greater (hlc, author). */
	if (ha > hb || (ha == hb && memcmp(ca.pk, cb.pk, PROTO_IDLEN) > 0)) {
		win = &ca, winv = "from A", winh = ha;
		lose = &cb, losev = "from B", loseh = hb;
	} else {
		win = &cb, winv = "from B", winh = hb;
		lose = &ca, losev = "from A", loseh = ha;
	}
	CHECK(variant != 0 || win == &ca);
	CHECK(variant != 1 || win == &cb);
	CHECK(variant != 2 || ha == hb);

	/* Every arrival order, the two overwrites either way round. */
	for (nf = 0; nf < 6; nf++) {
		const struct rec_register *reg;

		if (mt_fill_store(&f[nf], kr, blobs, perms[nf], 3) != 0) {
			CHECK(!"the three entries apply");
			nf++;
			goto out;
		}
		reg = mt_name_reg(f[nf].st, id, &r, nf == 0 ? d0 : d);
		CHECK(reg != NULL && reg->nheads == 2);
		if (reg != NULL && reg->nheads == 2) {
			CHECK(mt_head_is(&reg->heads[0], win->pk, 1, winh,
			    winv));
			CHECK(mt_head_is(&reg->heads[1], lose->pk, 1, loseh,
			    losev));
			CHECK(strcmp(record_get(r, "name"), winv) == 0);
		}
		CHECK(nf == 0 || memcmp(d0, d, PROTO_HASHLEN) == 0);
		if (nf == 0)
			view = r;	/* what C sees: both heads */
		else
			record_free(r);
	}

	/* C puts the lost value back, as `satchel restore` does, with its
	 * wall clock a day behind: the write names both heads. */
	hr = proto_hlc_now(winh > loseh ? winh : loseh, t0 - MT_DAY_MS);
	change_init(c, KIND_STUDENT, id);
	CHECK(view != NULL && change_set(c, view, "name", losev) == 0);
	CHECK(c->ops[0].npreds == 2);
	CHECK(mt_chain_seal(&cc, &kr->keys[0], c, hr, &wr) == 0);
	for (size_t i = 0; i < nf; i++) {
		const struct rec_register *reg;

		CHECK(mt_apply1(f[i].st, kr, &wr) == 0);
		reg = mt_name_reg(f[i].st, id, &r, i == 0 ? d0 : d);
		CHECK(reg != NULL && reg->nheads == 1);
		if (reg != NULL && reg->nheads == 1)
			CHECK(mt_head_is(&reg->heads[0], cc.pk, 2, hr, losev));
		CHECK(reg != NULL && reg->nsup == 3);
		CHECK(i == 0 || memcmp(d0, d, PROTO_HASHLEN) == 0);
		record_free(r);
	}
out:
	for (size_t i = 0; i < nf; i++)
		mt_fixture_close(&f[i]);
	record_free(view);
	mt_blob_free(&p);
	mt_blob_free(&wa);
	mt_blob_free(&wb);
	mt_blob_free(&wr);
	free(c);
}

static void
test_concurrent_overwrite(void)
{
	struct store_keyring *kr = calloc(1, sizeof(*kr));

	CHECK(kr != NULL);
	if (kr == NULL)
		return;
	kr->nkeys = 1;
	mt_key(&kr->keys[0]);
	for (int variant = 0; variant < 3; variant++)
		mt_overwrite_case(variant, kr);
	free(kr);
}

/* ---------------------------------------------------------------- */
/* Store basics */

static void
test_store_open(void)
{
	struct store *st = NULL;
	char dir[64], sub[128];
	int fd;

	if (mt_tmpdir(dir) != 0) {
		CHECK(!"mkdtemp");
		return;
	}
	st = (struct store *)&st;	/* not NULL: store_open must clear it */
	CHECK(store_open(&st, dir, 0) == STORE_ENOSTORE);
	CHECK(st == NULL);
	snprintf(sub, sizeof(sub), "%s/missing", dir);
	CHECK(store_open(&st, sub, 0) == STORE_ENOSTORE);
	CHECK(st == NULL);

	CHECK(store_open(&st, dir, STORE_CREATE) == 0);
	CHECK(st != NULL);
	store_close(st);
	CHECK(store_open(&st, dir, STORE_CREATE) == STORE_EEXIST);
	CHECK(st == NULL);
	CHECK(store_open(&st, dir, 0) == 0);
	CHECK(st != NULL);
	store_close(st);
	st = NULL;
	mt_rmdir(dir);

	/* A data.mdb that is not a store. */
	if (mt_tmpdir(dir) != 0) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/data.mdb", dir);
	fd = open(sub, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1);
	if (fd != -1) {
		static const char junk[] = "not an LMDB file\n";

		CHECK(write(fd, junk, sizeof(junk) - 1) ==
		    (ssize_t)sizeof(junk) - 1);
		close(fd);
	}
	CHECK(store_open(&st, dir, 0) == STORE_ENOSTORE);
	CHECK(st == NULL);
	CHECK(store_open(&st, dir, STORE_CREATE) == STORE_EEXIST);
	store_close(st);
	mt_rmdir(dir);
}

static int
mt_meta_is(struct store_txn *t, const char *key, const void *val,
    size_t len)
{
	const void *v;
	size_t l;

	return store_meta_get(t, key, &v, &l) == 0 && l == len &&
	    (len == 0 || memcmp(v, val, len) == 0);
}

static void
test_store_meta(void)
{
	static const uint8_t bin[] = { 0, 1, 0xff, 0, 7 };
	struct mt_fixture f;
	struct store_txn *t = NULL;
	const void *v;
	size_t len;

	if (mt_fixture_open(&f) != 0) {
		CHECK(!"a store to test in");
		return;
	}
	CHECK(store_begin(f.st, 0, &t) == 0);
	CHECK(store_meta_get(t, "colour", &v, &len) == STORE_ENOTFOUND);
	CHECK(store_meta_put(t, "colour", "blue", 4) == 0);
	CHECK(store_meta_put(t, "bytes", bin, sizeof(bin)) == 0);
	CHECK(store_meta_put(t, "empty", "", 0) == 0);
	CHECK(mt_meta_is(t, "colour", "blue", 4));
	CHECK(store_commit(t) == 0);

	CHECK(store_begin(f.st, STORE_RDONLY, &t) == 0);
	CHECK(mt_meta_is(t, "colour", "blue", 4));
	CHECK(mt_meta_is(t, "bytes", bin, sizeof(bin)));
	CHECK(mt_meta_is(t, "empty", "", 0));
	CHECK(store_meta_get(t, "colou", &v, &len) == STORE_ENOTFOUND);
	CHECK(store_meta_get(t, "colours", &v, &len) == STORE_ENOTFOUND);
	store_abort(t);

	/* An aborted write leaves nothing; an overwrite replaces. */
	CHECK(store_begin(f.st, 0, &t) == 0);
	CHECK(store_meta_put(t, "colour", "red", 3) == 0);
	CHECK(store_meta_put(t, "shape", "round", 5) == 0);
	CHECK(mt_meta_is(t, "colour", "red", 3));
	store_abort(t);
	CHECK(store_begin(f.st, STORE_RDONLY, &t) == 0);
	CHECK(mt_meta_is(t, "colour", "blue", 4));
	CHECK(store_meta_get(t, "shape", &v, &len) == STORE_ENOTFOUND);
	store_abort(t);
	CHECK(store_begin(f.st, 0, &t) == 0);
	CHECK(store_meta_put(t, "colour", "green and longer", 16) == 0);
	CHECK(store_commit(t) == 0);

	/* And it lasts. */
	store_close(f.st);
	f.st = NULL;
	CHECK(store_open(&f.st, f.dir, 0) == 0);
	if (f.st != NULL) {
		CHECK(store_begin(f.st, STORE_RDONLY, &t) == 0);
		CHECK(mt_meta_is(t, "colour", "green and longer", 16));
		CHECK(mt_meta_is(t, "bytes", bin, sizeof(bin)));
		store_abort(t);
	}
	mt_fixture_close(&f);
}

static void
mt_hexid(const char *hex, uint8_t id[PROTO_RECIDLEN])
{
	size_t len;

	if (sodium_hex2bin(id, PROTO_RECIDLEN, hex, strlen(hex), NULL, &len,
	    NULL) != 0 || len != PROTO_RECIDLEN)
		memset(id, 0, PROTO_RECIDLEN);
}

/* The local path: store_append_local, from a store_author. */
static int
mt_local_write(struct store *st, const struct store_author *au,
    uint8_t kind, const uint8_t *id, const char *name, uint64_t wall)
{
	struct change *c = calloc(1, sizeof(*c));
	struct store_txn *t;
	struct write_ref ref;
	int rc;

	if (c == NULL)
		return STORE_ENOMEM;
	change_init(c, kind, id);
	if (change_set(c, NULL, "name", name) != 0) {
		free(c);
		return -1;
	}
	if ((rc = store_begin(st, 0, &t)) == 0) {
		rc = store_append_local(t, au, c, wall, &ref);
		if (rc == 0)
			rc = store_commit(t);
		else
			store_abort(t);
	}
	free(c);
	return rc;
}

static void
test_store_record_find(void)
{
	static const struct {
		uint8_t		 kind;
		const char	*hex;
	} recs[] = {
		{ KIND_STUDENT,	"ab120000000000000000000000000001" },
		{ KIND_NOTE,	"ab340000000000000000000000000002" },
		{ KIND_STUDENT,	"ab35ff00000000000000000000000003" },
		{ KIND_GROUP,	"c0ffee00000000000000000000000004" },
		{ KIND_GOAL,	"ab35ff00000000000000000000000005" },
		{ KIND_STUDENT,	"ab350100000000000000000000000006" },
		{ KIND_GROUP,	"c0ff1000000000000000000000000007" },
	};
	static const struct {
		const char	*prefix;
		int		 rc;
		int		 rec;		/* index in recs, if found */
	} cases[] = {
		{ "ab12",	STORE_OK,	0 },
		{ "ab1",	STORE_OK,	0 },	/* odd length */
		{ "ab120000000000000000000000000001", STORE_OK, 0 },
		{ "ab34",	STORE_OK,	1 },	/* in another kind */
		{ "ab340",	STORE_OK,	1 },
		{ "ab350",	STORE_OK,	5 },
		{ "c0ffe",	STORE_OK,	3 },	/* after c0ff10 */
		{ "c0ff1",	STORE_OK,	6 },
		{ "c0ffee",	STORE_OK,	3 },
		{ "ab35ff00000000000000000000000005", STORE_OK, 4 },
		{ "ab35ff00000000000000000000000003", STORE_OK, 2 },
		{ "ab35ff000000000000000000000000050", STORE_ENOTFOUND, -1 },
		{ "ab35ff0000000000000000000000000", STORE_EAMBIGUOUS, -1 },
		{ "a",		STORE_EAMBIGUOUS, -1 },	/* odd, every kind */
		{ "c",		STORE_EAMBIGUOUS, -1 },
		{ "ab",		STORE_EAMBIGUOUS, -1 },
		{ "ab3",	STORE_EAMBIGUOUS, -1 },
		{ "ab35",	STORE_EAMBIGUOUS, -1 },
		{ "ab35f",	STORE_EAMBIGUOUS, -1 },	/* after ab3501 */
		{ "c0ff",	STORE_EAMBIGUOUS, -1 },
		{ "ab35e",	STORE_ENOTFOUND, -1 },
		{ "ab13",	STORE_ENOTFOUND, -1 },
		{ "ab2",	STORE_ENOTFOUND, -1 },
		{ "c0ff2",	STORE_ENOTFOUND, -1 },
		{ "b",		STORE_ENOTFOUND, -1 },
		{ "0",		STORE_ENOTFOUND, -1 },
		{ "ff",		STORE_ENOTFOUND, -1 },
		{ "c1",		STORE_ENOTFOUND, -1 },
		{ "",		STORE_ENOTFOUND, -1 },
		{ "zz",		STORE_ENOTFOUND, -1 },
		{ "abz",	STORE_ENOTFOUND, -1 },
		{ "ab-",	STORE_ENOTFOUND, -1 },
	};
	struct mt_fixture f;
	struct store_key k;
	uint8_t pk[PROTO_IDLEN], sk[PROTO_SKLEN];
	struct store_author au = { pk, sk, &k, SCOPE_TEAM };
	struct store_txn *t = NULL;

	if (mt_fixture_open(&f) != 0) {
		CHECK(!"a store to test in");
		return;
	}
	crypto_sign_keypair(pk, sk);
	mt_key(&k);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		uint8_t id[PROTO_RECIDLEN];

		mt_hexid(recs[i].hex, id);
		CHECK(mt_local_write(f.st, &au, recs[i].kind, id, "someone",
		    MT_EPOCH_MS + i) == 0);
	}
	CHECK(store_begin(f.st, STORE_RDONLY, &t) == 0);
	for (size_t i = 0; t != NULL && i < sizeof(cases) / sizeof(cases[0]);
	    i++) {
		uint8_t kind = 0, id[PROTO_RECIDLEN], want[PROTO_RECIDLEN];
		int rc = store_record_find(t, cases[i].prefix, &kind, id);

		if (rc != cases[i].rc)
			printf("#   prefix '%s': %s\n", cases[i].prefix,
			    store_strerror(rc));
		CHECK(rc == cases[i].rc);
		if (rc != 0 || cases[i].rec < 0)
			continue;
		mt_hexid(recs[cases[i].rec].hex, want);
		CHECK(kind == recs[cases[i].rec].kind);
		CHECK(memcmp(id, want, PROTO_RECIDLEN) == 0);
	}
	store_abort(t);
	mt_fixture_close(&f);
}

static int
mt_count_entry(const uint8_t *env, size_t len, void *arg)
{
	(void)env;
	(void)len;
	(*(size_t *)arg)++;
	return 0;
}

static int
mt_count_head(const uint8_t *author, uint64_t seq, const uint8_t *hash,
    void *arg)
{
	(void)author;
	(void)hash;
	*(uint64_t *)arg += seq;
	return 0;
}

static void
test_store_verify_log(void)
{
	struct mt_fixture f;
	struct store_keyring *kr = calloc(1, sizeof(*kr));
	struct store_key other;
	uint8_t pk[PROTO_IDLEN], sk[PROTO_SKLEN], id[PROTO_RECIDLEN];
	struct store_author au = { pk, sk, NULL, SCOPE_TEAM };
	struct change *c = calloc(1, sizeof(*c));
	struct mt_chain peer, relay;
	struct store_txn *t = NULL;
	uint64_t n = 0, seqs = 0;
	size_t nlog = 0;

	CHECK(kr != NULL && c != NULL);
	if (kr == NULL || c == NULL || mt_fixture_open(&f) != 0) {
		free(kr);
		free(c);
		CHECK(!"a store to test in");
		return;
	}
	kr->nkeys = 1;
	mt_key(&kr->keys[0]);
	mt_key(&other);
	au.key = &kr->keys[0];
	crypto_sign_keypair(pk, sk);
	mt_chain_init(&peer);
	mt_chain_init(&relay);
	randombytes_buf(id, sizeof(id));

	/* An empty store's log verifies too. */
	CHECK(store_begin(f.st, STORE_RDONLY, &t) == 0);
	CHECK(t != NULL && store_verify_log(t, &n) == 0 && n == 0);
	store_abort(t);

	/* Five local entries, four from a peer, two a relay cannot open. */
	for (int i = 0; i < 5; i++)
		CHECK(mt_local_write(f.st, &au, KIND_STUDENT, id, "local",
		    MT_EPOCH_MS + (uint64_t)i) == 0);
	for (int i = 0; i < 6; i++) {
		struct mt_blob b = { 0 };
		struct mt_chain *ch = i < 4 ? &peer : &relay;

		mt_change_name(c, id, "peer");
		CHECK(mt_chain_seal(ch, i < 4 ? &kr->keys[0] : &other, c,
		    proto_hlc_now(0, MT_EPOCH_MS + 10 + (uint64_t)i),
		    &b) == 0);
		CHECK(mt_apply1(f.st, kr, &b) == 0);
		mt_blob_free(&b);
	}
	CHECK(store_begin(f.st, STORE_RDONLY, &t) == 0);
	if (t != NULL) {
		CHECK(store_verify_log(t, &n) == 0);
		CHECK(n == 11);
		CHECK(store_log_each(t, mt_count_entry, &nlog) == 0);
		CHECK(nlog == 11);
		CHECK(store_heads_each(t, mt_count_head, &seqs) == 0);
		CHECK(seqs == 11);
		store_abort(t);
	}
	mt_fixture_close(&f);
	free(kr);
	free(c);
}

TAP_MAIN(
	TAP_TEST(test_merge_records),
	TAP_TEST(test_merge_store),
	TAP_TEST(test_store_refusals),
	TAP_TEST(test_concurrent_overwrite),
	TAP_TEST(test_store_open),
	TAP_TEST(test_store_meta),
	TAP_TEST(test_store_record_find),
	TAP_TEST(test_store_verify_log))
