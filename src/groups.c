/*
 * groups.c - grants (scope tokens and claim values, each with its
 * source), the required_scopes and required_claims gates, the [groups]
 * mapping to local groups, and setgroups.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cfg.h"
#include "claims.h"
#include "errors.h"
#include "groups.h"
#include "groupsync.h"
#include "log.h"
#include "lookup.h"

/* Upper bound on the supplementary groups we read back and set. */
#define GROUPS_MAX_PROCESS 65536

int
grant_new(const char *user, struct grant **out)
{
	struct grant *g;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return OA2_ERR_NOMEM;
	g->user = strdup(user);
	if (g->user == NULL) {
		free(g);
		return OA2_ERR_NOMEM;
	}
	*out = g;
	return 0;
}

void
grant_free(struct grant **gp)
{
	struct grant *g;

	if (gp == NULL || *gp == NULL)
		return;
	g = *gp;
	for (size_t i = 0; i < g->n; i++)
		free(g->values[i].value);
	free(g->values);
	free(g->user);
	free(g);
	*gp = NULL;
}

bool
grant_has(const struct grant *g, enum cfg_source src, const char *value)
{
	if (g == NULL)
		return false;
	for (size_t i = 0; i < g->n; i++) {
		if (g->values[i].src == src &&
		    strcmp(g->values[i].value, value) == 0)
			return true;
	}
	return false;
}

int
grant_add(struct grant *g, enum cfg_source src, const char *value,
    bool *dropped)
{
	struct cfg_value *grown;
	char *copy;
	size_t len = strlen(value);

	if (len == 0 || grant_has(g, src, value))
		return 0;
	if (len > GRANT_MAX_VALUE || g->n >= GRANT_MAX_VALUES) {
		if (dropped != NULL)
			*dropped = true;
		return 0;
	}
	copy = strdup(value);
	if (copy == NULL)
		return OA2_ERR_NOMEM;
	grown = realloc(g->values, (g->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(copy);
		return OA2_ERR_NOMEM;
	}
	g->values = grown;
	g->values[g->n].src = src;
	g->values[g->n].value = copy;
	g->n++;
	return 0;
}

/* Add every space-separated token of s (RFC 6749 §3.3: scope tokens are
 * separated by spaces). */

/* The GID of a local group.  Returns 0, or -1 when there is no such group
 * or it cannot be read. */
static int
lookup_gid(const char *name, gid_t *gid)
{
	struct group gr;
	char *buf = NULL;
	int rc = -1;

	if (lookup_gr(name, 0, &gr, &buf) == LOOKUP_FOUND) {
		*gid = gr.gr_gid;
		rc = 0;
	}
	free(buf);
	return rc;
}

static int
add_tokens(struct grant *g, const char *s, bool *dropped)
{
	char tok[GRANT_MAX_VALUE + 2];
	int rc;

	while (*s != '\0') {
		size_t n;

		while (*s == ' ')
			s++;
		n = strcspn(s, " ");
		if (n == 0)
			break;
		if (n > GRANT_MAX_VALUE) {
			*dropped = true;
		} else {
			memcpy(tok, s, n);
			tok[n] = '\0';
			rc = grant_add(g, CFG_SRC_SCOPE, tok, dropped);
			if (rc != 0)
				return rc;
		}
		s += n;
	}
	return 0;
}

int
grant_from_login(const struct cfg *cfg, const struct log_ctx *lc,
    const char *user, const char *scope, const struct claims *claims,
    struct grant **out, const char **why)
{
	struct grant *g = NULL;
	const char **vals = NULL;
	char en[LOG_ESC_MAX];
	bool dropped = false;
	size_t n = 0;
	int rc;

	*out = NULL;
	rc = grant_new(user, &g);
	if (rc != 0)
		goto out;
	if (scope != NULL) {
		rc = add_tokens(g, scope, &dropped);
		if (rc != 0)
			goto out;
	}
	if (cfg->groups_claim != NULL && claims != NULL) {
		rc = claims_get_strings(claims, cfg->groups_claim, &vals, &n);
		if (rc == OA2_ERR_NOTFOUND) {
			log_debug(lc, "groups_claim %s: absent",
			    log_escape(cfg->groups_claim, en, sizeof(en)));
			rc = 0;
		} else if (rc == OA2_ERR_BAD_RESPONSE) {
			log_msg(lc, LOG_WARNING,
			    "groups_claim %s is neither a string nor an "
			    "array of strings",
			    log_escape(cfg->groups_claim, en, sizeof(en)));
			*why = "groups_claim_type";
			goto out;
		} else if (rc != 0) {
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			rc = grant_add(g, CFG_SRC_CLAIM, vals[i], &dropped);
			if (rc != 0)
				goto out;
		}
	}
	if (dropped)
		log_msg(lc, LOG_WARNING,
		    "grant: some values dropped (longer than %d bytes or "
		    "more than %d values)", GRANT_MAX_VALUE, GRANT_MAX_VALUES);
	*out = g;
	g = NULL;
out:
	free(vals);
	grant_free(&g);
	return rc;
}

int
groups_check_required(const struct cfg *cfg, const struct grant *g,
    char *missing, size_t missing_len)
{
	if (missing != NULL && missing_len > 0)
		missing[0] = '\0';
	for (size_t i = 0; i < cfg->nrequired; i++) {
		const struct cfg_value *r = &cfg->required[i];

		if (!grant_has(g, r->src, r->value)) {
			if (missing != NULL && missing_len > 0)
				snprintf(missing, missing_len, "%s:%s",
				    cfg_source_name(r->src), r->value);
			return OA2_ERR_PERM;
		}
	}
	return 0;
}

/* Does required_claims entry r hold in claims?  *why says why not. */
static bool
claim_holds(const struct claims *claims, const struct cfg_claim_req *r,
    const char **why)
{
	const char *s = NULL;
	bool b = false;
	int rc;

	if (r->kind == CFG_CLAIM_STRING)
		rc = claims_get_string(claims, r->name, &s);
	else
		rc = claims_get_bool(claims, r->name, &b);
	if (rc == OA2_ERR_NOTFOUND) {
		*why = "is absent";
		return false;
	}
	if (rc != 0) {
		*why = r->kind == CFG_CLAIM_STRING ? "is not a JSON string" :
		    "is not a JSON boolean";
		return false;
	}
	*why = "has another value";
	if (r->kind == CFG_CLAIM_STRING)
		return strcmp(s, r->value) == 0;
	return b == (r->kind == CFG_CLAIM_TRUE);
}

int
groups_check_claims(const struct cfg *cfg, const struct claims *claims,
    const struct log_ctx *lc, char *missing, size_t missing_len)
{
	char en[LOG_ESC_MAX];

	if (missing != NULL && missing_len > 0)
		missing[0] = '\0';
	for (size_t i = 0; i < cfg->nrequired_claims; i++) {
		const struct cfg_claim_req *r = &cfg->required_claims[i];
		const char *why = "is absent (no claims)";

		if (claims != NULL && claim_holds(claims, r, &why))
			continue;
		if (missing != NULL && missing_len > 0)
			snprintf(missing, missing_len, "%s", r->name);
		log_msg(lc, LOG_WARNING, "required_claims: claim %s %s "
		    "(required: %s)", log_escape(r->name, en, sizeof(en)),
		    why, r->kind == CFG_CLAIM_TRUE ? "true" :
		    r->kind == CFG_CLAIM_FALSE ? "false" : "a string");
		return OA2_ERR_PERM;
	}
	return 0;
}

void
group_list_clear(struct group_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->gids);
	memset(l, 0, sizeof(*l));
}

