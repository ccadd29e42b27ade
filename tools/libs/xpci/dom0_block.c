/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * dom0_block.c - which of a function's disks dom0 lives on: what is
 * mounted or swapped on them (the mounts come from dom0_mounts.c) and
 * everything stacked above a disk (partitions, device-mapper, md, loop
 * devices whose backing file lives on it, bcache devices cached on it),
 * including NVMe namespaces reached through a multipath subsystem.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "xpci-internal.h"

#define SYSFS_CLASS_BLOCK "class/block"
#define SYSFS_BCACHE "fs/bcache"
#define NVME_SUBSYS_DIR "devices/virtual/nvme-subsystem/"
/* Holders nest (partition -> dm-crypt -> LVM -> loop -> ...); a hostile
 * tree could fan out at every level, so the walk has a budget too. */
#define MAX_HOLDER_DEPTH 8
#define MAX_HOLDER_VISITS 1024
#define MAX_NAME 255

static int add_stacking(struct xpci_host *host, const char *lower,
                        const char *upper)
{
    struct xpci__stacking *ns;

    for (size_t i = 0; i < host->n_stackings; i++)
        if (!strcmp(host->stackings[i].lower, lower) &&
            !strcmp(host->stackings[i].upper, upper))
            return 0;
    ns = realloc(host->stackings, (host->n_stackings + 1) * sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    host->stackings = ns;
    ns[host->n_stackings].lower = strdup(lower);
    ns[host->n_stackings].upper = strdup(upper);
    if (!ns[host->n_stackings].lower || !ns[host->n_stackings].upper) {
        free(ns[host->n_stackings].lower);
        free(ns[host->n_stackings].upper);
        return -ENOMEM;
    }
    host->n_stackings++;
    return 0;
}

/*
 * What no holders/ link records: a loop device is used by whatever holds
 * its backing file (drivers/block/loop.c, loop/backing_file), and every
 * virtual device is used by its slaves/ (md, dm, bcache), in case a
 * holders/ link is missing.
 */
static int find_stackings(struct xpci_host *host)
{
    DIR *dir = xpci__sysfs_opendir(host, SYSFS_CLASS_BLOCK);
    struct dirent *de;
    int r = 0;

    if (!dir)
        return 0;
    while (r == 0 && (de = readdir(dir))) {
        char entry[512], file[4096];
        DIR *slaves;
        struct dirent *s;
        ssize_t m;

        if (de->d_name[0] == '.' || strlen(de->d_name) > MAX_NAME)
            continue;
        snprintf(entry, sizeof(entry), SYSFS_CLASS_BLOCK "/%s/slaves",
                 de->d_name);
        if ((slaves = xpci__sysfs_opendir(host, entry))) {
            while (r == 0 && (s = readdir(slaves)))
                if (s->d_name[0] != '.')
                    r = add_stacking(host, s->d_name, de->d_name);
            closedir(slaves);
        }
        snprintf(entry, sizeof(entry),
                 SYSFS_CLASS_BLOCK "/%s/loop/backing_file", de->d_name);
        if (r < 0 || xpci__read_attr(host->ctx->sysfs_fd, entry, file,
                                     sizeof(file)) <= 0 ||
            file[0] != '/')
            continue;
        if ((m = xpci__mount_of_path(host, file, -1)) < 0)
            continue;
        for (unsigned k = 0; k < host->mounts[m].n_on && r == 0; k++)
            r = add_stacking(host, host->mounts[m].on[k], de->d_name);
    }
    closedir(dir);
    return r;
}

/* The block device a link to "<dev>/bcache" is about, or NULL. */
static char *bcache_member(struct xpci_host *host, const char *entry)
{
    _cleanup_free_ char *target = NULL;
    char *slash;

    if (xpci__readlink(host->ctx->sysfs_fd, entry, &target) < 0)
        return NULL;
    slash = strrchr(target, '/');
    if (!slash || strcmp(slash, "/bcache"))
        return NULL;
    *slash = '\0';
    slash = strrchr(target, '/');
    return strdup(slash ? slash + 1 : target);
}

/*
 * A bcache cache device holds dirty data of every backing device of its
 * cache set (drivers/md/bcache/super.c: /sys/fs/bcache/<set>/cacheN and
 * bdevN link to their bcache/ directories): whatever uses a backing
 * device uses the cache device too.
 */
static int find_bcache(struct xpci_host *host)
{
    DIR *dir = xpci__sysfs_opendir(host, SYSFS_BCACHE);
    struct dirent *de;
    int r = 0;

    if (!dir)
        return 0;
    while (r == 0 && (de = readdir(dir))) {
        char entry[512];
        _cleanup_strv_ char **caches = NULL, **bdevs = NULL;
        unsigned nc = 0, nb = 0;
        DIR *set;
        struct dirent *e;

        if (de->d_name[0] == '.' || strlen(de->d_name) > MAX_NAME)
            continue;
        snprintf(entry, sizeof(entry), SYSFS_BCACHE "/%s", de->d_name);
        if (!(set = xpci__sysfs_opendir(host, entry)))
            continue;
        while (r == 0 && (e = readdir(set))) {
            bool cache = !strncmp(e->d_name, "cache", 5);
            _cleanup_free_ char *name = NULL;

            if (!cache && strncmp(e->d_name, "bdev", 4))
                continue;
            snprintf(entry, sizeof(entry), SYSFS_BCACHE "/%s/%s", de->d_name,
                     e->d_name);
            if (!(name = bcache_member(host, entry)))
                continue;
            r = cache ? xpci__strv_push(&caches, &nc, name)
                      : xpci__strv_push(&bdevs, &nb, name);
        }
        closedir(set);
        for (unsigned i = 0; i < nc && r == 0; i++)
            for (unsigned k = 0; k < nb && r == 0; k++)
                r = add_stacking(host, caches[i], bdevs[k]);
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

static bool mount_is_on(const struct xpci__mount *m, const char *name,
                        bool have_num, unsigned maj, unsigned min)
{
    if (m->major && have_num)
        return m->major == maj && m->minor == min;
    return xpci__strv_contains(m->on, m->n_on, name);
}

static int add_use(struct xpci__blockdev *bd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_use(struct xpci__blockdev *bd, const char *fmt, ...)
{
    va_list ap;
    char *use;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&use, fmt, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    r = xpci__strv_contains(bd->users, bd->n_users, use)
            ? 0
            : xpci__strv_push(&bd->users, &bd->n_users, use);
    free(use);
    return r;
}

/* Record who uses block device name, directly or through what is
 * stacked on it. */
static int find_block_users(struct xpci_host *host, struct xpci__blockdev *bd,
                            const char *name, int depth, unsigned *budget)
{
    unsigned maj = 0, min = 0;
    bool have_num;
    char entry[512];
    DIR *dir;
    struct dirent *de;
    int r = 0;

    if (depth > MAX_HOLDER_DEPTH || !*budget) {
        bd->incomplete = true;
        return 0;
    }
    if (strlen(name) > MAX_NAME)
        return 0;
    (*budget)--;
    have_num = block_devnum(host, name, &maj, &min) == 0;
    for (size_t i = 0; i < host->n_mounts; i++) {
        const struct xpci__mount *m = &host->mounts[i];

        if (m->pseudo || !mount_is_on(m, name, have_num, maj, min))
            continue;
        if (!strcmp(m->mountpoint, "/"))
            bd->root = true;
        r = m->major ? add_use(bd, "%s on %s", name, m->mountpoint)
                     : add_use(bd, "%s on %s (%s)", name, m->mountpoint,
                               m->fstype);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < host->n_swap_files; i++) {
        ssize_t mi = host->swap_files[i].mount;

        if (mi >= 0 && !host->mounts[mi].pseudo &&
            mount_is_on(&host->mounts[mi], name, have_num, maj, min) &&
            (r = add_use(bd, "%s holds swap file %s", name,
                         host->swap_files[i].path)) < 0)
            return r;
    }
    if (xpci__strv_contains(host->swaps, host->n_swaps, name) &&
        (r = add_use(bd, "%s as swap", name)) < 0)
        return r;
    for (size_t i = 0; i < host->n_stackings; i++)
        if (!strcmp(host->stackings[i].lower, name) &&
            (r = find_block_users(host, bd, host->stackings[i].upper,
                                  depth + 1, budget)) < 0)
            return r;
    snprintf(entry, sizeof(entry), SYSFS_CLASS_BLOCK "/%s/holders", name);
    if (!(dir = xpci__sysfs_opendir(host, entry)))
        return 0;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.')
            continue;
        r = find_block_users(host, bd, de->d_name, depth + 1, budget);
        if (r < 0)
            break;
    }
    closedir(dir);
    return r;
}

static int add_blockdev(struct xpci_host *host, const char *name,
                        size_t owner)
{
    struct xpci__blockdev *bd;
    struct xpci_device *dev = &host->devs[owner];
    unsigned budget = MAX_HOLDER_VISITS;
    int r;

    if (xpci__strv_contains(dev->blockdevs, dev->n_blockdevs, name))
        return 0;
    bd = realloc(host->blockdevs, (host->n_blockdevs + 1) * sizeof(*bd));
    if (!bd)
        return -ENOMEM;
    host->blockdevs = bd;
    bd = &bd[host->n_blockdevs];
    memset(bd, 0, sizeof(*bd));
    if (!(bd->name = strdup(name)))
        return -ENOMEM;
    host->n_blockdevs++;
    bd->dev = owner;
    if ((r = find_block_users(host, bd, name, 0, &budget)) < 0)
        return r;
    return xpci__strv_push(&dev->blockdevs, &dev->n_blockdevs, name);
}

/*
 * A brief comment about NVMe multipath.  With native multipath (the
 * default since Linux 4.15) and a controller reporting multi-controller
 * capability, each namespace is one head disk "nvme<S>n<N>" under
 * devices/virtual/nvme-subsystem/nvme-subsys<S>/, and each controller C
 * that reaches it keeps only a hidden path node "nvme<S>c<C>n<N>" (no
 * dev number) under the PCI function (drivers/nvme/host/multipath.c,
 * nvme_mpath_set_disk_name).  Linux 6.15 adds <head>/multipath/ links to
 * the path nodes.  The subsystem links to each of its controllers
 * ("nvme-subsys<S>/nvme<C>").  A namespace is in use through every
 * controller with a path to it.
 */
static int nvme_head_owners(struct xpci_host *host, const char *target,
                            size_t **owners_r, size_t *n_r)
{
    const char *p = strstr(target, NVME_SUBSYS_DIR);
    const char *q, *slash;
    char subsys[512], entry[1024];
    unsigned s, s2, nsid;
    DIR *dir;
    struct dirent *de;
    size_t *owners = NULL, n = 0;
    bool any_path = false;

    *owners_r = NULL;
    *n_r = 0;
    if (!p)
        return 0;
    /* "devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1[/nvme1n1p2]" */
    q = p + strlen(NVME_SUBSYS_DIR);
    slash = strchr(q, '/');
    if (!slash || sscanf(q, "nvme-subsys%u/nvme%un%u", &s, &s2, &nsid) != 3 ||
        s != s2 || slash - p >= (ptrdiff_t)sizeof(subsys))
        return 0;
    snprintf(subsys, sizeof(subsys), "%.*s", (int)(slash - p), p);
    if (!(dir = xpci__sysfs_opendir(host, subsys)))
        return 0;
    /* two passes: controllers with a path node, else all of them */
    for (int pass = 0; pass < 2 && !n; pass++) {
        rewinddir(dir);
        while ((de = readdir(dir))) {
            unsigned c;
            char tail;
            ssize_t owner;
            size_t *no;

            if (sscanf(de->d_name, "nvme%u%c", &c, &tail) != 1)
                continue;
            snprintf(entry, sizeof(entry), "%s/%s/nvme%uc%un%u", subsys,
                     de->d_name, s, c, nsid);
            if (pass == 0 && faccessat(host->ctx->sysfs_fd, entry, F_OK, 0))
                continue;
            any_path = true;
            snprintf(entry, sizeof(entry), "%s/%s", subsys, de->d_name);
            if ((owner = xpci__class_owner(host, entry)) < 0)
                continue;
            if (!(no = realloc(owners, (n + 1) * sizeof(*no)))) {
                closedir(dir);
                free(owners);
                return -ENOMEM;
            }
            owners = no;
            owners[n++] = (size_t)owner;
        }
        if (any_path)
            break;
    }
    closedir(dir);
    *owners_r = owners;
    *n_r = n;
    return 0;
}

/* Linux 6.15+: <head>/multipath/<path node> links. */
static int nvme_multipath_links(struct xpci_host *host, const char *target,
                                size_t **owners_r, size_t *n_r)
{
    const char *p = strstr(target, NVME_SUBSYS_DIR);
    char dir_path[1024];
    const char *slash;
    DIR *dir;
    struct dirent *de;
    int r = 0;

    if (!p)
        return 0;
    /* the head disk's directory: nvme-subsys<S>/<head> */
    slash = strchr(p + strlen(NVME_SUBSYS_DIR), '/');
    if (!slash || !(slash = strchr(slash + 1, '/')))
        slash = p + strlen(p);
    snprintf(dir_path, sizeof(dir_path), "%.*s/multipath", (int)(slash - p),
             p);
    if (!(dir = xpci__sysfs_opendir(host, dir_path)))
        return 0;
    while ((de = readdir(dir))) {
        char entry[1280];
        ssize_t owner;
        size_t *no;

        if (de->d_name[0] == '.')
            continue;
        snprintf(entry, sizeof(entry), "%s/%s", dir_path, de->d_name);
        if ((owner = xpci__class_owner(host, entry)) < 0)
            continue;
        if (!(no = realloc(*owners_r, (*n_r + 1) * sizeof(*no)))) {
            r = -ENOMEM;
            break;
        }
        *owners_r = no;
        no[(*n_r)++] = (size_t)owner;
    }
    closedir(dir);
    return r;
}

static int scan_blockdevs(struct xpci_host *host)
{
    DIR *dir;
    struct dirent *de;
    int r = 0;

    if (!(dir = xpci__sysfs_opendir(host, SYSFS_CLASS_BLOCK)))
        return 0;
    while (r == 0 && (de = readdir(dir))) {
        char entry[512];
        _cleanup_free_ char *target = NULL;
        _cleanup_free_ size_t *owners = NULL;
        size_t n = 0;
        ssize_t owner;

        if (de->d_name[0] == '.' || strlen(de->d_name) > MAX_NAME)
            continue;
        snprintf(entry, sizeof(entry), SYSFS_CLASS_BLOCK "/%s", de->d_name);
        if (xpci__readlink(host->ctx->sysfs_fd, entry, &target) < 0)
            continue;
        if (strstr(target, "devices/pci")) {
            owner = xpci__class_owner(host, entry);
            if (owner >= 0)
                r = add_blockdev(host, de->d_name, (size_t)owner);
            continue;
        }
        r = nvme_multipath_links(host, target, &owners, &n);
        if (r == 0 && !n)
            r = nvme_head_owners(host, target, &owners, &n);
        for (size_t k = 0; k < n && r == 0; k++)
            r = add_blockdev(host, de->d_name, owners[k]);
    }
    closedir(dir);
    return r;
}

int xpci__dom0_block_scan(struct xpci_host *host)
{
    int r;

    if (host->proc_known) {
        if ((r = xpci__dom0_mounts_scan(host)) < 0 ||
            (r = find_stackings(host)) < 0 || (r = find_bcache(host)) < 0)
            return r;
    }
    return scan_blockdevs(host);
}

void xpci__dom0_block_free(struct xpci_host *host)
{
    xpci__dom0_mounts_free(host);
    for (size_t i = 0; i < host->n_stackings; i++) {
        free(host->stackings[i].lower);
        free(host->stackings[i].upper);
    }
    free(host->stackings);
    for (size_t i = 0; i < host->n_blockdevs; i++) {
        free(host->blockdevs[i].name);
        xpci__strv_free(host->blockdevs[i].users, host->blockdevs[i].n_users);
    }
    free(host->blockdevs);
}
