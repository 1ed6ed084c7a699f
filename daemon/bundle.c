/*
 * export and import: entries carried by a file, for schools where the
 * network between buildings is a USB stick. A bundle is checked whole
 * (its MAC, under a key only team members hold) before any entry is
 * looked at, then applied in one transaction with every chain and
 * signature verified: all of it or none of it.
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

void
bundle_key(const struct device *d, uint8_t out[32])
{
	static const uint8_t label[] = "satchel bundle mac v1";

	crypto_generichash(out, 32, label, sizeof(label) - 1,
	    d->network->key, PROTO_KEYLEN);
}

struct export {
	struct store_txn *t;
	const struct vec *skip;		/* what the receiver already has */
	msgpack_sbuffer	 out;
	uint64_t	 count;
	int		 rc;
};

static int
export_author(const uint8_t *author, uint64_t head, const uint8_t *hash,
    void *arg)
{
	struct export *x = arg;
	uint64_t from = x->skip ? vec_seq(x->skip, author) : 0;

	(void)hash;
	for (uint64_t seq = from + 1; seq <= head; seq++) {
		const uint8_t *env;
		size_t len;
		uint8_t be[4];

		if ((x->rc = store_log_get(x->t, author, seq, &env,
		    &len)) != 0)
			return 1;
		for (int i = 0; i < 4; i++)
			be[i] = (uint8_t)(len >> (24 - 8 * i));
		if (msgpack_sbuffer_write(&x->out, (const char *)be, 4) != 0 ||
		    msgpack_sbuffer_write(&x->out, (const char *)env,
		    len) != 0) {
			x->rc = STORE_ENOMEM;
			return 1;
		}
		x->count++;
	}
	return 0;
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
	for (size_t i = 0; i < heads.n && x->rc == 0; i++)
		export_author(heads.items[order[i]].author,
		    heads.items[order[i]].seq, heads.items[order[i]].hash, x);
	free(order);
	vec_free(&heads);
	return x->rc;
}

static int
write_bundle(struct device *d, const char *path, struct export *x)
{
	uint8_t header[BUNDLE_HEADER_LEN], mac[BUNDLE_MACLEN], key[32];
	msgpack_sbuffer file;
	int rc;

	msgpack_sbuffer_init(&file);
	bundle_header(header, d->team_id, d->id, x->count);
	bundle_key(d, key);
	rc = -1;
	errno = ENOMEM;
	if (msgpack_sbuffer_write(&file, (const char *)header,
	    sizeof(header)) == 0 && msgpack_sbuffer_write(&file, x->out.data,
	    x->out.size) == 0) {
		bundle_mac(mac, key, (const uint8_t *)file.data, file.size);
		if (msgpack_sbuffer_write(&file, (const char *)mac,
		    sizeof(mac)) == 0)
			rc = write_file_atomic(path, file.data, file.size,
			    0600);
	}
	sodium_memzero(key, sizeof(key));
	msgpack_sbuffer_destroy(&file);
	return rc;
}

int
cmd_export(struct device *d, struct args *a)
{
	struct export x;
	struct vec skip = { 0 };
	uint8_t peer[PROTO_IDLEN];
	const char *for_dev = args_get(a, "for");
	int rc;

	if (d->network == NULL)
		return fail_usage("export: this device has not joined a team");
	if (for_dev != NULL && (rc = devid_arg("export --for", for_dev,
	    DEVID_ANY, peer)) != 0)
		return rc;
	memset(&x, 0, sizeof(x));
	msgpack_sbuffer_init(&x.out);
	if ((rc = store_begin(d->st, STORE_RDONLY, &x.t)) != 0)
		return device_store_error(rc, "export");
	if (for_dev != NULL && (rc = vec_load_peer(&skip, x.t, peer)) == 0)
		x.skip = &skip;
	if (rc == 0)
		rc = export_ordered(d, &x);
	store_abort(x.t);
	vec_free(&skip);
	if (rc != 0) {
		msgpack_sbuffer_destroy(&x.out);
		return device_store_error(rc, "export");
	}
	rc = write_bundle(d, a->pos[0], &x);
	msgpack_sbuffer_destroy(&x.out);
	if (rc != 0)
		return fail("export: cannot write %s: %s", a->pos[0],
		    strerror(errno));
	printf("exported %llu entries to %s\n", (unsigned long long)x.count,
	    a->pos[0]);
	return 0;
}

struct import {
	uint64_t	added, held, skipped;
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

static int
apply_bundle(struct device *d, struct store_txn *t, struct bundle *b,
    struct import *im, struct vec *exporter)
{
	const uint8_t *env;
	size_t len;
	int rc;

	uint8_t author[PROTO_IDLEN], newer[PROTO_IDLEN];
	int member = 0, have_newer = 0;

