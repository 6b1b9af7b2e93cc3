/*
 * test_cfg - the configuration parser: file safety, keys, values,
 * module-argument overrides.  Runs as root (the file owner checks need it).
 */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cfg.h"
#include "errors.h"
#include "tap.h"

static char dir[] = "/tmp/oa2cfgXXXXXX";
static char path[512];
static char err[CFG_ERR_LEN];

#define BASE "issuer = https://idp.example\nclient_id = pam\n"

/* Remove the scratch directory and the files in it (the tests leave /tmp
 * as they found it). */
static void
remove_dir(void)
{
	struct dirent *de;
	char p[600];
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) != 0)
			rmdir(p);
	}
	closedir(d);
	rmdir(dir);
}

static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

/* Load with config=path plus extra args; returns the code. */
static int
load(const char *file, struct cfg **c, int nargs, ...)
{
	const char *argv[16];
	char arg[600];
	va_list ap;
	int argc = 0;

	snprintf(arg, sizeof(arg), "config=%s", file);
	argv[argc++] = arg;
	va_start(ap, nargs);
	for (int i = 0; i < nargs && argc < 16; i++)
		argv[argc++] = va_arg(ap, const char *);
	va_end(ap);
	err[0] = '\0';
	return cfg_load(argc, argv, c, err, sizeof(err));
}

static void
expect_error(const char *what, const char *text, mode_t mode,
    const char *needle)
{
	struct cfg *c = NULL;
	int rc = load(write_file("e.conf", text, mode), &c, 0);

	is_int(rc, OA2_ERR_CONFIG, "%s is refused", what);
	ok(c == NULL, "%s: no config returned", what);
	ok(strstr(err, needle) != NULL, "%s: error mentions \"%s\"", what,
	    needle);
	if (strstr(err, needle) == NULL)
		printf("#   error was: %s\n", err);
	cfg_free(&c);
}

/* A PEM private key file (EC P-256) of mode; returns its path. */
static const char *
key_file(const char *name, mode_t mode)
{
	static char kp[512];
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	FILE *f;

	snprintf(kp, sizeof(kp), "%s/%s", dir, name);
	unlink(kp);
	f = fopen(kp, "w");
	if (k == NULL || f == NULL ||
	    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1)
		abort();
	fclose(f);
	chmod(kp, mode);
	EVP_PKEY_free(k);
	return kp;
}

