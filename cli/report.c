/*
 * report.c - the HTML report of a run directory (see report.h): the page, from the rows of
 * report_data.c and the plots of report_plots.c (embedded as base64 data URIs), written
 * atomically, and the plain-text table. O(rows + plot bytes).
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
#include "report_internal.h"
#include "stage.h"

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
    ".big{font-size:1.1em}.warn{background:#fff3cd;border-left:4px solid #e0a800;padding:.4em "
    ".8em}";

static void write_summary(FILE *fp, const report *r)
{
    if (r->het < 0 || r->ens < 0)
        return;
    const report_row *h = &r->rows[r->het], *e = &r->rows[r->ens];
    double hr = report_num(h->test, "recall@50"), er = report_num(e->test, "recall@50");
    fputs("<p class=\"big\">", fp);
    if (hr > 0 && er > 0 && h->params > 0 && e->params > 0)
        fprintf(fp,
                "The HetComp student reaches test Recall@50 <b>%.4f</b>, %.0f%% of the "
                "ensemble's %.4f, with %.0fx fewer parameters",
                hr, 100.0 * hr / er, er, e->params / h->params);
    if (r->bpr >= 0) {
        double br = report_num(r->rows[r->bpr].test, "recall@50");
        if (br > 0)
            fprintf(fp,
                    "; the same student without distillation reaches %.4f (%+.0f%% for "
                    "HetComp)",
                    br, 100.0 * (hr / br - 1.0));
    }
    double ep = report_num(e->lat, "p50_us"), hp = report_num(h->lat, "p50_us");
    if (ep > 0 && hp > 0)
        fprintf(fp,
                ". A single-user query costs %.0f &micro;s (median) against %.0f &micro;s for "
                "the teacher ensemble (%.0fx faster)",
                hp, ep, ep / hp);
    fputs(".</p>\n", fp);
}

/* The dataset and its split (stats.json). */
static void write_dataset(FILE *fp, const report *r)
{
    if (!r->stats)
        return;
    const char *split = json_string_value(json_object_get(r->stats, "split"));
    fprintf(fp,
            "<p class=\"note\">Dataset: %.0f users, %.0f items, %.0f interactions (train %.0f, "
            "valid %.0f, test %.0f), density %.4g %%, %.0f evaluated users; split ",
            report_num(r->stats, "n_users"), report_num(r->stats, "n_items"),
            report_num(r->stats, "n_interactions"), report_num(r->stats, "n_train"),
            report_num(r->stats, "n_valid"), report_num(r->stats, "n_test"),
            100.0 * report_num(r->stats, "density"), report_num(r->stats, "n_eval_users"));
    esc(fp, split ? split : "?");
    fprintf(fp, ", seed %.0f.</p>\n", report_num(r->stats, "seed"));
}

/* What a reader should not miss: an ensemble below its best teacher, a teacher that was
 * still improving when its epoch cap stopped it. */
