/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz-state.c - libFuzzer target: the persistent set's reader
 * (xpci__state_load) on any file content, then the listing built on it
 * (xpci_assignable_list) against a fake host.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-sysfs.h"
#include "fuzz.h"
#include "topologies.h"
#include "xpci-internal.h"

static struct fake_sysfs *tree;
static xpci_ctx *ctx;
static char state_dir[512], state_file[600];

static void cleanup(void)
{
    xpci_ctx_free(ctx);
    fake_sysfs_free(tree);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct xpci_params p = {
        .flags = XPCI_CTX_NO_HYPERVISOR | XPCI_CTX_NO_XENSTORE |
                 XPCI_CTX_NO_SYSLOG,
    };

    tree = fake_sysfs_new();
    topo_nic(tree);
    topo_pciback(tree);
    snprintf(state_dir, sizeof(state_dir), "%s/state", fake_sysfs_root(tree));
    if (mkdir(state_dir, 0700))
        abort();
    snprintf(state_file, sizeof(state_file), "%s/" XPCI_STATE_FILE,
             state_dir);
    p.sysfs_root = fake_sysfs_sys(tree);
    p.proc_root = fake_sysfs_proc(tree);
    p.state_dir = state_dir;
    if (xpci_ctx_new(&ctx, &p))
        abort();
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xpci__entry *ents = NULL;
    struct xpci_assignable *al = NULL;
    size_t n = 0;
    int fd = open(state_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    if (xpci__state_load(ctx, &ents, &n) == 0)
        xpci__state_free(ents, n);
    if (xpci_assignable_list(ctx, &al, &n) == 0)
        xpci_assignable_list_free(al, n);
    return 0;
}
