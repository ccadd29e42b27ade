/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * topologies.c - the named host topologies: what each one contains is
 * part of the tests' contract (they assert these BDFs, ids and groups), so
 * change a topology only together with the tests and golden files.
 */
#include <stdio.h>
#include <string.h>

#include "topologies.h"

#define INTEL 0x8086
#define NVIDIA 0x10de
#define ASMEDIA 0x1b21
#define SAMSUNG 0x144d

#define CLASS_HOST_BRIDGE 0x060000
#define CLASS_PCI_BRIDGE 0x060400
#define CLASS_ETHERNET 0x020000
#define CLASS_NVME 0x010802
#define CLASS_VGA 0x030000
#define CLASS_HDA 0x040300
#define CLASS_XHCI 0x0c0330
#define CLASS_ISA_BRIDGE 0x060100
#define CLASS_SMBUS 0x0c0500

#define PCIE_ENDPOINT 0
#define PCIE_ROOT_PORT 4
#define PCIE_TO_PCI 7
#define PCIE_RC_INTEGRATED 9

/* ICH9 PCI Express Port 1, as on QEMU's q35 and many real boards. */
#define ROOT_PORT_ID 0x2940

static struct fake_res mem32(uint64_t start, uint64_t size)
{
    return (struct fake_res){.start = start, .size = size};
}

static struct fake_res mem64(uint64_t start, uint64_t size, bool prefetch)
{
    return (struct fake_res){
        .start = start, .size = size, .mem64 = true, .prefetch = prefetch};
}

static struct fake_res io(uint64_t start, uint64_t size)
{
    return (struct fake_res){.start = start, .size = size, .io = true};
}

/* A PCIe root port on the root bus, bound to pcieport. */
static void root_port(struct fake_sysfs *t, const char *bdf, int group)
{
    struct fake_pci p = fake_pci_default(INTEL, ROOT_PORT_ID, CLASS_PCI_BRIDGE);

    p.subsys_vendor = INTEL;
    p.header_type = 1;
    p.pcie_type = PCIE_ROOT_PORT;
    p.pm = true;
    p.msi = true;
    p.driver = "pcieport";
    p.iommu_group = group;
    fake_sysfs_add_device(t, bdf, NULL, &p);
}

/* The 82574L the nic topologies use. */
static struct fake_pci e1000e(int group, uint64_t bar0)
{
    struct fake_pci p = fake_pci_default(INTEL, 0x10d3, CLASS_ETHERNET);

    p.subsys_vendor = INTEL;
    p.subsys_device = 0xa01f;
    p.pcie_type = PCIE_ENDPOINT;
    p.flr = true;
    p.msi = true;
    p.msix = true;
    p.pm = true;
    p.driver = "e1000e";
    p.iommu_group = group;
    p.res[0] = mem32(bar0, 0x20000);
    p.reset_method = "flr bus";
    return p;
}

void topo_host_bridge(struct fake_sysfs *t)
{
    struct fake_pci p = fake_pci_default(INTEL, 0x29c0, CLASS_HOST_BRIDGE);

    p.subsys_vendor = INTEL;
    p.iommu_group = 0;
    fake_sysfs_add_device(t, "0000:00:00.0", NULL, &p);
}

void topo_nic(struct fake_sysfs *t)
{
    struct fake_pci p = e1000e(2, 0xfebc0000);

    root_port(t, "0000:00:1c.0", 1);
    p.res[2] = io(0xc000, 0x20);
    p.res[3] = mem32(0xfebe0000, 0x4000);
    p.irq = 16;
    fake_sysfs_add_device(t, "0000:01:00.0", "0000:00:1c.0", &p);
    fake_sysfs_add_netdev(t, "0000:01:00.0", "enp1s0", false);
}

void topo_nic_default_route(struct fake_sysfs *t)
{
    struct fake_pci p = e1000e(4, 0xfea00000);

    root_port(t, "0000:00:1d.0", 3);
    p.irq = 17;
    fake_sysfs_add_device(t, "0000:02:00.0", "0000:00:1d.0", &p);
    fake_sysfs_add_netdev(t, "0000:02:00.0", "enp2s0", true);
    fake_sysfs_add_default_route(t, "enp2s0");
}

