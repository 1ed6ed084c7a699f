/*
 * Receipts (proto.h) in the store. A receipt is applied to the index, not
 * to the records:
 *
 *	'R' device[32] writer[32] -> be64: seq of writer's latest receipt
 *	    about device
 *
 * so that each (writer, device) pair keeps one receipt, the later one
 * superseding the earlier, whatever order they arrive in. Receipts are
 * the team's bookkeeping of its syncs, not something a teacher reads or
 * edits: kept out of the records, they never show as conflicts (every
 * writer's receipt about a device stands beside the others) nor in
 * `dump`, and they leave the digest to what teachers see. The index is
 * derived from the log like every other, so a rebuild gives it again.
 */
#include <string.h>

#include <sodium.h>

#include "store.h"
#include "store_int.h"

#define RECEIPT_KEYLEN	(1 + 2 * PROTO_IDLEN)

static void
receipt_key(uint8_t key[RECEIPT_KEYLEN], const uint8_t *device,
    const uint8_t *writer)
{
	key[0] = INDEX_RECEIPT;
	memcpy(key + 1, device, PROTO_IDLEN);
	memcpy(key + 1 + PROTO_IDLEN, writer, PROTO_IDLEN);
}

int
store_receipt_get(struct store_txn *t, const uint8_t *device,
    const uint8_t *writer, uint64_t *seq)
{
	uint8_t key[RECEIPT_KEYLEN];
	int rc;

	receipt_key(key, device, writer);
	rc = store_get_be64(t, TABLE_INDEX, key, sizeof(key), seq);
	if (rc == STORE_ENOTFOUND) {
		*seq = 0;
		return STORE_OK;
	}
	return rc;
}

/* The device a validated receipt is about: its "device" op, which the
 * schema has checked is 64 hex digits naming the receipt's record. */
static int
receipt_device(const struct change *c, uint8_t out[PROTO_IDLEN])
{
	size_t len;

	for (size_t i = 0; i < c->nops; i++) {
		const struct op *op = &c->ops[i];

		if (op->type == OP_SET && op->field_len == 6 &&
		    memcmp(op->field, "device", 6) == 0)
			return sodium_hex2bin(out, PROTO_IDLEN,
			    (const char *)op->value, op->value_len, NULL, &len,
			    NULL) == 0 && len == PROTO_IDLEN ? 0 : -1;
	}
	return -1;
}

int
store_receipt_apply(struct store_txn *t, const struct envelope *e,
    const struct change *c)
{
	uint8_t device[PROTO_IDLEN], key[RECEIPT_KEYLEN], val[8];
	uint64_t held;
	int rc;

	if (receipt_device(c, device) != 0)
		return STORE_OK;	/* names no device: nothing to index */
	if ((rc = store_receipt_get(t, device, e->author, &held)) != 0)
		return rc;
	if (held >= e->seq)
		return STORE_OK;
	receipt_key(key, device, e->author);
	be64_put(val, e->seq);
	return store_put(t, TABLE_INDEX, key, sizeof(key), val, sizeof(val));
}

struct receipt_walk {
	int	(*fn)(const uint8_t *, const uint8_t *, uint64_t, void *);
	void	*arg;
};

static int
receipt_cb(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
    void *arg)
{
	struct receipt_walk *w = arg;

	if (klen != RECEIPT_KEYLEN || vlen != 8)
		return 0;	/* not ours: skip, never crash */
	return w->fn(k + 1, k + 1 + PROTO_IDLEN, be64_get(v), w->arg);
}

int
store_receipts_each(struct store_txn *t, const uint8_t *device,
    int (*fn)(const uint8_t *, const uint8_t *, uint64_t, void *), void *arg)
{
	struct receipt_walk w = { fn, arg };
	uint8_t prefix[1 + PROTO_IDLEN];

	prefix[0] = INDEX_RECEIPT;
	if (device != NULL)
		memcpy(prefix + 1, device, PROTO_IDLEN);
	return store_scan(t, TABLE_INDEX, prefix, device != NULL ?
	    sizeof(prefix) : 1, 0, receipt_cb, &w);
}
