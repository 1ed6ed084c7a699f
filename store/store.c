/*
 * The LMDB environment and its tables. This is the only file that
 * includes <lmdb.h>.
 *
 *	meta	 string key -> bytes: format (migrate.c), identity, team,
 *		 clock
 *	log	 author[32] seq[8 BE] -> envelope
 *	heads	 author[32] -> seq[8 BE] hash[32]: the vector
 *	records	 docid[8 BE] -> kind[1] id[16], then the record sealed
 *		 (recstore.c): what the merge needs, its history, and no
 *		 note text; the index's 'K' kind, id names the docid
 *		 (records.c)
 *	index	 see store.h
 *	history	 empty since version 3 (records keep their own): kept so
 *		 that a 0.1 binary, which opens every table it knows with
 *		 MDB_CREATE, writes nothing before it refuses the store
 *	unapplied author[32] seq[8 BE] -> kind[1] reason: held, not applied
 *
 * A write is one LMDB transaction: an entry is in the log, the vector and
 * the records together or not at all. LMDB's default durable commit is
 * kept; MDB_WRITEMAP is never used (a full disk would be a SIGBUS).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "store.h"
#include "store_int.h"

/*
 * The map is address space, not disk. 16 GiB on 64-bit boxes; a 32-bit
 * box (Raspberry Pi OS) has 3 GiB of address space in all, where
 * (size_t)16 << 30 is 0, so it gets 1 GiB: a school's years of notes
 * fit many times over.
 */
#if SIZE_MAX > 0xffffffffu
#define STORE_MAPSIZE	((size_t)16 << 30)
#else
#define STORE_MAPSIZE	((size_t)1 << 30)
#endif
_Static_assert(STORE_MAPSIZE >= ((size_t)1 << 30) &&
    STORE_MAPSIZE <= SIZE_MAX / 2, "the LMDB map size must fit size_t");

static const char *const table_names[TABLE_COUNT] = {
	"meta", "log", "heads", "records", "index", "history", "unapplied"
};

int
store_lmdb_error(int rc)
{
	switch (rc) {
	case 0:
		return STORE_OK;
	case MDB_NOTFOUND:
		return STORE_ENOTFOUND;
	case MDB_MAP_FULL:
		return STORE_EFULL;
	case ENOSPC:
	case EDQUOT:
		return STORE_ENOSPC;
	case ENOMEM:
		return STORE_ENOMEM;
	case EAGAIN:
	case EACCES:
		return STORE_EBUSY;
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return STORE_ENOSTORE;	/* some other file named data.mdb */
	default:
		return STORE_EIO;
	}
}

const char *
store_strerror(int rc)
{
	switch (rc) {
	case STORE_OK:		return "success";
	case STORE_ENOTFOUND:	return "not found";
	case STORE_EIO:		return "the store could not be read or written";
	case STORE_EFULL:	return "the store has reached its size limit; nothing was written";
	case STORE_ENOSPC:	return "the disk is full; nothing was written";
	case STORE_EBADENTRY:	return "malformed, badly signed or unreadable entry";
	case STORE_EFORK:	return "a different entry already has this author and sequence number (fork)";
	case STORE_EGAP:	return "entry does not follow its author's last entry";
	case STORE_ENOMEM:	return "out of memory";
	case STORE_ENOSTORE:	return "not a Satchel data directory";
	case STORE_EEXIST:	return "a Satchel store already exists there";
	case STORE_EAMBIGUOUS:	return "the id prefix matches more than one record";
	case STORE_EDUP:	return "entry already held";
	case STORE_EBUSY:	return "the store is locked or not accessible";
	case STORE_ENEWER:	return "written by a newer Satchel";
	case STORE_EINVALID:	return "a change Satchel does not accept";
	case STORE_EDEFER:	return "a change written by a newer Satchel";
	default:		return "unknown store error";
	}
}

size_t
store_map_size(void)
{
	return STORE_MAPSIZE;
}

static int
file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat sb;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return 0;
	return stat(path, &sb) == 0;
}

