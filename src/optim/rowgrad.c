/*
 * rowgrad.c - touched-row gradient slots (see rowgrad.h).
 */
#include "optim/rowgrad.h"

#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

int hc_rowgrad_init(hc_rowgrad *rg, int32_t table_rows, int32_t dim)
{
    memset(rg, 0, sizeof *rg);
    rg->table_rows = table_rows;
    rg->dim = dim;
    rg->slot = malloc((size_t)(table_rows > 0 ? table_rows : 1) * sizeof *rg->slot);
    if (!rg->slot)
        return hc_error(HC_ENOMEM, "rowgrad: out of memory");
    memset(rg->slot, 0xff, (size_t)table_rows * sizeof *rg->slot);
    return HC_OK;
}

void hc_rowgrad_free(hc_rowgrad *rg)
{
    if (!rg)
        return;
    free(rg->slot);
    free(rg->rows);
    free(rg->g);
    memset(rg, 0, sizeof *rg);
}

int32_t hc_rowgrad_slot(hc_rowgrad *rg, int32_t r)
{
    int32_t s = rg->slot[r];
    if (s >= 0)
        return s;
    if (rg->n == rg->cap) {
        int32_t nc = rg->cap ? rg->cap * 2 : 1024;
        int32_t *nr = realloc(rg->rows, (size_t)nc * sizeof *nr);
        if (!nr)
            return -1;
        rg->rows = nr;
        float *ng = realloc(rg->g, (size_t)nc * (size_t)rg->dim * sizeof *ng);
        if (!ng)
            return -1;
        rg->g = ng;
        rg->cap = nc;
    }
    s = rg->n++;
    rg->slot[r] = s;
    rg->rows[s] = r;
    return s;
}

float *hc_rowgrad_row(hc_rowgrad *rg, int32_t r)
{
    const int32_t n = rg->n, s = hc_rowgrad_slot(rg, r);
    if (s < 0)
        return NULL;
    float *row = rg->g + (int64_t)s * rg->dim;
    if (s == n) /* new */
        memset(row, 0, (size_t)rg->dim * sizeof *row);
    return row;
}

void hc_rowgrad_reset(hc_rowgrad *rg)
{
    for (int32_t k = 0; k < rg->n; k++)
        rg->slot[rg->rows[k]] = -1;
    rg->n = 0;
}
