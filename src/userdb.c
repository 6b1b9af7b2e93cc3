/*
 * userdb.c - the provisioned-user database: format, lock-free reader,
 * UID allocator, locked writer with atomic replace, settings file.
 * Contract and reasoning: userdb.h.  glibc only (linked into the NSS
 * module as well as the PAM module and the CLI).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "userdb.h"

#define UDB_MAGIC "OA2UDB1\n"
#define UDB_CONF_MAX (64 * 1024)
#define UDB_ETC_MAX (256L * 1024 * 1024)
#define UDB_STAMP_MAX 8   /* last_seen stamps one commit writes in place */
/* In-place stamps need a 64-bit store and load that are single
 * instructions (across processes, no libatomic lock): 64-bit targets,
 * i386 and armv7 have them; elsewhere commit writes the whole file. */
#if defined(__GCC_ATOMIC_LLONG_LOCK_FREE) && __GCC_ATOMIC_LLONG_LOCK_FREE == 2
#define UDB_STAMP_IN_PLACE 1
#else
#define UDB_STAMP_IN_PLACE 0
#endif

/* On-disk header and record, host byte order. */
struct udb_hdr {
	char magic[8];
	uint32_t hdr_size;
	uint32_t rec_size;
	uint64_t generation;
	uint64_t file_size;
	uint32_t nrec, rec_off;     /* records sorted by uid */
	uint32_t nlive, name_off;   /* uint32 record indexes sorted by name */
	uint32_t str_off, str_len;  /* string pool, str_len >= 1, ends in NUL */
	uint32_t gid_off, gid_count;
	uint32_t reserved[2];
};

struct udb_rec {
	uint32_t uid, gid, flags, ngroups, groups;
	uint32_t name, gecos, home, shell, issuer, sub, reserved;
	int64_t created, last_seen;
};

struct userdb {
	const unsigned char *map;
	size_t size;
	const struct udb_hdr *hdr;   /* NULL: empty database */
	dev_t dev;                   /* the mapped file (a stamp in place
	                              * must write to this very inode) */
	ino_t ino;
};

const char *
userdb_strerror(int code)
{
	switch (code) {
	case USERDB_OK: return "ok";
	case USERDB_E_NOMEM: return "nomem";
	case USERDB_E_IO: return "io";
	case USERDB_E_UNSAFE: return "unsafe";
	case USERDB_E_CORRUPT: return "corrupt";
	case USERDB_E_NOTFOUND: return "not_found";
	case USERDB_E_INVALID: return "invalid";
	case USERDB_E_NAME_TAKEN: return "name_reassigned";
	case USERDB_E_SUB_TAKEN: return "sub_bound";
	case USERDB_E_UID_TAKEN: return "uid_collision";
	case USERDB_E_EXHAUSTED: return "uid_range_exhausted";
	case USERDB_E_RANGE: return "uid_range_invalid";
	case USERDB_E_CONFIG: return "config";
	default: return "error";
	}
}

/* ---------------------------------------------------------------- fields */

bool
userdb_name_ok(const char *name)
{
	size_t n = 0;
	bool digits = true;

	if (name == NULL || name[0] == '\0' || name[0] == '-' ||
	    name[0] == '+' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (++n > USERDB_NAME_MAX || *p <= ' ' || *p == 0x7f ||
		    *p == ':' || *p == ',' || *p == '/')
			return false;
		if (*p < '0' || *p > '9')
			digits = false;
	}
	return !digits;
}

/* A passwd field (gecos, home, shell): no ':' or control byte. */
static bool
userdb_field_ok(const char *s, bool absolute)
{
	size_t n = 0;

	if (s == NULL || (absolute && s[0] != '/'))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (++n > USERDB_FIELD_MAX || *p < ' ' || *p == 0x7f || *p == ':')
			return false;
	return true;
}

/* issuer, sub: non-empty, capped (never served through NSS). */
static bool
userdb_ident_ok(const char *s)
{
	return s != NULL && s[0] != '\0' && strnlen(s, USERDB_FIELD_MAX + 1) <=
	    USERDB_FIELD_MAX;
}

static bool
userdb_reserved_id(uint32_t n)
{
	return n == 0 || n == 65534 || n == 65535 || n == UINT32_MAX;
}

bool
userdb_range_ok(uint32_t min, uint32_t max)
{
	return min >= 1000 && max <= 2147483646u && min <= max &&
	    !(min <= 65535 && max >= 60000);
}

/* Read exactly len bytes of fd: 0, or -1 on an error or a file that ended
 * early (it changed since fstat: read it again later, not in part). */
static int
udb_read_whole(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* ---------------------------------------------------------------- settings */

static char **
userdb_split(const char *v, size_t *n)
{
	char **out = NULL, **grown;
	size_t cnt = 0;
	const char *p = v, *e;

	*n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		e = p;
		while (*e != '\0' && *e != ' ' && *e != '\t')
			e++;
		grown = realloc(out, (cnt + 2) * sizeof(*out));
		if (grown == NULL)
			goto fail;
		out = grown;
		out[cnt] = strndup(p, (size_t)(e - p));
		if (out[cnt] == NULL)
			goto fail;
		out[++cnt] = NULL;
		p = e;
	}
	if (out == NULL)
		out = calloc(1, sizeof(*out));
	if (out == NULL)
		return NULL;
	*n = cnt;
	return out;
fail:
	for (size_t i = 0; i < cnt; i++)
		free(out[i]);
	free(out);
	return NULL;
}

