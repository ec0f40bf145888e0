/*
 * trajectory.c - checkpoint choice, construction from a training run, and the binary file.
 *
 * File layout (little-endian): "HCTJ" | u32 version | char[32] model | i32 n_users |
 * i32 n_items | i32 n_ckpt | i32 k | u64 dataset checksum | i64 train_nnz | u32 has_observed |
 * u64 body bytes | u64 body checksum (XXH3) | u64 header checksum (XXH3 of every header byte
 * before it; version 2, so the name and its padding are covered too), then the body:
 * i32 epochs[C] | f32 valid_r50[C] | i32 top[C][U][K] | (i32 observed[C][train_nnz] when
 * has_observed). Loading checks the header's checksum and the body size it implies against
 * the file before allocating anything, then streams the body in chunks (never the whole file
 * in memory), checking every list and the body's checksum over every byte, and keeps the
 * lists of the users asked for: all of them, or one rank's share (hc_traj_load_part,
 * docs/distributed.md), C x ceil(U / R) x K ints instead of C x U x K.
 */
#include "traj/trajectory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader_internal.h"
#include "dist/dist.h"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

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
    free(t->part_obs);
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
    t->top = malloc(C * (size_t)hc_traj_rows(t) * (size_t)t->k * sizeof *t->top + 1);
    if (with_observed)
        t->observed = malloc(C * (size_t)hc_traj_obs_len(t) * sizeof *t->observed + 1);
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
    /* a share (one rank's users) is never a file; under MPI the ranks other than 0 write to
     * /dev/null (hc_afile_open), so theirs is simply not written */
    if (t->part_size > 1)
        return dist_rank() == 0 ? hc_error(HC_EINVAL,
                                           "%s: the trajectory holds the users of rank %d of %d "
                                           "only; a share is not saved",
                                           path, t->part_rank, t->part_size)
                                : HC_OK;
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

/* The invariants a consumer relies on, checked list by list as a load reads them: items in
 * range, no duplicates in a top list, -1 only as trailing padding and (when ds is given) top
 * lists free of the user's train items and observed lists that permute the user's train
 * items. A per-item stamp array (stamp[] == mark: seen in this list): O(1) a list entry, 8 I
 * bytes; without a dataset and with more than STAMP_MAX_ITEMS items, each top list is sorted
 * instead (O(K log K), 4 K bytes). rc keeps the first problem found, its message in the
 * error buffer, for after the checksum. */
typedef struct {
    const hc_traj *t;
    const hc_dataset *ds;
    const char *path;
    int64_t *stamp;
    int64_t mark;
    int32_t *scratch;
    int rc;
} checker;

static int checker_init(checker *ck, const hc_traj *t, const hc_dataset *ds, const char *path)
{
    int use_stamp = ds || t->n_items <= STAMP_MAX_ITEMS;
    *ck = (checker){t, ds, path, NULL, 0, NULL, HC_OK};
    if (use_stamp)
        ck->stamp = calloc((size_t)(t->n_items > 0 ? t->n_items : 1), sizeof *ck->stamp);
    else
        ck->scratch = malloc((size_t)t->k * sizeof *ck->scratch);
    return ck->stamp || ck->scratch ? HC_OK : hc_error(HC_ENOMEM, "%s: out of memory", path);
}

/* Checks the top list of user u at checkpoint c (k entries at top). */
static int check_top(checker *ck, int32_t c, int32_t u, const int32_t *top)
{
    const hc_traj *t = ck->t;
    const char *path = ck->path;
    int64_t mark = ++ck->mark;
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
        if (ck->stamp && ck->stamp[it] == mark)
            return hc_error(HC_ECORRUPT, "%s: checkpoint %d user %d: item %d ranked twice (at %d)",
                            path, c, u, it, r);
        if (ck->stamp)
            ck->stamp[it] = mark;
        if (ck->ds && hc_csr_has(&ck->ds->train, u, it))
            return hc_error(HC_ECORRUPT, "%s: checkpoint %d user %d: top list holds train item %d",
                            path, c, u, it);
    }
    int32_t rep;
    if (!ck->stamp && top_repeats(top, n_top, ck->scratch, &rep))
        return hc_error(HC_ECORRUPT, "%s: checkpoint %d user %d: item %d ranked twice", path, c, u,
                        rep);
    return HC_OK;
}

/* Checks n entries of user u's observed list at checkpoint c (a piece of it: the caller
 * advances ck->mark once per list, so a repeat across pieces is found too). */
