/*
 * http.c - libcurl, locked down.
 *
 * libcurl is initialised once per process (pthread_once) and never
 * cleaned up: the host process (sshd, sudo) may use it too, and
 * curl_global_cleanup is not safe while anyone else might.
 */
#include "config.h"

#include <dlfcn.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "b64.h"
#include "clock.h"
#include "errors.h"
#include "form.h"
#include "http.h"
#include "secret.h"
#include "trust.h"

struct http {
	CURL *curl;
	struct http_opts opts;
	struct http_trust trust;  /* decided at the first request */
	bool have_trust;
};

struct sink {
	char *buf;
	size_t len;
	size_t cap;
	bool too_big;
	long max_age;
	char next[HTTP_MAX_LINK];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/*
 * libcurl's allocator (curl_global_init_mem): its buffers hold the request
 * (a small POST body, the Authorization header) and the response as
 * received, so every block it frees or moves is wiped first, over all of
 * malloc_usable_size().  Plain malloc underneath: curl_free() and the
 * host's own use of libcurl stay compatible.
 */
static void
wipe_free(void *p)
{
	if (p != NULL)
		secret_wipe(p, malloc_usable_size(p));
	free(p);
}

static void *
wipe_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		wipe_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	if (n <= old)
		return p;
	q = malloc(n);
	if (q == NULL)
		return NULL;
	memcpy(q, p, old);
	wipe_free(p);
	return q;
}

/* dl_iterate_phdr visits the main program first: 1 if the address in
 * *arg lies in one of its loaded segments, 2 if not (either stops). */
static int
in_main_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t a = *(const uintptr_t *)arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && a >= lo && a - lo < ph->p_memsz)
			return 1;
	}
	return 2;
}

/*
 * libcurl keeps the allocator's addresses for the life of the process,
 * and may outlive this module (the host can link libcurl too): once it
 * has them, the module is never unloaded (RTLD_NODELETE on itself, as
 * OpenSSL does for libcrypto).  Code linked into the program itself
 * (pam_oauth2ctl) needs no pin.  Returns false if it cannot be pinned.
 */
static bool
pin_module(void)
{
	uintptr_t addr = (uintptr_t)wipe_free;
	Dl_info di;
	void *self;

	if (dl_iterate_phdr(in_main_cb, &addr) == 1)
		return true;
	if (dladdr((void *)wipe_free, &di) == 0 || di.dli_fname == NULL)
		return false;
	self = dlopen(di.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
	if (self == NULL)
		return false;
	/* Drops the reference dlopen just took; NODELETE stays. */
	dlclose(self);
	return true;
}

/*
 * libcurl opens the file named by SSLKEYLOGFILE when it initialises, and
 * creates it: as root, wherever the user who ran a setuid program (su)
 * pointed it, e.g. /etc/nologin.  The variable is hidden from it for that
 * moment (pthread_once: once per process) and then put back for the host.
 */
static void
global_init(void)
{
	const char *keylog = getenv("SSLKEYLOGFILE");
	char *saved = NULL;

	if (keylog != NULL) {
		saved = strdup(keylog);
		unsetenv("SSLKEYLOGFILE");
	}
	/* If the host initialised libcurl first, its allocator stays. */
	if (pin_module())
		curl_init_rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT,
		    malloc, wipe_free, wipe_realloc, strdup, calloc);
	else
		curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (saved != NULL) {
		setenv("SSLKEYLOGFILE", saved, 0);
		free(saved);
	}
}

