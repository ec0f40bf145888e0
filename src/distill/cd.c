/*
 * cd.c - CD, collaborative distillation (Lee et al., ICDM'19), docs/method.md §10.3, in its
 * student-guided form with the ensemble as teacher:
 *   L(u) = - sum_{j in S_u} [ q_uj log sigmoid(s_uj) + (1 - q_uj) log(1 - sigmoid(s_uj)) ].
 * S_u: at the start of every epoch, cd_items distinct items per user drawn from the
 * student's top cd_candidates unobserved items: two ranks r1, r2 from p(r) ~ exp(-r / mu),
 * keeping the better-ranked item (as woriazzc/KDs does; its defaults: 2 items, 3000
 * candidates, mu = 3000 x 20). Soft labels (our choice, docs/method.md §10.3: the original's
 * sigmoid((t + b) / tau) needs a teacher score the heterogeneous teachers do not share):
 * q = exp(-r / T) for an item at 0-based rank r of the final-checkpoint ensemble's top-K list
 * (T the ensemble temperature), 0 outside it. Added to BPR with weight cd_lambda.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill/kdbase.h"
#include "nn/layers.h"

/* Row entries sampled for the candidates' threshold. */
#define CD_SAMPLE 1024

typedef struct {
    hc_kd kd;     /* must be first */
    int32_t *smp; /* U x cd_items sampled items, -1 padded */
} cd_kd;

static int cd_init(hc_kd *kd)
{
    cd_kd *c = (cd_kd *)kd;
    const hc_distill_opts *o = &kd->base.ctx->opts;
    if (o->cd_items < 1 || o->cd_items > HC_KD_MAX_LIST || o->cd_candidates < 1 ||
        !(o->cd_mu > 0.0f))
        return hc_error(HC_EINVAL, "cd: need 1 <= cd_items <= %d, cd_candidates >= 1, cd_mu > 0",
                        HC_KD_MAX_LIST);
    kd->lambda = o->cd_lambda;
    kd->tcap = o->cd_items;
    kd->buf_cap = CD_SAMPLE;
    size_t n = (size_t)kd->U * (size_t)o->cd_items;
    c->smp = malloc(n * sizeof *c->smp);
    if (!c->smp)
        return hc_error(HC_ENOMEM, "cd: out of memory");
    memset(c->smp, 0xff, n * sizeof *c->smp); /* -1: nothing drawn yet */
    return HC_OK;
}

/* A rank in [0, len) from p(r) ~ exp(-r / mu) (inverse CDF of the truncated geometric). */
static int32_t draw_rank(hc_rng *r, int32_t len, double mu)
{
    double u = hc_rng_double(r);
    int32_t k = (int32_t)floor(-mu * log(1.0 - u * (1.0 - exp(-(double)len / mu))));
    return k < 0 ? 0 : k >= len ? len - 1 : k;
}

/* 1 when entry a ranks before entry b: a higher score, or the same and a smaller index. */
static inline int before(const float *s, int32_t a, int32_t b)
{
    return s[a] > s[b] || (s[a] == s[b] && a < b);
}

/* Quickselect: rearranges idx[lo..hi) so that idx[k] holds the entry of rank k among them,
 * better ones before it and worse ones after (median-of-three pivots). */
static void select_rank(const float *s, int32_t *idx, int32_t lo, int32_t hi, int32_t k)
{
#define SWAP(a, b)                                                                                 \
    do {                                                                                           \
        int32_t t_ = idx[a];                                                                       \
        idx[a] = idx[b];                                                                           \
        idx[b] = t_;                                                                               \
    } while (0)
    while (hi - lo > 2) {
        int32_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (before(s, idx[mid], idx[lo]))
            SWAP(mid, lo);
        if (before(s, idx[last], idx[lo]))
            SWAP(last, lo);
        if (before(s, idx[last], idx[mid]))
            SWAP(last, mid);
        SWAP(mid, last); /* the median as pivot, at the end */
        int32_t p = idx[last], st = lo;
        for (int32_t i = lo; i < last; i++)
            if (before(s, idx[i], p)) {
                SWAP(i, st);
                st++;
            }
        SWAP(st, last);
        if (k == st)
            return;
        if (k < st)
            hi = st;
        else
            lo = st + 1;
    }
    if (hi - lo == 2 && before(s, idx[lo + 1], idx[lo]))
        SWAP(lo, lo + 1);
#undef SWAP
}

