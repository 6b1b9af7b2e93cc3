/*
 * nss_oauth2.c - libnss_oauth2.so.2, NSS source "oauth2": the users the
 * PAM module provisioned (userdb.h), and sshd's pre-authentication
 * placeholder for a never-seen user (the rules are in userdb.h, section
 * "placeholder").
 *
 * Contract, as glibc's nss_files keeps it: NSS_STATUS_SUCCESS with the
 * entry packed into the caller's buffer; NSS_STATUS_TRYAGAIN with
 * *errnop = ERANGE when the buffer is too small (the same call with a
 * bigger buffer then succeeds; enumeration does not advance);
 * NSS_STATUS_NOTFOUND with *errnop = ENOENT for an unknown name, UID or
 * GID and at the end of an enumeration; NSS_STATUS_UNAVAIL with *errnop
 * = EIO when users.db is unsafe (not root's, writable by others) or
 * corrupt.  A missing users.db is an empty database.  errno is left
 * untouched on success.
 *
 * Lookups share one mapping of users.db per process: each call stat()s
 * the file and reuses the mapping while device, inode, size, mode, owner,
 * mtime and ctime are unchanged (a writer's rename makes a new inode; the
 * inode of a mapped file cannot be reused), else maps the new file; a
 * mapping is unmapped when the last lookup using it ends.  The mutex
 * guarding this is held for a few instructions, never across I/O, and
 * every mutex of the module is taken across fork() (pthread_atfork) so a
 * child never inherits one locked.  The settings file is read once per
 * version of it the same way (key: its lstat; "settings" below).
 * Enumeration keeps its own snapshot
 * and position under a mutex (one per database, as nss_files does).  The module never writes stdout/stderr, never logs, never calls
 * exit, never talks to the network, and uses only glibc; it never calls
 * getpw* or getgr* (it would recurse through NSS).  Only the _nss_oauth2_*
 * entry points are exported (Makefile.am, tests/pam/symbols.sh).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "userdb.h"

#define NSS_OAUTH2_EXPORT __attribute__((visibility("default")))

enum nss_status _nss_oauth2_getpwnam_r(const char *, struct passwd *, char *,
    size_t, int *) NSS_OAUTH2_EXPORT;
enum nss_status _nss_oauth2_getpwuid_r(uid_t, struct passwd *, char *, size_t,
    int *) NSS_OAUTH2_EXPORT;
enum nss_status _nss_oauth2_setpwent(int) NSS_OAUTH2_EXPORT;
enum nss_status _nss_oauth2_getpwent_r(struct passwd *, char *, size_t,
    int *) NSS_OAUTH2_EXPORT;
enum nss_status _nss_oauth2_endpwent(void) NSS_OAUTH2_EXPORT;
enum nss_status _nss_oauth2_getgrnam_r(const char *, struct group *, char *,
    size_t, int *) NSS_OAUTH2_EXPORT;
enum nss_status _nss_oauth2_getgrgid_r(gid_t, struct group *, char *, size_t,
    int *) NSS_OAUTH2_EXPORT;
enum nss_status _nss_oauth2_setgrent(int) NSS_OAUTH2_EXPORT;
enum nss_status _nss_oauth2_getgrent_r(struct group *, char *, size_t,
    int *) NSS_OAUTH2_EXPORT;
enum nss_status _nss_oauth2_endgrent(void) NSS_OAUTH2_EXPORT;
enum nss_status _nss_oauth2_initgroups_dyn(const char *, gid_t, long int *,
    long int *, gid_t **, long int, int *) NSS_OAUTH2_EXPORT;

/* ---------------------------------------------------------------- packing */

struct nss_oauth2_pack {
	char *buf;
	size_t len, used;
};

/* Copy s into the buffer; NULL when it does not fit. */
static char *
nss_oauth2_put(struct nss_oauth2_pack *p, const char *s)
{
	size_t l = strlen(s) + 1;
	char *d;

	if (l > p->len - p->used)
		return NULL;
	d = p->buf + p->used;
	memcpy(d, s, l);
	p->used += l;
	return d;
}

