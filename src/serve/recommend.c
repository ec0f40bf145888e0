/*
 * recommend.c - top-K recommendations for users of a trained model or of the live ensemble of
 * several (see recommend.h).
 *
 * One model, per block of b <= block users: S = score(users) (b x I, one model call, under the
 * model's lock when given); then, for each user u of the block, in parallel over chunks of 8
 * users (OpenMP; a block of at most 8 users, e.g. one server request, starts no thread team):
 * S[u, i] = -INFINITY for i in train(u) (or in train, valid and test: HC_EXCLUDE_ALL; or
 * nothing: HC_EXCLUDE_NONE), and top-k of S[u, :] by hc_topk,
 * a bounded heap that breaks ties by the smaller item index and skips -INFINITY/NaN.
 * Cost per block: the model's score plus O(I + |train(u)| + I log k) per user; memory:
 * block x I floats per context (64 x 25k items = 6.4 MB, cache-sized).
 *
 * Live ensemble of M models, per block: for each model in turn, the same score, mask and
 * selection into that model's lists (top ens_k, -1 padded), reusing the one score buffer;
 * then, per user (the same chunks, one aggregation scratch per thread), hc_ensemble_aggregate
 * of the user's M lists, cut at k. Cost per user: M scores and selections plus
 * O(M ens_k log(M ens_k)) to aggregate; extra memory M x block x ens_k ints and one n_items
 * float array per thread.
 *
 * One "mf" model (the student): no block product; each user's row is scored by a kernel over
 * a transposed copy of the item factors and selected at once, while it is in cache (about
 * 3x faster than BLAS's products at d = 6, bench/README.md), in parallel over users.
 *
 * Considered and dropped: a two-buffer pipeline (OpenMP tasks scoring block b + 1 while block
 * b's users are selected). It only wins when scoring is cheap next to selection, BLAS then
 * runs single-threaded inside the tasks, and it measured no faster on 2 cores.
 */
#include "serve/recommend.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define SELECT_CHUNK      8   /* users per OpenMP work item */
#define MF_KERNEL_MAX_DIM 64  /* the transposed MF kernel's largest dim */
#define MF_KERNEL_TILE    512 /* items per tile */

/* ------------------------------------------------------------------------------ spec */

static const char *const EXCLUDE_NAMES[] = {"train", "none", "all"};

int hc_exclude_parse(const char *s, hc_exclude *out)
{
    for (int e = 0; s && e < 3; e++)
        if (!strcmp(s, EXCLUDE_NAMES[e])) {
            *out = (hc_exclude)e;
            return 0;
        }
    return -1;
}

const char *hc_exclude_name(hc_exclude e)
{
    return (unsigned)e < 3 ? EXCLUDE_NAMES[e] : "?";
}

void hc_rec_spec_default(hc_rec_spec *s)
{
    memset(s, 0, sizeof *s);
    s->temperature = HC_REC_TEMPERATURE;
    s->ens_k = HC_REC_ENSEMBLE_K;
}

int hc_rec_spec_load(hc_rec_spec *s, const char *const *paths, int32_t n, const hc_dataset *ds)
{
    s->models = NULL;
    s->n_models = 0;
    s->owned = 0;
    if (n < 1 || n > HC_REC_MAX_MODELS)
        return hc_error(HC_EINVAL, "recommend: %d models (1 to %d)", n, HC_REC_MAX_MODELS);
    s->models = calloc((size_t)n, sizeof *s->models);
    if (!s->models)
        return hc_error(HC_ENOMEM, "recommend: out of memory");
    s->owned = 1;
    for (int32_t x = 0; x < n; x++) {
        int rc = hc_model_load(paths[x], ds, &s->models[x]);
        if (rc) {
            hc_rec_spec_free(s);
            return rc;
        }
        s->n_models = x + 1;
    }
    return HC_OK;
}

void hc_rec_spec_free(hc_rec_spec *s)
{
    if (!s)
        return;
    if (s->owned && s->models) {
        for (int32_t x = 0; x < s->n_models; x++)
            hc_model_free(s->models[x]);
        free(s->models);
    }
    s->models = NULL;
    s->n_models = 0;
    s->owned = 0;
}

