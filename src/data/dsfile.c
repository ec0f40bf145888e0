/*
 * dsfile.c - the binary dataset file (.hcd): save, load with full validation, and the content
 * checksum that names a dataset in model and trajectory files.
 *
 * Layout (little-endian, docs/formats-dataset.md):
 *   header, 112 bytes: magic "HCDS", version, n_users, n_items, kind, seed, fractions, the nnz
 *     of train/valid/test, the byte sizes of the three body sections, the body checksum and a
 *     checksum of the header itself;
 *   body: section 1, for train, valid and test in turn: indptr (n_users + 1 int64) and indices
 *     (nnz int32); section 2, the user id map: n_users uint32 lengths, then the names' bytes;
 *     section 3, the item id map likewise.
 * The body checksum is XXH3-64 of the body bytes, computed while streaming (no second copy), and
 * it is the value of ds->checksum. Loading reads the file in one go and trusts nothing: sizes
 * are checked against the file length before any allocation, both checksums are verified, and
 * the CSR invariants and id maps are validated so that a crafted file cannot crash later code.
 */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#define DS_MAGIC       "HCDS"
#define DS_VERSION     1u
#define DS_HEADER_SIZE 112u

/* Byte offsets of the header fields. */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 4,
    OFF_NUSERS = 8,
    OFF_NITEMS = 12,
    OFF_KIND = 16,
    OFF_RESERVED = 20,
    OFF_SEED = 24,
    OFF_VFRAC = 32,
    OFF_TFRAC = 40,
    OFF_NNZ = 48,   /* 3 x int64: train, valid, test */
    OFF_SIZES = 72, /* 3 x uint64: CSR section, user map, item map */
    OFF_CHECKSUM = 96,
    OFF_HCHECK = 104
};

/* ------------------------------------------------------------------ little-endian helpers */

static int host_is_le(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++)
        v |= (uint32_t)p[k] << (8 * k);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

static uint64_t dbl_bits(double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    return v;
}

