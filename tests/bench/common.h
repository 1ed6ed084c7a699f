/*
 * What the benchmark drivers (tests/bench/NAME_bench.c) share: the command
 * line and environment every one takes, timing and medians, running the
 * real binary, and the scratch directories they fill and measure.
 * Benchmarks only: a failure here ends the program with one line on
 * stderr, for a half-measured figure is worth nothing.
 */
#ifndef SATCHEL_BENCH_COMMON_H
#define SATCHEL_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "satchel.h"

#define BENCH_MAX_RUNS	99	/* BENCH_RUNS is clamped to 1 to this */

/* Set by bench_init: the satchel binary ($SATCHEL) and the runs each
 * figure is the median of ($BENCH_RUNS, 5 if unset). */
extern const char	*bench_satchel;
extern int		 bench_runs;

/*
 * Checks the command line (`NAME SCRATCH_DIR`, SATCHEL set; otherwise a
 * usage line and exit 2), reads BENCH_RUNS, initialises libsodium, makes
 * stdout line-buffered and prints the header line. Returns the scratch
 * directory (argv[1]). name is borrowed for the program's life: it
 * prefixes every message.
 */
const char *bench_init(int argc, char **argv, const char *name);

/* Prints "NAME: what" on stderr and exits 1. */
_Noreturn void bench_die(const char *what);
/* The same with the store's reason for rc. */
_Noreturn void bench_die_store(const char *what, int rc);

/* The monotonic clock, in seconds. */
double	bench_mono(void);
/* The median of v (n values; sorts v in place). */
double	bench_median(double *v, size_t n);
/* The median of v's first bench_runs values: one figure's runs. */
double	bench_median_runs(double *v);
/* The nearest-rank percentile p (0 to 100) of v, as tests/bench/run.sh
 * computes it: the value p% of samples reach (sorts v in place). */
double	bench_percentile(double *v, size_t n, int p);

/* The next value of a xorshift64 generator whose state is *s (nonzero):
 * texts that are the same on every run. */
uint64_t bench_xorshift(uint64_t *s);
/*
 * Fills out (len bytes, NUL included) with classroom words drawn with
 * *rng, ending in a full stop. With prefix not NULL the text starts with
 * prefix and a space: a word a search is to find.
 */
void	bench_fill_text(char *out, size_t len, uint64_t *rng,
	    const char *prefix);

/* Runs argv (NULL-terminated, argv[0] a path; at least 4 entries before
 * the NULL are printed if it fails) with stdout to /dev/null; returns its
 * wall time in seconds, or dies if it does not exit 0. */
double	bench_run(const char *const argv[]);
/* `satchel init --name Bench` in dir, by the real binary, then opens the
 * device into d (the caller closes it with device_close). What init
 * prints on stderr (the recovery phrase) is shown only if it fails. */
void	bench_init_device(struct device *d, const char *dir);
/* Removes dir and the files in it (the benchmarks make flat ones). */
void	bench_remove_dir(const char *dir);
/* The bytes dir's files take on disk (du-like: blocks, not sizes). */
uint64_t bench_dir_disk_bytes(const char *dir);
/* The bytes of d's log entries, as they were received or written. */
uint64_t bench_log_payload(struct device *d);

/* The 1-minute load average, or -1 if /proc/loadavg cannot be read. */
double	bench_load1(void);
/*
 * Appends one row of issue 10's table to the file $BENCH_SUMMARY names
 * (tests/bench/lib.sh's bench_row, which tests/bench/run.sh prints as a
 * table at the end of `make bench`): what Satchel measured, the floor or
 * peer measured in the same run ("-": none), their ratio, the target;
 * the load is added. Does nothing without BENCH_SUMMARY.
 */
void	bench_row(const char *row, const char *satchel, const char *floor,
	    const char *ratio, const char *target);

#endif
