/*
 * hetcomp.h - the public API of hetcomp, distillation from heterogeneous recommender models
 * (HetComp, Kang et al., WWW 2023) into one lightweight top-K recommender.
 *
 * Conventions (the file formats, metrics and method they follow are in docs/):
 *  - Functions return an int status: HC_OK (0) or a negative HC_E* code. On failure a
 *    human-readable message naming the file, line and problem is kept per thread and read
 *    with hc_errmsg(). The library never prints and never exits; logging goes through
 *    hc_log_set().
 *  - The caller owns structs it passes in; *_free() functions accept NULL / zeroed structs.
 *  - Users and items are dense 0-based int32 indices; hc_idmap maps them to the user's own
 *    string ids and back.
 */
#ifndef HETCOMP_H
#define HETCOMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HC_VERSION_MAJOR  0
#define HC_VERSION_MINOR  1
#define HC_VERSION_PATCH  0
#define HC_VERSION_STRING "0.1.0"
extern const int hc_version;

/* ======================================================================== Status codes */

/* One list of errors; the enum and hc_strerror()/hc_err_name() are generated from it. */
#define HC_ERRNO_MAP(XX)                                                                           \
    XX(ENOMEM, -1, "out of memory")                                                                \
    XX(EIO, -2, "input/output error")                                                              \
    XX(EPARSE, -3, "malformed input")                                                              \
    XX(EINVAL, -4, "invalid argument")                                                             \
    XX(ECORRUPT, -5, "corrupt or truncated file")                                                  \
    XX(EMISMATCH, -6, "file belongs to another dataset or version")                                \
    XX(ENOTFOUND, -7, "not found")                                                                 \
    XX(EEMPTY, -8, "no data")                                                                      \
    XX(ERANGE, -9, "value out of range")

typedef enum {
    HC_OK = 0,
#define HC__ENUM(name, code, msg) HC_##name = (code),
    HC_ERRNO_MAP(HC__ENUM)
#undef HC__ENUM
} hc_status;

/* Returns a static description of a status code ("success" for HC_OK). */
const char *hc_strerror(int code);
/* Returns the symbolic name of a status code ("HC_EPARSE"). */
const char *hc_err_name(int code);
/* Returns the detailed message of this thread's last error (never NULL, "" if none). */
const char *hc_errmsg(void);
/* Sets this thread's error message (printf-style) and returns code, for `return hc_error(...)`. */
int hc_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears this thread's last error message. */
void hc_error_clear(void);

/* ======================================================================== Logging */

enum { HC_LOG_DEBUG = 0, HC_LOG_INFO = 1, HC_LOG_WARN = 2 };
/* Receives every log line the library emits (without trailing newline). */
typedef void (*hc_log_fn)(int level, const char *msg, void *userdata);
/* Installs the log sink (NULL: discard everything) and the minimum level passed on. */
void hc_log_set(hc_log_fn fn, void *userdata, int min_level);
void hc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
 * regular file (a directory, device, FIFO or socket) is refused, at open and at commit. */
typedef struct {
    FILE *fp;       /* write through this */
    char *path;     /* final path (owned) */
    char *tmp_path; /* temporary path (owned) */
} hc_afile;
int hc_afile_open(hc_afile *af, const char *path);
int hc_afile_commit(hc_afile *af);
void hc_afile_abort(hc_afile *af);
/* Creates dir and its missing parents, like `mkdir -p`; HC_EIO naming the path that could
 * not be created, or when dir exists and is not a directory. */
int hc_make_dirs(const char *dir);

/* Reads a whole file into a malloc'd buffer (NUL-terminated; *len excludes the NUL). */
int hc_file_read_all(const char *path, char **data, size_t *len);
/* 64-bit content checksum (XXH3). */
uint64_t hc_checksum(const void *data, size_t len);

/* ======================================================================== Sparse matrices */

