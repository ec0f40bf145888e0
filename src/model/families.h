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

#endif
