/*
 * common.h - what the libFuzzer harnesses in fuzz/ share (fuzz/README.md): an owned copy of
 * the input, the small dataset that trajectory and model files are checked against (built
 * once in memory), the interaction readers' driver, and a little-endian field writer for the
 * checksum fix-ups. Cost: the dataset is built once per process (milliseconds); the rest is
 * O(input).
 */
#ifndef HC_FUZZ_COMMON_H
#define HC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

/* The synthetic data behind fz_dataset(): make_corpus.sh passes the same numbers to
 * `hetcomp synth`, so the seed model and trajectory files it trains belong to this dataset
 * (same checksum) and reach the checks that run only against a matching dataset. */
#define FZ_USERS        40
#define FZ_ITEMS        60
#define FZ_INTERACTIONS 400
#define FZ_SEED         7

/* The prototype libFuzzer calls (declared here for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd copy of data[0..size) of exactly size bytes (no terminator, so that reading past
 * the end is caught by AddressSanitizer); aborts on out of memory. */
uint8_t *fz_copy(const uint8_t *data, size_t size);
/* The dataset of FZ_USERS x FZ_ITEMS synthetic users, split as `hetcomp split` does by
 * default; built on first use and kept for the life of the process. Aborts if it cannot be
 * built (a harness bug, not a finding). */
const hc_dataset *fz_dataset(void);
/* Reads data[0..size) with each of opts[0..n) in turn (hc__read_mem, the in-memory
 * hc_read_interactions) and checks what comes back: on success every index lies inside the id
 * maps and the rows go through hc_split as `hetcomp split` sends them; on failure there is a
 * message and nothing was appended. A broken promise aborts (a finding). */
void fz_read(const uint8_t *data, size_t size, const hc_read_opts *opts, int n);
/* Writes v at p in little-endian order (the byte order of every hetcomp file). */
void fz_put_u64(uint8_t *p, uint64_t v);
/* Reads the little-endian u32 at p. */
uint32_t fz_get_u32(const uint8_t *p);

#endif
