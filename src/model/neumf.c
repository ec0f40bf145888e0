/*
 * neumf.c - DL teacher: NeuMF (He et al. 2017), a GMF tower and an MLP tower fused into one
 * logit, trained with binary cross-entropy on sampled negatives (docs/method.md §2, family "dl").
 *
 * Model (d = hp.dim, m = MLP embedding size = d/2 rounded up to even, m2 = m/2):
 *   g   = P_g[u] * Q_g[i]                           GMF, d
 *   h1  = relu(W1 [P_m[u]; Q_m[i]] + b1)            m      (W1: m x 2m)
 *   h2  = relu(W2 h1 + b2)                          m2     (W2: m2 x m)
 *   o   = w_o . [g; h2] + b_o                       the logit, score(u, i) = o
 * With the reference configuration (d = 64) the MLP is 64-32-16, as in the reference.
 * Loss per row (u, i, y): softplus(o) - y o, summed over a batch; do = sigmoid(o) - y, then
 *   dw_o = do [g; h2], db_o = do, dg = do w_o[:d], dh2 = do w_o[d:],
 *   dz2 = dh2 [h2 > 0] -> dW2 = dz2 h1^T, db2 = dz2, dh1 = W2^T dz2,
 *   dz1 = dh1 [h1 > 0] -> dW1 = dz1 x1^T, db1 = dz1, dx1 = W1^T dz1 = [dP_m[u]; dQ_m[i]],
 *   dP_g[u] = dg * Q_g[i],  dQ_g[i] = dg * P_g[u].
 * Batches are whole matrices through src/nn/layers (sgemm); the embedding gradients are added
 * to touched-row slots in row order.
 * Init as the reference: embeddings N(0, 0.01), hidden layers Xavier uniform with zero bias,
 * the output layer Kaiming uniform (gain sqrt(2): bound sqrt(6 / (d + m2))) with zero bias.
 * Epoch: every train interaction is a positive with hp.negatives uniform negatives (sampler),
 * the (1 + negatives) rows per positive are shuffled together with a seeded permutation, and
 * steps take hp.batch rows. Optimiser: Adam with coupled weight decay, dense on the MLP; on
 * the embedding tables only the rows a step touched move, each first catching up in closed
 * form the steps it missed, momentum and weight decay (the table optimiser below), which
 * follows the reference's dense Adam at the cost of the touched rows. A step is ~10 MFLOP,
 * less than what waking a thread team costs on a busy machine, so training runs on one
 * thread.
 *
 * Scoring a block of n users against all I items, never a per-pair forward:
 *   GMF part:   (P_g[users] * w_o[:d]) Q_g^T, one product (n x I)
 *   MLP part:   A = P_m[users] W1[:, :m]^T (n x m) per block, Bi = Q_m W1[:, m:]^T + b1
 *               (I x m) once in prepare, stored packed by micro-tiles of 16 items (m x 16
 *               each); then for every (user, micro-tile) a register-blocked kernel computes
 *               relu(W2 relu(A_u + Bi_t) + b2) . w_o[d:] for the 16 items, 4 outputs of the
 *               second layer at a time: 512 multiply-adds per pair at the machine's FMA rate
 *               (AVX2 + FMA when the CPU has them, checked at run time; portable C otherwise)
 *               instead of materialising the (users x items) x m hidden layer. This is a
 *               GEMM whose A operand is produced on the fly; the first layer's ReLU is what
 *               keeps it from being a plain product.
 * Jobs of (user, 64 micro-tiles) run in parallel; each output entry is computed by one thread
 * in a fixed order, so results do not depend on the thread count. Memory: (U + I)(d + m)
 * parameters, 2x that in Adam moments while training, I x m for the packed Bi.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dense/blas.h"
#include "model/families.h"
#include "nn/layers.h"
#include "optim/adam.h"
#include "optim/rowgrad.h"
#include "optim/sampler.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DL_X86 1
#endif

#define TILE    16 /* items per scoring micro-tile (two 8-float vectors) */
#define JBLK    4  /* second-layer outputs per register block */
#define SCORE_T 64 /* micro-tiles per scoring job (1024 items) */

enum { T_PG, T_QG, T_PM, T_QM, N_EMB }; /* embedding tables, in tensor order */

#define N_TENSORS 10