static enum nss_status
nss_oauth2_fill_pw(const char *name, uint32_t uid, const char *gecos,
    const char *home, const char *shell, struct passwd *pw, char *buf,
    size_t buflen, int *errnop)
{
	struct nss_oauth2_pack p = { buf, buflen, 0 };

	pw->pw_name = nss_oauth2_put(&p, name);
	pw->pw_passwd = nss_oauth2_put(&p, "*");
	pw->pw_gecos = nss_oauth2_put(&p, gecos);
	pw->pw_dir = nss_oauth2_put(&p, home);
	pw->pw_shell = nss_oauth2_put(&p, shell);
	if (pw->pw_name == NULL || pw->pw_passwd == NULL || pw->pw_gecos == NULL ||
	    pw->pw_dir == NULL || pw->pw_shell == NULL) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	pw->pw_uid = uid;
	pw->pw_gid = uid;
	return NSS_STATUS_SUCCESS;
}

static enum nss_status
nss_oauth2_fill_gr(const struct userdb_user *u, struct group *gr, char *buf,
    size_t buflen, int *errnop)
{
	uintptr_t a = (uintptr_t)buf, pad = (alignof(char *) -
	    a % alignof(char *)) % alignof(char *);
	struct nss_oauth2_pack p;

	if (buflen < pad + sizeof(char *)) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	/* gr_mem first (aligned): a private group lists no members */
	gr->gr_mem = (char **)(void *)(buf + pad);
	gr->gr_mem[0] = NULL;
	p.buf = buf;
	p.len = buflen;
	p.used = pad + sizeof(char *);
	gr->gr_name = nss_oauth2_put(&p, u->name);
	gr->gr_passwd = nss_oauth2_put(&p, "*");
	if (gr->gr_name == NULL || gr->gr_passwd == NULL) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	gr->gr_gid = u->gid;
	return NSS_STATUS_SUCCESS;
}

/* The status for a userdb error code other than 0. */
static enum nss_status
nss_oauth2_status(int rc, int *errnop)
{
	switch (rc) {
	case USERDB_E_NOTFOUND:
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	case USERDB_E_NOMEM:
		*errnop = ENOMEM;
		return NSS_STATUS_TRYAGAIN;
	default:
		*errnop = EIO;
		return NSS_STATUS_UNAVAIL;
	}
}

/* ---------------------------------------------------------------- shared mapping */

struct nss_oauth2_snap {
	struct userdb *db;
	struct stat st;
	unsigned refs;   /* lookups using it, + 1 while it is the current one */
};

static struct nss_oauth2_snap *nss_oauth2_cur;
static pthread_mutex_t nss_oauth2_snap_lock = PTHREAD_MUTEX_INITIALIZER;

static bool
nss_oauth2_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec &&
	    a->st_mode == b->st_mode && a->st_uid == b->st_uid;
}

/* Drop one reference (called with the lock held). */
static void
nss_oauth2_unref(struct nss_oauth2_snap *sn)
{
	if (sn != NULL && --sn->refs == 0) {
		userdb_close(&sn->db);
		free(sn);
	}
}

/*
 * The current snapshot of users.db into *db and its handle into *h (NULL
 * for an empty database, which is not shared).  0 or a userdb code.
 * End with nss_oauth2_snap_put(h, db).
 */
