/*
 * daemon/ networking: the event loop (libuv, for the macOS and Windows
 * laptops teachers have), peer connections and the sync protocol.
 * Private to daemon/.
 */
#ifndef SATCHEL_NET_H
#define SATCHEL_NET_H

#include <uv.h>
#include <sodium.h>

#include "noise.h"
#include "satchel.h"
#include "wire.h"

/* Full batches in flight, unacknowledged: at least twice RX_GROUP_MAX,
 * so that the next group arrives while one is applied and committed;
 * sixteen, as twice a previous release's groups of eight (a receiver
 * stops reading once its next group is read: the rest waits in the
 * kernel's buffers). */
#define SYNC_WINDOW	16
/* Small batches (a crowd's new notes: one author's one entry each) may
 * be more in flight, up to SYNC_WINDOW_MAX, while they hold fewer than
 * SYNC_BATCH entries in all: a window of eight one-entry batches made a
 * laptop commit and acknowledge its box's news eight entries at a time. */
#define SYNC_WINDOW_MAX	64
/* Received batches applied in one transaction, at most: a batch waits
 * while more of the peer's bytes are already here, so that one durable
 * commit covers several (each acknowledged only once it is on disk). A
 * connection's first group holds one full batch's worth (SYNC_BATCH
 * entries or SYNC_BATCH_BYTES), and each next one twice the last, up to
 * RX_GROUP_MAX times that: a sync that was cut, or a small one, has its
 * first entries on disk and acknowledged as soon as before. Small batches
 * fill a group up to RX_SLOTS of them. Four: a long group commits on the
 * writer thread while the loop reads the next (writer.c), so a sync
 * holds two groups at its peak; with keys appended in order a commit
 * rewrites few pages, and a 100,000-note sync wrote 235 MB in groups of
 * four (8 MB) and 222 MB in groups of eight, in the same time, at a
 * peak RSS of ~95 MB instead of ~165 MB (groups of two: 1.5x slower). */
#define RX_GROUP_MAX	4
#define RX_SLOTS	SYNC_WINDOW_MAX
#define RX_ENVS_KEEP	((2 * RX_GROUP_MAX + 1) * SYNC_BATCH) /* decoded
					 * envelopes the slots keep for reuse:
					 * two groups, one committing */
#define RX_GROUP_NS	(UINT64_C(2000) * 1000 * 1000)	/* a group's apply, 2 s */
/* A one-shot sync whose peer offers fewer entries than this (counted at
 * the vector exchange) reads them all on the loop: starting libuv's
 * worker threads for them cost a laptop of a crowd ~5 ms of its ~45 ms
 * (four clones, their stacks and malloc arenas, and the TLB shootdowns
 * every later munmap of a threaded process pays), more than reading ~100
 * entries ahead saves. A daemon starts them once and keeps them. */
#define RX_INLINE_MAX	512
#define SYNC_BATCH	WIRE_MAX_BATCH	/* entries per batch at most */
#define SYNC_BATCH_BYTES (2 * 1024 * 1024) /* + one entry: within a frame */
#define SEND_QUEUE_MAX	(8 * 1024 * 1024)	/* stop reading the log past it */
/* A connection's frames of one loop turn go out in one write (a box
 * relaying a crowd's notes sent each one-entry batch, and each laptop
 * each acknowledgement, with a syscall and a loopback segment of its
 * own), unless they reach WQ_FLUSH_BYTES or WQ_FLUSH_N first: a full
 * sync's big batches are written as they are sealed, as before. */
#define WQ_FLUSH_BYTES	(64 * 1024)
#define WQ_FLUSH_N	64
#define TICK_MS		200		/* housekeeping while something is due */
#define FALLBACK_MS	5000		/* look for writes no notify announced */
#define IDLE_TIMEOUT_MS	30000		/* a one-shot sync gives up */
#define BACKOFF_MIN_MS	500
#define BACKOFF_MAX_MS	30000
#define DOWN_RETRY_MS	1000	/* a peer that did not answer: dial again */
#define QUIET_SEND_MS	10000	/* sent data unacknowledged this long: drop */
#define QUIET_IDLE_S	15	/* keepalive probes after this much silence */
#define QUIET_PROBE_S	5	/* between probes; 3 unanswered drop it */
#define STABLE_MS	5000		/* a connection up this long was useful */
#define FULL_BACKOFF_MIN_MS 1000	/* the disk is full: wait, then retry */
#define FULL_BACKOFF_MAX_MS 60000

