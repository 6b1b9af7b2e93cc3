/*
 * offline.c - the offline verifier: one root-only file per user, named
 * after the SHA-256 of the user name, of "key value" lines:
 *
 *   OA2O1
 *   time <when the IdP last verified the password>
 *   hash <yescrypt hash of the password>
 *   fails <failed offline attempts> <time of the last one>
 *   scope <granted scope>
 *   claims <verified claims as one line of JSON>
 *
 * Beside it an empty lock file "l-<same hash>" that is never replaced:
 * every read-modify-write of the entry holds an exclusive flock on it,
 * so parallel attempts cannot lose each other's failure counts.
 */
#include "config.h"

#include <crypt.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "claims.h"
#include "errors.h"
#include "fsutil.h"
#include "offline.h"
#include "secret.h"

#define OFFLINE_MAX_FILE (64 * 1024)

struct entry {
	long long time;
	char *hash;
	long fails;
	long long last_fail;
	char *scope;
	char *claims;
};

static void
entry_clear(struct entry *e)
{
	secret_free(&e->hash);
	free(e->scope);
	free(e->claims);
	memset(e, 0, sizeof(*e));
}

/* Read and parse user's entry; OA2_ERR_NOTFOUND when there is no usable
 * one. */
static int
entry_read(const char *path, struct entry *e)
{
	struct stat st;
	char *buf = NULL, *line, *next;
	ssize_t n;
	int fd, rc = OA2_ERR_NOTFOUND;
	bool magic = false;

	memset(e, 0, sizeof(*e));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return OA2_ERR_NOTFOUND;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) != 0 || st.st_size <= 0 ||
	    st.st_size > OFFLINE_MAX_FILE)
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	n = fs_read_all(fd, buf, (size_t)st.st_size);
	if (n != st.st_size)
		goto out;
	buf[n] = '\0';
	for (line = buf; line != NULL; line = next) {
		char *sp;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strcmp(line, "OA2O1") == 0) {
			magic = true;
			continue;
		}
		sp = strchr(line, ' ');
		if (sp == NULL)
			continue;
		*sp++ = '\0';
		if (strcmp(line, "time") == 0)
			e->time = strtoll(sp, NULL, 10);
		else if (strcmp(line, "hash") == 0 && e->hash == NULL)
			e->hash = secret_strdup(sp);
		else if (strcmp(line, "fails") == 0)
			sscanf(sp, "%ld %lld", &e->fails, &e->last_fail);
		else if (strcmp(line, "scope") == 0 && e->scope == NULL)
			e->scope = strdup(sp);
		else if (strcmp(line, "claims") == 0 && e->claims == NULL)
			e->claims = strdup(sp);
	}
	if (magic && e->hash != NULL && e->hash[0] == '$' && e->time > 0)
		rc = 0;
out:
	if (buf != NULL)
		secret_freen((void **)&buf, (size_t)st.st_size + 1);
	close(fd);
	if (rc != 0)
		entry_clear(e);
	return rc;
}

/* Write e atomically (temporary file in the same directory + rename). */
static int
entry_write(const char *dir, const char *path, const struct entry *e)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, n, rc = 0;

	n = snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return OA2_ERR_CONFIG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return OA2_ERR_CONFIG;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(tmp);
		return OA2_ERR_NOMEM;
	}
	fprintf(f, "OA2O1\ntime %lld\nhash %s\nfails %ld %lld\n", e->time,
	    e->hash, e->fails, e->last_fail);
	if (e->scope != NULL)
		fprintf(f, "scope %s\n", e->scope);
	if (e->claims != NULL)
		fprintf(f, "claims %s\n", e->claims);
	if (fflush(f) != 0 || fsync(fd) != 0)
		rc = OA2_ERR_CONFIG;
	if (fclose(f) != 0)
		rc = OA2_ERR_CONFIG;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = OA2_ERR_CONFIG;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* No newline may sneak into a one-line field. */
static bool
one_line(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") == NULL;
}


static int
entry_lock(const char *dir, const char *user)
{
	char path[PATH_MAX];

	if (fs_hashed_path(dir, "l-", user, path, sizeof(path)) != 0)
		return -1;
	return fs_lock_open(path, true);
}

