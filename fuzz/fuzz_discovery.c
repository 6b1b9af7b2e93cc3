/*
 * fuzz_discovery.c - OpenID Connect Discovery documents: discovery_parse
 * for a fixed issuer.  Whatever it accepts must name that issuer and only
 * https endpoints.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "discovery.h"
#include "errors.h"
#include "fuzz.h"

static void
check_url(const char *u, int required)
{
	if (u == NULL) {
		if (required)
			abort();
		return;
	}
	if (strncmp(u, "https://", 8) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct endpoints ep;
	const char *why = NULL;
	char *body;

	body = malloc(size + 1);
	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	if (discovery_parse("https://idp.example", body, size, &ep,
	    &why) == 0) {
		check_url(ep.token, 1);
		check_url(ep.jwks, 1);
		check_url(ep.userinfo, 0);
		check_url(ep.device, 0);
	}
	endpoints_clear(&ep);
	free(body);
	return 0;
}
