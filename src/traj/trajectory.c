/*
 * trajectory.c - checkpoint choice, construction from a training run, and the binary file.
 *
 * File layout (little-endian): "HCTJ" | u32 version | char[32] model | i32 n_users |
 * i32 n_items | i32 n_ckpt | i32 k | u64 dataset checksum | i64 train_nnz | u32 has_observed |
 * u64 body bytes | u64 body checksum (XXH3) | u64 header checksum (XXH3 of every header byte
 * before it; version 2, so the name and its padding are covered too), then the body:
 * i32 epochs[C] | f32 valid_r50[C] | i32 top[C][U][K] | (i32 observed[C][train_nnz] when
 * has_observed). Loading checks both checksums and the body size the header implies against
 * the file before allocating anything.
 */
#include "traj/trajectory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader_internal.h"

#define TRAJ_MAGIC   "HCTJ"
#define TRAJ_VERSION 2u /* 2: a header checksum; version 1 files are still read */
#define TRAJ_HDR_V1  (4 + 4 + HC_TRAJ_NAME_LEN + 16 + 8 + 8 + 4 + 8 + 8)

void hc_traj_free(hc_traj *t)
{
    if (!t)
        return;
    free(t->epochs);
    free(t->valid_r50);
    free(t->top);
    free(t->observed);
    memset(t, 0, sizeof *t);
}

/* Fraction of the best value that checkpoint j of the C - 1 before the best must reach:
 * piecewise linear through 0.70, 0.85 and 0.95 at t = 0, 1/2 and 1 (t = j / (C - 2)), so
 * C = 4 gives the reference's 70 / 85 / 95 % and other C rise in similar steps. */
static double select_frac(int32_t j, int32_t C)
{
    double t = C > 2 ? (double)j / (double)(C - 2) : 0.0;
    return t <= 0.5 ? 0.70 + 0.30 * t : 0.85 + 0.20 * (t - 0.5);
}

int32_t hc_traj_select(const double *v, int32_t n, int32_t C, int32_t *picked)
{
    if (n <= 0 || C <= 0)
        return 0;
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    /* only evaluations up to the best one qualify: the last checkpoint is the best model */
    n = best + 1;
    if (C > n)
        C = n;
    picked[C - 1] = best;
    for (int32_t j = C - 2; j >= 0; j--) {
        double target = select_frac(j, C) * v[best];
        int32_t first = best;
        for (int32_t i = 0; i < n; i++)
            if (v[i] >= target) {
                first = i;
                break;
            }
        /* keep the indices strictly increasing, and leave room for the earlier ones: since
         * picked[j + 1] >= j + 1, the result lies in [j, picked[j + 1] - 1] */
        if (first >= picked[j + 1])
            first = picked[j + 1] - 1;
        if (first < j)
            first = j;
        picked[j] = first;
    }
    return C;
}

int hc_traj_alloc(hc_traj *t, int with_observed)
{
    size_t C = (size_t)t->n_ckpt;
    t->epochs = malloc(C * sizeof *t->epochs);
    t->valid_r50 = malloc(C * sizeof *t->valid_r50);
    t->top = malloc(C * (size_t)t->n_users * (size_t)t->k * sizeof *t->top + 1);
    if (with_observed)
        t->observed = malloc(C * (size_t)t->train_nnz * sizeof *t->observed + 1);
    if (!t->epochs || !t->valid_r50 || !t->top || (with_observed && !t->observed)) {
        hc_traj_free(t);
        return hc_error(HC_ENOMEM, "trajectory: out of memory");
    }
    return HC_OK;
}

int hc_traj_from_fit(const hc_fit_result *r, const hc_dataset *ds, const char *model, int32_t C,
                     hc_traj *out)
{
    memset(out, 0, sizeof *out);
    if (C <= 0)
        return hc_error(HC_EINVAL, "trajectory: %d checkpoints asked for (at least 1)", C);
    if (r->record_k <= 0 || !r->tops || r->n_evals == 0)
        return hc_error(HC_EINVAL, "trajectory: the training run recorded no snapshots");
    double *v = malloc((size_t)r->n_evals * sizeof *v);
    int32_t *picked = malloc((size_t)C * sizeof *picked);
    if (!v || !picked) {
        free(v);
        free(picked);
        return hc_error(HC_ENOMEM, "trajectory: out of memory");
    }
    for (int32_t i = 0; i < r->n_evals; i++)
        v[i] = r->evals[i].res.valid.recall[HC_EVAL_NK - 1];
    int32_t n = hc_traj_select(v, r->n_evals, C, picked);
    snprintf(out->model, sizeof out->model, "%s", model);
    out->n_users = ds->n_users;
    out->n_items = ds->n_items;
    out->n_ckpt = n;
    out->k = r->record_k;
    out->ds_checksum = ds->checksum;
    out->train_nnz = ds->train.nnz;
    int rc = hc_traj_alloc(out, r->orders != NULL);
    if (!rc) {
        size_t top_sz = (size_t)ds->n_users * (size_t)out->k;
        for (int32_t c = 0; c < n; c++) {
            int32_t e = picked[c];
            out->epochs[c] = r->evals[e].epoch;
            out->valid_r50[c] = (float)v[e];
            memcpy(out->top + (size_t)c * top_sz, r->tops[e], top_sz * sizeof(int32_t));
            if (out->observed)
                memcpy(out->observed + (size_t)c * (size_t)out->train_nnz, r->orders[e],
                       (size_t)out->train_nnz * sizeof(int32_t));
        }
    }
    free(v);
    free(picked);
    return rc;
}

