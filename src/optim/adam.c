/*
 * adam.c - dense and row-sparse Adam steps (see adam.h). The per-element update is
 *   g' = g + wd w;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 *   w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * which is torch.optim.Adam's (eps added after the bias-corrected square root).
 */
#include "optim/adam.h"

#include <stdlib.h>
#include <string.h>

#include "dense/vec.h"
#include "core/internal.h"

#include <math.h>
#include <omp.h>

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

/* The kernels are compiled twice (HC_CLONES, core/internal.h). */

/* The update of n contiguous parameters; restrict-qualified so the compiler vectorises it
 * (sqrt and division included). */
HC_CLONES void hc_adam_span(const hc_adam *a, float c1, float c2, float *restrict w,
                            const float *restrict g, float *restrict m, float *restrict v,
                            int64_t n)
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

void hc_adam_corrections(const hc_adam *a, float *c1, float *c2)
{
    /* in double for accuracy at small t */
    double t = (double)a->t;
    *c1 = (float)(1.0 / (1.0 - pow((double)a->beta1, t)));
    *c2 = (float)(1.0 / (1.0 - pow((double)a->beta2, t)));
}

int hc_adam_dense_state(int nt, const int64_t *len, int table, float **g, float **m, float **v)
{
    for (int k = 0; k < nt; k++) {
        g[k] = k == table ? hc_alloc_floats(len[k]) : calloc((size_t)len[k], sizeof(float));
        if (k != table) {
            m[k] = hc_alloc_floats(len[k]);
            v[k] = hc_alloc_floats(len[k]);
        }
        if (!g[k] || (k != table && (!m[k] || !v[k])))
            return HC_ENOMEM;
    }
    return HC_OK;
}

void hc_adam_dense(const hc_adam *a, float *w, const float *g, float *m, float *v, int64_t n)
{
    float c1, c2;
    hc_adam_corrections(a, &c1, &c2);
    const int64_t chunk = 16384;
    int64_t nchunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (nchunks > 64)
    for (int64_t b = 0; b < nchunks; b++) {
        int64_t lo = b * chunk, len = n - lo < chunk ? n - lo : chunk;
        hc_adam_span(a, c1, c2, w + lo, g + lo, m + lo, v + lo, len);
    }
}

void hc_adam_rows(const hc_adam *a, float *W, const float *G, float *M, float *V, int32_t dim,
                  const int32_t *rows, int32_t nrows)
{
    float c1, c2;
    hc_adam_corrections(a, &c1, &c2);
#pragma omp parallel for schedule(static) if ((int64_t)nrows * dim > 65536)
    for (int32_t r = 0; r < nrows; r++) {
        int64_t off = (int64_t)rows[r] * dim;
        hc_adam_span(a, c1, c2, W + off, G + (int64_t)r * dim, M + off, V + off, dim);
    }
}

/* ---------------------------------------------------------------- lazy tables
 *
 * The embedding tables follow the reference's dense Adam with coupled weight decay at the
 * cost of the rows a step touches. Between two touches of a row (a gap of k steps after step
 * t0) its data gradient is zero, so dense Adam sees g = wd w only:
 *   m_j = b1^j m + (1 - b1^j) wd w,  v_j = b2^j v + (1 - b2^j) (wd w)^2,
 *   w -= lr c1(t0+j) m_j / (sqrt(c2(t0+j) v_j) + eps),  j = 1..k.
 * With w held at its value at the start of the gap and v_j ~ b2^j v (the data gradients'
 * history dominates v), the k updates sum to
 *   dw = (cA m + cB wd w) / (sqrt(v) + eps),
 *   cA = lr sum_j f(t0+j) r^j,  cB = lr sum_j f(t0+j) (q^j - r^j),
 * with f(s) = c1(s) / sqrt(c2(s)), q = 1 / sqrt(b2), r = b1 q: the momentum the row keeps
 * after a touch (cA, as hc_adam_table's catch-up) and the weight decay's shrinking (cB). When
 * v is small against (wd w)^2 dense Adam moves the row by sign descent instead, at most
 *   cS = lr sum_j f(t0+j) (1 - b1^j) / sqrt(1 - b2^j)
 * in all; the shrinking is capped there, and a row it would take past zero stays at
 * magnitude min(|w|, lr), where sign descent leaves it oscillating. The moments end the gap
 * at m_k, v_k above. The decay matters: NeuMF's rows overfit, and dense Adam's decay of the
 * rows a step does not touch is most of its regularisation (validation R@50 0.213 without
 * it, 0.225 with it, on CiteULike-t). Coefficients depend on the gap only through (t0, k),
 * so they are cached per step by gap length. */

