/*
 * assertion.c - the private_key_jwt client assertion (OpenID Connect Core
 * 1.0 §9, RFC 7523 §2.2 and §3) signed with OpenSSL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "assertion.h"
#include "b64.h"
#include "errors.h"
#include "secret.h"

enum asrt_sig {
	ASRT_PKCS1 = 1,          /* RSASSA-PKCS1-v1_5, RFC 7518 §3.3 */
	ASRT_PSS,                /* RSASSA-PSS, RFC 7518 §3.5 */
	ASRT_ECDSA,              /* RFC 7518 §3.4 */
	ASRT_EDDSA,              /* RFC 8037 §3.1 */
};

struct asrt_alg {
	const char *name;
	enum asrt_sig sig;
	int pkey_type;           /* EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_ED25519 */
	const char *md;          /* NULL: EdDSA hashes itself */
};

static const struct asrt_alg asrt_algs[] = {
	{ "RS256", ASRT_PKCS1, EVP_PKEY_RSA, "SHA256" },
	{ "PS256", ASRT_PSS, EVP_PKEY_RSA, "SHA256" },
	{ "ES256", ASRT_ECDSA, EVP_PKEY_EC, "SHA256" },
	{ "EdDSA", ASRT_EDDSA, EVP_PKEY_ED25519, NULL },
};

#define ASRT_ES256_COORD 32

struct asrt_key {
	EVP_PKEY *pkey;
	const struct asrt_alg *alg;
};

static const struct asrt_alg *
alg_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(asrt_algs) / sizeof(asrt_algs[0]); i++) {
		if (strcmp(asrt_algs[i].name, name) == 0)
			return &asrt_algs[i];
	}
	return NULL;
}

int
asrt_alg_known(const char *name)
{
	return name != NULL && alg_by_name(name) != NULL;
}

/* PEM passphrase callback: never prompt (the module may run under sshd
 * with a terminal); an encrypted key simply fails to load. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
fail(char *err, size_t errlen, const char *what, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", what, msg);
	return OA2_ERR_CONFIG;
}

static const char *
type_name(int t)
{
	return t == EVP_PKEY_RSA ? "an RSA key" : t == EVP_PKEY_EC ?
	    "a P-256 key" : "an Ed25519 key";
}

/*
 * The DER of the first PEM block (RFC 7468) in pem: its label (at most
 * labelcap - 1 bytes) and the decoded body.  Decoded here rather than by
 * OpenSSL's PEM reader, whose base64 context keeps up to 80 characters
 * of the text and is freed without being cleared; every buffer of ours is
 * wiped.  A block with headers (a traditional encrypted key's
 * "Proc-Type:") or anything but base64 and white space is refused.
 * Returns 0 with *der (secret_freen, *derlen + 1 bytes) and *used (the
 * bytes up to the end of the block), OA2_ERR_CONFIG or OA2_ERR_NOMEM.
 */
