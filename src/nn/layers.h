/*
 * layers.h - small dense-network layers on row-major batches, each with its backward pass,
 * for the neural teachers (NeuMF, Mult-DAE/VAE, item autoencoder).
 *
 * Conventions: a batch is n rows; an n x k activation is row-major with leading dimension k.
 * A dense layer's weight W is out x in (PyTorch's nn.Linear layout), so Y = X W^T + b. A
 * sparse (CSR) input layer keeps its weight transposed, in x out, so that one input entry
 * reads one contiguous row. Backward functions take the upstream gradient dY and return dX;
 * parameter gradients are written (beta = 0) or accumulated (beta = 1). Unless a function
 * says otherwise, its output may alias its input (in-place use is allowed).
 *
 * Determinism: every reduction runs in a fixed order (column sums over rows in row order,
 * sparse scatters in entry order), so results do not depend on the OpenMP thread count.
 * Products go through src/dense/blas.h.
 */
#ifndef HC_NN_LAYERS_H
#define HC_NN_LAYERS_H

#include <stdint.h>

#include "dense/vec.h"
#include "core/internal.h"

typedef enum { HC_ACT_RELU = 0, HC_ACT_TANH, HC_ACT_SIGMOID } hc_act;

/* ---------------------------------------------------------------- products */

/* C = alpha op(A) op(B) + beta C (hc_sgemm's arguments, row-major), computed in fixed tiles
 * of C (and, when C has few tiles and k is long, fixed chunks of k summed in chunk order),
 * each tile a single-threaded BLAS call, the tiles spread over OpenMP threads. The tiling
 * does not depend on the thread count, so neither does the result (a multithreaded BLAS
 * call's rounding does). HC_ENOMEM when the k-chunk partial sums cannot be allocated. */
int hc_nn_gemm(int trans_a, int trans_b, int32_t m, int32_t n, int32_t k, float alpha,
               const float *A, int32_t lda, const float *B, int32_t ldb, float beta, float *C,
               int32_t ldc);

/* ---------------------------------------------------------------- dense linear layer */

/* Y = X W^T + b: X n x in, W out x in, b out (NULL: no bias), Y n x out (no aliasing).
 * Products by hc_nn_gemm; the linear functions return its status. */
int hc_nn_linear_fwd(int32_t n, int32_t in, int32_t out, const float *X, const float *W,
                     const float *b, float *Y);
/* Y = X Wc^T + bc for one chunk of nr output units (Wc: the chunk's nr x in rows of W, bc its
 * nr biases or NULL; Y n x nr), on the calling thread: for the fused output layers, which run
 * chunks in parallel themselves. */
void hc_nn_linear_chunk_fwd(int32_t n, int32_t in, int32_t nr, const float *X, const float *Wc,
                            const float *bc, float *Y);
/* Backward of hc_nn_linear_fwd given dY (n x out):
 *   dX = dY W                  (n x in; skipped when dX is NULL; no aliasing)
 *   dW = beta dW + dY^T X      (out x in; skipped when NULL)
 *   db = beta db + colsum(dY)  (out; skipped when NULL). beta is 0 or 1. */
int hc_nn_linear_bwd(int32_t n, int32_t in, int32_t out, const float *X, const float *W,
                     const float *dY, float *dX, float *dW, float *db, float beta);

/* ---------------------------------------------------------------- fused output layer
 *
 * A wide output layer (thousands to tens of thousands of units: the autoencoders' decoders)
 * trained in as few parallel regions as possible, each range of output units finished while
 * it is in cache, its gradient ready for an optimiser step at once. Scratch comes from a
 * caller-owned workspace so that steps do not allocate. */

/* A growable scratch buffer (zeroed struct = empty). */
typedef struct {
    void *p;
    size_t cap;
} hc_nn_ws;
/* Makes ws hold at least bytes bytes (contents not kept). HC_ENOMEM on failure. */
int hc_nn_ws_reserve(hc_nn_ws *ws, size_t bytes);
void hc_nn_ws_free(hc_nn_ws *ws);

/* Receives chunk [r0, r0 + nr) of the output units with its weight gradient dW (nr x in) and
 * bias gradient db (nr); may update those rows of W and entries of b. */
typedef void (*hc_nn_chunk_step)(void *ctx, int32_t r0, int32_t nr, const float *dW,
                                 const float *db);
/* An elementwise loss on chunk [r0, r0 + nr) of the output units: Y (n x nr, leading
 * dimension nr) holds the chunk's outputs for every row; the function replaces them in place
 * by dL/dY and returns the chunk's loss. */
