/*
 * fuzz_dataset.c - libFuzzer harness for the binary dataset file (.hcd, hc_dataset_load_mem in
 * src/data/dsfile.c; layout in docs/formats.md, section 2). Before loading, the harness writes
 * the right checksums into the mutated bytes - the body checksum (XXH3-64 of every byte after
 * the 112-byte header, at offset 96), then the header checksum (XXH3-64 of header bytes 0..103,
 * at offset 104) - so that mutations get past them to the size, CSR and id-map checks. A file
 * that loads must give back its own checksum when the contents are hashed again.
 * Cost: O(input) per run.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

#define HDR_SIZE  112
#define OFF_BODY  96  /* body checksum */
#define OFF_HSELF 104 /* header checksum */

/* Makes both checksums of buf[0..size) right (nothing to do for a file shorter than the
 * header: it is refused before any checksum is read). */
static void fix_checksums(uint8_t *buf, size_t size)
{
    if (size < HDR_SIZE)
        return;
    fz_put_u64(buf + OFF_BODY, hc_checksum(buf + HDR_SIZE, size - HDR_SIZE));
    fz_put_u64(buf + OFF_HSELF, hc_checksum(buf, OFF_HSELF));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fz_copy(data, size);
    fix_checksums(buf, size);
    hc_dataset ds;
    if (hc_dataset_load_mem("fuzz-input.hcd", buf, size, &ds) == HC_OK) {
        /* a loaded dataset is fully usable: its checksum is that of its contents */
        uint64_t stored = ds.checksum;
        hc_dataset_update_checksum(&ds);
        if (ds.checksum != stored) {
            fprintf(stderr, "fuzz_dataset: loaded dataset hashes to another checksum\n");
            abort();
        }
        hc_stats st;
        hc_dataset_stats(&ds, &st);
        hc_dataset_free(&ds);
    }
    free(buf);
    return 0;
}
