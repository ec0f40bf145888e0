/*
 * model.c - the model registry, life cycle and the model file format (see model.h).
 *
 * File layout (little-endian, docs/formats.md):
 *   header: "HCMD" | u32 format version | char[16] family | i32 family version |
 *           hyperparameters | i32 n_users | i32 n_items | u64 dataset checksum |
 *           u32 n_tensors | u64 body bytes | u64 body checksum (XXH3 of the body) |
 *           u64 header checksum (XXH3 of every header byte before it; from version 2)
 *   hyperparameters, version 3: u32 length | that many bytes of "name=value\n" lines, the
 *           ones the family reads, named as in hparams.c's table (so a new parameter needs
 *           no new format); versions 1 and 2: i32 dim, layers, negatives, batch; f32 lr, reg,
 *           l2, margin, dropout, init_std; u64 seed
 *   body:   per tensor: char[16] name | i32 rows | i32 cols | rows*cols f32
 * Loading checks the header checksum, then every tensor's name, shape and size in the file
 * against the family's shapes for the header's hyperparameters (hc_model_type.shapes) before
 * the family allocates anything: a header can never make the loader allocate more than the
 * file's tensors hold, nor write outside the model's arrays.
 */
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

extern const hc_model_type hc_model_mf, hc_model_ml, hc_model_gnn;
extern const hc_model_type hc_model_dl, hc_model_ae, hc_model_iae;

/* The registry. HC_EXTRA_FAMILY (a build option of the tests, tests/toy/) appends one family
 * defined elsewhere, as a new family's line would. */
#ifdef HC_EXTRA_FAMILY
extern const hc_model_type HC_EXTRA_FAMILY;
#define HC_EXTRA_ENTRY &HC_EXTRA_FAMILY,
#else
#define HC_EXTRA_ENTRY
#endif
const hc_model_type *const hc_model_types[] = {&hc_model_mf,       &hc_model_ml, &hc_model_gnn,
                                               &hc_model_dl,       &hc_model_ae, &hc_model_iae,
                                               HC_EXTRA_ENTRY NULL};

#define MODEL_MAGIC          "HCMD"
#define MODEL_FORMAT_VERSION 3u /* 3: named hyperparameters; 2: a header checksum */
#define NAME_LEN             16
#define HP_TEXT_MAX          4096 /* most bytes of a version 3 header's hyperparameter text */
#define MODEL_HEADER_MAX     (NAME_LEN + 64 + HP_TEXT_MAX)

const hc_model_type *hc_model_type_find(const char *name)
{
    for (int i = 0; hc_model_types[i]; i++)
        if (!strcmp(hc_model_types[i]->name, name))
            return hc_model_types[i];
    return NULL;
}

void hc_hparams_default(const hc_model_type *t, hc_hparams *hp)
{
    memset(hp, 0, sizeof *hp);
    hp->dim = 64;
    hp->layers = 2;
    hp->negatives = 1;
    hp->batch = 1024;
    hp->lr = 1e-3f;
    hp->reg = 1e-5f;
    hp->margin = 1.0f;
    hp->dropout = 0.5f;
    hp->out_proposal = 1; /* HC_PROPOSAL_POPULARITY */
    if (t && t->defaults)
        t->defaults(hp);
}

void hc_model_free(hc_model *m)
{
    if (!m)
        return;
    if (m->type && m->type->free_fn)
        m->type->free_fn(m);
    free(m);
}

static int model_alloc(const hc_model_type *t, const hc_dataset *ds, const hc_hparams *hp, int load,
                       hc_model **out)
{
    *out = NULL;
    if (hp->dim <= 0 || hp->batch <= 0 || hp->negatives < 0 || !(hp->lr > 0.0f) ||
        hp->out_samples < 0 || hp->out_proposal < 0 || hp->out_proposal > 1)
        return hc_error(HC_EINVAL,
                        "%s: invalid hyperparameters (dim %d, batch %d, lr %g, out_samples %d)",
                        t->name, hp->dim, hp->batch, (double)hp->lr, hp->out_samples);
    hc_model *m = calloc(1, t->size);
    if (!m)
        return hc_error(HC_ENOMEM, "%s: out of memory", t->name);
    m->type = t;
    m->hp = *hp;
    m->n_users = ds->n_users;
    m->n_items = ds->n_items;
    m->ds_checksum = ds->checksum;
    int rc = t->init(m, ds, load);
    if (rc) {
        hc_model_free(m);
        return rc;
    }
    *out = m;
    return HC_OK;
}

