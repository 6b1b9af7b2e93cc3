/*
 * groupsync.c - rewrite the memberships of mapped groups in /etc/group,
 * under the shadow-utils locks, atomically, keeping everything else.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "fault.h"
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
    bool want, bool *changed, bool *removed)
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
	if (!want)
		*removed = true;
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

/*
 * Write out into a new file beside path (same owner and mode as st),
 * fsynced, named in tmp; the caller renames it into place.  Returns 0 or
 * OA2_ERR_CONFIG (errno kept; nothing left behind).
 */
static int
write_tmp(const char *path, const char *tag, const struct stat *st,
    const struct buf *out, char *tmp, size_t tmplen)
{
	int fd, saved;

	if ((size_t)snprintf(tmp, tmplen, "%s.oa2%s.%ld", path, tag,
	    (long)getpid()) >= tmplen)
		return OA2_ERR_CONFIG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return OA2_ERR_CONFIG;
	if (fchown(fd, st->st_uid, st->st_gid) != 0 ||
	    fchmod(fd, st->st_mode & 07777) != 0 ||
	    fs_write_all(fd, out->p != NULL ? out->p : "", out->len) != 0 ||
	    fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return OA2_ERR_CONFIG;
	}
	if (close(fd) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return OA2_ERR_CONFIG;
	}
	return 0;
}

/* Remove the new files ("NAME.oa2.PID", write_tmp) that a killed
 * group_sync left in dir for any of the names in bases.  Called with
 * every lock held. */
static void
sweep_tmp(const char *dir, const char *const *bases, size_t nbases)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		for (size_t i = 0; i < nbases; i++) {
			size_t bl = strlen(bases[i]);
			const char *num = de->d_name + bl + 5;
			char *end = NULL;
			long pid;

			if (strncmp(de->d_name, bases[i], bl) != 0 ||
			    strncmp(de->d_name + bl, ".oa2.", 5) != 0 ||
			    *num < '1' || *num > '9')
				continue;
			errno = 0;
			pid = strtol(num, &end, 10);
			if (errno != 0 || *end != '\0' || pid == (long)getpid())
				continue;
			if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
				(void)unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
}

static void
sync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
}

/* One file of the group database (/etc/group or /etc/gshadow: both keep
 * the members in the fourth field) while it is being rewritten. */
struct gfile {
	const char *path;
	bool present;          /* false: optional file that does not exist */
	bool locked;           /* we hold PATH.lock */
	struct stat st;
	struct buf cur;        /* contents, with the edits so far */
	bool changed;
	char tmp[PATH_MAX];    /* the new file, once written */
};

static void
gfile_clear(struct gfile *f)
{
	if (f->tmp[0] != '\0')
		unlink(f->tmp);
	f->tmp[0] = '\0';
	if (f->locked)
		unlock_file(f->path);
	f->locked = false;
	free(f->cur.p);
	memset(&f->cur, 0, sizeof(f->cur));
}

/* Lock and read f (a missing optional file is fine).  Returns 0 or
 * OA2_ERR_CONFIG/OA2_ERR_NOMEM, logged. */
static int
gfile_open(struct gfile *f, bool optional, int64_t deadline,
    const struct log_ctx *lc)
{
	char ep[LOG_ESC_MAX];
	int fd = -1, rc = OA2_ERR_CONFIG;

	log_escape(f->path, ep, sizeof(ep));
	if (optional && access(f->path, F_OK) != 0 && errno == ENOENT)
		return 0;
	f->present = true;
	if (lock_file(f->path, deadline) != 0) {
		log_msg(lc, LOG_ERR, "group_sync: cannot lock %s.lock: nothing "
		    "written", ep);
		return OA2_ERR_CONFIG;
	}
	f->locked = true;
	fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &f->st) != 0 || !S_ISREG(f->st.st_mode)) {
		log_msg(lc, LOG_ERR, "group_sync: cannot read %s", ep);
		goto out;
	}
	rc = read_file(fd, &f->st, &f->cur);
	if (rc != 0)
		log_msg(lc, LOG_ERR, "group_sync: cannot read %s", ep);
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* In f's contents: user in every group of add, and in no group of mapped
 * that is not in add.  *removed is set when a membership went away. */
