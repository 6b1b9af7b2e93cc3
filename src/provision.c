/*
 * provision.c - the PAM side of provisioned users (provision.h): create
 * the record at the first verified login, refresh it at each login, check
 * it at every account check, make the home at the first session.
 *
 * Identity over time: a record is bound to the issuer and sub of the
 * login that made it (cfg_identity_issuer, identity_subject: for a plain
 * OAuth 2 provider such as GitHub the user API's URL and its numeric id,
 * never the login, which can be renamed).  A later login whose verified
 * sub differs is refused (name_reassigned) until an admin removes the
 * record (pam_oauth2ctl user remove); the removed record stays as a
 * tombstone, so its UID is never given to anyone again (userdb.h).  A
 * new name whose sub a live record already holds (a GitHub user renamed
 * themselves) is refused too (sub_bound): the old record keeps its name
 * and UID until an admin removes it.
 *
 * sshd and the placeholder: sshd looked the user up before PAM and holds
 * what it got (the placeholder, uid P) for the whole connection.  So in
 * the process that holds a placeholder, the record must get exactly P;
 * when it cannot (a concurrent first login took P, or uid_claim names
 * another number), this login is refused: with another number free the
 * record is not made (placeholder_moved); with uid_claim it is made with
 * the claimed UID and this connection refused (provisioned_reconnect):
 * the next connection sees the record.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cfg.h"
#include "claims.h"
#include "clock.h"
#include "errors.h"
#include "groups.h"
#include "home.h"
#include "identity.h"
#include "log.h"
#include "lookup.h"
#include "provision.h"
#include "userdb.h"

/* Is there a group with this GID (name NULL) or this name?  A lookup
 * that fails counts as yes. */
static bool
gr_exists(const char *name, gid_t gid)
{
	struct group gr;
	char *buf = NULL;
	enum lookup_result r = lookup_gr(name, gid, &gr, &buf);

	free(buf);
	return r != LOOKUP_NONE;
}

/* userdb_taken_fn: is n a UID or GID of any other NSS source? (A lookup
 * that fails counts as taken.) */
static bool
taken_elsewhere(uint32_t n, void *arg)
{
	struct passwd pw;
	char *buf = NULL;
	bool found;

	(void)arg;
	found = lookup_pw(NULL, (uid_t)n, &pw, &buf) != LOOKUP_NONE;
	free(buf);
	return found || gr_exists(NULL, (gid_t)n);
}

/*
 * provision_classify with the database already open (db NULL: none could
 * be read, so no name is ours); a PROVISION_OURS record goes to *rec,
 * whose strings live as long as db.
 */
static enum provision_kind
classify_in(struct userdb *db, const char *user, uid_t *uid,
    struct userdb_user *rec)
{
	struct passwd pw, pw2;
	struct userdb_user u;
	char *buf = NULL, *buf2 = NULL;
	enum provision_kind kind = PROVISION_UNREADABLE;
	enum lookup_result r;

	*uid = 0;
	r = lookup_pw(user, 0, &pw, &buf);
	if (r != LOOKUP_FOUND) {
		if (r == LOOKUP_NONE)
			kind = PROVISION_NONE;
		goto out;
	}
	*uid = pw.pw_uid;
	/* The placeholder is served by getpwnam only, and only in the
	 * NSS module's range (never below 1000: no system account, nor
	 * a second name of one, is ever taken for it). */
	r = pw.pw_uid < 1000 ? LOOKUP_FOUND : lookup_pw(NULL, pw.pw_uid, &pw2,
	    &buf2);
	if (r == LOOKUP_ERROR)
		goto out;
	if (r == LOOKUP_NONE || (pw.pw_uid >= 1000 &&
	    strcmp(pw2.pw_name, pw.pw_name) != 0)) {
		kind = PROVISION_PLACEHOLDER;
		goto out;
	}
	kind = PROVISION_LOCAL;
	if (db != NULL && userdb_by_name(db, user, &u) == 0 &&
	    u.uid == pw.pw_uid) {
		kind = PROVISION_OURS;
		if (rec != NULL)
			*rec = u;
	}
out:
	free(buf);
	free(buf2);
	return kind;
}

/* The database, or NULL when it cannot be read. */
static struct userdb *
db_open(void)
{
	struct userdb *db = NULL;

	if (userdb_open(NULL, &db) != 0)
		userdb_close(&db);
	return db;
}

enum provision_kind
provision_classify(const char *user, uid_t *uid)
{
	struct userdb *db = db_open();
	enum provision_kind kind = classify_in(db, user, uid, NULL);

	userdb_close(&db);
	return kind;
}

