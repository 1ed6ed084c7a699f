/*
 * satchel serve and satchel sync: the event loop. serve listens, keeps a
 * connection to every peer it knows (reconnecting with backoff), and
 * pushes new entries as soon as they are written, by this process or by
 * any other (a local writer tells it through DIR/serve.sock; it also
 * looks at the store's heads every FALLBACK_MS). sync dials its
 * peers once, exchanges what each side lacks, and exits.
 */
#include <sys/stat.h>

#include <ctype.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"
#include "net.h"
#include "http/http.h"

/* Queues a peer's status for the next tick's write (see net.h). */
static void
status_put(struct server *srv, const uint8_t *id, const char *addr,
    int connected, int synced)
{
	struct peer_event *ev = NULL;

	for (size_t i = 0; i < srv->nevents; i++)
		if (memcmp(srv->events[i].id, id, PROTO_IDLEN) == 0)
			ev = &srv->events[i];
	if (ev == NULL && srv->nevents < PEER_EVENTS_MAX) {
		ev = &srv->events[srv->nevents++];
		memset(ev, 0, sizeof(*ev));
	}
	if (ev == NULL)
		return;		/* advisory only: dropping one is harmless */
	memcpy(ev->id, id, PROTO_IDLEN);
	snprintf(ev->addr, sizeof(ev->addr), "%s", addr);
	ev->connected = connected;
	if (synced) {
		ev->synced = 1;
		ev->when = now_ms();
	}
	server_wake(srv);
}

/*
 * An identity's X25519 key, which its handshake's static key must be:
 * the conversion (a field inversion and a square root, ~0.1 ms) is done
 * once per identity while the server runs, not once per handshake, for
 * a box that a crowd of the same laptops dials all day. 0, or -1 if id
 * is no valid key (not kept).
 */
int
server_x_of(struct server *srv, const uint8_t *id, uint8_t *x)
{
	struct x_of *e;

	for (size_t i = 0; i < srv->nx_of && i < X_OF_MAX; i++)
		if (memcmp(srv->x_of[i].id, id, PROTO_IDLEN) == 0) {
			memcpy(x, srv->x_of[i].x, sizeof(srv->x_of[i].x));
			return 0;
		}
	if (crypto_sign_ed25519_pk_to_curve25519(x, id) != 0)
		return -1;
	e = &srv->x_of[srv->nx_of++ % X_OF_MAX];
	memcpy(e->id, id, PROTO_IDLEN);
	memcpy(e->x, x, sizeof(e->x));
	return 0;
}

void
server_clock_seen(struct server *srv, struct conn *c, uint64_t wall_ms)
{
	struct clock_obs *cs;
	uint64_t now = now_ms();

	if (srv->nclocks == PEER_EVENTS_MAX) {
		clock_peer_seen(srv->d, c->remote, wall_ms, c->addr);
		return;
	}
	cs = &srv->clocks[srv->nclocks++];
	memcpy(cs->id, c->remote, PROTO_IDLEN);
	snprintf(cs->addr, sizeof(cs->addr), "%s", c->addr);
	cs->offset_ms = (int64_t)wall_ms - (int64_t)now;
	cs->at = now;
	server_wake(srv);
}

/* The clocks seen since the last tick, into t. */
static int
clocks_put(struct server *srv, struct store_txn *t)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < srv->nclocks; i++)
		rc = clock_peer_save(t, srv->clocks[i].id,
		    srv->clocks[i].offset_ms, srv->clocks[i].at);
	return rc;
}

/* Once they are saved: if a clock is off now, the log says so, as the
 * peer that connected last (or a one-shot sync's only one) showed it. */
static void
clocks_warn(struct server *srv)
{
	struct clock_verdict v;
	struct store_txn *t;

	if (srv->nclocks == 0 ||
	    store_begin(srv->d->st, STORE_RDONLY, &t) != 0)
		return;
	if (clock_verdict(t, now_ms(), &v) == 0 && v.off)
		net_log("%s: warning: %s", srv->clocks[srv->nclocks - 1].addr,
		    v.text);
	store_abort(t);
}

/* What pstat:<hex id> held before: "connected ms pid addr". */
struct pstat {
	int			connected;
	unsigned long long	ms, pid;
	char			addr[64];
};

static void
pstat_read(struct store_txn *t, const char *key, struct pstat *ps)
{
	const void *v;
	char buf[200];
	size_t len;

	memset(ps, 0, sizeof(*ps));
	if (store_meta_get(t, key, &v, &len) != 0 || len >= sizeof(buf))
		return;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (sscanf(buf, "%d %llu %llu %63s", &ps->connected, &ps->ms, &ps->pid,
	    ps->addr) < 3)
		memset(ps, 0, sizeof(*ps));
}

/* One peer's new status over its old one. The time is that of the last
 * completed sync, never of a connection coming or going; and a one-shot
 * sync beside a running daemon leaves the daemon's connection as it is. */
static void
pstat_merge(const struct server *srv, const struct peer_event *ev,
    const struct pstat *old, char *val, size_t len)
{
	unsigned long long ms = ev->synced ? ev->when : old->ms;

	if (srv->oneshot && old->connected && old->pid > 0 &&
	    old->pid != (unsigned long long)getpid() &&
	    kill((pid_t)old->pid, 0) == 0)
		snprintf(val, len, "%d %llu %llu %s", old->connected, ms,
		    old->pid, old->addr);
	else
		snprintf(val, len, "%d %llu %llu %s", ev->connected, ms,
		    (unsigned long long)getpid(), ev->addr);
}

/* Writes the queued statuses: pstat:<hex id> = "connected ms pid addr",
 * ms the time of the last completed sync (0: none yet). */
/* keys:refused and keys:ok: when a peer last refused our network key,
 * and when a handshake last went through (status reads them). */
static int
keys_status_put(struct server *srv, struct store_txn *t)
{
	uint8_t be[8];
	int rc = 0;

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(srv->keys_refused >> (56 - 8 * i));
	if (srv->keys_refused != 0)
		rc = store_meta_put(t, "keys:refused", be, sizeof(be));
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(srv->keys_ok >> (56 - 8 * i));
	if (rc == 0 && srv->keys_ok != 0)
		rc = store_meta_put(t, "keys:ok", be, sizeof(be));
	srv->keys_refused = srv->keys_ok = 0;
	return rc;
}

/* The queued statuses into t: pstat:<hex id> = "connected ms pid addr",
 * the keys' and the clocks'. */
static int
status_put_all(struct server *srv, struct store_txn *t)
{
	char key[80], hex[2 * PROTO_IDLEN + 1], val[160];
	struct pstat old;
	int rc;

	rc = keys_status_put(srv, t);
	if (rc == 0)
		rc = clocks_put(srv, t);
	for (size_t i = 0; rc == 0 && i < srv->nevents; i++) {
		const struct peer_event *ev = &srv->events[i];

		sodium_bin2hex(hex, sizeof(hex), ev->id, PROTO_IDLEN);
		snprintf(key, sizeof(key), "pstat:%s", hex);
		pstat_read(t, key, &old);
		pstat_merge(srv, ev, &old, val, sizeof(val));
		rc = store_meta_put(t, key, val, strlen(val));
	}
	srv->nevents = 0;
	return rc;
}

/* A peer added by address alone: remember which device answered there
 * (written at the next tick), so status can match the two. */
