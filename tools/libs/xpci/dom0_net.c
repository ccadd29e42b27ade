/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * dom0_net.c - which of a function's network interfaces dom0 lives on:
 * default routes, interfaces that are up, the bridges, bonds, VLANs and
 * macvlans stacked on them (which usually hold the address and route of
 * a Xen dom0: eno1 under xenbr0), and a root filesystem that comes over
 * the network (NFS or iSCSI root).
 */
#include <stdio.h>

#include "xpci-internal.h"

#define SYSFS_CLASS_NET "class/net"
#define PROC_ROUTE "net/route"
#define PROC_ROUTE6 "net/ipv6_route"
#define IFF_UP_FLAG 0x1
/* Stacks are shallow (NIC -> bond -> bridge -> VLAN); bound them. */
#define MAX_UPPER_DEPTH 8
#define MAX_UPPERS 64
#define IFNAMSIZ_MAX 15

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

static bool valid_ifname(const char *name)
{
    size_t len = strlen(name);

    return len && len <= IFNAMSIZ_MAX && !strchr(name, '/') &&
           name[0] != '.';
}

/* Whether the interface in directory dir (sysfs-relative) is up. */
static bool dir_is_up(struct xpci_host *host, const char *dir)
{
    char entry[512];
    long flags = 0;

    if ((size_t)snprintf(entry, sizeof(entry), "%s/flags", dir) >=
        sizeof(entry))
        return false;
    return xpci__read_long(host->ctx->sysfs_fd, entry, &flags) == 0 &&
           (flags & IFF_UP_FLAG);
}

static bool is_up(struct xpci_host *host, const char *ifname)
{
    char entry[128];

    snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s", ifname);
    return dir_is_up(host, entry);
}

/* What upper is to the device below it, from its sysfs directory. */
static char *upper_role(struct xpci_host *host, const char *upper)
{
    char entry[128], buf[512];
    const char *kind = NULL;

    snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s/bridge", upper);
    if (faccessat(host->ctx->sysfs_fd, entry, F_OK, 0) == 0)
        return xpci__sprintf("a port of bridge %s", upper);
    snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s/bonding", upper);
    if (faccessat(host->ctx->sysfs_fd, entry, F_OK, 0) == 0)
        return xpci__sprintf("a member of bond %s", upper);
    snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s/uevent", upper);
    if (xpci__read_attr(host->ctx->sysfs_fd, entry, buf, sizeof(buf)) > 0) {
        const char *p = strstr(buf, "DEVTYPE=");

        if (p && !strncmp(p + 8, "vlan", 4))
            kind = "VLAN";
        else if (p && !strncmp(p + 8, "macvlan", 7))
            kind = "macvlan";
        else if (p && !strncmp(p + 8, "macvtap", 7))
            kind = "macvtap";
        else if (p && !strncmp(p + 8, "ipvlan", 6))
            kind = "ipvlan";
    }
    return kind ? xpci__sprintf("the link of %s %s", kind, upper)
                : xpci__sprintf("under %s", upper);
}

struct walk {
    struct xpci__netdev *nd;
    unsigned seen;
};

/*
 * Follow upper_<name> links (net/core/dev.c, netdev_adjacent_sysfs_add:
 * a bridge or bond port also has "master") from ifname up, depth first.
 * chain is how ifname relates to the device walked from.
 */
static int follow_upper(struct xpci_host *host, struct walk *w,
                        const char *upper, const char *chain, int depth);

static int walk_uppers(struct xpci_host *host, struct walk *w,
                       const char *ifname, const char *chain, int depth)
{
    char entry[128];
    DIR *dir;
    struct dirent *de;
    bool found = false;
    int r = 0;

    if (depth >= MAX_UPPER_DEPTH)
        return 0;
    snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s", ifname);
    if (!(dir = xpci__sysfs_opendir(host, entry)))
        return 0;
    while (r == 0 && (de = readdir(dir))) {
        if (strncmp(de->d_name, "upper_", 6) || !valid_ifname(de->d_name + 6))
            continue;
        found = true;
        r = follow_upper(host, w, de->d_name + 6, chain, depth);
    }
    closedir(dir);
    /* kernels before 3.11 have only the master link of a port */
    if (r == 0 && !found) {
        _cleanup_free_ char *master = NULL;

        snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s/master", ifname);
        if (xpci__readlink_base(host->ctx->sysfs_fd, entry, &master) == 0 &&
            valid_ifname(master))
            r = follow_upper(host, w, master, chain, depth);
    }
    return r;
}

