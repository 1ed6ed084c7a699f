/*
 * The exposure report (satchel member report): which students' records a
 * device held, as of the last entries it is known to have received, for
 * the letter a school owes the families when a laptop is lost.
 *
 * What a device holds is known only to those it synced with, from their
 * receipts (receipt.c). A device is known to have held, for each author,
 * every entry up to the highest seq that
 *  - any receipt about it says it acknowledged (a log is held from seq 1
 *    on without gaps, so a seq stands for all before it),
 *  - any receipt it wrote says it held itself ("self"),
 *  - it wrote itself (its own log), or one of its own entries names as
 *    replaced (it had seen that write).
 * Every entry so covered that this device can open is mapped to the
 * students it is about: a student record itself, a note's, entry's or
 * goal's student (as the entry sets it, or else as the record has it),
 * a group's members it adds or removes.
 *
 * Where the record is incomplete the report errs towards too many, and
 * says which entries are uncertain:
 *  - entries known held but not held here, or sealed under a key this
 *    device lacks (a private note, another epoch), or of a newer format:
 *    listed as uncertain entries, their students unknown;
 *  - a device whose own entries reached the team past every receipt's
 *    word on them synced in a session that left no receipt (with a device
 *    of an older release, or by bundle): every entry written before the
 *    last trace of it (its last entry, its last receipt) that is not
 *    known held is counted as possibly held, its students listed as such.
 * A sync that left no trace at all cannot be reported: the report says
 * how many receipts it rests on, and when the last was written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "satchel.h"

struct report_walk {
	const struct device *d;
	struct store_txn *t;
	struct report	*r;
	int		 rc;
};

void
report_free(struct report *r)
{
	vec_free(&r->known);
	free(r->students);
	free(r->gaps);
	memset(r, 0, sizeof(*r));
}

static int
vec_max(struct vec *into, const struct vec *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i].seq > 0 && vec_raise(into, v->items[i].author,
		    v->items[i].seq, NULL) != 0)
			return -1;
	return 0;
}

static void
saw_sync(struct report *r, const struct receipt *rc)
{
	r->nreceipts++;
	if (rc->synced > r->last_sync) {
		r->last_sync = rc->synced;
		memcpy(r->last_by, rc->writer, PROTO_IDLEN);
	}
}

static int
gap_add(struct report *r, const uint8_t *author, uint64_t from, uint64_t to,
    const char *why)
{
	struct report_gap *g = r->ngaps ? &r->gaps[r->ngaps - 1] : NULL;
	void *p;

	/* One line for a run: the next seq of the same author and reason. */
	if (g != NULL && g->why == why && g->to + 1 == from &&
	    memcmp(g->author, author, PROTO_IDLEN) == 0) {
		g->to = to;
		return 0;
	}
	if ((p = realloc(r->gaps, (r->ngaps + 1) * sizeof(*r->gaps))) == NULL)
		return -1;
	r->gaps = p;
	g = &r->gaps[r->ngaps++];
	memcpy(g->author, author, PROTO_IDLEN);
	g->from = from;
	g->to = to;
	g->why = why;
	return 0;
}

/* Receipts about the device, and by it: what it acknowledged, and what it
 * said it held itself. */
static int
receipt_cb(const uint8_t *device, const uint8_t *writer, uint64_t seq,
    void *arg)
{
	struct report_walk *w = arg;
	struct report *r = w->r;
	struct receipt rc;
	int about = memcmp(device, r->id, PROTO_IDLEN) == 0;
	int by = memcmp(writer, r->id, PROTO_IDLEN) == 0;

	if (!about && !by)
		return 0;
	if (receipt_read(w->d, w->t, writer, seq, &rc) != 0) {
		w->rc = gap_add(r, writer, seq, seq, "a receipt this device "
		    "cannot read (another epoch's key?)");
		return w->rc != 0;
	}
	saw_sync(r, &rc);
	w->rc = vec_max(&r->known, about ? &rc.holds : &rc.self);
	receipt_free(&rc);
	return w->rc != 0;
}

/* Its own entries: held from the start, and each names writes it had
 * seen. t's entries it cannot open are mapped to students later. */
