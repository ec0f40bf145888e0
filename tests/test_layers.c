/*
 * test_layers.c - the dense-network layers (nn/layers.h): every backward pass against central
 * finite differences of a scalar probe loss L = <C, layer(x)> (C random), the fused losses
 * against their definitions in double, dropout masks, and the vectorised exp / softplus /
 * sigmoid against libm.
 *
 * Tolerance: relative error below 1e-3 with a 2e-5 absolute floor, step h = 1e-2 (float
 * rounding of L, ~1e-7 relative, stays far below the tolerance at this step; the truncation
 * error of these smooth functions is O(h^2) ~ 1e-5).
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"
#include "nn/softmax_out.h"

#define H_STEP 1e-2f

static void fill(hc_rng *r, float *x, int n, float scale)
{
    for (int k = 0; k < n; k++)
        x[k] = scale * (float)hc_rng_normal(r);
}

static double dotd(const float *a, const float *b, int n)
{
    double s = 0.0;
    for (int k = 0; k < n; k++)
        s += (double)a[k] * (double)b[k];
    return s;
}

static void check_close(const char *what, int k, double analytic, double numeric)
{
    double err = fabs(analytic - numeric);
    if (err > 1e-3 * (fabs(analytic) + fabs(numeric)) + 2e-5)
        fail_msg("%s[%d]: analytic %g numeric %g", what, k, analytic, numeric);
}

/* A probe: the layer's forward as a function of its parameters, evaluated as <C, y>. */
typedef double (*probe_fn)(void *ctx);

/* Checks grad (n entries) against central differences of probe over x[0..n). */
static void check_grad(const char *what, float *x, const float *grad, int n, probe_fn probe,
                       void *ctx)
{
    for (int k = 0; k < n; k++) {
        float keep = x[k];
        x[k] = keep + H_STEP;
        double lp = probe(ctx);
        x[k] = keep - H_STEP;
        double lm = probe(ctx);
        x[k] = keep;
        check_close(what, k, (double)grad[k], (lp - lm) / (2.0 * (double)H_STEP));
    }
}

/* ------------------------------------------------------------------ linear */

enum { N = 3, IN = 4, OUT = 5 };

typedef struct {
    float X[N * IN], W[OUT * IN], b[OUT], C[N * OUT], Y[N * OUT];
} lin_ctx;

static double lin_probe(void *p)
{
    lin_ctx *c = p;
    hc_nn_linear_fwd(N, IN, OUT, c->X, c->W, c->b, c->Y);
    return dotd(c->C, c->Y, N * OUT);
}

static void test_linear(void **state)
{
    (void)state;
    hc_rng r;
    hc_rng_init(&r, 1, 1);
    lin_ctx c;
    fill(&r, c.X, N * IN, 1.0f);
    fill(&r, c.W, OUT * IN, 1.0f);
    fill(&r, c.b, OUT, 1.0f);
    fill(&r, c.C, N * OUT, 1.0f);
    float dX[N * IN], dW[OUT * IN], db[OUT];
    hc_nn_linear_bwd(N, IN, OUT, c.X, c.W, c.C, dX, dW, db, 0.0f);
    check_grad("linear dX", c.X, dX, N * IN, lin_probe, &c);
    check_grad("linear dW", c.W, dW, OUT * IN, lin_probe, &c);
    check_grad("linear db", c.b, db, OUT, lin_probe, &c);
    /* beta = 1 accumulates */
    float dW2[OUT * IN], db2[OUT];
    memcpy(dW2, dW, sizeof dW);
    memcpy(db2, db, sizeof db);
    hc_nn_linear_bwd(N, IN, OUT, c.X, c.W, c.C, NULL, dW2, db2, 1.0f);
    for (int k = 0; k < OUT * IN; k++)
        assert_near(dW2[k], 2.0f * dW[k], 1e-5);
    for (int k = 0; k < OUT; k++)
        assert_near(db2[k], 2.0f * db[k], 1e-5);
    /* the forward against the definition */
    hc_nn_linear_fwd(N, IN, OUT, c.X, c.W, c.b, c.Y);
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OUT; o++)
            assert_near(c.Y[i * OUT + o], (double)c.b[o] + dotd(c.X + i * IN, c.W + o * IN, IN),
                        1e-5);
}

/* ------------------------------------------------------------------ sparse input layer */

typedef struct {
    hc_nn_sparse x;
    float Wt[6 * OUT], b[OUT], C[N * OUT], Y[N * OUT];
} sp_ctx;

static double sp_probe(void *p)
{
    sp_ctx *c = p;
    hc_nn_sparse_linear_fwd(&c->x, OUT, c->Wt, c->b, c->Y);
    return dotd(c->C, c->Y, N * OUT);
}

