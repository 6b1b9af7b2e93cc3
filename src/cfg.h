/*
 * cfg.h - configuration: a root-owned file of "key = value" lines, then
 * module arguments "key=value" that override it.  One function, cfg_set,
 * handles a key from either place.
 */
#ifndef OA2_CFG_H
#define OA2_CFG_H

#include <stdbool.h>
#include <stddef.h>

#define CFG_DEFAULT_PATH SYSCONFDIR "/security/pam_oauth2.conf"
#define CFG_MAX_FILE (64 * 1024)
#define CFG_ERR_LEN 512

enum cfg_client_auth {
	CFG_AUTH_UNSET = 0,
	CFG_AUTH_BASIC,  /* RFC 6749 §2.3.1 HTTP Basic */
	CFG_AUTH_POST,   /* client_id + client_secret in the form body */
	CFG_AUTH_NONE,   /* public client: client_id in the body */
	CFG_AUTH_PRIVATE_KEY_JWT, /* OIDC Core §9 / RFC 7523 §2.2: a client
	                  * assertion signed with client_key_file */
	CFG_AUTH_TLS,    /* RFC 8705 §2.1: a CA-issued client certificate */
	CFG_AUTH_SELF_SIGNED_TLS, /* RFC 8705 §2.2: a self-signed one */
};

/* The "aud" of a private_key_jwt assertion. */
enum cfg_assertion_aud {
	CFG_AUD_TOKEN_ENDPOINT = 0, /* the token endpoint (RFC 7523 §3) */
	CFG_AUD_ISSUER,          /* the issuer identifier */
};

struct asrt_key;

enum cfg_grant {
	CFG_GRANT_PASSWORD = 1,  /* RFC 6749 §4.3 */
	CFG_GRANT_DEVICE,        /* RFC 8628 */
	CFG_GRANT_TOKEN,         /* an access token as the password (grant_token.h) */
};

#define CFG_MAX_GRANTS 3

/* token_introspection: when a presented access token goes to RFC 7662
 * introspection instead of local JWT verification (grant_token.h). */
enum cfg_introspect {
	CFG_INTROSPECT_AUTO = 0, /* opaque tokens only; an at+jwt JWT locally */
	CFG_INTROSPECT_ALWAYS,   /* every token, also a JWT */
	CFG_INTROSPECT_NEVER,    /* JWT access tokens only; opaque refused */
};

enum cfg_otp {
	CFG_OTP_NO = 0,
	CFG_OTP_PROMPT,          /* ask for a one-time code after the password */
};

/*
 * Where a value named by a mapping or gate comes from: every [groups] key
 * and required_scopes entry is "SOURCE:VALUE" ("scope:admin",
 * "claim:ops"), so a role named like a scope never passes for one.  The
 * sources are listed in cfg_sources[] (prefix and a description for
 * error messages); add a source there and here.
 */
enum cfg_source {
	CFG_SRC_SCOPE = 0,       /* a granted scope token (RFC 6749 §3.3) */
	CFG_SRC_CLAIM,           /* a value of groups_claim */
	CFG_SRC_ORG,             /* an organisation (orgs_endpoint: login) */
	CFG_SRC_TEAM,            /* a team (teams_endpoint: ORG/SLUG) */
	CFG_SRC_COUNT
};

struct cfg_source_info {
	const char *prefix;      /* "scope", written "scope:VALUE" */
	const char *what;        /* "a granted scope" */
	bool scope_token;        /* VALUE must be a scope-token (§3.3) */
};

extern const struct cfg_source_info cfg_sources[CFG_SRC_COUNT];

/* "scope" for CFG_SRC_SCOPE ("?" out of range). */
const char *cfg_source_name(enum cfg_source s);

/*
 * Split "SOURCE:VALUE" (the first len bytes of s): 0 with *src and
 * *value_off (the offset of VALUE) set, or -1 when s does not start with
 * a known source prefix and ':'.
 */
