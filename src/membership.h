/*
 * membership.h - organisations and teams of a plain OAuth 2 provider's
 * user (GitHub: GET /user/orgs, GET /user/teams with the access token),
 * as the mapping sources org:LOGIN and team:ORG/SLUG.
 */
#ifndef OA2_MEMBERSHIP_H
#define OA2_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"

struct login;

/* At most this many pages of a list (Link rel="next", RFC 8288); more
 * is a refusal (a gate must not pass on a list we did not read whole). */
#define MEMBERSHIP_MAX_PAGES 10

/*
 * Fetch the lists the configuration uses (cfg_uses_source: org:, team:)
 * into lg->members, following rel="next" links on the endpoint's own
 * origin only.  Each element must be an object with a string "login"
 * (orgs) or a string "slug" and an object "organization" with a string
 * "login" (teams).  Returns 0, OA2_ERR_TOKEN (401/403: the token may not
 * read them), OA2_ERR_CLIENT (429), OA2_ERR_UNAVAIL, OA2_ERR_BAD_RESPONSE
 * ("memberships_malformed", "memberships_too_many") or OA2_ERR_NOMEM;
 * lg->why says why.
 */
int membership_fetch(struct login *lg, const char *access_token);

/*
 * One page of a list (body: len bytes, NUL-terminated): one JSON array
 * of objects, parsed strictly (json_parse_array: nothing before or after
 * it), each element as membership_fetch says, appended
 * to lg->members (freed by login_clear).  Returns 0, OA2_ERR_BAD_RESPONSE
 * (malformed, an empty or too long value, more than GRANT_MAX_VALUES
 * memberships) or OA2_ERR_NOMEM.  Fuzzed (fuzz/fuzz_membership.c).
 */
int membership_parse_page(struct login *lg, enum cfg_source src,
    const char *body, size_t len);

/* Is next (a Link rel="next" URL) on the origin ("https://host[:port]")
 * of endpoint?  Never another host, nothing but https. */
bool membership_same_origin(const char *endpoint, const char *next);

#endif
