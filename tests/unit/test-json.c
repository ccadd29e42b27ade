/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test-json.c - the xpci command's JSON writer (tools/xpci/json.c) against
 * libyajl's generator in beautify mode with a two-space indent, the layout
 * xpci printed before and its golden files hold: the same calls must give
 * the same bytes, for documents of every shape, strings with every byte
 * that needs an escape (or looks as if it might), and strings longer than
 * the writer's buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "xpci-cli.h"

/* yajl's output, gathered from its print callback. */
struct sink {
    char *buf;
    size_t len, alloc;
};

static void sink_print(void *ctx, const char *s, size_t len)
{
    struct sink *k = ctx;

    if (k->len + len > k->alloc) {
        k->alloc = (k->len + len) * 2;
        k->buf = realloc(k->buf, k->alloc);
        assert_non_null(k->buf);
    }
    memcpy(k->buf + k->len, s, len);
    k->len += len;
}

/* The writer's output: stdout sent to a temporary file for the test. */
static FILE *capture;
static int saved_stdout = -1;

static void capture_start(void)
{
    fflush(stdout);
    capture = tmpfile();
    assert_non_null(capture);
    saved_stdout = dup(STDOUT_FILENO);
    assert_true(saved_stdout >= 0);
    assert_int_equal(dup2(fileno(capture), STDOUT_FILENO), STDOUT_FILENO);
}

static char *capture_end(size_t *len_r)
{
    long n;
    char *buf;

    fflush(stdout);
    assert_int_equal(dup2(saved_stdout, STDOUT_FILENO), STDOUT_FILENO);
    close(saved_stdout);
    n = ftell(capture);
    assert_true(n >= 0);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    rewind(capture);
    assert_int_equal(fread(buf, 1, (size_t)n, capture), (size_t)n);
    fclose(capture);
    *len_r = (size_t)n;
    return buf;
}

/* One call made on both generators. */
enum op { OP_MAP_OPEN, OP_MAP_CLOSE, OP_ARRAY_OPEN, OP_ARRAY_CLOSE, OP_NULL,
          OP_BOOL, OP_INT, OP_NUMBER, OP_STRING };

struct both {
    yajl_gen y;
    json_gen j;
};

static void both_op(struct both *b, enum op op, const char *s, size_t len,
                    long long v)
{
    switch (op) {
    case OP_MAP_OPEN:
        yajl_gen_map_open(b->y);
        json_map_open(b->j);
        break;
    case OP_MAP_CLOSE:
        yajl_gen_map_close(b->y);
        json_map_close(b->j);
        break;
    case OP_ARRAY_OPEN:
        yajl_gen_array_open(b->y);
        json_array_open(b->j);
        break;
    case OP_ARRAY_CLOSE:
        yajl_gen_array_close(b->y);
        json_array_close(b->j);
        break;
    case OP_NULL:
        yajl_gen_null(b->y);
        json_null(b->j);
        break;
    case OP_BOOL:
        yajl_gen_bool(b->y, (int)v);
        json_bool(b->j, v != 0);
        break;
    case OP_INT:
        yajl_gen_integer(b->y, v);
        json_integer(b->j, v);
        break;
    case OP_NUMBER:
        yajl_gen_number(b->y, s, len);
        json_number(b->j, s, len);
        break;
    case OP_STRING:
        yajl_gen_string(b->y, (const unsigned char *)s, len);
        json_string(b->j, s, len);
        break;
    }
}

static void both_begin(struct both *b, struct sink *k)
{
    memset(k, 0, sizeof(*k));
    b->y = yajl_gen_alloc(NULL);
    assert_non_null(b->y);
    yajl_gen_config(b->y, yajl_gen_beautify, 1);
    yajl_gen_config(b->y, yajl_gen_indent_string, "  ");
    yajl_gen_config(b->y, yajl_gen_print_callback, sink_print, k);
    capture_start();
    b->j = json_open();
}

static void both_end_and_compare(struct both *b, struct sink *k)
{
    size_t len;
    char *got;

    json_close(b->j);
    got = capture_end(&len);
    yajl_gen_free(b->y);
    if (len != k->len || memcmp(got, k->buf, len)) {
        print_error("yajl (%zu bytes):\n%.*s\nxpci (%zu bytes):\n%.*s\n",
                    k->len, (int)(k->len < 2000 ? k->len : 2000), k->buf,
                    len, (int)(len < 2000 ? len : 2000), got);
        fail();
    }
    free(got);
    free(k->buf);
}

/* Strings: every byte below 0x20, the ones escaped by name, the ones
 * that are not ('/', DEL, UTF-8 and stray high bytes), at every offset
 * of an 8-byte word, and runs with nothing to escape. */
