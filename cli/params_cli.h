/*
 * params_cli.h - command-line flags from the library's hyperparameter tables (src/core/param.h):
 * one long option per table entry, its parsing into the owner's struct with a usage error
 * naming the flag, --help lines with the defaults, and the values as a JSON object for the
 * run logs. A filter picks the entries a command shows (a family's own hyperparameters).
 */
#ifndef HC_PARAMS_CLI_H
#define HC_PARAMS_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "core/param.h"
#include "model/model.h"

/* Which entries of a table count (NULL: all). */
typedef int (*cli_param_keep)(const hc_param_def *p, const void *ud);

/* Keeps the entries of the model table (hc_hparam_defs) that family ud (an hc_model_type)
 * reads. */
int cli_family_reads(const hc_param_def *p, const void *ud);
/* The hyperparameters family t reads, named, as a JSON object (log.json, export). */
json_t *cli_hparams_json(const hc_model_type *t, const hc_hparams *hp);

/* Writes n long options into out, entry f taking the getopt code code0 + f. */
void cli_params_longopts(const hc_param_def *t, int n, int code0, struct option *out);
/* Takes flag p with value arg into obj: 0, or CLI_EXIT_USAGE after printing the usage error. */
int cli_param_arg(const char *cmd, const hc_param_def *p, void *obj, const char *arg);
/* Prints "  --name META   help (default)" lines, sections as headings, wrapped to 80 columns,
 * the defaults read from defaults. */
void cli_params_help(FILE *fp, const hc_param_def *t, int n, const void *defaults,
                     cli_param_keep keep, const void *ud);
/* Prints one help line: flag text in the 22-column flag field, help wrapped after it. */
void cli_help_line(FILE *fp, const char *flag, const char *help);
/* The kept entries' values in obj as a JSON object keyed by name; NULL on out of memory. */
json_t *cli_params_json(const hc_param_def *t, int n, const void *obj, cli_param_keep keep,
                        const void *ud);

#endif
