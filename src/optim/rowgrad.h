/*
 * rowgrad.h - gradient accumulation for the rows of an embedding table that one step touched.
 *
 * A step of a pairwise model touches a few thousand rows of tables with tens of thousands:
 * rows get a compact gradient slot on first touch, in order of first touch, so accumulation
 * (done sequentially in sample order) is deterministic, and reset costs only the touched rows.
 */
#ifndef HC_ROWGRAD_H
#define HC_ROWGRAD_H

#include <stdint.h>

typedef struct {
    int32_t table_rows, dim;
    int32_t *slot; /* table_rows: slot of a row, -1 when untouched */
    int32_t *rows; /* n touched rows, in first-touch order */
    float *g;      /* n x dim gradients */
    int32_t n, cap;
} hc_rowgrad;

int hc_rowgrad_init(hc_rowgrad *rg, int32_t table_rows, int32_t dim);
void hc_rowgrad_free(hc_rowgrad *rg);
/* The gradient row of table row r (zeroed on first touch). NULL only on out of memory. */
float *hc_rowgrad_row(hc_rowgrad *rg, int32_t r);
/* The slot of table row r, assigned on first touch (its gradient row, g + slot * dim, is
 * then left for the caller to initialise). -1 only on out of memory. */
int32_t hc_rowgrad_slot(hc_rowgrad *rg, int32_t r);
/* Forgets every touched row. */
void hc_rowgrad_reset(hc_rowgrad *rg);

#endif
