/*
 * userdb_paths.c - where the provisioned-user database and its settings
 * live, fixed at build time (userdb.h).  Nothing in the environment can
 * move them: the NSS module runs inside setuid programs.  The tests link
 * tests/lib/userdb_envpaths.c instead.
 */
#include "config.h"

#include "userdb.h"

const char *
userdb_dir(void)
{
	return USERDB_DEFAULT_DIR;
}

const char *
userdb_conf_path(void)
{
	return USERDB_DEFAULT_CONF;
}
