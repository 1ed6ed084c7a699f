/*
 * store: sizes computed per platform. The LMDB map size must be nonzero
 * and fit size_t on every box: (size_t)16 << 30 is 0 on 32-bit, where
 * Raspberry Pi OS runs.
 */
#include <stdint.h>
#include <stdio.h>

#include <sodium.h>

#include "store.h"
#include "tap.h"

static void
test_map_size(void)
{
	size_t sz = store_map_size();

	CHECK(sz != 0);
	CHECK(sz >= (size_t)1 << 30);
	CHECK(sz <= SIZE_MAX / 2);
	if (sizeof(size_t) <= 4)
		CHECK(sz == (size_t)1 << 30);
	else
		CHECK(sz == (size_t)16 << 30);
}

TAP_MAIN(TAP_TEST(test_map_size))
