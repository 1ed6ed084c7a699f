/*
 * devid: the checked device id form (proto_devid_encode/decode). Syncthing's
 * published example decodes to the key its unchecked form gives; every key
 * round-trips; every single-character substitution of a sample id is
 * caught by its group's check; case, dashes and spaces do not matter; the
 * unchecked form and non-canonical spellings are refused.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"
#include "tap.h"

/* Syncthing's lib/protocol/deviceid_test.go: "formatted", and the key its
 * unchecked form P56IOI7MZJNU2IQGDREYDM2MGTMGL3BXNPQ6W5BTBBZ4TJXZWICQ
 * decodes to under RFC 4648 base32. */
static const char st_formatted[] =
    "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2";
static const char st_hex[] =
    "7f7c8723ecca5b4d22061c4981b34c34d865ec376be1eb74330873c9a6f9b205";

static int
decode(const char *s, uint8_t id[PROTO_IDLEN], int *group)
{
	return proto_devid_decode(s, strlen(s), id, group);
}

static void
test_syncthing_example(void)
{
	uint8_t want[PROTO_IDLEN], id[PROTO_IDLEN];
	char out[PROTO_DEVID_LEN + 1];

	CHECK(sodium_hex2bin(want, sizeof(want), st_hex, strlen(st_hex), NULL,
	    NULL, NULL) == 0);
	proto_devid_encode(want, out);
	CHECK(strcmp(out, st_formatted) == 0);
	CHECK(decode(st_formatted, id, NULL) == 0);
	CHECK(memcmp(id, want, PROTO_IDLEN) == 0);
	/* Syncthing's own accepted spellings of the same id. */
	CHECK(decode("P56IOI7 MZJNU2Y IQGDREY DM2MGTI MGL3BXN PQ6W5BM TBBZ4TJ "
	    "XZWICQ2", id, NULL) == 0 && memcmp(id, want, PROTO_IDLEN) == 0);
	CHECK(decode("p561017mzjnu2yiqgdreydm2mgtimgl3bxnpq6w5bmt88z4tjxzwicq2",
	    id, NULL) == 0 && memcmp(id, want, PROTO_IDLEN) == 0);
}

static void
test_round_trip(void)
{
	uint8_t id[PROTO_IDLEN], back[PROTO_IDLEN];
	char out[PROTO_DEVID_LEN + 1];

	for (int i = 0; i < 2000; i++) {
		if (i == 0)
			memset(id, 0, sizeof(id));
		else if (i == 1)
			memset(id, 0xff, sizeof(id));
		else
			randombytes_buf(id, sizeof(id));
		proto_devid_encode(id, out);
		CHECK(strlen(out) == PROTO_DEVID_LEN);
		for (int j = 0; j < PROTO_DEVID_LEN; j++)
			CHECK(j % 8 == 7 ? out[j] == '-' :
			    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", out[j]) !=
			    NULL);
		memset(back, 0x5a, sizeof(back));
		CHECK(decode(out, back, NULL) == 0);
		CHECK(memcmp(id, back, PROTO_IDLEN) == 0);
	}
}

/* Every character replaced by every other one of the alphabet, in both
 * cases: refused by the check of the group it is in. */
static void
test_every_single_typo_caught(void)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t id[PROTO_IDLEN], back[PROTO_IDLEN];
	char good[PROTO_DEVID_LEN + 1], bad[PROTO_DEVID_LEN + 1];
	int tried = 0, caught = 0;

	for (int k = 0; k < 8; k++) {
		randombytes_buf(id, sizeof(id));
		proto_devid_encode(id, good);
		for (int pos = 0, ch = 0; pos < PROTO_DEVID_LEN; pos++) {
			if (good[pos] == '-')
				continue;
			for (const char *a = alpha; *a; a++) {
				int group = 0, rc;

				if (*a == good[pos])
					continue;
				memcpy(bad, good, sizeof(bad));
				bad[pos] = (char)(k % 2 ? tolower(*a) : *a);
				tried++;
				rc = decode(bad, back, &group);
				if (rc == PROTO_DEVID_ECHECK &&
				    group == ch / 14 + 1)
					caught++;
			}
			ch++;
		}
	}
	CHECK(tried == 8 * 56 * 31);
	CHECK(caught == tried);
}