int hc_traj_name_check(const char *name, const char *where)
{
    size_t n = strlen(name);
    const char *why = NULL;
    for (size_t i = 0; i < n && !why; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            why = "holds a control byte (tab, newline, ...)";
        else if (c == '"')
            why = "holds a double quote";
    }
    if (!why && n > 0 && (name[0] == ' ' || name[n - 1] == ' '))
        why = "starts or ends with a space";
    if (!why)
        return HC_OK;
    char show[64];
    return hc_error(HC_EINVAL,
                    "%s: teacher name '%s' %s; the text form could not carry it (use printable "
                    "text)",
                    where, hc__show(name, n, show), why);
}

/* Body size and a pointer list of its sections, shared by save and load. */
typedef struct {
    void *p;
    size_t bytes;
} section;

static int sections(const hc_traj *t, section s[4])
{
    size_t C = (size_t)t->n_ckpt;
    s[0] = (section){t->epochs, C * 4};
    s[1] = (section){t->valid_r50, C * 4};
    s[2] = (section){t->top, C * (size_t)t->n_users * (size_t)t->k * 4};
    s[3] = (section){t->observed, t->observed ? C * (size_t)t->train_nnz * 4 : 0};
    return 4;
}

int hc_traj_save(const hc_traj *t, const char *path)
{
    char name[HC_TRAJ_NAME_LEN] = {0};
    memcpy(name, t->model, strnlen(t->model, HC_TRAJ_NAME_LEN - 1));
    int rc = hc_traj_name_check(name, path);
    if (rc)
        return rc;
    section s[4];
    int ns = sections(t, s);
    uint64_t body_len = 0;
    for (int i = 0; i < ns; i++)
        body_len += s[i].bytes;
    /* checksum over the sections in order, streamed into one buffer */
    unsigned char *body = malloc(body_len ? body_len : 1);
    if (!body)
        return hc_error(HC_ENOMEM, "%s: out of memory", path);
    size_t off = 0;
    for (int i = 0; i < ns; i++) {
        if (s[i].bytes)
            memcpy(body + off, s[i].p, s[i].bytes);
        off += s[i].bytes;
    }
    uint64_t sum = hc_checksum(body, body_len);
    uint32_t ver = TRAJ_VERSION, has_obs = t->observed != NULL;
    int32_t counts[4] = {t->n_users, t->n_items, t->n_ckpt, t->k};
    /* the header in one buffer, for its own checksum */
    unsigned char hdr[TRAJ_HDR_V1 + 8];
    size_t hoff = 0;
    const struct {
        const void *p;
        size_t n;
    } field[] = {
        {TRAJ_MAGIC, 4},    {&ver, 4},     {name, sizeof name}, {counts, 16}, {&t->ds_checksum, 8},
        {&t->train_nnz, 8}, {&has_obs, 4}, {&body_len, 8},      {&sum, 8}};
    for (size_t f = 0; f < sizeof field / sizeof *field; f++) {
        memcpy(hdr + hoff, field[f].p, field[f].n);
        hoff += field[f].n;
    }
    uint64_t hsum = hc_checksum(hdr, hoff);
    memcpy(hdr + hoff, &hsum, 8);
    hoff += 8;
    hc_afile af;
    if ((rc = hc_afile_open(&af, path)) != HC_OK) {
        free(body);
        return rc;
    }
    fwrite(hdr, 1, hoff, af.fp);
    fwrite(body, 1, body_len, af.fp);
    free(body);
    return hc_afile_commit(&af);
}

/* Above this many items the repeat check sorts each top list instead of stamping items, when
 * no dataset vouches for the header's item count (it can claim 2^31 - 1 items over a few list
 * entries, and a stamp array is 8 bytes per item). */
