/*
 * text: the one rule for text (proto_text_check) and the forms text is
 * compared in (proto_text_nfc, proto_text_fold, proto_text_same). Each
 * refused class of bytes or code points, each allowed one that a school's
 * writing needs (accents, Persian with ZWNJ, Devanagari with ZWJ, Greek,
 * Cyrillic), and the documented choices: accents fold only on Latin, Greek
 * and Cyrillic letters; Turkish dotted and dotless i fold by the default,
 * not the Turkish, rules.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"
#include "tap.h"

#define LEN(a)	(sizeof(a) / sizeof((a)[0]))

static int
check(const char *s, int cls)
{
	return proto_text_check(s, strlen(s), cls);
}

/* Both classes give why (0: both accept). */
static int
both(const char *s, int why)
{
	return check(s, PROTO_TEXT_LINE) == why &&
	    check(s, PROTO_TEXT_LONG) == why;
}

static int
nfc_is(const char *s, const char *want)
{
	size_t len;
	char *got = proto_text_nfc(s, strlen(s), &len);
	int ok = got != NULL && len == strlen(want) && strcmp(got, want) == 0;

	if (!ok)
		printf("#   nfc of '%s' is '%s'\n", s, got ? got : "(null)");
	free(got);
	return ok;
}

static int
fold_is(const char *s, unsigned flags, const char *want)
{
	size_t len;
	char *got = proto_text_fold(s, strlen(s), flags, &len);
	int ok = got != NULL && len == strlen(want) && strcmp(got, want) == 0;

	if (!ok)
		printf("#   fold of '%s' is '%s'\n", s, got ? got : "(null)");
	free(got);
	return ok;
}

static void
test_accepts_text_schools_write(void)
{
	static const char *const ok[] = {
		"Ana Lopez", "Jos\xc3\xa9", "Jose\xcc\x81",	/* NFC, NFD */
		"\xc3\x89lodie M\xc3\xbcller-\xc3\x98stergaard",
		/* Persian "Mehrdad" with a ZWNJ (U+200C) */
		"\xd9\x85\xd9\x87\xd8\xb1\xe2\x80\x8c\xd8\xaf\xd8\xa7\xd8\xaf",
		/* Devanagari "kṣa" with a ZWJ (U+200D) */
		"\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7",
		"\xce\x9f\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xad\xce\xb1\xcf\x82",
		"\xd0\x94\xd0\xb8\xd0\xba\xd1\x82\xd0\xb0\xd0\xbd\xd1\x82",
		"\xe5\xad\xa6\xe6\xa0\xa1", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
		"no\xc2\xa0" "break", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "",
	};

	for (size_t i = 0; i < LEN(ok); i++)
		CHECK(both(ok[i], 0));
}

static void
test_refuses_bad_utf8(void)
{
	CHECK(both("\xff", PROTO_TEXT_EUTF8));
	CHECK(both("a\x80", PROTO_TEXT_EUTF8));		/* stray continuation */
	CHECK(both("caf\xc3", PROTO_TEXT_EUTF8));	/* cut short */
	CHECK(both("\xe2\x82", PROTO_TEXT_EUTF8));
	CHECK(both("\xe2(\xa1", PROTO_TEXT_EUTF8));
	CHECK(both("\xf4\x90\x80\x80", PROTO_TEXT_EUTF8));	/* > U+10FFFF */
	CHECK(both("\xf5\x80\x80\x80", PROTO_TEXT_EUTF8));
	CHECK(both("\xf8\x88\x80\x80\x80", PROTO_TEXT_EUTF8));
}

static void
test_refuses_overlong_forms(void)
{
	CHECK(both("\xc0\xaf", PROTO_TEXT_EOVERLONG));		/* '/' */
	CHECK(both("\xc1\xbf", PROTO_TEXT_EOVERLONG));
	CHECK(both("\xe0\x80\xaf", PROTO_TEXT_EOVERLONG));
	CHECK(both("\xe0\x9f\xbf", PROTO_TEXT_EOVERLONG));
	CHECK(both("\xf0\x80\x80\xaf", PROTO_TEXT_EOVERLONG));
	CHECK(both("\xf0\x8f\xbf\xbf", PROTO_TEXT_EOVERLONG));
	CHECK(both("\xe0\xa0\x80", 0));		/* U+0800, the first */
}

static void
test_refuses_surrogates(void)
{
	CHECK(both("\xed\xa0\x80", PROTO_TEXT_ESURROGATE));
	CHECK(both("\xed\xbf\xbf", PROTO_TEXT_ESURROGATE));
	CHECK(both("\xed\xa0\xbd\xed\xb1\x8d", PROTO_TEXT_ESURROGATE));
	CHECK(both("\xed\x9f\xbf", 0));		/* U+D7FF */
}

