/*
 * auth.c - which grant, and what to ask the user for it.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "auth.h"
#include "cfg.h"
#include "claims.h"
#include "clock.h"
#include "conv.h"
#include "errors.h"
#include "grant_device.h"
#include "grant_password.h"
#include "grant_token.h"
#include "identity.h"
#include "log.h"
#include "login.h"
#include "offline.h"
#include "outage.h"
#include "provision.h"
#include "secret.h"
#include "token.h"

/* What sshd sends as the password of a user that does not exist
 * (auth-pam.c, fake_password()). */
static const char sshd_fake_password[] = "\b\n\r\177INCORRECT";

/* Every refusal of the user (security.md, "Return codes") drops the
 * offline verifier, in any service, so that a revocation at the IdP also
 * ends offline logins.  A refusal of the client or "could not ask" keeps
 * it. */
static void
drop_verifier(const struct cfg *cfg, const char *user, int rc)
{
	if (rc == OA2_ERR_DENIED || rc == OA2_ERR_TOKEN)
		offline_delete(cfg->offline_dir, user);
}

/* Show the sign-in prompt; whatever is typed before Enter is dropped. */
static int
show_prompt(void *arg, const char *prompt)
{
	char *answer = NULL;
	int rc;

	rc = conv_ask(arg, PAM_PROMPT_ECHO_ON, prompt, &answer);
	secret_free(&answer);
	return rc;
}

static int
run_device(struct pam_handle *pamh, const struct cfg *cfg,
    const struct log_ctx *lc, const char *user, struct login *lg,
    const char **grant, const char **why)
{
	char host[256];
	int rc;

	*grant = "device";
	if (!conv_available(pamh)) {
		*why = "no_conversation";
		return OA2_ERR_IGNORE;
	}
	if (lg->http == NULL) {
		rc = login_init(lg, cfg, lc, user);
		if (rc != 0) {
			*why = "init";
			return rc;
		}
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "this host");
	host[sizeof(host) - 1] = '\0';
	rc = outage_before(cfg, lc, why);
	if (rc != 0)
		return rc;
	rc = grant_device(lg, show_prompt, pamh, host);
	*why = lg->why;
	outage_after(cfg, lc, lg, rc);
	drop_verifier(cfg, user, rc);
	return rc;
}

/*
 * The offline verifier around a password grant: with offline_cache = yes
 * kept after a success and consulted only when the IdP could not be asked
 * (OA2_ERR_UNAVAIL, OA2_ERR_BAD_RESPONSE); never after a refusal of the
 * client (OA2_ERR_CLIENT: the IdP answered).  Not with a one-time code:
 * the second factor cannot be checked offline.  Every refusal of the user
 * drops it (drop_verifier), also before a fall-over to the device grant.
 * Returns the login's final code.
 */
static int
offline_after(const struct cfg *cfg, const struct log_ctx *lc,
    const char *user, const char *password, struct login *lg, int rc,
    const char **why)
{
	char eu[LOG_ESC_MAX];
	const char *owhy = NULL;
	char *scope = NULL;
	struct claims *claims = NULL;
	int orc;

	if (rc == OA2_ERR_DENIED || rc == OA2_ERR_TOKEN) {
		drop_verifier(cfg, user, rc);
		return rc;
	}
	if (!cfg->offline_cache || cfg->otp != CFG_OTP_NO)
		return rc;
	log_escape(user, eu, sizeof(eu));
	if (rc == 0) {
		if (offline_store(cfg->offline_dir, user, password, lg->scope,
		    lg->claims, clock_wall()) != 0)
			log_msg(lc, LOG_WARNING, "could not keep the offline "
			    "verifier for %s in %s", eu, cfg->offline_dir);
		return rc;
	}
	if (rc != OA2_ERR_UNAVAIL && rc != OA2_ERR_BAD_RESPONSE)
		return rc;
	orc = offline_verify(cfg->offline_dir, user, password,
	    cfg->offline_max_age, clock_wall(), &scope, &claims, &owhy);
	if (orc == OA2_ERR_NOTFOUND)
		return rc;
	if (orc != 0) {
		log_msg(lc, LOG_WARNING, "offline login refused for %s: %s "
		    "(IdP unavailable: %s)", eu, owhy, *why);
		*why = owhy;
		return orc;
	}
	log_msg(lc, LOG_NOTICE, "offline login for %s: the IdP is "
	    "unavailable (%s), the cached verifier matched", eu, *why);
	free(lg->scope);
	lg->scope = scope;
	claims_free(&lg->claims);
	lg->claims = claims;
	*why = owhy;
	return 0;
}

/*
 * A refusal of the password grant that the user can resolve in a browser,
 * so that the device grant may follow: a second factor or interaction the
 * provider wants (token_error_is_mfa), or a pending required action
 * (Keycloak's invalid_grant "Account is not fully set up", reason
 * required_action: the user updates the password, configures OTP... on
 * Keycloak's pages, then approves).  Never a wrong password or a lock-out
 * (plain invalid_grant).
 */
static bool
browser_can_finish(const struct login *lg)
{
	return token_error_is_mfa(lg->errcode) ||
	    (lg->why != NULL && strcmp(lg->why, "required_action") == 0);
}

/*
 * The token grant (grant_token.h): the answer is an access token.  It
 * never touches the offline verifier (none is made from a token, none is
 * consulted, none dropped: a refused token says nothing of the user's
 * password) and is never sent anywhere but to introspection.  A JWT
 * verified locally does not need the IdP: a recent outage (outage.h) does
 * not stop it, and a login that made no request leaves the outage stamp
 * as it was (it learnt nothing about the IdP).
 */
