/*
 * test_groups - scopes and claim values to local groups: the [groups]
 * section and its source prefixes (scope:, claim:), grants from scope
 * and claims (nested paths, wrong types), the required_scopes and
 * required_claims gates (a value from one source never satisfies an
 * entry naming another), the mapping (missing groups, GID 0), the
 * grant-store record format, and group_sync on a scratch group file.
 * Runs as root (config files must be root-owned; chown in group_sync).
 * Uses the stock Debian groups adm (4), users (100) and root (0).
 */
#include "config.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "claims.h"
#include "errors.h"
#include "grantstore.h"
#include "groups.h"
#include "groupsync.h"
#include "log.h"
#include "tap.h"

static char dir[] = "/tmp/oa2grpXXXXXX";
static char path[1024];
static char err[CFG_ERR_LEN];
static const struct log_ctx lc = { .pamh = NULL, .debug = false };

#define BASE "issuer = https://idp.example\nclient_id = pam\n"

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

static char *
slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	if (f == NULL || buf == NULL)
		abort();
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Load a config from text (plus optional module args). */
static int
load(const char *text, struct cfg **c, int argc, const char **argv)
{
	const char *args[8];
	char a0[600];

	snprintf(a0, sizeof(a0), "config=%s", write_file("c.conf", text,
	    0600));
	args[0] = a0;
	for (int i = 0; i < argc && i < 7; i++)
		args[i + 1] = argv[i];
	return cfg_load(argc + 1, args, c, err, sizeof(err));
}

