/*
 * fuzz_jwt.c - ID token verification (jwt_verify) and access token
 * verification (jwt_verify_access, RFC 9068) against a fixed JWKS, and
 * the token shape of grants = token (grant_token_shaped).
 *
 * Input, by its first byte:
 *  - even: the rest is a compact JWT, verified as it comes (the b64url,
 *    segment, header and signature checks);
 *  - odd: the rest is "header JSON" NUL "payload JSON"; the harness
 *    encodes both and signs them with the Ed25519 key of the JWKS, so the
 *    header and claim checks behind a valid signature are reached too.
 * A token the harness signed is accepted only when the claims really are
 * for the expected issuer and client (or audience); no token passes both
 * as an ID token and as an access token (the typ rules exclude each
 * other); whatever verifies is shaped like a token.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "b64.h"
#include "claims.h"
#include "errors.h"
#include "fuzz.h"
#include "grant_token.h"
#include "jwks.h"
#include "jwt.h"

#define ISSUER "https://idp.example"
#define CLIENT "pam-test"
#define AUDIENCE "ssh://fuzz.example"
#define NOW 1700000000

/* A fixed Ed25519 seed: the key only has to be the same every run. */
static const unsigned char seed[32] = {
	0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
	0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
	0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};

/* Other keys for the selection logic: a P-256 key (RFC 7515 A.3) and an
 * RSA key, both without a private half here. */
static const char other_keys[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ES256\",\"use\":\"sig\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"use\":\"sig\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";

static EVP_PKEY *priv;
static struct jwks *keys;

static void
setup(void)
{
	unsigned char pub[32];
	size_t publen = sizeof(pub);
	char *x = NULL, *doc;
	size_t n;

	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    sizeof(seed));
	if (priv == NULL ||
	    EVP_PKEY_get_raw_public_key(priv, pub, &publen) != 1 ||
	    b64url_encode(pub, publen, &x) != 0)
		abort();
	n = strlen(x) + sizeof(other_keys) + 256;
	doc = malloc(n);
	if (doc == NULL)
		abort();
	snprintf(doc, n, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"kid\":\"EdDSA\",\"alg\":\"EdDSA\",\"x\":\"%s\"},%s]}", x,
	    other_keys);
	if (jwks_parse(doc, strlen(doc), &keys) != 0 || jwks_count(keys) != 3)
		abort();
	free(doc);
	free(x);
}

/* header.payload.signature, signed with the Ed25519 key. */
static char *
sign(const char *hdr, size_t hlen, const char *pay, size_t plen)
{
	EVP_MD_CTX *md = NULL;
	unsigned char sig[64];
	size_t siglen = sizeof(sig);
	char *h = NULL, *p = NULL, *s = NULL, *tok = NULL;
	size_t n;

	if (b64url_encode((const unsigned char *)hdr, hlen, &h) != 0 ||
	    b64url_encode((const unsigned char *)pay, plen, &p) != 0)
		goto out;
	n = strlen(h) + strlen(p) + 2 + 100;
	tok = malloc(n);
	if (tok == NULL)
		goto out;
	snprintf(tok, n, "%s.%s", h, p);
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestSignInit(md, NULL, NULL, NULL, priv) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)tok,
	    strlen(tok)) != 1 ||
	    b64url_encode(sig, siglen, &s) != 0) {
		free(tok);
		tok = NULL;
		goto out;
	}
	strcat(tok, ".");
	strcat(tok, s);
out:
	EVP_MD_CTX_free(md);
	free(h);
	free(p);
	free(s);
	return tok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwt_expect ex = { ISSUER, CLIENT, NOW, 60 };
	struct claims *c = NULL;
	const char *why = NULL, *iss = NULL, *nul;
	char *tok = NULL;
	int rc;

	if (keys == NULL)
		setup();
	if (size < 1 || size > 2 * JWT_MAX_BYTES)
		return 0;
	if ((data[0] & 1) == 0) {
		tok = malloc(size);
		if (tok == NULL)
			return 0;
		memcpy(tok, data + 1, size - 1);
		tok[size - 1] = '\0';
	} else {
		nul = memchr(data + 1, '\0', size - 1);
		if (nul == NULL)
			return 0;
		tok = sign((const char *)data + 1,
		    (size_t)(nul - (const char *)data - 1), nul + 1,
		    size - (size_t)(nul + 1 - (const char *)data));
		if (tok == NULL)
			return 0;
	}
	rc = jwt_verify(tok, keys, &ex, &c, &why);
	if (rc == 0) {
		const char **aud = NULL;
		size_t naud = 0;

		if (c == NULL || claims_get_string(c, "iss", &iss) != 0 ||
		    strcmp(iss, ISSUER) != 0)
			abort();
		/* Every audience is us (Core §3.1.3.7 step 3). */
		if (claims_get_strings(c, "aud", &aud, &naud) != 0 || naud == 0)
			abort();
		for (size_t i = 0; i < naud; i++) {
			if (strcmp(aud[i], CLIENT) != 0)
				abort();
		}
		free(aud);
	} else if (c != NULL || why == NULL) {
		abort();
	}
	claims_free(&c);
	{
		struct jwt_at_expect ax = { ISSUER, AUDIENCE, NOW, 60 };
		const char **aud = NULL;
		size_t naud = 0;
		int arc, found = 0;

		why = NULL;
		arc = jwt_verify_access(tok, keys, &ax, &c, &why);
		if (arc == 0) {
			if (rc == 0 || c == NULL || !grant_token_is_jws(tok) ||
			    !grant_token_shaped(tok) ||
			    claims_get_string(c, "iss", &iss) != 0 ||
			    strcmp(iss, ISSUER) != 0 ||
			    claims_get_strings(c, "aud", &aud, &naud) != 0)
				abort();
			for (size_t i = 0; i < naud; i++) {
				if (strcmp(aud[i], AUDIENCE) == 0)
					found = 1;
			}
			free(aud);
			if (!found)
				abort();
		} else if (c != NULL || why == NULL) {
			abort();
		}
		claims_free(&c);
	}
	(void)grant_token_shaped(tok);
	free(tok);
	return 0;
}
