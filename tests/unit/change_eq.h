/*
 * Field-by-field equality of decoded changes, for the change tests and the
 * change fuzz target (which checks that a decode survives a re-encode).
 */
#ifndef SATCHEL_CHANGE_EQ_H
#define SATCHEL_CHANGE_EQ_H

#include <string.h>

#include "proto.h"

static int
op_eq(const struct op *a, const struct op *b)
{
	if (a->type != b->type || a->field_len != b->field_len ||
	    a->value_len != b->value_len || a->npreds != b->npreds ||
	    (a->value == NULL) != (b->value == NULL))
		return 0;
	if (a->field_len > 0 && memcmp(a->field, b->field, a->field_len) != 0)
		return 0;
	if (a->value_len > 0 && memcmp(a->value, b->value, a->value_len) != 0)
		return 0;
	for (size_t i = 0; i < a->npreds; i++)
		if (memcmp(a->preds[i].author, b->preds[i].author,
		    PROTO_IDLEN) != 0 || a->preds[i].seq != b->preds[i].seq ||
		    a->preds[i].has_hash != b->preds[i].has_hash ||
		    (a->preds[i].has_hash && memcmp(a->preds[i].hash,
		    b->preds[i].hash, PROTO_HASHLEN) != 0))
			return 0;
	return 1;
}

static int
change_eq(const struct change *a, const struct change *b)
{
	if (memcmp(a->record_id, b->record_id, PROTO_RECIDLEN) != 0 ||
	    a->kind != b->kind || a->nops != b->nops)
		return 0;
	for (size_t i = 0; i < a->nops; i++)
		if (!op_eq(&a->ops[i], &b->ops[i]))
			return 0;
	return 1;
}

#endif
