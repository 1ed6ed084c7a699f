/*
 * The page's server: libmicrohttpd with no thread of its own, its epoll
 * fd polled by the daemon's libuv loop, so a request runs in the loop
 * like a peer's batch and its write is the store's one writer's.
 *
 * The page holds children's data on a shared laptop, so before any
 * endpoint runs: the Host must name this server (no DNS rebinding: 421);
 * an Origin, when sent, must be the page's own (403); /api/ wants the
 * key of DIR/api.key as a Bearer token, or the session cookie that a
 * one-time login link (satchel open) gave, which expires when idle and
 * survives a restart (session.c); a state-changing request made with
 * the cookie must carry the page's Origin. Every answer forbids
 * framing, sniffing and caching.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "dl.h"
#include "http.h"
#include "net.h"

/* libmicrohttpd is opened by http_start (dl.h), so that the commands
 * that serve no page do not load it and GnuTLS behind it. */
#ifndef MHD_SONAME
#define MHD_SONAME	"libmicrohttpd.so.12"
#endif
#define MHD_SYMS(X)							\
	X(MHD_start_daemon) X(MHD_stop_daemon) X(MHD_run)		\
	X(MHD_get_daemon_info) X(MHD_get_timeout)			\
	X(MHD_lookup_connection_value) X(MHD_queue_response)		\
	X(MHD_create_response_from_buffer) X(MHD_destroy_response)	\
	X(MHD_add_response_header) X(MHD_suspend_connection)		\
	X(MHD_resume_connection)
MHD_SYMS(DL_DEFINE)

#define COOKIE_NAME	"satchel_session"

struct http_req {
	struct http	*h;
	struct MHD_Connection *conn;
	char		*body;
	size_t		 len, cap;
	int		 too_big;
	int		 waiting;	/* suspended in an events request */
	uint64_t	 deadline;
	struct session	*session;	/* the cookie's, if that is the way in */
	struct http_req	*next;		/* in h->waiters */
};

struct http {
	struct server	*srv;
	struct device	*d;
	uv_loop_t	*loop;
	struct MHD_Daemon *mhd;
	uv_poll_t	 poll;
	uv_timer_t	 timer;
	int		 handles;	/* poll and timer initialised */
	char		 host[64];	/* the listening address's host */
	int		 port;
	char		 key[HTTP_KEY_HEXLEN + 1];
	char		 addr_file[4200];
	uint64_t	 idle_ms;
	uint64_t	 seq;		/* bumped by every change */
	struct sessions	 sessions;	/* session.c */
	struct http_req	*waiters;
};

static void http_pump(struct http *);
static void timer_cb(uv_timer_t *);

struct device *
http_device(struct http_req *r)
{
	return r->h->d;
}

struct http *
http_of(struct http_req *r)
{
	return r->h;
}

uint64_t
http_seq(const struct http *h)
{
	return h->seq;
}

const char *
http_arg(struct http_req *r, const char *name)
{
	return sym_MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

/* --- replies ------------------------------------------------------- */

void
reply_json(struct http_reply *rep, unsigned status, json_t *body)
{
	if (rep->body != NULL)
		json_decref(rep->body);
	rep->status = status;
	rep->body = body;
}

void
reply_error(struct http_reply *rep, unsigned status, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_json(rep, status, json_pack("{s:o}", "error", jstr(msg)));
}

/* What every answer carries: the page loads nothing from elsewhere, is
 * never framed, never sniffed, and student data is never cached. */
static void
secure_headers(struct MHD_Response *resp)
{
	sym_MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
	    "form-action 'self'");
	sym_MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	sym_MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	sym_MHD_add_response_header(resp, "Cache-Control", "no-store");
	sym_MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	sym_MHD_add_response_header(resp, "Cross-Origin-Resource-Policy",
	    "same-origin");
}

static enum MHD_Result
send_bytes(struct MHD_Connection *conn, unsigned status, const void *buf,
    size_t len, enum MHD_ResponseMemoryMode mode, const char *type,
    const char *cookie, const char *location)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = sym_MHD_create_response_from_buffer(len, (void *)buf, mode);
	if (resp == NULL)
		return MHD_NO;
	secure_headers(resp);
	sym_MHD_add_response_header(resp, "Content-Type", type);
	if (cookie != NULL)
		sym_MHD_add_response_header(resp, "Set-Cookie", cookie);
	if (location != NULL)
		sym_MHD_add_response_header(resp, "Location", location);
	ret = sym_MHD_queue_response(conn, status, resp);
	sym_MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