/* Tables are created only with the store: opening a store that lacks one
 * (an interrupted init, a newer layout) writes nothing to it. *missing
 * counts the tables that are not there; a newer layout is told apart by
 * its version before that is an error. */
static int
env_open(struct store *st, const char *dir, unsigned flags, int *missing)
{
	MDB_txn *txn;
	int rc, dead;

	if ((rc = mdb_env_create(&st->env)) != 0)
		return store_lmdb_error(rc);
	if ((rc = mdb_env_set_maxdbs(st->env, TABLE_COUNT + TABLE_EXTRA)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, STORE_MAPSIZE)) != 0 ||
	    (rc = mdb_env_open(st->env, dir, 0, 0600)) != 0)
		return store_lmdb_error(rc);
	/* Clear reader slots left by processes that were killed. */
	mdb_reader_check(st->env, &dead);
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return store_lmdb_error(rc);
	for (int i = 0; i < TABLE_COUNT; i++)
		if ((rc = mdb_dbi_open(txn, table_names[i],
		    (flags & STORE_CREATE) ? MDB_CREATE : 0,
		    &st->dbi[i])) == MDB_NOTFOUND && i == TABLE_UNAPPLIED)
			;	/* new in version 2: its migration makes it */
		else if (rc == MDB_NOTFOUND && i != TABLE_META)
			(*missing)++;
		else if (rc != 0) {
			mdb_txn_abort(txn);
			return rc == MDB_NOTFOUND ? STORE_ENOSTORE :
			    store_lmdb_error(rc);
		}
	return store_lmdb_error(mdb_txn_commit(txn));
}

/*
 * LMDB writes its lock file through a shared map. On a full disk the first
 * touch of a page that has no block yet is a SIGBUS, not an error, so the
 * file's blocks are reserved before LMDB opens it: a full disk is then an
 * ENOSPC here. LMDB keeps a lock file at least this long as it is, and
 * sizes its reader table to it (about 250 readers).
 */
#define LOCK_RESERVE	(16 * 1024)

static int
reserve_lock_file(const char *dir)
{
	char path[PATH_MAX];
	int fd, rc;

	if (snprintf(path, sizeof(path), "%s/lock.mdb", dir) >=
	    (int)sizeof(path))
		return STORE_EIO;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return store_lmdb_error(errno);
	rc = posix_fallocate(fd, 0, LOCK_RESERVE);
	close(fd);
	if (rc == EINVAL || rc == EOPNOTSUPP)
		return STORE_OK;	/* a file system that cannot: as before */
	return store_lmdb_error(rc);
}

/* Opens the store in dir; with STORE_CREATE makes a new one and refuses if
 * one is there already. */
int
store_open(struct store **out, const char *dir, unsigned flags)
{
	return store_open_format(out, dir, flags, NULL);
}

int
store_open_format(struct store **out, const char *dir, unsigned flags,
    struct store_format *fmt)
{
	struct store_format ignored;
	struct store *st;
	int rc, missing = 0, exists = file_exists(dir, "data.mdb");

	*out = NULL;
	if ((flags & STORE_CREATE) && exists)
		return STORE_EEXIST;
	if (!(flags & STORE_CREATE) && !exists)
		return STORE_ENOSTORE;
	/* An existing store whose lock file cannot be grown on a full disk
	 * still opens: its readers' pages are most likely written already. */
	if ((rc = reserve_lock_file(dir)) != 0 && (flags & STORE_CREATE))
		return rc;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return STORE_ENOMEM;
	if ((rc = env_open(st, dir, flags, &missing)) != 0 ||
	    (rc = store_migrate(st, flags, fmt ? fmt : &ignored)) != 0 ||
	    (missing > 0 && (rc = STORE_ENOSTORE) != 0)) {
		store_close(st);
		return rc == STORE_EIO && !exists ? STORE_ENOSTORE : rc;
	}
	*out = st;
	return STORE_OK;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	sodium_free(st->key);
	sodium_free(st->seal_key);
	sodium_free(st->word_key);
	sodium_free(st->keys);
	free(st);
}

