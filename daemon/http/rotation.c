/*
 * The rotation view (GET rotation): for each student over a period, how
 * many times they were pulled into same-need (lettered) and mixed
 * (numbered) groups, and a flag on anyone kept in one same-need group
 * longer than a threshold, so that flexible groups do not harden into
 * tracks.
 *
 * It is read from each group's history, not from its members now. The
 * history is every entry that touched the group, in the order of the
 * entries' clocks (hlc, author, seq): once two devices hold the same
 * entries they replay them in the same order, whatever order they
 * arrived in, and give the same answer.
 *
 * The replay runs the members set's own rule (store/record.c): an add is
 * tagged by its entry, an author's later add replaces that author's own
 * earlier tags, a remove takes away the tags it names (by hash, where it
 * carries one), and a remove replayed before the add it names (a clock
 * far ahead) keeps that add from ever standing.
 *
 * A stint is one continuous membership of a student in a group: it
 * begins with a join (an add that finds none of the student's tags
 * standing) and ends when a remove takes away the last one. Concurrent
 * joins from two devices are one stint; a leave and a re-join are two.
 * "Pulled into" counts the stints that overlap the period, a stint that
 * began before the period included (it is marked "before_period"). A
 * stint is cut to the group's own dates, if it has them. A stay is a
 * stint's length from its join to its leave, the period's end or now,
 * whichever is first, so a stay that began before the period counts in
 * full. A student merged into another counts as that one; deleted
 * groups and deleted students are left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "http.h"

#define DAY_MS		(UINT64_C(86400) * 1000)
#define WEEK_MS		(7 * DAY_MS)
#define OPEN		UINT64_MAX	/* a stint not ended */

struct tag {			/* an add standing in the replay */
	char		 value[2 * PROTO_RECIDLEN + 1];	/* as the set holds it */
	uint8_t		 rep[PROTO_RECIDLEN];	/* the student it counts for */
	struct write_ref ref;
};

struct kept {			/* a remove of an add not replayed yet */
	char		 value[2 * PROTO_RECIDLEN + 1];
	struct write_ref ref;
};

struct stint {
	uint8_t		 rep[PROTO_RECIDLEN];
	size_t		 group;		/* in rotation.groups */
	uint64_t	 from, until;	/* ms; until OPEN while in */
};

struct rgroup {
	char		 id[2 * PROTO_RECIDLEN + 1];
	char		*name;
	int		 same;		/* same-need, else mixed */
	uint64_t	 from, until;	/* its own dates, ms; 0 and OPEN if none */
};

struct rotation {
	struct device	*d;
	struct store_txn *t;
	uint64_t	 from, until, now;	/* the period, ms: [from, until) */
	uint64_t	 threshold;		/* ms */
	struct rgroup	*groups;
	size_t		 ngroups;
	struct stint	*stints;
	size_t		 nstints;
	/* The replay of the group at hand. */
	struct tag	*tags;
	size_t		 ntags;
	struct kept	*kept;
	size_t		 nkept;
	int		 nomem;
};

/* Local midnight starting YYYY-MM-DD (valid_date checked it), in ms. */
static uint64_t
day_ms(const char *date)
{
	struct tm tm;
	time_t s;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(date) - 1900;
	tm.tm_mon = atoi(date + 5) - 1;
	tm.tm_mday = atoi(date + 8);
	tm.tm_isdst = -1;
	s = mktime(&tm);
	return s < 0 ? 0 : (uint64_t)s * 1000;
}

/* The local midnight after the one starting date. */
static uint64_t
day_after_ms(const char *date)
{
	struct tm tm;
	time_t s;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(date) - 1900;
	tm.tm_mon = atoi(date + 5) - 1;
	tm.tm_mday = atoi(date + 8) + 1;	/* mktime carries it over */
	tm.tm_isdst = -1;
	s = mktime(&tm);
	return s < 0 ? 0 : (uint64_t)s * 1000;
}

static void
date_of(uint64_t ms, char out[11])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&s, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int
grow(void **p, size_t n, size_t size)
{
	void *q;

	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0;	/* room left: 4, then each power of 2 doubles */
	if ((q = realloc(*p, (n ? 2 * n : 4) * size)) == NULL)
		return -1;
	*p = q;
	return 0;
}

static int
id_from_hex(const char *hex, uint8_t id[PROTO_RECIDLEN])
{
	size_t n;

	return hex == NULL || sodium_hex2bin(id, PROTO_RECIDLEN, hex,
	    strlen(hex), NULL, &n, NULL) != 0 || n != PROTO_RECIDLEN ? -1 : 0;
}

