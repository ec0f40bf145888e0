/*
 * softmax_out.c - the softmax output layer's fused training pass (see softmax_out.h).
 */
#include "nn/softmax_out.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dense/blas.h"

/* First target of row r at or after unit u0 (targets ascending). */
static int64_t first_target(const hc_nn_softmax_out *p, int32_t r, int32_t u0)
{
    return p->tptr[r] + hc_lower_bound_i32(p->tcol + p->tptr[r], p->tptr[r + 1] - p->tptr[r], u0);
}

/* Pass 1 on units [r0, r0 + nr), whose block of E is Ec (n x nr): E's columns, the rows'
 * (m, sum E, sum of the targets' z) and, when G is not NULL (dX wanted), G = E W[chunk]. */
static void pass1(const hc_nn_softmax_out *p, float *Ec, int32_t r0, int32_t nr, float *m, float *s,
                  float *zt, float *G)
{
    const int32_t n = p->n, in = p->in;
    hc_nn_linear_chunk_fwd(n, in, nr, p->X, p->W + (int64_t)r0 * in, p->b ? p->b + r0 : NULL, Ec);
    for (int32_t r = 0; r < n; r++) {
        float *z = Ec + (int64_t)r * nr, sum = 0.0f;
        for (int64_t k = first_target(p, r, r0); k < p->tptr[r + 1] && p->tcol[k] < r0 + nr; k++)
            sum += z[p->tcol[k] - r0];
        zt[r] = sum;
        m[r] = hc_nn_max(nr, z);
        s[r] = hc_nn_exp_shift_sum(nr, z, m[r], z);
    }
    if (G)
        hc_sgemm(0, 0, n, in, nr, 1.0f, Ec, nr, p->W + (int64_t)r0 * in, in, 0.0f, G, in);
}

/* Pass 2 of the pending batch on units [r0, r0 + nr): dW = E^T (c X) and db = E^T c minus the
 * targets' share, then the step. */
static void pass2(const hc_nn_softmax_pending *pd, const float *Ec, int32_t r0, int32_t nr,
                  const float *c, float *Xc, float *dW, float *db, hc_nn_chunk_step step, void *ctx)
{
    const hc_nn_softmax_out *p = &pd->p;
    const int32_t n = p->n, in = p->in;
    for (int32_t r = 0; r < n; r++) {
        const float *x = p->X + (int64_t)r * in;
        float *y = Xc + (int64_t)r * in;
        for (int32_t j = 0; j < in; j++)
            y[j] = c[r] * x[j];
    }
    hc_sgemm(1, 0, nr, in, n, 1.0f, Ec, nr, Xc, in, 0.0f, dW, in);
    hc_sgemv(1, n, nr, 1.0f, Ec, nr, c, 0.0f, db);
    for (int32_t r = 0; r < n; r++) {
        const float *x = p->X + (int64_t)r * in;
        for (int64_t k = first_target(p, r, r0); k < p->tptr[r + 1] && p->tcol[k] < r0 + nr; k++) {
            float *g = dW + (int64_t)(p->tcol[k] - r0) * in;
            for (int32_t j = 0; j < in; j++)
                g[j] -= p->scale * x[j];
            db[p->tcol[k] - r0] -= p->scale;
        }
    }
    step(ctx, r0, nr, dW, db);
}

/* Grows *buf to hold n elements of size sz. */
static int grow(void *buf, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return HC_OK;
    void **b = buf, *q = realloc(*b, n * sz);
    if (!q)
        return hc_error(HC_ENOMEM, "softmax output layer: out of memory");
    *b = q;
    *cap = n;
    return HC_OK;
}

/* Between the passes, for batch p: per row, lse from the chunks' (m, sum) in chunk order, the
 * loss (returned), the chunks' c (nch x n) and dX (when not NULL) from the chunks' G. */
static double middle(const hc_nn_softmax_out *p, int32_t nch, const float *m, const float *s,
                     const float *zt, const float *G, float *c, double *row_loss, float *dX)
{
    const int32_t n = p->n, in = p->in;
#pragma omp parallel for schedule(static)
    for (int32_t r = 0; r < n; r++) {
        float mx = -INFINITY, sum = 0.0f;
        double ztr = 0.0;
        for (int32_t q = 0; q < nch; q++)
            mx = m[(size_t)q * n + r] > mx ? m[(size_t)q * n + r] : mx;
        for (int32_t q = 0; q < nch; q++) {
            sum += s[(size_t)q * n + r] * expf(m[(size_t)q * n + r] - mx);
            ztr += (double)zt[(size_t)q * n + r];
        }
        const float lse = mx + logf(sum), nt = (float)(p->tptr[r + 1] - p->tptr[r]);
        row_loss[r] = (double)nt * (double)lse - ztr;
        for (int32_t q = 0; q < nch; q++)
            c[(size_t)q * n + r] = p->scale * nt * expf(m[(size_t)q * n + r] - lse);
        if (!dX)
            continue;
        float *dx = dX + (int64_t)r * in;
        memset(dx, 0, (size_t)in * sizeof(float));
        for (int32_t q = 0; q < nch; q++) {
            const float cq = c[(size_t)q * n + r], *g = G + ((size_t)q * n + r) * in;
            for (int32_t j = 0; j < in; j++)
                dx[j] += cq * g[j];
        }
        for (int64_t k = p->tptr[r]; k < p->tptr[r + 1]; k++) {
            const float *w = p->W + (int64_t)p->tcol[k] * in;
            for (int32_t j = 0; j < in; j++)
                dx[j] -= p->scale * w[j];
        }
    }
    double total = 0.0;
    for (int32_t r = 0; r < n; r++)
        total += row_loss[r];
    return (double)p->scale * total;
}