typedef struct {
    hc_model base; /* must be first */
    int32_t d, m, m2;
    float *emb[N_EMB];                  /* P_g U x d, Q_g I x d, P_m U x m, Q_m I x m (owned) */
    float *mlp;                         /* W1 | b1 | W2 | b2 | w_o | b_o, n_mlp floats (owned) */
    float *W1, *b1, *W2, *b2, *wo, *bo; /* views into mlp */
    int64_t n_mlp;
    /* training state (first epoch or gradient call) */
    hc_adam_table tab[N_EMB]; /* the tables' moments and last steps (table_step below) */
    float *gmlp, *mm, *mv;    /* MLP gradient and moments, n_mlp each */
    hc_rowgrad rg[N_EMB];
    hc_adam adam;
    int have_train;
    hc_epoch_samples samples;
    int32_t *perm;    /* epoch rows, shuffled */
    int64_t perm_cap; /* entries of perm */
    int32_t *bu, *bi; /* a step's users and items */
    float *by;        /* a step's labels */
    float *scr;       /* a step's activations and gradients */
    int32_t scr_rows; /* rows bu, bi, by, scr hold */
    /* scoring caches (prepare) */
    float *Bp;        /* Q_m W1[:, m:]^T + b1 packed by micro-tile: [I/TILE][m][TILE] */
    float *W2t;       /* m x m2p: W2 transposed, columns padded with zeros to m2p */
    float *b2p, *wmp; /* m2p: b2 and w_o[d:] padded with zeros */
    int32_t m2p, n_tiles;
    int have_cache;
    int avx2;       /* the AVX2 + FMA kernel runs (CPU check in prepare) */
    float *sA, *sG; /* n x 2m, n x d */
    int32_t s_rows;
} dl_model;

static int64_t table_rows(const dl_model *f, int t)
{
    return (t == T_PG || t == T_PM) ? f->base.n_users : f->base.n_items;
}

static int32_t table_dim(const dl_model *f, int t)
{
    return (t == T_PG || t == T_QG) ? f->d : f->m;
}

static void dl_defaults(hc_hparams *hp)
{
    hp->dim = 64;
    hp->negatives = 4;
    hp->batch = 1024;
    hp->lr = 1e-3f;
    hp->reg = 1e-5f;
}

/* The MLP tower's embedding width for dim d: about d / 2, even, at least 2. */
static int32_t mlp_width(int32_t d)
{
    int32_t mm = (d / 2 + 1) / 2 * 2;
    return mm < 2 ? 2 : mm;
}

static int dl_init(hc_model *m, const hc_dataset *ds, int load)
{
    (void)ds;
    dl_model *f = (dl_model *)m;
    f->d = m->hp.dim;
    f->m = mlp_width(m->hp.dim);
    f->m2 = f->m / 2;
    const int32_t d = f->d, mm = f->m, m2 = f->m2;
    for (int t = 0; t < N_EMB; t++) {
        f->emb[t] = malloc((size_t)(table_rows(f, t) * table_dim(f, t)) * sizeof(float));
        if (!f->emb[t])
            return hc_error(HC_ENOMEM, "dl: out of memory for the embeddings");
    }
    f->n_mlp = (int64_t)mm * 2 * mm + mm + (int64_t)m2 * mm + m2 + d + m2 + 1;
    f->mlp = malloc((size_t)f->n_mlp * sizeof(float));
    if (!f->mlp)
        return hc_error(HC_ENOMEM, "dl: out of memory");
    f->W1 = f->mlp;
    f->b1 = f->W1 + (int64_t)mm * 2 * mm;
    f->W2 = f->b1 + mm;
    f->b2 = f->W2 + (int64_t)m2 * mm;
    f->wo = f->b2 + m2;
    f->bo = f->wo + d + m2;
    if (load)
        return HC_OK;
    hc_rng r;
    hc_rng_init(&r, m->hp.seed, 0xD1);
    float std = m->hp.init_std > 0.0f ? m->hp.init_std : 0.01f;
    for (int t = 0; t < N_EMB; t++)
        hc_nn_init_normal(&r, f->emb[t], table_rows(f, t) * table_dim(f, t), std);
    hc_nn_init_xavier(&r, f->W1, (int64_t)mm * 2 * mm, 2 * mm, mm);
    hc_nn_init_xavier(&r, f->W2, (int64_t)m2 * mm, mm, m2);
    hc_nn_init_uniform(&r, f->wo, d + m2, sqrtf(6.0f / (float)(d + m2)));
    memset(f->b1, 0, (size_t)mm * sizeof(float));
    memset(f->b2, 0, (size_t)m2 * sizeof(float));
    *f->bo = 0.0f;
    return HC_OK;
}

