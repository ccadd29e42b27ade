/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-scan.c - discovery: what is read from a kernel-shaped sysfs tree
 * (identity, resources, capabilities, topology, SR-IOV, pciback, dom0
 * users) and the context's behaviour without Xen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-sysfs.h"
#include "topologies.h"
#include "xpci.h"
#include "xpci-internal.h"

struct fixture {
    struct fake_sysfs *t;
    xpci_ctx *ctx;
    struct xpci_host *host;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->t = fake_sysfs_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    xpci_host_free(f->host);
    xpci_ctx_free(f->ctx);
    fake_sysfs_free(f->t);
    free(f);
    return 0;
}

static void scan(struct fixture *f)
{
    struct xpci_params p = {
        .sysfs_root = fake_sysfs_sys(f->t),
        .proc_root = fake_sysfs_proc(f->t),
        .flags = XPCI_CTX_NO_HYPERVISOR | XPCI_CTX_NO_XENSTORE,
    };

    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
    assert_int_equal(xpci_host_scan(f->ctx, &f->host), 0);
}

static const struct xpci_device *dev(struct fixture *f, const char *id)
{
    const struct xpci_device *d = NULL;

    assert_int_equal(xpci_host_find(f->host, id, &d), 0);
    return d;
}

static void test_nic_identity_resources_and_capabilities(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;

    topo_host_bridge(f->t);
    topo_nic(f->t);
    scan(f);
    assert_int_equal(xpci_host_count(f->host), 3);
    d = dev(f, "0000:01:00.0");
    assert_null(d->error);
    assert_int_equal(d->vendor, 0x8086);
    assert_int_equal(d->device, 0x10d3);
    assert_int_equal(d->subsys_vendor, 0x8086);
    assert_int_equal(d->subsys_device, 0xa01f);
    assert_int_equal(d->class_code, 0x020000);
    assert_string_equal(d->driver, "e1000e");
    assert_int_equal(d->iommu_group, 2);
    assert_int_equal(d->irq, 16);
    assert_int_equal(d->numa_node, -1);
    assert_true(d->has_msi);
    assert_true(d->has_msix);
    assert_true(d->has_pm);
    assert_true(d->flr);
    assert_true(d->config_full);
    assert_int_equal(d->pcie_type, XPCI_PCIE_ENDPOINT);
    assert_false(d->is_bridge);
    assert_string_equal(d->reset_method, "flr bus");
    assert_int_equal(d->boot_vga, -1);
    assert_null(d->driver_override);

    assert_int_equal(d->bars[0].type, XPCI_BAR_MEM32);
    assert_int_equal(d->bars[0].start, 0xfebc0000);
    assert_int_equal(d->bars[0].size, 0x20000);
    assert_int_equal(d->bars[1].type, XPCI_BAR_UNUSED);
    assert_int_equal(d->bars[2].type, XPCI_BAR_IO);
    assert_int_equal(d->bars[2].start, 0xc000);
    assert_int_equal(d->bars[2].size, 0x20);
    assert_int_equal(d->bars[3].size, 0x4000);

    assert_int_equal(d->n_netdevs, 1);
    assert_string_equal(d->netdevs[0], "enp1s0");
    assert_int_equal(d->sriov_totalvfs, -1);
}

static void test_location_path_names_no_bus_below_root(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d, *by_path;

    topo_nic(f->t);
    topo_pcie_to_pci(f->t);
    scan(f);
    d = dev(f, "0000:01:00.0");
    assert_string_equal(d->location, "pci0000:00/1c.0/00.0");
    assert_int_equal(d->n_parents, 1);
    assert_string_equal(d->parents[0], "0000:00:1c.0");
    d = dev(f, "0000:06:02.0");
    assert_string_equal(d->location, "pci0000:00/02.0/00.0/02.0");
    /* usable wherever a BDF is */
    by_path = dev(f, "pci0000:00/02.0/00.0/02.0");
    assert_ptr_equal(by_path, d);
    /* short BDF form */
    assert_ptr_equal(dev(f, "6:2.0"), d);
}

