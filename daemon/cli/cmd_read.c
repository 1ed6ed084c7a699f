/*
 * Commands that read: list, show, search, dump, digest. Each reads in one
 * read-only transaction, so it sees one consistent state while another
 * process writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"

static int
begin_read(struct device *d, struct store_txn **t)
{
	int rc = store_begin(d->st, STORE_RDONLY, t);

	return rc == 0 ? 0 : device_store_error(rc, "cannot read");
}

static const char *
get_or(const struct record *r, const char *field, const char *dflt)
{
	const char *v = record_get(r, field);

	return v != NULL ? v : dflt;
}

static int
text_same(const char *a, const char *b)
{
	return proto_text_same(a, strlen(a), b, strlen(b));
}

struct list_walk {
	const char	*class;
	size_t		 n, cap;
	struct list_item {
		char		*folded;	/* the name as search folds it */
		struct record	*r;
	}		*items;
	int		 rc;
	int		 ndups;		/* rows marked as likely duplicates */
	struct student_list students;
};

/* A copy of r the caller frees: the walk frees its own. */
static int
record_copy(const struct record *r, struct record **out)
{
	msgpack_sbuffer sb;
	int rc;

	msgpack_sbuffer_init(&sb);
	rc = record_encode(r, &sb) == 0 &&
	    record_decode(out, (const uint8_t *)sb.data, sb.size) == 0 ? 0 : -1;
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int
list_cb(const struct record *r, void *arg)
{
	struct list_walk *w = arg;
	const struct student_item *st = student_list_find(&w->students, r->id);
	const char *name = get_or(r, "name", "");
	struct list_item *it;
	size_t flen;

	if (record_deleted(r) || (st != NULL && st->merged) ||
	    (w->class != NULL && !text_same(get_or(r, "class", ""),
	    w->class)))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;

		if ((it = realloc(w->items, cap * sizeof(*it))) == NULL) {
			w->rc = STORE_ENOMEM;
			return 1;
		}
		w->items = it;
		w->cap = cap;
	}
	it = &w->items[w->n];
	it->folded = proto_text_fold(name, strlen(name), PROTO_FOLD_ACCENTS,
	    &flen);
	if (it->folded == NULL)
		it->folded = strdup(name);	/* not text: its bytes */
	if (it->folded == NULL || record_copy(r, &it->r) != 0) {
		free(it->folded);
		w->rc = STORE_ENOMEM;
		return 1;
	}
	w->n++;
	return 0;
}

static int
list_item_cmp(const void *a, const void *b)
{
	const struct list_item *x = a, *y = b;
	int c = strcmp(x->folded, y->folded);

	return c != 0 ? c : memcmp(x->r->id, y->r->id, PROTO_RECIDLEN);
}

static void
list_print(struct list_walk *w, int json)
{
	char hex[2 * PROTO_RECIDLEN + 1], dups[200];

	if (json)
		fputs("[", stdout);
	for (size_t i = 0; i < w->n; i++) {
		const struct record *r = w->items[i].r;
		const struct student_item *it;

		if (json) {
			printf("%s", i ? ",\n" : "");
			json_record(r);
			continue;
		}
		hex_id(hex, r->id);
		printf("%s  %s%*s  %s", hex, get_or(r, "name", ""),
		    text_pad(get_or(r, "name", ""), 28), "",
		    get_or(r, "class", ""));
		it = student_list_find(&w->students, r->id);
		if (it != NULL && it->dup) {
			student_dups_text(&w->students, it, dups,
			    sizeof(dups));
			printf("  (a duplicate? the same name and class as "
			    "%s)", dups);
			w->ndups++;
		}
		putchar('\n');
	}
	if (json)
		fputs("]\n", stdout);
}

static void
list_free(struct list_walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->items[i].folded);
		record_free(w->items[i].r);
	}
	free(w->items);
	student_list_free(&w->students);
}

/* Students in name order. The name index holds keyed hashes, in no
 * useful order, so the students are sorted here: a school's roster, not
 * its notes. */
