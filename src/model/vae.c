/*
 * vae.c - AE teacher: Mult-DAE, or Mult-VAE (Liang et al. 2018), over a user's item vector
 * (docs/method.md §2, family "ae").
 *
 * Input: the user's train row x_u (0/1 over I items). Training drops each entry with
 * probability p = hp.dropout (kept entries scaled by 1 / (1 - p)), then L2-normalises the row
 * (x / max(||x||, 1e-12), as torch F.normalize); scoring uses the whole row, normalised. The
 * input layer is the CSR row times the encoder: z = b + sum over kept items of W_enc[i] v_i,
 * with W_enc stored I x width (one row per item), never a dense I-vector product.
 *   Mult-DAE (hp.layers == 1, the default; the reference): h = tanh(z) (hp.dim = 200 wide),
 *     logits = W_dec h + b_dec (W_dec: I x h).
 *   Mult-VAE (hp.layers == 2): h1 = tanh(z) (600 wide), [mu; logvar] = W_mid h1 + b_mid,
 *     latent s = mu + eps exp(logvar / 2) with eps ~ N(0, 1) while training (s = mu when
 *     scoring), h3 = tanh(W_d1 s + b_d1) (600), logits = W_dec h3 + b_dec.
 * Loss of a batch of B users (n_u = |x_u|, P = softmax(logits)):
 *   L = (1/B) sum_u [ -sum_{i in x_u} log P_ui + beta KL_u ],
 *   KL_u = 1/2 sum_j (exp(logvar_j) + mu_j^2 - 1 - logvar_j)  (VAE only),
 *   dL/dlogits_u = (n_u P_u - x_u) / B,  dKL/dmu = mu,  dKL/dlogvar = (exp(logvar) - 1) / 2,
 *   ds/dmu = 1, ds/dlogvar = eps exp(logvar / 2) / 2;
 * the rest is the layers' backward (nn/layers.h). beta = min(0.2, step / VAE_ANNEAL_STEPS),
 * step counting Adam steps (Liang et al.'s annealing to 0.2).
 * Score(u, i) = logits_ui (rank-equivalent to P).
 * Init as the reference: weights Xavier uniform, biases N(0, 0.001).
 * Epoch: the users with train items, shuffled per epoch, in batches of hp.batch; each batch's
 * dropout (and VAE noise) comes from its own RNG stream. Optimiser: Adam with coupled weight
 * decay, dense on every tensor but the input layer's weight; that one's gradient is zero
 * outside the batch's items, so only those rows move, each first catching up in closed form
 * the momentum steps it missed (optim/adam.h, hc_adam_table): the reference's dense Adam at
 * the cost of the touched rows (dense, the I x width update was 15% of an epoch).
 * Cost per batch: three B x width x I products (the output layer's forward, the gradient to
 * h, its weight gradient) and one exp per logit, in the fused softmax output layer
 * (nn/softmax_out.h), pipelined across batches: one parallel region over chunks of DEC_CHUNK
 * items takes, per chunk, the previous batch's weight gradient and Adam step while the
 * gradient is in cache (the I x width gradient is never stored in training) and then this
 * batch's logits on the rows just stepped, which are still in cache; a batch's output layer
 * step is thus pending until the next batch (or the end of the epoch) and uses its own
 * step's Adam factors, so the arithmetic is that of sequential steps. The large arrays sit on
 * transparent huge pages (hc_alloc_floats). Memory: 2 I x width weights (+ 3x that for the moments
 * and the gradient-check buffers) and B x I floats of logits.
 * Sampled output layer (hp.out_samples = S > 0, docs/teachers.md §2):
 * per batch the softmax runs over the batch's positives and S draws of a proposal shared by
 * the batch (model/outsample.h), the drawn items' logits moved by log(k / (S q)) (the logQ
 * correction), and only those rows of W_dec, b_dec take a (lazy) Adam step: the output
 * layer's cost per batch is O(B x (P + S) x width) instead of O(B x I x width), P the batch's
 * positives; no B x I logits are allocated.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/families.h"
#include "nn/layers.h"
#include "model/outsample.h"
#include "nn/softmax_out.h"
#include "optim/adam.h"

#define VAE_HIDDEN       600   /* Mult-VAE hidden width (Liang et al.: I-600-200-600-I) */
#define VAE_ANNEAL_CAP   0.2f  /* KL weight cap */
#define VAE_ANNEAL_STEPS 20000 /* steps to reach the cap */
#define MAX_T            8
#define DEC_CHUNK        1024 /* output units per backward chunk */
#define SAMPLED_CHUNK    256  /* candidates per chunk of the sampled layer (a few per thread) */

