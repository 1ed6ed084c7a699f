/*
 * A record as the records table holds it: what the merge needs and no
 * note text. A register keeps which writes are its heads, never their
 * values: those are read back from the (encrypted) log entries that
 * wrote them, opened with the keys the store was handed. The whole is
 * sealed under a key derived from the store key, so that not even a tag
 * or the shape of a record is in the clear on disk.
 *
 * The plaintext, canonical (equal states give equal bytes, so the digest
 * is taken over it):
 *
 *	[kind, id, authors, hist, regs, sets]
 *	authors	[author...]			sorted, those hist names
 *	hist	[[hlc, ai, seq, hash]...]	every entry applied to the
 *						record, by (hlc, author, seq)
 *	regs	[[name, [hi...], [ref...]]...]	heads (winner first) as hist
 *						indexes; kept refs in full
 *	sets	[[name, [[value, [hi...], [ref...]]...]]...]
 *
 * ai is an index into authors, hi into hist, and a full ref is as
 * record_codec.c writes one. The value in the table:
 *
 *	format[1] docid[8 BE] body
 *
 * format RECSTORE_SEALED: body is nonce[24] and the plaintext sealed with
 * XChaCha20-Poly1305, the format, docid and record key as associated
 * data; RECSTORE_PLAIN (a store opened without a key: tests and tools):
 * body is the plaintext. docid is the record's number in this store, the
 * word index's name for it (search.c); it is not part of the state.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"
#include "store_int.h"

#define RECSTORE_PLAIN	0x00
#define RECSTORE_SEALED	0x01
#define HEADER_LEN	(1 + 8)
#define SEAL_OVERHEAD	(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + \
			 crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define STORED_MAX_BYTES	(256 * 1024 * 1024)

static const char seal_context[] = "satchel record seal v1";

/* The sealing key is derived apart from the word index's hashes. */
void
recstore_derive_key(const uint8_t *store_key, uint8_t *out)
{
	crypto_generichash(out, STORE_KEYLEN, (const uint8_t *)seal_context,
	    sizeof(seal_context), store_key, STORE_KEYLEN);
}

static int
hist_cmp(const struct rec_hist *a, uint64_t hlc, const uint8_t *author,
    uint64_t seq)
{
	int c;

	if (a->hlc != hlc)
		return a->hlc < hlc ? -1 : 1;
	if ((c = memcmp(a->author, author, PROTO_IDLEN)) != 0)
		return c;
	return a->seq < seq ? -1 : a->seq > seq;
}

/* The slot of (hlc, author, seq) in the sorted hist: 1 if there. */
static int
hist_find(const struct rec_stored *s, uint64_t hlc, const uint8_t *author,
    uint64_t seq, size_t *at)
{
	size_t lo = 0, hi = s->nhist;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = hist_cmp(&s->hist[mid], hlc, author, seq);

		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

int
recstore_hist_add(struct rec_stored *s, uint64_t hlc,
    const struct write_ref *ref)
{
	struct rec_hist *h;
	size_t at;

	if (hist_find(s, hlc, ref->author, ref->seq, &at))
		return STORE_OK;
	if ((h = realloc(s->hist, (s->nhist + 1) * sizeof(*h))) == NULL)
		return STORE_ENOMEM;
	s->hist = h;
	memmove(&h[at + 1], &h[at], (s->nhist - at) * sizeof(*h));
	h[at].hlc = hlc;
	memcpy(h[at].author, ref->author, PROTO_IDLEN);
	h[at].seq = ref->seq;
	memcpy(h[at].hash, ref->hash, PROTO_HASHLEN);
	s->nhist++;
	return STORE_OK;
}

/* The entry (author, seq) in hist, whatever its clock; NULL if none. */
const struct rec_hist *
recstore_hist_get(const struct rec_stored *s, const uint8_t *author,
    uint64_t seq)
{
	for (size_t i = 0; i < s->nhist; i++)
		if (s->hist[i].seq == seq &&
		    memcmp(s->hist[i].author, author, PROTO_IDLEN) == 0)
			return &s->hist[i];
	return NULL;
}

void
recstore_free(struct rec_stored *s)
{
	free(s->hist);
	memset(s, 0, sizeof(*s));
}

/* --- Encoding. */

#define ENC_HELD	16	/* hists this short need no malloc */

struct enc {
	const struct rec_stored *s;
	size_t		 nauthors;
	const uint8_t	**authors;	/* into s->hist, sorted, distinct */
	size_t		*by_ref;	/* hist indexes by (author, seq) */
	const uint8_t	*authors_held[ENC_HELD];
	size_t		 by_ref_held[ENC_HELD];
};

static int
ptr_author_cmp(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b,
	    PROTO_IDLEN);
}

