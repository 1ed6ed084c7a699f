/*
 * export and import: entries carried by a file, for schools where the
 * network between buildings is a USB stick. A bundle is checked whole
 * (its MAC, under a key only team members hold) before any entry is
 * looked at, then applied with every chain and signature verified.
 *
 * Both stream: a bundle of a million entries is written and read entry
 * by entry through a small buffer, never held whole in memory. A file
 * that is not a bundle is refused once its header is read. import reads
 * the file twice (the MAC and the framing first, then the entries, the
 * MAC again, so a file changed in between is caught) and commits every
 * IMPORT_TXN_ENTRIES entries: a bundle small enough for one transaction
 * is applied whole or not at all; in a larger one a refused entry keeps
 * the earlier transactions, whose entries are each signed and chained,
 * as good as any. The entries of a forked log are the exception: they
 * alone are refused (they freeze their author; see store/fork.c) while
 * everything else is applied.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"
#include "wire.h"

/* An entry dirties a few B-tree pages of its own (its record, indexes and
 * history sit at random keys): LMDB keeps those in memory until the
 * commit, so transactions are kept to this many entries or bytes. */
#define IMPORT_TXN_ENTRIES	2048
#define IMPORT_TXN_BYTES	(16 * 1024 * 1024)
#define BUNDLE_IO_BUF		(64 * 1024)
#define IMPORT_ECHANGED		1	/* the file changed between passes */

static void
bundle_key_of(const uint8_t *network, uint8_t out[32])
{
	static const uint8_t label[] = "satchel bundle mac v1";

	crypto_generichash(out, 32, label, sizeof(label) - 1, network,
	    PROTO_KEYLEN);
}

/* The key a bundle is made under: the network key, or while a new key
 * epoch is young the previous epoch's, which every member takes then,
 * so that a laptop that has not heard of the epoch can import it (and
 * learn the epoch from it). What it carries is sealed under the newest
 * keys either way. */
void
bundle_key(const struct device *d, uint8_t out[32])
{
	struct store_key prev;

	if (epoch_grace_key(d, now_ms(), 0, &prev))
		bundle_key_of(prev.key, out);
	else
		bundle_key_of(d->network->key, out);
	sodium_memzero(&prev, sizeof(prev));
}

struct export {
	struct store_txn *t;
	const struct vec *skip;		/* what the receiver already has */
	FILE		*f;		/* the temporary file, or NULL to count */
	struct bundle_mac mac;
	uint64_t	 count;
	int		 rc;
	int		 werr;		/* errno of a failed write */
	const uint8_t	*self;		/* this device */
	const uint8_t	*for_dev;	/* the receiver, if named */
};

/* Writes to the bundle and its MAC; the first failure sticks. */
static void
export_write(struct export *x, const void *p, size_t len)
{
	if (x->werr != 0)
		return;
	if (fwrite(p, 1, len, x->f) != len) {
		x->werr = errno ? errno : EIO;
		return;
	}
	bundle_mac_update(&x->mac, p, len);
}

/* One entry: counted on the first pass, written on the second. */
static int
export_env(struct export *x, const uint8_t *env, size_t len)
{
	uint8_t be[4];

	x->count++;
	if (x->f == NULL)
		return 0;
	for (int i = 0; i < 4; i++)
		be[i] = (uint8_t)(len >> (24 - 8 * i));
	export_write(x, be, 4);
	export_write(x, env, len);
	return x->werr != 0;
}

static int
export_run(struct export *x, const uint8_t *author, uint64_t from,
    uint64_t head)
{
	for (uint64_t seq = from + 1; seq <= head; seq++) {
		const uint8_t *env;
		size_t len;

		if ((x->rc = store_log_get(x->t, author, seq, &env,
		    &len)) != 0 || export_env(x, env, len) != 0)
			return 1;
	}
	return 0;
}

static int
export_kept_cb(const uint8_t *env, size_t len, void *arg)
{
	return export_env(arg, env, len);
}

/* A frozen author: its entries up to the fork point, the pair that proves
 * the fork, and, when the forked device itself makes or takes the bundle,
 * every entry past the fork (see send_fork in peer.c). */
