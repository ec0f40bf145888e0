/*
 * distill_cli.c - the distillation flags, progress and run log (see distill_cli.h).
 *
 * One table lists every hyperparameter of hc_distill_opts: its flag, type, range, where it
 * lives in the struct, and its help line; parsing, help (defaults read from
 * hc_distill_opts_default) and the options' JSON all come from it. Help lines state each
 * choice; why it was made is in docs/method.md §9-§10.
 */
#include "distill_cli.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* F_CHOICE: an int32 index into the '|'-separated names of meta. */
enum { F_INT, F_FLOAT, F_U64, F_BOOL, F_CHOICE };

typedef struct {
    const char *name, *meta; /* flag without "--", value placeholder */
    int kind;
    size_t off; /* offsetof(hc_distill_opts, field) */
    double lo, hi;
    const char *help;
    const char *section; /* printed before the flag when not NULL */
} flag_spec;

#define OFF(f) offsetof(hc_distill_opts, f)

static const flag_spec flags[] = {
    {"dim", "N", F_INT, OFF(dim), 1, 4096, "student dimension",
     "student and training (docs/method.md sections 4-7; defaults are the paper's):"},
    {"epochs", "N", F_INT, OFF(max_epochs), 1, 1000000, "maximum epochs", NULL},
    {"lr", "X", F_FLOAT, OFF(lr), 1e-9, 10, "Adam learning rate", NULL},
    {"wd", "X", F_FLOAT, OFF(wd), 0, 10, "Adam weight decay, coupled L2", NULL},
    {"batch", "N", F_INT, OFF(batch), 1, 1 << 24,
     "train interactions per step; a step trains their unique users", NULL},
    {"init-std", "X", F_FLOAT, OFF(init_std), 0, 10, "student init N(0, X)", NULL},
    {"eval-every", "N", F_INT, OFF(eval_every), 1, 1000000, "evaluate every N epochs from epoch 0",
     NULL},
    {"patience", "N", F_INT, OFF(patience), 1, 1000000, "evaluations without a better valid R@50",
     NULL},
    {"seed", "N", F_U64, OFF(seed), 0, 0, "random seed", NULL},
    {"k", "N", F_INT, OFF(k), 10, 512, "ensemble list length K (every method's teacher list)",
     "ensemble and HetComp:"},
    {"temperature", "T", F_FLOAT, OFF(temperature), 1e-6, 1e9, "ensemble rank temperature", NULL},
    {"dkc-every", "P", F_INT, OFF(dkc_every), 1, 100000, "DKC period p in epochs", NULL},
    {"alpha", "X", F_FLOAT, OFF(alpha), 0, 100, "DKC threshold base alpha", NULL},
    {"decay", "X", F_FLOAT, OFF(decay), 0, 1, "DKC threshold decay per period", NULL},
    {"w-set", "X", F_FLOAT, OFF(w_set), 0, 1e6, "set-level loss weight, phase 1", NULL},
    {"w-rank", "X", F_FLOAT, OFF(w_rank), 0, 1e6, "permutation-level loss weight, phase 2", NULL},
    {"no-dkc", NULL, F_BOOL, OFF(no_dkc), 0, 1, "ablation: final checkpoints from the start", NULL},
    {"switch-epoch", "N", F_INT, OFF(switch_epoch), 0, 1000000,
     "with --no-dkc: epoch of the switch to phase 2", NULL},
    {"no-akt", NULL, F_BOOL, OFF(no_akt), 0, 1, "ablation: permutation-level loss from the start",
     NULL},
    {"rest", "auto|exact|sampled", F_CHOICE, OFF(rest), 0, 0,
     "rest-set sums over every unobserved item, or estimated from draws; auto samples from "
     "10000 items on (docs/distillation.md)",
     "HetComp at catalog scale:"},
    {"rest-samples", "S", F_INT, OFF(rest_samples), 1, 1000000,
     "rest items drawn per group of users when sampled", NULL},
    {"rest-group", "G", F_INT, OFF(rest_group), 1, 1 << 20,
     "users of a step sharing one set of draws", NULL},
    {"rest-proposal", "uniform|pop", F_CHOICE, OFF(rest_proposal), 0, 0,
     "draws uniform or popularity-proportional (add-one smoothed), importance-weighted", NULL},
    {"dkc-rank", "auto|exact|sampled", F_CHOICE, OFF(dkc_rank), 0, 0,
     "DKC's student top-50 over every item, or estimated on the snapshots' items; auto "
     "follows --rest",
     NULL},
    {"dkc-samples", "N", F_INT, OFF(dkc_samples), 1, 1000000,
     "items drawn per user for the estimated ranks", NULL},
    {"eval-users", "N", F_INT, OFF(eval_users), 0, 1 << 30,
     "metrics on a fixed seeded sample of N users when there are more (0: all)", NULL},
    {"rd-alpha", "X", F_FLOAT, OFF(rd_alpha), 0, 1e6, "KD weight alpha",
     "baselines (docs/method.md section 10): loss = BPR + weight x KD, the teacher ranking the\n"
     "final checkpoints' ensemble top-K list without sampling\n"
     "RD:"},
    {"rd-k", "N", F_INT, OFF(rd_k), 1, 512, "teacher list length (at most --k)", NULL},
    {"rd-lambda", "X", F_FLOAT, OFF(rd_lambda), 1e-6, 1e6, "position weight temperature lambda",
     NULL},
    {"rd-mu", "X", F_FLOAT, OFF(rd_mu), 0, 1e6, "rank discrepancy sharpness mu", NULL},
    {"rd-start", "N", F_INT, OFF(rd_start), 0, 1000000, "first epoch of the dynamic weight", NULL},
    {"rd-samples", "N", F_INT, OFF(rd_samples), 1, 1000000,
     "sampled items of the student rank estimate", NULL},
    {"cd-lambda", "X", F_FLOAT, OFF(cd_lambda), 0, 1e6, "KD weight",
     "CD (docs/method.md section 10.3), student-guided, with soft labels exp(-r/T)\n"
     "from the ensemble rank:"},
    {"cd-items", "N", F_INT, OFF(cd_items), 1, 512, "items drawn per user and epoch", NULL},
    {"cd-candidates", "N", F_INT, OFF(cd_candidates), 1, 100000000, "the draws' student top list",
     NULL},
    {"cd-mu", "X", F_FLOAT, OFF(cd_mu), 1e-6, 1e12,
     "rank sampling p(r) ~ exp(-r/mu) (woriazzc/KDs' 3000 x 20)", NULL},
    {"rrd-lambda", "X", F_FLOAT, OFF(rrd_lambda), 0, 1e6, "KD weight",
     "RRD (and the RRD part of MTD and DCD):"},
    {"rrd-k", "N", F_INT, OFF(rrd_k), 1, 512,
     "ranked list length, at most --k (K: the list HetComp distils)", NULL},
    {"rrd-l", "N", F_INT, OFF(rrd_l), 0, 512,
     "rest items drawn per user and epoch outside the ensemble list", NULL},
    {"mtd-lambda", "X", F_FLOAT, OFF(mtd_lambda), 0, 1e6,
     "KD weight (per-user softmax teacher gate trained jointly, RRD loss)",
     "MTD (docs/method.md section 10.5):"},
    {"cl-lambda", "X", F_FLOAT, OFF(cl_lambda), 0, 1e6, "KD weight",
     "CL-DRD (docs/method.md section 10.6):"},
    {"cl-list", "N", F_INT, OFF(cl_list), 2, 512, "list length, at most --k", NULL},
    {"cl-every", "N", F_INT, OFF(cl_every), 1, 1000000,
     "epochs per curriculum stage, K = 5, 10, 20, all", NULL},
    {"dcd-lambda", "X", F_FLOAT, OFF(dcd_lambda), 0, 1e6, "KD weight of RRD + UCD + ICD",
     "DCD (docs/method.md section 10.7):"},
    {"dcd-n", "N", F_INT, OFF(dcd_n), 1, 1000000,
     "top-N compared, at most --k (the original 500 needs longer lists)", NULL},
    {"dcd-samples", "N", F_INT, OFF(dcd_samples), 1, 512,
     "most entries per correction set (all when fewer: no sampling)", NULL},
    {"dcd-eps", "X", F_FLOAT, OFF(dcd_eps), 1e-6, 1e6, "discrepancy scale epsilon", NULL},
    {"dcd-every", "N", F_INT, OFF(dcd_every), 1, 1000000,
     "discrepancy sets updated at the evaluations of epochs that are multiples of N", NULL},
};
#define N_FLAGS ((int)(sizeof flags / sizeof flags[0]))

