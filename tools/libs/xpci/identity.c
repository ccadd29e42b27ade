/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * identity.c - what a function is, as opposed to where it sits: the ids
 * the kernel shows in sysfs and, where the device carries one, its PCIe
 * Device Serial Number.  The persistent set records it, so that a card
 * moved or replaced in a remembered slot is not taken from dom0 at the
 * next boot.
 */
#include <fcntl.h>
#include <stdio.h>

#include "xpci-internal.h"

#define SYSFS_DEVICES "bus/pci/devices"
#define CFG_EXT_START 0x100
#define CFG_EXT_END 0x1000
#define EXT_CAP_DSN 0x0003 /* PCIe r6.0, 7.9.3 Device Serial Number */

static int read_hex(int devfd, const char *attr, unsigned long max,
                    unsigned long *v_r)
{
    long v;
    int r = xpci__read_long(devfd, attr, &v);

    if (r < 0)
        return r;
    if (v < 0 || (unsigned long)v > max)
        return -EINVAL;
    *v_r = (unsigned long)v;
    return 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* The serial number, if the extended capability list has one; the list
 * is walked with a bound, as a device (or a tree) may loop it. */
static bool read_dsn(int devfd, uint64_t *dsn_r)
{
    uint8_t cfg[CFG_EXT_END];
    ssize_t len = xpci__read_bin(devfd, "config", cfg, sizeof(cfg));
    unsigned off = CFG_EXT_START;

    for (int hops = 0; len > 0 && hops < (CFG_EXT_END - CFG_EXT_START) / 4;
         hops++) {
        uint32_t h;

        if (off < CFG_EXT_START || off + 12 > (size_t)len)
            return false;
        h = le32(cfg + off);
        if (h == 0 || h == 0xffffffff)
            return false;
        if ((h & 0xffff) == EXT_CAP_DSN) {
            *dsn_r = (uint64_t)le32(cfg + off + 8) << 32 | le32(cfg + off + 4);
            return true;
        }
        off = (h >> 20) & 0xffc;
        if (!off)
            return false;
    }
    return false;
}

int xpci__identity_read(xpci_ctx *ctx, const char *bdf, char **ident_r)
{
    _cleanup_close_ int devfd = -1;
    unsigned long ven, dev, sven, sdev, cls;
    struct xpci_bdf b;
    char path[64];
    uint64_t dsn;
    char *s;
    int r;

    if (xpci_bdf_parse(bdf, &b) < 0)
        return -EINVAL;
    snprintf(path, sizeof(path), SYSFS_DEVICES "/%s", bdf);
    devfd = xpci__open_beneath(ctx->sysfs_fd, path, O_PATH | O_DIRECTORY, 0);
    if (devfd < 0)
        return devfd;
    if ((r = read_hex(devfd, "vendor", 0xffff, &ven)) < 0 ||
        (r = read_hex(devfd, "device", 0xffff, &dev)) < 0 ||
        (r = read_hex(devfd, "subsystem_vendor", 0xffff, &sven)) < 0 ||
        (r = read_hex(devfd, "subsystem_device", 0xffff, &sdev)) < 0 ||
        (r = read_hex(devfd, "class", 0xffffff, &cls)) < 0)
        return r;
    if (read_dsn(devfd, &dsn))
        s = xpci__sprintf("%04lx:%04lx/%04lx:%04lx/%06lx/dsn=%016llx", ven,
                          dev, sven, sdev, cls, (unsigned long long)dsn);
    else
        s = xpci__sprintf("%04lx:%04lx/%04lx:%04lx/%06lx", ven, dev, sven,
                          sdev, cls);
    if (!s)
        return -ENOMEM;
    *ident_r = s;
    return 0;
}
