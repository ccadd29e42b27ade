/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * hvm.c - an HVM guest's functions go through its device model: QMP
 * device_add of a xen-pci-passthrough device on the socket libxl's QEMU
 * listens on, device_del (waited for until DEVICE_DELETED, or until
 * query-pci no longer lists it) to take it back.  As libxl does, the
 * function is also listed in the guest's PCI backend (pv.c), with the
 * guest address the device model chose; xpci attached asks the model
 * where each function is.
 */
#include <stdio.h>

#include "attach.h"
#include "qmp.h"

#define QMP_SOCKET_FMT "%s/qmp-libxl-%u"

#define HVM_LIST_TIMEOUT_MS 3000

static int xpci__qmp_open_at(xpci_ctx *ctx, uint32_t domid, int timeout_ms,
                             struct xpci__qmp **q_r)
{
    _cleanup_free_ char *path = NULL;

    path = xpci__sprintf(QMP_SOCKET_FMT, ctx->run_dir, domid);
    if (!path)
        return -ENOMEM;
    return xpci__qmp_open(path, timeout_ms, q_r, NULL);
}

static int qmp_connect(xpci_ctx *ctx, uint32_t domid, struct xpci__qmp **q_r)
{
    _cleanup_free_ char *path = NULL, *err = NULL;
    int r;

    path = xpci__sprintf(QMP_SOCKET_FMT, ctx->run_dir, domid);
    if (!path)
        return -ENOMEM;
    r = xpci__qmp_open(path, xpci__guest_timeout(ctx), q_r, &err);
    if (r < 0) {
        /* nothing was sent: a stopped or gone model was asked nothing */
        ctx->step_untouched = true;
        free(ctx->step_detail);
        ctx->step_detail = xpci__sprintf("device model of d%u at %s: %s",
                                         domid, path,
                                         err ? err : strerror(-r));
    }
    return r;
}

static void qmp_detail(xpci_ctx *ctx, const char *what, char *err)
{
    if (!err)
        return;
    free(ctx->step_detail);
    ctx->step_detail = xpci__sprintf("%s: %s", what, err);
    free(err);
}

static int qmp_add(xpci_ctx *ctx, uint32_t domid, const char *dev,
                   const struct xpci__guest_entry *e)
{
    struct xpci__qmp *q = NULL;
    struct xpci__guest_entry rec = *e;
    struct xpci_bdf bdf;
    char *err = NULL;
    int vdevfn = -1, r;

    if (xpci_bdf_parse(dev, &bdf) < 0)
        return -EINVAL;
    if ((r = qmp_connect(ctx, domid, &q)) < 0)
        return r;
    r = xpci__qmp_pt_find(q, &bdf, xpci__guest_timeout(ctx), &vdevfn, &err);
    if (r == 0) {
        free(err);
        err = NULL;
        r = xpci__qmp_pt_add(q, &bdf, e->vdevfn,
                             strstr(e->opts, "permissive=1") != NULL,
                             xpci__guest_timeout(ctx), &vdevfn, &err);
        if (r == 0)
            r = 1;
    }
    xpci__qmp_close(q);
    if (r < 0) {
        qmp_detail(ctx, "QMP device_add", err);
        return r;
    }
    free(err);
    /* libxl keeps an HVM guest's functions in the backend too, with the
     * guest address the device model chose. */
    rec.vdevfn = vdevfn;
    rec.wait = false;
    return xpci__pv_backend_add(ctx, domid, dev, &rec, true) < 0 ? -EIO : r;
}

static int qmp_del(xpci_ctx *ctx, uint32_t domid, const char *dev, bool force)
{
    struct xpci__qmp *q = NULL;
    struct xpci_bdf bdf;
    char *err = NULL;
    int r;

    if (xpci_bdf_parse(dev, &bdf) < 0)
        return -EINVAL;
    r = qmp_connect(ctx, domid, &q);
    if (r >= 0) {
        r = xpci__qmp_pt_del(q, &bdf, xpci__guest_timeout(ctx), &err);
        xpci__qmp_close(q);
    }
    /*
     * -EINPROGRESS: the guest was asked and has not ejected the function
     * yet.  Like libxl (pci_remove_timeout), fail unless forced, and never
     * plug it back: a device_add racing the guest's eject is what the
     * guest must not see.  The function stays assigned and granted until
     * a later detach finds it gone from the device model.
     */
    if (r < 0 && !force) {
        qmp_detail(ctx, "QMP device_del", err);
        return r;
    }
    free(err);
    r = xpci__pv_backend_remove(ctx, domid, dev, false, true);
    return r < 0 ? r : 1;
}

/* Where domid's device model has each function (query-pci): vdevfn[i]
 * its guest devfn, -1 when the model does not have it.  -errno when the
 * model cannot be asked. */
int xpci__hvm_where(xpci_ctx *ctx, uint32_t domid, const struct xpci_bdf *bdfs,
                    size_t n, int *vdevfn)
{
    struct xpci__qmp *q = NULL;
    int tmo = xpci__guest_timeout(ctx), r = 0;

    /* a listing should not hang on a stuck model for long */
    if (tmo > HVM_LIST_TIMEOUT_MS)
        tmo = HVM_LIST_TIMEOUT_MS;
    if (xpci__qmp_open_at(ctx, domid, tmo, &q) < 0)
        return -ENOTCONN;
    for (size_t i = 0; i < n && r >= 0; i++) {
        vdevfn[i] = -1;
        r = xpci__qmp_pt_find(q, &bdfs[i], tmo, &vdevfn[i], NULL);
        if (r == 0)
            vdevfn[i] = -1;
    }
    xpci__qmp_close(q);
    return r < 0 ? r : 0;
}

/* ------------------------------------------------------------ steps */

static int act_add(xpci_ctx *ctx, const char *dev,
                   const struct xpci__action *a)
{
    struct xpci__guest_entry e;
    uint32_t domid;

    if (xpci__step_domid(a, &domid) < 0 ||
        xpci__guest_entry_parse(a->val, &e) < 0)
        return -EINVAL;
    return qmp_add(ctx, domid, dev, &e);
}

static int act_del(xpci_ctx *ctx, const char *dev,
                   const struct xpci__action *a)
{
    uint32_t domid;

    if (xpci__step_domid(a, &domid) < 0)
        return -EINVAL;
    return qmp_del(ctx, domid, dev, a->val && atoi(a->val));
}

static char *describe(const char *dev, const struct xpci__action *a)
{
    const char *d = a->path ? a->path : "?";
    const char *v = a->val ? a->val : "";
    struct xpci__guest_entry e;

    if (a->kind == XPCI__STEP_QMP_ADD && xpci__guest_entry_parse(v, &e) == 0)
        return xpci__sprintf("%s: QMP device_add xen-pci-passthrough to "
                             "d%s's device model (%s) + backend entry", dev,
                             d, e.opts);
    if (a->kind == XPCI__STEP_QMP_DEL)
        return xpci__sprintf("%s: QMP device_del from d%s's device model, "
                             "wait for DEVICE_DELETED or query-pci without "
                             "it%s", dev, d, atoi(v) ? "; forced" : "");
    return xpci__sprintf("%s: %s (malformed step)", dev, v);
}

const struct xpci__step_ops xpci__hvm_steps[] = {
    {XPCI__STEP_QMP_ADD, "qmp-add", act_add, describe},
    {XPCI__STEP_QMP_DEL, "qmp-del", act_del, describe},
    {0},
};
