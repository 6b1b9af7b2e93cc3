/*
 * trust.h - the certificates a login trusts: the checks on ca_file and
 * ca_path, and how to tell an OpenSSL hashed directory (looked up lazily,
 * by subject hash) from a directory that merely holds certificates.
 * No libcurl here; http.c picks the store with these.
 */
#ifndef OA2_TRUST_H
#define OA2_TRUST_H

#include <stdbool.h>

/*
 * The rule for ca_file (dir false) and ca_path (dir true): path, followed
 * through symbolic links, is a regular file or a directory, owned by root
 * and not group- or world-writable (whoever can write it can make the
 * module trust any server).  Returns 0, or OA2_ERR_CONFIG with *why in
 * plain words.
 */
int trust_path_check(const char *path, bool dir, const char **why);

/*
 * Is dir an OpenSSL hashed directory: a directory holding at least one
 * entry named HHHHHHHH.N (8 lower-case hex digits of the subject hash, a
 * dot, a decimal number; what `openssl rehash`, c_rehash and
 * update-ca-certificates write) that resolves to a regular file?  Reads
 * the directory only until the first such entry.
 */
bool trust_hashed_dir(const char *dir);

/* How many HHHHHHHH.N entries dir holds (-1 if it cannot be read). */
long trust_count_links(const char *dir);

/* How many PEM certificates the bundle at path holds (-1 if it cannot be
 * read).  For pam_oauth2ctl: the module never reads a bundle itself. */
long trust_count_certs(const char *path);

#endif
