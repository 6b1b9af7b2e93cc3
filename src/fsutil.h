/*
 * fsutil.h - the few file-system steps the module's root-only state
 * (metadata cache, offline verifiers, grant store) has in common.
 */
#ifndef OA2_FSUTIL_H
#define OA2_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Check, and create (mode 0700) when missing, a directory only root may
 * use: a directory, not a link, owned by root, no group/other
 * permissions.  Returns 0 or OA2_ERR_CONFIG with *why in plain words.
 */
int fs_private_dir(const char *dir, const char **why);

/* SHA-256 of s as lower-case hex into out (at least 65 bytes).
 * Returns 0 or OA2_ERR_NOMEM. */
int fs_sha256_hex(const char *s, char *out, size_t outlen);

/* dir + "/" + prefix + sha256hex(key): file names that never depend on
 * what key contains.  Returns 0, OA2_ERR_CONFIG (too long), OA2_ERR_NOMEM. */
int fs_hashed_path(const char *dir, const char *prefix, const char *key,
    char *path, size_t len);

/* read(2) until n bytes or end of file, retrying after EINTR.  Returns
 * the number of bytes read (fewer than n at end of file), or -1. */
long fs_read_all(int fd, char *p, size_t n);

/* write(2) all n bytes, retrying after EINTR.  Returns 0 or -1. */
int fs_write_all(int fd, const char *p, size_t n);

/*
 * Open path read-write (creating it 0600 when create is set) and take an
 * exclusive flock on it, waiting for it.  A link, a non-regular file, or
 * one not owned by root or open to group/others is refused.  Returns the
 * descriptor (closing it releases the lock) or -1.
 */
int fs_lock_open(const char *path, bool create);

#endif