/* The client authentication keys of issue 14. */
static void
test_client_key(void)
{
	struct cfg *c = NULL;
	char text[2048];
	const char *kf = key_file("client.key", 0600);
	int rc;

	snprintf(text, sizeof(text), BASE "client_auth = private_key_jwt\n"
	    "client_key_file = %s\nclient_key_id = k1\n", kf);
	rc = load(write_file("k.conf", text, 0600), &c, 0);
	is_int(rc, 0, "private_key_jwt with a P-256 key loads (%s)", err);
	ok(c != NULL && c->client_auth == CFG_AUTH_PRIVATE_KEY_JWT &&
	    c->client_key != NULL && c->client_assertion_aud ==
	    CFG_AUD_TOKEN_ENDPOINT, "private_key_jwt: key parsed, aud the "
	    "token endpoint by default");
	ok(c != NULL && c->client_cert == NULL,
	    "private_key_jwt: no certificate");
	cfg_free(&c);
	snprintf(text, sizeof(text), BASE "client_auth = private_key_jwt\n"
	    "client_key_file = %s\nclient_assertion_aud = issuer\n", kf);
	rc = load(write_file("k.conf", text, 0600), &c, 0);
	ok(rc == 0 && c->client_assertion_aud == CFG_AUD_ISSUER,
	    "client_assertion_aud = issuer");
	cfg_free(&c);

	expect_error("private_key_jwt without client_key_file",
	    BASE "client_auth = private_key_jwt\n", 0600,
	    "private_key_jwt needs client_key_file");
	snprintf(text, sizeof(text), BASE "client_auth = private_key_jwt\n"
	    "client_key_file = %s\nclient_secret = s\n", kf);
	expect_error("private_key_jwt with client_secret", text, 0600,
	    "does not use client_secret or client_secret_file: remove it");
	snprintf(text, sizeof(text), BASE "client_auth = private_key_jwt\n"
	    "client_key_file = %s\nclient_key_alg = RS256\n", kf);
	expect_error("an EC key with client_key_alg = RS256", text, 0600,
	    "client_key_alg RS256 does not fit a P-256 key");
	snprintf(text, sizeof(text), BASE "client_auth = basic\n"
	    "client_secret = s\nclient_key_file = %s\n", kf);
	expect_error("client_key_file with client_auth = basic", text, 0600,
	    "only used with client_auth = private_key_jwt");
	snprintf(text, sizeof(text), BASE "client_key_file = %s\n", kf);
	expect_error("client_key_file without client_auth", text, 0600,
	    "client_auth is not");
	expect_error("client_auth = private-key-jwt",
	    BASE "client_auth = private-key-jwt\n", 0600,
	    "client_auth must be basic, post, none, private_key_jwt, "
	    "tls_client_auth or self_signed_tls_client_auth");
	expect_error("client_assertion_aud = audience",
	    BASE "client_assertion_aud = audience\n", 0600,
	    "client_assertion_aud must be token_endpoint or issuer");
	/* Review finding 16: an assertion key with no assertion. */
	expect_error("client_assertion_aud without client_auth",
	    BASE "client_secret = s\nclient_assertion_aud = issuer\n", 0600,
	    "client_assertion_aud is only used with client_auth = "
	    "private_key_jwt");
	expect_error("client_assertion_aud = token_endpoint with basic",
	    BASE "client_auth = basic\nclient_secret = s\n"
	    "client_assertion_aud = token_endpoint\n", 0600,
	    "client_assertion_aud is only used with client_auth = "
	    "private_key_jwt");
	snprintf(text, sizeof(text), BASE "client_auth = tls_client_auth\n"
	    "client_key_file = %s\nclient_cert_file = %s\n"
	    "client_assertion_aud = issuer\n", kf, kf);
	expect_error("client_assertion_aud with tls_client_auth", text, 0600,
	    "client_assertion_aud is only used with client_auth = "
	    "private_key_jwt");
	snprintf(text, sizeof(text), BASE "client_auth = tls_client_auth\n"
	    "client_key_file = %s\n", kf);
	expect_error("tls_client_auth without client_cert_file", text, 0600,
	    "needs client_cert_file and client_key_file");
	snprintf(text, sizeof(text), BASE "client_auth = private_key_jwt\n"
	    "client_key_file = %s\nclient_cert_file = %s\n", kf, kf);
	expect_error("client_cert_file with private_key_jwt", text, 0600,
	    "client_cert_file is only used with client_auth = "
	    "tls_client_auth");
	kf = key_file("group.key", 0640);
	snprintf(text, sizeof(text), BASE "client_auth = private_key_jwt\n"
	    "client_key_file = %s\n", kf);
	expect_error("a key file of mode 0640", text, 0600,
	    "group.key: readable by others than root");
	snprintf(text, sizeof(text), BASE "client_auth = private_key_jwt\n"
	    "client_key_file = %s/missing.key\n", dir);
	expect_error("a missing key file", text, 0600,
	    "missing.key: cannot open");
	/* The key file is checked, also from a module argument. */
	kf = key_file("client.key", 0600);
	snprintf(text, sizeof(text), "client_key_file=%s", kf);
	rc = load(write_file("k.conf", BASE "client_auth = private_key_jwt\n",
	    0600), &c, 1, text);
	is_int(rc, 0, "client_key_file as a module argument (%s)", err);
	cfg_free(&c);
}