static void test_strings_escaped_as_yajl_escapes_them(void **state)
{
    static const char specials[] = "\"\\/\x7f\x80\xc3\xa9\xff !~";
    struct both b;
    struct sink k;
    char s[64];

    (void)state;
    both_begin(&b, &k);
    both_op(&b, OP_ARRAY_OPEN, NULL, 0, 0);
    for (unsigned c = 0; c < 0x20; c++)
        for (size_t at = 0; at < 17; at++) {
            memset(s, 'a', sizeof(s));
            s[at] = (char)c;
            both_op(&b, OP_STRING, s, 24, 0);
        }
    for (size_t i = 0; i < sizeof(specials) - 1; i++)
        for (size_t at = 0; at < 17; at++) {
            memset(s, 'b', sizeof(s));
            s[at] = specials[i];
            both_op(&b, OP_STRING, s, at + 1 + i % 9, 0);
        }
    both_op(&b, OP_STRING, "", 0, 0);
    both_op(&b, OP_STRING, "\"", 1, 0);
    both_op(&b, OP_STRING, "\\\"\\\"", 4, 0);
    both_op(&b, OP_STRING, "plain text of some length, no escapes", 37, 0);
    both_op(&b, OP_ARRAY_CLOSE, NULL, 0, 0);
    both_end_and_compare(&b, &k);
}

/* A string longer than the writer's 64 KiB buffer, after others. */
static void test_long_strings(void **state)
{
    size_t n = 200000;
    char *s = malloc(n);
    struct both b;
    struct sink k;

    (void)state;
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(i % 97 == 0 ? '\n' : 'a' + i % 26);
    both_begin(&b, &k);
    both_op(&b, OP_MAP_OPEN, NULL, 0, 0);
    for (int i = 0; i < 3; i++) {
        both_op(&b, OP_STRING, "key", 3, 0);
        both_op(&b, OP_STRING, s, n - (size_t)i * 40000, 0);
    }
    both_op(&b, OP_MAP_CLOSE, NULL, 0, 0);
    both_end_and_compare(&b, &k);
    free(s);
}

/* Deep nesting, past the indent the writer copies in one piece (yajl
 * refuses the 128th level, and its state goes astray past it). */
static void test_deep_nesting(void **state)
{
    struct both b;
    struct sink k;

    (void)state;
    both_begin(&b, &k);
    for (int i = 0; i < 100; i++) {
        both_op(&b, i % 2 ? OP_ARRAY_OPEN : OP_MAP_OPEN, NULL, 0, 0);
        if (i % 2 == 0)
            both_op(&b, OP_STRING, "k", 1, 0);
        else
            both_op(&b, OP_INT, NULL, 0, i);
    }
    for (int i = 0; i < 100; i++)
        both_op(&b, OP_ARRAY_CLOSE, NULL, 0, 0);
    both_end_and_compare(&b, &k);
}

/* Random documents: nesting, empty containers, every kind of value, and
 * the calls yajl refuses (a non-string key, anything after the end). */
static void test_random_documents(void **state)
{
    static const char *const words[] = {"id", "level", "a b", "x\ty", "",
                                        "\xe2\x82\xac", "q\"", "long key"};
    unsigned seed = 12345;

    (void)state;
    for (int doc = 0; doc < 300; doc++) {
        struct both b;
        struct sink k;
        int depth = 0, steps = 5 + doc % 60;

        both_begin(&b, &k);
        both_op(&b, doc % 2 ? OP_MAP_OPEN : OP_ARRAY_OPEN, NULL, 0, 0);
        depth = 1;
        for (int i = 0; i < steps || depth > 0; i++) {
            unsigned r = (seed = seed * 1103515245u + 12345u) >> 16;
            const char *w = words[r % 8];

            if (i >= steps) {
                /* close what is open; a map closed either way */
                both_op(&b, r % 2 ? OP_MAP_CLOSE : OP_ARRAY_CLOSE, NULL, 0,
                        0);
                depth--;
                continue;
            }
            switch (r % 11) {
            case 0:
            case 1:
                if (depth < 12) {
                    both_op(&b, r % 4 ? OP_MAP_OPEN : OP_ARRAY_OPEN, NULL,
                            0, 0);
                    depth++;
                }
                break;
            case 2:
                if (depth > 1) {
                    both_op(&b, r % 3 ? OP_MAP_CLOSE : OP_ARRAY_CLOSE,
                            NULL, 0, 0);
                    depth--;
                }
                break;
            case 3:
                both_op(&b, OP_NULL, NULL, 0, 0);
                break;
            case 4:
                both_op(&b, OP_BOOL, NULL, 0, r & 1);
                break;
            case 5:
                both_op(&b, OP_INT, NULL, 0,
                        (long long)r * (r % 3 ? 1 : -987654321LL));
                break;
            case 6:
                both_op(&b, OP_NUMBER, "18446744073709551615", 20, 0);
                break;
            default:
                both_op(&b, OP_STRING, w, strlen(w), 0);
                break;
            }
        }
        /* after the end: refused by both, printed by neither */
        both_op(&b, OP_STRING, "after", 5, 0);
        both_op(&b, OP_MAP_OPEN, NULL, 0, 0);
        both_end_and_compare(&b, &k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_escaped_as_yajl_escapes_them),
        cmocka_unit_test(test_long_strings),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_random_documents),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
