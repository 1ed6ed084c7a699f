/*
 * Hybrid logical clock: the high 48 bits are wall-clock milliseconds, the
 * low 16 a counter. A device never issues a clock value at or below one it
 * has seen, so its edits order after everything it knew of, even when its
 * wall clock is a day behind.
 */
#include "proto.h"

#define HLC_COUNTER_BITS	16
#define HLC_MS_MAX		((UINT64_C(1) << 48) - 1)
#define HLC_MAX_DRIFT_MS	(UINT64_C(366) * 24 * 3600 * 1000)

uint64_t
proto_hlc_now(uint64_t last, uint64_t wall_ms)
{
	uint64_t wall;

	if (wall_ms > HLC_MS_MAX)
		wall_ms = HLC_MS_MAX;
	wall = wall_ms << HLC_COUNTER_BITS;
	if (wall > last)
		return wall;
	return last == UINT64_MAX ? last : last + 1;	/* saturate, never wrap */
}

/* A remote clock is adopted only up to HLC_MAX_DRIFT past our wall clock:
 * one device with its clock years ahead must not drag every other device's
 * clock along. Its entries still merge; they simply win ties on time. */
uint64_t
proto_hlc_seen(uint64_t last, uint64_t remote, uint64_t wall_ms)
{
	uint64_t cap = (wall_ms + HLC_MAX_DRIFT_MS) << HLC_COUNTER_BITS;

	if (remote > cap)
		remote = cap;
	return remote > last ? remote : last;
}

uint64_t
proto_hlc_ms(uint64_t hlc)
{
	return hlc >> HLC_COUNTER_BITS;
}