static void test_find_distinguishes_malformed_from_missing(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d = NULL;

    topo_nic(f->t);
    scan(f);
    assert_int_equal(xpci_host_find(f->host, "0000:77:00.0", &d), -ENODEV);
    assert_int_equal(xpci_host_find(f->host, "pci0000:00/1f.0", &d), -ENODEV);
    assert_int_equal(xpci_host_find(f->host, "eth0", &d), -EINVAL);
    assert_int_equal(xpci_host_find(f->host, "01:00.9", &d), -EINVAL);
    assert_null(d);
}

static void test_bridges_and_host_bridge_are_marked(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;

    topo_host_bridge(f->t);
    topo_pcie_to_pci(f->t);
    scan(f);
    d = dev(f, "0000:00:00.0");
    assert_true(d->is_host_bridge);
    d = dev(f, "0000:00:02.0");
    assert_true(d->is_bridge);
    assert_int_equal(d->pcie_type, XPCI_PCIE_ROOT_PORT);
    d = dev(f, "0000:05:00.0");
    assert_true(d->is_bridge);
    assert_int_equal(d->pcie_type, XPCI_PCIE_TO_PCI_BRIDGE);
    d = dev(f, "0000:06:01.0");
    assert_int_equal(d->pcie_type, XPCI_PCIE_NONE);
    assert_string_equal(d->reset_method, "pm");
}

static void test_sriov_pf_and_vfs_are_linked(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *pf, *vf;

    topo_sriov(f->t);
    scan(f);
    pf = dev(f, "0000:07:00.0");
    assert_true(pf->has_sriov);
    assert_int_equal(pf->sriov_totalvfs, 63);
    assert_int_equal(pf->sriov_numvfs, 2);
    assert_int_equal(pf->n_virtfns, 2);
    assert_string_equal(pf->virtfns[0], "0000:07:10.0");
    assert_string_equal(pf->virtfns[1], "0000:07:10.2");
    vf = dev(f, "0000:07:10.2");
    assert_true(vf->is_vf);
    assert_string_equal(vf->physfn, "0000:07:00.0");
    assert_null(vf->driver);
    assert_int_equal(vf->vendor, 0x8086);
    assert_int_equal(vf->device, 0x10ed);
    assert_false(pf->is_vf);
}

static void test_gpu_boot_vga_framebuffer_and_bars(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;

    topo_gpu_audio(f->t);
    scan(f);
    d = dev(f, "0000:04:00.0");
    assert_int_equal(d->boot_vga, 1);
    assert_true(d->has_fb);
    assert_true(d->multifunction);
    assert_false(d->flr);
    assert_int_equal(d->bars[1].type, XPCI_BAR_MEM64);
    assert_true(d->bars[1].prefetchable);
    assert_int_equal(d->bars[1].size, 0x10000000);
    assert_int_equal(d->bars[6].start, 0xfe000000); /* ROM */
    d = dev(f, "0000:04:00.1");
    assert_int_equal(d->boot_vga, -1);
    assert_false(d->has_fb);
}

static void test_pciback_slots_and_block_devices(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;

    topo_pciback(f->t);
    topo_nvme_root(f->t);
    scan(f);
    d = dev(f, "0000:09:00.0");
    assert_string_equal(d->driver, "pciback");
    assert_true(d->in_pciback_slots);
    d = dev(f, "0000:03:00.0");
    assert_false(d->in_pciback_slots);
    assert_int_equal(d->n_blockdevs, 3); /* disk and two partitions */
}

static void test_no_reset_method_file_means_no_reset(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;

    topo_no_reset(f->t);
    scan(f);
    d = dev(f, "0000:08:00.0");
    assert_null(d->reset_method);
    assert_false(d->has_reset);
}

