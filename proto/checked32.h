/*
 * Checked base32: bytes as people read them out and type them in, the
 * form of Syncthing's device IDs (lib/protocol/deviceid.go, luhn.go:
 * "luhnify", "chunkify"), which device ids (devid.c) and recovery phrases
 * (phrase.c) are written in. Private to proto/; pure, no allocation.
 *
 * The bytes are written in base32 (RFC 4648 alphabet, no padding; the
 * last character's low bits are zero), the characters cut into `groups`
 * equal groups, each followed by its Luhn mod 32 check character
 * (Syncthing's variant: weights 1, 2, 1, ... from the group's first
 * character), and the result shown in dash-separated groups of 7. Any
 * one mistyped character fails its group's check. On reading, case does
 * not matter, and 0, 1, 8 are read as O, I, B (digits the alphabet lacks).
 */
#ifndef SATCHEL_CHECKED32_H
#define SATCHEL_CHECKED32_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes one form holds (a device's 32-byte key). */
#define CHECKED32_MAX_BYTES	32
/* Base32 characters that hold n bytes: 8n bits, 5 to a character. */
#define CHECKED32_DATA(n)	(((n) * 8 + 4) / 5)
/* Those and a check character per group. */
#define CHECKED32_CHARS(n, groups)	(CHECKED32_DATA(n) + (groups))
/* The written form's length, dashes included, NUL not. */
#define CHECKED32_LEN(n, groups) \
	(CHECKED32_CHARS(n, groups) + (CHECKED32_CHARS(n, groups) - 1) / 7)

#define CHECKED32_EFORM		(-1)	/* not the form of any n bytes */
#define CHECKED32_ECHECK	(-2)	/* a check character does not match */

/*
 * Writes the checked form of bytes (n of them) and a NUL into out, which
 * holds CHECKED32_LEN(n, groups) + 1 chars. The caller keeps n at most
 * CHECKED32_MAX_BYTES and makes groups divide CHECKED32_DATA(n) (checked
 * at compile time where the sizes are fixed).
 */
void	checked32_encode(const uint8_t *bytes, size_t n, size_t groups,
	    char *out);
/*
 * Reads the checked form of n bytes from s (len bytes, untrusted, not
 * NUL-terminated), passing over dashes and the characters of skip (a
 * string, may be ""). Returns 0 and fills bytes (n of them);
 * CHECKED32_EFORM if s holds another character, another count of them,
 * or nonzero bits after the last byte (one value, one spelling);
 * CHECKED32_ECHECK with *group (1 to groups, may be NULL) the first group
 * whose check fails. bytes is written only on success. Same rules for n
 * and groups as checked32_encode.
 */
int	checked32_decode(const char *s, size_t len, const char *skip,
	    uint8_t *bytes, size_t n, size_t groups, int *group);

#endif
