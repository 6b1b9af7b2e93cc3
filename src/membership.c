/*
 * membership.c - organisations and teams from the user API of a plain
 * OAuth 2 provider (GitHub's REST API), paginated by Link headers.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <json-c/json.h>

#include "cfg.h"
#include "errors.h"
#include "groups.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "login.h"
#include "membership.h"

/* Length of "https://host[:port]" of url (the origin), 0 if none. */
static size_t
origin_len(const char *url)
{
	const char *p;

	if (strncmp(url, "https://", 8) != 0)
		return 0;
	p = strchr(url + 8, '/');
	return p != NULL ? (size_t)(p - url) : strlen(url);
}

bool
membership_same_origin(const char *endpoint, const char *next)
{
	size_t n = origin_len(endpoint);

	return n > 0 && origin_len(next) == n &&
	    strncmp(endpoint, next, n) == 0;
}

static int
add_member(struct login *lg, enum cfg_source src, const char *a,
    const char *b)
{
	size_t la = strlen(a), lb = b != NULL ? strlen(b) : 0;
	struct cfg_value *grown;
	char *v;

	if (la == 0 || (b != NULL && lb == 0))
		return OA2_ERR_BAD_RESPONSE;
	if (la + lb + 1 >= GRANT_MAX_VALUE || lg->nmembers >= GRANT_MAX_VALUES)
		return OA2_ERR_BAD_RESPONSE;
	v = malloc(la + lb + 2);
	if (v == NULL)
		return OA2_ERR_NOMEM;
	memcpy(v, a, la);
	v[la] = '\0';
	if (b != NULL) {
		v[la] = '/';
		memcpy(v + la + 1, b, lb + 1);
	}
	grown = realloc(lg->members, (lg->nmembers + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(v);
		return OA2_ERR_NOMEM;
	}
	lg->members = grown;
	lg->members[lg->nmembers].src = src;
	lg->members[lg->nmembers].value = v;
	lg->nmembers++;
	return 0;
}

int
membership_parse_page(struct login *lg, enum cfg_source src,
    const char *body, size_t len)
{
	struct json_object *arr = NULL;
	int rc;

	rc = json_parse_array(body, len, &arr);
	if (rc != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct json_object *org = NULL;
		const char *a = NULL, *b = NULL;

		if (!json_object_is_type(e, json_type_object)) {
			rc = OA2_ERR_BAD_RESPONSE;
		} else if (src == CFG_SRC_ORG) {
			rc = json_get_string(e, "login", &a) == 0 ?
			    add_member(lg, src, a, NULL) :
			    OA2_ERR_BAD_RESPONSE;
		} else {
			rc = json_get_string(e, "slug", &b) == 0 &&
			    json_get_object(e, "organization", &org) == 0 &&
			    json_get_string(org, "login", &a) == 0 ?
			    add_member(lg, src, a, b) : OA2_ERR_BAD_RESPONSE;
		}
	}
	json_put_wiped(arr);
	return rc;
}

/* Every page of one list. */
static int
fetch_list(struct login *lg, enum cfg_source src, const char *endpoint,
    const char *access_token)
{
	struct http_response resp = { 0 };
	char url[HTTP_MAX_LINK];
	int rc = 0, page;

	if (strlen(endpoint) + 13 >= sizeof(url)) {
		lg->why = "memberships_url";
		return OA2_ERR_CONFIG;
	}
	/* GitHub's default page is 30 entries; ask for its maximum. */
	snprintf(url, sizeof(url), "%s%sper_page=100", endpoint,
	    strchr(endpoint, '?') != NULL ? "&" : "?");
	for (page = 0; page < MEMBERSHIP_MAX_PAGES; page++) {
		lg->requests++;
		rc = http_get(lg->http, url, access_token, &resp, &lg->why);
		if (rc != 0)
			break;
		if (resp.status == 401 || resp.status == 403) {
			lg->why = "memberships_refused";
			rc = OA2_ERR_TOKEN;
		} else if (resp.status == 429) {
			lg->why = "http_429";
			rc = OA2_ERR_CLIENT;
		} else if (resp.status != 200) {
			lg->why = "memberships_http_status";
			rc = OA2_ERR_UNAVAIL;
		} else {
			rc = membership_parse_page(lg, src, resp.body,
			    resp.len);
			if (rc == OA2_ERR_BAD_RESPONSE)
				lg->why = "memberships_malformed";
		}
		if (rc != 0 || resp.next[0] == '\0')
			break;
		if (!membership_same_origin(endpoint, resp.next)) {
			lg->why = "memberships_other_origin";
			rc = OA2_ERR_BAD_RESPONSE;
			break;
		}
		memcpy(url, resp.next, sizeof(url));
		http_response_clear(&resp);
	}
	if (rc == 0 && page == MEMBERSHIP_MAX_PAGES) {
		log_msg(lg->log, LOG_WARNING, "more than %d pages at %s: "
		    "refusing a membership list not read whole",
		    MEMBERSHIP_MAX_PAGES, endpoint);
		lg->why = "memberships_too_many";
		rc = OA2_ERR_BAD_RESPONSE;
	}
	http_response_clear(&resp);
	return rc;
}

int
membership_fetch(struct login *lg, const char *access_token)
{
	const struct cfg *c = lg->cfg;
	int rc = 0;

	if (cfg_uses_source(c, CFG_SRC_ORG))
		rc = fetch_list(lg, CFG_SRC_ORG, c->orgs_endpoint,
		    access_token);
	if (rc == 0 && cfg_uses_source(c, CFG_SRC_TEAM))
		rc = fetch_list(lg, CFG_SRC_TEAM, c->teams_endpoint,
		    access_token);
	return rc;
}