enum { O_THREADS = CLI_DISTILL_OPT0 + N_FLAGS, O_QUIET };

int cli_distill_args_init(cli_distill_args *a, int argc, const struct option *own)
{
    static const struct option shared[] = {{"data", required_argument, 0, 'd'},
                                           {"teachers", required_argument, 0, 't'},
                                           {"out", required_argument, 0, 'o'},
                                           {"threads", required_argument, 0, O_THREADS},
                                           {"quiet", no_argument, 0, O_QUIET}};
    const size_t cap = sizeof a->longopts / sizeof a->longopts[0];
    size_t n = 0;
    memset(a, 0, sizeof *a);
    hc_distill_opts_default(&a->o);
    for (size_t k = 0; k < sizeof shared / sizeof shared[0]; k++)
        a->longopts[n++] = shared[k];
    for (int f = 0; f < N_FLAGS; f++)
        a->longopts[n++] = (struct option){
            flags[f].name, flags[f].kind == F_BOOL ? no_argument : required_argument, 0,
            CLI_DISTILL_OPT0 + f};
    for (; own && own->name; own++) {
        if (n + 1 >= cap)
            return hc_error(HC_EINVAL, "too many options");
        a->longopts[n++] = *own;
    }
    a->teachers = calloc((size_t)argc + 1, sizeof *a->teachers);
    return a->teachers ? HC_OK : hc_error(HC_ENOMEM, "out of memory");
}

