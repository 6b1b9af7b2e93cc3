/*
 * test_identity - the PAM user and the verified claim must match exactly.
 */
#include "config.h"

#include <stdio.h>
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

/* identity_subject of json: the subject, or "ERR" and the code. */
static const char *
subject(const char *json, const char *id_claim, int *rc)
{
	static char out[64];
	char buf[IDENTITY_SUBJECT_MAX];
	struct claims *c = NULL;
	const char *sub = NULL;

	*rc = claims_parse(json, strlen(json), &c);
	if (*rc != 0)
		return "PARSE";
	*rc = identity_subject(c, id_claim, buf, sizeof(buf), &sub);
	snprintf(out, sizeof(out), "%s", *rc == 0 ? sub : sub == NULL ?
	    "ERR" : "ERR+sub");
	claims_free(&c);
	return out;
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

	/* The subject a record and the audit line are bound to. */
	{
		int rc;

		is_str(subject("{\"sub\":\"abc\",\"id\":7}", NULL, &rc), "abc",
		    "OpenID: the sub claim");
		is_str(subject("{\"id\":7}", NULL, &rc), "ERR",
		    "OpenID without sub: none");
		is_int(rc, OA2_ERR_NOTFOUND, "  OA2_ERR_NOTFOUND");
		is_str(subject("{\"login\":\"a\",\"id\":583231,\"sub\":\"x\"}",
		    "id", &rc), "583231",
		    "plain OAuth 2: the numeric id, never a sub member");
		is_str(subject("{\"id\":9223372036854775807}", "id", &rc),
		    "9223372036854775807", "the largest int64 fits the buffer");
		is_str(subject("{\"uid\":42}", "uid", &rc), "42",
		    "another user_id_claim");
		is_str(subject("{\"id\":\"583231\"}", "id", &rc), "ERR",
		    "id as a string: none");
		is_str(subject("{\"id\":0}", "id", &rc), "ERR", "id 0: none");
		is_str(subject("{\"id\":-5}", "id", &rc), "ERR",
		    "negative id: none");
		is_str(subject("{\"id\":1.5}", "id", &rc), "ERR",
		    "fractional id: none");
		is_str(subject("{\"login\":\"a\"}", "id", &rc), "ERR",
		    "no id: none");
		is_int(rc, OA2_ERR_NOTFOUND, "  OA2_ERR_NOTFOUND");
	}
	return tap_done();
}
