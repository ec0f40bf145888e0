/*
 * layers.c - dense-network layers and their backward passes (see layers.h).
 *
 * Gradients, for one row (x input, y output, dy upstream gradient):
 *   linear       y = W x + b           dx = W^T dy, dW += dy x^T, db += dy
 *   sparse       y = Wt^T x + b        dWt[c] += x_c dy (rows c with x_c != 0 only)
 *   relu/tanh/sigmoid                  dx = dy * {[y > 0], 1 - y^2, y (1 - y)}
 *   dropout      y = x m               dx = dy m
 *   softmax      y = e^x / sum e^x     dx = y (dy - <dy, y>)
 *   log-softmax  y = x - lse(x)        dx = dy - e^y sum(dy)
 *   L2 norm      y = x / ||x||         dx = (dy - y <y, dy>) / ||x||
 *   BCE logits   l = softplus(z) - t z dl/dz = sigmoid(z) - t
 *   mult. NLL    l = -<t, log_softmax(z)>   dl/dz = softmax(z) sum(t) - t
 *
 * Work: products are single-threaded BLAS sgemm calls on fixed tiles spread over OpenMP
 * threads (hc_nn_gemm: a multithreaded BLAS call rounds differently with the thread count);
 * row-wise loops run under OpenMP over rows, column sums over blocks of columns with rows
 * added in row order, so no result depends on the thread count. Only hc_nn_gemm's k-split
 * and the workspace functions allocate.
 */
/* GCC's default -ftrapping-math keeps the clamps of hc_nn_expf from being if-converted next
 * to its float-to-int conversion, and the exp loops below then stay scalar (about 5x slower).
 * Nothing here reads floating-point exception flags. ISO C mode (-std=c11) also turns off
 * contraction into fused multiply-adds, which the polynomials here want (faster, and no less
 * accurate). Before the includes, so that the inline approximations in layers.h are compiled
 * with the same options as the loops using them. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "fp-contract=fast")
#endif

#include "nn/layers.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dense/blas.h"

/* The elementwise kernels that dominate the autoencoders' steps (an exp over every logit, a
 * sigmoid over every hidden unit, the BCE over every output) are compiled twice (HC_CLONES,
 * core/internal.h). */

/* Eight floats in a GCC vector: one AVX2 register in the x86-64-v3 clones, two SSE registers
 * in the baseline ones. The exp loops are written on it because the auto-vectoriser leaves a
 * loop scalar when its output may alias its input (the softmax and BCE work in place) and
 * cannot keep a sum or product in lanes without reordering it. Loads and stores go through
 * memcpy (unaligned, no aliasing question). The helpers are always inlined into the clones,
 * so no vector is ever passed by value across an ABI boundary (-Wpsabi's concern, silenced
 * for this file in CMakeLists.txt). */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
#define V8 static inline __attribute__((always_inline))

