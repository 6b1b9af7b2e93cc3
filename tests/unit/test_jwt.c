/*
 * test_jwt.c - JWS verification, JWKS parsing and claim checks.
 *
 * Keys are generated at run time with OpenSSL; a small test-only signer
 * builds tokens, honest ones and forgeries (RFC 8725 §2 lists the attacks).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "b64.h"
#include "claims.h"
#include "errors.h"
#include "jwks.h"
#include "jwt.h"
#include "tap.h"

#define ISS "https://idp.example.com/realms/x"
#define CID "pam-client"
#define NOW ((long)1700000000)
#define LEEWAY 30L

static EVP_PKEY *k_rsa, *k_rsa1024, *k_p256, *k_p256b, *k_p384, *k_p521,
    *k_ed;
static struct jwks *set_main;
static const struct jwt_expect expect = { ISS, CID, (time_t)1700000000,
	LEEWAY };

/* ------------------------------------------------------------ helpers */

static void *
must(void *p)
{
	if (p == NULL) {
		printf("Bail out! allocation or OpenSSL failure\n");
		exit(1);
	}
	return p;
}

/* printf into a new string. */
__attribute__((format(printf, 1, 2)))
static char *
fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	if (n < 0)
		s = NULL;
	return must(s);
}

/* Append to a growing string. */
__attribute__((format(printf, 2, 3)))
static void
append(char **buf, const char *f, ...)
{
	va_list ap;
	char *s = NULL, *joined;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	must(n < 0 ? NULL : s);
	joined = fmt("%s%s", *buf ? *buf : "", s);
	free(*buf);
	free(s);
	*buf = joined;
}

static char *
b64u(const void *p, size_t n)
{
	char *s = NULL;

	if (b64url_encode(p, n, &s) != 0)
		must(NULL);
	return s;
}

static char *
b64u_str(const char *s)
{
	return b64u(s, strlen(s));
}

/* A BIGNUM parameter of pk as base64url, left-padded to pad bytes (0: the
 * minimal length). */
static char *
bn_param(EVP_PKEY *pk, const char *name, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;
	char *s;

	must(EVP_PKEY_get_bn_param(pk, name, &bn) == 1 ? bn : NULL);
	n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	must(n > 0 ? buf : NULL);
	s = b64u(buf, (size_t)n);
	return s;
}

static int
ec_coord(EVP_PKEY *pk)
{
	return (EVP_PKEY_get_bits(pk) + 7) / 8;
}

/* One JWK for pk, with kid (NULL for none) and extra members. */
static char *
jwk(EVP_PKEY *pk, const char *kid, const char *extra)
{
	char *kidm = kid ? fmt(",\"kid\":\"%s\"", kid) : fmt("%s", "");
	char *s;

	if (EVP_PKEY_is_a(pk, "RSA")) {
		char *n = bn_param(pk, OSSL_PKEY_PARAM_RSA_N, 0);
		char *e = bn_param(pk, OSSL_PKEY_PARAM_RSA_E, 0);

		s = fmt("{\"kty\":\"RSA\"%s,\"n\":\"%s\",\"e\":\"%s\"%s}",
		    kidm, n, e, extra);
		free(n);
		free(e);
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		int c = ec_coord(pk);
		const char *crv = c == 32 ? "P-256" : c == 48 ? "P-384" :
		    "P-521";
		char *x = bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, c);
		char *y = bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, c);

		s = fmt("{\"kty\":\"EC\"%s,\"crv\":\"%s\",\"x\":\"%s\","
		    "\"y\":\"%s\"%s}", kidm, crv, x, y, extra);
		free(x);
		free(y);
	} else {
		unsigned char raw[32];
		size_t rawlen = sizeof(raw);
		char *x;

		must(EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) == 1 ?
		    pk : NULL);
		x = b64u(raw, rawlen);
		s = fmt("{\"kty\":\"OKP\"%s,\"crv\":\"Ed25519\",\"x\":\"%s\"%s}",
		    kidm, x, extra);
		free(x);
	}
	free(kidm);
	return s;
}

static struct jwks *
parse_set(const char *json)
{
	struct jwks *set = NULL;

	if (jwks_parse(json, strlen(json), &set) != 0)
		must(NULL);
	return set;
}

/*
 * The test-only signer: sign input with pk as alg ("RS256", "PS384",
 * "ES512", "EdDSA", ...).  ECDSA signatures come out in JWS form, R || S.
 */
static unsigned char *
sign_raw(EVP_PKEY *pk, const char *alg, const char *in, size_t *siglen)
{
	const char *md = NULL;
	EVP_MD_CTX *ctx = must(EVP_MD_CTX_new());
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig;
	size_t len = 0;

	if (strcmp(alg, "EdDSA") != 0)
		md = strstr(alg, "256") ? "SHA256" : strstr(alg, "384") ?
		    "SHA384" : "SHA512";
	must(EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, pk, NULL) ==
	    1 ? ctx : NULL);
	if (alg[0] == 'P') {
		must(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) == 1 ? ctx : NULL);
		must(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) == 1 ? ctx : NULL);
	}
	must(EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)in,
	    strlen(in)) == 1 ? ctx : NULL);
	sig = must(malloc(len));
	must(EVP_DigestSign(ctx, sig, &len, (const unsigned char *)in,
	    strlen(in)) == 1 ? ctx : NULL);
	EVP_MD_CTX_free(ctx);
	if (alg[0] == 'E' && alg[1] == 'S') {
		const unsigned char *p = sig;
		ECDSA_SIG *es = must(d2i_ECDSA_SIG(NULL, &p, (long)len));
		int c = ec_coord(pk);
		unsigned char *raw = must(malloc((size_t)(2 * c)));

		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, c);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + c, c);
		ECDSA_SIG_free(es);
		free(sig);
		sig = raw;
		len = (size_t)(2 * c);
	}
	*siglen = len;
	return sig;
}

