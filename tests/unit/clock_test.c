/*
 * clock: who is told their clock is off. The peers' offsets kept in a
 * real store (a temporary directory), then the verdict: this device when
 * the peers agree against it, the one peer that disagrees with the rest,
 * nobody in particular when two devices disagree with no third, nothing
 * within an hour, and nothing from offsets seen outside the recent window
 * (how a fixed clock recovers by itself). No timing: "now" is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"
#include "tap.h"

#define NOW	INT64_C(1796000000000)
#define HOUR	INT64_C(3600000)
#define DAY	(24 * HOUR)
#define YEAR	(365 * DAY)

static char dir[64];

/* A fresh store holding the given peers' offsets, each seen at seen[i]. */
static struct store *
store_with(size_t n, const int64_t *offsets, const int64_t *seen)
{
	struct store_txn *t;
	struct store *st;
	uint8_t id[PROTO_IDLEN];
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0 || mkdtemp(strcpy(dir, "/tmp/clock-test.XXXXXX"))
	    == NULL || store_open(&st, dir, STORE_CREATE) != 0 ||
	    store_begin(st, 0, &t) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		memset(id, 0x10 + (int)i, sizeof(id));
		if (clock_peer_save(t, id, offsets[i], (uint64_t)(seen ?
		    seen[i] : NOW)) != 0)
			abort();
	}
	if (store_commit(t) != 0)
		abort();
	return st;
}

static struct clock_verdict
verdict_of(size_t n, const int64_t *offsets, const int64_t *seen)
{
	struct store *st = store_with(n, offsets, seen);
	struct clock_verdict v;
	struct store_txn *t;

	if (store_begin(st, STORE_RDONLY, &t) != 0 ||
	    clock_verdict(t, (uint64_t)NOW, &v) != 0)
		abort();
	store_abort(t);
	store_close(st);
	return v;
}

static void
test_this_device(void)
{
	static const int64_t two[] = { -2 * YEAR, -2 * YEAR - 5000 };
	static const int64_t behind[] = { 3 * HOUR, 3 * HOUR + 10,
	    3 * HOUR - 10 };
	struct clock_verdict v;

	v = verdict_of(2, two, NULL);
	CHECK(v.off == CLOCK_OFF_THIS && v.npeers == 2);
	CHECK(v.offset_ms > 2 * YEAR - DAY && v.offset_ms < 2 * YEAR + DAY);
	CHECK(strstr(v.text, "this device's clock is 2 years ahead") != NULL);
	CHECK(strstr(v.text, "date") != NULL);

	/* Three peers three hours ahead of us: we are behind. */
	v = verdict_of(3, behind, NULL);
	CHECK(v.off == CLOCK_OFF_THIS && v.offset_ms < 0);
	CHECK(strstr(v.text, "3 hours behind") != NULL);
}

static void
test_one_peer_off(void)
{
	static const int64_t offs[] = { 0, 2 * YEAR, 20 * 60000 };
	struct clock_verdict v;
	uint8_t want[PROTO_IDLEN];

	v = verdict_of(3, offs, NULL);
	memset(want, 0x11, sizeof(want));
	CHECK(v.off == CLOCK_OFF_PEER);
	CHECK(memcmp(v.device, want, PROTO_IDLEN) == 0);
	CHECK(strstr(v.text, "the clock of 111111111111 is 2 years ahead") !=
	    NULL);
	CHECK(strstr(v.text, "NTP") != NULL);
}

/* Two devices a year apart, nobody else: no majority, both named. */
static void
test_no_majority(void)
{
	static const int64_t off[] = { -400 * DAY };
	static const int64_t even[] = { 2 * YEAR, 2 * YEAR, 0 };
	static const int64_t three[] = { 2 * YEAR, 2 * YEAR, 2 * YEAR };
	struct clock_verdict v;

	v = verdict_of(1, off, NULL);
	CHECK(v.off == CLOCK_OFF_UNSURE);
	CHECK(strstr(v.text, "this device's clock and the clock of "
	    "101010101010 are 400 days apart") != NULL);
	/* Us and one peer against two: no majority either. */
	v = verdict_of(3, even, NULL);
	CHECK(v.off == CLOCK_OFF_UNSURE);
	/* Us against three. */
	v = verdict_of(3, three, NULL);
	CHECK(v.off == CLOCK_OFF_THIS);
}

static void
test_all_agree(void)
{
	static const int64_t offs[] = { 59 * 60000, -59 * 60000, 0, 1 };
	struct clock_verdict v;

	v = verdict_of(0, NULL, NULL);
	CHECK(v.off == CLOCK_OK && v.npeers == 0 && v.text[0] == '\0');
	v = verdict_of(4, offs, NULL);
	CHECK(v.off == CLOCK_OK && v.npeers == 4);
}

/* Offsets seen more than three days ago, or "in the future" (seen while
 * this device's clock was ahead, and it has been set right since), do
 * not count: a fixed clock stops being reported at once. */
static void
test_recent_only(void)
{
	static const int64_t offs[] = { -2 * YEAR, -2 * YEAR, 5 * HOUR };
	static const int64_t seen_future[] = { NOW + 2 * YEAR, NOW + 2 * YEAR,
	    NOW };
	static const int64_t seen_old[] = { NOW - 4 * DAY, NOW - 3 * DAY - 1,
	    NOW - 3 * DAY + 1000 };
	struct clock_verdict v;

	v = verdict_of(2, offs, seen_future);
	CHECK(v.off == CLOCK_OK && v.npeers == 0);
	v = verdict_of(3, offs, seen_future);
	CHECK(v.off == CLOCK_OFF_UNSURE && v.npeers == 1);
	v = verdict_of(3, offs, seen_old);
	CHECK(v.npeers == 1 && v.offset_ms == 5 * HOUR);
}

static void
test_span(void)
{
	char s[32];

	clock_span(s, sizeof(s), 729 * DAY);
	CHECK(strcmp(s, "2 years") == 0);
	clock_span(s, sizeof(s), -400 * DAY);
	CHECK(strcmp(s, "400 days") == 0);
	clock_span(s, sizeof(s), 3 * HOUR + 5);
	CHECK(strcmp(s, "3 hours") == 0);
	clock_span(s, sizeof(s), 90 * 60000);
	CHECK(strcmp(s, "90 minutes") == 0);
}

static void
cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (dir[0] != '\0' && system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

static void
test_cleanup(void)
{
	cleanup();
	CHECK(access(dir, F_OK) != 0);
}

TAP_MAIN(
	TAP_TEST(test_this_device),
	TAP_TEST(test_one_peer_off),
	TAP_TEST(test_no_majority),
	TAP_TEST(test_all_agree),
	TAP_TEST(test_recent_only),
	TAP_TEST(test_span),
	TAP_TEST(test_cleanup))
