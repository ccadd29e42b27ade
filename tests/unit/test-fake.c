/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-fake.c - the fakes themselves: the fake kernel's trees read like
 * Linux's (relative links, config space, resource lines, procfs) and its
 * writes act like the kernel's; the fake hypervisor answers like Xen.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-hv.h"
#include "fake-sysfs.h"
#include "topologies.h"

struct fixture {
    struct fake_sysfs *t;
    int rootfd;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->t = fake_sysfs_new();
    f->rootfd = open(fake_sysfs_sys(f->t), O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->rootfd >= 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char root[4096];

    snprintf(root, sizeof(root), "%s", fake_sysfs_root(f->t));
    close(f->rootfd);
    fake_sysfs_free(f->t);
    assert_int_equal(access(root, F_OK), -1); /* the tree is gone */
    free(f);
    return 0;
}

static int kwrite(struct fixture *f, const char *path, const char *val)
{
    return fake_sysfs_ops.write(f->t, f->rootfd, path, val, strlen(val));
}

/* Target of a link below R/sys, or "" when there is none. */
static const char *link_of(struct fixture *f, const char *rel)
{
    static char buf[4096];
    char path[4096];
    ssize_t r;

    snprintf(path, sizeof(path), "%s/%s", fake_sysfs_sys(f->t), rel);
    r = readlink(path, buf, sizeof(buf) - 1);
    buf[r < 0 ? 0 : r] = '\0';
    return buf;
}

/* Contents of a file below R (sys/... or proc/...), "" if absent. */
static const char *file_of(struct fixture *f, const char *rel)
{
    static char buf[65536];
    char path[4096];
    ssize_t r = -1;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", fake_sysfs_root(f->t), rel);
    fd = open(path, O_RDONLY);
    if (fd >= 0) {
        r = read(fd, buf, sizeof(buf) - 1);
        close(fd);
    }
    buf[r < 0 ? 0 : r] = '\0';
    return buf;
}

static bool exists(struct fixture *f, const char *rel)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", fake_sysfs_sys(f->t), rel);
    return lstat(path, &st) == 0;
}

/* Config space of bdf; returns its length. */
static size_t config_of(struct fixture *f, const char *bdf, uint8_t *cfg)
{
    char path[4096];
    ssize_t r;
    int fd;

    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config",
             fake_sysfs_sys(f->t), bdf);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    r = read(fd, cfg, 4096);
    close(fd);
    assert_true(r >= 0);
    return (size_t)r;
}

static unsigned rd16(const uint8_t *c, size_t off)
{
    return c[off] | (unsigned)c[off + 1] << 8;
}

static uint32_t rd32(const uint8_t *c, size_t off)
{
    return rd16(c, off) | (uint32_t)rd16(c, off + 2) << 16;
}

/* Offset of capability id, or 0. */
static size_t find_cap(const uint8_t *c, unsigned id)
{
    unsigned ptr = c[0x34];

    if (!(rd16(c, 0x06) & 0x10))
        return 0;
    for (int ttl = 48; ptr >= 0x40 && ttl--; ptr = c[ptr + 1])
        if (c[ptr] == id)
            return ptr;
    return 0;
}

static size_t find_ext_cap(const uint8_t *c, size_t len, unsigned id)
{
    size_t ptr = 0x100;

    while (ptr >= 0x100 && ptr + 4 <= len && rd32(c, ptr)) {
        if ((rd32(c, ptr) & 0xffff) == id)
            return ptr;
        ptr = rd32(c, ptr) >> 20;
    }
    return 0;
}

/* ---------------------------------------------------------- layout */

