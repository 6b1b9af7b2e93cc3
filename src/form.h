/*
 * form.h - application/x-www-form-urlencoded bodies (the only way the
 * module sends data to the IdP).  Every key and value is percent-encoded;
 * the buffer can hold secrets, so it is wiped when freed.
 */
#ifndef OA2_FORM_H
#define OA2_FORM_H

#include <stddef.h>

#define FORM_MAX (32 * 1024)

struct form {
	char *buf;      /* NUL-terminated body */
	size_t len;
	size_t cap;
	int err;        /* first error (sticky): OA2_ERR_NOMEM/_CONFIG */
};

/* Append "key=value" (with '&' between pairs), both percent-encoded.
 * Errors are sticky in f->err; returns f->err. */
int form_add(struct form *f, const char *key, const char *value);

/* Append "key=" (with '&' before it when needed); the value follows with
 * form_encode.  Returns f->err. */
int form_add_key(struct form *f, const char *key);

/* Append the percent-encoding of n bytes at s, nothing else. */
int form_encode(struct form *f, const char *s, size_t n);

/* Append raw bytes (for callers building other encoded strings). */
int form_append_raw(struct form *f, const char *s, size_t n);

/* Wipe and free the buffer; f may be reused afterwards. */
void form_clear(struct form *f);

#endif
