/*
 * live.c - model generations and their lock-free swap for the server (see live.h). Loading
 * a generation costs one read and checksum of each file plus workers x the family's load
 * (and prepare); entering and leaving cost two atomic stores and a load each.
 */
#include "serve/live.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/similar.h"
#include "model/model.h"

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void gen_free(hc_live_gen *g)
{
    if (!g)
        return;
    for (int32_t w = 0; w < g->n_workers; w++) {
        if (g->rec)
            hc_recommend_free(&g->rec[w]);
        if (g->spec)
            hc_rec_spec_free(&g->spec[w]);
    }
    for (int32_t x = 0; g->name && x < g->n_models; x++)
        free(g->name[x]);
    free(g->name);
    free(g->checksum);
    free(g->spec);
    free(g->rec);
    free(g->item_inv_norm);
    free(g);
}

/* The file's name without its directories (what /healthz shows: never the full path). */
static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return strdup(b ? b + 1 : path);
}

/* Loads model file x into every worker's spec, from one read of its bytes. */
static int load_model(const hc_live *l, hc_live_gen *g, int32_t x)
{
    char *data = NULL;
    size_t len = 0;
    int rc = hc_file_read_all(l->paths[x], &data, &len);
    if (rc)
        return rc;
    g->checksum[x] = hc_checksum(data, len);
    if (!(g->name[x] = base_name(l->paths[x])))
        rc = hc_error(HC_ENOMEM, "serve: out of memory");
    for (int32_t w = 0; !rc && w < g->n_workers; w++) {
        rc = hc_model_load_mem(l->paths[x], data, len, l->ds, &g->spec[w].models[x]);
        if (!rc)
            g->spec[w].n_models = x + 1;
    }
    free(data);
    return rc;
}

/* Item-item similarity needs one model with item factors (mf, ml): their inverse norms. */
static int setup_similar(hc_live_gen *g, int32_t n_items)
{
    if (g->n_models != 1 || !hc_item_factors(g->spec[0].models[0], n_items, &g->item_f, &g->dim))
        return HC_OK;
    if (!(g->item_inv_norm = malloc((size_t)n_items * sizeof *g->item_inv_norm)))
        return hc_error(HC_ENOMEM, "serve: out of memory");
    hc_item_inv_norms(g->item_f, n_items, g->dim, g->item_inv_norm);
    return HC_OK;
}

static int gen_load(const hc_live *l, uint64_t version, hc_live_gen **out)
{
    *out = NULL;
    const int32_t nw = l->n_workers, nm = l->n_paths;
    hc_live_gen *g = calloc(1, sizeof *g);
    if (!g)
        return hc_error(HC_ENOMEM, "serve: out of memory");
    g->n_workers = nw;
    g->n_models = nm;
    g->version = version;
    g->spec = calloc((size_t)nw, sizeof *g->spec);
    g->rec = calloc((size_t)nw, sizeof *g->rec);
    g->name = calloc((size_t)nm, sizeof *g->name);
    g->checksum = calloc((size_t)nm, sizeof *g->checksum);
    int rc = !g->spec || !g->rec || !g->name || !g->checksum ? HC_ENOMEM : HC_OK;
    for (int32_t w = 0; !rc && w < nw; w++) {
        g->spec[w] = l->tmpl;
        g->spec[w].n_models = 0;
        g->spec[w].owned = 1;
        if (!(g->spec[w].models = calloc((size_t)nm, sizeof *g->spec[w].models)))
            rc = HC_ENOMEM;
    }
    if (rc)
        rc = hc_error(HC_ENOMEM, "serve: out of memory");
    for (int32_t x = 0; !rc && x < nm; x++)
        rc = load_model(l, g, x);
    for (int32_t w = 0; !rc && w < nw; w++)
        rc = hc_recommend_init_spec(&g->rec[w], &g->spec[w], l->ds, l->block, NULL);
    if (!rc)
        rc = setup_similar(g, l->ds->n_items);
    if (rc) {
        gen_free(g);
        return rc;
    }
    g->loaded_at = unix_now();
    *out = g;
    return HC_OK;
}

