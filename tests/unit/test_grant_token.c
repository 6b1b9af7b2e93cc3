/*
 * test_grant_token.c - the token shape of grants = token
 * (pam_oauth2.conf(5), TOKENS): what is a JWS, what is an opaque token,
 * and what stays a password.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "grant_token.h"
#include "jwt.h"
#include "tap.h"

/* base64url of {"alg":"RS256","typ":"at+jwt"} and of {} */
#define HDR "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9"
#define PAY "e30"

static char *
repeat(char c, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	char *s = malloc(pl + n + 1);

	if (s == NULL)
		abort();
	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	s[pl + n] = '\0';
	return s;
}

static void
shape(const char *s, bool jws, bool shaped, const char *name)
{
	is_int(grant_token_is_jws(s), jws, "%s: %s a JWS", name,
	    jws ? "is" : "is not");
	is_int(grant_token_shaped(s), shaped, "%s: %s shaped like a token",
	    name, shaped ? "is" : "is not");
}

int
main(void)
{
	char *s;

	shape(HDR "." PAY ".c2ln", true, true, "compact JWS");
	/* Near misses of 40 or more b64token characters ('.' is one) are
	 * opaque-shaped: tokens, introspected, never passwords. */
	shape(HDR "." PAY ".", false, true, "empty signature: 40+ b64token characters, opaque");
	shape("." PAY ".c2ln", false, false, "empty header");
	shape(HDR ".." "c2ln", false, true, "empty payload: 40+ b64token characters, opaque");
	shape(HDR "." PAY ".c2ln.x", false, true, "four segments: 40+ b64token characters, opaque");
	shape(HDR "." PAY, false, true, "two segments: 40+ b64token characters, opaque");
	shape("a.b.c", false, false, "a.b.c (header no JSON object)");
	shape("YWJj.ZGVm.Z2hp", false, false, "header decodes to abc");
	shape(HDR "." PAY ".c2l=", false, true, "padding in a segment: 40+ b64token characters, opaque");
	shape(HDR "." PAY ".c2 ln", false, false, "a space");
	shape(HDR "=." PAY ".c2ln", false, false, "'=' in the header");
	shape("hunter2", false, false, "a short password");
	shape("correct horse battery staple correct horse", false, false,
	    "a long passphrase with spaces");
	shape("p@ssw0rd-p@ssw0rd-p@ssw0rd-p@ssw0rd-p@ssw0rd", false, false,
	    "a long password with '@'");
	s = repeat('a', 39, "");
	shape(s, false, false, "39 b64token characters");
	free(s);
	s = repeat('a', 40, "");
	shape(s, false, true, "40 b64token characters: opaque");
	free(s);
	s = repeat('=', 2, "AbCdEfGhIj-_.~+/AbCdEfGhIj-_.~+/AbCdEfGh");
	shape(s, false, true, "opaque with every b64token character and '=='");
	free(s);
	s = repeat('a', 40, "=");
	shape(s, false, false, "'=' first");
	free(s);
	s = repeat('a', 4096, "");
	shape(s, false, true, "4096 characters: opaque");
	free(s);
	s = repeat('a', 4097, "");
	shape(s, false, false, "4097 characters: not opaque");
	free(s);
	/* A JWS over the cap is a token (never a password), but no JWS to
	 * verify: grant_token refuses it as too_large. */
	s = repeat('A', JWT_MAX_BYTES, HDR "." PAY ".");
	shape(s, false, true, "a JWS over JWT_MAX_BYTES");
	free(s);
	return tap_done();
}