/* Tensor indices: DAE uses ENC_W, ENC_B, DEC_W, DEC_B; the VAE all eight. */
enum { ENC_W, ENC_B, DEC_W, DEC_B, MID_W, MID_B, D1_W, D1_B };

typedef struct {
    hc_model base; /* must be first */
    int vae;       /* 1: Mult-VAE */
    int32_t h;     /* hp.dim: DAE hidden width, VAE latent size */
    int32_t e;     /* encoder (and VAE decoder hidden) width: h or VAE_HIDDEN */
    int32_t dw;    /* width feeding the output layer: h (DAE) or VAE_HIDDEN */
    int nt;        /* tensors: 4 or 8 */
    hc_tensor t[MAX_T];
    /* training state */
    float *g[MAX_T], *am[MAX_T], *av[MAX_T]; /* gradients and dense Adam moments */
    hc_adam adam;
    hc_adam dec_adam;             /* the step of the batch whose output layer step is pending */
    hc_nn_softmax_pending dec_pd; /* that batch (its step runs with the next batch's forward) */
    hc_adam_table enc_tab;        /* Adam state of the encoder rows (touched rows, with catch-up) */
    hc_adam_gather gather;        /* the encoder step's scratch */
    int have_train;
    int32_t *order; /* users with train items */
    int32_t n_order;
    float *logits; /* logits_rows x I */
    int32_t logits_rows;
    hc_csr R;       /* scoring: a copy of the train matrix (prepare) */
    uint64_t R_sum; /* checksum of the dataset R came from */
    int have_R;
    /* a batch: sparse input and activations (grown to the largest batch) */
    int64_t *ptr;
    int32_t *col;
    float *val;
    int64_t nnz_cap;
    float *act; /* activations and their gradients, rows x act_per_row */
    int32_t act_rows;
    double last_kl; /* KL term of the last batch (VAE) */
    int stepping;   /* ae_batch steps the output layer instead of storing its gradient */
    /* the batch's targets: its users' full train rows (tptr: rows + 1, tcol: nnz_cap) */
    int64_t *tptr;
    int32_t *tcol;
    hc_nn_ws ws; /* the output layer's scratch */
    /* the sampled output layer (hp.out_samples > 0) */
    int sampled;
    hc_outsample os; /* candidates, gathers and the lazy Adam state of W_dec, b_dec */
    int32_t *stcol;  /* the batch's targets as candidate indices (nnz_cap) */
    float *sE;       /* rows x candidates scratch of the sampled softmax */
    int64_t sE_cap;
} ae_model;

static void ae_defaults(hc_hparams *hp)
{
    hp->dim = 200;
    hp->layers = 1;
    hp->batch = 128;
    hp->dropout = 0.5f;
    hp->lr = 1e-3f;
    hp->reg = 1e-5f;
}

static int ae_shapes(const hc_hparams *hp, int32_t n_users, int32_t I, hc_tensor *out)
{
    (void)n_users;
    if (hp->layers != 1 && hp->layers != 2)
        return hc_error(HC_EINVAL, "ae: layers must be 1 (Mult-DAE) or 2 (Mult-VAE), got %d",
                        hp->layers);
    if (!(hp->dropout >= 0.0f && hp->dropout < 1.0f))
        return hc_error(HC_EINVAL, "ae: dropout must be in [0, 1), got %g", (double)hp->dropout);
    const int vae = hp->layers == 2;
    const int32_t h = hp->dim, e = vae ? VAE_HIDDEN : h;
    out[ENC_W] = (hc_tensor){"enc_w", I, e, NULL};
    out[ENC_B] = (hc_tensor){"enc_b", 1, e, NULL};
    out[DEC_W] = (hc_tensor){"dec_w", I, e, NULL};
    out[DEC_B] = (hc_tensor){"dec_b", 1, I, NULL};
    if (!vae)
        return 4;
    out[MID_W] = (hc_tensor){"mid_w", 2 * h, e, NULL};
    out[MID_B] = (hc_tensor){"mid_b", 1, 2 * h, NULL};
    out[D1_W] = (hc_tensor){"dec1_w", VAE_HIDDEN, h, NULL};
    out[D1_B] = (hc_tensor){"dec1_b", 1, VAE_HIDDEN, NULL};
    return 8;
}

