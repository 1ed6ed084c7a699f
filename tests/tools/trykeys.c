/*
 * trykeys [--expect-open] KEYDIR STOREDIR RECORD: tries every key the
 * device whose data directory is KEYDIR holds, and every key derivable
 * from them, on the ciphertext of every entry that touched RECORD (a hex
 * id prefix) in the store at STOREDIR. Exit 0 if none of them opens any
 * entry (with --expect-open: if one does), 1 otherwise, 2 on error.
 *
 * What "every key" is: each 32-byte secret in KEYDIR (team.key,
 * network.key, store.key, each key of epochs.key, the identity's seed
 * and its X25519 form), each taken as it is, as a team secret (content
 * and network key derived from it), and as a network key (the epoch
 * record key and the bundle key derived from it). The regression test of
 * a removal runs it with the removed device's directory on a note
 * written after the removal.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "store.h"

#define MAX_KEYS	4096

static uint8_t	keys[MAX_KEYS][PROTO_KEYLEN];
static size_t	nkeys;

static void
add(const uint8_t *k)
{
	if (nkeys < MAX_KEYS)
		memcpy(keys[nkeys++], k, PROTO_KEYLEN);
}

/* k as itself, as a team secret, and as a network key. */
static void
add_derived(const uint8_t *k)
{
	static const uint8_t label[] = "satchel bundle mac v1";
	uint8_t sub[PROTO_KEYLEN], net[PROTO_KEYLEN];

	add(k);
	crypto_kdf_derive_from_key(sub, sizeof(sub), 1, "satchel1", k);
	add(sub);
	crypto_kdf_derive_from_key(net, sizeof(net), 2, "satchel1", k);
	add(net);
	for (int i = 0; i < 2; i++) {
		const uint8_t *n = i == 0 ? k : net;

		crypto_kdf_derive_from_key(sub, sizeof(sub), 1, "satchelE", n);
		add(sub);
		crypto_generichash(sub, sizeof(sub), label, sizeof(label) - 1,
		    n, PROTO_KEYLEN);
		add(sub);
	}
}

/* The whole file, or NULL; *len is its size. */
static uint8_t *
slurp(const char *dir, const char *name, size_t *len)
{
	char path[4200];
	struct stat sb;
	uint8_t *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	if (fstat(fd, &sb) != 0 || (buf = malloc((size_t)sb.st_size + 1)) ==
	    NULL) {
		close(fd);
		return NULL;
	}
	*len = (size_t)read(fd, buf, (size_t)sb.st_size);
	close(fd);
	return buf;
}

static void
collect(const char *dir)
{
	static const char *const plain[] = { "team.key", "network.key",
	    "store.key" };
	uint8_t *buf, x[PROTO_KEYLEN];
	size_t len;

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if ((buf = slurp(dir, plain[i], &len)) != NULL) {
			if (len == PROTO_KEYLEN)
				add_derived(buf);
			free(buf);
		}
	if ((buf = slurp(dir, "epochs.key", &len)) != NULL) {
		for (size_t off = 0; off + 45 <= len; off += 45)
			add_derived(buf + off + 13);
		free(buf);
	}
	if ((buf = slurp(dir, "identity.key", &len)) != NULL) {
		if (len == PROTO_SKLEN) {
			add_derived(buf);
			add_derived(buf + 32);
			if (crypto_sign_ed25519_sk_to_curve25519(x, buf) == 0)
				add_derived(x);
		}
		free(buf);
	}
}

struct tally {
	size_t	entries, opened;
};

static int
try_cb(const uint8_t *env, size_t len, void *arg)
{
	struct tally *t = arg;
	struct envelope e;
	uint8_t *pt;

	if (proto_envelope_decode(&e, env, len) != 0 ||
	    (pt = malloc(e.ciphertext_len)) == NULL)
		return 1;
	t->entries++;
	for (size_t i = 0; i < nkeys; i++)
		if (proto_envelope_open(&e, keys[i], pt) == 0) {
			t->opened++;
			break;
		}
	free(pt);
	return 0;
}

/* The records are sealed under the store's own key (recstore.c): the
 * tool reads them the way the device does, with DIR/store.key. */
static int
use_store_key(struct store *st, const char *dir)
{
	uint8_t key[STORE_KEYLEN];
	char path[4200];
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/store.key", dir);
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if (fread(key, 1, sizeof(key), f) == sizeof(key))
		rc = store_set_key(st, key);
	fclose(f);
	sodium_memzero(key, sizeof(key));
	return rc;
}

int
main(int argc, char **argv)
{
	struct tally tally = { 0, 0 };
	uint8_t kind, id[PROTO_RECIDLEN];
	struct store *st;
	struct store_txn *t;
	int expect_open = 0, rc;

	if (argc > 1 && strcmp(argv[1], "--expect-open") == 0) {
		expect_open = 1;
		argc--, argv++;
	}
	if (argc != 4 || sodium_init() < 0) {
		fprintf(stderr, "usage: trykeys [--expect-open] KEYDIR "
		    "STOREDIR RECORD\n");
		return 2;
	}
	collect(argv[1]);
	if ((rc = store_open(&st, argv[2], 0)) != 0 ||
	    (rc = use_store_key(st, argv[2])) != 0 ||
	    (rc = store_begin(st, STORE_RDONLY, &t)) != 0) {
		fprintf(stderr, "trykeys: %s\n", store_strerror(rc));
		return 2;
	}
	if ((rc = store_record_find(t, argv[3], &kind, id)) == 0)
		rc = store_history_each(t, id, try_cb, &tally);
	store_abort(t);
	store_close(st);
	if (rc != 0 || tally.entries == 0) {
		fprintf(stderr, "trykeys: %s: %s\n", argv[3], rc != 0 ?
		    store_strerror(rc) : "no entries");
		return 2;
	}
	printf("%zu keys from %s tried on %zu entries of %s: %zu opened\n",
	    nkeys, argv[1], tally.entries, argv[3], tally.opened);
	sodium_memzero(keys, sizeof(keys));
	return (tally.opened > 0) == expect_open ? 0 : 1;
}
