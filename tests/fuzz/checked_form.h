/*
 * What the fuzz targets of the two checked base32 forms (devid_fuzz.c,
 * phrase_fuzz.c; proto/checked32.h) both demand of their decoder: it
 * refuses with one of its two errors, never crashes, and what it accepts
 * is the one value whose form, read the same way (case, dashes, the
 * characters it passes over, and 0, 1, 8 for O, I, B set aside), is the
 * input: encoding the value again gives that form, which decodes to the
 * same value.
 */
#ifndef SATCHEL_FUZZ_CHECKED_FORM_H
#define SATCHEL_FUZZ_CHECKED_FORM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct checked_form {
	int	(*decode)(const char *, size_t, uint8_t *, int *);
	void	(*encode)(const uint8_t *, char *);
	size_t	  nbytes;	/* the value's size, at most 32 */
	size_t	  len;		/* the written form's, dashes included */
	size_t	  nchecked;	/* its characters, dashes not */
	int	  groups;	/* the check groups, numbered from 1 */
	int	  eform, echeck;
	const char *skip;	/* what the decoder passes over besides '-' */
};

/* The input as the decoder reads it: upper case, no dashes or skip
 * characters, digits the alphabet lacks read as the letters they look
 * like. */
static size_t
checked_form_plain(const struct checked_form *f, const uint8_t *in,
    size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n < cap; i++) {
		char c = (char)in[i];

		if (c == '-' || (c != '\0' && strchr(f->skip, c) != NULL))
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		c = c == '0' ? 'O' : c == '1' ? 'I' : c == '8' ? 'B' : c;
		out[n++] = c;
	}
	return n;
}

/* Aborts unless the decoder of f meets what the top of this file says. */
static void
checked_form_check(const struct checked_form *f, const uint8_t *data,
    size_t size)
{
	uint8_t value[32], again[32];
	char form[80], a[80], b[80];
	int group = 0, rc;

	rc = f->decode((const char *)data, size, value, &group);
	if (rc == f->echeck && (group < 1 || group > f->groups))
		abort();
	if (rc != 0) {
		if (rc != f->eform && rc != f->echeck)
			abort();
		return;
	}
	f->encode(value, form);
	if (strlen(form) != f->len ||
	    f->decode(form, strlen(form), again, NULL) != 0 ||
	    memcmp(value, again, f->nbytes) != 0)
		abort();
	if (checked_form_plain(f, data, size, b, sizeof(b)) != f->nchecked ||
	    checked_form_plain(f, (const uint8_t *)form, strlen(form), a,
	    sizeof(a)) != f->nchecked || memcmp(a, b, f->nchecked) != 0)
		abort();
}

#endif
