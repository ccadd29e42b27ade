/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * topologies.h - named host topologies built on the fake kernel, shared by
 * the unit tests, the CLI golden tests (through mktree) and the benchmark.
 * Each topo_<name>() adds its own root port(s) and functions with BDFs and
 * IOMMU group numbers no other topology uses, so they compose; topo_bench
 * is the exception and stands alone.
 */
#ifndef TOPOLOGIES_H
#define TOPOLOGIES_H

#include "fake-sysfs.h"

/* 0000:00:00.0 host bridge 8086:29c0, group 0. */
void topo_host_bridge(struct fake_sysfs *t);
/* 00:1c.0 -> 0000:01:00.0 e1000e, interface enp1s0 down; groups 1, 2. */
void topo_nic(struct fake_sysfs *t);
/* 00:1d.0 -> 0000:02:00.0 e1000e, enp2s0 up with the default route;
 * groups 3, 4. */
void topo_nic_default_route(struct fake_sysfs *t);
/* 00:1e.0 -> 0000:03:00.0 NVMe holding / and /boot/efi; groups 5, 6. */
void topo_nvme_root(struct fake_sysfs *t);
/* 00:01.0 -> 0000:04:00.0 boot VGA with fb0 + 04:00.1 HDMI audio, one
 * multifunction device without FLR; groups 7, 8. */
void topo_gpu_audio(struct fake_sysfs *t);
/* 00:02.0 -> 05:00.0 PCIe-to-PCI bridge -> 06:01.0, 06:02.0 e1000;
 * groups 9, 10. */
void topo_pcie_to_pci(struct fake_sysfs *t);
/* 00:03.0 -> PF 0000:07:00.0 ixgbe with VFs 07:10.0 (ixgbevf, enp7s16 up)
 * and 07:10.2 (unbound); groups 11-14. */
void topo_sriov(struct fake_sysfs *t);
/* 00:04.0 -> 0000:08:00.0 xHCI without any reset method; groups 15, 16. */
void topo_no_reset(struct fake_sysfs *t);
/* 00:05.0 -> 0000:09:00.0 e1000e bound to pciback and in its slots;
 * groups 17, 18. */
void topo_pciback(struct fake_sysfs *t);
/* Root-complex integrated functions 00:10.0-00:13.0 with broken sysfs
 * entries (truncated config, garbage resource, missing files, dangling
 * links); groups 19-21. */
void topo_malformed(struct fake_sysfs *t);
/* Every topology above. */
void topo_host(struct fake_sysfs *t);
/* The benchmark host: 16 root ports, each with an SR-IOV PF and 255 VFs
 * (4,113 functions). */
void topo_bench(struct fake_sysfs *t);

struct topo_entry {
    const char *name;
    void (*build)(struct fake_sysfs *t);
    const char *summary;
};

/* Every named topology; ends with a NULL name. */
extern const struct topo_entry topo_table[];

/* The entry called name, or NULL. */
const struct topo_entry *topo_lookup(const char *name);

#endif /* TOPOLOGIES_H */
