/*
 * How the log table holds entries: in segments, each a run of one
 * author's consecutive entries back to back,
 *
 *	log	author[32] first_seq[8 BE] -> (len[4 BE] envelope)...
 *
 * the segment's entries being first_seq, first_seq + 1, and so on. An
 * author's last segment takes each new entry until it is about SEG_MIN
 * bytes and the next would spill into a page more; then a new one
 * starts.
 *
 * Why: an entry of ~1.4 KB to a key fills a 4 KB page two to a page, and
 * keys of many authors (a box) are inserted mid-tree, where pages split
 * in half: 1.35 entries per page. A segment of tens of KB is one value
 * in overflow pages, which LMDB allocates to size and never splits, and
 * the leaves hold a small node per segment: a log takes about its
 * payload on disk, whatever order its authors' entries arrive in. The
 * cost is that adding an entry rewrites its author's last segment, at
 * most SEG_MIN bytes more in the transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

#define SEG_KEYLEN	(PROTO_IDLEN + 8)
#define SEG_MIN		(16 * 1024)
#define SEG_PAGE	4096	/* LMDB's page on the machines we know */
#define SEG_OVHDR	16	/* an overflow run's page header */
#define ENTRY_HDR	4

static void
seg_key(uint8_t key[SEG_KEYLEN], const uint8_t *author, uint64_t seq)
{
	memcpy(key, author, PROTO_IDLEN);
	be64_put(key + PROTO_IDLEN, seq);
}

static uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The n-th entry of a segment (0 is its first), borrowed from it;
 * STORE_ENOTFOUND past its end, STORE_EIO if it is damaged. */
static int
seg_entry(const uint8_t *v, size_t vlen, uint64_t n, const uint8_t **env,
    size_t *len)
{
	size_t at = 0;
	uint32_t l;

	for (;;) {
		if (at == vlen)
			return STORE_ENOTFOUND;
		if (vlen - at < ENTRY_HDR ||
		    (l = be32_get(v + at)) > vlen - at - ENTRY_HDR)
			return STORE_EIO;
		if (n-- == 0)
			break;
		at += ENTRY_HDR + l;
	}
	*env = v + at + ENTRY_HDR;
	*len = l;
	return STORE_OK;
}

/* The segment that holds or would hold (author, seq); borrowed. */
static int
seg_find(struct store_txn *t, const uint8_t *author, uint64_t seq,
    uint64_t *first, const uint8_t **v, size_t *vlen)
{
	uint8_t key[SEG_KEYLEN];
	const uint8_t *k;
	size_t kl;
	int rc;

	seg_key(key, author, seq);
	if ((rc = store_seek_le(t, TABLE_LOG, key, sizeof(key), &k, &kl, v,
	    vlen)) != 0)
		return rc;
	if (kl != SEG_KEYLEN || memcmp(k, author, PROTO_IDLEN) != 0)
		return STORE_ENOTFOUND;
	*first = be64_get(k + PROTO_IDLEN);
	return STORE_OK;
}

int
store_log_get(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t **env, size_t *len)
{
	const uint8_t *v;
	uint64_t first;
	size_t vlen;
	int rc;

	if ((rc = seg_find(t, author, seq, &first, &v, &vlen)) != 0)
		return rc;
	return seg_entry(v, vlen, seq - first, env, len);
}

static size_t
seg_pages(size_t len)
{
	return (len + SEG_OVHDR + SEG_PAGE - 1) / SEG_PAGE;
}

/* The number of entries in a segment, or -1 if it is damaged. */
static long
seg_count(const uint8_t *v, size_t vlen)
{
	size_t at = 0;
	long n = 0;
	uint32_t l;

	while (at < vlen) {
		if (vlen - at < ENTRY_HDR ||
		    (l = be32_get(v + at)) > vlen - at - ENTRY_HDR)
			return -1;
		at += ENTRY_HDR + l;
		n++;
	}
	return n;
}

static void
entry_put(uint8_t *p, const uint8_t *env, size_t len)
{
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	memcpy(p + ENTRY_HDR, env, len);
}

/* 1 if a segment of vlen bytes takes an entry of add bytes more. */
static int
seg_fits(size_t vlen, size_t add)
{
	return vlen + add <= SEG_MIN || seg_pages(vlen + add) == seg_pages(vlen);
}

/* Adds (author, seq), the entry after the author's last one held. */
int
log_append(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t *env, size_t len)
{
	uint8_t key[SEG_KEYLEN], *buf;
	const uint8_t *v;
	uint64_t first;
	size_t vlen, add = ENTRY_HDR + len;
	long n;
	int rc;

	if (len > UINT32_MAX - ENTRY_HDR)
		return STORE_EBADENTRY;
	rc = seg_find(t, author, seq, &first, &v, &vlen);
	if (rc == 0 && ((n = seg_count(v, vlen)) < 0 ||
	    first + (uint64_t)n != seq))
		return STORE_EIO;	/* not the author's next entry */
	if (rc == STORE_ENOTFOUND || (rc == 0 && !seg_fits(vlen, add))) {
		if ((buf = malloc(add)) == NULL)
			return STORE_ENOMEM;
		entry_put(buf, env, len);
		seg_key(key, author, seq);
		rc = store_put_append(t, TABLE_LOG, key, sizeof(key), buf,
		    add);
		free(buf);
		return rc;
	}
	if (rc != 0)
		return rc;
	if ((buf = malloc(vlen + add)) == NULL)
		return STORE_ENOMEM;
	memcpy(buf, v, vlen);	/* v goes as the segment is rewritten */
	entry_put(buf + vlen, env, len);
	seg_key(key, author, first);
	rc = store_put(t, TABLE_LOG, key, sizeof(key), buf, vlen + add);
	free(buf);
	return rc;
}

