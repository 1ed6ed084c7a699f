/*
 * One peer connection: the Noise_XXpsk0 handshake, sealed frames, and the
 * sync protocol.
 *
 *	handshake:  { length[2 BE] noise-message }, three of them
 *	then:	    { length[4 BE] secretstream-header }, once each way
 *	then:	    { length[4 BE] secretstream-ciphertext }*, the last one
 *		    tagged FINAL (a MSG_BYE), so a cut session is told apart
 *		    from a finished one
 *
 * Every length is checked before anything is allocated. A peer's bad bytes
 * are logged with its id and close the connection; nothing of a refused
 * batch is applied.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#ifndef _WIN32
#include <sys/ioctl.h>
#endif

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"

#define FRAME_MAX	(WIRE_MAX_FRAME + \
	crypto_secretstream_xchacha20poly1305_ABYTES)
#define PROLOGUE	"satchel/1"

static void handle_frame(struct conn *, const uint8_t *, size_t);
static void drain_frames(struct conn *);
static void rx_flush(struct conn *);
static void rx_drop(struct conn *);
static void rx_defer(struct conn *);
static void rx_envs_trim(struct conn *);
static void handle_msg(struct conn *, uint8_t **, size_t, int);
static void send_fork(struct conn *, struct store_txn *, const uint8_t *,
    uint64_t);
static size_t write_req_free(struct write_req *);

/* A line is written whole, in one write (stderr is unbuffered: three
 * writes a line took a box ~0.4 ms of its loop for each laptop of a
 * crowd, its log being a file); a longer one goes in pieces. */
void
net_log(const char *fmt, ...)
{
	char when[32], line[1024];
	time_t now = (time_t)(now_ms() / 1000);
	struct tm tm;
	va_list ap;
	int n, m;

	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s satchel: ", when);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m >= 0 && (size_t)(n + m) < sizeof(line) - 1) {
		line[n + m] = '\n';
		fwrite(line, 1, (size_t)(n + m + 1), stderr);
		return;
	}
	fprintf(stderr, "%s satchel: ", when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
short_id(char out[13], const uint8_t *id)
{
	char hex[2 * PROTO_IDLEN + 1];

	sodium_bin2hex(hex, sizeof(hex), id, PROTO_IDLEN);
	snprintf(out, 13, "%.12s", hex);
}

/* Who the peer is, for log lines: its id once known, else its address. */
static const char *
who(const struct conn *c)
{
	static char buf[96];
	char id[13];

	if (!c->authenticated)
		snprintf(buf, sizeof(buf), "%s", c->addr);
	else {
		short_id(id, c->remote);
		snprintf(buf, sizeof(buf), "%s (%s)", id, c->addr);
	}
	return buf;
}

struct conn *
conn_new(struct server *srv, int initiator, const char *addr)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->srv = srv;
	c->initiator = initiator;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->tcp.data = c;
	c->rx_group = 1;
	c->last_activity = c->started = uv_now(srv->loop);
	c->next = srv->conns;
	srv->conns = c;
	return c;
}

static void
free_cb(uv_handle_t *h)
{
	struct conn *c = h->data, **pp;

	for (pp = &c->srv->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	vec_free(&c->theirs);
	vec_free(&c->sent);
	vec_free(&c->want);
	vec_free(&c->refused_in);
	vec_free(&c->refused_out);
	vec_free(&c->probe);
	vec_free(&c->probe_sent);
	vec_free(&c->fork_sent);
	vec_free(&c->upto);
	rx_drop(c);
	for (size_t i = 0; c->rxq != NULL && i < RX_SLOTS; i++)
		free(c->rxq[i].envs);
	free(c->rxq);
	store_apply_buf_free(&c->abuf);
	free(c->held);
	free(c->in);
	write_req_free(c->wq);	/* never handed to libuv */
	sodium_memzero(c, sizeof(*c));
	free(c);
}

void
conn_close(struct conn *c, const char *why)
{
	if (c->state == CONN_CLOSED)
		return;
	if (why != NULL)
		net_log("%s: %s", who(c), why);
	/* A peer that closes at our first message did not take our network
	 * key: it may be an epoch ahead of us or behind (see serve.c). */
	if (c->state == CONN_HANDSHAKE && c->initiator && c->hs_read == 0)
		c->hs_unanswered = 1;
	c->state = CONN_CLOSED;
	rx_drop(c);	/* never acknowledged: the peer sends them again */
	free(c->held);
	c->held = NULL;
	noise_wipe_hs(&c->hs);
	/* Kept even if saved already: a session's end is due a receipt. */
	if (c->authenticated && (c->vec_dirty || c->have_vector))
		server_keep_vec(c->srv, c);
	server_conn_gone(c->srv, c);
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, free_cb);
}

struct write_req {
	uv_write_t	 req;
	struct conn	*c;
	struct write_req *next;		/* written with this one (conn_flush) */
	size_t		 len;
	size_t		 cost;		/* what it holds of memory */
	uint8_t		 data[];
};

/* Frees a chain of requests; returns the memory they held. */
static size_t
write_req_free(struct write_req *w)
{
	size_t cost = 0;

	while (w != NULL) {
		struct write_req *next = w->next;

		cost += w->cost;
		free(w);
		w = next;
	}
	return cost;
}

/* Reading resumes once what we queued for the peer has drained; frames
 * it sent meanwhile wait in its input buffer. */
static void
read_resume(struct conn *c)
{
	if (!c->read_paused || c->queued >= SEND_QUEUE_MAX ||
	    c->state == CONN_CLOSED || c->rx_due)
		return;
	c->read_paused = 0;
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb);
	drain_frames(c);
}

static void
write_cb(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct conn *c = w->c;

	c->queued -= write_req_free(w);
	if (status != 0 && status != UV_ECANCELED)
		conn_close(c, "write failed");
	else if (status == 0 && c->state == CONN_SYNC) {
		read_resume(c);
		conn_pump(c);
	}
}

/* A write request with room for a frame of len bytes after its hdr (2 or
 * 4) bytes of length, which it holds already; NULL (the connection
 * closed) if there is no memory. */
static struct write_req *
write_req_new(struct conn *c, int hdr, size_t len)
{
	struct write_req *w = malloc(sizeof(*w) + hdr + len);

	if (w == NULL) {
		conn_close(c, "out of memory");
		return NULL;
	}
	for (int i = 0; i < hdr; i++)
		w->data[i] = (uint8_t)(len >> (8 * (hdr - 1 - i)));
	w->c = c;
	w->next = NULL;
	w->len = hdr + len;
	w->cost = sizeof(*w) + w->len;
	return w;
}

/* Hands the frames queued this loop turn to libuv in one write (one
 * writev), the first request owning the chain until write_cb. */
void
conn_flush(struct conn *c)
{
	uv_buf_t bufs[WQ_FLUSH_N];
	struct write_req *w = c->wq;
	unsigned n = 0;

	if (w == NULL)
		return;
	for (struct write_req *x = w; x != NULL; x = x->next)
		bufs[n++] = uv_buf_init((char *)x->data, (unsigned)x->len);
	c->wq = NULL;
	c->wq_tail = &c->wq;
	c->wq_n = c->wq_bytes = 0;
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, n, write_cb) != 0) {
		c->queued -= write_req_free(w);
		conn_close(c, "write failed");
	}
}

/* Queues w for this loop turn's write: conn_flush, from the server's
 * prepare handle before the loop polls, or at once past WQ_FLUSH_*. */
static int
write_req_queue(struct conn *c, struct write_req *w)
{
	if (c->state == CONN_CLOSED) {
		free(w);
		return -1;
	}
	if (c->wq == NULL) {
		c->wq_tail = &c->wq;
		/* The loop stays up until the turn's frames are written. */
		uv_ref((uv_handle_t *)&c->srv->wflush);
	}
	*c->wq_tail = w;
	c->wq_tail = &w->next;
	c->wq_n++;
	c->wq_bytes += w->len;
	c->queued += w->cost;
	if (c->wq_n >= WQ_FLUSH_N || c->wq_bytes >= WQ_FLUSH_BYTES) {
		conn_flush(c);
		if (c->state == CONN_CLOSED)
			return -1;
	}
	if (c->queued > READ_PAUSE_QUEUE && !c->read_paused &&
	    c->state == CONN_SYNC) {
		net_log("%s: it does not read our replies; not reading it "
		    "until they drain", who(c));
		c->read_paused = 1;
		uv_read_stop((uv_stream_t *)&c->tcp);
	}
	return 0;
}

/* Queues a length-prefixed frame; hdr is 2 or 4 bytes of length. */
static int
send_frame(struct conn *c, int hdr, const uint8_t *p, size_t len)
{
	struct write_req *w = write_req_new(c, hdr, len);

	if (w == NULL)
		return -1;
	memcpy(w->data + hdr, p, len);
	return write_req_queue(c, w);
}

/* Seals one sync message of len bytes straight into its frame; FINAL
 * marks the end of the session. */
