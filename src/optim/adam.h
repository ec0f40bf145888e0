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

#endif