/* Floats of step scratch per row. */
static int64_t scr_per_row(const dl_model *f)
{
    /* X1 2m, H1 m, H2 m2, G d, o 1, dO 1, dH2 m2, dH1 m, dX1 2m */
    return 6 * (int64_t)f->m + 2 * (int64_t)f->m2 + f->d + 2;
}

/* Allocates the optimiser state and the step scratch for rows rows. */
static int train_state(dl_model *f, int32_t rows)
{
    if (!f->have_train) {
        for (int t = 0; t < N_EMB; t++) {
            int rc = hc_adam_table_init(&f->tab[t], f->emb[t], (int32_t)table_rows(f, t),
                                        table_dim(f, t));
            if (!rc)
                rc = hc_rowgrad_init(&f->rg[t], (int32_t)table_rows(f, t), table_dim(f, t));
            if (rc)
                return rc;
        }
        f->gmlp = calloc((size_t)f->n_mlp, sizeof(float));
        f->mm = calloc((size_t)f->n_mlp, sizeof(float));
        f->mv = calloc((size_t)f->n_mlp, sizeof(float));
        if (!f->gmlp || !f->mm || !f->mv)
            return hc_error(HC_ENOMEM, "dl: out of memory for the optimiser state");
        hc_adam_init(&f->adam, f->base.hp.lr, f->base.hp.reg);
        f->have_train = 1;
    }
    if (rows > f->scr_rows) {
        free(f->scr);
        free(f->bu);
        free(f->bi);
        free(f->by);
        f->scr = malloc((size_t)(rows * scr_per_row(f)) * sizeof(float));
        f->bu = malloc((size_t)rows * sizeof(int32_t));
        f->bi = malloc((size_t)rows * sizeof(int32_t));
        f->by = malloc((size_t)rows * sizeof(float));
        f->scr_rows = rows;
        if (!f->scr || !f->bu || !f->bi || !f->by) {
            f->scr_rows = 0;
            return hc_error(HC_ENOMEM, "dl: out of memory for the step scratch");
        }
    }
    return HC_OK;
}

/* Loss of n rows and its gradient: MLP gradient in gmlp (overwritten), table gradients in
 * the row slots (reset first). Needs train_state(f, n). NaN on out of memory. */
