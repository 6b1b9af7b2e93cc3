/*
 * offline.h - logins while the IdP cannot be asked (opt-in).
 *
 * After a successful password login a salted slow hash of the password
 * (yescrypt, libcrypt) is kept with the granted scope and verified claims,
 * one root-only file per user.  Only when the IdP cannot be asked is it
 * used; a wrong password there is rate-limited per user.  Every
 * read-modify-write of a user's entry holds an exclusive lock, and an
 * attempt is counted before its hash is checked, so parallel guesses
 * get no more checks than OFFLINE_FREE_FAILURES before the waits start.
 */
#ifndef OA2_OFFLINE_H
#define OA2_OFFLINE_H

#include <time.h>

struct claims;

#define OFFLINE_DEFAULT_DIR "/var/lib/pam_oauth2"
/* Failures allowed before waits start, the first wait, the longest. */
#define OFFLINE_FREE_FAILURES 3
#define OFFLINE_FIRST_WAIT 30
#define OFFLINE_MAX_WAIT 3600

/*
 * Keep a verifier for user.  claims may be NULL.  Returns 0 or OA2_ERR_*
 * (the login goes on without it).
 */
int offline_store(const char *dir, const char *user, const char *password,
    const char *scope, const struct claims *claims, time_t now);

/* Forget user's verifier (the IdP said the password is wrong). */
int offline_delete(const char *dir, const char *user);

/*
 * pam_oauth2ctl cache: call fn for every verifier file in dir with its
 * name (the user name is hashed in it), when the IdP last verified the
 * password (0: unusable entry) and the failed offline attempts.  Returns
 * 0, OA2_ERR_NOTFOUND when dir does not exist, or OA2_ERR_CONFIG.
 */
typedef void (*offline_list_fn)(void *arg, const char *name,
    time_t verified, long fails);
int offline_list(const char *dir, offline_list_fn fn, void *arg);

/* Remove every verifier in dir.  Returns 0 or OA2_ERR_CONFIG. */
int offline_clear(const char *dir);

/*
 * Check password against user's verifier.
 *  0: it matches an entry younger than max_age; *scope and *claims (may
 *     be NULL) are what that login was granted.
 *  OA2_ERR_NOTFOUND: no usable entry (none, unsafe, corrupt, too old).
 *  OA2_ERR_DENIED: wrong password (counted), or too many recent failures
 *     (*why "offline_rate_limited", the password is not even checked).
 */
int offline_verify(const char *dir, const char *user, const char *password,
    long max_age, time_t now, char **scope, struct claims **claims,
    const char **why);

#endif
