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

#endif
