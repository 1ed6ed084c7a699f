/*
 * tamper DIR head | tamper DIR ct|sig SEQ: prints this device's last seq
 * in its own log (head), or damages its entry SEQ there as a faulty disk
 * or a hostile relay could, leaving everything else as it was: ct flips
 * a bit of its ciphertext's tag (no key opens it), sig one of its
 * signature; the same again mends it. Tests use it to send a peer a bad
 * entry at the end of a large batch. It writes the log directly, below
 * the store's API: test use only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"
#include "store_int.h"

/* The envelope ends [..., ciphertext, signature]: the signature is a
 * bin 8 of 64 bytes, the ciphertext's tag the 16 bytes right before. */
#define SIG_AT(len)	((len) - 1)
#define TAG_AT(len)	((len) - PROTO_SIGLEN - 2 - 1)

static int
tamper(struct store_txn *t, const char *mode, uint64_t at)
{
	uint8_t hash[PROTO_HASHLEN], *copy;
	const uint8_t *env;
	const void *id;
	size_t len;
	uint64_t seq;
	int rc;

	if ((rc = store_meta_get(t, "device_id", &id, &len)) != 0 ||
	    (rc = store_head_get(t, id, &seq, hash)) != 0)
		return rc;
	if (strcmp(mode, "head") == 0) {
		printf("%llu\n", (unsigned long long)seq);
		return STORE_OK;
	}
	if (at == 0 || at > seq)
		return STORE_ENOTFOUND;
	if ((rc = store_log_get(t, id, at, &env, &len)) != 0)
		return rc;
	if (len < PROTO_SIGLEN + PROTO_TAGLEN + 3 ||
	    (copy = malloc(len)) == NULL)
		return STORE_EBADENTRY;
	memcpy(copy, env, len);
	copy[strcmp(mode, "sig") == 0 ? SIG_AT(len) : TAG_AT(len)] ^= 0x01;
	rc = log_rewrite(t, id, at, copy, len);
	free(copy);
	return rc;
}

int
main(int argc, char **argv)
{
	struct store_txn *t;
	struct store *st;
	int rc;

	if (argc < 3 || argc != (strcmp(argv[2], "head") == 0 ? 3 : 4) ||
	    (argc == 4 && strcmp(argv[2], "ct") != 0 &&
	    strcmp(argv[2], "sig") != 0) || sodium_init() < 0) {
		fprintf(stderr, "usage: tamper DIR head | tamper DIR ct|sig "
		    "SEQ\n");
		return 2;
	}
	if ((rc = store_open(&st, argv[1], 0)) == 0) {
		if ((rc = store_begin(st, 0, &t)) == 0) {
			if ((rc = tamper(t, argv[2], argc == 4 ?
			    strtoull(argv[3], NULL, 10) : 0)) == 0)
				rc = store_commit(t);
			else
				store_abort(t);
		}
		store_close(st);
	}
	if (rc != 0) {
		fprintf(stderr, "tamper: %s\n", store_strerror(rc));
		return 1;
	}
	return 0;
}
