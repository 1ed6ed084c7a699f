/*
 * search_bench: reading a big history, the rows of issue 10 it answers.
 *
 *	search_bench SCRATCH_DIR	(SATCHEL=path/to/satchel; BENCH_RUNS=5)
 *
 * One student with 100,000 conference notes of ~1 KB, written through
 * the store API (1,000 to a transaction) as `note add` writes them, then
 * the real commands, each the median of BENCH_RUNS runs after one warm-up
 * run, with `satchel id` (process start + store open) as the floor:
 *
 *	search WORD	a word in 10 notes, a word in 100, and two words
 *	show STUDENT	the first page (50 newest) of the 100,000
 *	digest		of the 100,001 records
 *
 * Each row prints the figure, the target and figure/target (1.0
 * or less meets it), and the figure less the floor: what the command's
 * own work costs, which on a loaded machine is the telling part. The
 * data directory's size beside the log's payload shows what the word
 * index costs on disk. SEARCH_BENCH_NOTES=N writes N notes instead.
 */
#include <sys/resource.h>
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

#include "satchel.h"

#define NOTES		100000	/* SEARCH_BENCH_NOTES overrides */
#define PER_TXN		1000
#define FIELD_TEXT	320	/* three fields of this: ~1 KB a note */
#define HEX_ID		(2 * PROTO_RECIDLEN + 1)
#define SEARCH_TARGET_MS	20.0
#define SHOW_TARGET_MS		20.0
#define DIGEST_TARGET_MS	10.0

static const char *satchel_bin;
static int nruns = 5;
static uint64_t nnotes = NOTES;

static double
mono(void)
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

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
static void
die(const char *what)
{
	fprintf(stderr, "search_bench: %s\n", what);
	exit(1);
}

static void
die_store(const char *what, int rc)
{
	fprintf(stderr, "search_bench: %s: %s\n", what, store_strerror(rc));
	exit(1);
}

/* --- Texts: deterministic per note, so (a) and (b) carry the same bytes. */

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}
/* Runs argv with stdout to /dev/null; returns its wall time, or dies. */
static double
run_cmd(const char *const argv[])
{
	double t0 = mono();
	pid_t pid = fork();
	int status, fd;

	if (pid == -1)
		die("fork failed");
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, STDOUT_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "search_bench: %s %s %s %s failed\n", argv[0],
		    argv[1], argv[2], argv[3]);
		exit(1);
	}
	return mono() - t0;
}

/* `satchel init` semantics, from the real binary. */
/* The directories made here are flat: unlink every entry, then rmdir. */
static void
remove_dir(const char *dir)
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

