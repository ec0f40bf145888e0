/*
 * graph.c - normalised bipartite adjacency products (see graph.h).
 * A[u][i] = A[i][u] = 1 / sqrt(deg(u) deg(i)) for every train interaction (u, i).
 */
#include "sparse/graph.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dense/vec.h"

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

/* The row kernels are compiled twice (HC_CLONES, core/internal.h). */

/* Neighbour rows are gathered from all over X (a cache miss each): the kernels prefetch the
 * row PREFETCH_AHEAD neighbours ahead. */
#define PREFETCH_AHEAD 16

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

/* One row of one side: y = dinv_a sum over neighbours b of dinv_b X_b (acc += y). With
 * in_order, prefetching runs PREFETCH_AHEAD edges ahead, on into the next rows' neighbours
 * (for callers walking rows in order); otherwise the caller prefetches (hc_graph_prefetch). */
HC_CLONES static void row_product(const hc_csr *adj, const float *dinv_self,
                                  const float *dinv_other, const float *Xother, int32_t a,
                                  float *restrict y, float *restrict acc, int32_t d, int in_order)
{
    memset(y, 0, (size_t)d * sizeof *y);
    const int64_t k0 = adj->indptr[a], k1 = adj->indptr[a + 1];
    const int64_t pf_end = in_order ? adj->indptr[adj->nrows] : 0;
    for (int64_t k = k0; k < k1; k++) {
        if (k + PREFETCH_AHEAD < pf_end)
            hc_prefetch_floats(Xother + (int64_t)adj->indices[k + PREFETCH_AHEAD] * d, d);
        int32_t b = adj->indices[k];
        axpy_row(y, Xother + (int64_t)b * d, dinv_other[b], d);
    }
    float s = dinv_self[a];
    for (int32_t c = 0; c < d; c++)
        y[c] *= s;
    if (acc)
        for (int32_t c = 0; c < d; c++)
            acc[c] += y[c];
}

void hc_graph_row(const hc_graph *g, const float *X, int64_t r, float *y, int32_t d, int in_order)
{
    if (r < g->n_users)
        row_product(&g->ui, g->dinv_u, g->dinv_i, X + (int64_t)g->n_users * d, (int32_t)r, y, NULL,
                    d, in_order);
    else
        row_product(&g->iu, g->dinv_i, g->dinv_u, X, (int32_t)(r - g->n_users), y, NULL, d,
                    in_order);
}

void hc_graph_prefetch(const hc_graph *g, const float *X, int64_t r, int32_t d)
{
    const int is_user = r < g->n_users;
    const hc_csr *adj = is_user ? &g->ui : &g->iu;
    const int32_t a = (int32_t)(is_user ? r : r - g->n_users);
    const float *Xother = is_user ? X + (int64_t)g->n_users * d : X;
    for (int64_t k = adj->indptr[a]; k < adj->indptr[a + 1]; k++)
        hc_prefetch_floats(Xother + (int64_t)adj->indices[k] * d, d);
}

/* Y_a = sum over neighbours b of dinv_a dinv_b X_b, for the rows of one side. */
static void side(const hc_csr *adj, const float *dinv_self, const float *dinv_other,
                 const float *Xother, float *Yself, float *acc, int32_t d)
{
#pragma omp parallel for schedule(dynamic, 64)
    for (int32_t a = 0; a < adj->nrows; a++)
        row_product(adj, dinv_self, dinv_other, Xother, a, Yself + (int64_t)a * d,
                    acc ? acc + (int64_t)a * d : NULL, d, 1);
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

/* One row of one side of A S for S compact: y = dinv_a sum over neighbours b in the listed
 * rows of dinv_b S[slot_b]. */
HC_CLONES static void row_compact(const hc_csr *adj, const float *dinv_self,
                                  const float *dinv_other, const float *S,
                                  const int32_t *slot_other, int32_t a, float *restrict y,
                                  int32_t d)
{
    memset(y, 0, (size_t)d * sizeof *y);
    for (int64_t k = adj->indptr[a]; k < adj->indptr[a + 1]; k++) {
        int32_t b = adj->indices[k], s = slot_other[b];
        if (s >= 0)
            axpy_row(y, S + (int64_t)s * d, dinv_other[b], d);
    }
    float w = dinv_self[a];
    for (int32_t c = 0; c < d; c++)
        y[c] *= w;
}

void hc_graph_propagate_compact(const hc_graph *g, const float *S, const int32_t *slot, float *Y,
                                int32_t d)
{
    const int64_t U = g->n_users, rows = U + g->n_items;
#pragma omp parallel for schedule(dynamic, 128)
    for (int64_t r = 0; r < rows; r++) {
        if (r < U)
            row_compact(&g->ui, g->dinv_u, g->dinv_i, S, slot + U, (int32_t)r, Y + r * d, d);
        else
            row_compact(&g->iu, g->dinv_i, g->dinv_u, S, slot, (int32_t)(r - U), Y + r * d, d);
    }
}
