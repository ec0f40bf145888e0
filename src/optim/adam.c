/*
 * adam.c - dense and row-sparse Adam steps (see adam.h). The per-element update is
 *   g' = g + wd w;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 *   w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * which is torch.optim.Adam's (eps added after the bias-corrected square root).
 */
#include "optim/adam.h"

#include <math.h>

void hc_adam_init(hc_adam *a, float lr, float wd)
{
    a->lr = lr;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
    a->wd = wd;
    a->t = 0;
}

void hc_adam_begin_step(hc_adam *a)
{
    a->t++;
}

/* The update of n contiguous parameters; restrict-qualified so the compiler vectorises it
 * (sqrt and division included). */
static void adam_span(const hc_adam *a, float c1, float c2, float *restrict w,
                      const float *restrict g, float *restrict m, float *restrict v, int64_t n)
{
    const float b1 = a->beta1, b2 = a->beta2, wd = a->wd, eps = a->eps;
    const float lr1 = a->lr * c1, ob1 = 1.0f - b1, ob2 = 1.0f - b2;
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i] + wd * w[i];
        float mi = b1 * m[i] + ob1 * gi;
        float vi = b2 * v[i] + ob2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= lr1 * mi / (sqrtf(vi * c2) + eps);
    }
}

/* 1/(1-b1^t) and 1/(1-b2^t), computed in double for accuracy at small t. */
static void corrections(const hc_adam *a, float *c1, float *c2)
{
    double t = (double)a->t;
    *c1 = (float)(1.0 / (1.0 - pow((double)a->beta1, t)));
    *c2 = (float)(1.0 / (1.0 - pow((double)a->beta2, t)));
}

void hc_adam_dense(const hc_adam *a, float *w, const float *g, float *m, float *v, int64_t n)
{
    float c1, c2;
    corrections(a, &c1, &c2);
    const int64_t chunk = 16384;
    int64_t nchunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (nchunks > 64)
    for (int64_t b = 0; b < nchunks; b++) {
        int64_t lo = b * chunk, len = n - lo < chunk ? n - lo : chunk;
        adam_span(a, c1, c2, w + lo, g + lo, m + lo, v + lo, len);
    }
}

void hc_adam_rows(const hc_adam *a, float *W, const float *G, float *M, float *V, int32_t dim,
                  const int32_t *rows, int32_t nrows)
{
    float c1, c2;
    corrections(a, &c1, &c2);
#pragma omp parallel for schedule(static) if ((int64_t)nrows * dim > 65536)
    for (int32_t r = 0; r < nrows; r++) {
        int64_t off = (int64_t)rows[r] * dim;
        adam_span(a, c1, c2, W + off, G + (int64_t)r * dim, M + off, V + off, dim);
    }
}

/* ---------------------------------------------------------------- lazy tables */

#include <stdlib.h>
#include <string.h>

#include "hetcomp.h"

int hc_adam_table_init(hc_adam_table *tb, float *W, int32_t rows, int32_t dim)
{
    memset(tb, 0, sizeof *tb);
    size_t n = (size_t)rows * (size_t)dim;
    tb->W = W;
    tb->rows = rows;
    tb->dim = dim;
    tb->M = calloc(n ? n : 1, sizeof(float));
    tb->V = calloc(n ? n : 1, sizeof(float));
    tb->last = calloc((size_t)(rows > 0 ? rows : 1), sizeof(int64_t));
    tb->cu = malloc((HC_ADAM_TABLE + 1) * sizeof(float));
    tb->b1k = malloc((HC_ADAM_TABLE + 1) * sizeof(float));
    tb->b2k = malloc((HC_ADAM_TABLE + 1) * sizeof(float));
    tb->table_t = -1;
    if (!tb->M || !tb->V || !tb->last || !tb->cu || !tb->b1k || !tb->b2k) {
        hc_adam_table_free(tb);
        return hc_error(HC_ENOMEM, "adam: out of memory for %zu moments", 2 * n);
    }
    return HC_OK;
}

void hc_adam_table_free(hc_adam_table *tb)
{
    if (!tb)
        return;
    free(tb->M);
    free(tb->V);
    free(tb->last);
    free(tb->coef);
    free(tb->cu);
    free(tb->b1k);
    free(tb->b2k);
    memset(tb, 0, sizeof *tb);
}

/* lr * sum_{j=1..k} c1(t0+j)/sqrt(c2(t0+j)) r^j with r = b1/sqrt(b2); terms below 1e-9 of the
 * first are dropped (r^j < 1e-9 after ~200 steps). */
static float catchup_coef(const hc_adam *a, int64_t t0, int64_t k)
{
    double b1 = (double)a->beta1, b2 = (double)a->beta2, r = b1 / sqrt(b2);
    double p1 = pow(b1, (double)t0), p2 = pow(b2, (double)t0), rj = 1.0, s = 0.0;
    for (int64_t j = 1; j <= k; j++) {
        p1 *= b1;
        p2 *= b2;
        rj *= r;
        s += rj / (1.0 - p1) * sqrt(1.0 - p2);
        if (rj < 1e-9)
            break;
    }
    return (float)((double)a->lr * s);
}

