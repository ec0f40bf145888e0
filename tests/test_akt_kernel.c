/*
 * test_akt_kernel.c - the fused AKT kernel (hc_akt_group) against the reference per-user form
 * (hc_akt_user followed by dp = g Q and dQ = g^T p): same losses and gradients up to float
 * rounding, for both phases, groups of every size, catalogs that are not a multiple of the
 * tile, short lists and clamped scores.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distill/akt.h"

enum { U = 13, I = 1300, D = 6, K = 20 };

typedef struct {
    int32_t train[8], P[2], T[K];
    int32_t n_train, n_p, n_t;
} user_lists;

static void make_lists(hc_rng *r, user_lists *ul)
{
    /* distinct random items: train first, then T */
    int32_t used[8 + K];
    int32_t n = 0;
    ul->n_train = 1 + (int32_t)hc_rng_below(r, 8);
    ul->n_t = 1 + (int32_t)hc_rng_below(r, K);
    while (n < ul->n_train + ul->n_t) {
        int32_t it = (int32_t)hc_rng_below(r, I), dup = 0;
        for (int32_t q = 0; q < n; q++)
            dup |= used[q] == it;
        if (!dup)
            used[n++] = it;
    }
    memcpy(ul->train, used, (size_t)ul->n_train * sizeof(int32_t));
    memcpy(ul->T, used + ul->n_train, (size_t)ul->n_t * sizeof(int32_t));
    ul->n_p = ul->n_train < 2 ? ul->n_train : 2;
    memcpy(ul->P, ul->train, (size_t)ul->n_p * sizeof(int32_t));
}

static hc_akt_lists as_lists(const user_lists *ul)
{
    hc_akt_lists l = {ul->train, ul->n_train, ul->P, ul->n_p, ul->T, ul->n_t, K};
    return l;
}

static void check_phase(int phase)
{
    hc_rng r;
    hc_rng_init(&r, 5, (uint64_t)phase);
    float *P = malloc(U * D * sizeof(float)), *Q = malloc(I * D * sizeof(float));
    float *Qt = malloc(I * D * sizeof(float));
    for (int k = 0; k < U * D; k++)
        P[k] = (float)hc_rng_normal(&r);
    for (int k = 0; k < I * D; k++)
        Q[k] = (float)hc_rng_normal(&r);
    /* user 3's scores go beyond the clamp */
    for (int j = 0; j < D; j++)
        P[3 * D + j] *= 12.0f;
    for (int i = 0; i < I; i++)
        for (int j = 0; j < D; j++)
            Qt[j * I + i] = Q[i * D + j];
    user_lists ul[U];
    hc_akt_lists l[U];
    int32_t users[U];
    for (int u = 0; u < U; u++) {
        make_lists(&r, &ul[u]);
        l[u] = as_lists(&ul[u]);
        users[u] = u;
    }
    const float scale = 0.01f;
    /* reference */
    float *gP_ref = calloc(U * D, sizeof(float)), *dQ_ref = calloc(I * D, sizeof(float));
    double loss_ref[U];
    float *s = malloc(I * sizeof(float)), *g = malloc(I * sizeof(float));
    uint8_t *level = calloc(I, 1);
    for (int u = 0; u < U; u++) {
        for (int i = 0; i < I; i++) {
            float v = 0;
            for (int j = 0; j < D; j++)
                v += P[u * D + j] * Q[i * D + j];
            s[i] = v;
        }
        loss_ref[u] = hc_akt_user(s, I, &l[u], phase, scale, level, g);
        for (int i = 0; i < I; i++)
            for (int j = 0; j < D; j++) {
                gP_ref[u * D + j] += g[i] * Q[i * D + j];
                dQ_ref[i * D + j] += g[i] * P[u * D + j];
            }
    }
    /* kernel, in groups of 8 then 5 */
    float *gP = calloc(U * D, sizeof(float)), *dQt = calloc(I * D, sizeof(float));
    double loss[U];
    size_t ws = (hc_akt_work_size(I, D) + 63) & ~(size_t)63;
    void *work = aligned_alloc(64, ws);
    memset(work, 0, ws);
    hc_akt_problem pb = {P, Q, Qt, D, I};
    hc_akt_group(&pb, users, l, 8, phase, scale, work, gP, dQt, loss);
    hc_akt_group(&pb, users + 8, l + 8, U - 8, phase, scale, work, gP, dQt, loss + 8);
    for (int u = 0; u < U; u++) {
        if (fabs(loss[u] - loss_ref[u]) > 1e-5 * (1.0 + fabs(loss_ref[u])))
            fail_msg("phase %d user %d: loss %g vs %g", phase, u, loss[u], loss_ref[u]);
        for (int j = 0; j < D; j++) {
            double a = gP[u * D + j], b = gP_ref[u * D + j];
            if (fabs(a - b) > 1e-4 * (fabs(b) + 1e-3))
                fail_msg("phase %d user %d dp[%d]: %g vs %g", phase, u, j, a, b);
        }
    }
    for (int i = 0; i < I; i++)
        for (int j = 0; j < D; j++) {
            double a = dQt[j * I + i], b = dQ_ref[i * D + j];
            if (fabs(a - b) > 1e-4 * (fabs(b) + 1e-4))
                fail_msg("phase %d item %d dq[%d]: %g vs %g", phase, i, j, a, b);
        }
    for (int i = 0; i < I; i++)
        assert_int_equal(level[i], 0);
    free(P);
    free(Q);
    free(Qt);
    free(gP_ref);
    free(dQ_ref);
    free(s);
    free(g);
    free(level);
    free(gP);
    free(dQt);
    free(work);
}

static void test_kernel_phase1(void **state)
{
    (void)state;
    check_phase(1);
}

static void test_kernel_phase2(void **state)
{
    (void)state;
    check_phase(2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_phase1),
        cmocka_unit_test(test_kernel_phase2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