static int
nss_oauth2_snap_get(struct userdb **db, struct nss_oauth2_snap **h)
{
	char path[PATH_MAX];
	struct nss_oauth2_snap *sn;
	struct stat st;
	int fd, rc;

	*db = NULL;
	*h = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", userdb_dir(),
	    USERDB_DB_NAME) >= sizeof(path))
		return USERDB_E_INVALID;
	if (stat(path, &st) == 0) {
		pthread_mutex_lock(&nss_oauth2_snap_lock);
		sn = nss_oauth2_cur;
		if (sn != NULL && nss_oauth2_same(&sn->st, &st)) {
			sn->refs++;
			*db = sn->db;
			*h = sn;
		}
		pthread_mutex_unlock(&nss_oauth2_snap_lock);
		if (*h != NULL)
			return 0;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return userdb_open(NULL, db);   /* empty, not shared */
		return errno == ELOOP ? USERDB_E_UNSAFE : USERDB_E_IO;
	}
	sn = calloc(1, sizeof(*sn));
	if (sn == NULL) {
		close(fd);
		return USERDB_E_NOMEM;
	}
	/* the key is the opened file's own fstat: a replace between the
	 * stat above and the open cannot pair one file's key with another */
	rc = fstat(fd, &sn->st) == 0 ? userdb_open_fd(fd, &sn->db) : USERDB_E_IO;
	close(fd);
	if (rc != 0) {
		free(sn);
		return rc;
	}
	sn->refs = 2;   /* the caller's and the current one's */
	pthread_mutex_lock(&nss_oauth2_snap_lock);
	nss_oauth2_unref(nss_oauth2_cur);
	nss_oauth2_cur = sn;
	pthread_mutex_unlock(&nss_oauth2_snap_lock);
	*db = sn->db;
	*h = sn;
	return 0;
}

static void
nss_oauth2_snap_put(struct nss_oauth2_snap *h, struct userdb **db)
{
	if (h == NULL) {
		userdb_close(db);
		return;
	}
	pthread_mutex_lock(&nss_oauth2_snap_lock);
	nss_oauth2_unref(h);
	pthread_mutex_unlock(&nss_oauth2_snap_lock);
	*db = NULL;
}

/* ---------------------------------------------------------------- settings */

/*
 * The settings file, read once per version of it: a missed getpwnam in
 * a root process needs provision_names, and rereading the file each
 * time cost an open, a read and a parse.  The key is the path's lstat
 * (device, inode, size, mtime, ctime, mode, owner: a chmod that makes
 * the file unsafe changes ctime and mode, a rename or a link in its
 * place the inode), taken before the file is read, so a change during
 * the read leaves a key that no longer matches.  A file changed within
 * NSS_OAUTH2_CONF_RACY seconds of the read is not kept: an edit in the
 * same timestamp tick that kept the size would not change the key.  A
 * failed read is kept like a good one (it is the file's content that
 * failed), except for out of memory.  Shared, reference counted, never
 * changed once made: a thread uses its settings outside the mutex.
 */
#define NSS_OAUTH2_CONF_RACY 2

struct nss_oauth2_conf {
	struct userdb_settings s;
	int rc;          /* userdb_settings_load's answer */
	struct stat st;
	unsigned refs;   /* users, + 1 while it is the current one */
};

static struct nss_oauth2_conf *nss_oauth2_conf_cur;
static pthread_mutex_t nss_oauth2_conf_lock = PTHREAD_MUTEX_INITIALIZER;

/* Drop one reference (called with the lock held, or on one never shared). */
static void
nss_oauth2_conf_unref(struct nss_oauth2_conf *c)
{
	if (c != NULL && --c->refs == 0) {
		userdb_settings_free(&c->s);
		free(c);
	}
}

/* Is t within NSS_OAUTH2_CONF_RACY seconds of now (or after it)? */
static bool
nss_oauth2_conf_racy(const struct timespec *t, const struct timespec *now)
{
	return t->tv_sec >= now->tv_sec - NSS_OAUTH2_CONF_RACY;
}

/* The settings in force into *out (NULL: no memory).  End with
 * nss_oauth2_conf_put. */
