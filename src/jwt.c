/*
 * jwt.c - ID token verification: the JWS signature (RFC 7515) with a key
 * from the configured JWKS only, then the claim checks of OpenID Connect
 * Core §3.1.3.7, following the JWT BCP (RFC 8725).
 *
 * Reason codes left in *why (all static strings):
 *   too_large, malformed, alg_refused, header_refused, typ_refused,
 *   no_key, key_mismatch, bad_signature, claim_missing, claim_type,
 *   iss_mismatch, aud_mismatch, aud_untrusted, azp_mismatch, expired,
 *   not_yet_valid,
 *   iat_future, not_access_token (access tokens), nomem.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

#include "b64.h"
#include "claims.h"
#include "errors.h"
#include "json.h"
#include "jwks.h"
#include "jwt.h"
#include "secret.h"

enum jwt_sigtype {
	JWT_SIG_PKCS1,          /* RSASSA-PKCS1-v1_5, RFC 7518 §3.3 */
	JWT_SIG_PSS,            /* RSASSA-PSS, RFC 7518 §3.5 */
	JWT_SIG_ECDSA,          /* ECDSA, RFC 7518 §3.4 */
	JWT_SIG_EDDSA,          /* EdDSA, RFC 8037 §3.1 */
};

struct jwt_alg {
	const char *name;
	enum jwt_sigtype type;
	const char *md;         /* digest name; NULL for EdDSA */
	enum jwks_kty kty;
	int nid;                /* curve for EC/OKP, 0 for RSA */
	size_t coord;           /* ECDSA: bytes per R and S */
};

/* The only algorithms we accept; "none", HS* and everything else are
 * refused (RFC 8725 §3.1, §3.2).  Names compare case-sensitively. */
static const struct jwt_alg jwt_algs[] = {
	{ "RS256", JWT_SIG_PKCS1, "SHA256", JWKS_KTY_RSA, 0, 0 },
	{ "RS384", JWT_SIG_PKCS1, "SHA384", JWKS_KTY_RSA, 0, 0 },
	{ "RS512", JWT_SIG_PKCS1, "SHA512", JWKS_KTY_RSA, 0, 0 },
	{ "PS256", JWT_SIG_PSS, "SHA256", JWKS_KTY_RSA, 0, 0 },
	{ "PS384", JWT_SIG_PSS, "SHA384", JWKS_KTY_RSA, 0, 0 },
	{ "PS512", JWT_SIG_PSS, "SHA512", JWKS_KTY_RSA, 0, 0 },
	{ "ES256", JWT_SIG_ECDSA, "SHA256", JWKS_KTY_EC,
	    NID_X9_62_prime256v1, 32 },
	{ "ES384", JWT_SIG_ECDSA, "SHA384", JWKS_KTY_EC, NID_secp384r1, 48 },
	{ "ES512", JWT_SIG_ECDSA, "SHA512", JWKS_KTY_EC, NID_secp521r1, 66 },
	{ "EdDSA", JWT_SIG_EDDSA, NULL, JWKS_KTY_OKP, NID_ED25519, 0 },
};

/* Header parameters we never honour: crit (RFC 7515 §4.1.11, nothing we
 * understand), and keys or key locations supplied by the token itself
 * (RFC 8725 §3.10: never fetch, never trust). */
static const char *const jwt_refused_headers[] = {
	"crit", "jku", "x5u", "jwk", "x5c",
};

static const struct jwt_alg *
jwt_find_alg(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(jwt_algs) / sizeof(jwt_algs[0]); i++) {
		if (strcmp(jwt_algs[i].name, name) == 0)
			return &jwt_algs[i];
	}
	return NULL;
}

/*
 * Convert a JWS ECDSA signature (R || S, each exactly coord bytes, RFC 7518
 * §3.4) into the DER form OpenSSL verifies.  R or S of zero is refused.
 * Returns 0 with *der (OPENSSL_free) and *derlen, OA2_ERR_TOKEN for a bad
 * signature, or OA2_ERR_NOMEM.
 */
