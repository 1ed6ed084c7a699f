/*
 * Text: the one rule for what text Satchel takes, from a keyboard or a
 * peer, and the normal and folded forms it compares text in. The Unicode
 * data (normalisation, case folding, categories) is libutf8proc's; what is
 * written here is only UTF-8's own encoding rules and the short list of
 * code points refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "proto.h"

/* Decodes one UTF-8 sequence of s[0..len), len > 0, by RFC 3629's rules:
 * the length, or 0 with *why saying what is wrong. */
static size_t
utf8_next(const unsigned char *s, size_t len, int32_t *cp, int *why)
{
	size_t n;
	int32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] == 0xc0 || s[0] == 0xc1) {
		*why = PROTO_TEXT_EOVERLONG;	/* a 2-byte form of ASCII */
		return 0;
	}
	if (s[0] < 0xc2 || s[0] > 0xf4) {
		*why = PROTO_TEXT_EUTF8;	/* stray continuation, or past U+10FFFF */
		return 0;
	}
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	c = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if (i >= len || (s[i] & 0xc0) != 0x80) {
			*why = PROTO_TEXT_EUTF8;	/* cut short */
			return 0;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000)) {
		*why = PROTO_TEXT_EOVERLONG;
		return 0;
	}
	if (c >= 0xd800 && c <= 0xdfff) {
		*why = PROTO_TEXT_ESURROGATE;
		return 0;
	}
	if (c > 0x10ffff) {
		*why = PROTO_TEXT_EUTF8;
		return 0;
	}
	*cp = c;
	return n;
}

/* Controls that reorder what follows them on screen (the "Trojan Source"
 * characters): a name or a note could display as something else. */
static int
is_bidi_control(int32_t c)
{
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* The directional marks LRM, RLM and ALM reorder nothing, and right-to-left
 * writers need them in running text; a one-line name or title does not,
 * and there an invisible mark would make two equal-looking names differ. */
static int
is_bidi_mark(int32_t c)
{
	return c == 0x200e || c == 0x200f || c == 0x061c;
}

static int
code_point_ok(int32_t c, int cls)
{
	if (c == '\n' || c == '\t' || c == 0x2028 || c == 0x2029)
		return cls == PROTO_TEXT_LONG ? 0 : PROTO_TEXT_ELINE;
	if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
		return PROTO_TEXT_ECONTROL;
	if (is_bidi_control(c))
		return PROTO_TEXT_EBIDI;
	if (is_bidi_mark(c) && cls != PROTO_TEXT_LONG)
		return PROTO_TEXT_EMARK;
	return 0;
}

/* 1 if the 8 bytes at p are all printable ASCII (0x20-0x7e): no high
 * bit, no byte below 0x20, no DEL. Each test is the classic "has a byte
 * less than n" (or equal to) trick on a 64-bit word. */
static int
printable8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t x, del;

	memcpy(&x, p, sizeof(x));
	del = x ^ (0x7f * ones);
	return ((x | ((x - 0x20 * ones) & ~x) | ((del - ones) & ~del)) &
	    highs) == 0;
}

int
proto_text_check(const char *s, size_t len, int cls)
{
	const unsigned char *p = (const unsigned char *)s;

	while (len > 0) {
		int32_t c = 0;
		int why = 0;
		size_t n;

		/* Printable ASCII passes every class: most of a note is
		 * that, and every received entry's text is checked, eight
		 * bytes at a time where it can be. */
		if (len >= 8 && printable8(p)) {
			p += 8;
			len -= 8;
			continue;
		}
		if (*p >= 0x20 && *p < 0x7f) {
			p++;
			len--;
			continue;
		}
		n = utf8_next(p, len, &c, &why);

		if (n == 0)
			return why;
		if ((why = code_point_ok(c, cls)) != 0)
			return why;
		p += n;
		len -= n;
	}
	return 0;
}

const char *
proto_text_reason(int why)
{
	switch (why) {
	case 0:
		return "valid text";
	case PROTO_TEXT_EUTF8:
		return "not valid UTF-8 (a stray, cut or out-of-range byte)";
	case PROTO_TEXT_EOVERLONG:
		return "not valid UTF-8 (an overlong encoding)";
	case PROTO_TEXT_ESURROGATE:
		return "not valid UTF-8 (an encoded surrogate)";
	case PROTO_TEXT_ECONTROL:
		return "contains a control character";
	case PROTO_TEXT_ELINE:
		return "must be one line (no newline or tab)";
	case PROTO_TEXT_EBIDI:
		return "contains a bidirectional embedding, override or "
		    "isolate control (U+202A-U+202E, U+2066-U+2069)";
	case PROTO_TEXT_EMARK:
		return "contains an invisible direction mark (U+200E, U+200F "
		    "or U+061C), not allowed in a name or title";
	default:
		return "invalid text";
	}
}