/* "b64(hdr).b64(payload)" */
static char *
signing_input(const char *hdr, const char *payload)
{
	char *h = b64u_str(hdr), *p = b64u_str(payload), *s;

	s = fmt("%s.%s", h, p);
	free(h);
	free(p);
	return s;
}

static char *
join_sig(char *input, const unsigned char *sig, size_t siglen)
{
	char *s = b64u(sig, siglen), *t;

	t = fmt("%s.%s", input, s);
	free(s);
	free(input);
	return t;
}

/* A token with header hdr and payload, signed by pk as signalg. */
static char *
make_token(const char *hdr, const char *payload, EVP_PKEY *pk,
    const char *signalg)
{
	char *in = signing_input(hdr, payload);
	unsigned char *sig;
	size_t siglen = 0;
	char *tok;

	sig = sign_raw(pk, signalg, in, &siglen);
	tok = join_sig(in, sig, siglen);
	free(sig);
	return tok;
}

/* The standard, valid claims with extra members appended. */
static char *
payload_with(const char *extra)
{
	return fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"sub\":\"u-1\","
	    "\"preferred_username\":\"alice\",\"exp\":%ld,\"iat\":%ld%s}",
	    NOW + 600, NOW - 10, extra);
}

/* A JOSE header for alg, with kid unless it is NULL. */
static char *
hdr_for(const char *alg, const char *kid)
{
	if (kid == NULL)
		return fmt("{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	return fmt("{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg,
	    kid);
}

/* A correctly signed token for alg with kid over payload. */
static char *
good_token(const char *alg, const char *kid, EVP_PKEY *pk,
    const char *payload)
{
	char *h = hdr_for(alg, kid), *t;

	t = make_token(h, payload, pk, alg);
	free(h);
	return t;
}

static void
expect_ok(const char *tok, const struct jwks *ks, const char *name)
{
	struct claims *c = NULL;
	const char *why = "unset", *user = NULL;
	int rc = jwt_verify(tok, ks, &expect, &c, &why);

	is_int(rc, 0, "%s verifies", name);
	if (rc != 0)
		printf("#   why: %s\n", why ? why : "(null)");
	ok(why == NULL, "%s: no reason", name);
	claims_get_string(c, "preferred_username", &user);
	is_str(user, "alice", "%s: preferred_username", name);
	claims_free(&c);
}

static void
expect_fail(const char *tok, const struct jwks *ks, const char *want,
    const char *name)
{
	struct claims *c = (struct claims *)&c;
	const char *why = NULL;
	int rc = jwt_verify(tok, ks, &expect, &c, &why);

	is_int(rc, OA2_ERR_TOKEN, "%s refused", name);
	is_str(why, want, "%s: reason", name);
	if (c != NULL) {
		ok(0, "%s: no claims on failure", name);
		if (rc == 0)
			claims_free(&c);
	}
}

/* Sign payload correctly for alg/kid/pk and expect why (NULL: success). */
static void
check_payload(const char *extra_or_full, int full, const char *want,
    const char *name)
{
	char *p = full ? fmt("%s", extra_or_full) :
	    payload_with(extra_or_full);
	char *t = good_token("RS256", "rsa", k_rsa, p);

	if (want == NULL)
		expect_ok(t, set_main, name);
	else
		expect_fail(t, set_main, want, name);
	free(t);
	free(p);
}

/* ------------------------------------------------------------- setup */

static void
setup(void)
{
	char *set = NULL, *j;

	k_rsa = must(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
	k_rsa1024 = must(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
	k_p256 = must(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	k_p256b = must(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	k_p384 = must(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
	k_p521 = must(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"));
	k_ed = must(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));

	append(&set, "%s", "{\"keys\":[");
	j = jwk(k_rsa, "rsa", ",\"use\":\"sig\"");
	append(&set, "%s", j);
	free(j);
	j = jwk(k_rsa, "rsa-rs256", ",\"alg\":\"RS256\"");
	append(&set, ",%s", j);
	free(j);
	j = jwk(k_rsa1024, "rsa1024", "");
	append(&set, ",%s", j);
	free(j);
	j = jwk(k_p256, "ec256", "");
	append(&set, ",%s", j);
	free(j);
	j = jwk(k_p256b, "ec256b", ",\"use\":\"enc\"");
	append(&set, ",%s", j);
	free(j);
	j = jwk(k_p384, "ec384", ",\"key_ops\":[\"verify\"]");
	append(&set, ",%s", j);
	free(j);
	j = jwk(k_p521, "ec521", "");
	append(&set, ",%s", j);
	free(j);
	j = jwk(k_ed, "ed", ",\"alg\":\"EdDSA\"");
	append(&set, ",%s", j);
	free(j);
	/* A shared secret key must never be used. */
	append(&set, "%s", ",{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"c2VjcmV0\"}");
	append(&set, "%s", "]}");
	set_main = parse_set(set);
	free(set);
}

/* ------------------------------------------------------------- tests */

static void
test_jwks(void)
{
	struct jwks *s = NULL;
	char *j, *doc;

	/* rsa, rsa-rs256, ec256, ec384, ec521, ed; not rsa1024, ec256b
	 * (use=enc) or the oct key. */
	is_int(jwks_count(set_main), 6, "JWKS: usable keys counted");
	is_int(jwks_parse("[]", 2, &s), OA2_ERR_BAD_RESPONSE,
	    "JWKS: array document refused");
	is_int(jwks_parse("{}", 2, &s), OA2_ERR_BAD_RESPONSE,
	    "JWKS: no keys member refused");
	is_int(jwks_parse("{\"keys\":{}}", 11, &s), OA2_ERR_BAD_RESPONSE,
	    "JWKS: keys not an array refused");
	is_int(jwks_parse("{\"keys\":[1,\"x\",null]}", 21, &s), 0,
	    "JWKS: junk entries skipped");
	is_int(jwks_count(s), 0, "JWKS: junk entries not counted");
	jwks_free(&s);
	ok(s == NULL, "jwks_free clears the pointer");

	/* An EC point moved off the curve is skipped. */
	j = jwk(k_p256, "bad", "");
	{
		char *y = strstr(j, "\"y\":\"");

		y[5] = y[5] == 'A' ? 'B' : 'A';
	}
	doc = fmt("{\"keys\":[%s]}", j);
	is_int(jwks_parse(doc, strlen(doc), &s), 0, "JWKS: off-curve doc");
	is_int(jwks_count(s), 0, "JWKS: off-curve point skipped");
	jwks_free(&s);
	free(doc);
	free(j);

	/* key_ops without verify is skipped. */
	j = jwk(k_p256, "k", ",\"key_ops\":[\"encrypt\"]");
	doc = fmt("{\"keys\":[%s]}", j);
	is_int(jwks_parse(doc, strlen(doc), &s), 0, "JWKS: key_ops doc");
	is_int(jwks_count(s), 0, "JWKS: key_ops without verify skipped");
	jwks_free(&s);
	free(doc);
	free(j);
}

static void
test_valid(void)
{
	static const struct {
		const char *alg, *kid;
		EVP_PKEY **pk;
	} cases[] = {
		{ "RS256", "rsa", &k_rsa }, { "RS384", "rsa", &k_rsa },
		{ "RS512", "rsa", &k_rsa }, { "PS256", "rsa", &k_rsa },
		{ "PS384", "rsa", &k_rsa }, { "PS512", "rsa", &k_rsa },
		{ "ES256", "ec256", &k_p256 }, { "ES384", "ec384", &k_p384 },
		{ "ES512", "ec521", &k_p521 }, { "EdDSA", "ed", &k_ed },
		{ "RS256", "rsa-rs256", &k_rsa },
	};
	char *p = payload_with("");
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = good_token(cases[i].alg, cases[i].kid, *cases[i].pk,
		    p);
		char *name = fmt("%s (kid %s)", cases[i].alg, cases[i].kid);

		expect_ok(t, set_main, name);
		free(name);
		free(t);
	}
	free(p);
}

static void
test_alg_none_and_hmac(void)
{
	static const char *const nones[] = { "none", "None", "NONE" };
	char *p = payload_with(""), *t, *in, *h, *name;
	unsigned char mac[EVP_MAX_MD_SIZE], *der = NULL, nbuf[512];
	unsigned int maclen = 0;
	size_t i;
	BIO *bio;
	char *pem = NULL;
	long pemlen;
	int derlen, nlen;
	BIGNUM *n = NULL;

	for (i = 0; i < 3; i++) {
		h = fmt("{\"alg\":\"%s\"}", nones[i]);
		in = signing_input(h, p);
		t = fmt("%s.", in);
		name = fmt("alg %s, empty signature", nones[i]);
		expect_fail(t, set_main, "alg_refused", name);
		free(name);
		free(t);
		t = join_sig(in, (const unsigned char *)"sig", 3);
		name = fmt("alg %s, non-empty signature", nones[i]);
		expect_fail(t, set_main, "alg_refused", name);
		free(name);
		free(t);
		free(h);
	}

	/* HS256 keyed with the RSA public key in PEM, DER and raw n. */
	bio = must(BIO_new(BIO_s_mem()));
	must(PEM_write_bio_PUBKEY(bio, k_rsa) == 1 ? bio : NULL);
	pemlen = BIO_get_mem_data(bio, &pem);
	derlen = i2d_PUBKEY(k_rsa, &der);
	must(EVP_PKEY_get_bn_param(k_rsa, OSSL_PKEY_PARAM_RSA_N, &n) == 1 ?
	    n : NULL);
	nlen = BN_bn2bin(n, nbuf);
	{
		const struct {
			const void *key;
			int len;
			const char *name;
		} hk[] = {
			{ pem, (int)pemlen, "HS256 keyed with PEM public key" },
			{ der, derlen, "HS256 keyed with DER public key" },
			{ nbuf, nlen, "HS256 keyed with raw modulus" },
		};

		for (i = 0; i < 3; i++) {
			h = hdr_for("HS256", i == 1 ? NULL : "rsa");
			in = signing_input(h, p);
			HMAC(EVP_sha256(), hk[i].key, hk[i].len,
			    (const unsigned char *)in, strlen(in), mac,
			    &maclen);
			t = join_sig(in, mac, maclen);
			expect_fail(t, set_main, "alg_refused", hk[i].name);
			free(t);
			free(h);
		}
	}
	h = hdr_for("HS512", "hs");
	in = signing_input(h, p);
	HMAC(EVP_sha512(), "secret", 6, (const unsigned char *)in, strlen(in),
	    mac, &maclen);
	t = join_sig(in, mac, maclen);
	expect_fail(t, set_main, "alg_refused", "HS512 with the oct key");
	free(t);
	free(h);
	t = good_token("RS257", "rsa", k_rsa, p);
	expect_fail(t, set_main, "alg_refused", "unknown alg");
	free(t);
	t = good_token("rs256", "rsa", k_rsa, p);
	expect_fail(t, set_main, "alg_refused", "alg in the wrong case");
	free(t);

	BN_free(n);
	OPENSSL_free(der);
	BIO_free(bio);
	free(p);
}

static void
test_key_confusion(void)
{
	char *p = payload_with(""), *h, *t;

	/* RS256 header, signed with the EC key, kid of the EC key. */
	h = hdr_for("RS256", "ec256");
	t = make_token(h, p, k_p256, "ES256");
	expect_fail(t, set_main, "key_mismatch", "RS256 header, EC key kid");
	free(t);
	free(h);
	/* Same, kid of the RSA key. */
	h = hdr_for("RS256", "rsa");
	t = make_token(h, p, k_p256, "ES256");
	expect_fail(t, set_main, "bad_signature", "RS256 header, EC signature");
	free(t);
	free(h);
	/* ES256 header with the kid of a P-384 key, signed by it. */
	h = hdr_for("ES256", "ec384");
	t = make_token(h, p, k_p384, "ES384");
	expect_fail(t, set_main, "key_mismatch", "ES256 with P-384 kid");
	free(t);
	free(h);
	/* RSA 1024 keys never make it into the set. */
	t = good_token("RS256", "rsa1024", k_rsa1024, p);
	expect_fail(t, set_main, "no_key", "RSA-1024 key");
	free(t);
	t = good_token("RS256", "nosuchkid", k_rsa, p);
	expect_fail(t, set_main, "no_key", "kid not found");
	free(t);
	/* Key with use=enc. */
	t = good_token("ES256", "ec256b", k_p256b, p);
	expect_fail(t, set_main, "no_key", "JWK with use=enc");
	free(t);
	/* JWK alg RS256 but header PS256. */
	t = good_token("PS256", "rsa-rs256", k_rsa, p);
	expect_fail(t, set_main, "key_mismatch", "JWK alg differs");
	free(t);
	/* EdDSA key restricted by alg is fine; the oct key is not a key. */
	t = good_token("EdDSA", "ec256", k_ed, p);
	expect_fail(t, set_main, "key_mismatch", "EdDSA with EC kid");
	free(t);
	/* Signed by another key with the right kid. */
	t = good_token("ES256", "ec256", k_p256b, p);
	expect_fail(t, set_main, "bad_signature", "ES256 signed by other key");
	free(t);
	t = good_token("PS256", "rsa", k_rsa, p);
	{
		/* RS256 header over a PS256 signature. */
		char *h2 = hdr_for("RS256", "rsa"), *in, *dot;

		in = signing_input(h2, p);
		dot = strrchr(t, '.');
		free(h2);
		h2 = fmt("%s%s", in, dot);
		expect_fail(h2, set_main, "bad_signature",
		    "PS256 signature under RS256 header");
		free(h2);
		free(in);
	}
	free(t);
	free(p);
}

static void
test_kid_selection(void)
{
	char *p = payload_with(""), *j1, *j2, *doc, *t;
	struct jwks *two = NULL, *mixed = NULL;

	j1 = jwk(k_p256, "a", "");
	j2 = jwk(k_p256b, "b", "");
	doc = fmt("{\"keys\":[%s,%s]}", j1, j2);
	two = parse_set(doc);
	free(doc);
	t = good_token("ES256", NULL, k_p256, p);
	expect_fail(t, two, "no_key", "no kid, two fitting keys");
	/* The main set has one P-256 signing key (the other is use=enc). */
	expect_ok(t, set_main, "no kid, one P-256 signing key");
	free(t);
	t = good_token("RS256", NULL, k_rsa, p);
	expect_fail(t, set_main, "no_key", "no kid, two RSA keys fit");
	free(t);
	free(j1);
	free(j2);

	j1 = jwk(k_rsa, NULL, "");
	j2 = jwk(k_p256, NULL, "");
	doc = fmt("{\"keys\":[%s,%s]}", j1, j2);
	mixed = parse_set(doc);
	free(doc);
	t = good_token("ES256", NULL, k_p256, p);
	expect_ok(t, mixed, "no kid, exactly one fitting key");
	free(t);
	t = good_token("ES256", "a", k_p256, p);
	expect_fail(t, mixed, "no_key", "kid given, keys without kid");
	free(t);
	free(j1);
	free(j2);
	jwks_free(&two);
	jwks_free(&mixed);
	free(p);
}

static void
test_headers(void)
{
	static const char *const bad[] = {
		"\"crit\":[\"exp\"]", "\"jku\":\"https://evil.example/jwks\"",
		"\"x5u\":\"https://evil.example/cert\"",
		"\"jwk\":{\"kty\":\"EC\"}", "\"x5c\":[\"MIIB\"]",
		"\"crit\":null",
	};
	static const char *const typs[] = {
		"at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT",
	};
	char *p = payload_with(""), *h, *t, *name;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h = fmt("{\"alg\":\"RS256\",\"kid\":\"rsa\",%s}", bad[i]);
		t = make_token(h, p, k_rsa, "RS256");
		name = fmt("header %s", bad[i]);
		expect_fail(t, set_main, "header_refused", name);
		free(name);
		free(t);
		free(h);
	}
	for (i = 0; i < sizeof(typs) / sizeof(typs[0]); i++) {
		h = fmt("{\"alg\":\"RS256\",\"kid\":\"rsa\",\"typ\":\"%s\"}",
		    typs[i]);
		t = make_token(h, p, k_rsa, "RS256");
		name = fmt("typ %s", typs[i]);
		expect_fail(t, set_main, "typ_refused", name);
		free(name);
		free(t);
		free(h);
	}
	h = fmt("%s", "{\"alg\":\"RS256\",\"kid\":42}");
	t = make_token(h, p, k_rsa, "RS256");
	expect_fail(t, set_main, "malformed", "kid not a string");
	free(t);
	free(h);
	h = fmt("%s", "{\"kid\":\"rsa\"}");
	t = make_token(h, p, k_rsa, "RS256");
	expect_fail(t, set_main, "malformed", "alg missing");
	free(t);
	free(h);
	h = fmt("%s", "{\"alg\":[\"RS256\"],\"kid\":\"rsa\"}");
	t = make_token(h, p, k_rsa, "RS256");
	expect_fail(t, set_main, "malformed", "alg not a string");
	free(t);
	free(h);
	h = fmt("%s", "[\"RS256\"]");
	t = make_token(h, p, k_rsa, "RS256");
	expect_fail(t, set_main, "malformed", "header not an object");
	free(t);
	free(h);
	h = fmt("%s", "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"typ\":\"JWT\"}x");
	t = make_token(h, p, k_rsa, "RS256");
	expect_fail(t, set_main, "malformed", "header trailing garbage");
	free(t);
	free(h);
	free(p);
}

/* Replace the character at offset off of a copy of tok with c. */
static char *
poke(const char *tok, size_t off, char c)
{
	char *s = fmt("%s", tok);

	s[off] = c;
	return s;
}

static void
test_encoding(void)
{
	char *p = payload_with(""), *t, *bad, *in;
	const char *d1, *d2;
	size_t siglen = 0, n;
	char *big;

	t = good_token("RS256", "rsa", k_rsa, p);
	d1 = strchr(t, '.');
	d2 = strrchr(t, '.');

	bad = fmt("%.*s", (int)(d2 - t), t);
	expect_fail(bad, set_main, "malformed", "2 segments");
	free(bad);
	bad = fmt("%s.", t);
	expect_fail(bad, set_main, "malformed", "4 segments (trailing dot)");
	free(bad);
	bad = fmt("%s.AAAA", t);
	expect_fail(bad, set_main, "malformed", "4 segments");
	free(bad);
	bad = fmt(".%s", d1 + 1);
	expect_fail(bad, set_main, "malformed", "empty header");
	free(bad);
	expect_fail("", set_main, "malformed", "empty token");

	/* '=' padding (RFC 7515 §2 forbids it), honestly signed over the
	 * padded text so only the encoding is wrong.  The header (34 bytes)
	 * and the signature (256 bytes) would both take "==". */
	{
		char *h = fmt("%s", "{\"alg\":\"RS256\",\"kid\":\"rsa\",\"x\":12}");
		char *hp, *pl = b64u_str(p);
		unsigned char *s;

		hp = b64u_str(h);
		ok(strlen(hp) % 4 == 2, "header needs two pad characters");
		in = fmt("%s==.%s", hp, pl);
		s = sign_raw(k_rsa, "RS256", in, &siglen);
		bad = join_sig(in, s, siglen);
		expect_fail(bad, set_main, "malformed", "padded header");
		free(bad);
		free(s);
		in = fmt("%s.%s", hp, pl);
		s = sign_raw(k_rsa, "RS256", in, &siglen);
		bad = fmt("%s==", in = join_sig(in, s, siglen));
		expect_fail(bad, set_main, "malformed", "padded signature");
		free(bad);
		free(in);
		free(s);
		free(hp);
		free(h);
		free(pl);
	}

	n = (size_t)(d2 - t) + 1;
	bad = poke(t, n, '+');
	expect_fail(bad, set_main, "malformed", "'+' in signature");
	free(bad);
	bad = poke(t, n + 1, '/');
	expect_fail(bad, set_main, "malformed", "'/' in signature");
	free(bad);
	bad = poke(t, (size_t)(d1 - t) + 2, '+');
	expect_fail(bad, set_main, "malformed", "'+' in payload");
	free(bad);
	bad = poke(t, 3, '/');
	expect_fail(bad, set_main, "malformed", "'/' in header");
	free(bad);
	bad = poke(t, n + 2, ' ');
	expect_fail(bad, set_main, "malformed", "space in signature");
	free(bad);
	bad = fmt("%s\n", t);
	expect_fail(bad, set_main, "malformed", "trailing newline");
	free(bad);

	/* Tampered payload, original signature. */
	{
		char *p2 = fmt("%s", p), *pe, *forged;

		memcpy(strstr(p2, "alice"), "admin", 5);
		pe = b64u_str(p2);
		forged = fmt("%.*s.%s%s", (int)(d1 - t), t, pe, d2);
		expect_fail(forged, set_main, "bad_signature",
		    "tampered payload");
		free(forged);
		free(pe);
		free(p2);
	}
	free(t);

	/* Over JWT_MAX_BYTES, honestly signed. */
	big = must(malloc(JWT_MAX_BYTES));
	memset(big, 'x', JWT_MAX_BYTES - 1);
	big[JWT_MAX_BYTES - 1] = '\0';
	{
		char *extra = fmt(",\"pad\":\"%.*s\"", 49000, big);
		char *pl = payload_with(extra);

		t = good_token("RS256", "rsa", k_rsa, pl);
		ok(strlen(t) > JWT_MAX_BYTES, "big token is %zu bytes",
		    strlen(t));
		expect_fail(t, set_main, "too_large", "token over JWT_MAX_BYTES");
		free(t);
		free(pl);
		free(extra);
	}
	free(big);
	free(p);
}

static void
test_ecdsa_sigs(void)
{
	char *p = payload_with(""), *h = hdr_for("ES256", "ec256"), *in, *t;
	unsigned char *sig, zero[64];
	size_t siglen = 0;

	in = signing_input(h, p);
	sig = sign_raw(k_p256, "ES256", in, &siglen);
	t = join_sig(fmt("%s", in), sig, siglen - 1);
	expect_fail(t, set_main, "bad_signature", "ES256 signature 63 bytes");
	free(t);
	memset(zero, 0, sizeof(zero));
	t = join_sig(fmt("%s", in), zero, 64);
	expect_fail(t, set_main, "bad_signature", "ES256 signature all zero");
	free(t);
	memset(sig, 0, 32);
	t = join_sig(fmt("%s", in), sig, 64);
	expect_fail(t, set_main, "bad_signature", "ES256 signature r = 0");
	free(t);
	free(sig);
	/* DER instead of R || S (a common signer mistake). */
	{
		EVP_MD_CTX *ctx = must(EVP_MD_CTX_new());
		unsigned char der[128];
		size_t derlen = sizeof(der);

		must(EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL,
		    k_p256, NULL) == 1 ? ctx : NULL);
		must(EVP_DigestSign(ctx, der, &derlen,
		    (const unsigned char *)in, strlen(in)) == 1 ? ctx : NULL);
		EVP_MD_CTX_free(ctx);
		t = join_sig(fmt("%s", in), der, derlen);
		expect_fail(t, set_main, "bad_signature", "ES256 DER signature");
		free(t);
	}
	free(in);
	free(h);
	/* Truncated RSA signature. */
	h = hdr_for("RS256", "rsa");
	in = signing_input(h, p);
	sig = sign_raw(k_rsa, "RS256", in, &siglen);
	t = join_sig(fmt("%s", in), sig + 1, siglen - 1);
	expect_fail(t, set_main, "bad_signature", "RS256 signature short");
	free(t);
	free(sig);
	free(in);
	free(h);
	/* Ed25519 signature of the wrong length. */
	h = hdr_for("EdDSA", "ed");
	in = signing_input(h, p);
	sig = sign_raw(k_ed, "EdDSA", in, &siglen);
	t = join_sig(fmt("%s", in), sig, siglen - 1);
	expect_fail(t, set_main, "bad_signature", "EdDSA signature 63 bytes");
	free(t);
	free(sig);
	free(in);
	free(h);
	free(p);
}

static void
test_claims_checks(void)
{
	char *s;

	/* exp */
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"iat\":%ld,"
	    "\"preferred_username\":\"alice\"}", NOW);
	check_payload(s, 1, "claim_missing", "exp missing");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"iat\":%ld,"
	    "\"exp\":\"%ld\"}", NOW, NOW + 600);
	check_payload(s, 1, "claim_type", "exp a string");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"iat\":%ld,"
	    "\"exp\":%ld.5}", NOW, NOW + 600);
	check_payload(s, 1, "claim_type", "exp a float");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"iat\":%ld,"
	    "\"exp\":-1}", NOW);
	check_payload(s, 1, "claim_type", "exp negative");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"iat\":%ld,"
	    "\"exp\":%ld}", NOW - 100, NOW - LEEWAY);
	check_payload(s, 1, "expired", "expired (exactly at leeway)");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"iat\":%ld,"
	    "\"exp\":%ld,\"preferred_username\":\"alice\"}", NOW - 100,
	    NOW - LEEWAY + 1);
	check_payload(s, 1, NULL, "exp just inside leeway");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"iat\":%ld,"
	    "\"exp\":9223372036854775807,\"preferred_username\":\"alice\"}",
	    NOW);
	check_payload(s, 1, NULL, "exp INT64_MAX (no overflow)");
	free(s);

	/* nbf, iat */
	s = fmt(",\"nbf\":%ld", NOW + LEEWAY + 1);
	check_payload(s, 0, "not_yet_valid", "nbf in the future");
	free(s);
	s = fmt(",\"nbf\":%ld", NOW + LEEWAY);
	check_payload(s, 0, NULL, "nbf within leeway");
	free(s);
	check_payload(",\"nbf\":\"0\"", 0, "claim_type", "nbf a string");
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"iat\":%ld,"
	    "\"exp\":%ld}", NOW + LEEWAY + 1, NOW + 600);
	check_payload(s, 1, "iat_future", "iat in the future");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"exp\":%ld}",
	    NOW + 600);
	check_payload(s, 1, "claim_missing", "iat missing");
	free(s);

	/* aud, azp */
	s = fmt("{\"iss\":\"" ISS "\",\"iat\":%ld,\"exp\":%ld}", NOW,
	    NOW + 600);
	check_payload(s, 1, "claim_missing", "aud missing");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"other\",\"iat\":%ld,"
	    "\"exp\":%ld}", NOW, NOW + 600);
	check_payload(s, 1, "aud_mismatch", "aud wrong");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":\"" CID "x\",\"iat\":%ld,"
	    "\"exp\":%ld}", NOW, NOW + 600);
	check_payload(s, 1, "aud_mismatch", "aud with client_id as prefix");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":[\"a\",\"b\"],\"azp\":\"" CID
	    "\",\"iat\":%ld,\"exp\":%ld}", NOW, NOW + 600);
	check_payload(s, 1, "aud_mismatch", "aud array without client_id");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":[\"" CID "\",\"b\"],"
	    "\"iat\":%ld,\"exp\":%ld}", NOW, NOW + 600);
	check_payload(s, 1, "claim_missing", "aud array of 2, no azp");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":[\"" CID "\",\"b\"],"
	    "\"azp\":\"" CID "\",\"preferred_username\":\"alice\","
	    "\"iat\":%ld,\"exp\":%ld}", NOW, NOW + 600);
	check_payload(s, 1, "aud_untrusted",
	    "aud array of 2 with azp: a stranger is not trusted (Core 3.1.3.7 step 3)");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":[\"" CID "\"],"
	    "\"preferred_username\":\"alice\",\"iat\":%ld,\"exp\":%ld}", NOW,
	    NOW + 600);
	check_payload(s, 1, NULL, "aud array of 1, no azp");
	free(s);
	check_payload(",\"azp\":\"other\"", 0, "azp_mismatch", "azp wrong");
	check_payload(",\"azp\":1", 0, "claim_type", "azp a number");
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":42,\"iat\":%ld,\"exp\":%ld}",
	    NOW, NOW + 600);
	check_payload(s, 1, "claim_type", "aud a number");
	free(s);
	s = fmt("{\"iss\":\"" ISS "\",\"aud\":[\"" CID "\",7],\"azp\":\"" CID
	    "\",\"iat\":%ld,\"exp\":%ld}", NOW, NOW + 600);
	check_payload(s, 1, "claim_type", "aud array with a number");
	free(s);

	/* iss */
	s = fmt("{\"iss\":\"https://evil.example\",\"aud\":\"" CID "\","
	    "\"iat\":%ld,\"exp\":%ld}", NOW, NOW + 600);
	check_payload(s, 1, "iss_mismatch", "iss wrong");
	free(s);
	s = fmt("{\"iss\":\"" ISS "/\",\"aud\":\"" CID "\","
	    "\"iat\":%ld,\"exp\":%ld}", NOW, NOW + 600);
	check_payload(s, 1, "iss_mismatch", "iss with trailing slash");
	free(s);
	s = fmt("{\"aud\":\"" CID "\",\"iat\":%ld,\"exp\":%ld}", NOW,
	    NOW + 600);
	check_payload(s, 1, "claim_missing", "iss missing");
	free(s);

	/* payload not a JSON object, after a good signature */
	check_payload("[1,2]", 1, "malformed", "payload an array");
	check_payload("{\"iss\":", 1, "malformed", "payload truncated JSON");
}

