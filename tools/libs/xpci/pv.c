/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * pv.c - pciback's backend in xenstore: adding a function to a guest's
 * PCI backend and taking it out, and for a running PV guest the hot-plug
 * handshake with its pcifront, waited for with a deadline.  HVM guests
 * keep their functions listed here too (hvm.c).
 *
 * A brief comment about the PV handshake (drivers/xen/xen-pciback/xenbus.c
 * and drivers/pci/xen-pcifront.c): the toolstack only writes backend
 * nodes.  A new backend directory makes pciback export its dev-N and go
 * Initialised; pcifront publishes its ring and both go Connected.  For a
 * hot-plug the toolstack appends dev-N with state-N = Initialising and
 * sets the backend to Reconfiguring; pcifront answers Reconfiguring,
 * pciback exports the new function (state-N = Initialised) and goes
 * Reconfigured, pcifront scans and goes Connected, and pciback follows.
 * Removal is the same cycle with state-N = Closing.  So "done" is: backend
 * Connected again and, for an added function, its state-N Initialised.
 * libxl returns before that cycle ends; xpci waits for it, so a guest that
 * never answers is noticed and rolled back rather than left half-done.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "attach.h"

#define XS_ERROR_FMT "/local/domain/0/error/backend/pci/%u/0/error"

static void backend_path(uint32_t domid, char *buf, size_t len)
{
    snprintf(buf, len, XPCI__XS_PCIBACK_FMT, domid);
}

static int xs_write_at(xpci_ctx *ctx, uint32_t txn, const char *dir,
                       const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int xs_write_at(xpci_ctx *ctx, uint32_t txn, const char *dir,
                       const char *key, const char *fmt, ...)
{
    char path[256];
    _cleanup_free_ char *val = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&val, fmt, ap);
    va_end(ap);
    if (r < 0) {
        val = NULL;
        return -ENOMEM;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return ctx->xs->write(ctx->xs_priv, txn, path, val);
}

static int xs_read_at(xpci_ctx *ctx, uint32_t txn, const char *dir,
                      const char *key, char **val_r)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xpci__xs_read(ctx, txn, path, val_r);
}

static int xs_rm_at(xpci_ctx *ctx, uint32_t txn, const char *dir,
                    const char *key)
{
    char path[256];
    int r;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    r = ctx->xs->rm(ctx->xs_priv, txn, path);
    return r == -ENOENT ? 0 : r;
}

/* num_devs of the backend at be; -ENOENT when there is no backend. */
static int backend_num(xpci_ctx *ctx, uint32_t txn, const char *be,
                       unsigned *n_r)
{
    _cleanup_free_ char *v = NULL;
    char *end;
    int r = xs_read_at(ctx, txn, be, "num_devs", &v);

    if (r < 0)
        return r;
    *n_r = (unsigned)strtoul(v, &end, 10);
    return *end || *n_r > 256 ? -EBADMSG : 0;
}

/* Index of dev in the backend, or -ENOENT. */
static int backend_index(xpci_ctx *ctx, uint32_t txn, const char *be,
                         unsigned n, const struct xpci_bdf *bdf)
{
    for (unsigned i = 0; i < n; i++) {
        _cleanup_free_ char *v = NULL;
        struct xpci_bdf b;
        char key[32];

        snprintf(key, sizeof(key), "dev-%u", i);
        if (xs_read_at(ctx, txn, be, key, &v) == 0 &&
            xpci_bdf_parse(v, &b) == 0 && !xpci_bdf_cmp(&b, bdf))
            return (int)i;
    }
    return -ENOENT;
}

struct be_add {
    uint32_t domid;
    const char *dom_name;
    struct xpci_bdf bdf;
    const char *dev;
    struct xpci__guest_entry e;
    bool hvm;
    /* out */
    bool present;   /* already listed */
    bool created;   /* this call made the backend */
    unsigned index;
};

/* libxl's first-device layout: backend readable by the guest, frontend
 * owned by the guest and readable by dom0. */
