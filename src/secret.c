/*
 * secret.c - wipe-and-free helpers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "secret.h"

void
secret_wipe(void *p, size_t n)
{
	if (p == NULL || n == 0)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	{
		/* A volatile function pointer keeps the compiler from
		 * removing a memset of memory that is about to die. */
		static void *(*const volatile memset_v)(void *, int, size_t) =
		    memset;
		memset_v(p, 0, n);
	}
#endif
}

void
secret_free(char **s)
{
	if (s == NULL || *s == NULL)
		return;
	secret_wipe(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

void
secret_freen(void **p, size_t n)
{
	if (p == NULL || *p == NULL)
		return;
	secret_wipe(*p, n);
	free(*p);
	*p = NULL;
}

char *
secret_strdup(const char *s)
{
	size_t n;
	char *d;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	d = malloc(n + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, n + 1);
	return d;
}
