/*
 * oldindex DIR NAME: makes DIR look like a store written before the text
 * rule. It writes a student named NAME exactly as given (as an older
 * version or peer could, with no NFC), then rewrites the whole name index
 * the old way (the name's bytes lower-cased by ASCII rules) and forgets
 * the version of the derived tables, so the next open must rebuild them. Prints the id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"
#include "store_int.h"

#define OLD_MAX	(1 + 200 + 1 + PROTO_RECIDLEN)

struct old_keys {
	size_t	n;
	uint8_t	keys[256][OLD_MAX];
	size_t	lens[256];
};

static int
collect_cb(const uint8_t *key, size_t len, void *arg)
{
	struct old_keys *k = arg;

	if (k->n == 256 || len > OLD_MAX)
		return 1;
	memcpy(k->keys[k->n], key, len);
	k->lens[k->n++] = len;
	return 0;
}

/* The index key version 1 wrote for the record the key names. */
static int
rewrite(struct store_txn *t, const uint8_t *key, size_t len)
{
	uint8_t old[OLD_MAX], *p = old;
	const uint8_t *id = key + len - PROTO_RECIDLEN;
	struct record *r;
	const char *name;
	int rc;

	if ((rc = store_record_get(t, KIND_STUDENT, id, &r)) != 0)
		return rc;
	name = record_get(r, "name");
	*p++ = INDEX_NAME;
	for (size_t i = 0; name != NULL && name[i] != '\0' && i < 200; i++)
		*p++ = (uint8_t)(name[i] >= 'A' && name[i] <= 'Z' ?
		    name[i] - 'A' + 'a' : name[i]);
	*p++ = 0;
	memcpy(p, id, PROTO_RECIDLEN);
	record_free(r);
	if ((rc = store_del(t, TABLE_INDEX, key, len)) != 0)
		return rc;
	return store_put(t, TABLE_INDEX, old, (size_t)(p + PROTO_RECIDLEN -
	    old), "", 0);
}

int
main(int argc, char **argv)
{
	static struct old_keys k;
	const uint8_t prefix = INDEX_NAME;
	uint8_t ver[8];
	char hex[2 * PROTO_RECIDLEN + 1];
	uint8_t id[PROTO_RECIDLEN];
	struct device d;
	struct store_txn *t;
	struct change c;
	int rc;

	if (argc != 3 || sodium_init() < 0 || device_open(&d, argv[1]) != 0)
		return 2;
	randombytes_buf(id, sizeof(id));
	change_init(&c, KIND_STUDENT, id);
	if ((rc = store_begin(d.st, 0, &t)) != 0 ||
	    change_set(&c, NULL, "name", argv[2]) != 0 ||
	    (rc = device_write(&d, t, &c)) != 0 ||
	    (rc = store_index_each(t, &prefix, 1, 0, collect_cb, &k)) != 0)
		goto out;
	for (size_t i = 0; i < k.n && rc == 0; i++)
		rc = rewrite(t, k.keys[i], k.lens[i]);
	/* Derived by an older version's rules: the next open rebuilds. */
	be64_put(ver, 0);
	if (rc == 0 && (rc = store_meta_put(t, "derived_version", ver,
	    sizeof(ver))) == 0) {
		rc = store_commit(t);
		t = NULL;
	}
out:
	store_abort(t);
	device_close(&d);
	if (rc != 0) {
		fprintf(stderr, "oldindex: %s\n", store_strerror(rc));
		return 1;
	}
	hex_id(hex, id);
	printf("%s\n", hex);
	return 0;
}
