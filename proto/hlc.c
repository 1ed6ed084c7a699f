/*
 * Hybrid logical clock: the high 48 bits are wall-clock milliseconds, the
 * low 16 a counter. A device never issues a clock value at or below one it
 * has seen, so its edits order after everything it knew of, even when its
 * wall clock is a day behind.
 */
#include "proto.h"

#define HLC_COUNTER_BITS	16
#define HLC_MS_MAX		((UINT64_C(1) << 48) - 1)

uint64_t
proto_hlc_now(uint64_t last, uint64_t wall_ms)
{
	uint64_t wall;

	if (wall_ms > HLC_MS_MAX)
		wall_ms = HLC_MS_MAX;
	wall = wall_ms << HLC_COUNTER_BITS;
	return wall > last ? wall : last + 1;
}

uint64_t
proto_hlc_seen(uint64_t last, uint64_t remote)
{
	return remote > last ? remote : last;
}

uint64_t
proto_hlc_ms(uint64_t hlc)
{
	return hlc >> HLC_COUNTER_BITS;
}
