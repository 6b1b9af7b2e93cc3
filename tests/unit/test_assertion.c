/*
 * test_assertion.c - the private_key_jwt client assertion (assertion.c):
 * header and claims, signatures checked here with OpenSSL directly (not
 * with the module's own verifier) for every algorithm, jti uniqueness, the
 * exp bound, and every key the parser must refuse.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "assertion.h"
#include "b64.h"
#include "errors.h"
#include "tap.h"

#define CID "host-17.example"
#define AUD "https://idp.example/token"
#define NOW ((time_t)1700000000)

static char err[256];

static void *
must(void *p)
{
	if (p == NULL) {
		printf("Bail out! allocation or OpenSSL failure\n");
		exit(1);
	}
	return p;
}

static EVP_PKEY *
gen(const char *type, const char *param)
{
	EVP_PKEY *k = NULL;

	if (strcmp(type, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(param));
	else if (strcmp(type, "EC") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, type);
	return must(k);
}

/* PEM of k: PKCS#8, or the traditional form, or encrypted. */
static char *
pem_of(EVP_PKEY *k, int traditional, const char *pass)
{
	BIO *b = must(BIO_new(BIO_s_mem()));
	char *data = NULL, *s;
	long n;
	int r;

	if (pass != NULL)
		r = PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(),
		    pass, (int)strlen(pass), NULL, NULL);
	else if (traditional)
		r = PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0,
		    NULL, NULL);
	else
		r = PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	if (r != 1)
		must(NULL);
	n = BIO_get_mem_data(b, &data);
	s = must(malloc((size_t)n + 1));
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

static char *
pub_pem_of(EVP_PKEY *k)
{
	BIO *b = must(BIO_new(BIO_s_mem()));
	char *data = NULL, *s;
	long n;

	if (PEM_write_bio_PUBKEY(b, k) != 1)
		must(NULL);
	n = BIO_get_mem_data(b, &data);
	s = must(malloc((size_t)n + 1));
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

static struct json_object *
part_json(const char *p, size_t n)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	struct json_object *o;

	if (b64url_decode(p, n, &raw, &rawlen) != 0)
		return NULL;
	o = json_tokener_parse((const char *)raw);
	free(raw);
	return o;
}

static const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static long long
jint(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return (long long)json_object_get_int64(v);
}

/* Verify the JWS with OpenSSL: 1 valid, 0 not. */
static int
verify(EVP_PKEY *k, const char *alg, const char *jws)
{
	const char *dot2 = strrchr(jws, '.');
	unsigned char *sig = NULL, *der = NULL;
	size_t siglen = 0;
	EVP_MD_CTX *md = must(EVP_MD_CTX_new());
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *h = strcmp(alg, "EdDSA") == 0 ? NULL : EVP_sha256();
	int ok = 0, derlen;

	if (dot2 == NULL || b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig,
	    &siglen) != 0)
		goto out;
	if (strcmp(alg, "ES256") == 0) {
		ECDSA_SIG *es = must(ECDSA_SIG_new());

		if (siglen != 64) {
			ECDSA_SIG_free(es);
			goto out;
		}
		ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
		    BN_bin2bn(sig + 32, 32, NULL));
		derlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		free(sig);
		sig = NULL;
		if (derlen <= 0)
			goto out;
		sig = must(malloc((size_t)derlen));
		memcpy(sig, der, (size_t)derlen);
		siglen = (size_t)derlen;
	}
	if (EVP_DigestVerifyInit(md, &pctx, h, NULL, k) != 1)
		goto out;
	if (strcmp(alg, "PS256") == 0) {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
		EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
	}
	ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jws,
	    (size_t)(dot2 - jws)) == 1;
out:
	OPENSSL_free(der);
	free(sig);
	EVP_MD_CTX_free(md);
	return ok;
}

/* Make an assertion with key k (alg NULL: the default), check every
 * part of it. */
