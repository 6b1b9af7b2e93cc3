/*
 * grant_token.c - an OAuth 2.0 access token as the credential: a JWT
 * access token (RFC 9068) verified locally with the issuer's JWKS, or any
 * token checked with RFC 7662 introspection, authenticated as the client.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "cfg.h"
#include "claims.h"
#include "clock.h"
#include "errors.h"
#include "form.h"
#include "grant_token.h"
#include "http.h"
#include "identity.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "login.h"
#include "secret.h"
#include "token.h"

/* Clock skew allowed on the introspection answer's exp/nbf (seconds),
 * as for JWTs (login.c). */
#define TOKEN_LEEWAY 60

/* The audit id of a token: "jti:" and its jti (at most this many bytes
 * of it), or log_hash's "sha256:" and 16 hex digits. */
#define TOKEN_JTI_MAX 128

/* Room kept in the introspection form (FORM_MAX) for the hint and the
 * client authentication (a secret or a client assertion): a token whose
 * form encoding is longer is refused as too_large before anything is
 * sent. */
#define TOKEN_FORM_RESERVE (8 * 1024)

static bool
is_b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* RFC 6750 §2.1 b64token: ALPHA DIGIT - . _ ~ + / then any '='. */
static bool
is_b64token(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (is_b64url_char((unsigned char)s[i]) ||
	    s[i] == '.' || s[i] == '~' || s[i] == '+' || s[i] == '/'))
		i++;
	if (i == 0)
		return false;
	while (i < len && s[i] == '=')
		i++;
	return i == len;
}

/* The JWS shape of grant_token_is_jws over the first len bytes of s,
 * without the size cap. */
static bool
jws_shaped(const char *s, size_t len)
{
	size_t seg[3] = { 0 }, n = 0, i;
	unsigned char *hdr = NULL;
	size_t hlen = 0;
	bool ok = false;

	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (++n > 2)
				return false;
			continue;
		}
		if (!is_b64url_char((unsigned char)s[i]))
			return false;
		seg[n]++;
	}
	if (n != 2 || seg[0] == 0 || seg[1] == 0 || seg[2] == 0)
		return false;
	/* The header decodes to a JSON object: "a.b.c" is no token. */
	if (b64url_decode(s, seg[0], &hdr, &hlen) != 0)
		return false;
	ok = hlen >= 2 && hdr[0] == '{' && hdr[hlen - 1] == '}';
	secret_freen((void **)&hdr, hlen + 1);
	return ok;
}

bool
grant_token_is_jws(const char *s)
{
	size_t len = strnlen(s, JWT_MAX_BYTES + 1);

	return len <= JWT_MAX_BYTES && jws_shaped(s, len);
}

bool
grant_token_shaped(const char *s)
{
	size_t len;

	/* Also a JWS over the size cap: a token, refused as too_large by
	 * grant_token, never a password. */
	if (jws_shaped(s, strlen(s)))
		return true;
	len = strnlen(s, GRANT_TOKEN_OPAQUE_MAX + 1);
	return len >= GRANT_TOKEN_OPAQUE_MIN && len <= GRANT_TOKEN_OPAQUE_MAX &&
	    is_b64token(s, len);
}

/*
 * The audit id of a verified token: "jti:JTI" when its claims have a
 * jti, else a short hash of the token (a verified token is high entropy).
 * A JWS that was not verified is named by its hash too (never by its
 * unverified jti): a header that decodes to a JSON object is no typed
 * password, and the hash lets an admin match a refused token he holds.
 * An opaque-shaped answer that was not verified is named "-": it may be
 * a long passphrase, and a fast unsalted hash of one does not belong in
 * syslog.
 */
static int
audit_id(struct login *lg, const struct claims *c, const char *token,
    bool verified)
{
	char buf[TOKEN_JTI_MAX + 8];
	const char *jti = NULL;

	if (!verified && !grant_token_is_jws(token))
		snprintf(buf, sizeof(buf), "-");
	else if (!verified)
		log_hash(token, buf, sizeof(buf));
	else if (claims_get_string(c, "jti", &jti) == 0 && jti[0] != '\0')
		snprintf(buf, sizeof(buf), "jti:%.*s", TOKEN_JTI_MAX, jti);
	else
		log_hash(token, buf, sizeof(buf));
	free(lg->audit_token);
	lg->audit_token = strdup(buf);
	return lg->audit_token == NULL ? OA2_ERR_NOMEM : 0;
}

/*
 * The issuing client: client_id (RFC 9068 §2.2, RFC 7662 §2.2) and azp,
 * each when present, must be in token_clients, and at least one of them
 * must be there.  Returns 0 or OA2_ERR_TOKEN with lg->why.
 */
