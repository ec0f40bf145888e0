/*
 * common.c - helpers every subcommand uses (see cli.h): errors, number parsing, logs, threads,
 * time, file hashes, the check that an output does not replace an input, and the getopt loop
 * that refuses unknown options and repeated single-valued flags.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cblas.h>
#include <xxhash.h>

#include "cli.h"
#include "dist/dist.h"
#include "distill/distill.h"
#include "model/model.h"

int cli_fail(int rc)
{
    const char *msg = hc_errmsg();
    fprintf(stderr, "hetcomp: %s\n", msg && *msg ? msg : hc_strerror(rc));
    return CLI_EXIT_ERROR;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hetcomp %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'hetcomp %s --help')\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_i64(const char *cmd, const char *flag, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno == ERANGE)
        return cli_usage_error(cmd, "%s expects an integer, got '%s'", flag, s);
    if (v < lo || v > hi)
        return cli_usage_error(cmd, "%s must be in [%lld, %lld], got %lld", flag, (long long)lo,
                               (long long)hi, v);
    *out = v;
    return 0;
}

int cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, int32_t *out)
{
    int64_t v = 0;
    int rc = cli_i64(cmd, flag, s, lo, hi, &v);
    if (!rc)
        *out = (int32_t)v;
    return rc;
}

int cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-')
        return cli_usage_error(cmd, "%s expects a non-negative integer, got '%s'", flag, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno == ERANGE)
        return cli_usage_error(cmd, "%s expects a non-negative integer, got '%s'", flag, s);
    *out = v;
    return 0;
}

int cli_double(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v))
        return cli_usage_error(cmd, "%s expects a number, got '%s'", flag, s);
    if (v < lo || v > hi)
        return cli_usage_error(cmd, "%s must be in [%g, %g], got %g", flag, lo, hi, v);
    *out = v;
    return 0;
}

void cli_getopt_init(cli_getopt *g, const char *cmd, const char *shortopts,
                     const struct option *opts, const int *repeatable, int first)
{
    memset(g, 0, sizeof *g);
    g->cmd = cmd;
    g->opts = opts;
    g->repeatable = repeatable;
    snprintf(g->shortopts, sizeof g->shortopts, ":%s", shortopts);
    opterr = 0; /* the messages are ours, with the command's name */
    optind = first;
}

/* The long option of code c, or NULL. */
static const struct option *long_of(const cli_getopt *g, int c)
{
    for (const struct option *o = g->opts; o && o->name; o++)
        if (o->val == c && !o->flag)
            return o;
    return NULL;
}

/* Whether option c takes a value. */
static int takes_value(const cli_getopt *g, int c)
{
    const struct option *o = long_of(g, c);
    if (o)
        return o->has_arg != no_argument;
    const char *p = c > 0 && c < 256 ? strchr(g->shortopts + 1, c) : NULL;
    return p && p[1] == ':';
}

/* Whether the argument that gave long option o spelled its name in full (*token: it): the
 * option is argv[optind - 1], or argv[optind - 2] when its value was the next argument. */
static int spelled_out(const struct option *o, int argc, char **argv, const char **token)
{
    int at = optind - 1;
    if (o->has_arg != no_argument && optarg && at >= 1 && optarg == argv[at])
        at--;
    *token = at >= 0 && at < argc ? argv[at] : "?";
    const char *t = *token;
    if (t[0] != '-' || t[1] != '-')
        return 1;
    size_t n = strcspn(t + 2, "=");
    return strlen(o->name) == n && !strncmp(o->name, t + 2, n);
}

