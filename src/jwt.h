/*
 * jwt.h - ID token verification: JWS signature (RFC 7515) with keys only
 * from the configured JWKS, then the claim checks of OpenID Connect Core
 * §3.1.3.7, following RFC 8725 (JWT BCP).
 */
#ifndef OA2_JWT_H
#define OA2_JWT_H

#include <stddef.h>
#include <time.h>

struct claims;
struct jwks;

/* Largest compact JWT we look at. */
#define JWT_MAX_BYTES (64 * 1024)

struct jwt_expect {
	const char *issuer;     /* iss must equal this byte for byte */
	const char *client_id;  /* must be in aud; azp, when present, equals it */
	time_t now;             /* current time (injected for tests) */
	long leeway;            /* seconds of clock skew allowed */
};

/*
 * Verify a compact-serialised ID token.
 *
 * Accepted algorithms: RS256/384/512, PS256/384/512, ES256/384/512, EdDSA
 * (Ed25519).  Refused: none (any case), HS*, unknown algs, a key whose
 * type/curve/size does not fit alg, a JWK whose "alg" differs, headers
 * crit/jku/x5u/jwk/x5c, typ "at+jwt".  The key is chosen by kid; without a
 * kid only when exactly one key fits alg.  Claims are read only after the
 * signature verifies: iss, aud (string or array, every value the client_id),
 * azp (required when aud has
 * several values), exp (required), iat (required, not in the future), nbf,
 * all integers, with leeway.
 *
 * On success returns 0 and *out holds the verified claims (claims_free).
 * On failure returns OA2_ERR_TOKEN (and *why a short static reason code such
 * as "bad_signature", "alg_refused", "iss_mismatch", "expired"), or
 * OA2_ERR_NOMEM.  why may be NULL.
 */
int jwt_verify(const char *token, const struct jwks *keys,
    const struct jwt_expect *expect, struct claims **out, const char **why);

struct jwt_at_expect {
	const char *issuer;     /* iss must equal this byte for byte */
	const char *audience;   /* must be among aud (token_audience) */
	time_t now;
	long leeway;
};

/*
 * Verify a JWT access token (RFC 9068) with the same JWS rules as
 * jwt_verify, except the header typ: it must be "at+jwt" or
 * "application/at+jwt" (case-insensitive), anything else, an ID token
 * among them, is refused with "not_access_token" (§4).  Then the claims
 * (§2.2, §4): iss, aud containing audience (other values allowed: an
 * access token may serve several resources), exp, nbf, iat as for ID
 * tokens, sub, client_id and jti required strings (jti not empty), and
 * no cnf claim (a sender-constrained token: "sender_constrained").
 * Same return values and ownership as jwt_verify.
 */
int jwt_verify_access(const char *token, const struct jwks *keys,
    const struct jwt_at_expect *expect, struct claims **out,
    const char **why);

#endif
