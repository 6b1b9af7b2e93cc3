/*
 * test_b64.c - Base64 and strict Base64url codecs (RFC 4648, RFC 7515 §2).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "errors.h"
#include "tap.h"

/* Decode s and compare with want (wantlen bytes). */
static void
check_decode(const char *s, const char *want, size_t wantlen)
{
	unsigned char *out = NULL;
	size_t outlen = 99;
	int rc = b64url_decode(s, strlen(s), &out, &outlen);

	is_int(rc, 0, "decode \"%s\"", s);
	is_int(outlen, wantlen, "decode \"%s\" length", s);
	ok(out != NULL && memcmp(out, want, wantlen) == 0 &&
	    out[outlen] == '\0', "decode \"%s\" bytes, NUL-terminated", s);
	free(out);
}

/* s must be refused, with the outputs cleared. */
static void
check_refused(const char *s, size_t len, const char *what)
{
	unsigned char *out = (unsigned char *)"x";
	size_t outlen = 99;
	int rc = b64url_decode(s, len, &out, &outlen);

	is_int(rc, OA2_ERR_BAD_RESPONSE, "refuse %s", what);
	ok(out == NULL && outlen == 0, "refuse %s clears outputs", what);
}

static void
test_encode_vectors(void)
{
	/* RFC 4648 §10 test vectors. */
	static const char *const in[] = {
		"", "f", "fo", "foo", "foob", "fooba", "foobar",
	};
	static const char *const std[] = {
		"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
		"Zm9vYmFy",
	};
	static const char *const url[] = {
		"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy",
	};
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *s = NULL;

		is_int(b64_encode((const unsigned char *)in[i], strlen(in[i]),
		    &s), 0, "b64_encode \"%s\"", in[i]);
		is_str(s, std[i], "b64_encode \"%s\" (RFC 4648 §10)", in[i]);
		free(s);
		s = NULL;
		is_int(b64url_encode((const unsigned char *)in[i],
		    strlen(in[i]), &s), 0, "b64url_encode \"%s\"", in[i]);
		is_str(s, url[i], "b64url_encode \"%s\"", in[i]);
		free(s);
		check_decode(url[i], in[i], strlen(in[i]));
	}
}

static void
test_alphabets(void)
{
	/* 0xfb 0xff 0xbf: '+', '/' in the standard alphabet. */
	static const unsigned char bytes[] = { 0xfb, 0xff, 0xbf };
	char *s = NULL;

	is_int(b64_encode(bytes, sizeof(bytes), &s), 0, "encode fbffbf");
	is_str(s, "+/+/", "standard alphabet uses + and /");
	free(s);
	s = NULL;
	is_int(b64url_encode(bytes, sizeof(bytes), &s), 0,
	    "url encode fbffbf");
	is_str(s, "-_-_", "url alphabet uses - and _");
	free(s);
	check_decode("-_-_", (const char *)bytes, sizeof(bytes));
}

static void
test_round_trips(void)
{
	unsigned char buf[300];
	size_t len, i;
	int good = 1;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (len = 0; len <= sizeof(buf); len++) {
		unsigned char *back = NULL;
		size_t backlen = 0;
		char *s = NULL;

		if (b64url_encode(buf, len, &s) != 0 ||
		    b64url_decode(s, strlen(s), &back, &backlen) != 0 ||
		    backlen != len || memcmp(back, buf, len) != 0)
			good = 0;
		free(s);
		free(back);
	}
	ok(good, "url round trip of every length 0..300");
}

static void
test_strict(void)
{
	check_refused("Zg==", 4, "padding");
	check_refused("Zm8=", 4, "single pad");
	check_refused("Zg=", 3, "partial padding");
	check_refused("+/+/", 4, "standard alphabet '+'");
	check_refused("ab/c", 4, "standard alphabet '/'");
	check_refused("Zm9 v", 5, "space");
	check_refused("Zm9v\n", 5, "newline");
	check_refused("Zm9v\tYg", 7, "tab");
	check_refused("Z", 1, "length 1");
	check_refused("Zm9vY", 5, "length % 4 == 1");
	check_refused("Zh", 2, "nonzero trailing bits (2 chars)");
	check_refused("Zm9", 3, "nonzero trailing bits (3 chars)");
	check_refused("Zm\0v", 4, "embedded NUL");
	check_refused("Zm9v\xc3\xa9", 6, "non-ASCII");
	check_refused(NULL, 0, "NULL input");
}

int
main(void)
{
	test_encode_vectors();
	test_alphabets();
	test_round_trips();
	test_strict();
	return tap_done();
}
