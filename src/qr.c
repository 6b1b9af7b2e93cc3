/*
 * qr.c - QR codes with libqrencode (optional at configure time).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "qr.h"

#ifdef HAVE_QRENCODE
#include <qrencode.h>

#define QUIET 2

/* Is module (x, y) dark?  Outside the symbol is the (light) quiet zone. */
static int
dark(const QRcode *q, int x, int y)
{
	x -= QUIET;
	y -= QUIET;
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 0;
	return q->data[y * q->width + x] & 1;
}

int
qr_render(const char *text, int max_width, char **out)
{
	/* Light modules are drawn, so the glyph encodes "not dark". */
	static const char *const glyph[4] = {
		"\xe2\x96\x88", /* both light: full block */
		"\xe2\x96\x84", /* top dark, bottom light: lower half */
		"\xe2\x96\x80", /* top light, bottom dark: upper half */
		" ",            /* both dark */
	};
	QRcode *q;
	size_t cap, len = 0;
	char *buf;
	int w;

	*out = NULL;
	q = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	if (q == NULL)
		return OA2_ERR_NOTFOUND;
	w = q->width + 2 * QUIET;
	if (w > max_width) {
		QRcode_free(q);
		return OA2_ERR_NOTFOUND;
	}
	/* Each cell is at most 3 bytes; one newline per text row. */
	cap = (size_t)((w + 1) / 2 + 1) * (size_t)(w * 3 + 1) + 1;
	buf = malloc(cap);
	if (buf == NULL) {
		QRcode_free(q);
		return OA2_ERR_NOMEM;
	}
	for (int y = 0; y < w; y += 2) {
		for (int x = 0; x < w; x++) {
			int top = dark(q, x, y);
			int bottom = y + 1 < w ? dark(q, x, y + 1) : 0;
			const char *g = glyph[top * 1 + bottom * 2];
			size_t gl = strlen(g);

			memcpy(buf + len, g, gl);
			len += gl;
		}
		buf[len++] = '\n';
	}
	buf[len] = '\0';
	QRcode_free(q);
	*out = buf;
	return 0;
}

#else

int
qr_render(const char *text, int max_width, char **out)
{
	(void)text;
	(void)max_width;
	*out = NULL;
	return OA2_ERR_NOTFOUND;
}

#endif
