/*
 * /api/v1/: the routes, and the writes. A write's body is checked against
 * what the endpoint takes (body.c), then handed as typed input to the
 * operation the command line runs too (ops.c), whose one-line failure is
 * caught and answered: 400 for bad input, 404 for no such record, 409 for
 * a field changed meanwhile; nothing is written then. A write is
 * committed before it is answered, and pushed to the peers at once.
 * README's "The page's API" lists every endpoint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* rc = call, with the operation's failure caught in err. */
#define OPS_RUN(rc, err, call) do {					\
	struct ops_err *was_ = err_capture(&(err));			\
	(rc) = (call);							\
	err_capture(was_);						\
} while (0)

static void
reply_failed(struct http_reply *rep, const struct ops_err *e)
{
	reply_error(rep, e->status ? (unsigned)e->status : 500, "%s",
	    e->msg[0] ? e->msg : "the operation failed");
}

static void
reply_created(struct http_req *r, struct http_reply *rep, int rc,
    const struct ops_err *e, const uint8_t *id)
{
	char hex[2 * PROTO_RECIDLEN + 1];

	if (rc != 0) {
		reply_failed(rep, e);
		return;
	}
	http_wrote(r);
	hex_id(hex, id);
	reply_json(rep, 201, json_pack("{s:s}", "id", hex));
}

static void
reply_done(struct http_req *r, struct http_reply *rep, int rc,
    const struct ops_err *e)
{
	if (rc != 0) {
		reply_failed(rep, e);
		return;
	}
	http_wrote(r);
	reply_json(rep, 200, json_pack("{s:b}", "ok", 1));
}

/* Parses the body against spec; on failure replies 400 and returns -1. */
static int
parse(struct body *b, const char *buf, size_t len,
    const struct body_field *spec, struct http_reply *rep)
{
	char why[300];

	if (body_parse(b, buf, len, spec, why, sizeof(why)) != 0) {
		reply_error(rep, 400, "%s", why);
		return -1;
	}
	return 0;
}

static const struct body_field student_spec[] = {
	{ "name", B_STR, 1 }, { "class", B_STR, 0 },
	{ "strengths", B_STR, 0 }, { "needs", B_STR, 0 },
	{ "interests", B_STR, 0 }, { "goals", B_STR, 0 },
	{ "same_name", B_BOOL, 0 }, { NULL, 0, 0 }
};

static void
post_student(struct http_req *r, const char *buf, size_t len,
    struct http_reply *rep)
{
	struct body b;
	struct ops_err e;
	uint8_t id[PROTO_RECIDLEN];
	int rc;

	if (parse(&b, buf, len, student_spec, rep) != 0)
		return;
	struct ops_student in = { b.str[0], b.str[1], b.str[2], b.str[3],
	    b.str[4], b.str[5], (int)b.num[6] };
	OPS_RUN(rc, e, ops_student_add(http_device(r), &in, id));
	reply_created(r, rep, rc, &e, id);
	body_free(&b);
}

static const struct body_field note_spec[] = {
	{ "student", B_STR, 1 }, { "date", B_STR, 0 },
	{ "strengths", B_STR, 1 }, { "obstacle", B_STR, 1 },
	{ "action", B_STR, 1 }, { "follow_up", B_STR, 0 },
	{ "student_words", B_STR, 0 }, { "scope", B_STR, 0 }, { NULL, 0, 0 }
};

static void
post_note(struct http_req *r, const char *buf, size_t len,
    struct http_reply *rep)
{
	struct body b;
	struct ops_err e;
	uint8_t id[PROTO_RECIDLEN];
	int rc;

	if (parse(&b, buf, len, note_spec, rep) != 0)
		return;
	struct ops_note in = { b.str[0], b.str[1], b.str[2], b.str[3],
	    b.str[4], b.str[5], b.str[6], b.str[7] };
	OPS_RUN(rc, e, ops_note_add(http_device(r), &in, id));
	reply_created(r, rep, rc, &e, id);
	body_free(&b);
}