static int
ref_match(const struct write_ref *pred, const struct write_ref *tag)
{
	return memcmp(pred->author, tag->author, PROTO_IDLEN) == 0 &&
	    pred->seq == tag->seq && (!pred->has_hash ||
	    memcmp(pred->hash, tag->hash, PROTO_HASHLEN) == 0);
}

/* 1 if any standing tag counts for rep. */
static int
standing(const struct rotation *w, const uint8_t *rep)
{
	for (size_t i = 0; i < w->ntags; i++)
		if (memcmp(w->tags[i].rep, rep, PROTO_RECIDLEN) == 0)
			return 1;
	return 0;
}

/* rep's stint in group g that is still open, if any. */
static struct stint *
open_stint(struct rotation *w, size_t g, const uint8_t *rep)
{
	for (size_t i = w->nstints; i-- > 0;)
		if (w->stints[i].group == g && w->stints[i].until == OPEN &&
		    memcmp(w->stints[i].rep, rep, PROTO_RECIDLEN) == 0)
			return &w->stints[i];
	return NULL;
}

/* An add of value by ref at ms: a join if none of the student's tags
 * stood. */
static void
replay_add(struct rotation *w, size_t g, const char *value,
    const struct write_ref *ref, uint64_t ms)
{
	struct tag *tg;
	int was;

	for (size_t i = 0; i < w->nkept; i++)
		if (strcmp(w->kept[i].value, value) == 0 &&
		    ref_match(&w->kept[i].ref, ref)) {	/* removed already */
			w->kept[i] = w->kept[--w->nkept];
			return;
		}
	for (size_t i = w->ntags; i-- > 0;)	/* the author's own earlier */
		if (strcmp(w->tags[i].value, value) == 0 &&
		    memcmp(w->tags[i].ref.author, ref->author, PROTO_IDLEN) ==
		    0 && w->tags[i].ref.seq < ref->seq)
			w->tags[i] = w->tags[--w->ntags];
	if (grow((void **)&w->tags, w->ntags, sizeof(*w->tags)) != 0) {
		w->nomem = 1;
		return;
	}
	tg = &w->tags[w->ntags];
	memset(tg, 0, sizeof(*tg));
	snprintf(tg->value, sizeof(tg->value), "%s", value);
	if (id_from_hex(value, tg->rep) != 0 ||
	    student_rep(w->t, tg->rep, tg->rep) != 0)
		return;		/* names no student we hold: not counted */
	tg->ref = *ref;
	was = standing(w, tg->rep);
	w->ntags++;
	if (was || open_stint(w, g, tg->rep) != NULL)
		return;
	if (grow((void **)&w->stints, w->nstints, sizeof(*w->stints)) != 0) {
		w->nomem = 1;
		return;
	}
	memcpy(w->stints[w->nstints].rep, tg->rep, PROTO_RECIDLEN);
	w->stints[w->nstints].group = g;
	w->stints[w->nstints].from = ms;
	w->stints[w->nstints++].until = OPEN;
}

/* A remove of value naming preds at ms: a leave if it takes away the
 * student's last standing tag. */
static void
replay_remove(struct rotation *w, size_t g, const char *value,
    const struct op *op, uint64_t ms)
{
	for (size_t p = 0; p < op->npreds; p++) {
		size_t i;

		for (i = 0; i < w->ntags; i++)
			if (strcmp(w->tags[i].value, value) == 0 &&
			    ref_match(&op->preds[p], &w->tags[i].ref))
				break;
		if (i < w->ntags) {
			uint8_t rep[PROTO_RECIDLEN];
			struct stint *s;

			memcpy(rep, w->tags[i].rep, PROTO_RECIDLEN);
			w->tags[i] = w->tags[--w->ntags];
			if (!standing(w, rep) &&
			    (s = open_stint(w, g, rep)) != NULL)
				s->until = ms;
		} else if (grow((void **)&w->kept, w->nkept,
		    sizeof(*w->kept)) != 0)
			w->nomem = 1;
		else {
			snprintf(w->kept[w->nkept].value, sizeof(w->kept[0].value),
			    "%s", value);
			w->kept[w->nkept++].ref = op->preds[p];
		}
	}
}

struct replay {
	struct rotation	*w;
	size_t		 g;
};