static void
learn_peer_id(struct target *tg, const uint8_t *id)
{
	memcpy(tg->id, id, PROTO_IDLEN);
	tg->id_known = 1;
	tg->id_unsaved = 1;
}

static void
save_peer_ids(struct server *srv)
{
	struct store_txn *t;
	char key[96];
	int rc = 0, any = 0;

	for (size_t i = 0; i < srv->ntargets; i++)
		any |= srv->targets[i]->id_unsaved;
	if (!any || srv->oneshot || store_begin(srv->d->st, 0, &t) != 0)
		return;
	for (size_t i = 0; rc == 0 && i < srv->ntargets; i++) {
		struct target *tg = srv->targets[i];

		if (!tg->id_unsaved)
			continue;
		snprintf(key, sizeof(key), "peer:%s", tg->addr);
		rc = store_meta_put(t, key, tg->id, PROTO_IDLEN);
		tg->id_unsaved = 0;
	}
	if (rc != 0)
		store_abort(t);
	else if (store_commit(t) != 0)
		net_log("could not record the peers' device ids");
}

/*
 * Two connections between the same pair of devices (each dialled the
 * other, or `satchel sync` runs beside a daemon) are both kept: each
 * syncs, and an entry that arrives twice is a no-op. Choosing one would
 * risk closing a one-shot sync in mid-stream.
 */
void
server_conn_ready(struct server *srv, struct conn *c)
{
	char id[13], name[NAME_MAX_LEN + 1] = "";
	struct store_txn *t;

	short_id(id, c->remote);
	/* A laptop that dials in comes from a new port each time: its
	 * member name is what tells the log's reader who it is. */
	if (store_begin(srv->d->st, STORE_RDONLY, &t) == 0) {
		member_name(srv->d, t, c->remote, name, sizeof(name));
		store_abort(t);
	}
	net_log("%s: connected to %s%s%s%s, %s", c->addr, name, *name ? " (" :
	    "", id, *name ? ")" : "", c->initiator ? "dialled" : "accepted");
	c->ready_at = uv_now(srv->loop);
	if (c->target != NULL && !c->target->id_known)
		learn_peer_id(c->target, c->remote);
	if (!srv->oneshot)	/* a one-shot sync records its end only */
		status_put(srv, c->remote, c->addr, 1, 0);
}

static void server_stop(struct server *);

static int
conn_was_useful(struct server *srv, const struct conn *c)
{
	if (c->disk_full || c->ready_at == 0)
		return 0;
	return c->received > 0 || c->got_bye || c->done ||
	    uv_now(srv->loop) - c->ready_at >= STABLE_MS;
}

/* Closes connections stuck before the handshake's end, and in a one-shot
 * sync any that went quiet. */
static void
reap_stalled(struct server *srv)
{
	uint64_t now = uv_now(srv->loop);
	size_t strangers = 0;
	char addr[64] = "";

	for (struct conn *c = srv->conns; c != NULL; c = c->next) {
		if (c->state == CONN_CLOSED)
			continue;
		if (c->state != CONN_SYNC && now - c->started > HANDSHAKE_MS) {
			/* A flood of strangers gets one line, not one each. */
			if (!c->initiator && !c->authenticated) {
				strangers++;
				snprintf(addr, sizeof(addr), "%s", c->addr);
			}
			conn_close(c, !c->initiator && !c->authenticated ? NULL :
			    "timed out before the handshake ended");
		} else if (srv->oneshot && now - c->last_activity >
		    IDLE_TIMEOUT_MS)
			conn_close(c, "timed out");
	}
	if (strangers == 1)
		net_log("%s: timed out before the handshake ended", addr);
	else if (strangers > 1)
		net_log("closed %zu connections that did not finish the "
		    "handshake within %d s", strangers, HANDSHAKE_MS / 1000);
}

/* A one-shot sync stops once every peer is done with. */
static void
oneshot_check(struct server *srv)
{
	for (size_t i = 0; i < srv->ntargets; i++)
		if (!srv->targets[i]->done)
			return;
	server_stop(srv);
}

/*
 * A peer that closed at our first handshake message did not take our
 * network key. Within a new epoch's grace period it may not have heard
 * of the epoch yet: dial again with each key the grace period takes.
 * Else our key is out of date (status says what to do). 1 if it redials.
 */
static int
redial_prev(struct server *srv, struct conn *c, struct target *tg)
{
	struct store_key prev;
	int more;

	if (c->authenticated) {
		tg->use_prev = 0;
		srv->keys_ok = now_ms();
		return 0;
	}
	if (!c->hs_unanswered)
		return 0;
	more = epoch_grace_key(srv->d, now_ms(), (size_t)tg->use_prev, &prev);
	sodium_memzero(&prev, sizeof(prev));
	if (more) {
		tg->use_prev++;
		tg->next_attempt = 0;
		return 1;
	}
	tg->use_prev = 0;
	srv->keys_refused = now_ms();
	net_log("%s: it did not take this device's network key (key epoch "
	    "%u)", tg->addr, (unsigned)epoch_current(srv->d, NULL));
	return 0;
}

static int64_t entries_left(struct server *);

/* A session that brought entries says so as it ends: serve in its log, a
 * one-shot sync in its progress (a short sync may end between ticks). */
static void
conn_progress_end(struct server *srv, const struct conn *c)
{
	if (c->received == 0)
		return;
	if (!srv->oneshot)
		net_log("%s: received %llu %s, %.1f MB", c->addr,
		    (unsigned long long)c->received, plural(c->received,
		    "entry", "entries"), (double)c->bytes_in / 1e6);
	else if (srv->progress != NULL)
		progress_show(srv->progress, srv->gone_in, srv->gone_bytes,
		    c->done ? 0 : entries_left(srv), "entries");
}

void
server_conn_gone(struct server *srv, struct conn *c)
{
	struct target *tg = c->target;

	server_wake(srv);	/* a redial, a status, a vector to save */
	srv->gone_in += c->received;
	srv->gone_bytes += c->bytes_in;
	srv->gone_sent += c->sent_count;
	conn_progress_end(srv, c);
	if (c->authenticated)
		status_put(srv, c->remote, c->addr, 0, srv->oneshot && c->done);
	if (c->ready_at != 0 && !srv->oneshot && !srv->stopping) {
		char id[13];

		short_id(id, c->remote);
		net_log("%s: %s went away%s", c->addr, id, c->got_bye ?
		    " (it said goodbye)" : "");
	}
	if (tg == NULL)
		return;
	tg->conn = NULL;
	c->target = NULL;
	if (redial_prev(srv, c, tg))
		return;
	if (srv->oneshot) {
		tg->done = 1;
		tg->ok = c->done;
		if (c->done)
			net_log("%s: sync done: %llu %s received, %llu "
			    "sent", tg->addr, (unsigned long long)c->received,
			    plural(c->received, "entry", "entries"),
			    (unsigned long long)c->sent_count);
		oneshot_check(srv);	/* the last one out stops the loop */
		return;
	}
	/* A connection that did some good earns a quick redial; one that
	 * failed or ended at once (a refusal, our full disk) waits longer
	 * each time, up to BACKOFF_MAX_MS. */
	if (conn_was_useful(srv, c))
		tg->backoff = BACKOFF_MIN_MS;
	else if (c->initiator && !c->tcp_up)
		/* Nothing answered (a box restarting, a laptop asleep): a
		 * SYN a second is cheap, and the box is back in use within
		 * a second of its return, not after a long backoff. */
		tg->backoff = DOWN_RETRY_MS;
	else
		tg->backoff = tg->backoff ? tg->backoff * 2 : BACKOFF_MIN_MS;
	if (tg->backoff > BACKOFF_MAX_MS)
		tg->backoff = BACKOFF_MAX_MS;
	tg->next_attempt = uv_now(srv->loop) + tg->backoff;
	if (tg->next_attempt < srv->full_until)
		tg->next_attempt = srv->full_until;
}