static const struct body_field entry_spec[] = {
	{ "student", B_STR, 1 }, { "date", B_STR, 0 }, { "title", B_STR, 1 },
	{ "body", B_STR, 0 }, { "unit", B_STR, 0 }, { "slice", B_STR, 0 },
	{ "score", B_STR, 0 }, { "tags", B_STRS, 0 }, { "scope", B_STR, 0 },
	{ NULL, 0, 0 }
};

static void
post_entry(struct http_req *r, const char *buf, size_t len,
    struct http_reply *rep)
{
	struct body b;
	struct ops_err e;
	uint8_t id[PROTO_RECIDLEN];
	int rc;

	if (parse(&b, buf, len, entry_spec, rep) != 0)
		return;
	struct ops_entry in = { b.str[0], b.str[1], b.str[2], b.str[3],
	    b.str[4], b.str[5], b.str[6], b.item[7], b.n[7], b.str[8] };
	OPS_RUN(rc, e, ops_entry_add(http_device(r), &in, id));
	reply_created(r, rep, rc, &e, id);
	body_free(&b);
}

static const struct body_field unit_spec[] = {
	{ "name", B_STR, 1 }, { "from", B_STR, 0 }, { "until", B_STR, 0 },
	{ NULL, 0, 0 }
};

static void
post_unit(struct http_req *r, const char *buf, size_t len,
    struct http_reply *rep)
{
	struct body b;
	struct ops_err e;
	uint8_t id[PROTO_RECIDLEN];
	int rc;

	if (parse(&b, buf, len, unit_spec, rep) != 0)
		return;
	struct ops_unit in = { b.str[0], b.str[1], b.str[2] };
	OPS_RUN(rc, e, ops_unit_add(http_device(r), &in, id));
	reply_created(r, rep, rc, &e, id);
	body_free(&b);
}

static const struct body_field group_spec[] = {
	{ "name", B_STR, 1 }, { "type", B_STR, 1 }, { "from", B_STR, 0 },
	{ "until", B_STR, 0 }, { "members", B_STRS, 0 }, { NULL, 0, 0 }
};

static void
post_group(struct http_req *r, const char *buf, size_t len,
    struct http_reply *rep)
{
	struct body b;
	struct ops_err e;
	uint8_t id[PROTO_RECIDLEN];
	int rc;

	if (parse(&b, buf, len, group_spec, rep) != 0)
		return;
	if (strcmp(b.str[1], "same-need") != 0 &&
	    strcmp(b.str[1], "mixed") != 0) {
		reply_error(rep, 400, "type: 'same-need' (a lettered group) or "
		    "'mixed' (a numbered group)");
		body_free(&b);
		return;
	}
	struct ops_group in = { b.str[0], b.str[1], b.str[2], b.str[3],
	    b.item[4], b.n[4] };
	OPS_RUN(rc, e, ops_group_add(http_device(r), &in, id));
	reply_created(r, rep, rc, &e, id);
	body_free(&b);
}

static const struct body_field move_spec[] = {
	{ "student", B_STR, 1 }, { "from", B_STR, 0 }, { "to", B_STR, 0 },
	{ NULL, 0, 0 }
};

static void
post_move(struct http_req *r, const char *buf, size_t len,
    struct http_reply *rep)
{
	struct body b;
	struct ops_err e;
	int rc;

	if (parse(&b, buf, len, move_spec, rep) != 0)
		return;
	OPS_RUN(rc, e, ops_group_move(http_device(r), b.str[0], b.str[1],
	    b.str[2]));
	reply_done(r, rep, rc, &e);
	body_free(&b);
}

static const struct body_field goal_spec[] = {
	{ "student", B_STR, 1 }, { "text", B_STR, 1 },
	{ "checkpoints", B_MAP, 0 }, { NULL, 0, 0 }
};

