/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * dom0.c - what dom0 itself uses, and on which PCI function it lives:
 * mounted filesystems and swap (through partitions and holders such as
 * device-mapper), network interfaces and default routes, framebuffers and
 * serial consoles.  Everything is found from the class directories once per
 * scan, not by walking each device's subtree.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>

#include "xpci-internal.h"

#define SYSFS_CLASS_NET "class/net"
#define SYSFS_CLASS_BLOCK "class/block"
#define SYSFS_CLASS_GRAPHICS "class/graphics"
#define SYSFS_CONSOLE_ACTIVE "class/tty/console/active"
#define PROC_MOUNTINFO "self/mountinfo"
#define PROC_SWAPS "swaps"
#define PROC_ROUTE "net/route"
#define PROC_ROUTE6 "net/ipv6_route"
#define IFF_UP_FLAG 0x1
/* Holders nest (partition -> dm-crypt -> LVM); stop at a sane depth. */
#define MAX_HOLDER_DEPTH 8

/* mountinfo escapes blanks in paths as \040 and friends. */
static void unescape_octal(char *s)
{
    char *w = s;

    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
            r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static int read_mounts(struct xpci_host *host)
{
    _cleanup_free_ char *buf = NULL;
    char *line, *save = NULL;
    ssize_t r = xpci__read_file(host->ctx->proc_fd, PROC_MOUNTINFO, &buf);

    if (r < 0)
        return (int)r;
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned maj, min;
        char mp[4096];
        struct xpci__mount *nm;

        /* "36 25 259:2 / / rw,... - ext4 /dev/nvme0n1p2 rw" */
        if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mp) != 3)
            continue;
        nm = realloc(host->mounts, (host->n_mounts + 1) * sizeof(*nm));
        if (!nm)
            return -ENOMEM;
        host->mounts = nm;
        unescape_octal(mp);
        nm[host->n_mounts].major = maj;
        nm[host->n_mounts].minor = min;
        nm[host->n_mounts].mountpoint = strdup(mp);
        if (!nm[host->n_mounts].mountpoint)
            return -ENOMEM;
        host->n_mounts++;
    }
    return 0;
}

static int read_swaps(struct xpci_host *host)
{
    _cleanup_free_ char *buf = NULL;
    char *line, *save = NULL;
    ssize_t r = xpci__read_file(host->ctx->proc_fd, PROC_SWAPS, &buf);

    if (r < 0)
        return r == -ENOENT ? 0 : (int)r;
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char path[4096];
        const char *base;

        if (sscanf(line, "%4095s", path) != 1 || strncmp(path, "/dev/", 5))
            continue;
        base = strrchr(path, '/') + 1;
        r = xpci__strv_push(&host->swaps, &host->n_swaps, base);
        if (r < 0)
            return (int)r;
    }
    return 0;
}

static int add_route_if(struct xpci_host *host, const char *ifname)
{
    if (!strcmp(ifname, "lo") ||
        xpci__strv_contains(host->route_ifs, host->n_route_ifs, ifname))
        return 0;
    return xpci__strv_push(&host->route_ifs, &host->n_route_ifs, ifname);
}

