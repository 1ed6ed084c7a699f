/*
 * history, conflicts and verify: what happened to a record, which
 * concurrent edits lost, and whether the log still proves the records.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"

static void
format_hlc(char out[32], uint64_t hlc)
{
	time_t secs = (time_t)(proto_hlc_ms(hlc) / 1000);
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

/* A device as people know it: its id's first digits and its name, from
 * the team's membership records. */
static void
author_label(const struct device *d, struct store_txn *t,
    const uint8_t *author, char out[256])
{
	char hex[2 * PROTO_IDLEN + 1], name[NAME_MAX_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), author, PROTO_IDLEN);
	if (member_name(d, t, author, name, sizeof(name)) != NULL)
		snprintf(out, 256, "%.12s (%.200s)", hex, name);
	else
		snprintf(out, 256, "%.12s", hex);
}

/* "won", "lost" or "" for a set op, by the register's current heads. */
static const char *
conflict_mark(const struct record *r, const struct op *op,
    const struct write_ref *ref)
{
	char name[PROTO_MAX_FIELD + 1];
	const struct rec_register *reg;

	if (op->type != OP_SET)
		return "";
	snprintf(name, sizeof(name), "%.*s", (int)op->field_len, op->field);
	if ((reg = record_register(r, name)) == NULL || reg->nheads < 2)
		return "";
	for (size_t i = 0; i < reg->nheads; i++)
		if (write_ref_cmp(&reg->heads[i].ref, ref) == 0)
			return i == 0 ? "won" : "lost";
	return "";
}

static const char *const op_names[] = { "?", "set", "add", "remove",
    "delete", "undelete" };

struct hist_walk {
	struct device	*d;
	struct store_txn *t;
	const struct record *r;
	int		 count;
};

/* When this device received a write stamped more than CLOCK_WARN_MS
 * after that moment (see clock_note_received): one of the two clocks was
 * wrong, most likely the writer's. */
struct hist_clock {
	uint64_t	 received_ms;	/* 0: not kept (on time) */
	const char	*kind;		/* "ahead" or "" */
	char		 text[128];
};

static void
hist_clock(struct hist_walk *w, const struct envelope *e,
    struct hist_clock *hc)
{
	char span[32];
	int64_t d;

	memset(hc, 0, sizeof(*hc));
	hc->kind = "";
	if (store_received_get(w->t, e->author, e->seq, &hc->received_ms) != 0)
		return;
	d = (int64_t)proto_hlc_ms(e->hlc) - (int64_t)hc->received_ms;
	if (d <= CLOCK_WARN_MS)
		return;
	clock_span(span, sizeof(span), d);
	hc->kind = "ahead";
	snprintf(hc->text, sizeof(hc->text), "stamped %s after it arrived "
	    "here: the writer's clock was ahead, or this device's behind",
	    span);
}

static void
print_op(struct hist_walk *w, const struct envelope *e, const struct op *op,
    const struct write_ref *ref, const char *when, const char *who,
    const struct hist_clock *hc)
{
	const char *mark = conflict_mark(w->r, op, ref);

	if (w->d->json) {
		printf("%s{\"time\":\"%s\",\"stamp_ms\":%llu,\"received_ms\":"
		    "%llu,\"clock\":\"%s\",\"author\":", w->count++ ? ",\n" :
		    "", when, (unsigned long long)proto_hlc_ms(e->hlc),
		    (unsigned long long)hc->received_ms, hc->kind);
		json_str(who);
		printf(",\"seq\":%llu,\"op\":\"%s\",\"field\":\"%.*s\","
		    "\"value\":", (unsigned long long)e->seq,
		    op_names[op->type], (int)op->field_len, op->field);
		if (op->value != NULL)
			json_strn((const char *)op->value, op->value_len);
		else
			fputs("null", stdout);
		printf(",\"conflict\":\"%s\"}", mark);
		return;
	}
	printf("%s  %s  #%llu  %s", when, who, (unsigned long long)e->seq,
	    op_names[op->type]);
	if (op->field_len > 0)
		printf(" %.*s", (int)op->field_len, op->field);
	if (op->value != NULL)
		printf(" = \"%.*s\"", (int)(op->value_len > 60 ? 60 :
		    op->value_len), (const char *)op->value);
	if (*mark)
		printf("   [conflict: %s]", mark);
	if (*hc->kind)
		printf("   [clock: %s]", hc->text);
	putchar('\n');
}

/* The "author" field a note or entry carries is text its writer chose,
 * kept for older releases; who wrote an entry is its signed author, which
 * every line shows, so the field is not shown. */
