/*
 * A received batch's per-entry work that needs no store, done ahead on
 * libuv's worker threads (uv_queue_work): each entry's hash, its opening,
 * the decoding and validation of its change, and the last entry's
 * signature. Each change decoded is kept in a compact copy (its ops and
 * their refs, no room for more), which the apply spreads back into a
 * struct change: a change takes 160 KB as a struct, too much to keep one
 * per entry, and decoding it again on the loop cost more than the copy.
 * The event loop meanwhile receives the next batches and applies and
 * commits the ones before, so on a machine of two cores or more a full
 * sync's reading and its writing overlap, as the floor's two processes
 * do (issue 10).
 *
 * What the apply takes from it is exactly what reading the entry on the
 * loop would give: the worker opens an entry only with a copy of the key
 * the device held for it when the batch came, and the apply uses that
 * reading only if the keyring it applies with holds the same key. An
 * entry whose key was learnt since (an epoch an earlier batch of the same
 * sync brought) is read on the loop, as before. The worker calls proto/
 * (pure and thread-safe) and, of store/, store_words_pre and
 * store_record_pre alone (pure: no store, no LMDB, no mutable static).
 * The first works out the words of the record a change creates, with a
 * copy of the word key, which the apply takes only if the record it
 * writes is that one with those very texts (search.c checks). The second
 * builds that record with the merge's own code (record.c, recstore.c)
 * and keeps its plaintext, digest hash and index key, which the apply
 * takes only for that very entry and only if the record is still absent
 * (records.c); where a searched record's words were not worked out, it
 * is not built, since the apply could not take it. With a copy of the
 * seal key it also seals the record under the record number the loop
 * reserved for the entry when the batch came (store_docids_reserve):
 * the apply puts that as it is while the number still comes after the
 * table's last, and seals again otherwise.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "net.h"

/* Smaller batches (a note pushed to a connected peer) are read on the
 * loop: handing them over would cost more than it saves. */
#define RXPREP_MIN	32
/* Keys a batch's entries may name and still be read ahead: a batch of
 * one author names one or two (its epochs' content or network keys). */
#define RXPREP_KEYS	8

struct rx_read {		/* one entry, read ahead */
	uint8_t		 hash[PROTO_HASHLEN];
	const char	*why;		/* static, with rc */
	size_t		 pt_off;	/* its plaintext in pt */
	size_t		 cc_off;	/* its change in cc, if rc is 0 */
	int		 key;		/* in keys, or -1: not read ahead */
	int		 rc;		/* proto_entry_read's */
	int		 words;		/* its words are in wb, at wb_off */
	size_t		 wb_off;
	int		 rec;		/* its new record is in rb, at rb_off */
	size_t		 rb_off;
};

struct rx_prep {
	uv_work_t	 work;
	const struct envelope *envs;	/* the batch's, borrowed */
	size_t		 n;
	struct store_key *keys;		/* sodium_malloc'd copies */
	size_t		 nkeys;
	struct rx_read	*reads;		/* n of them */
	uint8_t		*pt;		/* every opened entry's plaintext */
	size_t		 pt_bytes;	/* its size */
	struct store_words_buf cc;	/* their changes, compact: see keep */
	uint8_t		*wkey;		/* the word index's, sodium_malloc'd;
					 * NULL: no words worked out */
	struct store_words_buf wb;	/* new records' words */
	struct store_words_buf rb;	/* new records (store_record_pre) */
	struct store_sealer *sealer;	/* sodium_malloc'd; NULL: none */
	uint64_t	 docid;		/* entry i's record number: docid + i */
	int		 sig_ok;	/* entry n - 1's signature holds */
	int		 done;		/* under prep_mu: the worker is done */
	int		 seen;		/* the loop has seen done */
	int		 refs;		/* the batch, and libuv until
					 * after_work: both on the loop */
};

/* One lock and condition for every batch: the loop waits on it only when
 * it reaches a batch whose reading is not finished. */
static uv_once_t prep_once = UV_ONCE_INIT;
static uv_mutex_t prep_mu;
static uv_cond_t prep_cv;
static int prep_ok;

