/*
 * This device: its data directory, identity and team keys, and store.
 *
 *	DIR/identity.key  ed25519 secret key (64 bytes, mode 0600)
 *	DIR/team.key	  a teacher's team secret (32 bytes, mode 0600)
 *	DIR/network.key	  a box's network key (32 bytes, mode 0600)
 *	DIR/epochs.key	  every key epoch held, once there are several
 *			  (epoch.c)
 *	DIR/store.key	  the store key (32 random bytes, mode 0600): keys
 *			  the word index; this device's own, never sent
 *	DIR/data.mdb	  the LMDB store
 *
 * Every *.key file is read and written through keyfile_read/write
 * (keys.h): sealed under the folder's KEK once it is protected
 * (DIR/unlock.key), in the clear before that and on a box.
 *
 * The content key that seals notes and the network key that gates the
 * handshake and seals membership records are derived apart from the team
 * secret, so a box can be given the one without the other.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "keys.h"
#include "satchel.h"

#define KDF_CONTEXT	"satchel1"
#define KDF_CONTENT	1
#define KDF_NETWORK	2

_Static_assert(STORE_KEYLEN <= PROTO_KEYLEN, "init_keys reuses a buffer");

const char *
device_dir(const char *flag_dir, char *buf, size_t len)
{
	const char *env = getenv("SATCHEL_HOME"), *home = getenv("HOME");

	if (flag_dir != NULL)
		return flag_dir;
	if (env != NULL && *env != '\0')
		return env;
	if (home == NULL || snprintf(buf, len, "%s/.local/share/satchel",
	    home) >= (int)len)
		return NULL;
	return buf;
}

static int
path_in(char *out, size_t len, const char *dir, const char *name)
{
	return snprintf(out, len, "%s/%s", dir, name) < (int)len ? 0 : -1;
}

int
device_keyfile(const struct device *d, const char *name, char *out,
    size_t len)
{
	return path_in(out, len, d->dir, name);
}

static int
mkdir_p(const char *dir)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -1;
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0700) == -1 && errno != EEXIST ? -1 : 0;
}

/* The data directory errors are named after (set by device_open/init). */
static char error_dir[4096] = ".";

static void
remember_dir(const char *dir)
{
	snprintf(error_dir, sizeof(error_dir), "%s", dir);
}

/*
 * A store error caused by a full disk: ENOSPC, or a failed write (LMDB
 * reports a short write as EIO) while the disk has next to no room. root
 * may write into the blocks kept back for it, so it counts those.
 */
int
device_disk_full(int rc)
{
	struct statvfs vfs;
	unsigned long long room;

	if (rc == STORE_ENOSPC)
		return 1;
	if (rc != STORE_EIO || statvfs(error_dir, &vfs) != 0)
		return 0;
	room = (unsigned long long)(geteuid() == 0 ? vfs.f_bfree :
	    vfs.f_bavail) * vfs.f_frsize;
	return room < DISK_FULL_ROOM;
}

/* store_strerror, but a full disk is named with its directory. The
 * result is valid until the next call. */
const char *
device_strerror(int rc)
{
	static char buf[4200];

	if (!device_disk_full(rc))
		return store_strerror(rc);
	snprintf(buf, sizeof(buf), "the disk holding %s is full; nothing was "
	    "written (free some space there)", error_dir);
	return buf;
}

int
device_store_error(int rc, const char *what)
{
	if (rc == STORE_EFORK)
		return fail("%s: this device's log has forked (restored from a "
		    "backup or copied from another laptop?); nothing was "
		    "written; run 'satchel fork repair'", what);
	if (rc == STORE_ENOSTORE || rc == STORE_EEXIST ||
	    rc == STORE_EINVALID)
		return fail_usage("%s: %s", what, store_strerror(rc));
	return fail("%s: %s", what, device_strerror(rc));
}

void
team_keys_derive(const uint8_t *secret, struct store_key *content,
    struct store_key *network)
{
	if (content != NULL) {
		crypto_kdf_derive_from_key(content->key, PROTO_KEYLEN,
		    KDF_CONTENT, KDF_CONTEXT, secret);
		proto_key_id(content->key, content->id);
		content->use = KEY_CONTENT;
	}
	crypto_kdf_derive_from_key(network->key, PROTO_KEYLEN, KDF_NETWORK,
	    KDF_CONTEXT, secret);
	proto_key_id(network->key, network->id);
	network->use = KEY_NETWORK;
}

