/*
 * The page's reads, as JSON: each in one read-only transaction, so it
 * sees one consistent state while the loop (or another process) writes.
 * A record is {id, kind, deleted, fields, versions, sets, conflicts}:
 * versions name what a PATCH must name back (ops_field_version).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "http.h"

/* Text as JSON whatever the bytes: a value stored before today's text
 * rule, or by an older peer, may be anything; jansson takes UTF-8 only. */
json_t *
jstr(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	return json_string("\xef\xbf\xbd");	/* U+FFFD */
}

static int
begin_read(struct device *d, struct store_txn **t, struct http_reply *rep)
{
	int rc = store_begin(d->st, STORE_RDONLY, t);

	if (rc != 0)
		reply_error(rep, 500, "cannot read: %s", device_strerror(rc));
	return rc;
}

static void
store_failed(struct http_reply *rep, int rc)
{
	reply_error(rep, 500, "cannot read: %s", device_strerror(rc));
}

/* Who signed the entry that made a note or an entry: its member name. */
static json_t *
written_by(struct device *d, struct store_txn *t, const struct record *r)
{
	const struct rec_register *reg = record_register(r, "author");
	char name[NAME_MAX_LEN + 1], hex[2 * PROTO_IDLEN + 1];

	if (reg == NULL || reg->nheads == 0)
		return json_null();
	if (member_name(d, t, reg->heads[0].ref.author, name,
	    sizeof(name)) != NULL)
		return jstr(name);
	sodium_bin2hex(hex, sizeof(hex), reg->heads[0].ref.author,
	    PROTO_IDLEN);
	hex[12] = '\0';
	return jstr(hex);
}

json_t *
api_record(struct device *d, struct store_txn *t, const struct record *r)
{
	json_t *o, *fields = json_object(), *versions = json_object();
	json_t *sets = json_object(), *conflicts = json_array();
	char hex[2 * PROTO_RECIDLEN + 1], ver[OPS_VERSION_MAX];

	hex_id(hex, r->id);
	for (size_t i = 0; i < r->nregs; i++) {
		const struct rec_register *reg = &r->regs[i];

		if (reg->nheads == 0)
			continue;
		if (reg->nheads > 1)
			json_array_append_new(conflicts, jstr(reg->name));
		if (reg->name[0] == '_')
			continue;
		json_object_set_new(fields, reg->name,
		    jstr(reg->heads[0].value));
		ops_field_version(r, reg->name, ver, sizeof(ver));
		json_object_set_new(versions, reg->name, jstr(ver));
	}
	for (size_t i = 0; i < r->nsets; i++) {
		json_t *a = json_array();

		for (size_t j = 0; j < r->sets[i].nelems; j++)
			if (rec_elem_present(&r->sets[i].elems[j]))
				json_array_append_new(a,
				    jstr(r->sets[i].elems[j].value));
		json_object_set_new(sets, r->sets[i].name, a);
	}
	o = json_pack("{s:s,s:s,s:b,s:o,s:o,s:o,s:o}", "id", hex, "kind",
	    model_kind_name(r->kind), "deleted", record_deleted(r), "fields",
	    fields, "versions", versions, "sets", sets, "conflicts",
	    conflicts);
	if (o != NULL && (r->kind == KIND_NOTE || r->kind == KIND_ENTRY))
		json_object_set_new(o, "author", written_by(d, t, r));
	return o;
}

void
api_status(struct device *d, struct http_reply *rep)
{
	json_t *o = status_json(d);

	if (o == NULL)
		reply_error(rep, 500, "cannot read the status");
	else
		reply_json(rep, 200, o);
}

/* --- students ------------------------------------------------------- */

struct list_walk {
	struct device	*d;
	struct store_txn *t;
	const char	*cls;
	json_t		*out;
	int		 rc;
};

static int
student_cb(const uint8_t *key, size_t len, void *arg)
{
	struct list_walk *w = arg;
	struct record *r;
	const char *c;

	if ((w->rc = store_record_get(w->t, KIND_STUDENT,
	    key + len - PROTO_RECIDLEN, &r)) != 0)
		return 1;
	c = record_get(r, "class");
	if (!record_deleted(r) && (w->cls == NULL || (c != NULL &&
	    proto_text_same(c, strlen(c), w->cls, strlen(w->cls)))))
		json_array_append_new(w->out, api_record(w->d, w->t, r));
	record_free(r);
	return 0;
}

