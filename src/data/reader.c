/*
 * reader.c - reading interaction files: format names, format detection, the shared line
 * reader and token checks, and hc_read_interactions(), which loads a file and hands it to the
 * reader of its format (read_count.c, read_adj.c, read_csv.c, read_ml.c).
 *
 * Files are read whole (hc_file_read_all) and parsed in memory: the largest inputs we expect
 * (MovieLens-25M is 650 MB) fit, and a single pass with memchr() per line is what makes a
 * 100k-row file load in milliseconds. Format detection looks at the first 20 non-blank lines:
 *   - a line with "::"                                   -> HC_FMT_ML
 *   - a ',' or ';' anywhere                              -> HC_FMT_CSV
 *   - a tab, unless every line is integers in varying or > 4 columns -> HC_FMT_CSV
 *   - only integers, and on every line the first equals the number of the rest -> HC_FMT_COUNT
 *   - only integers, every line 3 or 4 columns ("user item rating [ts]") -> HC_FMT_CSV
 *   - only integers otherwise                            -> HC_FMT_ADJ
 *   - 2 to 4 white-space separated fields on every line  -> HC_FMT_CSV (white space)
 * and anything else is refused with a request to name the format.
 */
#include "reader_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DETECT_LINES 20        /* lines sampled for format and separator detection */
#define DETECT_BYTES (1 << 16) /* prefix of the file hc_format_detect() looks at */
#define NUM_MAX      63        /* longest rating or timestamp we parse */

/* ======================================================================== Line reader */

void hc__lines_init(hc__lines *lr, const char *path, const char *data, size_t len)
{
    lr->path = path;
    lr->cur = data;
    lr->end = data + len;
    lr->lineno = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        lr->cur += 3;
}

int hc__lines_next(hc__lines *lr, const char **s, size_t *n)
{
    if (lr->cur >= lr->end)
        return 0;
    const char *b = lr->cur;
    const char *nl = memchr(b, '\n', (size_t)(lr->end - b));
    const char *e = nl ? nl : lr->end;
    lr->cur = nl ? nl + 1 : lr->end;
    lr->lineno++;
    if (e > b && e[-1] == '\r')
        e--;
    for (const char *p = b; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            if (c == '\r')
                return hc_error(HC_EPARSE,
                                "%s:%lld: carriage return inside a line (old Mac line ends?)",
                                lr->path, (long long)lr->lineno);
            return hc_error(HC_EPARSE,
                            "%s:%lld: binary data (byte 0x%02x at column %lld); not a text file?",
                            lr->path, (long long)lr->lineno, c, (long long)(p - b + 1));
        }
    }
    *s = b;
    *n = (size_t)(e - b);
    return 1;
}

int hc__is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

int hc__is_empty_data(const char *data, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    for (; i < len; i++)
        if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' && data[i] != '\n')
            return 0;
    return 1;
}

/* ======================================================================== Fields */

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Blanks trimmed around a field: spaces, and tabs unless tab is the separator. */
static int is_trim(char c, int sep)
{
    return c == ' ' || (c == '\t' && sep != '\t');
}

/* 1 when a separator starts at s[i] (i < n). */
static int at_sep(const char *s, size_t n, size_t i, int sep)
{
    if (sep == HC__SEP_WS)
        return is_ws(s[i]);
    if (sep == HC__SEP_DCOLON)
        return s[i] == ':' && i + 1 < n && s[i + 1] == ':';
    return s[i] == (char)sep;
}

