/*
 * test_akt.c - HetComp's adaptive knowledge transfer losses for one user (src/distill/akt.c):
 * the returned loss against a plain double-precision reference written from docs/method.md §5
 * (explicit sets, no level bytes, no vectorised exp), the gradient against central finite
 * differences of the returned loss, a tiny case worked out by hand, the [-40, 40] clamp, the
 * scale, the level array's reset, and invariance under relabelling the items.
 *
 * Cases are small (40-60 items, K = 20 so K/2 = 10 and K/10 = 2) and cover the shapes real
 * users have: short observed lists (63% of CiteULike-t users have fewer than 10 train items),
 * empty ones, ensemble lists shorter than K/2 and K/10, and lists covering every unobserved
 * item (Z = 0).
 *
 * Tolerances: scores are float and e = exp(s) goes through a float polynomial (relative
 * error 3e-7) and float partial sums, so the loss carries ~1e-7 relative noise; with
 * h = 1e-2 that is ~1e-5 absolute noise on a derivative of order 1, and the O(h^2)
 * truncation error is of the same order. The gradient check allows 1e-3 relative error with
 * an absolute floor of 2e-4 (both times the scale).
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distill/akt.h"

#define FD_H     1e-2f
#define FD_REL   1e-3
#define FD_ABS   2e-4
#define LOSS_REL 2e-6 /* returned loss vs the double reference */
#define MAXN     128

/* One user: scores over n_items and the three lists (item indices). */
typedef struct {
    int32_t n_items;
    float s[MAXN];
    int32_t train[MAXN], n_train;
    int32_t P[MAXN], n_p;
    int32_t T[MAXN], n_t;
    int32_t k;
} acase;

static hc_akt_lists lists_of(const acase *c)
{
    hc_akt_lists l = {c->train, c->n_train, c->P, c->n_p, c->T, c->n_t, c->k};
    return l;
}

/* ------------------------------------------------------------------ reference */

static double clampd(double x)
{
    return x < -40.0 ? -40.0 : x > 40.0 ? 40.0 : x;
}

static int in_list(const int32_t *l, int32_t n, int32_t it)
{
    for (int32_t j = 0; j < n; j++)
        if (l[j] == it)
            return 1;
    return 0;
}

/* Z(L[:n]) = sum of exp(s_k) over unobserved items k outside L[:n]. */
static double ref_Z(const acase *c, const int32_t *L, int32_t n)
{
    double z = 0.0;
    for (int32_t i = 0; i < c->n_items; i++)
        if (!in_list(c->train, c->n_train, i) && !in_list(L, n, i))
            z += exp(clampd((double)c->s[i]));
    return z;
}

/* PL(L, R) = - sum_t [ s_{l_t} - log( sum_{t' >= t} exp(s_{l_t'}) + R ) ]. */
static double ref_PL(const acase *c, const int32_t *L, int32_t n, double R)
{
    double loss = 0.0;
    for (int32_t t = 0; t < n; t++) {
        double d = R;
        for (int32_t q = t; q < n; q++)
            d += exp(clampd((double)c->s[L[q]]));
        loss += log(d) - clampd((double)c->s[L[t]]);
    }
    return loss;
}

/* docs/method.md §5, term by term. */
static double ref_loss(const acase *c, int phase)
{
    if (phase == 1) {
        double Z = ref_Z(c, c->T, c->n_t), loss = 0.0;
        for (int32_t j = 0; j < c->n_p + c->n_t; j++) {
            double sj = clampd((double)(j < c->n_p ? c->s[c->P[j]] : c->s[c->T[j - c->n_p]]));
            loss += log(exp(sj) + Z) - sj;
        }
        return loss;
    }
    int32_t n50 = c->n_t < c->k / 2 ? c->n_t : c->k / 2;
    int32_t n10 = c->n_t < c->k / 10 ? c->n_t : c->k / 10;
    double Z50 = ref_Z(c, c->T, n50), Z10 = ref_Z(c, c->T, n10);
    return ref_PL(c, c->P, c->n_p, Z50) +
           0.5 * (ref_PL(c, c->T, n50, Z50) + ref_PL(c, c->T, n10, Z10));
}