static int
export_frozen(struct export *x, const uint8_t *author, uint64_t from,
    uint64_t head, uint64_t fseq)
{
	const uint8_t *env[2];
	size_t len[2];

	if (export_run(x, author, from, head < fseq ? head : fseq) != 0)
		return 1;
	if ((x->rc = store_fork_evidence(x->t, author, env, len)) != 0 ||
	    export_env(x, env[0], len[0]) != 0 ||
	    export_env(x, env[1], len[1]) != 0)
		return 1;
	if (memcmp(author, x->self, PROTO_IDLEN) != 0 && (x->for_dev == NULL ||
	    memcmp(author, x->for_dev, PROTO_IDLEN) != 0))
		return 0;
	if (export_run(x, author, fseq, head) != 0)
		return 1;
	x->rc = store_fork_kept_each(x->t, author, export_kept_cb, x);
	return x->rc != 0;
}

static int
export_author(const uint8_t *author, uint64_t head, const uint8_t *hash,
    void *arg)
{
	struct export *x = arg;
	uint64_t from = x->skip ? vec_seq(x->skip, author) : 0, fseq;

	(void)hash;
	if ((x->rc = store_fork_get(x->t, author, &fseq)) == 0)
		return export_frozen(x, author, from, head, fseq);
	if (x->rc != STORE_ENOTFOUND)
		return 1;
	x->rc = 0;
	return export_run(x, author, from, head);
}

/* Authors nearest the founder first (team_order), as a receiver that
 * checks each author's membership needs them. */
static int
export_ordered(struct device *d, struct export *x)
{
	struct vec heads;
	size_t *order;
	int rc;

	if ((rc = vec_from_heads(&heads, x->t)) != 0) {
		vec_free(&heads);
		return rc;
	}
	if ((order = malloc((heads.n ? heads.n : 1) * sizeof(*order))) == NULL) {
		vec_free(&heads);
		return STORE_ENOMEM;
	}
	team_order(d, x->t, &heads, order);
	for (size_t i = 0; i < heads.n && x->rc == 0 && x->werr == 0; i++)
		export_author(heads.items[order[i]].author,
		    heads.items[order[i]].seq, heads.items[order[i]].hash, x);
	free(order);
	vec_free(&heads);
	return x->rc;
}

/* Header, entries (streamed from the log), MAC, into path.tmp, then
 * fsync and rename: the bundle appears whole or not at all. A store
 * error is in x->rc; a file error is -1 with errno. */
static int
write_bundle(struct device *d, const char *path, struct export *x)
{
	uint8_t header[BUNDLE_HEADER_LEN], mac[BUNDLE_MACLEN], key[32];
	char tmp[4200];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return -1;
	if ((x->f = fdopen(fd, "wb")) == NULL) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	setvbuf(x->f, NULL, _IOFBF, BUNDLE_IO_BUF);
	bundle_key(d, key);
	bundle_mac_init(&x->mac, key);
	sodium_memzero(key, sizeof(key));
	bundle_header(header, d->team_id, d->id, x->count);
	export_write(x, header, sizeof(header));
	if (x->werr == 0 && export_ordered(d, x) == 0 && x->werr == 0) {
		bundle_mac_final(&x->mac, mac);
		if (fwrite(mac, 1, sizeof(mac), x->f) != sizeof(mac) ||
		    fflush(x->f) != 0 || fsync(fileno(x->f)) != 0)
			x->werr = errno ? errno : EIO;
	} else if (x->werr == 0 && x->rc == 0)
		x->werr = EIO;
	if (fclose(x->f) != 0 && x->werr == 0)
		x->werr = errno;
	x->f = NULL;
	if (x->rc == 0 && x->werr == 0 && rename(tmp, path) == 0 &&
	    sync_parent(path) == 0)
		return 0;
	if (x->werr == 0 && x->rc == 0)
		x->werr = errno;
	unlink(tmp);
	errno = x->werr;
	return -1;
}

