/*
 * pam_oauth2ctl.c - the administrator's diagnostic tool (pam_oauth2ctl(8)).
 *
 *   check             parse the configuration as the module does, check
 *                     file ownership and modes, fetch discovery and JWKS
 *   login USER        a real login through the module's own code (the
 *                     library the module links): each step printed
 *   cache list|clear  the metadata cache and the offline verifiers
 *   user ...          the provisioned users (ctl_user.c)
 *
 * It links the same convenience library as the module: no second
 * implementation of anything.  The library's log lines go to stdout
 * (struct log_ctx.sink) instead of syslog.  Secrets are never printed:
 * the password read for "login" is wiped after use.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "assertion.h"
#include "cache.h"
#include "cfg.h"
#include "claims.h"
#include "ctl_keygen.h"
#include "ctl_user.h"
#include "clock.h"
#include "discovery.h"
#include "errors.h"
#include "grant_device.h"
#include "grant_password.h"
#include "grant_token.h"
#include "jwt.h"
#include "groups.h"
#include "http.h"
#include "identity.h"
#include "log.h"
#include "login.h"
#include "offline.h"
#include "secret.h"
#include "trust.h"

#define EXIT_PROBLEM 1   /* check found problems, login denied */
#define EXIT_USAGE 2     /* bad command line or configuration */

#define SECRET_MAX 4096

static const char usage_text[] =
"usage: pam_oauth2ctl [--config FILE] COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  check                  parse the configuration exactly as the module\n"
"                         does, check file ownership and modes, fetch the\n"
"                         discovery document and the JWKS, and report\n"
"                         problems in plain words (exit 1 on problems)\n"
"  login USER [--grant password|device|token]\n"
"                         run a real login for USER through the module's\n"
"                         code and print each step (request, verification,\n"
"                         identity binding, mapped groups).  The password\n"
"                         (and a one-time code with otp = prompt) is read\n"
"                         from standard input when it is not a terminal,\n"
"                         one per line; it is never printed.\n"
"  cache list             list the metadata cache entries and the offline\n"
"                         verifiers (user names are hashed in file names)\n"
"  cache clear [--offline]\n"
"                         remove the metadata cache entries; with\n"
"                         --offline also every offline verifier (users\n"
"                         then need the IdP for their next login)\n"
"  user list              the users provisioned at their first login\n"
"  user show NAME         one provisioned user's record\n"
"  user lock|unlock NAME  refuse (allow again) every login of NAME\n"
"  user remove NAME       remove NAME's record (its UID is never given\n"
"                         again; the home directory is left in place)\n"
"  keygen [--type rsa|ec|ed25519] [--alg ALG] [--cert CERTFILE\n"
"         [--subject DN] [--days N]] [--set] KEYFILE\n"
"                         make a private key of this server's own for\n"
"                         client_auth = private_key_jwt (default ec, P-256;\n"
"                         rsa is 3072 bits), written to KEYFILE (mode 0600,\n"
"                         never over an existing file); print its public\n"
"                         JWK (kid: the RFC 7638 thumbprint) to register at\n"
"                         the provider; with --cert also a self-signed\n"
"                         certificate (for mutual TLS), printed after it.\n"
"                         The private key is never printed.\n"
"\n"
"Options:\n"
"  -c, --config FILE      the configuration file (default "
    CFG_DEFAULT_PATH ")\n"
"  -g, --grant GRANT      login: password, device or token (default: the first\n"
"                         of the configured grants)\n"
"  -t, --type TYPE        keygen: rsa, ec (default) or ed25519\n"
"      --alg ALG          keygen: RS256 (rsa default), PS256, ES256, EdDSA\n"
"      --cert FILE        keygen: also a self-signed certificate\n"
"      --subject DN       keygen: its subject (default CN=<hostname>)\n"
"      --days N           keygen: its validity in days (default 365)\n"
"      --set              keygen: print a JWK Set ({\"keys\": [...]})\n"
"  -h, --help             this text\n"
"\n"
"Exit status: 0 success, 1 problems found or login refused, 2 usage or\n"
"configuration error.  See pam_oauth2ctl(8).\n";

struct ctl {
	const char *config;
	const char *grant;       /* login --grant */
	bool offline;            /* cache clear --offline */
	struct log_ctx lc;
	int problems;
	struct keygen_opts kg;   /* keygen options */
};