static void test_sparse_linear(void **state)
{
    (void)state;
    /* 3 rows over 6 input columns; column 2 is shared by rows 0 and 2, row 1 is empty */
    static const int64_t ptr[N + 1] = {0, 2, 2, 5};
    static const int32_t col[5] = {2, 4, 0, 2, 5};
    static const float val[5] = {0.5f, -1.0f, 2.0f, 1.5f, 0.25f};
    sp_ctx c;
    c.x = (hc_nn_sparse){N, ptr, col, val};
    hc_rng r;
    hc_rng_init(&r, 2, 1);
    fill(&r, c.Wt, 6 * OUT, 1.0f);
    fill(&r, c.b, OUT, 1.0f);
    fill(&r, c.C, N * OUT, 1.0f);
    float dWt[6 * OUT] = {0}, db[OUT];
    hc_nn_sparse_linear_bwd(&c.x, OUT, c.C, dWt, db, 0.0f);
    check_grad("sparse dWt", c.Wt, dWt, 6 * OUT, sp_probe, &c);
    check_grad("sparse db", c.b, db, OUT, sp_probe, &c);
    /* untouched columns (1, 3) get no gradient; the empty row is the bias */
    for (int o = 0; o < OUT; o++) {
        assert_true(dWt[1 * OUT + o] == 0.0f && dWt[3 * OUT + o] == 0.0f);
        sp_probe(&c);
        assert_true(c.Y[1 * OUT + o] == c.b[o]);
    }
}

/* ------------------------------------------------------------------ activations */

enum { NA = 24 };

typedef struct {
    hc_act a;
    float x[NA], C[NA], y[NA];
} act_ctx;

static double act_probe(void *p)
{
    act_ctx *c = p;
    hc_nn_act_fwd(c->a, NA, c->x, c->y);
    return dotd(c->C, c->y, NA);
}

static void test_activations(void **state)
{
    (void)state;
    const hc_act acts[3] = {HC_ACT_RELU, HC_ACT_TANH, HC_ACT_SIGMOID};
    const char *names[3] = {"relu", "tanh", "sigmoid"};
    for (int k = 0; k < 3; k++) {
        act_ctx c;
        c.a = acts[k];
        hc_rng r;
        hc_rng_init(&r, 3, (uint64_t)k);
        fill(&r, c.x, NA, 2.0f);
        /* keep relu inputs off its kink by more than the step */
        for (int q = 0; q < NA; q++)
            if (fabsf(c.x[q]) < 0.05f)
                c.x[q] = 0.3f;
        fill(&r, c.C, NA, 1.0f);
        float dx[NA];
        hc_nn_act_fwd(c.a, NA, c.x, c.y);
        hc_nn_act_bwd(c.a, NA, c.y, c.C, dx);
        check_grad(names[k], c.x, dx, NA, act_probe, &c);
        hc_nn_act_fwd(c.a, NA, c.x, c.y);
        for (int q = 0; q < NA; q++) {
            double x = (double)c.x[q];
            double want = k == 0 ? (x > 0 ? x : 0) : k == 1 ? tanh(x) : 1.0 / (1.0 + exp(-x));
            assert_near(c.y[q], want, 1e-6);
        }
        /* in place: dx aliasing dy */
        float g[NA];
        memcpy(g, c.C, sizeof g);
        hc_nn_act_bwd(c.a, NA, c.y, g, g);
        assert_memory_equal(g, dx, sizeof g);
    }
}

/* ------------------------------------------------------------------ dropout */

static void test_dropout(void **state)
{
    (void)state;
    enum { M = 20000 };
    float *mask = malloc(M * sizeof(float));
    hc_rng r;
    hc_rng_init(&r, 4, 1);
    hc_nn_dropout_mask(&r, M, 0.5f, mask);
    int zeros = 0;
    for (int k = 0; k < M; k++) {
        assert_true(mask[k] == 0.0f || mask[k] == 2.0f);
        zeros += mask[k] == 0.0f;
    }
    /* binomial(20000, 0.5): sd 71 */
    assert_true(abs(zeros - M / 2) < 400);
    /* the same stream gives the same mask */
    float m2[64];
    hc_rng_init(&r, 4, 1);
    hc_nn_dropout_mask(&r, 64, 0.5f, m2);
    assert_memory_equal(m2, mask, sizeof m2);
    /* p = 0: all ones */
    hc_nn_dropout_mask(&r, 64, 0.0f, m2);
    for (int k = 0; k < 64; k++)
        assert_true(m2[k] == 1.0f);
    /* forward and backward with a fixed mask: d<C, x m>/dx = C m */
    act_ctx c; /* reuse the buffers */
    hc_rng_init(&r, 5, 1);
    fill(&r, c.x, NA, 1.0f);
    fill(&r, c.C, NA, 1.0f);
    float dx[NA], y[NA];
    hc_nn_dropout_fwd(NA, c.x, mask, y);
    hc_nn_dropout_bwd(NA, c.C, mask, dx);
    for (int k = 0; k < NA; k++) {
        assert_true(y[k] == c.x[k] * mask[k]);
        /* the layer is linear in x: the central difference is exact up to rounding */
        float keep = c.x[k];
        c.x[k] = keep + H_STEP;
        hc_nn_dropout_fwd(NA, c.x, mask, y);
        double lp = dotd(c.C, y, NA);
        c.x[k] = keep - H_STEP;
        hc_nn_dropout_fwd(NA, c.x, mask, y);
        double lm = dotd(c.C, y, NA);
        c.x[k] = keep;
        check_close("dropout", k, (double)dx[k], (lp - lm) / (2.0 * (double)H_STEP));
    }
    free(mask);
}

