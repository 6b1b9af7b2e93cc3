/*
 * http.h - the module's HTTPS client: the only file that includes libcurl.
 *
 * HTTPS only (also after any redirect, which is never followed), peer and
 * host verification always on, no proxy from the environment, a response
 * size cap, connect and total timeouts inside one login deadline, no
 * signals.  Nothing is written to stdout or stderr.
 */
#ifndef OA2_HTTP_H
#define OA2_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_BODY (256 * 1024)
#define HTTP_MAX_LINK 1024

struct http;

struct http_opts {
	const char *ca_file;       /* PEM bundle */
	const char *ca_path;       /* hashed directory; both NULL = system */
	const char *proxy;         /* NULL = no proxy at all */
	int64_t deadline_ms;       /* absolute, on clock_mono_ms() */
	long connect_timeout_ms;
	/* Mutual TLS (RFC 8705 §2): the client certificate (an OpenSSL
	 * X509 *) and its private key (an EVP_PKEY *), both NULL for none,
	 * already parsed (assertion.h): they are put on each connection's
	 * SSL_CTX as they are, so libcurl never parses (or copies) the key.
	 * client_chain (a STACK_OF(X509) *, may be NULL) is sent after the
	 * certificate: the intermediate CAs between it and the provider's
	 * trust anchor.  They belong to the caller and must outlive the
	 * client. */
	void *client_cert;
	void *client_chain;
	void *client_key;
};

struct http_response {
	long status;
	char *body;                /* NUL-terminated, wiped on clear */
	size_t len;
	long max_age;              /* Cache-Control max-age, -1 if none */
	char next[HTTP_MAX_LINK];  /* the Link header's rel="next" URL
	                            * (RFC 8288), "" if none or too long */
};

/*
 * The rel="next" target of the value of a Link header line (RFC 8288, as
 * GitHub paginates: <URL>; rel="next", <URL>; rel="last") into out
 * (outlen > 0, NUL-terminated); out is left alone when there is none or
 * it does not fit.  Fuzzed (fuzz/fuzz_membership.c).
 */
void http_link_next(const char *line, char *out, size_t outlen);

/* A client for one login (connections are reused between requests).
 * Returns 0, OA2_ERR_NOMEM or OA2_ERR_UNAVAIL. */
int http_new(const struct http_opts *opts, struct http **out);
void http_free(struct http **h);

/*
 * GET url.  bearer, when not NULL, is sent as "Authorization: Bearer".
 * Returns 0 with the response filled (any status), or OA2_ERR_UNAVAIL
 * (connect/TLS/timeout/size/redirect problems), OA2_ERR_NOMEM.
 * A short reason code for the failure is left in *why when why != NULL.
 */
int http_get(struct http *h, const char *url, const char *bearer,
    struct http_response *resp, const char **why);

/*
 * POST the form body (already encoded) to url.  basic_user/basic_pass,
 * when not NULL, become an HTTP Basic header (both are encoded by the
 * caller as RFC 6749 §2.3.1 asks).  The header copy is wiped after use.
 */
int http_post_form(struct http *h, const char *url, const char *body,
    size_t len, const char *basic_user, const char *basic_pass,
    struct http_response *resp, const char **why);

/* Which certificates the requests of h trust (http_trust). */
enum http_store {
	HTTP_STORE_CONFIGURED,     /* ca_file and/or ca_path */
	HTTP_STORE_SYSTEM_DIR,     /* libcurl's default hashed directory only */
	HTTP_STORE_SYSTEM_BUNDLE,  /* libcurl's defaults: no hashed directory */
};

struct http_trust {
	enum http_store store;
	const char *cainfo;        /* bundle read whole at each login, or NULL */
	const char *capath;        /* hashed directory, or NULL */
};

/*
 * The store the requests of h use, as perform() sets it.  With neither
 * ca_file nor ca_path it is the system store: libcurl's built-in CA
 * directory alone when that is a hashed directory (trust_hashed_dir), its
 * built-in defaults (the bundle) otherwise.  The strings belong to h or
 * to libcurl.
 */
void http_trust(struct http *h, struct http_trust *t);

/* Move the deadline of the requests that follow (absolute, on
 * clock_mono_ms()). */
void http_set_deadline(struct http *h, int64_t deadline_ms);

/* Wipe and free the body; resp may be reused. */
void http_response_clear(struct http_response *resp);

/*
 * Do URLs a and b have the same origin (RFC 6454 §4: scheme, host and
 * port, the scheme's default port when none is given; scheme and host
 * compared without case)?  False when either does not parse.
 */
bool http_same_origin(const char *a, const char *b);

#endif