static void test_links_are_relative_like_sysfs(void **state)
{
    struct fixture *f = *state;

    topo_nic(f->t);
    topo_sriov(f->t);
    assert_string_equal(link_of(f, "bus/pci/devices/0000:01:00.0"),
                        "../../../devices/pci0000:00/0000:00:1c.0/"
                        "0000:01:00.0");
    assert_string_equal(link_of(f, "bus/pci/devices/0000:01:00.0/subsystem"),
                        "../../../../bus/pci");
    assert_string_equal(link_of(f, "bus/pci/devices/0000:01:00.0/driver"),
                        "../../../../bus/pci/drivers/e1000e");
    assert_string_equal(link_of(f, "bus/pci/devices/0000:01:00.0/iommu_group"),
                        "../../../../kernel/iommu_groups/2");
    assert_string_equal(link_of(f, "bus/pci/drivers/e1000e/0000:01:00.0"),
                        "../../../../devices/pci0000:00/0000:00:1c.0/"
                        "0000:01:00.0");
    assert_string_equal(link_of(f, "kernel/iommu_groups/2/devices/"
                                   "0000:01:00.0"),
                        "../../../../devices/pci0000:00/0000:00:1c.0/"
                        "0000:01:00.0");
    assert_string_equal(link_of(f, "class/net/enp1s0"),
                        "../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0/"
                        "net/enp1s0");
    assert_string_equal(link_of(f, "class/net/enp1s0/device"),
                        "../../../0000:01:00.0");
    assert_string_equal(link_of(f, "bus/pci/devices/0000:07:10.2/physfn"),
                        "../0000:07:00.0");
    assert_string_equal(link_of(f, "bus/pci/devices/0000:07:00.0/virtfn1"),
                        "../0000:07:10.2");
    assert_string_equal(file_of(f, "sys/bus/pci/devices/0000:07:00.0/"
                                   "sriov_numvfs"),
                        "2\n");
    assert_string_equal(file_of(f, "sys/bus/pci/devices/0000:07:00.0/"
                                   "sriov_offset"),
                        "128\n");
    assert_string_equal(file_of(f, "sys/bus/pci/devices/0000:07:00.0/"
                                   "sriov_stride"),
                        "2\n");
    assert_string_equal(fake_sysfs_dev_path(f->t, "0000:07:10.2"),
                        "devices/pci0000:00/0000:00:03.0/0000:07:10.2");
}

static void test_dom0_layouts_link_like_sysfs(void **state)
{
    struct fixture *f = *state;
    char path[512];

    topo_nvme_multipath(f->t);
    topo_bridge(f->t);
    assert_string_equal(link_of(f, "class/block/nvme0n1"),
                        "../../devices/virtual/nvme-subsystem/nvme-subsys0/"
                        "nvme0n1");
    assert_string_equal(link_of(f, "class/block/nvme0n1p2"),
                        "../../devices/virtual/nvme-subsystem/nvme-subsys0/"
                        "nvme0n1/nvme0n1p2");
    assert_string_equal(link_of(f, "devices/virtual/nvme-subsystem/"
                                   "nvme-subsys0/nvme1"),
                        "../../../pci0000:00/0000:00:07.0/0000:0b:00.0/nvme/"
                        "nvme1");
    assert_string_equal(link_of(f, "class/block/nvme0c1n1"),
                        "../../devices/pci0000:00/0000:00:07.0/0000:0b:00.0/"
                        "nvme/nvme1/nvme0c1n1");
    /* the hidden path node has no device number */
    snprintf(path, sizeof(path), "%s/class/block/nvme0c1n1/dev",
             fake_sysfs_sys(f->t));
    assert_int_equal(access(path, F_OK), -1);
    assert_string_equal(link_of(f, "class/net/enp15s0/master"),
                        "../../../../../virtual/net/xenbr0");
    assert_string_equal(link_of(f, "class/net/enp15s0/upper_xenbr0"),
                        "../../../../../virtual/net/xenbr0");
    assert_string_equal(link_of(f, "class/net/xenbr0/lower_enp15s0"),
                        "../../../pci0000:00/0000:00:0b.0/0000:0f:00.0/net/"
                        "enp15s0");
    assert_string_equal(link_of(f, "class/net/xenbr0/brif/enp15s0"),
                        "../../../../pci0000:00/0000:00:0b.0/0000:0f:00.0/"
                        "net/enp15s0/brport");
}

