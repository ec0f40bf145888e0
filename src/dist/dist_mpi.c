/*
 * dist_mpi.c - dist.h over MPI (built with -DHC_MPI=ON; docs/distributed.md). MPI starts on
 * the first call (or dist_init) at MPI_THREAD_FUNNELED: only the main thread, outside OpenMP
 * regions, talks to MPI. Buffers over INT_MAX elements go in INT_MAX-sized pieces (MPI
 * counts are int). Cost: one collective per call.
 *
 * Sums use a user-defined op declared non-commutative, which MPI applies in ascending rank
 * order, reduced onto rank 0 and broadcast from there (a reduce plus a broadcast moves what a
 * ring allreduce moves): every rank gets the same bits whatever the implementation's
 * algorithm, and a value held by one rank with zeros elsewhere comes back exactly
 * (x + 0 = x), which the exact distributed evaluation relies on. The bracketing of 3+ ranks
 * is the implementation's, so a sum of several non-zero contributions may differ in the last
 * bit between rank counts (not between runs).
 */
#include "dist/dist.h"

#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int started;  /* this module called MPI_Init_thread */
static int finished; /* dist_finalize ran */
static MPI_Op op_sum_d, op_sum_f;
static uint64_t bytes_reduced;

/* inout[i] <- in[i] + inout[i] where in holds the lower ranks' partial sum: MPI calls a
 * non-commutative op as (lower) op (higher) with the result in the second buffer. */
static void sum_d(void *in, void *inout, int *len, MPI_Datatype *t)
{
    (void)t;
    const double *a = in;
    double *b = inout;
    for (int i = 0; i < *len; i++)
        b[i] = a[i] + b[i];
}

static void sum_f(void *in, void *inout, int *len, MPI_Datatype *t)
{
    (void)t;
    const float *a = in;
    float *b = inout;
    for (int i = 0; i < *len; i++)
        b[i] = a[i] + b[i];
}

/* The collectives allocate temporary buffers of a message's size at every call; glibc would
 * serve those over 128 KB from fresh mmap pages (and hand them back at free), whose page
 * faults cost more than the reduction itself (docs/distributed.md). Kept on the heap, they
 * are reused. Large arrays (over 256 MB) are still mapped. */