static bool
list_has(const struct group_list *l, gid_t gid)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->gids[i] == gid)
			return true;
	}
	return false;
}

static int
list_add(struct group_list *l, gid_t gid, const char *name)
{
	gid_t *g2;
	char **n2, *copy;

	if (list_has(l, gid))
		return 0;
	copy = strdup(name);
	if (copy == NULL)
		return OA2_ERR_NOMEM;
	g2 = realloc(l->gids, (l->n + 1) * sizeof(*g2));
	if (g2 == NULL) {
		free(copy);
		return OA2_ERR_NOMEM;
	}
	l->gids = g2;
	n2 = realloc(l->names, (l->n + 1) * sizeof(*n2));
	if (n2 == NULL) {
		free(copy);
		return OA2_ERR_NOMEM;
	}
	l->names = n2;
	l->gids[l->n] = gid;
	l->names[l->n] = copy;
	l->n++;
	return 0;
}

/* Names already reported as missing or refused in this call. */
struct seen {
	const char *names[CFG_MAX_GROUP_MAP];
	size_t n;
};

static bool
seen_once(struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->names[i], name) == 0)
			return false;
	}
	if (s->n < sizeof(s->names) / sizeof(s->names[0]))
		s->names[s->n++] = name;
	return true;
}

int
groups_map(const struct cfg *cfg, const struct grant *g,
    const struct log_ctx *lc, struct group_list *granted,
    struct group_list *mapped)
{
	struct seen *reported = NULL;
	char en[LOG_ESC_MAX], ev[LOG_ESC_MAX];
	int rc = 0;

