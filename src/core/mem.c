/* mem.c: large arrays probed at random (drift's columns, the experiment aggregator's unit
 * table). From 2 MiB on they are aligned to a transparent huge page and advised to use one: a
 * random probe into hundreds of megabytes otherwise misses the TLB as well as the cache. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "sluice/core.h"

#define HUGE ((size_t)2 << 20)

void *sl_huge_alloc(size_t bytes)
{
	void *p = NULL;
	if (bytes == 0 || bytes > SIZE_MAX - HUGE)
		return NULL;
	if (bytes < HUGE)
		return posix_memalign(&p, 64, bytes) ? NULL : p;
	bytes = (bytes + HUGE - 1) & ~(HUGE - 1);
	if (posix_memalign(&p, HUGE, bytes))
		return NULL;
	madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without THP it changes nothing */
	return p;
}