/*
 * Our disk is full: close this connection and take no entries until
 * full_until, which doubles each time (capped), so a daemon does not
 * redial every half second to receive the same batch again. Reads and
 * sends go on working; the first batch that fits again resets it.
 */
void
server_disk_full(struct server *srv, struct conn *c)
{
	char why[4400];

	srv->full_backoff = srv->full_backoff ? srv->full_backoff * 2 :
	    FULL_BACKOFF_MIN_MS;
	if (srv->full_backoff > FULL_BACKOFF_MAX_MS)
		srv->full_backoff = FULL_BACKOFF_MAX_MS;
	srv->full_until = uv_now(srv->loop) + srv->full_backoff;
	c->disk_full = 1;
	server_wake(srv);
	snprintf(why, sizeof(why), "cannot take its entries: %s; trying again "
	    "in %llu s", device_strerror(STORE_ENOSPC),
	    (unsigned long long)(srv->full_backoff / 1000));
	conn_close(c, why);
}

void
server_disk_ok(struct server *srv)
{
	if (srv->full_backoff == 0)
		return;
	srv->full_backoff = 0;
	srv->full_until = 0;
	net_log("the disk has room again: taking entries");
}

/* A closed connection's vector of the peer, saved at the next tick: it
 * may close inside a read transaction. Dropped if too many wait (it only
 * spares a later export --for some entries). A later session with the
 * same peer before the tick takes the earlier one's place: the tick
 * writes one receipt about each peer, of what it acknowledged last
 * (several would each replace the one before in the index, and go to
 * every device as entries that say nothing more). */
void
server_keep_vec(struct server *srv, struct conn *c)
{
	struct pending_vec *p = NULL;

	for (size_t i = 0; p == NULL && i < srv->npending; i++)
		if (memcmp(srv->pending[i].id, c->remote, PROTO_IDLEN) == 0) {
			p = &srv->pending[i];
			vec_free(&p->theirs);
		}
	if (p == NULL && srv->npending == VEC_PENDING_MAX)
		return;
	if (p == NULL)
		p = &srv->pending[srv->npending++];
	memcpy(p->id, c->remote, PROTO_IDLEN);
	p->theirs = c->theirs;
	memset(&c->theirs, 0, sizeof(c->theirs));
	c->vec_dirty = 0;
	server_wake(srv);
}

static int	status_due(struct server *);
static int	status_into(struct server *, struct store_txn *);
static void	status_done(struct server *, int);

/* Receipts of what peers acknowledged (receipt.c): for the sessions that
 * ended since the last tick, and for open ones every RECEIPT_EVERY_MS.
 * Run before status_flush, which lets go of the ended sessions'
 * vectors. They are entries of this device's log, so they are committed
 * durably (a lazy commit lost in a power cut, after the entry had gone
 * out, would fork the log), then sent to the peers. */
static void
write_receipts(struct server *srv)
{
	uint64_t now = uv_now(srv->loop), wall = now_ms();
	struct store_txn *t;
	struct receipt_self self = { 0 };
	int rc = 0, n = 0, st, sok, any = srv->npending > 0;

	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		if (c->state == CONN_SYNC && c->have_vector) {
			if (c->receipt_next == 0)
				c->receipt_next = now + RECEIPT_EVERY_MS;
			any |= now >= c->receipt_next;
		}
	if (!any || srv->d->receipt == NULL ||
	    store_begin(srv->d->st, 0, &t) != 0)
		return;
	for (size_t i = 0; rc >= 0 && i < srv->npending; i++)
		n += (rc = receipt_note(srv->d, t, srv->pending[i].id,
		    &srv->pending[i].theirs, wall, 1, &self)) > 0;
	for (struct conn *c = srv->conns; rc >= 0 && c != NULL; c = c->next)
		if (c->state == CONN_SYNC && c->have_vector &&
		    now >= c->receipt_next) {
			c->receipt_next = now + RECEIPT_EVERY_MS;
			n += (rc = receipt_note(srv->d, t, c->remote,
			    &c->theirs, wall, 0, &self)) > 0;
		}
	if (rc < 0 || n == 0) {
		store_abort(t);
		if (rc < 0)
			net_log("could not write a receipt: %s",
			    device_strerror(rc));
		return;
	}
	/* The tick's advisory writes ride along: status_flush would sync
	 * the disk again for them right after (a box's tick in a crowd).
	 * If they fail, the receipts are committed all the same: the
	 * ended sessions' vectors they came from are gone by then, and a
	 * transaction LMDB gave up on fails its commit by itself. */
	st = status_due(srv);
	sok = st && status_into(srv, t) == 0;
	rc = store_commit(t);
	if (st)
		status_done(srv, sok && rc == 0);
	if (rc != 0) {
		net_log("could not write a receipt: %s", device_strerror(rc));
		return;
	}
	server_changed(srv);
}

/* What every peer holds, as far as we know, into t: saved once a tick
 * for all of them instead of a commit per acknowledgement. Lets go of
 * the closed connections' vectors. */
static int
peer_vecs_put(struct server *srv, struct store_txn *t)
{
	int rc = 0;

	for (struct conn *c = srv->conns; rc == 0 && c != NULL; c = c->next)
		if (c->state == CONN_SYNC && c->vec_dirty) {
			rc = vec_save_peer(&c->theirs, t, c->remote);
			c->vec_dirty = 0;
		}
	for (size_t i = 0; i < srv->npending; i++) {
		if (rc == 0)
			rc = vec_save_peer(&srv->pending[i].theirs, t,
			    srv->pending[i].id);
		vec_free(&srv->pending[i].theirs);
	}
	srv->npending = 0;
	return rc;
}

/* The tick's advisory writes are due: statuses, clocks, vectors. */
static int
status_due(struct server *srv)
{
	int any = srv->nevents > 0 || srv->keys_refused != 0 ||
	    srv->keys_ok != 0 || srv->nclocks > 0 || srv->npending > 0;

	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		any |= c->state == CONN_SYNC && c->vec_dirty;
	return any;
}

/* The tick's advisory writes into t: 0, or -1 (what was queued is let
 * go either way: advisory, the next sync says it again). */
static int
status_into(struct server *srv, struct store_txn *t)
{
	int rc = status_put_all(srv, t);

	if (peer_vecs_put(srv, t) != 0 && rc == 0)
		rc = -1;
	/* The next `satchel sync` reads the membership from what this one
	 * keeps, in the commit it makes anyway; without it, it reads the
	 * log, so a failure loses nothing of the status. */
	if (srv->oneshot && rc == 0 && team_view_keep(srv->d, t) != 0)
		net_log("could not keep the membership view for the next "
		    "start (it reads the log instead)");
	return rc;
}

