/*
 * Noise handshakes, revision 34, for 25519 / ChaChaPoly / BLAKE2b.
 *
 * The names follow the spec (MixKey, MixHash, EncryptAndHash, ...) so the
 * code can be read side by side with it. Every primitive is libsodium's.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "noise.h"

#define NOISE_MAX_NAME	255	/* spec: protocol names are 255 bytes or less */

/* Handshake states; 0 is what a zeroed (wiped) struct reads as. */
enum {
	NOISE_HS_NONE = 0,	/* never initialized, or wiped */
	NOISE_HS_ACTIVE,	/* messages remain */
	NOISE_HS_DONE,		/* every message went through; split next */
	NOISE_HS_SPLIT,		/* only h and rs are left */
	NOISE_HS_DEAD		/* a message was refused; nothing works */
};

enum {
	TOK_E = 1,
	TOK_S,
	TOK_EE,
	TOK_ES,
	TOK_SE,
	TOK_SS,
	TOK_PSK
};

struct pattern {
	const char	*name;
	uint8_t		 pre_i;		/* "-> s" pre-message */
	uint8_t		 pre_r;		/* "<- s" pre-message */
	uint8_t		 need_s_i;	/* the initiator has a static key */
	uint8_t		 need_s_r;	/* the responder has a static key */
	uint8_t		 one_way;
	uint8_t		 nmsgs;
	uint8_t		 tokens[NOISE_MAX_MSGS][NOISE_MAX_TOKENS];
};

/* The spec's section 7 patterns, tokens zero-terminated per message. */
static const struct pattern patterns[] = {
	{ "NN", 0, 0, 0, 0, 0, 2,
	    { { TOK_E }, { TOK_E, TOK_EE } } },
	{ "XX", 0, 0, 1, 1, 0, 3,
	    { { TOK_E }, { TOK_E, TOK_EE, TOK_S, TOK_ES }, { TOK_S, TOK_SE } } },
	{ "KK", 1, 1, 1, 1, 0, 2,
	    { { TOK_E, TOK_ES, TOK_SS }, { TOK_E, TOK_EE, TOK_SE } } },
	{ "N", 0, 1, 0, 1, 1, 1,
	    { { TOK_E, TOK_ES } } },
};

static const char suite_name[] = "_25519_ChaChaPoly_BLAKE2b";

/*
 * Primitives.
 */

static void
hash2(uint8_t out[NOISE_HASHLEN], const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen)
{
	crypto_generichash_state st;

	/* Unkeyed BLAKE2b-512 cannot fail: the lengths are constants. */
	(void)crypto_generichash_init(&st, NULL, 0, NOISE_HASHLEN);
	if (alen > 0)
		(void)crypto_generichash_update(&st, a, alen);
	if (blen > 0)
		(void)crypto_generichash_update(&st, b, blen);
	(void)crypto_generichash_final(&st, out, NOISE_HASHLEN);
	sodium_memzero(&st, sizeof(st));
}

/*
 * HMAC-BLAKE2b (RFC 2104, 128-byte block). Noise only ever keys it with
 * HASHLEN bytes, shorter than a block, so the key is never hashed first.
 * The message is a || b, which saves a copy in HKDF.
 */
static void
hmac(uint8_t out[NOISE_HASHLEN], const uint8_t key[NOISE_HASHLEN],
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_state st;
	uint8_t	pad[NOISE_BLOCKLEN], inner[NOISE_HASHLEN];
	size_t	i;

	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < NOISE_HASHLEN; i++)
		pad[i] ^= key[i];
	(void)crypto_generichash_init(&st, NULL, 0, NOISE_HASHLEN);
	(void)crypto_generichash_update(&st, pad, sizeof(pad));
	if (alen > 0)
		(void)crypto_generichash_update(&st, a, alen);
	if (blen > 0)
		(void)crypto_generichash_update(&st, b, blen);
	(void)crypto_generichash_final(&st, inner, sizeof(inner));

	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < NOISE_HASHLEN; i++)
		pad[i] ^= key[i];
	(void)crypto_generichash_init(&st, NULL, 0, NOISE_HASHLEN);
	(void)crypto_generichash_update(&st, pad, sizeof(pad));
	(void)crypto_generichash_update(&st, inner, sizeof(inner));
	(void)crypto_generichash_final(&st, out, NOISE_HASHLEN);

	sodium_memzero(&st, sizeof(st));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