int hc_rec_parse_weights(const char *text, int32_t n, float *out)
{
    const char *p = text ? text : "";
    for (int32_t x = 0; x < n; x++) {
        char *end;
        errno = 0;
        float w = strtof(p, &end);
        int last = x + 1 == n;
        if (end == p || errno || !isfinite(w) || !(w > 0.0f) || *end != (last ? '\0' : ','))
            return hc_error(HC_EINVAL,
                            "weights '%.200s': expected %d comma-separated positive numbers, "
                            "one per model",
                            text ? text : "", n);
        out[x] = w;
        p = end + 1;
    }
    return HC_OK;
}

int hc_rec_args_add_model(hc_rec_args *a, const char *path)
{
    if (a->n_paths >= HC_REC_MAX_MODELS)
        return hc_error(HC_EINVAL, "at most %d --model", HC_REC_MAX_MODELS);
    a->path[a->n_paths++] = path;
    return HC_OK;
}

int hc_rec_args_spec(hc_rec_args *a, hc_rec_spec *spec)
{
    hc_rec_spec_default(spec);
    if (a->n_paths < 1)
        return hc_error(HC_EINVAL, "--model is required");
    if (a->n_paths == 1 && (a->weights || a->ens_k || a->temperature > 0.0))
        return hc_error(HC_EINVAL,
                        "--weights, --ensemble-k and --temperature need two or more --model");
    if (a->weights) {
        int rc = hc_rec_parse_weights(a->weights, a->n_paths, a->w);
        if (rc)
            return rc;
        spec->weight = a->w;
    }
    if (a->ens_k)
        spec->ens_k = a->ens_k;
    if (a->temperature > 0.0)
        spec->temperature = (float)a->temperature;
    return HC_OK;
}

/* Checks spec against ds (see hc_recommend_init_spec). */
static int check_spec(const hc_rec_spec *spec, const hc_dataset *ds)
{
    if (!spec || !ds || !spec->models || spec->n_models < 1 || spec->n_models > HC_REC_MAX_MODELS)
        return hc_error(HC_EINVAL, "recommend: no dataset or no models (1 to %d)",
                        HC_REC_MAX_MODELS);
    const hc_model *m0 = spec->models[0];
    for (int32_t x = 0; x < spec->n_models; x++) {
        const hc_model *m = spec->models[x];
        if (!m || !m0)
            return hc_error(HC_EINVAL, "recommend: model %d missing", x + 1);
        if (m->n_users != ds->n_users || m->n_items != ds->n_items)
            return hc_error(HC_EINVAL,
                            "recommend: model %d (%s) has %d users and %d items, dataset %d and %d",
                            x + 1, m->type->name, m->n_users, m->n_items, ds->n_users, ds->n_items);
        if (m->ds_checksum != m0->ds_checksum)
            return hc_error(HC_EMISMATCH,
                            "recommend: models 1 (%s) and %d (%s) were trained on different "
                            "datasets (checksums %016llx and %016llx)",
                            m0->type->name, x + 1, m->type->name,
                            (unsigned long long)m0->ds_checksum,
                            (unsigned long long)m->ds_checksum);
        if (m->ds_checksum != ds->checksum)
            return hc_error(HC_EMISMATCH,
                            "recommend: model %d (%s) was trained on another dataset (checksum "
                            "%016llx, this one %016llx)",
                            x + 1, m->type->name, (unsigned long long)m->ds_checksum,
                            (unsigned long long)ds->checksum);
    }
    if (ds->train.nrows != ds->n_users || ds->train.ncols != ds->n_items)
        return hc_error(HC_EINVAL, "recommend: train matrix does not match the dataset sizes");
    if (spec->n_models > 1) {
        if (!(spec->temperature > 0.0f) || !isfinite(spec->temperature) || spec->ens_k < 1)
            return hc_error(HC_EINVAL,
                            "recommend: ensemble temperature (%g) and list length (%d) must be "
                            "positive",
                            (double)spec->temperature, spec->ens_k);
        for (int32_t x = 0; spec->weight && x < spec->n_models; x++)
            if (!(spec->weight[x] > 0.0f) || !isfinite(spec->weight[x]))
                return hc_error(HC_EINVAL, "recommend: model weights must be positive");
    }
    return HC_OK;
}

/* ------------------------------------------------------------------------------ context */

