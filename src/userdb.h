/*
 * userdb.h - the provisioned-user database (issue 13): records of the
 * users the module created at their first verified login, read by every
 * process through libnss_oauth2.so.2, written only by root (the PAM
 * module and pam_oauth2ctl).  glibc only: this file and userdb.c are
 * linked into the NSS module too, so they use no other library.
 *
 * ------------------------------------------------------------------ files
 * USERDB_DIR (/var/lib/pam_oauth2-nss, root, 0755; created 0755 by the
 * first writer) holds
 *   users.db    the database, root, 0644: world-readable, holds no secret
 *               (names, UIDs, the IdP's issuer and sub, times, GIDs).
 *   users.lock  root, 0600: writers take an exclusive flock on it.
 *               Readers never lock.
 *   users.db.XXXXXX  a writer's temporary file while it commits.
 * It is apart from the module's /var/lib/pam_oauth2 (root-only, holds
 * verifiers).  USERDB_CONF (/etc/pam_oauth2-nss.conf, root, 0644, not
 * writable by group or others) holds the provisioning shape both sides
 * must agree on (below); the NSS module must never read the module's
 * root-only pam_oauth2.conf, so these keys live here and nowhere else.
 *
 * Paths are fixed at build time (userdb_paths.c).  The tests link
 * tests/lib/userdb_envpaths.c instead, which honours OA2_USERDB_DIR and
 * OA2_USERDB_CONF when the process is not AT_SECURE: the production NSS
 * module, loaded into setuid programs, has no way to be pointed elsewhere.
 *
 * ------------------------------------------------------------------ format
 * users.db is one binary file in host byte order, read through mmap:
 * a header (magic "OA2UDB1\n", generation, offsets), a table of
 * fixed-size records sorted by UID (tombstones included), an index of
 * the live records sorted by name (strcmp), a string pool (NUL-terminated
 * strings) and a pool of 32-bit supplementary GIDs.  Every offset is
 * checked on each access, so a corrupt file gives "corrupt", never a
 * crash (fuzz/fuzz_userdb.c).  A lookup is two binary searches.
 *
 * (libnss_oauth2 keeps one mapping per process and re-maps when the
 * file's inode or times change: nss_oauth2.c.)
 *
 * Consistency: a writer builds the whole new file beside the old one,
 * fsyncs it, rename(2)s it over users.db and fsyncs the directory, all
 * under the exclusive lock.  A reader opens users.db, maps it, and works
 * on that inode: it sees the old or the new file whole, never a mix, and
 * a replacement during its lookup does not disturb it (the old inode
 * lives until it is unmapped).  A reader holds no lock and no shared
 * state, so threads and forked children are safe.
 *
 * One exception to the whole-file rule: a transaction whose only change
 * is last_seen of records already in the file (a repeat login whose
 * mapped groups did not change) stores the new times into the live file
 * in place, under the same lock: one aligned 8-byte store per record
 * through a shared mapping, then msync.  Readers load last_seen with one
 * aligned load, so they see the old time or the new one, never a mix;
 * nothing else in the file changes (not the generation, not the inode;
 * the mtime does).  So a login still records exactly when it was seen
 * (provision_max_age counts from it) without writing the whole file.
 * (On a target without lock-free 64-bit atomics such a commit writes
 * the whole file as any other.)
 *
 * ------------------------------------------------------------------ records
 * name (the PAM user name after username_format is undone), uid, gid
 * (== uid: the private group, same name as the user, no members), gecos,
 * home, shell, issuer + sub (the identity the name and UID are bound to),
 * created and last_seen (Unix seconds), flags (USERDB_LOCKED,
 * USERDB_TOMBSTONE), and the GIDs of the mapped supplementary groups the
 * last login granted (served by initgroups_dyn).
 *
 * Identity over time: a UID belongs to one issuer+sub forever.  Removing
 * a user leaves a tombstone (name, uid, issuer, sub kept; not served by
 * NSS) so its UID is never allocated again, not even to the same sub.
 * userdb_txn_add refuses a name bound to another sub (name_reassigned), a
 * sub already bound to another live name, and a UID used by any record
 * or tombstone or by /etc/passwd or /etc/group.
 *
 * ------------------------------------------------------------------ UIDs
 * Default uid_range: 1879048192-1880096767 (0x70000000-0x700FFFFF,
 * 1,048,576 numbers).  Why there: it is clear of Debian's system range
 * 0-999, useradd's 1000-59999, systemd's 60001-60513 (homed), 61184-65519
 * (DynamicUser), 65534/65535 (nobody, 16-bit -1), the ranges
 * useradd hands out in /etc/subuid and /etc/subgid (100000-600100000 by
 * Debian's login.defs: a provisioned UID there would be some user's
 * container root), systemd-nspawn's container range 524288-1879048191,
 * and below 2^31 (signed-UID bugs) and systemd's "foreign" range
 * 0x7FFE0000-0x7FFEFFFF.  (200000-299999 would overlap the second and
 * third users' subuid blocks and SSSD's default idmap range.)  A range in
 * the config must lie within 1000..2147483646 and must not touch
 * 60000-65535 (USERDB_E_RANGE otherwise).
 *
 * The allocator gives the lowest number in the range that no record or
 * tombstone has, that /etc/passwd has as no UID, /etc/group as no GID,
 * and that lies in no /etc/subuid or /etc/subgid range; in a writer the
 * caller's callback also asks the other NSS sources (getpwuid_r,
 * getgrgid_r: the PAM module may call them, the NSS module never does,
 * it would recurse).  userdb_predict_uid is the same function without
 * the callback: the number a not-yet-provisioned name would get now.
 *
 * ------------------------------------------------------------------ config
 * USERDB_CONF, "key = value" lines, '#' comments, at most 64 KiB; a
 * missing file means all defaults (no placeholder):
 *   uid_range = MIN-MAX           (default above)
 *   provision_names = GLOB ...    shell globs (fnmatch(3), no flags),
 *                                 space separated; default empty = none
 *   home = /home/%u               %u = the user name, %% = %
 *   shell = /bin/bash
 *   placeholder_programs = PATH ...  (default /usr/sbin/sshd
 *                                 /usr/lib/openssh/sshd-session)
 * An unknown key, a bad value, or an unsafe file (not root's, writable
 * by group/others, a link) is an error: the NSS module then serves no
 * placeholder (records are still served); the PAM side must refuse to
 * provision.  The PAM module and the NSS module read the same file with
 * the same function, so the placeholder carries exactly the UID, home
 * and shell the login will make permanent.
 *
 * ------------------------------------------------------------------ placeholder
 * sshd looks the user up (getpwnam) before PAM runs, and keeps the
 * struct passwd it got for the whole session: uid, gid, home and shell
 * of the session come from that first lookup.  An unknown user gets a
 * fake password exchange instead of PAM.  So for a never-seen user the
 * NSS module (nss_oauth2.c) answers getpwnam, and only getpwnam, with a
 * placeholder when ALL of:
 *   - the name has no live record, is a valid name, and matches
 *     provision_names;
 *   - the caller is sshd: getauxval(AT_SECURE) == 0, real and effective
 *     UID 0, and readlink("/proc/self/exe") is one of
 *     placeholder_programs (the kernel's name of the running binary:
 *     an ordinary user can run /usr/sbin/sshd but not as root, and no
 *     setuid program is sshd; without /proc there is no placeholder);
 *   - userdb_predict_uid finds a free number.
 * The placeholder: pw_name = the name, pw_passwd "*", pw_uid = pw_gid =
 * the predicted number (never 0, never a UID or GID /etc/passwd,
 * /etc/group or the db has), pw_gecos "", pw_dir = home, pw_shell =
 * shell (the values the record will get: sshd reuses them for the first
 * session; before PAM says yes sshd only stat()s the shell and reads
 * ~/.ssh as that UID, which owns nothing).  getgrgid/getgrnam/getpwuid
 * never return it; initgroups gives it no group: it carries no
 * privilege.  Within one process the NSS module remembers the number it
 * served a name (up to 8 names), and a later getpwnam of that name in
 * the same process returns the same placeholder even if the free number
 * moved: that is what sshd holds.  It is not stored anywhere: it is gone
 * when that sshd process ends (a failed login leaves nothing).
 *
 * What the PAM side (prov) must do when it provisions in sshd: under
 * userdb_begin's lock, getpwnam_r(name) in its own process (the
 * placeholder sshd holds) and userdb_txn_next_uid; provision only if the
 * two numbers are equal, refuse and log otherwise (a concurrent first
 * login took the number: this try fails, the next connection gets the
 * new prediction).  acct_mgmt must refuse a name that has no live record
 * (a placeholder reaching acct_mgmt by public key must not log in).
 *
 * ------------------------------------------------------------------ errors
 * Functions return 0 or a negative USERDB_E_* code; userdb_strerror
 * gives a short reason word (for reason= in the audit line).
 */
