/*
 * graph.h - the symmetric-normalised user-item graph of LightGCN and its product with a
 * dense (users + items) x d matrix.
 */
#ifndef HC_GRAPH_H
#define HC_GRAPH_H

#include "core/internal.h"

typedef struct {
    int32_t n_users, n_items;
    hc_csr ui;     /* train, users x items */
    hc_csr iu;     /* its transpose */
    float *dinv_u; /* n_users: 1/sqrt(deg) (0 for isolated) */
    float *dinv_i; /* n_items */
} hc_graph;

int hc_graph_build(hc_graph *g, const hc_csr *train);
void hc_graph_free(hc_graph *g);
/* Y = A X for the normalised adjacency A = D^-1/2 [0 R; R^T 0] D^-1/2; X and Y are
 * (n_users + n_items) x d row-major, users first. A is symmetric, so this is also the
 * backward product. OpenMP over rows; no allocation. */
void hc_graph_propagate(const hc_graph *g, const float *X, float *Y, int32_t d);

/* Y = A X and ACC += Y in one pass (ACC may be NULL). */
void hc_graph_propagate_acc(const hc_graph *g, const float *X, float *Y, float *acc, int32_t d);
/* y = (A X)[r], one row (r indexes users then items, as in X); y does not alias X. in_order:
 * the caller walks rows in increasing order, and the row's prefetching runs on into the next
 * rows' neighbours; otherwise (rows in any order) the caller prefetches with
 * hc_graph_prefetch a few rows ahead. */
void hc_graph_row(const hc_graph *g, const float *X, int64_t r, float *y, int32_t d, int in_order);
/* Prefetches the rows of X that (A X)[r] reads. */
void hc_graph_prefetch(const hc_graph *g, const float *X, int64_t r, int32_t d);
/* Y = A S where S is zero outside a few rows and given compactly: row r of S is
 * S[slot[r] * d ..] where slot[r] >= 0, zero where slot[r] < 0 (slot indexes users then
 * items). One pass over the edges that reads only the listed rows of S; OpenMP over rows. */
void hc_graph_propagate_compact(const hc_graph *g, const float *S, const int32_t *slot, float *Y,
                                int32_t d);

#endif
