/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake-sysfs.h - builds host trees laid out exactly as Linux lays out sysfs
 * and procfs (relative symlinks, "resource" lines, binary "config" with
 * capability lists), under a temporary directory, and behaves like the
 * kernel when xpci writes to it (see fake_sysfs_ops).
 *
 * Layout of a tree rooted at R:
 *   R/sys/devices/pci0000:00/0000:00:1c.0/0000:03:00.0/...   the device
 *   R/sys/bus/pci/devices/0000:03:00.0 -> ../../../devices/pci0000:00/...
 *   R/sys/bus/pci/drivers/<drv>/0000:03:00.0 -> ../../../../devices/...
 *   R/sys/kernel/iommu_groups/<n>/devices/<bdf> -> ../../../../devices/...
 *   R/sys/class/net/<if> -> ../../devices/pci.../<bdf>/net/<if>
 *   R/sys/class/block/<blk> -> ../../devices/pci.../<bdf>/.../block/<blk>
 *   R/proc/self/mountinfo, R/proc/net/route, R/proc/net/ipv6_route,
 *   R/proc/swaps, R/proc/cmdline
 *   R/etc/modprobe.d/ (written with fake_sysfs_write)
 *
 * Every function aborts the test (cmocka fail or abort()) on a builder
 * error: fixtures are not under test.
 */
#ifndef FAKE_SYSFS_H
#define FAKE_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xpci.h"

struct fake_sysfs;

/* A resource line: start, size and the kernel's IORESOURCE_* flags. */
struct fake_res {
    uint64_t start;
    uint64_t size;  /* 0: unused (the line is all zeros) */
    bool io;        /* IORESOURCE_IO, else IORESOURCE_MEM */
    bool mem64;     /* IORESOURCE_MEM_64 */
    bool prefetch;  /* IORESOURCE_PREFETCH */
};

/* Description of one PCI function; zero means "default" where noted. */
struct fake_pci {
    uint16_t vendor, device;               /* required */
    uint16_t subsys_vendor, subsys_device;
    uint32_t class_code;                   /* 24-bit, e.g. 0x020000 */
    uint8_t revision;
    uint8_t header_type;                   /* 0 endpoint, 1 PCI bridge */
    bool multifunction;                    /* header type bit 7 */
    const char *driver;                    /* bound driver or NULL */
    int iommu_group;                       /* -1: no iommu_group link */
    int numa_node;                         /* written as is (-1 usual) */
    int irq;
    struct fake_res res[7];                /* BAR0..5, ROM */
    /* capabilities in config space */
    bool msi, msix, pm, pm_no_soft_reset, acs, af_flr;
    uint32_t msix_table_offset;            /* in the first memory BAR; 0
                                              default, the PBA at 0x800 */
    int pcie_type;                         /* -1: no PCIe cap, else the
                                              Device/Port Type (0 endpoint,
                                              4 root port, 7 PCIe-to-PCI) */
    bool flr;                              /* PCIe DevCap FLR */
    int sriov_totalvfs;                    /* >0: SR-IOV ext cap + the
                                              sriov_* attributes */
    const char *reset_method;              /* NULL: no reset_method file;
                                              "" : empty file */
    int boot_vga;                          /* -1: no boot_vga file */
    const char *driver_override;           /* NULL: "(null)" */
    size_t config_size;                    /* 0: 4096 if PCIe else 256 */
    bool has_dsn;                          /* Device Serial Number ext cap */
    uint64_t dsn;
};

/* A fake_pci with every field at its neutral value (iommu_group = -1,
 * numa_node = -1, pcie_type = -1, boot_vga = -1). */
struct fake_pci fake_pci_default(uint16_t vendor, uint16_t device,
                                 uint32_t class_code);

/* Create an empty host tree (sys/bus/pci/{devices,drivers}, sys/devices,
 * sys/kernel/iommu_groups, sys/class/{net,block,graphics}, proc files with
 * headers only) in a new temp directory. */
struct fake_sysfs *fake_sysfs_new(void);
/* The same in an existing empty directory dir, which fake_sysfs_free()
 * leaves in place (for tools that generate trees). */
struct fake_sysfs *fake_sysfs_new_at(const char *dir);
/* From now on, write every attribute a Linux 6.1 kernel shows for a PCI
 * function and a network interface (power/, AER counters, link state,
 * resourceN, msi_irqs/, statistics/, queues/), not only those xpci reads:
 * trees as dense as a real host's, for benchmarks. */