static int ae_init(hc_model *m, const hc_dataset *ds, int load)
{
    (void)ds;
    ae_model *a = (ae_model *)m;
    if ((a->nt = ae_shapes(&m->hp, m->n_users, m->n_items, a->t)) < 0)
        return a->nt;
    a->vae = m->hp.layers == 2;
    a->h = m->hp.dim;
    a->e = a->vae ? VAE_HIDDEN : a->h;
    a->dw = a->e;
    const int32_t I = m->n_items;
    for (int k = 0; k < a->nt; k++) {
        a->t[k].data = hc_alloc_floats(hc_tensor_len(&a->t[k]));
        if (!a->t[k].data)
            return hc_error(HC_ENOMEM, "ae: out of memory for the parameters");
    }
    if (load)
        return HC_OK;
    hc_rng r;
    hc_rng_init(&r, m->hp.seed, 0xAE);
    /* Xavier bounds from (fan_in, fan_out) of each nn.Linear */
    hc_nn_init_xavier(&r, a->t[ENC_W].data, hc_tensor_len(&a->t[ENC_W]), I, a->e);
    hc_nn_init_xavier(&r, a->t[DEC_W].data, hc_tensor_len(&a->t[DEC_W]), a->dw, I);
    if (a->vae) {
        hc_nn_init_xavier(&r, a->t[MID_W].data, hc_tensor_len(&a->t[MID_W]), a->e, 2 * a->h);
        hc_nn_init_xavier(&r, a->t[D1_W].data, hc_tensor_len(&a->t[D1_W]), a->h, VAE_HIDDEN);
    }
    for (int k = 0; k < a->nt; k++)
        if (a->t[k].rows == 1)
            hc_nn_init_normal(&r, a->t[k].data, hc_tensor_len(&a->t[k]), 0.001f);
    return HC_OK;
}

/* Floats of activations per batch row. */
static int64_t act_per_row(const ae_model *a)
{
    /* DAE: H1, dH1. VAE: H1, dH1 (e each), Z2, dZ2 (2h), eps, S, dS (h), H3, dH3 (600) */
    if (!a->vae)
        return 2 * (int64_t)a->e;
    return 2 * (int64_t)a->e + 4 * (int64_t)a->h + 3 * (int64_t)a->h + 2 * (int64_t)VAE_HIDDEN;
}

/* Grows the batch buffers to rows rows and nnz input entries. */
static int batch_state(ae_model *a, int32_t rows, int64_t nnz)
{
    if (rows > a->act_rows) {
        free(a->act);
        free(a->ptr);
        free(a->tptr);
        a->act = malloc((size_t)(rows * act_per_row(a)) * sizeof(float));
        a->ptr = malloc((size_t)(rows + 1) * sizeof(int64_t));
        a->tptr = malloc((size_t)(rows + 1) * sizeof(int64_t));
        a->act_rows = a->act && a->ptr && a->tptr ? rows : 0;
        if (!a->act_rows)
            return hc_error(HC_ENOMEM, "ae: out of memory for a batch");
    }
    if (nnz > a->nnz_cap) {
        free(a->col);
        free(a->val);
        free(a->tcol);
        free(a->stcol);
        a->col = malloc((size_t)nnz * sizeof(int32_t));
        a->val = malloc((size_t)nnz * sizeof(float));
        a->tcol = malloc((size_t)nnz * sizeof(int32_t));
        a->stcol = malloc((size_t)nnz * sizeof(int32_t));
        a->nnz_cap = a->col && a->val && a->tcol && a->stcol ? nnz : 0;
        if (!a->nnz_cap)
            return hc_error(HC_ENOMEM, "ae: out of memory for a batch");
    }
    return HC_OK;
}

/* Builds the sparse input of users[0..n): dropout from r when r is non-NULL, then L2
 * normalisation (every kept entry of a row has the same value, so the norm is
 * value * sqrt(kept)); and the targets (the full rows) in tptr, tcol. */