#ifndef OA2_USERDB_H
#define OA2_USERDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USERDB_DB_NAME "users.db"
#define USERDB_LOCK_NAME "users.lock"
#define USERDB_DEFAULT_DIR "/var/lib/pam_oauth2-nss"
#define USERDB_DEFAULT_CONF "/etc/pam_oauth2-nss.conf"
#define USERDB_UID_MIN_DEFAULT 1879048192u
#define USERDB_UID_MAX_DEFAULT 1880096767u
#define USERDB_HOME_DEFAULT "/home/%u"
#define USERDB_SHELL_DEFAULT "/bin/bash"
#define USERDB_PROGRAMS_DEFAULT "/usr/sbin/sshd /usr/lib/openssh/sshd-session"

/* Caps: the writer refuses more, the reader treats more as corrupt. */
#define USERDB_NAME_MAX 256      /* bytes of a user name */
#define USERDB_FIELD_MAX 4096    /* gecos, home, shell, issuer, sub */
#define USERDB_GROUPS_MAX 1024   /* supplementary GIDs per user */
#define USERDB_USERS_MAX 4000000 /* records (tombstones included) */
#define USERDB_FILE_MAX (1024L * 1024 * 1024)

enum userdb_err {
	USERDB_OK = 0,
	USERDB_E_NOMEM = -1,      /* "nomem" */
	USERDB_E_IO = -2,         /* "io": read/write/rename/fsync failed */
	USERDB_E_UNSAFE = -3,     /* "unsafe": file not root's, a link, or open to writes */
	USERDB_E_CORRUPT = -4,    /* "corrupt": db file fails the format checks */
	USERDB_E_NOTFOUND = -5,   /* "not_found" */
	USERDB_E_INVALID = -6,    /* "invalid": a field the format cannot hold */
	USERDB_E_NAME_TAKEN = -7, /* "name_reassigned": name bound to another sub */
	USERDB_E_SUB_TAKEN = -8,  /* "sub_bound": sub bound to another name */
	USERDB_E_UID_TAKEN = -9,  /* "uid_collision": UID/GID in use or tombstoned */
	USERDB_E_EXHAUSTED = -10, /* "uid_range_exhausted" */
	USERDB_E_RANGE = -11,     /* "uid_range_invalid" */
	USERDB_E_CONFIG = -12,    /* "config": USERDB_CONF unreadable or wrong */
};

