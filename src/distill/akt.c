/*
 * akt.c - HetComp's set-level and permutation-level losses (see akt.h), in two forms that
 * share every formula: hc_akt_user, the plain per-user reference (a score row in, a gradient
 * row out), and hc_akt_group, the fused kernel the training loop runs.
 *
 * Item levels (bytes, set and reset per user):
 *   0 unobserved, not in T   1 T[K/2:]   2 T[K/10:K/2]   3 T[:K/10]   4 train item
 * so Z(T) = S0, Z(T[:K/2]) = S0 + S1, Z(T[:K/10]) = S0 + S1 + S2 (masked sums, never "total
 * minus list"). An item's gradient is exp(s) times the summed coefficients of the rest sets
 * it belongs to (c[level]), plus its list terms when it is listed.
 *
 * The kernel works on a group of users and tiles of items, so the transposed item factors
 * (d x I) and the item-gradient accumulator are streamed once per group instead of once per
 * user. Pass 1 computes s = p Q^T and e = exp(clamp(s)), kept in E (negated where the clamp
 * is active). Between the passes each user's listed and train items are taken out of E (their
 * e kept aside), so E sums to exactly Z(T) with no level lookups, and the list terms give the
 * user's rest coefficient and the full gradient of each listed item. Pass 2 forms g = c E
 * over the tile and accumulates dp_u = g Q and dQ += g^T p_u; the listed items' gradients are
 * added last. The tile loops are compiled for x86-64-v3 (AVX2, FMA) beside the baseline and
 * picked at run time.
 *
 * The sampled form (hc_akt_sampled_user) replaces the rest sum S0 = Z(T) by its importance
 * estimate from the draws and keeps everything else of the reference form: the listed items'
 * terms are exact, and each drawn rest item k takes c[0] w_k e_k, the gradient of the
 * estimate. Scores come from gathered rows of Q, so its cost is O((list + draws) x d).
 */
#include "distill/akt.h"

#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "dense/vec.h"

#define S_MIN    -40.0f
#define S_MAX    40.0f
#define TILE     HC_AKT_TILE
#define MAX_LIST (HC_AKT_MAX_P + HC_AKT_MAX_K)

/* Written as two selects so loops calling it vectorise. */
static inline float clampf(float x)
{
    float v = x < S_MIN ? S_MIN : x;
    return v > S_MAX ? S_MAX : v;
}

static void set_levels(const hc_akt_lists *l, uint8_t *level)
{
    int32_t k2 = l->k / 2, k10 = l->k / 10;
    for (int32_t j = 0; j < l->n_train; j++)
        level[l->train[j]] = 4;
    for (int32_t r = 0; r < l->n_t; r++)
        level[l->T[r]] = r < k10 ? 3 : r < k2 ? 2 : 1;
}

static void clear_levels(const hc_akt_lists *l, uint8_t *level)
{
    for (int32_t j = 0; j < l->n_train; j++)
        level[l->train[j]] = 0;
    for (int32_t r = 0; r < l->n_t; r++)
        level[l->T[r]] = 0;
}

/* Sums of logarithms through products of up to 8 terms, one log a product: the terms are
 * sums of exponentials of scores clamped to [S_MIN, S_MAX] over at most a catalog, inside
 * [1e-18, 1e30], so a product of 8 stays far inside double's range. Only losses use it. */
typedef struct {
    double prod, sum;
    int n;
} log_sum;

static inline void log_sum_add(log_sum *a, double x)
{
    a->prod *= x;
    if (++a->n == 8) {
        a->sum += log(a->prod);
        a->prod = 1.0;
        a->n = 0;
    }
}

static inline double log_sum_total(const log_sum *a)
{
    return a->n ? a->sum + log(a->prod) : a->sum;
}