bool
provision_may_ask(const struct cfg *cfg, enum provision_kind kind)
{
	if (kind == PROVISION_LOCAL || kind == PROVISION_OURS)
		return true;
	return cfg->provision && kind != PROVISION_UNREADABLE;
}

/* A userdb code as the module's error and reason word. */
static int
from_userdb(int urc, const char **why)
{
	*why = userdb_strerror(urc);
	switch (urc) {
	case USERDB_OK:
		return 0;
	case USERDB_E_NOMEM:
		return OA2_ERR_NOMEM;
	case USERDB_E_UNSAFE:
	case USERDB_E_CORRUPT:
	case USERDB_E_CONFIG:
	case USERDB_E_RANGE:
	case USERDB_E_IO:
		return OA2_ERR_CONFIG;
	default:
		return OA2_ERR_DENIED;
	}
}

/* The mapped groups of g as GIDs (groups_map: existing, GID rule). */
static int
mapped_gids(const struct cfg *cfg, const struct log_ctx *lc,
    const struct grant *g, uint32_t **gids, size_t *n, char *names,
    size_t names_len)
{
	struct group_list granted = { 0 };
	int rc;

	*gids = NULL;
	*n = 0;
	snprintf(names, names_len, "-");
	if (g == NULL)
		return 0;
	rc = groups_map(cfg, g, lc, &granted, NULL);
	if (rc != 0)
		return rc;
	if (granted.n > 0) {
		/* the record holds at most USERDB_GROUPS_MAX (granted keeps
		 * its count, so group_list_clear frees every name) */
		size_t keep = granted.n;

		if (keep > USERDB_GROUPS_MAX)
			keep = USERDB_GROUPS_MAX;

		*gids = calloc(keep, sizeof(**gids));
		if (*gids == NULL) {
			group_list_clear(&granted);
			return OA2_ERR_NOMEM;
		}
		for (size_t i = 0; i < keep; i++)
			(*gids)[i] = (uint32_t)granted.gids[i];
		*n = keep;
		group_list_join(&granted, names, names_len);
	}
	group_list_clear(&granted);
	return 0;
}

/* uid_claim of the login: 0 and *uid, OA2_ERR_NOTFOUND when not
 * configured, OA2_ERR_DENIED (*why) when absent, not a whole number, or
 * outside [lo, hi]. */
static int
claimed_uid(const struct cfg *cfg, const struct claims *claims, uint32_t lo,
    uint32_t hi, uint32_t *uid, const char **why)
{
	int64_t v = 0;
	const char *s = NULL;
	char *end = NULL;

	if (cfg->uid_claim == NULL)
		return OA2_ERR_NOTFOUND;
	if (claims_get_int64(claims, cfg->uid_claim, &v) != 0) {
		/* A numeric string ("200123") also counts. */
		if (claims_get_string(claims, cfg->uid_claim, &s) != 0 ||
		    s[0] < '0' || s[0] > '9') {
			*why = "uid_claim_missing";
			return OA2_ERR_DENIED;
		}
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0') {
			*why = "uid_claim_invalid";
			return OA2_ERR_DENIED;
		}
	}
	if (v < (int64_t)lo || v > (int64_t)hi) {
		*why = "uid_claim_out_of_range";
		return OA2_ERR_DENIED;
	}
	*uid = (uint32_t)v;
	return 0;
}

/* One audit line per record made, refreshed or refused. */
static void
provision_log(const struct log_ctx *lc, const struct cfg *cfg, int prio,
    const char *user, const char *sub, const char *result, uint32_t uid,
    const char *groups, const char *why)
{
	char eu[LOG_ESC_MAX], es[LOG_ESC_MAX], eg[LOG_ESC_MAX];

	if (cfg->audit_hash_sub)
		log_hash(sub, es, sizeof(es));
	else
		log_escape(sub, es, sizeof(es));
	if (uid != 0)
		log_msg(lc, prio, "provision user=%s %s=%lu gid=%lu groups=%s "
		    "sub=%s reason=%s", log_escape(user, eu, sizeof(eu)),
		    result, (unsigned long)uid, (unsigned long)uid,
		    log_escape(groups, eg, sizeof(eg)), es, why);
	else
		log_msg(lc, prio, "provision user=%s result=%s sub=%s "
		    "reason=%s", log_escape(user, eu, sizeof(eu)), result, es,
		    why);
}

/* A login of a provisioned user: bound to the same identity? Then
 * refresh last_seen and the groups. */