int cli_getopt_next(cli_getopt *g, int argc, char **argv, int *rc)
{
    int li = -1;
    int c = getopt_long(argc, argv, g->shortopts, g->opts, &li);
    const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    if (c == -1)
        return -1;
    if (li >= 0 && c != '?' && c != ':' && !spelled_out(&g->opts[li], argc, argv, &bad)) {
        *rc = cli_usage_error(g->cmd, "unknown option '%.*s' (options are spelled in full: --%s)",
                              (int)strcspn(bad, "="), bad, g->opts[li].name);
        return -1;
    }
    if (c == ':') {
        *rc = cli_usage_error(g->cmd, "%s needs a value", bad);
        return -1;
    }
    if (c == '?' || c < 0 || c >= CLI_OPT_CODES) {
        *rc = optopt > 0 && optopt < 256 && bad[0] == '-' && bad[1] != '-'
                  ? cli_usage_error(g->cmd, "unknown option '-%c'", optopt)
                  : cli_usage_error(g->cmd, "unknown option '%s'", bad);
        return -1;
    }
    for (const int *r = g->repeatable; r && *r; r++)
        if (*r == c)
            return c;
    uint64_t bit = (uint64_t)1 << (c % 64);
    if (takes_value(g, c) && (g->seen[c / 64] & bit)) {
        const struct option *o = long_of(g, c);
        *rc = o ? cli_usage_error(g->cmd, "--%s given twice (it takes one value)", o->name)
                : cli_usage_error(g->cmd, "-%c given twice (it takes one value)", c);
        return -1;
    }
    g->seen[c / 64] |= bit;
    return c;
}

int cli_no_operands(const char *cmd, int argc, char **argv)
{
    return optind < argc ? cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]) : 0;
}

static void log_stderr(int level, const char *msg, void *ud)
{
    (void)ud;
    fprintf(stderr, "%s%s\n", level >= HC_LOG_WARN ? "hetcomp: warning: " : "", msg);
}

void cli_log_init(int verbose, int quiet)
{
    hc_log_set(log_stderr, NULL, verbose ? HC_LOG_DEBUG : quiet ? HC_LOG_WARN : HC_LOG_INFO);
}

void cli_threads(int n)
{
    hc_set_threads(n);
}

int cli_out_not_input(const char *out, const char *const *inputs, int n)
{
    struct stat so, si;
    if (!out || stat(out, &so) != 0)
        return HC_OK; /* not there yet: no input can be it */
    for (int k = 0; k < n; k++)
        if (inputs[k] && stat(inputs[k], &si) == 0 && si.st_dev == so.st_dev &&
            si.st_ino == so.st_ino)
            return hc_error(HC_EINVAL,
                            "%s: the output is the input %s; refusing to replace an input "
                            "(choose another output path)",
                            out, inputs[k]);
    return HC_OK;
}

int cli_file_hash(const char *path, uint64_t *out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hc_error(HC_EIO, "%s: cannot open: %s", path, strerror(errno));
    XXH3_state_t *fs = XXH3_createState();
    char *buf = malloc(1 << 16);
    if (!fs || !buf) {
        fclose(fp);
        XXH3_freeState(fs);
        free(buf);
        return hc_error(HC_ENOMEM, "out of memory");
    }
    XXH3_64bits_reset(fs);
    size_t n;
    while ((n = fread(buf, 1, 1 << 16, fp)) > 0)
        XXH3_64bits_update(fs, buf, n);
    int bad = ferror(fp);
    fclose(fp);
    *out = XXH3_64bits_digest(fs);
    XXH3_freeState(fs);
    free(buf);
    return bad ? hc_error(HC_EIO, "%s: read error", path) : HC_OK;
}

void cli_family_list(char *buf, size_t n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; hc_model_types[i] && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? "," : "", hc_model_types[i]->name);
}

void cli_method_list(char *buf, size_t n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++) /* the baselines, then the method they are set against */
        for (int i = 0; hc_distiller_types[i] && at < n; i++)
            if ((strcmp(hc_distiller_types[i]->name, "hetcomp") == 0) == pass)
                at += (size_t)snprintf(buf + at, n - at, "%s%s", at ? "," : "",
                                       hc_distiller_types[i]->name);
}

int cli_common_arg(const char *cmd, cli_common *cc, int c, const char *arg, int *rc)
{
    switch (c) {
    case 'q':
        cc->quiet = 1;
        return 1;
    case 'v':
        cc->verbose = 1;
        return 1;
    case CLI_O_JSON:
        cc->json = arg;
        return 1;
    case CLI_O_THREADS:
        *rc = cli_int(cmd, "--threads", arg, 0, 1024, &cc->threads);
        return 1;
    default:
        return 0;
    }
}

void cli_common_start(cli_common *cc)
{
    cli_log_init(cc->verbose, cc->quiet);
    if (dist_rank() > 0)
        cc->quiet = 1;
    cli_threads(cc->threads);
}

