/*
 * secmem: blocks of locked memory from one arena (daemon/keys/secmem.c).
 * Live blocks never overlap and keep what was written in them; a freed
 * block is wiped and its room is given again; a block too big for the
 * arena, or one asked for once the arena is full, comes from sodium_malloc
 * and is freed the same way; NULL and sodium_malloc's blocks are freed
 * too.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "secmem.h"
#include "tap.h"

#define NBLOCKS	40

static void
test_blocks_apart(void)
{
	static const size_t sizes[] = { 1, 32, 64, 65, 100, 2880, 4096, 24 };
	uint8_t *b[NBLOCKS];
	size_t len[NBLOCKS];

	for (int i = 0; i < NBLOCKS; i++) {
		len[i] = sizes[i % 8];
		b[i] = secmem_alloc(len[i]);
		CHECK(b[i] != NULL);
		if (b[i] != NULL)
			memset(b[i], i + 1, len[i]);
	}
	for (int i = 0; i < NBLOCKS; i++)
		for (size_t j = 0; b[i] != NULL && j < len[i]; j++)
			if (b[i][j] != (uint8_t)(i + 1)) {
				CHECK(b[i][j] == (uint8_t)(i + 1));
				break;
			}
	for (int i = NBLOCKS - 1; i >= 0; i--)
		secmem_free(b[i]);
}

static void
test_room_given_again(void)
{
	uint8_t *a = secmem_alloc(48), *b, *c;

	CHECK(a != NULL);
	secmem_free(a);
	b = secmem_alloc(48);
	CHECK(b == a);		/* first fit: the same room */
	c = secmem_alloc(48);
	CHECK(c != NULL && c != b);
	secmem_free(b);
	secmem_free(c);
}

static void
test_big_and_full(void)
{
	uint8_t *big = secmem_alloc(64 * 1024), *many[64];
	int n = 0;

	CHECK(big != NULL);
	if (big != NULL) {
		memset(big, 0xaa, 64 * 1024);
		secmem_free(big);
	}
	/* 64 blocks of 4 KiB overflow the 64 KiB arena: the last ones are
	 * sodium_malloc's, and every one works and frees alike. */
	for (; n < 64; n++) {
		if ((many[n] = secmem_alloc(4096)) == NULL)
			break;
		memset(many[n], n, 4096);
	}
	CHECK(n == 64);
	for (int i = 0; i < n; i++) {
		CHECK(many[i][0] == (uint8_t)i && many[i][4095] == (uint8_t)i);
		secmem_free(many[i]);
	}
}

static void
test_frees_anything(void)
{
	void *s = sodium_malloc(32);

	CHECK(s != NULL);
	secmem_free(s);
	secmem_free(NULL);
}

TAP_MAIN(TAP_TEST(test_blocks_apart), TAP_TEST(test_room_given_again),
    TAP_TEST(test_big_and_full), TAP_TEST(test_frees_anything))
