/*
 * synth.c - the built-in synthetic dataset: implicit feedback with latent communities and
 * sub-topics, power-law item popularity, log-normal user activity, item bundles that are
 * consumed together, taste drift towards a neighbouring community, and noise. docs/synth.md
 * describes the generative model and its knobs.
 *
 * The structure is layered on purpose, so that recommender families differ in what they
 * capture: popularity is a decent baseline; communities are low-rank (any factor model sees
 * them); sub-topics raise the rank beyond what a tiny student holds; bundles are item-item
 * co-occurrences that graph and autoencoder models pick up better than dot products; drift
 * makes a user's later items differ from the earlier ones.
 *
 * Every user has exactly its drawn number of distinct items (at least 5), so the interaction
 * count is exact and nothing collapses on de-duplication. Generation is single-threaded and
 * costs O(n_interactions log n_items); memory is O(n_users + n_items) besides the output. The
 * world (communities, popularity, bundles) comes from RNG streams 0..3, user activity from
 * stream 4 and user u's items from stream 16 + u, so the result is a pure function of the
 * options (whatever the thread count).
 */
#include "core/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Internal knobs (docs/synth.md lists them). */
#define SYN_MIN_USER      5         /* distinct items every user gets at least */
#define SYN_SUBTOPICS     4         /* sub-topics per community */
#define SYN_ITEM_SECOND_P 0.25      /* chance an item also belongs to a second community */
#define SYN_SECOND_WEIGHT 0.5       /* its membership weight there (primary: 1) */
#define SYN_NEIGHBOUR_P   0.5       /* chance a second community is a ring neighbour */
#define SYN_SUB_PREF_P    0.5       /* community draws from the user's preferred sub-topic */
#define SYN_POP_SHARE     (2.0 / 3) /* of the non-community draws: popularity (rest uniform) */
#define SYN_DRIFT_P       0.35      /* chance a user drifts towards a neighbour community */
#define SYN_DRIFT_MAX     0.6       /* drift community's share at the end of the sequence */
#define SYN_BUNDLE_FRAC   0.5       /* share of a community's items grouped into bundles */
#define SYN_BUNDLE_MIN    3         /* bundle sizes: uniform in [MIN, MAX] */
#define SYN_BUNDLE_MAX    6
#define SYN_MEMBER_P      0.6        /* chance each other member follows */
#define SYN_TRIES         32         /* rejected (already seen) draws before going uniform */
#define SYN_T0            1577836800 /* 2020-01-01 UTC: earliest first interaction */
#define SYN_GAP_MEAN      129600.0   /* mean seconds between free interactions (1.5 days) */
#define SYN_STREAM_USER   16         /* user u draws from stream SYN_STREAM_USER + u */

void hc_synth_opts_default(hc_synth_opts *o)
{
    o->n_users = 3000;
    o->n_items = 5000;
    o->n_interactions = 100000;
    o->n_communities = 20;
    o->pop_exponent = 0.9;
    o->activity_sigma = 0.8;
    o->community_strength = 0.75;
    o->bundle_follow = 0.15;
    o->seed = 0;
}

/* The generated world: item attributes and the sampling tables users draw from. A table is
 * a list of items with cumulative weights (cdf[k] = sum of weights of entries 0..k). */
typedef struct {
    int32_t n_items, n_comm;
    double *pop;       /* n_items Zipf weights (rank r -> (r+1)^-pop_exponent) */
    double *gcdf;      /* n_items cumulative popularity over items 0..n-1 */
    double *comm_cdf;  /* n_comm cumulative community sizes (users pick by size too) */
    int32_t *comm;     /* n_items primary community */
    int32_t *comm2;    /* n_items second community or -1 */
    int32_t *sub;      /* n_items sub-topic (of the primary community) */
    int64_t *cptr;     /* n_comm + 1 offsets into citem/ccdf */
    int32_t *citem;    /* community members (primary and second) */
    double *ccdf;      /* cumulative member weights, per community */
    int64_t *sptr;     /* n_comm * SYN_SUBTOPICS + 1 offsets into sitem/scdf */
    int32_t *sitem;    /* sub-topic members (primary community only) */
    double *scdf;      /* cumulative member weights, per sub-topic */
    int32_t *bundle;   /* n_items bundle id or -1 */
    int32_t n_bundles; /* bundles */
    int32_t *bptr;     /* n_bundles + 1 offsets into bitem */
    int32_t *bitem;    /* bundle members */
} world;

