/*
 * grant_device.h - OAuth 2.0 Device Authorization Grant (RFC 8628).
 */
#ifndef OA2_GRANT_DEVICE_H
#define OA2_GRANT_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct login;

/* Bounds on what the IdP may make us show (RFC 8628 §3.2 strings). */
#define DEVICE_MAX_USER_CODE 64
#define DEVICE_MAX_URI 512
#define DEVICE_DEFAULT_INTERVAL 5
#define DEVICE_MIN_INTERVAL 1
#define DEVICE_MAX_INTERVAL 60
#define DEVICE_QR_MAX_WIDTH 45

/* A device authorization response (RFC 8628 §3.2). */
struct device_auth {
	char *device_code;               /* secret */
	char *user_code;
	char *verification_uri;
	char *verification_uri_complete; /* NULL when not given */
	int64_t expires_in;
	int64_t interval;                /* -1 when not given */
};

/*
 * Parse the device authorization response.  device_code, user_code,
 * verification_uri (https) and expires_in (> 0) are required; strings the
 * user will see must be printable ASCII and bounded; an http
 * verification URI is refused.  Errors as token_classify().
 */
int device_parse(long status, const char *body, size_t len,
    struct device_auth *out, char *errcode, size_t errlen,
    const char **why);

void device_auth_clear(struct device_auth *d);

/*
 * The text of the one prompt that shows the sign-in (the URL and code go
 * into the prompt itself: sshd holds info messages back until a prompt).
 * With qr, a QR code of the URL comes first when it fits.  *out is
 * malloc'd.  Returns 0 or OA2_ERR_NOMEM.
 */
int device_prompt(const struct device_auth *d, const char *host,
    const char *user, bool qr, char **out);

/* Show a prompt and wait for the user's Enter: 0 or OA2_ERR_CONV. */
typedef int (*device_show_fn)(void *arg, const char *prompt);

/*
 * Run the device grant for lg->user: request a code, show it through
 * show(), then poll the token endpoint (RFC 8628 §3.4-3.5) until the
 * code is approved, denied or expired, or the deadline (the smaller of
 * expires_in and device_timeout) passes; then verify the identity.
 * Returns 0 or OA2_ERR_*; lg->why says why.
 */
int grant_device(struct login *lg, device_show_fn show, void *arg,
    const char *host);

#endif