V8 v8f v8_load(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

V8 void v8_store(float *p, v8f v)
{
    memcpy(p, &v, sizeof v);
}

V8 v8f v8_splat(float a)
{
    return (v8f){a, a, a, a, a, a, a, a};
}

/* lanes of a where m is set, of b elsewhere */
V8 v8f v8_select(v8i m, v8f a, v8f b)
{
    return (v8f)((m & (v8i)a) | (~m & (v8i)b));
}

/* the lanes' sum, in lane order */
V8 float v8_sum(v8f v)
{
    float s = 0.0f;
    for (int j = 0; j < 8; j++)
        s += v[j];
    return s;
}

/* hc_nn_expf on eight lanes (same clamps, NaN to the low end, reduction and polynomial) */
V8 v8f v8_exp(v8f x)
{
    x = v8_select(x > -87.3f, x, v8_splat(-87.3f));
    x = v8_select(x < 88.3f, x, v8_splat(88.3f));
    const v8i k =
        __builtin_convertvector(x * HC_EXP_LOG2E + (HC_EXP_BIAS + 0.5f), v8i) - HC_EXP_BIAS;
    const v8f kf = __builtin_convertvector(k, v8f), r = HC_EXP_REDUCE(x, kf);
    return HC_EXP_POLY(r) * (v8f)((k + 127) << 23);
}

/* Entries per block of the elementwise loops (a block is the unit of OpenMP work). */
#define EW_BLOCK 4096

/* y = sigmoid(x) over n entries (vectorised: the loop sits in a function of its own, which
 * the OpenMP-outlined caller is not). */
HC_CLONES static void sigmoid_block(int64_t n, const float *x, float *y)
{
    for (int64_t k = 0; k < n; k++)
        y[k] = hc_nn_sigmoidf(x[k]);
}

/* Below this many entries an elementwise loop runs on one thread: a parallel region costs a
 * few microseconds on an idle machine and milliseconds on an oversubscribed one. */
#define PAR_MIN (1 << 18)
/* Columns per block of a column sum. */
#define COL_BLOCK 512

/* db = beta db + sum over rows of dY (n x cols), each column summed in row order. */
static void colsum(int32_t n, int32_t cols, const float *dY, float *db, float beta)
{
    int32_t nblk = (cols + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static) if ((int64_t)n * cols > PAR_MIN)
    for (int32_t bk = 0; bk < nblk; bk++) {
        int32_t c0 = bk * COL_BLOCK, c1 = c0 + COL_BLOCK < cols ? c0 + COL_BLOCK : cols;
        float *acc = db + c0;
        if (beta == 0.0f)
            memset(acc, 0, (size_t)(c1 - c0) * sizeof *acc);
        for (int32_t r = 0; r < n; r++) {
            const float *row = dY + (int64_t)r * cols + c0;
#pragma omp simd
            for (int32_t c = 0; c < c1 - c0; c++)
                acc[c] += row[c];
        }
    }
}

/* Y[r] = b for every row. */
static void fill_rows(int32_t n, int32_t cols, const float *b, float *Y)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * cols > PAR_MIN)
    for (int32_t r = 0; r < n; r++)
        memcpy(Y + (int64_t)r * cols, b, (size_t)cols * sizeof(float));
}

/* Tiles of C and chunks of k for hc_nn_gemm (multiples of the BLAS micro-kernel sizes). */
#define GEMM_MB 256
#define GEMM_NB 512
#define GEMM_KB 1024

/* Element (r, c) of op(X) for a row-major X with leading dimension ld. */
static const float *op_at(const float *X, int32_t ld, int trans, int32_t r, int32_t c)
{
    return trans ? X + (int64_t)c * ld + r : X + (int64_t)r * ld + c;
}

int hc_nn_gemm(int trans_a, int trans_b, int32_t m, int32_t n, int32_t k, float alpha,
               const float *A, int32_t lda, const float *B, int32_t ldb, float beta, float *C,
               int32_t ldc)
{
    if (m <= 0 || n <= 0)
        return HC_OK;
    const int32_t tm = (m + GEMM_MB - 1) / GEMM_MB, tn = (n + GEMM_NB - 1) / GEMM_NB;
    const int32_t kc = (k + GEMM_KB - 1) / GEMM_KB;
    /* every tile runs inside an active parallel region (with two or more threads), where the
     * BLAS stays on one thread; with one thread it is single-threaded anyway */
    if (tm * tn >= 4 || kc < 2) {
#pragma omp parallel for schedule(dynamic, 1)
        for (int32_t t = 0; t < tm * tn; t++) {
            int32_t r0 = (t / tn) * GEMM_MB, c0 = (t % tn) * GEMM_NB;
            int32_t mr = m - r0 < GEMM_MB ? m - r0 : GEMM_MB,
                    nc = n - c0 < GEMM_NB ? n - c0 : GEMM_NB;
            hc_sgemm(trans_a, trans_b, mr, nc, k, alpha, op_at(A, lda, trans_a, r0, 0), lda,
                     op_at(B, ldb, trans_b, 0, c0), ldb, beta, C + (int64_t)r0 * ldc + c0, ldc);
        }
        return HC_OK;
    }
    /* few output tiles and a long k: partial products over fixed k chunks, summed in order */
    float *part = malloc((size_t)kc * (size_t)m * (size_t)n * sizeof(float));
    if (!part)
        return hc_error(HC_ENOMEM, "gemm: out of memory for %d partial products", kc);
#pragma omp parallel for schedule(dynamic, 1)
    for (int32_t q = 0; q < kc; q++) {
        int32_t k0 = q * GEMM_KB, kn = k - k0 < GEMM_KB ? k - k0 : GEMM_KB;
        hc_sgemm(trans_a, trans_b, m, n, kn, 1.0f, op_at(A, lda, trans_a, 0, k0), lda,
                 op_at(B, ldb, trans_b, k0, 0), ldb, 0.0f, part + (int64_t)q * m * n, n);
    }
#pragma omp parallel for schedule(static) if ((int64_t)m * n > PAR_MIN)
    for (int32_t r = 0; r < m; r++) {
        float *c = C + (int64_t)r * ldc;
        for (int32_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (int32_t q = 0; q < kc; q++)
                s += part[((int64_t)q * m + r) * n + j];
            c[j] = beta == 0.0f ? alpha * s : alpha * s + beta * c[j];
        }
    }
    free(part);
    return HC_OK;
}

