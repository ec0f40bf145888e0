/*
 * report.c - the HTML report of a run directory (see report.h). Reads the JSON every stage
 * wrote (teachers/<family>/log.json, ensemble/ensemble.json, students/<method>/log.json,
 * latency/<model>.json, run.json), draws the plots with gnuplot (SVG terminal) in a scratch
 * directory inside the run directory, and writes one page with the plots as base64 data URIs.
 */
#include "report.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "model/model.h"
#include "stage.h"

#define MAX_ROWS 40

typedef struct {
    char name[64];     /* teacher family, "ensemble", "bpr", "hetcomp" */
    const char *label; /* what the table calls it */
    json_t *log;       /* the stage's JSON (owned), NULL when missing */
    json_t *test;      /* borrowed from log: the test metrics at the best validation */
    json_t *valid;
    json_t *lat; /* latency/<name>.json (owned), may be NULL */
    double params;
} report_row;

typedef struct {
    const char *dir;
    report_row rows[MAX_ROWS];
    int n_rows, n_teachers; /* teachers are rows[0..n_teachers) */
    int ens, bpr, het;      /* row indices or -1 */
    json_t *run;            /* run.json (owned), may be NULL */
} report;

static json_t *load_json(const char *dir, const char *rel)
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

static double num(json_t *j, const char *key)
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
    w->lat = load_json(r->dir, rel);
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
        json_t *log = load_json(r->dir, rel);
        report_row *w = log ? add_row(r, e->d_name, "teacher") : NULL;
        if (!w) {
            json_decref(log);
            continue;
        }
        w->log = log;
        log_metrics(json_object_get(log, "best"), w);
        w->params = num(log, "params");
    }
    if (d)
        closedir(d);
    r->n_teachers = r->n_rows;
    qsort(r->rows, (size_t)r->n_rows, sizeof r->rows[0], cmp_family);
}

static void load_rest(report *r)
{
    r->ens = r->bpr = r->het = -1;
    json_t *ens = load_json(r->dir, "ensemble/ensemble.json");
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
        json_t *log = load_json(r->dir, rel);
        report_row *w = log ? add_row(r, methods[m], labels[m]) : NULL;
        if (!w) {
            json_decref(log);
            continue;
        }
        w->log = log;
        log_metrics(json_object_get(log, "best"), w);
        w->params = num(log, "params");
        *(m ? &r->het : &r->bpr) = r->n_rows - 1;
    }
    r->run = load_json(r->dir, "run.json");
}

static void report_free(report *r)
{
    for (int i = 0; i < r->n_rows; i++) {
        json_decref(r->rows[i].log);
        json_decref(r->rows[i].lat);
    }
    json_decref(r->run);
}

/* ---- HTML helpers ---- */

static void esc(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", fp);
            break;
        case '>':
            fputs("&gt;", fp);
            break;
        case '&':
            fputs("&amp;", fp);
            break;
        case '"':
            fputs("&quot;", fp);
            break;
        default:
            fputc(*s, fp);
        }
    }
}

static void cell_num(FILE *fp, double v, const char *fmt)
{
    fputs("<td>", fp);
    if (v >= 0.0)
        fprintf(fp, fmt, v);
    else
        fputs("&ndash;", fp);
    fputs("</td>", fp);
}

static void cell_params(FILE *fp, double p)
{
    if (p < 0.0)
        fputs("<td>&ndash;</td>", fp);
    else if (p >= 1e6)
        fprintf(fp, "<td>%.2f M</td>", p / 1e6);
    else
        fprintf(fp, "<td>%.1f k</td>", p / 1e3);
}

/* Base64 of a file as an <img> data URI; returns 0 when the file cannot be read. */
static int img_data_uri(FILE *fp, const char *path, const char *alt)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    FILE *in = fopen(path, "rb");
    if (!in)
        return 0;
    fputs("<img alt=\"", fp);
    esc(fp, alt);
    fputs("\" src=\"data:image/svg+xml;base64,", fp);
    unsigned char b[3];
    size_t n;
    while ((n = fread(b, 1, 3, in)) > 0) {
        unsigned v = (unsigned)b[0] << 16 | (n > 1 ? (unsigned)b[1] << 8 : 0u) |
                     (n > 2 ? (unsigned)b[2] : 0u);
        fputc(b64[v >> 18 & 63], fp);
        fputc(b64[v >> 12 & 63], fp);
        fputc(n > 1 ? b64[v >> 6 & 63] : '=', fp);
        fputc(n > 2 ? b64[v & 63] : '=', fp);
    }
    fclose(in);
    fputs("\">\n", fp);
    return 1;
}

