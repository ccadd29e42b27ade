/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz-xlcfg.c - libFuzzer target: `xpci prepare --dry-run --json CFG`
 * on an xl domain config from the input, against a fake host tree
 * (--root): libxlutil's reader, then prepare's reading of the pci list
 * and its pci_* settings, the spec parser for each entry and the plan.
 * Nothing acts: without Xen every plan is refused, and --dry-run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake-sysfs.h"
#include "fuzz.h"
#include "xpci-cli.h"

static struct fuzz_host host;
static char cfg[600];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_host_build(&host);
    snprintf(cfg, sizeof(cfg), "%s/domain.cfg", fake_sysfs_root(host.t));
    opt_root = fake_sysfs_root(host.t);
    setenv("XPCI_PCI_IDS", "/nonexistent", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[] = {"prepare", "--dry-run", "--json", cfg, NULL};
    int fd = open(cfg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    cmd_prepare(4, argv);
    fflush(stdout);
    return 0;
}
