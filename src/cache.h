/*
 * cache.h - an on-disk cache of provider metadata (discovery documents and
 * JWKS): public data, fetched once and reused across logins, so that a warm
 * login costs exactly one request.
 *
 * The directory must be root-owned and mode 0700 (it is created so when
 * missing); entries are written atomically (temporary file + rename) and a
 * file not owned by root, or writable by others, is ignored.
 */
#ifndef OA2_CACHE_H
#define OA2_CACHE_H

#include <stddef.h>
#include <time.h>

#define CACHE_DEFAULT_DIR "/var/cache/pam_oauth2"
#define CACHE_DEFAULT_TTL 3600          /* when the server gives no max-age */
#define CACHE_MIN_TTL 60
#define CACHE_MAX_TTL 86400
#define CACHE_MAX_STALE (7 * 86400)     /* stale use while the IdP is down */
#define CACHE_MAX_ENTRY (256 * 1024)

struct cache_entry {
	char *body;          /* NUL-terminated */
	size_t len;
	time_t fetched;      /* when it was stored */
	time_t expires;      /* fresh until then */
};

/*
 * Check (and create when missing) the cache directory: a directory, not a
 * link, owned by root, no group/other permissions.  Returns 0 or
 * OA2_ERR_CONFIG (*why says what is wrong).
 */
int cache_dir_check(const char *dir, const char **why);

/*
 * Read the entry for key (a URL).  Returns 0 with *out filled (fresh or
 * stale: compare out->expires with the time), OA2_ERR_NOTFOUND when there
 * is no usable entry (absent, unsafe, corrupt), or OA2_ERR_NOMEM.
 */
int cache_get(const char *dir, const char *key, struct cache_entry *out);

/*
 * Store body for key, fresh for max_age seconds (clamped to
 * CACHE_MIN_TTL..CACHE_MAX_TTL; a negative max_age means
 * CACHE_DEFAULT_TTL).  Returns 0 or OA2_ERR_* (the caller may go on
 * without a cache).
 */
int cache_put(const char *dir, const char *key, const char *body,
    size_t len, long max_age, time_t now);

/* Remove every entry, and the outage stamp: an admin who clears the
 * cache ends an outage_window (pam_oauth2ctl cache clear, tests). */
int cache_clear(const char *dir);

/*
 * Call fn for every entry of dir (pam_oauth2ctl cache list): name is the
 * file name (its key is hashed, so it cannot be shown), e the parsed
 * entry, or NULL for one that is unusable (unsafe, corrupt).  Returns 0,
 * OA2_ERR_NOTFOUND when dir does not exist, or OA2_ERR_CONFIG.
 */
typedef void (*cache_list_fn)(void *arg, const char *name,
    const struct cache_entry *e);
int cache_list(const char *dir, cache_list_fn fn, void *arg);

void cache_entry_clear(struct cache_entry *e);

#endif