static double dl_batch(dl_model *f, const int32_t *user, const int32_t *item, const float *label,
                       int32_t n)
{
    const int32_t d = f->d, mm = f->m, m2 = f->m2;
    float *X1 = f->scr, *H1 = X1 + (int64_t)n * 2 * mm, *H2 = H1 + (int64_t)n * mm;
    float *G = H2 + (int64_t)n * m2, *o = G + (int64_t)n * d, *dO = o + n;
    float *dH2 = dO + n, *dH1 = dH2 + (int64_t)n * m2, *dX1 = dH1 + (int64_t)n * mm;
    const float *Pg = f->emb[T_PG], *Qg = f->emb[T_QG], *Pm = f->emb[T_PM], *Qm = f->emb[T_QM];
#pragma omp parallel for schedule(static) if (n > 256)
    for (int32_t r = 0; r < n; r++) {
        const float *pg = Pg + (int64_t)user[r] * d, *qg = Qg + (int64_t)item[r] * d;
        float *g = G + (int64_t)r * d, *x = X1 + (int64_t)r * 2 * mm;
        for (int32_t c = 0; c < d; c++)
            g[c] = pg[c] * qg[c];
        memcpy(x, Pm + (int64_t)user[r] * mm, (size_t)mm * sizeof(float));
        memcpy(x + mm, Qm + (int64_t)item[r] * mm, (size_t)mm * sizeof(float));
    }
    if (hc_nn_linear_fwd(n, 2 * mm, mm, X1, f->W1, f->b1, H1) != HC_OK)
        return NAN;
    hc_nn_act_fwd(HC_ACT_RELU, (int64_t)n * mm, H1, H1);
    if (hc_nn_linear_fwd(n, mm, m2, H1, f->W2, f->b2, H2) != HC_OK)
        return NAN;
    hc_nn_act_fwd(HC_ACT_RELU, (int64_t)n * m2, H2, H2);
    const float *wg = f->wo, *wm = f->wo + d;
#pragma omp parallel for schedule(static) if (n > 256)
    for (int32_t r = 0; r < n; r++) {
        const float *g = G + (int64_t)r * d, *h = H2 + (int64_t)r * m2;
        float s = *f->bo;
        for (int32_t c = 0; c < d; c++)
            s += wg[c] * g[c];
        for (int32_t c = 0; c < m2; c++)
            s += wm[c] * h[c];
        o[r] = s;
    }
    double loss = hc_nn_bce_logits(n, o, label, 1.0f, dO);
    /* output layer: gradients summed in row order */
    float *gW1 = f->gmlp, *gb1 = gW1 + (int64_t)mm * 2 * mm, *gW2 = gb1 + mm;
    float *gb2 = gW2 + (int64_t)m2 * mm, *gwo = gb2 + m2, *gbo = gwo + d + m2;
    memset(gwo, 0, (size_t)(d + m2 + 1) * sizeof(float));
    for (int32_t r = 0; r < n; r++) {
        const float *g = G + (int64_t)r * d, *h = H2 + (int64_t)r * m2;
        for (int32_t c = 0; c < d; c++)
            gwo[c] += dO[r] * g[c];
        for (int32_t c = 0; c < m2; c++)
            gwo[d + c] += dO[r] * h[c];
        *gbo += dO[r];
    }
    for (int32_t r = 0; r < n; r++)
        for (int32_t c = 0; c < m2; c++)
            dH2[(int64_t)r * m2 + c] = dO[r] * wm[c];
    hc_nn_act_bwd(HC_ACT_RELU, (int64_t)n * m2, H2, dH2, dH2);
    if (hc_nn_linear_bwd(n, mm, m2, H1, f->W2, dH2, dH1, gW2, gb2, 0.0f) != HC_OK)
        return NAN;
    hc_nn_act_bwd(HC_ACT_RELU, (int64_t)n * mm, H1, dH1, dH1);
    if (hc_nn_linear_bwd(n, 2 * mm, mm, X1, f->W1, dH1, dX1, gW1, gb1, 0.0f) != HC_OK)
        return NAN;
    /* the tables: touched-row slots, filled in row order */
    for (int t = 0; t < N_EMB; t++)
        hc_rowgrad_reset(&f->rg[t]);
    for (int32_t r = 0; r < n; r++) {
        int32_t u = user[r], i = item[r];
        float *gpg = hc_rowgrad_row(&f->rg[T_PG], u), *gqg = hc_rowgrad_row(&f->rg[T_QG], i);
        float *gpm = hc_rowgrad_row(&f->rg[T_PM], u), *gqm = hc_rowgrad_row(&f->rg[T_QM], i);
        if (!gpg || !gqg || !gpm || !gqm)
            return NAN;
        const float *pg = Pg + (int64_t)u * d, *qg = Qg + (int64_t)i * d;
        for (int32_t c = 0; c < d; c++) {
            float dg = dO[r] * wg[c];
            gpg[c] += dg * qg[c];
            gqg[c] += dg * pg[c];
        }
        const float *dx = dX1 + (int64_t)r * 2 * mm;
        for (int32_t c = 0; c < mm; c++) {
            gpm[c] += dx[c];
            gqm[c] += dx[mm + c];
        }
    }
    return loss;
}

double hc_dl_batch_grad(hc_model *m, const int32_t *user, const int32_t *item, const float *label,
                        int32_t n, float *const *grads)
{
    dl_model *f = (dl_model *)m;
    if (train_state(f, n) != HC_OK)
        return NAN;
    double loss = dl_batch(f, user, item, label, n);
    if (!grads || isnan(loss))
        return loss;
    for (int t = 0; t < N_EMB; t++) {
        int32_t dim = table_dim(f, t);
        memset(grads[t], 0, (size_t)(table_rows(f, t) * dim) * sizeof(float));
        for (int32_t s = 0; s < f->rg[t].n; s++)
            memcpy(grads[t] + (int64_t)f->rg[t].rows[s] * dim, f->rg[t].g + (int64_t)s * dim,
                   (size_t)dim * sizeof(float));
    }
    const float *src[6] = {f->gmlp,
                           f->gmlp + (f->b1 - f->mlp),
                           f->gmlp + (f->W2 - f->mlp),
                           f->gmlp + (f->b2 - f->mlp),
                           f->gmlp + (f->wo - f->mlp),
                           f->gmlp + (f->bo - f->mlp)};
    const int64_t len[6] = {f->b1 - f->W1, f->W2 - f->b1, f->b2 - f->W2,
                            f->wo - f->b2, f->bo - f->wo, 1};
    for (int k = 0; k < 6; k++)
        memcpy(grads[N_EMB + k], src[k], (size_t)len[k] * sizeof(float));
    return loss;
}