static void
test_refuses_controls(void)
{
	static const char nul[] = "a\0b";

	CHECK(proto_text_check(nul, 3, PROTO_TEXT_LONG) ==
	    PROTO_TEXT_ECONTROL);
	CHECK(both("\x01", PROTO_TEXT_ECONTROL));
	CHECK(both("a\rb", PROTO_TEXT_ECONTROL));
	CHECK(both("\x1b[31m", PROTO_TEXT_ECONTROL));
	CHECK(both("\x7f", PROTO_TEXT_ECONTROL));		/* DEL */
	CHECK(both("\xc2\x80", PROTO_TEXT_ECONTROL));		/* C1 */
	CHECK(both("\xc2\x85", PROTO_TEXT_ECONTROL));		/* NEL */
	CHECK(both("\xc2\x9b", PROTO_TEXT_ECONTROL));		/* CSI */
	CHECK(both("\xc2\x9f", PROTO_TEXT_ECONTROL));
	CHECK(both("\xc2\xa0", 0));
}

static void
test_line_breaks_only_in_long_text(void)
{
	static const char *const breaks[] = { "a\nb", "a\tb", "\n",
	    "a\xe2\x80\xa8" "b", "a\xe2\x80\xa9" "b" };

	for (size_t i = 0; i < LEN(breaks); i++) {
		CHECK(check(breaks[i], PROTO_TEXT_LINE) == PROTO_TEXT_ELINE);
		CHECK(check(breaks[i], PROTO_TEXT_LONG) == 0);
	}
	CHECK(proto_text_ok("line one\n\tline two", 18));
}

static void
test_refuses_bidi_controls(void)
{
	char s[8];

	for (int c = 0x202a; c <= 0x2069; c++) {
		int bidi = c <= 0x202e || c >= 0x2066;

		if (c > 0x202e && c < 0x2066)
			continue;
		snprintf(s, sizeof(s), "a%c%c%cb", 0xe2, 0x80 | (c >> 6 & 0x3f),
		    0x80 | (c & 0x3f));
		CHECK(bidi && both(s, PROTO_TEXT_EBIDI));
		CHECK(!proto_text_ok(s, strlen(s)));
	}
}

/* LRM, RLM and ALM reorder nothing: running text keeps them, a name (where
 * they would only make equal-looking names differ) does not. */
static void
test_direction_marks(void)
{
	static const char *const marks[] = { "a\xe2\x80\x8e", "a\xe2\x80\x8f",
	    "\xd8\xa7\xd8\x8c\xd8\x9c" };

	for (size_t i = 0; i < LEN(marks); i++) {
		CHECK(check(marks[i], PROTO_TEXT_LINE) == PROTO_TEXT_EMARK);
		CHECK(check(marks[i], PROTO_TEXT_LONG) == 0);
	}
	CHECK(both("\xe2\x80\x8c\xe2\x80\x8d", 0));	/* ZWNJ, ZWJ */
}

static void
test_reasons_are_distinct_phrases(void)
{
	for (int i = 1; i <= PROTO_TEXT_EMARK; i++) {
		CHECK(proto_text_reason(i) != NULL);
		CHECK(strcmp(proto_text_reason(i), "invalid text") != 0);
		for (int j = 1; j < i; j++)
			CHECK(strcmp(proto_text_reason(i),
			    proto_text_reason(j)) != 0);
	}
}

static void
test_nfc(void)
{
	CHECK(nfc_is("Jose\xcc\x81", "Jos\xc3\xa9"));
	CHECK(nfc_is("Jos\xc3\xa9", "Jos\xc3\xa9"));
	/* Canonical order of two marks: dot below before acute. */
	CHECK(nfc_is("e\xcc\x81\xcc\xa3", "\xe1\xba\xb9\xcc\x81"));
	/* Hangul jamo compose to a syllable. */
	CHECK(nfc_is("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab",
	    "\xed\x95\x9c"));
	/* Joiners survive normalisation. */
	CHECK(nfc_is("\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae",
	    "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae"));
	CHECK(nfc_is("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7",
	    "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7"));
	/* Compatibility forms are not folded: NFC, not NFKC. */
	CHECK(nfc_is("\xef\xac\x81", "\xef\xac\x81"));
	CHECK(nfc_is("", ""));
	CHECK(proto_text_nfc("\xff", 1, NULL) == NULL);
	CHECK(proto_text_nfc("\xed\xa0\x80", 3, NULL) == NULL);
}

static void
test_same(void)
{
	CHECK(proto_text_same("Jos\xc3\xa9", 5, "Jose\xcc\x81", 6));
	CHECK(!proto_text_same("Jos\xc3\xa9", 5, "Jose", 4));
	CHECK(!proto_text_same("jos\xc3\xa9", 5, "Jos\xc3\xa9", 5));
	CHECK(!proto_text_same("\xff", 1, "\xfe", 1));
}

