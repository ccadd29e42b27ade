/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz-journal.c - libFuzzer target: the journal a crash leaves behind,
 * read and replayed by xpci_recover.  The kernel's side never runs: sysfs
 * writes and module loads are only counted (a hostile journal names any
 * path), the hypervisor and xenstore are the test fakes, and the state
 * directory, audit log and device-model directory are private temporary
 * ones.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-hv.h"
#include "fake-sysfs.h"
#include "fake-xs.h"
#include "fuzz.h"
#include "topologies.h"
#include "xpci-internal.h"

static struct fake_sysfs *tree;
static char state_dir[512], journal[600], audit[600], run_dir[600];
static char state[600];
static unsigned long writes;

/* The kernel is never asked: a journal may name any path. */
static int count_write(void *priv, int rootfd, const char *path,
                       const char *val, size_t len)
{
    writes++;
    return 0;
}

static int count_modprobe(void *priv, const char *module)
{
    writes++;
    return 0;
}

static const struct xpci_sysfs_ops counting_sysfs = {
    .write = count_write,
    .modprobe = count_modprobe,
};

static void cleanup(void)
{
    fake_sysfs_free(tree);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    tree = fake_sysfs_new();
    topo_nic(tree);
    topo_pciback(tree);
    snprintf(state_dir, sizeof(state_dir), "%s/state", fake_sysfs_root(tree));
    snprintf(run_dir, sizeof(run_dir), "%s/run", fake_sysfs_root(tree));
    if (mkdir(state_dir, 0700) || mkdir(run_dir, 0700))
        abort();
    snprintf(journal, sizeof(journal), "%s/" XPCI_JOURNAL_FILE, state_dir);
    snprintf(audit, sizeof(audit), "%s/audit.log", state_dir);
    snprintf(state, sizeof(state), "%s/" XPCI_STATE_FILE, state_dir);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* fresh fakes each time: what one journal did stays with it */
    struct fake_hv *hv = fake_hv_new();
    struct fake_xs *xs = fake_xs_new();
    struct xpci_params p = {
        .sysfs_root = fake_sysfs_sys(tree),
        .proc_root = fake_sysfs_proc(tree),
        .sysfs_ops = &counting_sysfs,
        .hv_ops = &fake_hv_ops,
        .hv_priv = hv,
        .xs_ops = &fake_xs_ops,
        .xs_priv = xs,
        .state_dir = state_dir,
        .audit_log = audit,
        .run_dir = run_dir,
        .flags = XPCI_CTX_NO_SYSLOG,
    };
    struct xpci_result *res = NULL;
    xpci_ctx *ctx = NULL;
    int fd = open(journal, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    unlink(audit);
    unlink(state);
    fake_hv_set_iommu(hv, true);
    if (xpci_ctx_new(&ctx, &p))
        abort();
    xpci_recover(ctx, &res);
    xpci_result_free(res);
    xpci_ctx_free(ctx);
    unlink(journal);
    fake_xs_free(xs);
    fake_hv_free(hv);
    return 0;
}