int hc_live_init(hc_live *l, const char *const *paths, int32_t n_paths, const hc_rec_spec *spec,
                 const hc_dataset *ds, int32_t n_workers, int32_t block)
{
    memset(l, 0, sizeof *l);
    if (n_paths < 1 || n_paths > HC_REC_MAX_MODELS || n_workers < 1 || !ds)
        return hc_error(HC_EINVAL, "serve: bad model count (%d) or workers (%d)", n_paths,
                        n_workers);
    l->paths = paths;
    l->n_paths = n_paths;
    l->tmpl = *spec;
    l->tmpl.models = NULL;
    l->tmpl.n_models = 0;
    l->tmpl.owned = 0;
    l->ds = ds;
    l->n_workers = n_workers;
    l->block = block;
    if (!(l->slot = calloc((size_t)n_workers, sizeof *l->slot)))
        return hc_error(HC_ENOMEM, "serve: out of memory");
    for (int32_t w = 0; w < n_workers; w++)
        atomic_init(&l->slot[w], NULL);
    if (pthread_mutex_init(&l->reload_lock, NULL) != 0) {
        free(l->slot);
        return hc_error(HC_ENOMEM, "serve: cannot create a mutex");
    }
    if (pthread_mutex_init(&l->status_lock, NULL) != 0) {
        pthread_mutex_destroy(&l->reload_lock);
        free(l->slot);
        return hc_error(HC_ENOMEM, "serve: cannot create a mutex");
    }
    l->inited = 1;
    hc_live_gen *g = NULL;
    int rc = gen_load(l, 1, &g);
    atomic_init(&l->cur, g);
    if (rc)
        hc_live_free(l);
    return rc;
}

void hc_live_free(hc_live *l)
{
    if (!l || !l->inited)
        return;
    gen_free(atomic_load(&l->cur));
    free(l->slot);
    pthread_mutex_destroy(&l->reload_lock);
    pthread_mutex_destroy(&l->status_lock);
    memset(l, 0, sizeof *l);
}

hc_live_gen *hc_live_enter(hc_live *l, int32_t w)
{
    hc_live_gen *g;
    /* after the store, a reload that swapped earlier is seen by the re-check; one that swaps
     * later sees this slot before it frees g */
    do {
        g = atomic_load(&l->cur);
        atomic_store(&l->slot[w], g);
    } while (atomic_load(&l->cur) != g);
    return g;
}

void hc_live_leave(hc_live *l, int32_t w)
{
    atomic_store(&l->slot[w], NULL);
}

/* Blocks until no worker slot holds g (requests take micro- to milliseconds). */
static void wait_unused(hc_live *l, const hc_live_gen *g)
{
    const struct timespec nap = {0, 200000}; /* 0.2 ms */
    for (int32_t w = 0; w < l->n_workers; w++)
        while (atomic_load(&l->slot[w]) == g)
            nanosleep(&nap, NULL);
}

int hc_live_reload(hc_live *l)
{
    pthread_mutex_lock(&l->reload_lock);
    hc_live_gen *old = atomic_load(&l->cur), *g = NULL;
    int rc = gen_load(l, old->version + 1, &g);
    char msg[sizeof l->last_error] = "";
    if (rc) {
        snprintf(msg, sizeof msg, "%s", hc_errmsg() ? hc_errmsg() : hc_strerror(rc));
        hc_log(HC_LOG_WARN, "serve: reload failed, still serving version %llu: %s",
               (unsigned long long)old->version, msg);
    } else {
        atomic_store(&l->cur, g);
        wait_unused(l, old);
        gen_free(old);
        hc_log(HC_LOG_INFO, "serve: reloaded, now serving version %llu",
               (unsigned long long)g->version);
    }
    pthread_mutex_lock(&l->status_lock);
    if (rc)
        l->reloads_failed++;
    else
        l->reloads_ok++;
    l->last_reload_at = unix_now();
    memcpy(l->last_error, msg, sizeof msg);
    pthread_mutex_unlock(&l->status_lock);
    pthread_mutex_unlock(&l->reload_lock);
    return rc;
}

void hc_live_status(hc_live *l, uint64_t *ok, uint64_t *failed, double *last_at, char *msg,
                    size_t len)
{
    pthread_mutex_lock(&l->status_lock);
    *ok = l->reloads_ok;
    *failed = l->reloads_failed;
    *last_at = l->last_reload_at;
    if (len)
        snprintf(msg, len, "%s", l->last_error);
    pthread_mutex_unlock(&l->status_lock);
}
