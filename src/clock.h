/*
 * clock.h - the module's only source of time.  Tests link a fake clock in
 * its place (no #ifdef in production code).
 */
#ifndef OA2_CLOCK_H
#define OA2_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on a monotonic clock (for deadlines). */
int64_t clock_mono_ms(void);

/* Wall-clock seconds since the epoch (for token exp/iat/nbf). */
time_t clock_wall(void);

/* Sleep for ms milliseconds (restarts after signals until done). */
void clock_sleep_ms(int64_t ms);

#endif