static double bits_dbl(uint64_t v)
{
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* ------------------------------------------------------------------ body serialisation */

/* Where body bytes go: a hash state, a file, or both. */
typedef struct {
    XXH3_state_t *hash; /* may be NULL */
    FILE *fp;           /* may be NULL */
} sink;

static void sink_write(sink *s, const void *data, size_t len)
{
    if (!len)
        return;
    if (s->hash)
        XXH3_64bits_update(s->hash, data, len);
    if (s->fp)
        fwrite(data, 1, len, s->fp);
}

/* Emits n integers of width 4 or 8 in little-endian order. */
static void sink_ints(sink *s, const void *a, int64_t n, int width)
{
    if (host_is_le()) {
        sink_write(s, a, (size_t)n * (size_t)width);
        return;
    }
    uint8_t buf[4096] = {0};
    size_t fill = 0;
    for (int64_t k = 0; k < n; k++) {
        if (width == 8)
            put_u64(buf + fill, (uint64_t)((const int64_t *)a)[k]);
        else
            put_u32(buf + fill, (uint32_t)((const int32_t *)a)[k]);
        fill += (size_t)width;
        if (fill == sizeof buf) {
            sink_write(s, buf, fill);
            fill = 0;
        }
    }
    sink_write(s, buf, fill);
}

static void emit_csr(sink *s, const hc_csr *a, int32_t n_users)
{
    if (!a->indptr) { /* an absent matrix is an empty one */
        static const uint8_t zero[8];
        for (int64_t r = 0; r <= n_users; r++)
            sink_write(s, zero, 8);
        return;
    }
    sink_ints(s, a->indptr, (int64_t)n_users + 1, 8);
    sink_ints(s, a->indices, a->nnz, 4);
}

static void emit_map(sink *s, const hc_idmap *m, int32_t n)
{
    if (!m)
        return;
    uint8_t buf[4096] = {0};
    size_t fill = 0;
    for (int32_t k = 0; k < n; k++) {
        put_u32(buf + fill, (uint32_t)strlen(hc_idmap_name(m, k)));
        fill += 4;
        if (fill == sizeof buf) {
            sink_write(s, buf, fill);
            fill = 0;
        }
    }
    sink_write(s, buf, fill);
    for (int32_t k = 0; k < n; k++) {
        const char *name = hc_idmap_name(m, k);
        sink_write(s, name, strlen(name));
    }
}

static void emit_body(sink *s, const hc_dataset *ds)
{
    emit_csr(s, &ds->train, ds->n_users);
    emit_csr(s, &ds->valid, ds->n_users);
    emit_csr(s, &ds->test, ds->n_users);
    emit_map(s, ds->users, ds->n_users);
    emit_map(s, ds->items, ds->n_items);
}

static uint64_t map_bytes(const hc_idmap *m, int32_t n)
{
    uint64_t b = 0;
    if (!m)
        return 0;
    for (int32_t k = 0; k < n; k++)
        b += 4 + strlen(hc_idmap_name(m, k));
    return b;
}

static int64_t csr_nnz(const hc_csr *a)
{
    return a->indptr ? a->nnz : 0;
}

void hc_dataset_update_checksum(hc_dataset *ds)
{
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset(&st);
    sink s = {&st, NULL};
    emit_body(&s, ds);
    ds->checksum = (uint64_t)XXH3_64bits_digest(&st);
}

/* Checks that ds is complete and consistent before it is written. */
static int check_saveable(const hc_dataset *ds, const char *path)
{
    if (ds->n_users < 0 || ds->n_items < 0)
        return hc_error(HC_EINVAL, "%s: dataset has negative sizes", path);
    if (hc_idmap_size(ds->users) != ds->n_users || hc_idmap_size(ds->items) != ds->n_items)
        return hc_error(
            HC_EINVAL, "%s: dataset id maps hold %d users and %d items, expected %d and %d", path,
            hc_idmap_size(ds->users), hc_idmap_size(ds->items), ds->n_users, ds->n_items);
    const hc_csr *m[3] = {&ds->train, &ds->valid, &ds->test};
    for (int k = 0; k < 3; k++)
        if (m[k]->indptr && (m[k]->nrows != ds->n_users || m[k]->ncols != ds->n_items))
            return hc_error(HC_EINVAL, "%s: a dataset matrix is %d x %d, expected %d x %d", path,
                            m[k]->nrows, m[k]->ncols, ds->n_users, ds->n_items);
    return HC_OK;
}

static void build_header(const hc_dataset *ds, uint64_t checksum, uint8_t *h)
{
    memset(h, 0, DS_HEADER_SIZE);
    memcpy(h + OFF_MAGIC, DS_MAGIC, 4);
    put_u32(h + OFF_VERSION, DS_VERSION);
    put_u32(h + OFF_NUSERS, (uint32_t)ds->n_users);
    put_u32(h + OFF_NITEMS, (uint32_t)ds->n_items);
    put_u32(h + OFF_KIND, (uint32_t)ds->kind);
    put_u64(h + OFF_SEED, ds->seed);
    put_u64(h + OFF_VFRAC, dbl_bits(ds->valid_frac));
    put_u64(h + OFF_TFRAC, dbl_bits(ds->test_frac));
    int64_t nnz[3] = {csr_nnz(&ds->train), csr_nnz(&ds->valid), csr_nnz(&ds->test)};
    for (int k = 0; k < 3; k++)
        put_u64(h + OFF_NNZ + 8 * k, (uint64_t)nnz[k]);
    uint64_t csr_bytes =
        3 * ((uint64_t)ds->n_users + 1) * 8 + 4 * (uint64_t)(nnz[0] + nnz[1] + nnz[2]);
    put_u64(h + OFF_SIZES, csr_bytes);
    put_u64(h + OFF_SIZES + 8, map_bytes(ds->users, ds->n_users));
    put_u64(h + OFF_SIZES + 16, map_bytes(ds->items, ds->n_items));
    put_u64(h + OFF_CHECKSUM, checksum);
    put_u64(h + OFF_HCHECK, hc_checksum(h, OFF_HCHECK));
}

int hc_dataset_save(const hc_dataset *ds, const char *path)
{
    int rc = check_saveable(ds, path);
    if (rc)
        return rc;
    hc_dataset tmp = *ds;
    hc_dataset_update_checksum(&tmp);
    uint8_t header[DS_HEADER_SIZE];
    build_header(ds, tmp.checksum, header);
    hc_afile af;
    if ((rc = hc_afile_open(&af, path)) != HC_OK)
        return rc;
    fwrite(header, 1, sizeof header, af.fp);
    sink s = {NULL, af.fp};
    emit_body(&s, ds);
    if (ferror(af.fp)) {
        hc_afile_abort(&af);
        return hc_error(HC_EIO, "%s: write failed", path);
    }
    return hc_afile_commit(&af);
}

/* ------------------------------------------------------------------ loading */

/* Reads one CSR from p (already known to hold the bytes) and validates its invariants. */
static int load_csr(const char *path, const char *what, const uint8_t **p, int32_t n_users,
                    int32_t n_items, int64_t nnz, hc_csr *out)
{
    memset(out, 0, sizeof *out);
    out->indptr = malloc(((size_t)n_users + 1) * sizeof *out->indptr);
    out->indices = malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof *out->indices);
    if (!out->indptr || !out->indices) {
        hc_csr_free(out);
        return hc_error(HC_ENOMEM, "%s: out of memory for the %s matrix", path, what);
    }
    out->nrows = n_users;
    out->ncols = n_items;
    out->nnz = nnz;
    size_t pb = ((size_t)n_users + 1) * 8, ib = (size_t)nnz * 4;
    if (host_is_le()) {
        memcpy(out->indptr, *p, pb);
        if (ib)
            memcpy(out->indices, *p + pb, ib);
    } else {
        for (int64_t r = 0; r <= n_users; r++)
            out->indptr[r] = (int64_t)get_u64(*p + 8 * r);
        for (int64_t k = 0; k < nnz; k++)
            out->indices[k] = (int32_t)get_u32(*p + pb + 4 * k);
    }
    *p += pb + ib;
    if (out->indptr[0] != 0 || out->indptr[n_users] != nnz)
        goto bad;
    for (int32_t r = 0; r < n_users; r++) {
        int64_t b = out->indptr[r], e = out->indptr[r + 1];
        if (e < b || e > nnz)
            goto bad;
        for (int64_t k = b; k < e; k++)
            if (out->indices[k] < 0 || out->indices[k] >= n_items ||
                (k > b && out->indices[k] <= out->indices[k - 1]))
                goto bad;
    }
    return HC_OK;
bad:
    hc_csr_free(out);
    return hc_error(HC_ECORRUPT, "%s: the %s matrix is malformed", path, what);
}