static void
nss_oauth2_conf_get(struct nss_oauth2_conf **out)
{
	const char *path = userdb_conf_path();
	struct nss_oauth2_conf *c;
	struct timespec now;
	struct stat st;
	bool keyed;

	*out = NULL;
	memset(&st, 0, sizeof(st));
	keyed = lstat(path, &st) == 0;
	if (keyed) {
		pthread_mutex_lock(&nss_oauth2_conf_lock);
		c = nss_oauth2_conf_cur;
		if (c != NULL && nss_oauth2_same(&c->st, &st)) {
			c->refs++;
			*out = c;
		}
		pthread_mutex_unlock(&nss_oauth2_conf_lock);
		if (*out != NULL)
			return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	c->st = st;
	c->rc = userdb_settings_load(path, &c->s, NULL, 0);
	c->refs = 1;
	*out = c;
	/* no file (all defaults) is looked at again each time */
	if (!keyed || c->rc == USERDB_E_NOMEM ||
	    clock_gettime(CLOCK_REALTIME, &now) != 0 ||
	    nss_oauth2_conf_racy(&st.st_mtim, &now) ||
	    nss_oauth2_conf_racy(&st.st_ctim, &now))
		return;
	c->refs = 2;
	pthread_mutex_lock(&nss_oauth2_conf_lock);
	nss_oauth2_conf_unref(nss_oauth2_conf_cur);
	nss_oauth2_conf_cur = c;
	pthread_mutex_unlock(&nss_oauth2_conf_lock);
}

static void
nss_oauth2_conf_put(struct nss_oauth2_conf **c)
{
	if (*c == NULL)
		return;
	pthread_mutex_lock(&nss_oauth2_conf_lock);
	nss_oauth2_conf_unref(*c);
	pthread_mutex_unlock(&nss_oauth2_conf_lock);
	*c = NULL;
}

/* ---------------------------------------------------------------- placeholder */

#define NSS_OAUTH2_MEMO 8
#define NSS_OAUTH2_MEMO_PATH 1024

/* The placeholders this process was served, newest first. */
struct nss_oauth2_memo {
	char name[USERDB_NAME_MAX + 1];
	char home[NSS_OAUTH2_MEMO_PATH];
	char shell[NSS_OAUTH2_MEMO_PATH];
	uint32_t uid;
	bool used;
};

static struct nss_oauth2_memo nss_oauth2_memo[NSS_OAUTH2_MEMO];
static pthread_mutex_t nss_oauth2_memo_lock = PTHREAD_MUTEX_INITIALIZER;

/* Copy the memo of name into *out; true if there is one. */
static bool
nss_oauth2_memo_get(const char *name, struct nss_oauth2_memo *out)
{
	bool found = false;

	pthread_mutex_lock(&nss_oauth2_memo_lock);
	for (int i = 0; i < NSS_OAUTH2_MEMO && nss_oauth2_memo[i].used; i++) {
		if (strcmp(nss_oauth2_memo[i].name, name) == 0) {
			*out = nss_oauth2_memo[i];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&nss_oauth2_memo_lock);
	return found;
}

static void
nss_oauth2_memo_put(const struct nss_oauth2_memo *m)
{
	pthread_mutex_lock(&nss_oauth2_memo_lock);
	memmove(&nss_oauth2_memo[1], &nss_oauth2_memo[0],
	    (NSS_OAUTH2_MEMO - 1) * sizeof(nss_oauth2_memo[0]));
	nss_oauth2_memo[0] = *m;
	nss_oauth2_memo[0].used = true;
	pthread_mutex_unlock(&nss_oauth2_memo_lock);
}

/*
 * Is the caller sshd?  Not AT_SECURE (no setuid/setgid/capability
 * program), real and effective UID 0, and the kernel's name of the
 * running binary is one of placeholder_programs.  An ordinary user can
 * run sshd, but not as root; root running something else is not sshd.
 */
static bool
nss_oauth2_caller_ok(const struct userdb_settings *s)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (getauxval(AT_SECURE) != 0 || getuid() != 0 || geteuid() != 0)
		return false;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0 || (size_t)n >= sizeof(exe) - 1)
		return false;
	exe[n] = '\0';
	for (size_t i = 0; i < s->nprograms; i++)
		if (strcmp(s->programs[i], exe) == 0)
			return true;
	return false;
}

/* A new placeholder for name into *m; false when none is due. */
static bool
nss_oauth2_placeholder(const struct userdb *db, const char *name,
    struct nss_oauth2_memo *m)
{
	struct nss_oauth2_conf *c = NULL;
	const struct userdb_settings *s;
	bool ok = false;
	uint32_t uid;