int hc__split_fields(const char *s, size_t n, int sep, hc__field *f, int maxf, const char **err)
{
    size_t i = 0;
    int nf = 0;
    if (sep == HC__SEP_WS) {
        while (i < n && is_ws(s[i]))
            i++;
        if (i == n)
            return 0;
    }
    for (;;) {
        size_t fs, fe;
        while (i < n && is_trim(s[i], sep))
            i++;
        if (i < n && s[i] == '"') {
            size_t j = i + 1;
            while (j < n) {
                if (s[j] == '"') {
                    if (j + 1 < n && s[j + 1] == '"') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j++;
            }
            if (j >= n) {
                *err = "unterminated quoted field";
                return -1;
            }
            fs = i + 1;
            fe = j;
            i = j + 1;
            if (sep != HC__SEP_WS)
                while (i < n && is_trim(s[i], sep))
                    i++;
            if (i < n && !at_sep(s, n, i, sep)) {
                *err = "text after a closing quote";
                return -1;
            }
        } else {
            fs = i;
            if (sep == HC__SEP_WS || sep == HC__SEP_DCOLON) {
                while (i < n && !at_sep(s, n, i, sep))
                    i++;
            } else {
                const char *p = memchr(s + i, sep, n - i);
                i = p ? (size_t)(p - s) : n;
            }
            fe = i;
            while (fe > fs && is_trim(s[fe - 1], sep))
                fe--;
        }
        if (nf < maxf) {
            f[nf].s = s + fs;
            f[nf].n = fe - fs;
        }
        nf++;
        if (i >= n)
            break;
        /* at a separator: step over it */
        if (sep == HC__SEP_WS) {
            while (i < n && is_ws(s[i]))
                i++;
            if (i == n)
                break; /* trailing white space ends the line, not an empty field */
        } else {
            i += sep == HC__SEP_DCOLON ? 2 : 1;
        }
    }
    return nf;
}

const char *hc__sep_name(int sep)
{
    switch (sep) {
    case ',':
        return "','";
    case ';':
        return "';'";
    case '\t':
        return "tab";
    case HC__SEP_DCOLON:
        return "'::'";
    default:
        return "white space";
    }
}

int hc__guess_sep(const char *path, const char *data, size_t len, int *sep)
{
    static const int cand[3] = {',', '\t', ';'};
    int first[3] = {0, 0, 0}, same[3] = {1, 1, 1};
    hc__lines lr;
    hc__lines_init(&lr, path, data, len);
    const char *s;
    size_t n;
    int r, lines = 0;
    while (lines < DETECT_LINES && (r = hc__lines_next(&lr, &s, &n)) != 0) {
        if (r < 0)
            return r;
        if (hc__is_blank(s, n))
            continue;
        for (int c = 0; c < 3; c++) {
            const char *err;
            int nf = hc__split_fields(s, n, cand[c], NULL, 0, &err);
            if (lines == 0)
                first[c] = nf;
            else if (nf != first[c])
                same[c] = 0;
        }
        lines++;
    }
    *sep = HC__SEP_WS;
    for (int c = 0; c < 3; c++)
        if (first[c] >= 2 && same[c]) {
            *sep = cand[c];
            return HC_OK;
        }
    for (int c = 0; c < 3; c++)
        if (first[c] >= 2) {
            *sep = cand[c];
            return HC_OK;
        }
    return HC_OK;
}

/* ======================================================================== Tokens */

const char *hc__show(const char *s, size_t n, char buf[64])
{
    size_t k = n > 40 ? 40 : n;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
    }
    if (n > k) {
        memcpy(buf + k, "...", 4);
    } else {
        buf[k] = '\0';
    }
    return buf;
}

int hc__canon_uint(const char **s, size_t *n, uint64_t *val)
{
    const char *p = *s;
    size_t len = *n;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (p[i] < '0' || p[i] > '9')
            return -1;
    while (len > 1 && p[0] == '0') {
        p++;
        len--;
    }
    static const char maxs[] = "9223372036854775807"; /* INT64_MAX */
    if (len > sizeof maxs - 1 || (len == sizeof maxs - 1 && memcmp(p, maxs, len) > 0))
        return -2;
    if (val) {
        uint64_t v = 0;
        for (size_t i = 0; i < len; i++)
            v = v * 10 + (uint64_t)(p[i] - '0');
        *val = v;
    }
    *s = p;
    *n = len;
    return 0;
}

int hc__uint_error(const char *path, int64_t line, const char *what, const char *s, size_t n,
                   int code)
{
    char show[64];
    if (code == -2)
        return hc_error(HC_EPARSE, "%s:%lld: %s '%s' is too large (at most 9223372036854775807)",
                        path, (long long)line, what, hc__show(s, n, show));
    return hc_error(HC_EPARSE, "%s:%lld: invalid %s '%s' (expected a non-negative integer)", path,
                    (long long)line, what, hc__show(s, n, show));
}

