/*
 * akt_sampled.c - HetComp's training step with sampled rest sets (see akt_sampled.h).
 *
 * Draws: group g of step t draws its S items from the RNG stream (seed, t, g), so they do not
 * depend on the thread count; sharing them among a group's users turns each user's rest sums
 * into two vectorised passes over the draws' transposed factors (the fused exact kernel's
 * passes over a catalog of S items), while fresh draws per group let every item take a rest
 * gradient far more often than one set per step would.
 *
 * A step is one parallel region in two phases. Users: the groups are dealt to the threads as
 * they come free (a slow core takes fewer), and a group's work lands in its own record (its
 * draws' gradients, its users' listed-item gradients, each user's gradient row of P and its
 * Adam step), never in a table shared with other groups. Items: after a barrier, the catalog
 * in chunks of 1,024 items is dealt alike; a chunk sums every group's gradients of its items
 * in group order into its thread's 1,024 rows (in cache, where scattering the lists over an
 * I x d table missed it), then takes their Adam steps. The sums' order is fixed
 * by the groups alone, so the result does not depend on the thread count or the schedule.
 */
#include "distill/akt_sampled.h"

#include "dist/dist.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST    (HC_AKT_MAX_P + HC_AKT_MAX_K)
#define DRAW_STREAM 0x7E57000000000000ULL
#define CHUNK       1024 /* items of a chunk of the item phase, a multiple of 64 */

/* One thread's work area: the kernel's, then the listed items' coefficients. */
static size_t kernel_bytes(int32_t S, int32_t d)
{
    return (hc_akt_shared_work_size(S, d) + 63) & ~(size_t)63;
}

static size_t coef_bytes(void)
{
    return ((size_t)MAX_LIST * sizeof(float) + 63) & ~(size_t)63;
}

static int drawset_init(hc_akt_drawset *ds, int32_t S, int32_t I, int32_t d)
{
    ds->start = malloc(((size_t)S + 1) * sizeof *ds->start);
    ds->rank = calloc(((size_t)I + 63) / 64, sizeof *ds->rank);
    ds->drawn = calloc(((size_t)I + 63) / 64, sizeof *ds->drawn);
    ds->w = malloc((size_t)S * sizeof *ds->w);
    ds->Qt = malloc((size_t)S * (size_t)d * sizeof *ds->Qt);
    ds->u = malloc((size_t)S * sizeof *ds->u);
    ds->cq = calloc((size_t)CHUNK * (size_t)d, sizeof *ds->cq); /* cmark: zeroed with ds */
    if (!ds->start || !ds->rank || !ds->drawn || !ds->w || !ds->Qt || !ds->u || !ds->cq)
        return HC_ENOMEM;
    return HC_OK;
}

static void drawset_free(hc_akt_drawset *ds)
{
    free(ds->start);
    free(ds->rank);
    free(ds->drawn);
    free(ds->w);
    free(ds->Qt);
    free(ds->u);
    free(ds->cq);
}

/* The group records of a step of at most max_users users. */
static int records_init(hc_akt_sampler *s, int32_t max_users)
{
    const size_t ng = (size_t)((max_users + s->G - 1) / s->G), nc = (size_t)s->n_chunks + 1;
    s->g_items = malloc(ng * (size_t)s->S * sizeof *s->g_items);
    s->g_dq = malloc(ng * (size_t)s->dq_len * sizeof *s->g_dq);
    s->g_doff = malloc(ng * nc * sizeof *s->g_doff);
    s->g_eoff = malloc(ng * nc * sizeof *s->g_eoff);
    s->e_at = malloc(((size_t)max_users + 1) * sizeof *s->e_at);
    s->u_p = malloc((size_t)max_users * (size_t)s->d * sizeof *s->u_p);
    if (!s->g_items || !s->g_dq || !s->g_doff || !s->g_eoff || !s->e_at || !s->u_p)
        return hc_error(HC_ENOMEM, "sampled AKT: out of memory for %zu groups of %d draws", ng,
                        s->S);
    return HC_OK;
}

/* Group g's chunk offsets in a record of n_chunks + 1 per group (g_doff or g_eoff). */
static inline int32_t *group_offsets(const hc_akt_sampler *s, int32_t *table, int32_t g)
{
    return table + (int64_t)g * (s->n_chunks + 1);
}

