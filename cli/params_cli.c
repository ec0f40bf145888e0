/*
 * params_cli.c - flags, help and JSON from the hyperparameter tables (see params_cli.h).
 */
#include "params_cli.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_params_longopts(const hc_param_def *t, int n, int code0, struct option *out)
{
    for (int f = 0; f < n; f++)
        out[f] = (struct option){
            t[f].name, t[f].kind == HC_PARAM_BOOL ? no_argument : required_argument, 0, code0 + f};
}

int cli_param_arg(const char *cmd, const hc_param_def *p, void *obj, const char *arg)
{
    char where[64];
    snprintf(where, sizeof where, "--%s", p->name);
    if (hc_param_set(p, obj, p->kind == HC_PARAM_BOOL ? NULL : arg, where) != HC_OK)
        return cli_usage_error(cmd, "%s", hc_errmsg());
    return 0;
}

/* Prints text word-wrapped to 80 columns, continuation lines indented by 22. */
static void wrapped(FILE *fp, const char *text)
{
    int col = 22;
    while (*text) {
        const char *sp = strchr(text, ' ');
        int w = sp ? (int)(sp - text) : (int)strlen(text);
        if (col > 22 && col + 1 + w > 80) {
            fprintf(fp, "\n%22s", "");
            col = 22;
        } else if (col > 22) {
            fputc(' ', fp);
            col++;
        }
        fprintf(fp, "%.*s", w, text);
        col += w;
        text += w;
        while (*text == ' ')
            text++;
    }
    fputc('\n', fp);
}

void cli_help_line(FILE *fp, const char *flag, const char *help)
{
    if ((int)strlen(flag) > 19)
        fprintf(fp, "  %s\n%22s", flag, "");
    else
        fprintf(fp, "  %-19s ", flag);
    wrapped(fp, help);
}

void cli_params_help(FILE *fp, const hc_param_def *t, int n, const void *defaults,
                     cli_param_keep keep, const void *ud)
{
    for (int f = 0; f < n; f++) {
        const hc_param_def *s = &t[f];
        if (keep && !keep(s, ud))
            continue;
        char name[64], def[64], text[512];
        if (s->section)
            fprintf(fp, "\n%s\n", s->section);
        snprintf(name, sizeof name, "--%s%s%s", s->name, s->meta ? " " : "",
                 s->meta ? s->meta : "");
        hc_param_format(s, defaults, def, sizeof def);
        if (s->kind == HC_PARAM_BOOL)
            snprintf(text, sizeof text, "%s", s->help);
        else
            snprintf(text, sizeof text, "%s (%s)", s->help, def);
        cli_help_line(fp, name, text);
    }
}

/* A float as the shortest decimal that reads back as it. */
static double float_json(float x)
{
    char buf[32];
    hc_param_float_text(x, buf, sizeof buf);
    return strtod(buf, NULL);
}

static json_t *value_json(const hc_param_def *s, const void *obj)
{
    const void *field = (const char *)obj + s->off;
    char name[64];
    switch (s->kind) {
    case HC_PARAM_CHOICE:
        hc_param_choice_name(s->meta, *(const int32_t *)field, name, sizeof name);
        return json_string(name);
    case HC_PARAM_INT:
        return json_integer(*(const int32_t *)field);
    case HC_PARAM_FLOAT:
        return json_real(float_json(*(const float *)field));
    case HC_PARAM_DOUBLE:
        return json_real(*(const double *)field);
    case HC_PARAM_U64:
        return json_integer((json_int_t) * (const uint64_t *)field);
    default:
        return json_boolean(*(const int *)field);
    }
}

json_t *cli_params_json(const hc_param_def *t, int n, const void *obj, cli_param_keep keep,
                        const void *ud)
{
    json_t *j = json_object();
    for (int f = 0; j && f < n; f++) {
        if (keep && !keep(&t[f], ud))
            continue;
        if (json_object_set_new(j, t[f].name, value_json(&t[f], obj))) {
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

int cli_family_reads(const hc_param_def *p, const void *ud)
{
    return hc_model_type_uses(ud, p->name);
}

json_t *cli_hparams_json(const hc_model_type *t, const hc_hparams *hp)
{
    return cli_params_json(hc_hparam_defs, hc_n_hparam_defs, hp, cli_family_reads, t);
}
