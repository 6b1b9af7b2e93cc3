/*
 * test_userdb.c - the provisioned-user database (src/userdb.c): settings
 * parser and file checks, names, round trip through a real file, atomic
 * replace, the allocator (collisions, exhaustion, reuse refused,
 * tombstones) and concurrent writers under the lock.
 *
 * Runs as root.  The allocator reads /etc/passwd, /etc/group, /etc/subuid
 * and /etc/subgid: the test enters a private mount namespace and binds a
 * scratch directory over /etc, so those files hold exactly what it wrote.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "userdb.h"

#define A USERDB_UID_MIN_DEFAULT

static char scratch[] = "/tmp/oa2-test-userdb.XXXXXX";
static char dbdir[128], etcdir[128];

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	chmod(path, mode);
}

static void
cleanup(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", scratch);
}

/* A private mount namespace with scratch/etc bound over /etc. */
static void
private_etc(const char *passwd, const char *group, const char *subuid)
{
	char p[200];

	snprintf(p, sizeof(p), "%s/passwd", etcdir);
	write_file(p, passwd, 0644);
	snprintf(p, sizeof(p), "%s/group", etcdir);
	write_file(p, group, 0644);
	snprintf(p, sizeof(p), "%s/subuid", etcdir);
	write_file(p, subuid, 0644);
	snprintf(p, sizeof(p), "%s/subgid", etcdir);
	write_file(p, "", 0644);
}

static struct userdb_new
user(const char *name, const char *sub, uint32_t uid)
{
	struct userdb_new n;

	memset(&n, 0, sizeof(n));
	n.name = name;
	n.gecos = "";
	n.home = "/home/x";
	n.shell = "/bin/sh";
	n.issuer = "https://idp.test";
	n.sub = sub;
	n.uid = uid;
	n.now = 1000;
	return n;
}

