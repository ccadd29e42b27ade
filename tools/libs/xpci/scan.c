/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * scan.c - discovery: one snapshot of every PCI function under the sysfs
 * root (identity, resources, capabilities, driver, SR-IOV and pciback
 * state), plus the hypervisor's and libxl's view of each when available.
 * Each attribute is read once, relative to the function's directory fd,
 * and only the attributes that say something config space and uevent do
 * not: a function costs about fifteen system calls (its link, its
 * directory, five opens and five reads, its IOMMU group's link, one
 * close_range).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>

#include "xen-compat.h"
#include "xpci-internal.h"

#define SYSFS_PCI_DEVICES "bus/pci/devices"
#define SYSFS_IOMMU_GROUPS "kernel/iommu_groups"
/* A bound on the groups a host can have: more entries than this in
 * kernel/iommu_groups is not a kernel's tree. */
#define MAX_IOMMU_GROUPS 65536
/* Attributes every function has, read in one batch (scan_device). */
#define SCAN_BATCH 6
#define SYSFS_PCIBACK_SLOTS "bus/pci/drivers/pciback/slots"
#define SYSFS_PCIBACK_PERMISSIVE "bus/pci/drivers/pciback/permissive"
#define PCIBACK_DRIVER "pciback"

/* Largest TotalVFs (a 16-bit capability field) and BAR size believed. */
#define SRIOV_VFS_MAX 65535
#define BAR_SIZE_MAX (1ull << 63)
/* IORESOURCE_* flags of the kernel's "resource" lines */
#define IORESOURCE_IO 0x00000100UL
#define IORESOURCE_MEM 0x00000200UL
#define IORESOURCE_PREFETCH 0x00002000UL
#define IORESOURCE_MEM_64 0x00100000UL

