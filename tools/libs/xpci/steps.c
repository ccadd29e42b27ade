/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * steps.c - the kinds of step an operation is made of, gathered from the
 * tables of the modules that own them: dom0's side (host_steps.c), the
 * hypervisor's grants (grant.c), pciback's backend (pv.c) and the device
 * model (hvm.c).  op.c runs steps through this table alone.
 */
#include "xpci-internal.h"

static int act_none(xpci_ctx *ctx, const char *dev,
                    const struct xpci__action *a)
{
    (void)ctx;
    (void)dev;
    (void)a;
    return 0;
}

static char *describe_none(const char *dev, const struct xpci__action *a)
{
    (void)a;
    return xpci__sprintf("%s: nothing", dev);
}

static const struct xpci__step_ops none = {XPCI__STEP_NONE, "none",
                                           act_none, describe_none};

static const struct xpci__step_ops *const tables[] = {
    xpci__host_steps,
    xpci__grant_steps,
    xpci__pv_steps,
    xpci__hvm_steps,
};

const struct xpci__step_ops *xpci__step_ops(enum xpci__step_kind kind)
{
    for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
        for (const struct xpci__step_ops *o = tables[t]; o->name; o++)
            if (o->kind == kind && kind != XPCI__STEP_NONE)
                return o;
    return &none;
}

enum xpci__step_kind xpci__step_kind_by_name(const char *name)
{
    for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
        for (const struct xpci__step_ops *o = tables[t]; o->name; o++)
            if (!strcmp(o->name, name))
                return o->kind;
    return XPCI__STEP_NONE;
}
