/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * hv_xenctrl.c - the hypervisor backend over libxenctrl.  The only file of
 * the library that includes <xenctrl.h>; libxc's -1 + errno results become
 * -errno here, once.
 */
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <xenctrl.h>
#include <xentoollog.h>

#include "xpci-internal.h"

struct hv_xc {
    xc_interface *xch;
    xentoollog_logger logger;
};

/*
 * libxc logs failed hypercalls on its own (to stderr by default).  The
 * library reports errors to its caller instead, so give libxc a logger that
 * drops everything.
 */
static void quiet_vmessage(struct xentoollog_logger *logger,
                           xentoollog_level level, int errnoval,
                           const char *context, const char *format,
                           va_list al)
{
}

static void quiet_progress(struct xentoollog_logger *logger,
                           const char *context, const char *doing_what,
                           int percent, unsigned long done,
                           unsigned long total)
{
}

static void quiet_destroy(struct xentoollog_logger *logger)
{
}

static int neg_errno(int r)
{
    if (r >= 0)
        return r;
    return errno > 0 ? -errno : -EIO;
}

static void hv_close(void *priv)
{
    struct hv_xc *hv = priv;

    if (!hv)
        return;
    xc_interface_close(hv->xch);
    free(hv);
}

/* "4.20.4": XENVER_version is major << 16 | minor, the extra version
 * carries the rest (".4", or "-rc" on a development build). */
static void hv_version(struct hv_xc *hv, char *buf, size_t size)
{
    xen_extraversion_t extra;
    int v = xc_version(hv->xch, XENVER_version, NULL);

    buf[0] = '\0';
    if (v < 0)
        return;
    memset(extra, 0, sizeof(extra));
    if (xc_version(hv->xch, XENVER_extraversion, &extra) < 0)
        extra[0] = '\0';
    extra[sizeof(extra) - 1] = '\0';
    snprintf(buf, size, "%d.%d%s", v >> 16, v & 0xffff, extra);
}

static int hv_physinfo(void *priv, struct xpci_hv_info *info_r)
{
    struct hv_xc *hv = priv;
    xc_physinfo_t info = {0};

    if (xc_physinfo(hv->xch, &info) < 0)
        return neg_errno(-1);
    info_r->iommu_enabled = !!(info.capabilities & XEN_SYSCTL_PHYSCAP_directio);
    info_r->hvm = !!(info.capabilities & XEN_SYSCTL_PHYSCAP_hvm);
    info_r->max_domid_hint = 0;
    hv_version(hv, info_r->version, sizeof(info_r->version));
    return 0;
}

static int hv_device_group(void *priv, uint32_t sbdf, uint32_t *sbdfs,
                           unsigned max)
{
    struct hv_xc *hv = priv;
    uint32_t num = 0;

    if (xc_get_device_group(hv->xch, 0, sbdf, max, &num, sbdfs) < 0)
        return neg_errno(-1);
    if (num > max)
        num = max;
    /*
     * Xen answers with dom0's other devices of the group in a layout of
     * its own, bus << 16 | devfn << 8, without the segment
     * (xen/drivers/passthrough/pci.c, iommu_get_device_group).
     */
    for (uint32_t i = 0; i < num; i++)
        sbdfs[i] = (sbdf & 0xffff0000U) | ((sbdfs[i] >> 8) & 0xffffU);
    return (int)num;
}

static int hv_rdm_map(void *priv, uint32_t sbdf, struct xpci_rdm *ents,
                      unsigned max, unsigned *needed_r)
{
    struct hv_xc *hv = priv;
    struct xen_reserved_device_memory *raw;
    uint32_t n = max;
    int r;

    raw = calloc(max ? max : 1, sizeof(*raw));
    if (!raw)
        return -ENOMEM;
    r = xc_reserved_device_memory_map(hv->xch, 0, (uint16_t)(sbdf >> 16),
                                      (uint8_t)(sbdf >> 8), (uint8_t)sbdf,
                                      raw, &n);
    if (r < 0) {
        r = neg_errno(r);
        if (r == -ENOBUFS && needed_r)
            *needed_r = n;
        free(raw);
        return r;
    }
    for (uint32_t i = 0; i < n && i < max; i++) {
        ents[i].start_pfn = raw[i].start_pfn;
        ents[i].nr_pages = raw[i].nr_pages;
    }
    free(raw);
    return (int)(n < max ? n : max);
}

static int hv_test_assign(void *priv, uint32_t domid, uint32_t sbdf)
{
    struct hv_xc *hv = priv;

    return neg_errno(xc_test_assign_device(hv->xch, domid, sbdf));
}

static int hv_assign(void *priv, uint32_t domid, uint32_t sbdf,
                     uint32_t flags)
{
    struct hv_xc *hv = priv;

    return neg_errno(xc_assign_device(hv->xch, domid, sbdf, flags));
}

static int hv_deassign(void *priv, uint32_t domid, uint32_t sbdf)
{
    struct hv_xc *hv = priv;

    return neg_errno(xc_deassign_device(hv->xch, domid, sbdf));
}

static int hv_iomem_permission(void *priv, uint32_t domid, uint64_t first_mfn,
                               uint64_t nr_mfns, bool allow)
{
    struct hv_xc *hv = priv;

    return neg_errno(xc_domain_iomem_permission(hv->xch, domid, first_mfn,
                                                nr_mfns, allow));
}

static int hv_ioport_permission(void *priv, uint32_t domid,
                                uint32_t first_port, uint32_t nr_ports,
                                bool allow)
{
    struct hv_xc *hv = priv;

    return neg_errno(xc_domain_ioport_permission(hv->xch, domid, first_port,
                                                 nr_ports, allow));
}