static void test_attributes_read_like_the_kernel(void **state)
{
    struct fixture *f = *state;
    const char *d = "sys/bus/pci/devices/0000:01:00.0/";
    char p[256];

#define ATTR(name) (snprintf(p, sizeof(p), "%s%s", d, name), file_of(f, p))
    topo_nic(f->t);
    assert_string_equal(ATTR("vendor"), "0x8086\n");
    assert_string_equal(ATTR("device"), "0x10d3\n");
    assert_string_equal(ATTR("subsystem_device"), "0xa01f\n");
    assert_string_equal(ATTR("class"), "0x020000\n");
    assert_string_equal(ATTR("revision"), "0x00\n");
    assert_string_equal(ATTR("irq"), "16\n");
    assert_string_equal(ATTR("numa_node"), "-1\n");
    assert_string_equal(ATTR("driver_override"), "(null)\n");
    assert_string_equal(ATTR("reset_method"), "flr bus\n");
    assert_string_equal(ATTR("modalias"),
                        "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00"
                        "i00\n");
    assert_true(exists(f, "bus/pci/devices/0000:01:00.0/reset"));
    assert_false(exists(f, "bus/pci/devices/0000:01:00.0/boot_vga"));
    assert_string_equal(file_of(f, "sys/bus/pci/devices/0000:00:1c.0/"
                                   "secondary_bus_number"),
                        "1\n");
#undef ATTR

    topo_no_reset(f->t);
    assert_false(exists(f, "bus/pci/devices/0000:08:00.0/reset_method"));
    assert_false(exists(f, "bus/pci/devices/0000:08:00.0/reset"));
}

static void test_config_capability_list_walks(void **state)
{
    struct fixture *f = *state;
    uint8_t c[4096];
    size_t len, cap;

    topo_sriov(f->t);
    topo_gpu_audio(f->t);
    topo_pcie_to_pci(f->t);
    topo_malformed(f->t);

    len = config_of(f, "0000:07:00.0", c);
    assert_int_equal(len, 4096);
    assert_int_equal(rd16(c, 0), 0x8086);
    assert_int_equal(rd16(c, 2), 0x10fb);
    assert_int_equal(rd32(c, 8) >> 8, 0x020000);
    assert_int_equal(c[0x0e], 0x00);
    assert_int_equal(rd16(c, 0x2c), 0x8086);
    assert_int_not_equal(find_cap(c, 0x01), 0);
    assert_int_not_equal(find_cap(c, 0x11), 0);
    cap = find_cap(c, 0x10);
    assert_int_not_equal(cap, 0);
    assert_int_equal((rd16(c, cap + 2) >> 4) & 0xf, 0);
    assert_true(rd32(c, cap + 4) & (1U << 28));
    cap = find_ext_cap(c, len, 0x0010);
    assert_int_not_equal(cap, 0);
    assert_int_equal(rd16(c, cap + 0x0e), 63);
    assert_int_equal(rd16(c, cap + 0x10), 2);
    assert_int_equal(rd16(c, cap + 0x14), 128);
    assert_int_equal(rd16(c, cap + 0x16), 2);

    len = config_of(f, "0000:04:00.0", c);
    assert_int_equal(c[0x0e], 0x80); /* multifunction */
    cap = find_cap(c, 0x10);
    assert_false(rd32(c, cap + 4) & (1U << 28));
    assert_int_equal(rd32(c, 0x14) & 0xf, 0xc); /* 64-bit prefetchable */
    assert_int_equal(find_ext_cap(c, len, 0x0010), 0);

    len = config_of(f, "0000:06:01.0", c);
    assert_int_equal(len, 256);
    assert_int_equal(find_cap(c, 0x10), 0);
    cap = find_cap(c, 0x01);
    assert_int_not_equal(cap, 0);
    assert_false(rd16(c, cap + 4) & 0x8);

    len = config_of(f, "0000:05:00.0", c);
    assert_int_equal(c[0x0e], 0x01);
    assert_int_equal(c[0x19], 6);
    assert_int_equal(c[0x1a], 6);
    assert_int_equal((rd16(c, find_cap(c, 0x10) + 2) >> 4) & 0xf, 7);

    assert_int_equal(config_of(f, "0000:00:10.0", c), 10);
    assert_false(exists(f, "bus/pci/devices/0000:00:12.0/config"));
}

