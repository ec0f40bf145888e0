/*
 * cli.h - what the subcommands share: the command table, number parsing with clear errors,
 * the stderr log sink, thread set-up and exit codes (0 ok, 1 data/runtime error, 2 usage).
 */
#ifndef HC_CLI_H
#define HC_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "core/internal.h"
#include "serve/recommend.h"
#include "traj/trajectory.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_ERROR = 1, CLI_EXIT_USAGE = 2 };

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

/* Subcommands (one file each: cli/cmd_<name>.c). */
int cmd_split(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_teacher(int argc, char **argv);
int cmd_trajectory(int argc, char **argv);
int cmd_ensemble(int argc, char **argv);
int cmd_distill(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Prints "hetcomp: <hc_errmsg() or hc_strerror(rc)>" to stderr; returns CLI_EXIT_ERROR. */
int cli_fail(int rc);
/* Prints "hetcomp <cmd>: <message>" and a hint to use --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number parsing for flag values: the whole string must be a number in range.
 * On failure print a usage error naming the flag and return CLI_EXIT_USAGE (else 0). */
int cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, int32_t *out);
int cli_i64(const char *cmd, const char *flag, const char *s, int64_t lo, int64_t hi, int64_t *out);
int cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out);
int cli_double(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out);

/* The one argument loop of every command (cli_getopt_next), over getopt_long with the checks
 * it lacks: long options are taken by their exact names only (getopt's prefix abbreviations
 * would let `--lr` mean `--lr-decay` once that exists), an unknown option or a missing value
 * is a usage error with one wording, and so is a flag that takes one value given twice
 * (`--user a --user b` would otherwise silently keep b), unless its option code is listed in
 * repeatable. Option codes below CLI_OPT_CODES. Fill with cli_getopt_init. */
#define CLI_OPT_CODES 2048

typedef struct {
    const char *cmd;
    const struct option *opts;
    const int *repeatable; /* codes that may repeat (e.g. --model), 0-terminated, or NULL */
    char shortopts[64];    /* ':' + the command's short options (':' reports missing values) */
    uint64_t seen[CLI_OPT_CODES / 64];
} cli_getopt;
/* Starts parsing argv from index first (1, or 2 after an action word). */
void cli_getopt_init(cli_getopt *g, const char *cmd, const char *shortopts,
                     const struct option *opts, const int *repeatable, int first);
/* The next option's code (optarg set), or -1 at the end of the options, or -1 with *rc set to
 * CLI_EXIT_USAGE (message printed) on one of the errors above. */
int cli_getopt_next(cli_getopt *g, int argc, char **argv, int *rc);
/* CLI_EXIT_USAGE naming argv[optind] when non-option arguments are left, else 0. */
int cli_no_operands(const char *cmd, int argc, char **argv);

/* Routes library logs to stderr ("hetcomp: ..."); verbose adds debug lines, quiet keeps
 * warnings only. */
void cli_log_init(int verbose, int quiet);
/* The live line on a terminal: "[label] [#####...] done/cap  loss  s/epoch  elapsed  ETA <= t",
 * the ETA an upper bound (early stopping may end the run sooner). */
void cli_progress_bar(const char *label, int32_t done, int32_t cap, double loss, double secs,
                      double elapsed);

/* The flags every command takes, spelled and parsed once: -q/--quiet, -v/--verbose,
 * --json FILE (the command's result as one JSON object, written atomically) and
 * --threads N. Put CLI_COMMON_OPTIONS in the command's long options and "qv" in its short
 * ones, offer each option code to cli_common_arg first, then call cli_common_start. */