/* A short word for code (never NULL). */
const char *userdb_strerror(int code);

/* Build-time paths (userdb_paths.c; tests/lib/userdb_envpaths.c). */
const char *userdb_dir(void);
const char *userdb_conf_path(void);

/* ---------------------------------------------------------------- config */
struct userdb_settings {
	uint32_t uid_min, uid_max;
	char **names;      /* provision_names globs, nnames of them */
	size_t nnames;
	char *home;        /* template, %u */
	char *shell;
	char **programs;   /* placeholder_programs */
	size_t nprograms;
};

/*
 * Read path (USERDB_CONF format above) into *s, defaults for what it
 * does not set; a missing file is all defaults.  On error *s holds
 * defaults and err (when errlen > 0) one line saying why.  Returns 0,
 * USERDB_E_CONFIG, USERDB_E_UNSAFE, USERDB_E_RANGE or USERDB_E_NOMEM.
 * Free with userdb_settings_free (also after an error).
 */
int userdb_settings_load(const char *path, struct userdb_settings *s,
    char *err, size_t errlen);
/* Parse a config held in memory (the same rules, no file checks). */
int userdb_settings_parse(const char *text, size_t len,
    struct userdb_settings *s, char *err, size_t errlen);
void userdb_settings_free(struct userdb_settings *s);
/* Does name match one of provision_names? */
bool userdb_settings_match(const struct userdb_settings *s, const char *name);
/* The home of name from the template into out.  0, or USERDB_E_INVALID
 * when it does not fit or the result is not a valid field. */