/* du-like: the blocks the files really take, not their apparent size. */
static uint64_t
dir_disk_bytes(const char *dir)
{
	char path[4200];
	struct dirent *e;
	struct stat sb;
	uint64_t sum = 0;
	DIR *dp = opendir(dir);

	if (dp == NULL)
		die("cannot read the data directory");
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

static uint64_t
log_payload(struct device *d)
{
	struct store_txn *t;
	uint64_t sum = 0;
	int rc;

	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		die_store("begin", rc);
	if ((rc = store_log_each(t, count_bytes, &sum)) != 0)
		die_store("log walk", rc);
	store_abort(t);
	return sum;
}

/* Classroom words, and a pseudo-word per note (a name, a book title): the
 * index holds about as many distinct words as notes, as a real one does. */
static void
fill_text(char *out, size_t len, uint64_t *rng, const char *extra)
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

	at = (size_t)snprintf(out, len, "%s ", extra);
	for (;;) {
		const char *w = words[xorshift(rng) % n];
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

static void
write_note(struct device *d, struct store_txn *t, const char *student,
    uint64_t i)
{
	static char s[FIELD_TEXT + 1], o[FIELD_TEXT + 1], a[FIELD_TEXT + 1];
	uint64_t rng = 0x9e3779b97f4a7c15ULL ^ (i + 1);
	char date[11], tag[64], rare[16];
	uint8_t id[PROTO_RECIDLEN];
	struct change c;
	int rc;

	/* okapi: in 10 notes; zebra: in 100; kq<i>: in one. */
	snprintf(rare, sizeof(rare), "%s%s", i % 10000 == 7 ? "okapi " : "",
	    i % 1000 == 3 ? "zebra" : "kq");
	snprintf(tag, sizeof(tag), "%s kq%llu", rare,
	    (unsigned long long)i);
	fill_text(s, sizeof(s), &rng, tag);
	fill_text(o, sizeof(o), &rng, "");
	fill_text(a, sizeof(a), &rng, "");
	snprintf(date, sizeof(date), "20%02d-%02d-%02d",
	    (int)(10 + i / 3600 % 20), (int)(1 + i / 300 % 12),
	    (int)(1 + i / 10 % 28));
	randombytes_buf(id, sizeof(id));
	change_init(&c, KIND_NOTE, id);
	if (change_set(&c, NULL, "student", student) != 0 ||
	    change_set(&c, NULL, "date", date) != 0 ||
	    change_set(&c, NULL, "author", d->name) != 0 ||
	    change_set(&c, NULL, "strengths", s) != 0 ||
	    change_set(&c, NULL, "obstacle", o) != 0 ||
	    change_set(&c, NULL, "action", a) != 0)
		die("cannot build a note");
	if ((rc = device_write(d, t, &c)) != 0)
		die_store("note write", rc);
}

/* Makes the device and its student; returns the log's payload. */
static uint64_t
populate(const char *dir, char student[HEX_ID])
{
	const char *argv[] = { satchel_bin, "-d", dir, "init", "--name",
	    "Bench", NULL };
	uint8_t id[PROTO_RECIDLEN];
	struct store_txn *t;
	struct device d;
	struct change c;
	struct rusage ru;
	double t0;
	uint64_t payload;
	int rc;

	run_cmd(argv);
	if (device_open(&d, dir) != 0)
		die("device_open failed");
	t0 = mono();
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(student, HEX_ID, id, sizeof(id));
	change_init(&c, KIND_STUDENT, id);
	if (change_set(&c, NULL, "name", "Bench Student") != 0)
		die("cannot build a student");
	for (uint64_t i = 0; i < nnotes; i += PER_TXN) {
		if ((rc = store_begin(d.st, 0, &t)) != 0)
			die_store("begin", rc);
		if (i == 0 && (rc = device_write(&d, t, &c)) != 0)
			die_store("student write", rc);
		for (uint64_t j = i; j < i + PER_TXN && j < nnotes; j++)
			write_note(&d, t, student, j);
		if ((rc = store_commit(t)) != 0)
			die_store("commit", rc);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("%llu notes of ~1 KB for one student, written through the "
	    "store API in %.1f s, %.1f CPU-s (%.0f notes/s, %d per "
	    "transaction)\n", (unsigned long long)nnotes, mono() - t0,
	    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	    (double)nnotes / (mono() - t0), PER_TXN);
	payload = log_payload(&d);
	device_close(&d);
	return payload;
}

struct row {
	const char	*what;
	double		 target_ms;
	const char	*argv[8];
	double		 runs[99];
};

static void
print_row(struct row *r, double floor_ms)
{
	double ms = median(r->runs, (size_t)nruns) * 1e3;

	printf("  %-36s %8.2f ms   target %5.1f ms   ratio %5.2f   "
	    "above the floor (satchel id %.2f ms) %.2f ms\n", r->what, ms,
	    r->target_ms, ms / r->target_ms, floor_ms, ms - floor_ms);
}

int
main(int argc, char **argv)
{
	const char *runs = getenv("BENCH_RUNS");
	char dir[4096], student[HEX_ID];
	double id[99];
	uint64_t payload, disk;

	if (argc != 2 || (satchel_bin = getenv("SATCHEL")) == NULL) {
		fprintf(stderr, "usage: SATCHEL=path/to/satchel "
		    "[BENCH_RUNS=5] search_bench SCRATCH_DIR\n");
		return 2;
	}
	if (runs != NULL)
		nruns = atoi(runs) < 1 ? 1 : atoi(runs) > 99 ? 99 : atoi(runs);
	if (getenv("SEARCH_BENCH_NOTES") != NULL &&
	    atoll(getenv("SEARCH_BENCH_NOTES")) > 0)
		nnotes = (uint64_t)atoll(getenv("SEARCH_BENCH_NOTES"));
	if (sodium_init() < 0)
		die("cannot initialise libsodium");
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("search_bench: medians of %d runs; satchel %s\n", nruns,
	    satchel_bin);
	snprintf(dir, sizeof(dir), "%s/search", argv[1]);
	payload = populate(dir, student);
	disk = dir_disk_bytes(dir);
	{
		struct row rows[] = {
			{ "search okapi (10 matches)", SEARCH_TARGET_MS,
			    { satchel_bin, "-d", dir, "search", "okapi",
			    NULL }, { 0 } },
			{ "search zebra (100 matches)", SEARCH_TARGET_MS,
			    { satchel_bin, "-d", dir, "search", "zebra",
			    NULL }, { 0 } },
			{ "search oka fluent (prefix, 2 words)",
			    SEARCH_TARGET_MS, { satchel_bin, "-d", dir,
			    "search", "oka", "fluent", NULL }, { 0 } },
			{ "show STUDENT (first 50)",
			    SHOW_TARGET_MS, { satchel_bin, "-d", dir, "show",
			    student, NULL }, { 0 } },
			{ "digest (every record)", DIGEST_TARGET_MS,
			    { satchel_bin, "-d", dir, "digest", NULL },
			    { 0 } },
		};
		const char *idv[] = { satchel_bin, "-d", dir, "id", NULL };
		size_t n = sizeof(rows) / sizeof(rows[0]);

		for (size_t i = 0; i < n; i++)	/* warm the page cache */
			run_cmd(rows[i].argv);
		for (int r = 0; r < nruns; r++) {
			id[r] = run_cmd(idv);
			for (size_t i = 0; i < n; i++)
				rows[i].runs[r] = run_cmd(rows[i].argv);
		}
		for (size_t i = 0; i < n; i++)
			print_row(&rows[i], median(id, (size_t)nruns) * 1e3);
	}
	printf("  data directory on disk %.1f MiB   log raw payload %.1f MiB "
	    "(%.2fx)\n", (double)disk / 1048576, (double)payload / 1048576,
	    (double)disk / (double)payload);
	remove_dir(dir);
	return 0;
}
