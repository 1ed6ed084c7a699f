/*
 * A forked log, from this device's side. A laptop restored from a backup,
 * or a data folder copied to a second laptop, that wrote before it synced
 * has two branches of one log; every device freezes it at the fork point
 * (store/fork.c), so its changes past that point reach no one. This file
 * says so, and `satchel fork repair` carries those changes back into the
 * team under a fresh device identity that joins as any new device does.
 *
 *	DIR/identity.forked-<old id, 12 hex>.key   the old identity, kept
 *	DIR/identity.new.key			    the new one, until the
 *						    store names it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "satchel.h"

/* 1 if this device's own log is frozen; *fseq is the fork point. */
int
fork_self(struct device *d, struct store_txn *t, uint64_t *fseq)
{
	return store_fork_get(t, d->id, fseq) == 0;
}

/* The one line a forked device prints, for sync, status and writes. */
void
fork_self_line(char *out, size_t len, uint64_t fseq)
{
	snprintf(out, len, "this device's log has forked (restored from a "
	    "backup or copied from another laptop?): its changes after seq "
	    "%llu no longer reach the team; run 'satchel fork repair'",
	    (unsigned long long)fseq);
}

int
fork_self_check(struct device *d)
{
	struct store_txn *t;
	uint64_t fseq = 0;
	char line[256];
	int forked = 0;

	if (store_begin(d->st, STORE_RDONLY, &t) == 0) {
		forked = fork_self(d, t, &fseq);
		store_abort(t);
	}
	if (!forked)
		return 0;
	fork_self_line(line, sizeof(line), fseq);
	fprintf(stderr, "satchel: %s\n", line);
	return 1;
}

/* ---- fork repair ---- */

#define REPAIR_MAX	65536	/* entries past a fork one repair carries */

/* One entry past the fork, on whichever branch. */
struct rw {
	uint8_t		*env;		/* owned copy */
	size_t		 len;
	uint64_t	 seq;
	uint8_t		 hash[PROTO_HASHLEN];
	uint8_t		 prev[PROTO_HASHLEN];
	uint64_t	 new_seq;	/* its re-written entry, 0 if none */
};

struct repair {
	struct device	*d;
	struct rw	*w;
	size_t		 n, cap;
	int		 rc;
};

static int
collect(const uint8_t *env, size_t len, void *arg)
{
	struct repair *r = arg;
	struct envelope e;
	struct rw *w;
	uint8_t hash[PROTO_HASHLEN];

	if (proto_envelope_decode(&e, env, len) != 0) {
		r->rc = STORE_EIO;
		return 1;
	}
	proto_envelope_hash(&e, hash);
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->w[i].hash, hash, PROTO_HASHLEN) == 0)
			return 0;	/* in the log and kept aside both */
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		void *p = cap > REPAIR_MAX ? NULL :
		    realloc(r->w, cap * sizeof(*r->w));

		if (p == NULL) {
			r->rc = STORE_ENOMEM;
			return 1;
		}
		r->w = p;
		r->cap = cap;
	}
	w = &r->w[r->n];
	memset(w, 0, sizeof(*w));
	if ((w->env = malloc(len)) == NULL) {
		r->rc = STORE_ENOMEM;
		return 1;
	}
	memcpy(w->env, env, len);
	w->len = len;
	w->seq = e.seq;
	memcpy(w->hash, hash, PROTO_HASHLEN);
	memcpy(w->prev, e.prev_hash, PROTO_HASHLEN);
	r->n++;
	return 0;
}

static int
rw_cmp(const void *a, const void *b)
{
	const struct rw *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return memcmp(x->hash, y->hash, PROTO_HASHLEN);
}

/* The log's branch past the fork, then every entry kept aside, in seq
 * order: each entry comes after the one it chains to. */