/* See akt.h. */
double hc_akt_plackett_luce(const int32_t *l, int32_t n, double R, double w, const float *s,
                            const float *e, float *g, double *loss)
{
    double D[MAX_LIST];
    double suffix = R;
    for (int32_t t = n - 1; t >= 0; t--) {
        suffix += (double)e[l[t]];
        D[t] = suffix;
    }
    double prefix = 0.0, s_sum = 0.0;
    log_sum logs = {1.0, 0.0, 0};
    for (int32_t t = 0; t < n; t++) {
        log_sum_add(&logs, D[t]);
        s_sum += (double)s[l[t]];
        prefix += 1.0 / D[t];
        g[l[t]] += (float)(w * (-1.0 + (double)e[l[t]] * prefix));
    }
    *loss += w * (log_sum_total(&logs) - s_sum);
    return w * prefix;
}

/* The list part of the loss, shared by both forms. Inputs: the list (P then T, n_p + n_t
 * positions) with each item's e and clamped s, the level sums S. Outputs: the loss, the list
 * gradients lg (by position) and the per-level rest coefficients c[5]. */
static double list_terms(int32_t n_p, int32_t n_t, int32_t k, int phase, const float *e_list,
                         const float *s_list, const double S[3], float *lg, double c[5])
{
    int32_t n_list = n_p + n_t, pos[MAX_LIST];
    double loss = 0.0, coef0 = 0.0, coef01 = 0.0, coef012 = 0.0;
    for (int32_t j = 0; j < n_list; j++) {
        pos[j] = j;
        lg[j] = 0.0f;
    }
    if (phase == 1) {
        double Z = S[0], s_sum = 0.0;
        log_sum logs = {1.0, 0.0, 0};
        for (int32_t j = 0; j < n_list; j++) {
            double d = (double)e_list[j] + Z;
            log_sum_add(&logs, d);
            s_sum += (double)s_list[j];
            lg[j] = (float)(-1.0 + (double)e_list[j] / d);
            coef0 += 1.0 / d;
        }
        loss = log_sum_total(&logs) - s_sum;
    } else {
        int32_t k2 = k / 2, k10 = k / 10;
        int32_t n50 = n_t < k2 ? n_t : k2, n10 = n_t < k10 ? n_t : k10;
        double Z50 = S[0] + S[1], Z10 = S[0] + S[1] + S[2];
        coef01 += hc_akt_plackett_luce(pos, n_p, Z50, 1.0, s_list, e_list, lg, &loss);
        coef01 += hc_akt_plackett_luce(pos + n_p, n50, Z50, 0.5, s_list, e_list, lg, &loss);
        coef012 += hc_akt_plackett_luce(pos + n_p, n10, Z10, 0.5, s_list, e_list, lg, &loss);
    }
    c[0] = coef0 + coef01 + coef012;
    c[1] = coef01 + coef012;
    c[2] = coef012;
    c[3] = 0.0;
    c[4] = 0.0;
    return loss;
}

/* The listed items the loss takes: P then T, each cut. */
static inline int32_t list_len(const hc_akt_lists *l)
{
    return (l->n_p < HC_AKT_MAX_P ? l->n_p : HC_AKT_MAX_P) +
           (l->n_t < HC_AKT_MAX_K ? l->n_t : HC_AKT_MAX_K);
}

static int32_t list_item(const hc_akt_lists *l, int32_t n_p, int32_t j)
{
    return j < n_p ? l->P[j] : l->T[j - n_p];
}

/* ------------------------------------------------------------------ the reference form */

/* Sums e over the items of each level 0..2 in double. */
static void level_sums_ref(const float *e, const uint8_t *level, int32_t n, double out[3])
{
    out[0] = out[1] = out[2] = 0.0;
    for (int32_t i = 0; i < n; i++)
        if (level[i] < 3)
            out[level[i]] += (double)e[i];
}

