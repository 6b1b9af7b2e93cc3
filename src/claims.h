/*
 * claims.h - a verified set of identity claims (from an ID token whose
 * signature and claims were checked, or from the userinfo endpoint).
 * Callers never see json-c.
 */
#ifndef OA2_CLAIMS_H
#define OA2_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct claims;

/* Parse a JSON object of claims (strict, see json.h).  Returns 0,
 * OA2_ERR_BAD_RESPONSE or OA2_ERR_NOMEM; *out freed with claims_free. */
int claims_parse(const char *json, size_t len, struct claims **out);

void claims_free(struct claims **c);

/* The claims as one line of JSON (for the offline verifier); *out is
 * malloc'd.  Returns 0 or OA2_ERR_NOMEM. */
int claims_to_json(const struct claims *c, char **out);

/*
 * Claim lookups by name.  name may be a dotted path ("realm_access.roles")
 * that walks nested objects.  Return 0, OA2_ERR_NOTFOUND (absent or null)
 * or OA2_ERR_BAD_RESPONSE (wrong type, embedded NUL).  Strings are borrowed
 * and live as long as the claims.
 */
int claims_get_string(const struct claims *c, const char *name,
    const char **out);
int claims_get_int64(const struct claims *c, const char *name,
    int64_t *out);
/* A JSON boolean (true/false only: no string "true", no number). */
int claims_get_bool(const struct claims *c, const char *name, bool *out);
/* Whether the claim is there at all, whatever its type (null too). */
bool claims_has(const struct claims *c, const char *name);

/*
 * A claim that is a string or an array of strings: *out is a malloc'd
 * NULL-terminated array of borrowed strings (free only the array), *n the
 * count.  Any other element type is OA2_ERR_BAD_RESPONSE.
 */
int claims_get_strings(const struct claims *c, const char *name,
    const char ***out, size_t *n);

#endif