static int
own_entries(const struct device *d, struct store_txn *t, struct report *r)
{
	for (uint64_t s = 1; s <= r->own_head; s++) {
		struct change *c = NULL;
		struct envelope e;
		const uint8_t *env;
		uint8_t *pt = NULL;
		const char *why;
		size_t len;
		int rc = 0;

		if (store_log_get(t, r->id, s, &env, &len) != 0 ||
		    proto_envelope_decode(&e, env, len) != 0)
			continue;
		/* Even an invalid change names what its author had seen. */
		if (store_read_entry(d->keyring, &e, &c, &pt, &why) ==
		    STORE_ENOMEM)
			rc = STORE_ENOMEM;
		for (size_t i = 0; c != NULL && rc == 0 && i < c->nops; i++)
			for (size_t j = 0; rc == 0 && j < c->ops[i].npreds; j++)
				rc = vec_raise(&r->known,
				    c->ops[i].preds[j].author,
				    c->ops[i].preds[j].seq, NULL);
		free(c);
		free(pt);
		if (rc != 0)
			return STORE_ENOMEM;
	}
	return 0;
}

/* The vector the device is known to have held, and whether a session of
 * its left no receipt. */
static int
known_vector(const struct device *d, struct store_txn *t, struct report *r)
{
	struct report_walk w = { d, t, r, 0 };
	uint8_t hash[PROTO_HASHLEN];
	struct envelope e;
	const uint8_t *env;
	size_t len;
	int rc;

	if ((rc = store_receipts_each(t, NULL, receipt_cb, &w)) != 0 ||
	    (rc = w.rc) != 0)
		return rc < 0 ? rc : STORE_ENOMEM;
	r->receipted_own = vec_seq(&r->known, r->id);
	if ((rc = store_head_get(t, r->id, &r->own_head, hash)) != 0)
		return rc;
	if (r->own_head > 0 &&
	    vec_raise(&r->known, r->id, r->own_head, hash) != 0)
		return STORE_ENOMEM;
	if ((rc = own_entries(d, t, r)) != 0)
		return rc;
	/* Its entries past receipted_own reached the team in a session that
	 * left no receipt, after it wrote them: it may have taken anything
	 * written before its last trace. Its receipts and member records
	 * past it do not count: moving them calls for no receipt (see
	 * receipt.c), so they often travel ahead of the next one. */
	for (uint64_t s = r->own_head; s > r->receipted_own; s--) {
		if (!receipt_may_hold_data(d, t, r->id, s))
			continue;
		r->incomplete = 1;
		r->trace_ms = r->last_sync;
		if (store_log_get(t, r->id, s, &env, &len) == 0 &&
		    proto_envelope_decode(&e, env, len) == 0 &&
		    proto_hlc_ms(e.hlc) > r->trace_ms)
			r->trace_ms = proto_hlc_ms(e.hlc);
		break;
	}
	return 0;
}

