/*
 * internal.h - what every module of the library (and the CLI, tests and benchmarks built with
 * it) shares beyond the public API of include/hetcomp.h: setting errors and emitting log lines,
 * the RNG, large-array allocation, atomic output files, checksums and sorted-array search.
 * None of it is installed: programs using the library see include/hetcomp.h alone.
 */
#ifndef HC_INTERNAL_H
#define HC_INTERNAL_H

#include "hetcomp.h"

/* Hot kernels compiled twice, for x86-64-v3 (AVX2) and for the baseline, and picked at load
 * time by the CPU (ifunc). No FMA contraction happens in ISO C mode, so both clones give the
 * same bits. Off under ASan, whose instrumented ifunc resolvers run too early. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
#define HC_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HC_CLONES
#endif

/* ======================================================================== Errors and logs */

/* Sets this thread's error message (printf-style) and returns code, for `return hc_error(...)`. */
int hc_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Emits one log line (printf-style) through the sink of hc_log_set when level is high enough. */
void hc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ======================================================================== Clock */

/* Seconds on the monotonic clock (an arbitrary origin: for differences only). */
double hc_now_s(void);

/* ======================================================================== RNG */

/* xoshiro256** seeded through splitmix64: hc_rng_init(r, seed, stream) gives independent,
 * reproducible streams (one per thread block or per user block). */
typedef struct {
    uint64_t s[4];
} hc_rng;
void hc_rng_init(hc_rng *r, uint64_t seed, uint64_t stream);
uint64_t hc_rng_next(hc_rng *r);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint32_t hc_rng_below(hc_rng *r, uint32_t n);
/* Uniform float in [0, 1). */
float hc_rng_float(hc_rng *r);
/* Uniform double in [0, 1). */
double hc_rng_double(hc_rng *r);
/* Standard normal (Box-Muller). */
double hc_rng_normal(hc_rng *r);
/* Fisher-Yates shuffle of n int32 values. */
void hc_rng_shuffle_i32(hc_rng *r, int32_t *a, int64_t n);

/* ======================================================================== Memory */

/* n zeroed floats for a large array (parameters, optimiser moments, activations): from 2 MiB
 * on, 2 MiB-aligned and advised to the kernel as transparent huge pages (one TLB entry and
 * one page fault per 2 MiB instead of per 4 KiB; streaming over tens of MiB per step is then
 * faster), below that plain calloc. NULL on failure or n < 0; release with free(). */
float *hc_alloc_floats(int64_t n);

/* ======================================================================== Files */

/* Atomic output: writes go to "<path>.tmp.<pid>" and hc_afile_commit() renames it over path
 * after checking every write, fflush and fclose. hc_afile_abort() removes the temp file.
 * Missing parent directories are created (hc_make_dirs); a path that exists and is not a
 * regular file (a directory, device, FIFO or socket) is refused, at open and at commit.
 * Under MPI only rank 0 writes (docs/distributed.md): on the other ranks fp goes to
 * /dev/null, and commit writes nothing. */
typedef struct {
    FILE *fp;       /* write through this */
    char *path;     /* final path (owned) */
    char *tmp_path; /* temporary path (owned); NULL on ranks other than 0 (see below) */
} hc_afile;
int hc_afile_open(hc_afile *af, const char *path);
int hc_afile_commit(hc_afile *af);
void hc_afile_abort(hc_afile *af);
/* Creates dir and its missing parents, like `mkdir -p`; HC_EIO naming the path that could
 * not be created, or when dir exists and is not a directory. */
int hc_make_dirs(const char *dir);

/* Opens path for reading when it is a regular file (else HC_EIO naming it); *size receives
 * its size. */
int hc_file_open_read(const char *path, FILE **fp, size_t *size);
/* Reads a whole file into a malloc'd buffer (NUL-terminated; *len excludes the NUL). */
int hc_file_read_all(const char *path, char **data, size_t *len);
/* 64-bit content checksum (XXH3). */
uint64_t hc_checksum(const void *data, size_t len);

/* Index of the first entry >= x in the ascending a[0..n) (n when there is none). */
static inline int64_t hc_lower_bound_i32(const int32_t *a, int64_t n, int32_t x)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
/* Sorts v[0..n) ascending in place (insertion sort for short arrays, qsort beyond 32). */
void hc_sort_i32(int32_t *v, int64_t n);
/* 1 when x occurs in the ascending a[0..n). */
static inline int hc_sorted_has_i32(const int32_t *a, int64_t n, int32_t x)
{
    const int64_t k = hc_lower_bound_i32(a, n, x);
    return k < n && a[k] == x;
}
#endif
