/*
 * test_form - percent-encoding of form bodies.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "form.h"
#include "tap.h"

int
main(void)
{
	struct form f = { 0 };
	char big[FORM_MAX + 10];

	form_add(&f, "grant_type", "password");
	form_add(&f, "username", "alice");
	is_str(f.buf, "grant_type=password&username=alice", "plain pairs");
	form_clear(&f);
	ok(f.buf == NULL && f.len == 0, "form_clear resets");

	form_add(&f, "password", "a&b=c+d%e f");
	is_str(f.buf, "password=a%26b%3Dc%2Bd%25e%20f",
	    "& = + %% and space are encoded");
	form_clear(&f);

	form_add(&f, "password", "\xc3\xbc\xe2\x82\xac");
	is_str(f.buf, "password=%C3%BC%E2%82%AC", "UTF-8 bytes encoded");
	form_clear(&f);

	form_add(&f, "k", "-._~AZaz09");
	is_str(f.buf, "k=-._~AZaz09", "unreserved characters kept");
	form_clear(&f);

	form_add(&f, "k", "\x01\n\r\x7f\xff/?#[]@!$'()*,;:");
	is_str(f.buf, "k=%01%0A%0D%7F%FF%2F%3F%23%5B%5D%40%21%24%27%28%29"
	    "%2A%2C%3B%3A", "controls, high bytes and reserved encoded");
	form_clear(&f);

	form_add(&f, "a b", "");
	is_str(f.buf, "a%20b=", "keys encoded, empty value");
	form_clear(&f);

	/* Every byte 0x01..0xff round-trips to exactly one %XX or itself. */
	{
		char all[256];
		size_t want = 0;

		for (int i = 1; i < 256; i++) {
			all[i - 1] = (char)i;
			want += strchr("-._~", i) != NULL || (i >= '0' &&
			    i <= '9') || (i >= 'A' && i <= 'Z') ||
			    (i >= 'a' && i <= 'z') ? 1 : 3;
		}
		all[255] = '\0';
		form_encode(&f, all, 255);
		is_int(f.len, want, "every byte encoded once");
		form_clear(&f);
	}

	/* Bounded. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(form_add(&f, "k", big), OA2_ERR_CONFIG,
	    "a body over FORM_MAX is refused");
	is_int(form_add(&f, "k", "v"), OA2_ERR_CONFIG, "the error sticks");
	form_clear(&f);
	is_int(form_add(&f, "k", "v"), 0, "cleared form is usable again");
	form_clear(&f);
	return tap_done();
}