/* Adam step of table t (after hc_adam_begin_step): optim/adam.c's table optimiser (the
 * touched rows catch up the steps they missed, momentum and weight decay, then move). */
static int table_step(dl_model *f, int t)
{
    const hc_rowgrad *rg = &f->rg[t];
    return hc_adam_table_step(&f->adam, &f->tab[t], rg->g, rg->rows, rg->n);
}

/* Brings every row of every table to the current step (before scoring or saving). */
static int tables_flush(dl_model *f)
{
    for (int t = 0; t < N_EMB; t++)
        hc_adam_table_flush(&f->adam, &f->tab[t]);
    return HC_OK;
}

static int dl_epoch(hc_model *m, const hc_dataset *ds, int32_t epoch, double *loss)
{
    dl_model *f = (dl_model *)m;
    const int32_t negs = m->hp.negatives > 0 ? m->hp.negatives : 1, per = 1 + negs;
    int rc = train_state(f, m->hp.batch);
    if (!rc)
        rc = hc_sample_epoch(ds, m->hp.seed, epoch, negs, &f->samples);
    if (rc)
        return rc;
    const hc_epoch_samples *s = &f->samples;
    const int64_t nrows = s->n * per;
    if (nrows > INT32_MAX)
        return hc_error(HC_ERANGE, "dl: %lld training rows per epoch is too many",
                        (long long)nrows);
    if (nrows > f->perm_cap) {
        free(f->perm);
        f->perm = malloc((size_t)nrows * sizeof *f->perm);
        f->perm_cap = f->perm ? nrows : 0;
        if (!f->perm)
            return hc_error(HC_ENOMEM, "dl: out of memory for the epoch");
    }
    /* row k * per is positive k, rows k * per + 1.. its negatives; shuffled together */
    for (int64_t k = 0; k < nrows; k++)
        f->perm[k] = (int32_t)k;
    hc_rng r;
    hc_rng_init(&r, m->hp.seed, 0xD100000000ull + (uint64_t)epoch);
    hc_rng_shuffle_i32(&r, f->perm, nrows);
    /* a step is ~10 MFLOP: less than what waking a thread team costs on a busy machine, so
     * the epoch runs on one thread (BLAS included) and restores the settings after */
    const int omp_nt = omp_get_max_threads(), blas_nt = hc_blas_get_threads();
    omp_set_num_threads(1);
    hc_blas_set_threads(1);
    double sum = 0.0;
    rc = HC_OK;
    for (int64_t b0 = 0; b0 < nrows && !rc; b0 += m->hp.batch) {
        int32_t nb = (int32_t)(b0 + m->hp.batch < nrows ? m->hp.batch : nrows - b0);
        for (int32_t q = 0; q < nb; q++) {
            int64_t row = f->perm[b0 + q], k = row / per, j = row % per;
            f->bu[q] = s->user[k];
            f->bi[q] = j == 0 ? s->pos[k] : s->neg[k * negs + j - 1];
            f->by[q] = j == 0 ? 1.0f : 0.0f;
        }
        double l = dl_batch(f, f->bu, f->bi, f->by, nb);
        if (isnan(l)) {
            rc = hc_error(HC_ENOMEM, "dl: out of memory");
            break;
        }
        sum += l;
        hc_adam_begin_step(&f->adam);
        for (int t = 0; t < N_EMB && !rc; t++)
            rc = table_step(f, t);
        hc_adam_dense(&f->adam, f->mlp, f->gmlp, f->mm, f->mv, f->n_mlp);
    }
    hc_blas_set_threads(blas_nt);
    omp_set_num_threads(omp_nt);
    f->have_cache = 0;
    *loss = sum;
    return rc;
}

/* Builds the scoring caches: the item side of the first MLP layer, packed by micro-tile,
 * and the second layer padded to whole register blocks. */
