/* Records as JSON: fields and sets in sorted order, so output is stable. */
#include <stdio.h>
#include <string.h>

#include "satchel.h"

/* author, if not NULL, stands for the "author" field's value. */
static void
json_fields(const struct record *r, const char *author)
{
	int first = 1;

	fputs("\"fields\":{", stdout);
	for (size_t i = 0; i < r->nregs; i++) {
		const struct rec_register *reg = &r->regs[i];

		if (reg->nheads == 0 ||
		    strcmp(reg->name, RECORD_DELETED_FIELD) == 0)
			continue;
		printf("%s", first ? "" : ",");
		first = 0;
		json_str(reg->name);
		putchar(':');
		json_str(author != NULL && strcmp(reg->name, "author") == 0 ?
		    author : reg->heads[0].value);
	}
	putchar('}');
}

static void
json_sets(const struct record *r)
{
	fputs("\"sets\":{", stdout);
	for (size_t i = 0; i < r->nsets; i++) {
		const struct rec_set *s = &r->sets[i];
		int first = 1;

		printf("%s", i ? "," : "");
		json_str(s->name);
		fputs(":[", stdout);
		for (size_t j = 0; j < s->nelems; j++) {
			if (!rec_elem_present(&s->elems[j]))
				continue;
			printf("%s", first ? "" : ",");
			first = 0;
			json_str(s->elems[j].value);
		}
		putchar(']');
	}
	putchar('}');
}

void
json_record(const struct record *r)
{
	json_record_by(r, NULL);
}

void
json_record_by(const struct record *r, const char *author)
{
	char hex[2 * PROTO_RECIDLEN + 1];
	int conflicts = 0;

	hex_id(hex, r->id);
	for (size_t i = 0; i < r->nregs; i++)
		conflicts += r->regs[i].nheads > 1;
	printf("{\"kind\":\"%s\",\"id\":\"%s\",\"deleted\":%s,"
	    "\"conflicts\":%d,", model_kind_name(r->kind), hex,
	    record_deleted(r) ? "true" : "false", conflicts);
	json_fields(r, author);
	putchar(',');
	json_sets(r);
	putchar('}');
}
