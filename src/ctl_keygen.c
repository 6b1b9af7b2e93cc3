/*
 * ctl_keygen.c - "pam_oauth2ctl keygen": a key for private_key_jwt (and a
 * self-signed certificate for mutual TLS), its public JWK with the RFC
 * 7638 thumbprint as kid.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "ctl_keygen.h"
#include "fsutil.h"
#include "secret.h"

#define KEYGEN_RSA_BITS 3072
#define KEYGEN_DAYS_MAX 3650

static int
err_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
err_out(const char *fmt, ...)
{
	va_list ap;

	fputs("pam_oauth2ctl keygen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ERR_clear_error();
	return 1;
}

/* base64url of a big number padded to len bytes (len 0: its own size). */
static char *
b64_bn(const BIGNUM *bn, int len)
{
	unsigned char buf[1024];
	char *out = NULL;
	int n = len > 0 ? len : BN_num_bytes(bn);

	if (n <= 0 || n > (int)sizeof(buf) || BN_bn2binpad(bn, buf, n) != n)
		return NULL;
	if (b64url_encode(buf, (size_t)n, &out) != 0)
		out = NULL;
	return out;
}

/*
 * The public JWK members of k: kty and, by type, n/e, crv/x/y or crv/x
 * (all base64url), and the RFC 7638 §3 thumbprint input (the required
 * members in lexicographic order, no white space) hashed into *kid.
 * Returns a new JSON object or NULL.
 */
static struct json_object *
public_jwk(EVP_PKEY *k, char **kid)
{
	struct json_object *o = NULL;
	BIGNUM *a = NULL, *b = NULL;
	unsigned char raw[64], md[32];
	size_t rawlen = sizeof(raw);
	char *s1 = NULL, *s2 = NULL, *canon = NULL;
	size_t n;
	unsigned int mdlen = 0;
	int type = EVP_PKEY_get_base_id(k);

	*kid = NULL;
	if (type == EVP_PKEY_RSA) {
		if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &a) != 1 ||
		    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &b) != 1)
			goto out;
		s1 = b64_bn(a, 0);
		s2 = b64_bn(b, 0);
		if (s1 == NULL || s2 == NULL)
			goto out;
		n = strlen(s1) + strlen(s2) + 64;
		canon = malloc(n);
		if (canon == NULL)
			goto out;
		snprintf(canon, n, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
		    s2, s1);
		o = json_object_new_object();
		json_object_object_add(o, "kty", json_object_new_string("RSA"));
		json_object_object_add(o, "n", json_object_new_string(s1));
		json_object_object_add(o, "e", json_object_new_string(s2));
	} else if (type == EVP_PKEY_EC) {
		if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &a) != 1 ||
		    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &b) != 1)
			goto out;
		/* RFC 7518 §6.2.1.2: the full coordinate size. */
		s1 = b64_bn(a, 32);
		s2 = b64_bn(b, 32);
		if (s1 == NULL || s2 == NULL)
			goto out;
		n = strlen(s1) + strlen(s2) + 64;
		canon = malloc(n);
		if (canon == NULL)
			goto out;
		snprintf(canon, n, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
		    "\"y\":\"%s\"}", s1, s2);
		o = json_object_new_object();
		json_object_object_add(o, "kty", json_object_new_string("EC"));
		json_object_object_add(o, "crv", json_object_new_string("P-256"));
		json_object_object_add(o, "x", json_object_new_string(s1));
		json_object_object_add(o, "y", json_object_new_string(s2));
	} else {
		if (EVP_PKEY_get_raw_public_key(k, raw, &rawlen) != 1 ||
		    b64url_encode(raw, rawlen, &s1) != 0)
			goto out;
		n = strlen(s1) + 64;
		canon = malloc(n);
		if (canon == NULL)
			goto out;
		snprintf(canon, n, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
		    "\"x\":\"%s\"}", s1);
		o = json_object_new_object();
		json_object_object_add(o, "kty", json_object_new_string("OKP"));
		json_object_object_add(o, "crv",
		    json_object_new_string("Ed25519"));
		json_object_object_add(o, "x", json_object_new_string(s1));
	}
	if (o == NULL || EVP_Digest(canon, strlen(canon), md, &mdlen,
	    EVP_sha256(), NULL) != 1 || b64url_encode(md, mdlen, kid) != 0) {
		json_object_put(o);
		o = NULL;
		*kid = NULL;
	}
