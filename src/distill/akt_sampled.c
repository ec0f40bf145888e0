/*
 * akt_sampled.c - HetComp's training step with sampled rest sets (see akt_sampled.h).
 *
 * Draws: group g of step t draws its S items from the RNG stream (seed, t, g), so they do not
 * depend on the thread count; sharing them among a group's users turns each user's rest sums
 * into two vectorised passes over the draws' transposed factors (the fused exact kernel's
 * passes over a catalog of S items), while fresh draws per group let every item take a rest
 * gradient far more often than one set per step would. Results depend on the thread count only
 * through the order in which the threads' gradients are summed (fixed: thread order), as in
 * the exact kernel.
 *
 * A step is one parallel region: the threads' user shares, a barrier, then each thread sums
 * the threads' gradients of the items it owns (words of 64 items of the threads' touched-item
 * bitmaps, dealt round-robin) in thread order and takes their Adam steps, in item order, so
 * the rows stream forwards; then those of its own users' rows (users are unique in a step).
 * No serial merge or update stands between two steps; reading the bitmaps costs I / 64 words
 * a thread and a step.
 */
#include "distill/akt_sampled.h"

#include "dist/dist.h"

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

static int drawset_init(hc_akt_drawset *ds, int32_t S, int32_t I, int32_t d)
{
    ds->items = malloc((size_t)S * sizeof *ds->items);
    ds->next = malloc((size_t)S * sizeof *ds->next);
    ds->first = malloc((size_t)I * sizeof *ds->first);
    ds->w = malloc((size_t)S * sizeof *ds->w);
    ds->Qt = malloc((size_t)S * (size_t)d * sizeof *ds->Qt);
    ds->u = malloc((size_t)S * sizeof *ds->u);
    if (!ds->items || !ds->next || !ds->first || !ds->w || !ds->Qt || !ds->u)
        return HC_ENOMEM;
    for (int32_t i = 0; i < I; i++)
        ds->first[i] = -1;
    return HC_OK;
}

static void drawset_free(hc_akt_drawset *ds)
{
    free(ds->items);
    free(ds->next);
    free(ds->first);
    free(ds->w);
    free(ds->Qt);
    free(ds->u);
}

int hc_akt_sampler_init(hc_akt_sampler *s, float *P, int32_t U, float *Q, int32_t I, int32_t d,
                        int32_t S, int32_t G, const hc_proposal *prop, int32_t max_users,
                        uint64_t seed)
{
    memset(s, 0, sizeof *s);
    if (S < 1 || G < 1 || d < 1 || d > HC_AKT_MAX_D || max_users < 1)
        return hc_error(HC_EINVAL, "sampled AKT: %d draws per %d users, dim %d", S, G, d);
    s->U = U;
    s->I = I;
    s->d = d;
    s->S = S;
    s->G = G;
    s->prop = prop;
    s->seed = seed;
    s->n_threads = omp_get_max_threads();
    int nt = s->n_threads;
    s->dq_len = ((int64_t)S + HC_AKT_TILE - 1) / HC_AKT_TILE * HC_AKT_TILE * d;
    s->work_stride = kernel_bytes(S) + coef_bytes() + (size_t)s->dq_len * sizeof(float);
    int rc;
    if ((rc = hc_adam_table_init(&s->tP, P, U, d)) || (rc = hc_adam_table_init(&s->tQ, Q, I, d)))
        return rc;
    s->gP = calloc((size_t)U * (size_t)d, sizeof(float));
    s->gcache = calloc((size_t)nt, sizeof *s->gcache);
    for (int t = 0; s->gcache && t < nt; t++)
        if (!(s->gcache[t] = hc_adam_gap_cache_new()))
            return hc_error(HC_ENOMEM, "sampled AKT: out of memory");
    s->dQ = calloc((size_t)nt * (size_t)I * (size_t)d, sizeof(float));
    s->words = (I + 63) / 64;
    s->mark = calloc((size_t)nt * (size_t)s->words, sizeof *s->mark);
    s->ds = calloc((size_t)nt, sizeof *s->ds);
    s->uloss = malloc((size_t)max_users * sizeof *s->uloss);
    s->work = aligned_alloc(64, (size_t)nt * s->work_stride);
    if (!s->gP || !s->gcache || !s->dQ || !s->mark || !s->ds || !s->uloss || !s->work)
        return hc_error(HC_ENOMEM, "sampled AKT: out of memory for %d items x %d threads", I, nt);
    for (int t = 0; t < nt; t++)
        if (drawset_init(&s->ds[t], S, I, d))
            return hc_error(HC_ENOMEM, "sampled AKT: out of memory for %d draws", S);
    memset(s->work, 0, (size_t)nt * s->work_stride); /* the draws' dq start at zero */
    if (dist_size() > 1) {
        s->gmark = malloc((size_t)s->words * sizeof *s->gmark);
        s->run_start = malloc((size_t)I * sizeof *s->run_start);
        s->run_len = malloc((size_t)I * sizeof *s->run_len);
        s->run_off = malloc((size_t)I * sizeof *s->run_off);
        s->gbuf = malloc((size_t)I * (size_t)d * sizeof *s->gbuf);
        if (!s->gmark || !s->run_start || !s->run_len || !s->run_off || !s->gbuf)
            return hc_error(HC_ENOMEM, "sampled AKT: out of memory for %d items", I);
    }
    return HC_OK;
}