/* ------------------------------------------------------------------ cases */

/* A random user: n_train train items (a random subset), P the first n_p of them in a random
 * order, T n_t random unobserved items, scores uniform in [-lo_hi, lo_hi]. */
static void make_case(acase *c, uint64_t seed, int32_t n_items, int32_t n_train, int32_t n_p,
                      int32_t n_t, float lo_hi)
{
    assert_true(n_items <= MAXN && n_train + n_t <= n_items && n_p <= n_train);
    memset(c, 0, sizeof *c);
    hc_rng r;
    hc_rng_init(&r, seed, 7);
    int32_t perm[MAXN];
    for (int32_t i = 0; i < n_items; i++)
        perm[i] = i;
    hc_rng_shuffle_i32(&r, perm, n_items);
    c->n_items = n_items;
    c->k = 20;
    c->n_train = n_train;
    for (int32_t j = 0; j < n_train; j++)
        c->train[j] = perm[j];
    c->n_t = n_t;
    for (int32_t j = 0; j < n_t; j++)
        c->T[j] = perm[n_train + j];
    int32_t tp[MAXN];
    memcpy(tp, c->train, (size_t)n_train * sizeof *tp);
    hc_rng_shuffle_i32(&r, tp, n_train);
    c->n_p = n_p;
    memcpy(c->P, tp, (size_t)n_p * sizeof *tp);
    for (int32_t i = 0; i < n_items; i++)
        c->s[i] = lo_hi * (2.0f * hc_rng_float(&r) - 1.0f);
}

/* Calls hc_akt_user on a fresh level array (checked zero afterwards) and a gradient buffer
 * filled with NaN (so a gradient entry the function forgets to write shows up). */
static double run(const acase *c, const float *s, int phase, float scale, float *g)
{
    uint8_t level[MAXN];
    memset(level, 0, sizeof level);
    for (int32_t i = 0; i < c->n_items; i++)
        g[i] = NAN;
    hc_akt_lists l = lists_of(c);
    double loss = hc_akt_user(s, c->n_items, &l, phase, scale, level, g);
    for (int32_t i = 0; i < MAXN; i++)
        if (level[i] != 0)
            fail_msg("level[%d] = %d after the call", i, level[i]);
    assert_false(isnan(loss) || isinf(loss));
    for (int32_t i = 0; i < c->n_items; i++)
        if (!isfinite(g[i]))
            fail_msg("g[%d] = %g", i, (double)g[i]);
    return loss;
}

/* The loss against the reference, and every item's gradient against central differences
 * of the returned loss. */
static void check_case(const acase *c, int phase, float scale, const char *what)
{
    float g[MAXN], scratch[MAXN], s[MAXN];
    double loss = run(c, c->s, phase, scale, g);
    double want = ref_loss(c, phase);
    if (fabs(loss - want) > LOSS_REL * (1.0 + fabs(want)))
        fail_msg("%s phase %d: loss %.10g, reference %.10g", what, phase, loss, want);
    memcpy(s, c->s, sizeof s);
    for (int32_t i = 0; i < c->n_items; i++) {
        float keep = s[i];
        s[i] = keep + FD_H;
        double up = (double)s[i], lp = run(c, s, phase, scale, scratch);
        s[i] = keep - FD_H;
        double dn = (double)s[i], lm = run(c, s, phase, scale, scratch);
        s[i] = keep;
        double num = (double)scale * (lp - lm) / (up - dn);
        double tol = (double)scale * FD_ABS + FD_REL * fabs(num);
        if (fabs((double)g[i] - num) > tol)
            fail_msg("%s phase %d item %d (s %g): analytic %.8g numeric %.8g", what, phase, i,
                     (double)keep, (double)g[i], num);
    }
}

/* ------------------------------------------------------------------ tests */