static void test_resource_lines_parse(void **state)
{
    struct fixture *f = *state;
    unsigned long long s, e, fl;
    const char *text, *p;
    int lines = 0;

    topo_nic(f->t);
    topo_gpu_audio(f->t);
    text = file_of(f, "sys/bus/pci/devices/0000:01:00.0/resource");
    for (p = text; *p; p = strchr(p, '\n') + 1) {
        assert_int_equal(sscanf(p, "0x%llx 0x%llx 0x%llx", &s, &e, &fl), 3);
        if (lines == 0) {
            assert_true(s == 0xfebc0000ULL && e == 0xfebdffffULL);
            assert_true(fl == 0x40200ULL);
        } else if (lines == 2) {
            assert_true(s == 0xc000 && e == 0xc01f && fl == 0x40101ULL);
        } else if (lines != 3) {
            assert_true(s == 0 && e == 0 && fl == 0);
        }
        lines++;
    }
    assert_int_equal(lines, 13);

    text = file_of(f, "sys/bus/pci/devices/0000:04:00.0/resource");
    p = strchr(text, '\n') + 1; /* BAR1 */
    assert_int_equal(sscanf(p, "0x%llx 0x%llx 0x%llx", &s, &e, &fl), 3);
    assert_true(s == 0xe0000000ULL && e == 0xefffffffULL);
    assert_true(fl == 0x14220cULL);

    text = file_of(f, "sys/bus/pci/devices/0000:00:1c.0/resource");
    for (lines = 0, p = text; *p; p = strchr(p, '\n') + 1)
        lines++;
    assert_int_equal(lines, 17);
}

static void test_proc_files_have_the_kernel_format(void **state)
{
    struct fixture *f = *state;
    const char *route;

    topo_nvme_root(f->t);
    topo_nic_default_route(f->t);
    fake_sysfs_add_mount(f->t, 259, 1, "/srv/a b", "xfs");
    fake_sysfs_add_swap(f->t, "nvme0n1p1");
    assert_string_equal(file_of(f, "proc/self/mountinfo"),
                        "22 1 259:2 / / rw,relatime shared:1 - ext4 "
                        "/dev/nvme0n1p2 rw\n"
                        "23 22 259:1 / /boot/efi rw,relatime shared:2 - vfat "
                        "/dev/nvme0n1p1 rw\n"
                        "24 22 259:1 / /srv/a\\040b rw,relatime shared:3 - "
                        "xfs /dev/nvme0n1p1 rw\n");
    route = file_of(f, "proc/net/route");
    /* header and route, each padded to 127 columns */
    assert_int_equal(strlen(route), 2 * 128);
    assert_non_null(strstr(route, "\nenp2s0\t00000000\t0102A8C0\t0003\t0\t0\t"
                                  "100\t00000000\t0\t0\t0 "));
    assert_non_null(strstr(file_of(f, "proc/swaps"),
                           "Priority\n/dev/nvme0n1p1                "
                           "          partition\t8388604\t\t0\t\t-2\n"));
    assert_string_equal(file_of(f, "sys/class/block/nvme0n1p2/dev"), "259:2\n");
    assert_string_equal(file_of(f, "sys/class/block/nvme0n1p2/partition"),
                        "2\n");
    assert_string_equal(link_of(f, "dev/block/259:0"),
                        "../../devices/pci0000:00/0000:00:1e.0/0000:03:00.0/"
                        "nvme/nvme0/nvme0n1");
}

static void test_holders_link_both_ways(void **state)
{
    struct fixture *f = *state;

    topo_nvme_root(f->t);
    fake_sysfs_add_holder(f->t, "nvme0n1p2", "dm-0", 254, 0);
    assert_string_equal(link_of(f, "class/block/nvme0n1/nvme0n1p2/holders/"
                                   "dm-0"),
                        "../../../../../../../../virtual/block/dm-0");
    assert_string_equal(link_of(f, "devices/virtual/block/dm-0/slaves/"
                                   "nvme0n1p2"),
                        "../../../../pci0000:00/0000:00:1e.0/0000:03:00.0/"
                        "nvme/nvme0/nvme0n1/nvme0n1p2");
    assert_string_equal(file_of(f, "sys/class/block/dm-0/dev"), "254:0\n");
}

