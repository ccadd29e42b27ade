/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * dom0_net_below.c - the network interfaces below the ones that matter to
 * dom0 (up, holding a default route, carrying a network root), found by
 * walking down from those few rather than up from every interface.
 *
 * For every adjacency (bridge or bond port, VLAN, macvlan, ...) Linux
 * makes both upper_<upper> in the lower device's directory and
 * lower_<lower> in the upper one's (net/core/dev.c,
 * netdev_adjacent_sysfs_add, since 3.11).  Older kernels have only the
 * port's "master" link: there a bridge's ports are listed in its brif/
 * and a bond's in bonding/slaves.
 */
#include <stdio.h>

#include "xpci-internal.h"

#define SYSFS_CLASS_NET "class/net"
#define IFNAMSIZ_MAX 15

static bool valid_ifname(const char *name, size_t len)
{
    return len && len <= IFNAMSIZ_MAX && !memchr(name, '/', len) &&
           name[0] != '.';
}

/* Note name at depth; a lower of something when lower. */
static int reach(struct xpci__net_below *b, const char *name, size_t len,
                 unsigned depth, bool lower)
{
    char buf[IFNAMSIZ_MAX + 1];

    if (!valid_ifname(name, len))
        return 0;
    memcpy(buf, name, len);
    buf[len] = '\0';
    for (unsigned i = 0; i < b->n; i++) {
        if (!strcmp(b->names[i], buf)) {
            b->below[i] |= lower;
            return 0;
        }
    }
    if (b->n >= XPCI__NET_BELOW_MAX) {
        b->all = true;
        return 0;
    }
    b->depth[b->n] = (unsigned char)depth;
    b->below[b->n] = lower;
    return xpci__strv_push(&b->names, &b->n, buf);
}

/* A bridge's ports from brif/ (kernels without lower_ links). */
static int brif_ports(struct xpci_host *host, struct xpci__net_below *b,
                      const char *name, unsigned depth)
{
    char entry[64];
    DIR *dir;
    struct dirent *de;
    int r = 0;

    snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s/brif", name);
    if (!(dir = xpci__sysfs_opendir(host, entry)))
        return 0;
    while (r == 0 && (de = readdir(dir)))
        if (de->d_name[0] != '.')
            r = reach(b, de->d_name, strlen(de->d_name), depth, true);
    closedir(dir);
    return r;
}

/* A bond's members from bonding/slaves: names separated by spaces. */
static int bond_slaves(struct xpci_host *host, struct xpci__net_below *b,
                       const char *name, unsigned depth)
{
    char entry[64], buf[4096];
    const char *p;
    ssize_t len;
    int r = 0;

    snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s/bonding/slaves",
             name);
    len = xpci__read_attr(host->ctx->sysfs_fd, entry, buf, sizeof(buf));
    if (len == -EFBIG)
        b->all = true; /* too many to follow: walk up from every one */
    if (len <= 0)
        return 0;
    for (p = buf; r == 0 && *p;) {
        size_t n = strcspn(p, " \n");

        if (n)
            r = reach(b, p, n, depth, true);
        p += n;
        p += strspn(p, " \n");
    }
    return r;
}

/*
 * Note the devices right below entry i, at its depth + 1: 0, -ENOENT
 * when its directory can't be opened, or -ENOMEM.
 */
static int lowers_of(struct xpci_host *host, struct xpci__net_below *b,
                     unsigned i)
{
    const char *name = b->names[i]; /* stays put as names grows */
    unsigned depth = b->depth[i] + 1u;
    char entry[64];
    DIR *dir;
    struct dirent *de;
    bool found = false;
    int r = 0;

    snprintf(entry, sizeof(entry), SYSFS_CLASS_NET "/%s", name);
    if (!(dir = xpci__sysfs_opendir(host, entry)))
        return -ENOENT;
    while (r == 0 && (de = readdir(dir))) {
        if (strncmp(de->d_name, "lower_", 6))
            continue;
        found = true;
        r = reach(b, de->d_name + 6, strlen(de->d_name + 6), depth, true);
    }
    closedir(dir);
    if (r == 0 && !found)
        r = brif_ports(host, b, name, depth);
    if (r == 0 && !found)
        r = bond_slaves(host, b, name, depth);
    return r;
}

int xpci__net_below(struct xpci_host *host, char *const *starts,
                    unsigned n_starts, unsigned n_required,
                    struct xpci__net_below *b)
{
    int r;

    memset(b, 0, sizeof(*b));
    for (unsigned i = 0; i < n_starts && !b->all; i++)
        if ((r = reach(b, starts[i], strlen(starts[i]), 0, false)) < 0)
            return r;
    /* breadth first: every device gets its least depth */
    for (unsigned i = 0; i < b->n && !b->all; i++) {
        if (b->depth[i] >= XPCI__NET_BELOW_DEPTH)
            continue;
        r = lowers_of(host, b, i);
        if (r == -ENOMEM)
            return r;
        /* a route or root on a device sysfs does not show: the walk up
         * from every interface is the only way to find what is below */
        if (r == -ENOENT && b->depth[i] == 0 &&
            xpci__strv_contains(starts, n_required, b->names[i]))
            b->all = true;
    }
    return 0;
}

bool xpci__net_is_below(const struct xpci__net_below *b, const char *name)
{
    if (b->all)
        return true;
    for (unsigned i = 0; i < b->n; i++)
        if (b->below[i] && !strcmp(b->names[i], name))
            return true;
    return false;
}

void xpci__net_below_free(struct xpci__net_below *b)
{
    xpci__strv_free(b->names, b->n);
    b->names = NULL;
    b->n = 0;
}
