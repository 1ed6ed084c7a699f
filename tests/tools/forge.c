/*
 * forge DIR MODE ARGS: appends to DIR's own log an entry that today's
 * commands would refuse to write, the way a hostile member or an older
 * version could: properly chained and signed, with content the schema
 * refuses or predecessors naming writes the author never saw. Tests use
 * it to check that peers apply such entries as the same no-op, and that
 * they never hide a colleague's write.
 *
 *	member-under-content RECORD	a member change sealed under the
 *					content key
 *	internal-field RECORD KIND	a set of "_deleted" on RECORD
 *	future-pred RECORD KIND FIELD VALUE AUTHOR +N
 *					a set naming AUTHOR's write N past
 *					the head DIR holds, with a guessed
 *					hash
 *	member DEVICE FIELD=VALUE...	a membership entry about DEVICE (64
 *					hex) sealed under the network key,
 *					naming the membership heads DIR holds,
 *					as 'satchel member' would write it but
 *					whoever DIR is (a box, a teacher)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"

/* Seals c under key and takes it through the path a received entry
 * takes, bypassing the validation a local write gets. */
static int
forge_append(struct device *d, const struct store_key *key,
    const struct change *c)
{
	struct envelope e;
	msgpack_sbuffer pt, env;
	struct store_txn *t;
	uint8_t *ct;
	int rc;

	msgpack_sbuffer_init(&pt);
	msgpack_sbuffer_init(&env);
	memset(&e, 0, sizeof(e));
	e.version = PROTO_VERSION;
	memcpy(e.author, d->id, PROTO_IDLEN);
	memcpy(e.key_id, key->id, PROTO_KEYIDLEN);
	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return rc;
	if ((rc = store_head_get(t, e.author, &e.seq, e.prev_hash)) != 0)
		goto out;
	for (size_t i = 0; i < c->ops[0].npreds; i++) {
		struct write_ref *p = (struct write_ref *)&c->ops[0].preds[i];
		uint8_t h[PROTO_HASHLEN];
		uint64_t head;

		if ((rc = store_head_get(t, p->author, &head, h)) != 0)
			goto out;
		p->seq += head;
	}
	e.seq++;
	e.hlc = proto_hlc_now(0, now_ms());
	rc = STORE_ENOMEM;
	if (proto_change_encode(c, &pt) != 0 ||
	    (ct = malloc(pt.size + PROTO_TAGLEN)) == NULL)
		goto out;
	if (proto_envelope_seal(&e, key->key, (uint8_t *)pt.data, pt.size, ct,
	    d->sign_sk) == 0 && proto_envelope_encode(&e, &env) == 0)
		rc = store_apply_entry(t, d->keyring, (uint8_t *)env.data,
		    env.size, 1);
	free(ct);
out:
	msgpack_sbuffer_destroy(&pt);
	msgpack_sbuffer_destroy(&env);
	if (rc != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

static int
id_arg(const char *hex, uint8_t *out, size_t len)
{
	size_t n;

	return sodium_hex2bin(out, len, hex, strlen(hex), NULL, &n, NULL) ==
	    0 && n == len ? 0 : -1;
}

/* The member mode: any device (a box included) writes what only an
 * admin's 'satchel member' should. */
static int
forge_member(struct device *d, int argc, char **argv)
{
	static struct change c;
	static char seen[MEMBERS_MAX_SEEN * (MEMBERS_REF_LEN + 1) + 1];
	uint8_t dev[PROTO_IDLEN];
	struct store_txn *t;
	int rc;

	if (id_arg(argv[3], dev, sizeof(dev)) != 0 || argc > 4 + PROTO_MAX_OPS - 2)
		return fail_usage("forge: member DEVICE(64 hex) FIELD=VALUE...");
	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		return fail("forge: %s", store_strerror(rc));
	rc = team_seen_value(d, t, seen, sizeof(seen));
	store_abort(t);
	if (rc != 0)
		return fail("forge: cannot read the membership");
	memset(&c, 0, sizeof(c));
	c.kind = KIND_MEMBER;
	memcpy(c.record_id, dev, PROTO_RECIDLEN);
	c.ops[c.nops].type = OP_SET;
	c.ops[c.nops].field = "device";
	c.ops[c.nops].value = (const uint8_t *)argv[3];
	c.ops[c.nops++].value_len = strlen(argv[3]);
	c.ops[c.nops].type = OP_SET;
	c.ops[c.nops].field = "seen";
	c.ops[c.nops].value = (const uint8_t *)seen;
	c.ops[c.nops++].value_len = strlen(seen);
	for (int i = 4; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		struct op *op = &c.ops[c.nops++];

		if (eq == NULL)
			return fail_usage("forge: FIELD=VALUE, not '%s'", argv[i]);
		*eq = '\0';
		op->type = OP_SET;
		op->field = argv[i];
		op->value = (const uint8_t *)eq + 1;
		op->value_len = strlen(eq + 1);
	}
	for (size_t i = 0; i < c.nops; i++)
		c.ops[i].field_len = strlen(c.ops[i].field);
	if ((rc = forge_append(d, d->network, &c)) != 0)
		return fail("forge: %s", store_strerror(rc));
	return 0;
}

int
main(int argc, char **argv)
{
	static struct change c;
	uint8_t id[PROTO_RECIDLEN];
	const struct store_key *key;
	struct device d;
	struct op *op = &c.ops[0];
	int rc;

	if (argc >= 4 && strcmp(argv[2], "member") == 0) {
		if (sodium_init() < 0 || device_open(&d, argv[1]) != 0)
			return 1;
		rc = forge_member(&d, argc, argv);
		device_close(&d);
		return rc;
	}
	if (argc < 4 || sodium_init() < 0 || id_arg(argv[3], id, sizeof(id)))
		return fail_usage("usage: forge DIR MODE RECORD ...");
	if (device_open(&d, argv[1]) != 0)
		return 1;
	key = d.content;
	memset(&c, 0, sizeof(c));
	memcpy(c.record_id, id, sizeof(id));
	c.nops = 1;
	op->type = OP_SET;
	if (strcmp(argv[2], "member-under-content") == 0) {
		c.kind = KIND_MEMBER;
		op->field = "name";
		op->value = (const uint8_t *)"Mallory";
	} else if (strcmp(argv[2], "internal-field") == 0 && argc == 5) {
		c.kind = (uint8_t)atoi(argv[4]);
		op->field = RECORD_DELETED_FIELD;
		op->value = (const uint8_t *)"";
	} else if (strcmp(argv[2], "future-pred") == 0 && argc == 9) {
		c.kind = (uint8_t)atoi(argv[4]);
		op->field = argv[5];
		op->value = (const uint8_t *)argv[6];
		op->npreds = 1;
		op->preds[0].has_hash = 1;
		op->preds[0].seq = strtoull(argv[8] + (argv[8][0] == '+'),
		    NULL, 10);
		randombytes_buf(op->preds[0].hash, PROTO_HASHLEN);
		if (id_arg(argv[7], op->preds[0].author, PROTO_IDLEN) != 0)
			return fail_usage("forge: bad author id");
	} else {
		return fail_usage("forge: unknown mode or arguments");
	}
	op->field_len = strlen(op->field);
	op->value_len = strlen((const char *)op->value);
	rc = forge_append(&d, key, &c);
	device_close(&d);
	if (rc != 0)
		return fail("forge: %s", store_strerror(rc));
	return 0;
}
