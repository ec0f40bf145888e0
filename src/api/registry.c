/*
 * registry.c - the public view of the registries: the families of model.c's hc_model_types,
 * the methods of distill.c's hc_distiller_types, and the hyperparameter tables behind them
 * (hparams.c, fit.c's teacher loop, distill_params.c), each described with its default.
 * Every call is O(registry or table length).
 */
#include <omp.h>
#include <string.h>

#include "dense/blas.h"
#include "distill/distill.h"
#include "model/fit.h"
#include "model/model.h"

void hc_set_threads(int n)
{
    if (n <= 0)
        n = omp_get_num_procs();
    omp_set_num_threads(n);
    hc_blas_set_threads(n);
}

static int32_t count_of(const void *const *list)
{
    int32_t n = 0;
    while (list[n])
        n++;
    return n;
}

int32_t hc_family_count(void)
{
    return count_of((const void *const *)hc_model_types);
}

const char *hc_family_name(int32_t i)
{
    return i >= 0 && i < hc_family_count() ? hc_model_types[i]->name : NULL;
}

const char *hc_family_title(int32_t i)
{
    return i >= 0 && i < hc_family_count() ? hc_model_types[i]->title : NULL;
}

int32_t hc_method_count(void)
{
    return count_of((const void *const *)hc_distiller_types);
}

const char *hc_method_name(int32_t i)
{
    return i >= 0 && i < hc_method_count() ? hc_distiller_types[i]->name : NULL;
}

const char *hc_method_title(int32_t i)
{
    return i >= 0 && i < hc_method_count() ? hc_distiller_types[i]->title : NULL;
}

/* The i-th parameter of scope (NULL past the end or for an unknown scope), and the defaults
 * it is read from (in *defaults, room for any owner's struct). */
typedef union {
    hc_hparams hp;
    hc_teach_opts teach;
    hc_distill_opts distill;
} any_opts;

static const hc_param_def *scope_param(const char *scope, int32_t i, any_opts *defaults,
                                       int32_t *count)
{
    const hc_model_type *t = hc_model_type_find(scope);
    *count = -1;
    if (t) {
        hc_hparams_default(t, &defaults->hp);
        *count = 0;
        const hc_param_def *hit = NULL;
        for (int j = 0; j < hc_n_hparam_defs; j++)
            if (hc_model_type_uses(t, hc_hparam_defs[j].name) && (*count)++ == i)
                hit = &hc_hparam_defs[j];
        return hit;
    }
    if (!strcmp(scope, "teacher")) {
        hc_teach_opts_default(&defaults->teach);
        *count = hc_n_teach_params;
        return i >= 0 && i < *count ? &hc_teach_params[i] : NULL;
    }
    if (!strcmp(scope, "distill")) {
        hc_distill_opts_default(&defaults->distill);
        *count = hc_distill_n_params;
        return i >= 0 && i < *count ? &hc_distill_params[i] : NULL;
    }
    return NULL;
}

int32_t hc_param_count(const char *scope)
{
    any_opts d;
    int32_t n;
    scope_param(scope ? scope : "", -1, &d, &n);
    return n;
}

int hc_param_describe(const char *scope, int32_t i, hc_param_info *out)
{
    any_opts d;
    int32_t n;
    const hc_param_def *p = scope_param(scope ? scope : "", i, &d, &n);
    if (n < 0)
        return hc_error(HC_ENOTFOUND, "no parameter scope '%s' (a family, teacher or distill)",
                        scope ? scope : "(null)");
    if (!p)
        return hc_error(HC_ENOTFOUND, "%s has %d parameters, not %d", scope, n, i + 1);
    hc_param_info_fill(p, &d, out);
    return HC_OK;
}