int
cmd_student_list(struct device *d, struct args *a)
{
	struct list_walk w = { args_get(a, "class"), 0, 0, NULL, 0, 0,
	    { 0 } };
	struct store_txn *t;
	int rc;

	if ((rc = begin_read(d, &t)) != 0)
		return rc;
	if ((rc = student_list_load(t, &w.students)) == 0)
		rc = store_records_each(t, KIND_STUDENT, list_cb, &w);
	store_abort(t);
	if (rc == 0 && w.rc == 0) {
		if (w.n > 1)
			qsort(w.items, w.n, sizeof(*w.items), list_item_cmp);
		list_print(&w, d->json);
	}
	if (w.ndups > 0)
		fprintf(stderr, "%d %s marked as a likely duplicate: if two "
		    "are one student, 'satchel student merge KEEP OTHER' "
		    "makes them one on every device\n", w.ndups,
		    w.ndups == 1 ? "student is" : "students are");
	list_free(&w);
	if (rc != 0 || w.rc != 0)
		return device_store_error(rc ? rc : w.rc, "list");
	return 0;
}

struct page {
	struct device	*d;
	struct store_txn *t;
	int		 count;
	int		 rc;
	uint64_t	 limit;		/* items a section shows; 0: all */
	size_t		 nfamily;	/* the student and those merged in */
	uint8_t		(*family)[PROTO_RECIDLEN];
};

#define SHOW_LIMIT	50	/* notes and entries show gives by default */

/* "    label:     text", continuation lines under the text; with no
 * label, the text alone, indented. */
static void
print_indented(const char *label, const char *text)
{
	int width = *label ? 10 : 0;

	printf("    %-*s%s", width, label, *label ? " " : "");
	for (const char *p = text; *p; p++) {
		putchar(*p);
		if (*p == '\n')
			printf("    %-*s%s", width, "", *label ? " " : "");
	}
	putchar('\n');
}

static int
first_author(const uint8_t *env, size_t len, void *arg)
{
	struct envelope e;

	if (proto_envelope_decode(&e, env, len) == 0)
		memcpy(arg, e.author, PROTO_IDLEN);
	return 1;	/* the oldest is enough */
}

/* Who wrote a note or entry, by the signature on the entry that made it:
 * its member record's name, or the first digits of its id; never the
 * "author" text the writer put in it. */
static void
written_by(struct page *p, const struct record *r, char *out, size_t len)
{
	const struct rec_register *reg = record_register(r, "author");
	uint8_t author[PROTO_IDLEN] = { 0 };
	char hex[2 * PROTO_IDLEN + 1];

	if (reg != NULL && reg->nheads > 0)
		memcpy(author, reg->heads[0].ref.author, PROTO_IDLEN);
	else if (store_history_each(p->t, r->id, first_author, author) != 0)
		memset(author, 0, sizeof(author));
	if (member_name(p->d, p->t, author, out, len) == NULL) {
		sodium_bin2hex(hex, sizeof(hex), author, PROTO_IDLEN);
		snprintf(out, len, "%.12s", hex);
	}
}

/* A private note or entry (#9) says so: only its author reads it. */
static const char *
private_mark(struct page *p, const struct record *r)
{
	return ops_record_scope(p->t, r) == SCOPE_PRIVATE ? "  (private)" :
	    "";
}

/* A record's id as show prints it: the shortest prefix, of 8 digits or
 * more, that names it alone (a note's id starts with its time, so the
 * notes of one minute share their first 8). Its length. */
static int
short_id(struct page *p, const uint8_t *id, char hex[2 * PROTO_RECIDLEN + 1])
{
	size_t n;

	hex_id(hex, id);
	if (store_record_prefix(p->t, id, 8, &n) != 0)
		n = 2 * PROTO_RECIDLEN;
	return (int)n;
}

static void
show_note(struct page *p, const struct record *r)
{
	char hex[2 * PROTO_RECIDLEN + 1], by[NAME_MAX_LEN + 1];
	int n = short_id(p, r->id, hex);

	written_by(p, r, by, sizeof(by));
	printf("  %s  conference note by %s  [%.*s]%s\n", get_or(r, "date",
	    ""), by, n, hex, private_mark(p, r));
	print_indented("strengths:", get_or(r, "strengths", ""));
	print_indented("obstacle:", get_or(r, "obstacle", ""));
	print_indented("action:", get_or(r, "action", ""));
	if (record_get(r, "follow_up") != NULL)
		print_indented("follow-up:", record_get(r, "follow_up"));
	if (record_get(r, "student_words") != NULL)
		print_indented("in words:", record_get(r, "student_words"));
}

