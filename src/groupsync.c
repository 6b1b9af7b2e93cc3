/*
 * groupsync.c - rewrite the memberships of mapped groups in /etc/group,
 * under the shadow-utils locks, atomically, keeping everything else.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "fsutil.h"
#include "groups.h"
#include "groupsync.h"
#include "log.h"

struct buf {
	char *p;
	size_t len, cap;
};

static int
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > GROUPSYNC_MAX_FILE + 65536)
			return OA2_ERR_NOMEM;
		p = realloc(b->p, cap);
		if (p == NULL)
			return OA2_ERR_NOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (b->p == NULL)
		return OA2_ERR_NOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Our own monotonic clock: the lock deadline is real time even in the
 * test builds that link a virtual clock.h. */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The directory part of path (path has a '/'). */
static int
dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return -1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= len)
		return -1;
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

/*
 * lckpwdf()'s lock: a write lock on DIR/.pwd.lock (glibc's PWD_LOCKFILE
 * for /etc).  glibc waits for it with alarm() and a SIGALRM handler,
 * which would disturb the host program's timers (login arms one), so we
 * poll F_SETLK instead.  Returns the descriptor or -1.
 */
static int
lock_pwd(const char *dir, int64_t deadline)
{
	char path[PATH_MAX];
	struct flock fl;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/.pwd.lock", dir) >=
	    sizeof(path))
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return fd;
		if ((errno != EAGAIN && errno != EACCES) ||
		    mono_ms() >= deadline)
			break;
		sleep_ms(10);
	}
	close(fd);
	return -1;
}

/*
 * shadow-utils' per-file lock (commonio_lock_nowait): write our PID into
 * PATH.PID, hard-link it to PATH.lock, and check the link count; a lock
 * whose PID is gone is stale and removed.  Returns 0 or -1.
 */
static int
lock_file(const char *path, int64_t deadline)
{
	char lock[PATH_MAX], mine[PATH_MAX], pidbuf[32];
	struct stat st;
	int fd, n;

	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >=
	    sizeof(lock) || (size_t)snprintf(mine, sizeof(mine), "%s.%ld",
	    path, (long)getpid()) >= sizeof(mine))
		return -1;
	n = snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)getpid());
	for (;;) {
		unlink(mine);
		fd = open(mine, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd < 0)
			return -1;
		if (write(fd, pidbuf, (size_t)n) != n) {
			close(fd);
			unlink(mine);
			return -1;
		}
		close(fd);
		if (link(mine, lock) == 0) {
			int ok = stat(mine, &st) == 0 && st.st_nlink == 2;

			unlink(mine);
			if (ok)
				return 0;
			unlink(lock);
			return -1;
		}
		unlink(mine);
		if (errno != EEXIST)
			return -1;
		/* Held: by a live process, wait; else remove it. */
		fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			char other[32];
			ssize_t r = read(fd, other, sizeof(other) - 1);
			long pid;

			close(fd);
			other[r > 0 ? r : 0] = '\0';
			pid = strtol(other, NULL, 10);
			if (pid > 0 && pid != (long)getpid() &&
			    kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
				unlink(lock);
				continue;
			}
		}
		if (mono_ms() >= deadline)
			return -1;
		sleep_ms(10);
	}
}

static void
unlock_file(const char *path)
{
	char lock[PATH_MAX];

	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) <
	    sizeof(lock))
		unlink(lock);
}

static bool
list_has_name(const struct group_list *l, const char *name, size_t n)
{
	if (l == NULL)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		if (strlen(l->names[i]) == n &&
		    memcmp(l->names[i], name, n) == 0)
			return true;
	}
	return false;
}

/*
 * Rewrite one line (without its '\n') into out: the members field with
 * user added (want) or removed (!want).  Lines that are not
 * "name:passwd:gid:members" are copied as they are.  *changed is set when
 * the line differs.
 */
static int
rewrite_line(struct buf *out, const char *line, size_t n, const char *user,
    bool want, bool *changed)
{
	const char *p = line, *end = line + n, *members, *m;
	size_t ulen = strlen(user);
	bool present = false, first = true;
	int colons = 0, rc;

	for (members = line; members < end && colons < 3; members++) {
		if (*members == ':')
			colons++;
	}
	if (colons < 3 || memchr(members, ':', (size_t)(end - members)))
		return buf_add(out, line, n);
	for (m = members; m < end;) {
		const char *c = memchr(m, ',', (size_t)(end - m));
		size_t len = (size_t)((c != NULL ? c : end) - m);

		if (len == ulen && memcmp(m, user, ulen) == 0)
			present = true;
		m = c != NULL ? c + 1 : end;
	}
	if (present == want)
		return buf_add(out, line, n);
	*changed = true;
	rc = buf_add(out, p, (size_t)(members - p));
	if (rc != 0)
		return rc;
	for (m = members; m < end && rc == 0;) {
		const char *c = memchr(m, ',', (size_t)(end - m));
		size_t len = (size_t)((c != NULL ? c : end) - m);

		if (len > 0 && !(len == ulen && memcmp(m, user, ulen) == 0)) {
			if (!first)
				rc = buf_add(out, ",", 1);
			if (rc == 0)
				rc = buf_add(out, m, len);
			first = false;
		}
		m = c != NULL ? c + 1 : end;
	}
	if (rc == 0 && want) {
		if (!first)
			rc = buf_add(out, ",", 1);
		if (rc == 0)
			rc = buf_add(out, user, ulen);
	}
	return rc;
}

