/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-qmp.c - the QMP client against a scripted fake device model: a
 * thread listening on a unix socket in a temporary directory plays one
 * script per test (send these bytes, expect that command, pause, close,
 * go silent) and records every line the client sent.  Covers the
 * greeting and capabilities, answers matched by id, error answers, events
 * kept for later, messages split over writes and packed into one,
 * deadlines, and the xen-pci-passthrough add/find/delete sequences.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "xpci-internal.h"
#include "qmp.h"

/* ---------------------------------------------------------- fake server */

enum step_kind { S_END = 0, S_SEND, S_RECV, S_PAUSE, S_CLOSE, S_SEND_GEN };

struct step {
    enum step_kind kind;
    const char *text; /* S_SEND: bytes ("%ID" is the last command's id);
                         S_RECV: the command expected */
    int ms;           /* S_PAUSE */
    /* S_SEND_GEN: a malloc'd message of any size for the answer to id */
    char *(*gen)(const char *id);
};

/* clang-format off */
#define SEND(t) {.kind = S_SEND, .text = (t)}
#define RECV(c) {.kind = S_RECV, .text = (c)}
#define PAUSE(n) {.kind = S_PAUSE, .ms = (n)}
#define CLOSE() {.kind = S_CLOSE}
#define SEND_GEN(f) {.kind = S_SEND_GEN, .gen = (f)}
#define END() {.kind = S_END}
/* clang-format on */

#define GREETING                                                               \
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "         \
    "\"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
/* The usual start of a script. */
#define HANDSHAKE                                                              \
    SEND(GREETING), RECV("qmp_capabilities"),                                  \
        SEND("{\"return\": {}, \"id\": %ID}\r\n")

#define MAX_LINES 16

struct server {
    char dir[64];
    char path[96];
    int lfd;
    const struct step *script;
    pthread_t thread;
    char *lines[MAX_LINES]; /* what the client sent, in order */
    unsigned n_lines;
    char failure[256]; /* the first way the client broke the script */
};

static void fail_script(struct server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail_script(struct server *s, const char *fmt, ...)
{
    va_list ap;

    if (s->failure[0])
        return;
    va_start(ap, fmt);
    vsnprintf(s->failure, sizeof(s->failure), fmt, ap);
    va_end(ap);
}

/* One line from the client; NULL at EOF. */
static char *recv_line(int fd, char *buf, size_t *len, size_t size)
{
    for (;;) {
        char *nl = memchr(buf, '\n', *len);
        ssize_t n;

        if (nl) {
            char *line = strndup(buf, nl - buf);

            *len -= nl + 1 - buf;
            memmove(buf, nl + 1, *len);
            return line;
        }
        if (*len == size)
            return NULL;
        n = read(fd, buf + *len, size - *len);
        if (n <= 0)
            return NULL;
        *len += n;
    }
}

static void send_text(struct server *s, int fd, const char *text,
                      const char *id)
{
    char out[4096];
    size_t o = 0;

    for (const char *p = text; *p && o < sizeof(out) - 32;) {
        if (!strncmp(p, "%ID", 3)) {
            o += snprintf(out + o, sizeof(out) - o, "%s", id);
            p += 3;
        } else {
            out[o++] = *p++;
        }
    }
    /* one write(2), so packed messages arrive together */
    if (write(fd, out, o) != (ssize_t)o)
        fail_script(s, "short write");
}

/* Send all of text, however big; a client that went away ends it. */
static void send_big(int fd, const char *text)
{
    size_t len = strlen(text);

    while (len) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);

        if (n <= 0)
            return;
        text += n;
        len -= n;
    }
}

static void *serve(void *arg)
{
    struct server *s = arg;
    struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
    char buf[8192], id[64] = "null";
    size_t len = 0;
    int fd;

    if (poll(&pfd, 1, 5000) != 1) {
        fail_script(s, "no client connected");
        return NULL;
    }
    fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) {
        fail_script(s, "accept: %m");
        return NULL;
    }
    for (const struct step *st = s->script; st->kind != S_END; st++) {
        char *line;
        yajl_val v, ex, idv;
        const char *idpath[] = {"id", NULL};
        const char *expath[] = {"execute", NULL};

        switch (st->kind) {
        case S_SEND:
            send_text(s, fd, st->text, id);
            break;
        case S_SEND_GEN:
            line = st->gen(id);
            send_big(fd, line);
            free(line);
            break;
        case S_PAUSE:
            nanosleep(
                &(struct timespec){st->ms / 1000, st->ms % 1000 * 1000000L},
                NULL);
            break;
        case S_CLOSE:
            close(fd);
            return NULL;
        case S_RECV:
            line = recv_line(fd, buf, &len, sizeof(buf));
            if (!line) {
                fail_script(s, "client left before sending %s", st->text);
                close(fd);
                return NULL;
            }
            if (s->n_lines < MAX_LINES)
                s->lines[s->n_lines++] = line;
            else
                fail_script(s, "more than %d commands", MAX_LINES);
            v = yajl_tree_parse(line, NULL, 0);
            ex = yajl_tree_get(v, expath, yajl_t_string);
            idv = yajl_tree_get(v, idpath, yajl_t_number);
            if (!ex || !ex->u.string || strcmp(ex->u.string, st->text))
                fail_script(s, "expected %s, got %s", st->text, line);
            if (idv)
                snprintf(id, sizeof(id), "%s", idv->u.number.r);
            else
                fail_script(s, "command without a numeric id: %s", line);
            if (v)
                yajl_tree_free(v);
            if (s->lines[s->n_lines - 1] != line)
                free(line);
            break;
        default:
            break;
        }
    }
    /* Script done: stay (silent) until the client goes away. */
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
    return NULL;
}

