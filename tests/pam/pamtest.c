/*
 * pamtest - drive the real libpam with a service file the test wrote.
 *
 *   pamtest CONFDIR SERVICE USER [ops...]
 *
 * ops (default "auth"): auth, acct, setcred (ESTABLISH), setcred_reinit,
 * setcred_delete, setcred_refresh, open, close, groups (print
 * "groups=NAME,..." for the process's supplementary groups, sorted),
 * setuser=NAME (set PAM_USER, as sudo does before setcred),
 * putenv=NAME=VALUE (pam_putenv, as sshd sets SSH_AUTH_INFO_0), nullconv
 * (a conversation whose function is NULL), nullreply (conversation succeeds with NULL
 * replies), failconv (conversation fails), hexreply (each answer line is
 * hex-decoded first, so any byte can be sent), sigcheck (print SIGPIPE and
 * SIGALRM dispositions and the ITIMER_REAL timer before and after every
 * op, as "sigcheck=same" or "sigcheck=CHANGED ..."), forkend (last op:
 * pam_end in a forked child, "forkend=exit:N" or "forkend=signal:N"),
 * stdiocheck (stdout and stderr point to a scratch file during each op,
 * prompts still reach the real stderr; "stdio=N" says how many bytes
 * the module wrote there), ruid=N (before pam_start: real UID N, effective
 * UID still 0, as in a setuid su or sudo run by user N).
 * Answers to prompts are read
 * from standard input, one line each (never argv: they are secrets).
 * Prompts and messages go to stderr as "PROMPT[style]: text".  For each
 * op one line "op=PAM_NAME" goes to stdout.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

static int conv_mode; /* 0 normal, 1 NULL replies, 2 fail */
static int hexreply, sigcheck, stdiocheck;
static FILE *promptf; /* where prompts go; stderr unless stdiocheck */

/* Decode a hex line in place (stops at the first non-hex pair). */
static void
unhex(char *s)
{
	size_t o = 0;
	unsigned int b;

	for (size_t i = 0; s[i] != '\0' && s[i + 1] != '\0'; i += 2) {
		if (sscanf(s + i, "%2x", &b) != 1)
			break;
		s[o++] = (char)b;
	}
	s[o] = '\0';
}

struct sigstate {
	struct sigaction pipe, alrm;
	struct itimerval timer;
};

static void
sig_record(struct sigstate *st)
{
	sigaction(SIGPIPE, NULL, &st->pipe);
	sigaction(SIGALRM, NULL, &st->alrm);
	getitimer(ITIMER_REAL, &st->timer);
}

/* Dispositions equal, and the timer still armed for the same interval
 * (the value itself counts down). */
static void
sig_compare(const struct sigstate *a, const struct sigstate *b)
{
	int same = a->pipe.sa_handler == b->pipe.sa_handler &&
	    a->pipe.sa_flags == b->pipe.sa_flags &&
	    a->alrm.sa_handler == b->alrm.sa_handler &&
	    a->alrm.sa_flags == b->alrm.sa_flags &&
	    a->timer.it_interval.tv_sec == b->timer.it_interval.tv_sec &&
	    (a->timer.it_value.tv_sec != 0 || a->timer.it_value.tv_usec != 0) ==
	    (b->timer.it_value.tv_sec != 0 || b->timer.it_value.tv_usec != 0);

	if (same)
		printf("sigcheck=same\n");
	else
		printf("sigcheck=CHANGED pipe=%p/%p alrm=%p/%p timer=%ld/%ld\n",
		    (void *)a->pipe.sa_handler, (void *)b->pipe.sa_handler,
		    (void *)a->alrm.sa_handler, (void *)b->alrm.sa_handler,
		    (long)a->timer.it_value.tv_sec,
		    (long)b->timer.it_value.tv_sec);
}

/* The host's own handlers, which the module must leave in place. */
static void
host_handler(int sig)
{
	(void)sig;
}

