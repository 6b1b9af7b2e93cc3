/*
 * grantstore.c - one small root-only file per sshd connection carrying a
 * grant from the keyboard-interactive child to the setcred child.  See
 * grantstore.h for the design.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "errors.h"
#include "fsutil.h"
#include "grantstore.h"
#include "groups.h"
#include "log.h"

/* Version 2: every value names its source ("value scope:HEX"); a
 * version 1 record (values without a source) is refused as malformed. */
#define MAGIC "pam_oauth2 grant 2\n"
#define BOOT_ID_LEN 36
#define SWEEP_MAX 4096

static const char *
store_dir(const char *dir)
{
	return dir != NULL ? dir : GRANTSTORE_DEFAULT_DIR;
}

/* Read a small /proc file into buf (NUL-terminated). */
static int
read_small(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return got > 0 ? 0 : -1;
}

static int
boot_id(char out[BOOT_ID_LEN + 1])
{
	char buf[64];

	if (read_small("/proc/sys/kernel/random/boot_id", buf,
	    sizeof(buf)) != 0 || strlen(buf) < BOOT_ID_LEN)
		return -1;
	memcpy(out, buf, BOOT_ID_LEN);
	out[BOOT_ID_LEN] = '\0';
	for (size_t i = 0; i < BOOT_ID_LEN; i++) {
		if (!isxdigit((unsigned char)out[i]) && out[i] != '-')
			return -1;
	}
	return 0;
}

/* CLOCK_BOOTTIME seconds: system-wide, unaffected by wall-clock steps. */
static long long
now_boot(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		return -1;
	return (long long)ts.tv_sec;
}

int
grantstore_parse_stat(const char *stat, unsigned long long *start,
    long *session)
{
	const char *p = strrchr(stat, ')');
	char *end = NULL;
	int field = 2;  /* the comm field ends at ')' */

	if (p == NULL)
		return OA2_ERR_BAD_RESPONSE;
	p++;
	/* Fields after comm: 3 state, 4 ppid, 5 pgrp, 6 session, ...,
	 * 22 starttime (proc(5)). */
	while (*p != '\0' && field < 22) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		field++;
		if (field == 6) {
			errno = 0;
			*session = strtol(p, &end, 10);
			if (errno != 0 || end == p)
				return OA2_ERR_BAD_RESPONSE;
		} else if (field == 22) {
			errno = 0;
			*start = strtoull(p, &end, 10);
			if (errno != 0 || end == p ||
			    (*end != ' ' && *end != '\0' && *end != '\n'))
				return OA2_ERR_BAD_RESPONSE;
			return 0;
		}
		p += strcspn(p, " ");
	}
	return OA2_ERR_BAD_RESPONSE;
}

/* Real and effective UID of pid are 0 ("Uid:" line of /proc/PID/status,
 * which, unlike the owner of /proc/PID, does not turn into root for a
 * non-dumpable process). */
static bool
runs_as_root(pid_t pid)
{
	char path[64], buf[4096], *u;
	unsigned long ruid, euid;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if (read_small(path, buf, sizeof(buf)) != 0)
		return false;
	u = strstr(buf, "\nUid:");
	if (u == NULL || sscanf(u + 5, "%lu %lu", &ruid, &euid) != 2)
		return false;
	return ruid == 0 && euid == 0;
}

int
grantstore_session(struct grantstore_key *k)
{
	char path[64], buf[1024];
	pid_t sid = getsid(0);
	long session = -1;

	memset(k, 0, sizeof(*k));
	if (sid <= 1 || getppid() != sid)
		return OA2_ERR_NOTFOUND;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)sid);
	if (read_small(path, buf, sizeof(buf)) != 0 ||
	    grantstore_parse_stat(buf, &k->start, &session) != 0 ||
	    session != (long)sid || !runs_as_root(sid))
		return OA2_ERR_NOTFOUND;
	/* Still the same parent: it did not die and get replaced while we
	 * looked (we would have been reparented). */
	if (getppid() != sid)
		return OA2_ERR_NOTFOUND;
	k->sid = sid;
	return 0;
}

