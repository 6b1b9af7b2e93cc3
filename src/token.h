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
 *  - any other status: token_classify().
 * *why receives a static reason code (or errcode).
 */
int token_parse(long status, const char *body, size_t len,
    struct token_response *out, char *errcode, size_t errlen,
    const char **why);

/*
 * The one classification of a non-200 answer of the token or device
 * authorization endpoint (docs/security.md, "What each hook returns").
 * An RFC 6749 §5.2 error code in the body (printable ASCII, bounded) is
 * copied into errcode and decides, whatever the status:
 *  - OA2_ERR_DENIED, a refusal of the user: invalid_grant,
 *    access_denied, expired_token, any *_required, invalid_request and
 *    unknown codes (fail closed);
 *  - OA2_ERR_CLIENT, a refusal of this client: invalid_client,
 *    unauthorized_client, unsupported_grant_type, invalid_scope;
 *  - OA2_ERR_UNAVAIL, could not ask: server_error,
 *    temporarily_unavailable.
 * The status decides when the code does not:
 *  - 5xx: OA2_ERR_UNAVAIL "http_5xx" with errcode emptied (a named
 *    refusal of the user or client still counts as such);
 *  - 429: OA2_ERR_CLIENT "http_429" (throttled; a named refusal of the
 *    user still counts as one);
 *  - 401 without an error code: OA2_ERR_CLIENT "http_401" (§5.2: client
 *    authentication failed);
 *  - 400 without one: OA2_ERR_BAD_RESPONSE "malformed_json" or
 *    "malformed_error";
 *  - other statuses: OA2_ERR_UNAVAIL "http_status".
 * Only OA2_ERR_UNAVAIL and OA2_ERR_BAD_RESPONSE mean "could not ask"
 * (the offline verifier may answer).  *why is a static reason code or
 * errcode.  OA2_ERR_NOMEM when parsing ran out of memory.
 */
int token_classify(long status, const char *body, size_t len, char *errcode,
    size_t errlen, const char **why);

/*
 * The HTTP-200 error convention of some plain OAuth 2 providers (GitHub:
 * authorization_pending, slow_down, expired_token, access_denied... come
 * with status 200 and an "error" member).  Used only where the
 * configuration says so (errors_with_200): a 200 whose JSON object has an
 * "error" member is classified as token_classify() does a 400 with it,
 * and a slow_down's new "interval" (a positive integer) is put in
 * *interval (else -1).  Returns 1 when the body is no error object (parse
 * it as a success), else the class (never 0).
 */
int token_classify_200(const char *body, size_t len, char *errcode,
    size_t errlen, int64_t *interval, const char **why);

/* The class of an error code alone (token_classify() above, for a 4xx):
 * OA2_ERR_DENIED, OA2_ERR_CLIENT or OA2_ERR_UNAVAIL.  NULL: denied. */
int token_error_class(const char *code);

/* True when the error code means "the IdP wants interaction or MFA". */
bool token_error_is_mfa(const char *code);

/* Wipe and free everything. */
void token_response_clear(struct token_response *t);

#endif
