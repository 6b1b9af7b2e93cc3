/*
 * fsutil.c - root-only directories, hashed file names, whole writes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "errors.h"
#include "fsutil.h"

int
fs_private_dir(const char *dir, const char **why)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT || mkdir(dir, 0700) != 0 ||
		    lstat(dir, &st) != 0) {
			*why = "cannot create the directory";
			return OA2_ERR_CONFIG;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "not a directory";
		return OA2_ERR_CONFIG;
	}
	if (st.st_uid != 0) {
		*why = "not owned by root";
		return OA2_ERR_CONFIG;
	}
	if ((st.st_mode & 077) != 0) {
		*why = "accessible to others than root";
		return OA2_ERR_CONFIG;
	}
	return 0;
}

int
fs_sha256_hex(const char *s, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (outlen < 2 * 32 + 1 ||
	    EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) != 1)
		return OA2_ERR_NOMEM;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
fs_hashed_path(const char *dir, const char *prefix, const char *key,
    char *path, size_t len)
{
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	int n;

	if (fs_sha256_hex(key, hex, sizeof(hex)) != 0)
		return OA2_ERR_NOMEM;
	n = snprintf(path, len, "%s/%s%s", dir, prefix, hex);
	return n < 0 || (size_t)n >= len ? OA2_ERR_CONFIG : 0;
}

long
fs_read_all(int fd, char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

int
fs_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fs_lock_open(const char *path, bool create)
{
	struct stat st;
	int fd, flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;

	fd = open(path, create ? flags | O_CREAT : flags, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) != 0) {
		close(fd);
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}
