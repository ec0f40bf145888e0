/*
 * stage.c - resumable pipeline stages (see stage.h): content keys, the run.json record and
 * the child processes.
 */
#include "stage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli.h"

extern char **environ;

/* Path p relative to the run directory (absolute paths unchanged). */
static void run_path(const cli_stages *s, const char *p, char *out, size_t n)
{
    if (p[0] == '/')
        snprintf(out, n, "%s", p);
    else
        snprintf(out, n, "%s/%s", s->dir, p);
}

int cli_stages_open(cli_stages *s, const char *dir, int force, int threads)
{
    memset(s, 0, sizeof *s);
    s->force = force;
    s->threads = threads;
    if (strlen(dir) >= sizeof s->dir)
        return hc_error(HC_EINVAL, "%s: path too long", dir);
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    ssize_t n = readlink("/proc/self/exe", s->self, sizeof s->self - 1);
    if (n <= 0)
        return hc_error(HC_EIO, "cannot find the hetcomp executable: %s", strerror(errno));
    s->self[n] = '\0';
    char logs[4200], path[4200];
    snprintf(logs, sizeof logs, "%s/logs", dir);
    int rc = cli_make_dir(dir);
    if (rc || (rc = cli_make_dir(logs)))
        return rc;
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_error_t err;
    FILE *fp = fopen(path, "rb");
    if (fp) {
        s->state = json_loadf(fp, 0, &err);
        fclose(fp);
        if (!s->state || !json_is_object(json_object_get(s->state, "stages"))) {
            /* unreadable record: every stage runs again, nothing is lost */
            hc_log(HC_LOG_WARN, "%s:%d: unreadable run record (%s); running every stage", path,
                   err.line, s->state ? "no \"stages\" object" : err.text);
            json_decref(s->state);
            s->state = NULL;
        }
    }
    if (!s->state) {
        s->state = json_pack("{s:s, s:{}}", "version", HC_VERSION_STRING, "stages");
        if (!s->state)
            return hc_error(HC_ENOMEM, "out of memory");
    }
    return HC_OK;
}

void cli_stages_close(cli_stages *s)
{
    json_decref(s->state);
    s->state = NULL;
}

static int is_input(const char *arg, const char *const *inputs)
{
    for (int i = 0; inputs && inputs[i]; i++)
        if (!strcmp(arg, inputs[i]))
            return 1;
    return 0;
}

void cli_stage_name(char *buf, size_t n, const char *kind, const char *name)
{
    snprintf(buf, n, "%s-%s", kind, name);
}

int cli_key_begin(cli_key *k, const char *name)
{
    k->st = XXH3_createState();
    if (!k->st)
        return hc_error(HC_ENOMEM, "out of memory");
    XXH3_64bits_reset(k->st);
    cli_key_text(k, HC_VERSION_STRING);
    cli_key_text(k, name);
    return HC_OK;
}

void cli_key_text(cli_key *k, const char *text)
{
    XXH3_64bits_update(k->st, text, strlen(text) + 1);
}

void cli_key_hash(cli_key *k, uint64_t h)
{
    XXH3_64bits_update(k->st, &h, sizeof h);
}

void cli_key_end(cli_key *k, char key[17])
{
    snprintf(key, 17, "%016" PRIx64, (uint64_t)XXH3_64bits_digest(k->st));
    XXH3_freeState(k->st);
    k->st = NULL;
}

/* The stage key: its name, its arguments (an input path by content only) and its inputs'
 * contents. */
static int stage_key(const cli_stages *s, const char *name, const char *const *args,
                     const char *const *inputs, char key[17])
{
    cli_key k;
    int rc = cli_key_begin(&k, name);
    if (rc)
        return rc;
    for (int i = 0; args[i]; i++)
        cli_key_text(&k, is_input(args[i], inputs) ? "<input>" : args[i]);
    for (int i = 0; !rc && inputs && inputs[i]; i++) {
        char p[4200];
        run_path(s, inputs[i], p, sizeof p);
        uint64_t h;
        if (!(rc = cli_file_hash(p, &h)))
            cli_key_hash(&k, h);
    }
    cli_key_end(&k, key);
    return rc;
}

static int up_to_date(const cli_stages *s, const char *name, const char *key,
                      const char *const *outputs)
{
    json_t *rec = json_object_get(json_object_get(s->state, "stages"), name);
    const char *old = json_string_value(json_object_get(rec, "key"));
    if (s->force || !old || strcmp(old, key) != 0)
        return 0;
    for (int i = 0; outputs && outputs[i]; i++) {
        char p[4200];
        struct stat sb;
        run_path(s, outputs[i], p, sizeof p);
        if (stat(p, &sb) != 0)
            return 0;
    }
    return 1;
}

static int save_state(cli_stages *s)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", s->dir);
    return cli_json_write(s->state, path);
}

