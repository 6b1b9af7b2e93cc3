/*
 * fuzz_device.c - device authorization responses (RFC 8628 §3.2):
 * device_parse, then the prompt built from what it accepted (with and
 * without a QR code).  Input: one status byte, one flags byte, the body.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fuzz.h"
#include "grant_device.h"

/* Everything the user will see must be printable (or the QR blocks and
 * line feeds the prompt itself adds). */
static void
check_prompt(const char *p)
{
	for (const unsigned char *s = (const unsigned char *)p; *s; s++) {
		if ((*s < 0x20 && *s != '\n') || *s == 0x7f)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct device_auth d;
	char errcode[64];
	const char *why = NULL;
	char *body, *prompt = NULL;
	int rc;

	if (size < 2)
		return 0;
	body = malloc(size - 1);
	if (body == NULL)
		return 0;
	memcpy(body, data + 2, size - 2);
	body[size - 2] = '\0';
	rc = device_parse(fuzz_status(data[0]), body, size - 2, &d, errcode,
	    sizeof(errcode), &why);
	if (rc == 0) {
		if (d.device_code == NULL || d.user_code == NULL ||
		    d.verification_uri == NULL || d.expires_in <= 0 ||
		    strncmp(d.verification_uri, "https://", 8) != 0)
			abort();
		if (device_prompt(&d, "host", "alice", (data[1] & 1) != 0,
		    &prompt) == 0) {
			check_prompt(prompt);
			free(prompt);
		}
	}
	device_auth_clear(&d);
	free(body);
	return 0;
}
