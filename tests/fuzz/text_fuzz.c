/*
 * libFuzzer target: proto_text_check judges every value a peer sends and
 * every argument a user types; proto_text_nfc and proto_text_fold map
 * them. The check must agree with libutf8proc on what is UTF-8, a
 * one-line text must also be a long text, and what is accepted must
 * normalise and fold to text that is accepted again, NFC being a fixed
 * point and canonically the same as what it came from, and both equal
 * to what utf8proc_map gives. proto_text_words splits any UTF-8 into
 * words that lie in order inside it, and refuses what is not UTF-8;
 * proto_text_words_cap gives the same words, each the first cap code
 * points of the whole word's fold.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/text_fuzz.c proto/text.c \
 *	    $(pkg-config --cflags --libs msgpack libutf8proc) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/text
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
is_utf8(const uint8_t *p, size_t len)
{
	while (len > 0) {
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate(p,
		    (utf8proc_ssize_t)len, &c);

		if (n < 1)
			return 0;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

static int
utf8_reason(int why)
{
	return why == PROTO_TEXT_EUTF8 || why == PROTO_TEXT_EOVERLONG ||
	    why == PROTO_TEXT_ESURROGATE;
}

/* proto_text_nfc and proto_text_fold without PROTO_FOLD_ACCENTS must
 * give what libutf8proc's own utf8proc_map gives, ASCII fast path and
 * all. */
static void
check_same_as_utf8proc(const char *s, size_t len, const char *mine,
    size_t mlen, utf8proc_option_t opts)
{
	utf8proc_uint8_t *ref = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s,
	    (utf8proc_ssize_t)len, &ref, opts | UTF8PROC_STABLE |
	    UTF8PROC_COMPOSE);

	if (n < 0 || (size_t)n != mlen || memcmp(ref, mine, mlen) != 0)
		abort();
	free(ref);
}

/* What text of class cls maps to is text of that class again. */
static void
check_maps(const char *s, size_t len, int cls)
{
	size_t n1, n2, nf;
	char *nfc = proto_text_nfc(s, len, &n1), *again, *folded;

	if (nfc == NULL)
		abort();
	if (proto_text_check(nfc, n1, cls) != 0 ||
	    !proto_text_same(s, len, nfc, n1))
		abort();
	if ((again = proto_text_nfc(nfc, n1, &n2)) == NULL || n2 != n1 ||
	    memcmp(again, nfc, n1) != 0)
		abort();
	check_same_as_utf8proc(s, len, nfc, n1, 0);
	for (unsigned flags = 0; flags <= PROTO_FOLD_ACCENTS; flags++) {
		if ((folded = proto_text_fold(s, len, flags, &nf)) == NULL ||
		    proto_text_check(folded, nf, PROTO_TEXT_LONG) != 0)
			abort();
		if (flags == 0)
			check_same_as_utf8proc(s, len, folded, nf,
			    UTF8PROC_CASEFOLD);
		free(folded);
	}
	free(again);
	free(nfc);
}

struct words_walk {
	size_t	len, end;
};

static int
words_cb(const char *w, size_t wlen, size_t off, size_t olen, void *arg)
{
	struct words_walk *ww = arg;

	if (off < ww->end || olen == 0 || off + olen > ww->len ||
	    strlen(w) != wlen ||
	    proto_text_prefix(w, wlen, 12) > wlen)
		abort();
	ww->end = off + olen + 1;	/* words never touch */
	return 0;
}

/* The words of one walk, in order, each NUL-terminated. */
struct words_all {
	size_t	n, used;
	char	buf[64 * 1024];
	size_t	cap;		/* for cut_cb: compare, cut to this */
	size_t	at, pos;
};

static int
all_cb(const char *w, size_t wlen, size_t off, size_t olen, void *arg)
{
	struct words_all *wa = arg;

	(void)off;
	(void)olen;
	if (wa->used + wlen + 1 > sizeof(wa->buf))
		return 1;
	memcpy(wa->buf + wa->used, w, wlen + 1);
	wa->used += wlen + 1;
	wa->n++;
	return 0;
}

