/*
 * fuzz_traj_text.c - libFuzzer harness for the trajectory text import
 * (hc_traj_import_text_mem, src/traj/traj_text.c; rows described in docs/formats.md): the input
 * is the text, imported against the harness's dataset (FZ_USERS users "u0".., FZ_ITEMS items
 * "i0".., built once in memory), first allowing partial coverage (so that any rows that parse
 * are turned into lists), then with the coverage an import needs by default. Cost: O(input log
 * input) per run (the rows are sorted).
 */
#include <stdlib.h>

#include "common.h"
#include "traj/trajectory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = (char *)fz_copy(data, size);
    const hc_dataset *ds = fz_dataset();
    const double cover[2] = {0.0, HC_TRAJ_MIN_COVERAGE};
    for (int k = 0; k < 2; k++) {
        hc_traj t;
        int32_t missing = 0;
        if (hc_traj_import_text_mem("fuzz-input.tsv", buf, size, ds, cover[k], &t, &missing) ==
            HC_OK)
            hc_traj_free(&t);
    }
    free(buf);
    return 0;
}