static int
student_add(struct report *r, const uint8_t *id, int certain)
{
	size_t lo = 0, hi = r->nstudents;
	void *p;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(r->students[mid].id, id, PROTO_RECIDLEN);

		if (c == 0) {
			r->students[mid].certain |= certain;
			r->students[mid].entries += certain;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	p = realloc(r->students, (r->nstudents + 1) * sizeof(*r->students));
	if (p == NULL)
		return -1;
	r->students = p;
	memmove(&r->students[lo + 1], &r->students[lo],
	    (r->nstudents - lo) * sizeof(*r->students));
	r->nstudents++;
	memcpy(r->students[lo].id, id, PROTO_RECIDLEN);
	r->students[lo].certain = certain;
	r->students[lo].entries = (uint64_t)certain;
	return 0;
}

static int
student_hex(struct report *r, const char *hex, size_t hlen, int certain)
{
	uint8_t id[PROTO_RECIDLEN];
	size_t len;

	if (sodium_hex2bin(id, sizeof(id), hex, hlen, NULL, &len, NULL) != 0 ||
	    len != PROTO_RECIDLEN)
		return 0;	/* the schema let no such value through */
	return student_add(r, id, certain);
}

/* A note, entry or goal edited without naming its student: the students
 * its record has been given (every head, should two disagree). */
static int
record_students(struct store_txn *t, struct report *r, const struct change *c,
    int certain)
{
	const struct rec_register *reg;
	struct record *rec;
	int rc = 0;

	if (store_record_get(t, c->kind, c->record_id, &rec) != 0)
		return 1;	/* not here: the caller says so */
	reg = record_register(rec, "student");
	for (size_t i = 0; reg != NULL && rc == 0 && i < reg->nheads; i++)
		rc = student_hex(r, reg->heads[i].value,
		    reg->heads[i].value_len, certain);
	record_free(rec);
	return rc;
}

/* The students a change is about; 1 if that cannot be told here. */
static int
change_students(struct store_txn *t, struct report *r, const struct change *c,
    int certain)
{
	int named = 0, rc = 0;

	if (c->kind == KIND_STUDENT)
		return student_add(r, c->record_id, certain);
	if (c->kind != KIND_NOTE && c->kind != KIND_ENTRY &&
	    c->kind != KIND_GOAL && c->kind != KIND_GROUP)
		return 0;	/* no student's data */
	for (size_t i = 0; rc == 0 && i < c->nops; i++) {
		const struct op *op = &c->ops[i];
		int is_student = op->type == OP_SET && op->field_len == 7 &&
		    memcmp(op->field, "student", 7) == 0;
		int is_member = (op->type == OP_ADD || op->type == OP_REMOVE) &&
		    c->kind == KIND_GROUP;

		if ((is_student || is_member) && op->value != NULL) {
			named = 1;
			rc = student_hex(r, (const char *)op->value,
			    op->value_len, certain);
		}
	}
	if (rc != 0 || named || c->kind == KIND_GROUP)
		return rc;
	return record_students(t, r, c, certain);
}

/* Maps entry author:seq to its students, or to an uncertain entry. */
static int
entry_students(const struct device *d, struct store_txn *t, struct report *r,
    const uint8_t *author, uint64_t seq, int certain, uint64_t until_ms)
{
	const struct store_key *k;
	struct change *c = NULL;
	struct envelope e;
	const uint8_t *env;
	uint8_t *pt = NULL;
	const char *why;
	size_t len;
	int rc;

	if (store_log_get(t, author, seq, &env, &len) != 0 ||
	    proto_envelope_decode(&e, env, len) != 0)
		return gap_add(r, author, seq, seq, "not held on this device");
	if (!certain && proto_hlc_ms(e.hlc) > until_ms)
		return 0;	/* written after its last trace */
	k = store_keyring_find(d->keyring, e.key_id);
	if (k != NULL && (k->use == KEY_NETWORK || k->use == KEY_RECEIPT ||
	    k->use == KEY_ERASE))
		return 0;	/* membership and receipts: no student's data */
	if (k == NULL)
		return gap_add(r, author, seq, seq, certain ? "sealed under "
		    "a key this device lacks (a private note, or another "
		    "epoch's key)" : "possibly held, sealed under a key this "
		    "device lacks");
	rc = store_read_entry(d->keyring, &e, &c, &pt, &why);
	/* An invalid change is a no-op everywhere, but its text was still
	 * there for the device to read: count it if it names a student. */
	if (c != NULL && (rc == 0 || rc == STORE_EINVALID))
		rc = change_students(t, r, c, certain);
	else
		rc = 1;
	if (rc == 1)
		rc = gap_add(r, author, seq, seq, certain ? "a record this "
		    "device cannot place (a newer format, or not held here)" :
		    "possibly held, a record this device cannot place");
	free(c);
	free(pt);
	return rc == 0 ? 0 : STORE_ENOMEM;
}

static int
head_cb(const uint8_t *author, uint64_t seq, const uint8_t *hash, void *arg)
{
	(void)hash;
	return vec_raise(arg, author, seq, NULL) != 0;
}

/* Every entry known held; then, if a session left no receipt, every
 * entry written before its last trace that is not. */
static int
map_entries(const struct device *d, struct store_txn *t, struct report *r)
{
	struct vec held = { 0 };
	int rc = 0;

	if (store_heads_each(t, head_cb, &held) != 0) {
		vec_free(&held);
		return STORE_ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < r->known.n; i++) {
		const struct vec_item *it = &r->known.items[i];
		uint64_t have = vec_seq(&held, it->author);

		for (uint64_t s = 1; rc == 0 && s <= it->seq && s <= have; s++)
			rc = entry_students(d, t, r, it->author, s, 1, 0);
		if (rc == 0 && it->seq > have)
			rc = gap_add(r, it->author, have + 1, it->seq,
			    "not held on this device (sync with the box, then "
			    "run the report again)");
	}
	for (size_t i = 0; r->incomplete && rc == 0 && i < held.n; i++) {
		const struct vec_item *it = &held.items[i];

		for (uint64_t s = vec_seq(&r->known, it->author) + 1;
		    rc == 0 && s <= it->seq; s++)
			rc = entry_students(d, t, r, it->author, s, 0,
			    r->trace_ms);
	}
	vec_free(&held);
	return rc;
}

int
report_compute(const struct device *d, struct store_txn *t,
    const uint8_t *id, struct report *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	memcpy(r->id, id, PROTO_IDLEN);
	if ((rc = known_vector(d, t, r)) != 0 ||
	    (rc = map_entries(d, t, r)) != 0)
		report_free(r);
	return rc;
}

/* ---- printing ---- */

struct shown {
	const struct report_student *s;
	char	*name;			/* owned; NULL: record not held */
	char	*class;			/* owned, or NULL */
	int	 erased;
	uint64_t erased_ms;
};

/*
 * An erased student still counts in the report, as "an erased student"
 * with the date of the erasure: the family is owed the letter all the
 * same. The store keeps that mark after the record's text is gone
 * (store/erase.c). Not done yet: erasure drops the ciphertexts of the
 * student's entries too, and entry_students then counts them as
 * uncertain entries; it should map such an entry to its student by the
 * drop lists (which entries an erasure covered).
 */
static int
student_erased(struct store_txn *t, const uint8_t *id, uint64_t *erased_ms)
{
	*erased_ms = 0;
	return store_erased_get(t, id, erased_ms) == 0;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static int
shown_cmp(const void *a, const void *b)
{
	const struct shown *x = a, *y = b;
	int c;

	if (x->s->certain != y->s->certain)
		return y->s->certain - x->s->certain;	/* certain first */
	if ((c = strcmp(x->class ? x->class : "", y->class ? y->class :
	    "")) != 0)
		return c;
	if ((c = strcmp(x->name ? x->name : "", y->name ? y->name : "")) != 0)
		return c;
	return memcmp(x->s->id, y->s->id, PROTO_RECIDLEN);
}

static struct shown *
shown_load(struct store_txn *t, const struct report *r)
{
	struct shown *v = calloc(r->nstudents ? r->nstudents : 1, sizeof(*v));

	for (size_t i = 0; v != NULL && i < r->nstudents; i++) {
		struct record *rec = NULL;

		v[i].s = &r->students[i];
		v[i].erased = student_erased(t, r->students[i].id,
		    &v[i].erased_ms);
		if (!v[i].erased && store_record_get(t, KIND_STUDENT,
		    r->students[i].id, &rec) == 0) {
			v[i].name = dup_or_null(record_get(rec, "name"));
			v[i].class = dup_or_null(record_get(rec, "class"));
		}
		record_free(rec);
	}
	if (v != NULL)
		qsort(v, r->nstudents, sizeof(*v), shown_cmp);
	return v;
}

static void
shown_free(struct shown *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		free(v[i].name);
		free(v[i].class);
	}
	free(v);
}

static void
utc_time(char out[32], uint64_t ms, int with_time)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL)
		snprintf(out, 32, "?");
	else
		strftime(out, 32, with_time ? "%Y-%m-%dT%H:%M:%SZ" :
		    "%Y-%m-%d %H:%M UTC", &tm);
}