/* For one "mf" model (score = <p_u, q_i>), a transposed copy of its item factors: a row of
 * scores is then dim passes of y += p_c q^c over contiguous memory, which the compiler
 * vectorises, where BLAS's 1-row product handles a dim of 6 poorly (about 3x slower over
 * 25k items, bench/README.md). Memory: one more copy of the item factors per context. */
static int mf_transpose(hc_recommender *r)
{
    hc_model *m = r->models[0];
    hc_tensor ts[HC_MAX_TENSORS];
    if (strcmp(m->type->name, "mf") != 0 || m->type->tensors(m, ts) != 2)
        return HC_OK;
    const int32_t d = ts[1].cols, ni = ts[1].rows;
    if (strcmp(ts[0].name, "user_factors") || strcmp(ts[1].name, "item_factors") ||
        ts[0].cols != d || ni != r->ds->n_items || d > MF_KERNEL_MAX_DIM)
        return HC_OK;
    if (!(r->qt = malloc((size_t)d * (size_t)ni * sizeof *r->qt)))
        return hc_error(HC_ENOMEM, "recommend: out of memory");
    for (int32_t i = 0; i < ni; i++)
        for (int32_t c = 0; c < d; c++)
            r->qt[(size_t)c * (size_t)ni + (size_t)i] = ts[1].data[(size_t)i * (size_t)d + c];
    r->pf = ts[0].data;
    r->qt_dim = d;
    return HC_OK;
}

/* Sets up r (zeroed but for r->one) for spec; on failure r is freed. */
static int setup(hc_recommender *r, const hc_rec_spec *spec, const hc_dataset *ds, int32_t block,
                 pthread_mutex_t *locks)
{
    int rc = check_spec(spec, ds);
    if (rc)
        goto fail;
    if (block <= 0)
        block = HC_RECOMMEND_BLOCK;
    if (block > ds->n_users)
        block = ds->n_users > 0 ? ds->n_users : 1;
    r->models = spec->models;
    r->n_models = spec->n_models;
    r->weight = spec->weight;
    r->ds = ds;
    r->lock = locks;
    r->block = block;
    r->scores = malloc((size_t)block * (size_t)ds->n_items * sizeof *r->scores);
    if (!r->scores) {
        rc = hc_error(HC_ENOMEM, "recommend: out of memory for %d x %d scores", block, ds->n_items);
        goto fail;
    }
    if (r->n_models == 1)
        return mf_transpose(r);
    r->ens_k = spec->ens_k < ds->n_items ? spec->ens_k : ds->n_items;
    if (r->ens_k < 1)
        r->ens_k = 1;
    r->n_agg = block > SELECT_CHUNK ? omp_get_max_threads() : 1;
    if (r->n_agg < 1)
        r->n_agg = 1;
    r->lists = malloc((size_t)r->n_models * (size_t)block * (size_t)r->ens_k * sizeof *r->lists);
    r->agg = calloc((size_t)r->n_agg, sizeof *r->agg);
    if (!r->lists || !r->agg) {
        rc = hc_error(HC_ENOMEM, "recommend: out of memory for the ensemble's lists");
        goto fail;
    }
    if ((rc = hc_ensemble_decay(spec->temperature, r->ens_k, &r->decay)) != HC_OK)
        goto fail;
    for (int32_t t = 0; t < r->n_agg; t++) {
        if ((rc = hc_ensemble_scratch_alloc(&r->agg[t], ds->n_items, r->n_models,
                                            r->n_models * r->ens_k, 0)) != HC_OK)
            goto fail;
        for (int32_t x = 0; x < r->n_models; x++)
            r->agg[t].len[x] = r->ens_k;
    }
    return HC_OK;
fail:
    hc_recommend_free(r);
    return rc;
}

int hc_recommend_init_spec(hc_recommender *r, const hc_rec_spec *spec, const hc_dataset *ds,
                           int32_t block, pthread_mutex_t *locks)
{
    memset(r, 0, sizeof *r);
    return setup(r, spec, ds, block, locks);
}

/* The spec of the one model *one (the one-model forms of the init functions). */
static hc_rec_spec one_model(hc_model **one)
{
    hc_rec_spec spec;
    hc_rec_spec_default(&spec);
    spec.models = one;
    spec.n_models = 1;
    return spec;
}

int hc_recommend_init(hc_recommender *r, hc_model *m, const hc_dataset *ds, int32_t block,
                      pthread_mutex_t *lock)
{
    memset(r, 0, sizeof *r);
    r->one = m;
    hc_rec_spec spec = one_model(&r->one);
    return setup(r, &spec, ds, block, lock);
}

