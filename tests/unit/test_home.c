/*
 * test_home - a provisioned user's home from a skeleton: owner, mode and
 * contents; never through a symbolic link, never chowning something that
 * was already there; HOME_MODE from login.defs.  Runs as root (chown).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "home.h"
#include "tap.h"

#define UID 4242001
#define GID 4242001

static char dir[] = "/tmp/oa2homeXXXXXX";

static void
put(const char *rel, const char *text, mode_t mode)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

static const char *
at(const char *rel)
{
	static char p[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, rel);
	return p[i];
}

int
main(void)
{
	struct stat st;
	const char *why = NULL;
	char target[256];
	ssize_t n;
	int rc;

	if (geteuid() != 0) {
		printf("Bail out! test_home runs as root (chown)\n");
		return 1;
	}
	if (mkdtemp(dir) == NULL)
		abort();
	chmod(dir, 0755);
	mkdir(at("skel"), 0755);
	mkdir(at("skel/.config"), 0750);
	put("skel/.bashrc", "# rc\n", 0644);
	put("skel/.config/app", "x=1\n", 0600);
	if (symlink(".bashrc", at("skel/.profile")) != 0)
		abort();
	mkdir(at("home"), 0755);

	rc = home_create(at("home/alice"), UID, GID, 0700, at("skel"), &why);
	is_int(rc, 0, "home created (%s)", why);
	ok(lstat(at("home/alice"), &st) == 0 && S_ISDIR(st.st_mode),
	    "it is a directory");
	is_int(st.st_uid, UID, "owned by the user");
	is_int(st.st_gid, GID, "and the user's group");
	is_int(st.st_mode & 07777, 0700, "mode 0700");
	ok(lstat(at("home/alice/.bashrc"), &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == UID && (st.st_mode & 0777) == 0644,
	    "skeleton file copied, the user's, its mode kept");
	ok(lstat(at("home/alice/.config"), &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == UID && (st.st_mode & 0777) == 0750,
	    "skeleton directory copied, the user's, its mode kept");
	ok(lstat(at("home/alice/.config/app"), &st) == 0 && st.st_uid == UID,
	    "file in a skeleton directory copied");
	n = readlink(at("home/alice/.profile"), target, sizeof(target) - 1);
	if (n >= 0)
		target[n] = '\0';
	ok(n > 0 && strcmp(target, ".bashrc") == 0 &&
	    lstat(at("home/alice/.profile"), &st) == 0 && st.st_uid == UID,
	    "skeleton link copied as a link, the user's");
	{
		struct dirent **names = NULL;
		int k = scandir(at("home"), &names, NULL, alphasort);

		/* ".", "..", "alice" and nothing else */
		is_int(k, 3, "no temporary left beside the home");
		for (int j = 0; j < k; j++)
			free(names[j]);
		free(names);
	}

	put("home/alice/.bashrc", "# changed by alice\n", 0644);
	rc = home_create(at("home/alice"), UID, GID, 0700, at("skel"), &why);
	is_int(rc, 1, "an existing home of the user is left as it is");

	/* Something an attacker placed at the name is never chowned.  (The
	 * link points at a scratch directory of this test, never at a
	 * directory of the machine: a broken home.c must not chown that.) */
	mkdir(at("target"), 0755);
	if (symlink(at("target"), at("home/mallory")) != 0)
		abort();
	rc = home_create(at("home/mallory"), UID, GID, 0700, at("skel"), &why);
	is_int(rc, OA2_ERR_PERM, "a symbolic link at the path is refused");
	ok(lstat(at("target"), &st) == 0 && st.st_uid == 0,
	    "the link's target is still root's");
	mkdir(at("home/bob"), 0755);
	rc = home_create(at("home/bob"), UID, GID, 0700, at("skel"), &why);
	is_int(rc, OA2_ERR_PERM,
	    "a directory of someone else at the path is refused (%s)", why);
	ok(lstat(at("home/bob"), &st) == 0 && st.st_uid == 0,
	    "and not chowned");

	/* A link or an unsafe directory on the way. */
	if (symlink(at("home"), at("via")) != 0)
		abort();
	rc = home_create(at("via/carol"), UID, GID, 0700, at("skel"), &why);
	is_int(rc, OA2_ERR_PERM, "a link among the parents is refused (%s)",
	    why);
	ok(access(at("home/carol"), F_OK) != 0, "nothing made through it");
	mkdir(at("open"), 0777);
	chmod(at("open"), 0777);
	rc = home_create(at("open/dave"), UID, GID, 0700, at("skel"), &why);
	is_int(rc, OA2_ERR_PERM,
	    "a world-writable parent without the sticky bit is refused");
	mkdir(at("userdir"), 0755);
	if (chown(at("userdir"), UID, GID) != 0)
		abort();
	rc = home_create(at("userdir/erin"), UID, GID, 0700, at("skel"), &why);
	is_int(rc, OA2_ERR_PERM, "a parent not owned by root is refused");

	/* Missing parents are made root:root 0755; no skeleton is fine. */
	rc = home_create(at("new/sub/frank"), UID, GID, 0750, NULL, &why);
	is_int(rc, 0, "missing parents are created (%s)", why);
	ok(lstat(at("new/sub"), &st) == 0 && st.st_uid == 0 &&
	    (st.st_mode & 0777) == 0755, "parent root:root 0755");
	ok(lstat(at("new/sub/frank"), &st) == 0 && st.st_uid == UID &&
	    (st.st_mode & 0777) == 0750, "home with the mode asked for");

	/* login.defs */
	put("defs1", "UMASK 022\n#HOME_MODE 0755\n", 0644);
	is_int(home_mode(at("defs1")), 0700, "HOME_MODE unset: 0700");
	put("defs2", "HOME_MODE\t0750\n", 0644);
	is_int(home_mode(at("defs2")), 0750, "HOME_MODE 0750");
	put("defs3", "HOME_MODE 0777\n", 0644);
	is_int(home_mode(at("defs3")), 0755, "HOME_MODE 0777 capped to 0755");
	put("defs4", "HOME_MODE 9x\n", 0644);
	is_int(home_mode(at("defs4")), 0700, "invalid HOME_MODE ignored");
	is_int(home_mode(at("missing")), 0700, "no login.defs: 0700");

	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