static int hv_map_pirq(void *priv, uint32_t domid, int irq, int *pirq_r)
{
    struct hv_xc *hv = priv;
    int pirq = irq;

    if (xc_physdev_map_pirq(hv->xch, domid, irq, &pirq) < 0)
        return neg_errno(-1);
    *pirq_r = pirq;
    return 0;
}

static int hv_unmap_pirq(void *priv, uint32_t domid, int pirq)
{
    struct hv_xc *hv = priv;

    return neg_errno(xc_physdev_unmap_pirq(hv->xch, domid, pirq));
}

static int hv_irq_permission(void *priv, uint32_t domid, int pirq, bool allow)
{
    struct hv_xc *hv = priv;

    return neg_errno(
        xc_domain_irq_permission(hv->xch, domid, (uint32_t)pirq, allow));
}

/* Xen's record of domid; -ESRCH when it runs no such domain. */
static int domain_info(struct hv_xc *hv, uint32_t domid,
                       xc_domaininfo_t *info)
{
    int r = xc_domain_getinfolist(hv->xch, domid, 1, info);

    if (r < 0)
        return neg_errno(r);
    return r == 0 || info->domain != domid ? -ESRCH : 0;
}

/*
 * A dying domain is being destroyed: Xen has released (or is releasing)
 * its devices to quarantine, so it counts as gone.  One that has shut
 * down for good (crashed, powered off, rebooted, its watchdog fired) runs
 * no more until its toolstack destroys it; a suspended one may resume
 * (a failed save or migration), and a soft reset keeps it.
 */
static int hv_domain_exists(void *priv, uint32_t domid)
{
    xc_domaininfo_t info;
    unsigned reason;
    int r = domain_info(priv, domid, &info);

    if (r < 0)
        return r;
    if (info.flags & XEN_DOMINF_dying)
        return -ESRCH;
    if (!(info.flags & XEN_DOMINF_shutdown))
        return 0;
    reason = (info.flags >> XEN_DOMINF_shutdownshift) &
             XEN_DOMINF_shutdownmask;
    return reason == SHUTDOWN_suspend || reason == SHUTDOWN_soft_reset
               ? 0
               : -ESHUTDOWN;
}

static int hv_domain_type(void *priv, uint32_t domid)
{
    xc_domaininfo_t info;
    int r = domain_info(priv, domid, &info);

    if (r < 0)
        return r;
    return info.flags & XEN_DOMINF_hvm_guest ? XPCI_DOMAIN_HVM
                                             : XPCI_DOMAIN_PV;
}

static int hv_domain_pirqs(void *priv, uint32_t domid)
{
    xc_domaininfo_t info;
    int r = domain_info(priv, domid, &info);

    if (r < 0)
        return r;
    return (info.flags & XEN_DOMINF_hvm_guest) &&
           (info.arch_config.emulation_flags & XEN_X86_EMU_USE_PIRQ);
}

static const struct xpci_hv_ops xenctrl_ops = {
    .close = hv_close,
    .physinfo = hv_physinfo,
    .device_group = hv_device_group,
    .rdm_map = hv_rdm_map,
    .test_assign = hv_test_assign,
    .assign = hv_assign,
    .deassign = hv_deassign,
    .iomem_permission = hv_iomem_permission,
    .ioport_permission = hv_ioport_permission,
    .map_pirq = hv_map_pirq,
    .unmap_pirq = hv_unmap_pirq,
    .irq_permission = hv_irq_permission,
    .domain_exists = hv_domain_exists,
    .domain_type = hv_domain_type,
    .domain_pirqs = hv_domain_pirqs,
};

int xpci__hv_xenctrl_open(const char *dev_root, const char *proc_root,
                          const struct xpci_hv_ops **ops_r, void **priv_r,
                          char **why_r)
{
    _cleanup_free_ char *privcmd = NULL, *caps_path = NULL;
    _cleanup_free_ char *caps = NULL;
    struct hv_xc *hv;
    struct stat st;

    privcmd = xpci__sprintf("%s/xen/privcmd", dev_root);
    caps_path = xpci__sprintf("%s/xen/capabilities", proc_root);
    if (!privcmd || !caps_path)
        return -ENOMEM;
    /* Tell "no Xen" apart from "Xen but we can't talk to it" cheaply,
     * before libxencall prints its own complaint. */
    if (stat(privcmd, &st) < 0) {
        int r = -errno;

        *why_r = xpci__sprintf("Xen is not running: %s absent", privcmd);
        return r;
    }
    if (xpci__read_file(AT_FDCWD, caps_path, &caps) >= 0 &&
        !strstr(caps, "control_d")) {
        *why_r = xpci__sprintf("not running in the Xen control domain "
                               "(%s lacks control_d)",
                               caps_path);
        return -EPERM;
    }
    hv = calloc(1, sizeof(*hv));
    if (!hv)
        return -ENOMEM;
    hv->logger.vmessage = quiet_vmessage;
    hv->logger.progress = quiet_progress;
    hv->logger.destroy = quiet_destroy;
    hv->xch = xc_interface_open(&hv->logger, &hv->logger, 0);
    if (!hv->xch) {
        int r = errno > 0 ? -errno : -EIO;

        *why_r = xpci__sprintf("cannot open the Xen control interface: %s",
                               strerror(-r));
        free(hv);
        return r;
    }
    *ops_r = &xenctrl_ops;
    *priv_r = hv;
    return 0;
}
