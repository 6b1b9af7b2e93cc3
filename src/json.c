/*
 * json.c - strict JSON parsing and typed member access (json-c).
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "errors.h"
#include "json.h"
#include "secret.h"

/*
 * Strict UTF-8 (RFC 3629 §4): no overlong forms, no surrogates, nothing
 * above U+10FFFF.  RFC 8259 §8.1: JSON text exchanged between systems is
 * UTF-8; json-c's own check lets overlong and surrogate forms through.
 */
static bool
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return false;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++) {
			if (s[i + j] < 0x80 || s[i + j] > 0xbf)
				return false;
		}
		i += k + 1;
	}
	return true;
}

/* json-c takes NaN and Infinity even in strict mode; JSON has neither. */
static bool
numbers_finite(struct json_object *o, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return false;
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			if (!numbers_finite(json_object_array_get_idx(o, i),
			    depth + 1))
				return false;
		}
		return true;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (!numbers_finite(val, depth + 1))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

/*
 * Zero every string in the tree at o (member names too): json-c keeps a
 * string's bytes in its object (json_object_get_string returns that
 * buffer, inline or on the heap) and frees them as they are.  Only
 * called on trees about to be released.
 */
static void
wipe_tree(struct json_object *o, int depth)
{
	if (o == NULL || depth > JSON_MAX_DEPTH + 1)
		return;
	switch (json_object_get_type(o)) {
	case json_type_string:
		secret_wipe((char *)json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			wipe_tree(json_object_array_get_idx(o, i), depth + 1);
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			wipe_tree(val, depth + 1);
			secret_wipe(key, strlen(key));
		}
		break;
	}
	default:
		break;
	}
}

void
json_put_wiped(struct json_object *obj)
{
	wipe_tree(obj, 0);
	json_object_put(obj);
}

/*
 * Release a tokener without leaving document text behind: its printbuf
 * (every string and member name passed through it) and, after a failed
 * parse, the containers and values it had built so far (they hang off
 * its stack, not off any returned object).  These are json-c fields
 * marked private; this file is the only one that knows about them.
 */
static void
tokener_free_wiped(struct json_tokener *tok)
{
	if (tok == NULL)
		return;
	for (int d = 0; d <= tok->depth && d < tok->max_depth; d++) {
		wipe_tree(tok->stack[d].current, 0);
		wipe_tree(tok->stack[d].obj, 0);
		if (tok->stack[d].obj_field_name != NULL)
			secret_wipe(tok->stack[d].obj_field_name,
			    strlen(tok->stack[d].obj_field_name));
	}
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		secret_wipe(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
}

/* json_parse_object and json_parse_array: one value of type want. */
static int
parse_top(const char *buf, size_t len, enum json_type want,
    struct json_object **out)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	int rc = OA2_ERR_BAD_RESPONSE;

	*out = NULL;
	if (buf == NULL || len == 0 || len > JSON_MAX_BYTES)
		goto out;
	if (memchr(buf, '\0', len) != NULL ||
	    !utf8_valid((const unsigned char *)buf, len))
		goto out;
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	/*
	 * Size the tokener's buffer for the whole document now: no string in
	 * it is longer, so the buffer is never grown, and realloc never frees
	 * a copy of a token we cannot wipe.  It is still empty here.
	 */
	if (printbuf_memset(tok->pb, 0, 0, (int)len + 1) != 0) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	printbuf_reset(tok->pb);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj == NULL ||
	    json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	/* Anything after the value other than white space is garbage. */
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
		if (strchr(" \t\r\n", buf[i]) == NULL)
			goto out;
	}
	if (!json_object_is_type(obj, want) || !numbers_finite(obj, 0))
		goto out;
	*out = obj;
	obj = NULL;
	rc = 0;
out:
	json_put_wiped(obj);
	tokener_free_wiped(tok);
	return rc;
}

int
json_parse_object(const char *buf, size_t len, struct json_object **out)
{
	return parse_top(buf, len, json_type_object, out);
}

int
json_parse_array(const char *buf, size_t len, struct json_object **out)
{
	return parse_top(buf, len, json_type_array, out);
}

/* Look key up; absent and null both count as absent. */
static struct json_object *
member(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

int
json_get_string(struct json_object *obj, const char *key, const char **out)
{
	struct json_object *v = member(obj, key);
	const char *s;

	*out = NULL;
	if (v == NULL)
		return OA2_ERR_NOTFOUND;
	if (!json_object_is_type(v, json_type_string))
		return OA2_ERR_BAD_RESPONSE;
	s = json_object_get_string(v);
	if (s == NULL || strlen(s) != (size_t)json_object_get_string_len(v))
		return OA2_ERR_BAD_RESPONSE;
	*out = s;
	return 0;
}

int
json_get_int64(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object *v = member(obj, key);

	*out = 0;
	if (v == NULL)
		return OA2_ERR_NOTFOUND;
	/* Integers only: "3600" (a string) or 1.5 (a double) is wrong. */
	if (!json_object_is_type(v, json_type_int))
		return OA2_ERR_BAD_RESPONSE;
	*out = json_object_get_int64(v);
	return 0;
}

int
json_get_object(struct json_object *obj, const char *key,
    struct json_object **out)
{
	struct json_object *v = member(obj, key);

	*out = NULL;
	if (v == NULL)
		return OA2_ERR_NOTFOUND;
	if (!json_object_is_type(v, json_type_object))
		return OA2_ERR_BAD_RESPONSE;
	*out = v;
	return 0;
}

int
json_dup_string(struct json_object *obj, const char *key, char **out)
{
	const char *s = NULL;
	int rc;

	*out = NULL;
	rc = json_get_string(obj, key, &s);
	if (rc != 0)
		return rc;
	*out = secret_strdup(s);
	return *out == NULL ? OA2_ERR_NOMEM : 0;
}
