/* test_reader.c - interaction readers: every format on good fixtures (CRLF, BOM, no final
 * newline, header or not, string ids, quotes, threshold), every kind of bad input (return
 * code, file name and line in the message, nothing appended), format detection, and the
 * shared datasets with counts verified independently with awk. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A reader's outputs, freed by rd_free. */
typedef struct {
    hc_idmap *users, *items;
    hc_interactions x;
} rd;

static void rd_init(rd *r)
{
    r->users = hc_idmap_new();
    r->items = hc_idmap_new();
    assert_non_null(r->users);
    assert_non_null(r->items);
    memset(&r->x, 0, sizeof r->x);
}

static void rd_free(rd *r)
{
    hc_idmap_free(r->users);
    hc_idmap_free(r->items);
    hc_interactions_free(&r->x);
}

static const char *good(const char *name)
{
    return tu_path(tu_path(tu_fixture_dir(), "good"), name);
}

static const char *bad(const char *name)
{
    return tu_path(tu_path(tu_fixture_dir(), "bad"), name);
}

/* Reads path with the given format (and optional threshold) into a fresh rd. */
static void read_ok(rd *r, const char *path, hc_format fmt)
{
    hc_read_opts o;
    hc_read_opts_default(&o);
    o.format = fmt;
    rd_init(r);
    TU_OK(hc_read_interactions(path, &o, r->users, r->items, &r->x));
}

static const char *uname(const rd *r, int64_t k)
{
    return hc_idmap_name(r->users, r->x.user[k]);
}

static const char *iname(const rd *r, int64_t k)
{
    return hc_idmap_name(r->items, r->x.item[k]);
}

/* Reading path must fail with code, a message starting "<path>:<line>: " (or "<path>: " when
 * line is 0) and containing needle, and leave nothing appended. */
static void expect_fail(const char *path, const hc_read_opts *o, int code, long line,
                        const char *needle)
{
    rd r;
    rd_init(&r);
    hc_error_clear();
    int rc = hc_read_interactions(path, o, r.users, r.items, &r.x);
    const char *m = hc_errmsg();
    if (rc != code)
        fail_msg("%s: got %s (%s), expected %s", path, hc_err_name(rc), m, hc_err_name(code));
    char want[1200];
    if (line > 0)
        snprintf(want, sizeof want, "%s:%ld: ", path, line);
    else
        snprintf(want, sizeof want, "%s: ", path);
    if (strncmp(m, want, strlen(want)) != 0)
        fail_msg("message '%s' does not start with '%s'", m, want);
    if (needle && !strstr(m, needle))
        fail_msg("message '%s' lacks '%s'", m, needle);
    assert_int_equal(r.x.n, 0);
    rd_free(&r);
}

static void expect_fail_fmt(const char *path, hc_format fmt, int code, long line,
                            const char *needle)
{
    hc_read_opts o;
    hc_read_opts_default(&o);
    o.format = fmt;
    expect_fail(path, &o, code, line, needle);
}

/* ------------------------------------------------------------------ format names */

static void test_format_names(void **state)
{
    (void)state;
    for (int f = HC_FMT_AUTO; f <= HC_FMT_ML; f++) {
        hc_format g;
        TU_OK(hc_format_parse(hc_format_name((hc_format)f), &g));
        assert_int_equal(g, f);
    }
    hc_format g;
    TU_OK(hc_format_parse("TSV", &g));
    assert_int_equal(g, HC_FMT_CSV);
    assert_int_equal(hc_format_parse("xml", &g), HC_EINVAL);
    assert_non_null(strstr(hc_errmsg(), "'xml'"));
    hc_read_opts o;
    hc_read_opts_default(&o);
    assert_int_equal(o.format, HC_FMT_AUTO);
    assert_int_equal(o.header, -1);
    assert_int_equal(o.has_threshold, 0);
}

/* ------------------------------------------------------------------ COUNT */

/* reader_count.dat: "2 10 11" / "" / "3 11 007 12" / "0" / "1 10" (no final newline):
 * users 0..4 (empty line 2 and count-0 line 4 are users without items), 6 interactions,
 * items 10, 11, 7, 12 ("007" is kept as "7"). */
