/*
 * The server's housekeeping between ticks (daemon/net/serve.c): what a
 * closed session leaves for the next tick to save and write receipts of.
 * No sockets: a server and its connections as plain structs, and a
 * one-shot server, whose wake starts no timer.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"
#include "net.h"
#include "tap.h"

static void
session_end(struct server *srv, struct conn *c, const uint8_t *peer,
    const uint8_t *author, uint64_t seq)
{
	memset(c, 0, sizeof(*c));
	c->srv = srv;
	memcpy(c->remote, peer, PROTO_IDLEN);
	CHECK(vec_raise(&c->theirs, author, seq, NULL) == 0);
	server_keep_vec(srv, c);
	CHECK(c->theirs.n == 0);	/* taken, not copied */
}

/* Three sessions with one peer before a tick leave one vector, the
 * last: the tick writes one receipt about the peer, not three that each
 * replace the one before. Another peer's session keeps its own. */
static void
test_keep_vec_one_per_peer(void)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct conn *c = calloc(1, sizeof(*c));
	uint8_t p[PROTO_IDLEN], q[PROTO_IDLEN], a[PROTO_IDLEN];

	CHECK(srv != NULL && c != NULL);
	srv->oneshot = 1;
	randombytes_buf(p, sizeof(p));
	randombytes_buf(q, sizeof(q));
	randombytes_buf(a, sizeof(a));
	session_end(srv, c, p, a, 5);
	session_end(srv, c, q, a, 6);
	session_end(srv, c, p, a, 7);
	session_end(srv, c, p, a, 9);
	CHECK(srv->npending == 2);
	CHECK(memcmp(srv->pending[0].id, p, PROTO_IDLEN) == 0 &&
	    vec_seq(&srv->pending[0].theirs, a) == 9);
	CHECK(memcmp(srv->pending[1].id, q, PROTO_IDLEN) == 0 &&
	    vec_seq(&srv->pending[1].theirs, a) == 6);
	for (size_t i = 0; i < srv->npending; i++)
		vec_free(&srv->pending[i].theirs);
	free(c);
	free(srv);
}

/* A full list drops a new peer's vector, never an earlier one's. */
static void
test_keep_vec_full(void)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct conn *c = calloc(1, sizeof(*c));
	uint8_t p[PROTO_IDLEN], a[PROTO_IDLEN];

	CHECK(srv != NULL && c != NULL);
	srv->oneshot = 1;
	randombytes_buf(a, sizeof(a));
	for (size_t i = 0; i < VEC_PENDING_MAX; i++) {
		randombytes_buf(p, sizeof(p));
		session_end(srv, c, p, a, i + 1);
	}
	randombytes_buf(p, sizeof(p));
	memset(c, 0, sizeof(*c));
	memcpy(c->remote, p, PROTO_IDLEN);
	CHECK(vec_raise(&c->theirs, a, 99, NULL) == 0);
	server_keep_vec(srv, c);
	CHECK(srv->npending == VEC_PENDING_MAX);
	vec_free(&c->theirs);
	/* The last peer's next session still takes its place. */
	session_end(srv, c, srv->pending[VEC_PENDING_MAX - 1].id, a, 100);
	CHECK(srv->npending == VEC_PENDING_MAX &&
	    vec_seq(&srv->pending[VEC_PENDING_MAX - 1].theirs, a) == 100);
	for (size_t i = 0; i < srv->npending; i++)
		vec_free(&srv->pending[i].theirs);
	free(c);
	free(srv);
}

TAP_MAIN(
	TAP_TEST(test_keep_vec_one_per_peer),
	TAP_TEST(test_keep_vec_full),
)
