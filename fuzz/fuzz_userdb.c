/*
 * fuzz_userdb.c - the provisioned-user database reader (src/userdb.c),
 * the parser of the file every process maps through libnss_oauth2.  The
 * first byte picks the target: 'S' parses the rest as
 * /etc/pam_oauth2-nss.conf (userdb_settings_parse, then the glob and
 * home-template functions); anything else is the whole users.db image,
 * written to a root-owned 0644 scratch file and opened with
 * userdb_open_fd; then every record is read, looked up by name, UID and
 * GID, and a UID is predicted.  Runs as root (the reader insists on a
 * root-owned file).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "userdb.h"

static char path[64];
static int fd = -1;

static void
remove_file(void)
{
	unlink(path);
}

static void
fuzz_settings(const uint8_t *data, size_t size)
{
	struct userdb_settings s;
	char err[200], home[512];

	userdb_settings_parse((const char *)data, size, &s, err, sizeof(err));
	(void)userdb_settings_match(&s, "alice@corp.example");
	(void)userdb_settings_home(&s, "alice", home, sizeof(home));
	userdb_settings_free(&s);
}

static void
fuzz_db(const uint8_t *data, size_t size)
{
	struct userdb_settings s;
	struct userdb *db = NULL;
	struct userdb_user u, v;
	uint32_t uid;
	volatile size_t sink = 0;

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/oa2fuzz-userdb.XXXXXX");
		fd = mkstemp(path);
		if (fd < 0 || fchmod(fd, 0644) != 0)
			abort();
		atexit(remove_file);
	}
	if (ftruncate(fd, 0) != 0 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	if (userdb_open_fd(fd, &db) != 0)
		return;
	for (size_t i = 0; i < userdb_count(db) && i < 4096; i++) {
		if (userdb_get(db, i, &u) != 0)
			continue;
		sink += strlen(u.name) + strlen(u.gecos) + strlen(u.home) +
		    strlen(u.shell) + strlen(u.issuer) + strlen(u.sub);
		for (size_t g = 0; g < u.ngroups; g++)
			sink += u.groups[g];
		if (userdb_by_name(db, u.name, &v) == 0)
			sink += strlen(v.name);
		if (userdb_by_uid(db, u.uid, &v) == 0)
			sink += v.uid;
		(void)userdb_by_gid(db, u.gid, &v);
		(void)userdb_uid_used(db, u.uid + 1);
	}
	(void)userdb_by_name(db, "alice", &u);
	if (userdb_settings_parse("uid_range = 1879048192-1879048292\n", 35,
	    &s, NULL, 0) == 0)
		(void)userdb_predict_uid(db, &s, &uid);
	userdb_settings_free(&s);
	(void)userdb_generation(db);
	userdb_close(&db);
	(void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == 'S')
		fuzz_settings(data + 1, size - 1);
	else
		fuzz_db(data, size);
	return 0;
}
