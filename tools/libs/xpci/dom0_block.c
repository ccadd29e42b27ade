/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * dom0_block.c - which of a function's disks dom0 lives on: mounted
 * filesystems (also those with an anonymous device number: btrfs,
 * bcachefs, overlay), swap partitions and files, and everything stacked
 * above a disk (partitions, device-mapper, md, loop devices whose backing
 * file lives on it, bcache devices cached on it), including NVMe
 * namespaces reached through a multipath subsystem.  A mount whose
 * devices cannot be found is listed in host->unattributed, so the check
 * can say "unknown".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>

#include "xpci-internal.h"

#define SYSFS_CLASS_BLOCK "class/block"
#define SYSFS_DEV_BLOCK "dev/block"
#define SYSFS_BTRFS "fs/btrfs"
#define SYSFS_BCACHE "fs/bcache"
#define NVME_SUBSYS_DIR "devices/virtual/nvme-subsystem/"
#define PROC_MOUNTINFO "self/mountinfo"
#define PROC_SWAPS "swaps"
/* Holders nest (partition -> dm-crypt -> LVM -> loop -> ...). */
#define MAX_HOLDER_DEPTH 8
/* Bounds on what a hostile tree can make us hold. */
#define MAX_MOUNTS 65536
#define MAX_OVERLAY_PASSES 4
#define MAX_NAME 255

/* Filesystems on no device of this host.  Anything else with an
 * anonymous device number must be traced through its source. */
static const char *const pseudo_fs[] = {
    "proc", "sysfs", "tmpfs", "devtmpfs", "devpts", "cgroup", "cgroup2",
    "mqueue", "debugfs", "tracefs", "securityfs", "pstore", "bpf",
    "hugetlbfs", "configfs", "fusectl", "autofs", "binfmt_misc", "efivarfs",
    "rpc_pipefs", "nsfs", "ramfs", "selinuxfs", "xenfs", "nfsd", "rootfs",
    "virtiofs", "squashfs_pseudo", "zonefs_pseudo", "ipathfs", "smackfs",
};
static const char *const network_fs[] = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "9p", "glusterfs",
    "afs", "lustre", "ocfs2_dlmfs",
};

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], s))
            return true;
    return false;
}

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

static void mount_dispose(struct xpci__mount *m)
{
    free(m->mountpoint);
    free(m->fstype);
    free(m->source);
    free(m->super_opts);
    xpci__strv_free(m->on, m->n_on);
}

/* "36 25 0:31 /@ / rw,relatime shared:1 - btrfs /dev/nvme0n1p2 rw,..." */
static int parse_mount_line(char *line, struct xpci__mount *m)
{
    char *f[16], *save = NULL, *tok;
    unsigned n = 0, sep = 0;

    for (tok = strtok_r(line, " ", &save); tok && n < ARRAY_SIZE(f);
         tok = strtok_r(NULL, " ", &save)) {
        if (!sep && n >= 6 && !strcmp(tok, "-"))
            sep = n;
        f[n++] = tok;
    }
    if (!sep || n < sep + 3 ||
        sscanf(f[2], "%u:%u", &m->major, &m->minor) != 2)
        return -EINVAL;
    unescape_octal(f[4]);
    unescape_octal(f[sep + 2]);
    m->mountpoint = strdup(f[4]);
    m->fstype = strdup(f[sep + 1]);
    m->source = strdup(f[sep + 2]);
    m->super_opts = strdup(n > sep + 3 ? f[sep + 3] : "");
    if (!m->mountpoint || !m->fstype || !m->source || !m->super_opts)
        return -ENOMEM;
    return 0;
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
        struct xpci__mount m = {0}, *nm;

        if (host->n_mounts >= MAX_MOUNTS)
            return -E2BIG;
        r = parse_mount_line(line, &m);
        if (r < 0) {
            mount_dispose(&m);
            if (r == -ENOMEM)
                return -ENOMEM;
            continue;
        }
        nm = realloc(host->mounts, (host->n_mounts + 1) * sizeof(*nm));
        if (!nm) {
            mount_dispose(&m);
            return -ENOMEM;
        }
        host->mounts = nm;
        nm[host->n_mounts++] = m;
    }
    return 0;
}