static const struct {
	int code;
	const char *name;
} names[] = {
	{ PAM_SUCCESS, "PAM_SUCCESS" },
	{ PAM_AUTH_ERR, "PAM_AUTH_ERR" },
	{ PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" },
	{ PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL" },
	{ PAM_SERVICE_ERR, "PAM_SERVICE_ERR" },
	{ PAM_CONV_ERR, "PAM_CONV_ERR" },
	{ PAM_BUF_ERR, "PAM_BUF_ERR" },
	{ PAM_IGNORE, "PAM_IGNORE" },
	{ PAM_PERM_DENIED, "PAM_PERM_DENIED" },
	{ PAM_CRED_ERR, "PAM_CRED_ERR" },
	{ PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" },
	{ PAM_MAXTRIES, "PAM_MAXTRIES" },
	{ PAM_ABORT, "PAM_ABORT" },
	{ PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED" },
	{ PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD" },
	{ PAM_SESSION_ERR, "PAM_SESSION_ERR" },
	{ PAM_CRED_INSUFFICIENT, "PAM_CRED_INSUFFICIENT" },
};

static const char *
code_name(int rc)
{
	static char buf[32];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].code == rc)
			return names[i].name;
	}
	snprintf(buf, sizeof(buf), "PAM_%d", rc);
	return buf;
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_response *r;

	(void)data;
	if (conv_mode == 2)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		char line[8192];
		size_t len;

		fprintf(promptf, "PROMPT[%d]: %s\n", msg[i]->msg_style,
		    msg[i]->msg);
		fflush(promptf);
		if (conv_mode == 1)
			continue;
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if (fgets(line, sizeof(line), stdin) == NULL)
			line[0] = '\0';
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (hexreply)
			unhex(line);
		r[i].resp = strdup(line);
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "groups=NAME,NAME" for the supplementary groups, sorted by name. */
static int
print_groups(void)
{
	gid_t gids[1024];
	char *gnames[1024];
	int n = getgroups(1024, gids);

	printf("groups=");
	for (int i = 0; i < n; i++) {
		struct group *gr = getgrgid(gids[i]);
		char num[32];

		snprintf(num, sizeof(num), "%ld", (long)gids[i]);
		gnames[i] = strdup(gr != NULL ? gr->gr_name : num);
	}
	qsort(gnames, (size_t)(n > 0 ? n : 0), sizeof(gnames[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		printf("%s%s", i ? "," : "", gnames[i]);
		free(gnames[i]);
	}
	printf("\n");
	fflush(stdout);
	return PAM_SUCCESS;
}

static int
run(pam_handle_t *pamh, const char *op)
{
	struct sigstate before, after;
	FILE *scratch = NULL;
	int rc, out1 = -1, out2 = -1;

	if (strcmp(op, "groups") == 0)
		return print_groups();
	if (strncmp(op, "putenv=", 7) == 0) {
		/* PAM environment, as sshd sets SSH_AUTH_INFO_0. */
		rc = pam_putenv(pamh, op + 7);
		printf("putenv=%s\n", code_name(rc));
		fflush(stdout);
		return rc;
	}
	if (strncmp(op, "setuser=", 8) == 0) {
		/* As sudo does before setcred: PAM_USER becomes another. */
		rc = pam_set_item(pamh, PAM_USER, op + 8);
		printf("setuser=%s\n", code_name(rc));
		fflush(stdout);
		return rc;
	}
	if (sigcheck)
		sig_record(&before);
	if (stdiocheck) {
		fflush(stdout);
		fflush(stderr);
		scratch = tmpfile();
		out1 = dup(1);
		out2 = dup(2);
		if (scratch == NULL || out1 < 0 || out2 < 0 ||
		    dup2(fileno(scratch), 1) < 0 || dup2(fileno(scratch), 2) < 0)
			return PAM_SYSTEM_ERR;
	}
	if (strcmp(op, "auth") == 0)
		rc = pam_authenticate(pamh, 0);
	else if (strcmp(op, "acct") == 0)
		rc = pam_acct_mgmt(pamh, 0);
	else if (strcmp(op, "setcred") == 0)
		rc = pam_setcred(pamh, PAM_ESTABLISH_CRED);
	else if (strcmp(op, "setcred_reinit") == 0)
		rc = pam_setcred(pamh, PAM_REINITIALIZE_CRED);
	else if (strcmp(op, "setcred_delete") == 0)
		rc = pam_setcred(pamh, PAM_DELETE_CRED);
	else if (strcmp(op, "setcred_refresh") == 0)
		rc = pam_setcred(pamh, PAM_REFRESH_CRED);
	else if (strcmp(op, "open") == 0)
		rc = pam_open_session(pamh, 0);
	else if (strcmp(op, "close") == 0)
		rc = pam_close_session(pamh, 0);
	else {
		fprintf(stderr, "pamtest: unknown op %s\n", op);
		return PAM_SYSTEM_ERR;
	}
	if (stdiocheck) {
		fflush(stdout);
		fflush(stderr);
		dup2(out1, 1);
		dup2(out2, 2);
		close(out1);
		close(out2);
		fseek(scratch, 0, SEEK_END);
		printf("stdio=%ld\n", ftell(scratch));
		fclose(scratch);
	}
	printf("%s=%s\n", op, code_name(rc));
	if (sigcheck) {
		sig_record(&after);
		sig_compare(&before, &after);
	}
	fflush(stdout);
	return rc;
}

int
main(int argc, char **argv)
{
	struct pam_conv pc = { conv, NULL }, nc = { NULL, NULL };
	pam_handle_t *pamh = NULL;
	const char *ops[32];
	int nops = 0, nullconv = 0, forkend = 0, rc, last = PAM_SUCCESS;

	if (argc < 4) {
		fprintf(stderr, "usage: pamtest CONFDIR SERVICE USER [ops]\n");
		return 2;
	}
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "nullreply") == 0)
			conv_mode = 1;
		else if (strcmp(argv[i], "failconv") == 0)
			conv_mode = 2;
		else if (strcmp(argv[i], "nullconv") == 0)
			nullconv = 1;
		else if (strcmp(argv[i], "hexreply") == 0)
			hexreply = 1;
		else if (strcmp(argv[i], "sigcheck") == 0)
			sigcheck = 1;
		else if (strcmp(argv[i], "forkend") == 0)
			forkend = 1;
		else if (strcmp(argv[i], "stdiocheck") == 0)
			stdiocheck = 1;
		else if (strncmp(argv[i], "ruid=", 5) == 0) {
			if (setresuid((uid_t)strtoul(argv[i] + 5, NULL, 10),
			    0, 0) != 0) {
				perror("pamtest: setresuid");
				return 2;
			}
		}
		else if (nops < 32)
			ops[nops++] = argv[i];
	}
	if (nops == 0)
		ops[nops++] = "auth";
	promptf = stderr;
	if (stdiocheck) {
		promptf = fdopen(dup(2), "w");
		if (promptf == NULL)
			return 2;
	}
	if (sigcheck) {
		/* A host with its own SIGPIPE/SIGALRM handlers and a pending
		 * alarm, as login(1) arms one. */
		struct sigaction sa;
		struct itimerval it = { { 0, 0 }, { 600, 0 } };

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = host_handler;
		sigaction(SIGPIPE, &sa, NULL);
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
	}
	rc = pam_start_confdir(argv[2], argv[3][0] != '\0' ? argv[3] : NULL,
	    nullconv ? &nc : &pc, argv[1], &pamh);
	if (rc != PAM_SUCCESS) {
		printf("start=%s\n", code_name(rc));
		return 1;
	}
	for (int i = 0; i < nops; i++)
		last = run(pamh, ops[i]);
	if (forkend) {
		/* A daemon that forks and ends the handle in the child. */
		int st = 0;
		pid_t pid = fork();

		if (pid == 0) {
			pam_end(pamh, last);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			printf("forkend=fork_failed\n");
		else if (WIFEXITED(st))
			printf("forkend=exit:%d\n", WEXITSTATUS(st));
		else
			printf("forkend=signal:%d\n", WTERMSIG(st));
		fflush(stdout);
	}
	pam_end(pamh, last);
	return 0;
}
