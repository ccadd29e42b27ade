/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz-common.c - helpers of the libFuzzer targets (see fuzz.h).
 */
#include <stdlib.h>
#include <string.h>

#include "fake-sysfs.h"
#include "fuzz.h"
#include "topologies.h"

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static struct fuzz_host *built;

static void host_free(void)
{
    xpci_host_free(built->host);
    xpci_ctx_free(built->ctx);
    fake_sysfs_free(built->t);
}

void fuzz_host_build(struct fuzz_host *h)
{
    struct xpci_params p = {
        .flags = XPCI_CTX_NO_HYPERVISOR | XPCI_CTX_NO_XENSTORE |
                 XPCI_CTX_NO_SYSLOG,
    };

    h->t = fake_sysfs_new();
    topo_host_bridge(h->t);
    topo_nic(h->t);
    topo_sriov(h->t);
    topo_nvme_root(h->t);
    p.sysfs_root = fake_sysfs_sys(h->t);
    p.proc_root = fake_sysfs_proc(h->t);
    if (xpci_ctx_new(&h->ctx, &p) || xpci_host_scan(h->ctx, &h->host))
        abort();
    built = h;
    atexit(host_free);
}

unsigned fuzz_split(const uint8_t *data, size_t size, const uint8_t **part,
                    size_t *len, unsigned max)
{
    static const char sep[] = "\n%%\n";
    unsigned n = 0;

    while (n < max) {
        const uint8_t *end =
            n + 1 < max ? memmem(data, size, sep, sizeof(sep) - 1) : NULL;

        part[n] = data;
        len[n] = end ? (size_t)(end - data) : size;
        n++;
        if (!end)
            break;
        size -= end + sizeof(sep) - 1 - data;
        data = end + sizeof(sep) - 1;
    }
    return n;
}