static void test_malformed_entries_do_not_stop_the_scan(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;

    topo_nic(f->t);
    topo_malformed(f->t);
    scan(f);
    d = dev(f, "0000:00:10.0");
    assert_non_null(strstr(d->error, "config: truncated to 10 bytes"));
    assert_int_equal(d->vendor, 0x8086); /* from the vendor attribute */
    d = dev(f, "0000:00:11.0");
    assert_non_null(strstr(d->error, "resource: malformed line 1"));
    assert_int_equal(d->bars[0].type, XPCI_BAR_UNUSED);
    d = dev(f, "0000:00:12.0");
    assert_non_null(d->error);
    d = dev(f, "0000:00:13.0");
    assert_non_null(strstr(d->error, "iommu_group: link to 999 is dangling"));
    assert_non_null(strstr(d->error, "driver: link to"));
    assert_int_equal(d->iommu_group, -1);
    assert_null(d->driver);
    assert_null(dev(f, "0000:01:00.0")->error);
}

static void test_context_opens_without_xen_and_says_why(void **state)
{
    struct fixture *f = *state;
    struct xpci_params p = {
        .sysfs_root = fake_sysfs_sys(f->t),
        .proc_root = fake_sysfs_proc(f->t),
        /* a /dev without xen/privcmd: the real backend must give up */
        .dev_root = fake_sysfs_root(f->t),
    };
    struct xpci_host_info info;

    topo_nic(f->t);
    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
    assert_non_null(strstr(xpci_ctx_hv_unavailable(f->ctx),
                           "Xen is not running"));
    assert_non_null(strstr(xpci_ctx_hv_unavailable(f->ctx), "privcmd absent"));
    assert_non_null(xpci_ctx_xs_unavailable(f->ctx));
    assert_int_equal(xpci_host_scan(f->ctx, &f->host), 0);
    xpci_host_get_info(f->host, &info);
    assert_int_equal(info.xen_running, XPCI_NO);
    assert_int_equal(info.iommu_enabled, XPCI_UNKNOWN);
}

static void test_missing_sysfs_root_is_an_error(void **state)
{
    struct xpci_params p = {.sysfs_root = "/nonexistent/xpci/sys",
                            .flags = XPCI_CTX_NO_HYPERVISOR};
    xpci_ctx *ctx = NULL;

    assert_int_equal(xpci_ctx_new(&ctx, &p), -ENOENT);
    assert_null(ctx);
}

static void test_tree_without_pci_bus_is_enoent(void **state)
{
    struct fixture *f = *state;
    char path[512];
    struct xpci_params p = {.flags = XPCI_CTX_NO_HYPERVISOR |
                                     XPCI_CTX_NO_XENSTORE};

    /* the proc directory exists but has no bus/pci/devices */
    snprintf(path, sizeof(path), "%s", fake_sysfs_proc(f->t));
    p.sysfs_root = path;
    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
    assert_int_equal(xpci_host_scan(f->ctx, &f->host), -ENOENT);
    assert_null(f->host);
}

/* Remove sys/<device dir of bdf>/<attr> from the tree. */
static void drop_attr(struct fixture *f, const char *bdf, const char *attr)
{
    char path[512];

    snprintf(path, sizeof(path), "sys/%s/%s", fake_sysfs_dev_path(f->t, bdf),
             attr);
    fake_sysfs_unlink(f->t, path);
}

static void test_vf_identity_comes_from_uevent(void **state)
{
    static const char *const attrs[] = {"vendor", "device", "class",
                                        "subsystem_vendor",
                                        "subsystem_device", "driver"};
    struct fixture *f = *state;
    const struct xpci_device *d;

    /* A VF's config space reads all ones in its ids; uevent alone says
     * who it is and which driver holds it (the per-id files and the
     * driver link are not needed). */
    topo_sriov(f->t);
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        drop_attr(f, "0000:07:10.0", attrs[i]);
    scan(f);
    d = dev(f, "0000:07:10.0");
    assert_null(d->error);
    assert_int_equal(d->vendor, 0x8086);
    assert_int_equal(d->device, 0x10ed);
    assert_int_equal(d->class_code, 0x020000);
    assert_int_equal(d->subsys_vendor, 0x8086);
    assert_int_equal(d->subsys_device, 0x000c);
    assert_string_equal(d->driver, "ixgbevf");
}