static int create_backend(xpci_ctx *ctx, uint32_t txn, struct be_add *req,
                          const char *be, const char *fe)
{
    const struct xpci_xs_perm be_perms[] = {
        {.domid = 0, .perms = XPCI_XS_PERM_NONE},
        {.domid = req->domid, .perms = XPCI_XS_PERM_READ},
    };
    const struct xpci_xs_perm fe_perms[] = {
        {.domid = req->domid, .perms = XPCI_XS_PERM_NONE},
        {.domid = 0, .perms = XPCI_XS_PERM_READ},
    };
    int r;

    ctx->xs->rm(ctx->xs_priv, txn, be);
    if ((r = ctx->xs->mkdir(ctx->xs_priv, txn, be)) < 0 ||
        (r = ctx->xs->set_perms(ctx->xs_priv, txn, be, be_perms, 2)) < 0 ||
        (r = xs_write_at(ctx, txn, be, "frontend", "%s", fe)) < 0 ||
        (r = xs_write_at(ctx, txn, be, "frontend-id", "%u", req->domid)) < 0 ||
        (r = xs_write_at(ctx, txn, be, "online", "1")) < 0 ||
        (r = xs_write_at(ctx, txn, be, "state", "%d", XB_INITIALISING)) < 0 ||
        (r = xs_write_at(ctx, txn, be, "domain", "%s",
                         req->dom_name ? req->dom_name : "")) < 0)
        return r;
    ctx->xs->rm(ctx->xs_priv, txn, fe);
    if ((r = ctx->xs->mkdir(ctx->xs_priv, txn, fe)) < 0 ||
        (r = ctx->xs->set_perms(ctx->xs_priv, txn, fe, fe_perms, 2)) < 0 ||
        (r = xs_write_at(ctx, txn, fe, "backend", "%s", be)) < 0 ||
        (r = xs_write_at(ctx, txn, fe, "backend-id", "0")) < 0 ||
        (r = xs_write_at(ctx, txn, fe, "state", "%d", XB_INITIALISING)) < 0)
        return r;
    return 0;
}

/* A removal under way that the guest has begun: pcifront went
 * Reconfiguring, or pciback Reconfigured.  Plugging the function in
 * again then would race the guest: it is left to finish. */
static bool releasing(xpci_ctx *ctx, uint32_t txn, const char *be,
                      const char *fe)
{
    _cleanup_free_ char *bs = NULL, *fs = NULL;

    return (xs_read_at(ctx, txn, be, "state", &bs) == 0 &&
            atoi(bs) == XB_RECONFIGURED) ||
           (xs_read_at(ctx, txn, fe, "state", &fs) == 0 &&
            atoi(fs) == XB_RECONFIGURING);
}

static int be_add_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct be_add *req = arg;
    char be[64], fe[64], key[32];
    unsigned n = 0;
    int r;

    req->present = req->created = false;
    backend_path(req->domid, be, sizeof(be));
    snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, req->domid);
    r = backend_num(ctx, txn, be, &n);
    if (r == -ENOENT) {
        if ((r = create_backend(ctx, txn, req, be, fe)) < 0)
            return r;
        req->created = true;
        n = 0;
    } else if (r < 0) {
        return r;
    } else if ((r = backend_index(ctx, txn, be, n, &req->bdf)) >= 0) {
        _cleanup_free_ char *sub = NULL;

        req->index = (unsigned)r;
        snprintf(key, sizeof(key), "state-%u", req->index);
        if (xs_read_at(ctx, txn, be, key, &sub) < 0 ||
            atoi(sub) < XB_CLOSING || releasing(ctx, txn, be, fe)) {
            req->present = true;
            return 0;
        }
        /* Being (or been) released, as an interrupted detach leaves it:
         * plug it in again. */
        if ((r = xs_write_at(ctx, txn, be, key, "%d", XB_INITIALISING)) < 0)
            return r;
        return req->hvm ? 0 : xs_write_at(ctx, txn, be, "state", "%d",
                                          XB_RECONFIGURING);
    }
    req->index = n;
    snprintf(key, sizeof(key), "key-%u", n);
    if ((r = xs_write_at(ctx, txn, be, key, "%s", req->dev)) < 0)
        return r;
    snprintf(key, sizeof(key), "dev-%u", n);
    if ((r = xs_write_at(ctx, txn, be, key, "%s", req->dev)) < 0)
        return r;
    if (req->e.vdevfn >= 0) {
        snprintf(key, sizeof(key), "vdevfn-%u", n);
        if ((r = xs_write_at(ctx, txn, be, key, "%x", req->e.vdevfn)) < 0)
            return r;
    }
    if (req->e.name) {
        snprintf(key, sizeof(key), "name-%u", n);
        if ((r = xs_write_at(ctx, txn, be, key, "%s", req->e.name)) < 0)
            return r;
    }
    snprintf(key, sizeof(key), "opts-%u", n);
    if ((r = xs_write_at(ctx, txn, be, key, "%s", req->e.opts)) < 0)
        return r;
    snprintf(key, sizeof(key), "state-%u", n);
    if ((r = xs_write_at(ctx, txn, be, key, "%d", XB_INITIALISING)) < 0 ||
        (r = xs_write_at(ctx, txn, be, "num_devs", "%u", n + 1)) < 0)
        return r;
    /* A running PV guest learns of an added function by Reconfiguring. */
    if (!req->created && !req->hvm)
        r = xs_write_at(ctx, txn, be, "state", "%d", XB_RECONFIGURING);
    return r;
}

