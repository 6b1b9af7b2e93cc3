/*
 * login.c - what every grant shares: endpoints, client authentication,
 * the token request, and identity verification.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "assertion.h"
#include "cache.h"
#include "cfg.h"
#include "claims.h"
#include "clock.h"
#include "discovery.h"
#include "errors.h"
#include "form.h"
#include "http.h"
#include "identity.h"
#include "jwks.h"
#include "jwt.h"
#include "log.h"
#include "login.h"
#include "membership.h"
#include "secret.h"
#include "token.h"

/* Clock skew allowed on exp/iat/nbf (seconds). */
#define LOGIN_LEEWAY 60

/* After a JWKS refetch that did not have a token's key, unknown kids
 * refetch again only this much later (seconds): an IdP that signs with a
 * key it does not publish costs one refetch a minute, not one a login. */
#define JWKS_REFETCH_MIN 60

/* The cache key of that note: the JWKS URL with a suffix no URL of ours
 * ends in (its body says what it is, for pam_oauth2ctl cache list). */
#define JWKS_MISS_SUFFIX " #refetched-without-the-key"
/* The same note for access tokens presented by users (grants = token):
 * their kid is the presenter's choice, so their misses never hold back
 * the refetch an ID token from the token endpoint needs after a key
 * rotation. */
#define JWKS_MISS_SUFFIX_AT " #refetched-without-the-key-access"

int
login_init(struct login *lg, const struct cfg *cfg,
    const struct log_ctx *log, const char *pam_user)
{
	struct http_opts ho = { 0 };
	int rc;

	memset(lg, 0, sizeof(*lg));
	lg->cfg = cfg;
	lg->log = log;
	lg->why = "internal";
	lg->deadline_ms = clock_mono_ms() + cfg->timeout * 1000;
	rc = identity_format(cfg->username_format, pam_user, &lg->user);
	if (rc != 0)
		return rc;
	if (cfg->cache_dir != NULL) {
		const char *why = NULL;

		if (cache_dir_check(cfg->cache_dir, &why) == 0)
			lg->cache_dir = cfg->cache_dir;
		else
			log_msg(log, LOG_WARNING, "not caching metadata: %s",
			    why);
	}
	ho.ca_file = cfg->ca_file;
	ho.ca_path = cfg->ca_path;
	ho.proxy = cfg->proxy;
	ho.deadline_ms = lg->deadline_ms;
	ho.connect_timeout_ms = cfg->connect_timeout * 1000;
	if (cfg_auth_mtls(cfg)) {
		ho.client_cert = cfg->client_cert;
		ho.client_chain = cfg->client_chain;
		ho.client_key = asrt_key_pkey(cfg->client_key);
	}
	rc = http_new(&ho, &lg->http);
	if (rc != 0)
		login_clear(lg);
	return rc;
}

void
login_clear(struct login *lg)
{
	if (lg == NULL)
		return;
	http_free(&lg->http);
	endpoints_clear(&lg->ep);
	free(lg->user);
	claims_free(&lg->claims);
	free(lg->scope);
	free(lg->audit_sub);
	free(lg->audit_token);
	for (size_t i = 0; i < lg->nmembers; i++)
		free(lg->members[i].value);
	free(lg->members);
	memset(lg, 0, sizeof(*lg));
}

/*
 * Provider metadata (discovery, JWKS) through the on-disk cache: a fresh
 * entry costs no request; otherwise GET it (force: even when fresh).  When
 * the GET fails, an entry that is stale but younger than CACHE_MAX_STALE
 * still serves, so an outage of the metadata endpoints does not stop
 * logins.  *from_net tells the caller to store the body once it has been
 * validated (meta_store) with the server's max-age (-1 when none).
 * Returns 0 or OA2_ERR_*.
 */
static int
meta_fetch(struct login *lg, const char *url, bool force,
    struct cache_entry *out, bool *from_net, long *max_age)
{
	struct http_response resp = { 0 };
	struct cache_entry e = { 0 };
	time_t now = clock_wall();
	bool have;
	int rc;