static int build_input(ae_model *a, const hc_csr *R, const int32_t *users, int32_t n, hc_rng *r,
                       hc_nn_sparse *x)
{
    int64_t nnz = 0;
    for (int32_t b = 0; b < n; b++)
        nnz += hc_csr_row_len(R, users[b]);
    int rc = batch_state(a, n, nnz > 0 ? nnz : 1);
    if (rc)
        return rc;
    const float p = a->base.hp.dropout, keep = 1.0f / (1.0f - p);
    int64_t k = 0;
    a->ptr[0] = 0;
    a->tptr[0] = 0;
    for (int32_t b = 0; b < n; b++) {
        const int32_t *row = hc_csr_row(R, users[b]);
        int32_t len = hc_csr_row_len(R, users[b]);
        memcpy(a->tcol + a->tptr[b], row, (size_t)len * sizeof(int32_t));
        a->tptr[b + 1] = a->tptr[b] + len;
        int64_t k0 = k;
        for (int32_t q = 0; q < len; q++)
            if (!r || p <= 0.0f || hc_rng_float(r) >= p)
                a->col[k++] = row[q];
        float scale = r ? keep : 1.0f, norm = scale * sqrtf((float)(k - k0));
        float v = scale / (norm > HC_NN_NORM_EPS ? norm : HC_NN_NORM_EPS);
        for (int64_t q = k0; q < k; q++)
            a->val[q] = v;
        a->ptr[b + 1] = k;
    }
    *x = (hc_nn_sparse){n, a->ptr, a->col, a->val};
    return HC_OK;
}

/* The encoder (and the VAE's middle) of a batch: returns the output layer's input (n x dw,
 * inside a->act). With r (training) the VAE draws its noise from r; otherwise s = mu.
 * Activations stay in a->act for the backward pass. NULL on failure. */
static const float *encode(ae_model *a, const hc_nn_sparse *x, hc_rng *r)
{
    const int32_t n = x->n, e = a->e, h = a->h;
    float *H1 = a->act;
    hc_nn_sparse_linear_fwd(x, e, a->t[ENC_W].data, a->t[ENC_B].data, H1);
    hc_nn_act_fwd(HC_ACT_TANH, (int64_t)n * e, H1, H1);
    if (!a->vae)
        return H1;
    float *Z2 = H1 + 2 * (int64_t)n * e, *eps = Z2 + 4 * (int64_t)n * h;
    float *S = eps + (int64_t)n * h, *H3 = S + 2 * (int64_t)n * h;
    if (hc_nn_linear_fwd(n, e, 2 * h, H1, a->t[MID_W].data, a->t[MID_B].data, Z2))
        return NULL;
    for (int32_t b = 0; b < n; b++) {
        const float *mu = Z2 + (int64_t)b * 2 * h, *lv = mu + h;
        float *ep = eps + (int64_t)b * h, *s = S + (int64_t)b * h;
        for (int32_t j = 0; j < h; j++) {
            ep[j] = r ? (float)hc_rng_normal(r) : 0.0f;
            s[j] = mu[j] + ep[j] * expf(0.5f * lv[j]);
        }
    }
    if (hc_nn_linear_fwd(n, h, VAE_HIDDEN, S, a->t[D1_W].data, a->t[D1_B].data, H3))
        return NULL;
    hc_nn_act_fwd(HC_ACT_TANH, (int64_t)n * VAE_HIDDEN, H3, H3);
    return H3;
}

/* KL weight at the current step. */
static float kl_beta(const ae_model *a)
{
    float b = (float)a->adam.t / (float)VAE_ANNEAL_STEPS;
    return b < VAE_ANNEAL_CAP ? b : VAE_ANNEAL_CAP;
}

/* Receives the output layer's gradient a chunk of items at a time (nn/softmax_out.h): while
 * training (a->stepping) the chunk's rows of W_dec and b_dec take the pending batch's Adam
 * step (a->dec_adam) at once; otherwise the gradient is stored in g[]. */
static void dec_chunk(void *ctx, int32_t r0, int32_t nr, const float *dW, const float *db)
{
    ae_model *a = ctx;
    const int32_t w = a->dw;
    const int64_t off = (int64_t)r0 * w, len = (int64_t)nr * w;
    if (a->stepping) {
        hc_adam_dense(&a->dec_adam, a->t[DEC_W].data + off, dW, a->am[DEC_W] + off,
                      a->av[DEC_W] + off, len);
        hc_adam_dense(&a->dec_adam, a->t[DEC_B].data + r0, db, a->am[DEC_B] + r0, a->av[DEC_B] + r0,
                      nr);
    } else {
        memcpy(a->g[DEC_W] + off, dW, (size_t)len * sizeof(float));
        memcpy(a->g[DEC_B] + r0, db, (size_t)nr * sizeof(float));
    }
}

