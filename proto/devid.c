/*
 * Device ids as people read them out and type them in: Syncthing's device
 * ID format (see proto.h), so that a one-character typo in `member add`
 * is refused instead of adding a device that can never exist.
 */
#include <string.h>

#include "checked32.h"
#include "proto.h"

#define GROUPS		4
#define GROUP_DATA	13	/* base32 characters per check character */
#define DATA_CHARS	(GROUPS * GROUP_DATA)		/* 52 */
#define CHECKED_CHARS	(GROUPS * (GROUP_DATA + 1))	/* 56 */

const char proto_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* A character's value in the alphabet, or -1. Lower case is read as upper
 * case, and 0, 1, 8 as the letters they are mistaken for. */
int
proto_b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == '0')
		c = 'O';
	else if (c == '1')
		c = 'I';
	else if (c == '8')
		c = 'B';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* The check value of n values: weights 1, 2, 1, 2, ... from the first;
 * a doubled value of 32 or more counts as its two base-32 digits added,
 * which keeps doubling a bijection mod 32, so that changing any one value
 * changes the sum. */
int
proto_luhn32(const uint8_t *v, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned x = v[i] * (i % 2 == 0 ? 1u : 2u);

		sum += x / 32 + x % 32;
	}
	return (int)((32 - sum % 32) % 32);
}

void
proto_devid_encode(const uint8_t id[PROTO_IDLEN], char out[PROTO_DEVID_LEN + 1])
{
	uint8_t v[DATA_CHARS];
	char checked[CHECKED_CHARS];
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0, o = 0;

	for (size_t i = 0; i < PROTO_IDLEN; i++) {
		acc = (acc << 8 | id[i]) & 0xfff;
		for (bits += 8; bits >= 5; bits -= 5)
			v[n++] = (uint8_t)(acc >> (bits - 5) & 31);
	}
	v[n++] = (uint8_t)(acc << (5 - bits) & 31);	/* 256 = 51 * 5 + 1 */
	for (int g = 0; g < GROUPS; g++) {
		for (int i = 0; i < GROUP_DATA; i++)
			checked[o++] = proto_b32[v[g * GROUP_DATA + i]];
		checked[o++] = proto_b32[proto_luhn32(v + g * GROUP_DATA,
		    GROUP_DATA)];
	}
	for (size_t i = 0, j = 0; i < CHECKED_CHARS; i++) {
		if (i > 0 && i % 7 == 0)
			out[j++] = '-';
		out[j++] = checked[i];
	}
	out[PROTO_DEVID_LEN] = '\0';
}

/* The 56 values of s, dashes and spaces skipped; -1 if s holds anything
 * else or another count. */
static int
devid_values(const char *s, size_t len, uint8_t v[CHECKED_CHARS])
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int x;

		if (s[i] == '-' || s[i] == ' ')
			continue;
		if ((x = proto_b32_value(s[i])) < 0 || n == CHECKED_CHARS)
			return -1;
		v[n++] = (uint8_t)x;
	}
	return n == CHECKED_CHARS ? 0 : -1;
}

int
proto_devid_decode(const char *s, size_t len, uint8_t id[PROTO_IDLEN],
    int *group)
{
	uint8_t v[CHECKED_CHARS], data[DATA_CHARS];
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	if (devid_values(s, len, v) != 0)
		return PROTO_DEVID_EFORM;
	for (int g = 0; g < GROUPS; g++) {
		const uint8_t *p = v + g * (GROUP_DATA + 1);

		if (proto_luhn32(p, GROUP_DATA) != p[GROUP_DATA]) {
			if (group != NULL)
				*group = g + 1;
			return PROTO_DEVID_ECHECK;
		}
		memcpy(data + g * GROUP_DATA, p, GROUP_DATA);
	}
	/* The last character holds the key's last bit and four zeros: one
	 * key, one form. */
	if ((data[DATA_CHARS - 1] & 15) != 0)
		return PROTO_DEVID_EFORM;
	for (size_t i = 0; i < DATA_CHARS; i++) {
		acc = (acc << 5 | data[i]) & 0xfff;
		if ((bits += 5) >= 8 && n < PROTO_IDLEN) {
			bits -= 8;
			id[n++] = (uint8_t)(acc >> bits);
		}
	}
	return 0;
}