static void add_error(struct xpci_device *dev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A function's directory is opened once, O_PATH, from its parent's (kept
 * open for all the functions of a bus, and opened beneath the root), and
 * never through a link; its attributes and links are then names of one
 * component, opened with O_NOFOLLOW or read with readlinkat(2).  d below
 * is that directory's fd.
 */
#define NAME_MAX_LEN 64

/* Errors accumulate as one "; "-separated line per device. */
static void add_error(struct xpci_device *dev, const char *fmt, ...)
{
    va_list ap;
    char *msg, *joined;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return;
    if (!dev->error) {
        dev->error = msg;
        return;
    }
    joined = xpci__sprintf("%s; %s", dev->error, msg);
    free(msg);
    if (joined) {
        free(dev->error);
        dev->error = joined;
    }
}

static void device_dispose(struct xpci_device *dev)
{
    free(dev->location);
    free(dev->sysfs_path);
    free(dev->error);
    free(dev->driver);
    free(dev->driver_override);
    free(dev->reset_method);
    xpci__strv_free(dev->parents, dev->n_parents);
    free(dev->physfn);
    xpci__strv_free(dev->virtfns, dev->n_virtfns);
    free(dev->libxl_driver_path);
    free(dev->libxl_name);
    xpci__strv_free(dev->netdevs, dev->n_netdevs);
    xpci__strv_free(dev->blockdevs, dev->n_blockdevs);
}

/*
 * A link in bus/pci/devices points at "../../../devices/pci0000:00/...":
 * make it sysfs-relative, and derive the parent chain and the location
 * path (root bus, then device.function of each hop) from it.  The location
 * names no bus number below the root, so it survives renumbering.
 */
static int parse_topology(struct xpci_device *dev, const char *target)
{
    _cleanup_free_ char *copy = NULL, *loc = NULL;
    char *save = NULL, *comp;
    size_t loclen;
    char **chain = NULL;
    unsigned n_chain = 0;
    int r;

    while (!strncmp(target, "../", 3))
        target += 3;
    if (strncmp(target, "devices/pci", 11))
        return -EINVAL;
    dev->sysfs_path = strdup(target);
    copy = strdup(target + strlen("devices/"));
    if (!dev->sysfs_path || !copy)
        return -ENOMEM;

    comp = strtok_r(copy, "/", &save);
    loc = strdup(comp); /* "pci0000:00" */
    if (!loc)
        return -ENOMEM;
    loclen = strlen(loc);
    while ((comp = strtok_r(NULL, "/", &save))) {
        struct xpci_bdf b;
        char *nloc;

        if (xpci_bdf_parse(comp, &b) < 0)
            continue;
        nloc = realloc(loc, loclen + 6);
        if (!nloc)
            return -ENOMEM;
        loc = nloc;
        loclen += (size_t)snprintf(loc + loclen, 6, "/%02x.%x", b.dev, b.func);
        r = xpci__strv_push(&chain, &n_chain, comp);
        if (r < 0) {
            xpci__strv_free(chain, n_chain);
            return r;
        }
    }
    /* The last hop is the device itself; the rest, closest first. */
    if (n_chain) {
        free(chain[--n_chain]);
        chain[n_chain] = NULL;
        for (unsigned i = 0; i < n_chain / 2; i++) {
            char *t = chain[i];

            chain[i] = chain[n_chain - 1 - i];
            chain[n_chain - 1 - i] = t;
        }
    }
    dev->parents = chain;
    dev->n_parents = n_chain;
    dev->location = TAKE_PTR(loc);
    return 0;
}

/* One hex field of a "resource" line ("0x%016llx" in
 * drivers/pci/pci-sysfs.c resource_show), up to a blank or the end. */
static const char *hex_field(const char *p, unsigned long long *v_r)
{
    unsigned long long v = 0;
    int n = 0;

    if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
        return NULL;
    for (p += 2; n < 17; p++, n++) {
        unsigned d;

        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
            d = (unsigned)((*p | 0x20) - 'a' + 10);
        else
            break;
        v = v << 4 | d;
    }
    if (n == 0 || n > 16)
        return NULL;
    *v_r = v;
    return p;
}

static int parse_resource_line(const char *line, unsigned long long *start,
                               unsigned long long *end,
                               unsigned long long *flags)
{
    const char *p = hex_field(line, start);

    if (!p || *p++ != ' ' || !(p = hex_field(p, end)) || *p++ != ' ' ||
        !(p = hex_field(p, flags)) || *p)
        return -EINVAL;
    return 0;
}

/* The "resource" attribute, already read into buf (r: its length or
 * -errno). */
static void parse_resources(struct xpci_device *dev, char *buf, ssize_t r)
{
    char *line, *save = NULL;
    unsigned i = 0;

    if (r < 0) {
        add_error(dev, "resource: %s", strerror((int)-r));
        return;
    }
    for (line = strtok_r(buf, "\n", &save);
         line && i < XPCI_NUM_RESOURCES;
         line = strtok_r(NULL, "\n", &save), i++) {
        unsigned long long start, end, flags;
        struct xpci_bar *bar = &dev->bars[i];

        if (parse_resource_line(line, &start, &end, &flags) < 0) {
            add_error(dev, "resource: malformed line %u", i + 1);
            memset(dev->bars, 0, sizeof(dev->bars));
            return;
        }
        if (!flags || end < start || (!start && !end))
            continue;
        if (end - start >= BAR_SIZE_MAX) {
            /* no BAR spans half the 64-bit address space */
            add_error(dev, "resource: impossible size on line %u", i + 1);
            continue;
        }
        bar->start = start;
        bar->size = end - start + 1;
        bar->prefetchable = !!(flags & IORESOURCE_PREFETCH);
        if (flags & IORESOURCE_IO)
            bar->type = XPCI_BAR_IO;
        else if (flags & IORESOURCE_MEM)
            bar->type = (flags & IORESOURCE_MEM_64) ? XPCI_BAR_MEM64
                                                    : XPCI_BAR_MEM32;
    }
    if (i == 0)
        add_error(dev, "resource: empty");
}

/* Identity from the attribute files, when config space can't give it. */
static void read_ids_from_attrs(struct xpci_device *dev, int d)
{
    long v;

    if (xpci__read_long_at(d, "vendor", &v) < 0) {
        add_error(dev, "vendor: unreadable");
        return;
    }
    dev->vendor = (uint16_t)v;
    if (xpci__read_long_at(d, "device", &v) == 0)
        dev->device = (uint16_t)v;
    if (xpci__read_long_at(d, "class", &v) == 0)
        dev->class_code = (uint32_t)v & 0xffffff;
    else
        add_error(dev, "class: unreadable");
    if (xpci__read_long_at(d, "revision", &v) == 0)
        dev->revision = (uint8_t)v;
    if (xpci__read_long_at(d, "subsystem_vendor", &v) == 0)
        dev->subsys_vendor = (uint16_t)v;
    if (xpci__read_long_at(d, "subsystem_device", &v) == 0)
        dev->subsys_device = (uint16_t)v;
}

/*
 * A brief comment about uevent: the kernel's uevent of a PCI function
 * (drivers/pci/pci-driver.c pci_uevent, drivers/base/core.c dev_uevent)
 * gives in one read what six attributes and the driver link give:
 *   DRIVER=iavf                    only while a driver is bound
 *   PCI_CLASS=20000                %X of the 24-bit class
 *   PCI_ID=8086:154C               vendor:device, %04X
 *   PCI_SUBSYS_ID=8086:0000
 *   PCI_SLOT_NAME=0000:01:00.1
 *   MODALIAS=pci:v00008086d0000154Csv...
 * Its ids are the kernel's, which matters for SR-IOV VFs: their Vendor and
 * Device ID registers read all ones, and the kernel fills them from the PF.
 */
struct uevent_ids {
    bool ids;     /* PCI_ID, PCI_CLASS and PCI_SUBSYS_ID all parsed */
    bool driver;  /* DRIVER= present */
    uint16_t vendor, device, subsys_vendor, subsys_device;
    uint32_t class_code;
};

static bool parse_hex_pair(const char *s, uint16_t *a, uint16_t *b)
{
    char *end;
    unsigned long x, y;

    errno = 0;
    x = strtoul(s, &end, 16);
    if (errno || end != s + 4 || *end != ':')
        return false;
    y = strtoul(end + 1, &end, 16);
    if (errno || end != s + 9 || *end)
        return false;
    *a = (uint16_t)x;
    *b = (uint16_t)y;
    return true;
}

/* A driver's name as the kernel shows it: short, no '/', printable. */
static bool driver_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (!n || n > 63 || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || s[i] == '/')
            return false;
    return true;
}

/* The "uevent" attribute, already read into buf (r: length or -errno). */
static int parse_uevent(struct xpci_device *dev, char *buf, ssize_t r,
                        struct uevent_ids *ue)
{
    char *line, *save = NULL;
    bool id = false, cls = false, sub = false;