/*
 * Strangers. A connection that has not finished its handshake costs a
 * few KB (no buffer beyond HS_FIRST_MAX until the peer has proved it holds
 * the network key), and there are at most HALF_OPEN_MAX of them, at most
 * HALF_OPEN_PER_HOST from one address: a school's NAT puts every laptop
 * of a subnet behind one address, and they rarely all connect in the
 * same few seconds. Past a cap the OLDEST unfinished one from there is
 * closed, so a flood delays a member's handshake by at most its own
 * round trip, never locks it out.
 */
#define HALF_OPEN_MAX		256
#define HALF_OPEN_PER_HOST	64
#define HS_FIRST_MAX		256	/* message 1 of XXpsk0 is 48 bytes */

/* A peer whose replies we have queued past READ_PAUSE_QUEUE bytes (our
 * own batches stop at SEND_QUEUE_MAX, so only replies to a flood of small
 * messages get there) is not read from until they drain below
 * SEND_QUEUE_MAX. Honest peers never get near it: they have at most
 * SYNC_WINDOW batches unacknowledged (SYNC_WINDOW_MAX small ones). */
#define READ_PAUSE_QUEUE	(2 * SEND_QUEUE_MAX)

enum conn_state {
	CONN_CONNECTING,
	CONN_HANDSHAKE,
	CONN_HEADER,		/* waiting for the peer's stream header */
	CONN_SYNC,
	CONN_CLOSED
};

struct server;

/* A received batch waiting to be applied with the next ones. */
struct rx_batch {
	uint8_t		*pt;		/* the frame's plaintext; m borrows it */
	struct wire_msg	 m;
	struct envelope	*envs;		/* m's entries, decoded once */
	size_t		 envs_cap;	/* envs stays with the slot, reused */
	uint8_t		 author[PROTO_IDLEN];
	uint64_t	 first, last;
	size_t		 n;		/* entries before any newer one */
	unsigned	 newer;		/* version of the first newer one */
	size_t		 bytes;		/* of pt */
	struct rx_prep	*prep;		/* its entries read ahead, or NULL */
};

struct target {			/* a peer we dial */
	struct server	*srv;
	char		 addr[64];
	uint8_t		 id[PROTO_IDLEN];
	int		 id_known;
	struct conn	*conn;
	uint64_t	 next_attempt;
	uint64_t	 backoff;
	int		 done;		/* one-shot: finished, well or not */
	int		 ok;
	int		 seen;		/* in the peer list at the last look */
	int		 removed;	/* taken off the peer list */
	int		 id_unsaved;	/* learnt at the handshake */
	int		 discovered;	/* found on the LAN, not added */
	int		 resolving;	/* a host name being looked up */
	uv_getaddrinfo_t resolve;
	int		 use_prev;	/* dial with grace key use_prev - 1 */
};