/* What the wait for the guest looks at: both ends Connected (pcifront
 * acts on a backend change only while it is Connected itself, so a
 * reconfiguration must wait for it, not just for pciback), and the
 * function's own state. */
struct be_wait {
    const char *be, *fe;
    int index;        /* state-N that must read want_sub, or -1 */
    int want_sub;
    int watch;        /* state-N watched for progress, or -1 */
    /* what the last look saw: a change is progress */
    int seen_be, seen_fe, seen_sub;
    bool looked, moved, settled;
    /* a removal the guest has begun, and one pciback has done */
    bool released, pciback_done;
};

static int read_int_at(xpci_ctx *ctx, const char *dir, const char *key)
{
    _cleanup_free_ char *v = NULL;

    if (xs_read_at(ctx, XPCI_XS_NO_TXN, dir, key, &v) < 0)
        return -1;
    return atoi(v);
}

static int read_sub(xpci_ctx *ctx, const char *be, int index)
{
    char key[32];

    if (index < 0)
        return -1;
    snprintf(key, sizeof(key), "state-%d", index);
    return read_int_at(ctx, be, key);
}

/* 1 settled, or moved since the wait (re)started (the caller then gives
 * the guest a fresh deadline); 0 keep waiting. */
static int backend_settled(xpci_ctx *ctx, void *arg)
{
    struct be_wait *w = arg;
    int st = read_int_at(ctx, w->be, "state");
    int fe = read_int_at(ctx, w->fe, "state");
    int sub = read_sub(ctx, w->be, w->watch);

    if (w->looked && (st != w->seen_be || fe != w->seen_fe ||
                      sub != w->seen_sub))
        w->moved = true;
    w->looked = true;
    w->seen_be = st;
    w->seen_fe = fe;
    w->seen_sub = sub;
    /* pcifront answers the Closing of a function by dropping it and going
     * Reconfiguring; pciback lets it go, marks it Closed and goes
     * Reconfigured (drivers/pci/xen-pcifront.c, xen-pciback/xenbus.c) */
    if (fe == XB_RECONFIGURING || st == XB_RECONFIGURED || sub == XB_CLOSED)
        w->released = true;
    if (st == XB_RECONFIGURED || sub == XB_CLOSED)
        w->pciback_done = true;
    w->settled = st == XB_CONNECTED && fe == XB_CONNECTED &&
                 (w->index < 0 || read_sub(ctx, w->be, w->index) ==
                                      w->want_sub);
    return w->settled || w->moved;
}

static int guest_timeout(const xpci_ctx *ctx)
{
    return xpci__guest_timeout(ctx);
}

/* Why a wait on the backend of domid ended without the guest: the states
 * and pciback's own error, if it wrote one. */
