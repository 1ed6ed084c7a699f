/*
 * Text a user types, on its way in: every argument is checked against
 * proto's text rule and normalised to NFC before a command sees it, so a
 * name typed decomposed (as macOS does) is stored, compared and looked up
 * as the composed one. Commands then hold a field to its own class (a name
 * is one line; a note part may have several).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "satchel.h"

/* Fields that are running text: newline and tab allowed. Every other
 * field a user fills is one line (a name, class, title, tag, goal). */
int
text_field_class(const char *field)
{
	/* One spelling is one type in every kind: the schema says which. */
	for (uint8_t k = 1; k <= KIND_MAX; k++) {
		const struct proto_field *f = proto_field_find(k, field,
		    strlen(field));

		if (f != NULL)
			return f->type == FT_TEXT ? PROTO_TEXT_LONG :
			    PROTO_TEXT_LINE;
	}
	return PROTO_TEXT_LINE;
}

/* NULL if s is text of class cls no longer than max bytes, else what is
 * wrong with it, to follow the flag's name. */
const char *
text_problem(const char *s, size_t max, int cls)
{
	static char buf[64];
	size_t len = strlen(s);
	int why;

	if (len > max) {
		snprintf(buf, sizeof(buf), "longer than %zu bytes", max);
		return buf;
	}
	why = proto_text_check(s, len, cls);
	return why == 0 ? NULL : proto_text_reason(why);
}

/* The spaces that pad s to width terminal columns: wide (CJK) characters
 * take two, combining marks and joiners none. */
int
text_pad(const char *s, int width)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s);
	int cols = 0;

	while (len > 0 && cols < width) {
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate(p, len, &c);

		if (n < 1) {
			n = 1;
			c = 0xfffd;	/* a terminal shows one replacement */
		}
		cols += utf8proc_charwidth(c);
		p += n;
		len -= n;
	}
	return cols < width ? width - cols : 0;
}

/* The word the usage line gives positional argument i ("NAME"), or
 * "argument N": flags and their values are skipped. */
static void
pos_label(const char *usage, const char *cmd, int i, char *out, size_t len)
{
	const char *p = strstr(usage, cmd);
	int skip_value = 0, n = 0;

	snprintf(out, len, "argument %d", i + 1);
	for (p = p ? p + strlen(cmd) : ""; *p != '\0';) {
		size_t w;

		p += strspn(p, " ");
		if ((w = strcspn(p, " ")) == 0)
			break;
		if (strncmp(p, "--", 2) == 0 || strncmp(p, "[--", 3) == 0)
			skip_value = strchr("]|", p[w - 1]) == NULL &&
			    memchr(p, '|', w) == NULL;
		else if (skip_value)
			skip_value = 0;
		else if (n++ == i) {
			p += *p == '[';
			w = strcspn(p, " ]");
			snprintf(out, len, "%.*s", (int)w, p);
			return;
		}
		p += w;
	}
}

/* Checks and normalises one argument; the copy goes into pool. */
static int
arg_nfc(const char **v, struct text_pool *pool, const char *cmd,
    const char *what)
{
	const char *problem = text_problem(*v, PROTO_TEXT_MAX,
	    PROTO_TEXT_LONG);
	char *nfc;

	if (problem != NULL)
		return fail_usage("%s: %s: %s", cmd, what, problem);
	if ((nfc = proto_text_nfc(*v, strlen(*v), NULL)) == NULL)
		return fail("%s: out of memory", cmd);
	pool->p[pool->n++] = nfc;
	*v = nfc;
	return 0;
}

/* Every flag value and positional argument of a, checked as text and
 * normalised to NFC in place, except the first npaths positionals (file
 * names are bytes, not text). Free pool with text_pool_free even on
 * error. */
int
text_args_nfc(struct args *a, const char *usage, int npaths,
    struct text_pool *pool)
{
	char what[64];
	int rc;

	for (int i = npaths; i < a->npos; i++) {
		pos_label(usage, a->cmd, i, what, sizeof(what));
		if ((rc = arg_nfc(&a->pos[i], pool, a->cmd, what)) != 0)
			return rc;
	}
	for (int i = 0; i < a->nflags; i++) {
		if (a->value[i] == NULL)
			continue;
		snprintf(what, sizeof(what), "--%s", a->flag[i]);
		if ((rc = arg_nfc(&a->value[i], pool, a->cmd, what)) != 0)
			return rc;
	}
	return 0;
}

void
text_pool_free(struct text_pool *pool)
{
	for (int i = 0; i < pool->n; i++)
		free(pool->p[i]);
	pool->n = 0;
}