/* /proc/swaps: "Filename Type Size Used Priority" (mm/swapfile.c). */
static int read_swaps(struct xpci_host *host)
{
    _cleanup_free_ char *buf = NULL;
    char *line, *save = NULL;
    ssize_t r = xpci__read_file(host->ctx->proc_fd, PROC_SWAPS, &buf);

    if (r < 0)
        return r == -ENOENT ? 0 : (int)r;
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char path[4096], type[32];
        struct xpci__swapfile *nf;

        if (sscanf(line, "%4095s %31s", path, type) != 2 || path[0] != '/')
            continue;
        unescape_octal(path);
        if (!strcmp(type, "partition")) {
            if (strncmp(path, "/dev/", 5))
                continue;
            r = xpci__strv_push(&host->swaps, &host->n_swaps,
                                strrchr(path, '/') + 1);
            if (r < 0)
                return (int)r;
            continue;
        }
        nf = realloc(host->swap_files,
                     (host->n_swap_files + 1) * sizeof(*nf));
        if (!nf)
            return -ENOMEM;
        host->swap_files = nf;
        nf[host->n_swap_files].mount = -1;
        if (!(nf[host->n_swap_files].path = strdup(path)))
            return -ENOMEM;
        host->n_swap_files++;
    }
    return 0;
}

static bool block_exists(struct xpci_host *host, const char *name)
{
    char entry[512];

    if (!*name || strlen(name) > MAX_NAME || strchr(name, '/') ||
        name[0] == '.')
        return false;
    snprintf(entry, sizeof(entry), SYSFS_CLASS_BLOCK "/%s", name);
    return faccessat(host->ctx->sysfs_fd, entry, F_OK, AT_SYMLINK_NOFOLLOW) ==
           0;
}

/* dm-N whose dm/name is name (a /dev/mapper/<name> source), or NULL. */
static char *dm_by_name(struct xpci_host *host, const char *name)
{
    DIR *dir = xpci__sysfs_opendir(host, SYSFS_CLASS_BLOCK);
    struct dirent *de;
    char *found = NULL;

    if (!dir)
        return NULL;
    while (!found && (de = readdir(dir))) {
        char entry[512], buf[256];

        if (strncmp(de->d_name, "dm-", 3))
            continue;
        snprintf(entry, sizeof(entry), SYSFS_CLASS_BLOCK "/%s/dm/name",
                 de->d_name);
        if (xpci__read_attr(host->ctx->sysfs_fd, entry, buf, sizeof(buf)) >
                0 &&
            !strcmp(buf, name))
            found = strdup(de->d_name);
    }
    closedir(dir);
    return found;
}

/* The block device a "/dev/..." path names, or NULL (by-uuid links and
 * the like cannot be followed in a captured tree). */
static char *resolve_dev_path(struct xpci_host *host, const char *path)
{
    if (strncmp(path, "/dev/", 5))
        return NULL;
    path += 5;
    if (!strncmp(path, "mapper/", 7))
        return dm_by_name(host, path + 7);
    return block_exists(host, path) ? strdup(path) : NULL;
}

static int mount_on(struct xpci__mount *m, const char *name)
{
    if (xpci__strv_contains(m->on, m->n_on, name))
        return 0;
    return xpci__strv_push(&m->on, &m->n_on, name);
}

/* Every member of the btrfs filesystem that has member. */
static int btrfs_members(struct xpci_host *host, struct xpci__mount *m,
                         const char *member)
{
    DIR *dir = xpci__sysfs_opendir(host, SYSFS_BTRFS);
    struct dirent *de;
    int r = 0;

    if (!dir)
        return 0;
    while (r == 0 && (de = readdir(dir))) {
        char entry[512];
        DIR *devs;
        struct dirent *d;

        if (de->d_name[0] == '.')
            continue;
        snprintf(entry, sizeof(entry), SYSFS_BTRFS "/%s/devices/%s",
                 de->d_name, member);
        if (faccessat(host->ctx->sysfs_fd, entry, F_OK, AT_SYMLINK_NOFOLLOW))
            continue;
        snprintf(entry, sizeof(entry), SYSFS_BTRFS "/%s/devices", de->d_name);
        if (!(devs = xpci__sysfs_opendir(host, entry)))
            continue;
        while (r == 0 && (d = readdir(devs)))
            if (d->d_name[0] != '.' && block_exists(host, d->d_name))
                r = mount_on(m, d->d_name);
        closedir(devs);
    }
    closedir(dir);
    return r;
}