static void
hex_put(char *out, const char *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[(unsigned char)s[i] >> 4];
		out[2 * i + 1] = hx[(unsigned char)s[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Decode n hex digits at s into a new string; NULL on bad input. */
static char *
hex_get(const char *s, size_t n, bool *nomem)
{
	char *out;

	if (n == 0 || n % 2 != 0)
		return NULL;
	out = malloc(n / 2 + 1);
	if (out == NULL) {
		*nomem = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i += 2) {
		int hi, lo;

		hi = isdigit((unsigned char)s[i]) ? s[i] - '0' :
		    (s[i] >= 'a' && s[i] <= 'f') ? s[i] - 'a' + 10 : -1;
		lo = isdigit((unsigned char)s[i + 1]) ? s[i + 1] - '0' :
		    (s[i + 1] >= 'a' && s[i + 1] <= 'f') ?
		    s[i + 1] - 'a' + 10 : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		out[i / 2] = (char)(hi << 4 | lo);
	}
	out[n / 2] = '\0';
	return out;
}

int
grantstore_format(const struct grant *g, const char *bid,
    const struct grantstore_key *k, long long now, char **out, size_t *len)
{
	size_t cap, o = 0;
	char *buf;
	int w;

	*out = NULL;
	*len = 0;
	/* No boot clock (now_boot failed): no record. */
	if (now < 0)
		return OA2_ERR_CONFIG;
	cap = 256 + 2 * strlen(g->user);
	for (size_t i = 0; i < g->n; i++)
		cap += 16 + strlen(cfg_source_name(g->values[i].src)) +
		    2 * strlen(g->values[i].value);
	if (cap > GRANTSTORE_MAX_RECORD)
		return OA2_ERR_NOMEM;
	buf = malloc(cap);
	if (buf == NULL)
		return OA2_ERR_NOMEM;
	w = snprintf(buf, cap, MAGIC "boot %s\nsession %ld %llu\n"
	    "created %lld\nuser ", bid, (long)k->sid, k->start, now);
	if (w < 0 || (size_t)w >= cap) {
		free(buf);
		return OA2_ERR_NOMEM;
	}
	o = (size_t)w;
	hex_put(buf + o, g->user, strlen(g->user));
	o += 2 * strlen(g->user);
	buf[o++] = '\n';
	for (size_t i = 0; i < g->n; i++) {
		const char *src = cfg_source_name(g->values[i].src);
		const char *v = g->values[i].value;

		w = snprintf(buf + o, cap - o, "value %s:", src);
		if (w < 0 || (size_t)w >= cap - o) {
			free(buf);
			return OA2_ERR_NOMEM;
		}
		o += (size_t)w;
		hex_put(buf + o, v, strlen(v));
		o += 2 * strlen(v);
		buf[o++] = '\n';
	}
	buf[o] = '\0';
	*out = buf;
	*len = o;
	return 0;
}

/* The next line of [*p, end) without its '\n'; false at the end or when
 * a line has no '\n'. */
static bool
next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL)
		return false;
	*line = *p;
	*n = (size_t)(nl - *p);
	*p = nl + 1;
	return true;
}

static bool
take_prefix(const char **line, size_t *n, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (*n < pl || memcmp(*line, prefix, pl) != 0)
		return false;
	*line += pl;
	*n -= pl;
	return true;
}

/* Exactly one unsigned decimal number filling the n bytes at s. */
static bool
parse_number(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;

	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*out = v;
	return true;
}

int
grantstore_parse(const char *buf, size_t len, const char *bid,
    const struct grantstore_key *k, long long now, const char *user,
    struct grant **out, const char **why)
{
	const char *p = buf, *end = buf + len, *line, *sp;
	unsigned long long sid, start, created;
	struct grant *g = NULL;
	char *u = NULL, *v = NULL;
	bool nomem = false, dropped = false;
	size_t n;
	int rc = OA2_ERR_DENIED;

	*out = NULL;
	*why = "malformed";
	if (len < strlen(MAGIC) || memcmp(buf, MAGIC, strlen(MAGIC)) != 0 ||
	    memchr(buf, '\0', len) != NULL)
		goto out;
	p += strlen(MAGIC);
	if (!next_line(&p, end, &line, &n) || !take_prefix(&line, &n,
	    "boot ") || n != BOOT_ID_LEN)
		goto out;
	if (memcmp(line, bid, BOOT_ID_LEN) != 0) {
		*why = "other_boot";
		goto out;
	}
	if (!next_line(&p, end, &line, &n) ||
	    !take_prefix(&line, &n, "session "))
		goto out;
	sp = memchr(line, ' ', n);
	if (sp == NULL || !parse_number(line, (size_t)(sp - line), &sid) ||
	    !parse_number(sp + 1, n - (size_t)(sp - line) - 1, &start))
		goto out;
	if (!next_line(&p, end, &line, &n) ||
	    !take_prefix(&line, &n, "created ") ||
	    !parse_number(line, n, &created))
		goto out;
	if (!next_line(&p, end, &line, &n) ||
	    !take_prefix(&line, &n, "user "))
		goto out;
	u = hex_get(line, n, &nomem);
	if (u == NULL)
		goto out;
	if (sid != (unsigned long long)k->sid || start != k->start) {
		*why = "other_session";
		goto out;
	}
	if (strcmp(u, user) != 0) {
		*why = "other_user";
		goto out;
	}
	/* Created in the future (another clock) or too long ago.  In
	 * unsigned arithmetic: created may be any 19-digit number, and a
	 * machine that booted seconds ago has small stamps. */
	if (now < 0 || created > (unsigned long long)now ||
	    (unsigned long long)now - created > GRANTSTORE_TTL) {
		*why = "expired";
		goto out;
	}
	if (grant_new(u, &g) != 0) {
		nomem = true;
		goto out;
	}
	while (next_line(&p, end, &line, &n)) {
		enum cfg_source src;
		size_t off;

		if (!take_prefix(&line, &n, "value ") ||
		    cfg_source_parse(line, n, &src, &off) != 0)
			goto out;
		v = hex_get(line + off, n - off, &nomem);
		if (v == NULL || grant_add(g, src, v, &dropped) != 0) {
			nomem = nomem || v != NULL;
			goto out;
		}
		free(v);
		v = NULL;
	}
	if (p != end || dropped)
		goto out;
	/* Only acct_mgmt writes records, after its checks passed. */
	g->confirmed = true;
	*out = g;
	g = NULL;
	*why = "ok";
	rc = 0;
out:
	if (nomem)
		rc = OA2_ERR_NOMEM;
	free(u);
	free(v);
	grant_free(&g);
	return rc;
}

/*
 * Open state_dir (creating it, mode 0700, when create is set) and check
 * that it is a directory owned by root with no group or other access.
 * Returns the descriptor, -2 when it does not exist and create is not
 * set, or -1 (logged) when it is unusable.
 */
static int
open_dir(const char *dir, bool create, const struct log_ctx *lc)
{
	char ed[LOG_ESC_MAX];
	struct stat st;
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (!create)
			return -2;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			log_msg(lc, LOG_ERR, "state_dir %s: cannot create: %s",
			    log_escape(dir, ed, sizeof(ed)), strerror(errno));
			return -1;
		}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd < 0) {
		log_msg(lc, LOG_ERR, "state_dir %s: cannot open: %s",
		    log_escape(dir, ed, sizeof(ed)), strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		log_msg(lc, LOG_ERR,
		    "state_dir %s: unsafe (must be a directory owned by root, "
		    "mode 0700): not used", log_escape(dir, ed, sizeof(ed)));
		close(fd);
		return -1;
	}
	return fd;
}