	*from_net = false;
	*max_age = -1;
	memset(out, 0, sizeof(*out));
	have = lg->cache_dir != NULL &&
	    cache_get(lg->cache_dir, url, &e) == 0;
	if (have && !force && now < e.expires && e.fetched <= now + 60) {
		*out = e;
		return 0;
	}
	lg->requests++;
	rc = http_get(lg->http, url, NULL, &resp, &lg->why);
	if (rc == 0 && resp.status == 200) {
		out->body = resp.body;
		out->len = resp.len;
		out->fetched = now;
		out->expires = now;
		*max_age = resp.max_age;
		resp.body = NULL;
		*from_net = true;
		cache_entry_clear(&e);
		return 0;
	}
	if (rc == 0) {
		lg->why = "metadata_http_status";
		rc = OA2_ERR_UNAVAIL;
	}
	http_response_clear(&resp);
	if (have && now - e.fetched < CACHE_MAX_STALE) {
		log_msg(lg->log, LOG_WARNING, "provider metadata unavailable "
		    "(%s): using the cached copy from %lld s ago", lg->why,
		    (long long)(now - e.fetched));
		*out = e;
		return 0;
	}
	cache_entry_clear(&e);
	return rc;
}

/* Keep a validated metadata document for later logins. */
static void
meta_store(struct login *lg, const char *url, const struct cache_entry *e,
    long max_age)
{
	if (lg->cache_dir == NULL)
		return;
	if (cache_put(lg->cache_dir, url, e->body, e->len, max_age,
	    e->fetched) != 0)
		log_debug(lg->log, "could not write the metadata cache");
}

/* OpenID Connect Discovery, through the cache. */
static int
discover(struct login *lg)
{
	struct cache_entry e = { 0 };
	bool from_net = false;
	long max_age = -1;
	char *url;
	int rc;

	url = discovery_url(lg->cfg->issuer);
	if (url == NULL)
		return OA2_ERR_NOMEM;
	rc = meta_fetch(lg, url, false, &e, &from_net, &max_age);
	if (rc == 0)
		rc = discovery_parse(lg->cfg->issuer, e.body, e.len, &lg->ep,
		    &lg->why);
	if (rc == 0 && from_net)
		meta_store(lg, url, &e, max_age);
	cache_entry_clear(&e);
	free(url);
	return rc;
}

/* A configured endpoint replaces the discovered one. */
static int
prefer(char **slot, const char *configured)
{
	if (configured == NULL)
		return 0;
	free(*slot);
	*slot = strdup(configured);
	return *slot == NULL ? OA2_ERR_NOMEM : 0;
}

/* Replace *slot with the alias, when there is one. */
static void
use_alias(char **slot, char **alias)
{
	if (*alias == NULL)
		return;
	free(*slot);
	*slot = *alias;
	*alias = NULL;
}

int
login_endpoints(struct login *lg)
{
	const struct cfg *c = lg->cfg;
	bool need_discovery = false;
	int rc = 0;

	if (lg->have_ep)
		return 0;
	/* A plain OAuth 2 provider: configured endpoints only (cfg_finish
	 * checked they are there), no discovery, no JWKS. */
	if (cfg_plain_oauth2(c)) {
		rc = prefer(&lg->ep.token, c->token_endpoint);
		if (rc == 0)
			rc = prefer(&lg->ep.device,
			    c->device_authorization_endpoint);
		if (rc == 0)
			lg->have_ep = 1;
		return rc;
	}
	for (int i = 0; i < c->ngrants; i++) {
		if (c->grants[i] == CFG_GRANT_DEVICE &&
		    c->device_authorization_endpoint == NULL)
			need_discovery = true;
		/* A token grant that may introspect. */
		if (c->grants[i] == CFG_GRANT_TOKEN &&
		    c->token_introspection != CFG_INTROSPECT_NEVER &&
		    c->introspection_endpoint == NULL)
			need_discovery = true;
	}
	/* Discovery only when something we need is not configured. */
	if (c->token_endpoint == NULL || c->jwks_uri == NULL ||
	    need_discovery) {
		rc = discover(lg);
		if (rc != 0) {
			log_debug(lg->log, "discovery failed: %s", lg->why);
			return rc;
		}
	}
	/* RFC 8705 §5: a client authenticating with its certificate uses
	 * the provider's mTLS aliases (configured endpoints still win). */
	if (cfg_auth_mtls(c)) {
		use_alias(&lg->ep.token, &lg->ep.mtls_token);
		use_alias(&lg->ep.device, &lg->ep.mtls_device);
		use_alias(&lg->ep.introspection, &lg->ep.mtls_introspection);
	}
	rc = prefer(&lg->ep.token, c->token_endpoint);
	if (rc == 0)
		rc = prefer(&lg->ep.jwks, c->jwks_uri);
	if (rc == 0)
		rc = prefer(&lg->ep.userinfo, c->userinfo_endpoint);
	if (rc == 0)
		rc = prefer(&lg->ep.device, c->device_authorization_endpoint);
	if (rc == 0)
		rc = prefer(&lg->ep.introspection, c->introspection_endpoint);
	if (rc == 0)
		lg->have_ep = 1;
	return rc;
}

