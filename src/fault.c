/*
 * fault.c - the production fault points: nothing happens.
 */
#include "config.h"

#include "fault.h"

void
fault_point(const char *where)
{
	(void)where;
}
