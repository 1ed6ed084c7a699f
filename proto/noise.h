/*
 * Noise Protocol Framework handshakes (revision 34) for the one suite
 * Satchel uses: 25519, ChaChaPoly, BLAKE2b. Patterns NN, XX, KK and N, with
 * any set of psk modifiers (e.g. "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b",
 * "Noise_NNpsk0+psk2_25519_ChaChaPoly_BLAKE2b").
 *
 * Every primitive is libsodium's; this module only sequences them as the
 * spec says. It does no I/O, keeps no globals and never allocates: callers
 * own the state structs below (which hold no pointers, so a struct copy is
 * a full independent copy, e.g. to try a second psk on the same message)
 * and must wipe them with noise_wipe_hs() / noise_wipe_cipher().
 *
 * All int-returning functions return 0 on success and -1 on failure unless
 * said otherwise. Call sodium_init() before using any of them.
 */
#ifndef SATCHEL_NOISE_H
#define SATCHEL_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define NOISE_MAX_MSG		65535	/* spec: a Noise message never exceeds this */
#define NOISE_DHLEN		32	/* X25519 keys and shared secrets */
#define NOISE_HASHLEN		64	/* BLAKE2b-512 */
#define NOISE_BLOCKLEN		128	/* BLAKE2b block size, for HMAC */
#define NOISE_KEYLEN		32	/* ChaCha20-Poly1305 key */
#define NOISE_TAGLEN		16	/* Poly1305 tag */
#define NOISE_PSKLEN		32	/* spec: psks are exactly 32 bytes */

#define NOISE_MAX_MSGS		3	/* XX, the longest supported pattern */
#define NOISE_MAX_TOKENS	8	/* per message, psk tokens included */
#define NOISE_MAX_PSKS		4	/* psk0..psk3 at most */

#if defined(__GNUC__) || defined(__clang__)
#define NOISE_WUR	__attribute__((warn_unused_result))
#else
#define NOISE_WUR
#endif

/*
 * A CipherState. After noise_hs_split() these are the transport ciphers;
 * one without a key (has_key == 0) refuses to encrypt or decrypt rather
 * than pass plaintext through.
 */
struct noise_cipher {
	uint8_t		k[NOISE_KEYLEN];
	uint64_t	n;
	int		has_key;
};

/*
 * A HandshakeState (with its SymmetricState). Public only so that callers
 * can allocate it; touch the fields through the functions below.
 */
struct noise_hs {
	struct noise_cipher cs;
	uint8_t		ck[NOISE_HASHLEN];
	uint8_t		h[NOISE_HASHLEN];

	uint8_t		s_priv[NOISE_DHLEN];
	uint8_t		s_pub[NOISE_DHLEN];
	uint8_t		e_priv[NOISE_DHLEN];
	uint8_t		e_pub[NOISE_DHLEN];
	uint8_t		rs[NOISE_DHLEN];
	uint8_t		re[NOISE_DHLEN];
	uint8_t		psks[NOISE_MAX_PSKS][NOISE_PSKLEN];

	uint8_t		tokens[NOISE_MAX_MSGS][NOISE_MAX_TOKENS];
	uint8_t		ntokens[NOISE_MAX_MSGS];
	uint8_t		nmsgs;
	uint8_t		msg_index;	/* next handshake message */
	uint8_t		npsks_needed;	/* psk tokens in the pattern */
	uint8_t		npsks;		/* psks added so far */
	uint8_t		psk_next;	/* next psk a psk token takes */

	unsigned int	initiator:1;
	unsigned int	one_way:1;	/* N: every message goes i -> r */
	unsigned int	psk_mode:1;	/* any psk modifier: "e" mixes the key */
	unsigned int	has_s:1;
	unsigned int	has_e:1;
	unsigned int	e_fixed:1;	/* set by noise_hs_set_ephemeral() */
	unsigned int	has_rs:1;
	unsigned int	has_re:1;

	int		state;		/* NOISE_HS_*, private */
};