static int
author_text(const struct op *op)
{
	return op->field_len == 6 && memcmp(op->field, "author", 6) == 0;
}

static int
history_cb(const uint8_t *env, size_t len, void *arg)
{
	struct hist_walk *w = arg;
	struct envelope e;
	struct change *c = NULL;
	struct write_ref ref;
	char when[32], who[256];
	struct hist_clock hc;
	uint8_t *pt = NULL;

	if (proto_envelope_decode(&e, env, len) != 0 ||
	    store_open_entry(w->d->keyring, &e, &c, &pt) != 0 || c == NULL)
		goto out;	/* not ours to read: a private note, say */
	format_hlc(when, e.hlc);
	author_label(w->d, w->t, e.author, who);
	hist_clock(w, &e, &hc);
	memcpy(ref.author, e.author, PROTO_IDLEN);
	ref.seq = e.seq;
	for (size_t i = 0; i < c->nops; i++)
		if (!author_text(&c->ops[i]))
			print_op(w, &e, &c->ops[i], &ref, when, who, &hc);
out:
	free(pt);
	free(c);
	return 0;
}

/* A student's history goes on with that of every record merged into it
 * (student merge): history keeps both. */
static int
history_merged(struct hist_walk *w, const struct record *r)
{
	uint8_t (*family)[PROTO_RECIDLEN] = NULL;
	char hex[2 * PROTO_RECIDLEN + 1];
	struct student_list sl;
	struct record *m;
	size_t n = 0;
	int rc;

	if ((rc = student_list_load(w->t, &sl)) == 0)
		rc = student_family(&sl, r->id, &family, &n);
	student_list_free(&sl);
	for (size_t i = 1; rc == 0 && i < n; i++) {
		if ((rc = store_record_get(w->t, KIND_STUDENT, family[i],
		    &m)) != 0)
			break;
		hex_id(hex, m->id);
		if (!w->d->json)
			printf("\nmerged into it: %s (%s)\n", hex,
			    model_title(m));
		w->r = m;
		rc = store_history_each(w->t, m->id, history_cb, w);
		w->r = r;
		record_free(m);
	}
	free(family);
	return rc;
}

int
cmd_history(struct device *d, struct args *a)
{
	struct hist_walk w = { d, NULL, NULL, 0 };
	struct store_txn *t;
	struct record *r;
	int rc;

	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		return device_store_error(rc, "cannot read");
	if ((rc = resolve_record(t, a->pos[0], 0, &r)) != 0) {
		store_abort(t);
		return rc;
	}
	w.r = r;
	w.t = t;
	if (d->json)
		fputs("[", stdout);
	rc = store_history_each(t, r->id, history_cb, &w);
	if (rc == 0 && r->kind == KIND_STUDENT)
		rc = history_merged(&w, r);
	if (d->json)
		fputs("]\n", stdout);
	record_free(r);
	store_abort(t);
	return rc == 0 ? 0 : device_store_error(rc, "history");
}

struct conflict_walk {
	struct device	*d;
	struct store_txn *t;
	int		 count;
};

/* What a head says, in a teacher's words: a tombstone reads as deleted
 * or not, never as the store's own field. */
static const char *
head_text(const struct rec_register *reg, const struct rec_write *h)
{
	if (strcmp(reg->name, RECORD_DELETED_FIELD) == 0)
		return h->value_len > 0 ? "deleted" : "not deleted";
	return h->value;
}

/* The command that puts a losing value back, one a teacher may run:
 * delete or undelete for a tombstone, member add for a member. */
static void
settle_command(struct conflict_walk *w, char *out, size_t len,
    const struct record *r, const struct rec_register *reg,
    const struct rec_write *h)
{
	char hex[2 * PROTO_RECIDLEN + 1], ahex[2 * PROTO_IDLEN + 1];
	char sid[2 * PROTO_RECIDLEN + 1];
	const char *dev = record_get(r, "device");
	size_t n = 2 * PROTO_RECIDLEN;

	hex_id(hex, r->id);
	/* As much of the id as names the record alone (a note's id starts
	 * with its time): store_record_prefix. */
	if (store_record_prefix(w->t, r->id, 8, &n) != 0)
		n = 2 * PROTO_RECIDLEN;
	snprintf(sid, sizeof(sid), "%.*s", (int)n, hex);
	sodium_bin2hex(ahex, sizeof(ahex), h->ref.author, PROTO_IDLEN);
	if (strcmp(reg->name, RECORD_DELETED_FIELD) == 0)
		snprintf(out, len, "satchel %s %s", h->value_len > 0 ?
		    "delete" : "undelete", sid);
	else if (r->kind == KIND_MEMBER)
		snprintf(out, len, "satchel member add %s --name '%s'",
		    dev ? dev : hex, record_get(r, "name") ?
		    record_get(r, "name") : "NAME");
	else
		snprintf(out, len, "satchel restore %s %s %.12s:%llu", sid,
		    reg->name, ahex, (unsigned long long)h->ref.seq);
}