static void
userdb_strv_free(char ***v, size_t *n)
{
	if (*v != NULL)
		for (size_t i = 0; (*v)[i] != NULL; i++)
			free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

void
userdb_settings_free(struct userdb_settings *s)
{
	if (s == NULL)
		return;
	userdb_strv_free(&s->names, &s->nnames);
	userdb_strv_free(&s->programs, &s->nprograms);
	free(s->home);
	free(s->shell);
	s->home = s->shell = NULL;
}

static int
userdb_settings_defaults(struct userdb_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->uid_min = USERDB_UID_MIN_DEFAULT;
	s->uid_max = USERDB_UID_MAX_DEFAULT;
	s->names = userdb_split("", &s->nnames);
	s->programs = userdb_split(USERDB_PROGRAMS_DEFAULT, &s->nprograms);
	s->home = strdup(USERDB_HOME_DEFAULT);
	s->shell = strdup(USERDB_SHELL_DEFAULT);
	if (s->names == NULL || s->programs == NULL || s->home == NULL ||
	    s->shell == NULL) {
		userdb_settings_free(s);
		return USERDB_E_NOMEM;
	}
	return 0;
}

static bool
userdb_parse_u32(const char *p, const char *e, uint32_t *v)
{
	uint64_t x = 0;

	if (p == e || e - p > 10)
		return false;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return false;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

static int
userdb_settings_set(struct userdb_settings *s, const char *key,
    const char *val, char *err, size_t errlen)
{
	char **v, **old;
	size_t n;

	if (strcmp(key, "uid_range") == 0) {
		const char *dash = strchr(val, '-');
		uint32_t lo, hi;

		if (dash == NULL || !userdb_parse_u32(val, dash, &lo) ||
		    !userdb_parse_u32(dash + 1, val + strlen(val), &hi)) {
			snprintf(err, errlen, "uid_range: expected MIN-MAX");
			return USERDB_E_CONFIG;
		}
		if (!userdb_range_ok(lo, hi)) {
			snprintf(err, errlen, "uid_range %u-%u: must lie in "
			    "1000-2147483646 and not touch 60000-65535", lo, hi);
			return USERDB_E_RANGE;
		}
		s->uid_min = lo;
		s->uid_max = hi;
		return 0;
	}
	if (strcmp(key, "home") == 0 || strcmp(key, "shell") == 0) {
		char *copy, **slot = key[0] == 'h' ? &s->home : &s->shell;

		if (!userdb_field_ok(val, true)) {
			snprintf(err, errlen, "%.32s: an absolute path without ':'", key);
			return USERDB_E_CONFIG;
		}
		copy = strdup(val);
		if (copy == NULL)
			return USERDB_E_NOMEM;
		free(*slot);
		*slot = copy;
		return 0;
	}
	if (strcmp(key, "provision_names") == 0 ||
	    strcmp(key, "placeholder_programs") == 0) {
		bool names = key[0] == 'p' && key[1] == 'r';

		v = userdb_split(val, &n);
		if (v == NULL)
			return USERDB_E_NOMEM;
		for (size_t i = 0; i < n && !names; i++) {
			if (v[i][0] != '/') {
				userdb_strv_free(&v, &n);
				snprintf(err, errlen, "%.32s: absolute paths", key);
				return USERDB_E_CONFIG;
			}
		}
		if (names) {
			old = s->names;
			userdb_strv_free(&old, &s->nnames);
			s->names = v;
			s->nnames = n;
		} else {
			old = s->programs;
			userdb_strv_free(&old, &s->nprograms);
			s->programs = v;
			s->nprograms = n;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown key \"%.64s\"", key);
	return USERDB_E_CONFIG;
}

int
userdb_settings_parse(const char *text, size_t len, struct userdb_settings *s,
    char *err, size_t errlen)
{
	char *copy = NULL, *p, *end, *line, lerr[200];
	unsigned lineno = 0, seen = 0;
	int rc;

	/* the lines are cut in a heap copy: this runs inside the NSS module,
	 * on whatever small stack the caller's thread has */
	rc = userdb_settings_defaults(s);
	if (rc != 0)
		return rc;
	if (memchr(text, '\0', len) != NULL || len > UDB_CONF_MAX) {
		rc = USERDB_E_CONFIG;
		snprintf(lerr, sizeof(lerr), "NUL byte or over %d bytes", UDB_CONF_MAX);
		goto out;
	}
	copy = malloc(len + 1);
	if (copy == NULL) {
		userdb_settings_free(s);
		return USERDB_E_NOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	p = copy;
	end = copy + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl != NULL ? nl : end) - p);
		char *k, *v, *eq, *t;
		static const char *const keys[] = { "uid_range", "home", "shell",
		    "provision_names", "placeholder_programs" };

		line = p;
		line[l] = '\0';
		p += l + (nl != NULL);
		lineno++;
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		if (*k == '#' || *k == '\0')
			continue;
		eq = strchr(k, '=');
		if (eq == NULL) {
			rc = USERDB_E_CONFIG;
			snprintf(lerr, sizeof(lerr), "line %u: expected key = value", lineno);
			goto out;
		}
		for (t = eq; t > k && (t[-1] == ' ' || t[-1] == '\t'); t--)
			;
		*t = '\0';
		for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (t = v + strlen(v); t > v && (t[-1] == ' ' || t[-1] == '\t' ||
		    t[-1] == '\r'); t--)
			;
		*t = '\0';
		for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strcmp(k, keys[i]) == 0) {
				if (seen & (1u << i)) {
					rc = USERDB_E_CONFIG;
					snprintf(lerr, sizeof(lerr), "line %u: %s set twice",
					    lineno, keys[i]);
					goto out;
				}
				seen |= 1u << i;
			}
		}
		rc = userdb_settings_set(s, k, v, lerr, sizeof(lerr));
		if (rc != 0) {
			char tmp[sizeof(lerr)];

			memcpy(tmp, lerr, sizeof(tmp));
			snprintf(lerr, sizeof(lerr), "line %u: %.150s", lineno, tmp);
			goto out;
		}
	}
	rc = 0;
out:
	free(copy);
	if (rc != 0) {
		if (errlen > 0)
			snprintf(err, errlen, "%s", lerr);
		userdb_settings_free(s);
		if (userdb_settings_defaults(s) != 0)
			return USERDB_E_NOMEM;
	}
	return rc;
}

int
userdb_settings_load(const char *path, struct userdb_settings *s, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	long got;
	int fd, rc;

	if (errlen > 0)
		err[0] = '\0';
	if (path == NULL)
		path = userdb_conf_path();
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		rc = userdb_settings_defaults(s);
		if (rc == 0 && e != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(e));
			rc = e == ELOOP ? USERDB_E_UNSAFE : USERDB_E_CONFIG;
		}
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022) != 0) {
		close(fd);
		rc = userdb_settings_defaults(s);
		snprintf(err, errlen, "%s: not a regular file owned by root and "
		    "closed to writes by others", path);
		return rc != 0 ? rc : USERDB_E_UNSAFE;
	}
	if (st.st_size > UDB_CONF_MAX) {
		close(fd);
		rc = userdb_settings_defaults(s);
		snprintf(err, errlen, "%s: over %d bytes", path, UDB_CONF_MAX);
		return rc != 0 ? rc : USERDB_E_CONFIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		memset(s, 0, sizeof(*s));
		return USERDB_E_NOMEM;
	}
	got = st.st_size;
	if (udb_read_whole(fd, buf, (size_t)got) != 0) {
		close(fd);
		free(buf);
		snprintf(err, errlen, "%s: cannot be read whole", path);
		memset(s, 0, sizeof(*s));
		return USERDB_E_CONFIG;
	}
	close(fd);
	rc = userdb_settings_parse(buf, (size_t)got, s, err, errlen);
	free(buf);
	return rc;
}

bool
userdb_settings_match(const struct userdb_settings *s, const char *name)
{
	for (size_t i = 0; i < s->nnames; i++)
		if (fnmatch(s->names[i], name, 0) == 0)
			return true;
	return false;
}

int
userdb_settings_home(const struct userdb_settings *s, const char *name,
    char *out, size_t outlen)
{
	size_t o = 0, nl = strlen(name);

	for (const char *p = s->home; *p; p++) {
		const char *add = p;
		size_t al = 1;

		if (*p == '%') {
			if (p[1] == 'u') {
				add = name;
				al = nl;
			} else if (p[1] != '%') {
				return USERDB_E_INVALID;
			}
			p++;
		}
		if (o + al >= outlen)
			return USERDB_E_INVALID;
		memcpy(out + o, add, al);
		o += al;
	}
	if (outlen == 0)
		return USERDB_E_INVALID;
	out[o] = '\0';
	return userdb_field_ok(out, true) ? 0 : USERDB_E_INVALID;
}

