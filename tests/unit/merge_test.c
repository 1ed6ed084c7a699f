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
 * replays it, MERGE_HISTORIES=N changes the number of histories (250).
 * Hostile histories (see test_merge_hostile) add five authors, clocks two
 * years apart, references to writes not yet made and refused entries.
 * Stores are made in mkdtemp directories under /dev/shm (or /tmp) and
 * removed.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "proto.h"
#include "store.h"
#include "store_int.h"
#include "satchel.h"
#include "tap.h"

#define MT_AUTHORS		5	/* at most; most histories have 3 */
#define MT_MAXRECS		3
#define MT_MAXENTRIES		64	/* entries of one history */
#define MT_MAXOPS		3	/* ops of one change */
#define MT_ORDERS		8	/* arrival orders per history */
#define MT_HISTORIES		250
#define MT_STORE_HISTORIES	8
#define MT_STORE_ORDERS		4
#define MT_HOSTILE_HISTORIES	100
#define MT_HOSTILE_STORES	8
#define MT_MAX_REPORTS		5	/* failing histories described */
#define MT_DAY_MS		UINT64_C(86400000)
#define MT_EPOCH_MS		UINT64_C(1760000000000)	/* late 2025 */

/* The kinds the histories edit: three fields each, and a set with three
 * elements where the kind has one. Every change made is valid for the
 * schema, so the store applies all of them. */
struct mt_kind {
	uint8_t		 kind;
	const char	*fields[3];
	const char	*set;
	const char	*elems[3];
};
static const struct mt_kind mt_kinds[] = {
	{ KIND_ENTRY, { "title", "body", "date" }, "tags",
	    { "red", "green", "blue" } },
	{ KIND_GROUP, { "name", "type", "from" }, "members",
	    { "0123456789abcdef0123456789abcdef",
	    "00000000000000000000000000000001",
	    "ffffffffffffffffffffffffffffffff" } },
	{ KIND_STUDENT, { "name", "class", "needs" }, NULL,
	    { NULL, NULL, NULL } },
};
#define MT_NKINDS	(sizeof(mt_kinds) / sizeof(mt_kinds[0]))
#define MT_NFIELDS	3
#define MT_NELEMS	3

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

/* In memory where the system offers it: the store tests commit hundreds
 * of times, and a disk shared with other jobs makes each sync slow. */
static int
mt_tmpdir(char dir[64])
{
	snprintf(dir, 64, "/dev/shm/satchel-merge-test.XXXXXX");
	if (mkdtemp(dir) != NULL)
		return 0;
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
	k->use = KEY_CONTENT;
}

/* Names entry (author, seq) with its hash, as a v2 change does. */
static void
mt_ref(struct write_ref *ref, const uint8_t *author, uint64_t seq,
    const uint8_t hash[PROTO_HASHLEN])
{
	memcpy(ref->author, author, PROTO_IDLEN);
	ref->seq = seq;
	memcpy(ref->hash, hash, PROTO_HASHLEN);
	ref->has_hash = 1;
}

/* ---------------------------------------------------------------- */
/* The merge's oracle in memory: which writes a record has applied */

struct mt_applied {
	size_t		 n;
	size_t		 rec[MT_MAXENTRIES];
	struct write_ref ref[MT_MAXENTRIES];
};

struct mt_oracle_arg {
	const struct mt_applied	*set;
	size_t			 rec;
};

