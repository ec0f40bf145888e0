/*
 * akt_sampled.c - HetComp's training step with sampled rest sets (see akt_sampled.h).
 *
 * Draws: step t's S items come from the RNG stream (seed, t), so they do not depend on the
 * thread count; they are redrawn every step and shared by the step's users, which turns each
 * user's rest sums into two vectorised passes over the draws' transposed factors (the fused
 * exact kernel's passes over a catalog of S items). Results depend on the thread count only
 * through the order in which the threads' gradients are summed (fixed: thread order), as in
 * the exact kernel.
 */
#include "distill/akt_sampled.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST    (HC_AKT_MAX_P + HC_AKT_MAX_K)
#define DRAW_STREAM 0x7E57000000000000ULL

/* One thread's work area: the kernel's, the listed items' coefficients, the draws' dq. */
static size_t kernel_bytes(int32_t S)
{
    return (hc_akt_shared_work_size(S) + 63) & ~(size_t)63;
}

static size_t coef_bytes(void)
{
    return ((size_t)MAX_LIST * sizeof(float) + 63) & ~(size_t)63;
}

int hc_akt_sampler_init(hc_akt_sampler *s, float *P, int32_t U, float *Q, int32_t I, int32_t d,
                        int32_t S, const hc_proposal *prop, int32_t max_users, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    if (S < 1 || d < 1 || d > HC_AKT_MAX_D || max_users < 1)
        return hc_error(HC_EINVAL, "sampled AKT: %d draws, dim %d", S, d);
    s->U = U;
    s->I = I;
    s->d = d;
    s->S = S;
    s->prop = prop;
    s->seed = seed;
    s->n_threads = omp_get_max_threads();
    int nt = s->n_threads;
    /* a thread's listed items: at most its users' lists, never more than I */
    int64_t cap = (int64_t)max_users * MAX_LIST;
    s->touch_cap = cap < I ? cap : I;
    s->dq_len = ((int64_t)S + HC_AKT_TILE - 1) / HC_AKT_TILE * HC_AKT_TILE * d;
    s->work_stride = kernel_bytes(S) + coef_bytes() + (size_t)s->dq_len * sizeof(float);
    int rc;
    if ((rc = hc_adam_table_init(&s->tP, P, U, d)) || (rc = hc_adam_table_init(&s->tQ, Q, I, d)) ||
        (rc = hc_adam_gather_init(&s->wP, U)) || (rc = hc_adam_gather_init(&s->wQ, I)))
        return rc;
    s->gP = calloc((size_t)U * (size_t)d, sizeof(float));
    s->gQ = calloc((size_t)I * (size_t)d, sizeof(float));
    s->dQ = calloc((size_t)nt * (size_t)I * (size_t)d, sizeof(float));
    s->stamp = calloc((size_t)nt * (size_t)I, sizeof *s->stamp);
    s->touched = malloc((size_t)nt * (size_t)s->touch_cap * sizeof *s->touched);
    s->n_touched = calloc((size_t)nt, sizeof *s->n_touched);
    s->gstamp = calloc((size_t)I, sizeof *s->gstamp);
    s->rows = malloc((size_t)I * sizeof *s->rows);
    s->items = malloc((size_t)S * sizeof *s->items);
    s->next = malloc((size_t)S * sizeof *s->next);
    s->first = malloc((size_t)I * sizeof *s->first);
    s->w = malloc((size_t)S * sizeof *s->w);
    s->Qt = malloc((size_t)S * (size_t)d * sizeof *s->Qt);
    s->uloss = malloc((size_t)max_users * sizeof *s->uloss);
    s->work = aligned_alloc(64, (size_t)nt * s->work_stride);
    if (!s->gP || !s->gQ || !s->dQ || !s->stamp || !s->touched || !s->n_touched || !s->gstamp ||
        !s->rows || !s->items || !s->next || !s->first || !s->w || !s->Qt || !s->uloss || !s->work)
        return hc_error(HC_ENOMEM, "sampled AKT: out of memory for %d items x %d threads", I, nt);
    memset(s->work, 0, (size_t)nt * s->work_stride); /* the draws' dq start at zero */
    for (int32_t i = 0; i < I; i++)
        s->first[i] = -1;
    return HC_OK;
}

void hc_akt_sampler_free(hc_akt_sampler *s)
{
    hc_adam_table_free(&s->tP);
    hc_adam_table_free(&s->tQ);
    hc_adam_gather_free(&s->wP);
    hc_adam_gather_free(&s->wQ);
    void *bufs[] = {s->gP,        s->gQ,     s->dQ,   s->stamp, s->touched,
                    s->n_touched, s->gstamp, s->rows, s->items, s->next,
                    s->first,     s->w,      s->Qt,   s->uloss, s->work};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        free(bufs[k]);
    memset(s, 0, sizeof *s);
}

/* Draws the step's items, their factors transposed and the item -> draws chains. */
static void draw_step(hc_akt_sampler *s, const float *Q)
{
    const int32_t S = s->S, d = s->d;
    hc_rng r;
    hc_rng_init(&r, s->seed, DRAW_STREAM + (uint64_t)s->step);
    hc_proposal_draw(s->prop, &r, S, s->items, s->w);
    for (int32_t j = S - 1; j >= 0; j--) {
        int32_t it = s->items[j];
        s->next[j] = s->first[it];
        s->first[it] = j;
        for (int32_t q = 0; q < d; q++)
            s->Qt[(int64_t)q * S + j] = Q[(int64_t)it * d + q];
    }
}

