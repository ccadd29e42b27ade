/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * dom0_mounts.c - dom0's mounts and swap, and the block devices each
 * mount lives on: the one its device number names, or, for an anonymous
 * device number (btrfs, bcachefs, overlay: 0:NN in mountinfo), those its
 * source, btrfs membership (/sys/fs/btrfs/<fsid>/devices) or overlay
 * layers name.  Pseudo and network filesystems lie on no disk.  A mount
 * whose devices cannot be found is listed in host->unattributed.
 */
#include <fcntl.h>
#include <stdio.h>

#include "xpci-internal.h"

#define SYSFS_CLASS_BLOCK "class/block"
#define SYSFS_DEV_BLOCK "dev/block"
#define SYSFS_BTRFS "fs/btrfs"
#define PROC_MOUNTINFO "self/mountinfo"
#define PROC_SWAPS "swaps"
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
    "virtiofs", "ipathfs", "smackfs", "sockfs", "pipefs", "anon_inodefs",
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

ssize_t xpci__mount_of_path(const struct xpci_host *host, const char *path,
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
            j = xpci__mount_of_path(host, dir, (ssize_t)i);
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
            xpci__mount_of_path(host, host->swap_files[i].path, -1);
    return 0;
}

int xpci__dom0_mounts_scan(struct xpci_host *host)
{
    int r = read_mounts(host);

    if (r == -ENOMEM)
        return r;
    if (r < 0)
        host->proc_known = false;
    if (read_swaps(host) == -ENOMEM)
        return -ENOMEM;
    return trace_mounts(host);
}

void xpci__dom0_mounts_free(struct xpci_host *host)
{
    for (size_t i = 0; i < host->n_mounts; i++)
        mount_dispose(&host->mounts[i]);
    free(host->mounts);
    xpci__strv_free(host->swaps, host->n_swaps);
    for (size_t i = 0; i < host->n_swap_files; i++)
        free(host->swap_files[i].path);
    free(host->swap_files);
    xpci__strv_free(host->unattributed, host->n_unattributed);
}