static int
mt_applied_cb(void *arg, const struct write_ref *ref,
    uint8_t hash[PROTO_HASHLEN])
{
	const struct mt_oracle_arg *o = arg;

	for (size_t i = 0; i < o->set->n; i++)
		if (o->set->rec[i] == o->rec &&
		    write_ref_cmp(&o->set->ref[i], ref) == 0) {
			memcpy(hash, o->set->ref[i].hash, PROTO_HASHLEN);
			return 1;
		}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Random histories */

struct mt_entry {
	int		 author;
	size_t		 rec;
	uint64_t	 seq;
	uint64_t	 hlc;
	uint8_t		 hash[PROTO_HASHLEN];	/* the sealed entry's */
	int		 invalid;	/* the schema refuses it: a no-op */
	struct change	 c;		/* values point into vals */
	char		 vals[MT_MAXOPS][24];
	struct mt_blob	 env;		/* sealed when made */
};

struct mt_author {
	uint8_t		 pk[PROTO_IDLEN];
	uint8_t		 sk[PROTO_SKLEN];
	uint64_t	 skew;		/* added to the shared wall clock */
	uint64_t	 hlc;		/* greatest clock value seen or made */
	size_t		 seen[MT_AUTHORS];	/* entries applied, per author */
	struct record	*view[MT_MAXRECS];
	struct mt_applied applied;	/* what view holds */
	size_t		 nlog;
	struct mt_entry	*log[MT_MAXENTRIES];
	uint8_t		 head[PROTO_HASHLEN];	/* hash of the last entry */
};

struct mt_hist {
	size_t		 nrecs;
	const struct mt_kind *kind[MT_MAXRECS];
	uint8_t		 id[MT_MAXRECS][PROTO_RECIDLEN];
	struct store_key key;		/* seals every entry */
	uint64_t	 now;		/* the shared fake wall clock */
	int		 nauth;
	int		 hostile;	/* see mt_hostile_op */
	size_t		 made[4];	/* future refs, partial, restores, crowds */
	struct mt_author a[MT_AUTHORS];
	int		 bad;		/* a view refused an op, or a clock ran back */
	size_t		 n;
	struct mt_entry	 e[MT_MAXENTRIES];	/* last: large */
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
	mt_ref(ref, h->a[e->author].pk, e->seq, e->hash);
}

/* Applies e to recs with an oracle backed by applied, which then holds
 * e too (once: a duplicate delivery adds nothing). */
static int
mt_apply_entry(const struct mt_hist *h, struct record *const *recs,
    struct mt_applied *applied, const struct mt_entry *e)
{
	struct mt_oracle_arg arg = { applied, e->rec };
	struct rec_oracle o = { mt_applied_cb, &arg };
	struct write_ref ref;
	uint8_t hash[PROTO_HASHLEN];

	mt_entry_ref(h, e, &ref);
	if (e->invalid || mt_applied_cb(&arg, &ref, hash))
		return 0;	/* a no-op; a held one the store refuses */
	for (size_t i = 0; i < e->c.nops; i++)
		if (record_apply(recs[e->rec], e->hlc, &ref, &e->c.ops[i],
		    &o) != 0)
			return -1;
	record_settle(recs[e->rec], &ref);
	if (applied->n == MT_MAXENTRIES)
		return -1;
	applied->rec[applied->n] = e->rec;
	applied->ref[applied->n++] = ref;
	return 0;
}

/* Author i receives e: its view, its vector and its clock move on. */
static void
mt_receive(struct mt_hist *h, int i, const struct mt_entry *e)
{
	struct mt_author *a = &h->a[i];

	if (a->seen[e->author] + 1 != e->seq ||
	    mt_apply_entry(h, a->view, &a->applied, e) != 0)
		h->bad = 1;
	a->seen[e->author] = e->seq;
	a->hlc = proto_hlc_seen(a->hlc, e->hlc, h->now + a->skew);
}

static void
mt_catch_up(struct mt_hist *h, int i, int k, size_t upto)
{
	while (h->a[i].seen[k] < upto)
		mt_receive(h, i, h->a[k].log[h->a[i].seen[k]]);
}

/* A valid value for field of kind: distinct per write, or, with same, one
 * that other writers use too. */
static void
mt_value(uint8_t kind, const char *field, int author, uint64_t seq, size_t k,
    int same, char *v, size_t vlen)
{
	const struct proto_field *f = proto_field_find(kind, field,
	    strlen(field));
	size_t n = 0;

	switch (f != NULL ? f->type : FT_LINE) {
	case FT_DATE:
		snprintf(v, vlen, "2025-%02d-%02d", same ? 1 :
		    1 + (int)(seq % 12), same ? 1 : 1 + (int)((k * 7 +
		    (size_t)author * 3 + seq) % 28));
		break;
	case FT_CHOICE:
		while (f->choices[n] != NULL)
			n++;
		snprintf(v, vlen, "%s", f->choices[same ? 0 :
		    (seq + (uint64_t)author) % n]);
		break;
	default:
		if (same)
			snprintf(v, vlen, "same");
		else
			snprintf(v, vlen, "%c%" PRIu64 ".%zu", 'A' + author,
			    seq, k);
	}
}

/* Seals e as its author's next entry: its hash names it from now on. */
static void
mt_seal_entry(struct mt_hist *h, struct mt_entry *e)
{
	struct mt_author *a = &h->a[e->author];
	const char *why;

	e->invalid = proto_change_validate(&e->c, PROTO_KEY_CONTENT,
	    &why) != 0;
	if ((e->invalid && !h->hostile) || mt_seal(a->pk, a->sk, e->seq, a->head, e->hlc, &h->key, &e->c,
	    &e->env, e->hash) != 0) {
		h->bad = 1;
		return;
	}
	memcpy(a->head, e->hash, PROTO_HASHLEN);
}

/* Starts author i's next entry, on record rec: seq and clock. */
static struct mt_entry *
mt_entry_begin(struct mt_hist *h, int i, size_t rec)
{
	struct mt_author *a = &h->a[i];
	struct mt_entry *e;
	uint64_t before;

	if (h->n == MT_MAXENTRIES)
		return NULL;
	e = &h->e[h->n++];
	/* A change is large (every op can name PROTO_MAX_PREDS writes):
	 * change_init below clears it, the rest is cleared here. */
	memset(e, 0, offsetof(struct mt_entry, c));
	e->env.p = NULL;
	e->env.len = 0;
	e->author = i;
	e->rec = rec;
	e->seq = a->nlog + 1;
	before = a->hlc;
	e->hlc = a->hlc = proto_hlc_now(a->hlc, h->now + a->skew);
	if (e->hlc <= before)
		h->bad = 1;
	change_init(&e->c, h->kind[rec]->kind, h->id[rec]);
	return e;
}

/* Seals e, logs it and applies it to its author's view. */
static void
mt_entry_end(struct mt_hist *h, struct mt_entry *e)
{
	struct mt_author *a = &h->a[e->author];

	mt_seal_entry(h, e);
	a->log[a->nlog++] = e;
	mt_receive(h, e->author, e);
}

/* A reference to a write author j has not made yet, with a hash nobody
 * can know: a random one, or another entry's. It must never replace or
 * remove the write when that comes. */
static void
mt_future_ref(struct mt_hist *h, const struct mt_entry *e,
    struct write_ref *ref, struct mt_rng *rng)
{
	int j = (e->author + 1 + (int)mt_below(rng, (size_t)h->nauth - 1)) %
	    h->nauth;
	uint8_t hash[PROTO_HASHLEN];

	if (h->n > 1 && mt_below(rng, 2) == 0)
		memcpy(hash, h->e[mt_below(rng, h->n - 1)].hash, sizeof(hash));
	else
		mt_fill(rng, hash, sizeof(hash));
	mt_ref(ref, h->a[j].pk, h->a[j].nlog + 1 + mt_below(rng, 3), hash);
}

/* The hostile ops (h->hostile): a restore of a losing value, a write
 * naming only a losing head, an op naming future writes, an op the
 * schema refuses. -1 if none was made (the caller makes a plain one). */
static int
mt_hostile_op(struct mt_hist *h, struct mt_entry *e, size_t k, size_t f,
    int what, struct mt_rng *rng)
{
	const struct mt_kind *kd = h->kind[e->rec];
	const struct record *view = h->a[e->author].view[e->rec];
	const struct rec_register *reg = record_register(view,
	    kd->fields[f]);
	struct op *op;
	char *v = e->vals[k];

	switch (what) {
	case 0:		/* restore: a losing value, naming every head */
		if (reg == NULL || reg->nheads < 2)
			return -1;
		snprintf(v, sizeof(e->vals[k]), "%s", reg->heads[1 +
		    mt_below(rng, reg->nheads - 1)].value);
		h->made[2]++;
		return change_set(&e->c, view, kd->fields[f], v);
	case 1:		/* naming only a losing head */
		if (reg == NULL || reg->nheads < 2)
			return -1;
		mt_value(kd->kind, kd->fields[f], e->author, e->seq, k, 0, v,
		    sizeof(e->vals[k]));
		if (change_set(&e->c, NULL, kd->fields[f], v) != 0)
			return -1;
		op = &e->c.ops[e->c.nops - 1];
		op->preds[op->npreds++] = reg->heads[reg->nheads - 1].ref;
		h->made[1]++;
		return 0;
	case 2:		/* naming writes still to come */
		if (mt_below(rng, 2) == 0 && kd->set != NULL) {
			if (change_remove(&e->c, view, kd->set,
			    kd->elems[mt_below(rng, 2)]) != 0)
				return -1;
		} else {
			mt_value(kd->kind, kd->fields[f], e->author, e->seq, k,
			    0, v, sizeof(e->vals[k]));
			if (change_set(&e->c, view, kd->fields[f], v) != 0)
				return -1;
		}
		op = &e->c.ops[e->c.nops - 1];
		for (size_t n = 1 + mt_below(rng, 3); n > 0 &&
		    op->npreds < PROTO_MAX_PREDS; n--)
			mt_future_ref(h, e, &op->preds[op->npreds++], rng);
		h->made[0]++;
		return 0;
	default:	/* refused by the schema: applied by nobody */
		switch (mt_below(rng, 3)) {
		case 0:
			snprintf(v, sizeof(e->vals[k]), "2025-13-45");
			return change_set(&e->c, NULL, kd->kind == KIND_GROUP ?
			    "from" : "date", v);
		case 1:
			return change_set(&e->c, NULL, RECORD_DELETED_FIELD,
			    "1");
		default:
			return change_set(&e->c, NULL, "colour", "red");
		}
	}
}

/* Author i edits one record from its own view, as the satchel commands
 * do: a set names the heads it sees, a remove the add tags it sees. */
static void
mt_write(struct mt_hist *h, int i, struct mt_rng *rng)
{
	struct mt_entry *e;
	const struct mt_kind *kd;
	const struct record *view;
	int used[MT_NFIELDS] = { 0 }, added[MT_NELEMS] = { 0 }, tomb = 0;
	size_t nops;

	if ((e = mt_entry_begin(h, i, mt_below(rng, h->nrecs))) == NULL)
		return;
	kd = h->kind[e->rec];
	view = h->a[i].view[e->rec];
	nops = 1 + mt_below(rng, MT_MAXOPS);
	for (size_t k = 0; k < nops; k++) {
		size_t f, el, x = mt_below(rng, h->hostile ? 16 : 10);
		char *v = e->vals[k];
		int rc = 0;

		if (x >= 5 && x < 9 && kd->set == NULL)
			x = 0;
		if (x >= 12) {
			if (used[f = mt_below(rng, MT_NFIELDS)]++)
				continue;
			if ((x < 15 || mt_below(rng, 3) == 0) &&
			    mt_hostile_op(h, e, k, f, (int)x - 12, rng) == 0)
				continue;
			x = 0;
			used[f] = 0;
		}
		if (x < 5) {
			if (used[f = mt_below(rng, MT_NFIELDS)]++)
				continue;
			mt_value(kd->kind, kd->fields[f], i, e->seq, k,
			    mt_below(rng, 4) == 0, v, sizeof(e->vals[k]));
			rc = change_set(&e->c, view, kd->fields[f], v);
		} else if (x < 7) {
			if (added[el = mt_below(rng, MT_NELEMS)]++)
				continue;
			rc = change_add(&e->c, kd->set, kd->elems[el]);
		} else if (x < 9)
			rc = change_remove(&e->c, view, kd->set,
			    kd->elems[h->hostile && mt_below(rng, 2) ? 0 :
			    mt_below(rng, MT_NELEMS)]);
		else if (!tomb++)
			rc = change_tombstone(&e->c, view,
			    mt_below(rng, 3) != 0);
		if (rc != 0)
			h->bad = 1;
	}
	if (e->c.nops == 0 && change_set(&e->c, view, kd->fields[0],
	    "only") != 0)
		h->bad = 1;
	mt_entry_end(h, e);
}

/* Every author adds one element at once, none having seen the others. */
static void
mt_crowd_add(struct mt_hist *h, struct mt_rng *rng)
{
	size_t rec = mt_below(rng, h->nrecs);
	const struct mt_kind *kd = h->kind[rec];

	h->made[3] += kd->set != NULL;
	for (int i = 0; i < h->nauth && kd->set != NULL; i++) {
		struct mt_entry *e = mt_entry_begin(h, i, rec);

		if (e == NULL)
			return;
		if (change_add(&e->c, kd->set, kd->elems[0]) != 0)
			h->bad = 1;
		mt_entry_end(h, e);
	}
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
		int start = (int)mt_below(rng, (size_t)h->nauth);

		for (int n = 0; n < h->nauth; n++) {
			k = (start + n) % h->nauth;
			mt_catch_up(h, i, k, from->seen[k]);
		}
		return;
	}
	k = (int)mt_below(rng, (size_t)h->nauth);
	if (from->seen[k] > to->seen[k])
		mt_catch_up(h, i, k, to->seen[k] + 1 +
		    mt_below(rng, from->seen[k] - to->seen[k]));
}

