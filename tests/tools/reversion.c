/*
 * reversion DIR [VERSION]: rewrites this device's last entry in its own log as
 * an envelope of another version (default 2), as a newer Satchel might
 * write it, leaving everything else as it was. Tests use it to send a
 * peer an entry it cannot check, over sync and in a bundle. It writes the
 * log directly, below the store's API: test use only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"
#include "store_int.h"

static int
reversion(struct store *st, unsigned version)
{
	uint8_t hash[PROTO_HASHLEN], *copy;
	struct store_txn *t;
	const uint8_t *env;
	const void *id;
	size_t len;
	uint64_t seq;
	int rc;

	if ((rc = store_begin(st, 0, &t)) != 0)
		return rc;
	if ((rc = store_meta_get(t, "device_id", &id, &len)) != 0 ||
	    (rc = store_head_get(t, id, &seq, hash)) != 0)
		goto out;
	if ((rc = store_log_get(t, id, seq, &env, &len)) != 0)
		goto out;
	/* [version, ...]: a fixarray of ten, then a positive fixint. */
	rc = STORE_EBADENTRY;
	if (len < 2 || env[0] != 0x9a || version > 0x7f ||
	    (copy = malloc(len)) == NULL)
		goto out;
	memcpy(copy, env, len);
	copy[1] = (uint8_t)version;
	rc = log_rewrite(t, id, seq, copy, len);
	free(copy);
	if (rc == 0) {
		printf("%llu\n", (unsigned long long)seq);
		return store_commit(t);
	}
out:
	store_abort(t);
	return rc;
}

int
main(int argc, char **argv)
{
	struct store *st;
	int rc;

	if (argc < 2 || argc > 3 || sodium_init() < 0) {
		fprintf(stderr, "usage: reversion DIR [VERSION]\n");
		return 2;
	}
	if ((rc = store_open(&st, argv[1], 0)) == 0) {
		rc = reversion(st, argc > 2 ? (unsigned)atoi(argv[2]) : 2);
		store_close(st);
	}
	if (rc != 0) {
		fprintf(stderr, "reversion: %s\n", store_strerror(rc));
		return 1;
	}
	return 0;
}