static void
test_claims_api(void)
{
	static const char doc[] =
	    "{\"realm_access\":{\"roles\":[\"admin\",\"ops\"],"
	    "\"level\":{\"n\":7}},\"groups\":\"wheel\",\"n\":5,"
	    "\"bad\":[\"a\",1],\"nul\":\"a\\u0000b\",\"nothing\":null,"
	    "\"obj\":{}}";
	struct claims *c = NULL;
	const char **v = NULL, *s = NULL;
	size_t n = 0;
	int64_t i = 0;

	is_int(claims_parse(doc, strlen(doc), &c), 0, "claims_parse");
	is_int(claims_get_strings(c, "realm_access.roles", &v, &n), 0,
	    "nested dotted path array");
	is_int(n, 2, "nested array has 2 values");
	is_str(v ? v[0] : NULL, "admin", "first role");
	is_str(v ? v[1] : NULL, "ops", "second role");
	ok(v != NULL && v[2] == NULL, "array NULL-terminated");
	free(v);
	is_int(claims_get_int64(c, "realm_access.level.n", &i), 0,
	    "two-level path int");
	is_int(i, 7, "two-level path value");
	is_int(claims_get_strings(c, "groups", &v, &n), 0,
	    "single string as list");
	is_int(n, 1, "single string list length");
	is_str(v ? v[0] : NULL, "wheel", "single string value");
	free(v);
	v = NULL;
	is_int(claims_get_strings(c, "bad", &v, &n), OA2_ERR_BAD_RESPONSE,
	    "array with a number refused");
	ok(v == NULL && n == 0, "outputs cleared on error");
	is_int(claims_get_strings(c, "n", &v, &n), OA2_ERR_BAD_RESPONSE,
	    "number is not a string list");
	is_int(claims_get_strings(c, "missing", &v, &n), OA2_ERR_NOTFOUND,
	    "missing list");
	is_int(claims_get_string(c, "realm_access.roles", &s),
	    OA2_ERR_BAD_RESPONSE, "array is not a string");
	is_int(claims_get_string(c, "n", &s), OA2_ERR_BAD_RESPONSE,
	    "number is not a string");
	is_int(claims_get_string(c, "nul", &s), OA2_ERR_BAD_RESPONSE,
	    "embedded NUL refused");
	is_int(claims_get_string(c, "nothing", &s), OA2_ERR_NOTFOUND,
	    "null is absent");
	is_int(claims_get_string(c, "realm_access.x", &s), OA2_ERR_NOTFOUND,
	    "missing nested member");
	is_int(claims_get_string(c, "groups.x", &s), OA2_ERR_BAD_RESPONSE,
	    "path through a string");
	is_int(claims_get_string(c, "realm_access..roles", &s),
	    OA2_ERR_BAD_RESPONSE, "empty path segment");
	is_int(claims_get_string(c, "obj.", &s), OA2_ERR_BAD_RESPONSE,
	    "trailing dot");
	is_int(claims_get_int64(c, "groups", &i), OA2_ERR_BAD_RESPONSE,
	    "string is not an int");
	claims_free(&c);
	ok(c == NULL, "claims_free clears the pointer");
	claims_free(NULL);
	is_int(claims_parse("[]", 2, &c), OA2_ERR_BAD_RESPONSE,
	    "claims must be an object");
}