void topo_nvme_root(struct fake_sysfs *t)
{
    struct fake_pci p = fake_pci_default(INTEL, 0x5845, CLASS_NVME);

    root_port(t, "0000:00:1e.0", 5);
    p.subsys_vendor = 0x1af4;
    p.subsys_device = 0x1100;
    p.pcie_type = PCIE_ENDPOINT;
    p.flr = true;
    p.msix = true;
    p.pm = true;
    p.driver = "nvme";
    p.iommu_group = 6;
    p.irq = 18;
    p.res[0] = mem64(0xfe800000, 0x4000, false);
    p.reset_method = "flr bus";
    fake_sysfs_add_device(t, "0000:03:00.0", "0000:00:1e.0", &p);
    fake_sysfs_add_disk(t, "0000:03:00.0", "nvme0n1", 259, 0);
    fake_sysfs_add_partition(t, "nvme0n1", "nvme0n1p1", 259, 1);
    fake_sysfs_add_partition(t, "nvme0n1", "nvme0n1p2", 259, 2);
    fake_sysfs_add_mount(t, 259, 2, "/", "ext4");
    fake_sysfs_add_mount(t, 259, 1, "/boot/efi", "vfat");
}

void topo_gpu_audio(struct fake_sysfs *t)
{
    struct fake_pci vga = fake_pci_default(NVIDIA, 0x1c82, CLASS_VGA);
    struct fake_pci hda = fake_pci_default(NVIDIA, 0x0fb9, CLASS_HDA);

    root_port(t, "0000:00:01.0", 7);
    vga.subsys_vendor = hda.subsys_vendor = 0x1043;
    vga.subsys_device = hda.subsys_device = 0x8613;
    vga.revision = hda.revision = 0xa1;
    vga.multifunction = hda.multifunction = true;
    vga.pcie_type = hda.pcie_type = PCIE_ENDPOINT;
    vga.msi = hda.msi = true;
    vga.pm = hda.pm = true;
    vga.iommu_group = hda.iommu_group = 8;
    vga.reset_method = hda.reset_method = "bus";

    vga.driver = "nouveau";
    vga.boot_vga = 1;
    vga.irq = 16;
    vga.res[0] = mem32(0xfd000000, 0x1000000);
    vga.res[1] = mem64(0xe0000000, 0x10000000, true);
    vga.res[5] = io(0xe000, 0x80);
    vga.res[6] = mem32(0xfe000000, 0x80000);
    fake_sysfs_add_device(t, "0000:04:00.0", "0000:00:01.0", &vga);
    fake_sysfs_add_fb(t, "0000:04:00.0", "fb0");

    hda.driver = "snd_hda_intel";
    hda.irq = 17;
    hda.res[0] = mem32(0xfe080000, 0x4000);
    fake_sysfs_add_device(t, "0000:04:00.1", "0000:00:01.0", &hda);
}

void topo_gpu_large_bar(struct fake_sysfs *t)
{
    struct fake_pci vga = fake_pci_default(0x1002, 0x73bf, CLASS_VGA);
    struct fake_pci hda = fake_pci_default(0x1002, 0xab28, CLASS_HDA);

    root_port(t, "0000:00:1a.0", 60);
    vga.subsys_vendor = hda.subsys_vendor = 0x1002;
    vga.subsys_device = hda.subsys_device = 0x0e3a;
    vga.revision = hda.revision = 0xc0;
    vga.multifunction = hda.multifunction = true;
    vga.pcie_type = hda.pcie_type = PCIE_ENDPOINT;
    vga.msi = hda.msi = true;
    vga.pm = hda.pm = true;
    vga.iommu_group = hda.iommu_group = 61;
    vga.reset_method = hda.reset_method = "bus";

    /* Resizable BAR: the whole 16 GiB of VRAM in BAR 0, above 4 GiB */
    vga.driver = "amdgpu";
    vga.boot_vga = 0;
    vga.irq = 0;
    vga.res[0] = mem64(0x7c00000000ULL, 0x400000000ULL, true);
    vga.res[2] = mem64(0x7800000000ULL, 0x10000000, true);
    vga.res[4] = io(0xd000, 0x100);
    vga.res[5] = mem32(0xf6000000, 0x100000);
    vga.res[6] = mem32(0xf6100000, 0x20000);
    fake_sysfs_add_device(t, "0000:3a:00.0", "0000:00:1a.0", &vga);

    hda.driver = "snd_hda_intel";
    hda.res[0] = mem32(0xf6120000, 0x4000);
    fake_sysfs_add_device(t, "0000:3a:00.1", "0000:00:1a.0", &hda);
}

