/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * qmp.c - a synchronous QMP client over a unix stream socket, and the
 * xen-pci-passthrough device_add / query-pci / device_del sequences that
 * libxl 4.17 runs against an HVM guest's device model.
 *
 * QMP is newline-delimited JSON: one object per line, in both directions.
 * The server speaks first (the greeting), refuses everything but
 * qmp_capabilities until that is sent, answers each command with "return"
 * or "error" echoing the command's "id", and may send asynchronous
 * {"event": ...} objects at any time, including before the answer to the
 * command that caused them.  This is the one library file that includes
 * yajl.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "xpci-internal.h"
#include "qmp.h"

/* Longest line accepted from the server (query-pci of a big guest is a
 * few tens of KiB). */
#define QMP_LINE_MAX (1u << 20)
/*
 * Deepest nesting of arrays and objects accepted in one message.  The
 * device model runs next to an untrusted guest: a line of 200,000 nested
 * bridges must be refused before a tree is built (yajl frees its trees
 * recursively).  QEMU's query-pci nests three levels per bridge (device,
 * pci_bridge, devices), and a guest has far fewer than 32 bridge levels.
 */
#define QMP_DEPTH_MAX 128
/* Bridges below a root bus that the query-pci walk descends through. */
#define QMP_BRIDGES_MAX 32
/* Events kept for xpci__qmp_wait_event; the oldest go first. */
#define QMP_EVENTS_MAX 64

struct qmp_event {
    char *name;
    char *device; /* data.device, or NULL */
};

struct xpci__qmp {
    int fd;
    char *buf; /* received bytes not yet consumed */
    size_t len, alloc;
    long long next_id;
    struct qmp_event events[QMP_EVENTS_MAX];
    unsigned n_events;
};

static void yajl_tree_freep(yajl_val *v)
{
    if (*v)
        yajl_tree_free(*v);
}
#define _cleanup_yajl_ _cleanup_(yajl_tree_freep)

static void yajl_gen_freep(yajl_gen *g)
{
    if (*g)
        yajl_gen_free(*g);
}
#define _cleanup_gen_ _cleanup_(yajl_gen_freep)