static void
show_entry(struct page *p, const struct record *r)
{
	const struct rec_set *tags = record_set(r, "tags");
	char hex[2 * PROTO_RECIDLEN + 1];
	int n = short_id(p, r->id, hex);

	printf("  %s  portfolio entry: %s  [%.*s]", get_or(r, "date", ""),
	    get_or(r, "title", ""), n, hex);
	for (size_t i = 0; tags != NULL && i < tags->nelems; i++)
		if (rec_elem_present(&tags->elems[i]))
			printf(" #%s", tags->elems[i].value);
	if (record_get(r, "slice") != NULL)
		printf(" (%s%s%s)", record_get(r, "slice"),
		    record_get(r, "score") ? ", score " : "",
		    record_get(r, "score") ? record_get(r, "score") : "");
	printf("%s\n", private_mark(p, r));
	if (record_get(r, "body") != NULL)
		print_indented("", record_get(r, "body"));
}

static void
show_goal(struct page *p, const struct record *r)
{
	char f[24], hex[2 * PROTO_RECIDLEN + 1];
	int n = atoi(get_or(r, "checkpoints", "0"));
	int idlen = short_id(p, r->id, hex);

	if (n < 0 || n > 9)
		n = 0;	/* not written by this program: show none */

	printf("  %s  [%.*s]\n", get_or(r, "text", ""), idlen, hex);
	for (int i = 1; i <= n; i++) {
		const char *date, *text, *done;

		snprintf(f, sizeof(f), "cp%d_date", i);
		date = get_or(r, f, "");
		snprintf(f, sizeof(f), "cp%d_text", i);
		text = get_or(r, f, "");
		snprintf(f, sizeof(f), "cp%d_done", i);
		done = get_or(r, f, "no");
		printf("    %d. [%s] %s  %s\n", i,
		    strcmp(done, "yes") == 0 ? "x" : " ", date, text);
	}
}

/* Index keys end in the record's id; kind sits before it where needed. */
static int
page_item_cb(const uint8_t *key, size_t len, void *arg)
{
	struct page *p = arg;
	struct record *r;
	uint8_t kind = key[0] == INDEX_BY_STUDENT ? key[len - 17] :
	    key[0] == INDEX_GOAL ? KIND_GOAL : KIND_GROUP;

	if ((p->rc = store_record_get(p->t, kind, key + len - PROTO_RECIDLEN,
	    &r)) != 0)
		return 1;
	if (!record_deleted(r)) {
		if (p->d->json) {
			char by[NAME_MAX_LEN + 1];

			printf("%s", p->count ? ",\n" : "\n");
			if (kind == KIND_NOTE || kind == KIND_ENTRY) {
				written_by(p, r, by, sizeof(by));
				json_record_by(r, by);
			} else
				json_record(r);
		}
		else if (kind == KIND_NOTE)
			show_note(p, r);
		else if (kind == KIND_ENTRY)
			show_entry(p, r);
		else if (kind == KIND_GOAL)
			show_goal(p, r);
		else
			printf("  %s (%s)\n", get_or(r, "name", ""),
			    get_or(r, "type", ""));
		p->count++;
	}
	record_free(r);
	return p->limit != 0 && (uint64_t)p->count >= p->limit;
}

/* Index keys of a merged student's records, gathered from each of its
 * records' keys: up to limit of each, which holds the newest limit of
 * all. */
#define PAGE_KEYMAX	64
struct page_keys {
	size_t		 n, cap, of_one;
	uint64_t	 limit;
	struct page_key { size_t len; uint8_t k[PAGE_KEYMAX]; } *keys;
};

static int
page_keys_cb(const uint8_t *key, size_t len, void *arg)
{
	struct page_keys *pk = arg;
	struct page_key *grown;

	if (len > PAGE_KEYMAX)
		return 0;
	if (pk->n == pk->cap) {
		pk->cap = pk->cap ? 2 * pk->cap : 64;
		if ((grown = realloc(pk->keys, pk->cap * sizeof(*grown))) ==
		    NULL)
			return 1;
		pk->keys = grown;
	}
	pk->keys[pk->n].len = len;
	memcpy(pk->keys[pk->n++].k, key, len);
	return pk->limit != 0 && ++pk->of_one >= pk->limit;
}

