/*
 * dist_none.c - dist.h without MPI (the default build): one rank, reductions and broadcasts
 * leave the buffer unchanged, so a caller's distributed code path is the serial one bit for
 * bit. Cost: nothing (the byte counter still counts, for the same logs).
 */
#include "dist/dist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t bytes_reduced;

void dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
}

void dist_finalize(void) {}

int dist_has_mpi(void)
{
    return 0;
}

int dist_rank(void)
{
    return 0;
}

int dist_size(void)
{
    return 1;
}

void dist_sum_doubles(double *buf, size_t n)
{
    (void)buf;
    bytes_reduced += n * sizeof *buf;
}

void dist_sum_floats(float *buf, size_t n)
{
    (void)buf;
    bytes_reduced += n * sizeof *buf;
}

void dist_max_ints(int32_t *buf, size_t n)
{
    (void)buf;
    bytes_reduced += n * sizeof *buf;
}

void dist_sum_scatter_floats(const float *buf, float *mine, const int *counts)
{
    if (mine != buf && counts[0])
        memcpy(mine, buf, (size_t)counts[0] * sizeof *mine);
    bytes_reduced += (size_t)counts[0] * sizeof *buf;
}

void dist_allgather_floats(float *buf, const int *counts)
{
    (void)buf;
    bytes_reduced += (size_t)counts[0] * sizeof *buf;
}

void dist_or_words(uint64_t *buf, size_t n)
{
    (void)buf;
    bytes_reduced += n * sizeof *buf;
}

void dist_gather_ints(const int32_t *mine, size_t n, int32_t *all, int root)
{
    (void)root;
    if (n && all != mine)
        memcpy(all, mine, n * sizeof *all);
    bytes_reduced += n * sizeof *mine;
}

void dist_bcast(void *bytes, size_t n, int root)
{
    (void)bytes;
    (void)root;
    bytes_reduced += n;
}

void dist_barrier(void) {}

int dist_agree(int rc)
{
    return rc;
}

void dist_abort(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hetcomp: rank 0 of 1: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

uint64_t dist_bytes_reduced(void)
{
    return bytes_reduced;
}