/* After the commit that held them. */
static void
status_done(struct server *srv, int ok)
{
	if (!ok)
		net_log("could not record the peers' status");
	else {
		clocks_warn(srv);
		http_changed(srv->http);	/* the page's sync status */
	}
	srv->nclocks = 0;
}

/*
 * The tick's advisory writes, the peers' statuses and clocks and what
 * each holds, in one lazy commit (a crash may undo it, never corrupt the
 * store): one disk sync a tick for all of them. Run after
 * write_receipts, which reads the closed sessions' vectors, and which
 * takes them into its own durable commit when it writes a receipt.
 */
static void
status_flush(struct server *srv)
{
	struct store_txn *t;
	int rc;

	if (!status_due(srv) || store_begin(srv->d->st, 0, &t) != 0)
		return;
	if ((rc = status_into(srv, t)) != 0)
		store_abort(t);
	if (rc == 0)
		rc = store_commit_lazy(t);
	status_done(srv, rc == 0);
}

/* Entries moved (or a vector showed nothing to move): the peer's last
 * sync is now. Queued, so this costs nothing on the hot path. */
void
server_peer_synced(struct server *srv, struct conn *c)
{
	if (!srv->oneshot)
		status_put(srv, c->remote, c->addr, 1, 1);
}

/* Before the loop polls: what each connection queued this turn is
 * written, one write each. */
static void
wflush_cb(uv_prepare_t *prep)
{
	struct server *srv = prep->data;

	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		if (c->wq != NULL && c->state != CONN_CLOSED)
			conn_flush(c);
	uv_unref((uv_handle_t *)prep);	/* until the next frame */
}

/* The idle callback runs before the prepare one: what this turn queued
 * (our entries, pumped when the peer's vector came with its first
 * batches; acknowledgements) is written before the apply, which takes a
 * signature check per author and a durable commit. A laptop in a crowd
 * at the box otherwise held its new note back until it had checked and
 * committed the whole crowd's notes. */
static void
rx_idle_cb(uv_idle_t *idle)
{
	struct server *srv = idle->data;

	uv_idle_stop(idle);
	wflush_cb(&srv->wflush);
	rx_flush_due(srv);
}

/*
 * Received batches wait for the next loop turn (an idle callback, which
 * also keeps the loop from blocking in its poll meanwhile): whatever the
 * poll brought from every connection by then is applied in one
 * transaction and one durable commit. A box that a crowd of laptops
 * syncs with at once otherwise syncs its disk once per laptop, one after
 * another, while the others' handshakes and acknowledgements wait.
 */
void
server_rx_due(struct server *srv)
{
	uv_idle_start(&srv->rx_idle, rx_idle_cb);
}

/* Something new to send: every connection is pumped from one read of
 * the heads, not one each (a box has a connection per laptop). */
void
server_changed(struct server *srv)
{
	struct pump_view v;
	int any = 0;

	http_changed(srv->http);	/* the open page shows it */
	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		any |= c->state == CONN_SYNC;
	if (!any || pump_view_open(srv, &v) != 0)
		return;
	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		if (c->state == CONN_SYNC)
			conn_pump_view(c, &v);
	pump_view_close(&v);
}

/* "192.168.1.20:7420" or "[fe80::1]:7420": numeric, so that nothing
 * waits on a name lookup. Port 0 only where min_port allows it: a
 * listener may ask the kernel for a free port, a peer has a real one. */
static int
parse_host_port(const char *addr, struct sockaddr_storage *ss, long min_port)
{
	char host[64], *end;
	const char *colon = strrchr(addr, ':');
	size_t hlen;
	long port;

	if (colon == NULL || (hlen = (size_t)(colon - addr)) >= sizeof(host) ||
	    hlen == 0)
		return -1;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || port < min_port ||
	    port > 65535)
		return -1;
	if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		return uv_ip6_addr(host + 1, (int)port,
		    (struct sockaddr_in6 *)ss);
	}
	return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss);
}

static int
parse_addr(const char *addr, struct sockaddr_storage *ss)
{
	return parse_host_port(addr, ss, 1);
}

/* A host name as RFC 1123 allows it: labels of letters, digits and '-',
 * joined by dots. What it resolves to is asked each time it is dialled. */
static int
host_name_ok(const char *h, size_t n)
{
	size_t label = 0, letters = 0;

	if (n == 0 || n > 253 || h[n - 1] == '.' || h[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (h[i] == '.' && label > 0 && h[i - 1] != '-')
			label = 0;
		else if (isalnum((unsigned char)h[i]) || (h[i] == '-' &&
		    label > 0)) {
			letters += isalpha((unsigned char)h[i]) || h[i] == '-';
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	/* Digits and dots alone ("192.168.1.300") are a mistyped address,
	 * not a name to look up. */
	return letters > 0;
}

/* Splits HOST:PORT where HOST is a name: 0 with host and *port set. */
static int
split_host_name(const char *addr, char host[64], int *port)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long p;

	if (colon == NULL || (size_t)(colon - addr) >= 64 ||
	    !host_name_ok(addr, (size_t)(colon - addr)))
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || p < 1 || p > 65535)
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	*port = (int)p;
	return 0;
}

int
peer_addr_normalize(const char *in, char out[PEER_ADDR_MAX])
{
	struct sockaddr_storage ss;
	char host[64];
	size_t n = strlen(in);
	int port;

	/* Without a port, the default one: "box.school.lan", "[fe80::1]". */
	if (n == 0 || n >= PEER_ADDR_MAX - 6)
		return -1;
	if (strchr(in, ':') == NULL || (in[0] == '[' && in[n - 1] == ']'))
		snprintf(out, PEER_ADDR_MAX, "%s:%d", in, SATCHEL_PORT);
	else
		snprintf(out, PEER_ADDR_MAX, "%s", in);
	if (parse_addr(out, &ss) == 0 || split_host_name(out, host, &port) ==
	    0)
		return 0;
	return -1;
}

int
peer_addr_valid(const char *addr)
{
	char norm[PEER_ADDR_MAX];

	return peer_addr_normalize(addr, norm) == 0 &&
	    strcmp(norm, addr) == 0;
}

static void
connect_cb(uv_connect_t *req, int status)
{
	struct conn *c = req->data;

	if (status != 0) {
		if (c->srv->oneshot)
			net_log("%s: cannot connect: %s", c->addr,
			    uv_strerror(status));
		conn_close(c, NULL);
		return;
	}
	c->tcp_up = 1;
	conn_start_handshake(c);
}

static void
dial_to(struct server *srv, struct target *tg,
    const struct sockaddr *sa)
{
	struct conn *c;

	if ((c = conn_new(srv, 1, tg->addr)) == NULL)
		return;
	c->target = tg;
	tg->conn = c;
	c->state = CONN_CONNECTING;
	uv_tcp_init(srv->loop, &c->tcp);
	c->connect_req.data = c;
	if (uv_tcp_connect(&c->connect_req, &c->tcp, sa, connect_cb) != 0)
		conn_close(c, "cannot connect");
}

/* A peer named by host name is looked up each time it is dialled, so a
 * box whose address changed is still found. */
static void
resolved_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct target *tg = req->data;
	struct server *srv = tg->srv;

	tg->resolving = 0;
	if (status != 0 || res == NULL || srv->stopping) {
		if (status != 0 && status != UV_ECANCELED)
			net_log("%s: cannot look up the name: %s; trying "
			    "again in %d s", tg->addr, uv_strerror(status),
			    BACKOFF_MAX_MS / 1000);
		tg->next_attempt = uv_now(srv->loop) + BACKOFF_MAX_MS;
		tg->done = srv->oneshot;
		if (srv->oneshot)
			oneshot_check(srv);
	} else
		dial_to(srv, tg, res->ai_addr);
	uv_freeaddrinfo(res);
}

