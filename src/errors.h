/*
 * errors.h - project error codes.
 *
 * Every function inside the module returns 0 or one of these negative
 * values.  They are translated to PAM return codes in exactly one place,
 * pam_oauth2.c (see docs/security.md for the table).
 */
#ifndef OA2_ERRORS_H
#define OA2_ERRORS_H

enum oa2_err {
	OA2_OK = 0,
	OA2_ERR_NOMEM = -1,        /* allocation failed            -> PAM_BUF_ERR */
	OA2_ERR_CONFIG = -2,       /* missing/invalid/unsafe config -> PAM_SERVICE_ERR */
	OA2_ERR_USER = -3,         /* empty or invalid user name    -> PAM_USER_UNKNOWN */
	OA2_ERR_DENIED = -4,       /* IdP refused the user          -> PAM_AUTH_ERR */
	OA2_ERR_TOKEN = -5,        /* token/identity check failed   -> PAM_AUTH_ERR */
	OA2_ERR_UNAVAIL = -6,      /* could not ask the IdP         -> PAM_AUTHINFO_UNAVAIL */
	OA2_ERR_BAD_RESPONSE = -7, /* malformed IdP response        -> PAM_AUTHINFO_UNAVAIL */
	OA2_ERR_CONV = -8,         /* conversation failed/cancelled -> PAM_CONV_ERR */
	OA2_ERR_NOTFOUND = -9,     /* lookup found nothing (internal, never reaches PAM) */
	OA2_ERR_IGNORE = -10,      /* nothing for this module to do -> PAM_IGNORE */
	OA2_ERR_PERM = -11,        /* access gate refused           -> PAM_PERM_DENIED */
	OA2_ERR_CRED = -12,        /* setgroups failed in setcred   -> PAM_CRED_ERR */
	OA2_ERR_CLIENT = -13,      /* IdP refused or throttled this client
	                            * (invalid_client, 429): it answered, so
	                            * never the offline verifier -> PAM_AUTHINFO_UNAVAIL */
};

#endif