/* Compressed sparse rows of a 0/1 matrix. Column indices are unique and ascending per row. */
typedef struct {
    int32_t nrows, ncols;
    int64_t nnz;
    int64_t *indptr;  /* nrows + 1 offsets (owned) */
    int32_t *indices; /* nnz column indices (owned) */
} hc_csr;

/* Builds a CSR from n (row, col) pairs; duplicates collapse. out is overwritten. */
int hc_csr_from_pairs(hc_csr *out, int32_t nrows, int32_t ncols, const int32_t *rows,
                      const int32_t *cols, int64_t n);
/* Builds the transpose (ncols x nrows). */
int hc_csr_transpose(const hc_csr *a, hc_csr *out);
/* Deep copy. */
int hc_csr_copy(const hc_csr *a, hc_csr *out);
/* 1 if (r, c) is set, by binary search in row r. */
int hc_csr_has(const hc_csr *a, int32_t r, int32_t c);
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
void hc_csr_free(hc_csr *a);
static inline int32_t hc_csr_row_len(const hc_csr *a, int32_t r)
{
    return (int32_t)(a->indptr[r + 1] - a->indptr[r]);
}
static inline const int32_t *hc_csr_row(const hc_csr *a, int32_t r)
{
    return a->indices + a->indptr[r];
}

/* ======================================================================== Id maps */

/* Maps the user's own string ids to dense indices 0..n-1 in order of first insertion. */
typedef struct hc_idmap hc_idmap;
hc_idmap *hc_idmap_new(void); /* NULL on out of memory */
void hc_idmap_free(hc_idmap *m);
int32_t hc_idmap_size(const hc_idmap *m);
/* Index of key (len bytes, need not be NUL-terminated), or -1 when absent. */
int32_t hc_idmap_get(const hc_idmap *m, const char *key, size_t len);
/* Inserts key if absent; *idx receives its index. */
int hc_idmap_put(hc_idmap *m, const char *key, size_t len, int32_t *idx);
/* NUL-terminated id of index idx (0 <= idx < size). */
const char *hc_idmap_name(const hc_idmap *m, int32_t idx);

/* ======================================================================== Interactions */

/* Raw interactions as read from a file: indices into the reader's id maps. */
typedef struct {
    int64_t n, cap;
    int32_t *user; /* n user indices */
    int32_t *item; /* n item indices */
    float *rating; /* n ratings, or NULL when the source has none */
    int64_t *ts;   /* n timestamps, or NULL when the source has none */
    int64_t *line; /* n 1-based source line numbers (for messages), or NULL */
} hc_interactions;
void hc_interactions_free(hc_interactions *x);
/* Allocates the optional arrays that are asked for and missing (existing entries get 0), so
 * that later pushes fill them. */
int hc_interactions_enable(hc_interactions *x, int rating, int ts, int line);
/* Appends one interaction (rating/ts ignored when the arrays are NULL; line is left for the
 * caller to set at x->line[x->n - 1]). */
int hc_interactions_push(hc_interactions *x, int32_t user, int32_t item, float rating, int64_t ts);

typedef enum {
    HC_FMT_AUTO = 0,
    HC_FMT_COUNT, /* "n item item ..." per line; the line index (0-based) is the user id */
    HC_FMT_ADJ,   /* "user item item ..." per line (LightGCN train.txt) */
    HC_FMT_CSV,   /* user,item[,rating[,timestamp]] with ',', '\t', ';' or ' ' separators */
    HC_FMT_ML     /* user::item::rating::timestamp (MovieLens .dat) */
} hc_format;
const char *hc_format_name(hc_format f);
int hc_format_parse(const char *name, hc_format *out);
/* Guesses the format from the first lines of a file. */
int hc_format_detect(const char *path, hc_format *out);

typedef struct {
    hc_format format; /* HC_FMT_AUTO: detect */
    int has_threshold;
    float threshold; /* with has_threshold: keep rows whose rating >= threshold */
    int header;      /* CSV: -1 detect, 0 none, 1 first line is a header */
} hc_read_opts;
void hc_read_opts_default(hc_read_opts *o);

