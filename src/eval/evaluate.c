/*
 * evaluate.c - full-ranking evaluation (docs/method.md §1, docs/metrics.md: the protocol of
 * the paper's reference code, reproduced to float rounding), with optional recording of every
 * user's top list of unobserved items and of the order of their observed (train) items, which
 * trajectories need.
 *
 * Work: users are taken in blocks of opts->block. For each block the scorer fills a
 * block x n_items buffer (one call, outside any parallel region, so it may use BLAS threads).
 * Then, in an OpenMP parallel for over the block's users, each user's row is processed in
 * place:
 *   1. train_order: the user's train items sorted by descending score (ties: smaller id),
 *      taken before any masking;
 *   2. train items are set to -INFINITY;
 *   3. one hc_topk selects the top k' of what is left, k' = max(record_k, 50 + |valid| +
 *      |test|) (the second term for evaluated users only);
 *   4. record_top: the first record_k of that list (-1 padded);
 *   5. evaluated users (non-empty valid and test): the validation ranking is the list with
 *      the test items dropped, the test ranking the list with the validation items dropped,
 *      each cut at 50. Dropping j items from a list sorted by (score desc, index asc) leaves
 *      the remaining ones in the same order, and at most |test| (|valid|) of the first k'
 *      are dropped, so the first 50 survivors are exactly the top 50 of the row with those
 *      items masked: one scan of the row per user instead of two or three.
 * Memory: the block buffer (block x n_items floats) plus small per-thread scratch (k' and
 * the longest train row) and 12 doubles per evaluated user; never
 * n_users x n_items.
 * Sampled users (opts->max_users): above that many evaluable users, the metrics are means
 * over a seeded sample of them (the same sample at every call with the same seed, so the
 * curves of a run compare like with like); recording still covers every user.
 * Determinism: per-user metrics go to an array indexed by the user's rank among evaluated
 * users and are summed afterwards in user order, so results do not depend on the block size
 * or the number of threads.
 * Ranks (docs/distributed.md): under MPI each rank scores only the users u with
 * u % size == rank (the users whose factors it owns in distillation). The per-user array,
 * zero outside a rank's users, is sum-allreduced (each entry is one rank's value plus zeros,
 * so exact), then every rank sums it in user order as above: the figures are bit for bit
 * those of one rank. Recorded lists are -1 outside a rank's users and max-allreduced, exact
 * likewise. Communication: n_eval x 24 doubles, plus the recorded ints when asked.
 */
#include "core/internal.h"
#include "dist/dist.h"
#include "topk/scored.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Per-user result layout: valid recall, valid ndcg, test recall, test ndcg (HC_EVAL_NK each). */
#define RES_STRIDE (4 * HC_EVAL_NK)

void hc_eval_opts_default(hc_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->block = 256;
}

/* Row r of m, or an empty row when m has no rows (a dataset without that held-out set). */
static inline const int32_t *row_of(const hc_csr *m, int32_t r, int32_t *len)
{
    if (m->nrows == 0) {
        *len = 0;
        return NULL;
    }
    *len = hc_csr_row_len(m, r);
    return hc_csr_row(m, r);
}

/* Checks that m is n_users x n_items (or, when may_be_empty, has no rows at all). */
static int check_matrix(const hc_csr *m, const char *name, int32_t nu, int32_t ni, int may_be_empty)
{
    if (may_be_empty && m->nrows == 0 && m->nnz == 0)
        return HC_OK;
    if (m->nrows != nu || m->ncols != ni || !m->indptr)
        return hc_error(HC_EINVAL,
                        "evaluate: %s matrix is %d x %d, dataset has %d users x %d items", name,
                        m->nrows, m->ncols, nu, ni);
    return HC_OK;
}

/* Sets flag[u] to 0 for users with valid and test items, -1 for the others; returns how
 * many there are. */
static int32_t mark_evaluable(const hc_dataset *ds, int32_t *flag)
{
    int32_t n = 0;
    for (int32_t u = 0; u < ds->n_users; u++) {
        int32_t nva, nte;
        row_of(&ds->valid, u, &nva);
        row_of(&ds->test, u, &nte);
        flag[u] = nva > 0 && nte > 0 ? 0 : -1;
        n += flag[u] == 0;
    }
    return n;
}