/* One entry of the group's history, in clock order. */
static int
replay_cb(const uint8_t *env, size_t len, void *arg)
{
	struct replay *rp = arg;
	struct rotation *w = rp->w;
	struct envelope e;
	struct change *c = NULL;
	struct write_ref ref;
	uint8_t *pt = NULL;
	char value[2 * PROTO_RECIDLEN + 1];

	if (proto_envelope_decode(&e, env, len) != 0 ||
	    store_open_entry(w->d->keyring, &e, &c, &pt) != 0 || c == NULL)
		goto out;	/* not ours to read: it changed nothing here */
	memcpy(ref.author, e.author, PROTO_IDLEN);
	ref.seq = e.seq;
	proto_envelope_hash(&e, ref.hash);
	ref.has_hash = 1;
	for (size_t i = 0; i < c->nops && !w->nomem; i++) {
		const struct op *op = &c->ops[i];

		if (op->field_len != 7 || memcmp(op->field, "members", 7) != 0 ||
		    (op->type != OP_ADD && op->type != OP_REMOVE) ||
		    op->value_len != 2 * PROTO_RECIDLEN)
			continue;
		memcpy(value, op->value, op->value_len);
		value[op->value_len] = '\0';
		if (op->type == OP_ADD)
			replay_add(w, rp->g, value, &ref, proto_hlc_ms(e.hlc));
		else
			replay_remove(w, rp->g, value, op, proto_hlc_ms(e.hlc));
	}
out:
	free(pt);
	free(c);
	return w->nomem;
}

