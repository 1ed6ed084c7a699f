/*
 * daemon/http/qr.c: a QR code of a text (an invite), as modules the page
 * draws itself (libqrencode; no image library, nothing for the CSP).
 */
#ifndef SATCHEL_QR_H
#define SATCHEL_QR_H

#include <jansson.h>

#define QR_TEXT_MAX	2900	/* past what a QR code holds at level L */

/* {"size": N, "rows": ["0110...", ...]}: N rows of N '0'/'1' (dark),
 * without the quiet zone. NULL if text is too long or encoding failed.
 * The caller owns the result. */
json_t	*qr_json(const char *text);

#endif
