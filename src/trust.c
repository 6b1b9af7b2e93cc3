/*
 * trust.c - ca_file / ca_path checks and hashed-directory detection.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "trust.h"

int
trust_path_check(const char *path, bool dir, const char **why)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		*why = "cannot be found";
		return OA2_ERR_CONFIG;
	}
	if (dir && !S_ISDIR(st.st_mode)) {
		*why = "not a directory";
		return OA2_ERR_CONFIG;
	}
	if (!dir && !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return OA2_ERR_CONFIG;
	}
	if (st.st_uid != 0) {
		*why = "not owned by root";
		return OA2_ERR_CONFIG;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		*why = "group or world writable";
		return OA2_ERR_CONFIG;
	}
	return 0;
}

/* HHHHHHHH.N: the name OpenSSL's by-directory lookup opens ("%08lx.%d"). */
static bool
hash_name(const char *n)
{
	int i;

	for (i = 0; i < 8; i++) {
		if (!((n[i] >= '0' && n[i] <= '9') ||
		    (n[i] >= 'a' && n[i] <= 'f')))
			return false;
	}
	if (n[8] != '.' || n[9] < '0' || n[9] > '9')
		return false;
	for (i = 10; n[i] != '\0'; i++) {
		if (n[i] < '0' || n[i] > '9')
			return false;
	}
	return true;
}

/* Count the hash entries of dir that resolve to regular files, stopping
 * at max (0: no limit).  -1 if dir cannot be opened. */
static long
scan_links(const char *dir, long max)
{
	DIR *d = NULL;
	struct dirent *e;
	struct stat st;
	long n = 0;

	d = opendir(dir);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!hash_name(e->d_name))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		n++;
		if (max != 0 && n >= max)
			break;
	}
	closedir(d);
	return n;
}

bool
trust_hashed_dir(const char *dir)
{
	return scan_links(dir, 1) == 1;
}

long
trust_count_links(const char *dir)
{
	return scan_links(dir, 0);
}

long
trust_count_certs(const char *path)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char trusted[] = "-----BEGIN TRUSTED CERTIFICATE-----";
	char line[512];
	FILE *f;
	long n = 0;

	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, begin, sizeof(begin) - 1) == 0 ||
		    strncmp(line, trusted, sizeof(trusted) - 1) == 0)
			n++;
	}
	fclose(f);
	return n;
}
