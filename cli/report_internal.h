/*
 * report_internal.h - what the three parts of the run report share: the rows read from the
 * run directory (report_data.c), the gnuplot plots drawn from them (report_plots.c), and the
 * page that shows both (report.c).
 */
#ifndef HC_CLI_REPORT_INTERNAL_H
#define HC_CLI_REPORT_INTERNAL_H

#include <jansson.h>

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
    json_t *stats;          /* stats.json: the dataset's summary (owned), may be NULL */
    int pop;                /* the popularity row's index, or -1 */
} report;

/* Reads every stage's JSON under dir into r (missing stages are simply absent). */
void report_load(report *r, const char *dir);
void report_free(report *r);
/* dir/rel parsed as JSON, or NULL when missing or malformed (said as a warning). */
json_t *report_load_json(const char *dir, const char *rel);
/* The number at key of j (-1 when absent or not a number). */
double report_num(json_t *j, const char *key);

typedef struct {
    char dir[4200]; /* scratch directory */
    int ok;         /* gnuplot ran */
    char why[256];  /* why there are no plots */
} plots;

/* Writes the plots' data and script into a scratch directory and runs gnuplot; pl->ok says
 * whether it did, pl->why why not. */
void report_plots_make(const report *r, plots *pl);
/* Removes the scratch directory. */
void report_plots_free(plots *pl);

#endif