static int
send_sealed(struct conn *c, const uint8_t *p, size_t len, int final)
{
	struct write_req *w;

	if (c->sent_bye)
		return 0;	/* our side is over: what it reads is applied */
	if ((w = write_req_new(c, 4, len +
	    crypto_secretstream_xchacha20poly1305_ABYTES)) == NULL)
		return -1;
	crypto_secretstream_xchacha20poly1305_push(&c->tx, w->data + 4, NULL,
	    p, len, NULL, 0, final ?
	    crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
	return write_req_queue(c, w);
}

static int
send_msg(struct conn *c, const msgpack_sbuffer *sb, int final)
{
	return send_sealed(c, (const uint8_t *)sb->data, sb->size, final);
}

/*
 * The longest frame the peer may send next. A connection we accepted
 * sends message 1 first, 48 bytes: until that has proved it holds the
 * network key, a stranger gets no more than HS_FIRST_MAX bytes of buffer.
 */
static size_t
frame_limit(const struct conn *c)
{
	if (c->state != CONN_HANDSHAKE)
		return FRAME_MAX;
	if (!c->initiator && c->hs_read == 0)
		return HS_FIRST_MAX;
	return NOISE_MAX_MSG;
}

/* How much may wait unread: a frame, its length, and (once the peer is
 * known to hold the key) the rest of one read. A stranger has nothing to
 * send past message 1 before our reply. */
static size_t
in_limit(const struct conn *c)
{
	if (c->state == CONN_HANDSHAKE && !c->initiator && c->hs_read == 0)
		return 2 + HS_FIRST_MAX;
	return frame_limit(c) + 4 + 64 * 1024;
}

/* Makes room for n more bytes in the input buffer, growing it only as
 * far as a frame may. */
static int
in_room(struct conn *c, size_t n)
{
	size_t cap = c->in_cap ? c->in_cap : 512;
	uint8_t *q;

	if (c->in_len + n <= c->in_cap)
		return 0;
	while (cap < c->in_len + n)
		cap *= 2;
	if (cap > in_limit(c))
		cap = in_limit(c);
	if (cap < c->in_len + n || (q = realloc(c->in, cap)) == NULL)
		return -1;
	c->in = q;
	c->in_cap = cap;
	return 0;
}

/* Appends to the input buffer. */
static int
in_append(struct conn *c, const char *p, size_t n)
{
	if (in_room(c, n) != 0)
		return -1;
	memcpy(c->in + c->in_len, p, n);
	c->in_len += n;
	return 0;
}

#define READ_SLAB	(64 * 1024)
static char read_slab[READ_SLAB];

/* A synced peer's bytes are read straight into its input buffer: a
 * sync's every byte went through the slab and a copy before. Before
 * that, and when the buffer may not grow a slab's worth, the slab takes
 * them and in_append copies what the limits allow. */
void
conn_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;
	size_t room;

	(void)hint;
	if (c->state == CONN_SYNC && in_room(c, READ_SLAB) == 0) {
		room = c->in_cap - c->in_len;
		*buf = uv_buf_init((char *)c->in + c->in_len,
		    room > UINT_MAX ? UINT_MAX : (unsigned)room);
		return;
	}
	*buf = uv_buf_init(read_slab, sizeof(read_slab));
}

/* More of the peer's bytes wait in the socket: a batch received can wait
 * for the next ones, to be committed with them. */
static int
socket_pending(struct conn *c)
{
#ifdef _WIN32
	(void)c;
	return 0;
#else
	uv_os_fd_t fd;
	int n = 0;

	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0 ||
	    ioctl(fd, FIONREAD, &n) != 0)
		return 0;
	return n > 0;
#endif
}

/* The pump the acks of one read called for, once for all of them: a
 * laptop acknowledges each author's batch on its own, ~50 at once at a
 * box, and each pump walks every author. */
static void
pump_if_due(struct conn *c)
{
	if (!c->pump_due)
		return;
	c->pump_due = 0;
	conn_pump(c);
}

/* Takes whole frames off the input buffer and handles them. */
static void
drain_frames(struct conn *c)
{
	size_t off = 0;

	c->draining = 1;
	while (c->state != CONN_CLOSED && !c->read_paused && !c->rx_due) {
		int hdr = c->state == CONN_HANDSHAKE ? 2 : 4;
		size_t len = 0;

		if (c->in_len - off < (size_t)hdr)
			break;
		for (int i = 0; i < hdr; i++)
			len = (len << 8) | c->in[off + i];
		if (len == 0 || len > frame_limit(c)) {
			c->draining = 0;
			conn_close(c, "refused: frame length out of bounds");
			return;
		}
		if (c->in_len - off < hdr + len)
			break;
		handle_frame(c, c->in + off + hdr, len);
		off += hdr + len;
	}
	c->draining = 0;
	pump_if_due(c);
	if (c->state != CONN_CLOSED && off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	if (c->state != CONN_CLOSED && c->nrxq > c->rx_busy && !c->rx_due &&
	    (c->read_paused || !socket_pending(c)))
		rx_defer(c);
}

/* Moves what the socket holds into the input buffer, as far as it takes
 * it, without handling it: the peer's window stays open through a long
 * apply (a group of batches on a loaded machine), so that the peer's
 * TCP_USER_TIMEOUT, which also ends a window closed that long, does not
 * take a busy receiver for a dead one. The end or an error is left to the
 * read callback, which meets it next. */
static void
socket_drain(struct conn *c)
{
#ifndef _WIN32
	uv_os_fd_t fd;
	ssize_t n;
	size_t room;

	if (c->state != CONN_SYNC || c->read_paused ||
	    uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0)
		return;
	while ((room = in_limit(c) - c->in_len) > 0) {
		if (in_room(c, room < READ_SLAB ? room : READ_SLAB) != 0) {
			conn_close(c, "out of memory");
			return;
		}
		n = recv(fd, c->in + c->in_len, c->in_cap - c->in_len,
		    MSG_DONTWAIT);
		if (n <= 0)
			return;
		c->in_len += (size_t)n;
		c->bytes_in += (uint64_t)n;
	}
#else
	(void)c;
#endif
}

void
conn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;

	if (n == 0 || c->state == CONN_CLOSED)
		return;
	if (n < 0) {
		if (c->got_bye || c->done)
			conn_close(c, NULL);
		else if (n == UV_EOF && c->initiator && c->state == CONN_HEADER)
			conn_close(c, "it closed the connection right after "
			    "the handshake: it does not take this device as a "
			    "member of the team (was it removed?)");
		else
			conn_close(c, n == UV_EOF ? "connection ended without "
			    "an end-of-session mark" : uv_strerror((int)n));
		return;
	}
	c->last_activity = uv_now(c->srv->loop);
	c->bytes_in += (uint64_t)n;	/* for progress lines */
	if (buf->base != read_slab)
		c->in_len += (size_t)n;	/* read in place: conn_alloc_cb */
	else if (in_append(c, buf->base, (size_t)n) != 0) {
		conn_close(c, "refused: more data than a frame may hold");
		return;
	}
	drain_frames(c);
}

/* ---- handshake ---- */

/* The PSK is the newest epoch's network key, or one the grace period
 * takes (psk_prev - 1 names it, see epoch_grace_key): for a dial to a
 * peer that did not take the newest (it has not heard of it yet), or
 * from a member that has not heard of it. */
static int
hs_begin(struct conn *c)
{
	struct server *srv = c->srv;
	struct store_key prev;
	const uint8_t *psk = srv->d->network->key;
	int rc;

	if (c->psk_prev) {
		if (!epoch_grace_key(srv->d, now_ms(), (size_t)c->psk_prev - 1,
		    &prev))
			return -1;
		psk = prev.key;
	}
	rc = noise_hs_init(&c->hs, WIRE_PROTOCOL, c->initiator,
	    (const uint8_t *)PROLOGUE, strlen(PROLOGUE), srv->x_sk, NULL);
	if (rc == 0)
		rc = noise_hs_add_psk(&c->hs, psk);
	sodium_memzero(&prev, sizeof(prev));
	return rc;
}

/* A first message that failed under the newest network key, tried again
 * under each key the grace period takes (epoch.c). Membership is checked
 * after the handshake either way. */
static int
hs_read_prev(struct conn *c, const uint8_t *msg, size_t len,
    uint8_t *payload, size_t cap, size_t *plen)
{
	struct store_key k;

	if (c->initiator || c->hs_read != 0 || c->psk_prev)
		return -1;
	while (epoch_grace_key(c->srv->d, now_ms(), (size_t)c->psk_prev, &k)) {
		c->psk_prev++;
		noise_wipe_hs(&c->hs);
		if (hs_begin(c) == 0 && noise_hs_read(&c->hs, msg, len,
		    payload, cap, plen) == 0) {
			sodium_memzero(&k, sizeof(k));
			return 0;
		}
	}
	sodium_memzero(&k, sizeof(k));
	return -1;
}

static int
hs_send(struct conn *c, const uint8_t *payload, size_t plen)
{
	uint8_t msg[NOISE_MAX_MSG];
	size_t len;

	if (noise_hs_write(&c->hs, payload, plen, msg, sizeof(msg), &len) != 0) {
		conn_close(c, "handshake failed");
		return -1;
	}
	return send_frame(c, 2, msg, len);
}

/* The first handshake message says which versions we speak, so that the
 * responder answers in a hello we can read (see wire.h). */
static void
send_offer(struct conn *c)
{
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	if (wire_offer_encode(&sb, WIRE_PROTO_VERSION) != 0)
		conn_close(c, "cannot build the handshake offer");
	else
		hs_send(c, (const uint8_t *)sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/*
 * A Wi-Fi link that drops and comes back: TCP would wait out its own
 * retransmission backoff (minutes) before giving up on data it cannot
 * deliver. TCP_USER_TIMEOUT (RFC 5482, Linux tcp(7)) drops a connection
 * whose sent data stays unacknowledged for QUIET_SEND_MS, and keepalive
 * probes find a silent one within QUIET_IDLE_S + 3 probes; the peer is
 * then redialled. Where a system lacks either, only the probes stay.
 */
static void
conn_quiet_limits(struct conn *c)
{
	uv_os_fd_t fd;

	uv_tcp_keepalive(&c->tcp, 1, QUIET_IDLE_S);
	if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0)
		return;
#ifdef TCP_USER_TIMEOUT
	{
		unsigned int ms = QUIET_SEND_MS;
		int intvl = QUIET_PROBE_S, cnt = 3;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms,
		    sizeof(ms));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
		    sizeof(intvl));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt,
		    sizeof(cnt));
	}
#endif
}

void
conn_start_handshake(struct conn *c)
{
	c->state = CONN_HANDSHAKE;
	if (c->target != NULL)
		c->psk_prev = c->target->use_prev;
	/* Small acks and handshake messages must not wait for Nagle; a
	 * laptop that left without a goodbye is found out by keepalive. */
	uv_tcp_nodelay(&c->tcp, 1);
	conn_quiet_limits(c);
	if (hs_begin(c) != 0) {
		conn_close(c, "cannot start the handshake");
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb);
	if (c->initiator)
		send_offer(c);
}

/* The identity in the payload must be the one the static key belongs to,
 * and a member of the team: by the records this device holds, or by the
 * signed membership entries the peer sent along. */
