/*
 * grant_token.h - an access token presented in place of the password
 * (grants = token): a JWT access token (RFC 9068) verified locally, or
 * any token checked by RFC 7662 introspection.
 */
#ifndef OA2_GRANT_TOKEN_H
#define OA2_GRANT_TOKEN_H

#include <stdbool.h>

struct login;

/* The opaque token shape (pam_oauth2.conf(5), TOKENS): this many
 * characters of the RFC 6750 §2.1 b64token alphabet. */
#define GRANT_TOKEN_OPAQUE_MIN 40
#define GRANT_TOKEN_OPAQUE_MAX 4096

/* Is s a compact JWS: three non-empty segments of the base64url
 * alphabet, at most JWT_MAX_BYTES, the first one decoding to a JSON
 * object text ("{...}")?  Nothing is verified. */
bool grant_token_is_jws(const char *s);

/* Is s shaped like a token: a compact JWS (also one over JWT_MAX_BYTES),
 * or an opaque token of GRANT_TOKEN_OPAQUE_MIN..MAX b64token characters?
 * With grants = token password such an answer is only ever a token, never
 * a password. */
bool grant_token_shaped(const char *s);

/*
 * Check the access token and bind its identity to lg->user.  Longer than
 * JWT_MAX_BYTES: refused unsent ("too_large").  A JWS is
 * verified locally (login_verify_access_jwt; no request with a warm
 * metadata cache) unless token_introspection = always; an opaque token is
 * introspected unless token_introspection = never ("opaque_refused").
 * Introspection: active must be true ("inactive_token"), aud must hold
 * token_audience, iss/exp/nbf/scope are checked when present.  Then the
 * username claim, and the granted scope from the token's scope claim
 * (none when absent).  lg->audit_token gets "jti:JTI" or a hash of the
 * token.  Returns 0 or an OA2_ERR_*; lg->why says why.  The token is not
 * kept; the caller wipes it.
 */
int grant_token(struct login *lg, const char *token);

#endif
