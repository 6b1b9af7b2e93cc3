/*
 * lookup.c - passwd and group lookups through NSS.
 *
 * The _r functions because the host may be threaded; the buffer starts at
 * 1 KiB and doubles on ERANGE (a group with many members), up to 1 MiB.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "lookup.h"

#define LOOKUP_BUF_MIN 1024
#define LOOKUP_BUF_MAX (1024 * 1024)

static enum lookup_result
lookup_result(int rc, const void *res)
{
	if (rc == 0 && res != NULL)
		return LOOKUP_FOUND;
	/* "not found" is rc 0 with no result; glibc also lets ENOENT and
	 * friends through from some sources (getpwnam_r(3), RETURN VALUE) */
	if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF ||
	    rc == EPERM)
		return LOOKUP_NONE;
	return LOOKUP_ERROR;
}

enum lookup_result
lookup_pw(const char *name, uid_t uid, struct passwd *pw, char **buf)
{
	struct passwd *res = NULL;
	size_t len = LOOKUP_BUF_MIN;
	int rc;

	*buf = NULL;
	for (;;) {
		char *nb = realloc(*buf, len);

		if (nb == NULL)
			return LOOKUP_ERROR;
		*buf = nb;
		rc = name != NULL ? getpwnam_r(name, pw, *buf, len, &res) :
		    getpwuid_r(uid, pw, *buf, len, &res);
		if (rc != ERANGE || len >= LOOKUP_BUF_MAX)
			break;
		len *= 2;
	}
	return lookup_result(rc, res);
}

enum lookup_result
lookup_gr(const char *name, gid_t gid, struct group *gr, char **buf)
{
	struct group *res = NULL;
	size_t len = LOOKUP_BUF_MIN;
	int rc;

	*buf = NULL;
	for (;;) {
		char *nb = realloc(*buf, len);

		if (nb == NULL)
			return LOOKUP_ERROR;
		*buf = nb;
		rc = name != NULL ? getgrnam_r(name, gr, *buf, len, &res) :
		    getgrgid_r(gid, gr, *buf, len, &res);
		if (rc != ERANGE || len >= LOOKUP_BUF_MAX)
			break;
		len *= 2;
	}
	return lookup_result(rc, res);
}
