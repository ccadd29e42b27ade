/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * config.c - reading a function's configuration space: the header, the
 * capability list and the extended capability list.  Offsets and bits are
 * the PCI Local Bus and PCI Express Base specifications' (as in Linux's
 * include/uapi/linux/pci_regs.h).
 */
#include "xpci-internal.h"

#define CFG_VENDOR 0x00
#define CFG_DEVICE 0x02
#define CFG_STATUS 0x06
#define CFG_STATUS_CAP_LIST 0x10
#define CFG_REVISION 0x08
#define CFG_CLASS_PROG 0x09
#define CFG_HEADER_TYPE 0x0e
#define CFG_SUBSYS_VENDOR 0x2c
#define CFG_SUBSYS_ID 0x2e
#define CFG_CAP_PTR 0x34
#define CFG_CAP_PTR_CARDBUS 0x14

#define CAP_PM 0x01
#define CAP_PM_CTRL 4
#define CAP_PM_NO_SOFT_RESET 0x0008
#define CAP_MSI 0x05
#define CAP_EXP 0x10
#define CAP_EXP_FLAGS 2
#define CAP_EXP_DEVCAP 4
#define CAP_EXP_DEVCAP_FLR (1U << 28)
#define CAP_SSVID 0x0d /* bridges: subsystem ids */
#define CAP_MSIX 0x11
#define CAP_MSIX_FLAGS 2
#define CAP_MSIX_QSIZE 0x07ff
#define CAP_MSIX_TABLE 4
#define CAP_MSIX_PBA 8
#define CAP_MSIX_BIR 0x7
#define CAP_AF 0x13
#define CAP_AF_CAP 3
#define CAP_AF_TP 0x01
#define CAP_AF_FLR 0x02

#define EXT_CAP_START 0x100
#define EXT_CAP_ACS 0x000d
#define EXT_CAP_SRIOV 0x0010

static unsigned get8(const uint8_t *c, size_t off)
{
    return c[off];
}

static unsigned get16(const uint8_t *c, size_t off)
{
    return (unsigned)c[off] | (unsigned)c[off + 1] << 8;
}

static uint32_t get32(const uint8_t *c, size_t off)
{
    return get16(c, off) | (uint32_t)get16(c, off + 2) << 16;
}

static void parse_caps(struct xpci_device *dev, const uint8_t *cfg, size_t len,
                       unsigned ptr)
{
    /* 48 capabilities fit in the 192 bytes after the header: a longer
     * chain is a loop. */
    for (int ttl = 48; ptr >= 0x40 && ttl > 0; ttl--) {
        unsigned id;

        ptr &= ~3U;
        if (ptr + 8 > len)
            break;
        id = get8(cfg, ptr);
        switch (id) {
        case CAP_PM:
            dev->has_pm = true;
            dev->pm_no_soft_reset =
                !!(get16(cfg, ptr + CAP_PM_CTRL) & CAP_PM_NO_SOFT_RESET);
            break;
        case CAP_MSI:
            dev->has_msi = true;
            break;
        case CAP_MSIX:
            dev->has_msix = true;
            if (ptr + 12 > len)
                break;
            dev->msix_vectors =
                (get16(cfg, ptr + CAP_MSIX_FLAGS) & CAP_MSIX_QSIZE) + 1;
            dev->msix_table_bar =
                (int)(get32(cfg, ptr + CAP_MSIX_TABLE) & CAP_MSIX_BIR);
            dev->msix_table_offset =
                get32(cfg, ptr + CAP_MSIX_TABLE) & ~(uint32_t)CAP_MSIX_BIR;
            dev->msix_pba_bar =
                (int)(get32(cfg, ptr + CAP_MSIX_PBA) & CAP_MSIX_BIR);
            dev->msix_pba_offset =
                get32(cfg, ptr + CAP_MSIX_PBA) & ~(uint32_t)CAP_MSIX_BIR;
            break;
        case CAP_SSVID:
            dev->subsys_vendor = (uint16_t)get16(cfg, ptr + 4);
            dev->subsys_device = (uint16_t)get16(cfg, ptr + 6);
            break;
        case CAP_EXP:
            dev->pcie_type = (enum xpci_pcie_type)(
                (get16(cfg, ptr + CAP_EXP_FLAGS) >> 4) & 0xf);
            if (get32(cfg, ptr + CAP_EXP_DEVCAP) & CAP_EXP_DEVCAP_FLR)
                dev->flr = true;
            break;
        case CAP_AF:
            dev->has_af = true;
            if ((get8(cfg, ptr + CAP_AF_CAP) & (CAP_AF_TP | CAP_AF_FLR)) ==
                (CAP_AF_TP | CAP_AF_FLR))
                dev->flr = true;
            break;
        default:
            break;
        }
        ptr = get8(cfg, ptr + 1);
    }
}

static void parse_ext_caps(struct xpci_device *dev, const uint8_t *cfg,
                           size_t len)
{
    unsigned ptr = EXT_CAP_START;

    /* At most (4096 - 256) / 4 headers: a longer chain is a loop. */
    for (int ttl = 960; ptr >= EXT_CAP_START && ttl > 0; ttl--) {
        uint32_t hdr;

        if (ptr + 4 > len)
            break;
        hdr = get32(cfg, ptr);
        if (hdr == 0 || hdr == 0xffffffffU)
            break;
        switch (hdr & 0xffff) {
        case EXT_CAP_ACS:
            dev->acs = true;
            break;
        case EXT_CAP_SRIOV:
            dev->has_sriov = true;
            break;
        default:
            break;
        }
        ptr = (hdr >> 20) & ~3U;
    }
}

void xpci__config_parse(struct xpci_device *dev, const uint8_t *cfg,
                        size_t len)
{
    unsigned hdr, ptr;

    dev->pcie_type = XPCI_PCIE_NONE;
    dev->msix_table_bar = dev->msix_pba_bar = -1;
    if (len < 0x40)
        return;
    dev->vendor = (uint16_t)get16(cfg, CFG_VENDOR);
    dev->device = (uint16_t)get16(cfg, CFG_DEVICE);
    dev->revision = (uint8_t)get8(cfg, CFG_REVISION);
    dev->class_code = get8(cfg, CFG_CLASS_PROG) |
                      get8(cfg, CFG_CLASS_PROG + 1) << 8 |
                      (uint32_t)get8(cfg, CFG_CLASS_PROG + 2) << 16;
    hdr = get8(cfg, CFG_HEADER_TYPE);
    dev->header_type = hdr & 0x7f;
    dev->multifunction = !!(hdr & 0x80);
    if (dev->header_type == 0) {
        dev->subsys_vendor = (uint16_t)get16(cfg, CFG_SUBSYS_VENDOR);
        dev->subsys_device = (uint16_t)get16(cfg, CFG_SUBSYS_ID);
    }
    /* Without root privileges sysfs gives only the 64-byte header. */
    dev->config_full = len > 0x40;
    if (!dev->config_full || !(get16(cfg, CFG_STATUS) & CFG_STATUS_CAP_LIST))
        return;
    ptr = get8(cfg, dev->header_type == 2 ? CFG_CAP_PTR_CARDBUS : CFG_CAP_PTR);
    parse_caps(dev, cfg, len, ptr);
    if (len > EXT_CAP_START)
        parse_ext_caps(dev, cfg, len);
}