/* Body writer with a hard cap; growing copies and wipes the old buffer. */
static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	size_t cap;
	char *nb;

	if (s->len + n > HTTP_MAX_BODY) {
		s->too_big = true;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		cap = s->cap != 0 ? s->cap : 4096;
		while (cap < s->len + n + 1)
			cap *= 2;
		nb = malloc(cap);
		if (nb == NULL)
			return 0;
		if (s->buf != NULL) {
			memcpy(nb, s->buf, s->len);
			secret_freen((void **)&s->buf, s->cap);
		}
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

void
http_link_next(const char *line, char *out, size_t outlen)
{
	const char *p = line, *lt, *gt, *end;

	while ((lt = strchr(p, '<')) != NULL) {
		gt = strchr(lt, '>');
		if (gt == NULL)
			return;
		end = strchr(gt, ',');
		if (end == NULL)
			end = gt + strlen(gt);
		/* the parameters of this link, up to the next one */
		for (const char *q = gt; q + 8 <= end; q++) {
			if ((q + 10 <= end &&
			    strncmp(q, "rel=\"next\"", 10) == 0) ||
			    (strncmp(q, "rel=next", 8) == 0 &&
			    (q + 8 == end || q[8] == ';' || q[8] == ' ' ||
			    q[8] == '\r' || q[8] == '\n'))) {
				size_t n = (size_t)(gt - lt - 1);

				if (n > 0 && n < outlen) {
					memcpy(out, lt + 1, n);
					out[n] = '\0';
				}
				return;
			}
		}
		p = end;
	}
}

/* Header reader: Cache-Control max-age and Link rel="next". */
static size_t
header_cb(char *data, size_t size, size_t nitems, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nitems;
	char line[256];
	const char *p;

	if (n < HTTP_MAX_LINK + 32 && n > 5 &&
	    strncasecmp(data, "link:", 5) == 0) {
		char link[HTTP_MAX_LINK + 32];

		memcpy(link, data, n);
		link[n] = '\0';
		s->next[0] = '\0';
		http_link_next(link + 5, s->next, sizeof(s->next));
		return n;
	}

	if (n < sizeof(line) && n > 14 &&
	    strncasecmp(data, "cache-control:", 14) == 0) {
		memcpy(line, data, n);
		line[n] = '\0';
		p = strstr(line, "max-age=");
		if (p != NULL) {
			long v = strtol(p + 8, NULL, 10);

			if (v >= 0)
				s->max_age = v;
		}
	}
	return n;
}

/* Runs on every new TLS context: never write a key log, whatever
 * SSLKEYLOGFILE the (possibly unprivileged) caller put in the
 * environment of a setuid program; and have OpenSSL zero decrypted
 * records once read (OpenSSL 3.0), or its record buffers free the
 * tokens in the clear. */
static CURLcode
ssl_ctx_cb(CURL *curl, void *ctx, void *arg)
{
	const struct http *h = arg;

	SSL_CTX_set_keylog_callback((SSL_CTX *)ctx, NULL);
	SSL_CTX_set_options((SSL_CTX *)ctx, SSL_OP_CLEANSE_PLAINTEXT);
	/* RFC 8705 §2: the client certificate, its chain and its key,
	 * parsed once by the configuration (the SSL_CTX takes references). */
	if (h != NULL && h->opts.client_cert != NULL &&
	    h->opts.client_key != NULL) {
		STACK_OF(X509) *chain = h->opts.client_chain;

		if (SSL_CTX_use_certificate((SSL_CTX *)ctx,
		    (X509 *)h->opts.client_cert) != 1 ||
		    SSL_CTX_use_PrivateKey((SSL_CTX *)ctx,
		    (EVP_PKEY *)h->opts.client_key) != 1 ||
		    SSL_CTX_check_private_key((SSL_CTX *)ctx) != 1)
			goto bad;
		for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
			if (SSL_CTX_add1_chain_cert((SSL_CTX *)ctx,
			    sk_X509_value(chain, i)) != 1)
				goto bad;
		}
	}
	return CURLE_OK;
bad:
	ERR_clear_error();
	return CURLE_SSL_CERTPROBLEM;
}

int
http_new(const struct http_opts *opts, struct http **out)
{
	struct http *h = NULL;

	*out = NULL;
	pthread_once(&curl_once, global_init);
	if (curl_init_rc != CURLE_OK)
		return OA2_ERR_UNAVAIL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return OA2_ERR_NOMEM;
	h->opts = *opts;
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		return OA2_ERR_NOMEM;
	}
	*out = h;
	return 0;
}

void
http_free(struct http **hp)
{
	if (hp == NULL || *hp == NULL)
		return;
	curl_easy_cleanup((*hp)->curl);
	free(*hp);
	*hp = NULL;
}

void
http_set_deadline(struct http *h, int64_t deadline_ms)
{
	h->opts.deadline_ms = deadline_ms;
}

void
http_response_clear(struct http_response *resp)
{
	if (resp == NULL)
		return;
	secret_freen((void **)&resp->body, resp->len + 1);
	resp->len = 0;
	resp->status = 0;
	resp->max_age = -1;
	resp->next[0] = '\0';
}

/* Free a header list whose strings may hold credentials. */
static void
wipe_slist(struct curl_slist *l)
{
	for (struct curl_slist *n = l; n != NULL; n = n->next)
		secret_wipe(n->data, strlen(n->data));
	curl_slist_free_all(l);
}

static const char *
curl_reason(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_COULDNT_CONNECT:
		return "connect_failed";
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "dns_failed";
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		return "tls_failed";
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return "response_too_large";
	case CURLE_UNSUPPORTED_PROTOCOL:
		return "not_https";
	default:
		return "http_failed";
	}
}

