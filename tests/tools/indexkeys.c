/*
 * indexkeys DIR [TYPE]: prints, one per line in hex, every index key of
 * the store in DIR (or only those of index TYPE, one character: W, V, S,
 * ...). Tests read the word index with it to show that it holds no word
 * in the clear. Opens the store without its key: it only reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"

static int
print_cb(const uint8_t *key, size_t len, void *arg)
{
	char hex[2 * 512 + 1];

	(void)arg;
	if (len > 512)
		len = 512;
	sodium_bin2hex(hex, sizeof(hex), key, len);
	printf("%s\n", hex);
	return 0;
}

int
main(int argc, char **argv)
{
	struct store *st;
	struct store_txn *t;
	uint8_t type;
	int rc;

	if (argc < 2 || argc > 3 || (argc == 3 && strlen(argv[2]) != 1) ||
	    sodium_init() < 0) {
		fprintf(stderr, "usage: indexkeys DIR [TYPE]\n");
		return 2;
	}
	type = argc == 3 ? (uint8_t)argv[2][0] : 0;
	if ((rc = store_open(&st, argv[1], 0)) != 0 ||
	    (rc = store_begin(st, STORE_RDONLY, &t)) != 0) {
		fprintf(stderr, "indexkeys: %s\n", store_strerror(rc));
		return 1;
	}
	rc = store_index_each(t, &type, argc == 3 ? 1 : 0, 0, print_cb, NULL);
	store_abort(t);
	store_close(st);
	if (rc != 0) {
		fprintf(stderr, "indexkeys: %s\n", store_strerror(rc));
		return 1;
	}
	return 0;
}