/* The sampled output layer of a batch (docs/teachers.md §2.1): the multinomial NLL over the
 * batch's candidates, the drawn ones' logits corrected by log(k / (S q)) through their
 * gathered biases (the bias gradient is the logit gradient either way); dXd, the loss, and
 * either the candidates' Adam step (a->stepping) or their gradient in g[DEC_W], g[DEC_B]
 * (whose rows the caller clears, then ends the list). */
static int sampled_out(ae_model *a, int32_t n, const float *Xd, float *dXd, double *loss,
                       uint64_t stream)
{
    hc_outsample *o = &a->os;
    int rc = hc_outsample_begin(o, a->tcol, a->tptr[n], stream, a->t[DEC_W].data, a->t[DEC_B].data);
    if (rc)
        return rc;
    for (int32_t c = 0; c < o->n; c++)
        o->bc[c] += logf(o->wt[c]);          /* 0 for the positives */
    for (int64_t k = 0; k < a->tptr[n]; k++) /* ascending units give ascending indices */
        a->stcol[k] = hc_outsample_index(o, a->tcol[k]);
    const int64_t need = (int64_t)n * o->n;
    if (need > a->sE_cap) {
        free(a->sE);
        a->sE = malloc((size_t)need * sizeof(float));
        a->sE_cap = a->sE ? need : 0;
    }
    hc_nn_softmax_out so = {n, a->dw, o->n, Xd, o->Wc, o->bc, a->tptr, a->stcol, 1.0f / (float)n};
    rc = !a->sE ? hc_error(HC_ENOMEM, "ae: out of memory for the sampled logits")
                : hc_nn_softmax_out_train(&so, a->sE, dXd, loss, SAMPLED_CHUNK, hc_outsample_chunk,
                                          o, &a->ws);
    if (!rc && !a->stepping) {
        hc_outsample_scatter(o, a->g[DEC_W], a->g[DEC_B], 0);
        return HC_OK;
    }
    if (!rc)
        rc = hc_outsample_step(o, &a->adam);
    hc_outsample_end(o);
    return rc;
}

/* Loss and gradients of one batch: g[] receives every tensor's gradient (the encoder
 * weight's only on the batch's kept items, whose rows the caller zeroes after use), except
 * that with a->stepping the output layer (W_dec, b_dec) takes its Adam step instead of
 * storing its gradient: the batch's step is left pending and runs, with a->dec_adam, in the
 * next batch's output layer pass or at the end of the epoch (ae_epoch). */
