/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * attached.c - which functions each guest holds, as the PCI backends in
 * xenstore list them (what libxl_device_pci_list reads too).
 */
#include <stdio.h>

#include "attach.h"

/*
 * An HVM guest's backend entries are libxl's record, not a connection:
 * pciback never hands them to a frontend, so their state stays where it
 * started and pciback's vdev-N (if it wrote one) names no guest address.
 * The device model knows where each function is: ask it (query-pci), as
 * libxl does after device_add.
 */
static void hvm_where(xpci_ctx *ctx, uint32_t domid,
                      struct xpci__pciback_dev *devs, size_t nd, int *present)
{
    _cleanup_free_ struct xpci_bdf *bdfs = calloc(nd, sizeof(*bdfs));
    _cleanup_free_ int *vdevfn = calloc(nd, sizeof(*vdevfn));
    int r = bdfs && vdevfn ? 0 : -ENOMEM;

    for (size_t i = 0; i < nd && r == 0; i++)
        bdfs[i] = devs[i].bdf;
    if (r == 0)
        r = xpci__hvm_where(ctx, domid, bdfs, nd, vdevfn);
    for (size_t i = 0; i < nd; i++) {
        struct xpci__pciback_dev *e = &devs[i];

        e->state = -1;
        present[i] = r < 0 ? -1 : vdevfn[i] >= 0;
        if (r == 0 && vdevfn[i] >= 0)
            e->vdevfn = vdevfn[i];
        free(e->vdev);
        e->vdev = e->vdevfn >= 0
                      ? xpci__sprintf("0000:00:%02x.%x", e->vdevfn >> 3,
                                      e->vdevfn & 7)
                      : NULL;
    }
}

static int list_domain(xpci_ctx *ctx, uint32_t domid,
                       struct xpci_attached **list, size_t *n)
{
    struct xpci__pciback_dev *devs = NULL;
    _cleanup_free_ char *name = NULL;
    _cleanup_free_ int *present = NULL;
    size_t nd = 0;
    bool hvm;
    int r = xpci__xs_pciback_list(ctx, domid, &devs, &nd);

    if (r < 0)
        return r;
    xpci__domain_name(ctx, domid, &name);
    if (nd) {
        struct xpci_attached *nl =
            realloc(*list, (*n + nd) * sizeof(**list));

        if (!nl) {
            xpci__pciback_list_free(devs, nd);
            return -ENOMEM;
        }
        *list = nl;
    }
    present = calloc(nd ? nd : 1, sizeof(*present));
    if (!present) {
        xpci__pciback_list_free(devs, nd);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nd; i++)
        present[i] = -1;
    hvm = nd && xpci__domain_type(ctx, domid, NULL) == XPCI_DOMAIN_HVM;
    if (hvm)
        hvm_where(ctx, domid, devs, nd, present);
    for (size_t i = 0; i < nd; i++) {
        struct xpci_attached *a = &(*list)[(*n)++];

        memset(a, 0, sizeof(*a));
        a->domid = domid;
        a->domain = name ? strdup(name) : NULL;
        xpci_bdf_format(&devs[i].bdf, a->bdf);
        a->vdevfn = devs[i].vdevfn;
        a->vdev = TAKE_PTR(devs[i].vdev);
        a->state = devs[i].state;
        a->hvm = hvm;
        a->dm_present = present[i];
        a->name = TAKE_PTR(devs[i].name);
        a->opts = TAKE_PTR(devs[i].opts);
        a->permissive = devs[i].permissive;
        a->msitranslate = devs[i].msitranslate;
        a->power_mgmt = devs[i].power_mgmt;
        a->rdm_policy = devs[i].rdm_policy;
        a->pciback_permissive = xpci__pciback_permissive(ctx, a->bdf);
    }
    xpci__pciback_list_free(devs, nd);
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

int xpci_attached_list(xpci_ctx *ctx, const char *domain,
                       struct xpci_attached **list_r, size_t *n_r)
{
    struct xpci_attached *list = NULL;
    uint32_t *ids = NULL;
    char **names = NULL;
    unsigned nn = 0, nids = 0;
    size_t n = 0;
    int r = 0;

    if (!ctx->xs)
        return -ENOTCONN;
    if (domain) {
        uint32_t domid;

        if ((r = xpci_domain_resolve(ctx, domain, &domid, NULL)) < 0)
            return r;
        r = list_domain(ctx, domid, &list, &n);
    } else {
        r = ctx->xs->directory(ctx->xs_priv, XPCI_XS_NO_TXN,
                               XPCI__XS_BACKENDS, &names, &nn);
        if (r == -ENOENT)
            r = 0;
        ids = calloc(nn ? nn : 1, sizeof(*ids));
        if (!ids)
            r = -ENOMEM;
        for (unsigned i = 0; i < nn && r == 0; i++)
            if (xpci__all_digits(names[i]))
                ids[nids++] = (uint32_t)strtoul(names[i], NULL, 10);
        if (nids) /* ids is NULL when calloc failed */
            qsort(ids, nids, sizeof(*ids), cmp_u32);
        for (unsigned i = 0; i < nids && r == 0; i++)
            r = list_domain(ctx, ids[i], &list, &n);
        xpci__strv_free(names, nn);
        free(ids);
    }
    if (r < 0) {
        xpci_attached_list_free(list, n);
        return r;
    }
    *list_r = list;
    *n_r = n;
    return 0;
}

void xpci_attached_list_free(struct xpci_attached *list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++) {
        free(list[i].domain);
        free(list[i].vdev);
        free(list[i].name);
        free(list[i].opts);
    }
    free(list);
}