send_reply(struct http_req *r, struct http_reply *rep)
{
	char *text;
	const char *cookie = rep->clear_cookie ? COOKIE_NAME "=; Path=/; "
	    "HttpOnly; SameSite=Strict; Max-Age=0" : NULL;

	if (rep->body == NULL)
		rep->body = json_object();
	text = json_dumps(rep->body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(rep->body);
	rep->body = NULL;
	if (text == NULL)
		return MHD_NO;
	return send_bytes(r->conn, rep->status, text, strlen(text),
	    MHD_RESPMEM_MUST_FREE, "application/json; charset=utf-8", cookie,
	    NULL);
}

static enum MHD_Result
send_error(struct http_req *r, unsigned status, const char *msg)
{
	struct http_reply rep = { 0, NULL, 0 };

	reply_error(&rep, status, "%s", msg);
	return send_reply(r, &rep);
}

/* --- who may ask ---------------------------------------------------- */

/* "127.0.0.1:7421", "localhost:7421", "[::1]:7421" or the listening
 * address: a name that resolves elsewhere (DNS rebinding) is refused. */
static int
host_ok(const struct http *h, const char *host)
{
	char want[96];
	const char *names[] = { "127.0.0.1", "localhost", "[::1]", h->host };

	if (host == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(want, sizeof(want), "%s:%d", names[i], h->port);
		if (strcasecmp(host, want) == 0)
			return 1;
	}
	return 0;
}

static int
origin_ok(const struct http *h, const char *origin)
{
	return origin != NULL && strncmp(origin, "http://", 7) == 0 &&
	    host_ok(h, origin + 7);
}

static int
key_ok(const struct http *h, const char *auth)
{
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 ||
	    strlen(auth + 7) != HTTP_KEY_HEXLEN)
		return 0;
	return sodium_memcmp(auth + 7, h->key, HTTP_KEY_HEXLEN) == 0;
}

void
http_lock(struct http_req *r)
{
	if (r->session != NULL)
		session_end(&r->h->sessions, r->session);
	r->session = NULL;
}

/* The login link's token, once: its hash is in the store's meta table
 * ("login:HASH" = expiry ms), put there by satchel open and deleted on
 * first use, so a replayed link finds nothing. */
static int
login_take(struct http *h, const char *token)
{
	uint8_t hash[32];
	char key[80], hex[65];
	const void *val;
	size_t len;
	uint64_t until = 0;
	struct store_txn *t;
	int rc;

	if (token == NULL || strlen(token) != 64)
		return -1;
	crypto_generichash(hash, sizeof(hash), (const uint8_t *)token, 64,
	    NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	snprintf(key, sizeof(key), "login:%s", hex);
	if (store_begin(h->d->st, 0, &t) != 0)
		return -1;
	rc = store_meta_get(t, key, &val, &len);
	if (rc == 0 && len == sizeof(until))
		memcpy(&until, val, sizeof(until));
	if (rc != 0 || store_meta_del(t, key) != 0 || store_commit(t) != 0) {
		if (rc != 0)
			store_abort(t);
		return -1;
	}
	return until >= now_ms() ? 0 : -1;
}

static enum MHD_Result
do_login(struct http_req *r)
{
	char cookie[200];
	struct session *s;

	if (login_take(r->h, http_arg(r, "token")) != 0) {
		net_log("page: a login link was refused (used already, or "
		    "expired)");
		return send_error(r, MHD_HTTP_FORBIDDEN, "this login link was "
		    "used already or has expired: run 'satchel open' again");
	}
	if ((s = session_new(&r->h->sessions)) == NULL)
		return send_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot "
		    "keep the session: the data directory cannot be written");
	snprintf(cookie, sizeof(cookie), COOKIE_NAME "=%s; Path=/; HttpOnly; "
	    "SameSite=Strict", s->id);
	return send_bytes(r->conn, MHD_HTTP_SEE_OTHER, "", 0,
	    MHD_RESPMEM_PERSISTENT, "text/plain", cookie, "/");
}

/* --- static files --------------------------------------------------- */