/* f(s) = sqrt(1 - b2^s) / (1 - b1^s) for s = 1..T (fs[s]); g(j) for j = 1..HC_ADAM_GAP_MAX. */
static int gap_tables(const hc_adam *a, hc_adam_table *f, int64_t T)
{
    const double b1 = (double)a->beta1, b2 = (double)a->beta2;
    if (!f->gj) {
        f->gj = malloc((HC_ADAM_GAP_MAX + 1) * sizeof(double));
        f->gc = calloc(HC_ADAM_GAP_MAX + 1, sizeof(hc_adam_gap));
        if (!f->gj || !f->gc)
            return hc_error(HC_ENOMEM, "adam: out of memory");
        for (int j = 1; j <= HC_ADAM_GAP_MAX; j++)
            f->gj[j] = (1.0 - pow(b1, j)) / sqrt(1.0 - pow(b2, j));
        for (int j = 0; j <= HC_ADAM_GAP_MAX; j++)
            f->gc[j].stamp = -1;
    }
    if (T + 1 > f->fs_cap) {
        int64_t cap = (T + 1) * 2 > 4096 ? (T + 1) * 2 : 4096;
        double *nf = realloc(f->fs, (size_t)cap * sizeof(double));
        if (!nf)
            return hc_error(HC_ENOMEM, "adam: out of memory");
        f->fs = nf;
        f->fs_cap = cap;
    }
    for (int64_t s = f->fs_n + 1; s <= T; s++)
        f->fs[s] = sqrt(1.0 - pow(b2, (double)s)) / (1.0 - pow(b1, (double)s));
    if (T > f->fs_n)
        f->fs_n = T;
    return HC_OK;
}

/* The coefficients of the gap of k steps ending at step T (fs filled up to T), cached in gc
 * (HC_ADAM_GAP_MAX + 1 entries). */
static hc_adam_gap gap_coefs(const hc_adam *ad, const hc_adam_table *f, hc_adam_gap *gc, int64_t T,
                             int64_t k)
{
    if (k <= HC_ADAM_GAP_MAX && gc[k].stamp == T)
        return gc[k];
    const double b1 = (double)ad->beta1, b2 = (double)ad->beta2, lr = (double)ad->lr;
    const double q = 1.0 / sqrt(b2), r = b1 * q;
    const int64_t t0 = T - k, jmax = k < HC_ADAM_GAP_MAX ? k : HC_ADAM_GAP_MAX;
    double sa = 0.0, sb = 0.0, ss = 0.0, rj = 1.0, qj = 1.0;
    for (int64_t j = 1; j <= jmax; j++) {
        rj *= r;
        qj *= q;
        const double fv = f->fs[t0 + j];
        sa += fv * rj;
        sb += fv * (qj - rj);
        ss += fv * f->gj[j];
    }
    for (int64_t j = jmax + 1; j <= k; j++) /* long gaps: sign descent at about f(s) per step */
        ss += f->fs[t0 + j];
    hc_adam_gap c = {(float)(lr * sa),          (float)(lr * sb),          (float)(lr * ss),
                     (float)pow(b1, (double)k), (float)pow(b2, (double)k), T};
    if (k <= HC_ADAM_GAP_MAX)
        gc[k] = c;
    return c;
}

/* Applies a gap's k zero-data-gradient steps to one row (see above). */
HC_CLONES static void gap_row(const hc_adam_gap *c, float wd, float eps, float floor_mag,
                              float *restrict w, float *restrict m, float *restrict v, int32_t dim)
{
    for (int32_t q = 0; q < dim; q++) {
        const float w0 = w[q], den = sqrtf(v[q]) + eps, aw = fabsf(w0);
        float dec = c->b * wd * aw / den;
        dec = dec < c->s ? dec : c->s;
        float mag = aw - dec;
        if (mag < floor_mag)
            mag = aw < floor_mag ? aw : floor_mag;
        w[q] = copysignf(mag, w0) - c->a * m[q] / den;
        m[q] = c->b1k * m[q] + (1.0f - c->b1k) * wd * w0;
        v[q] = c->b2k * v[q] + (1.0f - c->b2k) * wd * wd * w0 * w0;
    }
}