static struct server *server_start(const struct step *script)
{
    struct server *s = calloc(1, sizeof(*s));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    assert_non_null(s);
    strcpy(s->dir, "/tmp/xpci-qmp-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->path, sizeof(s->path), "%s/qmp-libxl-1", s->dir);
    strcpy(sa.sun_path, s->path);
    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->lfd >= 0);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s->lfd, 1), 0);
    s->script = script;
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
    return s;
}

/* Join the server (the client must have closed by now) and check that
 * the client followed the script. */
static void server_finish(struct server *s)
{
    pthread_join(s->thread, NULL);
    close(s->lfd);
    unlink(s->path);
    rmdir(s->dir);
    if (s->failure[0])
        fail_msg("fake QMP server: %s", s->failure);
    for (unsigned i = 0; i < s->n_lines; i++)
        free(s->lines[i]);
    free(s);
}

/* The arguments the client sent with its n-th command (0: capabilities). */
static yajl_val sent_args(struct server *s, unsigned n, yajl_val *root_r)
{
    const char *path[] = {"arguments", NULL};

    assert_true(n < s->n_lines);
    *root_r = yajl_tree_parse(s->lines[n], NULL, 0);
    assert_non_null(*root_r);
    return yajl_tree_get(*root_r, path, yajl_t_any);
}

static const char *str_at(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};

    return YAJL_GET_STRING(yajl_tree_get(v, path, yajl_t_string));
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct xpci__qmp *client_open(struct server *s)
{
    struct xpci__qmp *q = NULL;
    char *err = NULL;
    int rc = xpci__qmp_open(s->path, 2000, &q, &err);

    if (rc)
        fail_msg("open: %d %s", rc, err ? err : "");
    return q;
}

static const struct xpci_bdf bdf_01_00_0 = {0, 1, 0, 0};
static const struct xpci_bdf bdf_03_1f_7 = {0x12, 3, 0x1f, 7};

/* ---------------------------------------------------------- protocol */