static int
check_peer(struct conn *c, const uint8_t *payload, size_t plen)
{
	uint8_t rs[NOISE_DHLEN], x_pk[NOISE_DHLEN];
	struct wire_hello h;
	struct store_txn *t;
	char role[16] = "", id[13];
	int member = 0, removed = 0;

	if (wire_hello_decode(&h, payload, plen) != 0 ||
	    noise_hs_remote_static(&c->hs, rs) != 0 ||
	    server_x_of(c->srv, h.id, x_pk) != 0 ||
	    sodium_memcmp(rs, x_pk, NOISE_DHLEN) != 0) {
		conn_close(c, "refused: its identity does not match its "
		    "handshake key");
		return -1;
	}
	memcpy(c->remote, h.id, PROTO_IDLEN);
	if (store_begin(c->srv->d->st, STORE_RDONLY, &t) == 0) {
		member = team_is_member(c->srv->d, t, c->remote, role);
		removed = team_removed(c->srv->d, t, c->remote);
		store_abort(t);
	}
	/* A removed device's proofs are worthless: the record says. */
	if (!member && !removed &&
	    (member = team_check_proof(c->srv->d, &h, role)) &&
	    team_vouch_save(c->srv->d, payload, plen) != 0)
		net_log("%s: could not keep its membership proof", c->addr);
	short_id(id, c->remote);
	if (c->psk_prev)
		net_log("%s: %s holds the previous key epoch's network key: "
		    "taken while it may learn the new one", c->addr, id);
	if (!member) {
		net_log("%s: refused device %s: %s", c->addr, id, removed ?
		    "removed from this team" : "not a member of this team");
		conn_close(c, NULL);
		return -1;
	}
	if (c->target && c->target->id_known &&
	    memcmp(c->target->id, c->remote, PROTO_IDLEN) != 0) {
		net_log("%s: refused device %s: the peer list expects another "
		    "device there", c->addr, id);
		conn_close(c, NULL);
		return -1;
	}
	c->authenticated = 1;
	c->version = h.version;
	c->snapshot = (h.flags & WIRE_HELLO_SNAPSHOT) != 0;
	if (h.version >= 2)
		server_clock_seen(c->srv, c, h.wall_ms);
	return 0;
}

/* Our hello: identity and the membership proof a new peer may need. */
static int
make_hello(struct conn *c, msgpack_sbuffer *sb)
{
	struct wire_hello h;
	struct store_txn *t;
	int rc;

	memset(&h, 0, sizeof(h));
	memcpy(h.id, c->srv->d->id, PROTO_IDLEN);
	h.version = c->version >= 2 ? WIRE_PROTO_VERSION : 1;
	h.wall_ms = now_ms();
	if (h.version >= 3 && c->srv->oneshot)
		h.flags = WIRE_HELLO_SNAPSHOT;
	if (store_begin(c->srv->d->st, STORE_RDONLY, &t) != 0)
		return -1;
	if (team_proof(c->srv->d, t, h.id, &h) != 0)
		h.nproofs = 0;	/* peers that know us need none */
	rc = wire_hello_encode(sb, &h);
	store_abort(t);
	return rc;
}

/* dst (empty) becomes a copy of src, kept in the same order. */
static int
vec_copy(struct vec *dst, const struct vec *src)
{
	if (src->n == 0)
		return 0;
	if ((dst->items = malloc(src->n * sizeof(*dst->items))) == NULL)
		return -1;
	memcpy(dst->items, src->items, src->n * sizeof(*dst->items));
	dst->n = dst->cap = src->n;
	return 0;
}

/* Our vector, from the pump view (read once per store version); a peer
 * that asked for a snapshot is sent no more than it. */
static void
send_vector(struct conn *c)
{
	struct pump_view v;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (pump_view_open(c->srv, &v) != 0) {
		conn_close(c, "cannot read the store");
		return;
	}
	if (c->snapshot && vec_copy(&c->upto, &v.ours) != 0) {
		pump_view_close(&v);
		conn_close(c, "out of memory");
		return;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	vec_pack(&v.ours, &pk);
	pump_view_close(&v);
	send_msg(c, &sb, 0);
	msgpack_sbuffer_destroy(&sb);
}

/* After the last handshake message: keys for both directions. */
static void
hs_finish(struct conn *c)
{
	struct noise_cipher tx, rx;
	uint8_t header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];

	if (noise_hs_split(&c->hs, &tx, &rx) != 0) {
		conn_close(c, "handshake failed");
		return;
	}
	crypto_secretstream_xchacha20poly1305_init_push(&c->tx, header, tx.k);
	memcpy(c->rx_key, rx.k, sizeof(c->rx_key));
	noise_wipe_cipher(&tx);
	noise_wipe_cipher(&rx);
	noise_wipe_hs(&c->hs);
	c->state = CONN_HEADER;
	if (send_frame(c, 4, header, sizeof(header)) != 0)
		return;
	server_conn_ready(c->srv, c);
	if (c->state != CONN_CLOSED)
		send_vector(c);
}

static void
handle_handshake(struct conn *c, const uint8_t *msg, size_t len)
{
	static uint8_t payload[NOISE_MAX_MSG];
	msgpack_sbuffer hello;
	size_t plen;

	if (noise_hs_read(&c->hs, msg, len, payload, sizeof(payload),
	    &plen) != 0 && hs_read_prev(c, msg, len, payload,
	    sizeof(payload), &plen) != 0) {
		/* A stranger without the network key gets not one byte. */
		conn_close(c, c->initiator ? "refused: the handshake reply "
		    "does not verify" : "refused: handshake failed (wrong "
		    "network key, or not a Satchel device)");
		return;
	}
	c->hs_read++;
	if (!c->initiator && !noise_hs_done(&c->hs) &&
	    wire_offer_decode(&c->version, payload, plen) != 0) {
		conn_close(c, "refused: malformed handshake offer");
		return;
	}
	if ((c->initiator || noise_hs_done(&c->hs)) &&
	    check_peer(c, payload, plen) != 0)
		return;
	if (!noise_hs_done(&c->hs)) {	/* message 2, or message 3 */
		msgpack_sbuffer_init(&hello);
		if (make_hello(c, &hello) != 0) {
			msgpack_sbuffer_destroy(&hello);
			conn_close(c, "cannot build the handshake payload");
			return;
		}
		hs_send(c, (const uint8_t *)hello.data, hello.size);
		msgpack_sbuffer_destroy(&hello);
		if (c->state == CONN_CLOSED || !noise_hs_done(&c->hs))
			return;
	}
	hs_finish(c);
}

/* ---- sync ---- */

/* Our entry author:seq has the hash the peer says it holds, or a fork. */
static int
same_entry(struct store_txn *t, const struct vec_item *theirs)
{
	const uint8_t *env;
	uint8_t hash[PROTO_HASHLEN];
	struct envelope e;
	size_t len;

	if (store_log_get(t, theirs->author, theirs->seq, &env, &len) != 0)
		return 1;	/* we lack it: nothing to compare */
	if (proto_envelope_decode(&e, env, len) != 0)
		return 0;
	proto_envelope_hash(&e, hash);
	return sodium_memcmp(hash, theirs->hash, PROTO_HASHLEN) == 0;
}

/* How many entries the peer's vector offers beyond our heads. */
static uint64_t
offered(struct store_txn *t, const struct vec *want)
{
	uint64_t n = 0, head;
	uint8_t hash[PROTO_HASHLEN];

	for (size_t i = 0; i < want->n; i++) {
		if (store_head_get(t, want->items[i].author, &head, hash) != 0)
			head = 0;
		if (want->items[i].seq > head)
			n += want->items[i].seq - head;
	}
	return n;
}

static void
handle_vector(struct conn *c, const struct wire_msg *m)
{
	struct store_txn *t;
	char id[13];

	if (c->have_vector || vec_from_msg(&c->theirs, m) != 0 ||
	    vec_from_msg(&c->want, m) != 0) {
		conn_close(c, "refused: a second or malformed vector");
		return;
	}
	if (store_begin(c->srv->d->st, STORE_RDONLY, &t) != 0) {
		conn_close(c, "cannot read the store");
		return;
	}
	for (size_t i = 0; i < c->theirs.n; i++) {
		const struct vec_item *it = &c->theirs.items[i];
		uint64_t fseq;

		if (it->seq == 0 || same_entry(t, it) ||
		    store_fork_get(t, it->author, &fseq) == 0)
			continue;	/* a known fork: its evidence goes */
		/* Our branch from seq 1 shows the peer where the logs part:
		 * its held entries are no-ops, the first other one is the
		 * evidence of the fork. */
		short_id(id, it->author);
		net_log("%s: fork: it holds another entry %s:%llu than this "
		    "device; offering this device's branch to find where "
		    "they part", who(c), id, (unsigned long long)it->seq);
		vec_raise(&c->probe, it->author, it->seq, NULL);
	}
	c->rx_inline = c->srv->oneshot && offered(t, &c->want) < RX_INLINE_MAX;
	store_abort(t);
	c->have_vector = 1;
	c->vec_dirty = 1;	/* saved at the next tick, with the others */
	server_wake(c->srv);
	server_peer_synced(c->srv, c);
	conn_pump(c);
}

/* An entry of a newer envelope version that continues the run: its
 * author and seq are all this device can read of it (see proto.h). */
static int
newer_entry(const uint8_t *env, size_t len, size_t i, struct envelope *e,
    uint64_t last, const uint8_t *author, unsigned *newer)
{
	uint64_t v;

	if (proto_envelope_peek(env, len, &v, e->author, &e->seq) != 0 ||
	    v <= PROTO_VERSION || (i > 0 && (memcmp(author, e->author,
	    PROTO_IDLEN) != 0 || e->seq != last + 1)))
		return 0;
	*newer = (unsigned)v;
	return 1;
}

/* Room in slot b for n decoded envelopes, kept for the next batch. */
static struct envelope *
batch_envs(struct rx_batch *b, size_t n)
{
	struct envelope *p;

	if (n <= b->envs_cap)
		return b->envs;
	if ((p = realloc(b->envs, n * sizeof(*p))) == NULL)
		return NULL;
	b->envs = p;
	b->envs_cap = n;
	return p;
}