int
cmd_export(struct device *d, struct args *a)
{
	struct export x;
	struct vec skip = { 0 };
	uint8_t peer[PROTO_IDLEN];
	const char *for_dev = args_get(a, "for");
	int rc, err = 0;

	if (d->network == NULL)
		return fail_usage("export: this device has not joined a team");
	if (for_dev != NULL && (rc = devid_arg("export --for", for_dev,
	    DEVID_ANY, peer)) != 0)
		return rc;
	memset(&x, 0, sizeof(x));
	x.self = d->id;
	x.for_dev = for_dev != NULL ? peer : NULL;
	if ((rc = store_begin(d->st, STORE_RDONLY, &x.t)) != 0)
		return device_store_error(rc, "export");
	if (for_dev != NULL && (rc = vec_load_peer(&skip, x.t, peer)) == 0)
		x.skip = &skip;
	if (rc == 0)
		rc = export_ordered(d, &x);	/* counts, for the header */
	if (rc == 0 && write_bundle(d, a->pos[0], &x) != 0) {
		rc = x.rc != 0 ? x.rc : 1;
		err = errno;
	}
	store_abort(x.t);
	vec_free(&skip);
	if (rc == 1)
		return fail("export: cannot write %s: %s", a->pos[0],
		    err == ENOSPC ? "the disk is full" : strerror(err));
	if (rc != 0)
		return device_store_error(rc, "export");
	printf("exported %llu %s to %s\n", (unsigned long long)x.count,
	    plural(x.count, "entry", "entries"), a->pos[0]);
	return 0;
}

struct import {
	struct progress	prog;
	uint64_t	added, held, skipped, kept, forked;
	uint8_t		bad_author[PROTO_IDLEN];
	uint64_t	bad_seq;
	uint64_t	newer;		/* entries of a newer envelope version */
	uint64_t	newer_version;
};

/* An entry of a newer envelope version: skipped with the rest of its
 * author's entries in this bundle, as the same entry by sync would be
 * (see proto.h); 0 if env is no such entry. */
static int
skip_newer(const uint8_t *env, size_t len, struct envelope *e,
    struct import *im)
{
	uint64_t v;

	if (proto_envelope_peek(env, len, &v, e->author, &e->seq) != 0 ||
	    v <= PROTO_VERSION)
		return 0;
	im->newer++;
	if (v > im->newer_version)
		im->newer_version = v;
	return 1;
}

/* A bundle read from its file as a stream, one envelope at a time. */
struct bundle_file {
	FILE		*f;
	struct bundle	 b;		/* the header's fields */
	uint64_t	 body;		/* bytes of entry frames */
	uint64_t	 left;		/* of them, not read yet */
	uint64_t	 seen;		/* entries read */
	struct bundle_mac mac;
	uint8_t		*env;		/* the current entry */
	size_t		 env_cap;
};

/* Reads exactly len bytes into p, or with p NULL through a small buffer,
 * adding them to the MAC. -1 on a short read. */
static int
bf_read(struct bundle_file *bf, uint8_t *p, uint64_t len)
{
	uint8_t chunk[4096];

	if (p != NULL) {
		if (fread(p, 1, (size_t)len, bf->f) != (size_t)len)
			return -1;
		bundle_mac_update(&bf->mac, p, (size_t)len);
		return 0;
	}
	while (len > 0) {
		size_t n = len < sizeof(chunk) ? (size_t)len : sizeof(chunk);

		if (fread(chunk, 1, n, bf->f) != n)
			return -1;
		bundle_mac_update(&bf->mac, chunk, n);
		len -= n;
	}
	return 0;
}

/* Checks the MAC over everything read since the header, and that the
 * file ends right after it: 0, or -2. */
static int
bf_check_mac(struct bundle_file *bf)
{
	uint8_t want[BUNDLE_MACLEN], got[BUNDLE_MACLEN];

	bundle_mac_final(&bf->mac, want);
	if (fread(got, 1, sizeof(got), bf->f) != sizeof(got) ||
	    fgetc(bf->f) != EOF || sodium_memcmp(want, got, sizeof(got)) != 0)
		return -2;
	return 0;
}

/* Rewinds to the first entry and starts the MAC afresh. */
static int
bf_rewind(struct bundle_file *bf, const uint8_t key[32])
{
	uint8_t hdr[BUNDLE_HEADER_LEN];

	if (fseeko(bf->f, 0, SEEK_SET) != 0 ||
	    fread(hdr, 1, sizeof(hdr), bf->f) != sizeof(hdr))
		return -1;
	bundle_mac_init(&bf->mac, key);
	bundle_mac_update(&bf->mac, hdr, sizeof(hdr));
	bf->left = bf->body;
	bf->seen = 0;
	return 0;
}

/* Walks the entry frames by their lengths alone (seeking past each
 * entry): each fits, and they fill the body. */
