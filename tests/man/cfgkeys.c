/*
 * cfgkeys - print the keys the configuration parser accepts (cfg_keys[]),
 * one a line, for tests/man/man.sh.  Test code only.
 */
#include "config.h"

#include <stdio.h>

#include "cfg.h"

int
main(void)
{
	for (int i = 0; cfg_keys[i] != NULL; i++)
		puts(cfg_keys[i]);
	return 0;
}