#define STAMP_MAX_ITEMS (1 << 22)

/* 1 when the n_top items of top repeat one: sorted in scratch (k entries); *item receives it. */
static int top_repeats(const int32_t *top, int32_t n_top, int32_t *scratch, int32_t *item)
{
    memcpy(scratch, top, (size_t)n_top * sizeof *scratch);
    hc_sort_i32(scratch, n_top);
    for (int32_t r = 1; r < n_top; r++)
        if (scratch[r] == scratch[r - 1]) {
            *item = scratch[r];
            return 1;
        }
    return 0;
}

/* Checks the top list of user u at checkpoint c: items in range, -1 only as trailing padding,
 * no train item of u (when ds is given), no repeat (stamp[] == mark with a stamp array, else
 * by sorting into scratch). */
static int check_top(const hc_traj *t, const hc_dataset *ds, const char *path, int32_t c, int32_t u,
                     int64_t *stamp, int64_t mark, int32_t *scratch)
{
    const int32_t *top = hc_traj_top(t, c, u);
    int32_t n_top = 0;
    while (n_top < t->k && top[n_top] != -1)
        n_top++;
    for (int32_t r = 0; r < t->k; r++) {
        int32_t it = top[r];
        if (r >= n_top ? it != -1 : it < 0 || it >= t->n_items)
            return hc_error(HC_ECORRUPT, "%s: checkpoint %d user %d: bad item %d at %d", path, c, u,
                            it, r);
        if (r >= n_top)
            continue;
        if (stamp && stamp[it] == mark)
            return hc_error(HC_ECORRUPT, "%s: checkpoint %d user %d: item %d ranked twice (at %d)",
                            path, c, u, it, r);
        if (stamp)
            stamp[it] = mark;
        if (ds && hc_csr_has(&ds->train, u, it))
            return hc_error(HC_ECORRUPT, "%s: checkpoint %d user %d: top list holds train item %d",
                            path, c, u, it);
    }
    int32_t rep;
    if (!stamp && top_repeats(top, n_top, scratch, &rep))
        return hc_error(HC_ECORRUPT, "%s: checkpoint %d user %d: item %d ranked twice", path, c, u,
                        rep);
    return HC_OK;
}

/* Checks the invariants a consumer relies on: items in range, no duplicates in a top list,
 * -1 only as trailing padding, and (when ds is given) top lists free of the user's train
 * items and observed lists that permute the user's train items. One pass over the lists
 * with a per-item stamp array: O(C (U K + train_nnz)) time, 8 I bytes of scratch; without a
 * dataset and with more than STAMP_MAX_ITEMS items, O(C U K log K) time and 4 K bytes. */
static int traj_validate(const hc_traj *t, const hc_dataset *ds, const char *path)
{
    int use_stamp = ds || t->n_items <= STAMP_MAX_ITEMS;
    int64_t *stamp =
        use_stamp ? calloc((size_t)(t->n_items > 0 ? t->n_items : 1), sizeof *stamp) : NULL;
    int32_t *scratch = use_stamp ? NULL : malloc((size_t)t->k * sizeof *scratch);
    if (!stamp && !scratch)
        return hc_error(HC_ENOMEM, "%s: out of memory", path);
    int64_t mark = 0;
    int rc = HC_OK;
    for (int32_t c = 0; c < t->n_ckpt; c++)
        for (int32_t u = 0; u < t->n_users; u++)
            if ((rc = check_top(t, ds, path, c, u, stamp, ++mark, scratch)) != HC_OK)
                goto done;
    if (t->observed && ds) {
        for (int32_t c = 0; c < t->n_ckpt; c++) {
            const int32_t *o = t->observed + (int64_t)c * t->train_nnz;
            for (int32_t u = 0; u < ds->n_users; u++) {
                mark++;
                for (int64_t k = ds->train.indptr[u]; k < ds->train.indptr[u + 1]; k++) {
                    /* |list| = |train items| and no repeats: a permutation */
                    if (o[k] < 0 || o[k] >= t->n_items || !hc_csr_has(&ds->train, u, o[k]) ||
                        stamp[o[k]] == mark) {
                        rc = hc_error(HC_ECORRUPT,
                                      "%s: checkpoint %d user %d: observed list holds item %d, "
                                      "not a train item or repeated",
                                      path, c, u, o[k]);
                        goto done;
                    }
                    stamp[o[k]] = mark;
                }
            }
        }
    }
done:
    free(stamp);
    free(scratch);
    return rc;
}

