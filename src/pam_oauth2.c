/*
 * pam_oauth2.c - the PAM entry points, and nothing else: load the
 * configuration, run the login, translate the result into a PAM code
 * (the one place that does), log the decision once.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "cfg.h"
#include "claims.h"
#include "clock.h"
#include "auth.h"
#include "errors.h"
#include "grantstore.h"
#include "groups.h"
#include "groupsync.h"
#include "identity.h"
#include "log.h"
#include "login.h"
#include "provision.h"
#include "secret.h"

/* pam_set_data key marking "this module authenticated this user". */
#define DATA_AUTHENTICATED "pam_oauth2.authenticated"
/* pam_set_data key of this login's struct grant (groups.h). */
#define DATA_GRANT "pam_oauth2.grant"

/* The one translation from project errors to PAM codes
 * (docs/security.md, "What each hook returns"). */
static int
to_pam(int rc)
{
	switch (rc) {
	case OA2_OK:
		return PAM_SUCCESS;
	case OA2_ERR_NOMEM:
		return PAM_BUF_ERR;
	case OA2_ERR_CONFIG:
		return PAM_SERVICE_ERR;
	case OA2_ERR_USER:
		return PAM_USER_UNKNOWN;
	case OA2_ERR_UNAVAIL:
	case OA2_ERR_BAD_RESPONSE:
	case OA2_ERR_CLIENT:
		return PAM_AUTHINFO_UNAVAIL;
	case OA2_ERR_CONV:
		return PAM_CONV_ERR;
	case OA2_ERR_IGNORE:
		return PAM_IGNORE;
	case OA2_ERR_PERM:
		return PAM_PERM_DENIED;
	case OA2_ERR_CRED:
		return PAM_CRED_ERR;
	default:
		/* OA2_ERR_DENIED, OA2_ERR_TOKEN and anything unexpected:
		 * fail closed. */
		return PAM_AUTH_ERR;
	}
}

static const char *
item_string(pam_handle_t *pamh, int item)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

/*
 * One syslog line per decision, with stable key=value fields (the audit
 * record, man page pam_oauth2(8) AUDIT): sub is the subject of the
 * verified identity (an allowed login, also an offline one), hashed with
 * audit_hash_sub; "-" when there is none.  A refusal by a gate
 * (required_scopes, required_claims) adds missing= naming the entry or
 * claim that failed.  A token login (grant=token) adds token= with the
 * token's jti ("jti:...") or a short hash of it, never the token.
 */
static void
log_decision(const struct log_ctx *lc, pam_handle_t *pamh,
    const struct cfg *cfg, const struct login *lg, const char *user,
    const char *grant, int rc, const char *why, const char *missing,
    int64_t started_ms)
{
	char eu[LOG_ESC_MAX], es[LOG_ESC_MAX], eh[LOG_ESC_MAX];
	char ew[LOG_ESC_MAX], esub[LOG_ESC_MAX], em[LOG_ESC_MAX];
	char et[LOG_ESC_MAX];
	const char *sub = NULL;
	const char *tok = lg != NULL ? lg->audit_token : NULL;

	/* A plain OAuth 2 provider: its numeric user id (login.c). */
	if (lg != NULL && cfg != NULL && cfg_plain_oauth2(cfg))
		sub = NULL;
	else if (lg != NULL && lg->claims != NULL &&
	    claims_get_string(lg->claims, "sub", &sub) != 0)
		sub = NULL;
	/* Refused identity: the verified token's own subject. */
	if (sub == NULL && lg != NULL)
		sub = lg->audit_sub;
	if (sub != NULL && cfg != NULL && cfg->audit_hash_sub)
		log_hash(sub, esub, sizeof(esub));
	else
		log_escape(sub, esub, sizeof(esub));
	/* A refused client is for an admin to fix: err, not warning. */
	log_msg(lc, rc == 0 ? LOG_NOTICE : rc == OA2_ERR_CLIENT ? LOG_ERR :
	    LOG_WARNING,
	    "decision user=%s service=%s rhost=%s grant=%s result=%s "
	    "reason=%s pam=\"%s\" ms=%lld sub=%s%s%s%s%s",
	    log_escape(user, eu, sizeof(eu)),
	    log_escape(item_string(pamh, PAM_SERVICE), es, sizeof(es)),
	    log_escape(item_string(pamh, PAM_RHOST), eh, sizeof(eh)),
	    grant, rc == 0 ? "allow" : rc == OA2_ERR_IGNORE ? "ignore" : "deny",
	    log_escape(why, ew, sizeof(ew)),
	    pam_strerror(pamh, to_pam(rc)),
	    (long long)(clock_mono_ms() - started_ms), esub,
	    tok != NULL ? " token=" : "",
	    tok != NULL ? log_escape(tok, et, sizeof(et)) : "",
	    missing != NULL && missing[0] != '\0' ? " missing=" : "",
	    missing != NULL && missing[0] != '\0' ?
	    log_escape(missing, em, sizeof(em)) : "");
}