static void
print_conflict(struct conflict_walk *w, const struct record *r,
    const struct rec_register *reg)
{
	char hex[2 * PROTO_RECIDLEN + 1], who[256], ahex[2 * PROTO_IDLEN + 1];
	char settle[512];
	const struct kind_def *k = model_kind(r->kind);
	const char *field = strcmp(reg->name, RECORD_DELETED_FIELD) == 0 ?
	    "deleted" : reg->name;

	hex_id(hex, r->id);
	if (!w->d->json)
		printf("%s %s \"%.40s\" %s\n", k ? k->name : "?", hex,
		    model_title(r), reg->name[0] == '_' ?
		    "deleted on one device, kept on another" : field);
	for (size_t i = 0; i < reg->nheads; i++) {
		const struct rec_write *h = &reg->heads[i];

		sodium_bin2hex(ahex, sizeof(ahex), h->ref.author, PROTO_IDLEN);
		author_label(w->d, w->t, h->ref.author, who);
		settle_command(w, settle, sizeof(settle), r, reg, h);
		if (w->d->json) {
			printf("%s{\"kind\":\"%s\",\"id\":\"%s\",\"field\":"
			    "\"%s\",\"status\":\"%s\",\"author\":\"%s\","
			    "\"seq\":%llu,\"value\":", w->count++ ? ",\n" : "",
			    k ? k->name : "?", hex, field,
			    i == 0 ? "kept" : "lost", ahex,
			    (unsigned long long)h->ref.seq);
			json_str(head_text(reg, h));
			fputs(",\"settle\":", stdout);
			json_str(settle);
			putchar('}');
			continue;
		}
		printf("  %s: \"%.60s\" by %s #%llu\n", i == 0 ? "kept" : "lost",
		    head_text(reg, h), who, (unsigned long long)h->ref.seq);
		if (i > 0)
			printf("        to put it back: %s\n", settle);
	}
}

static int
conflicts_cb(const struct record *r, void *arg)
{
	struct conflict_walk *w = arg;

	for (size_t i = 0; i < r->nregs; i++)
		if (r->regs[i].nheads > 1) {
			print_conflict(w, r, &r->regs[i]);
			if (!w->d->json)
				w->count++;
		}
	return 0;
}

int
cmd_conflicts(struct device *d, struct args *a)
{
	struct conflict_walk w = { d, NULL, 0 };
	struct store_txn *t;
	int rc;

	(void)a;
	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		return device_store_error(rc, "cannot read");
	w.t = t;
	if (d->json)
		fputs("[", stdout);
	rc = store_records_each(t, 0, conflicts_cb, &w);
	if (d->json)
		fputs("]\n", stdout);
	else if (rc == 0 && w.count == 0)
		printf("no conflicts\n");
	store_abort(t);
	return rc == 0 ? 0 : device_store_error(rc, "conflicts");
}

struct replay {
	struct store_txn *t;
	const struct store_keyring *kr;
	int		 rc;
};

static int
replay_cb(const uint8_t *env, size_t len, void *arg)
{
	struct replay *r = arg;

	r->rc = store_apply_entry(r->t, r->kr, env, len, 1);
	if (r->rc == STORE_EDUP)
		r->rc = 0;	/* a frozen author's entry, kept aside */
	return r->rc != 0;
}

struct fork_copy {
	struct store_txn *src, *dst;
	int		 rc;
};

static int
fork_copy_cb(const uint8_t *author, uint64_t fseq, void *arg)
{
	struct fork_copy *f = arg;
	const uint8_t *env[2];
	size_t len[2];

	(void)fseq;
	if ((f->rc = store_fork_evidence(f->src, author, env, len)) == 0)
		f->rc = store_fork_record(f->dst, env[0], len[0], env[1],
		    len[1]);
	return f->rc != 0;
}

/* The replay freezes the authors src holds frozen, from their evidence,
 * before any entry: then their entries past the fork are kept aside. */