struct conn {
	struct server	*srv;
	struct conn	*next;
	uv_tcp_t	 tcp;
	uv_connect_t	 connect_req;
	int		 initiator;
	char		 addr[64];
	char		 host[48];	/* addr without the port: caps count it */
	struct target	*target;
	int		 tcp_up;	/* our dial was answered */
	enum conn_state	 state;
	struct noise_hs	 hs;
	uint8_t		 remote[PROTO_IDLEN];
	int		 authenticated;
	crypto_secretstream_xchacha20poly1305_state tx, rx;
	uint8_t		 rx_key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	uint8_t		*in;
	size_t		 in_len, in_cap;
	int		 hs_read;	/* handshake messages read so far */
	int		 psk_prev;	/* grace key psk_prev - 1 (epoch.c) */
	int		 hs_unanswered;	/* we dialled; it closed at message 1 */
	size_t		 queued;	/* bytes handed to uv_write (with their
					 * request), not yet written */
	struct write_req *wq;		/* frames not yet handed to uv_write,
					 * oldest first: one write per loop
					 * turn (conn_flush) */
	struct write_req **wq_tail;
	size_t		 wq_n, wq_bytes;
	int		 read_paused;	/* queued past READ_PAUSE_QUEUE */
	int		 vec_dirty;	/* theirs not saved yet (next tick) */
	int		 disk_full;	/* closed because our disk is full */
	int		 rx_inline;	/* a one-shot sync with little to take:
					 * its batches are read on the loop
					 * (no worker threads started) */
	int		 have_vector;
	struct vec	 theirs;	/* what the peer holds, as far as we know */
	struct vec	 sent;		/* what we have sent it */
	struct vec	 want;		/* what it had to give us */
	struct vec	 refused_in;	/* authors we take nothing of from it */
	struct vec	 refused_out;	/* authors it takes nothing of */
	struct vec	 probe;		/* forks to locate: resend up to seq */
	struct vec	 probe_sent;	/* how far each probe got */
	struct vec	 fork_sent;	/* frozen authors whose evidence went */
	int		 snapshot;	/* its hello asked for WIRE_HELLO_SNAPSHOT */
	struct vec	 upto;		/* snapshot: our vector as sent to it, as
					 * far as we send it anything */
	struct rx_batch	*rxq;		/* RX_SLOTS of them, waiting to be
					 * applied; allocated at the first
					 * batch (a stranger costs none) */
	size_t		 nrxq;
	size_t		 rx_group;	/* full batches the next group may hold */
	int		 rx_due;	/* rxq waits for this loop turn's group
					 * commit (rx_flush_due); not read
					 * from meanwhile */
	size_t		 rx_k;		/* of rxq, in the group commit */
	size_t		 rx_busy;	/* of rxq, the leading batches whose
					 * commit is in flight (writer.c) */
	int		 rx_left;	/* due, but left waiting by that commit:
					 * handled first after it */
	size_t		 rx_added;	/* new entries they brought */
	uint8_t		*held;		/* a message after the waiting batches,
					 * handled once they are (owned) */
	size_t		 held_len;
	int		 held_final;
	struct store_apply_buf abuf;	/* reused entry after entry */
	int		 inflight;
	uint32_t	 unacked[SYNC_WINDOW_MAX];	/* the entries of each
					 * batch in flight, oldest first */
	unsigned	 unacked_head, unacked_n;
	size_t		 unacked_sum;
	int		 pump_failed;
	int		 draining;	/* in drain_frames: acks pump once, after */
	int		 pump_due;	/* an ack came while draining */
	int		 sent_bye, got_bye, done;
	uint64_t	 received, sent_count;
	uint64_t	 bytes_in;	/* read from the socket */
	uint64_t	 logged_at;	/* serve: the last progress line */
	uint64_t	 logged_received;
	uint64_t	 last_activity;
	uint64_t	 started;
	unsigned	 version;	/* the highest the peer speaks */
	uint64_t	 ready_at;	/* handshake done, or 0 */
	uint64_t	 receipt_next;	/* loop ms: next receipt check, or 0 */
};

/* A peer's status, queued for the store: connections come and go inside
 * callbacks that may hold a read transaction, so the write waits for the
 * next tick. */
struct peer_event {
	uint8_t		id[PROTO_IDLEN];
	char		addr[64];
	int		connected;
	int		synced;		/* a sync completed: when is its time */
	uint64_t	when;
};

#define PEER_EVENTS_MAX	64

/* A peer's wall clock as its hello told it, saved at the next tick with
 * the statuses: one lazy commit for every handshake of the tick, not one
 * (and a disk sync) each, when a crowd of laptops connects at once. */
