/*
 * stress - host-process hazards of a PAM module: loading and unloading it
 * over and over, and many threads each with its own PAM handle.
 *
 *   stress dlopen MODULE N
 *       dlopen/dlsym/dlclose the module N times.
 *   stress cycles CONFDIR SERVICE USER N
 *       N times: pam_start_confdir, pam_authenticate, pam_end (libpam loads
 *       and unloads the module each time).
 *   stress threads CONFDIR SERVICE USER N
 *       N threads, each with its own handle, authenticate at once.
 *
 * The answer to every prompt comes from the environment variable
 * OA2_STRESS_ANSWER (empty when unset), never argv.  Results are printed
 * as "NAME=COUNT" lines, one per distinct PAM code, then "done".  Run it
 * under the sanitizers or valgrind: they, not this program, judge memory.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#define MAX_THREADS 256

static const char *confdir, *service, *user;
static int counts[64];

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	const char *answer = getenv("OA2_STRESS_ANSWER");
	struct pam_response *r;

	(void)data;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		r[i].resp = strdup(answer != NULL ? answer : "");
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int
one_login(void)
{
	struct pam_conv pc = { conv, NULL };
	pam_handle_t *pamh = NULL;
	int rc;

	rc = pam_start_confdir(service, user, &pc, confdir, &pamh);
	if (rc != PAM_SUCCESS)
		return rc;
	rc = pam_authenticate(pamh, 0);
	pam_end(pamh, rc);
	return rc;
}

static void *
thread_main(void *arg)
{
	*(int *)arg = one_login();
	return NULL;
}

static void
count(int rc)
{
	if (rc >= 0 && rc < 64)
		counts[rc]++;
}

static void
report(pam_handle_t *any)
{
	for (int i = 0; i < 64; i++) {
		if (counts[i] > 0)
			printf("%s=%d\n", i == PAM_SUCCESS ? "PAM_SUCCESS" :
			    pam_strerror(any, i), counts[i]);
	}
	printf("done\n");
}

int
main(int argc, char **argv)
{
	int n;

	if (argc == 4 && strcmp(argv[1], "dlopen") == 0) {
		n = atoi(argv[3]);
		for (int i = 0; i < n; i++) {
			void *h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);

			if (h == NULL) {
				printf("dlopen failed: %s\n", dlerror());
				return 1;
			}
			if (dlsym(h, "pam_sm_authenticate") == NULL ||
			    dlsym(h, "pam_sm_setcred") == NULL) {
				printf("dlsym failed\n");
				return 1;
			}
			dlclose(h);
			counts[0]++;
		}
		printf("cycles=%d\ndone\n", counts[0]);
		return 0;
	}
	if (argc != 6) {
		fprintf(stderr, "usage: see the comment in stress.c\n");
		return 2;
	}
	confdir = argv[2];
	service = argv[3];
	user = argv[4];
	n = atoi(argv[5]);
	if (strcmp(argv[1], "cycles") == 0) {
		for (int i = 0; i < n; i++)
			count(one_login());
	} else if (strcmp(argv[1], "threads") == 0) {
		pthread_t t[MAX_THREADS];
		int rcs[MAX_THREADS];

		if (n < 1 || n > MAX_THREADS)
			return 2;
		for (int i = 0; i < n; i++) {
			if (pthread_create(&t[i], NULL, thread_main,
			    &rcs[i]) != 0) {
				printf("pthread_create failed\n");
				return 1;
			}
		}
		for (int i = 0; i < n; i++) {
			pthread_join(t[i], NULL);
			count(rcs[i]);
		}
	} else {
		return 2;
	}
	report(NULL);
	return 0;
}