/* ---------------------------------------------------------------- reader */

static const char *
userdb_str(const struct userdb *db, uint32_t off)
{
	if (off >= db->hdr->str_len)
		return NULL;
	return (const char *)db->map + db->hdr->str_off + off;
}

static bool
userdb_section_ok(uint64_t size, uint64_t off, uint64_t len, uint64_t align)
{
	return off % align == 0 && off <= size && len <= size - off;
}

int
userdb_open_fd(int fd, struct userdb **out)
{
	struct userdb *db;
	const struct udb_hdr *h;
	struct stat st;
	void *m;

	*out = NULL;
	if (fstat(fd, &st) != 0)
		return USERDB_E_IO;
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0)
		return USERDB_E_UNSAFE;
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return USERDB_E_NOMEM;
	if (st.st_size == 0) {
		*out = db;   /* an empty file is an empty database */
		return 0;
	}
	if ((uint64_t)st.st_size < sizeof(struct udb_hdr) ||
	    st.st_size > USERDB_FILE_MAX) {
		free(db);
		return USERDB_E_CORRUPT;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		free(db);
		return errno == ENOMEM ? USERDB_E_NOMEM : USERDB_E_IO;
	}
	db->map = m;
	db->size = (size_t)st.st_size;
	db->dev = st.st_dev;
	db->ino = st.st_ino;
	h = m;
	if (memcmp(h->magic, UDB_MAGIC, 8) != 0 ||
	    h->hdr_size != sizeof(*h) || h->rec_size != sizeof(struct udb_rec) ||
	    h->file_size != (uint64_t)st.st_size || h->nrec > USERDB_USERS_MAX ||
	    h->nlive > h->nrec ||
	    !userdb_section_ok(db->size, h->rec_off,
	    (uint64_t)h->nrec * sizeof(struct udb_rec), 8) ||
	    !userdb_section_ok(db->size, h->name_off, (uint64_t)h->nlive * 4, 4) ||
	    !userdb_section_ok(db->size, h->gid_off, (uint64_t)h->gid_count * 4, 4) ||
	    h->str_len == 0 ||
	    !userdb_section_ok(db->size, h->str_off, h->str_len, 1) ||
	    db->map[h->str_off + h->str_len - 1] != '\0') {
		munmap(m, db->size);
		free(db);
		return USERDB_E_CORRUPT;
	}
	db->hdr = h;
	*out = db;
	return 0;
}

int
userdb_open(const char *dir, struct userdb **out)
{
	char path[PATH_MAX];
	int fd, rc;

	*out = NULL;
	if (dir == NULL)
		dir = userdb_dir();
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, USERDB_DB_NAME) >=
	    sizeof(path))
		return USERDB_E_INVALID;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*out = calloc(1, sizeof(**out));
			return *out != NULL ? 0 : USERDB_E_NOMEM;
		}
		return errno == ELOOP ? USERDB_E_UNSAFE : USERDB_E_IO;
	}
	rc = userdb_open_fd(fd, out);
	close(fd);
	return rc;
}

void
userdb_close(struct userdb **db)
{
	if (db == NULL || *db == NULL)
		return;
	if ((*db)->map != NULL)
		munmap((void *)(*db)->map, (*db)->size);
	free(*db);
	*db = NULL;
}

uint64_t
userdb_generation(const struct userdb *db)
{
	return db->hdr != NULL ? db->hdr->generation : 0;
}

size_t
userdb_count(const struct userdb *db)
{
	return db->hdr != NULL ? db->hdr->nrec : 0;
}

static const struct udb_rec *
userdb_rec(const struct userdb *db, size_t i)
{
	return (const struct udb_rec *)(db->map + db->hdr->rec_off) + i;
}

/* Fill u from record r; USERDB_E_CORRUPT if a field points outside. */
static int
userdb_fill(const struct userdb *db, const struct udb_rec *r,
    struct userdb_user *u)
{
	memset(u, 0, sizeof(*u));
	u->name = userdb_str(db, r->name);
	u->gecos = userdb_str(db, r->gecos);
	u->home = userdb_str(db, r->home);
	u->shell = userdb_str(db, r->shell);
	u->issuer = userdb_str(db, r->issuer);
	u->sub = userdb_str(db, r->sub);
	if (u->name == NULL || u->gecos == NULL || u->home == NULL ||
	    u->shell == NULL || u->issuer == NULL || u->sub == NULL ||
	    r->ngroups > USERDB_GROUPS_MAX || r->groups > db->hdr->gid_count ||
	    r->ngroups > db->hdr->gid_count - r->groups)
		return USERDB_E_CORRUPT;
	u->uid = r->uid;
	u->gid = r->gid;
	u->flags = r->flags;
	u->created = r->created;
#if UDB_STAMP_IN_PLACE
	/* one aligned load: a writer may stamp it in place (userdb.h) */
	u->last_seen = __atomic_load_n(&r->last_seen, __ATOMIC_RELAXED);
#else
	u->last_seen = r->last_seen;
#endif
	u->groups = (const uint32_t *)(db->map + db->hdr->gid_off) + r->groups;
	u->ngroups = r->ngroups;
	return 0;
}

int
userdb_get(const struct userdb *db, size_t i, struct userdb_user *u)
{
	if (i >= userdb_count(db))
		return USERDB_E_NOTFOUND;
	return userdb_fill(db, userdb_rec(db, i), u);
}

