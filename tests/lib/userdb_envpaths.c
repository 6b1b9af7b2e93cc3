/*
 * userdb_envpaths.c - the test builds' userdb paths: OA2_USERDB_DIR and
 * OA2_USERDB_CONF when set and the process is not AT_SECURE (setuid,
 * setgid, file capabilities), else the built-in ones.  Linked into test
 * programs and the test copy of the NSS module only, never installed.
 */
#include "config.h"

#include <stdlib.h>
#include <sys/auxv.h>

#include "userdb.h"

static const char *
userdb_env(const char *name, const char *dflt)
{
	const char *v;

	if (getauxval(AT_SECURE) != 0)
		return dflt;
	v = getenv(name);
	return v != NULL && v[0] == '/' ? v : dflt;
}

const char *
userdb_dir(void)
{
	return userdb_env("OA2_USERDB_DIR", USERDB_DEFAULT_DIR);
}

const char *
userdb_conf_path(void)
{
	return userdb_env("OA2_USERDB_CONF", USERDB_DEFAULT_CONF);
}
