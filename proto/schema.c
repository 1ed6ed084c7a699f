/*
 * What each kind of record holds, and the one validation of a change's
 * content. A local write is checked here before it is sealed and a
 * received entry after it is opened, with the same code, so nothing a
 * device commits is refused by its peers. The field lists are the
 * product's data model: a field is added by a new change version.
 */
#include <string.h>

#include "members.h"

static const char *const group_types[] = { "same-need", "mixed", NULL };
static const char *const yes_no[] = { "yes", "no", NULL };
static const char *const roles[] = { "teacher", "box", "admin", NULL };
static const char *const slices[] = { "pre", "formative", "post", NULL };
static const char *const removals[] = { "yes", "lost", "no", NULL };

static const struct proto_field student_fields[] = {
	{ "name", FT_LINE, NULL }, { "class", FT_LINE, NULL },
	{ "strengths", FT_TEXT, NULL }, { "needs", FT_TEXT, NULL },
	{ "interests", FT_TEXT, NULL }, { "goals", FT_TEXT, NULL },
	/* Since 0.3 (issue 13): the school's own id, from a roster, and
	 * the student this record was merged into (see daemon/students.c).
	 * A device that predates them holds such an entry unapplied and
	 * applies it when upgraded (the derived tables are rebuilt). */
	{ "external_id", FT_LINE, NULL }, { "merged_into", FT_STUDENT, NULL },
	{ NULL, 0, NULL }
};

static const struct proto_field note_fields[] = {
	{ "student", FT_STUDENT, NULL }, { "date", FT_DATE, NULL },
	{ "author", FT_LINE, NULL }, { "strengths", FT_TEXT, NULL },
	{ "obstacle", FT_TEXT, NULL }, { "action", FT_TEXT, NULL },
	{ "follow_up", FT_DATE, NULL },
	{ "student_words", FT_TEXT, NULL },
	{ NULL, 0, NULL }
};

static const struct proto_field entry_fields[] = {
	{ "student", FT_STUDENT, NULL }, { "date", FT_DATE, NULL },
	{ "author", FT_LINE, NULL }, { "title", FT_LINE, NULL },
	{ "body", FT_TEXT, NULL },
	{ "unit", FT_RECORD, NULL }, { "slice", FT_CHOICE, slices },
	{ "score", FT_SCORE, NULL },
	{ NULL, 0, NULL }
};

static const struct proto_field group_fields[] = {
	{ "name", FT_LINE, NULL }, { "type", FT_CHOICE, group_types },
	{ "from", FT_DATE, NULL }, { "until", FT_DATE, NULL },
	{ NULL, 0, NULL }
};

/* A goal's checkpoints are cp1_* .. cp9_*: see checkpoint_field. */
static const struct proto_field goal_fields[] = {
	{ "student", FT_STUDENT, NULL }, { "text", FT_LINE, NULL },
	{ "checkpoints", FT_COUNT, NULL },
	{ NULL, 0, NULL }
};

static const struct proto_field checkpoint_fields[] = {
	{ "date", FT_DATE, NULL }, { "text", FT_LINE, NULL },
	{ "done", FT_CHOICE, yes_no },
	{ NULL, 0, NULL }
};

/* A unit of teaching, with dates; entries name it as their unit. */
static const struct proto_field unit_fields[] = {
	{ "name", FT_LINE, NULL }, { "from", FT_DATE, NULL },
	{ "until", FT_DATE, NULL },
	{ NULL, 0, NULL }
};

static const struct proto_field member_fields[] = {
	{ "device", FT_DEVICE, NULL }, { "name", FT_LINE, NULL },
	{ "role", FT_CHOICE, roles }, { "added_by", FT_DEVICE, NULL },
	/* Removals and causal authority (members.h); the first release
	 * stores them as fields it does not read. */
	{ "removed", FT_CHOICE, removals }, { "cutoff", FT_CUTOFF, NULL },
	{ "seen", FT_REFS, NULL },
	{ NULL, 0, NULL }
};

static const struct proto_field keys_fields[] = {
	{ "keys", FT_EPOCH, NULL },
	{ NULL, 0, NULL }
};

/* A receipt (receipt.c): its record is proto_receipt_id of device. */
static const struct proto_field receipt_fields[] = {
	{ "device", FT_DEVICE, NULL }, { "synced", FT_TIME, NULL },
	{ "holds", FT_VECTOR, NULL }, { "self", FT_VECTOR, NULL },
	{ NULL, 0, NULL }
};

/* An erase (erase.c): "student" only in an admin's erase. */
static const struct proto_field erase_fields[] = {
	{ "student", FT_STUDENT, NULL }, { "drop", FT_DROP, NULL },
	{ NULL, 0, NULL }
};

