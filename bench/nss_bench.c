/*
 * nss_bench.c - the helper of bench/nss.sh.
 *
 *   nss_bench gen DIR N         users.db in DIR with N users u0..u(N-1)
 *                               (UIDs from the default range start, two
 *                               mapped groups each)
 *   nss_bench files DIR N       DIR/passwd and DIR/group: the same N users
 *                               as /etc/passwd lines, their N private
 *                               groups and two groups listing every tenth
 *   nss_bench time NAME UID ITER
 *                               getpwnam_r(NAME), getpwuid_r(UID) and
 *                               getgrouplist(NAME) through glibc (whatever
 *                               nsswitch.conf says), ITER times each after
 *                               one warm-up call; prints the mean in
 *                               microseconds, one "key value" per line;
 *                               then getpwnam_r of an unknown name (a
 *                               miss: the placeholder rules run)
 *   nss_bench touch DIR NAME ITER
 *                               a repeat login's write, as provision.c
 *                               makes it (begin, touch, commit), ITER
 *                               times with the same groups (a stamp in
 *                               place) and ITER times with the groups
 *                               changing each time (the whole file);
 *                               the mean in milliseconds
 */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "userdb.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
gen(const char *dir, long n)
{
	struct userdb_txn *t = NULL;
	uint32_t g[] = { 27, 100 };
	char name[32], sub[48];
	int rc;

	rc = userdb_begin(dir, &t);
	for (long i = 0; i < n && rc == 0; i++) {
		struct userdb_new u;

		snprintf(name, sizeof(name), "u%ld", i);
		snprintf(sub, sizeof(sub), "subject-%ld", i);
		memset(&u, 0, sizeof(u));
		u.name = name;
		u.gecos = "Provisioned User";
		u.home = "/home/provisioned";
		u.shell = "/bin/bash";
		u.issuer = "https://idp.example";
		u.sub = sub;
		u.uid = USERDB_UID_MIN_DEFAULT + (uint32_t)i;
		u.now = 1;
		u.groups = g;
		u.ngroups = 2;
		rc = userdb_txn_add(t, &u);
	}
	if (rc != 0) {
		fprintf(stderr, "gen: %s\n", userdb_strerror(rc));
		userdb_abort(&t);
		return 1;
	}
	rc = userdb_commit(&t);
	if (rc != 0)
		fprintf(stderr, "gen: commit: %s\n", userdb_strerror(rc));
	return rc != 0;
}

static int
files(const char *dir, long n)
{
	char path[512];
	FILE *pw, *gr;

	snprintf(path, sizeof(path), "%s/passwd", dir);
	pw = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/group", dir);
	gr = fopen(path, "w");
	if (pw == NULL || gr == NULL)
		return 1;
	fprintf(pw, "root:x:0:0:root:/root:/bin/bash\n");
	fprintf(gr, "root:x:0:\n");
	for (long i = 0; i < n; i++) {
		uint32_t id = USERDB_UID_MIN_DEFAULT + (uint32_t)i;

		fprintf(pw, "u%ld:x:%u:%u:Provisioned User:/home/provisioned:/bin/bash\n",
		    i, id, id);
		fprintf(gr, "u%ld:x:%u:\n", i, id);
	}
	/* two supplementary groups listing every tenth user (and the one
	 * timed), as /etc/group would after usermod -aG */
	for (int g = 0; g < 2; g++) {
		fprintf(gr, "%s:x:%d:", g == 0 ? "sudo" : "users", g == 0 ? 27 : 100);
		for (long i = 0; i < n; i += 10)
			fprintf(gr, "%su%ld", i ? "," : "", i);
		fprintf(gr, "\n");
	}
	return fclose(pw) != 0 || fclose(gr) != 0;
}

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "time: %s failed (%s)\n", what, rc ? strerror(rc) : "not found");
	return 1;
}

static int
timing(const char *name, uid_t uid, long iter)
{
	char buf[4096];
	struct passwd pw, *res = NULL;
	gid_t groups[64];
	int ng;
	double t0;

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		fprintf(stderr, "time: getpwnam_r(%s) found nothing\n", name);
		return 1;
	}
	if (res->pw_uid != uid) {
		fprintf(stderr, "time: %s has uid %u, not %u\n", name,
		    (unsigned)res->pw_uid, (unsigned)uid);
		return 1;
	}
	t0 = now_us();
	for (long i = 0; i < iter; i++) {
		int rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);

		if (rc != 0 || res == NULL)
			return fail("getpwnam_r", rc);
	}
	printf("getpwnam %.2f\n", (now_us() - t0) / (double)iter);
	t0 = now_us();
	for (long i = 0; i <= iter; i++) {
		int rc = getpwuid_r(uid, &pw, buf, sizeof(buf), &res);

		if (rc != 0 || res == NULL)
			return fail("getpwuid_r", rc);
		if (i == 0)
			t0 = now_us();   /* the first call is the warm-up */
	}
	printf("getpwuid %.2f\n", (now_us() - t0) / (double)iter);
	ng = 64;
	if (getgrouplist(name, (gid_t)uid, groups, &ng) < 0 || ng != 3) {
		fprintf(stderr, "time: getgrouplist(%s) gave %d groups, not 3\n",
		    name, ng);
		return 1;
	}
	t0 = now_us();
	for (long i = 0; i < iter; i++) {
		ng = 64;
		if (getgrouplist(name, (gid_t)uid, groups, &ng) < 0)
			return fail("getgrouplist", 0);
	}
	printf("initgroups %.2f\n", (now_us() - t0) / (double)iter);
	t0 = now_us();
	for (long i = 0; i <= iter; i++) {
		int rc = getpwnam_r("no-such-user-here", &pw, buf, sizeof(buf),
		    &res);

		if (rc != 0 || res != NULL)
			return fail("getpwnam_r (miss)", rc);
		if (i == 0)
			t0 = now_us();
	}
	printf("miss %.2f\n", (now_us() - t0) / (double)iter);
	return 0;
}

/* begin + touch + commit of name, iter times: groups kept, then groups
 * changing each time. */
static int
touch(const char *dir, const char *name, long iter)
{
	uint32_t same[] = { 27, 100 }, other[] = { 27, 0 };
	double t0;

	for (int pass = 0; pass < 2; pass++) {
		t0 = now_us();
		for (long i = 0; i < iter; i++) {
			struct userdb_txn *t = NULL;
			int rc;

			other[1] = 1000 + (uint32_t)i;
			rc = userdb_begin(dir, &t);
			if (rc == 0)
				rc = userdb_txn_touch(t, name, 2 + i,
				    pass == 0 ? same : other, 2);
			if (rc == 0)
				rc = userdb_commit(&t);
			userdb_abort(&t);
			if (rc != 0) {
				fprintf(stderr, "touch: %s\n", userdb_strerror(rc));
				return 1;
			}
		}
		printf("%s %.2f\n", pass == 0 ? "touch_same" : "touch_changed",
		    (now_us() - t0) / 1e3 / (double)iter);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], atol(argv[3]));
	if (argc == 4 && strcmp(argv[1], "files") == 0)
		return files(argv[2], atol(argv[3]));
	if (argc == 5 && strcmp(argv[1], "touch") == 0)
		return touch(argv[2], argv[3], atol(argv[4]));
	if (argc == 5 && strcmp(argv[1], "time") == 0)
		return timing(argv[2], (uid_t)strtoul(argv[3], NULL, 10),
		    atol(argv[4]));
	fprintf(stderr, "usage: nss_bench gen DIR N | files DIR N | "
	    "time NAME UID ITER | touch DIR NAME ITER\n");
	return 2;
}