static int
pem_block(const char *pem, size_t len, char *label, size_t labelcap,
    unsigned char **der, size_t *derlen, size_t *used)
{
	static const char begin[] = "-----BEGIN ", dashes[] = "-----";
	const char *p, *end = pem + len, *lab, *body;
	char endline[96];
	char *tmp = NULL;
	size_t n = 0, lablen, cap;
	int rc = OA2_ERR_CONFIG;

	*der = NULL;
	*derlen = 0;
	*used = len;
	for (p = pem; p < end; p++) {
		if ((p == pem || p[-1] == '\n') && (size_t)(end - p) >=
		    sizeof(begin) - 1 && memcmp(p, begin, sizeof(begin) - 1) == 0)
			break;
	}
	if (p >= end)
		return OA2_ERR_CONFIG;
	lab = p + sizeof(begin) - 1;
	for (p = lab; p < end && *p != '\n' && *p != '-'; p++)
		;
	lablen = (size_t)(p - lab);
	if (lablen == 0 || lablen >= labelcap || (size_t)(end - p) <
	    sizeof(dashes) - 1 || memcmp(p, dashes, sizeof(dashes) - 1) != 0)
		return OA2_ERR_CONFIG;
	memcpy(label, lab, lablen);
	label[lablen] = '\0';
	p += sizeof(dashes) - 1;
	while (p < end && (*p == '\r' || *p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != '\n')
		return OA2_ERR_CONFIG;
	body = p + 1;
	snprintf(endline, sizeof(endline), "-----END %s-----", label);
	cap = (size_t)(end - body);
	tmp = malloc(cap + 1);
	if (tmp == NULL)
		return OA2_ERR_NOMEM;
	for (p = body; p < end; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '-')
			break;
		if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t')
			continue;
		if (ch == '=') {
			/* Padding: only at the end of the data. */
			while (p < end && (*p == '=' || *p == '\n' ||
			    *p == '\r'))
				p++;
			break;
		}
		if (ch == '+')
			ch = '-';
		else if (ch == '/')
			ch = '_';
		else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' &&
		    ch <= 'z') || (ch >= '0' && ch <= '9')))
			goto out;  /* a header (':'), or garbage */
		tmp[n++] = (char)ch;
	}
	if (p >= end || (size_t)(end - p) < strlen(endline) ||
	    memcmp(p, endline, strlen(endline)) != 0 || n == 0)
		goto out;
	*used = (size_t)(p - pem) + strlen(endline);
	rc = b64url_decode(tmp, n, der, derlen);
	if (rc != 0 && rc != OA2_ERR_NOMEM)
		rc = OA2_ERR_CONFIG;
out:
	secret_freen((void **)&tmp, cap + 1);
	return rc;
}

/*
 * Parse a PEM private key: PKCS#8 ("PRIVATE KEY") or the traditional RSA
 * and EC forms.  An encrypted key is refused (there is no one to ask for
 * a passphrase).  Returns 0 with *out, OA2_ERR_CONFIG or OA2_ERR_NOMEM.
 */
static int
read_pem_key(const char *pem, size_t len, EVP_PKEY **out)
{
	char label[64];
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t derlen = 0;
	int rc;

	*out = NULL;
	/* openssl ecparam -genkey writes an "EC PARAMETERS" block first. */
	for (;;) {
		size_t used = 0;

		rc = pem_block(pem, len, label, sizeof(label), &der, &derlen,
		    &used);
		if (rc != 0)
			return rc;
		if (strcmp(label, "EC PARAMETERS") != 0)
			break;
		secret_freen((void **)&der, derlen + 1);
		pem += used;
		len -= used;
	}
	rc = OA2_ERR_CONFIG;
	if (derlen > 0x7fffffff)
		goto out;
	p = der;
	if (strcmp(label, "PRIVATE KEY") == 0)
		*out = d2i_AutoPrivateKey(NULL, &p, (long)derlen);
	else if (strcmp(label, "RSA PRIVATE KEY") == 0)
		*out = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)derlen);
	else if (strcmp(label, "EC PRIVATE KEY") == 0)
		*out = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)derlen);
	if (*out != NULL)
		rc = 0;
out:
	secret_freen((void **)&der, derlen + 1);
	return rc;
}

