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

/*
 * The one classification of IdP error codes (docs/security.md,
 * "Return codes").  Refusals of this client: the IdP answered, but about
 * our registration or request, not about the user; an admin must act, and
 * the offline verifier is never used.  invalid_scope belongs here: the
 * scope we ask for is configuration.
 */
static const char *const client_errors[] = {
	"invalid_client", "unauthorized_client", "unsupported_grant_type",
	"invalid_scope", NULL
};

/* The IdP says it could not serve the request (RFC 6749 §4.1.2.1, the
 * equivalents of 500 and 503): the user's credentials were never judged,
 * so this is "could not ask". */
static const char *const noask_errors[] = {
	"server_error", "temporarily_unavailable", NULL
};

/* Errors that providers use when a second factor or an interactive
 * sign-in is required (Keycloak, Entra ID's AADSTS50076/50079 arrive as
 * interaction_required or invalid_grant with a description; Auth0 sends
 * 403 mfa_required). */
static const char *const mfa_errors[] = {
	"interaction_required", "mfa_required", "login_required",
	"consent_required", NULL
};

/* Codes that are known refusals of the user or grant: they win over the
 * status even when it is 429 or 5xx. */
static const char *const user_errors[] = {
	"invalid_grant", "access_denied", "expired_token", NULL
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

/* A known refusal of the user: the list above, or any "*_required". */
static bool
is_user_error(const char *code)
{
	size_t n = strlen(code), k = strlen("_required");

	return in_list(user_errors, code) ||
	    (n > k && strcmp(code + n - k, "_required") == 0);
}

int
token_error_class(const char *code)
{
	if (code == NULL)
		return OA2_ERR_DENIED;
	if (in_list(client_errors, code))
		return OA2_ERR_CLIENT;
	if (in_list(noask_errors, code))
		return OA2_ERR_UNAVAIL;
	/* invalid_grant, access_denied, expired_token, *_required,
	 * invalid_request and any unknown code: fail closed. */
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

/*
 * invalid_grant covers a wrong password and refusals an admin must tell
 * apart.  Providers that say which in error_description, with a fixed
 * text, get a reason code of their own in the audit line; the error code
 * (errcode) stays invalid_grant, so nothing else changes.  Matched byte
 * for byte, never logged (the text may quote what we sent).  Verified
 * against Keycloak 26.4.7 (tests/e2e/keycloak.sh).
 */
static const struct {
	const char *description;
	const char *reason;
} grant_details[] = {
	/* Keycloak: the user is disabled at the provider. */
	{ "Account disabled", "account_disabled" },
	/* Keycloak: a required action is pending (update the password,
	 * configure OTP, verify the e-mail...); only a browser can do it. */
	{ "Account is not fully set up", "required_action" },
	{ NULL, NULL }
};

static const char *
grant_detail(const char *code, const char *description)
{
	if (strcmp(code, "invalid_grant") != 0 || description == NULL)
		return NULL;
	for (size_t i = 0; grant_details[i].description != NULL; i++) {
		if (strcmp(grant_details[i].description, description) == 0)
			return grant_details[i].reason;
	}
	return NULL;
}

/* Read the error code of an RFC 6749 §5.2 body into errcode, and a known
 * refinement of it into *detail (static, or NULL).  Returns 0,
 * OA2_ERR_NOTFOUND (a JSON object without a usable string "error"),
 * OA2_ERR_BAD_RESPONSE (not a JSON object) or OA2_ERR_NOMEM. */
static int
read_error(const char *body, size_t len, char *errcode, size_t errlen,
    const char **detail)
{
	struct json_object *obj = NULL;
	const char *code = NULL, *desc = NULL;
	int rc;

	*detail = NULL;
	rc = json_parse_object(body, len, &obj);
	if (rc != 0)
		return rc == OA2_ERR_NOMEM ? rc : OA2_ERR_BAD_RESPONSE;
	rc = OA2_ERR_NOTFOUND;
	if (json_get_string(obj, "error", &code) == 0 &&
	    copy_code(code, errcode, errlen) == 0) {
		rc = 0;
		if (json_get_string(obj, "error_description", &desc) != 0)
			desc = NULL;
		*detail = grant_detail(errcode, desc);
	}
	/* error_description may quote what we sent. */
	json_put_wiped(obj);
	return rc;
}

int
token_classify(long status, const char *body, size_t len, char *errcode,
    size_t errlen, const char **why)
{
	const char *detail = NULL;
	int have;

	if (errcode != NULL && errlen > 0)
		errcode[0] = '\0';
	if (status < 400 || status > 599) {
		*why = "http_status";
		return OA2_ERR_UNAVAIL;
	}
	have = body != NULL ?
	    read_error(body, len, errcode, errlen, &detail) :
	    OA2_ERR_BAD_RESPONSE;
	if (have == OA2_ERR_NOMEM) {
		*why = "malformed_json";
		return have;
	}
	if (status >= 500) {
		/* The server failed, unless it names a refusal. */
		if (have == 0 && (is_user_error(errcode) ||
		    token_error_class(errcode) == OA2_ERR_CLIENT)) {
			*why = detail != NULL ? detail : errcode;
			return token_error_class(errcode);
		}
		/* Nothing the IdP said counts: no code for the callers
		 * (device polling, the outage window) either. */
		if (errcode != NULL && errlen > 0)
			errcode[0] = '\0';
		*why = "http_5xx";
		return OA2_ERR_UNAVAIL;
	}
	if (status == 429) {
		/* Throttled: the IdP answered, but not about the user. */
		if (have == 0 && is_user_error(errcode)) {
			*why = detail != NULL ? detail : errcode;
			return OA2_ERR_DENIED;
		}
		*why = "http_429";
		return OA2_ERR_CLIENT;
	}
	if (have == 0) {
		*why = detail != NULL ? detail : errcode;
		return token_error_class(errcode);
	}
	if (status == 401) {
		/* §5.2: 401 is the answer to failed client authentication. */
		*why = "http_401";
		return OA2_ERR_CLIENT;
	}
	if (status == 400) {
		*why = have == OA2_ERR_NOTFOUND ? "malformed_error" :
		    "malformed_json";
		return OA2_ERR_BAD_RESPONSE;
	}
	/* Another 4xx without an OAuth error (an HTML page of a proxy):
	 * nobody judged the user. */
	*why = "http_status";
	return OA2_ERR_UNAVAIL;
}

int
token_classify_200(const char *body, size_t len, char *errcode,
    size_t errlen, int64_t *interval, const char **why)
{
	struct json_object *obj = NULL;
	int64_t iv = -1;
	bool is_error;
	int rc;

	*interval = -1;
	if (errcode != NULL && errlen > 0)
		errcode[0] = '\0';
	if (body == NULL || json_parse_object(body, len, &obj) != 0)
		return 1;       /* token_parse() says what is wrong */
	is_error = json_object_object_get_ex(obj, "error", NULL);
	if (is_error && json_get_int64(obj, "interval", &iv) == 0 && iv > 0)
		*interval = iv;
	json_put_wiped(obj);
	if (!is_error)
		return 1;
	rc = token_classify(400, body, len, errcode, errlen, why);
	if (errcode == NULL || strcmp(errcode, "slow_down") != 0)
		*interval = -1;
	return rc;
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
	if (status != 200)
		return token_classify(status, body, len, errcode, errlen, why);
	rc = json_parse_object(body, len, &obj);
	if (rc != 0) {
		*why = "malformed_json";
		return rc;
	}
	rc = parse_success(obj, out, why);
	json_put_wiped(obj);
	if (rc != 0)
		token_response_clear(out);
	return rc;
}
