/*
 * An invite as a QR code, for the page's members view: the modules only,
 * which the page draws as one SVG path (views/sync.js).
 */
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "qr.h"

json_t *
qr_json(const char *text)
{
	QRcode *q;
	json_t *rows, *o = NULL;
	char *row;

	if (text == NULL || strlen(text) > QR_TEXT_MAX)
		return NULL;
	/* Level L: an invite is long, and a screen shows it sharp. */
	if ((q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L)) == NULL)
		return NULL;
	rows = json_array();
	if (rows == NULL || (row = malloc((size_t)q->width + 1)) == NULL)
		goto out;
	for (int y = 0; y < q->width; y++) {
		for (int x = 0; x < q->width; x++)
			row[x] = q->data[y * q->width + x] & 1 ? '1' : '0';
		row[q->width] = '\0';
		json_array_append_new(rows, json_string(row));
	}
	free(row);
	o = json_pack("{s:i,s:O}", "size", q->width, "rows", rows);
out:
	json_decref(rows);
	QRcode_free(q);
	return o;
}