/* ------------------------------------------------------------------ softmax family */

enum { SR = 3, SC = 7 };

typedef struct {
    int log;
    float x[SR * SC], C[SR * SC], y[SR * SC];
} sm_ctx;

static double sm_probe(void *p)
{
    sm_ctx *c = p;
    if (c->log)
        hc_nn_log_softmax_rows(SR, SC, c->x, c->y);
    else
        hc_nn_softmax_rows(SR, SC, c->x, c->y, NULL);
    return dotd(c->C, c->y, SR * SC);
}

static void test_softmax(void **state)
{
    (void)state;
    for (int lg = 0; lg < 2; lg++) {
        sm_ctx c;
        c.log = lg;
        hc_rng r;
        hc_rng_init(&r, 6, (uint64_t)lg);
        fill(&r, c.x, SR * SC, 2.0f);
        fill(&r, c.C, SR * SC, 1.0f);
        float dx[SR * SC], lse[SR];
        sm_probe(&c);
        if (lg)
            hc_nn_log_softmax_bwd(SR, SC, c.y, c.C, dx);
        else
            hc_nn_softmax_bwd(SR, SC, c.y, c.C, dx);
        check_grad(lg ? "log_softmax" : "softmax", c.x, dx, SR * SC, sm_probe, &c);
        /* forward against the definition; lse */
        hc_nn_softmax_rows(SR, SC, c.x, c.y, lse);
        for (int i = 0; i < SR; i++) {
            double s = 0.0;
            for (int k = 0; k < SC; k++)
                s += exp((double)c.x[i * SC + k]);
            assert_near(lse[i], log(s), 1e-5);
            for (int k = 0; k < SC; k++)
                assert_near(c.y[i * SC + k], exp((double)c.x[i * SC + k]) / s, 1e-6);
        }
    }
    /* large logits do not overflow */
    float big[4] = {1000.0f, 999.0f, -1000.0f, 0.0f}, p[4], l;
    hc_nn_softmax_rows(1, 4, big, p, &l);
    assert_near(p[0], 1.0 / (1.0 + exp(-1.0)), 1e-6);
    assert_near(l, 1000.0 + log(1.0 + exp(-1.0)), 1e-3);
}

/* log-softmax + NLL: the fused multinomial loss against the composition. */
typedef struct {
    float z[SC], t[SC], dz[SC];
} nll_ctx;

static double nll_probe(void *p)
{
    nll_ctx *c = p;
    return hc_nn_mult_nll(SC, c->z, c->t, c->dz);
}

static void test_mult_nll(void **state)
{
    (void)state;
    nll_ctx c;
    hc_rng r;
    hc_rng_init(&r, 7, 1);
    fill(&r, c.z, SC, 2.0f);
    for (int k = 0; k < SC; k++)
        c.t[k] = (k % 3 == 0) ? 1.0f : 0.0f;
    float dz[SC], ls[SC], dls[SC], dls_z[SC];
    double loss = hc_nn_mult_nll(SC, c.z, c.t, dz);
    check_grad("mult_nll", c.z, dz, SC, nll_probe, &c);
    /* = -<t, log_softmax(z)>, and its gradient through log_softmax_bwd with dy = -t */
    hc_nn_log_softmax_rows(1, SC, c.z, ls);
    for (int k = 0; k < SC; k++)
        dls[k] = -c.t[k];
    hc_nn_log_softmax_bwd(1, SC, ls, dls, dls_z);
    assert_near(loss, -dotd(c.t, ls, SC), 1e-5);
    for (int k = 0; k < SC; k++)
        assert_near(dz[k], dls_z[k], 1e-6);
}

/* ------------------------------------------------------------------ softmax output layer */

enum { SO_N = 4, SO_IN = 3, SO_OUT = 11 };

typedef struct {
    float X[SO_N * SO_IN], W[SO_OUT * SO_IN], b[SO_OUT], E[SO_N * SO_OUT];
    float dW[SO_OUT * SO_IN], db[SO_OUT];
    int64_t tptr[SO_N + 1];
    int32_t tcol[SO_N * SO_OUT];
    int steps; /* step calls (from the layer's threads) */
    hc_nn_ws ws;
} so_ctx;

static void so_step(void *ctx, int32_t r0, int32_t nr, const float *dW, const float *db)
{
    so_ctx *c = ctx;
    memcpy(c->dW + r0 * SO_IN, dW, (size_t)nr * SO_IN * sizeof(float));
    memcpy(c->db + r0, db, (size_t)nr * sizeof(float));
#pragma omp atomic
    c->steps++;
}

static hc_nn_softmax_out so_layer(so_ctx *c)
{
    return (hc_nn_softmax_out){SO_N, SO_IN, SO_OUT, c->X, c->W, c->b, c->tptr, c->tcol, 0.25f};
}