static void remember_stall(xpci_ctx *ctx, uint32_t domid, const char *be,
                           const char *what)
{
    _cleanup_free_ char *err = NULL;
    char path[96], fe[64];

    snprintf(path, sizeof(path), XS_ERROR_FMT, domid);
    xpci__xs_read(ctx, XPCI_XS_NO_TXN, path, &err);
    snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, domid);
    if (ctx->step_detail)
        return; /* the first stall is the one to tell (undo may stall too) */
    ctx->step_detail = xpci__sprintf(
        "%s: backend state %d, frontend state %d, silent for %d ms%s%s",
        what, read_int_at(ctx, be, "state"), read_int_at(ctx, fe, "state"),
        guest_timeout(ctx), err ? "; pciback: " : "", err ? err : "");
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait for the handshake to settle.  A guest under load may take long,
 * but one whose states keep moving is answering: the deadline is for
 * silence, renewed at every change, within XPCI__HANDSHAKE_SPAN times
 * the timeout in all.  watch (-1: none) is a state-N whose changes count
 * as progress too.  w_r, if given, gets what was seen.
 */
#define XPCI__HANDSHAKE_SPAN 10
static int wait_backend_w(xpci_ctx *ctx, uint32_t domid, const char *be,
                          int index, int want_sub, int watch,
                          const char *what, struct be_wait *w_r)
{
    char fe[64];
    const char *paths[] = {be, fe};
    struct be_wait w = {.be = be, .fe = fe, .index = index,
                        .want_sub = want_sub, .watch = watch};
    int64_t end = now_ms() + (int64_t)guest_timeout(ctx) *
                                 XPCI__HANDSHAKE_SPAN;
    int r;

    snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, domid);
    for (;;) {
        w.moved = false;
        r = xpci__xs_wait_cond(ctx, paths, 2, backend_settled, &w,
                               guest_timeout(ctx));
        if (r < 0 || w.settled)
            break;
        if (now_ms() >= end) {
            r = -ETIMEDOUT;
            break;
        }
    }
    if (r == -ETIMEDOUT)
        remember_stall(ctx, domid, be, what);
    if (w_r)
        *w_r = w;
    return r;
}

static int wait_backend(xpci_ctx *ctx, uint32_t domid, const char *be,
                        int index, int want_sub, const char *what)
{
    return wait_backend_w(ctx, domid, be, index, want_sub, index, what, NULL);
}

static int stalled_add(xpci_ctx *ctx, const char *dev,
                       const struct be_add *req, const char *be,
                       const char *fe);

int xpci__pv_backend_add(xpci_ctx *ctx, uint32_t domid, const char *dev,
                         const struct xpci__guest_entry *e, bool hvm)
{
    _cleanup_free_ char *name = NULL;
    struct be_add req = {.domid = domid, .dev = dev, .e = *e, .hvm = hvm};
    char be[64], fe[64];
    unsigned n;
    int r;

    if (!ctx->xs)
        return -ENOTCONN;
    if (xpci_bdf_parse(dev, &req.bdf) < 0)
        return -EINVAL;
    xpci__domain_name(ctx, domid, &name);
    req.dom_name = name;
    backend_path(domid, be, sizeof(be));
    snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, domid);
    /* a function listed and not being released is there already, and one
     * the guest is letting go stays going (be_add_txn): neither waits for
     * a busy backend (one left Reconfiguring for the guest to answer) */
    if (backend_num(ctx, XPCI_XS_NO_TXN, be, &n) == 0 &&
        (r = backend_index(ctx, XPCI_XS_NO_TXN, be, n, &req.bdf)) >= 0) {
        char key[32];
        int sub;

        snprintf(key, sizeof(key), "state-%d", r);
        sub = read_int_at(ctx, be, key);
        if ((sub >= 0 && sub < XB_CLOSING) ||
            releasing(ctx, XPCI_XS_NO_TXN, be, fe))
            return 0;
    }
    /* libxl waits for a connected backend before it adds to it */
    if (e->wait && backend_num(ctx, XPCI_XS_NO_TXN, be, &n) == 0 &&
        (r = wait_backend(ctx, domid, be, -1, 0,
                          "the guest's PCI backend is busy")) < 0)
        return r;
    r = xpci__xs_txn_run(ctx, be_add_txn, &req);
    if (r < 0)
        return r;
    if (req.present)
        return 0;
    if (e->wait && (r = wait_backend(ctx, domid, be, (int)req.index,
                                     XB_INITIALISED,
                                     "the guest did not take the "
                                     "function")) < 0)
        return r == -ETIMEDOUT ? stalled_add(ctx, dev, &req, be, fe)
                               : r;
    return 1;
}

