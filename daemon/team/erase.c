/*
 * satchel student erase STUDENT, and what every device does on meeting
 * an erase (issue 12). See proto.h (erase.c) for the records and
 * store/erase.c for what the store keeps.
 *
 * An admin's erase names the student and the entries about it that the
 * admin held: (author, seq, hash) of each, so that devices that cannot
 * read them (a box; other teachers, for private entries) know which
 * ciphertexts to drop. It is checked like a member record: it counts only
 * if its writer was an admin when it wrote it (epoch_author_ok). Every
 * teacher's device, meeting an erase it accepts (erase_refresh), also
 * drops every entry it can read that touches the student, whatever its
 * author or clock, and publishes an addendum naming its OWN entries
 * about the student that no erase named yet (written offline, or
 * private): the addendum names no student. An addendum counts only for
 * its writer's own entries. Dropped entries become stubs, the derived
 * tables are rebuilt from what is left, and the free pages scrubbed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"

#define ERASE_MAX_OWN	(16 * PROTO_ERASE_MAX_REFS)	/* addendum refs */

void
erase_key_of(const struct store_key *network, struct store_key *out)
{
	proto_erase_key(network->key, out->key);
	proto_key_id(out->key, out->id);
	out->use = KEY_ERASE;
}

struct refs {
	struct write_ref *v;
	size_t		  n, cap;
};

static int
refs_add(struct refs *r, const struct envelope *e)
{
	struct write_ref *nv;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;

		if ((nv = realloc(r->v, cap * sizeof(*nv))) == NULL)
			return STORE_ENOMEM;
		r->v = nv;
		r->cap = cap;
	}
	memcpy(r->v[r->n].author, e->author, PROTO_IDLEN);
	r->v[r->n].seq = e->seq;
	proto_envelope_hash(e, r->v[r->n].hash);
	r->v[r->n].has_hash = 1;
	r->n++;
	return STORE_OK;
}

/* ---- finding the entries about erased students ---- */

struct scan {
	struct device	*d;
	struct store_txn *t;
	int		 pass;		/* 1: learn records; 2: collect */
	struct refs	 all;		/* pass 2: every entry touching */
	struct refs	 own;		/* of those, ours no erase names */
	struct refs	 priv;		/* of all, our private ones */
	int		 rc;
};

static int
scan_cb(const uint8_t *env, size_t len, void *arg)
{
	struct scan *s = arg;
	struct change *c = NULL;
	struct envelope e;
	uint8_t *pt = NULL, hash[PROTO_HASHLEN];
	int rc;

	if (proto_envelope_decode(&e, env, len) != 0 || e.erased)
		return 0;
	if (store_open_entry(s->d->keyring, &e, &c, &pt) != 0 || c == NULL)
		goto out;
	if ((rc = store_erase_touches(s->t, c)) < 0) {
		s->rc = rc;
		goto out;
	}
	if (rc == 1 && s->pass == 2) {
		proto_envelope_hash(&e, hash);
		if (memcmp(e.author, s->d->id, PROTO_IDLEN) == 0 &&
		    !store_drop_has(s->t, e.author, e.seq, hash) &&
		    s->own.n < ERASE_MAX_OWN &&
		    (s->rc = refs_add(&s->own, &e)) != 0)
			goto out;
		if (e.scope == SCOPE_PRIVATE &&
		    memcmp(e.author, s->d->id, PROTO_IDLEN) == 0 &&
		    (s->rc = refs_add(&s->priv, &e)) != 0)
			goto out;
		s->rc = refs_add(&s->all, &e);
	}
out:
	free(c);
	free(pt);
	return s->rc != 0;
}

/* Every entry this device reads that touches an erased student. Two
 * passes: the first learns which notes, entries and goals are about one
 * (their "student"), so that the second also finds their later edits,
 * which name no student. */
static int
scan_touching(struct device *d, struct store_txn *t, struct scan *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->d = d;
	s->t = t;
	for (s->pass = 1; s->pass <= 2; s->pass++)
		if ((rc = store_log_each(t, scan_cb, s)) != 0 ||
		    (rc = s->rc) != 0)
			return rc;
	return STORE_OK;
}

/* ---- writing erase records ---- */