static void
json_student(const struct shown *v, int first)
{
	char hex[2 * PROTO_RECIDLEN + 1], when[32];

	hex_id(hex, v->s->id);
	printf("%s{\"id\":\"%s\",\"name\":", first ? "" : ",", hex);
	if (v->name != NULL)
		json_str(v->name);
	else
		fputs(v->erased ? "\"an erased student\"" : "null", stdout);
	fputs(",\"class\":", stdout);
	if (v->class != NULL)
		json_str(v->class);
	else
		fputs("null", stdout);
	printf(",\"certain\":%s,\"entries\":%llu,\"erased\":%s",
	    v->s->certain ? "true" : "false",
	    (unsigned long long)v->s->entries, v->erased ? "true" : "false");
	if (v->erased && v->erased_ms > 0) {
		utc_time(when, v->erased_ms, 1);
		printf(",\"erased_on\":\"%s\"", when);
	}
	putchar('}');
}

static void
json_gap(const struct report_gap *g, int first)
{
	char checked[PROTO_DEVID_LEN + 1];

	devid_format(g->author, checked);
	printf("%s{\"author\":\"%s\",\"from\":%llu,\"to\":%llu,\"why\":",
	    first ? "" : ",", checked, (unsigned long long)g->from,
	    (unsigned long long)g->to);
	json_str(g->why);
	putchar('}');
}

static void
print_json(const struct device *d, struct store_txn *t, const struct report *r,
    const struct shown *v)
{
	char checked[PROTO_DEVID_LEN + 1], hex[2 * PROTO_IDLEN + 1], when[32];
	char name[NAME_MAX_LEN + 1];

	devid_format(r->id, checked);
	sodium_bin2hex(hex, sizeof(hex), r->id, PROTO_IDLEN);
	printf("{\"device\":\"%s\",\"hex\":\"%s\",\"name\":", checked, hex);
	if (member_name(d, t, r->id, name, sizeof(name)) != NULL)
		json_str(name);
	else
		fputs("null", stdout);
	if (r->last_sync > 0) {
		utc_time(when, r->last_sync, 1);
		devid_format(r->last_by, checked);
		printf(",\"last_sync\":\"%s\",\"last_sync_ms\":%llu,"
		    "\"last_sync_by\":\"%s\"", when,
		    (unsigned long long)r->last_sync, checked);
	} else
		fputs(",\"last_sync\":null,\"last_sync_ms\":null,"
		    "\"last_sync_by\":null", stdout);
	printf(",\"receipts\":%zu,\"complete\":%s,\"students\":[",
	    r->nreceipts, r->incomplete ? "false" : "true");
	for (size_t i = 0; i < r->nstudents; i++)
		json_student(&v[i], i == 0);
	fputs("],\"uncertain\":[", stdout);
	for (size_t i = 0; i < r->ngaps; i++)
		json_gap(&r->gaps[i], i == 0);
	fputs("]}\n", stdout);
}

