/*
 * A request's JSON body, read by jansson and then held to what the
 * endpoint takes: one object, known members only, each of its type,
 * counts bounded, every string valid text in NFC (as the command line
 * makes its arguments). Pure: no I/O; a fuzz target (tests/fuzz).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const char *
type_name(int type)
{
	switch (type) {
	case B_STR:	return "a string";
	case B_STRS:	return "an array of strings";
	case B_BOOL:	return "true or false";
	case B_INT:	return "a whole number";
	default:	return "an object of strings";
	}
}

/* An NFC copy of a JSON string, owned by b. */
static const char *
keep(struct body *b, const json_t *s)
{
	char *nfc;

	if (b->npool == sizeof(b->pool) / sizeof(b->pool[0]))
		return NULL;
	nfc = proto_text_nfc(json_string_value(s), json_string_length(s),
	    NULL);
	if (nfc != NULL)
		b->pool[b->npool++] = nfc;
	return nfc;
}

static int
read_strs(struct body *b, int i, const json_t *v, const char *name,
    char *why, size_t whylen)
{
	size_t k;
	json_t *e;

	if (json_array_size(v) > BODY_MAX_ITEMS) {
		snprintf(why, whylen, "%s: at most %d values at once", name,
		    BODY_MAX_ITEMS);
		return -1;
	}
	json_array_foreach(v, k, e) {
		if (!json_is_string(e) ||
		    (b->item[i][k] = keep(b, e)) == NULL) {
			snprintf(why, whylen, "%s: every value must be text",
			    name);
			return -1;
		}
	}
	b->n[i] = (int)json_array_size(v);
	return 0;
}

static int
read_map(struct body *b, int i, json_t *v, const char *name, char *why,
    size_t whylen)
{
	const char *k;
	json_t *e;
	int n = 0;

	if (json_object_size(v) > BODY_MAX_ITEMS) {
		snprintf(why, whylen, "%s: at most %d members at once", name,
		    BODY_MAX_ITEMS);
		return -1;
	}
	json_object_foreach(v, k, e) {
		json_t *key = json_string(k);

		b->key[i][n] = key ? keep(b, key) : NULL;
		json_decref(key);
		if (!json_is_string(e) || b->key[i][n] == NULL ||
		    (b->item[i][n] = keep(b, e)) == NULL) {
			snprintf(why, whylen, "%s: every member must be text",
			    name);
			return -1;
		}
		n++;
	}
	b->n[i] = n;
	return 0;
}

static int
read_member(struct body *b, int i, const struct body_field *f, json_t *v,
    char *why, size_t whylen)
{
	int ok;

	switch (f->type) {
	case B_STR:	ok = json_is_string(v); break;
	case B_STRS:	ok = json_is_array(v); break;
	case B_BOOL:	ok = json_is_boolean(v); break;
	case B_INT:	ok = json_is_integer(v) && json_integer_value(v) >= 0 &&
			    json_integer_value(v) <= 1000000000; break;
	default:	ok = json_is_object(v); break;
	}
	if (!ok) {
		snprintf(why, whylen, "%s must be %s", f->name,
		    type_name(f->type));
		return -1;
	}
	b->present[i] = 1;
	switch (f->type) {
	case B_STR:
		if ((b->str[i] = keep(b, v)) == NULL) {
			snprintf(why, whylen, "%s: not text", f->name);
			return -1;
		}
		return 0;
	case B_STRS:
		return read_strs(b, i, v, f->name, why, whylen);
	case B_BOOL:
		b->num[i] = json_is_true(v);
		return 0;
	case B_INT:
		b->num[i] = json_integer_value(v);
		return 0;
	default:
		return read_map(b, i, v, f->name, why, whylen);
	}
}

/* A reason quotes what was sent (a member's name, jansson's "near"):
 * kept to one line of no controls, whatever that held. */
static void
one_line(char *why)
{
	for (unsigned char *p = (unsigned char *)why; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

int
body_parse(struct body *b, const char *buf, size_t len,
    const struct body_field *spec, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *k;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		snprintf(why, whylen, "the body must be one JSON object%s%s",
		    root == NULL ? ": " : "", root == NULL ? jerr.text : "");
		goto out;
	}
	json_object_foreach(root, k, v) {
		int i;

		for (i = 0; spec[i].name != NULL; i++)
			if (strcmp(spec[i].name, k) == 0)
				break;
		if (spec[i].name == NULL || i >= BODY_MAX_FIELDS) {
			snprintf(why, whylen, "unknown field '%.40s'", k);
			goto out;
		}
		if (!json_is_null(v) &&
		    read_member(b, i, &spec[i], v, why, whylen) != 0)
			goto out;
	}
	for (int i = 0; spec[i].name != NULL; i++)
		if (spec[i].required && !b->present[i]) {
			snprintf(why, whylen, "%s is required", spec[i].name);
			goto out;
		}
	rc = 0;
out:
	json_decref(root);
	if (rc != 0) {
		body_free(b);
		one_line(why);
	}
	return rc;
}

void
body_free(struct body *b)
{
	for (size_t i = 0; i < b->npool; i++)
		free(b->pool[i]);
	memset(b, 0, sizeof(*b));
}
