/*
 * log.h - syslog output (LOG_AUTHPRIV through pam_syslog when a PAM handle
 * is known).  Values that come from users or the IdP go through log_escape
 * first.  Secrets are never passed here: log a length at most.
 */
#ifndef OA2_LOG_H
#define OA2_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pam_handle;

struct log_ctx {
	struct pam_handle *pamh; /* NULL outside PAM (CLI, unit tests) */
	bool debug;              /* emit LOG_DEBUG lines */
	/* Outside PAM only (pamh NULL): lines go to this stream instead of
	 * syslog (pam_oauth2ctl shows them).  The module never sets it. */
	FILE *sink;
};

void log_msg(const struct log_ctx *lc, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A LOG_DEBUG line, only when lc->debug is set. */
void log_debug(const struct log_ctx *lc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Copy s into out (size outlen, always NUL-terminated) with every byte
 * outside printable ASCII, and '"' '\\' and '=' , written as \xHH; long
 * values are cut and end in "...".  Returns out, so it can be used inside
 * a log call.  NULL becomes "-".
 */
const char *log_escape(const char *s, char *out, size_t outlen);

/*
 * A short stable pseudonym of s for audit lines: "sha256:" and the first
 * 16 hex digits of SHA-256(s).  NULL becomes "-".  Returns out.
 */
const char *log_hash(const char *s, char *out, size_t outlen);

#define LOG_ESC_MAX 256

#endif
