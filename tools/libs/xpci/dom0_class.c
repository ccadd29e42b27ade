/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * dom0_class.c - small readers the dom0-use files share: which PCI
 * function a class entry lives on, opening a sysfs directory, and the
 * kernel command line.
 */
#include <fcntl.h>
#include <stdio.h>

#include "xpci-internal.h"

/* COMMAND_LINE_SIZE is 2048 on x86; leave room for other arches. */
#define CMDLINE_MAX 4096
#define PROC_CMDLINE "cmdline"

/* Lexically resolve link target relative to the directory of entry,
 * both sysfs-relative; NULL when it climbs out of the tree. */
static char *resolve_link(const char *entry, const char *target)
{
    size_t elen = strlen(entry), tlen = strlen(target);
    char *buf = malloc(elen + tlen + 2), *out, *comp, *save = NULL;
    size_t n = 0;

    if (!buf)
        return NULL;
    out = malloc(elen + tlen + 2);
    if (!out) {
        free(buf);
        return NULL;
    }
    memcpy(buf, entry, elen);
    while (elen && buf[elen - 1] != '/')
        elen--; /* dirname, with its slash */
    memcpy(buf + elen, target, tlen + 1);
    out[0] = '\0';
    for (comp = strtok_r(buf, "/", &save); comp;
         comp = strtok_r(NULL, "/", &save)) {
        if (!strcmp(comp, "."))
            continue;
        if (!strcmp(comp, "..")) {
            if (!n) {
                free(buf);
                free(out);
                return NULL;
            }
            while (n && out[n - 1] != '/')
                n--;
            if (n)
                n--;
            out[n] = '\0';
            continue;
        }
        if (n)
            out[n++] = '/';
        strcpy(out + n, comp);
        n += strlen(comp);
    }
    free(buf);
    return out;
}

/* The owner of entry, a link whose target is target; path_r (may be
 * NULL) gets the sysfs-relative path the link resolves to. */
static ssize_t owner_of_link(struct xpci_host *host, const char *entry,
                             const char *target, char **path_r)
{
    _cleanup_free_ char *path = NULL;
    ssize_t owner;

    if (target[0] == '/' || !(path = resolve_link(entry, target)) ||
        strncmp(path, "devices/pci", 11))
        return -1;
    owner = xpci__host_owner_of(host, path);
    if (owner >= 0 && path_r)
        *path_r = TAKE_PTR(path);
    return owner;
}

ssize_t xpci__class_owner(struct xpci_host *host, const char *entry)
{
    _cleanup_free_ char *target = NULL;

    if (xpci__readlink(host->ctx->sysfs_fd, entry, &target) < 0)
        return -1;
    return owner_of_link(host, entry, target, NULL);
}

ssize_t xpci__class_owner_at(struct xpci_host *host, int dirfd,
                             const char *dir, const char *name,
                             char **path_r)
{
    char target[4096], entry[512];
    ssize_t r;

    if (strchr(name, '/') ||
        (size_t)snprintf(entry, sizeof(entry), "%s/%s", dir, name) >=
            sizeof(entry))
        return -1;
    r = readlinkat(dirfd, name, target, sizeof(target) - 1);
    if (r < 0)
        return -1;
    target[r] = '\0';
    return owner_of_link(host, entry, target, path_r);
}

DIR *xpci__sysfs_opendir_beneath(struct xpci_host *host, const char *path)
{
    int fd = xpci__open_beneath(host->ctx->sysfs_fd, path,
                                O_RDONLY | O_DIRECTORY, 0);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);

    if (fd >= 0 && !dir)
        close(fd);
    return dir;
}

DIR *xpci__sysfs_opendir(struct xpci_host *host, const char *path)
{
    int fd = openat(host->ctx->sysfs_fd, path,
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);

    if (fd >= 0 && !dir)
        close(fd);
    return dir;
}

char *xpci__cmdline(xpci_ctx *ctx)
{
    char *buf;

    if (ctx->proc_fd < 0 || !(buf = malloc(CMDLINE_MAX)))
        return NULL;
    if (xpci__read_attr(ctx->proc_fd, PROC_CMDLINE, buf, CMDLINE_MAX) < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/*
 * Kernel parameters are blank-separated; a value may be double-quoted
 * (lib/cmdline.c next_arg).  Module parameters match with '-' and '_'
 * alike (kernel/params.c parameq).
 */
static bool param_eq(const char *a, size_t alen, const char *b)
{
    size_t i;

    for (i = 0; i < alen && b[i]; i++) {
        char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

        if (x != y)
            return false;
    }
    return i == alen && !b[i];
}

char *xpci__cmdline_param(const char *cmdline, const char *name)
{
    const char *p = cmdline;
    char *found = NULL;

    while (p && *p) {
        const char *start, *eq = NULL, *end;
        bool quoted = false;

        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        start = p;
        for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'));
             p++) {
            if (*p == '"')
                quoted = !quoted;
            else if (*p == '=' && !eq && !quoted)
                eq = p;
        }
        end = p;
        if (!param_eq(start, (size_t)((eq ? eq : end) - start), name))
            continue;
        /* the last occurrence wins, as for the kernel's own handlers */
        free(found);
        if (!eq)
            found = strdup("");
        else if (eq[1] == '"' && end > eq + 2 && end[-1] == '"')
            found = strndup(eq + 2, (size_t)(end - eq - 3));
        else
            found = strndup(eq + 1, (size_t)(end - eq - 1));
        if (!found)
            return NULL;
    }
    return found;
}
