/*
 * cmd_serve.c - `hetcomp serve`: answers top-K recommendation and similar-item requests over
 * HTTP from a saved model, or from the live rank-importance ensemble of several
 * (src/serve/http.c; endpoints in docs/serving.md), until SIGINT or SIGTERM.
 *
 * SIGINT, SIGTERM and SIGHUP are blocked before the daemon's threads start (so they inherit
 * the mask) and the main thread waits for them with sigwait: SIGHUP reloads the model files
 * (hot reload; a failure keeps the old model), SIGINT/SIGTERM drain (no new connections,
 * requests in flight answered, at most --drain-timeout seconds) and stop. Scoring one user
 * is small, so OpenMP/BLAS run single-threaded and concurrency comes from the workers.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "serve/http.h"

static const char *CMD = "serve";

enum {
    O_PORT = 256,
    O_BIND,
    O_THREADS,
    O_MAXK,
    O_BATCH,
    O_CONN,
    O_PER,
    O_IDLE,
    O_REQ_TIMEOUT,
    O_DRAIN,
    O_FALLBACK,
    O_ADMIN
};

static void help(const hc_server_opts *d)
{
    printf("usage: hetcomp serve --model M.hcm [--model M2.hcm ...] --data DS.hcd [options]\n\n"
           "Serves recommendations over HTTP/1.1 (keep-alive) until SIGINT or SIGTERM,\n"
           "which drain it; SIGHUP reloads the model files (docs/serving.md):\n"
           "  GET  /v1/recommend?user=ID&k=10[&exclude=train|all|none]  top-K as JSON\n"
           "  POST /v1/recommend {\"users\": [\"u1\", ...], \"k\": 10}      many users\n"
           "  GET  /v1/similar?item=ID&k=10[&metric=cosine|dot]         similar items\n"
           "  GET  /healthz          model files, checksums, version, reload status\n"
           "  GET  /metrics          Prometheus text format (/metrics.json: JSON summary)\n"
           "  POST /admin/reload     reload the model files (only with --admin)\n\n"
           "With two or more --model, answers with their live ensemble, as `hetcomp\n"
           "recommend` with the same models does (scores are the importances).\n\n"
           "options:\n"
           "  --model FILE        model file (required; repeat for an ensemble)\n"
           "  --data FILE         the dataset file the models were trained on (required)\n"
           "  --weights W1,W2,..  ensemble: one positive weight per model (all 1)\n"
           "  --ensemble-k N      ensemble: list length taken from each model (%d)\n"
           "  --temperature T     ensemble: rank temperature (%g)\n"
           "  --port N            TCP port, 0 picks a free one (%d)\n"
           "  --bind ADDR         IPv4 or IPv6 address to listen on (%s)\n"
           "  --threads N         HTTP worker threads, each with its own model copy (%d)\n"
           "  --max-k N           largest k a request may ask for (%d)\n"
           "  --max-batch N       most users in one POST /v1/recommend (%d)\n"
           "  --max-connections N open connections beyond which requests get 503 (%d)\n"
           "  --max-per-client N  connections one client address may hold, 0: any (%d)\n"
           "  --idle-timeout S    seconds without traffic before a connection is closed (%d)\n"
           "  --request-timeout S seconds, 1..3600, a connection has to deliver a whole\n"
           "                      request from its accept or its last answer; slower\n"
           "                      clients are disconnected (%d)\n"
           "  --drain-timeout S   on SIGTERM, seconds to finish requests in flight (10)\n"
           "  --fallback popular  unknown users get the most popular train items, marked\n"
           "                      \"fallback\": \"popular\" (default: 404)\n"
           "  --admin             serve POST /admin/reload\n"
           "  -q, --quiet         only errors on stderr (still prints the listening line)\n"
           "  -v, --verbose       also log malformed HTTP requests the daemon rejected\n"
           "(serve writes no result, so it takes no --json; its --threads counts HTTP workers)\n",
           HC_REC_ENSEMBLE_K, (double)HC_REC_TEMPERATURE, d->port, d->bind, d->threads, d->max_k,
           d->max_batch, d->max_connections, d->max_per_client, d->idle_timeout,
           d->request_timeout);
}

/* What the options say besides hc_server_opts. */
typedef struct {
    const char *data;
    int32_t drain_s;
    int quiet, verbose;
} serve_args;

/* One option of the server's own (not the shared model options) into so / sa. */
static int serve_option(int c, const char *arg, hc_server_opts *so, serve_args *sa)
{
    switch (c) {
    case 'd':
        sa->data = arg;
        return 0;
    case O_PORT:
        return cli_int(CMD, "--port", arg, 0, 65535, &so->port);
    case O_BIND:
        so->bind = arg;
        return 0;
    case O_THREADS:
        return cli_int(CMD, "--threads", arg, 1, 1024, &so->threads);
    case O_MAXK:
        return cli_int(CMD, "--max-k", arg, 1, 1000000, &so->max_k);
    case O_BATCH:
        return cli_int(CMD, "--max-batch", arg, 1, 1000000, &so->max_batch);
    case O_CONN:
        return cli_int(CMD, "--max-connections", arg, 1, 1000000, &so->max_connections);
    case O_PER:
        return cli_int(CMD, "--max-per-client", arg, 0, 1000000, &so->max_per_client);
    case O_IDLE:
        return cli_int(CMD, "--idle-timeout", arg, 1, 86400, &so->idle_timeout);
    case O_REQ_TIMEOUT:
        return cli_int(CMD, "--request-timeout", arg, 1, 3600, &so->request_timeout);
    case O_DRAIN:
        return cli_int(CMD, "--drain-timeout", arg, 0, 3600, &sa->drain_s);
    default:
        return -1;
    }
}

