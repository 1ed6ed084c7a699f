/*
 * When this device received an entry, kept only for entries whose stamp
 * is far from that moment (the daemon decides which), so that `history`
 * can mark writes made under a wrong clock. In the meta table under
 *
 *	"recv:" author[32] seq[8 BE] -> received_ms[8 BE]
 *
 * a binary key that no string prefix scan of meta matches.
 */
#include <string.h>

#include "store.h"
#include "store_int.h"

#define RECV_PREFIX	"recv:"
#define RECV_KEYLEN	(sizeof(RECV_PREFIX) - 1 + PROTO_IDLEN + 8)

static void
recv_key(uint8_t key[RECV_KEYLEN], const uint8_t *author, uint64_t seq)
{
	memcpy(key, RECV_PREFIX, sizeof(RECV_PREFIX) - 1);
	memcpy(key + sizeof(RECV_PREFIX) - 1, author, PROTO_IDLEN);
	be64_put(key + RECV_KEYLEN - 8, seq);
}

int
store_received_put(struct store_txn *t, const uint8_t *author, uint64_t seq,
    uint64_t received_ms)
{
	uint8_t key[RECV_KEYLEN], val[8];

	recv_key(key, author, seq);
	be64_put(val, received_ms);
	return store_put(t, TABLE_META, key, sizeof(key), val, sizeof(val));
}

int
store_received_get(struct store_txn *t, const uint8_t *author, uint64_t seq,
    uint64_t *received_ms)
{
	uint8_t key[RECV_KEYLEN];

	recv_key(key, author, seq);
	return store_get_be64(t, TABLE_META, key, sizeof(key), received_ms);
}