int hc_model_create(const hc_model_type *t, const hc_dataset *ds, const hc_hparams *hp,
                    hc_model **out)
{
    return model_alloc(t, ds, hp, 0, out);
}

int64_t hc_model_n_params(hc_model *m)
{
    hc_tensor ts[HC_MAX_TENSORS];
    int n = m->type->tensors(m, ts);
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += hc_tensor_len(&ts[i]);
    return total;
}

int hc_model_copy_params(hc_model *dst, hc_model *src)
{
    hc_tensor a[HC_MAX_TENSORS], b[HC_MAX_TENSORS];
    int na = dst->type->tensors(dst, a), nb = src->type->tensors(src, b);
    if (dst->type != src->type || na != nb)
        return hc_error(HC_EINVAL, "copy between different model families");
    for (int i = 0; i < na; i++) {
        if (a[i].rows != b[i].rows || a[i].cols != b[i].cols)
            return hc_error(HC_EINVAL, "copy: tensor %s shapes differ", a[i].name);
        memcpy(a[i].data, b[i].data, (size_t)hc_tensor_len(&a[i]) * sizeof(float));
    }
    return HC_OK;
}

/* ------------------------------------------------------------------------------ file I/O */

/* Appends n bytes to a header being built. */
static unsigned char *put(unsigned char *p, const void *src, size_t n)
{
    memcpy(p, src, n);
    return p + n;
}

/* The hyperparameters m's family reads as "name=value\n" lines into text (HP_TEXT_MAX
 * bytes, not NUL-terminated); returns the length. */
static uint32_t hparams_text(const hc_model *m, char *text)
{
    size_t n = 0;
    for (int i = 0; i < hc_n_hparam_defs; i++) {
        const hc_param_def *p = &hc_hparam_defs[i];
        char v[64];
        if (!hc_model_type_uses(m->type, p->name))
            continue;
        hc_param_format(p, &m->hp, v, sizeof v);
        n += (size_t)snprintf(text + n, HP_TEXT_MAX - n, "%s=%s\n", p->name, v);
    }
    return (uint32_t)n; /* the table's names and values stay far below HP_TEXT_MAX */
}

/* Reads the version 3 hyperparameter text (len bytes) into hp, on top of family t's defaults.
 * HC_ECORRUPT naming the file for a line the family does not read or cannot parse. */
static int hparams_parse(const hc_model_type *t, const char *text, uint32_t len, hc_hparams *hp,
                         const char *path)
{
    hc_hparams_default(t, hp);
    for (uint32_t a = 0; a < len;) {
        const char *nl = memchr(text + a, '\n', len - a);
        uint32_t b = nl ? (uint32_t)(nl - text) : len;
        char line[128];
        if (b - a >= sizeof line)
            return hc_error(HC_ECORRUPT, "%s: a hyperparameter line of %u bytes", path, b - a);
        memcpy(line, text + a, b - a);
        line[b - a] = '\0';
        const char *one[] = {line, NULL};
        if (hc_hparams_apply(t, hp, one) != HC_OK) {
            char msg[256]; /* hc_errmsg's buffer is the one hc_error writes */
            snprintf(msg, sizeof msg, "%s", hc_errmsg());
            return hc_error(HC_ECORRUPT, "%s: hyperparameters: %s", path, msg);
        }
        a = b + 1;
    }
    return HC_OK;
}

