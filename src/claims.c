/*
 * claims.c - a verified set of identity claims behind an opaque handle.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "claims.h"
#include "errors.h"
#include "json.h"

/* Longest dotted claim path we walk. */
#define CLAIMS_MAX_PATH 256

struct claims {
	struct json_object *root;
};

int
claims_parse(const char *json, size_t len, struct claims **out)
{
	struct json_object *root = NULL;
	struct claims *c = NULL;
	int rc;

	*out = NULL;
	rc = json_parse_object(json, len, &root);
	if (rc != 0)
		goto out;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	c->root = root;
	root = NULL;
	*out = c;
	rc = 0;
out:
	json_put_wiped(root);
	return rc;
}

int
claims_to_json(const struct claims *c, char **out)
{
	const char *s;

	*out = NULL;
	s = json_object_to_json_string_ext(c->root, JSON_C_TO_STRING_PLAIN);
	if (s == NULL)
		return OA2_ERR_NOMEM;
	*out = strdup(s);
	return *out == NULL ? OA2_ERR_NOMEM : 0;
}

void
claims_free(struct claims **c)
{
	if (c == NULL || *c == NULL)
		return;
	json_put_wiped((*c)->root);
	free(*c);
	*c = NULL;
}

/*
 * Resolve name to the object that holds its last segment: for "a.b.c" walk
 * the objects a and a.b and return the object a.b in *parent and "c" in
 * leaf (a buffer of CLAIMS_MAX_PATH bytes).  Empty segments ("a..b", ".a",
 * "a.") are refused.  Returns 0, OA2_ERR_NOTFOUND (a step is absent or
 * null) or OA2_ERR_BAD_RESPONSE (a step is not an object, or a bad name).
 */
static int
claims_resolve(const struct claims *c, const char *name,
    struct json_object **parent, char *leaf)
{
	struct json_object *obj, *next = NULL;
	char buf[CLAIMS_MAX_PATH];
	char *seg, *dot;
	size_t len;
	int rc;

	*parent = NULL;
	leaf[0] = '\0';
	if (c == NULL || c->root == NULL || name == NULL)
		return OA2_ERR_BAD_RESPONSE;
	len = strlen(name);
	if (len == 0 || len >= sizeof(buf))
		return OA2_ERR_BAD_RESPONSE;
	memcpy(buf, name, len + 1);
	obj = c->root;
	seg = buf;
	for (;;) {
		dot = strchr(seg, '.');
		if (dot == NULL)
			break;
		*dot = '\0';
		if (*seg == '\0')
			return OA2_ERR_BAD_RESPONSE;
		rc = json_get_object(obj, seg, &next);
		if (rc != 0)
			return rc;
		obj = next;
		seg = dot + 1;
	}
	if (*seg == '\0')
		return OA2_ERR_BAD_RESPONSE;
	memcpy(leaf, seg, strlen(seg) + 1);
	*parent = obj;
	return 0;
}

int
claims_get_string(const struct claims *c, const char *name,
    const char **out)
{
	struct json_object *parent = NULL;
	char leaf[CLAIMS_MAX_PATH];
	int rc;

	*out = NULL;
	rc = claims_resolve(c, name, &parent, leaf);
	if (rc != 0)
		return rc;
	return json_get_string(parent, leaf, out);
}

int
claims_get_int64(const struct claims *c, const char *name, int64_t *out)
{
	struct json_object *parent = NULL;
	char leaf[CLAIMS_MAX_PATH];
	int rc;

	*out = 0;
	rc = claims_resolve(c, name, &parent, leaf);
	if (rc != 0)
		return rc;
	return json_get_int64(parent, leaf, out);
}

int
claims_get_bool(const struct claims *c, const char *name, bool *out)
{
	struct json_object *parent = NULL, *v = NULL;
	char leaf[CLAIMS_MAX_PATH];
	int rc;

	*out = false;
	rc = claims_resolve(c, name, &parent, leaf);
	if (rc != 0)
		return rc;
	if (!json_object_object_get_ex(parent, leaf, &v) || v == NULL)
		return OA2_ERR_NOTFOUND;
	if (!json_object_is_type(v, json_type_boolean))
		return OA2_ERR_BAD_RESPONSE;
	*out = json_object_get_boolean(v) != 0;
	return 0;
}

bool
claims_has(const struct claims *c, const char *name)
{
	struct json_object *parent = NULL;
	char leaf[CLAIMS_MAX_PATH];

	if (c == NULL || claims_resolve(c, name, &parent, leaf) != 0)
		return false;
	return json_object_object_get_ex(parent, leaf, NULL) != 0;
}

/*
 * A string claim becomes a one-element list, an array of strings a list of
 * all its elements; a string with an embedded NUL, or any other element or
 * claim type, is OA2_ERR_BAD_RESPONSE.  *out (a NULL-terminated array of
 * strings borrowed from c) is freed by the caller with free().
 */
int
claims_get_strings(const struct claims *c, const char *name,
    const char ***out, size_t *n)
{
	struct json_object *parent = NULL, *v = NULL, *e;
	char leaf[CLAIMS_MAX_PATH];
	const char **arr = NULL;
	size_t count, i;
	int rc;

	*out = NULL;
	*n = 0;
	rc = claims_resolve(c, name, &parent, leaf);
	if (rc != 0)
		goto out;
	if (!json_object_object_get_ex(parent, leaf, &v) || v == NULL) {
		rc = OA2_ERR_NOTFOUND;
		goto out;
	}
	rc = OA2_ERR_BAD_RESPONSE;
	if (json_object_is_type(v, json_type_string)) {
		arr = calloc(2, sizeof(*arr));
		if (arr == NULL) {
			rc = OA2_ERR_NOMEM;
			goto out;
		}
		rc = json_get_string(parent, leaf, &arr[0]);
		if (rc != 0)
			goto out;
		count = 1;
	} else if (json_object_is_type(v, json_type_array)) {
		count = json_object_array_length(v);
		arr = calloc(count + 1, sizeof(*arr));
		if (arr == NULL) {
			rc = OA2_ERR_NOMEM;
			goto out;
		}
		for (i = 0; i < count; i++) {
			e = json_object_array_get_idx(v, i);
			if (e == NULL || !json_object_is_type(e, json_type_string))
				goto out;
			arr[i] = json_object_get_string(e);
			if (arr[i] == NULL || strlen(arr[i]) !=
			    (size_t)json_object_get_string_len(e))
				goto out;
		}
	} else {
		goto out;
	}
	*out = arr;
	*n = count;
	arr = NULL;
	rc = 0;
out:
	free(arr);
	return rc;
}
