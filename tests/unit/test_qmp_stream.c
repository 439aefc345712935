/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for qmp/stream: framing of JSON messages and the UTF-8 check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qmp/stream.h"

/* Feeds text in pieces of chunk bytes; collects up to max messages. */
static int
feed_collect(struct qmp_stream *s, const char *text, size_t chunk,
             json_t **msgs, int max, char *err, size_t errlen)
{
    size_t len = strlen(text), off = 0;
    int n = 0;

    while (off < len) {
        size_t piece = len - off < chunk ? len - off : chunk;
        json_t *m;
        int rc;

        assert_int_equal(qmp_stream_feed(s, text + off, piece), 0);
        off += piece;
        while ((rc = qmp_stream_next(s, &m, err, errlen)) == 1) {
            assert_true(n < max);
            msgs[n++] = m;
        }
        if (rc < 0) {
            while (n > 0) {
                json_decref(msgs[--n]);
            }
            return -1;
        }
    }
    return n;
}

static void
test_split_any_chunk(void **state)
{
    static const char text[] =
        "{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\r\n"
        "{\"return\": {}, \"id\": 1}\r\n"
        "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, "
        "\"microseconds\": 2}}\r\n";
    size_t chunk;

    (void)state;
    for (chunk = 1; chunk <= sizeof(text); chunk++) {
        struct qmp_stream s;
        json_t *msgs[4];
        char err[256];
        int n, i;

        qmp_stream_init(&s, 0);
        n = feed_collect(&s, text, chunk, msgs, 4, err, sizeof(err));
        assert_int_equal(n, 3);
        assert_non_null(json_object_get(msgs[0], "QMP"));
        assert_int_equal(json_integer_value(json_object_get(msgs[1], "id")),
                         1);
        assert_string_equal(
            json_string_value(json_object_get(msgs[2], "event")), "STOP");
        assert_false(qmp_stream_pending(&s));
        for (i = 0; i < n; i++) {
            json_decref(msgs[i]);
        }
        qmp_stream_reset(&s);
    }
}

static void
test_lf_crlf_pretty_and_no_newline(void **state)
{
    static const char text[] = "{\"a\": 1}\n{\"b\": 2}\r\n{\n  \"c\": [\n"
                               "    1,\n    2\n  ]\n}{\"d\": {}}";
    struct qmp_stream s;
    json_t *msgs[8];
    char err[256];
    int n, i;

    (void)state;
    qmp_stream_init(&s, 0);
    n = feed_collect(&s, text, sizeof(text), msgs, 8, err, sizeof(err));
    assert_int_equal(n, 4);
    assert_int_equal(json_integer_value(json_object_get(msgs[0], "a")), 1);
    assert_int_equal(json_integer_value(json_object_get(msgs[1], "b")), 2);
    assert_int_equal(json_array_size(json_object_get(msgs[2], "c")), 2);
    assert_true(json_is_object(json_object_get(msgs[3], "d")));
    for (i = 0; i < n; i++) {
        json_decref(msgs[i]);
    }
    qmp_stream_reset(&s);
}

static void
test_braces_inside_strings(void **state)
{
    static const char text[] =
        "{\"desc\": \"a } and a { and \\\" and \\\\\", \"x\": \"]\"}\r\n";
    struct qmp_stream s;
    json_t *msgs[2];
    char err[256];
    int n;

    (void)state;
    qmp_stream_init(&s, 0);
    n = feed_collect(&s, text, 3, msgs, 2, err, sizeof(err));
    assert_int_equal(n, 1);
    assert_string_equal(json_string_value(json_object_get(msgs[0], "desc")),
                        "a } and a { and \" and \\");
    json_decref(msgs[0]);
    qmp_stream_reset(&s);
}

static void
test_incomplete_is_pending(void **state)
{
    struct qmp_stream s;
    json_t *m;
    char err[256];

    (void)state;
    qmp_stream_init(&s, 0);
    assert_int_equal(qmp_stream_feed(&s, "  {\"return\": {\"a\"", 17), 0);
    assert_int_equal(qmp_stream_next(&s, &m, err, sizeof(err)), 0);
    assert_null(m);
    assert_true(qmp_stream_pending(&s));
    assert_int_equal(qmp_stream_feed(&s, ": 1}}", 5), 0);
    assert_int_equal(qmp_stream_next(&s, &m, err, sizeof(err)), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(m, "return"),
                                           "a")),
        1);
    assert_false(qmp_stream_pending(&s));
    json_decref(m);
    qmp_stream_reset(&s);
}

