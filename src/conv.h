/*
 * conv.h - talking to the user through the PAM conversation.
 */
#ifndef OA2_CONV_H
#define OA2_CONV_H

#include <stdbool.h>

struct pam_handle;

#define CONV_MAX_ANSWER 4096

/*
 * Show one message of the given PAM style (PAM_PROMPT_ECHO_OFF, ...) and
 * return the answer as a new string in *answer (a secret: the caller
 * wipes it with secret_free).  A missing conversation, a failing one, a
 * NULL reply or an answer longer than CONV_MAX_ANSWER is OA2_ERR_CONV;
 * partial replies are wiped and freed.  For PAM_ERROR_MSG/PAM_TEXT_INFO
 * answer may be NULL.
 */
int conv_ask(struct pam_handle *pamh, int style, const char *msg,
    char **answer);

/*
 * Get the password: the stack's PAM_AUTHTOK with use_first_pass (none
 * there is OA2_ERR_DENIED), try it first with try_first_pass, else prompt
 * (echo off) with the given text and store the answer as PAM_AUTHTOK for later modules.
 * *out is a new secret string.
 */
int conv_get_password(struct pam_handle *pamh, bool use_first_pass,
    bool try_first_pass, const char *prompt, char **out);

/*
 * Clear PAM_AUTHTOK (Linux-PAM wipes the old value): an answer that is
 * an access token is no password, and later modules (pam_exec
 * expose_authtok, a password module with try_first_pass) must not get
 * it.
 */
void conv_forget_password(struct pam_handle *pamh);

/* True when the application gave a conversation function at all. */
bool conv_available(struct pam_handle *pamh);

#endif