int
store_begin(struct store *st, unsigned flags, struct store_txn **out)
{
	struct store_txn *t;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return STORE_ENOMEM;
	t->st = st;
	rc = mdb_txn_begin(st->env, NULL, (flags & STORE_RDONLY) ?
	    MDB_RDONLY : 0, &t->txn);
	if (rc != 0) {
		free(t);
		return store_lmdb_error(rc);
	}
	*out = t;
	return STORE_OK;
}

/* What a transaction holds back (the word index's postings, search.c;
 * the log's pending tails, logseg.c) is written into it before it
 * commits; if that fails it is aborted, as a failed commit is. */
static int
txn_flush(struct store_txn *t)
{
	int rc = store_words_flush(t);

	if (rc == 0)
		rc = store_counts_flush(t);
	if (rc == 0)
		rc = store_digest_flush(t);
	if (rc == 0)
		rc = store_clock_flush(t);
	if (rc == 0)
		rc = store_heads_flush(t);
	if (rc == 0)
		rc = log_flush(t);
	store_words_free(t);
	store_counts_free(t);
	store_heads_free(t);
	log_pend_free(t);
	if (rc != 0) {
		mdb_txn_abort(t->txn);
		free(t);
	}
	return rc;
}

int
store_commit(struct store_txn *t)
{
	int rc;

	if ((rc = txn_flush(t)) != 0)
		return rc;
	/* Atomic: the daemon's writer thread commits (daemon/net/writer.c)
	 * while the loop may commit too, once LMDB's lock is free. */
	if ((rc = mdb_txn_commit(t->txn)) == 0)
		__atomic_fetch_add(&t->st->commits, 1, __ATOMIC_RELAXED);
	free(t);
	return store_lmdb_error(rc);
}

unsigned long
store_commits(const struct store *st)
{
	return __atomic_load_n(&st->commits, __ATOMIC_RELAXED);
}

uint64_t
store_txn_id(const struct store_txn *t)
{
	return (uint64_t)mdb_txn_id(t->txn);
}

/* Commits advisory state (what a peer holds, when it was last seen)
 * without syncing the meta page: a system crash may undo this commit, but
 * never corrupts the store, and the next durable commit covers it. The
 * flag is set only around this commit: it is set and cleared while this
 * transaction holds LMDB's write lock, and every commit, the daemon's
 * writer thread's too, reads it only while holding that lock. */
int
store_commit_lazy(struct store_txn *t)
{
	MDB_env *env = t->st->env;
	int rc;

	if ((rc = txn_flush(t)) != 0)
		return rc;
	if ((rc = mdb_env_set_flags(env, MDB_NOMETASYNC, 1)) != 0) {
		mdb_txn_abort(t->txn);
		free(t);
		return store_lmdb_error(rc);
	}
	rc = mdb_txn_commit(t->txn);
	mdb_env_set_flags(env, MDB_NOMETASYNC, 0);
	free(t);
	return store_lmdb_error(rc);
}

void
store_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	log_pend_free(t);
	store_words_free(t);
	store_counts_free(t);
	store_heads_free(t);
	mdb_txn_abort(t->txn);
	free(t);
}

int
store_get(struct store_txn *t, int table, const void *key, size_t klen,
    const void **val, size_t *vlen)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc = mdb_get(t->txn, t->st->dbi[table], &k, &v);

	if (rc != 0)
		return store_lmdb_error(rc);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return STORE_OK;
}

int
store_get_be64(struct store_txn *t, int table, const void *key, size_t klen,
    uint64_t *out)
{
	const void *v = NULL;
	size_t len = 0;
	int rc;

	if ((rc = store_get(t, table, key, klen, &v, &len)) != 0)
		return rc;
	if (len != 8)
		return STORE_EIO;
	*out = be64_get(v);
	return STORE_OK;
}

