/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake-hv.c - an in-memory hypervisor behind struct xpci_hv_ops: the IOMMU
 * switch, device groups, reserved device memory, which domain holds which
 * device, and injected failures.  Results follow Xen 4.17
 * (xen/drivers/passthrough/pci.c and iommu.c, xen/common/domctl.c) as
 * recorded in REFERENCE-real-xen.md.
 *
 * Every hook call is logged as "op(args)" with BDFs as "DDDD:BB:DD.F" and
 * domains in decimal (DOMID_IO is 32753), e.g.
 * "assign(32753, 0000:01:00.0, 0)".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-hv.h"

#define OWNER_NEVER (-1L)

struct hv_dev {
    uint32_t sbdf;
    long owner;  /* OWNER_NEVER: dom0 since boot */
    bool absent; /* Xen does not know the device */
    int group;   /* -1: alone */
    struct xpci_rdm *rdm;
    unsigned n_rdm;
};

struct hv_domain {
    uint32_t domid;
    bool passthrough; /* created with an IOMMU context */
    bool hvm;
    bool shutdown; /* crashed or powered off, not destroyed yet */
    bool pirqs;    /* XEN_X86_EMU_USE_PIRQ (HVM) */
};

/* A permission a domain holds: "iomem 0xfebc0+0x20", "irq 11", "pirq 11". */
struct hv_grant {
    uint32_t domid;
    char *what;
};

struct hv_fail {
    char *op;
    int err;   /* positive errno */
    int count; /* -1: always */
};

struct fake_hv {
    bool iommu;
    char version[32]; /* "" until set: a backend that cannot tell */
    struct hv_dev *devs;
    size_t n_devs;
    struct hv_domain *doms;
    size_t n_doms;
    int next_group;
    struct hv_fail *fails;
    size_t n_fails;
    char **calls; /* NULL-terminated */
    size_t n_calls;
    struct hv_grant *grants;
    size_t n_grants;
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
    va_list ap;