static void
prep_init(void)
{
	if (uv_mutex_init(&prep_mu) != 0)
		return;
	if (uv_cond_init(&prep_cv) != 0) {
		uv_mutex_destroy(&prep_mu);
		return;
	}
	prep_ok = 1;
}

static void
prep_unref(struct rx_prep *p)
{
	if (--p->refs > 0)
		return;
	free(p->reads);
	free(p->pt);
	free(p->cc.p);
	free(p->wb.p);
	free(p->rb.p);
	sodium_free(p->keys);	/* wipes them */
	sodium_free(p->wkey);
	sodium_free(p->sealer);
	free(p);
}

/* The copy of the key for key_id, added at first sight: -1 if the
 * device holds none (stored unread) or the batch names too many. */
static int
prep_key(struct rx_prep *p, const struct store_keyring *kr,
    const uint8_t *key_id)
{
	const struct store_key *k;

	for (size_t j = 0; j < p->nkeys; j++)
		if (memcmp(p->keys[j].id, key_id, PROTO_KEYIDLEN) == 0)
			return (int)j;
	if ((k = store_keyring_find(kr, key_id)) == NULL ||
	    p->nkeys == RXPREP_KEYS)
		return -1;
	p->keys[p->nkeys] = *k;
	return (int)p->nkeys++;
}

/* The worker's buffers, sized as its work starts for what a batch of
 * notes of this many plaintext bytes takes (each about half of them; the
 * changes' copies ~270 bytes an entry), so that it seldom grows them:
 * grown by doubling, each was copied and faulted in page by page six
 * times a batch. Sized when the batch arrived, instead, every batch
 * waiting for a worker held them too: 15-35 MB more at a sync's peak.
 * Short of memory here, the worker grows them as it goes. */
static void
prep_reserve(struct rx_prep *p, size_t pt_bytes)
{
	(void)store_buf_reserve(&p->cc, p->n * 320);
	if (p->wkey != NULL)
		(void)store_buf_reserve(&p->wb, pt_bytes / 8 * 5);
	(void)store_buf_reserve(&p->rb, pt_bytes / 8 * 5);
}

/* Picks each entry's key and its room in pt, on the loop: the worker
 * then reads the copies alone. */
static int
prep_plan(struct rx_prep *p, const struct store_keyring *kr)
{
	size_t off = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct rx_read *r = &p->reads[i];

		r->key = p->envs[i].erased ? -1 : prep_key(p, kr,
		    p->envs[i].key_id);
		r->pt_off = off;
		if (r->key >= 0)
			off += p->envs[i].ciphertext_len;
	}
	if (off > 0 && (p->pt = malloc(off)) == NULL)
		return -1;
	p->pt_bytes = off;
	return 0;
}

/* A copy of the store's word key, for the worker to work out new
 * records' words (store_words_pre), and of its seal key and a record
 * number for each entry, to seal the new records under
 * (store_record_pre); none if the store keeps no index or seals
 * nothing. */
static int
prep_wkey(struct rx_prep *p, struct store *st)
{
	if ((p->wkey = sodium_malloc(STORE_WORDKEYLEN)) == NULL)
		return -1;
	if (store_word_key(st, p->wkey) != 0) {
		sodium_free(p->wkey);
		p->wkey = NULL;
	}
	if ((p->sealer = sodium_malloc(sizeof(*p->sealer))) == NULL)
		return -1;
	if (store_sealer_init(st, p->sealer) != 0) {
		sodium_free(p->sealer);
		p->sealer = NULL;
		return 0;
	}
	p->docid = store_docids_reserve(st, p->n);
	return 0;
}

static struct rx_prep *
prep_new(const struct rx_batch *b, const struct store_keyring *kr,
    struct store *st)
{
	struct rx_prep *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->refs = 1;
	p->envs = b->envs;
	p->n = b->n;
	if ((p->reads = malloc(p->n * sizeof(*p->reads))) == NULL ||
	    (p->keys = sodium_malloc(RXPREP_KEYS * sizeof(*p->keys))) ==
	    NULL || prep_plan(p, kr) != 0 || prep_wkey(p, st) != 0) {
		prep_unref(p);
		return NULL;
	}
	return p;
}