static int follow_upper(struct xpci_host *host, struct walk *w,
                        const char *upper, const char *chain, int depth)
{
    _cleanup_free_ char *role = NULL, *link = NULL;

    if (w->seen++ >= MAX_UPPERS)
        return 0;
    if (!(role = upper_role(host, upper)))
        return -ENOMEM;
    link = chain ? xpci__sprintf("%s, which is %s", chain, role)
                 : strdup(role);
    if (!link || xpci__strv_push(&w->nd->uppers, &w->nd->n_uppers, upper) < 0)
        return -ENOMEM;
    if (!w->nd->upper_route &&
        xpci__strv_contains(host->route_ifs, host->n_route_ifs, upper))
        w->nd->upper_route = xpci__sprintf(
            "%s is %s, which carries dom0's default route", w->nd->name,
            link);
    else if (!w->nd->upper_up && is_up(host, upper))
        w->nd->upper_up =
            xpci__sprintf("%s is %s, which is up", w->nd->name, link);
    return walk_uppers(host, w, upper, link, depth + 1);
}

/*
 * Whether dom0's root filesystem comes over the network: root=/dev/nfs
 * or nfsroot= (Documentation/admin-guide/nfs/nfsroot.rst), an iSCSI root
 * as dracut and initramfs-tools configure it, or / mounted as a network
 * filesystem.  ip=<client>:<server>:<gw>:<mask>:<host>:<device>:... names
 * the interface when it is given.
 */
static int find_net_root(struct xpci_host *host)
{
    _cleanup_free_ char *cmdline = xpci__cmdline(host->ctx);
    _cleanup_free_ char *root = NULL, *ip = NULL, *netroot = NULL;
    _cleanup_free_ char *nfsroot = NULL, *iscsi = NULL;
    const char *kind = NULL;

    for (size_t i = 0; i < host->n_mounts; i++)
        if (!strcmp(host->mounts[i].mountpoint, "/") &&
            host->mounts[i].network)
            kind = host->mounts[i].fstype;
    if (cmdline) {
        root = xpci__cmdline_param(cmdline, "root");
        nfsroot = xpci__cmdline_param(cmdline, "nfsroot");
        netroot = xpci__cmdline_param(cmdline, "netroot");
        iscsi = xpci__cmdline_param(cmdline, "ISCSI_TARGET_NAME");
        ip = xpci__cmdline_param(cmdline, "ip");
        if (!kind && ((root && !strcmp(root, "/dev/nfs")) || nfsroot ||
                      (netroot && !strncmp(netroot, "nfs", 3))))
            kind = "nfs";
        if (!kind && (iscsi || (netroot && !strncmp(netroot, "iscsi", 5))))
            kind = "iscsi";
    }
    if (!kind)
        return 0;
    if (!(host->net_root = strdup(kind)))
        return -ENOMEM;
    if (ip) {
        char *f = ip;

        /* the sixth colon-separated field */
        for (int k = 0; k < 5 && f; k++)
            f = strchr(f, ':') ? strchr(f, ':') + 1 : NULL;
        if (f) {
            size_t len = strcspn(f, ":");

            if (len && len <= IFNAMSIZ_MAX &&
                !(host->net_root_if = strndup(f, len)))
                return -ENOMEM;
        }
    }
    return 0;
}

/* Mark the interfaces a network root comes through: the one ip= names
 * (or has above it), else those with a default route, else all up. */
static void mark_net_root(struct xpci_host *host)
{
    bool any = false;

    if (!host->net_root)
        return;
    for (int pass = 0; pass < 3 && !any; pass++) {
        for (size_t i = 0; i < host->n_netdevs; i++) {
            struct xpci__netdev *nd = &host->netdevs[i];
            bool hit;

            if (pass == 0)
                hit = host->net_root_if &&
                      (!strcmp(nd->name, host->net_root_if) ||
                       xpci__strv_contains(nd->uppers, nd->n_uppers,
                                           host->net_root_if));
            else if (pass == 1)
                hit = !host->net_root_if &&
                      (nd->default_route || nd->upper_route);
            else
                hit = !host->net_root_if && (nd->up || nd->upper_up);
            if (hit)
                nd->net_root = any = true;
        }
    }
}

/* Add name to the interfaces the walk down starts from, once. */
static int add_start(char ***starts, unsigned *n, const char *name)
{
    if (xpci__strv_contains(*starts, *n, name))
        return 0;
    return xpci__strv_push(starts, n, name);
}

/*
 * Walk up from the interfaces below one that is up, holds a default route
 * or carries the network root: the only ones that can have such an upper.
 * The others are left alone: listing each interface's directory for
 * upper_ links is what finding them from every interface would cost.
 */
static int walk_up_from_below(struct xpci_host *host, char **starts,
                              unsigned n_starts, unsigned n_required)
{
    struct xpci__net_below b;
    int r = xpci__net_below(host, starts, n_starts, n_required, &b);

    for (size_t i = 0; r == 0 && i < host->n_netdevs; i++) {
        struct walk w = {.nd = &host->netdevs[i], .seen = 0};

        if (xpci__net_is_below(&b, w.nd->name))
            r = walk_uppers(host, &w, w.nd->name, NULL, 0);
    }
    xpci__net_below_free(&b);
    return r;
}