static void
test_spellings(void)
{
	uint8_t id[PROTO_IDLEN], back[PROTO_IDLEN];
	char out[PROTO_DEVID_LEN + 1], s[128];
	size_t n = 0;

	randombytes_buf(id, sizeof(id));
	proto_devid_encode(id, out);
	/* Lower case, no dashes. */
	for (const char *p = out; *p; p++)
		if (*p != '-')
			s[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	s[n] = '\0';
	CHECK(decode(s, back, NULL) == 0 && memcmp(id, back, 32) == 0);
	/* Spaces in place of dashes. */
	snprintf(s, sizeof(s), "%s", out);
	for (char *p = s; *p; p++)
		if (*p == '-')
			*p = ' ';
	CHECK(decode(s, back, NULL) == 0 && memcmp(id, back, 32) == 0);
}

static void
test_refusals(void)
{
	uint8_t id[PROTO_IDLEN], back[PROTO_IDLEN];
	char out[PROTO_DEVID_LEN + 1], s[160];

	randombytes_buf(id, sizeof(id));
	proto_devid_encode(id, out);
	CHECK(decode("", back, NULL) == PROTO_DEVID_EFORM);
	/* The unchecked form, and the 64-hex form. */
	CHECK(decode("P56IOI7MZJNU2IQGDREYDM2MGTMGL3BXNPQ6W5BTBBZ4TJXZWICQ",
	    back, NULL) == PROTO_DEVID_EFORM);
	CHECK(decode(st_hex, back, NULL) == PROTO_DEVID_EFORM);
	/* One character missing, one too many, one not of the alphabet. */
	CHECK(proto_devid_decode(out, PROTO_DEVID_LEN - 1, back, NULL) ==
	    PROTO_DEVID_EFORM);
	snprintf(s, sizeof(s), "%sA", out);
	CHECK(decode(s, back, NULL) == PROTO_DEVID_EFORM);
	snprintf(s, sizeof(s), "%s", out);
	s[3] = '9';
	CHECK(decode(s, back, NULL) == PROTO_DEVID_EFORM);
	s[3] = '_';
	CHECK(decode(s, back, NULL) == PROTO_DEVID_EFORM);
	/* A leading or trailing newline is the caller's to trim. */
	snprintf(s, sizeof(s), "%s\n", out);
	CHECK(decode(s, back, NULL) == PROTO_DEVID_EFORM);
}

/* The four bits after the key's last bit are zero in the only spelling
 * of a key; a string that sets them (and a check to match) is refused. */
static void
test_noncanonical_tail(void)
{
	uint8_t zero[PROTO_IDLEN] = { 0 }, back[PROTO_IDLEN];
	char out[PROTO_DEVID_LEN + 1];

	proto_devid_encode(zero, out);
	/* All-zero key: "AAAAAAA-...", last data char 'A' (0), check 'A'.
	 * Data char value 1 ('B') at weight 1 (13th of the group, index 12)
	 * needs check 31 ('7'). */
	CHECK(strcmp(out, "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-"
	    "AAAAAAA-AAAAAAA") == 0);
	out[PROTO_DEVID_LEN - 2] = 'B';
	out[PROTO_DEVID_LEN - 1] = '7';
	CHECK(decode(out, back, NULL) == PROTO_DEVID_EFORM);
	out[PROTO_DEVID_LEN - 2] = 'Q';	/* 16: the key's last bit */
	out[PROTO_DEVID_LEN - 1] = 'Q';	/* check (32 - 16) % 32 */
	CHECK(decode(out, back, NULL) == 0 && back[31] == 1);
}

TAP_MAIN(
	TAP_TEST(test_syncthing_example),
	TAP_TEST(test_round_trip),
	TAP_TEST(test_every_single_typo_caught),
	TAP_TEST(test_spellings),
	TAP_TEST(test_refusals),
	TAP_TEST(test_noncanonical_tail),
)