static int
bf_framing(struct bundle_file *bf)
{
	uint8_t be[4];
	size_t len;

	for (uint64_t i = 0; i < bf->b.count; i++) {
		if (bf->left < 4 || fread(be, 1, 4, bf->f) != 4 ||
		    bundle_frame_len(be, bf->left, &len) != 0 ||
		    fseeko(bf->f, (off_t)len, SEEK_CUR) != 0)
			return -1;
		bf->left -= 4 + len;
	}
	return bf->left == 0 ? 0 : -1;
}

#define BF_EREAD	(-4)	/* the file cannot be read: errno says why */

/*
 * Opens path and reads its header only: BF_EREAD if it cannot be read
 * (errno), -1 if it is not a bundle, -3 if of a newer version. Then reads
 * it once for the MAC (-2 if it does not match) and walks the framing (-1
 * if wrong). Leaves it at the first entry.
 */
static int
bf_open(struct bundle_file *bf, const char *path, const uint8_t key[32])
{
	uint8_t hdr[BUNDLE_HEADER_LEN];
	struct stat sb;
	int rc;

	memset(bf, 0, sizeof(*bf));
	if ((bf->f = fopen(path, "rb")) == NULL)
		return BF_EREAD;
	if (fstat(fileno(bf->f), &sb) != 0)
		return BF_EREAD;
	if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
		errno = EINVAL;
		return BF_EREAD;
	}
	setvbuf(bf->f, NULL, _IOFBF, BUNDLE_IO_BUF);
	if ((uint64_t)sb.st_size < BUNDLE_HEADER_LEN + BUNDLE_MACLEN ||
	    fread(hdr, 1, sizeof(hdr), bf->f) != sizeof(hdr))
		return -1;
	if ((rc = bundle_header_read(&bf->b, hdr)) != 0)
		return rc;	/* -3: a newer version, read no further */
	bf->body = (uint64_t)sb.st_size - BUNDLE_HEADER_LEN - BUNDLE_MACLEN;
	if (bf_rewind(bf, key) != 0 || bf_read(bf, NULL, bf->body) != 0)
		return -1;
	if (bf_check_mac(bf) != 0)
		return -2;
	if (bf->b.count > bf->body / 5 || bf_rewind(bf, key) != 0 ||
	    bf_framing(bf) != 0)
		return -1;
	return bf_rewind(bf, key);
}

static void
bf_close(struct bundle_file *bf)
{
	if (bf->f != NULL)
		fclose(bf->f);
	free(bf->env);
	memset(bf, 0, sizeof(*bf));
}

/* The next envelope: 1, 0 at the end, or -1 if the file no longer
 * matches what was checked (changed while being read). */
static int
bf_next(struct bundle_file *bf, const uint8_t **env, size_t *len)
{
	uint8_t be[4], *p;

	if (bf->seen == bf->b.count)
		return bf->left == 0 && bf_check_mac(bf) == 0 ? 0 : -1;
	if (bf->left < 4 || bf_read(bf, be, 4) != 0 ||
	    bundle_frame_len(be, bf->left, len) != 0)
		return -1;
	if (*len > bf->env_cap) {
		if ((p = realloc(bf->env, *len)) == NULL)
			return -1;
		bf->env = p;
		bf->env_cap = *len;
	}
	if (bf_read(bf, bf->env, *len) != 0)
		return -1;
	bf->left -= 4 + *len;
	bf->seen++;
	*env = bf->env;
	return 1;
}

/* Every IMPORT_TXN_ENTRIES entries or IMPORT_TXN_BYTES, what is applied
 * so far is committed (with the exporter's vector) and a new transaction
 * begun. */
static int
import_checkpoint(struct device *d, struct store_txn **t,
    const uint8_t *exporter_id, const struct vec *exporter,
    struct import *im)
{
	int rc;

	if ((rc = vec_save_peer(exporter, *t, exporter_id)) != 0) {
		store_abort(*t);
		*t = NULL;
		return rc;
	}
	rc = store_commit(*t);
	*t = NULL;
	if (rc == 0)
		im->kept = im->added;
	return rc != 0 ? rc : store_begin(d->st, 0, t);
}