int hc_model_save(hc_model *m, const char *path)
{
    hc_tensor ts[HC_MAX_TENSORS];
    int nt = m->type->tensors(m, ts);
    uint64_t body_len = 0;
    for (int i = 0; i < nt; i++)
        body_len += NAME_LEN + 8 + (uint64_t)ts[i].rows * (uint64_t)ts[i].cols * 4;
    /* the body checksum needs the body bytes in one buffer */
    unsigned char *body = malloc(body_len ? body_len : 1);
    if (!body)
        return hc_error(HC_ENOMEM, "%s: out of memory", path);
    unsigned char *p = body;
    for (int i = 0; i < nt; i++) {
        memset(p, 0, NAME_LEN);
        strncpy((char *)p, ts[i].name, NAME_LEN - 1);
        p += NAME_LEN;
        memcpy(p, &ts[i].rows, 4);
        memcpy(p + 4, &ts[i].cols, 4);
        p += 8;
        size_t bytes = (size_t)ts[i].rows * (size_t)ts[i].cols * 4;
        memcpy(p, ts[i].data, bytes);
        p += bytes;
    }
    uint64_t sum = hc_checksum(body, body_len);
    /* the header in one buffer too, for its own checksum (every byte before it) */
    char text[HP_TEXT_MAX];
    uint32_t ver = MODEL_FORMAT_VERSION, ntu = (uint32_t)nt, tlen = hparams_text(m, text);
    char family[NAME_LEN] = {0};
    strncpy(family, m->type->name, NAME_LEN - 1);
    unsigned char hdr[MODEL_HEADER_MAX], *h = hdr;
    h = put(h, MODEL_MAGIC, 4);
    h = put(h, &ver, 4);
    h = put(h, family, NAME_LEN);
    h = put(h, &m->type->version, 4);
    h = put(h, &tlen, 4);
    h = put(h, text, tlen);
    h = put(h, &m->n_users, 4);
    h = put(h, &m->n_items, 4);
    h = put(h, &m->ds_checksum, 8);
    h = put(h, &ntu, 4);
    h = put(h, &body_len, 8);
    h = put(h, &sum, 8);
    uint64_t hsum = hc_checksum(hdr, (size_t)(h - hdr));
    h = put(h, &hsum, 8);
    hc_afile af;
    int rc = hc_afile_open(&af, path);
    if (rc) {
        free(body);
        return rc;
    }
    fwrite(hdr, 1, (size_t)(h - hdr), af.fp);
    fwrite(body, 1, body_len, af.fp);
    free(body);
    return hc_afile_commit(&af);
}

/* A bounds-checked reader over a byte buffer. */
typedef struct {
    const unsigned char *p, *end;
    const char *path;
} rd;

static int take(rd *r, void *dst, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return hc_error(HC_ECORRUPT, "%s: truncated model file", r->path);
    memcpy(dst, r->p, n);
    r->p += n;
    return HC_OK;
}

#define TAKE(r, dst, n)                                                                            \
    do {                                                                                           \
        if ((rc = take((r), (dst), (n))) != HC_OK)                                                 \
            goto done;                                                                             \
    } while (0)

/* Checks the body b (len bytes) against the family's tensor list ts[0..n): names, shapes and
 * sizes, ending exactly at the end - before anything is allocated from the header's claims. */
static int check_body(const unsigned char *b, uint64_t len, const hc_tensor *ts, int n,
                      const char *path)
{
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        char name[NAME_LEN];
        int32_t rows, cols;
        if (len - off < NAME_LEN + 8)
            return hc_error(HC_ECORRUPT, "%s: truncated model file (tensor %d of %d)", path, i, n);
        memcpy(name, b + off, NAME_LEN);
        name[NAME_LEN - 1] = '\0';
        memcpy(&rows, b + off + NAME_LEN, 4);
        memcpy(&cols, b + off + NAME_LEN + 4, 4);
        off += NAME_LEN + 8;
        if (strcmp(name, ts[i].name) != 0 || rows != ts[i].rows || cols != ts[i].cols)
            return hc_error(HC_ECORRUPT, "%s: tensor %d is %s %dx%d, expected %s %dx%d", path, i,
                            name, rows, cols, ts[i].name, ts[i].rows, ts[i].cols);
        uint64_t bytes = (uint64_t)hc_tensor_len(&ts[i]) * 4;
        if (len - off < bytes)
            return hc_error(HC_ECORRUPT,
                            "%s: truncated model file (tensor %s needs %llu bytes, %llu left)",
                            path, name, (unsigned long long)bytes, (unsigned long long)(len - off));
        off += bytes;
    }
    if (off != len)
        return hc_error(HC_ECORRUPT, "%s: %llu bytes after the last tensor", path,
                        (unsigned long long)(len - off));
    return HC_OK;
}

/* Re-raises the current error with the file's name in front (messages of the families'
 * checks name the family, not the file). */