static void
test_settings(void)
{
	struct userdb_settings s;
	char err[200], home[64], path[200];
	const char *conf = "# shape\nuid_range = 1879048200-1879048300\n"
	    "provision_names = *@corp.example  bob\n home=/srv/home/%u%%x \n"
	    "shell = /bin/zsh\nplaceholder_programs = /usr/sbin/sshd\n";
	int rc;

	rc = userdb_settings_parse("", 0, &s, err, sizeof(err));
	is_int(rc, 0, "empty settings parse");
	is_int(s.uid_min, A, "default uid_min 0x70000000");
	is_int(s.uid_max, USERDB_UID_MAX_DEFAULT, "default uid_max");
	is_int(s.nnames, 0, "default provision_names empty");
	is_str(s.home, "/home/%u", "default home");
	is_str(s.shell, "/bin/bash", "default shell");
	is_int(s.nprograms, 2, "default placeholder programs: sshd and sshd-session");
	ok(!userdb_settings_match(&s, "alice"), "no name matches the default");
	userdb_settings_free(&s);

	rc = userdb_settings_parse(conf, strlen(conf), &s, err, sizeof(err));
	is_int(rc, 0, "a full settings file parses (%s)", rc ? err : "ok");
	is_int(s.uid_min, 1879048200, "uid_range min");
	is_int(s.uid_max, 1879048300, "uid_range max");
	is_int(s.nnames, 2, "two globs");
	ok(userdb_settings_match(&s, "ann@corp.example"), "glob matches");
	ok(userdb_settings_match(&s, "bob"), "literal matches");
	ok(!userdb_settings_match(&s, "bobby"), "literal is not a prefix");
	ok(!userdb_settings_match(&s, "ann@corp.example.evil"), "glob anchored");
	is_int(userdb_settings_home(&s, "ann", home, sizeof(home)), 0, "home expands");
	is_str(home, "/srv/home/ann%x", "u and %% escapes expanded");
	is_int(userdb_settings_home(&s, "ann", home, 8), USERDB_E_INVALID,
	    "home too long for the buffer refused");
	is_str(s.shell, "/bin/zsh", "shell set");
	userdb_settings_free(&s);

	static const struct {
		const char *text;
		int rc;
		const char *what;
	} bad[] = {
		{ "colour = red\n", USERDB_E_CONFIG, "unknown key" },
		{ "uid_range = 500-2000\n", USERDB_E_RANGE, "range below 1000" },
		{ "uid_range = 59000-61000\n", USERDB_E_RANGE, "range into 60000-65535" },
		{ "uid_range = 65000-70000\n", USERDB_E_RANGE, "range over nobody" },
		{ "uid_range = 3000000000-3000000100\n", USERDB_E_RANGE, "range above 2^31" },
		{ "uid_range = 90000-80000\n", USERDB_E_RANGE, "range reversed" },
		{ "uid_range = 80000\n", USERDB_E_CONFIG, "range without max" },
		{ "uid_range = 8x-9\n", USERDB_E_CONFIG, "range not a number" },
		{ "uid_range = 99999999999-99999999999\n", USERDB_E_CONFIG, "range overflows" },
		{ "home = relative/%u\n", USERDB_E_CONFIG, "relative home" },
		{ "shell = /bin/a:b\n", USERDB_E_CONFIG, "shell with a colon" },
		{ "placeholder_programs = sshd\n", USERDB_E_CONFIG, "relative program" },
		{ "shell = /bin/sh\nshell = /bin/sh\n", USERDB_E_CONFIG, "key twice" },
		{ "just words\n", USERDB_E_CONFIG, "line without =" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = userdb_settings_parse(bad[i].text, strlen(bad[i].text), &s,
		    err, sizeof(err));
		is_int(rc, bad[i].rc, "refused: %s (%s)", bad[i].what, err);
		is_int(s.nnames, 0, "after an error, no placeholder names");
		userdb_settings_free(&s);
	}
	s.home = (char *)"/h/%x";
	is_int(userdb_settings_home(&s, "a", home, sizeof(home)), USERDB_E_INVALID,
	    "unknown %% escape refused");

	/* the file checks */
	snprintf(path, sizeof(path), "%s/none.conf", scratch);
	is_int(userdb_settings_load(path, &s, err, sizeof(err)), 0, "missing file: defaults");
	userdb_settings_free(&s);
	snprintf(path, sizeof(path), "%s/s.conf", scratch);
	write_file(path, "provision_names = *\n", 0644);
	is_int(userdb_settings_load(path, &s, err, sizeof(err)), 0, "root 0644 file loads");
	is_int(s.nnames, 1, "its glob is read");
	userdb_settings_free(&s);
	chmod(path, 0664);
	is_int(userdb_settings_load(path, &s, err, sizeof(err)), USERDB_E_UNSAFE,
	    "group-writable file refused");
	is_int(s.nnames, 0, "refused file gives no names");
	userdb_settings_free(&s);
	chmod(path, 0644);
	if (chown(path, 65534, 65534) != 0)
		printf("Bail out! chown\n");
	is_int(userdb_settings_load(path, &s, err, sizeof(err)), USERDB_E_UNSAFE,
	    "file owned by another user refused");
	userdb_settings_free(&s);
	if (chown(path, 0, 0) != 0)
		printf("Bail out! chown\n");
	{
		char link[200];

		snprintf(link, sizeof(link), "%s/l.conf", scratch);
		if (symlink(path, link) != 0)
			printf("Bail out! symlink\n");
		is_int(userdb_settings_load(link, &s, err, sizeof(err)), USERDB_E_UNSAFE,
		    "symbolic link refused");
		userdb_settings_free(&s);
	}
}

static void
test_names(void)
{
	static const char *const good[] = { "alice", "a.b-c_d", "ann@corp.example",
	    "x1", "1a", "\xc3\xa9mile" };
	static const char *const badn[] = { "", "-x", "+x", ".", "..", "a:b", "a,b",
	    "a/b", "a b", "a\tb", "a\nb", "a\x7f", "1000", "0" };
	char longname[USERDB_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(userdb_name_ok(good[i]), "name ok: %s", good[i]);
	for (size_t i = 0; i < sizeof(badn) / sizeof(badn[0]); i++)
		ok(!userdb_name_ok(badn[i]), "name refused: [%zu]", i);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ok(!userdb_name_ok(longname), "name over %d bytes refused", USERDB_NAME_MAX);
	longname[USERDB_NAME_MAX] = '\0';
	ok(userdb_name_ok(longname), "name of %d bytes ok", USERDB_NAME_MAX);
}

static void
test_roundtrip(void)
{
	struct userdb_txn *t = NULL;
	struct userdb *db = NULL, *old = NULL;
	struct userdb_user u;
	struct userdb_new n;
	struct stat st;
	char path[200];
	uint32_t g[] = { 27, 100, 4000 };
	int rc;

	is_int(userdb_open(dbdir, &db), 0, "missing database opens empty");
	is_int(userdb_count(db), 0, "with no record");
	is_int(userdb_by_name(db, "alice", &u), USERDB_E_NOTFOUND, "lookup in empty db");
	userdb_close(&db);

	rc = userdb_begin(dbdir, &t);
	is_int(rc, 0, "begin creates the directory and takes the lock");
	ok(stat(dbdir, &st) == 0 && (st.st_mode & 07777) == 0755, "directory 0755");
	n = user("carol", "sub-c", A + 2);
	n.gecos = "Carol C";
	n.groups = g;
	n.ngroups = 3;
	is_int(userdb_txn_add(t, &n), 0, "add carol");
	n = user("alice", "sub-a", A);
	is_int(userdb_txn_add(t, &n), 0, "add alice");
	n = user("bob", "sub-b", A + 1);
	n.home = "/home/bob";
	is_int(userdb_txn_add(t, &n), 0, "add bob");
	is_int(userdb_commit(&t), 0, "commit");
	ok(t == NULL, "commit frees the transaction");

	snprintf(path, sizeof(path), "%s/users.db", dbdir);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644 && st.st_uid == 0,
	    "users.db root 0644");
	snprintf(path, sizeof(path), "%s/users.lock", dbdir);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "users.lock 0600");

	is_int(userdb_open(dbdir, &db), 0, "open");
	is_int(userdb_generation(db), 1, "generation 1");
	is_int(userdb_count(db), 3, "three records");
	is_int(userdb_by_name(db, "bob", &u), 0, "bob by name");
	is_int(u.uid, A + 1, "bob's uid");
	is_int(u.gid, A + 1, "bob's gid = uid");
	is_str(u.home, "/home/bob", "bob's home");
	is_str(u.issuer, "https://idp.test", "issuer");
	is_str(u.sub, "sub-b", "sub");
	is_int(u.created, 1000, "created");
	is_int(userdb_by_uid(db, A + 2, &u), 0, "carol by uid");
	is_str(u.name, "carol", "carol's name");
	is_str(u.gecos, "Carol C", "gecos");
	is_int(u.ngroups, 3, "carol's groups");
	ok(u.ngroups == 3 && u.groups[0] == 27 && u.groups[2] == 4000, "group values");
	is_int(userdb_by_gid(db, A, &u), 0, "alice by gid");
	is_str(u.name, "alice", "alice's private group");
	is_int(userdb_by_uid(db, A + 3, &u), USERDB_E_NOTFOUND, "unknown uid");
	is_int(userdb_by_name(db, "alic", &u), USERDB_E_NOTFOUND, "prefix is not found");
	is_int(userdb_get(db, 0, &u), 0, "get 0");
	is_str(u.name, "alice", "records in uid order");
	is_int(userdb_get(db, 3, &u), USERDB_E_NOTFOUND, "get past the end");

	/* an open snapshot survives a replace and keeps its content */
	old = db;
	db = NULL;
	is_int(userdb_begin(dbdir, &t), 0, "begin 2");
	is_int(userdb_txn_touch(t, "alice", 2000, g, 1), 0, "touch alice");
	is_int(userdb_txn_touch(t, "nobody-here", 2000, NULL, 0), USERDB_E_NOTFOUND,
	    "touch unknown");
	is_int(userdb_txn_lock(t, "bob", true), 0, "lock bob");
	is_int(userdb_txn_remove(t, "carol", 3000), 0, "remove carol");
	is_int(userdb_txn_remove(t, "carol", 3000), USERDB_E_NOTFOUND, "remove twice");
	is_int(userdb_commit(&t), 0, "commit 2");
	is_int(userdb_by_name(old, "carol", &u), 0, "old snapshot still has carol");
	is_int(userdb_generation(old), 1, "old snapshot generation 1");
	userdb_close(&old);
	is_int(userdb_open(dbdir, &db), 0, "reopen");
	is_int(userdb_generation(db), 2, "generation 2");
	is_int(userdb_by_name(db, "alice", &u), 0, "alice");
	ok(u.last_seen == 2000 && u.ngroups == 1 && u.groups[0] == 27,
	    "touch set last_seen and groups");
	is_int(userdb_by_name(db, "bob", &u), 0, "locked bob still resolves");
	ok(u.flags & USERDB_LOCKED, "bob locked");
	is_int(userdb_by_name(db, "carol", &u), USERDB_E_NOTFOUND, "removed carol not by name");
	is_int(userdb_by_uid(db, A + 2, &u), USERDB_E_NOTFOUND, "nor by uid");
	ok(userdb_uid_used(db, A + 2), "but her uid stays used (tombstone)");
	is_int(userdb_get(db, 2, &u), 0, "tombstone listed by get");
	ok((u.flags & USERDB_TOMBSTONE) && strcmp(u.sub, "sub-c") == 0 &&
	    u.ngroups == 0, "tombstone keeps name/sub, drops groups");
	userdb_close(&db);

	/* a refused change leaves the file as it was */
	is_int(userdb_begin(dbdir, &t), 0, "begin 3");
	n = user("dave", "sub-d", A + 5);
	n.ngroups = USERDB_GROUPS_MAX + 1;
	n.groups = g;
	is_int(userdb_txn_add(t, &n), USERDB_E_INVALID, "too many groups refused");
	userdb_abort(&t);
	is_int(userdb_open(dbdir, &db), 0, "reopen after abort");
	is_int(userdb_generation(db), 2, "abort wrote nothing");
	userdb_close(&db);
}

