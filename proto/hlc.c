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

/* The greatest clock value a device whose wall clock reads wall_ms keeps. */
static uint64_t
hlc_cap(uint64_t wall_ms)
{
	uint64_t ms = wall_ms > HLC_MS_MAX - HLC_MAX_AHEAD_MS ? HLC_MS_MAX :
	    wall_ms + HLC_MAX_AHEAD_MS;

	return hlc_of_ms(ms) | ((UINT64_C(1) << HLC_COUNTER_BITS) - 1);
}

/* A last value past the cap is ignored: see the top of the file. */
uint64_t
proto_hlc_now(uint64_t last, uint64_t wall_ms)
{
	uint64_t wall = hlc_of_ms(wall_ms);

	if (wall > last || last > hlc_cap(wall_ms))
		return wall;
	return last == UINT64_MAX ? last : last + 1;	/* saturate, never wrap */
}

/* A remote clock is adopted only up to the cap; its entries still merge,
 * ranked by their own stamp among concurrent writes. A stale last value
 * past the cap is dropped here too, so what is stored stays within it. */
uint64_t
proto_hlc_seen(uint64_t last, uint64_t remote, uint64_t wall_ms)
{
	uint64_t cap = hlc_cap(wall_ms);

	if (remote > cap)
		remote = cap;
	if (last > cap)
		last = hlc_of_ms(wall_ms);
	return remote > last ? remote : last;
}

uint64_t
proto_hlc_ms(uint64_t hlc)
{
	return hlc >> HLC_COUNTER_BITS;
}