out:
	BN_free(a);
	BN_free(b);
	free(s1);
	free(s2);
	free(canon);
	return o;
}

/* Write n bytes to a new file (O_EXCL, never through a link) of mode. */
static int
write_new(const char *path, const char *buf, size_t n, mode_t mode)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0) {
		if (errno == EEXIST)
			return err_out("%s exists: refusing to overwrite it",
			    path);
		fprintf(stderr, "pam_oauth2ctl keygen: %s: %s\n", path,
		    strerror(errno));
		return 1;
	}
	if (fchmod(fd, mode) != 0 || fs_write_all(fd, buf, n) != 0 ||
	    fsync(fd) != 0) {
		fprintf(stderr, "pam_oauth2ctl keygen: %s: %s\n", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		return 1;
	}
	if (close(fd) != 0) {
		unlink(path);
		return err_out("%s: write failed", path);
	}
	return 0;
}

/* The private key as PKCS#8 PEM into keyfile; the PEM is wiped. */
static int
write_key(EVP_PKEY *k, const char *keyfile)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data = NULL;
	long n;
	int rc = 1;

	if (bio == NULL)
		return err_out("%s", "out of memory");
	if (PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) != 1) {
		err_out("%s", "cannot encode the key");
		goto out;
	}
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0)
		goto out;
	rc = write_new(keyfile, data, (size_t)n, 0600);
	secret_wipe(data, (size_t)n);
out:
	BIO_free(bio);
	return rc;
}

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok == 1 ? 0 : -1;
}

/* "CN=host,O=Org" into name; -1 on a bad attribute. */
static int
parse_subject(X509_NAME *name, const char *subject)
{
	char *copy = strdup(subject), *part, *save = NULL, *eq;
	int rc = -1;

	if (copy == NULL)
		return -1;
	for (part = strtok_r(copy, ",", &save); part != NULL;
	    part = strtok_r(NULL, ",", &save)) {
		while (*part == ' ')
			part++;
		eq = strchr(part, '=');
		if (eq == NULL || eq == part || eq[1] == '\0')
			goto out;
		*eq = '\0';
		if (X509_NAME_add_entry_by_txt(name, part, MBSTRING_UTF8,
		    (const unsigned char *)(eq + 1), -1, -1, 0) != 1)
			goto out;
	}
	rc = X509_NAME_entry_count(name) > 0 ? 0 : -1;
out:
	free(copy);
	return rc;
}

/*
 * A self-signed client certificate (RFC 8705 §2.2): the subject, the
 * validity, CA:FALSE, digitalSignature, clientAuth.  Returns it or NULL.
 */
static X509 *
make_cert(EVP_PKEY *k, const struct keygen_opts *o)
{
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	char host[256], subj[300];
	const char *subject = o->subject;
	int type = EVP_PKEY_get_base_id(k);

	if (x == NULL || serial == NULL)
		goto fail;
	if (subject == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(subj, sizeof(subj), "CN=%s", host);
		subject = subj;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)o->days, 0,
	    NULL) == NULL ||
	    X509_set_pubkey(x, k) != 1)
		goto fail;
	if (parse_subject(X509_get_subject_name(x), subject) != 0) {
		err_out("--subject %s: want NAME=VALUE[,NAME=VALUE...] "
		    "(e.g. CN=host.example)", subject);
		goto fail;
	}
	if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(x, NID_ext_key_usage, "clientAuth") != 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") != 0)
		goto fail;
	if (X509_sign(x, k, type == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) <=
	    0)
		goto fail;
	BN_free(serial);
	return x;
fail:
	BN_free(serial);
	X509_free(x);
	return NULL;
}

