/*
 * identity.h - binding a verified identity to the PAM user.
 *
 * The configured claim must equal the formatted PAM user byte for byte:
 * no prefix match, no case folding, no NUL or control characters.
 */
#ifndef OA2_IDENTITY_H
#define OA2_IDENTITY_H

#include <stdbool.h>
#include <sys/types.h>

struct claims;

#define IDENTITY_MAX_USER 256
#define IDENTITY_SUBJECT_MAX 24 /* the decimal of a positive int64, NUL */

/* 0 when user is a plausible account name (non-empty, at most
 * IDENTITY_MAX_USER bytes, no control characters, not starting with '-'),
 * else OA2_ERR_USER. */
int identity_check_user(const char *user);

/* Is there a local account of that name (NSS, thread-safe)? */
bool identity_local_user(const char *user);

/* The UID of the local account user into *uid: 0, or OA2_ERR_NOTFOUND
 * when there is none or NSS failed (*uid untouched). */
int identity_local_uid(const char *user, uid_t *uid);

/* Expand format ("%u" = user, "%%" = '%') into a new string *out.
 * Returns 0, OA2_ERR_CONFIG (bad format) or OA2_ERR_NOMEM. */
int identity_format(const char *format, const char *user, char **out);

/*
 * Check that claim `name` of c is a string equal to expected.
 * Returns 0 or OA2_ERR_TOKEN with *why one of "claim_missing",
 * "claim_type", "claim_invalid", "identity_mismatch".
 */
int identity_bind(const struct claims *c, const char *name,
    const char *expected, const char **why);

/*
 * The subject a verified identity stays bound to (the audit line's sub=,
 * a provisioned record's sub): with id_claim NULL (an OpenID provider)
 * the string claim "sub"; else (a plain OAuth 2 provider, its
 * user_id_claim) the decimal of that claim, a positive JSON integer,
 * written to buf (len at least IDENTITY_SUBJECT_MAX): a login can be
 * renamed, the number cannot.  *sub points into c or buf.  Returns 0 or
 * OA2_ERR_NOTFOUND (absent, of another type, or not positive; *sub NULL).
 */
int identity_subject(const struct claims *c, const char *id_claim,
    char *buf, size_t len, const char **sub);

#endif