int
main(void)
{
	struct cfg *c = NULL;
	char buf[CFG_MAX_FILE + 100];
	int rc;

	if (mkdtemp(dir) == NULL)
		abort();

	/* Defaults. */
	rc = load(write_file("ok.conf", "# comment\n\n" BASE, 0644), &c, 0);
	is_int(rc, 0, "minimal file loads");
	if (c != NULL) {
		is_str(c->issuer, "https://idp.example", "issuer");
		is_str(c->client_id, "pam", "client_id");
		is_str(c->scope, "openid", "default scope");
		is_str(c->username_claim, "preferred_username",
		    "default username_claim");
		is_str(c->username_format, "%u", "default username_format");
		is_int(c->timeout, 10, "default timeout");
		is_int(c->connect_timeout, 5, "default connect_timeout");
		is_int(c->min_uid, 1000, "default min_uid");
		is_int(c->outage_window, 30, "default outage_window");
		is_int(c->client_auth, CFG_AUTH_NONE,
		    "public client: client_auth none");
		ok(!c->debug, "debug off by default");
		ok(!c->provision, "provision off by default");
		is_int(c->provision_max_age, 30 * 86400,
		    "default provision_max_age 30 days");
		ok(c->uid_claim == NULL, "no uid_claim by default");
	}
	cfg_free(&c);
	ok(c == NULL, "cfg_free clears the pointer");

	/* Provisioning keys. */
	rc = load(write_file("ok.conf", BASE "provision = yes\n"
	    "uid_claim = ext.uid\nprovision_max_age = 86400\n", 0644), &c, 0);
	is_int(rc, 0, "provisioning keys load");
	if (c != NULL) {
		ok(c->provision, "provision = yes");
		is_str(c->uid_claim, "ext.uid", "uid_claim");
		is_int(c->provision_max_age, 86400, "provision_max_age");
	}
	cfg_free(&c);
	expect_error("uid_claim empty", BASE "uid_claim =\n", 0644,
	    "uid_claim is empty");
	expect_error("provision_max_age too small", BASE
	    "provision_max_age = 10\n", 0644,
	    "provision_max_age must be a whole number from 3600");
	expect_error("provision not boolean", BASE "provision = maybe\n",
	    0644, "provision must be yes or no");

	/* Provisioning with a plain OAuth 2 provider: the record's issuer is
	 * the user API (cfg_identity_issuer), an OpenID provider's is its
	 * issuer. */
	rc = load(write_file("ok.conf", BASE "provision = yes\n", 0644), &c,
	    0);
	is_int(rc, 0, "OpenID provider with provision loads");
	if (c != NULL)
		is_str(cfg_identity_issuer(c), "https://idp.example",
		    "OpenID provider: the identity's namespace is the issuer");
	cfg_free(&c);
	rc = load(write_file("ok.conf", "provider = github\nclient_id = gh\n"
	    "grants = device\nprovision = yes\n", 0644), &c, 0);
	is_int(rc, 0, "provider = github with provision = yes loads");
	if (c != NULL) {
		ok(c->provision, "provision on with provider = github");
		is_str(cfg_identity_issuer(c), "https://api.github.com/user",
		    "github.com: the identity's namespace is its user API");
		is_str(c->user_id_claim, "id", "github: the record's sub is id");
		is_str(c->device_authorization_endpoint,
		    "https://github.com/login/device/code",
		    "github.com: the device code endpoint");
		is_str(c->token_endpoint,
		    "https://github.com/login/oauth/access_token",
		    "github.com: the token endpoint");
		is_str(c->orgs_endpoint, "https://api.github.com/user/orgs",
		    "github.com: the orgs list");
		is_str(c->teams_endpoint, "https://api.github.com/user/teams",
		    "github.com: the teams list");
		is_str(c->username_claim, "login", "github: login binds");
		is_str(c->scope, "read:user", "github: scope read:user");
		ok(c->errors_with_200, "github: errors with HTTP 200");
		ok(c->issuer == NULL, "github: no issuer");
	}
	cfg_free(&c);
	/* GitHub has no password grant: device by default, password
	 * refused. */
	rc = load(write_file("ok.conf", "provider = github\nclient_id = gh\n",
	    0644), &c, 0);
	is_int(rc, 0, "provider = github without grants loads");
	if (c != NULL)
		ok(c->ngrants == 1 && c->grants[0] == CFG_GRANT_DEVICE,
		    "  the device grant, and only it, by default");
	cfg_free(&c);
	expect_error("provider github with the password grant",
	    "provider = github\nclient_id = gh\ngrants = password device\n",
	    0644, "provider github has no password grant: use grants = device");
	rc = load(write_file("ok.conf", "provider = github\nclient_id = gh\n",
	    0644), &c, 1, "grants=password");
	is_int(rc, OA2_ERR_CONFIG, "  also from a module argument");
	cfg_free(&c);
	rc = load(write_file("ok.conf", "client_id = x\n"
	    "token_endpoint = https://oauth.example/token\n"
	    "user_endpoint = https://api.oauth.example/v2/me\n", 0644), &c, 0);
	is_int(rc, 0, "generic user_endpoint: loads");
	if (c != NULL)
		ok(c->ngrants == 1 && c->grants[0] == CFG_GRANT_PASSWORD,
		    "  the usual default grant (a similar provider may have it)");
	cfg_free(&c);
	rc = load(write_file("ok.conf", "provider = github\nclient_id = gh\n"
	    "github_url = https://ghe.example//\ngrants = device\n"
	    "provision = yes\n", 0644), &c, 0);
	is_int(rc, 0, "GitHub Enterprise Server with provision loads");
	if (c != NULL) {
		is_str(cfg_identity_issuer(c), "https://ghe.example/api/v3/user",
		    "GHES: its user API, trailing slashes of github_url dropped");
		is_str(c->device_authorization_endpoint,
		    "https://ghe.example/login/device/code",
		    "GHES: the device code endpoint");
		is_str(c->token_endpoint,
		    "https://ghe.example/login/oauth/access_token",
		    "GHES: the token endpoint");
		is_str(c->teams_endpoint,
		    "https://ghe.example/api/v3/user/teams",
		    "GHES: the teams list under /api/v3");
	}
	cfg_free(&c);
	rc = load(write_file("ok.conf", "client_id = x\n"
	    "token_endpoint = https://oauth.example/token\n"
	    "user_endpoint = https://api.oauth.example/v2/me\n"
	    "user_id_claim = uid\nprovision = yes\n", 0644), &c, 0);
	is_int(rc, 0, "generic user_endpoint with provision loads");
	if (c != NULL) {
		is_str(cfg_identity_issuer(c), "https://api.oauth.example/v2/me",
		    "generic: the identity's namespace is user_endpoint");
		is_str(c->user_id_claim, "uid", "generic: user_id_claim kept");
	}
	cfg_free(&c);

	/* Module arguments override the file; bracketed values arrive with
	 * their spaces intact. */
	rc = load(write_file("ok.conf", BASE "timeout = 20\nscope = openid\n",
	    0644), &c, 4, "timeout=30", "scope=openid profile pam:login",
	    "debug", "try_first_pass");
	is_int(rc, 0, "arguments apply");
	if (c != NULL) {
		is_int(c->timeout, 30, "argument overrides file timeout");
		is_str(c->scope, "openid profile pam:login",
		    "value with spaces from [key=value] argument");
		ok(c->debug, "bare debug argument");
		ok(c->try_first_pass, "bare try_first_pass argument");
	}
	cfg_free(&c);

	/* Connect timeout never exceeds the whole timeout. */
	rc = load(write_file("ok.conf", BASE "timeout = 3\n", 0644), &c, 0);
	is_int(rc, 0, "timeout 3 loads");
	if (c != NULL)
		is_int(c->connect_timeout, 3, "connect_timeout clamped");
	cfg_free(&c);

	/* Secrets. */
	rc = load(write_file("s.conf", BASE "client_secret = s3cr=t&\n",
	    0600), &c, 0);
	is_int(rc, 0, "client_secret in a 0600 file");
	if (c != NULL) {
		is_str(c->client_secret, "s3cr=t&", "secret value kept");
		is_int(c->client_auth, CFG_AUTH_BASIC,
		    "with a secret client_auth defaults to basic");
	}
	cfg_free(&c);
	expect_error("client_secret in a world-readable file",
	    BASE "client_secret = x\n", 0644, "readable by others");
	write_file("secret", "from-file\n", 0600);
	{
		char text[1024];

		snprintf(text, sizeof(text), BASE
		    "client_secret_file = %s/secret\nclient_auth = post\n",
		    dir);
		rc = load(write_file("sf.conf", text, 0644), &c, 0);
		is_int(rc, 0, "client_secret_file 0600");
		if (c != NULL) {
			is_str(c->client_secret, "from-file",
			    "secret read, newline stripped");
			is_int(c->client_auth, CFG_AUTH_POST,
			    "client_auth post");
		}
		cfg_free(&c);
		write_file("secret", "from-file\n", 0640);
		rc = load(write_file("sf.conf", text, 0644), &c, 0);
		is_int(rc, OA2_ERR_CONFIG,
		    "group-readable client_secret_file refused");
		ok(strstr(err, "readable by others") != NULL,
		    "error says why: %s", err);
		cfg_free(&c);
	}

	/* client_secret as a module argument: /etc/pam.d is world-readable,
	 * so only the root-only file or client_secret_file may hold it. */
	rc = load(write_file("ok.conf", BASE, 0600), &c, 1,
	    "client_secret=arg-s3cret");
	is_int(rc, OA2_ERR_CONFIG, "client_secret as a module argument is "
	    "refused");
	ok(c == NULL, "no config returned");
	ok(strstr(err, "module arguments: client_secret is not allowed as a "
	    "module argument") != NULL && strstr(err, "client_secret_file") !=
	    NULL, "the error says where it may be (%s)", err);
	ok(strstr(err, "arg-s3cret") == NULL, "the error does not show the "
	    "secret");
	rc = load(write_file("s.conf", BASE "client_secret = s3cr=t&\n",
	    0600), &c, 1, "client_secret=other");
	is_int(rc, OA2_ERR_CONFIG, "also when the file holds one");
	cfg_free(&c);

	/* Sourced gates and mappings (more in test_groups). */
	expect_error("an unprefixed required_scopes entry",
	    BASE "required_scopes = pam:login\n", 0644,
	    "e.conf:3: required_scopes entry \"pam:login\" must name its "
	    "source: write scope:pam:login (a granted scope) or "
	    "claim:pam:login (a value of groups_claim)");
	expect_error("an unprefixed [groups] key",
	    BASE "[groups]\nadmin = wheel\n", 0644,
	    "e.conf:4: [groups] key \"admin\" must name its source: write "
	    "scope:admin (a granted scope) or claim:admin (a value of "
	    "groups_claim)");
	expect_error("a required_claims entry without '='",
	    BASE "required_claims = email_verified\n", 0644,
	    "e.conf:3: required_claims entry \"email_verified\" must be "
	    "NAME=VALUE");

	/* Bad keys and values. */
	expect_error("unknown key", BASE "isuer = https://x\n", 0644,
	    "e.conf:3: unknown option \"isuer\"");
	expect_error("http issuer", "issuer = http://idp.example\n"
	    "client_id = x\n", 0644, "e.conf:1: issuer must be an https://");
	expect_error("http token_endpoint", BASE
	    "token_endpoint = http://idp.example/token\n", 0644,
	    "token_endpoint must be an https://");
	expect_error("missing client_id", "issuer = https://i.example\n",
	    0644, "client_id is required");
	expect_error("missing issuer", "client_id = x\n", 0644,
	    "issuer is required");
	expect_error("min_uid zero", BASE "min_uid = 0\n", 0644,
	    "min_uid must be a whole number from 1 to 2147483647");
	expect_error("min_uid negative", BASE "min_uid = -1\n", 0644,
	    "min_uid must be");
	expect_error("min_uid too big", BASE "min_uid = 2147483648\n", 0644,
	    "min_uid must be");
	expect_error("min_uid not a number", BASE "min_uid = root\n", 0644,
	    "min_uid must be a whole number");
	rc = load(write_file("ok.conf", BASE "min_uid = 500\n", 0644), &c, 1,
	    "min_uid=60000");
	is_int(rc, 0, "min_uid in the file and as an argument loads");
	if (c != NULL)
		is_int(c->min_uid, 60000, "the argument wins");
	cfg_free(&c);
	expect_error("timeout with unit", BASE "timeout = 10s\n", 0644,
	    "timeout must be a whole number");
	expect_error("timeout zero", BASE "timeout = 0\n", 0644,
	    "timeout must be a whole number from 1 to 300");
	expect_error("timeout too big", BASE "timeout = 301\n", 0644,
	    "timeout must be");
	expect_error("outage_window too big", BASE "outage_window = 3601\n",
	    0644, "e.conf:3: outage_window must be a whole number from 0 to 3600");
	expect_error("negative outage_window", BASE "outage_window = -1\n",
	    0644, "outage_window must be");
	expect_error("negative connect_timeout", BASE
	    "connect_timeout = -1\n", 0644, "connect_timeout must be");
	expect_error("bad boolean", BASE "debug = maybe\n", 0644,
	    "debug must be yes or no");
	expect_error("bad client_auth", BASE "client_auth = jwt\n", 0644,
	    "client_auth must be basic, post, none, private_key_jwt");
	/* grants = token (issue 14). */
	rc = load(write_file("ok.conf", BASE "grants = token password device\n"
	    "token_audience = ssh://hosts\ntoken_introspection = always\n"
	    "token_clients = ci-deploy, ops-cli\tpam\n"
	    "introspection_endpoint = https://idp.example/introspect\n", 0644),
	    &c, 0);
	is_int(rc, 0, "grants = token password device loads");
	if (c != NULL) {
		ok(cfg_token_client_allowed(c, "ci-deploy"),
		    "token_clients: the first client is allowed");
		ok(cfg_token_client_allowed(c, "ops-cli"),
		    "token_clients: after a comma and a space");
		ok(cfg_token_client_allowed(c, "pam"),
		    "token_clients: after a tab");
		ok(!cfg_token_client_allowed(c, "ci"),
		    "token_clients: a prefix is not a match");
		ok(!cfg_token_client_allowed(c, "ci-deploy,"),
		    "token_clients: no separator in a match");
		ok(!cfg_token_client_allowed(c, ""),
		    "token_clients: the empty client is never allowed");
		ok(!cfg_token_client_allowed(c, "other"),
		    "token_clients: an unlisted client is not allowed");
		is_int(c->ngrants, 3, "three grants");
		is_int(c->grants[0], CFG_GRANT_TOKEN, "token first");
		is_str(c->token_audience, "ssh://hosts", "token_audience");
		is_int(c->token_introspection, CFG_INTROSPECT_ALWAYS,
		    "token_introspection = always");
		is_str(c->introspection_endpoint,
		    "https://idp.example/introspect", "introspection_endpoint");
	}
	cfg_free(&c);
	rc = load(write_file("ok.conf", BASE, 0644), &c, 0);
	is_int(rc, 0, "defaults load");
	if (c != NULL)
		is_int(c->token_introspection, CFG_INTROSPECT_AUTO,
		    "token_introspection defaults to auto");
	cfg_free(&c);
	expect_error("grants = token without token_audience",
	    BASE "grants = token\n", 0644, "grants = token needs "
	    "token_audience");
	expect_error("token_audience equal to client_id",
	    BASE "grants = token\ntoken_audience = pam\n"
	    "token_clients = ci\n", 0644,
	    "token_audience must differ from client_id");
	expect_error("grants = token without token_clients",
	    BASE "grants = token\ntoken_audience = ssh://hosts\n", 0644,
	    "grants = token needs token_clients");
	expect_error("token_clients of separators only",
	    BASE "grants = token\ntoken_audience = ssh://hosts\n"
	    "token_clients = , ,\n", 0644,
	    "grants = token needs token_clients");
	expect_error("provider github with the token grant",
	    "provider = github\nclient_id = gh\ngrants = token device\n"
	    "token_audience = x\ntoken_clients = y\n", 0644,
	    "provider github has no token grant");
	expect_error("bad token_introspection",
	    BASE "token_introspection = sometimes\n", 0644,
	    "token_introspection must be auto, always or never");
	expect_error("http introspection_endpoint",
	    BASE "introspection_endpoint = http://idp.example/i\n", 0644,
	    "introspection_endpoint must be an https://");
	expect_error("token twice", BASE "grants = token token\n", 0644,
	    "grants must list password, device and/or token, each once");
	expect_error("token with user_endpoint", "client_id = pam\n"
	    "token_endpoint = https://gh.example/t\nuser_endpoint = "
	    "https://gh.example/u\ngrants = token\ntoken_audience = x\n",
	    0644, "grants = token needs an OpenID Connect issuer");
	expect_error("basic without a secret", BASE "client_auth = basic\n",
	    0644, "needs client_secret");
	expect_error("username_format without %u", BASE
	    "username_format = user@corp\n", 0644, "username_format");
	expect_error("username_format with %x", BASE
	    "username_format = %u%x\n", 0644, "username_format");
	expect_error("use_first_pass in the file", BASE
	    "use_first_pass = yes\n", 0644, "module argument");
	expect_error("line without =", BASE "issuer\n", 0644,
	    "expected \"key = value\"");
	expect_error("unknown section", BASE "[nope]\n", 0644,
	    "unknown section");
	expect_error("empty value", BASE "scope =\n", 0644, "scope is empty");
	expect_error("both secret and secret file", BASE
	    "client_secret = a\nclient_secret_file = /x\n", 0600,
	    "both set");

	/* Unsafe files. */
	expect_error("group-writable file", BASE, 0664, "group or world");
	expect_error("world-writable file", BASE, 0646, "group or world");
	write_file("owned.conf", BASE, 0644);
	if (chown(path, 65534, 65534) != 0)
		abort();
	rc = load(path, &c, 0);
	is_int(rc, OA2_ERR_CONFIG, "file not owned by root refused");
	ok(strstr(err, "not owned by root") != NULL, "error says why: %s",
	    err);
	{
		char link[600];

		write_file("real.conf", BASE, 0644);
		snprintf(link, sizeof(link), "%s/link.conf", dir);
		if (symlink(path, link) != 0)
			abort();
		rc = load(link, &c, 0);
		is_int(rc, OA2_ERR_CONFIG, "symlinked config refused");
		ok(strstr(err, "symbolic link") != NULL, "error says why: %s",
		    err);
	}
	memset(buf, '#', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	expect_error("oversized file", buf, 0644, "larger than");
	rc = load("/nonexistent/pam_oauth2.conf", &c, 0);
	is_int(rc, OA2_ERR_CONFIG, "missing file refused");
	ok(strstr(err, "cannot open") != NULL, "error says why: %s", err);

	/* Bad arguments. */
	rc = load(write_file("ok.conf", BASE, 0644), &c, 1, "tiemout=5");
	is_int(rc, OA2_ERR_CONFIG, "misspelled argument refused");
	ok(strstr(err, "module arguments: unknown option \"tiemout\"") !=
	    NULL, "error names the argument: %s", err);
	{
		const char *argv[] = { "config=relative.conf" };

		rc = cfg_load(1, argv, &c, err, sizeof(err));
		is_int(rc, OA2_ERR_CONFIG, "relative config path refused");
	}

	/* ca_file and ca_path: root-owned, not group/world-writable, a file
	 * and a directory. */
	{
		char cadir[600], cafile[600], text[2048];

		snprintf(cadir, sizeof(cadir), "%s/cadir", dir);
		mkdir(cadir, 0755);
		chmod(cadir, 0755);
		snprintf(cafile, sizeof(cafile), "%s/ca.pem", dir);
		write_file("ca.pem", "not parsed here\n", 0644);
		snprintf(text, sizeof(text), BASE "ca_file = %s\nca_path = %s\n",
		    cafile, cadir);
		rc = load(write_file("ca.conf", text, 0644), &c, 0);
		is_int(rc, 0, "ca_file and ca_path together load");
		if (c != NULL) {
			is_str(c->ca_file, cafile, "ca_file kept");
			is_str(c->ca_path, cadir, "ca_path kept");
		}
		cfg_free(&c);
		snprintf(text, sizeof(text), BASE "ca_path = %s\n", cafile);
		expect_error("ca_path naming a file", text, 0644,
		    "ca_path");
		ok(strstr(err, "not a directory") != NULL,
		    "ca_path naming a file: says not a directory");
		snprintf(text, sizeof(text), BASE "ca_file = %s\n", cadir);
		expect_error("ca_file naming a directory", text, 0644,
		    "not a regular file");
		snprintf(text, sizeof(text), BASE "ca_path = %s/none\n", dir);
		expect_error("a missing ca_path", text, 0644, "cannot be found");
		chmod(cadir, 0775);
		snprintf(text, sizeof(text), BASE "ca_path = %s\n", cadir);
		expect_error("a group-writable ca_path", text, 0644,
		    "group or world writable");
		chmod(cadir, 0755);
		chmod(cafile, 0646);
		snprintf(text, sizeof(text), BASE "ca_file = %s\n", cafile);
		expect_error("a world-writable ca_file", text, 0644,
		    "group or world writable");
		chmod(cafile, 0644);
		ok(chown(cafile, 65534, 65534) == 0,
		    "ca_file handed to uid 65534");
		expect_error("a ca_file not owned by root", text, 0644,
		    "ca_file");
		ok(strstr(err, "not owned by root") != NULL,
		    "a ca_file not owned by root: says so");
		unlink(cafile);
		rmdir(cadir);
	}

	/* Every documented key is accepted by cfg_set. */
	{
		struct cfg *n = cfg_new();
		int unknown = 0;

		for (int i = 0; cfg_keys[i] != NULL; i++) {
			if (strcmp(cfg_keys[i], "config") == 0)
				continue;
			err[0] = '\0';
			cfg_set(n, cfg_keys[i], "x", "module arguments", err,
			    sizeof(err));
			if (strstr(err, "unknown option") != NULL)
				unknown++;
		}
		is_int(unknown, 0, "cfg_keys are all known to cfg_set");
		cfg_free(&n);
	}
	test_client_key();
	remove_dir();
	return tap_done();
}
