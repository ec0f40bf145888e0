/*
 * cmd_serve.c - `hetcomp serve`: answers top-K recommendation requests over HTTP from a saved
 * model, or from the live rank-importance ensemble of several (src/serve/http.c; endpoints in
 * docs/serving.md) until SIGINT or SIGTERM.
 *
 * SIGINT/SIGTERM are blocked before the daemon's threads start (so they inherit the mask) and
 * the main thread waits for them with sigwait, then stops the daemon cleanly. Scoring one user
 * is small, so OpenMP/BLAS run single-threaded and concurrency comes from the worker pool.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "serve/http.h"

static const char *CMD = "serve";

static void help(const hc_server_opts *d)
{
    printf("usage: hetcomp serve --model M.hcm [--model M2.hcm ...] --data DS.hcd [options]\n\n"
           "Serves top-K recommendations over HTTP/1.1 until SIGINT or SIGTERM:\n"
           "  GET /v1/recommend?user=ID&k=10[&include_seen=1]   top-K as JSON\n"
           "  GET /healthz                                      model and dataset sizes\n"
           "  GET /metrics                                      request counts, latency\n\n"
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
           "  --threads N         HTTP worker threads (%d)\n"
           "  --max-k N           largest k a request may ask for (%d)\n"
           "  --quiet             only errors on stderr (still prints the listening line)\n"
           "  --verbose           also log malformed HTTP requests the daemon rejected\n",
           HC_REC_ENSEMBLE_K, (double)HC_REC_TEMPERATURE, d->port, d->bind, d->threads, d->max_k);
}

int cmd_serve(int argc, char **argv)
{
    enum { O_PORT = 256, O_BIND, O_THREADS, O_MAXK, O_QUIET, O_VERBOSE };
    static const struct option opts[] = {CLI_REC_OPTIONS,
                                         {"data", required_argument, 0, 'd'},
                                         {"port", required_argument, 0, O_PORT},
                                         {"bind", required_argument, 0, O_BIND},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"max-k", required_argument, 0, O_MAXK},
                                         {"quiet", no_argument, 0, O_QUIET},
                                         {"verbose", no_argument, 0, O_VERBOSE},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    hc_server_opts so;
    hc_server_opts_default(&so);
    const char *data = NULL;
    int32_t port = so.port, threads = so.threads;
    hc_rec_args ra = {0};
    int quiet = 0, verbose = 0, rc = 0, c;
    cli_getopt g;
    cli_getopt_init(&g, CMD, "m:d:h", opts, cli_rec_repeatable, 1);
    while (!rc && (c = cli_getopt_next(&g, argc, argv, &rc)) != -1) {
        int shared = cli_rec_option(CMD, c, optarg, &ra);
        if (shared >= 0) {
            rc = shared;
            continue;
        }
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case O_PORT:
            rc = cli_int(CMD, "--port", optarg, 0, 65535, &port);
            break;
        case O_BIND:
            so.bind = optarg;
            break;
        case O_THREADS:
            rc = cli_int(CMD, "--threads", optarg, 1, 1024, &threads);
            break;
        case O_MAXK:
            rc = cli_int(CMD, "--max-k", optarg, 1, 1000000, &so.max_k);
            break;
        case O_QUIET:
            quiet = 1;
            break;
        case O_VERBOSE:
            verbose = 1;
            break;
        case 'h':
            help(&so);
            return CLI_EXIT_OK;
        }
    }
    if (rc || (rc = cli_no_operands(CMD, argc, argv)))
        return rc;
    if (!data)
        return cli_usage_error(CMD, "--data is required");
    hc_rec_spec spec;
    if (hc_rec_args_spec(&ra, &spec) != HC_OK)
        return cli_usage_error(CMD, "%s", hc_errmsg());
    so.port = port;
    so.threads = threads;
    so.labels = ra.path;
    cli_log_init(verbose, quiet);
    cli_threads(1);

    hc_dataset ds = {0};
    hc_server *srv = NULL;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    if ((rc = hc_dataset_load(data, &ds)) != HC_OK ||
        (rc = hc_rec_spec_load(&spec, ra.path, ra.n_paths, &ds)) != HC_OK)
        goto done;
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if ((rc = hc_server_start(&spec, &ds, &so, &srv)) != HC_OK)
        goto done;
    int v6 = strchr(so.bind, ':') != NULL;
    if (!quiet && ra.n_paths == 1)
        fprintf(stderr, "hetcomp serve: %s model, %d users, %d items, %d threads\n",
                spec.models[0]->type->name, ds.n_users, ds.n_items, so.threads);
    else if (!quiet)
        fprintf(stderr, "hetcomp serve: ensemble of %d models, %d users, %d items, %d threads\n",
                ra.n_paths, ds.n_users, ds.n_items, so.threads);
    fprintf(stderr, "listening on http://%s%s%s:%d\n", v6 ? "[" : "", so.bind, v6 ? "]" : "",
            hc_server_port(srv));
    fflush(stderr);
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    if (!quiet)
        fprintf(stderr, "hetcomp serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
done:
    hc_server_stop(srv);
    hc_rec_spec_free(&spec);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
