/*
 * The benchmark drivers' shared code (see common.h). Linked into every
 * build/rel/bench/NAME_bench.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common.h"

const char	*bench_satchel;
int		 bench_runs = 5;
static const char *bench_name = "bench";

const char *
bench_init(int argc, char **argv, const char *name)
{
	const char *runs = getenv("BENCH_RUNS");

	bench_name = name;
	if (argc != 2 || (bench_satchel = getenv("SATCHEL")) == NULL) {
		fprintf(stderr, "usage: SATCHEL=path/to/satchel "
		    "[BENCH_RUNS=5] %s SCRATCH_DIR\n", name);
		exit(2);
	}
	if (runs != NULL)	/* callers' stacks hold one slot per run */
		bench_runs = atoi(runs) < 1 ? 1 : atoi(runs) > BENCH_MAX_RUNS ?
		    BENCH_MAX_RUNS : atoi(runs);
	if (sodium_init() < 0)
		bench_die("cannot initialise libsodium");
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("%s: medians of %d runs; satchel %s\n", name, bench_runs,
	    bench_satchel);
	return argv[1];
}

void
bench_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", bench_name, what);
	exit(1);
}

void
bench_die_store(const char *what, int rc)
{
	fprintf(stderr, "%s: %s: %s\n", bench_name, what, store_strerror(rc));
	exit(1);
}

double
bench_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double
bench_median_runs(double *v)
{
	return bench_median(v, (size_t)bench_runs);
}

double
bench_percentile(double *v, size_t n, int p)
{
	size_t rank = (n * (size_t)p + 99) / 100;

	qsort(v, n, sizeof(*v), cmp_double);
	return v[rank == 0 ? 0 : rank - 1];
}

uint64_t
bench_xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void
bench_fill_text(char *out, size_t len, uint64_t *rng, const char *prefix)
{
	static const char *const words[] = {
		"reads", "fluently", "with", "support", "counting", "on",
		"strategies", "phonics", "partner", "work", "asked", "for",
		"help", "when", "stuck", "decoding", "multisyllable", "words",
		"number", "line", "to", "twenty", "confident", "sharing",
		"ideas", "in", "the", "group", "needs", "prompting", "check",
		"again", "next", "week", "model", "chunking", "and", "praise"
	};
	size_t n = sizeof(words) / sizeof(words[0]), at = 0;

	if (prefix != NULL)
		at = (size_t)snprintf(out, len, "%s ", prefix);
	for (;;) {
		const char *w = words[bench_xorshift(rng) % n];
		size_t wl = strlen(w);

		if (at + wl + 1 > len)
			break;
		memcpy(out + at, w, wl);
		at += wl;
		out[at++] = ' ';
	}
	out[at > 0 ? at - 1 : 0] = '.';
	out[at] = '\0';
}

/* Runs argv with stdout discarded and stderr to err_fd (inherited when
 * -1); exits naming the command, and showing err_fd's file, if it fails. */
static double
run_child(const char *const argv[], int err_fd)
{
	double t0 = bench_mono();
	pid_t pid = fork();
	int status, fd;

	if (pid == -1)
		bench_die("fork failed");
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, STDOUT_FILENO);
		if (err_fd != -1)
			dup2(err_fd, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: %s %s %s %s failed\n", bench_name,
		    argv[0], argv[1], argv[2], argv[3]);
		if (err_fd != -1 && lseek(err_fd, 0, SEEK_SET) == 0) {
			char buf[4096];
			ssize_t n;

			while ((n = read(err_fd, buf, sizeof(buf))) > 0)
				fwrite(buf, 1, (size_t)n, stderr);
		}
		exit(1);
	}
	return bench_mono() - t0;
}

double
bench_run(const char *const argv[])
{
	return run_child(argv, -1);
}

void
bench_init_device(struct device *d, const char *dir)
{
	const char *argv[] = { bench_satchel, "-d", dir, "init", "--name",
	    "Bench", NULL };
	FILE *err = tmpfile();	/* the recovery phrase: shown only on failure */

	if (err == NULL)
		bench_die("tmpfile failed");
	run_child(argv, fileno(err));
	fclose(err);
	if (device_open(d, dir) != 0)
		bench_die("device_open failed");
}

void
bench_remove_dir(const char *dir)
{
	char path[4200];
	struct dirent *e;
	DIR *dp = opendir(dir);

	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    (int)sizeof(path))
			unlink(path);
	closedir(dp);
	rmdir(dir);
}

uint64_t
bench_dir_disk_bytes(const char *dir)
{
	char path[4200];
	struct dirent *e;
	struct stat sb;
	uint64_t sum = 0;
	DIR *dp = opendir(dir);

	if (dp == NULL)
		bench_die("cannot read the data directory");
	while ((e = readdir(dp)) != NULL)
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    (int)sizeof(path) && lstat(path, &sb) == 0 &&
		    S_ISREG(sb.st_mode))
			sum += (uint64_t)sb.st_blocks * 512;
	closedir(dp);
	return sum;
}

static int
count_bytes(const uint8_t *env, size_t len, void *arg)
{
	(void)env;
	*(uint64_t *)arg += len;
	return 0;
}

uint64_t
bench_log_payload(struct device *d)
{
	struct store_txn *t;
	uint64_t sum = 0;
	int rc;

	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		bench_die_store("begin", rc);
	if ((rc = store_log_each(t, count_bytes, &sum)) != 0)
		bench_die_store("log walk", rc);
	store_abort(t);
	return sum;
}

double
bench_load1(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

void
bench_row(const char *row, const char *satchel, const char *floor,
    const char *ratio, const char *target)
{
	const char *path = getenv("BENCH_SUMMARY");
	FILE *f;

	if (path == NULL || *path == '\0' || (f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "%s\t%s\t%s\t%s\t%s\t%.2f\n", row, satchel, floor, ratio,
	    target, bench_load1());
	fclose(f);
}
