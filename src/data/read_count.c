/*
 * read_count.c - the CiteULike "users.dat" format (HC_FMT_COUNT): line k (0-based) lists the
 * items of user "k" as "n item item ...", where n is the number of items that follow.
 *
 * An empty line is a user without items (the user still gets its id, so that ids keep
 * meaning line numbers). The count must match the items on its line: the shared CiteULike-t
 * file has no mismatch, so one means a damaged or different file and is an error. Item ids
 * must be non-negative integers and are kept as their canonical decimal string ("007" is
 * "7"). There are no ratings, so a rating threshold is refused.
 */
#include "reader_internal.h"

int hc__read_count(const char *path, const char *data, size_t len, const hc_read_opts *o,
                   hc_idmap *users, hc_idmap *items, hc_interactions *out)
{
    if (o->has_threshold)
        return hc_error(HC_EINVAL,
                        "%s: a rating threshold was given, but count files have no ratings", path);
    int rc = hc_interactions_enable(out, 0, 0, 1);
    if (rc)
        return rc;
    hc__lines lr;
    hc__lines_init(&lr, path, data, len);
    const char *s;
    size_t n;
    int r;
    int64_t pushed = 0;
    while ((r = hc__lines_next(&lr, &s, &n)) > 0) {
        int64_t ln = lr.lineno;
        char ubuf[24];
        size_t ulen = hc__u64_str((uint64_t)(ln - 1), ubuf);
        int32_t u;
        rc = hc_idmap_put(users, ubuf, ulen, &u);
        if (rc)
            return rc;
        uint64_t count = 0;
        int64_t k = -1; /* items seen; -1 until the count token is read */
        size_t i = 0;
        while (i < n) {
            while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
            if (i == n)
                break;
            size_t b = i;
            while (i < n && s[i] != ' ' && s[i] != '\t')
                i++;
            const char *t = s + b;
            size_t tn = i - b;
            int c = hc__canon_uint(&t, &tn, k < 0 ? &count : NULL);
            if (c)
                return hc__uint_error(path, ln, k < 0 ? "item count" : "item id", s + b, i - b, c);
            if (k >= 0) {
                int32_t it;
                rc = hc_idmap_put(items, t, tn, &it);
                if (!rc)
                    rc = hc_interactions_push(out, u, it, 0.0f, 0);
                if (rc)
                    return rc;
                out->line[out->n - 1] = ln;
                pushed++;
            }
            k++;
        }
        if (k >= 0 && (uint64_t)k != count)
            return hc_error(HC_EPARSE, "%s:%lld: the count says %llu items but %lld follow", path,
                            (long long)ln, (unsigned long long)count, (long long)k);
    }
    if (r < 0)
        return r;
    if (pushed == 0)
        return hc_error(HC_EEMPTY, "%s: no interactions (every user's line is empty)", path);
    return HC_OK;
}
