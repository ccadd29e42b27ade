/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xs.c - xenstore helpers over the context's ops table: node reads, the
 * transaction-retry runner, waiting for a node with a watch and a
 * deadline, and the readers of what libxl keeps in xenstore about PCI
 * devices (its records of assignable functions under /libxl/pci and the
 * PCI backend of each guest).  No <xenstore.h> here: everything goes
 * through ctx->xs, so an in-memory store and the real daemon run the same
 * code.  Helpers return -errno and never log.
 */
#include <stdio.h>
#include <time.h>

#include "xpci-internal.h"

/* Keys of a guest's PCI backend (written by libxl; vdev-N, root-N by
 * pciback).  See libxl_create_pci_backend_device() in Xen's
 * tools/libs/light/libxl_pci.c. */
#define BACK_NUM_DEVS "num_devs"
#define BACK_DEV_FMT "%s/dev-%u"
#define BACK_VDEVFN_FMT "%s/vdevfn-%u"
#define BACK_STATE_FMT "%s/state-%u"
#define BACK_OPTS_FMT "%s/opts-%u"
#define BACK_VDEV_FMT "%s/vdev-%u"
#define BACK_NAME_FMT "%s/name-%u"
/* More entries than any backend has; a larger num_devs is garbage. */
#define BACK_MAX_DEVS 256

#define XS_PATH_MAX 256

int xpci__xs_read(xpci_ctx *ctx, uint32_t txn, const char *path, char **val_r)
{
    if (!ctx->xs)
        return -ENOTCONN;
    return ctx->xs->read(ctx->xs_priv, txn, path, val_r);
}

/* Read a node that may be absent: 0 with *val_r NULL when it is. */
static int read_opt(xpci_ctx *ctx, uint32_t txn, const char *path, char **val_r)
{
    int r = xpci__xs_read(ctx, txn, path, val_r);

    if (r == -ENOENT) {
        *val_r = NULL;
        return 0;
    }
    return r;
}

/* Whole-string unsigned number in base; -EINVAL otherwise. */
static int parse_ulong(const char *s, int base, unsigned long max,
                       unsigned long *val_r)
{
    unsigned long v;
    char *end;

    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, base);
    if (errno || *end || v > max)
        return -EINVAL;
    *val_r = v;
    return 0;
}

/* ------------------------------------------------------- transactions */

int xpci__xs_txn_run(xpci_ctx *ctx,
                     int (*fn)(xpci_ctx *, uint32_t txn, void *arg), void *arg)
{
    const struct xpci_xs_ops *xs = ctx->xs;

    if (!xs)
        return -ENOTCONN;
    if (!xs->txn_start || !xs->txn_end)
        return fn(ctx, XPCI_XS_NO_TXN, arg);

    for (unsigned attempt = 0; attempt < XPCI__XS_TXN_ATTEMPTS; attempt++) {
        uint32_t txn;
        int r, rc;

        r = xs->txn_start(ctx->xs_priv, &txn);
        if (r < 0)
            return r;
        rc = fn(ctx, txn, arg);
        if (rc < 0) {
            xs->txn_end(ctx->xs_priv, txn, true);
            if (rc == -EAGAIN)
                continue;
            return rc;
        }
        r = xs->txn_end(ctx->xs_priv, txn, false);
        if (r == 0)
            return rc;
        if (r != -EAGAIN)
            return r;
    }
    return -EAGAIN;
}

/* ------------------------------------------------------------ waiting */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int check_node(xpci_ctx *ctx, const char *path, xpci__xs_pred pred,
                      void *arg)
{
    _cleanup_free_ char *val = NULL;
    int r = read_opt(ctx, XPCI_XS_NO_TXN, path, &val);

    return r < 0 ? r : pred(val, arg);
}

/*
 * xenstored fires a new watch once straight away, and then on every change
 * at or below path (including its removal).  The watch is set first and the
 * node read after that and after every event, so no change can slip in
 * between a read and the watch.  Events carry no value, and those of other
 * watches of the same connection only cause one more read (they are
 * consumed, so a connection serves one waiter at a time).
 */