int hc_traj_load(const char *path, const hc_dataset *ds, hc_traj *out)
{
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t len = 0;
    int rc = hc_file_read_all(path, &data, &len);
    if (rc)
        return rc;
    rc = hc_traj_load_mem(path, data, len, ds, out);
    free(data);
    return rc;
}

int hc_traj_load_mem(const char *path, const void *data, size_t len, const hc_dataset *ds,
                     hc_traj *out)
{
    memset(out, 0, sizeof *out);
    int rc;
    const unsigned char *p = (const unsigned char *)data;
    uint32_t ver = 0, has_obs;
    int32_t hdr[4];
    uint64_t body_len, sum, hsum;
    if (len >= 8)
        memcpy(&ver, p + 4, 4);
    const size_t hdr_len = TRAJ_HDR_V1 + (ver >= 2 ? 8 : 0);
    if (len < hdr_len) {
        rc = hc_error(HC_ECORRUPT, "%s: truncated trajectory file (%zu bytes)", path, len);
        goto done;
    }
    if (memcmp(p, TRAJ_MAGIC, 4) != 0) {
        rc = hc_error(HC_ECORRUPT, "%s: not a hetcomp trajectory file (bad magic)", path);
        goto done;
    }
    if (ver != TRAJ_VERSION && ver != 1) {
        rc = hc_error(HC_EMISMATCH, "%s: trajectory format version %u, this build reads 1 to %u",
                      path, ver, TRAJ_VERSION);
        goto done;
    }
    if (ver >= 2) { /* version 1 files have no header checksum */
        memcpy(&hsum, p + TRAJ_HDR_V1, 8);
        if (hc_checksum(p, TRAJ_HDR_V1) != hsum) {
            rc = hc_error(HC_ECORRUPT, "%s: header checksum mismatch (file is corrupt)", path);
            goto done;
        }
    }
    memcpy(out->model, p + 8, HC_TRAJ_NAME_LEN);
    out->model[HC_TRAJ_NAME_LEN - 1] = '\0';
    if ((rc = hc_traj_name_check(out->model, path)) != HC_OK)
        goto done;
    p += 8 + HC_TRAJ_NAME_LEN;
    memcpy(hdr, p, 16);
    memcpy(&out->ds_checksum, p + 16, 8);
    memcpy(&out->train_nnz, p + 24, 8);
    memcpy(&has_obs, p + 32, 4);
    memcpy(&body_len, p + 36, 8);
    memcpy(&sum, p + 44, 8);
    p += 52 + (ver >= 2 ? 8 : 0);
    out->n_users = hdr[0];
    out->n_items = hdr[1];
    out->n_ckpt = hdr[2];
    out->k = hdr[3];
    if (out->n_users < 0 || out->n_items < 0 || out->n_ckpt <= 0 || out->n_ckpt > 1000 ||
        out->k <= 0 || out->k > 100000 || out->train_nnz < 0 ||
        out->train_nnz > ((int64_t)1 << 40) || has_obs > 1) {
        rc = hc_error(HC_ECORRUPT, "%s: implausible trajectory header", path);
        goto done;
    }
    if (ds && (out->ds_checksum != ds->checksum || out->n_users != ds->n_users ||
               out->n_items != ds->n_items || out->train_nnz != ds->train.nnz)) {
        rc = hc_error(HC_EMISMATCH,
                      "%s: trajectory of another dataset (checksum %016llx, this dataset "
                      "%016llx)",
                      path, (unsigned long long)out->ds_checksum, (unsigned long long)ds->checksum);
        goto done;
    }
    uint64_t expect = (uint64_t)out->n_ckpt * 8 +
                      (uint64_t)out->n_ckpt * (uint64_t)out->n_users * (uint64_t)out->k * 4 +
                      (has_obs ? (uint64_t)out->n_ckpt * (uint64_t)out->train_nnz * 4 : 0);
    if (body_len != expect || (uint64_t)(len - hdr_len) != body_len) {
        rc = hc_error(HC_ECORRUPT, "%s: truncated or padded (body %zu bytes, expected %llu)", path,
                      len - hdr_len, (unsigned long long)expect);
        goto done;
    }
    if (hc_checksum(p, body_len) != sum) {
        rc = hc_error(HC_ECORRUPT, "%s: checksum mismatch (file is corrupt)", path);
        goto done;
    }
    if ((rc = hc_traj_alloc(out, (int)has_obs)) != HC_OK)
        goto done;
    section s[4];
    int ns = sections(out, s);
    for (int i = 0; i < ns; i++) {
        if (s[i].bytes)
            memcpy(s[i].p, p, s[i].bytes);
        p += s[i].bytes;
    }
    rc = traj_validate(out, ds, path);
done:
    if (rc)
        hc_traj_free(out);
    return rc;
}
