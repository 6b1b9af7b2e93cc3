/*
 * groupsync.h - group_sync: write a login's mapped memberships into the
 * group file so that programs reading the group database (sudo's %group
 * rules from another session, cron) see them.
 */
#ifndef OA2_GROUPSYNC_H
#define OA2_GROUPSYNC_H

#include <stdbool.h>

struct group_list;
struct log_ctx;

#define GROUPSYNC_PATH "/etc/group"
#define GROUPSYNC_MAX_FILE (32 * 1024 * 1024)
#define GROUPSYNC_LOCK_WAIT_MS 10000

/*
 * In the group file at path, and in the gshadow file beside it when there
 * is one: make user a member of every group in add, and not a member of
 * every group in mapped that is not in add.  Groups
 * are matched by name; any other line, and every byte of a line we do not
 * change, is kept as it was.  Takes every lock shadow-utils takes (the
 * lckpwdf() lock on .pwd.lock in the file's directory, PATH.lock and
 * gshadow.lock) before reading or writing either file, waiting at most
 * GROUPSYNC_LOCK_WAIT_MS without touching signals or timers: a lock it
 * cannot get leaves both files as they were.  Writes both new files in
 * the same directory with the old files' owner and mode and fsyncs them,
 * then renames gshadow, then the group file, over the old ones, with
 * every signal blocked in the calling thread (restored before it
 * returns).  A
 * revocation is journalled (.pam_oauth2-groupsync beside the file) until
 * both renames are done; a later call, of any user, first finishes the
 * journalled revocations of a call that was killed in between, and
 * removes the new files such a call left.  Nothing is written when
 * nothing changes.  *changed (may be NULL) tells whether a file was
 * replaced.  Returns 0, OA2_ERR_CONFIG (I/O or lock failure, logged) or
 * OA2_ERR_NOMEM.
 */
int groupsync_apply(const char *path, const char *user,
    const struct group_list *add, const struct group_list *mapped,
    const struct log_ctx *lc, bool *changed);

/*
 * When a journal of a killed groupsync_apply lies beside path, finish its
 * revocations now (groupsync_apply with nothing to add or map).  Called
 * by authenticate and acct_mgmt for every login, so a revocation cut
 * short by a kill between the two renames is completed before the next
 * login's session reads the group file (initgroups), whoever logs in and
 * however.  (A catchable signal cannot cut it short: groupsync_apply
 * blocks every signal during the renames.)
 * Returns 0 (also when there is no journal) or an OA2_ERR_* (logged).
 */
int groupsync_recover(const char *path, const char *user,
    const struct log_ctx *lc);

#endif