int xpci__xs_wait_cond(xpci_ctx *ctx, const char *const *paths,
                       unsigned n_paths, int (*cond)(xpci_ctx *, void *),
                       void *arg, int timeout_ms)
{
    static unsigned seq;
    const struct xpci_xs_ops *xs = ctx->xs;
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    char token[64];
    unsigned watched = 0;
    int r = 0;

    if (!xs)
        return -ENOTCONN;
    if (!xs->watch || !xs->unwatch || !xs->wait_watch)
        return -EOPNOTSUPP;
    snprintf(token, sizeof(token), "xpci-wait-%ld-%u", (long)getpid(),
             __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
    for (; watched < n_paths && r >= 0; watched++)
        r = xs->watch(ctx->xs_priv, paths[watched], token);
    if (r < 0) {
        watched--;
        goto out;
    }

    for (;;) {
        char *ev_path = NULL, *ev_token = NULL;
        int left = -1;

        r = cond(ctx, arg);
        if (r != 0)
            break;
        if (deadline >= 0) {
            int64_t rest = deadline - now_ms();

            if (rest <= 0) {
                r = -ETIMEDOUT;
                break;
            }
            left = rest > 0x7fffffff ? 0x7fffffff : (int)rest;
        }
        r = xs->wait_watch(ctx->xs_priv, left, &ev_path, &ev_token);
        if (r < 0)
            break;
        free(ev_path);
        free(ev_token);
    }

out:
    while (watched-- > 0)
        xs->unwatch(ctx->xs_priv, paths[watched], token);
    return r > 0 ? 0 : r;
}

struct node_cond {
    const char *path;
    xpci__xs_pred pred;
    void *arg;
};

static int node_holds(xpci_ctx *ctx, void *arg)
{
    struct node_cond *nc = arg;

    return check_node(ctx, nc->path, nc->pred, nc->arg);
}

int xpci__xs_wait_for(xpci_ctx *ctx, const char *path, xpci__xs_pred pred,
                      void *arg, int timeout_ms)
{
    struct node_cond nc = {.path = path, .pred = pred, .arg = arg};

    return xpci__xs_wait_cond(ctx, &path, 1, node_holds, &nc, timeout_ms);
}

static int value_is(const char *val, void *arg)
{
    const char *expected = arg;

    if (!expected)
        return !val;
    return val && !strcmp(val, expected);
}

int xpci__xs_wait_value(xpci_ctx *ctx, const char *path, const char *expected,
                        int timeout_ms)
{
    return xpci__xs_wait_for(ctx, path, value_is, (void *)expected, timeout_ms);
}

/* ------------------------------------------------------- libxl records */

void xpci__xs_libxl_key(const struct xpci_bdf *bdf, char *buf)
{
    snprintf(buf, XPCI__XS_LIBXL_KEY_LEN, XPCI__XS_LIBXL_KEY_FMT, bdf->domain,
             bdf->bus, bdf->dev & 0x1fU, bdf->func & 7U);
}

/* "0000-01-00-0": the BDF with '-' for both ':' and '.'. */
int xpci__xs_libxl_key_parse(const char *key, struct xpci_bdf *bdf_r)
{
    char buf[XPCI__XS_LIBXL_KEY_LEN];
    unsigned dashes = 0;
    size_t len = strlen(key);

    if (len >= sizeof(buf))
        return -EINVAL;
    for (size_t i = 0; i <= len; i++) {
        buf[i] = key[i];
        if (key[i] == ':' || key[i] == '.')
            return -EINVAL;
        if (key[i] == '-')
            buf[i] = ++dashes == 3 ? '.' : ':';
    }
    if (dashes != 3)
        return -EINVAL;
    return xpci_bdf_parse(buf, bdf_r);
}

void xpci__libxl_record_dispose(struct xpci__libxl_record *rec)
{
    if (!rec)
        return;
    free(rec->driver_path);
    free(rec->name);
    rec->driver_path = rec->name = NULL;
}

void xpci__libxl_records_free(struct xpci__libxl_record *recs, size_t n)
{
    if (!recs)
        return;
    for (size_t i = 0; i < n; i++)
        xpci__libxl_record_dispose(&recs[i]);
    free(recs);
}

/* The record at key into *rec (fresh on success); -ENOENT if none. */
static int read_record(xpci_ctx *ctx, uint32_t txn, const char *key,
                       const struct xpci_bdf *bdf,
                       struct xpci__libxl_record *rec_r)
{
    struct xpci__libxl_record rec = {.bdf = *bdf, .domid = -1};
    _cleanup_free_ char *top = NULL, *domid = NULL;
    char path[XS_PATH_MAX];
    unsigned long v;
    int r;

    snprintf(path, sizeof(path), XPCI__XS_LIBXL_PCI "/%s", key);
    r = xpci__xs_read(ctx, txn, path, &top);
    if (r < 0)
        return r;
    snprintf(path, sizeof(path), XPCI__XS_LIBXL_PCI "/%s/driver_path", key);
    r = read_opt(ctx, txn, path, &rec.driver_path);
    if (r < 0)
        goto fail;
    snprintf(path, sizeof(path), XPCI__XS_LIBXL_PCI "/%s/name", key);
    r = read_opt(ctx, txn, path, &rec.name);
    if (r < 0)
        goto fail;
    snprintf(path, sizeof(path), XPCI__XS_LIBXL_PCI "/%s/domid", key);
    r = read_opt(ctx, txn, path, &domid);
    if (r < 0)
        goto fail;
    if (domid && parse_ulong(domid, 10, 0x7fff, &v) == 0)
        rec.domid = (int)v;
    *rec_r = rec;
    return 0;

fail:
    xpci__libxl_record_dispose(&rec);
    return r;
}

struct record_req {
    const struct xpci_bdf *bdf;
    struct xpci__libxl_record rec;
};

static int record_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct record_req *req = arg;
    char key[XPCI__XS_LIBXL_KEY_LEN];

    /* A retried attempt starts from scratch. */
    xpci__libxl_record_dispose(&req->rec);
    xpci__xs_libxl_key(req->bdf, key);
    return read_record(ctx, txn, key, req->bdf, &req->rec);
}