static void
test_config(void)
{
	struct cfg *c = NULL;
	int rc;

	rc = load(BASE "groups_claim = realm_access.roles\n"
	    "required_scopes = scope:admin claim:pam:login\n"
	    "allow_gid0 = yes\n"
	    "group_sync = yes\nstate_dir = /run/oa2test\n"
	    "[groups]\n# source:value = local groups\n"
	    "scope:admin = wheel, docker\nscope:pam:login = ssh-users\n"
	    "claim:Domain Admins = adm\nclaim:admin = adm\n", &c, 0, NULL);
	is_int(rc, 0, "config with [groups] loads (%s)", err);
	if (rc != 0)
		return;
	is_str(c->groups_claim, "realm_access.roles", "groups_claim");
	is_int(c->nrequired, 2, "two required_scopes entries");
	if (c->nrequired == 2) {
		ok(c->required[0].src == CFG_SRC_SCOPE &&
		    strcmp(c->required[0].value, "admin") == 0,
		    "scope:admin is the scope admin");
		ok(c->required[1].src == CFG_SRC_CLAIM &&
		    strcmp(c->required[1].value, "pam:login") == 0,
		    "claim:pam:login is the claim value pam:login");
	}
	ok(c->allow_gid0 && c->group_sync, "allow_gid0 and group_sync");
	is_str(c->state_dir, "/run/oa2test", "state_dir");
	is_int(c->ngroup_map, 4, "four mappings");
	if (c->ngroup_map == 4) {
		is_str(c->group_map[0].value, "admin", "first value");
		ok(c->group_map[0].src == CFG_SRC_SCOPE, "first is a scope");
		is_int(c->group_map[0].ngroups, 2, "admin maps two groups");
		is_str(c->group_map[0].groups[1], "docker",
		    "spaces around the comma trimmed");
		is_str(c->group_map[1].value, "pam:login",
		    "a value with ':'");
		is_str(c->group_map[2].value, "Domain Admins",
		    "a claim value with a space inside");
		ok(c->group_map[2].src == CFG_SRC_CLAIM &&
		    c->group_map[3].src == CFG_SRC_CLAIM,
		    "claim: entries are claims");
		is_str(c->group_map[3].value, "admin",
		    "claim:admin beside scope:admin is not a duplicate");
	}
	cfg_free(&c);

	/* Unprefixed keys and entries: an error that says what to write. */
	rc = load(BASE "[groups]\nadmin = wheel\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "an unprefixed [groups] key is an error");
	ok(strstr(err, "c.conf:4: [groups] key \"admin\" must name its "
	    "source: write scope:admin (a granted scope) or claim:admin (a "
	    "value of groups_claim)") != NULL, "the error names file:line "
	    "and what to write (%s)", err);
	rc = load(BASE "[groups]\npam:login = wheel\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "pam:login (an unknown source pam) is an "
	    "error");
	ok(strstr(err, "write scope:pam:login (a granted scope) or "
	    "claim:pam:login") != NULL, "and says what to write (%s)", err);
	rc = load(BASE "[groups]\nScope:admin = wheel\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "the prefix is case-sensitive");
	rc = load(BASE "[groups]\nscope: = wheel\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "scope: without a value is an error");
	rc = load(BASE "[groups]\nscope:Domain Admins = wheel\n", &c, 0,
	    NULL);
	is_int(rc, OA2_ERR_CONFIG, "a scope with a space (never a scope "
	    "token, RFC 6749 3.3) is an error");
	ok(strstr(err, "RFC 6749") != NULL, "and says why (%s)", err);
	rc = load(BASE "required_scopes = scope:openid admin\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "an unprefixed required_scopes entry is "
	    "an error");
	ok(strstr(err, "c.conf:3: required_scopes entry \"admin\" must name "
	    "its source: write scope:admin (a granted scope) or claim:admin "
	    "(a value of groups_claim)") != NULL, "the error names file:line "
	    "and what to write (%s)", err);
	rc = load(BASE "required_scopes = \t \n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "empty required_scopes is an error");
	{
		const char *args[] = { "required_scopes=admin" };

		rc = load(BASE, &c, 1, args);
		is_int(rc, OA2_ERR_CONFIG, "unprefixed as a module argument "
		    "too");
		ok(strstr(err, "module arguments: required_scopes entry") !=
		    NULL, "named as a module argument (%s)", err);
	}

	rc = load(BASE "[groups]\nscope:admin = wheel\n[other]\n", &c, 0,
	    NULL);
	is_int(rc, OA2_ERR_CONFIG, "any other section is an error");
	ok(strstr(err, "unknown section [other]") != NULL,
	    "error names the section (%s)", err);
	rc = load(BASE "[groups]\nscope:admin = wheel\nscope:admin = adm\n",
	    &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "a value mapped twice is an error");
	rc = load(BASE "[groups]\nscope:admin = \n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "a value without groups is an error");
	rc = load(BASE "[groups]\nscope:admin = whe:el\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "a group name with ':' is an error");
	rc = load(BASE "[groups]\nscope:admin = wheel docker\n", &c, 0,
	    NULL);
	is_int(rc, OA2_ERR_CONFIG, "group names need commas");
	rc = load(BASE "[groups]\nscope:admin\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "a line without '=' is an error");
	rc = load(BASE "[groups]\n = wheel\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "an empty value is an error");
	rc = load(BASE "state_dir = run/x\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "a relative state_dir is an error");
	rc = load(BASE "group_sync = maybe\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "group_sync must be yes or no");
	rc = load(BASE "requried_scopes = scope:x\n", &c, 0, NULL);
	is_int(rc, OA2_ERR_CONFIG, "a misspelled key is still an error");
	{
		const char *args[] = { "required_scopes=scope:admin",
		    "allow_gid0" };

		rc = load(BASE "required_scopes = claim:x claim:y\n"
		    "[groups]\nscope:admin = adm\n", &c, 2, args);
		is_int(rc, 0, "required_scopes and allow_gid0 as module "
		    "arguments (%s)", err);
		if (rc == 0) {
			ok(c->nrequired == 1 &&
			    c->required[0].src == CFG_SRC_SCOPE &&
			    strcmp(c->required[0].value, "admin") == 0,
			    "the argument replaces the file's list");
			ok(c->allow_gid0, "argument allow_gid0");
		}
		cfg_free(&c);
	}
	{
		bool found = false, found2 = false;

		for (size_t i = 0; cfg_keys[i] != NULL; i++) {
			found = found || strcmp(cfg_keys[i], "group_sync") == 0;
			found2 = found2 ||
			    strcmp(cfg_keys[i], "required_claims") == 0;
		}
		ok(found, "cfg_keys lists group_sync");
		ok(found2, "cfg_keys lists required_claims");
	}
}

/* required_claims parsing. */
static void
test_claims_config(void)
{
	struct cfg *c = NULL;
	int rc;

	rc = load(BASE "required_claims = email_verified=true hd=corp.example"
	    "\tflag=false quoted=\"true\" empty=\"\" a.b=x=y\n", &c, 0, NULL);
	is_int(rc, 0, "required_claims loads (%s)", err);
	if (rc != 0)
		return;
	is_int(c->nrequired_claims, 6, "six entries");
	if (c->nrequired_claims == 6) {
		ok(c->required_claims[0].kind == CFG_CLAIM_TRUE &&
		    strcmp(c->required_claims[0].name, "email_verified") == 0,
		    "email_verified=true is the boolean true");
		ok(c->required_claims[1].kind == CFG_CLAIM_STRING &&
		    strcmp(c->required_claims[1].value, "corp.example") == 0,
		    "hd=corp.example is a string");
		ok(c->required_claims[2].kind == CFG_CLAIM_FALSE,
		    "false is the boolean false");
		ok(c->required_claims[3].kind == CFG_CLAIM_STRING &&
		    strcmp(c->required_claims[3].value, "true") == 0,
		    "\"true\" (quoted) is the string true");
		ok(c->required_claims[4].kind == CFG_CLAIM_STRING &&
		    strcmp(c->required_claims[4].value, "") == 0,
		    "\"\" is the empty string");
		ok(strcmp(c->required_claims[5].name, "a.b") == 0 &&
		    strcmp(c->required_claims[5].value, "x=y") == 0,
		    "a dotted name; the value may hold '='");
	}
	cfg_free(&c);
	{
		static const char *bad[] = { "email_verified", "=true",
		    "hd=", "hd=\"corp", "hd=co\"rp", "a..b=x", ".a=x",
		    "a.=x", "h\"d=x", "  " };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char text[256];

			snprintf(text, sizeof(text), BASE
			    "required_claims = %s\n", bad[i]);
			rc = load(text, &c, 0, NULL);
			is_int(rc, OA2_ERR_CONFIG, "required_claims = %s: an "
			    "error", bad[i]);
			ok(strstr(err, "c.conf:3: required_claims") != NULL,
			    "names the key and file:line (%s)", err);
		}
	}
}

static struct claims *
claims_of(const char *json)
{
	struct claims *c = NULL;

	if (claims_parse(json, strlen(json), &c) != 0)
		abort();
	return c;
}

static void
test_grant(void)
{
	struct cfg *c = NULL;
	struct claims *cl;
	struct grant *g = NULL;
	const char *why = "";
	char longv[GRANT_MAX_VALUE + 40];
	int rc;

	if (load(BASE "groups_claim = groups\n", &c, 0, NULL) != 0)
		abort();
	cl = claims_of("{\"sub\":\"x\",\"groups\":[\"admins\",\"dev\","
	    "\"admin\"],\"realm_access\":{\"roles\":[\"ops\"],"
	    "\"one\":\"solo\"},\"num\":7,\"mixed\":[\"a\",1],"
	    "\"obj\":{\"a\":\"b\"},\"nul\":null}");
	rc = grant_from_login(c, &lc, "alice", "openid  admin pam:login",
	    cl, &g, &why);
	is_int(rc, 0, "grant from scope and claim");
	if (g != NULL) {
		is_str(g->user, "alice", "grant user");
		is_int(g->n, 6, "openid admin pam:login, then admins dev "
		    "admin (deduplicated per source)");
		ok(grant_has(g, CFG_SRC_SCOPE, "pam:login") &&
		    grant_has(g, CFG_SRC_CLAIM, "dev") &&
		    grant_has(g, CFG_SRC_CLAIM, "admins") &&
		    !grant_has(g, CFG_SRC_SCOPE, ""),
		    "scope tokens and claim values present");
		ok(!grant_has(g, CFG_SRC_SCOPE, "dev") &&
		    !grant_has(g, CFG_SRC_CLAIM, "pam:login"),
		    "each value only under its own source");
		ok(grant_has(g, CFG_SRC_SCOPE, "admin") &&
		    grant_has(g, CFG_SRC_CLAIM, "admin"),
		    "admin as a scope and as a claim value: two values");
		ok(!g->confirmed, "a fresh grant is not confirmed");
	}
	grant_free(&g);
	ok(g == NULL, "grant_free clears the pointer");

	free(c->groups_claim);
	c->groups_claim = strdup("realm_access.roles");
	rc = grant_from_login(c, &lc, "alice", "openid", cl, &g, &why);
	ok(rc == 0 && g != NULL && grant_has(g, CFG_SRC_CLAIM, "ops") &&
	    !grant_has(g, CFG_SRC_SCOPE, "ops") && g->n == 2,
	    "nested path realm_access.roles");
	grant_free(&g);

	free(c->groups_claim);
	c->groups_claim = strdup("realm_access.one");
	rc = grant_from_login(c, &lc, "alice", "openid", cl, &g, &why);
	ok(rc == 0 && g != NULL && grant_has(g, CFG_SRC_CLAIM, "solo"),
	    "a string claim is one value");
	grant_free(&g);

	free(c->groups_claim);
	c->groups_claim = strdup("absent.path");
	rc = grant_from_login(c, &lc, "alice", "openid", cl, &g, &why);
	ok(rc == 0 && g != NULL && g->n == 1, "an absent claim adds nothing");
	grant_free(&g);

	free(c->groups_claim);
	c->groups_claim = strdup("nul");
	rc = grant_from_login(c, &lc, "alice", "openid", cl, &g, &why);
	ok(rc == 0 && g != NULL && g->n == 1, "a null claim adds nothing");
	grant_free(&g);

	{
		static const char *bad[] = { "num", "mixed", "obj" };

		for (size_t i = 0; i < 3; i++) {
			free(c->groups_claim);
			c->groups_claim = strdup(bad[i]);
			why = "";
			rc = grant_from_login(c, &lc, "alice", "openid", cl,
			    &g, &why);
			is_int(rc, OA2_ERR_BAD_RESPONSE,
			    "claim %s of a wrong type: bad response", bad[i]);
			is_str(why, "groups_claim_type", "why for %s", bad[i]);
			ok(g == NULL, "no grant for %s", bad[i]);
		}
	}
	free(c->groups_claim);
	c->groups_claim = NULL;
	rc = grant_from_login(c, &lc, "alice", NULL, cl, &g, &why);
	ok(rc == 0 && g != NULL && g->n == 0,
	    "no scope, no groups_claim: empty grant");
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	ok(grant_add(g, CFG_SRC_SCOPE, longv, NULL) == 0 && g->n == 0,
	    "a value over %d bytes is dropped", GRANT_MAX_VALUE);
	grant_free(&g);
	claims_free(&cl);
	cfg_free(&c);
}

static void
test_required(void)
{
	struct cfg *c = NULL;
	struct grant *g = NULL;
	char missing[64];

	grant_new("alice", &g);
	grant_add(g, CFG_SRC_SCOPE, "openid", NULL);
	grant_add(g, CFG_SRC_SCOPE, "admin", NULL);
	grant_add(g, CFG_SRC_SCOPE, "pam:login", NULL);
	grant_add(g, CFG_SRC_CLAIM, "ops", NULL);
	if (load(BASE, &c, 0, NULL) != 0)
		abort();
#define REQ(v) do { \
		const char *a_[] = { "required_scopes=" v }; \
		cfg_free(&c); \
		if (load(BASE, &c, 1, a_) != 0) \
			abort(); \
	} while (0)
	is_int(groups_check_required(c, g, missing, sizeof(missing)), 0,
	    "no required_scopes: allowed");
	REQ("scope:admin");
	is_int(groups_check_required(c, g, missing, sizeof(missing)), 0,
	    "one present value");
	cfg_free(&c);
	if (load(BASE "required_scopes = \tscope:admin\tscope:pam:login "
	    "claim:ops  \n", &c, 0, NULL) != 0)
		abort();
	is_int(groups_check_required(c, g, missing, sizeof(missing)), 0,
	    "all present (tabs, spaces; scopes and a claim value)");
	cfg_free(&c);
	if (load(BASE "required_scopes = scope:admin scope:sudo "
	    "scope:pam:login\n", &c, 0, NULL) != 0)
		abort();
	is_int(groups_check_required(c, g, missing, sizeof(missing)),
	    OA2_ERR_PERM, "one missing: refused");
	is_str(missing, "scope:sudo", "names the missing entry with its "
	    "source");
	REQ("scope:admi");
	is_int(groups_check_required(c, g, missing, sizeof(missing)),
	    OA2_ERR_PERM, "no prefix match");
	REQ("scope:ADMIN");
	is_int(groups_check_required(c, g, missing, sizeof(missing)),
	    OA2_ERR_PERM, "no case folding");
	REQ("claim:admin");
	is_int(groups_check_required(c, g, missing, sizeof(missing)),
	    OA2_ERR_PERM, "a granted scope does not satisfy claim:");
	is_str(missing, "claim:admin", "names claim:admin");
	REQ("scope:ops");
	is_int(groups_check_required(c, g, missing, sizeof(missing)),
	    OA2_ERR_PERM, "a claim value does not satisfy scope:");
	REQ("claim:ops");
	is_int(groups_check_required(c, NULL, missing, sizeof(missing)),
	    OA2_ERR_PERM, "no grant: refused");
#undef REQ
	cfg_free(&c);
	grant_free(&g);
}

static void
test_claims_gate(void)
{
	struct cfg *c = NULL;
	struct claims *cl;
	char missing[64];
	static const struct {
		const char *claims;
		int want;
		const char *what;
	} cases[] = {
		{ "{\"email_verified\":true,\"hd\":\"corp.example\"}", 0,
		    "true and the string: pass" },
		{ "{\"email_verified\":false,\"hd\":\"corp.example\"}",
		    OA2_ERR_PERM, "false: refused" },
		{ "{\"email_verified\":\"true\",\"hd\":\"corp.example\"}",
		    OA2_ERR_PERM, "the string \"true\": refused" },
		{ "{\"email_verified\":1,\"hd\":\"corp.example\"}",
		    OA2_ERR_PERM, "the number 1: refused" },
		{ "{\"hd\":\"corp.example\"}", OA2_ERR_PERM,
		    "missing: refused" },
		{ "{\"email_verified\":null,\"hd\":\"corp.example\"}",
		    OA2_ERR_PERM, "null: refused" },
		{ "{\"email_verified\":true,\"hd\":\"corp.example.\"}",
		    OA2_ERR_PERM, "a longer string: refused" },
		{ "{\"email_verified\":true,\"hd\":\"Corp.example\"}",
		    OA2_ERR_PERM, "no case folding" },
		{ "{\"email_verified\":true,\"hd\":[\"corp.example\"]}",
		    OA2_ERR_PERM, "an array holding the string: refused" },
	};

	if (load(BASE "required_claims = email_verified=true "
	    "hd=corp.example\n", &c, 0, NULL) != 0)
		abort();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cl = claims_of(cases[i].claims);
		is_int(groups_check_claims(c, cl, &lc, missing,
		    sizeof(missing)), cases[i].want, "%s", cases[i].what);
		claims_free(&cl);
	}
	cl = claims_of("{\"hd\":\"corp.example\"}");
	groups_check_claims(c, cl, &lc, missing, sizeof(missing));
	is_str(missing, "email_verified", "names the failing claim");
	claims_free(&cl);
	is_int(groups_check_claims(c, NULL, &lc, missing, sizeof(missing)),
	    OA2_ERR_PERM, "no claims: refused");
	cfg_free(&c);

	if (load(BASE "required_claims = flag=false v=\"true\" "
	    "o.n=x\n", &c, 0, NULL) != 0)
		abort();
	cl = claims_of("{\"flag\":false,\"v\":\"true\",\"o\":{\"n\":\"x\"}}");
	is_int(groups_check_claims(c, cl, &lc, missing, sizeof(missing)), 0,
	    "false, a quoted string \"true\", a nested claim: pass");
	claims_free(&cl);
	cl = claims_of("{\"flag\":false,\"v\":true,\"o\":{\"n\":\"x\"}}");
	is_int(groups_check_claims(c, cl, &lc, missing, sizeof(missing)),
	    OA2_ERR_PERM, "v=\"true\" is not the boolean true");
	claims_free(&cl);
	cfg_free(&c);

	if (load(BASE, &c, 0, NULL) != 0)
		abort();
	is_int(groups_check_claims(c, NULL, &lc, missing, sizeof(missing)),
	    0, "no required_claims: allowed");
	cfg_free(&c);
}

static void
test_map(void)
{
	struct cfg *c = NULL;
	struct grant *g = NULL;
	struct group_list granted, mapped;
	char buf[256];
	int rc;

	if (getgrnam("adm") == NULL || getgrnam("users") == NULL ||
	    getgrnam("root") == NULL || getgrnam("oa2g-missing") != NULL) {
		ok(0, "the stock groups adm, users, root exist");
		return;
	}
	rc = load(BASE "[groups]\nscope:admin = adm, users\n"
	    "scope:pam:login = oa2g-missing, users\nscope:super = root\n"
	    "scope:other = oa2g-missing\nscope:never = adm\n"
	    "claim:pam:login = adm\nscope:ops = adm\n", &c, 0, NULL);
	if (rc != 0)
		abort();
	grant_new("alice", &g);
	grant_add(g, CFG_SRC_SCOPE, "openid", NULL);
	grant_add(g, CFG_SRC_SCOPE, "admin", NULL);
	grant_add(g, CFG_SRC_SCOPE, "pam:login", NULL);
	grant_add(g, CFG_SRC_SCOPE, "super", NULL);
	rc = groups_map(c, g, &lc, &granted, &mapped);
	is_int(rc, 0, "map");
	is_str(group_list_join(&granted, buf, sizeof(buf)), "adm,users",
	    "granted: existing groups, once each; not the missing one, not "
	    "GID 0");
	is_str(group_list_join(&mapped, buf, sizeof(buf)), "adm,users",
	    "mapped (for group_sync): root left out without allow_gid0");
	ok(granted.n == 2 && granted.gids[0] == getgrnam("adm")->gr_gid &&
	    granted.gids[1] == 100, "GIDs resolved");
	group_list_clear(&granted);
	group_list_clear(&mapped);

	c->allow_gid0 = true;
	rc = groups_map(c, g, &lc, &granted, NULL);
	is_str(group_list_join(&granted, buf, sizeof(buf)), "adm,users,root",
	    "allow_gid0: GID 0 granted");
	group_list_clear(&granted);
	c->allow_gid0 = false;

	grant_free(&g);
	grant_new("bob", &g);
	grant_add(g, CFG_SRC_SCOPE, "openid", NULL);
	grant_add(g, CFG_SRC_SCOPE, "Admin", NULL);
	rc = groups_map(c, g, &lc, &granted, &mapped);
	is_int(granted.n, 0, "ordinary user (no mapped value): no groups");
	is_str(group_list_join(&mapped, buf, sizeof(buf)), "adm,users",
	    "mapped set is the same for everyone");
	group_list_clear(&granted);
	group_list_clear(&mapped);

	/* A claim value named like a mapped scope, a scope named like a
	 * mapped claim value: neither maps. */
	grant_free(&g);
	grant_new("carol", &g);
	grant_add(g, CFG_SRC_CLAIM, "admin", NULL);
	grant_add(g, CFG_SRC_CLAIM, "super", NULL);
	grant_add(g, CFG_SRC_SCOPE, "pam:login", NULL);
	grant_add(g, CFG_SRC_CLAIM, "ops", NULL);
	rc = groups_map(c, g, &lc, &granted, NULL);
	is_str(group_list_join(&granted, buf, sizeof(buf)), "users",
	    "claim values admin/super/ops map nothing under scope:, scope "
	    "pam:login not claim:pam:login's adm");
	group_list_clear(&granted);
	rc = groups_map(c, NULL, &lc, &granted, NULL);
	ok(rc == 0 && granted.n == 0, "no grant: no groups");
	is_int(groups_apply(&granted), 0, "applying nothing succeeds");
	grant_free(&g);
	cfg_free(&c);
}

static void
test_apply(void)
{
	struct group_list l = { 0 };
	gid_t gids[] = { 4, 100 };
	char *names[] = { "adm", "users" };
	gid_t before[256], after[256];
	int nb, na, found = 0;

	l.n = 2;
	l.gids = gids;
	l.names = names;
	nb = getgroups(256, before);
	is_int(groups_apply(&l), 0, "setgroups union");
	na = getgroups(256, after);
	for (int i = 0; i < na; i++)
		found += after[i] == 4 || after[i] == 100;
	ok(found == 2, "both groups now in the process");
	for (int i = 0; i < nb; i++) {
		bool still = false;

		for (int j = 0; j < na; j++)
			still = still || after[j] == before[i];
		ok(still, "earlier group %ld kept", (long)before[i]);
	}
	is_int(groups_apply(&l), 0, "applying again changes nothing");
	is_int(getgroups(256, after), na, "no duplicates");
	setgroups((size_t)(nb > 0 ? nb : 0), before);
}

static void
test_authinfo(void)
{
	ok(groups_authinfo_allows(NULL), "no SSH_AUTH_INFO_0: allowed");
	ok(groups_authinfo_allows(""), "empty: allowed");
	ok(groups_authinfo_allows("keyboard-interactive/pam\n"),
	    "keyboard-interactive: allowed");
	ok(groups_authinfo_allows("password\n"), "password: allowed");
	ok(groups_authinfo_allows("publickey ssh-ed25519 AAAA\n"
	    "keyboard-interactive/pam\n"), "publickey then kbd-int: allowed");
	ok(!groups_authinfo_allows("publickey ssh-ed25519 AAAA\n"),
	    "publickey only: vetoed");
	ok(!groups_authinfo_allows("hostbased x\n"), "hostbased: vetoed");
}

static void
test_record(void)
{
	static const char bid[] = "0123abcd-0000-4000-8000-00000000beef";
	static const char bid2[] = "0123abcd-0000-4000-8000-00000000ffff";
	struct grantstore_key k = { 4242, 987654 }, k2 = { 4242, 987655 };
	struct grant *g = NULL, *back = NULL;
	const char *why = "";
	char *rec = NULL, *bad;
	size_t len = 0;
	unsigned long long start = 0;
	long session = 0;
	int rc;

	grant_new("alice", &g);
	grant_add(g, CFG_SRC_SCOPE, "openid", NULL);
	grant_add(g, CFG_SRC_SCOPE, "pam:login", NULL);
	grant_add(g, CFG_SRC_CLAIM, "Domain Admins\nvalue 61646d696e", NULL);
	grant_add(g, CFG_SRC_CLAIM, "openid", NULL);
	rc = grantstore_format(g, bid, &k, 1000, &rec, &len);
	is_int(rc, 0, "format a record");
	ok(rec != NULL && strstr(rec, "Domain") == NULL,
	    "values are hex, so a newline in one cannot add a line");
	rc = grantstore_parse(rec, len, bid, &k, 1010, "alice", &back, &why);
	is_int(rc, 0, "parse it back (%s)", why);
	ok(rec != NULL && strncmp(rec, "pam_oauth2 grant 2\n", 19) == 0 &&
	    strstr(rec, "\nvalue scope:6f70656e6964\n") != NULL &&
	    strstr(rec, "\nvalue claim:6f70656e6964\n") != NULL,
	    "version 2: each value names its source");
	ok(back != NULL && back->n == 4 && back->confirmed &&
	    grant_has(back, CFG_SRC_CLAIM, "Domain Admins\nvalue 61646d696e") &&
	    !grant_has(back, CFG_SRC_SCOPE, "Domain Admins\nvalue 61646d696e") &&
	    grant_has(back, CFG_SRC_SCOPE, "pam:login") &&
	    !grant_has(back, CFG_SRC_CLAIM, "pam:login") &&
	    grant_has(back, CFG_SRC_CLAIM, "openid") &&
	    !grant_has(back, CFG_SRC_SCOPE, "admin"),
	    "same values with the same sources, confirmed");
	grant_free(&back);
	rc = grantstore_parse(rec, len, bid2, &k, 1010, "alice", &back, &why);
	ok(rc == OA2_ERR_DENIED && strcmp(why, "other_boot") == 0,
	    "another boot: refused (%s)", why);
	rc = grantstore_parse(rec, len, bid, &k2, 1010, "alice", &back, &why);
	ok(rc == OA2_ERR_DENIED && strcmp(why, "other_session") == 0,
	    "session leader with another start time: refused (%s)", why);
	rc = grantstore_parse(rec, len, bid, &k, 1010, "bob", &back, &why);
	ok(rc == OA2_ERR_DENIED && strcmp(why, "other_user") == 0,
	    "another user: refused (%s)", why);
	rc = grantstore_parse(rec, len, bid, &k, 1000 + GRANTSTORE_TTL + 1,
	    "alice", &back, &why);
	ok(rc == OA2_ERR_DENIED && strcmp(why, "expired") == 0,
	    "older than %d s: refused (%s)", GRANTSTORE_TTL, why);
	rc = grantstore_parse(rec, len, bid, &k, 999, "alice", &back, &why);
	ok(rc == OA2_ERR_DENIED && strcmp(why, "expired") == 0,
	    "created in the future: refused (%s)", why);
	rc = grantstore_parse(rec, len - 1, bid, &k, 1010, "alice", &back,
	    &why);
	ok(rc == OA2_ERR_DENIED && strcmp(why, "malformed") == 0,
	    "cut last line: malformed");
	bad = strdup(rec);
	bad[0] = 'P';
	rc = grantstore_parse(bad, len, bid, &k, 1010, "alice", &back, &why);
	ok(rc == OA2_ERR_DENIED, "bad magic: refused");
	free(bad);
	{
		char buf[1024];
		int n = snprintf(buf, sizeof(buf), "%svalue scope:6100\n", rec);

		rc = grantstore_parse(buf, (size_t)n, bid, &k, 1010, "alice",
		    &back, &why);
		ok(rc == OA2_ERR_DENIED, "a NUL byte in a value: refused");
		n = snprintf(buf, sizeof(buf), "%sgroup 61\n", rec);
		rc = grantstore_parse(buf, (size_t)n, bid, &k, 1010, "alice",
		    &back, &why);
		ok(rc == OA2_ERR_DENIED, "an unknown line: refused");
		n = snprintf(buf, sizeof(buf), "%svalue scope:6G\n", rec);
		rc = grantstore_parse(buf, (size_t)n, bid, &k, 1010, "alice",
		    &back, &why);
		ok(rc == OA2_ERR_DENIED, "bad hex: refused");
		n = snprintf(buf, sizeof(buf), "%svalue 61\n", rec);
		rc = grantstore_parse(buf, (size_t)n, bid, &k, 1010, "alice",
		    &back, &why);
		ok(rc == OA2_ERR_DENIED, "a value without a source: refused");
		n = snprintf(buf, sizeof(buf), "%svalue role:61\n", rec);
		rc = grantstore_parse(buf, (size_t)n, bid, &k, 1010, "alice",
		    &back, &why);
		ok(rc == OA2_ERR_DENIED, "an unknown source: refused");
		/* A version 1 record (values without a source). */
		n = snprintf(buf, sizeof(buf), "pam_oauth2 grant 1\n%s",
		    strchr(rec, '\n') + 1);
		for (char *q = buf; (q = strstr(q, "value ")) != NULL; ) {
			char *colon = strchr(q, ':');

			memmove(q + 6, colon + 1, strlen(colon + 1) + 1);
			q += 6;
		}
		rc = grantstore_parse(buf, strlen(buf), bid, &k, 1010,
		    "alice", &back, &why);
		ok(rc == OA2_ERR_DENIED && strcmp(why, "malformed") == 0,
		    "an old (version 1) record: refused (%s)", why);
	}
	ok(back == NULL, "nothing returned on refusal");
	free(rec);
	rec = NULL;

	/* A machine that booted seconds ago: CLOCK_BOOTTIME stamps are
	 * small, and the arithmetic must hold at 0 and at the edges. */
	rc = grantstore_format(g, bid, &k, 5, &rec, &len);
	is_int(rc, 0, "format a record made at boot time 5 s");
	ok(rec != NULL && strstr(rec, "\ncreated 5\n") != NULL,
	    "stamp written as 5");
	rc = grantstore_parse(rec, len, bid, &k, 5, "alice", &back, &why);
	ok(rc == 0 && back != NULL, "boot 5 s, read at 5 s: good (%s)", why);
	grant_free(&back);
	rc = grantstore_parse(rec, len, bid, &k, 5 + GRANTSTORE_TTL, "alice",
	    &back, &why);
	ok(rc == 0 && back != NULL, "boot 5 s, read %d s later: good (%s)",
	    GRANTSTORE_TTL, why);
	grant_free(&back);
	rc = grantstore_parse(rec, len, bid, &k, 5 + GRANTSTORE_TTL + 1,
	    "alice", &back, &why);
	ok(rc == OA2_ERR_DENIED && strcmp(why, "expired") == 0,
	    "boot 5 s, read %d s later: expired (%s)", GRANTSTORE_TTL + 1,
	    why);
	rc = grantstore_parse(rec, len, bid, &k, 4, "alice", &back, &why);
	ok(rc == OA2_ERR_DENIED && strcmp(why, "expired") == 0,
	    "boot 5 s, read at 4 s (future stamp): expired (%s)", why);
	rc = grantstore_parse(rec, len, bid, &k, 0, "alice", &back, &why);
	ok(rc == OA2_ERR_DENIED && strcmp(why, "expired") == 0,
	    "boot 5 s, read at 0 s: expired (%s)", why);
	rc = grantstore_parse(rec, len, bid, &k, -1, "alice", &back, &why);
	ok(rc == OA2_ERR_DENIED && strcmp(why, "expired") == 0,
	    "no boot clock when reading (now -1): expired (%s)", why);
	free(rec);
	rec = NULL;
	rc = grantstore_format(g, bid, &k, 0, &rec, &len);
	is_int(rc, 0, "format a record made at boot time 0");
	rc = grantstore_parse(rec, len, bid, &k, 0, "alice", &back, &why);
	ok(rc == 0 && back != NULL, "stamp 0 read at 0: good (%s)", why);
	grant_free(&back);
	free(rec);
	rec = NULL;
	rc = grantstore_format(g, bid, &k, -1, &rec, &len);
	ok(rc == OA2_ERR_CONFIG && rec == NULL,
	    "no boot clock when writing (now -1): no record (rc %d)", rc);
	free(rec);
	rec = NULL;
	{
		/* Stamps written by hand: negative, huge, far future. */
		static const char *const stamps[] = {
			"-5", "-0", "+5", " 5", "", "5x",
			"9223372036854775808", "18446744073709551615",
			"9999999999999999999", "1000000", "1000", "0890",
		};
		static const char *const whys[] = {
			"malformed", "malformed", "malformed", "malformed",
			"malformed", "malformed", "expired", "malformed",
			"expired", "expired", "ok", "ok",
		};
		char buf[1024];
		char *tmpl = NULL, *at;
		size_t tlen = 0;
		int n;

		/* A real record with its stamp line swapped, whatever else
		 * the format holds. */
		rc = grantstore_format(g, bid, &k, 7777777, &tmpl, &tlen);
		at = tmpl != NULL ? strstr(tmpl, "\ncreated 7777777\n") : NULL;
		ok(rc == 0 && at != NULL, "template record for the stamp cases");
		for (size_t i = 0; at != NULL && i < sizeof(stamps) /
		    sizeof(stamps[0]); i++) {
			n = snprintf(buf, sizeof(buf), "%.*s\ncreated %s\n%s",
			    (int)(at - tmpl), tmpl, stamps[i],
			    at + strlen("\ncreated 7777777\n"));
			rc = grantstore_parse(buf, (size_t)n, bid, &k, 1010,
			    "alice", &back, &why);
			ok(strcmp(why, whys[i]) == 0 && (strcmp(whys[i], "ok") == 0 ?
			    rc == 0 && back != NULL : rc == OA2_ERR_DENIED &&
			    back == NULL), "created \"%s\" read at 1010: %s "
			    "(rc %d, %s)", stamps[i], whys[i], rc, why);
			grant_free(&back);
		}
		free(tmpl);
	}
	grant_free(&g);

	rc = grantstore_parse_stat("4242 (sshd: a) (b) S 1 4242 4242 0 -1 "
	    "4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 200\n", &start,
	    &session);
	ok(rc == 0 && start == 987654 && session == 4242,
	    "stat parsed past a comm with ') (' (start %llu session %ld)",
	    start, session);
	rc = grantstore_parse_stat("4242 (x) S 1 2", &start, &session);
	is_int(rc, OA2_ERR_BAD_RESPONSE, "short stat: error");
}

static void
test_sync(void)
{
	static const char orig[] =
	    "# a comment line we keep\n"
	    "root:x:0:\n"
	    "oa2ga:x:2001:carol,alice,dave\n"
	    "oa2gb:x:2002:\n"
	    "oa2gc:x:2003:alice\n"
	    "oa2gd:x:2004:alice,,alice\n"
	    "+nis\n"
	    "broken line without colons\n"
	    "oa2ge:x:2005:carol";
	gid_t gids[] = { 2002, 2003, 2004, 2001 };
	char *names[] = { "oa2gb", "oa2gc", "oa2gd", "oa2ga" };
	struct group_list add = { 2, gids, names };
	struct group_list mapped = { 4, gids, names };
	struct stat st1, st2;
	char gpath[600], *now;
	bool changed = false;
	int rc;

	write_file("group", orig, 0644);
	snprintf(gpath, sizeof(gpath), "%s/group", dir);
	chown(gpath, 0, 42);
	stat(gpath, &st1);
	rc = groupsync_apply(gpath, "alice", &add, &mapped, &lc, &changed);
	ok(rc == 0 && changed, "group_sync writes the file");
	now = slurp(gpath);
	is_str(now,
	    "# a comment line we keep\n"
	    "root:x:0:\n"
	    "oa2ga:x:2001:carol,dave\n"
	    "oa2gb:x:2002:alice\n"
	    "oa2gc:x:2003:alice\n"
	    "oa2gd:x:2004:\n"
	    "+nis\n"
	    "broken line without colons\n"
	    "oa2ge:x:2005:carol",
	    "added to oa2gb, removed from oa2ga and oa2gd (twice), oa2gc "
	    "and the unmapped lines byte for byte");
	free(now);
	stat(gpath, &st2);
	ok(st2.st_ino != st1.st_ino, "replaced by rename (new inode)");
	ok(st2.st_uid == 0 && st2.st_gid == 42 &&
	    (st2.st_mode & 07777) == 0644, "owner, group and mode kept");

	/* The same again: nothing to do, nothing written. */
	rc = groupsync_apply(gpath, "alice", &add, &mapped, &lc, &changed);
	stat(gpath, &st1);
	ok(rc == 0 && !changed && st1.st_ino == st2.st_ino,
	    "no change: the file is not rewritten");

	/* An ordinary login (nothing granted) leaves every mapped group,
	 * also duplicates; unmapped oa2ge keeps carol. */
	add.n = 0;
	rc = groupsync_apply(gpath, "alice", &add, &mapped, &lc, &changed);
	now = slurp(gpath);
	ok(rc == 0 && changed && strstr(now, "oa2gb:x:2002:\n") &&
	    strstr(now, "oa2gc:x:2003:\n") && strstr(now, "oa2gd:x:2004:\n") &&
	    strstr(now, "oa2ga:x:2001:carol,dave\n") &&
	    strstr(now, "oa2ge:x:2005:carol") != NULL,
	    "nothing granted: removed from every mapped group only");
	free(now);
	add.n = 2;

	/* A stale shadow-utils lock (dead PID) is broken; the .lock and
	 * temporary files are gone afterwards. */
	snprintf(path, sizeof(path), "%s.lock", gpath);
	{
		FILE *f = fopen(path, "w");

		fputs("999999999", f);
		fclose(f);
	}
	rc = groupsync_apply(gpath, "alice", &add, &mapped, &lc, &changed);
	ok(rc == 0 && changed, "stale group.lock broken");
	ok(access(path, F_OK) != 0, "group.lock removed afterwards");
	snprintf(path, sizeof(path), "%s.oa2.%ld", gpath, (long)getpid());
	ok(access(path, F_OK) != 0, "no temporary file left");

	/* A journal left by a group_sync killed between its renames:
	 * the next call, for another user, finishes the revocation first;
	 * a stale new file of the dead process goes too. */
	write_file("group", "oa2ga:x:2001:carol,alice\noa2gb:x:2002:bob\n",
	    0644);
	chown(gpath, 0, 42);
	write_file(".pam_oauth2-groupsync",
	    "pam_oauth2 groupsync 1\nalice oa2ga\n", 0600);
	write_file("group.oa2.999999999", "half-done\n", 0644);
	add.n = 0;
	rc = groupsync_apply(gpath, "bob", &add, &add, &lc, &changed);
	now = slurp(gpath);
	ok(rc == 0 && changed && strcmp(now,
	    "oa2ga:x:2001:carol\noa2gb:x:2002:bob\n") == 0,
	    "journal replayed: alice removed, bob's line untouched (%s)", now);
	free(now);
	snprintf(path, sizeof(path), "%s/.pam_oauth2-groupsync", dir);
	ok(access(path, F_OK) != 0, "journal removed once both are final");
	snprintf(path, sizeof(path), "%s.oa2.999999999", gpath);
	ok(access(path, F_OK) != 0, "a dead process's new file removed");
	write_file(".pam_oauth2-groupsync", "garbage\n", 0600);
	stat(gpath, &st1);
	rc = groupsync_apply(gpath, "bob", &add, &add, &lc, &changed);
	stat(gpath, &st2);
	ok(rc == OA2_ERR_CONFIG && !changed && st1.st_ino == st2.st_ino,
	    "an unreadable journal: error, nothing written");
	write_file(".pam_oauth2-groupsync",
	    "pam_oauth2 groupsync 1\nalice oa2ga\n", 0644);
	rc = groupsync_apply(gpath, "bob", &add, &add, &lc, &changed);
	ok(rc == OA2_ERR_CONFIG && !changed,
	    "a journal others can read or write: refused");
	snprintf(path, sizeof(path), "%s/.pam_oauth2-groupsync", dir);
	unlink(path);
	add.n = 2;

	rc = groupsync_apply(gpath, "al:ice", &add, &mapped, &lc, &changed);
	is_int(rc, OA2_ERR_CONFIG, "a user name with ':' is refused");
	snprintf(path, sizeof(path), "%s/nonexistent/group", dir);
	rc = groupsync_apply(path, "alice", &add, &mapped, &lc, &changed);
	is_int(rc, OA2_ERR_CONFIG, "missing directory: error, no crash");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 99;
	test_config();
	test_claims_config();
	test_grant();
	test_required();
	test_claims_gate();
	test_map();
	test_apply();
	test_authinfo();
	test_record();
	test_sync();
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return tap_done();
}
