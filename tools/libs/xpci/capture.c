/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * capture.c - the PCI part of a host as a tar archive that --root reads
 * back: the PCI device trees under sys/devices with everything below them
 * (network, block, NVMe, framebuffer entries), the bus/pci links and
 * drivers, IOMMU groups, the class directories the checks read and the
 * virtual devices they point to (bridges, bonds, device-mapper, md, NVMe
 * subsystems), btrfs membership, pciback's module parameters, and the
 * proc files of mounts, swap, routes and the kernel command line, and
 * modprobe's configuration (what xen-pciback hides at boot).
 * Nothing else: no MAC addresses unless asked, no BAR or ROM contents.
 * Everything read is bounded (depth, entries, bytes).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "xpci-internal.h"

#define MAX_ATTR (64U << 10) /* a sysfs attribute */
#define MAX_PROC (4U << 20)  /* a proc file */
#define MAX_ENTRIES 1000000U
#define MAX_BYTES (768ULL << 20)
#define PCI_TREE_DEPTH 24
#define VIRTUAL_DEPTH 4

struct capture {
    xpci_ctx *ctx;
    struct xpci__tar tar;
    unsigned flags;
    char **walked; /* walk roots done, sysfs-relative */
    unsigned n_walked;
    char *why;
};

/* The proc files the checks read, proc-relative. */
static const char *const proc_files[] = {
    "self/mountinfo", "swaps",   "net/route",
    "net/ipv6_route", "cmdline", "xen/capabilities",
};

/* Class directories whose entries say what lives on a function. */
static const char *const class_dirs[] = {
    "class/net",  "class/block",          "class/graphics",
    "class/nvme", "class/nvme-subsystem", "block",
};

static int too_big(struct capture *c)
{
    if (c->tar.members < MAX_ENTRIES && c->tar.bytes < MAX_BYTES)
        return 0;
    if (!c->why)
        c->why = xpci__sprintf("the capture would exceed %u entries or "
                               "%llu MiB",
                               MAX_ENTRIES, MAX_BYTES >> 20);
    return -E2BIG;
}

/* BAR and ROM contents, and VPD (serial data read from the device):
 * never read. */
static bool skipped_attr(const char *name)
{
    const char *p;

    if (!strcmp(name, "rom") || !strcmp(name, "vpd"))
        return true;
    if (strncmp(name, "resource", 8) || !name[8])
        return false;
    for (p = name + 8; *p >= '0' && *p <= '9'; p++)
        ;
    return p > name + 8 && (!*p || !strcmp(p, "_wc"));
}

/* A network interface's hardware addresses (net/core/net-sysfs.c). */
static bool mac_attr(const char *name)
{
    return !strcmp(name, "address") || !strcmp(name, "perm_addr") ||
           !strcmp(name, "phys_port_id") || !strcmp(name, "phys_switch_id");
}