/* Copies a number token into a NUL-terminated buffer; -1 when it cannot be a number. */
static int num_copy(const char *s, size_t n, char buf[NUM_MAX + 1])
{
    if (n == 0 || n > NUM_MAX)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

int hc__parse_float(const char *s, size_t n, float *out)
{
    char buf[NUM_MAX + 1];
    if (num_copy(s, n, buf))
        return -1;
    /* [+-] digits [. digits] [e [+-] digits], at least one digit before the exponent;
     * checked by hand so that strtod's "nan", "inf" and hex forms are refused */
    size_t i = 0, digits = 0;
    if (buf[i] == '+' || buf[i] == '-')
        i++;
    while (buf[i] >= '0' && buf[i] <= '9')
        i++, digits++;
    if (buf[i] == '.') {
        i++;
        while (buf[i] >= '0' && buf[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return -1;
    if (buf[i] == 'e' || buf[i] == 'E') {
        i++;
        if (buf[i] == '+' || buf[i] == '-')
            i++;
        if (!(buf[i] >= '0' && buf[i] <= '9'))
            return -1;
        while (buf[i] >= '0' && buf[i] <= '9')
            i++;
    }
    if (buf[i] != '\0')
        return -1;
    double v = strtod(buf, NULL);
    if (!isfinite(v) || fabs(v) > 3.0e38)
        return -2;
    *out = (float)v;
    return 0;
}

int hc__parse_ts(const char *s, size_t n, int64_t *out)
{
    char buf[NUM_MAX + 1];
    if (num_copy(s, n, buf))
        return -1;
    size_t i = 0;
    if (buf[i] == '+' || buf[i] == '-')
        i++;
    size_t d0 = i;
    while (buf[i] >= '0' && buf[i] <= '9')
        i++;
    if (i == d0)
        return -1;
    size_t int_end = i;
    if (buf[i] == '.') {
        i++;
        while (buf[i] >= '0' && buf[i] <= '9')
            i++;
    }
    if (buf[i] != '\0')
        return -1;
    buf[int_end] = '\0';
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE)
        return -2;
    *out = (int64_t)v;
    return 0;
}

size_t hc__u64_str(uint64_t v, char *buf)
{
    char tmp[24];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < k; i++)
        buf[i] = tmp[k - 1 - i];
    buf[k] = '\0';
    return k;
}

/* Refuses UTF-16 text (its NUL bytes would otherwise read as binary data). */
static int check_utf16(const char *path, const char *data, size_t len)
{
    if (len >= 2 &&
        ((data[0] == '\xFF' && data[1] == '\xFE') || (data[0] == '\xFE' && data[1] == '\xFF')))
        return hc_error(HC_EPARSE, "%s:1: UTF-16 text; save the file as UTF-8", path);
    return HC_OK;
}

/* ======================================================================== Formats */

const char *hc_format_name(hc_format f)
{
    switch (f) {
    case HC_FMT_AUTO:
        return "auto";
    case HC_FMT_COUNT:
        return "count";
    case HC_FMT_ADJ:
        return "adj";
    case HC_FMT_CSV:
        return "csv";
    case HC_FMT_ML:
        return "ml";
    }
    return "unknown";
}

int hc_format_parse(const char *name, hc_format *out)
{
    static const struct {
        const char *name;
        hc_format f;
    } names[] = {{"auto", HC_FMT_AUTO}, {"count", HC_FMT_COUNT}, {"adj", HC_FMT_ADJ},
                 {"csv", HC_FMT_CSV},   {"tsv", HC_FMT_CSV},     {"ml", HC_FMT_ML},
                 {"dat", HC_FMT_ML},    {"movielens", HC_FMT_ML}};
    if (!name || !out)
        return hc_error(HC_EINVAL, "hc_format_parse: NULL argument");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].f;
            return HC_OK;
        }
    return hc_error(HC_EINVAL, "unknown format '%s' (expected auto, count, adj, csv or ml)", name);
}

/* 1 when every white-space separated token of s[0..n) is a non-negative integer; *ntok
 * receives the number of tokens and *first the value of the first one. */
static int int_tokens(const char *s, size_t n, int *ntok, uint64_t *first)
{
    int all = 1, k = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && is_ws(s[i]))
            i++;
        if (i == n)
            break;
        size_t b = i;
        while (i < n && !is_ws(s[i]))
            i++;
        const char *t = s + b;
        size_t tn = i - b;
        uint64_t v = 0;
        if (hc__canon_uint(&t, &tn, &v) != 0)
            all = 0;
        if (k == 0)
            *first = v;
        k++;
    }
    *ntok = k;
    return all;
}

int hc__format_detect_mem(const char *path, const char *data, size_t len, hc_format *out)
{
    hc__lines lr;
    hc__lines_init(&lr, path, data, len);
    const char *s;
    size_t n;
    int r, lines = 0;
    int dcolon = 0, comma = 0, tab = 0, all_int = 1, count_ok = 1;
    int minf = 1 << 30, maxf = 0;
    int64_t odd_line = 0;
    while (lines < DETECT_LINES && (r = hc__lines_next(&lr, &s, &n)) != 0) {
        if (r < 0)
            return r;
        if (hc__is_blank(s, n))
            continue;
        lines++;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == ':' && i + 1 < n && s[i + 1] == ':')
                dcolon = 1;
            else if (s[i] == ',' || s[i] == ';')
                comma = 1;
            else if (s[i] == '\t')
                tab = 1;
        }
        int ntok;
        uint64_t first = 0;
        if (!int_tokens(s, n, &ntok, &first))
            all_int = 0;
        else if (first != (uint64_t)(ntok - 1))
            count_ok = 0;
        if (ntok < minf)
            minf = ntok;
        if (ntok > maxf)
            maxf = ntok;
        if ((ntok < 2 || ntok > 4) && !odd_line)
            odd_line = lr.lineno;
    }
    if (lines == 0)
        return hc_error(HC_EEMPTY, "%s: empty file", path);
    if (dcolon)
        *out = HC_FMT_ML;
    else if (comma)
        *out = HC_FMT_CSV;
    else if (tab && !(all_int && (maxf > 4 || minf != maxf)))
        *out = HC_FMT_CSV;
    else if (all_int && count_ok)
        *out = HC_FMT_COUNT;
    else if (all_int && minf == maxf && minf >= 3 && minf <= 4)
        *out = HC_FMT_CSV;
    else if (all_int)
        *out = HC_FMT_ADJ;
    else if (minf >= 2 && maxf <= 4)
        *out = HC_FMT_CSV;
    else
        return hc_error(HC_EPARSE,
                        "%s:%lld: cannot tell the file format (a line with %s fields); name it "
                        "explicitly (count, adj, csv or ml)",
                        path, (long long)odd_line, minf < 2 ? "fewer than 2" : "more than 4");
    return HC_OK;
}