/* ------------------------------------------------ access tokens (RFC 9068) */

#define AUD "ssh://hosts.example"

static const struct jwt_at_expect at_expect = { ISS, AUD, (time_t)1700000000,
	LEEWAY };

static char *
at_payload(const char *extra)
{
	return fmt("{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"" AUD "\"],"
	    "\"sub\":\"u-1\",\"client_id\":\"ci\",\"jti\":\"j-1\","
	    "\"preferred_username\":\"alice\",\"scope\":\"pam:login admin\","
	    "\"exp\":%ld,\"iat\":%ld%s}", NOW + 600, NOW - 10, extra);
}

/* Verify an access token signed by pk (kid) with header typ (NULL: no
 * typ) over payload; want NULL: must verify. */
static void
at_case(const char *typ, const char *kid, EVP_PKEY *pk, const char *alg,
    const char *payload, const char *want, const char *name)
{
	struct claims *c = NULL;
	const char *why = "unset", *v = NULL;
	char *h = typ != NULL ?
	    fmt("{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"%s\"}", alg, kid,
	    typ) : fmt("{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, kid);
	char *t = make_token(h, payload, pk, alg);
	int rc = jwt_verify_access(t, set_main, &at_expect, &c, &why);

	if (want == NULL) {
		is_int(rc, 0, "access token %s verifies", name);
		if (rc != 0)
			printf("#   why: %s\n", why ? why : "(null)");
		claims_get_string(c, "scope", &v);
		is_str(v, "pam:login admin", "access token %s: scope", name);
	} else {
		is_int(rc, OA2_ERR_TOKEN, "access token %s refused", name);
		is_str(why, want, "access token %s: reason", name);
		ok(c == NULL, "access token %s: no claims", name);
	}
	claims_free(&c);
	free(t);
	free(h);
}

static void
test_access_tokens(void)
{
	struct claims *c = NULL;
	const char *why = NULL;
	char *p = at_payload(""), *q, *t;

	at_case("at+jwt", "rsa", k_rsa, "RS256", p, NULL, "at+jwt RS256");
	at_case("application/at+jwt", "ec256", k_p256, "ES256", p, NULL,
	    "application/at+jwt ES256");
	at_case("AT+JWT", "ed", k_ed, "EdDSA", p, NULL, "AT+JWT EdDSA");
	/* An ID token is not an access token, whatever its claims. */
	at_case("JWT", "rsa", k_rsa, "RS256", p, "not_access_token",
	    "typ JWT");
	at_case(NULL, "rsa", k_rsa, "RS256", p, "not_access_token", "no typ");
	at_case("jwt", "rsa", k_rsa, "RS256", p, "not_access_token",
	    "typ jwt");
	/* Signed by a key outside the set, or a key under a known kid. */
	at_case("at+jwt", "nope", k_rsa, "RS256", p, "no_key", "unknown kid");
	at_case("at+jwt", "rsa", k_rsa1024, "RS256", p, "bad_signature",
	    "other key, known kid");
	at_case("at+jwt", "rsa", k_rsa, "none", p, "alg_refused", "alg none");
	free(p);
#define AT_CLAIMS(extra, full, want, name) do { \
		q = full ? fmt("%s", extra) : at_payload(extra); \
		at_case("at+jwt", "rsa", k_rsa, "RS256", q, want, name); \
		free(q); \
	} while (0)
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"exp\":1700000600,\"iat\":1699999990}", 1,
	    "aud_mismatch", "aud the client_id only");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"other\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"exp\":1700000600,\"iat\":1699999990}", 1,
	    "aud_mismatch", "another audience");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"jti\":\"j\",\"exp\":1700000600,"
	    "\"iat\":1699999990,\"scope\":\"pam:login admin\"}", 1, NULL,
	    "aud a string");
	/* RFC 9068 §2.2: jti is REQUIRED. */
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"exp\":1700000600,\"iat\":1699999990,"
	    "\"scope\":\"pam:login admin\"}", 1, "claim_missing", "no jti");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"jti\":\"\",\"exp\":1700000600,"
	    "\"iat\":1699999990}", 1, "claim_missing", "an empty jti");
	/* A sender-constrained token (RFC 9449 §6.1, RFC 8705 §3.1). */
	AT_CLAIMS(",\"cnf\":{\"jkt\":\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2\"}",
	    0, "sender_constrained", "cnf jkt (DPoP)");
	AT_CLAIMS(",\"cnf\":{\"x5t#S256\":\"bwcK0esc3ACC3DB2Y5\"}", 0,
	    "sender_constrained", "cnf x5t#S256 (mTLS)");
	AT_CLAIMS(",\"cnf\":null", 0, "sender_constrained", "cnf null");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"sub\":\"u\",\"client_id\":\"ci\","
	    "\"exp\":1700000600,\"iat\":1699999990}", 1, "claim_missing",
	    "no aud");
	AT_CLAIMS("{\"iss\":\"https://evil.example\",\"aud\":\"" AUD "\","
	    "\"sub\":\"u\",\"client_id\":\"ci\",\"exp\":1700000600,"
	    "\"iat\":1699999990}", 1, "iss_mismatch", "other issuer");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"exp\":1699999960,\"iat\":1699999000}", 1,
	    "expired", "expired beyond the leeway");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"jti\":\"j\",\"exp\":1699999990,"
	    "\"iat\":1699999000,\"scope\":\"pam:login admin\"}", 1, NULL,
	    "expired within the leeway");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"iat\":1699999000}", 1, "claim_missing",
	    "no exp");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"exp\":1700000600}", 1, "claim_missing",
	    "no iat");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"exp\":1700009000,\"iat\":1700005000}", 1,
	    "iat_future", "iat in the future");
	AT_CLAIMS(",\"nbf\":1700005000", 0, "not_yet_valid", "nbf ahead");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
	    "\"client_id\":\"ci\",\"exp\":1700000600,\"iat\":1699999990}", 1,
	    "claim_missing", "no sub");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"exp\":1700000600,\"iat\":1699999990}", 1, "claim_missing",
	    "no client_id");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":7,\"exp\":1700000600,\"iat\":1699999990}", 1,
	    "claim_type", "client_id a number");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"jti\":5,\"exp\":1700000600,"
	    "\"iat\":1699999990}", 1, "claim_type", "jti a number");
	AT_CLAIMS("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"client_id\":\"ci\",\"exp\":\"1700000600\","
	    "\"iat\":1699999990}", 1, "claim_type", "exp a string");