int hc_nn_linear_fwd(int32_t n, int32_t in, int32_t out, const float *X, const float *W,
                     const float *b, float *Y)
{
    /* the bias goes in first and the product is added to it (beta = 1): one pass over Y
     * instead of the BLAS's zeroing pass and a bias pass */
    if (b)
        fill_rows(n, out, b, Y);
    return hc_nn_gemm(0, 1, n, out, in, 1.0f, X, in, W, in, b ? 1.0f : 0.0f, Y, out);
}

void hc_nn_linear_chunk_fwd(int32_t n, int32_t in, int32_t nr, const float *X, const float *Wc,
                            const float *bc, float *Y)
{
    if (bc) /* the bias first and the product added to it: no zeroing pass */
        fill_rows(n, nr, bc, Y);
    hc_sgemm(0, 1, n, nr, in, 1.0f, X, in, Wc, in, bc ? 1.0f : 0.0f, Y, nr);
}

int hc_nn_linear_bwd(int32_t n, int32_t in, int32_t out, const float *X, const float *W,
                     const float *dY, float *dX, float *dW, float *db, float beta)
{
    int rc = HC_OK;
    if (dX)
        rc = hc_nn_gemm(0, 0, n, in, out, 1.0f, dY, out, W, in, 0.0f, dX, in);
    if (dW && !rc)
        rc = hc_nn_gemm(1, 0, out, in, n, 1.0f, dY, out, X, in, beta, dW, in);
    if (db)
        colsum(n, out, dY, db, beta);
    return rc;
}

int hc_nn_ws_reserve(hc_nn_ws *ws, size_t bytes)
{
    if (bytes <= ws->cap)
        return HC_OK;
    free(ws->p);
    ws->p = hc_alloc_floats((int64_t)((bytes + sizeof(float) - 1) / sizeof(float)));
    ws->cap = ws->p ? bytes : 0;
    if (!ws->p)
        return hc_error(HC_ENOMEM, "out of memory for %zu bytes of scratch", bytes);
    return HC_OK;
}

void hc_nn_ws_free(hc_nn_ws *ws)
{
    if (!ws)
        return;
    free(ws->p);
    ws->p = NULL;
    ws->cap = 0;
}

/* Lanes of hc_nn_linear_out_train: runs of consecutive chunks, each on one thread, adding
 * their shares of dX into one partial product (fixed by the chunk count, not the threads). */
#define OUT_LANES 8

