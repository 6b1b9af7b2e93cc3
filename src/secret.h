/*
 * secret.h - wipe-and-free helpers for passwords, client secrets, device
 * codes and tokens.  All accept NULL.
 */
#ifndef OA2_SECRET_H
#define OA2_SECRET_H

#include <stddef.h>

/* Overwrite n bytes at p with zeros; never optimised away. */
void secret_wipe(void *p, size_t n);

/* Wipe the NUL-terminated string *s, free it and set *s to NULL. */
void secret_free(char **s);

/* Wipe n bytes at *p, free it and set *p to NULL. */
void secret_freen(void **p, size_t n);

/* strdup() for secrets; NULL on allocation failure. */
char *secret_strdup(const char *s);

#endif
