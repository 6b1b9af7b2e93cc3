/*
 * discovery.h - OpenID Connect Discovery 1.0 (§4): the provider metadata
 * document at issuer + "/.well-known/openid-configuration".
 */
#ifndef OA2_DISCOVERY_H
#define OA2_DISCOVERY_H

#include <stddef.h>

struct endpoints {
	char *token;
	char *jwks;
	char *userinfo;        /* NULL when the provider has none */
	char *device;          /* NULL when the provider has none */
	char *introspection;   /* RFC 7662 / RFC 8414 §2; NULL when none */
	/* RFC 8705 §5 mtls_endpoint_aliases (NULL when absent): the
	 * endpoints for clients that authenticate with a TLS certificate */
	char *mtls_token;
	char *mtls_device;
	char *mtls_introspection;
};

/*
 * Parse a metadata document for the configured issuer.  Its "issuer" must
 * equal the configured one exactly (§4.3); every endpoint present must be
 * an https URL; token_endpoint and jwks_uri are required.  An
 * mtls_endpoint_aliases member (RFC 8705 §5) must be an object; its
 * token_endpoint and device_authorization_endpoint, when present, must be
 * https URLs too.  Returns 0,
 * OA2_ERR_BAD_RESPONSE (with *why) or OA2_ERR_NOMEM.
 */
int discovery_parse(const char *issuer, const char *body, size_t len,
    struct endpoints *out, const char **why);

/* The metadata URL for an issuer (a trailing '/' is not doubled);
 * malloc'd, NULL on allocation failure. */
char *discovery_url(const char *issuer);

void endpoints_clear(struct endpoints *e);

#endif