/* HKDF as the spec defines it: two outputs, or three when o3 is given. */
static void
hkdf(const uint8_t ck[NOISE_HASHLEN], const uint8_t *ikm, size_t ikmlen,
    uint8_t o1[NOISE_HASHLEN], uint8_t o2[NOISE_HASHLEN],
    uint8_t o3[NOISE_HASHLEN])
{
	static const uint8_t one = 0x01, two = 0x02, three = 0x03;
	uint8_t	tk[NOISE_HASHLEN];

	hmac(tk, ck, ikm, ikmlen, NULL, 0);
	hmac(o1, tk, &one, 1, NULL, 0);
	hmac(o2, tk, o1, NOISE_HASHLEN, &two, 1);
	if (o3 != NULL)
		hmac(o3, tk, o2, NOISE_HASHLEN, &three, 1);
	sodium_memzero(tk, sizeof(tk));
}

/* Rejects an all-zero result, i.e. a low-order peer key (spec 4.1 allows). */
static int
dh(uint8_t out[NOISE_DHLEN], const uint8_t priv[NOISE_DHLEN],
    const uint8_t pub[NOISE_DHLEN])
{
	if (crypto_scalarmult_curve25519(out, priv, pub) != 0) {
		sodium_memzero(out, NOISE_DHLEN);
		return -1;
	}
	return 0;
}

/*
 * CipherState.
 */

static void
cipher_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES],
    uint64_t n)
{
	size_t	i;

	/* 32 bits of zeros, then the counter little-endian. */
	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

static void
cipher_init_key(struct noise_cipher *c, const uint8_t *k)
{
	memcpy(c->k, k, NOISE_KEYLEN);
	c->n = 0;
	c->has_key = 1;
}

/* 2^64-1 is reserved by the spec, so it is never used as a nonce. */
static int
cipher_seal(struct noise_cipher *c, const uint8_t *ad, size_t adlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	uint8_t	nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	if (!c->has_key || c->n == UINT64_MAX)
		return -1;
	cipher_nonce(nonce, c->n);
	(void)crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, ptlen,
	    ad, adlen, NULL, nonce, c->k);
	c->n++;
	return 0;
}

static int
cipher_open(struct noise_cipher *c, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	uint8_t	nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

	if (!c->has_key || c->n == UINT64_MAX || ctlen < NOISE_TAGLEN)
		return -1;
	cipher_nonce(nonce, c->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct,
	    ctlen, ad, adlen, nonce, c->k) != 0)
		return -1;
	c->n++;
	return 0;
}

/*
 * SymmetricState.
 */

static void
mix_hash(struct noise_hs *hs, const uint8_t *data, size_t len)
{
	hash2(hs->h, hs->h, sizeof(hs->h), data, len);
}

static void
mix_key(struct noise_hs *hs, const uint8_t *ikm, size_t ikmlen)
{
	uint8_t	ck[NOISE_HASHLEN], k[NOISE_HASHLEN];

	hkdf(hs->ck, ikm, ikmlen, ck, k, NULL);
	memcpy(hs->ck, ck, sizeof(ck));
	cipher_init_key(&hs->cs, k);	/* truncated to 32 bytes */
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(k, sizeof(k));
}

static void
mix_key_and_hash(struct noise_hs *hs, const uint8_t *ikm, size_t ikmlen)
{
	uint8_t	ck[NOISE_HASHLEN], th[NOISE_HASHLEN], k[NOISE_HASHLEN];

	hkdf(hs->ck, ikm, ikmlen, ck, th, k);
	memcpy(hs->ck, ck, sizeof(ck));
	mix_hash(hs, th, sizeof(th));
	cipher_init_key(&hs->cs, k);
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(th, sizeof(th));
	sodium_memzero(k, sizeof(k));
}

/* out holds len (+ NOISE_TAGLEN once keyed) bytes. */
static int
encrypt_and_hash(struct noise_hs *hs, const uint8_t *pt, size_t len,
    uint8_t *out, size_t *outlen)
{
	if (hs->cs.has_key) {
		if (cipher_seal(&hs->cs, hs->h, sizeof(hs->h), pt, len,
		    out) == -1)
			return -1;
		len += NOISE_TAGLEN;
	} else if (len > 0)
		memcpy(out, pt, len);
	mix_hash(hs, out, len);
	*outlen = len;
	return 0;
}