    memset(ue, 0, sizeof(*ue));
    if (r < 0)
        return r == -ENOMEM ? -ENOMEM : 0;
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *v = strchr(line, '=');
        char *end;

        if (!v)
            continue;
        *v++ = '\0';
        if (!strcmp(line, "DRIVER")) {
            if (!driver_name_ok(v)) {
                add_error(dev, "uevent: malformed DRIVER");
                continue;
            }
            free(dev->driver);
            if (!(dev->driver = strdup(v)))
                return -ENOMEM;
            ue->driver = true;
        } else if (!strcmp(line, "PCI_ID")) {
            id = parse_hex_pair(v, &ue->vendor, &ue->device);
        } else if (!strcmp(line, "PCI_SUBSYS_ID")) {
            sub = parse_hex_pair(v, &ue->subsys_vendor, &ue->subsys_device);
        } else if (!strcmp(line, "PCI_CLASS")) {
            unsigned long c;

            errno = 0;
            c = strtoul(v, &end, 16);
            cls = !errno && end != v && !*end && c <= 0xffffff;
            ue->class_code = (uint32_t)c;
        } else if (!strcmp(line, "PCI_SLOT_NAME") &&
                   strcmp(v, dev->bdf_str)) {
            add_error(dev, "uevent: PCI_SLOT_NAME %.16s is not %s", v,
                      dev->bdf_str);
            return 0;
        }
    }
    ue->ids = id && cls && sub;
    return 0;
}

/* The MSI capability's enable bit (Message Control bit 0): 1 on, 0 off
 * or no MSI, -1 when the config space read ends before it tells.  cfg is
 * the whole readable config space. */
static int msi_on(const uint8_t *cfg, size_t len)
{
    unsigned ptr;

    if (len <= 0x40)
        return -1;
    if (!(cfg[0x06] & 0x10))
        return 0;
    ptr = cfg[(cfg[0x0e] & 0x7f) == 2 ? 0x14 : 0x34];
    for (int ttl = 48; ptr >= 0x40 && ttl > 0; ttl--) {
        ptr &= ~3U;
        if (ptr + 4 > len)
            return -1;
        if (cfg[ptr] == 0x05)
            return cfg[ptr + 2] & 1;
        ptr = cfg[ptr + 1];
    }
    return 0;
}

/* Whether the kernel's "irq" attribute can be non-zero: a function without
 * an interrupt pin gets irq 0 (drivers/pci/probe.c pci_read_irq), and
 * irq_show (drivers/pci/pci-sysfs.c) shows another number only while MSI
 * is enabled. */
static bool may_have_irq(const uint8_t *cfg, size_t len)
{
    return len <= 0x40 || cfg[0x3d] || msi_on(cfg, len) != 0;
}

/* Config space, already read into cfg (r: length or -errno).  Returns
 * whether the irq attribute is worth reading. */
static bool parse_config(struct xpci_device *dev, int d,
                         const uint8_t *cfg, ssize_t r,
                         const struct uevent_ids *ue)
{
    bool irq = true;

    if (r < 0) {
        dev->pcie_type = XPCI_PCIE_NONE;
        add_error(dev, "config: %s", strerror((int)-r));
    } else {
        xpci__config_parse(dev, cfg, (size_t)r);
        if (r < 0x40)
            add_error(dev, "config: truncated to %zd bytes", r);
        else
            irq = may_have_irq(cfg, (size_t)r);
    }
    if (ue->ids) {
        /* The kernel's ids win: config space of a VF reads all ones. */
        dev->vendor = ue->vendor;
        dev->device = ue->device;
        dev->subsys_vendor = ue->subsys_vendor;
        dev->subsys_device = ue->subsys_device;
        dev->class_code = ue->class_code;
        if (r < 0x40) {
            long v;

            if (xpci__read_long_at(d, "revision", &v) == 0)
                dev->revision = (uint8_t)v;
        }
    } else if (r < 0x40 || dev->vendor == 0xffff) {
        read_ids_from_attrs(dev, d);
    }
    return irq;
}

/* The numbers of the IOMMU groups the kernel lists, sorted; one
 * directory read for the whole host instead of a check per function. */
struct group_set {
    int *ids;
    size_t n;
};

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return x < y ? -1 : x > y;
}