/* The blocks of the scripts where a combining mark on a letter is an
 * accent (Latin, Greek, Cyrillic). Elsewhere a mark is part of the letter:
 * a Devanagari vowel sign, a Japanese dakuten, Arabic or Hebrew vowels. */
static int
accented_script(int32_t c)
{
	return (c >= 'A' && c <= 0x024f) || (c >= 0x0370 && c <= 0x04ff) ||
	    (c >= 0x1e00 && c <= 0x1fff);
}

/* Drops the nonspacing marks that follow a Latin, Greek or Cyrillic base
 * in decomposed text; returns the new length. */
static utf8proc_ssize_t
strip_accents(utf8proc_int32_t *buf, utf8proc_ssize_t n)
{
	utf8proc_ssize_t out = 0;
	int32_t base = 0;

	for (utf8proc_ssize_t i = 0; i < n; i++) {
		if (utf8proc_category(buf[i]) != UTF8PROC_CATEGORY_MN)
			base = buf[i];
		else if (accented_script(base))
			continue;
		buf[out++] = buf[i];
	}
	return out;
}

/* ASCII is already NFC, has no marks, and folds to its lower case: the
 * common case, done without libutf8proc. NULL if s is not all ASCII. */
static char *
ascii_map(const char *s, size_t len, int fold, size_t *outlen)
{
	char *out;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return NULL;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		out[i] = fold && s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' :
		    s[i];
	out[len] = '\0';
	if (outlen != NULL)
		*outlen = len;
	return out;
}

/* Decomposes s into *buf (a guess at the size first: decomposition
 * rarely gives more code points than s has bytes), growing it once if
 * that was short. The number of code points, or -1. */
static utf8proc_ssize_t
decompose(const char *s, size_t len, utf8proc_option_t opts,
    utf8proc_int32_t **buf)
{
	const utf8proc_uint8_t *in = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t cap = (utf8proc_ssize_t)len + 16, n;

	for (int tries = 0; tries < 2; tries++) {
		free(*buf);
		if ((*buf = malloc(((size_t)cap + 1) * sizeof(**buf))) == NULL)
			return -1;
		n = utf8proc_decompose(in, (utf8proc_ssize_t)len, *buf, cap,
		    opts);
		if (n < 0)
			return -1;
		if (n <= cap)
			return n;
		cap = n;
	}
	return -1;
}

/* Decomposes s (with case folding if asked), optionally strips accents,
 * recomposes to NFC: a new string, or NULL. As utf8proc_map does, the
 * code points are re-encoded in place, 4 bytes each at most. */
static char *
text_map(const char *s, size_t len, utf8proc_option_t opts, int accents,
    size_t *outlen)
{
	utf8proc_int32_t *buf = NULL;
	utf8proc_ssize_t n;
	void *shrunk;
	char *ascii;

	if (len > PROTO_TEXT_MAX)
		return NULL;
	if ((ascii = ascii_map(s, len, opts & UTF8PROC_CASEFOLD,
	    outlen)) != NULL)
		return ascii;
	n = decompose(s, len, opts | UTF8PROC_STABLE | UTF8PROC_DECOMPOSE,
	    &buf);
	if (n >= 0 && accents)
		n = strip_accents(buf, n);
	if (n >= 0)
		n = utf8proc_reencode(buf, n, UTF8PROC_STABLE |
		    UTF8PROC_COMPOSE);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	if ((shrunk = realloc(buf, (size_t)n + 1)) != NULL)
		buf = shrunk;
	if (outlen != NULL)
		*outlen = (size_t)n;
	return (char *)buf;
}

char *
proto_text_nfc(const char *s, size_t len, size_t *outlen)
{
	return text_map(s, len, 0, 0, outlen);
}

char *
proto_text_fold(const char *s, size_t len, unsigned flags, size_t *outlen)
{
	return text_map(s, len, UTF8PROC_CASEFOLD, (flags &
	    PROTO_FOLD_ACCENTS) != 0, outlen);
}

int
proto_text_same(const char *a, size_t alen, const char *b, size_t blen)
{
	char *na, *nb;
	size_t la, lb;
	int same;

	if (alen == blen && memcmp(a, b, alen) == 0)
		return 1;
	na = proto_text_nfc(a, alen, &la);
	nb = proto_text_nfc(b, blen, &lb);
	same = na != NULL && nb != NULL && la == lb &&
	    memcmp(na, nb, la) == 0;
	free(na);
	free(nb);
	return same;
}