static int
collect_all(struct repair *r, struct store_txn *t, uint64_t fseq)
{
	uint8_t hash[PROTO_HASHLEN];
	uint64_t head;
	int rc;

	if ((rc = store_head_get(t, r->d->id, &head, hash)) != 0)
		return rc;
	for (uint64_t seq = fseq + 1; seq <= head && r->rc == 0; seq++) {
		const uint8_t *env;
		size_t len;

		if ((rc = store_log_get(t, r->d->id, seq, &env, &len)) != 0)
			return rc;
		collect(env, len, r);
	}
	if (r->rc == 0 && (rc = store_fork_kept_each(t, r->d->id, collect,
	    r)) != 0)
		return rc;
	if (r->rc != 0)
		return r->rc;
	qsort(r->w, r->n, sizeof(*r->w), rw_cmp);
	return 0;
}

/* The re-written seq of the entry at seq on the branch of w: walks back
 * along w's chain. 0 if that entry was not re-written. */
static uint64_t
mapped(const struct repair *r, size_t at, uint64_t seq)
{
	const uint8_t *want = r->w[at].prev;
	uint64_t s = r->w[at].seq;

	if (seq == s)
		return r->w[at].new_seq;
	for (size_t i = at; i-- > 0 && s > seq;) {
		if (r->w[i].seq != s - 1 ||
		    memcmp(r->w[i].hash, want, PROTO_HASHLEN) != 0)
			continue;
		s--;
		if (s == seq)
			return r->w[i].new_seq;
		want = r->w[i].prev;
	}
	return 0;
}

/* Writes of the old identity past the fork, named by a change, become
 * the re-written ones on the same branch. */
static void
map_preds(const struct repair *r, size_t at, struct change *c,
    const uint8_t *old_id, const uint8_t *new_id, uint64_t fseq)
{
	for (size_t i = 0; i < c->nops; i++)
		for (size_t j = 0; j < c->ops[i].npreds; j++) {
			struct write_ref *p = &c->ops[i].preds[j];
			uint64_t s;

			if (memcmp(p->author, old_id, PROTO_IDLEN) != 0 ||
			    p->seq <= fseq)
				continue;
			if ((s = mapped(r, at, p->seq)) == 0)
				continue;
			memcpy(p->author, new_id, PROTO_IDLEN);
			p->seq = s;
		}
}

/* Re-writes one entry under the new identity; sets *skipped if it cannot
 * be (no key opens it, or a membership change, which only `member`
 * commands make). */
static int
rewrite_one(struct repair *r, struct store_txn *t, size_t at,
    const struct store_author *a0, uint64_t fseq, int *skipped)
{
	const struct store_key *k;
	struct store_author a = *a0;
	struct write_ref ref;
	struct envelope e;
	struct change *c;
	uint8_t *pt;
	int rc;

	*skipped = 0;
	if (proto_envelope_decode(&e, r->w[at].env, r->w[at].len) != 0)
		return STORE_EIO;
	k = store_keyring_find(r->d->keyring, e.key_id);
	if ((rc = store_open_entry(r->d->keyring, &e, &c, &pt)) != 0 ||
	    c == NULL || c->kind == KIND_MEMBER || c->kind == KIND_KEYS ||
	    c->kind == KIND_RECEIPT || k == NULL) {
		free(c);
		free(pt);
		*skipped = 1;
		return rc == STORE_ENOMEM ? rc : 0;
	}
	a.key = k;
	a.scope = e.scope;
	map_preds(r, at, c, e.author, a.id, fseq);
	rc = store_append_local(t, &a, c, now_ms(), &ref);
	if (rc == 0)
		r->w[at].new_seq = ref.seq;
	free(c);
	free(pt);
	return rc;
}

static void
repair_free(struct repair *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->w[i].env);
	free(r->w);
}

static int
keep_old_key(struct device *d)
{
	char hex[2 * PROTO_IDLEN + 1], name[64], path[4200];

	sodium_bin2hex(hex, sizeof(hex), d->id, PROTO_IDLEN);
	snprintf(name, sizeof(name), "identity.forked-%.12s.key", hex);
	if (device_keyfile(d, name, path, sizeof(path)) != 0)
		return -1;
	return keyfile_write(path, d->sign_sk, PROTO_SKLEN);
}