static void
test_identity(void)
{
	struct userdb_txn *t = NULL;
	struct userdb_new n;
	static const struct {
		const char *name, *sub, *what;
		uint32_t uid;
		int rc;
	} cases[] = {
		{ "alice", "sub-x", "name bound to another sub", A + 9, USERDB_E_NAME_TAKEN },
		{ "alice", "sub-a", "name already provisioned (same sub)", A + 9, USERDB_E_NAME_TAKEN },
		{ "eve", "sub-a", "sub bound to another name", A + 9, USERDB_E_SUB_TAKEN },
		{ "eve", "sub-e", "uid of a live record", A, USERDB_E_UID_TAKEN },
		{ "eve", "sub-e", "uid of a tombstone", A + 2, USERDB_E_UID_TAKEN },
		{ "eve", "sub-c", "tombstone's sub, its old uid", A + 2, USERDB_E_UID_TAKEN },
		{ "eve", "sub-e", "uid 0", 0, USERDB_E_UID_TAKEN },
		{ "eve", "sub-e", "uid 65534", 65534, USERDB_E_UID_TAKEN },
		{ "eve", "sub-e", "uid -1", UINT32_MAX, USERDB_E_UID_TAKEN },
		{ "eve", "sub-e", "uid in /etc/passwd", A + 20, USERDB_E_UID_TAKEN },
		{ "eve", "sub-e", "primary gid in /etc/passwd", A + 21, USERDB_E_UID_TAKEN },
		{ "eve", "sub-e", "gid in /etc/group", A + 22, USERDB_E_UID_TAKEN },
		{ "e:ve", "sub-e", "invalid name", A + 9, USERDB_E_INVALID },
		{ "eve", "", "empty sub", A + 9, USERDB_E_INVALID },
	};

	is_int(userdb_begin(dbdir, &t), 0, "begin (identity)");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = user(cases[i].name, cases[i].sub, cases[i].uid);
		is_int(userdb_txn_add(t, &n), cases[i].rc, "refused: %s", cases[i].what);
	}
	n = user("carol", "sub-c2", A + 9);
	is_int(userdb_txn_add(t, &n), 0, "a removed name may be given to a new sub");
	n = user("carol2", "sub-c", A + 10);
	is_int(userdb_txn_add(t, &n), 0, "a removed sub may come back, on a new uid");
	userdb_abort(&t);
}

