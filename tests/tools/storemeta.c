/*
 * storemeta DIR KEY [VALUE]: prints a store's meta value as hex, or sets
 * it from hex. Tests use it to make a store look as another version of
 * Satchel would have left it (a newer format, a damaged marker). It opens
 * the store as any program does, so it migrates an older one first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"

static int
set(struct store *st, const char *key, const char *hex)
{
	struct store_txn *t;
	uint8_t val[256];
	size_t len;
	int rc;

	if (sodium_hex2bin(val, sizeof(val), hex, strlen(hex), NULL, &len,
	    NULL) != 0)
		return STORE_ENOMEM;
	if ((rc = store_begin(st, 0, &t)) != 0)
		return rc;
	if ((rc = store_meta_put(t, key, val, len)) != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

static int
get(struct store *st, const char *key)
{
	struct store_txn *t;
	const void *v;
	size_t len;
	int rc;

	if ((rc = store_begin(st, STORE_RDONLY, &t)) != 0)
		return rc;
	if ((rc = store_meta_get(t, key, &v, &len)) == 0) {
		for (size_t i = 0; i < len; i++)
			printf("%02x", ((const uint8_t *)v)[i]);
		printf("\n");
	}
	store_abort(t);
	return rc;
}

int
main(int argc, char **argv)
{
	struct store *st;
	int rc;

	if (argc < 3 || argc > 4 || sodium_init() < 0) {
		fprintf(stderr, "usage: storemeta DIR KEY [HEX]\n");
		return 2;
	}
	if ((rc = store_open(&st, argv[1], 0)) == 0) {
		rc = argc == 4 ? set(st, argv[2], argv[3]) : get(st, argv[2]);
		store_close(st);
	}
	if (rc != 0) {
		fprintf(stderr, "storemeta: %s\n", store_strerror(rc));
		return 1;
	}
	return 0;
}