static int dl_prepare(hc_model *m, const hc_dataset *ds)
{
    (void)ds;
    dl_model *f = (dl_model *)m;
    const int32_t mm = f->m, m2 = f->m2, I = m->n_items;
    if (f->have_train) { /* bring every table row to the current step */
        int rc = tables_flush(f);
        if (rc)
            return rc;
    }
    f->m2p = (m2 + JBLK - 1) / JBLK * JBLK;
    f->n_tiles = (I + TILE - 1) / TILE;
    if (!f->Bp) {
        f->Bp = malloc((size_t)f->n_tiles * TILE * (size_t)mm * sizeof(float));
        f->W2t = malloc((size_t)mm * (size_t)f->m2p * sizeof(float));
        f->b2p = malloc((size_t)f->m2p * sizeof(float));
        f->wmp = malloc((size_t)f->m2p * sizeof(float));
        if (!f->Bp || !f->W2t || !f->b2p || !f->wmp)
            return hc_error(HC_ENOMEM, "dl: out of memory for the scoring cache");
    }
    /* Bi = Q_m W1[:, m:]^T + b1 (W1[:, m:] is W1's right half: leading dimension 2m), written
     * into Bp's space first, then packed through a per-tile transpose */
    float *Bi = malloc((size_t)I * (size_t)mm * sizeof(float));
    if (!Bi)
        return hc_error(HC_ENOMEM, "dl: out of memory for the scoring cache");
    int rc = hc_nn_gemm(0, 1, I, mm, mm, 1.0f, f->emb[T_QM], mm, f->W1 + mm, 2 * mm, 0.0f, Bi, mm);
    if (rc) {
        free(Bi);
        return rc;
    }
#pragma omp parallel for schedule(static)
    for (int32_t t = 0; t < f->n_tiles; t++) {
        float *P = f->Bp + (int64_t)t * mm * TILE;
        for (int32_t q = 0; q < TILE; q++) {
            int32_t i = t * TILE + q;
            for (int32_t c = 0; c < mm; c++)
                P[c * TILE + q] = i < I ? Bi[(int64_t)i * mm + c] + f->b1[c] : 0.0f;
        }
    }
    free(Bi);
    for (int32_t c = 0; c < mm; c++)
        for (int32_t j = 0; j < f->m2p; j++)
            f->W2t[c * f->m2p + j] = j < m2 ? f->W2[(int64_t)j * mm + c] : 0.0f;
    for (int32_t j = 0; j < f->m2p; j++) {
        f->b2p[j] = j < m2 ? f->b2[j] : 0.0f;
        f->wmp[j] = j < m2 ? f->wo[f->d + j] : 0.0f;
    }
#ifdef DL_X86
    __builtin_cpu_init();
    f->avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    f->have_cache = 1;
    return HC_OK;
}

/* The MLP logits of one user against one micro-tile of TILE items, added to o[0..TILE):
 *   o[q] += sum_j w_m[j] relu(b2[j] + sum_k W2[j][k] relu(a[k] + P[k][q])).
 * Portable form (the compiler vectorises the q loops). */
static void tile_generic(int32_t mm, int32_t m2p, const float *a, const float *P, const float *W2t,
                         const float *b2p, const float *wmp, float *o)
{
    float acc[JBLK][TILE], h[TILE];
    for (int32_t j0 = 0; j0 < m2p; j0 += JBLK) {
        for (int32_t jj = 0; jj < JBLK; jj++)
            for (int32_t q = 0; q < TILE; q++)
                acc[jj][q] = b2p[j0 + jj];
        for (int32_t k = 0; k < mm; k++) {
            for (int32_t q = 0; q < TILE; q++) {
                float z = a[k] + P[k * TILE + q];
                h[q] = z > 0.0f ? z : 0.0f;
            }
            for (int32_t jj = 0; jj < JBLK; jj++) {
                const float w = W2t[k * m2p + j0 + jj];
                for (int32_t q = 0; q < TILE; q++)
                    acc[jj][q] += w * h[q];
            }
        }
        for (int32_t jj = 0; jj < JBLK; jj++)
            for (int32_t q = 0; q < TILE; q++)
                o[q] += wmp[j0 + jj] * (acc[jj][q] > 0.0f ? acc[jj][q] : 0.0f);
    }
}

#ifdef DL_X86
/* tile_generic with AVX2 + FMA: the TILE items in two 8-float registers, JBLK outputs at a
 * time, so the inner step is 2 x JBLK fused multiply-adds on registers. */
