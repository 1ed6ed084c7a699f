/*
 * Store format versions, and the migrations that bring a store written by
 * an older Satchel up to this one's layout.
 *
 *	meta "format"	       "satchel-store": this is a Satchel store
 *	meta "store_version"   the layout's version, 8 bytes big-endian
 *	meta "store_release"   the first Satchel release that reads it
 *	meta "derived_version" the version of the derived tables (records,
 *			       index, unapplied), 8 bytes big-endian
 *
 * Version 1 (Satchel 0.1) had no integer: its "format" was the string
 * "satchel-store-1", and a 0.1 binary refuses any other string as "not a
 * Satchel data directory" without writing anything. Changing the string
 * is what keeps a 0.1 binary away from a migrated store.
 *
 * A store older than this binary is migrated when it is opened, one
 * version at a time. Each step and the version bump that records it are
 * one LMDB write transaction, so a kill at any instant leaves the store at
 * the old version or at the new one, never between; the next open goes
 * on from there. A store newer than this binary is refused, naming the
 * release to install: its layout may mean anything.
 *
 * The records and index are derived from the log. When the way
 * they are derived changes (a new record encoding, new index rules), bump
 * STORE_DERIVED_VERSION: no migration step is needed, because rebuilding
 * them needs the keys, which only the daemon holds. It calls
 * store_rebuild() after opening when store_needs_rebuild() says so. A
 * rebuild goes either way: an older binary rebuilds the tables a newer one
 * derived, since both read the same log.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "store.h"
#include "store_int.h"

#define FORMAT_MAGIC	"satchel-store"
#define FORMAT_V1	"satchel-store-1"	/* Satchel 0.1's marker */

/* store_apply_change is the apply path's own (records.c). */
int	store_apply_change(struct store_txn *, const struct envelope *,
	    const uint8_t hash[PROTO_HASHLEN], const struct change *);

struct migration {
	uint64_t	 from;		/* goes from this version to from + 1 */
	int		(*run)(struct store_txn *);
};

static int
meta_u64_put(struct store_txn *t, const char *key, uint64_t v)
{
	uint8_t be[8];

	be64_put(be, v);
	return store_meta_put(t, key, be, sizeof(be));
}

/* A missing key reads as 0. */
static int
meta_u64_get(struct store_txn *t, const char *key, uint64_t *v)
{
	const void *p;
	size_t len;
	int rc = store_meta_get(t, key, &p, &len);

	*v = 0;
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (rc != 0)
		return rc;
	if (len != 8)
		return STORE_ENOSTORE;
	*v = be64_get(p);
	return STORE_OK;
}

/* 1 -> 2: the marker becomes an integer beside a constant magic, which a
 * 0.1 binary refuses. The derived tables were built by 0.1's apply path:
 * version 0 marks them for one rebuild by this version's, which also
 * fills the new table of entries held but not applied. */
static int
step_1_to_2(struct store_txn *t)
{
	int rc;

	if ((rc = store_table_create(t, TABLE_UNAPPLIED)) != 0 ||
	    (rc = store_meta_put(t, "format", FORMAT_MAGIC,
	    strlen(FORMAT_MAGIC))) != 0)
		return rc;
	return meta_u64_put(t, "derived_version", 0);
}

/* 2 -> 3: records no longer hold a plaintext copy of each note; they are
 * sealed, keep their own history and read values from the log
 * (recstore.c); the log keeps entries in segments (logseg.c). The
 * history table is emptied (see store.c); the derived tables are rebuilt with the keys on
 * the next open that has them. A 0.2 binary refuses version 3 without
 * writing. */
static int
step_2_to_3(struct store_txn *t)
{
	int rc;

	if ((rc = store_drop(t, TABLE_HISTORY)) != 0 ||
	    (rc = log_resegment(t)) != 0)
		return rc;
	return meta_u64_put(t, "derived_version", 0);
}

static const struct migration migrations[] = {
	{ 1, step_1_to_2 },
	{ 2, step_2_to_3 },
};

static int
version_get(struct store_txn *t, uint64_t *version)
{
	const void *p;
	size_t len;
	int rc = store_meta_get(t, "format", &p, &len);

	if (rc != 0)
		return rc == STORE_ENOTFOUND ? STORE_ENOSTORE : rc;
	if (len == strlen(FORMAT_V1) && memcmp(p, FORMAT_V1, len) == 0) {
		*version = 1;
		return STORE_OK;
	}
	if (len != strlen(FORMAT_MAGIC) || memcmp(p, FORMAT_MAGIC, len) != 0)
		return STORE_ENOSTORE;
	if ((rc = meta_u64_get(t, "store_version", version)) != 0)
		return rc;
	return *version < 2 ? STORE_ENOSTORE : STORE_OK;
}