static int read_routes(struct xpci_host *host)
{
    _cleanup_free_ char *v4 = NULL, *v6 = NULL;
    char *line, *save = NULL;
    int r;

    if (xpci__read_file(host->ctx->proc_fd, PROC_ROUTE, &v4) >= 0) {
        for (line = strtok_r(v4, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            char ifname[64];
            unsigned long dest, mask;

            /* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
            if (sscanf(line, "%63s %lx %*x %*x %*d %*d %*d %lx", ifname,
                       &dest, &mask) != 3)
                continue;
            if (dest == 0 && mask == 0 && (r = add_route_if(host, ifname)))
                return r;
        }
    }
    save = NULL;
    if (xpci__read_file(host->ctx->proc_fd, PROC_ROUTE6, &v6) >= 0) {
        for (line = strtok_r(v6, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            char dest[40], ifname[64];
            unsigned plen;

            /* dest plen src plen nexthop metric refcnt use flags iface */
            if (sscanf(line, "%39s %x %*s %*x %*s %*x %*x %*x %*x %63s", dest,
                       &plen, ifname) != 3)
                continue;
            if (plen == 0 && strspn(dest, "0") == 32 &&
                (r = add_route_if(host, ifname)))
                return r;
        }
    }
    return 0;
}

/* The PCI function a class entry ("class/net/eth0") lives on, or -1. */
static ssize_t class_owner(struct xpci_host *host, const char *entry)
{
    _cleanup_free_ char *target = NULL;
    const char *p;

    if (xpci__readlink(host->ctx->sysfs_fd, entry, &target) < 0)
        return -1;
    p = strstr(target, "devices/pci");
    return p ? xpci__host_owner_of(host, p) : -1;
}

/* A directory of the sysfs tree ("class/net"), or NULL. */
static DIR *open_class(struct xpci_host *host, const char *path)
{
    int fd = openat(host->ctx->sysfs_fd, path,
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);

    if (fd >= 0 && !dir)
        close(fd);
    return dir;
}

static int scan_netdevs(struct xpci_host *host)
{
    DIR *dir;
    struct dirent *de;
    int r = 0;

    if (!(dir = open_class(host, SYSFS_CLASS_NET)))
        return 0;
    while ((de = readdir(dir))) {
        char entry[512];
        struct xpci__netdev *nd;
        long flags = 0;
        ssize_t owner;

        if (de->d_name[0] == '.')
            continue;
        snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s", de->d_name);
        owner = class_owner(host, entry);
        if (owner < 0)
            continue;
        nd = realloc(host->netdevs, (host->n_netdevs + 1) * sizeof(*nd));
        if (!nd) {
            r = -ENOMEM;
            break;
        }
        host->netdevs = nd;
        nd = &nd[host->n_netdevs];
        nd->name = strdup(de->d_name);
        if (!nd->name) {
            r = -ENOMEM;
            break;
        }
        host->n_netdevs++;
        nd->dev = (size_t)owner;
        snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s/flags",
                 de->d_name);
        nd->up = xpci__read_long(host->ctx->sysfs_fd, entry, &flags) == 0 &&
                 (flags & IFF_UP_FLAG);
        nd->default_route =
            xpci__strv_contains(host->route_ifs, host->n_route_ifs, nd->name);
        r = xpci__strv_push(&host->devs[owner].netdevs,
                          &host->devs[owner].n_netdevs, nd->name);
        if (r < 0)
            break;
    }
    closedir(dir);
    return r;
}

static int block_devnum(struct xpci_host *host, const char *name,
                        unsigned *maj_r, unsigned *min_r)
{
    char entry[512], buf[32];

    snprintf(entry, sizeof(entry), SYSFS_CLASS_BLOCK "/%s/dev", name);
    if (xpci__read_attr(host->ctx->sysfs_fd, entry, buf, sizeof(buf)) < 0 ||
        sscanf(buf, "%u:%u", maj_r, min_r) != 2)
        return -ENOENT;
    return 0;
}

/* Record who uses block device name (directly or through holders). */
static int find_block_users(struct xpci_host *host, struct xpci__blockdev *bd,
                            const char *name, int depth)
{
    unsigned maj, min;
    char entry[512];
    DIR *dir;
    struct dirent *de;
    int r;

    if (depth > MAX_HOLDER_DEPTH)
        return 0;
    if (block_devnum(host, name, &maj, &min) == 0) {
        for (size_t i = 0; i < host->n_mounts; i++) {
            _cleanup_free_ char *use = NULL;

            if (host->mounts[i].major != maj || host->mounts[i].minor != min)
                continue;
            use = xpci__sprintf("%s on %s", name, host->mounts[i].mountpoint);
            if (!use)
                return -ENOMEM;
            if (!strcmp(host->mounts[i].mountpoint, "/"))
                bd->root = true;
            if ((r = xpci__strv_push(&bd->users, &bd->n_users, use)) < 0)
                return r;
        }
    }
    if (xpci__strv_contains(host->swaps, host->n_swaps, name)) {
        _cleanup_free_ char *use = xpci__sprintf("%s as swap", name);

        if (!use)
            return -ENOMEM;
        if ((r = xpci__strv_push(&bd->users, &bd->n_users, use)) < 0)
            return r;
    }
    snprintf(entry, sizeof(entry), SYSFS_CLASS_BLOCK "/%s/holders", name);
    if (!(dir = open_class(host, entry)))
        return 0;
    r = 0;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.')
            continue;
        r = find_block_users(host, bd, de->d_name, depth + 1);
        if (r < 0)
            break;
    }
    closedir(dir);
    return r;
}

