/*
 * discovery.c - provider metadata (OpenID Connect Discovery 1.0).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "discovery.h"
#include "errors.h"
#include "json.h"

#define WELL_KNOWN "/.well-known/openid-configuration"

void
endpoints_clear(struct endpoints *e)
{
	if (e == NULL)
		return;
	free(e->token);
	free(e->jwks);
	free(e->userinfo);
	free(e->device);
	free(e->introspection);
	free(e->mtls_token);
	free(e->mtls_device);
	free(e->mtls_introspection);
	memset(e, 0, sizeof(*e));
}

char *
discovery_url(const char *issuer)
{
	size_t n = strlen(issuer);
	char *url;

	if (n > 0 && issuer[n - 1] == '/')
		n--;
	url = malloc(n + sizeof(WELL_KNOWN));
	if (url == NULL)
		return NULL;
	memcpy(url, issuer, n);
	memcpy(url + n, WELL_KNOWN, sizeof(WELL_KNOWN));
	return url;
}

static bool
is_https(const char *s)
{
	if (strncmp(s, "https://", 8) != 0 || s[8] == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	}
	return true;
}

/* Copy an optional https endpoint; required ones must be present. */
static int
take_url(struct json_object *obj, const char *key, bool required,
    char **out, const char **why)
{
	int rc = json_dup_string(obj, key, out);

	if (rc == OA2_ERR_NOTFOUND && !required)
		return 0;
	if (rc == OA2_ERR_NOMEM)
		return rc;
	if (rc != 0 || !is_https(*out)) {
		*why = rc == OA2_ERR_NOTFOUND ? "discovery_incomplete" :
		    "discovery_bad_endpoint";
		free(*out);
		*out = NULL;
		return OA2_ERR_BAD_RESPONSE;
	}
	return 0;
}

/* RFC 8705 §5: the optional mtls_endpoint_aliases object. */
static int
take_aliases(struct json_object *obj, struct endpoints *out,
    const char **why)
{
	struct json_object *al = NULL;
	int rc = json_get_object(obj, "mtls_endpoint_aliases", &al);

	if (rc == OA2_ERR_NOTFOUND)
		return 0;
	if (rc != 0) {
		*why = "discovery_bad_endpoint";
		return OA2_ERR_BAD_RESPONSE;
	}
	rc = take_url(al, "token_endpoint", false, &out->mtls_token, why);
	if (rc == 0)
		rc = take_url(al, "device_authorization_endpoint", false,
		    &out->mtls_device, why);
	if (rc == 0)
		rc = take_url(al, "introspection_endpoint", false,
		    &out->mtls_introspection, why);
	return rc;
}

int
discovery_parse(const char *issuer, const char *body, size_t len,
    struct endpoints *out, const char **why)
{
	struct json_object *obj = NULL;
	const char *iss = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	*why = "malformed_discovery";
	rc = json_parse_object(body, len, &obj);
	if (rc != 0)
		return rc;
	rc = json_get_string(obj, "issuer", &iss);
	if (rc != 0 || strcmp(iss, issuer) != 0) {
		*why = "discovery_issuer_mismatch";
		rc = OA2_ERR_BAD_RESPONSE;
		goto out;
	}
	rc = take_url(obj, "token_endpoint", true, &out->token, why);
	if (rc == 0)
		rc = take_url(obj, "jwks_uri", true, &out->jwks, why);
	if (rc == 0)
		rc = take_url(obj, "userinfo_endpoint", false, &out->userinfo,
		    why);
	if (rc == 0)
		rc = take_url(obj, "device_authorization_endpoint", false,
		    &out->device, why);
	if (rc == 0)
		rc = take_url(obj, "introspection_endpoint", false,
		    &out->introspection, why);
	if (rc == 0)
		rc = take_aliases(obj, out, why);
out:
	json_put_wiped(obj);
	if (rc != 0)
		endpoints_clear(out);
	return rc;
}
