/*
 * similar.h - item-item similarity over a model's item factors, shared by the server's
 * GET /v1/similar (serve/http.c, serve/live.c) and the public hc_similar_items (similar.c).
 * Finding the factors is O(tensors), the inverse norms O(items x dim), one item's scores one
 * matrix-vector product, O(items x dim).
 */
#ifndef HC_API_SIMILAR_H
#define HC_API_SIMILAR_H

#include "core/internal.h"

/* m's "item_factors" tensor when it has n_items rows (mf, ml and every student): *f (owned
 * by m) and *dim, returning 1; else 0 and *f NULL. */
int hc_item_factors(hc_model *m, int32_t n_items, const float **f, int32_t *dim);
/* out[i] = 1 / ||f_i|| (0 for a zero vector) over n_items rows of dim floats. */
void hc_item_inv_norms(const float *f, int32_t n_items, int32_t dim, float *out);
/* Scores of item i against every item into buf (n_items): inner products of the factors,
 * times both inverse norms when inv_norm is given (cosine); buf[i] = -INFINITY so that the
 * item is never its own neighbour. */
void hc_similar_scores(const float *f, const float *inv_norm, int32_t n_items, int32_t dim,
                       int32_t i, float *buf);

#endif