static void check_count_fixture(const rd *r)
{
    static const char *const items[] = {"10", "11", "11", "7", "12", "10"};
    static const char *const users[] = {"0", "0", "2", "2", "2", "4"};
    static const int64_t lines[] = {1, 1, 3, 3, 3, 5};
    assert_int_equal(r->x.n, 6);
    assert_int_equal(hc_idmap_size(r->users), 5);
    assert_int_equal(hc_idmap_size(r->items), 4);
    assert_non_null(r->x.line);
    assert_null(r->x.rating);
    assert_null(r->x.ts);
    for (int k = 0; k < 6; k++) {
        assert_string_equal(uname(r, k), users[k]);
        assert_string_equal(iname(r, k), items[k]);
        assert_int_equal(r->x.line[k], lines[k]);
    }
    for (int32_t u = 0; u < 5; u++) { /* user ids are line indices, in order */
        char b[16];
        snprintf(b, sizeof b, "%d", (int)u);
        assert_string_equal(hc_idmap_name(r->users, u), b);
    }
}

static void test_count(void **state)
{
    (void)state;
    rd r;
    read_ok(&r, good("reader_count.dat"), HC_FMT_COUNT);
    check_count_fixture(&r);
    rd_free(&r);
    read_ok(&r, good("reader_count.dat"), HC_FMT_AUTO);
    check_count_fixture(&r);
    rd_free(&r);
    read_ok(&r, good("reader_count_crlf_bom.dat"), HC_FMT_AUTO);
    check_count_fixture(&r);
    rd_free(&r);
}

static void test_count_append(void **state)
{
    (void)state;
    /* two reads into the same maps: ids agree, interactions append */
    rd r;
    read_ok(&r, good("reader_count.dat"), HC_FMT_COUNT);
    TU_OK(hc_read_interactions(good("reader_count_crlf_bom.dat"), NULL, r.users, r.items, &r.x));
    assert_int_equal(r.x.n, 12);
    assert_int_equal(hc_idmap_size(r.users), 5);
    assert_int_equal(hc_idmap_size(r.items), 4);
    for (int k = 0; k < 6; k++) {
        assert_int_equal(r.x.user[k], r.x.user[k + 6]);
        assert_int_equal(r.x.item[k], r.x.item[k + 6]);
    }
    /* a failing read leaves what was there */
    hc_read_opts o;
    hc_read_opts_default(&o);
    o.format = HC_FMT_COUNT;
    assert_int_equal(
        hc_read_interactions(bad("reader_count_mismatch.dat"), &o, r.users, r.items, &r.x),
        HC_EPARSE);
    assert_int_equal(r.x.n, 12);
    rd_free(&r);
}

static void test_count_bad(void **state)
{
    (void)state;
    expect_fail_fmt(bad("reader_count_mismatch.dat"), HC_FMT_COUNT, HC_EPARSE, 2,
                    "count says 3 items but 2 follow");
    expect_fail_fmt(bad("reader_count_bad_item.dat"), HC_FMT_COUNT, HC_EPARSE, 3,
                    "invalid item id 'abc'");
    static const char *const toks[] = {"abc", "-3", "1e99", "+5", "0x10", "1.0"};
    for (size_t i = 0; i < sizeof toks / sizeof toks[0]; i++) {
        char text[64], want[64];
        snprintf(text, sizeof text, "1 5\n2 1 %s\n", toks[i]);
        snprintf(want, sizeof want, "invalid item id '%s'", toks[i]);
        expect_fail_fmt(tu_write("tok.dat", text), HC_FMT_COUNT, HC_EPARSE, 2, want);
    }
    expect_fail_fmt(tu_write("big.dat", "1 5\n\n1 99999999999999999999\n"), HC_FMT_COUNT, HC_EPARSE,
                    3, "item id '99999999999999999999' is too large");
    expect_fail_fmt(tu_write("cnt.dat", "x 5\n"), HC_FMT_COUNT, HC_EPARSE, 1,
                    "invalid item count 'x'");
    /* INT64_MAX is the largest id; leading zeros do not count */
    rd r;
    read_ok(&r, tu_write("max.dat", "1 0009223372036854775807\n"), HC_FMT_COUNT);
    assert_string_equal(iname(&r, 0), "9223372036854775807");
    rd_free(&r);
    expect_fail_fmt(tu_write("max1.dat", "1 9223372036854775808\n"), HC_FMT_COUNT, HC_EPARSE, 1,
                    "too large");
    /* users without items only */
    expect_fail_fmt(tu_write("noitems.dat", "0\n\n0\n"), HC_FMT_COUNT, HC_EEMPTY, 0,
                    "no interactions");
    /* no ratings to threshold */
    hc_read_opts o;
    hc_read_opts_default(&o);
    o.format = HC_FMT_COUNT;
    o.has_threshold = 1;
    o.threshold = 3.0f;
    expect_fail(good("reader_count.dat"), &o, HC_EINVAL, 0, "threshold");
}

