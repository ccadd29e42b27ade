/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * select.c - device selectors: "vendor=8086,device=1572", "class=0200",
 * "address=0000:3b:*.*", "location=pci0000:00/1c.0/ *" (without the
 * space), "driver=ixgbe",
 * "pf=0000:3b:00.0", "numa=1" (the vocabulary of OpenStack Nova's
 * [pci] device_spec), parsed strictly into typed fields and matched against
 * a host snapshot.  A selector is hostile input: its length, its number of
 * terms and every value's characters and range are checked here, once.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpci-internal.h"

#define MAX_TERMS 16
#define MAX_VALUE 256
#define MAX_NUMA 4095

enum key {
    K_VENDOR = 1U << 0,
    K_DEVICE = 1U << 1,
    K_CLASS = 1U << 2,
    K_ADDRESS = 1U << 3,
    K_LOCATION = 1U << 4,
    K_DRIVER = 1U << 5,
    K_PF = 1U << 6,
    K_NUMA = 1U << 7,
};

static const struct {
    const char *name;
    enum key key;
} keys[] = {
    {"vendor", K_VENDOR},     {"vendor_id", K_VENDOR},
    {"device", K_DEVICE},     {"product_id", K_DEVICE},
    {"class", K_CLASS},       {"address", K_ADDRESS},
    {"location", K_LOCATION}, {"driver", K_DRIVER},
    {"pf", K_PF},             {"numa", K_NUMA},
};

#define ANY (-1)

struct xpci_selector {
    unsigned given;            /* keys seen, wildcards included */
    unsigned active;           /* keys that constrain */
    unsigned vendor, device;
    char class_prefix[7];      /* 1..6 lower-case hex digits */
    int domain, bus, slot, func; /* ANY or the value */
    char *location;            /* fnmatch(3) pattern */
    char *driver;              /* "" for "no driver bound" */
    char *pf;                  /* a BDF or a location path */
    int numa;
};

/* A printable, bounded copy of s for messages. */
static void quote(char *buf, size_t len, const char *s)
{
    size_t i;

    for (i = 0; s[i] && i + 1 < len; i++)
        buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
    buf[i] = '\0';
    if (s[i] && len > 4)
        memcpy(buf + len - 4, "...", 4);
}

static int fail(char **err_r, const char *expr, const char *fmt, ...)
{
    char q[80], *why = NULL;
    va_list ap;
    int r;

    if (!err_r)
        return -EINVAL;
    quote(q, sizeof(q), expr);
    va_start(ap, fmt);
    r = vasprintf(&why, fmt, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    r = asprintf(err_r, "selector '%s': %s", q, why);
    free(why);
    if (r < 0) {
        *err_r = NULL;
        return -ENOMEM;
    }
    /* values quoted in the reason may hold anything: keep it printable */
    for (char *p = *err_r; *p; p++)
        if (!isprint((unsigned char)*p))
            *p = '?';
    return -EINVAL;
}

/* 1..max_digits hex digits, nothing else; value at most max. */
static bool hex_field(const char *s, size_t n, unsigned max_digits,
                      unsigned max, unsigned *val_r)
{
    unsigned v = 0;

    if (!n || n > max_digits)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return false;
        v = v * 16 + (unsigned)(isdigit((unsigned char)s[i])
                                    ? s[i] - '0'
                                    : tolower((unsigned char)s[i]) - 'a' + 10);
    }
    if (v > max)
        return false;
    *val_r = v;
    return true;
}

/* "*" or hex; into *val_r (ANY for "*"). */
static bool addr_field(const char *s, size_t n, unsigned max_digits,
                       unsigned max, int *val_r)
{
    unsigned v;

    if (n == 1 && *s == '*') {
        *val_r = ANY;
        return true;
    }
    if (!hex_field(s, n, max_digits, max, &v))
        return false;
    *val_r = (int)v;
    return true;
}

