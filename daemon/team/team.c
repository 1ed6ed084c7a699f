/*
 * The team: who is a member, invites, joining, and the peers this device
 * syncs with. Membership is a set of signed log records that every device,
 * the box included, can read and check: the founder, and every device a
 * member added.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"
#include "wire.h"

#define MEMBER_CHAIN_MAX	64	/* added_by links followed */
#define VOUCH_MAX		64	/* hellos kept for devices not yet known */

static void
vouch_key(char out[80], const uint8_t *id)
{
	char hex[2 * PROTO_IDLEN + 1];

	sodium_bin2hex(hex, sizeof(hex), id, PROTO_IDLEN);
	snprintf(out, 80, "vouch:%s", hex);
}

/* The membership that the hello's proofs and what this device holds
 * give, or NULL; the caller frees it. */
static struct team_view *
proof_view(struct device *d, struct store_txn *t, const struct wire_hello *h)
{
	return team_view_with(d, t, h->proofs, h->proof_lens, h->nproofs);
}

/* How far id is from the founder along the adds of ms: 1 for the
 * founder, 2 for a device it added, and so on. */
static int
add_depth(const struct members *ms, const uint8_t *id)
{
	const struct member *m = proto_members_find(ms, id);
	int depth = 1;

	while (m != NULL && !m->founder && depth < MEMBER_CHAIN_MAX) {
		m = proto_members_find(ms, m->added_by);
		depth++;
	}
	return depth;
}

/* A device this device's records do not know yet, which proved its
 * membership with signed entries (in a handshake, or in our own invite):
 * its depth (add_depth) by those entries with what is held, or 0 if they
 * do not make it a member. A device the records know, removed or not, is
 * judged by them alone: a vouch is worthless once a record removes its
 * device. */
static int
vouched(struct device *d, struct store_txn *t, const uint8_t *id,
    uint8_t *role)
{
	const struct members *ms;
	struct team_view *v;
	struct wire_hello h;
	const void *val;
	size_t len;
	char key[80];
	int depth = 0;

	vouch_key(key, id);
	if (store_meta_get(t, key, &val, &len) != 0 ||
	    wire_hello_decode(&h, val, len) != 0 ||
	    (v = proof_view(d, t, &h)) == NULL)
		return 0;
	ms = team_view_members(v);
	if (proto_members_current(ms, id)) {
		depth = add_depth(ms, id);
		*role = proto_members_find(ms, id)->role;
	}
	team_view_free(v);
	return depth;
}

struct vouch_count {
	const struct members	*ms;
	const uint8_t		*self;
	size_t			 n;
	size_t			 nstale;
	char			 stale[VOUCH_MAX][80];
};

/* Counts the vouches kept; with prune, drops those of devices the
 * membership now knows (they are judged by it alone), but never this
 * device's own: its invite's proofs are part of what it knows. */
static int
vouch_count_cb(const char *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct vouch_count *c = arg;
	uint8_t id[PROTO_IDLEN];
	size_t len;

	(void)val, (void)vlen;
	if (klen == 6 + 2 * PROTO_IDLEN && c->nstale < VOUCH_MAX &&
	    sodium_hex2bin(id, sizeof(id), key + 6, klen - 6, NULL, &len,
	    NULL) == 0 && len == PROTO_IDLEN &&
	    memcmp(id, c->self, PROTO_IDLEN) != 0 &&
	    proto_members_find(c->ms, id) != NULL) {
		snprintf(c->stale[c->nstale++], 80, "%.*s", (int)klen, key);
		return 0;
	}
	c->n++;
	return 0;
}

/* team_vouch_save inside the caller's transaction t. Keeps the hello for
 * every device its proofs make a member that the records do not know,
 * at most VOUCH_MAX hellos in all. */