/* Reads interactions from path, adding ids to users/items (shared between calls so that
 * train/valid/test files of one split agree). Appends to *out. Errors name file and line. */
int hc_read_interactions(const char *path, const hc_read_opts *opts, hc_idmap *users,
                         hc_idmap *items, hc_interactions *out);

/* ======================================================================== Datasets */

typedef enum {
    HC_SPLIT_RATIO = 0, /* per-user shuffle: test, then valid, then train (docs/method.md §1) */
    HC_SPLIT_LOO,       /* leave-one-out: one random (or latest) item to test, one to valid */
    HC_SPLIT_TEMPORAL,  /* per user by timestamp: latest to test, previous to valid */
    HC_SPLIT_IMPORTED   /* made elsewhere and read from files */
} hc_split_kind;
const char *hc_split_name(hc_split_kind k);

/* A split dataset: train/valid/test as n_users x n_items CSR matrices over one catalog. */
typedef struct {
    int32_t n_users, n_items;
    hc_csr train, valid, test;
    hc_idmap *users; /* dense user index -> the user's own id (owned) */
    hc_idmap *items; /* dense item index -> the user's own id (owned) */
    hc_split_kind kind;
    uint64_t seed;
    double valid_frac, test_frac;
    uint64_t checksum; /* of the contents; names the dataset in model and trajectory files */
} hc_dataset;

typedef struct {
    hc_split_kind kind;
    double valid_frac, test_frac; /* ratio split: 0.2, 0.2 */
    uint64_t seed;
    int32_t min_user; /* drop users with fewer interactions (default 5) */
    int32_t min_item; /* drop items with fewer interactions (default 0) */
} hc_split_opts;
void hc_split_opts_default(hc_split_opts *o);

/* Filters and splits raw interactions (users/items: the reader's maps). out is overwritten
 * and owns new maps holding only the kept ids, in order of first appearance. */
int hc_split(const hc_interactions *x, const hc_idmap *users, const hc_idmap *items,
             const hc_split_opts *opts, hc_dataset *out);

/* Imports a split made elsewhere. valid and test may be NULL (no held-out set); the catalog
 * files (one id per line, an optional header "user"/"item" skipped), when given, add users and
 * items that have no train interaction. */
typedef struct {
    const char *train, *valid, *test;
    const char *users_catalog, *items_catalog;
} hc_import_paths;
int hc_split_import(const hc_import_paths *paths, const hc_read_opts *opts, hc_dataset *out);

/* Recomputes ds->checksum from the contents. */
void hc_dataset_update_checksum(hc_dataset *ds);
/* Binary dataset file (docs/formats-dataset.md): written atomically, loaded with checksum check. */
int hc_dataset_save(const hc_dataset *ds, const char *path);
int hc_dataset_load(const char *path, hc_dataset *out);
/* The same from a file's bytes already in memory (data[0..len), borrowed): path only names
 * the file in messages. */
int hc_dataset_load_mem(const char *path, const void *data, size_t len, hc_dataset *out);
void hc_dataset_free(hc_dataset *ds);
/* Number of users with non-empty valid and test sets (the evaluated users). */
int32_t hc_dataset_n_eval_users(const hc_dataset *ds);

/* Summary statistics (hetcomp stats). */
typedef struct {
    int32_t n_users, n_items, n_items_in_train;
    int64_t n_train, n_valid, n_test;
    int32_t n_eval_users;
    double density;                  /* (train+valid+test) / (users * items) */
    double user_pct[5], item_pct[5]; /* activity / popularity at 10,25,50,75,90 % */
    int64_t user_max, item_max;
} hc_stats;
void hc_dataset_stats(const hc_dataset *ds, hc_stats *st);

/* ======================================================================== Synthetic data */