/* Index of the record with uid in the uid-sorted table, or -1. */
static long
userdb_find_uid(const struct userdb *db, uint32_t uid)
{
	size_t lo = 0, hi = userdb_count(db);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t v = userdb_rec(db, mid)->uid;

		if (v == uid)
			return (long)mid;
		if (v < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

bool
userdb_uid_used(const struct userdb *db, uint32_t uid)
{
	return userdb_find_uid(db, uid) >= 0;
}

int
userdb_by_uid(const struct userdb *db, uint32_t uid, struct userdb_user *u)
{
	long i = userdb_find_uid(db, uid);
	int rc;

	if (i < 0)
		return USERDB_E_NOTFOUND;
	rc = userdb_fill(db, userdb_rec(db, (size_t)i), u);
	if (rc == 0 && (u->flags & USERDB_TOMBSTONE))
		rc = USERDB_E_NOTFOUND;
	return rc;
}

int
userdb_by_gid(const struct userdb *db, uint32_t gid, struct userdb_user *u)
{
	int rc = userdb_by_uid(db, gid, u);

	if (rc == 0 && u->gid != gid)
		rc = USERDB_E_NOTFOUND;
	return rc;
}

/* userdb_by_name, and the record's index in the file into *at. */
static int
userdb_by_name_at(const struct userdb *db, const char *name,
    struct userdb_user *u, size_t *at)
{
	const uint32_t *idx;
	size_t lo = 0, hi;

	if (db->hdr == NULL)
		return USERDB_E_NOTFOUND;
	idx = (const uint32_t *)(db->map + db->hdr->name_off);
	hi = db->hdr->nlive;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct udb_rec *r;
		const char *s;
		int c;

		if (idx[mid] >= db->hdr->nrec)
			return USERDB_E_CORRUPT;
		r = userdb_rec(db, idx[mid]);
		s = userdb_str(db, r->name);
		if (s == NULL)
			return USERDB_E_CORRUPT;
		c = strcmp(name, s);
		if (c == 0) {
			int rc = userdb_fill(db, r, u);

			if (rc == 0 && (u->flags & USERDB_TOMBSTONE))
				rc = USERDB_E_NOTFOUND;
			*at = idx[mid];
			return rc;
		}
		if (c > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return USERDB_E_NOTFOUND;
}

int
userdb_by_name(const struct userdb *db, const char *name,
    struct userdb_user *u)
{
	size_t at;

	return userdb_by_name_at(db, name, u, &at);
}

/* ---------------------------------------------------------------- allocator */

struct udb_iv {
	uint32_t lo, hi;
};

struct udb_ivs {
	struct udb_iv *v;
	size_t n, cap;
};

static int
userdb_iv_add(struct udb_ivs *s, uint32_t lo, uint32_t hi)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct udb_iv *v;

		if (cap > ((size_t)USERDB_USERS_MAX + (1u << 20)) * 4)
			return USERDB_E_NOMEM;
		v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return USERDB_E_NOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].lo = lo;
	s->v[s->n].hi = hi;
	s->n++;
	return 0;
}

static bool
userdb_num(const char *p, const char *e, uint32_t *v)
{
	return userdb_parse_u32(p, e, v);
}

/*
 * The numbers a colon-separated file uses: fields f1 and f2 (1-based;
 * 0 = none) as single numbers, or, with range set, field 1 as a start
 * and field 2 as a count (/etc/subuid).  A missing file adds nothing;
 * bad lines are skipped (they name no number).
 */
static int
userdb_etc_scan(const char *path, int f1, int f2, bool range,
    struct udb_ivs *out)
{
	struct stat st;
	char *buf = NULL, *p, *end;
	int fd, rc = 0;
	long got = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? 0 : USERDB_E_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > UDB_ETC_MAX) {
		close(fd);
		return USERDB_E_IO;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return USERDB_E_NOMEM;
	}
	got = st.st_size;
	if (udb_read_whole(fd, buf, (size_t)got) != 0) {
		close(fd);
		free(buf);
		return USERDB_E_IO;	/* a number it holds could be missed */
	}
	close(fd);
	buf[got] = '\0';
	end = buf + got;
	for (p = buf; p < end && rc == 0;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl != NULL ? nl : end;
		const char *fs[8];
		const char *fe[8];
		int nf = 0;
		uint32_t a, b;

		fs[0] = p;
		for (char *q = p; q < le && nf < 7; q++) {
			if (*q == ':') {
				fe[nf] = q;
				fs[++nf] = q + 1;
			}
		}
		fe[nf] = le;
		nf++;
		if (range) {
			if (nf >= 3 && userdb_num(fs[1], fe[1], &a) &&
			    userdb_num(fs[2], fe[2], &b) && b > 0)
				rc = userdb_iv_add(out, a, (uint64_t)a + b - 1 >
				    UINT32_MAX ? UINT32_MAX : a + b - 1);
		} else {
			if (f1 > 0 && nf > f1 && userdb_num(fs[f1], fe[f1], &a))
				rc = userdb_iv_add(out, a, a);
			if (rc == 0 && f2 > 0 && nf > f2 &&
			    userdb_num(fs[f2], fe[f2], &b))
				rc = userdb_iv_add(out, b, b);
		}
		p = le + 1;
	}
	free(buf);
	return rc;
}

/* The UIDs and primary GIDs of /etc/passwd and the GIDs of /etc/group,
 * one interval [n, n] each, appended to out. */
static int
userdb_etc_ids(struct udb_ivs *out)
{
	int rc;

	rc = userdb_etc_scan("/etc/passwd", 2, 3, false, out);
	if (rc == 0)
		rc = userdb_etc_scan("/etc/group", 2, 0, false, out);
	return rc;
}

/* The ranges of /etc/subuid and /etc/subgid, appended to out. */
static int
userdb_etc_subids(struct udb_ivs *out)
{
	int rc;

	rc = userdb_etc_scan("/etc/subuid", 0, 0, true, out);
	if (rc == 0)
		rc = userdb_etc_scan("/etc/subgid", 0, 0, true, out);
	return rc;
}

/* Every number /etc holds for the allocator: the two above. */
static int
userdb_etc_ivs(struct udb_ivs *out)
{
	int rc;

	rc = userdb_etc_ids(out);
	if (rc == 0)
		rc = userdb_etc_subids(out);
	return rc;
}

