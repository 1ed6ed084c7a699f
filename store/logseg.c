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

/* The segment that holds or would hold (author, seq), as LMDB holds
 * it; borrowed. */
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

/*
 * A write transaction's pending tails. Writing a segment back for each
 * entry appended copied up to SEG_MIN bytes into new overflow pages per
 * entry (and freed the old ones); instead each author's last segment is
 * kept here, in memory, from its first append in the transaction, and
 * written once: when it is full, when the author's log is walked or
 * rewritten, or by log_flush just before the transaction commits
 * (store_commit). Reads (store_log_get) look here first, so the
 * transaction sees its own entries; an aborted transaction frees them
 * and LMDB never saw them. Nothing here outlives its transaction, so
 * what is on disk after a commit is exactly what it was before.
 *
 * At most PEND_MAX authors are kept; the least recently appended one
 * is written out to make room. A buffer that stops being an author's
 * tail other than by that author's next append is kept until the
 * transaction ends, so an entry store_log_get lent stays readable as
 * long as store.h promises.
 */
#define PEND_MAX	64

struct seg_pend {
	uint8_t		 author[PROTO_IDLEN];
	uint64_t	 first;		/* the segment's first seq */
	uint64_t	 next;		/* the seq the next entry must have */
	uint8_t		*buf;		/* the whole segment */
	size_t		 len, cap;
	int		 dirty;		/* not yet written to LMDB */
	unsigned long	 used;		/* when last appended to */
};

struct log_pend {
	struct seg_pend	 tails[PEND_MAX];
	size_t		 n;
	unsigned long	 clock;
	uint8_t		**retired;	/* buffers freed with the pend */
	size_t		 nretired;
};

static struct seg_pend *
pend_find(struct store_txn *t, const uint8_t *author)
{
	struct log_pend *lp = t->pend;

	for (size_t i = 0; lp != NULL && i < lp->n; i++)
		if (memcmp(lp->tails[i].author, author, PROTO_IDLEN) == 0)
			return &lp->tails[i];
	return NULL;
}

/* Keeps buf until the transaction ends (store_log_get may have lent a
 * pointer into it); frees it at once if it cannot. */
static void
pend_retire(struct log_pend *lp, uint8_t *buf)
{
	uint8_t **x;

	if (buf == NULL)
		return;
	x = realloc(lp->retired, (lp->nretired + 1) * sizeof(*x));
	if (x == NULL) {
		free(buf);	/* nothing may be lent from it: see store.h */
		return;
	}
	lp->retired = x;
	lp->retired[lp->nretired++] = buf;
}

static int
pend_write(struct store_txn *t, struct seg_pend *p)
{
	uint8_t key[SEG_KEYLEN];
	int rc;

	if (!p->dirty)
		return STORE_OK;
	seg_key(key, p->author, p->first);
	if ((rc = store_put_append(t, TABLE_LOG, key, sizeof(key), p->buf,
	    p->len)) == 0)
		p->dirty = 0;
	return rc;
}

/* Room in p for a segment of need bytes, the most seg_fits lets one
 * segment grow to being reserved at once. */
static int
pend_reserve(struct log_pend *lp, struct seg_pend *p, size_t need)
{
	size_t cap = seg_pages(need > SEG_MIN ? need : SEG_MIN) * SEG_PAGE;
	uint8_t *b;

	if (need <= p->cap)
		return STORE_OK;
	if ((b = malloc(cap)) == NULL)
		return STORE_ENOMEM;
	if (p->len > 0)
		memcpy(b, p->buf, p->len);
	pend_retire(lp, p->buf);
	p->buf = b;
	p->cap = cap;
	return STORE_OK;
}

/* A slot for author: a free one, or the least recently used one's,
 * written out first. */
static int
pend_slot(struct store_txn *t, const uint8_t *author, struct seg_pend **out)
{
	struct log_pend *lp = t->pend;
	struct seg_pend *p;
	int rc;

	if (lp == NULL) {
		if ((lp = calloc(1, sizeof(*lp))) == NULL)
			return STORE_ENOMEM;
		t->pend = lp;
	}
	if (lp->n < PEND_MAX)
		p = &lp->tails[lp->n++];
	else {
		p = &lp->tails[0];
		for (size_t i = 1; i < lp->n; i++)
			if (lp->tails[i].used < p->used)
				p = &lp->tails[i];
		if ((rc = pend_write(t, p)) != 0)
			return rc;
		pend_retire(lp, p->buf);
	}
	memset(p, 0, sizeof(*p));
	memcpy(p->author, author, PROTO_IDLEN);
	*out = p;
	return STORE_OK;
}

/* Makes author's tail pending, as LMDB holds it; seq is the entry to
 * be appended next. */
static int
pend_load(struct store_txn *t, const uint8_t *author, uint64_t seq,
    struct seg_pend **out)
{
	const uint8_t *v = NULL;
	struct seg_pend *p;
	uint64_t first = seq;
	size_t vlen = 0, cap;
	uint8_t *buf;
	long n;
	int rc;

