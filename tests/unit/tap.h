/*
 * tap.h - minimal TAP producer for the unit tests (automake tap-driver).
 * Every check prints what it expected and what it saw when it fails.
 */
#ifndef OA2_TAP_H
#define OA2_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {                                              \
	int ok_c_ = !!(cond);                                           \
	printf("%sok %d - ", ok_c_ ? "" : "not ", ++tap_n);             \
	printf(__VA_ARGS__);                                            \
	printf("\n");                                                   \
	if (!ok_c_) {                                                   \
		tap_failed++;                                           \
		printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, \
		    #cond);                                             \
	}                                                               \
} while (0)

#define is_int(seen, want, ...) do {                                    \
	long is_s_ = (long)(seen), is_w_ = (long)(want);                \
	ok(is_s_ == is_w_, __VA_ARGS__);                                \
	if (is_s_ != is_w_)                                             \
		printf("#   expected %ld, seen %ld\n", is_w_, is_s_);   \
} while (0)

#define is_str(seen, want, ...) do {                                    \
	const char *is_s_ = (seen), *is_w_ = (want);                    \
	int is_eq_ = (is_s_ == NULL && is_w_ == NULL) ||                \
	    (is_s_ != NULL && is_w_ != NULL && strcmp(is_s_, is_w_) == 0); \
	ok(is_eq_, __VA_ARGS__);                                        \
	if (!is_eq_)                                                    \
		printf("#   expected \"%s\", seen \"%s\"\n",            \
		    is_w_ ? is_w_ : "(null)", is_s_ ? is_s_ : "(null)");  \
} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
