/*
 * fault.c - fault points for tests, linked in place of src/fault.c into
 * the test-only module pam_oauth2_fault.so: the point named by
 * OA2_FAULT_KILL kills the process with SIGKILL (no handler, no cleanup:
 * what a crash or an OOM kill does); the point named by OA2_FAULT_TERM
 * sends it SIGTERM (what sshd's LoginGraceTime, a systemd stop or an
 * admin's kill sends: a signal that can be blocked).
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

void
fault_point(const char *where)
{
	const char *kill_at = getenv("OA2_FAULT_KILL");
	const char *term_at = getenv("OA2_FAULT_TERM");

	if (kill_at != NULL && strcmp(kill_at, where) == 0)
		raise(SIGKILL);
	if (term_at != NULL && strcmp(term_at, where) == 0)
		raise(SIGTERM);
}
