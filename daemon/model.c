/*
 * What teachers record: the kinds, their fields and how an edit becomes
 * ops. Every set names the heads it replaces, so an edit made without
 * seeing a colleague's concurrent one is kept as a conflict, never lost.
 */
#include <string.h>

#include <utf8proc.h>

#include "satchel.h"

static const struct field_def student_fields[] = {
	{ "name",	"name",		F_TEXT,	1 },
	{ "class",	"class",	F_TEXT,	0 },
	{ "strengths",	"strengths",	F_TEXT,	0 },
	{ "needs",	"needs",	F_TEXT,	0 },
	{ "interests",	"interests",	F_TEXT,	0 },
	{ "goals",	"goals",	F_TEXT,	0 },
	{ NULL, NULL, 0, 0 }
};

static const struct field_def note_fields[] = {
	{ "student",	NULL,		F_STUDENT, 1 },
	{ "date",	"date",		F_DATE,	0 },
	{ "author",	NULL,		F_TEXT,	0 },
	{ "strengths",	"strengths",	F_TEXT,	1 },
	{ "obstacle",	"obstacle",	F_TEXT,	1 },
	{ "action",	"action",	F_TEXT,	1 },
	{ "follow_up",	"follow-up",	F_DATE,	0 },
	{ "student_words", "student-words", F_TEXT, 0 },
	{ NULL, NULL, 0, 0 }
};

static const struct field_def entry_fields[] = {
	{ "student",	NULL,		F_STUDENT, 1 },
	{ "date",	"date",		F_DATE,	0 },
	{ "author",	NULL,		F_TEXT,	0 },
	{ "title",	"title",	F_TEXT,	1 },
	{ "body",	"body",		F_TEXT,	0 },
	{ "unit",	NULL,		F_TEXT,	0 },	/* a unit's id */
	{ "slice",	"slice",	F_CHOICE, 0 },
	{ "score",	"score",	F_TEXT,	0 },
	{ NULL, NULL, 0, 0 }
};

static const struct field_def group_fields[] = {
	{ "name",	"name",		F_TEXT,	1 },
	{ "type",	NULL,		F_CHOICE, 1 },
	{ "from",	"from",		F_DATE,	0 },
	{ "until",	"until",	F_DATE,	0 },
	{ NULL, NULL, 0, 0 }
};

static const struct field_def goal_fields[] = {
	{ "student",	NULL,		F_STUDENT, 1 },
	{ "text",	"text",		F_TEXT,	1 },
	{ "checkpoints", NULL,		F_TEXT,	0 },
	{ NULL, NULL, 0, 0 }
};

static const struct field_def member_fields[] = {
	{ "device",	NULL,		F_TEXT,	1 },
	{ "name",	NULL,		F_TEXT,	1 },
	{ "role",	NULL,		F_TEXT,	1 },
	{ "added_by",	NULL,		F_TEXT,	1 },
	{ NULL, NULL, 0, 0 }
};

static const struct field_def unit_fields[] = {
	{ "name",	"name",		F_TEXT,	1 },
	{ "from",	"from",		F_DATE,	0 },
	{ "until",	"until",	F_DATE,	0 },
	{ NULL, NULL, 0, 0 }
};

static const struct kind_def kinds[] = {
	{ KIND_STUDENT,	"student", student_fields, NULL, NULL, NULL },
	{ KIND_NOTE,	"note",	note_fields, NULL, NULL, NULL },
	{ KIND_ENTRY,	"entry", entry_fields, "tags", "tag", "untag" },
	{ KIND_GROUP,	"group", group_fields, "members", "member", NULL },
	{ KIND_GOAL,	"goal",	goal_fields, NULL, NULL, NULL },
	{ KIND_MEMBER,	"member", member_fields, NULL, NULL, NULL },
	{ KIND_UNIT,	"unit",	unit_fields, NULL, NULL, NULL },
};

const struct kind_def *
model_kind(uint8_t kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return &kinds[i];
	return NULL;
}

const struct kind_def *
model_kind_named(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

const char *
model_kind_name(uint8_t kind)
{
	const struct kind_def *k = model_kind(kind);

	if (k == NULL && kind == KIND_ERASE)
		return "erase";		/* shown by dump, never typed */
	return k ? k->name : "record";
}

/* Nothing to read: only spaces (of any script), tabs, line breaks and
 * invisible marks. */
static int
blank(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s);

	while (len > 0) {
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate(p, len, &c);
		int cat;

		if (n < 1)
			return 0;
		cat = utf8proc_category(c);
		if (c != '\t' && c != '\n' && c != '\r' && c != 0x200b &&
		    c != 0x200e && c != 0x200f && c != 0xfeff &&
		    cat != UTF8PROC_CATEGORY_ZS && cat != UTF8PROC_CATEGORY_ZL &&
		    cat != UTF8PROC_CATEGORY_ZP)
			return 0;
		p += n;
		len -= n;
	}
	return 1;
}

