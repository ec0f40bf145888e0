/*
 * mf.c - MF teacher/student: matrix factorisation trained with BPR (Rendle et al. 2009).
 *
 * score(u, i) = <p_u, q_i>.  Per (u, i, j) with j a sampled unobserved item:
 *   x = <p_u, q_i - q_j>,  loss = -log sigma(x) = softplus(-x),
 *   dloss/dx = -sigma(-x),  so  g_u = -sigma(-x) (q_i - q_j),  g_i = -sigma(-x) p_u,
 *   g_j = +sigma(-x) p_u.
 * The loss is summed over the batch (as the reference's BPR sum). Init N(0, 0.01).
 * docs/method.md §2 (MF teacher) and §4 (the student without distillation).
 */
#include <math.h>

#include "model/factor.h"

/* softplus(-x) computed without overflow. */
static float softplus_neg(float x)
{
    return x > 0.0f ? log1pf(expf(-x)) : -x + log1pf(expf(x));
}

float hc_bpr_triple(const float *pu, const float *qi, const float *qj, int32_t d, float margin,
                    float *gu, float *gi, float *gj)
{
    (void)margin;
    float x = 0.0f;
    for (int32_t c = 0; c < d; c++)
        x += pu[c] * (qi[c] - qj[c]);
    float s = 1.0f / (1.0f + expf(x)); /* sigma(-x) */
    for (int32_t c = 0; c < d; c++) {
        gu[c] = -s * (qi[c] - qj[c]);
        gi[c] = -s * pu[c];
        gj[c] = s * pu[c];
    }
    return softplus_neg(x);
}

static void mf_defaults(hc_hparams *hp)
{
    hp->dim = 128;
    hp->batch = 1024;
    hp->negatives = 1;
    hp->lr = 1e-3f;
    hp->reg = 1e-5f;
}

static int mf_init(hc_model *m, const hc_dataset *ds, int load)
{
    (void)ds;
    return hc_factor_init((hc_factor_model *)m, 0.01f, load);
}

static int mf_epoch(hc_model *m, const hc_dataset *ds, int32_t epoch, double *loss)
{
    return hc_factor_epoch((hc_factor_model *)m, ds, epoch, hc_bpr_triple, NULL, loss);
}

static int mf_score(hc_model *m, const int32_t *users, int32_t n, float *out)
{
    return hc_factor_score_dot((hc_factor_model *)m, users, n, out);
}

const hc_model_type hc_model_mf = {
    .name = "mf",
    .title = "matrix factorisation, BPR loss",
    .version = 1,
    .params = "dim lr wd negatives batch init-std seed",
    .size = sizeof(hc_factor_model),
    .defaults = mf_defaults,
    .init = mf_init,
    .train_epoch = mf_epoch,
    .prepare = hc_factor_prepare,
    .score = mf_score,
    .tensors = hc_factor_tensors,
    .shapes = hc_factor_shapes,
    .free_fn = hc_factor_free,
};