int
store_put(struct store_txn *t, int table, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };

	return store_lmdb_error(mdb_put(t->txn, t->st->dbi[table], &k, &v, 0));
}

/* For keys that usually sort last (a log's next entry): LMDB's append
 * mode fills pages instead of splitting them in half. */
int
store_put_append(struct store_txn *t, int table, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = mdb_put(t->txn, t->st->dbi[table], &k, &v, MDB_APPEND);

	if (rc == MDB_KEYEXIST)
		return store_put(t, table, key, klen, val, vlen);
	return store_lmdb_error(rc);
}

/* As store_put_append, for a key that must be new: one the table holds
 * already is left as it is, STORE_EIO. */
int
store_put_new(struct store_txn *t, int table, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	MDB_dbi dbi = t->st->dbi[table];
	int rc = mdb_put(t->txn, dbi, &k, &v, MDB_APPEND);

	if (rc == MDB_KEYEXIST)
		rc = mdb_put(t->txn, dbi, &k, &v, MDB_NOOVERWRITE);
	return store_lmdb_error(rc);
}

int
store_del(struct store_txn *t, int table, const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)key };
	int rc = mdb_del(t->txn, t->st->dbi[table], &k, NULL);

	return rc == MDB_NOTFOUND ? STORE_OK : store_lmdb_error(rc);
}

/* Makes a table a migration adds, inside the migration's transaction. */
int
store_table_create(struct store_txn *t, int table)
{
	return store_lmdb_error(mdb_dbi_open(t->txn, table_names[table],
	    MDB_CREATE, &t->st->dbi[table]));
}

/*
 * LMDB does not clear the pages it frees: a table dropped (an older
 * layout's plaintext records, after the rebuild that replaces them)
 * stays readable in data.mdb until its pages are used again. This uses
 * them again, with zeros: a scratch table is filled until it has taken
 * as many pages as the free list holds, then dropped. Pages a commit
 * frees become reusable two commits later, hence the first commit.
 */
#define SCRUB_VALUE	1900	/* two to a page */

/* The pages on the free list; LMDB reads it in read-only transactions
 * only, so this one ends before the fill begins. */
static int
free_pages(MDB_env *env, size_t *n)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	*n = 0;
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, 0, &cur)) == 0) {	/* FREE_DBI */
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
			if (v.mv_size >= sizeof(size_t)) /* [count, pgno...] */
				*n += *(const size_t *)v.mv_data;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
scrub_fill(MDB_txn *txn, MDB_dbi dbi, size_t pages)
{
	static const uint8_t zeros[SCRUB_VALUE];
	uint8_t kb[8];
	MDB_val k = { sizeof(kb), kb }, v = { sizeof(zeros), (void *)zeros };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < 2 * pages + 2; i++) {
		for (int j = 0; j < 8; j++)
			kb[j] = (uint8_t)(i >> (56 - 8 * j));
		rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
	}
	return rc;
}