void hc_akt_sampler_free(hc_akt_sampler *s)
{
    hc_adam_table_free(&s->tP);
    hc_adam_table_free(&s->tQ);
    for (int t = 0; s->ds && t < s->n_threads; t++)
        drawset_free(&s->ds[t]);
    for (int t = 0; s->gcache && t < s->n_threads; t++)
        free(s->gcache[t]);
    void *bufs[] = {s->gP,   s->gcache, s->dQ,        s->mark,    s->ds,      s->uloss,
                    s->work, s->gmark,  s->run_start, s->run_len, s->run_off, s->gbuf};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        free(bufs[k]);
    memset(s, 0, sizeof *s);
}

/* The gathers and scatters of rows of the item tables miss the cache (a row is d floats
 * anywhere in I x d); their lines are asked for one user or a few draws ahead. */
#define DRAW_AHEAD 16

static inline void prefetch_row(const float *x, int32_t d)
{
    __builtin_prefetch(x);
    __builtin_prefetch(x + d - 1);
}

/* The rows user_step will read and write for a user with lists l on thread t: the listed
 * items' factors and gradient rows, and the draw chains of its train and listed items. */
static void prefetch_user(const hc_akt_sampler *s, int t, const float *Q, const hc_akt_lists *l,
                          const hc_akt_drawset *ds)
{
    const int32_t d = s->d;
    const float *dq = s->dQ + (int64_t)t * s->I * d;
    for (int32_t j = 0; j < l->n_p && j < HC_AKT_MAX_P; j++) {
        prefetch_row(Q + (int64_t)l->P[j] * d, d);
        prefetch_row(dq + (int64_t)l->P[j] * d, d);
    }
    for (int32_t j = 0; j < l->n_t && j < HC_AKT_MAX_K; j++) {
        prefetch_row(Q + (int64_t)l->T[j] * d, d);
        prefetch_row(dq + (int64_t)l->T[j] * d, d);
        __builtin_prefetch(ds->first + l->T[j]);
    }
    for (int32_t j = 0; j < l->n_train; j++)
        __builtin_prefetch(ds->first + l->train[j]);
}

/* Draws group g's items of the step into ds, their factors transposed and the item -> draws
 * chains. The stream depends on (seed, step, group) only, not on the thread drawing it. The
 * draws come in item order: the gathers here and the scatters of flush_group then walk the
 * item tables forwards instead of missing the cache once a draw. */
static void draw_group(const hc_akt_sampler *s, hc_akt_drawset *ds, const float *Q, int32_t g)
{
    const int32_t S = s->S, d = s->d;
    hc_rng r;
    hc_rng_init(&r, s->seed, DRAW_STREAM + ((uint64_t)s->step << 24) + (uint64_t)g);
    hc_proposal_draw_sorted(s->prop, &r, S, ds->items, ds->w, ds->u);
    for (int32_t j = S - 1; j >= 0; j--) {
        int32_t it = ds->items[j];
        if (j >= DRAW_AHEAD)
            prefetch_row(Q + (int64_t)ds->items[j - DRAW_AHEAD] * d, d);
        ds->next[j] = ds->first[it];
        ds->first[it] = j;
        for (int32_t q = 0; q < d; q++)
            ds->Qt[(int64_t)q * S + j] = Q[(int64_t)it * d + q];
    }
}

/* Adds coef * p into thread t's row of item it, marking the item touched. */
static inline void add_item(hc_akt_sampler *s, int t, int32_t it, float coef, const float *p)
{
    const int32_t d = s->d;
    s->mark[(int64_t)t * s->words + (it >> 6)] |= 1ULL << (it & 63);
    float *dq = s->dQ + ((int64_t)t * s->I + it) * d;
    for (int32_t q = 0; q < d; q++)
        dq[q] += coef * p[q];
}

static float *thread_dq(const hc_akt_sampler *s, int t)
{
    return (float *)(void *)(s->work + (size_t)t * s->work_stride + kernel_bytes(s->S) +
                             coef_bytes());
}

/* User u's loss and gradients on thread t: gP's row directly (users are unique in a step),
 * the draws' into the thread's dq, the listed items' into the thread's table. */
