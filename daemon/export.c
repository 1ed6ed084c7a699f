/*
 * student export: everything this device holds and can read about one
 * student, as JSON, for a family that asks what the school holds (their
 * right of access). For each part it says who wrote it (the member name
 * and device id of the entry's signed author, never text a writer put in
 * a note) and when (the writer's clock, ISO 8601 UTC), and it gives each
 * record's whole readable history, so replaced, conflicting and deleted
 * values still held here are in it too.
 *
 * What this device cannot read (another teacher's private notes, sealed
 * with that teacher's personal key) is counted, by author, never shown:
 * which student such a note is about is inside the seal as well.
 *
 * Other children stay out of it: of a group, only its name and dates and
 * this student's joins and leaves are given, not its other members.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "export.h"

#define HEX_RECID	(2 * PROTO_RECIDLEN + 1)

struct ex {
	struct device	 *d;
	struct store_txn *t;
	size_t		  nfamily;	/* the student and those merged in */
	char		(*fam)[HEX_RECID];
	json_t		 *notes, *entries, *goals, *groups, *assessments;
	json_t		 *tags;		/* tag -> entries holding it now */
	json_t		 *unread;	/* author hex -> entries unread */
	uint64_t	  unread_other;	/* not private, no key here either */
	int		  rc;
};

static json_t *
str(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	/* A value stored before today's text rule may be anything;
	 * jansson takes UTF-8 only. */
	return (j = json_string(s)) != NULL ? j : json_string("\xef\xbf\xbd");
}

static json_t *
strn(const uint8_t *p, size_t len)
{
	char *s = strndup((const char *)p, len);
	json_t *j = str(s);

	free(s);
	return j;
}

/* Milliseconds since 1970 as ISO 8601 UTC: 2026-11-30T16:07:37.123Z. */
static json_t *
iso(uint64_t ms)
{
	char out[40];
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL)
		return json_null();
	strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), 8, ".%03uZ", (unsigned)(ms % 1000));
	return json_string(out);
}

static json_t *
at(uint64_t hlc)
{
	return iso(proto_hlc_ms(hlc));
}

/* A device as the family reads it: its member name (null if the team's
 * records do not name it) and its checked id. */
static json_t *
who(struct ex *x, const uint8_t *author)
{
	char name[NAME_MAX_LEN + 1], id[PROTO_DEVID_LEN + 1];
	const char *n = member_name(x->d, x->t, author, name, sizeof(name));

	devid_format(author, id);
	return json_pack("{s:o,s:s}", "name", str(n), "device", id);
}

static int
in_family(const struct ex *x, const char *hex, size_t len)
{
	for (size_t i = 0; i < x->nfamily; i++)
		if (len == 2 * PROTO_RECIDLEN && memcmp(x->fam[i], hex, len) == 0)
			return 1;
	return 0;
}

/* --- one record ------------------------------------------------------- */

static const char *const op_names[] = { "?", "set", "add", "remove",
    "delete", "undelete" };

struct hist {
	struct ex	*x;
	json_t		*out;		/* [{at, by, seq, changes: [{op,
					 * field, value}]}], oldest first */
	json_t		*created;	/* {at, by} of the oldest entry */
	int		 private_;	/* its first entry's scope */
	const char	*only_set;	/* keep ops on this set field... */
	int		 set_family;	/* ...of the family's ids only */
};

/* The "author" field a note or entry carries is text its writer chose,
 * kept for older releases: who wrote is the entry's signed author. */
static int
skip_op(const struct hist *h, const struct op *op)
{
	if (op->type > OP_UNDELETE || (op->field_len == 6 &&
	    memcmp(op->field, "author", 6) == 0))
		return 1;
	if (h->only_set == NULL)
		return 0;
	return op->field_len != strlen(h->only_set) || memcmp(op->field,
	    h->only_set, op->field_len) != 0 || op->value == NULL ||
	    (h->set_family && !in_family(h->x, (const char *)op->value,
	    op->value_len));
}