enum { CLI_O_JSON = 1990, CLI_O_THREADS = 1991 };
#define CLI_COMMON_OPTIONS                                                                         \
    {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'},                              \
        {"json", required_argument, 0, CLI_O_JSON},                                                \
    {                                                                                              \
        "threads", required_argument, 0, CLI_O_THREADS                                             \
    }
typedef struct {
    int quiet, verbose;
    const char *json; /* --json FILE, or NULL */
    int32_t threads;  /* 0: all cores */
} cli_common;
/* 1 when option code c is a common flag (taken into cc; *rc set on a bad value), else 0. */
int cli_common_arg(const char *cmd, cli_common *cc, int c, const char *arg, int *rc);
/* Routes the logs and sets the threads as the flags say. Under mpirun the ranks past 0 keep
 * their log lines but show no progress (cc->quiet set): one display, rank 0's. */
void cli_common_start(cli_common *cc);
/* Writes doc to --json FILE when given ("-": stdout; HC_OK without --json); doc is not
 * consumed. */
int cli_common_json(const cli_common *cc, json_t *doc);
/* The common flags' help lines. */
void cli_common_help(FILE *fp);
/* A command's flags as one table, from which cli_parse builds the long options, reads each
 * value into its variable with the range check and names the flag in any error. kind: 's'
 * the text as given (const char *), 'b' no value, sets an int to 1, 'i' an int32_t in
 * [lo, hi], 'I' an int64_t in [lo, hi], 'd' a double in [lo, hi], 'u' a uint64_t. Terminated by a
 * zero entry. CLI_F_TEXT checks a value of any kind and keeps its text (run passes flags on). */
typedef struct {
    const char *name; /* the long option, without "--" */
    int code;         /* its getopt code (a letter when it has a short form) */
    char kind;
    void *to; /* the value (NULL: checked only) */
    double lo, hi;
    const char **text; /* also the text as given, once checked, or NULL */
} cli_flag;
/* The entries, by kind (the table's last entry is CLI_F_END). */
#define CLI_F_TEXT(name, code, kind, var, lo, hi)                                                  \
    {                                                                                              \
        name, code, kind, 0, lo, hi, var                                                           \
    }
#define CLI_F_STR(name, code, var)                                                                 \
    {                                                                                              \
        name, code, 's', var, 0, 0, 0                                                              \
    }
#define CLI_F_SET(name, code, var)                                                                 \
    {                                                                                              \
        name, code, 'b', var, 0, 0, 0                                                              \
    }
#define CLI_F_INT(name, code, var, lo, hi)                                                         \
    {                                                                                              \
        name, code, 'i', var, lo, hi, 0                                                            \
    }
#define CLI_F_DBL(name, code, var, lo, hi)                                                         \
    {                                                                                              \
        name, code, 'd', var, lo, hi, 0                                                            \
    }
#define CLI_F_I64(name, code, var, lo, hi)                                                         \
    {                                                                                              \
        name, code, 'I', var, lo, hi, 0                                                            \
    }
#define CLI_F_U64(name, code, var)                                                                 \
    {                                                                                              \
        name, code, 'u', var, 0, 0, 0                                                              \
    }
#define CLI_F_END                                                                                  \
    {                                                                                              \
        0, 0, 0, 0, 0, 0, 0                                                                        \
    }
/* What cli_parse needs of a command. -h/--help is always there (help is printed and the
 * command ends with CLI_EXIT_OK); with cc, so are the common flags (CLI_COMMON_OPTIONS). */
typedef struct {
    const char *cmd;
    const char *shortopts;     /* the short options, as for getopt ("d:hqv") */
    const cli_flag *flags;     /* the command's own flags, or NULL */
    const struct option *more; /* long options of shared modules (0-terminated), or NULL */
    const int *repeatable;     /* as for cli_getopt_init */
    int first;                 /* argv index of the first option (0: 1; 2 after an action word) */
    int operands;              /* arguments after the options are the command's (else an error) */
    cli_common *cc;            /* the common flags go here, or NULL */
    void (*help)(void);
    /* The options of more: 0, CLI_EXIT_USAGE (message printed) or -1 (not one of them). */
    int (*other)(const char *cmd, int c, const char *arg, void *ud);
    void *ud;
} cli_args;
/* The one argument loop: -1 when the command goes on, else the exit code it returns now. */
int cli_parse(const cli_args *a, int argc, char **argv);

/* Sets OpenMP and OpenBLAS thread counts (0: all cores). */
void cli_threads(int n);
/* The registry's teacher family names joined by commas ("mf,ml,...") into buf. */
void cli_family_list(char *buf, size_t n);
/* The registry's distillation methods joined by commas into buf, the baselines in registry
 * order and hetcomp last ("bpr,rd,...,hetcomp"): compare's default rows, which are named by
 * these registry names as run's student stages (student-<method>, students/<method>) are. */
void cli_method_list(char *buf, size_t n);
/* Output helpers (output.c). JSON builders return NULL on out of memory. */
json_t *cli_metrics_json(const hc_metrics *m);
/* Says once (on stderr, *said set) that metrics m cover a sample of the evaluable users. */
void cli_eval_sample_note(const char *label, const hc_metrics *m, int *said);
json_t *cli_result_json(const hc_eval_result *r); /* {"valid": ..., "test": ...} */
/* The inverses: 0, or -1 when o lacks a field of the right type. */
int cli_metrics_from_json(const json_t *o, hc_metrics *m);
int cli_result_from_json(const json_t *o, hc_eval_result *r);
/* HC_OK unless out (may be NULL) exists and is the same file (device and inode: another spelling, a
 * symlink or a hard link too) as one of inputs[0..n) (NULL entries skipped); then an error
 * naming both, since the atomic rename would replace that input. */
int cli_out_not_input(const char *out, const char *const *inputs, int n);
/* XXH3-64 of a file's contents. */
int cli_file_hash(const char *path, uint64_t *out);
/* Writes root (may be NULL: out of memory) to path atomically; does not take the reference. */
int cli_json_write(json_t *root, const char *path);
/* An output directory and its missing parents (hc_make_dirs, like mkdir -p). */
int cli_make_dir(const char *dir);
/* The metrics table: a header and one row per model or split (R@K N@K for K = 10, 20, 50). */
void cli_print_metrics_header(FILE *fp, const char *first);
void cli_print_metrics_row(FILE *fp, const char *name, const hc_metrics *m);

/* Loads n teachers' trajectories (files, or directories holding trajectory.hct) made on ds
 * (teachers.c). *out: n trajectories, freed with cli_free_teachers. */
int cli_load_teachers(const hc_dataset *ds, char **paths, int32_t n, int share, hc_traj **out);
/* The trajectory file a teacher argument names (p itself, or p/trajectory.hct in buf). */
const char *cli_teacher_file(const char *p, char *buf, size_t size);
void cli_free_teachers(hc_traj *t, int32_t n);

/* The model options `recommend` and `serve` share (one --model, or several for the live
 * ensemble, with --weights, --ensemble-k, --temperature): option codes for their getopt tables
 * (above any command's own) and the handler. cli_rec_option returns -1 when c is not one of
 * them, else 0 or CLI_EXIT_USAGE (message printed). */
enum { CLI_O_MODEL = 900, CLI_O_WEIGHTS, CLI_O_ENSK, CLI_O_TEMP };
#define CLI_REC_OPTIONS                                                                            \
    {"model", required_argument, 0, CLI_O_MODEL},                                                  \
        {"weights", required_argument, 0, CLI_O_WEIGHTS},                                          \
        {"ensemble-k", required_argument, 0, CLI_O_ENSK},                                          \
    {                                                                                              \
        "temperature", required_argument, 0, CLI_O_TEMP                                            \
    }
int cli_rec_option(const char *cmd, int c, const char *arg, hc_rec_args *ra);
/* Their repeatable codes (-m, --model) for cli_getopt_init. */
extern const int cli_rec_repeatable[];
/* The same for cli_parse: the options (0-terminated) and the handler (ud: an hc_rec_args). */
extern const struct option cli_rec_longopts[];
int cli_rec_arg(const char *cmd, int c, const char *arg, void *ud);

#endif