static void
cleanup_marker(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)data;
	(void)error_status;
}

static void
cleanup_grant(pam_handle_t *pamh, void *data, int error_status)
{
	struct grant *g = data;

	(void)pamh;
	(void)error_status;
	grant_free(&g);
}

/*
 * The gates of a verified login, in authenticate (so a stack without the
 * account hook, or a caller that never calls pam_acct_mgmt, still has
 * them): its grant (scope tokens, groups_claim values) must hold every
 * required_scopes entry and its claims every required_claims entry.
 * Returns 0 with the grant in *out (freed with grant_free), OA2_ERR_DENIED
 * with *why "missing_required" or "required_claim" and the failing entry
 * in missing, or the error of grant_from_login.
 */
static int
gate_login(const struct cfg *cfg, const struct log_ctx *lc,
    const char *user, const struct login *lg, struct grant **out,
    char *missing, size_t missing_len, const char **why)
{
	struct grant *g = NULL;
	int rc;

	*out = NULL;
	rc = grant_from_login(cfg, lc, user, lg->scope, lg->claims, &g, why);
	if (rc != 0)
		goto out;
	/* org:/team: values of a plain OAuth 2 provider (membership.h). */
	for (size_t i = 0; i < lg->nmembers; i++) {
		bool dropped = false;

		rc = grant_add(g, lg->members[i].src, lg->members[i].value,
		    &dropped);
		if (rc != 0)
			goto out;
	}
	if (groups_check_required(cfg, g, missing, missing_len) != 0) {
		rc = OA2_ERR_DENIED;
		*why = "missing_required";
		goto out;
	}
	if (groups_check_claims(cfg, lg->claims, lc, missing,
	    missing_len) != 0) {
		rc = OA2_ERR_DENIED;
		*why = "required_claim";
		goto out;
	}
	*out = g;
	g = NULL;
out:
	grant_free(&g);
	return rc;
}

/* Keep what this login was granted for acct_mgmt and setcred (takes
 * *g, also on failure). */
static int
record_grant(pam_handle_t *pamh, struct grant **g, const char **why)
{
	if (pam_set_data(pamh, DATA_GRANT, *g, cleanup_grant) != PAM_SUCCESS) {
		grant_free(g);
		*why = "pam_set_data";
		return OA2_ERR_NOMEM;
	}
	*g = NULL;
	return 0;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct log_ctx lc = { .pamh = pamh, .debug = false };
	struct cfg *cfg = NULL;
	struct login lg = { 0 };
	struct grant *g = NULL;
	const char *user = NULL;
	const char *why = "internal";
	const char *grant = "password";
	char err[CFG_ERR_LEN], missing[GRANT_MAX_VALUE + 16];
	int64_t started = clock_mono_ms();
	uid_t uid;
	int rc;

	(void)flags;
	missing[0] = '\0';
	rc = cfg_load(argc, argv, &cfg, err, sizeof(err));
	if (rc != 0) {
		log_msg(&lc, LOG_ERR, "configuration error: %s",
		    rc == OA2_ERR_NOMEM ? "out of memory" : err);
		return to_pam(rc);
	}
	lc.debug = cfg->debug;
	/* Drop any mark a previous attempt on this handle left. */
	pam_set_data(pamh, DATA_AUTHENTICATED, NULL, NULL);
	pam_set_data(pamh, DATA_GRANT, NULL, NULL);

	rc = pam_get_user(pamh, &user, NULL);
	if (rc != PAM_SUCCESS) {
		rc = (rc == PAM_CONV_ERR || rc == PAM_CONV_AGAIN) ?
		    OA2_ERR_CONV : OA2_ERR_USER;
		why = rc == OA2_ERR_CONV ? "conversation" : "no_user";
		goto out;
	}
	if (identity_check_user(user) != 0) {
		rc = OA2_ERR_USER;
		why = "invalid_user_name";
		goto out;
	}
	/* As in acct_mgmt: a revocation a kill cut short between
	 * group_sync's two renames is finished first (also for a stack
	 * without the account line). */
	if (cfg->group_sync)
		(void)groupsync_recover(GROUPSYNC_PATH, user, &lc);
	/* System accounts (root) never go to the IdP: no prompt, nothing
	 * sent; the stack's next module (pam_unix) asks for the password. */
	if (identity_local_uid(user, &uid) == 0 &&
	    (long long)uid < (long long)cfg->min_uid) {
		rc = OA2_ERR_IGNORE;
		grant = "-";
		why = "system_account";
		goto out;
	}
	rc = auth_run(pamh, cfg, &lc, user, &lg, &grant, &why);
	if (rc == 0)
		rc = gate_login(cfg, &lc, user, &lg, &g, missing,
		    sizeof(missing), &why);
	/* A verified login of a user with no account makes its record
	 * (provision = yes); a provisioned user's is refreshed. */
	if (rc == 0) {
		const char *pwhy = NULL;

		rc = provision_login(cfg, &lc, user, lg.claims, g,
		    strcmp(why, "offline") == 0, &pwhy);
		if (rc != 0)
			why = pwhy;
	}
	if (rc == 0)
		rc = record_grant(pamh, &g, &why);
	if (rc == 0 && pam_set_data(pamh, DATA_AUTHENTICATED,
	    (void *)DATA_AUTHENTICATED, cleanup_marker) != PAM_SUCCESS) {
		rc = OA2_ERR_NOMEM;
		why = "pam_set_data";
	}
out:
	log_decision(&lc, pamh, cfg, &lg, user, grant, rc, why, missing,
	    started);
	grant_free(&g);
	login_clear(&lg);
	cfg_free(&cfg);
	return to_pam(rc);
}