static int
vouch_put(struct device *d, struct store_txn *t, const uint8_t *payload,
    size_t len)
{
	const struct members *held = team_members(d, t), *ms;
	struct vouch_count *count = calloc(1, sizeof(*count));
	struct team_view *v;
	struct wire_hello h;
	char key[80];
	int rc = 0;

	if (count == NULL)
		return STORE_ENOMEM;
	if (held == NULL || wire_hello_decode(&h, payload, len) != 0 ||
	    (v = proof_view(d, t, &h)) == NULL) {
		free(count);
		return STORE_EBADENTRY;
	}
	ms = team_view_members(v);
	if (!proto_members_current(ms, h.id)) {
		team_view_free(v);
		free(count);
		return STORE_EBADENTRY;
	}
	count->ms = held;
	count->self = d->id;
	if (store_meta_each(t, "vouch:", vouch_count_cb, count) != 0)
		count->n = VOUCH_MAX;
	for (size_t i = 0; i < count->nstale && rc == 0; i++)
		rc = store_meta_del(t, count->stale[i]);
	for (size_t i = 0; i < ms->n && rc == 0; i++) {
		const void *old;
		size_t olen;

		if (ms->m[i].removal || proto_members_find(held,
		    ms->m[i].id) != NULL)
			continue;
		vouch_key(key, ms->m[i].id);
		if (store_meta_get(t, key, &old, &olen) != 0 &&
		    count->n++ >= VOUCH_MAX)
			continue;	/* full: the records will come */
		rc = store_meta_put(t, key, payload, len);
	}
	team_view_free(v);
	free(count);
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

static void
role_out(char role[16], uint8_t r)
{
	if (role != NULL)
		snprintf(role, 16, "%s", team_role_name(r));
}

/* How far id is from the founder along the chain of adds: 1 for the
 * founder, 2 for a device the founder added, and so on; 0 if id is not a
 * current member (never added, removed, or vouched for by nothing). */
int
team_depth(struct device *d, struct store_txn *t, const uint8_t *id,
    char role[16])
{
	const struct members *ms = team_members(d, t);
	const struct member *m = proto_members_find(ms, id);
	uint8_t r;
	int depth;

	if (m == NULL) {
		/* By its proofs: the device that added it comes first. */
		if ((depth = vouched(d, t, id, &r)) == 0)
			return 0;
		role_out(role, r);
		return depth;
	}
	if (m->removal)
		return 0;
	role_out(role, m->role);
	return add_depth(ms, id);
}

int
team_is_member(struct device *d, struct store_txn *t, const uint8_t *id,
    char role[16])
{
	return team_depth(d, t, id, role) > 0;
}

/* The last seq of author's entries this device takes: UINT64_MAX for a
 * member, its cut-off for a removed one, 0 for a stranger. *keep says
 * whether entries past the cut-off are still stored, unapplied: those of
 * a removed admin, whose own membership changes made meanwhile (removing
 * its remover, say) every device must hold to decide alike who stays
 * (members.h). A removed teacher's or box's are refused outright. */
uint64_t
team_limit(struct device *d, struct store_txn *t, const uint8_t *author,
    int *keep)
{
	const struct member *m = proto_members_find(team_members(d, t),
	    author);

	*keep = 0;
	/* A box writes receipts and nothing else: all its entries are
	 * taken with the network keys alone, so content it might seal
	 * under a leaked content key is never applied. */
	if (m != NULL && m->role == MROLE_BOX && !m->removal) {
		*keep = 1;
		return 0;
	}
	if (m != NULL) {
		*keep = m->removal && m->role == MROLE_ADMIN;
		return m->removal ? m->cutoff_seq : UINT64_MAX;
	}
	return team_is_member(d, t, author, NULL) ? UINT64_MAX : 0;
}

int
team_removed(struct device *d, struct store_txn *t, const uint8_t *id)
{
	const struct member *m = proto_members_find(team_members(d, t), id);

	return m != NULL && m->removal != MREMOVE_NONE;
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

/* Appends the envelope of the view's entry i to h's proofs, once. */
static int
proof_push(const struct team_view *v, struct store_txn *t, long i,
    struct wire_hello *h, struct write_ref *have, size_t *nhave)
{
	const struct member_entry *e = team_view_entry(v, i);
	const uint8_t *env;
	size_t len;

	if (e == NULL)
		return 0;
	for (size_t j = 0; j < *nhave; j++)
		if (write_ref_cmp(&have[j], &e->ref) == 0)
			return 0;
	if (h->nproofs >= WIRE_MAX_PROOFS)
		return -1;
	if ((env = team_view_env(v, i, &len)) != NULL) {
		h->proofs[h->nproofs] = env;	/* borrowed from the view */
		h->proof_lens[h->nproofs] = len;
	} else if (store_log_get(t, e->ref.author, e->ref.seq,
	    &h->proofs[h->nproofs], &h->proof_lens[h->nproofs]) != 0)
		return -1;
	h->nproofs++;
	have[(*nhave)++] = e->ref;
	return 0;
}

/* The signed entries that make id a member, from the founder on: for
 * each device on the way, the entry that added it and the one that gave
 * it its role, into h->proofs. The envelopes are borrowed from t and
 * from d's cached view: encode h before t ends and before the next
 * membership question. */
int
team_proof(struct device *d, struct store_txn *t, const uint8_t *id,
    struct wire_hello *h)
{
	const struct team_view *v = team_view(d, t);
	const struct members *ms = team_view_members(v);
	struct write_ref have[WIRE_MAX_PROOFS];
	size_t nhave = 0;
	uint8_t cur[PROTO_IDLEN];

	memcpy(cur, id, PROTO_IDLEN);
	for (int depth = 0; depth < MEMBER_CHAIN_MAX; depth++) {
		const struct member *m = proto_members_find(ms, cur);

		if (m == NULL)
			return -1;
		if (m->removal)
			return -1;
		if (m->founder)
			return 0;
		if (proof_push(v, t, m->add_entry, h, have, &nhave) != 0 ||
		    proof_push(v, t, m->role_entry, h, have, &nhave) != 0)
			return -1;
		memcpy(cur, m->added_by, PROTO_IDLEN);
	}
	return -1;
}

/* The hello's sender's depth by its proofs and what this device holds
 * (see team_depth), or 0. */
int
team_check_proof(struct device *d, const struct wire_hello *h, char role[16])
{
	const struct member *m;
	struct team_view *v;
	struct store_txn *t;
	int depth = 0;

	if (store_begin(d->st, STORE_RDONLY, &t) != 0)
		return 0;
	if ((v = proof_view(d, t, h)) != NULL &&
	    proto_members_current(team_view_members(v), h->id)) {
		m = proto_members_find(team_view_members(v), h->id);
		role_out(role, m->role);
		depth = add_depth(team_view_members(v), h->id);
	}
	team_view_free(v);
	store_abort(t);
	return depth;
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
	return device_write_member(d, t, d->id, d->name, "admin");
}

/* Only an admin changes the team: 0, or one line and EXIT_USAGE. Its
 * peers would not honour the entry anyway (members.h). */
static int
admin_check(struct device *d, struct store_txn *t, const char *what)
{
	const struct members *ms = team_members(d, t);
	const struct member *me = proto_members_find(ms, d->id);
	uint8_t role = MROLE_NONE;

	if (ms == NULL)
		return fail("%s: cannot read the team's membership", what);
	if (strcmp(d->role, "box") == 0)
		return fail_usage("%s: a box changes no one's membership; run "
		    "it on an admin's laptop", what);
	/* Before its own record reaches it, its invite's proofs say. */
	if (me == NULL && vouched(d, t, d->id, &role) && role == MROLE_ADMIN)
		return 0;
	if (me == NULL || me->removal || me->role != MROLE_ADMIN) {
		char id[PROTO_DEVID_LEN + 1];

		devid_format(d->id, id);
		return fail_usage("%s: only an admin can change the team, and "
		    "this device is %s (an admin can run 'satchel member role "
		    "%s admin')", what, me == NULL && role == MROLE_NONE ?
		    "not a member" : me != NULL && me->removal ? "removed from it" : "a teacher", id);
	}
	return 0;
}

/* Adds the device, or adds it again after a removal this device holds. */
static int
member_add_write(struct device *d, struct store_txn *t,
    const uint8_t *id, const char *name, const char *role)
{
	const struct member *m = proto_members_find(team_members(d, t), id);
	struct member_write w = { .name = name, .role = role, .add = 1 };

	if (m != NULL && m->removal)
		w.removed = "no";
	return device_member_write(d, t, id, &w);
}

/* The target of member role and member remove: a device the membership
 * knows. 0, or one line and EXIT_USAGE. */
static int
known_target(struct device *d, struct store_txn *t, const char *what,
    const char *arg, uint8_t id[PROTO_IDLEN], const struct member **m)
{
	int rc;

	if ((rc = devid_arg(what, arg, DEVID_ANY, id)) != 0)
		return rc;
	*m = proto_members_find(team_members(d, t), id);
	if (*m == NULL)
		return fail_usage("%s: %s is not a member of this team (see "
		    "satchel member list)", what, arg);
	if ((*m)->removal)
		return fail_usage("%s: %s was removed from the team already "
		    "(satchel member add adds it again)", what, arg);
	return 0;
}

/* The cut-off of a removal or a demotion of id: the last entry of the
 * device this one holds, "SEQ:HASH" into out (CUTOFF_LEN bytes); *seq is
 * its seq. 0 or a store code. */
#define CUTOFF_LEN	(24 + 2 * PROTO_HASHLEN)
static int
cutoff_of(struct store_txn *t, const uint8_t *id, char out[CUTOFF_LEN],
    uint64_t *seq)
{
	uint8_t hash[PROTO_HASHLEN] = { 0 };
	char hex[2 * PROTO_HASHLEN + 1];
	int rc = store_head_get(t, id, seq, hash);

	if (rc != 0 && rc != STORE_ENOTFOUND)
		return rc;
	if (rc == STORE_ENOTFOUND) {
		*seq = 0;
		memset(hash, 0, sizeof(hash));
	}
	sodium_bin2hex(hex, sizeof(hex), hash, PROTO_HASHLEN);
	snprintf(out, CUTOFF_LEN, "%llu:%s", (unsigned long long)*seq, hex);
	return 0;
}

int
cmd_member_role(struct device *d, struct args *a)
{
	const char *role = a->pos[1];
	const struct member *m;
	struct member_write w = { .role = role };
	char cutoff[CUTOFF_LEN];
	uint64_t seq;
	uint8_t id[PROTO_IDLEN];
	struct store_txn *t;
	int rc;

	if (strcmp(role, "admin") != 0 && strcmp(role, "teacher") != 0)
		return fail_usage("member role: '%s' is not a role a member can "
		    "be given: admin or teacher", role);
	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return device_store_error(rc, "member role");
	if ((rc = admin_check(d, t, "member role")) != 0 ||
	    (rc = known_target(d, t, "member role", a->pos[0], id, &m)) != 0)
		goto out;
	if (m->role == MROLE_BOX) {
		rc = fail_usage("member role: %s is the box, which stays a box",
		    a->pos[0]);
		goto out;
	}
	if (strcmp(team_role_name(m->role), role) == 0) {
		rc = fail_usage("member role: %s is already %s %s", a->pos[0],
		    m->role == MROLE_ADMIN ? "an" : "a", role);
		goto out;
	}
	if (m->role == MROLE_ADMIN &&
	    proto_members_admins(team_members(d, t)) <= 1) {
		rc = fail_usage("member role: %s is the team's only admin; make "
		    "another member an admin first", a->pos[0]);
		goto out;
	}
	/* A demotion names the admin's last entry this device holds: its
	 * membership entries after that one count only if they saw the
	 * demotion (members.h). */
	if (m->role == MROLE_ADMIN && (rc = cutoff_of(t, id, cutoff,
	    &seq)) == 0)
		w.cutoff = cutoff;
	if (rc != 0 || (rc = device_member_write(d, t, id, &w)) != 0) {
		rc = device_store_error(rc, "member role");
		goto out;
	}
	if ((rc = store_commit(t)) != 0)
		return device_store_error(rc, "member role");
	fprintf(stderr, "%s is now %s %s\n", a->pos[0], strcmp(role,
	    "admin") == 0 ? "an" : "a", role);
	return 0;
out:
	store_abort(t);
	return rc;
}

/* Called once a removal is written, inside its transaction, before it
 * commits: what else the removal starts (a new key epoch, the exposure
 * report of a lost device) goes here. A nonzero return aborts the
 * removal with that store code. */
int
team_after_remove(struct device *d, struct store_txn *t,
    const uint8_t *removed, int lost)
{
	(void)lost;
	return epoch_rotate(d, t, removed);
}

int
cmd_member_remove(struct device *d, struct args *a)
{
	char cutoff[CUTOFF_LEN];
	uint8_t id[PROTO_IDLEN];
	int lost = args_has(a, "lost"), rc;
	struct member_write w = { .removed = lost ? "lost" : "yes" };
	const struct member *m;
	struct store_txn *t;
	uint64_t seq = 0;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return device_store_error(rc, "member remove");
	if ((rc = admin_check(d, t, "member remove")) != 0 ||
	    (rc = known_target(d, t, "member remove", a->pos[0], id, &m)) != 0)
		goto out;
	if (memcmp(id, d->id, PROTO_IDLEN) == 0) {
		rc = fail_usage("member remove: %s is this device; another "
		    "admin removes it", a->pos[0]);
		goto out;
	}
	/* The cut-off: the last entry of the device this one holds. */
	if ((rc = cutoff_of(t, id, cutoff, &seq)) != 0) {
		rc = device_store_error(rc, "member remove");
		goto out;
	}
	w.cutoff = cutoff;
	if ((rc = device_member_write(d, t, id, &w)) != 0 ||
	    (rc = team_after_remove(d, t, id, lost)) != 0) {
		rc = device_store_error(rc, "member remove");
		goto out;
	}
	if ((rc = store_commit(t)) != 0)
		return device_store_error(rc, "member remove");
	fprintf(stderr, "removed %s from the team: its entries after seq "
	    "%llu are refused by every member\n", a->pos[0],
	    (unsigned long long)seq);
	/* Our own part of the epoch record hands us the new keys. */
	if ((rc = epoch_refresh(d)) != 0)
		return device_store_error(rc, "member remove");
	fprintf(stderr, "key epoch %u begins: what is written from now on is "
	    "sealed under keys it never held\n",
	    (unsigned)epoch_current(d, NULL));
	return lost ? report_lost(d, id) : 0;
out:
	store_abort(t);
	return rc;
}

/* member add with no face (the command line's and the page's): the new
 * member's record and its invite, which *invite receives (the caller
 * frees it); 0, or an exit code after saying why, nothing written. */
int
member_add(struct device *d, const char *id_arg, const char *name, int box,
    int admin, const char *const *addrs, int naddrs, char **invite)
{
	char norm[INVITE_MAX_ADDRS][PEER_ADDR_MAX];
	const char *addr[INVITE_MAX_ADDRS];
	uint8_t invitee[PROTO_IDLEN];
	struct store_txn *t;
	struct write_ref grant;
	const char *role = box ? "box" : admin ? "admin" : "teacher";
	int rc, readd;

	*invite = NULL;
	if ((rc = devid_arg("member add", id_arg, DEVID_CHECKED,
	    invitee)) != 0)
		return rc;
	if (box && admin)
		return fail_usage("member add: --box and --admin: a box is "
		    "never an admin");
	for (int i = 0; i < naddrs && i < INVITE_MAX_ADDRS; i++) {
		if (peer_addr_normalize(addrs[i], norm[i]) != 0)
			return fail_usage("member add: --addr '%s' is not "
			    "HOST[:PORT] (e.g. 192.168.1.20:7420 or "
			    "staffroom.local)", addrs[i]);
		addr[i] = norm[i];
	}
	if (name == NULL || *name == '\0')
		return fail_usage("member add: --name is required (1 to %d "
		    "characters)", NAME_MAX_LEN);
	if (!valid_text(name, NAME_MAX_LEN))
		return fail_usage("member add: --name: %s", text_problem(name,
		    NAME_MAX_LEN, PROTO_TEXT_LINE));
	if (memcmp(invitee, d->id, PROTO_IDLEN) == 0)
		return fail_usage("member add: %s is this device's own id; give "
		    "the id that 'satchel id' prints on the device to add",
		    id_arg);
	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return device_store_error(rc, "member add");
	if ((rc = admin_check(d, t, "member add")) != 0) {
		store_abort(t);
		return rc;
	}
	readd = team_removed(d, t, invitee);
	if ((rc = founder_record(d, t)) != 0 ||
	    (rc = member_add_write(d, t, invitee, name, role)) != 0 ||
	    (rc = epoch_grant(d, t, invitee, box, readd, &grant)) < 0) {
		store_abort(t);
		return device_store_error(rc, "member add");
	}
	if ((*invite = make_invite(d, t, invitee, box, addr, naddrs,
	    rc == 0 ? &grant : NULL)) == NULL) {
		store_abort(t);
		return fail("member add: cannot seal the team key (is %s/team.key "
		    "readable?)", d->dir);
	}
	if ((rc = store_commit(t)) != 0) {
		free(*invite);
		*invite = NULL;
		return device_store_error(rc, "member add");
	}
	return 0;
}

int
cmd_member_add(struct device *d, struct args *a)
{
	const char *addrs[INVITE_MAX_ADDRS], *name = args_get(a, "name");
	char fp[20], *invite;
	int box = args_has(a, "box"), admin = args_has(a, "admin"), rc;
	int naddrs = args_all(a, "addr", addrs, INVITE_MAX_ADDRS);

	if ((rc = member_add(d, a->pos[0], name, box, admin, addrs, naddrs,
	    &invite)) != 0)
		return rc;
	team_fingerprint(d, fp);
	fprintf(stderr, "added %s as %s of team %s; give them this invite:\n",
	    name, box ? "the box" : admin ? "an admin" : "a teacher", fp);
	printf("%s\n", invite);
	free(invite);
	return 0;
}

struct member_walk {
	struct device		*d;
	struct store_txn	*t;
	const struct members	*ms;
	int			 count;
};

/* When this device last heard from id (a handshake or a sync), in ms
 * since the epoch; 0 if never. */
static uint64_t
last_seen(struct store_txn *t, const uint8_t *id)
{
	char key[80], hex[2 * PROTO_IDLEN + 1], buf[128];
	const char *prefixes[] = { "pstat:", "pclock:" };
	unsigned long long a, b;
	uint64_t best = 0;
	const void *v;
	size_t len;

	sodium_bin2hex(hex, sizeof(hex), id, PROTO_IDLEN);
	for (size_t i = 0; i < 2; i++) {
		snprintf(key, sizeof(key), "%s%s", prefixes[i], hex);
		if (store_meta_get(t, key, &v, &len) != 0 ||
		    len >= sizeof(buf))
			continue;
		memcpy(buf, v, len);
		buf[len] = '\0';
		/* pstat: "connected ms ..."; pclock: "offset_ms seen_ms". */
		if (i == 0 && sscanf(buf, "%llu %llu", &a, &b) == 2 &&
		    b > best)
			best = b;
		else if (i == 1 && sscanf(buf, "%lld %llu", (long long *)&a,
		    &b) == 2 && b > best)
			best = b;
	}
	return best;
}

struct receipt_seen {
	const struct device	*d;
	struct store_txn	*t;
	uint64_t		 best;
};

static int
receipt_seen_cb(const uint8_t *device, const uint8_t *writer, uint64_t seq,
    void *arg)
{
	struct receipt_seen *w = arg;
	struct receipt r;

	(void)device;
	if (receipt_read(w->d, w->t, writer, seq, &r) == 0) {
		if (r.synced > w->best)
			w->best = r.synced;
		receipt_free(&r);
	}
	return 0;
}

/* When a member of the team last synced with id, by the receipts held
 * (a laptop that only ever meets the box is seen through the box's); 0
 * if no receipt names it. */
static uint64_t
receipt_seen(const struct device *d, struct store_txn *t, const uint8_t *id)
{
	struct receipt_seen w = { d, t, 0 };

	if (store_receipts_each(t, id, receipt_seen_cb, &w) != 0)
		return 0;
	return w.best;
}

static void
day_of(uint64_t ms, char out[11])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || gmtime_r(&s, &tm) == NULL)
		snprintf(out, 11, "%s", "");
	else
		strftime(out, 11, "%Y-%m-%d", &tm);
}