void topo_pcie_to_pci(struct fake_sysfs *t)
{
    struct fake_pci br = fake_pci_default(ASMEDIA, 0x1080, CLASS_PCI_BRIDGE);
    static const char *const nics[] = {"0000:06:01.0", "0000:06:02.0"};

    root_port(t, "0000:00:02.0", 9);
    br.revision = 0x04;
    br.header_type = 1;
    br.pcie_type = PCIE_TO_PCI;
    br.pm = true;
    br.msi = true;
    br.iommu_group = 10;
    fake_sysfs_add_device(t, "0000:05:00.0", "0000:00:02.0", &br);

    for (unsigned i = 0; i < 2; i++) {
        struct fake_pci p = fake_pci_default(INTEL, 0x100e, CLASS_ETHERNET);

        p.subsys_vendor = INTEL;
        p.subsys_device = 0x001e;
        p.revision = 0x03;
        p.pm = true;
        p.driver = "e1000";
        p.iommu_group = 10;
        p.irq = 20 + (int)i;
        p.res[0] = mem32(0xfdc00000 + i * 0x20000, 0x20000);
        p.res[1] = io(0xd000 + i * 0x40, 0x40);
        p.reset_method = "pm";
        fake_sysfs_add_device(t, nics[i], "0000:05:00.0", &p);
    }
}

void topo_sriov(struct fake_sysfs *t)
{
    struct fake_pci pf = fake_pci_default(INTEL, 0x10fb, CLASS_ETHERNET);
    struct fake_pci vf = fake_pci_default(INTEL, 0x10ed, CLASS_ETHERNET);

    root_port(t, "0000:00:03.0", 11);
    pf.subsys_vendor = vf.subsys_vendor = INTEL;
    pf.subsys_device = vf.subsys_device = 0x000c;
    pf.revision = vf.revision = 0x01;
    pf.pcie_type = vf.pcie_type = PCIE_ENDPOINT;
    pf.flr = vf.flr = true;
    pf.msix = vf.msix = true;
    pf.reset_method = vf.reset_method = "flr";

    pf.pm = true;
    pf.msi = true;
    pf.sriov_totalvfs = 63;
    pf.driver = "ixgbe";
    pf.iommu_group = 12;
    pf.irq = 16;
    pf.res[0] = mem64(0xfc000000, 0x80000, false);
    pf.res[2] = io(0xb000, 0x20);
    pf.res[4] = mem64(0xfc080000, 0x4000, false);
    fake_sysfs_add_device(t, "0000:07:00.0", "0000:00:03.0", &pf);

    /* VFs have no INTx: irq stays 0 */
    vf.driver = "ixgbevf";
    vf.iommu_group = 13;
    vf.res[0] = mem64(0xfc100000, 0x4000, true);
    vf.res[3] = mem64(0xfc200000, 0x4000, true);
    fake_sysfs_add_vf(t, "0000:07:00.0", "0000:07:10.0", &vf);
    fake_sysfs_add_netdev(t, "0000:07:10.0", "enp7s16", true);

    vf.driver = NULL;
    vf.iommu_group = 14;
    vf.res[0] = mem64(0xfc108000, 0x4000, true);
    vf.res[3] = mem64(0xfc208000, 0x4000, true);
    fake_sysfs_add_vf(t, "0000:07:00.0", "0000:07:10.2", &vf);
}

void topo_no_reset(struct fake_sysfs *t)
{
    struct fake_pci p = fake_pci_default(ASMEDIA, 0x1242, CLASS_XHCI);

    root_port(t, "0000:00:04.0", 15);
    p.subsys_vendor = 0x1043;
    p.subsys_device = 0x8488;
    p.pcie_type = PCIE_ENDPOINT;
    p.msi = true;
    p.msix = true;
    p.pm = true;
    p.pm_no_soft_reset = false;
    p.driver = "xhci_hcd";
    p.iommu_group = 16;
    p.irq = 18;
    p.res[0] = mem64(0xfb800000, 0x8000, false);
    fake_sysfs_add_device(t, "0000:08:00.0", "0000:00:04.0", &p);
}