/* By what follows the student's id: date, creation stamp, kind, record
 * id (records.c). */
static int
page_key_cmp(const void *a, const void *b)
{
	const struct page_key *x = a, *y = b;
	size_t n = (x->len < y->len ? x->len : y->len) - 1 - PROTO_RECIDLEN;

	return memcmp(x->k + 1 + PROTO_RECIDLEN, y->k + 1 + PROTO_RECIDLEN, n);
}

/* A section of a merged student: its records' index keys, sorted as one
 * index would be, each record once (a group both were in). */
static int
family_section(struct page *p, uint8_t type, int newest_first)
{
	struct page_keys pk = { 0, 0, 0, p->limit, NULL };
	uint8_t prefix[1 + PROTO_RECIDLEN];
	int rc = 0;

	prefix[0] = type;
	for (size_t i = 0; rc == 0 && i < p->nfamily; i++) {
		memcpy(prefix + 1, p->family[i], PROTO_RECIDLEN);
		pk.of_one = 0;
		rc = store_index_each(p->t, prefix, sizeof(prefix),
		    newest_first, page_keys_cb, &pk);
	}
	if (pk.n > 0)
		qsort(pk.keys, pk.n, sizeof(*pk.keys), page_key_cmp);
	for (size_t j = 0; rc == 0 && j < pk.n; j++) {
		size_t i = newest_first ? pk.n - 1 - j : j;

		if (j > 0 && page_key_cmp(&pk.keys[i], &pk.keys[newest_first ?
		    i + 1 : i - 1]) == 0)
			continue;
		if (page_item_cb(pk.keys[i].k, pk.keys[i].len, p) != 0)
			break;
	}
	free(pk.keys);
	return rc;
}

/* One part of the page; in JSON, one member of the page's object. A
 * limited section stops after p->limit items: the index is in date order,
 * so the newest page costs the same at any history size. */
static int
show_section(struct page *p, uint8_t type, const uint8_t *student,
    const char *heading, const char *key, int newest_first)
{
	uint8_t prefix[1 + PROTO_RECIDLEN];
	int rc;

	prefix[0] = type;
	memcpy(prefix + 1, student, PROTO_RECIDLEN);
	if (p->d->json)
		printf(",\n\"%s\":[", key);
	else
		printf("\n%s\n", heading);
	p->count = 0;
	if (p->nfamily > 1)
		rc = family_section(p, type, newest_first);
	else
		rc = store_index_each(p->t, prefix, sizeof(prefix),
		    newest_first, page_item_cb, p);
	if (p->d->json)
		printf("]");
	else if (rc == 0 && p->rc == 0 && p->count == 0)
		printf("  (none)\n");
	return rc != 0 ? rc : p->rc;
}

static void
show_profile(const struct record *s)
{
	static const char *const fields[] = { "strengths", "needs",
	    "interests", "goals" };
	char hex[2 * PROTO_RECIDLEN + 1];

	hex_id(hex, s->id);
	printf("%s  (class %s)\nid %s\n", get_or(s, "name", ""),
	    get_or(s, "class", "-"), hex);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (record_get(s, fields[i]) != NULL) {
			char label[16];

			snprintf(label, sizeof(label), "%s:", fields[i]);
			print_indented(label, record_get(s, fields[i]));
		}
}

/* The records merged into this student, and the ones that look like it:
 * what `student merge` did, and what it could do. */
static void
show_kin(const struct student_list *l, const struct record *s,
    uint8_t (*family)[PROTO_RECIDLEN], size_t nfamily)
{
	const struct student_item *it = student_list_find(l, s->id);
	char hex[2 * PROTO_RECIDLEN + 1], dups[200];

	for (size_t i = 1; i < nfamily; i++) {
		hex_id(hex, family[i]);
		printf("    merged:   %.8s (its history: satchel history "
		    "%.8s)\n", hex, hex);
	}
	if (it == NULL || !it->dup)
		return;
	student_dups_text(l, it, dups, sizeof(dups));
	hex_id(hex, s->id);
	printf("    likely the same student as %s (the same name and class);"
	    "\n    if so: satchel student merge %.8s %.8s\n", dups, hex, dups);
}