static void set_err(char **err_r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(char **err_r, const char *fmt, ...)
{
    va_list ap;
    char *s;

    if (!err_r)
        return;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    free(*err_r);
    *err_r = s;
}

/* ---- deadlines ---- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Absolute deadline of a call, -1 for none. */
static int64_t deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* What is left for poll(2): -1 (no limit), or 0.. milliseconds. */
static int remaining_ms(int64_t deadline)
{
    int64_t left;

    if (deadline < 0)
        return -1;
    left = deadline - now_ms();
    if (left <= 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Wait for events on the socket until the deadline; 0, -ETIMEDOUT or
 * -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int r;

    for (;;) {
        r = poll(&pfd, 1, remaining_ms(deadline));
        if (r > 0)
            return 0;
        if (r == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

/* ---- JSON ---- */

/* Emit a parsed value again (numbers verbatim, strings re-escaped). */
static int gen_value(yajl_gen g, yajl_val v)
{
    yajl_gen_status s = yajl_gen_status_ok;

    if (!v)
        return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -ENOMEM;
    switch (v->type) {
    case yajl_t_string:
        s = yajl_gen_string(g, (const unsigned char *)v->u.string,
                            strlen(v->u.string));
        break;
    case yajl_t_number:
        s = yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        break;
    case yajl_t_object:
        s = yajl_gen_map_open(g);
        for (size_t i = 0; s == yajl_gen_status_ok && i < v->u.object.len;
             i++) {
            const char *k = v->u.object.keys[i];

            s = yajl_gen_string(g, (const unsigned char *)k, strlen(k));
            if (s == yajl_gen_status_ok && gen_value(g, v->u.object.values[i]))
                return -ENOMEM;
        }
        if (s == yajl_gen_status_ok)
            s = yajl_gen_map_close(g);
        break;
    case yajl_t_array:
        s = yajl_gen_array_open(g);
        for (size_t i = 0; s == yajl_gen_status_ok && i < v->u.array.len; i++)
            if (gen_value(g, v->u.array.values[i]))
                return -ENOMEM;
        if (s == yajl_gen_status_ok)
            s = yajl_gen_array_close(g);
        break;
    case yajl_t_true:
        s = yajl_gen_bool(g, 1);
        break;
    case yajl_t_false:
        s = yajl_gen_bool(g, 0);
        break;
    default:
        s = yajl_gen_null(g);
        break;
    }
    return s == yajl_gen_status_ok ? 0 : -ENOMEM;
}

/* The generator's text as a malloc'd string. */
static int gen_take(yajl_gen g, char **text_r)
{
    const unsigned char *out;
    size_t len;
    char *s;

    if (yajl_gen_get_buf(g, &out, &len) != yajl_gen_status_ok)
        return -ENOMEM;
    s = strndup((const char *)out, len);
    if (!s)
        return -ENOMEM;
    *text_r = s;
    return 0;
}

static int gen_str(yajl_gen g, const char *s)
{
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) ==
                   yajl_gen_status_ok
               ? 0
               : -ENOMEM;
}

static int value_text(yajl_val v, char **text_r)
{
    _cleanup_gen_ yajl_gen g = yajl_gen_alloc(NULL);
    int rc;

    if (!g)
        return -ENOMEM;
    rc = gen_value(g, v);
    if (rc < 0)
        return rc;
    return gen_take(g, text_r);
}

static yajl_val get(yajl_val v, const char *key, yajl_type type)
{
    const char *path[] = {key, NULL};

    return yajl_tree_get(v, path, type);
}

static const char *get_str(yajl_val v, const char *key)
{
    return YAJL_GET_STRING(get(v, key, yajl_t_string));
}

/* ---- the wire ---- */

static int send_all(struct xpci__qmp *q, const char *data, size_t len,
                    int64_t deadline, char **err_r)
{
    while (len) {
        ssize_t n = send(q->fd, data, len, MSG_NOSIGNAL);
        int rc;

        if (n >= 0) {
            data += n;
            len -= n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            rc = -errno;
            set_err(err_r, "sending to QMP: %s", strerror(-rc));
            return rc;
        }
        rc = wait_fd(q->fd, POLLOUT, deadline);
        if (rc < 0) {
            set_err(err_r, "sending to QMP: %s", strerror(-rc));
            return rc;
        }
    }
    return 0;
}

/* Is there nothing but whitespace in s[0..len)? */
static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n", s[i]))
            return false;
    return true;
}

/*
 * Is the nesting of arrays and objects in the JSON text s[0..len) at most
 * QMP_DEPTH_MAX deep?  Brackets inside strings do not count; the text need
 * not be valid JSON (yajl judges that afterwards).
 */
static bool depth_ok(const char *s, size_t len)
{
    unsigned depth = 0;
    bool in_str = false;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > QMP_DEPTH_MAX)
                return false;
        } else if ((c == '}' || c == ']') && depth) {
            depth--;
        }
    }
    return true;
}

/*
 * Take the next complete line out of the buffer and parse it.  Returns 1
 * with *msg_r set, 0 when no complete line is buffered yet, -EPROTO when
 * the server sent something that is not a JSON object (a human monitor,
 * say), which is known as soon as its first character arrives.
 */
