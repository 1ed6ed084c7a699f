/*
 * The writer thread (daemon/net/writer.c): a transaction begun on it,
 * applied on this (the loop's) thread, and committed or aborted on it.
 * What a sync's acknowledgements rest on: done runs once, on the loop,
 * only after the commit returned, when a fresh reader sees what it
 * wrote; a write the loop begins meanwhile waits for that commit, and an
 * abort leaves nothing and frees LMDB's lock.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "dev_fixture.h"
#include "net.h"
#include "tap.h"

struct seen {
	int		 calls;
	int		 rc;
	int		 visible;	/* done's reader saw the key */
	const char	*key;
};

/* A fresh read transaction sees key. */
static int
meta_has(struct store *st, const char *key)
{
	struct store_txn *t;
	const void *v;
	size_t len;
	int has;

	if (store_begin(st, STORE_RDONLY, &t) != 0)
		return -1;
	has = store_meta_get(t, key, &v, &len) == 0;
	store_abort(t);
	return has;
}

static void
done_cb(struct server *srv, int rc, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	s->rc = rc;
	s->visible = meta_has(srv->d->st, s->key);
}

/* A device with its store open, and a server on a loop of its own: what
 * writer.c reads of a server is its loop and its device. */
struct fixture {
	struct dev	 v;
	struct server	 srv;
	uv_loop_t	 loop;
};

static int
setup(struct fixture *f)
{
	const char *fv[] = { "name", "Ana Lopez", NULL };

	memset(&f->srv, 0, sizeof(f->srv));
	if (uv_loop_init(&f->loop) != 0 || dev_open(&f->v, "writer", fv) != 0)
		return -1;
	f->srv.loop = &f->loop;
	f->srv.d = &f->v.d;
	return 0;
}

static void
teardown(struct fixture *f)
{
	writer_stop(&f->srv);
	uv_run(&f->loop, UV_RUN_DEFAULT);	/* the async handle's close */
	CHECK(uv_loop_close(&f->loop) == 0);
	dev_close(&f->v);
}

/* Begins on the thread, puts key, and posts the commit. */
static int
put_and_commit(struct server *srv, const char *key, struct seen *s)
{
	struct store_txn *t;

	if (writer_begin(srv, &t) != 0)
		return -1;
	if (store_meta_put(t, key, "1", 1) != 0) {
		writer_abort(srv, t);
		return -1;
	}
	s->key = key;
	writer_commit(srv, t, done_cb, s);
	return 0;
}

/* done runs from the loop, once, with the commit visible; the loop
 * stays up for it and ends once it ran. */
static void
test_commit_done_on_loop(void)
{
	struct fixture f;
	struct seen s = { 0 };

	CHECK(setup(&f) == 0);
	CHECK(put_and_commit(&f.srv, "writer_a", &s) == 0);
	CHECK(s.calls == 0 && writer_busy(&f.srv));	/* never on the thread */
	uv_run(&f.loop, UV_RUN_DEFAULT);
	CHECK(s.calls == 1 && s.rc == 0 && s.visible == 1);
	CHECK(!writer_busy(&f.srv));
	uv_run(&f.loop, UV_RUN_NOWAIT);
	CHECK(s.calls == 1);
	teardown(&f);
}

/* writer_wait runs done itself; the loop's callback later does not. */
static void
test_wait_runs_done_once(void)
{
	struct fixture f;
	struct seen s = { 0 };

	CHECK(setup(&f) == 0);
	CHECK(put_and_commit(&f.srv, "writer_b", &s) == 0);
	writer_wait(&f.srv);
	CHECK(s.calls == 1 && s.rc == 0 && s.visible == 1);
	CHECK(!writer_busy(&f.srv));
	uv_run(&f.loop, UV_RUN_NOWAIT);
	writer_wait(&f.srv);
	CHECK(s.calls == 1);
	teardown(&f);
}

/* An abort writes nothing and leaves LMDB's write lock free: a write
 * begun here then goes through. */
static void
test_abort_frees_the_lock(void)
{
	struct fixture f;
	struct store_txn *t;

	CHECK(setup(&f) == 0);
	CHECK(writer_begin(&f.srv, &t) == 0);
	CHECK(store_meta_put(t, "writer_c", "1", 1) == 0);
	writer_abort(&f.srv, t);
	CHECK(meta_has(f.v.d.st, "writer_c") == 0);
	CHECK(store_begin(f.v.d.st, 0, &t) == 0);
	CHECK(store_meta_put(t, "writer_d", "1", 1) == 0);
	CHECK(store_commit(t) == 0);
	CHECK(meta_has(f.v.d.st, "writer_d") == 1);
	teardown(&f);
}

/* A write the loop begins while a commit is in flight waits for it, and
 * sees what it wrote; the commit's done still runs on the loop. */
static void
test_loop_write_waits_for_commit(void)
{
	struct fixture f;
	struct seen s = { 0 };
	struct store_txn *t;
	const void *val;
	size_t len;

	CHECK(setup(&f) == 0);
	CHECK(put_and_commit(&f.srv, "writer_e", &s) == 0);
	CHECK(store_begin(f.v.d.st, 0, &t) == 0);
	CHECK(store_meta_get(t, "writer_e", &val, &len) == 0);
	CHECK(store_meta_put(t, "writer_f", "1", 1) == 0);
	CHECK(store_commit(t) == 0);
	CHECK(s.calls == 0);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	CHECK(s.calls == 1 && s.rc == 0 && s.visible == 1);
	CHECK(meta_has(f.v.d.st, "writer_f") == 1);
	teardown(&f);
}

/* Groups back to back: each begin first ends the commit before it (its
 * done run), so they commit in order, each once. A stopped writer
 * starts again at the next begin. */
static void
test_back_to_back_and_restart(void)
{
	enum { N = 24 };
	struct fixture f;
	struct seen s[N];
	char keys[N][24];

	memset(s, 0, sizeof(s));
	CHECK(setup(&f) == 0);
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "writer_n%02d", i);
		if (i == N / 2)
			writer_stop(&f.srv);	/* waits, joins: a new thread */
		CHECK(put_and_commit(&f.srv, keys[i], &s[i]) == 0);
		for (int j = 0; j < i; j++)
			CHECK(s[j].calls == 1 && s[j].visible == 1);
		CHECK(s[i].calls == 0);
	}
	uv_run(&f.loop, UV_RUN_DEFAULT);
	for (int i = 0; i < N; i++)
		CHECK(s[i].calls == 1 && s[i].rc == 0 && s[i].visible == 1);
	teardown(&f);
}

TAP_MAIN(
	TAP_TEST(test_commit_done_on_loop),
	TAP_TEST(test_wait_runs_done_once),
	TAP_TEST(test_abort_frees_the_lock),
	TAP_TEST(test_loop_write_waits_for_commit),
	TAP_TEST(test_back_to_back_and_restart),
)