static void
record_name(const struct grantstore_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "s%ld-%llu", (long)k->sid, k->start);
}

/* Remove records older than twice the lifetime (by mtime): what crashed
 * or refused logins left behind.  Best effort, bounded. */
static void
sweep(int dfd)
{
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	DIR *d;
	int fd, seen = 0;

	fd = dup(dfd);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL && seen++ < SWEEP_MAX) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (!S_ISDIR(st.st_mode) &&
		    (st.st_mtime > now || now - st.st_mtime >
		    2 * GRANTSTORE_TTL))
			unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

int
grantstore_put(const char *dir, const struct grant *g,
    const struct log_ctx *lc)
{
	struct grantstore_key k;
	char bid[BOOT_ID_LEN + 1], name[64], tmp[64], ed[LOG_ESC_MAX];
	char *rec = NULL;
	size_t len = 0;
	int dfd = -1, fd = -1, rc;

	if (grantstore_session(&k) != 0)
		return OA2_ERR_NOTFOUND;
	dir = store_dir(dir);
	if (boot_id(bid) != 0) {
		log_msg(lc, LOG_ERR, "grant store: cannot read the boot id");
		return OA2_ERR_CONFIG;
	}
	rc = grantstore_format(g, bid, &k, now_boot(), &rec, &len);
	if (rc == OA2_ERR_CONFIG)
		log_msg(lc, LOG_ERR, "grant store: no CLOCK_BOOTTIME");
	if (rc != 0)
		return rc;
	dfd = open_dir(dir, true, lc);
	if (dfd < 0) {
		rc = OA2_ERR_CONFIG;
		goto out;
	}
	sweep(dfd);
	record_name(&k, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), ".t%ld", (long)getpid());
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || fs_write_all(fd, rec, len) != 0 ||
	    fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		log_msg(lc, LOG_ERR, "state_dir %s: cannot write a record: %s",
		    log_escape(dir, ed, sizeof(ed)), strerror(errno));
		unlinkat(dfd, tmp, 0);
		rc = OA2_ERR_CONFIG;
		goto out;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) != 0) {
		log_msg(lc, LOG_ERR, "state_dir %s: cannot rename a record: %s",
		    log_escape(dir, ed, sizeof(ed)), strerror(errno));
		unlinkat(dfd, tmp, 0);
		rc = OA2_ERR_CONFIG;
		goto out;
	}
	log_debug(lc, "grant store: wrote %s for session %ld (%zu values)",
	    name, (long)k.sid, g->n);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(rec);
	return rc;
}