/* The loss by its definition, in double: 0.25 sum_r (|t_r| lse_r - sum_{t_r} z). */
static double so_probe(void *p)
{
    so_ctx *c = p;
    double loss = 0.0;
    for (int r = 0; r < SO_N; r++) {
        double z[SO_OUT], mx = -INFINITY, s = 0.0;
        for (int o = 0; o < SO_OUT; o++) {
            z[o] = (double)c->b[o] + dotd(c->X + r * SO_IN, c->W + o * SO_IN, SO_IN);
            mx = z[o] > mx ? z[o] : mx;
        }
        for (int o = 0; o < SO_OUT; o++)
            s += exp(z[o] - mx);
        loss += (double)(c->tptr[r + 1] - c->tptr[r]) * (mx + log(s));
        for (int64_t k = c->tptr[r]; k < c->tptr[r + 1]; k++)
            loss -= z[c->tcol[k]];
    }
    return 0.25 * loss;
}

static void test_softmax_out(void **state)
{
    (void)state;
    so_ctx c = {0};
    hc_rng r;
    hc_rng_init(&r, 11, 1);
    fill(&r, c.X, SO_N * SO_IN, 1.0f);
    fill(&r, c.W, SO_OUT * SO_IN, 1.0f);
    fill(&r, c.b, SO_OUT, 1.0f);
    /* targets: row 0 one unit, row 1 three (across chunks), row 2 none, row 3 every unit */
    const int32_t t1[] = {7}, t2[] = {0, 5, 10};
    int64_t k = 0;
    c.tptr[0] = 0;
    c.tcol[k++] = t1[0];
    c.tptr[1] = k;
    for (int q = 0; q < 3; q++)
        c.tcol[k++] = t2[q];
    c.tptr[2] = k;
    c.tptr[3] = k;
    for (int o = 0; o < SO_OUT; o++)
        c.tcol[k++] = o;
    c.tptr[4] = k;
    /* the same result for every chunk size (1, 3, 4, the whole layer) */
    const int32_t chunks[] = {SO_OUT, 1, 3, 4};
    float dX0[SO_N * SO_IN], dW0[SO_OUT * SO_IN], db0[SO_OUT];
    double loss0 = 0.0;
    for (int q = 0; q < 4; q++) {
        hc_nn_softmax_out p = so_layer(&c);
        float dX[SO_N * SO_IN];
        double loss;
        c.steps = 0;
        TU_OK(hc_nn_softmax_out_train(&p, c.E, dX, &loss, chunks[q], so_step, &c, &c.ws));
        assert_int_equal(c.steps, (SO_OUT + chunks[q] - 1) / chunks[q]);
        assert_near(loss, so_probe(&c), 1e-5);
        if (q == 0) {
            loss0 = loss;
            memcpy(dX0, dX, sizeof dX);
            memcpy(dW0, c.dW, sizeof dW0);
            memcpy(db0, c.db, sizeof db0);
            continue;
        }
        assert_near(loss, loss0, 1e-5);
        for (int j = 0; j < SO_N * SO_IN; j++)
            assert_near(dX[j], dX0[j], 1e-5);
        for (int j = 0; j < SO_OUT * SO_IN; j++)
            assert_near(c.dW[j], dW0[j], 1e-5);
        for (int j = 0; j < SO_OUT; j++)
            assert_near(c.db[j], db0[j], 1e-5);
    }
    /* every gradient against central differences of the definition */
    check_grad("softmax_out dX", c.X, dX0, SO_N * SO_IN, so_probe, &c);
    check_grad("softmax_out dW", c.W, dW0, SO_OUT * SO_IN, so_probe, &c);
    check_grad("softmax_out db", c.b, db0, SO_OUT, so_probe, &c);
    /* no dX, no bias */
    memset(c.b, 0, sizeof c.b);
    hc_nn_softmax_out p = so_layer(&c);
    p.b = NULL;
    double loss;
    TU_OK(hc_nn_softmax_out_train(&p, c.E, NULL, &loss, 3, so_step, &c, &c.ws));
    assert_near(loss, so_probe(&c), 1e-5);
    hc_nn_ws_free(&c.ws);
}

/* Pipelined steps (hc_nn_softmax_out_step): three batches (the last one smaller) under SGD on
 * W and b give the same losses, dX and final weights as three unpipelined steps, while the
 * caller rewrites its inputs and targets between calls. */
enum { PL_N = 6, PL_IN = 5, PL_OUT = 37, PL_CHUNK = 8, PL_BATCHES = 3 };

typedef struct {
    float W[PL_OUT * PL_IN], b[PL_OUT];
} pl_ctx;

static void pl_step(void *ctx, int32_t r0, int32_t nr, const float *dW, const float *db)
{
    pl_ctx *c = ctx;
    for (int32_t j = 0; j < nr * PL_IN; j++)
        c->W[r0 * PL_IN + j] -= 0.5f * dW[j];
    for (int32_t j = 0; j < nr; j++)
        c->b[r0 + j] -= 0.5f * db[j];
}