static double ae_batch(ae_model *a, const hc_csr *R, const int32_t *users, int32_t n,
                       uint64_t stream, float beta)
{
    hc_nn_sparse x;
    hc_rng r;
    hc_rng_init(&r, a->base.hp.seed, stream);
    if (build_input(a, R, users, n, &r, &x) != HC_OK)
        return NAN;
    const int32_t e = a->e, h = a->h, I = a->base.n_items;
    const float *Xd = encode(a, &x, &r);
    if (!Xd)
        return NAN;
    /* the output layer: multinomial NLL against the full (undropped) rows, its gradient to
     * Xd, and W_dec, b_dec's gradients (or steps) a chunk of items at a time */
    const float inv_n = 1.0f / (float)n;
    float *H1 = a->act, *dH1 = H1 + (int64_t)n * e; /* the VAE's, as in act_per_row: */
    float *Z2 = dH1 + (int64_t)n * e, *dZ2 = Z2 + 2 * (int64_t)n * h;
    float *eps = dZ2 + 2 * (int64_t)n * h, *S = eps + (int64_t)n * h, *dS = S + (int64_t)n * h;
    float *H3 = dS + (int64_t)n * h, *dH3 = H3 + (int64_t)n * VAE_HIDDEN;
    hc_nn_softmax_out so = {n,       a->dw,   I,    Xd, a->t[DEC_W].data, a->t[DEC_B].data,
                            a->tptr, a->tcol, inv_n};
    double loss;
    float *dXd = a->vae ? dH3 : dH1;
    int rc = a->sampled    ? sampled_out(a, n, Xd, dXd, &loss, stream)
             : a->stepping ? hc_nn_softmax_out_step(&so, &a->dec_pd, a->logits, a->logits_rows, dXd,
                                                    &loss, DEC_CHUNK, dec_chunk, a, &a->ws)
                           : hc_nn_softmax_out_train(&so, a->logits, dXd, &loss, DEC_CHUNK,
                                                     dec_chunk, a, &a->ws);
    if (!rc && a->stepping && !a->sampled)
        a->dec_adam = a->adam; /* this batch's output layer step, now pending */
    if (a->vae) {
        hc_nn_act_bwd(HC_ACT_TANH, (int64_t)n * VAE_HIDDEN, H3, dH3, dH3);
        if (!rc)
            rc = hc_nn_linear_bwd(n, h, VAE_HIDDEN, S, a->t[D1_W].data, dH3, dS, a->g[D1_W],
                                  a->g[D1_B], 0.0f);
        double kl = 0.0;
        for (int32_t b = 0; b < n; b++) {
            const float *mu = Z2 + (int64_t)b * 2 * h, *lv = mu + h;
            const float *ep = eps + (int64_t)b * h, *ds = dS + (int64_t)b * h;
            float *dmu = dZ2 + (int64_t)b * 2 * h, *dlv = dmu + h;
            for (int32_t j = 0; j < h; j++) {
                float ev = expf(lv[j]);
                kl += 0.5 * (double)(ev + mu[j] * mu[j] - 1.0f - lv[j]);
                dmu[j] = ds[j] + beta * inv_n * mu[j];
                dlv[j] =
                    ds[j] * ep[j] * 0.5f * expf(0.5f * lv[j]) + beta * inv_n * 0.5f * (ev - 1.0f);
            }
        }
        a->last_kl = kl / (double)n;
        loss += (double)beta * a->last_kl;
        if (!rc)
            rc = hc_nn_linear_bwd(n, e, 2 * h, H1, a->t[MID_W].data, dZ2, dH1, a->g[MID_W],
                                  a->g[MID_B], 0.0f);
    }
    if (rc)
        return NAN;
    hc_nn_act_bwd(HC_ACT_TANH, (int64_t)n * e, H1, dH1, dH1);
    hc_nn_sparse_linear_bwd(&x, e, dH1, a->g[ENC_W], a->g[ENC_B], 0.0f);
    return loss;
}

/* Zeroes the encoder-gradient rows of the last batch's kept items. */
static void clear_enc_grad(ae_model *a, int32_t n)
{
    for (int64_t k = 0; k < a->ptr[n]; k++)
        memset(a->g[ENC_W] + (int64_t)a->col[k] * a->e, 0, (size_t)a->e * sizeof(float));
}

/* Gradients and dense Adam moments of every tensor but the encoder weight (its moments live
 * in enc_tab) and, with the sampled output layer, W_dec and b_dec: their moments live in the
 * outsample's lazy tables, and their dense gradients, used only by hc_ae_batch_grad, are
 * calloc'ed, so that no training step maps their pages. */
static int optim_state(ae_model *a, const hc_dataset *ds)
{
    int64_t len[MAX_T];
    for (int k = 0; k < a->nt; k++)
        len[k] = hc_tensor_len(&a->t[k]);
    if (!a->sampled) {
        if (hc_adam_dense_state(a->nt, len, ENC_W, a->g, a->am, a->av))
            return hc_error(HC_ENOMEM, "ae: out of memory for the optimiser state");
        return HC_OK;
    }
    if (hc_adam_dense_state(DEC_W, len, ENC_W, a->g, a->am, a->av) ||
        (a->nt > MID_W && hc_adam_dense_state(a->nt - MID_W, len + MID_W, -1, a->g + MID_W,
                                              a->am + MID_W, a->av + MID_W)))
        return hc_error(HC_ENOMEM, "ae: out of memory for the optimiser state");
    a->g[DEC_W] = calloc((size_t)len[DEC_W], sizeof(float));
    a->g[DEC_B] = calloc((size_t)len[DEC_B], sizeof(float));
    const int32_t I = a->base.n_items;
    int32_t *deg = calloc((size_t)I, sizeof *deg); /* items' train users */
    if (!a->g[DEC_W] || !a->g[DEC_B] || !deg) {
        free(deg);
        return hc_error(HC_ENOMEM, "ae: out of memory for the optimiser state");
    }
    for (int64_t k = 0; k < ds->train.nnz; k++)
        deg[ds->train.indices[k]]++;
    int rc = hc_outsample_init(&a->os, a->base.hp.out_samples, a->base.hp.out_proposal, deg, I,
                               a->dw, a->t[DEC_W].data, a->t[DEC_B].data, a->base.hp.seed);
    free(deg);
    return rc;
}