/* The caller has checked len covers the tag when keyed. */
static int
decrypt_and_hash(struct noise_hs *hs, const uint8_t *ct, size_t len,
    uint8_t *out)
{
	if (hs->cs.has_key) {
		if (cipher_open(&hs->cs, hs->h, sizeof(hs->h), ct, len,
		    out) == -1)
			return -1;
	} else if (len > 0)
		memcpy(out, ct, len);
	mix_hash(hs, ct, len);
	return 0;
}

/*
 * Protocol names.
 */

static size_t
bounded_strlen(const char *s, size_t max)
{
	size_t	n = 0;

	while (n <= max && s[n] != '\0')
		n++;
	return n;
}

static const struct pattern *
pattern_lookup(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		if (strlen(patterns[i].name) == len &&
		    memcmp(patterns[i].name, p, len) == 0)
			return &patterns[i];
	return NULL;
}

/*
 * Parses "psk0+psk2" (possibly empty) into a bit set of message numbers;
 * psk0 is before message 1, pskN after message N. -1 on anything else,
 * a repeat, or a number past the pattern's messages.
 */
static int
parse_modifiers(const char *q, const char *end, unsigned nmsgs,
    unsigned *set)
{
	unsigned n;

	*set = 0;
	while (q < end) {
		if (end - q < 4 || memcmp(q, "psk", 3) != 0 ||
		    q[3] < '0' || q[3] > '9')
			return -1;
		n = (unsigned)(q[3] - '0');
		if (n > nmsgs || (*set & (1u << n)))
			return -1;
		*set |= 1u << n;
		q += 4;
		if (q < end && (*q != '+' || ++q == end))
			return -1;
	}
	return 0;
}

static void
token_append(struct noise_hs *hs, unsigned msg, uint8_t tok)
{
	hs->tokens[msg][hs->ntokens[msg]++] = tok;
}

static int
parse_name(struct noise_hs *hs, const char *name, const struct pattern **out)
{
	const struct pattern *pat;
	const char *p, *mods;
	unsigned set, m;
	size_t	b, t;

	if (bounded_strlen(name, NOISE_MAX_NAME) > NOISE_MAX_NAME ||
	    strncmp(name, "Noise_", 6) != 0)
		return -1;
	p = name + 6;
	for (b = 0; p[b] >= 'A' && p[b] <= 'Z'; b++)
		;
	if ((pat = pattern_lookup(p, b)) == NULL)
		return -1;
	mods = p + b;
	for (p = mods; *p != '_' && *p != '\0'; p++)
		;
	if (strcmp(p, suite_name) != 0 ||
	    parse_modifiers(mods, p, pat->nmsgs, &set) == -1)
		return -1;

	hs->nmsgs = pat->nmsgs;
	for (m = 0; m < pat->nmsgs; m++) {
		if (m == 0 && (set & 1u))
			token_append(hs, m, TOK_PSK);
		for (t = 0; t < NOISE_MAX_TOKENS && pat->tokens[m][t] != 0; t++)
			token_append(hs, m, pat->tokens[m][t]);
		if (set & (1u << (m + 1)))
			token_append(hs, m, TOK_PSK);
	}
	for (m = 0; m <= pat->nmsgs; m++)
		if (set & (1u << m))
			hs->npsks_needed++;
	hs->psk_mode = set != 0;
	hs->one_way = pat->one_way;
	*out = pat;
	return 0;
}

/*
 * HandshakeState.
 */

static void
hs_kill(struct noise_hs *hs)
{
	sodium_memzero(hs, sizeof(*hs));
	hs->state = NOISE_HS_DEAD;
}

static int
hs_set_keys(struct noise_hs *hs, const struct pattern *pat,
    const uint8_t *s_priv, const uint8_t *rs_pub)
{
	int	need_s, need_rs;

	need_s = hs->initiator ? pat->need_s_i : pat->need_s_r;
	need_rs = hs->initiator ? pat->pre_r : pat->pre_i;
	if ((s_priv != NULL) != need_s || (rs_pub != NULL) != need_rs)
		return -1;
	if (s_priv != NULL) {
		memcpy(hs->s_priv, s_priv, NOISE_DHLEN);
		if (crypto_scalarmult_curve25519_base(hs->s_pub,
		    hs->s_priv) != 0)
			return -1;
		hs->has_s = 1;
	}
	if (rs_pub != NULL) {
		memcpy(hs->rs, rs_pub, NOISE_DHLEN);
		hs->has_rs = 1;
	}
	return 0;
}

