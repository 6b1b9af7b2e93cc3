/*
 * fault.h - named points where a test build may stop the process (a kill
 * at the worst moment).  The module links src/fault.c, which does
 * nothing; the test-only module links tests/lib/fault.c in its place (no
 * #ifdef in production code, as with clock.h).
 */
#ifndef OA2_FAULT_H
#define OA2_FAULT_H

/* Reached at the point named where (a static string). */
void fault_point(const char *where);

#endif