/* ---------------------------------------------------------------- output */

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
problem(struct ctl *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	fputs("PROBLEM: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A reason code (login.h lg->why) in plain words. */
static const char *
plain(const char *why)
{
	static const struct {
		const char *code, *text;
	} words[] = {
	{ "dns_failed", "the host name could not be resolved (DNS): check "
	    "the URL and /etc/resolv.conf" },
	{ "connect_failed", "could not connect: nothing listens at that "
	    "address and port, or a firewall blocks it" },
	{ "tls_failed", "the TLS handshake failed: the server's certificate "
	    "is not trusted by ca_file (or the system store), has expired, "
	    "or does not name this host" },
	{ "timeout", "no answer in time (timeout / connect_timeout)" },
	{ "redirect", "the server answered with a redirect, which is never "
	    "followed: configure the final URL" },
	{ "not_https", "the URL is not https://" },
	{ "response_too_large", "the answer is larger than the module "
	    "accepts" },
	{ "http_failed", "the HTTP exchange failed (connection closed, "
	    "protocol error)" },
	{ "metadata_http_status", "the server answered with an HTTP error "
	    "status (wrong URL? the issuer must be the realm/tenant URL)" },
	{ "malformed_discovery", "the discovery document is not a JSON "
	    "object (wrong URL?)" },
	{ "discovery_incomplete", "the discovery document has no "
	    "token_endpoint or jwks_uri" },
	{ "discovery_bad_endpoint", "the discovery document names an "
	    "endpoint that is not https://" },
	{ "discovery_issuer_mismatch", "the discovery document names "
	    "another issuer: issuer must equal the provider's issuer string "
	    "exactly (mind a trailing slash)" },
	{ "jwks_malformed", "the JWKS is not a JSON Web Key Set" },
	{ "jwks_no_keys", "the JWKS has no usable signing key (RSA of 2048 "
	    "bits or more, EC P-256/P-384/P-521, Ed25519)" },
	{ "no_introspection_endpoint", "the provider advertises no "
	    "introspection_endpoint: opaque tokens cannot be checked (set "
	    "introspection_endpoint, or use JWT access tokens)" },
	{ "client_not_allowed", "the token was issued to a client that "
	    "is not in token_clients (its client_id or azp)" },
	{ "client_missing", "the introspection answer names no client_id "
	    "or azp: the issuing client cannot be checked against "
	    "token_clients" },
	{ "sender_constrained", "the token is bound to a key or certificate "
	    "(cnf: DPoP, mTLS) and cannot be used as a bearer token" },
	{ "no_device_endpoint", "the provider has no device authorization "
	    "endpoint: enable the device grant for the client, or set "
	    "device_authorization_endpoint" },
	{ "invalid_grant", "the IdP refused the credentials (wrong password, "
	    "unknown or disabled user, or the password grant is not "
	    "allowed for this user)" },
	{ "account_disabled", "the IdP refused the credentials: the user "
	    "is disabled at the provider" },
	{ "required_action", "the IdP refused the password grant: the user "
	    "has a required action pending (update the password, configure "
	    "OTP...); finish it in a browser, or allow the device grant" },
	{ "invalid_client", "the IdP refused the client: check client_id, "
	    "client_secret and client_auth (with a key or certificate: that "
	    "the provider has its public half for this client, the clock, "
	    "client_assertion_aud)" },
	{ "client_assertion", "the client assertion could not be signed "
	    "with client_key_file" },
	{ "unauthorized_client", "the client may not use this grant: enable "
	    "it for the client at the IdP" },
	{ "unsupported_grant_type", "the IdP does not support this grant" },
	{ "invalid_scope", "the IdP refused a requested scope: check scope "
	    "and the client's allowed scopes" },
	{ "http_401", "the token endpoint answered 401: the IdP refused the "
	    "client's authentication (client_id, client_secret, "
	    "client_auth)" },
	{ "http_429", "the IdP is throttling this client (HTTP 429)" },
	{ "interaction_required", "the IdP demands interaction (MFA, "
	    "consent): use the device grant" },
	{ "identity_mismatch", "the verified identity names another user "
	    "than the one logging in (check username_claim and "
	    "username_format)" },
	{ "claim_missing", "the username claim is missing from the ID token "
	    "and userinfo (check username_claim and the client's scopes)" },
	{ "iss_mismatch", "the ID token's issuer differs from issuer" },
	{ "aud_mismatch", "the ID token is for another audience than "
	    "client_id" },
	{ "expired", "the ID token has expired: check the clock (NTP)" },
	{ "not_yet_valid", "the ID token is not valid yet: check the clock "
	    "(NTP)" },
	{ "iat_future", "the ID token was issued in the future: check the "
	    "clock (NTP)" },
	{ "no_key", "the ID token is signed with a key the JWKS does not "
	    "have" },
	{ "alg_refused", "the ID token uses a refused signature algorithm "
	    "(none, HMAC)" },
	{ "bad_signature", "the ID token's signature does not verify" },
	{ "access_denied", "the sign-in was denied at the IdP" },
	{ "expired_token", "the device code expired before it was "
	    "approved" },
	{ "device_timeout", "nobody approved the sign-in within "
	    "device_timeout" },
	};

	if (why == NULL)
		return "unknown";
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(words[i].code, why) == 0)
			return words[i].text;
	}
	return why;
}