static int
jwt_ecdsa_to_der(const unsigned char *sig, size_t siglen, size_t coord,
    unsigned char **der, size_t *derlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int rc = OA2_ERR_TOKEN, n;

	*der = NULL;
	*derlen = 0;
	if (siglen != 2 * coord)
		goto out;
	rc = OA2_ERR_NOMEM;
	r = BN_bin2bn(sig, (int)coord, NULL);
	s = BN_bin2bn(sig + coord, (int)coord, NULL);
	es = ECDSA_SIG_new();
	if (r == NULL || s == NULL || es == NULL)
		goto out;
	rc = OA2_ERR_TOKEN;
	if (BN_is_zero(r) || BN_is_zero(s))
		goto out;
	rc = OA2_ERR_NOMEM;
	if (ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = NULL;
	s = NULL;
	n = i2d_ECDSA_SIG(es, der);
	if (n <= 0) {
		*der = NULL;
		goto out;
	}
	*derlen = (size_t)n;
	rc = 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rc;
}

/*
 * Verify sig over the JWS signing input (RFC 7515 §5.2 step 8) with key
 * for alg.  Returns 0 when the signature is valid, OA2_ERR_TOKEN when it
 * is not, or OA2_ERR_NOMEM.
 */
static int
jwt_verify_sig(const struct jwt_alg *alg, EVP_PKEY *key,
    const char *input, size_t inputlen, const unsigned char *sig,
    size_t siglen)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	int rc;

	switch (alg->type) {
	case JWT_SIG_PKCS1:
	case JWT_SIG_PSS:
		/* RFC 8017 §8.1.2 / §8.2.2 step 1: exactly k octets. */
		rc = OA2_ERR_TOKEN;
		if (EVP_PKEY_get_size(key) <= 0 ||
		    siglen != (size_t)EVP_PKEY_get_size(key))
			goto out;
		break;
	case JWT_SIG_ECDSA:
		rc = jwt_ecdsa_to_der(sig, siglen, alg->coord, &der, &derlen);
		if (rc != 0)
			goto out;
		sig = der;
		siglen = derlen;
		break;
	case JWT_SIG_EDDSA:
		rc = OA2_ERR_TOKEN;
		if (siglen != 64)
			goto out;
		break;
	}
	rc = OA2_ERR_NOMEM;
	md = EVP_MD_CTX_new();
	if (md == NULL)
		goto out;
	rc = OA2_ERR_TOKEN;
	if (EVP_DigestVerifyInit_ex(md, &pctx, alg->md, NULL, NULL, key,
	    NULL) != 1)
		goto out;
	if (alg->type == JWT_SIG_PSS) {
		/* RFC 7518 §3.5: MGF1 with the same hash, salt as long as
		 * the hash output. */
		if (EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, alg->md,
		    NULL) != 1)
			goto out;
	} else if (alg->type == JWT_SIG_PKCS1) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING) != 1)
			goto out;
	}
	if (EVP_DigestVerify(md, sig, siglen, (const unsigned char *)input,
	    inputlen) != 1)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return rc;
}

/*
 * Check the protected header (RFC 7515 §4.1, RFC 8725 §3.1, §3.11) and
 * return the algorithm in *alg and the kid (borrowed from hdr, or NULL)
 * in *kid.  Returns 0 or OA2_ERR_TOKEN with *why set.
 */