static int
hist_cb(const uint8_t *env, size_t len, void *arg)
{
	struct hist *h = arg;
	struct envelope e;
	struct change *c = NULL;
	uint8_t *pt = NULL;
	char f[PROTO_MAX_FIELD + 1];
	json_t *changes;

	if (proto_envelope_decode(&e, env, len) != 0 ||
	    store_open_entry(h->x->d->keyring, &e, &c, &pt) != 0 || c == NULL)
		goto out;	/* not ours to read */
	if (h->created == NULL) {
		h->created = json_pack("{s:o,s:o}", "at", at(e.hlc), "by",
		    who(h->x, e.author));
		h->private_ = e.scope == SCOPE_PRIVATE;
	}
	changes = json_array();
	for (size_t i = 0; i < c->nops; i++) {
		const struct op *op = &c->ops[i];

		if (skip_op(h, op))
			continue;
		snprintf(f, sizeof(f), "%.*s", (int)op->field_len, op->field);
		json_array_append_new(changes, json_pack("{s:s,s:s,s:o}",
		    "op", op_names[op->type], "field",
		    strcmp(f, RECORD_DELETED_FIELD) == 0 ? "" : f,
		    "value", op->value != NULL ? strn(op->value,
		    op->value_len) : json_null()));
	}
	if (json_array_size(changes) == 0)
		json_decref(changes);
	else
		json_array_append_new(h->out, json_pack("{s:o,s:o,s:I,s:o}",
		    "at", at(e.hlc), "by", who(h->x, e.author), "seq",
		    (json_int_t)e.seq, "changes", changes));
out:
	free(pt);
	free(c);
	return 0;
}

/* A field's value now, who wrote it and when, and the concurrent values
 * that lost but are still held (a conflict). */
static json_t *
field_json(struct ex *x, const struct rec_register *reg)
{
	const struct rec_write *w = &reg->heads[0];
	json_t *o = json_pack("{s:o,s:o,s:o}", "value", str(w->value),
	    "written_at", at(w->hlc), "written_by", who(x, w->ref.author));
	json_t *lost;

	if (o == NULL || reg->nheads < 2)
		return o;
	lost = json_array();
	for (size_t i = 1; i < reg->nheads; i++)
		json_array_append_new(lost, json_pack("{s:o,s:o,s:o}", "value",
		    str(reg->heads[i].value), "written_at",
		    at(reg->heads[i].hlc), "written_by",
		    who(x, reg->heads[i].ref.author)));
	json_object_set_new(o, "conflicting", lost);
	return o;
}

static json_t *
fields_json(struct ex *x, const struct record *r)
{
	json_t *o = json_object();

	for (size_t i = 0; i < r->nregs; i++) {
		const struct rec_register *reg = &r->regs[i];

		if (reg->nheads == 0 || reg->name[0] == '_' ||
		    strcmp(reg->name, "author") == 0)
			continue;
		json_object_set_new(o, reg->name, field_json(x, reg));
	}
	return o;
}

/* {id, kind, private, deleted, created, fields, history}, or with
 * hist->only_set, without fields: the caller adds what it shows. */
static json_t *
record_json(struct ex *x, const struct record *r, struct hist *h)
{
	const struct rec_register *del = record_register(r,
	    RECORD_DELETED_FIELD);
	char hex[HEX_RECID];
	json_t *o;

	hex_id(hex, r->id);
	h->x = x;
	h->out = json_array();
	if ((x->rc = store_history_each(x->t, r->id, hist_cb, h)) != 0) {
		json_decref(h->out);
		json_decref(h->created);
		return NULL;
	}
	o = json_pack("{s:s,s:s,s:b,s:b,s:o}", "id", hex, "kind",
	    model_kind_name(r->kind), "private", h->private_, "deleted",
	    record_deleted(r), "created", h->created ? h->created :
	    json_null());
	if (record_deleted(r) && del != NULL && del->nheads > 0) {
		json_object_set_new(o, "deleted_at", at(del->heads[0].hlc));
		json_object_set_new(o, "deleted_by", who(x,
		    del->heads[0].ref.author));
	}
	if (h->only_set == NULL)
		json_object_set_new(o, "fields", fields_json(x, r));
	json_object_set_new(o, "history", h->out);
	return o;
}

/* --- what is about the student ---------------------------------------- */

/* 1 if any value of r's student field (a conflict's loser too) names
 * the student or a record merged into it. */