static int
write_erase(struct device *d, struct store_txn *t, const uint8_t *student,
    const struct write_ref *refs, size_t n)
{
	struct store_author a = { d->id, d->sign_sk, d->erase, SCOPE_TEAM };
	char hex[2 * PROTO_RECIDLEN + 1], *text = NULL;
	uint8_t id[PROTO_RECIDLEN];
	struct change *c;
	size_t len;
	int rc = STORE_ENOMEM;

	if (d->erase == NULL)
		return STORE_EBADENTRY;
	if ((c = malloc(sizeof(*c))) == NULL)
		return STORE_ENOMEM;
	randombytes_buf(id, sizeof(id));
	change_init(c, KIND_ERASE, id);
	if (student != NULL) {
		hex_id(hex, student);
		c->ops[c->nops].type = OP_SET;
		c->ops[c->nops].field = "student";
		c->ops[c->nops].field_len = 7;
		c->ops[c->nops].value = (const uint8_t *)hex;
		c->ops[c->nops++].value_len = strlen(hex);
	}
	if (n > 0) {
		if (proto_erase_encode(refs, n, &text, &len) != 0)
			goto out;
		c->ops[c->nops].type = OP_SET;
		c->ops[c->nops].field = "drop";
		c->ops[c->nops].field_len = 4;
		c->ops[c->nops].value = (const uint8_t *)text;
		c->ops[c->nops++].value_len = len;
	}
	rc = store_append_local(t, &a, c, now_ms(), NULL);
out:
	free(text);
	free(c);
	return rc;
}

/* Writes refs in lists of at most PROTO_ERASE_MAX_REFS; the student (an
 * admin's erase) is named in each, or none (an addendum). */
static int
write_erases(struct device *d, struct store_txn *t, const uint8_t *student,
    struct refs *r)
{
	int rc = STORE_OK;

	proto_erase_sort(r->v, &r->n);
	if (r->n == 0 && student != NULL)
		return write_erase(d, t, student, NULL, 0);
	for (size_t i = 0; i < r->n && rc == 0; i += PROTO_ERASE_MAX_REFS)
		rc = write_erase(d, t, student, r->v + i,
		    r->n - i < PROTO_ERASE_MAX_REFS ? r->n - i :
		    PROTO_ERASE_MAX_REFS);
	return rc;
}

/* ---- meeting erase records ---- */

struct pending {
	uint8_t		 id[PROTO_RECIDLEN];
	struct write_ref writer;
	uint64_t	 hlc;
	int		 has_student;
	uint8_t		 student[PROTO_RECIDLEN];
	char		*drop;		/* owned, or NULL */
	struct pending	*next;
};

struct pending_walk {
	struct store_txn *t;
	struct pending	*list;
	int		 rc;
};

static void
done_key(char out[64], const uint8_t *id)
{
	char hex[2 * PROTO_RECIDLEN + 1];

	hex_id(hex, id);
	snprintf(out, 64, "erasedone:%s", hex);
}

/* The entry that wrote a register, or NULL. */
static const struct rec_write *
writer_of(const struct record *r, const char *field)
{
	const struct rec_register *reg = record_register(r, field);

	return reg != NULL && reg->nheads > 0 ? &reg->heads[0] : NULL;
}

static int
pending_cb(const struct record *r, void *arg)
{
	struct pending_walk *w = arg;
	const struct rec_write *ws = writer_of(r, "student");
	const struct rec_write *wd = writer_of(r, "drop");
	const struct rec_write *by = ws != NULL ? ws : wd;
	struct pending *p;
	const void *v;
	size_t len, n;
	char key[64];

	done_key(key, r->id);
	if (by == NULL || store_meta_get(w->t, key, &v, &len) == 0)
		return 0;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		w->rc = STORE_ENOMEM;
		return 1;
	}
	memcpy(p->id, r->id, PROTO_RECIDLEN);
	p->writer = by->ref;
	p->hlc = by->hlc;
	if (ws != NULL && sodium_hex2bin(p->student, PROTO_RECIDLEN,
	    ws->value, ws->value_len, NULL, &n, NULL) == 0 &&
	    n == PROTO_RECIDLEN)
		p->has_student = 1;
	/* A list counts as written by the erase's own entry only: another
	 * member writing to the record changes nothing. */
	if (wd != NULL && wd->ref.seq == by->ref.seq &&
	    memcmp(wd->ref.author, by->ref.author, PROTO_IDLEN) == 0)
		p->drop = strdup(wd->value);
	p->next = w->list;
	w->list = p;
	return 0;
}

/* Takes one erase record, if its writer may: 1 if taken, 0 if not
 * (yet: an admin's record may come later), or a store code. */