static const struct {
	const struct proto_field *fields;
	const char		 *set;		/* its observed-remove set */
	uint8_t			  set_type;	/* what the set holds */
	int			  key;
} kinds[KIND_MAX + 1] = {
	[KIND_STUDENT] = { student_fields, NULL, 0, PROTO_KEY_CONTENT },
	[KIND_NOTE] = { note_fields, NULL, 0, PROTO_KEY_CONTENT },
	[KIND_ENTRY] = { entry_fields, "tags", FT_LINE, PROTO_KEY_CONTENT },
	[KIND_GROUP] = { group_fields, "members", FT_STUDENT,
	    PROTO_KEY_CONTENT },
	[KIND_GOAL] = { goal_fields, NULL, 0, PROTO_KEY_CONTENT },
	[KIND_MEMBER] = { member_fields, NULL, 0, PROTO_KEY_NETWORK },
	[KIND_UNIT] = { unit_fields, NULL, 0, PROTO_KEY_CONTENT },
	[KIND_KEYS] = { keys_fields, NULL, 0, PROTO_KEY_EPOCH },
	[KIND_RECEIPT] = { receipt_fields, NULL, 0, PROTO_KEY_RECEIPT },
	[KIND_ERASE] = { erase_fields, NULL, 0, PROTO_KEY_ERASE },
};

static int
kind_known(uint8_t kind)
{
	return kind >= 1 && kind <= KIND_MAX && kinds[kind].fields != NULL;
}

const struct proto_field *
proto_kind_fields(uint8_t kind)
{
	return kind_known(kind) ? kinds[kind].fields : NULL;
}

const char *
proto_kind_set(uint8_t kind)
{
	return kind_known(kind) ? kinds[kind].set : NULL;
}

int
proto_kind_key(uint8_t kind)
{
	return kind_known(kind) ? kinds[kind].key : 0;
}

static const struct proto_field *
field_in(const struct proto_field *f, const char *name, size_t len)
{
	for (; f != NULL && f->name != NULL; f++)
		if (strlen(f->name) == len && memcmp(f->name, name, len) == 0)
			return f;
	return NULL;
}

/* "cp3_done" names checkpoint 3's done field. */
static const struct proto_field *
checkpoint_field(const char *name, size_t len)
{
	if (len < 5 || memcmp(name, "cp", 2) != 0 || name[2] < '1' ||
	    name[2] > '9' || name[3] != '_')
		return NULL;
	return field_in(checkpoint_fields, name + 4, len - 4);
}

const struct proto_field *
proto_field_find(uint8_t kind, const char *name, size_t len)
{
	const struct proto_field *f;

	if (!kind_known(kind))
		return NULL;
	if ((f = field_in(kinds[kind].fields, name, len)) != NULL)
		return f;
	return kind == KIND_GOAL ? checkpoint_field(name, len) : NULL;
}

static int
all_in(const char *s, size_t len, const char *chars)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(chars, s[i]) == NULL)
			return 0;
	return 1;
}

/* all_in(s, len, "0123456789abcdef") without a strchr a byte: every
 * note's student reference is checked. */