static int taken_calls;

static bool
taken_cb(uint32_t n, void *arg)
{
	taken_calls++;
	return n == *(uint32_t *)arg;
}

static void
test_allocator(void)
{
	struct userdb_settings s;
	struct userdb_txn *t = NULL;
	struct userdb *db = NULL;
	struct userdb_new n;
	char err[200];
	uint32_t uid = 0, p = 0, other;
	const char *conf = "uid_range = 1879048192-1879048230\n";

	/* db: alice A, bob A+1, tombstone A+2.  /etc: uid A+20, primary gid
	 * A+21 in passwd, gid A+22 in group, subuid A+3..A+5 */
	if (userdb_settings_parse(conf, strlen(conf), &s, err, sizeof(err)) != 0)
		printf("Bail out! %s\n", err);
	is_int(userdb_open(dbdir, &db), 0, "open for predict");
	is_int(userdb_predict_uid(db, &s, &p), 0, "predict");
	is_int(p, A + 6, "lowest free skips records, the tombstone and a subuid range");
	userdb_close(&db);
	is_int(userdb_begin(dbdir, &t), 0, "begin (allocator)");
	is_int(userdb_txn_next_uid(t, &s, NULL, NULL, &uid), 0, "next uid");
	is_int(uid, p, "next uid == predicted uid");
	other = A + 6;
	taken_calls = 0;
	is_int(userdb_txn_next_uid(t, &s, taken_cb, &other, &uid), 0, "next uid, A+6 in another source");
	is_int(uid, A + 7, "another NSS source's uid skipped");
	ok(taken_calls >= 2, "the callback was asked (%d)", taken_calls);
	for (uint32_t k = 6; k < 20; k++) {
		char name[16], sub[16];

		snprintf(name, sizeof(name), "u%u", k);
		snprintf(sub, sizeof(sub), "s%u", k);
		if (userdb_txn_next_uid(t, &s, NULL, NULL, &uid) != 0)
			break;
		n = user(name, sub, uid);
		if (userdb_txn_add(t, &n) != 0)
			break;
	}
	is_int(userdb_txn_next_uid(t, &s, NULL, NULL, &uid), 0, "after 14 more adds");
	is_int(uid, A + 23, "passwd uid, passwd primary gid and group gid skipped");
	s.uid_max = A + 23;
	n = user("last", "s-last", uid);
	is_int(userdb_txn_add(t, &n), 0, "the last number");
	is_int(userdb_txn_next_uid(t, &s, NULL, NULL, &uid), USERDB_E_EXHAUSTED,
	    "range exhausted");
	is_str(userdb_strerror(USERDB_E_EXHAUSTED), "uid_range_exhausted", "its reason");
	is_int(userdb_txn_remove(t, "last", 5), 0, "remove the last user");
	is_int(userdb_txn_next_uid(t, &s, NULL, NULL, &uid), USERDB_E_EXHAUSTED,
	    "its uid is not reused: still exhausted");
	s.uid_min = 500;
	is_int(userdb_txn_next_uid(t, &s, NULL, NULL, &uid), USERDB_E_RANGE,
	    "an invalid range refused by the allocator");
	userdb_abort(&t);
	userdb_settings_free(&s);
}