/* ---------------------------------------------------------- writes */

static void test_bind_and_unbind_move_the_links(void **state)
{
    struct fixture *f = *state;
    const char *const *w;

    topo_nic(f->t);
    assert_int_equal(
        kwrite(f, "bus/pci/drivers/e1000e/unbind", "0000:01:00.0\n"), 0);
    assert_false(exists(f, "bus/pci/devices/0000:01:00.0/driver"));
    assert_false(exists(f, "bus/pci/drivers/e1000e/0000:01:00.0"));
    assert_string_equal(file_of(f, "sys/bus/pci/devices/0000:01:00.0/"
                                   "enable"),
                        "0\n");
    assert_int_equal(kwrite(f, "bus/pci/drivers/e1000e/unbind", "0000:01:00.0"),
                     -ENODEV);
    assert_int_equal(kwrite(f, "bus/pci/drivers/e1000e/bind", "0000:01:00.0"),
                     0);
    assert_string_equal(link_of(f, "bus/pci/devices/0000:01:00.0/driver"),
                        "../../../../bus/pci/drivers/e1000e");
    assert_true(exists(f, "bus/pci/drivers/e1000e/0000:01:00.0"));
    assert_int_equal(kwrite(f, "bus/pci/drivers/e1000e/bind", "0000:01:00.0"),
                     -EBUSY);
    assert_int_equal(kwrite(f, "bus/pci/drivers/e1000e/bind", "0000:42:00.0"),
                     -ENODEV);
    assert_int_equal(kwrite(f, "bus/pci/drivers/nosuch/bind", "0000:01:00.0"),
                     -ENOENT);

    w = fake_sysfs_writes(f->t);
    assert_string_equal(w[0], "bus/pci/drivers/e1000e/unbind=0000:01:00.0");
    assert_string_equal(w[2], "bus/pci/drivers/e1000e/bind=0000:01:00.0");
    assert_non_null(w[5]);
    assert_null(w[6]);
    fake_sysfs_clear_writes(f->t);
    assert_null(fake_sysfs_writes(f->t)[0]);
}

static void test_refusal_fails_the_next_write_only(void **state)
{
    struct fixture *f = *state;

    topo_nic(f->t);
    fake_sysfs_refuse(f->t, "bus/pci/devices/0000:01:00.0/reset", EIO);
    /* the same file through its canonical path */
    assert_int_equal(kwrite(f,
                            "devices/pci0000:00/0000:00:1c.0/0000:01:00.0/"
                            "reset",
                            "1"),
                     -EIO);
    assert_int_equal(kwrite(f, "bus/pci/devices/0000:01:00.0/reset", "1"), 0);
    assert_int_equal(kwrite(f, "bus/pci/devices/0000:01:00.0/reset", "2"),
                     -EINVAL);

    fake_sysfs_refuse(f->t, "bus/pci/drivers/e1000e/unbind", EBUSY);
    assert_int_equal(kwrite(f, "bus/pci/drivers/e1000e/unbind", "0000:01:00.0"),
                     -EBUSY);
    assert_true(exists(f, "bus/pci/devices/0000:01:00.0/driver"));
}