/* One step of the scrub, in its own transaction. */
static int
scrub_step(struct store *st, int step, MDB_dbi *dbi)
{
	MDB_val k = { 5, (void *)"scrub" }, v = { 1, (void *)"1" };
	MDB_txn *txn;
	size_t n = 0;
	int rc;

	if (step == 1 && (rc = free_pages(st->env, &n)) != 0)
		return rc;
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return rc;
	if (step == 0)		/* a commit that moves on */
		rc = mdb_put(txn, st->dbi[TABLE_META], &k, &v, 0);
	else if (step == 1 &&
	    (rc = mdb_dbi_open(txn, "scrub", MDB_CREATE, dbi)) == 0)
		rc = scrub_fill(txn, *dbi, n);
	else if (step == 2 &&
	    (rc = mdb_del(txn, st->dbi[TABLE_META], &k, NULL)) == 0)
		rc = mdb_drop(txn, *dbi, 1);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

int
store_scrub(struct store *st)
{
	MDB_dbi dbi = 0;
	int rc = 0;

	for (int step = 0; step < 3 && rc == 0; step++)
		rc = scrub_step(st, step, &dbi);
	return store_lmdb_error(rc);
}

/* Empties a table inside the transaction. */
int
store_drop(struct store_txn *t, int table)
{
	if (table == TABLE_INDEX) {
		store_words_free(t);	/* pending postings go with it */
		store_counts_free(t);
		t->next_docid = 0;
	}
	return store_lmdb_error(mdb_drop(t->txn, t->st->dbi[table], 0));
}

/* The greatest key <= key (any length), borrowed until the next write;
 * STORE_ENOTFOUND if every key is greater. */
int
store_seek_le(struct store_txn *t, int table, const uint8_t *key,
    size_t klen, const uint8_t **k, size_t *kl, const uint8_t **v,
    size_t *vl)
{
	MDB_cursor *cur;
	MDB_val mk = { klen, (void *)key }, mv;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[table], &cur)) != 0)
		return store_lmdb_error(rc);
	rc = mdb_cursor_get(cur, &mk, &mv, MDB_SET_RANGE);
	if (rc == 0 && (mk.mv_size != klen ||
	    memcmp(mk.mv_data, key, klen) != 0))
		rc = mdb_cursor_get(cur, &mk, &mv, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &mk, &mv, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc != 0)
		return store_lmdb_error(rc);
	*k = mk.mv_data;
	*kl = mk.mv_size;
	*v = mv.mv_data;
	*vl = mv.mv_size;
	return STORE_OK;
}

/* Calls fn for each key starting with prefix, in order or reversed. */
int
store_scan(struct store_txn *t, int table, const uint8_t *prefix,
    size_t plen, int reverse, store_scan_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t last[512];
	int rc;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[table], &cur)) != 0)
		return store_lmdb_error(rc);
	k.mv_size = plen;
	k.mv_data = (void *)prefix;
	if (!reverse)
		rc = plen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) :
		    mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	else {
		/* Seek past every key with the prefix, then step back. */
		if (plen > sizeof(last) - 1) {
			mdb_cursor_close(cur);
			return STORE_EIO;
		}
		memcpy(last, prefix, plen);
		memset(last + plen, 0xff, sizeof(last) - plen);
		k.mv_size = sizeof(last) - 1;
		k.mv_data = last;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV) :
		    mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	while (rc == 0) {
		if (plen > 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if (fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? STORE_OK : store_lmdb_error(rc);
}

int
store_meta_get(struct store_txn *t, const char *key, const void **val,
    size_t *len)
{
	return store_get(t, TABLE_META, key, strlen(key), val, len);
}

int
store_meta_put(struct store_txn *t, const char *key, const void *val,
    size_t len)
{
	return store_put(t, TABLE_META, key, strlen(key), val, len);
}

int
store_meta_del(struct store_txn *t, const char *key)
{
	return store_del(t, TABLE_META, key, strlen(key));
}

struct meta_walk {
	int	(*fn)(const char *, size_t, const void *, size_t, void *);
	void	*arg;
};

static int
meta_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct meta_walk *w = arg;

	return w->fn((const char *)k, klen, v, vlen, w->arg);
}

static int
meta_any_cb(const char *k, size_t klen, const void *v, size_t vlen,
    void *arg)
{
	(void)k;
	(void)klen;
	(void)v;
	(void)vlen;
	*(int *)arg = 1;
	return 1;
}

int
store_meta_none(struct store_txn *t, const char *prefix, uint8_t *state)
{
	int any = 0;

	if (*state == 0) {
		if (store_meta_each(t, prefix, meta_any_cb, &any) != 0)
			any = 1;	/* unsure: look each one up */
		*state = any ? 2 : 1;
	}
	return *state == 1;
}

int
store_meta_each(struct store_txn *t, const char *prefix,
    int (*fn)(const char *key, size_t klen, const void *val, size_t vlen,
    void *), void *arg)
{
	struct meta_walk w = { fn, arg };

	return store_scan(t, TABLE_META, (const uint8_t *)prefix,
	    strlen(prefix), 0, meta_cb, &w);
}