#undef AT_CLAIMS
	/* The ID token path still refuses an access token, and an access
	 * token entry point without an audience refuses everything. */
	p = at_payload("");
	t = make_token("{\"alg\":\"RS256\",\"kid\":\"rsa\",\"typ\":\"at+jwt\"}",
	    p, k_rsa, "RS256");
	expect_fail(t, set_main, "typ_refused", "access token as ID token");
	{
		struct jwt_at_expect noaud = at_expect;

		noaud.audience = NULL;
		is_int(jwt_verify_access(t, set_main, &noaud, &c, &why),
		    OA2_ERR_TOKEN, "access token: no audience configured");
		is_str(why, "malformed", "access token: no audience: reason");
	}
	free(t);
	free(p);
}

int
main(void)
{
	setup();
	test_jwks();
	test_valid();
	test_alg_none_and_hmac();
	test_key_confusion();
	test_kid_selection();
	test_headers();
	test_encoding();
	test_ecdsa_sigs();
	test_claims_checks();
	test_claims_api();
	test_access_tokens();
	jwks_free(&set_main);
	EVP_PKEY_free(k_rsa);
	EVP_PKEY_free(k_rsa1024);
	EVP_PKEY_free(k_p256);
	EVP_PKEY_free(k_p256b);
	EVP_PKEY_free(k_p384);
	EVP_PKEY_free(k_p521);
	EVP_PKEY_free(k_ed);
	return tap_done();
}