static int check_observed(checker *ck, int32_t c, int32_t u, const int32_t *o, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        /* |list| = |train items| and no repeats: a permutation */
        if (o[k] < 0 || o[k] >= ck->t->n_items || !hc_csr_has(&ck->ds->train, u, o[k]) ||
            ck->stamp[o[k]] == ck->mark)
            return hc_error(HC_ECORRUPT,
                            "%s: checkpoint %d user %d: observed list holds item %d, not a train "
                            "item or repeated",
                            ck->path, c, u, o[k]);
        ck->stamp[o[k]] = ck->mark;
    }
    return HC_OK;
}

/* The body as a stream: the file's bytes in memory, or a FILE read through a buffer of
 * READ_CHUNK bytes (one top list, when longer), so a load never holds the file
 * (docs/distributed.md: a rank keeps its own users' lists only). take() hands out the next n
 * (<= cap) bytes contiguously and adds them to the checksum: every byte is hashed, in
 * order, kept or not. */
#define READ_CHUNK ((size_t)1 << 20)
#define MEM_CHUNK  ((size_t)1 << 14) /* the spare list's piece for a body in memory */
typedef struct {
    const unsigned char *mem; /* the body in memory, or NULL: read from fp */
    FILE *fp;
    unsigned char *buf;
    size_t cap, lo, hi; /* buf[lo..hi): read, not yet taken (mem: lo bytes taken) */
    XXH3_state_t hash;
} body_stream;

static const unsigned char *take(body_stream *s, size_t n)
{
    const unsigned char *p;
    if (s->mem) {
        p = s->mem + s->lo;
    } else {
        if (s->hi - s->lo < n) {
            memmove(s->buf, s->buf + s->lo, s->hi - s->lo);
            s->hi -= s->lo;
            s->lo = 0;
            s->hi += fread(s->buf + s->hi, 1, s->cap - s->hi, s->fp);
            if (s->hi < n)
                return NULL; /* a read error, or the file shrank since its size was checked */
        }
        p = s->buf + s->lo;
    }
    s->lo += n;
    XXH3_64bits_update(&s->hash, p, n);
    return p;
}

/* Copies the next n ints of s into dst, or into spare when dst is NULL (a list out does not
 * keep, read for the checksum and the checks); returns where they went, NULL on a short read. */
static int32_t *take_ints(body_stream *s, size_t n, int32_t *dst, int32_t *spare)
{
    const unsigned char *p = take(s, n * sizeof(int32_t));
    if (!p)
        return NULL;
    int32_t *to = dst ? dst : spare;
    memcpy(to, p, n * sizeof(int32_t)); /* also aligns what the checks read */
    return to;
}

/* Reads the lists: every one checked, those of the users out holds kept (the others land in
 * spare, cap bytes). */
static int read_lists(body_stream *s, checker *ck, hc_traj *out, int32_t *spare, size_t cap)
{
    const hc_dataset *ds = ck->ds;
    const int rank = out->part_rank, size = out->part_size > 1 ? out->part_size : 1;
    const size_t K = (size_t)out->k, piece = cap / sizeof(int32_t);
    int32_t *got;
    for (int32_t c = 0; c < out->n_ckpt; c++)
        for (int32_t u = 0; u < out->n_users; u++) {
            int own = dist_owns(u, rank, size);
            if (!(got = take_ints(s, K, own ? (int32_t *)hc_traj_top(out, c, u) : NULL, spare)))
                return HC_EIO;
            if (!ck->rc)
                ck->rc = check_top(ck, c, u, got);
        }
    if (!out->observed)
        return HC_OK;
    if (!ds) { /* a whole load without a dataset: nothing to check, no users to tell apart */
        int64_t n = (int64_t)out->n_ckpt * out->train_nnz;
        for (int64_t at = 0; at < n; at += (int64_t)piece) {
            size_t m = n - at < (int64_t)piece ? (size_t)(n - at) : piece;
            if (!take_ints(s, m, out->observed + at, spare))
                return HC_EIO;
        }
        return HC_OK;
    }
    for (int32_t c = 0; c < out->n_ckpt; c++)
        for (int32_t u = 0; u < out->n_users; u++) {
            int own = dist_owns(u, rank, size);
            int32_t *dst = own ? (int32_t *)hc_traj_observed(out, &ds->train, c, u) : NULL;
            int64_t n = hc_csr_row_len(&ds->train, u);
            ck->mark++;
            for (int64_t at = 0; at < n; at += (int64_t)piece) {
                size_t m = n - at < (int64_t)piece ? (size_t)(n - at) : piece;
                if (!(got = take_ints(s, m, dst ? dst + at : NULL, spare)))
                    return HC_EIO;
                if (!ck->rc)
                    ck->rc = check_observed(ck, c, u, got, (int64_t)m);
            }
        }
    return HC_OK;
}

/* What the header says beyond out's fields. */
typedef struct {
    size_t len; /* header bytes: 100, 92 in version 1 */
    uint32_t has_obs;
    uint64_t body_len, sum;
} traj_header;
#define TRAJ_HDR_MAX (TRAJ_HDR_V1 + 8)