/* ---- plots ---- */

typedef struct {
    char dir[4200]; /* scratch directory */
    int ok;         /* gnuplot ran */
    char why[256];  /* why there are no plots */
} plots;

static FILE *scratch_file(const plots *pl, const char *name)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", pl->dir, name);
    return fopen(p, "w");
}

/* epoch and validation R@50 of every evaluation of a student log into name. */
static int write_student_curve(const plots *pl, json_t *log, const char *name)
{
    FILE *fp = scratch_file(pl, name);
    if (!fp)
        return 0;
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(log, "evaluations"), i, e)
    {
        json_t *v = json_object_get(json_object_get(e, "metrics"), "valid");
        fprintf(fp, "%g %g\n", num(e, "epoch"), num(v, "recall@50"));
    }
    fclose(fp);
    return 1;
}

/* Writes the data files and the gnuplot script; returns the number of plots. */
static int write_plot_inputs(const report *r, const plots *pl)
{
    FILE *gp = scratch_file(pl, "plots.gp");
    if (!gp)
        return 0;
    int n = 0;
    fputs("set terminal svg size 760,420 dynamic noenhanced font 'Helvetica,13' background rgb "
          "'white'\n"
          "set grid lc rgb '#dddddd'\nset border lc rgb '#555555'\nset key outside right top\n"
          "set xlabel 'epoch'\n",
          gp);
    /* 1: students' validation R@50 */
    if (r->bpr >= 0 || r->het >= 0) {
        const char *sep = "plot ";
        fputs("set output 'students.svg'\nset ylabel 'validation Recall@50'\n"
              "set yrange [0:*]\n",
              gp);
        if (r->het >= 0 && write_student_curve(pl, r->rows[r->het].log, "hetcomp.dat")) {
            fprintf(gp,
                    "%s'hetcomp.dat' w lp pt 7 ps 0.5 lw 2 lc rgb '#d62728' t 'HetComp student'",
                    sep);
            sep = ", ";
        }
        if (r->bpr >= 0 && write_student_curve(pl, r->rows[r->bpr].log, "bpr.dat")) {
            fprintf(gp, "%s'bpr.dat' w lp pt 5 ps 0.5 lw 2 lc rgb '#1f77b4' t 'student without KD'",
                    sep);
            sep = ", ";
        }
        if (r->ens >= 0) {
            fprintf(gp, "%s%g w l dt 2 lw 2 lc rgb '#2ca02c' t 'ensemble'", sep,
                    num(r->rows[r->ens].valid, "recall@50"));
            sep = ", ";
        }
        int best = -1;
        for (int t = 0; t < r->n_teachers; t++)
            if (best < 0 ||
                num(r->rows[t].valid, "recall@50") > num(r->rows[best].valid, "recall@50"))
                best = t;
        if (best >= 0)
            fprintf(gp, "%s%g w l dt 3 lw 2 lc rgb '#7f7f7f' t 'best teacher (%s)'", sep,
                    num(r->rows[best].valid, "recall@50"), r->rows[best].name);
        fputs("\n", gp);
        n++;
    }
    /* 2: mean DKC checkpoint per teacher */
    json_t *tn = r->het >= 0 ? json_object_get(r->rows[r->het].log, "teachers") : NULL;
    if (json_array_size(tn) > 0) {
        FILE *fp = scratch_file(pl, "dkc.dat");
        if (fp) {
            json_t *e, *c;
            size_t i, j;
            json_array_foreach(json_object_get(r->rows[r->het].log, "evaluations"), i, e)
            {
                fprintf(fp, "%g", num(e, "epoch"));
                json_array_foreach(json_object_get(e, "mean_ckpt"), j, c)
                    fprintf(fp, " %g", json_number_value(c));
                fputc('\n', fp);
            }
            fclose(fp);
            fputs("set output 'dkc.svg'\nset ylabel 'mean checkpoint index (DKC)'\n"
                  "set yrange [-0.1:*]\nplot ",
                  gp);
            json_array_foreach(tn, i, c)
                fprintf(gp, "%s'dkc.dat' u 1:%zu w lp pt 7 ps 0.4 lw 2 t '%s'", i ? ", " : "",
                        i + 2, json_string_value(c) ?: "?");
            fputs("\n", gp);
            n++;
        }
    }
    /* 3: teachers' learning curves and their trajectory checkpoints */
    if (r->n_teachers > 0) {
        fputs("set output 'teachers.svg'\nset ylabel 'validation Recall@50'\nset yrange [0:*]\n"
              "plot ",
              gp);
        for (int t = 0; t < r->n_teachers; t++) {
            char f[96], g[96];
            snprintf(f, sizeof f, "t_%s.dat", r->rows[t].name);
            snprintf(g, sizeof g, "c_%s.dat", r->rows[t].name);
            FILE *a = scratch_file(pl, f), *b = scratch_file(pl, g);
            json_t *e;
            size_t i;
            json_array_foreach(json_object_get(r->rows[t].log, "evaluations"), i, e) if (a)
                fprintf(a, "%g %g\n", num(e, "epoch"),
                        num(json_object_get(json_object_get(e, "metrics"), "valid"), "recall@50"));
            json_array_foreach(json_object_get(r->rows[t].log, "checkpoints"), i, e) if (b)
                fprintf(b, "%g %g\n", num(e, "epoch"), num(e, "valid_R@50"));
            if (a)
                fclose(a);
            if (b)
                fclose(b);
            fprintf(gp, "%s'%s' w l lw 2 lc %d t '%s', '%s' w p pt 7 ps 1.2 lc %d notitle",
                    t ? ", " : "", f, t + 1, r->rows[t].name, g, t + 1);
        }
        fputs("\n", gp);
        n++;
    }
    fclose(gp);
    return n;
}