struct clock_obs {
	uint8_t		id[PROTO_IDLEN];
	char		addr[64];
	int64_t		offset_ms;
	uint64_t	at;
};
#define STOP_GRACE_MS	2000	/* SIGTERM: then close whatever is left */
#define HANDSHAKE_MS	5000	/* a connection must be up by then */
#define VEC_PENDING_MAX	64	/* closed peers' vectors awaiting a tick */
#define X_OF_MAX	256	/* identities' X25519 keys kept (server_x_of) */

/* The last pump view's heads, frozen authors and team order, kept while
 * the store stays at the same version (store_txn_id): a box pumps a
 * connection at every acknowledgement, and reading every head, fork and
 * member's depth each time was most of what it did in a crowd. */
struct pump_cache {
	int		 ok;
	uint64_t	 txn;
	size_t		 nkeys;		/* the keyring's, as team order reads
					 * members with it (keys only grow) */
	unsigned	 users;		/* open views that borrow it */
	struct vec	 ours, frozen;
	size_t		*order;
};

struct server {
	uv_loop_t	*loop;
	struct peer_event events[PEER_EVENTS_MAX];
	size_t		 nevents;
	struct clock_obs clocks[PEER_EVENTS_MAX];
	size_t		 nclocks;
	uv_timer_t	 stop_timer;
	struct device	*d;
	uv_tcp_t	 listener;
	int		 listening;
	uv_timer_t	 tick;		/* one-shot, re-armed by each tick */
	uv_idle_t	 rx_idle;	/* batches wait for it: rx_flush_due */
	uv_prepare_t	 wflush;	/* each loop turn, before the poll:
					 * every connection's frames written */
	uv_pipe_t	 notify;	/* DIR/serve.sock: local writes */
	int		 notifying;
	uint64_t	 last_check;	/* of the heads, for other writers */
	uv_signal_t	 sigterm, sigint;
	struct conn	*conns;
	struct target	**targets;	/* each its own allocation */
	size_t		 ntargets;
	uint8_t		 heads_hash[32];
	struct pump_cache view;
	struct x_of {			/* peers' identities as X25519 keys */
		uint8_t		id[PROTO_IDLEN];
		uint8_t		x[crypto_scalarmult_curve25519_BYTES];
	}		 x_of[X_OF_MAX];
	size_t		 nx_of;		/* filled; then replaced in turn */
	struct pending_vec {		/* of connections closed since the tick */
		uint8_t		id[PROTO_IDLEN];
		struct vec	theirs;
	}		 pending[VEC_PENDING_MAX];
	size_t		 npending;
	uint64_t	 full_backoff;	/* the disk is full: ms between tries */
	uint64_t	 full_until;	/* take no entries before then */
	uint64_t	 last_evict_log;
	int		 oneshot;
	int		 stopping;
	struct progress	*progress;	/* a one-shot sync's, or NULL */
	uint64_t	 gone_in, gone_bytes;	/* of closed connections */
	uint64_t	 gone_sent;		/* entries, the same */
	uint64_t	 heap_traffic;	/* traffic() at the last tick */
	uint64_t	 heap_moved;	/* when a tick saw it change */
	int		 heap_dirty;	/* traffic since the heap's last trim */
	uint64_t	 keys_refused;	/* a peer closed at our message 1 */
	uint64_t	 keys_ok;	/* a handshake went through */
	uint8_t		*x_sk;	/* secmem_alloc'd: the X25519 static key */
	struct discovery *discovery;	/* NULL: LAN discovery is off */
	struct http	*http;	/* the page (http/), or NULL */
	struct writer	*writer;	/* writer.c: started by the first long
					 * group, or NULL */
	struct group_flight {		/* the group whose commit is in flight */
		size_t	 added;
		int	 epoch;
		struct store_keyring *netonly;
	}		 flight;
	int		 group_failed;	/* its commit failed: each batch alone */
};

/* What pumps read: our heads, and the frozen authors among them with
 * their fork seqs, in one read transaction (valid until closed). */
struct pump_view {
	struct store_txn *t;
	struct vec	 ours;
	struct vec	 frozen;
	size_t		*order;		/* ours' indexes, in team order */
	struct pump_cache *cache;	/* the three borrowed from it, or NULL */
};