/* ------------------------------------------------------------------ ADJ */

static void test_adj(void **state)
{
    (void)state;
    /* reader_adj.txt: "0 1 2 3" / "" / "1 2<TAB>5" / "7" / "0 9" */
    static const char *const users[] = {"0", "0", "0", "1", "1", "0"};
    static const char *const items[] = {"1", "2", "3", "2", "5", "9"};
    static const int64_t lines[] = {1, 1, 1, 3, 3, 5};
    for (int pass = 0; pass < 2; pass++) {
        rd r;
        read_ok(&r, good("reader_adj.txt"), pass ? HC_FMT_AUTO : HC_FMT_ADJ);
        assert_int_equal(r.x.n, 6);
        assert_int_equal(hc_idmap_size(r.users), 3); /* 0, 1 and 7 (no items) */
        assert_int_equal(hc_idmap_size(r.items), 5);
        assert_null(r.x.rating);
        for (int k = 0; k < 6; k++) {
            assert_string_equal(uname(&r, k), users[k]);
            assert_string_equal(iname(&r, k), items[k]);
            assert_int_equal(r.x.line[k], lines[k]);
        }
        rd_free(&r);
    }
    expect_fail_fmt(bad("reader_adj_negative.txt"), HC_FMT_ADJ, HC_EPARSE, 2,
                    "invalid item id '-3'");
    expect_fail_fmt(tu_write("adj.txt", "1 2\n\nu7 3\n"), HC_FMT_ADJ, HC_EPARSE, 3,
                    "invalid user id 'u7'");
    expect_fail_fmt(tu_write("adj2.txt", "1 2\n2 18446744073709551616\n"), HC_FMT_ADJ, HC_EPARSE, 2,
                    "too large");
}

/* ------------------------------------------------------------------ CSV */

static void test_csv_header_crlf_quotes(void **state)
{
    (void)state;
    /* reader_ratings_crlf.csv: header userId,movieId,rating,timestamp, CRLF, a quoted id
     * "m,3" and a blank line 6 */
    rd r;
    read_ok(&r, good("reader_ratings_crlf.csv"), HC_FMT_AUTO);
    assert_int_equal(r.x.n, 5);
    assert_int_equal(hc_idmap_size(r.users), 3);
    assert_int_equal(hc_idmap_size(r.items), 3);
    assert_non_null(r.x.rating);
    assert_non_null(r.x.ts);
    static const float ratings[] = {4.0f, 2.5f, 5.0f, 3.5f, 4.0f};
    static const int64_t lines[] = {2, 3, 4, 5, 7};
    for (int k = 0; k < 5; k++) {
        assert_float_equal(r.x.rating[k], ratings[k], HC_TEST_FTOL);
        assert_int_equal(r.x.ts[k], 100 + k);
        assert_int_equal(r.x.line[k], lines[k]);
    }
    assert_string_equal(uname(&r, 3), "u3");
    assert_string_equal(iname(&r, 3), "m,3");
    assert_string_equal(iname(&r, 4), "m2");
    rd_free(&r);
}

static void test_csv_threshold(void **state)
{
    (void)state;
    hc_read_opts o;
    hc_read_opts_default(&o);
    o.has_threshold = 1;
    o.threshold = 4.0f;
    rd r;
    rd_init(&r);
    TU_OK(hc_read_interactions(good("reader_ratings_crlf.csv"), &o, r.users, r.items, &r.x));
    /* kept: u1,m1,4.0 (line 2); u2,m1,5 (line 4); u2,m2,4 (line 7); u3 is never added */
    assert_int_equal(r.x.n, 3);
    assert_int_equal(hc_idmap_size(r.users), 2);
    assert_int_equal(hc_idmap_size(r.items), 2);
    assert_int_equal(r.x.line[0], 2);
    assert_int_equal(r.x.line[1], 4);
    assert_int_equal(r.x.line[2], 7);
    assert_int_equal(hc_idmap_get(r.users, "u3", 2), -1);
    rd_free(&r);
    /* everything filtered */
    o.threshold = 9.0f;
    expect_fail(good("reader_ratings_crlf.csv"), &o, HC_EEMPTY, 0, "no rows with rating >= 9");
    /* no rating column */
    o.threshold = 1.0f;
    expect_fail(good("reader_pairs_bom.tsv"), &o, HC_EINVAL, 1, "threshold");
}

