/*
 * families.h - entry points of the model families that the tests (gradient checks) and the
 * distillation code reach past the vtable.
 */
#ifndef HC_FAMILIES_H
#define HC_FAMILIES_H

#include "model/model.h"

/* CML's hinge triple loss (ml.c). */
float hc_cml_triple(const float *pu, const float *qi, const float *qj, int32_t d, float margin,
                    float *gu, float *gi, float *gj);

/* LightGCN: the loss of one batch of (user, pos, neg) triples (mean BPR on propagated
 * embeddings + l2/2/B of the ego rows' squared norms) and, in *grad, its gradient with respect
 * to the (U + I) x d ego embeddings (a buffer owned by the model, valid until the next call).
 * Returns NaN and sets *grad NULL on out of memory. */
double hc_gnn_batch_grad(hc_model *m, const hc_dataset *ds, const int32_t *user, const int32_t *pos,
                         const int32_t *neg, int64_t nb, float **grad);
/* LightGCN ego embeddings ((U + I) x d, users first). */
float *hc_gnn_ego(hc_model *m);

/* NeuMF (neumf.c): the summed BCE-with-logits loss of n (user, item, label) rows and its
 * gradient. grads (may be NULL): caller arrays shaped like the family's tensors, in the order
 * tensors() lists them, overwritten with the gradient. NaN on out of memory. */
double hc_dl_batch_grad(hc_model *m, const int32_t *user, const int32_t *item, const float *label,
                        int32_t n, float *const *grads);
/* Mult-DAE / Mult-VAE (vae.c): the loss of the batch users[0..n) (mean over users of the
 * multinomial NLL, + beta x mean KL for the VAE) with the dropout (and VAE noise) drawn from
 * RNG stream `stream`, and its gradient into grads as above (may be NULL). */
double hc_ae_batch_grad(hc_model *m, const hc_dataset *ds, const int32_t *users, int32_t n,
                        uint64_t stream, float beta, float *const *grads);
/* Item autoencoder (iae.c): the loss of the batch items[0..n) (BCE over all users, summed,
 * divided by n) with dropout from stream `stream`, and its gradient into grads (may be NULL). */
double hc_iae_batch_grad(hc_model *m, const hc_dataset *ds, const int32_t *items, int32_t n,
                         uint64_t stream, float *const *grads);

#endif