static int take_message(struct xpci__qmp *q, yajl_val *msg_r, char **err_r)
{
    char *nl;
    size_t skip = 0;
    yajl_val v;

    for (;;) {
        if (skip == q->len) {
            /* nothing but blanks (q->buf may still be NULL) */
            q->len = 0;
            return 0;
        }
        while (skip < q->len && strchr(" \t\r\n", q->buf[skip]))
            skip++;
        if (skip < q->len && q->buf[skip] != '{') {
            /* not NUL-terminated: print at most what was received */
            int n = q->len - skip < 40 ? (int)(q->len - skip) : 40;

            set_err(err_r, "not QMP: the server sent \"%.*s\"", n,
                    q->buf + skip);
            return -EPROTO;
        }
        nl = memchr(q->buf + skip, '\n', q->len - skip);
        if (!nl) {
            memmove(q->buf, q->buf + skip, q->len - skip);
            q->len -= skip;
            return 0;
        }
        *nl = '\0';
        if (!blank(q->buf + skip, nl - (q->buf + skip)))
            break;
        skip = nl + 1 - q->buf;
    }
    if (!depth_ok(q->buf + skip, nl - (q->buf + skip))) {
        set_err(err_r, "QMP message nested deeper than %d levels",
                QMP_DEPTH_MAX);
        v = NULL;
    } else {
        v = yajl_tree_parse(q->buf + skip, NULL, 0);
        if (!v || !YAJL_IS_OBJECT(v))
            set_err(err_r, "not QMP: unparsable message \"%.60s\"",
                    q->buf + skip);
    }
    /* the line is used up either way: the next one may be fine */
    q->len -= nl + 1 - q->buf;
    memmove(q->buf, nl + 1, q->len);
    if (!v || !YAJL_IS_OBJECT(v)) {
        if (v)
            yajl_tree_free(v);
        return -EPROTO;
    }
    *msg_r = v;
    return 1;
}

/* Next message from the server, waiting until the deadline. */
static int read_message(struct xpci__qmp *q, int64_t deadline, yajl_val *msg_r,
                        char **err_r)
{
    int rc;

    for (;;) {
        ssize_t n;

        rc = take_message(q, msg_r, err_r);
        if (rc)
            return rc < 0 ? rc : 0;
        if (q->alloc - q->len < 4096) {
            size_t alloc = q->alloc ? q->alloc * 2 : 8192;
            char *b;

            if (alloc > QMP_LINE_MAX) {
                set_err(err_r, "QMP message longer than %u bytes",
                        QMP_LINE_MAX);
                return -EPROTO;
            }
            b = realloc(q->buf, alloc);
            if (!b)
                return -ENOMEM;
            q->buf = b;
            q->alloc = alloc;
        }
        n = recv(q->fd, q->buf + q->len, q->alloc - q->len, 0);
        if (n > 0) {
            q->len += n;
            continue;
        }
        if (n == 0) {
            set_err(err_r, "the device model closed the QMP connection");
            return -ECONNRESET;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            rc = -errno;
            set_err(err_r, "reading QMP: %s", strerror(-rc));
            return rc;
        }
        rc = wait_fd(q->fd, POLLIN, deadline);
        if (rc == -ETIMEDOUT) {
            set_err(err_r, "the device model did not answer in time");
            return rc;
        }
        if (rc < 0) {
            set_err(err_r, "waiting for QMP: %s", strerror(-rc));
            return rc;
        }
    }
}

/* ---- events ---- */

static bool event_matches(const char *name, const char *device,
                          const char *event, const char *want_device)
{
    if (strcmp(name, event))
        return false;
    return !want_device || (device && !strcmp(device, want_device));
}

static void event_drop(struct xpci__qmp *q, unsigned i)
{
    free(q->events[i].name);
    free(q->events[i].device);
    q->n_events--;
    memmove(&q->events[i], &q->events[i + 1],
            (q->n_events - i) * sizeof(q->events[0]));
}

/* Keep an event for a later xpci__qmp_wait_event. */
static int event_keep(struct xpci__qmp *q, yajl_val msg)
{
    const char *name = get_str(msg, "event");
    const char *path[] = {"data", "device", NULL};
    const char *device =
        YAJL_GET_STRING(yajl_tree_get(msg, path, yajl_t_string));
    struct qmp_event e = {0};

    if (!name)
        return 0;
    e.name = strdup(name);
    e.device = device ? strdup(device) : NULL;
    if (!e.name || (device && !e.device)) {
        free(e.name);
        free(e.device);
        return -ENOMEM;
    }
    if (q->n_events == QMP_EVENTS_MAX)
        event_drop(q, 0);
    q->events[q->n_events++] = e;
    return 0;
}