int cli_spawn(const char *file, const char *const *argv, const char *cwd, const char *stdout_path,
              int merge_stderr, int *status)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (stdout_path)
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, stdout_path,
                                         O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (stdout_path && merge_stderr)
        posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    /* the child dies with us (CLI_PARENT_ENV, main.c): a killed run leaves no stage running */
    size_t ne = 0;
    while (environ[ne])
        ne++;
    char **env = malloc((ne + 2) * sizeof *env), parent[64];
    if (!env) {
        posix_spawn_file_actions_destroy(&fa);
        return hc_error(HC_ENOMEM, "cannot start %s: out of memory", file);
    }
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], CLI_PARENT_ENV "=", sizeof CLI_PARENT_ENV) != 0)
            env[k++] = environ[i];
    snprintf(parent, sizeof parent, "%s=%ld", CLI_PARENT_ENV, (long)getpid());
    env[k++] = parent;
    env[k] = NULL;
    pid_t pid;
    int e = posix_spawnp(&pid, file, &fa, NULL, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    if (e != 0)
        return hc_error(HC_EIO, "cannot start %s: %s", file, strerror(e));
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR)
            return hc_error(HC_EIO, "waiting for %s: %s", file, strerror(errno));
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -WTERMSIG(ws);
    return HC_OK;
}

/* Whether subcommand cmd takes --threads. */
static int takes_threads(const char *cmd)
{
    /* recommend --bench times queries as one server worker does: its own default, 1 thread */
    static const char *const no[] = {"synth", "split", "stats", "trajectory", "recommend", NULL};
    for (int i = 0; no[i]; i++)
        if (!strcmp(cmd, no[i]))
            return 0;
    return 1;
}

/* Runs `hetcomp args... [--threads N]` in the run directory, stdout into log. */
static int spawn_stage(const cli_stages *s, const char *const *args, const char *log, int *status)
{
    const char *argv[256];
    int n = 0;
    argv[n++] = s->self;
    for (int i = 0; args[i] && n < 250; i++)
        argv[n++] = args[i];
    char threads[32];
    snprintf(threads, sizeof threads, "%d", s->threads);
    if (takes_threads(args[0])) {
        argv[n++] = "--threads";
        argv[n++] = threads;
    }
    argv[n] = NULL;
    return cli_spawn(s->self, argv, s->dir, log, 0, status);
}

int cli_stage_run(cli_stages *s, const char *name, const char *const *args,
                  const char *const *inputs, const char *const *outputs)
{
    char key[17], log[4200];
    int rc = stage_key(s, name, args, inputs, key);
    if (rc) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", hc_errmsg());
        return hc_error(rc, "stage %s: %s", name, msg);
    }
    if (up_to_date(s, name, key, outputs)) {
        hc_log(HC_LOG_INFO, "[run] %-16s up to date (key %s), skipped", name, key);
        s->n_skipped++;
        return HC_OK;
    }
    snprintf(log, sizeof log, "%s/logs/%s.txt", s->dir, name);
    char cmd[1024] = "";
    for (int i = 0; args[i] && strlen(cmd) + strlen(args[i]) + 2 < sizeof cmd; i++)
        strcat(strcat(cmd, " "), args[i]);
    hc_log(HC_LOG_INFO, "[run] %-16s running: hetcomp%s", name, cmd);
    /* forget the old record first: an interrupted stage must not look finished */
    json_t *stages = json_object_get(s->state, "stages");
    json_object_del(stages, name);
    if ((rc = save_state(s)) != HC_OK)
        return rc;
    double t0 = hc_now_s();
    int status = 0;
    if ((rc = spawn_stage(s, args, log, &status)) != HC_OK)
        return rc;
    double secs = hc_now_s() - t0;
    if (status != 0)
        return hc_error(HC_EIO, "stage %s failed (%s %d) after %.1f s; its output is in %s", name,
                        status > 0 ? "exit" : "signal", status > 0 ? status : -status, secs, log);
    json_t *rec = json_pack("{s:s, s:f}", "key", key, "seconds", secs);
    if (!rec || json_object_set_new(stages, name, rec) != 0)
        return hc_error(HC_ENOMEM, "out of memory");
    s->n_run++;
    hc_log(HC_LOG_INFO, "[run] %-16s done in %.1f s", name, secs);
    return save_state(s);
}

double cli_stage_seconds(const cli_stages *s, const char *name)
{
    json_t *rec = json_object_get(json_object_get(s->state, "stages"), name);
    json_t *v = json_object_get(rec, "seconds");
    return json_is_number(v) ? json_number_value(v) : -1.0;
}

void cli_die_with_parent(void)
{
    const char *v = getenv(CLI_PARENT_ENV);
    if (!v)
        return;
    long parent = strtol(v, NULL, 10);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (parent > 0 && (long)getppid() != parent) /* it died before prctl took effect */
        _exit(CLI_EXIT_ERROR);
}
