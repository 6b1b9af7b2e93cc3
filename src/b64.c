/*
 * b64.c - Base64 (RFC 4648 §4) and strict unpadded Base64url (RFC 4648 §5,
 * RFC 7515 §2) codecs.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "secret.h"

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of one base64url character, or -1 for anything outside
 * [A-Za-z0-9_-] (this rejects '=', '+', '/', white space and NUL). */
static int
b64_url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Encode inlen bytes with alphabet alpha; pad with '=' when pad is set.
 * *out is malloc'd and NUL-terminated.  Returns 0 or OA2_ERR_NOMEM.
 */
static int
b64_encode_with(const unsigned char *in, size_t inlen, char **out,
    const char *alpha, int pad)
{
	size_t groups, outlen, i, o = 0;
	char *buf = NULL;

	*out = NULL;
	if (in == NULL && inlen != 0)
		return OA2_ERR_NOMEM;
	groups = inlen / 3 + (inlen % 3 != 0);
	if (groups > (SIZE_MAX - 1) / 4)
		return OA2_ERR_NOMEM;
	outlen = groups * 4;
	buf = malloc(outlen + 1);
	if (buf == NULL)
		return OA2_ERR_NOMEM;
	for (i = 0; i + 2 < inlen; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];

		buf[o++] = alpha[(v >> 18) & 0x3f];
		buf[o++] = alpha[(v >> 12) & 0x3f];
		buf[o++] = alpha[(v >> 6) & 0x3f];
		buf[o++] = alpha[v & 0x3f];
	}
	if (inlen - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		buf[o++] = alpha[(v >> 18) & 0x3f];
		buf[o++] = alpha[(v >> 12) & 0x3f];
		if (pad) {
			buf[o++] = '=';
			buf[o++] = '=';
		}
	} else if (inlen - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		buf[o++] = alpha[(v >> 18) & 0x3f];
		buf[o++] = alpha[(v >> 12) & 0x3f];
		buf[o++] = alpha[(v >> 6) & 0x3f];
		if (pad)
			buf[o++] = '=';
	}
	buf[o] = '\0';
	*out = buf;
	return 0;
}

int
b64_encode(const unsigned char *in, size_t inlen, char **out)
{
	return b64_encode_with(in, inlen, out, b64_std, 1);
}

int
b64url_encode(const unsigned char *in, size_t inlen, char **out)
{
	return b64_encode_with(in, inlen, out, b64_url, 0);
}

/*
 * Strict decoder, RFC 7515 §2 / Appendix C: base64url without padding.
 * Every character must be in the alphabet, inlen % 4 must not be 1, and the
 * bits of the last character that do not make a whole byte must be zero,
 * so every byte string has exactly one accepted encoding.  *out is malloc'd
 * with a trailing NUL (not counted in *outlen); the caller frees it.
 */
int
b64url_decode(const char *in, size_t inlen, unsigned char **out,
    size_t *outlen)
{
	unsigned char *buf = NULL;
	size_t rem, n = 0, i, o = 0;
	uint32_t acc = 0;
	int bits = 0, rc = OA2_ERR_BAD_RESPONSE;

	*out = NULL;
	*outlen = 0;
	if (in == NULL)
		goto out;
	rem = inlen % 4;
	if (rem == 1)
		goto out;
	n = inlen / 4 * 3 + (rem == 0 ? 0 : rem - 1);
	buf = malloc(n + 1);
	if (buf == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < inlen; i++) {
		int v = b64_url_value((unsigned char)in[i]);

		if (v < 0)
			goto out;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits (2 or 4) must be zero (RFC 4648 §3.5). */
	if (acc != 0)
		goto out;
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	buf = NULL;
	rc = 0;
out:
	/* Decoded data may be a token or a secret: wipe before freeing. */
	secret_freen((void **)&buf, n + 1);
	return rc;
}