static int read_groups(xpci_ctx *ctx, struct group_set *gs)
{
    int fd = openat(ctx->sysfs_fd, SYSFS_IOMMU_GROUPS,
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir;
    struct dirent *de;
    size_t alloc = 0;

    gs->ids = NULL;
    gs->n = 0;
    if (fd < 0)
        return 0;
    if (!(dir = fdopendir(fd))) {
        close(fd);
        return 0;
    }
    while ((de = readdir(dir)) && gs->n < MAX_IOMMU_GROUPS) {
        char *end;
        long g;

        errno = 0;
        g = strtol(de->d_name, &end, 10);
        if (errno || end == de->d_name || *end || g < 0 || g > INT32_MAX)
            continue;
        if (gs->n == alloc) {
            int *n;

            alloc = alloc ? alloc * 2 : 256;
            if (!(n = realloc(gs->ids, alloc * sizeof(*n)))) {
                closedir(dir);
                return -ENOMEM;
            }
            gs->ids = n;
        }
        gs->ids[gs->n++] = (int)g;
    }
    closedir(dir);
    if (gs->n)
        qsort(gs->ids, gs->n, sizeof(int), cmp_int);
    return 0;
}

static bool group_exists(const struct group_set *gs, int g)
{
    return gs->n && bsearch(&g, gs->ids, gs->n, sizeof(int), cmp_int);
}

/* The iommu_group link: "../../../kernel/iommu_groups/N", N listed. */
static void read_group(struct xpci_device *dev, int d,
                       const struct group_set *gs)
{
    _cleanup_free_ char *name = NULL;
    char *end;
    long g;
    int r = xpci__readlink_base(d, "iommu_group", &name);

    if (r == -ENOENT)
        return;
    if (r < 0) {
        add_error(dev, "iommu_group: %s", strerror(-r));
        return;
    }
    errno = 0;
    g = strtol(name, &end, 10);
    if (errno || end == name || *end || g < 0 || g > INT32_MAX ||
        !group_exists(gs, (int)g)) {
        add_error(dev, "iommu_group: link to %s is dangling", name);
        return;
    }
    dev->iommu_group = (int)g;
}

/* Follow a link that must resolve; dangling ones are reported. */
static int read_link_name(struct xpci_device *dev, int d, const char *attr,
                          char **name_r)
{
    int r = xpci__readlink_base(d, attr, name_r);

    if (r == -ENOENT)
        return 0;
    if (r < 0) {
        add_error(dev, "%s: %s", attr, strerror(-r));
        return r;
    }
    if (faccessat(d, attr, F_OK, 0) < 0) {
        add_error(dev, "%s: link to %s is dangling", attr, *name_r);
        free(*name_r);
        *name_r = NULL;
        return -ENOENT;
    }
    return 1;
}

/*
 * A brief comment about VF numbers: the kernel places VF i of a PF at
 * routing ID PF + First VF Offset + i * VF Stride (PCIe SR-IOV 3.3.10,
 * drivers/pci/iov.c pci_iov_virtfn_bus/devfn), from the capability in
 * config space.  Computing them saves a readlink per VF; without a
 * readable capability the virtfnN links say it.
 */
static bool sriov_layout(const uint8_t *cfg, ssize_t len, unsigned *offset_r,
                         unsigned *stride_r)
{
    unsigned ptr = 0x100;

    for (int ttl = 960; ptr >= 0x100 && ttl > 0; ttl--) {
        uint32_t hdr;

        if ((ssize_t)ptr + 0x18 > len)
            return false;
        hdr = (uint32_t)cfg[ptr] | (uint32_t)cfg[ptr + 1] << 8 |
              (uint32_t)cfg[ptr + 2] << 16 | (uint32_t)cfg[ptr + 3] << 24;
        if (hdr == 0 || hdr == 0xffffffffU)
            return false;
        if ((hdr & 0xffff) == 0x0010) {
            *offset_r = cfg[ptr + 0x14] | (unsigned)cfg[ptr + 0x15] << 8;
            *stride_r = cfg[ptr + 0x16] | (unsigned)cfg[ptr + 0x17] << 8;
            return *offset_r != 0;
        }
        ptr = (hdr >> 20) & ~3U;
    }
    return false;
}

static void read_sriov(struct xpci_device *dev, int d, const uint8_t *cfg,
                       ssize_t cfg_len)
{
    unsigned offset, stride;
    long total, num;
    int r;

    dev->sriov_totalvfs = dev->sriov_numvfs = -1;
    /* Only a PF has the attributes; skip the lookups unless its config
     * space says SR-IOV or could not be read whole. */
    if (!dev->has_sriov && dev->config_full)
        return;
    r = xpci__read_long_at(d, "sriov_totalvfs", &total);
    if (r < 0)
        return;
    dev->has_sriov = true;
    /* TotalVFs is a 16-bit field of the SR-IOV capability */
    if (total < 0 || total > SRIOV_VFS_MAX) {
        add_error(dev, "sriov_totalvfs: %ld is out of range", total);
        return;
    }
    dev->sriov_totalvfs = (int)total;
    if (xpci__read_long_at(d, "sriov_numvfs", &num) < 0)
        num = 0;
    if (num < 0 || num > total) {
        add_error(dev, "sriov_numvfs: %ld is out of range (0..%ld)", num,
                  total);
        return;
    }
    dev->sriov_numvfs = (int)num;
    if (num > 0 && num <= 0xffff &&
        sriov_layout(cfg, cfg_len, &offset, &stride)) {
        unsigned pf_rid = (unsigned)dev->bdf.bus << 8 |
                          (unsigned)dev->bdf.dev << 3 | dev->bdf.func;

        for (long i = 0; i < num; i++) {
            unsigned rid = pf_rid + offset + (unsigned)i * stride;
            struct xpci_bdf b = {.domain = dev->bdf.domain,
                                 .bus = (rid >> 8) & 0xff,
                                 .dev = (rid >> 3) & 0x1f,
                                 .func = rid & 7};
            char vf[XPCI_BDF_STRLEN];

            if (rid > 0xffff)
                break;
            xpci_bdf_format(&b, vf);
            if (xpci__strv_push(&dev->virtfns, &dev->n_virtfns, vf) < 0)
                return;
        }
        return;
    }
    for (long i = 0; i < num; i++) {
        char attr[32];
        _cleanup_free_ char *vf = NULL;

        snprintf(attr, sizeof(attr), "virtfn%ld", i);
        if (xpci__readlink_base(d, attr, &vf) < 0)
            continue;
        if (xpci__strv_push(&dev->virtfns, &dev->n_virtfns, vf) < 0)
            return;
    }
}

static int parse_long(const char *s, long *v_r)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 0);
    if (errno || end == s || *end)
        return -EINVAL;
    *v_r = v;
    return 0;
}

