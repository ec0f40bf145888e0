/*
 * param.h - self-describing hyperparameter tables: each model family and each distillation
 * method declares its hyperparameters once, as an array of hc_param_def over a struct it owns
 * (name, type, offset, range, help). Parsing and validation of "name=value" text, the text of
 * a value, the public descriptions (hc_param_describe) and the CLI's flags and --help all come
 * from that one table. Every function is O(table length) at most.
 */
#ifndef HC_PARAM_H
#define HC_PARAM_H

#include <stddef.h>

#include "core/internal.h"

enum {
    HC_PARAM_INT,
    HC_PARAM_FLOAT,
    HC_PARAM_DOUBLE,
    HC_PARAM_U64,
    HC_PARAM_BOOL,
    HC_PARAM_CHOICE
};

typedef struct {
    const char *name;    /* key of name=value, and the CLI flag without "--" */
    const char *meta;    /* value placeholder in help ("N", "X"); HC_PARAM_CHOICE: "a|b|c" */
    int kind;            /* HC_PARAM_*: int32_t, float, double, uint64_t, int (0/1), int32_t */
    size_t off;          /* offsetof the field in the owner's struct */
    double lo, hi;       /* accepted range of INT, FLOAT and DOUBLE values */
    const char *help;    /* one line, stating the choice (its reason lives in docs/) */
    const char *section; /* CLI help heading printed before the parameter, or NULL */
    int hi_open;         /* 1: hi itself is refused, the range is [lo, hi) */
} hc_param_def;

/* The index of name in t[0..n), or -1. '_' matches '-' (so "rest_group" finds "rest-group"). */
int hc_param_find(const hc_param_def *t, int n, const char *name);
/* Parses value into p's field of obj, range-checked; value NULL sets a BOOL on. HC_EINVAL with
 * a message starting with where (e.g. "--rest-group") on a malformed or out-of-range value. */
int hc_param_set(const hc_param_def *p, void *obj, const char *value, const char *where);
/* Applies "name=value" strings kv[0..] (NULL-terminated; kv may be NULL) to obj. HC_EINVAL
 * naming scope and the parameter for an unknown name, a missing '=' or a bad value. */
int hc_param_apply(const hc_param_def *t, int n, void *obj, const char *const *kv,
                   const char *scope);
/* p's value in obj as text ("32", "0.001", "sampled", "on"): what hc_param_set reads back. */
void hc_param_format(const hc_param_def *p, const void *obj, char *buf, size_t len);
/* x as the shortest decimal that reads back as it ("0.001", not "0.001000000047"). */
void hc_param_float_text(float x, char *buf, size_t len);
/* The name of choice i among names "a|b|c" into buf ("" past the end). */
void hc_param_choice_name(const char *names, int i, char *buf, size_t len);
/* Fills the public description of p, with its value in defaults as the default. */
void hc_param_info_fill(const hc_param_def *p, const void *defaults, hc_param_info *out);

#endif
