/*
 * akt.c - HetComp's set-level and permutation-level losses for one user (see akt.h).
 *
 * One pass over the catalog computes e_k = exp(clamp(s_k)) (vectorised) and the masked sums
 * of the three nested rest sets; the list terms cost O(|P| + |T|); a second pass writes each
 * item's gradient from its rest-set coefficients. Item levels (bytes, set and reset per call):
 *   0 unobserved, not in T   1 T[K/2:]   2 T[K/10:K/2]   3 T[:K/10]   4 train item
 * so Z(T) = S0, Z(T[:K/2]) = S0 + S1, Z(T[:K/10]) = S0 + S1 + S2.
 */
#include "distill/akt.h"

#include <math.h>
#include <string.h>

#include "dense/vec.h"

#define S_MIN -40.0f
#define S_MAX 40.0f

/* Sums e over the items of each level 0..2, eight lanes at a time (vectorisable), finished
 * in double. */
static void level_sums(const float *e, const uint8_t *level, int32_t n, double out[3])
{
    float a0[8] = {0}, a1[8] = {0}, a2[8] = {0};
    int32_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            float v = e[i + j];
            uint8_t lv = level[i + j];
            a0[j] += lv == 0 ? v : 0.0f;
            a1[j] += lv == 1 ? v : 0.0f;
            a2[j] += lv == 2 ? v : 0.0f;
        }
    double s0 = 0, s1 = 0, s2 = 0;
    for (int j = 0; j < 8; j++) {
        s0 += (double)a0[j];
        s1 += (double)a1[j];
        s2 += (double)a2[j];
    }
    for (; i < n; i++) {
        if (level[i] == 0)
            s0 += (double)e[i];
        else if (level[i] == 1)
            s1 += (double)e[i];
        else if (level[i] == 2)
            s2 += (double)e[i];
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
}

static inline float clampf(float x)
{
    return x < S_MIN ? S_MIN : x > S_MAX ? S_MAX : x;
}

/* Plackett-Luce over list l (n indices into s, e, g) with rest mass R, weighted by w: adds
 * w * loss to *loss and w * (list gradients) into g, and returns the rest coefficient
 * w * sum_t 1/D_t, D_t = sum_{t' >= t} e_{l_t'} + R. */
static double plackett_luce(const int32_t *l, int32_t n, double R, double w, const float *s,
                            const float *e, float *g, double *loss)
{
    double D[HC_AKT_MAX_K > HC_AKT_MAX_P ? HC_AKT_MAX_K : HC_AKT_MAX_P];
    double suffix = R;
    for (int32_t t = n - 1; t >= 0; t--) {
        suffix += (double)e[l[t]];
        D[t] = suffix;
    }
    double prefix = 0.0, sum = 0.0;
    for (int32_t t = 0; t < n; t++) {
        sum += log(D[t]) - (double)clampf(s[l[t]]);
        prefix += 1.0 / D[t];
        g[l[t]] += (float)(w * (-1.0 + (double)e[l[t]] * prefix));
    }
    *loss += w * sum;
    return w * prefix;
}

double hc_akt_user(const float *s, int32_t n_items, const hc_akt_lists *l, int phase, float scale,
                   uint8_t *level, float *g)
{
    int32_t k2 = l->k / 2, k10 = l->k / 10;
    for (int32_t j = 0; j < l->n_train; j++)
        level[l->train[j]] = 4;
    for (int32_t r = 0; r < l->n_t; r++)
        level[l->T[r]] = r < k10 ? 3 : r < k2 ? 2 : 1;
    /* g holds e = exp(clamp(s)) until the second pass */
    hc_vexp_clamped(s, g, n_items, S_MIN, S_MAX);
    double S[3];
    level_sums(g, level, n_items, S);
    double loss = 0.0, coef0 = 0.0, coef01 = 0.0, coef012 = 0.0;
    /* the list items, P then T, by position: their e, clamped s and gradients */
    int32_t n_p = l->n_p < HC_AKT_MAX_P ? l->n_p : HC_AKT_MAX_P;
    int32_t n_t = l->n_t < HC_AKT_MAX_K ? l->n_t : HC_AKT_MAX_K;
    int32_t n_list = n_p + n_t, pos[HC_AKT_MAX_P + HC_AKT_MAX_K];
    float e_list[HC_AKT_MAX_P + HC_AKT_MAX_K], s_list[HC_AKT_MAX_P + HC_AKT_MAX_K];
    float lg[HC_AKT_MAX_P + HC_AKT_MAX_K];
    for (int32_t j = 0; j < n_list; j++) {
        int32_t it = j < n_p ? l->P[j] : l->T[j - n_p];
        pos[j] = j;
        e_list[j] = g[it];
        s_list[j] = s[it];
        lg[j] = 0.0f;
    }
    if (phase == 1) {
        double Z = S[0];
        for (int32_t j = 0; j < n_list; j++) {
            double d = (double)e_list[j] + Z;
            loss += log(d) - (double)clampf(s_list[j]);
            lg[j] = (float)(-1.0 + (double)e_list[j] / d);
            coef0 += 1.0 / d;
        }
    } else {
        int32_t n50 = n_t < k2 ? n_t : k2, n10 = n_t < k10 ? n_t : k10;
        double Z50 = S[0] + S[1], Z10 = S[0] + S[1] + S[2];
        coef01 += plackett_luce(pos, n_p, Z50, 1.0, s_list, e_list, lg, &loss);
        coef01 += plackett_luce(pos + n_p, n50, Z50, 0.5, s_list, e_list, lg, &loss);
        coef012 += plackett_luce(pos + n_p, n10, Z10, 0.5, s_list, e_list, lg, &loss);
    }
    /* rest pass: an item's gradient is e_k times the coefficients of the rest sets it is in */
    float c[5];
    c[0] = (float)(coef0 + coef01 + coef012);
    c[1] = (float)(coef01 + coef012);
    c[2] = (float)coef012;
    c[3] = 0.0f;
    c[4] = 0.0f;
    for (int32_t i = 0; i < n_items; i++)
        g[i] *= c[level[i]];
    for (int32_t j = 0; j < n_list; j++)
        g[j < n_p ? l->P[j] : l->T[j - n_p]] += lg[j];
    /* the clamp passes no gradient outside [-40, 40]; then scale */
    for (int32_t i = 0; i < n_items; i++) {
        float v = s[i] < S_MIN || s[i] > S_MAX ? 0.0f : g[i];
        g[i] = v * scale;
    }
    for (int32_t j = 0; j < l->n_train; j++)
        level[l->train[j]] = 0;
    for (int32_t r = 0; r < l->n_t; r++)
        level[l->T[r]] = 0;
    return loss;
}
