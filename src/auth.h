/*
 * auth.h - one authentication: choose the grant, ask the user what that
 * grant needs, run it.  Called by pam_sm_authenticate only.
 */
#ifndef OA2_AUTH_H
#define OA2_AUTH_H

struct cfg;
struct log_ctx;
struct login;
struct pam_handle;

/*
 * Authenticate user (already checked to be a well-formed name) with the
 * grants cfg allows, in order:
 *  - "password": prompt (or take PAM_AUTHTOK), optionally a one-time code,
 *    then the password grant;
 *  - "password device": an empty password, or a provider answer that
 *    interaction/MFA is required, continues with the device grant;
 *  - "token": the answer is an access token (grant_token); with
 *    "token password" an answer shaped like a token (grant_token_shaped)
 *    is only ever a token, anything else a password; with "token" alone
 *    anything else is refused unsent ("not_a_token");
 *  - "device" first: no password is asked; without a conversation
 *    function nothing is sent and the result is OA2_ERR_IGNORE.
 * Unknown local users, empty and sshd's fake passwords never reach the
 * IdP.  *grant names the grant that decided, *why the reason code.
 * Returns 0 or OA2_ERR_*; lg holds the verified identity on success and
 * is cleared by the caller.
 */
int auth_run(struct pam_handle *pamh, const struct cfg *cfg,
    const struct log_ctx *lc, const char *user, struct login *lg,
    const char **grant, const char **why);

#endif