/* Pre-messages are hashed initiator's first, whoever we are. */
static void
hs_premessages(struct noise_hs *hs, const struct pattern *pat)
{
	if (pat->pre_i)
		mix_hash(hs, hs->initiator ? hs->s_pub : hs->rs, NOISE_DHLEN);
	if (pat->pre_r)
		mix_hash(hs, hs->initiator ? hs->rs : hs->s_pub, NOISE_DHLEN);
}

int
noise_hs_init(struct noise_hs *hs, const char *protocol_name, int initiator,
    const uint8_t *prologue, size_t prologue_len, const uint8_t *s_priv,
    const uint8_t *rs_pub)
{
	const struct pattern *pat;
	size_t	len;

	if (hs == NULL)
		return -1;
	sodium_memzero(hs, sizeof(*hs));
	if (protocol_name == NULL || (prologue == NULL && prologue_len != 0))
		return -1;
	hs->initiator = initiator != 0;
	if (parse_name(hs, protocol_name, &pat) == -1 ||
	    hs_set_keys(hs, pat, s_priv, rs_pub) == -1) {
		sodium_memzero(hs, sizeof(*hs));
		return -1;
	}

	len = strlen(protocol_name);
	if (len <= NOISE_HASHLEN)
		memcpy(hs->h, protocol_name, len);	/* zero-padded */
	else
		hash2(hs->h, (const uint8_t *)protocol_name, len, NULL, 0);
	memcpy(hs->ck, hs->h, sizeof(hs->ck));
	mix_hash(hs, prologue, prologue_len);
	hs_premessages(hs, pat);
	hs->state = NOISE_HS_ACTIVE;
	return 0;
}

int
noise_hs_add_psk(struct noise_hs *hs, const uint8_t psk[NOISE_PSKLEN])
{
	if (hs == NULL || psk == NULL || hs->state != NOISE_HS_ACTIVE ||
	    hs->npsks >= hs->npsks_needed)
		return -1;
	memcpy(hs->psks[hs->npsks++], psk, NOISE_PSKLEN);
	return 0;
}

int
noise_hs_set_ephemeral(struct noise_hs *hs, const uint8_t e_priv[NOISE_DHLEN])
{
	if (hs == NULL || e_priv == NULL || hs->state != NOISE_HS_ACTIVE ||
	    hs->has_e)
		return -1;
	memcpy(hs->e_priv, e_priv, NOISE_DHLEN);
	hs->e_fixed = 1;
	return 0;
}

static int
hs_my_turn(const struct noise_hs *hs, int writing)
{
	int	initiator_sends;

	if (hs->state != NOISE_HS_ACTIVE || hs->msg_index >= hs->nmsgs)
		return 0;
	initiator_sends = hs->msg_index % 2 == 0;
	return (initiator_sends == (int)hs->initiator) == (writing != 0);
}

/*
 * The bytes the next message carries besides its payload, whether its
 * payload is encrypted, and whether the psks it needs are there: all known
 * before a byte is written or read, so length errors never leave a
 * half-processed state.
 */
static int
hs_layout(const struct noise_hs *hs, size_t *fixed, int *keyed)
{
	const uint8_t *tok = hs->tokens[hs->msg_index];
	unsigned psks = 0;
	size_t	i;

	*fixed = 0;
	*keyed = hs->cs.has_key;
	for (i = 0; i < hs->ntokens[hs->msg_index]; i++) {
		switch (tok[i]) {
		case TOK_E:
			*fixed += NOISE_DHLEN;
			if (hs->psk_mode)
				*keyed = 1;
			break;
		case TOK_S:
			*fixed += NOISE_DHLEN + (*keyed ? NOISE_TAGLEN : 0);
			break;
		case TOK_PSK:
			psks++;
			/* FALLTHROUGH */
		default:
			*keyed = 1;
			break;
		}
	}
	return hs->psk_next + psks <= hs->npsks ? 0 : -1;
}

