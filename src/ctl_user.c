/*
 * ctl_user.c - pam_oauth2ctl's "user" commands over the provisioned-user
 * database (userdb.h).  Reading takes a lock-free snapshot; lock, unlock
 * and remove take the writer's lock and replace the file atomically, as
 * the module does.  remove leaves a tombstone, so the UID is never given
 * again; the home directory is left where it is (said so).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl_user.h"
#include "log.h"
#include "userdb.h"

static void
when(int64_t t, char *out, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "-");
}

static const char *
state(const struct userdb_user *u)
{
	if ((u->flags & USERDB_TOMBSTONE) != 0)
		return "removed";
	return (u->flags & USERDB_LOCKED) != 0 ? "locked" : "active";
}

static int
list(const struct userdb *db)
{
	struct userdb_user u;
	char en[LOG_ESC_MAX], es[LOG_ESC_MAX], seen[32];
	size_t n = userdb_count(db), live = 0;

	printf("%-24s %10s %-8s %-20s %s\n", "NAME", "UID", "STATE",
	    "LAST SEEN", "SUB");
	for (size_t i = 0; i < n; i++) {
		if (userdb_get(db, i, &u) != 0) {
			fprintf(stderr, "pam_oauth2ctl: the user database is "
			    "corrupt at record %zu\n", i);
			return 1;
		}
		when(u.last_seen, seen, sizeof(seen));
		printf("%-24s %10lu %-8s %-20s %s\n",
		    log_escape(u.name, en, sizeof(en)), (unsigned long)u.uid,
		    state(&u), seen, log_escape(u.sub, es, sizeof(es)));
		if ((u.flags & USERDB_TOMBSTONE) == 0)
			live++;
	}
	printf("%zu user%s, %zu removed (their UIDs are never reused)\n",
	    live, live == 1 ? "" : "s", n - live);
	return 0;
}

static int
show(const struct userdb *db, const char *name)
{
	struct userdb_user u;
	char e[LOG_ESC_MAX], t1[32], t2[32];

	if (userdb_by_name(db, name, &u) != 0) {
		fprintf(stderr, "pam_oauth2ctl: no provisioned user %s\n",
		    log_escape(name, e, sizeof(e)));
		return 1;
	}
	when(u.created, t1, sizeof(t1));
	when(u.last_seen, t2, sizeof(t2));
	printf("name:      %s\n", log_escape(u.name, e, sizeof(e)));
	printf("uid:       %lu\n", (unsigned long)u.uid);
	printf("gid:       %lu (private group %s)\n", (unsigned long)u.gid,
	    log_escape(u.name, e, sizeof(e)));
	printf("home:      %s\n", log_escape(u.home, e, sizeof(e)));
	printf("shell:     %s\n", log_escape(u.shell, e, sizeof(e)));
	printf("issuer:    %s\n", log_escape(u.issuer, e, sizeof(e)));
	printf("sub:       %s\n", log_escape(u.sub, e, sizeof(e)));
	printf("state:     %s\n", state(&u));
	printf("created:   %s\n", t1);
	printf("last seen: %s\n", t2);
	printf("groups:   ");
	if (u.ngroups == 0)
		printf(" -");
	for (size_t i = 0; i < u.ngroups; i++)
		printf(" %lu", (unsigned long)u.groups[i]);
	printf("\n");
	return 0;
}

static int
change(const char *what, const char *name)
{
	struct userdb_txn *t = NULL;
	struct userdb_user u;
	char e[LOG_ESC_MAX], home[LOG_ESC_MAX];
	int rc;

	rc = userdb_begin(NULL, &t);
	if (rc != 0) {
		fprintf(stderr, "pam_oauth2ctl: cannot open the user database "
		    "in %s for writing: %s\n", userdb_dir(),
		    userdb_strerror(rc));
		return 1;
	}
	if (userdb_by_name(userdb_txn_db(t), name, &u) != 0) {
		userdb_abort(&t);
		fprintf(stderr, "pam_oauth2ctl: no provisioned user %s\n",
		    log_escape(name, e, sizeof(e)));
		return 1;
	}
	log_escape(u.home, home, sizeof(home));
	if (strcmp(what, "remove") == 0)
		rc = userdb_txn_remove(t, name, (int64_t)time(NULL));
	else
		rc = userdb_txn_lock(t, name, strcmp(what, "lock") == 0);
	if (rc == 0)
		rc = userdb_commit(&t);
	userdb_abort(&t);
	if (rc != 0) {
		fprintf(stderr, "pam_oauth2ctl: %s %s failed: %s\n", what,
		    log_escape(name, e, sizeof(e)), userdb_strerror(rc));
		return 1;
	}
	log_escape(name, e, sizeof(e));
	if (strcmp(what, "remove") == 0)
		printf("%s removed; UID %lu stays reserved (tombstone); the "
		    "home %s is left in place\n", e, (unsigned long)u.uid,
		    home);
	else
		printf("%s %sed\n", e, what);
	return 0;
}

int
ctl_user(const char *what, const char *name)
{
	struct userdb *db = NULL;
	int rc, status;

	if (strcmp(what, "list") == 0 ? name != NULL :
	    (strcmp(what, "show") != 0 && strcmp(what, "remove") != 0 &&
	    strcmp(what, "lock") != 0 && strcmp(what, "unlock") != 0) ||
	    name == NULL) {
		fprintf(stderr, "pam_oauth2ctl: user list, or user "
		    "show|remove|lock|unlock NAME\n");
		return 2;
	}
	if (strcmp(what, "list") != 0 && strcmp(what, "show") != 0)
		return change(what, name);
	rc = userdb_open(NULL, &db);
	if (rc != 0) {
		fprintf(stderr, "pam_oauth2ctl: cannot read the user database "
		    "in %s: %s\n", userdb_dir(), userdb_strerror(rc));
		return 1;
	}
	status = name == NULL ? list(db) : show(db, name);
	userdb_close(&db);
	return status;
}

/* Does the "db:" line of the nsswitch file f name the oauth2 source? */
static bool
nss_names_oauth2(FILE *f, const char *db)
{
	char line[1024];
	size_t n = strlen(db);

	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p, *save = NULL, *tok;

		if (strncmp(line, db, n) != 0 || line[n] != ':')
			continue;
		p = line + n + 1;
		p[strcspn(p, "#\n")] = '\0';
		for (tok = strtok_r(p, " \t", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t", &save)) {
			if (strcmp(tok, "oauth2") == 0)
				return true;
		}
		return false;
	}
	return false;
}

