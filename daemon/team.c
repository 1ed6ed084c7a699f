/*
 * The team: who is a member, invites, joining, and the peers this device
 * syncs with. Membership is a set of signed log records that every device,
 * the box included, can read and check: the founder, and every device a
 * member added.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"
#include "wire.h"

#define MEMBER_CHAIN_MAX	64	/* added_by links followed */

static int
hex_device(const char *hex, uint8_t out[PROTO_IDLEN])
{
	size_t len;

	return strlen(hex) == 2 * PROTO_IDLEN && sodium_hex2bin(out,
	    PROTO_IDLEN, hex, strlen(hex), NULL, &len, NULL) == 0 &&
	    len == PROTO_IDLEN ? 0 : -1;
}

/* The device a member record names, and who actually wrote that: the
 * author of the winning write, never a field a writer could fill in. */
static int
member_record(struct store_txn *t, const uint8_t *id, struct record **out,
    struct write_ref *by, uint64_t *hlc)
{
	const struct rec_register *reg;
	uint8_t dev[PROTO_IDLEN];

	*out = NULL;
	if (store_record_get(t, KIND_MEMBER, id, out) != 0)
		return -1;
	reg = record_register(*out, "device");
	if (reg == NULL || reg->nheads == 0 || record_deleted(*out) ||
	    hex_device(reg->heads[0].value, dev) != 0 ||
	    memcmp(dev, id, PROTO_IDLEN) != 0) {
		record_free(*out);
		*out = NULL;
		return -1;
	}
	*by = reg->heads[0].ref;
	if (hlc != NULL)
		*hlc = reg->heads[0].hlc;
	return 0;
}

static int	proof_chain(struct device *, const struct wire_hello *,
		    const uint8_t *, char role[16], uint8_t (*)[PROTO_IDLEN]);

static void
vouch_key(char out[80], const uint8_t *id)
{
	char hex[2 * PROTO_IDLEN + 1];

	sodium_bin2hex(hex, sizeof(hex), id, PROTO_IDLEN);
	snprintf(out, 80, "vouch:%s", hex);
}

/* A device whose record has not reached us yet, but which proved its
 * membership with signed entries (in a handshake, or in our own invite):
 * its depth by those proofs, or 0. */
static int
vouch_depth(struct device *d, struct store_txn *t, const uint8_t *id,
    char role[16])
{
	struct wire_hello h;
	const void *v;
	size_t len;
	char key[80];

	vouch_key(key, id);
	if (store_meta_get(t, key, &v, &len) != 0 ||
	    wire_hello_decode(&h, v, len) != 0)
		return 0;
	return proof_chain(d, &h, id, role != NULL ? role : (char[16]){ 0 },
	    NULL);
}

/* team_vouch_save inside the caller's transaction t. */
static int
vouch_put(struct device *d, struct store_txn *t, const uint8_t *payload,
    size_t len)
{
	uint8_t chain[WIRE_MAX_PROOFS + 1][PROTO_IDLEN];
	struct wire_hello h;
	char key[80], role[16];
	int rc = 0, n;

	if (wire_hello_decode(&h, payload, len) != 0 ||
	    (n = proof_chain(d, &h, h.id, role, chain)) == 0)
		return STORE_EBADENTRY;
	/* The same proofs place every device on the chain. */
	for (int i = 0; i < n - 1 && rc == 0; i++) {
		vouch_key(key, chain[i]);
		rc = store_meta_put(t, key, payload, len);
	}
	return rc;
}

/* Keeps a hello whose proofs placed its sender, so that its entries, and
 * the entries of those it adds, are taken before its record arrives. */
int
team_vouch_save(struct device *d, const uint8_t *payload, size_t len)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return rc;
	if ((rc = vouch_put(d, t, payload, len)) != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit_lazy(t);
}

/* How far id is from the founder along the chain of adds: 1 for the
 * founder, 2 for a device the founder added, and so on; 0 if id is not a
 * current member. */
