/*
 * fuzz_membership.c - the membership lists of a plain OAuth 2 provider
 * (GitHub's GET /user/orgs and /user/teams), as membership.c reads them:
 * the Link header's rel="next" target (http_link_next), the check that
 * it stays on the endpoint's origin (membership_same_origin), and one
 * page of each list (membership_parse_page).
 * Input: one byte choosing the part (bit 0: a Link header value or a
 * page; bit 1: the orgs or the teams list), then the text.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "errors.h"
#include "fuzz.h"
#include "groups.h"
#include "http.h"
#include "login.h"
#include "membership.h"

#define ENDPOINT "https://api.github.com/user/orgs"
#define ORIGIN_LEN 22 /* "https://api.github.com" */

/* The next-page URL of a Link value: bounded, taken from the line, and
 * on the endpoint's origin only when it starts with exactly that. */
static void
link_part(const char *line)
{
	char next[HTTP_MAX_LINK];
	size_t n;

	next[0] = '\0';
	http_link_next(line, next, sizeof(next));
	n = strnlen(next, sizeof(next));
	if (n >= sizeof(next) || strchr(next, '>') != NULL ||
	    (n > 0 && strstr(line, next) == NULL))
		abort();
	if (membership_same_origin(ENDPOINT, next) &&
	    (strncmp(next, ENDPOINT, ORIGIN_LEN) != 0 ||
	    (next[ORIGIN_LEN] != '/' && next[ORIGIN_LEN] != '\0')))
		abort();
	if (membership_same_origin(ENDPOINT, line) &&
	    strncmp(line, ENDPOINT, ORIGIN_LEN) != 0)
		abort();
}

/* One page: accepted only as a JSON array; every membership kept is
 * non-empty and bounded; a team is ORG/SLUG, both non-empty. */
static void
page_part(enum cfg_source src, const char *body, size_t len)
{
	struct login lg;

	memset(&lg, 0, sizeof(lg));
	if (membership_parse_page(&lg, src, body, len) == 0) {
		/* Only a JSON array is a page: nothing around it but white
		 * space. */
		size_t a = strspn(body, " \t\r\n"), z = len;

		while (z > a && strchr(" \t\r\n", body[z - 1]) != NULL)
			z--;
		if (z - a < 2 || body[a] != '[' || body[z - 1] != ']')
			abort();
	}
	if (lg.nmembers > GRANT_MAX_VALUES)
		abort();
	for (size_t i = 0; i < lg.nmembers; i++) {
		const char *v = lg.members[i].value;
		size_t vl = strlen(v);

		if (lg.members[i].src != src || vl == 0 ||
		    vl >= GRANT_MAX_VALUE ||
		    (src == CFG_SRC_TEAM && (vl < 3 ||
		    strchr(v, '/') == NULL)))
			abort();
		free(lg.members[i].value);
	}
	free(lg.members);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	/* The HTTP layer hands over NUL-terminated copies. */
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if ((data[0] & 1) == 0)
		link_part(text);
	else
		page_part((data[0] & 2) != 0 ? CFG_SRC_TEAM : CFG_SRC_ORG,
		    text, size - 1);
	free(text);
	return 0;
}
