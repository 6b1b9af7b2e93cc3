/*
 * cfg.c - configuration file and module arguments.
 *
 * The file is opened with O_NOFOLLOW and must be a regular, root-owned file
 * that is not group- or world-writable, at most CFG_MAX_FILE bytes.  An
 * unknown key, a bad value or an unsafe file is an error naming the key and
 * file:line, never a warning.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "assertion.h"
#include "cache.h"
#include "cfg.h"
#include "errors.h"
#include "fsutil.h"
#include "offline.h"
#include "outage.h"
#include "secret.h"
#include "trust.h"

#define SECRET_FILE_MAX 4096
#define KEY_FILE_MAX (16 * 1024)

static char *trim(char *s);

enum opt_type {
	OPT_URL, OPT_STR, OPT_SECRET, OPT_LONG, OPT_BOOL, OPT_AUTH, OPT_GRANTS,
	OPT_OTP, OPT_REQUIRED, OPT_CLAIMS, OPT_INTROSPECT, OPT_AUD
};

struct opt {
	const char *key;
	enum opt_type type;
	size_t off;            /* offset of the member in struct cfg */
	long min, max;         /* OPT_LONG range */
	bool arg_only;         /* only as a module argument */
};

#define M(f) offsetof(struct cfg, f)

static const struct opt opts[] = {
	{ "issuer",             OPT_URL,    M(issuer),             0, 0, false },
	{ "token_endpoint",     OPT_URL,    M(token_endpoint),     0, 0, false },
	{ "jwks_uri",           OPT_URL,    M(jwks_uri),           0, 0, false },
	{ "userinfo_endpoint",  OPT_URL,    M(userinfo_endpoint),  0, 0, false },
	{ "client_id",          OPT_STR,    M(client_id),          0, 0, false },
	{ "client_secret",      OPT_SECRET, M(client_secret),      0, 0, false },
	{ "client_secret_file", OPT_STR,    M(client_secret_file), 0, 0, false },
	{ "client_auth",        OPT_AUTH,   M(client_auth),        0, 0, false },
	{ "client_key_file",    OPT_STR,    M(client_key_file),    0, 0, false },
	{ "client_key_alg",     OPT_STR,    M(client_key_alg),     0, 0, false },
	{ "client_key_id",      OPT_STR,    M(client_key_id),      0, 0, false },
	{ "client_cert_file",   OPT_STR,    M(client_cert_file),   0, 0, false },
	{ "client_assertion_aud", OPT_AUD,  M(client_assertion_aud), 0, 0,
	    false },
	{ "scope",              OPT_STR,    M(scope),              0, 0, false },
	{ "username_claim",     OPT_STR,    M(username_claim),     0, 0, false },
	{ "username_format",    OPT_STR,    M(username_format),    0, 0, false },
	{ "ca_file",            OPT_STR,    M(ca_file),            0, 0, false },
	{ "ca_path",            OPT_STR,    M(ca_path),            0, 0, false },
	{ "proxy",              OPT_URL,    M(proxy),              0, 0, false },
	{ "timeout",            OPT_LONG,   M(timeout),            1, 300, false },
	{ "connect_timeout",    OPT_LONG,   M(connect_timeout),    1, 300, false },
	{ "grants",             OPT_GRANTS, M(grants),             0, 0, false },
	{ "device_authorization_endpoint", OPT_URL,
	    M(device_authorization_endpoint), 0, 0, false },
	{ "token_audience",     OPT_STR,    M(token_audience),     0, 0, false },
	{ "token_clients",      OPT_STR,    M(token_clients),      0, 0, false },
	{ "token_introspection", OPT_INTROSPECT, M(token_introspection), 0, 0,
	    false },
	{ "introspection_endpoint", OPT_URL, M(introspection_endpoint), 0, 0,
	    false },
	{ "device_timeout",     OPT_LONG,   M(device_timeout),     10, 3600, false },
	{ "qr_code",            OPT_BOOL,   M(qr_code),            0, 0, false },
	{ "otp",                OPT_OTP,    M(otp),                0, 0, false },
	{ "otp_param",          OPT_STR,    M(otp_param),          0, 0, false },
	{ "otp_append",         OPT_BOOL,   M(otp_append),         0, 0, false },
	{ "cache_dir",          OPT_STR,    M(cache_dir),          0, 0, false },
	{ "offline_cache",      OPT_BOOL,   M(offline_cache),      0, 0, false },
	{ "offline_max_age",    OPT_LONG,   M(offline_max_age),    60, 31536000,
	    false },
	{ "offline_dir",        OPT_STR,    M(offline_dir),        0, 0, false },
	{ "outage_window",      OPT_LONG,   M(outage_window),      0,
	    OUTAGE_MAX_WINDOW, false },
	{ "debug",              OPT_BOOL,   M(debug),              0, 0, false },
	{ "audit_hash_sub",     OPT_BOOL,   M(audit_hash_sub),     0, 0, false },
	{ "use_first_pass",     OPT_BOOL,   M(use_first_pass),     0, 0, true },
	{ "try_first_pass",     OPT_BOOL,   M(try_first_pass),     0, 0, true },
	{ "groups_claim",       OPT_STR,    M(groups_claim),       0, 0, false },
	{ "required_scopes",    OPT_REQUIRED, M(required),         0, 0, false },
	{ "required_claims",    OPT_CLAIMS, M(required_claims),    0, 0, false },
	{ "allow_gid0",         OPT_BOOL,   M(allow_gid0),         0, 0, false },
	{ "group_sync",         OPT_BOOL,   M(group_sync),         0, 0, false },
	{ "state_dir",          OPT_STR,    M(state_dir),          0, 0, false },
	{ "min_uid",            OPT_LONG,   M(min_uid),            1, 2147483647,
	    false },
	{ "provision",          OPT_BOOL,   M(provision),          0, 0, false },
	{ "uid_claim",          OPT_STR,    M(uid_claim),          0, 0, false },
	{ "provision_max_age",  OPT_LONG,   M(provision_max_age),  3600,
	    315360000, false },
	{ "provider",           OPT_STR,    M(provider),           0, 0, false },
	{ "github_url",         OPT_URL,    M(github_url),         0, 0, false },
	{ "user_endpoint",      OPT_URL,    M(user_endpoint),      0, 0, false },
	{ "user_id_claim",      OPT_STR,    M(user_id_claim),      0, 0, false },
	{ "errors_with_200",    OPT_BOOL,   M(errors_with_200),    0, 0, false },
	{ "orgs_endpoint",      OPT_URL,    M(orgs_endpoint),      0, 0, false },
	{ "teams_endpoint",     OPT_URL,    M(teams_endpoint),     0, 0, false },
};