/* batch t's inputs and targets (row r: units r + t, r + t + 7, ... below PL_OUT) */
static int32_t pl_batch(int t, float *X, int64_t *tptr, int32_t *tcol)
{
    const int32_t n = t == PL_BATCHES - 1 ? 4 : PL_N;
    hc_rng r;
    hc_rng_init(&r, 40 + (uint64_t)t, 1);
    fill(&r, X, n * PL_IN, 2.0f);
    tptr[0] = 0;
    for (int32_t i = 0; i < n; i++) {
        int64_t k = tptr[i];
        for (int32_t u = i + t; u < PL_OUT; u += 7)
            tcol[k++] = u;
        tptr[i + 1] = k;
    }
    return n;
}

static void test_softmax_pipeline(void **state)
{
    (void)state;
    pl_ctx seq, pip;
    hc_rng r;
    hc_rng_init(&r, 12, 1);
    fill(&r, seq.W, PL_OUT * PL_IN, 1.0f);
    fill(&r, seq.b, PL_OUT, 1.0f);
    pip = seq;
    float X[PL_N * PL_IN], Es[PL_N * PL_OUT], E[PL_N * PL_OUT]; /* E: the pipeline's */
    float dXs[PL_N * PL_IN], dXp[PL_N * PL_IN];
    int64_t tptr[PL_N + 1];
    int32_t tcol[PL_N * PL_OUT];
    hc_nn_ws ws = {0};
    hc_nn_softmax_pending pd = {0};
    for (int t = 0; t < PL_BATCHES; t++) {
        int32_t n = pl_batch(t, X, tptr, tcol);
        hc_nn_softmax_out p = {n, PL_IN, PL_OUT, X, seq.W, seq.b, tptr, tcol, 1.0f / (float)n};
        double ls, lp;
        TU_OK(hc_nn_softmax_out_train(&p, Es, dXs, &ls, PL_CHUNK, pl_step, &seq, &ws));
        p.W = pip.W;
        p.b = pip.b;
        TU_OK(hc_nn_softmax_out_step(&p, &pd, E, PL_N, dXp, &lp, PL_CHUNK, pl_step, &pip, &ws));
        assert_true(pd.pending);
        assert_true(lp == ls);
        assert_memory_equal(dXp, dXs, (size_t)n * PL_IN * sizeof(float));
        memset(X, 0, sizeof X); /* the pending batch keeps its own copies */
        memset(tcol, 0xff, sizeof tcol);
        if (t == 0) { /* a pending batch and another chunk size: refused, nothing run */
            assert_int_equal(hc_nn_softmax_out_step(NULL, &pd, E, PL_N, NULL, NULL, PL_CHUNK / 2,
                                                    pl_step, &pip, &ws),
                             HC_EINVAL);
            assert_true(pd.pending);
        }
    }
    assert_memory_not_equal(pip.W, seq.W, sizeof seq.W); /* the last step still pending */
    TU_OK(hc_nn_softmax_out_step(NULL, &pd, E, PL_N, NULL, NULL, PL_CHUNK, pl_step, &pip, &ws));
    assert_false(pd.pending);
    assert_memory_equal(pip.W, seq.W, sizeof seq.W);
    assert_memory_equal(pip.b, seq.b, sizeof seq.b);
    TU_OK(hc_nn_softmax_out_step(NULL, &pd, E, PL_N, NULL, NULL, PL_CHUNK, pl_step, &pip, &ws));
    /* E with fewer rows than the batch: refused */
    int32_t n = pl_batch(0, X, tptr, tcol);
    hc_nn_softmax_out p = {n, PL_IN, PL_OUT, X, pip.W, pip.b, tptr, tcol, 1.0f / (float)n};
    double l;
    assert_int_equal(
        hc_nn_softmax_out_step(&p, &pd, E, n - 1, dXp, &l, PL_CHUNK, pl_step, &pip, &ws),
        HC_EINVAL);
    assert_false(pd.pending);
    hc_nn_softmax_pending_free(&pd);
    hc_nn_ws_free(&ws);
}

/* ------------------------------------------------------------------ fused linear output layer */

/* the linear layer's shapes (SO_N x SO_IN inputs, SO_OUT units) under an elementwise loss
 * 0.25 sum (y - t)^2 / 2 against fixed targets T */
typedef struct {
    so_ctx so; /* X, W, b; dW, db from the steps */
    float T[SO_N * SO_OUT];
} lo_ctx;

static double lo_loss(void *ctx, int32_t r0, int32_t nr, float *Y)
{
    lo_ctx *c = ctx;
    double loss = 0.0;
    for (int r = 0; r < SO_N; r++)
        for (int j = 0; j < nr; j++) {
            float d = Y[r * nr + j] - c->T[r * SO_OUT + r0 + j];
            loss += 0.125 * (double)d * (double)d;
            Y[r * nr + j] = 0.25f * d;
        }
    return loss;
}

static double lo_probe(void *p)
{
    lo_ctx *c = p;
    double loss = 0.0;
    for (int r = 0; r < SO_N; r++)
        for (int o = 0; o < SO_OUT; o++) {
            double d = (double)c->so.b[o] + dotd(c->so.X + r * SO_IN, c->so.W + o * SO_IN, SO_IN) -
                       (double)c->T[r * SO_OUT + o];
            loss += 0.125 * d * d;
        }
    return loss;
}