static int scan_netdevs(struct xpci_host *host)
{
    char **starts = NULL;
    unsigned n_starts = 0, n_required;
    DIR *dir;
    struct dirent *de;
    int r = 0;

    for (unsigned i = 0; r == 0 && i < host->n_route_ifs; i++)
        r = add_start(&starts, &n_starts, host->route_ifs[i]);
    if (r == 0 && host->net_root_if && valid_ifname(host->net_root_if))
        r = add_start(&starts, &n_starts, host->net_root_if);
    n_required = n_starts;
    if (r < 0 ||
        !(dir = xpci__sysfs_opendir_beneath(host, SYSFS_CLASS_NET))) {
        xpci__strv_free(starts, n_starts);
        return r;
    }
    while ((de = readdir(dir))) {
        _cleanup_free_ char *path = NULL;
        struct xpci__netdev *nd;
        ssize_t owner;

        if (de->d_name[0] == '.' || !valid_ifname(de->d_name))
            continue;
        /* flags is then read from the interface's own directory: the
         * walk through class/net's link is twice as long */
        owner = xpci__class_owner_at(host, dirfd(dir), SYSFS_CLASS_NET,
                                     de->d_name, &path);
        if (owner < 0) {
            /* a bridge, bond, VLAN...: lo is never above anything */
            if (strcmp(de->d_name, "lo") && is_up(host, de->d_name) &&
                (r = add_start(&starts, &n_starts, de->d_name)) < 0)
                break;
            continue;
        }
        nd = realloc(host->netdevs, (host->n_netdevs + 1) * sizeof(*nd));
        if (!nd) {
            r = -ENOMEM;
            break;
        }
        host->netdevs = nd;
        nd = &nd[host->n_netdevs];
        memset(nd, 0, sizeof(*nd));
        nd->name = strdup(de->d_name);
        if (!nd->name) {
            r = -ENOMEM;
            break;
        }
        host->n_netdevs++;
        nd->dev = (size_t)owner;
        nd->up = dir_is_up(host, path);
        nd->default_route =
            xpci__strv_contains(host->route_ifs, host->n_route_ifs, nd->name);
        if (nd->up && (r = add_start(&starts, &n_starts, nd->name)) < 0)
            break;
        r = xpci__strv_push(&host->devs[owner].netdevs,
                            &host->devs[owner].n_netdevs, nd->name);
        if (r < 0)
            break;
    }
    closedir(dir);
    if (r == 0)
        r = walk_up_from_below(host, starts, n_starts, n_required);
    xpci__strv_free(starts, n_starts);
    return r;
}

static const struct xpci_host *netdev_sort_host;

static int cmp_netdev(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    size_t x = netdev_sort_host->netdevs[i].dev;
    size_t y = netdev_sort_host->netdevs[j].dev;

    if (x != y)
        return x < y ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Index the interfaces by function, so a check finds a function's own
 * without a pass over every interface of the host for each. */
static int index_netdevs(struct xpci_host *host)
{
    size_t n = host->n_netdevs;

    host->netdevs_by_dev = malloc((n ? n : 1) * sizeof(size_t));
    if (!host->netdevs_by_dev)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        host->netdevs_by_dev[i] = i;
    netdev_sort_host = host;
    qsort(host->netdevs_by_dev, n, sizeof(size_t), cmp_netdev);
    netdev_sort_host = NULL;
    return 0;
}

size_t xpci__host_netdevs(const struct xpci_host *host, size_t dev,
                          size_t *first_r)
{
    size_t lo = 0, hi = host->netdevs_by_dev ? host->n_netdevs : 0, end;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (host->netdevs[host->netdevs_by_dev[mid]].dev < dev)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; host->netdevs_by_dev && end < host->n_netdevs &&
                   host->netdevs[host->netdevs_by_dev[end]].dev == dev;
         end++)
        ;
    *first_r = lo;
    return end - lo;
}

int xpci__dom0_net_scan(struct xpci_host *host)
{
    int r;

    if (host->proc_known) {
        if (read_routes(host) == -ENOMEM || find_net_root(host) == -ENOMEM)
            return -ENOMEM;
    }
    if ((r = scan_netdevs(host)) < 0)
        return r;
    mark_net_root(host);
    return index_netdevs(host);
}

void xpci__dom0_net_free(struct xpci_host *host)
{
    xpci__strv_free(host->route_ifs, host->n_route_ifs);
    free(host->net_root);
    free(host->net_root_if);
    for (size_t i = 0; i < host->n_netdevs; i++) {
        free(host->netdevs[i].name);
        xpci__strv_free(host->netdevs[i].uppers, host->netdevs[i].n_uppers);
        free(host->netdevs[i].upper_route);
        free(host->netdevs[i].upper_up);
    }
    free(host->netdevs);
    free(host->netdevs_by_dev);
}