static void test_csv_variants(void **state)
{
    (void)state;
    rd r;
    /* tab separated, BOM, no header, ids with spaces, no final newline, no ratings */
    read_ok(&r, good("reader_pairs_bom.tsv"), HC_FMT_AUTO);
    assert_int_equal(r.x.n, 3);
    assert_null(r.x.rating);
    assert_null(r.x.ts);
    assert_string_equal(uname(&r, 0), "alice");
    assert_string_equal(iname(&r, 0), "item one");
    assert_string_equal(uname(&r, 2), "alice");
    assert_string_equal(iname(&r, 2), "item two");
    assert_int_equal(r.x.line[2], 3);
    assert_int_equal(hc_idmap_size(r.users), 2);
    rd_free(&r);
    /* ';' with a header of column names */
    read_ok(&r, good("reader_semicolon.csv"), HC_FMT_AUTO);
    assert_int_equal(r.x.n, 2);
    assert_non_null(r.x.rating);
    assert_null(r.x.ts);
    assert_float_equal(r.x.rating[1], 1.5f, HC_TEST_FTOL);
    assert_string_equal(iname(&r, 1), "5");
    rd_free(&r);
    /* runs of spaces, string ids, no header */
    read_ok(&r, good("reader_space.txt"), HC_FMT_AUTO);
    assert_int_equal(r.x.n, 3);
    assert_string_equal(uname(&r, 1), "u2");
    assert_string_equal(iname(&r, 1), "i2");
    assert_float_equal(r.x.rating[2], 1.0f, HC_TEST_FTOL);
    rd_free(&r);
    /* header forced off: "user,item" is a data row; forced on: the first row is skipped */
    const char *p = tu_write("hdr.csv", "user,item\n1,2\n");
    hc_read_opts o;
    hc_read_opts_default(&o);
    o.header = 0;
    rd_init(&r);
    TU_OK(hc_read_interactions(p, &o, r.users, r.items, &r.x));
    assert_int_equal(r.x.n, 2);
    assert_string_equal(uname(&r, 0), "user");
    rd_free(&r);
    p = tu_write("nohdr.csv", "1,2\n3,4\n");
    o.header = 1;
    rd_init(&r);
    TU_OK(hc_read_interactions(p, &o, r.users, r.items, &r.x));
    assert_int_equal(r.x.n, 1);
    assert_string_equal(uname(&r, 0), "3");
    assert_int_equal(r.x.line[0], 2);
    rd_free(&r);
    /* header detected from a non-numeric rating column; spaces around fields trimmed */
    read_ok(&r, tu_write("h3.csv", "who, what, stars\n a , b , 2\n"), HC_FMT_CSV);
    assert_int_equal(r.x.n, 1);
    assert_string_equal(uname(&r, 0), "a");
    assert_string_equal(iname(&r, 0), "b");
    rd_free(&r);
    /* CSV ids are strings: "007" and "7" differ */
    read_ok(&r, tu_write("ids.csv", "007,1\n7,1\n"), HC_FMT_CSV);
    assert_int_equal(hc_idmap_size(r.users), 2);
    rd_free(&r);
}

