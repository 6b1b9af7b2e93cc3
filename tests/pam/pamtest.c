/*
 * pamtest - drive the real libpam with a service file the test wrote.
 *
 *   pamtest CONFDIR SERVICE USER [ops...]
 *
 * ops (default "auth"): auth, acct, setcred, open, close, nullconv
 * (a conversation whose function is NULL), nullreply (conversation succeeds with NULL
 * replies), failconv (conversation fails).  Answers to prompts are read
 * from standard input, one line each (never argv: they are secrets).
 * Prompts and messages go to stderr as "PROMPT[style]: text".  For each
 * op one line "op=PAM_NAME" goes to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

static int conv_mode; /* 0 normal, 1 NULL replies, 2 fail */

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

		fprintf(stderr, "PROMPT[%d]: %s\n", msg[i]->msg_style,
		    msg[i]->msg);
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
		r[i].resp = strdup(line);
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int
run(pam_handle_t *pamh, const char *op)
{
	int rc;

	if (strcmp(op, "auth") == 0)
		rc = pam_authenticate(pamh, 0);
	else if (strcmp(op, "acct") == 0)
		rc = pam_acct_mgmt(pamh, 0);
	else if (strcmp(op, "setcred") == 0)
		rc = pam_setcred(pamh, PAM_ESTABLISH_CRED);
	else if (strcmp(op, "open") == 0)
		rc = pam_open_session(pamh, 0);
	else if (strcmp(op, "close") == 0)
		rc = pam_close_session(pamh, 0);
	else {
		fprintf(stderr, "pamtest: unknown op %s\n", op);
		return PAM_SYSTEM_ERR;
	}
	printf("%s=%s\n", op, code_name(rc));
	fflush(stdout);
	return rc;
}

int
main(int argc, char **argv)
{
	struct pam_conv pc = { conv, NULL }, nc = { NULL, NULL };
	pam_handle_t *pamh = NULL;
	const char *ops[32];
	int nops = 0, nullconv = 0, rc, last = PAM_SUCCESS;

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
		else if (nops < 32)
			ops[nops++] = argv[i];
	}
	if (nops == 0)
		ops[nops++] = "auth";
	rc = pam_start_confdir(argv[2], argv[3][0] != '\0' ? argv[3] : NULL,
	    nullconv ? &nc : &pc, argv[1], &pamh);
	if (rc != PAM_SUCCESS) {
		printf("start=%s\n", code_name(rc));
		return 1;
	}
	for (int i = 0; i < nops; i++)
		last = run(pamh, ops[i]);
	pam_end(pamh, last);
	return 0;
}