int hc_recommend(hc_model *m, const hc_dataset *ds, const int32_t *users, int32_t n, int32_t k,
                 hc_exclude exclude, int32_t *out_items, float *out_scores, int32_t *out_count)
{
    hc_recommender r;
    int rc = hc_recommend_init(&r, m, ds, HC_RECOMMEND_BLOCK, NULL);
    if (rc == HC_OK)
        rc = hc_recommend_users(&r, users, n, k, exclude, out_items, out_scores, out_count);
    hc_recommend_free(&r);
    return rc;
}

void hc_recommend_free(hc_recommender *r)
{
    if (!r)
        return;
    free(r->scores);
    free(r->qt);
    free(r->lists);
    free(r->decay);
    for (int32_t t = 0; r->agg && t < r->n_agg; t++)
        hc_ensemble_scratch_free(&r->agg[t]);
    free(r->agg);
    memset(r, 0, sizeof *r);
}

/* y = P[u] Q^T from the transposed item factors, MF_KERNEL_TILE items at a time so that the
 * partial sums stay in L1. */
HC_CLONES static void mf_score_row(const hc_recommender *r, int32_t u, float *restrict y)
{
    const int32_t d = r->qt_dim, ni = r->ds->n_items;
    const float *p = r->pf + (size_t)u * (size_t)d;
    for (int32_t i0 = 0; i0 < ni; i0 += MF_KERNEL_TILE) {
        int32_t n = ni - i0 < MF_KERNEL_TILE ? ni - i0 : MF_KERNEL_TILE;
        const float *q = r->qt + i0;
        for (int32_t i = 0; i < n; i++)
            y[i0 + i] = p[0] * q[i];
        for (int32_t c = 1; c < d; c++) {
            const float pc = p[c], *restrict qc = q + (size_t)c * (size_t)ni;
            for (int32_t i = 0; i < n; i++)
                y[i0 + i] += pc * qc[i];
        }
    }
}

/* Scores users[0..b) with model x into buf under its lock. */
static int score_block(hc_recommender *r, int32_t x, float *buf, const int32_t *users, int32_t b)
{
    if (r->lock)
        pthread_mutex_lock(&r->lock[x]);
    int rc = r->models[x]->type->score(r->models[x], users, b, buf);
    if (r->lock)
        pthread_mutex_unlock(&r->lock[x]);
    return rc;
}

/* What one selection step needs: the block's scores and where its users' lists go. */
typedef struct {
    const hc_dataset *ds;
    int32_t ni, k;
    hc_exclude exclude;
    int32_t *out_items; /* n x k */
    float *out_scores;  /* n x k or NULL */
    int32_t *out_count; /* n or NULL */
} select_job;

/* Pads a list of got < k entries with -1 (and -INFINITY scores). */
static void pad(int32_t *idx, float *val, int32_t got, int32_t k)
{
    for (int32_t t = got; t < k; t++) {
        idx[t] = -1;
        if (val)
            val[t] = -INFINITY;
    }
}

/* row[i] = -INFINITY for the items of row u of m. */
static void mask_row(const hc_csr *m, int32_t u, float *row)
{
    if (!m->indptr || u >= m->nrows)
        return;
    const int32_t *it = hc_csr_row(m, u);
    int32_t n = hc_csr_row_len(m, u);
    for (int32_t t = 0; t < n; t++)
        row[it[t]] = -INFINITY;
}

/* Masks and selects rows [j0, j1) of a block (row j holds user users[j]'s scores in buf; its
 * list goes to row j of the job's outputs). */
static void select_rows(const select_job *jb, float *buf, const int32_t *users, int32_t j0,
                        int32_t j1)
{
    const int32_t ni = jb->ni, k = jb->k;
    for (int32_t j = j0; j < j1; j++) {
        float *row = buf + (size_t)j * (size_t)ni;
        int32_t u = users[j];
        if (jb->exclude != HC_EXCLUDE_NONE)
            mask_row(&jb->ds->train, u, row);
        if (jb->exclude == HC_EXCLUDE_ALL) {
            mask_row(&jb->ds->valid, u, row);
            mask_row(&jb->ds->test, u, row);
        }
        int32_t *idx = jb->out_items + (size_t)j * (size_t)k;
        float *val = jb->out_scores ? jb->out_scores + (size_t)j * (size_t)k : NULL;
        int32_t got = hc_topk(row, ni, k, idx, val);
        pad(idx, val, got, k);
        if (jb->out_count)
            jb->out_count[j] = got;
    }
}