static void test_csv_bad(void **state)
{
    (void)state;
    expect_fail(bad("reader_ragged.csv"), NULL, HC_EPARSE, 3, "ragged row (3 fields, expected 2)");
    expect_fail(bad("reader_header_middle.csv"), NULL, HC_EPARSE, 4, "header in the middle");
    expect_fail(bad("reader_bad_rating.csv"), NULL, HC_EPARSE, 3, "non-numeric rating 'abc'");
    expect_fail(bad("reader_bad_ts.csv"), NULL, HC_EPARSE, 2, "non-numeric timestamp 'yesterday'");
    expect_fail(bad("reader_unterminated.csv"), NULL, HC_EPARSE, 2, "unterminated quoted field");
    expect_fail(bad("reader_too_many_fields.csv"), NULL, HC_EPARSE, 1, "expected 2 to 4 fields");
    expect_fail(bad("reader_header_only.csv"), NULL, HC_EEMPTY, 0, "header only");
    expect_fail(tu_write("q.csv", "1,2\n\"a\"x,3\n"), NULL, HC_EPARSE, 2, "after a closing quote");
    expect_fail(tu_write("e.csv", "1,2\n\n,3\n"), NULL, HC_EPARSE, 3, "empty user id");
    expect_fail(tu_write("e2.csv", "1,2\n3,\"\"\n"), NULL, HC_EPARSE, 2, "empty item id");
    expect_fail(tu_write("nan.csv", "1,2,3\n1,2,nan\n"), NULL, HC_EPARSE, 2, "rating 'nan'");
    expect_fail(tu_write("inf.csv", "1,2,3\n1,2,1e999\n"), NULL, HC_EPARSE, 2,
                "out-of-range rating");
    expect_fail(tu_write("one.csv", "a\nb\n"), NULL, HC_EPARSE, 1, "name it");
    expect_fail_fmt(tu_write("one2.csv", "a\nb\n"), HC_FMT_CSV, HC_EPARSE, 1,
                    "expected 2 to 4 fields");
    /* a long token is shown cut */
    char text[400] = "1,2,3\n1,2,";
    memset(text + strlen(text), 'x', 200);
    text[sizeof text - 1] = '\0';
    expect_fail(tu_write("long.csv", text), NULL, HC_EPARSE, 2, "xxx...'");
}

/* ------------------------------------------------------------------ ML */

static void test_ml(void **state)
{
    (void)state;
    rd r;
    read_ok(&r, good("reader_ml.dat"), HC_FMT_AUTO);
    assert_int_equal(r.x.n, 3);
    assert_int_equal(hc_idmap_size(r.users), 2);
    assert_int_equal(hc_idmap_size(r.items), 2);
    assert_float_equal(r.x.rating[0], 5.0f, HC_TEST_FTOL);
    assert_int_equal(r.x.ts[2], 978300762);
    assert_string_equal(iname(&r, 1), "20");
    rd_free(&r);
    hc_read_opts o;
    hc_read_opts_default(&o);
    o.format = HC_FMT_ML;
    o.has_threshold = 1;
    o.threshold = 4.0f;
    rd_init(&r);
    TU_OK(hc_read_interactions(good("reader_ml.dat"), &o, r.users, r.items, &r.x));
    assert_int_equal(r.x.n, 2);
    assert_int_equal(r.x.line[1], 3);
    rd_free(&r);
    expect_fail(bad("reader_ml_ragged.dat"), NULL, HC_EPARSE, 2,
                "ragged row (3 fields, expected 4)");
    expect_fail_fmt(tu_write("ml.dat", "1::2::3::4\n1::2::x::4\n"), HC_FMT_ML, HC_EPARSE, 2,
                    "non-numeric rating 'x'");
}

/* ------------------------------------------------------------------ any format */

