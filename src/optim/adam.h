/*
 * adam.h - Adam (Kingma & Ba) with L2 weight decay coupled into the gradient, exactly as
 * torch.optim.Adam(weight_decay=wd) applies it: g <- g + wd * w before the moments.
 *
 * Two forms: dense (every parameter moves every step, as PyTorch does for dense gradients)
 * and row-sparse (only the rows a step touched move: LazyAdam, for embedding tables whose
 * gradient is zero outside the batch). Both use the global step t for bias correction.
 */
#ifndef HC_ADAM_H
#define HC_ADAM_H

#include <stdint.h>

typedef struct {
    float lr, beta1, beta2, eps, wd;
    int64_t t; /* steps taken; hc_adam_begin_step increments it */
} hc_adam;

/* torch defaults: beta (0.9, 0.999), eps 1e-8. */
void hc_adam_init(hc_adam *a, float lr, float wd);
/* Starts a step: increments t and returns the bias-corrected step size factors. */
void hc_adam_begin_step(hc_adam *a);
/* Dense update of n parameters w with gradient g and moments m, v (OpenMP). */
void hc_adam_dense(const hc_adam *a, float *w, const float *g, float *m, float *v, int64_t n);
/* Zeroed training state for nt tensors of len[k] parameters: a gradient g[k] for each and dense
 * moments m[k], v[k] for each but tensor `table` (an input layer whose moments live in an
 * hc_adam_table; -1 for none). Moments and the table's gradient (a few rows touched per batch)
 * are on huge pages (hc_alloc_floats); the other gradients calloc'ed, so that pages no step
 * writes stay unmapped. HC_ENOMEM on failure (entries already allocated stay set, for the
 * caller's free). */
int hc_adam_dense_state(int nt, const int64_t *len, int table, float **g, float **m, float **v);
/* The bias-correction factors 1/(1-b1^t) and 1/(1-b2^t) of the current step. */
void hc_adam_corrections(const hc_adam *a, float *c1, float *c2);
/* The update of n contiguous parameters w (gradient g, moments m, v) with the factors of
 * hc_adam_corrections: the kernel of every form below, for callers that fuse the step into
 * the pass that makes the gradient. */
void hc_adam_span(const hc_adam *a, float c1, float c2, float *w, const float *g, float *m,
                  float *v, int64_t n);
/* Row-sparse update: for r in rows[0..nrows), row rows[r] of W (dim columns) moves with
 * gradient row G[r * dim ..]; moments M, V are full-size tables like W. rows are unique. */
void hc_adam_rows(const hc_adam *a, float *W, const float *G, float *M, float *V, int32_t dim,
                  const int32_t *rows, int32_t nrows);

/* An embedding table under Adam at the cost of the rows a step touches. Between two touches
 * a row's data gradient is zero, so torch's dense Adam still moves it, by its momentum and
 * by the Adam-normalised weight decay; a touched row first catches up those missed steps in
 * closed form (adam.c derives the coefficients), so the table follows dense Adam (exactly
 * for the momentum, to first order for the decay) without touching the other rows. */
typedef struct {
    float a, b, s;  /* momentum, decay and sign-descent coefficients of a gap */
    float b1k, b2k; /* b1^k, b2^k */
    int64_t stamp;  /* the step the cached gap ends at */
} hc_adam_gap;

typedef struct {
    float *W;      /* rows x dim parameters (not owned) */
    float *M, *V;  /* moments (owned) */
    int64_t *last; /* rows: the step each row was last brought to (owned) */
    int32_t rows, dim;
    double *fs; /* f(s) = sqrt(1 - b2^s) / (1 - b1^s), s = 1..fs_n (fs_cap entries) */
    int64_t fs_n, fs_cap;
    double *gj;           /* (1 - b1^j) / sqrt(1 - b2^j), j = 1..HC_ADAM_GAP_MAX */
    hc_adam_gap *gc;      /* gap coefficients by gap length, valid for the step in stamp */
    hc_adam_gap *row_gap; /* scratch: a step's coefficients per touched row */
    int32_t row_gap_cap;
} hc_adam_table;

#define HC_ADAM_GAP_MAX 2048 /* gap lengths whose coefficients are cached per step */

int hc_adam_table_init(hc_adam_table *tb, float *W, int32_t rows, int32_t dim);
void hc_adam_table_free(hc_adam_table *tb);
/* One step (after hc_adam_begin_step): rows[0..n) (unique) catch up the steps they missed,
 * then move with the gradient rows G[r * dim ..]. */
int hc_adam_table_step(const hc_adam *a, hc_adam_table *tb, const float *G, const int32_t *rows,
                       int32_t n);
/* hc_adam_table_step in two parts, for callers that thread the rows themselves:
 * hc_adam_table_gaps (serial; after hc_adam_begin_step) works out the catch-up of rows[0..n),
 * then hc_adam_table_rows steps rows[lo..hi) of that list (G row r for rows[r]); disjoint
 * ranges may run on different threads at once. */
int hc_adam_table_gaps(const hc_adam *a, hc_adam_table *tb, const int32_t *rows, int32_t n);
void hc_adam_table_rows(const hc_adam *a, hc_adam_table *tb, const float *G, const int32_t *rows,
                        int32_t lo, int32_t hi);
/* The same a run of consecutive rows at a time, for callers whose threads each own a set of
 * rows and step them inside their own parallel region: hc_adam_table_prepare (serial; after
 * hc_adam_begin_step), then hc_adam_table_run for rows r0..r0+n-1 with gradients G (n x dim),
 * any thread, disjoint runs at once; each thread brings its own gap cache (from
 * hc_adam_gap_cache_new, released with free) and c1, c2 from hc_adam_corrections. The
 * result is that of hc_adam_table_step bit for bit; a run is one vectorised update. */
int hc_adam_table_prepare(const hc_adam *a, hc_adam_table *tb);
hc_adam_gap *hc_adam_gap_cache_new(void);
void hc_adam_table_run(const hc_adam *a, hc_adam_table *tb, int32_t r0, int32_t n, const float *G,
                       float c1, float c2, hc_adam_gap *cache);
/* Scratch of hc_adam_table_step_dense (hc_adam_gather_init / _free). */
typedef struct {
    int32_t *rows;  /* the step's distinct rows */
    uint8_t *mark;  /* table rows: already listed */
    float *g;       /* their gradients, compact */
    int32_t g_rows; /* rows g holds */
} hc_adam_gather;
int hc_adam_gather_init(hc_adam_gather *w, int32_t table_rows);
void hc_adam_gather_free(hc_adam_gather *w);
/* A step of table tb whose gradient G (rows x dim) was accumulated densely and is non-zero
 * only on the rows listed, with repeats, in idx[0..n) (e.g. a sparse input layer's columns):
 * those rows, each once in order of first appearance, are gathered, zeroed in G and stepped. */
int hc_adam_table_step_dense(const hc_adam *a, hc_adam_table *tb, float *G, const int32_t *idx,
                             int64_t n, hc_adam_gather *w);
/* Brings every row to step a->t (call before reading W: evaluation, saving). */
void hc_adam_table_flush(const hc_adam *a, hc_adam_table *tb);

#endif