/* Orders students by name as search folds it, then by id. */
static int
student_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *nx = json_string_value(json_object_get(
	    json_object_get(x, "fields"), "name"));
	const char *ny = json_string_value(json_object_get(
	    json_object_get(y, "fields"), "name"));
	size_t lx, ly;
	char *fx = proto_text_fold(nx ? nx : "", nx ? strlen(nx) : 0,
	    PROTO_FOLD_ACCENTS, &lx);
	char *fy = proto_text_fold(ny ? ny : "", ny ? strlen(ny) : 0,
	    PROTO_FOLD_ACCENTS, &ly);
	int c = strcmp(fx ? fx : "", fy ? fy : "");

	free(fx);
	free(fy);
	if (c == 0)
		c = strcmp(json_string_value(json_object_get(x, "id")),
		    json_string_value(json_object_get(y, "id")));
	return c;
}

/* The walk's students in name order: the name index holds keyed hashes,
 * in no useful order. */
static json_t *
students_sorted(json_t *in)
{
	size_t n = json_array_size(in);
	json_t **v = calloc(n ? n : 1, sizeof(*v)), *out = json_array();

	if (v == NULL) {
		json_decref(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(in, i);
	qsort(v, n, sizeof(*v), student_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

void
api_students(struct device *d, const char *cls, struct http_reply *rep)
{
	struct list_walk w = { d, NULL, cls, json_array(), 0 };
	const uint8_t prefix = INDEX_NAME;
	json_t *sorted;
	int rc;

	if (begin_read(d, &w.t, rep) != 0) {
		json_decref(w.out);
		return;
	}
	rc = store_index_each(w.t, &prefix, 1, 0, student_cb, &w);
	store_abort(w.t);
	if (rc != 0 || w.rc != 0) {
		json_decref(w.out);
		store_failed(rep, rc ? rc : w.rc);
		return;
	}
	sorted = students_sorted(w.out);
	json_decref(w.out);
	if (sorted == NULL) {
		reply_error(rep, 500, "out of memory");
		return;
	}
	reply_json(rep, 200, json_pack("{s:o}", "students", sorted));
}

/* A goal with its checkpoints as a list. */
static json_t *
goal_json(struct device *d, struct store_txn *t, const struct record *r)
{
	json_t *o = api_record(d, t, r), *cps = json_array();
	const char *count = record_get(r, "checkpoints");
	int n = count ? atoi(count) : 0;
	char f[24];

	if (n < 0 || n > GOAL_MAX_CHECKPOINTS)
		n = 0;		/* not written by this program */
	for (int i = 1; i <= n; i++) {
		const char *date, *text, *done;

		snprintf(f, sizeof(f), "cp%d_date", i);
		date = record_get(r, f);
		snprintf(f, sizeof(f), "cp%d_text", i);
		text = record_get(r, f);
		snprintf(f, sizeof(f), "cp%d_done", i);
		done = record_get(r, f);
		json_array_append_new(cps, json_pack("{s:i,s:o,s:o,s:b}", "n",
		    i, "date", jstr(date), "text", jstr(text), "done",
		    done != NULL && strcmp(done, "yes") == 0));
	}
	json_object_set_new(o, "checkpoints", cps);
	return o;
}

struct page_walk {
	struct device	*d;
	struct store_txn *t;
	json_t		*out;
	long		 skip, limit;
	int		 rc;
};

/* Index keys end in the record's id; the kind sits before it in 'S'. */
static int
page_cb(const uint8_t *key, size_t len, void *arg)
{
	struct page_walk *w = arg;
	uint8_t kind = key[0] == INDEX_BY_STUDENT ? key[len - 17] :
	    key[0] == INDEX_GOAL ? KIND_GOAL : KIND_GROUP;
	struct record *r;

	if (w->skip > 0) {
		w->skip--;
		return 0;
	}
	if ((w->rc = store_record_get(w->t, kind, key + len - PROTO_RECIDLEN,
	    &r)) != 0)
		return 1;
	if (!record_deleted(r))
		json_array_append_new(w->out, kind == KIND_GOAL ?
		    goal_json(w->d, w->t, r) : api_record(w->d, w->t, r));
	record_free(r);
	return w->limit > 0 && (long)json_array_size(w->out) >= w->limit;
}

static int
section(struct page_walk *w, uint8_t type, const uint8_t *student,
    int newest_first)
{
	uint8_t prefix[1 + PROTO_RECIDLEN];
	int rc;

	prefix[0] = type;
	memcpy(prefix + 1, student, PROTO_RECIDLEN);
	w->out = json_array();
	rc = store_index_each(w->t, prefix, sizeof(prefix), newest_first,
	    page_cb, w);
	return rc != 0 ? rc : w->rc;
}

/* Resolves id (a name or id prefix) inside t, replying if it fails. */
static int
resolve(struct store_txn *t, const char *id, uint8_t kind,
    struct record **r, struct http_reply *rep)
{
	struct ops_err e;
	struct ops_err *was = err_capture(&e);
	int rc = resolve_record(t, id, kind, r);

	err_capture(was);
	if (rc != 0)
		reply_error(rep, e.status ? (unsigned)e.status : 400, "%s",
		    e.msg);
	return rc;
}

/* The student's page: every part from an index, notes and entries a
 * page at a time, newest first. */
void
api_student(struct device *d, const char *id, long limit, long offset,
    struct http_reply *rep)
{
	struct page_walk w = { d, NULL, NULL, 0, 0, 0 };
	json_t *groups = NULL, *goals = NULL;
	struct record *s;
	uint64_t total = 0;
	int rc;

	if (begin_read(d, &w.t, rep) != 0)
		return;
	if (resolve(w.t, id, KIND_STUDENT, &s, rep) != 0) {
		store_abort(w.t);
		return;
	}
	if ((rc = section(&w, INDEX_MEMBER, s->id, 0)) == 0) {
		groups = w.out;
		if ((rc = section(&w, INDEX_GOAL, s->id, 0)) == 0) {
			goals = w.out;
			w.skip = offset;
			w.limit = limit;
			rc = section(&w, INDEX_BY_STUDENT, s->id, 1);
		}
	}
	if (rc == 0)
		rc = store_student_count(w.t, s->id, &total);
	if (rc == 0)
		reply_json(rep, 200, json_pack("{s:o,s:o,s:o,s:o,s:I,s:i,s:i}",
		    "student", api_record(d, w.t, s), "groups", groups,
		    "goals", goals, "items", w.out, "total", (json_int_t)total,
		    "offset", (int)offset, "limit", (int)limit));
	else {
		json_decref(groups);
		json_decref(goals);
		json_decref(w.out);
		store_failed(rep, rc);
	}
	record_free(s);
	store_abort(w.t);
}

void
api_get_record(struct device *d, const char *id, struct http_reply *rep)
{
	struct store_txn *t;
	struct record *r;

	if (begin_read(d, &t, rep) != 0)
		return;
	if (resolve(t, id, 0, &r, rep) == 0) {
		reply_json(rep, 200, r->kind == KIND_GOAL ? goal_json(d, t, r) :
		    api_record(d, t, r));
		record_free(r);
	}
	store_abort(t);
}

/* --- search ------------------------------------------------------------ */

struct search_walk {
	struct device	*d;
	struct store_txn *t;
	json_t		*out;
};

static int
search_cb(const struct store_hit *h, void *arg)
{
	struct search_walk *w = arg;
	json_t *o = api_record(w->d, w->t, h->r);

	json_object_set_new(o, "match_field", jstr(h->field));
	json_array_append_new(w->out, o);
	return json_array_size(w->out) >= 200;
}

void
api_search(struct device *d, const char *q, struct http_reply *rep)
{
	struct search_walk w = { d, NULL, json_array() };
	int rc;

	if (q == NULL || *q == '\0' || strlen(q) > 4000) {
		json_decref(w.out);
		reply_error(rep, 400, "search: give some text to look for (q=)");
		return;
	}
	if (begin_read(d, &w.t, rep) != 0) {
		json_decref(w.out);
		return;
	}
	rc = store_search(w.t, q, search_cb, &w);
	store_abort(w.t);
	if (rc == STORE_EINVALID) {
		json_decref(w.out);
		reply_error(rep, 400, "search: give up to 31 words of letters "
		    "or digits to look for");
	} else if (rc != 0) {
		json_decref(w.out);
		store_failed(rep, rc);
	} else
		reply_json(rep, 200, json_pack("{s:o}", "results", w.out));
}

/* --- records of one kind ----------------------------------------------- */

struct kind_walk {
	struct device	*d;
	struct store_txn *t;
	json_t		*out;
	int		(*want)(const struct record *, void *);
	void		*arg;
};

static int
kind_cb(const struct record *r, void *arg)
{
	struct kind_walk *w = arg;

	if (!record_deleted(r) && (w->want == NULL || w->want(r, w->arg)))
		json_array_append_new(w->out, api_record(w->d, w->t, r));
	return 0;
}

/* Every live record of kind (that want keeps), in key order. */
static json_t *
records_of(struct device *d, struct store_txn *t, uint8_t kind,
    int (*want)(const struct record *, void *), void *arg, int *rc)
{
	struct kind_walk w = { d, t, json_array(), want, arg };

	if ((*rc = store_records_each(t, kind, kind_cb, &w)) != 0) {
		json_decref(w.out);
		return NULL;
	}
	return w.out;
}

static const char *
student_name(struct store_txn *t, const char *hex, char *out, size_t len)
{
	uint8_t id[PROTO_RECIDLEN];
	struct record *s;
	size_t n;

	out[0] = '\0';
	if (hex == NULL || sodium_hex2bin(id, sizeof(id), hex, strlen(hex),
	    NULL, &n, NULL) != 0 || n != sizeof(id) ||
	    store_record_get(t, KIND_STUDENT, id, &s) != 0)
		return out;
	snprintf(out, len, "%s", record_get(s, "name") ?
	    record_get(s, "name") : "");
	record_free(s);
	return out;
}

/* Groups, each with its members' names: lettered (same-need) first. */
void
api_groups(struct device *d, struct http_reply *rep)
{
	struct store_txn *t;
	json_t *groups, *g;
	size_t i;
	int rc;

	if (begin_read(d, &t, rep) != 0)
		return;
	if ((groups = records_of(d, t, KIND_GROUP, NULL, NULL, &rc)) == NULL) {
		store_abort(t);
		store_failed(rep, rc);
		return;
	}
	json_array_foreach(groups, i, g) {
		json_t *ids = json_object_get(json_object_get(g, "sets"),
		    "members"), *m, *members = json_array();
		char name[NAME_MAX_LEN + 1];
		size_t j;

		json_array_foreach(ids, j, m)
			json_array_append_new(members, json_pack("{s:O,s:o}",
			    "id", m, "name", jstr(student_name(t,
			    json_string_value(m), name, sizeof(name)))));
		json_object_set_new(g, "members", members);
	}
	store_abort(t);
	reply_json(rep, 200, json_pack("{s:o}", "groups", groups));
}

/* --- units ------------------------------------------------------------- */

void
api_units(struct device *d, struct http_reply *rep)
{
	struct store_txn *t;
	json_t *units;
	int rc;

	if (begin_read(d, &t, rep) != 0)
		return;
	units = records_of(d, t, KIND_UNIT, NULL, NULL, &rc);
	store_abort(t);
	if (units == NULL)
		store_failed(rep, rc);
	else
		reply_json(rep, 200, json_pack("{s:o}", "units", units));
}

static int
of_unit(const struct record *r, void *arg)
{
	const char *u = record_get(r, "unit");

	return u != NULL && strcmp(u, arg) == 0;
}

/* One student's row of a unit: pre, formatives (by date), post, growth. */
static void
unit_row(json_t *rows, struct store_txn *t, json_t *entry)
{
	json_t *f = json_object_get(entry, "fields"), *row;
	const char *sid = json_string_value(json_object_get(f, "student"));
	const char *slice = json_string_value(json_object_get(f, "slice"));
	char name[NAME_MAX_LEN + 1];

	if (sid == NULL)
		return;
	if ((row = json_object_get(rows, sid)) == NULL) {
		row = json_pack("{s:s,s:o,s:n,s:[],s:n,s:n}", "student", sid,
		    "name", jstr(student_name(t, sid, name, sizeof(name))),
		    "pre", "formatives", "post", "growth");
		json_object_set_new(rows, sid, row);
	}
	if (slice != NULL && strcmp(slice, "pre") == 0)
		json_object_set(row, "pre", entry);
	else if (slice != NULL && strcmp(slice, "post") == 0)
		json_object_set(row, "post", entry);
	else
		json_array_append(json_object_get(row, "formatives"), entry);
}

static double
score_of(json_t *entry)
{
	const char *s = json_string_value(json_object_get(json_object_get(
	    entry, "fields"), "score"));

	return s ? atof(s) : -1;
}

/* The unit view: for each student, pre -> formatives -> post, and the
 * growth (post's score minus pre's) where both have one. */
void
api_unit(struct device *d, const char *id, struct http_reply *rep)
{
	char hex[2 * PROTO_RECIDLEN + 1];
	struct store_txn *t;
	struct record *u;
	json_t *entries, *rows, *e, *list;
	const char *k;
	size_t i;
	int rc;

	if (begin_read(d, &t, rep) != 0)
		return;
	if (resolve(t, id, KIND_UNIT, &u, rep) != 0) {
		store_abort(t);
		return;
	}
	hex_id(hex, u->id);
	if ((entries = records_of(d, t, KIND_ENTRY, of_unit, hex, &rc)) ==
	    NULL) {
		record_free(u);
		store_abort(t);
		store_failed(rep, rc);
		return;
	}
	rows = json_object();
	json_array_foreach(entries, i, e)
		unit_row(rows, t, e);
	list = json_array();
	json_object_foreach(rows, k, e) {
		json_t *pre = json_object_get(e, "pre");
		json_t *post = json_object_get(e, "post");

		if (json_is_object(pre) && json_is_object(post) &&
		    score_of(pre) >= 0 && score_of(post) >= 0)
			json_object_set_new(e, "growth", json_real(
			    score_of(post) - score_of(pre)));
		json_array_append(list, e);
	}
	reply_json(rep, 200, json_pack("{s:o,s:o}", "unit", api_record(d, t,
	    u), "students", list));
	json_decref(rows);
	json_decref(entries);
	record_free(u);
	store_abort(t);
}

/* --- conflicts, follow-ups --------------------------------------------- */

struct conflict_walk {
	struct device	*d;
	struct store_txn *t;
	json_t		*out;
};

static int
conflict_cb(const struct record *r, void *arg)
{
	struct conflict_walk *w = arg;
	char hex[2 * PROTO_RECIDLEN + 1], ahex[2 * PROTO_IDLEN + 1];
	char name[NAME_MAX_LEN + 1];

	hex_id(hex, r->id);
	for (size_t i = 0; i < r->nregs; i++) {
		const struct rec_register *reg = &r->regs[i];
		json_t *vals;

		if (reg->nheads < 2 || r->kind == KIND_MEMBER)
			continue;
		vals = json_array();
		for (size_t j = 0; j < reg->nheads; j++) {
			const struct rec_write *h = &reg->heads[j];
			int del = reg->name[0] == '_';
			char ver[2 * PROTO_IDLEN + 24];

			sodium_bin2hex(ahex, sizeof(ahex), h->ref.author,
			    PROTO_IDLEN);
			snprintf(ver, sizeof(ver), "%.12s:%llu", ahex,
			    (unsigned long long)h->ref.seq);
			json_array_append_new(vals, json_pack("{s:o,s:o,s:s,"
			    "s:I,s:b}", "value", del ? jstr(h->value_len ?
			    "deleted" : "not deleted") : jstr(h->value), "by",
			    jstr(member_name(w->d, w->t, h->ref.author, name,
			    sizeof(name)) ? name : ahex), "version", ver,
			    "stamp_ms", (json_int_t)proto_hlc_ms(h->hlc), "kept",
			    j == 0));
		}
		json_array_append_new(w->out, json_pack("{s:s,s:s,s:o,s:s,s:o}",
		    "id", hex, "kind", model_kind_name(r->kind), "title",
		    jstr(model_title(r)), "field", reg->name[0] == '_' ?
		    "deleted" : reg->name, "values", vals));
	}
	return 0;
}

void
api_conflicts(struct device *d, struct http_reply *rep)
{
	struct conflict_walk w = { d, NULL, json_array() };
	int rc;

	if (begin_read(d, &w.t, rep) != 0) {
		json_decref(w.out);
		return;
	}
	rc = store_records_each(w.t, 0, conflict_cb, &w);
	store_abort(w.t);
	if (rc != 0) {
		json_decref(w.out);
		store_failed(rep, rc);
	} else
		reply_json(rep, 200, json_pack("{s:o}", "conflicts", w.out));
}

static int
follow_up_due(const struct record *r, void *arg)
{
	const char *f = record_get(r, "follow_up");

	return f != NULL && strcmp(f, arg) <= 0;
}

/* Notes whose follow-up is today or past, oldest first. */
void
api_followups(struct device *d, struct http_reply *rep)
{
	char day[11], name[NAME_MAX_LEN + 1];
	json_t *notes, *due = json_array(), *over = json_array(), *n;
	struct store_txn *t = NULL;
	size_t i;
	int rc;

	today(day);
	if (store_begin(d->st, STORE_RDONLY, &t) != 0 || (notes =
	    records_of(d, t, KIND_NOTE, follow_up_due, day, &rc)) == NULL) {
		if (t != NULL)
			store_abort(t);
		json_decref(due);
		json_decref(over);
		reply_error(rep, 500, "cannot read the notes");
		return;
	}
	json_array_foreach(notes, i, n) {
		json_t *f = json_object_get(n, "fields");
		const char *fu = json_string_value(json_object_get(f,
		    "follow_up"));

		json_object_set_new(n, "student_name", jstr(student_name(t,
		    json_string_value(json_object_get(f, "student")), name,
		    sizeof(name))));
		json_array_append(fu && strcmp(fu, day) == 0 ? due : over, n);
	}
	json_decref(notes);
	store_abort(t);
	reply_json(rep, 200, json_pack("{s:s,s:o,s:o}", "today", day, "due",
	    due, "overdue", over));
}