int
team_depth(struct device *d, struct store_txn *t, const uint8_t *id,
    char role[16])
{
	uint8_t cur[PROTO_IDLEN];

	memcpy(cur, id, PROTO_IDLEN);
	for (int depth = 0; depth < MEMBER_CHAIN_MAX; depth++) {
		struct record *r;
		struct write_ref by;
		uint64_t hlc = 0;
		int is_box, found;

		if (sodium_is_zero(d->founder, PROTO_IDLEN) == 0 &&
		    memcmp(cur, d->founder, PROTO_IDLEN) == 0) {
			if (depth == 0 && role != NULL)
				snprintf(role, 16, "teacher");
			return depth + 1;
		}
		found = member_record(t, cur, &r, &by, &hlc) == 0;
		/* A removed device is no member, whatever it proves, until
		 * it is added again. */
		if (depth == 0 && epoch_removed(d, cur, hlc)) {
			record_free(r);
			return 0;
		}
		if (!found) {
			int vouched = vouch_depth(d, t, cur, depth == 0 ?
			    role : NULL);

			return vouched ? depth + vouched : 0;
		}
		if (depth == 0 && role != NULL)
			snprintf(role, 16, "%s", record_get(r, "role") ?
			    record_get(r, "role") : "teacher");
		is_box = record_get(r, "role") != NULL &&
		    strcmp(record_get(r, "role"), "box") == 0;
		record_free(r);
		if (depth > 0 && is_box)
			return 0;	/* a box adds no one */
		if (memcmp(by.author, cur, PROTO_IDLEN) == 0)
			return 0;	/* no one adds themselves */
		memcpy(cur, by.author, PROTO_IDLEN);
	}
	return 0;
}

int
team_is_member(struct device *d, struct store_txn *t, const uint8_t *id,
    char role[16])
{
	return team_depth(d, t, id, role) > 0;
}

/* Orders v's authors for sending: nearest the founder first, so that the
 * record adding a device always reaches a peer before that device's own
 * entries (the peer checks each author's membership); non-members last.
 * Fills order with indexes into v. */
