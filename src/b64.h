/*
 * b64.h - Base64 (RFC 4648 §4) and Base64url (RFC 4648 §5) codecs.
 */
#ifndef OA2_B64_H
#define OA2_B64_H

#include <stddef.h>

/*
 * Decode strict unpadded base64url (RFC 7515 §2): only [A-Za-z0-9_-], no
 * '=', no white space, length % 4 != 1, unused trailing bits zero.
 * *out is malloc'd (NUL-terminated for convenience, *outlen excludes the
 * NUL); the caller frees it.  Returns 0, OA2_ERR_BAD_RESPONSE or
 * OA2_ERR_NOMEM.
 */
int b64url_decode(const char *in, size_t inlen, unsigned char **out,
    size_t *outlen);

/*
 * Encode with the standard alphabet and '=' padding (for HTTP Basic).
 * *out is a malloc'd NUL-terminated string.  Returns 0 or OA2_ERR_NOMEM.
 */
int b64_encode(const unsigned char *in, size_t inlen, char **out);

/* Encode unpadded base64url (used by tests and the mock tooling). */
int b64url_encode(const unsigned char *in, size_t inlen, char **out);

#endif