	/* the cheap half of the caller check first: most callers never
	 * read the settings file */
	if (!userdb_name_ok(name) || getauxval(AT_SECURE) != 0 ||
	    getuid() != 0 || geteuid() != 0)
		return false;
	nss_oauth2_conf_get(&c);
	if (c == NULL || c->rc != 0)
		goto out;
	s = &c->s;
	if (s->nnames == 0 || !userdb_settings_match(s, name) ||
	    !nss_oauth2_caller_ok(s) ||
	    strlen(s->shell) >= sizeof(m->shell) ||
	    userdb_settings_home(s, name, m->home, sizeof(m->home)) != 0 ||
	    userdb_predict_uid(db, s, &uid) != 0 || uid == 0)
		goto out;
	if ((size_t)snprintf(m->name, sizeof(m->name), "%s", name) >=
	    sizeof(m->name))
		goto out;
	(void)snprintf(m->shell, sizeof(m->shell), "%s", s->shell);
	m->uid = uid;
	ok = true;
out:
	nss_oauth2_conf_put(&c);
	return ok;
}

/* ---------------------------------------------------------------- passwd */

enum nss_status
_nss_oauth2_getpwnam_r(const char *name, struct passwd *pw, char *buf,
    size_t buflen, int *errnop)
{
	struct nss_oauth2_memo m;
	struct nss_oauth2_snap *h = NULL;
	struct userdb *db = NULL;
	struct userdb_user u;
	enum nss_status st;
	int saved = errno, rc;
	bool memo;

	if (name == NULL || name[0] == '\0' ||
	    strlen(name) > USERDB_NAME_MAX) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	rc = nss_oauth2_snap_get(&db, &h);
	if (rc != 0)
		return nss_oauth2_status(rc, errnop);
	rc = userdb_by_name(db, name, &u);
	memo = nss_oauth2_memo_get(name, &m);
	/* What sshd was served stays what it is served: the PAM side
	 * compares it with the record (userdb.h, "placeholder"). */
	if (memo && !(rc == 0 && u.uid == m.uid)) {
		st = nss_oauth2_fill_pw(m.name, m.uid, "", m.home, m.shell, pw,
		    buf, buflen, errnop);
	} else if (rc == 0) {
		st = nss_oauth2_fill_pw(u.name, u.uid, u.gecos, u.home, u.shell,
		    pw, buf, buflen, errnop);
	} else if (rc == USERDB_E_NOTFOUND &&
	    nss_oauth2_placeholder(db, name, &m)) {
		nss_oauth2_memo_put(&m);
		st = nss_oauth2_fill_pw(m.name, m.uid, "", m.home, m.shell, pw,
		    buf, buflen, errnop);
	} else {
		st = nss_oauth2_status(rc, errnop);
	}
	nss_oauth2_snap_put(h, &db);
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}

enum nss_status
_nss_oauth2_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
    int *errnop)
{
	struct nss_oauth2_snap *h = NULL;
	struct userdb *db = NULL;
	struct userdb_user u;
	enum nss_status st;
	int saved = errno, rc;

	rc = nss_oauth2_snap_get(&db, &h);
	if (rc == 0)
		rc = userdb_by_uid(db, (uint32_t)uid, &u);
	if (rc == 0)
		st = nss_oauth2_fill_pw(u.name, u.uid, u.gecos, u.home, u.shell,
		    pw, buf, buflen, errnop);
	else
		st = nss_oauth2_status(rc, errnop);
	nss_oauth2_snap_put(h, &db);
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}

/* ---------------------------------------------------------------- group */