/* Adds coef * p into thread t's row of item it, recording the item's first touch. */
static inline void add_item(hc_akt_sampler *s, int t, int32_t it, float coef, const float *p)
{
    const int32_t d = s->d;
    int32_t *stamp = s->stamp + (int64_t)t * s->I;
    if (stamp[it] != s->step) {
        stamp[it] = s->step;
        s->touched[(int64_t)t * s->touch_cap + s->n_touched[t]++] = it;
    }
    float *dq = s->dQ + ((int64_t)t * s->I + it) * d;
    for (int32_t q = 0; q < d; q++)
        dq[q] += coef * p[q];
}

/* User u's loss and gradients on thread t: gP's row directly (users are unique in a step),
 * the draws' into the thread's dq, the listed items' into the thread's table. */
static double user_step(hc_akt_sampler *s, int t, const hc_akt_problem *pb,
                        const hc_akt_shared_draws *dr, int32_t u, const hc_akt_lists *l, int phase,
                        float scale)
{
    unsigned char *w = s->work + (size_t)t * s->work_stride;
    float *coef = (float *)(void *)(w + kernel_bytes(s->S));
    float *dq = (float *)(void *)(w + kernel_bytes(s->S) + coef_bytes());
    double loss =
        hc_akt_shared_user(pb, u, l, dr, phase, scale, w, s->gP + (int64_t)u * s->d, coef, dq);
    const float *p = pb->P + (int64_t)u * s->d;
    int32_t n_p = l->n_p < HC_AKT_MAX_P ? l->n_p : HC_AKT_MAX_P;
    int32_t n_t = l->n_t < HC_AKT_MAX_K ? l->n_t : HC_AKT_MAX_K;
    for (int32_t j = 0; j < n_p; j++)
        if (coef[j] != 0.0f)
            add_item(s, t, l->P[j], coef[j], p);
    for (int32_t j = 0; j < n_t; j++)
        if (coef[n_p + j] != 0.0f)
            add_item(s, t, l->T[j], coef[n_p + j], p);
    return loss;
}

/* Row it of gQ takes part in the step's Adam update. */
static inline void list_row(hc_akt_sampler *s, int32_t it, int32_t *n)
{
    if (s->gstamp[it] != s->step) {
        s->gstamp[it] = s->step;
        s->rows[(*n)++] = it;
    }
}

/* Sums the threads' gradients into gQ in thread order (each thread's listed items, then its
 * draws), clearing them and the draw chains; returns the number of distinct rows, listed in
 * s->rows. */
static int32_t merge_items(hc_akt_sampler *s, int nt)
{
    const int32_t d = s->d;
    int32_t n = 0;
    for (int t = 0; t < nt; t++) {
        const int32_t *tl = s->touched + (int64_t)t * s->touch_cap;
        for (int32_t k = 0; k < s->n_touched[t]; k++) {
            int32_t it = tl[k];
            float *dq = s->dQ + ((int64_t)t * s->I + it) * d, *g = s->gQ + (int64_t)it * d;
            list_row(s, it, &n);
            for (int32_t q = 0; q < d; q++) {
                g[q] += dq[q];
                dq[q] = 0.0f;
            }
        }
        s->n_touched[t] = 0;
        float *dq = (float *)(void *)(s->work + (size_t)t * s->work_stride + kernel_bytes(s->S) +
                                      coef_bytes());
        for (int32_t j = 0; j < s->S; j++) {
            int32_t it = s->items[j];
            float *g = s->gQ + (int64_t)it * d, *src = dq + (j / HC_AKT_TILE) * HC_AKT_TILE * d;
            list_row(s, it, &n);
            for (int32_t q = 0; q < d; q++)
                g[q] += src[q * HC_AKT_TILE + j % HC_AKT_TILE];
        }
        memset(dq, 0, (size_t)s->dq_len * sizeof(float));
    }
    for (int32_t j = 0; j < s->S; j++)
        s->first[s->items[j]] = -1;
    return n;
}

int hc_akt_sampler_step(hc_akt_sampler *s, hc_adam *adam, const hc_akt_problem *pb,
                        const int32_t *users, const hc_akt_lists *lists, int32_t n, int phase,
                        float scale, double *loss)
{
    s->step++;
    draw_step(s, pb->Q);
    hc_akt_shared_draws dr = {{s->items, s->w, s->S}, s->Qt, s->first, s->next};
    int nt = s->n_threads < n ? s->n_threads : (n > 0 ? n : 1);
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num();
        int32_t lo = (int32_t)((int64_t)n * t / nt), hi = (int32_t)((int64_t)n * (t + 1) / nt);
        for (int32_t k = lo; k < hi; k++)
            s->uloss[k] = user_step(s, t, pb, &dr, users[k], &lists[k], phase, scale);
    }
    double total = 0.0;
    for (int32_t k = 0; k < n; k++)
        total += s->uloss[k];
    *loss = total * (double)scale;
    int32_t nr = merge_items(s, nt);
    hc_adam_begin_step(adam);
    int rc = hc_adam_table_step_dense(adam, &s->tP, s->gP, users, n, &s->wP);
    if (rc == HC_OK)
        rc = hc_adam_table_step_dense(adam, &s->tQ, s->gQ, s->rows, nr, &s->wQ);
    return rc;
}

void hc_akt_sampler_flush(hc_akt_sampler *s, const hc_adam *adam)
{
    hc_adam_table_flush(adam, &s->tP);
    hc_adam_table_flush(adam, &s->tQ);
}