int hc_nn_linear_out_train(int32_t n, int32_t in, int32_t out, const float *X, const float *W,
                           const float *b, float *dX, double *total, int32_t chunk,
                           hc_nn_chunk_loss loss, hc_nn_chunk_step step, void *ctx, hc_nn_ws *ws)
{
    const int32_t nch = (out + chunk - 1) / chunk, threads = omp_get_max_threads();
    const int32_t lanes = nch < OUT_LANES ? nch : OUT_LANES;
    /* per thread: the chunk's Y (n x chunk), dW (chunk x in), db (chunk) */
    const size_t per_thread = (size_t)chunk * (size_t)(n + in + 1);
    const size_t part = dX ? (size_t)lanes * (size_t)n * (size_t)in : 0;
    int rc = hc_nn_ws_reserve(ws, (size_t)nch * sizeof(double) +
                                      ((size_t)threads * per_thread + part) * sizeof(float));
    if (rc)
        return rc;
    float *parts = ws->p, *scr = parts + part;
    double *closs = (double *)(scr + (size_t)threads * per_thread);
#pragma omp parallel
    {
        float *Y = scr + (size_t)omp_get_thread_num() * per_thread;
        float *dW = Y + (size_t)n * chunk, *db = dW + (size_t)chunk * in;
#pragma omp for schedule(dynamic, 1)
        for (int32_t l = 0; l < lanes; l++) {
            const int32_t q0 = (int32_t)((int64_t)nch * l / lanes);
            const int32_t q1 = (int32_t)((int64_t)nch * (l + 1) / lanes);
            for (int32_t q = q0; q < q1; q++) {
                const int32_t r0 = q * chunk, nr = out - r0 < chunk ? out - r0 : chunk;
                const float *Wc = W + (int64_t)r0 * in;
                hc_nn_linear_chunk_fwd(n, in, nr, X, Wc, b ? b + r0 : NULL, Y);
                closs[q] = loss(ctx, r0, nr, Y);
                if (dX) /* the chunk's share of dY W, from W's rows before the step */
                    hc_sgemm(0, 0, n, in, nr, 1.0f, Y, nr, Wc, in, q > q0 ? 1.0f : 0.0f,
                             parts + (size_t)l * n * in, in);
                hc_sgemm(1, 0, nr, in, n, 1.0f, Y, nr, X, in, 0.0f, dW, in);
                colsum(n, nr, Y, db, 0.0f);
                step(ctx, r0, nr, dW, db);
            }
        }
        /* dX: the lanes' partial products summed in lane order, row by row */
        if (dX) {
#pragma omp for schedule(static)
            for (int32_t r = 0; r < n; r++) {
                float *d = dX + (int64_t)r * in;
                memcpy(d, parts + (size_t)r * in, (size_t)in * sizeof(float));
                for (int32_t l = 1; l < lanes; l++) {
                    const float *pl = parts + ((size_t)l * n + r) * in;
#pragma omp simd
                    for (int32_t j = 0; j < in; j++)
                        d[j] += pl[j];
                }
            }
        }
    }
    double sum = 0.0;
    for (int32_t q = 0; q < nch; q++)
        sum += closs[q];
    *total = sum;
    return HC_OK;
}

void hc_nn_sparse_linear_fwd(const hc_nn_sparse *x, int32_t out, const float *Wt, const float *b,
                             float *Y)
{
#pragma omp parallel for schedule(static) if ((int64_t)x->n * out > PAR_MIN)
    for (int32_t r = 0; r < x->n; r++) {
        float *y = Y + (int64_t)r * out;
        if (b)
            memcpy(y, b, (size_t)out * sizeof *y);
        else
            memset(y, 0, (size_t)out * sizeof *y);
        for (int64_t k = x->ptr[r]; k < x->ptr[r + 1]; k++) {
            const float *w = Wt + (int64_t)x->col[k] * out;
            const float v = x->val[k];
#pragma omp simd
            for (int32_t c = 0; c < out; c++)
                y[c] += v * w[c];
        }
    }
}

void hc_nn_sparse_linear_bwd(const hc_nn_sparse *x, int32_t out, const float *dY, float *dWt,
                             float *db, float beta)
{
    /* entries of different rows may share a column: scatter in entry order, one thread */
    for (int32_t r = 0; r < x->n; r++) {
        const float *dy = dY + (int64_t)r * out;
        for (int64_t k = x->ptr[r]; k < x->ptr[r + 1]; k++) {
            float *w = dWt + (int64_t)x->col[k] * out;
            const float v = x->val[k];
#pragma omp simd
            for (int32_t c = 0; c < out; c++)
                w[c] += v * dy[c];
        }
    }
    if (db)
        colsum(x->n, out, dY, db, beta);
}

void hc_nn_act_fwd(hc_act a, int64_t n, const float *x, float *y)
{
    switch (a) {
    case HC_ACT_RELU:
#pragma omp parallel for simd schedule(static) if (n > PAR_MIN)
        for (int64_t k = 0; k < n; k++)
            y[k] = x[k] > 0.0f ? x[k] : 0.0f;
        break;
    case HC_ACT_TANH:
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
        for (int64_t k = 0; k < n; k++)
            y[k] = tanhf(x[k]);
        break;
    case HC_ACT_SIGMOID:
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
        for (int64_t b = 0; b < (n + EW_BLOCK - 1) / EW_BLOCK; b++) {
            int64_t k0 = b * EW_BLOCK;
            sigmoid_block(n - k0 < EW_BLOCK ? n - k0 : EW_BLOCK, x + k0, y + k0);
        }
        break;
    }
}