/* ---- commands ---- */

/*
 * Send command with arguments args (a parsed object, or NULL) and wait for
 * its answer.  On success *ret_r (may be NULL) gets the "return" value, to
 * be freed with the message it belongs to (*msg_r).  On an error answer,
 * -EIO, *class_r (may be NULL) a copy of the error class.
 */
static int run(struct xpci__qmp *q, const char *command, yajl_val args,
               int64_t deadline, yajl_val *msg_r, yajl_val *ret_r,
               char **class_r, char **err_r)
{
    _cleanup_gen_ yajl_gen g = yajl_gen_alloc(NULL);
    _cleanup_free_ char *line = NULL;
    _cleanup_free_ char *text = NULL;
    long long id = ++q->next_id;
    int rc;

    if (!g)
        return -ENOMEM;
    if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
        gen_str(g, "execute") < 0 || gen_str(g, command) < 0)
        return -ENOMEM;
    if (args && (gen_str(g, "arguments") < 0 || gen_value(g, args) < 0))
        return -ENOMEM;
    if (gen_str(g, "id") < 0 || yajl_gen_integer(g, id) != yajl_gen_status_ok ||
        yajl_gen_map_close(g) != yajl_gen_status_ok)
        return -ENOMEM;
    rc = gen_take(g, &text);
    if (rc < 0)
        return rc;
    line = xpci__sprintf("%s\n", text);
    if (!line)
        return -ENOMEM;
    rc = send_all(q, line, strlen(line), deadline, err_r);
    if (rc < 0)
        return rc;

    for (;;) {
        _cleanup_yajl_ yajl_val msg = NULL;
        yajl_val msg_id, err, ret;

        rc = read_message(q, deadline, &msg, err_r);
        if (rc < 0)
            return rc;
        if (get(msg, "event", yajl_t_string)) {
            rc = event_keep(q, msg);
            if (rc < 0)
                return rc;
            continue;
        }
        /*
         * The answer to an earlier command that gave up waiting has a
         * smaller id: skip it.  An error without any id is QEMU refusing
         * a line it could not parse, so it must be about this command.
         */
        msg_id = get(msg, "id", yajl_t_any);
        err = get(msg, "error", yajl_t_object);
        if (msg_id ? !YAJL_IS_INTEGER(msg_id) || YAJL_GET_INTEGER(msg_id) != id
                   : !err)
            continue;
        if (err) {
            const char *cls = get_str(err, "class");
            const char *desc = get_str(err, "desc");

            set_err(err_r, "%s: %s", cls ? cls : "GenericError",
                    desc ? desc : "(no description)");
            if (class_r) {
                *class_r = strdup(cls ? cls : "");
                if (!*class_r)
                    return -ENOMEM;
            }
            return -EIO;
        }
        ret = get(msg, "return", yajl_t_any);
        if (!ret) {
            set_err(err_r, "QMP answer to %s has neither return nor error",
                    command);
            return -EPROTO;
        }
        if (ret_r)
            *ret_r = ret;
        *msg_r = TAKE_PTR(msg);
        return 0;
    }
}

/* Read the greeting of the server at where, negotiate capabilities. */
static int handshake(struct xpci__qmp *q, const char *where, int64_t deadline,
                     char **err_r)
{
    _cleanup_yajl_ yajl_val greeting = NULL;
    _cleanup_yajl_ yajl_val reply = NULL;
    int rc;

    rc = read_message(q, deadline, &greeting, err_r);
    if (rc < 0) {
        if (rc == -ETIMEDOUT)
            set_err(err_r, "no QMP greeting on %s in time", where);
        return rc;
    }
    if (!get(greeting, "QMP", yajl_t_object)) {
        set_err(err_r, "%s: first message is not a QMP greeting", where);
        return -EPROTO;
    }
    return run(q, "qmp_capabilities", NULL, deadline, &reply, NULL, NULL,
               err_r);
}