static void
who_name(struct member_walk *w, const uint8_t *id, char *out, size_t len)
{
	const struct member *m = proto_members_find(w->ms, id);

	if (m != NULL && m->name != NULL)
		snprintf(out, len, "%.*s", (int)m->name_len, m->name);
	else
		devid_format(id, out);
}

static void
json_name(const struct member *m)
{
	char *name = malloc(m->name_len + 1);

	if (name == NULL)
		return;
	memcpy(name, m->name != NULL ? m->name : "", m->name_len);
	name[m->name_len] = '\0';
	json_str(name);
	free(name);
}

static void
member_json(struct member_walk *w, const struct member *m, int joined,
    uint64_t seen)
{
	char hex[2 * PROTO_IDLEN + 1], checked[PROTO_DEVID_LEN + 1];
	char by[PROTO_DEVID_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), m->id, PROTO_IDLEN);
	devid_format(m->id, checked);
	devid_format(m->added_by, by);
	printf("%s{\"device\":\"%s\",\"id\":\"%s\",\"name\":", w->count ?
	    ",\n" : "", hex, checked);
	json_name(m);
	printf(",\"role\":\"%s\",\"founder\":%s,\"added_by\":\"%s\","
	    "\"added_ms\":%llu,\"joined\":%s,\"state\":\"%s\"",
	    team_role_name(m->role), m->founder ? "true" : "false",
	    m->founder ? "" : by, (unsigned long long)proto_hlc_ms(m->added_hlc),
	    joined ? "true" : "false", m->removal ? "removed" : joined ?
	    "joined" : "invited");
	if (m->removal) {
		devid_format(m->removed_by, by);
		printf(",\"removed\":{\"by\":\"%s\",\"ms\":%llu,\"lost\":%s,"
		    "\"cutoff\":%llu}", by,
		    (unsigned long long)proto_hlc_ms(m->removed_hlc),
		    m->removal == MREMOVE_LOST ? "true" : "false",
		    (unsigned long long)m->cutoff_seq);
	}
	printf(",\"last_seen_ms\":%llu}", (unsigned long long)seen);
}