/* Room for n listed-item entries in the step. */
static int entries_reserve(hc_akt_sampler *s, int64_t n)
{
    if (n <= s->e_cap)
        return HC_OK;
    const size_t cap = (size_t)(n + n / 2);
    void **bufs[] = {(void **)&s->e_item, (void **)&s->e_coef, (void **)&s->e_sitem,
                     (void **)&s->e_suser, (void **)&s->e_scoef};
    for (int k = 0; k < 5; k++) {
        void *b = realloc(*bufs[k], cap * 4);
        if (!b)
            return hc_error(HC_ENOMEM, "sampled AKT: out of memory for %zu list entries", cap);
        *bufs[k] = b;
    }
    s->e_cap = (int64_t)cap;
    return HC_OK;
}

/* Each thread's copy of Q and the step's touched items (several threads on one rank). */
static int replicas_init(hc_akt_sampler *s)
{
    s->Qr = calloc((size_t)s->n_threads, sizeof *s->Qr);
    s->touched = calloc((size_t)s->words, sizeof *s->touched);
    for (int t = 0; s->Qr && t < s->n_threads; t++)
        if (!(s->Qr[t] = malloc((size_t)s->I * (size_t)s->d * sizeof(float))))
            break;
    if (!s->Qr || !s->touched || !s->Qr[s->n_threads - 1])
        return hc_error(HC_ENOMEM, "sampled AKT: out of memory for %d copies of %d x %d factors",
                        s->n_threads, s->I, s->d);
    s->replicas_stale = 1;
    return HC_OK;
}