void topo_pciback(struct fake_sysfs *t)
{
    struct fake_pci p = e1000e(18, 0xfe600000);

    root_port(t, "0000:00:05.0", 17);
    fake_sysfs_load_pciback(t);
    p.driver = "pciback";
    p.irq = 16;
    fake_sysfs_add_device(t, "0000:09:00.0", "0000:00:05.0", &p);
    fake_sysfs_pciback_add_slot(t, "0000:09:00.0");
    /* where it came from: a probe without pciback gives it to e1000e */
    fake_sysfs_set_native_driver(t, "0000:09:00.0", "e1000e");
}

void topo_malformed(struct fake_sysfs *t)
{
    struct fake_pci p = fake_pci_default(INTEL, 0x1234, CLASS_ETHERNET);
    char path[512];
    const char *dir;

    p.pcie_type = PCIE_RC_INTEGRATED;
    p.msi = true;

    /* config cut short after the class code */
    p.iommu_group = 19;
    p.config_size = 10;
    fake_sysfs_add_device(t, "0000:00:10.0", NULL, &p);
    p.config_size = 0;

    /* a resource file that is not the kernel's format */
    p.iommu_group = 20;
    p.res[0] = mem32(0xfe700000, 0x1000);
    fake_sysfs_add_device(t, "0000:00:11.0", NULL, &p);
    snprintf(path, sizeof(path), "sys/%s/resource",
             fake_sysfs_dev_path(t, "0000:00:11.0"));
    fake_sysfs_write(t, path, "hello\n", 6);

    /* identity files gone */
    p.iommu_group = 21;
    fake_sysfs_add_device(t, "0000:00:12.0", NULL, &p);
    dir = fake_sysfs_dev_path(t, "0000:00:12.0");
    snprintf(path, sizeof(path), "sys/%s/config", dir);
    fake_sysfs_unlink(t, path);
    snprintf(path, sizeof(path), "sys/%s/class", dir);
    fake_sysfs_unlink(t, path);
    snprintf(path, sizeof(path), "sys/%s/vendor", dir);
    fake_sysfs_unlink(t, path);
    snprintf(path, sizeof(path), "sys/%s/uevent", dir);
    fake_sysfs_unlink(t, path);

    /* links into nothing */
    p.iommu_group = -1;
    fake_sysfs_add_device(t, "0000:00:13.0", NULL, &p);
    dir = fake_sysfs_dev_path(t, "0000:00:13.0");
    snprintf(path, sizeof(path), "sys/%s/iommu_group", dir);
    fake_sysfs_symlink(t, path, "../../../kernel/iommu_groups/999");
    snprintf(path, sizeof(path), "sys/%s/driver", dir);
    fake_sysfs_symlink(t, path, "../../../bus/pci/drivers/vanished");
}

/* An NVMe controller function (no disks yet) below a root port. */
static void nvme_function(struct fake_sysfs *t, const char *port, int pgroup,
                          const char *bdf, int group, uint64_t bar0)
{
    struct fake_pci p = fake_pci_default(SAMSUNG, 0xa824, CLASS_NVME);

    root_port(t, port, pgroup);
    p.subsys_vendor = SAMSUNG;
    p.subsys_device = 0xa801;
    p.pcie_type = PCIE_ENDPOINT;
    p.flr = true;
    p.msix = true;
    p.pm = true;
    p.driver = "nvme";
    p.iommu_group = group;
    p.res[0] = mem64(bar0, 0x8000, false);
    p.reset_method = "flr bus";
    fake_sysfs_add_device(t, bdf, port, &p);
}

void topo_nvme_multipath(struct fake_sysfs *t)
{
    static const char *const ports[] = {"0000:0a:00.0", "0000:0b:00.0"};
    const char *head;
    char p1[32], p2[32];

    /* a dual-port U.2 drive, one port on each root port */
    nvme_function(t, "0000:00:06.0", 22, ports[0], 23, 0xfa000000);
    nvme_function(t, "0000:00:07.0", 24, ports[1], 25, 0xf9000000);
    head = fake_sysfs_add_nvme_multipath(t, ports, 2, 1, 259, 3);
    snprintf(p1, sizeof(p1), "%sp1", head);
    snprintf(p2, sizeof(p2), "%sp2", head);
    fake_sysfs_add_partition(t, head, p1, 259, 4);
    fake_sysfs_add_partition(t, head, p2, 259, 5);
    fake_sysfs_add_pseudo_mounts(t);
    fake_sysfs_add_mount(t, 259, 5, "/", "ext4");
    fake_sysfs_add_mount(t, 259, 4, "/boot/efi", "vfat");
}

