/*
 * cldrd.c - CL-DRD, curriculum learning for dense retrieval distillation (Zeng et al.,
 * SIGIR'22), adapted to recommendation as docs/method.md §10.6 says: the list is the
 * final-checkpoint ensemble's top cl_list (30) items; a curriculum of stages, each cl_every
 * epochs, labels the list's first K_c items 1/rank and splits the rest into a "next" group
 * (the first half, label -0.25) and a "far" group (label -0.5), K_c = 5, 10, 20, then all
 * cl_list items ordered (1/rank). The loss is LambdaRank-style, over the pairs with
 * y_a > y_b, mean-reduced per user and summed over the step's users:
 *   L(u) = mean_{y_a > y_b} |1/pos_a - 1/pos_b| log(1 + exp(-(s_a - s_b))),
 * pos the 1-based position in the student's current order of the list (a constant of the
 * loss). Added to BPR with weight cl_lambda.
 */
#include <math.h>

#include "distill/kdbase.h"

/* K_c of the stage an epoch is in (n items in the list). */
static int32_t stage_k(int32_t epoch, int32_t every, int32_t n)
{
    static const int32_t ks[3] = {5, 10, 20};
    int32_t st = epoch / every;
    return st < 3 && ks[st] < n ? ks[st] : n;
}

static int cl_init(hc_kd *kd)
{
    const hc_distill_opts *o = &kd->base.ctx->opts;
    if (o->cl_list < 2 || o->cl_list > HC_KD_MAX_LIST || o->cl_every < 1)
        return hc_error(HC_EINVAL, "cldrd: need 2 <= cl_list <= %d and cl_every >= 1",
                        HC_KD_MAX_LIST);
    kd->lambda = o->cl_lambda;
    kd->tcap = o->cl_list < kd->K ? o->cl_list : kd->K; /* lists hold at most K items */
    kd->buf_cap = kd->tcap;
    return HC_OK;
}

static int cl_target(hc_kd *kd, int side, int32_t u, hc_kd_scratch *s, hc_kd_target *t)
{
    (void)side;
    const hc_distill_opts *o = &kd->base.ctx->opts;
    const int32_t *T = kd->T + (int64_t)u * kd->K;
    int32_t n = kd->nT[u] < o->cl_list ? kd->nT[u] : o->cl_list;
    int32_t kc = stage_k(kd->epoch, o->cl_every, n), next = kc + (n - kc) / 2;
    /* the student's order of the list: insertion sort of positions by score, ties by list
     * position (n <= 512) */
    int32_t *ord = s->ibuf;
    float *sc = s->fbuf;
    for (int32_t r = 0; r < n; r++) {
        sc[r] = hc_kd_score(kd, u, T[r]);
        int32_t j = r;
        for (; j > 0 && sc[ord[j - 1]] < sc[r]; j--)
            ord[j] = ord[j - 1];
        ord[j] = r;
    }
    for (int32_t r = 0; r < n; r++)
        hc_kd_push(t, u, T[r], r < kc ? 1.0f / (float)(r + 1) : r < next ? -0.25f : -0.5f, 0.0f);
    for (int32_t p = 0; p < n; p++)
        t->w2[t->part[0] + ord[p]] = (float)(p + 1);
    hc_kd_close_part(t);
    return HC_OK;
}

static double cl_loss(const hc_kd *kd, const hc_kd_target *t, const float *s, float *g)
{
    (void)kd;
    double loss = 0.0;
    int64_t pairs = 0;
    for (int32_t a = 0; a < t->n; a++)
        for (int32_t b = 0; b < t->n; b++)
            pairs += t->w[a] > t->w[b];
    if (pairs == 0)
        return 0.0;
    float inv = 1.0f / (float)pairs;
    for (int32_t a = 0; a < t->n; a++)
        for (int32_t b = 0; b < t->n; b++) {
            if (!(t->w[a] > t->w[b]))
                continue;
            float w = fabsf(1.0f / t->w2[a] - 1.0f / t->w2[b]) * inv;
            float x = -(s[a] - s[b]); /* softplus(x) and its slope sigmoid(x), one exp */
            float e = expf(-fabsf(x));
            float sp = (x > 0.0f ? x : 0.0f) + log1pf(e);
            float sg = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
            loss += (double)(w * sp);
            g[a] -= w * sg;
            g[b] += w * sg;
        }
    return loss;
}

static const hc_kd_method cl_method = {
    .name = "cldrd",
    .sides = HC_KD_USERS,
    .init = cl_init,
    .target = cl_target,
    .loss = cl_loss,
};

HC_KD_DISTILLER(cldrd, "CL-DRD: BPR + LambdaRank-style curriculum on the ensemble's top 30",
                sizeof(hc_kd), cl_method, 1);
