/*
 * fuzz_cfg.c - the configuration file and module arguments: cfg_load with
 * the input as the file (up to the first NUL) and the rest, split at line
 * feeds, as module arguments.  Runs as root (the file must be root-owned
 * for cfg_read_file to parse it); config= and *_file arguments are
 * dropped so the harness reads no other file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "errors.h"
#include "fuzz.h"

#define MAX_ARGS 32

static char path[64];
static char config_arg[80];

static void
remove_file(void)
{
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *argv[MAX_ARGS + 1];
	const uint8_t *nul;
	struct cfg *c = NULL;
	char err[CFG_ERR_LEN];
	char *args = NULL, *line, *next;
	size_t flen;
	int argc = 0, fd, rc;
	FILE *f;

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/oa2fuzz-cfg.XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(remove_file);
		snprintf(config_arg, sizeof(config_arg), "config=%s", path);
	}
	nul = memchr(data, '\0', size);
	flen = nul != NULL ? (size_t)(nul - data) : size;
	if (memmem(data, flen, "_file", 5) != NULL)
		return 0;
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fwrite(data, 1, flen, f);
	fclose(f);
	argv[argc++] = config_arg;
	if (nul != NULL) {
		args = strndup((const char *)nul + 1, size - flen - 1);
		if (args == NULL)
			return 0;
		for (line = args; line != NULL && argc < MAX_ARGS;
		    line = next) {
			next = strchr(line, '\n');
			if (next != NULL)
				*next++ = '\0';
			if (strncmp(line, "config", 6) == 0 ||
			    strstr(line, "_file") != NULL)
				continue;
			argv[argc++] = line;
		}
	}
	argv[argc] = NULL;
	rc = cfg_load(argc, argv, &c, err, sizeof(err));
	if (rc == 0) {
		/* What validation lets through is complete. */
		if (c->issuer == NULL || c->client_id == NULL ||
		    strncmp(c->issuer, "https://", 8) != 0 ||
		    c->timeout < 1 || c->connect_timeout > c->timeout)
			abort();
	} else if (rc == OA2_ERR_CONFIG && err[0] == '\0') {
		/* Every refusal says why. */
		abort();
	}
	cfg_free(&c);
	free(args);
	return 0;
}
