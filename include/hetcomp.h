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

/* The shared library is built with hidden symbols: what this header declares is exported. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
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
/* Clears this thread's last error message. */
void hc_error_clear(void);

/* ======================================================================== Logging */

enum { HC_LOG_DEBUG = 0, HC_LOG_INFO = 1, HC_LOG_WARN = 2 };
/* Receives every log line the library emits (without trailing newline). */
typedef void (*hc_log_fn)(int level, const char *msg, void *userdata);
/* Installs the log sink (NULL: discard everything) and the minimum level passed on. */
void hc_log_set(hc_log_fn fn, void *userdata, int min_level);

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

/* ======================================================================== Threads */

/* Threads for everything the library runs in parallel (OpenMP and OpenBLAS); n <= 0: one per
 * core. Process-wide, like the environment variables it replaces (OMP_NUM_THREADS). */
void hc_set_threads(int n);

/* ======================================================================== Registries */

/* The teacher families ("mf", "ml", "gnn", "dl", "ae", "iae") and the distillation methods
 * ("hetcomp" and the baselines), in the order the CLI lists them: i in [0, count); NULL
 * past the end. Titles are one-line descriptions. */
int32_t hc_family_count(void);
const char *hc_family_name(int32_t i);
const char *hc_family_title(int32_t i);
int32_t hc_method_count(void);
const char *hc_method_name(int32_t i);
const char *hc_method_title(int32_t i);

/* One hyperparameter as its owner's table declares it. Names are also the CLI flags without
 * "--"; in "name=value" lists an '_' may stand for each '-' ("rest_group=128"). */
typedef struct {
    const char *name; /* "rest-group" */
    const char *type; /* "int", "float", "double", "u64", "bool", or choices "auto|exact|sampled" */
    double lo, hi;    /* accepted range of int, float and double values */
    const char *help; /* one line */
    char def[32];     /* the default, as text that reads back as it */
} hc_param_info;

/* The hyperparameters of scope: a family name ("mf": its model's, with the family's
 * defaults), "teacher" (the training loop every family shares: epochs, evaluation, early
 * stopping, trajectory) or "distill" (every method's: the student, HetComp's and the
 * baselines'). Count is -1 for an unknown scope; describe returns HC_ENOTFOUND past the end. */
int32_t hc_param_count(const char *scope);
int hc_param_describe(const char *scope, int32_t i, hc_param_info *out);

/* ======================================================================== Trajectories */

#define HC_TRAJ_NAME_LEN 32

/* A teacher's training trajectory (docs/method.md §2): C checkpoints, each holding every
 * user's top-K unobserved items and, optionally, the teacher's order of the user's train
 * items. Memory O(C U K): never a dense users x items matrix. A plain struct the caller owns
 * (zero-initialise; hc_traj_free releases its arrays), so bindings can view its arrays. */
typedef struct hc_traj {
    char model[HC_TRAJ_NAME_LEN]; /* teacher name (family, or what an import says) */
    int32_t n_users, n_items;
    int32_t n_ckpt; /* C */
    int32_t k;      /* length of each top list */
    uint64_t ds_checksum;
    int32_t *epochs;   /* n_ckpt epochs (-1 when unknown) */
    float *valid_r50;  /* n_ckpt validation Recall@50 (NaN when unknown) */
    int32_t *top;      /* n_ckpt x n_users x k unobserved items by rank, -1 padded */
    int64_t train_nnz; /* ds->train.nnz */
    int32_t *observed; /* n_ckpt x train_nnz: each user's train items in the teacher's order
                          (aligned with train.indptr), or NULL when not known */
    /* A partial load (one rank's share under MPI, docs/distributed.md) holds only the users u
     * with u % part_size == part_rank, in user order: top is n_ckpt x hc_traj_rows x k (user
     * u at row u / part_size), and each checkpoint's observed lists are those users' lists
     * back to back, owned user j's from part_obs[j] (part_obs: hc_traj_rows + 1 offsets).
     * part_size 0 or 1: every user, the layouts above (part_obs NULL). */
    int32_t part_rank, part_size;
    int64_t *part_obs;
} hc_traj;

void hc_traj_free(hc_traj *t);
/* Allocates the arrays for t's counts (n_ckpt, n_users, k, train_nnz already set). */
int hc_traj_alloc(hc_traj *t, int with_observed);
/* The number of users t holds lists for (n_users unless a partial load). */
static inline int32_t hc_traj_rows(const hc_traj *t)
{
    if (t->part_size <= 1)
        return t->n_users;
    return t->n_users > t->part_rank ? (t->n_users - t->part_rank - 1) / t->part_size + 1 : 0;
}
/* Top list of user u at checkpoint c (k entries, -1 padded); u must be held (partial loads). */
static inline const int32_t *hc_traj_top(const hc_traj *t, int32_t c, int32_t u)
{
    int32_t row = t->part_size > 1 ? u / t->part_size : u;
    return t->top + ((int64_t)c * hc_traj_rows(t) + row) * t->k;
}
/* Observed entries per checkpoint: train_nnz, or the held users' share. */
static inline int64_t hc_traj_obs_len(const hc_traj *t)
{
    return t->part_obs ? t->part_obs[hc_traj_rows(t)] : t->train_nnz;
}
/* User u's observed list at checkpoint c (train row length entries; t->observed must be set
 * and u held); train is the dataset's train matrix. */