void hc_nn_act_bwd(hc_act a, int64_t n, const float *y, const float *dy, float *dx)
{
    switch (a) {
    case HC_ACT_RELU:
#pragma omp parallel for simd schedule(static) if (n > PAR_MIN)
        for (int64_t k = 0; k < n; k++)
            dx[k] = y[k] > 0.0f ? dy[k] : 0.0f;
        break;
    case HC_ACT_TANH:
#pragma omp parallel for simd schedule(static) if (n > PAR_MIN)
        for (int64_t k = 0; k < n; k++)
            dx[k] = dy[k] * (1.0f - y[k] * y[k]);
        break;
    case HC_ACT_SIGMOID:
#pragma omp parallel for simd schedule(static) if (n > PAR_MIN)
        for (int64_t k = 0; k < n; k++)
            dx[k] = dy[k] * y[k] * (1.0f - y[k]);
        break;
    }
}

void hc_nn_dropout_mask(hc_rng *r, int64_t n, float p, float *mask)
{
    if (p <= 0.0f) {
        for (int64_t k = 0; k < n; k++)
            mask[k] = 1.0f;
        return;
    }
    const float keep = 1.0f / (1.0f - p);
    for (int64_t k = 0; k < n; k++)
        mask[k] = hc_rng_float(r) < p ? 0.0f : keep;
}

void hc_nn_dropout_fwd(int64_t n, const float *x, const float *mask, float *y)
{
#pragma omp parallel for simd schedule(static) if (n > PAR_MIN)
    for (int64_t k = 0; k < n; k++)
        y[k] = x[k] * mask[k];
}

void hc_nn_dropout_bwd(int64_t n, const float *dy, const float *mask, float *dx)
{
    hc_nn_dropout_fwd(n, dy, mask, dx);
}

/* Maximum of a row. */
HC_CLONES static float row_max(int32_t cols, const float *x)
{
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int32_t c = 0; c < cols; c++)
        mx = x[c] > mx ? x[c] : mx;
    return mx;
}

/* y = exp(x - mx) over n entries (y may be x, or NULL for the sum alone), returning their
 * sum: eight lanes, summed in lane order, then the tail. */
HC_CLONES static float exp_sum(int32_t n, const float *x, float mx, float *y)
{
    v8f acc = v8_splat(0.0f);
    int32_t c = 0;
    for (; c + 8 <= n; c += 8) {
        const v8f e = v8_exp(v8_load(x + c) - mx);
        if (y)
            v8_store(y + c, e);
        acc += e;
    }
    float s = v8_sum(acc);
    for (; c < n; c++) {
        const float e = hc_nn_expf(x[c] - mx);
        if (y)
            y[c] = e;
        s += e;
    }
    return s;
}

HC_CLONES static void row_scale(int32_t n, float *y, float a)
{
    for (int32_t c = 0; c < n; c++)
        y[c] *= a;
}

float hc_nn_max(int32_t n, const float *x)
{
    return row_max(n, x);
}

float hc_nn_exp_shift_sum(int32_t n, const float *x, float shift, float *y)
{
    return exp_sum(n, x, shift, y);
}

void hc_nn_softmax_row(int32_t cols, const float *x, float *y, float scale, float *lse)
{
    float mx = row_max(cols, x), s = exp_sum(cols, x, mx, y);
    row_scale(cols, y, scale / s);
    if (lse)
        *lse = mx + logf(s);
}

void hc_nn_softmax_rows(int32_t n, int32_t cols, const float *x, float *y, float *lse)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * cols > PAR_MIN)
    for (int32_t r = 0; r < n; r++)
        hc_nn_softmax_row(cols, x + (int64_t)r * cols, y + (int64_t)r * cols, 1.0f,
                          lse ? lse + r : NULL);
}

void hc_nn_softmax_bwd(int32_t n, int32_t cols, const float *y, const float *dy, float *dx)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * cols > PAR_MIN)
    for (int32_t r = 0; r < n; r++) {
        const float *yr = y + (int64_t)r * cols, *gr = dy + (int64_t)r * cols;
        float *dr = dx + (int64_t)r * cols;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int32_t c = 0; c < cols; c++)
            dot += yr[c] * gr[c];
#pragma omp simd
        for (int32_t c = 0; c < cols; c++)
            dr[c] = yr[c] * (gr[c] - dot);
    }
}

void hc_nn_log_softmax_rows(int32_t n, int32_t cols, const float *x, float *y)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * cols > PAR_MIN)
    for (int32_t r = 0; r < n; r++) {
        const float *xr = x + (int64_t)r * cols;
        float *yr = y + (int64_t)r * cols;
        float mx = row_max(cols, xr), l = mx + logf(exp_sum(cols, xr, mx, NULL));
#pragma omp simd
        for (int32_t c = 0; c < cols; c++)
            yr[c] = xr[c] - l;
    }
}