/* Several ranks: rank r owns the items [owner_lo(r), owner_lo(r + 1)), whole words of 64. */
static int32_t owner_lo(const hc_akt_sampler *s, int r)
{
    int64_t lo = (int64_t)s->words * r / s->ranks * 64;
    return (int32_t)(lo < s->I ? lo : s->I);
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
    s->n_chunks = (I + CHUNK - 1) / CHUNK;
    int nt = s->n_threads;
    s->dq_len = ((int64_t)S + HC_AKT_TILE - 1) / HC_AKT_TILE * HC_AKT_TILE * d;
    s->work_stride = kernel_bytes(S, d) + coef_bytes();
    s->words = (I + 63) / 64;
    s->Q = Q;
    if (dist_size() > 1) { /* the items' moments are their owners' alone */
        s->ranks = dist_size();
        s->rank = dist_rank();
        s->own_lo = owner_lo(s, s->rank);
        s->own_hi = owner_lo(s, s->rank + 1);
    } else {
        s->own_hi = I;
    }
    int rc;
    if ((rc = hc_adam_table_init(&s->tP, P, U, d)) ||
        (rc = hc_adam_table_init(&s->tQ, Q + (int64_t)s->own_lo * d, s->own_hi - s->own_lo, d)))
        return rc;
    s->gP = calloc((size_t)U * (size_t)d, sizeof(float));
    s->gcache = calloc((size_t)nt, sizeof *s->gcache);
    for (int t = 0; s->gcache && t < nt; t++)
        if (!(s->gcache[t] = hc_adam_gap_cache_new()))
            return hc_error(HC_ENOMEM, "sampled AKT: out of memory");
    s->ds = calloc((size_t)nt, sizeof *s->ds);
    s->uloss = malloc((size_t)max_users * sizeof *s->uloss);
    s->work = aligned_alloc(64, (size_t)nt * s->work_stride);
    if (!s->gP || !s->gcache || !s->ds || !s->uloss || !s->work)
        return hc_error(HC_ENOMEM, "sampled AKT: out of memory for %d items x %d threads", I, nt);
    for (int t = 0; t < nt; t++)
        if (drawset_init(&s->ds[t], S, I, d))
            return hc_error(HC_ENOMEM, "sampled AKT: out of memory for %d draws", S);
    if ((rc = records_init(s, max_users)) != HC_OK)
        return rc;
    if (nt > 1 && !s->ranks && (rc = replicas_init(s)) != HC_OK)
        return rc;
    if (s->ranks) {
        if ((int64_t)I * d > INT32_MAX)
            return hc_error(HC_EINVAL, "sampled AKT: %d items x %d dims is over one MPI count", I,
                            d);
        s->dQ = calloc((size_t)I * (size_t)d, sizeof(float));
        s->mark = calloc((size_t)s->words, sizeof *s->mark);
        s->run_start = malloc((size_t)I * sizeof *s->run_start);
        s->run_len = malloc((size_t)I * sizeof *s->run_len);
        s->run_off = malloc((size_t)I * sizeof *s->run_off);
        s->seg_run = malloc(((size_t)s->ranks + 1) * sizeof *s->seg_run);
        s->counts = malloc((size_t)s->ranks * sizeof *s->counts);
        s->gbuf = malloc((size_t)I * (size_t)d * sizeof *s->gbuf);
        s->gown = malloc(((size_t)(s->own_hi - s->own_lo) + 1) * (size_t)d * sizeof *s->gown);
        if (!s->dQ || !s->mark || !s->run_start || !s->run_len || !s->run_off || !s->seg_run ||
            !s->counts || !s->gbuf || !s->gown)
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
    for (int t = 0; s->Qr && t < s->n_threads; t++)
        free(s->Qr[t]);
    void *bufs[] = {s->gP,        s->gcache,  s->dQ,      s->mark,    s->ds,      s->uloss,
                    s->work,      s->g_items, s->g_dq,    s->g_doff,  s->g_eoff,  s->e_at,
                    s->e_item,    s->e_sitem, s->e_coef,  s->e_suser, s->e_scoef, s->u_p,
                    s->run_start, s->run_len, s->run_off, s->gbuf,    s->gown,    s->seg_run,
                    s->counts,    s->Qr,      s->touched};
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

/* The rows user_step will read for user u with lists l: its factors and gradient, the listed
 * items' factors. */
static void prefetch_user(const hc_akt_sampler *s, const float *P, const float *Q, int32_t u,
                          const hc_akt_lists *l)
{
    const int32_t d = s->d;
    prefetch_row(P + (int64_t)u * d, d);
    prefetch_row(s->gP + (int64_t)u * d, d);
    for (int32_t j = 0; j < l->n_p && j < HC_AKT_MAX_P; j++)
        prefetch_row(Q + (int64_t)l->P[j] * d, d);
    for (int32_t j = 0; j < l->n_t && j < HC_AKT_MAX_K; j++)
        prefetch_row(Q + (int64_t)l->T[j] * d, d);
}

/* The lists themselves (read by prefetch_user two users later). */
static void prefetch_lists(const hc_akt_lists *l)
{
    for (int32_t j = 0; j < l->n_t; j += 16)
        __builtin_prefetch(l->T + j);
    __builtin_prefetch(l->P);
    __builtin_prefetch(l->train);
}

/* Draws group g's items of the step into its record, their weights, transposed factors,
 * bitmap, words' ranks and distinct items' first draws into ds (akt.h, hc_akt_shared_draws).
 * The stream depends on (seed, step, group) only, not on the thread drawing it. The draws come
 * in item order: the gathers here and the chunks' sums then walk the item tables forwards
 * instead of missing the cache once a draw, and an item's draws are consecutive. */
static void draw_group(const hc_akt_sampler *s, hc_akt_drawset *ds, const float *Q, int32_t g)
{
    const int32_t S = s->S, d = s->d;
    int32_t *items = s->g_items + (int64_t)g * S;
    hc_rng r;
    hc_rng_init(&r, s->seed, DRAW_STREAM + ((uint64_t)s->step << 24) + (uint64_t)g);
    hc_proposal_draw_sorted(s->prop, &r, S, items, ds->w, ds->u);
    int32_t nd = 0;
    for (int32_t j = 0; j < S; j++) {
        int32_t it = items[j];
        if (j + DRAW_AHEAD < S)
            prefetch_row(Q + (int64_t)items[j + DRAW_AHEAD] * d, d);
        if (j == 0 || it != items[j - 1]) {
            if (!ds->drawn[it >> 6]) /* the word's first drawn item */
                ds->rank[it >> 6] = nd;
            ds->drawn[it >> 6] |= 1ULL << (it & 63);
            ds->start[nd++] = j;
        }
        for (int32_t q = 0; q < d; q++)
            ds->Qt[(int64_t)q * S + j] = Q[(int64_t)it * d + q];
    }
    ds->start[nd] = S;
}

/* The step's user k (users[k] = u, of group g) on thread t: its loss; its gradient into gP's
 * row (users are unique in a step), the draws' into the group's dq, and each listed item's
 * coefficient as entry e_at[k] + j (item -1 when it is zero). */
static double user_step(hc_akt_sampler *s, int t, const hc_akt_problem *pb,
                        const hc_akt_shared_draws *dr, int32_t g, int32_t u, int32_t k,
                        const hc_akt_lists *l, int phase, float scale)
{
    const int32_t d = s->d;
    unsigned char *w = s->work + (size_t)t * s->work_stride;
    float *coef = (float *)(void *)(w + kernel_bytes(s->S, d));
    double loss = hc_akt_shared_user(pb, u, l, dr, phase, scale, w, s->gP + (int64_t)u * d, coef,
                                     s->g_dq + (int64_t)g * s->dq_len);
    int32_t n_p = l->n_p < HC_AKT_MAX_P ? l->n_p : HC_AKT_MAX_P;
    int32_t n_t = l->n_t < HC_AKT_MAX_K ? l->n_t : HC_AKT_MAX_K;
    int32_t *item = s->e_item + s->e_at[k];
    int32_t *count = group_offsets(s, s->g_eoff, g) + 1; /* nonzero entries per chunk */
    memcpy(s->e_coef + s->e_at[k], coef, (size_t)(n_p + n_t) * sizeof *coef);
    for (int32_t j = 0; j < n_p + n_t; j++) {
        item[j] = coef[j] == 0.0f ? -1 : j < n_p ? l->P[j] : l->T[j - n_p];
        if (item[j] >= 0)
            count[item[j] / CHUNK]++;
    }
    return loss;
}

/* Closes group g (users[k0..k1), factors in P) on ds: clears its draws' bits, keeps its
 * users' rows of P, and sets where each chunk's items start among its draws (sorted by item)
 * and among its nonzero entries (counted by user_step in g_eoff[1..]), written in chunk order
 * (a stable counting sort), so the chunks read them forwards. */
static void close_group(hc_akt_sampler *s, hc_akt_drawset *ds, const float *P, const int32_t *users,
                        int32_t g, int32_t k0, int32_t k1)
{
    const int32_t S = s->S, nc = s->n_chunks;
    const int32_t *items = s->g_items + (int64_t)g * S;
    int32_t *doff = group_offsets(s, s->g_doff, g), *eoff = group_offsets(s, s->g_eoff, g);
    for (int32_t j = 0; j < S; j++)
        ds->drawn[items[j] >> 6] = 0;
    for (int32_t c = 0, j = 0; c <= nc; c++) {
        while (j < S && items[j] < (int64_t)c * CHUNK)
            j++;
        doff[c] = j;
    }
    const int32_t e0 = s->e_at[k0];
    eoff[0] = e0;
    for (int32_t c = 0; c < nc; c++)
        eoff[c + 1] += eoff[c];
    for (int32_t k = k0; k < k1; k++) {
        memcpy(s->u_p + (int64_t)k * s->d, P + (int64_t)users[k] * s->d,
               (size_t)s->d * sizeof(float));
        for (int32_t e = s->e_at[k]; e < s->e_at[k + 1]; e++)
            if (s->e_item[e] >= 0) {
                int32_t x = eoff[s->e_item[e] / CHUNK]++;
                s->e_sitem[x] = s->e_item[e];
                s->e_suser[x] = k;
                s->e_scoef[x] = s->e_coef[e];
            }
    }
    for (int32_t c = nc; c > 0; c--)
        eoff[c] = eoff[c - 1];
    eoff[0] = e0;
}

/* Users k0..k1's Adam steps on thread t, clearing their gradient rows. */
static void step_users(hc_akt_sampler *s, const hc_adam *adam, int t, const int32_t *users,
                       int32_t k0, int32_t k1, float c1, float c2)
{
    const int32_t d = s->d;
    for (int32_t k = k0; k < k1; k++) {
        float *g = s->gP + (int64_t)users[k] * d;
        hc_adam_table_run(adam, &s->tP, users[k], 1, g, c1, c2, s->gcache[t]);
        memset(g, 0, (size_t)d * sizeof(float));
    }
}

/* Group g of the step (users [g G, (g + 1) G)) on thread t: its draws, its users' gradients
 * into its record, then their Adam steps (nothing else reads their rows of P this step: the
 * record keeps a copy for the entries). */
static void run_group(hc_akt_sampler *s, const hc_adam *adam, int t, const hc_akt_problem *pb,
                      const int32_t *users, const hc_akt_lists *lists, int32_t n, int32_t g,
                      int phase, float scale, const float c[2])
{
    const int32_t k0 = g * s->G, k1 = k0 + s->G < n ? k0 + s->G : n;
    hc_akt_drawset *ds = &s->ds[t];
    draw_group(s, ds, pb->Q, g);
    memset(s->g_dq + (int64_t)g * s->dq_len, 0, (size_t)s->dq_len * sizeof(float));
    memset(group_offsets(s, s->g_eoff, g), 0, ((size_t)s->n_chunks + 1) * sizeof *s->g_eoff);
    hc_akt_shared_draws dr = {
        {s->g_items + (int64_t)g * s->S, ds->w, s->S}, ds->Qt, ds->drawn, ds->rank, ds->start};
    for (int32_t k = k0; k < k1 && k < k0 + 2; k++)
        prefetch_user(s, pb->P, pb->Q, users[k], &lists[k]);
    for (int32_t k = k0; k < k1; k++) {
        if (k + 2 < k1) /* a user's step takes microseconds: two ahead covers the misses */
            prefetch_user(s, pb->P, pb->Q, users[k + 2], &lists[k + 2]);
        if (k + 4 < k1)
            prefetch_lists(&lists[k + 4]);
        s->uloss[k] = user_step(s, t, pb, &dr, g, users[k], k, &lists[k], phase, scale);
    }
    close_group(s, ds, pb->P, users, g, k0, k1);
    step_users(s, adam, t, users, k0, k1, c[0], c[1]);
}

/* dQ's row it += c v (v: d floats, stride apart; c v rounded before the sum, and exact for
 * c = 1), marking it in mark. */
static inline void add_row(float *restrict dQ, uint64_t *restrict mark, int32_t d, int32_t it,
                           float c, const float *restrict v, int64_t stride)
{
    float *restrict dq = dQ + (int64_t)it * d;
    mark[it >> 6] |= 1ULL << (it & 63);
    for (int32_t q = 0; q < d; q++)
        dq[q] += c * v[q * stride];
}

/* Chunk c's items' gradients: every group's draws and entries of them, in group order, into
 * dQ's rows and mark's bits counted from item base (the chunk's first item, or 0). */
static void sum_chunk(hc_akt_sampler *s, int32_t c, int32_t ng, float *restrict dQ,
                      uint64_t *restrict mark, int32_t base)
{
    const int32_t S = s->S, d = s->d;
    for (int32_t g = 0; g < ng; g++) {
        const int32_t *items = s->g_items + (int64_t)g * S;
        const int32_t *doff = group_offsets(s, s->g_doff, g);
        const int32_t *eoff = group_offsets(s, s->g_eoff, g);
        const float *dq = s->g_dq + (int64_t)g * s->dq_len;
        for (int32_t j = doff[c]; j < doff[c + 1]; j++)
            add_row(dQ, mark, d, items[j] - base, 1.0f,
                    dq + (j / HC_AKT_TILE) * HC_AKT_TILE * d + j % HC_AKT_TILE, HC_AKT_TILE);
        for (int32_t e = eoff[c]; e < eoff[c + 1]; e++)
            add_row(dQ, mark, d, s->e_sitem[e] - base, s->e_scoef[e],
                    s->u_p + (int64_t)s->e_suser[e] * d, 1);
    }
}

/* The first run of set bits of *bits: returns its first bit, its length in *n, and clears it
 * from *bits. */
static inline int take_run(uint64_t *bits, int *n)
{
    int a = __builtin_ctzll(*bits);
    uint64_t rest = ~(*bits >> a);
    *n = rest ? __builtin_ctzll(rest) : 64 - a;
    *bits &= *n == 64 ? 0 : ~(((1ULL << *n) - 1) << a);
    return a;
}

/* Chunk c's touched items' Adam steps on thread t, by runs of consecutive items, from the
 * thread's chunk gradients, clearing them and their marks. */
static void step_chunk(hc_akt_sampler *s, const hc_adam *adam, int t, int32_t c, const float cr[2])
{
    const int32_t d = s->d, w0 = c * (CHUNK / 64);
    hc_akt_drawset *ds = &s->ds[t];
    for (int32_t w = w0; w < w0 + CHUNK / 64 && w < s->words; w++) {
        uint64_t bits = ds->cmark[w - w0];
        ds->cmark[w - w0] = 0;
        if (s->touched)
            s->touched[w] = bits;
        while (bits) {
            int n, it0 = w * 64 + take_run(&bits, &n);
            float *g = ds->cq + (int64_t)(it0 - c * CHUNK) * d;
            hc_adam_table_run(adam, &s->tQ, it0, n, g, cr[0], cr[1], s->gcache[t]);
            memset(g, 0, (size_t)n * (size_t)d * sizeof(float));
        }
    }
}

/* Several ranks: the union over ranks of the items touched this step (the marks or-reduced),
 * as runs of consecutive items in item order, split at the owners' bounds, with their offsets
 * in the packed gradient; seg_run[r] is rank r's first run. Returns the number of runs, the
 * rows in s->n_rows; the marks are cleared. */
static int32_t list_runs(hc_akt_sampler *s)
{
    dist_or_words(s->mark, (size_t)s->words);
    int32_t nr = 0, off = 0;
    for (int r = 0; r < s->ranks; r++) {
        s->seg_run[r] = nr;
        for (int32_t w = owner_lo(s, r) / 64; w < (owner_lo(s, r + 1) + 63) / 64; w++) {
            for (uint64_t bits = s->mark[w]; bits;) {
                int n, it = w * 64 + take_run(&bits, &n);
                if (nr > s->seg_run[r] && s->run_start[nr - 1] + s->run_len[nr - 1] == it) {
                    s->run_len[nr - 1] += n;
                } else {
                    s->run_start[nr] = it;
                    s->run_len[nr] = n;
                    s->run_off[nr++] = off;
                }
                off += n;
            }
            s->mark[w] = 0;
        }
    }
    s->seg_run[s->ranks] = nr;
    s->n_rows = off;
    return nr;
}

/* counts[r] <- the floats of rank r's runs in the pack. */
static void run_counts(hc_akt_sampler *s)
{
    for (int r = 0; r < s->ranks; r++) {
        int32_t r0 = s->seg_run[r], r1 = s->seg_run[r + 1];
        int32_t end = r1 < s->seg_run[s->ranks] ? s->run_off[r1] : s->n_rows;
        s->counts[r] = (r1 > r0 ? end - s->run_off[r0] : 0) * s->d;
    }
}

/* The step's item update over several ranks (docs/distributed.md): every rank packs its
 * gradients of the touched items in item order; the packs are summed onto each item's owner
 * (a reduce-scatter, in rank order); each owner takes the lazy Adam steps of its items; the
 * new rows are gathered back to every rank, so Q stays the same on every rank and each rank
 * steps 1 / ranks of the items. */
static void step_items_ranks(hc_akt_sampler *s, const hc_adam *adam, int nt, const float c[2])
{
    const int32_t nr = list_runs(s), d = s->d;
    const int32_t m0 = s->seg_run[s->rank], m1 = s->seg_run[s->rank + 1];
    s->n_reduced++;
    s->rows_reduced += s->n_rows; /* n_t of docs/distributed.md's payload formula */
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t r = 0; r < nr; r++) {
        float *g = s->dQ + (int64_t)s->run_start[r] * d;
        size_t len = (size_t)s->run_len[r] * (size_t)d;
        memcpy(s->gbuf + (int64_t)s->run_off[r] * d, g, len * sizeof(float));
        memset(g, 0, len * sizeof(float));
    }
    run_counts(s);
    dist_sum_scatter_floats(s->gbuf, s->gown, s->counts);
    const int64_t base = m1 > m0 ? s->run_off[m0] : 0;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t r = m0; r < m1; r++) {
        hc_adam_table_run(adam, &s->tQ, s->run_start[r] - s->own_lo, s->run_len[r],
                          s->gown + (s->run_off[r] - base) * d, c[0], c[1],
                          s->gcache[omp_get_thread_num()]);
        memcpy(s->gbuf + (int64_t)s->run_off[r] * d, s->Q + (int64_t)s->run_start[r] * d,
               (size_t)s->run_len[r] * (size_t)d * sizeof(float));
    }
    dist_allgather_floats(s->gbuf, s->counts);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t r = 0; r < nr; r++)
        if (r < m0 || r >= m1)
            memcpy(s->Q + (int64_t)s->run_start[r] * d, s->gbuf + (int64_t)s->run_off[r] * d,
                   (size_t)s->run_len[r] * (size_t)d * sizeof(float));
}