enum nss_status
_nss_oauth2_getgrnam_r(const char *name, struct group *gr, char *buf,
    size_t buflen, int *errnop)
{
	struct nss_oauth2_snap *h = NULL;
	struct userdb *db = NULL;
	struct userdb_user u;
	enum nss_status st;
	int saved = errno, rc;

	if (name == NULL || name[0] == '\0') {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	rc = nss_oauth2_snap_get(&db, &h);
	if (rc == 0)
		rc = userdb_by_name(db, name, &u);
	if (rc == 0)
		st = nss_oauth2_fill_gr(&u, gr, buf, buflen, errnop);
	else
		st = nss_oauth2_status(rc, errnop);
	nss_oauth2_snap_put(h, &db);
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}

enum nss_status
_nss_oauth2_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen,
    int *errnop)
{
	struct nss_oauth2_snap *h = NULL;
	struct userdb *db = NULL;
	struct userdb_user u;
	enum nss_status st;
	int saved = errno, rc;

	rc = nss_oauth2_snap_get(&db, &h);
	if (rc == 0)
		rc = userdb_by_gid(db, (uint32_t)gid, &u);
	if (rc == 0)
		st = nss_oauth2_fill_gr(&u, gr, buf, buflen, errnop);
	else
		st = nss_oauth2_status(rc, errnop);
	nss_oauth2_snap_put(h, &db);
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}

/*
 * The user's mapped supplementary GIDs from the last login, appended to
 * *groupsp as glibc's initgroups/getgrouplist expect: *start entries used
 * of *size, grown (realloc) up to limit when limit > 0; the primary group
 * and GIDs already listed are skipped.
 */
enum nss_status
_nss_oauth2_initgroups_dyn(const char *user, gid_t group, long int *start,
    long int *size, gid_t **groupsp, long int limit, int *errnop)
{
	struct nss_oauth2_snap *h = NULL;
	struct userdb *db = NULL;
	struct userdb_user u;
	enum nss_status st = NSS_STATUS_SUCCESS;
	int saved = errno, rc;

	if (user == NULL) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	rc = nss_oauth2_snap_get(&db, &h);
	if (rc == 0)
		rc = userdb_by_name(db, user, &u);
	if (rc != 0) {
		st = nss_oauth2_status(rc, errnop);
		goto out;
	}
	for (size_t i = 0; i < u.ngroups; i++) {
		gid_t g = u.groups[i];
		bool dup = g == group;

		for (long j = 0; j < *start && !dup; j++)
			dup = (*groupsp)[j] == g;
		if (dup)
			continue;
		if (*start == *size) {
			long int nsize;
			gid_t *ng;

			if (limit > 0 && *size >= limit)
				break;
			nsize = *size > 0 ? 2 * *size : 8;
			if (limit > 0 && nsize > limit)
				nsize = limit;
			ng = realloc(*groupsp, (size_t)nsize * sizeof(**groupsp));
			if (ng == NULL) {
				*errnop = ENOMEM;
				st = NSS_STATUS_TRYAGAIN;
				goto out;
			}
			*groupsp = ng;
			*size = nsize;
		}
		(*groupsp)[(*start)++] = g;
	}
out:
	nss_oauth2_snap_put(h, &db);
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}

/* ---------------------------------------------------------------- enumeration */

struct nss_oauth2_ent {
	pthread_mutex_t lock;
	struct userdb *db;
	size_t pos;
};

static struct nss_oauth2_ent nss_oauth2_pwent = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };
static struct nss_oauth2_ent nss_oauth2_grent = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };

static enum nss_status
nss_oauth2_ent_set(struct nss_oauth2_ent *e)
{
	enum nss_status st = NSS_STATUS_SUCCESS;
	int saved = errno, rc, err = 0;

	pthread_mutex_lock(&e->lock);
	userdb_close(&e->db);
	e->pos = 0;
	rc = userdb_open(NULL, &e->db);
	if (rc != 0)
		st = nss_oauth2_status(rc, &err);
	pthread_mutex_unlock(&e->lock);
	errno = st == NSS_STATUS_SUCCESS ? saved : err;
	return st;
}

static enum nss_status
nss_oauth2_ent_end(struct nss_oauth2_ent *e)
{
	pthread_mutex_lock(&e->lock);
	userdb_close(&e->db);
	e->pos = 0;
	pthread_mutex_unlock(&e->lock);
	return NSS_STATUS_SUCCESS;
}

