/*
 * report_data.c - the rows of the run report: every stage's JSON under the run directory
 * (teachers/<family>/log.json, ensemble/ensemble.json, students/<method>/log.json,
 * latency/<model>.json, run.json), teachers in the registry's order. O(stages).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "model/model.h"
#include "report_internal.h"

json_t *report_load_json(const char *dir, const char *rel)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    if (access(p, R_OK) != 0)
        return NULL;
    json_error_t err;
    json_t *j = json_load_file(p, 0, &err);
    if (!j)
        hc_log(HC_LOG_WARN, "%s:%d: unreadable JSON (%s); left out of the report", p, err.line,
               err.text);
    return j;
}

double report_num(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    return json_is_number(v) ? json_number_value(v) : -1.0;
}

/* The one shape every stage's log gives its metrics in: {"valid": {...}, "test": {...}}
 * (cli_result_json), as "best" of a teacher's or student's log.json and as "metrics" of its
 * evaluation rows and of the ensemble's table rows. */
static void log_metrics(json_t *m, report_row *w)
{
    w->valid = json_object_get(m, "valid");
    w->test = json_object_get(m, "test");
}

static int family_rank(const char *name)
{
    for (int i = 0; hc_model_types[i]; i++) /* the registry's order, others after by name */
        if (!strcmp(name, hc_model_types[i]->name))
            return i;
    return 100;
}

static int cmp_family(const void *a, const void *b)
{
    const report_row *x = a, *y = b;
    int rx = family_rank(x->name), ry = family_rank(y->name);
    return rx != ry ? rx - ry : strcmp(x->name, y->name);
}

static report_row *add_row(report *r, const char *name, const char *label)
{
    if (r->n_rows == MAX_ROWS)
        return NULL;
    report_row *w = &r->rows[r->n_rows++];
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s", name);
    w->label = label;
    w->params = -1.0;
    char rel[160];
    snprintf(rel, sizeof rel, "latency/%s.json", name);
    w->lat = report_load_json(r->dir, rel);
    return w;
}

/* A row from the stage log at rel (its best metrics and parameters), or NULL when the stage
 * has not written it. */
static report_row *add_log_row(report *r, const char *rel, const char *name, const char *label)
{
    json_t *log = report_load_json(r->dir, rel);
    report_row *w = log ? add_row(r, name, label) : NULL;
    if (!w) {
        json_decref(log);
        return NULL;
    }
    w->log = log;
    log_metrics(json_object_get(log, "best"), w);
    w->params = report_num(log, "params");
    return w;
}

static void load_teachers(report *r)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/teachers", r->dir);
    DIR *d = opendir(p);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char rel[512];
        if (e->d_name[0] == '.' || strlen(e->d_name) >= 64)
            continue;
        snprintf(rel, sizeof rel, "teachers/%s/log.json", e->d_name);
        add_log_row(r, rel, e->d_name, "teacher");
    }
    if (d)
        closedir(d);
    r->n_teachers = r->n_rows;
    qsort(r->rows, (size_t)r->n_rows, sizeof r->rows[0], cmp_family);
}

static void load_rest(report *r)
{
    r->ens = r->bpr = r->het = -1;
    json_t *ens = report_load_json(r->dir, "ensemble/ensemble.json");
    json_t *row;
    size_t i;
    json_array_foreach(json_object_get(ens, "rows"), i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "name")) ?: "", "ensemble") != 0)
            continue;
        report_row *w = add_row(r, "ensemble", "ensemble of all teachers (final checkpoints)");
        if (!w)
            break;
        w->log = ens;
        ens = NULL;
        log_metrics(json_object_get(row, "metrics"), w);
        w->params = 0.0;
        for (int t = 0; t < r->n_teachers; t++)
            w->params += r->rows[t].params;
        r->ens = r->n_rows - 1;
        break;
    }
    json_decref(ens);
    static const char *const methods[] = {"bpr", "hetcomp"};
    static const char *const labels[] = {"student without distillation (BPR)", "HetComp student"};
    for (int m = 0; m < 2; m++) {
        char rel[64];
        snprintf(rel, sizeof rel, "students/%s/log.json", methods[m]);
        if (add_log_row(r, rel, methods[m], labels[m]))
            *(m ? &r->het : &r->bpr) = r->n_rows - 1;
    }
    r->run = report_load_json(r->dir, "run.json");
    r->stats = report_load_json(r->dir, "stats.json");
    r->pop = -1;
    json_t *pop = report_load_json(r->dir, "popularity.json");
    report_row *w = pop ? add_row(r, "pop", "popularity (items by their train users)") : NULL;
    if (w) {
        w->log = pop;
        log_metrics(json_object_get(pop, "metrics"), w);
        w->params = 0.0;
        r->pop = r->n_rows - 1;
    } else {
        json_decref(pop);
    }
}

void report_free(report *r)
{
    for (int i = 0; i < r->n_rows; i++) {
        json_decref(r->rows[i].log);
        json_decref(r->rows[i].lat);
    }
    json_decref(r->run);
    json_decref(r->stats);
}

void report_load(report *r, const char *dir)
{
    memset(r, 0, sizeof *r);
    r->dir = dir;
    load_teachers(r);
    load_rest(r);
}