void cli_distill_args_free(cli_distill_args *a)
{
    free(a->teachers);
    a->teachers = NULL;
}

/* The name of choice i of names ("a|b|c") into buf. */
static void choice_name(const char *names, int32_t i, char *buf, size_t n)
{
    for (; i > 0 && names; i--)
        names = strchr(names, '|') ? strchr(names, '|') + 1 : NULL;
    size_t len = names ? strcspn(names, "|") : 0;
    snprintf(buf, n, "%.*s", (int)len, names ? names : "");
}

/* The index of arg among names ("a|b|c"), or a usage error naming them. */
static int choice_index(const char *cmd, const char *flag, const char *names, const char *arg,
                        int32_t *out)
{
    char buf[64];
    for (int32_t i = 0;; i++) {
        choice_name(names, i, buf, sizeof buf);
        if (!buf[0])
            return cli_usage_error(cmd, "%s takes one of %s, not '%s'", flag, names, arg);
        if (!strcmp(buf, arg)) {
            *out = i;
            return 0;
        }
    }
}

/* Parses hyperparameter f with value arg into o. */
static int set_flag(const char *cmd, const flag_spec *s, const char *arg, hc_distill_opts *o)
{
    char buf[64], *field = (char *)o + s->off;
    snprintf(buf, sizeof buf, "--%s", s->name);
    int rc = 0;
    double v;
    switch (s->kind) {
    case F_INT:
        rc = cli_int(cmd, buf, arg, (long)s->lo, (long)s->hi, (int32_t *)(void *)field);
        break;
    case F_FLOAT:
        if (!(rc = cli_double(cmd, buf, arg, s->lo, s->hi, &v)))
            *(float *)(void *)field = (float)v;
        break;
    case F_U64:
        rc = cli_u64(cmd, buf, arg, (uint64_t *)(void *)field);
        break;
    case F_CHOICE:
        rc = choice_index(cmd, buf, s->meta, arg, (int32_t *)(void *)field);
        break;
    default:
        *(int *)(void *)field = 1;
    }
    return rc;
}

int cli_distill_arg(const char *cmd, int c, const char *arg, cli_distill_args *a)
{
    switch (c) {
    case 'd':
        a->data = arg;
        return 0;
    case 't':
        a->teachers[a->n_teachers++] = (char *)arg;
        return 0;
    case 'o':
        a->out = arg;
        return 0;
    case O_THREADS:
        return cli_int(cmd, "--threads", arg, 0, 1024, &a->threads);
    case O_QUIET:
        a->quiet = 1;
        return 0;
    default:
        if (c < CLI_DISTILL_OPT0 || c >= CLI_DISTILL_OPT0 + N_FLAGS)
            return -1;
        return set_flag(cmd, &flags[c - CLI_DISTILL_OPT0], arg, &a->o);
    }
}

int cli_distill_args_finish(const char *cmd, cli_distill_args *a, int argc, char **argv)
{
    for (int i = optind; i < argc; i++)
        a->teachers[a->n_teachers++] = argv[i];
    if (!a->data || !a->out)
        return cli_usage_error(cmd, "--data and --out are required");
    return 0;
}