int xpci__xs_libxl_record(xpci_ctx *ctx, const struct xpci_bdf *bdf,
                          struct xpci__libxl_record *rec_r)
{
    struct record_req req = {.bdf = bdf};
    int r = xpci__xs_txn_run(ctx, record_txn, &req);

    if (r < 0)
        return r;
    *rec_r = req.rec;
    return 0;
}

struct records_req {
    struct xpci__libxl_record *recs;
    size_t n;
};

static int records_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct records_req *req = arg;
    _cleanup_strv_ char **keys = NULL;
    unsigned n_keys = 0;
    int r;

    /* A retried attempt starts from scratch. */
    xpci__libxl_records_free(req->recs, req->n);
    req->recs = NULL;
    req->n = 0;

    r = ctx->xs->directory(ctx->xs_priv, txn, XPCI__XS_LIBXL_PCI, &keys,
                           &n_keys);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    if (n_keys == 0)
        return 0;
    req->recs = calloc(n_keys, sizeof(*req->recs));
    if (!req->recs)
        return -ENOMEM;
    for (unsigned i = 0; i < n_keys; i++) {
        struct xpci_bdf bdf;

        if (xpci__xs_libxl_key_parse(keys[i], &bdf) < 0)
            continue;
        r = read_record(ctx, txn, keys[i], &bdf, &req->recs[req->n]);
        if (r == -ENOENT)
            continue;
        if (r < 0)
            return r;
        req->n++;
    }
    return 0;
}

int xpci__xs_libxl_records(xpci_ctx *ctx, struct xpci__libxl_record **recs_r,
                           size_t *n_r)
{
    struct records_req req = {0};
    int r;

    if (!ctx->xs)
        return -ENOTCONN;
    r = xpci__xs_txn_run(ctx, records_txn, &req);
    /*
     * A toolstack that keeps writing its own records under /libxl/pci
     * makes every snapshot of the whole directory lose its race.  Then
     * read the records one by one, outside a transaction: each is read
     * whole, and the ones that matter, the functions this operation acts
     * on, do not change under xpci's lock.  Giving up instead would make
     * the records look absent, and a give-back leave them behind.
     */
    if (r == -EAGAIN)
        r = records_txn(ctx, XPCI_XS_NO_TXN, &req);
    if (r < 0) {
        xpci__libxl_records_free(req.recs, req.n);
        return r;
    }
    *recs_r = req.recs;
    *n_r = req.n;
    return 0;
}

/* ------------------------------------------------- guests' PCI backends */

void xpci__pciback_list_free(struct xpci__pciback_dev *devs, size_t n)
{
    if (!devs)
        return;
    for (size_t i = 0; i < n; i++) {
        free(devs[i].opts);
        free(devs[i].vdev);
        free(devs[i].name);
    }
    free(devs);
}

/*
 * opts-N as libxl writes it: "msitranslate=0,power_mgmt=0,permissive=0,
 * rdm_policy=strict".  Unknown keys are left alone, as libxl does.
 */
static void parse_opts(const char *opts, struct xpci__pciback_dev *d)
{
    const char *p = opts;

    while (*p) {
        const char *end = p + strcspn(p, ",");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *key = p;
        char val[32];
        unsigned long v;
        int *flag = NULL;
        size_t klen;

        p = *end ? end + 1 : end;
        if (!eq)
            continue;
        while (*key == ' ')
            key++;
        klen = (size_t)(eq - key);
        snprintf(val, sizeof(val), "%.*s", (int)(end - eq - 1), eq + 1);
        if (klen == 12 && !strncmp(key, "msitranslate", klen))
            flag = &d->msitranslate;
        else if (klen == 10 && !strncmp(key, "power_mgmt", klen))
            flag = &d->power_mgmt;
        else if (klen == 10 && !strncmp(key, "permissive", klen))
            flag = &d->permissive;
        else if (klen == 10 && !strncmp(key, "rdm_policy", klen)) {
            if (!strcmp(val, "strict"))
                d->rdm_policy = XPCI_RDM_POLICY_STRICT;
            else if (!strcmp(val, "relaxed"))
                d->rdm_policy = XPCI_RDM_POLICY_RELAXED;
        }
        if (flag && parse_ulong(val, 10, 1, &v) == 0)
            *flag = (int)v;
    }
}

