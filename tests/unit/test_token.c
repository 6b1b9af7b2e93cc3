/*
 * test_token - token endpoint responses: success, errors, wrong types.
 */
#include "config.h"

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
	rc = parse(401, "{\"error\":\"invalid_client\"}", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "invalid_client: IdP cannot be asked");
	rc = parse(400, "{\"error\":\"unauthorized_client\"}", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "unauthorized_client: unavailable");
	rc = parse(400, "{\"error\":\"interaction_required\"}", &t, code,
	    &why);
	is_int(rc, OA2_ERR_DENIED, "interaction_required: denied");
	ok(token_error_is_mfa(code), "interaction_required is MFA");
	ok(!token_error_is_mfa("invalid_grant"), "invalid_grant is not MFA");
	rc = parse(400, "{\"error\":\"something_new\"}", &t, code, &why);
	is_int(rc, OA2_ERR_DENIED, "unknown error code fails closed");
	rc = parse(400, "{\"error\":42}", &t, code, &why);
	is_int(rc, OA2_ERR_BAD_RESPONSE, "error as a number: bad response");
	rc = parse(400, "{\"error\":\"bad\\nline\"}", &t, code, &why);
	is_int(rc, OA2_ERR_BAD_RESPONSE, "control character in error code");
	rc = parse(400, "not json", &t, code, &why);
	is_int(rc, OA2_ERR_BAD_RESPONSE, "400 without JSON: bad response");

	/* Statuses. */
	rc = parse(500, "{}", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "500 unavailable");
	rc = parse(503, "", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "503 unavailable");
	rc = parse(429, "{\"error\":\"invalid_grant\"}", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "429 unavailable, body ignored");
	rc = parse(302, "", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "3xx unavailable");
	rc = parse(404, "{\"error\":\"invalid_grant\"}", &t, code, &why);
	is_int(rc, OA2_ERR_UNAVAIL, "404 unavailable");
	return tap_done();
}