/* Parses and checks the header at p (the first min(len, TRAJ_HDR_MAX) bytes of a file of len
 * bytes, whose body size it checks too) into out and h. */
static int parse_header(const char *path, const unsigned char *p, size_t len, const hc_dataset *ds,
                        hc_traj *out, traj_header *h)
{
    uint32_t ver = 0;
    int32_t hdr[4];
    uint64_t hsum;
    if (len >= 8)
        memcpy(&ver, p + 4, 4);
    h->len = TRAJ_HDR_V1 + (ver >= 2 ? 8 : 0);
    if (len < h->len)
        return hc_error(HC_ECORRUPT, "%s: truncated trajectory file (%zu bytes)", path, len);
    if (memcmp(p, TRAJ_MAGIC, 4) != 0)
        return hc_error(HC_ECORRUPT, "%s: not a hetcomp trajectory file (bad magic)", path);
    if (ver != TRAJ_VERSION && ver != 1)
        return hc_error(HC_EMISMATCH, "%s: trajectory format version %u, this build reads 1 to %u",
                        path, ver, TRAJ_VERSION);
    if (ver >= 2) { /* version 1 files have no header checksum */
        memcpy(&hsum, p + TRAJ_HDR_V1, 8);
        if (hc_checksum(p, TRAJ_HDR_V1) != hsum)
            return hc_error(HC_ECORRUPT, "%s: header checksum mismatch (file is corrupt)", path);
    }
    memcpy(out->model, p + 8, HC_TRAJ_NAME_LEN);
    out->model[HC_TRAJ_NAME_LEN - 1] = '\0';
    int rc = hc_traj_name_check(out->model, path);
    if (rc)
        return rc;
    p += 8 + HC_TRAJ_NAME_LEN;
    memcpy(hdr, p, 16);
    memcpy(&out->ds_checksum, p + 16, 8);
    memcpy(&out->train_nnz, p + 24, 8);
    memcpy(&h->has_obs, p + 32, 4);
    memcpy(&h->body_len, p + 36, 8);
    memcpy(&h->sum, p + 44, 8);
    out->n_users = hdr[0];
    out->n_items = hdr[1];
    out->n_ckpt = hdr[2];
    out->k = hdr[3];
    if (out->n_users < 0 || out->n_items < 0 || out->n_ckpt <= 0 || out->n_ckpt > 1000 ||
        out->k <= 0 || out->k > 100000 || out->train_nnz < 0 ||
        out->train_nnz > ((int64_t)1 << 40) || h->has_obs > 1)
        return hc_error(HC_ECORRUPT, "%s: implausible trajectory header", path);
    if (ds && (out->ds_checksum != ds->checksum || out->n_users != ds->n_users ||
               out->n_items != ds->n_items || out->train_nnz != ds->train.nnz))
        return hc_error(HC_EMISMATCH,
                        "%s: trajectory of another dataset (checksum %016llx, this dataset "
                        "%016llx)",
                        path, (unsigned long long)out->ds_checksum,
                        (unsigned long long)ds->checksum);
    uint64_t expect = (uint64_t)out->n_ckpt * 8 +
                      (uint64_t)out->n_ckpt * (uint64_t)out->n_users * (uint64_t)out->k * 4 +
                      (h->has_obs ? (uint64_t)out->n_ckpt * (uint64_t)out->train_nnz * 4 : 0);
    if (h->body_len != expect || (uint64_t)(len - h->len) != h->body_len)
        return hc_error(HC_ECORRUPT, "%s: truncated or padded (body %zu bytes, expected %llu)",
                        path, len - h->len, (unsigned long long)expect);
    return HC_OK;
}

int hc_traj_alloc_share(hc_traj *out, int has_obs, const hc_dataset *ds, int rank, int size)
{
    if (size > 1) {
        out->part_rank = rank;
        out->part_size = size;
    }
    if (size > 1 && has_obs) {
        int32_t rows = hc_traj_rows(out);
        out->part_obs = malloc(((size_t)rows + 1) * sizeof *out->part_obs);
        if (!out->part_obs)
            return hc_error(HC_ENOMEM, "trajectory: out of memory");
        int64_t at = 0;
        for (int32_t j = 0; j < rows; j++) {
            out->part_obs[j] = at;
            at += hc_csr_row_len(&ds->train, rank + j * size);
        }
        out->part_obs[rows] = at;
    }
    return hc_traj_alloc(out, has_obs);
}

/* Reads the body after header h from s into out, keeping the users u % size == rank: every
 * list checked, then the checksum of the whole body compared (before any list's problem is
 * reported, as a corrupt file's checksum mismatch comes first). */
