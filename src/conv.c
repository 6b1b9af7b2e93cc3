/*
 * conv.c - the PAM conversation, paranoid about replies.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>
#include <security/pam_modules.h>

#include "conv.h"
#include "errors.h"
#include "secret.h"

int
conv_ask(struct pam_handle *pamh, int style, const char *msg,
    char **answer)
{
	const struct pam_conv *conv = NULL;
	struct pam_message m;
	const struct pam_message *mp = &m;
	struct pam_response *resp = NULL;
	int rc;

	if (answer != NULL)
		*answer = NULL;
	rc = pam_get_item(pamh, PAM_CONV, (const void **)&conv);
	if (rc != PAM_SUCCESS || conv == NULL || conv->conv == NULL)
		return OA2_ERR_CONV;
	m.msg_style = style;
	m.msg = msg;
	rc = conv->conv(1, &mp, &resp, conv->appdata_ptr);
	if (rc != PAM_SUCCESS) {
		rc = OA2_ERR_CONV;
		goto out;
	}
	rc = 0;
	if (answer == NULL)
		goto out;
	if (resp == NULL || resp[0].resp == NULL ||
	    strnlen(resp[0].resp, CONV_MAX_ANSWER + 1) > CONV_MAX_ANSWER) {
		rc = OA2_ERR_CONV;
		goto out;
	}
	/* Hand over the reply itself: no second copy to wipe. */
	*answer = resp[0].resp;
	resp[0].resp = NULL;
out:
	if (resp != NULL) {
		secret_free(&resp[0].resp);
		free(resp);
	}
	return rc;
}

bool
conv_available(struct pam_handle *pamh)
{
	const struct pam_conv *conv = NULL;

	return pam_get_item(pamh, PAM_CONV, (const void **)&conv) ==
	    PAM_SUCCESS && conv != NULL && conv->conv != NULL;
}

int
conv_get_password(struct pam_handle *pamh, bool use_first_pass,
    bool try_first_pass, const char *prompt, char **out)
{
	const void *item = NULL;
	int rc;

	*out = NULL;
	if (use_first_pass || try_first_pass) {
		if (pam_get_item(pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS &&
		    item != NULL) {
			*out = secret_strdup(item);
			return *out == NULL ? OA2_ERR_NOMEM : 0;
		}
		/* Nothing earlier in the stack asked: no password. */
		if (use_first_pass)
			return OA2_ERR_DENIED;
	}
	rc = conv_ask(pamh, PAM_PROMPT_ECHO_OFF, prompt, out);
	if (rc != 0)
		return rc;
	if (pam_set_item(pamh, PAM_AUTHTOK, *out) != PAM_SUCCESS) {
		secret_free(out);
		return OA2_ERR_NOMEM;
	}
	return 0;
}

void
conv_forget_password(struct pam_handle *pamh)
{
	(void)pam_set_item(pamh, PAM_AUTHTOK, NULL);
}