static double user_step(hc_akt_sampler *s, int t, const hc_akt_problem *pb,
                        const hc_akt_shared_draws *dr, int32_t u, const hc_akt_lists *l, int phase,
                        float scale)
{
    unsigned char *w = s->work + (size_t)t * s->work_stride;
    float *coef = (float *)(void *)(w + kernel_bytes(s->S));
    double loss = hc_akt_shared_user(pb, u, l, dr, phase, scale, w, s->gP + (int64_t)u * s->d, coef,
                                     thread_dq(s, t));
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

/* Moves thread t's gradients of its group's draws into its table (a draw's dq row is the
 * factor row scaled by one, so add_item's coef * p becomes coef = 1, p = the dq column) and
 * clears them and the draw chains. */
static void flush_group(hc_akt_sampler *s, int t)
{
    const int32_t S = s->S, d = s->d;
    hc_akt_drawset *ds = &s->ds[t];
    float *dq = thread_dq(s, t), col[HC_AKT_MAX_D];
    for (int32_t j = 0; j < S; j++) {
        const float *src = dq + (j / HC_AKT_TILE) * HC_AKT_TILE * d + j % HC_AKT_TILE;
        if (j + DRAW_AHEAD < S)
            prefetch_row(s->dQ + ((int64_t)t * s->I + ds->items[j + DRAW_AHEAD]) * d, d);
        for (int32_t q = 0; q < d; q++)
            col[q] = src[q * HC_AKT_TILE];
        add_item(s, t, ds->items[j], 1.0f, col);
        ds->first[ds->items[j]] = -1;
    }
    memset(dq, 0, (size_t)s->dq_len * sizeof(float));
}

/* Thread t's share users[lo..hi) of the step, group by group: group g holds the users at
 * positions [g G, (g + 1) G) of the step, so a group split between two threads is drawn
 * alike by both. */
static void thread_share(hc_akt_sampler *s, int t, const hc_akt_problem *pb, const int32_t *users,
                         const hc_akt_lists *lists, int32_t lo, int32_t hi, int phase, float scale)
{
    hc_akt_drawset *ds = &s->ds[t];
    for (int32_t k = lo; k < hi;) {
        int32_t g = k / s->G, end = (g + 1) * s->G < hi ? (g + 1) * s->G : hi;
        draw_group(s, ds, pb->Q, g);
        hc_akt_shared_draws dr = {{ds->items, ds->w, s->S}, ds->Qt, ds->first, ds->next};
        for (; k < end; k++) {
            if (k + 1 < hi)
                prefetch_user(s, t, pb->Q, &lists[k + 1], ds);
            s->uloss[k] = user_step(s, t, pb, &dr, users[k], &lists[k], phase, scale);
        }
        flush_group(s, t);
    }
}

/* g (n x d) <- the threads' gradient rows of items it0..it0+n-1 summed in thread order; the
 * rows are cleared. */
static void sum_thread_rows(hc_akt_sampler *s, int32_t it0, int32_t n, float *g)
{
    const int64_t len = (int64_t)n * s->d;
    for (int64_t k = 0; k < len; k++)
        g[k] = 0.0f;
    for (int tt = 0; tt < s->n_threads; tt++) {
        float *dq = s->dQ + ((int64_t)tt * s->I + it0) * s->d;
        for (int64_t k = 0; k < len; k++) {
            g[k] += dq[k];
            dq[k] = 0.0f;
        }
    }
}

/* Items it0..it0+n-1's step (n <= 64). */
static void step_run(hc_akt_sampler *s, const hc_adam *adam, int t, int32_t it0, int32_t n,
                     float c1, float c2)
{
    float g[64 * HC_AKT_MAX_D];
    sum_thread_rows(s, it0, n, g);
    hc_adam_table_run(adam, &s->tQ, it0, n, g, c1, c2, s->gcache[t]);
}

/* Thread t's items: those of the words w = t (mod threads) that any thread touched, in item
 * order, by runs of consecutive items, clearing the marks. */
static void step_items(hc_akt_sampler *s, const hc_adam *adam, int t, float c1, float c2)
{
    const int nt = s->n_threads;
    for (int32_t w = t; w < s->words; w += nt) {
        uint64_t bits = 0;
        for (int tt = 0; tt < nt; tt++) {
            bits |= s->mark[(int64_t)tt * s->words + w];
            s->mark[(int64_t)tt * s->words + w] = 0;
        }
        while (bits) {
            int a = __builtin_ctzll(bits);
            uint64_t rest = ~(bits >> a);
            int n = rest ? __builtin_ctzll(rest) : 64 - a;
            step_run(s, adam, t, w * 64 + a, n, c1, c2);
            bits &= n == 64 ? 0 : ~(((1ULL << n) - 1) << a);
        }
    }
}

/* Thread t's users users[lo..hi): their Adam steps, clearing their gradient rows. */
static void step_users(hc_akt_sampler *s, const hc_adam *adam, int t, const int32_t *users,
                       int32_t lo, int32_t hi, float c1, float c2)
{
    const int32_t d = s->d;
    for (int32_t k = lo; k < hi; k++) {
        float *g = s->gP + (int64_t)users[k] * d;
        hc_adam_table_run(adam, &s->tP, users[k], 1, g, c1, c2, s->gcache[t]);
        memset(g, 0, (size_t)d * sizeof(float));
    }
}

/* Several ranks: the union over ranks of the items touched this step (the threads' marks
 * or-ed, then or-reduced), as runs of consecutive items in item order with their offsets in
 * the packed gradient; returns the number of runs, the rows in s->n_rows. */
static int32_t list_runs(hc_akt_sampler *s)
{
    const int nt = s->n_threads;
    for (int32_t w = 0; w < s->words; w++) {
        uint64_t bits = 0;
        for (int tt = 0; tt < nt; tt++) {
            bits |= s->mark[(int64_t)tt * s->words + w];
            s->mark[(int64_t)tt * s->words + w] = 0;
        }
        s->gmark[w] = bits;
    }
    dist_or_words(s->gmark, (size_t)s->words);
    int32_t nr = 0, off = 0;
    for (int32_t w = 0; w < s->words; w++)
        for (uint64_t bits = s->gmark[w]; bits;) {
            int a = __builtin_ctzll(bits);
            uint64_t rest = ~(bits >> a);
            int n = rest ? __builtin_ctzll(rest) : 64 - a;
            int32_t it = w * 64 + a;
            if (nr > 0 && s->run_start[nr - 1] + s->run_len[nr - 1] == it) {
                s->run_len[nr - 1] += n;
            } else {
                s->run_start[nr] = it;
                s->run_len[nr] = n;
                s->run_off[nr++] = off;
            }
            off += n;
            bits &= n == 64 ? 0 : ~(((1ULL << n) - 1) << a);
        }
    s->n_rows = off;
    return nr;
}

/* The step's item update over several ranks: every rank packs its threads' sums of the
 * touched items, the packs are summed over ranks (docs/distributed.md), and every rank
 * takes the same Adam steps on them, so Q stays the same on every rank. */
static void step_items_ranks(hc_akt_sampler *s, const hc_adam *adam, int nt, float c1, float c2)
{
    const int32_t nr = list_runs(s), d = s->d;
    s->n_reduced++;
    s->rows_reduced += s->n_rows; /* n_t of docs/distributed.md's payload formula */
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t r = 0; r < nr; r++)
        sum_thread_rows(s, s->run_start[r], s->run_len[r], s->gbuf + (int64_t)s->run_off[r] * d);
    dist_sum_floats(s->gbuf, (size_t)s->n_rows * (size_t)d);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t r = 0; r < nr; r++)
        hc_adam_table_run(adam, &s->tQ, s->run_start[r], s->run_len[r],
                          s->gbuf + (int64_t)s->run_off[r] * d, c1, c2,
                          s->gcache[omp_get_thread_num()]);
}