/* Read the function in directory d; fds_r gets the fds of the attributes
 * read in one batch (-1 when not opened), for the caller to close. */
static int read_device(int d, const struct group_set *gs, unsigned flags,
                       struct xpci_device *dev, int *fds_r)
{
    static const char *const batch[] = {"uevent", "config", "resource",
                                        "driver_override", "reset_method",
                                        "numa_node"};
    struct uevent_ids ue;
    char uevent[1024], resource[4096], numa[32], override[256];
    char reset_method[256];
    uint8_t cfg[4096];
    struct xpci__attr_req reqs[] = {
        {batch[0], uevent, sizeof(uevent), false, 0},
        {batch[1], cfg, sizeof(cfg), true, 0},
        {batch[2], resource, sizeof(resource), false, 0},
        {batch[3], override, sizeof(override), false, 0},
        {batch[4], reset_method, sizeof(reset_method), false, 0},
        {batch[5], numa, sizeof(numa), false, -ENOENT}, /* last */
    };
    size_t n = ARRAY_SIZE(reqs) - !!(flags & XPCI_SCAN_NO_NUMA);
    long v;

    _Static_assert(ARRAY_SIZE(reqs) == SCAN_BATCH, "batch size");
    _Static_assert(ARRAY_SIZE(batch) == SCAN_BATCH, "batch names");
    fds_r[SCAN_BATCH - 1] = -1;
    xpci__read_attrs(d, reqs, n, fds_r);
    if (parse_uevent(dev, uevent, reqs[0].len, &ue) < 0)
        return -ENOMEM;
    /* While MSI is on (a driver in dom0, or pciback for a guest), the
     * attribute is the MSI's IRQ: the legacy one is not known then. */
    if (parse_config(dev, d, cfg, reqs[1].len, &ue) &&
        xpci__read_long_at(d, "irq", &v) == 0)
        dev->irq = v != 0 && reqs[1].len > 0 &&
                           msi_on(cfg, (size_t)reqs[1].len) == 1
                       ? XPCI_IRQ_UNKNOWN
                       : (int)v;
    dev->is_bridge = dev->header_type == 1 || dev->header_type == 2;
    dev->is_host_bridge = (dev->class_code >> 8) == 0x0600;
    dev->is_platform_bridge = !dev->is_bridge && !dev->is_host_bridge &&
                              (dev->class_code >> 16) == 0x06 &&
                              (dev->class_code >> 8) != 0x0680;
    parse_resources(dev, resource, reqs[2].len);
    /* uevent's DRIVER is the kernel's word; without it, a driver link
     * is worth a look (an old kernel, or a link left dangling). */
    if (!ue.driver)
        read_link_name(dev, d, "driver", &dev->driver);
    read_group(dev, d, gs);
    if (reqs[5].len > 0 && parse_long(numa, &v) == 0)
        dev->numa_node = (int)v;
    if (reqs[3].len > 0 && strcmp(override, "(null)") &&
        !(dev->driver_override = strdup(override)))
        return -ENOMEM;
    if (reqs[4].len >= 0) {
        if (!(dev->reset_method = strdup(reset_method)))
            return -ENOMEM;
        /* Empty: every method disabled; a write to reset gets ENOTTY. */
        dev->has_reset = reset_method[0] != '\0';
    } else {
        /* Kernels before 5.15 have "reset" but no "reset_method". */
        dev->has_reset = faccessat(d, "reset", F_OK, 0) == 0;
    }
    if ((dev->class_code >> 16) == 0x03 &&
        xpci__read_long_at(d, "boot_vga", &v) == 0)
        dev->boot_vga = (int)v;
    read_sriov(dev, d, cfg, reqs[1].len);
    return 0;
}

/* The directory of the last function's parent, kept open: the functions
 * of one bus (an SR-IOV PF's hundreds of VFs) are read from it. */
struct parent_dir {
    char *path;
    int fd;
};

/* The directory of the function at sysfs-relative path, O_PATH: its
 * parent opened beneath the root (or kept), then the function's own name
 * from there, never through a link.  The fd, or -1 with errno set. */