double hc_akt_user(const float *s, int32_t n_items, const hc_akt_lists *l, int phase, float scale,
                   uint8_t *level, float *g)
{
    set_levels(l, level);
    hc_vexp_clamped(s, g, n_items, S_MIN, S_MAX); /* g holds e until the gradient pass */
    double S[3], c[5];
    level_sums_ref(g, level, n_items, S);
    int32_t n_p = l->n_p < HC_AKT_MAX_P ? l->n_p : HC_AKT_MAX_P;
    int32_t n_t = l->n_t < HC_AKT_MAX_K ? l->n_t : HC_AKT_MAX_K;
    float e_list[MAX_LIST], s_list[MAX_LIST], lg[MAX_LIST];
    for (int32_t j = 0; j < n_p + n_t; j++) {
        int32_t it = list_item(l, n_p, j);
        e_list[j] = g[it];
        s_list[j] = clampf(s[it]);
    }
    double loss = list_terms(n_p, n_t, l->k, phase, e_list, s_list, S, lg, c);
    for (int32_t i = 0; i < n_items; i++)
        g[i] *= (float)c[level[i]];
    for (int32_t j = 0; j < n_p + n_t; j++)
        g[list_item(l, n_p, j)] += lg[j];
    /* the clamp passes no gradient outside [-40, 40]; then scale */
    for (int32_t i = 0; i < n_items; i++)
        g[i] = s[i] < S_MIN || s[i] > S_MAX ? 0.0f : g[i] * scale;
    clear_levels(l, level);
    return loss;
}

/* ------------------------------------------------------------------ the fused kernel */

size_t hc_akt_work_size(int32_t n_items, int32_t d)
{
    return (size_t)HC_AKT_GROUP * (size_t)n_items * sizeof(float) +
           (size_t)d * TILE * sizeof(float) + 64;
}

/* Pass 1 over one tile for one user: s = p Q^T and E = exp(clamp(s)), negated where the
 * clamp is active (the sign carries the clamp, so pass 2 needs no score). The bounds come as
 * arguments read from volatiles: with the constants propagated into the loop, GCC 12 no
 * longer vectorises it. */
HC_CLONES __attribute__((noinline)) static void pass1_tile(const float *restrict p,
                                                           const float *restrict Qt, int64_t ldq,
                                                           int32_t d, int32_t n, float *restrict E,
                                                           float lo, float hi)
{
    float s[TILE];
    for (int32_t i = 0; i < n; i++)
        s[i] = p[0] * Qt[i];
    for (int32_t j = 1; j < d; j++) {
        const float *restrict q = Qt + (int64_t)j * ldq;
        const float pj = p[j];
        for (int32_t i = 0; i < n; i++)
            s[i] += pj * q[i];
    }
    for (int32_t i = 0; i < n; i++) {
        float x = s[i];
        float v = x < lo ? lo : x;
        v = v > hi ? hi : v;
        float e = hc_exp_core(v);
        E[i] = v != x ? -e : e;
    }
}

/* Sum of |E| over n items, in eight float lanes finished in double. */
HC_CLONES __attribute__((noinline)) static double abs_sum(const float *restrict E, int32_t n)
{
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            a[k] += fabsf(E[i + k]);
    double s = 0.0;
    for (; i < n; i++)
        s += (double)fabsf(E[i]);
    for (int k = 0; k < 8; k++)
        s += (double)a[k];
    return s;
}

/* Pass 2 over one tile for one user: g = c E (zero where clamped or masked), dp += g Q^T
 * in eight lanes per factor, dq (d x TILE) += p g. */
HC_CLONES __attribute__((noinline)) static void
pass2_tile(const float *restrict p, const float *restrict Qt, int64_t ldq, int32_t d, int32_t n,
           const float *restrict E, float c, float *restrict dp_acc, float *restrict dq)
{
    float g[TILE];
    const float half_c = 0.5f * c;
    for (int32_t i = 0; i < n; i++)
        g[i] = (E[i] + fabsf(E[i])) * half_c; /* c E for E > 0, else 0 (clamped or masked) */
    for (int32_t j = 0; j < d; j++) {
        const float *restrict q = Qt + (int64_t)j * ldq;
        float *restrict dqj = dq + (int64_t)j * TILE;
        float *restrict a = dp_acc + 8 * j;
        const float pj = p[j];
        int32_t i = 0;
        for (; i + 8 <= n; i += 8)
            for (int k = 0; k < 8; k++) {
                a[k] += g[i + k] * q[i + k];
                dqj[i + k] += g[i + k] * pj;
            }
        for (; i < n; i++) {
            a[0] += g[i] * q[i];
            dqj[i] += g[i] * pj;
        }
    }
}

