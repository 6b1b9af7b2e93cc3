/*
 * test_membership - a plain OAuth 2 provider's membership lists (GitHub's
 * /user/orgs, /user/teams): the Link header's rel="next" target
 * (http_link_next), the origin check a next page must pass
 * (membership_same_origin) and one page of each list
 * (membership_parse_page).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "errors.h"
#include "groups.h"
#include "http.h"
#include "login.h"
#include "membership.h"
#include "tap.h"

/* The next URL of a Link value, "-" when none. */
static const char *
next_of(const char *line, size_t outlen)
{
	static char out[HTTP_MAX_LINK];

	snprintf(out, sizeof(out), "-");
	http_link_next(line, out, outlen);
	return out;
}

/* One page as src: the rc, and the members joined by spaces in *joined. */
static int
page(enum cfg_source src, const char *body, char *joined, size_t len)
{
	struct login lg;
	int rc;

	memset(&lg, 0, sizeof(lg));
	joined[0] = '\0';
	rc = membership_parse_page(&lg, src, body, strlen(body));
	for (size_t i = 0; i < lg.nmembers; i++) {
		if (i > 0)
			strncat(joined, " ", len - strlen(joined) - 1);
		strncat(joined, lg.members[i].value, len - strlen(joined) - 1);
		free(lg.members[i].value);
	}
	free(lg.members);
	return rc;
}