/* Checks a batch is one author's run, in order, before any of it is
 * applied; decodes each entry into es (once: the apply takes them from
 * there) and sets author and the first and last seq. A run may end with
 * entries of a newer envelope version: *n counts those before them, and
 * *newer is the first one's version (0: none); first is its seq if it
 * comes first. */
static int
batch_shape(const struct wire_msg *m, struct envelope *es, uint8_t *author,
    uint64_t *first, uint64_t *last, size_t *n, unsigned *newer)
{
	*n = m->n;
	*newer = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct envelope *e = &es[i];
		const uint8_t *env;
		size_t len;

		wire_entry_at(m, i, &env, &len);
		if (proto_envelope_decode(e, env, len) != 0 &&
		    !newer_entry(env, len, i, e, *last, author, newer))
			return -1;
		if (*newer != 0) {
			if (i == 0) {
				memcpy(author, e->author, PROTO_IDLEN);
				*first = e->seq;
			}
			*n = i;
			return 0;
		}
		if (i == 0) {
			memcpy(author, e->author, PROTO_IDLEN);
			*first = e->seq;
		} else if (memcmp(author, e->author, PROTO_IDLEN) != 0 ||
		    e->seq != *last + 1)
			return -1;
		*last = e->seq;
	}
	return 0;
}

/* A batch that reached a fork at entry i: the entries before it are
 * kept (their chain is vouched for by entry i - 1's signature, checked
 * here as the batch's last would have been), a fork found is recorded
 * and the records rebuilt, and the rest of the batch is dropped. Commits
 * or aborts t; STORE_EFORK once committed. */
static int
fork_batch(struct conn *c, struct store_txn *t, const struct rx_batch *b,
    size_t i)
{
	uint8_t hash[PROTO_HASHLEN];
	int rc;

	if (i > 0) {
		proto_envelope_hash(&b->envs[i - 1], hash);
		if (proto_envelope_verify(&b->envs[i - 1], hash) != 0) {
			store_abort(t);
			return STORE_EBADENTRY;
		}
	}
	if ((rc = store_fork_settle(t, c->srv->d->keyring)) != 0 ||
	    (rc = vec_save_peer(&c->theirs, t, c->remote)) != 0) {
		store_abort(t);
		return rc;
	}
	return (rc = store_commit(t)) != 0 ? rc : STORE_EFORK;
}

/* Whether batch b holds an epoch record this device can open (under a
 * record key it holds): only then can it learn keys from it. */
static int
epoch_in_batch(const struct device *d, const struct rx_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct store_key *k;

		if ((k = store_keyring_find(d->keyring,
		    b->envs[i].key_id)) != NULL && k->use == KEY_EPOCH)
			return 1;
	}
	return 0;
}

/* Applies batch b's entries inside t, counting the new ones in added.
 * Only the last entry's signature is checked: the hash chain vouches for
 * the rest. Entries past seq apply (a removed admin's past its cut-off)
 * are opened with netonly, the network keys alone: their membership
 * changes count, their content is not applied. Returns 0, or the first
 * error with *at its entry. */
static int
apply_entries(struct conn *c, struct store_txn *t, const struct rx_batch *b,
    uint64_t apply, const struct store_keyring *netonly, size_t *added,
    size_t *at)
{
	uint64_t now = now_ms();
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		rc = rxprep_apply(t, b->envs[i].seq > apply ? netonly :
		    c->srv->d->keyring, b, i, &c->abuf);
		if (rc == STORE_EDUP)
			continue;
		if (rc == 0)
			rc = clock_note_received(t, &b->envs[i], now);
		if (rc != 0) {
			*at = i;
			return rc;
		}
		(*added)++;
	}
	return 0;
}

/* Applies a batch in a transaction of its own, entries past seq apply
 * with the network keys alone (see apply_entries). */
static int
apply_batch(struct conn *c, const struct rx_batch *b, uint64_t apply,
    size_t *added)
{
	struct store_keyring *netonly = NULL;
	struct store_txn *t;
	size_t at = 0;
	int rc;

	*added = 0;
	if (b->n == 0)
		return 0;
	if (apply != UINT64_MAX &&
	    (netonly = team_network_keyring(c->srv->d)) == NULL)
		return STORE_ENOMEM;
	if ((rc = store_begin(c->srv->d->st, 0, &t)) != 0)
		goto out;
	rc = apply_entries(c, t, b, apply, netonly, added, &at);
	if (rc == STORE_EFORK) {
		rc = fork_batch(c, t, b, at);
		goto out;
	}
	if (rc == 0)
		rc = vec_save_peer(&c->theirs, t, c->remote);
	if (rc != 0)
		store_abort(t);
	else
		rc = store_commit(t);
out:
	sodium_free(netonly);
	return rc;
}

static void
send_refuse(struct conn *c, const uint8_t *author, uint64_t why)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	wire_pack_refuse(&pk, author, why);
	send_msg(c, &sb, 0);
	msgpack_sbuffer_destroy(&sb);
}

/* 0 if this device takes author's entries from seq first on from this
 * peer, else why not; *limit is the last seq it takes (a removed
 * device's cut-off). The records that add a device reach us before its
 * entries (see team_order), so an author we cannot place is no member. */
static int
author_refusal(struct conn *c, const uint8_t *author, uint64_t first,
    uint64_t *limit, int *keep)
{
	struct store_txn *t;
	char id[13];

	*limit = 0;
	*keep = 0;
	if (vec_find(&c->refused_in, author) != NULL)
		return REFUSE_NOT_MEMBER;
	if (store_begin(c->srv->d->st, STORE_RDONLY, &t) == 0) {
		*limit = team_limit(c->srv->d, t, author, keep);
		store_abort(t);
	}
	if (first <= *limit || *keep)
		return 0;
	short_id(id, author);
	if (*limit > 0)
		net_log("%s: refused the entries of %s after seq %llu: removed "
		    "from this team", who(c), id, (unsigned long long)*limit);
	else
		net_log("%s: refused the entries of %s: not a member of this "
		    "team", who(c), id);
	vec_raise(&c->refused_in, author, 1, NULL);
	return REFUSE_NOT_MEMBER;
}

/* A batch of a removed device that runs past its cut-off: the entries up
 * to it were applied; the rest, and anything later, is refused. */
static void
refuse_past_cutoff(struct conn *c, const uint8_t *author, uint64_t limit,
    size_t added)
{
	char id[13];

	short_id(id, author);
	net_log("%s: refused the entries of %s after seq %llu: removed from "
	    "this team", who(c), id, (unsigned long long)limit);
	vec_raise(&c->refused_in, author, 1, NULL);
	send_refuse(c, author, REFUSE_NOT_MEMBER);
	c->received += added;
	if (added > 0)
		server_changed(c->srv);
}

/* The entries before the newer one are applied; the author is refused
 * from it on, on this connection, until this device is upgraded. */
static void
refuse_newer(struct conn *c, const uint8_t *author, uint64_t seq,
    unsigned version, size_t added)
{
	char id[13];

	short_id(id, author);
	net_log("%s: the entries of %s from seq %llu are of envelope version "
	    "%u, newer than this Satchel reads (%u); they wait until this "
	    "device is upgraded", who(c), id, (unsigned long long)seq,
	    version, PROTO_VERSION);
	vec_raise(&c->refused_in, author, 1, NULL);
	send_refuse(c, author, REFUSE_NEWER);
	c->received += added;
	if (added > 0)
		server_changed(c->srv);
}

/* A batch stopped at a fork. If the author is frozen now, the peer gets
 * the evidence first, so that a forked device learns of its fork before
 * the refusal; the refusal then stops an older peer that cannot read it. */
static void
fork_refuse(struct conn *c, const uint8_t *author, uint64_t first,
    uint64_t last)
{
	struct store_txn *t;
	uint64_t fseq = 0;
	char id[13];
	int frozen = 0;

	if (store_begin(c->srv->d->st, STORE_RDONLY, &t) == 0) {
		frozen = store_fork_get(t, author, &fseq) == 0;
		if (frozen)
			send_fork(c, t, author, fseq);
		store_abort(t);
	}
	short_id(id, author);
	/* A one-shot sync says it once, as it ends (cmd_sync). */
	if (frozen && !c->srv->oneshot &&
	    memcmp(author, c->srv->d->id, PROTO_IDLEN) == 0) {
		char line[256];

		fork_self_line(line, sizeof(line), fseq);
		net_log("%s: %s", who(c), line);
	} else if (frozen)
		net_log("%s: fork: %s's log parts after seq %llu; its entries "
		    "past that are kept aside, not applied", who(c), id,
		    (unsigned long long)fseq);
	else
		net_log("%s: fork: refused %s:%llu-%llu: another entry is "
		    "held at that seq", who(c), id, (unsigned long long)first,
		    (unsigned long long)last);
	send_refuse(c, author, REFUSE_FORK);
	server_changed(c->srv);		/* tell the other peers too */
}

/* Acknowledges author's entries up to what this device now holds. */
static void
send_ack(struct conn *c, struct store_txn *t, const uint8_t *author,
    uint64_t last)
{
	uint8_t hash[PROTO_HASHLEN];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t head = last;

	if (t == NULL || store_head_get(t, author, &head, hash) != 0)
		head = last;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	wire_pack_ack(&pk, author, head);
	send_msg(c, &sb, 0);
	msgpack_sbuffer_destroy(&sb);
}

/* A key epoch's record came: its keys open what follows. */
static void
epoch_learn(struct conn *c)
{
	int rc;

	if ((rc = epoch_refresh(c->srv->d)) == 0)
		rc = epoch_heal(c->srv->d);
	if (rc == 1)
		net_log("two removals were made at once: started another key "
		    "epoch %u for the members that stay",
		    (unsigned)epoch_current(c->srv->d, NULL));
	else if (rc != 0)
		net_log("%s: could not learn the keys of a new epoch: %s",
		    who(c), store_strerror(rc));
}

/* What follows the commit of batches that went in whole: the epoch keys
 * they brought, their acknowledgements, and the relay. */