/* One user between the passes: takes the listed and train items out of E (so E holds only
 * the rest set, whose sum is Z(T)), computes the list terms, and leaves in lg the full
 * gradient of every listed item (its list terms plus its rest-set terms, zero when clamped),
 * scaled. Returns the loss; *c0 receives the scaled coefficient of the rest set. */
static double user_terms(const hc_akt_lists *l, const float *p, const float *Q, int32_t d, float *E,
                         int32_t n_items, int phase, float scale, float *lg, float *c0)
{
    int32_t n_p = l->n_p < HC_AKT_MAX_P ? l->n_p : HC_AKT_MAX_P;
    int32_t n_t = l->n_t < HC_AKT_MAX_K ? l->n_t : HC_AKT_MAX_K;
    int32_t k2 = l->k / 2, k10 = l->k / 10;
    float e_list[MAX_LIST], s_list[MAX_LIST];
    int clamped[MAX_LIST];
    for (int32_t j = 0; j < n_p + n_t; j++) {
        int32_t it = list_item(l, n_p, j);
        float s = 0.0f;
        for (int32_t q = 0; q < d; q++)
            s += p[q] * Q[(int64_t)it * d + q];
        e_list[j] = fabsf(E[it]);
        clamped[j] = E[it] < 0.0f;
        s_list[j] = clampf(s);
    }
    double S[3] = {0.0, 0.0, 0.0}, c[5];
    for (int32_t r = 0; r < n_t; r++)
        if (r >= k10)
            S[r < k2 ? 2 : 1] += (double)e_list[n_p + r];
    for (int32_t j = 0; j < l->n_train; j++)
        E[l->train[j]] = 0.0f;
    for (int32_t r = 0; r < l->n_t; r++)
        E[l->T[r]] = 0.0f;
    S[0] = abs_sum(E, n_items);
    double loss = list_terms(n_p, n_t, l->k, phase, e_list, s_list, S, lg, c);
    for (int32_t r = 0; r < n_t; r++) {
        int lv = r < k10 ? 3 : r < k2 ? 2 : 1;
        lg[n_p + r] += e_list[n_p + r] * (float)c[lv];
    }
    for (int32_t j = 0; j < n_p + n_t; j++)
        lg[j] = clamped[j] ? 0.0f : lg[j] * scale;
    *c0 = (float)c[0] * scale;
    return loss;
}

static volatile float clamp_lo = S_MIN, clamp_hi = S_MAX;