static int qmp_open(const char *path, int timeout_ms, struct xpci__qmp **q_r,
                    char **err_r)
{
    int64_t deadline = deadline_of(timeout_ms);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct xpci__qmp *q;
    int rc;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        set_err(err_r, "QMP socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (q->fd < 0) {
        rc = -errno;
        goto fail;
    }
    /*
     * A unix socket connects at once or not at all; EAGAIN means the
     * server's backlog is full.  QEMU accepts one monitor client at a
     * time, so a second client sits in the backlog and only sees the
     * greeting once the first one leaves: the deadline covers that.
     */
    if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        set_err(err_r, "connecting to %s: %s", path, strerror(-rc));
        goto fail;
    }

    rc = handshake(q, path, deadline, err_r);
    if (rc < 0)
        goto fail;
    *q_r = q;
    return 0;

fail:
    xpci__qmp_close(q);
    return rc;
}

static int qmp_open_fd(int fd, int timeout_ms, struct xpci__qmp **q_r,
                       char **err_r)
{
    struct xpci__qmp *q = calloc(1, sizeof(*q));
    int rc;

    if (!q)
        return -ENOMEM;
    q->fd = fd;
    rc = handshake(q, "QMP", deadline_of(timeout_ms), err_r);
    if (rc < 0) {
        q->fd = -1; /* the caller's */
        xpci__qmp_close(q);
        return rc;
    }
    *q_r = q;
    return 0;
}

void xpci__qmp_close(struct xpci__qmp *q)
{
    if (!q)
        return;
    if (q->fd >= 0)
        close(q->fd);
    while (q->n_events)
        event_drop(q, q->n_events - 1);
    free(q->buf);
    free(q);
}

static int qmp_command(struct xpci__qmp *q, const char *command,
                       const char *args_json, int timeout_ms, char **ret_r,
                       char **err_r)
{
    _cleanup_yajl_ yajl_val args = NULL;
    _cleanup_yajl_ yajl_val reply = NULL;
    yajl_val ret = NULL;
    char errbuf[128] = "";
    char *text;
    int rc;

    if (args_json) {
        args = yajl_tree_parse(args_json, errbuf, sizeof(errbuf));
        if (!args || !YAJL_IS_OBJECT(args)) {
            set_err(err_r, "%s: arguments are not a JSON object", command);
            return -EINVAL;
        }
    }
    rc = run(q, command, args, deadline_of(timeout_ms), &reply, &ret, NULL,
             err_r);
    if (rc < 0)
        return rc;
    if (ret_r) {
        rc = value_text(ret, &text);
        if (rc < 0)
            return rc;
        *ret_r = text;
    }
    return 0;
}

static int wait_event(struct xpci__qmp *q, const char *event,
                      const char *device, int timeout_ms, char **err_r)
{
    int64_t deadline = deadline_of(timeout_ms);
    int rc;

    for (unsigned i = 0; i < q->n_events; i++)
        if (event_matches(q->events[i].name, q->events[i].device, event,
                          device)) {
            event_drop(q, i);
            return 0;
        }

    for (;;) {
        _cleanup_yajl_ yajl_val msg = NULL;
        const char *name;
        const char *path[] = {"data", "device", NULL};

        rc = read_message(q, deadline, &msg, err_r);
        if (rc == -ETIMEDOUT)
            set_err(err_r, "no %s event%s%s in time", event,
                    device ? " for " : "", device ? device : "");
        if (rc < 0)
            return rc;
        name = get_str(msg, "event");
        if (!name)
            continue; /* a late answer to a command that gave up */
        if (event_matches(
                name, YAJL_GET_STRING(yajl_tree_get(msg, path, yajl_t_string)),
                event, device))
            return 0;
        rc = event_keep(q, msg);
        if (rc < 0)
            return rc;
    }
}

/* ---- xen-pci-passthrough ---- */

