/*
 * provision.h - accounts for users who exist only at the IdP
 * (provision = yes): the record made at the first verified login, kept
 * bound to the IdP's issuer and sub, refreshed at each login, checked at
 * every account check, and its home made at the first session.  The
 * records live in the NSS module's database (userdb.h); this file is the
 * PAM side's only user of it.
 */
#ifndef OA2_PROVISION_H
#define OA2_PROVISION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cfg;
struct claims;
struct grant;
struct log_ctx;

/* What NSS says a name is, seen from this process. */
enum provision_kind {
	PROVISION_NONE = 0,      /* no account anywhere */
	PROVISION_PLACEHOLDER,   /* the NSS module's pre-login placeholder
	                          * (getpwnam has it, getpwuid does not) */
	PROVISION_OURS,          /* a live record, served as this process
	                          * sees the name */
	PROVISION_LOCAL,         /* an account in another NSS source */
	PROVISION_UNREADABLE,    /* an NSS lookup failed: nothing can be
	                          * decided about the name now */
};

/*
 * Classify user: getpwnam_r, getpwuid_r of its UID, and the database's
 * live record.  *uid gets the UID getpwnam_r gave (0 when none).  A name
 * is a placeholder when getpwuid_r of its UID does not give back the
 * name getpwnam_r gave (a directory's canonical spelling, "alice@corp"
 * for "alice", is the same account); a UID below 1000 never is one (the
 * NSS module's range starts above).  An NSS source that fails is
 * PROVISION_UNREADABLE, never "no account"; an unreadable database
 * counts as no record (logged by the callers that need one).
 */
enum provision_kind provision_classify(const char *user, uid_t *uid);

/* May authenticate ask the IdP about user?  Local accounts and provisioned
 * users always; with cfg->provision also a name with no account or a
 * placeholder. */
bool provision_may_ask(const struct cfg *cfg, enum provision_kind kind);

/*
 * After a verified login of user (identity bound, gates passed) whose
 * grant is g: with cfg->provision on, create the record of a user with
 * no account (or a placeholder), or refresh a provisioned one (last seen,
 * mapped groups); a local account is left alone (returns 0).  offline:
 * the login was answered by the offline verifier (no IdP: nothing is
 * created or refreshed).  Writes one "provision" syslog line for each
 * record made or refused.  Returns 0, OA2_ERR_DENIED with *why a reason
 * word (name_reassigned, sub_bound, uid_collision, uid_claim_*,
 * placeholder_stale, placeholder_moved, provisioned_reconnect, ...),
 * OA2_ERR_CONFIG (the NSS configuration or database is unsafe or wrong)
 * or OA2_ERR_NOMEM.
 */
int provision_login(const struct cfg *cfg, const struct log_ctx *lc,
    const char *user, const struct claims *claims, const struct grant *g,
    bool offline, const char **why);

/*
 * The account check of every login of user (also by SSH key or another
 * module): OA2_ERR_NOTFOUND when user is not provisioned (nothing to say);
 * 0 when it is and may log in; OA2_ERR_PERM with *why "locked",
 * "not_seen" (not seen at the IdP for provision_max_age) or "placeholder"
 * (a name that was never provisioned reached the account check).
 */
int provision_account(const struct cfg *cfg, const char *user, int64_t now,
    const char **why);

/*
 * open_session: the home of a provisioned user, from /etc/skel
 * (home.h).  OA2_ERR_NOTFOUND when user is not provisioned; 0 when the
 * home was made or was there; else home_create's error with *why.
 */
int provision_session(const struct log_ctx *lc, const char *user,
    const char **why);

#endif
