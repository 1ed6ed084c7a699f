/*
 * The page's other reads: a record's history, the team's members (the
 * rotation view of the groups is rotation.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "http.h"
#include "qr.h"
#include "wire.h"

static const char *const op_names[] = { "?", "set", "add", "remove",
    "delete", "undelete" };

struct hist_walk {
	struct device	*d;
	struct store_txn *t;
	json_t		*out;
};

/* One line per op, oldest first; the "author" text a note carries is
 * left out: who wrote is the entry's signed author, which "by" names. */
static int
history_cb(const uint8_t *env, size_t len, void *arg)
{
	struct hist_walk *w = arg;
	struct envelope e;
	struct change *c = NULL;
	uint8_t *pt = NULL;
	char name[NAME_MAX_LEN + 1], hex[2 * PROTO_IDLEN + 1], f[40];

	if (proto_envelope_decode(&e, env, len) != 0 ||
	    store_open_entry(w->d->keyring, &e, &c, &pt) != 0 || c == NULL)
		goto out;	/* not ours to read */
	sodium_bin2hex(hex, sizeof(hex), e.author, PROTO_IDLEN);
	if (member_name(w->d, w->t, e.author, name, sizeof(name)) == NULL)
		snprintf(name, sizeof(name), "%.12s", hex);
	for (size_t i = 0; i < c->nops; i++) {
		const struct op *op = &c->ops[i];
		json_t *val = json_null();

		snprintf(f, sizeof(f), "%.*s", (int)op->field_len, op->field);
		if (strcmp(f, "author") == 0 || op->type > OP_UNDELETE)
			continue;
		if (op->value != NULL) {
			char *v = strndup((const char *)op->value,
			    op->value_len);

			val = jstr(v);
			free(v);
		}
		json_array_append_new(w->out, json_pack("{s:I,s:o,s:s,s:I,s:s,"
		    "s:s,s:o}", "stamp_ms", (json_int_t)proto_hlc_ms(e.hlc),
		    "by", jstr(name), "device", hex, "seq", (json_int_t)e.seq,
		    "op", op_names[op->type], "field", f, "value", val));
	}
out:
	free(pt);
	free(c);
	return 0;
}

void
api_history(struct device *d, const char *id, struct http_reply *rep)
{
	struct hist_walk w = { d, NULL, json_array() };
	struct ops_err e, *was;
	struct record *r;
	int rc;

	if ((rc = store_begin(d->st, STORE_RDONLY, &w.t)) != 0) {
		json_decref(w.out);
		reply_error(rep, 500, "cannot read: %s", device_strerror(rc));
		return;
	}
	was = err_capture(&e);
	rc = resolve_record(w.t, id, 0, &r);
	err_capture(was);
	if (rc != 0) {
		store_abort(w.t);
		json_decref(w.out);
		reply_error(rep, (unsigned)e.status, "%s", e.msg);
		return;
	}
	rc = store_history_each(w.t, r->id, history_cb, &w);
	record_free(r);
	store_abort(w.t);
	if (rc != 0) {
		json_decref(w.out);
		reply_error(rep, 500, "cannot read: %s", device_strerror(rc));
		return;
	}
	reply_json(rep, 200, json_pack("{s:o}", "history", w.out));
}

/* --- members ------------------------------------------------------------ */

struct member_walk {
	struct device	*d;
	struct store_txn *t;
	json_t		*out;
};

static int
member_cb(const struct record *r, void *arg)
{
	struct member_walk *w = arg;
	const char *dev = record_get(r, "device");
	uint8_t id[PROTO_IDLEN];
	char role[16] = "", checked[PROTO_DEVID_LEN + 1];
	size_t n;

	if (dev == NULL || sodium_hex2bin(id, sizeof(id), dev, strlen(dev),
	    NULL, &n, NULL) != 0 || n != sizeof(id) ||
	    !team_is_member(w->d, w->t, id, role))
		return 0;
	devid_format(id, checked);
	json_array_append_new(w->out, json_pack("{s:s,s:o,s:s,s:b,s:b}", "id",
	    checked, "name", jstr(record_get(r, "name")), "role", role,
	    "joined", member_joined(w->d, w->t, id), "this_device",
	    memcmp(id, w->d->id, PROTO_IDLEN) == 0));
	return 0;
}

void
api_members(struct device *d, struct http_reply *rep)
{
	struct member_walk w = { d, NULL, json_array() };
	int rc;

	if ((rc = store_begin(d->st, STORE_RDONLY, &w.t)) != 0) {
		json_decref(w.out);
		reply_error(rep, 500, "cannot read: %s", device_strerror(rc));
		return;
	}
	char role[16] = "";

	rc = store_records_each(w.t, KIND_MEMBER, member_cb, &w);
	/* This device's role in the membership (#6), which says whether the
	 * page offers the admin's forms; before joining, its own. */
	if (rc == 0 && !team_is_member(d, w.t, d->id, role))
		snprintf(role, sizeof(role), "%s", d->role);
	store_abort(w.t);
	if (rc != 0) {
		json_decref(w.out);
		reply_error(rep, 500, "cannot read: %s", device_strerror(rc));
		return;
	}
	reply_json(rep, 200, json_pack("{s:o,s:s}", "members", w.out, "role",
	    role));
}

static const struct body_field invite_spec[] = {
	{ "device", B_STR, 1 }, { "name", B_STR, 1 }, { "box", B_BOOL, 0 },
	{ "addr", B_STRS, 0 }, { NULL, 0, 0 }
};

/* POST members/invite: adds a colleague's device (as member add does,
 * with the same checks and the same authority) and answers its invite,
 * for the page to show with a copy button. */
void
api_invite(struct http_req *r, const char *buf, size_t len,
    struct http_reply *rep)
{
	struct ops_err e, *was;
	struct body b;
	char why[300], *invite = NULL;
	int rc;

	if (body_parse(&b, buf, len, invite_spec, why, sizeof(why)) != 0) {
		reply_error(rep, 400, "%s", why);
		return;
	}
	if (b.n[3] > INVITE_MAX_ADDRS) {
		reply_error(rep, 400, "addr: at most %d addresses",
		    INVITE_MAX_ADDRS);
		body_free(&b);
		return;
	}
	was = err_capture(&e);
	rc = member_add(http_device(r), b.str[0], b.str[1], (int)b.num[2],
	    0, b.item[3], b.n[3], &invite);
	err_capture(was);
	if (rc != 0)
		reply_error(rep, e.status ? (unsigned)e.status : 500, "%s",
		    e.msg);
	else {
		http_wrote(r);
		reply_json(rep, 201, json_pack("{s:s,s:o*}", "invite", invite,
		    "qr", qr_json(invite)));
	}
	free(invite);
	body_free(&b);
}