static void
entries_done(struct conn *c, const struct rx_batch *bs, size_t n,
    size_t added, int epoch)
{
	struct store_txn *t;
	int rc;

	server_disk_ok(c->srv);
	c->received += added;
	if (epoch)
		epoch_learn(c);
	/* An erase may have come, or what one named. */
	if (added > 0 && (rc = erase_refresh(c->srv->d)) != 0)
		net_log("%s: could not apply an erase: %s", who(c),
		    store_strerror(rc));
	server_peer_synced(c->srv, c);
	if (store_begin(c->srv->d->st, STORE_RDONLY, &t) != 0)
		t = NULL;
	for (size_t i = 0; i < n && c->state != CONN_CLOSED; i++)
		send_ack(c, t, bs[i].author, bs[i].last);
	store_abort(t);
	if (c->state == CONN_CLOSED)
		return;
	if (added > 0)
		server_changed(c->srv);		/* relay to the others */
	else
		conn_pump(c);
}

/* Batch b0 on its own: its author's membership and cut-off checked, then
 * applied and committed, then acknowledged, or refused. The path every
 * batch took before batches were grouped, and still the one for a batch
 * that is not plain (a removed author's, newer entries, a fork, an
 * error): what it does then is the same whatever came before. */
static void
entries_one(struct conn *c, const struct rx_batch *b0)
{
	struct rx_batch b = *b0;	/* n and last cut at a cut-off */
	uint64_t limit;
	size_t added;
	char id[13], why[160];
	int rc, why_not, past_cutoff = 0, keep;

	if ((why_not = author_refusal(c, b.author, b.first, &limit,
	    &keep)) != 0) {
		send_refuse(c, b.author, why_not);
		return;
	}
	if (b.n > 0 && b.last > limit && !keep) {	/* past a cut-off */
		b.n = (size_t)(limit - b.first + 1);
		b.last = limit;
		b.newer = 0;
		past_cutoff = 1;
	}
	if (b.n > 0)	/* saved with the batch */
		vec_raise(&c->theirs, b.author, b.last, NULL);
	if ((rc = apply_batch(c, &b, keep ? limit : UINT64_MAX,
	    &added)) == 0 && past_cutoff) {
		refuse_past_cutoff(c, b.author, limit, added);
		return;
	}
	if (rc == 0 && b.newer != 0) {
		refuse_newer(c, b.author, b.n > 0 ? b.last + 1 : b.first,
		    b.newer, added);
		return;
	}
	if (rc == STORE_EFORK) {
		fork_refuse(c, b.author, b.first, b.last);
		return;
	}
	if (rc != 0 && device_disk_full(rc)) {
		server_disk_full(c->srv, c);
		return;
	}
	if (rc != 0) {
		short_id(id, b.author);
		snprintf(why, sizeof(why), "refused batch %s:%llu-%llu: %s; "
		    "nothing applied", id, (unsigned long long)b.first,
		    (unsigned long long)b.last, store_strerror(rc));
		conn_close(c, why);
		return;
	}
	entries_done(c, &b, 1, added, added > 0 &&
	    epoch_in_batch(c->srv->d, &b));
}

/* Whether batch b goes into a group as it is: whole, of an author the
 * membership t holds (earlier batches of the group included) takes up to
 * its last entry, nothing newer. *apply is the last seq applied with
 * every key: past it (a box's entries, a removed admin's past its
 * cut-off) the network keys alone open them, as entries_one does. */
static int
batch_plain(struct conn *c, struct store_txn *t, const struct rx_batch *b,
    uint64_t *apply)
{
	uint64_t limit;
	int keep;

	if (b->n == 0 || b->newer != 0 ||
	    vec_find(&c->refused_in, b->author) != NULL)
		return 0;
	limit = team_limit(c->srv->d, t, b->author, &keep);
	*apply = keep ? limit : UINT64_MAX;
	return keep || limit >= b->last;
}

/* Applies inside t the leading plain batches of bs[0..n): *k says how
 * many, *added counts their new entries, *epoch says the last one brought
 * a key epoch (whose keys open the next ones: the group ends there). A
 * group takes no more batches once it has taken RX_GROUP_NS since t0 (any
 * says it holds one already): the peers' windows stay closed while it is
 * applied (see socket_drain). Each batch's author is checked inside the
 * transaction, so a membership change in an earlier batch counts as if it
 * had been committed alone. */
static int
group_apply(struct conn *c, struct store_txn *t, struct rx_batch *bs,
    size_t n, uint64_t t0, int any, size_t *k, size_t *added, int *epoch,
    struct store_keyring **netonly)
{
	uint64_t apply;
	size_t at;
	int rc;

	for (*k = 0; *k < n && !*epoch && ((!any && *k == 0) ||
	    uv_hrtime() - t0 < RX_GROUP_NS) && batch_plain(c, t, &bs[*k],
	    &apply); (*k)++) {
		size_t before = *added;

		if (apply != UINT64_MAX && *netonly == NULL &&
		    (*netonly = team_network_keyring(c->srv->d)) == NULL)
			return STORE_ENOMEM;
		vec_raise(&c->theirs, bs[*k].author, bs[*k].last, NULL);
		if ((rc = apply_entries(c, t, &bs[*k], apply, *netonly,
		    added, &at)) != 0)
			return rc;
		*epoch = *added > before && epoch_in_batch(c->srv->d, &bs[*k]);
		socket_drain(c);
		/* Closed on the way (out of memory): its queue, which bs may
		 * be, is gone; what went in stays, never acknowledged. */
		if (c->state == CONN_CLOSED) {
			(*k)++;
			break;
		}
	}
	return 0;
}

/* The leading plain batches of bs, in one transaction and one durable
 * commit, then each acknowledged: returns how many (0: the first goes
 * alone, by entries_one). An error undoes the whole group, and the first
 * batch, alone, meets it as it always did. */
static size_t
entries_group(struct conn *c, struct rx_batch *bs, size_t n)
{
	struct store_keyring *netonly = NULL;
	struct store_txn *t;
	size_t added = 0, k = 0;
	int rc, epoch = 0;

	if (n < 2 || store_begin(c->srv->d->st, 0, &t) != 0)
		return 0;
	rc = group_apply(c, t, bs, n, uv_hrtime(), 0, &k, &added, &epoch,
	    &netonly);
	if (rc == 0 && k > 0)
		rc = vec_save_peer(&c->theirs, t, c->remote);
	if (rc != 0 || k == 0)
		store_abort(t);
	else
		rc = store_commit(t);
	sodium_free(netonly);	/* after the commit, which may read keys */
	if (rc != 0 || k == 0)
		return 0;
	entries_done(c, bs, k, added, epoch);
	return k;
}

/* The empty slots keep their envs arrays for the next batches, up to
 * RX_ENVS_KEEP envelopes in all: many slots of small batches, or a few
 * of full ones, never full ones in every slot. */
static void
rx_envs_trim(struct conn *c)
{
	size_t kept = 0;

	for (size_t i = 0; c->rxq != NULL && i < RX_SLOTS; i++) {
		struct rx_batch *b = &c->rxq[i];

		if (i < c->nrxq || kept + b->envs_cap <= RX_ENVS_KEEP) {
			kept += b->envs_cap;
			continue;
		}
		free(b->envs);
		b->envs = NULL;
		b->envs_cap = 0;
	}
}

/* An idle connection's buffers, given back (heap_idle, serve.c): its
 * empty input buffer (a frame's size: up to 2 MB) and the envelope arrays
 * its empty slots kept. Each grows again with the next batch. */