static void test_vfs_numbered_from_the_sriov_capability(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *pf;

    /* VF routing IDs follow from First VF Offset and VF Stride: the
     * virtfnN links are not read when the capability is there */
    topo_sriov(f->t);
    drop_attr(f, "0000:07:00.0", "virtfn0");
    drop_attr(f, "0000:07:00.0", "virtfn1");
    scan(f);
    pf = dev(f, "0000:07:00.0");
    assert_int_equal(pf->n_virtfns, 2);
    assert_string_equal(pf->virtfns[0], "0000:07:10.0");
    assert_string_equal(pf->virtfns[1], "0000:07:10.2");
    assert_true(dev(f, "0000:07:10.2")->is_vf);
}

static void test_uevent_naming_another_function_is_an_error(void **state)
{
    struct fixture *f = *state;
    char path[512];
    static const char ue[] = "PCI_CLASS=20000\nPCI_ID=8086:10ED\n"
                             "PCI_SUBSYS_ID=8086:000C\n"
                             "PCI_SLOT_NAME=0000:09:00.0\n";

    topo_sriov(f->t);
    snprintf(path, sizeof(path), "sys/%s/uevent",
             fake_sysfs_dev_path(f->t, "0000:07:10.2"));
    fake_sysfs_write(f->t, path, ue, sizeof(ue) - 1);
    scan(f);
    assert_non_null(dev(f, "0000:07:10.2")->error);
    assert_non_null(strstr(dev(f, "0000:07:10.2")->error, "PCI_SLOT_NAME"));
}

/* ---------------------------------------------------------- crafted trees */

/* A crafted tree must not hang the scan: give up (and fail) after 20 s. */
static void arm_watchdog(void)
{
    signal(SIGALRM, SIG_DFL);
    alarm(20);
}

/* Write text to attribute attr of the device bdf. */
static void put_attr(struct fixture *f, const char *bdf, const char *attr,
                     const char *text)
{
    char rel[512];

    snprintf(rel, sizeof(rel), "sys/%s/%s", fake_sysfs_dev_path(f->t, bdf),
             attr);
    fake_sysfs_write(f->t, rel, text, strlen(text));
}

static void test_huge_sriov_numvfs_is_refused(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;

    topo_sriov(f->t);
    put_attr(f, "0000:07:00.0", "sriov_numvfs", "9223372036854775807\n");
    arm_watchdog();
    scan(f);
    alarm(0);
    d = dev(f, "0000:07:00.0");
    assert_non_null(strstr(d->error, "sriov_numvfs"));
    assert_int_equal(d->sriov_numvfs, -1);
    assert_int_equal(d->n_virtfns, 0);
}

static void test_sriov_totalvfs_beyond_16_bits_is_refused(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;

    topo_sriov(f->t);
    put_attr(f, "0000:07:00.0", "sriov_totalvfs", "65536\n");
    put_attr(f, "0000:07:00.0", "sriov_numvfs", "65536\n");
    arm_watchdog();
    scan(f);
    alarm(0);
    d = dev(f, "0000:07:00.0");
    assert_non_null(strstr(d->error, "sriov_totalvfs: 65536"));
    assert_int_equal(d->sriov_totalvfs, -1);
}

static void test_impossible_bar_size_is_refused(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;

    topo_nic(f->t);
    /* start 1, end 2^64-1: a size that only wraps or goes negative */
    put_attr(f, "0000:01:00.0", "resource",
             "0x0000000000000001 0xffffffffffffffff 0x0000000000140204\n"
             "0x00000000fd000000 0x00000000fd003fff 0x0000000000040200\n");
    scan(f);
    d = dev(f, "0000:01:00.0");
    assert_non_null(strstr(d->error, "resource: impossible size on line 1"));
    assert_int_equal(d->bars[0].type, XPCI_BAR_UNUSED);
    assert_int_equal(d->bars[1].size, 0x4000);
}