static int
take(struct device *d, struct store_txn *t, const struct pending *p)
{
	struct write_ref *refs;
	size_t n = 0;
	char key[64];
	int rc = STORE_OK, r;

	if (p->has_student && !epoch_author_ok(d, t, p->writer.author,
	    p->writer.seq))
		return 0;
	if ((refs = malloc(PROTO_ERASE_MAX_REFS * sizeof(*refs))) == NULL)
		return STORE_ENOMEM;
	if (p->drop != NULL) {
		r = proto_erase_decode(p->drop, strlen(p->drop), refs,
		    PROTO_ERASE_MAX_REFS, &n);
		if (r != 0)
			n = 0;	/* newer: taken for its student alone */
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if (p->has_student || memcmp(refs[i].author,
		    p->writer.author, PROTO_IDLEN) == 0)
			rc = store_drop_put(t, &refs[i]);
	free(refs);
	if (rc == 0 && p->has_student)
		rc = store_erased_put(t, p->student, proto_hlc_ms(p->hlc));
	done_key(key, p->id);
	if (rc == 0)
		rc = store_meta_put(t, key, "", 0);
	return rc == 0 ? 1 : rc;
}

static void
pending_free(struct pending *p)
{
	while (p != NULL) {
		struct pending *next = p->next;

		free(p->drop);
		free(p);
		p = next;
	}
}

/* One transaction: takes the erase records that count, drops what they
 * and this device's reading name, publishes its own addendum. *erased:
 * how many entries became stubs. */
static int
refresh_txn(struct device *d, struct store_txn *t, size_t *erased)
{
	struct pending_walk w = { t, NULL, 0 };
	struct scan s;
	int rc, took = 0, r;

	*erased = 0;
	memset(&s, 0, sizeof(s));
	if ((rc = store_records_each(t, KIND_ERASE, pending_cb, &w)) != 0 ||
	    (rc = w.rc) != 0)
		goto out;
	for (struct pending *p = w.list; p != NULL && rc == 0; p = p->next)
		if ((r = take(d, t, p)) < 0)
			rc = r;
		else
			took |= r;
	if (rc != 0 || (!took && !store_erase_pending(t))) {
		rc = rc != 0 ? rc : 1;	/* 1: nothing to do */
		goto out;
	}
	if (!took) {	/* stubs of entries an apply found, not applied */
		rc = store_erase_named(t, erased);
		goto out;
	}
	/* A teacher's device reads what an admin's may not have held. */
	if (d->content != NULL && (rc = scan_touching(d, t, &s)) == 0) {
		for (size_t i = 0; i < s.all.n && rc == 0; i++)
			rc = store_drop_put(t, &s.all.v[i]);
		if (rc == 0 && s.own.n > 0)
			rc = write_erases(d, t, NULL, &s.own);
	}
	if (rc == 0)
		rc = store_erase_named(t, erased);
	if (rc == 0 && *erased > 0)
		rc = store_erase_rebuild(t, d->keyring);
out:
	free(s.all.v);
	free(s.own.v);
	free(s.priv.v);
	pending_free(w.list);
	return rc;
}

/* After entries were dropped (and the records rebuilt from what is
 * left, in the same transaction): the pages that held the dropped bytes
 * overwritten. */
static int
erase_settle(struct device *d)
{
	return store_erase_scrub(d->st);
}

int
erase_refresh(struct device *d)
{
	struct store_txn *t;
	size_t erased;
	int rc;

	if (d->erase == NULL)
		return 0;
	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return rc;
	if ((rc = refresh_txn(d, t, &erased)) != 0) {
		store_abort(t);
		return rc == 1 ? 0 : rc;
	}
	if ((rc = store_commit(t)) != 0)
		return rc;
	if (erased > 0 && (rc = erase_settle(d)) == 0 && !d->serving)
		device_notify(d);
	return rc;
}

/* ---- satchel student erase ---- */

static int
erase_admin_check(struct device *d, struct store_txn *t)
{
	const struct member *me = proto_members_find(team_members(d, t),
	    d->id);

	if (strcmp(d->role, "box") == 0 || d->erase == NULL ||
	    d->content == NULL)
		return fail_usage("student erase: a box erases no one; run it "
		    "on an admin's laptop");
	if (me == NULL || me->removal || me->role != MROLE_ADMIN)
		return fail_usage("student erase: only an admin can erase a "
		    "student, and this device is %s", me == NULL ?
		    "not a member" : me->removal ? "removed from the team" :
		    "a teacher's");
	return 0;
}

/* The erase names what the admin holds about the student, but for its
 * own private entries: an addendum names those, without the student, as
 * any author's device does. */
static int
write_admin_erase(struct device *d, struct store_txn *t,
    const uint8_t *student, struct scan *s)
{
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < s->all.n; i++) {
		int priv = 0;

		for (size_t j = 0; j < s->priv.n && !priv; j++)
			priv = s->priv.v[j].seq == s->all.v[i].seq &&
			    memcmp(s->priv.v[j].author, s->all.v[i].author,
			    PROTO_IDLEN) == 0;
		if (!priv)
			s->all.v[n++] = s->all.v[i];
	}
	s->all.n = n;
	if ((rc = write_erases(d, t, student, &s->all)) != 0)
		return rc;
	return s->priv.n > 0 ? write_erases(d, t, NULL, &s->priv) : 0;
}

