/*
 * traj_text.c - the text form of a trajectory, so that rankings of teachers trained anywhere
 * can be brought in (and hetcomp's own ones inspected). One row per ranked item:
 *
 *   # hetcomp trajectory v1
 *   # model<TAB>mf
 *   # k<TAB>100
 *   # checkpoint<TAB>0<TAB>epoch<TAB>10<TAB>valid_r50<TAB>0.0987
 *   checkpoint<TAB>user<TAB>rank<TAB>item<TAB>list
 *   0<TAB>u17<TAB>0<TAB>i42<TAB>top
 *   0<TAB>u17<TAB>0<TAB>i3<TAB>observed
 *
 * Users and items are the dataset's own ids. "top" rows (the default when the fifth column
 * is absent) rank unobserved items, 0 = best; "observed" rows order the user's train items.
 * The '#' lines and the header are optional on import. Ranks may have gaps (lists are
 * compacted in rank order); observed lists that leave out train items get them appended in
 * id order. Every problem is reported with its line.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader_internal.h"
#include "traj/trajectory.h"

#define MAX_CKPT 1000
#define MAX_K    100000

int hc_traj_export_text(const hc_traj *t, const hc_dataset *ds, const char *path)
{
    if (t->ds_checksum != ds->checksum || t->n_users != ds->n_users)
        return hc_error(HC_EMISMATCH, "%s: trajectory and dataset do not match", path);
    hc_afile af;
    int rc = hc_afile_open(&af, path);
    if (rc)
        return rc;
    FILE *fp = af.fp;
    fprintf(fp, "# hetcomp trajectory v1\n# model\t%s\n# k\t%d\n", t->model, t->k);
    for (int32_t c = 0; c < t->n_ckpt; c++)
        fprintf(fp, "# checkpoint\t%d\tepoch\t%d\tvalid_r50\t%.9g\n", c, t->epochs[c],
                (double)t->valid_r50[c]);
    fprintf(fp, "checkpoint\tuser\trank\titem\tlist\n");
    for (int32_t c = 0; c < t->n_ckpt; c++) {
        for (int32_t u = 0; u < t->n_users; u++) {
            const char *uid = hc_idmap_name(ds->users, u);
            const int32_t *top = hc_traj_top(t, c, u);
            for (int32_t r = 0; r < t->k && top[r] >= 0; r++)
                fprintf(fp, "%d\t%s\t%d\t%s\ttop\n", c, uid, r, hc_idmap_name(ds->items, top[r]));
            if (!t->observed)
                continue;
            const int32_t *o = t->observed + (int64_t)c * t->train_nnz;
            for (int64_t k = ds->train.indptr[u]; k < ds->train.indptr[u + 1]; k++)
                fprintf(fp, "%d\t%s\t%lld\t%s\tobserved\n", c, uid,
                        (long long)(k - ds->train.indptr[u]), hc_idmap_name(ds->items, o[k]));
        }
    }
    return hc_afile_commit(&af);
}

typedef struct {
    int32_t c, u, rank, item;
    int64_t line;
} row;

typedef struct {
    row *v;
    int64_t n, cap;
} rows;

static int rows_push(rows *r, row x)
{
    if (r->n == r->cap) {
        int64_t nc = r->cap ? r->cap * 2 : 4096;
        row *nv = realloc(r->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return hc_error(HC_ENOMEM, "out of memory reading a trajectory");
        r->v = nv;
        r->cap = nc;
    }
    r->v[r->n++] = x;
    return HC_OK;
}

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->c != y->c)
        return x->c < y->c ? -1 : 1;
    if (x->u != y->u)
        return x->u < y->u ? -1 : 1;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* Parses a non-negative int field below max; -1 when malformed or out of range. */
static int32_t field_int(const hc__field *f, int32_t max)
{
    const char *s = f->s;
    size_t n = f->n;
    uint64_t v;
    if (hc__canon_uint(&s, &n, &v) != 0 || v >= (uint64_t)max)
        return -1;
    return (int32_t)v;
}

static int field_is(const hc__field *f, const char *word)
{
    return f->n == strlen(word) && memcmp(f->s, word, f->n) == 0;
}

/* A '#' line: "# model<TAB>x", "# k<TAB>n", "#
 * checkpoint<TAB>c<TAB>epoch<TAB>e<TAB>valid_r50<TAB>v". */
