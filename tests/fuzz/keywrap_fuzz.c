/*
 * libFuzzer target: the key-at-rest decoders (proto/keywrap.h) read a
 * data directory's unlock.key and its sealed key files, which a copied
 * or damaged folder may hold anything in. They must refuse, never
 * crash; a lock that decodes must encode back to the same bytes, and a
 * key file must open under its KEK only if it names that KEK.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/keywrap_fuzz.c \
 *	    proto/keywrap.c $(pkg-config --cflags --libs libsodium) \
 *	    -o seeds && ./seeds tests/fuzz/corpus/keywrap
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keywrap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The KEK the seeds are sealed under: fixed, so the fuzzer can keep a
 * sealed file's tag intact while it changes the rest. */
static const uint8_t test_kek[KEYWRAP_KEKLEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void
check_lock(const uint8_t *data, size_t size)
{
	struct keylock l;
	uint8_t again[KEYLOCK_LEN];
	int rc = keylock_decode(data, size, &l);

	if (rc != 0) {
		if (rc != KEYWRAP_ECLEAR && rc != KEYWRAP_ENEWER &&
		    rc != KEYWRAP_EFORM)
			abort();
		return;
	}
	keylock_encode(&l, again);
	if (size != KEYLOCK_LEN || memcmp(again, data, size) != 0)
		abort();
}

static void
check_key(const uint8_t *data, size_t size)
{
	uint8_t out[256], id[KEYWRAP_IDLEN], mine[KEYWRAP_IDLEN];
	size_t len = 0;
	int shape = keywrap_open(NULL, data, size, NULL, 0, NULL, id);
	int rc = keywrap_open(test_kek, data, size, out, sizeof(out), &len,
	    NULL);

	if (rc == 0) {
		keywrap_kek_id(test_kek, mine);
		if (shape != 0 || memcmp(id, mine, sizeof(id)) != 0 ||
		    len != size - KEYWRAP_OVERHEAD)
			abort();
	} else if (rc < KEYWRAP_EAUTH || rc > KEYWRAP_ECLEAR)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sodium_init() < 0)
		abort();
	check_lock(data, size);
	check_key(data, size);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	uint8_t key[64], sealed[64 + KEYWRAP_OVERHEAD], lock[KEYLOCK_LEN];
	struct keylock l;
	int rc = 0;

	if (argc != 2 || sodium_init() < 0)
		return 1;
	memset(key, 0x5a, sizeof(key));
	keywrap_seal(test_kek, key, 32, sealed);
	rc |= seed_write(argv[1], "sealed-32", sealed, 32 + KEYWRAP_OVERHEAD);
	keywrap_seal(test_kek, key, 64, sealed);
	rc |= seed_write(argv[1], "sealed-64", sealed, sizeof(sealed));
	rc |= seed_write(argv[1], "short", sealed, KEYWRAP_HEADLEN + 3);
	sealed[6] = KEYWRAP_VERSION + 1;
	rc |= seed_write(argv[1], "newer", sealed, sizeof(sealed));
	rc |= seed_write(argv[1], "clear", key, 32);
	if (keylock_make(&l, test_kek, "a seed passphrase", 17,
	    crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) != 0)
		return 1;
	keylock_encode(&l, lock);
	rc |= seed_write(argv[1], "lock", lock, sizeof(lock));
	lock[KEYWRAP_HEADLEN + 15] = 0xff;	/* memlimit too high */
	rc |= seed_write(argv[1], "lock-huge", lock, sizeof(lock));
	return rc != 0;
}
#endif