static int
about_student(const struct ex *x, const struct record *r)
{
	const struct rec_register *reg = record_register(r, "student");

	for (size_t i = 0; reg != NULL && i < reg->nheads; i++)
		if (in_family(x, reg->heads[i].value, reg->heads[i].value_len))
			return 1;
	return 0;
}

static void
add_tags(struct ex *x, const struct record *r, json_t *o)
{
	const struct rec_set *s = record_set(r, "tags");
	json_t *tags = json_array();

	for (size_t i = 0; s != NULL && i < s->nelems; i++) {
		const char *v = s->elems[i].value;
		json_t *n;

		if (!rec_elem_present(&s->elems[i]))
			continue;
		json_array_append_new(tags, str(v));
		n = json_object_get(x->tags, v);
		json_object_set_new(x->tags, v, json_integer(n ?
		    json_integer_value(n) + 1 : 1));
	}
	json_object_set_new(o, "tags", tags);
}

/* An entry of a unit: one of the student's assessments and its score. */
static void
add_unit(struct ex *x, const struct record *r, json_t *o)
{
	const char *uid = record_get(r, "unit");
	uint8_t id[PROTO_RECIDLEN];
	struct record *u = NULL;
	const char *name = NULL;
	char hex[HEX_RECID];
	size_t len;

	if (uid == NULL)
		return;
	if (sodium_hex2bin(id, sizeof(id), uid, strlen(uid), NULL, &len,
	    NULL) == 0 && len == sizeof(id) &&
	    store_record_get(x->t, KIND_UNIT, id, &u) == 0)
		name = record_get(u, "name");
	json_object_set_new(o, "unit", json_pack("{s:o,s:o}", "id", str(uid),
	    "name", str(name)));
	hex_id(hex, r->id);
	json_array_append_new(x->assessments, json_pack("{s:s,s:o,s:o,s:o,"
	    "s:o,s:o,s:b}", "entry", hex, "unit", str(name), "unit_id",
	    str(uid), "slice", str(record_get(r, "slice")), "score",
	    str(record_get(r, "score")), "date", str(record_get(r, "date")),
	    "deleted", record_deleted(r)));
	record_free(u);
}

/* A goal's checkpoints, each with every date it was given (a move keeps
 * the old one in the history). */
static void
add_checkpoints(const struct record *r, json_t *o)
{
	json_t *cps = json_array(), *hist = json_object_get(o, "history");
	const char *ncp = record_get(r, "checkpoints");
	int n = ncp != NULL ? atoi(ncp) : 0;
	char f[24];

	if (n < 0 || n > GOAL_MAX_CHECKPOINTS)
		n = 0;	/* not written by this program: the history has it */
	for (int i = 1; i <= n; i++) {
		json_t *dates = json_array(), *h;
		const char *date, *text, *done;
		size_t k;

		snprintf(f, sizeof(f), "cp%d_date", i);
		date = record_get(r, f);
		json_array_foreach(hist, k, h) {
			json_t *ch;
			size_t m;

			json_array_foreach(json_object_get(h, "changes"), m,
			    ch)
				if (strcmp(json_string_value(json_object_get(
				    ch, "field")), f) == 0 && strcmp(
				    json_string_value(json_object_get(ch,
				    "op")), "set") == 0)
					json_array_append_new(dates, json_pack(
					    "{s:O,s:O,s:O}", "date",
					    json_object_get(ch, "value"), "at",
					    json_object_get(h, "at"), "by",
					    json_object_get(h, "by")));
		}
		snprintf(f, sizeof(f), "cp%d_text", i);
		text = record_get(r, f);
		snprintf(f, sizeof(f), "cp%d_done", i);
		done = record_get(r, f);
		json_array_append_new(cps, json_pack("{s:i,s:o,s:o,s:b,s:o}",
		    "n", i, "date", str(date), "text", str(text), "done",
		    done != NULL && strcmp(done, "yes") == 0, "dates", dates));
	}
	json_object_set_new(o, "checkpoints", cps);
}

