/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * dom0.c - what dom0 itself uses, and on which PCI function it lives: the
 * block side (dom0_block.c), the network side (dom0_net.c), framebuffers
 * and serial consoles (here).  Everything is found from the class
 * directories once per scan, not by walking each device's subtree.
 */
#include <stdio.h>

#include "xpci-internal.h"

#define SYSFS_CLASS_GRAPHICS "class/graphics"
#define SYSFS_CONSOLE_ACTIVE "class/tty/console/active"

static void scan_framebuffers(struct xpci_host *host)
{
    DIR *dir;
    struct dirent *de;

    if (!(dir = xpci__sysfs_opendir(host, SYSFS_CLASS_GRAPHICS)))
        return;
    while ((de = readdir(dir))) {
        char entry[512];
        ssize_t owner;

        if (strncmp(de->d_name, "fb", 2) || strlen(de->d_name) > 64)
            continue;
        snprintf(entry, sizeof(entry), SYSFS_CLASS_GRAPHICS "/%s",
                 de->d_name);
        owner = xpci__class_owner(host, entry);
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
        if (strchr(name, '/') || name[0] == '.')
            continue;
        snprintf(entry, sizeof(entry), "class/tty/%s", name);
        owner = xpci__class_owner(host, entry);
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
    /* the network side reads the mounts the block side parsed */
    if ((r = xpci__dom0_block_scan(host)) < 0 ||
        (r = xpci__dom0_net_scan(host)) < 0)
        return r;
    scan_framebuffers(host);
    return scan_consoles(host);
}

void xpci__dom0_free(struct xpci_host *host)
{
    xpci__dom0_block_free(host);
    xpci__dom0_net_free(host);
    xpci__strv_free(host->console_ttys, host->n_console_ttys);
    free(host->console_devs);
}