static void
dial(struct server *srv, struct target *tg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct sockaddr_storage ss;
	char host[64], port[8];
	int p;

	if (parse_addr(tg->addr, &ss) == 0) {
		dial_to(srv, tg, (const struct sockaddr *)&ss);
		return;
	}
	if (split_host_name(tg->addr, host, &p) != 0) {
		net_log("%s: not HOST:PORT; skipped", tg->addr);
		tg->done = 1;
		tg->next_attempt = UINT64_MAX;
		tg->ok = 0;
		return;
	}
	snprintf(port, sizeof(port), "%d", p);
	tg->srv = srv;
	tg->resolve.data = tg;
	tg->resolving = 1;
	if (uv_getaddrinfo(srv->loop, &tg->resolve, resolved_cb, host, port,
	    &hints) != 0) {
		tg->resolving = 0;
		tg->next_attempt = uv_now(srv->loop) + BACKOFF_MAX_MS;
	}
}

static int
half_open(const struct conn *c)
{
	return !c->initiator && c->state != CONN_CLOSED &&
	    c->state != CONN_SYNC;
}

/* Makes room for the new accepted connection c: past either cap, the
 * oldest unfinished handshake (from c's address, or from anywhere) is
 * closed. c is at the head of the list, so it is never the one. */
static void
half_open_admit(struct server *srv, struct conn *c)
{
	for (int per_host = 1; per_host >= 0; per_host--) {
		struct conn *oldest = NULL;
		size_t n = 0;

		for (struct conn *o = srv->conns; o != NULL; o = o->next) {
			if (o == c || !half_open(o) || (per_host &&
			    strcmp(o->host, c->host) != 0))
				continue;
			n++;
			oldest = o;	/* the list is newest first */
		}
		if (n < (per_host ? HALF_OPEN_PER_HOST : HALF_OPEN_MAX))
			continue;
		if (uv_now(srv->loop) - srv->last_evict_log >= 10000) {
			srv->last_evict_log = uv_now(srv->loop);
			net_log("%s: too many unfinished handshakes%s; closing "
			    "the oldest", c->addr, per_host ? " from there" :
			    "");
		}
		conn_close(oldest, NULL);
	}
}

static void
on_connection(uv_stream_t *listener, int status)
{
	struct server *srv = listener->data;
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	char addr[64] = "?", host[48] = "?";
	struct conn *c;

	if (status != 0 || srv->stopping)
		return;
	if ((c = conn_new(srv, 0, "?")) == NULL)
		return;
	server_wake(srv);	/* its handshake deadline */
	uv_tcp_init(srv->loop, &c->tcp);
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c, NULL);
		return;
	}
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET6)
			uv_ip6_name((struct sockaddr_in6 *)&ss, host,
			    sizeof(host));
		else
			uv_ip4_name((struct sockaddr_in *)&ss, host,
			    sizeof(host));
		snprintf(addr, sizeof(addr), "%s:%d", host, ntohs(
		    ((struct sockaddr_in *)&ss)->sin_port));
	}
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	snprintf(c->host, sizeof(c->host), "%s", host);
	half_open_admit(srv, c);
	conn_start_handshake(c);
}

static struct target *
target_add(struct server *srv, const char *addr, const uint8_t *id)
{
	struct target *tg, **p;

	for (size_t i = 0; i < srv->ntargets; i++)
		if (strcmp(srv->targets[i]->addr, addr) == 0) {
			srv->targets[i]->seen = 1;
			srv->targets[i]->removed = 0;
			return srv->targets[i];
		}
	if ((tg = calloc(1, sizeof(*tg))) == NULL)
		return NULL;
	if ((p = realloc(srv->targets, (srv->ntargets + 1) *
	    sizeof(*srv->targets))) == NULL) {
		free(tg);
		return NULL;
	}
	srv->targets = p;
	srv->targets[srv->ntargets++] = tg;
	snprintf(tg->addr, sizeof(tg->addr), "%s", addr);
	if (id != NULL) {
		memcpy(tg->id, id, PROTO_IDLEN);
		tg->id_known = 1;
	}
	tg->seen = 1;
	return tg;
}

static void
targets_free(struct server *srv)
{
	for (size_t i = 0; i < srv->ntargets; i++)
		free(srv->targets[i]);
	free(srv->targets);
	srv->targets = NULL;
	srv->ntargets = 0;
}

static int
peer_cb(const char *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	char addr[64];

	snprintf(addr, sizeof(addr), "%.*s", (int)(klen - 5), key + 5);
	target_add(arg, addr, vlen == PROTO_IDLEN ? val : NULL);
	return 0;
}

/* Re-reads the peer list; `peer add` and `peer remove` may run while we
 * serve. */
static void
load_peers(struct server *srv)
{
	struct store_txn *t;

	for (size_t i = 0; i < srv->ntargets; i++)
		srv->targets[i]->seen = 0;
	if (store_begin(srv->d->st, STORE_RDONLY, &t) != 0)
		return;
	if (store_meta_each(t, "peer:", peer_cb, srv) != 0)
		net_log("cannot read the peer list");
	store_abort(t);
	for (size_t i = 0; i < srv->ntargets; i++) {
		struct target *tg = srv->targets[i];

		if (tg->seen || tg->removed || tg->discovered)
			continue;
		tg->removed = 1;
		if (tg->conn != NULL)
			conn_close(tg->conn, "removed from the peer list");
	}
}

static int
hash_head(const uint8_t *author, uint64_t seq, const uint8_t *hash, void *arg)
{
	crypto_generichash_state *st = arg;
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(seq >> (56 - 8 * i));
	crypto_generichash_update(st, author, PROTO_IDLEN);
	crypto_generichash_update(st, be, sizeof(be));
	crypto_generichash_update(st, hash, PROTO_HASHLEN);
	return 0;
}

/* Notices entries written by any process since the last look. */
static void
check_heads(struct server *srv)
{
	crypto_generichash_state st;
	struct store_txn *t;
	uint8_t h[32];

	if (store_begin(srv->d->st, STORE_RDONLY, &t) != 0)
		return;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	if (store_heads_each(t, hash_head, &st) != 0) {
		store_abort(t);
		return;
	}
	store_abort(t);
	crypto_generichash_final(&st, h, sizeof(h));
	if (memcmp(h, srv->heads_hash, sizeof(h)) != 0) {
		memcpy(srv->heads_hash, h, sizeof(h));
		/* Another process may have brought a key epoch (a removal). */
		if (epoch_refresh(srv->d) != 0 || epoch_heal(srv->d) < 0)
			net_log("could not learn the keys of a new epoch");
		if (erase_refresh(srv->d) != 0)
			net_log("could not apply an erase");
		server_changed(srv);
	}
}

static void tick_cb(uv_timer_t *);

/* A device found on the LAN that is connected already (it dialled us) is
 * not dialled as well. */
static int
connected_to(const struct server *srv, const uint8_t *id)
{
	for (const struct conn *c = srv->conns; c != NULL; c = c->next)
		if (c->state == CONN_SYNC && memcmp(c->remote, id,
		    PROTO_IDLEN) == 0)
			return 1;
	return 0;
}