static void test_linear_out(void **state)
{
    (void)state;
    lo_ctx c = {0};
    hc_rng r;
    hc_rng_init(&r, 12, 1);
    fill(&r, c.so.X, SO_N * SO_IN, 1.0f);
    fill(&r, c.so.W, SO_OUT * SO_IN, 1.0f);
    fill(&r, c.so.b, SO_OUT, 1.0f);
    fill(&r, c.T, SO_N * SO_OUT, 1.0f);
    /* the same result for every chunk size (the whole layer, 1, 3, 4) */
    const int32_t chunks[] = {SO_OUT, 1, 3, 4};
    float dX0[SO_N * SO_IN], dW0[SO_OUT * SO_IN], db0[SO_OUT];
    for (int q = 0; q < 4; q++) {
        float dX[SO_N * SO_IN];
        double loss;
        c.so.steps = 0;
        TU_OK(hc_nn_linear_out_train(SO_N, SO_IN, SO_OUT, c.so.X, c.so.W, c.so.b, dX, &loss,
                                     chunks[q], lo_loss, so_step, &c, &c.so.ws));
        assert_int_equal(c.so.steps, (SO_OUT + chunks[q] - 1) / chunks[q]);
        assert_near(loss, lo_probe(&c), 1e-5);
        if (q == 0) {
            memcpy(dX0, dX, sizeof dX);
            memcpy(dW0, c.so.dW, sizeof dW0);
            memcpy(db0, c.so.db, sizeof db0);
            continue;
        }
        for (int j = 0; j < SO_N * SO_IN; j++)
            assert_near(dX[j], dX0[j], 1e-5);
        for (int j = 0; j < SO_OUT * SO_IN; j++)
            assert_near(c.so.dW[j], dW0[j], 1e-5);
        for (int j = 0; j < SO_OUT; j++)
            assert_near(c.so.db[j], db0[j], 1e-5);
    }
    /* every gradient against central differences of the definition */
    check_grad("linear_out dX", c.so.X, dX0, SO_N * SO_IN, lo_probe, &c);
    check_grad("linear_out dW", c.so.W, dW0, SO_OUT * SO_IN, lo_probe, &c);
    check_grad("linear_out db", c.so.b, db0, SO_OUT, lo_probe, &c);
    /* no dX, no bias */
    memset(c.so.b, 0, sizeof c.so.b);
    double loss;
    TU_OK(hc_nn_linear_out_train(SO_N, SO_IN, SO_OUT, c.so.X, c.so.W, NULL, NULL, &loss, 3, lo_loss,
                                 so_step, &c, &c.so.ws));
    assert_near(loss, lo_probe(&c), 1e-5);
    check_grad("linear_out dW, no bias", c.so.W, c.so.dW, SO_OUT * SO_IN, lo_probe, &c);
    hc_nn_ws_free(&c.so.ws);
}

/* ------------------------------------------------------------------ L2 normalisation */

static double l2_probe(void *p)
{
    sm_ctx *c = p;
    hc_nn_l2norm_rows(SR, SC, c->x, c->y, NULL);
    return dotd(c->C, c->y, SR * SC);
}

static void test_l2norm(void **state)
{
    (void)state;
    sm_ctx c;
    hc_rng r;
    hc_rng_init(&r, 8, 1);
    fill(&r, c.x, SR * SC, 1.0f);
    fill(&r, c.C, SR * SC, 1.0f);
    float dx[SR * SC], norm[SR];
    hc_nn_l2norm_rows(SR, SC, c.x, c.y, norm);
    hc_nn_l2norm_bwd(SR, SC, c.y, norm, c.C, dx);
    check_grad("l2norm", c.x, dx, SR * SC, l2_probe, &c);
    for (int i = 0; i < SR; i++) {
        assert_near(norm[i], sqrt(dotd(c.x + i * SC, c.x + i * SC, SC)), 1e-5);
        assert_near(dotd(c.y + i * SC, c.y + i * SC, SC), 1.0, 1e-5);
    }
    /* a zero row stays zero (torch's eps clamp) */
    float z[3] = {0, 0, 0}, zy[3];
    hc_nn_l2norm_rows(1, 3, z, zy, norm);
    assert_true(zy[0] == 0.0f && zy[1] == 0.0f && zy[2] == 0.0f && norm[0] == 0.0f);
}

/* ------------------------------------------------------------------ BCE with logits */

typedef struct {
    float z[NA], t[NA], dz[NA];
} bce_ctx;

static double bce_probe(void *p)
{
    bce_ctx *c = p;
    return hc_nn_bce_logits(NA, c->z, c->t, 1.0f, c->dz);
}