int hc_format_detect(const char *path, hc_format *out)
{
    if (!path || !out)
        return hc_error(HC_EINVAL, "hc_format_detect: NULL argument");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hc_error(HC_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = malloc(DETECT_BYTES);
    if (!buf) {
        fclose(fp);
        return hc_error(HC_ENOMEM, "%s: out of memory", path);
    }
    size_t len = fread(buf, 1, DETECT_BYTES, fp);
    int err = ferror(fp);
    fclose(fp);
    int rc;
    if (err) {
        rc = hc_error(HC_EIO, "%s: read error", path);
        goto done;
    }
    if (len == DETECT_BYTES) { /* only a prefix: drop the cut last line */
        while (len > 0 && buf[len - 1] != '\n')
            len--;
        if (len == 0)
            len = DETECT_BYTES;
    }
    if (hc__is_empty_data(buf, len)) {
        rc = hc_error(HC_EEMPTY, "%s: empty file", path);
        goto done;
    }
    rc = check_utf16(path, buf, len);
    if (!rc)
        rc = hc__format_detect_mem(path, buf, len, out);
done:
    free(buf);
    return rc;
}

/* ======================================================================== Reading */

void hc_read_opts_default(hc_read_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = HC_FMT_AUTO;
    o->has_threshold = 0;
    o->threshold = 0.0f;
    o->header = -1;
}

int hc__read_mem(const char *path, const char *data, size_t len, const hc_read_opts *opts,
                 hc_idmap *users, hc_idmap *items, hc_interactions *out)
{
    hc_read_opts def;
    if (!opts) {
        hc_read_opts_default(&def);
        opts = &def;
    }
    if (!path || !data || !users || !items || !out)
        return hc_error(HC_EINVAL, "hc_read_interactions: NULL argument");
    if (opts->format < HC_FMT_AUTO || opts->format > HC_FMT_ML)
        return hc_error(HC_EINVAL, "%s: unknown format %d", path, (int)opts->format);
    if (opts->has_threshold && !isfinite(opts->threshold))
        return hc_error(HC_EINVAL, "%s: the rating threshold is not a finite number", path);
    if (opts->header < -1 || opts->header > 1)
        return hc_error(HC_EINVAL, "%s: header must be -1 (detect), 0 or 1", path);

    int64_t n0 = out->n;
    hc_format fmt = opts->format;
    int rc;
    if (hc__is_empty_data(data, len)) {
        rc = hc_error(HC_EEMPTY, "%s: empty file", path);
        goto done;
    }
    rc = check_utf16(path, data, len);
    if (rc)
        goto done;
    if (fmt == HC_FMT_AUTO) {
        rc = hc__format_detect_mem(path, data, len, &fmt);
        if (rc)
            goto done;
    }
    switch (fmt) {
    case HC_FMT_COUNT:
        rc = hc__read_count(path, data, len, opts, users, items, out);
        break;
    case HC_FMT_ADJ:
        rc = hc__read_adj(path, data, len, opts, users, items, out);
        break;
    case HC_FMT_ML:
        rc = hc__read_ml(path, data, len, opts, users, items, out);
        break;
    default:
        rc = hc__read_csv(path, data, len, opts, users, items, out);
        break;
    }
    if (!rc)
        hc_log(HC_LOG_INFO, "%s: %lld interactions (%s format)", path, (long long)(out->n - n0),
               hc_format_name(fmt));
done:
    if (rc)
        out->n = n0;
    return rc;
}

int hc_read_interactions(const char *path, const hc_read_opts *opts, hc_idmap *users,
                         hc_idmap *items, hc_interactions *out)
{
    if (!path)
        return hc_error(HC_EINVAL, "hc_read_interactions: NULL argument");
    char *data = NULL;
    size_t len = 0;
    int rc = hc_file_read_all(path, &data, &len);
    if (rc)
        return rc;
    rc = hc__read_mem(path, data, len, opts, users, items, out);
    free(data);
    return rc;
}
