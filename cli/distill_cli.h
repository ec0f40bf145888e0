/*
 * distill_cli.h - what `hetcomp distill` and `hetcomp compare` share: the distillation
 * hyperparameter flags (one table: parsing, ranges, help with defaults), the progress lines
 * and the run log (log.json).
 */
#ifndef HC_DISTILL_CLI_H
#define HC_DISTILL_CLI_H

#include <getopt.h>

#include "cli.h"
#include "distill/distill.h"

/* getopt_long codes of the shared flags: the table's from here (the common flags' are
 * CLI_O_*); commands use codes below 900 (and the
 * letters d, t, o, which the shared --data, --teachers and --out take). */
#define CLI_DISTILL_OPT0 1000

/* The arguments both commands take. */
typedef struct {
    hc_distill_opts o; /* every hyperparameter flag */
    const char *data;  /* --data */
    const char *out;   /* --out */
    char **teachers;   /* --teachers (repeatable) and the arguments left over */
    int32_t n_teachers;
    cli_common cc;               /* --quiet, --verbose, --json, --threads */
    struct option longopts[128]; /* the shared long options (0-terminated) */
} cli_distill_args;

/* Defaults, room for argc teacher paths, and longopts. HC_ENOMEM; HC_EINVAL when the table
 * outgrows longopts. */
int cli_distill_args_init(cli_distill_args *a, int argc);
void cli_distill_args_free(cli_distill_args *a);
/* Takes shared flag c (a getopt_long code) with value arg into a. Returns 0 when done,
 * CLI_EXIT_USAGE after printing a usage error, -1 when c is not a shared flag. */
int cli_distill_arg(const char *cmd, int c, const char *arg, cli_distill_args *a);
/* The whole argument loop of a command: cli_distill_args_init, then cli_parse over the
 * command's own flags (own, CLI_F_END-terminated), --help and the shared flags, -t
 * repeatable. -1 when the command goes on (then call cli_distill_args_finish), else the exit
 * code it returns now (a freed). */
int cli_distill_parse(const char *cmd, const char *shortopts, const cli_flag *own,
                      void (*help)(void), cli_distill_args *a, int argc, char **argv);
/* After getopt: the remaining arguments are teachers; --data and --out are required. Returns
 * 0 or CLI_EXIT_USAGE after printing the error. */
int cli_distill_args_finish(const char *cmd, cli_distill_args *a, int argc, char **argv);
/* Prints the shared flags (--data, --teachers, --out, --threads, --quiet, then every
 * hyperparameter with its default, grouped by method). */
void cli_distill_flags_help(FILE *fp);

/* The dataset and teachers of a command, loaded once. */
typedef struct {
    hc_dataset ds;
    hc_traj *t;         /* n_teachers trajectories */
    const hc_traj **tv; /* pointers to them, as hc_kd_ctx takes them */
    int32_t n_teachers;
} cli_distill_inputs;
/* Loads a->data and a->teachers, with share: this rank's share of the users under MPI (for
 * methods that read only their own users', hc_distiller_type.shares_teachers). On error in
 * is freed and zeroed. */
int cli_distill_load(const cli_distill_args *a, int share, cli_distill_inputs *in);
void cli_distill_inputs_free(cli_distill_inputs *in);
/* The options as a JSON object (flag names as keys). */
json_t *cli_distill_opts_json(const hc_distill_opts *o);

/* Progress of one run: per-epoch line on a terminal, per-evaluation lines (unless quiet or
 * !evals), and the evaluation rows of log.json collected in rows. */
typedef struct {
    const char *label; /* e.g. the method, "rd seed 1" */
    int quiet, evals, tty;
    int32_t n_teachers;
    json_t *rows;            /* array (owned by the caller) */
    int sample_said;         /* the sampled-users note was printed */
    int32_t max_epochs;      /* the bar's cap */
    double t0;               /* start (hc_now_s) */
    const hc_traj *teachers; /* n_teachers, for their names beside the checkpoints */
} cli_distill_progress;
void cli_distill_on_epoch(void *ud, int32_t epoch, double loss, double secs);
void cli_distill_on_eval(void *ud, const hc_distill_eval *e);

/* The log.json document of a finished run (r->best valid): method, teachers, options,
 * parameters, epochs, best, evaluations (rows, referenced). NULL on out of memory. */
json_t *cli_distill_log(const char *method, const hc_traj *teachers, int32_t n_teachers,
                        const hc_distill_opts *o, hc_model *student, const hc_distill_result *r,
                        json_t *rows);

#endif