/* checkpoints: {"2026-12-01": "half way", ...}, in date order. */
static void
post_goal(struct http_req *r, const char *buf, size_t len,
    struct http_reply *rep)
{
	struct body b;
	struct ops_err e;
	uint8_t id[PROTO_RECIDLEN];
	int rc;

	if (parse(&b, buf, len, goal_spec, rep) != 0)
		return;
	struct ops_goal in = { b.str[0], b.str[1], b.n[2], { 0 }, { 0 } };
	if (in.ncp > GOAL_MAX_CHECKPOINTS) {
		reply_error(rep, 400, "a goal has at most %d checkpoints",
		    GOAL_MAX_CHECKPOINTS);
		body_free(&b);
		return;
	}
	for (int i = 0; i < in.ncp; i++) {
		in.cp_date[i] = b.key[2][i];
		in.cp_text[i] = b.item[2][i];
	}
	OPS_RUN(rc, e, ops_goal_add(http_device(r), &in, id));
	reply_created(r, rep, rc, &e, id);
	body_free(&b);
}

static const struct body_field cp_add_spec[] = {
	{ "date", B_STR, 1 }, { "text", B_STR, 1 }, { NULL, 0, 0 }
};

static const struct body_field cp_set_spec[] = {
	{ "done", B_BOOL, 0 }, { "date", B_STR, 0 }, { NULL, 0, 0 }
};

/* POST goals/{id}/checkpoints adds one; PATCH .../checkpoints/{n}
 * ticks it (done) or moves it (date; the old date stays in history). */
static void
checkpoint(struct http_req *r, const char *method, const char *goal,
    const char *n, const char *buf, size_t len, struct http_reply *rep)
{
	struct body b;
	struct ops_err e;
	char *end;
	long num;
	int rc;

	if (n == NULL && strcmp(method, "POST") == 0) {
		if (parse(&b, buf, len, cp_add_spec, rep) != 0)
			return;
		OPS_RUN(rc, e, ops_checkpoint_add(http_device(r), goal,
		    b.str[0], b.str[1]));
	} else if (n != NULL && strcmp(method, "PATCH") == 0) {
		num = strtol(n, &end, 10);
		if (*end != '\0' || num < 1 || num > GOAL_MAX_CHECKPOINTS) {
			reply_error(rep, 404, "no checkpoint '%s'", n);
			return;
		}
		if (parse(&b, buf, len, cp_set_spec, rep) != 0)
			return;
		OPS_RUN(rc, e, ops_checkpoint_set(http_device(r), goal, num,
		    b.present[0] ? (int)b.num[0] : -1, b.str[1]));
	} else {
		reply_error(rep, 405, "checkpoints: POST to add, PATCH "
		    "checkpoints/N to tick or move");
		return;
	}
	reply_done(r, rep, rc, &e);
	body_free(&b);
}

static const struct body_field patch_spec[] = {
	{ "set", B_MAP, 0 }, { "versions", B_MAP, 0 }, { "add", B_STRS, 0 },
	{ "remove", B_STRS, 0 }, { NULL, 0, 0 }
};

static const char *
map_get(const struct body *b, int i, const char *key)
{
	for (int j = 0; j < b->n[i]; j++)
		if (strcmp(b->key[i][j], key) == 0)
			return b->item[i][j];
	return NULL;
}

/* 409: the field the page showed was changed meanwhile. Both values go
 * back, so the page can show them side by side; nothing was written. */
static void
reply_conflict(struct http_req *r, const char *id, const struct ops_err *e,
    const char *yours, struct http_reply *rep)
{
	struct http_reply now = { 0, NULL, 0 };
	json_t *rec;

	api_get_record(http_device(r), id, &now);
	rec = now.body;
	reply_json(rep, 409, json_pack("{s:s,s:s,s:o,s:O?,s:O?,s:O?}",
	    "error", e->msg, "field", e->field, "yours", jstr(yours),
	    "theirs", json_object_get(json_object_get(rec, "fields"),
	    e->field), "version", json_object_get(json_object_get(rec,
	    "versions"), e->field), "record", rec));
	json_decref(rec);
}