static void test_bce(void **state)
{
    (void)state;
    bce_ctx c;
    hc_rng r;
    hc_rng_init(&r, 9, 1);
    fill(&r, c.z, NA, 3.0f);
    for (int k = 0; k < NA; k++)
        c.t[k] = (float)(k % 2);
    float dz[NA], dz0[NA];
    double loss = hc_nn_bce_logits(NA, c.z, c.t, 1.0f, dz);
    check_grad("bce", c.z, dz, NA, bce_probe, &c);
    double want = 0.0, want0 = 0.0;
    for (int k = 0; k < NA; k++) {
        double z = (double)c.z[k];
        double sp = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
        want += sp - (double)c.t[k] * z;
        want0 += sp;
    }
    assert_near(loss, want, 1e-5 * want);
    /* y NULL: all-zero targets; scale multiplies the gradient only */
    double loss0 = hc_nn_bce_logits(NA, c.z, NULL, 0.5f, dz0);
    assert_near(loss0, want0, 1e-5 * want0);
    for (int k = 0; k < NA; k++)
        assert_near(dz0[k], 0.5f * (dz[k] + c.t[k]), 1e-6);
    /* extreme logits, in the 16-entry vector steps and in the tail: finite loss, exact limits */
    float ext[20], g[20];
    for (int k = 0; k < 20; k++)
        ext[k] = (float[]){-200.0f, 200.0f, -30.0f, 30.0f}[k % 4];
    double le = hc_nn_bce_logits(20, ext, NULL, 1.0f, g);
    assert_true(isfinite(le));
    assert_near(le, 5 * (200.0 + 30.0), 5e-3);
    for (int k = 0; k < 20; k += 4)
        assert_true(g[k] < 1e-30f && g[k + 1] == 1.0f);
    /* several blocks and a partial one (the log part is taken over products of factors), the
     * gradient written over the logits as the I-AE does, with and without targets */
    enum { NB = 1000 };
    float *zb = malloc(NB * sizeof *zb), *gb = malloc(NB * sizeof *gb),
          *tb = malloc(NB * sizeof *tb);
    assert_non_null(zb);
    assert_non_null(gb);
    assert_non_null(tb);
    fill(&r, zb, NB, 8.0f);
    for (int k = 0; k < NB; k++)
        tb[k] = (float)(k % 3 == 0);
    for (int with_t = 0; with_t < 2; with_t++) {
        double wantb = 0.0;
        for (int k = 0; k < NB; k++) {
            double z = (double)zb[k], t = with_t ? (double)tb[k] : 0.0;
            wantb += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - t * z;
        }
        memcpy(gb, zb, NB * sizeof *gb);
        assert_near(hc_nn_bce_logits(NB, gb, with_t ? tb : NULL, 0.25f, gb), wantb, 1e-6 * wantb);
        for (int k = 0; k < NB; k++) {
            double t = with_t ? (double)tb[k] : 0.0;
            assert_near(gb[k], 0.25 * (1.0 / (1.0 + exp(-(double)zb[k])) - t), 1e-7);
        }
    }
    free(zb);
    free(gb);
    free(tb);
}

/* The weighted, all-zero-target BCE of the sampled item autoencoder against double sums: 1003
 * entries (vector steps and a tail), weights from 0.5 to 50, in place as the I-AE uses it,
 * extreme logits finite with exact limits. */
static void test_bce_weighted(void **state)
{
    (void)state;
    enum { NW = 1003 };
    float z[NW], w[NW], g[NW];
    hc_rng r;
    hc_rng_init(&r, 11, 2);
    fill(&r, z, NW, 8.0f);
    double want = 0.0;
    for (int k = 0; k < NW; k++) {
        w[k] = 0.5f + 49.5f * hc_rng_float(&r);
        double zk = (double)z[k];
        want += (double)w[k] * (zk > 0 ? zk + log1p(exp(-zk)) : log1p(exp(zk)));
    }
    memcpy(g, z, sizeof g);
    assert_near(hc_nn_bce0_weighted(NW, g, w, 0.25f, g), want, 1e-6 * want);
    for (int k = 0; k < NW; k++)
        assert_near(g[k], 0.25 * (double)w[k] / (1.0 + exp(-(double)z[k])), 1e-6 * (double)w[k]);
    float ext[12] = {-200, 200, -30, 30, -200, 200, -30, 30, -200, 200, -30, 30}, one[12];
    for (int k = 0; k < 12; k++)
        one[k] = 2.0f;
    double le = hc_nn_bce0_weighted(12, ext, one, 1.0f, g);
    assert_near(le, 2.0 * 3 * (200.0 + 30.0), 1e-2);
    for (int k = 0; k < 12; k += 4)
        assert_true(g[k] < 1e-30f && g[k + 1] == 2.0f);
}

/* ------------------------------------------------------------------ vector math */

