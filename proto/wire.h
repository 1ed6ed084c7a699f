/*
 * The peer protocol's byte formats: the payload carried in the Noise
 * handshake, the sync messages, invite tokens and bundle files. Pure
 * functions: decoders check every count and length before anything is
 * allocated, and never abort on bad input.
 */
#ifndef SATCHEL_WIRE_H
#define SATCHEL_WIRE_H

#include "proto.h"

#define WIRE_VERSION		1
#define WIRE_TEAMIDLEN		16
#define WIRE_MAX_FRAME		(4 * 1024 * 1024)	/* one sealed frame */
#define WIRE_MAX_BATCH		4096	/* entries in one batch */
#define WIRE_MAX_AUTHORS	65536	/* authors in one vector */
/* A sync frame's objects take at most twice its bytes (mp_unpack_ratio):
 * a vector item is 4 objects in about 72 bytes, an entry 1 in 100 or
 * more, so a 4 MiB frame costs at most 8 MiB more to unpack. */
#define WIRE_OBJ_RATIO		2
#define WIRE_PROTOCOL		"Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"

/* Sync message types; wire values, never reused. */
enum wire_type {
	MSG_VECTOR	= 1,	/* [1, [[author, seq, hash]...]] */
	MSG_ENTRIES	= 2,	/* [2, [envelope...]]: one author, in seq order */
	MSG_ACK		= 3,	/* [3, author, seq]: committed through seq */
	MSG_BYE		= 4,	/* [4]: this side is done; sent as the final frame */
	MSG_REFUSE	= 5	/* [5, author, why]: send no more of this author */
};

/* Why a batch was refused; wire values. */
enum wire_refusal {
	REFUSE_NOT_MEMBER	= 1,	/* the author is no member of the team */
	REFUSE_FORK		= 2,	/* we hold another entry at that seq */
	REFUSE_NEWER		= 3	/* an envelope version we cannot check;
					 * 0.1 reads any other value as 1 */
};

struct wire_msg {
	uint8_t			 type;
	size_t			 n;	/* vector items or entries */
	const msgpack_object	*items;
	uint8_t			 author[PROTO_IDLEN];	/* ACK, REFUSE */
	uint64_t		 seq;			/* ACK; REFUSE: why */
	msgpack_unpacked	 u;	/* owns items; wire_msg_free */
};

/* Decodes one sync message; items borrow from buf and from m->u.
 * Every item is checked here, so the accessors below cannot fail. */
int	wire_decode(struct wire_msg *m, const uint8_t *buf, size_t len)
	    PROTO_WUR;
void	wire_msg_free(struct wire_msg *m);
void	wire_vector_at(const struct wire_msg *, size_t i, uint8_t *author,
	    uint64_t *seq, uint8_t *hash);
void	wire_entry_at(const struct wire_msg *, size_t i, const uint8_t **env,
	    size_t *len);

void	wire_pack_vector_begin(msgpack_packer *, size_t n);
void	wire_pack_vector_item(msgpack_packer *, const uint8_t *author,
	    uint64_t seq, const uint8_t *hash);
void	wire_pack_entries_begin(msgpack_packer *, size_t n);
void	wire_pack_entry(msgpack_packer *, const uint8_t *env, size_t len);
void	wire_pack_ack(msgpack_packer *, const uint8_t *author, uint64_t seq);
void	wire_pack_bye(msgpack_packer *);
void	wire_pack_refuse(msgpack_packer *, const uint8_t *author,
	    uint64_t why);

/*
 * The peer protocol's version. The rule: each device says the highest
 * version it speaks, both speak the lower of the two, and a device never
 * refuses a peer for speaking a newer one. Version 1 is the first release,
 * whose hello has no clock; version 2 adds the offer and the clock;
 * version 3 adds the hello's flags.
 *
 * The offer is the payload of the first handshake message, which only the
 * initiator sends before it has seen anything of the responder:
 *	[version, ...]	(a version-1 device sends an empty payload)
 * so the responder knows which hello the initiator reads before it sends
 * its own; the initiator has the responder's hello before it sends its
 * own. Fields after the ones known are a newer device's: ignored.
 */