double hc_akt_group(const hc_akt_problem *pb, const int32_t *users, const hc_akt_lists *lists,
                    int32_t n, int phase, float scale, void *work, float *gP, float *dQt,
                    double *losses)
{
    const int32_t d = pb->d, I = pb->n_items;
    /* work: E (GROUP x I floats), then dq (d x TILE) */
    float *E = work;
    float *dq =
        (float *)(((uintptr_t)(E + (size_t)HC_AKT_GROUP * (size_t)I) + 63) & ~(uintptr_t)63);
    float c0[HC_AKT_GROUP], lg[HC_AKT_GROUP][MAX_LIST];
    float dp_acc[HC_AKT_GROUP][HC_AKT_MAX_D * 8];
    double total = 0.0;
    const float lo = clamp_lo, hi = clamp_hi;
    memset(dp_acc, 0, sizeof dp_acc);
    for (int32_t t0 = 0; t0 < I; t0 += TILE) {
        int32_t m = I - t0 < TILE ? I - t0 : TILE;
        for (int32_t g = 0; g < n; g++)
            pass1_tile(pb->P + (int64_t)users[g] * d, pb->Qt + t0, I, d, m, E + (size_t)g * I + t0,
                       lo, hi);
    }
    for (int32_t g = 0; g < n; g++) {
        losses[g] = user_terms(&lists[g], pb->P + (int64_t)users[g] * d, pb->Q, d,
                               E + (size_t)g * I, I, phase, scale, lg[g], &c0[g]);
        total += losses[g];
    }
    for (int32_t t0 = 0; t0 < I; t0 += TILE) {
        int32_t m = I - t0 < TILE ? I - t0 : TILE;
        memset(dq, 0, (size_t)d * TILE * sizeof *dq);
        for (int32_t g = 0; g < n; g++)
            pass2_tile(pb->P + (int64_t)users[g] * d, pb->Qt + t0, I, d, m, E + (size_t)g * I + t0,
                       c0[g], dp_acc[g], dq);
        for (int32_t j = 0; j < d; j++) {
            float *restrict dst = dQt + (int64_t)j * I + t0;
            const float *restrict src = dq + (int64_t)j * TILE;
            for (int32_t i = 0; i < m; i++)
                dst[i] += src[i];
        }
    }
    /* dp into gP, and the listed items' gradients */
    for (int32_t g = 0; g < n; g++) {
        const hc_akt_lists *l = &lists[g];
        int32_t n_p = l->n_p < HC_AKT_MAX_P ? l->n_p : HC_AKT_MAX_P;
        int32_t n_t = l->n_t < HC_AKT_MAX_K ? l->n_t : HC_AKT_MAX_K;
        const float *p = pb->P + (int64_t)users[g] * d;
        float *gp = gP + (int64_t)users[g] * d;
        for (int32_t j = 0; j < d; j++) {
            float sum = 0.0f;
            for (int k = 0; k < 8; k++)
                sum += dp_acc[g][8 * j + k];
            gp[j] += sum;
        }
        for (int32_t j = 0; j < n_p + n_t; j++) {
            float v = lg[g][j];
            if (v == 0.0f)
                continue;
            int32_t it = list_item(l, n_p, j);
            for (int32_t q = 0; q < d; q++) {
                gp[q] += v * pb->Q[(int64_t)it * d + q];
                dQt[(int64_t)q * I + it] += v * p[q];
            }
        }
    }
    return total;
}

/* ------------------------------------------------------------------ the sampled forms */

static float dot(const float *a, const float *b, int32_t d)
{
    float s = 0.0f;
    for (int32_t q = 0; q < d; q++)
        s += a[q] * b[q];
    return s;
}

/* Floats between the listed items' rows copied by sampled_list_part: at d <= 8 a row is
 * padded to eight lanes (zeros past d), so add_rows_dp sums it in one register. */
static inline int32_t row_stride(int32_t d)
{
    return d <= 8 ? 8 : d;
}

/* The list part of both sampled forms for user p with rest sum S0: the listed items' scores
 * from gathered rows of Q (copied into rows, n_list x row_stride(d), unless it is NULL), the
 * loss, and in coef (n_list) each listed item's full gradient coefficient, scaled, zero when
 * clamped. Returns the loss; *c0 receives the scaled coefficient of the rest set. */
static double sampled_list_part(const hc_akt_lists *l, const float *p, const float *Q, int32_t d,
                                double S0, int phase, float scale, float *coef, float *c0,
                                float *restrict rows)
{
    int32_t n_p = l->n_p < HC_AKT_MAX_P ? l->n_p : HC_AKT_MAX_P;
    int32_t n_t = l->n_t < HC_AKT_MAX_K ? l->n_t : HC_AKT_MAX_K;
    int32_t n_list = n_p + n_t, k2 = l->k / 2, k10 = l->k / 10;
    float raw[MAX_LIST], e_list[MAX_LIST], s_list[MAX_LIST], lg[MAX_LIST];
    int clamped[MAX_LIST];
    for (int32_t j = 0; j < n_list; j++) {
        const float *q = Q + (int64_t)list_item(l, n_p, j) * d;
        raw[j] = dot(p, q, d);
        if (rows && d <= 8) {
            for (int32_t k = 0; k < 8; k++) /* d is small: no memcpy call */
                rows[(int64_t)j * 8 + k] = k < d ? q[k] : 0.0f;
        } else if (rows) {
            memcpy(rows + (int64_t)j * d, q, (size_t)d * sizeof *q);
        }
    }
    hc_vexp_clamped(raw, e_list, n_list, S_MIN, S_MAX);
    for (int32_t j = 0; j < n_list; j++) {
        s_list[j] = clampf(raw[j]);
        clamped[j] = s_list[j] != raw[j];
    }
    double S[3] = {S0, 0.0, 0.0}, c[5];
    for (int32_t r = k10; r < n_t; r++)
        S[r < k2 ? 2 : 1] += (double)e_list[n_p + r];
    double loss = list_terms(n_p, n_t, l->k, phase, e_list, s_list, S, lg, c);
    for (int32_t r = 0; r < n_t; r++)
        lg[n_p + r] += e_list[n_p + r] * (float)c[r < k10 ? 3 : r < k2 ? 2 : 1];
    for (int32_t j = 0; j < n_list; j++)
        coef[j] = clamped[j] ? 0.0f : lg[j] * scale;
    *c0 = (float)c[0] * scale;
    return loss;
}

