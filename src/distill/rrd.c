/*
 * rrd.c - RRD (Kang et al., CIKM'20), docs/method.md §10.4, as HetComp's comparison runs it: the
 * interesting items are the final-checkpoint ensemble's top rrd_k (at most K) items in rank order
 * (no sampling from a top-500), the uninteresting ones rrd_l items drawn uniformly from the user's
 * unobserved items outside the ensemble's top-K list, redrawn every epoch; the loss is the listwise
 * relaxed ranking loss L(u) = - sum_k [ s_{I_k} - log( sum_{l >= k} exp(s_{I_l}) + sum_{j in J_u}
 * exp(s_j) ) ], added to BPR with weight rrd_lambda over the step's users.
 */
#include "distill/kdbase.h"

int hc_kd_rrd_init(hc_kd *kd, int32_t extra_pairs)
{
    const hc_distill_opts *o = &kd->base.ctx->opts;
    if (o->rrd_k < 1 || o->rrd_l < 0 || o->rrd_l > HC_KD_MAX_LIST)
        return hc_error(HC_EINVAL, "%s: need rrd_k >= 1 and 0 <= rrd_l <= %d", kd->m->name,
                        HC_KD_MAX_LIST);
    kd->tcap = (o->rrd_k < kd->K ? o->rrd_k : kd->K) + o->rrd_l + extra_pairs;
    return HC_OK;
}

void hc_kd_rrd_target(const hc_kd *kd, int32_t u, const int32_t *T, int32_t n_t, hc_kd_scratch *s,
                      hc_kd_target *t)
{
    const hc_distill_opts *o = &kd->base.ctx->opts;
    int32_t n = n_t < o->rrd_k ? n_t : o->rrd_k;
    hc_kd_list_and_rest(kd, u, T, n, T, n_t, o->rrd_l, s, t);
}

static int rrd_init(hc_kd *kd)
{
    kd->lambda = kd->base.ctx->opts.rrd_lambda;
    return hc_kd_rrd_init(kd, 0);
}

static int rrd_target(hc_kd *kd, int side, int32_t u, hc_kd_scratch *s, hc_kd_target *t)
{
    (void)side;
    hc_kd_rrd_target(kd, u, kd->T + (int64_t)u * kd->K, kd->nT[u], s, t);
    return HC_OK;
}

static const hc_kd_method rrd_method = {
    .name = "rrd",
    .sides = HC_KD_USERS,
    .init = rrd_init,
    .target = rrd_target,
    .loss = hc_kd_listwise_loss,
};

HC_KD_DISTILLER(rrd, "RRD: BPR + listwise loss on the ensemble's top list vs sampled rest",
                sizeof(hc_kd), rrd_method, 1);
