/*
 * grantstore.h - the channel that carries a grant from the process that
 * authenticated to the process that calls setcred, when those differ.
 *
 * sshd's keyboard-interactive method runs pam_authenticate and
 * pam_acct_mgmt in a child it forks from the per-connection monitor, and
 * calls pam_setcred in another child of that monitor, so pam_set_data
 * does not reach setcred.  The monitor is the leader of its own session
 * (it calls setsid) and runs as root; both children are its direct
 * children.  So a record is keyed by the session (getsid(0)) and the
 * leader's start time (against PID reuse), and is only written or read by
 * a process whose parent is that leader and whose leader runs as root.
 *
 * Records live in a root-only directory (state_dir, mode 0700, checked on
 * every use), are written atomically (O_EXCL temporary file + rename, mode
 * 0600), hold the boot id, session, creation time, user and granted values
 * (each with its source, "value scope:HEX"), live GRANTSTORE_TTL seconds, and are consumed once: the taker
 * renames the record to a name of its own before reading it, so only one
 * process can take it.
 */
#ifndef OA2_GRANTSTORE_H
#define OA2_GRANTSTORE_H

#include <stddef.h>
#include <sys/types.h>

struct grant;
struct log_ctx;

#define GRANTSTORE_DEFAULT_DIR "/run/pam_oauth2"
#define GRANTSTORE_TTL 120                      /* seconds */
#define GRANTSTORE_MAX_RECORD (256 * 1024)      /* bytes */

struct grantstore_key {
	pid_t sid;                   /* session id = the leader's PID */
	unsigned long long start;    /* the leader's start time (clock ticks) */
};

/*
 * The key of this process's login: 0 when the parent is the session
 * leader and runs as root (sshd's monitor), else OA2_ERR_NOTFOUND (the
 * store does not apply: single-process callers use PAM data).
 */
int grantstore_session(struct grantstore_key *k);

/*
 * Write g (its values and user) for this session, replacing an earlier
 * record of the session.  Returns 0, OA2_ERR_NOTFOUND (store does not
 * apply here), OA2_ERR_CONFIG (unsafe or unusable state_dir, logged) or
 * OA2_ERR_NOMEM.  dir NULL is GRANTSTORE_DEFAULT_DIR.
 */
int grantstore_put(const char *dir, const struct grant *g,
    const struct log_ctx *lc);

/*
 * Take (remove and read) this session's record.  *out is the grant when
 * it is for user, unexpired, from this boot and this session; any other
 * record is logged and dropped.  Returns 0 (with *out NULL when there is
 * nothing usable), OA2_ERR_CONFIG or OA2_ERR_NOMEM.
 */
int grantstore_take(const char *dir, const char *user,
    const struct log_ctx *lc, struct grant **out);

/* Remove this session's record, if any. */
void grantstore_drop(const char *dir, const struct log_ctx *lc);

/* For tests: the record text of g, and its parser.  now is
 * CLOCK_BOOTTIME seconds (small on a freshly booted machine; negative
 * means no clock: grantstore_format returns OA2_ERR_CONFIG, the parser
 * "expired").  A record is good from its creation second to
 * GRANTSTORE_TTL seconds after it; a stamp that is not a plain unsigned
 * number is "malformed".  grantstore_format returns 0, OA2_ERR_CONFIG or
 * OA2_ERR_NOMEM; grantstore_parse returns 0, OA2_ERR_NOMEM or
 * OA2_ERR_DENIED with *why one of "malformed", "other_boot",
 * "other_session", "other_user", "expired". */
int grantstore_format(const struct grant *g, const char *boot_id,
    const struct grantstore_key *k, long long now, char **out,
    size_t *len);
int grantstore_parse(const char *buf, size_t len, const char *boot_id,
    const struct grantstore_key *k, long long now, const char *user,
    struct grant **out, const char **why);

/* Parse the start time (field 22) and session (field 6) out of the text
 * of /proc/PID/stat.  Returns 0 or OA2_ERR_BAD_RESPONSE. */
int grantstore_parse_stat(const char *stat, unsigned long long *start,
    long *session);

#endif
