/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * grant.c - what the hypervisor grants a guest with a function: the
 * function itself (xc_assign_device, out of the quarantine into the
 * guest's IOMMU context, and xc_deassign_device back), and the guest's
 * permissions on its BARs (iomem, ioport) and its legacy IRQ (pirq).
 * The steps and their planning; attach.c and detach.c put them in order.
 */
#include <inttypes.h>
#include <stdio.h>

#include "attach.h"

#define PAGE_SHIFT 12

static bool held_by_record(xpci_ctx *ctx, const struct xpci_bdf *bdf,
                           uint32_t domid)
{
    struct xpci__libxl_record rec;
    bool held;

    /* Xen must see it with some guest (test-assign refuses it), and the
     * record name that guest. */
    if (!ctx->hv->test_assign ||
        ctx->hv->test_assign(ctx->hv_priv, domid, xpci_bdf_to_sbdf(bdf)) !=
            -EINVAL ||
        xpci__xs_libxl_record(ctx, bdf, &rec) < 0)
        return false;
    held = rec.domid >= 0 && (uint32_t)rec.domid == domid;
    xpci__libxl_record_dispose(&rec);
    return held;
}

static int two_hex(const char *v, unsigned long long *x, unsigned long long *y)
{
    return v && sscanf(v, "%llx %llx", x, y) == 2 ? 0 : -EINVAL;
}

/* The step's domain and function, parsed. */
static int step_target(const char *dev, const struct xpci__action *a,
                       uint32_t *domid_r, struct xpci_bdf *bdf_r)
{
    if (xpci__step_domid(a, domid_r) < 0 || xpci_bdf_parse(dev, bdf_r) < 0)
        return -EINVAL;
    return 0;
}

static int act_assign(xpci_ctx *ctx, const char *dev,
                      const struct xpci__action *a)
{
    const struct xpci_hv_ops *hv = ctx->hv;
    struct xpci_bdf bdf;
    uint32_t domid;
    int r;

    if ((r = step_target(dev, a, &domid, &bdf)) < 0)
        return r;
    if (!hv || !hv->assign)
        return -ENOSYS;
    r = hv->assign(ctx->hv_priv, domid, xpci_bdf_to_sbdf(&bdf),
                   a->val ? (uint32_t)atoi(a->val) : 0);
    /* Busy because it is domid's already (an undone deassign that
     * failed): the record written before the assign says so. */
    if (r == -EBUSY && held_by_record(ctx, &bdf, domid))
        return 0;
    return r < 0 ? r : 1;
}

static int act_deassign(xpci_ctx *ctx, const char *dev,
                        const struct xpci__action *a)
{
    const struct xpci_hv_ops *hv = ctx->hv;
    struct xpci_bdf bdf;
    uint32_t domid;
    int r;

    if ((r = step_target(dev, a, &domid, &bdf)) < 0)
        return r;
    if (!hv || !hv->deassign)
        return -ENOSYS;
    r = hv->deassign(ctx->hv_priv, domid, xpci_bdf_to_sbdf(&bdf));
    /* not held by domid (any more): nothing to do */
    if (r == -ENODEV || r == -ESRCH)
        return 0;
    return r < 0 ? r : 1;
}

static int act_iomem(xpci_ctx *ctx, const char *dev,
                     const struct xpci__action *a)
{
    const struct xpci_hv_ops *hv = ctx->hv;
    bool allow = a->kind == XPCI__STEP_IOMEM_ALLOW;
    unsigned long long x, y;
    struct xpci_bdf bdf;
    uint32_t domid;
    int r;

    if ((r = step_target(dev, a, &domid, &bdf)) < 0)
        return r;
    if (!hv || !hv->iomem_permission)
        return -ENOSYS;
    if (two_hex(a->val, &x, &y) < 0)
        return -EINVAL;
    r = hv->iomem_permission(ctx->hv_priv, domid, x, y, allow);
    if (r == -ESRCH && !allow)
        return 0; /* the domain is gone, and its permissions with it */
    return r < 0 ? r : 1;
}

static int act_ioport(xpci_ctx *ctx, const char *dev,
                      const struct xpci__action *a)
{
    const struct xpci_hv_ops *hv = ctx->hv;
    bool allow = a->kind == XPCI__STEP_IOPORT_ALLOW;
    unsigned long long x, y;
    struct xpci_bdf bdf;
    uint32_t domid;
    int r;

    if ((r = step_target(dev, a, &domid, &bdf)) < 0)
        return r;
    if (!hv || !hv->ioport_permission)
        return -ENOSYS;
    if (two_hex(a->val, &x, &y) < 0)
        return -EINVAL;
    r = hv->ioport_permission(ctx->hv_priv, domid, (uint32_t)x, (uint32_t)y,
                              allow);
    if (r == -ESRCH && !allow)
        return 0;
    return r < 0 ? r : 1;
}

static int act_irq_allow(xpci_ctx *ctx, const char *dev,
                         const struct xpci__action *a)
{
    const struct xpci_hv_ops *hv = ctx->hv;
    struct xpci_bdf bdf;
    uint32_t domid;
    int r, pirq;

    if ((r = step_target(dev, a, &domid, &bdf)) < 0)
        return r;
    if (!hv || !hv->map_pirq || !hv->irq_permission)
        return -ENOSYS;
    if ((r = hv->map_pirq(ctx->hv_priv, domid, atoi(a->val), &pirq)) < 0)
        return r;
    r = hv->irq_permission(ctx->hv_priv, domid, pirq, true);
    if (r < 0) {
        hv->unmap_pirq(ctx->hv_priv, domid, pirq);
        return r;
    }
    return 1;
}

static int act_irq_revoke(xpci_ctx *ctx, const char *dev,
                          const struct xpci__action *a)
{
    const struct xpci_hv_ops *hv = ctx->hv;
    struct xpci_bdf bdf;
    uint32_t domid;
    int r;

    if ((r = step_target(dev, a, &domid, &bdf)) < 0)
        return r;
    if (!hv || !hv->unmap_pirq || !hv->irq_permission)
        return -ENOSYS;
    /* For a GSI Xen hands the guest pirq == irq (libxl relies on the
     * same when it revokes). */
    r = hv->irq_permission(ctx->hv_priv, domid, atoi(a->val), false);
    if (r == -ESRCH)
        return 0;
    if (r < 0)
        return r;
    r = hv->unmap_pirq(ctx->hv_priv, domid, atoi(a->val));
    return r < 0 && r != -EINVAL && r != -ESRCH ? r : 1;
}

static char *describe(const char *dev, const struct xpci__action *a)
{
    const char *d = a->path ? a->path : "?";
    const char *v = a->val ? a->val : "";
    unsigned long long x = 0, y = 0;

    switch (a->kind) {
    case XPCI__STEP_ASSIGN:
        return xpci__sprintf("%s: xc_assign_device(d%s, flags=%s)", dev, d,
                             v);
    case XPCI__STEP_DEASSIGN:
        return xpci__sprintf("%s: xc_deassign_device(d%s) (back to "
                             "quarantine)", dev, d);
    case XPCI__STEP_IOMEM_ALLOW:
    case XPCI__STEP_IOMEM_REVOKE:
        sscanf(v, "%llx %llx", &x, &y);
        return xpci__sprintf("%s: xc_domain_iomem_permission(d%s, mfn "
                             "0x%llx, %llu pages, %s)", dev, d, x, y,
                             a->kind == XPCI__STEP_IOMEM_ALLOW ? "allow"
                                                               : "revoke");
    case XPCI__STEP_IOPORT_ALLOW:
    case XPCI__STEP_IOPORT_REVOKE:
        sscanf(v, "%llx %llx", &x, &y);
        return xpci__sprintf("%s: xc_domain_ioport_permission(d%s, port "
                             "0x%llx, %llu ports, %s)", dev, d, x, y,
                             a->kind == XPCI__STEP_IOPORT_ALLOW ? "allow"
                                                                : "revoke");
    case XPCI__STEP_IRQ_ALLOW:
        return xpci__sprintf("%s: xc_physdev_map_pirq(d%s, irq %s) + "
                             "xc_domain_irq_permission(allow)", dev, d, v);
    case XPCI__STEP_IRQ_REVOKE:
        return xpci__sprintf("%s: xc_domain_irq_permission(d%s, pirq %s, "
                             "revoke) + xc_physdev_unmap_pirq", dev, d, v);
    default:
        return xpci__sprintf("%s: %s (malformed step)", dev, v);
    }
}

const struct xpci__step_ops xpci__grant_steps[] = {
    {XPCI__STEP_ASSIGN, "assign", act_assign, describe},
    {XPCI__STEP_DEASSIGN, "deassign", act_deassign, describe},
    {XPCI__STEP_IOMEM_ALLOW, "iomem-allow", act_iomem, describe},
    {XPCI__STEP_IOMEM_REVOKE, "iomem-revoke", act_iomem, describe},
    {XPCI__STEP_IOPORT_ALLOW, "ioport-allow", act_ioport, describe},
    {XPCI__STEP_IOPORT_REVOKE, "ioport-revoke", act_ioport, describe},
    {XPCI__STEP_IRQ_ALLOW, "irq-allow", act_irq_allow, describe},
    {XPCI__STEP_IRQ_REVOKE, "irq-revoke", act_irq_revoke, describe},
    {0},
};

/* ------------------------------------------------------------ planning */

int xpci__grant_plan(struct xpci__plan *plan, const struct xpci_device *d,
                     const char *domid_str, bool give)
{
    const char *dev = d->bdf_str;
    char val[64];
    int r;

    for (unsigned i = 0; i < XPCI_NUM_RESOURCES; i++) {
        const struct xpci_bar *b = &d->bars[i];
        enum xpci__step_kind fwd, back;

        if (b->type == XPCI_BAR_UNUSED || !b->start || !b->size)
            continue;
        if (b->type == XPCI_BAR_IO) {
            snprintf(val, sizeof(val), "%" PRIx64 " %" PRIx64, b->start,
                     b->size);
            fwd = XPCI__STEP_IOPORT_ALLOW;
            back = XPCI__STEP_IOPORT_REVOKE;
        } else {
            snprintf(val, sizeof(val), "%" PRIx64 " %" PRIx64,
                     b->start >> PAGE_SHIFT,
                     (b->size + (1U << PAGE_SHIFT) - 1) >> PAGE_SHIFT);
            fwd = XPCI__STEP_IOMEM_ALLOW;
            back = XPCI__STEP_IOMEM_REVOKE;
        }
        r = give ? xpci__plan_add(plan, dev, fwd, domid_str, val,
                                  back, domid_str, val)
                 : xpci__plan_add(plan, dev, back, domid_str, val,
                                  fwd, domid_str, val);
        if (r < 0)
            return r;
    }
    if (d->irq > 0) {
        snprintf(val, sizeof(val), "%d", d->irq);
        r = give ? xpci__plan_add(plan, dev, XPCI__STEP_IRQ_ALLOW,
                                  domid_str, val, XPCI__STEP_IRQ_REVOKE,
                                  domid_str, val)
                 : xpci__plan_add(plan, dev, XPCI__STEP_IRQ_REVOKE,
                                  domid_str, val, XPCI__STEP_IRQ_ALLOW,
                                  domid_str, val);
        if (r < 0)
            return r;
    }
    return 0;
}