int userdb_settings_home(const struct userdb_settings *s, const char *name,
    char *out, size_t outlen);
/* Is [min, max] an allowed uid_range? (rules above) */
bool userdb_range_ok(uint32_t min, uint32_t max);

/* A name the database can hold and NSS can serve: 1..USERDB_NAME_MAX
 * bytes, no ':', ',', '/', white space or control byte, not "." or "..",
 * no leading '-' or '+', not all digits. */
bool userdb_name_ok(const char *name);

/* ---------------------------------------------------------------- reading */
#define USERDB_LOCKED 0x1u
#define USERDB_TOMBSTONE 0x2u

/* A record seen through a snapshot: pointers into the mapping, valid
 * until userdb_close of the snapshot it came from. */
struct userdb_user {
	const char *name, *gecos, *home, *shell, *issuer, *sub;
	uint32_t uid, gid, flags;
	int64_t created, last_seen;
	const uint32_t *groups;   /* supplementary GIDs (4-byte aligned) */
	size_t ngroups;
};

struct userdb;   /* a read-only snapshot of users.db */

/*
 * Map dir/users.db (dir NULL: userdb_dir()).  A missing file (or dir) is
 * an empty database.  The file must be a regular file owned by root and
 * not writable by group/others (USERDB_E_UNSAFE), and pass the header
 * checks (USERDB_E_CORRUPT).  Returns 0 and *out, or a code.  Lock-free;
 * O_CLOEXEC.  Free with userdb_close.
 */
int userdb_open(const char *dir, struct userdb **out);
/* Map an open descriptor (the fuzz harness; the checks of userdb_open). */
int userdb_open_fd(int fd, struct userdb **out);
void userdb_close(struct userdb **db);

uint64_t userdb_generation(const struct userdb *db);
/* Records, tombstones included (userdb_get's index range). */
size_t userdb_count(const struct userdb *db);
/* The i-th record in UID order, tombstones included (check flags).
 * 0, USERDB_E_NOTFOUND (i out of range) or USERDB_E_CORRUPT. */
int userdb_get(const struct userdb *db, size_t i, struct userdb_user *u);
/* Live records only (never a tombstone). 0, NOTFOUND or CORRUPT. */
int userdb_by_name(const struct userdb *db, const char *name,
    struct userdb_user *u);
int userdb_by_uid(const struct userdb *db, uint32_t uid,
    struct userdb_user *u);
/* gid == uid: the private group's owner. */
int userdb_by_gid(const struct userdb *db, uint32_t gid,
    struct userdb_user *u);
/* Is uid used by any record or tombstone? */
bool userdb_uid_used(const struct userdb *db, uint32_t uid);

/*
 * The UID (== GID) a not-yet-provisioned user would be given now: the
 * lowest number in [s->uid_min, s->uid_max] not used by db (records and
 * tombstones), /etc/passwd, /etc/group, /etc/subuid, /etc/subgid.
 * 0 and *uid, USERDB_E_EXHAUSTED or USERDB_E_RANGE.  Safe inside NSS.
 */
