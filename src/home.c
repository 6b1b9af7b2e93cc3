/*
 * home.c - a provisioned user's home directory from the skeleton.
 *
 * Every step works on directory descriptors opened with O_NOFOLLOW, so a
 * symbolic link planted anywhere on the way is refused, never followed.
 * The new home is filled under a temporary name while root owns it, then
 * handed to the user (fchown on our own descriptors) and renamed into
 * place with RENAME_NOREPLACE: something an attacker put at the final
 * name is never chowned, merged into or replaced.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "fsutil.h"
#include "home.h"

/* A skeleton deeper than this is cut (logged by the caller as a failure). */
#define HOME_MAX_DEPTH 16
/* Entries copied from the skeleton, in all. */
#define HOME_MAX_ENTRIES 4096

mode_t
home_mode(const char *login_defs)
{
	char line[256];
	mode_t mode = HOME_DEFAULT_MODE;
	FILE *f = fopen(login_defs, "re");

	if (f == NULL)
		return mode;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *end = NULL;
		long v;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "HOME_MODE", 9) != 0 ||
		    (p[9] != ' ' && p[9] != '\t'))
			continue;
		p += 9;
		while (*p == ' ' || *p == '\t')
			p++;
		errno = 0;
		v = strtol(p, &end, 8);
		if (errno != 0 || end == p || v < 0 || v > 07777)
			continue;
		while (*end == ' ' || *end == '\t' || *end == '\n' ||
		    *end == '\r')
			end++;
		if (*end != '\0')
			continue;
		mode = (mode_t)v;
	}
	fclose(f);
	/* No group/other write, no setuid/setgid/sticky: at most 0755. */
	return mode & 0755;
}

/* A directory we may build in: not a link (the open had O_NOFOLLOW),
 * owned by root, writable by group or others only with the sticky bit
 * (then nobody else can rename or remove what root made in it). */
static int
safe_parent(int fd, const char **why)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		*why = "cannot stat a parent directory";
		return OA2_ERR_UNAVAIL;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0) {
		*why = "a parent directory is not owned by root";
		return OA2_ERR_PERM;
	}
	if ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0) {
		*why = "a parent directory is writable by group or others";
		return OA2_ERR_PERM;
	}
	return 0;
}

/*
 * Open the parent of path as a directory descriptor, component by
 * component from "/", creating missing ones root:root 0755; *last points
 * at the final component inside copy.  Returns the descriptor or -1 with
 * *rc and *why set.
 */
static int
open_parent(char *copy, char **last, int *rc, const char **why)
{
	char *p = copy + 1, *slash;
	int fd, next;

	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		*why = "cannot open /";
		*rc = OA2_ERR_UNAVAIL;
		return -1;
	}
	while ((slash = strchr(p, '/')) != NULL) {
		*slash = '\0';
		if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			*why = "the path has an empty, . or .. component";
			*rc = OA2_ERR_PERM;
			goto fail;
		}
		*rc = safe_parent(fd, why);
		if (*rc != 0)
			goto fail;
		if (mkdirat(fd, p, 0755) == 0) {
			/* mkdirat applies the umask: make it 0755. */
			next = openat(fd, p, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (next >= 0 && (fchown(next, 0, 0) != 0 ||
			    fchmod(next, 0755) != 0)) {
				close(next);
				next = -1;
			}
		} else if (errno == EEXIST) {
			next = openat(fd, p, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		} else {
			next = -1;
		}
		if (next < 0) {
			*why = errno == ELOOP || errno == ENOTDIR ?
			    "a parent is a symbolic link or not a directory" :
			    "cannot open or create a parent directory";
			*rc = errno == ELOOP || errno == ENOTDIR ?
			    OA2_ERR_PERM : OA2_ERR_UNAVAIL;
			goto fail;
		}
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*rc = safe_parent(fd, why);
	if (*rc != 0)
		goto fail;
	if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
		*why = "the path has an empty, . or .. last component";
		*rc = OA2_ERR_PERM;
		goto fail;
	}
	*last = p;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Remove name (a tree we made) below dirfd, never following a link. */
static void
remove_tree(int dirfd, const char *name, int depth)
{
	DIR *d;
	struct dirent *de;
	int fd;

	if (unlinkat(dirfd, name, 0) == 0)
		return;
	if (depth > HOME_MAX_DEPTH + 1)
		return;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) != 0)
			remove_tree(fd, de->d_name, depth + 1);
	}
	closedir(d);
	(void)unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* Copy the regular file name from sfd to dfd, owned by uid:gid. */
static int
copy_file(int sfd, int dfd, const char *name, const struct stat *st,
    uid_t uid, gid_t gid)
{
	char buf[16384];
	int in, out, rc = -1;
	ssize_t n;

	in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (out < 0)
		goto out;
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (fs_write_all(out, buf, (size_t)n) != 0) {
			n = -1;
			break;
		}
	}
	if (n == 0 && fchown(out, uid, gid) == 0 &&
	    fchmod(out, st->st_mode & 0777) == 0)
		rc = 0;
	close(out);