static int name_file(int rc, const char *path)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s", hc_errmsg() ? hc_errmsg() : hc_strerror(rc));
    return hc_error(rc, "%s: %s", path, msg);
}

int hc_model_load(const char *path, const hc_dataset *ds, hc_model **out)
{
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    int rc = hc_file_read_all(path, &data, &len);
    if (rc)
        return rc;
    rc = hc_model_load_mem(path, data, len, ds, out);
    free(data);
    return rc;
}

int hc_model_load_mem(const char *path, const void *data, size_t len, const hc_dataset *ds,
                      hc_model **out)
{
    *out = NULL;
    hc_model *m = NULL;
    int rc = HC_OK;
    rd r = {(const unsigned char *)data, (const unsigned char *)data + len, path};
    char magic[4] = {0}, family[NAME_LEN] = {0};
    uint32_t ver = 0, nt = 0;
    int32_t fver = 0, iv[4] = {0}, nu = 0, ni = 0;
    float fv[6] = {0};
    uint64_t seed = 0, dsum = 0, body_len = 0, sum = 0, hsum = 0;
    uint32_t tlen = 0;
    const char *text = NULL;
    TAKE(&r, magic, 4);
    if (memcmp(magic, MODEL_MAGIC, 4) != 0) {
        rc = hc_error(HC_ECORRUPT, "%s: not a hetcomp model file (bad magic)", path);
        goto done;
    }
    TAKE(&r, &ver, 4);
    if (ver < 1 || ver > MODEL_FORMAT_VERSION) {
        rc = hc_error(HC_EMISMATCH, "%s: model format version %u, this build reads 1 to %u", path,
                      ver, MODEL_FORMAT_VERSION);
        goto done;
    }
    TAKE(&r, family, NAME_LEN);
    family[NAME_LEN - 1] = '\0';
    TAKE(&r, &fver, 4);
    if (ver >= 3) {
        TAKE(&r, &tlen, 4);
        if (tlen > HP_TEXT_MAX || (size_t)(r.end - r.p) < tlen) {
            rc = hc_error(HC_ECORRUPT, "%s: truncated model file (hyperparameters of %u bytes)",
                          path, tlen);
            goto done;
        }
        text = (const char *)r.p;
        r.p += tlen;
    } else {
        TAKE(&r, iv, sizeof iv);
        TAKE(&r, fv, sizeof fv);
        TAKE(&r, &seed, 8);
    }
    TAKE(&r, &nu, 4);
    TAKE(&r, &ni, 4);
    TAKE(&r, &dsum, 8);
    TAKE(&r, &nt, 4);
    TAKE(&r, &body_len, 8);
    TAKE(&r, &sum, 8);
    if (ver >= 2) { /* version 1 files have no header checksum */
        size_t covered = (size_t)(r.p - (const unsigned char *)data);
        TAKE(&r, &hsum, 8);
        if (hc_checksum(data, covered) != hsum) {
            rc = hc_error(HC_ECORRUPT, "%s: header checksum mismatch (file is corrupt)", path);
            goto done;
        }
    }
    if ((uint64_t)(r.end - r.p) != body_len) {
        rc = hc_error(HC_ECORRUPT, "%s: truncated or padded (body %llu bytes, expected %llu)", path,
                      (unsigned long long)(r.end - r.p), (unsigned long long)body_len);
        goto done;
    }
    if (hc_checksum(r.p, body_len) != sum) {
        rc = hc_error(HC_ECORRUPT, "%s: checksum mismatch (file is corrupt)", path);
        goto done;
    }
    const hc_model_type *t = hc_model_type_find(family);
    if (!t) {
        rc = hc_error(HC_EMISMATCH, "%s: unknown model family '%s'", path, family);
        goto done;
    }
    if (fver != t->version) {
        rc = hc_error(HC_EMISMATCH, "%s: %s version %d, this build reads %d", path, family, fver,
                      t->version);
        goto done;
    }
    if (ds && (dsum != ds->checksum || nu != ds->n_users || ni != ds->n_items)) {
        rc = hc_error(HC_EMISMATCH,
                      "%s: trained on another dataset (checksum %016llx, %d users, %d items; "
                      "this dataset %016llx, %d users, %d items)",
                      path, (unsigned long long)dsum, nu, ni, (unsigned long long)ds->checksum,
                      ds->n_users, ds->n_items);
        goto done;
    }
    if (nu <= 0 || ni <= 0) {
        rc = hc_error(HC_ECORRUPT, "%s: bad user/item counts", path);
        goto done;
    }
    hc_hparams hp = {.dim = iv[0],
                     .layers = iv[1],
                     .negatives = iv[2],
                     .batch = iv[3],
                     .lr = fv[0],
                     .reg = fv[1],
                     .l2 = fv[2],
                     .margin = fv[3],
                     .dropout = fv[4],
                     .init_std = fv[5],
                     .seed = seed,
                     .out_proposal = 1}; /* the training-only fields at their defaults */
    if (text && (rc = hparams_parse(t, text, tlen, &hp, path)) != HC_OK)
        goto done;
    if (hp.dim <= 0 || hp.dim > (1 << 16) || hp.layers < 0 || hp.layers > 64) {
        rc = hc_error(HC_ECORRUPT, "%s: implausible hyperparameters", path);
        goto done;
    }
    /* what the family would allocate, checked against the file before it does */
    hc_tensor ts[HC_MAX_TENSORS];
    int n = t->shapes(&hp, nu, ni, ts);
    if (n < 0) {
        rc = name_file(n, path);
        goto done;
    }
    if ((uint32_t)n != nt) {
        rc = hc_error(HC_ECORRUPT, "%s: %u tensors, %s has %d", path, nt, family, n);
        goto done;
    }
    if ((rc = check_body(r.p, body_len, ts, n, path)) != HC_OK)
        goto done;
    /* the family allocates from the dataset's counts: a stand-in dataset when none given */
    hc_dataset shape = {0};
    const hc_dataset *dsp = ds;
    if (!dsp) {
        shape.n_users = nu;
        shape.n_items = ni;
        shape.checksum = dsum;
        dsp = &shape;
    }
    if ((rc = model_alloc(t, dsp, &hp, 1, &m)) != HC_OK) {
        rc = name_file(rc, path);
        goto done;
    }
    n = t->tensors(m, ts);
    for (int i = 0; i < n; i++) { /* shapes checked by check_body */
        r.p += NAME_LEN + 8;
        size_t bytes = (size_t)hc_tensor_len(&ts[i]) * 4;
        memcpy(ts[i].data, r.p, bytes);
        r.p += bytes;
    }
    if (t->prepare && ds && (rc = t->prepare(m, ds)) != HC_OK)
        goto done;
    *out = m;
    m = NULL;
done:
    hc_model_free(m);
    return rc;
}

