/*
 * grant_device.c - RFC 8628: device authorization, display, polling.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cfg.h"
#include "clock.h"
#include "errors.h"
#include "form.h"
#include "grant_device.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "login.h"
#include "qr.h"
#include "secret.h"
#include "token.h"

#define DEVICE_GRANT_TYPE "urn:ietf:params:oauth:grant-type:device_code"

void
device_auth_clear(struct device_auth *d)
{
	if (d == NULL)
		return;
	secret_free(&d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	memset(d, 0, sizeof(*d));
	d->interval = -1;
}

/* Printable ASCII only, non-empty, at most max bytes. */
static bool
printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e ||
		    n >= max)
			return false;
	}
	return n > 0;
}

static bool
https_uri(const char *s)
{
	return strncmp(s, "https://", 8) == 0 && s[8] != '\0' &&
	    printable(s, DEVICE_MAX_URI);
}

static int
parse_body(struct json_object *obj, struct device_auth *d, const char **why)
{
	int rc;

	*why = "malformed_device_response";
	rc = json_dup_string(obj, "device_code", &d->device_code);
	if (rc == 0)
		rc = json_dup_string(obj, "user_code", &d->user_code);
	if (rc == 0)
		rc = json_dup_string(obj, "verification_uri",
		    &d->verification_uri);
	if (rc == 0)
		rc = json_get_int64(obj, "expires_in", &d->expires_in);
	if (rc != 0)
		return rc == OA2_ERR_NOMEM ? rc : OA2_ERR_BAD_RESPONSE;
	rc = json_dup_string(obj, "verification_uri_complete",
	    &d->verification_uri_complete);
	if (rc != 0 && rc != OA2_ERR_NOTFOUND)
		return rc == OA2_ERR_NOMEM ? rc : OA2_ERR_BAD_RESPONSE;
	rc = json_get_int64(obj, "interval", &d->interval);
	if (rc == OA2_ERR_NOTFOUND)
		d->interval = -1;
	else if (rc != 0)
		return OA2_ERR_BAD_RESPONSE;
	if (d->device_code[0] == '\0' || d->expires_in <= 0 ||
	    !printable(d->user_code, DEVICE_MAX_USER_CODE)) {
		*why = "device_response_refused";
		return OA2_ERR_BAD_RESPONSE;
	}
	if (!https_uri(d->verification_uri) ||
	    (d->verification_uri_complete != NULL &&
	    !https_uri(d->verification_uri_complete))) {
		*why = "verification_uri_refused";
		return OA2_ERR_BAD_RESPONSE;
	}
	*why = "ok";
	return 0;
}

int
device_parse(long status, const char *body, size_t len,
    struct device_auth *out, char *errcode, size_t errlen,
    const char **why)
{
	struct json_object *obj = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->interval = -1;
	if (status != 200) {
		/* Errors have the token endpoint's form (RFC 8628 §3.2) and
		 * its classification. */
		return token_classify(status, body, len, errcode, errlen, why);
	}
	rc = json_parse_object(body, len, &obj);
	if (rc != 0) {
		*why = "malformed_json";
		return rc;
	}
	rc = parse_body(obj, out, why);
	json_put_wiped(obj);
	if (rc != 0)
		device_auth_clear(out);
	return rc;
}

int
device_prompt(const struct device_auth *d, const char *host,
    const char *user, bool qr, char **out)
{
	const char *url = d->verification_uri_complete != NULL ?
	    d->verification_uri_complete : d->verification_uri;
	struct form f = { 0 };
	char *code = NULL;

	*out = NULL;
	/* device_parse() guarantees both; a caller that did not parse. */
	if (url == NULL || d->user_code == NULL)
		return OA2_ERR_BAD_RESPONSE;
	form_append_raw(&f, "Sign in to ", 11);
	form_append_raw(&f, host, strlen(host));
	form_append_raw(&f, " as ", 4);
	form_append_raw(&f, user, strlen(user));
	form_append_raw(&f, " with a browser on any device.\n", 31);
	/* The QR code of the full URL, else of the short one, if it fits. */
	if (qr && qr_render(url, DEVICE_QR_MAX_WIDTH, &code) != 0 &&
	    url != d->verification_uri)
		qr_render(d->verification_uri, DEVICE_QR_MAX_WIDTH, &code);
	if (code != NULL) {
		form_append_raw(&f, code, strlen(code));
		free(code);
	}
	form_append_raw(&f, "Open ", 5);
	form_append_raw(&f, url, strlen(url));
	form_append_raw(&f, "\nConfirm the code ", 18);
	form_append_raw(&f, d->user_code, strlen(d->user_code));
	form_append_raw(&f, ", then press Enter: ", 20);
	if (f.err != 0) {
		form_clear(&f);
		return OA2_ERR_NOMEM;
	}
	*out = f.buf;
	return 0;
}

/* Ask for a device code (RFC 8628 §3.1). */
static int
authorize(struct login *lg, struct device_auth *d)
{
	struct http_response resp = { 0 };
	struct form f = { 0 };
	int rc;

	form_add(&f, "scope", lg->cfg->scope);
	rc = login_post(lg, lg->ep.device, &f, &resp);
	if (rc == 0 && resp.status == 200 && lg->cfg->errors_with_200) {
		int64_t unused;

		rc = token_classify_200(resp.body, resp.len, lg->errcode,
		    sizeof(lg->errcode), &unused, &lg->why);
		if (rc != 1)
			goto out;
		rc = 0;
	}
	if (rc == 0)
		rc = device_parse(resp.status, resp.body, resp.len, d,
		    lg->errcode, sizeof(lg->errcode), &lg->why);
out:
	http_response_clear(&resp);
	return rc;
}