typedef struct {
    int32_t n_users, n_items;
    int64_t n_interactions; /* rows generated: all distinct pairs, so also the count after
                               de-duplication; in [5 n_users, n_users n_items / 2] */
    int32_t n_communities;
    double pop_exponent;       /* Zipf exponent of item popularity */
    double activity_sigma;     /* log-normal spread of user activity */
    double community_strength; /* share of a user's items drawn from their communities */
    double bundle_follow;      /* chance a freely drawn bundle item pulls its bundle mates */
    uint64_t seed;
} hc_synth_opts;
void hc_synth_opts_default(hc_synth_opts *o);
/* Appends exactly n_interactions distinct (user, item, timestamp) rows to out (docs/synth.md):
 * items "i0".."i<n-1>" are put into items first, then users "u0".."u<n-1>"; rows are grouped by
 * user with strictly increasing timestamps. HC_EINVAL (message names the field) on bad opts. */
int hc_synth(const hc_synth_opts *opts, hc_idmap *users, hc_idmap *items, hc_interactions *out);

/* ======================================================================== Top-K */

/* Writes the indices of the k largest scores (-INFINITY and NaN entries are skipped as
 * masked) into idx in descending order, ties broken by smaller index; returns the number
 * written (< k when fewer entries are selectable). Partial selection with a bounded heap
 * kept in idx: O(n log k), no allocation. val (k floats) may be NULL. */
int32_t hc_topk(const float *scores, int32_t n, int32_t k, int32_t *idx, float *val);

/* ======================================================================== Evaluation */

#define HC_EVAL_NK 3
extern const int32_t hc_eval_ks[HC_EVAL_NK]; /* 10, 20, 50 */
#define HC_EVAL_MAXK 50

typedef struct {
    double recall[HC_EVAL_NK]; /* mean over evaluated users; hits / |GT| (docs/method.md §1) */
    double ndcg[HC_EVAL_NK];
    int32_t n_users;     /* users evaluated */
    int32_t n_evaluable; /* users with valid and test items: n_users, or more when the
                            metrics cover a sample of them (hc_eval_opts.max_users) */
} hc_metrics;

typedef struct {
    hc_metrics valid, test;
} hc_eval_result;

/* Metrics of one ranked list against the ground truth gt (ascending, n_gt >= 1).
 * recall/ndcg receive HC_EVAL_NK values each. */
void hc_metrics_user(const int32_t *top, int32_t n_top, const int32_t *gt, int32_t n_gt,
                     double *recall, double *ndcg);

/* A model as the evaluator sees it: fills out (n x n_items, row-major) with the scores of
 * users[0..n). Called from one thread at a time; it may use BLAS/OpenMP threads inside. */
typedef struct {
    int (*score)(void *ctx, const int32_t *users, int32_t n, float *out);
    void *ctx;
} hc_scorer;

typedef struct {
    int32_t block;        /* users per scoring block (default 256) */
    int32_t record_k;     /* > 0: record every user's top-record_k unobserved items */
    int32_t *record_top;  /* n_users x record_k, -1 padded (caller-allocated) */
    int32_t *train_order; /* non-NULL: train.nnz entries, each user's train items by
                             descending score (caller-allocated, aligned to train.indptr) */
    int32_t max_users;    /* > 0: when more users are evaluable, the metrics cover a sample
                             of this many, drawn from user_seed alone (the same users at
                             every call with the same seed); 0: all */
    uint64_t user_seed;
} hc_eval_opts;
void hc_eval_opts_default(hc_eval_opts *o);

/* Full-ranking evaluation (docs/method.md §1): each evaluated user ranks all items except train
 * items and the other held-out set. Scores a block at a time: memory O(block x items). */
int hc_evaluate(const hc_dataset *ds, const hc_scorer *scorer, const hc_eval_opts *opts,
                hc_eval_result *out);

/* Popularity baseline: score(u, i) = number of train users of i. */
typedef struct {
    int32_t n_items;
    float *count; /* n_items (owned) */
} hc_popularity;
int hc_popularity_fit(const hc_dataset *ds, hc_popularity *p);
void hc_popularity_free(hc_popularity *p);
hc_scorer hc_popularity_scorer(hc_popularity *p);

#ifdef __cplusplus
}
#endif
#endif /* HETCOMP_H */
