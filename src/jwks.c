/*
 * jwks.c - JSON Web Key Sets (RFC 7517) of public signature keys, turned
 * into OpenSSL keys (RSA and EC per RFC 7518 §6, Ed25519 per RFC 8037 §2).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "b64.h"
#include "errors.h"
#include "json.h"
#include "jwks.h"

/* RSA moduli we accept (RFC 7518 §3.3 asks for at least 2048 bits; the
 * upper bound is OpenSSL's own limit and keeps verification cheap). */
#define JWKS_RSA_MIN_BITS 2048
#define JWKS_RSA_MAX_BITS 16384
/* Public exponents longer than this are refused (no real key has one). */
#define JWKS_RSA_MAX_E_BYTES 32

struct jwk {
	char *kid;              /* NULL when the JWK has none */
	char *alg;              /* NULL when the JWK has none */
	enum jwks_kty kty;
	int nid;                /* curve NID for EC/OKP, 0 for RSA */
	EVP_PKEY *pkey;
};

struct jwks {
	struct jwk *keys;
	size_t n;
};

static void
jwks_key_clear(struct jwk *k)
{
	free(k->kid);
	free(k->alg);
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

/*
 * Decode the base64url member key of obj into *out and *outlen (freed by the
 * caller).  Returns 0, OA2_ERR_NOTFOUND, OA2_ERR_BAD_RESPONSE or
 * OA2_ERR_NOMEM.
 */
static int
jwks_get_bytes(struct json_object *obj, const char *key,
    unsigned char **out, size_t *outlen)
{
	const char *s = NULL;
	int rc;

	*out = NULL;
	*outlen = 0;
	rc = json_get_string(obj, key, &s);
	if (rc != 0)
		return rc;
	return b64url_decode(s, strlen(s), out, outlen);
}

/* Copy an optional string member into *out (NULL when absent).  Returns 0,
 * OA2_ERR_BAD_RESPONSE (not a string) or OA2_ERR_NOMEM. */
static int
jwks_get_opt_string(struct json_object *obj, const char *key, char **out)
{
	int rc = json_dup_string(obj, key, out);

	return rc == OA2_ERR_NOTFOUND ? 0 : rc;
}

/*
 * Build a public key of OpenSSL type name from the parameters in bld.
 * Returns 0, OA2_ERR_BAD_RESPONSE (OpenSSL refused the parameters) or
 * OA2_ERR_NOMEM.  *out is freed by the caller with EVP_PKEY_free.
 */
static int
jwks_fromdata(const char *name, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL, *check = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = OA2_ERR_NOMEM;

	*out = NULL;
	params = OSSL_PARAM_BLD_to_param(bld);
	if (params == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	if (ctx == NULL)
		goto out;
	rc = OA2_ERR_BAD_RESPONSE;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	/* For EC this checks the point is on the curve and of the right
	 * order (invalid-curve attacks); for the others it is cheap. */
	if (strcmp(name, "EC") == 0) {
		check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		if (check == NULL) {
			rc = OA2_ERR_NOMEM;
			goto out;
		}
		if (EVP_PKEY_public_check(check) != 1)
			goto out;
	}
	*out = pkey;
	pkey = NULL;
	rc = 0;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return rc;
}

/* RSA public key from "n" and "e" (RFC 7518 §6.3.1). */
static int
jwks_rsa(struct json_object *obj, EVP_PKEY **out)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int bits, rc;

	*out = NULL;
	rc = jwks_get_bytes(obj, "n", &n, &nlen);
	if (rc != 0)
		goto out;
	rc = jwks_get_bytes(obj, "e", &e, &elen);
	if (rc != 0)
		goto out;
	rc = OA2_ERR_BAD_RESPONSE;
	if (nlen == 0 || nlen > JWKS_RSA_MAX_BITS / 8 + 1 || elen == 0 ||
	    elen > JWKS_RSA_MAX_E_BYTES)
		goto out;
	rc = OA2_ERR_NOMEM;
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	if (bn_n == NULL || bn_e == NULL)
		goto out;
	rc = OA2_ERR_BAD_RESPONSE;
	bits = BN_num_bits(bn_n);
	if (bits < JWKS_RSA_MIN_BITS || bits > JWKS_RSA_MAX_BITS)
		goto out;
	/* e odd and greater than 1. */
	if (!BN_is_odd(bn_e) || BN_is_one(bn_e))
		goto out;
	rc = OA2_ERR_NOMEM;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1)
		goto out;
	rc = jwks_fromdata("RSA", bld, out);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	free(n);
	free(e);
	return rc;
}

