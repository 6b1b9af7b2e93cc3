/*
 * json.h - strict JSON parsing of data that comes from the network.
 *
 * Only the json/token/jwt/jwks/claims/discovery files include json-c; the
 * rest of the module sees plain C values.
 */
#ifndef OA2_JSON_H
#define OA2_JSON_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Largest document we parse, and deepest nesting we accept. */
#define JSON_MAX_BYTES (256 * 1024)
#define JSON_MAX_DEPTH 16

/*
 * Parse exactly len bytes of buf as one JSON object (not an array, not a
 * scalar), strictly: no trailing garbage, no embedded NUL, at most
 * JSON_MAX_BYTES and JSON_MAX_DEPTH.  On success *out holds a new reference
 * the caller drops with json_put_wiped().  Nothing of the document is left
 * in memory json-c frees (its tokener's buffer, a partly built tree).
 * Returns 0, OA2_ERR_BAD_RESPONSE or OA2_ERR_NOMEM.
 */
int json_parse_object(const char *buf, size_t len, struct json_object **out);

/* The same for one JSON array (a list endpoint's answer, membership.c). */
int json_parse_array(const char *buf, size_t len, struct json_object **out);

/*
 * Zero every string (values and member names) in the tree at obj, then
 * drop the reference: for every tree json_parse_object() returned, since
 * its strings may be tokens or device codes.  Accepts NULL.  Strings
 * borrowed from obj are gone afterwards; copy them out first.
 */
void json_put_wiped(struct json_object *obj);

/*
 * Typed member lookups on an object.  Each returns 0 and sets *out,
 * OA2_ERR_NOTFOUND when the member is absent (or JSON null), or
 * OA2_ERR_BAD_RESPONSE when it has the wrong type.  Strings are borrowed
 * from obj (valid until it is released) and rejected when they contain
 * an embedded NUL.
 */
int json_get_string(struct json_object *obj, const char *key,
    const char **out);
int json_get_int64(struct json_object *obj, const char *key, int64_t *out);
int json_get_object(struct json_object *obj, const char *key,
    struct json_object **out);

/* Copy a string member with strdup (secret_strdup semantics); same returns,
 * plus OA2_ERR_NOMEM. */
int json_dup_string(struct json_object *obj, const char *key, char **out);

#endif