static int
gfile_edit(struct gfile *f, const char *user, const struct group_list *add,
    const struct group_list *mapped, bool *removed)
{
	struct buf out = { 0 };
	const char *p, *end;
	bool any = false;
	int rc = 0;

	if (!f->present)
		return 0;
	for (p = f->cur.p, end = f->cur.p + f->cur.len; p < end && rc == 0;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);
		size_t nlen = strcspn(p, ":\n");

		if (nlen < n && list_has_name(mapped, p, nlen))
			rc = rewrite_line(&out, p, n, user,
			    list_has_name(add, p, nlen), &any, removed);
		else
			rc = buf_add(&out, p, n);
		if (rc == 0 && nl != NULL)
			rc = buf_add(&out, "\n", 1);
		p = nl != NULL ? nl + 1 : end;
	}
	if (rc != 0 || !any) {
		free(out.p);
		return rc;
	}
	free(f->cur.p);
	f->cur = out;
	f->changed = true;
	return 0;
}

/*
 * The journal of revocations (DIR/.pam_oauth2-groupsync, owned like the
 * group file, i.e. root, mode 0600):
 * "pam_oauth2 groupsync 1" then one "USER GROUP" line per membership
 * being removed.  It is in place before the first of the two files is
 * replaced and removed after the second, so a process killed between the
 * two renames leaves it behind, and the next group_sync (any user's
 * login, under the same locks) removes those memberships from both files
 * before anything else.
 */
#define JOURNAL_NAME ".pam_oauth2-groupsync"
#define JOURNAL_MAGIC "pam_oauth2 groupsync 1\n"
#define JOURNAL_MAX (1024 * 1024)

static bool
name_fits(const char *s, size_t n)
{
	if (n == 0 || n > 256)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ':' || s[i] == ',' || s[i] == ' ' ||
		    (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	}
	return true;
}

/* Apply each revocation of the journal text j to both files. */
static int
journal_replay(const struct buf *j, struct gfile *files, size_t nfiles,
    bool *removed)
{
	const char *p = j->p, *end = j->p + j->len;
	size_t ml = strlen(JOURNAL_MAGIC);
	int rc = 0;

	if (j->len < ml || memcmp(j->p, JOURNAL_MAGIC, ml) != 0)
		return OA2_ERR_CONFIG;
	for (p += ml; p < end && rc == 0;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *sp;
		char user[257], group[257];
		char *gname = group;
		struct group_list none = { 0 }, one = { 1, NULL, &gname };

		if (nl == NULL)
			return OA2_ERR_CONFIG;
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (sp == NULL || !name_fits(p, (size_t)(sp - p)) ||
		    !name_fits(sp + 1, (size_t)(nl - sp - 1)))
			return OA2_ERR_CONFIG;
		memcpy(user, p, (size_t)(sp - p));
		user[sp - p] = '\0';
		memcpy(group, sp + 1, (size_t)(nl - sp - 1));
		group[nl - sp - 1] = '\0';
		for (size_t i = 0; i < nfiles && rc == 0; i++)
			rc = gfile_edit(&files[i], user, &none, &one, removed);
		p = nl + 1;
	}
	return rc;
}

/* Read the journal at path into j (j->len 0 when there is none); it
 * must belong to owner (the group file's: root) and be private.
 * Returns 0 or OA2_ERR_CONFIG (unsafe or unreadable). */
static int
journal_read(const char *path, uid_t owner, struct buf *j)
{
	struct stat st;
	int fd, rc = OA2_ERR_CONFIG;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : OA2_ERR_CONFIG;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != owner ||
	    (st.st_mode & 077) != 0 || st.st_size > JOURNAL_MAX)
		goto out;
	rc = read_file(fd, &st, j);
out:
	close(fd);
	return rc;
}