/*
 * private_key_jwt (OpenID Connect Core §9, RFC 7523 §2.2): a fresh client
 * assertion for this request, client_id beside it (§3.1 allows it; some
 * providers route by it).  The assertion is wiped once it is in f.
 *
 * Whoever receives an assertion can present it at the token endpoint
 * until it expires (ASRT_LIFETIME; RFC 7523 §3 only asks the provider to
 * refuse a jti it has seen, and the audience is the token endpoint or
 * the issuer whichever endpoint it is sent to).  So it goes only to an
 * endpoint on the token endpoint's origin (RFC 6454: scheme, host,
 * port): a device authorization or introspection endpoint elsewhere is
 * refused, reason assertion_origin, OA2_ERR_CONFIG, nothing sent.
 */
static int
add_assertion(struct login *lg, const char *url, struct form *f)
{
	const struct cfg *c = lg->cfg;
	const char *aud;
	char *jwt = NULL;
	char eu[256], et[256];
	int rc;

	if (lg->ep.token != NULL && url != lg->ep.token &&
	    !http_same_origin(url, lg->ep.token)) {
		lg->why = "assertion_origin";
		log_msg(lg->log, LOG_ERR, "not sending the client assertion "
		    "to %s: not on the origin (scheme, host, port) of the "
		    "token endpoint %s, where it could be replayed",
		    log_escape(url, eu, sizeof(eu)),
		    log_escape(lg->ep.token, et, sizeof(et)));
		return OA2_ERR_CONFIG;
	}
	aud = c->client_assertion_aud == CFG_AUD_ISSUER ? c->issuer :
	    lg->ep.token != NULL ? lg->ep.token : url;
	rc = asrt_make(c->client_key, c->client_key_id, c->client_id, aud,
	    clock_wall(), ASRT_LIFETIME, &jwt);
	if (rc != 0) {
		lg->why = rc == OA2_ERR_NOMEM ? "nomem" : "client_assertion";
		log_msg(lg->log, LOG_ERR, "cannot sign the client assertion "
		    "with %s",
		    c->client_key_file);
		return rc;
	}
	form_add(f, "client_id", c->client_id);
	form_add(f, "client_assertion_type", ASRT_TYPE);
	form_add(f, "client_assertion", jwt);
	secret_free(&jwt);
	return f->err;
}

int
login_post(struct login *lg, const char *url, struct form *f,
    struct http_response *resp)
{
	const struct cfg *c = lg->cfg;
	struct form id = { 0 }, secret = { 0 };
	const char *bu = NULL, *bp = NULL;
	int rc;

	memset(resp, 0, sizeof(*resp));
	switch (c->client_auth) {
	case CFG_AUTH_BASIC:
		/* RFC 6749 §2.3.1: form-encode both, then Basic. */
		form_encode(&id, c->client_id, strlen(c->client_id));
		form_encode(&secret, c->client_secret,
		    strlen(c->client_secret));
		bu = id.buf;
		bp = secret.buf;
		break;
	case CFG_AUTH_POST:
		form_add(f, "client_id", c->client_id);
		form_add(f, "client_secret", c->client_secret);
		break;
	case CFG_AUTH_PRIVATE_KEY_JWT:
		rc = add_assertion(lg, url, f);
		if (rc != 0)
			goto out;
		break;
	default:
		form_add(f, "client_id", c->client_id);
		break;
	}
	rc = f->err != 0 ? f->err : id.err != 0 ? id.err : secret.err;
	if (rc == 0) {
		lg->requests++;
		rc = http_post_form(lg->http, url, f->buf, f->len, bu, bp,
		    resp, &lg->why);
	}
out:
	form_clear(&id);
	form_clear(&secret);
	form_clear(f);
	return rc;
}

int
login_token_request(struct login *lg, const char *url, struct form *f,
    struct token_response *tok)
{
	struct http_response resp = { 0 };
	int rc;

