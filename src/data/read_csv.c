/*
 * read_csv.c - delimited interaction files (HC_FMT_CSV, and HC_FMT_ML through read_ml.c):
 * user, item[, rating[, timestamp]] per row.
 *
 * The separator is guessed among ',', tab, ';' and runs of white space (hc__guess_sep). Ids
 * are arbitrary non-empty strings, kept verbatim in the id maps so that outputs speak the
 * user's ids; a field in double quotes loses its quotes. The first non-blank line is a header
 * when the caller says so, or (header -1) when one of its fields is a column name such as
 * user, item, userId, movieId, rating or timestamp, or its rating / timestamp field is not a
 * number. The first data row fixes the number of fields (2 to 4); every other row must have
 * as many. A row of column names further down (files concatenated with their headers) is an
 * error, as are ratings and timestamps that are not numbers. With a rating threshold, rows
 * below it are skipped before their ids are added. Duplicates are kept (hc_split collapses).
 */
#include "reader_internal.h"

#include <ctype.h>
#include <string.h>

/* 1 when the field is a usual column name (case, '_', '-', '.' and spaces ignored). */
static int is_column_name(const char *s, size_t n)
{
    static const char *const names[] = {"user",      "users",     "userid", "uid",     "item",
                                        "items",     "itemid",    "iid",    "movie",   "movieid",
                                        "product",   "productid", "rating", "ratings", "score",
                                        "timestamp", "time",      "ts",     "date"};
    char b[24];
    size_t k = 0;
    if (n == 0 || n > 20 || !isalpha((unsigned char)s[0]))
        return 0; /* the common case, numbers and ids, stays cheap */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '_' || c == '-' || c == '.' || c == ' ')
            continue;
        if (k + 1 >= sizeof b)
            return 0;
        b[k++] = (char)tolower(c);
    }
    b[k] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(b, names[i]) == 0)
            return 1;
    return 0;
}

static int has_column_name(const hc__field *f, int nf)
{
    for (int i = 0; i < nf && i < 4; i++)
        if (is_column_name(f[i].s, f[i].n))
            return 1;
    return 0;
}

/* The header test for the first non-blank line. */
static int looks_like_header(const hc__field *f, int nf)
{
    float r;
    int64_t t;
    if (has_column_name(f, nf))
        return 1;
    if (nf >= 3 && hc__parse_float(f[2].s, f[2].n, &r) != 0)
        return 1;
    if (nf >= 4 && hc__parse_ts(f[3].s, f[3].n, &t) != 0)
        return 1;
    return 0;
}

int hc__read_delimited(const char *path, const char *data, size_t len, const hc_read_opts *o,
                       int sep, hc_idmap *users, hc_idmap *items, hc_interactions *out)
{
    int rc;
    if (sep != HC__SEP_DCOLON) {
        rc = hc__guess_sep(path, data, len, &sep);
        if (rc)
            return rc;
    }
    hc__lines lr;
    hc__lines_init(&lr, path, data, len);
    const char *s;
    size_t n;
    int r;
    int expect = 0; /* fields per row, from the first data row */
    int seen_first = 0;
    int64_t header_line = 0, rows = 0, pushed = 0;
    char show[64];
    while ((r = hc__lines_next(&lr, &s, &n)) > 0) {
        int64_t ln = lr.lineno;
        if (hc__is_blank(s, n))
            continue;
        hc__field f[4];
        const char *err = NULL;
        int nf = hc__split_fields(s, n, sep, f, 4, &err);
        if (nf < 0)
            return hc_error(HC_EPARSE, "%s:%lld: %s", path, (long long)ln, err);
        if (!seen_first) {
            seen_first = 1;
            if (o->header == 1 || (o->header == -1 && looks_like_header(f, nf))) {
                header_line = ln;
                continue;
            }
        } else if (has_column_name(f, nf)) {
            return hc_error(HC_EPARSE, "%s:%lld: header in the middle of the file%s", path,
                            (long long)ln,
                            header_line ? " (a second header, or files concatenated?)" : "");
        }
        if (!expect) {
            if (nf < 2 || nf > 4)
                return hc_error(HC_EPARSE,
                                "%s:%lld: expected 2 to 4 fields (user, item[, rating[, "
                                "timestamp]]) separated by %s, found %d",
                                path, (long long)ln, hc__sep_name(sep), nf);
            if (o->has_threshold && nf < 3)
                return hc_error(HC_EINVAL,
                                "%s:%lld: a rating threshold was given, but the rows have no "
                                "rating column",
                                path, (long long)ln);
            rc = hc_interactions_enable(out, nf >= 3, nf >= 4, 1);
            if (rc)
                return rc;
            expect = nf;
        } else if (nf != expect) {
            return hc_error(HC_EPARSE, "%s:%lld: ragged row (%d fields, expected %d)", path,
                            (long long)ln, nf, expect);
        }
        if (f[0].n == 0)
            return hc_error(HC_EPARSE, "%s:%lld: empty user id", path, (long long)ln);
        if (f[1].n == 0)
            return hc_error(HC_EPARSE, "%s:%lld: empty item id", path, (long long)ln);
        float rating = 0.0f;
        int64_t ts = 0;
        if (nf >= 3) {
            int c = hc__parse_float(f[2].s, f[2].n, &rating);
            if (c)
                return hc_error(HC_EPARSE, "%s:%lld: %s rating '%s'", path, (long long)ln,
                                c == -2 ? "out-of-range" : "non-numeric",
                                hc__show(f[2].s, f[2].n, show));
        }
        if (nf >= 4) {
            int c = hc__parse_ts(f[3].s, f[3].n, &ts);
            if (c)
                return hc_error(HC_EPARSE, "%s:%lld: %s timestamp '%s'", path, (long long)ln,
                                c == -2 ? "out-of-range" : "non-numeric",
                                hc__show(f[3].s, f[3].n, show));
        }
        rows++;
        if (o->has_threshold && !(rating >= o->threshold))
            continue;
        int32_t u, it;
        rc = hc_idmap_put(users, f[0].s, f[0].n, &u);
        if (!rc)
            rc = hc_idmap_put(items, f[1].s, f[1].n, &it);
        if (!rc)
            rc = hc_interactions_push(out, u, it, rating, ts);
        if (rc)
            return rc;
        out->line[out->n - 1] = ln;
        pushed++;
    }
    if (r < 0)
        return r;
    if (rows == 0)
        return hc_error(HC_EEMPTY, "%s: no data rows%s", path, header_line ? " (header only)" : "");
    if (pushed == 0)
        return hc_error(HC_EEMPTY, "%s: no rows with rating >= %g (of %lld rows)", path,
                        (double)o->threshold, (long long)rows);
    hc_log(HC_LOG_DEBUG, "%s: %s separated, %d fields, %s; %lld of %lld rows kept", path,
           hc__sep_name(sep), expect, header_line ? "header" : "no header", (long long)pushed,
           (long long)rows);
    return HC_OK;
}

int hc__read_csv(const char *path, const char *data, size_t len, const hc_read_opts *o,
                 hc_idmap *users, hc_idmap *items, hc_interactions *out)
{
    return hc__read_delimited(path, data, len, o, -1, users, items, out);
}