const char *hc_model_family(const hc_model *m)
{
    return m->type->name;
}

int32_t hc_model_n_users(const hc_model *m)
{
    return m->n_users;
}

int32_t hc_model_n_items(const hc_model *m)
{
    return m->n_items;
}

int hc_model_score(hc_model *m, const int32_t *users, int32_t n, float *out)
{
    for (int32_t k = 0; k < n; k++)
        if (users[k] < 0 || users[k] >= m->n_users)
            return hc_error(HC_EINVAL, "score: user %d is not in [0, %d)", users[k], m->n_users);
    return m->type->score(m, users, n, out);
}

static int model_score(void *ctx, const int32_t *users, int32_t n, float *out)
{
    hc_model *m = ctx;
    return m->type->score(m, users, n, out);
}

hc_scorer hc_model_scorer(hc_model *m)
{
    hc_scorer s = {model_score, m};
    return s;
}

int hc_model_clone(hc_model *src, const hc_dataset *ds, hc_model **out)
{
    int rc = model_alloc(src->type, ds, &src->hp, 1, out);
    if (rc)
        return rc;
    rc = hc_model_copy_params(*out, src);
    if (rc) {
        hc_model_free(*out);
        *out = NULL;
    }
    return rc;
}

int hc_keeper_take(hc_keeper *k, hc_model *m, const hc_dataset *ds)
{
    hc_model_free(k->copy);
    k->copy = NULL;
    return hc_model_clone(m, ds, &k->copy);
}

int hc_keeper_restore(const hc_keeper *k, hc_model *m)
{
    return k->copy ? hc_model_copy_params(m, k->copy) : HC_OK;
}

void hc_keeper_free(hc_keeper *k)
{
    if (!k)
        return;
    hc_model_free(k->copy);
    k->copy = NULL;
}