static void test_fifo_and_device_node_attributes_do_not_hang(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;
    char path[512];

    topo_nic(f->t);
    /* a FIFO for resource (open would wait for a writer), /dev/zero for
     * config (reads forever) and for the mount table */
    snprintf(path, sizeof(path), "%s/%s/resource", fake_sysfs_sys(f->t),
             fake_sysfs_dev_path(f->t, "0000:01:00.0"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(path, sizeof(path), "sys/%s/config",
             fake_sysfs_dev_path(f->t, "0000:01:00.0"));
    fake_sysfs_unlink(f->t, path);
    fake_sysfs_symlink(f->t, path, "/dev/zero");
    fake_sysfs_unlink(f->t, "proc/self/mountinfo");
    fake_sysfs_symlink(f->t, "proc/self/mountinfo", "/dev/zero");
    arm_watchdog();
    scan(f);
    alarm(0);
    d = dev(f, "0000:01:00.0");
    assert_non_null(strstr(d->error, "resource:"));
}

/* Replace attribute attr of bdf with a FIFO that holds text and has a
 * writer, as a hostile tree could: a read(2) would return the text.  The
 * FIFO's fd (open for reading and writing) is returned. */
static int plant_fed_fifo(struct fixture *f, const char *bdf,
                          const char *attr, const char *text)
{
    char path[512];
    int fd;

    snprintf(path, sizeof(path), "%s/%s/%s", fake_sysfs_sys(f->t),
             fake_sysfs_dev_path(f->t, bdf), attr);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    return fd;
}

static void test_fed_fifo_attributes_are_refused_unread(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;
    char path[512], buf[256];
    int res, ovr, dirfd;
    long v;

    topo_nic(f->t);
    res = plant_fed_fifo(f, "0000:01:00.0", "resource",
                         "0x00000000fd000000 0x00000000fd003fff "
                         "0x0000000000040200\n");
    ovr = plant_fed_fifo(f, "0000:01:00.0", "driver_override", "vfio-pci\n");
    arm_watchdog();
    scan(f);
    d = dev(f, "0000:01:00.0");
    assert_non_null(strstr(d->error, "resource: Invalid argument"));
    assert_int_equal(d->bars[0].size, 0);
    assert_null(d->driver_override);
    /* every reader refuses it, and leaves what it holds unread */
    snprintf(path, sizeof(path), "%s/%s", fake_sysfs_sys(f->t),
             fake_sysfs_dev_path(f->t, "0000:01:00.0"));
    dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(dirfd >= 0);
    assert_int_equal(xpci__read_attr(dirfd, "driver_override", buf,
                                     sizeof(buf)), -EINVAL);
    assert_int_equal(xpci__read_attr_at(dirfd, "driver_override", buf,
                                        sizeof(buf)), -EINVAL);
    assert_int_equal(xpci__read_bin(dirfd, "driver_override", buf,
                                    sizeof(buf)), -EINVAL);
    assert_int_equal(xpci__read_long_at(dirfd, "driver_override", &v),
                     -EINVAL);
    alarm(0);
    assert_int_equal(read(ovr, buf, sizeof(buf)), 9);
    assert_memory_equal(buf, "vfio-pci\n", 9);
    close(dirfd);
    close(res);
    close(ovr);
}

static void test_links_in_a_function_are_not_followed(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;
    char rel[512], target[512];
    int dirfd;

    topo_nic(f->t);
    /* resource as a link to a well-formed file elsewhere in the tree */
    fake_sysfs_write(f->t, "sys/planted-resource",
                     "0x00000000fd000000 0x00000000fd003fff "
                     "0x0000000000040200\n", 57);
    snprintf(rel, sizeof(rel), "sys/%s/resource",
             fake_sysfs_dev_path(f->t, "0000:01:00.0"));
    fake_sysfs_unlink(f->t, rel);
    snprintf(target, sizeof(target), "%s/planted-resource",
             fake_sysfs_sys(f->t));
    fake_sysfs_symlink(f->t, rel, target);
    scan(f);
    d = dev(f, "0000:01:00.0");
    assert_non_null(strstr(d->error, "resource: Too many levels"));
    assert_int_equal(d->bars[0].size, 0);
    assert_non_null(d->driver); /* the rest of the function is read */
    /* and the attribute readers of one name refuse it too */
    snprintf(target, sizeof(target), "%s/%s", fake_sysfs_sys(f->t),
             fake_sysfs_dev_path(f->t, "0000:01:00.0"));
    dirfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(dirfd >= 0);
    assert_int_equal(xpci__read_attr_at(dirfd, "resource", rel, sizeof(rel)),
                     -ELOOP);
    assert_int_equal(xpci__read_attr_at(dirfd, "../resource", rel,
                                        sizeof(rel)), -EINVAL);
    close(dirfd);
}

static void test_function_directory_as_a_link_is_not_read(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;
    char from[512], to[512];

    topo_nic(f->t);
    /* the function's directory moved elsewhere, a link in its place */
    snprintf(from, sizeof(from), "%s/%s", fake_sysfs_sys(f->t),
             fake_sysfs_dev_path(f->t, "0000:01:00.0"));
    snprintf(to, sizeof(to), "%s/planted-function", fake_sysfs_sys(f->t));
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(symlink(to, from), 0);
    scan(f);
    d = dev(f, "0000:01:00.0");
    assert_non_null(strstr(d->error, "Not a directory"));
    assert_null(d->driver);
    assert_int_equal(d->vendor, 0);
    assert_null(dev(f, "0000:00:1c.0")->error);
}

/* A device node made in the tree (only CAP_MKNOD can): read once and
 * bounded, without blocking, like a file.  /dev/zero's numbers where
 * uevent and config should be. */
static void test_device_node_in_the_tree_is_read_bounded(void **state)
{
    struct fixture *f = *state;
    const struct xpci_device *d;
    static const char *const attrs[] = {"uevent", "config"};
    char path[512];

    topo_nic(f->t);
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s/%s", fake_sysfs_sys(f->t),
                 fake_sysfs_dev_path(f->t, "0000:01:00.0"), attrs[i]);
        assert_int_equal(unlink(path), 0);
        if (mknod(path, S_IFCHR | 0600, makedev(1, 5)) < 0) {
            assert_true(errno == EPERM || errno == EACCES);
            skip();
        }
    }
    arm_watchdog();
    scan(f);
    alarm(0);
    d = dev(f, "0000:01:00.0");
    assert_int_equal(d->vendor, 0); /* what the zeros say */
    assert_int_not_equal(d->bars[0].size, 0); /* the rest is read */
}