/* Keeps m of the n flagged users (flag 0), chosen by a partial Fisher-Yates shuffle drawn
 * from seed alone, so every call with the same seed keeps the same users. */
static int sample_users(int32_t *flag, int32_t nu, int32_t n, int32_t m, uint64_t seed)
{
    int32_t *pool = malloc((size_t)n * sizeof *pool);
    if (!pool)
        return hc_error(HC_ENOMEM, "evaluate: out of memory sampling %d users", m);
    int32_t k = 0;
    for (int32_t u = 0; u < nu; u++)
        if (flag[u] == 0) {
            pool[k++] = u;
            flag[u] = -1;
        }
    hc_rng r;
    hc_rng_init(&r, seed, 0xE7A1000000000000ULL);
    for (int32_t j = 0; j < m; j++) {
        int32_t x = j + (int32_t)hc_rng_below(&r, (uint32_t)(n - j));
        int32_t t = pool[j];
        pool[j] = pool[x];
        pool[x] = t;
        flag[pool[j]] = 0;
    }
    free(pool);
    return HC_OK;
}

/* Everything the per-user step reads, shared by all threads. */
typedef struct {
    const hc_dataset *ds;
    const hc_eval_opts *o;
    const int32_t *eval_pos; /* user -> index among evaluated users, or -1 */
    double *res;             /* n_eval x RES_STRIDE */
    int32_t *cand;           /* n_threads x max_cand: the user's top k' */
    int32_t *top;            /* n_threads x HC_EVAL_MAXK */
    hc_scored *pairs;        /* n_threads x max_train (only with train_order) */
    int32_t max_cand, max_train;
} eval_ctx;

/* Copies the first HC_EVAL_MAXK entries of list[0..n) that are not in the ascending array
 * excl[0..nex) into top; returns how many were copied. */
static int32_t drop_items(const int32_t *list, int32_t n, const int32_t *excl, int32_t nex,
                          int32_t *top)
{
    int32_t m = 0;
    for (int32_t j = 0; j < n && m < HC_EVAL_MAXK; j++)
        if (!hc_sorted_has_i32(excl, nex, list[j]))
            top[m++] = list[j];
    return m;
}

/* Processes user u's score row in place (see the file comment); thread t's scratch is used. */
static void eval_user(const eval_ctx *c, int t, int32_t u, float *row)
{
    const hc_dataset *ds = c->ds;
    const hc_eval_opts *o = c->o;
    int32_t ni = ds->n_items, ntr, nva, nte;
    const int32_t *tr = row_of(&ds->train, u, &ntr);
    const int32_t *va = row_of(&ds->valid, u, &nva);
    const int32_t *te = row_of(&ds->test, u, &nte);

    if (o->train_order && ntr > 0) {
        hc_scored *p = c->pairs + (size_t)t * (size_t)c->max_train;
        for (int32_t j = 0; j < ntr; j++) {
            float s = row[tr[j]];
            p[j].score = isnan(s) ? -INFINITY : s;
            p[j].id = tr[j];
        }
        qsort(p, (size_t)ntr, sizeof *p, hc_scored_cmp);
        int32_t *dst = o->train_order + ds->train.indptr[u];
        for (int32_t j = 0; j < ntr; j++)
            dst[j] = p[j].id;
    }
    for (int32_t j = 0; j < ntr; j++)
        row[tr[j]] = -INFINITY;

    int32_t e = c->eval_pos[u];
    int32_t k = o->record_k;
    if (e >= 0 && HC_EVAL_MAXK + nva + nte > k)
        k = HC_EVAL_MAXK + nva + nte;
    if (k == 0)
        return;
    int32_t *cand = c->cand + (size_t)t * (size_t)c->max_cand;
    int32_t cnt = hc_topk(row, ni, k, cand, NULL);

    if (o->record_k > 0) {
        int32_t *dst = o->record_top + (size_t)u * (size_t)o->record_k;
        int32_t m = cnt < o->record_k ? cnt : o->record_k;
        memcpy(dst, cand, (size_t)m * sizeof *dst);
        for (int32_t j = m; j < o->record_k; j++)
            dst[j] = -1;
    }
    if (e < 0)
        return;
    int32_t *top = c->top + (size_t)t * HC_EVAL_MAXK;
    double *res = c->res + (size_t)e * RES_STRIDE;
    int32_t m = drop_items(cand, cnt, te, nte, top);
    hc_metrics_user(top, m, va, nva, res, res + HC_EVAL_NK);
    m = drop_items(cand, cnt, va, nva, top);
    hc_metrics_user(top, m, te, nte, res + 2 * HC_EVAL_NK, res + 3 * HC_EVAL_NK);
}

