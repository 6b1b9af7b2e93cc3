/*
 * test_nss.c - the NSS entry points of src/nss_oauth2.c called directly
 * (as glibc calls them) against a scratch database: the fields, ERANGE
 * and the retry with a bigger buffer, unknown names/UIDs/GIDs, an unsafe
 * database, enumeration, initgroups_dyn, the sshd placeholder rules, and
 * a writer replacing the database while threads and a forked child look
 * users up.  Linked with tests/lib/userdb_envpaths.c (OA2_USERDB_DIR,
 * OA2_USERDB_CONF).  Runs as root.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "userdb.h"

enum nss_status _nss_oauth2_getpwnam_r(const char *, struct passwd *, char *,
    size_t, int *);
enum nss_status _nss_oauth2_getpwuid_r(uid_t, struct passwd *, char *, size_t,
    int *);
enum nss_status _nss_oauth2_setpwent(int);
enum nss_status _nss_oauth2_getpwent_r(struct passwd *, char *, size_t, int *);
enum nss_status _nss_oauth2_endpwent(void);
enum nss_status _nss_oauth2_getgrnam_r(const char *, struct group *, char *,
    size_t, int *);
enum nss_status _nss_oauth2_getgrgid_r(gid_t, struct group *, char *, size_t,
    int *);
enum nss_status _nss_oauth2_setgrent(int);
enum nss_status _nss_oauth2_getgrent_r(struct group *, char *, size_t, int *);
enum nss_status _nss_oauth2_endgrent(void);
enum nss_status _nss_oauth2_initgroups_dyn(const char *, gid_t, long int *,
    long int *, gid_t **, long int, int *);

#define A USERDB_UID_MIN_DEFAULT

/* The settings reads of the module: userdb_settings_load is wrapped at
 * link time (-Wl,--wrap, Makefile.am) to count them. */
static volatile long conf_loads;
int __real_userdb_settings_load(const char *, struct userdb_settings *,
    char *, size_t);
int __wrap_userdb_settings_load(const char *, struct userdb_settings *,
    char *, size_t);

int
__wrap_userdb_settings_load(const char *path, struct userdb_settings *s,
    char *err, size_t errlen)
{
	__atomic_add_fetch(&conf_loads, 1, __ATOMIC_RELAXED);
	return __real_userdb_settings_load(path, s, err, errlen);
}

static char scratch[] = "/tmp/oa2-test-nss.XXXXXX";
static char dbdir[128], conf[128];

static void
cleanup(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", scratch);
}

static void
write_conf(const char *text)
{
	FILE *f = fopen(conf, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", conf);
		exit(1);
	}
	chmod(conf, 0644);
}

static int
add_user(const char *name, const char *sub, uint32_t uid, const uint32_t *g,
    size_t ng)
{
	struct userdb_txn *t = NULL;
	struct userdb_new n;
	int rc;

	memset(&n, 0, sizeof(n));
	n.name = name;
	n.gecos = "Gecos Field";
	n.home = "/home/provisioned";
	n.shell = "/bin/bash";
	n.issuer = "https://idp.test";
	n.sub = sub;
	n.uid = uid;
	n.now = 1;
	n.groups = g;
	n.ngroups = ng;
	rc = userdb_begin(dbdir, &t);
	if (rc == 0)
		rc = userdb_txn_add(t, &n);
	if (rc == 0)
		return userdb_commit(&t);
	userdb_abort(&t);
	return rc;
}

static int
remove_user(const char *name)
{
	struct userdb_txn *t = NULL;
	int rc = userdb_begin(dbdir, &t);

	if (rc == 0)
		rc = userdb_txn_remove(t, name, 2);
	if (rc == 0)
		return userdb_commit(&t);
	userdb_abort(&t);
	return rc;
}

