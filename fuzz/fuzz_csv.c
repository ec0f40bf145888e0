/*
 * fuzz_csv.c - libFuzzer harness for the delimited (csv) reader (src/data/read_csv.c): the input
 * is the file's bytes, read as "csv" with header detection, then with a header line and a rating
 * threshold. Cost: O(input) per run.
 */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hc_read_opts o[2];
    hc_read_opts_default(&o[0]);
    hc_read_opts_default(&o[1]);
    o[0].format = HC_FMT_CSV;
    o[1].format = HC_FMT_CSV;
    o[1].header = 1;
    o[1].has_threshold = 1;
    o[1].threshold = 3.0f;
    fz_read(data, size, o, 2);
    return 0;
}
