/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * ctx.c - the library context: the sysfs and proc roots, and the three
 * backends (sysfs writes, hypervisor, xenstore), real or supplied by the
 * caller.
 */
#include <fcntl.h>

#include "xpci-internal.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

static const struct xpci_sysfs_ops plain_sysfs_ops = {
    .write = xpci__sysfs_plain_write,
    .modprobe = NULL, /* modprobe(8), see host_steps.c */
};

static int open_root(const char *path)
{
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

    return fd < 0 ? -errno : fd;
}

int xpci_ctx_new(xpci_ctx **ctx_r, const struct xpci_params *params)
{
    static const struct xpci_params defaults;
    const struct xpci_params *p = params ? params : &defaults;
    const char *dev_root = p->dev_root ? p->dev_root : "/dev";
    xpci_ctx *ctx;
    bool xen_absent = false;
    int r;

    ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return -ENOMEM;
    ctx->sysfs_fd = ctx->proc_fd = ctx->state_fd = -1;
    ctx->sysfs_root = strdup(p->sysfs_root ? p->sysfs_root : "/sys");
    ctx->proc_root = strdup(p->proc_root ? p->proc_root : "/proc");
    if (!ctx->sysfs_root || !ctx->proc_root) {
        r = -ENOMEM;
        goto fail;
    }
    r = open_root(ctx->sysfs_root);
    if (r < 0)
        goto fail;
    ctx->sysfs_fd = r;
    /* A tree without proc is still readable; dom0-use facts then come out
     * as unknown. */
    r = open_root(ctx->proc_root);
    ctx->proc_fd = r < 0 ? -1 : r;

    ctx->sysfs = p->sysfs_ops ? p->sysfs_ops : &plain_sysfs_ops;
    ctx->sysfs_priv = p->sysfs_priv;
    ctx->state_dir = strdup(p->state_dir ? p->state_dir
                                         : LOCALSTATEDIR "/lib/xpci");
    ctx->audit_log = strdup(p->audit_log ? p->audit_log
                                         : LOCALSTATEDIR "/log/xpci/audit.log");
    ctx->run_dir = strdup(p->run_dir ? p->run_dir : "/var/run/xen");
    /* A tree read from elsewhere has no /etc of its own unless given. */
    if (p->etc_root || !p->sysfs_root) {
        ctx->etc_root = strdup(p->etc_root ? p->etc_root : "/etc");
        if (!ctx->etc_root) {
            r = -ENOMEM;
            goto fail;
        }
    }
    ctx->no_syslog = !!(p->flags & XPCI_CTX_NO_SYSLOG);
    if (!ctx->state_dir || !ctx->audit_log || !ctx->run_dir) {
        r = -ENOMEM;
        goto fail;
    }

    if (p->hv_ops) {
        ctx->hv = p->hv_ops;
        ctx->hv_priv = p->hv_priv;
    } else if (p->flags & XPCI_CTX_NO_HYPERVISOR) {
        ctx->hv_why = strdup(p->no_hv_reason ? p->no_hv_reason
                                              : "hypervisor not consulted");
    } else {
        r = xpci__hv_xenctrl_open(dev_root, ctx->proc_root, &ctx->hv,
                                  &ctx->hv_priv, &ctx->hv_why);
        if (r == -ENOMEM)
            goto fail;
        xen_absent = r == -ENOENT;
        ctx->xen_absent = xen_absent;
    }
    if (!ctx->hv && !ctx->hv_why) {
        r = -ENOMEM;
        goto fail;
    }

    if (p->xs_ops) {
        ctx->xs = p->xs_ops;
        ctx->xs_priv = p->xs_priv;
    } else if ((p->flags & XPCI_CTX_NO_XENSTORE) || xen_absent) {
        /* Without Xen there is no xenstored of this host to ask (and
         * libxenstore would try /dev/xen/xenbus). */
        ctx->xs_why = strdup((p->flags & XPCI_CTX_NO_XENSTORE)
                                 ? "xenstore not consulted"
                                 : "xenstore not consulted: no hypervisor");
    } else {
        r = xpci__xs_xenstore_open(&ctx->xs, &ctx->xs_priv, &ctx->xs_why);
        if (r == -ENOMEM)
            goto fail;
    }
    if (!ctx->xs && !ctx->xs_why) {
        r = -ENOMEM;
        goto fail;
    }

    *ctx_r = ctx;
    return 0;

fail:
    xpci_ctx_free(ctx);
    return r;
}

void xpci_ctx_free(xpci_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->hv && ctx->hv->close)
        ctx->hv->close(ctx->hv_priv);
    if (ctx->xs && ctx->xs->close)
        ctx->xs->close(ctx->xs_priv);
    xpci__closep(&ctx->sysfs_fd);
    xpci__closep(&ctx->proc_fd);
    xpci__closep(&ctx->state_fd);
    free(ctx->sysfs_root);
    free(ctx->proc_root);
    free(ctx->hv_why);
    free(ctx->xs_why);
    free(ctx->state_dir);
    free(ctx->audit_log);
    free(ctx->run_dir);
    free(ctx->etc_root);
    free(ctx->step_detail);
    free(ctx->step_note);
    free(ctx);
}

const char *xpci_ctx_hv_unavailable(const xpci_ctx *ctx)
{
    return ctx->hv ? NULL : ctx->hv_why;
}

const char *xpci_ctx_xs_unavailable(const xpci_ctx *ctx)
{
    return ctx->xs ? NULL : ctx->xs_why;
}
