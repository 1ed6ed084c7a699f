/*
 * The thread that owns a long sync's group transactions, so that a
 * group's commit (its pages written and synced: a third of a full sync's
 * time when the loop did it) no longer stops the event loop. While
 * it commits, the loop reads and decrypts the next group's batches and
 * the workers read them ahead (rxprep.c); the group is acknowledged only
 * once the commit returned (the done callback, on the loop), so every
 * acknowledged batch is still on disk.
 *
 * Why a thread of its own: LMDB's write lock is a mutex taken by
 * mdb_txn_begin and released by the commit or abort, and a mutex belongs
 * to the thread that took it, so one thread must begin and end the
 * transaction. lmdb.h asks that a transaction be used by a single
 * thread; for a write transaction that rule is its lock's (a read
 * transaction's reader slot is the thread's own: "for write txns I
 * suppose that could be relaxed", Howard Chu, OpenLDAP ITS#7238). So
 * this thread begins the transaction, the loop applies the group in it
 * while this thread waits, and this thread commits or aborts it: one
 * thread at a time, never both, each handover through mu, which orders
 * the two threads' uses of it.
 *
 * While a commit is in flight the loop begins no other write: the
 * group's batches wait (peer.c, rx_busy), and another write (a status,
 * a command's notification) waits on LMDB's lock as it would for another
 * process. The thread never waits for the loop, so neither can deadlock.
 */
#include <stdlib.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "net.h"

enum writer_job { W_NONE, W_BEGIN, W_ABORT, W_COMMIT, W_QUIT };

struct writer {
	struct server	*srv;
	uv_thread_t	 thread;
	uv_mutex_t	 mu;
	uv_cond_t	 cv;		/* a job posted, or one finished */
	enum writer_job	 job;		/* posted, not finished; W_NONE */
	struct store_txn *t;
	int		 rc;
	int		 inflight;	/* a commit posted, done not yet run */
	uv_async_t	 async;		/* the commit returned */
	writer_done_fn	 done;
	void		*arg;
};

static void
writer_work(struct writer *w, enum writer_job job)
{
	struct store *st = w->srv->d->st;

	switch (job) {
	case W_BEGIN:
		w->t = NULL;
		w->rc = store_begin(st, 0, &w->t);
		break;
	case W_ABORT:
		store_abort(w->t);
		w->t = NULL;
		break;
	case W_COMMIT:
		w->rc = store_commit(w->t);
		w->t = NULL;
		break;
	default:
		break;
	}
}

static void
writer_main(void *arg)
{
	struct writer *w = arg;
	enum writer_job job;

#ifdef __linux__
	prctl(PR_SET_NAME, "satchel-writer");	/* as ps -L and top -H show it */
#endif
	uv_mutex_lock(&w->mu);
	for (;;) {
		while (w->job == W_NONE)
			uv_cond_wait(&w->cv, &w->mu);
		if ((job = w->job) == W_QUIT)
			break;
		uv_mutex_unlock(&w->mu);
		writer_work(w, job);
		uv_mutex_lock(&w->mu);
		w->job = W_NONE;
		uv_cond_broadcast(&w->cv);
		if (job == W_COMMIT)
			uv_async_send(&w->async);
	}
	uv_mutex_unlock(&w->mu);
}

/* Posts job and waits for it: a commit and the end are not waited for. */
static int
writer_post(struct writer *w, enum writer_job job)
{
	int rc;

	uv_mutex_lock(&w->mu);
	w->job = job;
	uv_cond_broadcast(&w->cv);
	if (job == W_BEGIN || job == W_ABORT)
		while (w->job != W_NONE)
			uv_cond_wait(&w->cv, &w->mu);
	rc = w->rc;
	uv_mutex_unlock(&w->mu);
	return rc;
}

/* The commit returned: its done runs, once, on the loop. */
static void
writer_finish(struct writer *w)
{
	writer_done_fn done = w->done;

	if (!w->inflight)
		return;
	w->inflight = 0;
	uv_unref((uv_handle_t *)&w->async);
	w->done = NULL;
	done(w->srv, w->rc, w->arg);
}

static void
async_cb(uv_async_t *a)
{
	struct writer *w = a->data;
	int ended;

	uv_mutex_lock(&w->mu);
	ended = w->job == W_NONE;
	uv_mutex_unlock(&w->mu);
	if (ended)
		writer_finish(w);
}

static void
async_closed(uv_handle_t *h)
{
	free(h->data);
}

static struct writer *
writer_get(struct server *srv)
{
	struct writer *w;

	if (srv->writer != NULL)
		return srv->writer;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->srv = srv;
	if (uv_mutex_init(&w->mu) != 0) {
		free(w);
		return NULL;
	}
	if (uv_cond_init(&w->cv) != 0)
		goto fail_mu;
	if (uv_async_init(srv->loop, &w->async, async_cb) != 0)
		goto fail_cv;
	w->async.data = w;
	uv_unref((uv_handle_t *)&w->async);
	if (uv_thread_create(&w->thread, writer_main, w) != 0) {
		uv_close((uv_handle_t *)&w->async, async_closed);
		uv_cond_destroy(&w->cv);
		uv_mutex_destroy(&w->mu);
		return NULL;	/* freed by the close */
	}
	return srv->writer = w;
fail_cv:
	uv_cond_destroy(&w->cv);
fail_mu:
	uv_mutex_destroy(&w->mu);
	free(w);
	return NULL;
}

int
writer_begin(struct server *srv, struct store_txn **t)
{
	struct writer *w = writer_get(srv);
	int rc;

	*t = NULL;
	if (w == NULL)
		return STORE_ENOMEM;
	writer_wait(srv);
	if ((rc = writer_post(w, W_BEGIN)) == 0)
		*t = w->t;
	return rc;
}

void
writer_abort(struct server *srv, struct store_txn *t)
{
	struct writer *w = srv->writer;

	w->t = t;
	writer_post(w, W_ABORT);
}

void
writer_commit(struct server *srv, struct store_txn *t, writer_done_fn done,
    void *arg)
{
	struct writer *w = srv->writer;

	w->t = t;
	w->done = done;
	w->arg = arg;
	w->inflight = 1;
	uv_ref((uv_handle_t *)&w->async);	/* the loop waits for it */
	writer_post(w, W_COMMIT);
}

int
writer_busy(const struct server *srv)
{
	return srv->writer != NULL && srv->writer->inflight;
}

void
writer_wait(struct server *srv)
{
	struct writer *w = srv->writer;

	if (w == NULL || !w->inflight)
		return;
	uv_mutex_lock(&w->mu);
	while (w->job != W_NONE)
		uv_cond_wait(&w->cv, &w->mu);
	uv_mutex_unlock(&w->mu);
	writer_finish(w);
}

void
writer_stop(struct server *srv)
{
	struct writer *w = srv->writer;

	if (w == NULL)
		return;
	writer_wait(srv);
	writer_post(w, W_QUIT);
	uv_thread_join(&w->thread);
	uv_cond_destroy(&w->cv);
	uv_mutex_destroy(&w->mu);
	srv->writer = NULL;
	uv_close((uv_handle_t *)&w->async, async_closed);
}