/* PATCH records/{id}: {"set": {field: value}, "versions": {field:
 * version shown}, "add": [...], "remove": [...]} (add and remove: the
 * record's set, tags or members). */
static void
patch_record(struct http_req *r, const char *id, const char *buf,
    size_t len, struct http_reply *rep)
{
	struct ops_edit in;
	struct body b;
	struct ops_err e;
	int rc, changed;

	if (parse(&b, buf, len, patch_spec, rep) != 0)
		return;
	memset(&in, 0, sizeof(in));
	in.record = id;
	for (int i = 0; i < b.n[0]; i++) {
		in.field[i] = b.key[0][i];
		in.value[i] = b.item[0][i];
		in.version[i] = map_get(&b, 1, b.key[0][i]);
	}
	in.n = b.n[0];
	in.nadd = b.n[2];
	in.nrem = b.n[3];
	memcpy(in.add, b.item[2], sizeof(b.item[2]));
	memcpy(in.rem, b.item[3], sizeof(b.item[3]));
	OPS_RUN(rc, e, ops_edit(http_device(r), &in, &changed));
	if (rc != 0 && e.status == OPS_ECONFLICT)
		reply_conflict(r, id, &e, map_get(&b, 0, e.field), rep);
	else if (rc != 0)
		reply_failed(rep, &e);
	else {
		if (changed)
			http_wrote(r);
		api_get_record(http_device(r), id, rep);
	}
	body_free(&b);
}

static const struct body_field restore_spec[] = {
	{ "record", B_STR, 1 }, { "field", B_STR, 1 }, { "version", B_STR, 1 },
	{ NULL, 0, 0 }
};

/* Keeps a conflict's value: the version is the one conflicts shows. */
static void
post_restore(struct http_req *r, const char *buf, size_t len,
    struct http_reply *rep)
{
	struct body b;
	struct ops_err e;
	int rc;

	if (parse(&b, buf, len, restore_spec, rep) != 0)
		return;
	OPS_RUN(rc, e, ops_restore(http_device(r), b.str[0], b.str[1],
	    b.str[2]));
	reply_done(r, rep, rc, &e);
	body_free(&b);
}

static void
tombstone(struct http_req *r, const char *id, int deleted,
    struct http_reply *rep)
{
	struct ops_err e;
	int rc;

	OPS_RUN(rc, e, ops_tombstone(http_device(r), id, deleted));
	reply_done(r, rep, rc, &e);
}

static const struct body_field scope_spec[] = {
	{ "scope", B_STR, 1 }, { NULL, 0, 0 }
};

/* GET scope: this device's default scope of new notes and entries; PUT
 * scope {"scope": "private"|"team"} sets it (satchel scope). */
static void
scope(struct http_req *r, const char *m, const char *buf, size_t len,
    struct http_reply *rep)
{
	const char *now = NULL;
	struct body b;
	struct ops_err e;
	int rc;

	if (strcmp(m, "GET") == 0) {
		OPS_RUN(rc, e, ops_scope_get(http_device(r), &now));
		if (rc != 0)
			reply_failed(rep, &e);
		else
			reply_json(rep, 200, json_pack("{s:s}", "scope", now));
		return;
	}
	if (strcmp(m, "PUT") != 0) {
		reply_error(rep, 405, "scope: GET, PUT");
		return;
	}
	if (parse(&b, buf, len, scope_spec, rep) != 0)
		return;
	OPS_RUN(rc, e, ops_scope_set(http_device(r), b.str[0]));
	if (rc != 0)
		reply_failed(rep, &e);
	else
		reply_json(rep, 200, json_pack("{s:s}", "scope", b.str[0]));
	body_free(&b);
}

/* GET events?since=N: answers {"seq": M} once M != N (at once if it is
 * already), or after HTTP_WAIT_MS with M == N. The page then reloads
 * what it shows. */