/* Whether tg is to be dialled once its backoff is over. */
static int
target_waiting(const struct server *srv, const struct target *tg)
{
	return tg->conn == NULL && !tg->done && !tg->removed &&
	    !tg->resolving && !(tg->discovered && connected_to(srv, tg->id));
}

/* Dials every peer whose backoff is over. */
static void
dial_due(struct server *srv)
{
	uint64_t now = uv_now(srv->loop);

	for (size_t i = 0; i < srv->ntargets; i++) {
		struct target *tg = srv->targets[i];

		if (target_waiting(srv, tg) && now >= tg->next_attempt &&
		    now >= srv->full_until)
			dial(srv, tg);
	}
}

/* Where a device was last found, for `peer list`: found:<hex id> =
 * "ms addr". */
static void
save_found(struct server *srv, const uint8_t *id, const char *addr)
{
	char key[80], hex[2 * PROTO_IDLEN + 1], val[96];
	struct store_txn *t;

	if (store_begin(srv->d->st, 0, &t) != 0)
		return;
	sodium_bin2hex(hex, sizeof(hex), id, PROTO_IDLEN);
	snprintf(key, sizeof(key), "found:%s", hex);
	snprintf(val, sizeof(val), "%llu %s", (unsigned long long)now_ms(),
	    addr);
	if (store_meta_put(t, key, val, strlen(val)) != 0)
		store_abort(t);
	else if (store_commit_lazy(t) != 0)
		net_log("could not record the peers found on the LAN");
}

void
server_discovered(struct server *srv, const uint8_t *id, const char *addr)
{
	struct target *tg = NULL;
	char sid[13];

	if (srv->stopping || srv->oneshot || memcmp(id, srv->d->id,
	    PROTO_IDLEN) == 0)
		return;
	for (size_t i = 0; i < srv->ntargets && tg == NULL; i++)
		if (srv->targets[i]->id_known && !srv->targets[i]->removed &&
		    memcmp(srv->targets[i]->id, id, PROTO_IDLEN) == 0)
			tg = srv->targets[i];
	short_id(sid, id);
	if (tg == NULL) {
		if ((tg = target_add(srv, addr, id)) == NULL)
			return;
		tg->discovered = 1;
		net_log("%s: found %s on the LAN", addr, sid);
		save_found(srv, id, addr);
	} else if (tg->discovered && strcmp(tg->addr, addr) != 0) {
		net_log("%s: %s moved here from %s", addr, sid, tg->addr);
		snprintf(tg->addr, sizeof(tg->addr), "%s", addr);
		save_found(srv, id, addr);
	}
	/* It is up now: whatever backoff it earned while away is over. */
	tg->backoff = 0;
	tg->next_attempt = 0;
	dial_due(srv);
	server_wake(srv);
}

/* Another process wrote: look at the heads (and the peer list, which
 * `peer add` changes) now, not at the next fallback check. */
void
server_local_write(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->last_check = uv_now(srv->loop);
	if (!srv->oneshot)
		load_peers(srv);
	check_heads(srv);
	dial_due(srv);
	server_wake(srv);	/* a new peer's status, a first dial */
}

static uint64_t
later(uint64_t due, uint64_t now)
{
	return due > now ? due - now : 0;
}

/* Milliseconds until the tick has something to do: TICK_MS while writes
 * to the store are queued (they are batched, not made one by one), else
 * the nearest handshake deadline, redial or fallback check. An idle
 * daemon wakes only for the fallback. */
static uint64_t
tick_delay(struct server *srv)
{
	uint64_t now = uv_now(srv->loop), d;
	int queued = srv->nevents > 0 || srv->npending > 0 ||
	    srv->nclocks > 0;

	if (srv->oneshot)
		return TICK_MS;
	d = later(srv->last_check + FALLBACK_MS, now);
	for (size_t i = 0; i < srv->ntargets; i++) {
		struct target *tg = srv->targets[i];
		uint64_t at = tg->next_attempt > srv->full_until ?
		    tg->next_attempt : srv->full_until;

		queued |= tg->id_unsaved;
		if (target_waiting(srv, tg) && later(at, now) < d)
			d = later(at, now);
	}
	for (struct conn *c = srv->conns; c != NULL; c = c->next) {
		if (c->state == CONN_SYNC)
			queued |= c->vec_dirty;
		else if (c->state != CONN_CLOSED &&
		    later(c->started + HANDSHAKE_MS + 1, now) < d)
			d = later(c->started + HANDSHAKE_MS + 1, now);
	}
	if (queued && d > TICK_MS)
		d = TICK_MS;
	return d < 10 ? 10 : d;
}

/* Something will be due within TICK_MS: bring the tick forward. */
void
server_wake(struct server *srv)
{
	if (srv->stopping || srv->oneshot ||
	    uv_timer_get_due_in(&srv->tick) <= TICK_MS)
		return;
	uv_timer_start(&srv->tick, tick_cb, TICK_MS, 0);
}

/* Entries the connected peers hold that this device lacks, as their
 * vectors say; -1 until one has sent its vector. */
static int64_t
entries_left(struct server *srv)
{
	struct store_txn *t;
	struct vec ours = { 0 };
	int64_t left = -1;

	if (store_begin(srv->d->st, STORE_RDONLY, &t) != 0)
		return -1;
	if (vec_from_heads(&ours, t) == 0)
		for (struct conn *c = srv->conns; c != NULL; c = c->next) {
			if (c->state != CONN_SYNC || !c->have_vector)
				continue;
			left = left < 0 ? 0 : left;
			for (size_t i = 0; i < c->theirs.n; i++) {
				uint64_t o = vec_seq(&ours,
				    c->theirs.items[i].author);

				if (c->theirs.items[i].seq > o)
					left += (int64_t)(c->theirs.items[i].seq
					    - o);
			}
		}
	store_abort(t);
	vec_free(&ours);
	return left;
}

/* A one-shot sync's progress line; serve's log line for a long transfer
 * (one every progress_log_ms() while entries keep coming). */
static void
progress_tick(struct server *srv)
{
	uint64_t in = srv->gone_in, bytes = srv->gone_bytes;
	uint64_t now = uv_now(srv->loop);

	for (struct conn *c = srv->conns; c != NULL; c = c->next) {
		in += c->received;
		bytes += c->bytes_in;
		if (srv->oneshot || c->state != CONN_SYNC ||
		    c->received == c->logged_received)
			continue;
		if (c->logged_at == 0)
			c->logged_at = c->ready_at;
		if (now - c->logged_at < progress_log_ms())
			continue;
		net_log("%s: receiving: %llu %s so far, %.1f MB",
		    c->addr, (unsigned long long)c->received,
		    plural(c->received, "entry", "entries"),
		    (double)c->bytes_in / 1e6);
		c->logged_at = now;
		c->logged_received = c->received;
	}
	if (srv->progress != NULL && progress_due(srv->progress))
		progress_show(srv->progress, in, bytes, entries_left(srv),
		    "entries");
}

/* Bytes received and entries sent so far, closed connections' too. */
static uint64_t
traffic(const struct server *srv)
{
	uint64_t n = srv->gone_bytes + srv->gone_sent;

	for (const struct conn *c = srv->conns; c != NULL; c = c->next)
		if (c->state != CONN_CLOSED)	/* else counted in gone_* */
			n += c->bytes_in + c->sent_count;
	return n;
}