int
asrt_key_parse(const char *pem, size_t len, const char *alg,
    const char *what, struct asrt_key **out, char *err, size_t errlen)
{
	struct asrt_key *k = NULL;
	EVP_PKEY *pkey = NULL;
	const struct asrt_alg *a = NULL;
	char curve[64] = "";
	char msg[160];
	int type, rc = OA2_ERR_CONFIG;

	*out = NULL;
	if (alg != NULL && (a = alg_by_name(alg)) == NULL)
		return fail(err, errlen, what, "client_key_alg must be RS256, "
		    "PS256, ES256 or EdDSA");
	if (len > (size_t)0x7fffffff)
		return fail(err, errlen, what, "too large");
	rc = read_pem_key(pem, len, &pkey);
	if (rc != 0) {
		if (rc == OA2_ERR_CONFIG)
			fail(err, errlen, what, "not a PEM private key without a "
			    "passphrase (PKCS#8, RSA or EC)");
		goto out;
	}
	rc = OA2_ERR_CONFIG;
	type = EVP_PKEY_get_base_id(pkey);
	if (type == EVP_PKEY_RSA) {
		if (EVP_PKEY_get_bits(pkey) < ASRT_RSA_MIN_BITS) {
			snprintf(msg, sizeof(msg), "an RSA key of %d bits; at "
			    "least %d are needed", EVP_PKEY_get_bits(pkey),
			    ASRT_RSA_MIN_BITS);
			fail(err, errlen, what, msg);
			goto out;
		}
	} else if (type == EVP_PKEY_EC) {
		if (EVP_PKEY_get_utf8_string_param(pkey,
		    OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
		    NULL) != 1 || strcmp(curve, "prime256v1") != 0) {
			fail(err, errlen, what, "an EC key on another curve "
			    "than P-256 (only ES256 is supported)");
			goto out;
		}
	} else if (type != EVP_PKEY_ED25519) {
		fail(err, errlen, what, "not an RSA, P-256 or Ed25519 key");
		goto out;
	}
	if (a == NULL) {
		a = alg_by_name(type == EVP_PKEY_RSA ? "RS256" :
		    type == EVP_PKEY_EC ? "ES256" : "EdDSA");
	} else if (a->pkey_type != type) {
		snprintf(msg, sizeof(msg), "client_key_alg %s does not fit "
		    "%s (it signs %s)", a->name, type_name(type),
		    type == EVP_PKEY_RSA ? "RS256 or PS256" :
		    type == EVP_PKEY_EC ? "ES256" : "EdDSA");
		fail(err, errlen, what, msg);
		goto out;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	k->pkey = pkey;
	k->alg = a;
	pkey = NULL;
	*out = k;
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	return rc;
}

const char *
asrt_key_alg(const struct asrt_key *k)
{
	return k->alg->name;
}

void
asrt_key_free(struct asrt_key **k)
{
	if (k == NULL || *k == NULL)
		return;
	EVP_PKEY_free((*k)->pkey);
	free(*k);
	*k = NULL;
}

/*
 * The certificates after the first in bio: the chain up to (not
 * necessarily including) a CA the provider trusts (RFC 8446 §4.4.2, RFC
 * 5246 §7.4.2).  Returns 0 with *out (NULL when there are none), or
 * OA2_ERR_CONFIG with a line in err, or OA2_ERR_NOMEM.
 */
static int
read_chain(BIO *bio, time_t now, const char *what, STACK_OF(X509) **out,
    char *err, size_t errlen)
{
	STACK_OF(X509) *chain = NULL;
	X509 *x = NULL;
	char msg[96];
	unsigned long e;
	int n = 0, rc = OA2_ERR_CONFIG;

	*out = NULL;
	ERR_clear_error();
	for (;;) {
		x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
		if (x == NULL)
			break;
		n++;
		if (n > ASRT_CHAIN_MAX) {
			snprintf(msg, sizeof(msg), "more than %d certificates "
			    "after the client's", ASRT_CHAIN_MAX);
			fail(err, errlen, what, msg);
			goto out;
		}
		if (X509_cmp_time(X509_get0_notAfter(x), &now) <= 0) {
			snprintf(msg, sizeof(msg), "certificate %d of the file "
			    "(the chain) has expired", n + 1);
			fail(err, errlen, what, msg);
			goto out;
		}
		if (chain == NULL && (chain = sk_X509_new_null()) == NULL) {
			rc = OA2_ERR_NOMEM;
			goto out;
		}
		if (sk_X509_push(chain, x) <= 0) {
			rc = OA2_ERR_NOMEM;
			goto out;
		}
		x = NULL;
	}
	/* The end of the file is "no start line"; anything else is a
	 * damaged certificate. */
	e = ERR_peek_last_error();
	if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		snprintf(msg, sizeof(msg), "certificate %d of the file (the "
		    "chain) is not a PEM certificate", n + 2);
		fail(err, errlen, what, msg);
		goto out;
	}
	*out = chain;
	chain = NULL;
	rc = 0;
out:
	ERR_clear_error();
	X509_free(x);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

int
asrt_cert_parse(const char *pem, size_t len, const struct asrt_key *k,
    time_t now, const char *what, void **cert, void **chain, char *err,
    size_t errlen)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	STACK_OF(X509) *rest = NULL;
	int rc = OA2_ERR_CONFIG;

	*cert = NULL;
	*chain = NULL;
	if (len > (size_t)0x7fffffff)
		return fail(err, errlen, what, "too large");
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return OA2_ERR_NOMEM;
	x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	if (x == NULL)
		fail(err, errlen, what, "not a PEM certificate");
	else if (X509_check_private_key(x, k->pkey) != 1)
		fail(err, errlen, what, "is not the certificate of "
		    "client_key_file");
	else if (X509_cmp_time(X509_get0_notAfter(x), &now) <= 0)
		fail(err, errlen, what, "has expired");
	else if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0)
		fail(err, errlen, what, "is not valid yet");
	else
		rc = read_chain(bio, now, what, &rest, err, errlen);
	if (rc == 0) {
		*cert = x;
		*chain = rest;
		x = NULL;
	}
	ERR_clear_error();
	X509_free(x);
	BIO_free(bio);
	return rc;
}