int
groupsync_apply(const char *path, const char *user,
    const struct group_list *add, const struct group_list *mapped,
    const struct log_ctx *lc, bool *changed)
{
	char dir[PATH_MAX], gshadow[PATH_MAX], jpath[PATH_MAX];
	char jtmp[PATH_MAX], ep[LOG_ESC_MAX];
	struct gfile files[2];
	struct buf old = { 0 }, jnew = { 0 };
	struct stat jst = { 0 };
	sigset_t all, saved_mask;
	int64_t deadline = mono_ms() + GROUPSYNC_LOCK_WAIT_MS;
	bool removed = false, replay = false, masked = false;
	int pwfd = -1, rc = OA2_ERR_CONFIG;

	memset(files, 0, sizeof(files));
	jtmp[0] = '\0';
	if (changed != NULL)
		*changed = false;
	if (user[0] == '\0' || strpbrk(user, ":,\n ") != NULL) {
		log_msg(lc, LOG_ERR, "group_sync: user name unfit for the "
		    "group file");
		return OA2_ERR_CONFIG;
	}
	if (dir_of(path, dir, sizeof(dir)) != 0 ||
	    (size_t)snprintf(gshadow, sizeof(gshadow), "%s/gshadow", dir) >=
	    sizeof(gshadow) ||
	    (size_t)snprintf(jpath, sizeof(jpath), "%s/" JOURNAL_NAME, dir) >=
	    sizeof(jpath))
		return OA2_ERR_CONFIG;
	/*
	 * gshadow first.  Both files grant a membership: login, su, sshd
	 * and sudo's %group rules read /etc/group (initgroups), while
	 * sg/newgrp take the member list of the group's /etc/gshadow entry
	 * instead and let its members in without a password, from a session
	 * that already runs.  So no order of two renames is safe by itself
	 * against a kill between them; the journal above closes that window
	 * (the next group_sync finishes the revocation).  Of the two
	 * half-done states, a member left in /etc/group only matters at a
	 * new login (which runs group_sync again, replaying the journal),
	 * one left in gshadow could use sg at once: so gshadow loses a
	 * revoked member first.
	 */
	files[0].path = gshadow;
	files[1].path = path;
	/* All locks before anything is read or written, as shadow-utils
	 * does (lckpwdf, then gr_lock and sgr_lock): a lock we cannot have
	 * leaves both files as they were. */
	pwfd = lock_pwd(dir, deadline);
	if (pwfd < 0) {
		log_msg(lc, LOG_ERR, "group_sync: cannot lock %s/.pwd.lock: %s",
		    log_escape(dir, ep, sizeof(ep)), strerror(errno));
		return OA2_ERR_CONFIG;
	}
	rc = gfile_open(&files[1], false, deadline, lc);
	if (rc == 0)
		rc = gfile_open(&files[0], true, deadline, lc);
	if (rc != 0)
		goto out;
	/* A revocation a killed group_sync left half done comes first. */
	{
		const char *bases[3] = { strrchr(path, '/') + 1, "gshadow",
		    JOURNAL_NAME };

		sweep_tmp(dir, bases, 3);
	}
	rc = journal_read(jpath, files[1].st.st_uid, &old);
	if (rc == 0 && old.len > 0) {
		replay = true;
		rc = journal_replay(&old, files, 2, &removed);
	}
	if (rc != 0) {
		log_msg(lc, LOG_ERR, "group_sync: unusable journal %s",
		    log_escape(jpath, ep, sizeof(ep)));
		goto out;
	}
	for (size_t i = 0; i < 2 && rc == 0; i++)
		rc = gfile_edit(&files[i], user, add, mapped, &removed);
	if (rc != 0)
		goto out;
	if (!files[0].changed && !files[1].changed) {
		if (replay)
			unlink(jpath);
		rc = 0;
		goto out;
	}
	/* Both new files complete and on disk before either is renamed. */
	for (size_t i = 0; i < 2; i++) {
		if (!files[i].changed)
			continue;
		rc = write_tmp(files[i].path, "", &files[i].st, &files[i].cur,
		    files[i].tmp, sizeof(files[i].tmp));
		if (rc != 0) {
			log_msg(lc, LOG_ERR, "group_sync: cannot write a new "
			    "%s: %s: nothing replaced", log_escape(files[i].path,
			    ep, sizeof(ep)), strerror(errno));
			goto out;
		}
	}
	if (removed) {
		/* The journal: what was there, and every removal now. */
		rc = old.len > 0 ? buf_add(&jnew, old.p, old.len) :
		    buf_add(&jnew, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC));
		for (size_t i = 0; rc == 0 && mapped != NULL && i < mapped->n;
		    i++) {
			if (list_has_name(add, mapped->names[i],
			    strlen(mapped->names[i])) ||
			    !name_fits(mapped->names[i],
			    strlen(mapped->names[i])))
				continue;
			rc = buf_add(&jnew, user, strlen(user));
			if (rc == 0)
				rc = buf_add(&jnew, " ", 1);
			if (rc == 0)
				rc = buf_add(&jnew, mapped->names[i],
				    strlen(mapped->names[i]));
			if (rc == 0)
				rc = buf_add(&jnew, "\n", 1);
		}
		jst.st_uid = files[1].st.st_uid;
		jst.st_gid = files[1].st.st_gid;
		jst.st_mode = 0600;
		if (rc == 0)
			rc = write_tmp(jpath, "", &jst, &jnew, jtmp,
			    sizeof(jtmp));
		if (rc == 0 && rename(jtmp, jpath) != 0)
			rc = OA2_ERR_CONFIG;
		if (rc != 0) {
			log_msg(lc, LOG_ERR, "group_sync: cannot write the "
			    "journal %s: nothing replaced",
			    log_escape(jpath, ep, sizeof(ep)));
			goto out;
		}
		jtmp[0] = '\0';
		sync_dir(dir);
	}
	/*
	 * The two renames with every signal blocked in this thread: a
	 * SIGTERM, SIGHUP, SIGINT or SIGALRM (sshd's LoginGraceTime, login's
	 * timeout, a service stop) that arrives in between waits until
	 * both files are final, the journal is gone and the locks are
	 * released, then is delivered as usual (the mask is restored last).  Only what
	 * cannot be blocked (SIGKILL, a crash, a power cut) can still stop
	 * us between them; the journal covers that.
	 */
	sigfillset(&all);
	/* not the signals of a fault in this thread: blocked, their
	 * delivery is undefined (POSIX) */
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	masked = pthread_sigmask(SIG_BLOCK, &all, &saved_mask) == 0;
	for (size_t i = 0; i < 2; i++) {
		if (!files[i].changed)
			continue;
		if (i == 1)
			fault_point("groupsync_between_renames");
		if (rename(files[i].tmp, files[i].path) != 0) {
			log_msg(lc, LOG_ERR, "group_sync: cannot replace %s: %s",
			    log_escape(files[i].path, ep, sizeof(ep)),
			    strerror(errno));
			rc = OA2_ERR_CONFIG;
			goto out;
		}
		files[i].tmp[0] = '\0';
		if (changed != NULL)
			*changed = true;
	}
	sync_dir(dir);
	/* Both files are final: the journal is done. */
	if (removed || replay) {
		unlink(jpath);
		sync_dir(dir);
	}
	rc = 0;
out:
	if (jtmp[0] != '\0')
		unlink(jtmp);
	gfile_clear(&files[0]);
	gfile_clear(&files[1]);
	free(old.p);
	free(jnew.p);
	close(pwfd);  /* releases the fcntl lock */
	if (masked)
		pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	return rc;
}

int
groupsync_recover(const char *path, const char *user,
    const struct log_ctx *lc)
{
	struct group_list none = { 0 };
	char dir[PATH_MAX], jpath[PATH_MAX];
	struct stat st;

	if (dir_of(path, dir, sizeof(dir)) != 0 ||
	    (size_t)snprintf(jpath, sizeof(jpath), "%s/" JOURNAL_NAME, dir) >=
	    sizeof(jpath))
		return OA2_ERR_CONFIG;
	if (lstat(jpath, &st) != 0)
		return 0;
	log_msg(lc, LOG_NOTICE, "group_sync: finishing the revocations of an "
	    "interrupted group_sync");
	return groupsync_apply(path, user, &none, &none, lc, NULL);
}
