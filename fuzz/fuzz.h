/*
 * fuzz.h - shared bits of the libFuzzer harnesses (fuzz/run.sh runs
 * them; tests/README.md, "fuzzing", lists what each covers).
 */
#ifndef OA2_FUZZ_H
#define OA2_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A status code for a response, chosen by one input byte. */
static inline long
fuzz_status(uint8_t b)
{
	static const long codes[] = { 200, 400, 401, 403, 429, 500, 503,
	    302, 204, 404 };

	return codes[b % (sizeof(codes) / sizeof(codes[0]))];
}

#endif