/* 1,234,567: a count a reader takes in at a glance. */
static void
print_count(uint64_t n)
{
	if (n >= 1000) {
		print_count(n / 1000);
		printf(",%03u", (unsigned)(n % 1000));
	} else
		printf("%u", (unsigned)n);
}

/* What the page left out, with the command that shows it: the count is
 * kept in the index, so saying it costs nothing. */
static void
show_older(struct page *p, const struct record *s, const char *arg)
{
	uint64_t total = 0, older;

	for (size_t i = 0; i < p->nfamily; i++) {
		uint64_t n = 0;

		if (store_student_count(p->t, p->family[i], &n) != 0)
			return;
		total += n;
	}
	(void)s;
	if (p->limit == 0 || (uint64_t)p->count < p->limit ||
	    total <= (uint64_t)p->count)
		return;
	older = total - (uint64_t)p->count;
	if (p->d->json) {
		printf(",\n\"older\":%llu", (unsigned long long)older);
		return;
	}
	printf("  \u2026 ");
	print_count(older);
	printf(" %s: satchel show ", older == 1 ? "older note or entry" :
	    "older notes and entries");
	if (strpbrk(arg, " '\"\\$`!*?;&|<>()\t") != NULL &&
	    strchr(arg, '\'') == NULL)
		printf("'%s'", arg);
	else
		printf("%s", arg);
	printf(" --all\n");
}

static int
show_limit(const struct args *a, uint64_t *limit)
{
	const char *v = args_get(a, "limit");
	char *end;
	long long n;

	*limit = SHOW_LIMIT;
	if (args_has(a, "all")) {
		if (v != NULL)
			return fail_usage("show: give --limit or --all, "
			    "not both");
		*limit = 0;
		return 0;
	}
	if (v == NULL)
		return 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < 1 || n > 1000000000)
		return fail_usage("show: --limit takes a number from 1 up "
		    "(or use --all), not '%s'", v);
	*limit = (uint64_t)n;
	return 0;
}

/* One page per student, every part from an index: never a full scan.
 * Groups and goals are few; notes and entries come a page at a time. */
int
cmd_show(struct device *d, struct args *a)
{
	struct page p = { d, NULL, 0, 0, 0, 0, NULL };
	struct student_list sl;
	struct record *s;
	uint64_t limit;
	int rc;

	if ((rc = show_limit(a, &limit)) != 0)
		return rc;
	if ((rc = begin_read(d, &p.t)) != 0)
		return rc;
	if ((rc = resolve_record(p.t, a->pos[0], KIND_STUDENT, &s)) != 0) {
		store_abort(p.t);
		return rc;
	}
	if ((rc = student_list_load(p.t, &sl)) != 0 ||
	    (rc = student_family(&sl, s->id, &p.family, &p.nfamily)) != 0) {
		student_list_free(&sl);
		record_free(s);
		store_abort(p.t);
		return device_store_error(rc, "show");
	}
	if (d->json) {
		fputs("{\"student\":", stdout);
		json_record(s);
	} else {
		show_profile(s);
		show_kin(&sl, s, p.family, p.nfamily);
	}
	student_list_free(&sl);
	if ((rc = show_section(&p, INDEX_MEMBER, s->id, "Groups", "groups",
	    0)) == 0 && (rc = show_section(&p, INDEX_GOAL, s->id, "Goals",
	    "goals", 0)) == 0) {
		p.limit = limit;
		if ((rc = show_section(&p, INDEX_BY_STUDENT, s->id,
		    "Notes and entries, newest first", "notes_and_entries",
		    1)) == 0)
			show_older(&p, s, a->pos[0]);
	}
	if (d->json)
		fputs("}\n", stdout);
	free(p.family);
	record_free(s);
	store_abort(p.t);
	return rc == 0 ? 0 : device_store_error(rc, "show");
}

