/*
 * crowd_start [--watch BOXDIR] N PREFIX PROGRAM ARG...: starts
 * "PROGRAM -d PREFIX-i ARG..." for i = 1..N all at once (stdout to
 * /dev/null, stderr to PREFIX-i.err), waits for all of them, and prints
 * "MS FAILED CPU_MS ONBOX_MS": the milliseconds from the first start to
 * the last exit, how many exited non-zero, the CPU time (user and
 * system) they took together in milliseconds, and with --watch the
 * milliseconds from the first start until the store in BOXDIR (a box
 * serving meanwhile) holds N more entries of other authors than it did
 * before the start ("-" without --watch, or if it never did).
 *
 * ONBOX_MS is issue 10's row as worded: the crowd's notes are all on the
 * box. The box acknowledges a batch once it is committed, so this is the
 * moment the last laptop's note is durable there; MS goes on to count
 * each laptop taking the others' notes and receipts that the box relays,
 * its own commits and its exit. The store is read every millisecond in
 * a read-only transaction (a few microseconds each).
 *
 * crowd_bench.sh starts its crowd of laptops with it. A shell starting
 * them with `&` forks itself for each (page tables and all) before each
 * exec; on the 2-core VM that was 4-10 ms a process, ~0.3-0.6 s of the
 * crowd's wall time spent by the harness, not by any laptop. posix_spawn
 * (vfork-like) costs the starter next to nothing: what is left in the
 * figure is each process's own exec, run, and exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "store.h"

extern char **environ;

#define CROWD_MAX	1000

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Starts one: PROGRAM -d PREFIX-i ARG..., into *pid. 0, or an errno. */
static int
start_one(pid_t *pid, int i, const char *prefix, int argc, char **argv)
{
	char dir[4096], err[4200];
	char *args[256];
	posix_spawn_file_actions_t fa;
	int rc, n = 0;

	if (argc + 4 > (int)(sizeof(args) / sizeof(args[0])))
		return E2BIG;
	snprintf(dir, sizeof(dir), "%s-%d", prefix, i);
	snprintf(err, sizeof(err), "%s.err", dir);
	args[n++] = argv[0];
	args[n++] = (char *)"-d";
	args[n++] = dir;
	for (int j = 1; j < argc; j++)
		args[n++] = argv[j];
	args[n] = NULL;
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
	    O_WRONLY, 0)) == 0 && (rc = posix_spawn_file_actions_addopen(&fa,
	    2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == 0)
		rc = posix_spawn(pid, argv[0], &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

struct watch {
	struct store	*st;
	uint8_t		 self[PROTO_IDLEN];	/* the box: its receipts */
	uint64_t	 target;
};

struct held {
	const uint8_t	*skip;		/* the box's own id */
	uint64_t	 n;
};

static int
held_cb(const uint8_t *author, uint64_t seq, const uint8_t *hash, void *arg)
{
	struct held *h = arg;

	(void)hash;
	if (memcmp(author, h->skip, PROTO_IDLEN) != 0)
		h->n += seq;
	return 0;
}

/* How many entries of authors other than the box the box holds. */
static int
others_held(struct watch *w, uint64_t *n)
{
	struct held h = { w->self, 0 };
	struct store_txn *t;
	int rc;

	if (store_begin(w->st, STORE_RDONLY, &t) != 0)
		return -1;
	rc = store_heads_each(t, held_cb, &h);
	store_abort(t);
	*n = h.n;
	return rc == 0 ? 0 : -1;
}

static int
watch_open(struct watch *w, const char *dir, int n)
{
	struct store_txn *t;
	const void *v;
	size_t len;
	uint64_t have;

	if (store_open(&w->st, dir, 0) != 0 ||
	    store_begin(w->st, STORE_RDONLY, &t) != 0)
		return -1;
	if (store_meta_get(t, "device_id", &v, &len) != 0 ||
	    len != PROTO_IDLEN) {
		store_abort(t);
		return -1;
	}
	memcpy(w->self, v, PROTO_IDLEN);
	store_abort(t);
	if (others_held(w, &have) != 0)
		return -1;
	w->target = have + (uint64_t)n;
	return 0;
}

/* Reaps the children as they exit, looking at the box meanwhile. */
static void
wait_all(pid_t *pids, int n, struct watch *w, double t0, double *onbox,
    int *failed)
{
	int left = n, status;
	uint64_t have;
	pid_t p;

	while (left > 0) {
		p = waitpid(-1, &status, w->st != NULL && *onbox < 0 ?
		    WNOHANG : 0);
		if (p < 0 && errno != EINTR)
			break;
		if (p > 0) {
			for (int i = 0; i < n; i++)
				if (pids[i] == p) {
					left--;
					*failed += !WIFEXITED(status) ||
					    WEXITSTATUS(status) != 0;
				}
			continue;
		}
		if (p == 0 && others_held(w, &have) == 0 &&
		    have >= w->target)
			*onbox = now_ms() - t0;
		else if (p == 0)
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	*failed += left;
}

int
main(int argc, char **argv)
{
	static pid_t pids[CROWD_MAX];
	struct watch w = { 0 };
	const char *boxdir = NULL;
	int n, failed = 0, rc;
	double t0, elapsed, onbox = -1;
	struct rusage ru;
	char onbox_s[32] = "-";

	if (argc > 2 && strcmp(argv[1], "--watch") == 0) {
		boxdir = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 4 || (n = atoi(argv[1])) < 1 || n > CROWD_MAX) {
		fprintf(stderr, "usage: crowd_start [--watch BOXDIR] N PREFIX "
		    "PROGRAM ARG...\n");
		return 2;
	}
	if (boxdir != NULL && watch_open(&w, boxdir, n) != 0) {
		fprintf(stderr, "crowd_start: cannot read the store in %s\n",
		    boxdir);
		return 1;
	}
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		if ((rc = start_one(&pids[i], i + 1, argv[2], argc - 3,
		    argv + 3)) != 0) {
			fprintf(stderr, "crowd_start: %s: %s\n", argv[3],
			    strerror(rc));
			return 1;	/* those started exit on their own */
		}
	wait_all(pids, n, &w, t0, &onbox, &failed);
	elapsed = now_ms() - t0;
	store_close(w.st);
	if (onbox >= 0)
		snprintf(onbox_s, sizeof(onbox_s), "%.1f", onbox);
	if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
		memset(&ru, 0, sizeof(ru));
	printf("%.1f %d %.1f %s\n", elapsed, failed, ru.ru_utime.tv_sec * 1e3 +
	    ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 +
	    ru.ru_stime.tv_usec / 1e3, onbox_s);
	return 0;
}