static int load_body(const char *path, body_stream *s, const traj_header *h, const hc_dataset *ds,
                     int rank, int size, hc_traj *out)
{
    checker ck = {0};
    size_t C = (size_t)out->n_ckpt, row = (size_t)out->k * sizeof(int32_t);
    /* in memory the spare list only needs a piece: a small one keeps a load (and a fuzz
     * input) off the large-allocation path */
    size_t chunk = s->mem ? MEM_CHUNK : READ_CHUNK, cap = row > chunk ? row : chunk;
    int32_t *spare = NULL;
    int rc = hc_traj_alloc_share(out, (int)h->has_obs, ds, rank, size);
    if (!rc)
        rc = checker_init(&ck, out, ds, path);
    if (!rc) {
        spare = malloc(cap);
        if (!s->mem)
            s->buf = malloc(cap);
        s->cap = cap;
        if (!spare || (!s->mem && !s->buf))
            rc = hc_error(HC_ENOMEM, "%s: out of memory", path);
    }
    if (!rc) {
        XXH3_INITSTATE(&s->hash);
        XXH3_64bits_reset(&s->hash);
        int32_t *got = take_ints(s, C, out->epochs, spare);
        const unsigned char *r50 = got ? take(s, C * 4) : NULL;
        if (r50)
            memcpy(out->valid_r50, r50, C * 4);
        rc = r50 ? read_lists(s, &ck, out, spare, cap) : HC_EIO;
        if (rc)
            rc = hc_error(HC_EIO, "%s: read error", path);
        else if (XXH3_64bits_digest(&s->hash) != h->sum)
            rc = hc_error(HC_ECORRUPT, "%s: checksum mismatch (file is corrupt)", path);
        else
            rc = ck.rc;
    }
    free(ck.stamp);
    free(ck.scratch);
    free(spare);
    free(s->buf);
    return rc;
}

int hc_traj_load(const char *path, const hc_dataset *ds, hc_traj *out)
{
    return hc_traj_load_part(path, ds, 0, 1, out);
}

int hc_traj_load_part(const char *path, const hc_dataset *ds, int rank, int size, hc_traj *out)
{
    memset(out, 0, sizeof *out);
    if (size < 1 || rank < 0 || rank >= size)
        return hc_error(HC_EINVAL, "%s: no share %d of %d users' lists", path, rank, size);
    FILE *fp;
    size_t len;
    int rc = hc_file_open_read(path, &fp, &len);
    if (rc)
        return rc;
    unsigned char hdr[TRAJ_HDR_MAX];
    size_t n = len < sizeof hdr ? len : sizeof hdr;
    traj_header h;
    if (fread(hdr, 1, n, fp) != n)
        rc = hc_error(HC_EIO, "%s: read error", path);
    else
        rc = parse_header(path, hdr, len, ds, out, &h);
    if (!rc && size > 1 && h.has_obs && !ds)
        rc = hc_error(HC_EINVAL, "%s: a share of the observed lists needs the dataset", path);
    if (!rc && fseek(fp, (long)h.len, SEEK_SET) != 0)
        rc = hc_error(HC_EIO, "%s: read error", path);
    if (!rc) {
        body_stream s = {.fp = fp};
        rc = load_body(path, &s, &h, ds, rank, size, out);
    }
    fclose(fp);
    if (rc)
        hc_traj_free(out);
    return rc;
}

int hc_traj_load_mem(const char *path, const void *data, size_t len, const hc_dataset *ds,
                     hc_traj *out)
{
    memset(out, 0, sizeof *out);
    traj_header h;
    int rc = parse_header(path, data, len, ds, out, &h);
    if (!rc) {
        body_stream s = {.mem = (const unsigned char *)data + h.len};
        rc = load_body(path, &s, &h, ds, 0, 1, out);
    }
    if (rc)
        hc_traj_free(out);
    return rc;
}

int hc_traj_share_check(const hc_traj *t, const char *who)
{
    if (t->part_size <= 1 || (t->part_size == dist_size() && t->part_rank == dist_rank()))
        return HC_OK;
    return hc_error(HC_EINVAL,
                    "%s: teacher '%s' holds the users of rank %d of %d, not this rank's (%d of "
                    "%d)",
                    who, t->model, t->part_rank, t->part_size, dist_rank(), dist_size());
}

uint64_t hc_traj_bytes(const hc_traj *t, int whole)
{
    uint64_t C = (uint64_t)t->n_ckpt, rows = (uint64_t)(whole ? t->n_users : hc_traj_rows(t));
    uint64_t b = 8 * C + 4 * C * rows * (uint64_t)t->k;
    if (t->observed)
        b += 4 * C * (uint64_t)(whole ? t->train_nnz : hc_traj_obs_len(t));
    if (t->part_obs && !whole)
        b += 8 * (rows + 1);
    return b;
}