static void test_pciback_takes_only_its_slots(void **state)
{
    struct fixture *f = *state;

    topo_nic(f->t);
    assert_int_equal(fake_sysfs_ops.modprobe(f->t, "xen-pciback"), 0);
    assert_true(exists(f, "bus/pci/drivers/pciback/new_slot"));
    assert_int_equal(kwrite(f, "bus/pci/drivers/e1000e/unbind", "0000:01:00.0"),
                     0);
    assert_int_equal(kwrite(f, "bus/pci/drivers/pciback/bind", "0000:01:00.0"),
                     -ENODEV);
    assert_int_equal(
        kwrite(f, "bus/pci/drivers/pciback/new_slot", "0000:01:00.0"), 0);
    assert_string_equal(file_of(f, "sys/bus/pci/drivers/pciback/slots"),
                        "0000:01:00.0\n");
    assert_int_equal(kwrite(f, "bus/pci/drivers/pciback/bind", "0000:01:00.0"),
                     0);
    assert_string_equal(link_of(f, "bus/pci/devices/0000:01:00.0/driver"),
                        "../../../../bus/pci/drivers/pciback");
    assert_int_equal(kwrite(f, "bus/pci/drivers/pciback/new_slot", "zz"),
                     -EINVAL);

    /* giving it back: unbind, forget the slot, reprobe */
    assert_int_equal(
        kwrite(f, "bus/pci/drivers/pciback/unbind", "0000:01:00.0"), 0);
    assert_int_equal(
        kwrite(f, "bus/pci/drivers/pciback/remove_slot", "0000:01:00.0"), 0);
    assert_int_equal(
        kwrite(f, "bus/pci/drivers/pciback/remove_slot", "0000:01:00.0"),
        -ENOENT);
    assert_int_equal(kwrite(f, "bus/pci/drivers_probe", "0000:01:00.0"), 0);
    assert_string_equal(link_of(f, "bus/pci/devices/0000:01:00.0/driver"),
                        "../../../../bus/pci/drivers/e1000e");
}

static void test_driver_override_decides_the_probe(void **state)
{
    struct fixture *f = *state;
    const char *ov = "sys/bus/pci/devices/0000:09:00.0/driver_override";

    topo_pciback(f->t);
    assert_int_equal(
        kwrite(f, "bus/pci/drivers/pciback/unbind", "0000:09:00.0"), 0);
    assert_int_equal(
        kwrite(f, "bus/pci/drivers/pciback/remove_slot", "0000:09:00.0"), 0);
    assert_int_equal(kwrite(f,
                            "bus/pci/devices/0000:09:00.0/"
                            "driver_override",
                            "pciback\n"),
                     0);
    assert_string_equal(file_of(f, ov), "pciback\n");
    /* an override keeps other drivers away */
    assert_int_equal(kwrite(f, "bus/pci/drivers/e1000e/bind", "0000:09:00.0"),
                     -ENODEV);
    assert_int_equal(kwrite(f, "bus/pci/drivers_probe", "0000:09:00.0"), 0);
    assert_string_equal(link_of(f, "bus/pci/devices/0000:09:00.0/driver"),
                        "../../../../bus/pci/drivers/pciback");
    /* pciback adds an overridden device to its slots */
    assert_string_equal(file_of(f, "sys/bus/pci/drivers/pciback/slots"),
                        "0000:09:00.0\n");

    assert_int_equal(
        kwrite(f, "bus/pci/drivers/pciback/unbind", "0000:09:00.0"), 0);
    assert_int_equal(kwrite(f,
                            "bus/pci/devices/0000:09:00.0/"
                            "driver_override",
                            "\n"),
                     0);
    assert_string_equal(file_of(f, ov), "(null)\n");
    assert_int_equal(
        kwrite(f, "bus/pci/drivers/pciback/remove_slot", "09:00.0"), 0);
    /* a probe refused by the driver leaves the device unbound, and the
     * write still succeeds, as in the kernel */
    fake_sysfs_refuse(f->t, "bus/pci/drivers/e1000e/bind", ENODEV);
    assert_int_equal(kwrite(f, "bus/pci/drivers_probe", "0000:09:00.0"), 0);
    assert_false(exists(f, "bus/pci/devices/0000:09:00.0/driver"));
    assert_int_equal(kwrite(f, "bus/pci/drivers_probe", "0000:09:00.0"), 0);
    assert_string_equal(link_of(f, "bus/pci/devices/0000:09:00.0/driver"),
                        "../../../../bus/pci/drivers/e1000e");
}

