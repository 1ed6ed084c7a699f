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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common.h"

#define NOTES		100000	/* SEARCH_BENCH_NOTES overrides */
#define PER_TXN		1000
#define FIELD_TEXT	320	/* three fields of this: ~1 KB a note */
#define HEX_ID		(2 * PROTO_RECIDLEN + 1)
#define SEARCH_TARGET_MS	20.0
#define SHOW_TARGET_MS		20.0
#define DIGEST_TARGET_MS	10.0

static uint64_t nnotes = NOTES;

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
	bench_fill_text(s, sizeof(s), &rng, tag);
	bench_fill_text(o, sizeof(o), &rng, "");
	bench_fill_text(a, sizeof(a), &rng, "");
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
		bench_die("cannot build a note");
	if ((rc = device_write(d, t, &c)) != 0)
		bench_die_store("note write", rc);
}

/* Makes the device and its student; returns the log's payload. */
static uint64_t
populate(const char *dir, char student[HEX_ID])
{
	uint8_t id[PROTO_RECIDLEN];
	struct store_txn *t;
	struct device d;
	struct change c;
	struct rusage ru;
	double t0;
	uint64_t payload;
	int rc;

	bench_init_device(&d, dir);
	t0 = bench_mono();
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(student, HEX_ID, id, sizeof(id));
	change_init(&c, KIND_STUDENT, id);
	if (change_set(&c, NULL, "name", "Bench Student") != 0)
		bench_die("cannot build a student");
	for (uint64_t i = 0; i < nnotes; i += PER_TXN) {
		if ((rc = store_begin(d.st, 0, &t)) != 0)
			bench_die_store("begin", rc);
		if (i == 0 && (rc = device_write(&d, t, &c)) != 0)
			bench_die_store("student write", rc);
		for (uint64_t j = i; j < i + PER_TXN && j < nnotes; j++)
			write_note(&d, t, student, j);
		if ((rc = store_commit(t)) != 0)
			bench_die_store("commit", rc);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("%llu notes of ~1 KB for one student, written through the "
	    "store API in %.1f s, %.1f CPU-s (%.0f notes/s, %d per "
	    "transaction)\n", (unsigned long long)nnotes, bench_mono() - t0,
	    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	    (double)nnotes / (bench_mono() - t0), PER_TXN);
	payload = bench_log_payload(&d);
	device_close(&d);
	return payload;
}

struct row {
	const char	*what;
	double		 target_ms;
	const char	*argv[8];
	double		 runs[BENCH_MAX_RUNS];
};

static void
print_row(struct row *r, double floor_ms)
{
	double ms = bench_median_runs(r->runs) * 1e3;
	char what[128], sat[32], floor[48], ratio[16], target[32];

	printf("  %-36s %8.2f ms   target %5.1f ms   ratio %5.2f   "
	    "above the floor (satchel id %.2f ms) %.2f ms\n", r->what, ms,
	    r->target_ms, ms / r->target_ms, floor_ms, ms - floor_ms);
	snprintf(what, sizeof(what), "%s at %lluk notes", r->what,
	    (unsigned long long)(nnotes / 1000));
	snprintf(sat, sizeof(sat), "%.2f ms", ms);
	snprintf(floor, sizeof(floor), "%.2f ms (satchel id)", floor_ms);
	snprintf(ratio, sizeof(ratio), "%.2fx", ms / floor_ms);
	snprintf(target, sizeof(target), "<= %.0f ms", r->target_ms);
	bench_row(what, sat, floor, ratio, target);
}

int
main(int argc, char **argv)
{
	const char *scratch = bench_init(argc, argv, "search_bench");
	char dir[4096], student[HEX_ID];
	double id[BENCH_MAX_RUNS];
	uint64_t payload, disk;

	if (getenv("SEARCH_BENCH_NOTES") != NULL &&
	    atoll(getenv("SEARCH_BENCH_NOTES")) > 0)
		nnotes = (uint64_t)atoll(getenv("SEARCH_BENCH_NOTES"));
	snprintf(dir, sizeof(dir), "%s/search", scratch);
	payload = populate(dir, student);
	disk = bench_dir_disk_bytes(dir);
	{
		struct row rows[] = {
			{ "search okapi (10 matches)", SEARCH_TARGET_MS,
			    { bench_satchel, "-d", dir, "search", "okapi",
			    NULL }, { 0 } },
			{ "search zebra (100 matches)", SEARCH_TARGET_MS,
			    { bench_satchel, "-d", dir, "search", "zebra",
			    NULL }, { 0 } },
			{ "search oka fluent (prefix, 2 words)",
			    SEARCH_TARGET_MS, { bench_satchel, "-d", dir,
			    "search", "oka", "fluent", NULL }, { 0 } },
			{ "show STUDENT (first 50)",
			    SHOW_TARGET_MS, { bench_satchel, "-d", dir, "show",
			    student, NULL }, { 0 } },
			{ "digest (every record)", DIGEST_TARGET_MS,
			    { bench_satchel, "-d", dir, "digest", NULL },
			    { 0 } },
		};
		const char *idv[] = { bench_satchel, "-d", dir, "id", NULL };
		size_t n = sizeof(rows) / sizeof(rows[0]);

		for (size_t i = 0; i < n; i++)	/* warm the page cache */
			bench_run(rows[i].argv);
		for (int r = 0; r < bench_runs; r++) {
			id[r] = bench_run(idv);
			for (size_t i = 0; i < n; i++)
				rows[i].runs[r] = bench_run(rows[i].argv);
		}
		for (size_t i = 0; i < n; i++)
			print_row(&rows[i],
			    bench_median_runs(id) * 1e3);
	}
	printf("  data directory on disk %.1f MiB   log raw payload %.1f MiB "
	    "(%.2fx)\n", (double)disk / 1048576, (double)payload / 1048576,
	    (double)disk / (double)payload);
	bench_remove_dir(dir);
	return 0;
}
