/*
 * cli.h - what the subcommands share: the command table, number parsing with clear errors,
 * the stderr log sink, thread set-up and exit codes (0 ok, 1 data/runtime error, 2 usage).
 */
#ifndef HC_CLI_H
#define HC_CLI_H

#include <stdint.h>

#include "hetcomp.h"

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

/* Routes library logs to stderr ("hetcomp: ..."); verbose adds debug lines, quiet keeps
 * warnings only. */
void cli_log_init(int verbose, int quiet);
/* Sets OpenMP and OpenBLAS thread counts (0: all cores). */
void cli_threads(int n);
/* Seconds since an arbitrary point (monotonic). */
double cli_now(void);

#endif