int
grantstore_take(const char *dir, const char *user,
    const struct log_ctx *lc, struct grant **out)
{
	struct grantstore_key k;
	struct stat st;
	char bid[BOOT_ID_LEN + 1], name[64], claim[64], ed[LOG_ESC_MAX];
	const char *why = "malformed";
	char *buf = NULL;
	size_t got = 0;
	long n;
	int dfd = -1, fd = -1, rc = 0;

	*out = NULL;
	if (grantstore_session(&k) != 0)
		return 0;
	dir = store_dir(dir);
	dfd = open_dir(dir, false, lc);
	if (dfd == -2)
		return 0;
	if (dfd < 0)
		return OA2_ERR_CONFIG;
	record_name(&k, name, sizeof(name));
	snprintf(claim, sizeof(claim), ".c%ld", (long)getpid());
	/* The rename makes this process the only taker. */
	if (renameat(dfd, name, dfd, claim) != 0) {
		if (errno != ENOENT)
			log_msg(lc, LOG_ERR, "state_dir %s: cannot take %s: %s",
			    log_escape(dir, ed, sizeof(ed)), name,
			    strerror(errno));
		goto out;
	}
	fd = openat(dfd, claim, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | O_NOCTTY);
	unlinkat(dfd, claim, 0);
	if (fd < 0) {
		log_msg(lc, LOG_WARNING, "grant store: %s: cannot open: %s",
		    name, strerror(errno));
		goto out;
	}
	/* After the unlink no other name may remain (no hard link). */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0 || st.st_nlink != 0 ||
	    st.st_size <= 0 || st.st_size > GRANTSTORE_MAX_RECORD) {
		log_msg(lc, LOG_WARNING,
		    "grant store: %s: unsafe record (owner, mode, links or "
		    "size): ignored", name);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = OA2_ERR_NOMEM;
		goto out;
	}
	n = fs_read_all(fd, buf, (size_t)st.st_size);
	got = n > 0 ? (size_t)n : 0;
	buf[got] = '\0';
	if (boot_id(bid) != 0) {
		log_msg(lc, LOG_ERR, "grant store: cannot read the boot id");
		goto out;
	}
	rc = grantstore_parse(buf, got, bid, &k, now_boot(), user, out,
	    &why);
	if (rc == OA2_ERR_DENIED) {
		char eu[LOG_ESC_MAX];

		log_msg(lc, LOG_WARNING,
		    "grant store: record %s for user %s refused: %s", name,
		    log_escape(user, eu, sizeof(eu)), why);
		rc = 0;
	} else if (rc == 0) {
		log_debug(lc, "grant store: took %s (%zu values)", name,
		    (*out)->n);
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

void
grantstore_drop(const char *dir, const struct log_ctx *lc)
{
	struct grantstore_key k;
	char name[64];
	int dfd;

	if (grantstore_session(&k) != 0)
		return;
	dfd = open_dir(store_dir(dir), false, lc);
	if (dfd < 0)
		return;
	record_name(&k, name, sizeof(name));
	if (unlinkat(dfd, name, 0) == 0)
		log_debug(lc, "grant store: dropped %s", name);
	close(dfd);
}