#define BTRFS_FSID "6f1b7a0e-2c4d-4e3a-9b1f-5d8c7e6a4b21"

void topo_btrfs_root(struct fake_sysfs *t)
{
    static const char *const members[] = {"nvme0n1p2", "nvme1n1p1"};
    char opts[128];

    /* / on a btrfs raid1 across two NVMe drives, /boot/efi on the first */
    nvme_function(t, "0000:00:08.0", 26, "0000:0c:00.0", 27, 0xf8000000);
    nvme_function(t, "0000:00:09.0", 28, "0000:0d:00.0", 29, 0xf7000000);
    fake_sysfs_add_disk(t, "0000:0c:00.0", "nvme0n1", 259, 6);
    fake_sysfs_add_partition(t, "nvme0n1", "nvme0n1p1", 259, 7);
    fake_sysfs_add_partition(t, "nvme0n1", "nvme0n1p2", 259, 8);
    fake_sysfs_add_disk(t, "0000:0d:00.0", "nvme1n1", 259, 9);
    fake_sysfs_add_partition(t, "nvme1n1", "nvme1n1p1", 259, 10);
    fake_sysfs_add_btrfs(t, BTRFS_FSID, members, 2);
    fake_sysfs_add_pseudo_mounts(t);
    snprintf(opts, sizeof(opts), "rw,ssd,space_cache=v2,subvolid=256,"
                                 "subvol=/@");
    fake_sysfs_add_mount_source(t, 0, 31, "/@", "/", "btrfs",
                                "/dev/nvme0n1p2", opts);
    fake_sysfs_add_mount_source(t, 0, 31, "/@home", "/home", "btrfs",
                                "/dev/nvme0n1p2",
                                "rw,ssd,space_cache=v2,subvolid=257,"
                                "subvol=/@home");
    fake_sysfs_add_mount(t, 259, 7, "/boot/efi", "vfat");
}

void topo_stacked(struct fake_sysfs *t)
{
    /* md RAID on a partition, a loop device and a swap file whose
     * backing files live on another partition of the same disk */
    nvme_function(t, "0000:00:0a.0", 30, "0000:0e:00.0", 31, 0xf6000000);
    fake_sysfs_add_disk(t, "0000:0e:00.0", "nvme0n1", 259, 11);
    fake_sysfs_add_partition(t, "nvme0n1", "nvme0n1p1", 259, 12);
    fake_sysfs_add_partition(t, "nvme0n1", "nvme0n1p2", 259, 13);
    fake_sysfs_add_holder(t, "nvme0n1p1", "md0", 9, 0);
    fake_sysfs_add_loop(t, "loop0", 7, 0, "/var/lib/images/guest.img");
    fake_sysfs_add_pseudo_mounts(t);
    fake_sysfs_add_mount(t, 9, 0, "/srv", "xfs");
    fake_sysfs_add_mount(t, 259, 13, "/var/lib/images", "ext4");
    fake_sysfs_add_mount(t, 7, 0, "/mnt/guest", "ext4");
    fake_sysfs_add_swap_file(t, "/var/lib/images/swap.img");
}

void topo_bridge(struct fake_sysfs *t)
{
    struct fake_pci p = e1000e(33, 0xf5000000);

    /* the usual Xen dom0: the NIC is a port of xenbr0, which holds the
     * address and the default route */
    root_port(t, "0000:00:0b.0", 32);
    p.irq = 16;
    fake_sysfs_add_device(t, "0000:0f:00.0", "0000:00:0b.0", &p);
    fake_sysfs_add_netdev(t, "0000:0f:00.0", "enp15s0", true);
    fake_sysfs_add_virtual_netdev(t, "xenbr0", "bridge", true);
    fake_sysfs_set_upper(t, "enp15s0", "xenbr0");
    fake_sysfs_add_default_route(t, "xenbr0");
}

