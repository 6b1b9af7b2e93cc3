/*
 * test_identity - the PAM user and the verified claim must match exactly.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "errors.h"
#include "identity.h"
#include "tap.h"

static int
bind(const char *json, const char *claim, const char *user,
    const char **why)
{
	struct claims *c = NULL;
	int rc;

	*why = "";
	rc = claims_parse(json, strlen(json), &c);
	if (rc != 0)
		return 1000 + rc;
	rc = identity_bind(c, claim, user, why);
	claims_free(&c);
	return rc;
}

int
main(void)
{
	const char *why;
	char *s = NULL;
	char longname[IDENTITY_MAX_USER + 2];

	is_int(identity_check_user("alice"), 0, "plain user name");
	is_int(identity_check_user("a.b-c_d@corp"), 0, "dotted name");
	is_int(identity_check_user(""), OA2_ERR_USER, "empty name");
	is_int(identity_check_user(NULL), OA2_ERR_USER, "NULL name");
	is_int(identity_check_user("-rf"), OA2_ERR_USER, "leading dash");
	is_int(identity_check_user("al\nice"), OA2_ERR_USER, "newline");
	is_int(identity_check_user("al\x7f"), OA2_ERR_USER, "DEL");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	is_int(identity_check_user(longname), OA2_ERR_USER, "too long");
	longname[IDENTITY_MAX_USER] = '\0';
	is_int(identity_check_user(longname), 0, "longest allowed");

	is_int(identity_format("%u", "alice", &s), 0, "format %%u");
	is_str(s, "alice", "plain");
	free(s);
	is_int(identity_format("%u@corp.example", "alice", &s), 0, "UPN");
	is_str(s, "alice@corp.example", "UPN value");
	free(s);
	is_int(identity_format("100%%-%u", "bob", &s), 0, "%%%% escape");
	is_str(s, "100%-bob", "escape value");
	free(s);
	is_int(identity_format("%x%u", "bob", &s), OA2_ERR_CONFIG,
	    "unknown escape");

	is_int(bind("{\"preferred_username\":\"alice\"}",
	    "preferred_username", "alice", &why), 0, "exact match");
	is_int(bind("{\"preferred_username\":\"bob\"}", "preferred_username",
	    "alice", &why), OA2_ERR_TOKEN, "another user");
	is_str(why, "identity_mismatch", "reason");
	is_int(bind("{\"preferred_username\":\"alic\"}", "preferred_username",
	    "alice", &why), OA2_ERR_TOKEN, "claim is a prefix of the user");
	is_int(bind("{\"preferred_username\":\"alice2\"}",
	    "preferred_username", "alice", &why), OA2_ERR_TOKEN,
	    "claim extends the user");
	is_int(bind("{\"preferred_username\":\"Alice\"}",
	    "preferred_username", "alice", &why), OA2_ERR_TOKEN,
	    "different case");
	is_int(bind("{\"preferred_username\":\"alice \"}",
	    "preferred_username", "alice", &why), OA2_ERR_TOKEN,
	    "trailing space");
	is_int(bind("{\"preferred_username\":\"\\u0430lice\"}",
	    "preferred_username", "alice", &why), OA2_ERR_TOKEN,
	    "Cyrillic a (confusable)");
	is_int(bind("{\"preferred_username\":\"alice\\u0000\"}",
	    "preferred_username", "alice", &why), OA2_ERR_TOKEN,
	    "embedded NUL");
	is_int(bind("{\"preferred_username\":\"\"}", "preferred_username", "",
	    &why), OA2_ERR_TOKEN, "empty claim never matches");
	is_int(bind("{\"preferred_username\":\"al\\nice\"}",
	    "preferred_username", "al\nice", &why), OA2_ERR_TOKEN,
	    "control characters refused");
	is_str(why, "claim_invalid", "reason");
	is_int(bind("{\"sub\":\"x\"}", "preferred_username", "alice", &why),
	    OA2_ERR_TOKEN, "claim missing");
	is_str(why, "claim_missing", "reason");
	is_int(bind("{\"preferred_username\":[\"alice\"]}",
	    "preferred_username", "alice", &why), OA2_ERR_TOKEN,
	    "claim is an array");
	is_str(why, "claim_type", "reason");
	is_int(bind("{\"email\":\"alice@corp.example\"}", "email",
	    "alice@corp.example", &why), 0, "another claim name");
	return tap_done();
}
