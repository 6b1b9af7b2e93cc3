/*
 * qr.h - a QR code of a short text, drawn for a terminal.
 */
#ifndef OA2_QR_H
#define OA2_QR_H

/*
 * Render text as a QR code with Unicode half blocks (two module rows per
 * text line, a quiet zone of two modules), light modules drawn as blocks
 * so it reads on the usual dark terminal, as `qrencode -t UTF8` does.
 * The code may be at most max_width modules wide (quiet zone included).
 * *out is a malloc'd string of lines each ending in '\n'.
 * Returns 0, OA2_ERR_NOTFOUND (built without libqrencode, or too wide),
 * or OA2_ERR_NOMEM.
 */
int qr_render(const char *text, int max_width, char **out);

#endif