static void
events(struct http_req *r, struct http_reply *rep)
{
	const char *since = http_arg(r, "since");
	uint64_t n = since ? strtoull(since, NULL, 10) : 0;

	if (since != NULL && http_wait(r, n)) {
		rep->status = 0;	/* suspended */
		return;
	}
	reply_json(rep, 200, json_pack("{s:I}", "seq",
	    (json_int_t)http_seq(http_of(r))));
}

static long
num_arg(struct http_req *r, const char *name, long dflt, long max)
{
	const char *v = http_arg(r, name);
	char *end;
	long n;

	if (v == NULL)
		return dflt;
	n = strtol(v, &end, 10);
	return *v == '\0' || *end != '\0' || n < 0 || n > max ? -1 : n;
}

/* "/students/abc/x" into its parts after the collection: up to three. */
static int
split(const char *path, char parts[4][128])
{
	int n = 0;

	while (*path == '/' && n < 4) {
		size_t len = strcspn(path + 1, "/");

		if (len == 0 || len >= 128)
			return -1;
		memcpy(parts[n], path + 1, len);
		parts[n++][len] = '\0';
		path += 1 + len;
	}
	return *path == '\0' ? n : -1;
}

static int
is(const char *method, const char *want)
{
	return strcmp(method, want) == 0;
}

static void
route_students(struct http_req *r, const char *m, char p[4][128], int n,
    const char *buf, size_t len, struct http_reply *rep)
{
	struct device *d = http_device(r);
	long limit = num_arg(r, "limit", 50, 1000000), off = num_arg(r,
	    "offset", 0, 1000000000), deleted = num_arg(r, "deleted", 0, 1);

	if (n == 1 && is(m, "GET"))
		api_students(d, http_arg(r, "class"), rep);
	else if (n == 1 && is(m, "POST"))
		post_student(r, buf, len, rep);
	else if (n == 2 && is(m, "GET") && (limit < 0 || off < 0))
		reply_error(rep, 400, "limit and offset are whole numbers");
	else if (n == 2 && is(m, "GET") && deleted < 0)
		reply_error(rep, 400, "deleted: 0 or 1");
	else if (n == 2 && is(m, "GET"))
		api_student(d, p[1], limit, off, deleted, rep);
	else
		reply_error(rep, 405, "students: GET, POST, GET students/ID");
}

static void
route_records(struct http_req *r, const char *m, char p[4][128], int n,
    const char *buf, size_t len, struct http_reply *rep)
{
	struct device *d = http_device(r);

	if (n == 2 && is(m, "GET"))
		api_get_record(d, p[1], rep);
	else if (n == 2 && is(m, "PATCH"))
		patch_record(r, p[1], buf, len, rep);
	else if (n == 2 && is(m, "DELETE"))
		tombstone(r, p[1], 1, rep);
	else if (n == 3 && is(m, "POST") && strcmp(p[2], "undelete") == 0)
		tombstone(r, p[1], 0, rep);
	else if (n == 3 && is(m, "GET") && strcmp(p[2], "history") == 0)
		api_history(d, p[1], rep);
	else
		reply_error(rep, 405, "records/ID: GET, PATCH, DELETE; "
		    "records/ID/undelete: POST; records/ID/history: GET");
}

/* The collections that only read. */
static int
route_reads(struct http_req *r, const char *m, char p[4][128], int n,
    struct http_reply *rep)
{
	struct device *d = http_device(r);

	if (!is(m, "GET") || n != 1)
		return 0;
	if (strcmp(p[0], "status") == 0)
		api_status(d, rep);
	else if (strcmp(p[0], "search") == 0)
		api_search(d, http_arg(r, "q"), rep);
	else if (strcmp(p[0], "conflicts") == 0)
		api_conflicts(d, rep);
	else if (strcmp(p[0], "followups") == 0)
		api_followups(d, rep);
	else if (strcmp(p[0], "rotation") == 0)
		api_rotation(d, http_arg(r, "from"), http_arg(r, "until"),
		    http_arg(r, "weeks"), rep);
	else if (strcmp(p[0], "members") == 0)
		api_members(d, rep);
	else if (strcmp(p[0], "deleted") == 0)
		api_deleted(d, http_arg(r, "kind"), rep);
	else if (strcmp(p[0], "events") == 0)
		events(r, rep);
	else
		return 0;
	return 1;
}