__attribute__((target("avx2,fma"))) static void tile_avx2(int32_t mm, int32_t m2p, const float *a,
                                                          const float *P, const float *W2t,
                                                          const float *b2p, const float *wmp,
                                                          float *o)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 s0 = _mm256_loadu_ps(o), s1 = _mm256_loadu_ps(o + 8);
    for (int32_t j0 = 0; j0 < m2p; j0 += JBLK) {
        __m256 c00 = _mm256_set1_ps(b2p[j0]), c01 = c00;
        __m256 c10 = _mm256_set1_ps(b2p[j0 + 1]), c11 = c10;
        __m256 c20 = _mm256_set1_ps(b2p[j0 + 2]), c21 = c20;
        __m256 c30 = _mm256_set1_ps(b2p[j0 + 3]), c31 = c30;
        for (int32_t k = 0; k < mm; k++) {
            const __m256 ak = _mm256_set1_ps(a[k]);
            const __m256 h0 = _mm256_max_ps(_mm256_add_ps(ak, _mm256_loadu_ps(P + k * TILE)), zero);
            const __m256 h1 =
                _mm256_max_ps(_mm256_add_ps(ak, _mm256_loadu_ps(P + k * TILE + 8)), zero);
            const float *w = W2t + k * m2p + j0;
            __m256 wv = _mm256_set1_ps(w[0]);
            c00 = _mm256_fmadd_ps(wv, h0, c00);
            c01 = _mm256_fmadd_ps(wv, h1, c01);
            wv = _mm256_set1_ps(w[1]);
            c10 = _mm256_fmadd_ps(wv, h0, c10);
            c11 = _mm256_fmadd_ps(wv, h1, c11);
            wv = _mm256_set1_ps(w[2]);
            c20 = _mm256_fmadd_ps(wv, h0, c20);
            c21 = _mm256_fmadd_ps(wv, h1, c21);
            wv = _mm256_set1_ps(w[3]);
            c30 = _mm256_fmadd_ps(wv, h0, c30);
            c31 = _mm256_fmadd_ps(wv, h1, c31);
        }
        __m256 wm = _mm256_set1_ps(wmp[j0]);
        s0 = _mm256_fmadd_ps(wm, _mm256_max_ps(c00, zero), s0);
        s1 = _mm256_fmadd_ps(wm, _mm256_max_ps(c01, zero), s1);
        wm = _mm256_set1_ps(wmp[j0 + 1]);
        s0 = _mm256_fmadd_ps(wm, _mm256_max_ps(c10, zero), s0);
        s1 = _mm256_fmadd_ps(wm, _mm256_max_ps(c11, zero), s1);
        wm = _mm256_set1_ps(wmp[j0 + 2]);
        s0 = _mm256_fmadd_ps(wm, _mm256_max_ps(c20, zero), s0);
        s1 = _mm256_fmadd_ps(wm, _mm256_max_ps(c21, zero), s1);
        wm = _mm256_set1_ps(wmp[j0 + 3]);
        s0 = _mm256_fmadd_ps(wm, _mm256_max_ps(c30, zero), s0);
        s1 = _mm256_fmadd_ps(wm, _mm256_max_ps(c31, zero), s1);
    }
    _mm256_storeu_ps(o, s0);
    _mm256_storeu_ps(o + 8, s1);
}
#endif

/* Scoring scratch for n users. */
static int score_state(dl_model *f, int32_t n)
{
    if (n <= f->s_rows)
        return HC_OK;
    free(f->sA);
    free(f->sG);
    f->sA = malloc((size_t)n * 2 * (size_t)f->m * sizeof(float));
    f->sG = malloc((size_t)n * (size_t)f->d * sizeof(float));
    f->s_rows = f->sA && f->sG ? n : 0;
    if (!f->s_rows)
        return hc_error(HC_ENOMEM, "dl: out of memory for scoring");
    return HC_OK;
}

