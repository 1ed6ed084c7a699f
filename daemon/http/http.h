/*
 * daemon/http/: the teacher's page and its JSON API, served by `satchel
 * serve` with libmicrohttpd from the daemon's own libuv loop (MHD's epoll
 * fd is polled by uv), so every store write is made by the loop, the
 * store's one writer, and committed before it is acknowledged.
 * Private to daemon/; server.c is the server and its security rules,
 * session.c the login sessions, api*.c and rotation.c the endpoints,
 * body.c the request bodies, page.c (generated) the page's files.
 */
#ifndef SATCHEL_HTTP_H
#define SATCHEL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "satchel.h"

#define HTTP_DEFAULT_ADDR	"127.0.0.1:7421"
#define HTTP_IDLE_S		(30 * 60)	/* a session's idle lifetime */
#define HTTP_LOGIN_TTL_MS	(5 * 60 * 1000)	/* a login link's */
#define HTTP_PORT_FILE		"http.addr"	/* in DIR: where the page is */
#define HTTP_KEY_FILE		"api.key"	/* in DIR: scripts' key, 0600 */
#define HTTP_KEY_HEXLEN		64
#define HTTP_BODY_MAX		(1024 * 1024)	/* one request's body */
#define HTTP_WAIT_MS		25000	/* an events request waits at most */

struct http;
struct server;

struct http_opts {
	const char	*addr;		/* HOST:PORT; port 0: any free one */
	int		 remote;	/* a non-loopback address is allowed */
	unsigned	 idle_s;	/* session idle expiry */
};

/* Starts serving the page. 0, or -1 after logging why (the port is
 * taken...): the daemon goes on syncing without it. EXIT_USAGE for an
 * address the user must fix. */
int	http_start(struct http **, struct server *, struct device *,
	    uv_loop_t *, const struct http_opts *);
/* Closes the page's handles and frees it; accepts NULL. */
void	http_stop(struct http *);
/* The store or the peers' status changed: wake the events waiters. */
void	http_changed(struct http *);

/* session.c: the page's login sessions, in memory and in the store's
 * meta table (hashed), so that they survive a restart. */
#define SESSIONS_MAX	32		/* held in memory at once */
#define SESSION_HEXLEN	64		/* a cookie: 32 random bytes, hex */
#define SESSION_KEYLEN	80		/* "session:" + 64 hex + NUL */
struct session {
	char		id[SESSION_HEXLEN + 1];	/* "" if the slot is free */
	uint64_t	last_ms;	/* last activity */
	uint64_t	saved_ms;	/* last_ms as the store holds it */
};
struct sessions {
	struct device	*d;
	uint64_t	 idle_ms;	/* idle longer than this: expired */
	struct session	 s[SESSIONS_MAX];
};
/* The live session of cookie id (64 lowercase hex digits), from memory
 * or the store; NULL if none, or expired (then it is deleted). */
struct session	*session_find(struct sessions *, const char *id);
/* A new session, stored; NULL if the store cannot write. */
struct session	*session_new(struct sessions *);
/* The teacher did something: the session's idle time starts again. */
void		 session_touch(struct sessions *, struct session *);
/* Ends s (locked or expired) in memory and in the store. */
void		 session_end(struct sessions *, struct session *);

/* server.c, for the endpoints. */
struct http_req;
struct device	*http_device(struct http_req *);
struct http	*http_of(struct http_req *);
const char	*http_arg(struct http_req *, const char *name);
/* The page wrote: push to peers now, wake the waiters. */
void		 http_wrote(struct http_req *);
uint64_t	 http_seq(const struct http *);
/* Waits for a change past since (an events request); 1 if suspended. */
int		 http_wait(struct http_req *, uint64_t since);
/* Ends the caller's session (the lock button). */
void		 http_lock(struct http_req *);