static void
test_corrupt(void)
{
	struct userdb *db = NULL;
	char path[300], dir2[200], cmd[600];
	int fd;

	snprintf(dir2, sizeof(dir2), "%s/c", scratch);
	mkdir(dir2, 0755);
	snprintf(path, sizeof(path), "%s/users.db", dir2);
	snprintf(cmd, sizeof(cmd), "head -c 100 %s/users.db > %s", dbdir, path);
	if (system(cmd) != 0)
		printf("Bail out! head\n");
	chmod(path, 0644);
	is_int(userdb_open(dir2, &db), USERDB_E_CORRUPT, "truncated file: corrupt");
	write_file(path, "OA2UDB1\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0644);
	is_int(userdb_open(dir2, &db), USERDB_E_CORRUPT, "garbage header: corrupt");
	snprintf(cmd, sizeof(cmd), "cp %s/users.db %s", dbdir, path);
	if (system(cmd) != 0)
		printf("Bail out! cp\n");
	chmod(path, 0666);
	is_int(userdb_open(dir2, &db), USERDB_E_UNSAFE, "world-writable file: unsafe");
	chmod(path, 0644);
	if (chown(path, 65534, 0) != 0)
		printf("Bail out! chown\n");
	is_int(userdb_open(dir2, &db), USERDB_E_UNSAFE, "file not root's: unsafe");
	unlink(path);
	snprintf(cmd, sizeof(cmd), "%s/users.db", dbdir);
	if (symlink(cmd, path) != 0)
		printf("Bail out! symlink\n");
	is_int(userdb_open(dir2, &db), USERDB_E_UNSAFE, "symbolic link: unsafe");
	unlink(path);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	close(fd);
	is_int(userdb_open(dir2, &db), 0, "empty file: empty database");
	is_int(userdb_count(db), 0, "no records");
	userdb_close(&db);
}

static void
test_non_root(void)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		struct userdb_txn *t = NULL;
		struct userdb *db = NULL;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		if (userdb_open(dbdir, &db) != 0 || userdb_count(db) == 0)
			_exit(4);
		userdb_close(&db);
		_exit(userdb_begin(dbdir, &t) == USERDB_E_UNSAFE ? 0 : 5);
	}
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : 99, 0,
	    "an ordinary user reads the db but cannot begin a write");
}