void
conn_heap_idle(struct conn *c)
{
	if (c->state == CONN_CLOSED || c->nrxq > 0 || c->draining)
		return;
	for (size_t i = 0; c->rxq != NULL && i < RX_SLOTS; i++) {
		free(c->rxq[i].envs);
		c->rxq[i].envs = NULL;
		c->rxq[i].envs_cap = 0;
	}
	store_apply_buf_free(&c->abuf);
	if (c->in_len == 0) {
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
}

static void
rx_batch_release(struct rx_batch *b)
{
	rxprep_release(b);	/* first: a worker may be reading it */
	wire_msg_free(&b->m);
	free(b->pt);
	b->pt = NULL;
}

/* Batches waiting when the connection ends were never acknowledged. */
static void
rx_drop(struct conn *c)
{
	for (size_t i = 0; i < c->nrxq; i++)
		rx_batch_release(&c->rxq[i]);
	c->nrxq = c->rx_busy = 0;
}

/* Applies the waiting batches, in order: a run of plain ones together,
 * any other one alone, as it always was. */
static void
rx_flush(struct conn *c)
{
	struct rx_batch bs[RX_SLOTS];
	size_t n, k;

	if (c->nrxq <= c->rx_busy)
		return;		/* none, or all in the commit in flight */
	writer_wait(c->srv);	/* which may take them off (group_done) */
	if ((n = c->nrxq) == 0)
		return;
	/* Taken off the connection first: a close on the way drops none of
	 * them twice. The slots keep their envs arrays; bs borrows them. */
	memcpy(bs, c->rxq, n * sizeof(bs[0]));
	for (size_t i = 0; i < n; i++) {
		c->rxq[i].pt = NULL;
		c->rxq[i].prep = NULL;
	}
	c->nrxq = 0;
	for (size_t i = 0; i < n && c->state != CONN_CLOSED; i += k) {
		if ((k = entries_group(c, bs + i, n - i)) == 0) {
			entries_one(c, &bs[i]);
			k = 1;
		}
		socket_drain(c);
	}
	for (size_t i = 0; i < n; i++)
		rx_batch_release(&bs[i]);
	rx_envs_trim(c);
}

/* The batches wait for this loop turn's group commit (server_rx_due);
 * the connection is not read from meanwhile, and what it sent past them
 * waits in its buffer. */
static void
rx_defer(struct conn *c)
{
	if (c->rx_due)
		return;
	c->rx_due = 1;
	uv_read_stop((uv_stream_t *)&c->tcp);
	server_rx_due(c->srv);
}

static int
rx_waiting(const struct conn *c)
{
	return c->rx_due && c->state == CONN_SYNC && c->nrxq > 0;
}

/* Takes the first k batches off c's queue, once applied: the slots keep
 * their envs arrays, rotated to the end. */
static void
rx_shift(struct conn *c, size_t k)
{
	struct rx_batch tmp[RX_SLOTS];
	size_t n = c->nrxq;

	for (size_t i = 0; i < k; i++)
		rx_batch_release(&c->rxq[i]);
	memcpy(tmp, c->rxq + k, (n - k) * sizeof(tmp[0]));
	memcpy(tmp + n - k, c->rxq, k * sizeof(tmp[0]));
	memcpy(c->rxq, tmp, n * sizeof(tmp[0]));
	c->nrxq = n - k;
}

/* After the group's commit: each connection's batches in it are
 * acknowledged, then what they brought is learnt (a key epoch, an erase)
 * and relayed, once for all of them. */
static void
group_done(struct server *srv, size_t added, int epoch)
{
	struct store_txn *t;
	struct conn *first = NULL;
	uint8_t author[RX_SLOTS][PROTO_IDLEN];
	uint64_t last[RX_SLOTS];
	int rc;

	server_disk_ok(srv);
	if (store_begin(srv->d->st, STORE_RDONLY, &t) != 0)
		t = NULL;
	for (struct conn *c = srv->conns; c != NULL; c = c->next) {
		size_t k = c->rx_k;

		if (k == 0)
			continue;
		c->rx_k = 0;
		if (c->state == CONN_CLOSED || k > c->nrxq)
			continue;	/* its batches went with it, unacknowledged */
		first = first != NULL ? first : c;
		c->received += c->rx_added;
		for (size_t i = 0; i < k; i++) {
			memcpy(author[i], c->rxq[i].author, PROTO_IDLEN);
			last[i] = c->rxq[i].last;
		}
		rx_shift(c, k);
		server_peer_synced(srv, c);
		for (size_t i = 0; i < k && c->state != CONN_CLOSED; i++)
			send_ack(c, t, author[i], last[i]);
		if (added == 0 && c->state != CONN_CLOSED)
			c->pump_due = 1;	/* once t is closed: a pump
						 * opens its own read */
	}
	store_abort(t);
	for (struct conn *c = srv->conns; added == 0 && c != NULL; c = c->next)
		if (c->state != CONN_CLOSED && !c->draining)
			pump_if_due(c);
	if (epoch && first != NULL)
		epoch_learn(first);
	if (added > 0 && (rc = erase_refresh(srv->d)) != 0)
		net_log("could not apply an erase: %s", store_strerror(rc));
	if (added > 0)
		server_changed(srv);		/* relay to the others */
}

/* A group of SYNC_BATCH entries or more (three full batches of 1 KB
 * notes) is committed on the writer thread (writer.c), while the loop
 * reads the next one: a small group's commit is short, and a one-shot
 * sync of a few notes starts no thread. */
static int
group_long(const struct server *srv)
{
	size_t entries = 0;

	for (const struct conn *c = srv->conns; c != NULL; c = c->next)
		for (size_t i = 0; rx_waiting(c) && i < c->nrxq; i++)
			entries += c->rxq[i].n;
	return entries >= SYNC_BATCH;
}

/* The group's commit returned: acknowledged, or each batch alone. */
static void
group_committed(struct server *srv, int rc, void *arg)
{
	struct group_flight f = srv->flight;

	(void)arg;
	sodium_free(f.netonly);	/* after the commit, which may read keys */
	srv->flight.netonly = NULL;
	for (struct conn *c = srv->conns; c != NULL; c = c->next) {
		if (c->rx_busy == 0)
			continue;
		c->rx_busy = 0;
		if (rc != 0 && c->state == CONN_SYNC && c->nrxq > 0) {
			c->rx_k = 0;	/* rx_flush meets them, one by one */
			c->rx_due = 1;
			uv_read_stop((uv_stream_t *)&c->tcp);
		}
	}
	if (rc != 0)
		srv->group_failed = 1;
	else
		group_done(srv, f.added, f.epoch);
	server_rx_due(srv);	/* what came meanwhile */
}

/* Ends the group begun on t: committed on the writer thread (long), or
 * here; 0 once it is on disk or in flight. */
static int
group_end(struct server *srv, struct store_txn *t, int long_, size_t added,
    int epoch, struct store_keyring *netonly)
{
	int rc;

	if (!long_) {
		rc = store_commit(t);
		sodium_free(netonly);	/* after the commit */
		if (rc == 0)
			group_done(srv, added, epoch);
		return rc;
	}
	srv->flight.added = added;
	srv->flight.epoch = epoch;
	srv->flight.netonly = netonly;
	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		c->rx_busy = c->state == CONN_SYNC ? c->rx_k : 0;
	writer_commit(srv, t, group_committed, NULL);
	return 0;
}

/*
 * The batches that wait on every connection, the leading plain ones of
 * each, in one transaction and one durable commit, each acknowledged only
 * once it is on disk. A group of one connection is rx_flush's; an error
 * undoes the whole group, and each connection then meets its batches
 * alone, as it always did.
 */
static void
group_across(struct server *srv)
{
	struct store_keyring *netonly = NULL;
	struct store_txn *t;
	uint64_t t0 = uv_hrtime();
	size_t added = 0, n = 0;
	int rc = 0, epoch = 0, any = 0, long_;

	for (struct conn *c = srv->conns; c != NULL; c = c->next) {
		c->rx_k = c->rx_added = 0;
		n += rx_waiting(c);
	}
	long_ = n > 0 && group_long(srv);
	if (n < 2 && !long_)
		return;		/* rx_flush's */
	if ((long_ ? writer_begin(srv, &t) : store_begin(srv->d->st, 0,
	    &t)) != 0)
		return;
	for (struct conn *c = srv->conns; c != NULL && rc == 0 && !epoch;
	    c = c->next) {
		size_t before = added;

		if (!rx_waiting(c))
			continue;
		rc = group_apply(c, t, c->rxq, c->nrxq, t0, any, &c->rx_k,
		    &added, &epoch, &netonly);
		c->rx_added = added - before;
		if (rc == 0 && c->rx_k > 0) {
			any = 1;
			rc = vec_save_peer(&c->theirs, t, c->remote);
		}
	}
	if (rc != 0 || !any) {
		if (long_)
			writer_abort(srv, t);
		else
			store_abort(t);
		sodium_free(netonly);
	} else
		rc = group_end(srv, t, long_, added, epoch, netonly);
	if (rc != 0 || !any)
		for (struct conn *c = srv->conns; c != NULL; c = c->next)
			c->rx_k = 0;
}

/* What waits on c after the group: its other batches (each alone, or a
 * group of its own), the message after them, then its reading again. */
static void
rx_resume(struct conn *c)
{
	uint8_t *pt;

	c->rx_due = 0;
	if (c->state != CONN_SYNC)
		return;
	rx_flush(c);
	rx_envs_trim(c);
	if (c->held != NULL && c->state == CONN_SYNC) {
		pt = c->held;
		c->held = NULL;
		handle_msg(c, &pt, c->held_len, c->held_final);
		free(pt);
	}
	if (c->state != CONN_SYNC || c->rx_due)
		return;
	if (c->read_paused && c->queued < SEND_QUEUE_MAX)
		c->read_paused = 0;
	if (!c->read_paused)
		uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb,
		    conn_read_cb);
	drain_frames(c);
}

/* Called once a loop turn while batches wait (server_rx_due): applies
 * them, then handles what each connection sent after them. */
void
rx_flush_due(struct server *srv)
{
	if (writer_busy(srv))
		return;		/* group_committed calls it again */
	/* First what waited through the last group's commit: another
	 * connection with a long group ready at every commit would keep
	 * it waiting for good. */
	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		if (c->rx_left) {
			c->rx_left = 0;
			if (c->rx_due)
				rx_resume(c);
		}
	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		if (rx_waiting(c) && c->rx_group < RX_GROUP_MAX)
			c->rx_group *= 2;
	if (!srv->group_failed)
		group_across(srv);
	srv->group_failed = 0;
	for (struct conn *c = srv->conns; c != NULL; c = c->next) {
		if (!c->rx_due)
			continue;
		/* With a group's commit in flight, what else waits (batches
		 * past it, a message after them) waits for it; a connection
		 * with nothing else is read on meanwhile. */
		if (writer_busy(srv) && (c->nrxq > c->rx_busy ||
		    c->held != NULL || c->nrxq == RX_SLOTS)) {
			c->rx_left = 1;
			continue;
		}
		rx_resume(c);
	}
}

/* The waiting batches make a group: rx_group full batches' worth. */
static int
rx_group_full(const struct conn *c)
{
	size_t entries = 0, bytes = 0;

	for (size_t i = c->rx_busy; i < c->nrxq; i++) {
		entries += c->rxq[i].m.n;
		bytes += c->rxq[i].bytes;
	}
	return entries >= c->rx_group * SYNC_BATCH ||
	    bytes >= c->rx_group * SYNC_BATCH_BYTES;
}

/* A batch of entries: checked in shape, then kept with the ones before
 * it until rx_flush applies them. Takes m and *ptp (which m borrows) and
 * returns 1, or returns 0 with both left to the caller. */
static int
handle_entries(struct conn *c, struct wire_msg *m, uint8_t **ptp, size_t len)
{
	struct rx_batch *b;

	if (c->rxq == NULL &&
	    (c->rxq = calloc(RX_SLOTS, sizeof(*c->rxq))) == NULL) {
		conn_close(c, "out of memory");
		return 0;
	}
	if (c->nrxq == RX_SLOTS) {	/* never: a full queue stops reading */
		conn_close(c, "refused: more batches than it may send at once");
		return 0;
	}
	b = &c->rxq[c->nrxq];
	if (m->n > 0 && batch_envs(b, m->n) == NULL) {
		conn_close(c, "out of memory");
		return 0;
	}
	b->first = b->last = 0;
	if (batch_shape(m, b->envs, b->author, &b->first, &b->last, &b->n,
	    &b->newer) != 0) {
		rx_flush(c);
		conn_close(c, "refused batch: not one author's entries in order");
		return 0;
	}
	b->m = *m;
	b->pt = *ptp;
	b->bytes = len;
	*ptp = NULL;
	if (c->rx_inline)
		b->prep = NULL;
	else
		rxprep_start(c->srv, b);
	if (++c->nrxq == RX_SLOTS || rx_group_full(c) || b->newer != 0)
		rx_defer(c);
	return 1;
}