/* gp += sum_j coef[j] q_j over the listed items, their rows read from Q. */
static void add_list_dp(const hc_akt_lists *l, const float *Q, int32_t d, const float *coef,
                        float *gp)
{
    int32_t n_p = l->n_p < HC_AKT_MAX_P ? l->n_p : HC_AKT_MAX_P;
    int32_t n_t = l->n_t < HC_AKT_MAX_K ? l->n_t : HC_AKT_MAX_K;
    for (int32_t j = 0; j < n_p + n_t; j++) {
        if (coef[j] == 0.0f)
            continue;
        const float *q = Q + (int64_t)list_item(l, n_p, j) * d;
        for (int32_t k = 0; k < d; k++)
            gp[k] += coef[j] * q[k];
    }
}

/* The same from the n rows sampled_list_part copied (row_stride(d) apart), summed in
 * registers at d <= 8: the same additions in the same order. */
HC_CLONES static void add_rows_dp(const float *restrict rows, int32_t n, int32_t d,
                                  const float *restrict coef, float *restrict gp)
{
    const int32_t ld = row_stride(d);
    float a[HC_AKT_MAX_D];
    memcpy(a, gp, (size_t)d * sizeof *a);
    if (d <= 8) {
        for (int32_t k = d; k < 8; k++)
            a[k] = 0.0f;
        for (int32_t j = 0; j < n; j++)
            if (coef[j] != 0.0f)
                for (int32_t k = 0; k < 8; k++)
                    a[k] += coef[j] * rows[(int64_t)j * 8 + k];
    } else {
        for (int32_t j = 0; j < n; j++)
            if (coef[j] != 0.0f)
                for (int32_t k = 0; k < d; k++)
                    a[k] += coef[j] * rows[(int64_t)j * ld + k];
    }
    memcpy(gp, a, (size_t)d * sizeof *a);
}

double hc_akt_sampled_user(const hc_akt_problem *pb, int32_t u, const hc_akt_lists *l,
                           const hc_akt_draws *dr, int phase, float scale, uint8_t *level,
                           float *gp, float *coef)
{
    const int32_t d = pb->d;
    const float *p = pb->P + (int64_t)u * d;
    int32_t n_p = l->n_p < HC_AKT_MAX_P ? l->n_p : HC_AKT_MAX_P;
    int32_t n_t = l->n_t < HC_AKT_MAX_K ? l->n_t : HC_AKT_MAX_K;
    /* the draws: w e kept in ce until the coefficient is known; 0 outside the rest set */
    float *ce = coef + n_p + n_t;
    double S0 = 0.0;
    set_levels(l, level);
    for (int32_t j = 0; j < dr->n; j++) {
        int32_t it = dr->items[j];
        ce[j] = 0.0f;
        if (level[it] != 0)
            continue;
        float s = dot(p, pb->Q + (int64_t)it * d, d), v = clampf(s);
        float we = dr->w[j] * hc_exp_core(v);
        S0 += (double)we;
        ce[j] = v != s ? -we : we; /* the sign carries the clamp, as in the fused kernel */
    }
    clear_levels(l, level);
    float c0;
    double loss = sampled_list_part(l, p, pb->Q, d, S0, phase, scale, coef, &c0, NULL);
    for (int32_t j = 0; j < dr->n; j++)
        ce[j] = ce[j] > 0.0f ? c0 * ce[j] : 0.0f;
    add_list_dp(l, pb->Q, d, coef, gp);
    for (int32_t j = 0; j < dr->n; j++)
        if (ce[j] != 0.0f)
            for (int32_t q = 0; q < d; q++)
                gp[q] += ce[j] * pb->Q[(int64_t)dr->items[j] * d + q];
    return loss;
}