/* Re-writes, in one transaction, every entry past the fork under the new
 * identity (new_pk, new_sk), and names the new identity in the store. */
static int
rewrite_all(struct device *d, struct repair *r, const uint8_t *new_pk,
    const uint8_t *new_sk, size_t *done, size_t *skipped)
{
	struct store_author a = { new_pk, new_sk, NULL, SCOPE_TEAM };
	struct store_txn *t;
	uint64_t fseq;
	int rc, skip;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return rc;
	if (!fork_self(d, t, &fseq)) {
		store_abort(t);
		return STORE_ENOTFOUND;
	}
	if ((rc = collect_all(r, t, fseq)) != 0)
		goto fail;
	for (size_t i = 0; i < r->n; i++) {
		if ((rc = rewrite_one(r, t, i, &a, fseq, &skip)) != 0)
			goto fail;
		*skipped += skip;
		*done += !skip;
	}
	if ((rc = store_meta_put(t, "device_id", new_pk, PROTO_IDLEN)) != 0)
		goto fail;
	return store_commit(t);
fail:
	store_abort(t);
	return rc;
}

int
cmd_fork_repair(struct device *d, struct args *a)
{
	struct repair r = { d, NULL, 0, 0, 0 };
	uint8_t new_pk[PROTO_IDLEN], *new_sk;
	char hex[2 * PROTO_IDLEN + 1], path[4200], newpath[4200];
	char checked[PROTO_DEVID_LEN + 1];
	size_t done = 0, skipped = 0;
	uint64_t fseq;
	struct store_txn *t;
	int rc, forked = 0;

	(void)a;
	if (d->content == NULL)
		return fail_usage("fork repair: a box writes no notes: make it "
		    "afresh (satchel init --box) and add it again");
	if (store_begin(d->st, STORE_RDONLY, &t) == 0) {
		forked = fork_self(d, t, &fseq);
		store_abort(t);
	}
	if (!forked)
		return fail_usage("fork repair: this device's log has not "
		    "forked (or no peer has told it yet: run satchel sync); "
		    "nothing changed");
	if ((new_sk = secmem_alloc(PROTO_SKLEN)) == NULL)
		return fail("out of memory");
	crypto_sign_keypair(new_pk, new_sk);
	/* The old key stays for reference; the new one waits beside the
	 * store until the store names it (device_open finishes the swap if
	 * this is cut short). */
	rc = -1;
	if (keep_old_key(d) != 0 ||
	    device_keyfile(d, "identity.new.key", newpath,
	    sizeof(newpath)) != 0 ||
	    device_keyfile(d, "identity.key", path, sizeof(path)) != 0 ||
	    keyfile_write(newpath, new_sk, PROTO_SKLEN) != 0) {
		secmem_free(new_sk);
		return fail("fork repair: cannot write keys in %s", d->dir);
	}
	rc = rewrite_all(d, &r, new_pk, new_sk, &done, &skipped);
	secmem_free(new_sk);
	repair_free(&r);
	if (rc != 0) {
		unlink(newpath);
		return device_store_error(rc, "fork repair");
	}
	if (rename(newpath, path) != 0)
		return fail("fork repair: cannot put the new identity in "
		    "place; run any satchel command to finish");
	sodium_bin2hex(hex, sizeof(hex), new_pk, PROTO_IDLEN);
	devid_format(new_pk, checked);
	printf("%s\n", checked);	/* as init and id print it */
	fprintf(stderr, "fork repair: this device is now %.12s; %zu changes "
	    "written after seq %llu were re-written under it", hex, done,
	    (unsigned long long)fseq);
	if (skipped > 0)
		fprintf(stderr, " (%zu membership changes or unreadable "
		    "entries were not: add those members again)", skipped);
	fprintf(stderr, ".\nNext: an admin of the team runs 'satchel member add "
	    "%s --name NAME' and this device runs 'satchel join TOKEN' with "
	    "the token it prints. Until then the re-written changes wait "
	    "here.\n", checked);
	return 0;
}