static int dl_score(hc_model *m, const int32_t *users, int32_t n, float *out)
{
    dl_model *f = (dl_model *)m;
    const int32_t d = f->d, mm = f->m, I = m->n_items;
    int rc = f->have_cache ? HC_OK : dl_prepare(m, NULL);
    if (!rc)
        rc = score_state(f, n);
    if (rc)
        return rc;
    /* GMF: (P_g[users] * w_o[:d]) Q_g^T, then + b_o */
    for (int32_t r = 0; r < n; r++) {
        const float *pg = f->emb[T_PG] + (int64_t)users[r] * d;
        for (int32_t c = 0; c < d; c++)
            f->sG[(int64_t)r * d + c] = pg[c] * f->wo[c];
    }
    if ((rc = hc_nn_gemm(0, 1, n, I, d, 1.0f, f->sG, d, f->emb[T_QG], d, 0.0f, out, I)) != HC_OK)
        return rc;
    /* A = P_m[users] W1[:, :m]^T (the gathered rows sit in sA's second half) */
    float *Pu = f->sA + (int64_t)n * mm;
    for (int32_t r = 0; r < n; r++)
        memcpy(Pu + (int64_t)r * mm, f->emb[T_PM] + (int64_t)users[r] * mm,
               (size_t)mm * sizeof(float));
    if ((rc = hc_nn_gemm(0, 1, n, mm, mm, 1.0f, Pu, mm, f->W1, 2 * mm, 0.0f, f->sA, mm)) != HC_OK)
        return rc;
    /* MLP: jobs of (user, SCORE_T micro-tiles); a partial last tile goes through a buffer */
    const int32_t njob = (f->n_tiles + SCORE_T - 1) / SCORE_T;
    const float bo = *f->bo;
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t job = 0; job < (int64_t)n * njob; job++) {
        const int32_t u = (int32_t)(job / njob), t0 = (int32_t)(job % njob) * SCORE_T;
        const int32_t t1 = t0 + SCORE_T < f->n_tiles ? t0 + SCORE_T : f->n_tiles;
        const float *a = f->sA + (int64_t)u * mm;
        float *orow = out + (int64_t)u * I;
        for (int32_t t = t0; t < t1; t++) {
            float buf[TILE] = {0}, *o = orow + (int64_t)t * TILE;
            const int full = (t + 1) * TILE <= I;
            const int32_t nq = full ? TILE : I - t * TILE;
            if (!full) {
                memcpy(buf, o, (size_t)nq * sizeof(float));
                o = buf;
            }
            for (int32_t q = 0; q < nq; q++)
                o[q] += bo;
            const float *P = f->Bp + (int64_t)t * mm * TILE;
#ifdef DL_X86
            if (f->avx2)
                tile_avx2(mm, f->m2p, a, P, f->W2t, f->b2p, f->wmp, o);
            else
#endif
                tile_generic(mm, f->m2p, a, P, f->W2t, f->b2p, f->wmp, o);
            if (!full)
                memcpy(orow + (int64_t)t * TILE, buf, (size_t)nq * sizeof(float));
        }
    }
    return HC_OK;
}

static int dl_shapes(const hc_hparams *hp, int32_t U, int32_t I, hc_tensor *out)
{
    const int32_t d = hp->dim, mm = mlp_width(d), m2 = mm / 2;
    out[0] = (hc_tensor){"gmf_user", U, d, NULL};
    out[1] = (hc_tensor){"gmf_item", I, d, NULL};
    out[2] = (hc_tensor){"mlp_user", U, mm, NULL};
    out[3] = (hc_tensor){"mlp_item", I, mm, NULL};
    out[4] = (hc_tensor){"mlp_w1", mm, 2 * mm, NULL};
    out[5] = (hc_tensor){"mlp_b1", 1, mm, NULL};
    out[6] = (hc_tensor){"mlp_w2", m2, mm, NULL};
    out[7] = (hc_tensor){"mlp_b2", 1, m2, NULL};
    out[8] = (hc_tensor){"out_w", 1, d + m2, NULL};
    out[9] = (hc_tensor){"out_b", 1, 1, NULL};
    return N_TENSORS;
}

static int dl_tensors(hc_model *m, hc_tensor *out)
{
    dl_model *f = (dl_model *)m;
    int n = dl_shapes(&m->hp, m->n_users, m->n_items, out);
    float *data[N_TENSORS] = {f->emb[T_PG], f->emb[T_QG], f->emb[T_PM], f->emb[T_QM], f->W1,
                              f->b1,        f->W2,        f->b2,        f->wo,        f->bo};
    for (int k = 0; k < n; k++)
        out[k].data = data[k];
    return n;
}

static void dl_free(hc_model *m)
{
    dl_model *f = (dl_model *)m;
    for (int t = 0; t < N_EMB; t++) {
        free(f->emb[t]);
        hc_adam_table_free(&f->tab[t]);
        hc_rowgrad_free(&f->rg[t]);
    }
    free(f->mlp);
    free(f->gmlp);
    free(f->mm);
    free(f->mv);
    hc_epoch_samples_free(&f->samples);
    free(f->perm);
    free(f->bu);
    free(f->bi);
    free(f->by);
    free(f->scr);
    free(f->Bp);
    free(f->W2t);
    free(f->b2p);
    free(f->wmp);
    free(f->sA);
    free(f->sG);
}

const hc_model_type hc_model_dl = {
    .name = "dl",
    .title = "NeuMF: GMF + MLP towers, binary cross-entropy with sampled negatives",
    .version = 1,
    .params = "dim lr wd negatives batch init-std seed",
    .size = sizeof(dl_model),
    .defaults = dl_defaults,
    .init = dl_init,
    .train_epoch = dl_epoch,
    .prepare = dl_prepare,
    .score = dl_score,
    .tensors = dl_tensors,
    .shapes = dl_shapes,
    .free_fn = dl_free,
};
