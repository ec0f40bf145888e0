/*
 * stage.h - resumable pipeline stages for `hetcomp run`.
 *
 * A stage is one hetcomp subcommand run as a child process (the same binary), with its stdout
 * kept in RUN/logs/<stage>.txt and its stderr passed through (progress stays visible). A stage
 * is skipped when it finished before with the same key and its outputs still exist. The key is
 * XXH3-64 over the hetcomp version, the stage name, the child's arguments and the contents of
 * its input files: change an input (or a flag) and the stage runs again, and so does every
 * later stage whose inputs it rewrites with different contents. The thread count is passed to
 * every child but is not part of the key (it changes results only by float summation order).
 * Finished stages are recorded in RUN/run.json (written atomically after each stage), so an
 * interrupted run resumes at the first stage that had not finished.
 */
#ifndef HC_CLI_STAGE_H
#define HC_CLI_STAGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char dir[2048]; /* the run directory */
    json_t *state;  /* run.json: {"version", "stages": {name: {"key", "seconds"}}} */
    int force;      /* run every stage */
    int threads;    /* passed to children as --threads (0: all cores) */
    int n_run, n_skipped;
    char self[4096]; /* this executable */
} cli_stages;

/* Stage names from the registries' names: kind "teacher" or "student" and a family or method
 * name give "teacher-mf", "student-hetcomp" (run's stages, the report's rows, compare's keys). */
#define CLI_STAGE_TEACHER "teacher"
#define CLI_STAGE_STUDENT "student"
void cli_stage_name(char *buf, size_t n, const char *kind, const char *name);

/* Content keys: XXH3-64 over the hetcomp version, a name, then texts and 64-bit hashes of file
 * contents (cli_file_hash) in the caller's order, as 16 hex digits. A stage's key is its name,
 * its arguments and its inputs' contents; `compare` keys a run by the same means. Begin fails
 * only for out of memory; end frees the state. */
typedef struct {
    void *st; /* XXH3_state_t */
} cli_key;
int cli_key_begin(cli_key *k, const char *name);
void cli_key_text(cli_key *k, const char *text);
void cli_key_hash(cli_key *k, uint64_t h);
void cli_key_end(cli_key *k, char key[17]);

/* Opens (creating dir and dir/logs) the run directory and reads its run.json if any. */
int cli_stages_open(cli_stages *s, const char *dir, int force, int threads);
void cli_stages_close(cli_stages *s);

/* Runs `hetcomp args...` (args NULL-terminated, args[0] is the subcommand) as stage `name`,
 * unless it is up to date. inputs and outputs are NULL-terminated lists of paths (may be NULL):
 * inputs' contents enter the key; every output must exist for a skip. Arguments equal to an
 * input path enter the key by content only, so moving an input file does not force a rerun.
 * The child runs with cwd = the run directory (relative paths are inside it). Returns HC_OK,
 * or an error naming the stage and its log when the child fails. */
int cli_stage_run(cli_stages *s, const char *name, const char *const *args,
                  const char *const *inputs, const char *const *outputs);

/* Runs file (searched in PATH when it has no '/') with argv (argv[0] included, NULL-terminated)
 * in directory cwd (NULL: the current one), its stdout into stdout_path (NULL: inherited; with
 * merge_stderr, stderr too), and waits. *status: the exit status, or minus the signal that
 * killed it. */
/* The environment variable naming a stage's parent: a hetcomp started with it dies when that
 * process does (cli_die_with_parent), so killing `run` (even with kill -9) stops its stage. */
#define CLI_PARENT_ENV "HETCOMP_STAGE_OF"
void cli_die_with_parent(void);
int cli_spawn(const char *file, const char *const *argv, const char *cwd, const char *stdout_path,
              int merge_stderr, int *status);

/* The seconds stage `name` took when it last ran (-1 if unknown). */
double cli_stage_seconds(const cli_stages *s, const char *name);

#endif