typedef double (*hc_nn_chunk_loss)(void *ctx, int32_t r0, int32_t nr, float *Y);
/* One training pass of Y = X W^T + b (X n x in, W out x in, b out or NULL) under a loss that
 * is a sum over the entries of Y, in one parallel region over fixed chunks of `chunk` output
 * units. Per chunk, on one thread: the chunk's Y, loss(Y) into dY, the chunk's share of
 * dX = dY W from its rows of W before the step, dW = dY^T X, db = colsum(dY), step. The
 * n x out output is never formed. *total = the chunks' losses summed in chunk order; dX
 * (n x in, may be NULL) the chunks' shares summed over fixed runs of consecutive chunks, then
 * over the runs in order: neither depends on the thread count. Scratch: ws. */
int hc_nn_linear_out_train(int32_t n, int32_t in, int32_t out, const float *X, const float *W,
                           const float *b, float *dX, double *total, int32_t chunk,
                           hc_nn_chunk_loss loss, hc_nn_chunk_step step, void *ctx, hc_nn_ws *ws);

/* ---------------------------------------------------------------- sparse input layer */

/* A batch of sparse input rows: row r holds entries k in [ptr[r], ptr[r+1]) with column
 * col[k] and value val[k]. */
typedef struct {
    int32_t n;
    const int64_t *ptr;
    const int32_t *col;
    const float *val;
} hc_nn_sparse;

/* Y[r] = b + sum_k val[k] Wt[col[k]] for row r's entries: Wt is in x out (one row per input
 * column), b out (NULL: none), Y n x out. The product of a CSR batch with W^T, never a dense
 * input vector. */
void hc_nn_sparse_linear_fwd(const hc_nn_sparse *x, int32_t out, const float *Wt, const float *b,
                             float *Y);
/* Backward (the input is data: no dX): dWt[col[k]] += val[k] dY[r] in entry order (only rows
 * named by the batch change: the caller zeroes them), db = beta db + colsum(dY) (NULL:
 * skipped). */
void hc_nn_sparse_linear_bwd(const hc_nn_sparse *x, int32_t out, const float *dY, float *dWt,
                             float *db, float beta);

/* ---------------------------------------------------------------- activations */

/* y = act(x), n entries. relu(x) = max(x, 0), tanh, sigmoid(x) = 1 / (1 + e^-x). */
void hc_nn_act_fwd(hc_act a, int64_t n, const float *x, float *y);
/* dx = dy * act'(x) written in terms of the forward OUTPUT y: relu' = [y > 0],
 * tanh' = 1 - y^2, sigmoid' = y (1 - y). dx may alias dy. */
void hc_nn_act_bwd(hc_act a, int64_t n, const float *y, const float *dy, float *dx);

/* ---------------------------------------------------------------- dropout */

/* Inverted dropout: mask[k] = 0 with probability p, else 1 / (1 - p), drawn in order from r
 * (one hc_rng_float per entry; p = 0 gives all ones and draws nothing). 0 <= p < 1. */
void hc_nn_dropout_mask(hc_rng *r, int64_t n, float p, float *mask);
/* y = x * mask (forward) and dx = dy * mask (backward). */
void hc_nn_dropout_fwd(int64_t n, const float *x, const float *mask, float *y);
void hc_nn_dropout_bwd(int64_t n, const float *dy, const float *mask, float *dx);

/* ---------------------------------------------------------------- row softmax */

/* y = softmax(x) per row of an n x cols matrix; lse[r] (may be NULL) receives the row's
 * log-sum-exp, max + log(sum exp(x - max)). */
void hc_nn_softmax_rows(int32_t n, int32_t cols, const float *x, float *y, float *lse);
/* One row: y = scale * softmax(x) (y may alias x); *lse (may be NULL) as above. */
void hc_nn_softmax_row(int32_t cols, const float *x, float *y, float scale, float *lse);
/* dx = y * (dy - <dy, y>) per row, y the softmax output. */
void hc_nn_softmax_bwd(int32_t n, int32_t cols, const float *y, const float *dy, float *dx);
/* y = x - logsumexp(x) per row. */
void hc_nn_log_softmax_rows(int32_t n, int32_t cols, const float *x, float *y);
/* dx = dy - exp(y) * sum(dy) per row, y the log-softmax output. */
void hc_nn_log_softmax_bwd(int32_t n, int32_t cols, const float *y, const float *dy, float *dx);