static void test_new_id_binds_matching_devices(void **state)
{
    struct fixture *f = *state;

    topo_sriov(f->t);
    fake_sysfs_write(f->t, "sys/bus/pci/drivers/vfio-pci/bind", "", 0);
    fake_sysfs_write(f->t, "sys/bus/pci/drivers/vfio-pci/new_id", "", 0);
    fake_sysfs_write(f->t, "sys/bus/pci/drivers/vfio-pci/remove_id", "", 0);
    assert_int_equal(kwrite(f, "bus/pci/drivers/vfio-pci/bind", "0000:07:10.2"),
                     -ENODEV);
    assert_int_equal(kwrite(f, "bus/pci/drivers/vfio-pci/new_id", "8086 10ed"),
                     0);
    /* the unbound VF is taken, the bound one is not */
    assert_string_equal(link_of(f, "bus/pci/devices/0000:07:10.2/driver"),
                        "../../../../bus/pci/drivers/vfio-pci");
    assert_string_equal(link_of(f, "bus/pci/devices/0000:07:10.0/driver"),
                        "../../../../bus/pci/drivers/ixgbevf");
    assert_int_equal(
        kwrite(f, "bus/pci/drivers/vfio-pci/remove_id", "8086 10ed"), 0);
    assert_int_equal(
        kwrite(f, "bus/pci/drivers/vfio-pci/remove_id", "8086 10ed"), -ENODEV);
}

static void test_topologies_compose(void **state)
{
    struct fixture *f = *state;

    topo_host(f->t);
    assert_true(exists(f, "bus/pci/devices/0000:00:00.0"));
    assert_true(exists(f, "bus/pci/devices/0000:09:00.0"));
    assert_true(exists(f, "bus/pci/devices/0000:00:13.0"));
    assert_non_null(topo_lookup("nic"));
    assert_null(topo_lookup("nope"));
    assert_string_equal(file_of(f, "sys/bus/pci/devices/0000:00:11.0/"
                                   "resource"),
                        "hello\n");
    assert_string_equal(link_of(f, "bus/pci/devices/0000:00:13.0/"
                                   "iommu_group"),
                        "../../../kernel/iommu_groups/999");
}

/* ---------------------------------------------------------- hypervisor */

static uint32_t sbdf(unsigned bus, unsigned dev, unsigned fn)
{
    return bus << 8 | dev << 3 | fn;
}

static void test_hv_ownership_follows_xen(void **state)
{
    struct fake_hv *hv = fake_hv_new();
    const struct xpci_hv_ops *o = &fake_hv_ops;
    uint32_t nic = sbdf(1, 0, 0);

    (void)state;
    fake_hv_add_domain(hv, 3);
    fake_hv_add_domain(hv, 4);
    fake_hv_set_passthrough(hv, 4, false);
    fake_hv_remove_device(hv, "0000:55:00.0");

    /* Xen refuses a test of self-assignment: dom0 asks for nobody */
    assert_int_equal(o->test_assign(hv, 0, nic), -EINVAL);
    assert_int_equal(o->test_assign(hv, XPCI_DOMID_INVALID, nic), 0);
    assert_int_equal(o->test_assign(hv, XPCI_DOMID_INVALID, sbdf(0x55, 0, 0)), -EINVAL);
    assert_int_equal(o->assign(hv, 9, nic, 0), -ESRCH);
    assert_int_equal(o->assign(hv, 4, nic, 0), -EOPNOTSUPP);
    assert_int_equal(o->assign(hv, 3, sbdf(0x55, 0, 0), 0), -ENODEV);
    assert_int_equal(o->assign(hv, XPCI_DOMID_IO, nic, 0), 0);
    assert_int_equal(fake_hv_owner(hv, "0000:01:00.0"), XPCI_DOMID_IO);
    assert_int_equal(o->test_assign(hv, XPCI_DOMID_INVALID, nic), 0);
    assert_int_equal(o->assign(hv, 3, nic, 0), 0);
    assert_int_equal(o->test_assign(hv, XPCI_DOMID_INVALID, nic), -EINVAL);
    assert_int_equal(o->assign(hv, XPCI_DOMID_IO, nic, 0), -EBUSY);
    assert_int_equal(o->deassign(hv, XPCI_DOMID_IO, nic), -ENODEV);
    /* back to the quarantine, then to dom0 */
    assert_int_equal(o->deassign(hv, 3, nic), 0);
    assert_int_equal(fake_hv_owner(hv, "0000:01:00.0"), XPCI_DOMID_IO);
    assert_int_equal(o->deassign(hv, 3, nic), -ENODEV);
    assert_int_equal(o->deassign(hv, XPCI_DOMID_IO, nic), 0);
    assert_int_equal(fake_hv_owner(hv, "0000:01:00.0"), 0);
    assert_int_equal(fake_hv_owner(hv, "0000:02:00.0"), -1);
    assert_int_equal(o->domain_exists(hv, 3), 0);
    assert_int_equal(o->domain_exists(hv, 7), -ESRCH);
    assert_string_equal(fake_hv_calls(hv)[0], "test_assign(0, 0000:01:00.0)");
    assert_string_equal(fake_hv_calls(hv)[1],
                        "test_assign(32756, 0000:01:00.0)");
    assert_string_equal(fake_hv_calls(hv)[6], "assign(32753, 0000:01:00.0, 0)");
    fake_hv_free(hv);
}