int cli_common_json(const cli_common *cc, json_t *doc)
{
    if (!cc->json)
        return HC_OK;
    if (strcmp(cc->json, "-") != 0)
        return cli_json_write(doc, cc->json);
    if (!doc)
        return hc_error(HC_ENOMEM, "out of memory building the JSON output");
    if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0 ||
        fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        return hc_error(HC_EIO, "cannot write to stdout");
    return HC_OK;
}

void cli_common_help(FILE *fp)
{
    fprintf(fp, "  --json FILE         also write the result as one JSON object (atomically; -:\n"
                "                      stdout)\n"
                "  --threads N         threads (0: all cores) (0)\n"
                "  -q, --quiet         warnings only on stderr, no progress\n"
                "  -v, --verbose       debug logging on stderr\n");
}

/* Checks the value of flag f (the long option "--name") into *to. */
static int flag_check(const char *cmd, const cli_flag *f, const char *arg, void *to)
{
    char name[80];
    snprintf(name, sizeof name, "--%s", f->name);
    switch (f->kind) {
    case 's':
        *(const char **)to = arg;
        return 0;
    case 'b':
        *(int *)to = 1;
        return 0;
    case 'i':
        return cli_int(cmd, name, arg, (long)f->lo, (long)f->hi, to);
    case 'I': /* INT64_MAX as a double is 2^63, one past the range */
        return cli_i64(cmd, name, arg, (int64_t)f->lo, f->hi >= 0x1p63 ? INT64_MAX : (int64_t)f->hi,
                       to);
    case 'd':
        return cli_double(cmd, name, arg, f->lo, f->hi, to);
    default:
        return cli_u64(cmd, name, arg, to);
    }
}

/* Takes the value of flag f into its variable and, for CLI_F_TEXT, its text. */
static int flag_value(const char *cmd, const cli_flag *f, const char *arg)
{
    union {
        const char *text;
        int set;
        int32_t i32;
        int64_t i64;
        double num;
        uint64_t u64;
    } scratch;
    int rc = flag_check(cmd, f, arg, f->to ? f->to : &scratch);
    if (!rc && f->text)
        *f->text = arg;
    return rc;
}

/* The long options of a: its flags, --help, the common flags, then a->more. */
static int parse_longopts(const cli_args *a, struct option *opts, size_t cap)
{
    static const struct option fixed[] = {{"help", no_argument, 0, 'h'}, CLI_COMMON_OPTIONS};
    size_t n = 0, nfixed = a->cc ? sizeof fixed / sizeof fixed[0] : 1;
    for (const cli_flag *f = a->flags; f && f->name && n < cap; f++)
        opts[n++] =
            (struct option){f->name, f->kind == 'b' ? no_argument : required_argument, 0, f->code};
    for (size_t k = 0; k < nfixed && n < cap; k++)
        opts[n++] = fixed[k];
    for (const struct option *o = a->more; o && o->name && n < cap; o++)
        opts[n++] = *o;
    if (n >= cap)
        return hc_error(HC_EINVAL, "%s: too many options", a->cmd);
    opts[n] = (struct option){0, 0, 0, 0};
    return HC_OK;
}

/* One option of code c: 0, CLI_EXIT_USAGE, or -2 after --help. */
static int parse_one(const cli_args *a, int c, const char *arg)
{
    int rc = 0;
    if (c == 'h') {
        a->help();
        return -2;
    }
    if (a->cc && cli_common_arg(a->cmd, a->cc, c, arg, &rc))
        return rc;
    for (const cli_flag *f = a->flags; f && f->name; f++)
        if (f->code == c)
            return flag_value(a->cmd, f, arg);
    rc = a->other ? a->other(a->cmd, c, arg, a->ud) : -1;
    return rc < 0 ? 0 : rc; /* getopt returns only the table's codes */
}

int cli_parse(const cli_args *a, int argc, char **argv)
{
    struct option opts[160];
    int c, rc = 0;
    if (parse_longopts(a, opts, sizeof opts / sizeof opts[0]) != HC_OK)
        return cli_fail(HC_EINVAL);
    cli_getopt g;
    cli_getopt_init(&g, a->cmd, a->shortopts, opts, a->repeatable, a->first ? a->first : 1);
    while (!rc && (c = cli_getopt_next(&g, argc, argv, &rc)) != -1)
        rc = parse_one(a, c, optarg);
    if (rc == -2)
        return CLI_EXIT_OK;
    if (!rc && !a->operands)
        rc = cli_no_operands(a->cmd, argc, argv);
    return rc ? rc : -1;
}