static int
userdb_iv_cmp(const void *a, const void *b)
{
	const struct udb_iv *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/*
 * The lowest number in [min, max] in none of the intervals (sorted here)
 * and not taken(n).  0, USERDB_E_EXHAUSTED.
 */
static int
userdb_lowest_free(struct udb_ivs *ivs, uint32_t min, uint32_t max,
    userdb_taken_fn taken, void *arg, uint32_t *uid)
{
	uint64_t cand = min;
	size_t i = 0;

	if (ivs->n > 1)
		qsort(ivs->v, ivs->n, sizeof(*ivs->v), userdb_iv_cmp);
	while (cand <= max) {
		while (i < ivs->n && ivs->v[i].hi < cand)
			i++;
		if (i < ivs->n && ivs->v[i].lo <= cand) {
			cand = (uint64_t)ivs->v[i].hi + 1;
			continue;
		}
		if (userdb_reserved_id((uint32_t)cand) ||
		    (taken != NULL && taken((uint32_t)cand, arg))) {
			cand++;
			continue;
		}
		*uid = (uint32_t)cand;
		return 0;
	}
	return USERDB_E_EXHAUSTED;
}

int
userdb_predict_uid(const struct userdb *db, const struct userdb_settings *s,
    uint32_t *uid)
{
	struct udb_ivs ivs = { 0 };
	int rc = 0;

	if (!userdb_range_ok(s->uid_min, s->uid_max))
		return USERDB_E_RANGE;
	/* the records are in UID order: runs of consecutive UIDs become one
	 * interval (any order stays correct, just less compact) */
	for (size_t i = 0; i < userdb_count(db) && rc == 0; i++) {
		uint32_t u = userdb_rec(db, i)->uid;

		if (u < s->uid_min || u > s->uid_max)
			continue;
		if (ivs.n > 0 && ivs.v[ivs.n - 1].hi + 1 == u)
			ivs.v[ivs.n - 1].hi = u;
		else
			rc = userdb_iv_add(&ivs, u, u);
	}
	if (rc == 0)
		rc = userdb_etc_ivs(&ivs);
	if (rc == 0)
		rc = userdb_lowest_free(&ivs, s->uid_min, s->uid_max, NULL, NULL, uid);
	free(ivs.v);
	return rc;
}

/* ---------------------------------------------------------------- writer */

struct udb_mrec {
	char *name, *gecos, *home, *shell, *issuer, *sub;
	uint32_t uid, flags;
	int64_t created, last_seen;
	uint32_t *groups;
	size_t ngroups;
};

/* Open-addressing table of record indexes + 1 (0 = empty). */
struct udb_tab {
	uint32_t *slot;
	size_t mask;
};

struct userdb_txn {
	char dir[PATH_MAX];
	int lockfd;
	struct userdb *db;
	struct udb_mrec *r;
	size_t n, cap;
	struct udb_tab byname, byuid, bysub;
	bool tabs_ok;
	struct udb_ivs etc;     /* numbers /etc uses, loaded once */
	bool etc_loaded;
	/* numbers /etc/passwd and /etc/group use, sorted, for add() */
	struct udb_ivs etcsorted;
	/* Changed beyond last_seen: commit rewrites the file.  Else the
	 * records at stamp[0..nstamp) (index = position in the file, as
	 * loaded) only got a new last_seen: commit writes those in place. */
	bool changed;
	size_t stamp[UDB_STAMP_MAX];
	int64_t stamp_at[UDB_STAMP_MAX];
	size_t nstamp;
	/* The records are copied into r only when a change needs them
	 * (userdb_txn_load); a stamp does not. */
	bool loaded;
};

static uint64_t
userdb_hash(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t
userdb_hash_str(const char *s)
{
	return userdb_hash(s, strlen(s), 14695981039346656037ull);
}

static uint64_t
userdb_hash_sub(const char *iss, const char *sub)
{
	uint64_t h = userdb_hash(iss, strlen(iss) + 1, 14695981039346656037ull);

	return userdb_hash(sub, strlen(sub), h);
}

static uint64_t
userdb_hash_uid(uint32_t uid)
{
	return userdb_hash(&uid, sizeof(uid), 14695981039346656037ull);
}

static void
userdb_tab_put(struct udb_tab *t, uint64_t h, size_t idx)
{
	size_t i = (size_t)h & t->mask;

	while (t->slot[i] != 0)
		i = (i + 1) & t->mask;
	t->slot[i] = (uint32_t)(idx + 1);
}

static int
userdb_tabs_build(struct userdb_txn *t)
{
	size_t size = 64;

	while (size < t->n * 2 + 2)
		size *= 2;
	free(t->byname.slot);
	free(t->byuid.slot);
	free(t->bysub.slot);
	t->byname.slot = calloc(size, sizeof(uint32_t));
	t->byuid.slot = calloc(size, sizeof(uint32_t));
	t->bysub.slot = calloc(size, sizeof(uint32_t));
	t->tabs_ok = false;
	if (t->byname.slot == NULL || t->byuid.slot == NULL || t->bysub.slot == NULL)
		return USERDB_E_NOMEM;
	t->byname.mask = t->byuid.mask = t->bysub.mask = size - 1;
	for (size_t i = 0; i < t->n; i++) {
		const struct udb_mrec *m = &t->r[i];

		userdb_tab_put(&t->byuid, userdb_hash_uid(m->uid), i);
		if (m->flags & USERDB_TOMBSTONE)
			continue;
		userdb_tab_put(&t->byname, userdb_hash_str(m->name), i);
		userdb_tab_put(&t->bysub, userdb_hash_sub(m->issuer, m->sub), i);
	}
	t->tabs_ok = true;
	return 0;
}

/* Index of the live record named name, or -1. */
static long
userdb_txn_find_name(const struct userdb_txn *t, const char *name)
{
	size_t i = (size_t)userdb_hash_str(name) & t->byname.mask;

	for (; t->byname.slot[i] != 0; i = (i + 1) & t->byname.mask) {
		size_t k = t->byname.slot[i] - 1;

		if (strcmp(t->r[k].name, name) == 0)
			return (long)k;
	}
	return -1;
}

static long
userdb_txn_find_sub(const struct userdb_txn *t, const char *iss,
    const char *sub)
{
	size_t i = (size_t)userdb_hash_sub(iss, sub) & t->bysub.mask;

	for (; t->bysub.slot[i] != 0; i = (i + 1) & t->bysub.mask) {
		size_t k = t->bysub.slot[i] - 1;

		if (strcmp(t->r[k].issuer, iss) == 0 && strcmp(t->r[k].sub, sub) == 0)
			return (long)k;
	}
	return -1;
}

static bool
userdb_txn_uid_used(const struct userdb_txn *t, uint32_t uid)
{
	size_t i = (size_t)userdb_hash_uid(uid) & t->byuid.mask;

	for (; t->byuid.slot[i] != 0; i = (i + 1) & t->byuid.mask)
		if (t->r[t->byuid.slot[i] - 1].uid == uid)
			return true;
	return false;
}

static void
userdb_mrec_clear(struct udb_mrec *m)
{
	free(m->name);
	free(m->gecos);
	free(m->home);
	free(m->shell);
	free(m->issuer);
	free(m->sub);
	free(m->groups);
	memset(m, 0, sizeof(*m));
}

/* Append a record (strings copied); 0 or USERDB_E_NOMEM. */
static int
userdb_txn_push(struct userdb_txn *t, const struct userdb_user *u)
{
	struct udb_mrec *m;

	if (t->n >= USERDB_USERS_MAX)
		return USERDB_E_INVALID;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct udb_mrec *v = realloc(t->r, cap * sizeof(*v));

		if (v == NULL)
			return USERDB_E_NOMEM;
		t->r = v;
		t->cap = cap;
	}
	m = &t->r[t->n];
	memset(m, 0, sizeof(*m));
	m->name = strdup(u->name);
	m->gecos = strdup(u->gecos);
	m->home = strdup(u->home);
	m->shell = strdup(u->shell);
	m->issuer = strdup(u->issuer);
	m->sub = strdup(u->sub);
	if (u->ngroups > 0) {
		m->groups = malloc(u->ngroups * sizeof(uint32_t));
		if (m->groups != NULL)
			memcpy(m->groups, u->groups, u->ngroups * sizeof(uint32_t));
	}
	if (m->name == NULL || m->gecos == NULL || m->home == NULL ||
	    m->shell == NULL || m->issuer == NULL || m->sub == NULL ||
	    (u->ngroups > 0 && m->groups == NULL)) {
		userdb_mrec_clear(m);
		return USERDB_E_NOMEM;
	}
	m->ngroups = u->ngroups;
	m->uid = u->uid;
	m->flags = u->flags;
	m->created = u->created;
	m->last_seen = u->last_seen;
	t->n++;
	return 0;
}

/* Check (or create 0755) a root-owned directory closed to others' writes. */
static int
userdb_dir_ok(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT)
			return USERDB_E_IO;
		/* Two first writers may race here: EEXIST is the other one's
		 * directory, checked below like any other. */
		if (mkdir(dir, 0755) == 0) {
			if (chmod(dir, 0755) != 0)
				return USERDB_E_IO;
		} else if (errno != EEXIST) {
			return USERDB_E_IO;
		}
		if (lstat(dir, &st) != 0)
			return USERDB_E_IO;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0)
		return USERDB_E_UNSAFE;
	return 0;
}

