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
/* Row-sparse update: for r in rows[0..nrows), row rows[r] of W (dim columns) moves with
 * gradient row G[r * dim ..]; moments M, V are full-size tables like W. rows are unique. */
void hc_adam_rows(const hc_adam *a, float *W, const float *G, float *M, float *V, int32_t dim,
                  const int32_t *rows, int32_t nrows);

/* An embedding table under "lazy but exact-momentum" Adam: rows move only when a step
 * touches them, and a touched row first catches up the steps it missed, in closed form. With
 * a zero gradient, k missed steps scale m by b1^k and v by b2^k and move w by
 *   - lr * sum_{j=1..k} c1(t0+j) / sqrt(c2(t0+j)) * (b1 / sqrt(b2))^j * m / sqrt(v),
 * c1, c2 the bias corrections; so the table follows torch's dense Adam (whose embedding rows
 * keep moving by their momentum between touches) at the cost of the touched rows only. The
 * missed steps' weight-decay gradient (wd * w, ~1e-6 here) is ignored, and eps is applied
 * once per catch-up instead of once per step. */
typedef struct {
    float *W;      /* rows x dim parameters (not owned) */
    float *M, *V;  /* moments (owned) */
    int64_t *last; /* rows: the step each row was last brought to (owned) */
    float *coef;   /* scratch: per touched row catch-up coefficient */
    int32_t rows, dim, coef_cap;
    /* catch-up coefficients by the number of missed steps k (1 <= k <= HC_ADAM_TABLE), for
     * the step table_t: rebuilt once per step by a recurrence, so a row costs a lookup */
    float *cu, *b1k, *b2k;
    int64_t table_t;
} hc_adam_table;

#define HC_ADAM_TABLE 4096

int hc_adam_table_init(hc_adam_table *tb, float *W, int32_t rows, int32_t dim);
void hc_adam_table_free(hc_adam_table *tb);
/* One step (after hc_adam_begin_step): rows[0..n) (unique) catch up, then move with the
 * gradient rows G[r * dim ..]. */
int hc_adam_table_step(const hc_adam *a, hc_adam_table *tb, const float *G, const int32_t *rows,
                       int32_t n);
/* Brings every row to step a->t (call before reading W: evaluation, saving). */
void hc_adam_table_flush(const hc_adam *a, hc_adam_table *tb);

#endif