void
asrt_cert_free(void **cert, void **chain)
{
	if (cert != NULL && *cert != NULL) {
		X509_free(*cert);
		*cert = NULL;
	}
	if (chain != NULL && *chain != NULL) {
		sk_X509_pop_free(*chain, X509_free);
		*chain = NULL;
	}
}

void *
asrt_key_pkey(const struct asrt_key *k)
{
	return k->pkey;
}

/* base64url of a JSON object's plain serialisation; NULL on failure. */
static char *
b64_json(struct json_object *o)
{
	const char *s;
	char *enc = NULL;

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL || b64url_encode((const unsigned char *)s, strlen(s),
	    &enc) != 0)
		return NULL;
	return enc;
}

static int
add_str(struct json_object *o, const char *key, const char *value)
{
	struct json_object *v = json_object_new_string(value);

	if (v == NULL)
		return -1;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

static int
add_int(struct json_object *o, const char *key, int64_t value)
{
	struct json_object *v = json_object_new_int64(value);

	if (v == NULL)
		return -1;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* The signing input "b64(header).b64(claims)", malloc'd. */
static int
signing_input(const struct asrt_key *k, const char *kid,
    const char *client_id, const char *aud, time_t now, long lifetime,
    char **out)
{
	struct json_object *h = NULL, *c = NULL;
	unsigned char rnd[16];
	char *jti = NULL, *hb = NULL, *cb = NULL, *s = NULL;
	size_t n;
	int rc = OA2_ERR_NOMEM;

	*out = NULL;
	/* RFC 7523 §3 item 7: a jti the provider can use against replay. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		ERR_clear_error();
		rc = OA2_ERR_CONFIG;
		goto out;
	}
	if (b64url_encode(rnd, sizeof(rnd), &jti) != 0)
		goto out;
	h = json_object_new_object();
	c = json_object_new_object();
	if (h == NULL || c == NULL)
		goto out;
	if (add_str(h, "alg", k->alg->name) != 0 ||
	    add_str(h, "typ", "JWT") != 0 ||
	    (kid != NULL && add_str(h, "kid", kid) != 0))
		goto out;
	if (add_str(c, "iss", client_id) != 0 ||
	    add_str(c, "sub", client_id) != 0 ||
	    add_str(c, "aud", aud) != 0 ||
	    add_str(c, "jti", jti) != 0 ||
	    add_int(c, "iat", (int64_t)now) != 0 ||
	    add_int(c, "exp", (int64_t)now + lifetime) != 0)
		goto out;
	hb = b64_json(h);
	cb = b64_json(c);
	if (hb == NULL || cb == NULL)
		goto out;
	n = strlen(hb) + 1 + strlen(cb) + 1;
	s = malloc(n);
	if (s == NULL)
		goto out;
	snprintf(s, n, "%s.%s", hb, cb);
	*out = s;
	rc = 0;
out:
	secret_wipe(rnd, sizeof(rnd));
	json_object_put(h);
	json_object_put(c);
	free(jti);
	free(hb);
	free(cb);
	return rc;
}

/*
 * ECDSA: OpenSSL signs in DER; JWS wants R || S, each exactly 32 bytes
 * for P-256 (RFC 7518 §3.4).  Returns 0 with raw[64] filled, else -1.
 */
static int
der_to_raw(const unsigned char *der, size_t derlen,
    unsigned char raw[2 * ASRT_ES256_COORD])
{
	const unsigned char *p = der;
	ECDSA_SIG *es;
	const BIGNUM *r = NULL, *s = NULL;
	int rc = -1;

	es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	if (es == NULL)
		return -1;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, raw, ASRT_ES256_COORD) == ASRT_ES256_COORD &&
	    BN_bn2binpad(s, raw + ASRT_ES256_COORD, ASRT_ES256_COORD) ==
	    ASRT_ES256_COORD)
		rc = 0;
	ECDSA_SIG_free(es);
	return rc;
}

/*
 * Sign input with k; *sig in JWS form, *siglen bytes.  The signature is
 * the part of the assertion no one else can make: every buffer that held
 * it is cleared when freed, and so must the caller's
 * (OPENSSL_clear_free(*sig, *siglen)).
 */
static int
sign(const struct asrt_key *k, const char *input, unsigned char **sig,
    size_t *siglen)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *buf = NULL, *raw = NULL;
	size_t len = 0, cap = 0;
	int rc = OA2_ERR_NOMEM;

	*sig = NULL;
	*siglen = 0;
	md = EVP_MD_CTX_new();
	if (md == NULL)
		goto out;
	rc = OA2_ERR_CONFIG;
	if (EVP_DigestSignInit_ex(md, &pctx, k->alg->md, NULL, NULL, k->pkey,
	    NULL) != 1)
		goto out;
	if (k->alg->sig == ASRT_PSS) {
		/* RFC 7518 §3.5: MGF1 with SHA-256, salt as long as the
		 * hash. */
		if (EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, k->alg->md,
		    NULL) != 1)
			goto out;
	} else if (k->alg->sig == ASRT_PKCS1) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
			goto out;
	}
	if (EVP_DigestSign(md, NULL, &len, (const unsigned char *)input,
	    strlen(input)) != 1)
		goto out;
	buf = OPENSSL_malloc(len);
	if (buf == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	cap = len;
	if (EVP_DigestSign(md, buf, &len, (const unsigned char *)input,
	    strlen(input)) != 1)
		goto out;
	if (k->alg->sig == ASRT_ECDSA) {
		raw = OPENSSL_malloc(2 * ASRT_ES256_COORD);
		if (raw == NULL) {
			rc = OA2_ERR_NOMEM;
			goto out;
		}
		if (der_to_raw(buf, len, raw) != 0)
			goto out;
		OPENSSL_clear_free(buf, cap);
		buf = raw;
		raw = NULL;
		len = cap = 2 * ASRT_ES256_COORD;
	}
	/* Should EVP_DigestSign have written fewer bytes than it asked
	 * room for, clear the rest: the caller clears *siglen bytes. */
	if (len < cap)
		secret_wipe(buf + len, cap - len);
	*sig = buf;
	*siglen = len;
	buf = NULL;
	rc = 0;
out:
	if (rc != 0)
		ERR_clear_error();
	EVP_MD_CTX_free(md);
	OPENSSL_clear_free(buf, cap);
	OPENSSL_clear_free(raw, 2 * ASRT_ES256_COORD);
	return rc;
}

int
asrt_make(const struct asrt_key *k, const char *kid,
    const char *client_id, const char *aud, time_t now, long lifetime,
    char **out)
{
	char *input = NULL, *sigb = NULL, *s = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0, n;
	int rc;

	*out = NULL;
	rc = signing_input(k, kid, client_id, aud, now, lifetime, &input);
	if (rc != 0)
		goto out;
	rc = sign(k, input, &sig, &siglen);
	if (rc != 0)
		goto out;
	rc = OA2_ERR_NOMEM;
	if (b64url_encode(sig, siglen, &sigb) != 0)
		goto out;
	n = strlen(input) + 1 + strlen(sigb) + 1;
	s = malloc(n);
	if (s == NULL)
		goto out;
	snprintf(s, n, "%s.%s", input, sigb);
	*out = s;
	rc = 0;
out:
	secret_free(&input);
	secret_free(&sigb);
	OPENSSL_clear_free(sig, siglen);
	return rc;
}