    fputs("fake-hv: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

/* Grant (allow) or revoke a permission; a revoke of one not held is a
 * no-op, as Xen's rangeset removal is. */
static void grant(struct fake_hv *hv, uint32_t domid, bool allow,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void grant(struct fake_hv *hv, uint32_t domid, bool allow,
                  const char *fmt, ...)
{
    va_list ap;
    char *what;

    va_start(ap, fmt);
    if (vasprintf(&what, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    for (size_t i = 0; i < hv->n_grants; i++) {
        if (hv->grants[i].domid == domid && !strcmp(hv->grants[i].what, what)) {
            if (!allow) {
                free(hv->grants[i].what);
                hv->grants[i] = hv->grants[--hv->n_grants];
            }
            free(what);
            return;
        }
    }
    if (!allow) {
        free(what);
        return;
    }
    hv->grants = xrealloc(hv->grants, (hv->n_grants + 1) * sizeof(*hv->grants));
    hv->grants[hv->n_grants].domid = domid;
    hv->grants[hv->n_grants++].what = what;
}

/*
 * iomem and ioport permissions are rangesets in Xen (xen/common/domctl.c,
 * iomem_permit_access/iomem_deny_access): a revoke takes the pages it
 * names out of whatever ranges hold them, so revoking one function's page
 * also takes it from another function that shares it.  Allowed ranges
 * are kept as given ("iomem 0xFIRST+0xNR"); a revoke cuts them.
 */
static bool range_parse(const char *what, const char *kind,
                        unsigned long long *first, unsigned long long *nr)
{
    size_t k = strlen(kind);
    int used = 0;

    return !strncmp(what, kind, k) && what[k] == ' ' &&
           sscanf(what + k + 1, "0x%llx+0x%llx%n", first, nr, &used) == 2 &&
           what[k + 1 + used] == '\0';
}

static void range_grant(struct fake_hv *hv, uint32_t domid, bool allow,
                        const char *kind, unsigned long long first,
                        unsigned long long nr)
{
    unsigned long long end = first + nr, gf, gn;

    if (allow) {
        grant(hv, domid, true, "%s 0x%llx+0x%llx", kind, first, nr);
        return;
    }
    for (size_t i = 0; i < hv->n_grants;) {
        struct hv_grant *g = &hv->grants[i];

        if (g->domid != domid || !range_parse(g->what, kind, &gf, &gn) ||
            gf + gn <= first || gf >= end) {
            i++;
            continue;
        }
        free(g->what);
        *g = hv->grants[--hv->n_grants];
        if (gf < first)
            grant(hv, domid, true, "%s 0x%llx+0x%llx", kind, gf, first - gf);
        if (gf + gn > end)
            grant(hv, domid, true, "%s 0x%llx+0x%llx", kind, end,
                  gf + gn - end);
        i = 0; /* the array changed under us: look again */
    }
}

/* Every unit of [first, first + nr) held through some range. */
static bool range_held(const struct fake_hv *hv, uint32_t domid,
                       const char *kind, unsigned long long first,
                       unsigned long long nr)
{
    unsigned long long u = first, gf, gn;

    while (u < first + nr) {
        unsigned long long next = u;

        for (size_t i = 0; i < hv->n_grants; i++)
            if (hv->grants[i].domid == domid &&
                range_parse(hv->grants[i].what, kind, &gf, &gn) &&
                u >= gf && u < gf + gn && gf + gn > next)
                next = gf + gn;
        if (next == u)
            return false;
        u = next;
    }
    return true;
}

unsigned fake_hv_grants(const struct fake_hv *hv, uint32_t domid)
{
    unsigned n = 0;

    for (size_t i = 0; i < hv->n_grants; i++)
        n += hv->grants[i].domid == domid;
    return n;
}

bool fake_hv_has_grant(const struct fake_hv *hv, uint32_t domid,
                       const char *what)
{
    unsigned long long first, nr;

    if (range_parse(what, "iomem", &first, &nr))
        return range_held(hv, domid, "iomem", first, nr);
    if (range_parse(what, "ioport", &first, &nr))
        return range_held(hv, domid, "ioport", first, nr);
    for (size_t i = 0; i < hv->n_grants; i++)
        if (hv->grants[i].domid == domid && !strcmp(hv->grants[i].what, what))
            return true;
    return false;
}

/* "[DDDD:]BB:DD.F" to Xen's SBDF. */
static uint32_t parse_sbdf(const char *s)
{
    unsigned dom = 0, bus, dev, fn;
    int n = 0;
    bool ok =
        sscanf(s, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) == 4 && !s[n];

    if (!ok) {
        dom = 0;
        n = 0;
        ok = sscanf(s, "%x:%x.%x%n", &bus, &dev, &fn, &n) == 3 && !s[n];
    }
    if (!ok || dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
        die("bad BDF '%s'", s);
    return dom << 16 | bus << 8 | dev << 3 | fn;
}

static void fmt_sbdf(uint32_t sbdf, char *buf, size_t size)
{
    snprintf(buf, size, "%04x:%02x:%02x.%x", sbdf >> 16, (sbdf >> 8) & 0xff,
             (sbdf >> 3) & 0x1f, sbdf & 7);
}

static struct hv_dev *find(const struct fake_hv *hv, uint32_t sbdf)
{
    for (size_t i = 0; i < hv->n_devs; i++)
        if (hv->devs[i].sbdf == sbdf)
            return &hv->devs[i];
    return NULL;
}

/* Devices never mentioned exist and belong to dom0, as on a real host. */
static struct hv_dev *get(struct fake_hv *hv, uint32_t sbdf)
{
    struct hv_dev *d = find(hv, sbdf);

    if (d)
        return d;
    hv->devs = xrealloc(hv->devs, (hv->n_devs + 1) * sizeof(*hv->devs));
    d = &hv->devs[hv->n_devs++];
    memset(d, 0, sizeof(*d));
    d->sbdf = sbdf;
    d->owner = OWNER_NEVER;
    d->group = -1;
    return d;
}

static uint32_t owner_of(const struct hv_dev *d)
{
    return d && d->owner != OWNER_NEVER ? (uint32_t)d->owner : 0;
}

static struct hv_domain *find_domain(const struct fake_hv *hv, uint32_t domid)
{
    for (size_t i = 0; i < hv->n_doms; i++)
        if (hv->doms[i].domid == domid)
            return &hv->doms[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */
/* ------------------------------------------------------------------ */

struct fake_hv *fake_hv_new(void)
{
    struct fake_hv *hv = calloc(1, sizeof(*hv));

    if (!hv)
        die("out of memory");
    hv->iommu = true;
    hv->calls = xrealloc(NULL, sizeof(char *));
    hv->calls[0] = NULL;
    return hv;
}

void fake_hv_free(struct fake_hv *hv)
{
    if (!hv)
        return;
    for (size_t i = 0; i < hv->n_devs; i++)
        free(hv->devs[i].rdm);
    for (size_t i = 0; i < hv->n_fails; i++)
        free(hv->fails[i].op);
    for (size_t i = 0; i < hv->n_calls; i++)
        free(hv->calls[i]);
    for (size_t i = 0; i < hv->n_grants; i++)
        free(hv->grants[i].what);
    free(hv->grants);
    free(hv->devs);
    free(hv->doms);
    free(hv->fails);
    free(hv->calls);
    free(hv);
}

void fake_hv_set_iommu(struct fake_hv *hv, bool enabled)
{
    hv->iommu = enabled;
}

void fake_hv_set_version(struct fake_hv *hv, const char *version)
{
    snprintf(hv->version, sizeof(hv->version), "%s", version);
}

void fake_hv_set_group(struct fake_hv *hv, const char *const *bdfs, unsigned n)
{
    int g = hv->next_group++;

    for (unsigned i = 0; i < n; i++)
        get(hv, parse_sbdf(bdfs[i]))->group = g;
}

void fake_hv_add_rdm(struct fake_hv *hv, const char *bdf, uint64_t start_pfn,
                     uint64_t nr_pages)
{
    struct hv_dev *d = get(hv, parse_sbdf(bdf));

    d->rdm = xrealloc(d->rdm, (d->n_rdm + 1) * sizeof(*d->rdm));
    d->rdm[d->n_rdm].start_pfn = start_pfn;
    d->rdm[d->n_rdm].nr_pages = nr_pages;
    d->n_rdm++;
}

void fake_hv_set_owner(struct fake_hv *hv, const char *bdf, uint32_t domid)
{
    get(hv, parse_sbdf(bdf))->owner = domid;
}

long fake_hv_owner(const struct fake_hv *hv, const char *bdf)
{
    const struct hv_dev *d = find(hv, parse_sbdf(bdf));

    return d ? d->owner : OWNER_NEVER;
}

void fake_hv_add_domain(struct fake_hv *hv, uint32_t domid)
{
    struct hv_domain *dom = find_domain(hv, domid);

    if (!dom) {
        hv->doms = xrealloc(hv->doms, (hv->n_doms + 1) * sizeof(*hv->doms));
        dom = &hv->doms[hv->n_doms++];
        *dom = (struct hv_domain){.domid = domid};
    }
    dom->passthrough = true;
}

void fake_hv_set_passthrough(struct fake_hv *hv, uint32_t domid, bool enabled)
{
    struct hv_domain *dom = find_domain(hv, domid);

    if (!dom)
        die("domain %u not added", domid);
    dom->passthrough = enabled;
}

void fake_hv_remove_device(struct fake_hv *hv, const char *bdf)
{
    get(hv, parse_sbdf(bdf))->absent = true;
}

void fake_hv_fail(struct fake_hv *hv, const char *op, int err, int count)
{
    struct hv_fail *f;

    hv->fails = xrealloc(hv->fails, (hv->n_fails + 1) * sizeof(*hv->fails));
    f = &hv->fails[hv->n_fails++];
    f->op = strdup(op);
    if (!f->op)
        die("out of memory");
    f->err = err < 0 ? -err : err;
    f->count = count;
}

const char *const *fake_hv_calls(const struct fake_hv *hv)
{
    return (const char *const *)hv->calls;
}

void fake_hv_clear_calls(struct fake_hv *hv)
{
    for (size_t i = 0; i < hv->n_calls; i++)
        free(hv->calls[i]);
    hv->n_calls = 0;
    hv->calls[0] = NULL;
}

/* ------------------------------------------------------------------ */
/* The hooks                                                           */
/* ------------------------------------------------------------------ */

/* Log the call; return the injected -errno for op, or 0. */
static int __attribute__((format(printf, 3, 4)))
enter(struct fake_hv *hv, const char *op, const char *fmt, ...)
{
    char *args = NULL, *line = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&args, fmt, ap);
    va_end(ap);
    if (r < 0 || asprintf(&line, "%s(%s)", op, args) < 0)
        die("out of memory");
    free(args);
    hv->calls = xrealloc(hv->calls, (hv->n_calls + 2) * sizeof(char *));
    hv->calls[hv->n_calls++] = line;
    hv->calls[hv->n_calls] = NULL;

    for (size_t i = 0; i < hv->n_fails; i++) {
        struct hv_fail *f = &hv->fails[i];

        if (strcmp(f->op, op) || f->count == 0)
            continue;
        if (f->count > 0)
            f->count--;
        return -f->err;
    }
    return 0;
}

/* A domain the domctl can name: dom0, DOMID_IO, or one that was added
 * (xen/common/domctl.c looks the domain up first: -ESRCH). */
static int domain_check(const struct fake_hv *hv, uint32_t domid)
{
    if (domid == 0 || domid == XPCI_DOMID_IO || find_domain(hv, domid))
        return 0;
    return -ESRCH;
}

static void hv_close(void *priv)
{
    (void)priv; /* the test owns the fake and frees it */
}

static int hv_physinfo(void *priv, struct xpci_hv_info *info_r)
{
    struct fake_hv *hv = priv;
    int r = enter(hv, "physinfo", "%s", "");

    if (r)
        return r;
    info_r->iommu_enabled = hv->iommu;
    info_r->hvm = true;
    info_r->max_domid_hint = 0;
    memcpy(info_r->version, hv->version, sizeof(info_r->version));
    for (size_t i = 0; i < hv->n_doms; i++)
        if (hv->doms[i].domid > info_r->max_domid_hint)
            info_r->max_domid_hint = hv->doms[i].domid;
    return 0;
}

/*
 * Xen answers with dom0's *other* devices of the group: the device itself
 * and devices held by a guest or the quarantine are left out
 * (iommu_get_device_group walks the domain's own device list).
 */
static int hv_device_group(void *priv, uint32_t sbdf, uint32_t *sbdfs,
                           unsigned max)
{
    struct fake_hv *hv = priv;
    char b[XPCI_BDF_STRLEN];
    const struct hv_dev *self;
    unsigned n = 0;
    int r;

    fmt_sbdf(sbdf, b, sizeof(b));
    if ((r = enter(hv, "device_group", "%s", b)))
        return r;
    if (!hv->iommu)
        return -EOPNOTSUPP;
    self = find(hv, sbdf);
    if (!self || self->group < 0)
        return 0;
    for (size_t i = 0; i < hv->n_devs && n < max; i++) {
        const struct hv_dev *d = &hv->devs[i];

        if (d == self || d->group != self->group || d->absent ||
            owner_of(d) != 0)
            continue;
        sbdfs[n++] = d->sbdf;
    }
    return (int)n;
}

static int hv_rdm_map(void *priv, uint32_t sbdf, struct xpci_rdm *ents,
                      unsigned max, unsigned *needed_r)
{
    struct fake_hv *hv = priv;
    char b[XPCI_BDF_STRLEN];
    const struct hv_dev *d;
    int r;

    fmt_sbdf(sbdf, b, sizeof(b));
    if ((r = enter(hv, "rdm_map", "%s, %u", b, max)))
        return r;
    d = find(hv, sbdf);
    /* without an IOMMU Xen never parsed the firmware's RMRRs */
    if (!hv->iommu || !d || !d->n_rdm)
        return 0;
    if (d->n_rdm > max) {
        if (needed_r)
            *needed_r = d->n_rdm;
        return -ENOBUFS;
    }
    memcpy(ents, d->rdm, d->n_rdm * sizeof(*ents));
    return (int)d->n_rdm;
}

/* 0 while dom0 or the quarantine holds it; -EINVAL for "already assigned,
 * or non-existent" (iommu_do_pci_domctl, XEN_DOMCTL_test_assign_device). */
static int hv_test_assign(void *priv, uint32_t domid, uint32_t sbdf)
{
    struct fake_hv *hv = priv;
    char b[XPCI_BDF_STRLEN];
    const struct hv_dev *d;
    uint32_t owner;
    int r;

    fmt_sbdf(sbdf, b, sizeof(b));
    if ((r = enter(hv, "test_assign", "%u, %s", domid, b)))
        return r;
    if (!hv->iommu)
        return -EOPNOTSUPP;
    /* Xen refuses self-assignment, even as a test: dom0 asks for 0. */
    if (domid == 0)
        return -EINVAL;
    d = find(hv, sbdf);
    if (d && d->absent)
        return -EINVAL;
    owner = owner_of(d);
    return owner == 0 || owner == XPCI_DOMID_IO ? 0 : -EINVAL;
}

static int hv_assign(void *priv, uint32_t domid, uint32_t sbdf, uint32_t flags)
{
    struct fake_hv *hv = priv;
    char b[XPCI_BDF_STRLEN];
    const struct hv_domain *dom;
    struct hv_dev *d;
    uint32_t owner;
    int r;

    fmt_sbdf(sbdf, b, sizeof(b));
    if ((r = enter(hv, "assign", "%u, %s, %u", domid, b, flags)))
        return r;
    if ((r = domain_check(hv, domid)))
        return r;
    /* a domain created without pci= / passthrough has no IOMMU context */
    dom = find_domain(hv, domid);
    if (!hv->iommu || (dom && !dom->passthrough))
        return -EOPNOTSUPP;
    d = get(hv, sbdf);
    if (d->absent)
        return -ENODEV;
    /* device_assigned(): only dom0's or the quarantine's devices move */
    owner = owner_of(d);
    if (owner != 0 && owner != XPCI_DOMID_IO)
        return -EBUSY;
    d->owner = domid;
    return 0;
}

/*
 * Only the holder can give a device up (-ENODEV otherwise).  With Xen
 * 4.17's default quarantine a guest's device goes to DOMID_IO, and
 * DOMID_IO's goes back to dom0 (deassign_device).
 */
static int hv_deassign(void *priv, uint32_t domid, uint32_t sbdf)
{
    struct fake_hv *hv = priv;
    char b[XPCI_BDF_STRLEN];
    struct hv_dev *d;
    int r;

    fmt_sbdf(sbdf, b, sizeof(b));
    if ((r = enter(hv, "deassign", "%u, %s", domid, b)))
        return r;
    if ((r = domain_check(hv, domid)))
        return r;
    if (!hv->iommu)
        return -EOPNOTSUPP;
    d = find(hv, sbdf);
    if (!d || d->absent || owner_of(d) != domid)
        return -ENODEV;
    d->owner = domid == XPCI_DOMID_IO ? 0 : XPCI_DOMID_IO;
    return 0;
}

static int hv_iomem_permission(void *priv, uint32_t domid, uint64_t first_mfn,
                               uint64_t nr_mfns, bool allow)
{
    struct fake_hv *hv = priv;
    int r = enter(hv, "iomem_permission", "%u, 0x%llx, 0x%llx, %d", domid,
                  (unsigned long long)first_mfn, (unsigned long long)nr_mfns,
                  allow);

    if (r || (r = domain_check(hv, domid)))
        return r;
    range_grant(hv, domid, allow, "iomem", first_mfn, nr_mfns);
    return 0;
}

static int hv_ioport_permission(void *priv, uint32_t domid, uint32_t first_port,
                                uint32_t nr_ports, bool allow)
{
    struct fake_hv *hv = priv;
    int r = enter(hv, "ioport_permission", "%u, 0x%x, 0x%x, %d", domid,
                  first_port, nr_ports, allow);

    if (r || (r = domain_check(hv, domid)))
        return r;
    range_grant(hv, domid, allow, "ioport", first_port, nr_ports);
    return 0;
}

/* For dom0's GSIs Xen hands out pirq == irq. */
static int hv_map_pirq(void *priv, uint32_t domid, int irq, int *pirq_r)
{
    struct fake_hv *hv = priv;
    int r = enter(hv, "map_pirq", "%u, %d", domid, irq);

    if (r || (r = domain_check(hv, domid)))
        return r;
    if (irq <= 0)
        return -EINVAL;
    *pirq_r = irq;
    grant(hv, domid, true, "pirq %d", irq);
    return 0;
}

static int hv_unmap_pirq(void *priv, uint32_t domid, int pirq)
{
    struct fake_hv *hv = priv;
    int r = enter(hv, "unmap_pirq", "%u, %d", domid, pirq);

    if (r || (r = domain_check(hv, domid)))
        return r;
    grant(hv, domid, false, "pirq %d", pirq);
    return 0;
}

static int hv_irq_permission(void *priv, uint32_t domid, int pirq, bool allow)
{
    struct fake_hv *hv = priv;
    int r = enter(hv, "irq_permission", "%u, %d, %d", domid, pirq, allow);

    if (r || (r = domain_check(hv, domid)))
        return r;
    grant(hv, domid, allow, "irq %d", pirq);
    return 0;
}

/* DOMID_IO is not a domain getdomaininfo lists. */
static int hv_domain_exists(void *priv, uint32_t domid)
{
    struct fake_hv *hv = priv;
    const struct hv_domain *dom;
    int r = enter(hv, "domain_exists", "%u", domid);

    if (r)
        return r;
    if (domid == 0)
        return 0;
    dom = find_domain(hv, domid);
    return !dom ? -ESRCH : dom->shutdown ? -ESHUTDOWN : 0;
}

static int hv_domain_type(void *priv, uint32_t domid)
{
    struct fake_hv *hv = priv;
    const struct hv_domain *dom;
    int r = enter(hv, "domain_type", "%u", domid);

    if (r)
        return r;
    if (domid == 0)
        return XPCI_DOMAIN_PV;
    dom = find_domain(hv, domid);
    if (!dom)
        return -ESRCH;
    return dom->hvm ? XPCI_DOMAIN_HVM : XPCI_DOMAIN_PV;
}

/* What Xen does when a guest crashes or powers off: it runs no more, and
 * keeps what it holds until it is destroyed. */
void fake_hv_shutdown_domain(struct fake_hv *hv, uint32_t domid)
{
    struct hv_domain *dom = find_domain(hv, domid);

    if (!dom)
        die("domain %u not added", domid);
    dom->shutdown = true;
}

static int hv_domain_pirqs(void *priv, uint32_t domid)
{
    struct fake_hv *hv = priv;
    const struct hv_domain *dom;
    int r = enter(hv, "domain_pirqs", "%u", domid);

    if (r)
        return r;
    if (!(dom = find_domain(hv, domid)))
        return -ESRCH;
    return dom->hvm && dom->pirqs;
}

void fake_hv_set_pirqs(struct fake_hv *hv, uint32_t domid, bool pirqs)
{
    struct hv_domain *dom = find_domain(hv, domid);

    if (!dom)
        die("domain %u not added", domid);
    dom->pirqs = pirqs;
}

void fake_hv_set_hvm(struct fake_hv *hv, uint32_t domid, bool hvm)
{
    for (size_t i = 0; i < hv->n_doms; i++)
        if (hv->doms[i].domid == domid)
            hv->doms[i].hvm = hvm;
}

const struct xpci_hv_ops fake_hv_ops = {
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

/* What Xen does on domain destruction: the domain and its permissions go,
 * the devices it held go to quarantine (pci_release_devices). */
void fake_hv_destroy_domain(struct fake_hv *hv, uint32_t domid)
{
    for (size_t i = 0; i < hv->n_devs; i++)
        if (hv->devs[i].owner == (long)domid)
            hv->devs[i].owner = XPCI_DOMID_IO;
    for (size_t i = 0; i < hv->n_grants;) {
        if (hv->grants[i].domid == domid) {
            free(hv->grants[i].what);
            hv->grants[i] = hv->grants[--hv->n_grants];
        } else {
            i++;
        }
    }
    for (size_t i = 0; i < hv->n_doms; i++)
        if (hv->doms[i].domid == domid) {
            hv->doms[i] = hv->doms[--hv->n_doms];
            break;
        }
}
