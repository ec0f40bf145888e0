/*
 * softmax_out.h - a linear output layer under a multinomial (softmax) likelihood, its forward
 * and backward passes fused for training (the Mult-DAE/VAE decoder, docs/method.md §2).
 *
 * For a batch of n rows with inputs X (n x in), weight W (out x in) and bias b:
 *   z_r = W x_r + b,  lse_r = log sum_i exp(z_ri),  t_r = the row's targets (a set of units),
 *   loss = scale * sum_r ( |t_r| lse_r - sum_{i in t_r} z_ri ),
 *   dL/dz_ri = scale * ( |t_r| softmax(z_r)_i - [i in t_r] ).
 * The logits are never turned into the gradient in place. Pass 1 runs over fixed chunks of
 * output units: z on the chunk, its per-row max m, E = exp(z - m) stored over the logits, and
 * G = E W[chunk] (n x in) while W's chunk is in cache. Between the passes, per row, the
 * chunks' (m, sum E) give lse, and dX = sum over chunks of c_r G - scale sum_{i in t_r} W_i
 * with c_r = scale |t_r| exp(m - lse). Pass 2 runs over the same chunks: dW = E^T (c X) and
 * db = E^T c, minus the targets' share, then the caller's step on the chunk (which may update
 * W's rows: dX was taken from W before any step). Three products of n x in x out, one exp
 * per logit. Training pipelines the passes across batches (hc_nn_softmax_out_step): batch
 * t's pass 2 runs in the same parallel region as batch t + 1's pass 1, chunk by chunk, so
 * each chunk of W is read from memory once per batch, for its step, and is still in cache
 * when the next batch's products read it; two parallel regions per batch instead of three.
 * Successive regions walk the chunks in alternating directions, so that each starts on the
 * chunks whose W rows, moments and E blocks the previous one left in cache.
 *
 * Determinism: per-chunk partial results are combined in chunk order, so nothing depends on
 * the OpenMP thread count.
 */
#ifndef HC_NN_SOFTMAX_OUT_H
#define HC_NN_SOFTMAX_OUT_H

#include "nn/layers.h"

typedef struct {
    int32_t n, in, out;  /* batch rows, input width, output units */
    const float *X;      /* n x in */
    const float *W;      /* out x in */
    const float *b;      /* out, or NULL */
    const int64_t *tptr; /* n + 1: row r's targets are tcol[tptr[r] .. tptr[r + 1]), ascending */
    const int32_t *tcol;
    float scale; /* the loss's factor (1 / n for a batch mean) */
} hc_nn_softmax_out;

/* A batch whose pass 2 (weight gradients and steps) is still to run: zeroed struct = none. */
typedef struct {
    int pending;
    int back;            /* the next region walks the chunks last to first */
    hc_nn_softmax_out p; /* the batch, its X and targets pointing at the copies below */
    float *E;            /* where its exponentials are, E's rows and the chunk size */
    int32_t rows, chunk;
    float *X, *c; /* copies of its inputs; the chunks' factors c (chunks x n) */
    int64_t *tptr;
    int32_t *tcol;
    size_t x_cap, c_cap, tptr_cap, tcol_cap;
} hc_nn_softmax_pending;

/* One training step of batch p, pipelined with the previous one: in a single parallel region,
 * per chunk of `chunk` output units, the pending batch's pass 2 with the call
 * step(ctx, r0, nr, dW, db) (which may update those rows of W and b), then p's pass 1 on the
 * same rows of W, now stepped, and the same block of E. Then p's loss into *loss and dX
 * (n x in, may be NULL), as after sequential steps; p becomes the pending batch (its inputs
 * and targets are copied: the caller may reuse them). With p NULL, only the pending pass 2
 * runs (the last batch of an epoch: call it before W is read elsewhere). E (rows x out,
 * rows >= every batch's n) is scratch owned by the pipeline between calls: chunk q's block
 * is E + q chunk rows. Scratch also in ws. HC_ENOMEM on failure, HC_EINVAL when a pending
 * batch was left with another E, rows, chunk or layer shape. */
int hc_nn_softmax_out_step(const hc_nn_softmax_out *p, hc_nn_softmax_pending *pd, float *E,
                           int32_t rows, float *dX, double *loss, int32_t chunk,
                           hc_nn_chunk_step step, void *ctx, hc_nn_ws *ws);
void hc_nn_softmax_pending_free(hc_nn_softmax_pending *pd);

/* One batch unpipelined: the loss into *loss, dX (n x in, may be NULL), and per chunk of
 * `chunk` output units the call step(ctx, r0, nr, dW, db) with that chunk's weight and bias
 * gradients. E (n x out) is scratch (it holds exp(z - m) on return). Scratch also in ws.
 * HC_ENOMEM on failure. */
int hc_nn_softmax_out_train(const hc_nn_softmax_out *p, float *E, float *dX, double *loss,
                            int32_t chunk, hc_nn_chunk_step step, void *ctx, hc_nn_ws *ws);

#endif
