/*
 * rd.c - RD, ranking distillation (Tang & Wang, KDD'18), docs/method.md §10.2: the student's
 * scores of the final-checkpoint ensemble's top rd_k items are pushed up pointwise,
 *   L(u) = sum_{r=1..K} w_r (-log sigmoid(s_{u, pi_r})),  w_r = w^a_r w^b_r,
 * w^a_r = exp(-r / lambda) / sum_{r'} exp(-r' / lambda) (position importance) and, from
 * epoch rd_start on, w^b_r = max(0, tanh(mu (rhat_r - (r - 1)))) with rhat_r the student's
 * rank of pi_r estimated from rd_samples unobserved items drawn per user and epoch:
 * floor((n_items - 1) #{sampled scored above pi_r} / rd_samples). The weights are constants
 * of the loss (no renormalisation, as the RD authors' code). Added to BPR with weight alpha.
 */
#include <math.h>

#include "distill/kdbase.h"
#include "nn/layers.h"

void hc_kd_rd_weights(int32_t n, int32_t K, float lambda, float mu, int dynamic, const int32_t *cnt,
                      int32_t n_samples, int32_t n_items, float *w)
{
    double z = 0.0;
    for (int32_t r = 1; r <= K; r++)
        z += exp(-(double)r / (double)lambda);
    for (int32_t r = 1; r <= n; r++) {
        double wa = exp(-(double)r / (double)lambda) / z, wb = 1.0;
        if (dynamic) {
            double rhat = floor((double)(n_items - 1) * cnt[r - 1] / (double)n_samples);
            wb = tanh((double)mu * (rhat - (double)(r - 1)));
            wb = wb > 0.0 ? wb : 0.0;
        }
        w[r - 1] = (float)(wa * wb);
    }
}

static int rd_init(hc_kd *kd)
{
    const hc_distill_opts *o = &kd->base.ctx->opts;
    if (o->rd_k < 1 || o->rd_samples < 1 || !(o->rd_lambda > 0.0f) || o->rd_mu < 0.0f)
        return hc_error(HC_EINVAL,
                        "rd: need rd_k >= 1, rd_samples >= 1, rd_lambda > 0 and rd_mu >= 0");
    kd->lambda = o->rd_alpha;
    kd->tcap = o->rd_k < kd->K ? o->rd_k : kd->K; /* lists hold at most K items */
    kd->buf_cap = 2 * kd->tcap;
    return HC_OK;
}

static int rd_target(hc_kd *kd, int side, int32_t u, hc_kd_scratch *s, hc_kd_target *t)
{
    (void)side;
    const hc_distill_opts *o = &kd->base.ctx->opts;
    const int32_t *T = kd->T + (int64_t)u * kd->K;
    const hc_csr *train = &kd->ds->train;
    int32_t n = kd->nT[u] < o->rd_k ? kd->nT[u] : o->rd_k;
    int dynamic = kd->epoch >= o->rd_start;
    int32_t *cnt = s->ibuf;
    float *st = s->fbuf, *w = s->fbuf + kd->tcap;
    for (int32_t r = 0; r < n; r++) {
        cnt[r] = 0;
        st[r] = hc_kd_score(kd, u, T[r]);
    }
    if (dynamic && hc_csr_row_len(train, u) < kd->I) {
        hc_rng rng;
        hc_kd_rng(kd, 1, kd->epoch, u, &rng);
        for (int32_t q = 0; q < o->rd_samples; q++) {
            float sj = hc_kd_score(kd, u, hc_sample_negative(train, u, &rng));
            for (int32_t r = 0; r < n; r++)
                cnt[r] += sj > st[r];
        }
    }
    hc_kd_rd_weights(n, o->rd_k, o->rd_lambda, o->rd_mu, dynamic, cnt, o->rd_samples, kd->I, w);
    for (int32_t r = 0; r < n; r++)
        hc_kd_push(t, u, T[r], w[r], 0.0f);
    hc_kd_close_part(t);
    return HC_OK;
}

/* sum_k w_k softplus(-s_k), d/ds_k = -w_k sigmoid(-s_k). */
static double rd_loss(const hc_kd *kd, const hc_kd_target *t, const float *s, float *g)
{
    (void)kd;
    double loss = 0.0;
    for (int32_t k = 0; k < t->n; k++) {
        loss += (double)(t->w[k] * hc_nn_softplusf(-s[k]));
        g[k] -= t->w[k] * hc_nn_sigmoidf(-s[k]);
    }
    return loss;
}

static const hc_kd_method rd_method = {
    .name = "rd",
    .sides = HC_KD_USERS,
    .init = rd_init,
    .target = rd_target,
    .loss = rd_loss,
};

HC_KD_DISTILLER(rd, "RD: BPR + weighted pointwise loss on the ensemble's top items", sizeof(hc_kd),
                rd_method, 1);
