/*
 * grant_password.h - Resource Owner Password Credentials grant
 * (RFC 6749 §4.3).
 */
#ifndef OA2_GRANT_PASSWORD_H
#define OA2_GRANT_PASSWORD_H

struct login;

/*
 * Exchange lg->user and password for tokens and verify the identity.
 * The password is sent only in the form body, percent-encoded, and the
 * body is wiped afterwards.  otp, when not NULL, is a one-time code sent
 * as the otp_param form field, or appended to the password with
 * otp_append.  Returns 0 or an OA2_ERR_*; lg->why says why, and
 * lg->errcode holds the IdP's error code.
 */
int grant_password(struct login *lg, const char *password, const char *otp);

#endif