int
main(void)
{
	const char *e = "https://api.github.com/user/orgs";
	char got[4096], *big;
	size_t n;

	/* Link: rel="next" (RFC 8288), as GitHub sends it. */
	is_str(next_of(" <https://api.github.com/user/orgs?page=2>; "
	    "rel=\"next\", <https://api.github.com/user/orgs?page=5>; "
	    "rel=\"last\"\r\n", HTTP_MAX_LINK),
	    "https://api.github.com/user/orgs?page=2", "GitHub's Link: next");
	is_str(next_of(" <https://a.example/1>; rel=\"prev\", "
	    "<https://a.example/3>; rel=\"next\"", HTTP_MAX_LINK),
	    "https://a.example/3", "next as the second link");
	is_str(next_of(" <https://a.example/2>; rel=next", HTTP_MAX_LINK),
	    "https://a.example/2", "rel=next unquoted at the end of the line");
	is_str(next_of(" <https://a.example/2>; rel=next\r\n", HTTP_MAX_LINK),
	    "https://a.example/2", "rel=next unquoted before CRLF");
	is_str(next_of(" <https://a.example/2>; rel=next; title=x",
	    HTTP_MAX_LINK), "https://a.example/2", "rel=next; more");
	is_str(next_of(" <https://a.example/2>; rel=nextpage", HTTP_MAX_LINK),
	    "-", "rel=nextpage is not next");
	is_str(next_of(" <https://a.example/1>; rel=\"prev\", "
	    "<https://a.example/9>; rel=\"last\"", HTTP_MAX_LINK), "-",
	    "prev and last only: none");
	is_str(next_of(" <https://a.example/2; rel=\"next\"", HTTP_MAX_LINK),
	    "-", "an unclosed <: none");
	is_str(next_of(" <>; rel=\"next\"", HTTP_MAX_LINK), "-",
	    "an empty target: none");
	/* https://a.example/2: 19 bytes and the NUL */
	is_str(next_of(" <https://a.example/2>; rel=\"next\"", 19), "-",
	    "a target that does not fit: none (never cut)");
	is_str(next_of(" <https://a.example/2>; rel=\"next\"", 20),
	    "https://a.example/2", "one that just fits");

	/* The origin a next page must stay on. */
	ok(membership_same_origin(e, "https://api.github.com/user/orgs?page=2"),
	    "the same origin");
	ok(membership_same_origin(e, "https://api.github.com"),
	    "the origin alone");
	ok(!membership_same_origin(e, "https://api.github.com.evil.example/x"),
	    "a longer host with the same start: refused");
	ok(!membership_same_origin(e, "https://api.github.com@evil.example/x"),
	    "userinfo before another host: refused");
	ok(!membership_same_origin(e, "https://api.github.com:444/x"),
	    "another port: refused");
	ok(!membership_same_origin(e, "http://api.github.com/x"),
	    "http: refused");
	ok(!membership_same_origin(e, "https://evil.example/?https://api.github.com/"),
	    "another host: refused");
	ok(!membership_same_origin("http://api.github.com/x",
	    "http://api.github.com/y"), "an http endpoint has no origin");

	/* Pages. */
	is_int(page(CFG_SRC_ORG, "[{\"login\":\"acme\",\"id\":1},"
	    "{\"login\":\"zeta\"}]", got, sizeof(got)), 0, "orgs page");
	is_str(got, "acme zeta", "  org logins");
	is_int(page(CFG_SRC_TEAM, "[{\"slug\":\"ops\",\"organization\":"
	    "{\"login\":\"acme\"}},{\"slug\":\"web\",\"organization\":"
	    "{\"login\":\"acme\"}}]", got, sizeof(got)), 0, "teams page");
	is_str(got, "acme/ops acme/web", "  ORG/SLUG");
	is_int(page(CFG_SRC_ORG, "[]", got, sizeof(got)), 0, "an empty page");
	is_str(got, "", "  nothing");
	is_int(page(CFG_SRC_ORG, "{\"message\":\"Bad credentials\"}", got,
	    sizeof(got)), OA2_ERR_BAD_RESPONSE, "an object, not a list");
	is_int(page(CFG_SRC_ORG, "[{\"login\":1}]", got, sizeof(got)),
	    OA2_ERR_BAD_RESPONSE, "a login that is a number");
	is_int(page(CFG_SRC_ORG, "[{\"login\":\"\"}]", got, sizeof(got)),
	    OA2_ERR_BAD_RESPONSE, "an empty login");
	is_int(page(CFG_SRC_ORG, "[\"acme\"]", got, sizeof(got)),
	    OA2_ERR_BAD_RESPONSE, "a string element");
	is_int(page(CFG_SRC_TEAM, "[{\"slug\":\"ops\"}]", got, sizeof(got)),
	    OA2_ERR_BAD_RESPONSE, "a team without its organization");
	is_int(page(CFG_SRC_TEAM, "[{\"slug\":\"ops\",\"organization\":"
	    "\"acme\"}]", got, sizeof(got)), OA2_ERR_BAD_RESPONSE,
	    "organization as a string");
	is_int(page(CFG_SRC_ORG, "[{\"login\":\"acme\"}] x", got,
	    sizeof(got)), OA2_ERR_BAD_RESPONSE, "trailing garbage");
	is_int(page(CFG_SRC_ORG, "[{\"login\":\"acme\"}]}, {\"b\":[1]", got,
	    sizeof(got)), OA2_ERR_BAD_RESPONSE,
	    "a body that would close the wrapping object early");
	/* Not a JSON array: never read as one (a page once went through a
	 * wrapping object, which these completed). */
	is_int(page(CFG_SRC_ORG, "[], \"a\": [{\"login\":\"acme\"}]", got,
	    sizeof(got)), OA2_ERR_BAD_RESPONSE,
	    "an empty list and a duplicate member after it: malformed");
	is_str(got, "", "  nothing read");
	is_int(page(CFG_SRC_ORG, "[{\"login\":\"acme\"}], \"b\": 2", got,
	    sizeof(got)), OA2_ERR_BAD_RESPONSE,
	    "a list and a member after it: malformed");
	is_int(page(CFG_SRC_ORG, "", got, sizeof(got)), OA2_ERR_BAD_RESPONSE,
	    "an empty body: malformed");
	is_int(page(CFG_SRC_ORG, " [{\"login\":\"acme\"}]\r\n", got,
	    sizeof(got)), 0, "white space around the list");
	/* More memberships than a grant holds: refused, not cut. */
	n = GRANT_MAX_VALUES + 1;
	big = malloc(n * 24 + 8);
	if (big == NULL)
		return 1;
	strcpy(big, "[");
	for (size_t i = 0; i < n; i++)
		sprintf(big + strlen(big), "%s{\"login\":\"o%zu\"}",
		    i > 0 ? "," : "", i);
	strcat(big, "]");
	is_int(page(CFG_SRC_ORG, big, got, sizeof(got)), OA2_ERR_BAD_RESPONSE,
	    "%zu memberships: refused", n);
	free(big);
	return tap_done();
}