/*
 * A change's compact copy: the part of struct change before its ops,
 * then for each op the part of struct op before its refs and its npreds
 * refs. The strings it points to are in pt, which the batch keeps.
 */
#define CC_HEAD		offsetof(struct change, ops)
#define CC_OP		offsetof(struct op, preds)

static size_t
cc_size(const struct change *c)
{
	size_t n = CC_HEAD;

	for (size_t i = 0; i < c->nops; i++)
		n += CC_OP + c->ops[i].npreds * sizeof(struct write_ref);
	return n;
}

/* On the worker: appends c's compact copy to cc, at *off. */
static int
keep(struct rx_prep *p, const struct change *c, size_t *off)
{
	size_t need = cc_size(c);
	uint8_t *q;

	if (store_buf_reserve(&p->cc, need) != 0)
		return -1;
	*off = p->cc.len;
	q = p->cc.p + p->cc.len;
	memcpy(q, c, CC_HEAD);
	q += CC_HEAD;
	for (size_t i = 0; i < c->nops; i++) {
		size_t refs = c->ops[i].npreds * sizeof(struct write_ref);

		memcpy(q, &c->ops[i], CC_OP);
		memcpy(q + CC_OP, c->ops[i].preds, refs);
		q += CC_OP + refs;
	}
	p->cc.len += need;
	return 0;
}

/* On the loop: entry r's change, as the worker decoded it, into c. */
static void
kept(const struct rx_prep *p, const struct rx_read *r, struct change *c)
{
	const uint8_t *q = p->cc.p + r->cc_off;

	memcpy(c, q, CC_HEAD);
	q += CC_HEAD;
	for (size_t i = 0; i < c->nops; i++) {
		struct op *op = &c->ops[i];

		memcpy(op, q, CC_OP);
		memcpy(op->preds, q + CC_OP, op->npreds * sizeof(op->preds[0]));
		q += CC_OP + op->npreds * sizeof(op->preds[0]);
	}
}

/* On a worker thread: proto/ alone, and p's own memory. Without room for
 * a change, no entry is read ahead: the loop reads them all; without
 * room for its compact copy, the loop reads that entry. */
static void
prep_run(struct rx_prep *p)
{
	struct change *c = malloc(sizeof(*c));

	prep_reserve(p, p->pt_bytes);
	for (size_t i = 0; i < p->n; i++) {
		struct rx_read *r = &p->reads[i];
		const struct store_key *k;

		proto_envelope_hash(&p->envs[i], r->hash);
		if (r->key < 0)
			continue;
		if (c == NULL) {
			r->key = -1;
			continue;
		}
		k = &p->keys[r->key];
		r->why = NULL;
		r->rc = proto_entry_read(&p->envs[i], k->key, k->use, c,
		    p->pt + r->pt_off, &r->why);
		if (r->rc == 0 && keep(p, c, &r->cc_off) != 0)
			r->key = -1;
		r->words = r->rc == 0 && r->key >= 0 && p->wkey != NULL &&
		    store_words_pre(p->wkey, c, &p->wb, &r->wb_off) == 0;
		r->rec = r->rc == 0 && r->key >= 0 &&
		    (r->words || p->wkey == NULL) &&
		    store_record_pre(&p->envs[i], r->hash, c, r->words ?
		    p->wb.p + r->wb_off : NULL, p->sealer, p->docid + i,
		    &p->rb, &r->rb_off) == 0;
	}
	free(c);
	p->sig_ok = p->n > 0 && proto_envelope_verify(&p->envs[p->n - 1],
	    p->reads[p->n - 1].hash) == 0;
}

static void
work_cb(uv_work_t *w)
{
	struct rx_prep *p = w->data;

	prep_run(p);
	uv_mutex_lock(&prep_mu);
	p->done = 1;
	uv_cond_broadcast(&prep_cv);
	uv_mutex_unlock(&prep_mu);
}