int cli_distill_load(const cli_distill_args *a, cli_distill_inputs *in)
{
    memset(in, 0, sizeof *in);
    int rc;
    in->tv = calloc((size_t)(a->n_teachers > 0 ? a->n_teachers : 1), sizeof *in->tv);
    if (!in->tv)
        rc = hc_error(HC_ENOMEM, "out of memory");
    else if ((rc = hc_dataset_load(a->data, &in->ds)) == HC_OK && a->n_teachers > 0)
        rc = cli_load_teachers(&in->ds, a->teachers, a->n_teachers, &in->t);
    if (rc) {
        cli_distill_inputs_free(in);
        return rc;
    }
    in->n_teachers = a->n_teachers;
    for (int32_t x = 0; x < in->n_teachers; x++)
        in->tv[x] = &in->t[x];
    return HC_OK;
}

void cli_distill_inputs_free(cli_distill_inputs *in)
{
    cli_free_teachers(in->t, in->n_teachers);
    free(in->tv);
    hc_dataset_free(&in->ds);
    memset(in, 0, sizeof *in);
}

/* The value of flag s in o, as text. */
static void flag_value(const flag_spec *s, const hc_distill_opts *o, char *buf, size_t n)
{
    const char *field = (const char *)o + s->off;
    switch (s->kind) {
    case F_INT:
        snprintf(buf, n, "%d", *(const int32_t *)(const void *)field);
        break;
    case F_FLOAT:
        snprintf(buf, n, "%g", (double)*(const float *)(const void *)field);
        break;
    case F_U64:
        snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)(const void *)field);
        break;
    case F_CHOICE:
        choice_name(s->meta, *(const int32_t *)(const void *)field, buf, n);
        break;
    default:
        snprintf(buf, n, "%s", *(const int *)(const void *)field ? "on" : "off");
    }
}

/* Prints text word-wrapped to 80 columns, continuation lines indented by 22. */
static void wrapped(FILE *fp, const char *text)
{
    int col = 22;
    while (*text) {
        const char *sp = strchr(text, ' ');
        int w = sp ? (int)(sp - text) : (int)strlen(text);
        if (col > 22 && col + 1 + w > 80) {
            fprintf(fp, "\n%22s", "");
            col = 22;
        } else if (col > 22) {
            fputc(' ', fp);
            col++;
        }
        fprintf(fp, "%.*s", w, text);
        col += w;
        text += w;
        while (*text == ' ')
            text++;
    }
    fputc('\n', fp);
}

void cli_distill_flags_help(FILE *fp)
{
    hc_distill_opts o;
    hc_distill_opts_default(&o);
    fprintf(fp, "  --data FILE         dataset file (required)\n"
                "  --teachers T ...    teachers: directories from 'hetcomp teacher' or trajectory\n"
                "                      files (not needed for bpr)\n"
                "  --out DIR           output directory (required)\n"
                "  --threads N         threads (all cores)\n"
                "  --quiet             no progress lines\n");
    for (int f = 0; f < N_FLAGS; f++) {
        const flag_spec *s = &flags[f];
        char name[64], def[64], text[512];
        if (s->section)
            fprintf(fp, "\n%s\n", s->section);
        snprintf(name, sizeof name, "--%s%s%s", s->name, s->meta ? " " : "",
                 s->meta ? s->meta : "");
        flag_value(s, &o, def, sizeof def);
        if (s->kind == F_BOOL)
            snprintf(text, sizeof text, "%s", s->help);
        else
            snprintf(text, sizeof text, "%s (%s)", s->help, def);
        fprintf(fp, "  %-19s ", name);
        wrapped(fp, text);
    }
}

/* A float as the shortest decimal that reads back as it (0.001, not 0.001000000047). */
static double float_json(float x)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", (double)x);
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)x);
        if ((float)strtod(buf, NULL) == x)
            break;
    }
    return strtod(buf, NULL);
}

