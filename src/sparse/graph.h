/*
 * graph.h - the symmetric-normalised user-item graph of LightGCN and its product with a
 * dense (users + items) x d matrix.
 */
#ifndef HC_GRAPH_H
#define HC_GRAPH_H

#include "hetcomp.h"

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
/* Y[r] = (A X)[r] for the listed rows only (rows index users then items, as in X). */
void hc_graph_propagate_rows(const hc_graph *g, const float *X, float *Y, int32_t d,
                             const int32_t *rows, int32_t n);
/* Y += A S where S is zero outside the listed rows: each listed row r adds A[c][r] S[r] to
 * its neighbours c. O(edges of the listed rows); the user and item sides run in parallel. */
void hc_graph_scatter_rows(const hc_graph *g, const float *S, float *Y, int32_t d,
                           const int32_t *rows, int32_t n);

#endif