/* Rows [0, b) of the block through select_rows: in parallel over chunks of users, or in this
 * thread for a small block. */
static void select_block(const select_job *jb, float *buf, const int32_t *users, int32_t b)
{
    if (b <= SELECT_CHUNK) { /* one server request: no thread team */
        select_rows(jb, buf, users, 0, b);
        return;
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int32_t j0 = 0; j0 < b; j0 += SELECT_CHUNK)
        select_rows(jb, buf, users, j0, b - j0 < SELECT_CHUNK ? b : j0 + SELECT_CHUNK);
}

/* Aggregates the ensemble lists of block rows [j0, j1) with scratch s into row j of the
 * outputs (the layout of select_job). */
static void aggregate_rows(hc_recommender *r, hc_ensemble_scratch *s, int32_t b, int32_t j0,
                           int32_t j1, int32_t k, int32_t *out_items, float *out_scores,
                           int32_t *out_count)
{
    const size_t ek = (size_t)r->ens_k;
    for (int32_t j = j0; j < j1; j++) {
        for (int32_t x = 0; x < r->n_models; x++)
            s->list[x] = r->lists + ((size_t)x * (size_t)b + (size_t)j) * ek;
        int32_t *idx = out_items + (size_t)j * (size_t)k;
        float *val = out_scores ? out_scores + (size_t)j * (size_t)k : NULL;
        int32_t got = hc_ensemble_aggregate(s->list, s->len, r->n_models, r->weight, r->decay, k, s,
                                            idx, val);
        pad(idx, val, got, k);
        if (out_count)
            out_count[j] = got;
    }
}

/* The live ensemble's lists for the b users of a block (see the file comment). */
static int ensemble_block(hc_recommender *r, const int32_t *users, int32_t b, int32_t k,
                          hc_exclude exclude, int32_t *out_items, float *out_scores,
                          int32_t *out_count)
{
    for (int32_t x = 0; x < r->n_models; x++) {
        int rc = score_block(r, x, r->scores, users, b);
        if (rc)
            return rc;
        select_job jb = {.ds = r->ds,
                         .ni = r->ds->n_items,
                         .k = r->ens_k,
                         .exclude = exclude,
                         .out_items = r->lists + (size_t)x * (size_t)b * (size_t)r->ens_k};
        select_block(&jb, r->scores, users, b);
    }
    if (b <= SELECT_CHUNK || r->n_agg == 1) {
        aggregate_rows(r, &r->agg[0], b, 0, b, k, out_items, out_scores, out_count);
        return HC_OK;
    }
#pragma omp parallel num_threads(r->n_agg)
    {
        hc_ensemble_scratch *s = &r->agg[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (int32_t j0 = 0; j0 < b; j0 += SELECT_CHUNK)
            aggregate_rows(r, s, b, j0, b - j0 < SELECT_CHUNK ? b : j0 + SELECT_CHUNK, k, out_items,
                           out_scores, out_count);
    }
    return HC_OK;
}

/* One "mf" model: each user's row is scored by the transposed kernel and selected at once,
 * while its scores (n_items floats) are still in cache; in parallel over users when the
 * context has a row per thread (--all-users), each thread in its own row of r->scores. */
static void mf_users(hc_recommender *r, const int32_t *users, int32_t n, int32_t k,
                     hc_exclude exclude, int32_t *out_items, float *out_scores, int32_t *out_count)
{
    const size_t ni = (size_t)r->ds->n_items;
    int team = n > SELECT_CHUNK && r->block >= omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, SELECT_CHUNK) if (team)
    for (int32_t j = 0; j < n; j++) {
        float *row = r->scores + (size_t)omp_get_thread_num() * ni;
        select_job jb = {.ds = r->ds,
                         .ni = r->ds->n_items,
                         .k = k,
                         .exclude = exclude,
                         .out_items = out_items + (size_t)j * (size_t)k,
                         .out_scores = out_scores ? out_scores + (size_t)j * (size_t)k : NULL,
                         .out_count = out_count ? out_count + j : NULL};
        mf_score_row(r, users[j], row);
        select_rows(&jb, row, users + j, 0, 1);
    }
}