/* At the first tick FALLBACK_MS or more after the last traffic, a
 * sync's memory goes back: each connection's buffers, and the free
 * memory glibc's heap keeps (malloc_trim). An idle daemon's heap is then
 * 1-14 MB after a 20,000-note sync (idle_bench), where it kept 38-84 MB,
 * whether its peers stay connected or not. Costs no wake-up of its own: when nothing happens,
 * ticks come every FALLBACK_MS. */
static void
heap_idle(struct server *srv)
{
	uint64_t t = traffic(srv), now = uv_now(srv->loop);

	if (t != srv->heap_traffic) {
		srv->heap_traffic = t;
		srv->heap_moved = now;
		srv->heap_dirty = 1;
		return;
	}
	if (!srv->heap_dirty || now - srv->heap_moved < FALLBACK_MS)
		return;
	srv->heap_dirty = 0;
	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		conn_heap_idle(c);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	net_log("idle: the last sync's buffers are given back");
}

static void
tick_cb(uv_timer_t *timer)
{
	struct server *srv = timer->data;
	uint64_t now = uv_now(srv->loop);

	if (srv->stopping)
		return;
	if (srv->oneshot || srv->last_check == 0 ||
	    now - srv->last_check >= FALLBACK_MS) {
		srv->last_check = now;
		if (!srv->oneshot)
			load_peers(srv);
		check_heads(srv);
	}
	dial_due(srv);
	reap_stalled(srv);
	progress_tick(srv);
	save_peer_ids(srv);
	write_receipts(srv);
	/* A one-shot sync records its statuses as it ends (server_run):
	 * one disk sync for the whole session. */
	if (!srv->oneshot)
		status_flush(srv);
	if (srv->oneshot)
		oneshot_check(srv);
	else
		heap_idle(srv);
	if (!srv->stopping)
		uv_timer_start(&srv->tick, tick_cb, tick_delay(srv), 0);
}

static void
notify_closed(uv_handle_t *h)
{
	free(h);
}

/* A local process committed: one connection per write, nothing to read. */
static void
on_notify(uv_stream_t *listener, int status)
{
	struct server *srv = listener->data;
	uv_pipe_t *p;

	if (status != 0 || (p = malloc(sizeof(*p))) == NULL)
		return;
	uv_pipe_init(srv->loop, p, 0);
	if (uv_accept(listener, (uv_stream_t *)p) == 0)
		server_local_write(srv);
	uv_close((uv_handle_t *)p, notify_closed);
}

/*
 * Listens on DIR/serve.sock (mode 0600) for local writers' notices. One
 * that answers means another daemon serves this directory: refused. One
 * that does not is a killed daemon's leftover: replaced. Returns 0, or
 * -1 after saying why; without the socket the fallback check still runs.
 */
static int
notify_listen(struct server *srv)
{
	char path[4096];
	int rc;

	if (device_notify_path(srv->d, path, sizeof(path)) != 0) {
		net_log("data directory path too long for %s; local writes "
		    "are seen within %d s", "serve.sock", FALLBACK_MS / 1000);
		return 0;
	}
	if (device_notify_probe(path) == 0) {
		fail("serve: another satchel serve is running on %s",
		    srv->d->dir);
		return -1;
	}
	(void)unlink(path);
	uv_pipe_init(srv->loop, &srv->notify, 0);
	srv->notify.data = srv;
	if ((rc = uv_pipe_bind(&srv->notify, path)) != 0 ||
	    (rc = chmod(path, 0600) != 0 ? -errno : 0) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&srv->notify, 64, on_notify)) !=
	    0) {
		net_log("cannot listen on %s: %s; local writes are seen "
		    "within %d s", path, uv_strerror(rc), FALLBACK_MS / 1000);
		uv_close((uv_handle_t *)&srv->notify, NULL);
		return 0;
	}
	srv->notifying = 1;
	return 0;
}

static void
stop_timer_cb(uv_timer_t *timer)
{
	struct server *srv = timer->data;

	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		conn_close(c, NULL);	/* a peer that stopped reading */
	uv_close((uv_handle_t *)&srv->stop_timer, NULL);
}

/* Says goodbye to every peer, then closes everything; what has not gone
 * quietly within STOP_GRACE_MS is closed anyway. */
static void
server_stop(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = 1;
	writer_wait(srv);	/* its acknowledgements before the goodbyes */
	discovery_stop(srv);
	for (struct conn *c = srv->conns; c != NULL; c = c->next) {
		if (c->state == CONN_SYNC)
			conn_bye(c);
		else
			conn_close(c, NULL);
	}
	if (srv->listening)
		uv_close((uv_handle_t *)&srv->listener, NULL);
	http_stop(srv->http);
	srv->http = NULL;
	if (srv->notifying)	/* libuv unlinks the socket it bound */
		uv_close((uv_handle_t *)&srv->notify, NULL);
	keys_serve_stop();
	uv_close((uv_handle_t *)&srv->tick, NULL);
	uv_close((uv_handle_t *)&srv->sigterm, NULL);
	uv_close((uv_handle_t *)&srv->sigint, NULL);
	uv_timer_start(&srv->stop_timer, stop_timer_cb, STOP_GRACE_MS, 0);
	uv_unref((uv_handle_t *)&srv->stop_timer);
}

static void
signal_cb(uv_signal_t *sig, int signum)
{
	struct server *srv = sig->data;

	net_log("stopping (signal %d)", signum);
	server_stop(srv);
}