struct be_del {
    uint32_t domid;
    struct xpci_bdf bdf;
    unsigned n, index;
    bool closing;   /* phase 1: mark; else phase 2: remove */
    int prev_sub;   /* phase 1 out: state-N before */
};

/* Remove path, then its parent if that is left empty. */
static int rm_with_parent(xpci_ctx *ctx, uint32_t txn, const char *path)
{
    _cleanup_free_ char *parent = strdup(path);
    char **names = NULL;
    unsigned n = 0;
    char *slash;
    int r = ctx->xs->rm(ctx->xs_priv, txn, path);

    if (r < 0 && r != -ENOENT)
        return r;
    if (!parent || !(slash = strrchr(parent, '/')))
        return parent ? 0 : -ENOMEM;
    *slash = '\0';
    r = ctx->xs->directory(ctx->xs_priv, txn, parent, &names, &n);
    xpci__strv_free(names, n);
    if (r == 0 && n == 0 && (r = ctx->xs->rm(ctx->xs_priv, txn, parent)) < 0 &&
        r != -ENOENT)
        return r;
    return 0;
}

static const char *const entry_keys[] = {"state", "key", "dev", "vdev",
                                         "opts", "vdevfn", "name"};

static int be_del_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct be_del *req = arg;
    char be[64], fe[64], key[32];
    int r;

    backend_path(req->domid, be, sizeof(be));
    if ((r = backend_num(ctx, txn, be, &req->n)) < 0 ||
        (r = backend_index(ctx, txn, be, req->n, &req->bdf)) < 0)
        return r;
    req->index = (unsigned)r;
    if (req->closing) {
        _cleanup_free_ char *sub = NULL;

        snprintf(key, sizeof(key), "state-%u", req->index);
        req->prev_sub = xs_read_at(ctx, txn, be, key, &sub) == 0 ? atoi(sub)
                                                                 : -1;
        if ((r = xs_write_at(ctx, txn, be, key, "%d", XB_CLOSING)) < 0)
            return r;
        return xs_write_at(ctx, txn, be, "state", "%d", XB_RECONFIGURING);
    }
    if (req->n == 1) {
        /* the last one: the whole device goes, as libxl's destroy does,
         * with the parents it leaves empty */
        snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, req->domid);
        if ((r = rm_with_parent(ctx, txn, be)) < 0)
            return r;
        return rm_with_parent(ctx, txn, fe);
    }
    for (size_t k = 0; k < ARRAY_SIZE(entry_keys); k++) {
        snprintf(key, sizeof(key), "%s-%u", entry_keys[k], req->index);
        if ((r = xs_rm_at(ctx, txn, be, key)) < 0)
            return r;
    }
    /* later entries move down one */
    for (unsigned j = req->index + 1; j < req->n; j++) {
        for (size_t k = 0; k < ARRAY_SIZE(entry_keys); k++) {
            _cleanup_free_ char *v = NULL;

            snprintf(key, sizeof(key), "%s-%u", entry_keys[k], j);
            r = xs_read_at(ctx, txn, be, key, &v);
            if (r == -ENOENT)
                continue;
            if (r < 0 || (r = xs_rm_at(ctx, txn, be, key)) < 0)
                return r;
            snprintf(key, sizeof(key), "%s-%u", entry_keys[k], j - 1);
            if ((r = xs_write_at(ctx, txn, be, key, "%s", v)) < 0)
                return r;
        }
    }
    return xs_write_at(ctx, txn, be, "num_devs", "%u", req->n - 1);
}

static int read_int_txn(xpci_ctx *ctx, uint32_t txn, const char *dir,
                        const char *key)
{
    _cleanup_free_ char *v = NULL;

    if (xs_read_at(ctx, txn, dir, key, &v) < 0)
        return -1;
    return atoi(v);
}

