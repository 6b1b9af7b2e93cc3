/*
 * fuzz_jwks.c - JSON Web Key Sets: jwks_parse, then key selection for
 * every algorithm, with and without a kid.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "errors.h"
#include "fuzz.h"
#include "jwks.h"

static const struct {
	const char *alg;
	enum jwks_kty kty;
	int nid;
} algs[] = {
	{ "RS256", JWKS_KTY_RSA, 0 },
	{ "PS512", JWKS_KTY_RSA, 0 },
	{ "ES256", JWKS_KTY_EC, NID_X9_62_prime256v1 },
	{ "ES384", JWKS_KTY_EC, NID_secp384r1 },
	{ "ES512", JWKS_KTY_EC, NID_secp521r1 },
	{ "EdDSA", JWKS_KTY_OKP, NID_ED25519 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwks *set = NULL;
	struct evp_pkey_st *key = NULL;
	char *body;

	body = malloc(size + 1);
	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	if (jwks_parse(body, size, &set) == 0) {
		for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
			(void)jwks_select(set, algs[i].alg, NULL, algs[i].kty,
			    algs[i].nid, &key);
			(void)jwks_select(set, algs[i].alg, algs[i].alg,
			    algs[i].kty, algs[i].nid, &key);
			(void)jwks_select(set, algs[i].alg, "1",
			    algs[i].kty, algs[i].nid, &key);
		}
		(void)jwks_count(set);
	}
	jwks_free(&set);
	free(body);
	return 0;
}
