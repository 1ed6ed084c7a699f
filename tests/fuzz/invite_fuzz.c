/*
 * libFuzzer target: invite_decode reads a token pasted in by a user, from
 * any channel. It must refuse, never crash. The signature is checked last,
 * inside invite_decode, so a mutated token is nearly always refused there;
 * the seeds are valid tokens signed by a fixed key, so the fuzzer starts
 * from inputs that pass and finds the mutations that still do (those that
 * change only the form, not the content the signature covers).
 *
 * What it accepts must keep its promises (at most INVITE_MAX_ADDRS
 * addresses, each NUL-terminated with no NUL inside), and re-encoding it
 * with invite_encode, signed by the fixed key in place of the inviter's,
 * must decode again to the same fields; when the inviter is the fixed key
 * the signature must come out the same (ed25519 is deterministic) and the
 * encoding no longer than the input.
 *
 * Building with -DSATCHEL_FUZZ_SEEDS instead gives a program that writes
 * the seed files into the directory named by its argument, e.g.
 *	cc -DSATCHEL_FUZZ_SEEDS -Iproto tests/fuzz/invite_fuzz.c \
 *	    proto/invite.c proto/mpack.c \
 *	    $(pkg-config --cflags --libs libsodium msgpack) -o seeds &&
 *	    ./seeds tests/fuzz/corpus/invite
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "scrub.h"
#include "wire.h"

/* The seeds' inviter: an arbitrary fixed signing key. */
static const uint8_t fuzz_sign_seed[crypto_sign_SEEDBYTES] = {
	0x4c, 0xcd, 0x08, 0x9b, 0x28, 0xff, 0x96, 0xda,
	0x9d, 0xb6, 0xc3, 0x46, 0xec, 0x11, 0x4e, 0x0f,
	0x5b, 0x8a, 0x31, 0x9f, 0x35, 0xab, 0xa6, 0x24,
	0xda, 0x8c, 0xf6, 0xed, 0x4f, 0xb8, 0xa6, 0xfb,
};
static uint8_t fuzz_pk[PROTO_IDLEN], fuzz_sk[PROTO_SKLEN];

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_keys(void)
{
	static int done;

	if (done)
		return;
	if (sodium_init() < 0 ||
	    crypto_sign_seed_keypair(fuzz_pk, fuzz_sk, fuzz_sign_seed) != 0)
		abort();
	done = 1;
}

static void
check_promises(const struct invite *inv)
{
	if (inv->naddrs > INVITE_MAX_ADDRS || (inv->box != 0 && inv->box != 1))
		abort();
	for (size_t i = 0; i < inv->naddrs; i++)
		if (memchr(inv->addrs[i], '\0', sizeof(inv->addrs[i])) == NULL)
			abort();
}

/* Every field but inviter and signature. */
static int
same_content(const struct invite *a, const struct invite *b)
{
	if (memcmp(a->team_id, b->team_id, WIRE_TEAMIDLEN) != 0 ||
	    memcmp(a->founder, b->founder, PROTO_IDLEN) != 0 ||
	    memcmp(a->invitee, b->invitee, PROTO_IDLEN) != 0 ||
	    a->box != b->box ||
	    memcmp(a->sealed, b->sealed, INVITE_SEALEDLEN) != 0 ||
	    a->naddrs != b->naddrs)
		return 0;
	for (size_t i = 0; i < a->naddrs; i++)
		if (strcmp(a->addrs[i], b->addrs[i]) != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct invite inv, copy, again;
	msgpack_sbuffer sb;
	int ours;

	fuzz_keys();
	scrub_stack();
	if (invite_decode(&inv, data, size) != 0)
		return 0;
	check_promises(&inv);

	ours = memcmp(inv.inviter, fuzz_pk, PROTO_IDLEN) == 0;
	copy = inv;
	memcpy(copy.inviter, fuzz_pk, PROTO_IDLEN);
	msgpack_sbuffer_init(&sb);
	if (invite_encode(&copy, fuzz_sk, &sb) != 0 ||
	    invite_decode(&again, (const uint8_t *)sb.data, sb.size) != 0)
		abort();
	check_promises(&again);
	if (!same_content(&inv, &again) ||
	    memcmp(again.inviter, fuzz_pk, PROTO_IDLEN) != 0 ||
	    memcmp(again.signature, copy.signature, PROTO_SIGLEN) != 0)
		abort();
	if (ours && (sb.size > size ||
	    memcmp(again.signature, inv.signature, PROTO_SIGLEN) != 0))
		abort();
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

#ifdef SATCHEL_FUZZ_SEEDS
#include "seed.h"
/* Seed writer; see the top of the file. Not part of the fuzz target. */

int
main(int argc, char **argv)
{
	static const char *const addrs[INVITE_MAX_ADDRS] = {
		"192.168.1.20:7412", "[fe80::1]:7412", "teacher-laptop.local:7412",
		/* 63 bytes: the longest an address may be. */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:7412",
	};
	struct invite inv;
	msgpack_sbuffer sb;
	int rc = 0;

	if (argc != 2)
		return 1;
	fuzz_keys();
	msgpack_sbuffer_init(&sb);
	memset(&inv, 0, sizeof(inv));
	memset(inv.team_id, 0x7e, sizeof(inv.team_id));
	memset(inv.founder, 0x11, sizeof(inv.founder));
	memcpy(inv.inviter, fuzz_pk, PROTO_IDLEN);
	memset(inv.invitee, 0x22, sizeof(inv.invitee));
	for (size_t i = 0; i < INVITE_SEALEDLEN; i++)
		inv.sealed[i] = (uint8_t)(i * 7);
	if (invite_encode(&inv, fuzz_sk, &sb) != 0)
		return 1;
	rc |= seed_write(argv[1], "no-addrs", sb.data, sb.size);
	/* The same with the version as a uint8 (0xcc 0x01): the signature
	 * covers the re-encoding, so this longer form is accepted too. */
	{
		uint8_t nc[512];

		if (sb.size + 1 > sizeof(nc) || sb.data[1] != 0x01)
			return 1;
		nc[0] = (uint8_t)sb.data[0];
		nc[1] = 0xcc;
		memcpy(nc + 2, sb.data + 1, sb.size - 1);
		rc |= seed_write(argv[1], "noncanonical-version", nc,
		    sb.size + 1);
	}

	inv.naddrs = 1;
	strcpy(inv.addrs[0], addrs[0]);
	msgpack_sbuffer_clear(&sb);
	if (invite_encode(&inv, fuzz_sk, &sb) != 0)
		return 1;
	rc |= seed_write(argv[1], "one-addr", sb.data, sb.size);
	rc |= seed_write(argv[1], "one-addr-truncated", sb.data, sb.size - 9);

	inv.box = 1;
	inv.naddrs = INVITE_MAX_ADDRS;
	for (size_t i = 0; i < INVITE_MAX_ADDRS; i++)
		strcpy(inv.addrs[i], addrs[i]);
	msgpack_sbuffer_clear(&sb);
	if (invite_encode(&inv, fuzz_sk, &sb) != 0)
		return 1;
	rc |= seed_write(argv[1], "box-max-addrs", sb.data, sb.size);
	/* One flipped byte in the signature: refused late. */
	((uint8_t *)sb.data)[sb.size - 1] ^= 0x01;
	rc |= seed_write(argv[1], "bad-signature", sb.data, sb.size);
	rc |= seed_write(argv[1], "empty", sb.data, 0);
	msgpack_sbuffer_destroy(&sb);
	return rc != 0;
}
#endif
