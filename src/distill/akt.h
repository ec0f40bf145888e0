/*
 * akt.h - adaptive knowledge transfer (method.md §5): HetComp's two losses for one user,
 * with their gradient with respect to the user's score row.
 *
 * For user u with raw scores s over all items (clamped to [-40, 40] inside the loss, so the
 * gradient is zero where the clamp is active), E_u the unobserved items, T the ensemble's top
 * list, P the observed list, and Z(L) = sum of exp(s_k) over E_u minus L:
 *   set-level (phase 1):  L = - sum_{j in P ++ T} [ s_j - log(exp(s_j) + Z(T)) ]
 *   permutation-level (phase 2), with PL(L, R) = - sum_t [ s_{l_t} - log(sum_{t'>=t}
 *   exp(s_{l_t'}) + R) ]:
 *     L = PL(P, Z(T[:K/2])) + ( PL(T[:K/2], Z(T[:K/2])) + PL(T[:K/10], Z(T[:K/10])) ) / 2
 * Gradients: d/ds_j of log(exp(s_j) + R) is exp(s_j)/(exp(s_j)+R); every rest item k of a
 * term's R receives exp(s_k)/(...) from it, so rest items share one coefficient per rest set
 * times exp(s_k). The Z sums are masked sums over the rest sets (never "total minus list",
 * which cancels in float), accumulated in double.
 */
#ifndef HC_AKT_H
#define HC_AKT_H

#include <stdint.h>

/* Longest lists the loss takes (longer ones are cut): K and the observed list. */
#define HC_AKT_MAX_K 512
#define HC_AKT_MAX_P 64

typedef struct {
    const int32_t *train; /* the user's train items */
    int32_t n_train;
    const int32_t *P; /* observed list (train items, ranked) */
    int32_t n_p;
    const int32_t *T; /* ensemble top list (unobserved items, ranked) */
    int32_t n_t;
    int32_t k; /* nominal list length K (100): phase 2 uses T[:K/2] and T[:K/10] */
} hc_akt_lists;

/* Computes the loss of phase 1 or 2 for scores s (n_items) and writes scale * dL/ds into g
 * (n_items). level is a zeroed n_items byte array, returned zeroed. Returns the unscaled loss. */
double hc_akt_user(const float *s, int32_t n_items, const hc_akt_lists *l, int phase,
                   float scale, uint8_t *level, float *g);

#endif