int cfg_source_parse(const char *s, size_t len, enum cfg_source *src,
    size_t *value_off);

/* A value from one source ("scope:pam:login" is { CFG_SRC_SCOPE,
 * "pam:login" }). */
struct cfg_value {
	enum cfg_source src;
	char *value;
};

/* One "[groups]" line: a sourced value and the local groups it grants
 * ("scope:admin = wheel, docker"). */
struct cfg_group_map {
	enum cfg_source src;
	char *value;             /* without the source prefix */
	char **groups;           /* ngroups names */
	size_t ngroups;
};

#define CFG_MAX_GROUP_MAP 1024
#define CFG_MAX_MAP_GROUPS 64
#define CFG_MAX_REQUIRED 64      /* required_scopes / required_claims entries */

/* One required_claims entry ("email_verified=true", "hd=corp.example"):
 * true/false match only a JSON boolean, anything else only a JSON string
 * equal byte for byte. */
enum cfg_claim_kind {
	CFG_CLAIM_TRUE = 1,
	CFG_CLAIM_FALSE,
	CFG_CLAIM_STRING,
};

struct cfg_claim_req {
	char *name;              /* claim name (dotted path allowed) */
	enum cfg_claim_kind kind;
	char *value;             /* CFG_CLAIM_STRING only */
};

struct cfg {
	char *path;              /* the file that was read */
	char *issuer;
	char *token_endpoint;
	char *jwks_uri;
	char *userinfo_endpoint;
	char *client_id;
	char *client_secret;     /* secret: wiped on free */
	char *client_secret_file;
	enum cfg_client_auth client_auth;
	char *client_key_file;   /* private_key_jwt: PEM private key */
	char *client_key_alg;    /* RS256, PS256, ES256, EdDSA; NULL: by key */
	char *client_key_id;     /* the assertion's "kid" header */
	enum cfg_assertion_aud client_assertion_aud;
	bool client_assertion_aud_set; /* given (else the default) */
	struct asrt_key *client_key; /* parsed client_key_file (cfg_finish) */
	char *client_cert_file;  /* mutual TLS: the PEM client certificate */
	void *client_cert;       /* parsed (asrt_cert_parse), for http.h */
	void *client_chain;      /* the certificates after it, or NULL */
	char *scope;
	char *username_claim;
	char *username_format;
	char *ca_file;           /* PEM bundle (with ca_path: both trusted) */
	char *ca_path;           /* hashed directory (openssl rehash) */
	char *proxy;             /* none unless configured */
	long timeout;            /* seconds, whole authentication */
	long connect_timeout;    /* seconds */
	/* grants allowed, in order of preference */
	enum cfg_grant grants[CFG_MAX_GRANTS];
	int ngrants;
	bool grants_set;         /* grants given (else the default) */
	char *device_authorization_endpoint;
	/* grants = token: the audience an access token must carry (RFC 9068
	 * §4 aud), and when introspection (RFC 7662) decides. */
	char *token_audience;
	char *token_clients;     /* client_id/azp allowed to issue tokens */
	enum cfg_introspect token_introspection;
	char *introspection_endpoint; /* NULL: discovered */
	long device_timeout;     /* seconds, whole device sign-in */
	bool qr_code;
	enum cfg_otp otp;
	char *otp_param;         /* form parameter for the code (default totp) */
	char *cache_dir;         /* metadata cache (discovery, JWKS) */
	bool offline_cache;      /* keep a verifier for logins while the IdP is down */
	long offline_max_age;    /* seconds */
	char *offline_dir;
	long outage_window;     /* seconds of fast failure after an outage (outage.h) */
	bool otp_append;         /* append the code to the password instead */
	bool debug;
	bool audit_hash_sub;     /* decision lines carry a hash of sub */
	bool use_first_pass;
	bool try_first_pass;
	/* Local groups from scopes and claims (groups.h). */
	char *groups_claim;      /* dotted claim path; its values map as claim:V */
	/* required_scopes: all needed (authenticate and acct_mgmt) */
	struct cfg_value *required;
	size_t nrequired;
	/* required_claims: all must hold (authenticate) */
	struct cfg_claim_req *required_claims;
	size_t nrequired_claims;
	bool allow_gid0;         /* a mapped group may have GID 0 */
	bool group_sync;         /* also write memberships into /etc/group */
	char *state_dir;         /* grant store (grantstore.h); NULL: default */
	long min_uid;            /* accounts below it never go to the IdP */
	struct cfg_group_map *group_map; /* the [groups] section, in order */
	size_t ngroup_map;
	/* Provisioning of users who exist only at the IdP (provision.h).
	 * The shape every process must agree on (uid_range,
	 * provision_names, home, shell) is in the world-readable
	 * USERDB_CONF that the NSS module reads too (userdb.h). */
	bool provision;          /* create the account at a verified login */
	char *uid_claim;         /* dotted claim path holding the UID */
	long provision_max_age;  /* seconds not seen at the IdP before refusal */
	/* A plain OAuth 2 provider (no OpenID Connect): user_endpoint set
	 * means no discovery, no JWKS, no ID token; the identity is the
	 * user API's answer to the access token (docs/providers/github.md). */
	char *provider;          /* "github": a preset of the keys below */
	char *github_url;        /* github.com or a GitHub Enterprise Server */
	char *user_endpoint;     /* the user API (GET with the access token) */
	char *user_id_claim;     /* its numeric, stable id (audit line) */
	bool errors_with_200;    /* token errors come with HTTP 200 */
	char *orgs_endpoint;     /* memberships as org:LOGIN (membership.h) */
	char *teams_endpoint;    /* memberships as team:ORG/SLUG */
};

