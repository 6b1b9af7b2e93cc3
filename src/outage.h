/*
 * outage.h - fast failure while the IdP is down.
 *
 * After a login could not ask the IdP (connect, DNS, TLS, timeout, 5xx,
 * malformed answer), the logins of the next outage_window seconds do not
 * ask it again: they fail at once as "could not ask" (reason
 * idp_down_recently), so the stack's fallback or the offline verifier
 * answers without waiting the whole timeout.  After the window one login
 * probes the IdP again; it rewrites the stamp first, so the others keep
 * failing fast while it asks.  Any answer from the IdP clears the stamp.
 *
 * The stamp is one root-only file in cache_dir, "o-" + SHA-256 of the
 * issuer, holding "OA2D1 <time>"; only the module writes it, from what
 * happened on the wire: nothing a user types names or sets it.  A stamp
 * that is a link, not owned by root or open to others is ignored.
 */
#ifndef OA2_OUTAGE_H
#define OA2_OUTAGE_H

#include <stdbool.h>
#include <time.h>

struct cfg;
struct log_ctx;
struct login;

#define OUTAGE_DEFAULT_WINDOW 30
#define OUTAGE_MAX_WINDOW 3600

/*
 * Before asking the IdP at issuer: 0 to ask it (no recent outage, or
 * this caller is the one probe after the window), OA2_ERR_UNAVAIL to
 * skip it (an outage was seen less than window seconds ago).  window 0
 * disables the check.
 */
int outage_check(const char *dir, const char *issuer, long window,
    time_t now);

/*
 * Did this result say the IdP could not be asked (OA2_ERR_UNAVAIL or
 * OA2_ERR_BAD_RESPONSE without an OAuth error code from the IdP, and not
 * throttling or a missing endpoint)?  why and errcode may be NULL.
 */
bool outage_result_is_down(int rc, const char *why, const char *errcode);

/*
 * After asking: rc and why/errcode as the grant left them.  A could-not-
 * ask result stamps the outage (starting the window); an answer from the
 * IdP (success, a refusal of the user or of the client) clears it.
 * Errors are ignored (the login's result stands).
 */
void outage_note(const char *dir, const char *issuer, long window, int rc,
    const char *why, const char *errcode, time_t now);

/*
 * The two calls around a grant (auth.c).  outage_before: 0 to run the
 * grant, or OA2_ERR_UNAVAIL with *why "idp_down_recently" to skip it.
 * outage_after: note the grant's result (lg->why, lg->errcode).
 */
int outage_before(const struct cfg *cfg, const struct log_ctx *lc,
    const char **why);
void outage_after(const struct cfg *cfg, const struct log_ctx *lc,
    const struct login *lg, int rc);

#endif