void
api_route(struct http_req *r, const char *m, const char *path,
    const char *buf, size_t len, struct http_reply *rep)
{
	char p[4][128];
	int n = split(path, p);

	if (n < 1) {
		reply_error(rep, 404, "no such endpoint");
		return;
	}
	if (route_reads(r, m, p, n, rep))
		return;
	if (n == 3 && strcmp(p[0], "students") == 0 &&
	    strcmp(p[2], "export") == 0 && is(m, "GET")) {
		api_student_export(http_device(r), p[1], rep);
		return;
	}
	if (strcmp(p[0], "students") == 0)
		route_students(r, m, p, n, buf, len, rep);
	else if (strcmp(p[0], "records") == 0)
		route_records(r, m, p, n, buf, len, rep);
	else if (strcmp(p[0], "notes") == 0 && n == 1 && is(m, "POST"))
		post_note(r, buf, len, rep);
	else if (strcmp(p[0], "entries") == 0 && n == 1 && is(m, "POST"))
		post_entry(r, buf, len, rep);
	else if (strcmp(p[0], "groups") == 0 && n == 1 && is(m, "GET"))
		api_groups(http_device(r), rep);
	else if (strcmp(p[0], "groups") == 0 && n == 1 && is(m, "POST"))
		post_group(r, buf, len, rep);
	else if (strcmp(p[0], "groups") == 0 && n == 2 &&
	    strcmp(p[1], "move") == 0 && is(m, "POST"))
		post_move(r, buf, len, rep);
	else if (strcmp(p[0], "units") == 0 && n == 1 && is(m, "GET"))
		api_units(http_device(r), rep);
	else if (strcmp(p[0], "units") == 0 && n == 1 && is(m, "POST"))
		post_unit(r, buf, len, rep);
	else if (strcmp(p[0], "units") == 0 && n == 2 && is(m, "GET"))
		api_unit(http_device(r), p[1], rep);
	else if (strcmp(p[0], "goals") == 0 && n == 1 && is(m, "POST"))
		post_goal(r, buf, len, rep);
	else if (strcmp(p[0], "goals") == 0 && n >= 3 &&
	    strcmp(p[2], "checkpoints") == 0)
		checkpoint(r, m, p[1], n == 4 ? p[3] : NULL, buf, len, rep);
	else if (strcmp(p[0], "conflicts") == 0 && n == 2 &&
	    strcmp(p[1], "restore") == 0 && is(m, "POST"))
		post_restore(r, buf, len, rep);
	else if (strcmp(p[0], "members") == 0 && n == 2 &&
	    strcmp(p[1], "invite") == 0 && is(m, "POST"))
		api_invite(r, buf, len, rep);
	else if (strcmp(p[0], "scope") == 0 && n == 1)
		scope(r, m, buf, len, rep);
	else if (strcmp(p[0], "lock") == 0 && n == 1 && is(m, "POST")) {
		http_lock(r);
		reply_json(rep, 200, json_pack("{s:b}", "locked", 1));
	} else
		reply_error(rep, 404, "no such endpoint (see README, The "
		    "page's API)");
}

/* A box reads no records: it shows its sync status and nothing else. */
int
api_box_allowed(const char *method, const char *path)
{
	return (strcmp(method, "GET") == 0 && (strcmp(path, "/status") == 0 ||
	    strncmp(path, "/events", 7) == 0 || strcmp(path, "/members") ==
	    0)) || (strcmp(method, "POST") == 0 && strcmp(path, "/lock") == 0);
}
