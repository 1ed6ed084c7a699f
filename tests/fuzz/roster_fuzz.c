/*
 * libFuzzer target: proto_roster_parse reads a roster file a school's
 * office exported, which may hold anything. It must refuse, never crash
 * or leak, and what it accepts must hold what it promises: a line number
 * on every refusal and every row, rows in file order, a name on every
 * row, each cell text of its column's class in NFC, and a cell exactly
 * for the columns the header names.
 *
 * Seeds are plain CSV files in tests/fuzz/corpus/roster.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "roster.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_cell(const char *s, int col)
{
	int line = col == ROSTER_NAME || col == ROSTER_CLASS ||
	    col == ROSTER_EXTERNAL_ID;
	size_t len = strlen(s), nlen;
	char *nfc;

	if (proto_text_check(s, len, line ? PROTO_TEXT_LINE :
	    PROTO_TEXT_LONG) != 0 || (line && len > PROTO_ROSTER_LINE_MAX))
		abort();
	if ((nfc = proto_text_nfc(s, len, &nlen)) == NULL)
		abort();
	if (nlen != len || memcmp(nfc, s, len) != 0)
		abort();
	free(nfc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_roster r;
	size_t last = 0;

	if (proto_roster_parse(&r, data, size) != 0) {
		if (r.err_line == 0 || r.err[0] == '\0' || r.nrows != 0)
			abort();
		proto_roster_free(&r);
		return 0;
	}
	if (!r.has[ROSTER_NAME] || !r.has[ROSTER_CLASS])
		abort();
	for (size_t i = 0; i < r.nrows; i++) {
		const struct proto_roster_row *row = &r.rows[i];

		if (row->line <= last || row->line < 2)
			abort();
		last = row->line;
		for (int c = 0; c < ROSTER_NCOLS; c++) {
			if ((row->cell[c] != NULL) != r.has[c])
				abort();
			if (row->cell[c] != NULL)
				check_cell(row->cell[c], c);
		}
		if (row->cell[ROSTER_NAME][0] == '\0')
			abort();
	}
	proto_roster_free(&r);
	return 0;
}