/*
 * Parses protocol_name and runs Initialize(). s_priv must be given exactly
 * when the pattern uses this side's static key (XX, KK, the N responder);
 * rs_pub exactly when a pre-message carries the peer's static key (KK both
 * sides, the N initiator). Both are copied. The prologue is hashed, not
 * kept. Any other suite, pattern or modifier is refused.
 */
int	noise_hs_init(struct noise_hs *hs, const char *protocol_name,
	    int initiator, const uint8_t *prologue, size_t prologue_len,
	    const uint8_t *s_priv, const uint8_t *rs_pub) NOISE_WUR;

/*
 * Adds the next psk; psk tokens take them in the order added. Refused past
 * the number of psk tokens the pattern has. Copied, wiped with the state.
 */
int	noise_hs_add_psk(struct noise_hs *hs, const uint8_t psk[NOISE_PSKLEN])
	    NOISE_WUR;

/*
 * Fixes the ephemeral private key, for test vectors only: without it a
 * fresh one is drawn with randombytes_buf() when the "e" token is written.
 * Must be called before that token.
 */
int	noise_hs_set_ephemeral(struct noise_hs *hs,
	    const uint8_t e_priv[NOISE_DHLEN]) NOISE_WUR;

/*
 * Writes the next handshake message, carrying payload, into out. Fails
 * with the state untouched when it is not this side's turn, a psk is
 * missing, or out (outcap) or NOISE_MAX_MSG cannot hold the message; any
 * later failure (an invalid peer key) kills the handshake.
 * payload and out must not overlap.
 */
int	noise_hs_write(struct noise_hs *hs, const uint8_t *payload,
	    size_t plen, uint8_t *out, size_t outcap, size_t *outlen) NOISE_WUR;

/*
 * Reads the next handshake message and writes its payload into payload.
 * Fails with the state untouched when it is not this side's turn, a psk is
 * missing or paycap is too small for the payload this message carries.
 * A malformed message (wrong length, bad tag, invalid key) kills the
 * handshake: every later call on it fails. msg and payload must not
 * overlap; on failure payload holds no plaintext.
 */
int	noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t mlen,
	    uint8_t *payload, size_t paycap, size_t *paylen) NOISE_WUR;

/* 1 once every handshake message has gone through, else 0. */
int	noise_hs_done(const struct noise_hs *hs);

/*
 * Split(): once done, fills the transport ciphers, tx for this side's
 * messages and rx for the peer's. In a one-way pattern (N) the
 * responder's tx and the initiator's rx are left without a key.
 * Afterwards only noise_hs_hash() and noise_hs_remote_static() still work;
 * every other secret in hs is wiped.
 */
int	noise_hs_split(struct noise_hs *hs, struct noise_cipher *tx,
	    struct noise_cipher *rx) NOISE_WUR;

/* The handshake hash h, for channel binding; meaningful once done. */
void	noise_hs_hash(const struct noise_hs *hs, uint8_t out[NOISE_HASHLEN]);

/*
 * The peer's static public key, once known (from a pre-message or received
 * and authenticated in the handshake); -1 if there is none yet.
 */
int	noise_hs_remote_static(const struct noise_hs *hs,
	    uint8_t out[NOISE_DHLEN]) NOISE_WUR;

/*
 * Transport encryption with the next nonce; out holds ptlen + NOISE_TAGLEN
 * bytes and a whole message may not exceed NOISE_MAX_MSG. -1 without a key
 * or once the nonces run out.
 */
int	noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad,
	    size_t adlen, const uint8_t *pt, size_t ptlen, uint8_t *out)
	    NOISE_WUR;

/*
 * Transport decryption; out holds ctlen - NOISE_TAGLEN bytes. -1 without a
 * key, on a bad length or tag (the nonce is then not used up, as the spec
 * says) or once the nonces run out.
 */
int	noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad,
	    size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out)
	    NOISE_WUR;

/* Wipe every byte; both accept NULL. The state is then unusable. */
void	noise_wipe_hs(struct noise_hs *hs);
void	noise_wipe_cipher(struct noise_cipher *c);

#endif