static int
item_cb(const struct record *r, void *arg)
{
	struct ex *x = arg;
	struct hist h = { 0 };
	json_t *o;

	if (!about_student(x, r))
		return 0;
	if ((o = record_json(x, r, &h)) == NULL)
		return 1;
	if (r->kind == KIND_ENTRY) {
		add_tags(x, r, o);
		add_unit(x, r, o);
		json_array_append_new(x->entries, o);
	} else if (r->kind == KIND_GOAL) {
		add_checkpoints(r, o);
		json_array_append_new(x->goals, o);
	} else
		json_array_append_new(x->notes, o);
	return 0;
}

/* A group's history of this student's joins and leaves, one event a
 * line: [{event: joined|left, student, at, by, seq}]. */
static json_t *
membership(json_t *hist)
{
	json_t *out = json_array(), *h, *ch;
	size_t i, j;

	json_array_foreach(hist, i, h)
		json_array_foreach(json_object_get(h, "changes"), j, ch)
			json_array_append_new(out, json_pack("{s:s,s:O,s:O,"
			    "s:O,s:O}", "event", strcmp(json_string_value(
			    json_object_get(ch, "op")), "add") == 0 ?
			    "joined" : "left", "student", json_object_get(ch,
			    "value"), "at", json_object_get(h, "at"), "by",
			    json_object_get(h, "by"), "seq",
			    json_object_get(h, "seq")));
	return out;
}

/* A group the student was ever in, by the joins and leaves this device
 * holds: its name, type and dates, and those events, no one else's. */
static int
group_cb(const struct record *r, void *arg)
{
	struct ex *x = arg;
	struct hist h = { 0 };
	const struct rec_set *s = record_set(r, "members");
	json_t *o, *fields, *events;
	int now = 0;
	size_t i;

	h.only_set = "members";
	h.set_family = 1;
	if ((o = record_json(x, r, &h)) == NULL)
		return 1;
	events = membership(json_object_get(o, "history"));
	json_object_del(o, "history");
	if (json_array_size(events) == 0) {
		json_decref(events);
		json_decref(o);
		return 0;
	}
	json_object_set_new(o, "membership", events);
	for (i = 0; s != NULL && i < s->nelems; i++)
		if (rec_elem_present(&s->elems[i]) && in_family(x,
		    s->elems[i].value, s->elems[i].value_len))
			now = 1;
	fields = json_object();
	for (i = 0; i < r->nregs; i++)
		if (r->regs[i].nheads > 0 && r->regs[i].name[0] != '_')
			json_object_set_new(fields, r->regs[i].name,
			    field_json(x, &r->regs[i]));
	json_object_set_new(o, "fields", fields);
	json_object_set_new(o, "member_now", json_boolean(now));
	json_array_append_new(x->groups, o);
	return 0;
}

/* --- what this device cannot read -------------------------------------- */

static int
unread_cb(const uint8_t *env, size_t len, void *arg)
{
	struct ex *x = arg;
	struct envelope e;
	char hex[2 * PROTO_IDLEN + 1];
	json_t *n;

	/* No ciphertext: an erased entry's stub, which holds nothing to
	 * read (where erasure keeps stubs). */
	if (proto_envelope_decode(&e, env, len) != 0 ||
	    e.ciphertext == NULL ||
	    store_keyring_find(x->d->keyring, e.key_id) != NULL)
		return 0;
	if (e.scope != SCOPE_PRIVATE) {
		x->unread_other++;
		return 0;
	}
	sodium_bin2hex(hex, sizeof(hex), e.author, PROTO_IDLEN);
	n = json_object_get(x->unread, hex);
	json_object_set_new(x->unread, hex, json_integer(n ?
	    json_integer_value(n) + 1 : 1));
	return 0;
}

/* {private_entries, by: [{name, device, entries}], other_entries, text}:
 * what this device holds but cannot open, said in a family's words. */