/*
 * Whether the guest may have begun taking the function req added: for a
 * backend this call created, pciback exported it or pcifront left
 * Initialising or published its ring (it may be connecting); for a
 * hot-plug, pcifront went Reconfiguring or pciback exported the function
 * or went Reconfigured (both happen only once pcifront answered).
 */
static bool guest_began(xpci_ctx *ctx, uint32_t txn, const struct be_add *req,
                        const char *be, const char *fe)
{
    _cleanup_free_ char *v = NULL;
    char key[32];
    int st = read_int_txn(ctx, txn, be, "state");
    int fst = read_int_txn(ctx, txn, fe, "state");

    if (req->created && st >= XB_CLOSING)
        /* pciback gave up (xenbus_dev_fatal): the connection is closing;
         * pcifront is done with it once Closed */
        return fst >= 0 && fst != XB_INITIALISING && fst != XB_CLOSED;
    if (req->created)
        /* pciback exported it (Initialised, Connected): pcifront may be
         * mid-connection without a sign in xenstore yet (a guest starved
         * of CPU), and a backend taken away then leaves it waiting on a
         * ring nobody serves */
        return (st > XB_INITIALISING && st < XB_CLOSING) ||
               (fst >= 0 && fst != XB_INITIALISING) ||
               xs_read_at(ctx, txn, fe, "pci-op-ref", &v) == 0;
    snprintf(key, sizeof(key), "state-%u", req->index);
    return fst == XB_RECONFIGURING || st == XB_RECONFIGURED ||
           read_int_txn(ctx, txn, be, key) == XB_INITIALISED;
}

struct be_unadd {
    const struct be_add *add;
    const char *be, *fe;
    bool began; /* out */
};

/* Take back an added function the guest has not noticed, in one
 * transaction with the look at the guest's state, so that it cannot
 * begin in between: a created backend goes with its frontend; a
 * hot-plugged entry goes, the backend left Reconfiguring for a guest that
 * may yet answer (be_restore). */
static int be_unadd_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct be_unadd *u = arg;
    struct be_del del = {.domid = u->add->domid, .bdf = u->add->bdf};
    int r;

    u->began = guest_began(ctx, txn, u->add, u->be, u->fe);
    if (u->began)
        return 0;
    if (u->add->created) {
        if ((r = rm_with_parent(ctx, txn, u->be)) < 0)
            return r;
        return rm_with_parent(ctx, txn, u->fe);
    }
    /* The backend stays Reconfiguring (see be_restore_txn). */
    r = be_del_txn(ctx, txn, &del);
    return r == -ENOENT ? 0 : r;
}

static int front_closed(xpci_ctx *ctx, void *arg)
{
    const char *fe = arg;
    int fst = read_int_at(ctx, fe, "state");

    return fst < 0 || fst == XB_INITIALISING || fst == XB_CLOSED;
}

/*
 * The wait for the guest to take the function ran out.  Before the guest
 * noticed anything, the function's entry is taken out here and the
 * caller rolls the rest back (-ETIMEDOUT).  Once it began (connecting to
 * a new backend, or scanning a hot-plugged function), the only safe way
 * is forward: pulling the entry, the permissions or the assignment from
 * under a guest that may be probing the function can crash it, and
 * removing a backend pcifront is connecting to stalls it.  The function
 * is left the guest's (-EINPROGRESS) and the error says how to take it
 * back.
 */
static int stalled_add(xpci_ctx *ctx, const char *dev,
                       const struct be_add *req, const char *be,
                       const char *fe)
{
    struct be_unadd u = {.add = req, .be = be, .fe = fe};
    const char *paths[] = {fe};
    int r;

    /* a new connection pciback closed: pcifront follows it to Closed
     * before the backend goes, as in libxl's removal */
    if (req->created && read_int_at(ctx, be, "state") >= XB_CLOSING)
        xpci__xs_wait_cond(ctx, paths, 1, front_closed, (void *)fe,
                           guest_timeout(ctx));
    r = xpci__xs_txn_run(ctx, be_unadd_txn, &u);
    if (r < 0)
        return r; /* the caller's undo tries again */
    if (!u.began)
        return -ETIMEDOUT;
    free(ctx->step_detail);
    ctx->step_detail = xpci__sprintf(
        "attaching: the guest %s %s (backend state %d, frontend state "
        "%d) but did not finish within %d ms of silence; the function is "
        "left attached to the guest, its permissions and assignment in "
        "place: the guest may finish taking it, and xpci detach takes it "
        "back (with -f for a guest that never connects)",
        req->created ? "may be connecting to take" : "began taking", dev,
        read_int_at(ctx, be, "state"), read_int_at(ctx, fe, "state"),
        guest_timeout(ctx));
    return -EINPROGRESS;
}

