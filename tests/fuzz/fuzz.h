/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz.h - what the libFuzzer targets share: the input as a C string, and
 * a small fake host (tests/unit's fake kernel) scanned once.
 */
#ifndef XPCI_FUZZ_H
#define XPCI_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "xpci.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake_sysfs;

struct fuzz_host {
    struct fake_sysfs *t;
    xpci_ctx *ctx;
    struct xpci_host *host;
};

/* The input as a malloc'd NUL-terminated string (cut at a NUL). */
char *fuzz_cstr(const uint8_t *data, size_t size);

/*
 * Build a fake host (host bridge, a NIC with its interface down, an SR-IOV
 * PF with VFs, an NVMe disk) and scan it without Xen; removed at exit.
 */
void fuzz_host_build(struct fuzz_host *h);

/* Split data at each "\n%%\n" into at most max parts; returns the count. */
unsigned fuzz_split(const uint8_t *data, size_t size, const uint8_t **part,
                    size_t *len, unsigned max);

#endif /* XPCI_FUZZ_H */
