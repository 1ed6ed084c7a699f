/*
 * hlc: what a wrong clock can do to a right one. A remote clock years
 * ahead is adopted only up to a day past the wall clock, however often it
 * is seen; a stored clock far past a wall clock that was set right starts
 * again from the wall clock; and the test builds' clock offset
 * (SATCHEL_CLOCK_OFFSET) that the regression tests rely on. No timing.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "proto.h"
#include "store.h"
#include "tap.h"

#define HLC(ms, n)	((uint64_t)(ms) << 16 | (n))
#define DAY_MS		(UINT64_C(86400000))
#define YEAR_MS		(365 * DAY_MS)
#define WALL		UINT64_C(1796000000000)	/* a day in 2026 */

static void
test_remote_capped(void)
{
	uint64_t cap = HLC(WALL + PROTO_HLC_MAX_AHEAD_MS, 0);

	CHECK(PROTO_HLC_MAX_AHEAD_MS == DAY_MS);
	/* Two years ahead: adopted a day ahead, no further. */
	CHECK(proto_hlc_seen(HLC(WALL, 0), HLC(WALL + 2 * YEAR_MS, 5), WALL) ==
	    cap);
	CHECK(proto_hlc_seen(0, UINT64_MAX, WALL) == cap);
	/* Within the day: adopted as is, counter and all. */
	CHECK(proto_hlc_seen(HLC(WALL, 0), HLC(WALL + 3600000, 9), WALL) ==
	    HLC(WALL + 3600000, 9));
	/* Behind: ours stays. */
	CHECK(proto_hlc_seen(HLC(WALL, 4), HLC(WALL - 2 * YEAR_MS, 0), WALL) ==
	    HLC(WALL, 4));
	/* The next local write after the cap: one past it, a day ahead. */
	CHECK(proto_hlc_now(HLC(WALL + DAY_MS, 0), WALL) ==
	    HLC(WALL + DAY_MS, 1));
}

/* A correct device that syncs with one two years ahead, again and again,
 * writing between syncs: never more than a day past its own wall clock. */
static void
test_no_drag(void)
{
	uint64_t ours = 0, theirs = 0, wall = WALL;

	for (int i = 0; i < 100000; i++) {
		uint32_t r = randombytes_random();

		wall += r % 5000;
		theirs = proto_hlc_now(theirs, wall + 2 * YEAR_MS);
		if (r & 1)
			ours = proto_hlc_seen(ours, theirs, wall);
		if (r & 2)
			ours = proto_hlc_now(ours, wall);
		if (proto_hlc_ms(ours) > wall + PROTO_HLC_MAX_AHEAD_MS) {
			printf("#   dragged to %" PRIu64 " at wall %" PRIu64
			    "\n", proto_hlc_ms(ours), wall);
			CHECK(0);
			break;
		}
	}
	/* The skewed device's own clock is its wall clock: two years on. */
	CHECK(proto_hlc_ms(theirs) >= wall + 2 * YEAR_MS - 5000);
}

/* A laptop whose clock was two years ahead is set right: its stored
 * clock is ignored, and it counts on from its wall clock. */
static void
test_recovers(void)
{
	uint64_t last = HLC(WALL + 2 * YEAR_MS, 77), next;

	next = proto_hlc_now(last, WALL);
	CHECK(next == HLC(WALL, 0));
	CHECK(proto_hlc_now(next, WALL) == HLC(WALL, 1));
	CHECK(proto_hlc_now(HLC(WALL, 1), WALL + 1) == HLC(WALL + 1, 0));
	/* Seeing any clock drops the stale value too. */
	CHECK(proto_hlc_seen(last, 0, WALL) == HLC(WALL, 0));
	CHECK(proto_hlc_seen(last, HLC(WALL + 5, 0), WALL) == HLC(WALL + 5, 0));
	/* A day ahead exactly is still kept (within the bound): HLC goes
	 * on; a millisecond past the day's last counter is not. */
	CHECK(proto_hlc_now(HLC(WALL + DAY_MS, 0xfffe), WALL) ==
	    HLC(WALL + DAY_MS, 0xffff));
	CHECK(proto_hlc_now(HLC(WALL + DAY_MS + 1, 0), WALL) == HLC(WALL, 0));
	/* Set back by less than a day: the clock still moves forward. */
	CHECK(proto_hlc_now(HLC(WALL, 3), WALL - 3600000) == HLC(WALL, 4));
}

/* Concurrent writes rank by (hlc, author) on every device: a skewed
 * clock's stamp is its own, never rewritten on the way. */
static void
test_stamps_kept(void)
{
	uint64_t skewed = proto_hlc_now(0, WALL + 2 * YEAR_MS);
	uint64_t right = proto_hlc_now(proto_hlc_seen(0, skewed, WALL), WALL);

	CHECK(proto_hlc_ms(skewed) == WALL + 2 * YEAR_MS);
	CHECK(right < skewed);
	CHECK(proto_hlc_ms(right) == WALL + DAY_MS);
}

/* Whether store_wall_ms under v reads want_ms past the real clock. The
 * real clock is read just before, so the shifted read may be later by
 * the time between the two reads: allowed up to ten seconds. */
static int
shifted_by(const char *v, int64_t want_ms)
{
	uint64_t real, shifted;
	int64_t d;

	unsetenv("SATCHEL_CLOCK_OFFSET");
	real = store_wall_ms();
	if (v != NULL)
		setenv("SATCHEL_CLOCK_OFFSET", v, 1);
	shifted = store_wall_ms();
	unsetenv("SATCHEL_CLOCK_OFFSET");
	d = (int64_t)shifted - (int64_t)real - want_ms;
	if (d < 0 || d >= 10000)
		printf("#   %s: off by %lld ms\n", v ? v : "unset", (long long)d);
	return d >= 0 && d < 10000;
}

static void
test_fake_clock(void)
{
#ifdef SATCHEL_TEST_CLOCK
	CHECK(shifted_by(NULL, 0));
	CHECK(shifted_by("+2y", (int64_t)(2 * YEAR_MS)));
	CHECK(shifted_by("-400d", -(int64_t)(400 * DAY_MS)));
	CHECK(shifted_by("+3h", 3 * 3600000));
	CHECK(shifted_by("-90m", -90 * 60000));
	CHECK(shifted_by("+30s", 30000));
	CHECK(shifted_by("-1500ms", -1500));
	/* Malformed: ignored, never a surprise. */
	CHECK(shifted_by("2y", 0));
	CHECK(shifted_by("+2", 0));
	CHECK(shifted_by("+2x", 0));
	CHECK(shifted_by("+y", 0));
	CHECK(shifted_by("", 0));
	CHECK(shifted_by("+99999999y", 0));
#else
	printf("# not a test build: SATCHEL_CLOCK_OFFSET is not honoured\n");
#endif
}

TAP_MAIN(
	TAP_TEST(test_remote_capped),
	TAP_TEST(test_no_drag),
	TAP_TEST(test_recovers),
	TAP_TEST(test_stamps_kept),
	TAP_TEST(test_fake_clock))
