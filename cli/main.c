/*
 * main.c - the hetcomp command: a table of subcommands, each in cli/cmd_<name>.c.
 */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"
#include "dist/dist.h"
#include "stage.h"

static const cli_command commands[] = {
    {"run", cmd_run, "the whole pipeline: split, teachers, ensemble, distillation, report"},
    {"report", cmd_report, "write the HTML report of a run directory"},
    {"synth", cmd_synth, "generate the built-in synthetic dataset (interactions as TSV)"},
    {"split", cmd_split, "read interactions, filter and split them into a dataset file"},
    {"stats", cmd_stats, "print counts, density and activity/popularity percentiles"},
    {"eval", cmd_eval, "full-ranking Recall/NDCG@10,20,50 of a model on a dataset"},
    {"teacher", cmd_teacher,
     "train a teacher (mf, ml, gnn, dl, ae, iae) and record its trajectory"},
    {"trajectory", cmd_trajectory, "show, export or import a trajectory (text rankings)"},
    {"ensemble", cmd_ensemble, "rank-importance ensemble of teachers' trajectories"},
    {"distill", cmd_distill, "distil teachers into a small MF student (hetcomp, bpr, rd, ...)"},
    {"compare", cmd_compare, "train the student with every distillation method and tabulate"},
    {"recommend", cmd_recommend, "top-K items of a user (or of every user) from a model"},
    {"serve", cmd_serve, "serve top-K recommendations over HTTP (JSON)"},
    {"export", cmd_export, "write a model's tensors as NumPy .npy files"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *fp)
{
    fprintf(fp, "hetcomp %s - distil heterogeneous recommenders into one fast top-K model\n\n",
            HC_VERSION_STRING);
    fprintf(fp, "usage: hetcomp <command> [options]   (hetcomp <command> --help for details)\n\n");
    fprintf(fp, "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

/* glibc serves blocks of 128 kB and more by mmap, but raises that threshold to the size of
 * each such block freed (up to 32 MB); later temporary buffers of a few MB (evaluation's score
 * blocks, model copies) then come from the heap and stay resident after free. A fixed 1 MB
 * threshold gives them back: a 60-epoch AE teacher run with an evaluation every 5 epochs
 * (bench_teachers.sh --full ae) peaked at 590 MB resident, at 269 MB with it. Fixing it also
 * freezes the heap's trim threshold at 128 kB, and the heap then shrank and regrew (page
 * faults) tens of times an epoch in distillation (3.02 against 2.86 s an epoch); 32 MB, the
 * most glibc's own adjustment would reach, keeps the small blocks' heap in place. */
static void tune_malloc(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
}

/* Runs a command on every rank under mpirun (docs/distributed.md): only rank 0 prints
 * results (the others' stdout goes to /dev/null; files are rank 0's alone, core/fileio.c),
 * and a rank that fails ends the whole job, so no rank waits for it and nothing half-done is
 * published. stderr is line-buffered there: mpirun merges the ranks' streams as bytes
 * arrive, and a line written in pieces would be spliced into another rank's. Without MPI:
 * the command as it is. */
static int run_ranked(const cli_command *c, int argc, char **argv)
{
    dist_init(&argc, &argv);
    if (dist_rank() > 0 && !freopen("/dev/null", "w", stdout))
        dist_abort("cannot silence stdout");
    if (dist_size() > 1)
        setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
    int rc = c->run(argc, argv);
    if (rc != CLI_EXIT_OK && dist_size() > 1)
        dist_abort("'%s' failed (exit status %d); ending every rank", c->name, rc);
    dist_finalize();
    return rc;
}

int main(int argc, char **argv)
{
    tune_malloc();
    cli_die_with_parent();
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("hetcomp %s\n", HC_VERSION_STRING);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name))
            return run_ranked(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "hetcomp: unknown command '%s'\n\n", name);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