/* Writes env over the entry (author, seq), which must be as long: the
 * tests' tools make a newer envelope of one this way. */
int
log_rewrite(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t *env, size_t len)
{
	uint8_t key[SEG_KEYLEN], *buf;
	const uint8_t *v, *old;
	uint64_t first;
	size_t vlen, olen;
	int rc;

	if ((rc = seg_find(t, author, seq, &first, &v, &vlen)) != 0 ||
	    (rc = seg_entry(v, vlen, seq - first, &old, &olen)) != 0)
		return rc;
	if (olen != len)
		return STORE_EBADENTRY;
	if ((buf = malloc(vlen)) == NULL)
		return STORE_ENOMEM;
	memcpy(buf, v, vlen);
	memcpy(buf + (old - v), env, len);
	seg_key(key, author, first);
	rc = store_put(t, TABLE_LOG, key, sizeof(key), buf, vlen);
	free(buf);
	return rc;
}

struct seg_walk {
	log_scan_fn	 fn;
	void		*arg;
	int		 rc;
};

static int
seg_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct seg_walk *w = arg;
	const uint8_t *env;
	uint64_t seq;
	size_t len;

	if (klen != SEG_KEYLEN) {
		w->rc = STORE_EIO;
		return 1;
	}
	seq = be64_get(k + PROTO_IDLEN);
	for (uint64_t n = 0;; n++) {
		if ((w->rc = seg_entry(v, vlen, n, &env, &len)) != 0) {
			if (w->rc == STORE_ENOTFOUND)
				w->rc = n > 0 ? STORE_OK : STORE_EIO;
			return w->rc != 0;
		}
		/* seg_entry walks from the start: fine for ~20 entries. */
		if (w->fn(k, seq + n, env, len, w->arg) != 0)
			return 1;
	}
}

/* Calls fn with every entry held, author by author in seq order; fn
 * returns nonzero to stop. */
int
log_scan(struct store_txn *t, log_scan_fn fn, void *arg)
{
	struct seg_walk w = { fn, arg, 0 };
	int rc = store_scan(t, TABLE_LOG, NULL, 0, 0, seg_cb, &w);

	return rc != 0 ? rc : w.rc;
}

/*
 * The migration from a log of one key per entry (store version 2): each
 * author's entries 1 to its head, read by their old keys, become
 * segments as log_append would have made them. In the migration's
 * transaction, so a kill leaves the old layout whole.
 */
struct reseg {
	uint8_t		 author[PROTO_IDLEN];
	uint64_t	 head;
};

static int
reseg_heads_cb(const uint8_t *author, uint64_t seq, const uint8_t *hash,
    void *arg)
{
	struct reseg **list = arg;
	size_t n = 0;
	struct reseg *x;

	(void)hash;
	while ((*list)[n].head != 0)
		n++;
	if ((x = realloc(*list, (n + 2) * sizeof(*x))) == NULL)
		return 1;
	*list = x;
	memcpy(x[n].author, author, PROTO_IDLEN);
	x[n].head = seq;
	x[n + 1].head = 0;
	return 0;
}

/* Writes the segment of entries first..last held in buf (len bytes). */
static int
reseg_flush(struct store_txn *t, const uint8_t *author, uint64_t first,
    uint64_t last, const uint8_t *buf, size_t len)
{
	uint8_t key[SEG_KEYLEN];
	int rc;

	for (uint64_t s = first + 1; s <= last; s++) {
		seg_key(key, author, s);
		if ((rc = store_del(t, TABLE_LOG, key, sizeof(key))) != 0)
			return rc;
	}
	seg_key(key, author, first);
	return store_put(t, TABLE_LOG, key, sizeof(key), buf, len);
}

static int
reseg_author(struct store_txn *t, const struct reseg *a, uint8_t **buf,
    size_t *cap)
{
	uint8_t key[SEG_KEYLEN];
	const void *v;
	uint64_t first = 1;
	size_t len = 0, vlen;
	int rc;

	for (uint64_t s = 1; s <= a->head; s++) {
		seg_key(key, a->author, s);
		if ((rc = store_get(t, TABLE_LOG, key, sizeof(key), &v,
		    &vlen)) != 0)
			return rc == STORE_ENOTFOUND ? STORE_EIO : rc;
		if (len > 0 && !seg_fits(len, ENTRY_HDR + vlen)) {
			if ((rc = reseg_flush(t, a->author, first, s - 1, *buf,
			    len)) != 0)
				return rc;
			seg_key(key, a->author, s);	/* v moved: read again */
			if ((rc = store_get(t, TABLE_LOG, key, sizeof(key), &v,
			    &vlen)) != 0)
				return rc;
			first = s;
			len = 0;
		}
		if (len + ENTRY_HDR + vlen > *cap) {
			uint8_t *x = realloc(*buf, len + ENTRY_HDR + vlen);

			if (x == NULL)
				return STORE_ENOMEM;
			*buf = x;
			*cap = len + ENTRY_HDR + vlen;
		}
		entry_put(*buf + len, v, vlen);
		len += ENTRY_HDR + vlen;
	}
	return len > 0 ? reseg_flush(t, a->author, first, a->head, *buf, len) :
	    STORE_OK;
}

int
log_resegment(struct store_txn *t)
{
	struct reseg *list = calloc(1, sizeof(*list));
	uint8_t *buf = NULL;
	size_t cap = 0;
	int rc;

	if (list == NULL)
		return STORE_ENOMEM;
	rc = store_heads_each(t, reseg_heads_cb, &list);
	for (size_t i = 0; rc == 0 && list[i].head != 0; i++)
		rc = reseg_author(t, &list[i], &buf, &cap);
	free(buf);
	free(list);
	return rc;
}