static void
after_work_cb(uv_work_t *w, int status)
{
	(void)status;	/* never cancelled: the batch waits for it */
	prep_unref(w->data);
}

void
rxprep_start(struct server *srv, struct rx_batch *b)
{
	struct rx_prep *p;

	b->prep = NULL;
	if (b->n < RXPREP_MIN)
		return;
	uv_once(&prep_once, prep_init);
	if (!prep_ok)
		return;
	if ((p = prep_new(b, srv->d->keyring, srv->d->st)) == NULL)
		return;		/* read on the loop, as small batches are */
	p->work.data = p;
	if (uv_queue_work(srv->loop, &p->work, work_cb, after_work_cb) != 0) {
		prep_unref(p);
		return;
	}
	p->refs++;	/* after_work_cb's */
	b->prep = p;
}

static void
prep_wait(struct rx_prep *p)
{
	if (p->seen)
		return;
	uv_mutex_lock(&prep_mu);
	while (!p->done)
		uv_cond_wait(&prep_cv, &prep_mu);
	uv_mutex_unlock(&prep_mu);
	p->seen = 1;
}

void
rxprep_release(struct rx_batch *b)
{
	if (b->prep == NULL)
		return;
	prep_wait(b->prep);	/* the worker may read the batch till then */
	prep_unref(b->prep);
	b->prep = NULL;
}

static int
same_key(const struct store_key *a, const struct store_key *b)
{
	return a->use == b->use && sodium_memcmp(a->key, b->key,
	    PROTO_KEYLEN) == 0;
}

/* An entry read ahead with the key k it is applied with: its change is
 * the worker's, decoded and validated there. */
static int
apply_read_ahead(struct store_txn *t, const struct store_keyring *kr,
    const struct rx_prep *p, size_t i, const uint8_t *env, size_t len,
    int verify, struct store_apply_buf *ab)
{
	const struct envelope *e = &p->envs[i];
	const struct rx_read *r = &p->reads[i];
	int rc;

	if (r->rc != 0)
		return store_apply_opened(t, kr, e, env, len, verify, r->hash,
		    store_read_code(r->rc), NULL, r->why);
	if (ab->change == NULL && (ab->change = malloc(sizeof(*ab->change)))
	    == NULL)
		return STORE_ENOMEM;
	kept(p, r, ab->change);
	if (r->words)
		store_words_hint(t, p->wkey, p->wb.p + r->wb_off);
	if (r->rec)
		store_record_hint(t, p->rb.p + r->rb_off, p->sealer);
	rc = store_apply_opened(t, kr, e, env, len, verify, r->hash,
	    STORE_OK, ab->change, NULL);
	store_words_hint(t, NULL, NULL);
	store_record_hint(t, NULL, NULL);
	return rc;
}

int
rxprep_apply(struct store_txn *t, const struct store_keyring *kr,
    const struct rx_batch *b, size_t i, struct store_apply_buf *ab)
{
	const struct envelope *e = &b->envs[i];
	struct rx_prep *p = b->prep;
	const struct store_key *k;
	const uint8_t *env;
	size_t len;
	int verify = i == b->n - 1;

	wire_entry_at(&b->m, i, &env, &len);
	if (p == NULL)
		return store_apply_decoded(t, kr, e, env, len, verify, ab);
	prep_wait(p);
	/* The worker checked the batch's last signature; a batch cut short
	 * (a cut-off) has its new last checked here. */
	verify = verify && !(p->sig_ok && i == p->n - 1);
	k = e->erased ? NULL : store_keyring_find(kr, e->key_id);
	if (k == NULL)
		return store_apply_opened(t, kr, e, env, len, verify,
		    p->reads[i].hash, STORE_OK, NULL, NULL);
	if (p->reads[i].key < 0 || !same_key(&p->keys[p->reads[i].key], k))
		return store_apply_decoded(t, kr, e, env, len, verify, ab);
	return apply_read_ahead(t, kr, p, i, env, len, verify, ab);
}
