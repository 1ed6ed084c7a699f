/*
 * The wall clock, read in one place. Test builds (-DSATCHEL_TEST_CLOCK,
 * which `make test` compiles with) honour SATCHEL_CLOCK_OFFSET, so that a
 * regression test can run a device whose clock is years off:
 *
 *	SATCHEL_CLOCK_OFFSET=+2y	(also -400d, +3h, -90m, +30s, -1500ms)
 *
 * A year is 365 days. A release build never looks at the environment.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

#ifdef SATCHEL_TEST_CLOCK
/* The offset SATCHEL_CLOCK_OFFSET names, in ms; 0 if unset or malformed. */
static int64_t
test_offset_ms(void)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "y", INT64_C(365) * 86400000 },
	};
	const char *s = getenv("SATCHEL_CLOCK_OFFSET");
	char *end;
	long long n;

	if (s == NULL || (*s != '+' && *s != '-'))
		return 0;
	n = strtoll(s, &end, 10);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0 && n > -1000000 &&
		    n < 1000000)
			return (int64_t)n * units[i].ms;
	return 0;
}
#endif

uint64_t
store_wall_ms(void)
{
	struct timespec ts;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
#ifdef SATCHEL_TEST_CLOCK
	{
		int64_t off = test_offset_ms();

		if (off < 0 && (uint64_t)-off > ms)
			return 0;
		ms = (uint64_t)((int64_t)ms + off);
	}
#endif
	return ms;
}
