/*
 * recommend.h - top-K recommendations from one trained model or from the live rank-importance
 * ensemble of several, for the CLI (one user, every user into a file, a latency benchmark) and
 * for the HTTP server (many worker threads).
 *
 * What is ranked is an hc_rec_spec: one model ranks by its own scores; several models form the
 * live ensemble of docs/method.md §3: each model scores the user, its top ens_k items are taken
 * (train items masked, as trajectories record them), and the lists are aggregated by
 * hc_ensemble_aggregate (importance sum_x w_x exp(-r_x / T), ties to the smaller item id) -
 * the function hc_ensemble_user runs on recorded trajectories, so a live ensemble answers
 * like `hetcomp ensemble` on trajectories recorded from the same models. The scores returned
 * are then the importances.
 *
 * A recommender context borrows the models and their dataset and owns its buffers: a
 * block x n_items score buffer and, for an ensemble, the models' lists and the aggregation
 * scratch. hc_recommend_users scores users a block at a time (one score call per model per
 * block), masks each user's train items (or none, or every item the dataset knows for the user:
 * hc_exclude) to -INFINITY, and selects the top
 * k with hc_topk (ties: smaller item index first), OpenMP over the block's users. Nothing is
 * allocated per call.
 *
 * Threading: a model's score() uses model-owned scratch, so it is NOT thread-safe. Contexts
 * that share models must share one mutex per model (the locks of hc_recommend_init_spec):
 * model x's score() runs under lock x, while masking, selection and aggregation run outside
 * the locks in each context's own buffers (two workers of an ensemble server can score
 * different models at once). A context itself is used by one thread at a time, and must not
 * be moved after init; hc_rec_pool hands out contexts over one shared copy of the models.
 * The server does not use it: its workers each score their own model copies, so that none
 * waits on a lock (serve/live.h), at the cost of the models' memory once per worker.
 */
#ifndef HC_RECOMMEND_H
#define HC_RECOMMEND_H

#include <pthread.h>

#include "ensemble/ensemble.h"
#include "core/internal.h"
#include "model/model.h"

#define HC_RECOMMEND_BLOCK 64    /* default users per score call (64 x items floats in cache) */
#define HC_REC_ENSEMBLE_K  100   /* default list length per model in a live ensemble */
#define HC_REC_TEMPERATURE 10.0f /* default rank temperature T of a live ensemble */
#define HC_REC_MAX_MODELS  64    /* most models in one ensemble */

/* What a recommender ranks with. */
typedef struct {
    hc_model **models;   /* n_models loaded and prepared models, trained on the same dataset */
    int32_t n_models;    /* 1: the model's own scores; 2..HC_REC_MAX_MODELS: live ensemble */
    const float *weight; /* n_models positive weights, or NULL for 1 (borrowed; ensemble only) */
    float temperature;   /* T of the importance exp(-r / T), > 0 (HC_REC_TEMPERATURE) */
    int32_t ens_k;       /* each model's list length, >= 1 (HC_REC_ENSEMBLE_K; capped at the
                            item count) */
    int owned;           /* 1: models[] and the models belong to the spec (hc_rec_spec_load) */
} hc_rec_spec;

/* Zero models, default temperature and list length. */
void hc_rec_spec_default(hc_rec_spec *s);
/* Loads n >= 1 model files (hc_model_load: each must have been trained on ds, else
 * HC_EMISMATCH naming the file) into s->models, keeping s's other fields; s owns them. */
int hc_rec_spec_load(hc_rec_spec *s, const char *const *paths, int32_t n, const hc_dataset *ds);
/* Frees owned models; accepts a zeroed or borrowed spec (then only forgets the models). */
void hc_rec_spec_free(hc_rec_spec *s);
/* Parses n comma-separated positive finite weights ("1,2,0.5") into out. HC_EINVAL with a
 * message on anything else (another count, empty fields, trailing text). */
int hc_rec_parse_weights(const char *text, int32_t n, float *out);

/* What a command line (`recommend`, `serve`) says about the models: the --model files in order
 * and the ensemble flags as given. Zero-initialise, then fill while parsing options. */
typedef struct {
    const char *path[HC_REC_MAX_MODELS]; /* --model files */
    int32_t n_paths;
    const char *weights;        /* --weights text, NULL if not given */
    int32_t ens_k;              /* --ensemble-k, 0 if not given */
    double temperature;         /* --temperature, 0 if not given */
    float w[HC_REC_MAX_MODELS]; /* the parsed weights (hc_rec_args_spec) */
} hc_rec_args;

/* Appends a --model file; HC_EINVAL beyond HC_REC_MAX_MODELS. */
int hc_rec_args_add_model(hc_rec_args *a, const char *path);
/* Checks the flags (at least one model; --weights, --ensemble-k and --temperature only with two
 * or more; one weight per model) and sets spec to the defaults overridden by them (spec->weight
 * points into a). HC_EINVAL with a message meant as a usage error. Load the models next with
 * hc_rec_spec_load(spec, a->path, a->n_paths, ds). */
int hc_rec_args_spec(hc_rec_args *a, hc_rec_spec *spec);

/* Parses "train", "none" or "all" into *out; -1 on anything else. */
int hc_exclude_parse(const char *s, hc_exclude *out);
const char *hc_exclude_name(hc_exclude e);