	memset(author, 0, sizeof(author));
	while (bundle_next(b, &env, &len)) {
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
		 * author's membership is known when its entries come. */
		if (memcmp(author, e.author, PROTO_IDLEN) != 0) {
			memcpy(author, e.author, PROTO_IDLEN);
			member = team_is_member(d, t, author, NULL);
		}
		if (!member) {
			im->skipped++;
			continue;
		}
		rc = store_apply_entry(t, d->keyring, env, len, 1);
		if (rc == 0)
			rc = clock_note_received(t, env, len, now_ms());
		if (rc == STORE_EDUP)
			im->held++;
		else if (rc != 0)
			return rc;
		else
			im->added++;
		if (vec_raise(exporter, e.author, e.seq, NULL) != 0)
			return STORE_ENOMEM;
	}
	return 0;
}

static int
import_error(const char *path, int rc, const struct import *im)
{
	char hex[2 * PROTO_IDLEN + 1];

	sodium_bin2hex(hex, sizeof(hex), im->bad_author, PROTO_IDLEN);
	if (rc == STORE_EGAP)
		return fail_usage("import: %s starts after what this device "
		    "holds from %.12s (seq %llu); nothing was applied; ask for "
		    "a bundle made without --for", path, hex,
		    (unsigned long long)im->bad_seq);
	if (rc == STORE_EBADENTRY || rc == STORE_EFORK)
		return fail_usage("import: %s: entry %.12s:%llu refused (%s); "
		    "nothing was applied", path, hex,
		    (unsigned long long)im->bad_seq, store_strerror(rc));
	return device_store_error(rc, "import");
}

static int
import_buffer(struct device *d, const char *path, const uint8_t *buf,
    size_t len)
{
	struct import im = { 0 };
	struct vec exporter = { 0 };
	struct store_txn *t;
	struct bundle b;
	uint8_t key[32];
	int rc;

	bundle_key(d, key);
	rc = bundle_open(&b, buf, len, key);
	if (rc == -2 && memcmp(b.team_id, d->team_id, 16) != 0)
		return fail_usage("import: %s is from another team; nothing "
		    "was applied", path);
	if (rc == -2)
		return fail_usage("import: %s is damaged (its checksum does "
		    "not match); nothing was applied", path);
	if (rc == -3)
		return fail_usage("import: %s is a bundle of format version %u, "
		    "newer than this Satchel reads (%u); upgrade Satchel on "
		    "this device to import it; nothing was applied", path,
		    (unsigned)b.version, (unsigned)BUNDLE_VERSION);
	if (rc != 0)
		return fail_usage("import: %s is not a Satchel bundle, or is "
		    "cut short; nothing was applied", path);
	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return device_store_error(rc, "import");
	if ((rc = vec_load_peer(&exporter, t, b.exporter)) == 0 &&
	    (rc = apply_bundle(d, t, &b, &im, &exporter)) == 0 &&
	    (rc = vec_save_peer(&exporter, t, b.exporter)) == 0)
		rc = store_commit(t);
	else
		store_abort(t);
	vec_free(&exporter);
	if (rc != 0)
		return import_error(path, rc, &im);
	printf("imported %llu new entries from %s (%llu already held)\n",
	    (unsigned long long)im.added, path, (unsigned long long)im.held);
	if (im.skipped > 0)
		fprintf(stderr, "import: skipped %llu entries by devices that "
		    "are not members of this team\n",
		    (unsigned long long)im.skipped);
	if (im.newer > 0)
		fprintf(stderr, "import: skipped %llu entries written by a "
		    "newer Satchel (envelope version %llu; this one reads %d); "
		    "upgrade Satchel on this device to take them\n",
		    (unsigned long long)im.newer,
		    (unsigned long long)im.newer_version, PROTO_VERSION);
	return 0;
}

/* Reads the whole file into memory: a file read once and checked whole,
 * never mapped, so a USB stick pulled mid-import is an error, not a
 * crash. Returns a new buffer; the caller frees it. */
static uint8_t *
read_whole(const char *path, size_t *len)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	if (fstat(fd, &sb) == 0 && (!S_ISREG(sb.st_mode) || sb.st_size == 0))
		errno = EINVAL;
	else if (fstat(fd, &sb) == 0)
		buf = malloc((size_t)sb.st_size);
	if (buf == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* the file shrank */
			free(buf);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

int
cmd_import(struct device *d, struct args *a)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (d->network == NULL)
		return fail_usage("import: this device has not joined a team");
	if ((buf = read_whole(a->pos[0], &len)) == NULL)
		return fail_usage("import: cannot read %s: %s", a->pos[0],
		    errno == EINVAL ? "empty or not a file" : strerror(errno));
	rc = import_buffer(d, a->pos[0], buf, len);
	free(buf);
	return rc;
}
