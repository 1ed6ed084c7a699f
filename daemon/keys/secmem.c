/*
 * Locked memory for secrets, from one arena (see secmem.h). The arena is
 * SECMEM_CHUNKS chunks of SECMEM_CHUNK bytes; a block is a run of free
 * chunks found first-fit, its length kept at its first chunk. A process
 * holds a few dozen small secrets at most, so a linear scan is cheap.
 */
#include <pthread.h>
#include <stdint.h>

#include <sodium.h>

#include "secmem.h"

#if defined(__SANITIZE_ADDRESS__)
#define SECMEM_ASAN
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECMEM_ASAN
#endif
#endif

#ifdef SECMEM_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define SECMEM_CHUNK	64		/* bytes; keeps blocks 64-byte aligned */
#define SECMEM_CHUNKS	1024		/* 64 KiB: a device's keys, epochs,
					   keyring and buffers several times */

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t		*arena;		/* NULL until first use */
static int		 arena_failed;	/* then every block is its own */
static uint16_t		 run[SECMEM_CHUNKS];	/* chunks of the block
						   starting here; 0: free */
static uint8_t		 busy[SECMEM_CHUNKS];

static int
arena_ready(void)
{
	if (arena == NULL && !arena_failed) {
		arena = sodium_malloc((size_t)SECMEM_CHUNKS * SECMEM_CHUNK);
		if (arena == NULL)
			arena_failed = 1;
		else
			POISON(arena, (size_t)SECMEM_CHUNKS * SECMEM_CHUNK);
	}
	return arena != NULL;
}

/* The first run of k free chunks, or -1. */
static int
find_run(size_t k)
{
	size_t free_len = 0;

	for (size_t i = 0; i < SECMEM_CHUNKS; i++) {
		free_len = busy[i] ? 0 : free_len + 1;
		if (free_len == k)
			return (int)(i + 1 - k);
	}
	return -1;
}

void *
secmem_alloc(size_t len)
{
	size_t k = (len + SECMEM_CHUNK - 1) / SECMEM_CHUNK;
	uint8_t *p = NULL;
	int at = -1;

	if (k == 0)
		k = 1;
	pthread_mutex_lock(&lock);
	if (k <= SECMEM_CHUNKS / 4 && arena_ready() && (at = find_run(k)) >=
	    0) {
		for (size_t i = 0; i < k; i++)
			busy[at + i] = 1;
		run[at] = (uint16_t)k;
		p = arena + (size_t)at * SECMEM_CHUNK;
	}
	pthread_mutex_unlock(&lock);
	if (p == NULL)
		return sodium_malloc(len);
	UNPOISON(p, len);
	return p;
}

void
secmem_free(void *ptr)
{
	uint8_t *p = ptr;
	size_t at, k;

	if (p == NULL)
		return;
	pthread_mutex_lock(&lock);
	if (arena == NULL || p < arena ||
	    p >= arena + (size_t)SECMEM_CHUNKS * SECMEM_CHUNK) {
		pthread_mutex_unlock(&lock);
		sodium_free(p);
		return;
	}
	at = (size_t)(p - arena) / SECMEM_CHUNK;
	k = run[at];
	UNPOISON(p, k * SECMEM_CHUNK);
	sodium_memzero(p, k * SECMEM_CHUNK);
	POISON(p, k * SECMEM_CHUNK);
	for (size_t i = 0; i < k; i++)
		busy[at + i] = 0;
	run[at] = 0;
	pthread_mutex_unlock(&lock);
}
