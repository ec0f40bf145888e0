/*
 * fuzz_model.c - libFuzzer harness for the model file (hc_model_load_mem, src/model/model.c;
 * layout in docs/formats.md, section 3). Before loading, the harness writes the right checksums
 * into the mutated bytes - the body checksum (XXH3-64 of every byte after the header), then,
 * from format version 2, the header checksum (XXH3-64 of every header byte before it) - at the
 * places the version gives: versions 1 and 2 have a fixed header (112 / 120 bytes, counts at
 * 76), version 3 has L bytes of hyperparameter text at 32 (L at 28), the counts at 32 + L and
 * a 76 + L byte header - so that mutations reach the family, hyperparameter and tensor-shape
 * checks behind them. Each input is loaded without a dataset and against the harness's dataset
 * (the one make_corpus.sh trains its seed models on); a model that loads against it scores two
 * users. Cost: O(input) per run.
 */
#include <stdlib.h>

#include "common.h"
#include "model/model.h"

#define OFF_VER  4
#define OFF_TLEN 28 /* version 3: the hyperparameter text's length */

static void fix_checksums(uint8_t *buf, size_t size)
{
    if (size < 32)
        return;
    uint32_t ver = fz_get_u32(buf + OFF_VER), tlen = fz_get_u32(buf + OFF_TLEN);
    /* where the counts start: the body checksum is 28 bytes after, the header checksum 36 */
    size_t counts = ver >= 3 ? 32 + (size_t)tlen : 76;
    if (ver >= 3 && tlen > 4096)
        return;
    size_t hdr = counts + 36 + (ver >= 2 ? 8 : 0);
    if (size < hdr)
        return;
    fz_put_u64(buf + counts + 28, hc_checksum(buf + hdr, size - hdr));
    if (ver >= 2)
        fz_put_u64(buf + counts + 36, hc_checksum(buf, counts + 36));
}

/* Scores the first users of ds with m (what evaluation and serving do first). */
static void score_some(hc_model *m, const hc_dataset *ds)
{
    int32_t users[2] = {0, 1};
    int32_t n = ds->n_users < 2 ? ds->n_users : 2;
    float *out = malloc((size_t)n * (size_t)ds->n_items * sizeof *out + 1);
    if (!out)
        abort();
    hc_scorer sc = hc_model_scorer(m);
    sc.score(sc.ctx, users, n, out);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fz_copy(data, size);
    fix_checksums(buf, size);
    const hc_dataset *ds = fz_dataset();
    hc_model *m = NULL;
    if (hc_model_load_mem("fuzz-input.hcm", buf, size, NULL, &m) == HC_OK)
        hc_model_free(m);
    if (hc_model_load_mem("fuzz-input.hcm", buf, size, ds, &m) == HC_OK) {
        score_some(m, ds);
        hc_model_free(m);
    }
    free(buf);
    return 0;
}