static json_t *
cannot_read(struct ex *x)
{
	json_t *by = json_array(), *n, *o;
	json_int_t total = 0;
	const char *hex;
	char text[1024], list[600] = "", name[NAME_MAX_LEN + 1];
	uint8_t id[PROTO_IDLEN];
	size_t len, used = 0;

	json_object_foreach(x->unread, hex, n) {
		if (sodium_hex2bin(id, sizeof(id), hex, strlen(hex), NULL,
		    &len, NULL) != 0 || len != sizeof(id))
			continue;
		total += json_integer_value(n);
		json_array_append_new(by, json_pack("{s:o,s:O}", "author",
		    who(x, id), "entries", n));
		if (member_name(x->d, x->t, id, name, sizeof(name)) == NULL)
			snprintf(name, sizeof(name), "%.12s", hex);
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) -
			    used, "%s%s: %lld", used ? ", " : "", name,
			    (long long)json_integer_value(n));
	}
	if (total == 0)
		used = (size_t)snprintf(text, sizeof(text), "This device "
		    "holds no other teacher's private notes.");
	else
		used = (size_t)snprintf(text, sizeof(text), "This device "
		    "cannot read %lld private %s written by other teachers "
		    "(%s). They are sealed with their authors' personal keys: "
		    "neither their text nor which student each is about is "
		    "known here, so they are counted, not exported. Each "
		    "author can export them from their own device.",
		    (long long)total, total == 1 ? "note or entry" :
		    "notes or entries", list);
	/* Team entries under a key epoch this device was never given (it
	 * joined after a removal without a grant, say). */
	if (x->unread_other > 0 && used < sizeof(text))
		snprintf(text + used, sizeof(text) - used, " It also holds "
		    "%llu %s sealed under team keys it was never given, "
		    "which it cannot read either.",
		    (unsigned long long)x->unread_other,
		    x->unread_other == 1 ? "entry" : "entries");
	o = json_pack("{s:I,s:o,s:I,s:s}", "private_entries", total, "by", by,
	    "other_entries", (json_int_t)x->unread_other, "text", text);
	return o;
}

/* --- the whole export --------------------------------------------------- */

/* Notes and entries by date, then id: the order a reader expects. */
static int
by_date_cmp(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	json_t *dx = json_object_get(json_object_get(json_object_get(*x,
	    "fields"), "date"), "value");
	json_t *dy = json_object_get(json_object_get(json_object_get(*y,
	    "fields"), "date"), "value");
	const char *sx = dx ? json_string_value(dx) : "";
	const char *sy = dy ? json_string_value(dy) : "";
	int c = strcmp(sx ? sx : "", sy ? sy : "");

	return c ? c : strcmp(json_string_value(json_object_get(*x, "id")),
	    json_string_value(json_object_get(*y, "id")));
}

static void
sort_by_date(json_t *a)
{
	size_t n = json_array_size(a);
	json_t **v;

	if (n < 2 || (v = calloc(n, sizeof(*v))) == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(a, i));
	qsort(v, n, sizeof(*v), by_date_cmp);
	json_array_clear(a);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
}

static json_t *
header(struct ex *x, const struct record *s)
{
	char id[PROTO_DEVID_LEN + 1], hex[HEX_RECID];

	devid_format(x->d->id, id);
	hex_id(hex, s->id);
	return json_pack("{s:s,s:i,s:o,s:{s:o,s:s},s:s,s:s,s:o,s:s,s:s}",
	    "format", EXPORT_FORMAT, "version", EXPORT_VERSION,
	    "exported_at", iso(store_wall_ms()), "exported_by", "name",
	    str(x->d->name), "device", id, "satchel", SATCHEL_VERSION,
	    "student", hex, "cannot_read", cannot_read(x),
	    "times", "ISO 8601 UTC, by the writer's clock",
	    "erasure", "This file is outside Satchel's reach: 'satchel "
	    "student erase' does not remove it, or any copy of it.");
}

/* The student's own records: the representative, then those merged in. */
static json_t *
profiles(struct ex *x, json_t **merged)
{
	json_t *first = NULL;

	*merged = json_array();
	for (size_t i = 0; i < x->nfamily; i++) {
		uint8_t id[PROTO_RECIDLEN];
		struct hist h = { 0 };
		struct record *r;
		json_t *o;
		size_t len;

		if (sodium_hex2bin(id, sizeof(id), x->fam[i], 2 *
		    PROTO_RECIDLEN, NULL, &len, NULL) != 0 ||
		    (x->rc = store_record_get(x->t, KIND_STUDENT, id, &r)) != 0)
			break;
		o = record_json(x, r, &h);
		record_free(r);
		if (o == NULL)
			break;
		if (i == 0)
			first = o;
		else
			json_array_append_new(*merged, o);
	}
	return first;
}

