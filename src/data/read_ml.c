/*
 * read_ml.c - MovieLens ".dat" files (HC_FMT_ML): user::item::rating::timestamp per line,
 * as in ml-1m/ratings.dat and ml-10m/ratings.dat.
 *
 * The rows are the delimited rows of read_csv.c with "::" as the separator, so everything
 * said there holds: string ids, 2 to 4 fields, same count on every row, rating threshold.
 */
#include "reader_internal.h"

int hc__read_ml(const char *path, const char *data, size_t len, const hc_read_opts *o,
                hc_idmap *users, hc_idmap *items, hc_interactions *out)
{
    return hc__read_delimited(path, data, len, o, HC__SEP_DCOLON, users, items, out);
}
