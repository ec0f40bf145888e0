/*
 * akt.h - adaptive knowledge transfer (docs/method.md §5): HetComp's two losses for one user,
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

#include <stddef.h>
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
double hc_akt_user(const float *s, int32_t n_items, const hc_akt_lists *l, int phase, float scale,
                   uint8_t *level, float *g);

/* The Plackett-Luce term PL(L, R) shared with the listwise baselines (distill/kdbase.h):
 * over positions l[0..n) (n <= HC_AKT_MAX_P + HC_AKT_MAX_K) of the arrays s (clamped scores)
 * and e = exp(s), with rest mass R and weight w, adds w * PL to *loss and w * dPL/ds_{l_t}
 * into g[l_t], and returns w * sum_t 1/D_t, D_t = sum_{t' >= t} e_{l_t'} + R: the coefficient
 * each rest item k's gradient takes times e_k. */
double hc_akt_plackett_luce(const int32_t *l, int32_t n, double R, double w, const float *s,
                            const float *e, float *g, double *loss);

/* The fused kernel (what training runs): a group of n <= HC_AKT_GROUP users at once. */
#define HC_AKT_GROUP 8
#define HC_AKT_MAX_D 64

typedef struct {
    const float *P;  /* n_users x d user factors */
    const float *Q;  /* n_items x d item factors */
    const float *Qt; /* d x n_items: Q transposed */
    int32_t d, n_items;
} hc_akt_problem;

/* Bytes of work memory hc_akt_group needs (for groups of up to HC_AKT_GROUP users). */
size_t hc_akt_work_size(int32_t n_items, int32_t d);
/* For users[0..n) (unique) with their lists: adds scale * dL/dp_u into gP's rows and
 * scale * dL/dQ, transposed, into dQt (d x n_items); losses[g] receives user g's unscaled
 * loss; returns their sum. work: hc_akt_work_size bytes, 64-byte aligned and zeroed before its
 * first use (calls leave it reusable; one work area per thread). d <= HC_AKT_MAX_D.
 * Equal, up to float rounding, to hc_akt_user followed by dp = g Q and dQ = g^T p. */
double hc_akt_group(const hc_akt_problem *pb, const int32_t *users, const hc_akt_lists *lists,
                    int32_t n, int phase, float scale, void *work, float *gP, float *dQt,
                    double *losses);

/* The sampled form (docs/distillation.md, "Sampled rest sets"): Z(T), the sum of exp(s) over
 * the rest set E_u minus T, is replaced by its importance estimate from draws of a proposal q
 * (optim/proposal.h), sum_j 1[item_j in the rest set] w_j e_j with w_j = 1 / (n q(item_j));
 * the other two rest sums are Z(T) plus exact sums over T's tail, so one set of draws serves
 * every term. Cost O((|P| + |T| + n) d) per user instead of O(items x d). */
typedef struct {
    const int32_t *items; /* n draws, with replacement (listed and train items count zero) */
    const float *w;       /* their importance weights */
    int32_t n;
} hc_akt_draws;

/* For user u (row u of pb->P; pb->Qt is not read) with lists l and draws dr: adds
 * scale * dL/dp_u into gp (d floats) and writes coef (n_p + n_t + dr->n floats, n_p and n_t
 * cut as the loss cuts them): the item gradients, scale * dL/dq_i = coef[j] p_u, for the
 * listed items (P then T) and then for each draw (zero for a draw outside the rest set or
 * clamped). level: n_items zeroed bytes, returned zeroed. Returns the unscaled loss. */
double hc_akt_sampled_user(const hc_akt_problem *pb, int32_t u, const hc_akt_lists *l,
                           const hc_akt_draws *dr, int phase, float scale, uint8_t *level,
                           float *gp, float *coef);

/* The sampled kernel (what the sampled path trains with): one set of draws shared by every
 * user of a step, so the per-user work is two vectorised passes over the draws' transposed
 * factors, as in the fused exact kernel over a catalog of n draws. Equal, up to float
 * rounding, to hc_akt_sampled_user with the same draws. */
typedef struct {
    hc_akt_draws draws;    /* sorted by item */
    const float *Qt;       /* d x n: the drawn items' factors, transposed (row stride n) */
    const uint64_t *drawn; /* (n_items + 63) / 64 words: a bit per drawn item */
    const int32_t *rank;   /* same words: the distinct drawn items before word w (used only
                            * where drawn[w] != 0, read anywhere: defined everywhere) */
    const int32_t *start;  /* distinct drawn items + 1: each one's first draw, then n. A drawn
                            * item's draws are found from the bitmap and these two (3 bits an
                            * item, in cache), not from an int table of n_items (which missed). */
} hc_akt_shared_draws;

/* Bytes of work memory hc_akt_shared_user needs for n draws at dimension d. */
size_t hc_akt_shared_work_size(int32_t n_draws, int32_t d);
/* User u's loss with the shared draws dr: adds scale * dL/dp_u into gp (d floats), writes the
 * listed items' coefficients into coef as hc_akt_sampled_user does (n_p + n_t floats), and
 * adds the draws' gradients scale * dL/dq into dq, laid out in tiles of 512 draws: draw j's
 * factor q at dq[(j / 512) * 512 * d + q * 512 + j % 512] (the caller sizes dq for whole
 * tiles). Returns the unscaled loss. */
double hc_akt_shared_user(const hc_akt_problem *pb, int32_t u, const hc_akt_lists *l,
                          const hc_akt_shared_draws *dr, int phase, float scale, void *work,
                          float *gp, float *coef, float *dq);
#define HC_AKT_TILE 512

#endif