static void keep_buffers(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

void dist_init(int *argc, char ***argv)
{
    int flag = 0;
    MPI_Initialized(&flag);
    if (!flag && !finished) {
        keep_buffers();
        int provided;
        MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
        started = 1;
    }
    if (!op_sum_d && !finished) {
        MPI_Op_create(sum_d, 0, &op_sum_d);
        MPI_Op_create(sum_f, 0, &op_sum_f);
    }
}

void dist_finalize(void)
{
    if (finished || !op_sum_d)
        return;
    MPI_Op_free(&op_sum_d);
    MPI_Op_free(&op_sum_f);
    op_sum_d = op_sum_f = 0;
    finished = 1;
    if (started)
        MPI_Finalize();
}

/* Whether MPI is usable now (started and not yet finalised). */
static int live(void)
{
    if (finished)
        return 0;
    dist_init(NULL, NULL);
    return 1;
}

int dist_has_mpi(void)
{
    return 1;
}

int dist_rank(void)
{
    int r = 0;
    if (live())
        MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int dist_size(void)
{
    int s = 1;
    if (live())
        MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}

/* In-place allreduce of n values of type t (elem bytes each) with op, in INT_MAX pieces;
 * with via_root, a reduce onto rank 0 and a broadcast, so every rank holds rank 0's bits. */
static void allreduce(void *buf, size_t n, size_t elem, MPI_Datatype t, MPI_Op op, int via_root)
{
    bytes_reduced += n * elem;
    if (!live() || dist_size() == 1)
        return;
    char *p = buf;
    int root = dist_rank() == 0;
    for (size_t done = 0; done < n;) {
        size_t m = n - done < (size_t)INT_MAX ? n - done : (size_t)INT_MAX;
        void *at = p + done * elem;
        if (!via_root) {
            MPI_Allreduce(MPI_IN_PLACE, at, (int)m, t, op, MPI_COMM_WORLD);
        } else {
            MPI_Reduce(root ? MPI_IN_PLACE : at, at, (int)m, t, op, 0, MPI_COMM_WORLD);
            MPI_Bcast(at, (int)m, t, 0, MPI_COMM_WORLD);
        }
        done += m;
    }
}

void dist_sum_doubles(double *buf, size_t n)
{
    allreduce(buf, n, sizeof *buf, MPI_DOUBLE, op_sum_d, 1);
}

void dist_sum_floats(float *buf, size_t n)
{
    allreduce(buf, n, sizeof *buf, MPI_FLOAT, op_sum_f, 1);
}

void dist_sum_scatter_floats(const float *buf, float *mine, const int *counts)
{
    const int size = dist_size();
    for (int r = 0; r < size; r++)
        bytes_reduced += (size_t)counts[r] * sizeof *buf;
    if (size == 1) {
        if (mine != buf && counts[0])
            memcpy(mine, buf, (size_t)counts[0] * sizeof *mine);
    } else {
        MPI_Reduce_scatter(buf, mine, counts, MPI_FLOAT, op_sum_f, MPI_COMM_WORLD);
    }
}

void dist_allgather_floats(float *buf, const int *counts)
{
    const int size = dist_size();
    int *displs = malloc((size_t)size * sizeof *displs);
    if (!displs)
        dist_abort("out of memory for %d displacements", size);
    size_t at = 0; /* each segment's displacement */
    for (int r = 0; r < size; r++) {
        displs[r] = (int)at;
        at += (size_t)counts[r];
    }
    bytes_reduced += at * sizeof *buf;
    if (size > 1)
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, MPI_FLOAT,
                       MPI_COMM_WORLD);
    free(displs);
}

void dist_max_ints(int32_t *buf, size_t n)
{
    allreduce(buf, n, sizeof *buf, MPI_INT32_T, MPI_MAX, 0);
}

void dist_or_words(uint64_t *buf, size_t n)
{
    allreduce(buf, n, sizeof *buf, MPI_UINT64_T, MPI_BOR, 0);
}

/* Point to point, in INT_MAX pieces: each rank sends its count, then its ints, to root, which
 * receives them in rank order (no displacement array, so no int limit on the total). */
void dist_gather_ints(const int32_t *mine, size_t n, int32_t *all, int root)
{
    bytes_reduced += n * sizeof *mine;
    if (!live() || dist_size() == 1) {
        if (n && all != mine)
            memcpy(all, mine, n * sizeof *all);
        return;
    }
    const int rank = dist_rank(), size = dist_size();
    uint64_t count = n;
    if (rank != root) {
        MPI_Send(&count, 1, MPI_UINT64_T, root, 0, MPI_COMM_WORLD);
        for (size_t done = 0; done < n;) {
            size_t m = n - done < (size_t)INT_MAX ? n - done : (size_t)INT_MAX;
            MPI_Send(mine + done, (int)m, MPI_INT32_T, root, 0, MPI_COMM_WORLD);
            done += m;
        }
        return;
    }
    int32_t *at = all;
    for (int r = 0; r < size; r++) {
        if (r == root) {
            if (n)
                memcpy(at, mine, n * sizeof *at);
            at += n;
            continue;
        }
        MPI_Recv(&count, 1, MPI_UINT64_T, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        for (uint64_t done = 0; done < count;) {
            uint64_t m = count - done < (uint64_t)INT_MAX ? count - done : (uint64_t)INT_MAX;
            MPI_Recv(at + done, (int)m, MPI_INT32_T, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            done += m;
        }
        at += count;
    }
}

void dist_bcast(void *bytes, size_t n, int root)
{
    bytes_reduced += n;
    if (!live() || dist_size() == 1)
        return;
    char *p = bytes;
    for (size_t done = 0; done < n;) {
        size_t m = n - done < (size_t)INT_MAX ? n - done : (size_t)INT_MAX;
        MPI_Bcast(p + done, (int)m, MPI_BYTE, root, MPI_COMM_WORLD);
        done += m;
    }
}

void dist_barrier(void)
{
    if (live() && dist_size() > 1)
        MPI_Barrier(MPI_COMM_WORLD);
}

int dist_agree(int rc)
{
    int size = dist_size();
    if (size == 1)
        return rc;
    int *all = malloc((size_t)size * sizeof *all);
    if (!all)
        dist_abort("out of memory agreeing on a status across %d ranks", size);
    MPI_Allgather(&rc, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
    int first = 0;
    for (int r = 0; r < size && !first; r++)
        first = all[r];
    free(all);
    return first;
}

void dist_abort(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hetcomp: rank %d of %d: ", dist_rank(), dist_size());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    if (live())
        MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

uint64_t dist_bytes_reduced(void)
{
    return bytes_reduced;
}