#define WIRE_PROTO_VERSION	3
#define WIRE_OFFER_MAX		1024
#define WIRE_HELLO_MAX_FIELDS	16	/* room for newer versions' fields */
#define WIRE_MAX_WALL_MS	((UINT64_C(1) << 48) - 1)
int	wire_offer_encode(msgpack_sbuffer *, unsigned version) PROTO_WUR;
/* An empty offer is version 1; -1 if malformed. */
int	wire_offer_decode(unsigned *version, const uint8_t *buf, size_t len)
	    PROTO_WUR;
/* The version spoken with a peer that speaks at most theirs. */
unsigned wire_version_spoken(unsigned theirs);

/* The handshake payload that travels with a static key:
 *	version 1:	[1, the ed25519 identity, [proof...]]
 *	version 2:	[2, identity, [proof...], wall_ms, ...]
 *	version 3 on:	[version, identity, [proof...], wall_ms, flags, ...]
 * The receiver checks the identity converts to that static key. The
 * proofs are the signed membership entries that chain the sender to the
 * team's founder, so a device that has not synced yet can still tell a
 * member from a stranger. wall_ms is the sender's wall clock when it sent
 * the hello, so each side learns how far apart their clocks are. A hello
 * is encoded in the form its reader knows: the legacy form for version 1,
 * else carrying the highest version the sender speaks (a version-2 reader
 * ignores the flags, as it ignores any field after its own).
 *
 * WIRE_HELLO_SNAPSHOT: the sender syncs once and leaves (satchel sync), so
 * the reader sends it what it held when the session began (its vector),
 * not what reaches it during the session: the next sync brings that. */
#define WIRE_HELLO_MAX		16384
#define WIRE_MAX_PROOFS		8
struct wire_hello {
	unsigned	 version;	/* as sent; 1 has no wall_ms */
	uint8_t		 id[PROTO_IDLEN];
	size_t		 nproofs;
	const uint8_t	*proofs[WIRE_MAX_PROOFS];	/* borrowed */
	size_t		 proof_lens[WIRE_MAX_PROOFS];
	uint64_t	 wall_ms;	/* 0 in version 1 */
	uint32_t	 flags;		/* WIRE_HELLO_*; 0 before version 3 */
};
#define WIRE_HELLO_SNAPSHOT	0x1
int	wire_hello_encode(msgpack_sbuffer *, const struct wire_hello *)
	    PROTO_WUR;
int	wire_hello_decode(struct wire_hello *, const uint8_t *buf, size_t len)
	    PROTO_WUR;

/* An invite: what a new device needs to join, signed by the inviter.
 * Its version is its own, apart from the sync protocol's, so that a
 * newer hello does not stop older devices from joining. A newer invite
 * than this device reads is refused naming its version: upgrade, then
 * join. */
#define INVITE_VERSION		1	/* Satchel 0.1 wrote WIRE_VERSION 1 */
#define INVITE_SEALEDLEN	(32 + 48)	/* crypto_box_seal of 32 bytes */
#define INVITE_MAX_ADDRS	4
#define INVITE_PREFIX		"satchel-invite:"
#define INVITE_MAX_BYTES	8192	/* an encoded invite, before base64 */
struct invite {
	uint8_t		 version;	/* set on a newer invite (-2) */
	uint8_t		 team_id[WIRE_TEAMIDLEN];
	uint8_t		 founder[PROTO_IDLEN];
	uint8_t		 inviter[PROTO_IDLEN];
	uint8_t		 invitee[PROTO_IDLEN];
	int		 box;		/* the secret is the network key */
	uint8_t		 sealed[INVITE_SEALEDLEN];
	size_t		 naddrs;
	char		 addrs[INVITE_MAX_ADDRS][64];
	size_t		 nproofs;	/* membership entries, borrowed */
	const uint8_t	*proofs[WIRE_MAX_PROOFS];
	size_t		 proof_lens[WIRE_MAX_PROOFS];
	uint8_t		 signature[PROTO_SIGLEN];
};
/* Signs inv with the inviter's key and encodes it. */
int	invite_encode(struct invite *, const uint8_t sk[PROTO_SKLEN],
	    msgpack_sbuffer *) PROTO_WUR;