void topo_bond_vlan(struct fake_sysfs *t)
{
    struct fake_pci f0 = e1000e(35, 0xf4000000), f1 = e1000e(35, 0xf4020000);
    struct fake_pci m = e1000e(37, 0xf3000000);

    /* two ports bonded, the bond carrying VLAN 100 with the default
     * route; another NIC under a macvlan that is up */
    root_port(t, "0000:00:0c.0", 34);
    f0.multifunction = f1.multifunction = true;
    f0.acs = f1.acs = true;
    fake_sysfs_add_device(t, "0000:10:00.0", "0000:00:0c.0", &f0);
    fake_sysfs_add_device(t, "0000:10:00.1", "0000:00:0c.0", &f1);
    fake_sysfs_add_netdev(t, "0000:10:00.0", "enp16s0f0", true);
    fake_sysfs_add_netdev(t, "0000:10:00.1", "enp16s0f1", true);
    fake_sysfs_add_virtual_netdev(t, "bond0", "bond", true);
    fake_sysfs_set_upper(t, "enp16s0f0", "bond0");
    fake_sysfs_set_upper(t, "enp16s0f1", "bond0");
    fake_sysfs_add_virtual_netdev(t, "bond0.100", "vlan", true);
    fake_sysfs_set_upper(t, "bond0", "bond0.100");
    fake_sysfs_add_default_route(t, "bond0.100");

    root_port(t, "0000:00:0d.0", 36);
    fake_sysfs_add_device(t, "0000:11:00.0", "0000:00:0d.0", &m);
    fake_sysfs_add_netdev(t, "0000:11:00.0", "enp17s0", false);
    fake_sysfs_add_virtual_netdev(t, "macvlan0", "macvlan", true);
    fake_sysfs_set_upper(t, "enp17s0", "macvlan0");
}

void topo_nfs_root(struct fake_sysfs *t)
{
    struct fake_pci p = e1000e(39, 0xf2000000);

    /* dom0 boots with root=/dev/nfs: / comes through enp18s0, which has
     * only the link's route */
    root_port(t, "0000:00:0e.0", 38);
    fake_sysfs_add_device(t, "0000:12:00.0", "0000:00:0e.0", &p);
    fake_sysfs_add_netdev(t, "0000:12:00.0", "enp18s0", true);
    fake_sysfs_cmdline_append(t, "root=/dev/nfs nfsroot=10.0.0.1:/srv/dom0 "
                                 "ip=10.0.0.5::10.0.0.1:255.255.255.0:dom0:"
                                 "enp18s0:off");
    fake_sysfs_add_pseudo_mounts(t);
    fake_sysfs_add_mount_source(t, 0, 30, "/", "/", "nfs",
                                "10.0.0.1:/srv/dom0",
                                "rw,vers=3,rsize=1048576,wsize=1048576,"
                                "proto=tcp,addr=10.0.0.1");
}

void topo_lpc(struct fake_sysfs *t)
{
    struct fake_pci lpc = fake_pci_default(INTEL, 0x2918, CLASS_ISA_BRIDGE);
    struct fake_pci smb = fake_pci_default(INTEL, 0x2930, CLASS_SMBUS);

    /* the ICH9 LPC bridge (header type 0) and SMBus of a q35 board */
    lpc.subsys_vendor = smb.subsys_vendor = 0x1af4;
    lpc.subsys_device = smb.subsys_device = 0x1100;
    lpc.revision = smb.revision = 0x02;
    lpc.multifunction = smb.multifunction = true;
    lpc.driver = "lpc_ich";
    lpc.iommu_group = smb.iommu_group = 40;
    fake_sysfs_add_device(t, "0000:00:1f.0", NULL, &lpc);
    smb.driver = "i801_smbus";
    smb.irq = 16;
    smb.res[4] = io(0x0700, 0x40);
    fake_sysfs_add_device(t, "0000:00:1f.3", NULL, &smb);
}

void topo_reset_disabled(struct fake_sysfs *t)
{
    struct fake_pci p = e1000e(42, 0xf1000000);

    /* the administrator wrote "" to reset_method */
    root_port(t, "0000:00:0f.0", 41);
    p.reset_method = "";
    fake_sysfs_add_device(t, "0000:13:00.0", "0000:00:0f.0", &p);
    fake_sysfs_add_netdev(t, "0000:13:00.0", "enp19s0", false);
}

