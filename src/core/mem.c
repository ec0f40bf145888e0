/*
 * mem.c - large zeroed arrays on transparent huge pages (see hetcomp.h, "Memory").
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/internal.h"

#define HUGE_PAGE ((size_t)2 << 20)

float *hc_alloc_floats(int64_t n)
{
    if (n < 0 || (uint64_t)n > SIZE_MAX / sizeof(float))
        return NULL;
    size_t bytes = (size_t)n * sizeof(float);
    if (bytes < HUGE_PAGE)
        return calloc(bytes ? bytes : 1, 1);
    size_t rounded = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, rounded) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice only: 4 KiB pages if refused */
#endif
    memset(p, 0, bytes);
    return p;
}