/*
 * A removal the guest did not answer is undone by putting the function's
 * state-N back; the backend itself stays Reconfiguring.  The guest may
 * have read the request already and answer it any time later (a vCPU
 * descheduled mid-removal): pciback acts on the guest's Reconfiguring only
 * while the backend is Reconfiguring too, so a backend put back to
 * Connected would leave both ends stuck, the guest without a function
 * xenstore says it has.  Left Reconfiguring, the guest's answer runs the
 * cycle to its end with nothing to remove, and its rescan finds again any
 * function it dropped.
 */
struct be_restore {
    uint32_t domid;
    unsigned index;
    int sub;
    /* out: the guest answered after all, and pciback let it go too;
     * the states seen */
    bool answered, pciback_done;
    int seen_be, seen_fe;
};

/* In one transaction with the look at both ends, so that neither can
 * answer in between: a guest that went Reconfiguring as the wait ran out
 * may have dropped the function, and pciback, once it saw that, released
 * it (it reads state-N only then); putting the entry back would then tell
 * xenstore of a function neither end has, and pciback would find nothing
 * to release at the next removal and stall there for good. */
static int be_restore_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct be_restore *req = arg;
    char be[64], fe[64], key[32];
    int st, sub, r;

    backend_path(req->domid, be, sizeof(be));
    snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, req->domid);
    snprintf(key, sizeof(key), "state-%u", req->index);
    st = req->seen_be = read_int_txn(ctx, txn, be, "state");
    req->seen_fe = read_int_txn(ctx, txn, fe, "state");
    sub = read_int_txn(ctx, txn, be, key);
    req->answered = req->seen_fe == XB_RECONFIGURING ||
                    st == XB_RECONFIGURED || sub == XB_CLOSED;
    req->pciback_done = st == XB_RECONFIGURED || sub == XB_CLOSED;
    if (req->answered)
        return 0;
    if (req->sub >= 0 &&
        (r = xs_write_at(ctx, txn, be, key, "%d", req->sub)) < 0)
        return r;
    return 0;
}

/* Take dev out of the backend.  With wait, the guest is asked to release
 * it first; a guest that does not answer leaves everything as it was
 * (-ETIMEDOUT) unless force. */