/* Each live group: its dates and type, then its history replayed. */
static int
group_cb(const struct record *r, void *arg)
{
	struct rotation *w = arg;
	const char *type = record_get(r, "type");
	const char *gf = record_get(r, "from"), *gu = record_get(r, "until");
	struct replay rp = { w, w->ngroups };
	struct rgroup *g;
	int rc;

	if (record_deleted(r))
		return 0;
	if (grow((void **)&w->groups, w->ngroups, sizeof(*w->groups)) != 0) {
		w->nomem = 1;
		return 1;
	}
	g = &w->groups[w->ngroups++];
	hex_id(g->id, r->id);
	g->name = strdup(record_get(r, "name") ? record_get(r, "name") : "");
	g->same = type != NULL && strcmp(type, "same-need") == 0;
	g->from = gf && valid_date(gf) ? day_ms(gf) : 0;
	g->until = gu && valid_date(gu) ? day_after_ms(gu) : OPEN;
	w->ntags = w->nkept = 0;
	rc = store_history_each(w->t, r->id, replay_cb, &rp);
	if (g->name == NULL)
		w->nomem = 1;
	return rc != 0 || w->nomem;
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Stints by join, so that a student's groups read in order. */
static int
stint_cmp(const void *a, const void *b)
{
	const struct stint *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->group < y->group ? -1 : x->group > y->group;
}

static json_t *
row_for(json_t *rows, const char *sid)
{
	json_t *row = json_object_get(rows, sid);

	if (row == NULL) {
		row = json_pack("{s:s,s:i,s:i,s:b,s:i,s:[]}", "student", sid,
		    "same_need", 0, "mixed", 0, "flagged", 0, "longest_weeks",
		    0, "groups");
		json_object_set_new(rows, sid, row);
	}
	return row;
}

static void
bump(json_t *row, const char *key, json_int_t by)
{
	json_object_set_new(row, key, json_integer(json_integer_value(
	    json_object_get(row, key)) + by));
}

/* One stint into its student's row, if it overlaps the period. */
static void
count_stint(struct rotation *w, const struct stint *s, json_t *rows)
{
	const struct rgroup *g = &w->groups[s->group];
	uint64_t from = max64(s->from, g->from);
	uint64_t until = min64(min64(s->until, g->until), w->now);
	uint64_t stay_end = min64(until, w->until), stay;
	char sid[2 * PROTO_RECIDLEN + 1], joined[11], left[11];
	json_t *row;

	if (from >= until || from >= w->until || until <= w->from)
		return;		/* no time in the group, or not in the period */
	hex_id(sid, s->rep);
	row = row_for(rows, sid);
	bump(row, g->same ? "same_need" : "mixed", 1);
	stay = stay_end > from ? stay_end - from : 0;
	date_of(from, joined);
	date_of(until, left);	/* until is now if the stint goes on */
	json_array_append_new(json_object_get(row, "groups"), json_pack(
	    "{s:s,s:s,s:s,s:s,s:s?,s:i,s:i,s:b}", "id", g->id, "name", g->name,
	    "type", g->same ? "same-need" : "mixed", "joined", joined, "left",
	    until < w->now ? left : NULL, "weeks",
	    (int)(stay / WEEK_MS), "days", (int)(stay / DAY_MS),
	    "before_period", from < w->from));
	if (!g->same)
		return;
	if ((json_int_t)(stay / WEEK_MS) > json_integer_value(
	    json_object_get(row, "longest_weeks")))
		json_object_set_new(row, "longest_weeks",
		    json_integer((json_int_t)(stay / WEEK_MS)));
	if (stay > w->threshold)
		json_object_set_new(row, "flagged", json_true());
}

struct rows_walk {
	struct store_txn *t;
	json_t		*rows;
};

/* Every student has a row, none pulled into any group included: those
 * are the ones a teacher looks for too. One merged into another is that
 * one. */
static int
student_cb(const struct record *r, void *arg)
{
	struct rows_walk *rw = arg;
	char sid[2 * PROTO_RECIDLEN + 1];

	if (!record_deleted(r) && !student_merged(rw->t, r)) {
		hex_id(sid, r->id);
		row_for(rw->rows, sid);
	}
	return 0;
}

/* The rows as a list, each with its student's name; deleted students
 * are left out. */
static json_t *
rows_list(struct rotation *w, json_t *rows)
{
	json_t *list = json_array(), *row;
	const char *k;

	json_object_foreach(rows, k, row) {
		uint8_t id[PROTO_RECIDLEN];
		struct record *s;

		if (id_from_hex(k, id) != 0 ||
		    store_record_get(w->t, KIND_STUDENT, id, &s) != 0)
			continue;
		if (!record_deleted(s)) {
			json_object_set_new(row, "name", jstr(record_get(s,
			    "name") ? record_get(s, "name") : ""));
			json_array_append(list, row);
		}
		record_free(s);
	}
	return list;
}

static void
rotation_free(struct rotation *w)
{
	for (size_t i = 0; i < w->ngroups; i++)
		free(w->groups[i].name);
	free(w->groups);
	free(w->stints);
	free(w->tags);
	free(w->kept);
}

/* Checks the query; 0, or the 400 was put in rep. */
static int
rotation_args(struct rotation *w, const char *from, const char *until,
    const char *weeks, struct http_reply *rep)
{
	char day[11];
	long n = 3;

	if ((from && !valid_date(from)) || (until && !valid_date(until))) {
		reply_error(rep, 400, "from and until are dates (YYYY-MM-DD)");
		return -1;
	}
	if (weeks != NULL && (strspn(weeks, "0123456789") != strlen(weeks) ||
	    strlen(weeks) > 2 || (n = atol(weeks)) < 1 || n > 52)) {
		reply_error(rep, 400, "weeks: a whole number of weeks, 1 to 52");
		return -1;
	}
	if (from && until && strcmp(from, until) > 0) {
		reply_error(rep, 400, "from: a date no later than until");
		return -1;
	}
	w->now = now_ms();
	today(day);
	w->threshold = (uint64_t)n * WEEK_MS;
	w->until = day_after_ms(until ? until : day);
	w->from = from ? day_ms(from) : w->until - 43 * DAY_MS;
	return 0;
}

/* GET rotation?from=D&until=D&weeks=N: by default the six weeks up to
 * today, flagging past 3. */
void
api_rotation(struct device *d, const char *from, const char *until,
    const char *weeks, struct http_reply *rep)
{
	struct rotation w;
	json_t *rows, *list;
	int rc;

	memset(&w, 0, sizeof(w));
	w.d = d;
	if (rotation_args(&w, from, until, weeks, rep) != 0)
		return;
	if ((rc = store_begin(d->st, STORE_RDONLY, &w.t)) != 0) {
		reply_error(rep, 500, "cannot read: %s", device_strerror(rc));
		return;
	}
	rows = json_object();
	struct rows_walk rw = { w.t, rows };

	if ((rc = store_records_each(w.t, KIND_STUDENT, student_cb, &rw)) == 0)
		rc = store_records_each(w.t, KIND_GROUP, group_cb, &w);
	if (w.nstints > 1)
		qsort(w.stints, w.nstints, sizeof(*w.stints), stint_cmp);
	for (size_t i = 0; rc == 0 && !w.nomem && i < w.nstints; i++)
		count_stint(&w, &w.stints[i], rows);
	list = rows_list(&w, rows);
	store_abort(w.t);
	json_decref(rows);
	if (rc != 0 || w.nomem) {
		rotation_free(&w);
		json_decref(list);
		reply_error(rep, 500, "cannot read: %s", w.nomem ?
		    "out of memory" : device_strerror(rc));
		return;
	}
	rotation_free(&w);
	reply_json(rep, 200, json_pack("{s:i,s:o}", "threshold_weeks",
	    (int)(w.threshold / WEEK_MS), "students", list));
}