static void test_fast_math(void **state)
{
    (void)state;
    double worst = 0.0;
    for (int k = -8700; k <= 8800; k++) {
        float x = (float)k * 0.01f + 0.003f;
        double want = exp((double)x), got = (double)hc_nn_expf(x);
        double rel = fabs(got - want) / want;
        worst = rel > worst ? rel : worst;
    }
    if (worst > 3e-7)
        fail_msg("expf relative error %g", worst);
    /* the sigmoid layer over blocks of entries, a partial one last */
    enum { NS = 5000 };
    float *xs = malloc(NS * sizeof *xs), *ys = malloc(NS * sizeof *ys);
    assert_non_null(xs);
    assert_non_null(ys);
    for (int k = 0; k < NS; k++)
        xs[k] = (float)(k - NS / 2) * 0.01f;
    hc_nn_act_fwd(HC_ACT_SIGMOID, NS, xs, ys);
    for (int k = 0; k < NS; k++)
        assert_near(ys[k], 1.0 / (1.0 + exp(-(double)xs[k])), 3e-7);
    /* exp(x - shift) and its sum over 8-lane steps and a tail, in place */
    for (int k = 0; k < NS; k++)
        xs[k] = (float)((k * 37) % 1000) * 0.02f - 12.0f;
    memcpy(ys, xs, NS * sizeof *ys);
    double want_sum = 0.0; /* exp of the shifted argument as rounded to float */
    for (int k = 0; k < NS - 3; k++)
        want_sum += exp((double)(xs[k] - 3.0f));
    assert_near(hc_nn_exp_shift_sum(NS - 3, ys, 3.0f, ys), want_sum, 1e-6 * want_sum);
    for (int k = 0; k < NS - 3; k++)
        assert_near(ys[k], exp((double)(xs[k] - 3.0f)), 3e-7 * exp((double)(xs[k] - 3.0f)));
    assert_true(ys[NS - 3] == xs[NS - 3]);
    free(xs);
    free(ys);
    for (int k = -400; k <= 400; k++) {
        float x = (float)k * 0.05f;
        double sp = x > 0 ? (double)x + log1p(exp(-(double)x)) : log1p(exp((double)x));
        assert_near(hc_nn_softplusf(x), sp, 3e-7 * (sp > 1 ? sp : 1));
        assert_near(hc_nn_sigmoidf(x), 1.0 / (1.0 + exp(-(double)x)), 3e-7);
    }
}

/* NaN and infinite arguments (a model file's weights, overflowing products) clamp like the
 * ends of the range: no float-to-int conversion of NaN (undefined behaviour; found by
 * fuzz/fuzz_model.c), finite results. */
static void test_fast_math_nonfinite(void **state)
{
    (void)state;
    assert_true(hc_nn_expf(NAN) == hc_nn_expf(-87.3f));
    assert_true(hc_nn_expf(-NAN) == hc_nn_expf(-87.3f));
    assert_true(hc_nn_expf(INFINITY) == hc_nn_expf(88.3f));
    assert_true(hc_nn_expf(-INFINITY) == hc_nn_expf(-87.3f));
    assert_true(isfinite(hc_nn_sigmoidf(NAN)) && isfinite(hc_nn_softplusf(NAN)));
    /* the 8-lane paths: the sigmoid layer and exp(x - shift), NaN in a full and a tail step */
    enum { NF = 21 };
    float x[NF], y[NF];
    for (int k = 0; k < NF; k++)
        x[k] = k % 4 == 1 ? NAN : k % 4 == 2 ? INFINITY : (float)k - 10.0f;
    hc_nn_act_fwd(HC_ACT_SIGMOID, NF, x, y);
    for (int k = 0; k < NF; k++)
        assert_true(y[k] >= 0.0f && y[k] <= 1.0f);
    for (int k = 0; k < NF; k++) /* 5 x e^88.3 would overflow the sum: NaN only */
        x[k] = isinf(x[k]) ? 0.0f : x[k];
    float sum = hc_nn_exp_shift_sum(NF, x, 0.0f, y);
    assert_true(isfinite(sum));
    for (int k = 0; k < NF; k++)
        assert_true(isfinite(y[k]));
}

static void test_init(void **state)
{
    (void)state;
    enum { M = 10000 };
    float *w = malloc(M * sizeof(float));
    hc_rng r;
    hc_rng_init(&r, 10, 1);
    hc_nn_init_xavier(&r, w, M, 100, 50);
    float a = sqrtf(6.0f / 150.0f);
    double mean = 0.0, sq = 0.0;
    for (int k = 0; k < M; k++) {
        assert_true(w[k] >= -a && w[k] <= a);
        mean += (double)w[k];
        sq += (double)w[k] * (double)w[k];
    }
    /* U(-a, a): variance a^2 / 3 */
    assert_near(mean / M, 0.0, 0.01);
    assert_near(sq / M, (double)(a * a) / 3.0, 0.05 * (double)(a * a) / 3.0);
    hc_nn_init_normal(&r, w, M, 0.01f);
    sq = 0.0;
    for (int k = 0; k < M; k++)
        sq += (double)w[k] * (double)w[k];
    assert_near(sqrt(sq / M), 0.01, 0.0005);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),      cmocka_unit_test(test_sparse_linear),
        cmocka_unit_test(test_activations), cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_softmax),     cmocka_unit_test(test_mult_nll),
        cmocka_unit_test(test_softmax_out), cmocka_unit_test(test_softmax_pipeline),
        cmocka_unit_test(test_linear_out),  cmocka_unit_test(test_l2norm),
        cmocka_unit_test(test_bce),         cmocka_unit_test(test_bce_weighted),
        cmocka_unit_test(test_fast_math),   cmocka_unit_test(test_fast_math_nonfinite),
        cmocka_unit_test(test_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