static void test_open_negotiates_capabilities(void **state)
{
    static const struct step script[] = {HANDSHAKE, END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    yajl_val root;

    xpci__qmp_close(q);
    assert_int_equal(s->n_lines, 1);
    assert_null(sent_args(s, 0, &root));
    assert_string_equal(str_at(root, "execute"), "qmp_capabilities");
    yajl_tree_free(root);
    server_finish(s);
}

static void test_command_returns_value_and_ids_differ(void **state)
{
    static const struct step script[] = {
        HANDSHAKE, RECV("query-status"),
        SEND("{\"return\": {\"status\": \"prelaunch\", \"singlestep\": "
             "false, \"running\": false}, \"id\": %ID}\r\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *ret = NULL, *err = NULL;
    yajl_val v, a, b;
    const char *idp[] = {"id", NULL};

    assert_int_equal(
        xpci__qmp_command(q, "query-status", NULL, 1000, &ret, &err), 0);
    assert_null(err);
    v = yajl_tree_parse(ret, NULL, 0);
    assert_non_null(v);
    assert_string_equal(str_at(v, "status"), "prelaunch");
    yajl_tree_free(v);
    free(ret);
    xpci__qmp_close(q);

    a = yajl_tree_parse(s->lines[0], NULL, 0);
    b = yajl_tree_parse(s->lines[1], NULL, 0);
    assert_true(YAJL_IS_INTEGER(yajl_tree_get(a, idp, yajl_t_number)));
    assert_true(YAJL_GET_INTEGER(yajl_tree_get(a, idp, yajl_t_number)) !=
                YAJL_GET_INTEGER(yajl_tree_get(b, idp, yajl_t_number)));
    yajl_tree_free(a);
    yajl_tree_free(b);
    server_finish(s);
}

static void test_arguments_are_sent_as_json(void **state)
{
    static const struct step script[] = {
        HANDSHAKE, RECV("human-monitor-command"),
        SEND("{\"return\": \"\", \"id\": %ID}\n"), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;
    yajl_val root, args;

    assert_int_equal(xpci__qmp_command(q, "human-monitor-command",
                                       "{\"command-line\": \"info \\\"x\\\"\","
                                       " \"n\": [1, 2.5, true, null]}",
                                       1000, NULL, &err),
                     0);
    /* not an object: refused before anything is sent */
    assert_int_equal(xpci__qmp_command(q, "x", "[1]", 1000, NULL, &err),
                     -EINVAL);
    assert_non_null(err);
    free(err);
    xpci__qmp_close(q);

    args = sent_args(s, 1, &root);
    assert_true(YAJL_IS_OBJECT(args));
    assert_string_equal(str_at(args, "command-line"), "info \"x\"");
    assert_int_equal(s->n_lines, 2);
    yajl_tree_free(root);
    server_finish(s);
}

static void test_error_answer_is_eio_with_class_and_desc(void **state)
{
    static const struct step script[] = {
        HANDSHAKE, RECV("no-such-command"),
        SEND("{\"id\": %ID, \"error\": {\"class\": \"CommandNotFound\", "
             "\"desc\": \"The command no-such-command has not been "
             "found\"}}\r\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *ret = (char *)"untouched", *err = NULL;

    assert_int_equal(
        xpci__qmp_command(q, "no-such-command", NULL, 1000, &ret, &err), -EIO);
    assert_string_equal(ret, "untouched");
    assert_string_equal(
        err, "CommandNotFound: The command no-such-command has not been found");
    free(err);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_error_without_id_belongs_to_the_command(void **state)
{
    static const struct step script[] = {
        HANDSHAKE, RECV("stop"),
        SEND("{\"error\": {\"class\": \"GenericError\", "
             "\"desc\": \"JSON parse error\"}}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;

    assert_int_equal(xpci__qmp_command(q, "stop", NULL, 1000, NULL, &err),
                     -EIO);
    assert_string_equal(err, "GenericError: JSON parse error");
    free(err);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_events_before_answer_are_kept(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("device_del"),
        SEND("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
             "\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": "
             "\"/machine/peripheral/kbd0/x\"}}\r\n"),
        SEND("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, "
             "\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
             "\"kbd0\", \"path\": \"/machine/peripheral/kbd0\"}}\r\n"),
        SEND("{\"event\": \"RESET\", \"data\": {}}\r\n"),
        SEND("{\"return\": {}, \"id\": %ID}\r\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;

    assert_int_equal(xpci__qmp_command(q, "device_del", "{\"id\":\"kbd0\"}",
                                       1000, NULL, &err),
                     0);
    /* already here: no waiting even with a zero deadline */
    assert_int_equal(xpci__qmp_wait_event(q, "DEVICE_DELETED", "kbd0", 0, &err),
                     0);
    /* used up */
    assert_int_equal(
        xpci__qmp_wait_event(q, "DEVICE_DELETED", "kbd0", 50, &err),
        -ETIMEDOUT);
    assert_non_null(err);
    free(err);
    err = NULL;
    /* any device: the one without data.device is still there */
    assert_int_equal(xpci__qmp_wait_event(q, "DEVICE_DELETED", NULL, 0, &err),
                     0);
    assert_int_equal(xpci__qmp_wait_event(q, "RESET", NULL, 0, &err), 0);
    assert_null(err);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_event_arriving_later_is_waited_for(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        PAUSE(100),
        SEND("{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
             "\"other\"}}\n"),
        PAUSE(50),
        SEND("{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
             "\"mine\"}}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    int64_t t0 = now_ms();

    assert_int_equal(
        xpci__qmp_wait_event(q, "DEVICE_DELETED", "mine", 2000, NULL), 0);
    assert_true(now_ms() - t0 >= 140);
    /* the other one was kept on the way */
    assert_int_equal(
        xpci__qmp_wait_event(q, "DEVICE_DELETED", "other", 0, NULL), 0);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_answer_split_over_writes(void **state)
{
    static const struct step script[] = {
        SEND("{\"QMP\": {\"version\": {}, "),
        PAUSE(30),
        SEND("\"capabilities\": []}}"),
        PAUSE(30),
        SEND("\r\n"),
        RECV("qmp_capabilities"),
        SEND("{\"return\": {}, \"id\": %ID}\r\n"),
        RECV("query-name"),
        SEND("{\"ret"),
        PAUSE(30),
        SEND("urn\": {\"name\": \"gu"),
        PAUSE(30),
        SEND("est\"}, \"id\": "),
        PAUSE(30),
        SEND("%ID}"),
        PAUSE(30),
        SEND("\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *ret = NULL;

    assert_int_equal(xpci__qmp_command(q, "query-name", NULL, 2000, &ret, NULL),
                     0);
    assert_string_equal(ret, "{\"name\":\"guest\"}");
    free(ret);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_several_messages_in_one_write(void **state)
{
    /* greeting and an event in one write; then an event, an old answer
     * with another id, and the answer, in one write */
    static const struct step script[] = {
        SEND(GREETING "{\"event\": \"STOP\"}\n"),
        RECV("qmp_capabilities"),
        SEND("{\"return\": {}, \"id\": %ID}\n"),
        RECV("query-name"),
        SEND("\n{\"event\": \"RESUME\"}\n{\"return\": {\"name\": \"old\"}, "
             "\"id\": 12345}\n{\"return\": {\"name\": \"new\"}, \"id\": "
             "%ID}\n{\"event\": \"SHUTDOWN\"}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *ret = NULL;

    assert_int_equal(xpci__qmp_command(q, "query-name", NULL, 1000, &ret, NULL),
                     0);
    assert_string_equal(ret, "{\"name\":\"new\"}");
    free(ret);
    /* all three events, including those read along with an answer */
    assert_int_equal(xpci__qmp_wait_event(q, "SHUTDOWN", NULL, 200, NULL), 0);
    assert_int_equal(xpci__qmp_wait_event(q, "STOP", NULL, 0, NULL), 0);
    assert_int_equal(xpci__qmp_wait_event(q, "RESUME", NULL, 0, NULL), 0);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_silent_server_times_out_on_time(void **state)
{
    static const struct step script[] = {HANDSHAKE, RECV("query-pci"), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;
    int64_t t0 = now_ms(), dt;

    assert_int_equal(xpci__qmp_command(q, "query-pci", NULL, 300, NULL, &err),
                     -ETIMEDOUT);
    dt = now_ms() - t0;
    assert_true(dt >= 295);
    assert_true(dt < 800);
    assert_non_null(err);
    free(err);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_no_greeting_times_out(void **state)
{
    static const struct step script[] = {END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = NULL;
    char *err = NULL;
    int64_t t0 = now_ms();

    assert_int_equal(xpci__qmp_open(s->path, 200, &q, &err), -ETIMEDOUT);
    assert_true(now_ms() - t0 < 700);
    assert_null(q);
    assert_non_null(strstr(err, "greeting"));
    free(err);
    server_finish(s);
}

static void test_server_closing_is_an_error(void **state)
{
    static const struct step script[] = {HANDSHAKE, RECV("query-pci"),
                                         SEND("{\"ret"), CLOSE(), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;
    int64_t t0 = now_ms();

    assert_int_equal(xpci__qmp_command(q, "query-pci", NULL, 5000, NULL, &err),
                     -ECONNRESET);
    assert_true(now_ms() - t0 < 1000); /* at once, not at the deadline */
    assert_non_null(strstr(err, "closed"));
    free(err);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_server_closing_before_greeting(void **state)
{
    static const struct step script[] = {CLOSE(), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = NULL;

    assert_int_equal(xpci__qmp_open(s->path, 1000, &q, NULL), -ECONNRESET);
    assert_null(q);
    server_finish(s);
}

static void test_human_monitor_is_not_qmp(void **state)
{
    /* QEMU's human monitor on the socket: refused at its first byte */
    static const struct step script[] = {
        SEND("QEMU 7.2.0 monitor - type 'help' for more information\r\n"
             "(qemu) "),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = NULL;
    char *err = NULL;
    int64_t t0 = now_ms();

    assert_int_equal(xpci__qmp_open(s->path, 3000, &q, &err), -EPROTO);
    assert_true(now_ms() - t0 < 1000);
    assert_null(q);
    assert_non_null(strstr(err, "QEMU 7.2.0 monitor"));
    free(err);
    server_finish(s);
}

static void test_prompt_without_newline_is_eproto_at_once(void **state)
{
    /* no complete line ever comes: known from the first byte, not at the
     * deadline */
    static const struct step script[] = {SEND("(qemu) "), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = NULL;
    char *err = NULL;
    int64_t t0 = now_ms();

    assert_int_equal(xpci__qmp_open(s->path, 3000, &q, &err), -EPROTO);
    assert_true(now_ms() - t0 < 1000);
    assert_non_null(strstr(err, "(qemu)"));
    free(err);
    server_finish(s);
}

static void test_json_that_is_not_a_greeting_is_eproto(void **state)
{
    static const struct step script[] = {SEND("{\"hello\": \"world\"}\n"),
                                         END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = NULL;
    char *err = NULL;

    assert_int_equal(xpci__qmp_open(s->path, 1000, &q, &err), -EPROTO);
    assert_non_null(err);
    free(err);

    server_finish(s);
}

static void test_broken_json_is_eproto_and_skipped(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("query-pci"),
        SEND("{\"return\": [1, }\n"),
        RECV("query-name"),
        SEND("{\"return\": {}, \"id\": %ID}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;

    assert_int_equal(xpci__qmp_command(q, "query-pci", NULL, 1000, NULL, &err),
                     -EPROTO);
    assert_non_null(strstr(err, "[1, }"));
    free(err);
    /* the bad line is gone; the connection goes on */
    assert_int_equal(xpci__qmp_command(q, "query-name", NULL, 1000, NULL, NULL),
                     0);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_no_socket_is_enoent(void **state)
{
    struct xpci__qmp *q = NULL;
    char *err = NULL;

    assert_int_equal(xpci__qmp_open("/nonexistent/qmp-libxl-7", 100, &q, &err),
                     -ENOENT);
    assert_null(q);
    assert_non_null(strstr(err, "/nonexistent/qmp-libxl-7"));
    free(err);
}

/* ---------------------------------------------------------- passthrough */

static void test_pt_id_is_libxl_qdev_id(void **state)
{
    char id[XPCI__QMP_PT_ID_LEN];

    xpci__qmp_pt_id(&bdf_01_00_0, id);
    assert_string_equal(id, "pci-pt-01_00.0");
    /* the segment is not part of it, as in libxl */
    xpci__qmp_pt_id(&bdf_03_1f_7, id);
    assert_string_equal(id, "pci-pt-03_1f.7");
}

/* Check every field of device_add arguments. */
static void assert_pt_fields(yajl_val v, const char *id, const char *hostaddr,
                             const char *addr, bool permissive)
{
    const char *pp[] = {"permissive", NULL};
    size_t fields = 3 + !!addr + permissive;

    assert_true(YAJL_IS_OBJECT(v));
    assert_int_equal(v->u.object.len, fields);
    assert_string_equal(str_at(v, "driver"), "xen-pci-passthrough");
    assert_string_equal(str_at(v, "id"), id);
    assert_string_equal(str_at(v, "hostaddr"), hostaddr);
    if (addr)
        assert_string_equal(str_at(v, "addr"), addr);
    else
        assert_null(str_at(v, "addr"));
    if (permissive)
        assert_true(YAJL_IS_TRUE(yajl_tree_get(v, pp, yajl_t_any)));
    else
        assert_null(yajl_tree_get(v, pp, yajl_t_any));
}

static void assert_pt_args(const char *json, const char *id,
                           const char *hostaddr, const char *addr,
                           bool permissive)
{
    yajl_val v = yajl_tree_parse(json, NULL, 0);

    assert_non_null(v);
    assert_pt_fields(v, id, hostaddr, addr, permissive);
    yajl_tree_free(v);
}

static void test_pt_add_args_match_libxl(void **state)
{
    char *json = NULL;

    assert_int_equal(xpci__qmp_pt_add_args(&bdf_01_00_0, -1, false, &json), 0);
    assert_string_equal(json, "{\"driver\":\"xen-pci-passthrough\","
                              "\"id\":\"pci-pt-01_00.0\","
                              "\"hostaddr\":\"0000:01:00.0\"}");
    assert_pt_args(json, "pci-pt-01_00.0", "0000:01:00.0", NULL, false);
    free(json);

    /* slot 0x1b function 3 = devfn 0xdb; hex, as libxl's "%x.%x" */
    assert_int_equal(
        xpci__qmp_pt_add_args(&bdf_03_1f_7, 0x1b << 3 | 3, false, &json), 0);
    assert_pt_args(json, "pci-pt-03_1f.7", "0012:03:1f.7", "1b.3", false);
    free(json);

    assert_int_equal(xpci__qmp_pt_add_args(&bdf_01_00_0, -1, true, &json), 0);
    assert_pt_args(json, "pci-pt-01_00.0", "0000:01:00.0", NULL, true);
    free(json);

    assert_int_equal(xpci__qmp_pt_add_args(&bdf_01_00_0, 4 << 3, true, &json),
                     0);
    assert_string_equal(json, "{\"driver\":\"xen-pci-passthrough\","
                              "\"id\":\"pci-pt-01_00.0\","
                              "\"hostaddr\":\"0000:01:00.0\","
                              "\"addr\":\"4.0\",\"permissive\":true}");
    free(json);

    json = (char *)"untouched";
    assert_int_equal(xpci__qmp_pt_add_args(&bdf_01_00_0, 0x100, false, &json),
                     -EINVAL);
    assert_string_equal(json, "untouched");
}

/* query-pci as QEMU 7.2 answers it (trimmed), with pci-pt-01_00.0 at
 * 00:04.0 on the root bus. */
#define QUERY_PCI_ROOT                                                         \
    "{\"return\": [{\"bus\": 0, \"devices\": ["                                \
    "{\"irq_pin\": 0, \"bus\": 0, \"qdev_id\": \"\", \"slot\": 0, "            \
    "\"class_info\": {\"class\": 1536, \"desc\": \"Host bridge\"}, "           \
    "\"id\": {\"device\": 4663, \"vendor\": 32902}, \"function\": 0, "         \
    "\"regions\": []}, "                                                       \
    "{\"bus\": 0, \"qdev_id\": \"pci-pt-01_00.0\", \"slot\": 4, "              \
    "\"function\": 0, \"class_info\": {\"class\": 512}, "                      \
    "\"id\": {\"device\": 4339, \"vendor\": 32902}, \"regions\": []}"          \
    "]}], \"id\": %ID}\r\n"

/* Behind a bridge at 00:1e.0 (secondary bus 1): pci-pt-03_1f.7 at 01:05.2,
 * while the root bus lists a device of another function of the host. */
#define QUERY_PCI_BRIDGE                                                       \
    "{\"return\": [{\"bus\": 0, \"devices\": ["                                \
    "{\"bus\": 0, \"qdev_id\": \"pci-pt-03_1f.6\", \"slot\": 3, "              \
    "\"function\": 0, \"regions\": []}, "                                      \
    "{\"bus\": 0, \"qdev_id\": \"br0\", \"slot\": 30, \"function\": 0, "       \
    "\"pci_bridge\": {\"bus\": {\"number\": 0, \"secondary\": 1, "             \
    "\"subordinate\": 1}, \"devices\": ["                                      \
    "{\"bus\": 1, \"qdev_id\": \"\", \"slot\": 1, \"function\": 0, "           \
    "\"regions\": []}, "                                                       \
    "{\"bus\": 1, \"qdev_id\": \"pci-pt-03_1f.7\", \"slot\": 5, "              \
    "\"function\": 2, \"regions\": []}]}, \"regions\": []}"                    \
    "]}], \"id\": %ID}\n"

#define QUERY_PCI_EMPTY                                                        \
    "{\"return\": [{\"bus\": 0, \"devices\": [{\"bus\": 0, \"qdev_id\": "      \
    "\"\", \"slot\": 0, \"function\": 0, \"regions\": []}]}], "                \
    "\"id\": %ID}\n"

static void test_pt_add_sends_libxl_args_and_reads_vdevfn(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("device_add"),
        SEND("{\"return\": {}, \"id\": %ID}\n"),
        RECV("query-pci"),
        SEND(QUERY_PCI_ROOT),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    int vdevfn = -1;
    char *err = NULL;
    yajl_val root, args;

    assert_int_equal(
        xpci__qmp_pt_add(q, &bdf_01_00_0, 4 << 3, true, 1000, &vdevfn, &err),
        0);
    assert_null(err);
    assert_int_equal(vdevfn, 0x20);
    xpci__qmp_close(q);

    args = sent_args(s, 1, &root);
    assert_pt_fields(args, "pci-pt-01_00.0", "0000:01:00.0", "4.0", true);
    assert_string_equal(str_at(root, "execute"), "device_add");
    yajl_tree_free(root);
    server_finish(s);
}

static void test_pt_add_finds_device_behind_bridge(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("device_add"),
        SEND("{\"return\": {}, \"id\": %ID}\n"),
        RECV("query-pci"),
        SEND(QUERY_PCI_BRIDGE),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    int vdevfn = -1;
    yajl_val root, args;

    assert_int_equal(
        xpci__qmp_pt_add(q, &bdf_03_1f_7, -1, false, 1000, &vdevfn, NULL), 0);
    assert_int_equal(vdevfn, 5 << 3 | 2);
    xpci__qmp_close(q);

    args = sent_args(s, 1, &root);
    assert_pt_fields(args, "pci-pt-03_1f.7", "0012:03:1f.7", NULL, false);
    yajl_tree_free(root);
    server_finish(s);
}

static void test_pt_add_not_listed_is_enodev(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("device_add"),
        SEND("{\"return\": {}, \"id\": %ID}\n"),
        RECV("query-pci"),
        SEND(QUERY_PCI_EMPTY),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    int vdevfn = 77;
    char *err = NULL;

    assert_int_equal(
        xpci__qmp_pt_add(q, &bdf_01_00_0, -1, false, 1000, &vdevfn, &err),
        -ENODEV);
    assert_int_equal(vdevfn, 77);
    assert_non_null(strstr(err, "pci-pt-01_00.0"));
    free(err);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_pt_add_refused_passes_qemu_message(void **state)
{
    static const struct step script[] = {
        HANDSHAKE, RECV("device_add"),
        SEND("{\"id\": %ID, \"error\": {\"class\": \"GenericError\", "
             "\"desc\": \"xen_pt: Failed to open host device\"}}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;
    int vdevfn = 77;

    assert_int_equal(
        xpci__qmp_pt_add(q, &bdf_01_00_0, -1, false, 1000, &vdevfn, &err),
        -EIO);
    assert_string_equal(err,
                        "GenericError: xen_pt: Failed to open host device");
    assert_int_equal(vdevfn, 77);
    free(err);
    xpci__qmp_close(q);
    /* no query-pci after a refusal */
    assert_int_equal(s->n_lines, 2);
    server_finish(s);
}

static void test_pt_find_present_and_absent(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,         RECV("query-pci"),      SEND(QUERY_PCI_BRIDGE),
        RECV("query-pci"), SEND(QUERY_PCI_BRIDGE), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    int vdevfn = 77;

    assert_int_equal(xpci__qmp_pt_find(q, &bdf_03_1f_7, 1000, &vdevfn, NULL),
                     1);
    assert_int_equal(vdevfn, 0x2a);
    vdevfn = 77;
    assert_int_equal(xpci__qmp_pt_find(q, &bdf_01_00_0, 1000, &vdevfn, NULL),
                     0);
    assert_int_equal(vdevfn, 77);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_pt_find_malformed_answer_is_eproto(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("query-pci"),
        SEND("{\"return\": [{\"bus\": 0}], \"id\": %ID}\n"),
        RECV("query-pci"),
        SEND("{\"return\": [{\"bus\": 0, \"devices\": [{\"qdev_id\": "
             "\"pci-pt-01_00.0\", \"slot\": \"4\", \"function\": 0}]}], "
             "\"id\": %ID}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);

    assert_int_equal(xpci__qmp_pt_find(q, &bdf_01_00_0, 1000, NULL, NULL),
                     -EPROTO);
    assert_int_equal(xpci__qmp_pt_find(q, &bdf_01_00_0, 1000, NULL, NULL),
                     -EPROTO);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_pt_del_waits_for_device_deleted(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("query-pci"),
        SEND(QUERY_PCI_ROOT),
        RECV("device_del"),
        SEND("{\"return\": {}, \"id\": %ID}\n"),
        PAUSE(100),
        SEND("{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
             "\"pci-pt-02_00.0\"}}\n"),
        PAUSE(50),
        SEND("{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
             "\"pci-pt-01_00.0\", \"path\": "
             "\"/machine/peripheral/pci-pt-01_00.0\"}}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;
    int64_t t0 = now_ms();
    yajl_val root, args;

    assert_int_equal(xpci__qmp_pt_del(q, &bdf_01_00_0, 2000, &err), 0);
    assert_null(err);
    assert_true(now_ms() - t0 >= 140); /* waited for the right event */
    /* the other device's event is kept */
    assert_int_equal(
        xpci__qmp_wait_event(q, "DEVICE_DELETED", "pci-pt-02_00.0", 0, NULL),
        0);
    xpci__qmp_close(q);

    args = sent_args(s, 2, &root);
    assert_int_equal(args->u.object.len, 1);
    assert_string_equal(str_at(args, "id"), "pci-pt-01_00.0");
    yajl_tree_free(root);
    server_finish(s);
}

static void test_pt_del_event_before_answer(void **state)
{
    /* a device that goes at once: the event precedes device_del's answer */
    static const struct step script[] = {
        HANDSHAKE,
        RECV("query-pci"),
        SEND(QUERY_PCI_ROOT),
        RECV("device_del"),
        SEND("{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
             "\"pci-pt-01_00.0\"}}\n{\"return\": {}, \"id\": %ID}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);

    assert_int_equal(xpci__qmp_pt_del(q, &bdf_01_00_0, 1000, NULL), 0);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_pt_del_device_not_found_counts_as_deleted(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("query-pci"),
        SEND(QUERY_PCI_ROOT),
        RECV("device_del"),
        SEND("{\"id\": %ID, \"error\": {\"class\": \"DeviceNotFound\", "
             "\"desc\": \"Device 'pci-pt-01_00.0' not found\"}}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;

    assert_int_equal(xpci__qmp_pt_del(q, &bdf_01_00_0, 1000, &err), 0);
    assert_null(err);
    xpci__qmp_close(q);
    server_finish(s);
}

/* No DEVICE_DELETED (an event lost, an older device model): query-pci,
 * asked once a second as libxl does, says it is gone. */
static void test_pt_del_polls_query_pci_without_event(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("query-pci"),
        SEND(QUERY_PCI_ROOT),
        RECV("device_del"),
        SEND("{\"return\": {}, \"id\": %ID}\n"),
        RECV("query-pci"),
        SEND(QUERY_PCI_ROOT),
        RECV("query-pci"),
        SEND(QUERY_PCI_EMPTY),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;
    int64_t t0 = now_ms();

    assert_int_equal(xpci__qmp_pt_del(q, &bdf_01_00_0, 5000, &err), 0);
    assert_null(err);
    assert_true(now_ms() - t0 >= 1900); /* two polls, a second apart */
    assert_true(now_ms() - t0 < 4000);
    xpci__qmp_close(q);
    server_finish(s);
}

/* Asked, still there at the deadline: -EINPROGRESS (the request stands:
 * never plug it back), not the -ETIMEDOUT of a model that never answered. */
static void test_pt_del_pending_at_deadline_is_einprogress(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("query-pci"),
        SEND(QUERY_PCI_ROOT),
        RECV("device_del"),
        SEND("{\"return\": {}, \"id\": %ID}\n"),
        RECV("query-pci"),
        SEND(QUERY_PCI_ROOT),
        PAUSE(1500), /* still there when the client gives up */
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;
    int64_t t0 = now_ms();

    assert_int_equal(xpci__qmp_pt_del(q, &bdf_01_00_0, 1500, &err),
                     -EINPROGRESS);
    assert_true(now_ms() - t0 >= 1495);
    assert_non_null(strstr(err, "pci-pt-01_00.0"));
    assert_non_null(strstr(err, "stands"));
    free(err);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_pt_del_unanswered_is_etimedout(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("query-pci"),
        PAUSE(400),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;

    assert_int_equal(xpci__qmp_pt_del(q, &bdf_01_00_0, 200, &err),
                     -ETIMEDOUT);
    free(err);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_pt_del_other_error_is_eio(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("query-pci"),
        SEND(QUERY_PCI_ROOT),
        RECV("device_del"),
        SEND("{\"id\": %ID, \"error\": {\"class\": \"GenericError\", "
             "\"desc\": \"Bus 'pci.0' does not support hotplugging\"}}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;

    assert_int_equal(xpci__qmp_pt_del(q, &bdf_01_00_0, 1000, &err), -EIO);
    assert_string_equal(err, "GenericError: Bus 'pci.0' does not support "
                             "hotplugging");
    free(err);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_pt_del_absent_sends_no_device_del(void **state)
{
    static const struct step script[] = {HANDSHAKE, RECV("query-pci"),
                                         SEND(QUERY_PCI_EMPTY), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);

    assert_int_equal(xpci__qmp_pt_del(q, &bdf_01_00_0, 1000, NULL), 0);
    xpci__qmp_close(q);
    assert_int_equal(s->n_lines, 2);
    server_finish(s);
}

static void test_pt_del_times_out_when_guest_keeps_device(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,
        RECV("query-pci"),
        SEND(QUERY_PCI_ROOT),
        RECV("device_del"),
        SEND("{\"return\": {}, \"id\": %ID}\n"),
        SEND("{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": "
             "\"pci-pt-02_00.0\"}}\n"),
        END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;
    int64_t t0 = now_ms(), dt;

    /* asked: the request stands, whatever happens next */
    assert_int_equal(xpci__qmp_pt_del(q, &bdf_01_00_0, 300, &err),
                     -EINPROGRESS);
    dt = now_ms() - t0;
    assert_true(dt >= 295);
    assert_true(dt < 800);
    assert_non_null(strstr(err, "pci-pt-01_00.0"));
    free(err);
    xpci__qmp_close(q);
    server_finish(s);
}

/* ---------------------------------------------------------- hostile answers */

/* A query-pci answer whose only root device sits below n nested bridges;
 * the innermost holds pci-pt-01_00.0 at slot 4. */
static char *nested_bridges(unsigned n, const char *id)
{
    static const char open_br[] = "{\"pci_bridge\":{\"devices\":[";
    static const char close_br[] = "]}}";
    static const char dev[] = "{\"qdev_id\": \"pci-pt-01_00.0\", "
                              "\"slot\": 4, \"function\": 0}";
    size_t size = 256 + (size_t)n * (sizeof(open_br) + sizeof(close_br));
    char *out = malloc(size);
    size_t o;

    assert_non_null(out);
    o = sprintf(out, "{\"return\": [{\"bus\": 0, \"devices\": [");
    for (unsigned i = 0; i < n; i++)
        o += sprintf(out + o, "%s", open_br);
    o += sprintf(out + o, "%s", dev);
    for (unsigned i = 0; i < n; i++)
        o += sprintf(out + o, "%s", close_br);
    sprintf(out + o, "]}], \"id\": %s}\n", id);
    return out;
}

static char *bridges_200000(const char *id)
{
    return nested_bridges(200000, id);
}

static char *bridges_20000(const char *id)
{
    return nested_bridges(20000, id);
}

static char *bridges_40(const char *id)
{
    return nested_bridges(40, id);
}

static char *bridges_8(const char *id)
{
    return nested_bridges(8, id);
}

/* One line of 4 MiB (a string member), otherwise a fine answer. */
static char *oversized(const char *id)
{
    size_t big = 4u << 20;
    char *out = malloc(big + 256);
    size_t o;

    assert_non_null(out);
    o = sprintf(out, "{\"return\": [{\"bus\": 0, \"devices\": [], "
                     "\"x\": \"");
    memset(out + o, 'a', big);
    o += big;
    sprintf(out + o, "\"}], \"id\": %s}\n", id);
    return out;
}

static void test_pt_find_deeply_nested_answer_is_eproto(void **state)
{
    static const struct step script[] = {
        HANDSHAKE,         RECV("query-pci"), SEND_GEN(bridges_20000),
        RECV("query-pci"), SEND_GEN(bridges_8), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;
    int vdevfn = -1;

    /* refused without building (or walking) the tree */
    assert_int_equal(xpci__qmp_pt_find(q, &bdf_01_00_0, 5000, NULL, &err),
                     -EPROTO);
    assert_non_null(strstr(err, "nested"));
    free(err);
    /* the line is used up: the connection goes on */
    assert_int_equal(xpci__qmp_pt_find(q, &bdf_01_00_0, 5000, &vdevfn, NULL),
                     1);
    assert_int_equal(vdevfn, 4 << 3);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_pt_find_200000_nested_bridges_is_eproto(void **state)
{
    static const struct step script[] = {
        HANDSHAKE, RECV("query-pci"), SEND_GEN(bridges_200000), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);

    assert_int_equal(xpci__qmp_pt_find(q, &bdf_01_00_0, 5000, NULL, NULL),
                     -EPROTO);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_pt_find_walk_is_depth_limited(void **state)
{
    /* 40 bridges: within the message nesting bound, beyond the walk's */
    static const struct step script[] = {
        HANDSHAKE, RECV("query-pci"), SEND_GEN(bridges_40), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);

    assert_int_equal(xpci__qmp_pt_find(q, &bdf_01_00_0, 5000, NULL, NULL),
                     -EPROTO);
    xpci__qmp_close(q);
    server_finish(s);
}

static void test_oversized_answer_is_eproto(void **state)
{
    static const struct step script[] = {
        HANDSHAKE, RECV("query-pci"), SEND_GEN(oversized), END()};
    struct server *s = server_start(script);
    struct xpci__qmp *q = client_open(s);
    char *err = NULL;

    assert_int_equal(xpci__qmp_pt_find(q, &bdf_01_00_0, 5000, NULL, &err),
                     -EPROTO);
    assert_non_null(strstr(err, "longer than"));
    free(err);
    xpci__qmp_close(q);
    server_finish(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_negotiates_capabilities),
        cmocka_unit_test(test_command_returns_value_and_ids_differ),
        cmocka_unit_test(test_arguments_are_sent_as_json),
        cmocka_unit_test(test_error_answer_is_eio_with_class_and_desc),
        cmocka_unit_test(test_error_without_id_belongs_to_the_command),
        cmocka_unit_test(test_events_before_answer_are_kept),
        cmocka_unit_test(test_event_arriving_later_is_waited_for),
        cmocka_unit_test(test_answer_split_over_writes),
        cmocka_unit_test(test_several_messages_in_one_write),
        cmocka_unit_test(test_silent_server_times_out_on_time),
        cmocka_unit_test(test_no_greeting_times_out),
        cmocka_unit_test(test_server_closing_is_an_error),
        cmocka_unit_test(test_server_closing_before_greeting),
        cmocka_unit_test(test_human_monitor_is_not_qmp),
        cmocka_unit_test(test_prompt_without_newline_is_eproto_at_once),
        cmocka_unit_test(test_json_that_is_not_a_greeting_is_eproto),
        cmocka_unit_test(test_broken_json_is_eproto_and_skipped),
        cmocka_unit_test(test_no_socket_is_enoent),
        cmocka_unit_test(test_pt_id_is_libxl_qdev_id),
        cmocka_unit_test(test_pt_add_args_match_libxl),
        cmocka_unit_test(test_pt_add_sends_libxl_args_and_reads_vdevfn),
        cmocka_unit_test(test_pt_add_finds_device_behind_bridge),
        cmocka_unit_test(test_pt_add_not_listed_is_enodev),
        cmocka_unit_test(test_pt_add_refused_passes_qemu_message),
        cmocka_unit_test(test_pt_find_present_and_absent),
        cmocka_unit_test(test_pt_find_malformed_answer_is_eproto),
        cmocka_unit_test(test_pt_del_waits_for_device_deleted),
        cmocka_unit_test(test_pt_del_event_before_answer),
        cmocka_unit_test(test_pt_del_device_not_found_counts_as_deleted),
        cmocka_unit_test(test_pt_del_other_error_is_eio),
        cmocka_unit_test(test_pt_del_polls_query_pci_without_event),
        cmocka_unit_test(test_pt_del_pending_at_deadline_is_einprogress),
        cmocka_unit_test(test_pt_del_unanswered_is_etimedout),
        cmocka_unit_test(test_pt_del_absent_sends_no_device_del),
        cmocka_unit_test(test_pt_del_times_out_when_guest_keeps_device),
        cmocka_unit_test(test_pt_find_deeply_nested_answer_is_eproto),
        cmocka_unit_test(test_pt_find_200000_nested_bridges_is_eproto),
        cmocka_unit_test(test_pt_find_walk_is_depth_limited),
        cmocka_unit_test(test_oversized_answer_is_eproto),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