int hc_recommend_users(hc_recommender *r, const int32_t *users, int32_t n, int32_t k,
                       hc_exclude exclude, int32_t *out_items, float *out_scores,
                       int32_t *out_count)
{
    if (k < 1)
        return hc_error(HC_EINVAL, "recommend: k must be >= 1, got %d", k);
    if (n < 0)
        return hc_error(HC_EINVAL, "recommend: negative user count");
    const int32_t nu = r->ds->n_users;
    for (int32_t j = 0; j < n; j++)
        if (users[j] < 0 || users[j] >= nu)
            return hc_error(HC_EINVAL, "recommend: user index %d out of range [0, %d)", users[j],
                            nu);
    if (r->qt) {
        mf_users(r, users, n, k, exclude, out_items, out_scores, out_count);
        return HC_OK;
    }
    for (int32_t s = 0; s < n; s += r->block) {
        int32_t b = n - s < r->block ? n - s : r->block;
        int32_t *items = out_items + (size_t)s * (size_t)k;
        float *scores = out_scores ? out_scores + (size_t)s * (size_t)k : NULL;
        int32_t *count = out_count ? out_count + s : NULL;
        int rc;
        if (r->n_models > 1) {
            rc = ensemble_block(r, users + s, b, k, exclude, items, scores, count);
            if (rc)
                return rc;
            continue;
        }
        if ((rc = score_block(r, 0, r->scores, users + s, b)) != HC_OK)
            return rc;
        select_job jb = {.ds = r->ds,
                         .ni = r->ds->n_items,
                         .k = k,
                         .exclude = exclude,
                         .out_items = items,
                         .out_scores = scores,
                         .out_count = count};
        select_block(&jb, r->scores, users + s, b);
    }
    return HC_OK;
}

/* ------------------------------------------------------------------------------ scorer */

/* hc_scorer callback of a live ensemble: importances of each user's list, 0 elsewhere. */
static int rec_score(void *p, const int32_t *users, int32_t n, float *out)
{
    hc_rec_scorer_ctx *ctx = p;
    const int32_t ni = ctx->r.ds->n_items, k = ctx->k;
    memset(out, 0, (size_t)n * (size_t)ni * sizeof *out);
    for (int32_t s = 0; s < n; s += ctx->r.block) {
        int32_t b = n - s < ctx->r.block ? n - s : ctx->r.block;
        int rc = hc_recommend_users(&ctx->r, users + s, b, k, HC_EXCLUDE_TRAIN, ctx->items,
                                    ctx->imp, NULL);
        if (rc)
            return rc;
        for (int32_t j = 0; j < b; j++) {
            float *row = out + (size_t)(s + j) * (size_t)ni;
            const int32_t *it = ctx->items + (size_t)j * (size_t)k;
            const float *v = ctx->imp + (size_t)j * (size_t)k;
            for (int32_t q = 0; q < k && it[q] >= 0; q++)
                row[it[q]] = v[q];
        }
    }
    return HC_OK;
}

int hc_rec_scorer_init(hc_rec_scorer_ctx *ctx, const hc_rec_spec *spec, const hc_dataset *ds,
                       int32_t block, hc_scorer *out)
{
    memset(ctx, 0, sizeof *ctx);
    int rc = check_spec(spec, ds);
    if (rc)
        return rc;
    if (spec->n_models == 1) {
        *out = hc_model_scorer(spec->models[0]);
        return HC_OK;
    }
    if ((rc = hc_recommend_init_spec(&ctx->r, spec, ds, block, NULL)) != HC_OK)
        return rc;
    ctx->k = ctx->r.ens_k;
    ctx->items = malloc((size_t)ctx->r.block * (size_t)ctx->k * sizeof *ctx->items);
    ctx->imp = malloc((size_t)ctx->r.block * (size_t)ctx->k * sizeof *ctx->imp);
    if (!ctx->items || !ctx->imp) {
        hc_rec_scorer_free(ctx);
        return hc_error(HC_ENOMEM, "recommend: out of memory for the ensemble's lists");
    }
    *out = (hc_scorer){rec_score, ctx};
    return HC_OK;
}