/* The window: SYNC_WINDOW batches in flight, or more small ones (see
 * SYNC_WINDOW_MAX). Each batch is answered once, in order, by an
 * acknowledgement or a refusal. */
static int
window_open(const struct conn *c)
{
	return c->inflight < SYNC_WINDOW || (c->inflight < SYNC_WINDOW_MAX &&
	    c->unacked_sum < SYNC_BATCH);
}

static void
window_sent(struct conn *c, size_t n)
{
	if (c->unacked_n < SYNC_WINDOW_MAX) {
		c->unacked[(c->unacked_head + c->unacked_n++) %
		    SYNC_WINDOW_MAX] = (uint32_t)n;
		c->unacked_sum += n;
	}
	c->inflight++;
}

static void
window_answered(struct conn *c)
{
	if (c->inflight > 0)
		c->inflight--;
	if (c->unacked_n > 0) {
		c->unacked_sum -= c->unacked[c->unacked_head];
		c->unacked_head = (c->unacked_head + 1) % SYNC_WINDOW_MAX;
		c->unacked_n--;
	}
}

static void
handle_ack(struct conn *c, const struct wire_msg *m)
{
	window_answered(c);
	vec_raise(&c->theirs, m->author, m->seq, NULL);
	c->vec_dirty = 1;	/* not a commit per ack: the tick saves it */
	server_wake(c->srv);
	server_peer_synced(c->srv, c);
	if (c->draining)
		c->pump_due = 1;	/* after the read's other acks */
	else
		conn_pump(c);
}

static int
author_frozen(struct conn *c, const uint8_t *author)
{
	struct store_txn *t;
	uint64_t fseq;
	int frozen = 0;

	if (store_begin(c->srv->d->st, STORE_RDONLY, &t) == 0) {
		frozen = store_fork_get(t, author, &fseq) == 0;
		store_abort(t);
	}
	return frozen;
}

/* The peer takes no more of this author: stop sending it. The refusal
 * answers a batch, as an acknowledgement would. */
static void
handle_refuse(struct conn *c, const struct wire_msg *m)
{
	char id[13];

	window_answered(c);
	/* A fork we know of: the peer has had its evidence, and still takes
	 * the author's entries up to the fork point. */
	if (m->seq == REFUSE_FORK && author_frozen(c, m->author)) {
		conn_pump(c);
		return;
	}
	if (vec_find(&c->refused_out, m->author) == NULL) {
		short_id(id, m->author);
		net_log("%s: it takes no entries of %s (%s)", who(c), id,
		    m->seq == REFUSE_FORK ? "a fork" : m->seq == REFUSE_NEWER ?
		    "a newer format than it reads" : "not a member there");
		vec_raise(&c->refused_out, m->author, 1, NULL);
		/* A fork it saw and could not show us: nothing to wait for. */
		if (m->seq == REFUSE_FORK)
			vec_raise(&c->refused_in, m->author, 1, NULL);
	}
	conn_pump(c);
}

/* Handles one message; a batch of entries takes *ptp, the plaintext it
 * borrows from (then NULL). */
static void
handle_msg(struct conn *c, uint8_t **ptp, size_t len, int final)
{
	struct wire_msg m;

	if (wire_decode(&m, *ptp, len) != 0) {
		conn_close(c, "refused: malformed message");
		return;
	}
	if (final != (m.type == MSG_BYE) || (!c->have_vector &&
	    m.type != MSG_VECTOR)) {
		wire_msg_free(&m);
		conn_close(c, "refused: message out of order");
		return;
	}
	/* Answers go in the order of what they answer: a message after
	 * batches that wait is handled once they are applied. */
	if (m.type != MSG_ENTRIES && c->nrxq > 0) {
		wire_msg_free(&m);
		c->held = *ptp;
		c->held_len = len;
		c->held_final = final;
		*ptp = NULL;
		rx_defer(c);
		return;
	}
	if (m.type != MSG_ACK && c->pump_due) {
		pump_if_due(c);		/* in the order it always went */
		if (c->state == CONN_CLOSED) {
			wire_msg_free(&m);
			return;
		}
	}
	switch (m.type) {
	case MSG_VECTOR:
		handle_vector(c, &m);
		break;
	case MSG_ENTRIES:
		if (handle_entries(c, &m, ptp, len))
			return;		/* m waits with its batch */
		break;
	case MSG_ACK:
		handle_ack(c, &m);
		break;
	case MSG_REFUSE:
		handle_refuse(c, &m);
		break;
	case MSG_BYE:
		/* A daemon answers with its own end mark once what it queued
		 * (a fork's evidence, say) is written, so the one-shot side
		 * reads all of it before it closes. */
		c->got_bye = 1;
		if (c->sent_bye)
			conn_close(c, NULL);
		else if (!c->srv->oneshot)
			conn_bye(c);
		break;
	}
	wire_msg_free(&m);
}