/* The mount whose mountpoint is the longest prefix of path, or -1. */
static ssize_t mount_of_path(const struct xpci_host *host, const char *path,
                             ssize_t except)
{
    ssize_t best = -1;
    size_t best_len = 0;

    for (size_t i = 0; i < host->n_mounts; i++) {
        const char *mp = host->mounts[i].mountpoint;
        size_t len = strlen(mp);

        if ((ssize_t)i == except || strncmp(path, mp, len) ||
            (len > 1 && path[len] && path[len] != '/'))
            continue;
        /* the later of two mounts on one point hides the earlier */
        if (best < 0 || len >= best_len) {
            best = (ssize_t)i;
            best_len = len;
        }
    }
    return best;
}

/* The device names of mount i ("" when it is on none). */
static int copy_on(struct xpci__mount *to, const struct xpci__mount *from)
{
    int r = 0;

    for (unsigned k = 0; k < from->n_on && r == 0; k++)
        r = mount_on(to, from->on[k]);
    return r;
}

/* overlay: lowerdir=a:b,upperdir=c,workdir=d; it lives where its layers
 * do.  Returns 1 when every layer was traced, 0 when not yet. */
static int trace_overlay(struct xpci_host *host, size_t i)
{
    struct xpci__mount *m = &host->mounts[i];
    _cleanup_free_ char *opts = strdup(m->super_opts);
    char *opt, *save = NULL;
    bool all = true;
    int r;

    if (!opts)
        return -ENOMEM;
    for (opt = strtok_r(opts, ",", &save); opt;
         opt = strtok_r(NULL, ",", &save)) {
        char *dirs, *dir, *dsave = NULL;

        if (!strncmp(opt, "lowerdir=", 9))
            dirs = opt + 9;
        else if (!strncmp(opt, "upperdir=", 9))
            dirs = opt + 9;
        else if (!strncmp(opt, "workdir=", 8))
            dirs = opt + 8;
        else
            continue;
        for (dir = strtok_r(dirs, ":", &dsave); dir;
             dir = strtok_r(NULL, ":", &dsave)) {
            ssize_t j;

            unescape_octal(dir);
            j = mount_of_path(host, dir, (ssize_t)i);
            if (j < 0 || !host->mounts[j].attributed) {
                all = false;
                continue;
            }
            if ((r = copy_on(m, &host->mounts[j])) < 0)
                return r;
        }
    }
    return all;
}

/* Find the devices behind mount i; sets attributed when all are known. */
static int trace_mount(struct xpci_host *host, size_t i)
{
    struct xpci__mount *m = &host->mounts[i];
    char entry[64];
    _cleanup_free_ char *target = NULL, *src = NULL;
    char *part, *save = NULL;
    int r;

    if (m->major != 0) {
        /* a real device number: dev/block/M:N names it */
        snprintf(entry, sizeof(entry), SYSFS_DEV_BLOCK "/%u:%u", m->major,
                 m->minor);
        if (xpci__readlink_base(host->ctx->sysfs_fd, entry, &target) == 0 &&
            (r = mount_on(m, target)) < 0)
            return r;
        m->attributed = true;
        return 0;
    }
    if (in_list(pseudo_fs, ARRAY_SIZE(pseudo_fs), m->fstype) ||
        !strncmp(m->fstype, "fuse", 4)) {
        /* FUSE daemons keep their data in other mounts, listed too. */
        m->pseudo = m->attributed = true;
        return 0;
    }
    if (in_list(network_fs, ARRAY_SIZE(network_fs), m->fstype)) {
        m->pseudo = m->network = m->attributed = true;
        return 0;
    }
    if (!strcmp(m->fstype, "overlay"))
        return 0; /* after the others: trace_overlay */
    /* btrfs, bcachefs ("/dev/a:/dev/b"), or anything with a /dev source */
    if (!(src = strdup(m->source)))
        return -ENOMEM;
    m->attributed = true;
    for (part = strtok_r(src, ":", &save); part;
         part = strtok_r(NULL, ":", &save)) {
        _cleanup_free_ char *name = resolve_dev_path(host, part);

        if (!name) {
            m->attributed = false;
            continue;
        }
        if ((r = mount_on(m, name)) < 0)
            return r;
        if (!strcmp(m->fstype, "btrfs") &&
            (r = btrfs_members(host, m, name)) < 0)
            return r;
    }
    return 0;
}