static int
replay_forks(struct store_txn *src, struct store_txn *dst)
{
	struct fork_copy f = { src, dst, 0 };
	int rc = store_forks_each(src, fork_copy_cb, &f);

	return rc != 0 ? rc : f.rc;
}

/* Applies every entry of src's log to a new store in tmpdir. */
static int
replay_digest(struct device *d, struct store_txn *src, const char *tmpdir,
    uint8_t digest[PROTO_HASHLEN])
{
	struct store *st;
	struct replay r = { NULL, d->keyring, 0 };
	int rc;

	if ((rc = store_open(&st, tmpdir, STORE_CREATE)) != 0)
		return rc;
	if ((rc = store_share_key(st, d->st)) != 0 ||
	    (rc = store_begin(st, 0, &r.t)) != 0)
		goto out;
	if ((rc = replay_forks(src, r.t)) == 0)
		rc = store_log_each(src, replay_cb, &r);
	if (rc == 0)
		rc = r.rc;
	if (rc == 0)
		rc = store_digest_scan(r.t, digest);
	store_abort(r.t);
out:
	store_close(st);
	return rc;
}

static void
remove_tmp(const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char path[4400];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Checks every chain and signature, then that replaying the log from
 * nothing gives the records this store holds. */
/* Held, chained and signed, but not applied: listed so that nothing a
 * device keeps is hidden. */
static int
unapplied_print_cb(const uint8_t *author, uint64_t seq, int kind,
    const char *why, void *arg)
{
	char hex[2 * PROTO_IDLEN + 1];

	(void)arg;
	sodium_bin2hex(hex, sizeof(hex), author, PROTO_IDLEN);
	printf("%s: entry %.12s:%llu is held but not applied: %s\n",
	    kind == UNAPPLIED_NEWER ? "waiting" : "refused", hex,
	    (unsigned long long)seq, why);
	return 0;
}

int
cmd_verify(struct device *d, struct args *a)
{
	uint8_t held[PROTO_HASHLEN], replayed[PROTO_HASHLEN];
	uint8_t kept[PROTO_HASHLEN];
	char tmpdir[4200];
	char hex[2 * PROTO_HASHLEN + 1];
	struct store_txn *t;
	uint64_t n = 0, erased = 0;
	char stubs[40] = "";
	int rc;

	(void)a;
	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		return device_store_error(rc, "cannot read");
	if ((rc = store_verify_log(t, &n)) != 0) {
		store_abort(t);
		return fail("verify: the log is damaged: %s",
		    store_strerror(rc));
	}
	/* The replay goes beside the store: the same disk, whose room the
	 * store already needs, and never a small /tmp. */
	snprintf(tmpdir, sizeof(tmpdir), "%s/verify-XXXXXX", d->dir);
	if ((rc = store_digest_scan(t, held)) != 0 ||
	    (rc = store_digest(t, kept)) != 0) {
		store_abort(t);
		return fail("verify: cannot read the records: %s",
		    device_strerror(rc));
	}
	if (mkdtemp(tmpdir) == NULL) {
		store_abort(t);
		return fail("verify: cannot make a scratch directory in %s: %s",
		    d->dir, errno == ENOSPC ? "the disk is full" :
		    strerror(errno));
	}
	/* The digest kept as records change must be the one they give. */
	if (memcmp(held, kept, sizeof(held)) != 0) {
		store_abort(t);
		remove_tmp(tmpdir);
		return fail("verify: the kept digest differs from the "
		    "records' own");
	}
	rc = replay_digest(d, t, tmpdir, replayed);
	store_abort(t);
	remove_tmp(tmpdir);
	if (rc != 0)
		return fail("verify: replaying the log failed: %s",
		    device_strerror(rc));
	if (memcmp(held, replayed, sizeof(held)) != 0)
		return fail("verify: the records differ from the log's replay");
	if (store_begin(d->st, STORE_RDONLY, &t) == 0) {
		rc = store_unapplied_each(t, unapplied_print_cb, NULL);
		if (store_erased_count(t, &erased) != 0)
			erased = 0;
		store_abort(t);
	}
	sodium_bin2hex(hex, sizeof(hex), held, sizeof(held));
	/* Erased entries (stubs) are verified like any: say how many. */
	if (erased > 0)
		snprintf(stubs, sizeof(stubs), " (%llu erased)",
		    (unsigned long long)erased);
	printf("ok: %llu %s%s, every chain and signature verified, "
	    "records match the replayed log (digest %s)\n",
	    (unsigned long long)n, plural(n, "entry", "entries"), stubs, hex);
	return 0;
}
