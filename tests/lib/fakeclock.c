/*
 * fakeclock.c - a clock for tests, linked in place of src/clock.c into a
 * test-only build of the module (pam_oauth2_fakeclock.so).  Sleeping
 * advances virtual time at once and appends "sleep MS" to the file named
 * by OA2_FAKECLOCK_LOG, so polling intervals are measured, not waited.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

static int64_t base_ms = -1;
static int64_t offset_ms;

/* Virtual monotonic time: it stands still but for clock_sleep_ms, so
 * deadlines come out exact whatever the machine's load. */
int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	if (base_ms < 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		base_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	return base_ms + offset_ms;
}

/* Wall time, virtual sleeps included; OA2_FAKECLOCK_WALL_OFFSET (whole
 * seconds, may be negative) moves it, e.g. past provision_max_age. */
time_t
clock_wall(void)
{
	const char *off = getenv("OA2_FAKECLOCK_WALL_OFFSET");

	return time(NULL) + (time_t)(offset_ms / 1000) +
	    (time_t)(off != NULL ? strtoll(off, NULL, 10) : 0);
}

void
clock_sleep_ms(int64_t ms)
{
	const char *path = getenv("OA2_FAKECLOCK_LOG");
	FILE *f;

	if (ms <= 0)
		return;
	offset_ms += ms;
	if (path == NULL)
		return;
	f = fopen(path, "a");
	if (f == NULL)
		return;
	fprintf(f, "sleep %lld\n", (long long)ms);
	fclose(f);
}