/* Decodes and checks the inviter's signature. -1: not an invite, or
 * damaged; -2: a newer version than INVITE_VERSION (inv->version). */
int	invite_decode(struct invite *, const uint8_t *, size_t) PROTO_WUR;

/*
 * A bundle file: entries carried by hand (a USB stick).
 *
 *	"SATCHELB" version[1] team_id[16] exporter[32] count[8 BE]
 *	{ length[4 BE] envelope }*count  mac[32]
 *
 * The MAC is BLAKE2b keyed with a key derived from the team's network key
 * and covers every byte before it, so a flipped byte, a cut file or
 * another team's bundle is refused before any entry is looked at.
 *
 * The version is the file's own, apart from the sync protocol's: a newer
 * hello or sync message does not make older devices refuse bundles. The
 * magic and the version byte stay where they are in every version; all
 * after them may change. A bundle of a newer version than this device
 * knows cannot be checked (its MAC or framing may differ), so it is
 * refused whole, naming the version: the file is the user's input, and
 * the fix is to upgrade this device. What it carries is envelopes, each
 * taken by the same rule as over the network (see proto.h).
 */
#define BUNDLE_MAGIC		"SATCHELB"
#define BUNDLE_VERSION		1	/* Satchel 0.1 wrote WIRE_VERSION 1 */
#define BUNDLE_HEADER_LEN	(8 + 1 + WIRE_TEAMIDLEN + PROTO_IDLEN + 8)
#define BUNDLE_MACLEN		32
struct bundle {
	uint8_t		 version;	/* set whenever the magic matched */
	uint8_t		 team_id[WIRE_TEAMIDLEN];
	uint8_t		 exporter[PROTO_IDLEN];
	uint64_t	 count;
	const uint8_t	*next;		/* cursor over the entries */
	size_t		 left;
};
void	bundle_header(uint8_t out[BUNDLE_HEADER_LEN], const uint8_t *team_id,
	    const uint8_t *exporter, uint64_t count);
void	bundle_mac(uint8_t out[BUNDLE_MACLEN], const uint8_t *key,
	    const uint8_t *buf, size_t len);
/*
 * Reading a bundle as a stream (import never holds the file in memory):
 * bundle_header_read takes the first BUNDLE_HEADER_LEN bytes: -1 if they
 * are not a bundle header, -3 if of a newer version (b->version says
 * which), so a file that is not a bundle is refused before the rest is read.
 * The MAC is then computed over the bytes as they come (the header included), and
 * bundle_frame_len checks each entry's 4-byte length against what is
 * left of the body: 0 if it fits, else -1.
 */
struct bundle_mac {
	uint8_t		 state[512];	/* a crypto_generichash_state */
};
int	bundle_header_read(struct bundle *,
	    const uint8_t hdr[BUNDLE_HEADER_LEN]) PROTO_WUR;
void	bundle_mac_init(struct bundle_mac *, const uint8_t key[32]);
void	bundle_mac_update(struct bundle_mac *, const uint8_t *, size_t);
void	bundle_mac_final(struct bundle_mac *, uint8_t out[BUNDLE_MACLEN]);
int	bundle_frame_len(const uint8_t be[4], uint64_t left, size_t *len)
	    PROTO_WUR;
/* Checks form, MAC and entry framing of a whole bundle held in memory.
 * -1: not a bundle, cut short or malformed; -2: the MAC does not match;
 * -3: a newer version than BUNDLE_VERSION (b->version says which). */
int	bundle_open(struct bundle *, const uint8_t *buf, size_t len,
	    const uint8_t key[32]) PROTO_WUR;
/* The next envelope, or 0 when none is left. */
int	bundle_next(struct bundle *, const uint8_t **env, size_t *len);

#endif