/* The first writers of a machine race to create the directory: every one
 * of them must get it (a lost mkdir race was an I/O error). */
static void
test_first_begin_race(void)
{
	int lost = 0, rounds = 150;

	for (int r = 0; r < rounds; r++) {
		char d[256];
		int go[2], status;
		pid_t kids[4];

		snprintf(d, sizeof(d), "%s/race-%d", scratch, r);
		if (pipe(go) != 0) {
			printf("Bail out! pipe\n");
			return;
		}
		for (int k = 0; k < 4; k++) {
			kids[k] = fork();
			if (kids[k] == 0) {
				struct userdb_txn *t = NULL;
				char c;

				close(go[1]);
				/* all four wait for the same byte-less EOF */
				(void)read(go[0], &c, 1);
				if (userdb_begin(d, &t) != 0)
					_exit(1);
				userdb_abort(&t);
				_exit(0);
			}
		}
		close(go[0]);
		close(go[1]);
		for (int k = 0; k < 4; k++) {
			waitpid(kids[k], &status, 0);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				lost++;
		}
	}
	is_int(lost, 0, "4 first writers x %d fresh directories: every begin succeeded", rounds);
}

#define WRITERS 4
#define PER_WRITER 25

static void
test_concurrent(void)
{
	struct userdb_settings s;
	struct userdb *db = NULL;
	pid_t pids[WRITERS];
	char err[200], dir3[200];
	long opens = 0, bad = 0;
	uint64_t last_gen = 0;
	int failed = 0, status;
	bool seen_uid[WRITERS * PER_WRITER + 6] = { false };
	const char *conf = "uid_range = 1879048192-1879050000\n";

	snprintf(dir3, sizeof(dir3), "%s/conc", scratch);
	if (userdb_settings_parse(conf, strlen(conf), &s, err, sizeof(err)) != 0)
		printf("Bail out! %s\n", err);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			for (int k = 0; k < PER_WRITER; k++) {
				struct userdb_txn *t = NULL;
				struct userdb_new n;
				char name[32], sub[32];
				uint32_t uid;

				snprintf(name, sizeof(name), "w%d-%d", w, k);
				snprintf(sub, sizeof(sub), "sub-w%d-%d", w, k);
				if (userdb_begin(dir3, &t) != 0 ||
				    userdb_txn_next_uid(t, &s, NULL, NULL, &uid) != 0)
					_exit(1);
				n = user(name, sub, uid);
				if (userdb_txn_add(t, &n) != 0 || userdb_commit(&t) != 0)
					_exit(2);
			}
			_exit(0);
		}
	}
	/* a reader loops meanwhile: every snapshot whole, generations grow */
	for (;;) {
		int running = 0;

		for (int w = 0; w < WRITERS; w++)
			if (pids[w] > 0 && waitpid(pids[w], &status, WNOHANG) == 0)
				running++;
			else if (pids[w] > 0) {
				if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
					failed++;
				pids[w] = 0;
			}
		if (userdb_open(dir3, &db) != 0) {
			bad++;
		} else {
			struct userdb_user u;

			opens++;
			if (userdb_generation(db) < last_gen ||
			    userdb_count(db) != userdb_generation(db))
				bad++;
			last_gen = userdb_generation(db);
			for (size_t i = 0; i < userdb_count(db); i++)
				if (userdb_get(db, i, &u) != 0 ||
				    userdb_by_name(db, u.name, &u) != 0)
					bad++;
			userdb_close(&db);
		}
		if (running == 0)
			break;
	}
	is_int(failed, 0, "%d writers x %d commits all succeeded", WRITERS, PER_WRITER);
	is_int(bad, 0, "%ld snapshots read during the writes, none torn", opens);
	is_int(userdb_open(dir3, &db), 0, "final open");
	is_int(userdb_count(db), WRITERS * PER_WRITER, "every add kept (no lost update)");
	is_int(userdb_generation(db), WRITERS * PER_WRITER, "one generation per commit");
	for (size_t i = 0; i < userdb_count(db); i++) {
		struct userdb_user u;

		if (userdb_get(db, i, &u) == 0 && u.uid >= A &&
		    u.uid - A < WRITERS * PER_WRITER + 6)
			seen_uid[u.uid - A] = true;
	}
	{
		/* the lowest numbers but /etc's A+3..A+5 (subuid) and A+20..22 */
		int dense = 1;

		for (int i = 0; i < WRITERS * PER_WRITER + 6; i++)
			dense &= seen_uid[i] == !((i >= 3 && i <= 5) ||
			    (i >= 20 && i <= 22));
		ok(dense, "the UIDs are distinct: the lowest free ones of the range");
	}
	userdb_close(&db);
	userdb_settings_free(&s);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) -eq 2", dir3);
		ok(system(cmd) == 0, "no temporary file left beside users.db and users.lock");
	}
}