/* Entry i of the backend at base; -ENOENT when it has no usable dev-N. */
static int read_backend_dev(xpci_ctx *ctx, uint32_t txn, const char *base,
                            unsigned i, struct xpci__pciback_dev *d_r)
{
    struct xpci__pciback_dev d = {
        .index = i,
        .vdevfn = -1,
        .state = -1,
        .msitranslate = XPCI_OPT_UNSET,
        .power_mgmt = XPCI_OPT_UNSET,
        .permissive = XPCI_OPT_UNSET,
        .rdm_policy = XPCI_OPT_UNSET,
    };
    _cleanup_free_ char *dev = NULL, *vdevfn = NULL, *state = NULL;
    char path[XS_PATH_MAX];
    unsigned long v;
    int r;

    snprintf(path, sizeof(path), BACK_DEV_FMT, base, i);
    r = xpci__xs_read(ctx, txn, path, &dev);
    if (r < 0)
        return r;
    if (xpci_bdf_parse(dev, &d.bdf) < 0)
        return -ENOENT;

    snprintf(path, sizeof(path), BACK_VDEVFN_FMT, base, i);
    if ((r = read_opt(ctx, txn, path, &vdevfn)) < 0)
        return r;
    if (vdevfn && parse_ulong(vdevfn, 16, 0xff, &v) == 0)
        d.vdevfn = (int)v;

    snprintf(path, sizeof(path), BACK_STATE_FMT, base, i);
    if ((r = read_opt(ctx, txn, path, &state)) < 0)
        return r;
    if (state && parse_ulong(state, 10, 0xff, &v) == 0)
        d.state = (int)v;

    snprintf(path, sizeof(path), BACK_OPTS_FMT, base, i);
    if ((r = read_opt(ctx, txn, path, &d.opts)) < 0)
        return r;
    if (d.opts)
        parse_opts(d.opts, &d);

    snprintf(path, sizeof(path), BACK_VDEV_FMT, base, i);
    if ((r = read_opt(ctx, txn, path, &d.vdev)) < 0)
        goto fail;
    snprintf(path, sizeof(path), BACK_NAME_FMT, base, i);
    if ((r = read_opt(ctx, txn, path, &d.name)) < 0)
        goto fail;

    *d_r = d;
    return 0;
fail:
    free(d.opts);
    free(d.vdev);
    free(d.name);
    return r;
}

struct backend_req {
    uint32_t domid;
    struct xpci__pciback_dev *devs;
    size_t n;
};

static int backend_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct backend_req *req = arg;
    _cleanup_free_ char *num = NULL;
    char base[64], path[XS_PATH_MAX];
    unsigned long n;
    int r;

    xpci__pciback_list_free(req->devs, req->n);
    req->devs = NULL;
    req->n = 0;

    snprintf(base, sizeof(base), XPCI__XS_PCIBACK_FMT, req->domid);
    snprintf(path, sizeof(path), "%s/" BACK_NUM_DEVS, base);
    r = xpci__xs_read(ctx, txn, path, &num);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    if (parse_ulong(num, 10, BACK_MAX_DEVS, &n) < 0)
        return -EBADMSG;
    if (n == 0)
        return 0;
    req->devs = calloc(n, sizeof(*req->devs));
    if (!req->devs)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        r = read_backend_dev(ctx, txn, base, i, &req->devs[req->n]);
        if (r == -ENOENT)
            continue;
        if (r < 0)
            return r;
        req->n++;
    }
    return 0;
}

int xpci__xs_pciback_list(xpci_ctx *ctx, uint32_t domid,
                          struct xpci__pciback_dev **devs_r, size_t *n_r)
{
    struct backend_req req = {.domid = domid};
    int r;

    if (!ctx->xs)
        return -ENOTCONN;
    r = xpci__xs_txn_run(ctx, backend_txn, &req);
    if (r < 0) {
        xpci__pciback_list_free(req.devs, req.n);
        return r;
    }
    *devs_r = req.devs;
    *n_r = req.n;
    return 0;
}