static void
text_student(const struct shown *v)
{
	char hex[2 * PROTO_RECIDLEN + 1], when[32];
	const char *cls = v->class != NULL ? v->class : "";

	hex_id(hex, v->s->id);
	printf("  %s%*s  ", cls, text_pad(cls, 6), "");
	if (v->erased) {
		utc_time(when, v->erased_ms, 0);
		printf("an erased student (erased %s)\n", v->erased_ms > 0 ?
		    when : "on a date not known here");
	} else if (v->name != NULL)
		printf("%s\n", v->name);
	else
		printf("a student whose record this device does not hold "
		    "(id %.12s)\n", hex);
}

static void
print_text(const struct device *d, struct store_txn *t,
    const struct report *r, const struct shown *v)
{
	char checked[PROTO_DEVID_LEN + 1], when[32], name[NAME_MAX_LEN + 1];
	size_t certain = 0;

	devid_format(r->id, checked);
	printf("Exposure report for %s (%s)\n", member_name(d, t, r->id, name,
	    sizeof(name)) ? name : "a device this team has no name for",
	    checked);
	if (r->last_sync > 0) {
		utc_time(when, r->last_sync, 0);
		printf("Last sync: %s (the receipt of %s; %zu receipt%s in "
		    "all).\n", when, member_name(d, t, r->last_by, name,
		    sizeof(name)) ? name : "a device this team has no name for",
		    r->nreceipts, r->nreceipts == 1 ? "" : "s");
	} else
		printf("Last sync: not known: no receipt of a sync with it has "
		    "reached this device (sync with the box first).\n");
	for (size_t i = 0; i < r->nstudents; i++)
		certain += r->students[i].certain;
	printf("It held the records of %zu student%s, as of the last entries "
	    "it is known to have received:\n", certain, certain == 1 ?
	    "" : "s");
	for (size_t i = 0; i < certain; i++)
		text_student(&v[i]);
	if (certain < r->nstudents) {
		utc_time(when, r->trace_ms, 0);
		printf("It may also have held the records of %zu more: its "
		    "own notes reached the team\nfurther than any receipt "
		    "says (a sync with a device of the previous release,\nor "
		    "a bundle), so what was written up to %s may have reached "
		    "it:\n", r->nstudents - certain, when);
		for (size_t i = certain; i < r->nstudents; i++)
			text_student(&v[i]);
	}
	if (r->ngaps > 0)
		printf("Uncertain entries (their students are not known "
		    "here):\n");
	for (size_t i = 0; i < r->ngaps; i++) {
		devid_format(r->gaps[i].author, checked);
		printf("  %.15s:%llu-%llu  %s\n", checked,
		    (unsigned long long)r->gaps[i].from,
		    (unsigned long long)r->gaps[i].to, r->gaps[i].why);
	}
}

int
report_print(struct device *d, struct store_txn *t, const uint8_t *id)
{
	struct report r;
	struct shown *v;
	int rc;

	if ((rc = report_compute(d, t, id, &r)) != 0)
		return rc;
	if ((v = shown_load(t, &r)) == NULL) {
		report_free(&r);
		return STORE_ENOMEM;
	}
	if (d->json)
		print_json(d, t, &r, v);
	else
		print_text(d, t, &r, v);
	shown_free(v, r.nstudents);
	report_free(&r);
	return 0;
}

int
report_lost(struct device *d, const uint8_t *id)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		return device_store_error(rc, "member report");
	rc = report_print(d, t, id);
	store_abort(t);
	return rc == 0 ? 0 : device_store_error(rc, "member report");
}

int
cmd_member_report(struct device *d, struct args *a)
{
	uint8_t id[PROTO_IDLEN];
	int rc;

	if ((rc = devid_arg("member report", a->pos[0], DEVID_ANY, id)) != 0)
		return rc;
	return report_lost(d, id);
}