/* What an endpoint answers: a status and a JSON body it hands over. */
struct http_reply {
	unsigned	 status;
	json_t		*body;		/* owned; NULL: {} */
	int		 clear_cookie;
};
/* {"error": msg}; status 400 unless said. */
void	reply_error(struct http_reply *, unsigned status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	reply_json(struct http_reply *, unsigned status, json_t *body);

/* api.c: routes /api/v1/... (path without the prefix). */
void	api_route(struct http_req *, const char *method, const char *path,
	    const char *body, size_t len, struct http_reply *);
int	api_box_allowed(const char *method, const char *path);

/* status.c: status --json's object (NULL if the store failed). */
json_t	*status_json(struct device *);

/* api_read.c: JSON of records and of the pages' reads. */
json_t	*jstr(const char *);
json_t	*api_record(struct device *, struct store_txn *, const struct record *);
void	api_status(struct device *, struct http_reply *);
void	api_students(struct device *, const char *cls, struct http_reply *);
void	api_student(struct device *, const char *id, long limit, long offset,
	    int deleted, struct http_reply *);
void	api_get_record(struct device *, const char *id, struct http_reply *);
void	api_search(struct device *, const char *q, struct http_reply *);
void	api_groups(struct device *, struct http_reply *);
void	api_rotation(struct device *, const char *from, const char *until,
	    const char *weeks, struct http_reply *);
void	api_units(struct device *, struct http_reply *);
void	api_deleted(struct device *, const char *kind, struct http_reply *);
void	api_unit(struct device *, const char *id, struct http_reply *);
void	api_conflicts(struct device *, struct http_reply *);
void	api_followups(struct device *, struct http_reply *);
void	api_history(struct device *, const char *id, struct http_reply *);
/* api_export.c: GET students/{id}/export (export.c's JSON). */
void	api_student_export(struct device *, const char *id,
	    struct http_reply *);
void	api_members(struct device *, struct http_reply *);
void	api_invite(struct http_req *, const char *body, size_t len,
	    struct http_reply *);

/* body.c: a request's JSON body, checked against what the endpoint takes
 * before anything reads it. Strings come out in NFC. */
enum body_type {
	B_STR = 1,	/* a string */
	B_STRS,		/* an array of at most BODY_MAX_ITEMS strings */
	B_BOOL,		/* true or false */
	B_INT,		/* an integer, 0 to 1e9 */
	B_MAP		/* an object of at most BODY_MAX_ITEMS strings */
};
#define BODY_MAX_FIELDS	16
#define BODY_MAX_ITEMS	32
struct body_field {
	const char	*name;
	int		 type;		/* enum body_type */
	int		 required;
};
struct body {
	int		 present[BODY_MAX_FIELDS];
	const char	*str[BODY_MAX_FIELDS];
	int		 n[BODY_MAX_FIELDS];	/* B_STRS, B_MAP: items */
	const char	*item[BODY_MAX_FIELDS][BODY_MAX_ITEMS];
	const char	*key[BODY_MAX_FIELDS][BODY_MAX_ITEMS];	/* B_MAP */
	long long	 num[BODY_MAX_FIELDS];	/* B_INT, B_BOOL */
	char		*pool[BODY_MAX_FIELDS * (2 * BODY_MAX_ITEMS + 1)];
	size_t		 npool;
};
/* Reads buf as one JSON object whose members spec names (NULL-name
 * terminated). 0, or -1 with why (one line) set: not JSON, not an
 * object, an unknown or missing member, a wrong type, text that is not
 * valid. b owns its strings until body_free. */
int	body_parse(struct body *, const char *buf, size_t len,
	    const struct body_field *spec, char *why, size_t whylen);
void	body_free(struct body *);

/* page.c (generated from daemon/http/page/ by embed.sh). */
struct page_file {
	const char		*path;	/* "/index.html" */
	const unsigned char	*data;
	size_t			 len;
};
extern const struct page_file page_files[];
extern const size_t page_nfiles;

#endif
