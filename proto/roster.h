/*
 * roster.h: a class roster as a school's office exports it, a CSV file
 * with a header row, read into checked, NFC-normalised text. Pure: bytes
 * in, an owned struct out; the CSV itself is parsed by libcsv.
 */
#ifndef SATCHEL_ROSTER_H
#define SATCHEL_ROSTER_H

#include <stddef.h>
#include <stdint.h>

/* The columns a header may name, in any order and any case ("External
 * ID", "external_id" and "external-id" are one). name and class are
 * required; the rest are optional. */
enum roster_col {
	ROSTER_NAME = 0,
	ROSTER_CLASS,
	ROSTER_STRENGTHS,
	ROSTER_NEEDS,
	ROSTER_INTERESTS,
	ROSTER_GOALS,
	ROSTER_EXTERNAL_ID,	/* the school's own id for the student */
	ROSTER_NCOLS
};

#define PROTO_ROSTER_MAX	(16 * 1024 * 1024)	/* bytes of a file */
#define PROTO_ROSTER_MAX_ROWS	50000	/* a large school, many times over */
#define PROTO_ROSTER_MAX_FIELDS	64	/* cells in one row */
#define PROTO_ROSTER_LINE_MAX	200	/* bytes of a name, class or id */

struct proto_roster_row {
	size_t	 line;			/* where the row starts, from 1 */
	char	*cell[ROSTER_NCOLS];	/* owned NFC text; NULL if the
					 * header has no such column */
};

struct proto_roster {
	int			 has[ROSTER_NCOLS];	/* named by the header */
	size_t			 nrows;
	struct proto_roster_row	*rows;		/* blank rows left out */
	size_t			 err_line;	/* on failure: where, from 1 */
	char			 err[200];	/* on failure: what, a phrase */
};

/* Parses a roster: a header row, then one student per row. Comma,
 * semicolon and tab separators are told apart by the header line;
 * quotes, CRLF line ends and a UTF-8 byte order mark are what a
 * spreadsheet writes, and are read. Every cell is text by proto_text_check
 * (one line for name, class and external id, which hold at most
 * PROTO_ROSTER_LINE_MAX bytes; long text for the profile fields),
 * normalised to NFC; a name is never empty. Returns 0, or -1 with
 * err_line and err saying what is wrong with the first bad row; nothing
 * is returned in part. Free with proto_roster_free, even after -1. */
int		 proto_roster_parse(struct proto_roster *, const uint8_t *buf,
		    size_t len) __attribute__((warn_unused_result));
void		 proto_roster_free(struct proto_roster *);
/* The column's name as a header spells it ("name", "external_id"). */
const char	*proto_roster_column(int col);

#endif