size_t hc_akt_shared_work_size(int32_t n_draws, int32_t d)
{
    return ((size_t)n_draws + (size_t)MAX_LIST * (size_t)row_stride(d)) * sizeof(float) + 64;
}

/* E *= w over n entries (the sign, carrying the clamp, is kept). */
HC_CLONES __attribute__((noinline)) static void weigh(float *restrict E, const float *restrict w,
                                                      int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        E[i] *= w[i];
}

/* E[k] <- 0 for every draw k of the n items: a drawn item's rank among the distinct drawn
 * items is its word's rank plus the drawn bits below it, and its draws are consecutive. The
 * drawn ones are found without a branch, 64 items at a time (whether a listed item was drawn
 * is a coin the branch predictor loses), then cleared. */
HC_CLONES static void unmask_items(const hc_akt_shared_draws *dr, const int32_t *items, int32_t n,
                                   float *E)
{
    int32_t hit[64];
    for (int32_t j0 = 0; j0 < n; j0 += 64) {
        int32_t m = 0, j1 = n - j0 < 64 ? n : j0 + 64;
        for (int32_t j = j0; j < j1; j++) {
            int32_t it = items[j];
            uint64_t word = dr->drawn[it >> 6], below = (1ULL << (it & 63)) - 1;
            hit[m] = dr->rank[it >> 6] + __builtin_popcountll(word & below);
            m += (int32_t)(word >> (it & 63) & 1);
        }
        for (int32_t x = 0; x < m; x++)
            for (int32_t k = dr->start[hit[x]]; k < dr->start[hit[x] + 1]; k++)
                E[k] = 0.0f;
    }
}

double hc_akt_shared_user(const hc_akt_problem *pb, int32_t u, const hc_akt_lists *l,
                          const hc_akt_shared_draws *dr, int phase, float scale, void *work,
                          float *gp, float *coef, float *dq)
{
    const int32_t d = pb->d, n = dr->draws.n;
    const float *p = pb->P + (int64_t)u * d;
    const float lo = clamp_lo, hi = clamp_hi;
    float *E = work, *rows = E + n; /* n draws, then the listed items' rows */
    for (int32_t t0 = 0; t0 < n; t0 += TILE) {
        int32_t m = n - t0 < TILE ? n - t0 : TILE;
        pass1_tile(p, dr->Qt + t0, n, d, m, E + t0, lo, hi);
    }
    weigh(E, dr->draws.w, n);
    /* the user's train and listed items are not in the rest set */
    unmask_items(dr, l->train, l->n_train, E);
    unmask_items(dr, l->T, l->n_t, E);
    float c0;
    double loss = sampled_list_part(l, p, pb->Q, d, abs_sum(E, n), phase, scale, coef, &c0, rows);
    float dp_acc[HC_AKT_MAX_D * 8];
    memset(dp_acc, 0, (size_t)d * 8 * sizeof(float));
    for (int32_t t0 = 0; t0 < n; t0 += TILE) {
        int32_t m = n - t0 < TILE ? n - t0 : TILE;
        pass2_tile(p, dr->Qt + t0, n, d, m, E + t0, c0, dp_acc, dq + (int64_t)t0 * d);
    }
    for (int32_t j = 0; j < d; j++) {
        float sum = 0.0f;
        for (int k = 0; k < 8; k++)
            sum += dp_acc[8 * j + k];
        gp[j] += sum;
    }
    add_rows_dp(rows, list_len(l), d, coef, gp);
    return loss;
}