static int scan_blockdevs(struct xpci_host *host)
{
    DIR *dir;
    struct dirent *de;
    int r = 0;

    if (!(dir = open_class(host, SYSFS_CLASS_BLOCK)))
        return 0;
    while ((de = readdir(dir))) {
        char entry[512];
        struct xpci__blockdev *bd;
        ssize_t owner;

        if (de->d_name[0] == '.')
            continue;
        snprintf(entry, sizeof(entry), SYSFS_CLASS_BLOCK "/%s", de->d_name);
        owner = class_owner(host, entry);
        if (owner < 0)
            continue;
        bd = realloc(host->blockdevs,
                     (host->n_blockdevs + 1) * sizeof(*bd));
        if (!bd) {
            r = -ENOMEM;
            break;
        }
        host->blockdevs = bd;
        bd = &bd[host->n_blockdevs];
        memset(bd, 0, sizeof(*bd));
        bd->name = strdup(de->d_name);
        if (!bd->name) {
            r = -ENOMEM;
            break;
        }
        host->n_blockdevs++;
        bd->dev = (size_t)owner;
        r = find_block_users(host, bd, de->d_name, 0);
        if (r < 0)
            break;
        r = xpci__strv_push(&host->devs[owner].blockdevs,
                          &host->devs[owner].n_blockdevs, bd->name);
        if (r < 0)
            break;
    }
    closedir(dir);
    return r;
}

static void scan_framebuffers(struct xpci_host *host)
{
    DIR *dir;
    struct dirent *de;

    if (!(dir = open_class(host, SYSFS_CLASS_GRAPHICS)))
        return;
    while ((de = readdir(dir))) {
        char entry[512];
        ssize_t owner;

        if (strncmp(de->d_name, "fb", 2))
            continue;
        snprintf(entry, sizeof(entry), SYSFS_CLASS_GRAPHICS "/%s",
                 de->d_name);
        owner = class_owner(host, entry);
        if (owner >= 0)
            host->devs[owner].has_fb = true;
    }
    closedir(dir);
}

/* Active consoles; a serial one on a PCI UART ties that function to dom0. */
static int scan_consoles(struct xpci_host *host)
{
    char buf[512];
    char *name, *save = NULL;

    if (xpci__read_attr(host->ctx->sysfs_fd, SYSFS_CONSOLE_ACTIVE, buf,
                        sizeof(buf)) < 0)
        return 0;
    for (name = strtok_r(buf, " ", &save); name;
         name = strtok_r(NULL, " ", &save)) {
        char entry[512];
        ssize_t owner;
        size_t *nc;
        int r = xpci__strv_push(&host->console_ttys, &host->n_console_ttys,
                                name);

        if (r < 0)
            return r;
        snprintf(entry, sizeof(entry), "class/tty/%s", name);
        owner = class_owner(host, entry);
        if (owner < 0)
            continue;
        nc = realloc(host->console_devs,
                     (host->n_console_devs + 1) * sizeof(*nc));
        if (!nc)
            return -ENOMEM;
        host->console_devs = nc;
        nc[host->n_console_devs++] = (size_t)owner;
    }
    return 0;
}

int xpci__dom0_scan(struct xpci_host *host)
{
    int r;

    host->proc_known = host->ctx->proc_fd >= 0;
    if (host->proc_known) {
        r = read_mounts(host);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            host->proc_known = false;
        if (read_swaps(host) == -ENOMEM || read_routes(host) == -ENOMEM)
            return -ENOMEM;
    }
    if ((r = scan_netdevs(host)) < 0 || (r = scan_blockdevs(host)) < 0)
        return r;
    scan_framebuffers(host);
    return scan_consoles(host);
}

void xpci__dom0_free(struct xpci_host *host)
{
    for (size_t i = 0; i < host->n_mounts; i++)
        free(host->mounts[i].mountpoint);
    free(host->mounts);
    xpci__strv_free(host->swaps, host->n_swaps);
    xpci__strv_free(host->route_ifs, host->n_route_ifs);
    xpci__strv_free(host->console_ttys, host->n_console_ttys);
    for (size_t i = 0; i < host->n_netdevs; i++)
        free(host->netdevs[i].name);
    free(host->netdevs);
    for (size_t i = 0; i < host->n_blockdevs; i++) {
        free(host->blockdevs[i].name);
        xpci__strv_free(host->blockdevs[i].users, host->blockdevs[i].n_users);
    }
    free(host->blockdevs);
    free(host->console_devs);
}