void topo_pciback_states(struct fake_sysfs *t)
{
    struct fake_pci p;

    fake_sysfs_load_pciback(t);
    /* in pciback's slots, but e1000e got it first */
    root_port(t, "0000:00:14.0", 43);
    p = e1000e(44, 0xf0000000);
    fake_sysfs_add_device(t, "0000:14:00.0", "0000:00:14.0", &p);
    fake_sysfs_pciback_add_slot(t, "0000:14:00.0");
    /* driver_override pciback, no driver yet */
    root_port(t, "0000:00:15.0", 45);
    p = e1000e(46, 0xefe00000);
    p.driver = NULL;
    p.driver_override = "pciback";
    fake_sysfs_add_device(t, "0000:15:00.0", "0000:00:15.0", &p);
    fake_sysfs_set_native_driver(t, "0000:15:00.0", "e1000e");
    /* named in xen-pciback.hide=, given back to e1000e since */
    root_port(t, "0000:00:16.0", 47);
    p = e1000e(48, 0xefc00000);
    fake_sysfs_add_device(t, "0000:16:00.0", "0000:00:16.0", &p);
    fake_sysfs_pciback_add_slot(t, "0000:16:00.0");
    fake_sysfs_cmdline_append(t, "xen-pciback.hide=(0000:16:00.0)(17:00.*)");
    /* hidden, and hidden again at boot (command line, wildcard) */
    root_port(t, "0000:00:17.0", 49);
    p = e1000e(50, 0xefa00000);
    p.driver = "pciback";
    fake_sysfs_add_device(t, "0000:17:00.0", "0000:00:17.0", &p);
    fake_sysfs_pciback_add_slot(t, "0000:17:00.0");
    fake_sysfs_set_native_driver(t, "0000:17:00.0", "e1000e");
    /* hidden by modprobe configuration at boot, unbound now; and a
     * driver_override some other tool left */
    root_port(t, "0000:00:18.0", 51);
    p = e1000e(52, 0xef800000);
    p.driver = NULL;
    fake_sysfs_add_device(t, "0000:18:00.0", "0000:00:18.0", &p);
    fake_sysfs_set_native_driver(t, "0000:18:00.0", "e1000e");
    fake_sysfs_write(t, "etc/modprobe.d/xen-pciback.conf",
                     "# hidden from dom0 at boot\n"
                     "options xen_pciback hide=(0000:18:00.0) "
                     "passthrough=0\n",
                     strlen("# hidden from dom0 at boot\n"
                            "options xen_pciback hide=(0000:18:00.0) "
                            "passthrough=0\n"));
    root_port(t, "0000:00:19.0", 53);
    p = e1000e(54, 0xef600000);
    p.driver = NULL;
    p.driver_override = "vfio-pci";
    fake_sysfs_add_device(t, "0000:19:00.0", "0000:00:19.0", &p);
}

void topo_host(struct fake_sysfs *t)
{
    topo_host_bridge(t);
    topo_nic(t);
    topo_nic_default_route(t);
    topo_nvme_root(t);
    topo_gpu_audio(t);
    topo_pcie_to_pci(t);
    topo_sriov(t);
    topo_no_reset(t);
    topo_pciback(t);
    topo_malformed(t);
}

#define BENCH_PORTS 16
#define BENCH_VFS 255

/*
 * 16 root ports 00:01.0-00:10.0, each above an X710 PF at NN:00.0 with
 * 255 VFs NN:00.1-NN:1f.7 (offset 1, stride 1), every function in its own
 * IOMMU group, every other VF bound to iavf.  Each bound function has its
 * network interface (the PF's up, the VFs' down), and the tree is dense:
 * every attribute the kernel shows, as on a real host.
 */
