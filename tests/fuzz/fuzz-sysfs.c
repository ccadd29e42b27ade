/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz-sysfs.c - libFuzzer target: discovery and the checks on a host tree
 * whose files come from the input.  A fake kernel tree (NIC, NVMe disk
 * holding /, SR-IOV PF) is built once; each input is cut at "\n%%\n" into
 * the NVMe's resource, its binary config space (capability walks), its
 * reset_method, the PF's sriov_totalvfs and sriov_numvfs, and
 * /proc/self/mountinfo, /proc/net/route, /proc/net/ipv6_route and
 * /proc/swaps; the host is scanned and every function checked.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake-sysfs.h"
#include "fuzz.h"
#include "topologies.h"

enum part {
    P_RESOURCE,
    P_CONFIG,
    P_RESET_METHOD,
    P_TOTALVFS,
    P_NUMVFS,
    P_MOUNTINFO,
    P_ROUTE,
    P_ROUTE6,
    P_SWAPS,
    N_PARTS
};

static struct fake_sysfs *tree;
static xpci_ctx *ctx;
static char path[N_PARTS][600];

static void cleanup(void)
{
    xpci_ctx_free(ctx);
    fake_sysfs_free(tree);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const proc[] = {
        [P_MOUNTINFO] = "self/mountinfo",
        [P_ROUTE] = "net/route",
        [P_ROUTE6] = "net/ipv6_route",
        [P_SWAPS] = "swaps",
    };
    struct xpci_params p = {
        .flags = XPCI_CTX_NO_HYPERVISOR | XPCI_CTX_NO_XENSTORE |
                 XPCI_CTX_NO_SYSLOG,
    };
    const char *sys = NULL;

    tree = fake_sysfs_new();
    topo_host_bridge(tree);
    topo_nic(tree);
    topo_nvme_root(tree);
    topo_sriov(tree);
    sys = fake_sysfs_sys(tree);
    snprintf(path[P_RESOURCE], sizeof(path[0]), "%s/%s/resource", sys,
             fake_sysfs_dev_path(tree, "0000:03:00.0"));
    snprintf(path[P_CONFIG], sizeof(path[0]), "%s/%s/config", sys,
             fake_sysfs_dev_path(tree, "0000:03:00.0"));
    snprintf(path[P_RESET_METHOD], sizeof(path[0]), "%s/%s/reset_method",
             sys, fake_sysfs_dev_path(tree, "0000:03:00.0"));
    snprintf(path[P_TOTALVFS], sizeof(path[0]), "%s/%s/sriov_totalvfs", sys,
             fake_sysfs_dev_path(tree, "0000:07:00.0"));
    snprintf(path[P_NUMVFS], sizeof(path[0]), "%s/%s/sriov_numvfs", sys,
             fake_sysfs_dev_path(tree, "0000:07:00.0"));
    for (unsigned i = P_MOUNTINFO; i < N_PARTS; i++)
        snprintf(path[i], sizeof(path[0]), "%s/%s", fake_sysfs_proc(tree),
                 proc[i]);
    p.sysfs_root = sys;
    p.proc_root = fake_sysfs_proc(tree);
    if (xpci_ctx_new(&ctx, &p))
        abort();
    atexit(cleanup);
    return 0;
}

static void put(const char *file, const uint8_t *data, size_t len)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
        abort();
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[N_PARTS];
    size_t len[N_PARTS];
    unsigned n = fuzz_split(data, size, part, len, N_PARTS);
    struct xpci_host *host = NULL;

    for (unsigned i = 0; i < N_PARTS; i++)
        put(path[i], i < n ? part[i] : NULL, i < n ? len[i] : 0);
    if (xpci_host_scan(ctx, &host) < 0)
        return 0;
    for (size_t i = 0; i < xpci_host_count(host); i++) {
        struct xpci_report *rep = NULL;

        if (xpci_check_device(host, xpci_host_device(host, i), &rep) == 0)
            xpci_report_free(rep);
    }
    xpci_host_free(host);
    return 0;
}