/* Keeps batch p (its inputs and targets copied) as pd's pending batch, whose c is in pd->c
 * and exponentials in E's blocks. */
static int keep(hc_nn_softmax_pending *pd, const hc_nn_softmax_out *p, float *E, int32_t rows,
                int32_t chunk)
{
    const int64_t nnz = p->tptr[p->n] - p->tptr[0];
    int rc = grow(&pd->X, &pd->x_cap, (size_t)p->n * (size_t)p->in, sizeof(float));
    if (!rc)
        rc = grow(&pd->tptr, &pd->tptr_cap, (size_t)p->n + 1, sizeof(int64_t));
    if (!rc)
        rc = grow(&pd->tcol, &pd->tcol_cap, nnz > 0 ? (size_t)nnz : 1, sizeof(int32_t));
    if (rc)
        return rc;
    memcpy(pd->X, p->X, (size_t)p->n * (size_t)p->in * sizeof(float));
    for (int32_t r = 0; r <= p->n; r++)
        pd->tptr[r] = p->tptr[r] - p->tptr[0];
    memcpy(pd->tcol, p->tcol + p->tptr[0], (size_t)nnz * sizeof(int32_t));
    pd->p = *p;
    pd->p.X = pd->X;
    pd->p.tptr = pd->tptr;
    pd->p.tcol = pd->tcol;
    pd->E = E;
    pd->rows = rows;
    pd->chunk = chunk;
    pd->pending = 1;
    return HC_OK;
}

int hc_nn_softmax_out_step(const hc_nn_softmax_out *p, hc_nn_softmax_pending *pd, float *E,
                           int32_t rows, float *dX, double *loss, int32_t chunk,
                           hc_nn_chunk_step step, void *ctx, hc_nn_ws *ws)
{
    if (pd->pending && (E != pd->E || rows != pd->rows || chunk != pd->chunk ||
                        (p && (p->out != pd->p.out || p->in != pd->p.in))))
        return hc_error(HC_EINVAL, "softmax output layer: the pending batch has another shape");
    if (p && rows < p->n)
        return hc_error(HC_EINVAL, "softmax output layer: %d rows of scratch for a batch of %d",
                        rows, p->n);
    if (!p && !pd->pending)
        return HC_OK;
    const hc_nn_softmax_out *any = p ? p : &pd->p;
    const int32_t in = any->in, out = any->out, n = p ? p->n : 0;
    const int32_t nch = (out + chunk - 1) / chunk, threads = omp_get_max_threads();
    const int32_t pn = pd->pending ? pd->p.n : 0;
    const size_t stats = (size_t)nch * (size_t)n, parts = dX ? stats * (size_t)in : 0;
    const size_t per_thread = (size_t)pn * in + (size_t)chunk * in + (size_t)chunk;
    /* pd->c keeps the pending batch's c and receives the new batch's after the region */
    int rc = grow(&pd->c, &pd->c_cap, stats > 0 ? stats : 1, sizeof(float));
    if (!rc)
        rc = hc_nn_ws_reserve(ws, (size_t)n * sizeof(double) +
                                      (parts + 3 * stats + (size_t)threads * per_thread) *
                                          sizeof(float));
    if (rc)
        return rc;
    double *row_loss = ws->p;
    float *G = (float *)(row_loss + n), *m = G + parts, *s = m + stats, *zt = s + stats,
          *scr = zt + stats;
    /* one region: per chunk, the pending batch's pass 2 and step, then the new batch's pass 1
     * on the rows of W just stepped (and the same block of E, read and rewritten) */
    const int back = pd->back;
#pragma omp parallel for schedule(dynamic, 1)
    for (int32_t i = 0; i < nch; i++) {
        const int32_t q = back ? nch - 1 - i : i;
        const int32_t r0 = q * chunk, nr = out - r0 < chunk ? out - r0 : chunk;
        float *Ec = E + (int64_t)r0 * rows;
        if (pn) {
            float *Xc = scr + (size_t)omp_get_thread_num() * per_thread, *dW = Xc + (size_t)pn * in;
            pass2(pd, Ec, r0, nr, pd->c + (size_t)q * pn, Xc, dW, dW + (size_t)nr * in, step, ctx);
        }
        if (p)
            pass1(p, Ec, r0, nr, m + (size_t)q * n, s + (size_t)q * n, zt + (size_t)q * n,
                  dX ? G + (size_t)q * n * in : NULL);
    }
    pd->pending = 0;
    pd->back = !back;
    if (!p)
        return HC_OK;
    *loss = middle(p, nch, m, s, zt, G, pd->c, row_loss, dX);
    return keep(pd, p, E, rows, chunk);
}

int hc_nn_softmax_out_train(const hc_nn_softmax_out *p, float *E, float *dX, double *loss,
                            int32_t chunk, hc_nn_chunk_step step, void *ctx, hc_nn_ws *ws)
{
    hc_nn_softmax_pending pd = {0};
    int rc = hc_nn_softmax_out_step(p, &pd, E, p->n, dX, loss, chunk, step, ctx, ws);
    if (!rc)
        rc = hc_nn_softmax_out_step(NULL, &pd, E, p->n, NULL, NULL, chunk, step, ctx, ws);
    hc_nn_softmax_pending_free(&pd);
    return rc;
}

void hc_nn_softmax_pending_free(hc_nn_softmax_pending *pd)
{
    free(pd->X);
    free(pd->tptr);
    free(pd->tcol);
    free(pd->c);
    *pd = (hc_nn_softmax_pending){0};
}
