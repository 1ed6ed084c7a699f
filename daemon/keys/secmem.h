/*
 * Locked memory for secrets (daemon/keys/secmem.c): small blocks carved
 * from one sodium_malloc'd arena instead of a sodium_malloc each.
 *
 * Why: each sodium_malloc is an mmap, two mprotects and an mlock, and
 * each sodium_free an munlock, mprotect and munmap; on a virtual machine
 * one pair costs ~0.15 ms, and a one-shot command (`satchel sync`)
 * opening a device made ~24 of them: a quarter of its own CPU time. The
 * arena is mapped once, on first use, and keeps what sodium_malloc gives
 * every secret: locked in RAM (never swapped), left out of core dumps,
 * guard pages at its two ends, and every block wiped when it is freed.
 * What it gives up is a guard page between two blocks; under
 * AddressSanitizer the free chunks and each block's slack are poisoned,
 * so the test build still traps an overrun into them.
 */
#ifndef SATCHEL_SECMEM_H
#define SATCHEL_SECMEM_H

#include <stddef.h>

/* A block of len bytes of locked memory (its contents undefined), from
 * the arena, or a sodium_malloc of its own where it does not fit; NULL
 * if out of memory. Free it with secmem_free. Thread-safe. */
void	*secmem_alloc(size_t len);
/* Wipes and frees a block from secmem_alloc, or anything sodium_malloc
 * gave (handed to sodium_free); accepts NULL. Never hand a secmem_alloc
 * block to sodium_free. */
void	 secmem_free(void *p);

#endif
