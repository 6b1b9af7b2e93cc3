/*
 * jwks.h - JSON Web Key Sets (RFC 7517) turned into OpenSSL keys.
 */
#ifndef OA2_JWKS_H
#define OA2_JWKS_H

#include <stddef.h>

struct jwks;

/*
 * Parse a JWK Set document.  Keys that cannot be used for signatures (use
 * other than "sig", unsupported kty/crv, RSA under 2048 bits, malformed
 * members) are skipped, not fatal; a document that is not an object with a
 * "keys" array is OA2_ERR_BAD_RESPONSE.  Returns 0, OA2_ERR_BAD_RESPONSE or
 * OA2_ERR_NOMEM; free with jwks_free.
 */
int jwks_parse(const char *json, size_t len, struct jwks **out);

void jwks_free(struct jwks **set);

/* Number of usable keys (for diagnostics and tests). */
size_t jwks_count(const struct jwks *set);

/*
 * Key selection for jwt.c.  kty is what the JWS alg needs; curve_nid is the
 * OpenSSL NID of the curve for EC (NID_X9_62_prime256v1, NID_secp384r1,
 * NID_secp521r1) and OKP (NID_ED25519) keys, 0 for RSA.
 */
enum jwks_kty {
	JWKS_KTY_RSA = 1,
	JWKS_KTY_EC = 2,
	JWKS_KTY_OKP = 3,
};

struct evp_pkey_st;     /* OpenSSL's EVP_PKEY */

/*
 * Choose the verification key for a JWS with header alg and kid (RFC 7515
 * §4.1.4, RFC 8725 §3.1).  A key fits when its type and curve are those
 * given and its "alg" member, if any, equals alg.  With a kid, only keys
 * carrying that kid are considered (no fallback to other keys); without,
 * all keys.  Exactly one fitting key must remain.
 * Returns 0 with *key borrowed from set (valid while set lives),
 * OA2_ERR_NOTFOUND when no key has the kid, or when none or several keys
 * fit; OA2_ERR_TOKEN when keys have the kid but none of them fits alg.
 */
int jwks_select(const struct jwks *set, const char *alg, const char *kid,
    enum jwks_kty kty, int curve_nid, struct evp_pkey_st **key);

#endif