static const char *
mime(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".json", "application/json; charset=utf-8" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static enum MHD_Result
send_file(struct http_req *r, const char *url)
{
	const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;

	for (size_t i = 0; i < page_nfiles; i++)
		if (strcmp(page_files[i].path, path) == 0)
			return send_bytes(r->conn, MHD_HTTP_OK,
			    page_files[i].data, page_files[i].len,
			    MHD_RESPMEM_PERSISTENT, mime(path), NULL, NULL);
	return send_error(r, MHD_HTTP_NOT_FOUND, "no such page");
}

/* --- the API ---------------------------------------------------------- */

static int
changes_state(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* Key or session; 0 if allowed, else the refusal was sent (*ret). */
static int
authorize(struct http_req *r, const char *method, enum MHD_Result *ret)
{
	struct http *h = r->h;
	const char *auth = sym_MHD_lookup_connection_value(r->conn,
	    MHD_HEADER_KIND, "Authorization");
	const char *origin = sym_MHD_lookup_connection_value(r->conn,
	    MHD_HEADER_KIND, "Origin");

	if (key_ok(h, auth))
		return 0;
	r->session = auth == NULL ? session_find(&h->sessions,
	    sym_MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND,
	    COOKIE_NAME)) : NULL;
	if (r->session == NULL) {
		*ret = send_error(r, MHD_HTTP_UNAUTHORIZED, auth != NULL ?
		    "wrong API key (see DIR/api.key)" : "locked: open the "
		    "page with the link 'satchel open' prints");
		return -1;
	}
	/* A cookie rides along with any page's request: a change must
	 * come from this page itself. */
	if (changes_state(method) && !origin_ok(h, origin)) {
		*ret = send_error(r, MHD_HTTP_FORBIDDEN, "a change needs the "
		    "page's own Origin");
		return -1;
	}
	return 0;
}

static enum MHD_Result
do_api(struct http_req *r, const char *method, const char *url)
{
	struct http_reply rep = { 200, NULL, 0 };
	const char *path = url + strlen("/api/v1");
	enum MHD_Result ret;

	if (authorize(r, method, &ret) != 0)
		return ret;
	/* The events request is not the teacher's activity, nor what the
	 * page reads by itself to follow a sync (X-Satchel-Background): an
	 * open page left alone still locks. */
	if (r->session != NULL && strcmp(path, "/events") != 0 &&
	    sym_MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "X-Satchel-Background") == NULL)
		session_touch(&r->h->sessions, r->session);
	if (r->h->d->content == NULL && !api_box_allowed(method, path))
		return send_error(r, MHD_HTTP_FORBIDDEN, "this device is a "
		    "box: it serves its status only");
	if (r->too_big)
		return send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the request "
		    "is too big");
	api_route(r, method, path, r->body ? r->body : "", r->len, &rep);
	if (rep.status == 0)	/* suspended: answered when resumed */
		return MHD_YES;
	if (strcmp(path, "/lock") == 0 && rep.status == 200)
		rep.clear_cookie = 1;
	return send_reply(r, &rep);
}