static void
test_fold_case_in_every_script(void)
{
	CHECK(fold_is("DICT\xc3\x89" "E", 0, "dict\xc3\xa9" "e"));
	CHECK(fold_is("DICTE\xcc\x81" "E", 0, "dict\xc3\xa9" "e"));
	CHECK(fold_is("\xc3\x89lodie", 0, "\xc3\xa9lodie"));
	/* Greek: capital and final sigma both fold to σ. */
	CHECK(fold_is("\xce\x9f\xce\x94\xce\xa5\xce\xa3\xce\xa3\xce\x95\xce\xa5"
	    "\xce\xa3", 0,
	    "\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x85\xcf\x83"));
	CHECK(fold_is("\xcf\x82", 0, "\xcf\x83"));
	/* Cyrillic: ДИКТАНТ, Ёлка. */
	CHECK(fold_is("\xd0\x94\xd0\x98\xd0\x9a\xd0\xa2\xd0\x90\xd0\x9d\xd0\xa2",
	    0, "\xd0\xb4\xd0\xb8\xd0\xba\xd1\x82\xd0\xb0\xd0\xbd\xd1\x82"));
	CHECK(fold_is("\xd0\x81\xd0\xbb\xd0\xba\xd0\xb0", 0,
	    "\xd1\x91\xd0\xbb\xd0\xba\xd0\xb0"));
	/* Full folding: ß is ss, the ﬁ ligature is fi. */
	CHECK(fold_is("Stra\xc3\x9f" "e", 0, "strasse"));
	CHECK(fold_is("\xef\xac\x81" "n", 0, "fin"));
	/* Scripts without case are left alone, joiners included. */
	CHECK(fold_is("\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae", 0,
	    "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae"));
	CHECK(proto_text_fold("\xc0\xaf", 2, 0, NULL) == NULL);
}

/* Accents go on Latin, Greek and Cyrillic letters only. */
static void
test_fold_accents(void)
{
	unsigned a = PROTO_FOLD_ACCENTS;

	CHECK(fold_is("\xc3\x89lodie", a, "elodie"));
	CHECK(fold_is("Jose\xcc\x81", a, "jose"));
	CHECK(fold_is("\xc5\x81\xc3\xb3" "d\xc5\xba", a, "\xc5\x82od" "z"));
	CHECK(fold_is("\xce\x9f\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xad\xce\xb1"
	    "\xcf\x82", a,
	    "\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xce\xb1\xcf\x83"));
	CHECK(fold_is("\xd0\x81\xd0\xbb\xd0\xba\xd0\xb0", a,
	    "\xd0\xb5\xd0\xbb\xd0\xba\xd0\xb0"));
	/* A Devanagari vowel sign, a Japanese dakuten and Arabic vowels are
	 * letters of their words, not accents: kept. */
	CHECK(fold_is("\xe0\xa4\x95\xe0\xa5\x81", a, "\xe0\xa4\x95\xe0\xa5\x81"));
	CHECK(fold_is("\xe3\x81\x8c", a, "\xe3\x81\x8c"));
	CHECK(fold_is("\xd9\x85\xd9\x8e", a, "\xd9\x85\xd9\x8e"));
	CHECK(fold_is("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7", a,
	    "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7"));
}

/* Turkish: the default (not Turkish) folding. I folds to i, İ to i with a
 * combining dot (plain i once accents go), and dotless ı stays its own
 * letter, so "KAPI" does not find "kapı". Documented in the README. */
static void
test_fold_turkish_i(void)
{
	CHECK(fold_is("I", 0, "i"));
	CHECK(fold_is("\xc4\xb0", 0, "i\xcc\x87"));
	CHECK(fold_is("\xc4\xb0stanbul", PROTO_FOLD_ACCENTS, "istanbul"));
	CHECK(fold_is("\xc4\xb1", 0, "\xc4\xb1"));
	CHECK(fold_is("KAPI", PROTO_FOLD_ACCENTS, "kapi"));
	CHECK(fold_is("kap\xc4\xb1", PROTO_FOLD_ACCENTS, "kap\xc4\xb1"));
}

TAP_MAIN(
	TAP_TEST(test_accepts_text_schools_write),
	TAP_TEST(test_refuses_bad_utf8),
	TAP_TEST(test_refuses_overlong_forms),
	TAP_TEST(test_refuses_surrogates),
	TAP_TEST(test_refuses_controls),
	TAP_TEST(test_line_breaks_only_in_long_text),
	TAP_TEST(test_refuses_bidi_controls),
	TAP_TEST(test_direction_marks),
	TAP_TEST(test_reasons_are_distinct_phrases),
	TAP_TEST(test_nfc),
	TAP_TEST(test_same),
	TAP_TEST(test_fold_case_in_every_script),
	TAP_TEST(test_fold_accents),
	TAP_TEST(test_fold_turkish_i),
)
