/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * check.c - the assignability checks.  Each check has a stable id, a level
 * (pass / warn / unknown / fail), a one-line reason naming what was found
 * and, when something can be done, a remedy.  A device's verdict is its
 * most severe level.  The ids are part of the JSON schema: never rename
 * one, add new ones.
 */
#include <stdarg.h>
#include <stdio.h>

#include "xpci-internal.h"

#define MAX_GROUP 256
#define MAX_RDM 32
/* Regions asked for when Xen says a device has more than MAX_RDM. */
#define MAX_RDM_ALL 4096

struct checker {
    const struct xpci_host *host;
    const struct xpci_device *dev;
    struct xpci_report *rep;
    unsigned alloc;
    int err; /* first -ENOMEM */
};

static const char *const level_names[] = {
    [XPCI_LEVEL_PASS] = "pass",
    [XPCI_LEVEL_WARN] = "warn",
    [XPCI_LEVEL_UNKNOWN] = "unknown",
    [XPCI_LEVEL_FAIL] = "fail",
};

const char *xpci_level_name(enum xpci_level level)
{
    return (unsigned)level < ARRAY_SIZE(level_names) ? level_names[level]
                                                     : "invalid";
}

static void add(struct checker *c, const char *id, enum xpci_level level,
                const char *remedy, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add(struct checker *c, const char *id, enum xpci_level level,
                const char *remedy, const char *fmt, ...)
{
    struct xpci_report *rep = c->rep;
    struct xpci_check *chk;
    va_list ap;
    char *reason;

    if (c->err)
        return;
    if (rep->n_checks == c->alloc) {
        unsigned na = c->alloc ? c->alloc * 2 : 16;
        struct xpci_check *nc = realloc(rep->checks, na * sizeof(*nc));

        if (!nc) {
            c->err = -ENOMEM;
            return;
        }
        rep->checks = nc;
        c->alloc = na;
    }
    /* Most reasons are short, many have nothing to format: a report of
     * thousands of functions makes tens of thousands of them. */
    if (!strchr(fmt, '%')) {
        reason = strdup(fmt);
    } else {
        char buf[256];
        int len;

        va_start(ap, fmt);
        len = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (len < 0) {
            reason = NULL;
        } else if ((size_t)len < sizeof(buf)) {
            reason = malloc((size_t)len + 1);
            if (reason)
                memcpy(reason, buf, (size_t)len + 1);
        } else {
            va_start(ap, fmt);
            if (vasprintf(&reason, fmt, ap) < 0)
                reason = NULL;
            va_end(ap);
        }
    }
    chk = &rep->checks[rep->n_checks];
    chk->id = id;
    chk->level = level;
    chk->reason = reason;
    chk->remedy = remedy ? strdup(remedy) : NULL;
    if (!reason || (remedy && !chk->remedy)) {
        free(reason);
        free(chk->remedy);
        c->err = -ENOMEM;
        return;
    }
    rep->n_checks++;
    if (level > rep->verdict)
        rep->verdict = level;
}

static void together(struct checker *c, const char *bdf)
{
    struct xpci_report *rep = c->rep;

    if (c->err || !strcmp(bdf, c->dev->bdf_str) ||
        xpci__strv_contains(rep->together, rep->n_together, bdf))
        return;
    if (xpci__strv_push(&rep->together, &rep->n_together, bdf) < 0)
        c->err = -ENOMEM;
}

/* "a, b, c" of a vector (empty string when n == 0); caller frees. */
static char *join(char *const *v, unsigned n)
{
    size_t len = 1;
    char *s;

    for (unsigned i = 0; i < n; i++)
        len += strlen(v[i]) + 2;
    s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        if (i)
            strcat(s, ", ");
        strcat(s, v[i]);
    }
    return s;
}

static bool same_parent(const struct xpci_device *a,
                        const struct xpci_device *b)
{
    if (a->n_parents != b->n_parents)
        return false;
    if (!a->n_parents)
        return a->bdf.domain == b->bdf.domain && a->bdf.bus == b->bdf.bus;
    return !strcmp(a->parents[0], b->parents[0]);
}

/* Endpoints only: bridges in a group or on a bus stay with the host. */
static bool is_endpoint(const struct xpci_device *d)
{
    return !d->is_bridge && !d->is_host_bridge;
}

static void check_readable(struct checker *c)
{
    if (c->dev->error)
        add(c, "device.readable", XPCI_LEVEL_FAIL,
            "inspect the device with lspci -vvv; a bus rescan "
            "(echo 1 > /sys/bus/pci/rescan) may restore its entries",
            "sysfs entries of %s are unusable: %s", c->dev->bdf_str,
            c->dev->error);
    else
        add(c, "device.readable", XPCI_LEVEL_PASS, NULL,
            "sysfs entries read");
}

