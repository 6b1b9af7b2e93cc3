/*
 * outage.c - the outage stamp in cache_dir (see outage.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "clock.h"
#include "errors.h"
#include "fsutil.h"
#include "log.h"
#include "login.h"
#include "outage.h"

#define STAMP_PREFIX "o-"

/* The stamp's path, when dir is a usable root-only directory. */
static int
stamp_path(const char *dir, const char *issuer, char *path, size_t len)
{
	const char *why;

	if (dir == NULL || issuer == NULL || fs_private_dir(dir, &why) != 0)
		return OA2_ERR_CONFIG;
	return fs_hashed_path(dir, STAMP_PREFIX, issuer, path, len);
}


/* The time in the locked stamp fd, or -1 when it holds none. */
static long long
stamp_read(int fd)
{
	char buf[64];
	long long t;
	long n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "OA2D1 %lld", &t) != 1 || t <= 0)
		return -1;
	return t;
}

/* Write "OA2D1 now" into the locked stamp fd.  Returns 0 or -1. */
static int
stamp_write(int fd, time_t now)
{
	char buf[64];
	int n;

	n = snprintf(buf, sizeof(buf), "OA2D1 %lld\n", (long long)now);
	if (n < 0 || (size_t)n >= sizeof(buf) || ftruncate(fd, 0) != 0 ||
	    pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

int
outage_check(const char *dir, const char *issuer, long window, time_t now)
{
	char path[PATH_MAX];
	long long t;
	int fd, rc = 0;

	if (window <= 0 || stamp_path(dir, issuer, path, sizeof(path)) != 0)
		return 0;
	fd = fs_lock_open(path, false);
	if (fd < 0)
		return 0;
	t = stamp_read(fd);
	/* A stamp from the future (the clock went back) does not count. */
	if (t > 0 && t <= (long long)now && (long long)now - t < window)
		rc = OA2_ERR_UNAVAIL;
	else if (t > 0)
		/* This caller probes; the others keep failing fast until
		 * it knows. */
		(void)stamp_write(fd, now);
	close(fd);
	return rc;
}

bool
outage_result_is_down(int rc, const char *why, const char *errcode)
{
	if (rc != OA2_ERR_UNAVAIL && rc != OA2_ERR_BAD_RESPONSE)
		return false;
	/* The IdP answered with an OAuth error (invalid_client, ...): it
	 * is up, it refused.  server_error and temporarily_unavailable are
	 * the IdP saying it is down. */
	if (errcode != NULL && errcode[0] != '\0' &&
	    strcmp(errcode, "server_error") != 0 &&
	    strcmp(errcode, "temporarily_unavailable") != 0)
		return false;
	/* Throttling is an answer; a missing endpoint is configuration. */
	if (why != NULL && (strcmp(why, "http_429") == 0 ||
	    strcmp(why, "no_device_endpoint") == 0 ||
	    strcmp(why, "no_introspection_endpoint") == 0))
		return false;
	return true;
}

void
outage_note(const char *dir, const char *issuer, long window, int rc,
    const char *why, const char *errcode, time_t now)
{
	char path[PATH_MAX];
	int fd;

	if (stamp_path(dir, issuer, path, sizeof(path)) != 0)
		return;
	if (outage_result_is_down(rc, why, errcode)) {
		if (window <= 0)
			return;
		fd = fs_lock_open(path, true);
		if (fd < 0)
			return;
		(void)stamp_write(fd, now);
		close(fd);
		return;
	}
	/* Anything the IdP answered (success, a refusal of the user or
	 * of the client) shows it is up. */
	if (rc == 0 || rc == OA2_ERR_DENIED || rc == OA2_ERR_TOKEN ||
	    (errcode != NULL && errcode[0] != '\0'))
		(void)unlink(path);
}

/* The provider the note is about: its issuer, or for a plain OAuth 2
 * provider (no issuer) its token endpoint. */
static const char *
outage_key(const struct cfg *cfg)
{
	return cfg->issuer != NULL ? cfg->issuer : cfg->token_endpoint;
}

int
outage_before(const struct cfg *cfg, const struct log_ctx *lc,
    const char **why)
{
	if (outage_check(cfg->cache_dir, outage_key(cfg), cfg->outage_window,
	    clock_wall()) == 0)
		return 0;
	log_debug(lc, "the IdP could not be asked less than %ld s ago "
	    "(outage_window): not asking it now", cfg->outage_window);
	*why = "idp_down_recently";
	return OA2_ERR_UNAVAIL;
}

void
outage_after(const struct cfg *cfg, const struct log_ctx *lc,
    const struct login *lg, int rc)
{
	if (cfg->outage_window > 0 &&
	    outage_result_is_down(rc, lg->why, lg->errcode))
		log_msg(lc, LOG_WARNING, "the IdP could not be asked (%s): "
		    "logins in the next %ld s fail at once (outage_window)",
		    lg->why != NULL ? lg->why : "-", cfg->outage_window);
	outage_note(cfg->cache_dir, outage_key(cfg), cfg->outage_window, rc,
	    lg->why, lg->errcode, clock_wall());
}
