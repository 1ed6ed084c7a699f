/*
 * Key epochs, from this device's side.
 *
 * Epoch 0's team secret is the one the team was founded with (team.key;
 * a box holds only its network key, network.key). Removing a member
 * starts epoch n + 1: a new random secret, sealed in one KIND_KEYS record
 * to every member that stays (the box gets only the network key derived
 * from it), written under epoch n's record key so that every member
 * that has not heard of it yet can open it and learn its part. A new
 * member gets the earlier epochs' keys its role may hold in a grant
 * record, which its invite also carries.
 *
 *	DIR/epochs.key	every epoch this device holds, each
 *			[epoch be32][kind 1][start_ms be64][key 32]
 *			(mode 0600); team.key stays the secret it joined with
 *
 * Every key an epoch record hands out is learned here (epoch_refresh),
 * after each commit that may have brought one, and kept: the keyring
 * holds all of them, so history stays readable, and the newest seals
 * what this device writes. The handshake accepts the newest network key
 * and, for EPOCH_GRACE_MS after the newest epoch began, the previous one.
 *
 * Authority: who is removed, and who may start an epoch (an admin, by an
 * entry before any removal of it), is the membership's business
 * (membership.c): epoch_author_ok() asks it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "satchel.h"

#define EPOCH_FILE		"epochs.key"
#define EPOCH_REC_LEN		(4 + 1 + 8 + PROTO_KEYLEN)
#define RECORD_KDF_CONTEXT	"satchelE"	/* 8 bytes: crypto_kdf */
#define RECORD_KDF_ID		1

_Static_assert(3 * EPOCH_MAX <= STORE_KEYRING_MAX, "keyring too small");

/* The record key of an epoch: derived from its network key, which the box
 * holds too, apart from every key the previous release knows. */
static void
record_key(const struct store_key *network, struct store_key *out)
{
	crypto_kdf_derive_from_key(out->key, PROTO_KEYLEN, RECORD_KDF_ID,
	    RECORD_KDF_CONTEXT, network->key);
	proto_key_id(out->key, out->id);
	out->use = KEY_EPOCH;
}

/* The network key of one epoch as this device holds it. */
static void epoch_network(const struct epoch_key *, struct store_key *);

static void
net_id(const struct epoch_key *k, uint8_t out[PROTO_KEYIDLEN])
{
	struct store_key net;

	epoch_network(k, &net);
	memcpy(out, net.id, PROTO_KEYIDLEN);
	sodium_memzero(&net, sizeof(net));
}

/*
 * The newest epoch: the highest number. Two admins who remove at once
 * both start epoch n + 1, each sealed to the device the other removed;
 * every device holds both and ranks them alike: one sealed to no device
 * since removed first (the one that heals them, see epoch_heal), then by
 * their network keys' ids.
 */
static const struct epoch_key *
newest(const struct epochs *ep)
{
	const struct epoch_key *best = NULL;
	uint8_t a[PROTO_KEYIDLEN], b[PROTO_KEYIDLEN];

	for (size_t i = 0; ep != NULL && i < ep->n; i++) {
		const struct epoch_key *k = &ep->k[i];

		if (best != NULL && k->epoch == best->epoch &&
		    k->tainted != best->tainted) {
			if (!k->tainted)
				best = k;
		} else if (best != NULL && k->epoch == best->epoch) {
			net_id(k, a);
			net_id(best, b);
			if (memcmp(a, b, PROTO_KEYIDLEN) < 0)
				best = k;
		} else if (best == NULL || k->epoch > best->epoch)
			best = k;
	}
	return best;
}

/* The epoch numbered epoch, any of them if two admins started one. */
static struct epoch_key *
held(struct epochs *ep, uint32_t epoch)
{
	for (size_t i = 0; i < ep->n; i++)
		if (ep->k[i].epoch == epoch)
			return &ep->k[i];
	return NULL;
}

/* The epoch whose network key id is id. */
static struct epoch_key *
held_net(struct epochs *ep, uint32_t epoch, const uint8_t *id)
{
	uint8_t have[PROTO_KEYIDLEN];

	for (size_t i = 0; i < ep->n; i++) {
		if (ep->k[i].epoch != epoch)
			continue;
		net_id(&ep->k[i], have);
		if (memcmp(have, id, PROTO_KEYIDLEN) == 0)
			return &ep->k[i];
	}
	return NULL;
}

static void
epoch_network(const struct epoch_key *k, struct store_key *out)
{
	if (k->kind == EPOCH_KEY_SECRET)
		team_keys_derive(k->key, NULL, out);
	else {
		memcpy(out->key, k->key, PROTO_KEYLEN);
		proto_key_id(out->key, out->id);
		out->use = KEY_NETWORK;
	}
}

/* Fills the keyring from the epochs, in place (its address is kept by
 * the store's callers): content (teachers), network and record key of
 * each; d->content, d->network and d->record name the newest. Hands it
 * to the store, which reads records' values back from the log with
 * every key that sealed one. 0, or STORE_ENOMEM. */