/*
 * EC public key from "crv", "x" and "y" (RFC 7518 §6.2.1).  x and y must
 * have the full coordinate length.  *nid gets the curve NID.
 */
static int
jwks_ec(struct json_object *obj, EVP_PKEY **out, int *nid)
{
	static const struct {
		const char *crv;
		const char *group;
		int nid;
		size_t size;
	} curves[] = {
		{ "P-256", SN_X9_62_prime256v1, NID_X9_62_prime256v1, 32 },
		{ "P-384", SN_secp384r1, NID_secp384r1, 48 },
		{ "P-521", SN_secp521r1, NID_secp521r1, 66 },
	};
	unsigned char *x = NULL, *y = NULL, *pt = NULL;
	size_t xlen = 0, ylen = 0, i, size;
	OSSL_PARAM_BLD *bld = NULL;
	const char *crv = NULL;
	int rc;

	*out = NULL;
	*nid = 0;
	rc = json_get_string(obj, "crv", &crv);
	if (rc != 0)
		goto out;
	rc = OA2_ERR_BAD_RESPONSE;
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (strcmp(crv, curves[i].crv) == 0)
			break;
	}
	if (i == sizeof(curves) / sizeof(curves[0]))
		goto out;
	size = curves[i].size;
	rc = jwks_get_bytes(obj, "x", &x, &xlen);
	if (rc != 0)
		goto out;
	rc = jwks_get_bytes(obj, "y", &y, &ylen);
	if (rc != 0)
		goto out;
	rc = OA2_ERR_BAD_RESPONSE;
	if (xlen != size || ylen != size)
		goto out;
	rc = OA2_ERR_NOMEM;
	/* Uncompressed point, SEC 1 §2.3.3: 0x04 || X || Y. */
	pt = malloc(1 + 2 * size);
	if (pt == NULL)
		goto out;
	pt[0] = 0x04;
	memcpy(pt + 1, x, size);
	memcpy(pt + 1 + size, y, size);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    curves[i].group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    1 + 2 * size) != 1)
		goto out;
	rc = jwks_fromdata("EC", bld, out);
	if (rc == 0)
		*nid = curves[i].nid;
out:
	OSSL_PARAM_BLD_free(bld);
	free(pt);
	free(x);
	free(y);
	return rc;
}

/* Ed25519 public key from "crv" and "x" (RFC 8037 §2); Ed448 and the
 * X25519/X448 key-agreement curves are not signature keys we accept. */
static int
jwks_okp(struct json_object *obj, EVP_PKEY **out, int *nid)
{
	unsigned char *x = NULL;
	size_t xlen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	const char *crv = NULL;
	int rc;

	*out = NULL;
	*nid = 0;
	rc = json_get_string(obj, "crv", &crv);
	if (rc != 0)
		goto out;
	rc = OA2_ERR_BAD_RESPONSE;
	if (strcmp(crv, "Ed25519") != 0)
		goto out;
	rc = jwks_get_bytes(obj, "x", &x, &xlen);
	if (rc != 0)
		goto out;
	rc = OA2_ERR_BAD_RESPONSE;
	if (xlen != 32)
		goto out;
	rc = OA2_ERR_NOMEM;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x,
	    xlen) != 1)
		goto out;
	rc = jwks_fromdata("ED25519", bld, out);
	if (rc == 0)
		*nid = NID_ED25519;
out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	return rc;
}

/*
 * "key_ops" (RFC 7517 §4.3), when present, must be an array of strings
 * that includes "verify".  Returns 0 or OA2_ERR_BAD_RESPONSE.
 */
static int
jwks_check_key_ops(struct json_object *obj)
{
	struct json_object *ops = NULL, *e;
	size_t i, n;

	if (!json_object_object_get_ex(obj, "key_ops", &ops) || ops == NULL)
		return 0;
	if (!json_object_is_type(ops, json_type_array))
		return OA2_ERR_BAD_RESPONSE;
	n = json_object_array_length(ops);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(ops, i);
		if (e != NULL && json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), "verify") == 0)
			return 0;
	}
	return OA2_ERR_BAD_RESPONSE;
}

/*
 * Turn one JWK object into *k.  Returns 0 (usable key), OA2_ERR_NOMEM
 * (fatal), or another error for a key to skip.  On failure *k is cleared.
 */