/* Read at most max bytes of dirfd/name; -EFBIG when there is more. */
static ssize_t slurp(int dirfd, const char *name, char *buf, size_t max)
{
    _cleanup_close_ int fd =
        openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    size_t got = 0;

    if (fd < 0)
        return -errno;
    for (;;) {
        ssize_t r = read(fd, buf + got, max + 1 - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return (ssize_t)got;
        got += (size_t)r;
        if (got > max)
            return -EFBIG;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of an open directory, sorted (a capture is reproducible). */
static int sorted_entries(int fd, char ***names_r, unsigned *n_r)
{
    int dfd = dup(fd);
    DIR *dir = dfd < 0 ? NULL : fdopendir(dfd);
    struct dirent *de;
    int r = 0;

    *names_r = NULL;
    *n_r = 0;
    if (!dir) {
        if (dfd >= 0)
            close(dfd);
        return -errno;
    }
    while ((de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if ((r = xpci__strv_push(names_r, n_r, de->d_name)) < 0)
            break;
    }
    closedir(dir);
    if (*n_r)
        qsort(*names_r, *n_r, sizeof(char *), cmp_str);
    return r;
}

static int walk(struct capture *c, const char *rel, int depth);

/* One entry of directory fd (sysfs-relative path rel/name). */
static int walk_entry(struct capture *c, int fd, const char *rel,
                      const char *name, int depth, bool netdev)
{
    _cleanup_free_ char *path = xpci__sprintf("%s/%s", rel, name);
    _cleanup_free_ char *tpath = NULL;
    struct stat st;

    if (!path || !(tpath = xpci__sprintf("sys/%s", path)))
        return -ENOMEM;
    if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0; /* gone meanwhile */
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlinkat(fd, name, target, sizeof(target) - 1);

        if (n <= 0 || target[0] == '/')
            return 0;
        target[n] = '\0';
        return xpci__tar_symlink(&c->tar, tpath, target);
    }
    if (S_ISDIR(st.st_mode))
        return depth > 0 ? walk(c, path, depth - 1) : 0;
    if (!S_ISREG(st.st_mode) || !(st.st_mode & 0444) || skipped_attr(name) ||
        (netdev && !(c->flags & XPCI_CAPTURE_WITH_MAC) && mac_attr(name)))
        return 0;
    {
        _cleanup_free_ char *buf = malloc(MAX_ATTR + 1);
        ssize_t n;

        if (!buf)
            return -ENOMEM;
        n = slurp(fd, name, buf, MAX_ATTR);
        if (n < 0)
            return 0; /* unreadable (write-only, root only, or EIO) */
        return xpci__tar_file(&c->tar, tpath, st.st_mode & 0777, buf,
                              (size_t)n);
    }
}

/* Whether rel is a network interface's directory, ".../net/<ifname>". */
static bool is_netdev_dir(const char *rel)
{
    const char *last = strrchr(rel, '/');

    return last && last - rel >= 3 && !strncmp(last - 3, "net", 3) &&
           (last - rel == 3 || last[-4] == '/');
}

/* Capture directory rel (sysfs-relative) and what lies below it, down to
 * depth levels, without following links. */
static int walk(struct capture *c, const char *rel, int depth)
{
    bool netdev = is_netdev_dir(rel);
    _cleanup_close_ int fd = openat(
        c->ctx->sysfs_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_free_ char *tpath = xpci__sprintf("sys/%s", rel);
    struct stat st;
    char **names = NULL;
    unsigned n = 0;
    int r;

    if (!tpath)
        return -ENOMEM;
    if (fd < 0)
        return 0;
    if ((r = too_big(c)) < 0)
        return r;
    if (fstat(fd, &st) < 0 || (r = sorted_entries(fd, &names, &n)) < 0)
        return 0;
    r = xpci__tar_dir(&c->tar, tpath, st.st_mode & 0777);
    for (unsigned i = 0; i < n && r == 0; i++)
        r = walk_entry(c, fd, rel, names[i], depth, netdev);
    xpci__strv_free(names, n);
    return r;
}

/* Walk rel unless a walk already covered it. */
static int walk_once(struct capture *c, const char *rel, int depth)
{
    for (unsigned i = 0; i < c->n_walked; i++) {
        size_t len = strlen(c->walked[i]);

        if (!strncmp(rel, c->walked[i], len) &&
            (rel[len] == '\0' || rel[len] == '/'))
            return 0;
    }
    if (xpci__strv_push(&c->walked, &c->n_walked, rel) < 0)
        return -ENOMEM;
    return walk(c, rel, depth);
}

/* The sysfs-relative path a link in directory dir points at, resolved
 * lexically, or NULL when it leaves the tree. */
static char *resolve(const char *dir, const char *target)
{
    _cleanup_free_ char *buf = xpci__sprintf("%s/%s", dir, target);
    char **parts = NULL, *save = NULL, *tok, *out;
    unsigned n = 0, k = 0;
    size_t len = 1;

    if (!buf)
        return NULL;
    for (tok = strtok_r(buf, "/", &save); tok;
         tok = strtok_r(NULL, "/", &save)) {
        if (!strcmp(tok, "."))
            continue;
        if (!strcmp(tok, "..")) {
            if (!k) {
                free(parts);
                return NULL;
            }
            k--;
            continue;
        }
        if (k == n) {
            char **np = realloc(parts, (n + 16) * sizeof(*np));

            if (!np) {
                free(parts);
                return NULL;
            }
            parts = np;
            n += 16;
        }
        parts[k++] = tok;
        len += strlen(tok) + 1;
    }
    out = malloc(len);
    if (out) {
        out[0] = '\0';
        for (unsigned i = 0; i < k; i++) {
            if (i)
                strcat(out, "/");
            strcat(out, parts[i]);
        }
    }
    free(parts);
    return out;
}

/* A class directory's links, and the devices outside the PCI trees they
 * point at (bridges, bonds, dm and md devices, NVMe subsystems). */
static int walk_class(struct capture *c, const char *rel)
{
    _cleanup_close_ int fd = openat(
        c->ctx->sysfs_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    char **names = NULL;
    unsigned n = 0;
    int r;

    if (fd < 0)
        return 0;
    if ((r = walk_once(c, rel, 1)) < 0 || sorted_entries(fd, &names, &n))
        return r;
    for (unsigned i = 0; i < n && r == 0; i++) {
        char target[4096];
        ssize_t len = readlinkat(fd, names[i], target, sizeof(target) - 1);
        _cleanup_free_ char *dest = NULL;

        if (len <= 0)
            continue;
        target[len] = '\0';
        dest = resolve(rel, target);
        if (dest && !strncmp(dest, "devices/", 8) &&
            strncmp(dest, "devices/pci", 11))
            r = walk_once(c, dest, VIRTUAL_DEPTH);
    }
    xpci__strv_free(names, n);
    return r;
}

/* One link of a class directory, and its target when outside the PCI
 * trees (its attributes only). */
static int walk_class_link(struct capture *c, const char *dir, const char *name)
{
    _cleanup_close_ int fd =
        openat(c->ctx->sysfs_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_free_ char *tpath = NULL, *dest = NULL;
    char target[4096];
    ssize_t len;
    int r;

    if (fd < 0)
        return 0;
    len = readlinkat(fd, name, target, sizeof(target) - 1);
    if (len <= 0 || target[0] == '/')
        return 0;
    target[len] = '\0';
    if (!(tpath = xpci__sprintf("sys/%s/%s", dir, name)))
        return -ENOMEM;
    if ((r = xpci__tar_symlink(&c->tar, tpath, target)) < 0)
        return r;
    dest = resolve(dir, target);
    if (dest && !strncmp(dest, "devices/", 8) &&
        strncmp(dest, "devices/pci", 11))
        return walk_once(c, dest, 1);
    return 0;
}

/* The active consoles and their tty entries. */
static int walk_consoles(struct capture *c)
{
    char buf[512];
    char *name, *save = NULL;
    int r;

    if ((r = walk_class_link(c, "class/tty", "console")) < 0)
        return r;
    if (xpci__read_attr(c->ctx->sysfs_fd, "class/tty/console/active", buf,
                        sizeof(buf)) < 0)
        return 0;
    for (name = strtok_r(buf, " ", &save); name && r == 0;
         name = strtok_r(NULL, " ", &save))
        if (!strchr(name, '/') && strcmp(name, ".") && strcmp(name, ".."))
            r = walk_class_link(c, "class/tty", name);
    return r;
}

static int capture_proc(struct capture *c)
{
    _cleanup_free_ char *buf = NULL;
    int r = 0;

    if (c->ctx->proc_fd < 0)
        return 0;
    buf = malloc(MAX_PROC + 1);
    if (!buf)
        return -ENOMEM;
    for (size_t i = 0; i < ARRAY_SIZE(proc_files) && r == 0; i++) {
        _cleanup_close_ int fd =
            openat(c->ctx->proc_fd, proc_files[i], O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *tpath = NULL;
        size_t got = 0;
        ssize_t n;

        if (fd < 0)
            continue;
        while ((n = read(fd, buf + got, MAX_PROC + 1 - got)) > 0 &&
               (got += (size_t)n) <= MAX_PROC)
            ;
        if (n < 0 || got > MAX_PROC)
            continue;
        if (!(tpath = xpci__sprintf("proc/%s", proc_files[i])))
            return -ENOMEM;
        r = xpci__tar_file(&c->tar, tpath, 0444, buf, got);
    }
    return r;
}

/* modprobe's configuration files (*.conf, regular files only), which say
 * what xen-pciback hides at boot. */
static int capture_modprobe(struct capture *c)
{
    _cleanup_close_ int etc = -1, fd = -1;
    _cleanup_free_ char *buf = NULL;
    char **names = NULL;
    unsigned n = 0;
    int r = 0;

    if (!c->ctx->etc_root ||
        (etc = open(c->ctx->etc_root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return 0;
    fd = openat(etc, "modprobe.d",
                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || sorted_entries(fd, &names, &n) < 0)
        return 0;
    if (!(buf = malloc(MAX_ATTR + 1))) {
        xpci__strv_free(names, n);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < n && r == 0; i++) {
        size_t len = strlen(names[i]);
        _cleanup_free_ char *tpath = NULL;
        struct stat st;
        ssize_t got;

        if (len < 6 || strcmp(names[i] + len - 5, ".conf") ||
            fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        got = slurp(fd, names[i], buf, MAX_ATTR);
        if (got < 0)
            continue;
        if (!(tpath = xpci__sprintf("etc/modprobe.d/%s", names[i])))
            r = -ENOMEM;
        else
            r = xpci__tar_file(&c->tar, tpath, 0644, buf, (size_t)got);
    }
    xpci__strv_free(names, n);
    return r;
}

int xpci_capture(xpci_ctx *ctx, int fd, unsigned flags, char **why_r)
{
    struct capture c = {.ctx = ctx, .tar = {.fd = fd}, .flags = flags};
    _cleanup_close_ int devfd = -1;
    char **names = NULL;
    unsigned n = 0;
    int r;

    *why_r = NULL;
    devfd =
        openat(ctx->sysfs_fd, "devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (devfd < 0 || sorted_entries(devfd, &names, &n) < 0) {
        *why_r = xpci__sprintf("cannot read %s/devices: %s", ctx->sysfs_root,
                               strerror(errno));
        return -ENOENT;
    }
    r = 0;
    for (unsigned i = 0; i < n && r == 0; i++) {
        _cleanup_free_ char *rel = NULL;

        if (strncmp(names[i], "pci", 3))
            continue;
        if (!(rel = xpci__sprintf("devices/%s", names[i])))
            r = -ENOMEM;
        else
            r = walk_once(&c, rel, PCI_TREE_DEPTH);
    }
    xpci__strv_free(names, n);
    if (r == 0)
        r = walk_once(&c, "bus/pci/devices", 1);
    if (r == 0)
        r = walk_once(&c, "bus/pci/drivers", 2);
    if (r == 0)
        r = walk_once(&c, "bus/pci/slots", 2);
    if (r == 0)
        r = walk_once(&c, "kernel/iommu_groups", 3);
    for (size_t i = 0; i < ARRAY_SIZE(class_dirs) && r == 0; i++)
        r = walk_class(&c, class_dirs[i]);
    if (r == 0)
        r = walk_consoles(&c);
    if (r == 0)
        r = walk_once(&c, "fs/btrfs", 3);
    if (r == 0)
        r = walk_once(&c, "module/xen_pciback/parameters", 1);
    if (r == 0)
        r = capture_proc(&c);
    if (r == 0)
        r = capture_modprobe(&c);
    if (r == 0)
        r = xpci__tar_finish(&c.tar);
    if (r < 0 && !c.why)
        c.why = xpci__sprintf("writing the capture: %s", strerror(-r));
    xpci__strv_free(c.walked, c.n_walked);
    *why_r = c.why;
    return r;
}

int xpci_capture_extract(int fd, const char *dir, char **why_r)
{
    return xpci__tar_extract(fd, dir, why_r);
}