static EVP_PKEY *
generate(const char *type)
{
	if (strcmp(type, "rsa") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)KEYGEN_RSA_BITS);
	if (strcmp(type, "ec") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

int
ctl_keygen(const struct keygen_opts *o, const char *keyfile)
{
	const char *type = o->type != NULL ? o->type : "ec";
	const char *alg = o->alg;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	struct json_object *jwk = NULL, *out = NULL, *x5c;
	unsigned char *der = NULL;
	char *kid = NULL, *derb64 = NULL;
	BIO *pem = NULL;
	char *pemdata = NULL;
	long pemlen = 0;
	int derlen, rc = 2;

	if (strcmp(type, "rsa") != 0 && strcmp(type, "ec") != 0 &&
	    strcmp(type, "ed25519") != 0)
		return err_out("--type %s: want rsa, ec or ed25519", type) + 1;
	if (alg == NULL)
		alg = strcmp(type, "rsa") == 0 ? "RS256" :
		    strcmp(type, "ec") == 0 ? "ES256" : "EdDSA";
	if ((strcmp(type, "rsa") == 0 && strcmp(alg, "RS256") != 0 &&
	    strcmp(alg, "PS256") != 0) ||
	    (strcmp(type, "ec") == 0 && strcmp(alg, "ES256") != 0) ||
	    (strcmp(type, "ed25519") == 0 && strcmp(alg, "EdDSA") != 0))
		return err_out("--alg %s does not fit the key type (rsa: "
		    "RS256 or PS256, ec: ES256, ed25519: EdDSA)", alg) + 1;
	if (o->days < 1 || o->days > KEYGEN_DAYS_MAX)
		return err_out("%s", "--days must be from 1 to 3650") + 1;
	if (keyfile[0] != '/')
		return err_out("%s: give an absolute path", keyfile) + 1;
	if (o->cert != NULL && o->cert[0] != '/')
		return err_out("--cert %s: give an absolute path", o->cert) + 1;
	rc = 1;
	if (access(keyfile, F_OK) == 0)
		return err_out("%s exists: refusing to overwrite it", keyfile);
	if (o->cert != NULL && access(o->cert, F_OK) == 0)
		return err_out("%s exists: refusing to overwrite it", o->cert);
	k = generate(type);
	if (k == NULL) {
		err_out("%s", "key generation failed");
		goto out;
	}
	jwk = public_jwk(k, &kid);
	if (jwk == NULL) {
		err_out("%s", "cannot encode the public key");
		goto out;
	}
	json_object_object_add(jwk, "kid", json_object_new_string(kid));
	json_object_object_add(jwk, "alg", json_object_new_string(alg));
	json_object_object_add(jwk, "use", json_object_new_string("sig"));
	if (o->cert != NULL) {
		x = make_cert(k, o);
		if (x == NULL) {
			err_out("%s", "cannot make the certificate");
			goto out;
		}
		derlen = i2d_X509(x, &der);
		if (derlen <= 0 || b64_encode(der, (size_t)derlen,
		    &derb64) != 0)
			goto out;
		/* RFC 7517 §4.7: standard base64 DER, the key's own
		 * certificate first. */
		x5c = json_object_new_array();
		json_object_array_add(x5c, json_object_new_string(derb64));
		json_object_object_add(jwk, "x5c", x5c);
		pem = BIO_new(BIO_s_mem());
		if (pem == NULL || PEM_write_bio_X509(pem, x) != 1)
			goto out;
		pemlen = BIO_get_mem_data(pem, &pemdata);
		if (pemlen <= 0)
			goto out;
	}
	/* The key first: when it cannot be written, nothing is printed
	 * that someone might register. */
	if (write_key(k, keyfile) != 0)
		goto out;
	if (o->cert != NULL && write_new(o->cert, pemdata, (size_t)pemlen,
	    0644) != 0) {
		unlink(keyfile);
		goto out;
	}
	if (o->set) {
		struct json_object *keys = json_object_new_array();

		out = json_object_new_object();
		json_object_array_add(keys, json_object_get(jwk));
		json_object_object_add(out, "keys", keys);
	} else {
		out = json_object_get(jwk);
	}
	printf("%s\n", json_object_to_json_string_ext(out,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (o->cert != NULL)
		fwrite(pemdata, 1, (size_t)pemlen, stdout);
	if (fflush(stdout) != 0)
		goto out;
	fprintf(stderr, "pam_oauth2ctl keygen: wrote %s (%s, mode 0600)%s%s; "
	    "in the configuration: client_key_file = %s, client_key_id = "
	    "%s\n", keyfile, alg, o->cert != NULL ? " and " : "",
	    o->cert != NULL ? o->cert : "", keyfile, kid);
	if (geteuid() != 0)
		fprintf(stderr, "pam_oauth2ctl keygen: note: not run as root; "
		    "the module accepts only a root-owned key file\n");
	rc = 0;
out:
	ERR_clear_error();
	json_object_put(jwk);
	json_object_put(out);
	EVP_PKEY_free(k);
	X509_free(x);
	OPENSSL_free(der);
	free(derb64);
	free(kid);
	BIO_free(pem);
	return rc;
}
