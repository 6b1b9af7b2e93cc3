/*
 * pam_oauth2.c - the PAM entry points, and nothing else: load the
 * configuration, run the login, translate the result into a PAM code
 * (the one place that does), log the decision once.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "cfg.h"
#include "clock.h"
#include "auth.h"
#include "errors.h"
#include "identity.h"
#include "log.h"
#include "login.h"
#include "secret.h"

/* pam_set_data key marking "this module authenticated this user". */
#define DATA_AUTHENTICATED "pam_oauth2.authenticated"

/* The one translation from project errors to PAM codes
 * (../shared/docs/security.md, "Return codes"). */
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
		return PAM_AUTHINFO_UNAVAIL;
	case OA2_ERR_CONV:
		return PAM_CONV_ERR;
	case OA2_ERR_IGNORE:
		return PAM_IGNORE;
	case OA2_ERR_PERM:
		return PAM_PERM_DENIED;
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

/* One syslog line per decision, with stable key=value fields. */
static void
log_decision(const struct log_ctx *lc, pam_handle_t *pamh, const char *user,
    const char *grant, int rc, const char *why, int64_t started_ms)
{
	char eu[LOG_ESC_MAX], es[LOG_ESC_MAX], eh[LOG_ESC_MAX];
	char ew[LOG_ESC_MAX];

	log_msg(lc, rc == 0 ? LOG_NOTICE : LOG_WARNING,
	    "decision user=%s service=%s rhost=%s grant=%s result=%s "
	    "reason=%s pam=\"%s\" ms=%lld",
	    log_escape(user, eu, sizeof(eu)),
	    log_escape(item_string(pamh, PAM_SERVICE), es, sizeof(es)),
	    log_escape(item_string(pamh, PAM_RHOST), eh, sizeof(eh)),
	    grant, rc == 0 ? "allow" : rc == OA2_ERR_IGNORE ? "ignore" : "deny",
	    log_escape(why, ew, sizeof(ew)),
	    pam_strerror(pamh, to_pam(rc)),
	    (long long)(clock_mono_ms() - started_ms));
}

static void
cleanup_marker(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)data;
	(void)error_status;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct log_ctx lc = { .pamh = pamh, .debug = false };
	struct cfg *cfg = NULL;
	struct login lg = { 0 };
	const char *user = NULL;
	const char *why = "internal";
	const char *grant = "password";
	char err[CFG_ERR_LEN];
	int64_t started = clock_mono_ms();
	int rc;

	(void)flags;
	rc = cfg_load(argc, argv, &cfg, err, sizeof(err));
	if (rc != 0) {
		log_msg(&lc, LOG_ERR, "configuration error: %s",
		    rc == OA2_ERR_NOMEM ? "out of memory" : err);
		return to_pam(rc);
	}
	lc.debug = cfg->debug;
	/* Drop any mark a previous attempt on this handle left. */
	pam_set_data(pamh, DATA_AUTHENTICATED, NULL, NULL);

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
	rc = auth_run(pamh, cfg, &lc, user, &lg, &grant, &why);
	if (rc == 0 && pam_set_data(pamh, DATA_AUTHENTICATED,
	    (void *)DATA_AUTHENTICATED, cleanup_marker) != PAM_SUCCESS) {
		rc = OA2_ERR_NOMEM;
		why = "pam_set_data";
	}
out:
	log_decision(&lc, pamh, user, grant, rc, why, started);
	login_clear(&lg);
	cfg_free(&cfg);
	return to_pam(rc);
}

PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	/* Never an error: sshd treats a setcred failure as fatal. */
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *mark = NULL;

	(void)flags;
	(void)argc;
	(void)argv;
	if (pam_get_data(pamh, DATA_AUTHENTICATED, &mark) != PAM_SUCCESS ||
	    mark == NULL)
		return PAM_IGNORE;
	return PAM_SUCCESS;
}
