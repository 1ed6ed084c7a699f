/*
 * pushlat SATCHEL WRITER READER STUDENT N: runs `SATCHEL -d WRITER note
 * add STUDENT ...` N times and, after each returns, watches READER's store
 * (read-only transactions, a look every 100 us) until the note is there:
 * the sum of the heads' sequence numbers grows. Prints, one line a note,
 * the microseconds from the command's exit to the entry committed on the
 * reader, then from the command's start (the whole of it, the command's
 * own run included); a note that has not come within 10 s fails it.
 * The push bench (tests/bench/push_bench.sh) runs it between two daemons.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"

#define GIVE_UP_US	10000000ULL

extern char **environ;

static unsigned long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000;
}

static int
add_seq(const uint8_t *author, uint64_t seq, const uint8_t *hash, void *arg)
{
	(void)author;
	(void)hash;
	*(uint64_t *)arg += seq;
	return 0;
}

/* The reader's heads, summed: grows by one per entry it takes. */
static int
heads_sum(struct device *d, uint64_t *sum)
{
	struct store_txn *t;
	int rc;

	*sum = 0;
	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		return rc;
	rc = store_heads_each(t, add_seq, sum);
	store_abort(t);
	return rc;
}

static int
note_add(char **argv, long i)
{
	char strengths[64];
	char *args[] = { argv[1], (char *)"-d", argv[2], (char *)"note",
	    (char *)"add", argv[4], (char *)"--strengths", strengths,
	    (char *)"--obstacle", (char *)"o", (char *)"--action",
	    (char *)"a", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, rc;

	snprintf(strengths, sizeof(strengths), "pushed note %ld", i);
	/* Its stdout (the note's id) is not ours: ours is the figures. */
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY,
	    0) != 0 || posix_spawn(&pid, argv[1], &fa, NULL, args, environ) !=
	    0;
	posix_spawn_file_actions_destroy(&fa);
	if (rc || waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	fprintf(stderr, "pushlat: note add: %s %d\n", WIFEXITED(st) ?
	    "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) :
	    WTERMSIG(st));
	return -1;
}

int
main(int argc, char **argv)
{
	struct device r;
	uint64_t before, now;
	unsigned long long t0, start;
	long n;
	int rc = 0;

	if (argc != 6 || sodium_init() < 0 || (n = atol(argv[5])) <= 0)
		return fail_usage("usage: pushlat SATCHEL WRITER READER "
		    "STUDENT N");
	if (device_open(&r, argv[3]) != 0)
		return 1;
	for (long i = 0; rc == 0 && i < n; i++) {
		if ((rc = heads_sum(&r, &before)) != 0)
			break;
		start = now_us();
		if (note_add(argv, i) != 0) {
			rc = fail("pushlat: note add failed");
			break;
		}
		t0 = now_us();
		while ((rc = heads_sum(&r, &now)) == 0 && now == before &&
		    now_us() - t0 < GIVE_UP_US)
			usleep(100);
		if (rc == 0 && now == before)
			rc = fail("pushlat: note %ld did not arrive in 10 s", i);
		else if (rc == 0)
			printf("%llu %llu\n", now_us() - t0, now_us() - start);
		fflush(stdout);
	}
	device_close(&r);
	return rc == 0 ? 0 : 1;
}