static void
expect_error(const char *text, size_t max, const char *needle)
{
    struct qmp_stream s;
    json_t *msgs[4];
    char err[256] = "";
    int n, i;

    qmp_stream_init(&s, max);
    n = feed_collect(&s, text, strlen(text), msgs, 4, err, sizeof(err));
    if (n >= 0) {
        for (i = 0; i < n; i++) {
            json_decref(msgs[i]);
        }
        fail_msg("'%s' was accepted", text);
    }
    if (strstr(err, needle) == NULL) {
        fail_msg("error '%s' does not mention '%s'", err, needle);
    }
    qmp_stream_reset(&s);
}

static void
test_errors_name_the_problem(void **state)
{
    (void)state;
    expect_error("{\"a\": tru}\r\n", 0, "invalid JSON");
    expect_error("{\"a\": 1,}\r\n", 0, "invalid JSON");
    expect_error("[1, 2]\r\n", 0, "expected '{'");
    expect_error("SSH-2.0-OpenSSH_9.2\r\n", 0, "expected '{' at byte 0");
    expect_error("{\"a\": \"\xff\"}\r\n", 0, "invalid UTF-8");
    expect_error("{\"a\": \"\xc0\xaf\"}\r\n", 0, "invalid UTF-8");
    expect_error("{\"a\": \"\xed\xa0\x80\"}\r\n", 0, "invalid UTF-8");
    expect_error("{\"a\": \"0123456789012345678901234567890123456789\"}", 32,
                 "longer than the cap of 32 bytes");
    /* the cap applies while a message is still incomplete */
    expect_error("{\"a\": \"0123456789012345678901234567890123456789", 16,
                 "longer than the cap");
}

static void
test_error_offset_counts_earlier_messages(void **state)
{
    struct qmp_stream s;
    json_t *msgs[4];
    char err[256] = "";
    int n;

    (void)state;
    qmp_stream_init(&s, 0);
    /* 10 bytes of a good message, then garbage at byte 10 */
    n = feed_collect(&s, "{\"a\": 1}\r\nX", 4, msgs, 4, err, sizeof(err));
    assert_int_equal(n, -1);
    assert_non_null(strstr(err, "at byte 10"));
    qmp_stream_reset(&s);
}

static void
test_utf8_check(void **state)
{
    size_t bad = 99;

    (void)state;
    assert_int_equal(qmp_utf8_check("plain", 5, &bad), 0);
    assert_int_equal(qmp_utf8_check("\xc3\xa9t\xc3\xa9", 6, &bad), 0);
    assert_int_equal(qmp_utf8_check("\xe2\x82\xac", 3, &bad), 0);
    assert_int_equal(qmp_utf8_check("\xf0\x9f\x98\x80", 4, &bad), 0);
    assert_int_equal(qmp_utf8_check("ab\x80", 3, &bad), -1);
    assert_int_equal(bad, 2);
    assert_int_equal(qmp_utf8_check("a\xe2\x82", 3, &bad), -1);
    assert_int_equal(bad, 1);
    assert_int_equal(qmp_utf8_check("\xe0\x80\x80", 3, &bad), -1);
    assert_int_equal(qmp_utf8_check("\xf4\x90\x80\x80", 4, &bad), -1);
    assert_int_equal(qmp_utf8_check("\xf5\x80\x80\x80", 4, &bad), -1);
    assert_int_equal(qmp_utf8_check("\xc1\xbf", 2, &bad), -1);
}

static void
test_whitespace_only_does_not_grow(void **state)
{
    struct qmp_stream s;
    json_t *m;
    char err[64];
    int i;

    (void)state;
    qmp_stream_init(&s, 64);
    for (i = 0; i < 1000; i++) {
        assert_int_equal(qmp_stream_feed(&s, "\r\n  \r\n", 6), 0);
        assert_int_equal(qmp_stream_next(&s, &m, err, sizeof(err)), 0);
    }
    assert_true(s.cap <= 4096);
    qmp_stream_reset(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_any_chunk),
        cmocka_unit_test(test_lf_crlf_pretty_and_no_newline),
        cmocka_unit_test(test_braces_inside_strings),
        cmocka_unit_test(test_incomplete_is_pending),
        cmocka_unit_test(test_errors_name_the_problem),
        cmocka_unit_test(test_error_offset_counts_earlier_messages),
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test(test_whitespace_only_does_not_grow),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