/* What pam_sm_authenticate would return for rc (pam_oauth2(8)). */
static const char *
pam_name(int rc)
{
	switch (rc) {
	case OA2_OK:
		return "PAM_SUCCESS";
	case OA2_ERR_NOMEM:
		return "PAM_BUF_ERR";
	case OA2_ERR_CONFIG:
		return "PAM_SERVICE_ERR";
	case OA2_ERR_USER:
		return "PAM_USER_UNKNOWN";
	case OA2_ERR_UNAVAIL:
	case OA2_ERR_BAD_RESPONSE:
	case OA2_ERR_CLIENT:
		return "PAM_AUTHINFO_UNAVAIL";
	case OA2_ERR_CONV:
		return "PAM_CONV_ERR";
	case OA2_ERR_IGNORE:
		return "PAM_IGNORE";
	default:
		return "PAM_AUTH_ERR";
	}
}

/* ---------------------------------------------------------------- config */

static int
load_config(struct ctl *c, bool debug, struct cfg **out)
{
	char arg[PATH_MAX + 8];
	const char *argv[2];
	char err[CFG_ERR_LEN];
	int argc = 0, rc;

	if (snprintf(arg, sizeof(arg), "config=%s", c->config) >=
	    (int)sizeof(arg)) {
		fprintf(stderr, "pam_oauth2ctl: path too long\n");
		return OA2_ERR_CONFIG;
	}
	argv[argc++] = arg;
	if (debug)
		argv[argc++] = "debug";
	rc = cfg_load(argc, argv, out, err, sizeof(err));
	if (rc != 0) {
		say("configuration error: %s",
		    rc == OA2_ERR_NOMEM ? "out of memory" : err);
		return rc;
	}
	c->lc.debug = (*out)->debug;
	return 0;
}

/* ---------------------------------------------------------------- check */

static void
check_file_mode(struct ctl *c, const char *what, const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		problem(c, "%s %s: %s", what, path, strerror(errno));
		return;
	}
	say("%s %s: owner uid %u, mode %04o", what, path,
	    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	if ((st.st_mode & 077) != 0)
		say("  note: readable by others than root; mode 0600 keeps "
		    "the client settings private");
}

/* A root-only directory the module writes (cache_dir, offline_dir). */
static void
check_dir(struct ctl *c, const char *what, const char *dir)
{
	struct stat st;
	const char *why = NULL;

	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			say("%s %s: does not exist yet (the module creates "
			    "it, mode 0700)", what, dir);
		else
			problem(c, "%s %s: %s", what, dir, strerror(errno));
		return;
	}
	if (cache_dir_check(dir, &why) != 0) {
		problem(c, "%s %s: %s (it must be a root-owned directory, "
		    "mode 0700)", what, dir, why);
		return;
	}
	say("%s %s: ok (root, mode %04o)", what, dir,
	    (unsigned)(st.st_mode & 07777));
}

/* A bundle of more certificates than this is worth a hashed directory:
 * OpenSSL parses every one of them in every login's process. */
#define BIG_BUNDLE 20

/* One part of the store: a bundle (how many certificates) or a hashed
 * directory (how many hash links). */
static void
say_store(struct ctl *c, const char *what, const char *path, bool dir)
{
	long n;

	if (dir) {
		n = trust_count_links(path);
		if (n <= 0)
			problem(c, "%s %s: no hash links (HHHHHHHH.N): it "
			    "trusts nothing; run \"openssl rehash %s\"", what,
			    path, path);
		else
			say("  %s %s: a hashed directory, %ld hash link%s, "
			    "looked up lazily", what, path, n,
			    n == 1 ? "" : "s");
		return;
	}
	n = trust_count_certs(path);
	if (n < 0) {
		problem(c, "%s %s: %s", what, path, strerror(errno));
		return;
	}
	say("  %s %s: a bundle of %ld certificate%s, all parsed at every "
	    "login", what, path, n, n == 1 ? "" : "s");
	if (n > BIG_BUNDLE)
		say("  note: a bundle of more than %d certificates costs "
		    "every login its parsing; a hashed directory is looked "
		    "up lazily: \"openssl rehash DIR\" over the "
		    "certificates, then ca_path = DIR", BIG_BUNDLE);
}

/* Which certificates the module trusts (http_trust). */
static void
check_trust(struct ctl *c, struct login *lg)
{
	struct http_trust t;

	http_trust(lg->http, &t);
	switch (t.store) {
	case HTTP_STORE_CONFIGURED:
		say("trust: %s", t.cainfo != NULL && t.capath != NULL ?
		    "ca_file and ca_path (both)" :
		    t.cainfo != NULL ? "ca_file" : "ca_path");
		if (t.cainfo != NULL)
			say_store(c, "ca_file", t.cainfo, false);
		if (t.capath != NULL)
			say_store(c, "ca_path", t.capath, true);
		break;
	case HTTP_STORE_SYSTEM_DIR:
		say("trust: the system store, through its hashed directory "
		    "(its bundle is not read)");
		say_store(c, "system directory", t.capath, true);
		break;
	case HTTP_STORE_SYSTEM_BUNDLE:
		say("trust: the system store, through its bundle (fallback: "
		    "%s%s)", t.capath != NULL ? "no hash links in " :
		    "libcurl has no CA directory", t.capath != NULL ?
		    t.capath : "");
		if (t.cainfo != NULL)
			say_store(c, "system bundle", t.cainfo, false);
		else
			say("  libcurl's own default (no bundle path known)");
		break;
	}
}