static void
check_alg(EVP_PKEY *k, int traditional, const char *alg,
    const char *want_alg, const char *label)
{
	struct asrt_key *key = NULL;
	struct json_object *h = NULL, *c = NULL;
	char *pem = pem_of(k, traditional, NULL), *jws = NULL;
	const char *d1, *d2;
	int rc;

	rc = asrt_key_parse(pem, strlen(pem), alg, "key.pem", &key, err,
	    sizeof(err));
	is_int(rc, 0, "%s: key parsed (%s)", label, rc ? err : "ok");
	if (rc != 0)
		goto out;
	is_str(asrt_key_alg(key), want_alg, "%s: signs with %s", label,
	    want_alg);
	rc = asrt_make(key, "kid-1", CID, AUD, NOW, ASRT_LIFETIME, &jws);
	is_int(rc, 0, "%s: assertion made", label);
	if (rc != 0)
		goto out;
	d1 = strchr(jws, '.');
	d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
	ok(d1 != NULL && d2 != NULL && strchr(d2 + 1, '.') == NULL,
	    "%s: three JWS parts", label);
	if (d2 == NULL)
		goto out;
	h = part_json(jws, (size_t)(d1 - jws));
	c = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	ok(h != NULL && c != NULL, "%s: header and claims are JSON", label);
	if (h == NULL || c == NULL)
		goto out;
	is_str(jstr(h, "alg"), want_alg, "%s: header alg", label);
	is_str(jstr(h, "typ"), "JWT", "%s: header typ", label);
	is_str(jstr(h, "kid"), "kid-1", "%s: header kid", label);
	is_int(json_object_object_length(h), 3, "%s: nothing else in the "
	    "header", label);
	is_str(jstr(c, "iss"), CID, "%s: iss = client_id", label);
	is_str(jstr(c, "sub"), CID, "%s: sub = client_id", label);
	is_str(jstr(c, "aud"), AUD, "%s: aud", label);
	is_int(jint(c, "iat"), (long)NOW, "%s: iat = now", label);
	is_int(jint(c, "exp"), (long)NOW + 60, "%s: exp = now + 60", label);
	ok(jstr(c, "jti") != NULL && strlen(jstr(c, "jti")) == 22,
	    "%s: jti of 128 bits (22 base64url characters)", label);
	is_int(json_object_object_length(c), 6, "%s: six claims", label);
	ok(verify(k, want_alg, jws), "%s: signature verifies with OpenSSL",
	    label);
	/* A flipped bit in the claims must break it. */
	jws[d1 - jws + 3] ^= 0x01;
	ok(!verify(k, want_alg, jws), "%s: a changed claim fails "
	    "verification", label);
out:
	json_object_put(h);
	json_object_put(c);
	free(jws);
	free(pem);
	asrt_key_free(&key);
}

static void
refuse(const char *pem, const char *alg, const char *want, const char *label)
{
	struct asrt_key *key = NULL;
	int rc;

	err[0] = '\0';
	rc = asrt_key_parse(pem, strlen(pem), alg, "key.pem", &key, err,
	    sizeof(err));
	is_int(rc, OA2_ERR_CONFIG, "%s: refused", label);
	ok(strstr(err, want) != NULL && strncmp(err, "key.pem: ", 9) == 0,
	    "%s: message names the file and says \"%s\"", label, want);
	if (strstr(err, want) == NULL)
		printf("#   seen \"%s\"\n", err);
	ok(key == NULL, "%s: no key", label);
	asrt_key_free(&key);
}

