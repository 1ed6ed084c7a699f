/*
 * checked32: the checked base32 form of any size, not only the two that
 * device ids and recovery phrases use (devid_test.c, phrase_test.c test
 * those). For every byte count up to CHECKED32_MAX_BYTES and every group
 * count that divides its characters: values round-trip at the length
 * CHECKED32_LEN says, and every single-character substitution is caught
 * by its group's check (before the last character's zero bits are
 * looked at).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "checked32.h"
#include "tap.h"

/* The longest form: the most bytes, a check after every character. */
#define MAX_LEN	CHECKED32_LEN(CHECKED32_MAX_BYTES, \
	CHECKED32_DATA(CHECKED32_MAX_BYTES))

static void
test_round_trip(void)
{
	uint8_t v[CHECKED32_MAX_BYTES], back[CHECKED32_MAX_BYTES];
	char out[MAX_LEN + 1];

	for (size_t n = 1; n <= CHECKED32_MAX_BYTES; n++)
		for (size_t g = 1; g <= CHECKED32_DATA(n); g++) {
			if (CHECKED32_DATA(n) % g != 0)
				continue;
			randombytes_buf(v, n);
			memset(out, '#', sizeof(out));
			checked32_encode(v, n, g, out);
			CHECK(strlen(out) == CHECKED32_LEN(n, g));
			CHECK(checked32_decode(out, strlen(out), "", back, n,
			    g, NULL) == 0);
			CHECK(memcmp(v, back, n) == 0);
		}
}

/* n = 5 fills its last character: no zero bits; one group, or a check
 * after every character. */
static void
test_every_single_typo_caught(void)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	static const size_t sizes[][2] = { { 5, 1 }, { 5, 8 }, { 7, 3 },
	    { 20, 4 }, { 32, 2 } };
	uint8_t v[CHECKED32_MAX_BYTES], back[CHECKED32_MAX_BYTES];
	char good[MAX_LEN + 1], bad[MAX_LEN + 1];

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k][0], g = sizes[k][1];
		size_t per = CHECKED32_DATA(n) / g + 1;
		int tried = 0, caught = 0;

		randombytes_buf(v, n);
		checked32_encode(v, n, g, good);
		for (size_t pos = 0, ch = 0; good[pos] != '\0'; pos++) {
			if (good[pos] == '-')
				continue;
			for (const char *a = alpha; *a; a++) {
				int group = 0, rc;

				if (*a == good[pos])
					continue;
				memcpy(bad, good, sizeof(bad));
				bad[pos] = *a;
				tried++;
				rc = checked32_decode(bad, strlen(bad), "",
				    back, n, g, &group);
				if (rc == CHECKED32_ECHECK &&
				    group == (int)(ch / per) + 1)
					caught++;
			}
			ch++;
		}
		CHECK(tried == (int)CHECKED32_CHARS(n, g) * 31);
		CHECK(caught == tried);
	}
}

static void
test_skip(void)
{
	uint8_t v[5] = { 1, 2, 3, 4, 5 }, back[5];
	char out[CHECKED32_LEN(5, 1) + 1], loose[32];

	checked32_encode(v, 5, 1, out);
	snprintf(loose, sizeof(loose), " %.7s\t%s ", out, out + 8);
	CHECK(checked32_decode(loose, strlen(loose), "", back, 5, 1, NULL) ==
	    CHECKED32_EFORM);
	CHECK(checked32_decode(loose, strlen(loose), " \t", back, 5, 1,
	    NULL) == 0 && memcmp(v, back, 5) == 0);
	/* A NUL is never passed over, whatever skip holds. */
	loose[0] = '\0';
	CHECK(checked32_decode(loose, strlen(loose + 1) + 1, " \t", back, 5,
	    1, NULL) == CHECKED32_EFORM);
}

TAP_MAIN(
	TAP_TEST(test_round_trip),
	TAP_TEST(test_every_single_typo_caught),
	TAP_TEST(test_skip),
)
