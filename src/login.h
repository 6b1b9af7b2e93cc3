/*
 * login.h - one login against the IdP: endpoints, client authentication,
 * the token request, and the verified identity bound to the PAM user.
 * Shared by every grant (grant_*.c) and by the PAM entry points.
 */
#ifndef OA2_LOGIN_H
#define OA2_LOGIN_H

#include <stddef.h>
#include <stdint.h>

#include "discovery.h"

struct cfg;
struct claims;
struct form;
struct http;
struct http_response;
struct log_ctx;
struct token_response;

struct login {
	const struct cfg *cfg;
	const struct log_ctx *log;
	struct http *http;
	struct endpoints ep;      /* resolved: configured, else discovered */
	int have_ep;
	int64_t deadline_ms;      /* clock_mono_ms() based */
	const char *cache_dir;    /* usable metadata cache, or NULL */
	const char *why;          /* reason code of the outcome (static or errcode) */
	char errcode[64];         /* the IdP's error code, when it sent one */
	char *user;               /* PAM user formatted for the IdP */
	struct claims *claims;    /* the verified identity */
	char *audit_sub;          /* sub of a verified token whose identity
	                           * was refused (for the audit line) */
	char *scope;              /* granted scope (RFC 6749 §5.1) */
	char *audit_token;        /* grants = token: "jti:..." or a hash of
	                           * the token, never the token */
	int requests;             /* HTTP requests made (for debug lines) */
	struct cfg_value *members; /* org:/team: memberships (membership.h) */
	size_t nmembers;
	int64_t slow_interval;    /* a slow_down's new interval, else -1
	                           * (errors_with_200 providers only) */
};

/* Start a login for the PAM user: deadline, HTTP client, formatted user.
 * Returns 0, OA2_ERR_CONFIG or OA2_ERR_NOMEM (lg is cleared either way). */
int login_init(struct login *lg, const struct cfg *cfg,
    const struct log_ctx *log, const char *pam_user);

/* Wipe and free everything the login holds. */
void login_clear(struct login *lg);

/* Resolve the endpoints (configured ones win; discovery only when one is
 * missing).  Returns 0 or an OA2_ERR_*. */
int login_endpoints(struct login *lg);

/*
 * POST form f to url with this client's authentication (RFC 6749 §2.3.1
 * Basic, client_id/client_secret in the body, or a fresh private_key_jwt
 * client assertion, RFC 7523 §2.2).  f is wiped.  Returns 0
 * with any HTTP status in *resp, or an OA2_ERR_*.
 */
int login_post(struct login *lg, const char *url, struct form *f,
    struct http_response *resp);

/*
 * POST form f to the token endpoint with this client's authentication
 * (RFC 6749 §2.3.1 Basic, or client_id/client_secret in the body) and
 * parse the answer into *tok.  f is wiped.  Returns 0 or OA2_ERR_*;
 * the IdP's error code, if any, is in lg->errcode.  With errors_with_200
 * a 200 carrying an "error" member is that error (token_classify_200).
 */
int login_token_request(struct login *lg, const char *url, struct form *f,
    struct token_response *tok);

/*
 * Turn a token response into a verified identity bound to lg->user:
 * with user_endpoint (a plain OAuth 2 provider) only its answer to the
 * access token counts, the ID token is ignored; otherwise verify the ID
 * token (or ask userinfo with the access token when there
 * is none, or when it lacks the username claim), then compare the claim.
 * Keeps the granted scope.  Returns 0, OA2_ERR_TOKEN, OA2_ERR_UNAVAIL,
 * OA2_ERR_BAD_RESPONSE, OA2_ERR_CLIENT (userinfo answered 429) or
 * OA2_ERR_NOMEM; lg->why says why.
 */
int login_verify(struct login *lg, const struct token_response *tok);

/*
 * Verify a JWT access token (RFC 9068, jwt_verify_access) for the
 * configured issuer and token_audience with the provider's keys, through
 * the metadata cache and with the same one-refetch-on-unknown-kid rule
 * (rate-limited) as the ID token: a warm cache costs no request.  The
 * endpoints must be resolved.  Returns 0 with the verified claims in *out
 * (claims_free), OA2_ERR_TOKEN, OA2_ERR_UNAVAIL, OA2_ERR_BAD_RESPONSE,
 * OA2_ERR_CONFIG (no token_audience) or OA2_ERR_NOMEM; lg->why says why.
 */
int login_verify_access_jwt(struct login *lg, const char *token,
    struct claims **out);

/*
 * Diagnostics (pam_oauth2ctl check): resolve the endpoints, then fetch
 * (through the metadata cache when lg->cache_dir is set) and parse the
 * JWKS.  *nkeys gets the number of usable signing keys; a set without
 * any is OA2_ERR_BAD_RESPONSE with lg->why "jwks_no_keys".  Returns 0 or
 * an OA2_ERR_*; lg->why says why.
 */
int login_jwks_check(struct login *lg, size_t *nkeys);

#endif
