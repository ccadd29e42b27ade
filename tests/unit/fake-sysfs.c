/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake-sysfs.c - a fake kernel for the tests: builds sysfs and procfs
 * trees shaped like Linux 6.1's under a directory, and acts on writes the
 * way the PCI core and xen-pciback do (bind, unbind, driver_override,
 * new_slot, ...).  The trees are real enough for pciutils to read them
 * (lspci -A linux-sysfs -O sysfs.path=R/sys).
 *
 * What the kernel keeps in memory (the "native" driver of a device, the
 * dynamic ids of a driver, pciback's slot list) is kept here too, next to
 * the files that show it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-sysfs.h"

/* Kernel resource flags (include/linux/ioport.h). */
#define IORESOURCE_IO 0x00000100ULL
#define IORESOURCE_MEM 0x00000200ULL
#define IORESOURCE_PREFETCH 0x00002000ULL
#define IORESOURCE_READONLY 0x00004000ULL
#define IORESOURCE_SIZEALIGN 0x00040000ULL
#define IORESOURCE_MEM_64 0x00100000ULL

/* Lines of the "resource" attribute: 6 BARs, ROM, 6 SR-IOV BARs, and the
 * 4 bridge windows for bridges (drivers/pci/pci-sysfs.c, resource_show). */
#define RES_LINES_ENDPOINT 13
#define RES_LINES_BRIDGE 17

/* Config space layout (include/uapi/linux/pci_regs.h). */
#define CFG_SIZE_MAX 4096
#define CAP_START 0x40
#define EXT_CAP_START 0x100
#define PM_CAP_LEN 8
#define MSI_CAP_LEN 24
#define EXP_CAP_LEN 0x3c
#define MSIX_CAP_LEN 12
#define AF_CAP_LEN 6
#define SSVID_CAP_LEN 8
#define SRIOV_CAP_LEN 0x40
#define ACS_CAP_LEN 8

#define SRIOV_CTRL 0x08
#define SRIOV_INITIAL_VF 0x0c
#define SRIOV_TOTAL_VF 0x0e
#define SRIOV_NUM_VF 0x10
#define SRIOV_VF_OFFSET 0x14
#define SRIOV_VF_STRIDE 0x16
#define SRIOV_VF_DID 0x1a

#define PCIBACK "pciback"

struct fdev {
    char bdf[XPCI_BDF_STRLEN];
    unsigned bus;
    unsigned rid; /* bus << 8 | devfn */
    uint16_t vendor, device, subsys_vendor, subsys_device;
    uint32_t class_code;
    char *path;     /* sysfs-relative device directory */
    ssize_t parent; /* index of the parent bridge, or -1 */
    char *native;   /* driver a probe binds, or NULL */
    char *override; /* driver_override, or NULL */
    bool bridge;
    int secondary, subordinate; /* bridges: bus numbers below, -1 none */
    int nvme;                   /* NVMe controller index, -1 none yet */
    /* SR-IOV (PFs) */
    int totalvfs;     /* 0: not a PF */
    size_t sriov_cap; /* config offset of the capability, 0 none */
    size_t cfg_len;   /* bytes of config written */
    int numvfs;
    unsigned first_vf_rid;
};

struct fblk {
    char *name;
    char *path; /* sysfs-relative directory */
    unsigned major, minor;
};

struct fdynid {
    char *driver;
    unsigned vendor, device;
};

struct frefusal {
    char *path; /* normalised sysfs-relative path */
    int err;
};

struct fake_sysfs {
    char *root, *sys, *proc;
    bool keep; /* made by fake_sysfs_new_at */

    struct fdev *devs;
    size_t n_devs, cap_devs;
    size_t *hash; /* open addressing: index + 1, 0 empty */
    size_t hash_size;

    struct fblk *blks;
    size_t n_blks;
    struct fdynid *dynids;
    size_t n_dynids;
    struct frefusal *refusals;
    size_t n_refusals;
    char **writes; /* NULL-terminated */
    size_t n_writes, cap_writes;

    char **drivers; /* driver directories made so far */
    size_t n_drivers;
    bool pciback;
    int next_ifindex;
    int next_nvme;
    int next_subsys; /* NVMe subsystem instances (one per controller
                        unless shared) */
    int next_mount_id, root_mount_id, next_shared;
    int next_swap_prio;
    bool dense; /* every attribute the kernel shows, see fake_sysfs_set_dense */
};

/* ------------------------------------------------------------------ */
/* Small helpers; a builder error aborts the test program              */
/* ------------------------------------------------------------------ */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
    va_list ap;

    fputs("fake-sysfs: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        die("out of memory");
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);

    if (!p)
        die("out of memory");
    return p;
}

static char *__attribute__((format(printf, 1, 2)))
xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        die("out of memory");
    return s;
}

/* snprintf into a path buffer; a path that does not fit aborts. */
static void __attribute__((format(printf, 3, 4)))
pathf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= size)
        die("path too long: %s", fmt);
}

static void mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    char *p;

    pathf(buf, sizeof(buf), "%s", path);
    for (p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            die("mkdir %s: %m", buf);
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        die("mkdir %s: %m", buf);
}

static void write_at(int dirfd, const char *name, const void *data, size_t len,
                     mode_t mode)
{
    int fd =
        openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    if (fd < 0)
        die("create %s: %m", name);
    if (len && write(fd, data, len) != (ssize_t)len)
        die("write %s: %m", name);
    close(fd);
}

static void __attribute__((format(printf, 3, 4)))
printf_at(int dirfd, const char *name, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= sizeof(buf))
        die("attribute %s too long", name);
    write_at(dirfd, name, buf, (size_t)r, 0644);
}

/* Write-only attributes (bind, unbind, remove, ...) are mode 0200. */
static void touch_wo(int dirfd, const char *name)
{
    write_at(dirfd, name, "", 0, 0200);
}

static int open_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        die("open %s: %m", path);
    return fd;
}

static void append_file(const char *path, const char *line)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    size_t len = strlen(line);

    if (fd < 0)
        die("open %s: %m", path);
    if (write(fd, line, len) != (ssize_t)len)
        die("append %s: %m", path);
    close(fd);
}

/* Read a whole small file into a malloc'd string; NULL when absent. */
static char *slurp(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0, cap = 4096;
    char *buf;
    ssize_t r;

    if (fd < 0)
        return NULL;
    buf = xmalloc(cap);
    while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (cap - len < 2)
            buf = xrealloc(buf, cap *= 2);
    }
    close(fd);
    buf[len] = '\0';
    return buf;
}

/*
 * Like sysfs itself, links are relative: up from the link's directory to
 * the deepest common ancestor of the link and the target's parent, then
 * down to the target (fs/kernfs/symlink.c, kernfs_get_target_path).  So a
 * netdev's "device" link reads "../../../0000:01:00.0", not "../..".
 * Both paths are sysfs-relative.
 */
static char *rel_target(const char *link_dir, const char *target)
{
    const char *tparent_end = strrchr(target, '/');
    size_t tparent_len = tparent_end ? (size_t)(tparent_end - target) : 0;
    size_t i = 0, common = 0, ups = 0;
    char *s, *p;

    /* common leading components of link_dir and the target's parent */
    for (;; i++) {
        bool end_l = link_dir[i] == '\0' || link_dir[i] == '/';
        bool end_t = i == tparent_len || target[i] == '/';

        if (i > 0 && end_l && end_t)
            common = i;
        if (i >= tparent_len || link_dir[i] != target[i] || !link_dir[i])
            break;
    }
    for (i = common; link_dir[i]; i++)
        if (link_dir[i] == '/' || (i == common && common == 0))
            ups++;
    target += common;
    if (*target == '/')
        target++;
    s = p = xmalloc(ups * 3 + strlen(target) + 1);
    for (i = 0; i < ups; i++, p += 3)
        memcpy(p, "../", 3);
    strcpy(p, target);
    return s;
}

/* Create R/sys/<link_dir>/<name> pointing at R/sys/<target>. */
static void sys_link(struct fake_sysfs *t, const char *link_dir,
                     const char *name, const char *target)
{
    char path[PATH_MAX];
    char *rel = rel_target(link_dir, target);

    pathf(path, sizeof(path), "%s/%s/%s", t->sys, link_dir, name);
    if (symlink(rel, path) < 0 &&
        (errno != EEXIST || unlink(path) < 0 || symlink(rel, path) < 0))
        die("symlink %s -> %s: %m", path, rel);
    free(rel);
}

static void sys_unlink(struct fake_sysfs *t, const char *link_dir,
                       const char *name)
{
    char path[PATH_MAX];

    pathf(path, sizeof(path), "%s/%s/%s", t->sys, link_dir, name);
    if (unlink(path) < 0 && errno != ENOENT)
        die("unlink %s: %m", path);
}

/* ------------------------------------------------------------------ */
/* Devices by BDF                                                      */
/* ------------------------------------------------------------------ */