/* Allocates gradients, moments and the logits buffer on first use. */
static int train_state(ae_model *a, const hc_dataset *ds, int32_t rows)
{
    if (!a->have_train) {
        a->sampled = a->base.hp.out_samples > 0;
        int rc = optim_state(a, ds);
        if (rc)
            return rc;
        hc_adam_init(&a->adam, a->base.hp.lr, a->base.hp.reg);
        rc = hc_adam_table_init(&a->enc_tab, a->t[ENC_W].data, a->base.n_items, a->e);
        if (rc)
            return rc;
        if ((rc = hc_adam_gather_init(&a->gather, a->base.n_items)) != HC_OK)
            return rc;
        a->order = malloc((size_t)(ds->n_users > 0 ? ds->n_users : 1) * sizeof(int32_t));
        if (!a->order)
            return hc_error(HC_ENOMEM, "ae: out of memory");
        a->n_order = 0;
        for (int32_t u = 0; u < ds->n_users; u++)
            if (hc_csr_row_len(&ds->train, u) > 0)
                a->order[a->n_order++] = u;
        a->have_train = 1;
    }
    if (rows > a->logits_rows && !a->sampled) {
        free(a->logits);
        a->logits = hc_alloc_floats((int64_t)rows * a->base.n_items);
        a->logits_rows = a->logits ? rows : 0;
        if (!a->logits)
            return hc_error(HC_ENOMEM, "ae: out of memory for the logits");
    }
    return HC_OK;
}

double hc_ae_batch_grad(hc_model *m, const hc_dataset *ds, const int32_t *users, int32_t n,
                        uint64_t stream, float beta, float *const *grads)
{
    ae_model *a = (ae_model *)m;
    if (train_state(a, ds, n) != HC_OK)
        return NAN;
    double loss = ae_batch(a, &ds->train, users, n, stream, beta);
    if (isnan(loss))
        return loss;
    if (grads)
        for (int k = 0; k < a->nt; k++)
            memcpy(grads[k], a->g[k], (size_t)hc_tensor_len(&a->t[k]) * sizeof(float));
    clear_enc_grad(a, n);
    if (a->sampled) {
        hc_outsample_scatter(&a->os, a->g[DEC_W], a->g[DEC_B], 1);
        hc_outsample_end(&a->os);
    }
    return loss;
}

/* The encoder weight's Adam step: its gradient is non-zero only on the batch's input
 * columns. */
static int enc_step(ae_model *a, int32_t n)
{
    return hc_adam_table_step_dense(&a->adam, &a->enc_tab, a->g[ENC_W], a->col, a->ptr[n],
                                    &a->gather);
}

static int ae_epoch(hc_model *m, const hc_dataset *ds, int32_t epoch, double *loss)
{
    ae_model *a = (ae_model *)m;
    int rc = train_state(a, ds, m->hp.batch);
    if (rc)
        return rc;
    hc_rng r;
    hc_rng_init(&r, m->hp.seed, 0xAE00000000ull + (uint64_t)epoch);
    hc_rng_shuffle_i32(&r, a->order, a->n_order);
    double sum = 0.0;
    int64_t step = 0;
    a->stepping = 1;
    for (int32_t b0 = 0; b0 < a->n_order; b0 += m->hp.batch, step++) {
        int32_t nb = b0 + m->hp.batch < a->n_order ? m->hp.batch : a->n_order - b0;
        uint64_t stream = 0xAE0000000000ull + ((uint64_t)epoch << 20) + (uint64_t)step;
        const float beta = kl_beta(a); /* from the steps taken before this one */
        hc_adam_begin_step(&a->adam);
        double l = ae_batch(a, &ds->train, a->order + b0, nb, stream, beta);
        if (isnan(l)) {
            rc = hc_error(HC_ENOMEM, "ae: out of memory");
            break;
        }
        sum += l;
        if ((rc = enc_step(a, nb)) != HC_OK)
            break;
        for (int k = 0; k < a->nt; k++)
            if (k != ENC_W && k != DEC_W && k != DEC_B)
                hc_adam_dense(&a->adam, a->t[k].data, a->g[k], a->am[k], a->av[k],
                              hc_tensor_len(&a->t[k]));
    }
    /* the last batch's output layer step (or, after a failure, the pending one) */
    int rc2 = a->sampled ? HC_OK
                         : hc_nn_softmax_out_step(NULL, &a->dec_pd, a->logits, a->logits_rows, NULL,
                                                  NULL, DEC_CHUNK, dec_chunk, a, &a->ws);
    a->stepping = 0;
    if (rc)
        return rc;
    if (rc2)
        return rc2;
    *loss = sum;
    return HC_OK;
}

