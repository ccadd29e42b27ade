/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * bdf.c - PCI addresses: parsing "[DDDD:]BB:DD.F", formatting, and Xen's
 * SBDF encoding.
 */
#include <ctype.h>
#include <stdio.h>

#include "xpci-internal.h"

/* Parse exactly `digits` hex digits or fewer (at least one); advance *s. */
static int parse_hex(const char **s, unsigned max_digits, unsigned *val_r)
{
    unsigned v = 0, n = 0;

    while (isxdigit((unsigned char)**s)) {
        if (++n > max_digits)
            return -EINVAL;
        v = v * 16 + (unsigned)(isdigit((unsigned char)**s)
                                    ? **s - '0'
                                    : tolower((unsigned char)**s) - 'a' + 10);
        (*s)++;
    }
    if (!n)
        return -EINVAL;
    *val_r = v;
    return 0;
}

int xpci_bdf_parse(const char *s, struct xpci_bdf *bdf_r)
{
    unsigned a, b, dev, func, dom = 0, bus;
    const char *p = s;

    if (!s)
        return -EINVAL;
    if (parse_hex(&p, 4, &a) < 0 || *p++ != ':')
        return -EINVAL;
    if (parse_hex(&p, 2, &b) < 0)
        return -EINVAL;
    if (*p == ':') {
        /* DDDD:BB:DD.F */
        p++;
        dom = a;
        bus = b;
        if (parse_hex(&p, 2, &dev) < 0)
            return -EINVAL;
    } else {
        /* BB:DD.F */
        if (a > 0xff)
            return -EINVAL;
        bus = a;
        dev = b;
    }
    if (*p++ != '.')
        return -EINVAL;
    if (parse_hex(&p, 1, &func) < 0 || *p)
        return -EINVAL;
    if (dev > 31 || func > 7)
        return -EINVAL;
    bdf_r->domain = (uint16_t)dom;
    bdf_r->bus = (uint8_t)bus;
    bdf_r->dev = (uint8_t)dev;
    bdf_r->func = (uint8_t)func;
    return 0;
}

void xpci_bdf_format(const struct xpci_bdf *bdf, char *buf)
{
    snprintf(buf, XPCI_BDF_STRLEN, "%04x:%02x:%02x.%x", bdf->domain, bdf->bus,
             bdf->dev & 0x1f, bdf->func & 7);
}

uint32_t xpci_bdf_to_sbdf(const struct xpci_bdf *bdf)
{
    return (uint32_t)bdf->domain << 16 | (uint32_t)bdf->bus << 8 |
           (uint32_t)bdf->dev << 3 | bdf->func;
}

void xpci_bdf_from_sbdf(uint32_t sbdf, struct xpci_bdf *bdf_r)
{
    bdf_r->domain = (uint16_t)(sbdf >> 16);
    bdf_r->bus = (uint8_t)(sbdf >> 8);
    bdf_r->dev = (uint8_t)((sbdf >> 3) & 0x1f);
    bdf_r->func = (uint8_t)(sbdf & 7);
}

int xpci_bdf_cmp(const struct xpci_bdf *a, const struct xpci_bdf *b)
{
    uint32_t x = xpci_bdf_to_sbdf(a), y = xpci_bdf_to_sbdf(b);

    return x < y ? -1 : x > y;
}