/* A tiny case by hand: items 0..3, train {0}, P = (0), T = (1, 2), K = 20 (so T[:K/2] =
 * T[:K/10] = T), s = (0.5, 1.0, -0.5, 0.2). The only unobserved item outside T is 3.
 * Phase 1, Z(T) = e^0.2:
 *   L = [log(e^0.5 + e^0.2) - 0.5] + [log(e^1 + e^0.2) - 1] + [log(e^-0.5 + e^0.2) + 0.5]
 *     = 0.5543552445 + 0.3711006659 + 1.1031860489 = 2.0286419598
 *   dL/ds_j = -1 + e^s_j / (e^s_j + e^0.2) for j = 0, 1, 2: -0.4255574832, -0.3100255189,
 *   -0.6681877722; dL/ds_3 = e^0.2 (sum of the three 1/(e^s_j + e^0.2)) = 1.4037707742.
 * Phase 2, Z(T[:10]) = Z(T[:2]) = e^0.2, and the two T terms are the same PL, halved twice:
 *   L = PL((0), e^0.2) + PL((1, 2), e^0.2)
 *     = 0.5543552445 + [log(e^1 + e^-0.5 + e^0.2) - 1] + [log(e^-0.5 + e^0.2) + 0.5]
 *     = 0.5543552445 + 0.5142950728 + 1.1031860489 = 2.1718363662 */
static void test_hand_case(void **state)
{
    (void)state;
    acase c;
    memset(&c, 0, sizeof c);
    c.n_items = 4;
    c.k = 20;
    c.s[0] = 0.5f;
    c.s[1] = 1.0f;
    c.s[2] = -0.5f;
    c.s[3] = 0.2f;
    c.train[0] = 0;
    c.n_train = 1;
    c.P[0] = 0;
    c.n_p = 1;
    c.T[0] = 1;
    c.T[1] = 2;
    c.n_t = 2;
    float g[MAXN];
    double loss = run(&c, c.s, 1, 1.0f, g);
    assert_near(loss, 2.0286419598, 1e-6);
    assert_near(g[0], -0.4255574832, 1e-6);
    assert_near(g[1], -0.3100255189, 1e-6);
    assert_near(g[2], -0.6681877722, 1e-6);
    assert_near(g[3], 1.4037707742, 1e-6);
    /* the gradient sums to zero (softmax-style terms); so it does with a scale */
    loss = run(&c, c.s, 1, 0.01f, g);
    assert_near(loss, 2.0286419598, 1e-6);
    assert_near(g[3], 0.014037707742, 1e-8);
    assert_near(g[0] + g[1] + g[2] + g[3], 0.0, 1e-8);
    loss = run(&c, c.s, 2, 1.0f, g);
    assert_near(loss, 2.1718363662, 1e-6);
    check_case(&c, 1, 1.0f, "hand");
    check_case(&c, 2, 1.0f, "hand");
}

/* Typical users, both phases, a few seeds and scales. */
static void test_random_cases(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        acase c;
        int32_t n = 40 + (int32_t)(seed * 4); /* 44 .. 64 items */
        make_case(&c, seed, n, 12, 2 + (int32_t)seed % 3, 20, 3.0f);
        check_case(&c, 1, 1.0f, "random");
        check_case(&c, 2, 1.0f, "random");
        check_case(&c, 1, 0.01f, "random scaled");
        check_case(&c, 2, 0.005f, "random scaled");
    }
}

/* Short and empty lists: P shorter than K/10, P empty (with and without train items), T
 * shorter than K/2 and than K/10, T empty, everything empty. */
static void test_short_lists(void **state)
{
    (void)state;
    acase c;
    /* one train item, P of 1 < K/10 = 2 */
    make_case(&c, 11, 50, 1, 1, 20, 2.0f);
    check_case(&c, 1, 1.0f, "short P");
    check_case(&c, 2, 1.0f, "short P");
    /* P empty, train items present */
    make_case(&c, 12, 50, 6, 0, 20, 2.0f);
    check_case(&c, 1, 1.0f, "empty P");
    check_case(&c, 2, 1.0f, "empty P");
    /* no train items at all */
    make_case(&c, 13, 45, 0, 0, 20, 2.0f);
    check_case(&c, 1, 1.0f, "no train");
    check_case(&c, 2, 1.0f, "no train");
    /* T shorter than K/2 = 10 */
    make_case(&c, 14, 50, 8, 3, 6, 2.0f);
    check_case(&c, 1, 1.0f, "T of 6");
    check_case(&c, 2, 1.0f, "T of 6");
    /* T shorter than K/10 = 2 */
    make_case(&c, 15, 50, 8, 3, 1, 2.0f);
    check_case(&c, 1, 1.0f, "T of 1");
    check_case(&c, 2, 1.0f, "T of 1");
    /* T empty: only the P terms remain */
    make_case(&c, 16, 50, 8, 4, 0, 2.0f);
    check_case(&c, 1, 1.0f, "T empty");
    check_case(&c, 2, 1.0f, "T empty");
    /* nothing listed: loss 0, gradient 0 */
    make_case(&c, 17, 40, 5, 0, 0, 2.0f);
    float g[MAXN];
    for (int phase = 1; phase <= 2; phase++) {
        assert_near(run(&c, c.s, phase, 1.0f, g), 0.0, 0.0);
        for (int32_t i = 0; i < c.n_items; i++)
            assert_near(g[i], 0.0, 0.0);
    }
}

