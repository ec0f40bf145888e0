/*
 * fuzz_model.c - libFuzzer harness for the model file (hc_model_load_mem, src/model/model.c;
 * layout in docs/formats.md). Before loading, the harness writes the right checksums into the
 * mutated bytes - the body checksum (XXH3-64 of every byte after the header, at offset 104),
 * then, for format version 2, the header checksum (XXH3-64 of header bytes 0..111, at offset
 * 112; the header is 120 bytes, 112 in version 1) - so that mutations reach the family,
 * hyperparameter and tensor-shape checks behind them. Each input is loaded without a dataset
 * and against the harness's dataset (the one make_corpus.sh trains its seed models on); a
 * model that loads against it scores two users. Cost: O(input) per run.
 */
#include <stdlib.h>

#include "common.h"
#include "model/model.h"

#define HDR_V1    112 /* version 1 header; version 2 adds the header checksum */
#define OFF_VER   4
#define OFF_BODY  104 /* body checksum */
#define OFF_HSELF 112 /* header checksum (version 2) */

static void fix_checksums(uint8_t *buf, size_t size)
{
    if (size < HDR_V1)
        return;
    size_t hdr = fz_get_u32(buf + OFF_VER) >= 2 ? HDR_V1 + 8 : HDR_V1;
    if (size < hdr)
        return;
    fz_put_u64(buf + OFF_BODY, hc_checksum(buf + hdr, size - hdr));
    if (hdr > HDR_V1)
        fz_put_u64(buf + OFF_HSELF, hc_checksum(buf, OFF_HSELF));
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
