/*
 * A class roster: CSV with a header row, parsed by libcsv (strict mode,
 * so a stray quote is an error rather than a guess). The file is fed to
 * libcsv one physical line at a time, so that a row, even one whose
 * quoted cell spans lines, is reported by the line it starts on.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "proto.h"
#include "roster.h"

static const char *const columns[ROSTER_NCOLS] = {
	"name", "class", "strengths", "needs", "interests", "goals",
	"external_id"
};

const char *
proto_roster_column(int col)
{
	return col >= 0 && col < ROSTER_NCOLS ? columns[col] : "?";
}

struct parse {
	struct proto_roster *r;
	int		 header_done;
	int		 map[PROTO_ROSTER_MAX_FIELDS];	/* cell -> column */
	size_t		 ncols;			/* cells the header has */
	size_t		 ncells;		/* in the current row */
	char		*cells[PROTO_ROSTER_MAX_FIELDS];
	size_t		 row_line;		/* where the current row starts */
	size_t		 line;			/* the line being fed */
	size_t		 rows_seen;		/* rows libcsv has ended */
	int		 failed;
};

static void failf(struct parse *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Keeps the first problem only: the row it names is the one to fix. */
static void
failf(struct parse *p, size_t line, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	p->r->err_line = line ? line : p->line ? p->line : 1;
	va_start(ap, fmt);
	vsnprintf(p->r->err, sizeof(p->r->err), fmt, ap);
	va_end(ap);
}

static void
cells_clear(struct parse *p)
{
	for (size_t i = 0; i < p->ncells && i < PROTO_ROSTER_MAX_FIELDS; i++)
		free(p->cells[i]);
	p->ncells = 0;
}

static void
cell_cb(void *s, size_t len, void *arg)
{
	struct parse *p = arg;
	char *copy;

	if (p->failed)
		return;
	if (p->ncells == PROTO_ROSTER_MAX_FIELDS) {
		failf(p, p->row_line, "more than %s cells in a row", "64");
		return;
	}
	if ((copy = malloc(len + 1)) == NULL) {
		failf(p, p->row_line, "%s", "out of memory");
		return;
	}
	if (len > 0)
		memcpy(copy, s, len);
	copy[len] = '\0';
	p->cells[p->ncells++] = copy;
}

/* "External ID", "external-id" and "external_id" name one column. */
static int
column_of(const char *cell)
{
	char norm[32];
	size_t n = 0;

	for (const char *c = cell; *c != '\0'; c++) {
		if (n + 1 == sizeof(norm))
			return -1;
		norm[n++] = *c == ' ' || *c == '-' ? '_' :
		    (char)tolower((unsigned char)*c);
	}
	norm[n] = '\0';
	for (int i = 0; i < ROSTER_NCOLS; i++)
		if (strcmp(norm, columns[i]) == 0)
			return i;
	return -1;
}

static void
header_row(struct parse *p)
{
	struct proto_roster *r = p->r;

	for (size_t i = 0; i < p->ncells; i++) {
		int col = column_of(p->cells[i]);

		/* A spreadsheet's trailing empty columns hold nothing. */
		if (p->cells[i][0] == '\0') {
			p->map[i] = -1;
			continue;
		}
		if (col < 0) {
			failf(p, p->row_line, "unknown column '%.40s' (the "
			    "header names name, class, and any of strengths, "
			    "needs, interests, goals, external_id)",
			    p->cells[i]);
			return;
		}
		if (r->has[col]) {
			failf(p, p->row_line, "the column %s is named twice",
			    columns[col]);
			return;
		}
		r->has[col] = 1;
		p->map[i] = col;
	}
	p->ncols = p->ncells;
	if (!r->has[ROSTER_NAME])
		failf(p, p->row_line, "the header row has no %s column "
		    "(the first row names the columns)", "name");
	else if (!r->has[ROSTER_CLASS])
		failf(p, p->row_line, "the header row has no %s column",
		    "class");
	p->header_done = 1;
}

static int
blank_row(const struct parse *p)
{
	for (size_t i = 0; i < p->ncells; i++)
		if (p->cells[i][0] != '\0')
			return 0;
	return 1;
}

/* Checks one cell as the text its column holds and stores its NFC form. */
static int
take_cell(struct parse *p, struct proto_roster_row *row, int col,
    const char *cell)
{
	int line = col == ROSTER_NAME || col == ROSTER_CLASS ||
	    col == ROSTER_EXTERNAL_ID;
	size_t len = strlen(cell);
	int why;

	if (line && len > PROTO_ROSTER_LINE_MAX) {
		failf(p, row->line, "%s: longer than 200 bytes", columns[col]);
		return -1;
	}
	if (len > PROTO_MAX_VALUE) {
		failf(p, row->line, "%s: longer than 64 KiB", columns[col]);
		return -1;
	}
	if ((why = proto_text_check(cell, len, line ? PROTO_TEXT_LINE :
	    PROTO_TEXT_LONG)) != 0) {
		char msg[120];

		snprintf(msg, sizeof(msg), "%s: %s", columns[col],
		    proto_text_reason(why));
		failf(p, row->line, "%s", msg);
		return -1;
	}
	if ((row->cell[col] = proto_text_nfc(cell, len, NULL)) == NULL) {
		failf(p, row->line, "%s", "out of memory");
		return -1;
	}
	return 0;
}

static void
data_row(struct parse *p)
{
	struct proto_roster *r = p->r;
	struct proto_roster_row *row, *grown;
	char got[64];

	if (p->ncells != p->ncols) {
		snprintf(got, sizeof(got), "%zu %s where the header has %zu",
		    p->ncells, p->ncells == 1 ? "cell" : "cells", p->ncols);
		failf(p, p->row_line, "%s (a missing or extra separator?)",
		    got);
		return;
	}
	if (r->nrows == PROTO_ROSTER_MAX_ROWS) {
		failf(p, p->row_line, "more than %s students in one file",
		    "50,000");
		return;
	}
	if ((grown = realloc(r->rows, (r->nrows + 1) * sizeof(*grown))) ==
	    NULL) {
		failf(p, p->row_line, "%s", "out of memory");
		return;
	}
	r->rows = grown;
	row = &r->rows[r->nrows++];
	memset(row, 0, sizeof(*row));
	row->line = p->row_line;
	for (size_t i = 0; i < p->ncells; i++) {
		if (p->map[i] < 0) {
			if (p->cells[i][0] != '\0') {
				failf(p, row->line, "cell %zu has no column "
				    "name in the header", i + 1);
				return;
			}
			continue;
		}
		if (take_cell(p, row, p->map[i], p->cells[i]) != 0)
			return;
	}
	if (row->cell[ROSTER_NAME][0] == '\0')
		failf(p, row->line, "the %s is empty", "name");
}

static void
row_cb(int c, void *arg)
{
	struct parse *p = arg;

	(void)c;
	p->rows_seen++;
	if (!p->failed) {
		if (!p->header_done)
			header_row(p);
		else if (!blank_row(p))
			data_row(p);
	}
	cells_clear(p);
}

/* The separator the header line uses most: a spreadsheet in a country
 * where the comma is the decimal mark saves with semicolons. */
static unsigned char
guess_delim(const uint8_t *buf, size_t len)
{
	size_t n[3] = { 0, 0, 0 };
	int quoted = 0;

	for (size_t i = 0; i < len && (quoted || buf[i] != '\n'); i++) {
		if (buf[i] == '"')
			quoted = !quoted;
		else if (!quoted)
			n[0] += buf[i] == ',', n[1] += buf[i] == ';',
			    n[2] += buf[i] == '\t';
	}
	if (n[1] > n[0] && n[1] >= n[2])
		return ';';
	if (n[2] > n[0] && n[2] > n[1])
		return '\t';
	return ',';
}

/* A line holding nothing but a line end: libcsv reports no row for it. */
static int
blank_line(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* The bytes up to and with the next line end: LF, CRLF, or a CR alone
 * (as old Macs wrote, and as libcsv reads). */
static size_t
line_len(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			return i + 1;
		if (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n'))
			return i + 1;
	}
	return len;
}

/* Feeds buf line by line; a row starts on the first non-blank line after
 * the last row ended. */
static int
feed(struct parse *p, struct csv_parser *csv, const uint8_t *buf, size_t len)
{
	size_t line = 0, done = 0, rows;

	while (done < len && !p->failed) {
		size_t n = line_len(buf + done, len - done);

		p->line = ++line;
		if (p->row_line == 0 && !blank_line(buf + done, n))
			p->row_line = line;
		rows = p->rows_seen;
		if (csv_parse(csv, buf + done, n, cell_cb, row_cb, p) != n) {
			failf(p, p->row_line ? p->row_line : line, "%s",
			    "not valid CSV: a quote inside a cell that does "
			    "not start with one (quote the whole cell)");
			return -1;
		}
		if (p->rows_seen != rows)
			p->row_line = 0;	/* the next row starts later */
		done += n;
	}
	if (!p->failed && csv_fini(csv, cell_cb, row_cb, p) != 0)
		failf(p, p->row_line ? p->row_line : line, "%s",
		    "not valid CSV: a quoted cell is never closed");
	return p->failed ? -1 : 0;
}

int
proto_roster_parse(struct proto_roster *r, const uint8_t *buf, size_t len)
{
	static const uint8_t bom[3] = { 0xef, 0xbb, 0xbf };
	struct csv_parser csv;
	struct parse p;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	p.r = r;
	if (len > PROTO_ROSTER_MAX) {
		failf(&p, 1, "%s", "larger than 16 MiB: not a roster");
		return -1;
	}
	if (len >= 3 && memcmp(buf, bom, 3) == 0) {
		buf += 3;
		len -= 3;
	}
	if (csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		failf(&p, 1, "%s", "out of memory");
		return -1;
	}
	csv_set_delim(&csv, guess_delim(buf, len));
	rc = feed(&p, &csv, buf, len);
	cells_clear(&p);
	csv_free(&csv);
	if (rc == 0 && !p.header_done)
		failf(&p, 1, "%s", "the file is empty: the first row names "
		    "the columns (name, class, ...)");
	if (p.failed)
		proto_roster_free(r);	/* nothing in part */
	return p.failed ? -1 : 0;
}

void
proto_roster_free(struct proto_roster *r)
{
	for (size_t i = 0; r != NULL && i < r->nrows; i++)
		for (int c = 0; c < ROSTER_NCOLS; c++)
			free(r->rows[i].cell[c]);
	if (r != NULL) {
		free(r->rows);
		r->rows = NULL;
		r->nrows = 0;
	}
}
