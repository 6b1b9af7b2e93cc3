/*
 * assertion.h - client authentication with a signed JWT: the client
 * assertion of OpenID Connect Core 1.0 §9 (private_key_jwt) and RFC 7523
 * §2.2, signed with the server's own private key (client_key_file).
 *
 * The only place that parses the client's private key.  A key is parsed
 * once from PEM (no passphrase: an encrypted key is an error, never a
 * prompt): the PEM block is decoded here, not by OpenSSL's PEM reader
 * (whose base64 context is freed uncleared), into a buffer wiped after
 * d2i has read it, so no copy of its text or DER is left in freed
 * memory; checked against the algorithm; freed with its private parts
 * cleared (OpenSSL clears them on free).  The signatures it makes are
 * cleared when freed too (a signature completes a 60 s credential).
 */
#ifndef OA2_ASSERTION_H
#define OA2_ASSERTION_H

#include <stddef.h>
#include <time.h>

#define ASRT_LIFETIME 60          /* seconds from iat to exp */
#define ASRT_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define ASRT_RSA_MIN_BITS 2048
#define ASRT_CHAIN_MAX 8          /* certificates after the client's */

struct asrt_key;

/*
 * Parse a PEM private key (PKCS#8 or the traditional RSA/EC forms) of
 * len bytes.  alg is the JWS algorithm to sign with, or NULL for the
 * key's default: RSA (at least 2048 bits) takes RS256 (default) or PS256,
 * a P-256 key ES256, an Ed25519 key EdDSA.  A key of any other type or
 * curve, an alg the key cannot sign, or an encrypted key is
 * OA2_ERR_CONFIG with a line in err naming what = the file.  Returns 0
 * with *out (asrt_key_free), OA2_ERR_CONFIG or OA2_ERR_NOMEM.
 */
int asrt_key_parse(const char *pem, size_t len, const char *alg,
    const char *what, struct asrt_key **out, char *err, size_t errlen);

/* The JWS "alg" the key signs with ("RS256", "PS256", "ES256", "EdDSA"). */
const char *asrt_key_alg(const struct asrt_key *k);

/* Is name one of the algorithms asrt_key_parse accepts? */
int asrt_alg_known(const char *name);

void asrt_key_free(struct asrt_key **k);

/*
 * For mutual TLS (RFC 8705 §2): parse the PEM certificate of len bytes
 * and check it is the certificate of key k and valid at now.  Any
 * further certificates in pem (at most ASRT_CHAIN_MAX, none expired) are
 * its chain, sent with it in the handshake: a certificate issued by an
 * intermediate CA needs them.  Returns 0 with *cert (an OpenSSL X509 *)
 * and *chain (a STACK_OF(X509) *, NULL when pem holds one certificate),
 * both freed by asrt_cert_free, or OA2_ERR_CONFIG with a line in err
 * naming what = the certificate file, or OA2_ERR_NOMEM.
 */
int asrt_cert_parse(const char *pem, size_t len, const struct asrt_key *k,
    time_t now, const char *what, void **cert, void **chain, char *err,
    size_t errlen);

void asrt_cert_free(void **cert, void **chain);

/* The parsed key as an OpenSSL EVP_PKEY * (for the TLS handshake, http.h);
 * it belongs to k. */
void *asrt_key_pkey(const struct asrt_key *k);

/*
 * Make a client assertion (RFC 7523 §3): header {"alg", "typ":"JWT",
 * "kid" when kid is not NULL}, claims {"iss" and "sub" = client_id,
 * "aud", "jti" (128 random bits from RAND_bytes, base64url), "iat" = now,
 * "exp" = now + lifetime}, signed as a JWS compact serialisation (ECDSA
 * as R || S, RFC 7518 §3.4).  *out is malloc'd; it is a credential for
 * lifetime seconds, so the caller wipes it (secret_free).  Returns 0,
 * OA2_ERR_NOMEM or OA2_ERR_CONFIG (signing failed).
 */
int asrt_make(const struct asrt_key *k, const char *kid,
    const char *client_id, const char *aud, time_t now, long lifetime,
    char **out);

#endif