void topo_bench(struct fake_sysfs *t)
{
    int group = 0;

    fake_sysfs_set_dense(t, true);
    topo_host_bridge(t);
    group++;
    for (unsigned n = 1; n <= BENCH_PORTS; n++) {
        struct fake_pci pf = fake_pci_default(INTEL, 0x1572, CLASS_ETHERNET);
        struct fake_pci vf = fake_pci_default(INTEL, 0x154c, CLASS_ETHERNET);
        uint64_t base = 0x38000000000ULL + (uint64_t)n * 0x10000000ULL;
        char port[XPCI_BDF_STRLEN], pfb[XPCI_BDF_STRLEN], ifname[32];

        snprintf(port, sizeof(port), "0000:00:%02x.0", n);
        snprintf(pfb, sizeof(pfb), "0000:%02x:00.0", n);
        root_port(t, port, group++);

        pf.subsys_vendor = vf.subsys_vendor = INTEL;
        pf.subsys_device = vf.subsys_device = 0x0000;
        pf.revision = vf.revision = 0x02;
        pf.pcie_type = vf.pcie_type = PCIE_ENDPOINT;
        pf.flr = vf.flr = true;
        pf.msix = vf.msix = true;
        pf.reset_method = vf.reset_method = "flr";
        pf.pm = true;
        pf.msi = true;
        pf.sriov_totalvfs = BENCH_VFS;
        pf.driver = "i40e";
        pf.iommu_group = group++;
        pf.irq = 16;
        pf.res[0] = mem64(base, 0x800000, true);
        pf.res[3] = mem64(base + 0x800000, 0x8000, true);
        fake_sysfs_add_device(t, pfb, port, &pf);
        snprintf(ifname, sizeof(ifname), "ens%uf0", n);
        fake_sysfs_add_netdev(t, pfb, ifname, true);

        for (unsigned i = 0; i < BENCH_VFS; i++) {
            unsigned devfn = i + 1;
            char vfb[XPCI_BDF_STRLEN];

            snprintf(vfb, sizeof(vfb), "0000:%02x:%02x.%x", n, devfn >> 3,
                     devfn & 7);
            vf.driver = i % 2 ? NULL : "iavf";
            vf.iommu_group = group++;
            vf.res[0] = mem64(base + 0x1000000 + i * 0x10000, 0x10000, true);
            vf.res[3] = mem64(base + 0x4000000 + i * 0x4000, 0x4000, true);
            fake_sysfs_add_vf(t, pfb, vfb, &vf);
            if (vf.driver) {
                snprintf(ifname, sizeof(ifname), "ens%uf0v%u", n, i);
                fake_sysfs_add_netdev(t, vfb, ifname, false);
            }
        }
    }
}

const struct topo_entry topo_table[] = {
    {"host_bridge", topo_host_bridge, "host bridge 0000:00:00.0"},
    {"nic", topo_nic, "e1000e 0000:01:00.0, interface down"},
    {"nic_default_route", topo_nic_default_route,
     "e1000e 0000:02:00.0 holding the default route"},
    {"nvme_root", topo_nvme_root, "NVMe 0000:03:00.0 holding /"},
    {"gpu_audio", topo_gpu_audio,
     "boot VGA 0000:04:00.0 + audio 0000:04:00.1, no FLR"},
    {"pcie_to_pci", topo_pcie_to_pci,
     "PCIe-to-PCI bridge 0000:05:00.0 with two e1000 behind it"},
    {"sriov", topo_sriov, "ixgbe PF 0000:07:00.0 with two VFs"},
    {"no_reset", topo_no_reset, "xHCI 0000:08:00.0 without reset method"},
    {"pciback", topo_pciback, "e1000e 0000:09:00.0 already in pciback"},
    {"malformed", topo_malformed, "broken sysfs entries 0000:00:10.0-13.0"},
    {"nvme_multipath", topo_nvme_multipath,
     "dual-port NVMe 0000:0a:00.0 + 0000:0b:00.0, multipath head holding /"},
    {"btrfs_root", topo_btrfs_root,
     "btrfs / across NVMe 0000:0c:00.0 and 0000:0d:00.0"},
    {"stacked", topo_stacked,
     "NVMe 0000:0e:00.0 under md0, a loop device and a swap file"},
    {"bridge", topo_bridge, "e1000e 0000:0f:00.0, a port of xenbr0"},
    {"bond_vlan", topo_bond_vlan,
     "bonded 0000:10:00.0/.1 under VLAN bond0.100, macvlan on 0000:11:00.0"},
    {"nfs_root", topo_nfs_root, "e1000e 0000:12:00.0 carrying an NFS root"},
    {"lpc", topo_lpc, "ISA/LPC bridge 0000:00:1f.0 and SMBus 0000:00:1f.3"},
    {"reset_disabled", topo_reset_disabled,
     "e1000e 0000:13:00.0 with an empty reset_method"},
    {"pciback_states", topo_pciback_states,
     "pciback slots, driver_override and boot-time hiding, 14:00.0-19:00.0"},
    {"host", topo_host, "all of the above"},
    {"gpu_large_bar", topo_gpu_large_bar,
     "AMD GPU 0000:3a:00.0 with a 16 GiB BAR + its audio 3a:00.1"},
    {"bench", topo_bench, "16 PFs with 255 VFs each (4,113 functions)"},
    {NULL, NULL, NULL},
};

const struct topo_entry *topo_lookup(const char *name)
{
    for (const struct topo_entry *e = topo_table; e->name; e++)
        if (!strcmp(e->name, name))
            return e;
    return NULL;
}