const char *const cfg_keys[] = {
	"config", "issuer", "token_endpoint", "jwks_uri", "userinfo_endpoint",
	"client_id", "client_secret", "client_secret_file", "client_auth",
	"client_key_file", "client_key_alg", "client_key_id",
	"client_assertion_aud", "client_cert_file",
	"scope", "username_claim", "username_format", "ca_file", "ca_path",
	"proxy",
	"timeout", "connect_timeout", "grants", "device_authorization_endpoint",
	"device_timeout", "qr_code", "otp", "otp_param", "otp_append",
	"cache_dir", "offline_cache", "offline_max_age", "offline_dir",
	"outage_window",
	"debug", "use_first_pass", "try_first_pass", "groups_claim",
	"required_scopes", "allow_gid0", "group_sync", "state_dir",
	"audit_hash_sub", "required_claims", "min_uid",
	"provision", "uid_claim", "provision_max_age",
	"provider", "github_url", "user_endpoint", "user_id_claim",
	"errors_with_200", "orgs_endpoint", "teams_endpoint",
	"token_audience", "token_introspection", "introspection_endpoint",
	"token_clients",
	NULL
};

const struct cfg_source_info cfg_sources[CFG_SRC_COUNT] = {
	[CFG_SRC_SCOPE] = { "scope", "a granted scope", true },
	[CFG_SRC_CLAIM] = { "claim", "a value of groups_claim", false },
	[CFG_SRC_ORG] = { "org", "an organisation of orgs_endpoint", false },
	[CFG_SRC_TEAM] = { "team", "a team (ORG/SLUG) of teams_endpoint",
	    false },
};

const char *
cfg_source_name(enum cfg_source src)
{
	if ((unsigned)src >= CFG_SRC_COUNT)
		return "?";
	return cfg_sources[src].prefix;
}

int
cfg_source_parse(const char *s, size_t len, enum cfg_source *src,
    size_t *value_off)
{
	for (unsigned i = 0; i < CFG_SRC_COUNT; i++) {
		size_t pl = strlen(cfg_sources[i].prefix);

		if (len > pl && memcmp(s, cfg_sources[i].prefix, pl) == 0 &&
		    s[pl] == ':') {
			*src = (enum cfg_source)i;
			*value_off = pl + 1;
			return 0;
		}
	}
	return -1;
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return OA2_ERR_CONFIG;
}

bool
cfg_allows(const struct cfg *c, enum cfg_grant g)
{
	for (int i = 0; i < c->ngrants; i++) {
		if (c->grants[i] == g)
			return true;
	}
	return false;
}

struct cfg *
cfg_new(void)
{
	struct cfg *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->timeout = 10;
	c->connect_timeout = 5;
	c->grants[0] = CFG_GRANT_PASSWORD;
	c->ngrants = 1;
	c->device_timeout = 110;
	c->qr_code = true;
	c->offline_max_age = 7 * 86400;
	c->min_uid = 1000;
	c->outage_window = OUTAGE_DEFAULT_WINDOW;
	c->provision_max_age = CFG_PROVISION_MAX_AGE;
	return c;
}

void
cfg_free(struct cfg **cp)
{
	struct cfg *c;

	if (cp == NULL || *cp == NULL)
		return;
	c = *cp;
	free(c->path);
	free(c->issuer);
	free(c->token_endpoint);
	free(c->jwks_uri);
	free(c->userinfo_endpoint);
	free(c->client_id);
	secret_free(&c->client_secret);
	free(c->client_secret_file);
	free(c->client_key_file);
	free(c->client_key_alg);
	free(c->client_key_id);
	asrt_key_free(&c->client_key);
	free(c->client_cert_file);
	asrt_cert_free(&c->client_cert, &c->client_chain);
	free(c->scope);
	free(c->username_claim);
	free(c->username_format);
	free(c->ca_file);
	free(c->ca_path);
	free(c->proxy);
	free(c->device_authorization_endpoint);
	free(c->token_audience);
	free(c->token_clients);
	free(c->introspection_endpoint);
	free(c->otp_param);
	free(c->cache_dir);
	free(c->offline_dir);
	free(c->groups_claim);
	for (size_t i = 0; i < c->nrequired; i++)
		free(c->required[i].value);
	free(c->required);
	for (size_t i = 0; i < c->nrequired_claims; i++) {
		free(c->required_claims[i].name);
		free(c->required_claims[i].value);
	}
	free(c->required_claims);
	free(c->state_dir);
	for (size_t i = 0; i < c->ngroup_map; i++) {
		free(c->group_map[i].value);
		for (size_t j = 0; j < c->group_map[i].ngroups; j++)
			free(c->group_map[i].groups[j]);
		free(c->group_map[i].groups);
	}
	free(c->group_map);
	free(c->uid_claim);
	free(c->provider);
	free(c->github_url);
	free(c->user_endpoint);
	free(c->user_id_claim);
	free(c->orgs_endpoint);
	free(c->teams_endpoint);
	secret_wipe(c, sizeof(*c));
	free(c);
	*cp = NULL;
}

/* True when s is an https:// URL with a host and no characters that have
 * no business in a configured URL (white space, controls). */
static bool
is_https_url(const char *s)
{
	if (strncmp(s, "https://", 8) != 0 || s[8] == '\0' || s[8] == '/')
		return false;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	}
	return true;
}

static int
parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0 || strcmp(v, "on") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0 || strcmp(v, "off") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