/* Applies k missed zero-gradient steps to one row, given its coefficient. */
static void catchup_row(const hc_adam *a, float coef, float b1k, float b2k, float *restrict w,
                        float *restrict m, float *restrict v, int32_t dim)
{
    const float eps = a->eps;
    for (int32_t c = 0; c < dim; c++) {
        w[c] -= coef * m[c] / (sqrtf(v[c]) + eps);
        m[c] *= b1k;
        v[c] *= b2k;
    }
}

/* Fills tb's tables for step a->t: a row last brought to step t0 = t - 1 - k missed k steps
 * t0 + 1 .. t - 1, whose coefficient S(k) = lr sum_{i=0}^{k-1} c(t-1-i) r^(k-i) (c = c1 /
 * sqrt(c2) at that step, r = b1 / sqrt(b2)) obeys S(k) = r S(k-1) + r lr c(t-k). */
static void build_tables(const hc_adam *a, hc_adam_table *tb)
{
    if (tb->table_t == a->t)
        return;
    double b1 = (double)a->beta1, b2 = (double)a->beta2, r = b1 / sqrt(b2);
    double S = 0.0, p1 = 1.0, p2 = 1.0;
    tb->cu[0] = 0.0f;
    tb->b1k[0] = tb->b2k[0] = 1.0f;
    for (int64_t k = 1; k <= HC_ADAM_TABLE; k++) {
        int64_t step = a->t - k; /* the k-th most recent missed step */
        if (step >= 1) {
            double c = sqrt(1.0 - pow(b2, (double)step)) / (1.0 - pow(b1, (double)step));
            S = r * S + r * (double)a->lr * c;
        }
        p1 *= b1;
        p2 *= b2;
        tb->cu[k] = (float)S;
        tb->b1k[k] = (float)p1;
        tb->b2k[k] = (float)p2;
    }
    tb->table_t = a->t;
}

int hc_adam_table_step(const hc_adam *a, hc_adam_table *tb, const float *G, const int32_t *rows,
                       int32_t n)
{
    build_tables(a, tb);
    if (n > tb->coef_cap) {
        float *nc = realloc(tb->coef, (size_t)n * 3 * sizeof *nc);
        if (!nc)
            return hc_error(HC_ENOMEM, "adam: out of memory");
        tb->coef = nc;
        tb->coef_cap = n;
    }
    /* the coefficients depend only on k = t - 1 - last: a table lookup, or the direct sum for
     * rows untouched for longer than the table */
    for (int32_t r = 0; r < n; r++) {
        int64_t t0 = tb->last[rows[r]], k = a->t - 1 - t0;
        float *c = tb->coef + 3 * (int64_t)r;
        if (k <= 0) {
            c[0] = 0.0f;
            c[1] = c[2] = 1.0f;
        } else if (k <= HC_ADAM_TABLE) {
            c[0] = tb->cu[k];
            c[1] = tb->b1k[k];
            c[2] = tb->b2k[k];
        } else {
            c[0] = catchup_coef(a, t0, k);
            c[1] = (float)pow((double)a->beta1, (double)k);
            c[2] = (float)pow((double)a->beta2, (double)k);
        }
    }
    float c1, c2;
    corrections(a, &c1, &c2);
    const int32_t dim = tb->dim;
#pragma omp parallel for schedule(static) if ((int64_t)n * dim > (1 << 20))
    for (int32_t r = 0; r < n; r++) {
        int64_t off = (int64_t)rows[r] * dim;
        const float *c = tb->coef + 3 * (int64_t)r;
        if (c[0] != 0.0f)
            catchup_row(a, c[0], c[1], c[2], tb->W + off, tb->M + off, tb->V + off, dim);
        adam_span(a, c1, c2, tb->W + off, G + (int64_t)r * dim, tb->M + off, tb->V + off, dim);
        tb->last[rows[r]] = a->t;
    }
    return HC_OK;
}

void hc_adam_table_flush(const hc_adam *a, hc_adam_table *tb)
{
    const int32_t dim = tb->dim;
    /* rows last touched at the same step share a coefficient: walk the distinct steps */
#pragma omp parallel for schedule(dynamic, 256)
    for (int32_t r = 0; r < tb->rows; r++) {
        int64_t t0 = tb->last[r], k = a->t - t0;
        if (k <= 0)
            continue;
        float coef = catchup_coef(a, t0, k);
        float b1k = (float)pow((double)a->beta1, (double)k);
        float b2k = (float)pow((double)a->beta2, (double)k);
        int64_t off = (int64_t)r * dim;
        catchup_row(a, coef, b1k, b2k, tb->W + off, tb->M + off, tb->V + off, dim);
        tb->last[r] = a->t;
    }
}