/* The release a newer store names, kept to characters a version has. */
static void
release_get(struct store_txn *t, char *out, size_t cap)
{
	const char *p;
	const void *v;
	size_t len, i;

	out[0] = '\0';
	if (store_meta_get(t, "store_release", &v, &len) != 0 ||
	    len >= cap)
		return;
	p = v;
	for (i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.' ||
		    p[i] == '-' || (p[i] >= 'a' && p[i] <= 'z')))
			return;
	memcpy(out, p, len);
	out[len] = '\0';
}

static int
version_put(struct store_txn *t, uint64_t version)
{
	int rc;

	if ((rc = meta_u64_put(t, "store_version", version)) != 0)
		return rc;
	return store_meta_put(t, "store_release", STORE_RELEASE,
	    strlen(STORE_RELEASE));
}

static int
create(struct store *st)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(st, 0, &t)) != 0)
		return rc;
	if ((rc = store_meta_put(t, "format", FORMAT_MAGIC,
	    strlen(FORMAT_MAGIC))) != 0 ||
	    (rc = version_put(t, STORE_VERSION)) != 0 ||
	    (rc = meta_u64_put(t, "derived_version",
	    STORE_DERIVED_VERSION)) != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

/* One step, in one transaction with its version bump. The version is read
 * inside the transaction, so two programs opening the store at once do
 * not both run a step. *done is set when no step is left. */
static int
migrate_one(struct store *st, struct store_format *fmt, int *done)
{
	struct store_txn *t;
	uint64_t v;
	int rc;

	*done = 0;
	if ((rc = store_begin(st, 0, &t)) != 0)
		return rc;
	if ((rc = version_get(t, &v)) != 0)
		goto out;
	fmt->version = v;
	if (v > STORE_VERSION) {
		release_get(t, fmt->release, sizeof(fmt->release));
		rc = STORE_ENEWER;
		goto out;
	}
	if (v == STORE_VERSION) {
		*done = 1;
		goto out;
	}
	rc = STORE_ENOSTORE;	/* a version no step starts from */
	for (size_t i = 0; i < sizeof(migrations) / sizeof(*migrations); i++)
		if (migrations[i].from == v)
			rc = migrations[i].run(t);
	if (rc == 0 && (rc = version_put(t, v + 1)) == 0)
		return store_commit(t);
out:
	store_abort(t);
	return rc;
}

int
store_migrate(struct store *st, unsigned flags, struct store_format *fmt)
{
	int rc, done = 0;

	memset(fmt, 0, sizeof(*fmt));
	if (flags & STORE_CREATE) {
		fmt->version = fmt->migrated_from = STORE_VERSION;
		return create(st);
	}
	while (!done) {
		if ((rc = migrate_one(st, fmt, &done)) != 0)
			return rc;
		if (fmt->migrated_from == 0)
			fmt->migrated_from = fmt->version;
	}
	return STORE_OK;
}

int
store_needs_rebuild(struct store *st)
{
	struct store_txn *t;
	uint64_t v;
	int rc;

	if ((rc = store_begin(st, STORE_RDONLY, &t)) != 0)
		return rc;
	rc = meta_u64_get(t, "derived_version", &v);
	if (rc == 0 && v == STORE_DERIVED_VERSION && store_key_stale(t))
		v = 0;	/* the word index was built under another key */
	store_abort(t);
	if (rc != 0)
		return rc;
	return v != STORE_DERIVED_VERSION;
}

int
store_rebuild(struct store *st, const struct store_keyring *kr)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(st, 0, &t)) != 0)
		return rc;
	if ((rc = store_rebuild_txn(t, kr)) == 0)
		rc = meta_u64_put(t, "derived_version",
		    STORE_DERIVED_VERSION);
	if (rc != 0) {
		store_abort(t);
		return rc;
	}
	if ((rc = store_commit(t)) != 0)
		return rc;
	/* The tables just dropped may have held plaintext (store version
	 * 2 kept a copy of every note): their pages go over with zeros. */
	return store_scrub(st);
}
