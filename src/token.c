/*
 * token.c - token endpoint response parsing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "errors.h"
#include "json.h"
#include "secret.h"
#include "token.h"

/* Errors that say the IdP could not serve us at all: with these the
 * user's credentials were never judged. */
static const char *const unavail_errors[] = {
	"invalid_client", "unauthorized_client", "unsupported_grant_type",
	"invalid_scope", "server_error", "temporarily_unavailable", NULL
};

/* Errors that providers use when a second factor or an interactive
 * sign-in is required (Keycloak, Entra ID's AADSTS50076/50079 arrive as
 * interaction_required or invalid_grant with a description). */
static const char *const mfa_errors[] = {
	"interaction_required", "mfa_required", "login_required",
	"consent_required", NULL
};

static bool
in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++) {
		if (strcmp(*list, s) == 0)
			return true;
	}
	return false;
}

int
token_error_class(const char *code)
{
	if (code != NULL && in_list(unavail_errors, code))
		return OA2_ERR_UNAVAIL;
	return OA2_ERR_DENIED;
}

bool
token_error_is_mfa(const char *code)
{
	return code != NULL && in_list(mfa_errors, code);
}

void
token_response_clear(struct token_response *t)
{
	if (t == NULL)
		return;
	secret_free(&t->access_token);
	secret_free(&t->id_token);
	secret_free(&t->refresh_token);
	free(t->scope);
	t->scope = NULL;
	t->expires_in = -1;
}

/* Copy an error code: printable ASCII only (RFC 6749 §5.2 restricts it to
 * %x20-21 / %x23-5B / %x5D-7E), at most errlen-1 bytes. */
static int
copy_code(const char *s, char *out, size_t errlen)
{
	size_t n = strlen(s);

	/* token_parse() takes a NULL errcode; nothing is copied then. */
	if (out == NULL || n == 0 || n >= errlen)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return -1;
	}
	memcpy(out, s, n + 1);
	return 0;
}

static int
parse_error(struct json_object *obj, char *errcode, size_t errlen,
    const char **why)
{
	const char *code = NULL;

	if (json_get_string(obj, "error", &code) != 0 ||
	    copy_code(code, errcode, errlen) != 0) {
		*why = "malformed_error";
		return OA2_ERR_BAD_RESPONSE;
	}
	*why = errcode;
	return token_error_class(errcode);
}

static int
parse_success(struct json_object *obj, struct token_response *out,
    const char **why)
{
	const char *type = NULL;
	int rc;

	*why = "malformed_token_response";
	if (json_get_string(obj, "token_type", &type) != 0 ||
	    strcasecmp(type, "bearer") != 0)
		return OA2_ERR_BAD_RESPONSE;
	rc = json_dup_string(obj, "access_token", &out->access_token);
	if (rc == 0 && out->access_token[0] == '\0')
		rc = OA2_ERR_BAD_RESPONSE;
	if (rc != 0)
		return rc == OA2_ERR_NOMEM ? rc : OA2_ERR_BAD_RESPONSE;
	rc = json_get_int64(obj, "expires_in", &out->expires_in);
	if (rc == OA2_ERR_NOTFOUND)
		out->expires_in = -1;
	else if (rc != 0 || out->expires_in < 0)
		return OA2_ERR_BAD_RESPONSE;
	rc = json_dup_string(obj, "id_token", &out->id_token);
	if (rc != 0 && rc != OA2_ERR_NOTFOUND)
		return rc == OA2_ERR_NOMEM ? rc : OA2_ERR_BAD_RESPONSE;
	rc = json_dup_string(obj, "refresh_token", &out->refresh_token);
	if (rc != 0 && rc != OA2_ERR_NOTFOUND)
		return rc == OA2_ERR_NOMEM ? rc : OA2_ERR_BAD_RESPONSE;
	rc = json_dup_string(obj, "scope", &out->scope);
	if (rc != 0 && rc != OA2_ERR_NOTFOUND)
		return rc == OA2_ERR_NOMEM ? rc : OA2_ERR_BAD_RESPONSE;
	*why = "ok";
	return 0;
}

int
token_parse(long status, const char *body, size_t len,
    struct token_response *out, char *errcode, size_t errlen,
    const char **why)
{
	struct json_object *obj = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->expires_in = -1;
	if (errcode != NULL && errlen > 0)
		errcode[0] = '\0';
	if (status >= 500 || status == 429) {
		*why = status == 429 ? "http_429" : "http_5xx";
		return OA2_ERR_UNAVAIL;
	}
	if (status != 200 && status != 400 && status != 401) {
		*why = "http_status";
		return OA2_ERR_UNAVAIL;
	}
	rc = json_parse_object(body, len, &obj);
	if (rc != 0) {
		*why = "malformed_json";
		return rc;
	}
	if (status == 200)
		rc = parse_success(obj, out, why);
	else
		rc = parse_error(obj, errcode, errlen, why);
	json_put_wiped(obj);
	if (rc != 0 && status == 200)
		token_response_clear(out);
	return rc;
}
