/*
 * report.h - the HTML report of a `hetcomp run` directory: one self-contained file (no
 * network needed) with the comparison table (teachers, their ensemble, the student without
 * distillation, the HetComp student: accuracy, parameters, training and inference cost) and
 * gnuplot SVG plots (students' validation Recall@50 over epochs, mean DKC checkpoint per
 * teacher, the teachers' learning curves with their trajectory checkpoints), embedded as data
 * URIs. Missing parts (a stage not run yet, gnuplot not installed) are said in the page, not
 * fatal.
 */
#ifndef HC_CLI_REPORT_H
#define HC_CLI_REPORT_H

#include <stdio.h>

/* Reads the run directory and writes the report to out (atomically); when summary is not
 * NULL, also prints the comparison table there as plain text (test metrics). */
int cli_report_write(const char *run_dir, const char *out, FILE *summary);

#endif
