/*
 * dkc.c - discrepancy and checkpoint moves of dynamic knowledge construction (see dkc.h).
 * Pairs are independent, so users are spread over OpenMP threads, each with its own mark
 * array; the result does not depend on the thread count.
 */
#include "distill/dkc.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

/* Gains over the student's positions and their normaliser, computed once. */
static double gain[HC_DKC_DEPTH], gain_norm;

static void init_gains(void)
{
    if (gain_norm > 0.0)
        return;
    double norm = 0.0;
    for (int t = 0; t < HC_DKC_DEPTH; t++) {
        gain[t] = (pow(2.0, exp(-(double)t / 10.0)) - 1.0) / log2((double)t + 2.0);
        norm += gain[t];
    }
    gain_norm = norm;
}

double hc_dkc_dist(const int32_t *s, int32_t n_s, const int32_t *snap, int32_t n_snap,
                   int32_t *mark, int32_t stamp)
{
    init_gains();
    int32_t ns = n_snap < HC_DKC_DEPTH ? n_snap : HC_DKC_DEPTH;
    for (int32_t j = 0; j < ns && snap[j] >= 0; j++)
        mark[snap[j]] = stamp;
    double hit = 0.0;
    int32_t n = n_s < HC_DKC_DEPTH ? n_s : HC_DKC_DEPTH;
    for (int32_t t = 0; t < n && s[t] >= 0; t++)
        if (mark[s[t]] == stamp)
            hit += gain[t];
    /* the stamps stay behind; callers pass a fresh stamp each time */
    return 1.0 - hit / gain_norm;
}

/* Runs fn over users in parallel with a per-thread mark array. */
typedef struct {
    int32_t *mark;
    int32_t stamp;
} marker;

static int with_marks(const hc_dkc_state *st, marker **out)
{
    int nt = omp_get_max_threads();
    marker *m = calloc((size_t)nt, sizeof *m);
    if (!m)
        return hc_error(HC_ENOMEM, "dkc: out of memory");
    for (int t = 0; t < nt; t++) {
        m[t].mark = malloc((size_t)st->traj[0]->n_items * sizeof(int32_t));
        if (!m[t].mark) {
            for (int q = 0; q < t; q++)
                free(m[q].mark);
            free(m);
            return hc_error(HC_ENOMEM, "dkc: out of memory");
        }
        for (int32_t i = 0; i < st->traj[0]->n_items; i++)
            m[t].mark[i] = -1;
    }
    *out = m;
    return HC_OK;
}

static void free_marks(marker *m)
{
    int nt = omp_get_max_threads();
    for (int t = 0; t < nt; t++)
        free(m[t].mark);
    free(m);
}

static double dist_to(const hc_dkc_state *st, marker *mk, int32_t x, int32_t c, int32_t u,
                      const int32_t *top50)
{
    const hc_traj *t = st->traj[x];
    return hc_dkc_dist(top50 + (int64_t)u * HC_DKC_DEPTH, HC_DKC_DEPTH, hc_traj_top(t, c, u), t->k,
                       mk->mark, mk->stamp++);
}

int hc_dkc_record(hc_dkc_state *st, const int32_t *top50)
{
    init_gains();
    marker *mk;
    int rc = with_marks(st, &mk);
    if (rc)
        return rc;
#pragma omp parallel for schedule(dynamic, 64)
    for (int32_t u = 0; u < st->U; u++) {
        marker *m = &mk[omp_get_thread_num()];
        for (int32_t x = 0; x < st->M; x++) {
            int64_t k = (int64_t)x * st->U + u;
            int32_t C = st->traj[x]->n_ckpt;
            if (st->v[k] < C - 1)
                st->last[k] = dist_to(st, m, x, st->v[k] + 1, u, top50);
        }
    }
    free_marks(mk);
    return HC_OK;
}

int hc_dkc_step(hc_dkc_state *st, const int32_t *top50, double th, int *moved)
{
    init_gains();
    marker *mk;
    int rc = with_marks(st, &mk);
    if (rc)
        return rc;
    int total = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : total)
    for (int32_t u = 0; u < st->U; u++) {
        marker *m = &mk[omp_get_thread_num()];
        for (int32_t x = 0; x < st->M; x++) {
            int64_t k = (int64_t)x * st->U + u;
            int32_t C = st->traj[x]->n_ckpt;
            if (st->v[k] >= C - 1)
                continue;
            double now = dist_to(st, m, x, st->v[k] + 1, u, top50);
            double ratio = now > 0.0 ? st->last[k] / now : 0.0;
            if (now == 0.0 || ratio > th || ratio < 1.0) {
                st->v[k]++;
                int32_t next = st->v[k] + 1 < C ? st->v[k] + 1 : C - 1;
                st->last[k] = dist_to(st, m, x, next, u, top50);
                total++;
            }
        }
    }
    free_marks(mk);
    *moved = total;
    return HC_OK;
}