	lg->slow_interval = -1;
	memset(tok, 0, sizeof(*tok));
	tok->expires_in = -1;
	rc = login_post(lg, url, f, &resp);
	if (rc == 0 && resp.status == 200 && lg->cfg->errors_with_200)
		rc = token_classify_200(resp.body, resp.len, lg->errcode,
		    sizeof(lg->errcode), &lg->slow_interval, &lg->why);
	else if (rc == 0)
		rc = 1;
	if (rc == 1) {
		rc = token_parse(resp.status, resp.body, resp.len, tok,
		    lg->errcode, sizeof(lg->errcode), &lg->why);
		log_debug(lg->log, "token endpoint: status=%ld result=%s",
		    resp.status, lg->why);
	}
	http_response_clear(&resp);
	return rc;
}

/* Parse a JWKS document and verify the token with it: an ID token for
 * this client, or (access) an access token for token_audience. */
static int
verify_with(struct login *lg, const struct cache_entry *e,
    const char *token, bool access, struct claims **out, bool *parsed)
{
	struct jwks *keys = NULL;
	struct jwt_expect ex = { 0 };
	struct jwt_at_expect ax = { 0 };
	int rc;

	*parsed = false;
	rc = jwks_parse(e->body, e->len, &keys);
	if (rc != 0) {
		lg->why = "jwks_malformed";
		return rc;
	}
	*parsed = true;
	if (access) {
		ax.issuer = lg->cfg->issuer;
		ax.audience = lg->cfg->token_audience;
		ax.now = clock_wall();
		ax.leeway = LOGIN_LEEWAY;
		rc = jwt_verify_access(token, keys, &ax, out, &lg->why);
	} else {
		ex.issuer = lg->cfg->issuer;
		ex.client_id = lg->cfg->client_id;
		ex.now = clock_wall();
		ex.leeway = LOGIN_LEEWAY;
		rc = jwt_verify(token, keys, &ex, out, &lg->why);
	}
	jwks_free(&keys);
	return rc;
}

/*
 * The note that a JWKS refetch for an unknown kid did not find it, kept
 * JWKS_REFETCH_MIN seconds in the cache directory, one for ID tokens and
 * one for presented access tokens (access).  jwks_miss_key returns the
 * note's cache key (malloc'd) or NULL.
 */
static char *
jwks_miss_key(const char *jwks_url, bool access)
{
	const char *suffix = access ? JWKS_MISS_SUFFIX_AT : JWKS_MISS_SUFFIX;
	size_t n = strlen(jwks_url), k = strlen(suffix);
	char *key = malloc(n + k + 1);

	if (key == NULL)
		return NULL;
	memcpy(key, jwks_url, n);
	memcpy(key + n, suffix, k + 1);
	return key;
}

/* True while a refetch for an unknown kid found no such key (the note is
 * fresh).  Without a cache directory there is no note: every login with
 * an unknown kid may refetch once. */
static bool
jwks_recent_miss(struct login *lg, bool access)
{
	struct cache_entry n = { 0 };
	char *key;
	bool fresh = false;

	if (lg->cache_dir == NULL)
		return false;
	key = jwks_miss_key(lg->ep.jwks, access);
	if (key == NULL)
		return true;    /* out of memory: do not add a request */
	if (cache_get(lg->cache_dir, key, &n) == 0) {
		time_t now = clock_wall();

		fresh = now < n.expires && n.fetched <= now + 60;
	}
	cache_entry_clear(&n);
	free(key);
	return fresh;
}

static void
jwks_note_miss(struct login *lg, bool access)
{
	static const char body[] = "JWKS refetched for an unknown kid: "
	    "not found\n";
	char *key;

	if (lg->cache_dir == NULL)
		return;
	key = jwks_miss_key(lg->ep.jwks, access);
	if (key == NULL)
		return;
	if (cache_put(lg->cache_dir, key, body, sizeof(body) - 1,
	    JWKS_REFETCH_MIN, clock_wall()) != 0)
		log_debug(lg->log, "could not write the metadata cache");
	free(key);
}

/*
 * Verify the ID token (access: an access token presented by the user,
 * grants = token) with the provider's keys (cached).  A token signed
 * with a key the cached set does not have makes us fetch the JWKS again:
 * the token came from the token endpoint a moment ago, so its key may be
 * newer than our copy (key rotation; Dex, for one, signs with a new key
 * the moment it makes it, and a Dex with in-memory storage makes one at
 * every start).  When that refetch does not have the key either, unknown
 * kids refetch again only JWKS_REFETCH_MIN seconds later.  Presented
 * access tokens, whose kid the presenter chooses, have a note of their
 * own (one refetch a minute at most for them), so a made-up kid never
 * delays the refetch an ID token needs after a real rotation.
 */