int xpci__pv_backend_remove(xpci_ctx *ctx, uint32_t domid, const char *dev,
                            bool wait, bool force)
{
    struct be_del req = {.domid = domid};
    struct be_wait w;
    char be[64], fe[64];
    int r;

    if (!ctx->xs)
        return -ENOTCONN;
    if (xpci_bdf_parse(dev, &req.bdf) < 0)
        return -EINVAL;
    backend_path(domid, be, sizeof(be));
    snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, domid);
    /* A forced removal from a connection that is not up (the guest never
     * answered) does not ask the guest first. */
    if (wait && force &&
        (read_int_at(ctx, be, "state") != XB_CONNECTED ||
         read_int_at(ctx, fe, "state") != XB_CONNECTED))
        wait = false;
    if (wait) {
        r = wait_backend(ctx, domid, be, -1, 0,
                         "the guest's PCI backend is busy");
        if (r < 0)
            return r;
        req.closing = true;
        r = xpci__xs_txn_run(ctx, be_del_txn, &req);
        if (r == -ENOENT)
            return 0;
        if (r < 0)
            return r;
        r = wait_backend_w(ctx, domid, be, -1, 0, (int)req.index,
                           "the guest did not release the function", &w);
        if (r < 0 && !(force && r == -ETIMEDOUT) &&
            !(r == -ETIMEDOUT && w.released)) {
            struct be_restore back = {.domid = domid, .index = req.index,
                                      .sub = req.prev_sub};

            if (xpci__xs_txn_run(ctx, be_restore_txn, &back) < 0 ||
                !back.answered)
                return r;
            /* it answered as the wait ran out: forward, as below */
            r = -ETIMEDOUT;
            w.released = true;
            w.pciback_done = back.pciback_done;
            w.seen_be = back.seen_be;
            w.seen_fe = back.seen_fe;
        }
        /*
         * Once the guest has begun letting go, the only safe way is
         * forward: putting the entry back would tell xenstore the guest
         * has a function it dropped.  When pciback let go too, the
         * removal is finished; otherwise it is left Closing, for a
         * later detach to finish.
         */
        if (r == -ETIMEDOUT && w.released && !force && !w.pciback_done) {
            free(ctx->step_detail);
            ctx->step_detail = xpci__sprintf(
                "detaching: the guest dropped %s (backend state %d, "
                "frontend state %d) but did not finish the handshake "
                "within %d ms of silence; its entry is left Closing: run "
                "xpci detach again to finish", dev, w.seen_be, w.seen_fe,
                guest_timeout(ctx));
            return -EINPROGRESS;
        }
        if (r == -ETIMEDOUT && w.released && !force) {
            /* the stall is no failure: say what happened instead */
            free(ctx->step_detail);
            ctx->step_detail = NULL;
            free(ctx->step_note);
            ctx->step_note = xpci__sprintf(
                "%s: the guest and pciback let it go, then the guest fell "
                "silent (backend state %d, frontend state %d): removed",
                dev, w.seen_be, w.seen_fe);
        }
    }
    req.closing = false;
    r = xpci__xs_txn_run(ctx, be_del_txn, &req);
    if (r == -ENOENT)
        return 0;
    return r < 0 ? r : 1;
}

/* ------------------------------------------------------------ steps */

static int act_add(xpci_ctx *ctx, const char *dev,
                   const struct xpci__action *a)
{
    struct xpci__guest_entry e;
    struct xpci_bdf bdf;
    uint32_t domid;

    if (xpci__step_domid(a, &domid) < 0 || xpci_bdf_parse(dev, &bdf) < 0 ||
        xpci__guest_entry_parse(a->val, &e) < 0)
        return -EINVAL;
    return xpci__pv_backend_add(ctx, domid, dev, &e, false);
}

static int act_remove(xpci_ctx *ctx, const char *dev,
                      const struct xpci__action *a)
{
    struct xpci_bdf bdf;
    uint32_t domid;

    if (xpci__step_domid(a, &domid) < 0 || xpci_bdf_parse(dev, &bdf) < 0)
        return -EINVAL;
    return xpci__pv_backend_remove(ctx, domid, dev, true,
                                   a->val && atoi(a->val));
}

static char *describe(const char *dev, const struct xpci__action *a)
{
    const char *d = a->path ? a->path : "?";
    const char *v = a->val ? a->val : "";
    struct xpci__guest_entry e;

    if (a->kind == XPCI__STEP_PV_ADD && xpci__guest_entry_parse(v, &e) == 0)
        return xpci__sprintf("%s: xenstore: add to pciback backend of d%s "
                             "(%s%s%s)%s", dev, d, e.opts,
                             e.name ? ", name=" : "", e.name ? e.name : "",
                             e.wait ? ", hot-plug and wait for the guest"
                                    : "");
    if (a->kind == XPCI__STEP_PV_REMOVE)
        return xpci__sprintf("%s: xenstore: remove from pciback backend of "
                             "d%s (state-N=Closing, wait for the guest%s)",
                             dev, d, atoi(v) ? "; forced" : "");
    return xpci__sprintf("%s: %s (malformed step)", dev, v);
}

const struct xpci__step_ops xpci__pv_steps[] = {
    {XPCI__STEP_PV_ADD, "pv-add", act_add, describe},
    {XPCI__STEP_PV_REMOVE, "pv-remove", act_remove, describe},
    {0},
};