static void
test_passwd(void)
{
	struct passwd pw;
	char buf[1024];
	int err = 0;
	enum nss_status st;
	size_t need = 0;

	st = _nss_oauth2_getpwnam_r("alice", &pw, buf, sizeof(buf), &err);
	is_int(st, NSS_STATUS_SUCCESS, "getpwnam alice");
	is_str(pw.pw_name, "alice", "pw_name");
	is_str(pw.pw_passwd, "*", "pw_passwd: no password login through NSS");
	is_int(pw.pw_uid, A, "pw_uid");
	is_int(pw.pw_gid, A, "pw_gid = the private group");
	is_str(pw.pw_gecos, "Gecos Field", "pw_gecos");
	is_str(pw.pw_dir, "/home/provisioned", "pw_dir");
	is_str(pw.pw_shell, "/bin/bash", "pw_shell");

	/* every buffer size up to the one that fits: ERANGE, then success */
	for (size_t len = 0; len < sizeof(buf); len++) {
		err = 0;
		st = _nss_oauth2_getpwnam_r("alice", &pw, buf, len, &err);
		if (st == NSS_STATUS_SUCCESS) {
			need = len;
			break;
		}
		if (st != NSS_STATUS_TRYAGAIN || err != ERANGE) {
			ok(0, "size %zu: status %d errno %d", len, st, err);
			break;
		}
	}
	is_int(need, strlen("alice") + strlen("*") + strlen("Gecos Field") +
	    strlen("/home/provisioned") + strlen("/bin/bash") + 5,
	    "TRYAGAIN/ERANGE below the exact size, success at it");
	is_str(pw.pw_shell, "/bin/bash", "the retry filled the entry");
	err = 0;
	st = _nss_oauth2_getpwuid_r(A, &pw, buf, 10, &err);
	ok(st == NSS_STATUS_TRYAGAIN && err == ERANGE, "getpwuid small buffer: ERANGE");
	st = _nss_oauth2_getpwuid_r(A, &pw, buf, sizeof(buf), &err);
	ok(st == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, "alice") == 0,
	    "getpwuid retry with a bigger buffer");

	err = 0;
	st = _nss_oauth2_getpwnam_r("mallory", &pw, buf, sizeof(buf), &err);
	ok(st == NSS_STATUS_NOTFOUND && err == ENOENT, "unknown name: NOTFOUND/ENOENT");
	st = _nss_oauth2_getpwuid_r(A + 77, &pw, buf, sizeof(buf), &err);
	ok(st == NSS_STATUS_NOTFOUND && err == ENOENT, "unknown uid: NOTFOUND/ENOENT");
	st = _nss_oauth2_getpwuid_r(0, &pw, buf, sizeof(buf), &err);
	is_int(st, NSS_STATUS_NOTFOUND, "uid 0 not served");
	st = _nss_oauth2_getpwnam_r("", &pw, buf, sizeof(buf), &err);
	is_int(st, NSS_STATUS_NOTFOUND, "empty name");
	st = _nss_oauth2_getpwnam_r("carol", &pw, buf, sizeof(buf), &err);
	is_int(st, NSS_STATUS_NOTFOUND, "removed user (tombstone) not by name");
	st = _nss_oauth2_getpwuid_r(A + 2, &pw, buf, sizeof(buf), &err);
	is_int(st, NSS_STATUS_NOTFOUND, "nor by uid");
	errno = 12345;
	st = _nss_oauth2_getpwnam_r("bob", &pw, buf, sizeof(buf), &err);
	ok(st == NSS_STATUS_SUCCESS && errno == 12345, "errno untouched on success");
}

