/*
 * Receipts: after a sync, each device records what the other
 * acknowledged holding (proto.h says what a receipt holds), so that the
 * team can tell a lost laptop's exposure from the receipts of those it
 * synced with (report.c). The daemon writes them (serve.c); whoever
 * holds the network key, a box included, writes and reads them.
 *
 * When one is due, and why that keeps them few. A receipt about a peer
 * is written when what it acknowledged newly covers an entry that may
 * hold a student's data (one not sealed under the network or receipt
 * key): at the end of the session, and every RECEIPT_EVERY_MS while a
 * session stays open. Receipts and member records moving do not count,
 * or each side's receipt, reaching the other, would call for the next
 * one without end. A session that moved no such entry writes a receipt
 * only if the last one about that peer is over RECEIPT_REFRESH_MS old,
 * so the date of a device's last sync is known to the day. No receipt is
 * written about a box, which holds no key that opens a student's record.
 * So receipts grow with the syncs that carried notes (one per peer per
 * session, or per RECEIPT_EVERY_MS), never with idle reconnections, and
 * each writer's latest receipt about a device supersedes its earlier
 * ones in the index (store/receipt.c): one per (writer, device).
 *
 * "self" once a transaction. The receipts written together (a box's
 * tick, for every session that ended in it) would each carry the same
 * "self", the writer's whole vector (~3.5 KB with 50 devices, half of
 * each receipt, and every other device takes them all). Only the first
 * of them carries it: the report (report.c) takes, for the writer, the
 * highest "self" of its latest receipt about each device, and a vector
 * only grows, so the first receipt of the writer's latest transaction,
 * which no later one has superseded, says all that the others would
 * have (they differ only in the writer's own receipts, which it holds
 * as their writer). A receipt without "self" is a valid receipt of every
 * release (the field was never required); the previous one reads it as
 * an empty "self", which adds nothing, as it should. Receipts reach
 * others in the writer's order, so a device holding any of a
 * transaction's receipts holds its first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"

#define RECEIPT_REFRESH_MS	(UINT64_C(24) * 3600 * 1000)

void
receipt_key_of(const struct store_key *network, struct store_key *out)
{
	proto_receipt_key(network->key, out->key);
	proto_key_id(out->key, out->id);
	out->use = KEY_RECEIPT;
}

void
receipt_free(struct receipt *r)
{
	vec_free(&r->holds);
	vec_free(&r->self);
}

static int
vec_item_cb(const uint8_t *author, uint64_t seq, void *arg)
{
	return vec_raise(arg, author, seq, NULL) != 0;
}

static int
field_is(const struct op *op, const char *name)
{
	return op->type == OP_SET && op->field_len == strlen(name) &&
	    memcmp(op->field, name, op->field_len) == 0;
}

/* The fields of a valid receipt change into r. */
static int
receipt_fields(const struct change *c, struct receipt *r)
{
	size_t len;

	for (size_t i = 0; i < c->nops; i++) {
		const struct op *op = &c->ops[i];
		const char *v = (const char *)op->value;
		char num[16];

		if (field_is(op, "device") && (sodium_hex2bin(r->device,
		    PROTO_IDLEN, v, op->value_len, NULL, &len, NULL) != 0 ||
		    len != PROTO_IDLEN))
			return -1;
		if (field_is(op, "synced") && op->value_len < sizeof(num)) {
			memcpy(num, v, op->value_len);
			num[op->value_len] = '\0';
			r->synced = strtoull(num, NULL, 10);
		}
		if (field_is(op, "holds") && proto_vector_each(v,
		    op->value_len, vec_item_cb, &r->holds) != 0)
			return -1;
		if (field_is(op, "self") && proto_vector_each(v,
		    op->value_len, vec_item_cb, &r->self) != 0)
			return -1;
	}
	return 0;
}

int
receipt_read(const struct device *d, struct store_txn *t,
    const uint8_t *writer, uint64_t seq, struct receipt *r)
{
	struct change *c = NULL;
	struct envelope e;
	const uint8_t *env;
	uint8_t *pt = NULL;
	size_t len;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memcpy(r->writer, writer, PROTO_IDLEN);
	r->seq = seq;
	if (store_log_get(t, writer, seq, &env, &len) != 0 ||
	    proto_envelope_decode(&e, env, len) != 0 ||
	    store_open_entry(d->keyring, &e, &c, &pt) != 0 || c == NULL ||
	    c->kind != KIND_RECEIPT)
		goto out;
	rc = receipt_fields(c, r);
out:
	if (rc != 0)
		receipt_free(r);
	free(c);
	free(pt);
	return rc;
}

int
receipt_may_hold_data(const struct device *d, struct store_txn *t,
    const uint8_t *author, uint64_t seq)
{
	const struct store_key *k;
	struct envelope e;
	const uint8_t *env;
	size_t len;

	if (store_log_get(t, author, seq, &env, &len) != 0 ||
	    proto_envelope_decode(&e, env, len) != 0)
		return 1;
	k = store_keyring_find(d->keyring, e.key_id);
	return k == NULL || (k->use != KEY_NETWORK && k->use != KEY_RECEIPT &&
	    k->use != KEY_ERASE);
}

