/*
 * csr.c - compressed sparse rows for 0/1 interaction matrices.
 *
 * Built from (row, col) pairs by a counting sort on rows followed by an in-row sort and
 * de-duplication, so construction is O(n + rows) plus the in-row sorts. Rows are short in
 * recommendation data (a user's items), so the per-row insertion sort is replaced by qsort
 * only for long rows.
 */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

void hc_sort_i32(int32_t *v, int64_t n)
{
    if (n > 32) {
        qsort(v, (size_t)n, sizeof *v, cmp_i32);
        return;
    }
    for (int64_t i = 1; i < n; i++) {
        int32_t x = v[i];
        int64_t j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

void hc_csr_free(hc_csr *a)
{
    if (!a)
        return;
    free(a->indptr);
    free(a->indices);
    memset(a, 0, sizeof *a);
}

int hc_csr_from_pairs(hc_csr *out, int32_t nrows, int32_t ncols, const int32_t *rows,
                      const int32_t *cols, int64_t n)
{
    memset(out, 0, sizeof *out);
    if (nrows < 0 || ncols < 0 || n < 0)
        return hc_error(HC_EINVAL, "csr: negative size");
    int64_t *ptr = calloc((size_t)nrows + 1, sizeof *ptr);
    int32_t *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    int64_t *fill = malloc(((size_t)nrows + 1) * sizeof *fill);
    if (!ptr || !idx || !fill) {
        free(ptr);
        free(idx);
        free(fill);
        return hc_error(HC_ENOMEM, "csr: out of memory for %lld entries", (long long)n);
    }
    for (int64_t k = 0; k < n; k++) {
        if (rows[k] < 0 || rows[k] >= nrows || cols[k] < 0 || cols[k] >= ncols) {
            free(ptr);
            free(idx);
            free(fill);
            return hc_error(HC_ERANGE, "csr: entry (%d, %d) outside %d x %d", rows[k], cols[k],
                            nrows, ncols);
        }
        ptr[rows[k] + 1]++;
    }
    for (int32_t r = 0; r < nrows; r++)
        ptr[r + 1] += ptr[r];
    memcpy(fill, ptr, ((size_t)nrows + 1) * sizeof *fill);
    for (int64_t k = 0; k < n; k++)
        idx[fill[rows[k]]++] = cols[k];
    /* sort and de-duplicate each row in place, compacting towards the front */
    int64_t w = 0;
    for (int32_t r = 0; r < nrows; r++) {
        int64_t b = ptr[r], e = ptr[r + 1];
        hc_sort_i32(idx + b, e - b);
        int64_t start = w;
        for (int64_t k = b; k < e; k++)
            if (k == b || idx[k] != idx[k - 1])
                idx[w++] = idx[k];
        ptr[r] = start;
    }
    ptr[nrows] = w;
    free(fill);
    int32_t *shrunk = realloc(idx, (size_t)(w > 0 ? w : 1) * sizeof *idx);
    out->nrows = nrows;
    out->ncols = ncols;
    out->nnz = w;
    out->indptr = ptr;
    out->indices = shrunk ? shrunk : idx;
    return HC_OK;
}

int hc_csr_transpose(const hc_csr *a, hc_csr *out)
{
    memset(out, 0, sizeof *out);
    int64_t *ptr = calloc((size_t)a->ncols + 1, sizeof *ptr);
    int32_t *idx = malloc((size_t)(a->nnz > 0 ? a->nnz : 1) * sizeof *idx);
    if (!ptr || !idx) {
        free(ptr);
        free(idx);
        return hc_error(HC_ENOMEM, "csr: out of memory transposing");
    }
    for (int64_t k = 0; k < a->nnz; k++)
        ptr[a->indices[k] + 1]++;
    for (int32_t c = 0; c < a->ncols; c++)
        ptr[c + 1] += ptr[c];
    /* rows visited in ascending order keep each transposed row sorted */
    for (int32_t r = 0; r < a->nrows; r++)
        for (int64_t k = a->indptr[r]; k < a->indptr[r + 1]; k++)
            idx[ptr[a->indices[k]]++] = r;
    for (int32_t c = a->ncols; c > 0; c--)
        ptr[c] = ptr[c - 1];
    ptr[0] = 0;
    out->nrows = a->ncols;
    out->ncols = a->nrows;
    out->nnz = a->nnz;
    out->indptr = ptr;
    out->indices = idx;
    return HC_OK;
}

int hc_csr_copy(const hc_csr *a, hc_csr *out)
{
    memset(out, 0, sizeof *out);
    out->indptr = malloc(((size_t)a->nrows + 1) * sizeof *out->indptr);
    out->indices = malloc((size_t)(a->nnz > 0 ? a->nnz : 1) * sizeof *out->indices);
    if (!out->indptr || !out->indices) {
        hc_csr_free(out);
        return hc_error(HC_ENOMEM, "csr: out of memory copying");
    }
    memcpy(out->indptr, a->indptr, ((size_t)a->nrows + 1) * sizeof *out->indptr);
    if (a->nnz)
        memcpy(out->indices, a->indices, (size_t)a->nnz * sizeof *out->indices);
    out->nrows = a->nrows;
    out->ncols = a->ncols;
    out->nnz = a->nnz;
    return HC_OK;
}

int hc_csr_has(const hc_csr *a, int32_t r, int32_t c)
{
    return hc_sorted_has_i32(hc_csr_row(a, r), hc_csr_row_len(a, r), c);
}