static int
read_file(int fd, const struct stat *st, struct buf *in)
{
	long got;

	if (st->st_size < 0 || st->st_size > GROUPSYNC_MAX_FILE)
		return OA2_ERR_CONFIG;
	in->p = malloc((size_t)st->st_size + 1);
	if (in->p == NULL)
		return OA2_ERR_NOMEM;
	in->cap = (size_t)st->st_size + 1;
	got = fs_read_all(fd, in->p, (size_t)st->st_size);
	if (got != (long)st->st_size)
		return OA2_ERR_CONFIG;
	in->len = (size_t)got;
	in->p[got] = '\0';
	return 0;
}

static int
write_new(const char *path, const char *dir, const struct stat *st,
    const struct buf *out)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	int fd, dfd, rc = OA2_ERR_CONFIG;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.oa2.%ld", path,
	    (long)getpid()) >= sizeof(tmp))
		return OA2_ERR_CONFIG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return OA2_ERR_CONFIG;
	if (fchown(fd, st->st_uid, st->st_gid) != 0 ||
	    fchmod(fd, st->st_mode & 07777) != 0)
		goto out;
	while (off < out->len) {
		ssize_t n = write(fd, out->p + off, out->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
out:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

/*
 * Rewrite the member lists of the mapped groups in one file of the group
 * database (/etc/group or /etc/gshadow: both keep the members in the
 * fourth field) under its own lock; the caller holds .pwd.lock.  A missing
 * file is fine when optional (a system without gshadow).
 */
static int
sync_file(const char *path, const char *dir, const char *user,
    const struct group_list *add, const struct group_list *mapped,
    const struct log_ctx *lc, int64_t deadline, bool optional,
    bool *changed)
{
	struct buf in = { 0 }, out = { 0 };
	struct stat st;
	char ep[LOG_ESC_MAX];
	bool any = false, locked = false;
	int fd = -1, rc = OA2_ERR_CONFIG;
	const char *p, *end;

	log_escape(path, ep, sizeof(ep));
	if (optional && access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if (lock_file(path, deadline) != 0) {
		log_msg(lc, LOG_ERR, "group_sync: cannot lock %s.lock", ep);
		goto out;
	}
	locked = true;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_msg(lc, LOG_ERR, "group_sync: cannot read %s", ep);
		goto out;
	}
	rc = read_file(fd, &st, &in);
	if (rc != 0) {
		log_msg(lc, LOG_ERR, "group_sync: cannot read %s", ep);
		goto out;
	}
	for (p = in.p, end = in.p + in.len; p < end && rc == 0;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);
		size_t nlen = strcspn(p, ":\n");

		if (nlen < n && list_has_name(mapped, p, nlen))
			rc = rewrite_line(&out, p, n, user,
			    list_has_name(add, p, nlen), &any);
		else
			rc = buf_add(&out, p, n);
		if (rc == 0 && nl != NULL)
			rc = buf_add(&out, "\n", 1);
		p = nl != NULL ? nl + 1 : end;
	}
	if (rc != 0)
		goto out;
	if (any) {
		rc = write_new(path, dir, &st, &out);
		if (rc != 0) {
			log_msg(lc, LOG_ERR, "group_sync: cannot replace %s: %s",
			    ep, strerror(errno));
			goto out;
		}
		*changed = true;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (locked)
		unlock_file(path);
	free(in.p);
	free(out.p);
	return rc;
}

int
groupsync_apply(const char *path, const char *user,
    const struct group_list *add, const struct group_list *mapped,
    const struct log_ctx *lc, bool *changed)
{
	char dir[PATH_MAX], gshadow[PATH_MAX];
	int64_t deadline = mono_ms() + GROUPSYNC_LOCK_WAIT_MS;
	bool any = false;
	int pwfd = -1, rc = OA2_ERR_CONFIG;

	if (changed != NULL)
		*changed = false;
	if (user[0] == '\0' || strpbrk(user, ":,\n ") != NULL) {
		log_msg(lc, LOG_ERR, "group_sync: user name unfit for the "
		    "group file");
		return OA2_ERR_CONFIG;
	}
	if (dir_of(path, dir, sizeof(dir)) != 0 ||
	    (size_t)snprintf(gshadow, sizeof(gshadow), "%s/gshadow", dir) >=
	    sizeof(gshadow))
		return OA2_ERR_CONFIG;
	pwfd = lock_pwd(dir, deadline);
	if (pwfd < 0) {
		log_msg(lc, LOG_ERR, "group_sync: cannot lock %s/.pwd.lock: %s",
		    dir, strerror(errno));
		return OA2_ERR_CONFIG;
	}
	/* Both files, as usermod -aG and gpasswd do: a member left in
	 * gshadow would still get the group through sg/newgrp. */
	rc = sync_file(path, dir, user, add, mapped, lc, deadline, false,
	    &any);
	if (rc == 0)
		rc = sync_file(gshadow, dir, user, add, mapped, lc, deadline,
		    true, &any);
	if (changed != NULL)
		*changed = any;
	close(pwfd);  /* releases the fcntl lock */
	return rc;
}
