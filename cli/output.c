/*
 * output.c - what the subcommands write besides plain text: metrics as JSON objects, JSON
 * documents written atomically, output directories (with their parents), and the metrics
 * table rows.
 */
#include <stdio.h>

#include "cli.h"

json_t *cli_metrics_json(const hc_metrics *m)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    for (int j = 0; j < HC_EVAL_NK; j++) {
        char key[32];
        snprintf(key, sizeof key, "recall@%d", hc_eval_ks[j]);
        bad |= json_object_set_new(o, key, json_real(m->recall[j]));
        snprintf(key, sizeof key, "ndcg@%d", hc_eval_ks[j]);
        bad |= json_object_set_new(o, key, json_real(m->ndcg[j]));
    }
    bad |= json_object_set_new(o, "n_users", json_integer(m->n_users));
    if (m->n_evaluable > m->n_users) /* a sample of the evaluable users */
        bad |= json_object_set_new(o, "of_users", json_integer(m->n_evaluable));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void cli_eval_sample_note(const char *label, const hc_metrics *m, int *said)
{
    if (*said || m->n_evaluable <= m->n_users)
        return;
    *said = 1;
    fprintf(stderr,
            "[%s] metrics on a fixed seeded sample of %d of the %d evaluable users "
            "(--eval-users)\n",
            label, m->n_users, m->n_evaluable);
}

int cli_metrics_from_json(const json_t *o, hc_metrics *m)
{
    for (int j = 0; j < HC_EVAL_NK; j++) {
        char key[32];
        snprintf(key, sizeof key, "recall@%d", hc_eval_ks[j]);
        const json_t *r = json_object_get(o, key);
        snprintf(key, sizeof key, "ndcg@%d", hc_eval_ks[j]);
        const json_t *n = json_object_get(o, key);
        if (!json_is_number(r) || !json_is_number(n))
            return -1;
        m->recall[j] = json_number_value(r);
        m->ndcg[j] = json_number_value(n);
    }
    const json_t *nu = json_object_get(o, "n_users");
    if (!json_is_integer(nu))
        return -1;
    m->n_users = (int32_t)json_integer_value(nu);
    const json_t *of = json_object_get(o, "of_users");
    m->n_evaluable = json_is_integer(of) ? (int32_t)json_integer_value(of) : m->n_users;
    return 0;
}

int cli_result_from_json(const json_t *o, hc_eval_result *r)
{
    return cli_metrics_from_json(json_object_get(o, "valid"), &r->valid) ||
                   cli_metrics_from_json(json_object_get(o, "test"), &r->test)
               ? -1
               : 0;
}

json_t *cli_result_json(const hc_eval_result *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (json_object_set_new(o, "valid", cli_metrics_json(&r->valid)) ||
        json_object_set_new(o, "test", cli_metrics_json(&r->test))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int cli_json_write(json_t *root, const char *path)
{
    if (!root)
        return hc_error(HC_ENOMEM, "%s: out of memory building the JSON output", path);
    hc_afile af;
    int rc = hc_afile_open(&af, path);
    if (rc)
        return rc;
    if (json_dumpf(root, af.fp, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0 ||
        fputc('\n', af.fp) == EOF) {
        hc_afile_abort(&af);
        return hc_error(HC_EIO, "%s: write failed", path);
    }
    return hc_afile_commit(&af);
}

int cli_make_dir(const char *dir)
{
    return hc_make_dirs(dir);
}

void cli_print_metrics_header(FILE *fp, const char *first)
{
    fprintf(fp, "%-10s", first);
    for (int j = 0; j < HC_EVAL_NK; j++)
        fprintf(fp, " R@%-5d N@%-5d", hc_eval_ks[j], hc_eval_ks[j]);
    fprintf(fp, " users\n");
}

void cli_print_metrics_row(FILE *fp, const char *name, const hc_metrics *m)
{
    fprintf(fp, "%-10s", name);
    for (int j = 0; j < HC_EVAL_NK; j++)
        fprintf(fp, " %-7.4f %-7.4f", m->recall[j], m->ndcg[j]);
    fprintf(fp, " %d\n", m->n_users);
}

/* Seconds as "42s", "3m05s" or "1h02m". */
static void span(char *buf, size_t n, double s)
{
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t < 60)
        snprintf(buf, n, "%lds", t);
    else if (t < 3600)
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
}

void cli_progress_bar(const char *label, int32_t done, int32_t cap, double loss, double secs,
                      double elapsed)
{
    char bar[21], el[48], eta[48];
    int fill = cap > 0 ? (int)(20.0 * done / cap) : 0;
    for (int k = 0; k < 20; k++)
        bar[k] = k < fill ? '#' : '.';
    bar[20] = '\0';
    span(el, sizeof el, elapsed);
    span(eta, sizeof eta, secs * (cap - done));
    fprintf(stderr, "\r\033[K[%s] [%s] %d/%d  loss %.4g  %.2fs/epoch  elapsed %s  ETA <= %s", label,
            bar, done, cap, loss, secs, el, eta);
    fflush(stderr);
}