void hc_rec_scorer_free(hc_rec_scorer_ctx *ctx)
{
    if (!ctx)
        return;
    hc_recommend_free(&ctx->r);
    free(ctx->items);
    free(ctx->imp);
    memset(ctx, 0, sizeof *ctx);
}

/* ------------------------------------------------------------------------------ pool */

void hc_rec_pool_free(hc_rec_pool *p)
{
    if (!p)
        return;
    for (int32_t i = 0; p->ctx && i < p->n; i++)
        hc_recommend_free(&p->ctx[i]);
    free(p->ctx);
    free(p->free_ids);
    for (int32_t x = 0; x < p->n_locks; x++)
        pthread_mutex_destroy(&p->score_lock[x]);
    free(p->score_lock);
    if (p->inited) {
        pthread_mutex_destroy(&p->pool_lock);
        pthread_cond_destroy(&p->available);
    }
    memset(p, 0, sizeof *p);
}

/* Sets up p (zeroed but for p->one) for spec; on failure p is freed. */
static int pool_setup(hc_rec_pool *p, const hc_rec_spec *spec, const hc_dataset *ds, int32_t n,
                      int32_t block)
{
    int rc = HC_OK;
    if (n < 1)
        return hc_error(HC_EINVAL, "recommend pool: needs at least one context, got %d", n);
    if (!spec || spec->n_models < 1 || spec->n_models > HC_REC_MAX_MODELS)
        return hc_error(HC_EINVAL, "recommend pool: no models (1 to %d)", HC_REC_MAX_MODELS);
    if (pthread_mutex_init(&p->pool_lock, NULL) != 0)
        return hc_error(HC_ENOMEM, "recommend pool: cannot create a mutex");
    if (pthread_cond_init(&p->available, NULL) != 0) {
        pthread_mutex_destroy(&p->pool_lock);
        return hc_error(HC_ENOMEM, "recommend pool: cannot create a condition variable");
    }
    p->inited = 1;
    p->score_lock = calloc((size_t)spec->n_models, sizeof *p->score_lock);
    p->ctx = calloc((size_t)n, sizeof *p->ctx);
    p->free_ids = malloc((size_t)n * sizeof *p->free_ids);
    if (!p->score_lock || !p->ctx || !p->free_ids) {
        rc = hc_error(HC_ENOMEM, "recommend pool: out of memory");
        goto fail;
    }
    for (; p->n_locks < spec->n_models; p->n_locks++)
        if (pthread_mutex_init(&p->score_lock[p->n_locks], NULL) != 0) {
            rc = hc_error(HC_ENOMEM, "recommend pool: cannot create a mutex");
            goto fail;
        }
    p->n = n;
    for (int32_t i = 0; i < n; i++) {
        if ((rc = hc_recommend_init_spec(&p->ctx[i], spec, ds, block, p->score_lock)) != HC_OK)
            goto fail;
        p->free_ids[i] = n - 1 - i;
    }
    p->n_free = n;
    return HC_OK;
fail:
    hc_rec_pool_free(p);
    return rc;
}

int hc_rec_pool_init_spec(hc_rec_pool *p, const hc_rec_spec *spec, const hc_dataset *ds, int32_t n,
                          int32_t block)
{
    memset(p, 0, sizeof *p);
    return pool_setup(p, spec, ds, n, block);
}

int hc_rec_pool_init(hc_rec_pool *p, hc_model *m, const hc_dataset *ds, int32_t n, int32_t block)
{
    memset(p, 0, sizeof *p);
    p->one = m;
    hc_rec_spec spec = one_model(&p->one);
    return pool_setup(p, &spec, ds, n, block);
}

hc_recommender *hc_rec_pool_acquire(hc_rec_pool *p)
{
    pthread_mutex_lock(&p->pool_lock);
    while (p->n_free == 0)
        pthread_cond_wait(&p->available, &p->pool_lock);
    hc_recommender *r = &p->ctx[p->free_ids[--p->n_free]];
    pthread_mutex_unlock(&p->pool_lock);
    return r;
}

void hc_rec_pool_release(hc_rec_pool *p, hc_recommender *r)
{
    pthread_mutex_lock(&p->pool_lock);
    p->free_ids[p->n_free++] = (int32_t)(r - p->ctx);
    pthread_cond_signal(&p->available);
    pthread_mutex_unlock(&p->pool_lock);
}