static const char *
grant_name(enum cfg_grant g)
{
	return g == CFG_GRANT_DEVICE ? "device" : g == CFG_GRANT_TOKEN ?
	    "token" : "password";
}

static int
cmd_check(struct ctl *c)
{
	struct cfg *cfg = NULL;
	struct login lg = { 0 };
	size_t nkeys = 0;
	char *url = NULL;
	int rc;

	rc = load_config(c, false, &cfg);
	if (rc != 0) {
		problem(c, "the module would return PAM_SERVICE_ERR for every "
		    "login");
		goto out;
	}
	say("configuration %s: parsed, every key known", cfg->path);
	check_file_mode(c, "configuration", cfg->path);
	if (cfg->client_secret_file != NULL)
		check_file_mode(c, "client_secret_file",
		    cfg->client_secret_file);
	if (cfg_plain_oauth2(cfg))
		say("provider without OpenID Connect: identity from %s "
		    "(%s, id in %s)", cfg->user_endpoint, cfg->username_claim,
		    cfg->user_id_claim);
	else
		say("issuer: %s", cfg->issuer);
	if (cfg->client_auth == CFG_AUTH_PRIVATE_KEY_JWT) {
		check_file_mode(c, "client_key_file", cfg->client_key_file);
		say("client_id: %s, client authentication: private_key_jwt "
		    "(%s key %s%s%s, aud %s)", cfg->client_id,
		    asrt_key_alg(cfg->client_key), cfg->client_key_file,
		    cfg->client_key_id != NULL ? ", kid " : "",
		    cfg->client_key_id != NULL ? cfg->client_key_id : "",
		    cfg->client_assertion_aud == CFG_AUD_ISSUER ? "issuer" :
		    "token endpoint");
	} else if (cfg_auth_mtls(cfg)) {
		check_file_mode(c, "client_key_file", cfg->client_key_file);
		say("client_id: %s, client authentication: %s (certificate "
		    "%s, key %s)", cfg->client_id,
		    cfg_auth_name(cfg->client_auth), cfg->client_cert_file,
		    cfg->client_key_file);
	} else {
		say("client_id: %s, client authentication: %s",
		    cfg->client_id,
		    cfg->client_auth == CFG_AUTH_BASIC ? "basic (secret set)" :
		    cfg->client_auth == CFG_AUTH_POST ? "post (secret set)" :
		    "none (public client)");
	}
	say("grants: %s%s%s%s%s", grant_name(cfg->grants[0]),
	    cfg->ngrants > 1 ? " " : "",
	    cfg->ngrants > 1 ? grant_name(cfg->grants[1]) : "",
	    cfg->ngrants > 2 ? " " : "",
	    cfg->ngrants > 2 ? grant_name(cfg->grants[2]) : "");
	say("scope: %s; username_claim: %s; username_format: %s",
	    cfg->scope, cfg->username_claim, cfg->username_format);
	check_dir(c, "cache_dir", cfg->cache_dir);
	if (cfg->offline_cache)
		check_dir(c, "offline_dir", cfg->offline_dir);
	if (cfg->provision) {
		say("provision: new records bound to issuer %s and the %s",
		    cfg_identity_issuer(cfg), cfg_plain_oauth2(cfg) ?
		    cfg->user_id_claim : "sub");
		c->problems += ctl_user_check("/etc/nsswitch.conf");
	}

	rc = login_init(&lg, cfg, &c->lc, "pam_oauth2ctl");
	if (rc != 0) {
		problem(c, "cannot start a login: %s", plain(lg.why));
		goto out;
	}
	check_trust(c, &lg);
	/* Always ask the network: the cache would hide a broken IdP. */
	lg.cache_dir = NULL;
	if (cfg_plain_oauth2(cfg)) {
		say("discovery: none (a provider without OpenID Connect)");
	} else if (cfg->token_endpoint == NULL || cfg->jwks_uri == NULL ||
	    (cfg_allows(cfg, CFG_GRANT_DEVICE) &&
	    cfg->device_authorization_endpoint == NULL) ||
	    (cfg_allows(cfg, CFG_GRANT_TOKEN) &&
	    cfg->token_introspection != CFG_INTROSPECT_NEVER &&
	    cfg->introspection_endpoint == NULL)) {
		url = discovery_url(cfg->issuer);
		say("discovery: GET %s", url != NULL ? url : "?");
	} else {
		say("discovery: not needed (token_endpoint and jwks_uri are "
		    "configured)");
	}
	rc = login_endpoints(&lg);
	if (rc != 0) {
		problem(c, "discovery failed (%s): %s", lg.why,
		    plain(lg.why));
		goto out;
	}
	say("  token endpoint:    %s", lg.ep.token);
	say("  JWKS:              %s", lg.ep.jwks != NULL ? lg.ep.jwks :
	    "(none)");
	say("  userinfo endpoint: %s", lg.ep.userinfo != NULL ?
	    lg.ep.userinfo : "(none)");
	say("  device endpoint:   %s", lg.ep.device != NULL ?
	    lg.ep.device : "(none)");
	if (cfg_allows(cfg, CFG_GRANT_DEVICE) && lg.ep.device == NULL)
		problem(c, "grants include device, but %s",
		    plain("no_device_endpoint"));
	if (cfg_allows(cfg, CFG_GRANT_TOKEN)) {
		say("  introspection:     %s", lg.ep.introspection != NULL ?
		    lg.ep.introspection : "(none)");
		say("  token_audience:    %s (token_introspection = %s)",
		    cfg->token_audience,
		    cfg->token_introspection == CFG_INTROSPECT_ALWAYS ?
		    "always" : cfg->token_introspection ==
		    CFG_INTROSPECT_NEVER ? "never" : "auto");
		say("  token_clients:     %s", cfg->token_clients);
		/* Without introspection only at+jwt JWTs can be checked:
		 * a problem when every token must be introspected, a
		 * warning when opaque tokens would be. */
		if (lg.ep.introspection == NULL &&
		    cfg->token_introspection == CFG_INTROSPECT_ALWAYS)
			problem(c, "token_introspection = always, but %s",
			    plain("no_introspection_endpoint"));
		else if (lg.ep.introspection == NULL &&
		    cfg->token_introspection == CFG_INTROSPECT_AUTO)
			say("warning: no introspection endpoint: opaque "
			    "tokens are refused (no_introspection_endpoint); "
			    "set token_introspection = never to say so");
	}
	if (cfg_plain_oauth2(cfg))
		goto out;
	rc = login_jwks_check(&lg, &nkeys);
	if (rc != 0) {
		problem(c, "JWKS %s failed (%s): %s", lg.ep.jwks, lg.why,
		    plain(lg.why));
		goto out;
	}
	say("JWKS: %zu usable signing key%s", nkeys, nkeys == 1 ? "" : "s");
out:
	free(url);
	login_clear(&lg);
	cfg_free(&cfg);
	if (c->problems == 0) {
		say("no problems found");
		return 0;
	}
	say("%d problem%s found", c->problems, c->problems == 1 ? "" : "s");
	return EXIT_PROBLEM;
}