json_t *cli_distill_opts_json(const hc_distill_opts *o)
{
    json_t *j = json_object();
    for (int f = 0; j && f < N_FLAGS; f++) {
        const flag_spec *s = &flags[f];
        const char *field = (const char *)o + s->off;
        char name[64];
        if (s->kind == F_CHOICE)
            choice_name(s->meta, *(const int32_t *)(const void *)field, name, sizeof name);
        json_t *v =
            s->kind == F_CHOICE  ? json_string(name)
            : s->kind == F_INT   ? json_integer(*(const int32_t *)(const void *)field)
            : s->kind == F_FLOAT ? json_real(float_json(*(const float *)(const void *)field))
            : s->kind == F_U64 ? json_integer((json_int_t) * (const uint64_t *)(const void *)field)
                               : json_boolean(*(const int *)(const void *)field);
        if (json_object_set_new(j, s->name, v)) {
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

void cli_distill_on_epoch(void *ud, int32_t epoch, double loss, double secs)
{
    cli_distill_progress *p = ud;
    if (p->quiet || !p->tty)
        return;
    fprintf(stderr, "\r[%s] epoch %d  loss %.5g  %.2fs/epoch   ", p->label, epoch, loss, secs);
    fflush(stderr);
}

void cli_distill_on_eval(void *ud, const hc_distill_eval *e)
{
    cli_distill_progress *p = ud;
    json_t *row = json_object(), *ck = json_array();
    json_object_set_new(row, "epoch", json_integer(e->epoch));
    json_object_set_new(row, "phase", json_integer(e->st.phase));
    for (int32_t x = 0; x < p->n_teachers; x++)
        json_array_append_new(ck, json_real(e->st.mean_ckpt[x]));
    json_object_set_new(row, "mean_ckpt", ck);
    json_object_set_new(row, "loss", json_real(e->loss));
    json_object_set_new(row, "train_s", json_real(e->train_s));
    json_object_set_new(row, "eval_s", json_real(e->eval_s));
    json_object_set_new(row, "metrics", cli_result_json(&e->res));
    json_array_append_new(p->rows, row);
    if (p->quiet || !p->evals)
        return;
    if (p->tty)
        fprintf(stderr, "\r\033[K");
    cli_eval_sample_note(p->label, &e->res.valid, &p->sample_said);
    fprintf(stderr, "[%s] epoch %4d", p->label, e->epoch);
    if (e->st.phase != 0) { /* a method with phases and moving checkpoints (HetComp) */
        fprintf(stderr, " phase %d ckpt", e->st.phase);
        for (int32_t x = 0; x < p->n_teachers; x++)
            fprintf(stderr, " %.2f", e->st.mean_ckpt[x]);
    }
    fprintf(stderr,
            "  loss %-9.5g valid R@10 %.4f N@10 %.4f R@50 %.4f N@50 %.4f | test R@10 %.4f "
            "N@10 %.4f R@50 %.4f N@50 %.4f  %.1fs+%.1fs%s\n",
            e->loss, e->res.valid.recall[0], e->res.valid.ndcg[0], e->res.valid.recall[2],
            e->res.valid.ndcg[2], e->res.test.recall[0], e->res.test.ndcg[0], e->res.test.recall[2],
            e->res.test.ndcg[2], e->train_s, e->eval_s, e->improved ? "  *" : "");
}

json_t *cli_distill_log(const char *method, const hc_traj *teachers, int32_t n_teachers,
                        const hc_distill_opts *o, hc_model *student, const hc_distill_result *r,
                        json_t *rows)
{
    const hc_distill_eval *best = &r->evals[r->best];
    json_t *root = json_object(), *tj = json_array();
    if (!root || !tj) {
        json_decref(root);
        json_decref(tj);
        return NULL;
    }
    for (int32_t x = 0; x < n_teachers; x++)
        json_array_append_new(tj, json_string(teachers[x].model));
    int bad = json_object_set_new(root, "method", json_string(method));
    bad |= json_object_set_new(root, "teachers", tj);
    bad |= json_object_set_new(root, "dim", json_integer(o->dim));
    bad |= json_object_set_new(root, "options", cli_distill_opts_json(o));
    bad |= json_object_set_new(root, "params", json_integer(hc_model_n_params(student)));
    bad |= json_object_set_new(root, "epochs", json_integer(r->epochs));
    bad |= json_object_set_new(root, "best_epoch", json_integer(best->epoch));
    bad |= json_object_set_new(root, "train_s", json_real(r->train_s));
    bad |= json_object_set_new(root, "train_s_per_epoch",
                               json_real(r->train_s / (r->epochs > 0 ? r->epochs : 1)));
    bad |= json_object_set_new(root, "best", cli_result_json(&best->res));
    bad |= json_object_set(root, "evaluations", rows);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}