static int open_function_dir(xpci_ctx *ctx, struct parent_dir *pd,
                             const char *path)
{
    const char *slash = strrchr(path, '/'), *name;
    size_t plen;
    char *np;
    int fd;

    if (!slash || !slash[1] || strlen(slash + 1) >= NAME_MAX_LEN ||
        !strcmp(slash + 1, ".") || !strcmp(slash + 1, "..")) {
        errno = EINVAL;
        return -1;
    }
    plen = (size_t)(slash - path);
    name = slash + 1;
    if (pd->path && strlen(pd->path) == plen &&
        !memcmp(pd->path, path, plen))
        goto open;
    if (!(np = strndup(path, plen)))
        return -1;
    fd = xpci__open_beneath(ctx->sysfs_fd, np, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) {
        free(np);
        errno = -fd;
        return -1;
    }
    if (pd->fd >= 0)
        close(pd->fd);
    free(pd->path);
    pd->path = np;
    pd->fd = fd;
open:
    /* a link is opened as itself with O_NOFOLLOW: not a directory */
    return openat(pd->fd, name,
                  O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int scan_device(xpci_ctx *ctx, int busfd, const char *name,
                       const struct group_set *gs, struct parent_dir *pd,
                       unsigned flags, struct xpci_device *dev)
{
    _cleanup_free_ char *target = NULL;
    int fds[1 + SCAN_BATCH];
    int r;

    xpci_bdf_format(&dev->bdf, dev->bdf_str);
    dev->iommu_group = -1;
    dev->numa_node = -1;
    dev->boot_vga = -1;
    dev->sriov_totalvfs = dev->sriov_numvfs = -1;
    dev->pcie_type = XPCI_PCIE_NONE;
    dev->xen_assignable = XPCI_UNKNOWN;
    dev->xen_domid = -1;

    r = xpci__readlink(busfd, name, &target);
    if (r < 0) {
        add_error(dev, "%s/%s: %s", SYSFS_PCI_DEVICES, name, strerror(-r));
        return r == -ENOMEM ? r : 0;
    }
    r = parse_topology(dev, target);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        add_error(dev, "unexpected sysfs link target %s", target);
        return 0;
    }
    fds[0] = open_function_dir(ctx, pd, dev->sysfs_path);
    if (fds[0] < 0) {
        add_error(dev, "%s: %s", dev->sysfs_path, strerror(errno));
        return 0;
    }
    r = read_device(fds[0], gs, flags, dev, fds + 1);
    /* the directory and the batch, in as few close_range(2) as can be */
    xpci__close_fds(fds, ARRAY_SIZE(fds));
    return r;
}

int xpci__location_of(xpci_ctx *ctx, const char *bdf, char **loc_r)
{
    struct xpci_device dev = {0};
    _cleanup_free_ char *target = NULL;
    char path[64];
    int r;

    snprintf(path, sizeof(path), SYSFS_PCI_DEVICES "/%s", bdf);
    r = xpci__readlink(ctx->sysfs_fd, path, &target);
    if (r < 0)
        return r;
    r = parse_topology(&dev, target);
    if (r == 0)
        *loc_r = TAKE_PTR(dev.location);
    device_dispose(&dev);
    return r;
}

static int cmp_dev(const void *a, const void *b)
{
    return xpci_bdf_cmp(&((const struct xpci_device *)a)->bdf,
                        &((const struct xpci_device *)b)->bdf);
}

ssize_t xpci__host_index(const struct xpci_host *host, const char *bdf)
{
    struct xpci_bdf key;
    size_t lo = 0, hi = host->n;

    if (xpci_bdf_parse(bdf, &key) < 0)
        return -1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = xpci_bdf_cmp(&key, &host->devs[mid].bdf);

        if (c == 0)
            return (ssize_t)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

ssize_t xpci__host_owner_of(const struct xpci_host *host, const char *path)
{
    _cleanup_free_ char *copy = strdup(path);
    char *slash;

    if (!copy)
        return -1;
    /* The closest PCI function on the path owns what lies below it. */
    while ((slash = strrchr(copy, '/'))) {
        ssize_t i = xpci__host_index(host, slash + 1);

        if (i >= 0)
            return i;
        *slash = '\0';
    }
    return -1;
}

static const struct xpci_host *group_sort_host;

static int cmp_group(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int x = group_sort_host->devs[i].iommu_group;
    int y = group_sort_host->devs[j].iommu_group;

    /* ties in BDF order, so reasons list group mates stably */
    if (x != y)
        return x < y ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Index the functions by IOMMU group, so the checks find a function's
 * group mates without a pass over the whole host for each. */
static int index_groups(struct xpci_host *host)
{
    host->by_group = malloc((host->n ? host->n : 1) * sizeof(size_t));
    if (!host->by_group)
        return -ENOMEM;
    for (size_t i = 0; i < host->n; i++)
        if (host->devs[i].iommu_group >= 0)
            host->by_group[host->n_by_group++] = i;
    group_sort_host = host;
    qsort(host->by_group, host->n_by_group, sizeof(size_t), cmp_group);
    group_sort_host = NULL;
    return 0;
}

size_t xpci__host_group(const struct xpci_host *host, int group,
                        size_t *first_r)
{
    size_t lo = 0, hi = host->n_by_group, end;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (host->devs[host->by_group[mid]].iommu_group < group)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; end < host->n_by_group &&
                   host->devs[host->by_group[end]].iommu_group == group;
         end++)
        ;
    *first_r = lo;
    return end - lo;
}

static int mark_vfs(struct xpci_host *host)
{
    for (size_t i = 0; i < host->n; i++) {
        struct xpci_device *pf = &host->devs[i];

        for (unsigned k = 0; k < pf->n_virtfns; k++) {
            ssize_t j = xpci__host_index(host, pf->virtfns[k]);

            if (j < 0)
                continue;
            host->devs[j].is_vf = true;
            free(host->devs[j].physfn);
            host->devs[j].physfn = strdup(pf->bdf_str);
            if (!host->devs[j].physfn)
                return -ENOMEM;
        }
    }
    return 0;
}

static void read_pciback_slots(struct xpci_host *host)
{
    _cleanup_free_ char *slots = NULL;
    char *line, *save = NULL;

    if (xpci__read_file(host->ctx->sysfs_fd, SYSFS_PCIBACK_SLOTS, &slots) < 0)
        return;
    for (line = strtok_r(slots, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        ssize_t i = xpci__host_index(host, line);

        if (i >= 0)
            host->devs[i].in_pciback_slots = true;
    }
}

/* pciback's permissive flags (one BDF a line), for the functions it
 * holds; the rest have none to have. */
static void read_pciback_permissive(struct xpci_host *host)
{
    _cleanup_free_ char *list = NULL;
    char *line, *save = NULL;
    bool known = xpci__read_file(host->ctx->sysfs_fd,
                                 SYSFS_PCIBACK_PERMISSIVE, &list) >= 0;

    for (size_t i = 0; i < host->n; i++) {
        struct xpci_device *d = &host->devs[i];
        bool pciback = d->driver && !strcmp(d->driver, "pciback");

        d->pciback_permissive = pciback && !known ? XPCI_UNKNOWN : XPCI_NO;
    }
    for (line = known ? strtok_r(list, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        ssize_t i = xpci__host_index(host, line);

        if (i >= 0)
            host->devs[i].pciback_permissive = XPCI_YES;
    }
}

/* The pages one memory BAR spans, and whose it is. */
struct bar_pages {
    uint64_t first, last;
    size_t dev;
};

static int cmp_bar_pages(const void *a, const void *b)
{
    const struct bar_pages *x = a, *y = b;

    return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * Functions whose memory BARs share a page: Xen grants guests whole
 * pages, so either function's guest reaches the other's registers there.
 * One sweep over the BARs' page ranges in order of their first page.
 */
static int find_shared_pages(struct xpci_host *host)
{
    _cleanup_free_ struct bar_pages *v = NULL;
    size_t n = 0, open = 0;
    uint64_t open_last = 0;
    bool have_open = false;

    v = calloc(host->n * XPCI_NUM_RESOURCES + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < host->n; i++)
        for (unsigned b = 0; b < XPCI_NUM_RESOURCES; b++) {
            const struct xpci_bar *bar = &host->devs[i].bars[b];
            uint64_t end;

            if ((bar->type != XPCI_BAR_MEM32 &&
                 bar->type != XPCI_BAR_MEM64) || !bar->size ||
                __builtin_add_overflow(bar->start, bar->size - 1, &end))
                continue;
            v[n].first = bar->start >> 12;
            v[n].last = end >> 12;
            v[n++].dev = i;
        }
    if (n)
        qsort(v, n, sizeof(*v), cmp_bar_pages);
    for (size_t k = 0; k < n; k++) {
        if (have_open && v[k].first <= open_last &&
            v[k].dev != v[open].dev) {
            struct xpci_device *a = &host->devs[v[open].dev];
            struct xpci_device *b = &host->devs[v[k].dev];

            if (!a->bar_page_peer)
                a->bar_page_peer = b->bdf_str;
            if (!b->bar_page_peer)
                b->bar_page_peer = a->bdf_str;
        }
        if (!have_open || v[k].last > open_last) {
            open = k;
            open_last = v[k].last;
            have_open = true;
        }
    }
    return 0;
}

/* libxl's records of assignable functions (/libxl/pci/0000-01-00-0). */
static int read_libxl_records(struct xpci_host *host)
{
    struct xpci__libxl_record *recs = NULL;
    size_t n = 0;
    int r = 0;

    if (!host->ctx->xs ||
        xpci__xs_libxl_records(host->ctx, &recs, &n) < 0)
        return 0;
    for (size_t k = 0; k < n && r == 0; k++) {
        char bdf[XPCI_BDF_STRLEN];
        struct xpci_device *dev;
        ssize_t i;

        xpci_bdf_format(&recs[k].bdf, bdf);
        i = xpci__host_index(host, bdf);
        if (i < 0)
            continue;
        dev = &host->devs[i];
        /* xl pci-assignable-remove leaves an empty /libxl/pci/<key>:
         * only a node with content records a hidden function. */
        dev->libxl_assignable = recs[k].driver_path || recs[k].name ||
                                recs[k].domid >= 0;
        dev->xen_domid = recs[k].domid;
        if (recs[k].driver_path &&
            !(dev->libxl_driver_path = strdup(recs[k].driver_path)))
            r = -ENOMEM;
        if (recs[k].name && !(dev->libxl_name = strdup(recs[k].name)))
            r = -ENOMEM;
    }
    xpci__libxl_records_free(recs, n);
    return r;
}

static void read_hypervisor(struct xpci_host *host)
{
    xpci_ctx *ctx = host->ctx;
    struct xpci_hv_info info;

    host->info.hv_unavailable = xpci_ctx_hv_unavailable(ctx);
    host->info.xs_unavailable = xpci_ctx_xs_unavailable(ctx);
    host->info.xen_running = ctx->hv           ? XPCI_YES
                             : ctx->xen_absent ? XPCI_NO
                                               : XPCI_UNKNOWN;
    host->info.iommu_enabled = XPCI_UNKNOWN;
    host->info.xen_version = NULL;
    host->info.built_for = XPCI_XEN_BUILT_FOR;
    if (!ctx->hv)
        return;
    memset(&info, 0, sizeof(info));
    if (ctx->hv->physinfo && ctx->hv->physinfo(ctx->hv_priv, &info) == 0) {
        host->info.iommu_enabled = info.iommu_enabled ? XPCI_YES : XPCI_NO;
        info.version[sizeof(info.version) - 1] = '\0';
        memcpy(host->xen_version, info.version, sizeof(host->xen_version));
        if (host->xen_version[0])
            host->info.xen_version = host->xen_version;
    }
    if (!ctx->hv->test_assign)
        return;
    /*
     * Xen refuses a test of assigning to the caller itself ("no
     * self-assignment", xen/drivers/passthrough/pci.c): dom0 asks on
     * behalf of no domain, DOMID_INVALID.
     */
    for (size_t i = 0; i < host->n; i++) {
        struct xpci_device *dev = &host->devs[i];
        int r = ctx->hv->test_assign(ctx->hv_priv, XPCI_DOMID_INVALID,
                                     xpci_bdf_to_sbdf(&dev->bdf));

        /* Xen says EINVAL both for "a guest has it" and "no such device"
         * (REFERENCE: xc_test_assign_device); newer ones EBUSY for the
         * first. */
        if (r == 0)
            dev->xen_assignable = XPCI_YES;
        else if (r == -EINVAL || r == -EBUSY)
            dev->xen_assignable = XPCI_NO;
    }
}

int xpci_host_scan(xpci_ctx *ctx, struct xpci_host **host_r)
{
    return xpci__host_scan(ctx, 0, host_r);
}

int xpci_host_scan_with(xpci_ctx *ctx, unsigned flags,
                        struct xpci_host **host_r)
{
    return xpci__host_scan(ctx, flags & XPCI_SCAN_NO_NUMA, host_r);
}

int xpci__host_scan(xpci_ctx *ctx, unsigned flags, struct xpci_host **host_r)
{
    _cleanup_close_ int busfd = -1;
    struct xpci_host *host;
    DIR *dir;
    struct dirent *de;
    size_t alloc = 0;
    struct group_set gs;
    struct parent_dir pd = {NULL, -1};
    int r = 0;

    busfd = openat(ctx->sysfs_fd, SYSFS_PCI_DEVICES,
                   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (busfd < 0)
        return -errno;
    if (read_groups(ctx, &gs) < 0)
        return -ENOMEM;
    host = calloc(1, sizeof(*host));
    if (!host) {
        free(gs.ids);
        return -ENOMEM;
    }
    host->ctx = ctx;
    dir = fdopendir(dup(busfd));
    if (!dir) {
        free(gs.ids);
        free(host);
        return -errno;
    }
    while ((de = readdir(dir))) {
        struct xpci_bdf bdf;
        struct xpci_device *dev;

        if (xpci_bdf_parse(de->d_name, &bdf) < 0)
            continue;
        if (host->n == alloc) {
            struct xpci_device *nd;

            alloc = alloc ? alloc * 2 : 64;
            nd = realloc(host->devs, alloc * sizeof(*nd));
            if (!nd) {
                r = -ENOMEM;
                break;
            }
            host->devs = nd;
        }
        dev = &host->devs[host->n++];
        memset(dev, 0, sizeof(*dev));
        dev->bdf = bdf;
        r = scan_device(ctx, busfd, de->d_name, &gs, &pd, flags, dev);
        if (r < 0)
            break;
    }
    closedir(dir);
    free(gs.ids);
    if (pd.fd >= 0)
        close(pd.fd);
    free(pd.path);
    if (r < 0)
        goto fail;
    if (host->n)
        qsort(host->devs, host->n, sizeof(*host->devs), cmp_dev);
    r = mark_vfs(host);
    if (r == 0)
        r = index_groups(host);
    if (r == 0)
        r = find_shared_pages(host);
    if (r < 0)
        goto fail;
    read_pciback_slots(host);
    read_pciback_permissive(host);
    if (!(flags & XPCI__SCAN_LIGHT) && (r = xpci__pciback_boot_scan(host)))
        goto fail;
    if (!(flags & XPCI__SCAN_LIGHT))
        read_hypervisor(host);
    r = read_libxl_records(host);
    if (r == 0 && !(flags & XPCI__SCAN_LIGHT))
        r = xpci__dom0_scan(host);
    if (r < 0)
        goto fail;
    *host_r = host;
    return 0;

fail:
    xpci_host_free(host);
    return r;
}

void xpci_host_free(struct xpci_host *host)
{
    if (!host)
        return;
    for (size_t i = 0; i < host->n; i++)
        device_dispose(&host->devs[i]);
    free(host->devs);
    free(host->by_group);
    xpci__dom0_free(host);
    free(host);
}

size_t xpci_host_count(const struct xpci_host *host)
{
    return host->n;
}

const struct xpci_device *xpci_host_device(const struct xpci_host *host,
                                           size_t i)
{
    return i < host->n ? &host->devs[i] : NULL;
}

int xpci_host_find(const struct xpci_host *host, const char *id,
                   const struct xpci_device **dev_r)
{
    struct xpci_bdf bdf;

    if (xpci_bdf_parse(id, &bdf) == 0) {
        ssize_t i = xpci__host_index(host, id);

        if (i < 0)
            return -ENODEV;
        *dev_r = &host->devs[i];
        return 0;
    }
    if (strncmp(id, "pci", 3))
        return -EINVAL;
    for (size_t i = 0; i < host->n; i++) {
        if (host->devs[i].location && !strcmp(host->devs[i].location, id)) {
            *dev_r = &host->devs[i];
            return 0;
        }
    }
    return -ENODEV;
}

void xpci_host_get_info(const struct xpci_host *host,
                        struct xpci_host_info *info_r)
{
    *info_r = host->info;
}
