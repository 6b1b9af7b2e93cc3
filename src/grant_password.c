/*
 * grant_password.c - RFC 6749 §4.3.
 */
#include "config.h"

#include <string.h>

#include "cfg.h"
#include "errors.h"
#include "form.h"
#include "grant_password.h"
#include "login.h"
#include "token.h"

int
grant_password(struct login *lg, const char *password, const char *otp)
{
	struct token_response tok = { 0 };
	struct form f = { 0 };
	int rc;

	rc = login_endpoints(lg);
	if (rc != 0)
		return rc;
	/* §4.3.2: grant_type, username, password, scope. */
	form_add(&f, "grant_type", "password");
	form_add(&f, "username", lg->user);
	/* The one-time code follows the password when the provider wants
	 * them joined. */
	form_add_key(&f, "password");
	form_encode(&f, password, strlen(password));
	if (otp != NULL && lg->cfg->otp_append)
		form_encode(&f, otp, strlen(otp));
	if (otp != NULL && !lg->cfg->otp_append)
		form_add(&f, lg->cfg->otp_param, otp);
	form_add(&f, "scope", lg->cfg->scope);
	rc = login_token_request(lg, lg->ep.token, &f, &tok);
	if (rc == 0)
		rc = login_verify(lg, &tok);
	token_response_clear(&tok);
	form_clear(&f);
	return rc;
}