/* Build "Authorization: Basic base64(user:pass)" into a new string. */
static int
basic_header(const char *user, const char *pass, char **out)
{
	struct form cred = { 0 };
	struct form hdr = { 0 };
	char *b64 = NULL;
	int rc;

	*out = NULL;
	form_append_raw(&cred, user, strlen(user));
	form_append_raw(&cred, ":", 1);
	form_append_raw(&cred, pass, strlen(pass));
	rc = cred.err;
	if (rc == 0)
		rc = b64_encode((const unsigned char *)cred.buf, cred.len,
		    &b64);
	if (rc == 0) {
		form_append_raw(&hdr, "Authorization: Basic ", 21);
		form_append_raw(&hdr, b64, strlen(b64));
		rc = hdr.err;
	}
	if (rc == 0) {
		*out = hdr.buf;
		hdr.buf = NULL;
	}
	secret_free(&b64);
	form_clear(&cred);
	form_clear(&hdr);
	return rc;
}

/*
 * The system store, lazily.  OpenSSL 3.0 parses a whole PEM bundle
 * (CURLOPT_CAINFO, ~140 certificates on Debian) in every process before
 * the handshake; a hashed directory (CURLOPT_CAPATH) is only looked up by
 * the subject hash of the issuer the server presents.  libcurl's built-in
 * default trusts both its bundle and its directory; when that directory
 * is a hashed one, the bundle is dropped and the directory alone used, so
 * the new set is never larger than the old.  On Debian it is the same:
 * update-ca-certificates writes /etc/ssl/certs/ca-certificates.crt and the
 * HHHHHHHH.N links in /etc/ssl/certs from one list of certificates
 * (/etc/ca-certificates.conf and /usr/local/share/ca-certificates).  A
 * certificate pasted into the bundle by hand is not in the directory:
 * name that bundle with ca_file (pam_oauth2.conf(5)).
 */
void
http_trust(struct http *h, struct http_trust *t)
{
	const char *def_file = NULL, *def_dir = NULL;

	t->cainfo = h->opts.ca_file;
	t->capath = h->opts.ca_path;
	if (t->cainfo != NULL || t->capath != NULL) {
		t->store = HTTP_STORE_CONFIGURED;
		return;
	}
#if LIBCURL_VERSION_NUM >= 0x075400
	/* The built-in defaults (7.84.0), not what a caller may have set. */
	curl_easy_getinfo(h->curl, CURLINFO_CAINFO, &def_file);
	curl_easy_getinfo(h->curl, CURLINFO_CAPATH, &def_dir);
#endif
	t->cainfo = def_file;
	t->capath = def_dir;
	t->store = HTTP_STORE_SYSTEM_BUNDLE;
	/* cppcheck-suppress knownConditionTrueFalse ; set by getinfo */
	if (def_dir != NULL && trust_hashed_dir(def_dir)) {
		t->cainfo = NULL;
		t->store = HTTP_STORE_SYSTEM_DIR;
	}
}

/*
 * Perform one request with every safety option set.  Options are reset
 * before each request so nothing (a body, a header) leaks between them.
 */
static int
perform(struct http *h, const char *url, const char *body, size_t len,
    struct curl_slist *headers, struct http_response *resp,
    const char **why)
{
	struct sink s = { .max_age = -1, .next = "" };
	CURL *c = h->curl;
	CURLcode rc;
	long remaining, status = 0;
	char *effective = NULL;
	int ret = OA2_ERR_UNAVAIL;

	memset(resp, 0, sizeof(*resp));
	resp->max_age = -1;
	if (why != NULL)
		*why = "http_failed";
	if (strncmp(url, "https://", 8) != 0) {
		if (why != NULL)
			*why = "not_https";
		return OA2_ERR_UNAVAIL;
	}
	remaining = (long)(h->opts.deadline_ms - clock_mono_ms());
	if (remaining <= 0) {
		if (why != NULL)
			*why = "timeout";
		return OA2_ERR_UNAVAIL;
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h);
	/* ca_file, ca_path, both, or the system store (http_trust), decided
	 * once per login (the store does not change between its requests);
	 * an unset one is NULL, so nothing else is read. */
	if (!h->have_trust) {
		http_trust(h, &h->trust);
		h->have_trust = true;
	}
	if (h->trust.store != HTTP_STORE_SYSTEM_BUNDLE) {
		curl_easy_setopt(c, CURLOPT_CAINFO, h->trust.cainfo);
		curl_easy_setopt(c, CURLOPT_CAPATH, h->trust.capath);
	}
	/* "" disables proxies, including those named in the environment. */
	curl_easy_setopt(c, CURLOPT_PROXY,
	    h->opts.proxy != NULL ? h->opts.proxy : "");
	curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, remaining);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    h->opts.connect_timeout_ms < remaining ?
	    h->opts.connect_timeout_ms : remaining);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE, (long)HTTP_MAX_BODY);
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}

	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		if (why != NULL)
			*why = s.too_big ? "response_too_large" :
			    curl_reason(rc);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
	if (status >= 300 && status < 400) {
		/* Redirects are never followed (and never trusted). */
		if (why != NULL)
			*why = "redirect";
		goto out;
	}
	resp->status = status;
	resp->max_age = s.max_age;
	memcpy(resp->next, s.next, sizeof(resp->next));
	if (s.buf == NULL) {
		s.buf = calloc(1, 1);
		if (s.buf == NULL) {
			ret = OA2_ERR_NOMEM;
			goto out;
		}
		s.cap = 1;
	}
	resp->body = s.buf;
	resp->len = s.len;
	s.buf = NULL;
	ret = 0;
