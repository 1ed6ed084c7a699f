/*
 * Progress of a long sync or import, said the way the output is read: on
 * a terminal, one line rewritten in place a few times a second; into a
 * file or a pipe, a line every PROGRESS_LINE_MS; with --json, a JSON
 * object a line on stdout. Nothing is said for a job that ends before
 * its first line is due, so a quick sync stays quiet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "satchel.h"

#define PROGRESS_TTY_MS		250
#define PROGRESS_LINE_MS	5000
#define PROGRESS_JSON_MS	1000

/* Test builds may shorten every interval (SATCHEL_PROGRESS_MS), so that
 * a test sees progress without a long job. */
static uint64_t
interval(uint64_t ms)
{
#ifdef SATCHEL_TEST_CLOCK
	const char *v = getenv("SATCHEL_PROGRESS_MS");

	if (v != NULL && *v != '\0')
		return strtoull(v, NULL, 10);
#endif
	return ms;
}

/* How often serve logs a long transfer. */
uint64_t
progress_log_ms(void)
{
	return interval(10000);
}

void
progress_start(struct progress *p, const char *what, int json)
{
	p->what = what;
	p->json = json;
	p->tty = !json && isatty(STDERR_FILENO);
	p->start = p->last = now_ms();
	p->live = 0;
	p->every = interval(json ? PROGRESS_JSON_MS : p->tty ?
	    PROGRESS_TTY_MS : PROGRESS_LINE_MS);
}

int
progress_due(const struct progress *p)
{
	return now_ms() - p->last >= p->every;
}

/* 12,345 */
static void
count(char *out, size_t len, uint64_t n)
{
	if (n >= 1000000)
		snprintf(out, len, "%llu,%03llu,%03llu",
		    (unsigned long long)(n / 1000000),
		    (unsigned long long)(n / 1000 % 1000),
		    (unsigned long long)(n % 1000));
	else if (n >= 1000)
		snprintf(out, len, "%llu,%03llu", (unsigned long long)(n / 1000),
		    (unsigned long long)(n % 1000));
	else
		snprintf(out, len, "%llu", (unsigned long long)n);
}

static void
say(struct progress *p, uint64_t entries, uint64_t bytes, int64_t left,
    const char *unit, const char *state)
{
	uint64_t ms = now_ms() - p->start;
	uint64_t rate = ms > 0 ? entries * 1000 / ms : 0;
	char n[32], r[32], l[32];

	if (p->json) {
		printf("{\"%s\":\"%s\",\"entries\":%llu,\"bytes\":%llu,"
		    "\"per_second\":%llu,\"elapsed_ms\":%llu,\"left\":", state,
		    p->what, (unsigned long long)entries,
		    (unsigned long long)bytes, (unsigned long long)rate,
		    (unsigned long long)ms);
		if (left < 0)
			printf("null");
		else
			printf("%lld", (long long)left);
		printf(",\"left_unit\":\"%s\"}\n", unit);
		fflush(stdout);
		return;
	}
	count(n, sizeof(n), entries);
	count(r, sizeof(r), rate);
	fprintf(stderr, "%s%s: %s %s, %.1f MB, %s %s/s", p->tty ? "\r" : "",
	    p->what, n, plural(entries, "entry", "entries"),
	    (double)bytes / 1e6, r, plural(rate, "entry", "entries"));
	if (left >= 0 && strcmp(unit, "bytes") == 0)
		fprintf(stderr, ", %.1f MB left", (double)left / 1e6);
	else if (left >= 0) {
		count(l, sizeof(l), (uint64_t)left);
		fprintf(stderr, ", %s left", l);
	}
	/* On a terminal the line is rewritten: clear what a longer one left. */
	fputs(p->tty ? "\033[K" : "\n", stderr);
	fflush(stderr);
	p->live = p->tty;
}

void
progress_show(struct progress *p, uint64_t entries, uint64_t bytes,
    int64_t left, const char *unit)
{
	if (!progress_due(p))
		return;
	p->last = now_ms();
	say(p, entries, bytes, left, unit, "progress");
}

void
progress_end(struct progress *p, uint64_t entries, uint64_t bytes)
{
	if (p->json)
		say(p, entries, bytes, 0, "entries", "done");
	else if (p->live)
		fputs("\r\033[K", stderr);	/* the summary line follows */
	p->live = 0;
}
