/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * domain.c - domains as attach and detach see them: names and domids,
 * the guest type, which domain's PCI backend lists a function, and the
 * values the guest-side steps carry.
 */
#include <ctype.h>
#include <stdio.h>

#include "attach.h"

#define XS_LIBXL_TYPE_FMT "/libxl/%u/type"
#define XS_DOMAIN_NAME_FMT "/local/domain/%u/name"

int xpci__domain_name(xpci_ctx *ctx, uint32_t domid, char **name_r)
{
    char path[64];

    snprintf(path, sizeof(path), XS_DOMAIN_NAME_FMT, domid);
    return xpci__xs_read(ctx, XPCI_XS_NO_TXN, path, name_r);
}

bool xpci__all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

int xpci_domain_resolve(xpci_ctx *ctx, const char *domain, uint32_t *domid_r,
                        char **name_r)
{
    _cleanup_free_ char *name = NULL;
    char **ids = NULL;
    unsigned n = 0;
    int r;

    if (!domain || !*domain)
        return -EINVAL;
    if (xpci__all_digits(domain)) {
        unsigned long id = strtoul(domain, NULL, 10);

        if (id >= XPCI_DOMID_IO)
            return -ESRCH;
        /* a domain that has shut down is still there */
        if (ctx->hv && ctx->hv->domain_exists &&
            (r = ctx->hv->domain_exists(ctx->hv_priv, (uint32_t)id)) < 0 &&
            r != -ESHUTDOWN)
            return r;
        r = ctx->xs ? xpci__domain_name(ctx, (uint32_t)id, &name) : -ENOENT;
        if (r < 0 && r != -ENOENT)
            return r;
        if (r == -ENOENT && !(ctx->hv && ctx->hv->domain_exists))
            return ctx->xs ? -ESRCH : -ENOTCONN;
        *domid_r = (uint32_t)id;
        if (name_r)
            *name_r = TAKE_PTR(name);
        return 0;
    }
    if (!ctx->xs)
        return -ENOTCONN;
    r = ctx->xs->directory(ctx->xs_priv, XPCI_XS_NO_TXN, "/local/domain",
                           &ids, &n);
    if (r < 0)
        return r == -ENOENT ? -ESRCH : r;
    r = -ESRCH;
    for (unsigned i = 0; i < n && r == -ESRCH; i++) {
        char *cand = NULL;

        if (!xpci__all_digits(ids[i]) ||
            xpci__domain_name(ctx, (uint32_t)strtoul(ids[i], NULL, 10),
                              &cand) < 0)
            continue;
        if (!strcmp(cand, domain)) {
            *domid_r = (uint32_t)strtoul(ids[i], NULL, 10);
            if (name_r)
                *name_r = TAKE_PTR(cand);
            r = 0;
        }
        free(cand);
    }
    xpci__strv_free(ids, n);
    return r;
}

/* PV or HVM; PVH is refused (libxl 4.17 and 4.20 both say "passthrough
 * not yet supported for x86 PVH guests").
 * libxl records the type at /libxl/<domid>/type; the hypervisor's flag
 * is the fallback. */
int xpci__domain_type(xpci_ctx *ctx, uint32_t domid, char **why_r)
{
    _cleanup_free_ char *type = NULL;
    char path[64];

    snprintf(path, sizeof(path), XS_LIBXL_TYPE_FMT, domid);
    if (xpci__xs_read(ctx, XPCI_XS_NO_TXN, path, &type) == 0) {
        if (!strcmp(type, "pv"))
            return XPCI_DOMAIN_PV;
        if (!strcmp(type, "hvm"))
            return XPCI_DOMAIN_HVM;
        *why_r = xpci__sprintf("domain %u is a %s guest: Xen passes PCI "
                               "devices through to PV and HVM guests only",
                               domid, type);
        return -EOPNOTSUPP;
    }
    if (ctx->hv && ctx->hv->domain_type)
        return ctx->hv->domain_type(ctx->hv_priv, domid);
    return XPCI_DOMAIN_PV;
}

/* A domain Xen no longer runs (or, without the hypervisor, that has no
 * home in xenstore). */