static int
write_meta(struct store *st, const uint8_t *pk, const char *name, int box,
    const uint8_t *team_id)
{
	struct store_txn *t;
	const char *role = box ? "box" : "teacher";
	int rc;

	if ((rc = store_begin(st, 0, &t)) != 0)
		return rc;
	if ((rc = store_meta_put(t, "device_id", pk, PROTO_IDLEN)) != 0 ||
	    (rc = store_meta_put(t, "name", name, strlen(name))) != 0 ||
	    (rc = store_meta_put(t, "role", role, strlen(role))) != 0 ||
	    (!box && (rc = store_meta_put(t, "team_id", team_id, 16)) != 0) ||
	    (!box && (rc = store_meta_put(t, "founder", pk,
	    PROTO_IDLEN)) != 0)) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

static int
init_keys(const char *dir, uint8_t *pk, int box)
{
	uint8_t *sk = secmem_alloc(PROTO_SKLEN);
	uint8_t *team = secmem_alloc(PROTO_KEYLEN);
	char path[4200];
	int rc = -1;

	if (sk == NULL || team == NULL)
		goto out;
	crypto_sign_keypair(pk, sk);
	crypto_kdf_keygen(team);
	if (path_in(path, sizeof(path), dir, "identity.key") != 0 ||
	    keyfile_write(path, sk, PROTO_SKLEN) != 0)
		goto out;
	if (!box && (path_in(path, sizeof(path), dir, "team.key") != 0 ||
	    keyfile_write(path, team, PROTO_KEYLEN) != 0))
		goto out;
	randombytes_buf(team, STORE_KEYLEN);	/* a new secret: the store key */
	if (path_in(path, sizeof(path), dir, "store.key") != 0 ||
	    keyfile_write(path, team, STORE_KEYLEN) != 0)
		goto out;
	rc = 0;
out:
	secmem_free(sk);
	secmem_free(team);
	return rc;
}

/* Makes a new device: keys first, the store last, so that a store on disk
 * always has its keys beside it. */
int
device_init(const char *dir, const char *name, int box)
{
	uint8_t pk[PROTO_IDLEN], team_id[16];
	char id[PROTO_DEVID_LEN + 1], path[4200];
	struct store *st;
	struct stat sb;
	int rc;

	if (path_in(path, sizeof(path), dir, "data.mdb") == 0 &&
	    stat(path, &sb) == 0)
		return fail_usage("init: %s already holds a Satchel store; "
		    "nothing changed", dir);
	if (mkdir_p(dir) == -1)
		return fail("init: cannot create %s: %s", dir,
		    strerror(errno));
	remember_dir(dir);
	if ((rc = keys_init(dir, box)) != 0)
		return rc;
	if (init_keys(dir, pk, box) != 0)
		return fail("init: cannot write keys in %s: %s", dir,
		    strerror(errno));
	randombytes_buf(team_id, sizeof(team_id));
	if ((rc = store_open(&st, dir, STORE_CREATE)) != 0)
		return device_store_error(rc, dir);
	rc = write_meta(st, pk, name, box, team_id);
	store_close(st);
	if (rc != 0)
		return device_store_error(rc, dir);
	devid_format(pk, id);
	printf("%s\n", id);
	return 0;
}

/* The store key lives in DIR/store.key until issue 12 moves it off the
 * disk; only this function knows where it comes from (see store.h). A
 * data directory from before it gets one on its first open; two programs
 * racing to make it cost a rebuild, never a wrong search: the store
 * notices the key it was indexed under changed. */
static int
load_store_key(struct device *d)
{
	uint8_t *key = secmem_alloc(STORE_KEYLEN);
	char path[4200];
	int rc = -1;

	if (key == NULL ||
	    path_in(path, sizeof(path), d->dir, "store.key") != 0)
		goto out;
	if (access(path, F_OK) != 0) {
		randombytes_buf(key, STORE_KEYLEN);
		if (keyfile_write(path, key, STORE_KEYLEN) != 0)
			goto out;
	}
	if (keyfile_read(path, key, STORE_KEYLEN) != 0 ||
	    store_set_key(d->st, key) != 0)
		goto out;
	rc = 0;
out:
	secmem_free(key);
	return rc;
}

/* Loads team.key (a teacher) or network.key (a box that has joined),
 * and every key epoch held beside it (epoch.c). */
static int
load_team(struct device *d)
{
	uint8_t *secret = secmem_alloc(PROTO_KEYLEN);
	int box = strcmp(d->role, "box") == 0;
	char path[4200];
	int rc = -1;

	d->keyring = secmem_alloc(sizeof(*d->keyring));
	if (secret == NULL || d->keyring == NULL)
		goto out;
	memset(d->keyring, 0, sizeof(*d->keyring));
	if (path_in(path, sizeof(path), d->dir, box ? "network.key" :
	    "team.key") != 0)
		goto out;
	if (box && access(path, F_OK) != 0) {
		/* a box that has not joined a team yet */
		rc = epoch_load(d, NULL, box);
		goto out;
	}
	if (keyfile_read(path, secret, PROTO_KEYLEN) != 0)
		goto out;
	rc = epoch_load(d, secret, box);
out:
	secmem_free(secret);
	return rc;
}

static void
meta_copy(struct store_txn *t, const char *key, void *out, size_t cap,
    int exact)
{
	const void *v;
	size_t len;

	if (store_meta_get(t, key, &v, &len) == 0 && len <= cap &&
	    (!exact || len == cap))
		memcpy(out, v, len);
}

static int
load_meta(struct device *d)
{
	struct store_txn *t;
	const void *v;
	size_t len;
	int rc;

	if ((rc = store_begin(d->st, STORE_RDONLY, &t)) != 0)
		return rc;
	if ((rc = store_meta_get(t, "device_id", &v, &len)) == 0 &&
	    len == PROTO_IDLEN)
		memcpy(d->id, v, PROTO_IDLEN);
	else
		rc = STORE_ENOSTORE;
	meta_copy(t, "name", d->name, NAME_MAX_LEN, 0);
	meta_copy(t, "role", d->role, sizeof(d->role) - 1, 0);
	meta_copy(t, "team_id", d->team_id, sizeof(d->team_id), 1);
	meta_copy(t, "founder", d->founder, sizeof(d->founder), 1);
	store_abort(t);
	return rc;
}

/* Opens the store, migrating an older layout; a newer one is refused
 * with what to install. */
static int
open_store(struct device *d, const char *dir)
{
	struct store_format fmt;
	int rc;

	/* Another user's folder opens for root, and leaves it files the
	 * owner cannot write: refused before anything is touched. */
	if ((rc = explain_dir(dir)) != 0)
		return rc;
	if ((rc = store_open_format(&d->st, dir, 0, &fmt)) == 0)
		return 0;
	if (rc == STORE_ENEWER)
		return fail_usage("%s was written by a newer Satchel (store "
		    "format %llu; this one reads up to %d); install Satchel "
		    "%s or newer", dir, (unsigned long long)fmt.version,
		    STORE_VERSION, fmt.release[0] ? fmt.release :
		    "the release that wrote it");
	if (rc == STORE_ENOSTORE)
		return fail_usage("%s is not a Satchel data directory (run "
		    "'satchel init' first)", dir);
	if (rc == STORE_EBUSY && access(dir, W_OK) != 0 && errno == EROFS)
		return fail("%s is read-only: Satchel writes its lock file "
		    "there even to read", dir);
	return device_store_error(rc, dir);
}

/* The records a store holds were derived by another version's rules (an
 * upgrade): derive them again from the log, once, with the keys. It can
 * take a while on a big store, so the user is told why. */
static int
rebuild_derived(struct device *d)
{
	int rc = store_needs_rebuild(d->st);

	if (rc == 1) {
		fprintf(stderr, "satchel: %s was written by another version "
		    "of Satchel: rebuilding its records from its log, once\n",
		    d->dir);
		rc = store_rebuild(d->st, d->keyring);
	}
	return rc == 0 ? 0 : device_store_error(rc, d->dir);
}

/* `fork repair` writes the new identity beside the old one and swaps
 * them once the store names it; a repair cut short in between is
 * finished here. */
static void
identity_swap(const struct device *d)
{
	uint8_t *sk = secmem_alloc(PROTO_SKLEN);
	char path[4200], newpath[4200];

	if (sk != NULL && path_in(newpath, sizeof(newpath), d->dir,
	    "identity.new.key") == 0 && path_in(path, sizeof(path), d->dir,
	    "identity.key") == 0 && access(newpath, F_OK) == 0 &&
	    keyfile_read(newpath, sk, PROTO_SKLEN) == 0 &&
	    memcmp(sk + 32, d->id, PROTO_IDLEN) == 0)
		rename(newpath, path);
	secmem_free(sk);
}

int
device_open(struct device *d, const char *dir)
{
	char path[4200];
	int rc;

	memset(d, 0, sizeof(*d));
	if (snprintf(d->dir, sizeof(d->dir), "%s", dir) >=
	    (int)sizeof(d->dir))
		return fail_usage("data directory path too long");
	remember_dir(dir);
	if ((rc = open_store(d, dir)) != 0)
		return rc;
	if ((rc = load_meta(d)) != 0) {
		device_close(d);
		return fail_usage("%s: incomplete store (init was "
		    "interrupted?)", dir);
	}
	/* A protected folder's keys open with its KEK (keys.h): got here,
	 * once, so that a locked folder is one clear refusal. */
	if ((rc = keys_unlock(dir)) != 0) {
		device_close(d);
		return rc;
	}
	identity_swap(d);
	if ((d->sign_sk = secmem_alloc(PROTO_SKLEN)) == NULL ||
	    path_in(path, sizeof(path), dir, "identity.key") != 0 ||
	    keyfile_read(path, d->sign_sk, PROTO_SKLEN) != 0 ||
	    memcmp(d->sign_sk + 32, d->id, PROTO_IDLEN) != 0) {
		device_close(d);
		if ((rc = explain_key(path)) != 0)
			return rc;
		return fail("%s/identity.key is damaged (restore it from the "
		    "backup of this folder)", dir);
	}
	if (load_team(d) != 0) {
		rc = path_in(path, sizeof(path), dir, strcmp(d->role, "box") ?
		    "team.key" : "network.key") == 0 ? explain_key(path) : 0;
		device_close(d);
		return rc ? rc : fail("%s: the team key is damaged (restore it "
		    "from the backup of this folder)", dir);
	}
	if (recovery_load(d) != 0) {
		device_close(d);
		return fail("cannot read the personal key in %s", dir);
	}
	if (load_store_key(d) != 0 ||
	    store_set_keyring(d->st, d->keyring) != 0) {
		rc = path_in(path, sizeof(path), dir, "store.key") == 0 ?
		    explain_key(path) : 0;
		device_close(d);
		return rc ? rc : fail("%s/store.key cannot be made or read",
		    dir);
	}
	if ((d->cache = calloc(1, sizeof(*d->cache))) == NULL) {
		device_close(d);
		return fail("out of memory");
	}
	team_rebuild_rule(d);
	if ((rc = rebuild_derived(d)) != 0) {
		device_close(d);
		return rc;
	}
	if ((rc = epoch_refresh(d)) != 0) {
		device_close(d);
		return device_store_error(rc, dir);
	}
	return 0;
}

#define NOTIFY_SOCKET	"serve.sock"
#define NOTIFY_PATH_MAX	100	/* sun_path is 104 bytes on the BSDs */

int
device_notify_path(const struct device *d, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", d->dir, NOTIFY_SOCKET);

	return n < 0 || (size_t)n >= len || n >= NOTIFY_PATH_MAX ? -1 : 0;
}

struct notify {
	uv_pipe_t	pipe;
	uv_connect_t	conn;
	int		answered;
};

static void
notify_connected(uv_connect_t *req, int status)
{
	struct notify *n = req->data;

	n->answered = status == 0;
	uv_close((uv_handle_t *)&n->pipe, NULL);
}

/* The connection is the whole message: nothing is written, so a daemon
 * that closes at once cannot raise SIGPIPE in the writer. */
int
device_notify_probe(const char *path)
{
	struct notify n;
	uv_loop_t loop;

	memset(&n, 0, sizeof(n));
	if (uv_loop_init(&loop) != 0)
		return -1;
	if (uv_pipe_init(&loop, &n.pipe, 0) == 0) {
		n.conn.data = &n;
		uv_pipe_connect(&n.conn, &n.pipe, path, notify_connected);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	uv_loop_close(&loop);
	return n.answered ? 0 : -1;
}

void
device_notify(const struct device *d)
{
	char path[4096];

	if (device_notify_path(d, path, sizeof(path)) == 0)
		(void)device_notify_probe(path);
}

void
device_close(struct device *d)
{
	if (d->st != NULL && !d->serving && store_commits(d->st) > 0)
		device_notify(d);
	store_close(d->st);
	secmem_free(d->sign_sk);
	secmem_free(d->keyring);
	secmem_free(d->personal_key);
	secmem_free(d->epochs);
	if (d->cache != NULL) {
		team_view_free(d->cache->members);
		team_rebuild_free(d->cache->rebuild);
	}
	free(d->cache);
	memset(d, 0, sizeof(*d));
}

/* Seals and appends one local change inside the caller's transaction;
 * returns a store code. */
int
device_write(struct device *d, struct store_txn *t, const struct change *c)
{
	return device_write_scoped(d, t, c, SCOPE_TEAM);
}

int
device_write_scoped(struct device *d, struct store_txn *t,
    const struct change *c, uint8_t scope)
{
	struct store_author a = { d->id, d->sign_sk, scope == SCOPE_PRIVATE ?
	    d->personal : d->content, scope };
	uint64_t fseq;

	if (a.key == NULL)
		return STORE_EBADENTRY;	/* a box: refused before this */
	/* A frozen log's new entries would be kept aside, never shown. */
	if (fork_self(d, t, &fseq))
		return STORE_EFORK;
	return store_append_local(t, &a, c, now_ms(), NULL);
}

/* A membership entry, sealed under the network key so that a box can
 * read and check it too. It always names the device (the first release
 * reads that as who it is about) and the membership heads this device
 * holds (seen: members.h); an add also says who added it. */
int
device_member_write(struct device *d, struct store_txn *t,
    const uint8_t *member, const struct member_write *w)
{
	struct store_author a = { d->id, d->sign_sk, d->network, SCOPE_TEAM };
	char dev[2 * PROTO_IDLEN + 1], by[2 * PROTO_IDLEN + 1];
	char seen[MEMBERS_MAX_SEEN * (MEMBERS_REF_LEN + 1) + 1];
	struct record *r = NULL;
	struct change c;
	int rc;

	uint64_t fseq;

	if (d->network == NULL)
		return STORE_EBADENTRY;
	if (fork_self(d, t, &fseq))
		return STORE_EFORK;
	if (team_seen_value(d, t, seen, sizeof(seen)) != 0)
		return STORE_ENOMEM;
	sodium_bin2hex(dev, sizeof(dev), member, PROTO_IDLEN);
	sodium_bin2hex(by, sizeof(by), d->id, PROTO_IDLEN);
	/* Each write names the record's heads: no conflict with itself. */
	if ((rc = store_record_get(t, KIND_MEMBER, member, &r)) != 0 &&
	    rc != STORE_ENOTFOUND)
		return rc;
	change_init(&c, KIND_MEMBER, member);
	if (change_set(&c, r, "device", dev) != 0 ||
	    (w->name != NULL && change_set(&c, r, "name", w->name) != 0) ||
	    (w->role != NULL && change_set(&c, r, "role", w->role) != 0) ||
	    (w->add && change_set(&c, r, "added_by", by) != 0) ||
	    (w->removed != NULL &&
	    change_set(&c, r, "removed", w->removed) != 0) ||
	    (w->cutoff != NULL && change_set(&c, r, "cutoff", w->cutoff) != 0) ||
	    change_set(&c, r, "seen", seen) != 0)
		rc = STORE_ENOMEM;
	else
		rc = store_append_local(t, &a, &c, now_ms(), NULL);
	record_free(r);
	return rc;
}

int
device_write_member(struct device *d, struct store_txn *t,
    const uint8_t *member, const char *name, const char *role)
{
	struct member_write w = { .name = name, .role = role, .add = 1 };

	return device_member_write(d, t, member, &w);
}

/* Joins a team, ending the caller's write transaction t: the store's team
 * fields into t, then the key file, then the commit. If the commit fails,
 * the key file is put back as it was, so that a failed join leaves no
 * trace. */
int
device_save_team(struct device *d, struct store_txn *t, const uint8_t *team_id,
    const uint8_t *founder, const uint8_t *secret, int box)
{
	uint8_t *old = secmem_alloc(PROTO_KEYLEN);
	char path[4200];
	int had, rc;

	if (old == NULL || path_in(path, sizeof(path), d->dir, box ?
	    "network.key" : "team.key") != 0) {
		rc = STORE_ENOMEM;
		goto fail;
	}
	had = access(path, F_OK) == 0;
	if (had && keyfile_read(path, old, PROTO_KEYLEN) != 0) {
		rc = STORE_EIO;
		goto fail;
	}
	if ((rc = store_meta_put(t, "team_id", team_id, 16)) != 0 ||
	    (rc = store_meta_put(t, "founder", founder, PROTO_IDLEN)) != 0)
		goto fail;
	if (keyfile_write(path, secret, PROTO_KEYLEN) != 0) {
		rc = STORE_EIO;
		goto fail;
	}
	if ((rc = store_commit(t)) != 0 && (had ? keyfile_write(path,
	    old, PROTO_KEYLEN) : unlink(path)) != 0)
		fprintf(stderr, "satchel: %s could not be put back\n", path);
	secmem_free(old);
	return rc;
fail:
	store_abort(t);
	secmem_free(old);
	return rc;
}
