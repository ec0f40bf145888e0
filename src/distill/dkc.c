/*
 * dkc.c - discrepancy and checkpoint moves of dynamic knowledge construction (see dkc.h).
 * Pairs are independent, so users are spread over OpenMP threads, each with its own mark
 * array; the result does not depend on the thread count. Under MPI a state covers one rank's
 * users (hc_dkc_state.rank / size), whose snapshots are all its teachers' shares hold.
 */
#include "distill/dkc.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "dist/dist.h"
#include "topk/scored.h"

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
    for (int32_t t = 0; t < n; t++)
        if (s[t] >= 0 && mark[s[t]] == stamp)
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

/* How many users st covers; the j-th is first + j * step. */
static int32_t covered(const hc_dkc_state *st, int32_t *first, int32_t *step)
{
    int size = st->size > 1 ? st->size : 1, rank = size > 1 ? st->rank : 0;
    *first = rank;
    *step = size;
    return (int32_t)dist_n_owned(st->U, rank, size);
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
    int32_t u0, du, n_users = covered(st, &u0, &du);
#pragma omp parallel for schedule(dynamic, 64)
    for (int32_t j = 0; j < n_users; j++) {
        int32_t u = u0 + j * du;
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
    int32_t u0, du, n_users = covered(st, &u0, &du);
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : total)
    for (int32_t j = 0; j < n_users; j++) {
        int32_t u = u0 + j * du;
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

/* ------------------------------------------------------------------ estimated ranks */

static float dotf(const float *a, const float *b, int32_t d)
{
    float s = 0.0f;
    for (int32_t q = 0; q < d; q++)
        s += a[q] * b[q];
    return s;
}

/* Adds the first HC_DKC_DEPTH items of snapshot c of teacher x for user u to the candidates
 * (each once: mark holds stamp for those already in). */
static int32_t add_snapshot(const hc_traj *t, int32_t c, int32_t u, hc_scored *cand, int32_t n,
                            marker *m)
{
    const int32_t *top = hc_traj_top(t, c, u);
    int32_t k = t->k < HC_DKC_DEPTH ? t->k : HC_DKC_DEPTH;
    for (int32_t j = 0; j < k && top[j] >= 0; j++)
        if (m->mark[top[j]] != m->stamp) {
            m->mark[top[j]] = m->stamp;
            cand[n++].id = top[j];
        }
    return n;
}

/* The number of candidates (by descending score) scoring at least s. */
static int32_t n_at_least(const hc_scored *cand, int32_t n, float s)
{
    int32_t lo = 0, hi = n;
    while (lo < hi) {
        int32_t mid = (lo + hi) / 2;
        if (cand[mid].score >= s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* User u's estimated list (see dkc.h); cand, above (|C_u| + 1 doubles), items and w are the
 * thread's scratch. A draw scoring s counts for every candidate below s: its weight goes to
 * the first such candidate's slot of above, whose prefix sums are then the estimates. */
static void estimate_user(const hc_dkc_state *st, const hc_dkc_sampled_ranks *sr, int32_t u,
                          marker *m, hc_scored *cand, double *above, int32_t *items, float *w,
                          int32_t *out)
{
    const int32_t d = sr->d;
    const float *p = sr->P + (int64_t)u * d;
    int32_t n = 0;
    m->stamp++;
    for (int32_t x = 0; x < st->M; x++) {
        int32_t C = st->traj[x]->n_ckpt, v = st->v[(int64_t)x * st->U + u];
        n = add_snapshot(st->traj[x], v + 1 < C ? v + 1 : C - 1, u, cand, n, m);
        n = add_snapshot(st->traj[x], v + 2 < C ? v + 2 : C - 1, u, cand, n, m);
    }
    for (int32_t j = 0; j < n; j++)
        cand[j].score = dotf(p, sr->Q + (int64_t)cand[j].id * d, d);
    qsort(cand, (size_t)n, sizeof *cand, hc_scored_cmp);
    for (int32_t j = 0; j <= n; j++)
        above[j] = 0.0;
    hc_rng r;
    hc_rng_init(&r, sr->seed, (uint64_t)u);
    hc_proposal_draw(sr->prop, &r, sr->n_draws, items, w);
    const int32_t *tr = hc_csr_row(sr->train, u);
    int32_t ntr = hc_csr_row_len(sr->train, u);
    for (int32_t j = 0; j < sr->n_draws; j++) {
        int32_t it = items[j];
        if (m->mark[it] == m->stamp || hc_sorted_has_i32(tr, ntr, it))
            continue; /* a candidate or a train item: not among the others */
        above[n_at_least(cand, n, dotf(p, sr->Q + (int64_t)it * d, d))] += (double)w[j];
    }
    for (int32_t t = 0; t < HC_DKC_DEPTH; t++)
        out[t] = -1;
    double sum = 0.0;
    for (int32_t j = 0, prev = -1; j < n; j++) {
        sum += above[j];
        int32_t pos = j + (int32_t)(sum + 0.5);
        if (pos <= prev)
            pos = prev + 1;
        if (pos >= HC_DKC_DEPTH)
            break;
        out[pos] = cand[j].id;
        prev = pos;
    }
}

int hc_dkc_estimate_top(const hc_dkc_state *st, const hc_dkc_sampled_ranks *sr, int32_t *top50)
{
    marker *mk;
    int rc = with_marks(st, &mk);
    if (rc)
        return rc;
    int nt = omp_get_max_threads();
    size_t max_cand = (size_t)st->M * 2 * HC_DKC_DEPTH, nd = (size_t)sr->n_draws;
    size_t per = max_cand * sizeof(hc_scored) + (max_cand + 1) * sizeof(double) +
                 nd * (sizeof(int32_t) + sizeof(float));
    unsigned char *scratch = malloc((size_t)nt * per);
    if (!scratch) {
        free_marks(mk);
        return hc_error(HC_ENOMEM, "dkc: out of memory for the rank estimate");
    }
    int32_t u0, du, n_users = covered(st, &u0, &du);
#pragma omp parallel for schedule(dynamic, 64)
    for (int32_t j = 0; j < n_users; j++) {
        int32_t u = u0 + j * du;
        int t = omp_get_thread_num();
        hc_scored *cand = (hc_scored *)(void *)(scratch + (size_t)t * per);
        double *above = (double *)(void *)(cand + max_cand);
        int32_t *items = (int32_t *)(void *)(above + max_cand + 1);
        float *w = (float *)(void *)(items + nd);
        estimate_user(st, sr, u, &mk[t], cand, above, items, w, top50 + (int64_t)u * HC_DKC_DEPTH);
    }
    free(scratch);
    free_marks(mk);
    return HC_OK;
}