static int trace_mounts(struct xpci_host *host)
{
    int r;

    for (size_t i = 0; i < host->n_mounts; i++)
        if ((r = trace_mount(host, i)) < 0)
            return r;
    /* overlays on overlays: a few passes settle them */
    for (int pass = 0; pass < MAX_OVERLAY_PASSES; pass++) {
        bool changed = false;

        for (size_t i = 0; i < host->n_mounts; i++) {
            struct xpci__mount *m = &host->mounts[i];

            if (m->attributed || strcmp(m->fstype, "overlay"))
                continue;
            if ((r = trace_overlay(host, i)) < 0)
                return r;
            if (r > 0)
                m->attributed = changed = true;
        }
        if (!changed)
            break;
    }
    for (size_t i = 0; i < host->n_mounts; i++) {
        const struct xpci__mount *m = &host->mounts[i];
        _cleanup_free_ char *what = NULL;

        if (m->attributed)
            continue;
        what = xpci__sprintf("%s (%s %s)", m->mountpoint, m->fstype,
                             m->source);
        if (!what ||
            xpci__strv_push(&host->unattributed, &host->n_unattributed,
                            what) < 0)
            return -ENOMEM;
    }
    for (size_t i = 0; i < host->n_swap_files; i++)
        host->swap_files[i].mount =
            mount_of_path(host, host->swap_files[i].path, -1);
    return 0;
}

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
        if ((m = mount_of_path(host, file, -1)) < 0)
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
                            const char *name, int depth)
{
    unsigned maj = 0, min = 0;
    bool have_num;
    char entry[512];
    DIR *dir;
    struct dirent *de;
    int r = 0;

    if (depth > MAX_HOLDER_DEPTH || strlen(name) > MAX_NAME)
        return 0;
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
                                  depth + 1)) < 0)
            return r;
    snprintf(entry, sizeof(entry), SYSFS_CLASS_BLOCK "/%s/holders", name);
    if (!(dir = xpci__sysfs_opendir(host, entry)))
        return 0;
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

static int add_blockdev(struct xpci_host *host, const char *name,
                        size_t owner)
{
    struct xpci__blockdev *bd;
    struct xpci_device *dev = &host->devs[owner];
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
    if ((r = find_block_users(host, bd, name, 0)) < 0)
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
        r = read_mounts(host);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            host->proc_known = false;
        if (read_swaps(host) == -ENOMEM)
            return -ENOMEM;
        if ((r = trace_mounts(host)) < 0 || (r = find_stackings(host)) < 0 ||
            (r = find_bcache(host)) < 0)
            return r;
    }
    return scan_blockdevs(host);
}

void xpci__dom0_block_free(struct xpci_host *host)
{
    for (size_t i = 0; i < host->n_mounts; i++)
        mount_dispose(&host->mounts[i]);
    free(host->mounts);
    xpci__strv_free(host->swaps, host->n_swaps);
    for (size_t i = 0; i < host->n_swap_files; i++)
        free(host->swap_files[i].path);
    free(host->swap_files);
    for (size_t i = 0; i < host->n_stackings; i++) {
        free(host->stackings[i].lower);
        free(host->stackings[i].upper);
    }
    free(host->stackings);
    xpci__strv_free(host->unattributed, host->n_unattributed);
    for (size_t i = 0; i < host->n_blockdevs; i++) {
        free(host->blockdevs[i].name);
        xpci__strv_free(host->blockdevs[i].users, host->blockdevs[i].n_users);
    }
    free(host->blockdevs);
}