static void check_iommu(struct checker *c)
{
    const struct xpci_host_info *info = &c->host->info;

    if (info->xen_running != XPCI_YES)
        add(c, "xen.iommu", XPCI_LEVEL_UNKNOWN,
            "boot this host as Xen's dom0 to assign devices",
            "%s", info->hv_unavailable ? info->hv_unavailable
                                        : "hypervisor not consulted");
    else if (info->iommu_enabled == XPCI_YES)
        add(c, "xen.iommu", XPCI_LEVEL_PASS, NULL,
            "Xen has an IOMMU enabled (directio)");
    else if (info->iommu_enabled == XPCI_NO)
        add(c, "xen.iommu", XPCI_LEVEL_FAIL,
            "enable VT-d / AMD-Vi in the firmware and boot Xen with iommu=1",
            "Xen runs without an IOMMU: no device can be passed through");
    else
        add(c, "xen.iommu", XPCI_LEVEL_UNKNOWN, NULL,
            "Xen did not report its IOMMU state");
}

/* Subclasses of base class 0x06 (PCI Code and ID Assignment spec). */
static const char *bridge_class_name(uint32_t class_code)
{
    switch ((class_code >> 8) & 0xff) {
    case 0x01: return "ISA bridge";
    case 0x02: return "EISA bridge";
    case 0x03: return "MicroChannel bridge";
    case 0x04: return "PCI bridge";
    case 0x05: return "PCMCIA bridge";
    case 0x06: return "NuBus bridge";
    case 0x07: return "CardBus bridge";
    case 0x08: return "RACEway bridge";
    case 0x09: return "semi-transparent PCI bridge";
    case 0x0a: return "InfiniBand-to-PCI bridge";
    case 0x0b: return "Advanced Switching bridge";
    default: return "bridge";
    }
}

/*
 * Every class 0x06 function is a bridge and part of the platform,
 * whatever its header type (scan.c sets is_platform_bridge): an ISA/LPC
 * bridge has header type 0 but carries the legacy devices (timers,
 * keyboard controller, TPM) dom0 needs.  Only 0x0680 "other bridge" is a
 * catch-all some vendors use for ordinary devices.
 */
static bool is_other_bridge(const struct xpci_device *d)
{
    return !d->is_bridge && !d->is_host_bridge &&
           (d->class_code >> 8) == 0x0680;
}

static void check_endpoint(struct checker *c)
{
    const struct xpci_device *d = c->dev;

    if (d->is_platform_bridge)
        add(c, "device.endpoint", XPCI_LEVEL_FAIL, NULL,
            "%s (class %04x, header type %u): part of the platform, "
            "stays with dom0",
            bridge_class_name(d->class_code), d->class_code >> 8,
            d->header_type);
    else if (is_other_bridge(d))
        add(c, "device.endpoint", XPCI_LEVEL_WARN,
            "make sure the function is not part of the chipset before "
            "assigning it",
            "class 0680 (other bridge, header type %u): may be a platform "
            "part or an ordinary device",
            d->header_type);
    else if (d->is_host_bridge)
        add(c, "device.endpoint", XPCI_LEVEL_FAIL, NULL,
            "host bridge: part of the platform, never assignable");
    else if (d->is_bridge)
        add(c, "device.endpoint", XPCI_LEVEL_FAIL,
            "assign the devices behind the bridge instead",
            "%s (header type %u): bridges stay with dom0",
            d->pcie_type == XPCI_PCIE_ROOT_PORT ? "PCIe root port"
            : d->pcie_type == XPCI_PCIE_DOWNSTREAM_PORT
                ? "PCIe switch downstream port"
            : d->pcie_type == XPCI_PCIE_UPSTREAM_PORT
                ? "PCIe switch upstream port"
                : "PCI bridge",
            d->header_type);
    else
        add(c, "device.endpoint", XPCI_LEVEL_PASS, NULL, "endpoint function");
}

static void check_iommu_group(struct checker *c)
{
    const struct xpci_device *d = c->dev;
    const struct xpci_host *h = c->host;
    _cleanup_strv_ char **others = NULL;
    _cleanup_free_ char *list = NULL;
    unsigned n = 0;

    if (d->iommu_group >= 0) {
        size_t first, count = xpci__host_group(h, d->iommu_group, &first);

        for (size_t k = first; k < first + count; k++) {
            const struct xpci_device *o = &h->devs[h->by_group[k]];

            if (o != d && is_endpoint(o) &&
                xpci__strv_push(&others, &n, o->bdf_str) < 0)
                goto oom;
        }
        if (!n) {
            add(c, "group.iommu", XPCI_LEVEL_PASS, NULL,
                "alone in IOMMU group %d", d->iommu_group);
            return;
        }
        for (unsigned k = 0; k < n; k++)
            together(c, others[k]);
        if (!(list = join(others, n)))
            goto oom;
        add(c, "group.iommu", XPCI_LEVEL_WARN,
            "assign every function of the group to the same guest",
            "shares IOMMU group %d with %s", d->iommu_group, list);
        return;
    }
    /*
     * A dom0 under Xen has no Linux IOMMU groups.  Functions of one slot
     * without ACS may talk to each other directly, so they go together.
     */
    if (!d->multifunction || d->acs) {
        add(c, "group.iommu", XPCI_LEVEL_PASS, NULL,
            "no Linux IOMMU group (normal in dom0); %s",
            d->multifunction ? "functions isolated by ACS"
                             : "single-function device");
        return;
    }
    for (size_t i = 0; i < h->n; i++) {
        const struct xpci_device *o = &h->devs[i];

        if (o != d && o->bdf.domain == d->bdf.domain &&
            o->bdf.bus == d->bdf.bus && o->bdf.dev == d->bdf.dev &&
            !o->is_vf && xpci__strv_push(&others, &n, o->bdf_str) < 0)
            goto oom;
    }
    if (!n) {
        add(c, "group.iommu", XPCI_LEVEL_PASS, NULL,
            "no Linux IOMMU group; no other function in the slot");
        return;
    }
    for (unsigned k = 0; k < n; k++)
        together(c, others[k]);
    if (!(list = join(others, n)))
        goto oom;
    add(c, "group.iommu", XPCI_LEVEL_WARN,
        "assign every function of the slot to the same guest",
        "multifunction device without ACS: peer-to-peer with %s possible",
        list);
    return;
oom:
    c->err = -ENOMEM;
}