static void test_oversized_proc_file_is_refused(void **state)
{
    struct fixture *f = *state;
    char path[512];
    char *buf = NULL;
    int fd;

    topo_nic(f->t);
    /* a sparse 32 MiB mount table: not read whole */
    snprintf(path, sizeof(path), "%s/self/mountinfo", fake_sysfs_proc(f->t));
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 32 << 20), 0);
    close(fd);
    assert_int_equal(xpci__read_file(AT_FDCWD, path, &buf), -EFBIG);
    assert_null(buf);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_nic_identity_resources_and_capabilities),
        T(test_location_path_names_no_bus_below_root),
        T(test_find_distinguishes_malformed_from_missing),
        T(test_bridges_and_host_bridge_are_marked),
        T(test_sriov_pf_and_vfs_are_linked),
        T(test_gpu_boot_vga_framebuffer_and_bars),
        T(test_pciback_slots_and_block_devices),
        T(test_no_reset_method_file_means_no_reset),
        T(test_malformed_entries_do_not_stop_the_scan),
        T(test_context_opens_without_xen_and_says_why),
        T(test_missing_sysfs_root_is_an_error),
        T(test_tree_without_pci_bus_is_enoent),
        T(test_vf_identity_comes_from_uevent),
        T(test_vfs_numbered_from_the_sriov_capability),
        T(test_uevent_naming_another_function_is_an_error),
        T(test_huge_sriov_numvfs_is_refused),
        T(test_sriov_totalvfs_beyond_16_bits_is_refused),
        T(test_impossible_bar_size_is_refused),
        T(test_fifo_and_device_node_attributes_do_not_hang),
        T(test_fed_fifo_attributes_are_refused_unread),
        T(test_links_in_a_function_are_not_followed),
        T(test_function_directory_as_a_link_is_not_read),
        T(test_device_node_in_the_tree_is_read_bounded),
        T(test_oversized_proc_file_is_refused),
    };
#undef T

    return cmocka_run_group_tests_name("scan", tests, NULL, NULL);
}