int
epoch_keyring(struct device *d)
{
	struct store_keyring *kr = d->keyring;
	const struct epoch_key *top = newest(d->epochs);

	kr->nkeys = 0;
	d->content = d->network = d->record = NULL;
	for (size_t i = 0; i < d->epochs->n; i++) {
		const struct epoch_key *k = &d->epochs->k[i];
		struct store_key *content = NULL, *network, *rec;

		if (k->kind == EPOCH_KEY_SECRET)
			content = &kr->keys[kr->nkeys++];
		network = &kr->keys[kr->nkeys++];
		rec = &kr->keys[kr->nkeys++];
		if (content != NULL)
			team_keys_derive(k->key, content, network);
		else
			epoch_network(k, network);
		record_key(network, rec);
		if (k == top) {
			d->content = content;
			d->network = network;
			d->record = rec;
		}
	}
	/* Whoever holds the network key reads and writes receipts. */
	d->receipt = NULL;
	if (d->network != NULL && kr->nkeys < STORE_KEYRING_MAX) {
		d->receipt = &kr->keys[kr->nkeys++];
		receipt_key_of(d->network, d->receipt);
	}
	/* And erase records, so that a box drops what they name: those of
	 * every epoch held, as an erase stays in force (room permitting;
	 * the newest first). */
	d->erase = NULL;
	if (d->network != NULL && kr->nkeys < STORE_KEYRING_MAX) {
		d->erase = &kr->keys[kr->nkeys++];
		erase_key_of(d->network, d->erase);
	}
	for (size_t i = 0, n = kr->nkeys; i < n &&
	    kr->nkeys < STORE_KEYRING_MAX; i++)
		if (kr->keys[i].use == KEY_NETWORK && &kr->keys[i] != d->network)
			erase_key_of(&kr->keys[i], &kr->keys[kr->nkeys++]);
	recovery_keyring(d);
	return d->st != NULL ? store_set_keyring(d->st, kr) : 0;
}

static int
epoch_path(const struct device *d, char *out, size_t len)
{
	return device_keyfile(d, EPOCH_FILE, out, len);
}

/* Reads DIR/epochs.key into ep (which it empties first); a missing file
 * is no epochs. -1 if it is damaged or readable by others. */