/* Brings row r from its last step to step T. */
static void catch_up(const hc_adam *a, hc_adam_table *tb, int32_t r, int64_t T)
{
    const int64_t k = T - tb->last[r];
    if (k <= 0)
        return;
    const hc_adam_gap c = gap_coefs(a, tb, tb->gc, T, k);
    const int64_t off = (int64_t)r * tb->dim;
    gap_row(&c, a->wd, a->eps, a->lr, tb->W + off, tb->M + off, tb->V + off, tb->dim);
    tb->last[r] = T;
}

int hc_adam_table_init(hc_adam_table *tb, float *W, int32_t rows, int32_t dim)
{
    memset(tb, 0, sizeof *tb);
    size_t n = (size_t)rows * (size_t)dim;
    tb->W = W;
    tb->rows = rows;
    tb->dim = dim;
    tb->M = hc_alloc_floats((int64_t)n);
    tb->V = hc_alloc_floats((int64_t)n);
    tb->last = calloc((size_t)(rows > 0 ? rows : 1), sizeof(int64_t));
    if (!tb->M || !tb->V || !tb->last) {
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
    free(tb->fs);
    free(tb->gj);
    free(tb->gc);
    free(tb->row_gap);
    memset(tb, 0, sizeof *tb);
}

/* rows ahead whose parameters and moments a table step prefetches */
#define TABLE_PREFETCH 4

int hc_adam_table_gaps(const hc_adam *a, hc_adam_table *tb, const int32_t *rows, int32_t n)
{
    const int64_t T = a->t;
    int rc = gap_tables(a, tb, T);
    if (rc)
        return rc;
    if (n > tb->row_gap_cap) {
        hc_adam_gap *ng = realloc(tb->row_gap, (size_t)n * sizeof *ng);
        if (!ng)
            return hc_error(HC_ENOMEM, "adam: out of memory");
        tb->row_gap = ng;
        tb->row_gap_cap = n;
    }
    for (int32_t r = 0; r < n; r++) {
        int64_t k = T - 1 - tb->last[rows[r]];
        tb->row_gap[r] =
            k > 0 ? gap_coefs(a, tb, tb->gc, T - 1, k) : (hc_adam_gap){0, 0, 0, 1, 1, 0};
    }
    return HC_OK;
}

/* Row r's step T: the catch-up of its gap c (when it missed steps), then the gradient g. */
static inline void row_step(const hc_adam *a, hc_adam_table *tb, int32_t r, const hc_adam_gap *c,
                            const float *g, float c1, float c2)
{
    const int64_t T = a->t, off = (int64_t)r * tb->dim;
    if (T - 1 > tb->last[r])
        gap_row(c, a->wd, a->eps, a->lr, tb->W + off, tb->M + off, tb->V + off, tb->dim);
    hc_adam_span(a, c1, c2, tb->W + off, g, tb->M + off, tb->V + off, tb->dim);
    tb->last[r] = T;
}

void hc_adam_table_rows(const hc_adam *a, hc_adam_table *tb, const float *G, const int32_t *rows,
                        int32_t lo, int32_t hi)
{
    const int32_t d = tb->dim;
    float c1, c2;
    hc_adam_corrections(a, &c1, &c2);
    for (int32_t r = lo; r < hi; r++) {
        if (r + TABLE_PREFETCH < hi) { /* the rows are scattered over the table */
            const int64_t ahead = (int64_t)rows[r + TABLE_PREFETCH] * d;
            hc_prefetch_floats(tb->W + ahead, d);
            hc_prefetch_floats(tb->M + ahead, d);
            hc_prefetch_floats(tb->V + ahead, d);
        }
        row_step(a, tb, rows[r], &tb->row_gap[r], G + (int64_t)r * d, c1, c2);
    }
}

int hc_adam_table_prepare(const hc_adam *a, hc_adam_table *tb)
{
    return gap_tables(a, tb, a->t);
}

hc_adam_gap *hc_adam_gap_cache_new(void)
{
    hc_adam_gap *c = malloc((HC_ADAM_GAP_MAX + 1) * sizeof *c);
    for (int j = 0; c && j <= HC_ADAM_GAP_MAX; j++)
        c[j].stamp = -1;
    return c;
}

void hc_adam_table_run(const hc_adam *a, hc_adam_table *tb, int32_t r0, int32_t n, const float *G,
                       float c1, float c2, hc_adam_gap *cache)
{
    const int64_t T = a->t;
    const int32_t d = tb->dim;
    for (int32_t r = r0; r < r0 + n; r++) {
        const int64_t k = T - 1 - tb->last[r];
        if (k > 0) {
            const hc_adam_gap c = gap_coefs(a, tb, cache, T - 1, k);
            const int64_t off = (int64_t)r * d;
            gap_row(&c, a->wd, a->eps, a->lr, tb->W + off, tb->M + off, tb->V + off, d);
        }
        tb->last[r] = T;
    }
    const int64_t off = (int64_t)r0 * d;
    hc_adam_span(a, c1, c2, tb->W + off, G, tb->M + off, tb->V + off, (int64_t)n * d);
}

int hc_adam_table_step(const hc_adam *a, hc_adam_table *tb, const float *G, const int32_t *rows,
                       int32_t n)
{
    /* the coefficients (cached by gap length) serially, then the rows in parallel */
    int rc = hc_adam_table_gaps(a, tb, rows, n);
    if (rc)
        return rc;
#pragma omp parallel if ((int64_t)n * tb->dim >= (1 << 16))
    {
        const int nth = omp_get_num_threads(), id = omp_get_thread_num();
        hc_adam_table_rows(a, tb, G, rows, (int32_t)((int64_t)n * id / nth),
                           (int32_t)((int64_t)n * (id + 1) / nth));
    }
    return HC_OK;
}

void hc_adam_table_flush(const hc_adam *a, hc_adam_table *tb)
{
    const int64_t T = a->t;
    if (gap_tables(a, tb, T) != HC_OK)
        return;
    for (int32_t r = 0; r < tb->rows; r++)
        catch_up(a, tb, r, T);
}

int hc_adam_gather_init(hc_adam_gather *w, int32_t table_rows)
{
    memset(w, 0, sizeof *w);
    w->rows = malloc((size_t)(table_rows > 0 ? table_rows : 1) * sizeof *w->rows);
    w->mark = calloc((size_t)(table_rows > 0 ? table_rows : 1), 1);
    if (!w->rows || !w->mark) {
        hc_adam_gather_free(w);
        return hc_error(HC_ENOMEM, "adam: out of memory");
    }
    return HC_OK;
}

void hc_adam_gather_free(hc_adam_gather *w)
{
    if (!w)
        return;
    free(w->rows);
    free(w->mark);
    free(w->g);
    memset(w, 0, sizeof *w);
}

int hc_adam_table_step_dense(const hc_adam *a, hc_adam_table *tb, float *G, const int32_t *idx,
                             int64_t n, hc_adam_gather *w)
{
    const int32_t d = tb->dim;
    int32_t nr = 0;
    for (int64_t k = 0; k < n; k++)
        if (!w->mark[idx[k]]) {
            w->mark[idx[k]] = 1;
            w->rows[nr++] = idx[k];
        }
    if (nr > w->g_rows) {
        free(w->g);
        w->g = malloc((size_t)nr * (size_t)d * sizeof(float));
        w->g_rows = w->g ? nr : 0;
        if (!w->g)
            return hc_error(HC_ENOMEM, "adam: out of memory");
    }
    for (int32_t r = 0; r < nr; r++) {
        float *g = G + (int64_t)w->rows[r] * d;
        memcpy(w->g + (int64_t)r * d, g, (size_t)d * sizeof(float));
        memset(g, 0, (size_t)d * sizeof(float));
        w->mark[w->rows[r]] = 0;
    }
    return hc_adam_table_step(a, tb, w->g, w->rows, nr);
}
