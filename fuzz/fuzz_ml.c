/*
 * fuzz_ml.c - libFuzzer harness for the MovieLens .dat (ml) reader (src/data/read_ml.c): the input
 * is the file's bytes, read as "ml", then with a rating threshold. Cost: O(input) per run.
 */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hc_read_opts o[2];
    hc_read_opts_default(&o[0]);
    hc_read_opts_default(&o[1]);
    o[0].format = HC_FMT_ML;
    o[1].format = HC_FMT_ML;
    o[1].has_threshold = 1;
    o[1].threshold = 3.0f;
    fz_read(data, size, o, 2);
    return 0;
}
