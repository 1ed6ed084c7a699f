/*
 * For the fuzz targets and unit tests (wire_test.c) of decoders that fill
 * a caller's struct: scrub_stack() before each decode makes a local the
 * decoder never initialised hold garbage rather than zeros, so that
 * reading it shows.
 */
#ifndef SATCHEL_FUZZ_SCRUB_H
#define SATCHEL_FUZZ_SCRUB_H

#include <stdint.h>
#include <string.h>

/*
 * Fills the stack below the caller with a pattern, so a decoder that uses
 * a local it never initialised reads garbage (and ASan sees the pointer
 * fault) instead of whatever zeros happened to be there. Not instrumented,
 * so no redzone keeps the pattern from the top of the frame, where the
 * next call's locals will be.
 */
static __attribute__((noinline, no_sanitize_address)) void
scrub_stack(void)
{
	uint8_t junk[4096];

	memset(junk, 0xa5, sizeof(junk));
	__asm__ __volatile__("" : : "r"(junk) : "memory");	/* keep it */
}

#endif
