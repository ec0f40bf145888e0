/*
 * graph.c - normalised bipartite adjacency products (see graph.h).
 * A[u][i] = A[i][u] = 1 / sqrt(deg(u) deg(i)) for every train interaction (u, i).
 */
#include "sparse/graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hc_graph_free(hc_graph *g)
{
    if (!g)
        return;
    hc_csr_free(&g->ui);
    hc_csr_free(&g->iu);
    free(g->dinv_u);
    free(g->dinv_i);
    memset(g, 0, sizeof *g);
}

int hc_graph_build(hc_graph *g, const hc_csr *train)
{
    memset(g, 0, sizeof *g);
    g->n_users = train->nrows;
    g->n_items = train->ncols;
    int rc = hc_csr_copy(train, &g->ui);
    if (!rc)
        rc = hc_csr_transpose(train, &g->iu);
    if (rc) {
        hc_graph_free(g);
        return rc;
    }
    g->dinv_u = malloc((size_t)(g->n_users > 0 ? g->n_users : 1) * sizeof(float));
    g->dinv_i = malloc((size_t)(g->n_items > 0 ? g->n_items : 1) * sizeof(float));
    if (!g->dinv_u || !g->dinv_i) {
        hc_graph_free(g);
        return hc_error(HC_ENOMEM, "graph: out of memory");
    }
    for (int32_t u = 0; u < g->n_users; u++) {
        int32_t n = hc_csr_row_len(&g->ui, u);
        g->dinv_u[u] = n > 0 ? 1.0f / sqrtf((float)n) : 0.0f;
    }
    for (int32_t i = 0; i < g->n_items; i++) {
        int32_t n = hc_csr_row_len(&g->iu, i);
        g->dinv_i[i] = n > 0 ? 1.0f / sqrtf((float)n) : 0.0f;
    }
    return HC_OK;
}

/* Y_a = sum over neighbours b of dinv_a dinv_b X_b, for the rows of one side. */
static void side(const hc_csr *adj, const float *dinv_self, const float *dinv_other,
                 const float *Xother, float *Yself, int32_t d)
{
#pragma omp parallel for schedule(dynamic, 64)
    for (int32_t a = 0; a < adj->nrows; a++) {
        float *y = Yself + (int64_t)a * d;
        memset(y, 0, (size_t)d * sizeof *y);
        for (int64_t k = adj->indptr[a]; k < adj->indptr[a + 1]; k++) {
            int32_t b = adj->indices[k];
            float w = dinv_other[b];
            const float *x = Xother + (int64_t)b * d;
            for (int32_t c = 0; c < d; c++)
                y[c] += w * x[c];
        }
        float s = dinv_self[a];
        for (int32_t c = 0; c < d; c++)
            y[c] *= s;
    }
}

void hc_graph_propagate(const hc_graph *g, const float *X, float *Y, int32_t d)
{
    const float *Xu = X, *Xi = X + (int64_t)g->n_users * d;
    float *Yu = Y, *Yi = Y + (int64_t)g->n_users * d;
    side(&g->ui, g->dinv_u, g->dinv_i, Xi, Yu, d);
    side(&g->iu, g->dinv_i, g->dinv_u, Xu, Yi, d);
}