static int
family_load(struct ex *x, const struct record *s)
{
	uint8_t (*ids)[PROTO_RECIDLEN] = NULL;
	struct student_list sl;
	size_t n = 0;
	int rc;

	if ((rc = student_list_load(x->t, &sl)) == 0)
		rc = student_family(&sl, s->id, &ids, &n);
	student_list_free(&sl);
	if (rc == 0 && (x->fam = calloc(n, sizeof(*x->fam))) == NULL)
		rc = STORE_ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++)
		hex_id(x->fam[i], ids[i]);
	if (rc == 0)
		x->nfamily = n;
	free(ids);
	return rc;
}

static int
gather(struct ex *x)
{
	static const uint8_t kinds[] = { KIND_NOTE, KIND_ENTRY, KIND_GOAL };
	int rc = 0;

	for (size_t i = 0; rc == 0 && x->rc == 0 && i < sizeof(kinds); i++)
		rc = store_records_each(x->t, kinds[i], item_cb, x);
	if (rc == 0 && x->rc == 0)
		rc = store_records_each(x->t, KIND_GROUP, group_cb, x);
	if (rc == 0 && x->rc == 0)
		rc = store_log_each(x->t, unread_cb, x);
	return rc != 0 ? rc : x->rc;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* [{tag, entries}] in the tags' order, whatever order entries came in. */
static json_t *
tag_list(json_t *tags)
{
	size_t n = json_object_size(tags), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys)), *k;
	json_t *a = json_array(), *v;

	if (keys == NULL)
		return a;
	json_object_foreach(tags, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), str_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:O}", "tag", keys[i],
		    "entries", json_object_get(tags, keys[i])));
	free(keys);
	return a;
}

static json_t *
assemble(struct ex *x, const struct record *s)
{
	json_t *merged, *profile = profiles(x, &merged), *o;

	if (profile == NULL || x->rc != 0) {	/* a record of it unread */
		json_decref(profile);
		json_decref(merged);
		return NULL;
	}
	sort_by_date(x->notes);
	sort_by_date(x->entries);
	o = json_pack("{s:o,s:o,s:o,s:O,s:O,s:O,s:O,s:O,s:o}",
	    "export", header(x, s), "student", profile, "merged_records",
	    merged, "notes", x->notes, "portfolio_entries", x->entries,
	    "assessments", x->assessments, "goals", x->goals, "groups",
	    x->groups, "tags", tag_list(x->tags));
	return o;
}

int
export_student(struct device *d, const char *student, json_t **out)
{
	struct ex x = { d, NULL, 0, NULL, json_array(), json_array(),
	    json_array(), json_array(), json_array(), json_object(),
	    json_object(), 0, 0 };
	struct record *s = NULL;
	int rc;

	*out = NULL;
	if ((rc = store_begin(d->st, STORE_RDONLY, &x.t)) != 0) {
		rc = device_store_error(rc, "cannot read");
		goto out;
	}
	if ((rc = resolve_record(x.t, student, KIND_STUDENT, &s)) != 0)
		goto out_abort;
	if ((rc = family_load(&x, s)) != 0 || (rc = gather(&x)) != 0) {
		rc = device_store_error(rc, "student export");
		goto out_abort;
	}
	if ((*out = assemble(&x, s)) == NULL)
		rc = device_store_error(x.rc ? x.rc : STORE_ENOMEM,
		    "student export");
out_abort:
	store_abort(x.t);
out:
	record_free(s);
	free(x.fam);
	json_decref(x.notes);
	json_decref(x.entries);
	json_decref(x.goals);
	json_decref(x.groups);
	json_decref(x.assessments);
	json_decref(x.tags);
	json_decref(x.unread);
	return rc;
}

/* --- the command ---------------------------------------------------------- */

/* path's folder, where the temporary file goes so that rename is atomic. */
static void
folder_of(const char *path, char *out, size_t len)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(out, len, "%s", dirname(copy));
}

/* Writes text to path by a temporary file beside it, mode 0600, synced,
 * then linked into place: without force an existing file (even one made
 * meanwhile) is never replaced. A path the user must fix is exit 2. */
