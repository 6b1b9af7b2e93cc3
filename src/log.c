/*
 * log.c - syslog output with escaped fields.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>


#include <security/pam_appl.h>
#include <security/pam_ext.h>

#include "fsutil.h"
#include "log.h"

static void
log_v(const struct log_ctx *lc, int prio, const char *fmt, va_list ap)
{
	if (lc != NULL && lc->pamh != NULL) {
		pam_vsyslog(lc->pamh, prio, fmt, ap);
		return;
	}
	if (lc != NULL && lc->sink != NULL) {
		static const char *const names[] = { "emerg", "alert",
		    "crit", "err", "warning", "notice", "info", "debug" };

		fprintf(lc->sink, "log %s: ", names[prio & 7]);
		vfprintf(lc->sink, fmt, ap);
		fputc('\n', lc->sink);
		fflush(lc->sink);
		return;
	}
	vsyslog(LOG_AUTHPRIV | prio, fmt, ap);
}

void
log_msg(const struct log_ctx *lc, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(lc, prio, fmt, ap);
	va_end(ap);
}

void
log_debug(const struct log_ctx *lc, const char *fmt, ...)
{
	va_list ap;

	if (lc == NULL || !lc->debug)
		return;
	va_start(ap, fmt);
	log_v(lc, LOG_DEBUG, fmt, ap);
	va_end(ap);
}

const char *
log_escape(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (out == NULL || outlen == 0)
		return "";
	if (s == NULL) {
		snprintf(out, outlen, "-");
		return out;
	}
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = c > 0x20 && c < 0x7f && c != '"' && c != '\\' &&
		    c != '=';

		/* Room for this byte (1 or 4), "..." and the NUL. */
		if (o + (plain ? 1 : 4) + 4 > outlen) {
			if (o + 4 <= outlen) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	out[o] = '\0';
	return out;
}

const char *
log_hash(const char *s, char *out, size_t outlen)
{
	char hex[2 * 32 + 1];

	if (out == NULL || outlen == 0)
		return "";
	if (s == NULL || fs_sha256_hex(s, hex, sizeof(hex)) != 0) {
		snprintf(out, outlen, "-");
		return out;
	}
	/* The first 16 hex digits: enough to tell subjects apart. */
	snprintf(out, outlen, "sha256:%.16s", hex);
	return out;
}
