/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * json.c - the JSON the xpci command prints, streamed to stdout in blocks
 * and laid out as libyajl's generator lays it out with yajl_gen_beautify
 * and a two-space indent, byte for byte: "{" and "[" end their line, each
 * member or element starts one of its own, ": " after a key, a blank line
 * inside an empty container, a newline after the last close.  Strings are
 * escaped as yajl escapes them (\" \\ \b \f \n \r \t, other control bytes
 * as \u00XX with upper-case hex, '/' and bytes >= 0x7f as they are).  A
 * call yajl would refuse (a key that is not a string, a value after the
 * document is complete, a 128th level) prints nothing here either.
 *
 * A report of a few thousand functions is megabytes of it: yajl printed
 * each token through a callback, and the layout had to be added from its
 * compact output, which was a third of `check --all --json`'s user time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpci-cli.h"

#define JSON_MAX_DEPTH 128
#define JSON_INDENT 2

enum json_state {
    JS_START,      /* nothing printed yet */
    JS_MAP_START,  /* a map just opened: a key comes */
    JS_MAP_KEY,    /* a key comes, after a member */
    JS_MAP_VAL,    /* a key printed: its value comes */
    JS_ARRAY_START,
    JS_IN_ARRAY,
    JS_COMPLETE,   /* the document is whole */
};

struct json_gen {
    unsigned depth;
    bool need_indent; /* a new line began: indent before the next token */
    unsigned char state[JSON_MAX_DEPTH + 1];
};

/* ------------------------------------------------------------ output */
static char json_buf[65536];
static size_t json_len;

static void json_flush(void)
{
    fwrite_unlocked(json_buf, 1, json_len, stdout);
    json_len = 0;
}

static void emit(const char *s, size_t len)
{
    if (len > sizeof(json_buf) - json_len) {
        json_flush();
        if (len > sizeof(json_buf)) {
            fwrite_unlocked(s, 1, len, stdout);
            return;
        }
    }
    memcpy(json_buf + json_len, s, len);
    json_len += len;
}

/* ",\n" and the indent of depth, or from (2) the indent alone, in one
 * copy while the indent fits the line below (depth 31). */
static void emit_sep_indent(size_t from, unsigned depth)
{
    static const char line[] = ",\n                              "
                               "                                ";
    size_t n = (size_t)depth * JSON_INDENT;

    if (n + 2 <= sizeof(line) - 1) {
        emit(line + from, 2 + n - from);
        return;
    }
    emit(line + from, 2 - from);
    while (n) {
        size_t k = n < sizeof(line) - 3 ? n : sizeof(line) - 3;

        emit(line + 2, k);
        n -= k;
    }
}

static void emit_indent(unsigned depth)
{
    emit_sep_indent(2, depth);
}

/* ------------------------------------------------------------ layout */
/* Whether a value may come now; a key may always be a string. */
static bool value_ok(const struct json_gen *g, bool is_string)
{
    unsigned char s = g->state[g->depth];

    if (s == JS_COMPLETE)
        return false;
    return is_string || (s != JS_MAP_START && s != JS_MAP_KEY);
}

/* What comes before a value: the separator, then the indent. */
static void before_value(struct json_gen *g)
{
    unsigned char s = g->state[g->depth];

    if (s == JS_MAP_KEY || s == JS_IN_ARRAY) {
        emit_sep_indent(0, g->depth);
        g->need_indent = false;
        return;
    } else if (s == JS_MAP_VAL) {
        emit(": ", 2);
        g->need_indent = false;
    }
    if (g->need_indent) {
        emit_indent(g->depth);
        g->need_indent = false;
    }
}

/* A value (or key) printed at the current depth. */
static void after_value(struct json_gen *g)
{
    unsigned char *s = &g->state[g->depth];

    switch (*s) {
    case JS_START:
        *s = JS_COMPLETE;
        break;
    case JS_MAP_START:
    case JS_MAP_KEY:
        *s = JS_MAP_VAL;
        break;
    case JS_MAP_VAL:
        *s = JS_MAP_KEY;
        break;
    case JS_ARRAY_START:
        *s = JS_IN_ARRAY;
        break;
    default:
        break;
    }
}

static void open_container(struct json_gen *g, char c, enum json_state st)
{
    char s[2] = {c, '\n'};

    if (!value_ok(g, false) || g->depth + 1 >= JSON_MAX_DEPTH)
        return;
    before_value(g);
    emit(s, 2);
    g->state[++g->depth] = (unsigned char)st;
    g->need_indent = true;
}

static void close_container(struct json_gen *g, char c)
{
    if (g->state[g->depth] == JS_COMPLETE || !g->depth)
        return;
    g->depth--;
    after_value(g);
    emit("\n", 1);
    emit_indent(g->depth);
    emit(&c, 1);
    if (!g->depth)
        emit("\n", 1);
    g->need_indent = false;
}

/* A scalar token printed as it is. */
static void scalar(struct json_gen *g, const char *s, size_t len)
{
    if (!value_ok(g, false))
        return;
    before_value(g);
    emit(s, len);
    after_value(g);
}

/* ------------------------------------------------------------ API */
json_gen json_open(void)
{
    struct json_gen *g = calloc(1, sizeof(*g));

    if (!g)
        abort();
    g->state[0] = JS_START;
    return g;
}

void json_close(json_gen g)
{
    json_flush();
    free(g);
}

void json_map_open(json_gen g)
{
    open_container(g, '{', JS_MAP_START);
}

void json_map_close(json_gen g)
{
    close_container(g, '}');
}

void json_array_open(json_gen g)
{
    open_container(g, '[', JS_ARRAY_START);
}

void json_array_close(json_gen g)
{
    close_container(g, ']');
}

void json_null(json_gen g)
{
    scalar(g, "null", 4);
}

void json_bool(json_gen g, bool v)
{
    if (v)
        scalar(g, "true", 4);
    else
        scalar(g, "false", 5);
}

void json_integer(json_gen g, long long v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%lld", v);

    scalar(g, num, (size_t)n);
}

void json_number(json_gen g, const char *s, size_t len)
{
    scalar(g, s, len);
}

/* The escape of byte c, or NULL when it stands for itself. */
static const char *escape_of(unsigned char c, char hex[7])
{
    static const char digits[] = "0123456789ABCDEF";

    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        if (c >= 0x20)
            return NULL;
        memcpy(hex, "\\u00", 4);
        hex[4] = digits[c >> 4];
        hex[5] = digits[c & 15];
        hex[6] = '\0';
        return hex;
    }
}

/* Whether one of the 8 bytes of w needs an escape: below 0x20, '"' or
 * '\\' (the classic has-less and has-zero bit tricks on a word). */
static bool word_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t high = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');
    uint64_t t = ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
                 ((bslash - ones) & ~bslash);

    return t & high;
}

void json_string(json_gen g, const char *s, size_t len)
{
    size_t beg = 0, i = 0;

    if (!value_ok(g, true))
        return;
    before_value(g);
    emit("\"", 1);
    for (;;) {
        unsigned char c;
        char hex[7];
        const char *esc;

        /* eight bytes at a time while none needs an escape */
        while (i + 8 <= len) {
            uint64_t w;

            memcpy(&w, s + i, 8);
            if (word_needs_escape(w))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        c = (unsigned char)s[i++];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        esc = escape_of(c, hex);
        emit(s + beg, i - 1 - beg);
        emit(esc, strlen(esc));
        beg = i;
    }
    emit(s + beg, len - beg);
    emit("\"", 1);
    after_value(g);
}
