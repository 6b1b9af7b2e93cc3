/*
 * ctl_user.h - "pam_oauth2ctl user ...": the provisioned users
 * (userdb.h) for the administrator: list, show, lock, unlock, remove.
 */
#ifndef OA2_CTL_USER_H
#define OA2_CTL_USER_H

/*
 * Run "user WHAT [NAME]" (what: list, show, remove, lock, unlock; name
 * NULL for list).  Output on stdout, errors on stderr.  Returns the exit
 * status: 0, 1 (no such user, or the database could not be read or
 * written) or 2 (usage).
 */
int ctl_user(const char *what, const char *name);

/*
 * For "check" with provision = yes: /etc/pam_oauth2-nss.conf loads, the
 * passwd and group lines of nsswitch (path) name oauth2, the database
 * reads.  Prints what it finds ("PROBLEM: ..." lines for problems) and
 * returns the number of problems.
 */
int ctl_user_check(const char *nsswitch);

#endif