static void
test_group(void)
{
	struct group gr;
	char buf[256];
	int err = 0;
	enum nss_status st;
	bool retry_ok = true;

	st = _nss_oauth2_getgrnam_r("alice", &gr, buf, sizeof(buf), &err);
	is_int(st, NSS_STATUS_SUCCESS, "getgrnam alice (private group)");
	is_str(gr.gr_name, "alice", "gr_name");
	is_int(gr.gr_gid, A, "gr_gid = uid");
	ok(gr.gr_mem != NULL && gr.gr_mem[0] == NULL, "a private group lists no members");
	st = _nss_oauth2_getgrgid_r(A + 1, &gr, buf, sizeof(buf), &err);
	ok(st == NSS_STATUS_SUCCESS && strcmp(gr.gr_name, "bob") == 0, "getgrgid bob");
	st = _nss_oauth2_getgrgid_r(A + 2, &gr, buf, sizeof(buf), &err);
	is_int(st, NSS_STATUS_NOTFOUND, "tombstone's group not served");
	st = _nss_oauth2_getgrgid_r(27, &gr, buf, sizeof(buf), &err);
	ok(st == NSS_STATUS_NOTFOUND && err == ENOENT, "a mapped (system) gid is not ours");
	st = _nss_oauth2_getgrnam_r("nogroup-here", &gr, buf, sizeof(buf), &err);
	is_int(st, NSS_STATUS_NOTFOUND, "unknown group name");
	/* unaligned buffers of every small size */
	for (size_t len = 0; len < 40; len++) {
		err = 0;
		st = _nss_oauth2_getgrgid_r(A, &gr, buf + 1, len, &err);
		if (st == NSS_STATUS_SUCCESS) {
			retry_ok = retry_ok && strcmp(gr.gr_name, "alice") == 0 &&
			    gr.gr_mem[0] == NULL &&
			    ((uintptr_t)gr.gr_mem % sizeof(char *)) == 0;
			break;
		}
		retry_ok = retry_ok && st == NSS_STATUS_TRYAGAIN && err == ERANGE;
	}
	ok(retry_ok && st == NSS_STATUS_SUCCESS,
	    "getgrgid: ERANGE until it fits, then an aligned member list");
}

static void
test_initgroups(void)
{
	long start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	int err = 0;
	enum nss_status st;

	groups[0] = A + 1;
	/* bob's groups: 27, 100, A+1 (his own primary, skipped), 27 (dup) */
	st = _nss_oauth2_initgroups_dyn("bob", A + 1, &start, &size, &groups, 0, &err);
	is_int(st, NSS_STATUS_SUCCESS, "initgroups bob");
	is_int(start, 3, "primary + 2 mapped groups (primary and duplicate skipped)");
	ok(start == 3 && groups[1] == 27 && groups[2] == 100, "the mapped GIDs in order");
	ok(size >= start, "the array grew (%ld)", size);
	free(groups);

	start = 1;
	size = 1;
	groups = malloc(sizeof(gid_t));
	groups[0] = A + 1;
	st = _nss_oauth2_initgroups_dyn("bob", A + 1, &start, &size, &groups, 2, &err);
	ok(st == NSS_STATUS_SUCCESS && start == 2 && size == 2, "limit 2 respected");
	free(groups);

	start = 0;
	size = 0;
	groups = NULL;
	st = _nss_oauth2_initgroups_dyn("alice", A, &start, &size, &groups, 0, &err);
	ok(st == NSS_STATUS_SUCCESS && start == 0, "alice: no mapped group");
	st = _nss_oauth2_initgroups_dyn("mallory", 100, &start, &size, &groups, 0, &err);
	is_int(st, NSS_STATUS_NOTFOUND, "initgroups of an unknown user");
	free(groups);
}