/*
 * ESTABLISH/REINITIALIZE with this login's confirmed grant (PAM data in
 * single-process callers, else the grant store: sshd keyboard-interactive)
 * adds the mapped groups.  Everything else succeeds doing nothing: sshd
 * treats a setcred error as fatal, so only a failing setgroups is one.
 */
PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct log_ctx lc = { .pamh = pamh, .debug = false };
	struct cfg *cfg = NULL;
	struct grant *stored = NULL;
	const struct grant *g = NULL;
	const void *data = NULL;
	const char *user, *source = "pam_data";
	char err[CFG_ERR_LEN], eu[LOG_ESC_MAX];
	int rc = 0;

	if ((flags & (PAM_ESTABLISH_CRED | PAM_REINITIALIZE_CRED)) == 0)
		return PAM_SUCCESS;
	if (cfg_load(argc, argv, &cfg, err, sizeof(err)) != 0) {
		log_msg(&lc, LOG_ERR, "configuration error: %s", err);
		return PAM_SUCCESS;
	}
	lc.debug = cfg->debug;
	user = item_string(pamh, PAM_USER);
	if (user == NULL)
		goto out;
	/* Always take this session's record, so it is used at most once. */
	(void)grantstore_take(cfg->state_dir, user, &lc, &stored);
	if (pam_get_data(pamh, DATA_GRANT, &data) == PAM_SUCCESS &&
	    data != NULL) {
		g = data;
	} else {
		g = stored;
		source = "store";
	}
	if (g == NULL || !g->confirmed) {
		log_debug(&lc, "setcred user=%s: no confirmed grant, no groups",
		    log_escape(user, eu, sizeof(eu)));
		goto out;
	}
	if (strcmp(g->user, user) != 0) {
		log_debug(&lc, "setcred user=%s: the grant is for another "
		    "user, no groups", log_escape(user, eu, sizeof(eu)));
		goto out;
	}
	if (!groups_authinfo_allows(pam_getenv(pamh, "SSH_AUTH_INFO_0"))) {
		log_msg(&lc, LOG_NOTICE, "groups user=%s granted=- "
		    "result=refused reason=other_ssh_method",
		    log_escape(user, eu, sizeof(eu)));
		goto out;
	}
	rc = groups_establish(cfg, &lc, g, source);
out:
	grant_free(&stored);
	cfg_free(&cfg);
	return rc == OA2_ERR_CRED ? to_pam(rc) : PAM_SUCCESS;
}

/*
 * For every login with group_sync on: finish a revocation that a killed
 * group_sync left half done (groupsync_recover).  Then, only for users
 * this module authenticated (else PAM_IGNORE): the required_scopes gate.  Passing confirms the grant for setcred and, when
 * setcred will run in a sibling process (sshd keyboard-interactive),
 * writes it to the grant store; so a grant exists only for a login whose
 * whole auth stack and this gate passed.
 */
PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct log_ctx lc = { .pamh = pamh, .debug = false };
	struct cfg *cfg = NULL;
	struct grant *g = NULL;
	const void *mark = NULL, *data = NULL;
	const char *user, *why = "ok";
	char err[CFG_ERR_LEN], missing[GRANT_MAX_VALUE + 16];
	char eu[LOG_ESC_MAX], es[LOG_ESC_MAX], eh[LOG_ESC_MAX];
	char em[LOG_ESC_MAX];
	bool ours;
	int rc;

	(void)flags;
	missing[0] = '\0';
	ours = pam_get_data(pamh, DATA_AUTHENTICATED, &mark) == PAM_SUCCESS &&
	    mark != NULL && pam_get_data(pamh, DATA_GRANT, &data) ==
	    PAM_SUCCESS && data != NULL;
	rc = cfg_load(argc, argv, &cfg, err, sizeof(err));
	if (rc != 0) {
		log_msg(&lc, LOG_ERR, "configuration error: %s",
		    rc == OA2_ERR_NOMEM ? "out of memory" : err);
		return ours ? to_pam(rc) : PAM_IGNORE;
	}
	lc.debug = cfg->debug;
	user = item_string(pamh, PAM_USER);
	/* Every login (also by SSH key, or through another module): a
	 * revocation that a kill cut short between group_sync's two renames
	 * is finished before this session reads the group file. */
	if (cfg->group_sync && user != NULL && identity_check_user(user) == 0)
		(void)groupsync_recover(GROUPSYNC_PATH, user, &lc);
	/* Every login of a provisioned user (also by SSH key): locked, or
	 * not seen at the IdP for provision_max_age, is refused; so is a
	 * placeholder that reached the account check. */
	if (user != NULL && identity_check_user(user) == 0 &&
	    provision_account(cfg, user, clock_wall(), &why) == OA2_ERR_PERM) {
		log_msg(&lc, LOG_WARNING, "account user=%s service=%s rhost=%s "
		    "result=deny reason=%s missing=- pam=\"%s\"",
		    log_escape(user, eu, sizeof(eu)),
		    log_escape(item_string(pamh, PAM_SERVICE), es, sizeof(es)),
		    log_escape(item_string(pamh, PAM_RHOST), eh, sizeof(eh)),
		    why, pam_strerror(pamh, PAM_PERM_DENIED));
		if (ours) {
			((struct grant *)(uintptr_t)data)->confirmed = false;
			grantstore_drop(cfg->state_dir, &lc);
		}
		cfg_free(&cfg);
		return PAM_PERM_DENIED;
	}
	why = "ok";
	if (!ours) {
		cfg_free(&cfg);
		return PAM_IGNORE;
	}
	g = (struct grant *)(uintptr_t)data;
	if (user == NULL || strcmp(user, g->user) != 0) {
		rc = OA2_ERR_IGNORE;
		why = "other_user";
	} else if (groups_check_required(cfg, g, missing,
	    sizeof(missing)) != 0) {
		rc = OA2_ERR_PERM;
		why = "missing_scope";
		g->confirmed = false;
		grantstore_drop(cfg->state_dir, &lc);
	} else {
		g->confirmed = true;
		/* Errors are logged; the login goes on without groups. */
		(void)grantstore_put(cfg->state_dir, g, &lc);
	}
	log_msg(&lc, rc == 0 ? LOG_NOTICE : LOG_WARNING,
	    "account user=%s service=%s rhost=%s result=%s reason=%s "
	    "missing=%s pam=\"%s\"",
	    log_escape(user, eu, sizeof(eu)),
	    log_escape(item_string(pamh, PAM_SERVICE), es, sizeof(es)),
	    log_escape(item_string(pamh, PAM_RHOST), eh, sizeof(eh)),
	    rc == 0 ? "allow" : rc == OA2_ERR_IGNORE ? "ignore" : "deny",
	    why, missing[0] != '\0' ? log_escape(missing, em, sizeof(em)) :
	    "-", pam_strerror(pamh, to_pam(rc)));
	cfg_free(&cfg);
	return to_pam(rc);
}

/*
 * The first session of a provisioned user makes its home from /etc/skel
 * (provision_session, home.h): owned by the user, mode HOME_MODE of
 * login.defs or 0700.  Other users: PAM_IGNORE.  A home that cannot be
 * made is PAM_SESSION_ERR (logged); the stack decides (the examples use
 * "optional").
 */
PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct log_ctx lc = { .pamh = pamh, .debug = false };
	struct cfg *cfg = NULL;
	const char *user, *why = "ok";
	char err[CFG_ERR_LEN];
	int rc;

	(void)flags;
	rc = cfg_load(argc, argv, &cfg, err, sizeof(err));
	if (rc != 0) {
		log_msg(&lc, LOG_ERR, "configuration error: %s",
		    rc == OA2_ERR_NOMEM ? "out of memory" : err);
		return PAM_IGNORE;
	}
	lc.debug = cfg->debug;
	user = item_string(pamh, PAM_USER);
	rc = OA2_ERR_NOTFOUND;
	if (user != NULL && identity_check_user(user) == 0)
		rc = provision_session(&lc, user, &why);
	cfg_free(&cfg);
	if (rc == OA2_ERR_NOTFOUND)
		return PAM_IGNORE;
	return rc == 0 ? PAM_SUCCESS : PAM_SESSION_ERR;
}

/* Nothing to undo at the end of a session. */
PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
