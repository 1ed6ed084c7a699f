/*
 * Checked base32 (see checked32.h): the one implementation behind device
 * ids and recovery phrases.
 */
#include <string.h>

#include "checked32.h"

/* Room for the values of any form: the checked characters of the longest,
 * at most one check per data character. */
#define MAX_DATA	CHECKED32_DATA(CHECKED32_MAX_BYTES)
#define MAX_CHECKED	(2 * MAX_DATA)

/* RFC 4648's base32 alphabet. */
static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* A character's value in the alphabet, or -1. Lower case is read as upper
 * case, and 0, 1, 8 as the letters they are mistaken for. */
static int
b32_value(char c)
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
static int
luhn32(const uint8_t *v, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned x = v[i] * (i % 2 == 0 ? 1u : 2u);

		sum += x / 32 + x % 32;
	}
	return (int)((32 - sum % 32) % 32);
}

void
checked32_encode(const uint8_t *bytes, size_t n, size_t groups, char *out)
{
	size_t ndata = CHECKED32_DATA(n), per = ndata / groups;
	size_t nchecked = ndata + groups, nv = 0, o = 0;
	uint8_t v[MAX_DATA];
	char checked[MAX_CHECKED];
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8 | bytes[i]) & 0xfff;
		for (bits += 8; bits >= 5; bits -= 5)
			v[nv++] = (uint8_t)(acc >> (bits - 5) & 31);
	}
	if (bits > 0)		/* the last bits, then zeros */
		v[nv++] = (uint8_t)(acc << (5 - bits) & 31);
	for (size_t g = 0; g < groups; g++) {
		for (size_t i = 0; i < per; i++)
			checked[o++] = b32[v[g * per + i]];
		checked[o++] = b32[luhn32(v + g * per, per)];
	}
	for (size_t i = 0, j = 0; i < nchecked; i++) {
		if (i > 0 && i % 7 == 0)
			out[j++] = '-';
		out[j++] = checked[i];
	}
	out[CHECKED32_LEN(n, groups)] = '\0';
}

/* The values of s, dashes and the characters of skip passed over; -1 if
 * s holds anything else or other than want of them. */
static int
values(const char *s, size_t len, const char *skip, uint8_t *v, size_t want)
{
	size_t n = 0, nskip = strlen(skip);

	for (size_t i = 0; i < len; i++) {
		int x;

		if (s[i] == '-' || memchr(skip, s[i], nskip) != NULL)
			continue;
		if ((x = b32_value(s[i])) < 0 || n == want)
			return -1;
		v[n++] = (uint8_t)x;
	}
	return n == want ? 0 : -1;
}

int
checked32_decode(const char *s, size_t len, const char *skip,
    uint8_t *bytes, size_t n, size_t groups, int *group)
{
	size_t ndata = CHECKED32_DATA(n), per = ndata / groups, nb = 0;
	unsigned pad = (unsigned)(ndata * 5 - n * 8);
	uint8_t v[MAX_CHECKED], data[MAX_DATA];
	unsigned acc = 0;
	int bits = 0;

	if (values(s, len, skip, v, ndata + groups) != 0)
		return CHECKED32_EFORM;
	for (size_t g = 0; g < groups; g++) {
		const uint8_t *p = v + g * (per + 1);

		if (luhn32(p, per) != p[per]) {
			if (group != NULL)
				*group = (int)g + 1;
			return CHECKED32_ECHECK;
		}
		memcpy(data + g * per, p, per);
	}
	/* The last character's low bits are zeros after the last byte's:
	 * one value, one form. */
	if ((data[ndata - 1] & ((1u << pad) - 1)) != 0)
		return CHECKED32_EFORM;
	for (size_t i = 0; i < ndata; i++) {
		acc = (acc << 5 | data[i]) & 0xfff;
		if ((bits += 5) >= 8 && nb < n) {
			bits -= 8;
			bytes[nb++] = (uint8_t)(acc >> bits);
		}
	}
	return 0;
}