int hc_akt_sampler_step(hc_akt_sampler *s, hc_adam *adam, const hc_akt_problem *pb,
                        const int32_t *users, const hc_akt_lists *lists, int32_t n, int phase,
                        float scale, double *loss)
{
    s->step++;
    const int nt = s->n_threads; /* every thread: each owns items to update */
    const int ranks = s->gmark != NULL;
    hc_adam_begin_step(adam);
    int rc = hc_adam_table_prepare(adam, &s->tP);
    if (rc || (rc = hc_adam_table_prepare(adam, &s->tQ)) != HC_OK)
        return rc;
    float c1, c2;
    hc_adam_corrections(adam, &c1, &c2);
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num();
        int32_t lo = (int32_t)((int64_t)n * t / nt), hi = (int32_t)((int64_t)n * (t + 1) / nt);
        thread_share(s, t, pb, users, lists, lo, hi, phase, scale);
#pragma omp barrier
        if (!ranks)
            step_items(s, adam, t, c1, c2);
        step_users(s, adam, t, users, lo, hi, c1, c2);
    }
    if (ranks)
        step_items_ranks(s, adam, nt, c1, c2);
    double total = 0.0;
    for (int32_t k = 0; k < n; k++)
        total += s->uloss[k];
    *loss = total * (double)scale;
    return HC_OK;
}

void hc_akt_sampler_flush(hc_akt_sampler *s, const hc_adam *adam)
{
    hc_adam_table_flush(adam, &s->tP);
    hc_adam_table_flush(adam, &s->tQ);
}