static void test_bad_input(void **state)
{
    (void)state;
    expect_fail(bad("reader_empty.csv"), NULL, HC_EEMPTY, 0, "empty file");
    expect_fail(bad("reader_blank.csv"), NULL, HC_EEMPTY, 0, "empty file");
    expect_fail(bad("reader_binary.dat"), NULL, HC_EPARSE, 2, "binary data");
    for (int f = HC_FMT_AUTO; f <= HC_FMT_ML; f++) {
        if (f != HC_FMT_ML) /* its line 1 "1 5" is already a bad MovieLens row */
            expect_fail_fmt(bad("reader_binary.dat"), (hc_format)f, HC_EPARSE, 2, "byte 0x00");
        expect_fail_fmt(bad("reader_empty.csv"), (hc_format)f, HC_EEMPTY, 0, "empty file");
    }
    const char *p = tu_path(tu_tmpdir(), "nul.dat");
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fwrite("1::2::3\n\n1::\0::3\n", 1, 17, fp);
    fclose(fp);
    expect_fail_fmt(p, HC_FMT_ML, HC_EPARSE, 3, "binary data (byte 0x00 at column 4)");
    expect_fail(p, NULL, HC_EPARSE, 3, "byte 0x00");
    p = tu_path(tu_tmpdir(), "utf16.csv");
    fp = fopen(p, "wb");
    assert_non_null(fp);
    fwrite("\xFF\xFE"
           "1\0,\0"
           "2\0\n\0",
           1, 10, fp);
    fclose(fp);
    expect_fail(p, NULL, HC_EPARSE, 1, "UTF-16");
    expect_fail(bad("reader_cr_only.csv"), NULL, HC_EPARSE, 1, "carriage return");
    expect_fail(tu_path(tu_fixture_dir(), "no-such-file.csv"), NULL, HC_EIO, 0, "cannot open");
    /* random bytes never crash; they fail or, rarely, parse */
    hc_rng g;
    hc_rng_init(&g, 7, 0);
    for (int t = 0; t < 200; t++) {
        char buf[257];
        size_t n = 1 + hc_rng_below(&g, 256);
        for (size_t i = 0; i < n; i++) {
            uint32_t c = hc_rng_below(&g, 16);
            /* mostly separators, digits and line ends; sometimes any byte */
            static const char pick[] = "0123456789,:; \t\"\r\n";
            buf[i] = c < 14 ? pick[hc_rng_below(&g, sizeof pick - 1)] : (char)hc_rng_below(&g, 256);
        }
        buf[n] = '\0';
        p = tu_path(tu_tmpdir(), "fuzz.bin");
        fp = fopen(p, "wb");
        assert_non_null(fp);
        fwrite(buf, 1, n, fp);
        fclose(fp);
        for (int f = HC_FMT_AUTO; f <= HC_FMT_ML; f++) {
            rd r;
            hc_read_opts o;
            hc_read_opts_default(&o);
            o.format = (hc_format)f;
            rd_init(&r);
            int rc = hc_read_interactions(p, &o, r.users, r.items, &r.x);
            if (rc)
                assert_int_equal(r.x.n, 0);
            rd_free(&r);
        }
        hc_format fmt;
        (void)hc_format_detect(p, &fmt);
    }
}

/* ------------------------------------------------------------------ detection */

static void expect_detect(const char *path, hc_format want)
{
    hc_format f = HC_FMT_AUTO;
    int rc = hc_format_detect(path, &f);
    if (rc != HC_OK)
        fail_msg("%s: %s", path, hc_errmsg());
    if (f != want)
        fail_msg("%s detected as %s, expected %s", path, hc_format_name(f), hc_format_name(want));
}

static void test_detect(void **state)
{
    (void)state;
    expect_detect(good("reader_count.dat"), HC_FMT_COUNT);
    expect_detect(good("reader_count_crlf_bom.dat"), HC_FMT_COUNT);
    expect_detect(good("reader_adj.txt"), HC_FMT_ADJ);
    expect_detect(good("reader_ratings_crlf.csv"), HC_FMT_CSV);
    expect_detect(good("reader_pairs_bom.tsv"), HC_FMT_CSV);
    expect_detect(good("reader_semicolon.csv"), HC_FMT_CSV);
    expect_detect(good("reader_space.txt"), HC_FMT_CSV);
    expect_detect(good("reader_ml.dat"), HC_FMT_ML);
    /* integers in constant 3 columns read as "user item rating", tab-separated too */
    expect_detect(tu_write("d1.txt", "1 2 5\n1 3 4\n2 2 1\n"), HC_FMT_CSV);
    expect_detect(tu_write("d2.txt", "1\t2\t5\n1\t3\t4\n"), HC_FMT_CSV);
    /* integers in varying columns: adjacency lists, also with tabs */
    expect_detect(tu_write("d3.txt", "1\t2\t5\t7\t8\n1\t3\n"), HC_FMT_ADJ);
    expect_detect(tu_write("d4.txt", "1 2\n2 3\n"), HC_FMT_ADJ);
    hc_format f;
    assert_int_equal(hc_format_detect(bad("reader_empty.csv"), &f), HC_EEMPTY);
    assert_int_equal(hc_format_detect(bad("reader_blank.csv"), &f), HC_EEMPTY);
    assert_int_equal(hc_format_detect(bad("reader_binary.dat"), &f), HC_EPARSE);
    assert_non_null(strstr(hc_errmsg(), "reader_binary.dat:2: "));
    assert_int_equal(hc_format_detect(tu_path(tu_fixture_dir(), "nope"), &f), HC_EIO);
}