/* Lets the process hold as many descriptors as its hard limit allows (one per connection). */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Serves until SIGINT/SIGTERM (reloading on SIGHUP); returns the stopping signal. */
static int serve_loop(hc_server *srv, const sigset_t *sigs, int quiet)
{
    int sig = 0;
    for (;;) {
        if (sigwait(sigs, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            return sig;
        if (hc_server_reload(srv) != HC_OK)
            fprintf(stderr, "hetcomp serve: reload failed, the old model keeps serving: %s\n",
                    hc_errmsg());
        else if (!quiet)
            fprintf(stderr, "hetcomp serve: SIGHUP, model files reloaded\n");
    }
}

static void print_banner(const hc_rec_args *ra, const hc_dataset *ds, const hc_server_opts *so,
                         int quiet, int port)
{
    int v6 = strchr(so->bind, ':') != NULL;
    if (!quiet && ra->n_paths == 1)
        fprintf(stderr, "hetcomp serve: model %s, %d users, %d items, %d threads\n", ra->path[0],
                ds->n_users, ds->n_items, so->threads);
    else if (!quiet)
        fprintf(stderr, "hetcomp serve: ensemble of %d models, %d users, %d items, %d threads\n",
                ra->n_paths, ds->n_users, ds->n_items, so->threads);
    fprintf(stderr, "listening on http://%s%s%s:%d\n", v6 ? "[" : "", so->bind, v6 ? "]" : "",
            port);
    fflush(stderr);
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {CLI_REC_OPTIONS,
                                         {"data", required_argument, 0, 'd'},
                                         {"port", required_argument, 0, O_PORT},
                                         {"bind", required_argument, 0, O_BIND},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"max-k", required_argument, 0, O_MAXK},
                                         {"max-batch", required_argument, 0, O_BATCH},
                                         {"max-connections", required_argument, 0, O_CONN},
                                         {"max-per-client", required_argument, 0, O_PER},
                                         {"idle-timeout", required_argument, 0, O_IDLE},
                                         {"request-timeout", required_argument, 0, O_REQ_TIMEOUT},
                                         {"drain-timeout", required_argument, 0, O_DRAIN},
                                         {"fallback", required_argument, 0, O_FALLBACK},
                                         {"admin", no_argument, 0, O_ADMIN},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    hc_server_opts so;
    hc_server_opts_default(&so);
    serve_args sa = {.drain_s = 10};
    hc_rec_args ra = {0};
    int rc = 0, c;
    cli_getopt g;
    cli_getopt_init(&g, CMD, "m:d:hqv", opts, cli_rec_repeatable, 1);
    while (!rc && (c = cli_getopt_next(&g, argc, argv, &rc)) != -1) {
        int r = cli_rec_option(CMD, c, optarg, &ra);
        if (r < 0)
            r = serve_option(c, optarg, &so, &sa);
        if (r >= 0) {
            rc = r;
            continue;
        }
        if (c == O_FALLBACK && strcmp(optarg, "popular") != 0)
            rc = cli_usage_error(CMD, "--fallback takes 'popular', not '%s'", optarg);
        so.fallback_popular |= c == O_FALLBACK;
        so.admin |= c == O_ADMIN;
        sa.quiet |= c == 'q';
        sa.verbose |= c == 'v';
        if (c == 'h') {
            help(&so);
            return CLI_EXIT_OK;
        }
    }
    if (rc || (rc = cli_no_operands(CMD, argc, argv)))
        return rc;
    if (!sa.data)
        return cli_usage_error(CMD, "--data is required");
    hc_rec_spec spec;
    if (hc_rec_args_spec(&ra, &spec) != HC_OK)
        return cli_usage_error(CMD, "%s", hc_errmsg());
    so.spec = &spec;
    cli_log_init(sa.verbose, sa.quiet);
    cli_threads(1);
    raise_fd_limit();

    hc_dataset ds = {0};
    hc_server *srv = NULL;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    if ((rc = hc_dataset_load(sa.data, &ds)) != HC_OK)
        goto done;
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if ((rc = hc_server_start(ra.path, ra.n_paths, &ds, &so, &srv)) != HC_OK)
        goto done;
    print_banner(&ra, &ds, &so, sa.quiet, hc_server_port(srv));
    int sig = serve_loop(srv, &sigs, sa.quiet);
    if (!sa.quiet)
        fprintf(stderr, "hetcomp serve: %s, draining\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    int left = hc_server_drain(srv, sa.drain_s);
    if (left)
        fprintf(stderr, "hetcomp serve: %d requests still in progress after %d s, stopping\n", left,
                sa.drain_s);
done:
    hc_server_stop(srv);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
