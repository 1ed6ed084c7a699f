/*
 * What the store's log tests share (fork_test, logseg_test): throw-away
 * stores under /tmp, authors with their signing keys, one content key,
 * and an author's next entry written the way a command writes it.
 * Static functions in a header, as tap.h: each test is one program.
 */
#ifndef SATCHEL_LOG_FIXTURE_H
#define SATCHEL_LOG_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "proto.h"
#include "store.h"

#define FIXTURE_DIRS	16

/* An envelope copied out of a store: p is malloc'ed. */
struct env {
	uint8_t	*p;
	size_t	 len;
};

struct author {
	uint8_t	 pk[PROTO_IDLEN];
	uint8_t	 sk[PROTO_SKLEN];
};

static struct store_keyring kr;		/* fixture_keys fills it */
static char dirs[FIXTURE_DIRS][64];	/* each store's, in order made */
static int ndirs;

/* One random content key in kr. */
static void
fixture_keys(void)
{
	kr.nkeys = 1;
	randombytes_buf(kr.keys[0].key, PROTO_KEYLEN);
	proto_key_id(kr.keys[0].key, kr.keys[0].id);
	kr.keys[0].use = KEY_CONTENT;
}

/* A new store in a new directory (dirs[ndirs - 1]); NULL if it cannot. */
static struct store *
new_store(void)
{
	struct store *st = NULL;
	char *d;

	if (ndirs == FIXTURE_DIRS)
		return NULL;
	d = dirs[ndirs++];
	snprintf(d, 64, "/tmp/satchel-unit-test.XXXXXX");	/* mkdtemp's */
	if (mkdtemp(d) == NULL || store_open(&st, d, STORE_CREATE) != 0)
		return NULL;
	return st;
}

/* Removes every directory new_store made (stores closed first). */
static void
rm_stores(void)
{
	char path[128];

	for (int i = 0; i < ndirs; i++) {
		snprintf(path, sizeof(path), "%s/data.mdb", dirs[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock.mdb", dirs[i]);
		unlink(path);
		rmdir(dirs[i]);
	}
}

/* Writes one student named name (borrowed) as a's next entry in st, in
 * a transaction of its own, and copies the envelope out. */
static int
write_student(struct store *st, const struct author *a, const char *name,
    struct env *out)
{
	struct store_author sa = { a->pk, a->sk, &kr.keys[0], SCOPE_TEAM };
	struct store_txn *t;
	struct write_ref ref;
	struct change c;
	const uint8_t *env;
	int rc;

	memset(&c, 0, sizeof(c));
	randombytes_buf(c.record_id, sizeof(c.record_id));
	c.kind = KIND_STUDENT;
	c.nops = 1;
	c.ops[0].type = OP_SET;
	c.ops[0].field = "name";
	c.ops[0].field_len = 4;
	c.ops[0].value = (const uint8_t *)name;
	c.ops[0].value_len = strlen(name);
	if ((rc = store_begin(st, 0, &t)) != 0)
		return rc;
	if ((rc = store_append_local(t, &sa, &c, 1760000000000, &ref)) != 0 ||
	    (rc = store_log_get(t, ref.author, ref.seq, &env,
	    &out->len)) != 0) {
		store_abort(t);
		return rc;
	}
	if ((out->p = malloc(out->len)) == NULL) {
		store_abort(t);
		return STORE_ENOMEM;
	}
	memcpy(out->p, env, out->len);
	return store_commit(t);
}

#endif