static void test_hv_groups_rdm_and_failures(void **state)
{
    struct fake_hv *hv = fake_hv_new();
    const struct xpci_hv_ops *o = &fake_hv_ops;
    static const char *const grp[] = {"0000:01:00.0", "0000:02:00.0",
                                      "0000:03:00.0"};
    struct xpci_hv_info info;
    struct xpci_rdm ents[1];
    uint32_t out[8];
    unsigned needed = 0;

    (void)state;
    fake_hv_set_group(hv, grp, 3);
    fake_hv_set_owner(hv, "0000:03:00.0", XPCI_DOMID_IO);
    /* dom0's other members only */
    assert_int_equal(o->device_group(hv, sbdf(1, 0, 0), out, 8), 1);
    assert_int_equal(out[0], sbdf(2, 0, 0));
    assert_int_equal(o->device_group(hv, sbdf(9, 0, 0), out, 8), 0);

    fake_hv_add_rdm(hv, "0000:01:00.0", 0xbd000, 16);
    fake_hv_add_rdm(hv, "0000:01:00.0", 0xbe000, 4);
    assert_int_equal(o->rdm_map(hv, sbdf(1, 0, 0), ents, 1, &needed), -ENOBUFS);
    assert_int_equal(needed, 2);
    assert_int_equal(o->rdm_map(hv, sbdf(2, 0, 0), ents, 1, &needed), 0);

    assert_int_equal(o->physinfo(hv, &info), 0);
    assert_true(info.iommu_enabled);
    fake_hv_set_iommu(hv, false);
    assert_int_equal(o->physinfo(hv, &info), 0);
    assert_false(info.iommu_enabled);
    assert_int_equal(o->assign(hv, XPCI_DOMID_IO, sbdf(1, 0, 0), 0),
                     -EOPNOTSUPP);
    fake_hv_set_iommu(hv, true);

    fake_hv_fail(hv, "assign", EBUSY, 1);
    assert_int_equal(o->assign(hv, XPCI_DOMID_IO, sbdf(1, 0, 0), 0), -EBUSY);
    assert_int_equal(o->assign(hv, XPCI_DOMID_IO, sbdf(1, 0, 0), 0), 0);
    fake_hv_fail(hv, "physinfo", EACCES, -1);
    assert_int_equal(o->physinfo(hv, &info), -EACCES);
    assert_int_equal(o->physinfo(hv, &info), -EACCES);
    fake_hv_clear_calls(hv);
    assert_null(fake_hv_calls(hv)[0]);
    fake_hv_free(hv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_links_are_relative_like_sysfs),
        T(test_attributes_read_like_the_kernel),
        T(test_config_capability_list_walks),
        T(test_resource_lines_parse),
        T(test_proc_files_have_the_kernel_format),
        T(test_holders_link_both_ways),
        T(test_bind_and_unbind_move_the_links),
        T(test_refusal_fails_the_next_write_only),
        T(test_pciback_takes_only_its_slots),
        T(test_driver_override_decides_the_probe),
        T(test_new_id_binds_matching_devices),
        T(test_topologies_compose),
        T(test_dom0_layouts_link_like_sysfs),
#undef T
        cmocka_unit_test(test_hv_ownership_follows_xen),
        cmocka_unit_test(test_hv_groups_rdm_and_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