void xpci__qmp_pt_id(const struct xpci_bdf *bdf, char *buf)
{
    snprintf(buf, XPCI__QMP_PT_ID_LEN, XPCI__QMP_PT_ID_FMT, bdf->bus, bdf->dev,
             bdf->func);
}

int xpci__qmp_pt_add_args(const struct xpci_bdf *bdf, int vdevfn,
                          bool permissive, char **json_r)
{
    _cleanup_gen_ yajl_gen g = yajl_gen_alloc(NULL);
    char id[XPCI__QMP_PT_ID_LEN], host[XPCI_BDF_STRLEN], addr[8];

    if (vdevfn > 0xff)
        return -EINVAL;
    if (!g)
        return -ENOMEM;
    xpci__qmp_pt_id(bdf, id);
    xpci_bdf_format(bdf, host);
    if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
        gen_str(g, "driver") < 0 || gen_str(g, "xen-pci-passthrough") < 0 ||
        gen_str(g, "id") < 0 || gen_str(g, id) < 0 ||
        gen_str(g, "hostaddr") < 0 || gen_str(g, host) < 0)
        return -ENOMEM;
    if (vdevfn >= 0) {
        /* libxl: "%x.%x" of PCI_SLOT and PCI_FUNC */
        snprintf(addr, sizeof(addr), "%x.%x", vdevfn >> 3, vdevfn & 7);
        if (gen_str(g, "addr") < 0 || gen_str(g, addr) < 0)
            return -ENOMEM;
    }
    /*
     * Only ever "true": a device model older than the permissive property
     * (XSA-131) rejects it, and was permissive anyway.
     */
    if (permissive && (gen_str(g, "permissive") < 0 ||
                       yajl_gen_bool(g, 1) != yajl_gen_status_ok))
        return -ENOMEM;
    if (yajl_gen_map_close(g) != yajl_gen_status_ok)
        return -ENOMEM;
    return gen_take(g, json_r);
}

/*
 * Look for qdev id in a list of query-pci devices, descending into the
 * devices behind bridges ("pci_bridge": {"bus": ..., "devices": [...]}).
 * QEMU finds those by the secondary bus number the guest firmware gave
 * the bridge, so before the firmware has run (-S) it lists none of them;
 * xen-pci-passthrough devices sit on the root bus and are always listed.
 * Returns 1 with *vdevfn_r, 0 when absent, -EPROTO on a malformed list
 * or one nested more than QMP_BRIDGES_MAX bridges deep (depth: the
 * bridges above this list).
 */
