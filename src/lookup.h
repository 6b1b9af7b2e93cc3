/* lookup.h - passwd and group lookups through NSS, reentrant */
#ifndef OA2_LOOKUP_H
#define OA2_LOOKUP_H

#include <grp.h>
#include <pwd.h>
#include <sys/types.h>

/* What a lookup found. */
enum lookup_result {
	LOOKUP_FOUND,
	LOOKUP_NONE,     /* no such entry in any source */
	LOOKUP_ERROR     /* a source failed, or no memory */
};

/* getpwnam_r (name != NULL) or getpwuid_r into *pw, in a buffer grown on
 * ERANGE up to 1 MiB that the caller frees (*buf, also on failure). */
enum lookup_result lookup_pw(const char *name, uid_t uid, struct passwd *pw,
    char **buf);

/* getgrnam_r (name != NULL) or getgrgid_r, the same way. */
enum lookup_result lookup_gr(const char *name, gid_t gid, struct group *gr,
    char **buf);

#endif