/* e_at[k]: where user k's entries start (room for each listed item). */
static int place_entries(hc_akt_sampler *s, const hc_akt_lists *lists, int32_t n)
{
    s->e_at[0] = 0;
    for (int32_t k = 0; k < n; k++) {
        int32_t n_p = lists[k].n_p < HC_AKT_MAX_P ? lists[k].n_p : HC_AKT_MAX_P;
        int32_t n_t = lists[k].n_t < HC_AKT_MAX_K ? lists[k].n_t : HC_AKT_MAX_K;
        s->e_at[k + 1] = s->e_at[k] + n_p + n_t;
    }
    return entries_reserve(s, s->e_at[n]);
}

/* Thread t's copy of Q, at the step's start: whole (after a change outside a step) or the
 * rows the last step touched, copied forwards from Q. */
static void refresh_replica(const hc_akt_sampler *s, int t, int whole)
{
    const int32_t d = s->d;
    float *restrict q = s->Qr[t];
    if (whole) {
        memcpy(q, s->Q, (size_t)s->I * (size_t)d * sizeof *q);
        return;
    }
    for (int32_t w = 0; w < s->words; w++)
        for (uint64_t bits = s->touched[w]; bits;) {
            int n, it0 = w * 64 + take_run(&bits, &n);
            memcpy(q + (int64_t)it0 * d, s->Q + (int64_t)it0 * d,
                   (size_t)n * (size_t)d * sizeof *q);
        }
}