static void world_free(world *w)
{
    free(w->pop);
    free(w->gcdf);
    free(w->comm_cdf);
    free(w->comm);
    free(w->comm2);
    free(w->sub);
    free(w->cptr);
    free(w->citem);
    free(w->ccdf);
    free(w->sptr);
    free(w->sitem);
    free(w->scdf);
    free(w->bundle);
    free(w->bptr);
    free(w->bitem);
    memset(w, 0, sizeof *w);
}

/* Exponential(1) variate (a Gamma(1), for Dirichlet(1) weights). */
static double rng_exp(hc_rng *r)
{
    return -log(1.0 - hc_rng_double(r));
}

/* Index k of the first cdf[k] > u * cdf[n-1]: draws entry k with probability proportional to
 * its weight. n > 0 and cdf[n-1] > 0. */
static int64_t cdf_draw(hc_rng *r, const double *cdf, int64_t n)
{
    double x = hc_rng_double(r) * cdf[n - 1];
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Checks the options; returns HC_OK or HC_EINVAL with a message naming the bad field. */
static int check_opts(const hc_synth_opts *o)
{
    if (o->n_users < 1)
        return hc_error(HC_EINVAL, "synth: n_users must be >= 1, got %d", (int)o->n_users);
    if (o->n_items < 10)
        return hc_error(HC_EINVAL, "synth: n_items must be >= 10, got %d", (int)o->n_items);
    if (o->n_communities < 1 || o->n_communities > o->n_items)
        return hc_error(HC_EINVAL, "synth: n_communities must be in [1, n_items = %d], got %d",
                        (int)o->n_items, (int)o->n_communities);
    int64_t lo = (int64_t)SYN_MIN_USER * o->n_users;
    int64_t hi = (int64_t)o->n_users * o->n_items / 2;
    if (o->n_interactions < lo || o->n_interactions > hi)
        return hc_error(HC_EINVAL,
                        "synth: n_interactions must be in [%lld, %lld] (%d per user at least, "
                        "density 1/2 at most), got %lld",
                        (long long)lo, (long long)hi, SYN_MIN_USER, (long long)o->n_interactions);
    if (!(o->pop_exponent >= 0.0 && o->pop_exponent <= 4.0))
        return hc_error(HC_EINVAL, "synth: pop_exponent must be in [0, 4], got %g",
                        o->pop_exponent);
    if (!(o->activity_sigma >= 0.0 && o->activity_sigma <= 4.0))
        return hc_error(HC_EINVAL, "synth: activity_sigma must be in [0, 4], got %g",
                        o->activity_sigma);
    if (!(o->community_strength >= 0.0 && o->community_strength <= 1.0))
        return hc_error(HC_EINVAL, "synth: community_strength must be in [0, 1], got %g",
                        o->community_strength);
    if (!(o->bundle_follow >= 0.0 && o->bundle_follow <= 1.0))
        return hc_error(HC_EINVAL, "synth: bundle_follow must be in [0, 1], got %g",
                        o->bundle_follow);
    return HC_OK;
}

/* Builds the world: community sizes, item popularity ranks, memberships, sub-topics, the
 * per-community and per-sub-topic sampling tables, and bundles. */
static int world_build(const hc_synth_opts *o, world *w)
{
    const int32_t I = o->n_items, C = o->n_communities, S = SYN_SUBTOPICS;
    int32_t *perm = NULL, *fill = NULL;
    int rc = HC_ENOMEM;
    hc_rng r;

    memset(w, 0, sizeof *w);
    w->n_items = I;
    w->n_comm = C;
    w->pop = malloc((size_t)I * sizeof *w->pop);
    w->gcdf = malloc((size_t)I * sizeof *w->gcdf);
    w->comm_cdf = malloc((size_t)C * sizeof *w->comm_cdf);
    w->comm = malloc((size_t)I * sizeof *w->comm);
    w->comm2 = malloc((size_t)I * sizeof *w->comm2);
    w->sub = malloc((size_t)I * sizeof *w->sub);
    w->cptr = calloc((size_t)C + 1, sizeof *w->cptr);
    w->sptr = calloc((size_t)C * S + 1, sizeof *w->sptr);
    w->bundle = malloc((size_t)I * sizeof *w->bundle);
    perm = malloc((size_t)I * sizeof *perm);
    fill = malloc(((size_t)C * S + 1) * sizeof *fill);
    if (!w->pop || !w->gcdf || !w->comm_cdf || !w->comm || !w->comm2 || !w->sub || !w->cptr ||
        !w->sptr || !w->bundle || !perm || !fill)
        goto done;

    /* Community sizes: Gamma(2) shares (sum of two exponentials), so sizes vary about 2x. */
    hc_rng_init(&r, o->seed, 0);
    double acc = 0.0;
    for (int32_t c = 0; c < C; c++) {
        acc += rng_exp(&r) + rng_exp(&r);
        w->comm_cdf[c] = acc;
    }

    /* Popularity: a random permutation gives each item its Zipf rank. */
    hc_rng_init(&r, o->seed, 1);
    for (int32_t i = 0; i < I; i++)
        perm[i] = i;
    hc_rng_shuffle_i32(&r, perm, I);
    for (int32_t k = 0; k < I; k++)
        w->pop[perm[k]] = pow((double)k + 1.0, -o->pop_exponent);
    acc = 0.0;
    for (int32_t i = 0; i < I; i++) {
        acc += w->pop[i];
        w->gcdf[i] = acc;
    }

    /* Memberships: a fresh permutation; its first C items seed one community each so that
     * none is empty, the rest pick by community size. */
    hc_rng_init(&r, o->seed, 2);
    for (int32_t i = 0; i < I; i++)
        perm[i] = i;
    hc_rng_shuffle_i32(&r, perm, I);
    for (int32_t k = 0; k < I; k++) {
        int32_t i = perm[k];
        int32_t c = k < C ? k : (int32_t)cdf_draw(&r, w->comm_cdf, C);
        w->comm[i] = c;
        w->sub[i] = (int32_t)hc_rng_below(&r, S);
        w->comm2[i] = -1;
        if (C > 1 && hc_rng_double(&r) < SYN_ITEM_SECOND_P) {
            int32_t c2;
            if (hc_rng_double(&r) < SYN_NEIGHBOUR_P)
                c2 = (hc_rng_below(&r, 2) ? c + 1 : c + C - 1) % C;
            else
                c2 = (int32_t)cdf_draw(&r, w->comm_cdf, C);
            if (c2 != c)
                w->comm2[i] = c2;
        }
    }

    /* Community tables (members in item order, weighted by popularity, halved in a second
     * community) and sub-topic tables (primary members only). */
    for (int32_t i = 0; i < I; i++) {
        w->cptr[w->comm[i] + 1]++;
        if (w->comm2[i] >= 0)
            w->cptr[w->comm2[i] + 1]++;
        w->sptr[(int64_t)w->comm[i] * S + w->sub[i] + 1]++;
    }
    for (int32_t c = 0; c < C; c++)
        w->cptr[c + 1] += w->cptr[c];
    for (int64_t s = 0; s < (int64_t)C * S; s++)
        w->sptr[s + 1] += w->sptr[s];
    w->citem = malloc((size_t)w->cptr[C] * sizeof *w->citem);
    w->ccdf = malloc((size_t)w->cptr[C] * sizeof *w->ccdf);
    w->sitem = malloc((size_t)I * sizeof *w->sitem);
    w->scdf = malloc((size_t)I * sizeof *w->scdf);
    if (!w->citem || !w->ccdf || !w->sitem || !w->scdf)
        goto done;
    for (int32_t c = 0; c < C; c++)
        fill[c] = (int32_t)w->cptr[c];
    for (int32_t i = 0; i < I; i++) {
        double f = w->pop[i];
        int32_t k = fill[w->comm[i]]++;
        w->citem[k] = i;
        w->ccdf[k] = f;
        if (w->comm2[i] >= 0) {
            k = fill[w->comm2[i]]++;
            w->citem[k] = i;
            w->ccdf[k] = SYN_SECOND_WEIGHT * f;
        }
    }
    for (int64_t s = 0; s < (int64_t)C * S; s++)
        fill[s] = (int32_t)w->sptr[s];
    for (int32_t i = 0; i < I; i++) {
        int32_t k = fill[(int64_t)w->comm[i] * S + w->sub[i]]++;
        w->sitem[k] = i;
        w->scdf[k] = w->pop[i];
    }
    for (int32_t c = 0; c < C; c++)
        for (int64_t k = w->cptr[c] + 1; k < w->cptr[c + 1]; k++)
            w->ccdf[k] += w->ccdf[k - 1];
    for (int64_t s = 0; s < (int64_t)C * S; s++)
        for (int64_t k = w->sptr[s] + 1; k < w->sptr[s + 1]; k++)
            w->scdf[k] += w->scdf[k - 1];

    /* Bundles: per community, shuffle the primary members and cut the first BUNDLE_FRAC of
     * them into groups of BUNDLE_MIN..BUNDLE_MAX (any sub-topic, any popularity). */
    hc_rng_init(&r, o->seed, 3);
    w->bptr = malloc(((size_t)I / SYN_BUNDLE_MIN + 2) * sizeof *w->bptr);
    w->bitem = malloc((size_t)I * sizeof *w->bitem);
    if (!w->bptr || !w->bitem)
        goto done;
    for (int32_t i = 0; i < I; i++)
        w->bundle[i] = -1;
    int32_t nb = 0, nm = 0;
    w->bptr[0] = 0;
    for (int32_t c = 0; c < C; c++) {
        int32_t n = 0; /* primary members of c, gathered into perm */
        for (int64_t k = w->cptr[c]; k < w->cptr[c + 1]; k++)
            if (w->comm[w->citem[k]] == c)
                perm[n++] = w->citem[k];
        hc_rng_shuffle_i32(&r, perm, n);
        int32_t use = (int32_t)(SYN_BUNDLE_FRAC * n), k = 0;
        while (use - k >= SYN_BUNDLE_MIN) {
            int32_t size =
                SYN_BUNDLE_MIN + (int32_t)hc_rng_below(&r, SYN_BUNDLE_MAX - SYN_BUNDLE_MIN + 1);
            if (size > use - k)
                size = use - k;
            for (int32_t j = 0; j < size; j++) {
                w->bundle[perm[k + j]] = nb;
                w->bitem[nm++] = perm[k + j];
            }
            k += size;
            w->bptr[++nb] = nm;
        }
    }
    w->n_bundles = nb;
    rc = HC_OK;
done:
    free(perm);
    free(fill);
    if (rc == HC_ENOMEM)
        rc = hc_error(HC_ENOMEM, "synth: out of memory for %d items", (int)I);
    return rc;
}

/* Distinct item counts per user: SYN_MIN_USER plus a log-normal share of the rest, rounded
 * so that the total is exactly n_interactions; no user exceeds ceil(n_items / 2). */
static int user_counts(const hc_synth_opts *o, int32_t *cnt)
{
    const int32_t U = o->n_users;
    const int32_t cap = (o->n_items + 1) / 2;
    const int64_t extra = o->n_interactions - (int64_t)SYN_MIN_USER * U;
    double *a = malloc((size_t)U * sizeof *a);
    if (!a)
        return hc_error(HC_ENOMEM, "synth: out of memory for %d users", (int)U);
    hc_rng r;
    hc_rng_init(&r, o->seed, 4);
    double sum = 0.0;
    for (int32_t u = 0; u < U; u++) {
        a[u] = exp(o->activity_sigma * hc_rng_normal(&r));
        sum += a[u];
    }
    /* Cumulative rounding: the floors of the running shares telescope to exactly extra. */
    double cum = 0.0;
    int64_t prev = 0, total = 0;
    for (int32_t u = 0; u < U; u++) {
        cum += a[u];
        int64_t f = u == U - 1 ? extra : (int64_t)floor(cum / sum * (double)extra);
        if (f > extra)
            f = extra;
        int64_t e = f > prev ? f - prev : 0;
        prev = f > prev ? f : prev;
        if (e > cap - SYN_MIN_USER)
            e = cap - SYN_MIN_USER;
        cnt[u] = SYN_MIN_USER + (int32_t)e;
        total += cnt[u];
    }
    /* Capped users leave a deficit: spread it evenly over the users with room (possible
     * because n_interactions <= n_users * n_items / 2 <= n_users * cap). */
    while (total < o->n_interactions) {
        int64_t room = 0;
        for (int32_t u = 0; u < U; u++)
            room += cnt[u] < cap;
        int64_t share = (o->n_interactions - total + room - 1) / room;
        for (int32_t u = 0; u < U && total < o->n_interactions; u++) {
            int64_t g = cap - cnt[u];
            if (g > share)
                g = share;
            if (g > o->n_interactions - total)
                g = o->n_interactions - total;
            cnt[u] += (int32_t)g;
            total += g;
        }
    }
    free(a);
    return HC_OK;
}

/* Per-user generation state. */
typedef struct {
    int32_t k;                                  /* communities of the user */
    int32_t comm[4];                            /* them, then the drift community (if any) */
    double cdf[3];                              /* cumulative Dirichlet(1) weights */
    int32_t pref[4];                            /* preferred sub-topic in each of comm[] */
    int drift;                                  /* 1: comm[k] is the drift community */
    int32_t pending[SYN_BUNDLE_MAX], n_pending; /* bundle mates still to consume */
} user_state;

/* Sets up user u's communities (1-3, later ones often ring neighbours of the first),
 * mixture weights, preferred sub-topics and drift. */
static void user_init(const world *w, hc_rng *r, user_state *s)
{
    const int32_t C = w->n_comm;
    double x = hc_rng_double(r);
    int32_t want = x < 0.45 ? 1 : x < 0.8 ? 2 : 3;
    memset(s, 0, sizeof *s);
    s->comm[0] = (int32_t)cdf_draw(r, w->comm_cdf, C);
    s->k = 1;
    for (int tries = 0; s->k < want && C > 1 && tries < 16; tries++) {
        int32_t c;
        if (hc_rng_double(r) < SYN_NEIGHBOUR_P)
            c = (hc_rng_below(r, 2) ? s->comm[0] + 1 : s->comm[0] + C - 1) % C;
        else
            c = (int32_t)cdf_draw(r, w->comm_cdf, C);
        int dup = 0;
        for (int32_t j = 0; j < s->k; j++)
            dup |= s->comm[j] == c;
        if (!dup)
            s->comm[s->k++] = c;
    }
    double acc = 0.0;
    for (int32_t j = 0; j < s->k; j++) {
        acc += rng_exp(r);
        s->cdf[j] = acc;
    }
    if (C > 1 && hc_rng_double(r) < SYN_DRIFT_P) {
        s->drift = 1;
        s->comm[s->k] = (hc_rng_below(r, 2) ? s->comm[0] + 1 : s->comm[0] + C - 1) % C;
    }
    for (int32_t j = 0; j < s->k + s->drift; j++)
        s->pref[j] = (int32_t)hc_rng_below(r, SYN_SUBTOPICS);
}

/* One free draw for a user at relative position pos in [0, 1): a community item (with the
 * drift community's share growing with pos, half the time from the preferred sub-topic),
 * else a popularity draw, else a uniform one. May return an item the user already has. */
static int32_t user_draw(const world *w, const hc_synth_opts *o, hc_rng *r, const user_state *s,
                         double pos)
{
    double x = hc_rng_double(r);
    if (x < o->community_strength) {
        int32_t j;
        if (s->drift && hc_rng_double(r) < SYN_DRIFT_MAX * pos)
            j = s->k;
        else
            j = (int32_t)cdf_draw(r, s->cdf, s->k);
        int32_t c = s->comm[j];
        int64_t t = (int64_t)c * SYN_SUBTOPICS + s->pref[j];
        if (w->sptr[t + 1] > w->sptr[t] && hc_rng_double(r) < SYN_SUB_PREF_P)
            return w->sitem[w->sptr[t] +
                            cdf_draw(r, w->scdf + w->sptr[t], w->sptr[t + 1] - w->sptr[t])];
        return w
            ->citem[w->cptr[c] + cdf_draw(r, w->ccdf + w->cptr[c], w->cptr[c + 1] - w->cptr[c])];
    }
    if (x < o->community_strength + (1.0 - o->community_strength) * SYN_POP_SHARE)
        return (int32_t)cdf_draw(r, w->gcdf, w->n_items);
    return (int32_t)hc_rng_below(r, (uint32_t)w->n_items);
}

/* Generates user u's n distinct items with increasing timestamps and appends them to out
 * (through the id-map indices uidx/iidx). seen[i] == u + 1 marks items u already has. */
static int user_generate(const world *w, const hc_synth_opts *o, int32_t u, int32_t n,
                         int32_t *seen, int32_t user_index, const int32_t *iidx,
                         hc_interactions *out)
{
    const int32_t I = w->n_items, mark = u + 1;
    hc_rng r;
    user_state s;
    hc_rng_init(&r, o->seed, SYN_STREAM_USER + (uint64_t)u);
    user_init(w, &r, &s);
    int64_t ts = SYN_T0 + (int64_t)hc_rng_below(&r, 365u * 86400u);
    for (int32_t got = 0; got < n;) {
        int32_t item = -1, follow = 0;
        if (s.n_pending > 0) {
            item = s.pending[--s.n_pending];
            if (seen[item] == mark)
                continue;
            follow = 1;
        } else {
            double pos = (double)got / (double)n;
            for (int t = 0; t < SYN_TRIES && item < 0; t++) {
                item = user_draw(w, o, &r, &s, pos);
                if (seen[item] == mark)
                    item = -1;
            }
            for (int t = 0; t < 2 * SYN_TRIES && item < 0; t++) {
                item = (int32_t)hc_rng_below(&r, (uint32_t)I);
                if (seen[item] == mark)
                    item = -1;
            }
            if (item < 0) { /* n <= ceil(I/2), so an unseen item exists: scan for it */
                item = (int32_t)hc_rng_below(&r, (uint32_t)I);
                while (seen[item] == mark)
                    item = (item + 1) % I;
            }
        }
        seen[item] = mark;
        got++;
        if (follow)
            ts += 30 + (int64_t)hc_rng_below(&r, 1800);
        else
            ts += 1 + (int64_t)(SYN_GAP_MEAN * rng_exp(&r));
        int rc = hc_interactions_push(out, user_index, iidx[item], 0.0f, ts);
        if (rc)
            return rc;
        int32_t b = w->bundle[item];
        if (!follow && b >= 0 && hc_rng_double(&r) < o->bundle_follow) {
            for (int32_t k = w->bptr[b]; k < w->bptr[b + 1]; k++)
                if (w->bitem[k] != item && hc_rng_double(&r) < SYN_MEMBER_P)
                    s.pending[s.n_pending++] = w->bitem[k];
            hc_rng_shuffle_i32(&r, s.pending, s.n_pending);
        }
    }
    return HC_OK;
}

/* Inserts "<prefix><k>" for k = 0..n-1 into m; idx[k] receives each one's index. */
static int put_names(hc_idmap *m, char prefix, int32_t n, int32_t *idx)
{
    char key[16];
    for (int32_t k = 0; k < n; k++) {
        int len = snprintf(key, sizeof key, "%c%d", prefix, (int)k);
        int rc = hc_idmap_put(m, key, (size_t)len, &idx[k]);
        if (rc)
            return rc;
    }
    return HC_OK;
}

/*
 * Generates the dataset described by opts: puts "i0".."i<n_items-1>" into items, then
 * "u0".."u<n_users-1>" into users (in that order, so fresh maps give item index == number),
 * and appends exactly opts->n_interactions distinct (user, item, timestamp) rows to out,
 * grouped by user in user order, each user's timestamps strictly increasing. Returns HC_OK,
 * HC_EINVAL for bad options (message names the field) or HC_ENOMEM; on failure out keeps
 * its previous rows (the id maps may have gained names).
 */
int hc_synth(const hc_synth_opts *opts, hc_idmap *users, hc_idmap *items, hc_interactions *out)
{
    if (!opts || !users || !items || !out)
        return hc_error(HC_EINVAL, "synth: NULL argument");
    int rc = check_opts(opts);
    if (rc)
        return rc;
    const int32_t U = opts->n_users, I = opts->n_items;
    const int64_t n0 = out->n;
    world w;
    memset(&w, 0, sizeof w);
    int32_t *uidx = malloc((size_t)U * sizeof *uidx);
    int32_t *iidx = malloc((size_t)I * sizeof *iidx);
    int32_t *cnt = malloc((size_t)U * sizeof *cnt);
    int32_t *seen = calloc((size_t)I, sizeof *seen);
    if (!uidx || !iidx || !cnt || !seen) {
        rc = hc_error(HC_ENOMEM, "synth: out of memory for %d users x %d items", (int)U, (int)I);
        goto done;
    }
    if ((rc = put_names(items, 'i', I, iidx)) || (rc = put_names(users, 'u', U, uidx)))
        goto done;
    if ((rc = hc_interactions_enable(out, 0, 1, 0)))
        goto done;
    if ((rc = world_build(opts, &w)) || (rc = user_counts(opts, cnt)))
        goto done;
    for (int32_t u = 0; u < U && !rc; u++)
        rc = user_generate(&w, opts, u, cnt[u], seen, uidx[u], iidx, out);
    if (!rc)
        hc_log(HC_LOG_DEBUG, "synth: %d users, %d items, %lld interactions, %d bundles", (int)U,
               (int)I, (long long)(out->n - n0), (int)w.n_bundles);
done:
    if (rc && out->n > n0)
        out->n = n0;
    world_free(&w);
    free(uidx);
    free(iidx);
    free(cnt);
    free(seen);
    return rc;
}
