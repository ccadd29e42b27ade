/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xs_xenstore.c - the xenstore backend over libxenstore.  The only file of
 * the library that includes <xenstore.h>; libxenstore's NULL/false + errno
 * results become -errno here, once.  Nothing here logs.
 */
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include <xenstore.h>

#include "xpci-internal.h"

/* The errno of a failed libxenstore call as -errno (never 0). */
static int neg_errno(void)
{
    return errno > 0 ? -errno : -EIO;
}

static int xs_txn_start(void *priv, uint32_t *txn_r)
{
    xs_transaction_t t = xs_transaction_start(priv);

    if (t == XBT_NULL)
        return neg_errno();
    *txn_r = t;
    return 0;
}

/*
 * A commit that lost a race fails with EAGAIN (xenstored's
 * XS_TRANSACTION_END answers "EAGAIN" when a node the transaction touched
 * changed meanwhile); the caller redoes the whole transaction.
 */
static int xs_txn_end(void *priv, uint32_t txn, bool abort)
{
    if (!xs_transaction_end(priv, txn, abort))
        return neg_errno();
    return 0;
}

static int xs_read_node(void *priv, uint32_t txn, const char *path,
                        char **val_r)
{
    unsigned len;
    char *val = xs_read(priv, txn, path, &len);

    /* libxenstore NUL-terminates what it hands out. */
    if (!val)
        return neg_errno();
    *val_r = val;
    return 0;
}

static int xs_write_node(void *priv, uint32_t txn, const char *path,
                         const char *val)
{
    if (!xs_write(priv, txn, path, val, strlen(val)))
        return neg_errno();
    return 0;
}

static int xs_mkdir_node(void *priv, uint32_t txn, const char *path)
{
    if (!xs_mkdir(priv, txn, path))
        return neg_errno();
    return 0;
}

static int xs_rm_node(void *priv, uint32_t txn, const char *path)
{
    if (!xs_rm(priv, txn, path))
        return neg_errno();
    return 0;
}

/* libxenstore returns one block (array and strings); ours is an array of
 * separately malloc'd strings. */
static int xs_dir(void *priv, uint32_t txn, const char *path, char ***names_r,
                  unsigned *n_r)
{
    _cleanup_free_ char **dir = NULL;
    char **names;
    unsigned n;

    dir = xs_directory(priv, txn, path, &n);
    if (!dir)
        return neg_errno();
    names = calloc(n + 1, sizeof(*names));
    if (!names)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        names[i] = strdup(dir[i]);
        if (!names[i]) {
            xpci__strv_free(names, i);
            return -ENOMEM;
        }
    }
    *names_r = names;
    *n_r = n;
    return 0;
}

static unsigned perms_from_xs(unsigned p)
{
    return (p & XS_PERM_READ ? XPCI_XS_PERM_READ : 0) |
           (p & XS_PERM_WRITE ? XPCI_XS_PERM_WRITE : 0);
}

static unsigned perms_to_xs(unsigned p)
{
    return (p & XPCI_XS_PERM_READ ? XS_PERM_READ : 0) |
           (p & XPCI_XS_PERM_WRITE ? XS_PERM_WRITE : 0);
}

static int xs_get_perms(void *priv, uint32_t txn, const char *path,
                        struct xpci_xs_perm **perms_r, unsigned *n_r)
{
    _cleanup_free_ struct xs_permissions *xp = NULL;
    struct xpci_xs_perm *perms;
    unsigned n;

    xp = xs_get_permissions(priv, txn, path, &n);
    if (!xp)
        return neg_errno();
    perms = calloc(n ? n : 1, sizeof(*perms));
    if (!perms)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        perms[i].domid = xp[i].id;
        perms[i].perms = perms_from_xs(xp[i].perms);
    }
    *perms_r = perms;
    *n_r = n;
    return 0;
}

static int xs_set_perms(void *priv, uint32_t txn, const char *path,
                        const struct xpci_xs_perm *perms, unsigned n)
{
    _cleanup_free_ struct xs_permissions *xp = NULL;

    if (n == 0)
        return -EINVAL;
    xp = calloc(n, sizeof(*xp));
    if (!xp)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        xp[i].id = perms[i].domid;
        xp[i].perms = perms_to_xs(perms[i].perms);
    }
    if (!xs_set_permissions(priv, txn, path, xp, n))
        return neg_errno();
    return 0;
}

static int xs_watch_node(void *priv, const char *path, const char *token)
{
    if (!xs_watch(priv, path, token))
        return neg_errno();
    return 0;
}

static int xs_unwatch_node(void *priv, const char *path, const char *token)
{
    if (!xs_unwatch(priv, path, token))
        return neg_errno();
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * libxenstore queues watch events from its reader thread and keeps one
 * byte in the pipe behind xs_fileno() while the queue is not empty, so
 * poll() on that fd followed by the non-blocking xs_check_watch() waits
 * without a thread of our own.  xs_check_watch() may find the queue empty
 * after a wakeup (EAGAIN); then wait again for what is left of the time.
 */
static int xs_wait_watch(void *priv, int timeout_ms, char **path_r,
                         char **token_r)
{
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    int fd = xs_fileno(priv);

    if (fd < 0)
        return neg_errno();
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        _cleanup_free_ char **ev = NULL;
        int left = -1, r;

        ev = xs_check_watch(priv);
        if (ev) {
            char *path = strdup(ev[XS_WATCH_PATH]);
            char *token = strdup(ev[XS_WATCH_TOKEN]);

            if (!path || !token) {
                free(path);
                free(token);
                return -ENOMEM;
            }
            *path_r = path;
            *token_r = token;
            return 0;
        }
        if (errno != EAGAIN)
            return neg_errno();

        if (deadline >= 0) {
            int64_t rest = deadline - now_ms();

            if (rest <= 0)
                return -ETIMEDOUT;
            left = rest > 0x7fffffff ? 0x7fffffff : (int)rest;
        }
        r = poll(&pfd, 1, left);
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r == 0)
            return -ETIMEDOUT;
        if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
            return -ECONNRESET;
    }
}

static void xs_close_handle(void *priv)
{
    xs_close(priv);
}

static const struct xpci_xs_ops xenstore_ops = {
    .close = xs_close_handle,
    .txn_start = xs_txn_start,
    .txn_end = xs_txn_end,
    .read = xs_read_node,
    .write = xs_write_node,
    .mkdir = xs_mkdir_node,
    .rm = xs_rm_node,
    .directory = xs_dir,
    .get_perms = xs_get_perms,
    .set_perms = xs_set_perms,
    .watch = xs_watch_node,
    .unwatch = xs_unwatch_node,
    .wait_watch = xs_wait_watch,
};

/*
 * Connect to xenstored: its socket (XENSTORED_PATH / XENSTORED_RUNDIR,
 * else /var/run/xenstored/socket) or, failing that, the xenbus device of
 * the dom0 kernel, which is how a xenstore stub domain is reached.
 * XS_UNWATCH_FILTER drops events of a watch already removed, so a finished
 * wait never leaves a stale event behind for the next one.
 */
int xpci__xs_xenstore_open(const struct xpci_xs_ops **ops_r, void **priv_r,
                           char **why_r)
{
    struct xs_handle *xsh = xs_open(XS_UNWATCH_FILTER);

    if (!xsh) {
        int r = neg_errno();

        *why_r = xpci__sprintf("xenstore unavailable: cannot connect to "
                               "xenstored (%s)",
                               strerror(-r));
        return *why_r ? r : -ENOMEM;
    }
    *ops_r = &xenstore_ops;
    *priv_r = xsh;
    return 0;
}