static void make_plots(const report *r, plots *pl)
{
    memset(pl, 0, sizeof *pl);
    snprintf(pl->dir, sizeof pl->dir, "%s/.report.XXXXXX", r->dir);
    if (!mkdtemp(pl->dir)) {
        snprintf(pl->why, sizeof pl->why, "no scratch directory for the plots");
        pl->dir[0] = '\0';
        return;
    }
    if (write_plot_inputs(r, pl) == 0) {
        snprintf(pl->why, sizeof pl->why, "nothing to plot yet");
        return;
    }
    const char *argv[] = {"gnuplot", "plots.gp", NULL};
    char err[4400];
    snprintf(err, sizeof err, "%s/gnuplot.out", pl->dir);
    int status = -1;
    if (cli_spawn("gnuplot", argv, pl->dir, err, 1, &status) != HC_OK || status == 127) {
        snprintf(pl->why, sizeof pl->why,
                 "gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
        hc_log(HC_LOG_WARN, "report: %s; writing it without plots", pl->why);
        return;
    }
    if (status != 0) {
        snprintf(pl->why, sizeof pl->why, "gnuplot failed (exit %d)", status);
        hc_log(HC_LOG_WARN, "report: %s", pl->why);
    }
    pl->ok = 1;
}

static void remove_scratch(plots *pl)
{
    if (!pl->dir[0])
        return;
    DIR *d = opendir(pl->dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[4700];
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", pl->dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(pl->dir);
}

static void figure(FILE *fp, const plots *pl, const char *file, const char *caption)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", pl->dir, file);
    if (!pl->ok || access(p, R_OK) != 0)
        return;
    fputs("<figure>", fp);
    img_data_uri(fp, p, caption);
    fputs("<figcaption>", fp);
    esc(fp, caption);
    fputs("</figcaption></figure>\n", fp);
}

/* ---- the page ---- */

static const char *const css =
    "body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222;"
    "padding:0 1em}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px "
    "solid #ddd}table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{padding:.3em "
    ".5em;text-align:"
    "right;border-bottom:1px solid "
    "#eee;white-space:nowrap}th{background:#f4f4f4;white-space:normal}td:first-child,th:first-"
    "child{"
    "text-align:left}tr.hl td{font-weight:bold;background:#fff6e6}.note{color:#666;font-size:"
    ".9em}figure{margin:1em 0}figcaption{color:#555;font-size:.9em}img{max-width:100%}"
    ".big{font-size:1.1em}";

static void write_summary(FILE *fp, const report *r)
{
    if (r->het < 0 || r->ens < 0)
        return;
    const report_row *h = &r->rows[r->het], *e = &r->rows[r->ens];
    double hr = num(h->test, "recall@50"), er = num(e->test, "recall@50");
    fputs("<p class=\"big\">", fp);
    if (hr > 0 && er > 0 && h->params > 0 && e->params > 0)
        fprintf(fp,
                "The HetComp student reaches test Recall@50 <b>%.4f</b>, %.0f%% of the "
                "ensemble's %.4f, with %.0fx fewer parameters",
                hr, 100.0 * hr / er, er, e->params / h->params);
    if (r->bpr >= 0) {
        double br = num(r->rows[r->bpr].test, "recall@50");
        if (br > 0)
            fprintf(fp,
                    "; the same student without distillation reaches %.4f (%+.0f%% for "
                    "HetComp)",
                    br, 100.0 * (hr / br - 1.0));
    }
    double ep = num(e->lat, "p50_us"), hp = num(h->lat, "p50_us");
    if (ep > 0 && hp > 0)
        fprintf(fp,
                ". A single-user query costs %.0f &micro;s (median) against %.0f &micro;s for "
                "the teacher ensemble (%.0fx faster)",
                hp, ep, ep / hp);
    fputs(".</p>\n", fp);
}

static void write_table(FILE *fp, const report *r)
{
    fputs("<table><tr><th>model</th><th>params</th><th>R@10</th><th>N@10</th><th>R@50</th>"
          "<th>N@50</th><th>epochs (best)</th><th>train s/epoch</th><th>query p50 (&micro;s)</th>"
          "<th>query p99 (&micro;s)</th><th>all users top-50 (s)</th></tr>\n",
          fp);
    for (int i = 0; i < r->n_rows; i++) {
        const report_row *w = &r->rows[i];
        fprintf(fp, "<tr%s><td>", i == r->het ? " class=\"hl\"" : "");
        if (i < r->n_teachers)
            fputs("teacher ", fp);
        esc(fp, i < r->n_teachers ? w->name : w->label);
        fputs("</td>", fp);
        cell_params(fp, w->params);
        cell_num(fp, num(w->test, "recall@10"), "%.4f");
        cell_num(fp, num(w->test, "ndcg@10"), "%.4f");
        cell_num(fp, num(w->test, "recall@50"), "%.4f");
        cell_num(fp, num(w->test, "ndcg@50"), "%.4f");
        double ep = num(w->log, "epochs"), be = num(w->log, "best_epoch");
        if (ep >= 0 && i != r->ens)
            fprintf(fp, "<td>%.0f (%.0f)</td>", ep, be);
        else
            fputs("<td>&ndash;</td>", fp);
        cell_num(fp, i == r->ens ? -1.0 : num(w->log, "train_s_per_epoch"), "%.3f");
        cell_num(fp, num(w->lat, "p50_us"), "%.0f");
        cell_num(fp, num(w->lat, "p99_us"), "%.0f");
        cell_num(fp, num(w->lat, "all_users_s"), "%.2f");
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n<p class=\"note\">Test metrics at the best validation Recall@50 (full "
          "ranking over all items, train items excluded). The ensemble is the rank-importance "
          "aggregation of the teachers' final top-100 lists; its query latency is measured live "
          "(every teacher scores the user, then the lists are aggregated). Latency: single-user "
          "queries in process, one thread, top-50; all users: every user's top-50 in blocks of "
          "64 users, one thread.</p>\n",
          fp);
    for (int i = 0; i < r->n_rows; i++) {
        const report_row *w = &r->rows[i];
        double of = num(w->test, "of_users");
        if (of > 0) {
            fprintf(fp,
                    "<p class=\"note\">Metrics on a fixed seeded sample of %.0f of the %.0f "
                    "evaluable users (<code>--eval-users</code>; the same users for every model "
                    "of the run).</p>\n",
                    num(w->test, "n_users"), of);
            break;
        }
    }
}

static void write_checkpoints(FILE *fp, const report *r)
{
    fputs("<table><tr><th>teacher</th><th>checkpoints (epoch: validation R@50)</th></tr>\n", fp);
    for (int t = 0; t < r->n_teachers; t++) {
        fputs("<tr><td>", fp);
        esc(fp, r->rows[t].name);
        fputs("</td><td>", fp);
        json_t *e;
        size_t i;
        json_array_foreach(json_object_get(r->rows[t].log, "checkpoints"), i, e)
            fprintf(fp, "%s%.0f: %.4f", i ? " &rarr; " : "", num(e, "epoch"), num(e, "valid_R@50"));
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
}

/* The `hetcomp compare` table of RUN/compare/compare.json, when the run has one. */
static void write_compare(FILE *fp, const report *r)
{
    json_t *c = load_json(r->dir, "compare/compare.json");
    json_t *methods = json_object_get(c, "methods");
    if (!json_array_size(methods)) {
        json_decref(c);
        return;
    }
    static const char *const keys[] = {"test_R@10", "test_N@10", "test_R@50", "test_N@50"};
    fprintf(fp,
            "<h2>Distillation methods compared</h2>\n<p class=\"note\">hetcomp compare, "
            "%.0f seed(s) per method: mean &plusmn; standard deviation of the test metrics at "
            "the best validation Recall@50.</p>\n<table><tr><th>method</th><th>R@10</th>"
            "<th>N@10</th><th>R@50</th><th>N@50</th><th>epochs</th><th>train s</th></tr>\n",
            num(c, "seeds"));
    json_t *ens = json_object_get(json_object_get(c, "ensemble"), "test");
    if (ens)
        fprintf(fp,
                "<tr><td>ensemble (reference)</td><td>%.4f</td><td>%.4f</td><td>%.4f</td>"
                "<td>%.4f</td><td>&ndash;</td><td>&ndash;</td></tr>\n",
                num(ens, "recall@10"), num(ens, "ndcg@10"), num(ens, "recall@50"),
                num(ens, "ndcg@50"));
    json_t *m;
    size_t i;
    json_array_foreach(methods, i, m)
    {
        const char *name = json_string_value(json_object_get(m, "method"));
        json_t *mean = json_object_get(m, "mean"), *sd = json_object_get(m, "std");
        fprintf(fp, "<tr%s><td>", name && !strcmp(name, "hetcomp") ? " class=\"hl\"" : "");
        esc(fp, name ? name : "?");
        fputs("</td>", fp);
        for (int k = 0; k < 4; k++)
            fprintf(fp, "<td>%.4f &plusmn; %.4f</td>", num(mean, keys[k]), num(sd, keys[k]));
        fprintf(fp, "<td>%.0f</td><td>%.0f</td></tr>\n", num(mean, "epochs"), num(mean, "train_s"));
    }
    fputs("</table>\n", fp);
    json_decref(c);
}

static void write_stages(FILE *fp, const report *r)
{
    json_t *stages = json_object_get(r->run, "stages");
    if (!json_object_size(stages))
        return;
    fputs("<h2>Stages</h2><table><tr><th>stage</th><th>seconds</th><th>key</th></tr>\n", fp);
    const char *k;
    json_t *v;
    double total = 0.0;
    json_object_foreach(stages, k, v)
    {
        fputs("<tr><td>", fp);
        esc(fp, k);
        fprintf(fp, "</td><td>%.1f</td><td><code>", num(v, "seconds"));
        esc(fp, json_string_value(json_object_get(v, "key")));
        fputs("</code></td></tr>\n", fp);
        total += num(v, "seconds");
    }
    fprintf(fp, "<tr><td>total</td><td>%.1f</td><td></td></tr></table>\n", total);
}

static int write_page(FILE *fp, const report *r, const plots *pl)
{
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(fp,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>hetcomp report</title><style>%s</style></head><body>\n",
            css);
    fputs("<h1>hetcomp: distilling heterogeneous teachers into one small model</h1>\n<p "
          "class=\"note\">Run directory <code>",
          fp);
    esc(fp, r->dir);
    fprintf(fp, "</code>, hetcomp %s, written %s.</p>\n", HC_VERSION_STRING, when);
    write_summary(fp, r);
    fputs("<h2>Comparison</h2>\n", fp);
    if (r->n_rows == 0)
        fputs("<p>No stage has finished yet.</p>\n", fp);
    else
        write_table(fp, r);
    fputs("<h2>Learning curves</h2>\n", fp);
    if (!pl->ok) {
        fputs("<p class=\"note\">No plots: ", fp);
        esc(fp, pl->why);
        fputs(".</p>\n", fp);
    }
    figure(fp, pl, "students.svg",
           "Validation Recall@50 of the d-dimensional MF student over epochs, with HetComp "
           "distillation and without (BPR); dashed: the ensemble and the best teacher.");
    figure(fp, pl, "dkc.svg",
           "Dynamic knowledge construction: the mean checkpoint index (0 = earliest) each "
           "teacher's knowledge comes from, over the student's epochs.");
    figure(fp, pl, "teachers.svg",
           "The teachers' validation Recall@50 over epochs; dots: the checkpoints kept in their "
           "trajectories.");
    if (r->n_teachers > 0) {
        fputs("<h2>Teacher trajectories</h2>\n", fp);
        write_checkpoints(fp, r);
    }
    write_compare(fp, r);
    write_stages(fp, r);
    fputs("</body></html>\n", fp);
    return ferror(fp) ? HC_EIO : HC_OK;
}

/* The comparison table as plain text (for the terminal). */
static void print_table(FILE *fp, const report *r)
{
    fprintf(fp, "%-18s %10s %7s %7s %7s %7s %11s %12s\n", "model", "params", "R@10", "N@10", "R@50",
            "N@50", "s/epoch", "query p50 us");
    for (int i = 0; i < r->n_rows; i++) {
        const report_row *w = &r->rows[i];
        char name[64], params[32], spe[32], lat[32];
        snprintf(name, sizeof name, "%s%s", i < r->n_teachers ? "teacher-" : "",
                 i < r->n_teachers || i == r->ens ? w->name
                 : i == r->bpr                    ? "student-bpr"
                                                  : "student-hetcomp");
        snprintf(params, sizeof params, "%.0f", w->params);
        double sp = i == r->ens ? -1.0 : num(w->log, "train_s_per_epoch");
        double p50 = num(w->lat, "p50_us");
        snprintf(spe, sizeof spe, sp >= 0 ? "%.3f" : "-", sp);
        snprintf(lat, sizeof lat, p50 >= 0 ? "%.0f" : "-", p50);
        fprintf(fp, "%-18s %10s %7.4f %7.4f %7.4f %7.4f %11s %12s\n", name, params,
                num(w->test, "recall@10"), num(w->test, "ndcg@10"), num(w->test, "recall@50"),
                num(w->test, "ndcg@50"), spe, lat);
    }
}

int cli_report_write(const char *run_dir, const char *out, FILE *summary)
{
    report r;
    memset(&r, 0, sizeof r);
    r.dir = run_dir;
    load_teachers(&r);
    load_rest(&r);
    plots pl;
    make_plots(&r, &pl);
    hc_afile af;
    int rc = hc_afile_open(&af, out);
    if (rc == HC_OK) {
        if (write_page(af.fp, &r, &pl) != HC_OK) {
            hc_afile_abort(&af);
            rc = hc_error(HC_EIO, "%s: write failed", out);
        } else {
            rc = hc_afile_commit(&af);
        }
    }
    remove_scratch(&pl);
    if (rc == HC_OK && summary)
        print_table(summary, &r);
    report_free(&r);
    return rc;
}