static int
userdb_lock(const char *dir, int *fdp)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, USERDB_LOCK_NAME) >=
	    sizeof(path))
		return USERDB_E_INVALID;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return errno == ELOOP ? USERDB_E_UNSAFE : USERDB_E_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) != 0) {
		close(fd);
		return USERDB_E_UNSAFE;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			close(fd);
			return USERDB_E_IO;
		}
	}
	*fdp = fd;
	return 0;
}

void
userdb_abort(struct userdb_txn **tp)
{
	struct userdb_txn *t;

	if (tp == NULL || *tp == NULL)
		return;
	t = *tp;
	for (size_t i = 0; i < t->n; i++)
		userdb_mrec_clear(&t->r[i]);
	free(t->r);
	free(t->byname.slot);
	free(t->byuid.slot);
	free(t->bysub.slot);
	free(t->etc.v);
	free(t->etcsorted.v);
	userdb_close(&t->db);
	if (t->lockfd >= 0)
		close(t->lockfd);
	free(t);
	*tp = NULL;
}

int
userdb_begin(const char *dir, struct userdb_txn **tp)
{
	struct userdb_txn *t;
	int rc;

	*tp = NULL;
	if (dir == NULL)
		dir = userdb_dir();
	if (geteuid() != 0)
		return USERDB_E_UNSAFE;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return USERDB_E_NOMEM;
	t->lockfd = -1;
	if (strlen(dir) >= sizeof(t->dir) - 32) {
		rc = USERDB_E_INVALID;
		goto fail;
	}
	(void)snprintf(t->dir, sizeof(t->dir), "%s", dir);
	rc = userdb_dir_ok(dir);
	if (rc == 0)
		rc = userdb_lock(dir, &t->lockfd);
	if (rc == 0)
		rc = userdb_open(dir, &t->db);
	/* every record is checked now (a corrupt one fails here, as it
	 * did when begin copied them all); copied only when needed */
	for (size_t i = 0; rc == 0 && i < userdb_count(t->db); i++) {
		struct userdb_user u;

		rc = userdb_get(t->db, i, &u);
	}
	if (rc != 0)
		goto fail;
	*tp = t;
	return 0;
fail:
	userdb_abort(&t);
	return rc;
}

/* Copy the snapshot's records into t (once), with the stamps made so
 * far, and index them.  0, USERDB_E_NOMEM or USERDB_E_CORRUPT. */
static int
userdb_txn_load(struct userdb_txn *t)
{
	int rc = 0;

	if (t->loaded)
		return 0;
	for (size_t i = 0; rc == 0 && i < userdb_count(t->db); i++) {
		struct userdb_user u;

		rc = userdb_get(t->db, i, &u);
		if (rc == 0)
			rc = userdb_txn_push(t, &u);
	}
	for (size_t k = 0; rc == 0 && k < t->nstamp; k++)
		t->r[t->stamp[k]].last_seen = t->stamp_at[k];
	if (rc == 0)
		rc = userdb_tabs_build(t);
	if (rc == 0)
		t->loaded = true;
	return rc;
}

const struct userdb *
userdb_txn_db(const struct userdb_txn *t)
{
	return t->db;
}

static int
userdb_txn_etc(struct userdb_txn *t)
{
	int rc;

	if (t->etc_loaded)
		return 0;
	/* /etc/passwd and /etc/group read once: their numbers, then a
	 * copy of them with the subordinate ranges for the allocator */
	rc = userdb_etc_ids(&t->etcsorted);
	for (size_t i = 0; rc == 0 && i < t->etcsorted.n; i++)
		rc = userdb_iv_add(&t->etc, t->etcsorted.v[i].lo,
		    t->etcsorted.v[i].hi);
	if (rc == 0)
		rc = userdb_etc_subids(&t->etc);
	if (rc != 0)
		return rc;
	qsort(t->etcsorted.v, t->etcsorted.n, sizeof(*t->etcsorted.v), userdb_iv_cmp);
	t->etc_loaded = true;
	return 0;
}

int
userdb_txn_next_uid(struct userdb_txn *t, const struct userdb_settings *s,
    userdb_taken_fn taken, void *arg, uint32_t *uid)
{
	struct udb_ivs ivs = { 0 };
	int rc;

	if (!userdb_range_ok(s->uid_min, s->uid_max))
		return USERDB_E_RANGE;
	rc = userdb_txn_load(t);
	if (rc == 0)
		rc = userdb_txn_etc(t);
	for (size_t i = 0; rc == 0 && i < t->etc.n; i++)
		rc = userdb_iv_add(&ivs, t->etc.v[i].lo, t->etc.v[i].hi);
	for (size_t i = 0; rc == 0 && i < t->n; i++) {
		uint32_t u = t->r[i].uid;

		if (u < s->uid_min || u > s->uid_max)
			continue;
		/* loaded in UID order: merge runs (as in userdb_predict_uid) */
		if (ivs.n > 0 && ivs.v[ivs.n - 1].hi + 1 == u)
			ivs.v[ivs.n - 1].hi = u;
		else
			rc = userdb_iv_add(&ivs, u, u);
	}
	if (rc == 0)
		rc = userdb_lowest_free(&ivs, s->uid_min, s->uid_max, taken, arg, uid);
	free(ivs.v);
	return rc;
}

int
userdb_txn_add(struct userdb_txn *t, const struct userdb_new *n)
{
	struct userdb_user u;
	size_t lo = 0, hi;
	int rc;

	if (!userdb_name_ok(n->name) || !userdb_field_ok(n->gecos, false) ||
	    !userdb_field_ok(n->home, true) || !userdb_field_ok(n->shell, true) ||
	    !userdb_ident_ok(n->issuer) || !userdb_ident_ok(n->sub) ||
	    n->ngroups > USERDB_GROUPS_MAX || (n->ngroups > 0 && n->groups == NULL))
		return USERDB_E_INVALID;
	rc = userdb_txn_load(t);
	if (rc != 0)
		return rc;
	if (userdb_txn_find_name(t, n->name) >= 0)
		return USERDB_E_NAME_TAKEN;
	if (userdb_txn_find_sub(t, n->issuer, n->sub) >= 0)
		return USERDB_E_SUB_TAKEN;
	if (userdb_reserved_id(n->uid) || userdb_txn_uid_used(t, n->uid))
		return USERDB_E_UID_TAKEN;
	rc = userdb_txn_etc(t);
	if (rc != 0)
		return rc;
	hi = t->etcsorted.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->etcsorted.v[mid].lo == n->uid)
			return USERDB_E_UID_TAKEN;
		if (t->etcsorted.v[mid].lo < n->uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	memset(&u, 0, sizeof(u));
	u.name = n->name;
	u.gecos = n->gecos;
	u.home = n->home;
	u.shell = n->shell;
	u.issuer = n->issuer;
	u.sub = n->sub;
	u.uid = u.gid = n->uid;
	u.created = u.last_seen = n->now;
	u.groups = n->groups;
	u.ngroups = n->ngroups;
	rc = userdb_txn_push(t, &u);
	if (rc != 0)
		return rc;
	t->changed = true;
	if (t->n * 2 + 2 > t->byname.mask + 1)
		return userdb_tabs_build(t);
	userdb_tab_put(&t->byuid, userdb_hash_uid(n->uid), t->n - 1);
	userdb_tab_put(&t->byname, userdb_hash_str(n->name), t->n - 1);
	userdb_tab_put(&t->bysub, userdb_hash_sub(n->issuer, n->sub), t->n - 1);
	return 0;
}

