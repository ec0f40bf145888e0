/*
 * live.h - the model(s) a server answers from, replaceable while it runs (hot reload,
 * docs/serving.md).
 *
 * A generation is one load of the --model files: per worker slot its own copy of every model
 * and its own recommender context (so no worker ever waits for another: a model's score()
 * keeps scratch in the model and is not thread-safe), the files' names and checksums, a
 * version number and the load time. Loading reads each file once into memory, checksums
 * those bytes (XXH3) and builds every copy from them, so what /healthz names is what is
 * served. Cost: workers x the models' memory, twice while a reload runs.
 *
 * Swapping: the current generation is one atomic pointer; a worker publishes the generation
 * it uses in its own hazard slot (store, then re-check the pointer; seq_cst atomics) and
 * clears the slot when its request is done. A reload builds the new generation outside any
 * lock the workers take, swaps the pointer, then waits until no slot holds the old one
 * before freeing it: requests in flight finish on the old model, later ones see the new
 * one, and the request path takes no lock. A reload that fails leaves the old generation in
 * place and its message in the reload status.
 */
#ifndef HC_SERVE_LIVE_H
#define HC_SERVE_LIVE_H

#include <pthread.h>
#include <stdatomic.h>

#include "serve/recommend.h"

typedef struct {
    int32_t n_workers;
    hc_rec_spec *spec;   /* n_workers specs, each owning its copies of the models */
    hc_recommender *rec; /* n_workers contexts (rec[w] over spec[w]) */
    int32_t n_models;
    char **name;        /* n_models file base names (owned) */
    uint64_t *checksum; /* n_models XXH3 of the files' bytes */
    uint64_t version;   /* 1 for the first load, +1 per successful reload */
    double loaded_at;   /* Unix time of the load */
    /* item-item similarity (one model with an "item_factors" tensor, else NULL) */
    const float *item_f; /* n_items x dim, worker 0's copy (read only) */
    int32_t dim;
    float *item_inv_norm; /* n_items 1 / ||q_i|| (0 for a zero vector) (owned) */
} hc_live_gen;

typedef struct {
    _Atomic(hc_live_gen *) cur;
    _Atomic(hc_live_gen *) *slot; /* n_workers hazard slots */
    int32_t n_workers, block;
    const char *const *paths; /* n_paths model files (borrowed) */
    int32_t n_paths;
    hc_rec_spec tmpl; /* weights, temperature, list length (no models; weight borrowed) */
    const hc_dataset *ds;
    pthread_mutex_t reload_lock; /* one reload at a time */
    pthread_mutex_t status_lock; /* guards the status below */
    uint64_t reloads_ok, reloads_failed;
    double last_reload_at; /* Unix time, 0 if none */
    char last_error[512];  /* the failed reload's message */
    int inited;
} hc_live;

/* Loads the n_paths files (spec's weights, temperature and list length; its models are
 * ignored) for n_workers workers with contexts of block rows. The paths, the weights and
 * ds must outlive l. HC_EINVAL, HC_ENOMEM or the loader's error (naming the file). */
int hc_live_init(hc_live *l, const char *const *paths, int32_t n_paths, const hc_rec_spec *spec,
                 const hc_dataset *ds, int32_t n_workers, int32_t block);
/* Frees every generation; no worker may be inside. Accepts a zeroed struct. */
void hc_live_free(hc_live *l);

/* The generation for worker w (0 <= w < n_workers) until hc_live_leave(l, w). */
hc_live_gen *hc_live_enter(hc_live *l, int32_t w);
void hc_live_leave(hc_live *l, int32_t w);

/* Loads the files again and swaps the generation in (see the file comment); waits for the
 * old one's requests, frees it. On failure the old generation keeps serving, the message
 * is kept for hc_live_status and the error returned. */
int hc_live_reload(hc_live *l);

/* The reload counters and the last failure (msg: len bytes, "" when the last reload
 * succeeded or none ran). */
void hc_live_status(hc_live *l, uint64_t *ok, uint64_t *failed, double *last_at, char *msg,
                    size_t len);

#endif