/* Quickselect over plain values: v[k] becomes the k-th largest of v[lo..hi). */
static void select_value(float *v, int32_t lo, int32_t hi, int32_t k)
{
    while (hi - lo > 1) {
        float p = v[lo + (hi - lo) / 2];
        int32_t i = lo, j = hi - 1;
        while (i <= j) {
            while (v[i] > p)
                i++;
            while (v[j] < p)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j)
            hi = j + 1;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* hc_kd_row_fn (full rows): draws user u's items from its student top cd_candidates. Only
 * the drawn ranks are resolved: a quickselect splits off the candidates, one more per rank
 * finds its item (O(items) per user, no sort). Items are stored by rank. */
static int cd_draw(hc_kd *kd, int side, int32_t u, const float *scores, int32_t n_cols,
                   const int32_t *list, int32_t len, hc_kd_scratch *s)
{
    (void)side;
    (void)list;
    (void)len;
    const hc_distill_opts *o = &kd->base.ctx->opts;
    int32_t *out = ((cd_kd *)kd)->smp + (int64_t)u * o->cd_items, n = 0, *idx = s->topk;
    int32_t avail = 0, C = o->cd_candidates;
    /* a threshold from a strided sample of the row (a quarter above the candidates' share),
     * so that only the entries above it are selected among: when they are at least C they
     * hold the top C; otherwise every unmasked entry is a candidate */
    float thr = -INFINITY, *smp = s->fbuf;
    int32_t ns = 0;
    if ((int64_t)C * 2 < n_cols) {
        for (int32_t j = 0; j < CD_SAMPLE; j++) {
            float x = scores[(int64_t)j * n_cols / CD_SAMPLE];
            if (x > -INFINITY)
                smp[ns++] = x;
        }
        int32_t q = (int32_t)((int64_t)CD_SAMPLE * C * 5 / 4 / n_cols) + 16;
        if (q < ns) {
            select_value(smp, 0, ns, q);
            thr = smp[q];
        }
    }
    for (int32_t i = 0; i < n_cols; i++)
        if (scores[i] >= thr && scores[i] > -INFINITY)
            idx[avail++] = i;
    if (avail < C && thr > -INFINITY) {
        avail = 0;
        for (int32_t i = 0; i < n_cols; i++)
            if (scores[i] > -INFINITY)
                idx[avail++] = i;
    }
    C = C < avail ? C : avail;
    hc_rng r;
    hc_kd_rng(kd, 1, kd->epoch, u, &r);
    for (int32_t tries = 0; C > 0 && n < o->cd_items && tries < 100 * o->cd_items; tries++) {
        int32_t a = draw_rank(&r, C, (double)o->cd_mu), b = draw_rank(&r, C, (double)o->cd_mu);
        int32_t m = a < b ? a : b, dup = 0; /* the better-ranked of two draws */
        for (int32_t k = 0; k < n; k++)
            dup |= out[k] == m;
        if (!dup)
            out[n++] = m;
    }
    if (n > 0) {
        qsort(out, (size_t)n, sizeof *out, cmp_i32);
        if (C < avail)
            select_rank(scores, idx, 0, avail, C - 1);
        for (int32_t k = 0, lo = 0; k < n; k++) {
            select_rank(scores, idx, lo, C, out[k]);
            lo = out[k] + 1;
            out[k] = idx[out[k]];
        }
    }
    for (; n < o->cd_items; n++)
        out[n] = -1;
    return HC_OK;
}

static int cd_begin_epoch(hc_kd *kd, int32_t epoch)
{
    (void)epoch;
    return hc_kd_student_topk(kd, HC_KD_USERS, 0, cd_draw);
}

static int cd_target(hc_kd *kd, int side, int32_t u, hc_kd_scratch *s, hc_kd_target *t)
{
    (void)side;
    (void)s;
    const hc_distill_opts *o = &kd->base.ctx->opts;
    const int32_t *smp = ((cd_kd *)kd)->smp + (int64_t)u * o->cd_items;
    const int32_t *T = kd->T + (int64_t)u * kd->K;
    for (int32_t k = 0; k < o->cd_items && smp[k] >= 0; k++) {
        float q = 0.0f;
        for (int32_t r = 0; r < kd->nT[u]; r++)
            if (T[r] == smp[k]) {
                q = expf(-(float)r / o->temperature);
                break;
            }
        hc_kd_push(t, u, smp[k], q, 0.0f);
    }
    hc_kd_close_part(t);
    return HC_OK;
}

/* Binary cross-entropy with soft labels: sum_k softplus(s_k) - q_k s_k; d/ds = sigmoid - q. */
static double cd_loss(const hc_kd *kd, const hc_kd_target *t, const float *s, float *g)
{
    (void)kd;
    double loss = 0.0;
    for (int32_t k = 0; k < t->n; k++) {
        float x = s[k], q = t->w[k];
        loss += (double)(hc_nn_softplusf(x) - q * x);
        g[k] += hc_nn_sigmoidf(x) - q;
    }
    return loss;
}

static void cd_free(hc_kd *kd)
{
    free(((cd_kd *)kd)->smp);
}

static const hc_kd_method cd_method = {
    .name = "cd",
    .sides = HC_KD_USERS,
    .init = cd_init,
    .begin_epoch = cd_begin_epoch,
    .target = cd_target,
    .loss = cd_loss,
    .free_fn = cd_free,
};

HC_KD_DISTILLER(cd, "CD: BPR + soft-label BCE on items drawn from the student's top list",
                sizeof(cd_kd), cd_method, 1);
