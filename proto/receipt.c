/*
 * Receipts' pure parts: the record id, the key, and the vector text that
 * a receipt's "holds" and "self" fields carry (see proto.h). The vector
 * parser reads bytes any member may have written: it checks every byte
 * and allocates nothing.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"

#define RECEIPT_ID_LABEL	"satchel receipt id v1"
#define RECEIPT_KDF_CONTEXT	"satrcpt1"	/* crypto_kdf: 8 bytes */
#define RECEIPT_KDF_ID		1
#define SEQ_DIGITS_MAX		19	/* INT64_MAX has 19 digits */
#define TIME_DIGITS_MAX		15	/* ms: past the year 30000 */

void
proto_receipt_id(const uint8_t device[PROTO_IDLEN],
    uint8_t out[PROTO_RECIDLEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, PROTO_RECIDLEN);
	crypto_generichash_update(&st, (const uint8_t *)RECEIPT_ID_LABEL,
	    sizeof(RECEIPT_ID_LABEL) - 1);
	crypto_generichash_update(&st, device, PROTO_IDLEN);
	crypto_generichash_final(&st, out, PROTO_RECIDLEN);
}

void
proto_receipt_key(const uint8_t network[PROTO_KEYLEN],
    uint8_t out[PROTO_KEYLEN])
{
	crypto_kdf_derive_from_key(out, PROTO_KEYLEN, RECEIPT_KDF_ID,
	    RECEIPT_KDF_CONTEXT, network);
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* upper case too: one spelling per vector */
}

static int
hex_author(const char *s, uint8_t out[PROTO_IDLEN])
{
	for (size_t i = 0; i < PROTO_IDLEN; i++) {
		int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* A decimal of 1 to max digits, no leading zero, from s[*i]. */
static int
decimal(const char *s, size_t len, size_t *i, size_t max, uint64_t *out)
{
	size_t start = *i;

	*out = 0;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		if (*i - start == max)
			return -1;
		*out = *out * 10 + (uint64_t)(s[*i] - '0');
		(*i)++;
	}
	return *i == start || s[start] == '0' ? -1 : 0;
}

int
proto_vector_each(const char *s, size_t len,
    int (*fn)(const uint8_t *, uint64_t, void *), void *arg)
{
	uint8_t prev[PROTO_IDLEN], author[PROTO_IDLEN];
	uint64_t seq;
	size_t i = 0;
	int rc, first = 1;

	while (i < len) {
		if (i > 0 && s[i++] != ',')
			return -1;
		if (len - i < 2 * PROTO_IDLEN + 2 ||
		    hex_author(s + i, author) != 0 ||
		    s[i + 2 * PROTO_IDLEN] != ':')
			return -1;
		i += 2 * PROTO_IDLEN + 1;
		if (decimal(s, len, &i, SEQ_DIGITS_MAX, &seq) != 0 ||
		    seq > INT64_MAX)
			return -1;
		if (!first && memcmp(prev, author, PROTO_IDLEN) >= 0)
			return -1;	/* one spelling: authors ascend */
		memcpy(prev, author, PROTO_IDLEN);
		first = 0;
		if (fn != NULL && (rc = fn(author, seq, arg)) != 0)
			return rc;
	}
	return 0;
}

int
proto_vector_put(char *out, size_t cap, size_t *len,
    const uint8_t author[PROTO_IDLEN], uint64_t seq)
{
	char item[PROTO_VECTOR_ITEM_MAX + 1];
	char hex[2 * PROTO_IDLEN + 1];
	int n;

	if (seq == 0 || seq > INT64_MAX)
		return -1;
	sodium_bin2hex(hex, sizeof(hex), author, PROTO_IDLEN);
	n = snprintf(item, sizeof(item), "%s%s:%llu", *len > 0 ? "," : "",
	    hex, (unsigned long long)seq);
	if (n < 0 || (size_t)n >= sizeof(item) || *len + (size_t)n >= cap)
		return -1;
	memcpy(out + *len, item, (size_t)n + 1);
	*len += (size_t)n;
	return 0;
}

int
proto_time_check(const char *s, size_t len)
{
	uint64_t v;
	size_t i = 0;

	return decimal(s, len, &i, TIME_DIGITS_MAX, &v) == 0 && i == len ?
	    0 : -1;
}