static int
jwks_parse_key(struct json_object *obj, struct jwk *k)
{
	const char *kty = NULL, *use = NULL;
	int rc;

	memset(k, 0, sizeof(*k));
	rc = OA2_ERR_BAD_RESPONSE;
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		goto out;
	rc = json_get_string(obj, "kty", &kty);
	if (rc != 0)
		goto out;
	/* "use" (RFC 7517 §4.2): only signature keys. */
	rc = json_get_string(obj, "use", &use);
	if (rc == 0 && strcmp(use, "sig") != 0)
		rc = OA2_ERR_BAD_RESPONSE;
	if (rc != 0 && rc != OA2_ERR_NOTFOUND)
		goto out;
	rc = jwks_check_key_ops(obj);
	if (rc != 0)
		goto out;
	rc = jwks_get_opt_string(obj, "kid", &k->kid);
	if (rc != 0)
		goto out;
	rc = jwks_get_opt_string(obj, "alg", &k->alg);
	if (rc != 0)
		goto out;
	if (strcmp(kty, "RSA") == 0) {
		k->kty = JWKS_KTY_RSA;
		rc = jwks_rsa(obj, &k->pkey);
	} else if (strcmp(kty, "EC") == 0) {
		k->kty = JWKS_KTY_EC;
		rc = jwks_ec(obj, &k->pkey, &k->nid);
	} else if (strcmp(kty, "OKP") == 0) {
		k->kty = JWKS_KTY_OKP;
		rc = jwks_okp(obj, &k->pkey, &k->nid);
	} else {
		/* "oct" (shared secrets) and anything unknown. */
		rc = OA2_ERR_BAD_RESPONSE;
	}
out:
	if (rc != 0)
		jwks_key_clear(k);
	return rc;
}

int
jwks_parse(const char *json, size_t len, struct jwks **out)
{
	struct json_object *root = NULL, *arr = NULL;
	struct jwks *set = NULL;
	size_t i, count;
	int rc;

	*out = NULL;
	rc = json_parse_object(json, len, &root);
	if (rc != 0)
		goto out;
	rc = OA2_ERR_BAD_RESPONSE;
	if (!json_object_object_get_ex(root, "keys", &arr) || arr == NULL ||
	    !json_object_is_type(arr, json_type_array))
		goto out;
	rc = OA2_ERR_NOMEM;
	set = calloc(1, sizeof(*set));
	if (set == NULL)
		goto out;
	count = json_object_array_length(arr);
	if (count > 0) {
		set->keys = calloc(count, sizeof(*set->keys));
		if (set->keys == NULL)
			goto out;
	}
	for (i = 0; i < count; i++) {
		rc = jwks_parse_key(json_object_array_get_idx(arr, i),
		    &set->keys[set->n]);
		if (rc == OA2_ERR_NOMEM)
			goto out;
		if (rc == 0)
			set->n++;
	}
	*out = set;
	set = NULL;
	rc = 0;
out:
	/* Do not leave OpenSSL errors from skipped keys for other code. */
	ERR_clear_error();
	jwks_free(&set);
	json_put_wiped(root);
	return rc;
}

void
jwks_free(struct jwks **set)
{
	size_t i;

	if (set == NULL || *set == NULL)
		return;
	for (i = 0; i < (*set)->n; i++)
		jwks_key_clear(&(*set)->keys[i]);
	free((*set)->keys);
	free(*set);
	*set = NULL;
}

size_t
jwks_count(const struct jwks *set)
{
	return set == NULL ? 0 : set->n;
}

/* Does k fit a JWS with this alg, key type and curve? */
static int
jwks_fits(const struct jwk *k, const char *alg, enum jwks_kty kty,
    int curve_nid)
{
	if (k->kty != kty || k->nid != curve_nid)
		return 0;
	/* RFC 7517 §4.4: a JWK "alg" restricts the key to that algorithm. */
	return k->alg == NULL || strcmp(k->alg, alg) == 0;
}

int
jwks_select(const struct jwks *set, const char *alg, const char *kid,
    enum jwks_kty kty, int curve_nid, EVP_PKEY **key)
{
	const struct jwk *found = NULL;
	size_t i, with_kid = 0, fitting = 0;

	*key = NULL;
	if (set == NULL || alg == NULL)
		return OA2_ERR_NOTFOUND;
	for (i = 0; i < set->n; i++) {
		const struct jwk *k = &set->keys[i];

		if (kid != NULL) {
			if (k->kid == NULL || strcmp(k->kid, kid) != 0)
				continue;
			with_kid++;
		}
		if (!jwks_fits(k, alg, kty, curve_nid))
			continue;
		fitting++;
		found = k;
	}
	if (fitting != 1) {
		if (kid != NULL && with_kid > 0 && fitting == 0)
			return OA2_ERR_TOKEN;
		return OA2_ERR_NOTFOUND;
	}
	*key = found->pkey;
	return 0;
}