/* T covers every unobserved item, so Z(T) = 0 in phase 1: each T term is log(e^s_j) - s_j
 * = 0 and only P's terms remain (Z(T) stays an exact masked zero, no cancellation). In phase
 * 2 a T of K/2 = 10 covering everything makes Z(T[:K/2]) = 0. Loss finite, no NaN,
 * gradients still match the differences. */
static void test_zero_rest(void **state)
{
    (void)state;
    acase c;
    float g[MAXN];
    /* 40 items, 20 train, T = the other 20 */
    make_case(&c, 21, 40, 20, 2, 20, 3.0f);
    for (int phase = 1; phase <= 2; phase++) {
        double loss = run(&c, c.s, phase, 1.0f, g);
        assert_true(isfinite(loss));
        if (phase == 1) {
            /* every term is log(e^s_j + 0) - s_j: zero up to the float exp's error */
            assert_near(loss, 0.0, 1e-5);
            for (int32_t i = 0; i < c.n_items; i++)
                assert_near(g[i], 0.0, 1e-6);
        }
    }
    check_case(&c, 1, 1.0f, "Z(T) = 0");
    check_case(&c, 2, 1.0f, "Z(T) = 0");
    /* 16 items, 6 train, T = the other 10 = K/2 */
    make_case(&c, 22, 16, 6, 2, 10, 3.0f);
    check_case(&c, 1, 1.0f, "Z(T[:K/2]) = 0");
    check_case(&c, 2, 1.0f, "Z(T[:K/2]) = 0");
    /* very negative rest scores: Z tiny but positive, still finite */
    make_case(&c, 23, 50, 10, 2, 20, 2.0f);
    for (int32_t i = 0; i < c.n_items; i++)
        if (!in_list(c.T, c.n_t, i) && !in_list(c.train, c.n_train, i))
            c.s[i] = -39.0f;
    check_case(&c, 1, 1.0f, "tiny Z");
    check_case(&c, 2, 1.0f, "tiny Z");
}

/* Scores beyond [-40, 40] are clamped inside the loss: their gradient is exactly zero
 * (rest items, list items and train items alike), the loss sees the clamped value, and
 * the other gradients still match the differences. */
static void test_clamp(void **state)
{
    (void)state;
    acase c;
    float g[MAXN];
    make_case(&c, 31, 50, 10, 3, 20, 2.0f);
    int32_t rest = -1;
    for (int32_t i = 0; i < c.n_items && rest < 0; i++)
        if (!in_list(c.T, c.n_t, i) && !in_list(c.train, c.n_train, i))
            rest = i;
    assert_true(rest >= 0);
    int32_t out[] = {rest, c.T[0], c.T[15], c.P[1], c.train[c.n_train - 1]};
    float val[] = {-45.0f, 41.0f, -100.0f, 40.5f, -40.25f};
    for (int q = 0; q < 5; q++)
        c.s[out[q]] = val[q];
    for (int phase = 1; phase <= 2; phase++) {
        run(&c, c.s, phase, 1.0f, g);
        for (int q = 0; q < 5; q++)
            if (g[out[q]] != 0.0f)
                fail_msg("phase %d: item %d at %g has gradient %g", phase, out[q], (double)val[q],
                         (double)g[out[q]]);
        check_case(&c, phase, 1.0f, "clamped");
    }
    /* the loss sees the clamped value: -45 and -41 give the same loss as -40 */
    acase d = c;
    d.s[rest] = -40.0f;
    d.s[c.T[0]] = 40.0f;
    d.s[c.T[15]] = -40.0f;
    d.s[c.P[1]] = 40.0f;
    d.s[c.train[c.n_train - 1]] = -40.0f;
    for (int phase = 1; phase <= 2; phase++)
        assert_near(run(&c, c.s, phase, 1.0f, g), run(&d, d.s, phase, 1.0f, g), 0.0);
}