/* Which keys a DH token combines, by role (spec 7.1). */
static int
hs_dh_token(struct noise_hs *hs, uint8_t tok)
{
	const uint8_t *priv, *pub;
	uint8_t	out[NOISE_DHLEN];
	int	local_e, remote_e;

	switch (tok) {
	case TOK_EE:
		local_e = 1, remote_e = 1;
		break;
	case TOK_ES:
		local_e = hs->initiator, remote_e = !hs->initiator;
		break;
	case TOK_SE:
		local_e = !hs->initiator, remote_e = hs->initiator;
		break;
	case TOK_SS:
		local_e = 0, remote_e = 0;
		break;
	default:
		return -1;
	}
	if ((local_e ? !hs->has_e : !hs->has_s) ||
	    (remote_e ? !hs->has_re : !hs->has_rs))
		return -1;
	priv = local_e ? hs->e_priv : hs->s_priv;
	pub = remote_e ? hs->re : hs->rs;
	if (dh(out, priv, pub) == -1)
		return -1;
	mix_key(hs, out, sizeof(out));
	sodium_memzero(out, sizeof(out));
	return 0;
}

static int
hs_write_token(struct noise_hs *hs, uint8_t tok, uint8_t *out, size_t *pos)
{
	size_t	n;

	switch (tok) {
	case TOK_E:
		if (hs->has_e)
			return -1;
		if (!hs->e_fixed)
			randombytes_buf(hs->e_priv, sizeof(hs->e_priv));
		if (crypto_scalarmult_curve25519_base(hs->e_pub,
		    hs->e_priv) != 0)
			return -1;
		hs->has_e = 1;
		memcpy(out + *pos, hs->e_pub, NOISE_DHLEN);
		*pos += NOISE_DHLEN;
		mix_hash(hs, hs->e_pub, NOISE_DHLEN);
		if (hs->psk_mode)
			mix_key(hs, hs->e_pub, NOISE_DHLEN);
		return 0;
	case TOK_S:
		if (!hs->has_s ||
		    encrypt_and_hash(hs, hs->s_pub, NOISE_DHLEN, out + *pos,
		    &n) == -1)
			return -1;
		*pos += n;
		return 0;
	case TOK_PSK:
		mix_key_and_hash(hs, hs->psks[hs->psk_next++], NOISE_PSKLEN);
		return 0;
	default:
		return hs_dh_token(hs, tok);
	}
}

/* hs_layout() has checked that msg holds every token's bytes. */
static int
hs_read_token(struct noise_hs *hs, uint8_t tok, const uint8_t *msg,
    size_t *pos)
{
	size_t	n;

	switch (tok) {
	case TOK_E:
		if (hs->has_re)
			return -1;
		memcpy(hs->re, msg + *pos, NOISE_DHLEN);
		hs->has_re = 1;
		*pos += NOISE_DHLEN;
		mix_hash(hs, hs->re, NOISE_DHLEN);
		if (hs->psk_mode)
			mix_key(hs, hs->re, NOISE_DHLEN);
		return 0;
	case TOK_S:
		if (hs->has_rs)
			return -1;
		n = NOISE_DHLEN + (hs->cs.has_key ? NOISE_TAGLEN : 0);
		if (decrypt_and_hash(hs, msg + *pos, n, hs->rs) == -1)
			return -1;
		hs->has_rs = 1;
		*pos += n;
		return 0;
	case TOK_PSK:
		mix_key_and_hash(hs, hs->psks[hs->psk_next++], NOISE_PSKLEN);
		return 0;
	default:
		return hs_dh_token(hs, tok);
	}
}

static void
hs_advance(struct noise_hs *hs)
{
	if (++hs->msg_index == hs->nmsgs)
		hs->state = NOISE_HS_DONE;
}

int
noise_hs_write(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	size_t	fixed, need, pos = 0, n, i;
	int	keyed;

	if (hs == NULL || out == NULL || outlen == NULL ||
	    (payload == NULL && plen != 0) || !hs_my_turn(hs, 1) ||
	    hs_layout(hs, &fixed, &keyed) == -1 || plen > NOISE_MAX_MSG)
		return -1;
	need = fixed + plen + (keyed ? NOISE_TAGLEN : 0);
	if (need > NOISE_MAX_MSG || need > outcap)
		return -1;

	for (i = 0; i < hs->ntokens[hs->msg_index]; i++)
		if (hs_write_token(hs, hs->tokens[hs->msg_index][i], out,
		    &pos) == -1)
			goto out_kill;
	if (encrypt_and_hash(hs, payload, plen, out + pos, &n) == -1)
		goto out_kill;
	*outlen = pos + n;
	hs_advance(hs);
	return 0;

out_kill:
	hs_kill(hs);
	return -1;
}

