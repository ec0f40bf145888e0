/*
 * fuzz_traj.c - libFuzzer harness for the binary trajectory file (hc_traj_load_mem,
 * src/traj/trajectory.c; layout in docs/formats.md). The header is 92 bytes in version 1 and
 * 100 in version 2; before loading, the harness writes the right checksums into the mutated
 * bytes - the body checksum (XXH3-64 of every byte after the header, at offset 84), then, for
 * version 2, the header checksum (XXH3-64 of header bytes 0..91, at offset 92) - so that
 * mutations reach the size and list checks behind them. Each input is loaded without a dataset
 * and against the harness's dataset (the one make_corpus.sh trains its seed teachers on), where
 * the top and observed lists are checked against the train items. Cost: O(input) per run.
 */
#include <stdlib.h>

#include "common.h"
#include "traj/trajectory.h"

#define HDR_V1    92
#define OFF_VER   4
#define OFF_BODY  84 /* body checksum */
#define OFF_HSELF 92 /* header checksum (version 2) */

static void fix_checksums(uint8_t *buf, size_t size)
{
    if (size < 8)
        return;
    size_t hdr = fz_get_u32(buf + OFF_VER) >= 2 ? HDR_V1 + 8 : HDR_V1;
    if (size < hdr)
        return;
    fz_put_u64(buf + OFF_BODY, hc_checksum(buf + hdr, size - hdr));
    if (hdr > HDR_V1)
        fz_put_u64(buf + OFF_HSELF, hc_checksum(buf, OFF_HSELF));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fz_copy(data, size);
    fix_checksums(buf, size);
    hc_traj t;
    if (hc_traj_load_mem("fuzz-input.hct", buf, size, NULL, &t) == HC_OK)
        hc_traj_free(&t);
    if (hc_traj_load_mem("fuzz-input.hct", buf, size, fz_dataset(), &t) == HC_OK)
        hc_traj_free(&t);
    free(buf);
    return 0;
}