static const struct rec_stored *sort_hist;	/* qsort has no argument */

static int
by_ref_cmp(const void *a, const void *b)
{
	const struct rec_hist *x = &sort_hist->hist[*(const size_t *)a];
	const struct rec_hist *y = &sort_hist->hist[*(const size_t *)b];
	int c = memcmp(x->author, y->author, PROTO_IDLEN);

	return c != 0 ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
enc_init(struct enc *en, const struct rec_stored *s)
{
	size_t n = s->nhist ? s->nhist : 1, out = 0;

	en->s = s;
	en->nauthors = 0;
	if (n <= ENC_HELD) {
		en->authors = en->authors_held;
		en->by_ref = en->by_ref_held;
	} else {
		en->authors = malloc(n * sizeof(*en->authors));
		en->by_ref = malloc(n * sizeof(*en->by_ref));
		if (en->authors == NULL || en->by_ref == NULL)
			return -1;
	}
	for (size_t i = 0; i < s->nhist; i++) {
		en->authors[i] = s->hist[i].author;
		en->by_ref[i] = i;
	}
	if (s->nhist > 1) {
		qsort(en->authors, s->nhist, sizeof(*en->authors),
		    ptr_author_cmp);
		sort_hist = s;
		qsort(en->by_ref, s->nhist, sizeof(*en->by_ref), by_ref_cmp);
	}
	for (size_t i = 0; i < s->nhist; i++)
		if (out == 0 || memcmp(en->authors[out - 1], en->authors[i],
		    PROTO_IDLEN) != 0)
			en->authors[out++] = en->authors[i];
	en->nauthors = out;
	return 0;
}

static void
enc_free(struct enc *en)
{
	if (en->authors != en->authors_held)
		free(en->authors);
	if (en->by_ref != en->by_ref_held)
		free(en->by_ref);
}

/* The hist index of an applied write; -1 if the record never applied it
 * (a broken invariant: the caller refuses to save). */
static long
enc_index(const struct enc *en, const struct write_ref *r)
{
	size_t lo = 0, hi = en->s->nhist;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rec_hist *h = &en->s->hist[en->by_ref[mid]];
		int c = memcmp(h->author, r->author, PROTO_IDLEN);

		if (c == 0)
			c = h->seq < r->seq ? -1 : h->seq > r->seq;
		if (c == 0)
			return (long)en->by_ref[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static long
enc_author(const struct enc *en, const uint8_t *author)
{
	for (size_t i = 0; i < en->nauthors; i++)
		if (memcmp(en->authors[i], author, PROTO_IDLEN) == 0)
			return (long)i;
	return -1;
}

static int
pack_indexes(msgpack_packer *pk, const struct enc *en,
    const struct write_ref *refs, size_t stride, size_t n)
{
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++) {
		long at = enc_index(en, (const struct write_ref *)
		    ((const char *)refs + i * stride));

		if (at < 0)
			return -1;
		msgpack_pack_uint64(pk, (uint64_t)at);
	}
	return 0;
}

static void
pack_full_refs(msgpack_packer *pk, const struct write_ref *refs, size_t n)
{
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		rec_pack_ref(pk, &refs[i]);
}

static int
pack_regs(msgpack_packer *pk, const struct enc *en, const struct record *r)
{
	msgpack_pack_array(pk, r->nregs);
	for (size_t i = 0; i < r->nregs; i++) {
		const struct rec_register *g = &r->regs[i];

		msgpack_pack_array(pk, 3);
		mp_pack_str(pk, g->name, strlen(g->name));
		if (g->nheads > 0 && pack_indexes(pk, en, &g->heads[0].ref,
		    sizeof(g->heads[0]), g->nheads) != 0)
			return -1;
		if (g->nheads == 0)
			msgpack_pack_array(pk, 0);
		pack_full_refs(pk, g->sup, g->nsup);
	}
	return 0;
}

static int
pack_sets(msgpack_packer *pk, const struct enc *en, const struct record *r)
{
	msgpack_pack_array(pk, r->nsets);
	for (size_t i = 0; i < r->nsets; i++) {
		const struct rec_set *s = &r->sets[i];

		msgpack_pack_array(pk, 2);
		mp_pack_str(pk, s->name, strlen(s->name));
		msgpack_pack_array(pk, s->nelems);
		for (size_t j = 0; j < s->nelems; j++) {
			const struct rec_elem *e = &s->elems[j];

			msgpack_pack_array(pk, 3);
			mp_pack_str(pk, e->value, e->value_len);
			if (pack_indexes(pk, en, e->adds, sizeof(*e->adds),
			    e->nadds) != 0)
				return -1;
			pack_full_refs(pk, e->rems, e->nrems);
		}
	}
	return 0;
}

static int
pack_all(msgpack_packer *pk, const struct enc *en, const struct record *r,
    const struct rec_stored *s)
{
	msgpack_pack_array(pk, 6);
	msgpack_pack_uint8(pk, r->kind);
	mp_pack_bin(pk, r->id, PROTO_RECIDLEN);
	msgpack_pack_array(pk, en->nauthors);
	for (size_t i = 0; i < en->nauthors; i++)
		mp_pack_bin(pk, en->authors[i], PROTO_IDLEN);
	msgpack_pack_array(pk, s->nhist);
	for (size_t i = 0; i < s->nhist; i++) {
		msgpack_pack_array(pk, 4);
		msgpack_pack_uint64(pk, s->hist[i].hlc);
		msgpack_pack_uint64(pk,
		    (uint64_t)enc_author(en, s->hist[i].author));
		msgpack_pack_uint64(pk, s->hist[i].seq);
		mp_pack_bin(pk, s->hist[i].hash, PROTO_HASHLEN);
	}
	/* A head or tag the record never applied. */
	if (pack_regs(pk, en, r) != 0 || pack_sets(pk, en, r) != 0)
		return STORE_EIO;
	return STORE_OK;
}

/* Packs r and s into pk. */
static int
encode_pk(const struct record *r, const struct rec_stored *s,
    msgpack_packer *pk)
{
	struct enc en;
	int rc = STORE_ENOMEM;

	en.authors = en.authors_held;
	en.by_ref = en.by_ref_held;
	if (enc_init(&en, s) == 0)
		rc = pack_all(pk, &en, r, s);
	enc_free(&en);
	return rc;
}

int
recstore_encode(const struct record *r, const struct rec_stored *s,
    msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	int rc;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if ((rc = encode_pk(r, s, &pk)) != 0)
		return rc;
	return sb->size <= STORED_MAX_BYTES ? STORE_OK : STORE_EFULL;
}

void
recstore_buf_init(struct recstore_buf *b)
{
	b->data = b->stack;
	b->size = 0;
	b->alloc = sizeof(b->stack);
	b->failed = 0;
}

void
recstore_buf_free(struct recstore_buf *b)
{
	if (b->data != b->stack)
		free(b->data);
	recstore_buf_init(b);
}

/* buf_write when b has no room for len bytes more: out of the way of
 * the common case, a record's ~50 small writes into the stack. */
static int
buf_grow_write(struct recstore_buf *b, const char *p, size_t len)
{
	uint8_t *d;
	size_t n = b->alloc;

	if (b->failed != 0)
		return -1;
	if (len > STORED_MAX_BYTES - b->size) {
		b->failed = STORE_EFULL;	/* past any record */
		return -1;
	}
	while (n < b->size + len)
		n *= 2;
	if (b->data == b->stack) {
		if ((d = malloc(n)) != NULL)
			memcpy(d, b->stack, b->size);
	} else
		d = realloc(b->data, n);
	if (d == NULL) {
		b->failed = STORE_ENOMEM;
		return -1;
	}
	b->data = d;
	b->alloc = n;
	memcpy(b->data + b->size, p, len);
	b->size += len;
	return 0;
}

static int
buf_write(void *arg, const char *p, size_t len)
{
	struct recstore_buf *b = arg;

	if (len > b->alloc - b->size)
		return buf_grow_write(b, p, len);
	memcpy(b->data + b->size, p, len);
	b->size += len;
	return 0;
}

/* As recstore_encode, into b, which the caller frees. */
int
recstore_encode_buf(const struct record *r, const struct rec_stored *s,
    struct recstore_buf *b)
{
	msgpack_packer pk;
	int rc;

	msgpack_packer_init(&pk, b, buf_write);
	if ((rc = encode_pk(r, s, &pk)) != 0)
		return rc;
	return b->failed;
}

/* --- Decoding: the bytes come from this store, yet are checked as a
 * peer's would be, so a damaged file cannot crash the reader. */

static int
dec_hist(const msgpack_object *authors, const msgpack_object *hist,
    struct rec_stored *s)
{
	const msgpack_object *h;
	uint64_t ai;

	if (mp_array(authors, 0, SIZE_MAX) == -1 ||
	    mp_array(hist, 0, SIZE_MAX) == -1)
		return -1;
	if (hist->via.array.size > 0 && (s->hist = calloc(
	    hist->via.array.size, sizeof(*s->hist))) == NULL)
		return -1;
	for (size_t i = 0; i < hist->via.array.size; i++) {
		struct rec_hist *x = &s->hist[i];

		h = &hist->via.array.ptr[i];
		if (mp_array(h, 4, 4) == -1 ||
		    mp_uint(&h->via.array.ptr[0], UINT64_MAX, &x->hlc) == -1 ||
		    mp_uint(&h->via.array.ptr[1], authors->via.array.size ?
		    authors->via.array.size - 1 : 0, &ai) == -1 ||
		    ai >= authors->via.array.size ||
		    mp_bin(&authors->via.array.ptr[ai], PROTO_IDLEN,
		    x->author) == -1 ||
		    mp_uint(&h->via.array.ptr[2], UINT64_MAX, &x->seq) == -1 ||
		    mp_bin(&h->via.array.ptr[3], PROTO_HASHLEN, x->hash) == -1)
			return -1;
		s->nhist++;
	}
	return 0;
}

static int
dec_ref_at(const msgpack_object *o, const struct rec_stored *s,
    struct write_ref *ref, uint64_t *hlc)
{
	uint64_t at;

	if (s->nhist == 0 || mp_uint(o, s->nhist - 1, &at) == -1)
		return -1;
	memcpy(ref->author, s->hist[at].author, PROTO_IDLEN);
	ref->seq = s->hist[at].seq;
	memcpy(ref->hash, s->hist[at].hash, PROTO_HASHLEN);
	ref->has_hash = 1;
	if (hlc != NULL)
		*hlc = s->hist[at].hlc;
	return 0;
}

static int
dec_full_refs(const msgpack_object *o, struct write_ref **refs, size_t *n)
{
	if (mp_array(o, 0, SIZE_MAX) == -1)
		return -1;
	if (o->via.array.size == 0)
		return 0;
	if ((*refs = calloc(o->via.array.size, sizeof(**refs))) == NULL)
		return -1;
	for (size_t i = 0; i < o->via.array.size; i++) {
		if (rec_decode_ref(&o->via.array.ptr[i], &(*refs)[i]) == -1)
			return -1;
		(*n)++;
	}
	return 0;
}

static int
dec_name(const msgpack_object *o, char name[PROTO_MAX_FIELD + 1])
{
	const char *p;
	size_t len;

	if (mp_str(o, PROTO_MAX_FIELD, &p, &len) == -1)
		return -1;
	memcpy(name, p, len);
	name[len] = '\0';
	return 0;
}

static int
dec_reg(const msgpack_object *o, const struct rec_stored *s,
    struct rec_register *g)
{
	const msgpack_object *f, *heads;

	if (mp_array(o, 3, 3) == -1)
		return -1;
	f = o->via.array.ptr;
	heads = &f[1];
	if (dec_name(&f[0], g->name) == -1 ||
	    mp_array(heads, 0, SIZE_MAX) == -1)
		return -1;
	if (heads->via.array.size > 0 && (g->heads = calloc(
	    heads->via.array.size, sizeof(*g->heads))) == NULL)
		return -1;
	for (size_t i = 0; i < heads->via.array.size; i++) {
		if (dec_ref_at(&heads->via.array.ptr[i], s, &g->heads[i].ref,
		    &g->heads[i].hlc) == -1)
			return -1;
		g->nheads++;
	}
	return dec_full_refs(&f[2], &g->sup, &g->nsup);
}

static int
dec_elem(const msgpack_object *o, const struct rec_stored *s,
    struct rec_elem *el)
{
	const msgpack_object *f, *adds;
	const char *p;

	if (mp_array(o, 3, 3) == -1)
		return -1;
	f = o->via.array.ptr;
	adds = &f[1];
	if (mp_str(&f[0], PROTO_MAX_VALUE, &p, &el->value_len) == -1 ||
	    (el->value = malloc(el->value_len + 1)) == NULL)
		return -1;
	memcpy(el->value, p, el->value_len);
	el->value[el->value_len] = '\0';
	if (mp_array(adds, 0, SIZE_MAX) == -1)
		return -1;
	if (adds->via.array.size > 0 && (el->adds = calloc(
	    adds->via.array.size, sizeof(*el->adds))) == NULL)
		return -1;
	for (size_t i = 0; i < adds->via.array.size; i++) {
		if (dec_ref_at(&adds->via.array.ptr[i], s, &el->adds[i],
		    NULL) == -1)
			return -1;
		el->nadds++;
	}
	return dec_full_refs(&f[2], &el->rems, &el->nrems);
}

static int
dec_set(const msgpack_object *o, const struct rec_stored *s,
    struct rec_set *set)
{
	const msgpack_object *f;

	if (mp_array(o, 2, 2) == -1)
		return -1;
	f = o->via.array.ptr;
	if (dec_name(&f[0], set->name) == -1 ||
	    mp_array(&f[1], 0, SIZE_MAX) == -1)
		return -1;
	if (f[1].via.array.size > 0 && (set->elems = calloc(
	    f[1].via.array.size, sizeof(*set->elems))) == NULL)
		return -1;
	for (size_t i = 0; i < f[1].via.array.size; i++) {
		set->nelems++;
		if (dec_elem(&f[1].via.array.ptr[i], s, &set->elems[i]) == -1)
			return -1;
	}
	return 0;
}

static int
dec_parts(struct record *r, const struct rec_stored *s,
    const msgpack_object *regs, const msgpack_object *sets)
{
	if (mp_array(regs, 0, SIZE_MAX) == -1 ||
	    mp_array(sets, 0, SIZE_MAX) == -1)
		return -1;
	if (regs->via.array.size > 0 && (r->regs = calloc(regs->via.array.size,
	    sizeof(*r->regs))) == NULL)
		return -1;
	for (size_t i = 0; i < regs->via.array.size; i++) {
		r->nregs++;
		if (dec_reg(&regs->via.array.ptr[i], s, &r->regs[i]) == -1)
			return -1;
	}
	if (sets->via.array.size > 0 && (r->sets = calloc(sets->via.array.size,
	    sizeof(*r->sets))) == NULL)
		return -1;
	for (size_t i = 0; i < sets->via.array.size; i++) {
		r->nsets++;
		if (dec_set(&sets->via.array.ptr[i], s, &r->sets[i]) == -1)
			return -1;
	}
	return 0;
}

/* Register values are left NULL: recstore_fill reads them. */
int
recstore_decode(const uint8_t *buf, size_t len, struct record **out,
    struct rec_stored *s)
{
	msgpack_unpacked u;
	const msgpack_object *f;
	struct record *r = NULL;
	uint8_t id[PROTO_RECIDLEN];
	uint64_t kind;
	int rc = STORE_EIO;

	*out = NULL;
	s->nhist = 0;
	s->hist = NULL;
	if (mp_unpack(&u, buf, len, STORED_MAX_BYTES) == -1)
		return STORE_EIO;
	if (mp_array(&u.data, 6, 6) == -1)
		goto out;
	f = u.data.via.array.ptr;
	if (mp_uint(&f[0], KIND_MAX, &kind) == -1 ||
	    mp_bin(&f[1], PROTO_RECIDLEN, id) == -1 ||
	    dec_hist(&f[2], &f[3], s) == -1)
		goto out;
	rc = STORE_ENOMEM;
	if ((r = record_new((uint8_t)kind, id)) == NULL)
		goto out;
	rc = STORE_EIO;
	if (dec_parts(r, s, &f[4], &f[5]) == -1)
		goto out;
	*out = r;
	r = NULL;
	rc = STORE_OK;
out:
	record_free(r);
	if (rc != STORE_OK)
		recstore_free(s);
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* --- The table's value: sealed when the store has a key. */

static void
seal_ad(uint8_t *ad, const uint8_t *hdr, const uint8_t *key, size_t klen)
{
	memcpy(ad, hdr, HEADER_LEN);
	memcpy(ad + HEADER_LEN, key, klen);
}

_Static_assert(TXN_NONCELEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES &&
    TXN_NONCEBASE + 8 == TXN_NONCELEN,
    "a record's nonce is XChaCha20-Poly1305's: a base and a count");

_Static_assert(TXN_NONCEBASE == crypto_core_hchacha20_INPUTBYTES &&
    TXN_SUBKEYLEN == crypto_core_hchacha20_OUTPUTBYTES &&
    TXN_SUBKEYLEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES &&
    STORE_KEYLEN == crypto_core_hchacha20_KEYBYTES,
    "a nonce base is what HChaCha20 takes, its output a ChaCha20 key");

/* XChaCha20-Poly1305 is ChaCha20-Poly1305-IETF under the subkey
 * HChaCha20(key, nonce[0..16]), with the nonce 0[4] || nonce[16..24]
 * (draft-irtf-cfrg-xchacha-03 2.3; libsodium's is built so). A
 * transaction's records share the first 16 bytes, so it takes the subkey
 * once, not once a record. subkey is TXN_SUBKEYLEN bytes of key material:
 * the store keeps it next to the seal key, in guarded memory (the store
 * has one write transaction at a time, and each draws its own). */
void
recstore_subkey(uint8_t *subkey, const uint8_t *seal_key,
    const uint8_t *base)
{
	crypto_core_hchacha20(subkey, base, seal_key, NULL);
}

/* Writes into out the ciphertext and its tag (len + 16 bytes), byte for
 * byte what crypto_aead_xchacha20poly1305_ietf_encrypt gives under
 * seal_key and nonce, subkey being recstore_subkey(seal_key, nonce). */
void
recstore_seal_sub(uint8_t *out, const uint8_t *pt, size_t len,
    const uint8_t *ad, size_t adlen, const uint8_t *nonce,
    const uint8_t *subkey)
{
	uint8_t n[crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = { 0 };

	memcpy(n + 4, nonce + TXN_NONCEBASE, sizeof(n) - 4);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, len, ad,
	    adlen, NULL, n, subkey);
}

/* A nonce never used before under the seal key: the transaction's
 * random base (drawn at its first seal) and how many records it sealed
 * before. Two transactions share a base with odds of 2^-128 a pair, as
 * good as random nonces, without asking the system for 24 bytes a
 * record (a sync seals thousands in a transaction). The base's subkey
 * is drawn with it, so that a new base always has its own. */
static void
txn_nonce(struct store_txn *t, uint8_t *out)
{
	if (t->nonces == 0) {
		randombytes_buf(t->nonce_base, sizeof(t->nonce_base));
		recstore_subkey(t->st->seal_subkey, t->st->seal_key,
		    t->nonce_base);
	}
	memcpy(out, t->nonce_base, TXN_NONCEBASE);
	be64_put(out + TXN_NONCEBASE, t->nonces++);
}

/* The length of key and table value as recstore_seal writes them. */
size_t
recstore_sealed_len(const struct store_txn *t, size_t klen, size_t len)
{
	return klen + HEADER_LEN + (t->st->seal_key ? SEAL_OVERHEAD : 0) +
	    len;
}

/* Writes into out key, then the table value sealed for docid under
 * subkey (recstore_subkey of the seal key and nonce's first 16 bytes)
 * with nonce: recstore_sealed_len bytes in all. klen <= 64. */
static void
seal_at(uint8_t *out, const uint8_t *key, size_t klen, uint64_t docid,
    const uint8_t *pt, size_t len, const uint8_t nonce[TXN_NONCELEN],
    const uint8_t *subkey)
{
	uint8_t ad[HEADER_LEN + 64], *v = out + klen;

	memcpy(out, key, klen);
	v[0] = RECSTORE_SEALED;
	be64_put(v + 1, docid);
	memcpy(v + HEADER_LEN, nonce, TXN_NONCELEN);
	seal_ad(ad, v, key, klen);
	recstore_seal_sub(v + HEADER_LEN + TXN_NONCELEN, pt, len, ad,
	    HEADER_LEN + klen, nonce, subkey);
}

/* Writes into out (recstore_sealed_len bytes) key, then the table value,
 * as the records table holds them (records.c). */
int
recstore_seal(struct store_txn *t, const uint8_t *key, size_t klen,
    uint64_t docid, const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[TXN_NONCELEN];

	if (klen > 64)
		return STORE_ENOMEM;
	if (t->st->seal_key == NULL) {
		memcpy(out, key, klen);
		out[klen] = RECSTORE_PLAIN;
		be64_put(out + klen + 1, docid);
		memcpy(out + klen + HEADER_LEN, pt, len);
		return STORE_OK;
	}
	txn_nonce(t, nonce);
	seal_at(out, key, klen, docid, pt, len, nonce, t->st->seal_subkey);
	return STORE_OK;
}

int
store_sealer_init(const struct store *st, struct store_sealer *s)
{
	if (st->seal_key == NULL)
		return -1;
	memcpy(s->key, st->seal_key, STORE_KEYLEN);
	s->count = 0;
	return 0;
}

size_t
recstore_sealer_len(size_t klen, size_t len)
{
	return klen + HEADER_LEN + SEAL_OVERHEAD + len;
}

/* As recstore_seal, off the store: the sealer's own random base (drawn
 * at its first seal: a batch's records share it, as a transaction's do)
 * and count make the nonces. */
void
recstore_seal_off(struct store_sealer *s, const uint8_t *key, size_t klen,
    uint64_t docid, const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[TXN_NONCELEN];

	if (s->count == 0) {
		randombytes_buf(s->base, sizeof(s->base));
		recstore_subkey(s->subkey, s->key, s->base);
	}
	memcpy(nonce, s->base, TXN_NONCEBASE);
	be64_put(nonce + TXN_NONCEBASE, s->count++);
	seal_at(out, key, klen, docid, pt, len, nonce, s->subkey);
}

int
store_sealer_same(const struct store *st, const struct store_sealer *s)
{
	return st->seal_key != NULL &&
	    sodium_memcmp(s->key, st->seal_key, STORE_KEYLEN) == 0;
}

/* The plaintext of a table value into *pt (malloc'd; the caller frees
 * it) and its docid. STORE_EIO if it is damaged or sealed under another
 * key, or sealed and the store has none. */
int
recstore_unseal(struct store_txn *t, const uint8_t *key, size_t klen,
    const uint8_t *v, size_t vlen, uint64_t *docid, uint8_t **pt,
    size_t *ptlen)
{
	const uint8_t *sk = t->st->seal_key, *nonce = v + HEADER_LEN;
	uint8_t ad[HEADER_LEN + 64];
	size_t n;

	*pt = NULL;
	if (vlen < HEADER_LEN || klen > 64)
		return STORE_EIO;
	*docid = be64_get(v + 1);
	if (v[0] == RECSTORE_PLAIN) {
		n = vlen - HEADER_LEN;
		if ((*pt = malloc(n ? n : 1)) == NULL)
			return STORE_ENOMEM;
		memcpy(*pt, v + HEADER_LEN, n);
		*ptlen = n;
		return STORE_OK;
	}
	if (v[0] != RECSTORE_SEALED || sk == NULL ||
	    vlen < HEADER_LEN + SEAL_OVERHEAD)
		return STORE_EIO;
	n = vlen - HEADER_LEN - SEAL_OVERHEAD;
	if ((*pt = malloc(n ? n : 1)) == NULL)
		return STORE_ENOMEM;
	seal_ad(ad, v, key, klen);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(*pt, NULL, NULL,
	    nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    vlen - HEADER_LEN - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    ad, HEADER_LEN + klen, nonce, sk) != 0) {
		free(*pt);
		*pt = NULL;
		return STORE_EIO;
	}
	*ptlen = n;
	return STORE_OK;
}

/* --- Values, from the log. */

/* The value entry c wrote to register name: its first op on it, as the
 * merge keeps it. */
static int
change_value(const struct change *c, const char *name, const uint8_t **v,
    size_t *len)
{
	static const uint8_t deleted[] = "1";
	int del = strcmp(name, RECORD_DELETED_FIELD) == 0;
	size_t nlen = strlen(name);

	for (size_t i = 0; i < c->nops; i++) {
		const struct op *op = &c->ops[i];

		if (del && (op->type == OP_DELETE ||
		    op->type == OP_UNDELETE)) {
			*v = deleted;
			*len = op->type == OP_DELETE ? 1 : 0;
			return 0;
		}
		if (!del && op->type == OP_SET && op->field_len == nlen &&
		    memcmp(op->field, name, nlen) == 0) {
			*v = op->value;
			*len = op->value_len;
			return 0;
		}
	}
	return -1;
}

/* Every head of r that entry ref wrote gets its value from c. */
static int
fill_from(struct record *r, const struct write_ref *ref,
    const struct change *c)
{
	for (size_t i = 0; i < r->nregs; i++)
		for (size_t j = 0; j < r->regs[i].nheads; j++) {
			struct rec_write *w = &r->regs[i].heads[j];
			const uint8_t *v;
			size_t len;

			if (w->value != NULL || w->ref.seq != ref->seq ||
			    memcmp(w->ref.author, ref->author,
			    PROTO_IDLEN) != 0)
				continue;
			if (change_value(c, r->regs[i].name, &v, &len) != 0)
				return STORE_EIO;
			if ((w->value = malloc(len + 1)) == NULL)
				return STORE_ENOMEM;
			memcpy(w->value, v, len);
			w->value[len] = '\0';
			w->value_len = len;
		}
	return STORE_OK;
}

static int
fill_one(struct store_txn *t, struct record *r, const struct write_ref *ref)
{
	struct write_ref copy = *ref;	/* ref points into r */
	struct envelope e;
	struct change *c = NULL;
	const uint8_t *env;
	uint8_t *pt = NULL;
	size_t len;
	int rc;

	if ((rc = store_log_get(t, copy.author, copy.seq, &env, &len)) != 0)
		return rc == STORE_ENOTFOUND ? STORE_EIO : rc;
	if (proto_envelope_decode(&e, env, len) != 0)
		return STORE_EIO;
	rc = store_open_entry(t->st->keys, &e, &c, &pt);
	if (rc == STORE_OK && c == NULL)
		rc = STORE_EBADENTRY;	/* no key for it any more */
	if (rc == STORE_OK)
		rc = fill_from(r, &copy, c);
	free(c);
	free(pt);
	return rc;
}

/* Reads the values of r's heads from the log entries that wrote them,
 * each entry opened once. */
int
recstore_fill(struct store_txn *t, struct record *r)
{
	int rc;

	for (size_t i = 0; i < r->nregs; i++)
		for (size_t j = 0; j < r->regs[i].nheads; j++)
			if (r->regs[i].heads[j].value == NULL &&
			    (rc = fill_one(t, r, &r->regs[i].heads[j].ref)) !=
			    0)
				return rc;
	return STORE_OK;
}

/* Gives b the values a holds: both were decoded from the same bytes. */
int
recstore_copy_values(struct record *b, const struct record *a)
{
	if (a->nregs != b->nregs)
		return STORE_EIO;
	for (size_t i = 0; i < a->nregs; i++) {
		if (a->regs[i].nheads != b->regs[i].nheads)
			return STORE_EIO;
		for (size_t j = 0; j < a->regs[i].nheads; j++) {
			const struct rec_write *x = &a->regs[i].heads[j];
			struct rec_write *y = &b->regs[i].heads[j];

			if (x->value == NULL || y->value != NULL)
				continue;
			if ((y->value = malloc(x->value_len + 1)) == NULL)
				return STORE_ENOMEM;
			memcpy(y->value, x->value, x->value_len + 1);
			y->value_len = x->value_len;
		}
	}
	return STORE_OK;
}

/* --- The keys the store opens entries with. */

int
store_set_keyring(struct store *st, const struct store_keyring *kr)
{
	return store_keys_learn(st, kr);
}

/* Remembers every key of kr not held yet; when full, the oldest go. */
int
store_keys_learn(struct store *st, const struct store_keyring *kr)
{
	struct store_keyring *k = st->keys;
	size_t cap = sizeof(k->keys) / sizeof(k->keys[0]);

	if (kr == NULL)
		return STORE_OK;
	if (k == NULL) {
		if ((k = sodium_malloc(sizeof(*k))) == NULL)
			return STORE_ENOMEM;
		memset(k, 0, sizeof(*k));
		st->keys = k;
	}
	for (size_t i = 0; i < kr->nkeys; i++) {
		const struct store_key *have = store_keyring_find(k,
		    kr->keys[i].id);

		/* Both are this device's own keys, compared for each entry
		 * a sync applies: no peer learns anything from how long
		 * the compare takes, so it need not be constant-time. */
		if (have != NULL && memcmp(have->key, kr->keys[i].key,
		    PROTO_KEYLEN) == 0)
			continue;
		if (k->nkeys == cap) {
			memmove(&k->keys[0], &k->keys[1],
			    (cap - 1) * sizeof(k->keys[0]));
			k->nkeys--;
		}
		k->keys[k->nkeys++] = kr->keys[i];
	}
	return STORE_OK;
}

int
store_key_learn(struct store *st, const struct store_key *key)
{
	struct store_keyring one;

	memset(&one, 0, sizeof(one));
	one.nkeys = 1;
	one.keys[0] = *key;
	return store_keys_learn(st, &one);
}