static int
verify_jwt(struct login *lg, const char *token, bool access,
    struct claims **out)
{
	struct cache_entry e = { 0 };
	bool from_net = false, parsed = false;
	long max_age = -1;
	int rc;

	rc = meta_fetch(lg, lg->ep.jwks, false, &e, &from_net, &max_age);
	if (rc != 0)
		return rc;
	rc = verify_with(lg, &e, token, access, out, &parsed);
	if (rc == OA2_ERR_TOKEN && !from_net && lg->why != NULL &&
	    strcmp(lg->why, "no_key") == 0 && !jwks_recent_miss(lg, access)) {
		log_debug(lg->log, "unknown signing key: fetching the JWKS "
		    "again");
		cache_entry_clear(&e);
		parsed = false;
		rc = meta_fetch(lg, lg->ep.jwks, true, &e, &from_net,
		    &max_age);
		if (rc == 0)
			rc = verify_with(lg, &e, token, access, out,
			    &parsed);
		else
			lg->why = "no_key";
		if (rc == OA2_ERR_UNAVAIL)
			rc = OA2_ERR_TOKEN;
		if (rc == OA2_ERR_TOKEN && lg->why != NULL &&
		    strcmp(lg->why, "no_key") == 0)
			jwks_note_miss(lg, access);
	}
	/* A set that parsed is worth keeping, even if this token was bad. */
	if (from_net && parsed)
		meta_store(lg, lg->ep.jwks, &e, max_age);
	cache_entry_clear(&e);
	return rc;
}

/* Ask the userinfo endpoint (OpenID Connect Core §5.3), or the user API
 * of a plain OAuth 2 provider (user_endpoint), who this is. */
static int
fetch_userinfo(struct login *lg, const char *access_token,
    struct claims **out)
{
	struct http_response resp = { 0 };
	const char *sub = NULL;
	const char *url = cfg_plain_oauth2(lg->cfg) ?
	    lg->cfg->user_endpoint : lg->ep.userinfo;
	int64_t id = 0;
	int rc;

