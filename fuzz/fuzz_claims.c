/*
 * fuzz_claims.c - claims from userinfo (and verified ID token payloads):
 * claims_parse, the lookups the module makes (dotted paths, string
 * arrays), and the binding of the identity to the PAM user.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "errors.h"
#include "fuzz.h"
#include "identity.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct claims *c = NULL;
	const char **list = NULL;
	const char *s = NULL, *why = NULL;
	int64_t n;
	size_t count = 0;
	char *body, idbuf[IDENTITY_SUBJECT_MAX];

	body = malloc(size + 1);
	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	if (claims_parse(body, size, &c) == 0) {
		/* Only "alice", exactly, may bind to alice. */
		if (identity_bind(c, "preferred_username", "alice",
		    &why) == 0 &&
		    (claims_get_string(c, "preferred_username", &s) != 0 ||
		    strcmp(s, "alice") != 0))
			abort();
		(void)identity_bind(c, "email", "alice@example.test", &why);
		(void)claims_get_string(c, "realm_access.roles", &s);
		(void)claims_get_string(c, "a..b", &s);
		(void)claims_get_int64(c, "exp", &n);
		/* A plain OAuth 2 provider's subject: the decimal of a
		 * positive integer "id", nothing else. */
		if (identity_subject(c, "id", idbuf, sizeof(idbuf), &s) == 0 &&
		    (s != idbuf || s[0] < '1' || s[0] > '9' ||
		    strspn(s, "0123456789") != strlen(s)))
			abort();
		if (claims_get_strings(c, "groups", &list, &count) == 0) {
			for (size_t i = 0; i < count; i++)
				(void)strlen(list[i]);
			free(list);
		}
		if (claims_get_strings(c, "realm_access.roles", &list,
		    &count) == 0)
			free(list);
	}
	claims_free(&c);
	free(body);
	return 0;
}