void hc_nn_log_softmax_bwd(int32_t n, int32_t cols, const float *y, const float *dy, float *dx)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * cols > PAR_MIN)
    for (int32_t r = 0; r < n; r++) {
        const float *yr = y + (int64_t)r * cols, *gr = dy + (int64_t)r * cols;
        float *dr = dx + (int64_t)r * cols;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int32_t c = 0; c < cols; c++)
            s += gr[c];
        for (int32_t c = 0; c < cols; c++)
            dr[c] = gr[c] - hc_nn_expf(yr[c]) * s;
    }
}

void hc_nn_l2norm_rows(int32_t n, int32_t cols, const float *x, float *y, float *norm)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * cols > PAR_MIN)
    for (int32_t r = 0; r < n; r++) {
        const float *xr = x + (int64_t)r * cols;
        float *yr = y + (int64_t)r * cols;
        float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
        for (int32_t c = 0; c < cols; c++)
            sq += xr[c] * xr[c];
        float nr = sqrtf(sq), inv = 1.0f / (nr > HC_NN_NORM_EPS ? nr : HC_NN_NORM_EPS);
        if (norm)
            norm[r] = nr;
#pragma omp simd
        for (int32_t c = 0; c < cols; c++)
            yr[c] = xr[c] * inv;
    }
}

void hc_nn_l2norm_bwd(int32_t n, int32_t cols, const float *y, const float *norm, const float *dy,
                      float *dx)
{
#pragma omp parallel for schedule(static) if ((int64_t)n * cols > PAR_MIN)
    for (int32_t r = 0; r < n; r++) {
        const float *yr = y + (int64_t)r * cols, *gr = dy + (int64_t)r * cols;
        float *dr = dx + (int64_t)r * cols;
        if (!(norm[r] > HC_NN_NORM_EPS)) { /* the clamp is active: y = x / eps, linear */
            for (int32_t c = 0; c < cols; c++)
                dr[c] = gr[c] / HC_NN_NORM_EPS;
            continue;
        }
        float dot = 0.0f, inv = 1.0f / norm[r];
#pragma omp simd reduction(+ : dot)
        for (int32_t c = 0; c < cols; c++)
            dot += yr[c] * gr[c];
#pragma omp simd
        for (int32_t c = 0; c < cols; c++)
            dr[c] = (gr[c] - yr[c] * dot) * inv;
    }
}

/* BCE with logits on eight entries: the gradient scale (sigmoid(z) - t) into dz (which may
 * be z), the loss's linear part max(z, 0) - t z added to *lin; returns the log part's
 * arguments 1 + e^-|z|, in (1, 2]. t may be NULL (all targets 0). */
/* sigmoid(z) of eight entries, from e^-|z| (so that it never overflows); *o = 1 + e^-|z|. */
V8 v8f sigm8(v8f zv, v8i pos, v8f *o)
{
    const v8f e = v8_exp(v8_select(pos, -zv, zv)), s = 1.0f / (*o = 1.0f + e);
    return v8_select(pos, s, e * s);
}

V8 v8f bce8(const float *z, const float *t, float scale, float *dz, v8f *lin)
{
    const v8f zv = v8_load(z);
    const v8i pos = zv >= 0.0f;
    v8f o, g = sigm8(zv, pos, &o), l = (v8f)(pos & (v8i)zv);
    if (t) {
        const v8f tv = v8_load(t);
        g -= tv;
        l -= tv * zv;
    }
    v8_store(dz, scale * g);
    *lin += l;
    return o;
}

/* The same on one entry (the tail); the log part's argument multiplies *prod. */
static inline float bce1(float z, float t, float scale, float *dz, float *prod)
{
    *dz = scale * (hc_nn_sigmoidf(z) - t);
    *prod *= 1.0f + hc_nn_expf(z < 0.0f ? z : -z);
    return (z > 0.0f ? z : 0.0f) - t * z;
}

/* log p = e ln 2 + log1p(m - 1) for p = m 2^e, m in [1, 2) (p >= 1). */
static float log_ge1(float p)
{
    uint32_t bits;
    memcpy(&bits, &p, sizeof bits);
    const float e = (float)((int32_t)(bits >> 23) - 127);
    bits = (bits & 0x7fffffu) | 0x3f800000u;
    float m;
    memcpy(&m, &bits, sizeof m);
    return e * 0.693147180559945309f + hc_nn_log1p_unit(m - 1.0f);
}