static inline const int32_t *hc_traj_observed(const hc_traj *t, const hc_csr *train, int32_t c,
                                              int32_t u)
{
    int64_t at = t->part_obs ? t->part_obs[u / t->part_size] : train->indptr[u];
    return t->observed + (int64_t)c * hc_traj_obs_len(t) + at;
}
/* A trajectory of a teacher trained anywhere, from arrays: top holds n_ckpt x n_users x k
 * item indices (best first, -1 padded; copied), epochs n_ckpt values or NULL. Checks every
 * item is in range and not one of the user's train items and that no list repeats an item
 * (HC_EINVAL naming checkpoint, user and rank), like the text import. O(C U K). */
int hc_traj_from_arrays(const hc_dataset *ds, const char *name, int32_t n_ckpt, int32_t k,
                        const int32_t *top, const int32_t *epochs, hc_traj *out);
/* HC_OK when name can be a teacher name, else HC_EINVAL with a message starting with where (a
 * file, a flag): no control byte, no double quote, no blank at either end - what the text
 * form's '# model' line carries unchanged, so export then import gives the name back. */
int hc_traj_name_check(const char *name, const char *where);
/* Binary file (docs/formats.md, "HCTJ"): written atomically; loading refuses truncated or
 * corrupt files and, when ds is given, a trajectory of another dataset. */
int hc_traj_save(const hc_traj *t, const char *path);
int hc_traj_load(const char *path, const hc_dataset *ds, hc_traj *out);
/* The same from a file's bytes already in memory (data[0..len), borrowed): path only names
 * the file in messages. */
int hc_traj_load_mem(const char *path, const void *data, size_t len, const hc_dataset *ds,
                     hc_traj *out);
/* Text form of (checkpoint, user, rank, item) rows in the dataset's own ids (docs/formats.md). */
int hc_traj_export_text(const hc_traj *t, const hc_dataset *ds, const char *path);
/* The least share of the users (those with an unobserved item) an import must give a top list
 * at every checkpoint (docs/formats.md, section 5, says why). */
#define HC_TRAJ_MIN_COVERAGE 0.5
/* Imports text rows. *missing (may be NULL) receives the most users without a top list at any
 * checkpoint (warned about when > 0); below min_coverage of them (0: no limit) the import is
 * refused with HC_EEMPTY, the message giving the count. */
int hc_traj_import_text(const char *path, const hc_dataset *ds, double min_coverage, hc_traj *out,
                        int32_t *missing);
/* The same from text already in memory (data[0..len), borrowed, need not be NUL-terminated):
 * path only names the input in messages. */
int hc_traj_import_text_mem(const char *path, const char *data, size_t len, const hc_dataset *ds,
                            double min_coverage, hc_traj *out, int32_t *missing);

/* ======================================================================== Models */

/* A trained recommender: a teacher of one of the families or a distilled MF student. Opaque;
 * created by hc_train_teacher, hc_distill or hc_model_load, released by hc_model_free. A
 * model's scoring uses scratch it owns: one thread at a time per model. */
typedef struct hc_model hc_model;

void hc_model_free(hc_model *m);
/* Its family name ("mf" for students). */
const char *hc_model_family(const hc_model *m);
int64_t hc_model_n_params(hc_model *m);
int32_t hc_model_n_users(const hc_model *m);
int32_t hc_model_n_items(const hc_model *m);
/* Model file (docs/formats.md): written atomically; loading refuses truncated or corrupt files
 * and, when ds is given, a model trained on another dataset (HC_EMISMATCH). */
int hc_model_save(hc_model *m, const char *path);
int hc_model_load(const char *path, const hc_dataset *ds, hc_model **out);
/* The same from a file's bytes in memory (data[0..len), borrowed); path names it in messages. */
int hc_model_load_mem(const char *path, const void *data, size_t len, const hc_dataset *ds,
                      hc_model **out);
/* Scores users[0..n) against every item into out (n x n_items, row-major). O(n x items x
 * the family's cost per score); no allocation beyond the model's scratch. */
int hc_model_score(hc_model *m, const int32_t *users, int32_t n, float *out);
/* The model as the evaluator sees it (hc_evaluate). */
hc_scorer hc_model_scorer(hc_model *m);

/* Which items a recommendation leaves out: the user's train items (the default), none, or
 * every item the dataset holds for the user (train, valid and test). */
typedef enum { HC_EXCLUDE_TRAIN = 0, HC_EXCLUDE_NONE = 1, HC_EXCLUDE_ALL = 2 } hc_exclude;

/* The top k items of each of users[0..n) under m: out_items and out_scores (may be NULL) hold
 * n x k entries, best first, -1 / -INFINITY padded past out_count[u] (may be NULL). Scores a
 * block of 64 users at a time: O(n x items) time, O(64 x items) memory. */
