/*
 * freescan.so - LD_PRELOAD free()/realloc() interposer for tests/pam/wipe.sh.
 * Test code only.
 *
 * Every block handed to free(), and every block realloc() moves (glibc
 * frees the old one internally, where no interposer sees it), is scanned
 * over its whole malloc_usable_size() for the canaries listed in
 * OA2_FREESCAN_CANARIES ("name=value" entries, one a line).  Each hit is
 * appended to the file named by OA2_FREESCAN_OUT as one line
 *     <name> <free|realloc> <library that called free> <nearest symbol>
 * (dladdr of the return address), never the value itself.  The file also
 * gets a "scanned <n>" line at exit (see the destructor) so a test can tell the
 * interposer ran at all; OA2_FREESCAN_SELFTEST makes it free two blocks
 * holding the first canary when loaded (a control).  Both variables are read once, when loaded; no
 * allocation happens on the free path (static buffers, open/write).
 *
 * OA2_FREESCAN_DUMP names a file that gets the bytes of every block freed
 * (over its malloc_usable_size(), and the old block of a moving realloc),
 * one after the other: for a secret made during the run, which no canary
 * can name in advance (a signature the test learns from the mock IdP
 * afterwards).  It holds whatever the process freed: test data only, in
 * the test's own directory.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The next free/realloc (glibc's, or ASan's in a sanitizer build). */
static void (*next_free)(void *);
static void *(*next_realloc)(void *, size_t);
static int resolving;

/* Look the next definitions up once; a free() that arrives while dlsym
 * runs (it may allocate) is dropped rather than recursing. */
static int
resolve(void)
{
	if (next_free != NULL && next_realloc != NULL)
		return 0;
	if (resolving)
		return -1;
	resolving = 1;
	next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	resolving = 0;
	return next_free != NULL && next_realloc != NULL ? 0 : -1;
}

#define MAX_CANARIES 32
#define MAX_NAME 48
#define MAX_VALUE 4096

struct canary {
	char name[MAX_NAME];
	char value[MAX_VALUE];
	size_t len;
};

static struct canary canaries[MAX_CANARIES];
static int ncanaries;
static char out_path[4096];
static int dump_fd = -1;
static unsigned long scanned;
static __thread int busy;

__attribute__((constructor)) static void
freescan_init(void)
{
	const char *spec = getenv("OA2_FREESCAN_CANARIES");
	const char *out = getenv("OA2_FREESCAN_OUT");
	const char *dump = getenv("OA2_FREESCAN_DUMP");
	const char *p, *eq, *nl;

	(void)resolve();
	if (out != NULL)
		snprintf(out_path, sizeof(out_path), "%s", out);
	if (dump != NULL && dump[0] != '\0')
		dump_fd = open(dump, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
	for (p = spec; p != NULL && *p != '\0' && ncanaries < MAX_CANARIES;
	    p = nl != NULL ? nl + 1 : NULL) {
		struct canary *c = &canaries[ncanaries];
		size_t nlen, vlen;

		nl = strchr(p, '\n');
		eq = strchr(p, '=');
		if (eq == NULL || (nl != NULL && eq > nl))
			continue;
		nlen = (size_t)(eq - p);
		vlen = (nl != NULL ? (size_t)(nl - eq - 1) : strlen(eq + 1));
		if (nlen == 0 || nlen >= MAX_NAME || vlen == 0 ||
		    vlen >= MAX_VALUE)
			continue;
		memcpy(c->name, p, nlen);
		memcpy(c->value, eq + 1, vlen);
		c->len = vlen;
		ncanaries++;
	}
	/* OA2_FREESCAN_SELFTEST: free one block and let realloc move another,
	 * each holding the first canary, to show the scan works. */
	if (getenv("OA2_FREESCAN_SELFTEST") != NULL && ncanaries > 0) {
		char *a = malloc(canaries[0].len + 64);
		char *b = malloc(canaries[0].len + 64);
		char *fence = malloc(16);

		if (a != NULL && b != NULL && fence != NULL) {
			memcpy(a + 8, canaries[0].value, canaries[0].len);
			memcpy(b + 8, canaries[0].value, canaries[0].len);
			free(a);
			/* 1 MiB is above the mmap threshold: b must move. */
			b = realloc(b, 1 << 20);
			memset(b, 0, canaries[0].len + 64);
		}
		free(b);
		free(fence);
	}
}

static void
emit(const char *line, size_t n)
{
	int fd;

	if (out_path[0] == '\0')
		return;
	fd = open(out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	(void)!write(fd, line, n);
	close(fd);
}

/* The block's bytes to OA2_FREESCAN_DUMP, when set. */
static void
dump_block(const void *p, size_t n)
{
	const char *b = p;

	while (dump_fd >= 0 && n > 0) {
		ssize_t w = write(dump_fd, b, n);

		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

/* Bit i set: canary i is somewhere in the block at p. */
static unsigned long
find(void *p)
{
	size_t n = malloc_usable_size(p);
	unsigned long found = 0;

	scanned++;
	for (int i = 0; i < ncanaries; i++) {
		if (memmem(p, n, canaries[i].value, canaries[i].len) != NULL)
			found |= 1UL << i;
	}
	return found;
}

/* One line per canary found, naming the library that called us. */
static void
report(unsigned long found, const char *how, void *caller)
{
	Dl_info di;
	char line[512];
	int len;

	if (found == 0)
		return;
	memset(&di, 0, sizeof(di));
	if (dladdr(caller, &di) == 0)
		di.dli_fname = NULL;
	for (int i = 0; i < ncanaries; i++) {
		if ((found & (1UL << i)) == 0)
			continue;
		len = snprintf(line, sizeof(line), "%s %s %s %s\n",
		    canaries[i].name, how,
		    di.dli_fname != NULL ? di.dli_fname : "?",
		    di.dli_sname != NULL ? di.dli_sname : "?");
		if (len > 0)
			emit(line, (size_t)len < sizeof(line) ? (size_t)len :
			    sizeof(line) - 1);
	}
}

void
free(void *p)
{
	if (resolve() != 0)
		return;
	if (p != NULL && !busy && (ncanaries > 0 || dump_fd >= 0)) {
		busy = 1;
		report(find(p), "free", __builtin_return_address(0));
		dump_block(p, malloc_usable_size(p));
		busy = 0;
	}
	next_free(p);
}

/*
 * The old block is scanned before glibc sees it, and its hits reported
 * only if realloc moved it (glibc then freed it, unwiped, inside
 * realloc) or freed it (n == 0); a block resized in place was not freed.
 */
void *
realloc(void *p, size_t n)
{
	void *caller = __builtin_return_address(0);
	unsigned long found = 0;
	void *q;

	if (resolve() != 0)
		return NULL;
	if (p == NULL || busy || (ncanaries == 0 && dump_fd < 0))
		return next_realloc(p, n);
	busy = 1;
	found = find(p);
	/* The old block's bytes, in case realloc moves it (dumped even if
	 * it does not: more than freed, never less). */
	dump_block(p, malloc_usable_size(p));
	q = next_realloc(p, n);
	if (n == 0 || (q != NULL && q != p))
		report(found, "realloc", caller);
	busy = 0;
	return q;
}

__attribute__((destructor)) static void
freescan_fini(void)
{
	char line[64];
	int len;

	len = snprintf(line, sizeof(line), "scanned %lu\n", scanned);
	if (len > 0 && ncanaries > 0)
		emit(line, (size_t)len);
}
