/*
 * libFuzzer target: body_parse (daemon/http/body.c) reads every request
 * body the page's API takes, from anything that reaches the port. Any
 * bytes must give 0 or -1 with a reason, never a crash or a leak; what
 * it accepts must be what the spec says: each member of its type,
 * counts within bounds, every string valid text in NFC.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct body_field spec[] = {
	{ "name", B_STR, 1 }, { "tags", B_STRS, 0 }, { "done", B_BOOL, 0 },
	{ "n", B_INT, 0 }, { "set", B_MAP, 0 }, { "note", B_STR, 0 },
	{ NULL, 0, 0 }
};

static void
check_text(const char *s)
{
	size_t len;
	char *nfc;

	if (s == NULL)
		abort();
	len = strlen(s);
	if ((nfc = proto_text_nfc(s, len, NULL)) == NULL || strcmp(nfc, s) != 0)
		abort();
	free(nfc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct body *b = malloc(sizeof(*b));
	char why[300];

	if (b == NULL)
		return 0;
	if (body_parse(b, (const char *)data, len, spec, why,
	    sizeof(why)) != 0) {
		if (why[0] == '\0' || strchr(why, '\n') != NULL)
			abort();	/* one line, always */
		free(b);
		return 0;
	}
	if (!b->present[0])
		abort();	/* required */
	check_text(b->str[0]);
	if (b->present[5])
		check_text(b->str[5]);
	if (b->n[1] > BODY_MAX_ITEMS || b->n[4] > BODY_MAX_ITEMS)
		abort();
	for (int i = 0; i < b->n[1]; i++)
		check_text(b->item[1][i]);
	for (int i = 0; i < b->n[4]; i++) {
		check_text(b->key[4][i]);
		check_text(b->item[4][i]);
	}
	if (b->present[2] && b->num[2] != 0 && b->num[2] != 1)
		abort();
	if (b->present[3] && (b->num[3] < 0 || b->num[3] > 1000000000))
		abort();
	body_free(b);
	free(b);
	return 0;
}