static void parse_meta(const char *s, size_t n, hc_traj *t, int32_t *meta_k, int32_t *ep, float *vr)
{
    hc__field f[6];
    const char *err;
    int nf = hc__split_fields(s + 1, n - 1, '\t', f, 6, &err);
    if (nf >= 2 && field_is(&f[0], "model")) {
        size_t m = f[1].n < HC_TRAJ_NAME_LEN - 1 ? f[1].n : HC_TRAJ_NAME_LEN - 1;
        memcpy(t->model, f[1].s, m);
        t->model[m] = '\0';
    } else if (nf >= 2 && field_is(&f[0], "k")) {
        *meta_k = field_int(&f[1], MAX_K + 1);
    } else if (nf >= 6 && field_is(&f[0], "checkpoint")) {
        int32_t c = field_int(&f[1], MAX_CKPT);
        if (c >= 0) {
            char buf[64];
            size_t m = f[3].n < 63 ? f[3].n : 63;
            memcpy(buf, f[3].s, m);
            buf[m] = '\0';
            ep[c] = (int32_t)strtol(buf, NULL, 10);
            m = f[5].n < 63 ? f[5].n : 63;
            memcpy(buf, f[5].s, m);
            buf[m] = '\0';
            vr[c] = strtof(buf, NULL);
        }
    }
}

/* Checks that every checkpoint 0..C-1 of the sorted top rows has rows, and that at each one
 * at least min_coverage of the users that can have a list (an unobserved item) have one;
 * *missing: the most users without a list at a checkpoint. Runs before anything is sized
 * from the checkpoint count. */
static int check_coverage(const rows *top, int32_t C, const hc_dataset *ds, double min_coverage,
                          const char *path, int32_t *missing)
{
    int32_t can = 0;
    for (int32_t u = 0; u < ds->n_users; u++)
        can += hc_csr_row_len(&ds->train, u) < ds->n_items;
    int32_t worst = 0, worst_c = 0;
    int64_t q = 0;
    for (int32_t c = 0; c < C; c++) {
        int32_t users = 0;
        for (; q < top->n && top->v[q].c == c; q++)
            users += q == 0 || top->v[q - 1].c != c || top->v[q - 1].u != top->v[q].u;
        if (users == 0)
            return hc_error(HC_EPARSE, "%s: checkpoint %d has no rows (checkpoints are 0..%d)",
                            path, c, C - 1);
        if (can - users > worst) {
            worst = can - users;
            worst_c = c;
        }
    }
    *missing = worst;
    if (worst == 0)
        return HC_OK;
    double cover = can > 0 ? (double)(can - worst) / can : 1.0;
    if (cover < min_coverage)
        return hc_error(HC_EEMPTY,
                        "%s: %d of %d users have no top list at checkpoint %d (%.1f %% covered, "
                        "below the %.0f %% an import needs; allow a partial import to take it)",
                        path, worst, can, worst_c, 100.0 * cover, 100.0 * min_coverage);
    hc_log(HC_LOG_WARN, "%s: %d of %d users have no top list at checkpoint %d (%.1f %% covered)",
           path, worst, can, worst_c, 100.0 * cover);
    return HC_OK;
}

int hc_traj_import_text(const char *path, const hc_dataset *ds, double min_coverage, hc_traj *out,
                        int32_t *missing)
{
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t len = 0;
    int rc = hc_file_read_all(path, &data, &len);
    if (rc)
        return rc;
    rc = hc_traj_import_text_mem(path, data, len, ds, min_coverage, out, missing);
    free(data);
    return rc;
}