/* Entries per block of hc_nn_bce_logits: the log part of a block is the log of 16 lanes'
 * products of 16 factors in (1, 2] each (at most 2^16: no overflow), one log per 16 entries
 * instead of one each. */
#define BCE_BLOCK 256

HC_CLONES double hc_nn_bce_logits(int64_t n, const float *z, const float *y, float scale, float *dz)
{
    double loss = 0.0;
    int64_t k = 0;
    while (k + 16 <= n) {
        const int64_t end = k + BCE_BLOCK < n ? k + BCE_BLOCK : n;
        v8f p0 = v8_splat(1.0f), p1 = p0, lin = v8_splat(0.0f);
        for (; k + 16 <= end; k += 16) {
            p0 *= bce8(z + k, y ? y + k : NULL, scale, dz + k, &lin);
            p1 *= bce8(z + k + 8, y ? y + k + 8 : NULL, scale, dz + k + 8, &lin);
        }
        float lg = 0.0f;
        for (int j = 0; j < 8; j++)
            lg += log_ge1(p0[j]) + log_ge1(p1[j]);
        loss += (double)v8_sum(lin) + (double)lg;
    }
    float prod = 1.0f, lin = 0.0f; /* under 16 entries left: a product below 2^16 */
    for (; k < n; k++)
        lin += bce1(z[k], y ? y[k] : 0.0f, scale, dz + k, &prod);
    return loss + (double)lin + (double)log_ge1(prod);
}

/* log(o) for o in (1, 2] on eight lanes: hc_nn_log1p_unit's series on o - 1. */
V8 v8f v8_log_12(v8f o)
{
    const v8f u = (o - 1.0f) / (o + 1.0f), u2 = u * u;
    v8f p = v8_splat(1.0f / 13.0f);
    p = p * u2 + 1.0f / 11.0f;
    p = p * u2 + 1.0f / 9.0f;
    p = p * u2 + 1.0f / 7.0f;
    p = p * u2 + 1.0f / 5.0f;
    p = p * u2 + 1.0f / 3.0f;
    p = p * u2 + 1.0f;
    return 2.0f * u * p;
}

HC_CLONES double hc_nn_bce0_weighted(int64_t n, const float *z, const float *w, float scale,
                                     float *dz)
{
    v8f acc = v8_splat(0.0f);
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        const v8f zv = v8_load(z + k), wv = v8_load(w + k);
        const v8i pos = zv >= 0.0f;
        v8f o, g = sigm8(zv, pos, &o);
        v8_store(dz + k, scale * wv * g);
        acc += wv * ((v8f)(pos & (v8i)zv) + v8_log_12(o));
    }
    float tail = 0.0f;
    for (; k < n; k++) {
        const float zk = z[k];
        tail += w[k] * hc_nn_softplusf(zk);
        dz[k] = scale * w[k] * hc_nn_sigmoidf(zk);
    }
    return (double)v8_sum(acc) + (double)tail;
}

double hc_nn_mult_nll(int32_t cols, const float *z, const float *y, float *dz)
{
    float mx = row_max(cols, z), s = exp_sum(cols, z, mx, NULL), ty = 0.0f;
    for (int32_t c = 0; c < cols; c++)
        ty += y[c];
    float lse = mx + logf(s), inv = 1.0f / s;
    double loss = 0.0;
    for (int32_t c = 0; c < cols; c++) {
        float zc = z[c];
        loss += (double)(y[c] * (lse - zc));
        dz[c] = hc_nn_expf(zc - mx) * inv * ty - y[c];
    }
    return loss;
}

void hc_nn_init_uniform(hc_rng *r, float *w, int64_t n, float bound)
{
    for (int64_t k = 0; k < n; k++)
        w[k] = bound * (2.0f * hc_rng_float(r) - 1.0f);
}

void hc_nn_init_xavier(hc_rng *r, float *w, int64_t n, int32_t fan_in, int32_t fan_out)
{
    hc_nn_init_uniform(r, w, n, sqrtf(6.0f / (float)(fan_in + fan_out)));
}

void hc_nn_init_normal(hc_rng *r, float *w, int64_t n, float std)
{
    for (int64_t k = 0; k < n; k++)
        w[k] = std * (float)hc_rng_normal(r);
}