/* scale multiplies the gradient only (the returned loss is unscaled), exactly. */
static void test_scale(void **state)
{
    (void)state;
    acase c;
    float g1[MAXN], g2[MAXN];
    make_case(&c, 41, 48, 9, 4, 20, 3.0f);
    for (int phase = 1; phase <= 2; phase++) {
        double l1 = run(&c, c.s, phase, 1.0f, g1);
        const float sc = phase == 1 ? 0.01f : 0.005f;
        double l2 = run(&c, c.s, phase, sc, g2);
        assert_near(l1, l2, 0.0);
        for (int32_t i = 0; i < c.n_items; i++)
            assert_near(g2[i], g1[i] * sc, 0.0);
    }
}

/* Relabelling the items consistently (scores, train, P, T) gives the same loss and the
 * relabelled gradient; the level array is per-item, so order must not matter. */
static void test_permutation_invariance(void **state)
{
    (void)state;
    for (uint64_t seed = 51; seed <= 54; seed++) {
        acase c, d;
        make_case(&c, seed, 56, 10, 5, 20, 3.0f);
        int32_t pi[MAXN];
        for (int32_t i = 0; i < c.n_items; i++)
            pi[i] = i;
        hc_rng r;
        hc_rng_init(&r, seed, 3);
        hc_rng_shuffle_i32(&r, pi, c.n_items);
        d = c;
        for (int32_t i = 0; i < c.n_items; i++)
            d.s[pi[i]] = c.s[i];
        for (int32_t j = 0; j < c.n_train; j++)
            d.train[j] = pi[c.train[j]];
        for (int32_t j = 0; j < c.n_p; j++)
            d.P[j] = pi[c.P[j]];
        for (int32_t j = 0; j < c.n_t; j++)
            d.T[j] = pi[c.T[j]];
        float gc[MAXN], gd[MAXN];
        for (int phase = 1; phase <= 2; phase++) {
            double lc = run(&c, c.s, phase, 1.0f, gc), ld = run(&d, d.s, phase, 1.0f, gd);
            /* only the float summation order of the rest sums differs */
            assert_near(lc, ld, 1e-6 * (1.0 + fabs(lc)));
            for (int32_t i = 0; i < c.n_items; i++)
                assert_near(gc[i], gd[pi[i]], 1e-6);
        }
    }
}

/* Back-to-back calls with one level array (as a thread does in the hot loop): each call
 * resets what it set, so a second user's loss does not see the first one's lists. */
static void test_level_reuse(void **state)
{
    (void)state;
    acase a, b;
    make_case(&a, 61, 50, 12, 4, 20, 3.0f);
    make_case(&b, 62, 50, 7, 2, 15, 3.0f);
    uint8_t level[MAXN];
    memset(level, 0, sizeof level);
    float g[MAXN];
    for (int phase = 1; phase <= 2; phase++) {
        hc_akt_lists la = lists_of(&a), lb = lists_of(&b);
        hc_akt_user(a.s, a.n_items, &la, phase, 1.0f, level, g);
        double lb1 = hc_akt_user(b.s, b.n_items, &lb, phase, 1.0f, level, g);
        for (int32_t i = 0; i < MAXN; i++)
            assert_int_equal(level[i], 0);
        assert_near(lb1, ref_loss(&b, phase), LOSS_REL * (1.0 + lb1));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_case),
        cmocka_unit_test(test_random_cases),
        cmocka_unit_test(test_short_lists),
        cmocka_unit_test(test_zero_rest),
        cmocka_unit_test(test_clamp),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_permutation_invariance),
        cmocka_unit_test(test_level_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