static void
member_line(struct member_walk *w, const struct member *m, int joined,
    uint64_t seen)
{
	char checked[PROTO_DEVID_LEN + 1], who[NAME_MAX_LEN * 4 + 1];
	char day[11];

	devid_format(m->id, checked);
	printf("%s  %-8s %-8s %.*s%s", checked, team_role_name(m->role),
	    m->removal ? "removed" : joined ? "joined" : "invited",
	    (int)m->name_len, m->name != NULL ? m->name : "",
	    memcmp(m->id, w->d->id, PROTO_IDLEN) == 0 ? "  (this device)" :
	    "");
	if (m->founder)
		fputs("  founder", stdout);
	else {
		who_name(w, m->added_by, who, sizeof(who));
		day_of(proto_hlc_ms(m->added_hlc), day);
		printf("  added by %s %s", who, day);
	}
	if (m->removal) {
		who_name(w, m->removed_by, who, sizeof(who));
		day_of(proto_hlc_ms(m->removed_hlc), day);
		printf("; removed%s by %s %s", m->removal == MREMOVE_LOST ?
		    " (lost)" : "", who, day);
	}
	day_of(seen, day);
	if (seen != 0)
		printf("; last seen %s", day);
	putchar('\n');
}

int
cmd_member_list(struct device *d, struct args *a)
{
	struct member_walk w = { d, NULL, NULL, 0 };
	int rc;

	(void)a;
	if ((rc = store_begin(d->st, STORE_RDONLY, &w.t)) != 0)
		return device_store_error(rc, "member list");
	if ((w.ms = team_members(d, w.t)) == NULL) {
		store_abort(w.t);
		return fail("member list: cannot read the team's membership");
	}
	if (d->json)
		fputs("[", stdout);
	for (size_t i = 0; i < w.ms->n; i++) {
		const struct member *m = &w.ms->m[i];
		int joined = member_joined(d, w.t, m->id);
		uint64_t seen = 0, by_receipt = 0;

		if (memcmp(m->id, d->id, PROTO_IDLEN) != 0) {
			seen = last_seen(w.t, m->id);
			by_receipt = receipt_seen(d, w.t, m->id);
		}
		/* Seen by a colleague counts: a device that synced has
		 * joined, though it never wrote anything. */
		joined |= by_receipt != 0;
		if (by_receipt > seen)
			seen = by_receipt;

		/* A team of one shows its founder once it has a record. */
		if (m->founder && m->add_entry < 0 && m->name == NULL &&
		    w.ms->n == 1)
			continue;
		if (d->json)
			member_json(&w, m, joined, seen);
		else
			member_line(&w, m, joined, seen);
		w.count++;
	}
	if (d->json)
		fputs("]\n", stdout);
	store_abort(w.t);
	return 0;
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
	uint8_t *x_sk = secmem_alloc(crypto_box_SECRETKEYBYTES);
	int rc = -1;

	if (x_sk != NULL &&
	    crypto_sign_ed25519_pk_to_curve25519(x_pk, d->id) == 0 &&
	    crypto_sign_ed25519_sk_to_curve25519(x_sk, d->sign_sk) == 0)
		rc = crypto_box_seal_open(secret, inv->sealed,
		    INVITE_SEALEDLEN, x_pk, x_sk);
	secmem_free(x_sk);
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
	    store_records_heads_each(t, KIND_MEMBER, count_record, &n) != 0)
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
	if (epoch_keyring(nd) != 0 ||
	    (learned = secmem_alloc(sizeof(*learned))) == NULL)
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
		if (epoch_keyring(nd) != 0) {
			secmem_free(learned);
			return -1;
		}
	}
	secmem_free(learned);
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
	nd->keyring = secmem_alloc(sizeof(*nd->keyring));
	nd->epochs = secmem_alloc(sizeof(*nd->epochs));
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

	if ((old = secmem_alloc(sizeof(*old))) == NULL)
		return STORE_ENOMEM;
	if ((rc = store_begin(nd->st, 0, &t)) != 0) {
		secmem_free(old);
		return rc;
	}
	rc = vouch_put(nd, t, (const uint8_t *)hello->data, hello->size);
	for (size_t i = 0; rc == 0 && i < inv->naddrs; i++)
		rc = put_peer(t, inv->addrs[i], inv->inviter);
	if (rc == 0)
		rc = join_epochs(nd, path, sizeof(path), old);
	if (rc != 0) {
		store_abort(t);
		secmem_free(old);
		return rc;
	}
	if ((rc = device_save_team(nd, t, inv->team_id, inv->founder, secret,
	    inv->box)) != 0 && (old->n > 0 ? epochs_write(path, old) :
	    unlink(path)) != 0 && errno != ENOENT)
		fprintf(stderr, "satchel: %s could not be put back\n", path);
	secmem_free(old);
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

	if ((secret = secmem_alloc(PROTO_KEYLEN)) == NULL)
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
	secmem_free(nd.keyring);
	secmem_free(nd.epochs);
	secmem_free(secret);
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
	char addr[PEER_ADDR_MAX];
	int rc;

	if (peer_addr_normalize(a->pos[0], addr) != 0)
		return fail_usage("peer add: '%s' is not HOST[:PORT] (e.g. "
		    "192.168.1.20:7420 or box.school.lan)", a->pos[0]);
	if (a->npos > 1 && (rc = devid_arg("peer add", a->pos[1], DEVID_ANY,
	    id)) != 0)
		return rc;
	if ((rc = add_peer(d, addr, a->npos > 1 ? id : NULL)) != 0)
		return device_store_error(rc, "peer add");
	return 0;
}