static int
apply_entries(struct device *d, struct store_txn **tp, struct bundle_file *bf,
    struct import *im, struct vec *exporter,
    const struct store_keyring *netonly)
{
	const uint8_t *env;
	size_t len, bytes = 0, entries = 0;
	int rc, more;
	uint8_t author[PROTO_IDLEN], newer[PROTO_IDLEN];
	uint64_t limit = 0;	/* the author's last seq applied */
	int have_newer = 0, keep = 0;

	memset(author, 0, sizeof(author));
	while ((more = bf_next(bf, &env, &len)) == 1) {
		struct store_txn *t = *tp;
		struct envelope e;

		if (proto_envelope_decode(&e, env, len) != 0) {
			if (!skip_newer(env, len, &e, im))
				return STORE_EBADENTRY;
			memcpy(newer, e.author, PROTO_IDLEN);
			have_newer = 1;
			continue;
		}
		if (have_newer && memcmp(newer, e.author, PROTO_IDLEN) == 0) {
			im->newer++;
			continue;
		}
		memcpy(im->bad_author, e.author, PROTO_IDLEN);
		im->bad_seq = e.seq;
		/* Bundles list the devices that add others first, so each
		 * author's membership is known when its entries come. A
		 * removed device's entries past its cut-off are refused. */
		if (memcmp(author, e.author, PROTO_IDLEN) != 0) {
			memcpy(author, e.author, PROTO_IDLEN);
			limit = team_limit(d, t, author, &keep);
		}
		if (e.seq > limit && !keep) {
			im->skipped++;
			continue;
		}
		rc = store_apply_entry(t, e.seq > limit ? netonly : d->keyring,
		    env, len, 1);
		if (rc == 0)
			rc = clock_note_received(t, &e, now_ms());
		if (rc == STORE_EDUP)
			im->held++;
		else if (rc == STORE_EFORK)
			im->forked++;	/* that author's branch: not applied */
		else if (rc != 0)
			return rc;
		else
			im->added++;
		if (vec_raise(exporter, e.author, e.seq, NULL) != 0)
			return STORE_ENOMEM;
		progress_show(&im->prog, bf->seen, bf->body - bf->left,
		    (int64_t)bf->left, "bytes");
		if ((bytes += len) >= IMPORT_TXN_BYTES ||
		    ++entries >= IMPORT_TXN_ENTRIES) {
			bytes = entries = 0;
			if (im->forked > 0 && (rc = store_fork_settle(*tp,
			    d->keyring)) != 0)
				return rc;
			if ((rc = import_checkpoint(d, tp, bf->b.exporter,
			    exporter, im)) != 0)
				return rc;
		}
	}
	if (more != 0)
		return IMPORT_ECHANGED;
	return im->forked > 0 ? store_fork_settle(*tp, d->keyring) : 0;
}

/* A removed admin's entries past its cut-off are applied with netonly:
 * stored, their membership changes read, their content not applied. */
static int
apply_bundle(struct device *d, struct store_txn **tp, struct bundle_file *bf,
    struct import *im, struct vec *exporter)
{
	struct store_keyring *netonly = team_network_keyring(d);
	int rc;

	if (netonly == NULL)
		return STORE_ENOMEM;
	rc = apply_entries(d, tp, bf, im, exporter, netonly);
	sodium_free(netonly);
	return rc;
}

static int
import_error(const char *path, int rc, const struct import *im)
{
	char hex[2 * PROTO_IDLEN + 1], kept[96] = "nothing was applied";

	if (im->kept > 0)
		snprintf(kept, sizeof(kept), "the %llu new %s before it "
		    "%s kept", (unsigned long long)im->kept, plural(im->kept,
		    "entry", "entries"), plural(im->kept, "was", "were"));
	sodium_bin2hex(hex, sizeof(hex), im->bad_author, PROTO_IDLEN);
	if (rc == IMPORT_ECHANGED)
		return fail("import: %s changed while it was read; %s", path,
		    kept);
	if (rc == STORE_EGAP)
		return fail_usage("import: %s starts after what this device "
		    "holds from %.12s (seq %llu); %s; ask for a bundle made "
		    "without --for", path, hex,
		    (unsigned long long)im->bad_seq, kept);
	if (rc == STORE_EBADENTRY)
		return fail_usage("import: %s: entry %.12s:%llu refused (%s); "
		    "%s", path, hex, (unsigned long long)im->bad_seq,
		    store_strerror(rc), kept);
	return device_store_error(rc, "import");
}