static int
refresh(struct userdb_txn *t, const struct cfg *cfg,
    const struct claims *claims, const struct userdb_user *rec,
    const char *user, const char *sub, const uint32_t *gids, size_t ngids,
    const char **why)
{
	uint32_t cl = 0;
	int rc;

	if (strcmp(rec->issuer, cfg_identity_issuer(cfg)) != 0 ||
	    strcmp(rec->sub, sub) != 0) {
		*why = "name_reassigned";
		return OA2_ERR_DENIED;
	}
	/* The record's UID stays: a claim naming another one is refused;
	 * one that is absent (or not a number) changes nothing. */
	rc = claimed_uid(cfg, claims, 0, UINT32_MAX, &cl, why);
	if (rc == 0 && cl != rec->uid) {
		*why = "uid_claim_changed";
		return OA2_ERR_DENIED;
	}
	return from_userdb(userdb_txn_touch(t, user, clock_wall(), gids,
	    ngids), why);
}

int
provision_login(const struct cfg *cfg, const struct log_ctx *lc,
    const char *user, const struct claims *claims, const struct grant *g,
    bool offline, const char **why)
{
	struct userdb_settings s = { 0 };
	struct userdb_txn *t = NULL;
	struct userdb_user rec;
	struct userdb_new nu = { 0 };
	enum provision_kind kind;
	const char *sub = NULL, *result = "refused";
	char err[256], home[USERDB_FIELD_MAX], names[512];
	char idbuf[IDENTITY_SUBJECT_MAX];
	uint32_t *gids = NULL, uid = 0;
	size_t ngids = 0;
	uid_t held = 0;
	bool created = false, reconnect = false;
	int rc;

	*why = "ok";
	kind = provision_classify(user, &held);
	if (kind == PROVISION_LOCAL)
		return 0;
	if (kind == PROVISION_UNREADABLE) {
		/* Not reached through auth (provision_may_ask); never make a
		 * record for a name a failing source may hold. */
		*why = "lookup_failed";
		return OA2_ERR_USER;
	}
	if (kind != PROVISION_OURS && !cfg->provision) {
		/* Not reached through auth (provision_may_ask), but a
		 * placeholder must never pass for an account. */
		*why = "unknown_user";
		return OA2_ERR_USER;
	}
	if (offline) {
		if (kind == PROVISION_OURS)
			return 0;
		*why = "offline_not_provisioned";
		return OA2_ERR_DENIED;
	}
	if (identity_subject(claims, cfg_plain_oauth2(cfg) ?
	    cfg->user_id_claim : NULL, idbuf, sizeof(idbuf), &sub) != 0) {
		*why = "no_sub";
		return OA2_ERR_TOKEN;
	}
	rc = mapped_gids(cfg, lc, g, &gids, &ngids, names, sizeof(names));
	if (rc != 0)
		goto out;
	rc = from_userdb(userdb_begin(NULL, &t), why);
	if (rc != 0)
		goto out;
	/* Under the lock: what the database says now. */
	if (userdb_by_name(userdb_txn_db(t), user, &rec) == 0) {
		if (kind == PROVISION_PLACEHOLDER && rec.uid != held) {
			/* This process holds a placeholder with another
			 * number than the record (sshd would run the
			 * session as the placeholder). */
			rc = OA2_ERR_DENIED;
			*why = strcmp(rec.sub, sub) == 0 &&
			    strcmp(rec.issuer, cfg_identity_issuer(cfg)) == 0 ?
			    "placeholder_stale" : "name_reassigned";
			goto out;
		}
		uid = rec.uid;
		rc = refresh(t, cfg, claims, &rec, user, sub, gids, ngids, why);
		if (rc == 0) {
			result = "refreshed";
			rc = from_userdb(userdb_commit(&t), why);
		}
		if (rc != 0)
			uid = 0;
		goto out;
	}
	/* A new record: the NSS module's settings (the range, the home and
	 * shell); a refresh above needs none of them. */
	rc = userdb_settings_load(userdb_conf_path(), &s, err, sizeof(err));
	if (rc != 0) {
		log_msg(lc, LOG_ERR, "provisioning off: %s: %s",
		    userdb_conf_path(), err);
		rc = from_userdb(rc, why);
		goto out;
	}
	if (!userdb_name_ok(user)) {
		rc = OA2_ERR_DENIED;
		*why = "invalid_name";
		goto out;
	}
	/* The private group has the user's name: a group of that name
	 * elsewhere (files, LDAP) would make two groups of one name. */
	if (gr_exists(user, 0)) {
		rc = OA2_ERR_DENIED;
		*why = "group_name_taken";
		goto out;
	}
	rc = claimed_uid(cfg, claims, s.uid_min, s.uid_max, &uid, why);
	if (rc == 0) {
		if (userdb_uid_used(userdb_txn_db(t), uid) ||
		    taken_elsewhere(uid, NULL)) {
			rc = OA2_ERR_DENIED;
			*why = "uid_collision";
			uid = 0;
			goto out;
		}
		if (kind == PROVISION_PLACEHOLDER && uid != held)
			reconnect = true;
	} else if (rc == OA2_ERR_NOTFOUND) {
		rc = from_userdb(userdb_txn_next_uid(t, &s, taken_elsewhere,
		    NULL, &uid), why);
		if (rc != 0) {
			uid = 0;
			goto out;
		}
		if (kind == PROVISION_PLACEHOLDER && uid != held) {
			rc = OA2_ERR_DENIED;
			*why = "placeholder_moved";
			uid = 0;
			goto out;
		}
	} else {
		goto out;
	}
	if (userdb_settings_home(&s, user, home, sizeof(home)) != 0) {
		rc = OA2_ERR_DENIED;
		*why = "invalid_home";
		uid = 0;
		goto out;
	}
	nu.name = user;
	nu.gecos = "";
	nu.home = home;
	nu.shell = s.shell;
	nu.issuer = cfg_identity_issuer(cfg);
	nu.sub = sub;
	nu.uid = uid;
	nu.now = clock_wall();
	nu.groups = gids;
	nu.ngroups = ngids;
	rc = from_userdb(userdb_txn_add(t, &nu), why);
	if (rc == 0)
		rc = from_userdb(userdb_commit(&t), why);
	if (rc != 0) {
		uid = 0;
		goto out;
	}
	created = true;
	result = "provisioned";
	if (reconnect) {
		rc = OA2_ERR_DENIED;
		*why = "provisioned_reconnect";
	}
out:
	userdb_abort(&t);
	if (created || rc != 0)
		provision_log(lc, cfg, rc == 0 || created ? LOG_NOTICE :
		    LOG_WARNING, user, sub, created || rc == 0 ? result :
		    "refused", created ? uid : 0, names, *why);
	else
		log_debug(lc, "provision user refreshed: uid %lu groups %s",
		    (unsigned long)uid, names);
	free(gids);
	userdb_settings_free(&s);
	return rc;
}