/* Keeps a copy of the train matrix: scoring encodes each user's train row. */
static int ae_prepare(hc_model *m, const hc_dataset *ds)
{
    ae_model *a = (ae_model *)m;
    if (a->have_train) /* bring every encoder (and sampled decoder) row to the current step */
        hc_adam_table_flush(&a->adam, &a->enc_tab);
    if (a->have_train && a->sampled)
        hc_outsample_flush(&a->os, &a->adam);
    if (a->have_R && a->R_sum == ds->checksum)
        return HC_OK;
    if (ds->train.nrows != m->n_users || ds->train.ncols != m->n_items)
        return hc_error(HC_EINVAL, "ae: the dataset's train matrix is %d x %d, model %d x %d",
                        ds->train.nrows, ds->train.ncols, m->n_users, m->n_items);
    hc_csr_free(&a->R);
    a->have_R = 0;
    int rc = hc_csr_copy(&ds->train, &a->R);
    if (rc)
        return rc;
    a->have_R = 1;
    a->R_sum = ds->checksum;
    return HC_OK;
}

static int ae_score(hc_model *m, const int32_t *users, int32_t n, float *out)
{
    ae_model *a = (ae_model *)m;
    if (!a->have_R)
        return hc_error(HC_EINVAL, "ae: scoring before prepare");
    hc_nn_sparse x;
    int rc = build_input(a, &a->R, users, n, NULL, &x);
    if (rc)
        return rc;
    const float *Xd = encode(a, &x, NULL);
    if (!Xd)
        return hc_error(HC_ENOMEM, "ae: out of memory");
    return hc_nn_linear_fwd(n, a->dw, m->n_items, Xd, a->t[DEC_W].data, a->t[DEC_B].data, out);
}

static int ae_tensors(hc_model *m, hc_tensor *out)
{
    ae_model *a = (ae_model *)m;
    for (int k = 0; k < a->nt; k++)
        out[k] = a->t[k];
    return a->nt;
}

static void ae_free(hc_model *m)
{
    ae_model *a = (ae_model *)m;
    for (int k = 0; k < MAX_T; k++) {
        free(a->t[k].data);
        free(a->g[k]);
        free(a->am[k]);
        free(a->av[k]);
    }
    hc_adam_table_free(&a->enc_tab);
    hc_adam_gather_free(&a->gather);
    hc_nn_softmax_pending_free(&a->dec_pd);
    free(a->order);
    free(a->logits);
    free(a->ptr);
    free(a->col);
    free(a->val);
    free(a->act);
    free(a->tptr);
    free(a->tcol);
    free(a->stcol);
    free(a->sE);
    hc_outsample_free(&a->os);
    hc_nn_ws_free(&a->ws);
    hc_csr_free(&a->R);
}

const hc_model_type hc_model_ae = {
    .name = "ae",
    .title = "Mult-DAE (layers 1) or Mult-VAE (layers 2) over a user's item vector",
    .version = 1,
    .params = "dim layers lr wd dropout batch seed out-samples out-proposal",
    .size = sizeof(ae_model),
    .defaults = ae_defaults,
    .init = ae_init,
    .train_epoch = ae_epoch,
    .prepare = ae_prepare,
    .score = ae_score,
    .tensors = ae_tensors,
    .shapes = ae_shapes,
    .free_fn = ae_free,
};