void
team_order(struct device *d, struct store_txn *t, const struct vec *v,
    size_t *order)
{
	int *depth = calloc(v->n ? v->n : 1, sizeof(*depth));

	for (size_t i = 0; i < v->n; i++) {
		order[i] = i;
		if (depth != NULL) {
			depth[i] = team_depth(d, t, v->items[i].author, NULL);
			if (depth[i] == 0)
				depth[i] = MEMBER_CHAIN_MAX + 1;
		}
	}
	/* Insertion sort: teams are small, and it keeps ties in id order. */
	for (size_t i = 1; depth != NULL && i < v->n; i++)
		for (size_t j = i; j > 0 && depth[order[j - 1]] >
		    depth[order[j]]; j--) {
			size_t tmp = order[j];

			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	free(depth);
}

/* Appends the proofs this device's own invite carried (kept at join),
 * for when its own record has not reached it yet. */
static int
saved_proofs(struct device *d, struct store_txn *t, struct wire_hello *h)
{
	struct wire_hello saved;
	const void *v;
	size_t len;

	char key[80];

	vouch_key(key, d->id);
	if (store_meta_get(t, key, &v, &len) != 0 ||
	    wire_hello_decode(&saved, v, len) != 0 ||
	    h->nproofs + saved.nproofs > WIRE_MAX_PROOFS)
		return -1;
	for (size_t i = 0; i < saved.nproofs; i++) {
		h->proofs[h->nproofs] = saved.proofs[i];	/* borrow t's */
		h->proof_lens[h->nproofs++] = saved.proof_lens[i];
	}
	return 0;
}

/* The signed entries that chain id to the founder, into h->proofs. The
 * envelopes are borrowed from t: encode h before t ends. */
int
team_proof(struct device *d, struct store_txn *t, const uint8_t *id,
    struct wire_hello *h)
{
	uint8_t cur[PROTO_IDLEN];

	memcpy(cur, id, PROTO_IDLEN);
	while (memcmp(cur, d->founder, PROTO_IDLEN) != 0 &&
	    h->nproofs < WIRE_MAX_PROOFS) {
		struct record *r;
		struct write_ref by;

		if (member_record(t, cur, &r, &by, NULL) != 0)
			return memcmp(cur, d->id, PROTO_IDLEN) == 0 ?
			    saved_proofs(d, t, h) : -1;
		record_free(r);
		if (store_log_get(t, by.author, by.seq,
		    &h->proofs[h->nproofs], &h->proof_lens[h->nproofs]) != 0)
			return -1;
		h->nproofs++;
		memcpy(cur, by.author, PROTO_IDLEN);
	}
	return memcmp(cur, d->founder, PROTO_IDLEN) == 0 ? 0 : -1;
}

/* Whether a signed, network-key-sealed entry adds dev to the team; the
 * role it gives is copied out. */
static int
proof_adds(const struct device *d, const uint8_t *env, size_t len,
    const uint8_t *dev, uint8_t *author, char role[16])
{
	char hex[2 * PROTO_IDLEN + 1];
	uint8_t hash[PROTO_HASHLEN], *pt = NULL;
	struct store_keyring *only_network;
	struct envelope e;
	struct change *c = NULL;
	const struct store_key *k;
	int found = 0;

	/* Membership written in any epoch this device holds. */
	if (proto_envelope_decode(&e, env, len) != 0 ||
	    (k = store_keyring_find(d->keyring, e.key_id)) == NULL ||
	    k->use != KEY_NETWORK)
		return 0;
	proto_envelope_hash(&e, hash);
	if (proto_envelope_verify(&e, hash) != 0 ||
	    (only_network = sodium_malloc(sizeof(*only_network))) == NULL)
		return 0;
	only_network->nkeys = 1;
	only_network->keys[0] = *k;
	if (store_open_entry(only_network, &e, &c, &pt) != 0 || c == NULL ||
	    memcmp(c->record_id, dev, PROTO_RECIDLEN) != 0)
		goto out;
	sodium_bin2hex(hex, sizeof(hex), dev, PROTO_IDLEN);
	for (size_t i = 0; i < c->nops; i++) {
		const struct op *op = &c->ops[i];

		if (op->type != OP_SET)
			continue;
		if (op->field_len == 6 && memcmp(op->field, "device", 6) == 0 &&
		    op->value_len == strlen(hex) &&
		    memcmp(op->value, hex, op->value_len) == 0)
			found = 1;
		if (op->field_len == 4 && memcmp(op->field, "role", 4) == 0)
			snprintf(role, 16, "%.*s", (int)op->value_len,
			    (const char *)op->value);
	}
	memcpy(author, e.author, PROTO_IDLEN);
out:
	sodium_free(only_network);
	free(pt);
	free(c);
	return found;
}

/* How far start is from the founder by the hello's proofs: 1 for the
 * founder itself, 2 for a device the founder added, ...; 0 if the proofs
 * do not chain it to the founder. The devices on the way are put in
 * chain (up to WIRE_MAX_PROOFS + 1 of them) when chain is not NULL. */
static int
proof_chain(struct device *d, const struct wire_hello *h,
    const uint8_t *start, char role[16], uint8_t (*chain)[PROTO_IDLEN])
{
	uint8_t cur[PROTO_IDLEN], by[PROTO_IDLEN];
	char r[16] = "teacher";

	memcpy(cur, start, PROTO_IDLEN);
	for (size_t depth = 0; depth <= h->nproofs; depth++) {
		size_t i;

		if (chain != NULL)
			memcpy(chain[depth], cur, PROTO_IDLEN);
		if (memcmp(cur, d->founder, PROTO_IDLEN) == 0)
			return (int)depth + 1;
		for (i = 0; i < h->nproofs; i++)
			if (proof_adds(d, h->proofs[i], h->proof_lens[i], cur,
			    by, depth == 0 ? role : r))
				break;
		if (i == h->nproofs || memcmp(by, cur, PROTO_IDLEN) == 0 ||
		    (depth > 0 && strcmp(r, "box") == 0))
			return 0;	/* unproven, self-added, or a box adding */
		memcpy(cur, by, PROTO_IDLEN);
	}
	return 0;
}

/* The hello's sender's depth by its proofs (see proof_chain), or 0. */
int
team_check_proof(struct device *d, const struct wire_hello *h, char role[16])
{
	/* Proofs from before a removal prove nothing after it. */
	if (epoch_removed(d, h->id, 0))
		return 0;
	return proof_chain(d, h, h->id, role, NULL);
}

/* Four groups of hex that two people can read to each other. */
void
team_fingerprint(const struct device *d, char out[20])
{
	uint8_t h[8], in[16 + PROTO_IDLEN];

	memcpy(in, d->team_id, 16);
	memcpy(in + 16, d->founder, PROTO_IDLEN);
	crypto_generichash(h, sizeof(h), in, sizeof(in), NULL, 0);
	snprintf(out, 20, "%02x%02x-%02x%02x-%02x%02x-%02x%02x", h[0], h[1],
	    h[2], h[3], h[4], h[5], h[6], h[7]);
}

/* The invite's key: the newest epoch's team secret for a teacher, its
 * network key alone for a box; the earlier epochs' travel in a grant. */
static int
seal_secret(const struct device *d, const uint8_t *invitee, int box,
    uint8_t sealed[INVITE_SEALEDLEN])
{
	uint8_t x_pk[crypto_box_PUBLICKEYBYTES];
	const struct epoch_key *top = epoch_top(d);

	if (top == NULL || top->kind != EPOCH_KEY_SECRET || d->network == NULL ||
	    crypto_sign_ed25519_pk_to_curve25519(x_pk, invitee) != 0)
		return -1;
	return crypto_box_seal(sealed, box ? d->network->key : top->key,
	    PROTO_KEYLEN, x_pk);
}

/* The invite line, built inside the transaction that adds the member (its
 * proof is the entry just written), before that commits, so a failure here
 * leaves the team as it was. Returns a new string; the caller frees it. */
static char *
make_invite(struct device *d, struct store_txn *t, const uint8_t *invitee,
    int box, const char **addrs, int naddrs, const struct write_ref *grant)
{
	struct wire_hello proof;
	struct invite inv;
	msgpack_sbuffer sb;
	char *b64;
	size_t b64len;

	memset(&inv, 0, sizeof(inv));
	memcpy(inv.team_id, d->team_id, 16);
	memcpy(inv.founder, d->founder, PROTO_IDLEN);
	memcpy(inv.inviter, d->id, PROTO_IDLEN);
	memcpy(inv.invitee, invitee, PROTO_IDLEN);
	inv.box = box;
	for (int i = 0; i < naddrs && i < INVITE_MAX_ADDRS; i++)
		snprintf(inv.addrs[inv.naddrs++], sizeof(inv.addrs[0]), "%s",
		    addrs[i]);
	if (seal_secret(d, invitee, box, inv.sealed) != 0)
		return NULL;
	memset(&proof, 0, sizeof(proof));
	if (team_proof(d, t, invitee, &proof) != 0)
		return NULL;
	inv.nproofs = proof.nproofs;
	for (size_t i = 0; i < proof.nproofs; i++) {
		inv.proofs[i] = proof.proofs[i];
		inv.proof_lens[i] = proof.proof_lens[i];
	}
	/* The earlier epochs' keys: to read the proofs, and the history. */
	if (grant != NULL) {
		if (inv.nproofs == WIRE_MAX_PROOFS ||
		    store_log_get(t, grant->author, grant->seq,
		    &inv.proofs[inv.nproofs], &inv.proof_lens[inv.nproofs]) != 0)
			return NULL;
		inv.nproofs++;
	}
	msgpack_sbuffer_init(&sb);
	if (invite_encode(&inv, d->sign_sk, &sb) != 0) {
		msgpack_sbuffer_destroy(&sb);
		return NULL;
	}
	b64len = sodium_base64_ENCODED_LEN(sb.size,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((b64 = malloc(strlen(INVITE_PREFIX) + b64len)) != NULL) {
		memcpy(b64, INVITE_PREFIX, strlen(INVITE_PREFIX));
		sodium_bin2base64(b64 + strlen(INVITE_PREFIX), b64len,
		    (const uint8_t *)sb.data, sb.size,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	}
	msgpack_sbuffer_destroy(&sb);
	return b64;
}

/* A team of one needs no records; when it grows, the founder's own
 * record goes first, so that colleagues see its name. */
static int
founder_record(struct device *d, struct store_txn *t)
{
	struct record *r;
	int rc;

	if (memcmp(d->id, d->founder, PROTO_IDLEN) != 0)
		return 0;
	rc = store_record_get(t, KIND_MEMBER, d->id, &r);
	record_free(r);
	if (rc != STORE_ENOTFOUND)
		return rc;
	return device_write_member(d, t, d->id, d->name, "teacher");
}

int
cmd_member_add(struct device *d, struct args *a)
{
	const char *addrs[INVITE_MAX_ADDRS], *name = args_get(a, "name");
	uint8_t invitee[PROTO_IDLEN];
	char fp[20], *invite;
	struct store_txn *t;
	struct write_ref grant;
	int box = args_has(a, "box"), rc, granted = 0;
	int naddrs = args_all(a, "addr", addrs, INVITE_MAX_ADDRS);

	if ((rc = devid_arg("member add", a->pos[0], DEVID_CHECKED,
	    invitee)) != 0)
		return rc;
	for (int i = 0; i < naddrs; i++)
		if (!peer_addr_valid(addrs[i]))
			return fail_usage("member add: --addr '%s' is not a "
			    "numeric HOST:PORT", addrs[i]);
	if (name == NULL || *name == '\0')
		return fail_usage("member add: --name is required (1 to %d "
		    "characters)", NAME_MAX_LEN);
	if (!valid_text(name, NAME_MAX_LEN))
		return fail_usage("member add: --name: %s", text_problem(name,
		    NAME_MAX_LEN, PROTO_TEXT_LINE));
	if (memcmp(invitee, d->id, PROTO_IDLEN) == 0)
		return fail_usage("member add: %s is this device's own id; give "
		    "the id that 'satchel id' prints on the device to add",
		    a->pos[0]);
	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return device_store_error(rc, "member add");
	if ((rc = founder_record(d, t)) != 0 ||
	    (rc = device_write_member(d, t, invitee, name, box ? "box" :
	    "teacher")) != 0 ||
	    (rc = epoch_grant(d, t, invitee, box, &grant)) < 0) {
		store_abort(t);
		return device_store_error(rc, "member add");
	}
	granted = rc == 0;
	if ((invite = make_invite(d, t, invitee, box, addrs, naddrs,
	    granted ? &grant : NULL)) == NULL) {
		store_abort(t);
		return fail("member add: cannot seal the team key (is %s/team.key "
		    "readable?)", d->dir);
	}
	if ((rc = store_commit(t)) != 0) {
		free(invite);
		return device_store_error(rc, "member add");
	}
	team_fingerprint(d, fp);
	fprintf(stderr, "added %s as a %s of team %s; give them this invite:\n",
	    name, box ? "box" : "teacher", fp);
	printf("%s\n", invite);
	free(invite);
	return 0;
}

struct member_walk {
	struct device	*d;
	struct store_txn *t;
	int		 count;
};

static int
member_cb(const struct record *r, void *arg)
{
	struct member_walk *w = arg;
	const char *dev = record_get(r, "device");
	uint8_t id[PROTO_IDLEN];
	char role[16] = "", checked[PROTO_DEVID_LEN + 1];
	int joined;

	if (dev == NULL || hex_device(dev, id) != 0 ||
	    !team_is_member(w->d, w->t, id, role))
		return 0;
	devid_format(id, checked);
	joined = member_joined(w->d, w->t, id);
	if (w->d->json) {
		printf("%s{\"device\":\"%s\",\"id\":\"%s\",\"name\":",
		    w->count ? ",\n" : "", dev, checked);
		json_str(record_get(r, "name") ? record_get(r, "name") : "");
		fputs(",\"role\":", stdout);
		json_str(role);
		fputs(",\"added_by\":", stdout);
		json_str(record_get(r, "added_by") ? record_get(r, "added_by") :
		    "");
		printf(",\"joined\":%s}", joined ? "true" : "false");
	} else
		printf("%s  %-8s %-8s %s%s\n", checked, role, joined ?
		    "joined" : "invited", record_get(r, "name") ?
		    record_get(r, "name") : "", memcmp(id, w->d->id,
		    PROTO_IDLEN) == 0 ? "  (this device)" : "");
	w->count++;
	return 0;
}

int
cmd_member_list(struct device *d, struct args *a)
{
	struct member_walk w = { d, NULL, 0 };
	int rc;

	(void)a;
	if ((rc = store_begin(d->st, STORE_RDONLY, &w.t)) != 0)
		return device_store_error(rc, "member list");
	if (d->json)
		fputs("[", stdout);
	rc = store_records_each(w.t, KIND_MEMBER, member_cb, &w);
	if (d->json)
		fputs("]\n", stdout);
	store_abort(w.t);
	return rc == 0 ? 0 : device_store_error(rc, "member list");
}

/* The invite as pasted: every space and line break dropped, wherever an
 * e-mail client or a terminal put them, and the pieces of an unquoted
 * paste put together. Returns a new string, or NULL. */
static char *
invite_text(const struct args *a)
{
	size_t cap = 1;
	char *s, *o;

	for (int i = 0; i < a->npos; i++)
		cap += strlen(a->pos[i]);
	if ((s = o = malloc(cap)) == NULL)
		return NULL;
	for (int i = 0; i < a->npos; i++)
		for (const char *p = a->pos[i]; *p; p++)
			if (!isspace((unsigned char)*p))
				*o++ = *p;
	*o = '\0';
	return s;
}

/* inv borrows its proofs from buf, which the caller keeps. */
static int
decode_token(const char *token, struct invite *inv,
    uint8_t buf[INVITE_MAX_BYTES])
{
	size_t plen = strlen(INVITE_PREFIX), len;

	if (strncmp(token, INVITE_PREFIX, plen) != 0 ||
	    sodium_base642bin(buf, INVITE_MAX_BYTES, token + plen,
	    strlen(token + plen), NULL, &len, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	return invite_decode(inv, buf, len);	/* -2: a newer invite */
}

static int
open_sealed(const struct device *d, const struct invite *inv,
    uint8_t *secret)
{
	uint8_t x_pk[crypto_box_PUBLICKEYBYTES];
	uint8_t *x_sk = sodium_malloc(crypto_box_SECRETKEYBYTES);
	int rc = -1;

	if (x_sk != NULL &&
	    crypto_sign_ed25519_pk_to_curve25519(x_pk, d->id) == 0 &&
	    crypto_sign_ed25519_sk_to_curve25519(x_sk, d->sign_sk) == 0)
		rc = crypto_box_seal_open(secret, inv->sealed,
		    INVITE_SEALEDLEN, x_pk, x_sk);
	sodium_free(x_sk);
	return rc;
}

static int
count_head(const uint8_t *author, uint64_t seq, const uint8_t *hash,
    void *arg)
{
	(void)author, (void)seq, (void)hash;
	(*(int *)arg)++;
	return 0;
}

static int
count_record(const struct record *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

/* Whether this device's present team is more than a fresh device's team
 * of one: it joined someone's team, or holds entries or member records.
 * When in doubt, it is. */
static int
team_in_use(struct device *d)
{
	struct store_txn *t;
	int n = 0;

	if (sodium_is_zero(d->founder, PROTO_IDLEN) == 0 &&
	    memcmp(d->founder, d->id, PROTO_IDLEN) != 0)
		return 1;
	if (store_begin(d->st, STORE_RDONLY, &t) != 0)
		return 1;
	if (store_heads_each(t, count_head, &n) != 0 ||
	    store_records_each(t, KIND_MEMBER, count_record, &n) != 0)
		n = 1;
	store_abort(t);
	return n > 0;
}

static int
join_check(struct device *d, const struct invite *inv)
{
	int box = strcmp(d->role, "box") == 0;
	char fp[20];

	if (memcmp(inv->invitee, d->id, PROTO_IDLEN) != 0)
		return fail_usage("join: this invite is for another device "
		    "(check the id this device printed: satchel id)");
	if (inv->box != box)
		return fail_usage("join: the invite is for a %s, but this "
		    "device was made as a %s", inv->box ? "box" : "teacher",
		    box ? "box" : "teacher");
	/* A new invite to the same team (after an epoch change) is fine;
	 * another team would orphan this one's members and notes. */
	if ((memcmp(d->team_id, inv->team_id, 16) != 0 ||
	    memcmp(d->founder, inv->founder, PROTO_IDLEN) != 0) &&
	    team_in_use(d)) {
		team_fingerprint(d, fp);
		return fail_usage("join: this device belongs to team %s, which "
		    "has other members or notes; nothing changed (to join "
		    "another team, start a new data directory: satchel -d DIR "
		    "init)", fp);
	}
	return 0;
}

static int
put_peer(struct store_txn *t, const char *addr, const uint8_t *id)
{
	char key[96];

	snprintf(key, sizeof(key), "peer:%s", addr);
	return store_meta_put(t, key, id, id ? PROTO_IDLEN : 0);
}

static int
add_peer(struct device *d, const char *addr, const uint8_t *id)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return rc;
	if ((rc = put_peer(t, addr, id)) != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

/* Until it has synced, a new device proves its membership with the
 * entries its invite carried, kept as its own vouch (see vouch_depth):
 * encoded into sb as a hello of its own. */
static int
invite_hello(const struct device *d, const struct invite *inv,
    msgpack_sbuffer *sb)
{
	struct wire_hello h;

	memset(&h, 0, sizeof(h));
	memcpy(h.id, d->id, PROTO_IDLEN);
	h.nproofs = inv->nproofs;
	for (size_t i = 0; i < inv->nproofs; i++) {
		h.proofs[i] = inv->proofs[i];
		h.proof_lens[i] = inv->proof_lens[i];
	}
	return wire_hello_encode(sb, &h);
}

/* The keys of the invite's team as this device will hold them: the
 * invite's key, and the earlier epochs' from its grant if the team has
 * changed epoch (with those it held already, when it joins its own team
 * again). Fills nd->epochs and nd's keyring. */
static int
joined_keys(const struct device *d, const struct invite *inv,
    const uint8_t *secret, struct device *nd)
{
	struct epoch_key base;
	struct epochs *learned;

	memset(&base, 0, sizeof(base));
	base.kind = inv->box ? EPOCH_KEY_NETWORK : EPOCH_KEY_SECRET;
	memcpy(base.key, secret, PROTO_KEYLEN);
	epochs_add(nd->epochs, &base);
	sodium_memzero(&base, sizeof(base));
	epoch_keyring(nd);
	if ((learned = sodium_malloc(sizeof(*learned))) == NULL)
		return -1;
	memset(learned, 0, sizeof(*learned));
	if (epoch_from_invite(nd, learned, inv->proofs, inv->proof_lens,
	    inv->nproofs) > 0) {
		if (memcmp(d->team_id, inv->team_id, 16) == 0 &&
		    memcmp(d->founder, inv->founder, PROTO_IDLEN) == 0)
			for (size_t i = 0; d->epochs != NULL &&
			    i < d->epochs->n; i++)
				epochs_add(learned, &d->epochs->k[i]);
		*nd->epochs = *learned;
		epoch_keyring(nd);
	}
	sodium_free(learned);
	return 0;
}

/* This device as it will be in the invite's team: nd is d with the
 * team's ids and keys, in a keyring and epochs of its own (the caller
 * frees both). */
static int
joined_view(const struct device *d, const struct invite *inv,
    const uint8_t *secret, struct device *nd)
{
	*nd = *d;
	nd->nremoved = 0;
	nd->keyring = sodium_malloc(sizeof(*nd->keyring));
	nd->epochs = sodium_malloc(sizeof(*nd->epochs));
	if (nd->keyring == NULL || nd->epochs == NULL)
		return -1;
	memset(nd->keyring, 0, sizeof(*nd->keyring));
	memset(nd->epochs, 0, sizeof(*nd->epochs));
	memcpy(nd->team_id, inv->team_id, 16);
	memcpy(nd->founder, inv->founder, PROTO_IDLEN);
	return joined_keys(d, inv, secret, nd);
}

/* epochs.key as the join leaves it, before the store commits; *old is
 * what to put back if the commit fails. */
static int
join_epochs(struct device *nd, char *path, size_t len, struct epochs *old)
{
	if (device_keyfile(nd, "epochs.key", path, len) != 0 ||
	    epochs_read(path, old) != 0)
		return STORE_EIO;
	if (nd->epochs->n >= 2)
		return epochs_write(path, nd->epochs) == 0 ? 0 : STORE_EIO;
	if (old->n > 0 && unlink(path) != 0)
		return STORE_EIO;	/* another team's epochs */
	return 0;
}

/* Everything checked, the join is written: the store's part in one
 * transaction that device_save_team commits after writing the key, so a
 * failure anywhere leaves the directory as it was. */
static int
join_write(struct device *nd, const struct invite *inv,
    const msgpack_sbuffer *hello, const uint8_t *secret)
{
	struct store_txn *t;
	struct epochs *old;
	char path[4200];
	int rc;

	if ((old = sodium_malloc(sizeof(*old))) == NULL)
		return STORE_ENOMEM;
	if ((rc = store_begin(nd->st, 0, &t)) != 0) {
		sodium_free(old);
		return rc;
	}
	rc = vouch_put(nd, t, (const uint8_t *)hello->data, hello->size);
	for (size_t i = 0; rc == 0 && i < inv->naddrs; i++)
		rc = put_peer(t, inv->addrs[i], inv->inviter);
	if (rc == 0)
		rc = join_epochs(nd, path, sizeof(path), old);
	if (rc != 0) {
		store_abort(t);
		sodium_free(old);
		return rc;
	}
	if ((rc = device_save_team(nd, t, inv->team_id, inv->founder, secret,
	    inv->box)) != 0 && (old->n > 0 ? epochs_write(path, old) :
	    unlink(path)) != 0 && errno != ENOENT)
		fprintf(stderr, "satchel: %s could not be put back\n", path);
	sodium_free(old);
	return rc;
}

/* Whether the invite's proofs make this device a member of its team, as
 * nd (this device in that team) checks them; its hello goes into sb. */
static int
join_proven(struct device *nd, const struct invite *inv, msgpack_sbuffer *sb)
{
	struct wire_hello h;
	char role[16];

	return invite_hello(nd, inv, sb) == 0 &&
	    wire_hello_decode(&h, (const uint8_t *)sb->data, sb->size) == 0 &&
	    team_check_proof(nd, &h, role) > 0;
}

/* Opens the invite's key and checks its proofs as the new team's member
 * would, then writes; a refusal writes nothing. */
static int
join_invite(struct device *d, const struct invite *inv)
{
	struct device nd = { .keyring = NULL, .epochs = NULL };
	msgpack_sbuffer sb;
	uint8_t *secret;
	char fp[20];
	int rc;

	if ((secret = sodium_malloc(PROTO_KEYLEN)) == NULL)
		return fail("out of memory");
	msgpack_sbuffer_init(&sb);
	if (open_sealed(d, inv, secret) != 0)
		rc = fail_usage("join: the invite's key cannot be opened by "
		    "this device; nothing changed");
	else if (joined_view(d, inv, secret, &nd) != 0)
		rc = fail("join: out of memory");
	else if (!join_proven(&nd, inv, &sb))
		rc = fail_usage("join: the invite does not prove that this "
		    "device was added by a member of the team (damaged, or not "
		    "made by 'satchel member add'); nothing changed");
	else if ((rc = join_write(&nd, inv, &sb, secret)) != 0)
		rc = device_store_error(rc, "join");
	else {
		team_fingerprint(&nd, fp);
		printf("joined team %s: compare this fingerprint with the "
		    "'team' line of 'satchel status' on the inviting device\n",
		    fp);
	}
	msgpack_sbuffer_destroy(&sb);
	sodium_free(nd.keyring);
	sodium_free(nd.epochs);
	sodium_free(secret);
	return rc;
}

int
cmd_join(struct device *d, struct args *a)
{
	static uint8_t buf[INVITE_MAX_BYTES];
	struct invite inv;
	char *token;
	int rc;

	if ((token = invite_text(a)) == NULL)
		return fail("out of memory");
	rc = decode_token(token, &inv, buf);
	free(token);
	if (rc == -2)
		return fail_usage("join: this invite was made by a newer "
		    "Satchel (invite version %u; this one reads %d); upgrade "
		    "Satchel on this device, then join", (unsigned)inv.version,
		    INVITE_VERSION);
	if (rc != 0)
		return fail_usage("join: not a valid invite (damaged or "
		    "incomplete; copy the whole text 'satchel member add' "
		    "printed)");
	if ((rc = join_check(d, &inv)) != 0)
		return rc;
	return join_invite(d, &inv);
}

int
cmd_peer_add(struct device *d, struct args *a)
{
	uint8_t id[PROTO_IDLEN];
	int rc;

	if (!peer_addr_valid(a->pos[0]))
		return fail_usage("peer add: '%s' is not a numeric HOST:PORT "
		    "(e.g. 192.168.1.20:7420)", a->pos[0]);
	if (a->npos > 1 && (rc = devid_arg("peer add", a->pos[1], DEVID_ANY,
	    id)) != 0)
		return rc;
	if ((rc = add_peer(d, a->pos[0], a->npos > 1 ? id : NULL)) != 0)
		return device_store_error(rc, "peer add");
	return 0;
}

int
cmd_peer_remove(struct device *d, struct args *a)
{
	struct store_txn *t;
	const void *v;
	size_t len;
	char key[96];
	int rc;

	snprintf(key, sizeof(key), "peer:%s", a->pos[0]);
	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return device_store_error(rc, "peer remove");
	if (store_meta_get(t, key, &v, &len) != 0) {
		store_abort(t);
		return fail_usage("peer remove: no peer %s (see satchel peer "
		    "list)", a->pos[0]);
	}
	if ((rc = store_meta_del(t, key)) != 0) {
		store_abort(t);
		return device_store_error(rc, "peer remove");
	}
	rc = store_commit(t);
	return rc == 0 ? 0 : device_store_error(rc, "peer remove");
}

static int
peer_list_cb(const char *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct device *d = arg;
	char hex[2 * PROTO_IDLEN + 1] = "", checked[PROTO_DEVID_LEN + 1] = "";
	static int count;

	if (vlen == PROTO_IDLEN) {
		sodium_bin2hex(hex, sizeof(hex), val, PROTO_IDLEN);
		devid_format(val, checked);
	}
	if (d->json)
		printf("%s{\"addr\":\"%.*s\",\"device\":\"%s\",\"id\":\"%s\"}",
		    count++ ? ",\n" : "", (int)(klen - 5), key + 5, hex,
		    checked);
	else
		printf("%-24.*s %s\n", (int)(klen - 5), key + 5,
		    *checked ? checked : "(device not known yet)");
	return 0;
}

int
cmd_peer_list(struct device *d, struct args *a)
{
	struct store_txn *t;
	int rc;

	(void)a;
	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		return device_store_error(rc, "peer list");
	if (d->json)
		fputs("[", stdout);
	rc = store_meta_each(t, "peer:", peer_list_cb, d);
	if (d->json)
		fputs("]\n", stdout);
	store_abort(t);
	return rc == 0 ? 0 : device_store_error(rc, "peer list");
}