static int
parse_long(const char *v, long min, long max, long *out)
{
	char *end = NULL;
	long n;

	if (*v == '\0' || !isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == NULL || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* "password device", "token password": each grant once, at most
 * CFG_MAX_GRANTS. */
static int
parse_grants(struct cfg *c, const char *v)
{
	enum cfg_grant g[CFG_MAX_GRANTS];
	int n = 0;
	const char *p = v;

	while (*p != '\0') {
		size_t len;
		enum cfg_grant one;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, " \t,");
		if (len == 8 && strncmp(p, "password", 8) == 0)
			one = CFG_GRANT_PASSWORD;
		else if (len == 6 && strncmp(p, "device", 6) == 0)
			one = CFG_GRANT_DEVICE;
		else if (len == 5 && strncmp(p, "token", 5) == 0)
			one = CFG_GRANT_TOKEN;
		else
			return -1;
		for (int i = 0; i < n; i++) {
			if (g[i] == one)
				return -1;
		}
		if (n == CFG_MAX_GRANTS)
			return -1;
		g[n++] = one;
		p += len;
	}
	if (n == 0)
		return -1;
	memcpy(c->grants, g, sizeof(g[0]) * (size_t)n);
	c->ngrants = n;
	return 0;
}

/* Replace the string member at *slot with a copy of v. */
static int
set_string(char **slot, const char *v, bool secret)
{
	char *copy = secret_strdup(v);

	if (copy == NULL)
		return OA2_ERR_NOMEM;
	if (secret)
		secret_free(slot);
	else
		free(*slot);
	*slot = copy;
	return 0;
}

/*
 * "scope:V (a granted scope) or claim:V (a value of groups_claim)": what
 * to write instead of the unprefixed v (its first n bytes), for errors.
 */
static const char *
source_hint(const char *v, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < CFG_SRC_COUNT && o < len; i++) {
		int w = snprintf(buf + o, len - o, "%s%s:%.*s (%s)",
		    i == 0 ? "" : " or ",
		    cfg_sources[i].prefix, (int)n, v, cfg_sources[i].what);

		if (w < 0)
			break;
		o += (size_t)w;
	}
	return buf;
}

/*
 * Check the VALUE of a sourced entry: not empty; a scope is a scope-token
 * (RFC 6749 §3.3: %x21 / %x23-5B / %x5D-7E); any other value has no
 * control characters.  Returns NULL or what is wrong.
 */
static const char *
bad_source_value(enum cfg_source src, const char *v, size_t n)
{
	if (n == 0)
		return "an empty value";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (cfg_sources[src].scope_token && (ch <= 0x20 ||
		    ch >= 0x7f || ch == '"' || ch == '\\'))
			return "a character a scope cannot hold (RFC 6749 "
			    "\xc2\xa7" "3.3: no space, '\"' or '\\')";
		if (ch < 0x20 || ch == 0x7f)
			return "a control character";
	}
	return NULL;
}

/* required_scopes: "scope:X claim:Y ...", each entry sourced, all needed.
 * Replaces an earlier list only when the whole value is good. */
static int
parse_required(struct cfg *c, const char *v, const char *origin, char *err,
    size_t errlen)
{
	struct cfg_value *list = NULL;
	size_t n = 0;
	char hint[CFG_ERR_LEN / 2];
	int rc = 0;

	while (*v != '\0' && rc == 0) {
		struct cfg_value *grown;
		enum cfg_source src;
		size_t len, off;
		const char *bad;

		while (*v == ' ' || *v == '\t')
			v++;
		len = strcspn(v, " \t");
		if (len == 0)
			break;
		if (cfg_source_parse(v, len, &src, &off) != 0) {
			rc = fail(err, errlen, "%s: required_scopes entry "
			    "\"%.*s\" must name its source: write %s", origin,
			    (int)len, v, source_hint(v, len, hint,
			    sizeof(hint)));
			break;
		}
		bad = bad_source_value(src, v + off, len - off);
		if (bad != NULL) {
			rc = fail(err, errlen, "%s: required_scopes entry "
			    "\"%.*s\" has %s", origin, (int)len, v, bad);
			break;
		}
		if (n >= CFG_MAX_REQUIRED) {
			rc = fail(err, errlen, "%s: required_scopes: more "
			    "than %d entries", origin, CFG_MAX_REQUIRED);
			break;
		}
		grown = realloc(list, (n + 1) * sizeof(*grown));
		if (grown == NULL) {
			rc = OA2_ERR_NOMEM;
			break;
		}
		list = grown;
		list[n].src = src;
		list[n].value = strndup(v + off, len - off);
		if (list[n].value == NULL) {
			rc = OA2_ERR_NOMEM;
			break;
		}
		n++;
		v += len;
	}
	if (rc == 0 && n == 0)
		rc = fail(err, errlen, "%s: required_scopes is empty", origin);
	if (rc != 0) {
		for (size_t i = 0; i < n; i++)
			free(list[i].value);
		free(list);
		return rc;
	}
	for (size_t i = 0; i < c->nrequired; i++)
		free(c->required[i].value);
	free(c->required);
	c->required = list;
	c->nrequired = n;
	return 0;
}

/*
 * One required_claims entry "NAME=VALUE" (len bytes at e) into *r: VALUE
 * true or false is a JSON boolean; "..." (no '"' inside, no escapes) or
 * any other word is a string compared byte for byte.  Returns 0, -1 (bad
 * entry, *why says why) or OA2_ERR_NOMEM.
 */
static int
parse_claim_req(const char *e, size_t len, struct cfg_claim_req *r,
    const char **why)
{
	const char *eq = memchr(e, '=', len);
	const char *val;
	size_t nlen, vlen;
	bool quoted;

	memset(r, 0, sizeof(*r));
	*why = "must be NAME=VALUE";
	if (eq == NULL || eq == e)
		return -1;
	nlen = (size_t)(eq - e);
	val = eq + 1;
	vlen = len - nlen - 1;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)e[i] < 0x20 || e[i] == 0x7f) {
			*why = "holds a control character";
			return -1;
		}
	}
	if (nlen >= 256 || e[0] == '.' || e[nlen - 1] == '.' ||
	    memmem(e, nlen, "..", 2) != NULL) {
		*why = "has a bad NAME (a claim name or dotted path, no "
		    "empty part, under 256 bytes)";
		return -1;
	}
	if (vlen == 0) {
		*why = "has an empty VALUE (write NAME=\"\" for an empty "
		    "string)";
		return -1;
	}
	quoted = vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"';
	if (memchr(e, '"', nlen) != NULL || memchr(quoted ? val + 1 : val,
	    '"', quoted ? vlen - 2 : vlen) != NULL) {
		*why = "may hold '\"' only around the whole VALUE (no "
		    "escapes)";
		return -1;
	}
	if (quoted) {
		r->kind = CFG_CLAIM_STRING;
		r->value = strndup(val + 1, vlen - 2);
		if (r->value == NULL)
			return OA2_ERR_NOMEM;
	} else if (vlen == 4 && memcmp(val, "true", 4) == 0) {
		r->kind = CFG_CLAIM_TRUE;
	} else if (vlen == 5 && memcmp(val, "false", 5) == 0) {
		r->kind = CFG_CLAIM_FALSE;
	} else {
		r->kind = CFG_CLAIM_STRING;
		r->value = strndup(val, vlen);
		if (r->value == NULL)
			return OA2_ERR_NOMEM;
	}
	r->name = strndup(e, nlen);
	if (r->name == NULL) {
		free(r->value);
		r->value = NULL;
		return OA2_ERR_NOMEM;
	}
	return 0;
}