static size_t hash_bdf(const char *s)
{
    size_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void hash_insert(struct fake_sysfs *t, size_t idx)
{
    size_t m = t->hash_size - 1;
    size_t h = hash_bdf(t->devs[idx].bdf) & m;

    while (t->hash[h])
        h = (h + 1) & m;
    t->hash[h] = idx + 1;
}

static ssize_t find_dev(const struct fake_sysfs *t, const char *bdf)
{
    size_t m, h;

    if (!t->hash_size)
        return -1;
    m = t->hash_size - 1;
    for (h = hash_bdf(bdf) & m; t->hash[h]; h = (h + 1) & m)
        if (!strcmp(t->devs[t->hash[h] - 1].bdf, bdf))
            return (ssize_t)(t->hash[h] - 1);
    return -1;
}

static struct fdev *new_dev(struct fake_sysfs *t, const char *bdf)
{
    struct fdev *d;

    if (t->n_devs == t->cap_devs) {
        t->cap_devs = t->cap_devs ? t->cap_devs * 2 : 64;
        t->devs = xrealloc(t->devs, t->cap_devs * sizeof(*t->devs));
    }
    if ((t->n_devs + 1) * 2 > t->hash_size) {
        t->hash_size = t->hash_size ? t->hash_size * 2 : 256;
        free(t->hash);
        t->hash = calloc(t->hash_size, sizeof(*t->hash));
        if (!t->hash)
            die("out of memory");
        for (size_t i = 0; i < t->n_devs; i++)
            hash_insert(t, i);
    }
    d = &t->devs[t->n_devs];
    memset(d, 0, sizeof(*d));
    snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
    d->parent = -1;
    d->secondary = d->subordinate = -1;
    d->nvme = -1;
    hash_insert(t, t->n_devs++);
    return d;
}

static struct fdev *dev_of(const struct fake_sysfs *t, const char *bdf)
{
    ssize_t i = find_dev(t, bdf);

    if (i < 0)
        die("no device %s", bdf);
    return &t->devs[i];
}

/* Parse a canonical "DDDD:BB:DD.F". */
static bool parse_bdf(const char *s, unsigned *dom, unsigned *bus,
                      unsigned *dev, unsigned *fn)
{
    char tail;

    if (strlen(s) != XPCI_BDF_STRLEN - 1 ||
        sscanf(s, "%4x:%2x:%2x.%1x%c", dom, bus, dev, fn, &tail) != 4)
        return false;
    return *dev < 32 && *fn < 8 && isxdigit((unsigned char)s[0]);
}

/* ------------------------------------------------------------------ */
/* The tree                                                            */
/* ------------------------------------------------------------------ */

static const char *const tree_dirs[] = {
    "sys/bus/pci/devices",
    "sys/bus/pci/drivers",
    "sys/bus/pci/slots",
    "sys/devices/virtual/block",
    "sys/kernel/iommu_groups",
    "sys/class/net",
    "sys/class/block",
    "sys/class/graphics",
    "sys/dev/block",
    "sys/dev/char",
    "proc/self",
    "proc/net",
    "sys/fs/btrfs",
    "etc/modprobe.d",
};

/* The header lines the kernel prints (net/ipv4/fib_trie.c fib_route_seq_show,
 * mm/swapfile.c swap_show).  Every line of /proc/net/route, the header
 * too, is padded with spaces to 127 characters. */
#define ROUTE_HEADER                                                           \
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU"    \
    "\tWindow\tIRTT"
#define ROUTE_WIDTH 127
#define DEFAULT_CMDLINE                                                        \
    "placeholder root=UUID=4e1c2a6b-93b7-4a51-8a2e-0d6b5c3f1e27 ro quiet"
#define SWAPS_HEADER "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

static struct fake_sysfs *tree_init(char *root, bool keep)
{
    struct fake_sysfs *t = calloc(1, sizeof(*t));
    char path[PATH_MAX];
    int fd;

    if (!t)
        die("out of memory");
    t->root = root;
    t->keep = keep;
    t->sys = xasprintf("%s/sys", root);
    t->proc = xasprintf("%s/proc", root);
    t->next_ifindex = 2; /* 1 is lo */
    t->next_mount_id = 22;
    t->root_mount_id = -1;
    t->next_shared = 1;
    t->next_swap_prio = -2;
    t->writes = xmalloc(sizeof(char *));
    t->writes[0] = NULL;
    for (size_t i = 0; i < sizeof(tree_dirs) / sizeof(tree_dirs[0]); i++) {
        pathf(path, sizeof(path), "%s/%s", root, tree_dirs[i]);
        mkdir_p(path);
    }
    fd = open_dir(t->sys);
    touch_wo(fd, "bus/pci/drivers_probe");
    touch_wo(fd, "bus/pci/rescan");
    printf_at(fd, "bus/pci/drivers_autoprobe", "1\n");
    printf_at(fd, "bus/pci/resource_alignment", "\n");
    close(fd);
    fd = open_dir(t->proc);
    printf_at(fd, "net/route", "%-*s\n", ROUTE_WIDTH, ROUTE_HEADER);
    write_at(fd, "net/ipv6_route", "", 0, 0644);
    write_at(fd, "self/mountinfo", "", 0, 0644);
    printf_at(fd, "swaps", "%s", SWAPS_HEADER);
    printf_at(fd, "cmdline", "%s\n", DEFAULT_CMDLINE);
    close(fd);
    return t;
}

struct fake_sysfs *fake_sysfs_new(void)
{
    const char *tmp = getenv("TMPDIR");
    char *root = xasprintf("%s/xpci-fake-XXXXXX", tmp && *tmp ? tmp : "/tmp");

    if (!mkdtemp(root))
        die("mkdtemp %s: %m", root);
    return tree_init(root, false);
}

struct fake_sysfs *fake_sysfs_new_at(const char *dir)
{
    char *root;

    mkdir_p(dir);
    root = realpath(dir, NULL);
    if (!root)
        die("realpath %s: %m", dir);
    return tree_init(root, true);
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(path) < 0 ? -1 : 0;
    return unlink(path) < 0 ? -1 : 0;
}

void fake_sysfs_free(struct fake_sysfs *t)
{
    if (!t)
        return;
    if (!t->keep && nftw(t->root, rm_one, 32, FTW_DEPTH | FTW_PHYS) < 0)
        fprintf(stderr, "fake-sysfs: could not remove %s: %m\n", t->root);
    for (size_t i = 0; i < t->n_devs; i++) {
        free(t->devs[i].path);
        free(t->devs[i].native);
        free(t->devs[i].override);
    }
    for (size_t i = 0; i < t->n_blks; i++) {
        free(t->blks[i].name);
        free(t->blks[i].path);
    }
    for (size_t i = 0; i < t->n_dynids; i++)
        free(t->dynids[i].driver);
    for (size_t i = 0; i < t->n_drivers; i++)
        free(t->drivers[i]);
    free(t->drivers);
    for (size_t i = 0; i < t->n_refusals; i++)
        free(t->refusals[i].path);
    for (size_t i = 0; i < t->n_writes; i++)
        free(t->writes[i]);
    free(t->devs);
    free(t->hash);
    free(t->blks);
    free(t->dynids);
    free(t->refusals);
    free(t->writes);
    free(t->sys);
    free(t->proc);
    free(t->root);
    free(t);
}

const char *fake_sysfs_root(const struct fake_sysfs *t)
{
    return t->root;
}

const char *fake_sysfs_sys(const struct fake_sysfs *t)
{
    return t->sys;
}

const char *fake_sysfs_proc(const struct fake_sysfs *t)
{
    return t->proc;
}

void fake_sysfs_add_root_bus(struct fake_sysfs *t, const char *dom_bus)
{
    char path[PATH_MAX];
    unsigned dom, bus;
    char tail;
    int fd;

    if (strlen(dom_bus) != 7 ||
        sscanf(dom_bus, "%4x:%2x%c", &dom, &bus, &tail) != 2)
        die("bad root bus %s", dom_bus);
    pathf(path, sizeof(path), "%s/devices/pci%s", t->sys, dom_bus);
    if (mkdir(path, 0755) < 0) {
        if (errno == EEXIST)
            return;
        die("mkdir %s: %m", path);
    }
    fd = open_dir(path);
    write_at(fd, "uevent", "", 0, 0644);
    close(fd);
}

struct fake_pci fake_pci_default(uint16_t vendor, uint16_t device,
                                 uint32_t class_code)
{
    struct fake_pci d;

    memset(&d, 0, sizeof(d));
    d.vendor = vendor;
    d.device = device;
    d.class_code = class_code;
    d.iommu_group = -1;
    d.numa_node = -1;
    d.pcie_type = -1;
    d.boot_vga = -1;
    return d;
}

/* ------------------------------------------------------------------ */
/* Drivers                                                             */
/* ------------------------------------------------------------------ */

static void driver_dir_path(const struct fake_sysfs *t, const char *drv,
                            char *buf, size_t size)
{
    pathf(buf, size, "%s/bus/pci/drivers/%s", t->sys, drv);
}

static bool driver_loaded(const struct fake_sysfs *t, const char *drv)
{
    char path[PATH_MAX];
    struct stat st;

    driver_dir_path(t, drv, path, sizeof(path));
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* sys/bus/pci/drivers/<drv> with the attributes every PCI driver has
 * (drivers/base/bus.c, drivers/pci/pci-driver.c). */
static void ensure_driver(struct fake_sysfs *t, const char *drv)
{
    char path[PATH_MAX];
    int fd;

    for (size_t i = 0; i < t->n_drivers; i++)
        if (!strcmp(t->drivers[i], drv))
            return;
    if (!*drv || strchr(drv, '/'))
        die("bad driver name '%s'", drv);
    t->drivers = xrealloc(t->drivers, (t->n_drivers + 1) * sizeof(*t->drivers));
    t->drivers[t->n_drivers++] = xstrdup(drv);
    driver_dir_path(t, drv, path, sizeof(path));
    if (mkdir(path, 0755) < 0) {
        if (errno == EEXIST)
            return;
        die("mkdir %s: %m", path);
    }
    fd = open_dir(path);
    touch_wo(fd, "bind");
    touch_wo(fd, "unbind");
    touch_wo(fd, "new_id");
    touch_wo(fd, "remove_id");
    touch_wo(fd, "uevent");
    close(fd);
}

/* Bound driver of d, read back from its link; NULL when unbound. */
static char *bound_driver(const struct fake_sysfs *t, const struct fdev *d)
{
    char path[PATH_MAX], buf[PATH_MAX];
    ssize_t r;
    char *base;

    pathf(path, sizeof(path), "%s/%s/driver", t->sys, d->path);
    r = readlink(path, buf, sizeof(buf) - 1);
    if (r < 0)
        return NULL;
    buf[r] = '\0';
    base = strrchr(buf, '/');
    return xstrdup(base ? base + 1 : buf);
}

/* The device's uevent (drivers/pci/pci-driver.c pci_uevent); DRIVER= is
 * added by the driver core while a driver is bound. */
static void write_uevent_at(int fd, const struct fdev *d, const char *drv)
{
    char buf[512];
    unsigned cls = d->class_code;
    int len = 0;

    if (drv)
        len = snprintf(buf, sizeof(buf), "DRIVER=%s\n", drv);
    len += snprintf(buf + len, sizeof(buf) - (size_t)len,
                    "PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n"
                    "PCI_SLOT_NAME=%s\nMODALIAS=pci:v%08Xd%08Xsv%08Xsd%08X"
                    "bc%02Xsc%02Xi%02X\n",
                    cls, d->vendor, d->device, d->subsys_vendor,
                    d->subsys_device, d->bdf, d->vendor, d->device,
                    d->subsys_vendor, d->subsys_device, (cls >> 16) & 0xff,
                    (cls >> 8) & 0xff, cls & 0xff);
    write_at(fd, "uevent", buf, (size_t)len, 0644);
}

/* What changes in the device directory when a driver comes or goes. */
static void set_bound(struct fake_sysfs *t, const struct fdev *d,
                      const char *drv)
{
    char path[PATH_MAX];
    int fd;

    pathf(path, sizeof(path), "%s/%s", t->sys, d->path);
    fd = open_dir(path);
    printf_at(fd, "enable", "%d\n", drv ? 1 : 0);
    write_uevent_at(fd, d, drv);
    close(fd);
}

/* The device's "driver" link and the driver's link back. */
static void driver_links(struct fake_sysfs *t, const struct fdev *d,
                         const char *drv)
{
    char drv_dir[PATH_MAX];

    /* a device bound to pciback means xen-pciback is loaded */
    if (!strcmp(drv, PCIBACK))
        fake_sysfs_load_pciback(t);
    else
        ensure_driver(t, drv);
    pathf(drv_dir, sizeof(drv_dir), "bus/pci/drivers/%s", drv);
    sys_link(t, d->path, "driver", drv_dir);
    sys_link(t, drv_dir, d->bdf, d->path);
}

static void link_driver(struct fake_sysfs *t, struct fdev *d, const char *drv)
{
    driver_links(t, d, drv);
    set_bound(t, d, drv);
}

static void unlink_driver(struct fake_sysfs *t, struct fdev *d, const char *drv)
{
    char drv_dir[PATH_MAX];

    pathf(drv_dir, sizeof(drv_dir), "bus/pci/drivers/%s", drv);
    sys_unlink(t, d->path, "driver");
    sys_unlink(t, drv_dir, d->bdf);
    set_bound(t, d, NULL);
}

/* ------------------------------------------------------------------ */
/* Config space                                                        */
/* ------------------------------------------------------------------ */

static void put16(uint8_t *c, size_t off, unsigned v)
{
    c[off] = (uint8_t)v;
    c[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *c, size_t off, uint32_t v)
{
    put16(c, off, v & 0xffff);
    put16(c, off + 2, v >> 16);
}

/* Append a capability of len bytes at *next (chained from *prev_next). */
static size_t add_cap(uint8_t *cfg, size_t *at, size_t *link, unsigned id,
                      size_t len)
{
    size_t off = *at;

    if (off + len > 0x100)
        die("capabilities overflow config space");
    cfg[*link] = (uint8_t)off;
    cfg[off] = (uint8_t)id;
    cfg[off + 1] = 0;
    *link = off + 1;
    *at = (off + len + 3) & ~(size_t)3;
    return off;
}

static size_t add_ext_cap(uint8_t *cfg, size_t *at, size_t *prev, unsigned id,
                          unsigned ver, size_t len)
{
    size_t off = *at;

    if (*prev)
        put32(cfg, *prev,
              (cfg[*prev] | cfg[*prev + 1] << 8 |
               (uint32_t)cfg[*prev + 2] << 16) |
                  (uint32_t)off << 20);
    put32(cfg, off, id | ver << 16);
    *prev = off;
    *at = off + len;
    return off;
}

/* The BAR register value the resource came from (decode_bar()'s input). */
static void put_bars(uint8_t *cfg, const struct fake_pci *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const struct fake_res *r = &p->res[i];
        uint32_t v;

        if (!r->size)
            continue;
        if (r->io) {
            put32(cfg, 0x10 + 4 * i, (uint32_t)r->start | 0x1);
            continue;
        }
        v = (uint32_t)r->start | (r->prefetch ? 0x8 : 0) | (r->mem64 ? 0x4 : 0);
        put32(cfg, 0x10 + 4 * i, v);
        if (r->mem64 && i + 1 < n)
            put32(cfg, 0x10 + 4 * (i + 1), (uint32_t)(r->start >> 32));
    }
}

static size_t config_size(const struct fake_pci *p)
{
    if (p->config_size)
        return p->config_size > CFG_SIZE_MAX ? CFG_SIZE_MAX : p->config_size;
    return p->pcie_type >= 0 ? 4096 : 256;
}

/* Build the config space of p into cfg (CFG_SIZE_MAX bytes). */
static void build_config(struct fdev *d, const struct fake_pci *p, unsigned bus,
                         uint8_t *cfg)
{
    bool bridge = p->header_type == 1 || p->header_type == 2;
    size_t at = CAP_START, link = 0x34, ext_at = EXT_CAP_START, ext_prev = 0;
    size_t len = config_size(p);
    unsigned cmd = 0;
    bool any_cap = p->pm || p->msi || p->msix || p->pcie_type >= 0 ||
                   p->af_flr ||
                   (bridge && (p->subsys_vendor || p->subsys_device));

    memset(cfg, 0, CFG_SIZE_MAX);
    put16(cfg, 0x00, p->vendor);
    put16(cfg, 0x02, p->device);
    for (unsigned i = 0; i < 7; i++) {
        if (!p->res[i].size || i == 6)
            continue;
        cmd |= p->res[i].io ? 0x1 : 0x2;
    }
    if (p->driver)
        cmd |= 0x4; /* bus master */
    put16(cfg, 0x04, cmd);
    put16(cfg, 0x06, any_cap ? 0x0010 : 0);
    cfg[0x08] = p->revision;
    cfg[0x09] = (uint8_t)p->class_code;
    cfg[0x0a] = (uint8_t)(p->class_code >> 8);
    cfg[0x0b] = (uint8_t)(p->class_code >> 16);
    cfg[0x0c] = 0x10; /* cache line size: 64 bytes */
    cfg[0x0e] =
        (uint8_t)((p->header_type & 0x7f) | (p->multifunction ? 0x80 : 0));
    if (bridge) {
        put_bars(cfg, p, 2);
        cfg[0x18] = (uint8_t)bus;
        cfg[0x1c] = 0xf0; /* I/O, memory and prefetchable windows closed */
        put16(cfg, 0x20, 0xfff0);
        put16(cfg, 0x24, 0xfff1);
        cfg[0x25] = 0xff;
        cfg[0x26] = 0x01;
        if (p->res[6].size)
            put32(cfg, 0x38, (uint32_t)p->res[6].start);
    } else {
        put_bars(cfg, p, 6);
        put16(cfg, 0x2c, p->subsys_vendor);
        put16(cfg, 0x2e, p->subsys_device);
        if (p->res[6].size)
            put32(cfg, 0x30, (uint32_t)p->res[6].start);
    }
    cfg[0x3c] = (uint8_t)p->irq;
    cfg[0x3d] = p->irq ? 1 : 0; /* INTA# */

    if (p->pm) {
        size_t c = add_cap(cfg, &at, &link, 0x01, PM_CAP_LEN);

        put16(cfg, c + 2, 0x0003); /* version 3 */
        put16(cfg, c + 4, p->pm_no_soft_reset ? 0x0008 : 0);
    }
    if (p->msi) {
        size_t c = add_cap(cfg, &at, &link, 0x05, MSI_CAP_LEN);

        put16(cfg, c + 2, 0x0180); /* 64-bit, per-vector masking */
    }
    if (p->pcie_type >= 0) {
        size_t c = add_cap(cfg, &at, &link, 0x10, EXP_CAP_LEN);
        unsigned flags = 0x0002 | (unsigned)(p->pcie_type & 0xf) << 4;

        if (p->pcie_type == 4 || p->pcie_type == 6)
            flags |= 0x0100; /* slot implemented */
        put16(cfg, c + 2, flags);
        put32(cfg, c + 4, 0x00008000U | (p->flr ? 1U << 28 : 0));
        put32(cfg, c + 0x0c, 0x00400c41U); /* link: 2.5 GT/s x4 */
        put16(cfg, c + 0x12, 0x0041);
    }
    if (p->msix) {
        size_t c = add_cap(cfg, &at, &link, 0x11, MSIX_CAP_LEN);
        unsigned bir = 0;

        for (unsigned i = 0; i < 6; i++)
            if (p->res[i].size && !p->res[i].io) {
                bir = i;
                break;
            }
        put16(cfg, c + 2, 0x0003); /* 4 vectors */
        put32(cfg, c + 4, (p->msix_table_offset & ~7U) | bir);
        put32(cfg, c + 8, 0x800 | bir);
    }
    /* a bridge's subsystem ids live in an SSVID capability */
    if (bridge && (p->subsys_vendor || p->subsys_device)) {
        size_t c = add_cap(cfg, &at, &link, 0x0d, SSVID_CAP_LEN);

        put16(cfg, c + 4, p->subsys_vendor);
        put16(cfg, c + 6, p->subsys_device);
    }
    if (p->af_flr) {
        size_t c = add_cap(cfg, &at, &link, 0x13, AF_CAP_LEN);

        cfg[c + 2] = AF_CAP_LEN;
        cfg[c + 3] = 0x03; /* TP, FLR */
    }
    if (len < CFG_SIZE_MAX)
        return;
    if (p->sriov_totalvfs > 0) {
        size_t c =
            add_ext_cap(cfg, &ext_at, &ext_prev, 0x0010, 1, SRIOV_CAP_LEN);

        put16(cfg, c + SRIOV_INITIAL_VF, (unsigned)p->sriov_totalvfs);
        put16(cfg, c + SRIOV_TOTAL_VF, (unsigned)p->sriov_totalvfs);
        put16(cfg, c + SRIOV_VF_DID, p->device);
        put32(cfg, c + 0x1c, 0x553); /* supported page sizes */
        put32(cfg, c + 0x20, 0x1);   /* system page size: 4 KiB */
        d->sriov_cap = c;
    }
    if (p->has_dsn) {
        size_t c = add_ext_cap(cfg, &ext_at, &ext_prev, 0x0003, 1, 12);

        put32(cfg, c + 4, (uint32_t)p->dsn);
        put32(cfg, c + 8, (uint32_t)(p->dsn >> 32));
    }
    if (p->acs) {
        size_t c = add_ext_cap(cfg, &ext_at, &ext_prev, 0x000d, 1, ACS_CAP_LEN);

        /* SV, TB, RR, CR, UF (and DT for downstream ports) */
        put16(cfg, c + 4, 0x001f);
        put16(cfg, c + 6, 0x001d);
    }
}

/* One line of "resource" for r (drivers/pci/probe.c decode_bar() flags). */
static int res_line(char *buf, size_t size, const struct fake_res *r, bool rom)
{
    unsigned long long flags;

    if (!r || !r->size)
        return snprintf(buf, size, "0x%016llx 0x%016llx 0x%016llx\n", 0ULL,
                        0ULL, 0ULL);
    if (rom) {
        flags = IORESOURCE_MEM | IORESOURCE_PREFETCH | IORESOURCE_READONLY |
                IORESOURCE_SIZEALIGN;
    } else if (r->io) {
        flags = IORESOURCE_IO | IORESOURCE_SIZEALIGN | 0x1;
    } else {
        flags = IORESOURCE_MEM | IORESOURCE_SIZEALIGN;
        if (r->prefetch)
            flags |= IORESOURCE_PREFETCH | 0x8;
        if (r->mem64)
            flags |= IORESOURCE_MEM_64 | 0x4;
    }
    return snprintf(buf, size, "0x%016llx 0x%016llx 0x%016llx\n",
                    (unsigned long long)r->start,
                    (unsigned long long)(r->start + r->size - 1), flags);
}

static void write_resource(int fd, const struct fake_pci *p, bool bridge)
{
    unsigned lines = bridge ? RES_LINES_BRIDGE : RES_LINES_ENDPOINT;
    char buf[RES_LINES_BRIDGE * 64];
    size_t len = 0;

    for (unsigned i = 0; i < lines; i++) {
        const struct fake_res *r = NULL;

        /* bridges have BAR0/1 only; the rest of their BARs read as 0 */
        if (i < 7 && (!bridge || i < 2 || i == 6))
            r = &p->res[i];
        len += (size_t)res_line(buf + len, sizeof(buf) - len, r, i == 6);
    }
    write_at(fd, "resource", buf, len, 0444);
}

static void write_modalias(char *buf, size_t size, const struct fake_pci *p)
{
    snprintf(buf, size, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X",
             p->vendor, p->device, p->subsys_vendor, p->subsys_device,
             (p->class_code >> 16) & 0xff, (p->class_code >> 8) & 0xff,
             p->class_code & 0xff);
}

/* Update a bridge's bus numbers, and its parents', for a child on bus. */
static void bridge_covers(struct fake_sysfs *t, ssize_t bi, unsigned bus)
{
    for (; bi >= 0; bi = t->devs[bi].parent) {
        struct fdev *b = &t->devs[bi];
        char path[PATH_MAX];
        uint8_t nums[2];
        int fd;

        if (b->secondary >= 0 && (unsigned)b->subordinate >= bus &&
            (unsigned)b->secondary <= bus)
            return;
        if (b->secondary < 0 || (unsigned)b->secondary > bus)
            b->secondary = (int)bus;
        if (b->subordinate < (int)bus)
            b->subordinate = (int)bus;
        pathf(path, sizeof(path), "%s/%s", t->sys, b->path);
        fd = open_dir(path);
        printf_at(fd, "secondary_bus_number", "%d\n", b->secondary);
        printf_at(fd, "subordinate_bus_number", "%d\n", b->subordinate);
        close(fd);
        if (b->cfg_len >= 0x1b) {
            pathf(path, sizeof(path), "%s/%s/config", t->sys, b->path);
            fd = open(path, O_WRONLY | O_CLOEXEC);
            nums[0] = (uint8_t)b->secondary;
            nums[1] = (uint8_t)b->subordinate;
            if (fd < 0 || pwrite(fd, nums, 2, 0x19) != 2)
                die("update %s: %m", path);
            close(fd);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Dense trees: the attributes a real kernel shows besides the ones    */
/* xpci reads                                                          */
/* ------------------------------------------------------------------ */

void fake_sysfs_set_dense(struct fake_sysfs *t, bool dense)
{
    t->dense = dense;
}

/* power/ of any device (drivers/base/power/sysfs.c, runtime PM on). */
static void dense_power(int dirfd)
{
    int fd;

    mkdirat(dirfd, "power", 0755);
    fd = openat(dirfd, "power", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        die("open power: %m");
    printf_at(fd, "async", "enabled\n");
    printf_at(fd, "control", "on\n");
    printf_at(fd, "runtime_active_kids", "0\n");
    printf_at(fd, "runtime_active_time", "123456\n");
    printf_at(fd, "runtime_enabled", "forbidden\n");
    printf_at(fd, "runtime_status", "active\n");
    printf_at(fd, "runtime_suspended_time", "0\n");
    printf_at(fd, "runtime_usage", "1\n");
    printf_at(fd, "autosuspend_delay_ms", "100\n");
    printf_at(fd, "wakeup", "disabled\n");
    close(fd);
}

/*
 * The rest of a PCI function's directory as Linux 6.1 shows it
 * (drivers/pci/pci-sysfs.c, pcie/aspm.c, pcie/aer.c, msi/):
 * link state, DMA masks, AER counters, MSI vectors, power, and one
 * resourceN (plus resourceN_wc when prefetchable) per memory BAR.
 */
static void dense_function(int fd, const struct fake_pci *p, bool bridge)
{
    static const char *const aer[] = {"aer_dev_correctable",
                                      "aer_dev_fatal",
                                      "aer_dev_nonfatal"};

    printf_at(fd, "ari_enabled", "0\n");
    printf_at(fd, "broken_parity_status", "0\n");
    printf_at(fd, "consistent_dma_mask_bits", "64\n");
    printf_at(fd, "dma_mask_bits", "64\n");
    printf_at(fd, "d3cold_allowed", "1\n");
    printf_at(fd, "msi_bus", "1\n");
    printf_at(fd, "power_state", "%s\n", p->driver ? "D0" : "D3hot");
    if (p->pcie_type >= 0) {
        printf_at(fd, "current_link_speed", "8.0 GT/s PCIe\n");
        printf_at(fd, "current_link_width", "8\n");
        printf_at(fd, "max_link_speed", "8.0 GT/s PCIe\n");
        printf_at(fd, "max_link_width", "8\n");
        for (size_t i = 0; i < sizeof(aer) / sizeof(aer[0]); i++)
            printf_at(fd, aer[i],
                      "RxErr 0\nBadTLP 0\nBadDLLP 0\nRollover 0\n"
                      "Timeout 0\nNonFatalErr 0\nCorrIntErr 0\n"
                      "HeaderOF 0\nTOTAL_ERR_COR 0\n");
    }
    (void)bridge;
    for (unsigned i = 0; i < 6; i++) {
        char name[32];

        if (!p->res[i].size)
            continue;
        snprintf(name, sizeof(name), "resource%u", i);
        write_at(fd, name, "", 0, 0600);
        if (p->res[i].prefetch && !p->res[i].io) {
            snprintf(name, sizeof(name), "resource%u_wc", i);
            write_at(fd, name, "", 0, 0600);
        }
    }
    if (p->res[6].size)
        write_at(fd, "rom", "", 0, 0600);
    if ((p->msi || p->msix) && p->driver) {
        int mfd;

        mkdirat(fd, "msi_irqs", 0755);
        mfd = openat(fd, "msi_irqs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (mfd < 0)
            die("open msi_irqs: %m");
        for (unsigned v = 0; v < 5; v++) {
            char name[16];

            snprintf(name, sizeof(name), "%u", 40 + v);
            printf_at(mfd, name, "%s\n", p->msix ? "msix" : "msi");
        }
        close(mfd);
    }
    dense_power(fd);
}

/* The rest of a network interface's directory (net/core/net-sysfs.c):
 * attributes, statistics/ and four queue pairs. */
static void dense_netdev(int fd, bool up)
{
    static const char *const stats[] = {
        "collisions", "multicast", "rx_bytes", "rx_compressed",
        "rx_crc_errors", "rx_dropped", "rx_errors", "rx_fifo_errors",
        "rx_frame_errors", "rx_length_errors", "rx_missed_errors",
        "rx_nohandler", "rx_over_errors", "rx_packets", "tx_aborted_errors",
        "tx_bytes", "tx_carrier_errors", "tx_compressed", "tx_dropped",
        "tx_errors", "tx_fifo_errors", "tx_heartbeat_errors", "tx_packets",
        "tx_window_errors"};
    int sfd;

    printf_at(fd, "addr_assign_type", "0\n");
    printf_at(fd, "addr_len", "6\n");
    printf_at(fd, "broadcast", "ff:ff:ff:ff:ff:ff\n");
    printf_at(fd, "carrier_changes", "%d\n", up ? 2 : 0);
    printf_at(fd, "carrier_down_count", "%d\n", up ? 1 : 0);
    printf_at(fd, "carrier_up_count", "%d\n", up ? 1 : 0);
    printf_at(fd, "dev_id", "0x0\n");
    printf_at(fd, "dev_port", "0\n");
    printf_at(fd, "dormant", "0\n");
    printf_at(fd, "gro_flush_timeout", "0\n");
    printf_at(fd, "ifalias", "\n");
    printf_at(fd, "link_mode", "0\n");
    printf_at(fd, "name_assign_type", "4\n");
    printf_at(fd, "napi_defer_hard_irqs", "0\n");
    printf_at(fd, "netdev_group", "0\n");
    printf_at(fd, "proto_down", "0\n");
    printf_at(fd, "testing", "0\n");
    printf_at(fd, "threaded", "0\n");
    printf_at(fd, "tx_queue_len", "1000\n");
    mkdirat(fd, "statistics", 0755);
    sfd = openat(fd, "statistics", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0)
        die("open statistics: %m");
    for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
        printf_at(sfd, stats[i], "0\n");
    close(sfd);
    mkdirat(fd, "queues", 0755);
    for (unsigned q = 0; q < 4; q++) {
        char name[32];
        int qfd;

        snprintf(name, sizeof(name), "queues/rx-%u", q);
        mkdirat(fd, name, 0755);
        qfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (qfd < 0)
            die("open %s: %m", name);
        printf_at(qfd, "rps_cpus", "00\n");
        printf_at(qfd, "rps_flow_cnt", "0\n");
        close(qfd);
        snprintf(name, sizeof(name), "queues/tx-%u", q);
        mkdirat(fd, name, 0755);
        qfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (qfd < 0)
            die("open %s: %m", name);
        printf_at(qfd, "tx_maxrate", "0\n");
        printf_at(qfd, "tx_timeout", "0\n");
        printf_at(qfd, "traffic_class", "0\n");
        printf_at(qfd, "xps_cpus", "00\n");
        printf_at(qfd, "xps_rxqs", "0\n");
        close(qfd);
    }
    dense_power(fd);
}

static void add_function(struct fake_sysfs *t, const char *bdf, ssize_t parent,
                         const char *dir_of_parent, const struct fake_pci *p)
{
    unsigned dom, bus, slot, fn;
    char path[PATH_MAX], buf[128], grp[64];
    uint8_t *cfg;
    struct fdev *d;
    bool bridge = p->header_type == 1 || p->header_type == 2;
    int fd;

    if (!parse_bdf(bdf, &dom, &bus, &slot, &fn))
        die("bad BDF '%s' (want DDDD:BB:DD.F)", bdf);
    if (find_dev(t, bdf) >= 0)
        die("device %s added twice", bdf);
    d = new_dev(t, bdf);
    d->bus = bus;
    d->rid = bus << 8 | slot << 3 | fn;
    d->vendor = p->vendor;
    d->device = p->device;
    d->subsys_vendor = p->subsys_vendor;
    d->subsys_device = p->subsys_device;
    d->class_code = p->class_code;
    d->totalvfs = p->sriov_totalvfs > 0 ? p->sriov_totalvfs : 0;
    d->parent = parent;
    d->bridge = bridge;
    d->path = xasprintf("%s/%s", dir_of_parent, bdf);
    /* pciback is nobody's native driver: it takes what it is given */
    d->native =
        p->driver && strcmp(p->driver, PCIBACK) ? xstrdup(p->driver) : NULL;
    d->override = p->driver_override ? xstrdup(p->driver_override) : NULL;

    pathf(path, sizeof(path), "%s/%s", t->sys, d->path);
    if (mkdir(path, 0755) < 0)
        die("mkdir %s: %m", path);
    fd = open_dir(path);

    printf_at(fd, "vendor", "0x%04x\n", p->vendor);
    printf_at(fd, "device", "0x%04x\n", p->device);
    printf_at(fd, "subsystem_vendor", "0x%04x\n", p->subsys_vendor);
    printf_at(fd, "subsystem_device", "0x%04x\n", p->subsys_device);
    printf_at(fd, "class", "0x%06x\n", p->class_code);
    printf_at(fd, "revision", "0x%02x\n", p->revision);
    cfg = xmalloc(CFG_SIZE_MAX);
    build_config(d, p, bus, cfg);
    d->cfg_len = config_size(p);
    write_at(fd, "config", cfg, d->cfg_len, 0644);
    free(cfg);
    write_resource(fd, p, bridge);
    printf_at(fd, "irq", "%d\n", p->irq);
    printf_at(fd, "numa_node", "%d\n", p->numa_node);
    printf_at(fd, "enable", "%d\n", p->driver ? 1 : 0);
    printf_at(fd, "local_cpus", "ff\n");
    printf_at(fd, "local_cpulist", "0-7\n");
    write_modalias(buf, sizeof(buf), p);
    printf_at(fd, "modalias", "%s\n", buf);
    printf_at(fd, "driver_override", "%s\n",
              p->driver_override ? p->driver_override : "(null)");
    write_uevent_at(fd, d, p->driver);
    /* the kernel shows reset_method and reset only when a method exists
     * (drivers/pci/pci-sysfs.c, pci_dev_reset_attr_is_visible) */
    if (p->reset_method) {
        if (*p->reset_method)
            printf_at(fd, "reset_method", "%s\n", p->reset_method);
        else
            write_at(fd, "reset_method", "", 0, 0644);
        touch_wo(fd, "reset");
    }
    if (p->boot_vga >= 0)
        printf_at(fd, "boot_vga", "%d\n", p->boot_vga);
    touch_wo(fd, "remove");
    touch_wo(fd, "rescan");
    if (bridge) {
        printf_at(fd, "secondary_bus_number", "0\n");
        printf_at(fd, "subordinate_bus_number", "0\n");
    }
    if (p->sriov_totalvfs > 0) {
        printf_at(fd, "sriov_totalvfs", "%d\n", p->sriov_totalvfs);
        printf_at(fd, "sriov_numvfs", "0\n");
        printf_at(fd, "sriov_offset", "0\n");
        printf_at(fd, "sriov_stride", "0\n");
        printf_at(fd, "sriov_vf_device", "%x\n", p->device);
        printf_at(fd, "sriov_drivers_autoprobe", "1\n");
    }
    if (t->dense)
        dense_function(fd, p, bridge);
    close(fd);

    sys_link(t, d->path, "subsystem", "bus/pci");
    sys_link(t, "bus/pci/devices", bdf, d->path);
    if (p->iommu_group >= 0) {
        pathf(grp, sizeof(grp), "kernel/iommu_groups/%d", p->iommu_group);
        pathf(path, sizeof(path), "%s/%s", t->sys, grp);
        if (mkdir(path, 0755) == 0) {
            fd = open_dir(path);
            mkdirat(fd, "devices", 0755);
            printf_at(fd, "type", "DMA\n");
            printf_at(fd, "reserved_regions",
                      "0x00000000fee00000 0x00000000feefffff msi\n");
            close(fd);
        } else if (errno != EEXIST) {
            die("mkdir %s: %m", path);
        }
        sys_link(t, d->path, "iommu_group", grp);
        pathf(path, sizeof(path), "%s/devices", grp);
        sys_link(t, path, bdf, d->path);
    }
    if (p->driver)
        driver_links(t, d, p->driver);
    if (parent >= 0)
        bridge_covers(t, parent, bus);
}

void fake_sysfs_add_device(struct fake_sysfs *t, const char *bdf,
                           const char *parent, const struct fake_pci *desc)
{
    char root[32];
    char *dir;
    ssize_t pi = -1;

    if (!desc || !desc->vendor)
        die("device %s needs a vendor", bdf);
    if (parent) {
        pi = find_dev(t, parent);
        if (pi < 0)
            die("parent %s of %s not added", parent, bdf);
        if (!t->devs[pi].bridge)
            die("parent %s of %s is not a bridge", parent, bdf);
        dir = xstrdup(t->devs[pi].path);
    } else {
        if (strlen(bdf) < 7)
            die("bad BDF '%s'", bdf);
        snprintf(root, sizeof(root), "%.7s", bdf);
        fake_sysfs_add_root_bus(t, root);
        dir = xasprintf("devices/pci%s", root);
    }
    add_function(t, bdf, pi, dir, desc);
    free(dir);
}

void fake_sysfs_add_vf(struct fake_sysfs *t, const char *pf, const char *vf,
                       const struct fake_pci *desc)
{
    struct fdev *p = dev_of(t, pf), *v;
    ssize_t pi = p - t->devs;
    char *dir, *slash, name[32], path[PATH_MAX];
    struct fake_pci copy = *desc;
    int n, fd;

    if (!p->totalvfs)
        die("%s is not an SR-IOV PF", pf);
    if (p->numvfs >= p->totalvfs)
        die("%s has all its %d VFs already", pf, p->totalvfs);
    dir = xstrdup(p->path);
    slash = strrchr(dir, '/');
    *slash = '\0';
    copy.sriov_totalvfs = 0; /* VFs have no SR-IOV capability of their own */
    add_function(t, vf, t->devs[pi].parent, dir, &copy);
    free(dir);
    p = &t->devs[pi]; /* the array may have moved */
    v = dev_of(t, vf);

    n = p->numvfs++;
    snprintf(name, sizeof(name), "virtfn%d", n);
    sys_link(t, p->path, name, v->path);
    sys_link(t, v->path, "physfn", p->path);
    if (n == 0)
        p->first_vf_rid = v->rid;
    /* A VF's Vendor and Device ID registers read all ones (PCIe SR-IOV
     * 1.1, 3.4.1.1 and 3.4.1.2); the kernel takes them from the PF. */
    pathf(path, sizeof(path), "%s/%s/config", t->sys, v->path);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || pwrite(fd, "\xff\xff\xff\xff", 4, 0) != 4)
        die("pwrite %s: %m", path);
    close(fd);
    pathf(path, sizeof(path), "%s/%s", t->sys, p->path);
    fd = open_dir(path);
    printf_at(fd, "sriov_numvfs", "%d\n", p->numvfs);
    if (n == 0) {
        printf_at(fd, "sriov_offset", "%u\n", v->rid - p->rid);
        printf_at(fd, "sriov_vf_device", "%x\n", desc->device);
    } else if (n == 1) {
        printf_at(fd, "sriov_stride", "%u\n", v->rid - p->first_vf_rid);
    }
    close(fd);
    /* mirror the SR-IOV capability: VF Enable + MSE, NumVFs, offset,
     * stride and VF device ID */
    if (p->sriov_cap && p->cfg_len >= CFG_SIZE_MAX) {
        uint8_t b[2];
        int cfd;

        pathf(path, sizeof(path), "%s/%s/config", t->sys, p->path);
        cfd = open(path, O_WRONLY | O_CLOEXEC);
        if (cfd < 0)
            die("open %s: %m", path);
        put16(b, 0, 0x0009);
        if (pwrite(cfd, b, 2, (off_t)(p->sriov_cap + SRIOV_CTRL)) != 2)
            die("pwrite %s: %m", path);
        put16(b, 0, (unsigned)p->numvfs);
        if (pwrite(cfd, b, 2, (off_t)(p->sriov_cap + SRIOV_NUM_VF)) != 2)
            die("pwrite %s: %m", path);
        if (n == 0) {
            put16(b, 0, v->rid - p->rid);
            if (pwrite(cfd, b, 2, (off_t)(p->sriov_cap + SRIOV_VF_OFFSET)) != 2)
                die("pwrite %s: %m", path);
            put16(b, 0, desc->device);
            if (pwrite(cfd, b, 2, (off_t)(p->sriov_cap + SRIOV_VF_DID)) != 2)
                die("pwrite %s: %m", path);
        } else if (n == 1) {
            put16(b, 0, v->rid - p->first_vf_rid);
            if (pwrite(cfd, b, 2, (off_t)(p->sriov_cap + SRIOV_VF_STRIDE)) != 2)
                die("pwrite %s: %m", path);
        }
        close(cfd);
    }
}

void fake_sysfs_set_native_driver(struct fake_sysfs *t, const char *bdf,
                                  const char *driver)
{
    struct fdev *d = dev_of(t, bdf);

    free(d->native);
    d->native = driver ? xstrdup(driver) : NULL;
    if (driver)
        ensure_driver(t, driver);
}

/* ------------------------------------------------------------------ */
/* What lives on a device: network, block, framebuffer                 */
/* ------------------------------------------------------------------ */

/* The attributes of a net device directory rel (net/core/net-sysfs.c);
 * devtype is the uevent's DEVTYPE (NULL for a plain Ethernet NIC). */
static void netdev_attrs(struct fake_sysfs *t, const char *rel,
                         const char *ifname, bool up, const char *devtype)
{
    char path[PATH_MAX];
    int ifindex = t->next_ifindex++;
    int fd;

    pathf(path, sizeof(path), "%s/%s", t->sys, rel);
    mkdir_p(path);
    fd = open_dir(path);
    printf_at(fd, "operstate", "%s\n", up ? "up" : "down");
    printf_at(fd, "flags", "%s\n", up ? "0x1003" : "0x1002");
    printf_at(fd, "ifindex", "%d\n", ifindex);
    printf_at(fd, "iflink", "%d\n", ifindex);
    printf_at(fd, "address", "52:54:00:12:%02x:%02x\n",
              (unsigned)(ifindex >> 8) & 0xff, (unsigned)ifindex & 0xff);
    printf_at(fd, "type", "1\n");
    printf_at(fd, "mtu", "1500\n");
    /* carrier reads fail with EINVAL while the interface is down */
    if (up)
        printf_at(fd, "carrier", "1\n");
    if (devtype)
        printf_at(fd, "uevent", "DEVTYPE=%s\nINTERFACE=%s\nIFINDEX=%d\n",
                  devtype, ifname, ifindex);
    else
        printf_at(fd, "uevent", "INTERFACE=%s\nIFINDEX=%d\n", ifname,
                  ifindex);
    if (t->dense)
        dense_netdev(fd, up);
    close(fd);
    sys_link(t, rel, "subsystem", "class/net");
    sys_link(t, "class/net", ifname, rel);
}

void fake_sysfs_add_netdev(struct fake_sysfs *t, const char *bdf,
                           const char *ifname, bool up)
{
    struct fdev *d = dev_of(t, bdf);
    char rel[PATH_MAX];

    pathf(rel, sizeof(rel), "%s/net/%s", d->path, ifname);
    netdev_attrs(t, rel, ifname, up, NULL);
    sys_link(t, rel, "device", d->path);
}

void fake_sysfs_add_virtual_netdev(struct fake_sysfs *t, const char *ifname,
                                   const char *kind, bool up)
{
    char rel[PATH_MAX], path[PATH_MAX];
    int fd;

    pathf(rel, sizeof(rel), "devices/virtual/net/%s", ifname);
    netdev_attrs(t, rel, ifname, up, kind);
    pathf(path, sizeof(path), "%s/%s", t->sys, rel);
    fd = open_dir(path);
    /* net/bridge/br_sysfs_br.c, drivers/net/bonding/bond_sysfs.c */
    if (!strcmp(kind, "bridge")) {
        mkdirat(fd, "bridge", 0755);
        mkdirat(fd, "brif", 0755);
        printf_at(fd, "bridge/stp_state", "0\n");
        printf_at(fd, "bridge/forward_delay", "1500\n");
    } else if (!strcmp(kind, "bond")) {
        mkdirat(fd, "bonding", 0755);
        printf_at(fd, "bonding/mode", "active-backup 1\n");
        printf_at(fd, "bonding/slaves", "\n");
    }
    close(fd);
}

/* The sysfs path of a net device, found through class/net. */
static char *netdev_rel(struct fake_sysfs *t, const char *ifname)
{
    char path[PATH_MAX], buf[PATH_MAX];
    ssize_t r;
    const char *p;

    pathf(path, sizeof(path), "%s/class/net/%s", t->sys, ifname);
    r = readlink(path, buf, sizeof(buf) - 1);
    if (r < 0)
        die("no net device %s", ifname);
    buf[r] = '\0';
    p = strstr(buf, "devices/");
    if (!p)
        die("odd class/net link %s", buf);
    return xstrdup(p);
}

void fake_sysfs_set_upper(struct fake_sysfs *t, const char *lower,
                          const char *upper)
{
    char *lrel = netdev_rel(t, lower), *urel = netdev_rel(t, upper);
    char name[NAME_MAX + 1], path[PATH_MAX];
    struct stat st;
    bool bridge, bond;

    /* net/core/dev.c netdev_adjacent_sysfs_add: upper_<name> on the
     * lower device, lower_<name> on the upper one; a bridge or bond is
     * also the port's "master" */
    pathf(name, sizeof(name), "upper_%s", upper);
    sys_link(t, lrel, name, urel);
    pathf(name, sizeof(name), "lower_%s", lower);
    sys_link(t, urel, name, lrel);
    pathf(path, sizeof(path), "%s/%s/bridge", t->sys, urel);
    bridge = stat(path, &st) == 0;
    pathf(path, sizeof(path), "%s/%s/bonding", t->sys, urel);
    bond = stat(path, &st) == 0;
    if (bridge || bond)
        sys_link(t, lrel, "master", urel);
    if (bridge) {
        char brport[PATH_MAX], brif[PATH_MAX];

        pathf(path, sizeof(path), "%s/%s/brport", t->sys, lrel);
        mkdir_p(path);
        pathf(brport, sizeof(brport), "%s/brport", lrel);
        pathf(brif, sizeof(brif), "%s/brif", urel);
        sys_link(t, brif, lower, brport);
        sys_link(t, brport, "bridge", urel);
    }
    if (bond) {
        char *slaves;

        pathf(path, sizeof(path), "%s/%s/bonding_slave", t->sys, lrel);
        mkdir_p(path);
        pathf(path, sizeof(path), "%s/%s/bonding/slaves", t->sys, urel);
        slaves = slurp(path);
        if (slaves) {
            size_t len = strlen(slaves);
            char *line;

            if (len && slaves[len - 1] == '\n')
                slaves[--len] = '\0';
            line = xasprintf("%s%s%s\n", slaves, *slaves ? " " : "", lower);
            fake_sysfs_write(t, path + strlen(t->root) + 1, line,
                             strlen(line));
            free(line);
            free(slaves);
        }
    }
    free(lrel);
    free(urel);
}

void fake_sysfs_add_default_route(struct fake_sysfs *t, const char *ifname)
{
    char path[PATH_MAX], line[256], route[192];

    pathf(path, sizeof(path), "%s/net/route", t->proc);
    /* default via 192.168.2.1 (little-endian hex), flags UP|GATEWAY */
    snprintf(route, sizeof(route),
             "%s\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",
             ifname);
    snprintf(line, sizeof(line), "%-*s\n", ROUTE_WIDTH, route);
    append_file(path, line);
}

static struct fblk *find_blk(const struct fake_sysfs *t, const char *name)
{
    for (size_t i = 0; i < t->n_blks; i++)
        if (!strcmp(t->blks[i].name, name))
            return &t->blks[i];
    return NULL;
}

static const char *blk_name_of(const struct fake_sysfs *t, unsigned major,
                               unsigned minor)
{
    for (size_t i = 0; i < t->n_blks; i++)
        if (t->blks[i].major == major && t->blks[i].minor == minor)
            return t->blks[i].name;
    return NULL;
}

/* Register a block device whose directory rel exists; write its common
 * attributes and the class and dev links. */
static void add_blk(struct fake_sysfs *t, const char *name, const char *rel,
                    unsigned major, unsigned minor, int partn)
{
    char path[PATH_MAX], devno[32];
    struct fblk *b;
    int fd;

    if (find_blk(t, name))
        die("block device %s added twice", name);
    pathf(path, sizeof(path), "%s/%s", t->sys, rel);
    mkdir_p(path);
    fd = open_dir(path);
    printf_at(fd, "dev", "%u:%u\n", major, minor);
    printf_at(fd, "size", "%s\n", partn ? "2097152" : "1000215216");
    printf_at(fd, "ro", "0\n");
    if (partn > 0) {
        printf_at(fd, "partition", "%d\n", partn);
        printf_at(fd, "start", "%d\n", 2048 * partn);
    } else {
        printf_at(fd, "removable", "0\n");
        printf_at(fd, "range", "0\n");
        mkdirat(fd, "slaves", 0755);
    }
    mkdirat(fd, "holders", 0755);
    printf_at(fd, "uevent", "MAJOR=%u\nMINOR=%u\nDEVNAME=%s\nDEVTYPE=%s\n",
              major, minor, name, partn ? "partition" : "disk");
    close(fd);
    sys_link(t, rel, "subsystem", "class/block");
    sys_link(t, "class/block", name, rel);
    snprintf(devno, sizeof(devno), "%u:%u", major, minor);
    sys_link(t, "dev/block", devno, rel);

    t->blks = xrealloc(t->blks, (t->n_blks + 1) * sizeof(*t->blks));
    b = &t->blks[t->n_blks++];
    b->name = xstrdup(name);
    b->path = xstrdup(rel);
    b->major = major;
    b->minor = minor;
}

void fake_sysfs_add_disk(struct fake_sysfs *t, const char *bdf,
                         const char *disk, unsigned major, unsigned minor)
{
    struct fdev *d = dev_of(t, bdf);
    char ctrl[PATH_MAX], rel[PATH_MAX], path[PATH_MAX];
    int fd;

    if (d->nvme < 0) {
        d->nvme = t->next_nvme++;
        t->next_subsys++;
        pathf(ctrl, sizeof(ctrl), "%s/nvme/nvme%d", d->path, d->nvme);
        pathf(path, sizeof(path), "%s/%s", t->sys, ctrl);
        mkdir_p(path);
        fd = open_dir(path);
        printf_at(fd, "dev", "%u:%d\n", 240U, d->nvme);
        printf_at(fd, "model", "%s\n", "QEMU NVMe Ctrl");
        printf_at(fd, "state", "live\n");
        close(fd);
        sys_link(t, ctrl, "device", d->path);
    }
    pathf(rel, sizeof(rel), "%s/nvme/nvme%d/%s", d->path, d->nvme, disk);
    add_blk(t, disk, rel, major, minor, 0);
}

/* Partition number from a name: the trailing digits ("nvme0n1p2" -> 2). */
static int part_number(const char *name)
{
    size_t n = strlen(name);

    while (n && isdigit((unsigned char)name[n - 1]))
        n--;
    return name[n] ? atoi(name + n) : 1;
}

void fake_sysfs_add_partition(struct fake_sysfs *t, const char *disk,
                              const char *part, unsigned major, unsigned minor)
{
    struct fblk *b = find_blk(t, disk);
    char rel[PATH_MAX];

    if (!b)
        die("no disk %s for partition %s", disk, part);
    pathf(rel, sizeof(rel), "%s/%s", b->path, part);
    add_blk(t, part, rel, major, minor, part_number(part));
}

void fake_sysfs_add_holder(struct fake_sysfs *t, const char *blk,
                           const char *holder, unsigned major, unsigned minor)
{
    struct fblk *b = find_blk(t, blk), *h;
    char rel[PATH_MAX], slaves[PATH_MAX], holders[PATH_MAX];
    char *brel;

    if (!b)
        die("no block device %s to hold", blk);
    brel = xstrdup(b->path); /* add_blk may move t->blks */
    pathf(rel, sizeof(rel), "devices/virtual/block/%s", holder);
    h = find_blk(t, holder);
    if (!h) {
        char path[PATH_MAX];
        int fd;

        add_blk(t, holder, rel, major, minor, 0);
        if (!strncmp(holder, "dm-", 3)) {
            pathf(path, sizeof(path), "%s/%s", t->sys, rel);
            fd = open_dir(path);
            mkdirat(fd, "dm", 0755);
            printf_at(fd, "dm/name", "%s\n", holder);
            printf_at(fd, "dm/uuid", "\n");
            close(fd);
        }
    } else if (h->major != major || h->minor != minor) {
        die("holder %s exists as %u:%u", holder, h->major, h->minor);
    }
    pathf(slaves, sizeof(slaves), "%s/slaves", rel);
    sys_link(t, slaves, blk, brel);
    pathf(holders, sizeof(holders), "%s/holders", brel);
    sys_link(t, holders, holder, rel);
    free(brel);
}

/*
 * NVMe native multipath (drivers/nvme/host/multipath.c, Linux 6.1): a
 * subsystem whose controllers report multi-controller capability gets
 * one head disk per namespace, "nvme<S>n<N>", under
 * devices/virtual/nvme-subsystem/nvme-subsys<S>; each controller C keeps
 * only a hidden path node "nvme<S>c<C>n<N>" (a gendisk without a dev
 * number).  The subsystem links to each of its controllers by name.
 */
const char *fake_sysfs_add_nvme_multipath(struct fake_sysfs *t,
                                          const char *const *bdfs,
                                          unsigned n, unsigned nsid,
                                          unsigned major, unsigned minor)
{
    int subsys = t->next_subsys++;
    char sub[PATH_MAX], path[PATH_MAX], head[64], rel[PATH_MAX];
    struct fblk *b;
    int fd;

    pathf(sub, sizeof(sub), "devices/virtual/nvme-subsystem/nvme-subsys%d",
          subsys);
    pathf(path, sizeof(path), "%s/%s", t->sys, sub);
    mkdir_p(path);
    fd = open_dir(path);
    printf_at(fd, "subsysnqn", "nqn.2019-08.org.qemu:subsys%d\n", subsys);
    printf_at(fd, "model", "QEMU NVMe Ctrl\n");
    printf_at(fd, "iopolicy", "numa\n");
    printf_at(fd, "subsystype", "nvm\n");
    printf_at(fd, "uevent", "NVME_ID=%d\n", subsys);
    close(fd);
    pathf(path, sizeof(path), "%s/class/nvme-subsystem", t->sys);
    mkdir_p(path);
    pathf(path, sizeof(path), "nvme-subsys%d", subsys);
    sys_link(t, "class/nvme-subsystem", path, sub);

    pathf(head, sizeof(head), "nvme%dn%u", subsys, nsid);
    pathf(rel, sizeof(rel), "%s/%s", sub, head);
    add_blk(t, head, rel, major, minor, 0);
    for (unsigned i = 0; i < n; i++) {
        struct fdev *d = dev_of(t, bdfs[i]);
        char ctrl[PATH_MAX], name[64], node[PATH_MAX];

        if (d->nvme >= 0)
            die("%s already has a controller", bdfs[i]);
        d->nvme = t->next_nvme++;
        pathf(ctrl, sizeof(ctrl), "%s/nvme/nvme%d", d->path, d->nvme);
        pathf(path, sizeof(path), "%s/%s", t->sys, ctrl);
        mkdir_p(path);
        fd = open_dir(path);
        printf_at(fd, "dev", "%u:%d\n", 240U, d->nvme);
        printf_at(fd, "model", "%s\n", "QEMU NVMe Ctrl");
        printf_at(fd, "state", "live\n");
        printf_at(fd, "cntlid", "%d\n", d->nvme + 1);
        close(fd);
        sys_link(t, ctrl, "device", d->path);
        sys_link(t, ctrl, "subsystem", "class/nvme");
        pathf(name, sizeof(name), "nvme%d", d->nvme);
        sys_link(t, sub, name, ctrl);

        /* the hidden path node: in class/block, no dev, no partitions */
        pathf(name, sizeof(name), "nvme%dc%dn%u", subsys, d->nvme, nsid);
        pathf(node, sizeof(node), "%s/%s", ctrl, name);
        pathf(path, sizeof(path), "%s/%s", t->sys, node);
        mkdir_p(path);
        fd = open_dir(path);
        printf_at(fd, "size", "1000215216\n");
        printf_at(fd, "ana_state", "optimized\n");
        printf_at(fd, "uevent", "DEVNAME=%s\nDEVTYPE=disk\n", name);
        mkdirat(fd, "holders", 0755);
        mkdirat(fd, "slaves", 0755);
        close(fd);
        sys_link(t, node, "subsystem", "class/block");
        sys_link(t, "class/block", name, node);
    }
    b = find_blk(t, head);
    return b->name;
}

/* A loop device with its backing file (drivers/block/loop.c, loop/). */
void fake_sysfs_add_loop(struct fake_sysfs *t, const char *loop,
                         unsigned major, unsigned minor,
                         const char *backing_file)
{
    char rel[PATH_MAX], path[PATH_MAX];
    int fd;

    pathf(rel, sizeof(rel), "devices/virtual/block/%s", loop);
    add_blk(t, loop, rel, major, minor, 0);
    pathf(path, sizeof(path), "%s/%s/loop", t->sys, rel);
    mkdir_p(path);
    fd = open_dir(path);
    printf_at(fd, "backing_file", "%s\n", backing_file);
    printf_at(fd, "offset", "0\n");
    printf_at(fd, "sizelimit", "0\n");
    printf_at(fd, "autoclear", "0\n");
    printf_at(fd, "partscan", "0\n");
    close(fd);
}

/* A btrfs filesystem of the member block devices blks (fs/btrfs/sysfs.c:
 * /sys/fs/btrfs/<fsid>/devices/<name> links to each member). */
void fake_sysfs_add_btrfs(struct fake_sysfs *t, const char *fsid,
                          const char *const *blks, unsigned n)
{
    char dir[PATH_MAX], path[PATH_MAX];
    int fd;

    pathf(dir, sizeof(dir), "fs/btrfs/%s/devices", fsid);
    pathf(path, sizeof(path), "%s/%s", t->sys, dir);
    mkdir_p(path);
    pathf(path, sizeof(path), "%s/fs/btrfs/%s", t->sys, fsid);
    fd = open_dir(path);
    printf_at(fd, "label", "\n");
    printf_at(fd, "nodesize", "16384\n");
    printf_at(fd, "metadata_uuid", "%s\n", fsid);
    close(fd);
    for (unsigned i = 0; i < n; i++) {
        struct fblk *b = find_blk(t, blks[i]);

        if (!b)
            die("no block device %s for btrfs %s", blks[i], fsid);
        sys_link(t, dir, blks[i], b->path);
    }
}

/*
 * bcache (drivers/md/bcache/super.c): the backing device gets a bcache/
 * directory and a holder bcache<N> (whose "bcache" links back to it); the
 * cache device gets a bcache/ directory with "set"; the cache set
 * /sys/fs/bcache/<uuid> links to both ("cache0", "bdev0").
 */
void fake_sysfs_add_bcache(struct fake_sysfs *t, const char *cache,
                           const char *backing, const char *bcache,
                           unsigned major, unsigned minor, const char *set)
{
    struct fblk *c = find_blk(t, cache), *b = find_blk(t, backing), *h;
    char cdir[PATH_MAX], bdir[PATH_MAX], sdir[PATH_MAX], path[PATH_MAX];
    int fd;

    if (!c || !b)
        die("no block device %s or %s for bcache", cache, backing);
    pathf(cdir, sizeof(cdir), "%s/bcache", c->path);
    pathf(bdir, sizeof(bdir), "%s/bcache", b->path);
    pathf(sdir, sizeof(sdir), "fs/bcache/%s", set);
    fake_sysfs_add_holder(t, backing, bcache, major, minor);
    h = find_blk(t, bcache);
    for (int i = 0; i < 3; i++) {
        const char *dir = i == 0 ? cdir : i == 1 ? bdir : sdir;

        pathf(path, sizeof(path), "%s/%s", t->sys, dir);
        mkdir_p(path);
    }
    pathf(path, sizeof(path), "%s/%s", t->sys, bdir);
    fd = open_dir(path);
    printf_at(fd, "state", "clean\n");
    printf_at(fd, "cache_mode", "writethrough [writeback] writearound none\n");
    close(fd);
    pathf(path, sizeof(path), "%s/%s", t->sys, cdir);
    fd = open_dir(path);
    printf_at(fd, "block_size", "0.5k\n");
    close(fd);
    sys_link(t, bdir, "dev", h->path);
    sys_link(t, h->path, "bcache", bdir);
    sys_link(t, bdir, "cache", sdir);
    sys_link(t, cdir, "set", sdir);
    sys_link(t, sdir, "cache0", cdir);
    sys_link(t, sdir, "bdev0", bdir);
}

void fake_sysfs_cmdline_append(struct fake_sysfs *t, const char *args)
{
    char path[PATH_MAX], *cur, *line;
    size_t len;

    pathf(path, sizeof(path), "%s/cmdline", t->proc);
    cur = slurp(path);
    if (!cur)
        die("no %s", path);
    len = strlen(cur);
    if (len && cur[len - 1] == '\n')
        cur[--len] = '\0';
    line = xasprintf("%s %s\n", cur, args);
    fake_sysfs_write(t, "proc/cmdline", line, strlen(line));
    free(line);
    free(cur);
}

/* mountinfo escapes space, tab, newline and backslash as octal
 * (fs/proc_namespace.c, mangle()). */
static void mangle(char *out, size_t size, const char *s)
{
    size_t n = 0;

    for (; *s && n + 5 < size; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
            n += (size_t)snprintf(out + n, size - n, "\\%03o",
                                  (unsigned char)*s);
        else
            out[n++] = *s;
    }
    out[n] = '\0';
}

void fake_sysfs_add_mount_source(struct fake_sysfs *t, unsigned major,
                                 unsigned minor, const char *root,
                                 const char *mountpoint, const char *fstype,
                                 const char *source, const char *super_opts)
{
    char path[PATH_MAX], mp[PATH_MAX];
    char *line;
    int id = t->next_mount_id++;
    int parent;

    if (!strcmp(mountpoint, "/")) {
        parent = 1;
        t->root_mount_id = id;
    } else {
        parent = t->root_mount_id > 0 ? t->root_mount_id : 1;
    }
    mangle(mp, sizeof(mp), mountpoint);
    line = xasprintf("%d %d %u:%u %s %s rw,relatime shared:%d - %s %s %s\n",
                     id, parent, major, minor, root, mp, t->next_shared++,
                     fstype, source, super_opts ? super_opts : "rw");
    pathf(path, sizeof(path), "%s/self/mountinfo", t->proc);
    append_file(path, line);
    free(line);
}

void fake_sysfs_add_mount(struct fake_sysfs *t, unsigned major, unsigned minor,
                          const char *mountpoint, const char *fstype)
{
    char src[256];
    const char *name = blk_name_of(t, major, minor);

    if (name && !strncmp(name, "dm-", 3))
        snprintf(src, sizeof(src), "/dev/mapper/%s", name);
    else if (name)
        snprintf(src, sizeof(src), "/dev/%s", name);
    else
        snprintf(src, sizeof(src), "%s", fstype);
    fake_sysfs_add_mount_source(t, major, minor, "/", mountpoint, fstype, src,
                                NULL);
}

/* The pseudo filesystems every Linux host mounts (no block device behind
 * them; anonymous device numbers 0:NN). */
void fake_sysfs_add_pseudo_mounts(struct fake_sysfs *t)
{
    static const struct {
        const char *mp, *fstype, *src;
    } m[] = {
        {"/sys", "sysfs", "sysfs"},
        {"/proc", "proc", "proc"},
        {"/dev", "devtmpfs", "udev"},
        {"/dev/pts", "devpts", "devpts"},
        {"/run", "tmpfs", "tmpfs"},
        {"/sys/fs/cgroup", "cgroup2", "cgroup2"},
        {"/dev/shm", "tmpfs", "tmpfs"},
        {"/proc/sys/fs/binfmt_misc", "autofs", "systemd-1"},
        {"/dev/mqueue", "mqueue", "mqueue"},
        {"/sys/kernel/debug", "debugfs", "debugfs"},
        {"/proc/xen", "xenfs", "xenfs"},
    };

    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        fake_sysfs_add_mount_source(t, 0, 20 + (unsigned)i, "/", m[i].mp,
                                    m[i].fstype, m[i].src, NULL);
}

void fake_sysfs_add_swap(struct fake_sysfs *t, const char *blk)
{
    char path[PATH_MAX], dev[PATH_MAX], line[PATH_MAX + 128];
    int len;

    /* mm/swapfile.c swap_show: the name padded to 40 columns, then type,
     * size and use in KiB, priority */
    len = snprintf(dev, sizeof(dev), "/dev/%s", blk);
    snprintf(line, sizeof(line), "%s%*s%s\t%lu\t%s%lu\t%s%d\n", dev,
             len < 40 ? 40 - len : 1, " ", "partition", 8388604UL, "\t", 0UL,
             "\t", t->next_swap_prio--);
    pathf(path, sizeof(path), "%s/swaps", t->proc);
    append_file(path, line);
}

void fake_sysfs_add_swap_file(struct fake_sysfs *t, const char *file)
{
    char path[PATH_MAX], line[PATH_MAX + 128];
    int len = (int)strlen(file);

    snprintf(line, sizeof(line), "%s%*s%s\t\t%lu\t\t%lu\t\t%d\n", file,
             len < 40 ? 40 - len : 1, " ", "file", 2097148UL, 0UL,
             t->next_swap_prio--);
    pathf(path, sizeof(path), "%s/swaps", t->proc);
    append_file(path, line);
}

void fake_sysfs_add_fb(struct fake_sysfs *t, const char *bdf, const char *fb)
{
    struct fdev *d = dev_of(t, bdf);
    char rel[PATH_MAX], path[PATH_MAX], devno[32];
    char *drv = bound_driver(t, d);
    int minor = part_number(fb);
    int fd;

    pathf(rel, sizeof(rel), "%s/graphics/%s", d->path, fb);
    pathf(path, sizeof(path), "%s/%s", t->sys, rel);
    mkdir_p(path);
    fd = open_dir(path);
    printf_at(fd, "dev", "29:%d\n", minor);
    printf_at(fd, "name", "%sdrmfb\n", drv ? drv : "simple");
    printf_at(fd, "uevent", "MAJOR=29\nMINOR=%d\nDEVNAME=%s\n", minor, fb);
    close(fd);
    free(drv);
    sys_link(t, rel, "device", d->path);
    sys_link(t, rel, "subsystem", "class/graphics");
    sys_link(t, "class/graphics", fb, rel);
    snprintf(devno, sizeof(devno), "29:%d", minor);
    sys_link(t, "dev/char", devno, rel);
}

/* ------------------------------------------------------------------ */
/* xen-pciback                                                         */
/* ------------------------------------------------------------------ */

void fake_sysfs_load_pciback(struct fake_sysfs *t)
{
    char path[PATH_MAX];
    int fd;

    if (t->pciback)
        return;
    ensure_driver(t, PCIBACK);
    driver_dir_path(t, PCIBACK, path, sizeof(path));
    fd = open_dir(path);
    /* drivers/xen/xen-pciback/pci_stub.c driver attributes */
    write_at(fd, "slots", "", 0, 0444);
    touch_wo(fd, "new_slot");
    touch_wo(fd, "remove_slot");
    write_at(fd, "permissive", "", 0, 0644);
    write_at(fd, "quirks", "", 0, 0644);
    write_at(fd, "irq_handlers", "", 0, 0644);
    write_at(fd, "irq_handler_state", "", 0, 0200);
    close(fd);
    t->pciback = true;
}

static void slots_path(const struct fake_sysfs *t, char *buf, size_t size)
{
    pathf(buf, size, "%s/bus/pci/drivers/" PCIBACK "/slots", t->sys);
}

/* pciback's "permissive": the functions given permissive config space
 * access, one per line (pci_stub.c permissive_show). */
static void permissive_path(const struct fake_sysfs *t, char *buf,
                            size_t size)
{
    pathf(buf, size, "%s/bus/pci/drivers/" PCIBACK "/permissive", t->sys);
}

static bool list_has(const char *path, const char *bdf)
{
    char *s, *line, *save = NULL;
    bool found = false;

    s = slurp(path);
    if (!s)
        return false;
    for (line = strtok_r(s, "\n", &save); line && !found;
         line = strtok_r(NULL, "\n", &save))
        found = !strcmp(line, bdf);
    free(s);
    return found;
}

static bool in_slots(const struct fake_sysfs *t, const char *bdf)
{
    char path[PATH_MAX], *s, *line, *save = NULL;
    bool found = false;

    slots_path(t, path, sizeof(path));
    s = slurp(path);
    if (!s)
        return false;
    for (line = strtok_r(s, "\n", &save); line && !found;
         line = strtok_r(NULL, "\n", &save))
        found = !strcmp(line, bdf);
    free(s);
    return found;
}

void fake_sysfs_pciback_add_slot(struct fake_sysfs *t, const char *bdf)
{
    char path[PATH_MAX], line[32];

    if (!t->pciback)
        die("pciback not loaded");
    if (in_slots(t, bdf))
        return;
    slots_path(t, path, sizeof(path));
    snprintf(line, sizeof(line), "%s\n", bdf);
    append_file(path, line);
}

/* Drop the line bdf from the list file at path; false when absent. */
static bool list_remove(const char *path, const char *bdf)
{
    char *s, *line, *save = NULL;
    size_t len;
    bool found = false;
    char *out;
    int fd;

    s = slurp(path);
    if (!s)
        return false;
    len = strlen(s);
    out = xmalloc(len + 1);
    out[0] = '\0';
    for (line = strtok_r(s, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (!found && !strcmp(line, bdf)) {
            found = true;
            continue;
        }
        strcat(out, line);
        strcat(out, "\n");
    }
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0 || write(fd, out, strlen(out)) < 0)
        die("rewrite %s: %m", path);
    close(fd);
    free(out);
    free(s);
    return found;
}

/* Drop bdf from the slots; false when it was not there. */
static bool slots_remove(struct fake_sysfs *t, const char *bdf)
{
    char path[PATH_MAX];

    slots_path(t, path, sizeof(path));
    return list_remove(path, bdf);
}

static ssize_t find_present_dev(const struct fake_sysfs *t, const char *bdf);

/*
 * permissive_store: only a function pciback holds (else -ENODEV); the
 * flag lives in pciback's per-device data, which goes when the function
 * leaves pciback (pcistub_device_release), so an unbind forgets it.
 */
static int permissive_add(struct fake_sysfs *t, const char *bdf)
{
    ssize_t i = find_present_dev(t, bdf);
    char path[PATH_MAX], line[32], *cur;
    bool ours;

    if (i < 0)
        return -ENODEV;
    cur = bound_driver(t, &t->devs[i]);
    ours = cur && !strcmp(cur, PCIBACK);
    free(cur);
    if (!ours)
        return -ENODEV;
    permissive_path(t, path, sizeof(path));
    if (list_has(path, bdf))
        return 0;
    snprintf(line, sizeof(line), "%s\n", bdf);
    append_file(path, line);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Raw access                                                          */
/* ------------------------------------------------------------------ */

void fake_sysfs_write(struct fake_sysfs *t, const char *relpath,
                      const void *data, size_t len)
{
    char path[PATH_MAX], *slash;
    int fd;

    pathf(path, sizeof(path), "%s/%s", t->root, relpath);
    slash = strrchr(path, '/');
    *slash = '\0';
    mkdir_p(path);
    *slash = '/';
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open %s: %m", path);
    if (len && write(fd, data, len) != (ssize_t)len)
        die("write %s: %m", path);
    close(fd);
}

void fake_sysfs_mkdir(struct fake_sysfs *t, const char *relpath)
{
    char path[PATH_MAX];

    pathf(path, sizeof(path), "%s/%s", t->root, relpath);
    mkdir_p(path);
}

void fake_sysfs_unlink(struct fake_sysfs *t, const char *relpath)
{
    char path[PATH_MAX];

    pathf(path, sizeof(path), "%s/%s", t->root, relpath);
    if (unlink(path) < 0)
        die("unlink %s: %m", path);
}

void fake_sysfs_symlink(struct fake_sysfs *t, const char *relpath,
                        const char *target)
{
    char path[PATH_MAX];

    pathf(path, sizeof(path), "%s/%s", t->root, relpath);
    unlink(path);
    if (symlink(target, path) < 0)
        die("symlink %s: %m", path);
}

const char *fake_sysfs_dev_path(const struct fake_sysfs *t, const char *bdf)
{
    return dev_of(t, bdf)->path;
}

/* ------------------------------------------------------------------ */
/* Kernel behaviour on writes                                          */
/* ------------------------------------------------------------------ */

/*
 * "bus/pci/devices/<bdf>/attr" and "devices/.../<bdf>/attr" name the same
 * file; refusals and the dispatcher work on the second form.
 */
static char *normalise(const struct fake_sysfs *t, const char *path)
{
    const char *pfx = "bus/pci/devices/";
    char bdf[XPCI_BDF_STRLEN];
    ssize_t i;

    while (*path == '/')
        path++;
    if (strncmp(path, pfx, strlen(pfx)))
        return xstrdup(path);
    path += strlen(pfx);
    if (strlen(path) < XPCI_BDF_STRLEN - 1)
        return xstrdup(path - strlen(pfx));
    memcpy(bdf, path, XPCI_BDF_STRLEN - 1);
    bdf[XPCI_BDF_STRLEN - 1] = '\0';
    i = find_dev(t, bdf);
    if (i < 0)
        return xstrdup(path - strlen(pfx));
    return xasprintf("%s%s", t->devs[i].path, path + XPCI_BDF_STRLEN - 1);
}

/* Take a pending refusal of path; 0 when there is none. */
static int take_refusal(struct fake_sysfs *t, const char *norm)
{
    for (size_t i = 0; i < t->n_refusals; i++) {
        char *p = normalise(t, t->refusals[i].path);
        bool hit = !strcmp(p, norm);
        int err = t->refusals[i].err;

        free(p);
        if (!hit)
            continue;
        free(t->refusals[i].path);
        t->refusals[i] = t->refusals[--t->n_refusals];
        return -err;
    }
    return 0;
}

void fake_sysfs_refuse(struct fake_sysfs *t, const char *relpath, int err)
{
    t->refusals =
        xrealloc(t->refusals, (t->n_refusals + 1) * sizeof(*t->refusals));
    t->refusals[t->n_refusals].path = xstrdup(relpath);
    t->refusals[t->n_refusals].err = err < 0 ? -err : err;
    t->n_refusals++;
}

static void log_write(struct fake_sysfs *t, const char *path, const char *val)
{
    if (t->n_writes + 2 > t->cap_writes) {
        t->cap_writes = t->cap_writes ? t->cap_writes * 2 : 16;
        t->writes = xrealloc(t->writes, t->cap_writes * sizeof(char *));
    }
    t->writes[t->n_writes++] = xasprintf("%s=%s", path, val);
    t->writes[t->n_writes] = NULL;
}

const char *const *fake_sysfs_writes(const struct fake_sysfs *t)
{
    return (const char *const *)t->writes;
}

void fake_sysfs_clear_writes(struct fake_sysfs *t)
{
    for (size_t i = 0; i < t->n_writes; i++)
        free(t->writes[i]);
    t->n_writes = 0;
    t->writes[0] = NULL;
}

static bool dynid_matches(const struct fake_sysfs *t, const char *drv,
                          const struct fdev *d)
{
    for (size_t i = 0; i < t->n_dynids; i++)
        if (!strcmp(t->dynids[i].driver, drv) &&
            t->dynids[i].vendor == d->vendor &&
            t->dynids[i].device == d->device)
            return true;
    return false;
}

/*
 * driver_match_device() for PCI (drivers/pci/pci-driver.c,
 * pci_match_device): a driver_override wins over every id table; pciback's
 * table matches everything and its probe picks (pci_stub.c pcistub_probe).
 */
static bool driver_matches(const struct fake_sysfs *t, const char *drv,
                           const struct fdev *d)
{
    if (d->override)
        return !strcmp(d->override, drv);
    if (!strcmp(drv, PCIBACK))
        return true;
    return (d->native && !strcmp(d->native, drv)) || dynid_matches(t, drv, d);
}

/* The driver's probe; pciback takes only the devices in its slots, or the
 * ones whose driver_override names it (and then adds them to the slots). */
static int driver_probe(struct fake_sysfs *t, const char *drv, struct fdev *d)
{
    if (strcmp(drv, PCIBACK))
        return 0;
    if (in_slots(t, d->bdf))
        return 0;
    if (d->override && !strcmp(d->override, PCIBACK)) {
        fake_sysfs_pciback_add_slot(t, d->bdf);
        return 0;
    }
    return -ENODEV;
}

/* A function a test unplugged (its directory removed) is gone for the
 * kernel too. */
static ssize_t find_present_dev(const struct fake_sysfs *t, const char *bdf)
{
    ssize_t i = find_dev(t, bdf);
    char path[PATH_MAX];

    if (i < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s", fake_sysfs_sys(t), t->devs[i].path);
    return access(path, F_OK) == 0 ? i : -1;
}

/*
 * The kernel keeps driver_override with the device; so does the tree.
 * Read it back before acting on it: another process sharing the tree (the
 * stress test's) may have written it since this one last did.
 */
static void sync_override(struct fake_sysfs *t, struct fdev *d)
{
    char path[PATH_MAX], *s;

    pathf(path, sizeof(path), "%s/%s/driver_override", t->sys, d->path);
    s = slurp(path);
    if (!s)
        return;
    s[strcspn(s, "\n")] = '\0';
    free(d->override);
    d->override = *s && strcmp(s, "(null)") ? xstrdup(s) : NULL;
    free(s);
}

static int do_bind(struct fake_sysfs *t, const char *drv, const char *bdf)
{
    ssize_t i = find_present_dev(t, bdf);
    struct fdev *d;
    char *cur;
    int r;

    if (i < 0)
        return -ENODEV;
    d = &t->devs[i];
    sync_override(t, d);
    if (!driver_matches(t, drv, d))
        return -ENODEV;
    if ((cur = bound_driver(t, d))) {
        free(cur);
        return -EBUSY;
    }
    /* sysfs bind returns the probe's error (drivers/base/dd.c) */
    if ((r = driver_probe(t, drv, d)) < 0)
        return r;
    link_driver(t, d, drv);
    return 0;
}

static int do_unbind(struct fake_sysfs *t, const char *drv, const char *bdf)
{
    ssize_t i = find_present_dev(t, bdf);
    char *cur;
    bool ours;

    if (i < 0)
        return -ENODEV;
    cur = bound_driver(t, &t->devs[i]);
    ours = cur && !strcmp(cur, drv);
    free(cur);
    if (!ours)
        return -ENODEV;
    unlink_driver(t, &t->devs[i], drv);
    if (!strcmp(drv, PCIBACK)) {
        char path[PATH_MAX];

        permissive_path(t, path, sizeof(path));
        list_remove(path, bdf);
    }
    return 0;
}

/*
 * Attach an unbound device the way device_attach() does: try the drivers
 * that match; a failing probe is not an error for the writer (the kernel
 * swallows it and tries the next driver).  A refusal set on
 * "bus/pci/drivers/<drv>/bind" counts as that driver's probe failing.
 */
static void attach(struct fake_sysfs *t, struct fdev *d)
{
    const char *cands[3];
    unsigned n = 0;
    char *cur = bound_driver(t, d);

    if (cur) {
        free(cur);
        return;
    }
    if (d->override)
        cands[n++] = d->override;
    if (!d->override && d->native)
        cands[n++] = d->native;
    if (!d->override && t->pciback)
        cands[n++] = PCIBACK;
    for (unsigned i = 0; i < n; i++) {
        char bind[PATH_MAX];

        if (!driver_loaded(t, cands[i]) || !driver_matches(t, cands[i], d))
            continue;
        pathf(bind, sizeof(bind), "bus/pci/drivers/%s/bind", cands[i]);
        if (take_refusal(t, bind) < 0)
            continue;
        if (driver_probe(t, cands[i], d) < 0)
            continue;
        link_driver(t, d, cands[i]);
        return;
    }
}

/* new_id "vvvv dddd [...]" (drivers/pci/pci-driver.c new_id_store); the
 * driver then attaches to the unbound devices it now matches. */
static int do_new_id(struct fake_sysfs *t, const char *drv, const char *val)
{
    unsigned v, dv;
    struct fdynid *id;

    if (sscanf(val, "%x %x", &v, &dv) != 2)
        return -EINVAL;
    t->dynids = xrealloc(t->dynids, (t->n_dynids + 1) * sizeof(*t->dynids));
    id = &t->dynids[t->n_dynids++];
    id->driver = xstrdup(drv);
    id->vendor = v;
    id->device = dv;
    for (size_t i = 0; i < t->n_devs; i++) {
        struct fdev *d = &t->devs[i];
        char *cur;

        if (d->vendor != v || d->device != dv || !driver_matches(t, drv, d))
            continue;
        if ((cur = bound_driver(t, d))) {
            free(cur);
            continue;
        }
        if (driver_probe(t, drv, d) == 0)
            link_driver(t, d, drv);
    }
    return 0;
}

static int do_remove_id(struct fake_sysfs *t, const char *drv, const char *val)
{
    unsigned v, dv;

    if (sscanf(val, "%x %x", &v, &dv) != 2)
        return -EINVAL;
    for (size_t i = 0; i < t->n_dynids; i++) {
        if (strcmp(t->dynids[i].driver, drv) || t->dynids[i].vendor != v ||
            t->dynids[i].device != dv)
            continue;
        free(t->dynids[i].driver);
        t->dynids[i] = t->dynids[--t->n_dynids];
        return 0;
    }
    return -ENODEV;
}

/* pciback's slot syntax: "[DDDD:]BB:DD.F" (pci_stub.c str_to_slot). */
static int parse_slot(const char *val, char *bdf)
{
    unsigned dom = 0, bus, dev, fn;
    int n = 0;
    bool ok =
        sscanf(val, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) == 4 && !val[n];

    if (!ok) {
        dom = 0;
        n = 0;
        ok = sscanf(val, "%x:%x.%x%n", &bus, &dev, &fn, &n) == 3 && !val[n];
    }
    if (!ok || dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
        return -EINVAL;
    snprintf(bdf, XPCI_BDF_STRLEN, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
    return 0;
}

static int do_driver_override(struct fake_sysfs *t, struct fdev *d,
                              const char *val)
{
    char path[PATH_MAX];
    int fd;

    /* drivers/base/driver.c driver_set_override: "" or "\n" clears */
    if (strlen(val) >= 4096)
        return -EINVAL;
    free(d->override);
    d->override = *val ? xstrdup(val) : NULL;
    pathf(path, sizeof(path), "%s/%s", t->sys, d->path);
    fd = open_dir(path);
    printf_at(fd, "driver_override", "%s\n",
              d->override ? d->override : "(null)");
    close(fd);
    return 0;
}

/* A write the kernel just stores (permissive, quirks, sriov_numvfs, ...). */
static int plain_store(int rootfd, const char *path, const char *val,
                       size_t len)
{
    int fd = openat(rootfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    ssize_t r;

    if (fd < 0)
        return -errno;
    r = write(fd, val, len);
    close(fd);
    return r < 0 ? -errno : 0;
}

/* Split "bus/pci/drivers/<drv>/<attr>"; false for any other path. */
static bool driver_attr(const char *norm, char *drv, size_t size,
                        const char **attr)
{
    const char *pfx = "bus/pci/drivers/";
    const char *p, *slash;

    if (strncmp(norm, pfx, strlen(pfx)))
        return false;
    p = norm + strlen(pfx);
    slash = strchr(p, '/');
    if (!slash || strchr(slash + 1, '/') || (size_t)(slash - p) >= size)
        return false;
    memcpy(drv, p, (size_t)(slash - p));
    drv[slash - p] = '\0';
    *attr = slash + 1;
    return true;
}

/* The device whose directory holds the attribute norm, or NULL. */
/* reset_method lists only "bus" (drivers/pci/pci.c reset_store). */
static bool bus_only_methods(const char *methods)
{
    char buf[128], *w, *save = NULL;
    bool bus = false;

    snprintf(buf, sizeof(buf), "%s", methods);
    for (w = strtok_r(buf, " \n", &save); w;
         w = strtok_r(NULL, " \n", &save)) {
        if (strcmp(w, "bus"))
            return false;
        bus = true;
    }
    return bus;
}

/*
 * pci_parent_bus_reset (drivers/pci/pci.c): a secondary bus reset of one
 * function needs a parent bridge and no other device on its bus; the
 * other functions of a multi-function slot make it ENOTTY, though the
 * kernel listed "bus" in reset_method when it probed function 0 alone.
 */
static bool alone_on_bus(const struct fake_sysfs *t, const struct fdev *d)
{
    if (d->parent < 0 || d->bridge)
        return false;
    for (size_t i = 0; i < t->n_devs; i++)
        if (&t->devs[i] != d && t->devs[i].bus == d->bus &&
            t->devs[i].parent == d->parent)
            return false;
    return true;
}

static struct fdev *attr_device(struct fake_sysfs *t, const char *norm,
                                const char **attr)
{
    const char *slash = strrchr(norm, '/');
    char bdf[XPCI_BDF_STRLEN];
    ssize_t i;

    if (!slash || slash - norm < XPCI_BDF_STRLEN - 1)
        return NULL;
    memcpy(bdf, slash - (XPCI_BDF_STRLEN - 1), XPCI_BDF_STRLEN - 1);
    bdf[XPCI_BDF_STRLEN - 1] = '\0';
    i = find_dev(t, bdf);
    if (i < 0 || strncmp(norm, t->devs[i].path, strlen(t->devs[i].path)) ||
        norm + strlen(t->devs[i].path) != slash)
        return NULL;
    *attr = slash + 1;
    return &t->devs[i];
}

static int dispatch(struct fake_sysfs *t, int rootfd, const char *norm,
                    const char *val, const char *raw, size_t len)
{
    char drv[NAME_MAX + 1], bdf[XPCI_BDF_STRLEN];
    const char *attr;
    struct fdev *d;
    ssize_t i;

    if (driver_attr(norm, drv, sizeof(drv), &attr)) {
        if (!strcmp(attr, "bind"))
            return do_bind(t, drv, val);
        if (!strcmp(attr, "unbind"))
            return do_unbind(t, drv, val);
        if (!strcmp(attr, "new_id"))
            return do_new_id(t, drv, val);
        if (!strcmp(attr, "remove_id"))
            return do_remove_id(t, drv, val);
        if (!strcmp(drv, PCIBACK) && !strcmp(attr, "new_slot")) {
            if (parse_slot(val, bdf) < 0)
                return -EINVAL;
            fake_sysfs_pciback_add_slot(t, bdf);
            return 0;
        }
        if (!strcmp(drv, PCIBACK) && !strcmp(attr, "remove_slot")) {
            if (parse_slot(val, bdf) < 0)
                return -EINVAL;
            return slots_remove(t, bdf) ? 0 : -ENOENT;
        }
        if (!strcmp(drv, PCIBACK) && !strcmp(attr, "permissive")) {
            if (parse_slot(val, bdf) < 0)
                return -EINVAL;
            return permissive_add(t, bdf);
        }
        return plain_store(rootfd, norm, raw, len);
    }
    if (!strcmp(norm, "bus/pci/drivers_probe")) {
        if ((i = find_dev(t, val)) < 0)
            return -ENODEV;
        sync_override(t, &t->devs[i]);
        attach(t, &t->devs[i]);
        return 0;
    }
    if (!strcmp(norm, "bus/pci/rescan"))
        return 0;
    if ((d = attr_device(t, norm, &attr))) {
        if (!strcmp(attr, "driver_override"))
            return do_driver_override(t, d, val);
        /* drivers/pci/pci-sysfs.c reset_store: only "1" resets, and
         * not once every method was disabled (an empty reset_method):
         * pci_reset_function() then answers ENOTTY */
        if (!strcmp(attr, "reset")) {
            char path[PATH_MAX], *methods;
            bool none, bus_only;

            if (strcmp(val, "1"))
                return -EINVAL;
            pathf(path, sizeof(path), "%s/%s/reset_method", t->sys, d->path);
            methods = slurp(path);
            none = methods && !methods[strspn(methods, " \n")];
            bus_only = methods && !none && bus_only_methods(methods);
            free(methods);
            if (none || (bus_only && !alone_on_bus(t, d)))
                return -ENOTTY;
            return 0;
        }
        if (!strcmp(attr, "remove") || !strcmp(attr, "rescan"))
            return 0;
    }
    return plain_store(rootfd, norm, raw, len);
}

/* The library resets several functions at once: one writer at a time. */
static pthread_mutex_t fake_write_lock = PTHREAD_MUTEX_INITIALIZER;

static int fake_write_locked(void *priv, int rootfd, const char *path,
                             const char *val, size_t len);

static int fake_write(void *priv, int rootfd, const char *path, const char *val,
                      size_t len)
{
    int r;

    pthread_mutex_lock(&fake_write_lock);
    r = fake_write_locked(priv, rootfd, path, val, len);
    pthread_mutex_unlock(&fake_write_lock);
    return r;
}

static int fake_write_locked(void *priv, int rootfd, const char *path,
                             const char *val, size_t len)
{
    struct fake_sysfs *t = priv;
    char *buf, *norm;
    struct stat st;
    int r;

    buf = xmalloc(len + 1);
    memcpy(buf, val, len);
    buf[len] = '\0';
    /* the kernel's sysfs_streq() ignores one trailing newline */
    if (len && buf[len - 1] == '\n')
        buf[len - 1] = '\0';
    log_write(t, path, buf);
    norm = normalise(t, path);
    if (fstatat(rootfd, norm, &st, 0) < 0) {
        r = -errno;
    } else if (S_ISDIR(st.st_mode)) {
        r = -EISDIR;
    } else if ((r = take_refusal(t, norm)) == 0) {
        r = dispatch(t, rootfd, norm, buf, val, len);
    }
    free(norm);
    free(buf);
    return r;
}

/* modprobe: loading xen-pciback registers the "pciback" driver. */
static int fake_modprobe(void *priv, const char *module)
{
    struct fake_sysfs *t = priv;

    if (!strcmp(module, "xen-pciback") || !strcmp(module, "xen_pciback"))
        fake_sysfs_load_pciback(t);
    return 0;
}

const struct xpci_sysfs_ops fake_sysfs_ops = {
    .write = fake_write,
    .modprobe = fake_modprobe,
};