static int
server_init(struct server *srv, struct device *d, int oneshot)
{
	memset(srv, 0, sizeof(*srv));
	srv->d = d;
	srv->oneshot = oneshot;
	srv->loop = uv_default_loop();
	if ((srv->x_sk = secmem_alloc(crypto_scalarmult_curve25519_BYTES)) ==
	    NULL ||
	    crypto_sign_ed25519_sk_to_curve25519(srv->x_sk, d->sign_sk) != 0) {
		secmem_free(srv->x_sk);
		return -1;
	}
	uv_timer_init(srv->loop, &srv->tick);
	srv->tick.data = srv;
	uv_idle_init(srv->loop, &srv->rx_idle);
	srv->rx_idle.data = srv;
	uv_prepare_init(srv->loop, &srv->wflush);
	srv->wflush.data = srv;
	uv_prepare_start(&srv->wflush, wflush_cb);
	uv_unref((uv_handle_t *)&srv->wflush);	/* keeps nothing alive */
	uv_timer_init(srv->loop, &srv->stop_timer);
	srv->stop_timer.data = srv;
	uv_signal_init(srv->loop, &srv->sigterm);
	uv_signal_init(srv->loop, &srv->sigint);
	srv->sigterm.data = srv->sigint.data = srv;
	uv_signal_start(&srv->sigterm, signal_cb, SIGTERM);
	uv_signal_start(&srv->sigint, signal_cb, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void
server_run(struct server *srv)
{
	uv_timer_start(&srv->tick, tick_cb, 0, 0);
	uv_run(srv->loop, UV_RUN_DEFAULT);
	writer_stop(srv);	/* its thread, idle: a commit keeps the loop */
	if (!uv_is_closing((uv_handle_t *)&srv->stop_timer))
		uv_close((uv_handle_t *)&srv->stop_timer, NULL);
	uv_close((uv_handle_t *)&srv->rx_idle, NULL);
	uv_close((uv_handle_t *)&srv->wflush, NULL);
	uv_run(srv->loop, UV_RUN_DEFAULT);
	save_peer_ids(srv);
	write_receipts(srv);
	status_flush(srv);
	pump_cache_free(srv);
	uv_loop_close(srv->loop);
	secmem_free(srv->x_sk);
	srv->x_sk = NULL;
}

/* The address the listener really got, as HOST:PORT: with port 0 the
 * kernel picked the port, and this is how anyone learns it. */
static int
bound_addr(struct server *srv, char *out, size_t len, int *port)
{
	struct sockaddr_storage ss;
	char host[64];
	int n = sizeof(ss);

	if (uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &n) !=
	    0)
		return -1;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		uv_ip6_name(s6, host, sizeof(host));
		*port = ntohs(s6->sin6_port);
		snprintf(out, len, "[%s]:%d", host, *port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		uv_ip4_name(s4, host, sizeof(host));
		*port = ntohs(s4->sin_port);
		snprintf(out, len, "%s:%d", host, *port);
	}
	return 0;
}

/* Listens on addr (port 0: any free port); the address it got goes to
 * bound, its port to *port. */
static int
server_listen(struct server *srv, const char *addr, char *bound, size_t len,
    int *port)
{
	struct sockaddr_storage ss;
	int rc;

	if (parse_host_port(addr, &ss, 0) != 0)
		return fail_usage("serve: --listen '%s' is not a numeric "
		    "HOST:PORT", addr);
	uv_tcp_init(srv->loop, &srv->listener);
	srv->listener.data = srv;
	srv->listening = 1;
	if ((rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&ss,
	    0)) != 0 || (rc = uv_listen((uv_stream_t *)&srv->listener, 64,
	    on_connection)) != 0)
		return fail("serve: cannot listen on %s: %s", addr,
		    uv_strerror(rc));
	if (bound_addr(srv, bound, len, port) != 0)
		return fail("serve: cannot tell which port %s got", addr);
	return 0;
}

/* The port, to port_file (written whole, or not at all) if that is not
 * NULL: last, once the daemon serves and has said so, so that whoever
 * waits for the file finds it ready, its log line included. */
static int
write_port_file(const char *port_file, int port)
{
	char line[16];

	snprintf(line, sizeof(line), "%d\n", port);
	if (port_file != NULL &&
	    write_file_atomic(port_file, line, strlen(line), 0644) != 0)
		return fail("serve: cannot write the port to %s: %s",
		    port_file, strerror(errno));
	return 0;
}

static int
require_team(const struct device *d, const char *cmd)
{
	if (d->network == NULL)
		return fail_usage("%s: this box has not joined a team yet "
		    "(satchel join TOKEN)", cmd);
	return 0;
}

/* On unless --no-discovery, or when only this machine could dial us. */
static void
start_discovery(struct server *srv, struct args *a, const char *listen)
{
	char bound[80];
	int port;

	if (args_has(a, "no-discovery"))
		return;
	if (strncmp(listen, "127.", 4) == 0 || strncmp(listen, "[::1]", 5) ==
	    0) {
		net_log("LAN discovery is off: listening on loopback only");
		return;
	}
	if (bound_addr(srv, bound, sizeof(bound), &port) != 0 ||
	    discovery_start(srv, (uint16_t)port) != 0)
		net_log("LAN discovery is off: cannot start it");
}

/* The page, unless --no-http: a taken port costs the page, not the sync. */
static int
serve_page(struct server *srv, struct args *a)
{
	struct http_opts o = { args_get(a, "http"), args_has(a, "http-remote"),
	    HTTP_IDLE_S };
	const char *idle = args_get(a, "http-idle");
	char *end;

	if (args_has(a, "no-http")) {
		if (o.addr != NULL)
			return fail_usage("serve: give --http or --no-http, "
			    "not both");
		return 0;
	}
	if (o.addr == NULL)
		o.addr = HTTP_DEFAULT_ADDR;
	if (idle != NULL) {
		long s = strtol(idle, &end, 10);

		if (*idle == '\0' || *end != '\0' || s < 1 || s > 86400)
			return fail_usage("serve: --http-idle takes seconds, "
			    "1 to 86400, not '%s'", idle);
		o.idle_s = (unsigned)s;
	}
	return http_start(&srv->http, srv, srv->d, srv->loop, &o) ==
	    EXIT_USAGE ? EXIT_USAGE : 0;
}

int
cmd_serve(struct device *d, struct args *a)
{
	const char *listen = args_get(a, "listen");
	struct server srv;
	char id[13], fp[20], bound[80];
	int rc, port = 0;

	if ((rc = require_team(d, "serve")) != 0)
		return rc;
	if (listen == NULL)
		listen = "0.0.0.0:7420";
	if (server_init(&srv, d, 0) != 0)
		return fail("serve: cannot derive the handshake key");
	d->serving = 1;
	if (notify_listen(&srv) != 0) {
		server_stop(&srv);
		server_run(&srv);
		return EXIT_FAIL;
	}
	keys_serve(srv.loop, d->dir);	/* the KEK for this user's commands */
	if ((rc = server_listen(&srv, listen, bound, sizeof(bound),
	    &port)) != 0) {
		server_stop(&srv);
		server_run(&srv);
		return rc;
	}
	if ((rc = serve_page(&srv, a)) != 0) {
		server_stop(&srv);
		server_run(&srv);
		return rc;
	}
	load_peers(&srv);
	start_discovery(&srv, a, listen);
	short_id(id, d->id);
	team_fingerprint(d, fp);
	net_log("serving on %s as %s (%s) of team %s", bound, id, d->role, fp);
	if ((rc = write_port_file(args_get(a, "port-file"), port)) != 0) {
		server_stop(&srv);
		server_run(&srv);
		return rc;
	}
	server_run(&srv);
	targets_free(&srv);
	net_log("stopped");
	return 0;
}

int
cmd_sync(struct device *d, struct args *a)
{
	struct server srv;
	struct progress prog;
	size_t total;
	int rc, failed = 0;

	if ((rc = require_team(d, "sync")) != 0)
		return rc;
	char addr[PEER_ADDR_MAX];

	if (a->npos > 0 && peer_addr_normalize(a->pos[0], addr) != 0)
		return fail_usage("sync: '%s' is not HOST[:PORT] (e.g. "
		    "192.168.1.20:7420 or box.school.lan)", a->pos[0]);
	if (server_init(&srv, d, 1) != 0)
		return fail("sync: cannot derive the handshake key");
	if (a->npos > 0)
		target_add(&srv, addr, NULL);
	else
		load_peers(&srv);
	if (srv.ntargets == 0) {
		server_stop(&srv);
		server_run(&srv);
		return fail_usage("sync: no peers (satchel peer add HOST:PORT)");
	}
	progress_start(&prog, "sync", d->json);
	srv.progress = &prog;
	server_run(&srv);
	progress_end(&prog, srv.gone_in, srv.gone_bytes);
	for (size_t i = 0; i < srv.ntargets; i++)
		failed += !srv.targets[i]->ok;
	total = srv.ntargets;
	targets_free(&srv);
	if (fork_self_check(d))
		return EXIT_FAIL;	/* said in one line */
	if (failed)
		return fail("sync: %d of %zu peers did not finish", failed,
		    total);
	return 0;
}