int hc_recommend(hc_model *m, const hc_dataset *ds, const int32_t *users, int32_t n, int32_t k,
                 hc_exclude exclude, int32_t *out_items, float *out_scores, int32_t *out_count);

/* ======================================================================== The pipeline */

/* A dataset from index arrays: n_users x n_items, and (user, item) pairs for train, valid
 * and test (valid/test n may be 0). Duplicates collapse; a pair outside the catalog is
 * HC_EINVAL naming its set and position. Ids are "0".."n-1" (hc_idmap_name). out is
 * overwritten; O(pairs log pairs). */
int hc_dataset_from_arrays(int32_t n_users, int32_t n_items, const int32_t *train_user,
                           const int32_t *train_item, int64_t n_train, const int32_t *valid_user,
                           const int32_t *valid_item, int64_t n_valid, const int32_t *test_user,
                           const int32_t *test_item, int64_t n_test, hc_dataset *out);

/* What training a teacher or distilling a student reports. */
typedef struct {
    int32_t epochs;      /* epochs trained */
    int32_t best_epoch;  /* the evaluation kept (the model returned holds its parameters) */
    int32_t n_evals;     /* evaluations made */
    int stopped_early;   /* patience ran out before the epoch cap */
    double train_s;      /* seconds of training, evaluation excluded */
    hc_eval_result best; /* the kept evaluation's validation and test metrics */
} hc_train_summary;

/* Called after each evaluation (may be NULL): the epoch, its summed training loss, and the
 * metrics. */
typedef void (*hc_progress_fn)(void *ud, int32_t epoch, double loss, const hc_eval_result *res);

/* Trains a teacher of family (hc_family_name) on ds. params: NULL-terminated "name=value"
 * strings of hc_param_count(family) and of hc_param_count("teacher") (epochs, evaluation,
 * patience, checkpoints, topk), the rest defaulted; an unknown name or bad value is HC_EINVAL
 * naming it. *model receives the best model; traj (may be NULL) its trajectory, C
 * checkpoints of top-K lists (docs/method.md §2). Cost: the family's epochs plus an O(users x
 * items) evaluation every eval-every epochs. */
int hc_train_teacher(const hc_dataset *ds, const char *family, const char *const *params,
                     hc_progress_fn progress, void *ud, hc_model **model, hc_traj *traj,
                     hc_train_summary *summary);

/* The rank-importance ensemble of n trajectories' final checkpoints (docs/method.md §3):
 * weight (n values, NULL: 1 each), temperature T (> 0) and list length k. lists (may be
 * NULL) receives the ensemble as a one-checkpoint trajectory named "ensemble"; res (may be
 * NULL) its full-ranking metrics on ds. O(users x n K log(n K)). Teachers that are one
 * rank's share under MPI (docs/distributed.md) give each rank its users' lists, and rank 0
 * every user's (gathered). */
int hc_ensemble_build(const hc_dataset *ds, const hc_traj *const *traj, int32_t n,
                      const float *weight, float temperature, int32_t k, hc_traj *lists,
                      hc_eval_result *res);

/* Distils teachers[0..n) into an MF student with method (hc_method_name: "hetcomp", "bpr"
 * needs no teacher). params: "name=value" strings of hc_param_count("distill"). *student
 * receives the best student (an "mf" model). Cost per epoch: docs/distillation.md. */
int hc_distill(const hc_dataset *ds, const char *method, const hc_traj *const *teachers,
               int32_t n_teachers, const char *const *params, hc_progress_fn progress, void *ud,
               hc_model **student, hc_train_summary *summary);

/* Full-ranking metrics of m on ds (hc_evaluate with default options). */
int hc_model_evaluate(const hc_dataset *ds, hc_model *m, hc_eval_result *out);

/* Popularity baseline: score(u, i) = number of train users of i. */
typedef struct {
    int32_t n_items;
    float *count; /* n_items (owned) */
} hc_popularity;
int hc_popularity_fit(const hc_dataset *ds, hc_popularity *p);
void hc_popularity_free(hc_popularity *p);
hc_scorer hc_popularity_scorer(hc_popularity *p);

/* ======================================================================== Similar items */

/* The k items most like each of items[0..n) under m's item factors (models with an
 * "item_factors" tensor: mf, ml and every distilled student), as GET /v1/similar ranks them
 * (docs/serving.md): metric "cosine" (NULL) or "dot" (inner product), the item itself left
 * out. out_items and out_scores (either may be NULL) receive n x k entries, best first (ties
 * to the smaller item index), -1 / -INFINITY padded. HC_EINVAL for a model without item
 * factors, an item outside the catalog, k < 1 or another metric. O(items x dim) for the
 * norms plus O(n x items x dim) for the scores; memory O(items) per thread. Reads the
 * factors only, but like every call on a model: one thread at a time per model. */
int hc_similar_items(hc_model *m, const int32_t *items, int32_t n, int32_t k, const char *metric,
                     int32_t *out_items, float *out_scores);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif /* HETCOMP_H */