void fake_sysfs_set_dense(struct fake_sysfs *t, bool dense);
/* Remove the tree (unless made by fake_sysfs_new_at) and free. */
void fake_sysfs_free(struct fake_sysfs *t);

const char *fake_sysfs_root(const struct fake_sysfs *t);     /* R */
const char *fake_sysfs_sys(const struct fake_sysfs *t);      /* R/sys */
const char *fake_sysfs_proc(const struct fake_sysfs *t);     /* R/proc */

/* Create root bus "DDDD:BB" (sys/devices/pciDDDD:BB).  Implicitly created
 * by fake_sysfs_add_device for a parent-less device. */
void fake_sysfs_add_root_bus(struct fake_sysfs *t, const char *dom_bus);

/*
 * Add a function at bdf ("DDDD:BB:DD.F") below parent (the BDF of an
 * already added bridge, or NULL for the root bus DDDD:BB of bdf).  Creates
 * every attribute file, the links, and the driver directory if needed.
 */
void fake_sysfs_add_device(struct fake_sysfs *t, const char *bdf,
                           const char *parent, const struct fake_pci *desc);

/* The driver a probe of bdf picks (drivers_probe, a bind to it) when no
 * driver_override is set; by default the driver given at add time.  For a
 * device added bound to pciback, this is the driver it came from. */
void fake_sysfs_set_native_driver(struct fake_sysfs *t, const char *bdf,
                                  const char *driver);

/* Add VF vf of PF pf (already added with sriov_totalvfs > 0): places it as
 * the PF's sibling (same parent), creates physfn / virtfnN links, bumps
 * sriov_numvfs. */
void fake_sysfs_add_vf(struct fake_sysfs *t, const char *pf, const char *vf,
                       const struct fake_pci *desc);

/* A network interface under bdf: <dev>/net/<ifname>/{operstate,flags,
 * ifindex,address} and sys/class/net/<ifname>. */
void fake_sysfs_add_netdev(struct fake_sysfs *t, const char *bdf,
                           const char *ifname, bool up);
/* Add a line to proc/net/route making ifname hold the default route. */
void fake_sysfs_add_default_route(struct fake_sysfs *t, const char *ifname);

/* A whole disk under bdf (NVMe style: <dev>/nvme/nvme0/<disk>), with
 * "dev" = major:minor, and sys/class/block/<disk>. */
void fake_sysfs_add_disk(struct fake_sysfs *t, const char *bdf,
                         const char *disk, unsigned major, unsigned minor);
/* A partition of disk: <disk>/<part>/dev, sys/class/block/<part>. */
void fake_sysfs_add_partition(struct fake_sysfs *t, const char *disk,
                              const char *part, unsigned major,
                              unsigned minor);
/* A device-mapper (or md) device whose slave is blk: virtual block device
 * sys/devices/virtual/block/<holder> with dev, slaves/<blk>, and
 * <blk>/holders/<holder>. */
void fake_sysfs_add_holder(struct fake_sysfs *t, const char *blk,
                           const char *holder, unsigned major,
                           unsigned minor);
/* Append a mountinfo line for major:minor mounted at mountpoint. */
void fake_sysfs_add_mount(struct fake_sysfs *t, unsigned major,
                          unsigned minor, const char *mountpoint,
                          const char *fstype);
/* The same with every field given: root (the mounted subtree, "/" or a
 * btrfs subvolume "/@"), source ("/dev/nvme0n1p2", "rpool/ROOT/debian",
 * "overlay") and super options (NULL: "rw"); major 0 makes the
 * anonymous device number btrfs, zfs, overlay and bcachefs show. */
void fake_sysfs_add_mount_source(struct fake_sysfs *t, unsigned major,
                                 unsigned minor, const char *root,
                                 const char *mountpoint, const char *fstype,
                                 const char *source, const char *super_opts);
/* /sys, /proc, /dev, /run, cgroup2, ... as every host mounts them. */
void fake_sysfs_add_pseudo_mounts(struct fake_sysfs *t);
/* A swap file: a /proc/swaps line of type "file". */
void fake_sysfs_add_swap_file(struct fake_sysfs *t, const char *file);
/* NVMe native multipath (Linux 6.1 layout): one subsystem whose
 * controllers are the functions bdfs (each gets its controller nvme<C>),
 * a head disk nvme<S>n<nsid> with dev major:minor under
 * devices/virtual/nvme-subsystem/nvme-subsys<S>/, and a hidden path node
 * nvme<S>c<C>n<nsid> (no dev) under each controller.  Returns the head
 * disk's name (partitions go on it with fake_sysfs_add_partition). */
