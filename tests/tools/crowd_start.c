/*
 * crowd_start N PREFIX PROGRAM ARG...: starts "PROGRAM -d PREFIX-i ARG..."
 * for i = 1..N all at once (stdout to /dev/null, stderr to PREFIX-i.err),
 * waits for all of them, and prints "MS FAILED CPU_MS": the milliseconds
 * from the first start to the last exit, how many exited non-zero, and
 * the CPU time (user and system) they took together, in milliseconds.
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

int
main(int argc, char **argv)
{
	static pid_t pids[CROWD_MAX];
	int n, failed = 0, status, rc;
	double t0, elapsed;
	struct rusage ru;

	if (argc < 4 || (n = atoi(argv[1])) < 1 || n > CROWD_MAX) {
		fprintf(stderr, "usage: crowd_start N PREFIX PROGRAM ARG...\n");
		return 2;
	}
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		if ((rc = start_one(&pids[i], i + 1, argv[2], argc - 3,
		    argv + 3)) != 0) {
			fprintf(stderr, "crowd_start: %s: %s\n", argv[3],
			    strerror(rc));
			return 1;	/* those started exit on their own */
		}
	for (int i = 0; i < n; i++) {
		while ((rc = waitpid(pids[i], &status, 0)) < 0 && errno == EINTR)
			;
		failed += rc < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0;
	}
	elapsed = now_ms() - t0;
	if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
		memset(&ru, 0, sizeof(ru));
	printf("%.1f %d %.1f\n", elapsed, failed, ru.ru_utime.tv_sec * 1e3 +
	    ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 +
	    ru.ru_stime.tv_usec / 1e3);
	return 0;
}