/* ---------------------------------------------------------------- L2 row normalisation */

#define HC_NN_NORM_EPS 1e-12f

/* y = x / max(||x||, eps) per row (torch F.normalize); norm[r] (may be NULL) receives ||x_r||. */
void hc_nn_l2norm_rows(int32_t n, int32_t cols, const float *x, float *y, float *norm);
/* Backward given the output y and the norms: with s = max(||x||, eps),
 * dx = (dy - y <y, dy>) / s when ||x|| > eps, else dy / eps. */
void hc_nn_l2norm_bwd(int32_t n, int32_t cols, const float *y, const float *norm, const float *dy,
                      float *dx);

/* ---------------------------------------------------------------- losses */

/* Binary cross-entropy with logits over n entries, summed:
 *   loss = sum_k softplus(z_k) - y_k z_k,  dz_k = scale * (sigmoid(z_k) - y_k).
 * y NULL means all targets 0. dz may alias z. Returns the loss (accumulated in double). */
double hc_nn_bce_logits(int64_t n, const float *z, const float *y, float scale, float *dz);
/* Importance-weighted BCE with every target 0 (a sampled loss's negatives, docs/teachers.md
 * §2.2): loss = sum_k w_k softplus(z_k), dz_k = scale * w_k * sigmoid(z_k); dz may alias z.
 * Vectorised; the loss is summed in float lanes per call (calls of a few hundred entries). */
double hc_nn_bce0_weighted(int64_t n, const float *z, const float *w, float scale, float *dz);
/* Multinomial negative log-likelihood of one row: loss = -sum_k y_k log_softmax(z)_k. */
double hc_nn_mult_nll(int32_t cols, const float *z, const float *y, float *dz);

/* ---------------------------------------------------------------- init and vector math */

/* Xavier (Glorot) uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)), n entries from r. */
void hc_nn_init_xavier(hc_rng *r, float *w, int64_t n, int32_t fan_in, int32_t fan_out);
/* U(-a, a) with a = bound. */
void hc_nn_init_uniform(hc_rng *r, float *w, int64_t n, float bound);
/* N(0, std^2). */
void hc_nn_init_normal(hc_rng *r, float *w, int64_t n, float std);

/* y = exp(x - shift) over n entries, returning their sum (vectorised; y may alias x). */
float hc_nn_exp_shift_sum(int32_t n, const float *x, float shift, float *y);
/* max of n entries (-INFINITY when n = 0) (vectorised). */
float hc_nn_max(int32_t n, const float *x);

/* exp(x) by the project's one formula (hc_exp_core, dense/vec.h) on x clamped to [-87.3, 88.3]:
 * relative error below 3e-7 on [-87, 88]; it returns about 1.2e-38 for anything smaller
 * instead of the tiny or zero true value. NaN clamps to the low end (the comparison is false
 * for it): converting NaN to an integer would be undefined. Written without branches or
 * calls, so loops over it vectorise. */
static inline float hc_nn_expf(float x)
{
    x = x > -87.3f ? x : -87.3f;
    x = x < 88.3f ? x : 88.3f;
    return hc_exp_core(x);
}

/* log(1 + t) for t in [0, 1]: 2 atanh(u) with u = t / (2 + t) <= 1/3, series to u^13
 * (relative error below 2e-8 before rounding). */
static inline float hc_nn_log1p_unit(float t)
{
    float u = t / (2.0f + t), u2 = u * u;
    float p = 1.0f / 13.0f;
    p = p * u2 + 1.0f / 11.0f;
    p = p * u2 + 1.0f / 9.0f;
    p = p * u2 + 1.0f / 7.0f;
    p = p * u2 + 1.0f / 5.0f;
    p = p * u2 + 1.0f / 3.0f;
    p = p * u2 + 1.0f;
    return 2.0f * u * p;
}

/* softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), without overflow. */
static inline float hc_nn_softplusf(float x)
{
    float ax = x < 0.0f ? -x : x;
    return (x > 0.0f ? x : 0.0f) + hc_nn_log1p_unit(hc_nn_expf(-ax));
}

/* sigmoid(x) = 1 / (1 + e^-x), from e^-|x| so that it never overflows. */
static inline float hc_nn_sigmoidf(float x)
{
    float ax = x < 0.0f ? -x : x;
    float e = hc_nn_expf(-ax), s = 1.0f / (1.0f + e);
    return x >= 0.0f ? s : e * s;
}

#endif
