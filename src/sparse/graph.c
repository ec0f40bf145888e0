/*
 * graph.c - normalised bipartite adjacency products (see graph.h).
 * A[u][i] = A[i][u] = 1 / sqrt(deg(u) deg(i)) for every train interaction (u, i).
 */
#include "sparse/graph.h"

#include <math.h>
#include <omp.h>
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

/* y += w x over d floats, in blocks of eight so that it vectorises for any d. */
static inline void axpy_row(float *restrict y, const float *restrict x, float w, int32_t d)
{
    int32_t c = 0;
    for (; c + 8 <= d; c += 8)
        for (int k = 0; k < 8; k++)
            y[c + k] += w * x[c + k];
    for (; c < d; c++)
        y[c] += w * x[c];
}

/* One row of one side: y = dinv_a sum over neighbours b of dinv_b X_b (acc += y). */
static inline void row_product(const hc_csr *adj, const float *dinv_self, const float *dinv_other,
                               const float *Xother, int32_t a, float *restrict y,
                               float *restrict acc, int32_t d)
{
    memset(y, 0, (size_t)d * sizeof *y);
    for (int64_t k = adj->indptr[a]; k < adj->indptr[a + 1]; k++) {
        int32_t b = adj->indices[k];
        float w = dinv_other[b];
        axpy_row(y, Xother + (int64_t)b * d, w, d);
    }
    float s = dinv_self[a];
    for (int32_t c = 0; c < d; c++)
        y[c] *= s;
    if (acc)
        for (int32_t c = 0; c < d; c++)
            acc[c] += y[c];
}

/* Y_a = sum over neighbours b of dinv_a dinv_b X_b, for the rows of one side. */
static void side(const hc_csr *adj, const float *dinv_self, const float *dinv_other,
                 const float *Xother, float *Yself, float *acc, int32_t d)
{
#pragma omp parallel for schedule(dynamic, 64)
    for (int32_t a = 0; a < adj->nrows; a++)
        row_product(adj, dinv_self, dinv_other, Xother, a, Yself + (int64_t)a * d,
                    acc ? acc + (int64_t)a * d : NULL, d);
}

void hc_graph_propagate_acc(const hc_graph *g, const float *X, float *Y, float *acc, int32_t d)
{
    int64_t off = (int64_t)g->n_users * d;
    side(&g->ui, g->dinv_u, g->dinv_i, X + off, Y, acc, d);
    side(&g->iu, g->dinv_i, g->dinv_u, X, Y + off, acc ? acc + off : NULL, d);
}

void hc_graph_propagate(const hc_graph *g, const float *X, float *Y, int32_t d)
{
    hc_graph_propagate_acc(g, X, Y, NULL, d);
}

void hc_graph_propagate_rows(const hc_graph *g, const float *X, float *Y, int32_t d,
                             const int32_t *rows, int32_t n)
{
    int64_t off = (int64_t)g->n_users * d;
#pragma omp parallel for schedule(static) if (n > 256)
    for (int32_t k = 0; k < n; k++) {
        int32_t r = rows[k];
        if (r < g->n_users)
            row_product(&g->ui, g->dinv_u, g->dinv_i, X + off, r, Y + (int64_t)r * d, NULL, d);
        else
            row_product(&g->iu, g->dinv_i, g->dinv_u, X, r - g->n_users, Y + (int64_t)r * d, NULL,
                        d);
    }
}

void hc_graph_scatter_rows(const hc_graph *g, const float *S, float *Y, int32_t d,
                           const int32_t *rows, int32_t n)
{
    /* user rows write item rows and item rows write user rows: the two sides run in
     * parallel without conflicts, each in row order */
#pragma omp parallel for schedule(static, 1) num_threads(omp_get_max_threads() > 1 ? 2 : 1)
    for (int side_is_user = 0; side_is_user < 2; side_is_user++) {
        for (int32_t k = 0; k < n; k++) {
            int32_t r = rows[k];
            int is_user = r < g->n_users;
            if (is_user != side_is_user)
                continue;
            const hc_csr *adj = is_user ? &g->ui : &g->iu;
            int32_t a = is_user ? r : r - g->n_users;
            float wa = is_user ? g->dinv_u[a] : g->dinv_i[a];
            const float *dinv_other = is_user ? g->dinv_i : g->dinv_u;
            int64_t other_off = is_user ? g->n_users : 0;
            const float *src = S + (int64_t)r * d;
            for (int64_t e = adj->indptr[a]; e < adj->indptr[a + 1]; e++) {
                int32_t b = adj->indices[e];
                axpy_row(Y + (other_off + b) * d, src, wa * dinv_other[b], d);
            }
        }
    }
}