static int
lower_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
date_ok(const char *s, size_t len)
{
	int m, d;

	if (len != 10 || s[4] != '-' || s[7] != '-' ||
	    !all_in(s, 4, "0123456789") || !all_in(s + 5, 2, "0123456789") ||
	    !all_in(s + 8, 2, "0123456789"))
		return 0;
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int
choice_ok(const char *const *c, const char *s, size_t len)
{
	for (; *c != NULL; c++)
		if (strlen(*c) == len && memcmp(*c, s, len) == 0)
			return 1;
	return 0;
}

/* "7", "85", "8.5": up to six digits and one point, digits around it. */
static int
score_ok(const char *s, size_t len)
{
	const char *dot = memchr(s, '.', len);

	if (len == 0 || len > 7)
		return 0;
	if (dot == NULL)
		return all_in(s, len, "0123456789");
	return dot > s && dot < s + len - 1 &&
	    all_in(s, (size_t)(dot - s), "0123456789") &&
	    all_in(dot + 1, len - (size_t)(dot - s) - 1, "0123456789");
}

static int
fail_why(const char **why, const char *msg)
{
	*why = msg;
	return -1;
}

int
proto_value_check(const struct proto_field *f, const char *s, size_t len,
    const char **why)
{
	int rc;

	switch (f->type) {
	case FT_LINE:
	case FT_TEXT:
		rc = proto_text_check(s, len, f->type == FT_LINE ?
		    PROTO_TEXT_LINE : PROTO_TEXT_LONG);
		return rc == 0 ? 0 : fail_why(why, proto_text_reason(rc));
	case FT_DATE:
		return date_ok(s, len) ? 0 :
		    fail_why(why, "is not a date (YYYY-MM-DD)");
	case FT_STUDENT:
		return len == 2 * PROTO_RECIDLEN && lower_hex(s, len) ? 0 :
		    fail_why(why, "is not a student id");
	case FT_DEVICE:
		return len == 2 * PROTO_IDLEN && lower_hex(s, len) ? 0 :
		    fail_why(why, "is not a device id");
	case FT_CHOICE:
		return choice_ok(f->choices, s, len) ? 0 :
		    fail_why(why, "is not one of the allowed values");
	case FT_COUNT:
		return len >= 1 && len <= 2 && all_in(s, len, "0123456789") ?
		    0 : fail_why(why, "is not a small number");
	case FT_RECORD:
		return len == 2 * PROTO_RECIDLEN && lower_hex(s, len) ? 0 :
		    fail_why(why, "is not a record id");
	case FT_SCORE:
		return score_ok(s, len) ? 0 :
		    fail_why(why, "is not a score (a number such as 7 or 8.5)");
	case FT_EPOCH:
		return proto_epoch_check(s, len) == 0 ? 0 :
		    fail_why(why, "is not an epoch record");
	case FT_REFS: {
		struct write_ref refs[MEMBERS_MAX_SEEN];
		size_t n;

		return proto_member_refs_parse(s, len, refs, MEMBERS_MAX_SEEN,
		    &n) == 0 ? 0 : fail_why(why, "is not a list of entries");
	}
	case FT_CUTOFF: {
		uint8_t hash[PROTO_HASHLEN];
		uint64_t seq;

		return proto_member_cutoff_parse(s, len, &seq, hash) == 0 ? 0 :
		    fail_why(why, "is not an entry (SEQ:HASH)");
	}
	case FT_VECTOR:
		return proto_vector_each(s, len, NULL, NULL) == 0 ? 0 :
		    fail_why(why, "is not a vector of device:seq");
	case FT_TIME:
		return proto_time_check(s, len) == 0 ? 0 :
		    fail_why(why, "is not a time in milliseconds");
	case FT_DROP:
		return proto_erase_check(s, len) == 0 ? 0 :
		    fail_why(why, "is not a list of entries to drop");
	default:
		return fail_why(why, "has an unknown type");
	}
}

/* What came with change version 3: a kind (field NULL), and fields of
 * the older kinds. A release before it files them as unknown. */
static const struct {
	uint8_t		 kind;
	const char	*field;
} since_v3[] = {
	{ KIND_UNIT, NULL }, { KIND_NOTE, "student_words" },
	{ KIND_ENTRY, "unit" }, { KIND_ENTRY, "slice" },
	{ KIND_ENTRY, "score" },
};

/* The version a change of this kind naming field f (or no field) needs. */
static unsigned
field_since(uint8_t kind, const struct proto_field *f)
{
	for (size_t i = 0; i < sizeof(since_v3) / sizeof(since_v3[0]); i++)
		if (since_v3[i].kind == kind && (since_v3[i].field == NULL ||
		    (f != NULL && strcmp(since_v3[i].field, f->name) == 0)))
			return 3;
	return 1;
}

unsigned
proto_change_needs(const struct change *c)
{
	unsigned need;

	if (!kind_known(c->kind))
		return 1;
	need = field_since(c->kind, NULL);
	for (size_t i = 0; i < c->nops && i < PROTO_MAX_OPS; i++) {
		const struct op *op = &c->ops[i];
		unsigned v = field_since(c->kind, op->type == OP_SET ?
		    proto_field_find(c->kind, op->field, op->field_len) :
		    NULL);

		if (v > need)
			need = v;
	}
	return need;
}

static int
op_check(uint8_t kind, const struct op *op, const char **why)
{
	const struct proto_field *f, elem = { "", kinds[kind].set_type, NULL };
	const char *set = kinds[kind].set;

	if (op->type < OP_SET || op->type > OP_UNDELETE)
		return fail_why(why, "an unknown operation");
	if (op->type == OP_DELETE || op->type == OP_UNDELETE) {
		if (kind == KIND_MEMBER || kind == KIND_KEYS)
			return fail_why(why, kind == KIND_KEYS ? "an epoch "
			    "record is never deleted" : "a member record is "
			    "changed only by the member commands");
		if (kind == KIND_RECEIPT)
			return fail_why(why, "a receipt is never deleted");
		if (kind == KIND_ERASE)
			return fail_why(why, "an erase is never undone");
		return op->field_len == 0 && op->value == NULL ? 0 :
		    fail_why(why, "a delete names no field");
	}
	if (op->value == NULL)
		return fail_why(why, "a value is missing");
	if (op->type == OP_SET) {
		f = proto_field_find(kind, op->field, op->field_len);
		if (f == NULL)
			return fail_why(why, "a field this kind does not have");
		if (proto_value_check(f, (const char *)op->value,
		    op->value_len, why) != 0)
			return -1;
		return 0;
	}
	if (set == NULL || strlen(set) != op->field_len ||
	    memcmp(set, op->field, op->field_len) != 0)
		return fail_why(why, "a set this kind does not have");
	if (op->type == OP_ADD && op->npreds != 0)
		return fail_why(why, "an add replaces nothing");
	if (op->value_len > PROTO_MAX_ELEM)
		return fail_why(why, "a set element longer than 256 bytes");
	return proto_value_check(&elem, (const char *)op->value,
	    op->value_len, why);
}

/* Two ops of one change on one register (or one set element) would be
 * two writes with one name: the merge could not tell them apart. */
static int
same_target(const struct op *a, const struct op *b)
{
	int reg_a = a->type != OP_ADD && a->type != OP_REMOVE;
	int reg_b = b->type != OP_ADD && b->type != OP_REMOVE;

	if (reg_a != reg_b || a->field_len != b->field_len ||
	    memcmp(a->field, b->field, a->field_len) != 0)
		return 0;
	if (reg_a)
		return 1;
	return a->type == OP_ADD && b->type == OP_ADD &&
	    a->value_len == b->value_len &&
	    memcmp(a->value, b->value, a->value_len) == 0;
}

/* A member record's id is its device id's first bytes: one record per
 * device, whoever adds it. */
static int
member_id_ok(const struct change *c, const struct op *op)
{
	static const char hex[] = "0123456789abcdef";

	if (c->kind != KIND_MEMBER || op->type != OP_SET ||
	    op->field_len != 6 || memcmp(op->field, "device", 6) != 0)
		return 1;
	for (size_t i = 0; i < PROTO_RECIDLEN; i++)
		if (op->value[2 * i] != hex[c->record_id[i] >> 4] ||
		    op->value[2 * i + 1] != hex[c->record_id[i] & 15])
			return 0;
	return 1;
}

/* A receipt's record is the hash of the device it is about: one record
 * per device, whoever writes it (see proto_receipt_id). */
static int
receipt_id_ok(const struct change *c, const struct op *op)
{
	uint8_t dev[PROTO_IDLEN], id[PROTO_RECIDLEN];
	static const char hex[] = "0123456789abcdef";

	if (c->kind != KIND_RECEIPT || op->type != OP_SET ||
	    op->field_len != 6 || memcmp(op->field, "device", 6) != 0)
		return 1;
	for (size_t i = 0; i < PROTO_IDLEN; i++)	/* checked hex */
		dev[i] = (uint8_t)((strchr(hex, op->value[2 * i]) - hex) << 4 |
		    (strchr(hex, op->value[2 * i + 1]) - hex));
	proto_receipt_id(dev, id);
	return memcmp(id, c->record_id, PROTO_RECIDLEN) == 0;
}

int
proto_change_validate(const struct change *c, int key_use, const char **why)
{
	if (!kind_known(c->kind))
		return fail_why(why, "an unknown kind of record");
	/* What a version did not have is unknown to it, on every device. */
	if (c->version != 0 && proto_change_needs(c) > c->version)
		return fail_why(why, field_since(c->kind, NULL) > c->version ?
		    "an unknown kind of record" :
		    "a field this kind does not have");
	if (key_use != 0 && kinds[c->kind].key != key_use)
		return fail_why(why, c->kind == KIND_MEMBER ?
		    "membership must be sealed under the network key" :
		    c->kind == KIND_KEYS ? "an epoch record must be sealed "
		    "under the epoch's record key" :
		    c->kind == KIND_RECEIPT ?
		    "a receipt must be sealed under the receipt key" :
		    c->kind == KIND_ERASE ?
		    "an erase must be sealed under the erase key" :
		    "content must be sealed under the content key");
	if (c->nops == 0 || c->nops > PROTO_MAX_OPS)
		return fail_why(why, "too many changes at once");
	for (size_t i = 0; i < c->nops; i++) {
		if (op_check(c->kind, &c->ops[i], why) != 0)
			return -1;
		if (!member_id_ok(c, &c->ops[i]))
			return fail_why(why, "a member record under another "
			    "device's id");
		if (!receipt_id_ok(c, &c->ops[i]))
			return fail_why(why, "a receipt under another "
			    "device's record");
		for (size_t j = 0; j < i; j++)
			if (same_target(&c->ops[j], &c->ops[i]))
				return fail_why(why, "two changes to one "
				    "field at once");
	}
	return 0;
}