/* required_claims: space-separated NAME=VALUE entries, all must hold.
 * Replaces an earlier list only when the whole value is good. */
static int
parse_required_claims(struct cfg *c, const char *v, const char *origin,
    char *err, size_t errlen)
{
	struct cfg_claim_req *list = NULL;
	size_t n = 0;
	int rc = 0;

	while (*v != '\0' && rc == 0) {
		struct cfg_claim_req *grown;
		const char *why = NULL;
		size_t len;

		while (*v == ' ' || *v == '\t')
			v++;
		len = strcspn(v, " \t");
		if (len == 0)
			break;
		if (n >= CFG_MAX_REQUIRED) {
			rc = fail(err, errlen, "%s: required_claims: more "
			    "than %d entries", origin, CFG_MAX_REQUIRED);
			break;
		}
		grown = realloc(list, (n + 1) * sizeof(*grown));
		if (grown == NULL) {
			rc = OA2_ERR_NOMEM;
			break;
		}
		list = grown;
		rc = parse_claim_req(v, len, &list[n], &why);
		if (rc == -1)
			rc = fail(err, errlen, "%s: required_claims entry "
			    "\"%.*s\" %s", origin, (int)len, v, why);
		if (rc != 0)
			break;
		n++;
		v += len;
	}
	if (rc == 0 && n == 0)
		rc = fail(err, errlen, "%s: required_claims is empty", origin);
	if (rc != 0) {
		for (size_t i = 0; i < n; i++) {
			free(list[i].name);
			free(list[i].value);
		}
		free(list);
		return rc;
	}
	for (size_t i = 0; i < c->nrequired_claims; i++) {
		free(c->required_claims[i].name);
		free(c->required_claims[i].value);
	}
	free(c->required_claims);
	c->required_claims = list;
	c->nrequired_claims = n;
	return 0;
}

int
cfg_set(struct cfg *c, const char *key, const char *value,
    const char *origin, char *err, size_t errlen)
{
	const struct opt *o = NULL;
	char *base = (char *)c;
	bool from_arg = strcmp(origin, "module arguments") == 0;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (strcmp(opts[i].key, key) == 0) {
			o = &opts[i];
			break;
		}
	}
	if (o == NULL)
		return fail(err, errlen, "%s: unknown option \"%s\"", origin,
		    key);
	if (o->arg_only && !from_arg)
		return fail(err, errlen,
		    "%s: \"%s\" is a module argument, not a file option",
		    origin, key);
	/* The PAM service files are world-readable. */
	if (o->type == OPT_SECRET && from_arg)
		return fail(err, errlen,
		    "%s: client_secret is not allowed as a module argument "
		    "(files in /etc/pam.d are world-readable): put it in the "
		    "root-only configuration file (mode 600) or in "
		    "client_secret_file", origin);
	switch (o->type) {
	case OPT_URL:
		if (!is_https_url(value))
			return fail(err, errlen,
			    "%s: %s must be an https:// URL", origin, key);
		return set_string((char **)(void *)(base + o->off), value,
		    false);
	case OPT_STR:
	case OPT_SECRET:
		if (*value == '\0')
			return fail(err, errlen, "%s: %s is empty", origin,
			    key);
		return set_string((char **)(void *)(base + o->off), value,
		    o->type == OPT_SECRET);
	case OPT_LONG:
		if (parse_long(value, o->min, o->max,
		    (long *)(void *)(base + o->off)) != 0)
			return fail(err, errlen,
			    "%s: %s must be a whole number from %ld to %ld",
			    origin, key, o->min, o->max);
		return 0;
	case OPT_BOOL:
		if (parse_bool(value, (bool *)(void *)(base + o->off)) != 0)
			return fail(err, errlen,
			    "%s: %s must be yes or no", origin, key);
		return 0;
	case OPT_AUTH:
		if (strcmp(value, "basic") == 0)
			c->client_auth = CFG_AUTH_BASIC;
		else if (strcmp(value, "post") == 0)
			c->client_auth = CFG_AUTH_POST;
		else if (strcmp(value, "none") == 0)
			c->client_auth = CFG_AUTH_NONE;
		else if (strcmp(value, "private_key_jwt") == 0)
			c->client_auth = CFG_AUTH_PRIVATE_KEY_JWT;
		else if (strcmp(value, "tls_client_auth") == 0)
			c->client_auth = CFG_AUTH_TLS;
		else if (strcmp(value, "self_signed_tls_client_auth") == 0)
			c->client_auth = CFG_AUTH_SELF_SIGNED_TLS;
		else
			return fail(err, errlen,
			    "%s: client_auth must be basic, post, none, "
			    "private_key_jwt, tls_client_auth or "
			    "self_signed_tls_client_auth", origin);
		return 0;
	case OPT_AUD:
		if (strcmp(value, "token_endpoint") == 0)
			c->client_assertion_aud = CFG_AUD_TOKEN_ENDPOINT;
		else if (strcmp(value, "issuer") == 0)
			c->client_assertion_aud = CFG_AUD_ISSUER;
		else
			return fail(err, errlen,
			    "%s: client_assertion_aud must be token_endpoint "
			    "or issuer", origin);
		c->client_assertion_aud_set = true;
		return 0;
	case OPT_GRANTS:
		if (parse_grants(c, value) != 0)
			return fail(err, errlen,
			    "%s: grants must list password, device and/or "
			    "token, each once", origin);
		c->grants_set = true;
		return 0;
	case OPT_OTP:
		if (strcmp(value, "no") == 0)
			c->otp = CFG_OTP_NO;
		else if (strcmp(value, "prompt") == 0)
			c->otp = CFG_OTP_PROMPT;
		else
			return fail(err, errlen, "%s: otp must be no or prompt",
			    origin);
		return 0;
	case OPT_INTROSPECT:
		if (strcmp(value, "auto") == 0)
			c->token_introspection = CFG_INTROSPECT_AUTO;
		else if (strcmp(value, "always") == 0)
			c->token_introspection = CFG_INTROSPECT_ALWAYS;
		else if (strcmp(value, "never") == 0)
			c->token_introspection = CFG_INTROSPECT_NEVER;
		else
			return fail(err, errlen, "%s: token_introspection must "
			    "be auto, always or never", origin);
		return 0;
	case OPT_REQUIRED:
		return parse_required(c, value, origin, err, errlen);
	case OPT_CLAIMS:
		return parse_required_claims(c, value, origin, err, errlen);
	}
	return fail(err, errlen, "%s: %s: internal error", origin, key);
}

