/*
 * fuzz_count.c - libFuzzer harness for the CiteULike users.dat (count) reader
 * (src/data/read_count.c): the input is the file's bytes, read as "count" and with the format
 * detected. Cost: O(input) per run.
 */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hc_read_opts o[2];
    hc_read_opts_default(&o[0]);
    hc_read_opts_default(&o[1]);
    o[0].format = HC_FMT_COUNT;
    o[1].format = HC_FMT_AUTO; /* detection, then whichever reader it picks */
    fz_read(data, size, o, 2);
    return 0;
}