static void
test_enumeration(void)
{
	struct passwd pw;
	struct group gr;
	char buf[512];
	int err = 0, n = 0, erange = 0;
	enum nss_status st;
	char names[256] = "";

	is_int(_nss_oauth2_setpwent(0), NSS_STATUS_SUCCESS, "setpwent");
	for (;;) {
		st = _nss_oauth2_getpwent_r(&pw, buf, 8, &err);
		if (st == NSS_STATUS_TRYAGAIN && err == ERANGE)
			erange++;
		st = _nss_oauth2_getpwent_r(&pw, buf, sizeof(buf), &err);
		if (st != NSS_STATUS_SUCCESS)
			break;
		n++;
		strncat(names, pw.pw_name, sizeof(names) - strlen(names) - 2);
		strcat(names, " ");
	}
	ok(st == NSS_STATUS_NOTFOUND && err == ENOENT, "enumeration ends with NOTFOUND");
	is_str(names, "alice bob dan ", "every live user once, in uid order, tombstone skipped");
	is_int(erange, 3, "an ERANGE does not advance the enumeration");
	is_int(_nss_oauth2_getpwent_r(&pw, buf, sizeof(buf), &err), NSS_STATUS_NOTFOUND,
	    "stays at the end");
	_nss_oauth2_setpwent(0);
	ok(_nss_oauth2_getpwent_r(&pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS &&
	    strcmp(pw.pw_name, "alice") == 0, "setpwent rewinds");
	is_int(_nss_oauth2_endpwent(), NSS_STATUS_SUCCESS, "endpwent");

	n = 0;
	_nss_oauth2_setgrent(0);
	while (_nss_oauth2_getgrent_r(&gr, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS) {
		n++;
		if (gr.gr_mem[0] != NULL || gr.gr_gid < A)
			n = -100;
	}
	_nss_oauth2_endgrent();
	is_int(n, 3, "getgrent: three private groups, no members");
	/* getpwent without setpwent starts at the beginning too */
	ok(_nss_oauth2_getpwent_r(&pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS &&
	    strcmp(pw.pw_name, "alice") == 0, "getpwent after endpwent starts over");
	_nss_oauth2_endpwent();
}

static void
test_unsafe(void)
{
	struct passwd pw;
	char buf[512], path[200];
	int err = 0;
	enum nss_status st;

	snprintf(path, sizeof(path), "%s/users.db", dbdir);
	chmod(path, 0666);
	st = _nss_oauth2_getpwnam_r("alice", &pw, buf, sizeof(buf), &err);
	ok(st == NSS_STATUS_UNAVAIL && err == EIO, "world-writable users.db: UNAVAIL/EIO");
	st = _nss_oauth2_getpwuid_r(A, &pw, buf, sizeof(buf), &err);
	is_int(st, NSS_STATUS_UNAVAIL, "getpwuid too");
	is_int(_nss_oauth2_setpwent(0), NSS_STATUS_UNAVAIL, "setpwent too");
	_nss_oauth2_endpwent();
	chmod(path, 0644);
	setenv("OA2_USERDB_DIR", "/nonexistent-oa2", 1);
	st = _nss_oauth2_getpwnam_r("alice", &pw, buf, sizeof(buf), &err);
	ok(st == NSS_STATUS_NOTFOUND && err == ENOENT, "no database: NOTFOUND (empty)");
	setenv("OA2_USERDB_DIR", dbdir, 1);
}

static bool
placeholder_of(const char *name, struct passwd *pw, char *buf, size_t len)
{
	int err = 0;

	return _nss_oauth2_getpwnam_r(name, pw, buf, len, &err) == NSS_STATUS_SUCCESS;
}

static void
test_placeholder(void)
{
	struct userdb_settings s;
	struct userdb *db = NULL;
	struct passwd pw;
	struct group gr;
	char buf[1024], exe[PATH_MAX], text[PATH_MAX + 200], err[200];
	uint32_t predicted = 0;
	long start = 0, size = 0;
	gid_t *groups = NULL;
	int e = 0;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		printf("Bail out! readlink /proc/self/exe\n");
		exit(1);
	}
	exe[n] = '\0';
	/* not the calling program: no placeholder */
	write_conf("provision_names = new* *@corp.example\nhome = /home/%u\n"
	    "shell = /bin/bash\n");
	ok(!placeholder_of("newbie0", &pw, buf, sizeof(buf)),
	    "placeholder_programs (sshd) does not list this program: none");
	snprintf(text, sizeof(text), "provision_names = new* *@corp.example\n"
	    "home = /home/%%u\nshell = /bin/bash\nplaceholder_programs = /usr/sbin/sshd %s\n",
	    exe);
	write_conf(text);
	if (userdb_settings_load(conf, &s, err, sizeof(err)) != 0 ||
	    userdb_open(dbdir, &db) != 0 || userdb_predict_uid(db, &s, &predicted) != 0) {
		printf("Bail out! predict: %s\n", err);
		exit(1);
	}
	userdb_close(&db);
	userdb_settings_free(&s);
	ok(placeholder_of("newbie", &pw, buf, sizeof(buf)), "a matching name gets a placeholder");
	is_int(pw.pw_uid, predicted, "with the predicted uid (%u)", predicted);
	is_int(pw.pw_gid, predicted, "its own private gid, never 0");
	is_str(pw.pw_dir, "/home/newbie", "the home the record will get");
	is_str(pw.pw_shell, "/bin/bash", "the shell the record will get");
	is_str(pw.pw_gecos, "", "empty gecos");
	is_str(pw.pw_passwd, "*", "no password");
	is_int(_nss_oauth2_getpwuid_r(predicted, &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_NOTFOUND, "never served by uid");
	is_int(_nss_oauth2_getgrgid_r(predicted, &gr, buf, sizeof(buf), &e),
	    NSS_STATUS_NOTFOUND, "no group by gid");
	is_int(_nss_oauth2_getgrnam_r("newbie", &gr, buf, sizeof(buf), &e),
	    NSS_STATUS_NOTFOUND, "no group by name");
	is_int(_nss_oauth2_initgroups_dyn("newbie", predicted, &start, &size, &groups,
	    0, &e), NSS_STATUS_NOTFOUND, "no supplementary group");
	free(groups);
	ok(!placeholder_of("stranger", &pw, buf, sizeof(buf)),
	    "a name outside provision_names: none");
	ok(!placeholder_of("new:bie", &pw, buf, sizeof(buf)), "an invalid name: none");
	ok(placeholder_of("ann@corp.example", &pw, buf, sizeof(buf)) &&
	    pw.pw_uid == predicted, "second glob; the same prediction (nothing stored)");
	{
		char small[16];

		e = 0;
		ok(_nss_oauth2_getpwnam_r("newbie", &pw, small, sizeof(small), &e) ==
		    NSS_STATUS_TRYAGAIN && e == ERANGE, "placeholder: ERANGE too");
	}

	/* a forked child that is not root gets none */
	{
		pid_t pid = fork();
		int status = 0;

		if (pid == 0) {
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(3);
			_exit(placeholder_of("newbie2", &pw, buf, sizeof(buf)) ? 1 : 0);
		}
		waitpid(pid, &status, 0);
		is_int(WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0,
		    "a non-root caller gets no placeholder");
	}

	/* another user takes the number: this process keeps what it served */
	is_int(add_user("other", "sub-other", predicted, NULL, 0), 0, "a concurrent login takes it");
	ok(placeholder_of("newbie", &pw, buf, sizeof(buf)) && pw.pw_uid == predicted,
	    "newbie still sees the number it was served (stale: the PAM side refuses)");
	is_int(_nss_oauth2_getpwuid_r(predicted, &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_SUCCESS, "that uid now belongs to another name");
	is_str(pw.pw_name, "other", "which the PAM side sees by getpwuid");
	ok(placeholder_of("new2", &pw, buf, sizeof(buf)) && pw.pw_uid != predicted,
	    "a new name gets the next free number");
	{
		uint32_t p2 = pw.pw_uid;

		is_int(add_user("new2", "sub-new2", p2, NULL, 0), 0, "new2 provisioned on it");
		ok(placeholder_of("new2", &pw, buf, sizeof(buf)) && pw.pw_uid == p2 &&
		    strcmp(pw.pw_gecos, "Gecos Field") == 0,
		    "then the record is served (same uid as the placeholder)");
	}
	/* a conf sshd cannot trust: no placeholder */
	chmod(conf, 0666);
	ok(!placeholder_of("newbie9", &pw, buf, sizeof(buf)), "world-writable conf: none");
	chmod(conf, 0644);
	write_conf("provision_names = *\nbogus = 1\n");
	ok(!placeholder_of("newbie8", &pw, buf, sizeof(buf)), "conf with an error: none");
	remove_user("other");
	remove_user("new2");
}

/* ---------------------------------------------------------------- settings cache */

static volatile int conf_stop;
static long conf_wrong[4], conf_done[4];

static void *
conf_reader(void *arg)
{
	long i = (long)arg;
	char buf[1024], name[32];

	for (int k = 0; !conf_stop; k++) {
		struct passwd pw;

		snprintf(name, sizeof(name), "th%ld-%d", i, k % 50);
		if (!placeholder_of(name, &pw, buf, sizeof(buf)) ||
		    strcmp(pw.pw_name, name) != 0 || pw.pw_uid == 0)
			conf_wrong[i]++;
		conf_done[i]++;
	}
	return NULL;
}

/* The settings file is read once per version of it (its lstat: device,
 * inode, size, times, mode, owner), not at each missed getpwnam. */
static void
test_conf_cache(void)
{
	char buf[1024], exe[PATH_MAX], text[PATH_MAX + 200];
	struct passwd pw;
	pthread_t th[4];
	long before, bad = 0, total = 0;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		printf("Bail out! readlink /proc/self/exe\n");
		exit(1);
	}
	exe[n] = '\0';
	snprintf(text, sizeof(text), "provision_names = cache* th*\n"
	    "placeholder_programs = %s\n", exe);
	write_conf(text);
	/* a file changed in the last 2 s is read again at each miss (an
	 * edit within one timestamp tick would not change the key) */
	before = conf_loads;
	ok(placeholder_of("cache0a", &pw, buf, sizeof(buf)) &&
	    placeholder_of("cache0b", &pw, buf, sizeof(buf)),
	    "a fresh file: placeholders");
	is_int(conf_loads - before, 2, "a file changed just now is not kept: read twice");
	sleep(3);
	before = conf_loads;
	ok(placeholder_of("cache1", &pw, buf, sizeof(buf)), "cache1: a placeholder");
	ok(placeholder_of("cache2", &pw, buf, sizeof(buf)), "cache2: a placeholder");
	ok(placeholder_of("cache3", &pw, buf, sizeof(buf)), "cache3: a placeholder");
	ok(!placeholder_of("other1", &pw, buf, sizeof(buf)), "other1: none (no match)");
	is_int(conf_loads - before, 1, "four misses, one read of the settings");

	/* a forked child inherits the settings and their mutex */
	{
		pid_t pid = fork();
		int status = 0;

		if (pid == 0) {
			long b = conf_loads;
			bool got = placeholder_of("cache4", &pw, buf, sizeof(buf));

			_exit(got && conf_loads == b ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		is_int(WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0,
		    "a forked child: a placeholder, nothing read");
	}

	/* a new content is seen at once */
	snprintf(text, sizeof(text), "provision_names = other* th*\n"
	    "placeholder_programs = %s\n", exe);
	write_conf(text);
	before = conf_loads;
	ok(!placeholder_of("cache5", &pw, buf, sizeof(buf)), "changed file: cache5 none");
	ok(placeholder_of("other2", &pw, buf, sizeof(buf)), "changed file: other2 served");
	is_int(conf_loads - before, 2, "read again (new key, still fresh)");
	sleep(3);
	before = conf_loads;
	ok(placeholder_of("other3", &pw, buf, sizeof(buf)) &&
	    placeholder_of("other4", &pw, buf, sizeof(buf)), "other3, other4 served");
	is_int(conf_loads - before, 1, "then kept: one read");
	/* a chmod that makes it unsafe changes mode and ctime: read again */
	chmod(conf, 0664);
	before = conf_loads;
	ok(!placeholder_of("other5", &pw, buf, sizeof(buf)), "group-writable conf: none");
	is_int(conf_loads - before, 1, "the chmod made it read again");
	chmod(conf, 0644);
	ok(placeholder_of("other6", &pw, buf, sizeof(buf)), "0644 again: served");
	/* a link in its place (same target inode) is a new key, refused */
	{
		char real[200];

		snprintf(real, sizeof(real), "%s.real", conf);
		if (rename(conf, real) != 0 || symlink(real, conf) != 0) {
			printf("Bail out! symlink\n");
			exit(1);
		}
		ok(!placeholder_of("other7", &pw, buf, sizeof(buf)),
		    "a symbolic link in its place: none");
		unlink(conf);
		rename(real, conf);
	}
	/* gone: all defaults, no placeholder */
	{
		char away[200];

		snprintf(away, sizeof(away), "%s.away", conf);
		rename(conf, away);
		ok(!placeholder_of("other8", &pw, buf, sizeof(buf)), "no file: none");
		rename(away, conf);
	}

	/* four threads miss at once while the file is replaced ten times,
	 * then while it stays: fresh versions read at each miss, then one
	 * kept (installed by whichever thread gets there, shared by all) */
	conf_stop = 0;
	for (long i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, conf_reader, (void *)i);
	for (int k = 0; k < 10; k++) {
		char tmp[200];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.new", conf);
		f = fopen(tmp, "w");
		if (f == NULL)
			break;
		fprintf(f, "provision_names = th* other%d*\nplaceholder_programs = %s\n",
		    k, exe);
		fclose(f);
		chmod(tmp, 0644);
		rename(tmp, conf);
		usleep(100000);
	}
	usleep(3000000);
	before = conf_loads;
	usleep(300000);
	conf_stop = 1;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		bad += conf_wrong[i];
		total += conf_done[i];
	}
	is_int(bad, 0, "4 threads' misses (%ld) while the file was replaced 10 times, "
	    "then kept: all served", total);
	is_int(conf_loads - before, 0, "  at the end, reading nothing (the kept version)");
	write_conf("# no placeholders\n");
}

/* ---------------------------------------------------------------- concurrency */

static volatile int stop;
static long lookups[4], wrong[4];

static void *
reader(void *arg)
{
	long i = (long)arg;
	char buf[512];

	while (!stop) {
		struct passwd pw;
		long start = 0, size = 0;
		gid_t *g = NULL;
		int err = 0;

		if (_nss_oauth2_getpwnam_r("alice", &pw, buf, sizeof(buf), &err) !=
		    NSS_STATUS_SUCCESS || pw.pw_uid != A)
			wrong[i]++;
		if (_nss_oauth2_getpwuid_r(A + 1, &pw, buf, sizeof(buf), &err) !=
		    NSS_STATUS_SUCCESS || strcmp(pw.pw_name, "bob") != 0)
			wrong[i]++;
		if (_nss_oauth2_initgroups_dyn("bob", A + 1, &start, &size, &g, 0,
		    &err) != NSS_STATUS_SUCCESS || start != 2)
			wrong[i]++;
		free(g);
		lookups[i] += 3;
	}
	return NULL;
}

static void
test_concurrent(void)
{
	pthread_t th[4];
	pid_t writer, child;
	int status = 0, wstatus = 0;
	long total = 0, bad = 0;

	/* 1500 more users, so that each replacement is a file of ~150 kB
	 * (a writer that rewrote it in place would be caught mid-write) */
	{
		struct userdb_txn *t = NULL;
		struct userdb_new n;
		char name[32];
		int rc = userdb_begin(dbdir, &t);

		memset(&n, 0, sizeof(n));
		n.gecos = "filler user with a longer gecos field to grow the file";
		n.home = "/home/filler";
		n.shell = "/bin/sh";
		n.issuer = "https://idp.test";
		for (int k = 0; k < 1500 && rc == 0; k++) {
			snprintf(name, sizeof(name), "filler%d", k);
			n.name = n.sub = name;
			n.uid = A + 10000 + (uint32_t)k;
			rc = userdb_txn_add(t, &n);
		}
		if (rc != 0 || userdb_commit(&t) != 0) {
			printf("Bail out! filler users\n");
			exit(1);
		}
	}
	writer = fork();
	if (writer == 0) {
		/* 120 replacements: new users, bob's groups rewritten */
		for (int k = 0; k < 60; k++) {
			struct userdb_txn *t = NULL;
			uint32_t g[] = { 27, 100 };
			char name[32];

			snprintf(name, sizeof(name), "c%d", k);
			if (add_user(name, name, A + 1000 + (uint32_t)k, NULL, 0) != 0)
				_exit(1);
			if (userdb_begin(dbdir, &t) != 0 ||
			    userdb_txn_touch(t, "bob", k, g, 2) != 0 ||
			    userdb_commit(&t) != 0)
				_exit(2);
		}
		_exit(0);
	}
	for (long i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, reader, (void *)i);
	/* a child forked while the threads run looks users up too */
	child = fork();
	if (child == 0) {
		char buf[512];
		long badc = 0;

		for (int k = 0; k < 3000; k++) {
			struct passwd pw;
			int err = 0;

			if (_nss_oauth2_getpwnam_r("alice", &pw, buf, sizeof(buf), &err) !=
			    NSS_STATUS_SUCCESS || pw.pw_uid != A)
				badc++;
		}
		_exit(badc == 0 ? 0 : 1);
	}
	waitpid(writer, &wstatus, 0);
	waitpid(child, &status, 0);
	stop = 1;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += lookups[i];
		bad += wrong[i];
	}
	is_int(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 99, 0,
	    "the writer made 120 commits (60 new users: a new file each; "
	    "60 touches of bob: in place after the first)");
	is_int(bad, 0, "%ld lookups in 4 threads during the replacements, all right", total);
	ok(total > 300, "the threads did look up (%ld)", total);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0,
	    "a child forked from the threaded process: 3000 lookups, all right");
	{
		/* the shared mapping follows the file and keeps no old one */
		char line[1024];
		int maps = 0;
		FILE *f = fopen("/proc/self/maps", "r");
		struct passwd pw;
		char buf[512];
		int err = 0;

		_nss_oauth2_getpwnam_r("c59", &pw, buf, sizeof(buf), &err);
		ok(pw.pw_uid == A + 1000 + 59, "the last writer's user is seen");
		while (f != NULL && fgets(line, sizeof(line), f) != NULL)
			maps += strstr(line, "/users.db") != NULL;
		if (f != NULL)
			fclose(f);
		is_int(maps, 1, "one mapping of users.db left after 120 replacements");
	}
}

int
main(void)
{
	uint32_t g[] = { 27, A + 1, 100, 27 };

	setvbuf(stdout, NULL, _IONBF, 0);
	if (geteuid() != 0) {
		printf("Bail out! run as root\n");
		return 1;
	}
	if (mkdtemp(scratch) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	chmod(scratch, 0755);
	atexit(cleanup);
	snprintf(dbdir, sizeof(dbdir), "%s/db", scratch);
	snprintf(conf, sizeof(conf), "%s/nss.conf", scratch);
	setenv("OA2_USERDB_DIR", dbdir, 1);
	setenv("OA2_USERDB_CONF", conf, 1);
	write_conf("# no placeholders\n");
	if (add_user("alice", "sub-a", A, NULL, 0) != 0 ||
	    add_user("bob", "sub-b", A + 1, g, 4) != 0 ||
	    add_user("carol", "sub-c", A + 2, NULL, 0) != 0 ||
	    remove_user("carol") != 0 ||
	    add_user("dan", "sub-d", A + 3, NULL, 0) != 0) {
		printf("Bail out! cannot build the test database\n");
		return 1;
	}
	test_passwd();
	test_group();
	test_initgroups();
	test_enumeration();
	test_unsafe();
	test_placeholder();
	test_conf_cache();
	test_concurrent();
	return tap_done();
}