/* The old name, kept for the change decoder: values a peer sends are held
 * to the long-text rule (the field's own class is the schema's to say). */
int
proto_text_ok(const char *s, size_t len)
{
	return proto_text_check(s, len, PROTO_TEXT_LONG) == 0;
}

static int
word_char(int32_t c)
{
	if (c < 0x80)
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z');
	if (c == 0x200c || c == 0x200d)
		return 1;	/* ZWNJ, ZWJ: inside Persian and Indic words */
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

/* Folded ASCII words up to this many bytes are made on the stack. */
#define WORD_STACK	64

/* Folds the word s[start, end) and hands it on, cut to its first cap
 * code points once folded (cap 0: whole); the folded copy lives for the
 * call. hi is where the word's first non-ASCII byte is (end if none).
 * ASCII folds byte by byte to itself or its lower case, and an ASCII
 * letter or digit is a starter no mark before it reaches and that
 * nothing after it changes: if the first cap + 1 bytes are ASCII, the
 * first cap of them, lowered, are the folded word's first cap code
 * points, and the rest of a long word need not be folded. Otherwise the
 * whole word is folded and then cut. */
static int
word_emit(const char *s, size_t start, size_t end, size_t hi, size_t cap,
    int (*fn)(const char *, size_t, size_t, size_t, void *), void *arg,
    int *stop)
{
	char buf[WORD_STACK], *f;
	size_t flen = end - start;

	if (cap > 0 && cap < flen && hi - start > cap)
		flen = cap;		/* the ASCII prefix decides */
	if (hi - start >= flen && flen < sizeof(buf)) {
		for (size_t i = 0; i < flen; i++) {
			char c = s[start + i];

			buf[i] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
		}
		buf[flen] = '\0';
		*stop = fn(buf, flen, start, end - start, arg);
		return 0;
	}
	if ((f = proto_text_fold(s + start, end - start, PROTO_FOLD_ACCENTS,
	    &flen)) == NULL)
		return -1;
	if (cap > 0) {
		flen = proto_text_prefix(f, flen, cap);
		f[flen] = '\0';
	}
	*stop = fn(f, flen, start, end - start, arg);
	free(f);
	return 0;
}

/* Bytes by what they are to a word: 1 an ASCII letter or digit, 0 not
 * (another ASCII byte, or one of a multi-byte sequence). */
static const unsigned char ascii_word[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

/* The words of every record saved go through here (the word index):
 * ASCII, most of most text, is read a byte at a time through a table,
 * without decoding or a category lookup. */
static int
text_words(const char *s, size_t len, size_t cap,
    int (*fn)(const char *, size_t, size_t, size_t, void *), void *arg)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0, hi = 0, n;
	int in = 0, stop = 0, why = 0, wc;
	int32_t c;

	while (i < len && !stop) {
		if (u[i] < 0x80) {
			/* The rest of an ASCII run of word characters, four
			 * bytes a test while it lasts. */
			if (in && ascii_word[u[i]]) {
				for (i++; i + 4 <= len && (ascii_word[u[i]] &
				    ascii_word[u[i + 1]] & ascii_word[u[i + 2]] &
				    ascii_word[u[i + 3]]); i += 4)
					;
				while (i < len && ascii_word[u[i]])
					i++;
				continue;
			}
			n = 1;
			wc = ascii_word[u[i]];
		} else if ((n = utf8_next(u + i, len - i, &c, &why)) == 0)
			return -1;
		else
			wc = word_char(c);
		if (wc && !in) {
			in = 1;
			start = i;
			hi = len;
		} else if (!wc && in) {
			in = 0;
			if (word_emit(s, start, i, hi, cap, fn, arg, &stop) != 0)
				return -1;
		}
		if (in && u[i] >= 0x80 && hi == len)
			hi = i;
		i += n;
	}
	if (in && !stop && word_emit(s, start, len, hi, cap, fn, arg,
	    &stop) != 0)
		return -1;
	return 0;
}

int
proto_text_words(const char *s, size_t len,
    int (*fn)(const char *, size_t, size_t, size_t, void *), void *arg)
{
	return text_words(s, len, 0, fn, arg);
}

int
proto_text_words_cap(const char *s, size_t len, size_t cap,
    int (*fn)(const char *, size_t, size_t, size_t, void *), void *arg)
{
	return text_words(s, len, cap, fn, arg);
}

size_t
proto_text_prefix(const char *s, size_t len, size_t n)
{
	size_t i = 0;

	for (; i < len && n > 0; n--)
		for (i++; i < len && ((unsigned char)s[i] & 0xc0) == 0x80; i++)
			;
	return i;
}
