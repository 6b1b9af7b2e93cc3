/*
 * form.c - percent-encoding into a bounded, wipeable buffer.
 *
 * Unreserved characters (RFC 3986 §2.3: ALPHA DIGIT - . _ ~) are kept;
 * every other byte, space included, becomes %XX.  That is a valid
 * application/x-www-form-urlencoded serialisation and also the encoding
 * RFC 6749 §2.3.1 asks for the client id and secret in HTTP Basic.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "form.h"
#include "secret.h"

/* Make room for n more bytes plus the NUL, within FORM_MAX.  Growing
 * copies into a fresh buffer and wipes the old one (no realloc, which
 * would leave secret bytes behind). */
static int
reserve(struct form *f, size_t n)
{
	size_t need, cap;
	char *nb;

	if (f->err != 0)
		return f->err;
	if (n > FORM_MAX || f->len + n + 1 > FORM_MAX) {
		f->err = OA2_ERR_CONFIG;
		return f->err;
	}
	need = f->len + n + 1;
	if (need <= f->cap)
		return 0;
	cap = f->cap != 0 ? f->cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > FORM_MAX)
		cap = FORM_MAX;
	nb = malloc(cap);
	if (nb == NULL) {
		f->err = OA2_ERR_NOMEM;
		return f->err;
	}
	if (f->buf != NULL) {
		memcpy(nb, f->buf, f->len + 1);
		secret_freen((void **)&f->buf, f->cap);
	} else {
		nb[0] = '\0';
	}
	f->buf = nb;
	f->cap = cap;
	return 0;
}

int
form_append_raw(struct form *f, const char *s, size_t n)
{
	if (reserve(f, n) != 0)
		return f->err;
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	f->buf[f->len] = '\0';
	return 0;
}

int
form_encode(struct form *f, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char enc[3];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			if (form_append_raw(f, (const char *)&s[i], 1) != 0)
				return f->err;
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[c >> 4];
		enc[2] = hex[c & 0xf];
		if (form_append_raw(f, enc, 3) != 0)
			return f->err;
	}
	return f->err;
}

int
form_add_key(struct form *f, const char *key)
{
	if (f->len > 0)
		form_append_raw(f, "&", 1);
	form_encode(f, key, strlen(key));
	form_append_raw(f, "=", 1);
	return f->err;
}

int
form_add(struct form *f, const char *key, const char *value)
{
	form_add_key(f, key);
	form_encode(f, value, strlen(value));
	return f->err;
}

void
form_clear(struct form *f)
{
	secret_freen((void **)&f->buf, f->cap);
	f->len = 0;
	f->cap = 0;
	f->err = 0;
}