/* rxprep.c: a batch's entries hashed, opened, decoded and validated
 * on a worker thread while the loop applies the batches before it.
 * rxprep_start hands b (shaped: envs decoded, n set) to a worker, or
 * leaves b->prep NULL (a small batch, no memory) for the loop to read;
 * b's envs and plaintext must stay until rxprep_release, which waits
 * for the worker. rxprep_apply is store_apply_decoded for b's entry i,
 * taking what was read ahead when the keyring kr holds the key it was
 * read with. */
struct rx_prep;
void		 rxprep_start(struct server *, struct rx_batch *);
void		 rxprep_release(struct rx_batch *);
int		 rxprep_apply(struct store_txn *, const struct store_keyring *,
		    const struct rx_batch *b, size_t i,
		    struct store_apply_buf *) STORE_WUR;

/* peer.c */
int		 pump_view_open(struct server *, struct pump_view *);
void		 pump_view_close(struct pump_view *);
void		 pump_cache_free(struct server *);
void		 conn_pump_view(struct conn *, const struct pump_view *);
struct conn	*conn_new(struct server *, int initiator, const char *addr);
void		 conn_start_handshake(struct conn *);
void		 conn_close(struct conn *, const char *why);
void		 conn_pump(struct conn *);
void		 conn_bye(struct conn *);
void		 conn_flush(struct conn *);
void		 conn_heap_idle(struct conn *);
/* Applies what every connection received this loop turn (see peer.c). */
void		 rx_flush_due(struct server *);
void		 conn_read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);
void		 conn_alloc_cb(uv_handle_t *, size_t, uv_buf_t *);
void		 net_log(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
void		 short_id(char out[13], const uint8_t *id);

/* writer.c: the thread that begins and commits a long sync's group
 * transactions, so that the loop reads the next group while one commits.
 * writer_begin begins one for the loop to apply in (waiting for the
 * commit in flight first): 0, or a store error, *t NULL. writer_abort
 * ends it unapplied. writer_commit takes t and commits it on the thread;
 * done(srv, rc, arg) runs on the loop once it returned (rc: store_commit's),
 * from the loop's callback or writer_wait, which returns only after
 * that. writer_busy: a commit is in flight, its done not yet run.
 * writer_stop waits for it and ends the thread (at the loop's end). All
 * are called on the loop alone. */
struct writer;
typedef void	(*writer_done_fn)(struct server *, int rc, void *arg);
int		 writer_begin(struct server *, struct store_txn **) STORE_WUR;
void		 writer_abort(struct server *, struct store_txn *);
void		 writer_commit(struct server *, struct store_txn *,
		    writer_done_fn, void *arg);
int		 writer_busy(const struct server *);
void		 writer_wait(struct server *);
void		 writer_stop(struct server *);

/* discover.c: LAN discovery. start announces port (ours, TCP) and dials
 * what it hears through server_discovered; stop closes it (idempotent).
 * start returns -1 only when out of memory. */
struct discovery;
int		 discovery_start(struct server *, uint16_t port);
void		 discovery_stop(struct server *);

/* serve.c */
/* A beacon of this team names device id at addr: dial it. */
void		 server_discovered(struct server *, const uint8_t *id,
		    const char *addr);
void		 server_changed(struct server *);
/* A connection's batches wait: rx_flush_due runs at the next loop turn. */
void		 server_rx_due(struct server *);
/* This process wrote (the page did): push it to the peers now. */
void		 server_local_write(struct server *);
void		 server_wake(struct server *);
void		 server_peer_synced(struct server *, struct conn *);
/* c's hello said its wall clock reads wall_ms (ms since the epoch). */
int		 server_x_of(struct server *, const uint8_t *id, uint8_t *x);
void		 server_clock_seen(struct server *, struct conn *,
		    uint64_t wall_ms);
void		 server_conn_ready(struct server *, struct conn *);
void		 server_conn_gone(struct server *, struct conn *);
void		 server_disk_full(struct server *, struct conn *);
void		 server_disk_ok(struct server *);
void		 server_keep_vec(struct server *, struct conn *);

#endif