static int
jwt_check_header(struct json_object *hdr, bool access,
    const struct jwt_alg **alg, const char **kid, const char **why)
{
	bool at = false;

	struct json_object *v = NULL;
	const char *name = NULL, *typ = NULL;
	size_t i;
	int rc;

	*alg = NULL;
	*kid = NULL;
	if (json_get_string(hdr, "alg", &name) != 0) {
		*why = "malformed";
		return OA2_ERR_TOKEN;
	}
	*alg = jwt_find_alg(name);
	if (*alg == NULL) {
		*why = "alg_refused";
		return OA2_ERR_TOKEN;
	}
	for (i = 0; i < sizeof(jwt_refused_headers) /
	    sizeof(jwt_refused_headers[0]); i++) {
		/* Present at all, even as null, is refused. */
		if (json_object_object_get_ex(hdr, jwt_refused_headers[i],
		    &v)) {
			*why = "header_refused";
			return OA2_ERR_TOKEN;
		}
	}
	/* RFC 9068 §2.1 / RFC 8725 §3.11: an access token is not an ID
	 * token.  Media types compare case-insensitively (RFC 7515
	 * §4.1.9). */
	rc = json_get_string(hdr, "typ", &typ);
	if (rc == OA2_ERR_BAD_RESPONSE) {
		*why = "malformed";
		return OA2_ERR_TOKEN;
	}
	if (rc == 0)
		at = strcasecmp(typ, "at+jwt") == 0 ||
		    strcasecmp(typ, "application/at+jwt") == 0;
	if (!access && at) {
		*why = "typ_refused";
		return OA2_ERR_TOKEN;
	}
	/* RFC 9068 §4: a resource server MUST check typ; anything else (an
	 * ID token's "JWT", no typ at all) is not an access token. */
	if (access && !at) {
		*why = "not_access_token";
		return OA2_ERR_TOKEN;
	}
	rc = json_get_string(hdr, "kid", kid);
	if (rc == OA2_ERR_BAD_RESPONSE) {
		*why = "malformed";
		return OA2_ERR_TOKEN;
	}
	return 0;
}

/* a + b for non-negative a and b, saturating at INT64_MAX. */
static int64_t
jwt_sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/*
 * A required (or, when optional is set, optional) NumericDate claim
 * (RFC 7519 §2): a JSON integer, not negative.  Returns 0, OA2_ERR_NOTFOUND
 * (absent and optional) or OA2_ERR_TOKEN with *why set.
 */
static int
jwt_get_time(const struct claims *c, const char *name, int optional,
    int64_t *out, const char **why)
{
	int rc = claims_get_int64(c, name, out);

	if (rc == OA2_ERR_NOTFOUND) {
		if (optional)
			return OA2_ERR_NOTFOUND;
		*why = "claim_missing";
		return OA2_ERR_TOKEN;
	}
	if (rc != 0 || *out < 0) {
		*why = "claim_type";
		return OA2_ERR_TOKEN;
	}
	return 0;
}

/*
 * The claim checks of OpenID Connect Core §3.1.3.7 (steps 2-4, 9, 10) and
 * RFC 7519 §4.1, on claims whose signature has been verified.
 * Returns 0, OA2_ERR_TOKEN with *why set, or OA2_ERR_NOMEM.
 */