static void check_xen_group(struct checker *c)
{
    xpci_ctx *ctx = c->host->ctx;
    uint32_t sbdfs[MAX_GROUP];
    _cleanup_strv_ char **others = NULL;
    _cleanup_free_ char *list = NULL;
    uint32_t self = xpci_bdf_to_sbdf(&c->dev->bdf);
    unsigned n = 0;
    int r;

    if (!ctx->hv || !ctx->hv->device_group) {
        add(c, "group.xen", XPCI_LEVEL_UNKNOWN, NULL, "%s",
            c->host->info.hv_unavailable ? c->host->info.hv_unavailable
                                         : "hypervisor not consulted");
        return;
    }
    r = ctx->hv->device_group(ctx->hv_priv, self, sbdfs, MAX_GROUP);
    if (r < 0) {
        add(c, "group.xen", XPCI_LEVEL_UNKNOWN, NULL,
            "Xen could not give the device group of %s: %s", c->dev->bdf_str,
            strerror(-r));
        return;
    }
    for (int i = 0; i < r; i++) {
        struct xpci_bdf b;
        char s[XPCI_BDF_STRLEN];

        if (sbdfs[i] == self)
            continue;
        xpci_bdf_from_sbdf(sbdfs[i], &b);
        xpci_bdf_format(&b, s);
        if (xpci__strv_push(&others, &n, s) < 0) {
            c->err = -ENOMEM;
            return;
        }
        together(c, s);
    }
    if (!n) {
        add(c, "group.xen", XPCI_LEVEL_PASS, NULL,
            "alone in its Xen device group");
        return;
    }
    if (!(list = join(others, n))) {
        c->err = -ENOMEM;
        return;
    }
    add(c, "group.xen", XPCI_LEVEL_WARN,
        "assign the whole group to one guest",
        "Xen groups it with %s (one IOMMU context)", list);
}

/*
 * Behind a PCIe-to-PCI (or PCI-to-PCI) bridge, transactions carry the
 * bridge's requester ID: the IOMMU can't tell the functions apart, so they
 * share one context.
 */
static void check_bridge_alias(struct checker *c)
{
    const struct xpci_device *d = c->dev;
    const struct xpci_host *h = c->host;
    const char *alias = NULL;
    _cleanup_strv_ char **others = NULL;
    _cleanup_free_ char *list = NULL;
    unsigned n = 0;

    /* The outermost conventional bridge decides the requester ID. */
    for (unsigned i = 0; i < d->n_parents; i++) {
        ssize_t p = xpci__host_index(h, d->parents[i]);

        if (p < 0)
            continue;
        if (h->devs[p].pcie_type == XPCI_PCIE_TO_PCI_BRIDGE ||
            (h->devs[p].is_bridge && h->devs[p].pcie_type == XPCI_PCIE_NONE))
            alias = d->parents[i];
    }
    if (!alias) {
        add(c, "group.bridge-alias", XPCI_LEVEL_PASS, NULL,
            "has its own requester ID");
        return;
    }
    for (size_t i = 0; i < h->n; i++) {
        const struct xpci_device *o = &h->devs[i];

        if (o == d || !is_endpoint(o) ||
            !xpci__strv_contains(o->parents, o->n_parents, alias))
            continue;
        if (xpci__strv_push(&others, &n, o->bdf_str) < 0) {
            c->err = -ENOMEM;
            return;
        }
        together(c, o->bdf_str);
    }
    if (!n) {
        add(c, "group.bridge-alias", XPCI_LEVEL_PASS, NULL,
            "behind conventional PCI bridge %s, alone there", alias);
        return;
    }
    if (!(list = join(others, n))) {
        c->err = -ENOMEM;
        return;
    }
    add(c, "group.bridge-alias", XPCI_LEVEL_WARN,
        "assign every device behind the bridge to the same guest",
        "behind PCIe-to-PCI bridge %s: shares its requester ID with %s",
        alias, list);
}

