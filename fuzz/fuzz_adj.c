/*
 * fuzz_adj.c - libFuzzer harness for the adjacency-list (adj) reader (src/data/read_adj.c): the
 * input is the file's bytes, read as "adj" and with the format detected. Cost: O(input) per run.
 */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hc_read_opts o[2];
    hc_read_opts_default(&o[0]);
    hc_read_opts_default(&o[1]);
    o[0].format = HC_FMT_ADJ;
    o[1].format = HC_FMT_AUTO; /* detection, then whichever reader it picks */
    fz_read(data, size, o, 2);
    return 0;
}