int
ctl_user_check(const char *nsswitch)
{
	struct userdb_settings s = { 0 };
	struct userdb *db = NULL;
	char err[256];
	FILE *f;
	int problems = 0, rc;

	rc = userdb_settings_load(userdb_conf_path(), &s, err, sizeof(err));
	if (rc != 0) {
		printf("PROBLEM: provision = yes, but %s does not load: %s; "
		    "no user can be provisioned\n", userdb_conf_path(), err);
		problems++;
	} else {
		printf("provisioning (%s): uid_range %lu-%lu, %zu "
		    "provision_names pattern%s, home %s, shell %s\n",
		    userdb_conf_path(), (unsigned long)s.uid_min,
		    (unsigned long)s.uid_max, s.nnames,
		    s.nnames == 1 ? "" : "s", s.home, s.shell);
	}
	userdb_settings_free(&s);
	f = fopen(nsswitch, "re");
	if (f == NULL) {
		printf("PROBLEM: provision = yes, but %s cannot be read\n",
		    nsswitch);
		problems++;
	} else {
		for (int i = 0; i < 2; i++) {
			const char *what = i == 0 ? "passwd" : "group";

			if (!nss_names_oauth2(f, what)) {
				printf("PROBLEM: provision = yes, but the %s "
				    "line of %s does not name oauth2: "
				    "provisioned users are not found (add "
				    "\"oauth2\" after \"files\")\n", what,
				    nsswitch);
				problems++;
			}
		}
		fclose(f);
	}
	rc = userdb_open(NULL, &db);
	if (rc != 0) {
		printf("PROBLEM: the user database in %s cannot be read: %s\n",
		    userdb_dir(), userdb_strerror(rc));
		problems++;
	} else {
		printf("user database %s: %zu record%s (tombstones included)\n",
		    userdb_dir(), userdb_count(db),
		    userdb_count(db) == 1 ? "" : "s");
	}
	userdb_close(&db);
	return problems;
}