static int
jwt_check_claims(const struct claims *c, const struct jwt_expect *expect,
    const char **why)
{
	const char **aud = NULL;
	const char *iss = NULL, *azp = NULL;
	size_t naud = 0, i;
	int64_t exp = 0, iat = 0, nbf = 0, now, leeway;
	int rc, found = 0;

	now = expect->now < 0 ? 0 : (int64_t)expect->now;
	leeway = expect->leeway < 0 ? 0 : (int64_t)expect->leeway;

	/* Step 2: iss equals the issuer, byte for byte. */
	rc = claims_get_string(c, "iss", &iss);
	if (rc != 0) {
		*why = rc == OA2_ERR_NOTFOUND ? "claim_missing" : "claim_type";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	if (strcmp(iss, expect->issuer) != 0) {
		*why = "iss_mismatch";
		rc = OA2_ERR_TOKEN;
		goto out;
	}

	/* Step 3: aud (a string or an array of strings) has client_id. */
	rc = claims_get_strings(c, "aud", &aud, &naud);
	if (rc == OA2_ERR_NOMEM)
		goto out;
	if (rc != 0) {
		*why = rc == OA2_ERR_NOTFOUND ? "claim_missing" : "claim_type";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	for (i = 0; i < naud; i++) {
		if (strcmp(aud[i], expect->client_id) == 0)
			found = 1;
	}
	rc = OA2_ERR_TOKEN;
	if (!found) {
		*why = "aud_mismatch";
		goto out;
	}

	/* Step 4: azp required with several audiences, and when present
	 * it must be us. */
	rc = claims_get_string(c, "azp", &azp);
	if (rc == OA2_ERR_BAD_RESPONSE) {
		*why = "claim_type";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	if (rc == OA2_ERR_NOTFOUND && naud > 1) {
		*why = "claim_missing";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	if (rc == 0 && strcmp(azp, expect->client_id) != 0) {
		*why = "azp_mismatch";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	/* Step 3 also: "MUST be rejected if ... it contains additional
	 * audiences not trusted by the Client"; we trust no other. */
	for (i = 0; i < naud; i++) {
		if (strcmp(aud[i], expect->client_id) != 0) {
			*why = "aud_untrusted";
			rc = OA2_ERR_TOKEN;
			goto out;
		}
	}

	/* Step 9: now before exp (with leeway). */
	rc = jwt_get_time(c, "exp", 0, &exp, why);
	if (rc != 0)
		goto out;
	rc = OA2_ERR_TOKEN;
	if (now >= jwt_sat_add(exp, leeway)) {
		*why = "expired";
		goto out;
	}

	/* RFC 7519 §4.1.5: not before nbf. */
	rc = jwt_get_time(c, "nbf", 1, &nbf, why);
	if (rc == 0 && nbf > jwt_sat_add(now, leeway)) {
		*why = "not_yet_valid";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	if (rc != 0 && rc != OA2_ERR_NOTFOUND)
		goto out;

	/* Step 10: iat required and not in the future. */
	rc = jwt_get_time(c, "iat", 0, &iat, why);
	if (rc != 0)
		goto out;
	if (iat > jwt_sat_add(now, leeway)) {
		*why = "iat_future";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	rc = 0;
out:
	free(aud);
	return rc;
}

/*
 * RFC 9068 §4 on claims whose signature has been verified: iss equals
 * the issuer, aud (string or array) contains the audience, exp required
 * and not passed, nbf, iat required and not in the future (with leeway),
 * sub, client_id and jti required strings (§2.2), no cnf (a
 * sender-constrained token).  Returns 0, OA2_ERR_TOKEN with *why set,
 * or OA2_ERR_NOMEM.
 */
static int
jwt_check_access_claims(const struct claims *c,
    const struct jwt_at_expect *expect, const char **why)
{
	const char **aud = NULL;
	const char *s = NULL;
	static const char *const strings[] = { "sub", "client_id" };
	size_t naud = 0, i;
	int64_t exp = 0, iat = 0, nbf = 0, now, leeway;
	int rc, found = 0;

	now = expect->now < 0 ? 0 : (int64_t)expect->now;
	leeway = expect->leeway < 0 ? 0 : (int64_t)expect->leeway;
	rc = claims_get_string(c, "iss", &s);
	if (rc != 0) {
		*why = rc == OA2_ERR_NOTFOUND ? "claim_missing" : "claim_type";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	if (strcmp(s, expect->issuer) != 0) {
		*why = "iss_mismatch";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	rc = claims_get_strings(c, "aud", &aud, &naud);
	if (rc == OA2_ERR_NOMEM)
		goto out;
	if (rc != 0) {
		*why = rc == OA2_ERR_NOTFOUND ? "claim_missing" : "claim_type";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	for (i = 0; i < naud; i++) {
		if (strcmp(aud[i], expect->audience) == 0)
			found = 1;
	}
	rc = OA2_ERR_TOKEN;
	if (!found) {
		*why = "aud_mismatch";
		goto out;
	}
	rc = jwt_get_time(c, "exp", 0, &exp, why);
	if (rc != 0)
		goto out;
	rc = OA2_ERR_TOKEN;
	if (now >= jwt_sat_add(exp, leeway)) {
		*why = "expired";
		goto out;
	}
	rc = jwt_get_time(c, "nbf", 1, &nbf, why);
	if (rc == 0 && nbf > jwt_sat_add(now, leeway)) {
		*why = "not_yet_valid";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	if (rc != 0 && rc != OA2_ERR_NOTFOUND)
		goto out;
	rc = jwt_get_time(c, "iat", 0, &iat, why);
	if (rc != 0)
		goto out;
	if (iat > jwt_sat_add(now, leeway)) {
		*why = "iat_future";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		rc = claims_get_string(c, strings[i], &s);
		if (rc != 0) {
			*why = rc == OA2_ERR_NOTFOUND ? "claim_missing" :
			    "claim_type";
			rc = OA2_ERR_TOKEN;
			goto out;
		}
	}
	/* RFC 9068 §2.2: jti is REQUIRED (the audit line names it). */
	rc = claims_get_string(c, "jti", &s);
	if (rc != 0 || s[0] == '\0') {
		*why = rc == OA2_ERR_BAD_RESPONSE ? "claim_type" :
		    "claim_missing";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	/* A sender-constrained token (RFC 8705 §3, RFC 9449 §6: cnf) is
	 * bound to a key the password prompt cannot prove: never a bearer
	 * token here. */
	if (claims_has(c, "cnf")) {
		*why = "sender_constrained";
		rc = OA2_ERR_TOKEN;
		goto out;
	}
	rc = 0;
out:
	free(aud);
	return rc;
}

/*
 * The JWS part shared by both kinds of token: size, compact form, strict
 * base64url, the header (access selects the typ rule), the key from the
 * set, the signature; only then the payload is parsed into *claims.
 * Returns 0, OA2_ERR_TOKEN with *reason, or OA2_ERR_NOMEM.
 */
static int
jwt_decode(const char *token, const struct jwks *keys, bool access,
    struct claims **out, const char **why)
{
	const struct jwt_alg *alg = NULL;
	struct json_object *hdr = NULL;
	struct claims *claims = NULL;
	unsigned char *hbytes = NULL, *pbytes = NULL, *sig = NULL;
	size_t hlen = 0, plen = 0, siglen = 0, len;
	const char *dot1, *dot2, *kid = NULL, *reason = NULL;
	EVP_PKEY *key = NULL;
	int rc = OA2_ERR_TOKEN;

	if (out != NULL)
		*out = NULL;
	if (token == NULL || keys == NULL) {
		reason = "malformed";
		goto out;
	}
	len = strnlen(token, JWT_MAX_BYTES + 1);
	if (len > JWT_MAX_BYTES) {
		reason = "too_large";
		goto out;
	}

	/* Compact serialisation, RFC 7515 §7.1: exactly three parts. */
	reason = "malformed";
	dot1 = memchr(token, '.', len);
	if (dot1 == NULL)
		goto out;
	dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
	if (dot2 == NULL ||
	    memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
		goto out;
	if (dot1 == token || dot2 == dot1 + 1)
		goto out;

	/* Every part is strict base64url; decoding is not yet trusting. */
	rc = b64url_decode(token, (size_t)(dot1 - token), &hbytes, &hlen);
	if (rc == 0)
		rc = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1),
		    &pbytes, &plen);
	if (rc == 0)
		rc = b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token),
		    &sig, &siglen);
	if (rc == OA2_ERR_NOMEM)
		goto out;
	rc = OA2_ERR_TOKEN;
	if (hbytes == NULL || pbytes == NULL || sig == NULL)
		goto out;

	/* Header: a JSON object (RFC 7515 §4). */
	rc = json_parse_object((const char *)hbytes, hlen, &hdr);
	if (rc == OA2_ERR_NOMEM)
		goto out;
	rc = OA2_ERR_TOKEN;
	if (hdr == NULL)
		goto out;
	rc = jwt_check_header(hdr, access, &alg, &kid, &reason);
	if (rc != 0)
		goto out;

	rc = jwks_select(keys, alg->name, kid, alg->kty, alg->nid, &key);
	if (rc != 0) {
		reason = rc == OA2_ERR_TOKEN ? "key_mismatch" : "no_key";
		rc = OA2_ERR_TOKEN;
		goto out;
	}

	/* Signature over the ASCII "header.payload", before any claim is
	 * looked at (RFC 8725 §3.1, RFC 7515 §5.2). */
	rc = jwt_verify_sig(alg, key, token, (size_t)(dot2 - token), sig,
	    siglen);
	if (rc != 0) {
		reason = rc == OA2_ERR_NOMEM ? "nomem" : "bad_signature";
		goto out;
	}

	/* Only now read the payload. */
	rc = claims_parse((const char *)pbytes, plen, &claims);
	if (rc != 0) {
		reason = rc == OA2_ERR_NOMEM ? "nomem" : "malformed";
		rc = rc == OA2_ERR_NOMEM ? OA2_ERR_NOMEM : OA2_ERR_TOKEN;
		goto out;
	}
	*out = claims;
	claims = NULL;
	reason = NULL;
	rc = 0;
out:
	if (rc == OA2_ERR_NOMEM)
		reason = "nomem";
	/* Never leave OpenSSL errors queued for unrelated code. */
	ERR_clear_error();
	claims_free(&claims);
	json_put_wiped(hdr);
	secret_freen((void **)&hbytes, hlen + 1);
	secret_freen((void **)&pbytes, plen + 1);
	secret_freen((void **)&sig, siglen + 1);
	if (why != NULL)
		*why = reason;
	return rc;
}

int
jwt_verify(const char *token, const struct jwks *keys,
    const struct jwt_expect *expect, struct claims **out, const char **why)
{
	struct claims *claims = NULL;
	const char *reason = "malformed";
	int rc = OA2_ERR_TOKEN;

	if (out != NULL)
		*out = NULL;
	if (expect == NULL || out == NULL || expect->issuer == NULL ||
	    expect->client_id == NULL)
		goto out;
	rc = jwt_decode(token, keys, false, &claims, &reason);
	if (rc != 0)
		goto out;
	rc = jwt_check_claims(claims, expect, &reason);
	if (rc != 0) {
		if (rc == OA2_ERR_NOMEM)
			reason = "nomem";
		goto out;
	}
	*out = claims;
	claims = NULL;
	reason = NULL;
out:
	claims_free(&claims);
	if (why != NULL)
		*why = reason;
	return rc;
}

int
jwt_verify_access(const char *token, const struct jwks *keys,
    const struct jwt_at_expect *expect, struct claims **out,
    const char **why)
{
	struct claims *claims = NULL;
	const char *reason = "malformed";
	int rc = OA2_ERR_TOKEN;

	if (out != NULL)
		*out = NULL;
	if (expect == NULL || out == NULL || expect->issuer == NULL ||
	    expect->audience == NULL)
		goto out;
	rc = jwt_decode(token, keys, true, &claims, &reason);
	if (rc != 0)
		goto out;
	rc = jwt_check_access_claims(claims, expect, &reason);
	if (rc != 0) {
		if (rc == OA2_ERR_NOMEM)
			reason = "nomem";
		goto out;
	}
	*out = claims;
	claims = NULL;
	reason = NULL;
out:
	claims_free(&claims);
	if (why != NULL)
		*why = reason;
	return rc;
}
