/*
 * fuzz_token.c - token endpoint responses (RFC 6749 §5.1, §5.2):
 * token_parse and the error classification, as login.c calls them.
 * Input: one byte choosing the HTTP status, then the body.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fuzz.h"
#include "token.h"

/* What a successful parse hands on is valid UTF-8 (RFC 3629). */
static void
check_utf8(const char *p)
{
	const unsigned char *s = (const unsigned char *)p;

	if (s == NULL)
		return;
	while (*s != 0) {
		int k = *s < 0x80 ? 0 : *s >= 0xc2 && *s <= 0xdf ? 1 :
		    *s >= 0xe0 && *s <= 0xef ? 2 : *s >= 0xf0 && *s <= 0xf4 ?
		    3 : -1;
		unsigned int cp;

		if (k < 0)
			abort();
		cp = k == 0 ? *s : *s & (0x3f >> k);
		for (int j = 1; j <= k; j++) {
			if ((s[j] & 0xc0) != 0x80)
				abort();
			cp = cp << 6 | (s[j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			abort();
		s += k + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token_response tok;
	char errcode[64];
	const char *why = NULL;
	char *body;
	int rc;

	if (size < 1)
		return 0;
	/* The HTTP layer hands over a NUL-terminated copy. */
	body = malloc(size);
	if (body == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	rc = token_parse(fuzz_status(data[0]), body, size - 1, &tok, errcode,
	    sizeof(errcode), &why);
	if (rc == 0) {
		/* Success must carry a non-empty access token. */
		if (tok.access_token == NULL || tok.access_token[0] == '\0')
			abort();
		check_utf8(tok.access_token);
		check_utf8(tok.id_token);
		check_utf8(tok.refresh_token);
		check_utf8(tok.scope);
	} else if (why == NULL) {
		abort();
	}
	/* The one classification: only these classes, and a refusal of
	 * the client is never "could not ask" nor a success. */
	if (rc != 0 && rc != OA2_ERR_DENIED && rc != OA2_ERR_CLIENT &&
	    rc != OA2_ERR_UNAVAIL && rc != OA2_ERR_BAD_RESPONSE &&
	    rc != OA2_ERR_NOMEM)
		abort();
	if (rc == 0 && fuzz_status(data[0]) != 200)
		abort();
	if (rc == OA2_ERR_UNAVAIL && errcode[0] != '\0' &&
	    token_error_class(errcode) == OA2_ERR_CLIENT)
		abort();
	(void)token_error_is_mfa(errcode);
	token_response_clear(&tok);
	free(body);
	return 0;
}
