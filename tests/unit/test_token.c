/*
 * test_token - token endpoint responses: success, errors, wrong types.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "token.h"
#include "tap.h"

static int
parse(long status, const char *body, struct token_response *t,
    char *code, const char **why)
{
	return token_parse(status, body, strlen(body), t, code, 64, why);
}

int
main(void)
{
	struct token_response t;
	char code[64];
	const char *why = NULL;
	int rc;

	rc = parse(200, "{\"access_token\":\"AT\",\"token_type\":\"Bearer\","
	    "\"expires_in\":300,\"id_token\":\"a.b.c\",\"scope\":\"openid x\","
	    "\"refresh_token\":\"RT\"}", &t, code, &why);
	is_int(rc, 0, "full success response");
	is_str(t.access_token, "AT", "access_token");
	is_str(t.id_token, "a.b.c", "id_token");
	is_str(t.refresh_token, "RT", "refresh_token");
	is_str(t.scope, "openid x", "scope");
	is_int(t.expires_in, 300, "expires_in");
	token_response_clear(&t);
	ok(t.access_token == NULL && t.id_token == NULL, "clear frees");

	rc = parse(200, "{\"access_token\":\"AT\",\"token_type\":\"bearer\"}",
	    &t, code, &why);
	is_int(rc, 0, "minimal response, token_type any case");
	ok(t.id_token == NULL && t.scope == NULL, "optional members absent");
	is_int(t.expires_in, -1, "expires_in absent is -1");
	token_response_clear(&t);

	struct {
		const char *body;
		const char *what;
	} bad[] = {
		{ "{\"access_token\":\"AT\",\"token_type\":\"Bearer\","
		  "\"expires_in\":\"300\"}", "expires_in as a string" },
		{ "{\"access_token\":\"AT\",\"token_type\":\"Bearer\","
		  "\"expires_in\":1.5}", "expires_in as a float" },
		{ "{\"access_token\":\"AT\",\"token_type\":\"Bearer\","
		  "\"expires_in\":-5}", "negative expires_in" },
		{ "{\"access_token\":\"AT\",\"token_type\":\"Bearer\","
		  "\"id_token\":42}", "id_token as a number" },
		{ "{\"access_token\":\"AT\",\"token_type\":\"Bearer\","
		  "\"scope\":[\"a\"]}", "scope as an array" },
		{ "{\"access_token\":7,\"token_type\":\"Bearer\"}",
		  "access_token as a number" },
		{ "{\"access_token\":\"\",\"token_type\":\"Bearer\"}",
		  "empty access_token" },
		{ "{\"token_type\":\"Bearer\"}", "no access_token" },
		{ "{\"access_token\":\"AT\"}", "no token_type" },
		{ "{\"access_token\":\"AT\",\"token_type\":\"MAC\"}",
		  "token_type MAC" },
		{ "[]", "an array" },
		{ "null", "null" },
		{ "{\"access_token\":\"AT\",\"token_type\":\"Bearer\"", "truncated" },
		{ "{\"access_token\":\"AT\",\"token_type\":\"Bearer\"}x",
		  "trailing garbage" },
		{ "<html>hello</html>", "an HTML page" },
		{ "", "an empty body" },
		{ "{\"access_token\":\"A\xff\",\"token_type\":\"Bearer\"}",
		  "invalid UTF-8" },
		{ "{\"access_token\":\"A\\u0000B\",\"token_type\":\"Bearer\"}",
		  "escaped NUL in a string" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = parse(200, bad[i].body, &t, code, &why);
		is_int(rc, OA2_ERR_BAD_RESPONSE, "bad response: %s",
		    bad[i].what);
		ok(t.access_token == NULL, "nothing kept: %s", bad[i].what);
		token_response_clear(&t);
	}
	{
		char deep[200];
		int n = 0;

		for (int i = 0; i < 40; i++)
			deep[n++] = '[';
		for (int i = 0; i < 40; i++)
			deep[n++] = ']';
		deep[n] = '\0';
		char body[300];

		snprintf(body, sizeof(body), "{\"access_token\":\"AT\","
		    "\"token_type\":\"Bearer\",\"x\":%s}", deep);
		rc = parse(200, body, &t, code, &why);
		is_int(rc, OA2_ERR_BAD_RESPONSE, "deep nesting refused");
		token_response_clear(&t);
	}

	/* Errors (RFC 6749 §5.2). */
	rc = parse(400, "{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"Invalid user credentials\"}", &t, code, &why);
	is_int(rc, OA2_ERR_DENIED, "invalid_grant is a denial");
	is_str(code, "invalid_grant", "error code copied");
	is_str(why, "invalid_grant", "a wrong password: reason invalid_grant");
	/* Keycloak's descriptions of refusals an admin must tell apart. */
	rc = parse(400, "{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"Account disabled\"}", &t, code, &why);
	is_int(rc, OA2_ERR_DENIED, "Keycloak, disabled user: a denial");
	is_str(code, "invalid_grant", "  the error code stays invalid_grant");
	is_str(why, "account_disabled", "  reason account_disabled");
	rc = parse(400, "{\"error_description\":\"Account is not fully set up\","
	    "\"error\":\"invalid_grant\"}", &t, code, &why);
	is_int(rc, OA2_ERR_DENIED, "Keycloak, required action: a denial");
	is_str(code, "invalid_grant", "  the error code stays invalid_grant");
	is_str(why, "required_action", "  reason required_action");
	ok(!token_error_is_mfa(code), "  not taken for MFA by the code");
	rc = parse(401, "{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"Account disabled\"}", &t, code, &why);
	is_str(why, "account_disabled", "  also with status 401");
	rc = parse(503, "{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"Account disabled\"}", &t, code, &why);
	is_int(rc, OA2_ERR_DENIED, "  and with 503 (a named refusal)");
	is_str(why, "account_disabled", "  reason account_disabled");
	rc = parse(400, "{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"account disabled\"}", &t, code, &why);
	is_str(why, "invalid_grant", "another text (case differs): invalid_grant");
	rc = parse(400, "{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"Account disabled \"}", &t, code, &why);
	is_str(why, "invalid_grant", "a text that only starts alike: invalid_grant");
	rc = parse(400, "{\"error\":\"invalid_grant\",\"error_description\":"
	    "42}", &t, code, &why);
	is_int(rc, OA2_ERR_DENIED, "a description that is no string: still a denial");
	is_str(why, "invalid_grant", "  reason invalid_grant");
	rc = parse(400, "{\"error\":\"access_denied\",\"error_description\":"
	    "\"Account disabled\"}", &t, code, &why);
	is_str(why, "access_denied", "the text refines invalid_grant only");
	rc = parse(401, "{\"error\":\"invalid_client\"}", &t, code, &why);
	is_int(rc, OA2_ERR_CLIENT, "invalid_client: a refusal of the client");
	rc = parse(400, "{\"error\":\"unauthorized_client\"}", &t, code, &why);
	is_int(rc, OA2_ERR_CLIENT, "unauthorized_client: client refused");
	rc = parse(400, "{\"error\":\"interaction_required\"}", &t, code,
	    &why);
	is_int(rc, OA2_ERR_DENIED, "interaction_required: denied");
	ok(token_error_is_mfa(code), "interaction_required is MFA");
	ok(!token_error_is_mfa("invalid_grant"), "invalid_grant is not MFA");
	rc = parse(400, "{\"error\":\"something_new\"}", &t, code, &why);
	is_int(rc, OA2_ERR_DENIED, "unknown error code fails closed");
	rc = parse(400, "{\"error\":42}", &t, code, &why);
	is_int(rc, OA2_ERR_BAD_RESPONSE, "error as a number: bad response");
	is_str(why, "malformed_error", "reason malformed_error");
	rc = parse(400, "{\"error\":\"bad\\nline\"}", &t, code, &why);
	is_int(rc, OA2_ERR_BAD_RESPONSE, "control character in error code");
	rc = parse(400, "not json", &t, code, &why);
	is_int(rc, OA2_ERR_BAD_RESPONSE, "400 without JSON: bad response");
	is_str(why, "malformed_json", "reason malformed_json");

	/*
	 * Every status x error code (security.md, "Return codes"): the code
	 * decides whatever the status; the status only when the code does
	 * not (429: throttled, 5xx: could not ask).
	 */
	{
		static const long statuses[] = { 400, 401, 403, 404, 409, 429,
		    500, 502, 503 };
		static const struct {
			const char *code;
			int cls;	/* the class at a 4xx other than 429 */
		} codes[] = {
			{ "invalid_grant", OA2_ERR_DENIED },
			{ "access_denied", OA2_ERR_DENIED },
			{ "expired_token", OA2_ERR_DENIED },
			{ "interaction_required", OA2_ERR_DENIED },
			{ "mfa_required", OA2_ERR_DENIED },
			{ "login_required", OA2_ERR_DENIED },
			{ "consent_required", OA2_ERR_DENIED },
			{ "account_selection_required", OA2_ERR_DENIED },
			{ "invalid_request", OA2_ERR_DENIED },
			{ "authorization_pending", OA2_ERR_DENIED },
			{ "slow_down", OA2_ERR_DENIED },
			{ "something_new", OA2_ERR_DENIED },
			{ "invalid_client", OA2_ERR_CLIENT },
			{ "unauthorized_client", OA2_ERR_CLIENT },
			{ "unsupported_grant_type", OA2_ERR_CLIENT },
			{ "invalid_scope", OA2_ERR_CLIENT },
			{ "server_error", OA2_ERR_UNAVAIL },
			{ "temporarily_unavailable", OA2_ERR_UNAVAIL },
		};
		char body[128];

		for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]);
		    i++) {
			for (size_t j = 0; j < sizeof(codes) / sizeof(codes[0]);
			    j++) {
				long st = statuses[i];
				int want = codes[j].cls;
				bool user = want == OA2_ERR_DENIED &&
				    strcmp(codes[j].code, "invalid_request") &&
				    strcmp(codes[j].code,
				    "authorization_pending") &&
				    strcmp(codes[j].code, "slow_down") &&
				    strcmp(codes[j].code, "something_new");
				const char *want_why = codes[j].code;
				const char *want_code = codes[j].code;

				if (st == 429 && !user) {
					want = OA2_ERR_CLIENT;
					want_why = "http_429";
				} else if (st >= 500 && !user &&
				    want != OA2_ERR_CLIENT) {
					want = OA2_ERR_UNAVAIL;
					want_why = "http_5xx";
					want_code = "";
				}
				snprintf(body, sizeof(body), "{\"error\":\"%s\","
				    "\"error_description\":\"x\"}",
				    codes[j].code);
				why = NULL;
				rc = parse(st, body, &t, code, &why);
				is_int(rc, want, "%ld %s", st, codes[j].code);
				is_str(why, want_why, "%ld %s: reason", st,
				    codes[j].code);
				is_str(code, want_code, "%ld %s: code kept "
				    "(emptied when the 5xx decides)", st,
				    codes[j].code);
				ok(t.access_token == NULL, "%ld %s: no token",
				    st, codes[j].code);
			}
		}
	}

	/* Statuses without an OAuth error. */
	rc = parse(500, "{}", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "500 unavailable");
	is_str(why, "http_5xx", "500: reason http_5xx");
	rc = parse(503, "", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "503 unavailable");
	rc = parse(502, "<html>bad gateway</html>", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "502 with HTML unavailable");
	rc = parse(429, "", &t, code, &why);
	is_int(rc, OA2_ERR_CLIENT, "429 throttled: the IdP answered");
	is_str(why, "http_429", "429: reason http_429");
	rc = parse(429, "{\"error\":\"too_many_attempts\"}", &t, code, &why);
	is_int(rc, OA2_ERR_CLIENT, "429 with an unknown code: throttled");
	is_str(why, "http_429", "429 unknown code: reason http_429");
	rc = parse(401, "", &t, code, &why);
	is_int(rc, OA2_ERR_CLIENT, "401 without a body: client refused");
	is_str(why, "http_401", "401: reason http_401");
	rc = parse(401, "{\"error\":7}", &t, code, &why);
	is_int(rc, OA2_ERR_CLIENT, "401 without a usable code: client refused");
	rc = parse(403, "<html>forbidden</html>", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "403 HTML (a proxy): could not ask");
	is_str(why, "http_status", "403 HTML: reason http_status");
	rc = parse(404, "{\"message\":\"no route\"}", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "404 without an OAuth error: could not ask");
	rc = parse(302, "{\"error\":\"invalid_grant\"}", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "3xx unavailable, body not read");
	is_str(why, "http_status", "3xx: reason http_status");
	rc = parse(201, "{\"error\":\"invalid_grant\"}", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "201 unavailable");
	rc = parse(600, "{\"error\":\"invalid_grant\"}", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "status 600 unavailable");

	/* The code alone. */
	is_int(token_error_class(NULL), OA2_ERR_DENIED, "no code: denied");
	is_int(token_error_class("_required"), OA2_ERR_DENIED,
	    "_required: denied");
	is_int(token_error_class("invalid_scope"), OA2_ERR_CLIENT,
	    "invalid_scope: client");
	is_int(token_error_class("server_error"), OA2_ERR_UNAVAIL,
	    "server_error: could not ask");
	{
		char small[8];

		rc = token_parse(403, "{\"error\":\"invalid_grant\"}", 25,
		    &t, small, sizeof(small), &why);
		is_int(rc, OA2_ERR_UNAVAIL,
		    "403 with a code longer than the buffer: not a code");
		rc = token_parse(400, "{\"error\":\"invalid_grant\"}", 25,
		    &t, NULL, 0, &why);
		is_int(rc, OA2_ERR_BAD_RESPONSE, "NULL errcode: no code read");
	}
	/* The HTTP-200 error convention (errors_with_200, GitHub). */
	{
		int64_t iv = 0;
		const char *b;

		b = "{\"error\":\"authorization_pending\"}";
		rc = token_classify_200(b, strlen(b), code, 64, &iv, &why);
		is_int(rc, OA2_ERR_DENIED, "200 authorization_pending: an error");
		is_str(code, "authorization_pending", "  its code");
		is_int(iv, -1, "  no interval");
		b = "{\"error\":\"slow_down\",\"interval\":13}";
		rc = token_classify_200(b, strlen(b), code, 64, &iv, &why);
		is_str(code, "slow_down", "200 slow_down: its code");
		is_int(iv, 13, "  the new interval");
		b = "{\"error\":\"slow_down\",\"interval\":\"13\"}";
		rc = token_classify_200(b, strlen(b), code, 64, &iv, &why);
		is_int(iv, -1, "  an interval that is no integer is none");
		b = "{\"error\":\"authorization_pending\",\"interval\":9}";
		rc = token_classify_200(b, strlen(b), code, 64, &iv, &why);
		is_int(iv, -1, "  an interval with another code is none");
		b = "{\"error\":\"access_denied\"}";
		rc = token_classify_200(b, strlen(b), code, 64, &iv, &why);
		is_int(rc, OA2_ERR_DENIED, "200 access_denied: denied");
		is_str(why, "access_denied", "  reason access_denied");
		b = "{\"error\":\"incorrect_client_credentials\"}";
		rc = token_classify_200(b, strlen(b), code, 64, &iv, &why);
		is_int(rc, OA2_ERR_DENIED, "200 unknown code: fails closed");
		b = "{\"error\":42}";
		rc = token_classify_200(b, strlen(b), code, 64, &iv, &why);
		is_int(rc, OA2_ERR_BAD_RESPONSE, "200 error that is no string: malformed");
		b = "{\"access_token\":\"AT\",\"token_type\":\"bearer\"}";
		rc = token_classify_200(b, strlen(b), code, 64, &iv, &why);
		is_int(rc, 1, "200 without error: parse as a success");
		b = "access_token=AT&token_type=bearer";
		rc = token_classify_200(b, strlen(b), code, 64, &iv, &why);
		is_int(rc, 1, "200 form-encoded: left to token_parse");
		rc = parse(200, b, &t, code, &why);
		is_int(rc, OA2_ERR_BAD_RESPONSE, "  which refuses it");
		b = "{\"error\":\"authorization_pending\"}";
		rc = parse(200, b, &t, code, &why);
		is_int(rc, OA2_ERR_BAD_RESPONSE,
		    "without the convention, 200 + error is malformed");
		is_str(why, "malformed_token_response", "  reason malformed_token_response");
	}
	return tap_done();
}