out:
	/* Drop our references to caller data before it is wiped. */
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	secret_freen((void **)&s.buf, s.cap);
	return ret;
}

int
http_get(struct http *h, const char *url, const char *bearer,
    struct http_response *resp, const char **why)
{
	struct curl_slist *hdrs = NULL, *tmp;
	struct form auth = { 0 };
	int rc;

	tmp = curl_slist_append(hdrs, "Accept: application/json");
	if (tmp == NULL)
		return OA2_ERR_NOMEM;
	hdrs = tmp;
	if (bearer != NULL) {
		form_append_raw(&auth, "Authorization: Bearer ", 22);
		form_append_raw(&auth, bearer, strlen(bearer));
		tmp = auth.err == 0 ? curl_slist_append(hdrs, auth.buf) : NULL;
		form_clear(&auth);
		if (tmp == NULL) {
			wipe_slist(hdrs);
			return OA2_ERR_NOMEM;
		}
		hdrs = tmp;
	}
	rc = perform(h, url, NULL, 0, hdrs, resp, why);
	wipe_slist(hdrs);
	return rc;
}

int
http_post_form(struct http *h, const char *url, const char *body,
    size_t len, const char *basic_user, const char *basic_pass,
    struct http_response *resp, const char **why)
{
	struct curl_slist *hdrs = NULL, *tmp;
	char *auth = NULL;
	int rc = OA2_ERR_NOMEM;

	tmp = curl_slist_append(hdrs, "Accept: application/json");
	if (tmp == NULL)
		goto out;
	hdrs = tmp;
	tmp = curl_slist_append(hdrs,
	    "Content-Type: application/x-www-form-urlencoded");
	if (tmp == NULL)
		goto out;
	hdrs = tmp;
	/* Never "Expect: 100-continue": one round trip per request. */
	tmp = curl_slist_append(hdrs, "Expect:");
	if (tmp == NULL)
		goto out;
	hdrs = tmp;
	if (basic_user != NULL && basic_pass != NULL) {
		rc = basic_header(basic_user, basic_pass, &auth);
		if (rc != 0)
			goto out;
		rc = OA2_ERR_NOMEM;
		tmp = curl_slist_append(hdrs, auth);
		if (tmp == NULL)
			goto out;
		hdrs = tmp;
	}
	rc = perform(h, url, body, len, hdrs, resp, why);
out:
	secret_free(&auth);
	wipe_slist(hdrs);
	return rc;
}

/* One origin part of url (curl_free), or NULL. */
static char *
origin_part(CURLU *u, CURLUPart what)
{
	char *v = NULL;

	if (curl_url_get(u, what, &v, what == CURLUPART_PORT ?
	    CURLU_DEFAULT_PORT : 0) != CURLUE_OK)
		return NULL;
	return v;
}

bool
http_same_origin(const char *a, const char *b)
{
	CURLU *ua = NULL, *ub = NULL;
	char *pa[3] = { NULL, NULL, NULL }, *pb[3] = { NULL, NULL, NULL };
	static const CURLUPart parts[3] = { CURLUPART_SCHEME, CURLUPART_HOST,
		CURLUPART_PORT };
	bool same = false;

	if (a == NULL || b == NULL)
		return false;
	ua = curl_url();
	ub = curl_url();
	if (ua == NULL || ub == NULL ||
	    curl_url_set(ua, CURLUPART_URL, a, 0) != CURLUE_OK ||
	    curl_url_set(ub, CURLUPART_URL, b, 0) != CURLUE_OK)
		goto out;
	same = true;
	for (int i = 0; i < 3; i++) {
		pa[i] = origin_part(ua, parts[i]);
		pb[i] = origin_part(ub, parts[i]);
		if (pa[i] == NULL || pb[i] == NULL ||
		    strcasecmp(pa[i], pb[i]) != 0)
			same = false;
	}
out:
	for (int i = 0; i < 3; i++) {
		curl_free(pa[i]);
		curl_free(pb[i]);
	}
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}