/* Note a new last_seen of the record at file index i for an in-place
 * write; past UDB_STAMP_MAX records (or a record not in the file) the
 * whole file is written instead.  0 or userdb_txn_load's code. */
static int
userdb_txn_stamp(struct userdb_txn *t, size_t i, int64_t now)
{
	int rc;

	for (size_t k = 0; k < t->nstamp; k++) {
		if (t->stamp[k] == i) {
			t->stamp_at[k] = now;
			goto out;
		}
	}
	if (t->nstamp < UDB_STAMP_MAX && i < userdb_count(t->db)) {
		t->stamp[t->nstamp] = i;
		t->stamp_at[t->nstamp++] = now;
		goto out;
	}
	rc = userdb_txn_load(t);
	if (rc != 0)
		return rc;
	t->changed = true;
out:
	if (t->loaded)
		t->r[i].last_seen = now;
	return 0;
}

static bool
userdb_same_groups(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

int
userdb_txn_touch(struct userdb_txn *t, const char *name, int64_t now,
    const uint32_t *groups, size_t ngroups)
{
	uint32_t *g = NULL;
	long i;
	int rc;

	if (!t->loaded) {
		/* Only the time (the same groups): a stamp, nothing copied */
		struct userdb_user u;
		size_t at = 0;

		rc = userdb_by_name_at(t->db, name, &u, &at);
		if (rc != 0)
			return rc == USERDB_E_CORRUPT ? rc : USERDB_E_NOTFOUND;
		if (ngroups > USERDB_GROUPS_MAX || (ngroups > 0 && groups == NULL))
			return USERDB_E_INVALID;
		if (userdb_same_groups(u.groups, u.ngroups, groups, ngroups))
			return userdb_txn_stamp(t, at, now);
		rc = userdb_txn_load(t);
		if (rc != 0)
			return rc;
	}
	i = userdb_txn_find_name(t, name);
	if (i < 0)
		return USERDB_E_NOTFOUND;
	if (ngroups > USERDB_GROUPS_MAX || (ngroups > 0 && groups == NULL))
		return USERDB_E_INVALID;
	if (userdb_same_groups(t->r[i].groups, t->r[i].ngroups, groups, ngroups))
		return userdb_txn_stamp(t, (size_t)i, now);
	t->changed = true;
	if (ngroups > 0) {
		g = malloc(ngroups * sizeof(*g));
		if (g == NULL)
			return USERDB_E_NOMEM;
		memcpy(g, groups, ngroups * sizeof(*g));
	}
	free(t->r[i].groups);
	t->r[i].groups = g;
	t->r[i].ngroups = ngroups;
	t->r[i].last_seen = now;
	return 0;
}

int
userdb_txn_lock(struct userdb_txn *t, const char *name, bool locked)
{
	long i;
	int rc = userdb_txn_load(t);

	if (rc != 0)
		return rc;
	i = userdb_txn_find_name(t, name);
	if (i < 0)
		return USERDB_E_NOTFOUND;
	t->changed = true;
	if (locked)
		t->r[i].flags |= USERDB_LOCKED;
	else
		t->r[i].flags &= ~USERDB_LOCKED;
	return 0;
}

int
userdb_txn_remove(struct userdb_txn *t, const char *name, int64_t now)
{
	long i;
	int rc = userdb_txn_load(t);

	if (rc != 0)
		return rc;
	i = userdb_txn_find_name(t, name);
	if (i < 0)
		return USERDB_E_NOTFOUND;
	t->changed = true;
	t->r[i].flags |= USERDB_TOMBSTONE;
	t->r[i].last_seen = now;
	free(t->r[i].groups);
	t->r[i].groups = NULL;
	t->r[i].ngroups = 0;
	return userdb_tabs_build(t);
}

/* ---------------------------------------------------------------- serialise */

struct udb_buf {
	unsigned char *p;
	size_t len, cap;
};

static int
userdb_buf_grow(struct udb_buf *b, size_t add)
{
	if (add > (size_t)USERDB_FILE_MAX || b->len > (size_t)USERDB_FILE_MAX - add)
		return USERDB_E_INVALID;
	if (b->len + add > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *p;

		while (cap < b->len + add)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL)
			return USERDB_E_NOMEM;
		b->p = p;
		b->cap = cap;
	}
	return 0;
}

/* Append s with its NUL to the pool; *off its offset ("" is offset 0). */
static int
userdb_pool_add(struct udb_buf *b, const char *s, uint32_t *off)
{
	size_t l = strlen(s) + 1;
	int rc;

	if (s[0] == '\0') {
		*off = 0;
		return 0;
	}
	rc = userdb_buf_grow(b, l);
	if (rc != 0)
		return rc;
	*off = (uint32_t)b->len;
	memcpy(b->p + b->len, s, l);
	b->len += l;
	return 0;
}

static const struct userdb_txn *userdb_sort_txn;

static int
userdb_cmp_uid(const void *a, const void *b)
{
	uint32_t x = userdb_sort_txn->r[*(const uint32_t *)a].uid;
	uint32_t y = userdb_sort_txn->r[*(const uint32_t *)b].uid;

	return x < y ? -1 : x > y;
}

static const struct udb_rec *userdb_sort_recs;
static const unsigned char *userdb_sort_pool;

static int
userdb_cmp_name(const void *a, const void *b)
{
	const struct udb_rec *x = &userdb_sort_recs[*(const uint32_t *)a];
	const struct udb_rec *y = &userdb_sort_recs[*(const uint32_t *)b];

	return strcmp((const char *)userdb_sort_pool + x->name,
	    (const char *)userdb_sort_pool + y->name);
}

/* The whole new file image into *out (malloc'd). Runs under the lock, so
 * the static sort context is not shared with another writer. */