/* Refusals of the file itself: exit 2, nothing read past what decided. */
static int
open_error(const char *path, int rc, const struct bundle_file *bf,
    const struct device *d)
{
	if (rc == BF_EREAD)
		return fail_usage("import: cannot read %s: %s", path,
		    errno == EINVAL ? "empty or not a file" : strerror(errno));
	if (rc == -3)
		return fail_usage("import: %s is a bundle of format version %u, "
		    "newer than this Satchel reads (%u); upgrade Satchel on "
		    "this device to import it; nothing was applied", path,
		    (unsigned)bf->b.version, (unsigned)BUNDLE_VERSION);
	if (rc == -2 && memcmp(bf->b.team_id, d->team_id, 16) != 0)
		return fail_usage("import: %s is from another team; nothing "
		    "was applied", path);
	if (rc == -2)
		return fail_usage("import: %s is damaged (its checksum does "
		    "not match); nothing was applied", path);
	return fail_usage("import: %s is not a Satchel bundle, or is cut "
	    "short; nothing was applied", path);
}

/* A bundle made under the previous key epoch's network key (by a member
 * that had not heard of the new one) is taken while that key is; its
 * entries then go through the same membership check. */
static int
bf_open_prev(const struct device *d, struct bundle_file *bf,
    const char *path, uint8_t key[32])
{
	struct store_key prev;
	int rc = -2;

	for (size_t i = 0; rc == -2 && epoch_grace_key(d, now_ms(), i,
	    &prev); i++) {
		bundle_key_of(prev.key, key);
		bf_close(bf);
		rc = bf_open(bf, path, key);
	}
	sodium_memzero(&prev, sizeof(prev));
	return rc;
}

int
cmd_import(struct device *d, struct args *a)
{
	struct import im = { 0 };
	struct vec exporter = { 0 };
	struct bundle_file bf;
	struct store_txn *t;
	const char *path = a->pos[0];
	uint8_t key[32];
	int rc;

	if (d->network == NULL)
		return fail_usage("import: this device has not joined a team");
	bundle_key_of(d->network->key, key);
	rc = bf_open(&bf, path, key);
	if (rc == -2 && memcmp(bf.b.team_id, d->team_id, 16) == 0)
		rc = bf_open_prev(d, &bf, path, key);
	if (rc != 0) {
		rc = open_error(path, rc, &bf, d);
		bf_close(&bf);
		sodium_memzero(key, sizeof(key));
		return rc;
	}
	if ((rc = store_begin(d->st, 0, &t)) != 0) {
		bf_close(&bf);
		sodium_memzero(key, sizeof(key));
		return device_store_error(rc, "import");
	}
	progress_start(&im.prog, "import", d->json);
	if ((rc = vec_load_peer(&exporter, t, bf.b.exporter)) == 0 &&
	    (rc = apply_bundle(d, &t, &bf, &im, &exporter)) == 0 &&
	    (rc = vec_save_peer(&exporter, t, bf.b.exporter)) == 0) {
		rc = store_commit(t);
		t = NULL;
	}
	if (rc != 0)
		im.prog.json = 0;	/* no "done": the error says why */
	progress_end(&im.prog, bf.seen, bf.body - bf.left);
	if (t != NULL)
		store_abort(t);
	vec_free(&exporter);
	bf_close(&bf);
	sodium_memzero(key, sizeof(key));
	if (rc != 0)
		return import_error(path, rc, &im);
	if (im.added > 0 && ((rc = epoch_refresh(d)) != 0 ||
	    (rc = epoch_heal(d)) < 0 || (rc = erase_refresh(d)) != 0))
		return device_store_error(rc, "import");
	if (!d->json)
		printf("imported %llu new %s from %s (%llu already held)\n",
		    (unsigned long long)im.added, plural(im.added, "entry",
		    "entries"), path, (unsigned long long)im.held);
	if (im.forked > 0)
		fprintf(stderr, "import: refused %llu %s of a forked "
		    "device's log; everything else was applied (see satchel "
		    "status)\n", (unsigned long long)im.forked,
		    plural(im.forked, "entry", "entries"));
	if (im.skipped > 0)
		fprintf(stderr, "import: skipped %llu %s by devices that "
		    "are not members of this team\n",
		    (unsigned long long)im.skipped, plural(im.skipped, "entry",
		    "entries"));
	if (im.newer > 0)
		fprintf(stderr, "import: skipped %llu %s written by a "
		    "newer Satchel (envelope version %llu; this one reads %d); "
		    "upgrade Satchel on this device to take them\n",
		    (unsigned long long)im.newer, plural(im.newer, "entry",
		    "entries"),
		    (unsigned long long)im.newer_version, PROTO_VERSION);
	return 0;
}