	*out = NULL;
	if (url == NULL) {
		lg->why = "no_identity";
		return OA2_ERR_TOKEN;
	}
	lg->requests++;
	rc = http_get(lg->http, url, access_token, &resp, &lg->why);
	if (rc != 0)
		goto out;
	/* The classes of token_classify(): the access token just issued
	 * refused is a refusal; throttling is an answer (never offline);
	 * anything else unexpected could not be asked. */
	if (resp.status == 401 || resp.status == 403) {
		lg->why = "userinfo_refused";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	if (resp.status == 429) {
		lg->why = "http_429";
		rc = OA2_ERR_CLIENT;
		goto out;
	}
	if (resp.status != 200) {
		lg->why = "userinfo_http_status";
		rc = OA2_ERR_UNAVAIL;
		goto out;
	}
	rc = claims_parse(resp.body, resp.len, out);
	if (rc == 0 && cfg_plain_oauth2(lg->cfg)) {
		/* The stable identity: a positive integer (a login can be
		 * renamed; the audit line carries the id). */
		if (claims_get_int64(*out, lg->cfg->user_id_claim, &id) != 0 ||
		    id <= 0) {
			claims_free(out);
			rc = OA2_ERR_BAD_RESPONSE;
		}
	} else if (rc == 0 && claims_get_string(*out, "sub", &sub) != 0) {
		claims_free(out);
		rc = OA2_ERR_BAD_RESPONSE;
	}
	if (rc != 0 && rc != OA2_ERR_NOMEM)
		lg->why = "userinfo_malformed";
out:
	http_response_clear(&resp);
	return rc;
}

/* The numeric id of a plain provider's user as the audit subject (the
 * audit line's sub=, for an allowed and for a refused login alike). */
static int
plain_subject(struct login *lg, const struct claims *c)
{
	char buf[IDENTITY_SUBJECT_MAX];
	const char *sub = NULL;

	if (identity_subject(c, lg->cfg->user_id_claim, buf, sizeof(buf),
	    &sub) != 0)
		return OA2_ERR_BAD_RESPONSE;
	free(lg->audit_sub);
	lg->audit_sub = strdup(sub);
	return lg->audit_sub == NULL ? OA2_ERR_NOMEM : 0;
}

int
login_verify(struct login *lg, const struct token_response *tok)
{
	struct claims *idc = NULL, *uic = NULL;
	const char *s1 = NULL, *s2 = NULL, *v = NULL;
	int rc;

	if (tok->id_token != NULL && !cfg_plain_oauth2(lg->cfg)) {
		rc = verify_jwt(lg, tok->id_token, false, &idc);
		if (rc != 0)
			goto out;
		/* The ID token may carry only sub: then ask userinfo, and
		 * insist it speaks of the same subject (Core §5.3.2). */
		if (claims_get_string(idc, lg->cfg->username_claim, &v) ==
		    OA2_ERR_NOTFOUND && lg->ep.userinfo != NULL) {
			rc = fetch_userinfo(lg, tok->access_token, &uic);
			if (rc != 0)
				goto out;
			if (claims_get_string(idc, "sub", &s1) != 0 ||
			    claims_get_string(uic, "sub", &s2) != 0 ||
			    strcmp(s1, s2) != 0) {
				lg->why = "userinfo_sub_mismatch";
				rc = OA2_ERR_TOKEN;
				goto out;
			}
			claims_free(&idc);
			idc = uic;
			uic = NULL;
		}
	} else {
		rc = fetch_userinfo(lg, tok->access_token, &idc);
		if (rc != 0)
			goto out;
	}
	if (cfg_plain_oauth2(lg->cfg)) {
		rc = plain_subject(lg, idc);
		if (rc != 0)
			goto out;
	}
	rc = identity_bind(idc, lg->cfg->username_claim, lg->user, &lg->why);
	if (rc != 0) {
		/* A genuine token for someone else: say whose in the audit. */
		const char *sub = NULL;

		if (!cfg_plain_oauth2(lg->cfg) &&
		    claims_get_string(idc, "sub", &sub) == 0) {
			free(lg->audit_sub);
			lg->audit_sub = strdup(sub);
		}
		goto out;
	}
	/* Organisations and teams, when the mapping or a gate names them. */
	if (cfg_plain_oauth2(lg->cfg)) {
		rc = membership_fetch(lg, tok->access_token);
		if (rc != 0)
			goto out;
	}
	free(lg->scope);
	/* RFC 6749 §5.1: an omitted scope is the scope requested. */
	lg->scope = strdup(tok->scope != NULL ? tok->scope : lg->cfg->scope);
	if (lg->scope == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	/* GitHub lists the granted scopes with commas. */
	if (cfg_plain_oauth2(lg->cfg)) {
		for (char *p = lg->scope; *p != '\0'; p++) {
			if (*p == ',')
				*p = ' ';
		}
	}
	claims_free(&lg->claims);
	lg->claims = idc;
	idc = NULL;
	lg->why = "ok";
out:
	claims_free(&idc);
	claims_free(&uic);
	return rc;
}

int
login_verify_access_jwt(struct login *lg, const char *token,
    struct claims **out)
{
	*out = NULL;
	if (lg->cfg->token_audience == NULL) {
		lg->why = "token_audience_missing";
		return OA2_ERR_CONFIG;
	}
	return verify_jwt(lg, token, true, out);
}

int
login_jwks_check(struct login *lg, size_t *nkeys)
{
	struct cache_entry e = { 0 };
	struct jwks *keys = NULL;
	bool from_net = false;
	long max_age = -1;
	int rc;

	*nkeys = 0;
	rc = login_endpoints(lg);
	if (rc != 0)
		return rc;
	rc = meta_fetch(lg, lg->ep.jwks, false, &e, &from_net, &max_age);
	if (rc != 0)
		return rc;
	rc = jwks_parse(e.body, e.len, &keys);
	if (rc != 0) {
		lg->why = "jwks_malformed";
	} else {
		*nkeys = jwks_count(keys);
		lg->why = "ok";
		if (*nkeys == 0) {
			lg->why = "jwks_no_keys";
			rc = OA2_ERR_BAD_RESPONSE;
		}
	}
	if (rc == 0 && from_net)
		meta_store(lg, lg->ep.jwks, &e, max_age);
	jwks_free(&keys);
	cache_entry_clear(&e);
	return rc;
}
