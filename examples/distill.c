/*
 * distill.c - the whole hetcomp pipeline through the public header alone: a synthetic
 * dataset, two heterogeneous teachers (matrix factorisation and metric learning) trained with
 * their trajectories, their rank-importance ensemble, a HetComp student distilled from the
 * trajectories, its evaluation against the teachers, recommendations, and a save/load round
 * trip. Build against an installed hetcomp:
 *
 *     cc distill.c $(pkg-config --cflags --libs hetcomp) -o distill && ./distill [out.hcm]
 *
 * Runs in about a minute on two cores (small data, short runs; real runs use the defaults).
 */
#include <hetcomp.h>
#include <stdio.h>
#include <stdlib.h>

/* Stops with the library's message on error. */
static void check(int rc, const char *what)
{
    if (rc != HC_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, hc_errmsg(), hc_err_name(rc));
        exit(1);
    }
}

static void print_row(const char *name, const hc_metrics *m, long long params)
{
    printf("%-10s R@10 %.4f R@50 %.4f N@50 %.4f  %lld parameters\n", name, m->recall[0],
           m->recall[2], m->ndcg[2], params);
}

static void on_eval(void *ud, int32_t epoch, double loss, const hc_eval_result *res)
{
    printf("  [%s] epoch %3d loss %10.4g valid R@50 %.4f\n", (const char *)ud, epoch, loss,
           res->valid.recall[2]);
}

/* A 600 x 400 synthetic dataset split 60/20/20 per user. */
static void make_data(hc_dataset *ds)
{
    hc_synth_opts so;
    hc_synth_opts_default(&so);
    so.n_users = 600;
    so.n_items = 400;
    so.n_interactions = 18000;
    so.seed = 7;
    hc_idmap *users = hc_idmap_new(), *items = hc_idmap_new();
    hc_interactions x = {0};
    check(users && items ? HC_OK : HC_ENOMEM, "id maps");
    check(hc_synth(&so, users, items, &x), "synth");
    hc_split_opts sp;
    hc_split_opts_default(&sp);
    check(hc_split(&x, users, items, &sp, ds), "split");
    hc_interactions_free(&x);
    hc_idmap_free(users);
    hc_idmap_free(items);
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : "student.hcm";
    hc_set_threads(0);
    hc_dataset ds;
    make_data(&ds);
    printf("hetcomp %s: %d users, %d items, %lld train interactions\n", HC_VERSION_STRING,
           ds.n_users, ds.n_items, (long long)ds.train.nnz);

    /* Two teachers of different families, each with a 4-checkpoint trajectory. */
    static const char *const families[2] = {"mf", "ml"};
    const char *const params[] = {"dim=32", "epochs=60", "eval-every=5", "lr=0.005", NULL};
    hc_model *teacher[2];
    hc_traj traj[2];
    hc_train_summary sum;
    for (int x = 0; x < 2; x++) {
        check(hc_train_teacher(&ds, families[x], params, on_eval, (void *)families[x], &teacher[x],
                               &traj[x], &sum),
              families[x]);
        print_row(families[x], &sum.best.test, (long long)hc_model_n_params(teacher[x]));
    }

    /* Their ensemble, and a 6-dimensional HetComp student distilled from the trajectories. */
    const hc_traj *tv[2] = {&traj[0], &traj[1]};
    hc_eval_result ens;
    check(hc_ensemble_build(&ds, tv, 2, NULL, 10.0f, 100, NULL, &ens), "ensemble");
    print_row("ensemble", &ens.test, 0);
    const char *const kd[] = {"dim=6", "epochs=200", "eval-every=10", "lr=0.01", NULL};
    hc_model *student;
    check(hc_distill(&ds, "hetcomp", tv, 2, kd, NULL, NULL, &student, &sum), "distill");
    hc_eval_result res;
    check(hc_model_evaluate(&ds, student, &res), "evaluate");
    print_row("hetcomp", &res.test, (long long)hc_model_n_params(student));

    /* Top-5 for two users, in the dataset's own ids. */
    int32_t users[2] = {0, 1}, items[10];
    float scores[10];
    check(hc_recommend(student, &ds, users, 2, 5, HC_EXCLUDE_TRAIN, items, scores, NULL),
          "recommend");
    for (int u = 0; u < 2; u++) {
        printf("user %s:", hc_idmap_name(ds.users, users[u]));
        for (int r = 0; r < 5; r++)
            printf(" %s (%.3f)", hc_idmap_name(ds.items, items[u * 5 + r]), scores[u * 5 + r]);
        printf("\n");
    }

    /* The student file loads back and scores the same. */
    hc_model *back;
    check(hc_model_save(student, out), "save");
    check(hc_model_load(out, &ds, &back), "load");
    hc_eval_result again;
    check(hc_model_evaluate(&ds, back, &again), "evaluate loaded");
    if (again.test.recall[2] != res.test.recall[2]) {
        fprintf(stderr, "loaded student differs: R@50 %g vs %g\n", again.test.recall[2],
                res.test.recall[2]);
        return 1;
    }
    printf("saved %s and loaded it back: the same R@50\n", out);

    hc_model_free(back);
    hc_model_free(student);
    for (int x = 0; x < 2; x++) {
        hc_model_free(teacher[x]);
        hc_traj_free(&traj[x]);
    }
    hc_dataset_free(&ds);
    return 0;
}