static int
check_client(struct login *lg, const struct claims *c)
{
	static const char *const names[] = { "client_id", "azp" };
	const char *s = NULL;
	bool seen = false;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int rc = claims_get_string(c, names[i], &s);

		if (rc == OA2_ERR_NOTFOUND)
			continue;
		if (rc != 0) {
			lg->why = "claim_type";
			return OA2_ERR_TOKEN;
		}
		if (!cfg_token_client_allowed(lg->cfg, s)) {
			lg->why = "client_not_allowed";
			return OA2_ERR_TOKEN;
		}
		seen = true;
	}
	if (!seen) {
		lg->why = "client_missing";
		return OA2_ERR_TOKEN;
	}
	return 0;
}

/* The length of the form encoding of s (form_encode). */
static size_t
form_encoded_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += (is_b64url_char((unsigned char)*s) || *s == '.' ||
		    *s == '~') ? 1 : 3;
	return n;
}

/*
 * The checks of an introspection answer (RFC 7662 §2.2) on top of
 * active: iss, when present, is the issuer; aud must contain
 * token_audience; exp and nbf, when present, hold (with leeway); scope,
 * when present, is a string; a token the provider calls an ID token
 * (Keycloak's "typ": "ID") or a refresh token is not an access token.
 * Returns 0 or OA2_ERR_TOKEN / OA2_ERR_BAD_RESPONSE with lg->why.
 */
static int
check_introspection(struct login *lg, const struct claims *c)
{
	const char **aud = NULL;
	const char *s = NULL;
	size_t naud = 0;
	int64_t t = 0, now = (int64_t)clock_wall();
	bool found = false;
	int rc;

	rc = claims_get_string(c, "iss", &s);
	if (rc == 0 && strcmp(s, lg->cfg->issuer) != 0) {
		lg->why = "iss_mismatch";
		return OA2_ERR_TOKEN;
	}
	if (rc == OA2_ERR_BAD_RESPONSE)
		goto malformed;
	rc = claims_get_string(c, "typ", &s);
	if (rc == 0 && strcmp(s, "Bearer") != 0) {
		lg->why = "not_access_token";
		return OA2_ERR_TOKEN;
	}
	rc = claims_get_string(c, "token_type", &s);
	if (rc == 0 && strcasecmp(s, "Bearer") != 0 &&
	    strcmp(s, "access_token") != 0) {
		lg->why = "not_access_token";
		return OA2_ERR_TOKEN;
	}
	rc = claims_get_strings(c, "aud", &aud, &naud);
	if (rc == OA2_ERR_NOMEM)
		return rc;
	if (rc == OA2_ERR_BAD_RESPONSE)
		goto malformed;
	for (size_t i = 0; i < naud; i++) {
		if (strcmp(aud[i], lg->cfg->token_audience) == 0)
			found = true;
	}
	free(aud);
	if (!found) {
		lg->why = "aud_mismatch";
		return OA2_ERR_TOKEN;
	}
	rc = claims_get_int64(c, "exp", &t);
	if (rc == 0 && t <= INT64_MAX - TOKEN_LEEWAY &&
	    now >= t + TOKEN_LEEWAY) {
		lg->why = "expired";
		return OA2_ERR_TOKEN;
	}
	if (rc == OA2_ERR_BAD_RESPONSE)
		goto malformed;
	rc = claims_get_int64(c, "nbf", &t);
	if (rc == 0 && t > now + TOKEN_LEEWAY) {
		lg->why = "not_yet_valid";
		return OA2_ERR_TOKEN;
	}
	if (rc == OA2_ERR_BAD_RESPONSE)
		goto malformed;
	if (claims_get_string(c, "scope", &s) == OA2_ERR_BAD_RESPONSE)
		goto malformed;
	/* RFC 8705 §3.2, RFC 9449 §6.2: a sender-constrained token is
	 * useless without its proof, which a password prompt cannot
	 * carry: never accepted as a bearer token. */
	if (claims_has(c, "cnf")) {
		lg->why = "sender_constrained";
		return OA2_ERR_TOKEN;
	}
	return 0;
malformed:
	lg->why = "introspection_malformed";
	return OA2_ERR_BAD_RESPONSE;
}

/*
 * A non-200 introspection answer.  An OAuth error code naming the client
 * (invalid_client, unauthorized_client...) or the server
 * (server_error, temporarily_unavailable) is classified as at the token
 * endpoint (token_classify), with the code as the reason; otherwise the
 * status decides: 401/403 introspection_refused and 429 http_429
 * (OA2_ERR_CLIENT), anything else introspection_http_status
 * (OA2_ERR_UNAVAIL).
 */
static int
introspection_error(struct login *lg, const struct http_response *resp)
{
	const char *why = NULL;
	int rc, cls;

	rc = token_classify(resp->status, resp->body, resp->len, lg->errcode,
	    sizeof(lg->errcode), &why);
	if (rc == OA2_ERR_NOMEM) {
		lg->why = why;
		return rc;
	}
	cls = lg->errcode[0] != '\0' ? token_error_class(lg->errcode) : 0;
	if (cls == OA2_ERR_CLIENT || cls == OA2_ERR_UNAVAIL) {
		lg->why = why;
		return rc;
	}
	/* No code that says something: the status alone. */
	lg->errcode[0] = '\0';
	if (resp->status == 401 || resp->status == 403) {
		lg->why = "introspection_refused";
		return OA2_ERR_CLIENT;
	}
	if (resp->status == 429) {
		lg->why = "http_429";
		return OA2_ERR_CLIENT;
	}
	lg->why = "introspection_http_status";
	return OA2_ERR_UNAVAIL;
}