/* ---------------------------------------------------------------- login */

/*
 * Read one line into buf (size len): from the terminal with echo off when
 * stdin is one (prompt on stderr), else from stdin as it is.  The line
 * end is dropped.  Returns 0, or -1 at end of input.
 */
static int
read_secret(const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) != 0;
	bool echo_off = false;
	size_t n = 0;
	int rc = 0;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH,
			    &quiet) == 0;
		}
	}
	for (;;) {
		char ch;
		ssize_t r = read(STDIN_FILENO, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (n == 0)
				rc = -1;
			break;
		}
		if (ch == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return rc;
}

/* The device grant's prompt: print it, wait for Enter (or end of input). */
static int
show_device(void *arg, const char *prompt)
{
	char line[256];

	(void)arg;
	say("---- the prompt the user sees ----");
	fputs(prompt, stdout);
	putchar('\n');
	say("----------------------------------");
	if (fgets(line, sizeof(line), stdin) == NULL)
		say("(end of input: polling)");
	return 0;
}

static void
print_identity(const struct cfg *cfg, const struct login *lg)
{
	const char *v = NULL, *sub = NULL;
	char e1[LOG_ESC_MAX], e2[LOG_ESC_MAX], h[LOG_ESC_MAX];

	if (lg->claims == NULL)
		return;
	if (claims_get_string(lg->claims, cfg->username_claim, &v) != 0)
		v = NULL;
	if (claims_get_string(lg->claims, "sub", &sub) != 0)
		sub = NULL;
	say("identity: %s=%s (bound to the user %s)", cfg->username_claim,
	    log_escape(v, e1, sizeof(e1)), log_escape(lg->user, e2,
	    sizeof(e2)));
	say("identity: sub=%s (audit: sub=%s)", log_escape(sub, e1,
	    sizeof(e1)), cfg->audit_hash_sub ? log_hash(sub, h, sizeof(h)) :
	    e1);
}

/* The grant, the required_scopes and required_claims gates (as
 * authenticate applies them) and the mapped groups.  A refused gate is
 * OA2_ERR_DENIED with *reason its reason code. */
static int
print_groups(struct ctl *c, const struct cfg *cfg, const char *user,
    const struct login *lg, const char **reason)
{
	struct grant *g = NULL;
	struct group_list granted = { 0 }, mapped = { 0 };
	char missing[GRANT_MAX_VALUE + 16], buf[1024], e[LOG_ESC_MAX];
	const char *why = NULL;
	int rc;

	*reason = NULL;
	say("scope granted: %s", lg->scope != NULL ? lg->scope : "-");
	rc = grant_from_login(cfg, &c->lc, user, lg->scope, lg->claims, &g,
	    &why);
	if (rc != 0) {
		say("grant: refused (%s): the module would return %s",
		    why != NULL ? why : "error", pam_name(rc));
		return rc;
	}
	/* org:/team: of a plain OAuth 2 provider, as the module adds them. */
	for (size_t i = 0; rc == 0 && i < lg->nmembers; i++)
		rc = grant_add(g, lg->members[i].src, lg->members[i].value,
		    NULL);
	if (rc != 0) {
		grant_free(&g);
		return rc;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < g->n; i++) {
		size_t l = strlen(buf);

		snprintf(buf + l, sizeof(buf) - l, "%s%s:%s", i ? " " : "",
		    cfg_source_name(g->values[i].src),
		    log_escape(g->values[i].value, e, sizeof(e)));
	}
	say("values (scopes%s): %s", cfg->groups_claim != NULL ?
	    " and groups_claim" : "", g->n > 0 ? buf : "-");
	if (groups_check_required(cfg, g, missing, sizeof(missing)) != 0) {
		say("gate: deny, required_scopes entry %s not granted "
		    "(authenticate returns PAM_AUTH_ERR, acct_mgmt "
		    "PAM_PERM_DENIED)", log_escape(missing, e, sizeof(e)));
		rc = OA2_ERR_DENIED;
		*reason = "missing_required";
		goto out;
	}
	if (groups_check_claims(cfg, lg->claims, &c->lc, missing,
	    sizeof(missing)) != 0) {
		say("gate: deny, required_claims entry for %s does not hold "
		    "(authenticate returns PAM_AUTH_ERR)", log_escape(missing,
		    e, sizeof(e)));
		rc = OA2_ERR_DENIED;
		*reason = "required_claim";
		goto out;
	}
	say("account: allow%s%s", cfg->nrequired > 0 ?
	    " (every required_scopes entry granted)" : "",
	    cfg->nrequired_claims > 0 ? " (every required_claims entry "
	    "holds)" : "");
	rc = groups_map(cfg, g, &c->lc, &granted, &mapped);
	if (rc != 0)
		goto out;
	say("groups: %s", granted.n > 0 ? group_list_join(&granted, buf,
	    sizeof(buf)) : "(none mapped)");
out:
	group_list_clear(&granted);
	group_list_clear(&mapped);
	grant_free(&g);
	return rc;
}

static int
cmd_login(struct ctl *c, const char *user)
{
	struct cfg *cfg = NULL;
	struct login lg = { 0 };
	char *password = NULL, *otp = NULL;
	const char *reason = NULL;
	char host[256];
	enum cfg_grant grant = CFG_GRANT_PASSWORD;
	int rc, status = EXIT_PROBLEM;

	if (load_config(c, true, &cfg) != 0)
		return EXIT_USAGE;
	c->lc.debug = true;
	if (c->grant == NULL)
		grant = cfg->grants[0];
	else if (strcmp(c->grant, "password") == 0)
		grant = CFG_GRANT_PASSWORD;
	else if (strcmp(c->grant, "device") == 0)
		grant = CFG_GRANT_DEVICE;
	else if (strcmp(c->grant, "token") == 0)
		grant = CFG_GRANT_TOKEN;
	else {
		fprintf(stderr, "pam_oauth2ctl: --grant must be password, "
		    "device or token\n");
		status = EXIT_USAGE;
		goto out;
	}
	if (!cfg_allows(cfg, grant))
		say("note: the configuration does not allow the %s grant; "
		    "trying it anyway", grant_name(grant));
	if (identity_check_user(user) != 0) {
		say("result: deny, reason=invalid_user_name (%s)",
		    pam_name(OA2_ERR_USER));
		goto out;
	}
	if (!identity_local_user(user) && !cfg->provision) {
		say("result: deny, reason=unknown_user: %s is not a local "
		    "account, so the module sends nothing to the IdP (%s)",
		    user, pam_name(OA2_ERR_USER));
		goto out;
	}
	if (!identity_local_user(user))
		say("note: %s has no account; with provision = yes the module "
		    "would create it after a verified login (this command "
		    "creates nothing)", user);
	if (grant == CFG_GRANT_TOKEN) {
		if (cfg->token_audience == NULL) {
			say("result: error, the token grant needs "
			    "token_audience (%s)", pam_name(OA2_ERR_CONFIG));
			goto out;
		}
		/* Room for a JWT of JWT_MAX_BYTES and one byte more, so a
		 * longer one is seen as too long, not cut. */
		password = calloc(1, JWT_MAX_BYTES + 2);
		if (password == NULL || read_secret("Access token: ", password,
		    JWT_MAX_BYTES + 2) != 0 || password[0] == '\0') {
			fprintf(stderr, "pam_oauth2ctl: no access token\n");
			status = EXIT_USAGE;
			goto out;
		}
		say("access token: read, %zu characters (not shown), %s",
		    strlen(password), grant_token_is_jws(password) ?
		    "a JWS" : grant_token_shaped(password) ?
		    "an opaque token" : "not shaped like a token");
	}
	if (grant == CFG_GRANT_PASSWORD) {
		password = calloc(1, SECRET_MAX);
		if (password == NULL || read_secret("Password: ", password,
		    SECRET_MAX) != 0) {
			fprintf(stderr, "pam_oauth2ctl: no password\n");
			status = EXIT_USAGE;
			goto out;
		}
		say("password: read, %zu characters (not shown)",
		    strlen(password));
		if (password[0] == '\0') {
			say("result: deny, reason=empty_password: the module "
			    "sends no request for an empty password (%s)",
			    pam_name(OA2_ERR_DENIED));
			goto out;
		}
		if (cfg->otp == CFG_OTP_PROMPT) {
			otp = calloc(1, SECRET_MAX);
			if (otp == NULL || read_secret("One-time code: ", otp,
			    SECRET_MAX) != 0 || otp[0] == '\0') {
				say("result: deny, reason=empty_otp");
				goto out;
			}
		}
	}
	rc = login_init(&lg, cfg, &c->lc, user);
	if (rc != 0) {
		say("result: error, cannot start a login (%s)",
		    pam_name(rc));
		goto out;
	}
	say("user: %s, sent to the IdP as %s", user, lg.user);
	rc = login_endpoints(&lg);
	if (rc != 0) {
		say("endpoints: failed (%s): %s", lg.why, plain(lg.why));
		goto result;
	}
	say("endpoints: token %s, JWKS %s", lg.ep.token,
	    lg.ep.jwks != NULL ? lg.ep.jwks : "(none)");
	if (grant == CFG_GRANT_PASSWORD) {
		say("request: password grant (RFC 6749 4.3) to %s%s",
		    lg.ep.token, otp != NULL ? ", with a one-time code" : "");
		rc = grant_password(&lg, password, otp);
	} else if (grant == CFG_GRANT_TOKEN) {
		bool local = grant_token_is_jws(password) &&
		    cfg->token_introspection != CFG_INTROSPECT_ALWAYS;

		say("token: %s, audience %s", local ? "a JWT access token, "
		    "verified locally (RFC 9068) with the JWKS" :
		    "introspection (RFC 7662) at the introspection endpoint",
		    cfg->token_audience);
		if (!local)
			say("  introspection endpoint: %s",
			    lg.ep.introspection != NULL ?
			    lg.ep.introspection : "(none)");
		rc = grant_token(&lg, password);
	} else {
		if (gethostname(host, sizeof(host)) != 0)
			strcpy(host, "this host");
		host[sizeof(host) - 1] = '\0';
		say("request: device grant (RFC 8628) at %s",
		    lg.ep.device != NULL ? lg.ep.device : "(none)");
		rc = grant_device(&lg, show_device, NULL, host);
	}
	if (password != NULL)
		secret_wipe(password, strlen(password));
	free(password);
	password = NULL;
	secret_free(&otp);
	say("verification: %s", rc != 0 ? "failed" :
	    grant == CFG_GRANT_TOKEN ? "access token verified, identity "
	    "bound" : "ID token (or userinfo) verified, identity bound");
	if (lg.audit_token != NULL)
		say("token: %s (the audit line's token=)", lg.audit_token);
result:
	if (rc != 0) {
		say("result: deny, reason=%s (%s): %s", lg.why, pam_name(rc),
		    plain(lg.why));
		goto out;
	}
	print_identity(cfg, &lg);
	rc = print_groups(c, cfg, user, &lg, &reason);
	if (rc == 0)
		say("result: allow, reason=ok (PAM_SUCCESS), %d request%s",
		    lg.requests, lg.requests == 1 ? "" : "s");
	else if (reason != NULL)
		say("result: deny, reason=%s (%s)", reason, pam_name(rc));
	status = rc == 0 ? 0 : EXIT_PROBLEM;
out:
	if (password != NULL)
		secret_wipe(password, grant == CFG_GRANT_TOKEN ?
		    JWT_MAX_BYTES + 2 : SECRET_MAX);
	if (otp != NULL)
		secret_wipe(otp, SECRET_MAX);
	free(password);
	free(otp);
	login_clear(&lg);
	cfg_free(&cfg);
	return status;
}

/* ---------------------------------------------------------------- cache */

struct list_state {
	time_t now;
	int n;
};

static void
age(char *buf, size_t len, long long s)
{
	if (s < 0)
		snprintf(buf, len, "in the future");
	else if (s < 120)
		snprintf(buf, len, "%lld s ago", s);
	else if (s < 7200)
		snprintf(buf, len, "%lld min ago", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%lld h ago", s / 3600);
	else
		snprintf(buf, len, "%lld days ago", s / 86400);
}

static void
list_meta(void *arg, const char *name, const struct cache_entry *e)
{
	struct list_state *st = arg;
	char a[64];
	const char *kind;

	st->n++;
	if (e == NULL) {
		say("  %s  unusable (unsafe or corrupt: ignored by the module)",
		    name);
		return;
	}
	kind = strstr(e->body, "\"keys\"") != NULL ? "JWKS" :
	    strstr(e->body, "\"issuer\"") != NULL ? "discovery" : "other";
	age(a, sizeof(a), (long long)(st->now - e->fetched));
	if (st->now < e->expires)
		say("  %s  %-9s %6zu bytes  fetched %s, fresh for %lld s",
		    name, kind, e->len, a, (long long)(e->expires - st->now));
	else
		say("  %s  %-9s %6zu bytes  fetched %s, stale", name, kind,
		    e->len, a);
}

static void
list_offline(void *arg, const char *name, time_t verified, long fails)
{
	struct list_state *st = arg;
	char a[64];

	st->n++;
	if (verified == 0) {
		say("  %s  unusable (unsafe or corrupt)", name);
		return;
	}
	age(a, sizeof(a), (long long)(st->now - verified));
	say("  %s  verified by the IdP %s, %ld failed offline attempt%s",
	    name, a, fails, fails == 1 ? "" : "s");
}

static int
cmd_cache(struct ctl *c, const char *what)
{
	struct cfg *cfg = NULL;
	struct list_state st = { 0 };
	int rc, status = 0;

	if (load_config(c, false, &cfg) != 0)
		return EXIT_USAGE;
	st.now = time(NULL);
	if (strcmp(what, "list") == 0) {
		say("metadata cache %s:", cfg->cache_dir);
		rc = cache_list(cfg->cache_dir, list_meta, &st);
		if (rc == OA2_ERR_NOTFOUND)
			say("  (does not exist)");
		else if (rc != 0)
			status = EXIT_PROBLEM;
		else if (st.n == 0)
			say("  (empty)");
		st.n = 0;
		say("offline verifiers %s (offline_cache = %s):",
		    cfg->offline_dir, cfg->offline_cache ? "yes" : "no");
		rc = offline_list(cfg->offline_dir, list_offline, &st);
		if (rc == OA2_ERR_NOTFOUND)
			say("  (does not exist)");
		else if (rc != 0)
			status = EXIT_PROBLEM;
		else if (st.n == 0)
			say("  (empty)");
	} else if (strcmp(what, "clear") == 0) {
		if (cache_clear(cfg->cache_dir) != 0) {
			say("could not clear %s", cfg->cache_dir);
			status = EXIT_PROBLEM;
		} else {
			say("metadata cache %s: cleared", cfg->cache_dir);
		}
		if (c->offline) {
			if (offline_clear(cfg->offline_dir) != 0) {
				say("could not clear %s", cfg->offline_dir);
				status = EXIT_PROBLEM;
			} else {
				say("offline verifiers %s: cleared",
				    cfg->offline_dir);
			}
		} else {
			say("offline verifiers %s: kept (--offline removes "
			    "them)", cfg->offline_dir);
		}
	} else {
		fprintf(stderr, "pam_oauth2ctl: cache list or cache clear\n");
		status = EXIT_USAGE;
	}
	cfg_free(&cfg);
	return status;
}

/* ---------------------------------------------------------------- main */

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "grant", required_argument, NULL, 'g' },
		{ "offline", no_argument, NULL, 'o' },
		{ "type", required_argument, NULL, 't' },
		{ "alg", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "subject", required_argument, NULL, 'S' },
		{ "days", required_argument, NULL, 'D' },
		{ "set", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { 0 };
	const char *cmd;
	int ch;

	c.config = CFG_DEFAULT_PATH;
	c.lc.sink = stdout;
	c.kg.days = 365;
	/* Options may come before or after the command (GNU getopt
	 * permutes). */
	while ((ch = getopt_long(argc, argv, "c:g:ht:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			c.config = optarg;
			break;
		case 'g':
			c.grant = optarg;
			break;
		case 'o':
			c.offline = true;
			break;
		case 't':
			c.kg.type = optarg;
			break;
		case 'A':
			c.kg.alg = optarg;
			break;
		case 'C':
			c.kg.cert = optarg;
			break;
		case 'S':
			c.kg.subject = optarg;
			break;
		case 'D': {
			char *end = NULL;

			errno = 0;
			c.kg.days = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0')
				c.kg.days = -1;
			break;
		}
		case 'J':
			c.kg.set = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (c.config[0] != '/') {
		fprintf(stderr, "pam_oauth2ctl: --config needs an absolute "
		    "path\n");
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (strcmp(cmd, "check") == 0 && optind == argc)
		return cmd_check(&c);
	if (strcmp(cmd, "login") == 0 && optind + 1 == argc)
		return cmd_login(&c, argv[optind]);
	if (strcmp(cmd, "cache") == 0 && optind + 1 == argc)
		return cmd_cache(&c, argv[optind]);
	if (strcmp(cmd, "user") == 0 && optind < argc && optind + 2 >= argc)
		return ctl_user(argv[optind], optind + 1 < argc ?
		    argv[optind + 1] : NULL);
	if (strcmp(cmd, "keygen") == 0 && optind + 1 == argc)
		return ctl_keygen(&c.kg, argv[optind]);
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}
