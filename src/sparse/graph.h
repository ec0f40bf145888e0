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

#endif
