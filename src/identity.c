/*
 * identity.c - the PAM user and the verified identity must be the same.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "errors.h"
#include "form.h"
#include "identity.h"
#include "lookup.h"

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	}
	return false;
}

/* Is there a local account of that name?  (getpwnam_r: the host may be
 * threaded.) */
bool
identity_local_user(const char *user)
{
	uid_t uid;

	return identity_local_uid(user, &uid) == 0;
}

int
identity_local_uid(const char *user, uid_t *uid)
{
	struct passwd pw;
	char *buf = NULL;
	int rc = OA2_ERR_NOTFOUND;

	if (lookup_pw(user, 0, &pw, &buf) == LOOKUP_FOUND) {
		*uid = pw.pw_uid;
		rc = 0;
	}
	free(buf);
	return rc;
}

int
identity_check_user(const char *user)
{
	size_t n;

	if (user == NULL || user[0] == '\0' || user[0] == '-')
		return OA2_ERR_USER;
	n = strnlen(user, IDENTITY_MAX_USER + 1);
	if (n > IDENTITY_MAX_USER || has_control(user))
		return OA2_ERR_USER;
	return 0;
}

int
identity_format(const char *format, const char *user, char **out)
{
	struct form f = { 0 };
	int rc;

	*out = NULL;
	for (const char *p = format; *p != '\0' && f.err == 0; p++) {
		if (*p != '%') {
			form_append_raw(&f, p, 1);
			continue;
		}
		p++;
		if (*p == 'u') {
			form_append_raw(&f, user, strlen(user));
		} else if (*p == '%') {
			form_append_raw(&f, "%", 1);
		} else {
			form_clear(&f);
			return OA2_ERR_CONFIG;
		}
	}
	if (f.err == 0 && f.buf == NULL)
		form_append_raw(&f, "", 0);
	rc = f.err;
	if (rc == 0) {
		*out = f.buf;
		f.buf = NULL;
	}
	form_clear(&f);
	return rc;
}

int
identity_bind(const struct claims *c, const char *name,
    const char *expected, const char **why)
{
	const char *v = NULL;
	size_t vl, el;
	int rc;

	rc = claims_get_string(c, name, &v);
	if (rc == OA2_ERR_NOTFOUND) {
		*why = "claim_missing";
		return OA2_ERR_TOKEN;
	}
	if (rc != 0) {
		*why = "claim_type";
		return OA2_ERR_TOKEN;
	}
	if (v[0] == '\0' || has_control(v)) {
		*why = "claim_invalid";
		return OA2_ERR_TOKEN;
	}
	vl = strlen(v);
	el = strlen(expected);
	if (vl != el || memcmp(v, expected, vl) != 0) {
		*why = "identity_mismatch";
		return OA2_ERR_TOKEN;
	}
	return 0;
}

int
identity_subject(const struct claims *c, const char *id_claim, char *buf,
    size_t len, const char **sub)
{
	int64_t id = 0;
	int n;

	*sub = NULL;
	if (id_claim == NULL)
		return claims_get_string(c, "sub", sub) == 0 ? 0 :
		    OA2_ERR_NOTFOUND;
	if (claims_get_int64(c, id_claim, &id) != 0 || id <= 0)
		return OA2_ERR_NOTFOUND;
	n = snprintf(buf, len, "%lld", (long long)id);
	if (n < 0 || (size_t)n >= len)
		return OA2_ERR_NOTFOUND;
	*sub = buf;
	return 0;
}