static void write_warnings(FILE *fp, const report *r)
{
    double best = -1.0, er = r->ens >= 0 ? report_num(r->rows[r->ens].test, "recall@50") : -1.0;
    const char *best_name = NULL;
    for (int t = 0; t < r->n_teachers; t++) {
        const report_row *w = &r->rows[t];
        double v = report_num(w->test, "recall@50");
        if (v > best) {
            best = v;
            best_name = w->name;
        }
        double ep = report_num(w->log, "epochs"), be = report_num(w->log, "best_epoch");
        if (ep > 0 && be == ep) {
            fputs("<p class=\"warn\">Teacher ", fp);
            esc(fp, w->name);
            fprintf(fp,
                    " was still improving at its last epoch (%.0f): its epoch cap stopped "
                    "it, and more epochs would likely make it (and the ensemble) better.</p>\n",
                    ep);
        }
    }
    if (er > 0 && best_name && er < best) {
        fprintf(fp, "<p class=\"warn\">The ensemble (test R@50 %.4f) is below its best teacher, ",
                er);
        esc(fp, best_name);
        fprintf(fp, " (%.4f): a weak teacher pulls it down; leave it out or weight it less.</p>\n",
                best);
    }
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
        cell_num(fp, report_num(w->test, "recall@10"), "%.4f");
        cell_num(fp, report_num(w->test, "ndcg@10"), "%.4f");
        cell_num(fp, report_num(w->test, "recall@50"), "%.4f");
        cell_num(fp, report_num(w->test, "ndcg@50"), "%.4f");
        double ep = report_num(w->log, "epochs"), be = report_num(w->log, "best_epoch");
        if (ep >= 0 && i != r->ens)
            fprintf(fp, "<td>%.0f (%.0f)</td>", ep, be);
        else
            fputs("<td>&ndash;</td>", fp);
        cell_num(fp, i == r->ens ? -1.0 : report_num(w->log, "train_s_per_epoch"), "%.3f");
        cell_num(fp, report_num(w->lat, "p50_us"), "%.0f");
        cell_num(fp, report_num(w->lat, "p99_us"), "%.0f");
        cell_num(fp, report_num(w->lat, "all_users_s"), "%.2f");
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
        double of = report_num(w->test, "of_users");
        if (of > 0) {
            fprintf(fp,
                    "<p class=\"note\">Metrics on a fixed seeded sample of %.0f of the %.0f "
                    "evaluable users (<code>--eval-users</code>; the same users for every model "
                    "of the run).</p>\n",
                    report_num(w->test, "n_users"), of);
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
            fprintf(fp, "%s%.0f: %.4f", i ? " &rarr; " : "", report_num(e, "epoch"),
                    report_num(e, "valid_R@50"));
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
}

/* The `hetcomp compare` table of RUN/compare/compare.json, when the run has one. */
static void write_compare(FILE *fp, const report *r)
{
    json_t *c = report_load_json(r->dir, "compare/compare.json");
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
            report_num(c, "seeds"));
    json_t *ens = json_object_get(json_object_get(c, "ensemble"), "test");
    if (ens)
        fprintf(fp,
                "<tr><td>ensemble (reference)</td><td>%.4f</td><td>%.4f</td><td>%.4f</td>"
                "<td>%.4f</td><td>&ndash;</td><td>&ndash;</td></tr>\n",
                report_num(ens, "recall@10"), report_num(ens, "ndcg@10"),
                report_num(ens, "recall@50"), report_num(ens, "ndcg@50"));
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
            fprintf(fp, "<td>%.4f &plusmn; %.4f</td>", report_num(mean, keys[k]),
                    report_num(sd, keys[k]));
        fprintf(fp, "<td>%.0f</td><td>%.0f</td></tr>\n", report_num(mean, "epochs"),
                report_num(mean, "train_s"));
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
        fprintf(fp, "</td><td>%.1f</td><td><code>", report_num(v, "seconds"));
        esc(fp, json_string_value(json_object_get(v, "key")));
        fputs("</code></td></tr>\n", fp);
        total += report_num(v, "seconds");
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
    write_dataset(fp, r);
    fputs("<h2>Comparison</h2>\n", fp);
    if (r->n_rows == 0)
        fputs("<p>No stage has finished yet.</p>\n", fp);
    else
        write_table(fp, r);
    write_warnings(fp, r);
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
           "Dynamic knowledge construction: how far along its trajectory each teacher's "
           "knowledge comes from (0: the earliest checkpoint, 1: the final one; the mean over "
           "users), over the student's epochs.");
    figure(fp, pl, "cost.svg",
           "Cost against accuracy: each model's parameters (log scale) and test Recall@50; "
           "the ensemble's parameters are its teachers' together.");
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
        if (i < r->n_teachers || i == r->bpr || i == r->het)
            cli_stage_name(name, sizeof name,
                           i < r->n_teachers ? CLI_STAGE_TEACHER : CLI_STAGE_STUDENT, w->name);
        else
            snprintf(name, sizeof name, "%s", w->name);
        snprintf(params, sizeof params, "%.0f", w->params);
        double sp = i == r->ens ? -1.0 : report_num(w->log, "train_s_per_epoch");
        double p50 = report_num(w->lat, "p50_us");
        snprintf(spe, sizeof spe, sp >= 0 ? "%.3f" : "-", sp);
        snprintf(lat, sizeof lat, p50 >= 0 ? "%.0f" : "-", p50);
        fprintf(fp, "%-18s %10s %7.4f %7.4f %7.4f %7.4f %11s %12s\n", name, params,
                report_num(w->test, "recall@10"), report_num(w->test, "ndcg@10"),
                report_num(w->test, "recall@50"), report_num(w->test, "ndcg@50"), spe, lat);
    }
}

int cli_report_write(const char *run_dir, const char *out, FILE *summary)
{
    report r;
    report_load(&r, run_dir);
    plots pl;
    report_plots_make(&r, &pl);
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
    report_plots_free(&pl);
    if (rc == HC_OK && summary)
        print_table(summary, &r);
    report_free(&r);
    return rc;
}
