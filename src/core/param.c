/*
 * param.c - parsing, validation and text of the hyperparameter tables (see param.h).
 * Numbers are read with strtoll/strtod in full (no trailing text) and range-checked.
 */
#include "core/param.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a and b name the same parameter: equal, with '_' standing for '-'. */
static int same_name(const char *a, const char *b, size_t blen)
{
    size_t i = 0;
    for (; i < blen && a[i]; i++)
        if (a[i] != b[i] && !(a[i] == '-' && b[i] == '_'))
            return 0;
    return i == blen && !a[i];
}

static int find_n(const hc_param_def *t, int n, const char *name, size_t len)
{
    for (int i = 0; i < n; i++)
        if (same_name(t[i].name, name, len))
            return i;
    return -1;
}

int hc_param_find(const hc_param_def *t, int n, const char *name)
{
    return find_n(t, n, name, strlen(name));
}

void hc_param_choice_name(const char *names, int i, char *buf, size_t len)
{
    for (; i > 0 && names; i--)
        names = strchr(names, '|') ? strchr(names, '|') + 1 : NULL;
    size_t k = names ? strcspn(names, "|") : 0;
    snprintf(buf, len, "%.*s", (int)k, names ? names : "");
}

static int set_int(const hc_param_def *p, int32_t *field, const char *s, const char *where)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno == ERANGE)
        return hc_error(HC_EINVAL, "%s expects an integer, got '%s'", where, s);
    if ((double)v < p->lo || (double)v > p->hi)
        return hc_error(HC_EINVAL, "%s must be in [%lld, %lld], got %lld", where, (long long)p->lo,
                        (long long)p->hi, v);
    *field = (int32_t)v;
    return HC_OK;
}

static int read_number(const hc_param_def *p, const char *s, const char *where, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v))
        return hc_error(HC_EINVAL, "%s expects a number, got '%s'", where, s);
    if (v < p->lo || v > p->hi || (p->hi_open && v == p->hi))
        return hc_error(HC_EINVAL, "%s must be in [%g, %g%c, got %g", where, p->lo, p->hi,
                        p->hi_open ? ')' : ']', v);
    *out = v;
    return HC_OK;
}

static int set_u64(uint64_t *field, const char *s, const char *where)
{
    char *end;
    errno = 0;
    unsigned long long v = *s == '-' ? 0 : strtoull(s, &end, 10);
    if (*s == '-' || !*s || *end || errno == ERANGE)
        return hc_error(HC_EINVAL, "%s expects a non-negative integer, got '%s'", where, s);
    *field = v;
    return HC_OK;
}

static int set_bool(int *field, const char *s, const char *where)
{
    static const char *const on[] = {"1", "on", "true", "yes"}, *const off[] = {"0", "off", "false",
                                                                                "no"};
    for (int i = 0; i < 4; i++) {
        if (!strcmp(s, on[i]) || !strcmp(s, off[i])) {
            *field = !strcmp(s, on[i]);
            return HC_OK;
        }
    }
    return hc_error(HC_EINVAL, "%s expects on or off, got '%s'", where, s);
}

static int set_choice(const char *names, int32_t *field, const char *s, const char *where)
{
    char buf[64];
    for (int32_t i = 0;; i++) {
        hc_param_choice_name(names, i, buf, sizeof buf);
        if (!buf[0])
            return hc_error(HC_EINVAL, "%s takes one of %s, not '%s'", where, names, s);
        if (!strcmp(buf, s)) {
            *field = i;
            return HC_OK;
        }
    }
}

int hc_param_set(const hc_param_def *p, void *obj, const char *value, const char *where)
{
    void *field = (char *)obj + p->off;
    if (!value) {
        if (p->kind != HC_PARAM_BOOL)
            return hc_error(HC_EINVAL, "%s needs a value", where);
        *(int *)field = 1;
        return HC_OK;
    }
    switch (p->kind) {
    case HC_PARAM_INT:
        return set_int(p, field, value, where);
    case HC_PARAM_FLOAT:
    case HC_PARAM_DOUBLE: {
        double v;
        int rc = read_number(p, value, where, &v);
        if (rc == HC_OK && p->kind == HC_PARAM_FLOAT)
            *(float *)field = (float)v;
        else if (rc == HC_OK)
            *(double *)field = v;
        return rc;
    }
    case HC_PARAM_U64:
        return set_u64(field, value, where);
    case HC_PARAM_CHOICE:
        return set_choice(p->meta, field, value, where);
    default:
        return set_bool(field, value, where);
    }
}

int hc_param_apply(const hc_param_def *t, int n, void *obj, const char *const *kv,
                   const char *scope)
{
    for (; kv && *kv; kv++) {
        const char *eq = strchr(*kv, '=');
        if (!eq)
            return hc_error(HC_EINVAL, "%s: '%s' is not name=value", scope, *kv);
        int i = find_n(t, n, *kv, (size_t)(eq - *kv));
        if (i < 0)
            return hc_error(HC_EINVAL, "%s has no parameter '%.*s'", scope, (int)(eq - *kv), *kv);
        char where[128];
        snprintf(where, sizeof where, "%s parameter %s", scope, t[i].name);
        int rc = hc_param_set(&t[i], obj, eq + 1, where);
        if (rc != HC_OK)
            return rc;
    }
    return HC_OK;
}

void hc_param_float_text(float x, char *buf, size_t len)
{
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, len, "%.*g", digits, (double)x);
        if ((float)strtod(buf, NULL) == x)
            return;
    }
}

void hc_param_format(const hc_param_def *p, const void *obj, char *buf, size_t len)
{
    const void *field = (const char *)obj + p->off;
    switch (p->kind) {
    case HC_PARAM_INT:
        snprintf(buf, len, "%d", *(const int32_t *)field);
        break;
    case HC_PARAM_FLOAT:
        hc_param_float_text(*(const float *)field, buf, len);
        break;
    case HC_PARAM_DOUBLE:
        snprintf(buf, len, "%.15g", *(const double *)field);
        break;
    case HC_PARAM_U64:
        snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)field);
        break;
    case HC_PARAM_CHOICE:
        hc_param_choice_name(p->meta, *(const int32_t *)field, buf, len);
        break;
    default:
        snprintf(buf, len, "%s", *(const int *)field ? "on" : "off");
    }
}

void hc_param_info_fill(const hc_param_def *p, const void *defaults, hc_param_info *out)
{
    static const char *const kinds[] = {"int", "float", "double", "u64", "bool"};
    memset(out, 0, sizeof *out);
    out->name = p->name;
    out->type = p->kind == HC_PARAM_CHOICE ? p->meta : kinds[p->kind];
    out->lo = p->lo;
    out->hi = p->hi;
    out->help = p->help;
    hc_param_format(p, defaults, out->def, sizeof out->def);
}
