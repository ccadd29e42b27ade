/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xlu-unsafe.h - which spec strings must never reach libxlutil in a test.
 * Its parse_bdf() reads an uninitialised %n when its sscanf matches every
 * number but not the '.' after the device (bug 1 in spec.c); the unit
 * test and the fuzz target compare xpci's parser with libxlutil's only
 * for strings where that cannot happen, the positional BDF and every
 * bdf= value alike.
 */
#ifndef XLU_UNSAFE_H
#define XLU_UNSAFE_H

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static inline bool xlu_bdf_reads_uninitialised(const char *s)
{
    unsigned colons = 0, x, y, z;
    int n = -1;

    for (const char *p = s; isxdigit((unsigned char)*p) || *p == ':'; p++)
        colons += *p == ':';
    if (colons == 1)
        return sscanf(s, "%x:%x.%n", &x, &y, &n) == 2 && n < 0;
    if (colons == 2)
        return sscanf(s, "%x:%x:%x.%n", &x, &y, &z, &n) == 3 && n < 0;
    return false;
}

static inline bool xlu_reads_uninitialised(const char *s)
{
    if (xlu_bdf_reads_uninitialised(s))
        return true;
    for (const char *p = s; p; p = strchr(p, ',')) {
        if (*p == ',')
            p++;
        if (!strncmp(p, "bdf=", 4)) {
            char val[256];

            snprintf(val, sizeof(val), "%.*s", (int)strcspn(p + 4, ","),
                     p + 4);
            if (xlu_bdf_reads_uninitialised(val))
                return true;
        }
    }
    return false;
}

#endif /* XLU_UNSAFE_H */