bool xpci__domain_gone(xpci_ctx *ctx, uint32_t domid)
{
    _cleanup_free_ char *v = NULL;
    char path[40];

    if (ctx->hv && ctx->hv->domain_exists)
        return ctx->hv->domain_exists(ctx->hv_priv, domid) == -ESRCH;
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    return xpci__xs_read(ctx, XPCI_XS_NO_TXN, path, &v) == -ENOENT;
}

/* Which other domain lists bdf in its PCI backend; -1 when none.  The
 * backend of a domain that is gone holds nothing any more: a destruction
 * whose guest would not let go leaves it behind (libxl gives up waiting
 * and leaves it).  Such a domain goes to *stale_r (-1 when none), as
 * pciback keeps the function until that backend is removed. */
long xpci__other_holder(xpci_ctx *ctx, const struct xpci_bdf *bdf,
                        uint32_t self, long *stale_r)
{
    char **ids = NULL;
    unsigned n = 0;
    long holder = -1;

    if (stale_r)
        *stale_r = -1;
    if (ctx->xs->directory(ctx->xs_priv, XPCI_XS_NO_TXN, XPCI__XS_BACKENDS,
                           &ids, &n) < 0)
        return -1;
    for (unsigned i = 0; i < n && holder < 0; i++) {
        struct xpci__pciback_dev *devs = NULL;
        size_t nd = 0;
        bool listed = false;
        uint32_t id;

        if (!xpci__all_digits(ids[i]) ||
            (id = (uint32_t)atol(ids[i])) == self ||
            xpci__xs_pciback_list(ctx, id, &devs, &nd) < 0)
            continue;
        for (size_t k = 0; k < nd; k++)
            if (!xpci_bdf_cmp(&devs[k].bdf, bdf))
                listed = true;
        xpci__pciback_list_free(devs, nd);
        if (!listed)
            continue;
        if (!xpci__domain_gone(ctx, id))
            holder = id;
        else if (stale_r)
            *stale_r = id;
    }
    xpci__strv_free(ids, n);
    return holder;
}

void xpci__holder_label(xpci_ctx *ctx, long domid, char *buf, size_t len)
{
    _cleanup_free_ char *name = NULL;

    if (xpci__domain_name(ctx, (uint32_t)domid, &name) == 0)
        snprintf(buf, len, "domain %s (d%ld)", name, domid);
    else
        snprintf(buf, len, "domain %ld", domid);
}

int xpci__guest_timeout(const xpci_ctx *ctx)
{
    return ctx->guest_timeout_ms > 0 ? ctx->guest_timeout_ms
                                     : XPCI_GUEST_TIMEOUT_MS;
}

/* ------------------------------------------------------------ encoding */

int xpci__guest_entry_parse(const char *val, struct xpci__guest_entry *e)
{
    int wait = 0, n = 0;

    memset(e, 0, sizeof(*e));
    if (!val || sscanf(val, "%d %d %95s %n", &e->vdevfn, &wait, e->opts,
                       &n) < 3)
        return -EINVAL;
    e->wait = wait;
    e->name = val[n] ? val + n : NULL;
    return 0;
}

char *xpci__guest_entry_format(int vdevfn, bool wait, const char *opts,
                               const char *name)
{
    return xpci__sprintf("%d %d %s%s%s", vdevfn, wait, opts,
                         name ? " " : "", name ? name : "");
}

char *xpci__guest_opts_format(int msitranslate, int power_mgmt,
                              int permissive, int rdm_policy)
{
    return xpci__sprintf("msitranslate=%d,power_mgmt=%d,permissive=%d,"
                         "rdm_policy=%s",
                         msitranslate > 0, power_mgmt > 0, permissive > 0,
                         rdm_policy == XPCI_RDM_POLICY_RELAXED ? "relaxed"
                                                               : "strict");
}

int xpci__step_domid(const struct xpci__action *a, uint32_t *domid_r)
{
    char *end;
    unsigned long v;

    if (!a->path)
        return -EINVAL;
    v = strtoul(a->path, &end, 10);
    if (*end || v >= XPCI_DOMID_IO)
        return -EINVAL;
    *domid_r = (uint32_t)v;
    return 0;
}