/* A local group name as /etc/group can hold it: no ':' ',' white space or
 * control characters, not empty, at most 256 bytes. */
static bool
valid_group_name(const char *g)
{
	size_t n = strlen(g);

	if (n == 0 || n > 256 || *g == '-' || *g == '+')
		return false;
	for (; *g != '\0'; g++) {
		unsigned char ch = (unsigned char)*g;

		if (ch <= 0x20 || ch == 0x7f || ch == ':' || ch == ',')
			return false;
	}
	return true;
}

/*
 * One line of the [groups] section: "SOURCE:VALUE = group, group", e.g.
 * "scope:admin = wheel" or "claim:ops = adm" (cfg_sources[]).  A scope is
 * a scope-token, any other value has no control characters (nor '=');
 * the groups are local group names.  A key may appear only once.
 */
static int
add_group_map(struct cfg *c, const char *key, char *groups,
    const char *origin, char *err, size_t errlen)
{
	struct cfg_group_map *m, *grown;
	char *tok, *save = NULL;
	char hint[CFG_ERR_LEN / 2];
	const char *value, *bad;
	enum cfg_source src;
	size_t off;

	if (*key == '\0')
		return fail(err, errlen, "%s: [groups] entry without a value",
		    origin);
	if (cfg_source_parse(key, strlen(key), &src, &off) != 0)
		return fail(err, errlen, "%s: [groups] key \"%s\" must name "
		    "its source: write %s", origin, key, source_hint(key,
		    strlen(key), hint, sizeof(hint)));
	value = key + off;
	bad = bad_source_value(src, value, strlen(value));
	if (bad != NULL)
		return fail(err, errlen, "%s: [groups] key \"%s\" has %s",
		    origin, key, bad);
	for (size_t i = 0; i < c->ngroup_map; i++) {
		if (c->group_map[i].src == src &&
		    strcmp(c->group_map[i].value, value) == 0)
			return fail(err, errlen,
			    "%s: \"%s\" is mapped twice", origin, key);
	}
	if (c->ngroup_map >= CFG_MAX_GROUP_MAP)
		return fail(err, errlen, "%s: more than %d [groups] entries",
		    origin, CFG_MAX_GROUP_MAP);
	grown = realloc(c->group_map, (c->ngroup_map + 1) * sizeof(*grown));
	if (grown == NULL)
		return OA2_ERR_NOMEM;
	c->group_map = grown;
	m = &c->group_map[c->ngroup_map];
	memset(m, 0, sizeof(*m));
	m->src = src;
	m->value = strdup(value);
	if (m->value == NULL)
		return OA2_ERR_NOMEM;
	c->ngroup_map++;
	for (tok = strtok_r(groups, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char **g2;

		tok = trim(tok);
		if (!valid_group_name(tok))
			return fail(err, errlen, "%s: bad group name \"%s\"",
			    origin, tok);
		if (m->ngroups >= CFG_MAX_MAP_GROUPS)
			return fail(err, errlen,
			    "%s: more than %d groups for one value", origin,
			    CFG_MAX_MAP_GROUPS);
		g2 = realloc(m->groups, (m->ngroups + 1) * sizeof(*g2));
		if (g2 == NULL)
			return OA2_ERR_NOMEM;
		m->groups = g2;
		m->groups[m->ngroups] = strdup(tok);
		if (m->groups[m->ngroups] == NULL)
			return OA2_ERR_NOMEM;
		m->ngroups++;
	}
	if (m->ngroups == 0)
		return fail(err, errlen, "%s: no group for \"%s\"", origin,
		    key);
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * Open path safely and read it whole into a NUL-terminated buffer.
 * owner_only: also refuse group/other read (for secrets).
 */
static int
read_safe_file(const char *path, size_t max, bool owner_only, char **out,
    size_t *outlen, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = OA2_ERR_CONFIG;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			return fail(err, errlen, "%s: refusing a symbolic link",
			    path);
		return fail(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		fail(err, errlen, "%s: cannot stat: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != 0) {
		fail(err, errlen, "%s: not owned by root", path);
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		fail(err, errlen, "%s: group or world writable", path);
		goto out;
	}
	if (owner_only && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		fail(err, errlen, "%s: readable by others than root", path);
		goto out;
	}
	if (st.st_size < 0 || (size_t)st.st_size > max) {
		fail(err, errlen, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	if (fs_read_all(fd, buf, (size_t)st.st_size) != (long)st.st_size) {
		fail(err, errlen, "%s: short read", path);
		goto out;
	}
	len = (size_t)st.st_size;
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		fail(err, errlen, "%s: contains a NUL byte", path);
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0;
out:
	secret_freen((void **)&buf, (size_t)st.st_size + 1);
	close(fd);
	return rc;
}

int
cfg_read_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
	char *buf = NULL, *line, *next;
	char origin[PATH_MAX + 32];
	size_t len = 0;
	unsigned lineno = 0;
	bool readable_by_others = false;
	bool has_secret = false;
	bool in_groups = false;  /* inside the [groups] section */
	struct stat st;
	int rc;

	rc = read_safe_file(path, CFG_MAX_FILE, false, &buf, &len, err,
	    errlen);
	if (rc != 0)
		return rc;
	if (stat(path, &st) == 0 &&
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		readable_by_others = true;
	rc = set_string(&c->path, path, false);
	for (line = buf; rc == 0 && line != NULL; line = next) {
		char *eq, *key, *value;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		snprintf(origin, sizeof(origin), "%s:%u", path, lineno);
		if (*line == '[') {
			/* Only one section exists; the keys before it are
			 * the main options, every line after it a mapping. */
			if (strcmp(line, "[groups]") != 0) {
				rc = fail(err, errlen,
				    "%s: unknown section %s", origin, line);
				break;
			}
			in_groups = true;
			continue;
		}
		eq = strchr(line, '=');
		if (eq == NULL) {
			rc = fail(err, errlen,
			    "%s: expected \"key = value\"", origin);
			break;
		}
		*eq = '\0';
		key = trim(line);
		value = trim(eq + 1);
		if (in_groups) {
			rc = add_group_map(c, key, value, origin, err, errlen);
			continue;
		}
		if (strcmp(key, "client_secret") == 0)
			has_secret = true;
		rc = cfg_set(c, key, value, origin, err, errlen);
	}
	if (rc == 0 && has_secret && readable_by_others)
		rc = fail(err, errlen,
		    "%s: holds client_secret but is readable by others than "
		    "root (chmod 600)", path);
	secret_freen((void **)&buf, len + 1);
	return rc;
}

/* Read client_secret_file: root-owned, mode 0600 or stricter, one line. */
static int
read_secret_file(struct cfg *c, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = read_safe_file(c->client_secret_file, SECRET_FILE_MAX, true,
	    &buf, &len, err, errlen);
	if (rc != 0)
		return rc;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\n', len) != NULL) {
		rc = fail(err, errlen, "%s: must hold exactly one line",
		    c->client_secret_file);
	} else {
		secret_free(&c->client_secret);
		c->client_secret = buf;
		buf = NULL;
	}
	secret_freen((void **)&buf, len + 1);
	return rc;
}

/* Read and parse client_key_file: the secret file's rules (root-owned,
 * no group or other bits), a PEM private key that fits client_key_alg. */
static int
read_key_file(struct cfg *c, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = read_safe_file(c->client_key_file, KEY_FILE_MAX, true, &buf,
	    &len, err, errlen);
	if (rc != 0)
		return rc;
	asrt_key_free(&c->client_key);
	rc = asrt_key_parse(buf, len, c->client_key_alg, c->client_key_file,
	    &c->client_key, err, errlen);
	secret_freen((void **)&buf, len + 1);
	return rc;
}

/* Read client_cert_file (root-owned, not writable by others; it is public)
 * and check that it belongs to client_key_file and is valid now. */
static int
read_cert_file(struct cfg *c, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = read_safe_file(c->client_cert_file, KEY_FILE_MAX, false, &buf,
	    &len, err, errlen);
	if (rc != 0)
		return rc;
	asrt_cert_free(&c->client_cert, &c->client_chain);
	rc = asrt_cert_parse(buf, len, c->client_key, time(NULL),
	    c->client_cert_file, &c->client_cert, &c->client_chain, err,
	    errlen);
	free(buf);
	return rc;
}

bool
cfg_auth_mtls(const struct cfg *c)
{
	return c->client_auth == CFG_AUTH_TLS ||
	    c->client_auth == CFG_AUTH_SELF_SIGNED_TLS;
}

const char *
cfg_auth_name(enum cfg_client_auth a)
{
	switch (a) {
	case CFG_AUTH_BASIC:
		return "basic";
	case CFG_AUTH_POST:
		return "post";
	case CFG_AUTH_NONE:
		return "none";
	case CFG_AUTH_PRIVATE_KEY_JWT:
		return "private_key_jwt";
	case CFG_AUTH_TLS:
		return "tls_client_auth";
	case CFG_AUTH_SELF_SIGNED_TLS:
		return "self_signed_tls_client_auth";
	case CFG_AUTH_UNSET:
		break;
	}
	return "unset";
}

/* client_auth and the keys it needs or excludes. */
static int
finish_client_auth(struct cfg *c, const char *where, char *err,
    size_t errlen)
{
	bool jwt;
	int rc;

	if (c->client_secret != NULL && c->client_secret_file != NULL)
		return fail(err, errlen,
		    "%s: client_secret and client_secret_file both set",
		    where);
	/* Like the key files: a key that has no effect with this method is
	 * a mistake to report, not to ignore. */
	if (c->client_assertion_aud_set &&
	    c->client_auth != CFG_AUTH_PRIVATE_KEY_JWT)
		return fail(err, errlen,
		    "%s: client_assertion_aud is only used with client_auth = "
		    "private_key_jwt: remove it or set that method", where);
	if (c->client_auth == CFG_AUTH_UNSET && (c->client_key_file != NULL ||
	    c->client_cert_file != NULL))
		return fail(err, errlen,
		    "%s: client_key_file or client_cert_file is set but "
		    "client_auth is not: set client_auth = private_key_jwt, "
		    "tls_client_auth or self_signed_tls_client_auth", where);
	if (cfg_auth_mtls(c)) {
		if (c->client_secret != NULL || c->client_secret_file != NULL)
			return fail(err, errlen,
			    "%s: client_auth = %s does not use client_secret "
			    "or client_secret_file: remove it", where,
			    cfg_auth_name(c->client_auth));
		if (c->client_key_alg != NULL || c->client_key_id != NULL)
			return fail(err, errlen,
			    "%s: client_key_alg and client_key_id are only "
			    "used with client_auth = private_key_jwt", where);
		if (c->client_cert_file == NULL || c->client_key_file == NULL)
			return fail(err, errlen,
			    "%s: client_auth = %s needs client_cert_file and "
			    "client_key_file (its private key)", where,
			    cfg_auth_name(c->client_auth));
		rc = read_key_file(c, err, errlen);
		if (rc == 0)
			rc = read_cert_file(c, err, errlen);
		return rc;
	}
	if (c->client_cert_file != NULL)
		return fail(err, errlen,
		    "%s: client_cert_file is only used with client_auth = "
		    "tls_client_auth or self_signed_tls_client_auth", where);
	jwt = c->client_auth == CFG_AUTH_PRIVATE_KEY_JWT;
	if (jwt) {
		/* A secret next to the key would still be a fleet-wide
		 * credential on disk: refuse rather than ignore it. */
		if (c->client_secret != NULL || c->client_secret_file != NULL)
			return fail(err, errlen,
			    "%s: client_auth = private_key_jwt does not use "
			    "client_secret or client_secret_file: remove it",
			    where);
		if (c->client_key_file == NULL)
			return fail(err, errlen,
			    "%s: client_auth = private_key_jwt needs "
			    "client_key_file", where);
		if (c->client_assertion_aud == CFG_AUD_ISSUER &&
		    c->issuer == NULL)
			return fail(err, errlen,
			    "%s: client_assertion_aud = issuer needs issuer",
			    where);
		return read_key_file(c, err, errlen);
	}
	if (c->client_key_file != NULL || c->client_key_alg != NULL ||
	    c->client_key_id != NULL)
		return fail(err, errlen,
		    "%s: client_key_file, client_key_alg and client_key_id "
		    "are only used with client_auth = private_key_jwt (and "
		    "client_key_file with the tls methods)", where);
	if (c->client_secret_file != NULL) {
		rc = read_secret_file(c, err, errlen);
		if (rc != 0)
			return rc;
	}
	if (c->client_auth == CFG_AUTH_UNSET)
		c->client_auth = c->client_secret != NULL ? CFG_AUTH_BASIC :
		    CFG_AUTH_NONE;
	if (c->client_auth != CFG_AUTH_NONE && c->client_secret == NULL)
		return fail(err, errlen,
		    "%s: client_auth %s needs client_secret or "
		    "client_secret_file", where,
		    c->client_auth == CFG_AUTH_BASIC ? "basic" : "post");
	return 0;
}

/* username_format may hold "%u" (the PAM user) and "%%", nothing else. */
static bool
valid_format(const char *f)
{
	bool has_u = false;

	for (; *f != '\0'; f++) {
		if ((unsigned char)*f < 0x20 || *f == 0x7f)
			return false;
		if (*f != '%')
			continue;
		f++;
		if (*f == 'u')
			has_u = true;
		else if (*f != '%')
			return false;
	}
	return has_u;
}

bool
cfg_uses_source(const struct cfg *c, enum cfg_source src)
{
	for (size_t i = 0; i < c->ngroup_map; i++) {
		if (c->group_map[i].src == src)
			return true;
	}
	for (size_t i = 0; i < c->nrequired; i++) {
		if (c->required[i].src == src)
			return true;
	}
	return false;
}

bool
cfg_plain_oauth2(const struct cfg *c)
{
	return c->user_endpoint != NULL;
}

const char *
cfg_identity_issuer(const struct cfg *c)
{
	return cfg_plain_oauth2(c) ? c->user_endpoint : c->issuer;
}

/* base + path into *slot, unless the key was set. */
static int
preset_url(char **slot, const char *base, const char *path)
{
	size_t bl = strlen(base), pl = strlen(path);

	if (*slot != NULL)
		return 0;
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	*slot = malloc(bl + pl + 1);
	if (*slot == NULL)
		return OA2_ERR_NOMEM;
	memcpy(*slot, base, bl);
	memcpy(*slot + bl, path, pl + 1);
	return 0;
}

/*
 * provider = github: the endpoints of github.com, or of the GitHub
 * Enterprise Server at github_url (its REST API under /api/v3), the
 * identity in "login" and "id", errors with HTTP 200, the device grant
 * (the only one: GitHub has no password grant).  Keys set explicitly win
 * over the preset.
 */
static int
preset_github(struct cfg *c, const char *where, char *err, size_t errlen)
{
	const char *base = c->github_url != NULL ? c->github_url :
	    "https://github.com";
	bool dotcom = strcmp(base, "https://github.com") == 0 ||
	    strcmp(base, "https://github.com/") == 0;
	int rc;

	if (c->issuer != NULL || c->jwks_uri != NULL ||
	    c->userinfo_endpoint != NULL)
		return fail(err, errlen, "%s: provider github has no issuer, "
		    "jwks_uri or userinfo_endpoint", where);
	/* GitHub has no password grant: the device grant is the default
	 * and the only one. */
	if (c->grants_set && cfg_allows(c, CFG_GRANT_PASSWORD))
		return fail(err, errlen, "%s: provider github has no password "
		    "grant: use grants = device", where);
	/* Nor JWT access tokens or introspection: a token grant here
	 * could never succeed, and is never silently dropped. */
	if (c->grants_set && cfg_allows(c, CFG_GRANT_TOKEN))
		return fail(err, errlen, "%s: provider github has no token "
		    "grant (no JWKS, no introspection): use grants = device",
		    where);
	c->grants[0] = CFG_GRANT_DEVICE;
	c->ngrants = 1;
	rc = preset_url(&c->device_authorization_endpoint, base,
	    "/login/device/code");
	if (rc == 0)
		rc = preset_url(&c->token_endpoint, base,
		    "/login/oauth/access_token");
	if (rc == 0)
		rc = dotcom ? preset_url(&c->user_endpoint,
		    "https://api.github.com", "/user") :
		    preset_url(&c->user_endpoint, base, "/api/v3/user");
	if (rc == 0)
		rc = dotcom ? preset_url(&c->orgs_endpoint,
		    "https://api.github.com", "/user/orgs") :
		    preset_url(&c->orgs_endpoint, base, "/api/v3/user/orgs");
	if (rc == 0)
		rc = dotcom ? preset_url(&c->teams_endpoint,
		    "https://api.github.com", "/user/teams") :
		    preset_url(&c->teams_endpoint, base, "/api/v3/user/teams");
	if (rc == 0 && c->username_claim == NULL)
		rc = set_string(&c->username_claim, "login", false);
	if (rc == 0 && c->user_id_claim == NULL)
		rc = set_string(&c->user_id_claim, "id", false);
	if (rc == 0 && c->scope == NULL)
		rc = set_string(&c->scope, "read:user", false);
	if (rc != 0)
		return rc;
	c->errors_with_200 = true;
	return 0;
}

/* The checks of a plain OAuth 2 provider (user_endpoint set). */
static int
finish_plain(struct cfg *c, const char *where, char *err, size_t errlen)
{
	int rc;

	if (c->provider != NULL) {
		if (strcmp(c->provider, "github") != 0)
			return fail(err, errlen, "%s: provider must be github "
			    "(or unset)", where);
		rc = preset_github(c, where, err, errlen);
		if (rc != 0)
			return rc;
	} else if (c->github_url != NULL) {
		return fail(err, errlen, "%s: github_url needs provider = "
		    "github", where);
	}
	if (c->user_endpoint == NULL) {
		if (c->user_id_claim != NULL || c->errors_with_200 ||
		    c->orgs_endpoint != NULL || c->teams_endpoint != NULL)
			return fail(err, errlen, "%s: user_id_claim, "
			    "errors_with_200, orgs_endpoint and teams_endpoint "
			    "need user_endpoint", where);
		if (cfg_uses_source(c, CFG_SRC_ORG) ||
		    cfg_uses_source(c, CFG_SRC_TEAM))
			return fail(err, errlen, "%s: org: and team: need a "
			    "provider without OpenID Connect (user_endpoint)",
			    where);
		return 0;
	}
	if (cfg_uses_source(c, CFG_SRC_ORG) && c->orgs_endpoint == NULL)
		return fail(err, errlen, "%s: org: entries need "
		    "orgs_endpoint", where);
	if (cfg_uses_source(c, CFG_SRC_TEAM) && c->teams_endpoint == NULL)
		return fail(err, errlen, "%s: team: entries need "
		    "teams_endpoint", where);
	/* No OpenID Connect: nothing to discover, no ID token to check. */
	if (c->issuer != NULL || c->jwks_uri != NULL ||
	    c->userinfo_endpoint != NULL)
		return fail(err, errlen, "%s: user_endpoint (a provider "
		    "without OpenID Connect) excludes issuer, jwks_uri and "
		    "userinfo_endpoint", where);
	if (c->token_endpoint == NULL)
		return fail(err, errlen, "%s: user_endpoint needs "
		    "token_endpoint", where);
	if (cfg_allows(c, CFG_GRANT_DEVICE) &&
	    c->device_authorization_endpoint == NULL)
		return fail(err, errlen, "%s: user_endpoint with the device "
		    "grant needs device_authorization_endpoint", where);
	/* The access token is the identity: never kept, not even hashed. */
	if (c->offline_cache)
		return fail(err, errlen, "%s: offline_cache is not available "
		    "with user_endpoint", where);
	if (c->user_id_claim == NULL &&
	    (rc = set_string(&c->user_id_claim, "id", false)) != 0)
		return rc;
	if (c->username_claim == NULL &&
	    (rc = set_string(&c->username_claim, "login", false)) != 0)
		return rc;
	if (c->scope == NULL && (rc = set_string(&c->scope, "read:user",
	    false)) != 0)
		return rc;
	return 0;
}

bool
cfg_token_client_allowed(const struct cfg *c, const char *id)
{
	const char *p = c->token_clients;
	size_t idlen = strlen(id), n;

	if (p == NULL || idlen == 0)
		return false;
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			return false;
		n = strcspn(p, ", \t");
		if (n == idlen && memcmp(p, id, n) == 0)
			return true;
		p += n;
	}
}

/*
 * grants = token: token_audience and token_clients are required;
 * token_audience must not be the client_id (the audience of this
 * client's ID tokens: an ID token would then pass the audience check of
 * an access token).  Not with a plain
 * OAuth 2 provider (no JWKS, no introspection).
 */
static int
finish_token(const struct cfg *c, const char *where, char *err,
    size_t errlen)
{
	if (!cfg_allows(c, CFG_GRANT_TOKEN))
		return 0;
	if (cfg_plain_oauth2(c))
		return fail(err, errlen, "%s: grants = token needs an OpenID "
		    "Connect issuer (not user_endpoint)", where);
	if (c->token_audience == NULL)
		return fail(err, errlen, "%s: grants = token needs "
		    "token_audience (the audience the IdP puts into access "
		    "tokens for this server)", where);
	if (strcmp(c->token_audience, c->client_id) == 0)
		return fail(err, errlen, "%s: token_audience must differ from "
		    "client_id (an ID token's audience)", where);
	if (c->token_clients == NULL ||
	    c->token_clients[strspn(c->token_clients, ", \t")] == '\0')
		return fail(err, errlen, "%s: grants = token needs "
		    "token_clients (the client_id of every client allowed to "
		    "obtain the tokens presented here)", where);
	return 0;
}

int
cfg_finish(struct cfg *c, char *err, size_t errlen)
{
	const char *where = c->path != NULL ? c->path : "configuration";
	const char *why = NULL;
	int rc;

	if (c->client_id == NULL)
		return fail(err, errlen, "%s: client_id is required", where);
	rc = finish_plain(c, where, err, errlen);
	if (rc != 0)
		return rc;
	if (c->issuer == NULL && !cfg_plain_oauth2(c))
		return fail(err, errlen, "%s: issuer is required", where);
	rc = finish_client_auth(c, where, err, errlen);
	if (rc != 0)
		return rc;
	/* Whoever can write the trust store can impersonate the IdP. */
	if (c->ca_file != NULL && trust_path_check(c->ca_file, false,
	    &why) != 0)
		return fail(err, errlen, "%s: ca_file %s: %s", where,
		    c->ca_file, why);
	if (c->ca_path != NULL && trust_path_check(c->ca_path, true,
	    &why) != 0)
		return fail(err, errlen, "%s: ca_path %s: %s", where,
		    c->ca_path, why);
	if (c->connect_timeout > c->timeout)
		c->connect_timeout = c->timeout;
	if (c->state_dir != NULL && (c->state_dir[0] != '/' ||
	    strstr(c->state_dir, "/../") != NULL))
		return fail(err, errlen,
		    "%s: state_dir must be an absolute path", where);
	if (c->scope == NULL && (rc = set_string(&c->scope, "openid",
	    false)) != 0)
		return rc;
	if (c->username_claim == NULL && (rc = set_string(&c->username_claim,
	    "preferred_username", false)) != 0)
		return rc;
	if (c->username_format == NULL &&
	    (rc = set_string(&c->username_format, "%u", false)) != 0)
		return rc;
	if (c->otp_param == NULL && (rc = set_string(&c->otp_param, "totp",
	    false)) != 0)
		return rc;
	if (c->cache_dir == NULL && (rc = set_string(&c->cache_dir,
	    CACHE_DEFAULT_DIR, false)) != 0)
		return rc;
	if (c->offline_dir == NULL && (rc = set_string(&c->offline_dir,
	    OFFLINE_DEFAULT_DIR, false)) != 0)
		return rc;
	if (c->cache_dir[0] != '/' || c->offline_dir[0] != '/')
		return fail(err, errlen,
		    "%s: cache_dir and offline_dir must be absolute paths",
		    where);
	rc = finish_token(c, where, err, errlen);
	if (rc != 0)
		return rc;
	if (!valid_format(c->username_format))
		return fail(err, errlen,
		    "%s: username_format must contain %%u and no other %% "
		    "escape than %%%%", where);
	return 0;
}

/* Split "key=value"; a bare word is a boolean set to yes. */
static int
apply_arg(struct cfg *c, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char key[64];
	size_t klen;

	if (eq == NULL)
		return cfg_set(c, arg, "yes", "module arguments", err,
		    errlen);
	klen = (size_t)(eq - arg);
	if (klen == 0 || klen >= sizeof(key))
		return fail(err, errlen, "module arguments: bad option \"%s\"",
		    arg);
	memcpy(key, arg, klen);
	key[klen] = '\0';
	if (strcmp(key, "config") == 0)
		return 0;
	return cfg_set(c, key, eq + 1, "module arguments", err, errlen);
}

int
cfg_load(int argc, const char **argv, struct cfg **out, char *err,
    size_t errlen)
{
	struct cfg *c = NULL;
	const char *path = CFG_DEFAULT_PATH;
	int rc;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "config=", 7) == 0)
			path = argv[i] + 7;
	}
	if (*path != '/')
		return fail(err, errlen,
		    "module arguments: config must be an absolute path");
	c = cfg_new();
	if (c == NULL)
		return OA2_ERR_NOMEM;
	rc = cfg_read_file(c, path, err, errlen);
	for (int i = 0; rc == 0 && i < argc; i++)
		rc = apply_arg(c, argv[i], err, errlen);
	if (rc == 0)
		rc = cfg_finish(c, err, errlen);
	if (rc != 0) {
		cfg_free(&c);
		return rc;
	}
	*out = c;
	return 0;
}
