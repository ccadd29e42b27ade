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
/* The layouts of dom0 use (each with the pseudo mounts every host has):
 * 00:06.0/00:07.0 -> 0a:00.0 + 0b:00.0, the two ports of one NVMe
 * subsystem whose multipath head nvme<S>n1 holds / and /boot/efi; groups
 * 22-25. */
void topo_nvme_multipath(struct fake_sysfs *t);
/* 00:08.0 -> 0c:00.0 (nvme0n1) and 00:09.0 -> 0d:00.0 (nvme1n1): / and
 * /home on btrfs raid1 over nvme0n1p2 + nvme1n1p1 (device 0:31);
 * groups 26-29. */
void topo_btrfs_root(struct fake_sysfs *t);
/* 00:0a.0 -> 0e:00.0 nvme0n1: p1 under md0 on /srv, p2 on
 * /var/lib/images holding loop0's backing file (loop0 on /mnt/guest) and
 * a swap file; groups 30, 31. */
void topo_stacked(struct fake_sysfs *t);
/* 00:0b.0 -> 0f:00.0 e1000e enp15s0, a port of bridge xenbr0 which holds
 * the default route; groups 32, 33. */
void topo_bridge(struct fake_sysfs *t);
/* 00:0c.0 -> 10:00.0/10:00.1 enp16s0f0/f1 in bond0 under VLAN bond0.100
 * (default route); 00:0d.0 -> 11:00.0 enp17s0 (down) under macvlan0 (up);
 * groups 34-37. */
void topo_bond_vlan(struct fake_sysfs *t);
/* 00:0e.0 -> 12:00.0 enp18s0 up, root=/dev/nfs with ip=...:enp18s0;
 * groups 38, 39. */
void topo_nfs_root(struct fake_sysfs *t);
/* 00:1f.0 ISA bridge (LPC, header type 0) and 00:1f.3 SMBus; group 40. */
void topo_lpc(struct fake_sysfs *t);
/* 00:0f.0 -> 13:00.0 e1000e whose reset_method is empty; groups 41, 42. */
void topo_reset_disabled(struct fake_sysfs *t);
/* pciback's states, each behind its own root port 00:14.0-00:19.0:
 * 14:00.0 in pciback's slots but bound to e1000e; 15:00.0 unbound with
 * driver_override pciback; 16:00.0 bound to e1000e but named in
 * xen-pciback.hide=; 17:00.0 in pciback and hidden at boot (hide= with a
 * wildcard); 18:00.0 unbound, hidden at boot by etc/modprobe.d; 19:00.0
 * unbound with driver_override vfio-pci; groups 43-54. */
void topo_pciback_states(struct fake_sysfs *t);
/* 00:1a.0 -> 0000:3a:00.0 AMD Navi 21 GPU with a 16 GiB 64-bit BAR
 * (resizable BAR on), 3a:00.1 its HDMI audio; groups 60, 61 (not in
 * topo_host). */
void topo_gpu_large_bar(struct fake_sysfs *t);
/* Every topology above up to topo_malformed. */
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