#define MT_YEAR_MS	(365 * MT_DAY_MS)

/* A history: authors edit and sync at random. A hostile one has five
 * authors whose clocks are up to two years apart, crowds adding one
 * element at once, and the ops of mt_hostile_op. */
static void
mt_hist_gen(struct mt_hist *h, struct mt_rng *rng, int hostile)
{
	static const uint64_t ticks[] = { 0, 0, 1, 3, 250, 60000 };
	size_t steps, maxn = hostile ? MT_MAXENTRIES : 48;

	memset(h, 0, offsetof(struct mt_hist, e));	/* entries: as made */
	h->hostile = hostile;
	h->nauth = hostile ? 3 + (int)mt_below(rng, MT_AUTHORS - 2) : 3;
	h->nrecs = 2 + mt_below(rng, MT_MAXRECS - 1);
	for (size_t r = 0; r < h->nrecs; r++) {
		h->kind[r] = &mt_kinds[mt_below(rng, MT_NKINDS)];
		mt_fill(rng, h->id[r], PROTO_RECIDLEN);
	}
	mt_fill(rng, h->key.key, sizeof(h->key.key));
	proto_key_id(h->key.key, h->key.id);
	h->key.use = KEY_CONTENT;
	h->now = MT_EPOCH_MS + mt_below(rng, 1000000) -
	    (hostile ? 2 * MT_YEAR_MS : MT_DAY_MS);
	for (int i = 0; i < h->nauth; i++) {
		struct mt_author *a = &h->a[i];
		uint64_t unit = hostile ? 2 * MT_YEAR_MS : MT_DAY_MS;
		uint8_t seed[crypto_sign_SEEDBYTES];

		mt_fill(rng, seed, sizeof(seed));
		crypto_sign_seed_keypair(a->pk, a->sk, seed);
		switch (mt_below(rng, 5)) {
		case 0:
		case 1:
			a->skew = unit;			/* on time */
			break;
		case 2:
			a->skew = unit + mt_below(rng, 500);
			break;
		case 3:
			a->skew = 0;			/* behind */
			break;
		default:
			a->skew = 2 * unit;		/* ahead */
			break;
		}
		for (size_t r = 0; r < h->nrecs; r++)
			if ((a->view[r] = record_new(h->kind[r]->kind,
			    h->id[r])) == NULL)
				h->bad = 1;
	}
	steps = 8 + mt_below(rng, 2 * maxn);
	for (size_t s = 0; s < steps && h->n < maxn; s++) {
		int i = (int)mt_below(rng, (size_t)h->nauth);

		h->now += ticks[mt_below(rng, sizeof(ticks) /
		    sizeof(ticks[0]))];
		if (hostile && mt_below(rng, 12) == 0)
			mt_crowd_add(h, rng);
		else if (mt_below(rng, 100) < 55)
			mt_write(h, i, rng);
		else
			mt_sync(h, i, (i + 1 + (int)mt_below(rng,
			    (size_t)h->nauth - 1)) % h->nauth, rng);
	}
}

/* Every author receives everything. */
static void
mt_sync_all(struct mt_hist *h)
{
	for (int i = 0; i < h->nauth; i++)
		for (int k = 0; k < h->nauth; k++)
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

		for (k = 0; k < h->nauth; k++) {
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
	static struct mt_applied applied;

	applied.n = 0;
	for (size_t r = 0; r < h->nrecs; r++)
		if ((recs[r] = record_new(h->kind[r]->kind, h->id[r])) == NULL)
			return -1;
	for (size_t i = 0; i < n; i++)
		if (mt_apply_entry(h, recs, &applied, order[i]) != 0)
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
/* The model: what the merged state must be, from the entries alone.
 * A write replaces the writes its op names when the hash matches (or the
 * reference carries none) and its author's own earlier writes; the
 * bookkeeping keeps only references to writes the record has not
 * applied. Entries marked invalid are applied by nobody. */

struct mt_refs {
	size_t		 n;
	struct write_ref r[MT_MAXENTRIES * MT_MAXOPS * PROTO_MAX_PREDS];
};

static int
mt_ref_same(const struct write_ref *a, const struct write_ref *b)
{
	return write_ref_cmp(a, b) == 0 && a->has_hash == b->has_hash &&
	    memcmp(a->hash, b->hash, PROTO_HASHLEN) == 0;
}

static int
mt_refs_has(const struct mt_refs *s, const struct write_ref *r)
{
	for (size_t i = 0; i < s->n; i++)
		if (mt_ref_same(&s->r[i], r))
			return 1;
	return 0;
}

static void
mt_refs_add(struct mt_refs *s, const struct write_ref *r)
{
	if (!mt_refs_has(s, r))
		s->r[s->n++] = *r;
}

/* p names the write w (by name and, when p carries one, by hash). */
static int
mt_names(const struct write_ref *p, const struct write_ref *w)
{
	return write_ref_cmp(p, w) == 0 && (!p->has_hash ||
	    memcmp(p->hash, w->hash, PROTO_HASHLEN) == 0);
}

/* The entry of this record that ref names by (author, seq), if applied. */
static const struct mt_entry *
mt_applied_entry(const struct mt_hist *h, size_t rec,
    const struct write_ref *ref)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct mt_entry *e = &h->e[i];

		if (e->rec == rec && !e->invalid && e->seq == ref->seq &&
		    memcmp(h->a[e->author].pk, ref->author, PROTO_IDLEN) == 0)
			return e;
	}
	return NULL;
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
	const struct op	*op;
};