	rc = seg_find(t, author, seq, &first, &v, &vlen);
	if (rc == 0 && ((n = seg_count(v, vlen)) < 0 ||
	    first + (uint64_t)n != seq))
		return STORE_EIO;	/* not the author's next entry */
	if (rc == STORE_ENOTFOUND) {
		first = seq;
		vlen = 0;
	} else if (rc != 0)
		return rc;
	/* v is LMDB's until the next write: copied before pend_slot's. */
	cap = seg_pages(vlen > SEG_MIN ? vlen : SEG_MIN) * SEG_PAGE;
	if ((buf = malloc(cap)) == NULL)
		return STORE_ENOMEM;
	if (vlen > 0)
		memcpy(buf, v, vlen);
	if ((rc = pend_slot(t, author, &p)) != 0) {
		free(buf);
		return rc;
	}
	p->first = first;
	p->next = seq;
	p->buf = buf;
	p->len = vlen;
	p->cap = cap;
	*out = p;
	return STORE_OK;
}

/* Writes every pending tail to LMDB: before the transaction commits, or
 * a walk of the table. They stay as the transaction's cache. */
int
log_flush(struct store_txn *t)
{
	struct log_pend *lp = t->pend;
	int rc;

	for (size_t i = 0; lp != NULL && i < lp->n; i++)
		if ((rc = pend_write(t, &lp->tails[i])) != 0)
			return rc;
	return STORE_OK;
}

void
log_pend_free(struct store_txn *t)
{
	struct log_pend *lp = t->pend;

	if (lp == NULL)
		return;
	for (size_t i = 0; i < lp->n; i++)
		free(lp->tails[i].buf);
	for (size_t i = 0; i < lp->nretired; i++)
		free(lp->retired[i]);
	free(lp->retired);
	free(lp);
	t->pend = NULL;
}

int
store_log_get(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t **env, size_t *len)
{
	struct seg_pend *p = pend_find(t, author);
	const uint8_t *v;
	uint64_t first;
	size_t vlen;
	int rc;

	if (p != NULL && seq >= p->first) {
		if (seq >= p->next)
			return STORE_ENOTFOUND;
		return seg_entry(p->buf, p->len, seq - p->first, env, len);
	}
	if ((rc = seg_find(t, author, seq, &first, &v, &vlen)) != 0)
		return rc;
	return seg_entry(v, vlen, seq - first, env, len);
}

/* Adds (author, seq), the entry after the author's last one held. */
int
log_append(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t *env, size_t len)
{
	struct seg_pend *p = pend_find(t, author);
	size_t add = ENTRY_HDR + len;
	int rc;

	if (len > UINT32_MAX - ENTRY_HDR)
		return STORE_EBADENTRY;
	if (p == NULL && (rc = pend_load(t, author, seq, &p)) != 0)
		return rc;
	if (p->next != seq)
		return STORE_EIO;	/* not the author's next entry */
	if (p->len > 0 && !seg_fits(p->len, add)) {
		/* Full: written once, and a new segment starts at seq in
		 * the same buffer (what was lent from it may go now). */
		if ((rc = pend_write(t, p)) != 0)
			return rc;
		p->len = 0;
		p->first = seq;
	}
	if ((rc = pend_reserve(t->pend, p, p->len + add)) != 0)
		return rc;
	entry_put(p->buf + p->len, env, len);
	p->len += add;
	p->next = seq + 1;
	p->dirty = 1;
	p->used = ++t->pend->clock;
	return STORE_OK;
}

/* Drops author's pending tail after writing it: what follows reads and
 * writes LMDB. */
static int
pend_drop(struct store_txn *t, const uint8_t *author)
{
	struct seg_pend *p = pend_find(t, author);
	struct log_pend *lp = t->pend;
	int rc;

	if (p == NULL)
		return STORE_OK;
	if ((rc = pend_write(t, p)) != 0)
		return rc;
	pend_retire(lp, p->buf);
	*p = lp->tails[--lp->n];
	return STORE_OK;
}

/* Writes env over the entry (author, seq), of any length: an erased
 * entry's stub (store/erase.c), or the tests' tools making a newer
 * envelope of one. The segment is written again whole. */
int
log_rewrite(struct store_txn *t, const uint8_t *author, uint64_t seq,
    const uint8_t *env, size_t len)
{
	uint8_t key[SEG_KEYLEN], *buf;
	const uint8_t *v, *old;
	uint64_t first;
	size_t vlen, olen, at, tail, nlen;
	int rc;

	if (len > UINT32_MAX - ENTRY_HDR)
		return STORE_EBADENTRY;
	if ((rc = pend_drop(t, author)) != 0 ||
	    (rc = seg_find(t, author, seq, &first, &v, &vlen)) != 0 ||
	    (rc = seg_entry(v, vlen, seq - first, &old, &olen)) != 0)
		return rc;
	at = (size_t)(old - v) - ENTRY_HDR;
	tail = vlen - (at + ENTRY_HDR + olen);
	nlen = at + ENTRY_HDR + len + tail;
	if ((buf = malloc(nlen)) == NULL)
		return STORE_ENOMEM;
	memcpy(buf, v, at);
	entry_put(buf + at, env, len);
	memcpy(buf + at + ENTRY_HDR + len, old + olen, tail);
	seg_key(key, author, first);
	rc = store_put(t, TABLE_LOG, key, sizeof(key), buf, nlen);
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
	int rc;

	if ((rc = log_flush(t)) != 0 ||
	    (rc = store_scan(t, TABLE_LOG, NULL, 0, 0, seg_cb, &w)) != 0)
		return rc;
	return w.rc;
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