static int
body_add(struct http_req *r, const char *data, size_t n)
{
	char *p;

	if (r->len + n > HTTP_BODY_MAX) {
		r->too_big = 1;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;

		while (cap < r->len + n + 1)
			cap *= 2;
		if ((p = realloc(r->body, cap)) == NULL)
			return -1;
		r->body = p;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct http_req *r = *con_cls;
	const char *origin;

	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->h = h;
		r->conn = conn;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (body_add(r, upload, *upload_size) != 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (!host_ok(h, sym_MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Host")))
		return send_error(r, MHD_HTTP_MISDIRECTED_REQUEST, "this "
		    "server answers to its own address only");
	origin = sym_MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	if (origin != NULL && !origin_ok(h, origin))
		return send_error(r, MHD_HTTP_FORBIDDEN, "a request from "
		    "another site is refused");
	if (strncmp(url, "/api/v1/", 8) == 0)
		return do_api(r, method, url);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "the page's "
		    "files are read only");
	if (strcmp(url, "/login") == 0)
		return do_login(r);
	return send_file(r, url);
}

static void
request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	struct http_req *r = *con_cls, **p;

	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	for (p = &h->waiters; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	free(r->body);
	free(r);
	*con_cls = NULL;
}

/* --- events: a long poll --------------------------------------------- */

int
http_wait(struct http_req *r, uint64_t since)
{
	if (since != r->h->seq || r->waiting)
		return 0;	/* changed meanwhile, or the wait is over */
	r->waiting = 1;
	r->deadline = uv_now(r->h->loop) + HTTP_WAIT_MS;
	r->next = r->h->waiters;
	r->h->waiters = r;
	sym_MHD_suspend_connection(r->conn);
	return 1;
}

/* Resumes the waiters that are due (all of them if everything is). */
static void
resume_waiters(struct http *h, int all)
{
	struct http_req **p = &h->waiters;
	uint64_t now = uv_now(h->loop);

	while (*p != NULL) {
		struct http_req *r = *p;

		if (!all && r->deadline > now) {
			p = &r->next;
			continue;
		}
		*p = r->next;
		r->next = NULL;
		sym_MHD_resume_connection(r->conn);
	}
}

/* Called from inside a request too (the page wrote): MHD is not
 * re-entered; the timer runs it next, from the loop. */
void
http_changed(struct http *h)
{
	if (h == NULL)
		return;
	h->seq++;
	resume_waiters(h, 1);
	uv_timer_start(&h->timer, timer_cb, 0, 0);
}

void
http_wrote(struct http_req *r)
{
	server_local_write(r->h->srv);
	http_changed(r->h);
}

/* --- the loop --------------------------------------------------------- */

static void
timer_cb(uv_timer_t *t)
{
	struct http *h = t->data;

	resume_waiters(h, 0);
	http_pump(h);
}

static void
poll_cb(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	http_pump(p->data);
}

/* Runs MHD once and arms the timer for what it, or a waiter, needs. */
static void
http_pump(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t due = UINT64_MAX, now;

	sym_MHD_run(h->mhd);
	now = uv_now(h->loop);
	if (sym_MHD_get_timeout(h->mhd, &ms) == MHD_YES)
		due = ms;
	for (struct http_req *r = h->waiters; r != NULL; r = r->next) {
		uint64_t left = r->deadline > now ? r->deadline - now : 0;

		if (left < due)
			due = left;
	}
	if (due == UINT64_MAX)
		uv_timer_stop(&h->timer);
	else
		uv_timer_start(&h->timer, timer_cb, due, 0);
}

/* --- start and stop --------------------------------------------------- */

static int
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr)
		    >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->
	    sin6_addr);
}

/* A listening socket of our own, so that a taken port is named as such
 * and port 0's choice is known. -1 with errno. */
static int
listen_on(struct http *h, const struct sockaddr_storage *ss)
{
	socklen_t sl = ss->ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	struct sockaddr_storage got;
	int fd, one = 1, saved;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, sl) == -1 ||
	    listen(fd, 64) == -1 ||
	    getsockname(fd, (struct sockaddr *)&got, &sl) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	h->port = ntohs(got.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&got)->sin6_port :
	    ((struct sockaddr_in *)&got)->sin_port);
	return fd;
}

/* DIR/api.key: 64 hex digits, mode 0600, made on the first start. */
static int
load_key(struct http *h)
{
	char path[4200];
	uint8_t raw[HTTP_KEY_HEXLEN / 2];

	if (device_keyfile(h->d, HTTP_KEY_FILE, path, sizeof(path)) != 0)
		return -1;
	if (read_file_secret(path, h->key, HTTP_KEY_HEXLEN) == 0) {
		h->key[HTTP_KEY_HEXLEN] = '\0';
		for (size_t i = 0; i < HTTP_KEY_HEXLEN; i++)
			if (!strchr("0123456789abcdef", h->key[i]))
				return -1;
		return 0;
	}
	if (errno != ENOENT)
		return -1;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(h->key, sizeof(h->key), raw, sizeof(raw));
	return write_file_atomic(path, h->key, HTTP_KEY_HEXLEN, 0600);
}

static int
split_addr(const char *addr, char *host, size_t hlen,
    struct sockaddr_storage *ss)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || (n = (size_t)(colon - addr)) == 0 || n >= hlen)
		return -1;
	memcpy(host, addr, n);
	host[n] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
		return -1;
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		char h6[64];

		snprintf(h6, sizeof(h6), "%.*s", (int)n - 2, host + 1);
		return uv_ip6_addr(h6, (int)port, (struct sockaddr_in6 *)ss);
	}
	return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss);
}

static void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->mhd != NULL)
		sym_MHD_stop_daemon(h->mhd);
	if (h->addr_file[0] != '\0')
		(void)unlink(h->addr_file);
	sodium_memzero(h->key, sizeof(h->key));
	sodium_memzero(&h->sessions, sizeof(h->sessions));
	free(h);
}

