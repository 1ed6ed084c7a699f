/*
 * libFuzzer target: a Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b responder with
 * fixed keys reads what the fuzzer sends. It must refuse, never crash.
 *
 * Each input is tried twice:
 *  - whole, as handshake message 1;
 *  - split: a 2-byte big-endian length L, then L bytes of message 1 (fewer
 *    if the input ends first), then the rest as message 3, read after the
 *    responder has written message 2. The responder's ephemeral is fixed,
 *    so message 2 is the same on every run and a valid message 3 stays
 *    valid: the seed corpus/noise/transcript reaches a finished handshake.
 *
 * Building with -DNOISE_FUZZ_SEEDS instead gives a program that writes the
 * seed files into the directory named by its argument, e.g.
 *	cc -DNOISE_FUZZ_SEEDS -Iproto tests/fuzz/noise_fuzz.c proto/noise.c \
 *	    -lsodium -o seeds && ./seeds tests/fuzz/corpus/noise
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "noise.h"

#define PROTOCOL	"Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"
#define PROLOGUE	"satchel-fuzz"

/* Arbitrary fixed keys: the fuzzer needs a responder that never changes. */
static const uint8_t resp_static[NOISE_DHLEN] = {
	0x4a, 0x3a, 0xcb, 0xfd, 0xb1, 0x63, 0xde, 0xc6,
	0x51, 0xdf, 0xa3, 0x19, 0x4d, 0xec, 0xe6, 0x76,
	0xd4, 0x37, 0x02, 0x9c, 0x62, 0xa4, 0x08, 0xb4,
	0xc5, 0xea, 0x91, 0x14, 0x24, 0x6e, 0x48, 0x93,
};
static const uint8_t resp_ephemeral[NOISE_DHLEN] = {
	0xbb, 0xdb, 0x4c, 0xdb, 0xd3, 0x09, 0xf1, 0xa1,
	0xf2, 0xe1, 0x45, 0x69, 0x67, 0xfe, 0x28, 0x8c,
	0xad, 0xd6, 0xf7, 0x12, 0xd6, 0x5d, 0xc7, 0xb7,
	0x79, 0x3d, 0x5e, 0x63, 0xda, 0x6b, 0x37, 0x5b,
};
static const uint8_t psk[NOISE_PSKLEN] = {
	0x54, 0x68, 0x69, 0x73, 0x20, 0x69, 0x73, 0x20,
	0x6d, 0x79, 0x20, 0x41, 0x75, 0x73, 0x74, 0x72,
	0x69, 0x61, 0x6e, 0x20, 0x70, 0x65, 0x72, 0x73,
	0x70, 0x65, 0x63, 0x74, 0x69, 0x76, 0x65, 0x21,
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_responder(struct noise_hs *hs)
{
	if (noise_hs_init(hs, PROTOCOL, 0, (const uint8_t *)PROLOGUE,
	    sizeof(PROLOGUE) - 1, resp_static, NULL) == -1 ||
	    noise_hs_add_psk(hs, psk) == -1 ||
	    noise_hs_set_ephemeral(hs, resp_ephemeral) == -1)
		return -1;
	return 0;
}

/* Reads m1, answers, reads m3 if given; on success, uses the transport. */
static void
fuzz_run(const uint8_t *m1, size_t m1len, const uint8_t *m3, size_t m3len,
    int has_m3)
{
	static uint8_t buf[NOISE_MAX_MSG];
	static const uint8_t reply[] = "m2";
	struct noise_cipher tx, rx;
	struct noise_hs hs;
	uint8_t	ct[sizeof(reply) + NOISE_TAGLEN];
	size_t	n;

	if (fuzz_responder(&hs) == -1)
		__builtin_trap();	/* fixed inputs: a bug, not a refusal */
	if (noise_hs_read(&hs, m1, m1len, buf, sizeof(buf), &n) == -1 ||
	    noise_hs_write(&hs, reply, sizeof(reply), buf, sizeof(buf),
	    &n) == -1 || !has_m3 ||
	    noise_hs_read(&hs, m3, m3len, buf, sizeof(buf), &n) == -1)
		goto out;
	if (!noise_hs_done(&hs) || noise_hs_split(&hs, &tx, &rx) == -1)
		__builtin_trap();
	if (noise_cipher_encrypt(&tx, NULL, 0, reply, sizeof(reply), ct) == -1)
		__builtin_trap();
	noise_wipe_cipher(&tx);
	noise_wipe_cipher(&rx);
out:
	noise_wipe_hs(&hs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	l;

	if (sodium_init() < 0)
		__builtin_trap();
	fuzz_run(data, size, NULL, 0, 0);
	if (size >= 2) {
		l = (size_t)data[0] << 8 | data[1];
		if (l > size - 2)
			l = size - 2;
		fuzz_run(data + 2, l, data + 2 + l, size - 2 - l, 1);
	}
	return 0;
}

#ifdef NOISE_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

static const uint8_t init_static[NOISE_DHLEN] = {
	0xe6, 0x1e, 0xf9, 0x91, 0x9c, 0xde, 0x45, 0xdd,
	0x5f, 0x82, 0x16, 0x64, 0x04, 0xbd, 0x08, 0xe3,
	0x8b, 0xce, 0xb5, 0xdf, 0xdf, 0xde, 0xd0, 0xa3,
	0x4c, 0x8d, 0xf7, 0xed, 0x54, 0x22, 0x14, 0xd1,
};
static const uint8_t init_ephemeral[NOISE_DHLEN] = {
	0x89, 0x3e, 0x28, 0xb9, 0xdc, 0x6c, 0xa8, 0xd6,
	0x11, 0xab, 0x66, 0x47, 0x54, 0xb8, 0xce, 0xb7,
	0xba, 0xc5, 0x11, 0x73, 0x49, 0xa4, 0x43, 0x9a,
	0x6b, 0x05, 0x69, 0xda, 0x97, 0x7c, 0x46, 0x4a,
};

int
main(int argc, char **argv)
{
	static const uint8_t p1[] = "hello", p3[] = "ed25519 key here";
	static uint8_t m1[256], m2[256], m3[256], pt[256], tr[1024];
	struct noise_hs ini, res;
	size_t	m1len, m2len, m3len, n;

	if (argc != 2 || sodium_init() < 0 ||
	    noise_hs_init(&ini, PROTOCOL, 1, (const uint8_t *)PROLOGUE,
	    sizeof(PROLOGUE) - 1, init_static, NULL) == -1 ||
	    noise_hs_add_psk(&ini, psk) == -1 ||
	    noise_hs_set_ephemeral(&ini, init_ephemeral) == -1 ||
	    fuzz_responder(&res) == -1)
		return 1;
	if (noise_hs_write(&ini, p1, sizeof(p1), m1, sizeof(m1), &m1len) ||
	    noise_hs_read(&res, m1, m1len, pt, sizeof(pt), &n) ||
	    noise_hs_write(&res, (const uint8_t *)"m2", 3, m2, sizeof(m2),
	    &m2len) ||
	    noise_hs_read(&ini, m2, m2len, pt, sizeof(pt), &n) ||
	    noise_hs_write(&ini, p3, sizeof(p3), m3, sizeof(m3), &m3len) ||
	    noise_hs_read(&res, m3, m3len, pt, sizeof(pt), &n) ||
	    !noise_hs_done(&res))
		return 1;
	tr[0] = (uint8_t)(m1len >> 8);
	tr[1] = (uint8_t)m1len;
	memcpy(tr + 2, m1, m1len);
	memcpy(tr + 2 + m1len, m3, m3len);
	if (seed_write(argv[1], "msg1", m1, m1len) ||
	    seed_write(argv[1], "msg1-truncated", m1, m1len - 7) ||
	    seed_write(argv[1], "empty", m1, 0) ||
	    seed_write(argv[1], "transcript", tr, 2 + m1len + m3len) ||
	    seed_write(argv[1], "transcript-truncated", tr, 2 + m1len + 40))
		return 1;
	noise_wipe_hs(&ini);
	noise_wipe_hs(&res);
	return 0;
}
#endif