typedef struct {
    hc_model *const *models; /* spec's models (borrowed; may point at one) */
    int32_t n_models;
    const float *weight;   /* borrowed, NULL: 1 */
    hc_model *one;         /* hc_recommend_init's model */
    const hc_dataset *ds;  /* borrowed: its train CSR gives the seen items */
    pthread_mutex_t *lock; /* borrowed, may be NULL: n_models mutexes around the score calls */
    int32_t block;         /* users per score call, >= 1 */
    float *scores;         /* block x n_items score buffer (owned) */
    /* one "mf" model: its item factors transposed (dim x n_items, owned) and user factors
     * (borrowed), for the small-block kernel of recommend.c; NULL otherwise */
    float *qt;
    const float *pf;
    int32_t qt_dim;
    /* live ensemble only (n_models > 1) */
    int32_t ens_k;            /* list length per model (<= n_items) */
    int32_t *lists;           /* n_models x block x ens_k item lists, -1 padded (owned) */
    float *decay;             /* ens_k rank decays exp(-r / T) (owned) */
    hc_ensemble_scratch *agg; /* n_agg aggregation scratches, one per thread (owned) */
    int32_t n_agg;
} hc_recommender;

/* Sets r up for the spec's model(s) on dataset ds (same user and item counts, same dataset
 * checksum) with a score buffer of block rows (block <= 0: HC_RECOMMEND_BLOCK). locks: NULL
 * (only this context uses the models) or spec->n_models mutexes, locks[x] held around every
 * score call of model x. The spec's models and weights must outlive r. HC_EINVAL on a bad
 * spec or mismatched sizes, HC_EMISMATCH on models of other datasets, HC_ENOMEM. */
int hc_recommend_init_spec(hc_recommender *r, const hc_rec_spec *spec, const hc_dataset *ds,
                           int32_t block, pthread_mutex_t *locks);
/* The one-model form: model m, lock (may be NULL) around its score calls. */
int hc_recommend_init(hc_recommender *r, hc_model *m, const hc_dataset *ds, int32_t block,
                      pthread_mutex_t *lock);
/* Frees the buffers; accepts a zeroed struct. */
void hc_recommend_free(hc_recommender *r);

/* Top-k items of users[0..n) (dense indices in [0, n_users)), k >= 1.
 * OUT: out_items (n x k) receives item indices in descending score order, padded with -1 when
 * fewer than k items are selectable (k > items, items masked, or, for an ensemble, fewer
 * than k items in the models' lists); out_scores (n x k, may be NULL) the matching scores (the
 * ensemble's importances; -INFINITY in padding); out_count (n, may be NULL) the number of
 * items written per user. exclude: the items masked (in every model's list, for an
 * ensemble). Returns HC_EINVAL on a bad user index or k, or the score call's error. */
int hc_recommend_users(hc_recommender *r, const int32_t *users, int32_t n, int32_t k,
                       hc_exclude exclude, int32_t *out_items, float *out_scores,
                       int32_t *out_count);

/* The evaluator's view of a spec (`hetcomp eval`): one model scores as itself (its full row,
 * hc_model_scorer); a live ensemble scores each user's aggregated list of the spec's ens_k best
 * items (train items masked) by importance and every other item 0, as hc_ensemble_scorer
 * scores the same lists recorded in trajectories, so eval of the live ensemble of M models
 * matches `hetcomp ensemble` on their trajectories. Zero-initialise; the spec and ds must
 * outlive it. */
typedef struct {
    hc_recommender r; /* the ensemble's context (unused for one model) */
    int32_t k;        /* list length scored per user */
    int32_t *items;   /* r.block x k (owned) */
    float *imp;       /* r.block x k (owned) */
} hc_rec_scorer_ctx;
/* Sets up ctx for spec on ds (blocks of up to block users) and *out to score through it. */
int hc_rec_scorer_init(hc_rec_scorer_ctx *ctx, const hc_rec_spec *spec, const hc_dataset *ds,
                       int32_t block, hc_scorer *out);
void hc_rec_scorer_free(hc_rec_scorer_ctx *ctx);

/* A fixed set of contexts over one spec for server worker threads: acquire blocks until a
 * context is free (never, when there are at least as many contexts as workers). */
typedef struct {
    hc_recommender *ctx; /* n contexts (owned) */
    int32_t n;
    int32_t *free_ids; /* stack of free context indices (owned) */
    int32_t n_free;
    pthread_mutex_t *score_lock; /* one per model, shared by every context (owned) */
    int32_t n_locks;             /* score_lock entries initialised */
    hc_model *one;               /* hc_rec_pool_init's model */
    pthread_mutex_t pool_lock;   /* guards free_ids / n_free */
    pthread_cond_t available;
    int inited; /* 1 once pool_lock and available exist */
} hc_rec_pool;

/* Creates n >= 1 contexts of block rows each over spec and ds (the spec must outlive the
 * pool). On failure everything is freed. */
int hc_rec_pool_init_spec(hc_rec_pool *p, const hc_rec_spec *spec, const hc_dataset *ds, int32_t n,
                          int32_t block);
/* The one-model form. */
int hc_rec_pool_init(hc_rec_pool *p, hc_model *m, const hc_dataset *ds, int32_t n, int32_t block);
/* Frees the contexts and mutexes (none may be in use); accepts a zeroed struct. */
void hc_rec_pool_free(hc_rec_pool *p);
/* Takes a free context (waits for one); give it back with hc_rec_pool_release. */
hc_recommender *hc_rec_pool_acquire(hc_rec_pool *p);
void hc_rec_pool_release(hc_rec_pool *p, hc_recommender *r);

#endif