static int find_in_devices(yajl_val devices, const char *id, unsigned depth,
                           int *vdevfn_r)
{
    for (size_t i = 0; i < devices->u.array.len; i++) {
        yajl_val dev = devices->u.array.values[i];
        yajl_val slot, func, bridge, below;
        const char *qdev_id;
        int rc;

        if (!YAJL_IS_OBJECT(dev))
            return -EPROTO;
        qdev_id = get_str(dev, "qdev_id");
        if (qdev_id && !strcmp(qdev_id, id)) {
            slot = get(dev, "slot", yajl_t_number);
            func = get(dev, "function", yajl_t_number);
            if (!YAJL_IS_INTEGER(slot) || !YAJL_IS_INTEGER(func) ||
                YAJL_GET_INTEGER(slot) < 0 || YAJL_GET_INTEGER(slot) > 31 ||
                YAJL_GET_INTEGER(func) < 0 || YAJL_GET_INTEGER(func) > 7)
                return -EPROTO;
            *vdevfn_r =
                (int)(YAJL_GET_INTEGER(slot) << 3 | YAJL_GET_INTEGER(func));
            return 1;
        }
        bridge = get(dev, "pci_bridge", yajl_t_object);
        below = bridge ? get(bridge, "devices", yajl_t_array) : NULL;
        if (below) {
            if (depth >= QMP_BRIDGES_MAX)
                return -EPROTO;
            rc = find_in_devices(below, id, depth + 1, vdevfn_r);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int pt_find(struct xpci__qmp *q, const char *id, int64_t deadline,
                   int *vdevfn_r, char **err_r)
{
    _cleanup_yajl_ yajl_val reply = NULL;
    yajl_val buses = NULL;
    int vdevfn = -1;
    int rc;

    rc = run(q, "query-pci", NULL, deadline, &reply, &buses, NULL, err_r);
    if (rc < 0)
        return rc;
    if (!YAJL_IS_ARRAY(buses))
        goto bad;
    for (size_t i = 0; i < buses->u.array.len; i++) {
        yajl_val devices =
            get(buses->u.array.values[i], "devices", yajl_t_array);

        if (!devices)
            goto bad;
        rc = find_in_devices(devices, id, 0, &vdevfn);
        if (rc < 0)
            goto bad;
        if (rc > 0) {
            *vdevfn_r = vdevfn;
            return 1;
        }
    }
    return 0;

bad:
    set_err(err_r, "unexpected answer to query-pci");
    return -EPROTO;
}

static int pt_find_bdf(struct xpci__qmp *q, const struct xpci_bdf *bdf,
                       int timeout_ms, int *vdevfn_r, char **err_r)
{
    char id[XPCI__QMP_PT_ID_LEN];
    int vdevfn;
    int rc;

    xpci__qmp_pt_id(bdf, id);
    rc = pt_find(q, id, deadline_of(timeout_ms), &vdevfn, err_r);
    if (rc > 0 && vdevfn_r)
        *vdevfn_r = vdevfn;
    return rc;
}

static int pt_add(struct xpci__qmp *q, const struct xpci_bdf *bdf, int vdevfn,
                  bool permissive, int timeout_ms, int *vdevfn_r, char **err_r)
{
    int64_t deadline = deadline_of(timeout_ms);
    _cleanup_free_ char *args_text = NULL;
    _cleanup_yajl_ yajl_val args = NULL;
    _cleanup_yajl_ yajl_val reply = NULL;
    char id[XPCI__QMP_PT_ID_LEN];
    int found;
    int rc;

    rc = xpci__qmp_pt_add_args(bdf, vdevfn, permissive, &args_text);
    if (rc < 0)
        return rc;
    args = yajl_tree_parse(args_text, NULL, 0);
    if (!args)
        return -ENOMEM;
    rc = run(q, "device_add", args, deadline, &reply, NULL, NULL, err_r);
    if (rc < 0)
        return rc;

    xpci__qmp_pt_id(bdf, id);
    rc = pt_find(q, id, deadline, &found, err_r);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        set_err(err_r, "%s was added but query-pci does not list it", id);
        return -ENODEV;
    }
    if (vdevfn_r)
        *vdevfn_r = found;
    return 0;
}

/* How often a device_del is checked with query-pci, as libxl does. */
#define PT_DEL_POLL_MS 1000

static int pt_del(struct xpci__qmp *q, const struct xpci_bdf *bdf,
                  int timeout_ms, char **err_r)
{
    int64_t deadline = deadline_of(timeout_ms);
    _cleanup_yajl_ yajl_val args = NULL;
    _cleanup_yajl_ yajl_val reply = NULL;
    _cleanup_free_ char *args_text = NULL;
    _cleanup_free_ char *cls = NULL;
    char id[XPCI__QMP_PT_ID_LEN];
    int vdevfn;
    int rc;

    xpci__qmp_pt_id(bdf, id);
    rc = pt_find(q, id, deadline, &vdevfn, err_r);
    if (rc <= 0)
        return rc; /* absent: nothing to delete */

    args_text = xpci__sprintf("{\"id\":\"%s\"}", id);
    if (!args_text)
        return -ENOMEM;
    args = yajl_tree_parse(args_text, NULL, 0);
    if (!args)
        return -ENOMEM;
    rc = run(q, "device_del", args, deadline, &reply, NULL, &cls, err_r);
    if (rc == -EIO && cls && !strcmp(cls, "DeviceNotFound"))
        return 0; /* gone between query-pci and device_del */
    if (rc < 0)
        return rc;

    /*
     * device_del only asks: the device goes once the guest has ejected
     * it (ACPI or PCIe native hotplug), which QEMU reports with
     * DEVICE_DELETED.  Without a guest OS nothing ever arrives.  libxl
     * polls query-pci once a second until the device is gone
     * (pci_remove_qmp_query_cb); take whichever says so first.
     */
    for (;;) {
        int left = remaining_ms(deadline);

        rc = wait_event(q, "DEVICE_DELETED", id,
                        left < 0 || left > PT_DEL_POLL_MS ? PT_DEL_POLL_MS
                                                          : left,
                        err_r);
        if (rc != -ETIMEDOUT || remaining_ms(deadline) == 0)
            break;
        rc = pt_find(q, id, deadline, &vdevfn, err_r);
        if (rc <= 0)
            break;
    }
    if (rc == 0)
        return 0;
    /* Asked, and not taken back: the guest may still eject it. */
    if (rc == -ETIMEDOUT)
        set_err(err_r, "the guest has not released %s yet; its unplug "
                       "request stands", id);
    else
        set_err(err_r, "device_del of %s was sent, then: %s; its unplug "
                       "request stands", id, strerror(-rc));
    return -EINPROGRESS;
}

/* ---- entry points: *err_r is written on failure only ---- */

/* Hand the message of a failed call to the caller, or drop it. */
static int finish(int rc, char *msg, char **err_r)
{
    if (rc < 0 && err_r)
        *err_r = msg ? msg : strdup(strerror(-rc));
    else
        free(msg);
    return rc;
}

int xpci__qmp_open(const char *path, int timeout_ms, struct xpci__qmp **q_r,
                   char **err_r)
{
    char *msg = NULL;
    int rc = qmp_open(path, timeout_ms, q_r, &msg);

    return finish(rc, msg, err_r);
}

int xpci__qmp_open_fd(int fd, int timeout_ms, struct xpci__qmp **q_r,
                      char **err_r)
{
    char *msg = NULL;
    int rc = qmp_open_fd(fd, timeout_ms, q_r, &msg);

    return finish(rc, msg, err_r);
}

int xpci__qmp_command(struct xpci__qmp *q, const char *cmd,
                      const char *args_json, int timeout_ms, char **ret_r,
                      char **err_r)
{
    char *msg = NULL;
    int rc = qmp_command(q, cmd, args_json, timeout_ms, ret_r, &msg);

    return finish(rc, msg, err_r);
}

int xpci__qmp_wait_event(struct xpci__qmp *q, const char *event,
                         const char *device, int timeout_ms, char **err_r)
{
    char *msg = NULL;
    int rc = wait_event(q, event, device, timeout_ms, &msg);

    return finish(rc, msg, err_r);
}

int xpci__qmp_pt_find(struct xpci__qmp *q, const struct xpci_bdf *bdf,
                      int timeout_ms, int *vdevfn_r, char **err_r)
{
    char *msg = NULL;
    int rc = pt_find_bdf(q, bdf, timeout_ms, vdevfn_r, &msg);

    return finish(rc, msg, err_r);
}

int xpci__qmp_pt_add(struct xpci__qmp *q, const struct xpci_bdf *bdf,
                     int vdevfn, bool permissive, int timeout_ms, int *vdevfn_r,
                     char **err_r)
{
    char *msg = NULL;
    int rc = pt_add(q, bdf, vdevfn, permissive, timeout_ms, vdevfn_r, &msg);

    return finish(rc, msg, err_r);
}

int xpci__qmp_pt_del(struct xpci__qmp *q, const struct xpci_bdf *bdf,
                     int timeout_ms, char **err_r)
{
    char *msg = NULL;
    int rc = pt_del(q, bdf, timeout_ms, &msg);

    return finish(rc, msg, err_r);
}