int hc_traj_import_text_mem(const char *path, const char *data, size_t len, const hc_dataset *ds,
                            double min_coverage, hc_traj *out, int32_t *missing)
{
    memset(out, 0, sizeof *out);
    rows top = {0}, obs = {0};
    int32_t *ep = malloc(MAX_CKPT * sizeof *ep);
    float *vr = malloc(MAX_CKPT * sizeof *vr);
    int rc = ep && vr ? HC_OK : hc_error(HC_ENOMEM, "out of memory reading a trajectory");
    if (rc)
        goto done;
    for (int i = 0; i < MAX_CKPT; i++) {
        ep[i] = -1;
        vr[i] = NAN;
    }
    snprintf(out->model, sizeof out->model, "imported");
    int32_t meta_k = -1, max_c = -1, max_rank = -1;
    hc__lines lr;
    hc__lines_init(&lr, path, data, len);
    const char *s;
    size_t n;
    int more, seen_data = 0;
    while ((more = hc__lines_next(&lr, &s, &n)) == 1) {
        if (hc__is_blank(s, n))
            continue;
        if (s[0] == '#') {
            parse_meta(s, n, out, &meta_k, ep, vr);
            continue;
        }
        hc__field f[6];
        const char *err = NULL;
        int sep = memchr(s, '\t', n) ? '\t' : HC__SEP_WS;
        int nf = hc__split_fields(s, n, sep, f, 6, &err);
        if (nf < 0) {
            rc = hc_error(HC_EPARSE, "%s:%lld: %s", path, (long long)lr.lineno, err);
            goto done;
        }
        if (!seen_data && nf >= 4 && field_is(&f[0], "checkpoint")) {
            seen_data = 1; /* the header line */
            continue;
        }
        seen_data = 1;
        if (nf != 4 && nf != 5) {
            rc = hc_error(HC_EPARSE,
                          "%s:%lld: %d fields, expected 4 or 5 (checkpoint user rank item [list])",
                          path, (long long)lr.lineno, nf);
            goto done;
        }
        char show[64];
        row x = {.line = lr.lineno};
        if ((x.c = field_int(&f[0], MAX_CKPT)) < 0) {
            rc = hc_error(HC_EPARSE, "%s:%lld: checkpoint '%s' is not an integer in [0, %d)", path,
                          (long long)lr.lineno, hc__show(f[0].s, f[0].n, show), MAX_CKPT);
            goto done;
        }
        if ((x.u = hc_idmap_get(ds->users, f[1].s, f[1].n)) < 0) {
            rc = hc_error(HC_EPARSE, "%s:%lld: unknown user '%s' (not in the dataset)", path,
                          (long long)lr.lineno, hc__show(f[1].s, f[1].n, show));
            goto done;
        }
        if ((x.rank = field_int(&f[2], MAX_K)) < 0) {
            rc = hc_error(HC_EPARSE, "%s:%lld: rank '%s' is not an integer in [0, %d)", path,
                          (long long)lr.lineno, hc__show(f[2].s, f[2].n, show), MAX_K);
            goto done;
        }
        if ((x.item = hc_idmap_get(ds->items, f[3].s, f[3].n)) < 0) {
            rc = hc_error(HC_EPARSE, "%s:%lld: unknown item '%s' (not in the dataset)", path,
                          (long long)lr.lineno, hc__show(f[3].s, f[3].n, show));
            goto done;
        }
        int is_obs = 0;
        if (nf == 5) {
            if (field_is(&f[4], "observed"))
                is_obs = 1;
            else if (!field_is(&f[4], "top")) {
                rc = hc_error(HC_EPARSE, "%s:%lld: list '%s' must be 'top' or 'observed'", path,
                              (long long)lr.lineno, hc__show(f[4].s, f[4].n, show));
                goto done;
            }
        }
        int train = hc_csr_has(&ds->train, x.u, x.item);
        if (is_obs != train) {
            rc = hc_error(HC_EPARSE,
                          is_obs ? "%s:%lld: item '%s' is not a train item of user '%s' "
                                   "(observed lists order train items)"
                                 : "%s:%lld: item '%s' is a train item of user '%s' (top lists "
                                   "rank unobserved items; mark it 'observed')",
                          path, (long long)lr.lineno, hc__show(f[3].s, f[3].n, show),
                          hc_idmap_name(ds->users, x.u));
            goto done;
        }
        if ((rc = rows_push(is_obs ? &obs : &top, x)) != HC_OK)
            goto done;
        if (x.c > max_c)
            max_c = x.c;
        if (!is_obs && x.rank > max_rank)
            max_rank = x.rank;
    }
    if (more < 0) {
        rc = more;
        goto done;
    }
    if (top.n == 0) {
        rc = hc_error(HC_EEMPTY, "%s: no ranking rows", path);
        goto done;
    }
    if (meta_k > 0 && max_rank >= meta_k) {
        rc = hc_error(HC_EPARSE, "%s: rank %d but the header says k = %d", path, max_rank, meta_k);
        goto done;
    }
    /* a rank is a position among the user's unobserved items, so k <= the item count: with
     * the coverage check below this bounds the C x U x k lists by the rows and the dataset */
    int32_t k_claim = meta_k > 0 ? meta_k : max_rank + 1;
    if (k_claim > ds->n_items) {
        rc = hc_error(HC_EPARSE, "%s: %s %d, but the dataset has only %d items to rank", path,
                      meta_k > 0 ? "the header says k =" : "rank", meta_k > 0 ? meta_k : max_rank,
                      ds->n_items);
        goto done;
    }
    /* top lists: sorted by (c, u, rank) for the coverage count and the compaction below */
    qsort(top.v, (size_t)top.n, sizeof *top.v, cmp_row);
    int32_t no_list = 0;
    if ((rc = check_coverage(&top, max_c + 1, ds, min_coverage, path, &no_list)) != HC_OK)
        goto done;
    if (missing)
        *missing = no_list;
    out->n_users = ds->n_users;
    out->n_items = ds->n_items;
    out->n_ckpt = max_c + 1;
    out->k = k_claim;
    out->ds_checksum = ds->checksum;
    out->train_nnz = ds->train.nnz;
    if ((rc = hc_traj_alloc(out, obs.n > 0)) != HC_OK)
        goto done;
    memcpy(out->epochs, ep, (size_t)out->n_ckpt * sizeof *ep);
    memcpy(out->valid_r50, vr, (size_t)out->n_ckpt * sizeof *vr);
    /* top lists: refuse repeats, compact in rank order */
    size_t total = (size_t)out->n_ckpt * (size_t)out->n_users * (size_t)out->k;
    for (size_t k = 0; k < total; k++)
        out->top[k] = -1;
    int64_t b = 0;
    while (b < top.n) {
        int64_t e = b;
        while (e < top.n && top.v[e].c == top.v[b].c && top.v[e].u == top.v[b].u)
            e++;
        int32_t *dst = out->top + ((int64_t)top.v[b].c * out->n_users + top.v[b].u) * out->k;
        for (int64_t k = b; k < e; k++) {
            if (k > b && top.v[k].rank == top.v[k - 1].rank) {
                rc = hc_error(HC_EPARSE,
                              "%s:%lld: rank %d of user '%s' at checkpoint %d given twice", path,
                              (long long)top.v[k].line, top.v[k].rank,
                              hc_idmap_name(ds->users, top.v[k].u), top.v[k].c);
                goto done;
            }
            for (int64_t q = b; q < k; q++)
                if (top.v[q].item == top.v[k].item) {
                    rc = hc_error(HC_EPARSE, "%s:%lld: item '%s' ranked twice for user '%s'", path,
                                  (long long)top.v[k].line, hc_idmap_name(ds->items, top.v[k].item),
                                  hc_idmap_name(ds->users, top.v[k].u));
                    goto done;
                }
            dst[k - b] = top.v[k].item;
        }
        b = e;
    }
    if (out->observed) {
        /* observed lists: given order first, then the user's other train items by id */
        qsort(obs.v, (size_t)obs.n, sizeof *obs.v, cmp_row);
        int64_t q = 0;
        for (int32_t c = 0; c < out->n_ckpt; c++) {
            int32_t *o = out->observed + (int64_t)c * out->train_nnz;
            for (int32_t u = 0; u < ds->n_users; u++) {
                int64_t base = ds->train.indptr[u], w = base, end = ds->train.indptr[u + 1];
                for (int64_t q0 = q; q < obs.n && obs.v[q].c == c && obs.v[q].u == u; q++) {
                    if (q > q0 && obs.v[q].rank == obs.v[q - 1].rank) {
                        rc = hc_error(HC_EPARSE,
                                      "%s:%lld: observed rank %d of user '%s' at checkpoint %d "
                                      "given twice",
                                      path, (long long)obs.v[q].line, obs.v[q].rank,
                                      hc_idmap_name(ds->users, u), c);
                        goto done;
                    }
                    int dup = 0;
                    for (int64_t z = base; z < w; z++)
                        dup |= o[z] == obs.v[q].item;
                    if (dup) {
                        rc = hc_error(HC_EPARSE, "%s:%lld: observed item '%s' listed twice", path,
                                      (long long)obs.v[q].line,
                                      hc_idmap_name(ds->items, obs.v[q].item));
                        goto done;
                    }
                    o[w++] = obs.v[q].item;
                }
                for (int64_t k = base; k < end && w < end; k++) {
                    int present = 0;
                    for (int64_t z = base; z < w && !present; z++)
                        present = o[z] == ds->train.indices[k];
                    if (!present)
                        o[w++] = ds->train.indices[k];
                }
            }
        }
    }
done:
    if (rc)
        hc_traj_free(out);
    free(top.v);
    free(obs.v);
    free(ep);
    free(vr);
    return rc;
}
