/*
 * home.h - the home directory of a provisioned user, made at its first
 * session from a skeleton directory (as pam_mkhomedir does), without
 * following a symbolic link or changing the owner of anything that was
 * there before.
 */
#ifndef OA2_HOME_H
#define OA2_HOME_H

#include <sys/types.h>

#define HOME_SKEL "/etc/skel"
#define HOME_LOGIN_DEFS "/etc/login.defs"
#define HOME_DEFAULT_MODE 0700

/*
 * The mode of a new home: HOME_MODE from login_defs (an octal number, as
 * useradd reads it) when it is set and valid, else HOME_DEFAULT_MODE.
 * Never more than 0755 (no group/other write, no special bits).
 */
mode_t home_mode(const char *login_defs);

/*
 * Create the directory path (absolute, already expanded) for uid:gid with
 * mode, filled with a copy of skel (NULL or missing: empty).  Every parent
 * must be a real directory (no link) owned by root and not writable by
 * group or others; missing parents are created root:root 0755.  The home
 * is built under a temporary name in its parent, owned by root until it is
 * complete, then given to the user and renamed into place without
 * replacing anything.  Returns 0 when it was created, 1 when a directory
 * owned by uid is already there (nothing touched), or OA2_ERR_PERM (path
 * exists but is not the user's directory, or a parent is unsafe: *why
 * says which) / OA2_ERR_UNAVAIL (a system call failed: *why, errno).
 */
int home_create(const char *path, uid_t uid, gid_t gid, mode_t mode,
    const char *skel, const char **why);

#endif