int userdb_predict_uid(const struct userdb *db,
    const struct userdb_settings *s, uint32_t *uid);

/* ---------------------------------------------------------------- writing */
struct userdb_txn;   /* the exclusive lock + an in-memory copy */

/*
 * Take the exclusive lock (waiting for it) and load dir/users.db (dir
 * NULL: userdb_dir()), creating dir (0755, root) when missing.  Every
 * record is checked here (USERDB_E_CORRUPT); they are copied into memory
 * only by the first change that needs them (a touch that keeps the
 * groups does not).  Only
 * root: USERDB_E_UNSAFE when not euid 0, or when dir is not a root-owned
 * directory closed to writes by group/others.  End with userdb_commit or
 * userdb_abort; both release the lock and free t.
 */
int userdb_begin(const char *dir, struct userdb_txn **t);
/* The snapshot the transaction started from (read-only; lookups). */
const struct userdb *userdb_txn_db(const struct userdb_txn *t);

/* Is this number used by another source?  Return true if taken.  The PAM
 * module passes one calling getpwuid_r(n) and getgrgid_r(n). */
typedef bool (*userdb_taken_fn)(uint32_t n, void *arg);

/*
 * The lowest free number for a new user: userdb_predict_uid's rules plus
 * the records added in this transaction plus taken(n) (may be NULL).
 * 0, USERDB_E_EXHAUSTED, USERDB_E_RANGE.
 */
int userdb_txn_next_uid(struct userdb_txn *t, const struct userdb_settings *s,
    userdb_taken_fn taken, void *arg, uint32_t *uid);

/* A new user (the strings are copied). gid is set to uid. */
struct userdb_new {
	const char *name, *gecos, *home, *shell, *issuer, *sub;
	uint32_t uid;
	int64_t now;                 /* created = last_seen = now */
	const uint32_t *groups;
	size_t ngroups;
};
/*
 * Add a user bound to issuer+sub with uid.  Refused: invalid fields
 * (USERDB_E_INVALID); the name already a live record (USERDB_E_NAME_TAKEN
 * whatever its sub: a repeat login must use touch); issuer+sub bound to
 * another live name (USERDB_E_SUB_TAKEN); uid 0, 65534, 65535, -1, a uid
 * of any record or tombstone, a UID or primary GID in /etc/passwd or a
 * GID in /etc/group (USERDB_E_UID_TAKEN).  Other NSS sources are the
 * caller's to ask (by number: the taken callback; by name: getpwnam and
 * getgrnam, since the private group has the user's name).  uid need not
 * lie in uid_range (uid_claim).
 */
int userdb_txn_add(struct userdb_txn *t, const struct userdb_new *n);
/* last_seen = now and the supplementary GIDs replaced (live record).
 * The same GIDs in the same order leave only the time to write (see
 * userdb_commit).  0, USERDB_E_NOTFOUND, USERDB_E_INVALID (too many
 * groups). */
int userdb_txn_touch(struct userdb_txn *t, const char *name, int64_t now,
    const uint32_t *groups, size_t ngroups);
/* Set or clear USERDB_LOCKED.  0 or USERDB_E_NOTFOUND. */
int userdb_txn_lock(struct userdb_txn *t, const char *name, bool locked);
/* Turn a live record into a tombstone (groups dropped, last_seen = now).
 * 0 or USERDB_E_NOTFOUND. */
int userdb_txn_remove(struct userdb_txn *t, const char *name, int64_t now);
/*
 * Write the new file (0644) beside users.db, fsync, rename over it,
 * fsync the directory; generation + 1.  A commit with no change still
 * writes.  A commit whose only changes are touches that kept the groups
 * (at most 8 records, all already in the file) stores the new last_seen
 * values in place instead ("Consistency" above): same inode, same
 * generation; it falls back to the whole file when that cannot be done.
 * Frees t in every case.  0 or USERDB_E_IO/NOMEM (the old file is then
 * untouched).
 */
int userdb_commit(struct userdb_txn **t);
void userdb_abort(struct userdb_txn **t);

#endif