static int
write_export(const char *path, const char *text, int force)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32];
	size_t len = strlen(text);
	int fd, rc;

	folder_of(path, dir, sizeof(dir));
	snprintf(tmp, sizeof(tmp), "%s/.satchel-export-XXXXXX", dir);
	if ((fd = mkstemp(tmp)) == -1)
		return fail_usage("student export: cannot write in %s: %s", dir,
		    strerror(errno));
	if (fchmod(fd, 0600) == -1 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) == -1) {
		rc = errno;
		close(fd);
		unlink(tmp);
		return fail("student export: cannot write %s: %s", path,
		    rc == ENOSPC ? "the disk is full" : strerror(rc));
	}
	close(fd);
	if (force)
		rc = rename(tmp, path) == -1 ? errno : 0;
	else if ((rc = link(tmp, path) == -1 ? errno : 0) != 0 &&
	    rc != EEXIST)	/* no hard links (a FAT stick, say) */
		rc = access(path, F_OK) == 0 ? EEXIST :
		    rename(tmp, path) == -1 ? errno : 0;
	if (rc != 0) {
		unlink(tmp);
		return rc == EEXIST ? fail_usage("student export: %s exists; "
		    "give --force to replace it", path) : fail_usage("student "
		    "export: cannot write %s: %s", path, strerror(rc));
	}
	unlink(tmp);	/* linked: the file stays under its name */
	return sync_parent(path) == 0 ? 0 : fail("student export: cannot "
	    "sync %s: %s", dir, strerror(errno));
}

static void
say_written(const char *path, json_t *o)
{
	char full[PATH_MAX], dir[PATH_MAX], copy[PATH_MAX];
	const char *name = json_string_value(json_object_get(json_object_get(
	    json_object_get(json_object_get(o, "student"), "fields"), "name"),
	    "value"));

	folder_of(path, dir, sizeof(dir));
	snprintf(copy, sizeof(copy), "%s", path);
	if (realpath(dir, full) != NULL)
		snprintf(full + strlen(full), sizeof(full) - strlen(full),
		    "/%s", basename(copy));
	else
		snprintf(full, sizeof(full), "%s", path);
	printf("exported %s: %zu %s, %zu portfolio %s, %zu %s, %zu %s to "
	    "%s\n", name ? name : "the student",
	    json_array_size(json_object_get(o, "notes")),
	    json_array_size(json_object_get(o, "notes")) == 1 ? "note" :
	    "notes", json_array_size(json_object_get(o, "portfolio_entries")),
	    json_array_size(json_object_get(o, "portfolio_entries")) == 1 ?
	    "entry" : "entries", json_array_size(json_object_get(o, "goals")),
	    json_array_size(json_object_get(o, "goals")) == 1 ? "goal" :
	    "goals", json_array_size(json_object_get(o, "groups")),
	    json_array_size(json_object_get(o, "groups")) == 1 ? "group" :
	    "groups", full);
	printf("%s\n", json_string_value(json_object_get(json_object_get(
	    json_object_get(o, "export"), "cannot_read"), "text")));
	printf("This file is outside Satchel's erasure reach: 'satchel student "
	    "erase' cannot remove it. Give it to the family, and delete it "
	    "(and any copy) once it is handed over.\n");
}

int
cmd_student_export(struct device *d, struct args *a)
{
	const char *path = a->pos[1];
	int force = args_has(a, "force"), rc;
	struct stat sb;
	json_t *o;
	char *text;

	if (*path == '\0')
		return fail_usage("student export: FILE is empty");
	if (!force && lstat(path, &sb) == 0)
		return fail_usage("student export: %s exists; give --force to "
		    "replace it", path);
	if (force && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return fail_usage("student export: %s is a folder", path);
	if ((rc = export_student(d, a->pos[0], &o)) != 0)
		return rc;
	text = json_dumps(o, JSON_INDENT(2));
	if (text == NULL) {
		json_decref(o);
		return fail("student export: out of memory");
	}
	if ((rc = write_export(path, text, force)) == 0)
		say_written(path, o);
	free(text);
	json_decref(o);
	return rc;
}
