/*
 * Hybrid logical clock: the high 48 bits are wall-clock milliseconds, the
 * low 16 a counter. A device issues clock values above those it has seen,
 * so its edits order after everything it knew of even when its wall clock
 * is a little behind; but nothing it receives moves its clock more than
 * HLC_MAX_AHEAD_MS past its own wall clock.
 *
 * Why a clock may go back: the order of edits that saw one another is
 * carried by the writes each one names as replaced (its predecessors),
 * never by this clock. The clock only ranks writes that are concurrent,
 * none of which saw the other, and any deterministic rank is correct for
 * those: (hlc, author) on every device. So a device whose stored clock is
 * far past its wall clock (its clock was years ahead and has been fixed,
 * or it once took a wild remote value) may simply start again from its
 * wall clock: no edit it makes can lose to one it had seen.
 */
#include "proto.h"

#define HLC_COUNTER_BITS	16
#define HLC_MS_MAX		((UINT64_C(1) << 48) - 1)

#define HLC_MAX_AHEAD_MS	PROTO_HLC_MAX_AHEAD_MS

static uint64_t
hlc_of_ms(uint64_t ms)
{
	return (ms > HLC_MS_MAX ? HLC_MS_MAX : ms) << HLC_COUNTER_BITS;
}

static uint64_t
ahead_ms(uint64_t wall_ms)
{
	return wall_ms > HLC_MS_MAX - HLC_MAX_AHEAD_MS ? HLC_MS_MAX :
	    wall_ms + HLC_MAX_AHEAD_MS;
}

/* The greatest clock value kept by a device whose wall clock reads
 * wall_ms: the last counter value of the millisecond a day ahead. */
static uint64_t
hlc_limit(uint64_t wall_ms)
{
	return hlc_of_ms(ahead_ms(wall_ms)) |
	    ((UINT64_C(1) << HLC_COUNTER_BITS) - 1);
}

/* A last value past the limit is ignored: see the top of the file. At
 * the limit itself the clock stays (the counter is spent), so it never
 * passes it; (hlc, author, seq) still orders the writes. */
uint64_t
proto_hlc_now(uint64_t last, uint64_t wall_ms)
{
	uint64_t wall = hlc_of_ms(wall_ms), limit = hlc_limit(wall_ms);

	if (wall > last || last > limit)
		return wall;
	return last == limit ? last : last + 1;
}

/* A remote clock is adopted only up to the limit; one past it counts as
 * the limit's millisecond with counter 0, so the writes after it still
 * count up. Its entries still merge, ranked by their own stamp among
 * concurrent writes. A stale last value past the limit is dropped here
 * too, so what is stored stays within it. */
uint64_t
proto_hlc_seen(uint64_t last, uint64_t remote, uint64_t wall_ms)
{
	uint64_t limit = hlc_limit(wall_ms);

	if (remote > limit)
		remote = hlc_of_ms(ahead_ms(wall_ms));
	if (last > limit)
		last = hlc_of_ms(wall_ms);
	return remote > last ? remote : last;
}

uint64_t
proto_hlc_ms(uint64_t hlc)
{
	return hlc >> HLC_COUNTER_BITS;
}