/* Does a [groups] key or required_scopes entry name source src? */
bool cfg_uses_source(const struct cfg *c, enum cfg_source src);

/* Is this a plain OAuth 2 provider (identity from user_endpoint)? */
bool cfg_plain_oauth2(const struct cfg *c);

/* The namespace of the verified identity's subject, which a provisioned
 * record is bound to with it: issuer, or for a plain OAuth 2 provider
 * (no issuer) its user_endpoint as configured or preset, the API whose
 * numeric ids they are (docs/providers/github.md). */
const char *cfg_identity_issuer(const struct cfg *c);

#define CFG_PROVISION_MAX_AGE (30L * 86400)

/*
 * Load the configuration: the file named by a "config=PATH" argument (else
 * CFG_DEFAULT_PATH), then every argument in argv on top, then validation
 * and the client secret file.  On failure returns OA2_ERR_CONFIG (or
 * OA2_ERR_NOMEM) and writes one human-readable line naming the key and
 * file:line into err.  *out is freed with cfg_free.
 */
int cfg_load(int argc, const char **argv, struct cfg **out, char *err,
    size_t errlen);

/* Parse a file into c (used by cfg_load; exposed for tests). */
int cfg_read_file(struct cfg *c, const char *path, char *err, size_t errlen);

/* Set one key (origin names the place for error messages). */
int cfg_set(struct cfg *c, const char *key, const char *value,
    const char *origin, char *err, size_t errlen);

/* Defaults and checks that need the whole configuration. */
int cfg_finish(struct cfg *c, char *err, size_t errlen);

/* Is client_auth one of the mutual TLS methods (RFC 8705 §2)? */
bool cfg_auth_mtls(const struct cfg *c);

/* client_auth as written in the file ("private_key_jwt"). */
const char *cfg_auth_name(enum cfg_client_auth a);

/* Does the configuration allow grant g? */
bool cfg_allows(const struct cfg *c, enum cfg_grant g);

/* Whether id is a word of token_clients (space or comma separated). */
bool cfg_token_client_allowed(const struct cfg *c, const char *id);

struct cfg *cfg_new(void);
void cfg_free(struct cfg **c);

/* The keys cfg_set accepts, NULL-terminated (for docs and tests). */
extern const char *const cfg_keys[];

#endif