int
main(void)
{
	EVP_PKEY *rsa = gen("RSA", "2048"), *p256 = gen("EC", "P-256");
	EVP_PKEY *ed = gen("ED25519", NULL), *p384 = gen("EC", "P-384");
	EVP_PKEY *rsa1024 = gen("RSA", "1024"), *ed448 = gen("ED448", NULL);
	struct asrt_key *key = NULL;
	char *pem, *a = NULL, *b = NULL;
	char *jtis[64];
	int dup = 0, rc;

	check_alg(rsa, 0, NULL, "RS256", "RSA default");
	check_alg(rsa, 1, "RS256", "RS256", "RSA (traditional PEM) RS256");
	check_alg(rsa, 0, "PS256", "PS256", "RSA PS256");
	check_alg(p256, 0, NULL, "ES256", "P-256 default");
	check_alg(p256, 1, "ES256", "ES256", "P-256 (SEC1 PEM) ES256");
	check_alg(ed, 0, NULL, "EdDSA", "Ed25519 default");
	check_alg(ed, 0, "EdDSA", "EdDSA", "Ed25519 EdDSA");

	/* ES256 is R || S of 32 bytes each (RFC 7518 §3.4), never DER:
	 * many signatures, so short R or S values (leading zeros) occur. */
	pem = pem_of(p256, 0, NULL);
	rc = asrt_key_parse(pem, strlen(pem), NULL, "key.pem", &key, err,
	    sizeof(err));
	for (int i = 0; rc == 0 && i < 300; i++) {
		unsigned char *sig = NULL;
		size_t n = 0;
		const char *d;

		if (asrt_make(key, NULL, CID, AUD, NOW, 60, &a) != 0)
			break;
		d = strrchr(a, '.');
		if (b64url_decode(d + 1, strlen(d + 1), &sig, &n) != 0 ||
		    n != 64 || !verify(p256, "ES256", a))
			dup++;
		free(sig);
		free(a);
		a = NULL;
	}
	is_int(dup, 0, "300 ES256 signatures: all 64 bytes and valid");
	asrt_key_free(&key);
	free(pem);

	/* jti unique, no kid header without client_key_id, exp bound. */
	pem = pem_of(ed, 0, NULL);
	rc = asrt_key_parse(pem, strlen(pem), NULL, "key.pem", &key, err,
	    sizeof(err));
	is_int(rc, 0, "Ed25519 key parsed");
	dup = 0;
	for (int i = 0; i < 64; i++) {
		struct json_object *c;
		const char *d1;

		jtis[i] = NULL;
		if (asrt_make(key, NULL, CID, AUD, NOW, ASRT_LIFETIME, &a) != 0)
			continue;
		d1 = strchr(a, '.');
		c = part_json(d1 + 1, (size_t)(strchr(d1 + 1, '.') - d1 - 1));
		if (c != NULL && jstr(c, "jti") != NULL)
			jtis[i] = strdup(jstr(c, "jti"));
		if (i == 0) {
			struct json_object *h = part_json(a,
			    (size_t)(d1 - a));

			ok(h != NULL && jstr(h, "kid") == NULL,
			    "no kid header without client_key_id");
			json_object_put(h);
			ok(jint(c, "exp") - jint(c, "iat") <= 60 &&
			    jint(c, "exp") > jint(c, "iat"),
			    "exp at most 60 s after iat");
		}
		json_object_put(c);
		free(a);
		a = NULL;
	}
	for (int i = 0; i < 64; i++) {
		if (jtis[i] == NULL) {
			dup++;
			continue;
		}
		for (int j = 0; j < i; j++) {
			if (jtis[j] != NULL && strcmp(jtis[i], jtis[j]) == 0)
				dup++;
		}
	}
	is_int(dup, 0, "64 assertions: 64 distinct jti values");
	for (int i = 0; i < 64; i++)
		free(jtis[i]);
	asrt_make(key, NULL, CID, AUD, NOW, ASRT_LIFETIME, &a);
	asrt_make(key, NULL, CID, AUD, NOW, ASRT_LIFETIME, &b);
	ok(a != NULL && b != NULL && strcmp(a, b) != 0,
	    "two assertions at the same second differ");
	free(a);
	free(b);
	asrt_key_free(&key);
	asrt_key_free(&key);
	ok(key == NULL, "asrt_key_free clears the pointer and takes NULL");
	free(pem);

	/* Keys and algorithms that must be refused. */
	pem = pem_of(rsa, 0, NULL);
	refuse(pem, "ES256", "client_key_alg ES256 does not fit an RSA key",
	    "RSA with ES256");
	refuse(pem, "EdDSA", "does not fit an RSA key", "RSA with EdDSA");
	refuse(pem, "HS256", "client_key_alg must be RS256, PS256, ES256 or "
	    "EdDSA", "HS256");
	refuse(pem, "rs256", "client_key_alg must be", "alg spelled in lower "
	    "case");
	free(pem);
	pem = pem_of(p256, 0, NULL);
	refuse(pem, "RS256", "does not fit a P-256 key (it signs ES256)",
	    "P-256 with RS256");
	free(pem);
	pem = pem_of(ed, 0, NULL);
	refuse(pem, "PS256", "does not fit an Ed25519 key", "Ed25519 with "
	    "PS256");
	free(pem);
	pem = pem_of(p384, 0, NULL);
	refuse(pem, NULL, "another curve than P-256", "P-384 key");
	free(pem);
	pem = pem_of(rsa1024, 0, NULL);
	refuse(pem, NULL, "RSA key of 1024 bits", "RSA 1024");
	free(pem);
	pem = pem_of(ed448, 0, NULL);
	refuse(pem, NULL, "not an RSA, P-256 or Ed25519 key", "Ed448 key");
	free(pem);
	pem = pem_of(rsa, 0, "passphrase");
	refuse(pem, NULL, "without a passphrase", "encrypted key (no prompt)");
	free(pem);
	/* Traditional encrypted PEM: headers (Proc-Type, DEK-Info). */
	{
		BIO *mb = must(BIO_new(BIO_s_mem()));
		char *data = NULL;
		long n;

		if (PEM_write_bio_PrivateKey_traditional(mb, p256,
		    EVP_aes_128_cbc(), (unsigned char *)"pw", 2, NULL,
		    NULL) != 1)
			must(NULL);
		n = BIO_get_mem_data(mb, &data);
		pem = must(strndup(data, (size_t)n));
		BIO_free(mb);
		refuse(pem, NULL, "without a passphrase", "traditional "
		    "encrypted key (Proc-Type header)");
		free(pem);
	}
	/* What openssl ecparam -genkey writes: EC PARAMETERS, then the key;
	 * and the same with CRLF line ends. */
	{
		char *sec1 = pem_of(p256, 1, NULL), *both, *crlf;
		size_t n, j = 0;
		struct asrt_key *kk = NULL;

		n = strlen(sec1) + 100;
		both = must(malloc(n));
		snprintf(both, n, "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
		    "-----END EC PARAMETERS-----\n%s", sec1);
		rc = asrt_key_parse(both, strlen(both), NULL, "key.pem", &kk,
		    err, sizeof(err));
		ok(rc == 0 && kk != NULL, "EC PARAMETERS before the key: "
		    "parsed (%s)", rc ? err : "ok");
		asrt_key_free(&kk);
		crlf = must(malloc(2 * strlen(both) + 1));
		for (size_t i = 0; both[i] != '\0'; i++) {
			if (both[i] == '\n')
				crlf[j++] = '\r';
			crlf[j++] = both[i];
		}
		crlf[j] = '\0';
		rc = asrt_key_parse(crlf, strlen(crlf), NULL, "key.pem", &kk,
		    err, sizeof(err));
		ok(rc == 0 && kk != NULL, "CRLF line ends: parsed");
		asrt_key_free(&kk);
		/* A body that is not base64, and one cut short. */
		crlf[strlen(crlf) / 2] = '*';
		refuse(crlf, NULL, "not a PEM private key", "a * in the body");
		sec1[strlen(sec1) - 10] = '\0';
		refuse(sec1, NULL, "not a PEM private key", "no END line");
		free(crlf);
		free(both);
		free(sec1);
	}
	pem = pub_pem_of(rsa);
	refuse(pem, NULL, "not a PEM private key", "public key only");
	free(pem);
	refuse("not a key\n", NULL, "not a PEM private key", "garbage");
	refuse("", NULL, "not a PEM private key", "empty file");

	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(ed448);
	return tap_done();
}
