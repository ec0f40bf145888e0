/*
 * softmax_out.c - the softmax output layer's fused training pass (see softmax_out.h).
 */
#include "nn/softmax_out.h"

#include <math.h>
#include <omp.h>

#include "dense/blas.h"

/* First target of row r at or after unit u0 (targets ascending). */
static int64_t first_target(const hc_nn_softmax_out *p, int32_t r, int32_t u0)
{
    int64_t lo = p->tptr[r], hi = p->tptr[r + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (p->tcol[mid] < u0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Pass 1 on chunk q = units [r0, r0 + nr): E's columns, the rows' (m, sum E, sum of the
 * targets' z) and, when G is not NULL (dX wanted), G = E W[chunk]. */
static void pass1(const hc_nn_softmax_out *p, float *E, int32_t r0, int32_t nr, float *m, float *s,
                  float *zt, float *G)
{
    const int32_t n = p->n, in = p->in;
    float *Ec = E + (int64_t)r0 * n; /* the chunk's n x nr block */
    if (p->b)
        for (int32_t r = 0; r < n; r++)
            memcpy(Ec + (int64_t)r * nr, p->b + r0, (size_t)nr * sizeof(float));
    hc_sgemm(0, 1, n, nr, in, 1.0f, p->X, in, p->W + (int64_t)r0 * in, in, p->b ? 1.0f : 0.0f, Ec,
             nr);
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

/* Pass 2 on chunk q: dW = E^T (c X) and db = E^T c minus the targets' share, then step. */
static void pass2(const hc_nn_softmax_out *p, const float *E, int32_t r0, int32_t nr,
                  const float *c, float *Xc, float *dW, float *db, hc_nn_chunk_step step, void *ctx)
{
    const int32_t n = p->n, in = p->in;
    for (int32_t r = 0; r < n; r++) {
        const float *x = p->X + (int64_t)r * in;
        float *y = Xc + (int64_t)r * in;
        for (int32_t j = 0; j < in; j++)
            y[j] = c[r] * x[j];
    }
    const float *Ec = E + (int64_t)r0 * n;
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

int hc_nn_softmax_out_train(const hc_nn_softmax_out *p, float *E, float *dX, double *loss,
                            int32_t chunk, hc_nn_chunk_step step, void *ctx, hc_nn_ws *ws)
{
    const int32_t n = p->n, in = p->in, out = p->out;
    const int32_t nch = (out + chunk - 1) / chunk, threads = omp_get_max_threads();
    const size_t stats = (size_t)nch * (size_t)n, parts = stats * (size_t)in;
    const size_t per_thread = (size_t)n * in + (size_t)chunk * in + (size_t)chunk;
    int rc = hc_nn_ws_reserve(ws, (size_t)n * sizeof(double) +
                                      (parts + 4 * stats + (size_t)threads * per_thread) *
                                          sizeof(float));
    if (rc)
        return rc;
    double *row_loss = ws->p;
    float *G = (float *)(row_loss + n), *m = G + parts, *s = m + stats, *zt = s + stats,
          *c = zt + stats;
    float *scr = c + stats;
#pragma omp parallel for schedule(dynamic, 1)
    for (int32_t q = 0; q < nch; q++) {
        const int32_t r0 = q * chunk, nr = out - r0 < chunk ? out - r0 : chunk;
        pass1(p, E, r0, nr, m + (size_t)q * n, s + (size_t)q * n, zt + (size_t)q * n,
              dX ? G + (size_t)q * n * in : NULL);
    }
    /* per row: lse from the chunks' (m, sum) in chunk order, the loss, the chunks' c, dX */
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
    *loss = (double)p->scale * total;
#pragma omp parallel for schedule(dynamic, 1)
    for (int32_t q = 0; q < nch; q++) {
        const int32_t r0 = q * chunk, nr = out - r0 < chunk ? out - r0 : chunk;
        float *Xc = scr + (size_t)omp_get_thread_num() * per_thread, *dW = Xc + (size_t)n * in;
        pass2(p, E, r0, nr, c + (size_t)q * n, Xc, dW, dW + (size_t)nr * in, step, ctx);
    }
    return HC_OK;
}