int
provision_account(const struct cfg *cfg, const char *user, int64_t now,
    const char **why)
{
	struct userdb *db = db_open();
	struct userdb_user u;
	enum provision_kind kind;
	uid_t uid;
	int rc = OA2_ERR_NOTFOUND;

	*why = "ok";
	kind = classify_in(db, user, &uid, &u);
	if (kind == PROVISION_PLACEHOLDER) {
		*why = "placeholder";
		rc = OA2_ERR_PERM;
	} else if (kind == PROVISION_OURS) {
		rc = 0;
		if ((u.flags & USERDB_LOCKED) != 0) {
			rc = OA2_ERR_PERM;
			*why = "locked";
		} else if (now - u.last_seen > cfg->provision_max_age) {
			rc = OA2_ERR_PERM;
			*why = "not_seen";
		}
	}
	userdb_close(&db);
	return rc;
}

int
provision_session(const struct log_ctx *lc, const char *user,
    const char **why)
{
	struct userdb *db = NULL;
	struct userdb_user u;
	char eu[LOG_ESC_MAX], eh[LOG_ESC_MAX];
	uid_t uid;
	int rc;

	*why = "ok";
	db = db_open();
	if (classify_in(db, user, &uid, &u) != PROVISION_OURS) {
		userdb_close(&db);
		return OA2_ERR_NOTFOUND;
	}
	rc = home_create(u.home, (uid_t)u.uid, (gid_t)u.gid,
	    home_mode(HOME_LOGIN_DEFS), HOME_SKEL, why);
	if (rc == 0)
		log_msg(lc, LOG_NOTICE, "session user=%s home=%s result=created "
		    "uid=%lu mode=%04o", log_escape(user, eu, sizeof(eu)),
		    log_escape(u.home, eh, sizeof(eh)), (unsigned long)u.uid,
		    (unsigned)home_mode(HOME_LOGIN_DEFS));
	else if (rc < 0)
		log_msg(lc, LOG_WARNING, "session user=%s home=%s "
		    "result=failed reason=\"%s\"",
		    log_escape(user, eu, sizeof(eu)),
		    log_escape(u.home, eh, sizeof(eh)), *why);
	userdb_close(&db);
	return rc < 0 ? rc : 0;
}