/* The op of entry e on the register field, or NULL (one at most: the
 * schema refuses two). */
static const struct op *
mt_reg_op(const struct mt_entry *e, const char *field)
{
	for (size_t k = 0; k < e->c.nops; k++)
		if (mt_op_is(&e->c.ops[k], field, 0))
			return &e->c.ops[k];
	return NULL;
}

/* A register's heads: every write nothing replaces, winner (the greatest
 * hlc, then author, then seq) first. */
static int
mt_check_register(const struct mt_hist *h, size_t rec,
    const struct record *r, const char *field, char *why, size_t whylen)
{
	static struct mt_refs sup;
	struct mt_write w[MT_MAXENTRIES], heads[MT_MAXENTRIES], t;
	const struct rec_register *reg = record_register(r, field);
	size_t nw = 0, nh = 0;

	sup.n = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct mt_entry *e = &h->e[i];
		const struct op *op;

		if (e->rec != rec || e->invalid ||
		    (op = mt_reg_op(e, field)) == NULL)
			continue;
		for (size_t p = 0; p < op->npreds; p++)
			if (mt_applied_entry(h, rec, &op->preds[p]) == NULL)
				mt_refs_add(&sup, &op->preds[p]);
		w[nw].hlc = e->hlc;
		w[nw].op = op;
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
	if (nw == 0) {
		if (reg != NULL)
			snprintf(why, whylen, "%s: a register nobody wrote",
			    field);
		return reg == NULL ? 0 : -1;
	}
	for (size_t i = 0; i < nw; i++) {
		int replaced = 0;

		for (size_t j = 0; j < nw && !replaced; j++) {
			replaced = memcmp(w[j].ref.author, w[i].ref.author,
			    PROTO_IDLEN) == 0 && w[j].ref.seq > w[i].ref.seq;
			for (size_t p = 0; p < w[j].op->npreds; p++)
				replaced |= mt_names(&w[j].op->preds[p],
				    &w[i].ref);
		}
		if (!replaced)
			heads[nh++] = w[i];
	}
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
	if (reg == NULL || reg->nheads != nh || reg->nsup != sup.n) {
		snprintf(why, whylen, "%s: %zu heads and %zu replaced, the "
		    "model says %zu and %zu", field, reg ? reg->nheads : 0,
		    reg ? reg->nsup : 0, nh, sup.n);
		return -1;
	}
	for (size_t i = 0; i < nh; i++) {
		const struct rec_write *rw = &reg->heads[i];

		if (rw->hlc != heads[i].hlc ||
		    !mt_ref_same(&rw->ref, &heads[i].ref) ||
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
		if (!mt_refs_has(&sup, &reg->sup[i])) {
			snprintf(why, whylen, "%s: replaced write the model "
			    "does not know", field);
			return -1;
		}
	return 0;
}

static int
mt_elem_op(const struct op *op, const char *set, const char *elem)
{
	return mt_op_is(op, set, 1) && op->value_len == strlen(elem) &&
	    memcmp(op->value, elem, op->value_len) == 0;
}

/* An element's live add tags: an add is live unless a remove names it or
 * its author added the element again. An element no add holds and no
 * remove waits on is gone. */
static int
mt_check_elem(const struct mt_hist *h, size_t rec, const struct record *r,
    const char *set, const char *elem, char *why, size_t whylen)
{
	static struct mt_refs adds, rems, names;
	const struct rec_set *s = record_set(r, set);
	const struct rec_elem *el = NULL;
	size_t live = 0;

	adds.n = rems.n = names.n = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct mt_entry *e = &h->e[i];

		if (e->rec != rec || e->invalid)
			continue;
		for (size_t k = 0; k < e->c.nops; k++) {
			const struct op *op = &e->c.ops[k];
			struct write_ref ref;

			if (!mt_elem_op(op, set, elem))
				continue;
			if (op->type == OP_ADD) {
				mt_entry_ref(h, e, &ref);
				mt_refs_add(&adds, &ref);
				continue;
			}
			for (size_t p = 0; p < op->npreds; p++) {
				mt_refs_add(&names, &op->preds[p]);
				if (mt_applied_entry(h, rec,
				    &op->preds[p]) == NULL)
					mt_refs_add(&rems, &op->preds[p]);
			}
		}
	}
	for (size_t i = 0; s != NULL && i < s->nelems; i++)
		if (strcmp(s->elems[i].value, elem) == 0)
			el = &s->elems[i];
	for (size_t i = 0; i < adds.n; i++) {
		int dead = 0;
		size_t j;

		for (j = 0; j < adds.n && !dead; j++)
			dead = memcmp(adds.r[j].author, adds.r[i].author,
			    PROTO_IDLEN) == 0 && adds.r[j].seq > adds.r[i].seq;
		for (j = 0; j < names.n && !dead; j++)
			dead = mt_names(&names.r[j], &adds.r[i]);
		if (dead)
			continue;
		live++;
		for (j = 0; el != NULL && j < el->nadds; j++)
			if (mt_ref_same(&el->adds[j], &adds.r[i]))
				break;
		if (el == NULL || j == el->nadds) {
			snprintf(why, whylen, "element %s: a live add tag is "
			    "missing", elem);
			return -1;
		}
	}
	if (live == 0 && rems.n == 0) {
		if (el != NULL)
			snprintf(why, whylen, "element %s: kept, with nothing "
			    "to keep", elem);
		return el == NULL ? 0 : -1;
	}
	if (el == NULL || el->nadds != live || el->nrems != rems.n ||
	    rec_elem_present(el) != (live > 0)) {
		snprintf(why, whylen, "element %s: %zu adds, %zu removes, "
		    "the model says %zu and %zu", elem, el ? el->nadds : 0,
		    el ? el->nrems : 0, live, rems.n);
		return -1;
	}
	for (size_t i = 0; i < el->nrems; i++)
		if (!mt_refs_has(&rems, &el->rems[i])) {
			snprintf(why, whylen, "element %s: a remove the model "
			    "does not know", elem);
			return -1;
		}
	return 0;
}

/* 1 if some valid entry of rec has an op on the set. */
static int
mt_set_touched(const struct mt_hist *h, size_t rec, const char *set)
{
	for (size_t i = 0; set != NULL && i < h->n; i++)
		for (size_t k = 0; h->e[i].rec == rec && !h->e[i].invalid &&
		    k < h->e[i].c.nops; k++)
			if (mt_op_is(&h->e[i].c.ops[k], set, 1))
				return 1;
	return 0;
}

static int
mt_check_model(const struct mt_hist *h, struct record *const *recs,
    char *why, size_t whylen)
{
	for (size_t r = 0; r < h->nrecs; r++) {
		const struct mt_kind *kd = h->kind[r];
		size_t nregs = 0, nelems = 0;
		const struct rec_set *s = NULL;

		for (size_t f = 0; f <= MT_NFIELDS; f++) {
			const char *name = f < MT_NFIELDS ? kd->fields[f] :
			    RECORD_DELETED_FIELD;

			if (mt_check_register(h, r, recs[r], name, why,
			    whylen) != 0)
				return -1;
			nregs += record_register(recs[r], name) != NULL;
		}
		for (size_t x = 0; kd->set != NULL && x < MT_NELEMS; x++) {
			if (mt_check_elem(h, r, recs[r], kd->set,
			    kd->elems[x], why, whylen) != 0)
				return -1;
			s = record_set(recs[r], kd->set);
		}
		for (size_t x = 0; s != NULL && x < MT_NELEMS; x++)
			for (size_t i = 0; i < s->nelems; i++)
				nelems += strcmp(s->elems[i].value,
				    kd->elems[x]) == 0;
		if (recs[r]->nregs != nregs || recs[r]->nsets !=
		    (size_t)mt_set_touched(h, r, kd->set) ||
		    (s != NULL && s->nelems != nelems)) {
			snprintf(why, whylen, "registers, sets or elements "
			    "nobody wrote");
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
	size_t	invalid;	/* entries the schema refuses */
	size_t	future;		/* references to writes not yet made */
	size_t	partial;	/* writes naming only a losing head */
	size_t	restores;	/* a losing value put back */
	size_t	tomb_conflicts;	/* a delete and an undelete, concurrent */
	size_t	crowded;	/* elements added by every author at once */
};

/* What the hostile generator made. */
static void
mt_stats_hostile(struct mt_stats *st, const struct mt_hist *h)
{
	for (size_t i = 0; i < h->n; i++)
		st->invalid += h->e[i].invalid;
	st->future += h->made[0];
	st->partial += h->made[1];
	st->restores += h->made[2];
	st->crowded += h->made[3];
}

static void
mt_stats_add(struct mt_stats *st, const struct mt_hist *h,
    struct record *const *recs)
{
	int conflict = 0, survivor = 0, tombs = 0;

	st->entries += h->n;
	for (size_t r = 0; r < h->nrecs; r++) {
		const char *set = h->kind[r]->set;
		const struct rec_set *s = set ? record_set(recs[r], set) : NULL;

		const struct rec_register *tomb = record_register(recs[r],
		    RECORD_DELETED_FIELD);

		for (size_t i = 0; i < recs[r]->nregs; i++)
			conflict |= recs[r]->regs[i].nheads > 1;
		for (size_t i = 1; tomb != NULL && i < tomb->nheads; i++)
			tombs |= tomb->heads[i].value_len !=
			    tomb->heads[0].value_len;
		/* A live element that some remove named: an add the
		 * remove had not seen. */
		for (size_t i = 0; s != NULL && i < s->nelems; i++)
			for (size_t j = 0; j < h->n && !survivor &&
			    s->elems[i].nadds > 0; j++)
				for (size_t k = 0; h->e[j].rec == r &&
				    k < h->e[j].c.nops; k++)
					survivor |= h->e[j].c.ops[k].type ==
					    OP_REMOVE && mt_elem_op(
					    &h->e[j].c.ops[k], set,
					    s->elems[i].value);
	}
	st->conflicts += conflict;
	st->concurrent_sets += survivor;
	st->tomb_conflicts += tombs;
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
	for (int i = 0; i < h->nauth; i++) {
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

/* Checks nhist histories of one stream in memory; the number failed. */
static size_t
mt_memory_histories(uint64_t seed, uint64_t stream, size_t nhist,
    int hostile, struct mt_stats *st)
{
	struct mt_hist *h = calloc(1, sizeof(*h));
	size_t nfail = 0;
	char why[256];

	if (h == NULL)
		return 1;
	for (size_t hi = 0; hi < nhist && nfail < MT_MAX_REPORTS; hi++) {
		struct mt_rng rng;

		mt_rng_init(&rng, seed, stream, hi);
		mt_hist_gen(h, &rng, hostile);
		mt_stats_hostile(st, h);
		if (mt_check_history(h, &rng, st, why, sizeof(why)) != 0) {
			printf("# %shistory %zu (seed %" PRIu64 "): %s\n",
			    hostile ? "hostile " : "", hi, seed, why);
			nfail++;
		}
		mt_hist_free(h);
	}
	free(h);
	return nfail;
}

static void
test_merge_records(void)
{
	uint64_t seed = mt_seed();
	size_t nhist = mt_histories();
	struct mt_stats st;

	memset(&st, 0, sizeof(st));
	CHECK(!mt_env_bad);
	CHECK(mt_memory_histories(seed, 1, nhist, 0, &st) == 0);
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

struct mt_store_run {
	uint8_t		 digest[PROTO_HASHLEN];
	size_t		 dups, gaps, pres;
};

/* What the receiver's worker hands the apply for a new record
 * (store_record_pre, as daemon/net/rxprep.c calls it), offered for three
 * entries in four: the records must come out the same either way. b
 * holds it until the apply. */
static void
mt_pre_hint(struct store_txn *t, const struct store_keyring *kr,
    const struct mt_entry *me, struct mt_rng *rng,
    struct store_words_buf *b)
{
	static struct change c;		/* 160 KB: not on the stack */
	const struct store_key *k;
	struct envelope e;
	uint8_t hash[PROTO_HASHLEN], *pt = NULL;
	const char *why;
	size_t off;

	b->len = 0;
	store_record_hint(t, NULL, NULL);
	if (mt_below(rng, 4) == 0 ||
	    proto_envelope_decode(&e, me->env.p, me->env.len) != 0 ||
	    (k = store_keyring_find(kr, e.key_id)) == NULL ||
	    (pt = malloc(e.ciphertext_len + 1)) == NULL)
		return;
	proto_envelope_hash(&e, hash);
	if (proto_entry_read(&e, k->key, k->use, &c, pt, &why) == 0 &&
	    store_record_pre(&e, hash, &c, NULL, NULL, 0, b, &off) == 0)
		store_record_hint(t, b->p + off, NULL);
	free(pt);
}

static int
mt_check_heads(struct store_txn *t, const struct mt_hist *h)
{
	for (int i = 0; i < h->nauth; i++) {
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
		int rc = store_record_get(t, h->kind[r]->kind, h->id[r], &got);
		int ok;

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

/* The entries of a history a store lists, as a bitmap over h->e. */
struct mt_listed {
	const struct mt_hist *h;
	uint8_t		 seen[MT_MAXENTRIES];
	int		 stray;		/* listed but not in h, or twice */
};

static void
mt_listed_mark(struct mt_listed *l, const uint8_t *author, uint64_t seq)
{
	for (size_t i = 0; i < l->h->n; i++) {
		const struct mt_entry *e = &l->h->e[i];

		if (e->seq == seq && memcmp(l->h->a[e->author].pk, author,
		    PROTO_IDLEN) == 0) {
			l->stray |= l->seen[i]++ != 0;
			return;
		}
	}
	l->stray = 1;
}

static int
mt_hist_cb(const uint8_t *env, size_t len, void *arg)
{
	struct envelope e;

	if (proto_envelope_decode(&e, env, len) != 0)
		((struct mt_listed *)arg)->stray = 1;
	else
		mt_listed_mark(arg, e.author, e.seq);
	return 0;
}

static int
mt_unapplied_cb(const uint8_t *author, uint64_t seq, int kind,
    const char *why, void *arg)
{
	(void)why;
	if (kind != UNAPPLIED_INVALID)
		((struct mt_listed *)arg)->stray = 1;
	mt_listed_mark(arg, author, seq);
	return 0;
}

/* Each record's history lists every applied entry of that record (no
 * write anyone made goes missing), and the unapplied table exactly the
 * entries the schema refuses. */
static int
mt_check_derived(struct store_txn *t, const struct mt_hist *h, char *why,
    size_t whylen)
{
	struct mt_listed l;

	for (size_t r = 0; r <= h->nrecs; r++) {
		memset(&l, 0, sizeof(l));
		l.h = h;
		if ((r < h->nrecs ? store_history_each(t, h->id[r],
		    mt_hist_cb, &l) : store_unapplied_each(t,
		    mt_unapplied_cb, &l)) != 0 || l.stray) {
			snprintf(why, whylen, "%s lists a stranger",
			    r < h->nrecs ? "a history" : "unapplied");
			return -1;
		}
		for (size_t i = 0; i < h->n; i++) {
			const struct mt_entry *e = &h->e[i];
			int want = r < h->nrecs ? e->rec == r && !e->invalid :
			    e->invalid;

			if (l.seen[i] != want) {
				snprintf(why, whylen, "entry %d:%" PRIu64 " is "
				    "%s %s", e->author, e->seq, want ?
				    "missing from" : "wrongly in", r < h->nrecs ?
				    "its record's history" : "unapplied");
				return -1;
			}
		}
	}
	return 0;
}

/* A rebuild from the log gives the same records, byte for byte. */
static int
mt_check_rebuild(struct store *st, const struct store_keyring *kr,
    const struct mt_hist *h, struct record *const *ref,
    const uint8_t digest[PROTO_HASHLEN], char *why, size_t whylen)
{
	uint8_t again[PROTO_HASHLEN];
	struct store_txn *t = NULL;
	int erc;

	if ((erc = store_rebuild(st, kr)) != 0 ||
	    (erc = store_begin(st, STORE_RDONLY, &t)) != 0 ||
	    (erc = store_digest(t, again)) != 0) {
		snprintf(why, whylen, "store_rebuild: %s", store_strerror(erc));
		store_abort(t);
		return -1;
	}
	erc = memcmp(again, digest, PROTO_HASHLEN) != 0 ||
	    mt_check_store_records(t, h, ref) != 0 ||
	    mt_check_derived(t, h, why, whylen) != 0;
	store_abort(t);
	if (erc)
		snprintf(why, whylen, "a rebuild from the log differs");
	return erc ? -1 : 0;
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
	struct store_words_buf pre = { 0 };
	size_t applied[MT_AUTHORS] = { 0 }, taken;
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
			int k = (int)mt_below(rng, (size_t)h->nauth);

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
		mt_pre_hint(t, kr, e, rng, &pre);
		taken = t->recs_taken;
		erc = store_apply_entry(t, kr, e->env.p, e->env.len, 1);
		run->pres += t->recs_taken - taken;
		store_record_hint(t, NULL, NULL);
		if (erc != 0) {
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
	if (mt_check_derived(t, h, why, whylen) != 0)
		goto out;
	store_abort(t);
	t = NULL;
	if (mt_check_rebuild(st, kr, h, ref, run->digest, why, whylen) != 0)
		goto out;
	rc = 0;
out:
	free(pre.p);
	store_abort(t);
	store_close(st);
	mt_rmdir(dir);
	return rc;
}

struct mt_store_totals {
	size_t	runs, dups, gaps, pres;
};

/* One history through MT_STORE_ORDERS fresh stores: the same digest in
 * every arrival order, records equal to the in-memory merge (which the
 * model checks), history and unapplied complete, a rebuild identical. */
static int
mt_store_history(struct mt_hist *h, struct store_keyring *kr,
    struct mt_rng *rng, struct mt_store_totals *tot, char *why,
    size_t whylen)
{
	const struct mt_entry *order[MT_MAXENTRIES];
	struct record *ref[MT_MAXRECS] = { 0 };
	uint8_t first[PROTO_HASHLEN];
	int bad = 0;

	kr->nkeys = 1;
	kr->keys[0] = h->key;
	for (size_t i = 0; i < h->n; i++)
		order[i] = &h->e[i];
	if (h->bad || mt_merge(h, order, h->n, ref) != 0) {
		snprintf(why, whylen, "could not build the history");
		bad = 1;
	} else if (mt_check_model(h, ref, why, whylen) != 0)
		bad = 1;
	for (int o = 0; o < MT_STORE_ORDERS && !bad; o++) {
		struct mt_store_run run;

		memset(&run, 0, sizeof(run));
		if (o > 0)
			mt_order(h, rng, order);
		if (mt_store_apply(h, kr, order, rng, ref, &run, why,
		    whylen) != 0)
			bad = 1;
		else if (o == 0)
			memcpy(first, run.digest, PROTO_HASHLEN);
		else if (memcmp(first, run.digest, PROTO_HASHLEN) != 0) {
			snprintf(why, whylen, "arrival order %d gives another "
			    "digest", o);
			bad = 1;
		}
		tot->dups += run.dups;
		tot->gaps += run.gaps;
		tot->pres += run.pres;
		tot->runs++;
	}
	mt_recs_free(ref, MT_MAXRECS);
	return bad ? -1 : 0;
}

static size_t
mt_store_histories(uint64_t seed, uint64_t stream, size_t nhist,
    int hostile, struct mt_store_totals *tot, struct mt_stats *st)
{
	struct mt_hist *h = calloc(1, sizeof(*h));
	struct store_keyring *kr = calloc(1, sizeof(*kr));
	size_t nfail = 0;
	char why[256];

	for (size_t hi = 0; h != NULL && kr != NULL && hi < nhist &&
	    nfail < MT_MAX_REPORTS; hi++) {
		struct mt_rng rng;

		mt_rng_init(&rng, seed, stream, hi);
		mt_hist_gen(h, &rng, hostile);
		if (st != NULL)
			mt_stats_hostile(st, h);
		if (mt_store_history(h, kr, &rng, tot, why,
		    sizeof(why)) != 0) {
			printf("# %sstore history %zu (seed %" PRIu64 "): "
			    "%s\n", hostile ? "hostile " : "", hi, seed, why);
			nfail++;
		}
		mt_hist_free(h);
	}
	if (h == NULL || kr == NULL)
		nfail++;
	free(h);
	free(kr);
	return nfail;
}

static void
test_merge_store(void)
{
	struct mt_store_totals tot = { 0, 0, 0, 0 };

	CHECK(mt_store_histories(mt_seed(), 2, MT_STORE_HISTORIES, 0, &tot,
	    NULL) == 0);
	printf("# %zu stores filled; %zu duplicates and %zu gaps refused on "
	    "the way; %zu new records taken as worked out ahead\n", tot.runs,
	    tot.dups, tot.gaps, tot.pres);
	CHECK(tot.dups > 0 && tot.gaps > 0 && tot.pres > 0);
}

/*
 * Hostile histories: three to five authors with clocks two years apart,
 * concurrent deletes and undeletes, restores of a losing value, writes
 * naming only a losing head, every author adding one element at once and
 * then removing it, references to writes not yet made with hashes nobody
 * can know (which must never hide those writes), and entries the schema
 * refuses. In memory in many orders against the model, then through
 * real stores.
 */
static void
test_merge_hostile(void)
{
	uint64_t seed = mt_seed();
	struct mt_store_totals tot = { 0, 0, 0, 0 };
	struct mt_stats st;

	memset(&st, 0, sizeof(st));
	CHECK(mt_memory_histories(seed, 3, MT_HOSTILE_HISTORIES, 1, &st) == 0);
	CHECK(mt_store_histories(seed, 4, MT_HOSTILE_STORES, 1, &tot,
	    NULL) == 0);
	printf("# %d hostile histories, %zu entries: %zu refused by the "
	    "schema, %zu ops naming future writes, %zu naming a losing head "
	    "only, %zu restores, %zu crowds adding one element\n",
	    MT_HOSTILE_HISTORIES, st.entries, st.invalid, st.future,
	    st.partial, st.restores, st.crowded);
	printf("# %zu end in a conflict, %zu in a delete/undelete conflict, "
	    "%zu with an add a remove had not seen; %zu stores filled, %zu "
	    "new records taken as worked out ahead\n", st.conflicts,
	    st.tomb_conflicts, st.concurrent_sets, tot.runs, tot.pres);
	CHECK(tot.pres > 0);
	CHECK(st.invalid > 0 && st.future > 0 && st.partial > 0 &&
	    st.restores > 0 && st.crowded > 0 && st.tomb_conflicts > 0);
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
	mt_ref(&pref, cc.pk, 1, cc.head);
	view = record_new(KIND_STUDENT, id);
	CHECK(view != NULL && record_apply(view, hp, &pref, &c->ops[0], NULL) == 0);

	/* Each overwrites it without seeing the other: both name C's
	 * write. Variant 0: A later; 1: B later; 2: the same clock. */
	ha = proto_hlc_now(hp, t0 + (variant == 1 ? 5 : 10));
	hb = proto_hlc_now(hp, t0 + (variant == 0 ? 5 : 10));
	change_init(c, KIND_STUDENT, id);
	CHECK(change_set(c, view, "name", "from A") == 0);
	CHECK(c->ops[0].npreds == 1 &&
	    write_ref_cmp(&c->ops[0].preds[0], &pref) == 0 &&
	    c->ops[0].preds[0].has_hash &&
	    memcmp(c->ops[0].preds[0].hash, pref.hash, PROTO_HASHLEN) == 0);
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
		/* Every write it replaced is applied: nothing is kept. */
		CHECK(reg != NULL && reg->nsup == 0);
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
/* A forged hash hides nothing */

/* Applies a one-op entry (author byte a, seq) naming pred (if any). */
static int
mt_apply_one(struct record *r, const struct rec_oracle *o, uint8_t type,
    const char *field, const char *value, uint8_t a, uint64_t seq,
    const struct write_ref *pred)
{
	struct op *op = calloc(1, sizeof(*op));
	struct write_ref ref;
	int rc;

	if (op == NULL)
		return -1;
	op->type = type;
	op->field = field;
	op->field_len = strlen(field);
	op->value = (const uint8_t *)value;
	op->value_len = strlen(value);
	if (pred != NULL)
		op->preds[op->npreds++] = *pred;
	memset(ref.author, a, PROTO_IDLEN);
	ref.seq = seq;
	memset(ref.hash, a ^ (uint8_t)seq, PROTO_HASHLEN);
	ref.has_hash = 1;
	rc = record_apply(r, 1000 * seq + a, &ref, op, o);
	record_settle(r, &ref);
	free(op);
	return rc;
}

/* An oracle that knows only A's first write, with its real hash. */
static int
mt_knows_a1(void *arg, const struct write_ref *ref,
    uint8_t hash[PROTO_HASHLEN])
{
	(void)arg;
	if (ref->author[0] != 0xa1 || ref->seq != 1)
		return 0;
	memset(hash, 0xa1 ^ 1, PROTO_HASHLEN);
	return 1;
}

/*
 * B overwrites A's write naming it with the wrong hash, or removes A's
 * tag so: both stay. With the right hash, A's write goes. The same
 * without an oracle, where only current heads and tags count.
 */
static void
test_forged_hash(void)
{
	struct rec_oracle knows = { mt_knows_a1, NULL };
	const struct rec_oracle *oracles[2] = { NULL, &knows };
	uint8_t id[PROTO_RECIDLEN] = { 1 };

	for (int k = 0; k < 2; k++) {
		const struct rec_oracle *o = oracles[k];
		struct record *r = record_new(KIND_ENTRY, id);
		const struct rec_register *reg;
		const struct rec_set *s;
		struct write_ref p;

		CHECK(r != NULL);
		if (r == NULL)
			return;
		memset(p.author, 0xa1, PROTO_IDLEN);
		p.seq = 1;
		memset(p.hash, 0x55, PROTO_HASHLEN);	/* not A1's */
		p.has_hash = 1;
		CHECK(mt_apply_one(r, o, OP_SET, "title", "a", 0xa1, 1,
		    NULL) == 0);
		CHECK(mt_apply_one(r, o, OP_SET, "title", "b", 0xb2, 1,
		    &p) == 0);
		reg = record_register(r, "title");
		CHECK(reg != NULL && reg->nheads == 2 && reg->nsup == 0);
		CHECK(mt_apply_one(r, o, OP_ADD, "tags", "t", 0xa1, 1,
		    NULL) == 0);
		CHECK(mt_apply_one(r, o, OP_REMOVE, "tags", "t", 0xb2, 2,
		    &p) == 0);
		s = record_set(r, "tags");
		CHECK(s != NULL && s->nelems == 1 &&
		    rec_elem_present(&s->elems[0]) && s->elems[0].nrems == 0);
		memset(p.hash, 0xa1 ^ 1, PROTO_HASHLEN);	/* A1's */
		CHECK(mt_apply_one(r, o, OP_SET, "title", "c", 0xc3, 1,
		    &p) == 0);
		reg = record_register(r, "title");
		CHECK(reg != NULL && reg->nheads == 2 && reg->nsup == 0);
		CHECK(reg != NULL && reg->nheads == 2 &&
		    strcmp(reg->heads[0].value, "c") == 0 &&
		    strcmp(reg->heads[1].value, "b") == 0);
		CHECK(mt_apply_one(r, o, OP_REMOVE, "tags", "t", 0xc3, 2,
		    &p) == 0);
		s = record_set(r, "tags");
		CHECK(s != NULL && s->nelems == 0);	/* pruned */
		record_free(r);
	}
}

/* Applies a one-op entry as mt_apply_one does, with an oracle backed by
 * applied, which then holds the entry. */
static int
mt_apply_tracked(struct record *r, struct mt_applied *applied, uint8_t type,
    const char *field, const char *value, uint8_t a, uint64_t seq,
    const struct write_ref *pred)
{
	struct mt_oracle_arg arg = { applied, 0 };
	struct rec_oracle o = { mt_applied_cb, &arg };

	if (mt_apply_one(r, &o, type, field, value, a, seq, pred) != 0 ||
	    applied->n == MT_MAXENTRIES)
		return -1;
	applied->rec[applied->n] = 0;
	memset(applied->ref[applied->n].author, a, PROTO_IDLEN);
	applied->ref[applied->n].seq = seq;
	memset(applied->ref[applied->n].hash, a ^ (uint8_t)seq, PROTO_HASHLEN);
	applied->ref[applied->n++].has_hash = 1;
	return 0;
}

/*
 * B's write names A's, which then writes another field, or adds to the
 * set (a forged reference, right hash or wrong). In either arrival order
 * the record is the same bytes, and nothing is kept for A's write: it
 * has arrived. (The merge once kept the reference when it came first.)
 */
static void
test_reference_elsewhere(void)
{
	static const uint8_t types[] = { OP_SET, OP_ADD, OP_DELETE };
	uint8_t id[PROTO_RECIDLEN] = { 2 };

	for (size_t t = 0; t < sizeof(types); t++)
		for (int good = 0; good < 2; good++) {
			static struct mt_applied ap[2];
			msgpack_sbuffer sb[2];
			struct record *r[2];
			struct write_ref p;
			const char *field = types[t] == OP_SET ? "body" :
			    types[t] == OP_ADD ? "tags" : "";

			memset(p.author, 0xa1, PROTO_IDLEN);
			p.seq = 1;
			memset(p.hash, good ? 0xa1 ^ 1 : 0x66, PROTO_HASHLEN);
			p.has_hash = 1;
			for (int o = 0; o < 2; o++) {
				int rc = 0;

				ap[o].n = 0;
				msgpack_sbuffer_init(&sb[o]);
				r[o] = record_new(KIND_ENTRY, id);
				for (int k = 0; k < 2 && r[o] != NULL; k++) {
					if ((k == 0) == (o == 0))
						rc |= mt_apply_tracked(r[o], &ap[o],
						    types[t], field, types[t] ==
						    OP_DELETE ? "" : "x", 0xa1, 1,
						    NULL);
					else
						rc |= mt_apply_tracked(r[o], &ap[o],
						    OP_SET, "title", "b", 0xb2, 1,
						    &p);
				}
				CHECK(r[o] != NULL && rc == 0 &&
				    record_encode(r[o], &sb[o]) == 0);
				CHECK(r[o] != NULL &&
				    record_register(r[o], "title") != NULL &&
				    record_register(r[o], "title")->nsup == 0);
			}
			CHECK(mt_same(&sb[0], &sb[1]));
			for (int o = 0; o < 2; o++) {
				record_free(r[o]);
				msgpack_sbuffer_destroy(&sb[o]);
			}
		}
}

/* ---------------------------------------------------------------- */
/* Bounded bookkeeping */

/* Seals c by ch and applies it inside t. */
static int
mt_apply_in(struct store_txn *t, const struct store_keyring *kr,
    struct mt_chain *ch, const struct change *c, uint64_t hlc)
{
	struct mt_blob b = { 0 };
	int rc = -1;

	if (mt_chain_seal(ch, &kr->keys[0], c, hlc, &b) == 0)
		rc = store_apply_entry(t, kr, b.p, b.len, 1);
	mt_blob_free(&b);
	return rc;
}

static size_t
mt_encoded_size(const struct record *r)
{
	msgpack_sbuffer sb;
	size_t n;

	msgpack_sbuffer_init(&sb);
	n = record_encode(r, &sb) == 0 ? sb.size : SIZE_MAX;
	msgpack_sbuffer_destroy(&sb);
	return n;
}

/*
 * A record edited for years stays small: 500 edits of one field by three
 * authors (every tenth from a stale view, so conflicts come and go), then
 * 200 cycles of adding a tag and removing it. A register keeps at most a
 * head per author and nothing of what was replaced; a removed tag leaves
 * nothing behind.
 */
static void
test_bounded_bookkeeping(void)
{
	struct store_keyring *kr = calloc(1, sizeof(*kr));
	struct change *c = calloc(1, sizeof(*c));
	struct mt_chain ch[3];
	struct mt_fixture f;
	struct store_txn *t = NULL;
	struct record *view = NULL, *stale = NULL;
	uint8_t id[PROTO_RECIDLEN];
	uint64_t hlc = proto_hlc_now(0, MT_EPOCH_MS);
	size_t maxheads = 0, maxsup = 0, maxrems = 0, size = SIZE_MAX;
	char v[32];
	int ok = 1;

	if (kr == NULL || c == NULL || mt_fixture_open(&f) != 0) {
		CHECK(!"a store to test in");
		free(kr);
		free(c);
		return;
	}
	kr->nkeys = 1;
	mt_key(&kr->keys[0]);
	for (int i = 0; i < 3; i++)
		mt_chain_init(&ch[i]);
	randombytes_buf(id, sizeof(id));
	CHECK(store_begin(f.st, 0, &t) == 0);
	for (int k = 0; k < 700 && t != NULL && ok; k++) {
		const struct record *from = k % 10 == 5 ? stale : view;
		const struct rec_register *reg;
		const struct rec_set *set;

		change_init(c, KIND_ENTRY, id);
		snprintf(v, sizeof(v), "edit %d", k);
		if (k < 500)
			ok = change_set(c, from, "title", v) == 0;
		else if (k % 2 == 0)
			ok = change_add(c, "tags", "urgent") == 0;
		else
			ok = change_remove(c, view, "tags", "urgent") == 0;
		ok = ok && mt_apply_in(t, kr, &ch[k % 3], c, hlc += 1000) == 0;
		record_free(stale);
		stale = view;
		ok = ok && store_record_get(t, KIND_ENTRY, id, &view) == 0;
		if (!ok)
			break;
		reg = record_register(view, "title");
		set = record_set(view, "tags");
		if (reg != NULL && reg->nheads > maxheads)
			maxheads = reg->nheads;
		if (reg != NULL && reg->nsup > maxsup)
			maxsup = reg->nsup;
		for (size_t i = 0; set != NULL && i < set->nelems; i++)
			if (set->elems[i].nrems > maxrems)
				maxrems = set->elems[i].nrems;
	}
	CHECK(ok);
	if (ok && view != NULL) {
		const struct rec_register *reg = record_register(view, "title");
		const struct rec_set *set = record_set(view, "tags");

		size = mt_encoded_size(view);
		CHECK(reg != NULL && reg->nheads == 1 && reg->nsup == 0);
		CHECK(set != NULL && set->nelems == 0);
		CHECK(size < 512);
	}
	CHECK(maxheads >= 2 && maxheads <= 3);	/* conflicts, resolved */
	CHECK(maxsup == 0 && maxrems == 0);
	printf("# after 700 edits: %zu bytes; at most %zu heads, %zu kept "
	    "references, %zu kept removes on the way\n", size, maxheads,
	    maxsup, maxrems);
	CHECK(t == NULL || store_commit(t) == 0);
	record_free(view);
	record_free(stale);
	mt_fixture_close(&f);
	free(kr);
	free(c);
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

/* A one-line text field each kind has: the schema refuses the others. */
static const char *
mt_line_field(uint8_t kind)
{
	switch (kind) {
	case KIND_NOTE:
		return "author";
	case KIND_ENTRY:
		return "title";
	case KIND_GOAL:
		return "text";
	default:
		return "name";
	}
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
	if (change_set(c, NULL, mt_line_field(kind), name) != 0) {
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
	TAP_TEST(test_merge_hostile),
	TAP_TEST(test_store_refusals),
	TAP_TEST(test_concurrent_overwrite),
	TAP_TEST(test_forged_hash),
	TAP_TEST(test_reference_elsewhere),
	TAP_TEST(test_bounded_bookkeeping),
	TAP_TEST(test_store_open),
	TAP_TEST(test_store_meta),
	TAP_TEST(test_store_record_find),
	TAP_TEST(test_store_verify_log))