/* 1 if now covers an entry that may hold data and last does not. */
static int
covers_more(const struct device *d, struct store_txn *t,
    const struct vec *now, const struct vec *last)
{
	for (size_t i = 0; i < now->n; i++) {
		const struct vec_item *it = &now->items[i];

		for (uint64_t s = vec_seq(last, it->author) + 1; s <= it->seq;
		    s++)
			if (receipt_may_hold_data(d, t, it->author, s))
				return 1;
	}
	return 0;
}

/* The text of v's items with a seq, into out (cap bytes). */
static int
vec_text(const struct vec *v, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i].seq > 0 && proto_vector_put(out, cap, &len,
		    v->items[i].author, v->items[i].seq) != 0)
			return -1;
	return 0;
}

int
receipt_append(struct store_txn *t, const struct store_author *a,
    const uint8_t *peer, const struct vec *theirs, const struct vec *ours,
    uint64_t wall_ms)
{
	char dev[2 * PROTO_IDLEN + 1], synced[24], *holds, *self;
	uint8_t id[PROTO_RECIDLEN];
	struct change c;
	int rc = STORE_ENOMEM;

	holds = malloc(PROTO_MAX_VALUE);
	self = malloc(PROTO_MAX_VALUE);
	if (holds == NULL || self == NULL)
		goto out;
	/* A team of more than ~700 devices would not fit: no receipt. */
	rc = STORE_EINVALID;
	if (vec_text(theirs, holds, PROTO_MAX_VALUE) != 0 ||
	    (ours != NULL && vec_text(ours, self, PROTO_MAX_VALUE) != 0))
		goto out;
	sodium_bin2hex(dev, sizeof(dev), peer, PROTO_IDLEN);
	snprintf(synced, sizeof(synced), "%llu", (unsigned long long)wall_ms);
	proto_receipt_id(peer, id);
	change_init(&c, KIND_RECEIPT, id);
	/* No predecessors: a writer's later receipt replaces its own, and
	 * must leave the other writers' receipts about peer standing. */
	rc = STORE_ENOMEM;
	if (change_set(&c, NULL, "device", dev) == 0 &&
	    change_set(&c, NULL, "synced", synced) == 0 &&
	    change_set(&c, NULL, "holds", holds) == 0 &&
	    (ours == NULL || change_set(&c, NULL, "self", self) == 0))
		rc = store_append_local(t, a, &c, wall_ms, NULL);
out:
	free(holds);
	free(self);
	return rc;
}

/* A receipt by this device about peer, which acknowledged theirs; with
 * our own vector unless an earlier receipt of t carried it, about
 * another peer: one about the same peer replaces that one in the index,
 * and the report must still find our vector. */
static int
receipt_write(struct device *d, struct store_txn *t, const uint8_t *peer,
    const struct vec *theirs, uint64_t wall_ms, struct receipt_self *self)
{
	struct store_author a = { d->id, d->sign_sk, d->receipt, SCOPE_TEAM };
	struct vec ours = { 0 };
	int with = !self->said || memcmp(self->peer, peer, PROTO_IDLEN) == 0;
	int rc = 0;

	if (with)
		rc = vec_from_heads(&ours, t);
	if (rc == 0)
		rc = receipt_append(t, &a, peer, theirs, with ? &ours : NULL,
		    wall_ms);
	if (rc == 0 && with) {
		self->said = 1;
		memcpy(self->peer, peer, PROTO_IDLEN);
	}
	vec_free(&ours);
	return rc;
}

/* Whether peer gets receipts: a member that is not a box, nor us. */
static int
receipt_subject(struct device *d, struct store_txn *t, const uint8_t *peer)
{
	char role[16] = "";

	return memcmp(peer, d->id, PROTO_IDLEN) != 0 &&
	    team_is_member(d, t, peer, role) && strcmp(role, "box") != 0;
}

int
receipt_note(struct device *d, struct store_txn *t, const uint8_t *peer,
    const struct vec *theirs, uint64_t wall_ms, int closing,
    struct receipt_self *self)
{
	struct receipt last;
	uint64_t seq, fseq;
	int rc, have, due;

	if (d->receipt == NULL || fork_self(d, t, &fseq) ||
	    !receipt_subject(d, t, peer))
		return 0;
	if ((rc = store_receipt_get(t, peer, d->id, &seq)) != 0)
		return rc;
	have = seq > 0 && receipt_read(d, t, d->id, seq, &last) == 0;
	if (!have)
		memset(&last, 0, sizeof(last));
	if (covers_more(d, t, theirs, &last.holds))
		due = closing || !have ||
		    wall_ms >= last.synced + RECEIPT_EVERY_MS;
	else
		due = closing && (!have ||
		    wall_ms >= last.synced + RECEIPT_REFRESH_MS);
	receipt_free(&last);
	if (!due)
		return 0;
	rc = receipt_write(d, t, peer, theirs, wall_ms, self);
	return rc == 0 ? 1 : rc;
}