static int
userdb_serialise(const struct userdb_txn *t, struct udb_buf *out)
{
	struct udb_buf pool = { 0 }, gids = { 0 };
	struct udb_rec *recs = NULL;
	uint32_t *order = NULL, *names = NULL, prev_iss = 0;
	const char *prev_iss_s = NULL;
	struct udb_hdr h;
	size_t nlive = 0, off;
	int rc;

	memset(out, 0, sizeof(*out));
	recs = calloc(t->n ? t->n : 1, sizeof(*recs));
	order = calloc(t->n ? t->n : 1, sizeof(*order));
	names = calloc(t->n ? t->n : 1, sizeof(*names));
	rc = (recs == NULL || order == NULL || names == NULL) ? USERDB_E_NOMEM : 0;
	if (rc == 0)
		rc = userdb_buf_grow(&pool, 1);
	if (rc != 0)
		goto out;
	pool.p[pool.len++] = '\0';
	for (size_t i = 0; i < t->n; i++)
		order[i] = (uint32_t)i;
	userdb_sort_txn = t;
	qsort(order, t->n, sizeof(*order), userdb_cmp_uid);
	for (size_t i = 0; i < t->n && rc == 0; i++) {
		const struct udb_mrec *m = &t->r[order[i]];
		struct udb_rec *r = &recs[i];

		r->uid = r->gid = m->uid;
		r->flags = m->flags;
		r->created = m->created;
		r->last_seen = m->last_seen;
		r->ngroups = (uint32_t)m->ngroups;
		r->groups = (uint32_t)(gids.len / 4);
		rc = userdb_pool_add(&pool, m->name, &r->name);
		if (rc == 0)
			rc = userdb_pool_add(&pool, m->gecos, &r->gecos);
		if (rc == 0)
			rc = userdb_pool_add(&pool, m->home, &r->home);
		if (rc == 0)
			rc = userdb_pool_add(&pool, m->shell, &r->shell);
		if (rc == 0 && prev_iss_s != NULL && strcmp(prev_iss_s, m->issuer) == 0) {
			r->issuer = prev_iss;
		} else if (rc == 0) {
			rc = userdb_pool_add(&pool, m->issuer, &r->issuer);
			prev_iss = r->issuer;
			prev_iss_s = m->issuer;
		}
		if (rc == 0)
			rc = userdb_pool_add(&pool, m->sub, &r->sub);
		if (rc == 0 && m->ngroups > 0) {
			rc = userdb_buf_grow(&gids, m->ngroups * 4);
			if (rc == 0 && gids.p == NULL)
				rc = USERDB_E_NOMEM;	/* not reached: grown above */
			if (rc == 0) {
				memcpy(gids.p + gids.len, m->groups, m->ngroups * 4);
				gids.len += m->ngroups * 4;
			}
		}
		if (!(m->flags & USERDB_TOMBSTONE))
			names[nlive++] = (uint32_t)i;
	}
	if (rc != 0)
		goto out;
	userdb_sort_recs = recs;
	userdb_sort_pool = pool.p;
	qsort(names, nlive, sizeof(*names), userdb_cmp_name);

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, UDB_MAGIC, 8);
	h.hdr_size = sizeof(h);
	h.rec_size = sizeof(struct udb_rec);
	h.generation = userdb_generation(t->db) + 1;
	h.nrec = (uint32_t)t->n;
	h.nlive = (uint32_t)nlive;
	off = sizeof(h);
	h.rec_off = (uint32_t)off;
	off += t->n * sizeof(*recs);
	h.name_off = (uint32_t)off;
	off += nlive * 4;
	h.gid_off = (uint32_t)off;
	h.gid_count = (uint32_t)(gids.len / 4);
	off += gids.len;
	h.str_off = (uint32_t)off;
	h.str_len = (uint32_t)pool.len;
	off += pool.len;
	if (off > (size_t)USERDB_FILE_MAX) {
		rc = USERDB_E_INVALID;
		goto out;
	}
	h.file_size = off;
	rc = userdb_buf_grow(out, off);
	if (rc != 0)
		goto out;
	memcpy(out->p, &h, sizeof(h));
	if (t->n > 0)
		memcpy(out->p + h.rec_off, recs, t->n * sizeof(*recs));
	if (nlive > 0)
		memcpy(out->p + h.name_off, names, nlive * 4);
	if (gids.len > 0)
		memcpy(out->p + h.gid_off, gids.p, gids.len);
	memcpy(out->p + h.str_off, pool.p, pool.len);
	out->len = off;
out:
	free(recs);
	free(order);
	free(names);
	free(pool.p);
	free(gids.p);
	if (rc != 0) {
		free(out->p);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

/*
 * A transaction that only moved last_seen of records already in the file
 * (a repeat login with the same groups): store each new time into the
 * live users.db in place, one aligned 8-byte store through a shared
 * mapping, and msync it.  A reader maps the same page-cache page, so it
 * sees the old or the new time, never a mix, and nothing else of the
 * file changes (generation included).  Runs under the exclusive lock:
 * no writer replaces the file meanwhile; the opened file must still be
 * the snapshot's inode, root's and closed to others' writes.  0 when
 * written; 1 when it cannot be done this way (the caller writes the
 * whole file instead, which holds every stamp too).
 */
static int
userdb_stamp_in_place(const struct userdb_txn *t)
{
	const struct userdb *db = t->db;
	char path[PATH_MAX];
	struct stat st;
	long pg = sysconf(_SC_PAGESIZE);
	int fd, rc = 0;

	if (!UDB_STAMP_IN_PLACE || db->hdr == NULL || pg <= 0 ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", t->dir,
	    USERDB_DB_NAME) >= sizeof(path))
		return 1;
	for (size_t k = 0; k < t->nstamp; k++) {
		size_t off = db->hdr->rec_off + t->stamp[k] * sizeof(struct udb_rec) +
		    offsetof(struct udb_rec, last_seen);

		if (t->stamp[k] >= db->hdr->nrec || off % 8 != 0 ||
		    off + 8 > db->size)
			return 1;
	}
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022) != 0 || st.st_dev != db->dev ||
	    st.st_ino != db->ino || (uint64_t)st.st_size != db->size) {
		close(fd);
		return 1;
	}
	for (size_t k = 0; k < t->nstamp && rc == 0; k++) {
		size_t i = t->stamp[k];
		size_t off = db->hdr->rec_off + i * sizeof(struct udb_rec) +
		    offsetof(struct udb_rec, last_seen);
		size_t base = off - off % (size_t)pg, len = off + 8 - base;
		unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, (off_t)base);

		if (m == MAP_FAILED) {
			rc = 1;
			break;
		}
#if UDB_STAMP_IN_PLACE
		__atomic_store_n((int64_t *)(void *)(m + (off - base)),
		    t->stamp_at[k], __ATOMIC_RELAXED);
#endif
		/* not on disk: the whole file then (it holds every stamp) */
		if (msync(m, len, MS_SYNC) != 0)
			rc = 1;
		munmap(m, len);
	}
	close(fd);
	return rc;
}

int
userdb_commit(struct userdb_txn **tp)
{
	struct userdb_txn *t = *tp;
	struct udb_buf img = { 0 };
	char tmp[PATH_MAX], path[PATH_MAX];
	size_t done = 0;
	int fd = -1, dfd, rc;

	if (!t->changed && t->nstamp > 0) {
		rc = userdb_stamp_in_place(t);
		if (rc <= 0) {
			userdb_abort(tp);
			return rc;
		}
	}
	rc = userdb_txn_load(t);
	if (rc == 0)
		rc = userdb_serialise(t, &img);
	if (rc != 0)
		goto out;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", t->dir,
	    USERDB_DB_NAME) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/%s.XXXXXX", t->dir,
	    USERDB_DB_NAME) >= sizeof(tmp)) {
		rc = USERDB_E_INVALID;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = USERDB_E_IO;
		goto out;
	}
	rc = USERDB_E_IO;
	if (fchmod(fd, 0644) != 0)
		goto fail;
	while (done < img.len) {
		ssize_t w = write(fd, img.p + done, img.len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		done += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	dfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = 0;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(img.p);
	userdb_abort(tp);
	return rc;
}