out:
	close(in);
	return rc;
}

/* Copy the skeleton directory sfd into dfd (ours, root-owned until the
 * end), everything owned by uid:gid.  Regular files, directories and
 * symbolic links (as links) are copied; other types are skipped. */
static int
copy_tree(int sfd, int dfd, uid_t uid, gid_t gid, int depth, int *count)
{
	DIR *d;
	struct dirent *de;
	int dup_fd, rc = 0;

	if (depth > HOME_MAX_DEPTH)
		return -1;
	dup_fd = dup(sfd);
	if (dup_fd < 0)
		return -1;
	d = fdopendir(dup_fd);
	if (d == NULL) {
		close(dup_fd);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (++*count > HOME_MAX_ENTRIES) {
			rc = -1;
			break;
		}
		if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = -1;
			break;
		}
		if (S_ISREG(st.st_mode)) {
			rc = copy_file(sfd, dfd, de->d_name, &st, uid, gid);
		} else if (S_ISDIR(st.st_mode)) {
			int s2, d2;

			if (mkdirat(dfd, de->d_name, 0700) != 0) {
				rc = -1;
				break;
			}
			s2 = openat(sfd, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			d2 = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0 || d2 < 0)
				rc = -1;
			else
				rc = copy_tree(s2, d2, uid, gid, depth + 1,
				    count);
			if (rc == 0 && (fchown(d2, uid, gid) != 0 ||
			    fchmod(d2, st.st_mode & 0777) != 0))
				rc = -1;
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(sfd, de->d_name, target,
			    sizeof(target) - 1);

			if (n < 0) {
				rc = -1;
				break;
			}
			target[n] = '\0';
			if (symlinkat(target, dfd, de->d_name) != 0 ||
			    fchownat(dfd, de->d_name, uid, gid,
			    AT_SYMLINK_NOFOLLOW) != 0)
				rc = -1;
		}
	}
	closedir(d);
	return rc;
}

int
home_create(const char *path, uid_t uid, gid_t gid, mode_t mode,
    const char *skel, const char **why)
{
	char *copy = NULL, *last = NULL;
	char tmp[64];
	unsigned char rnd[8];
	struct stat st;
	int pfd = -1, tfd = -1, sfd = -1, rc = 0, count = 0;
	bool made = false;

	*why = "ok";
	if (path == NULL || path[0] != '/' || strlen(path) > PATH_MAX) {
		*why = "not an absolute path";
		return OA2_ERR_PERM;
	}
	copy = strdup(path);
	if (copy == NULL) {
		*why = "out of memory";
		return OA2_ERR_NOMEM;
	}
	/* "/home/alice/" is "/home/alice". */
	for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
		copy[n - 1] = '\0';
	pfd = open_parent(copy, &last, &rc, why);
	if (pfd < 0)
		goto out;
	if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode) && st.st_uid == uid) {
			rc = 1;
			*why = "exists";
		} else {
			rc = OA2_ERR_PERM;
			*why = "something else is at the path (not a "
			    "directory owned by the user): left alone";
		}
		goto out;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		rc = OA2_ERR_UNAVAIL;
		*why = "getrandom failed";
		goto out;
	}
	snprintf(tmp, sizeof(tmp), ".pam_oauth2-home.%02x%02x%02x%02x%02x"
	    "%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
	    rnd[6], rnd[7]);
	if (mkdirat(pfd, tmp, 0700) != 0) {
		rc = OA2_ERR_UNAVAIL;
		*why = "cannot create the directory";
		goto out;
	}
	made = true;
	tfd = openat(pfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (tfd < 0) {
		rc = OA2_ERR_UNAVAIL;
		*why = "cannot open the new directory";
		goto out;
	}
	if (skel != NULL) {
		sfd = open(skel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (sfd >= 0 && (fstat(sfd, &st) != 0 || st.st_uid != 0)) {
			close(sfd);
			sfd = -1;
		}
		if (sfd >= 0 && copy_tree(sfd, tfd, uid, gid, 0,
		    &count) != 0) {
			rc = OA2_ERR_UNAVAIL;
			*why = "cannot copy the skeleton directory";
			goto out;
		}
	}
	if (fchown(tfd, uid, gid) != 0 || fchmod(tfd, mode) != 0) {
		rc = OA2_ERR_UNAVAIL;
		*why = "cannot give the directory to the user";
		goto out;
	}
	if (renameat2(pfd, tmp, pfd, last, RENAME_NOREPLACE) != 0) {
		rc = errno == EEXIST ? OA2_ERR_PERM : OA2_ERR_UNAVAIL;
		*why = errno == EEXIST ? "something appeared at the path "
		    "meanwhile: left alone" : "cannot rename into place";
		goto out;
	}
	made = false;
	rc = 0;
	*why = "created";
out:
	if (made)
		remove_tree(pfd, tmp, 0);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (pfd >= 0)
		close(pfd);
	free(copy);
	return rc;
}