static void
handle_frame(struct conn *c, const uint8_t *p, size_t len)
{
	unsigned char tag;
	uint8_t *pt;
	unsigned long long plen;

	if (c->state == CONN_HANDSHAKE) {
		handle_handshake(c, p, len);
		return;
	}
	if (c->state == CONN_HEADER) {
		if (len != crypto_secretstream_xchacha20poly1305_HEADERBYTES ||
		    crypto_secretstream_xchacha20poly1305_init_pull(&c->rx, p,
		    c->rx_key) != 0) {
			conn_close(c, "refused: bad stream header");
			return;
		}
		sodium_memzero(c->rx_key, sizeof(c->rx_key));
		c->state = CONN_SYNC;
		return;
	}
	if (c->got_bye || len < crypto_secretstream_xchacha20poly1305_ABYTES ||
	    (pt = malloc(len)) == NULL) {
		conn_close(c, "refused: frame after the end of the session");
		return;
	}
	if (crypto_secretstream_xchacha20poly1305_pull(&c->rx, pt, &plen, &tag,
	    p, len, NULL, 0) != 0) {
		free(pt);
		conn_close(c, "refused: a frame failed authentication");
		return;
	}
	handle_msg(c, &pt, (size_t)plen,
	    tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	free(pt);
}

/* ---- sending what the peer lacks ---- */

/* A batch is packed behind room for its message header, which needs the
 * count: the header then goes right before the entries, and the whole is
 * sealed from there, with no second copy. */
#define ENTRIES_HDR_MAX	5	/* [2-array, MSG_ENTRIES, array16 count] */

struct batch {
	msgpack_sbuffer	 body;		/* reused from one batch to the next */
	size_t		 n;
	uint64_t	 last;
};

static int
read_batch(struct store_txn *t, const uint8_t *author, uint64_t from,
    uint64_t head, struct batch *b)
{
	msgpack_packer pk;
	size_t bytes = 0;

	msgpack_sbuffer_clear(&b->body);
	if (msgpack_sbuffer_write(&b->body, "\0\0\0\0\0",
	    ENTRIES_HDR_MAX) != 0)
		return -1;
	msgpack_packer_init(&pk, &b->body, msgpack_sbuffer_write);
	b->n = 0;
	for (uint64_t seq = from; seq <= head && b->n < SYNC_BATCH &&
	    bytes < SYNC_BATCH_BYTES; seq++) {
		const uint8_t *env;
		size_t len;

		if (store_log_get(t, author, seq, &env, &len) != 0)
			return -1;
		wire_pack_entry(&pk, env, len);
		bytes += len;
		b->n++;
		b->last = seq;
	}
	return 0;
}

static int
send_batch(struct conn *c, struct batch *b)
{
	msgpack_sbuffer hdr;
	msgpack_packer pk;
	size_t off;
	int rc = -1;

	msgpack_sbuffer_init(&hdr);
	msgpack_packer_init(&pk, &hdr, msgpack_sbuffer_write);
	wire_pack_entries_begin(&pk, b->n);
	if (hdr.size <= ENTRIES_HDR_MAX) {
		off = ENTRIES_HDR_MAX - hdr.size;
		memcpy(b->body.data + off, hdr.data, hdr.size);
		rc = send_sealed(c, (const uint8_t *)b->body.data + off,
		    b->body.size - off, 0);
	}
	msgpack_sbuffer_destroy(&hdr);
	return rc;
}

/* Sends author's entries from + 1 to to, within the window; tracks how
 * far it got in track. Returns the last seq sent. */
static uint64_t
send_run(struct conn *c, struct store_txn *t, const uint8_t *author,
    uint64_t from, uint64_t to, struct vec *track, int windowed)
{
	struct batch b;

	msgpack_sbuffer_init(&b.body);
	while (from < to && c->state == CONN_SYNC && !c->pump_failed &&
	    (!windowed || (window_open(c) && c->queued < SEND_QUEUE_MAX))) {
		if (read_batch(t, author, from + 1, to, &b) != 0 ||
		    send_batch(c, &b) != 0) {
			c->pump_failed = 1;	/* closed once t ends */
			break;
		}
		vec_raise(track, author, b.last, NULL);
		c->sent_count += b.n;
		window_sent(c, b.n);
		from = b.last;
	}
	msgpack_sbuffer_destroy(&b.body);
	return from;
}

/* One entry as a batch of its own. */
static int
send_one(struct conn *c, const uint8_t *env, size_t len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	wire_pack_entries_begin(&pk, 1);
	wire_pack_entry(&pk, env, len);
	rc = send_msg(c, &sb, 0);
	msgpack_sbuffer_destroy(&sb);
	if (rc == 0) {
		window_sent(c, 1);
		c->sent_count++;
	}
	return rc;
}

static int
kept_cb(const uint8_t *env, size_t len, void *arg)
{
	return send_one(arg, env, len) != 0;
}

/*
 * A frozen author, once per connection: the two entries that prove the
 * fork, each a batch of its own, which any peer holding the entries up to
 * the fork point can check (an older peer refuses the second, and stops
 * that author only). Between the forked device and its peers every entry
 * past the fork goes too, so that `satchel fork repair` on the forked
 * device can carry all of them back into the team.
 */
static void
send_fork(struct conn *c, struct store_txn *t, const uint8_t *author,
    uint64_t fseq)
{
	const uint8_t *env[2];
	size_t len[2];
	uint64_t head;
	uint8_t hash[PROTO_HASHLEN];

	if (vec_find(&c->fork_sent, author) != NULL)
		return;
	vec_raise(&c->fork_sent, author, 1, NULL);
	if (store_fork_evidence(t, author, env, len) != 0 ||
	    send_one(c, env[0], len[0]) != 0 || send_one(c, env[1], len[1]))
		return;
	if (memcmp(author, c->remote, PROTO_IDLEN) != 0 &&
	    memcmp(author, c->srv->d->id, PROTO_IDLEN) != 0)
		return;
	if (store_head_get(t, author, &head, hash) == 0) {
		struct vec past = { 0 };

		send_run(c, t, author, fseq, head, &past, 0);
		vec_free(&past);
	}
	if (store_fork_kept_each(t, author, kept_cb, c) != 0)
		c->pump_failed = 1;
}

/* Pumping author o may send something: what pump_authors would do for
 * it, short of doing it. */
static int
author_due(const struct conn *c, const struct pump_view *v,
    const struct vec_item *o)
{
	const struct vec_item *pr = vec_find(&c->probe, o->author);
	const struct vec_item *fz = vec_find(&v->frozen, o->author);
	uint64_t from = vec_seq(&c->theirs, o->author), to = o->seq;

	if (vec_find(&c->refused_out, o->author) != NULL)
		return 0;
	if (fz == NULL && pr != NULL)
		return vec_seq(&c->probe_sent, o->author) < pr->seq;
	if (fz != NULL && to > fz->seq)
		to = fz->seq;
	if (c->snapshot && to > vec_seq(&c->upto, o->author))
		to = vec_seq(&c->upto, o->author);
	if (vec_seq(&c->sent, o->author) > from)
		from = vec_seq(&c->sent, o->author);
	return from < to || (fz != NULL && vec_find(&c->fork_sent,
	    o->author) == NULL);
}

/* Sends the next batches of whatever the peer lacks, within the window.
 * A frozen author goes up to its fork point, then its evidence; an author
 * whose fork the vectors showed goes from seq 1 up to the peer's head.
 * Authors go in team order (the view's, read once per store version). */
static void
pump_authors(struct conn *c, const struct pump_view *v)
{
	const struct vec *ours = &v->ours;
	struct store_txn *t = v->t;

	for (size_t k = 0; k < ours->n && c->state == CONN_SYNC &&
	    !c->pump_failed; k++) {
		const struct vec_item *o = &ours->items[v->order[k]];
		const struct vec_item *pr, *fz;
		uint64_t from, to;

		if (!author_due(c, v, o))
			continue;
		pr = vec_find(&c->probe, o->author);
		fz = vec_find(&v->frozen, o->author);
		from = vec_seq(&c->theirs, o->author);
		to = o->seq;
		if (fz == NULL && pr != NULL) {
			send_run(c, t, o->author, vec_seq(&c->probe_sent,
			    o->author), pr->seq, &c->probe_sent, 1);
			continue;
		}
		if (fz != NULL && to > fz->seq)
			to = fz->seq;
		if (c->snapshot && to > vec_seq(&c->upto, o->author))
			to = vec_seq(&c->upto, o->author);
		if (vec_seq(&c->sent, o->author) > from)
			from = vec_seq(&c->sent, o->author);
		from = send_run(c, t, o->author, from, to, &c->sent, 1);
		if (fz != NULL && from >= to && window_open(c))
			send_fork(c, t, o->author, fz->seq);
	}
}

/* We hold what the peer offers of author, as far as we take it. */
static int
have_offered(const struct conn *c, struct store_txn *t,
    const struct vec *ours, const struct vec_item *w)
{
	uint64_t fseq;

	if (store_fork_get(t, w->author, &fseq) != 0)
		return vec_seq(ours, w->author) >= w->seq;
	/* Past the fork only the forked device itself takes the entries,
	 * and waits for them. */
	if (w->seq <= fseq || memcmp(w->author, c->srv->d->id,
	    PROTO_IDLEN) != 0)
		return vec_seq(ours, w->author) >= (w->seq < fseq ? w->seq :
		    fseq);
	return store_fork_holds(t, w->author, w->seq, w->hash);
}

/* Everything sent is acknowledged, and we hold all the peer offered. */
static int
caught_up(const struct conn *c, struct store_txn *t, const struct vec *ours)
{
	/* Batches committed are in our heads before they are acknowledged
	 * (writer.c): a goodbye then would go before their acks. */
	if (c->inflight > 0 || c->rx_busy > 0)
		return 0;
	for (size_t i = 0; i < ours->n; i++) {
		const struct vec_item *o = &ours->items[i];
		const struct vec_item *pr = vec_find(&c->probe, o->author);
		uint64_t to = o->seq, fseq;

		if (vec_find(&c->refused_out, o->author) != NULL)
			continue;
		if (store_fork_get(t, o->author, &fseq) == 0) {
			if (vec_find(&c->fork_sent, o->author) == NULL)
				return 0;
			to = to < fseq ? to : fseq;
		} else if (pr != NULL) {
			if (vec_seq(&c->probe_sent, o->author) < pr->seq)
				return 0;
			continue;
		}
		if (vec_seq(&c->theirs, o->author) < to)
			return 0;
	}
	for (size_t i = 0; i < c->want.n; i++)
		if (vec_find(&c->refused_in, c->want.items[i].author) ==
		    NULL && !have_offered(c, t, ours, &c->want.items[i]))
			return 0;
	return 1;
}

/* Reads our heads, which of their authors are frozen, and their team
 * order into v, from v->t. */
static int
pump_view_read(struct server *srv, struct pump_view *v)
{
	uint64_t fseq;

	if (vec_from_heads(&v->ours, v->t) != 0)
		return -1;
	for (size_t i = 0; i < v->ours.n; i++)
		if (store_fork_get(v->t, v->ours.items[i].author, &fseq) == 0 &&
		    vec_raise(&v->frozen, v->ours.items[i].author, fseq,
		    NULL) != 0)
			return -1;
	if ((v->order = malloc((v->ours.n ? v->ours.n : 1) *
	    sizeof(*v->order))) == NULL)
		return -1;
	team_order(srv->d, v->t, &v->ours, v->order);
	return 0;
}

static void
pump_cache_drop(struct pump_cache *pc)
{
	vec_free(&pc->ours);
	vec_free(&pc->frozen);
	free(pc->order);
	pc->order = NULL;
	pc->ok = 0;
}

/* Our heads, frozen authors and team order, for every connection a
 * change is pumped to: read again only when the store has changed since
 * the last view (any commit, by any process), else borrowed from the
 * server's cache. */
int
pump_view_open(struct server *srv, struct pump_view *v)
{
	struct pump_cache *pc = &srv->view;
	size_t nkeys = srv->d->keyring != NULL ? srv->d->keyring->nkeys : 0;
	uint64_t id;

	memset(v, 0, sizeof(*v));
	if (store_begin(srv->d->st, STORE_RDONLY, &v->t) != 0)
		return -1;
	id = store_txn_id(v->t);
	/* A key learnt without a commit (epoch_refresh) may place members
	 * the last view could not read. */
	if (!pc->ok || pc->txn != id || pc->nkeys != nkeys) {
		if (pump_view_read(srv, v) != 0) {
			pump_view_close(v);
			return -1;
		}
		if (pc->users > 0)
			return 0;	/* v keeps its own */
		pump_cache_drop(pc);
		pc->ours = v->ours;
		pc->frozen = v->frozen;
		pc->order = v->order;
		pc->txn = id;
		pc->nkeys = nkeys;
		pc->ok = 1;
	}
	v->ours = pc->ours;
	v->frozen = pc->frozen;
	v->order = pc->order;
	v->cache = pc;
	pc->users++;
	return 0;
}

void
pump_view_close(struct pump_view *v)
{
	store_abort(v->t);
	v->t = NULL;
	if (v->cache != NULL)
		v->cache->users--;
	else {
		vec_free(&v->ours);
		vec_free(&v->frozen);
		free(v->order);
	}
	memset(v, 0, sizeof(*v));
}

/* The server's cache, as it stops. */
void
pump_cache_free(struct server *srv)
{
	pump_cache_drop(&srv->view);
}

void
conn_pump_view(struct conn *c, const struct pump_view *v)
{
	int done;

	if (c->state != CONN_SYNC || !c->have_vector || c->sent_bye)
		return;
	pump_authors(c, v);
	done = c->state == CONN_SYNC && !c->pump_failed && c->srv->oneshot &&
	    caught_up(c, v->t, &v->ours);
	if (c->pump_failed) {
		conn_close(c, "cannot read the log");
		return;
	}
	if (done) {
		c->done = 1;
		conn_bye(c);
	}
}

void
conn_pump(struct conn *c)
{
	struct pump_view v;

	if (c->state != CONN_SYNC || !c->have_vector || c->sent_bye)
		return;
	if (pump_view_open(c->srv, &v) != 0)
		return;
	conn_pump_view(c, &v);
	pump_view_close(&v);
}

static void
shutdown_cb(uv_shutdown_t *req, int status)
{
	struct conn *c = req->data;

	free(req);
	if (c->got_bye || status != 0)
		conn_close(c, NULL);
	/* else: read on until the peer's end mark, or its EOF */
}

/* Ends the session with a FINAL frame, then closes once it is written. */
void
conn_bye(struct conn *c)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uv_shutdown_t *req;

	if (c->state != CONN_SYNC || c->sent_bye)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	wire_pack_bye(&pk);
	send_msg(c, &sb, 1);
	c->sent_bye = 1;
	msgpack_sbuffer_destroy(&sb);
	conn_flush(c);		/* the shutdown goes after every frame */
	if (c->state == CONN_CLOSED)
		return;
	if ((req = malloc(sizeof(*req))) == NULL) {
		conn_close(c, NULL);
		return;
	}
	req->data = c;
	if (uv_shutdown(req, (uv_stream_t *)&c->tcp, shutdown_cb) != 0) {
		free(req);
		conn_close(c, NULL);
	}
}
