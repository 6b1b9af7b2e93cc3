/*
 * groups.h - local groups from what a login was granted.
 *
 * A grant is the list of values one login earned, each with its source
 * (cfg.h, enum cfg_source): the scope tokens of the token response
 * (RFC 6749 §5.1: when the response omits scope it is the scope
 * requested) and, with groups_claim, the values of that verified claim.
 * The [groups] section of the configuration maps sourced values
 * ("scope:admin", "claim:ops") to local groups; required_scopes gates the
 * login on them and required_claims on claims of the identity.  A value
 * from one source never matches an entry naming another.
 */
#ifndef OA2_GROUPS_H
#define OA2_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cfg.h"

struct cfg;
struct claims;
struct log_ctx;

#define GRANT_MAX_VALUES 256   /* more are dropped, with a warning */
#define GRANT_MAX_VALUE 256    /* bytes; a longer value is dropped */

struct grant {
	char *user;              /* the PAM user this grant belongs to */
	struct cfg_value *values; /* n distinct (source, value), in order */
	size_t n;
	bool confirmed;          /* acct_mgmt passed for this login */
};

/* An empty grant for user.  Returns 0 or OA2_ERR_NOMEM; free with
 * grant_free. */
int grant_new(const char *user, struct grant **out);

void grant_free(struct grant **g);

/* Add value from src unless it is already there, too long, or the grant
 * is full (then *dropped, if given, is set).  Returns 0 or
 * OA2_ERR_NOMEM. */
int grant_add(struct grant *g, enum cfg_source src, const char *value,
    bool *dropped);

/* Does g hold value from src (never from another source)? */
bool grant_has(const struct grant *g, enum cfg_source src,
    const char *value);

/*
 * The grant of a verified login: every space-separated token of scope
 * (CFG_SRC_SCOPE), then, when groups_claim is set, the claim's values
 * (CFG_SRC_CLAIM) (a string or an array
 * of strings at that dotted path; absent or null is none; any other type
 * is OA2_ERR_BAD_RESPONSE with *why "groups_claim_type").  Returns 0,
 * OA2_ERR_BAD_RESPONSE or OA2_ERR_NOMEM.
 */
int grant_from_login(const struct cfg *cfg, const struct log_ctx *lc,
    const char *user, const char *scope, const struct claims *claims,
    struct grant **out, const char **why);

/*
 * The access gate (required_scopes): 0 when every entry of
 * cfg->required is in g from its own source, else OA2_ERR_PERM with the
 * first missing entry ("scope:pam:login") copied (cut) into missing.
 */
int groups_check_required(const struct cfg *cfg, const struct grant *g,
    char *missing, size_t missing_len);

/*
 * The claims gate (required_claims): 0 when every entry of
 * cfg->required_claims holds in claims (a boolean entry: the claim is
 * that JSON boolean; a string entry: the claim is a JSON string equal
 * byte for byte), else OA2_ERR_PERM with the first failing claim's name
 * copied (cut) into missing and why it failed (absent, wrong type, other
 * value; never the value) logged through lc.  claims NULL fails any
 * entry.
 */
int groups_check_claims(const struct cfg *cfg, const struct claims *claims,
    const struct log_ctx *lc, char *missing, size_t missing_len);

/* Local groups by GID and name. */
struct group_list {
	size_t n;
	gid_t *gids;
	char **names;
};

void group_list_clear(struct group_list *l);

/*
 * Map g through cfg's [groups] into granted: every group named by a value
 * of g, once, that exists locally and, unless cfg->allow_gid0, does not
 * have GID 0.  Each missing or refused group is logged once per call.
 * When mapped is not NULL it gets every group the mapping names that
 * could be granted (exists, GID rule), granted or not: the set group_sync
 * manages.  Returns 0 or OA2_ERR_NOMEM (outputs cleared either way first).
 */
int groups_map(const struct cfg *cfg, const struct grant *g,
    const struct log_ctx *lc, struct group_list *granted,
    struct group_list *mapped);

/*
 * Add the GIDs of l to the calling process's supplementary groups
 * (getgroups + union + setgroups, as pam_group does; nothing is removed).
 * Returns 0, OA2_ERR_NOMEM or OA2_ERR_CRED (setgroups failed; errno kept).
 */
int groups_apply(const struct group_list *l);

/*
 * sshd's SSH_AUTH_INFO_0 (the methods that authenticated this connection,
 * one per line) as a veto: false when it is set, not empty, and names
 * neither "keyboard-interactive" nor "password" (e.g. only "publickey").
 * NULL or empty: true.  It can only take groups away, so a forged value
 * gains nothing.
 */
bool groups_authinfo_allows(const char *authinfo);

/*
 * setcred with this login's grant: map it, add the groups to the process
 * (groups_apply), with cfg->group_sync also write them into /etc/group,
 * and log one line (source names where the grant came from).  Returns 0,
 * OA2_ERR_CRED (setgroups failed) or OA2_ERR_NOMEM; a failing group_sync
 * is logged, not returned.
 */
int groups_establish(const struct cfg *cfg, const struct log_ctx *lc,
    const struct grant *g, const char *source);

/* names of l joined by ',' into buf (cut with "..."); returns buf. */
const char *group_list_join(const struct group_list *l, char *buf,
    size_t len);

#endif
