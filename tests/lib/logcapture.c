/*
 * logcapture.so - LD_PRELOAD shim for the PAM-stack tests: syslog lines
 * (pam_syslog ends in vsyslog) are appended to the file named by
 * OA2_LOG_CAPTURE, so tests can read every line the module logs (and
 * check that no secret is ever among them).  Test code only.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

void openlog(const char *ident, int option, int facility);
void closelog(void);
void syslog(int prio, const char *fmt, ...);
void vsyslog(int prio, const char *fmt, va_list ap);
void __syslog_chk(int prio, int flag, const char *fmt, ...);
void __vsyslog_chk(int prio, int flag, const char *fmt, va_list ap);

static const char *ident_s = "";
static char capture_path[4096];

/* Read OA2_LOG_CAPTURE when loaded: sshd empties the environment of the
 * child that runs keyboard-interactive authentication, after exec. */
__attribute__((constructor)) static void
capture_init(void)
{
	const char *p = getenv("OA2_LOG_CAPTURE");

	if (p != NULL)
		snprintf(capture_path, sizeof(capture_path), "%s", p);
}

void
openlog(const char *ident, int option, int facility)
{
	(void)option;
	(void)facility;
	ident_s = ident != NULL ? ident : "";
}

void
closelog(void)
{
}

void
vsyslog(int prio, const char *fmt, va_list ap)
{
	const char *path = getenv("OA2_LOG_CAPTURE");
	FILE *f;

	if (path == NULL && capture_path[0] != '\0')
		path = capture_path;
	if (path == NULL)
		return;
	f = fopen(path, "a");
	if (f == NULL)
		return;
	fprintf(f, "<%d> %s: ", prio, ident_s);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fclose(f);
}

void
syslog(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
}

void
__vsyslog_chk(int prio, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	vsyslog(prio, fmt, ap);
}

void
__syslog_chk(int prio, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
}