/* Under MPI: every rank's per-user results and recorded lists (the other ranks' users left
 * at 0 or -1) combined exactly on every rank (see the file comment). One rank: nothing. */
static void gather_ranks(const hc_dataset *ds, const hc_eval_opts *o, double *res, int32_t n_eval)
{
    int size = dist_size(), rank = dist_rank();
    if (size == 1)
        return;
    for (int32_t u = 0; u < ds->n_users; u++) {
        if (dist_owns(u, rank, size))
            continue;
        if (o->record_k > 0)
            for (int32_t j = 0; j < o->record_k; j++)
                o->record_top[(size_t)u * (size_t)o->record_k + j] = -1;
        if (o->train_order)
            for (int64_t j = ds->train.indptr[u]; j < ds->train.indptr[u + 1]; j++)
                o->train_order[j] = -1;
    }
    dist_sum_doubles(res, (size_t)n_eval * RES_STRIDE);
    if (o->record_k > 0)
        dist_max_ints(o->record_top, (size_t)ds->n_users * (size_t)o->record_k);
    if (o->train_order && ds->n_users > 0)
        dist_max_ints(o->train_order, (size_t)ds->train.nnz);
}

int hc_evaluate(const hc_dataset *ds, const hc_scorer *scorer, const hc_eval_opts *opts,
                hc_eval_result *out)
{
    hc_eval_opts o;
    if (opts)
        o = *opts;
    else
        hc_eval_opts_default(&o);
    memset(out, 0, sizeof *out);
    if (!ds || !scorer || !scorer->score)
        return hc_error(HC_EINVAL, "evaluate: no dataset or scorer");
    if (o.block <= 0)
        return hc_error(HC_EINVAL, "evaluate: block must be positive, got %d", o.block);
    if (o.record_k < 0 || (o.record_k > 0 && !o.record_top))
        return hc_error(HC_EINVAL, "evaluate: record_k %d needs a record_top buffer", o.record_k);
    int32_t nu = ds->n_users, ni = ds->n_items;
    if (nu < 0 || ni < 0)
        return hc_error(HC_EINVAL, "evaluate: negative dataset size");
    int rc;
    if ((rc = check_matrix(&ds->train, "train", nu, ni, nu == 0)) ||
        (rc = check_matrix(&ds->valid, "valid", nu, ni, 1)) ||
        (rc = check_matrix(&ds->test, "test", nu, ni, 1)))
        return rc;

    int32_t *eval_pos = NULL, *users = NULL;
    double *res = NULL;
    float *buf = NULL;
    int32_t *cand = NULL, *top = NULL;
    hc_scored *pairs = NULL;
    int nthreads = omp_get_max_threads();
    if (nthreads < 1)
        nthreads = 1;

    /* Evaluated users, the users to score, and the scratch sizes. */
    int all = o.record_k > 0 || o.train_order != NULL;
    eval_pos = malloc((size_t)(nu > 0 ? nu : 1) * sizeof *eval_pos);
    users = malloc((size_t)(nu > 0 ? nu : 1) * sizeof *users);
    if (!eval_pos || !users) {
        rc = hc_error(HC_ENOMEM, "evaluate: out of memory for %d users", nu);
        goto done;
    }
    int32_t n_evaluable = mark_evaluable(ds, eval_pos);
    if (o.max_users > 0 && n_evaluable > o.max_users &&
        (rc = sample_users(eval_pos, nu, n_evaluable, o.max_users, o.user_seed)) != HC_OK)
        goto done;
    int32_t n_eval = 0, n_iter = 0, max_cand = o.record_k > 1 ? o.record_k : 1, max_train = 1;
    int rank = dist_rank(), size = dist_size();
    for (int32_t u = 0; u < nu; u++) {
        int32_t nva, nte, ntr;
        row_of(&ds->valid, u, &nva);
        row_of(&ds->test, u, &nte);
        row_of(&ds->train, u, &ntr);
        int is_eval = eval_pos[u] >= 0;
        eval_pos[u] = is_eval ? n_eval++ : -1;
        if ((is_eval || all) && dist_owns(u, rank, size))
            users[n_iter++] = u;
        if (is_eval && HC_EVAL_MAXK + nva + nte > max_cand)
            max_cand = HC_EVAL_MAXK + nva + nte;
        if (ntr > max_train)
            max_train = ntr;
    }
    int32_t block = o.block < n_iter ? o.block : n_iter;
    if (block < 1)
        block = 1;
    res = calloc((size_t)(n_eval > 0 ? n_eval : 1) * RES_STRIDE, sizeof *res);
    buf = malloc((size_t)block * (size_t)(ni > 0 ? ni : 1) * sizeof *buf);
    cand = malloc((size_t)nthreads * (size_t)max_cand * sizeof *cand);
    top = malloc((size_t)nthreads * HC_EVAL_MAXK * sizeof *top);
    if (o.train_order)
        pairs = malloc((size_t)nthreads * (size_t)max_train * sizeof *pairs);
    if (!res || !buf || !cand || !top || (o.train_order && !pairs)) {
        rc =
            hc_error(HC_ENOMEM, "evaluate: out of memory for a block of %d x %d scores", block, ni);
        goto done;
    }

    rc = HC_OK;
    eval_ctx c = {ds, &o, eval_pos, res, cand, top, pairs, max_cand, max_train};
    for (int32_t s = 0; s < n_iter; s += block) {
        int32_t n = n_iter - s < block ? n_iter - s : block;
        hc_error_clear();
        rc = scorer->score(scorer->ctx, users + s, n, buf);
        if (rc) {
            if (!*hc_errmsg())
                hc_error(rc, "evaluate: scoring users %d..%d failed: %s", users[s],
                         users[s + n - 1], hc_strerror(rc));
            break;
        }
#pragma omp parallel for schedule(dynamic, 4)
        for (int32_t r = 0; r < n; r++)
            eval_user(&c, omp_get_thread_num(), users[s + r], buf + (size_t)r * (size_t)ni);
    }

    /* every rank learns whether any failed, so none waits in the gather for a failed one */
    int any = dist_agree(rc);
    if (any && !rc)
        rc = hc_error(any, "evaluate: another rank failed: %s", hc_strerror(any));
    if (rc)
        goto done;
    gather_ranks(ds, &o, res, n_eval);
    /* Means, summed in user order. */
    for (int32_t e = 0; e < n_eval; e++) {
        const double *x = res + (size_t)e * RES_STRIDE;
        for (int j = 0; j < HC_EVAL_NK; j++) {
            out->valid.recall[j] += x[j];
            out->valid.ndcg[j] += x[HC_EVAL_NK + j];
            out->test.recall[j] += x[2 * HC_EVAL_NK + j];
            out->test.ndcg[j] += x[3 * HC_EVAL_NK + j];
        }
    }
    if (n_eval > 0) {
        for (int j = 0; j < HC_EVAL_NK; j++) {
            out->valid.recall[j] /= n_eval;
            out->valid.ndcg[j] /= n_eval;
            out->test.recall[j] /= n_eval;
            out->test.ndcg[j] /= n_eval;
        }
    }
    out->valid.n_users = out->test.n_users = n_eval;
    out->valid.n_evaluable = out->test.n_evaluable = n_evaluable;
    rc = HC_OK;
done:
    free(eval_pos);
    free(users);
    free(res);
    free(buf);
    free(cand);
    free(top);
    free(pairs);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}