int
cmd_peer_remove(struct device *d, struct args *a)
{
	struct store_txn *t;
	const void *v;
	size_t len;
	char key[96], addr[PEER_ADDR_MAX];
	int rc;

	/* As added: "box.school.lan" is "box.school.lan:7420". */
	if (peer_addr_normalize(a->pos[0], addr) != 0)
		snprintf(addr, sizeof(addr), "%.*s", PEER_ADDR_MAX - 1,
		    a->pos[0]);
	snprintf(key, sizeof(key), "peer:%s", addr);
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

struct peer_listing {
	struct device	*d;
	int		 count;
};

static void
peer_line(struct peer_listing *pl, const char *addr, int alen,
    const uint8_t *id, const char *how)
{
	char hex[2 * PROTO_IDLEN + 1] = "", checked[PROTO_DEVID_LEN + 1] = "";

	if (id != NULL) {
		sodium_bin2hex(hex, sizeof(hex), id, PROTO_IDLEN);
		devid_format(id, checked);
	}
	if (pl->d->json)
		printf("%s{\"addr\":\"%.*s\",\"device\":\"%s\",\"id\":"
		    "\"%s\",\"found\":\"%s\"}", pl->count++ ? ",\n" : "",
		    alen, addr, hex, checked, how);
	else
		printf("%-24.*s %-9s %s\n", alen, addr, how,
		    *checked ? checked : "(device not known yet)");
}

/* peer:<addr> = id: added with peer add or by an invite. */
static int
peer_list_cb(const char *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	peer_line(arg, key + 5, (int)(klen - 5), vlen == PROTO_IDLEN ? val :
	    NULL, "added");
	return 0;
}

/* found:<hex id> = "ms addr": heard on the LAN by a running serve. */
static int
found_list_cb(const char *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	const char *sp = memchr(val, ' ', vlen);
	uint8_t id[PROTO_IDLEN];

	if (sp == NULL || klen != 6 + 2 * PROTO_IDLEN || sodium_hex2bin(id,
	    sizeof(id), key + 6, 2 * PROTO_IDLEN, NULL, NULL, NULL) != 0)
		return 0;
	peer_line(arg, sp + 1, (int)(vlen - (size_t)(sp + 1 -
	    (const char *)val)), id, "lan");
	return 0;
}

int
cmd_peer_list(struct device *d, struct args *a)
{
	struct peer_listing pl = { d, 0 };
	struct store_txn *t;
	int rc;

	(void)a;
	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		return device_store_error(rc, "peer list");
	if (d->json)
		fputs("[", stdout);
	if ((rc = store_meta_each(t, "peer:", peer_list_cb, &pl)) == 0)
		rc = store_meta_each(t, "found:", found_list_cb, &pl);
	if (d->json)
		fputs("]\n", stdout);
	store_abort(t);
	return rc == 0 ? 0 : device_store_error(rc, "peer list");
}