/* "[DOMAIN:]BUS:SLOT.FUNC", each field hex or "*"; no domain: any. */
static bool parse_address(struct xpci_selector *sel, const char *v)
{
    const char *c1 = strchr(v, ':'), *c2, *dot;

    if (!c1)
        return false;
    c2 = strchr(c1 + 1, ':');
    sel->domain = ANY;
    if (c2) {
        if (!addr_field(v, (size_t)(c1 - v), 4, 0xffff, &sel->domain))
            return false;
        v = c1 + 1;
        c1 = c2;
    }
    dot = strchr(c1 + 1, '.');
    return dot && !strchr(dot + 1, '.') && !strchr(dot + 1, ':') &&
           addr_field(v, (size_t)(c1 - v), 2, 0xff, &sel->bus) &&
           addr_field(c1 + 1, (size_t)(dot - c1 - 1), 2, 0x1f, &sel->slot) &&
           addr_field(dot + 1, strlen(dot + 1), 1, 7, &sel->func);
}

/* Characters a location path (or its pattern) may hold. */
static bool location_chars(const char *v, bool pattern)
{
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(":./", *p) &&
            !(pattern && strchr("*?", *p)))
            return false;
    /* a path starts at a root bus: "pci..." or a wildcard */
    return (!strncmp(v, "pci", 3) || (pattern && strchr("*?", *v))) &&
           !strstr(v, "..") && !strstr(v, "//");
}

static bool driver_chars(const char *v)
{
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_-", *p))
            return false;
    return strlen(v) <= 64;
}

static int parse_term(struct xpci_selector *sel, const char *expr, char *term,
                      char **err_r)
{
    char *eq = strchr(term, '='), *v;
    enum key key = 0;
    unsigned u;

    if (!eq)
        return fail(err_r, expr, "'%s' is not KEY=VALUE", term);
    *eq = '\0';
    v = eq + 1;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!strcmp(term, keys[i].name))
            key = keys[i].key;
    if (!key)
        return fail(err_r, expr,
                    "unknown key '%s' (vendor, device, class, address, "
                    "location, driver, pf, numa)",
                    term);
    if (sel->given & key)
        return fail(err_r, expr, "'%s' given twice", term);
    sel->given |= key;
    if (!*v && key != K_DRIVER)
        return fail(err_r, expr, "'%s' needs a value", term);
    if (!strcmp(v, "*") && key != K_LOCATION)
        return 0; /* a wildcard: matches anything */
    sel->active |= key;
    switch (key) {
    case K_VENDOR:
    case K_DEVICE:
        if (strlen(v) != 4 || !hex_field(v, 4, 4, 0xffff, &u))
            return fail(err_r, expr, "%s '%s': expected 4 hex digits", term,
                        v);
        *(key == K_VENDOR ? &sel->vendor : &sel->device) = u;
        return 0;
    case K_CLASS:
        if (!hex_field(v, strlen(v), 6, 0xffffff, &u))
            return fail(err_r, expr,
                        "class '%s': expected 1 to 6 hex digits (a prefix of "
                        "base class, subclass, interface)",
                        v);
        for (size_t i = 0; v[i]; i++)
            sel->class_prefix[i] = (char)tolower((unsigned char)v[i]);
        return 0;
    case K_ADDRESS:
        if (!parse_address(sel, v))
            return fail(err_r, expr,
                        "address '%s': expected [DDDD:]BB:SS.F, each field "
                        "hex or *",
                        v);
        return 0;
    case K_LOCATION:
        if (!location_chars(v, true))
            return fail(err_r, expr,
                        "location '%s': expected a location path or a "
                        "pattern (pci0000:00/1c.0/00.*)",
                        v);
        sel->location = strdup(v);
        return sel->location ? 0 : -ENOMEM;
    case K_DRIVER:
        if (!driver_chars(v))
            return fail(err_r, expr, "driver '%s': not a driver name", v);
        sel->driver = strdup(v);
        return sel->driver ? 0 : -ENOMEM;
    case K_PF: {
        struct xpci_bdf bdf;

        if (xpci_bdf_parse(v, &bdf) < 0 &&
            !location_chars(v, false))
            return fail(err_r, expr,
                        "pf '%s': expected a BDF or a location path", v);
        sel->pf = strdup(v);
        return sel->pf ? 0 : -ENOMEM;
    }
    case K_NUMA: {
        size_t n = strlen(v);

        if (n > 4 || strspn(v, "0123456789") != n ||
            (u = (unsigned)atoi(v)) > MAX_NUMA)
            return fail(err_r, expr, "numa '%s': expected a node number", v);
        sel->numa = (int)u;
        return 0;
    }
    }
    return -EINVAL;
}