/* Each capped word must be the whole word's first cap code points. */
static int
cut_cb(const char *w, size_t wlen, size_t off, size_t olen, void *arg)
{
	struct words_all *wa = arg;
	const char *full = wa->buf + wa->pos;
	size_t flen;

	(void)off;
	(void)olen;
	if (wa->at == wa->n)
		return 1;	/* the whole walk stopped here (full) */
	flen = strlen(full);
	if (wlen != proto_text_prefix(full, flen, wa->cap) ||
	    strlen(w) != wlen || memcmp(w, full, wlen) != 0)
		abort();
	wa->at++;
	wa->pos += flen + 1;
	return 0;
}

static void
check_words(const char *s, size_t len)
{
	static struct words_all wa;
	static const size_t caps[] = { 1, 2, 12 };
	struct words_walk ww = { len, 0 };
	int ok = is_utf8((const uint8_t *)s, len);

	if ((proto_text_words(s, len, words_cb, &ww) == 0) != ok)
		abort();
	wa.n = wa.used = 0;
	if (!ok || proto_text_words(s, len, all_cb, &wa) != 0)
		return;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		wa.cap = caps[i];
		wa.at = wa.pos = 0;
		if (proto_text_words_cap(s, len, wa.cap, cut_cb, &wa) != 0 ||
		    wa.at != wa.n)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int line, lng;

	if (size > 4096)
		return 0;
	line = proto_text_check(s, size, PROTO_TEXT_LINE);
	lng = proto_text_check(s, size, PROTO_TEXT_LONG);
	if (line == 0 && lng != 0)
		abort();
	/* The check stops at the first problem: a UTF-8 one means the bytes
	 * are not UTF-8, and accepted bytes are. */
	if (((utf8_reason(lng) || utf8_reason(line)) && is_utf8(data,
	    size)) || (lng == 0 && !is_utf8(data, size)))
		abort();
	if (proto_text_ok(s, size) != (lng == 0))
		abort();
	if (proto_text_reason(line) == NULL || proto_text_reason(lng) == NULL)
		abort();
	if (lng == 0)
		check_maps(s, size, line == 0 ? PROTO_TEXT_LINE :
		    PROTO_TEXT_LONG);
	check_words(s, size);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	static const struct seed_text seeds[] = {
		{ "ascii", "Ana Lopez" },
		{ "composed", "Jos\xc3\xa9" },
		{ "decomposed", "Jose\xcc\x81" },
		{ "persian-zwnj", "\xd9\x85\xd9\x87\xd8\xb1\xe2\x80\x8c\xd8\xaf" },
		{ "devanagari-zwj", "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4"
		    "\xb7" },
		{ "greek", "\xce\x9f\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xad\xce"
		    "\xb1\xcf\x82" },
		{ "turkish", "\xc4\xb0stanbul kap\xc4\xb1" },
		{ "long-text", "line one\n\tline two" },
		{ "rlm", "\xd8\xa7\xe2\x80\x8f (1)" },
		{ "bidi-override", "abc\xe2\x80\xae" "fdp.exe" },
		{ "isolate", "\xe2\x81\xa6x\xe2\x81\xa9" },
		{ "c1", "a\xc2\x85" "b" },
		{ "del", "a\x7f" },
		{ "overlong", "\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf" },
		{ "surrogate", "\xed\xa0\x80" },
		{ "cut", "caf\xc3" },
		{ "beyond", "\xf4\x90\x80\x80" },
		{ "hangul-jamo", "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab" },
		{ "sharp-s-ligature", "Stra\xc3\x9f" "e \xef\xac\x81" },
		{ "empty", "" },
	};
	int rc = 0;

	if (argc != 2)
		return 1;
	rc |= seed_write_texts(argv[1], seeds,
	    sizeof(seeds) / sizeof(seeds[0]));
	rc |= seed_write(argv[1], "nul", "a\0b", 3);
	return rc != 0;
}
#endif