/* ------------------------------------------------------------------ shared datasets */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void test_shared_citeulike(void **state)
{
    (void)state;
    const char *dir = tu_shared_dir();
    if (!dir)
        skip();
    const char *p = tu_path(dir, "citeulike-t/users.dat");
    expect_detect(p, HC_FMT_COUNT);
    rd r;
    double t0 = now_s();
    read_ok(&r, p, HC_FMT_AUTO);
    double dt = now_s() - t0;
    print_message("users.dat: %lld interactions in %.3f s\n", (long long)r.x.n, dt);
    /* awk '{tot += NF-1; if ($1 != NF-1) bad++} END {print NR, tot, bad}': 7947 lines (no
     * final newline, no empty line), 134860 items listed, 0 count mismatches; 25584
     * distinct item ids */
    assert_int_equal(hc_idmap_size(r.users), 7947);
    assert_int_equal(r.x.n, 134860);
    assert_int_equal(hc_idmap_size(r.items), 25584);
    assert_string_equal(uname(&r, 0), "0");
    assert_string_equal(iname(&r, 0), "193");
    assert_int_equal(r.x.line[r.x.n - 1], 7947);
    assert_string_equal(uname(&r, r.x.n - 1), "7946");
    rd_free(&r);

    p = tu_path(dir, "citeulike-t/split/train.tsv");
    expect_detect(p, HC_FMT_CSV);
    read_ok(&r, p, HC_FMT_AUTO);
    /* tail -n +2 train.tsv | awk -F'\t': 78958 rows, 5219 users, 22392 items */
    assert_int_equal(r.x.n, 78958);
    assert_int_equal(hc_idmap_size(r.users), 5219);
    assert_int_equal(hc_idmap_size(r.items), 22392);
    assert_int_equal(r.x.line[0], 2);
    assert_string_equal(uname(&r, 0), "1");
    assert_string_equal(iname(&r, 0), "20307");
    rd_free(&r);
}

static void test_shared_movielens(void **state)
{
    (void)state;
    const char *dir = tu_shared_dir();
    if (!dir)
        skip();
    const char *p = tu_path(dir, "ml-latest-small/ratings.csv");
    expect_detect(p, HC_FMT_CSV);
    rd r;
    double t0 = now_s();
    read_ok(&r, p, HC_FMT_AUTO);
    double dt = now_s() - t0;
    print_message("ratings.csv: %lld rows in %.3f s\n", (long long)r.x.n, dt);
    /* tr -d '\r' | awk -F, 'NR>1': 100836 rows, 610 users, 9724 items */
    assert_int_equal(r.x.n, 100836);
    assert_int_equal(hc_idmap_size(r.users), 610);
    assert_int_equal(hc_idmap_size(r.items), 9724);
    assert_float_equal(r.x.rating[0], 4.0f, HC_TEST_FTOL);
    assert_int_equal(r.x.ts[0], 964982703);
    assert_int_equal(r.x.line[0], 2);
    assert_int_equal(r.x.line[r.x.n - 1], 100837);
    rd_free(&r);
    /* awk -F, 'NR>1 && $3 >= 4.0': 48580 rows, 609 users, 6298 items */
    hc_read_opts o;
    hc_read_opts_default(&o);
    o.has_threshold = 1;
    o.threshold = 4.0f;
    rd_init(&r);
    TU_OK(hc_read_interactions(p, &o, r.users, r.items, &r.x));
    assert_int_equal(r.x.n, 48580);
    assert_int_equal(hc_idmap_size(r.users), 609);
    assert_int_equal(hc_idmap_size(r.items), 6298);
    for (int64_t k = 0; k < r.x.n; k++)
        assert_true(r.x.rating[k] >= 4.0f);
    rd_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_count_append),
        cmocka_unit_test(test_count_bad),
        cmocka_unit_test(test_adj),
        cmocka_unit_test(test_csv_header_crlf_quotes),
        cmocka_unit_test(test_csv_threshold),
        cmocka_unit_test(test_csv_variants),
        cmocka_unit_test(test_csv_bad),
        cmocka_unit_test(test_ml),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_shared_citeulike),
        cmocka_unit_test(test_shared_movielens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