/* A repeat login that keeps the groups writes only last_seen, in place:
 * same inode, same generation, and a snapshot mapped before sees the
 * new time; a change of the groups (or anything else) replaces the file. */
static void
test_stamp(void)
{
	struct userdb_txn *t = NULL;
	struct userdb *db = NULL, *before = NULL;
	struct userdb_user u;
	struct userdb_new n;
	struct stat st0, st1;
	char dir[160], path[200];
	uint32_t g[] = { 27, 100 }, g2[] = { 100, 27 };

	snprintf(dir, sizeof(dir), "%s/stampdb", scratch);
	snprintf(path, sizeof(path), "%s/users.db", dir);
	is_int(userdb_begin(dir, &t), 0, "stamp: begin");
	for (uint32_t i = 0; i < 20; i++) {
		char name[16], sub[16];

		snprintf(name, sizeof(name), "s%u", i);
		snprintf(sub, sizeof(sub), "sub-s%u", i);
		n = user(name, sub, A + 100 + i);
		n.groups = g;
		n.ngroups = 2;
		if (userdb_txn_add(t, &n) != 0)
			break;
	}
	is_int(userdb_commit(&t), 0, "stamp: 20 users committed");
	if (stat(path, &st0) != 0 || userdb_open(dir, &before) != 0) {
		ok(false, "stamp: stat and open users.db");
		return;
	}

	/* the same groups: only the time */
	is_int(userdb_begin(dir, &t), 0, "stamp: begin 2");
	is_int(userdb_txn_touch(t, "s7", 5000, g, 2), 0, "touch s7, same groups");
	is_int(userdb_txn_touch(t, "s12", 5001, g, 2), 0, "touch s12, same groups");
	is_int(userdb_txn_touch(t, "s7", 5002, g, 2), 0, "touch s7 again");
	is_int(userdb_commit(&t), 0, "commit of stamps only");
	ok(stat(path, &st1) == 0 && st1.st_ino == st0.st_ino &&
	    st1.st_dev == st0.st_dev, "users.db kept its inode (written in place)");
	ok((st1.st_mode & 07777) == 0644 && st1.st_uid == 0 &&
	    st1.st_size == st0.st_size, "still root 0644, same size");
	is_int(userdb_generation(before), 1, "generation unchanged");
	ok(userdb_by_name(before, "s7", &u) == 0 && u.last_seen == 5002 &&
	    u.ngroups == 2 && u.groups[0] == 27 && u.groups[1] == 100,
	    "a snapshot mapped before sees s7's new time (and its groups)");
	ok(userdb_by_name(before, "s12", &u) == 0 && u.last_seen == 5001,
	    "and s12's");
	ok(userdb_by_name(before, "s8", &u) == 0 && u.last_seen == 1000 &&
	    u.created == 1000, "a neighbour untouched");
	is_int(userdb_open(dir, &db), 0, "reopen");
	ok(userdb_by_name(db, "s7", &u) == 0 && u.last_seen == 5002,
	    "a new snapshot sees it too");
	userdb_close(&db);

	/* the same GIDs in another order, or other GIDs: a new file */
	is_int(userdb_begin(dir, &t), 0, "stamp: begin 3");
	is_int(userdb_txn_touch(t, "s7", 6000, g2, 2), 0, "touch s7, groups reordered");
	is_int(userdb_commit(&t), 0, "commit of a group change");
	ok(stat(path, &st1) == 0 && st1.st_ino != st0.st_ino,
	    "a group change replaces the file (new inode)");
	is_int(userdb_open(dir, &db), 0, "reopen 2");
	is_int(userdb_generation(db), 2, "generation 2");
	ok(userdb_by_name(db, "s7", &u) == 0 && u.last_seen == 6000 &&
	    u.groups[0] == 100, "new groups and time");
	ok(userdb_by_name(db, "s12", &u) == 0 && u.last_seen == 5001,
	    "the in-place stamp survived the rewrite");
	ok(userdb_by_name(before, "s7", &u) == 0 && u.last_seen == 5002,
	    "the old snapshot keeps the old file");
	userdb_close(&before);
	userdb_close(&db);

	/* a stamp beside another change: one new file with both */
	if (stat(path, &st0) != 0)
		ok(false, "stat");
	is_int(userdb_begin(dir, &t), 0, "stamp: begin 4");
	is_int(userdb_txn_touch(t, "s3", 7000, g, 2), 0, "touch s3, same groups");
	is_int(userdb_txn_lock(t, "s4", true), 0, "lock s4");
	is_int(userdb_commit(&t), 0, "commit of a stamp and a lock");
	ok(stat(path, &st1) == 0 && st1.st_ino != st0.st_ino, "replaced");
	is_int(userdb_open(dir, &db), 0, "reopen 3");
	ok(userdb_by_name(db, "s3", &u) == 0 && u.last_seen == 7000, "s3 stamped");
	ok(userdb_by_name(db, "s4", &u) == 0 && (u.flags & USERDB_LOCKED),
	    "s4 locked");
	is_int(userdb_generation(db), 3, "generation 3");
	userdb_close(&db);

	/* more records than one commit stamps in place: the whole file */
	stat(path, &st0);
	is_int(userdb_begin(dir, &t), 0, "stamp: begin 5");
	for (int i = 0; i < 12; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%d", i);
		if (i != 4 && i != 7 && userdb_txn_touch(t, name, 8000 + i, g, 2) != 0)
			ok(false, "touch %s", name);
	}
	is_int(userdb_commit(&t), 0, "commit of 10 stamps");
	ok(stat(path, &st1) == 0 && st1.st_ino != st0.st_ino,
	    "10 stamps: a new file");
	is_int(userdb_open(dir, &db), 0, "reopen 4");
	ok(userdb_by_name(db, "s11", &u) == 0 && u.last_seen == 8011, "s11 stamped");
	ok(userdb_by_name(db, "s0", &u) == 0 && u.last_seen == 8000,
	    "and s0, stamped before the records were copied");
	userdb_close(&db);

	/* a touch before any copy refuses what it refused after one */
	is_int(userdb_begin(dir, &t), 0, "stamp: begin 6");
	is_int(userdb_txn_touch(t, "nobody-here", 9000, g, 2), USERDB_E_NOTFOUND,
	    "touch of an unknown name: not found");
	is_int(userdb_txn_remove(t, "s9", 9000), 0, "remove s9");
	is_int(userdb_commit(&t), 0, "commit");
	is_int(userdb_begin(dir, &t), 0, "stamp: begin 7");
	is_int(userdb_txn_touch(t, "s9", 9001, g, 2), USERDB_E_NOTFOUND,
	    "touch of a tombstone: not found");
	is_int(userdb_txn_touch(t, "s1", 9001, g, USERDB_GROUPS_MAX + 1),
	    USERDB_E_INVALID, "too many groups: invalid");
	n = user("s20", "sub-s20", A + 200);
	is_int(userdb_txn_touch(t, "s1", 9002, g, 2), 0, "touch s1, same groups");
	is_int(userdb_txn_add(t, &n), 0, "then add s20 in the same transaction");
	is_int(userdb_commit(&t), 0, "commit");
	is_int(userdb_open(dir, &db), 0, "reopen 5");
	ok(userdb_by_name(db, "s1", &u) == 0 && u.last_seen == 9002 &&
	    userdb_by_name(db, "s20", &u) == 0, "both kept");
	userdb_close(&db);
}

int
main(void)
{
	char e[200];

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
	snprintf(etcdir, sizeof(etcdir), "%s/etc", scratch);
	mkdir(etcdir, 0755);
	snprintf(e, sizeof(e), "x:x:%u:%u::/:/bin/sh\n", A + 20, A + 21);
	{
		char g[100], sub[100];

		snprintf(g, sizeof(g), "grp:x:%u:\nbroken line\n", A + 22);
		snprintf(sub, sizeof(sub), "someone:%u:3\n", A + 3);
		private_etc(e, g, sub);
	}
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount(etcdir, "/etc", "none", MS_BIND, NULL) != 0) {
		printf("Bail out! private mount namespace: %s\n", strerror(errno));
		return 1;
	}
	test_settings();
	test_names();
	test_roundtrip();
	test_stamp();
	test_identity();
	test_allocator();
	test_corrupt();
	test_non_root();
	test_first_begin_race();
	test_concurrent();
	return tap_done();
}
