/*
 * dist.h - the one door to MPI (docs/distributed.md): rank, size, in-place sum allreduce of
 * doubles and floats, a reduce-scatter and an allgather of float segments, max and or
 * reductions, a gather onto one rank, broadcast, barrier, and abort with a message. Two
 * implementations of this header: dist_mpi.c (built with -DHC_MPI=ON) and dist_none.c (the default
 * build: one rank, every reduce leaves the buffer as it is), so the rest of the library calls
 * dist_* and never tests for MPI itself.
 *
 * Every call is collective (all ranks make it, in the same order) except dist_rank,
 * dist_size, dist_abort and the byte counter, and is made from the main thread outside
 * OpenMP regions (MPI_THREAD_FUNNELED). Cost: an allreduce of n values moves about
 * 2 (size-1)/size x n x sizeof(value) bytes per rank (ring); nothing without MPI.
 */
#ifndef HC_DIST_H
#define HC_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Starts MPI when built with it (idempotent; the other calls start it on first use too).
 * argc / argv may be NULL. */
void dist_init(int *argc, char ***argv);
/* Ends MPI if dist_init (or a first use) started it; later calls see one rank. */
void dist_finalize(void);
/* Whether this build has MPI (1) or not (0). */
int dist_has_mpi(void);
int dist_rank(void);
int dist_size(void);
/* Whether this rank owns user (or row) i: rows are dealt round-robin, i % size == rank. */
static inline int dist_owns(int64_t i, int rank, int size)
{
    return i % size == rank;
}
/* How many of rows 0..n-1 this rank owns: rows rank, rank + size, ... (row j of a rank's
 * compact share is row rank + j * size). */
static inline int64_t dist_n_owned(int64_t n, int rank, int size)
{
    return n > rank ? (n - rank - 1) / size + 1 : 0;
}
/* buf[0..n) <- the sum over ranks of every rank's buf[0..n) (the same on every rank). The
 * sum is taken in rank order on rank 0 and broadcast, so every rank gets the same bits and a
 * value held by one rank with zeros elsewhere comes back exactly. */
void dist_sum_doubles(double *buf, size_t n);
void dist_sum_floats(float *buf, size_t n);
/* A sum of segments: buf holds one segment for each rank, counts[r] floats for rank r, in
 * rank order, and mine[0..counts[rank]) <- the sum over ranks of their segment for this rank
 * (a reduce-scatter, summed in rank order as dist_sum_floats sums). counts[r] fit an int. */
void dist_sum_scatter_floats(const float *buf, float *mine, const int *counts);
/* buf's segments (as above) <- each from the rank it belongs to, on every rank (an allgather
 * in place: every rank's own segment is read where it lies in buf). */
void dist_allgather_floats(float *buf, const int *counts);
/* buf[0..n) <- the maximum over ranks, on every rank. */
void dist_max_ints(int32_t *buf, size_t n);
/* buf[0..n) <- the bitwise or over ranks, on every rank (a union of sets held as bitmaps). */
void dist_or_words(uint64_t *buf, size_t n);
/* Concatenates every rank's mine[0..n) (n may differ between ranks) in rank order into all on
 * root, which sizes all for the total; all is not touched (may be NULL) elsewhere. Only root
 * holds the whole: the one-writer outputs of sharded work (docs/distributed.md). */
void dist_gather_ints(const int32_t *mine, size_t n, int32_t *all, int root);
/* Copies root's bytes[0..n) to every rank. */
void dist_bcast(void *bytes, size_t n, int root);
void dist_barrier(void);
/* 0 when rc is 0 on every rank, else the first non-zero rc in rank order: a collective
 * agreement on failure, so every rank takes the same branch after a step that may fail on
 * one of them. */
int dist_agree(int rc);
/* Prints "hetcomp: rank R of S: <message>" to stderr and ends every rank with status 1
 * (MPI_Abort), or the process (exit) without MPI. */
_Noreturn void dist_abort(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Payload bytes this rank has handed to reductions and broadcasts since the start (the sum
 * of n x sizeof(value) over calls; docs/distributed.md converts it to bytes on the wire). */
uint64_t dist_bytes_reduced(void);

/* Whether flag is non-zero on every rank (one word or-reduced: "some rank's is zero"), so
 * every rank takes the same branch on a test of its own users. */
static inline int dist_all(int flag)
{
    uint64_t none = !flag;
    dist_or_words(&none, 1);
    return !none;
}

/* rows (n x width) <- every row from its owner (dist_owns), on every rank: the other rows
 * are zeroed and the tables summed, exact since each entry has one non-zero term. */
static inline void dist_gather_rows(float *rows, int64_t n, size_t width)
{
    const int rank = dist_rank(), size = dist_size();
    if (size == 1)
        return;
    for (int64_t i = 0; i < n; i++)
        if (!dist_owns(i, rank, size))
            for (size_t j = 0; j < width; j++)
                rows[(size_t)i * width + j] = 0.0f;
    dist_sum_floats(rows, (size_t)n * width);
}

#endif