/* Writes DIR/http.addr ("127.0.0.1:PORT"), for satchel open and tests. */
static int
write_addr(struct http *h)
{
	char line[96];

	if (device_keyfile(h->d, HTTP_PORT_FILE, h->addr_file,
	    sizeof(h->addr_file)) != 0)
		return -1;
	snprintf(line, sizeof(line), "%s:%d\n", h->host, h->port);
	return write_file_atomic(h->addr_file, line, strlen(line), 0600);
}

/* Opens libmicrohttpd once: 0, or -1 after logging why. */
static int
mhd_load(void)
{
	static int loaded;
	char err[256];
	void *h;

	if (loaded)
		return 0;
	if ((h = dl_open(MHD_SONAME, err, sizeof(err))) == NULL) {
		net_log("page: cannot load %s (%s): install libmicrohttpd12; "
		    "syncing without the page", MHD_SONAME, err);
		return -1;
	}
	MHD_SYMS(DL_RESOLVE)
	loaded = 1;
	return 0;
missing:
	net_log("page: %s lacks a function Satchel uses: install "
	    "libmicrohttpd12 0.9.75 or later; syncing without the page",
	    MHD_SONAME);
	return -1;
}

static int
mhd_start(struct http *h, int fd)
{
	const union MHD_DaemonInfo *info;

	h->mhd = sym_MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME,
	    0, NULL, NULL, handle, h,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_NOTIFY_COMPLETED, request_done, h,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		close(fd);
		return -1;
	}
	if ((info = sym_MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD)) ==
	    NULL)
		return -1;
	uv_poll_init(h->loop, &h->poll, info->epoll_fd);
	uv_timer_init(h->loop, &h->timer);
	h->poll.data = h->timer.data = h;
	h->handles = 1;
	uv_poll_start(&h->poll, UV_READABLE, poll_cb);
	return 0;
}

int
http_start(struct http **out, struct server *srv, struct device *d,
    uv_loop_t *loop, const struct http_opts *o)
{
	struct sockaddr_storage ss;
	struct http *h;
	int fd;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	h->srv = srv;
	h->d = d;
	h->loop = loop;
	h->seq = 1;
	h->idle_ms = (uint64_t)o->idle_s * 1000;
	h->sessions.d = d;
	h->sessions.idle_ms = h->idle_ms;
	if (split_addr(o->addr, h->host, sizeof(h->host), &ss) != 0) {
		free(h);
		return fail_usage("serve: --http '%s' is not a numeric "
		    "HOST:PORT", o->addr);
	}
	if (!is_loopback(&ss) && !o->remote) {
		free(h);
		return fail_usage("serve: --http %s is not a loopback address: "
		    "the page holds students' data; add --http-remote to "
		    "serve it to the network anyway", o->addr);
	}
	if (!is_loopback(&ss))
		net_log("warning: the page is served to the network on %s: "
		    "anyone who reaches it and gets a login link or the key "
		    "reads every note", o->addr);
	if (mhd_load() != 0) {
		free(h);
		return -1;
	}
	if (load_key(h) != 0) {
		net_log("page: cannot read or make %s/%s: %s; syncing "
		    "without the page", d->dir, HTTP_KEY_FILE, strerror(errno));
		http_free(h);
		return -1;
	}
	if ((fd = listen_on(h, &ss)) == -1) {
		net_log("page: cannot listen on %s: %s%s; syncing without "
		    "the page", o->addr, strerror(errno), errno == EADDRINUSE ?
		    " (another satchel serve? try --http 127.0.0.1:0)" : "");
		http_free(h);
		return -1;
	}
	if (mhd_start(h, fd) != 0 || write_addr(h) != 0) {
		net_log("page: cannot start the web server on %s; syncing "
		    "without the page", o->addr);
		http_stop(h);
		return -1;
	}
	net_log("page on http://%s:%d/ (satchel open prints a login link)",
	    h->host, h->port);
	*out = h;
	http_pump(h);
	return 0;
}

static void
handle_freed(uv_handle_t *hd)
{
	struct http *h = hd->data;

	if (hd == (uv_handle_t *)&h->timer)
		http_free(h);
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	if (!h->handles) {
		http_free(h);
		return;
	}
	/* Waiters get their answer; the poll handle goes before MHD, which
	 * closes the fd it watches (handle_freed). */
	resume_waiters(h, 1);
	sym_MHD_run(h->mhd);
	uv_timer_stop(&h->timer);
	uv_poll_stop(&h->poll);
	uv_close((uv_handle_t *)&h->poll, NULL);
	uv_close((uv_handle_t *)&h->timer, handle_freed);
}