int xpci_selector_parse(const char *expr, struct xpci_selector **sel_r,
                        char **err_r)
{
    struct xpci_selector *sel = NULL;
    char *copy = NULL, *save = NULL, *term;
    unsigned n = 0;
    size_t len;
    int r = 0;

    if (err_r)
        *err_r = NULL;
    if (!expr)
        return -EINVAL;
    len = strnlen(expr, XPCI_SELECTOR_MAX + 1);
    if (len > XPCI_SELECTOR_MAX)
        return fail(err_r, expr, "longer than %d characters",
                    XPCI_SELECTOR_MAX);
    if (!len)
        return fail(err_r, expr, "empty");
    if (expr[0] == ',' || expr[len - 1] == ',' || strstr(expr, ",,"))
        return fail(err_r, expr, "empty term");
    sel = calloc(1, sizeof(*sel));
    copy = strdup(expr);
    if (!sel || !copy) {
        r = -ENOMEM;
        goto out;
    }
    sel->domain = sel->bus = sel->slot = sel->func = ANY;
    sel->numa = ANY;
    for (term = strtok_r(copy, ",", &save); term;
         term = strtok_r(NULL, ",", &save)) {
        if (++n > MAX_TERMS) {
            r = fail(err_r, expr, "more than %d terms", MAX_TERMS);
            goto out;
        }
        if (strlen(term) > MAX_VALUE) {
            r = fail(err_r, expr, "a term longer than %d characters",
                     MAX_VALUE);
            goto out;
        }
        r = parse_term(sel, expr, term, err_r);
        if (r < 0)
            goto out;
    }
    *sel_r = sel;
    sel = NULL;
out:
    free(copy);
    xpci_selector_free(sel);
    return r;
}

void xpci_selector_free(struct xpci_selector *sel)
{
    if (!sel)
        return;
    free(sel->location);
    free(sel->driver);
    free(sel->pf);
    free(sel);
}

static bool field_ok(int want, unsigned have)
{
    return want == ANY || (unsigned)want == have;
}

bool xpci_selector_match(const struct xpci_selector *sel,
                         const struct xpci_host *host,
                         const struct xpci_device *dev)
{
    unsigned a = sel->active;

    if ((a & K_VENDOR) && dev->vendor != sel->vendor)
        return false;
    if ((a & K_DEVICE) && dev->device != sel->device)
        return false;
    if (a & K_CLASS) {
        char cls[8];

        snprintf(cls, sizeof(cls), "%06x", dev->class_code & 0xffffff);
        if (strncmp(cls, sel->class_prefix, strlen(sel->class_prefix)))
            return false;
    }
    if ((a & K_ADDRESS) &&
        !(field_ok(sel->domain, dev->bdf.domain) &&
          field_ok(sel->bus, dev->bdf.bus) &&
          field_ok(sel->slot, dev->bdf.dev) &&
          field_ok(sel->func, dev->bdf.func)))
        return false;
    /* "*" matches across "/": every function below a port */
    if ((a & K_LOCATION) &&
        (!dev->location || fnmatch(sel->location, dev->location, 0)))
        return false;
    if ((a & K_DRIVER) &&
        (*sel->driver ? !dev->driver || strcmp(dev->driver, sel->driver)
                      : dev->driver != NULL))
        return false;
    if (a & K_PF) {
        const struct xpci_device *pf = NULL;

        if (!dev->is_vf || !dev->physfn ||
            xpci_host_find(host, sel->pf, &pf) < 0 ||
            strcmp(pf->bdf_str, dev->physfn))
            return false;
    }
    if ((a & K_NUMA) && dev->numa_node != sel->numa)
        return false;
    return true;
}