/* The next live record of the enumeration into *u (position kept until
 * nss_oauth2_ent_next's caller advances it).  Called with e->lock. */
static int
nss_oauth2_ent_peek(struct nss_oauth2_ent *e, struct userdb_user *u)
{
	int rc;

	if (e->db == NULL) {
		rc = userdb_open(NULL, &e->db);
		if (rc != 0)
			return rc;
		e->pos = 0;
	}
	for (;;) {
		rc = userdb_get(e->db, e->pos, u);
		if (rc != 0)
			return rc;
		if (!(u->flags & USERDB_TOMBSTONE))
			return 0;
		e->pos++;
	}
}

enum nss_status
_nss_oauth2_setpwent(int stayopen)
{
	(void)stayopen;
	return nss_oauth2_ent_set(&nss_oauth2_pwent);
}

enum nss_status
_nss_oauth2_endpwent(void)
{
	return nss_oauth2_ent_end(&nss_oauth2_pwent);
}

enum nss_status
_nss_oauth2_getpwent_r(struct passwd *pw, char *buf, size_t buflen,
    int *errnop)
{
	struct nss_oauth2_ent *e = &nss_oauth2_pwent;
	struct userdb_user u;
	enum nss_status st;
	int saved = errno, rc;

	pthread_mutex_lock(&e->lock);
	rc = nss_oauth2_ent_peek(e, &u);
	if (rc == 0) {
		st = nss_oauth2_fill_pw(u.name, u.uid, u.gecos, u.home, u.shell,
		    pw, buf, buflen, errnop);
		if (st == NSS_STATUS_SUCCESS)
			e->pos++;
	} else {
		st = nss_oauth2_status(rc, errnop);
	}
	pthread_mutex_unlock(&e->lock);
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}

enum nss_status
_nss_oauth2_setgrent(int stayopen)
{
	(void)stayopen;
	return nss_oauth2_ent_set(&nss_oauth2_grent);
}

enum nss_status
_nss_oauth2_endgrent(void)
{
	return nss_oauth2_ent_end(&nss_oauth2_grent);
}

enum nss_status
_nss_oauth2_getgrent_r(struct group *gr, char *buf, size_t buflen,
    int *errnop)
{
	struct nss_oauth2_ent *e = &nss_oauth2_grent;
	struct userdb_user u;
	enum nss_status st;
	int saved = errno, rc;

	pthread_mutex_lock(&e->lock);
	rc = nss_oauth2_ent_peek(e, &u);
	if (rc == 0) {
		st = nss_oauth2_fill_gr(&u, gr, buf, buflen, errnop);
		if (st == NSS_STATUS_SUCCESS)
			e->pos++;
	} else {
		st = nss_oauth2_status(rc, errnop);
	}
	pthread_mutex_unlock(&e->lock);
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}

/* ---------------------------------------------------------------- fork */

/* Every mutex of the module is taken across fork(), so the child never
 * inherits one held by a thread that does not exist there. */
static void
nss_oauth2_prefork(void)
{
	pthread_mutex_lock(&nss_oauth2_pwent.lock);
	pthread_mutex_lock(&nss_oauth2_grent.lock);
	pthread_mutex_lock(&nss_oauth2_memo_lock);
	pthread_mutex_lock(&nss_oauth2_conf_lock);
	pthread_mutex_lock(&nss_oauth2_snap_lock);
}

static void
nss_oauth2_postfork(void)
{
	pthread_mutex_unlock(&nss_oauth2_snap_lock);
	pthread_mutex_unlock(&nss_oauth2_conf_lock);
	pthread_mutex_unlock(&nss_oauth2_memo_lock);
	pthread_mutex_unlock(&nss_oauth2_grent.lock);
	pthread_mutex_unlock(&nss_oauth2_pwent.lock);
}

__attribute__((constructor)) static void
nss_oauth2_init(void)
{
	(void)pthread_atfork(nss_oauth2_prefork, nss_oauth2_postfork,
	    nss_oauth2_postfork);
}
