/*
 * cmd_export.c - `hetcomp export`: a saved model's parameters as NumPy files, for use outside
 * hetcomp (tools/load_model.py shows how).
 *
 * DIR/<tensor>.npy   every tensor of the model, NumPy format 1.0: "\x93NUMPY", bytes 1 0,
 *                    u16 little-endian header length, then the header dict
 *                    {'descr': '<f4', 'fortran_order': False, 'shape': (rows, cols), }
 *                    padded with spaces and a final '\n' so that the data starts at a multiple
 *                    of 64 bytes, then rows*cols little-endian float32 in C order
 * DIR/users.tsv      index<TAB>user id, one line per user (row order of user tensors)
 * DIR/items.tsv      index<TAB>item id
 * DIR/model.json     family, hyperparameters, counts, dataset checksum, tensor names/shapes
 * Every file is written atomically (temp file + rename).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "params_cli.h"
#include "model/model.h"

static const char *CMD = "export";

static void help(void)
{
    printf("usage: hetcomp export --model M.hcm --data DS.hcd --out DIR [--format npy]\n\n"
           "Writes every parameter tensor of the model as DIR/<name>.npy (float32, C order,\n"
           "shape (rows, cols)), the id maps as DIR/users.tsv and DIR/items.tsv\n"
           "(index<TAB>id) and DIR/model.json (family, hyperparameters, tensor shapes).\n"
           "tools/load_model.py loads the directory with NumPy.\n\n"
           "options:\n"
           "  --model FILE        model file (required)\n"
           "  --data FILE         the dataset file the model was trained on (required)\n"
           "  --out DIR           output directory (created; required)\n"
           "  --format npy        output format (npy, the only one)\n");
    cli_common_help(stdout);
}

/* Writes t as a NumPy v1.0 .npy file at path. */
static int write_npy(const char *path, const hc_tensor *t)
{
    char dict[128];
    int n =
        snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }",
                 t->rows, t->cols);
    /* 6 magic + 2 version + 2 length + header (dict, spaces, '\n') = multiple of 64 */
    size_t hlen = (size_t)n + 1, total = 10 + hlen;
    hlen += (64 - total % 64) % 64;
    char header[256];
    memset(header, ' ', sizeof header);
    memcpy(header, dict, (size_t)n);
    header[hlen - 1] = '\n';
    unsigned char pre[10] = {0x93,
                             'N',
                             'U',
                             'M',
                             'P',
                             'Y',
                             1,
                             0,
                             (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    hc_afile af;
    int rc = hc_afile_open(&af, path);
    if (rc)
        return rc;
    size_t count = (size_t)t->rows * (size_t)t->cols;
    fwrite(pre, 1, sizeof pre, af.fp);
    fwrite(header, 1, hlen, af.fp);
    if (count)
        fwrite(t->data, sizeof(float), count, af.fp); /* little-endian host (x86-64, arm64) */
    return hc_afile_commit(&af);
}

static int write_ids(const char *path, const hc_idmap *ids)
{
    hc_afile af;
    int rc = hc_afile_open(&af, path);
    if (rc)
        return rc;
    int32_t n = hc_idmap_size(ids);
    for (int32_t i = 0; i < n; i++)
        fprintf(af.fp, "%d\t%s\n", i, hc_idmap_name(ids, i));
    return hc_afile_commit(&af);
}

/* A tensor name is used as a file name: letters, digits, '_', '-' and '.' (not leading) only. */
static int safe_name(const char *s)
{
    if (!*s || *s == '.')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

static json_t *model_json(const hc_model *m, const hc_dataset *ds, const hc_tensor *ts, int nt)
{
    char sum[32];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)m->ds_checksum);
    json_t *tj = json_array();
    int64_t params = 0;
    for (int i = 0; i < nt; i++) {
        char file[128];
        snprintf(file, sizeof file, "%s.npy", ts[i].name);
        json_array_append_new(tj, json_pack("{s:s, s:s, s:[i, i]}", "name", ts[i].name, "file",
                                            file, "shape", ts[i].rows, ts[i].cols));
        params += (int64_t)ts[i].rows * ts[i].cols;
    }
    json_t *hj = cli_hparams_json(m->type, &m->hp);
    return json_pack("{s:s, s:s, s:i, s:s, s:o, s:i, s:i, s:I, s:s, s:o, s:s, s:s}", "format",
                     "npy", "family", m->type->name, "family_version", m->type->version, "title",
                     m->type->title, "hparams", hj, "n_users", ds->n_users, "n_items", ds->n_items,
                     "params", (json_int_t)params, "dataset_checksum", sum, "tensors", tj, "users",
                     "users.tsv", "items", "items.tsv");
}

int cmd_export(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL, *format = "npy";
    cli_common cc = {0};
    const cli_flag flags[] = {CLI_F_STR("model", 'm', &model), CLI_F_STR("data", 'd', &data),
                              CLI_F_STR("out", 'o', &out), CLI_F_STR("format", 'f', &format),
                              CLI_F_END};
    cli_args a = {.cmd = CMD, .shortopts = "m:d:o:f:hqv", .flags = flags, .cc = &cc, .help = help};
    int rc = cli_parse(&a, argc, argv);
    if (rc >= 0)
        return rc;
    if (strcmp(format, "npy") != 0)
        return cli_usage_error(CMD, "unknown format '%s' (only npy)", format);
    if (!model || !data || !out)
        return cli_usage_error(CMD, "--model, --data and --out are required");
    cli_common_start(&cc);

    hc_dataset ds = {0};
    hc_model *m = NULL;
    json_t *root = NULL;
    char path[4096];
    if ((rc = hc_dataset_load(data, &ds)) != HC_OK ||
        (rc = hc_model_load(model, &ds, &m)) != HC_OK || (rc = cli_make_dir(out)) != HC_OK)
        goto done;
    hc_tensor ts[HC_MAX_TENSORS];
    int nt = m->type->tensors(m, ts);
    for (int i = 0; i < nt; i++) {
        if (!safe_name(ts[i].name) || !ts[i].data || ts[i].rows < 0 || ts[i].cols < 0) {
            rc = hc_error(HC_EINVAL, "export: tensor %d ('%s') cannot be exported", i, ts[i].name);
            goto done;
        }
        snprintf(path, sizeof path, "%s/%s.npy", out, ts[i].name);
        if ((rc = write_npy(path, &ts[i])) != HC_OK)
            goto done;
    }
    snprintf(path, sizeof path, "%s/users.tsv", out);
    if ((rc = write_ids(path, ds.users)) != HC_OK)
        goto done;
    snprintf(path, sizeof path, "%s/items.tsv", out);
    if ((rc = write_ids(path, ds.items)) != HC_OK)
        goto done;
    root = model_json(m, &ds, ts, nt);
    snprintf(path, sizeof path, "%s/model.json", out);
    if ((rc = cli_json_write(root, path)) != HC_OK || (rc = cli_common_json(&cc, root)) != HC_OK)
        goto done;
    for (int i = 0; !cc.quiet && i < nt; i++)
        printf("%s.npy\t%d x %d\n", ts[i].name, ts[i].rows, ts[i].cols);
done:
    json_decref(root);
    hc_model_free(m);
    hc_dataset_free(&ds);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}