int hc_akt_sampler_step(hc_akt_sampler *s, hc_adam *adam, const hc_akt_problem *pb,
                        const int32_t *users, const hc_akt_lists *lists, int32_t n, int phase,
                        float scale, double *loss)
{
    s->step++;
    const int nt = s->n_threads;
    const int32_t ng = (n + s->G - 1) / s->G, nc = s->n_chunks;
    int rc = place_entries(s, lists, n);
    if (rc)
        return rc;
    hc_adam_begin_step(adam);
    if ((rc = hc_adam_table_prepare(adam, &s->tP)) != HC_OK ||
        (rc = hc_adam_table_prepare(adam, &s->tQ)) != HC_OK)
        return rc;
    float c[2];
    hc_adam_corrections(adam, &c[0], &c[1]);
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num();
        hc_akt_problem pt = *pb;
        if (s->Qr) { /* the last step's rows, read in bulk instead of missed one by one */
            refresh_replica(s, t, s->replicas_stale);
            pt.Q = s->Qr[t];
        }
#pragma omp for schedule(dynamic, 1)
        for (int32_t g = 0; g < ng; g++)
            run_group(s, adam, t, &pt, users, lists, n, g, phase, scale, c);
#pragma omp for schedule(dynamic, 1)
        for (int32_t k = 0; k < nc; k++) {
            if (s->ranks) {
                sum_chunk(s, k, ng, s->dQ, s->mark, 0);
            } else { /* the chunk's gradients in the thread's rows, in cache */
                sum_chunk(s, k, ng, s->ds[t].cq, s->ds[t].cmark, k * CHUNK);
                step_chunk(s, adam, t, k, c);
            }
        }
    }
    s->replicas_stale = 0;
    if (s->ranks)
        step_items_ranks(s, adam, nt, c);
    double total = 0.0;
    for (int32_t k = 0; k < n; k++)
        total += s->uloss[k];
    *loss = total * (double)scale;
    return HC_OK;
}

void hc_akt_sampler_flush(hc_akt_sampler *s, const hc_adam *adam)
{
    hc_adam_table_flush(adam, &s->tP);
    hc_adam_table_flush(adam, &s->tQ); /* on several ranks, this rank's items */
    s->replicas_stale = 1;             /* every row caught up */
    if (!s->ranks)
        return;
    for (int r = 0; r < s->ranks; r++)
        s->counts[r] = (owner_lo(s, r + 1) - owner_lo(s, r)) * s->d;
    dist_allgather_floats(s->Q, s->counts);
}