/* At most max bytes of s, not splitting a character. */
static size_t
cut_at_char(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

#define SNIPPET_MAX	60	/* bytes of a field a result line shows */

/* A field's text around where the query matched, on one line: from the
 * start when the match is near it, else from the matching word on. */
static void
print_snippet(const char *value, size_t off)
{
	const char *s = off > SNIPPET_MAX / 2 ? value + off : value;
	size_t n = cut_at_char(s, SNIPPET_MAX);

	if (s != value)
		fputs("\u2026", stdout);
	for (size_t i = 0; i < n; i++)
		putchar(s[i] == '\n' || s[i] == '\t' ? ' ' : s[i]);
	if (s[n] != '\0')
		fputs("\u2026", stdout);
}

struct search_walk {
	struct store_txn *t;
	int		 json;
	int		 count;
};

/* The student a note or entry is about, by name. */
static void
print_student_name(struct store_txn *t, const struct record *r)
{
	const char *hex = record_get(r, "student");
	uint8_t id[PROTO_RECIDLEN];
	struct record *s = NULL;
	size_t len;

	if (hex != NULL && strlen(hex) == 2 * PROTO_RECIDLEN &&
	    sodium_hex2bin(id, sizeof(id), hex, strlen(hex), NULL, &len,
	    NULL) == 0 && store_record_get(t, KIND_STUDENT, id, &s) == 0)
		printf("%s", get_or(s, "name", "?"));
	else
		printf("?");
	record_free(s);
}

static int
search_cb(const struct store_hit *h, void *arg)
{
	struct search_walk *w = arg;
	const struct record *r = h->r;
	char hex[2 * PROTO_RECIDLEN + 1];

	if (w->json) {
		printf("%s", w->count++ ? ",\n" : "");
		json_record(r);
		return 0;
	}
	hex_id(hex, r->id);
	if (r->kind == KIND_STUDENT)
		printf("%s  student  %s", hex, get_or(r, "name", ""));
	else {
		printf("%s  %-5s  %s  ", hex, r->kind == KIND_NOTE ? "note" :
		    "entry", get_or(r, "date", ""));
		print_student_name(w->t, r);
	}
	printf("  %s: ", h->field);
	print_snippet(h->value, h->off);
	putchar('\n');
	w->count++;
	return 0;
}

/* Every word of the text must start a word of the record (see
 * store_search): read from the word index, never a scan. */
int
cmd_search(struct device *d, struct args *a)
{
	struct search_walk w = { NULL, d->json, 0 };
	char query[4096];
	size_t len = 0;
	int rc;

	for (int i = 0; i < a->npos; i++) {
		size_t n = strlen(a->pos[i]);

		if (len + n + 1 >= sizeof(query))
			return fail_usage("search: too much text to look for");
		memcpy(query + len, a->pos[i], n);
		len += n;
		query[len++] = ' ';
	}
	query[len > 0 ? len - 1 : 0] = '\0';
	if (query[0] == '\0')
		return fail_usage("search: give some text to look for");
	if ((rc = begin_read(d, &w.t)) != 0)
		return rc;
	if (w.json)
		fputs("[", stdout);
	rc = store_search(w.t, query, search_cb, &w);
	if (w.json && rc != STORE_EINVALID)
		fputs("]\n", stdout);
	store_abort(w.t);
	if (rc == STORE_EINVALID)
		return fail_usage("search: give up to 31 words of letters or "
		    "digits to look for, not '%s'", query);
	if (rc != 0)
		return device_store_error(rc, "search");
	if (w.count == 0 && !w.json)
		fprintf(stderr, "no notes, entries or students match '%s'\n",
		    query);
	return w.count > 0 ? 0 : EXIT_FAIL;	/* like grep: 1 for none */
}

static int
dump_cb(const struct record *r, void *arg)
{
	int *count = arg;

	printf("%s", (*count)++ ? ",\n" : "[\n");
	json_record(r);
	return 0;
}

int
cmd_dump(struct device *d, struct args *a)
{
	struct store_txn *t;
	int rc, count = 0;

	(void)a;
	if ((rc = begin_read(d, &t)) != 0)
		return rc;
	rc = store_records_each(t, 0, dump_cb, &count);
	printf("%s]\n", count ? "\n" : "[");
	store_abort(t);
	return rc == 0 ? 0 : device_store_error(rc, "dump");
}

int
cmd_digest(struct device *d, struct args *a)
{
	uint8_t digest[PROTO_HASHLEN];
	char hex[2 * PROTO_HASHLEN + 1];
	struct store_txn *t;
	int rc;

	(void)a;
	if ((rc = begin_read(d, &t)) != 0)
		return rc;
	rc = store_digest(t, digest);
	store_abort(t);
	if (rc != 0)
		return device_store_error(rc, "digest");
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	printf("%s\n", hex);
	return 0;
}