	memset(granted, 0, sizeof(*granted));
	if (mapped != NULL)
		memset(mapped, 0, sizeof(*mapped));
	reported = calloc(1, sizeof(*reported));
	if (reported == NULL)
		return OA2_ERR_NOMEM;
	for (size_t i = 0; i < cfg->ngroup_map && rc == 0; i++) {
		const struct cfg_group_map *m = &cfg->group_map[i];
		bool is_granted = grant_has(g, m->src, m->value);

		if (!is_granted && mapped == NULL)
			continue;
		for (size_t j = 0; j < m->ngroups && rc == 0; j++) {
			gid_t gid = 0;

			if (lookup_gid(m->groups[j], &gid) != 0) {
				if (is_granted && seen_once(reported,
				    m->groups[j]))
					log_msg(lc, LOG_WARNING,
					    "group %s (mapped from %s:%s) "
					    "does not exist: not granted",
					    log_escape(m->groups[j], en,
					    sizeof(en)),
					    cfg_source_name(m->src),
					    log_escape(m->value, ev,
					    sizeof(ev)));
				continue;
			}
			if (gid == 0 && !cfg->allow_gid0) {
				if (is_granted && seen_once(reported,
				    m->groups[j]))
					log_msg(lc, LOG_WARNING,
					    "group %s (mapped from %s:%s) "
					    "has GID 0: not granted without "
					    "allow_gid0",
					    log_escape(m->groups[j], en,
					    sizeof(en)),
					    cfg_source_name(m->src),
					    log_escape(m->value, ev,
					    sizeof(ev)));
				continue;
			}
			if (mapped != NULL)
				rc = list_add(mapped, gid, m->groups[j]);
			if (rc == 0 && is_granted)
				rc = list_add(granted, gid, m->groups[j]);
		}
	}
	free(reported);
	if (rc != 0) {
		group_list_clear(granted);
		group_list_clear(mapped);
	}
	return rc;
}

int
groups_apply(const struct group_list *l)
{
	gid_t *cur = NULL;
	int n, total, rc = 0;

	if (l == NULL || l->n == 0)
		return 0;
	n = getgroups(0, NULL);
	if (n < 0 || n > GROUPS_MAX_PROCESS)
		return OA2_ERR_CRED;
	cur = calloc((size_t)n + l->n, sizeof(*cur));
	if (cur == NULL)
		return OA2_ERR_NOMEM;
	n = getgroups(n, cur);
	if (n < 0) {
		rc = OA2_ERR_CRED;
		goto out;
	}
	total = n;
	for (size_t i = 0; i < l->n; i++) {
		bool have = false;

		for (int k = 0; k < total; k++) {
			if (cur[k] == l->gids[i]) {
				have = true;
				break;
			}
		}
		if (!have)
			cur[total++] = l->gids[i];
	}
	if (total != n && setgroups((size_t)total, cur) != 0)
		rc = OA2_ERR_CRED;
out:
	free(cur);
	return rc;
}

bool
groups_authinfo_allows(const char *ai)
{
	const char *line = ai;

	if (ai == NULL || *ai == '\0')
		return true;
	while (line != NULL && *line != '\0') {
		if (strncmp(line, "keyboard-interactive", 20) == 0 ||
		    strncmp(line, "password", 8) == 0)
			return true;
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return false;
}

const char *
group_list_join(const struct group_list *l, char *buf, size_t len)
{
	size_t o = 0;

	if (buf == NULL || len == 0)
		return "";
	buf[0] = '\0';
	if (l == NULL || l->n == 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	for (size_t i = 0; i < l->n; i++) {
		int w = snprintf(buf + o, len - o, "%s%s", i ? "," : "",
		    l->names[i]);

		if (w < 0 || (size_t)w >= len - o) {
			if (len >= 4)
				memcpy(buf + len - 4, "...", 4);
			break;
		}
		o += (size_t)w;
	}
	return buf;
}

int
groups_establish(const struct cfg *cfg, const struct log_ctx *lc,
    const struct grant *g, const char *source)
{
	struct group_list granted = { 0 }, mapped = { 0 };
	char eu[LOG_ESC_MAX], names[LOG_ESC_MAX], en[LOG_ESC_MAX];
	const char *sync = "off";
	bool changed = false;
	int rc;

	rc = groups_map(cfg, g, lc, &granted, cfg->group_sync ? &mapped :
	    NULL);
	if (rc != 0)
		goto out;
	rc = groups_apply(&granted);
	if (rc == OA2_ERR_CRED)
		log_msg(lc, LOG_ERR, "setgroups failed: %s", strerror(errno));
	if (rc == 0 && cfg->group_sync) {
		/* A failure here is logged and leaves the file as it was;
		 * the session keeps its groups. */
		sync = groupsync_apply(GROUPSYNC_PATH, g->user, &granted,
		    &mapped, lc, &changed) != 0 ? "failed" :
		    changed ? "written" : "unchanged";
	}
	group_list_join(&granted, names, sizeof(names));
	log_msg(lc, rc == 0 ? LOG_NOTICE : LOG_ERR,
	    "groups user=%s granted=%s source=%s sync=%s result=%s",
	    log_escape(g->user, eu, sizeof(eu)),
	    log_escape(names, en, sizeof(en)), source, sync,
	    rc == 0 ? "ok" : "error");
out:
	group_list_clear(&granted);
	group_list_clear(&mapped);
	return rc;
}
