/*
 * ctl_keygen.h - "pam_oauth2ctl keygen": a private key of this server's
 * own for client_auth = private_key_jwt (and, with a certificate, for
 * mutual TLS), written root-only; its public half printed for
 * registration at the provider.  The private key is never printed.
 */
#ifndef OA2_CTL_KEYGEN_H
#define OA2_CTL_KEYGEN_H

#include <stdbool.h>

struct keygen_opts {
	const char *type;        /* "rsa" (3072 bits), "ec" (P-256, default),
	                          * "ed25519" */
	const char *alg;         /* JWS alg for the JWK; NULL: by type */
	const char *cert;        /* also write a self-signed certificate here */
	const char *subject;     /* its subject, "CN=host" form; NULL: CN=hostname */
	long days;               /* its validity (default 365) */
	bool set;                /* print a JWK Set, not a single JWK */
};

/*
 * Make the key and write it to keyfile (created with O_EXCL, mode 0600:
 * an existing file is never overwritten), then, with o->cert, the
 * certificate (O_EXCL, 0644).  Prints on stdout the public JWK (kid: its
 * RFC 7638 thumbprint, alg, use "sig", x5c with a certificate), one line,
 * then the certificate PEM if one was made.  Errors on stderr.  Returns
 * the exit status: 0, 1 (could not make or write) or 2 (usage).
 */
int ctl_keygen(const struct keygen_opts *o, const char *keyfile);

#endif