int
noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t mlen,
    uint8_t *payload, size_t paycap, size_t *paylen)
{
	size_t	fixed, overhead, plen, pos = 0, i;
	int	keyed;

	if (hs == NULL || paylen == NULL || (msg == NULL && mlen != 0) ||
	    !hs_my_turn(hs, 0) || hs_layout(hs, &fixed, &keyed) == -1)
		return -1;
	overhead = fixed + (keyed ? NOISE_TAGLEN : 0);
	if (mlen > NOISE_MAX_MSG || mlen < overhead)
		goto out_kill;
	plen = mlen - overhead;
	/* The caller's buffer, not the peer's message: nothing is lost. */
	if (plen > paycap || (payload == NULL && plen != 0))
		return -1;

	for (i = 0; i < hs->ntokens[hs->msg_index]; i++)
		if (hs_read_token(hs, hs->tokens[hs->msg_index][i], msg,
		    &pos) == -1)
			goto out_kill;
	if (decrypt_and_hash(hs, msg + pos, mlen - pos, payload) == -1)
		goto out_kill;
	*paylen = plen;
	hs_advance(hs);
	return 0;

out_kill:
	hs_kill(hs);
	return -1;
}

int
noise_hs_done(const struct noise_hs *hs)
{
	return hs != NULL &&
	    (hs->state == NOISE_HS_DONE || hs->state == NOISE_HS_SPLIT);
}

/* Keeps what the caller may still ask for: h and the peer's static key. */
static void
hs_forget(struct noise_hs *hs)
{
	uint8_t	h[NOISE_HASHLEN], rs[NOISE_DHLEN];
	unsigned has_rs = hs->has_rs;

	memcpy(h, hs->h, sizeof(h));
	memcpy(rs, hs->rs, sizeof(rs));
	sodium_memzero(hs, sizeof(*hs));
	memcpy(hs->h, h, sizeof(h));
	memcpy(hs->rs, rs, sizeof(rs));
	hs->has_rs = has_rs;
	hs->state = NOISE_HS_SPLIT;
}

int
noise_hs_split(struct noise_hs *hs, struct noise_cipher *tx,
    struct noise_cipher *rx)
{
	struct noise_cipher *c1, *c2;
	uint8_t	k1[NOISE_HASHLEN], k2[NOISE_HASHLEN];

	if (hs == NULL || tx == NULL || rx == NULL || tx == rx ||
	    hs->state != NOISE_HS_DONE)
		return -1;
	sodium_memzero(tx, sizeof(*tx));
	sodium_memzero(rx, sizeof(*rx));
	/* c1 carries initiator -> responder, c2 the other way. */
	c1 = hs->initiator ? tx : rx;
	c2 = hs->initiator ? rx : tx;

	hkdf(hs->ck, NULL, 0, k1, k2, NULL);
	cipher_init_key(c1, k1);
	if (!hs->one_way)
		cipher_init_key(c2, k2);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	hs_forget(hs);
	return 0;
}

void
noise_hs_hash(const struct noise_hs *hs, uint8_t out[NOISE_HASHLEN])
{
	if (hs == NULL || out == NULL)
		return;
	memcpy(out, hs->h, NOISE_HASHLEN);
}

int
noise_hs_remote_static(const struct noise_hs *hs, uint8_t out[NOISE_DHLEN])
{
	if (hs == NULL || out == NULL || !hs->has_rs ||
	    hs->state == NOISE_HS_NONE || hs->state == NOISE_HS_DEAD)
		return -1;
	memcpy(out, hs->rs, NOISE_DHLEN);
	return 0;
}

/*
 * Transport.
 */

int
noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad, size_t adlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	if (c == NULL || out == NULL || (ad == NULL && adlen != 0) ||
	    (pt == NULL && ptlen != 0) ||
	    ptlen > NOISE_MAX_MSG - NOISE_TAGLEN)
		return -1;
	return cipher_seal(c, ad, adlen, pt, ptlen, out);
}

int
noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	if (c == NULL || ct == NULL || (ad == NULL && adlen != 0) ||
	    ctlen < NOISE_TAGLEN || ctlen > NOISE_MAX_MSG ||
	    (out == NULL && ctlen != NOISE_TAGLEN))
		return -1;
	return cipher_open(c, ad, adlen, ct, ctlen, out);
}

void
noise_wipe_hs(struct noise_hs *hs)
{
	if (hs != NULL)
		sodium_memzero(hs, sizeof(*hs));
}

void
noise_wipe_cipher(struct noise_cipher *c)
{
	if (c != NULL)
		sodium_memzero(c, sizeof(*c));
}