static int
run_token(const struct cfg *cfg, const struct log_ctx *lc,
    const char *user, const char *token, struct login *lg,
    const char **grant, const char **why)
{
	bool remote = !grant_token_is_jws(token) ||
	    cfg->token_introspection == CFG_INTROSPECT_ALWAYS;
	int rc;

	*grant = "token";
	rc = login_init(lg, cfg, lc, user);
	if (rc != 0) {
		*why = "init";
		return rc;
	}
	if (remote) {
		rc = outage_before(cfg, lc, why);
		if (rc != 0)
			return rc;
	}
	rc = grant_token(lg, token);
	*why = lg->why;
	if (lg->requests > 0)
		outage_after(cfg, lc, lg, rc);
	log_debug(lc, "token grant: %d request(s), token length %zu",
	    lg->requests, strlen(token));
	return rc;
}

int
auth_run(struct pam_handle *pamh, const struct cfg *cfg,
    const struct log_ctx *lc, const char *user, struct login *lg,
    const char **grant, const char **why)
{
	uid_t held = 0;
	/* A local account, a provisioned user, or (provision = yes) a
	 * name with no account or only the NSS module's placeholder. */
	bool known = provision_may_ask(cfg, provision_classify(user, &held));
	bool device = cfg_allows(cfg, CFG_GRANT_DEVICE);
	bool token = cfg_allows(cfg, CFG_GRANT_TOKEN);
	bool pass = cfg_allows(cfg, CFG_GRANT_PASSWORD);
	bool token_run = false;
	const char *prompt;
	char *password = NULL, *otp = NULL;
	int rc;

	*grant = !pass && token ? "token" : "password";
	*why = "internal";
	if (cfg->grants[0] == CFG_GRANT_DEVICE) {
		if (!known) {
			*grant = "device";
			*why = "unknown_user";
			return OA2_ERR_USER;
		}
		rc = run_device(pamh, cfg, lc, user, lg, grant, why);
		/* A provider without a device endpoint may still take
		 * passwords, if the service allows them. */
		if (rc != OA2_ERR_UNAVAIL || strcmp(*why,
		    "no_device_endpoint") != 0 || (!pass && !token))
			return rc;
		*grant = pass ? "password" : "token";
	}

	/* Ask for the password even for unknown users, so the prompt does
	 * not tell who exists; but never send their guesses to the IdP. */
	if (!pass)
		prompt = device ? "Access token (leave empty to sign in with a "
		    "browser): " : "Access token: ";
	else
		prompt = device ? "Password (leave empty to sign in with a "
		    "browser): " : "Password: ";
	rc = conv_get_password(pamh, cfg->use_first_pass, cfg->try_first_pass,
	    prompt, &password);
	if (rc != 0) {
		*why = rc == OA2_ERR_CONV ? "conversation" : "no_password";
		goto out;
	}
	if (!known) {
		rc = OA2_ERR_USER;
		*why = "unknown_user";
		goto out;
	}
	if (password[0] == '\0') {
		if (device) {
			rc = run_device(pamh, cfg, lc, user, lg, grant, why);
			goto out;
		}
		rc = OA2_ERR_DENIED;
		*why = "empty_password";
		goto out;
	}
	if (strcmp(password, sshd_fake_password) == 0) {
		rc = OA2_ERR_DENIED;
		*why = "fake_password";
		goto out;
	}
	/* grants = token password: an answer shaped like a token is only
	 * ever a token, never sent to the IdP as a password; with the token
	 * grant alone, anything else is refused unsent. */
	if (token && grant_token_shaped(password)) {
		/* A token is no password: not for the modules after us. */
		conv_forget_password(pamh);
		token_run = true;
		rc = run_token(cfg, lc, user, password, lg, grant, why);
		goto out;
	}
	if (!pass) {
		*grant = "token";
		token_run = true;
		rc = OA2_ERR_DENIED;
		*why = "not_a_token";
		goto out;
	}
	if (cfg->otp == CFG_OTP_PROMPT) {
		rc = conv_ask(pamh, PAM_PROMPT_ECHO_OFF, "One-time code: ",
		    &otp);
		if (rc != 0) {
			*why = "conversation";
			goto out;
		}
		if (otp[0] == '\0') {
			rc = OA2_ERR_DENIED;
			*why = "empty_otp";
			goto out;
		}
	}
	rc = login_init(lg, cfg, lc, user);
	if (rc != 0) {
		*why = "init";
		goto out;
	}
	rc = outage_before(cfg, lc, why);
	if (rc == 0) {
		rc = grant_password(lg, password, otp);
		*why = lg->why;
		outage_after(cfg, lc, lg, rc);
	}
	rc = offline_after(cfg, lc, user, password, lg, rc, why);
	log_debug(lc, "password grant: %d request(s), password length %zu",
	    lg->requests, strlen(password));
	if (rc == OA2_ERR_DENIED && device && browser_can_finish(lg)) {
		log_msg(lc, LOG_INFO, "the provider requires interaction "
		    "(%s): continuing with the device grant", *why);
		rc = run_device(pamh, cfg, lc, user, lg, grant, why);
	}
out:
	/* Refused before any request (empty or fake password, empty
	 * one-time code): no login was started. */
	if (known && lg->http == NULL && !token_run)
		drop_verifier(cfg, user, rc);
	secret_free(&password);
	secret_free(&otp);
	return rc;
}