static void
entry_unlock(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int
offline_store(const char *dir, const char *user, const char *password,
    const char *scope, const struct claims *claims, time_t now)
{
	char path[PATH_MAX];
	struct entry e = { 0 };
	char *salt = NULL, *hash = NULL;
	void *data = NULL;
	int size = 0, lock = -1, rc;
	const char *why;

	rc = fs_private_dir(dir, &why);
	if (rc != 0)
		return rc;
	rc = fs_hashed_path(dir, "u-", user, path, sizeof(path));
	if (rc != 0)
		return rc;
	/* yescrypt, libcrypt's default cost. */
	salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (salt == NULL)
		return OA2_ERR_NOMEM;
	hash = crypt_ra(password, salt, &data, &size);
	if (hash == NULL || hash[0] != '$') {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	e.time = (long long)now;
	e.hash = hash;
	e.scope = (char *)scope;
	if (claims != NULL && (rc = claims_to_json(claims, &e.claims)) != 0)
		goto out;
	if (!one_line(e.scope) || !one_line(e.claims)) {
		rc = OA2_ERR_BAD_RESPONSE;
		goto out;
	}
	/* Under the lock: an offline attempt in flight cannot write its
	 * older entry back over this one. */
	lock = entry_lock(dir, user);
	if (lock < 0) {
		rc = OA2_ERR_CONFIG;
		goto out;
	}
	rc = entry_write(dir, path, &e);
out:
	entry_unlock(&lock);
	free(e.claims);
	free(salt);
	secret_freen(&data, (size_t)size);
	return rc;
}

int
offline_delete(const char *dir, const char *user)
{
	char path[PATH_MAX];
	int lock, rc = 0;

	if (fs_hashed_path(dir, "u-", user, path, sizeof(path)) != 0)
		return OA2_ERR_CONFIG;
	/* Under the lock, so that an offline attempt in flight cannot bring
	 * the revoked entry back; without it (no directory, unsafe lock
	 * file) the entry goes all the same. */
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	lock = entry_lock(dir, user);
	if (unlink(path) != 0 && errno != ENOENT)
		rc = OA2_ERR_CONFIG;
	entry_unlock(&lock);
	return rc;
}

/* Seconds to wait after the last failure before another try counts. */
static long
wait_after(long fails)
{
	long w = OFFLINE_FIRST_WAIT;

	if (fails < OFFLINE_FREE_FAILURES)
		return 0;
	for (long i = OFFLINE_FREE_FAILURES; i < fails && w < OFFLINE_MAX_WAIT;
	    i++)
		w *= 2;
	return w < OFFLINE_MAX_WAIT ? w : OFFLINE_MAX_WAIT;
}

/*
 * Under user's lock: read the entry, refuse while the back-off runs,
 * count the attempt as a failure and write that down BEFORE the slow
 * hash is computed (so neither parallel attempts nor one killed halfway
 * get a free check), then compare; a match clears the count again.
 */
int
offline_verify(const char *dir, const char *user, const char *password,
    long max_age, time_t now, char **scope, struct claims **claims,
    const char **why)
{
	char path[PATH_MAX];
	struct entry e = { 0 };
	void *data = NULL;
	int size = 0, lock = -1, rc;
	const char *hash;

	*scope = NULL;
	*claims = NULL;
	*why = "offline_no_entry";
	if (fs_private_dir(dir, why) != 0 ||
	    fs_hashed_path(dir, "u-", user, path, sizeof(path)) != 0)
		return OA2_ERR_NOTFOUND;
	*why = "offline_no_entry";
	if (access(path, F_OK) != 0)
		return OA2_ERR_NOTFOUND;
	lock = entry_lock(dir, user);
	if (lock < 0)
		return OA2_ERR_NOTFOUND;
	rc = entry_read(path, &e);
	if (rc != 0)
		goto out;
	if (now - e.time > max_age || e.time > now + 300) {
		*why = "offline_expired";
		unlink(path);
		rc = OA2_ERR_NOTFOUND;
		goto out;
	}
	if (now - e.last_fail < wait_after(e.fails)) {
		*why = "offline_rate_limited";
		rc = OA2_ERR_DENIED;
		goto out;
	}
	e.fails++;
	e.last_fail = (long long)now;
	if (entry_write(dir, path, &e) != 0) {
		/* An attempt that cannot be counted is not checked. */
		rc = OA2_ERR_NOTFOUND;
		goto out;
	}
	hash = crypt_ra(password, e.hash, &data, &size);
	if (hash == NULL || strlen(hash) != strlen(e.hash) ||
	    CRYPTO_memcmp(hash, e.hash, strlen(e.hash)) != 0) {
		*why = "offline_wrong_password";
		rc = OA2_ERR_DENIED;
		goto out;
	}
	e.fails = 0;
	e.last_fail = 0;
	entry_write(dir, path, &e);
	if (e.claims != NULL &&
	    claims_parse(e.claims, strlen(e.claims), claims) != 0) {
		*why = "offline_corrupt";
		rc = OA2_ERR_NOTFOUND;
		goto out;
	}
	*scope = e.scope;
	e.scope = NULL;
	*why = "offline";
	rc = 0;
out:
	entry_unlock(&lock);
	secret_freen(&data, (size_t)size);
	entry_clear(&e);
	return rc;
}

int
offline_list(const char *dir, offline_list_fn fn, void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];

	if (d == NULL)
		return errno == ENOENT ? OA2_ERR_NOTFOUND : OA2_ERR_CONFIG;
	while ((de = readdir(d)) != NULL) {
		struct entry e = { 0 };
		int n;

		if (strncmp(de->d_name, "u-", 2) != 0)
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (entry_read(path, &e) == 0)
			fn(arg, de->d_name, (time_t)e.time, e.fails);
		else
			fn(arg, de->d_name, 0, 0);
		entry_clear(&e);
	}
	closedir(d);
	return 0;
}

int
offline_clear(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : OA2_ERR_CONFIG;
	while ((de = readdir(d)) != NULL) {
		char lock[PATH_MAX];
		int fd = -1, n;

		if (strncmp(de->d_name, "u-", 2) != 0 &&
		    strncmp(de->d_name, ".tmp-", 5) != 0)
			continue;
		/* An entry goes under its lock, so that an attempt in
		 * flight cannot write it back; the lock files stay. */
		if (de->d_name[0] == 'u') {
			n = snprintf(lock, sizeof(lock), "%s/l-%s", dir,
			    de->d_name + 2);
			if (n > 0 && (size_t)n < sizeof(lock))
				fd = fs_lock_open(lock, true);
		}
		if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT)
			rc = OA2_ERR_CONFIG;
		entry_unlock(&fd);
	}
	closedir(d);
	return rc;
}
