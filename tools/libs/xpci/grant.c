/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * grant.c - what the hypervisor grants a guest with a function: the
 * function itself (xc_assign_device, out of the quarantine into the
 * guest's IOMMU context, and xc_deassign_device back), and the guest's
 * permissions on its BARs (iomem, ioport) and its legacy IRQ (pirq).
 * The steps and their planning; attach.c and detach.c put them in order.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

/* Page frames of a 52-bit physical address space, Xen's x86 limit. */
#define MFN_END (1ULL << (52 - PAGE_SHIFT))
#define PORT_END 0x10000ULL
/* Legacy IRQs (GSIs) Xen hands out are far below this. */
#define IRQ_END 0x10000

/* A hex number as the plan writes it (PRIx64: digits only, no sign, no
 * blank, no 0x), at most 16 digits; *end_r gets what follows it. */
static int hex_u64(const char *s, uint64_t *v_r, const char **end_r)
{
    uint64_t v = 0;
    unsigned n = 0;

    for (; isxdigit((unsigned char)*s) && n < 17; s++, n++)
        v = v << 4 | (uint64_t)(isdigit((unsigned char)*s)
                                    ? *s - '0'
                                    : (tolower((unsigned char)*s) - 'a' + 10));
    if (n == 0 || n > 16)
        return -EINVAL;
    *v_r = v;
    *end_r = s;
    return 0;
}

/*
 * A step's range "FIRST NR" (a journal's, after a crash, as much as the
 * plan's): FIRST and NR in hex, one blank between, NR at least 1 and the
 * range inside the space, page frames or I/O ports.  Anything else is
 * refused before the hypervisor sees it.
 */
static int parse_range(const char *v, bool iomem, uint64_t *first_r,
                       uint64_t *nr_r)
{
    uint64_t first, nr, end = iomem ? MFN_END : PORT_END;
    const char *p;

    if (!v || hex_u64(v, &first, &p) < 0 || *p != ' ' ||
        hex_u64(p + 1, &nr, &p) < 0 || *p)
        return -EINVAL;
    if (nr == 0 || first >= end || nr > end - first)
        return -ERANGE;
    *first_r = first;
    *nr_r = nr;
    return 0;
}

/* A step's IRQ: decimal, 1 to IRQ_END - 1, nothing else. */
static int parse_irq(const char *v, int *irq_r)
{
    int irq = 0;

    if (!v || !*v)
        return -EINVAL;
    for (const char *p = v; *p; p++) {
        if (!isdigit((unsigned char)*p) || p - v >= 5)
            return -EINVAL;
        irq = irq * 10 + (*p - '0');
    }
    if (irq < 1 || irq >= IRQ_END)
        return -ERANGE;
    *irq_r = irq;
    return 0;
}

/* An assign step's flags: 0, or the RDM flag. */
static int parse_assign_flags(const char *v, uint32_t *flags_r)
{
    if (!v || !strcmp(v, "0"))
        *flags_r = 0;
    else if (!strcmp(v, "1"))
        *flags_r = XPCI_ASSIGN_RDM_RELAXED;
    else
        return -EINVAL;
    return 0;
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
    uint32_t domid, flags;
    int r;

    if ((r = step_target(dev, a, &domid, &bdf)) < 0 ||
        (r = parse_assign_flags(a->val, &flags)) < 0)
        return r;
    if (!hv || !hv->assign)
        return -ENOSYS;
    r = hv->assign(ctx->hv_priv, domid, xpci_bdf_to_sbdf(&bdf), flags);
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

/* iomem-allow/-revoke (page frames) and ioport-allow/-revoke (ports): the
 * range "X Y" granted to or taken from the step's domain. */
static int act_range(xpci_ctx *ctx, const char *dev,
                     const struct xpci__action *a)
{
    const struct xpci_hv_ops *hv = ctx->hv;
    bool iomem = a->kind == XPCI__STEP_IOMEM_ALLOW ||
                 a->kind == XPCI__STEP_IOMEM_REVOKE;
    bool allow = a->kind == XPCI__STEP_IOMEM_ALLOW ||
                 a->kind == XPCI__STEP_IOPORT_ALLOW;
    uint64_t x, y;
    struct xpci_bdf bdf;
    uint32_t domid;
    int r;

    if ((r = step_target(dev, a, &domid, &bdf)) < 0 ||
        (r = parse_range(a->val, iomem, &x, &y)) < 0)
        return r;
    if (!hv || (iomem ? !hv->iomem_permission : !hv->ioport_permission))
        return -ENOSYS;
    if (iomem)
        r = hv->iomem_permission(ctx->hv_priv, domid, x, y, allow);
    else
        r = hv->ioport_permission(ctx->hv_priv, domid, (uint32_t)x,
                                  (uint32_t)y, allow);
    if (r == -ESRCH && !allow)
        return 0; /* the domain is gone, and its permissions with it */
    return r < 0 ? r : 1;
}

static int act_irq_allow(xpci_ctx *ctx, const char *dev,
                         const struct xpci__action *a)
{
    const struct xpci_hv_ops *hv = ctx->hv;
    struct xpci_bdf bdf;
    uint32_t domid;
    int r, irq, pirq;

    if ((r = step_target(dev, a, &domid, &bdf)) < 0 ||
        (r = parse_irq(a->val, &irq)) < 0)
        return r;
    if (!hv || !hv->map_pirq || !hv->irq_permission)
        return -ENOSYS;
    if ((r = hv->map_pirq(ctx->hv_priv, domid, irq, &pirq)) < 0)
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
    int r, pirq;

    if ((r = step_target(dev, a, &domid, &bdf)) < 0 ||
        (r = parse_irq(a->val, &pirq)) < 0)
        return r;
    if (!hv || !hv->unmap_pirq || !hv->irq_permission)
        return -ENOSYS;
    /*
     * As libxl (pci_remove_detached): unmap the pirq, then take the
     * permission.  For a GSI Xen hands the guest pirq == irq.  An HVM
     * guest's device model has usually unmapped it already when it let
     * the function go, so a failed unmap is no error.
     */
    r = hv->unmap_pirq(ctx->hv_priv, domid, pirq);
    if (r == -ESRCH)
        return 0; /* the domain is gone, and its permissions with it */
    if (r < 0 && r != -EINVAL && r != -ENOENT)
        return r;
    r = hv->irq_permission(ctx->hv_priv, domid, pirq, false);
    if (r == -ESRCH)
        return 0;
    return r < 0 ? r : 1;
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
        return xpci__sprintf("%s: xc_physdev_unmap_pirq(d%s, pirq %s) + "
                             "xc_domain_irq_permission(revoke)", dev, d, v);
    default:
        return xpci__sprintf("%s: %s (malformed step)", dev, v);
    }
}

const struct xpci__step_ops xpci__grant_steps[] = {
    {XPCI__STEP_ASSIGN, "assign", act_assign, describe},
    {XPCI__STEP_DEASSIGN, "deassign", act_deassign, describe},
    {XPCI__STEP_IOMEM_ALLOW, "iomem-allow", act_range, describe},
    {XPCI__STEP_IOMEM_REVOKE, "iomem-revoke", act_range, describe},
    {XPCI__STEP_IOPORT_ALLOW, "ioport-allow", act_range, describe},
    {XPCI__STEP_IOPORT_REVOKE, "ioport-revoke", act_range, describe},
    {XPCI__STEP_IRQ_ALLOW, "irq-allow", act_irq_allow, describe},
    {XPCI__STEP_IRQ_REVOKE, "irq-revoke", act_irq_revoke, describe},
    {0},
};

/* ------------------------------------------------------------ planning */
/*
 * A brief comment about shared permissions: Xen keeps a domain's iomem
 * and ioport permissions as rangesets and its IRQs as one flag each
 * (xen/common/domctl.c), not per function.  Two functions of one guest
 * can share a legacy IRQ (a GSI), a page (sub-page BARs) or a port range,
 * and revoking one function's range takes it from the other too.  So a
 * revoke covers only what no other function of the domain still needs,
 * and a grant of what the domain already holds through another function
 * has no undo.
 */

/* Units a BAR covers, inclusive: the pages of a memory BAR (from the page
 * of its first byte to the page of its last), the ports of an I/O BAR.
 * 0 for an unused BAR, 1, or -EOVERFLOW / -ERANGE for one that wraps or
 * lies beyond the port space. */
static int bar_span(const struct xpci_bar *b, uint64_t *first_r,
                    uint64_t *last_r)
{
    uint64_t end;

    if (b->type == XPCI_BAR_UNUSED || !b->start || !b->size)
        return 0;
    if (__builtin_add_overflow(b->start, b->size - 1, &end))
        return -EOVERFLOW;
    if (b->type == XPCI_BAR_IO) {
        if (end > 0xffff)
            return -ERANGE;
        *first_r = b->start;
        *last_r = end;
    } else {
        *first_r = b->start >> PAGE_SHIFT;
        *last_r = end >> PAGE_SHIFT;
    }
    return 1;
}

struct others {
    const struct xpci_device *const *devs;
    size_t n;
};

/* Does another function hold unit u of the space io?  Sets *end_r to the
 * last unit of the run that starts at u and is held (or not held) the
 * same way, at most last, and *who_r to a holder. */
static bool held_at(const struct others *o, bool io, uint64_t u,
                    uint64_t last, uint64_t *end_r, const char **who_r)
{
    uint64_t held_end = 0, free_end = last;
    bool held = false;

    for (size_t k = 0; k < o->n; k++) {
        for (unsigned i = 0; i < XPCI_NUM_RESOURCES; i++) {
            const struct xpci_bar *b = &o->devs[k]->bars[i];
            uint64_t f, l;

            if ((b->type == XPCI_BAR_IO) != io || bar_span(b, &f, &l) <= 0)
                continue;
            if (f <= u && u <= l) {
                if (!held || l > held_end) {
                    held_end = l;
                    *who_r = o->devs[k]->bdf_str;
                }
                held = true;
            } else if (f > u && f - 1 < free_end) {
                free_end = f - 1;
            }
        }
    }
    *end_r = held ? (held_end < last ? held_end : last) : free_end;
    return held;
}

static const char *irq_holder(const struct others *o, int irq)
{
    for (size_t k = 0; k < o->n; k++)
        if (o->devs[k]->irq == irq)
            return o->devs[k]->bdf_str;
    return NULL;
}

/* Plan one range [first, last] of a BAR of d. */
static int plan_range(struct xpci__plan *plan, const struct xpci_device *d,
                      const char *domid_str, bool give, bool io,
                      uint64_t first, uint64_t last, const struct others *o,
                      struct xpci_result *res)
{
    enum xpci__step_kind allow = io ? XPCI__STEP_IOPORT_ALLOW
                                    : XPCI__STEP_IOMEM_ALLOW;
    enum xpci__step_kind revoke = io ? XPCI__STEP_IOPORT_REVOKE
                                     : XPCI__STEP_IOMEM_REVOKE;
    uint64_t u = first, end;
    char val[64];
    int r;

    for (;;) {
        const char *who = NULL;
        bool held = held_at(o, io, u, last, &end, &who);

        snprintf(val, sizeof(val), "%" PRIx64 " %" PRIx64, u, end - u + 1);
        if (give)
            r = xpci__plan_add(plan, d->bdf_str, allow, domid_str, val,
                               held ? XPCI__STEP_NONE : revoke, domid_str,
                               held ? NULL : val);
        else if (!held)
            r = xpci__plan_add(plan, d->bdf_str, revoke, domid_str, val,
                               allow, domid_str, val);
        else
            r = xpci__result_note(res, "%s: %s 0x%" PRIx64 "-0x%" PRIx64
                                       " stay with d%s: %s uses them too",
                                  d->bdf_str, io ? "ports" : "pages", u, end,
                                  domid_str, who);
        if (r < 0)
            return r;
        if (end >= last)
            return 0;
        u = end + 1;
    }
}

bool xpci__grant_irq(const struct xpci_device *d)
{
    return d->irq > 0 && d->irq != XPCI__IRQ_NOT_CONNECTED;
}

int xpci__grant_plan(struct xpci__plan *plan, const struct xpci_device *d,
                     const char *domid_str, bool give,
                     const struct xpci_device *const *others,
                     size_t n_others, struct xpci_result *res)
{
    const struct others o = {.devs = others, .n = n_others};
    const char *dev = d->bdf_str, *who;
    char val[64];
    int r;

    for (unsigned i = 0; i < XPCI_NUM_RESOURCES; i++) {
        const struct xpci_bar *b = &d->bars[i];
        uint64_t first, last;

        r = bar_span(b, &first, &last);
        if (r < 0) {
            xpci__result_error(res, "%s: BAR %u (0x%" PRIx64 ", size 0x%"
                                    PRIx64 ") %s", dev, i, b->start, b->size,
                               r == -ERANGE ? "lies beyond the I/O port "
                                              "space"
                                            : "wraps past the end of the "
                                              "address space");
            return r;
        }
        if (r > 0 && (r = plan_range(plan, d, domid_str, give,
                                     b->type == XPCI_BAR_IO, first, last, &o,
                                     res)) < 0)
            return r;
    }
    if (d->irq == XPCI_IRQ_UNKNOWN)
        return give ? xpci__result_note(
                          res, "%s: MSI is on, so the kernel does not show "
                               "the legacy IRQ: none is granted to d%s",
                          dev, domid_str)
                    : xpci__result_note(
                          res, "%s: MSI is on (the guest's, through "
                               "pciback), so the kernel does not show the "
                               "legacy IRQ: d%s keeps the permission it was "
                               "given for it until it is destroyed",
                          dev, domid_str);
    if (!xpci__grant_irq(d))
        return 0;
    snprintf(val, sizeof(val), "%d", d->irq);
    who = irq_holder(&o, d->irq);
    /* Xen maps a GSI the domain already has to the same pirq again */
    if (give)
        return xpci__plan_add(plan, dev, XPCI__STEP_IRQ_ALLOW, domid_str, val,
                              who ? XPCI__STEP_NONE : XPCI__STEP_IRQ_REVOKE,
                              domid_str, who ? NULL : val);
    if (who)
        return xpci__result_note(res, "%s: IRQ %d stays with d%s: %s uses "
                                      "it too", dev, d->irq, domid_str, who);
    return xpci__plan_add(plan, dev, XPCI__STEP_IRQ_REVOKE, domid_str, val,
                          XPCI__STEP_IRQ_ALLOW, domid_str, val);
}
