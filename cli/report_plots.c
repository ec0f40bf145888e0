/*
 * report_plots.c - the run report's plots: data files and a gnuplot script (SVG terminal) in a
 * scratch directory inside the run directory, run once; the page embeds the SVGs. The
 * students' validation Recall@50 over epochs, the mean DKC checkpoint per teacher, and the
 * teachers' learning curves with their trajectory checkpoints. O(evaluations).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "report_internal.h"
#include "stage.h"

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
        fprintf(fp, "%g %g\n", report_num(e, "epoch"), report_num(v, "recall@50"));
    }
    fclose(fp);
    return 1;
}

/* 4: cost against accuracy, one point per model: parameters (log scale) against test
 * Recall@50. Returns 1 when plotted. */
static int write_cost_plot(const report *r, const plots *pl, FILE *gp)
{
    FILE *fp = scratch_file(pl, "cost.dat");
    int k = 0;
    for (int i = 0; fp && i < r->n_rows; i++) {
        const report_row *w = &r->rows[i];
        double v = report_num(w->test, "recall@50");
        if (w->params > 0 && v >= 0) {
            fprintf(fp, "%g %g \"%s\"\n", w->params, v,
                    i == r->het   ? "hetcomp"
                    : i == r->bpr ? "bpr"
                                  : w->name);
            k++;
        }
    }
    if (fp)
        fclose(fp);
    if (k == 0)
        return 0;
    fputs("set output 'cost.svg'\nset logscale x\nset xlabel 'parameters'\n"
          "set ylabel 'test Recall@50'\nset yrange [0:*]\n"
          "plot 'cost.dat' u 1:2 w p pt 7 ps 1.5 lc 1 notitle, '' u 1:2:3 w labels offset 0,1 "
          "notitle\nunset logscale x\nset xlabel 'epoch'\n",
          gp);
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
                    report_num(r->rows[r->ens].valid, "recall@50"));
            sep = ", ";
        }
        int best = -1;
        for (int t = 0; t < r->n_teachers; t++)
            if (best < 0 || report_num(r->rows[t].valid, "recall@50") >
                                report_num(r->rows[best].valid, "recall@50"))
                best = t;
        if (best >= 0)
            fprintf(gp, "%s%g w l dt 3 lw 2 lc rgb '#7f7f7f' t 'best teacher (%s)'", sep,
                    report_num(r->rows[best].valid, "recall@50"), r->rows[best].name);
        fputs("\n", gp);
        n++;
    }
    /* 2: DKC's progress per teacher, as the share of the way from the first checkpoint to the
     * last (mean index / (C - 1)), so teachers with fewer checkpoints compare */
    json_t *tn = r->het >= 0 ? json_object_get(r->rows[r->het].log, "teachers") : NULL;
    json_t *tc = r->het >= 0 ? json_object_get(r->rows[r->het].log, "teacher_checkpoints") : NULL;
    if (json_array_size(tn) > 0) {
        FILE *fp = scratch_file(pl, "dkc.dat");
        if (fp) {
            json_t *e, *c;
            size_t i, j;
            json_array_foreach(json_object_get(r->rows[r->het].log, "evaluations"), i, e)
            {
                fprintf(fp, "%g", report_num(e, "epoch"));
                json_array_foreach(json_object_get(e, "mean_ckpt"), j, c)
                {
                    double last = json_number_value(json_array_get(tc, j)) - 1.0;
                    fprintf(fp, " %g", last > 0 ? json_number_value(c) / last : 1.0);
                }
                fputc('\n', fp);
            }
            fclose(fp);
            fputs("set output 'dkc.svg'\nset ylabel 'DKC: share of the way to the final "
                  "checkpoint'\nset yrange [-0.05:1.05]\nplot ",
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
            json_array_foreach(json_object_get(r->rows[t].log, "evaluations"), i, e) if (a) fprintf(
                a, "%g %g\n", report_num(e, "epoch"),
                report_num(json_object_get(json_object_get(e, "metrics"), "valid"), "recall@50"));
            json_array_foreach(json_object_get(r->rows[t].log, "checkpoints"), i, e) if (b)
                fprintf(b, "%g %g\n", report_num(e, "epoch"), report_num(e, "valid_R@50"));
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
    n += write_cost_plot(r, pl, gp);
    fclose(gp);
    return n;
}

void report_plots_make(const report *r, plots *pl)
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

void report_plots_free(plots *pl)
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