/* Sleep ms, but never past the deadline. */
static void
wait_until(int64_t ms, int64_t deadline)
{
	int64_t left = deadline - clock_mono_ms();

	clock_sleep_ms(ms < left ? ms : left);
}

/*
 * Poll until an answer that ends the flow (RFC 8628 §3.4, §3.5).
 * The first poll follows the user's Enter at once.  authorization_pending
 * and slow_down keep their meaning whatever the HTTP status; every other
 * answer is classified as for the password grant (token_classify):
 * could-not-ask and throttling (429) back off and retry within the
 * deadline, a refusal of the user or of the client ends the flow.
 */
static int
poll(struct login *lg, const struct device_auth *d, int64_t deadline)
{
	struct token_response tok = { 0 };
	int64_t interval = d->interval;
	int64_t backoff = 0;
	int rc = OA2_ERR_DENIED;

	/* §3.2: "If no value is provided, clients MUST use 5 as the
	 * default"; keep it within sane bounds whatever the IdP says. */
	if (interval < 0)
		interval = DEVICE_DEFAULT_INTERVAL;
	if (interval < DEVICE_MIN_INTERVAL)
		interval = DEVICE_MIN_INTERVAL;
	if (interval > DEVICE_MAX_INTERVAL)
		interval = DEVICE_MAX_INTERVAL;
	lg->why = "device_timeout";
	while (clock_mono_ms() < deadline) {
		struct form f = { 0 };
		int64_t req_deadline = clock_mono_ms() +
		    lg->cfg->timeout * 1000;

		http_set_deadline(lg->http,
		    req_deadline < deadline ? req_deadline : deadline);
		form_add(&f, "grant_type", DEVICE_GRANT_TYPE);
		form_add(&f, "device_code", d->device_code);
		lg->errcode[0] = '\0';
		rc = login_token_request(lg, lg->ep.token, &f, &tok);
		form_clear(&f);
		if (rc == 0) {
			rc = login_verify(lg, &tok);
			token_response_clear(&tok);
			return rc;
		}
		token_response_clear(&tok);
		if (strcmp(lg->errcode, "authorization_pending") == 0) {
			backoff = 0;
		} else if (strcmp(lg->errcode, "slow_down") == 0) {
			/* §3.5: add 5 seconds for this and all later
			 * requests; a provider that names the new interval
			 * (GitHub, errors_with_200) is followed. */
			if (lg->slow_interval > interval)
				interval = lg->slow_interval;
			else
				interval += 5;
			if (interval > DEVICE_MAX_INTERVAL)
				interval = DEVICE_MAX_INTERVAL;
			backoff = 0;
		} else if (rc == OA2_ERR_UNAVAIL || rc == OA2_ERR_BAD_RESPONSE ||
		    (rc == OA2_ERR_CLIENT && strcmp(lg->why, "http_429") == 0)) {
			/* Network trouble or throttling: back off, within
			 * the deadline. */
			backoff = backoff == 0 ? interval : backoff * 2;
			if (backoff > DEVICE_MAX_INTERVAL)
				backoff = DEVICE_MAX_INTERVAL;
			log_debug(lg->log, "device poll failed (%s), retrying "
			    "in %llds", lg->why, (long long)backoff);
			wait_until(backoff * 1000, deadline);
			continue;
		} else {
			/* access_denied, expired_token, invalid_grant,
			 * invalid_client, ... */
			return rc;
		}
		wait_until(interval * 1000, deadline);
	}
	if (rc != OA2_ERR_UNAVAIL && rc != OA2_ERR_BAD_RESPONSE &&
	    rc != OA2_ERR_CLIENT) {
		lg->why = "device_timeout";
		rc = OA2_ERR_DENIED;
	}
	return rc;
}

int
grant_device(struct login *lg, device_show_fn show, void *arg,
    const char *host)
{
	struct device_auth d = { 0 };
	char *prompt = NULL;
	int64_t deadline, life;
	int rc;

	rc = login_endpoints(lg);
	if (rc != 0)
		return rc;
	if (lg->ep.device == NULL) {
		lg->why = "no_device_endpoint";
		return OA2_ERR_UNAVAIL;
	}
	rc = authorize(lg, &d);
	if (rc != 0)
		goto out;
	/* The deadline: the smaller of expires_in and device_timeout. */
	life = d.expires_in < lg->cfg->device_timeout ? d.expires_in :
	    lg->cfg->device_timeout;
	deadline = clock_mono_ms() + life * 1000;
	rc = device_prompt(&d, host, lg->user, lg->cfg->qr_code, &prompt);
	if (rc != 0)
		goto out;
	log_debug(lg->log, "device code issued for %llds, interval %lld",
	    (long long)d.expires_in, (long long)d.interval);
	rc = show(arg, prompt);
	if (rc != 0) {
		lg->why = "conversation";
		goto out;
	}
	rc = poll(lg, &d, deadline);
out:
	free(prompt);
	device_auth_clear(&d);
	return rc;
}