/* Records merged into an erased student are the same child (student
 * merge): they are erased with it, each by an erase of its own. */
struct merged_walk {
	struct store_txn *t;
	uint8_t		  ids[64][PROTO_RECIDLEN];
	size_t		  n;
	int		  added;
};

static int
merged_cb(const struct record *r, void *arg)
{
	struct merged_walk *w = arg;
	const char *into = record_get(r, "merged_into");
	uint8_t id[PROTO_RECIDLEN];
	size_t n;

	if (into == NULL || w->n == 64 || store_erased_get(w->t, r->id,
	    NULL) == 0 || sodium_hex2bin(id, sizeof(id), into, strlen(into),
	    NULL, &n, NULL) != 0 || n != sizeof(id) ||
	    store_erased_get(w->t, id, NULL) != 0)
		return 0;
	memcpy(w->ids[w->n++], r->id, PROTO_RECIDLEN);
	w->added = 1;
	return store_erased_put(w->t, r->id, now_ms()) != 0;
}

static int
erase_merged(struct device *d, struct store_txn *t, struct merged_walk *w)
{
	int rc;

	(void)d;
	do {
		w->added = 0;
		if ((rc = store_records_each(t, KIND_STUDENT, merged_cb,
		    w)) != 0)
			return rc;
	} while (w->added);
	return STORE_OK;
}

static int
erase_student(struct device *d, struct store_txn *t, const struct record *r)
{
	struct merged_walk *mw;
	struct scan s;
	size_t erased;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((mw = calloc(1, sizeof(*mw))) == NULL)
		return fail("student erase: out of memory");
	mw->t = t;
	/* Marked erased first, so that the scan finds what touches it. */
	if ((rc = store_erased_put(t, r->id, now_ms())) == 0 &&
	    (rc = erase_merged(d, t, mw)) == 0)
		for (size_t i = 0; i < mw->n && rc == 0; i++)
			rc = write_erase(d, t, mw->ids[i], NULL, 0);
	free(mw);
	if (rc != 0 ||
	    (rc = scan_touching(d, t, &s)) != 0 ||
	    (rc = write_admin_erase(d, t, r->id, &s)) != 0 ||
	    (rc = refresh_txn(d, t, &erased)) < 0 || rc == 1) {
		if (rc == 1)
			rc = STORE_EIO;	/* its own erase did not count */
		free(s.all.v);
		free(s.own.v);
		free(s.priv.v);
		store_abort(t);
		return device_store_error(rc, "student erase");
	}
	free(s.all.v);
	free(s.own.v);
	free(s.priv.v);
	if ((rc = store_commit(t)) != 0)
		return device_store_error(rc, "student erase");
	if ((rc = erase_settle(d)) != 0)
		return device_store_error(rc, "student erase");
	device_notify(d);
	return 0;
}

int
cmd_student_erase(struct device *d, struct args *a)
{
	char hex[2 * PROTO_RECIDLEN + 1];
	struct record *r = NULL;
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return device_store_error(rc, "cannot write");
	if ((rc = erase_admin_check(d, t)) != 0 ||
	    (rc = resolve_record(t, a->pos[0], KIND_STUDENT, &r)) != 0) {
		store_abort(t);
		return rc;
	}
	hex_id(hex, r->id);
	rc = erase_student(d, t, r);
	record_free(r);
	/* The name is not repeated: it would outlive the erase in logs. */
	if (rc == 0) {
		printf("%s\n", hex);
		fprintf(stderr, "erased student %.8s: their records and every "
		    "entry about them are dropped here, and on every device "
		    "and the box as the erase reaches them\n", hex);
	}
	return rc;
}