int
epochs_read(const char *path, struct epochs *ep)
{
	uint8_t *buf = secmem_alloc(EPOCH_MAX * EPOCH_REC_LEN);
	size_t len = 0;
	int rc = -1;

	ep->n = 0;
	if (buf == NULL)
		return -1;
	if (keyfile_read_var(path, buf, EPOCH_MAX * EPOCH_REC_LEN, &len) !=
	    0) {
		rc = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (len % EPOCH_REC_LEN != 0)
		goto out;
	for (size_t off = 0; off < len; off += EPOCH_REC_LEN) {
		struct epoch_key *k = &ep->k[ep->n++];
		const uint8_t *p = buf + off;

		k->epoch = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
		k->kind = p[4];
		k->start_ms = 0;
		for (int i = 0; i < 8; i++)
			k->start_ms = k->start_ms << 8 | p[5 + i];
		memcpy(k->key, p + 13, PROTO_KEYLEN);
		if (k->kind != EPOCH_KEY_SECRET && k->kind != EPOCH_KEY_NETWORK)
			goto out;
	}
	rc = 0;
out:
	secmem_free(buf);
	return rc;
}

int
epochs_write(const char *path, const struct epochs *ep)
{
	uint8_t *buf = secmem_alloc(EPOCH_MAX * EPOCH_REC_LEN + 1);
	int rc = -1;

	if (buf == NULL)
		return -1;
	for (size_t i = 0; i < ep->n; i++) {
		const struct epoch_key *k = &ep->k[i];
		uint8_t *p = buf + i * EPOCH_REC_LEN;

		p[0] = (uint8_t)(k->epoch >> 24);
		p[1] = (uint8_t)(k->epoch >> 16);
		p[2] = (uint8_t)(k->epoch >> 8);
		p[3] = (uint8_t)k->epoch;
		p[4] = k->kind;
		for (int j = 0; j < 8; j++)
			p[5 + j] = (uint8_t)(k->start_ms >> (56 - 8 * j));
		memcpy(p + 13, k->key, PROTO_KEYLEN);
	}
	rc = keyfile_write(path, buf, ep->n * EPOCH_REC_LEN);
	secmem_free(buf);
	return rc;
}

/* Adds k unless that epoch (its number and network key) is held; 1 if
 * added. A teacher's secret replaces a network key held alone. */
int
epochs_add(struct epochs *ep, const struct epoch_key *k)
{
	struct epoch_key *have;
	uint8_t id[PROTO_KEYIDLEN];

	net_id(k, id);
	if ((have = held_net(ep, k->epoch, id)) != NULL) {
		if (have->kind == EPOCH_KEY_NETWORK &&
		    k->kind == EPOCH_KEY_SECRET) {
			*have = *k;
			return 1;
		}
		if (have->start_ms == 0 && k->start_ms != 0)
			have->start_ms = k->start_ms;
		return 0;
	}
	if (ep->n == EPOCH_MAX)
		return 0;
	ep->k[ep->n++] = *k;
	return 1;
}

/* Loads this device's epochs: epochs.key, and the secret it joined with
 * (team.key, or a box's network.key), which is epoch 0 unless epochs.key
 * already holds it. Builds the keyring. 0, or -1. */
int
epoch_load(struct device *d, const uint8_t *secret, int box)
{
	struct epoch_key base;
	char path[4200];
	int found = 0;

	if ((d->epochs = secmem_alloc(sizeof(*d->epochs))) == NULL)
		return -1;
	memset(d->epochs, 0, sizeof(*d->epochs));
	if (epoch_path(d, path, sizeof(path)) != 0 ||
	    epochs_read(path, d->epochs) != 0)
		return -1;
	if (secret != NULL) {
		for (size_t i = 0; i < d->epochs->n; i++)
			found |= sodium_memcmp(d->epochs->k[i].key, secret,
			    PROTO_KEYLEN) == 0;
		memset(&base, 0, sizeof(base));
		base.kind = box ? EPOCH_KEY_NETWORK : EPOCH_KEY_SECRET;
		memcpy(base.key, secret, PROTO_KEYLEN);
		if (!found && held(d->epochs, 0) == NULL)
			epochs_add(d->epochs, &base);
		sodium_memzero(&base, sizeof(base));
	}
	return epoch_keyring(d) == 0 ? 0 : -1;
}

const struct epoch_key *
epoch_top(const struct device *d)
{
	return newest(d->epochs);
}

uint32_t
epoch_current(const struct device *d, uint64_t *start_ms)
{
	const struct epoch_key *top = newest(d->epochs);

	if (start_ms != NULL)
		*start_ms = top != NULL ? top->start_ms : 0;
	return top != NULL ? top->epoch : 0;
}

/*
 * The other network keys a handshake or a bundle is taken under while
 * the newest epoch is younger than EPOCH_GRACE_MS at now, so that a
 * member that has not heard of it yet can still connect and learn it:
 * the previous epoch's, then (after two removals at once) those of the
 * newest epoch's number that rank below it. 1 and the i-th of them in
 * out; 0 past the last, or once the grace period is over.
 */
int
epoch_grace_key(const struct device *d, uint64_t now, size_t i,
    struct store_key *out)
{
	const struct epoch_key *top = newest(d->epochs);

	if (top == NULL || top->epoch == 0 ||
	    now >= top->start_ms + EPOCH_GRACE_MS)
		return 0;
	/* Untainted first: the one every member holds, after two removals
	 * at once (a bundle is made under the first). */
	for (int pass = 0; pass < 4; pass++) {
		uint32_t want = pass < 2 ? top->epoch - 1 : top->epoch;

		for (size_t j = 0; j < d->epochs->n; j++) {
			const struct epoch_key *k = &d->epochs->k[j];

			if (k == top || k->epoch != want ||
			    k->tainted != (pass % 2) || i-- > 0)
				continue;
			epoch_network(k, out);
			return 1;
		}
	}
	return 0;
}

/* ---- reading epoch records ---- */

/* The record r's epoch record decoded into *ep (allocated; the caller
 * frees it and *buf, from which it borrows). -1 if it holds none. */
static int
record_epoch(const struct record *r, struct proto_epoch **ep, uint8_t **buf)
{
	const struct rec_register *reg = record_register(r, "keys");
	size_t len;

	*ep = NULL;
	*buf = NULL;
	if (reg == NULL || reg->nheads == 0 ||
	    (*buf = malloc(reg->heads[0].value_len + 1)) == NULL ||
	    (*ep = malloc(sizeof(**ep))) == NULL)
		goto fail;
	if (sodium_base642bin(*buf, reg->heads[0].value_len + 1,
	    reg->heads[0].value, reg->heads[0].value_len, NULL, &len, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    proto_epoch_decode(*ep, *buf, len) != 0)
		goto fail;
	return 0;
fail:
	free(*ep);
	free(*buf);
	*ep = NULL;
	*buf = NULL;
	return -1;
}

/* Whether the entry author:seq may hand out keys: an admin's, written
 * before any removal of it (its cut-off). */
int
epoch_author_ok(struct device *d, struct store_txn *t, const uint8_t *author,
    uint64_t seq)
{
	const struct members *ms = team_members(d, t);
	const struct member *m = proto_members_find(ms, author);

	return m != NULL && m->role == MROLE_ADMIN &&
	    proto_members_takes(ms, author, seq);
}

/* Whether the epoch record ep hands this device anything it lacks. A
 * grant's newest epoch is named by its network key, not its number: an
 * admin re-added by another, who each removed the other meanwhile, holds
 * an epoch of that number already, its own, and lacks the other's. */
static int
brings_news(const struct device *d, const struct proto_epoch *ep)
{
	if (held_net(d->epochs, ep->epoch, ep->net_id) == NULL)
		return 1;
	for (uint32_t e = 0; ep->what == EPOCH_GRANT && e <= ep->epoch &&
	    e < EPOCH_MAX; e++)
		if (held(d->epochs, e) == NULL)
			return 1;
	return 0;
}

/* Opens this device's part of ep, if any, into d->epochs; the new
 * epoch's start is its record's clock. The number of epochs added. */
static int
learn(const struct device *d, struct epochs *into,
    const struct proto_epoch *ep, uint64_t start_ms)
{
	struct proto_epoch_key *keys;
	struct store_key net;
	size_t n = 0;
	int added = 0;

	if ((keys = secmem_alloc(PROTO_EPOCH_MAX_KEYS *
	    sizeof(*keys))) == NULL)
		return 0;
	for (size_t i = 0; i < ep->nrecipients; i++) {
		if (memcmp(ep->recipients[i].id, d->id, PROTO_IDLEN) != 0)
			continue;
		if (proto_epoch_open(keys, PROTO_EPOCH_MAX_KEYS, &n,
		    ep->recipients[i].sealed, ep->recipients[i].sealed_len,
		    d->id, d->sign_sk) != 0)
			n = 0;
		break;
	}
	for (size_t i = 0; i < n; i++) {
		struct epoch_key k;

		k.epoch = keys[i].epoch;
		k.kind = keys[i].kind;
		k.start_ms = ep->what == EPOCH_NEW && k.epoch == ep->epoch ?
		    start_ms : 0;
		memcpy(k.key, keys[i].key, PROTO_KEYLEN);
		epoch_network(&k, &net);
		/* The key of the epoch the record names must be that one. */
		if (k.epoch == ep->epoch &&
		    memcmp(net.id, ep->net_id, PROTO_KEYIDLEN) != 0)
			continue;
		added += epochs_add(into, &k);
		sodium_memzero(&k, sizeof(k));
	}
	sodium_memzero(&net, sizeof(net));
	secmem_free(keys);
	return added;
}

struct refresh {
	struct device	*d;
	struct store_txn *t;
	int		 added;
	int		 dated;		/* a start learned: save */
};

static int
refresh_cb(const struct record *r, void *arg)
{
	struct refresh *rf = arg;
	const struct rec_register *reg = record_register(r, "keys");
	struct proto_epoch *ep;
	struct epoch_key *k;
	uint8_t *buf;

	if (reg == NULL || reg->nheads == 0 || record_epoch(r, &ep, &buf) != 0)
		return 0;
	if (epoch_author_ok(rf->d, rf->t, reg->heads[0].ref.author,
	    reg->heads[0].ref.seq) && brings_news(rf->d, ep))
		rf->added += learn(rf->d, rf->d->epochs, ep,
		    proto_hlc_ms(reg->heads[0].hlc));
	/* An epoch first learned from a grant has no start: its own record
	 * gives it, so that its grace period runs from there. */
	else if (ep->what == EPOCH_NEW &&
	    (k = held_net(rf->d->epochs, ep->epoch, ep->net_id)) != NULL &&
	    k->start_ms == 0) {
		k->start_ms = proto_hlc_ms(reg->heads[0].hlc);
		rf->dated = 1;
	}
	free(ep);
	free(buf);
	return 0;
}

/* Marks the epoch an EPOCH_NEW record started if it was sealed to a
 * device that is no member now. */
static int
taint_cb(const struct record *r, void *arg)
{
	struct refresh *rf = arg;
	const struct rec_register *reg = record_register(r, "keys");
	struct proto_epoch *ep;
	struct epoch_key *k;
	uint8_t *buf;

	if (reg == NULL || reg->nheads == 0 || record_epoch(r, &ep, &buf) != 0)
		return 0;
	/* An epoch whose author was since cut off before it (a removal
	 * that lost to another) counts as tainted too: members that heard
	 * of the winning removal first never got its keys, so nothing is
	 * written, and no bundle made, under it. */
	if (ep->what == EPOCH_NEW &&
	    (k = held_net(rf->d->epochs, ep->epoch, ep->net_id)) != NULL) {
		k->tainted = !proto_members_takes(team_members(rf->d, rf->t),
		    reg->heads[0].ref.author, reg->heads[0].ref.seq);
		for (size_t i = 0; i < ep->nrecipients && !k->tainted; i++)
			k->tainted = !team_is_member(rf->d, rf->t,
			    ep->recipients[i].id, NULL);
	}
	free(ep);
	free(buf);
	return 0;
}

/* Whether an entry is held unread under a key of kr that old lacks. */
static int
unread_under(struct store_txn *t, const struct store_keyring *kr,
    const struct store_keyring *old)
{
	for (size_t i = 0; i < kr->nkeys; i++)
		if (store_keyring_find(old, kr->keys[i].id) == NULL &&
		    store_unread_has(t, kr->keys[i].id))
			return 1;
	return 0;
}

/* Takes the epochs another process of this device learned and saved
 * (an import while serve runs): the grants that bring the next ones may
 * be sealed under them, and the store reads records' values with the
 * keyring. How many were new, or STORE_ENOMEM. */
static int
merge_saved(struct device *d)
{
	struct epochs *saved = secmem_alloc(sizeof(*saved));
	char path[4200];
	int n = 0;

	if (saved == NULL)
		return STORE_ENOMEM;
	if (epoch_path(d, path, sizeof(path)) == 0 &&
	    epochs_read(path, saved) == 0)
		for (size_t i = 0; i < saved->n; i++)
			n += epochs_add(d->epochs, &saved->k[i]);
	secmem_free(saved);
	if (n > 0 && epoch_keyring(d) != 0)
		return STORE_ENOMEM;
	return n;
}

/* One pass over the epoch records: keys learned into d (saved and in the
 * keyring), removals noted. *rebuild is set when entries held unread can
 * now be opened, *added to the number of epochs learned. */
static int
refresh_pass(struct device *d, int *rebuild, int *added)
{
	struct store_keyring *old;
	struct refresh *rf;
	struct store_txn *t;
	char path[4200];
	int rc;

	*rebuild = *added = 0;
	if ((old = secmem_alloc(sizeof(*old))) == NULL)
		return STORE_ENOMEM;
	*old = *d->keyring;
	if ((rf = calloc(1, sizeof(*rf))) == NULL) {
		secmem_free(old);
		return STORE_ENOMEM;
	}
	rf->d = d;
	if ((rc = merge_saved(d)) < 0) {
		free(rf);
		secmem_free(old);
		return rc;
	}
	rf->added = rc;
	if ((rc = store_begin(d->st, STORE_RDONLY, &rf->t)) != 0) {
		free(rf);
		secmem_free(old);
		return rc;
	}
	t = rf->t;
	rc = store_records_each(t, KIND_KEYS, refresh_cb, rf);
	if (rc == 0) {
		for (size_t i = 0; i < d->epochs->n; i++)
			d->epochs->k[i].tainted = 0;
		rc = store_records_each(t, KIND_KEYS, taint_cb, rf);
	}
	if (rc == 0) {
		/* The newest may be another now, and the next pass reads
		 * grants sealed under what this one learned. */
		rc = epoch_keyring(d);
	}
	if (rc == 0) {
		if ((*added = rf->added) > 0)
			*rebuild = unread_under(t, d->keyring, old);
	}
	secmem_free(old);
	store_abort(t);
	if (rc == 0 && (rf->added > 0 || rf->dated) && (epoch_path(d, path,
	    sizeof(path)) != 0 || epochs_write(path, d->epochs) != 0))
		rc = STORE_EIO;
	free(rf);
	return rc;
}

/* After a rebuild with every key held, the marks of those keys are
 * stale: what they marked is read. Another process then rebuilds only
 * for keys it learns that still mark something. */
static int
unread_forget(struct device *d)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < d->keyring->nkeys; i++)
		rc = store_unread_forget(t, d->keyring->keys[i].id);
	if (rc != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

/*
 * Learns what the epoch records held hand this device, after a commit
 * that may have brought some. Entries that arrived before their key are
 * applied by a rebuild from the log, which may in turn open records of a
 * later epoch; a key learned may open membership entries (a re-add
 * sealed under it) that make another admin's epoch record count: so it
 * goes round until nothing new is learned.
 */
int
epoch_refresh(struct device *d)
{
	int rc, rebuild, added;

	if (d->epochs == NULL || d->keyring == NULL)
		return 0;
	for (int round = 0; round < EPOCH_MAX; round++) {
		if ((rc = refresh_pass(d, &rebuild, &added)) != 0)
			return rc;
		if (!rebuild && added == 0)
			break;
		if (!rebuild)
			continue;
		if ((rc = store_rebuild(d->st, d->keyring)) != 0 ||
		    (rc = unread_forget(d)) != 0)
			return rc;
	}
	/* Every removal starts an epoch: a team that never left epoch 0
	 * has no cut-off to settle. */
	if (d->epochs->n < 2 || d->cache == NULL)
		return 0;
	return (rc = team_settle_cuts(d)) < 0 || rc > 1 ? rc : 0;
}

/* ---- writing epoch records ---- */

static int
write_record(struct device *d, struct store_txn *t,
    const struct proto_epoch *ep, const struct store_key *key,
    struct write_ref *ref)
{
	struct store_author a = { d->id, d->sign_sk, key, SCOPE_TEAM };
	uint8_t id[PROTO_RECIDLEN];
	msgpack_sbuffer sb;
	struct change c;
	char *b64 = NULL;
	size_t b64len;
	uint64_t fseq;
	int rc = STORE_ENOMEM;

	if (key == NULL)
		return STORE_EBADENTRY;
	if (fork_self(d, t, &fseq))
		return STORE_EFORK;
	msgpack_sbuffer_init(&sb);
	if (proto_epoch_encode(ep, &sb) != 0) {
		rc = STORE_EINVALID;
		goto out;
	}
	b64len = sodium_base64_ENCODED_LEN(sb.size,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((b64 = malloc(b64len)) == NULL)
		goto out;
	sodium_bin2base64(b64, b64len, (const uint8_t *)sb.data, sb.size,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	randombytes_buf(id, sizeof(id));
	change_init(&c, KIND_KEYS, id);
	if (change_set(&c, NULL, "keys", b64) == 0)
		rc = store_append_local(t, &a, &c, now_ms(), ref);
out:
	free(b64);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* One recipient's part: keys sealed to it, the buffer kept in bufs. */
static int
add_part(struct proto_epoch *ep, uint8_t **bufs, const uint8_t *id,
    const struct proto_epoch_key *keys, size_t n)
{
	struct proto_epoch_part *p;
	size_t len;

	if (ep->nrecipients == PROTO_EPOCH_MAX_RECIPIENTS)
		return -1;
	p = &ep->recipients[ep->nrecipients];
	if ((bufs[ep->nrecipients] = malloc(PROTO_EPOCH_MAX_SEALED)) == NULL ||
	    proto_epoch_seal(bufs[ep->nrecipients], PROTO_EPOCH_MAX_SEALED,
	    &len, keys, n, id) != 0)
		return -1;
	memcpy(p->id, id, PROTO_IDLEN);
	p->sealed = bufs[ep->nrecipients++];
	p->sealed_len = len;
	return 0;
}

/* A box's copy of a key: the network key of a teacher's secret. */
static void
box_key(const struct epoch_key *k, struct proto_epoch_key *out)
{
	struct store_key net;

	epoch_network(k, &net);
	out->epoch = k->epoch;
	out->kind = EPOCH_KEY_NETWORK;
	memcpy(out->key, net.key, PROTO_KEYLEN);
	sodium_memzero(&net, sizeof(net));
}

struct rotate {
	struct device	*d;
	struct store_txn *t;
	struct proto_epoch *ep;
	uint8_t		**bufs;
	const uint8_t	*removed;
	struct proto_epoch_key secret, network;
	int		 self, failed;
};

static int
rotate_cb(const struct record *r, void *arg)
{
	struct rotate *ro = arg;
	const char *dev = record_get(r, "device");
	uint8_t id[PROTO_IDLEN];
	char role[16] = "";
	size_t len;

	if (dev == NULL || sodium_hex2bin(id, sizeof(id), dev, strlen(dev),
	    NULL, &len, NULL) != 0 || len != PROTO_IDLEN ||
	    memcmp(id, ro->removed, PROTO_IDLEN) == 0 ||
	    !team_is_member(ro->d, ro->t, id, role))
		return 0;
	if (memcmp(id, ro->d->id, PROTO_IDLEN) == 0)
		ro->self = 1;
	if (add_part(ro->ep, ro->bufs, id, strcmp(role, "box") == 0 ?
	    &ro->network : &ro->secret, 1) != 0) {
		ro->failed = 1;
		return 1;
	}
	return 0;
}

static void
parts_free(struct proto_epoch *ep, uint8_t **bufs)
{
	for (size_t i = 0; ep != NULL && i < ep->nrecipients; i++)
		free(bufs[i]);
	free(bufs);
	free(ep);
}

/*
 * Starts the next epoch inside the caller's transaction t: a new secret,
 * sealed to every member but removed (a box gets its network key only),
 * this device included, in a record under the current epoch's record
 * key. Returns a store code; the keys are learned from the record once
 * it is committed (epoch_refresh), so a failed commit leaves no key.
 */
static int
rotate_to(struct device *d, struct store_txn *t, const uint8_t *removed,
    uint32_t epoch)
{
	struct rotate ro = { .d = d, .t = t, .removed = removed };
	struct epoch_key k = { .kind = EPOCH_KEY_SECRET };
	struct store_key net;
	int rc = STORE_ENOMEM;

	if (d->epochs->n == EPOCH_MAX)
		return STORE_EFULL;
	k.epoch = epoch;
	crypto_kdf_keygen(k.key);
	ro.secret.epoch = ro.network.epoch = k.epoch;
	ro.secret.kind = EPOCH_KEY_SECRET;
	memcpy(ro.secret.key, k.key, PROTO_KEYLEN);
	box_key(&k, &ro.network);
	epoch_network(&k, &net);
	if ((ro.ep = calloc(1, sizeof(*ro.ep))) == NULL ||
	    (ro.bufs = calloc(PROTO_EPOCH_MAX_RECIPIENTS,
	    sizeof(*ro.bufs))) == NULL)
		goto out;
	ro.ep->what = EPOCH_NEW;
	ro.ep->epoch = k.epoch;
	memcpy(ro.ep->net_id, net.id, PROTO_KEYIDLEN);
	ro.ep->has_removed = 1;
	memcpy(ro.ep->removed, removed, PROTO_IDLEN);
	if ((rc = store_records_each(t, KIND_MEMBER, rotate_cb, &ro)) != 0)
		goto out;
	rc = STORE_ENOMEM;
	if (ro.failed || (!ro.self && add_part(ro.ep, ro.bufs, d->id,
	    &ro.secret, 1) != 0))
		goto out;
	rc = write_record(d, t, ro.ep, d->record, NULL);
out:
	parts_free(ro.ep, ro.bufs);
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(&ro.secret, sizeof(ro.secret));
	sodium_memzero(&ro.network, sizeof(ro.network));
	sodium_memzero(&net, sizeof(net));
	return rc;
}

int
epoch_rotate(struct device *d, struct store_txn *t, const uint8_t *removed)
{
	return rotate_to(d, t, removed, epoch_current(d, NULL) + 1);
}

struct holds {
	struct device		*d;
	const uint8_t		*member;
	const struct epoch_key	*best;
};

/* An epoch record that sealed a part to the member: it holds that epoch
 * (a removal's new one, or a grant's newest), if it got the record. */
static int
holds_cb(const struct record *r, void *arg)
{
	struct holds *h = arg;
	const struct epoch_key *k;
	struct proto_epoch *ep;
	uint8_t *buf, a[PROTO_KEYIDLEN], b[PROTO_KEYIDLEN];

	if (record_epoch(r, &ep, &buf) != 0)
		return 0;
	for (size_t i = 0; i < ep->nrecipients; i++) {
		if (memcmp(ep->recipients[i].id, h->member, PROTO_IDLEN) != 0 ||
		    (k = held_net(h->d->epochs, ep->epoch, ep->net_id)) == NULL)
			continue;
		if (h->best != NULL && k->epoch == h->best->epoch) {
			net_id(k, a);
			net_id(h->best, b);
			if (memcmp(a, b, PROTO_KEYIDLEN) < 0)
				h->best = k;
		} else if (h->best == NULL || k->epoch > h->best->epoch)
			h->best = k;
	}
	free(ep);
	free(buf);
	return 0;
}

/*
 * The record key of the newest epoch a device added again is known to
 * hold (one an epoch record sealed to it, or epoch 0, which every member
 * got), into out: 1, or 0 if none is held here.
 */
static int
readd_key(struct device *d, struct store_txn *t, const uint8_t *member,
    struct store_key *out)
{
	struct holds h = { d, member, NULL };
	struct store_key net;

	if (store_records_each(t, KIND_KEYS, holds_cb, &h) != 0)
		return 0;
	if (h.best == NULL && (h.best = held(d->epochs, 0)) == NULL)
		return 0;
	epoch_network(h.best, &net);
	record_key(&net, out);
	sodium_memzero(&net, sizeof(net));
	return 1;
}

/*
 * Grants a new member (or one added again) every epoch's keys its role
 * may hold, inside the caller's transaction: a record under the current
 * record key, which the invite carries too (ref names it). A device added
 * again (readd) may not join with the invite but hear of its re-add by
 * sync or bundle, holding only the epochs it had: a second grant goes
 * under the newest record key it is known to hold, so that it learns the
 * epochs it missed and can read its re-add (two admins who removed and
 * re-added each other while apart each learn the other's epoch so). A
 * team that never changed epoch needs none: 1 and nothing written. Else
 * a store code.
 */
int
epoch_grant(struct device *d, struct store_txn *t, const uint8_t *member,
    int box, int readd, struct write_ref *ref)
{
	struct store_key old;
	struct proto_epoch_key *keys;
	const struct epoch_key *top = newest(d->epochs);
	struct proto_epoch *ep = NULL;
	uint8_t **bufs = NULL;
	struct store_key net;
	size_t n = 0;
	int rc = STORE_ENOMEM;

	if (top == NULL || d->epochs->n < 2)
		return 1;
	memset(&old, 0, sizeof(old));
	if ((keys = secmem_alloc(EPOCH_MAX * sizeof(*keys))) == NULL)
		return STORE_ENOMEM;
	for (size_t i = 0; i < d->epochs->n; i++, n++) {
		const struct epoch_key *k = &d->epochs->k[i];

		if (box || k->kind != EPOCH_KEY_SECRET)
			box_key(k, &keys[n]);
		else {
			keys[n].epoch = k->epoch;
			keys[n].kind = k->kind;
			memcpy(keys[n].key, k->key, PROTO_KEYLEN);
		}
	}
	if ((ep = calloc(1, sizeof(*ep))) == NULL ||
	    (bufs = calloc(1, sizeof(*bufs))) == NULL)
		goto out;
	ep->what = EPOCH_GRANT;
	ep->epoch = top->epoch;
	epoch_network(top, &net);
	memcpy(ep->net_id, net.id, PROTO_KEYIDLEN);
	sodium_memzero(&net, sizeof(net));
	/* Asked before the grant below is written, which names the newest. */
	readd = readd && d->record != NULL && readd_key(d, t, member, &old) &&
	    memcmp(old.id, d->record->id, PROTO_KEYIDLEN) != 0;
	if (add_part(ep, bufs, member, keys, n) == 0)
		rc = write_record(d, t, ep, d->record, ref);
	if (rc == 0 && readd)
		rc = write_record(d, t, ep, &old, NULL);
	sodium_memzero(&old, sizeof(old));
out:
	parts_free(ep, bufs);
	secmem_free(keys);
	return rc;
}

/*
 * What an invite's grant hands the device joining: nd is this device as
 * it will be in the invite's team, its keyring holding the invite's key.
 * Each proof sealed under nd's record key that is a grant with a part for
 * it adds its keys to into. Returns how many were added.
 */
int
epoch_from_invite(struct device *nd, struct epochs *into,
    const uint8_t *const *proofs, const size_t *lens, size_t n)
{
	int added = 0;

	for (size_t i = 0; i < n && nd->record != NULL; i++) {
		struct store_keyring *only;
		struct proto_epoch *ep;
		struct record *r = NULL;
		struct envelope e;
		struct change *c = NULL;
		uint8_t *pt = NULL, *buf;
		uint8_t hash[PROTO_HASHLEN];

		if (proto_envelope_decode(&e, proofs[i], lens[i]) != 0 ||
		    memcmp(e.key_id, nd->record->id, PROTO_KEYIDLEN) != 0)
			continue;
		proto_envelope_hash(&e, hash);
		if (proto_envelope_verify(&e, hash) != 0 ||
		    (only = secmem_alloc(sizeof(*only))) == NULL)
			continue;
		only->nkeys = 1;
		only->keys[0] = *nd->record;
		if (store_open_entry(only, &e, &c, &pt) == 0 && c != NULL &&
		    c->kind == KIND_KEYS && c->nops == 1 &&
		    (r = record_new(KIND_KEYS, c->record_id)) != NULL) {
			struct write_ref wr = { .seq = e.seq };

			memcpy(wr.author, e.author, PROTO_IDLEN);
			proto_envelope_hash(&e, wr.hash);
			wr.has_hash = 1;
			if (record_apply(r, e.hlc, &wr, &c->ops[0], NULL) == 0 &&
			    record_epoch(r, &ep, &buf) == 0) {
				if (ep->what == EPOCH_GRANT)
					added += learn(nd, into, ep, 0);
				free(ep);
				free(buf);
			}
		}
		record_free(r);
		secmem_free(only);
		free(c);
		free(pt);
	}
	return added;
}

static uint64_t
meta_ms(struct store_txn *t, const char *key)
{
	const uint8_t *v;
	size_t len;
	uint64_t ms = 0;

	if (store_meta_get(t, key, (const void **)&v, &len) != 0 || len != 8)
		return 0;
	for (int i = 0; i < 8; i++)
		ms = ms << 8 | v[i];
	return ms;
}

static void
date_of(uint64_t ms, char out[11])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || gmtime_r(&secs, &tm) == NULL)
		snprintf(out, 11, "?");
	else
		strftime(out, 11, "%Y-%m-%d", &tm);
}

/*
 * The keys line of status: the epoch, or what to do when this device's
 * keys no longer get it in (its peers refused its network key since its
 * last handshake that went through) or it was removed. *state is
 * EPOCH_OK, EPOCH_OUTDATED or EPOCH_REMOVED.
 */
void
epoch_status(struct device *d, struct store_txn *t, char *out, size_t len,
    int *state)
{
	const struct member *rm = proto_members_find(team_members(d, t), d->id);
	uint64_t start, refused = meta_ms(t, "keys:refused");
	uint32_t n = epoch_current(d, &start);
	char id[PROTO_DEVID_LEN + 1], when[11], until[11];

	devid_format(d->id, id);
	*state = EPOCH_OK;
	if (rm != NULL && rm->removal != MREMOVE_NONE) {
		*state = EPOCH_REMOVED;
		date_of(proto_hlc_ms(rm->removed_hlc), when);
		snprintf(out, len, "this device was removed from the team on "
		    "%s: it can no longer sync. If that was a mistake, ask an "
		    "admin for a new invite ('satchel member add %s --name "
		    "NAME' on the admin's device), then run 'satchel join "
		    "INVITE' here", when, id);
	} else if (refused != 0 && refused > meta_ms(t, "keys:ok")) {
		*state = EPOCH_OUTDATED;
		date_of(refused, when);
		snprintf(out, len, "this device's team keys are out of date "
		    "(key epoch %u): its peers refused them, last on %s. It "
		    "was offline for more than 30 days, or across more than "
		    "one removal of a member. Ask an admin for a new invite "
		    "('satchel member add %s --name NAME' on the admin's "
		    "device), then run 'satchel join INVITE' here: nothing "
		    "on this device is lost", (unsigned)n, when, id);
	} else if (n == 0)
		snprintf(out, len, "key epoch 0 (no member removed)");
	else {
		date_of(start, when);
		date_of(start + EPOCH_GRACE_MS, until);
		if (start != 0 && now_ms() < start + EPOCH_GRACE_MS)
			snprintf(out, len, "key epoch %u, begun %s; devices "
			    "still on epoch %u are let in until %s", (unsigned)n,
			    when, (unsigned)n - 1, until);
		else
			snprintf(out, len, "key epoch %u, begun %s", (unsigned)n,
			    when);
	}
}

/* ---- two removals at once ---- */

struct heal {
	struct device	*d;
	struct store_txn *t;
	uint8_t		 top_id[PROTO_KEYIDLEN];
	uint32_t	 top_epoch;
	int		 found;
	uint8_t		 stale[PROTO_IDLEN];	/* a recipient no longer a member */
};

static int
heal_cb(const struct record *r, void *arg)
{
	struct heal *h = arg;
	struct proto_epoch *ep;
	uint8_t *buf;

	if (h->found || record_epoch(r, &ep, &buf) != 0)
		return 0;
	if (ep->what == EPOCH_NEW && ep->epoch == h->top_epoch &&
	    memcmp(ep->net_id, h->top_id, PROTO_KEYIDLEN) == 0)
		for (size_t i = 0; i < ep->nrecipients && !h->found; i++)
			if (!team_is_member(h->d, h->t, ep->recipients[i].id,
			    NULL)) {
				memcpy(h->stale, ep->recipients[i].id,
				    PROTO_IDLEN);
				h->found = 1;
			}
	free(ep);
	free(buf);
	return h->found;
}

/*
 * Two removals made at once (by two admins, each before hearing of the
 * other's) start two epochs of one number, each sealed to the device the
 * other removed: what is written under either opens with a removed
 * device's keys. A device that may start epochs and sees that starts a
 * third of the same number, sealed to the members it knows, which ranks
 * above them (see newest): 1 if it did.
 * The daemon, sync and import call it after learning keys; a command
 * that only reads never writes one.
 */
int
epoch_heal(struct device *d)
{
	const struct epoch_key *top = epoch_top(d);
	struct heal h = { .d = d };
	int rc;

	if (top == NULL || !top->tainted || d->content == NULL)
		return 0;
	net_id(top, h.top_id);
	h.top_epoch = top->epoch;
	if ((rc = store_begin(d->st, 0, &h.t)) != 0)
		return rc;
	if (!epoch_author_ok(d, h.t, d->id, UINT64_MAX - 1) ||
	    (rc = store_records_each(h.t, KIND_KEYS, heal_cb, &h)) != 0 ||
	    !h.found) {
		store_abort(h.t);
		return rc;
	}
	/* The same number: a member that missed both removals is one
	 * epoch behind, not two, and still gets in during the grace. */
	if ((rc = rotate_to(d, h.t, h.stale, top->epoch)) != 0) {
		store_abort(h.t);
		return rc;
	}
	if ((rc = store_commit(h.t)) != 0 || (rc = epoch_refresh(d)) != 0)
		return rc;
	return 1;
}
