/*
 * cache.c - provider metadata on disk.
 *
 * One file per URL, named after the SHA-256 of the URL, holding a header
 * line "OA2C1 <fetched> <expires> <length>" and then the body.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "errors.h"
#include "fsutil.h"

#define ENTRY_PREFIX "m-"

void
cache_entry_clear(struct cache_entry *e)
{
	if (e == NULL)
		return;
	free(e->body);
	memset(e, 0, sizeof(*e));
}

int
cache_dir_check(const char *dir, const char **why)
{
	int rc = fs_private_dir(dir, why);

	if (rc != 0 && strcmp(*why, "not owned by root") == 0)
		*why = "cache directory is not owned by root";
	else if (rc != 0 && strcmp(*why, "accessible to others than root") == 0)
		*why = "cache directory is accessible to others than root";
	else if (rc != 0 && strcmp(*why, "not a directory") == 0)
		*why = "cache directory is not a directory";
	else if (rc != 0)
		*why = "cannot create the cache directory";
	return rc;
}

static int read_entry(int dirfd_, const char *path, struct cache_entry *out);

int
cache_get(const char *dir, const char *key, struct cache_entry *out)
{
	char path[PATH_MAX];

	memset(out, 0, sizeof(*out));
	if (fs_hashed_path(dir, ENTRY_PREFIX, key, path, sizeof(path)) != 0)
		return OA2_ERR_NOTFOUND;
	return read_entry(AT_FDCWD, path, out);
}

/* Read and check one entry file (path relative to dirfd_). */
static int
read_entry(int dirfd_, const char *path, struct cache_entry *out)
{
	char header[128];
	struct stat st;
	long long fetched, expires;
	unsigned long long blen;
	char *buf = NULL, *nl;
	size_t got = 0;
	long n;
	int fd, rc = OA2_ERR_NOTFOUND;

	memset(out, 0, sizeof(*out));
	fd = openat(dirfd_, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY);
	if (fd < 0)
		return OA2_ERR_NOTFOUND;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022) != 0 || st.st_size <= 0 ||
	    st.st_size > CACHE_MAX_ENTRY + (off_t)sizeof(header))
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	n = fs_read_all(fd, buf, (size_t)st.st_size);
	if (n < 0)
		goto out;
	got = (size_t)n;
	buf[got] = '\0';
	nl = memchr(buf, '\n', got < sizeof(header) ? got : sizeof(header));
	if (nl == NULL)
		goto out;
	memcpy(header, buf, (size_t)(nl - buf));
	header[nl - buf] = '\0';
	if (sscanf(header, "OA2C1 %lld %lld %llu", &fetched, &expires,
	    &blen) != 3 || blen != got - (size_t)(nl + 1 - buf) ||
	    blen > CACHE_MAX_ENTRY)
		goto out;
	/* Move the body to the front of the buffer. */
	memmove(buf, nl + 1, (size_t)blen + 1);
	out->body = buf;
	out->len = (size_t)blen;
	out->fetched = (time_t)fetched;
	out->expires = (time_t)expires;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

int
cache_put(const char *dir, const char *key, const char *body, size_t len,
    long max_age, time_t now)
{
	char path[PATH_MAX], tmp[PATH_MAX], header[128];
	int fd, n, rc = OA2_ERR_CONFIG;

	if (len > CACHE_MAX_ENTRY)
		return OA2_ERR_CONFIG;
	if (max_age < 0)
		max_age = CACHE_DEFAULT_TTL;
	if (max_age < CACHE_MIN_TTL)
		max_age = CACHE_MIN_TTL;
	if (max_age > CACHE_MAX_TTL)
		max_age = CACHE_MAX_TTL;
	if (fs_hashed_path(dir, ENTRY_PREFIX, key, path, sizeof(path)) != 0)
		return OA2_ERR_CONFIG;
	n = snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return OA2_ERR_CONFIG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return OA2_ERR_CONFIG;
	n = snprintf(header, sizeof(header), "OA2C1 %lld %lld %zu\n",
	    (long long)now, (long long)(now + max_age), len);
	if (fchmod(fd, 0600) == 0 &&
	    fs_write_all(fd, header, (size_t)n) == 0 &&
	    fs_write_all(fd, body, len) == 0 && fsync(fd) == 0)
		rc = 0;
	if (close(fd) != 0)
		rc = OA2_ERR_CONFIG;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = OA2_ERR_CONFIG;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int
cache_clear(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : OA2_ERR_CONFIG;
	while ((de = readdir(d)) != NULL) {
		/* "o-": the outage stamp (outage.h) ends with them. */
		if (strncmp(de->d_name, ENTRY_PREFIX,
		    strlen(ENTRY_PREFIX)) != 0 &&
		    strncmp(de->d_name, "o-", 2) != 0 &&
		    strncmp(de->d_name, ".tmp-", 5) != 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) != 0)
			rc = OA2_ERR_CONFIG;
	}
	closedir(d);
	return rc;
}

int
cache_list(const char *dir, cache_list_fn fn, void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return errno == ENOENT ? OA2_ERR_NOTFOUND : OA2_ERR_CONFIG;
	while ((de = readdir(d)) != NULL) {
		struct cache_entry e = { 0 };

		if (strncmp(de->d_name, ENTRY_PREFIX,
		    strlen(ENTRY_PREFIX)) != 0)
			continue;
		if (read_entry(dirfd(d), de->d_name, &e) == 0)
			fn(arg, de->d_name, &e);
		else
			fn(arg, de->d_name, NULL);
		cache_entry_clear(&e);
	}
	closedir(d);
	return 0;
}