/*
 * RFC 7662 §2.1: POST token (and the hint) to the introspection
 * endpoint, authenticated as the client (login_post).  An inactive
 * token is a refusal (OA2_ERR_TOKEN "inactive_token"); a refusal of the
 * client (401, 403) is OA2_ERR_CLIENT.  Returns 0 with the answer's
 * claims in *out, or OA2_ERR_*; lg->why says why.
 */
static int
introspect(struct login *lg, const char *token, struct claims **out)
{
	struct http_response resp = { 0 };
	struct form f = { 0 };
	bool active = false;
	int rc;

	*out = NULL;
	/* No endpoint to ask: the token cannot be checked here, which is
	 * a refusal of this token (never an outage: anyone can present an
	 * opaque-shaped answer). */
	if (lg->ep.introspection == NULL) {
		lg->why = "no_introspection_endpoint";
		return OA2_ERR_TOKEN;
	}
	if (form_encoded_len(token) > FORM_MAX - TOKEN_FORM_RESERVE) {
		lg->why = "too_large";
		return OA2_ERR_TOKEN;
	}
	form_add_key(&f, "token");
	form_encode(&f, token, strlen(token));
	form_add(&f, "token_type_hint", "access_token");
	rc = login_post(lg, lg->ep.introspection, &f, &resp);
	if (rc != 0)
		goto out;
	if (resp.status != 200) {
		rc = introspection_error(lg, &resp);
		goto out;
	}
	rc = claims_parse(resp.body, resp.len, out);
	if (rc == OA2_ERR_NOMEM)
		goto out;
	if (rc == 0 && claims_get_bool(*out, "active", &active) != 0)
		rc = OA2_ERR_BAD_RESPONSE;
	if (rc != 0) {
		lg->why = "introspection_malformed";
		rc = OA2_ERR_BAD_RESPONSE;
		goto out;
	}
	if (!active) {
		lg->why = "inactive_token";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	rc = check_introspection(lg, *out);
out:
	log_debug(lg->log, "introspection: status=%ld result=%s",
	    resp.status, lg->why);
	if (rc != 0)
		claims_free(out);
	http_response_clear(&resp);
	form_clear(&f);
	return rc;
}

int
grant_token(struct login *lg, const char *token)
{
	const struct cfg *c = lg->cfg;
	struct claims *claims = NULL;
	const char *scope = NULL, *sub = NULL;
	bool jws;
	int rc;

	if (strnlen(token, JWT_MAX_BYTES + 1) > JWT_MAX_BYTES) {
		lg->why = "too_large";
		return OA2_ERR_TOKEN;
	}
	rc = login_endpoints(lg);
	if (rc != 0)
		return rc;
	jws = grant_token_is_jws(token);
	if (jws && c->token_introspection != CFG_INTROSPECT_ALWAYS) {
		rc = login_verify_access_jwt(lg, token, &claims);
	} else if (!jws && c->token_introspection == CFG_INTROSPECT_NEVER) {
		lg->why = "opaque_refused";
		rc = OA2_ERR_TOKEN;
	} else {
		rc = introspect(lg, token, &claims);
	}
	if (rc == 0)
		rc = check_client(lg, claims);
	/* The audit line names a verified token (also when it is refused
	 * afterwards) and an unverified JWS, by "-" an unverified opaque
	 * answer (audit_id). */
	if (rc == 0 || rc == OA2_ERR_TOKEN) {
		int arc = audit_id(lg, claims, token, claims != NULL);

		if (arc != 0) {
			rc = arc;
			goto out;
		}
	}
	if (rc != 0)
		goto out;
	rc = identity_bind(claims, c->username_claim, lg->user, &lg->why);
	if (rc != 0) {
		if (claims_get_string(claims, "sub", &sub) == 0) {
			free(lg->audit_sub);
			lg->audit_sub = strdup(sub);
		}
		goto out;
	}
	/* RFC 9068 §2.2.3 / RFC 7662 §2.2: scope, space-separated; a token
	 * without one grants no scope (not the configured request scope). */
	rc = claims_get_string(claims, "scope", &scope);
	if (rc == OA2_ERR_BAD_RESPONSE) {
		lg->why = "claim_type";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	free(lg->scope);
	lg->scope = strdup(rc == 0 ? scope : "");
	if (lg->scope == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	claims_free(&lg->claims);
	lg->claims = claims;
	claims = NULL;
	lg->why = "ok";
	rc = 0;
out:
	claims_free(&claims);
	return rc;
}
