/*
 * token.h - token endpoint responses (RFC 6749 §5.1 success, §5.2 error).
 */
#ifndef OA2_TOKEN_H
#define OA2_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct token_response {
	char *access_token;   /* secret */
	char *id_token;       /* secret; NULL when none was issued */
	char *refresh_token;  /* secret; NULL when none */
	char *scope;          /* granted scope; NULL when the IdP omitted it */
	int64_t expires_in;   /* -1 when absent */
};

/*
 * Parse a response from the token endpoint.
 *  - 200 with a JSON object: access_token (string, required), token_type
 *    (string "Bearer", any case, required), expires_in (integer),
 *    id_token / refresh_token / scope (strings).  Wrong types are a bad
 *    response.  Returns 0 and fills *out.
 *  - 400/401 with {"error": "..."}: the error code is copied into
 *    errcode (printable ASCII only, bounded) and the return value is
 *    token_error_class() of it.
 *  - anything else: OA2_ERR_UNAVAIL (5xx, 429, other statuses) or
 *    OA2_ERR_BAD_RESPONSE (unparsable body).
 * *why receives a static reason code.
 */
int token_parse(long status, const char *body, size_t len,
    struct token_response *out, char *errcode, size_t errlen,
    const char **why);

/*
 * Classify an RFC 6749 §5.2 / RFC 8628 §3.5 error code:
 * OA2_ERR_DENIED for answers about the user (invalid_grant,
 * access_denied, expired_token, interaction/MFA required, unknown codes),
 * OA2_ERR_UNAVAIL for answers about us (invalid_client,
 * unauthorized_client, unsupported_grant_type, invalid_scope,
 * server_error, temporarily_unavailable).
 */
int token_error_class(const char *code);

/* True when the error code means "the IdP wants interaction or MFA". */
bool token_error_is_mfa(const char *code);

/* Wipe and free everything. */
void token_response_clear(struct token_response *t);

#endif