/* A follow-up comes after the note it follows, or on its day. */
int
model_check_follow_up(const char *date, const char *follow_up)
{
	if (date != NULL && follow_up != NULL && strcmp(follow_up, date) < 0)
		return fail_usage("%s: %s is before the note's date, %s",
		    err_capturing() ? "follow_up" : "--follow-up", follow_up,
		    date);
	return 0;
}

/* 0, or an exit code after saying what is wrong. */
int
model_check_field(const struct field_def *f, const char *value)
{
	/* The command line names a flag; the page a JSON field. */
	const char *dash = err_capturing() ? "" : "--";
	const char *flag = f->flag && *dash ? f->flag : f->name, *why;

	if (strlen(value) > PROTO_MAX_VALUE)
		return fail_usage("%s%s: longer than %d KiB", dash, flag,
		    PROTO_MAX_VALUE / 1024);
	if ((why = text_problem(value, PROTO_MAX_VALUE,
	    text_field_class(f->name))) != NULL)
		return fail_usage("%s%s: %s", dash, flag, why);
	if (f->type == F_DATE && !valid_date(value))
		return fail_usage("%s%s: '%s' is not a date (YYYY-MM-DD)",
		    dash, flag, value);
	if (f->required && blank(value))
		return fail_usage("%s%s: must not be %s", dash, flag,
		    *value == '\0' ? "empty" : "blank");
	return 0;
}

/* A line that names a record for people: a student's name, a note's date. */
const char *
model_title(const struct record *r)
{
	static const char *const order[] = { "name", "title", "text", "date" };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *v = record_get(r, order[i]);

		if (v != NULL)
			return v;
	}
	return "";
}

void
change_init(struct change *c, uint8_t kind, const uint8_t *id)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	memcpy(c->record_id, id, PROTO_RECIDLEN);
}

static struct op *
next_op(struct change *c, uint8_t type, const char *field)
{
	struct op *op;

	if (c->nops == PROTO_MAX_OPS || strlen(field) > PROTO_MAX_FIELD)
		return NULL;
	op = &c->ops[c->nops++];
	memset(op, 0, sizeof(*op));
	op->type = type;
	op->field = field;
	op->field_len = strlen(field);
	return op;
}

/* The writes an edit replaces: every head the editor can see, each
 * named with its hash. -1 if there are more than one op can name: the
 * edit is refused rather than written as if it replaced them all. */
static int
name_heads(struct op *op, const struct record *r, const char *field)
{
	const struct rec_register *reg = r ? record_register(r, field) : NULL;

	if (reg != NULL && reg->nheads > PROTO_MAX_PREDS)
		return -1;
	for (size_t i = 0; reg != NULL && i < reg->nheads; i++)
		op->preds[op->npreds++] = reg->heads[i].ref;
	return 0;
}

int
change_set(struct change *c, const struct record *r, const char *field,
    const char *value)
{
	struct op *op = next_op(c, OP_SET, field);

	if (op == NULL)
		return -1;
	op->value = (const uint8_t *)value;
	op->value_len = strlen(value);
	return name_heads(op, r, field);
}

int
change_add(struct change *c, const char *field, const char *elem)
{
	struct op *op = next_op(c, OP_ADD, field);

	if (op == NULL)
		return -1;
	op->value = (const uint8_t *)elem;
	op->value_len = strlen(elem);
	return 0;
}

/* Removes every add tag this device has seen, in as many ops as that
 * takes; a concurrent add survives. -1 if the change has no room. */
int
change_remove(struct change *c, const struct record *r, const char *field,
    const char *elem)
{
	const struct rec_set *s = r ? record_set(r, field) : NULL;
	const struct rec_elem *e = NULL;
	struct op *op = NULL;

	for (size_t i = 0; s != NULL && i < s->nelems; i++)
		if (strcmp(s->elems[i].value, elem) == 0)
			e = &s->elems[i];
	for (size_t j = 0; j == 0 || (e != NULL && j < e->nadds); j++) {
		if (op == NULL || op->npreds == PROTO_MAX_PREDS) {
			if ((op = next_op(c, OP_REMOVE, field)) == NULL)
				return -1;
			op->value = (const uint8_t *)elem;
			op->value_len = strlen(elem);
		}
		if (e != NULL && j < e->nadds)
			op->preds[op->npreds++] = e->adds[j];
	}
	return 0;
}

int
change_tombstone(struct change *c, const struct record *r, int deleted)
{
	struct op *op = next_op(c, deleted ? OP_DELETE : OP_UNDELETE, "");

	if (op == NULL)
		return -1;
	return name_heads(op, r, RECORD_DELETED_FIELD);
}