const char *fake_sysfs_add_nvme_multipath(struct fake_sysfs *t,
                                          const char *const *bdfs,
                                          unsigned n, unsigned nsid,
                                          unsigned major, unsigned minor);
/* A loop device devices/virtual/block/<loop> with loop/backing_file. */
void fake_sysfs_add_loop(struct fake_sysfs *t, const char *loop,
                         unsigned major, unsigned minor,
                         const char *backing_file);
/* sys/fs/btrfs/<fsid>/devices/<blk> for each member block device. */
void fake_sysfs_add_btrfs(struct fake_sysfs *t, const char *fsid,
                          const char *const *blks, unsigned n);
/* bcache device <bcache> (major:minor) over backing, cached on cache, in
 * the cache set /sys/fs/bcache/<set>. */
void fake_sysfs_add_bcache(struct fake_sysfs *t, const char *cache,
                           const char *backing, const char *bcache,
                           unsigned major, unsigned minor, const char *set);
/* Append arguments to proc/cmdline (which starts as a dom0's:
 * "placeholder root=UUID=... ro quiet"). */
void fake_sysfs_cmdline_append(struct fake_sysfs *t, const char *args);
/* A virtual net device devices/virtual/net/<ifname>; kind is the uevent
 * DEVTYPE: "bridge" (with bridge/, brif/), "bond" (with bonding/),
 * "vlan", "macvlan". */
void fake_sysfs_add_virtual_netdev(struct fake_sysfs *t, const char *ifname,
                                   const char *kind, bool up);
/* Stack upper on lower: upper_<upper> / lower_<lower> links, and for a
 * bridge or bond the port's "master" link (and brport/, bonding_slave/). */
void fake_sysfs_set_upper(struct fake_sysfs *t, const char *lower,
                          const char *upper);
/* Append a /proc/swaps line for /dev/<blk>. */
void fake_sysfs_add_swap(struct fake_sysfs *t, const char *blk);
/* A framebuffer under bdf: <dev>/graphics/<fb>, sys/class/graphics/<fb>. */
void fake_sysfs_add_fb(struct fake_sysfs *t, const char *bdf, const char *fb);

/* Create sys/bus/pci/drivers/pciback with slots, new_slot, remove_slot,
 * bind, unbind, permissive, quirks (empty). */
void fake_sysfs_load_pciback(struct fake_sysfs *t);
/* Append bdf to pciback's slots. */
void fake_sysfs_pciback_add_slot(struct fake_sysfs *t, const char *bdf);

/* Raw access for malformed trees; paths are relative to R. */
void fake_sysfs_write(struct fake_sysfs *t, const char *relpath,
                      const void *data, size_t len);
void fake_sysfs_unlink(struct fake_sysfs *t, const char *relpath);
void fake_sysfs_mkdir(struct fake_sysfs *t, const char *relpath);
void fake_sysfs_symlink(struct fake_sysfs *t, const char *relpath,
                        const char *target);
/* Sysfs-relative path of a device directory ("devices/pci0000:00/..."). */
const char *fake_sysfs_dev_path(const struct fake_sysfs *t, const char *bdf);

/*
 * Kernel behaviour on writes, for libxpci's sysfs backend hook:
 * xpci_params.sysfs_ops = &fake_sysfs_ops, sysfs_priv = t.
 *  - drivers/<d>/unbind <bdf>: removes the device's driver link and the
 *    driver's device link; -ENODEV if not bound to d.
 *  - drivers/<d>/bind <bdf>: creates both links; -EBUSY if already bound,
 *    -ENODEV if refused (see fake_sysfs_refuse) or no such device.
 *  - drivers/pciback/new_slot / remove_slot: edits pciback's slots.
 *  - devices/<bdf>/driver_override: stores the value ("" -> "(null)").
 *  - devices/<bdf>/reset: -EIO if refused, else records it.
 *  - drivers_probe <bdf>: binds driver_override's driver, else the
 *    device's "native" driver given at add time.
 * Every write is appended to a log readable with fake_sysfs_writes().
 */
extern const struct xpci_sysfs_ops fake_sysfs_ops;

/* Make the next write to relpath (sysfs-relative) fail with -err. */
void fake_sysfs_refuse(struct fake_sysfs *t, const char *relpath, int err);
/* The writes seen so far, "path=value" each, in order; NULL-terminated. */
const char *const *fake_sysfs_writes(const struct fake_sysfs *t);
void fake_sysfs_clear_writes(struct fake_sysfs *t);

#endif /* FAKE_SYSFS_H */