static bool has_method(const char *methods, const char *m)
{
    size_t len = strlen(m);

    for (const char *p = methods; p && (p = strstr(p, m)); p += len)
        if ((p == methods || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
            return true;
    return false;
}

static void check_reset(struct checker *c)
{
    const struct xpci_device *d = c->dev;
    const struct xpci_host *h = c->host;
    static const char *const function_level[] = {
        "flr", "af_flr", "pm", "device_specific", "acpi"};
    _cleanup_strv_ char **others = NULL;
    _cleanup_free_ char *list = NULL;
    unsigned n = 0;

    if (d->reset_method && !*d->reset_method) {
        add(c, "reset", XPCI_LEVEL_WARN,
            "give it to one trusted guest only, or restore the methods "
            "(echo default > /sys/bus/pci/devices/<bdf>/reset_method)",
            "reset_method of %s is empty: every reset method was disabled "
            "(by writing an empty string to it), so the kernel will not "
            "reset it between guests",
            d->bdf_str);
        return;
    }
    if (!d->reset_method) {
        if (d->has_reset)
            add(c, "reset", XPCI_LEVEL_PASS, NULL,
                "the kernel can reset it (method not reported)");
        else
            add(c, "reset", XPCI_LEVEL_WARN,
                "give it to one trusted guest only, and reboot the host "
                "before reusing it",
                "no reset method: state survives from one guest to the next");
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(function_level); i++) {
        if (has_method(d->reset_method, function_level[i])) {
            add(c, "reset", XPCI_LEVEL_PASS, NULL,
                "function-level reset available (%s)", d->reset_method);
            return;
        }
    }
    /* Only a secondary bus reset: everything below the parent bridge goes
     * through it. */
    for (size_t i = 0; i < h->n; i++) {
        const struct xpci_device *o = &h->devs[i];

        if (o != d && same_parent(o, d) &&
            xpci__strv_push(&others, &n, o->bdf_str) < 0) {
            c->err = -ENOMEM;
            return;
        }
    }
    if (!n) {
        add(c, "reset", XPCI_LEVEL_PASS, NULL,
            "bus reset only (%s), alone on its bus", d->reset_method);
        return;
    }
    if (!(list = join(others, n))) {
        c->err = -ENOMEM;
        return;
    }
    /* pci_parent_bus_reset (drivers/pci/pci.c) resets no function that
     * shares its bus: the kernel listed the method when it probed the
     * first function alone, and refuses it now (ENOTTY). */
    add(c, "reset", XPCI_LEVEL_WARN,
        "give them to one trusted guest only, or reboot the host before "
        "reusing them",
        "bus reset only (%s), which the kernel refuses while %s shares its "
        "bus: not reset between guests", d->reset_method, list);
}

static void check_rmrr(struct checker *c)
{
    xpci_ctx *ctx = c->host->ctx;
    struct xpci_rdm few[MAX_RDM];
    _cleanup_free_ struct xpci_rdm *many = NULL;
    struct xpci_rdm *ents = few;
    unsigned needed = 0;
    int r;

    if (!ctx->hv || !ctx->hv->rdm_map) {
        add(c, "rmrr", XPCI_LEVEL_UNKNOWN, NULL, "%s",
            c->host->info.hv_unavailable ? c->host->info.hv_unavailable
                                         : "hypervisor not consulted");
        return;
    }
    r = ctx->hv->rdm_map(ctx->hv_priv, xpci_bdf_to_sbdf(&c->dev->bdf), ents,
                         MAX_RDM, &needed);
    if (r == -ENOBUFS && needed > MAX_RDM && needed <= MAX_RDM_ALL) {
        /* ask again with room for all of them: ents holds nothing yet */
        many = calloc(needed, sizeof(*many));
        if (!many) {
            c->err = -ENOMEM;
            return;
        }
        ents = many;
        r = ctx->hv->rdm_map(ctx->hv_priv, xpci_bdf_to_sbdf(&c->dev->bdf),
                             ents, needed, &needed);
    }
    if (r == -ENOBUFS) {
        add(c, "rmrr", XPCI_LEVEL_UNKNOWN, NULL,
            "Xen lists more reserved memory regions of %s than xpci reads "
            "(%u)", c->dev->bdf_str, needed);
        return;
    }
    if (r == -ENOENT || r == -EOPNOTSUPP || r == 0) {
        add(c, "rmrr", XPCI_LEVEL_PASS, NULL,
            "no reserved device memory (RMRR)");
        return;
    }
    if (r < 0) {
        add(c, "rmrr", XPCI_LEVEL_UNKNOWN, NULL,
            "Xen could not list reserved memory of %s: %s", c->dev->bdf_str,
            strerror(-r));
        return;
    }
    add(c, "rmrr", XPCI_LEVEL_WARN,
        "for an HVM guest use rdm_policy=relaxed (or rdm=\"strategy=host,"
        "policy=relaxed\") if the guest layout collides; PV guests are "
        "unaffected",
        "%d reserved memory region(s) (RMRR), first at 0x%llx (%llu pages): "
        "rdm_policy=strict refuses an HVM guest whose memory overlaps them",
        r, (unsigned long long)ents[0].start_pfn << 12,
        (unsigned long long)ents[0].nr_pages);
}

static void check_block(struct checker *c)
{
    const struct xpci_host *h = c->host;
    size_t self = (size_t)(c->dev - h->devs);
    _cleanup_strv_ char **uses = NULL;
    _cleanup_free_ char *list = NULL;
    unsigned n = 0;
    bool root = false, incomplete = false;

    if (!c->dev->n_blockdevs) {
        add(c, "dom0.block", XPCI_LEVEL_PASS, NULL, "no block devices");
        return;
    }
    if (!h->proc_known) {
        add(c, "dom0.block", XPCI_LEVEL_UNKNOWN, NULL,
            "holds block devices, but the mount table is unreadable");
        return;
    }
    for (size_t i = 0; i < h->n_blockdevs; i++) {
        const struct xpci__blockdev *bd = &h->blockdevs[i];

        if (bd->dev != self)
            continue;
        root = root || bd->root;
        incomplete = incomplete || bd->incomplete;
        for (unsigned k = 0; k < bd->n_users; k++)
            if (xpci__strv_push(&uses, &n, bd->users[k]) < 0) {
                c->err = -ENOMEM;
                return;
            }
    }
    if (!root && incomplete) {
        add(c, "dom0.block", XPCI_LEVEL_UNKNOWN,
            "inspect what is stacked on its disks (lsblk), then override "
            "with --force",
            "more devices are stacked on its disks than xpci follows; "
            "their use by dom0 is unknown");
        return;
    }
    if (!n && !h->n_unattributed) {
        _cleanup_free_ char *names =
            join(c->dev->blockdevs, c->dev->n_blockdevs);

        if (!names) {
            c->err = -ENOMEM;
            return;
        }
        add(c, "dom0.block", XPCI_LEVEL_PASS, NULL,
            "block devices %s not mounted or used as swap", names);
        return;
    }
    if (!(list = join(n ? uses : c->dev->blockdevs,
                      n ? n : c->dev->n_blockdevs))) {
        c->err = -ENOMEM;
        return;
    }
    /* A filesystem no device could be found for may live on this one. */
    if (!root && h->n_unattributed) {
        unsigned shown = h->n_unattributed < 4 ? h->n_unattributed : 4;
        _cleanup_free_ char *mounts = join(h->unattributed, shown);

        if (!mounts) {
            c->err = -ENOMEM;
            return;
        }
        add(c, "dom0.block", XPCI_LEVEL_UNKNOWN,
            "make sure none of these filesystems lives on its disks, then "
            "override with --force",
            "%s%s; dom0 mounts %s%s, whose devices could not be found",
            n ? "in use by dom0: " : "holds block devices ", list, mounts,
            shown < h->n_unattributed ? " and more" : "");
        return;
    }
    if (root)
        add(c, "dom0.block", XPCI_LEVEL_FAIL,
            "a device holding dom0's root filesystem cannot leave dom0",
            "holds dom0's root filesystem: %s", list);
    else
        add(c, "dom0.block", XPCI_LEVEL_WARN,
            "unmount / swapoff them first (or override with --force)",
            "in use by dom0: %s", list);
}

static void check_net(struct checker *c)
{
    const struct xpci_host *h = c->host;
    size_t self = (size_t)(c->dev - h->devs);
    const struct xpci__netdev *route = NULL, *up = NULL, *root = NULL;
    const struct xpci__netdev *upper_route = NULL, *upper_up = NULL;
    char remedy[256];
    size_t first, n;

    if (!c->dev->n_netdevs) {
        add(c, "dom0.net", XPCI_LEVEL_PASS, NULL, "no network interfaces");
        return;
    }
    n = xpci__host_netdevs(h, self, &first);
    for (size_t k = first; k < first + n; k++) {
        const struct xpci__netdev *nd = &h->netdevs[h->netdevs_by_dev[k]];
        if (nd->net_root && !root)
            root = nd;
        if (nd->default_route && !route)
            route = nd;
        if (nd->upper_route && !upper_route)
            upper_route = nd;
        if (nd->up && !up)
            up = nd;
        if (nd->upper_up && !upper_up)
            upper_up = nd;
    }
    if (root) {
        add(c, "dom0.net", XPCI_LEVEL_FAIL,
            "a function dom0's root filesystem comes through cannot leave "
            "dom0",
            "dom0's root filesystem comes over the network (%s) through %s%s%s",
            h->net_root, root->name,
            h->net_root_if && strcmp(h->net_root_if, root->name)
                ? ", under "
                : "",
            h->net_root_if && strcmp(h->net_root_if, root->name)
                ? h->net_root_if
                : "");
    } else if (route) {
        add(c, "dom0.net", XPCI_LEVEL_FAIL,
            "move dom0's default route to another interface first",
            "%s holds dom0's default route", route->name);
    } else if (upper_route) {
        add(c, "dom0.net", XPCI_LEVEL_FAIL,
            "move dom0's default route (and the bridge or bond carrying it) "
            "to another interface first",
            "%s", upper_route->upper_route);
    } else if (up) {
        snprintf(remedy, sizeof(remedy),
                 "ip link set %s down (or override with --force)", up->name);
        add(c, "dom0.net", XPCI_LEVEL_WARN, remedy,
            "network interface %s is up in dom0%s%s", up->name,
            up->upper_up ? "; " : "", up->upper_up ? up->upper_up : "");
    } else if (upper_up) {
        add(c, "dom0.net", XPCI_LEVEL_WARN,
            "take it out of the device stacked on it first (or override "
            "with --force)",
            "%s", upper_up->upper_up);
    } else {
        _cleanup_free_ char *names = join(c->dev->netdevs, c->dev->n_netdevs);

        if (!names) {
            c->err = -ENOMEM;
            return;
        }
        add(c, "dom0.net", XPCI_LEVEL_PASS, NULL,
            "network interfaces %s are down", names);
    }
}

static void check_console(struct checker *c)
{
    const struct xpci_device *d = c->dev;
    const struct xpci_host *h = c->host;
    size_t self = (size_t)(d - h->devs);

    for (size_t i = 0; i < h->n_console_devs; i++) {
        if (h->console_devs[i] == self) {
            add(c, "dom0.console", XPCI_LEVEL_WARN,
                "move dom0's console elsewhere (console= on the kernel "
                "command line) or override with --force",
                "a serial console of dom0 runs on it");
            return;
        }
    }
    if (d->boot_vga == 1 || d->has_fb) {
        add(c, "dom0.console", XPCI_LEVEL_WARN,
            "switch dom0's console to serial (console=hvc0) or another "
            "GPU, or override with --force",
            "%s%s%s", d->boot_vga == 1 ? "boot VGA device" : "",
            d->boot_vga == 1 && d->has_fb ? ", " : "",
            d->has_fb ? "dom0's framebuffer console lives on it" : "");
        return;
    }
    add(c, "dom0.console", XPCI_LEVEL_PASS, NULL, "not a dom0 console");
}

static bool vf_in_use(const struct xpci_device *vf)
{
    return (vf->driver && strcmp(vf->driver, "pciback")) ||
           vf->xen_domid >= 0 || vf->xen_assignable == XPCI_NO;
}

static void check_sriov(struct checker *c)
{
    const struct xpci_device *d = c->dev;
    const struct xpci_host *h = c->host;

    if (d->is_vf) {
        ssize_t p = d->physfn ? xpci__host_index(h, d->physfn) : -1;
        const struct xpci_device *pf = p >= 0 ? &h->devs[p] : NULL;

        if (!pf || !pf->driver)
            add(c, "sriov", XPCI_LEVEL_FAIL,
                "bind the physical function to its driver in dom0",
                "VF of %s, whose physical function has no driver",
                d->physfn ? d->physfn : "an unknown PF");
        else if (!strcmp(pf->driver, "pciback"))
            add(c, "sriov", XPCI_LEVEL_FAIL,
                "give the physical function back to its driver in dom0",
                "VF of %s, whose physical function is hidden in pciback",
                d->physfn);
        else
            add(c, "sriov", XPCI_LEVEL_PASS, NULL,
                "VF of %s (driver %s)", d->physfn, pf->driver);
        return;
    }
    if (d->sriov_numvfs > 0) {
        _cleanup_strv_ char **busy = NULL;
        _cleanup_free_ char *list = NULL;
        unsigned n = 0;

        for (unsigned k = 0; k < d->n_virtfns; k++) {
            ssize_t v = xpci__host_index(h, d->virtfns[k]);

            if (v >= 0 && vf_in_use(&h->devs[v]) &&
                xpci__strv_push(&busy, &n, d->virtfns[k]) < 0) {
                c->err = -ENOMEM;
                return;
            }
        }
        if (n) {
            if (!(list = join(busy, n))) {
                c->err = -ENOMEM;
                return;
            }
            add(c, "sriov", XPCI_LEVEL_FAIL,
                "release its VFs and set sriov_numvfs to 0 first",
                "physical function with %d VF(s) enabled, in use: %s",
                d->sriov_numvfs, list);
        } else {
            add(c, "sriov", XPCI_LEVEL_WARN,
                "echo 0 > /sys/bus/pci/devices/<pf>/sriov_numvfs before "
                "giving the PF away",
                "physical function with %d idle VF(s) enabled",
                d->sriov_numvfs);
        }
        return;
    }
    if (d->has_sriov)
        add(c, "sriov", XPCI_LEVEL_PASS, NULL,
            "SR-IOV capable, no VFs enabled");
    else
        add(c, "sriov", XPCI_LEVEL_PASS, NULL, "not SR-IOV");
}

/* Xen grants a guest whole pages: a BAR sharing a page with another
 * function's gives the guest that function's registers too. */
static void check_bar_pages(struct checker *c)
{
    const struct xpci_device *d = c->dev;

    if (d->bar_page_peer)
        add(c, "device.bar-page", XPCI_LEVEL_WARN,
            "keep both functions with one guest, or have the kernel align "
            "BARs to pages (pci=resource_alignment=...)",
            "a memory BAR shares a 4 KiB page with a BAR of %s: a guest "
            "given either function can reach the other's registers",
            d->bar_page_peer);
}

/* pciback's permissive flag outlives the guest that asked for it. */
static void check_permissive(struct checker *c)
{
    const struct xpci_device *d = c->dev;

    if (d->pciback_permissive == XPCI_YES)
        add(c, "pciback.permissive", XPCI_LEVEL_WARN,
            "xpci detach clears it; otherwise xpci assignable-remove and "
            "assignable-add again",
            "pciback lets guests write its config space unfiltered "
            "(permissive)");
    else if (d->pciback_permissive == XPCI_UNKNOWN)
        add(c, "pciback.permissive", XPCI_LEVEL_UNKNOWN, NULL,
            "pciback's permissive list could not be read");
}

/* Where a function is hidden at boot, for the reasons. */
static const char *boot_source(unsigned bits)
{
    if (bits & XPCI_BOOT_HIDE_CMDLINE)
        return "xen-pciback.hide= on the kernel command line";
    if (bits & XPCI_BOOT_HIDE_MODPROBE)
        return "options xen-pciback hide= in modprobe.d";
    return "xpci's persistent set";
}

static void check_state(struct checker *c)
{
    const struct xpci_device *d = c->dev;
    const struct xpci_host *h = c->host;
    const struct xpci_host_info *info = &h->info;
    bool pciback = d->driver && !strcmp(d->driver, "pciback");
    unsigned boot = d->hidden_at_boot;
    bool override_pciback =
        d->driver_override && !strcmp(d->driver_override, "pciback");

    if (d->xen_domid > 0 && d->xen_domid != (int)XPCI_DOMID_IO)
        add(c, "state", XPCI_LEVEL_FAIL,
            "detach it first (xl pci-detach or xpci detach)",
            "assigned to domain %d", d->xen_domid);
    else if (d->xen_assignable == XPCI_NO)
        add(c, "state", XPCI_LEVEL_FAIL,
            "find its holder with xl pci-list on each domain",
            "Xen reports it assigned to a guest (or unknown to Xen)");
    else if (pciback && !d->in_pciback_slots)
        add(c, "state", XPCI_LEVEL_WARN,
            "re-hide it with xpci assignable-add",
            "bound to pciback but missing from pciback's slots");
    else if (pciback && !boot)
        add(c, "state", XPCI_LEVEL_PASS, NULL,
            "already assignable: in pciback%s%s; hidden now, comes back "
            "to dom0 at next boot",
            d->libxl_assignable ? ", recorded by libxl" : "",
            info->xen_running == XPCI_YES ? "" : " (Xen state unknown)");
    else if (pciback)
        add(c, "state", XPCI_LEVEL_PASS, NULL,
            "already assignable: in pciback%s%s; hidden again at next boot "
            "(%s)",
            d->libxl_assignable ? ", recorded by libxl" : "",
            info->xen_running == XPCI_YES ? "" : " (Xen state unknown)",
            boot_source(boot));
    else if (boot)
        add(c, "state", XPCI_LEVEL_WARN,
            "hide it now with xpci assignable-add, or remove it from the "
            "boot-time setting",
            "given back now (%s), hidden again at next boot (%s)",
            d->driver ? d->driver : "no driver", boot_source(boot));
    else if (d->in_pciback_slots)
        add(c, "state", XPCI_LEVEL_WARN,
            "hide it with xpci assignable-add, or drop it from pciback's "
            "slots (echo BDF > /sys/bus/pci/drivers/pciback/remove_slot)",
            "listed in pciback's slots but %s%s: pciback takes it at its "
            "next probe",
            d->driver ? "bound to " : "not bound to it",
            d->driver ? d->driver : "");
    else if (override_pciback)
        add(c, "state", XPCI_LEVEL_WARN,
            "hide it with xpci assignable-add, or clear the override "
            "(echo > /sys/bus/pci/devices/BDF/driver_override)",
            "driver_override is pciback but %s%s: the next probe gives it "
            "to pciback",
            d->driver ? "it is bound to " : "no driver holds it",
            d->driver ? d->driver : "");
    else if (d->driver_override && (!d->driver ||
                                    strcmp(d->driver_override, d->driver)))
        add(c, "state", XPCI_LEVEL_WARN,
            "clear the override (echo > /sys/bus/pci/devices/BDF/"
            "driver_override) unless it was set on purpose",
            "driver_override is %s: only %s binds it at the next probe "
            "(%s now)",
            d->driver_override, d->driver_override,
            d->driver ? d->driver : "no driver");
    else if (d->driver)
        add(c, "state", XPCI_LEVEL_PASS, NULL,
            "in dom0, bound to %s (to be unbound when hidden)%s%s",
            d->driver, d->driver_override ? "; driver_override is " : "",
            d->driver_override ? d->driver_override : "");
    else
        add(c, "state", XPCI_LEVEL_PASS, NULL, "in dom0, no driver bound");
}

/* One of check_guest.c's checks into the report. */
static void add_finding(struct checker *c,
                        int (*fn)(const struct xpci_device *,
                                  struct xpci__finding *))
{
    struct xpci__finding f = {0};

    if (c->err)
        return;
    if (fn(c->dev, &f) < 0) {
        c->err = -ENOMEM;
        return;
    }
    add(c, f.id, f.level, f.remedy, "%s", f.reason);
    xpci__finding_dispose(&f);
}

/*
 * HVM guests and the function's interrupts.  Notes, not verdicts: what
 * matters depends on the Xen release and the guest, which the check cannot
 * see.
 *
 * MSI-X: Xen write-protects the pages of the MSI-X table (and PBA) from
 * the guest (mmio_ro_ranges; the device model emulates the table).  Before
 * Xen 4.19 ("x86/hvm: Allow access to registers on the same page as MSI-X
 * table") an HVM guest's writes to other registers in those pages are
 * dropped.  A table that does not start on a page boundary has something
 * before it in its page: a warning.
 *
 * MSI / MSI-X delivery: up to Xen 4.18 a Linux HVM guest takes them as
 * event channels (XENFEAT_hvm_pirqs); Xen 4.19 offers that only with
 * hvm_pirq=1 in the guest's config ("tools: don't expose
 * XENFEAT_hvm_pirqs by default"), as some devices fail with it (Xen:
 * "Unsupported MSI delivery mode 7").
 */
static void check_hvm_msix(struct checker *c)
{
    const struct xpci_device *d = c->dev;
    const struct xpci_bar *b;

    if (!d->has_msix || d->msix_table_bar < 0)
        return;
    b = d->msix_table_bar < 6 ? &d->bars[d->msix_table_bar]
                                               : NULL;
    if (!b || b->type == XPCI_BAR_UNUSED || !b->size) {
        add(c, "hvm.msix", XPCI_LEVEL_UNKNOWN,
            "check the function's MSI-X capability (lspci -vv)",
            "MSI-X table in BAR %d, which the kernel does not list",
            d->msix_table_bar);
        return;
    }
    if (d->msix_table_offset & 0xfff)
        add(c, "hvm.msix", XPCI_LEVEL_WARN,
            "for HVM guests use Xen 4.19 or later, or a PV guest",
            "MSI-X table at BAR %d + 0x%x (%u vectors) shares its 4 KiB "
            "page with what precedes it: before Xen 4.19 an HVM guest's "
            "writes there are dropped (the page is read-only to it)",
            d->msix_table_bar, d->msix_table_offset, d->msix_vectors);
    else
        add(c, "hvm.msix", XPCI_LEVEL_PASS, NULL,
            "MSI-X table at BAR %d + 0x%x (%u vectors), PBA at BAR %d + "
            "0x%x; an HVM guest's device model emulates them (before Xen "
            "4.19 other registers in their pages are read-only to it)",
            d->msix_table_bar, d->msix_table_offset, d->msix_vectors,
            d->msix_pba_bar, d->msix_pba_offset);
}

static void check_hvm_pirq(struct checker *c)
{
    const struct xpci_device *d = c->dev;

    if (!d->has_msi && !d->has_msix)
        return;
    add(c, "hvm.pirq", XPCI_LEVEL_PASS,
        "if Xen logs \"Unsupported MSI delivery mode 7\" for the guest: "
        "Xen 4.19+ without hvm_pirq=1, or the guest kernel's xen_nopv",
        "%s: a Linux HVM guest takes them as event channels up to Xen "
        "4.18 (XENFEAT_hvm_pirqs), on Xen 4.19+ only with hvm_pirq=1",
        d->has_msix && d->has_msi ? "MSI and MSI-X"
        : d->has_msix             ? "MSI-X"
                                  : "MSI");
}

/*
 * Legacy INTx: libxl and the device model map the IRQ as an HVM guest's
 * pirq of the same number.  A Linux guest taking its interrupts over event
 * channels numbers its emulated devices' pirqs from 16 up, and at a
 * hot-plugged function's detach the device model's unmap drops the
 * guest's own binding of that number too (Xen's physdev_unmap_pirq).
 */
static void check_hvm_intx(struct checker *c)
{
    const struct xpci_device *d = c->dev;

    if (!xpci__irq_may_be_guest_pirq(d))
        return;
    add(c, "hvm.intx", XPCI_LEVEL_PASS,
        "for an HVM guest give it at creation (pci=[...]); on Xen 4.19+ "
        "leave hvm_pirq off",
        "legacy INTx, IRQ %d: hot-plugged into a running HVM guest that "
        "takes interrupts over event channels (Xen up to 4.18, "
        "hvm_pirq=1 since 4.19) it becomes the guest's pirq %d, which a "
        "Linux guest may have given one of its emulated devices: that "
        "device's interrupt dies at the detach",
        d->irq, d->irq);
}

int xpci_check_device(const struct xpci_host *host,
                      const struct xpci_device *dev,
                      struct xpci_report **report_r)
{
    struct checker c = {.host = host, .dev = dev};

    c.rep = calloc(1, sizeof(*c.rep));
    if (!c.rep)
        return -ENOMEM;
    c.rep->dev = dev;
    c.rep->verdict = XPCI_LEVEL_PASS;

    check_readable(&c);
    check_iommu(&c);
    check_endpoint(&c);
    if (!dev->is_bridge && !dev->is_host_bridge && !dev->is_platform_bridge) {
        check_iommu_group(&c);
        check_xen_group(&c);
        check_bridge_alias(&c);
        check_reset(&c);
        add_finding(&c, xpci__check_reset_quirk);
        check_rmrr(&c);
        add_finding(&c, xpci__check_mmio_hole);
        check_block(&c);
        check_net(&c);
        check_console(&c);
        check_sriov(&c);
        check_bar_pages(&c);
        check_permissive(&c);
        add_finding(&c, xpci__check_pv_e820);
        check_hvm_msix(&c);
        check_hvm_pirq(&c);
        check_hvm_intx(&c);
        check_state(&c);
    }
    if (c.err) {
        xpci_report_free(c.rep);
        return c.err;
    }
    *report_r = c.rep;
    return 0;
}

void xpci_report_free(struct xpci_report *report)
{
    if (!report)
        return;
    for (unsigned i = 0; i < report->n_checks; i++) {
        free(report->checks[i].reason);
        free(report->checks[i].remedy);
    }
    free(report->checks);
    xpci__strv_free(report->together, report->n_together);
    free(report);
}