/* Rebuilds an id map of n names from its section (lengths, then bytes) of exactly size bytes. */
static int load_map(const char *path, const char *what, const uint8_t **p, int32_t n, uint64_t size,
                    hc_idmap **out)
{
    *out = NULL;
    if (size < 4 * (uint64_t)n)
        return hc_error(HC_ECORRUPT, "%s: %s id section too small", path, what);
    const uint8_t *lens = *p, *names = *p + 4 * (size_t)n;
    uint64_t avail = size - 4 * (uint64_t)n, used = 0;
    hc_idmap *m = hc_idmap_new();
    if (!m)
        return hc_error(HC_ENOMEM, "%s: out of memory", path);
    for (int32_t k = 0; k < n; k++) {
        uint32_t len = get_u32(lens + 4 * (size_t)k);
        if (len > avail - used) {
            hc_idmap_free(m);
            return hc_error(HC_ECORRUPT, "%s: %s id %d runs past its section", path, what, k);
        }
        const char *name = (const char *)names + used;
        if (memchr(name, '\0', len)) {
            hc_idmap_free(m);
            return hc_error(HC_ECORRUPT, "%s: %s id %d contains a NUL byte", path, what, k);
        }
        int32_t idx;
        int rc = hc_idmap_put(m, name, len, &idx);
        if (rc) {
            hc_idmap_free(m);
            return rc;
        }
        if (idx != k) {
            hc_idmap_free(m);
            return hc_error(HC_ECORRUPT, "%s: duplicate %s id '%.*s'", path, what, (int)len, name);
        }
        used += len;
    }
    if (used != avail) {
        hc_idmap_free(m);
        return hc_error(HC_ECORRUPT, "%s: %s id section has %llu stray bytes", path, what,
                        (unsigned long long)(avail - used));
    }
    *p += size;
    *out = m;
    return HC_OK;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int hc_dataset_load(const char *path, hc_dataset *out)
{
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t len = 0;
    int rc = hc_file_read_all(path, &data, &len);
    if (rc)
        return rc;
    rc = hc_dataset_load_mem(path, data, len, out);
    free(data);
    return rc;
}

int hc_dataset_load_mem(const char *path, const void *data, size_t len, hc_dataset *out)
{
    memset(out, 0, sizeof *out);
    int rc;
    const uint8_t *h = (const uint8_t *)data;
    if (len >= 4 && memcmp(h, DS_MAGIC, 4) != 0) {
        int text = 1; /* a raw interactions file passed where a dataset file belongs */
        for (size_t k = 0; k < len && k < 256; k++)
            text &= h[k] == '\n' || h[k] == '\r' || h[k] == '\t' || (h[k] >= 32 && h[k] < 127);
        rc = text ? hc_error(HC_ECORRUPT,
                             "%s: not a hetcomp dataset file but text, interactions perhaps: "
                             "split them into one first ('hetcomp split --data %s --out "
                             "DS.hcd')",
                             path, path)
                  : hc_error(HC_ECORRUPT, "%s: not a hetcomp dataset file (bad magic)", path);
        goto fail;
    }
    if (len < DS_HEADER_SIZE) {
        rc = hc_error(HC_ECORRUPT, "%s: truncated (expected %u bytes, found %zu)", path,
                      DS_HEADER_SIZE, len);
        goto fail;
    }
    uint32_t version = get_u32(h + OFF_VERSION);
    if (version != DS_VERSION) {
        rc = hc_error(HC_EMISMATCH, "%s: dataset file version %u, this build reads version %u",
                      path, version, DS_VERSION);
        goto fail;
    }
    if (get_u64(h + OFF_HCHECK) != hc_checksum(h, OFF_HCHECK)) {
        rc = hc_error(HC_ECORRUPT, "%s: header checksum mismatch", path);
        goto fail;
    }
    int32_t n_users = (int32_t)get_u32(h + OFF_NUSERS), n_items = (int32_t)get_u32(h + OFF_NITEMS);
    uint32_t kind = get_u32(h + OFF_KIND);
    int64_t nnz[3];
    for (int k = 0; k < 3; k++)
        nnz[k] = (int64_t)get_u64(h + OFF_NNZ + 8 * k);
    uint64_t sec[3];
    for (int k = 0; k < 3; k++)
        sec[k] = get_u64(h + OFF_SIZES + 8 * k);
    const int64_t nnz_cap = (int64_t)1 << 56;
    if (n_users < 0 || n_items < 0 || kind > HC_SPLIT_IMPORTED || nnz[0] < 0 || nnz[1] < 0 ||
        nnz[2] < 0 || nnz[0] > nnz_cap || nnz[1] > nnz_cap || nnz[2] > nnz_cap) {
        rc = hc_error(HC_ECORRUPT, "%s: header holds impossible sizes", path);
        goto fail;
    }
    uint64_t csr_bytes = 3 * ((uint64_t)n_users + 1) * 8 + 4 * (uint64_t)(nnz[0] + nnz[1] + nnz[2]);
    if (sec[0] != csr_bytes) {
        rc = hc_error(HC_ECORRUPT, "%s: matrix section is %llu bytes, expected %llu", path,
                      (unsigned long long)sec[0], (unsigned long long)csr_bytes);
        goto fail;
    }
    uint64_t expect = sat_add(sat_add(sat_add(DS_HEADER_SIZE, sec[0]), sec[1]), sec[2]);
    if ((uint64_t)len < expect) {
        rc = hc_error(HC_ECORRUPT, "%s: truncated (expected %llu bytes, found %zu)", path,
                      (unsigned long long)expect, len);
        goto fail;
    }
    if ((uint64_t)len > expect) {
        rc = hc_error(HC_ECORRUPT, "%s: %llu unexpected bytes after the data", path,
                      (unsigned long long)((uint64_t)len - expect));
        goto fail;
    }
    uint64_t checksum = get_u64(h + OFF_CHECKSUM);
    if (hc_checksum(h + DS_HEADER_SIZE, len - DS_HEADER_SIZE) != checksum) {
        rc = hc_error(HC_ECORRUPT, "%s: checksum mismatch", path);
        goto fail;
    }
    const uint8_t *p = h + DS_HEADER_SIZE;
    if ((rc = load_csr(path, "train", &p, n_users, n_items, nnz[0], &out->train)) ||
        (rc = load_csr(path, "valid", &p, n_users, n_items, nnz[1], &out->valid)) ||
        (rc = load_csr(path, "test", &p, n_users, n_items, nnz[2], &out->test)) ||
        (rc = load_map(path, "user", &p, n_users, sec[1], &out->users)) ||
        (rc = load_map(path, "item", &p, n_items, sec[2], &out->items)))
        goto fail;
    out->n_users = n_users;
    out->n_items = n_items;
    out->kind = (hc_split_kind)kind;
    out->seed = get_u64(h + OFF_SEED);
    out->valid_frac = bits_dbl(get_u64(h + OFF_VFRAC));
    out->test_frac = bits_dbl(get_u64(h + OFF_TFRAC));
    out->checksum = checksum;
    return HC_OK;
fail:
    hc_dataset_free(out);
    return rc;
}
