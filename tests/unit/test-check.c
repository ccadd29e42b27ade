/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-check.c - the assignability verdicts and reasons for each topology
 * the checks must judge, on a fake kernel and a fake hypervisor.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake-hv.h"
#include "fake-sysfs.h"
#include "topologies.h"
#include "xpci.h"

struct fixture {
    struct fake_sysfs *t;
    struct fake_hv *hv;
    xpci_ctx *ctx;
    struct xpci_host *host;
    struct xpci_report *rep;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->t = fake_sysfs_new();
    f->hv = fake_hv_new();
    fake_hv_set_iommu(f->hv, true);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    xpci_report_free(f->rep);
    xpci_host_free(f->host);
    xpci_ctx_free(f->ctx);
    fake_hv_free(f->hv);
    fake_sysfs_free(f->t);
    free(f);
    return 0;
}

/* Open the library on the tree; with_xen false: no hypervisor at all. */
static void scan(struct fixture *f, bool with_xen)
{
    char etc[1024];
    struct xpci_params p = {
        .sysfs_root = fake_sysfs_sys(f->t),
        .proc_root = fake_sysfs_proc(f->t),
        .etc_root = etc,
        .flags = XPCI_CTX_NO_XENSTORE,
    };

    snprintf(etc, sizeof(etc), "%s/etc", fake_sysfs_root(f->t));
    if (with_xen) {
        p.hv_ops = &fake_hv_ops;
        p.hv_priv = f->hv;
    } else {
        p.flags |= XPCI_CTX_NO_HYPERVISOR;
        p.no_hv_reason = "Xen is not running: /dev/xen/privcmd absent";
    }
    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
    assert_int_equal(xpci_host_scan(f->ctx, &f->host), 0);
}

static const struct xpci_report *check(struct fixture *f, const char *bdf)
{
    const struct xpci_device *dev;

    xpci_report_free(f->rep);
    f->rep = NULL;
    assert_int_equal(xpci_host_find(f->host, bdf, &dev), 0);
    assert_int_equal(xpci_check_device(f->host, dev, &f->rep), 0);
    return f->rep;
}

static const struct xpci_check *find_check(const struct xpci_report *rep,
                                           const char *id)
{
    for (unsigned i = 0; i < rep->n_checks; i++)
        if (!strcmp(rep->checks[i].id, id))
            return &rep->checks[i];
    fail_msg("no check %s for %s", id, rep->dev->bdf_str);
    return NULL;
}

/* The check has this level, and its reason contains each given string. */
static void expect(const struct xpci_report *rep, const char *id,
                   enum xpci_level level, const char *has1, const char *has2)
{
    const struct xpci_check *c = find_check(rep, id);

    if (c->level != level)
        fail_msg("%s %s: level %s, expected %s (%s)", rep->dev->bdf_str, id,
                 xpci_level_name(c->level), xpci_level_name(level),
                 c->reason);
    if (has1 && !strstr(c->reason, has1))
        fail_msg("%s %s: reason \"%s\" lacks \"%s\"", rep->dev->bdf_str, id,
                 c->reason, has1);
    if (has2 && !strstr(c->reason, has2))
        fail_msg("%s %s: reason \"%s\" lacks \"%s\"", rep->dev->bdf_str, id,
                 c->reason, has2);
    if (level != XPCI_LEVEL_PASS && level != XPCI_LEVEL_UNKNOWN &&
        strcmp(id, "device.endpoint"))
        assert_non_null(c->remedy);
}

static bool together_has(const struct xpci_report *rep, const char *bdf)
{
    for (unsigned i = 0; i < rep->n_together; i++)
        if (!strcmp(rep->together[i], bdf))
            return true;
    return false;
}

static void test_plain_nic_passes_every_check(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_host_bridge(f->t);
    topo_nic(f->t);
    scan(f, true);
    r = check(f, "0000:01:00.0");
    for (unsigned i = 0; i < r->n_checks; i++)
        if (r->checks[i].level != XPCI_LEVEL_PASS)
            fail_msg("%s: %s", r->checks[i].id, r->checks[i].reason);
    assert_int_equal(r->verdict, XPCI_LEVEL_PASS);
    expect(r, "xen.iommu", XPCI_LEVEL_PASS, "IOMMU enabled", NULL);
    expect(r, "reset", XPCI_LEVEL_PASS, "flr", NULL);
    expect(r, "dom0.net", XPCI_LEVEL_PASS, "enp1s0", "down");
    assert_int_equal(r->n_together, 0);
}

static void test_nic_holding_default_route_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic_default_route(f->t);
    scan(f, true);
    r = check(f, "0000:02:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "dom0.net", XPCI_LEVEL_FAIL, "enp2s0",
           "holds dom0's default route");
}

static void test_nic_up_without_route_warns(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic(f->t);
    fake_sysfs_add_netdev(f->t, "0000:01:00.0", "enp1s0d1", true);
    scan(f, true);
    r = check(f, "0000:01:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_WARN);
    expect(r, "dom0.net", XPCI_LEVEL_WARN, "enp1s0d1 is up", NULL);
}

static void test_nvme_holding_root_filesystem_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nvme_root(f->t);
    scan(f, true);
    r = check(f, "0000:03:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "nvme0n1p2 on /",
           "nvme0n1p1 on /boot/efi");
}

static void test_nvme_with_data_mount_and_swap_warns(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic(f->t); /* a root port to hang the disk on */
    fake_sysfs_add_disk(f->t, "0000:01:00.0", "nvme1n1", 259, 8);
    fake_sysfs_add_partition(f->t, "nvme1n1", "nvme1n1p1", 259, 9);
    fake_sysfs_add_partition(f->t, "nvme1n1", "nvme1n1p2", 259, 10);
    fake_sysfs_add_mount(f->t, 259, 9, "/srv/data dir", "xfs");
    fake_sysfs_add_swap(f->t, "nvme1n1p2");
    scan(f, true);
    r = check(f, "0000:01:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_WARN);
    expect(r, "dom0.block", XPCI_LEVEL_WARN, "nvme1n1p1 on /srv/data dir",
           "nvme1n1p2 as swap");
}

static void test_root_on_device_mapper_holder_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic(f->t);
    fake_sysfs_add_disk(f->t, "0000:01:00.0", "nvme2n1", 259, 16);
    fake_sysfs_add_partition(f->t, "nvme2n1", "nvme2n1p3", 259, 17);
    fake_sysfs_add_holder(f->t, "nvme2n1p3", "dm-0", 254, 0);
    fake_sysfs_add_mount(f->t, 254, 0, "/", "ext4");
    scan(f, true);
    r = check(f, "0000:01:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "dm-0 on /", NULL);
}

static void test_gpu_and_audio_go_together_and_boot_vga_warns(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_gpu_audio(f->t);
    scan(f, true);
    r = check(f, "0000:04:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_WARN);
    expect(r, "group.iommu", XPCI_LEVEL_WARN, "IOMMU group 8",
           "0000:04:00.1");
    expect(r, "dom0.console", XPCI_LEVEL_WARN, "boot VGA", "framebuffer");
    expect(r, "reset", XPCI_LEVEL_WARN, "bus reset only",
           "kernel refuses while 0000:04:00.1 shares its bus");
    assert_true(together_has(r, "0000:04:00.1"));

    r = check(f, "0000:04:00.1");
    expect(r, "group.iommu", XPCI_LEVEL_WARN, "0000:04:00.0", NULL);
    expect(r, "dom0.console", XPCI_LEVEL_PASS, NULL, NULL);
    assert_true(together_has(r, "0000:04:00.0"));
}

/* In dom0 there are no Linux IOMMU groups: slot siblings without ACS
 * must still go together. */
static void test_multifunction_without_acs_groups_siblings_in_dom0(void **s)
{
    struct fixture *f = *s;
    const struct xpci_report *r;

    topo_gpu_audio(f->t);
    fake_sysfs_unlink(f->t, "sys/bus/pci/devices/0000:04:00.0/iommu_group");
    fake_sysfs_unlink(f->t, "sys/bus/pci/devices/0000:04:00.1/iommu_group");
    scan(f, true);
    r = check(f, "0000:04:00.0");
    expect(r, "group.iommu", XPCI_LEVEL_WARN, "without ACS", "0000:04:00.1");
    assert_true(together_has(r, "0000:04:00.1"));
}

static void test_devices_behind_pcie_to_pci_bridge_share_requester_id(
    void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    const struct xpci_device *d;

    topo_pcie_to_pci(f->t);
    scan(f, true);
    r = check(f, "0000:06:01.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_WARN);
    expect(r, "group.bridge-alias", XPCI_LEVEL_WARN, "0000:05:00.0",
           "0000:06:02.0");
    assert_true(together_has(r, "0000:06:02.0"));
    /* the chain up to the root port, closest first */
    assert_int_equal(xpci_host_find(f->host, "06:01.0", &d), 0);
    assert_int_equal(d->n_parents, 2);
    assert_string_equal(d->parents[0], "0000:05:00.0");
    assert_string_equal(d->parents[1], "0000:00:02.0");
}

static void test_sriov_pf_with_vfs_in_use_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_sriov(f->t);
    scan(f, true);
    r = check(f, "0000:07:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "sriov", XPCI_LEVEL_FAIL, "2 VF(s) enabled", "0000:07:10.0");

    /* an idle VF: only what a PV guest needs for it (e820_host) warns */
    r = check(f, "0000:07:10.2");
    assert_int_equal(r->verdict, XPCI_LEVEL_WARN);
    expect(r, "sriov", XPCI_LEVEL_PASS, "VF of 0000:07:00.0", "ixgbe");
    expect(r, "guest.pv-e820", XPCI_LEVEL_WARN, NULL, NULL);

    r = check(f, "0000:07:10.0");
    expect(r, "dom0.net", XPCI_LEVEL_WARN, "enp7s16", NULL);
}

static void test_vf_whose_pf_has_no_driver_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    static const char unbind[] = "bus/pci/drivers/ixgbe/unbind";
    int sysfd;

    /* unbind the PF as the kernel does: link and uevent's DRIVER go */
    topo_sriov(f->t);
    sysfd = open(fake_sysfs_sys(f->t), O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(sysfd >= 0);
    assert_int_equal(fake_sysfs_ops.write(f->t, sysfd, unbind, "0000:07:00.0",
                                          strlen("0000:07:00.0")),
                     0);
    close(sysfd);
    scan(f, true);
    r = check(f, "0000:07:10.2");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "sriov", XPCI_LEVEL_FAIL, "0000:07:00.0", "no driver");
}

static void test_device_without_reset_method_warns(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_no_reset(f->t);
    scan(f, true);
    r = check(f, "0000:08:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_WARN);
    expect(r, "reset", XPCI_LEVEL_WARN, "no reset method", NULL);
}

/* HVM notes: where the MSI-X table is (read from the capability), a
 * warning when something shares its first page, the hvm_pirq note for
 * MSI / MSI-X; nothing for a function without them. */
static void test_hvm_msix_and_pirq_notes(void **state)
{
    struct fixture *f = *state;
    struct fake_pci p = fake_pci_default(0x8086, 0x2725, 0x028000);
    const struct xpci_report *r;
    const struct xpci_device *d;

    topo_host_bridge(f->t);
    topo_nic(f->t); /* MSI-X, table at BAR 0 + 0 */
    p.pcie_type = 9;
    p.iommu_group = 30;
    p.msix = true;
    p.msix_table_offset = 0x800; /* registers before it, in its page */
    p.res[0] = (struct fake_res){.start = 0xfe000000, .size = 0x4000};
    fake_sysfs_add_device(f->t, "0000:00:14.3", NULL, &p);
    p = fake_pci_default(0x8086, 0x7020, 0x0c0300); /* no MSI at all */
    p.iommu_group = 31;
    p.res[4] = (struct fake_res){.start = 0xc040, .size = 0x20, .io = true};
    fake_sysfs_add_device(f->t, "0000:00:01.2", NULL, &p);
    scan(f, true);

    assert_int_equal(xpci_host_find(f->host, "0000:01:00.0", &d), 0);
    assert_int_equal(d->msix_table_bar, 0);
    assert_int_equal(d->msix_table_offset, 0);
    assert_int_equal(d->msix_pba_offset, 0x800);
    assert_int_equal(d->msix_vectors, 4);
    r = check(f, "0000:01:00.0");
    expect(r, "hvm.msix", XPCI_LEVEL_PASS, "BAR 0 + 0x0 (4 vectors)",
           "4.19");
    expect(r, "hvm.pirq", XPCI_LEVEL_PASS, "MSI-X", "hvm_pirq=1");

    r = check(f, "0000:00:14.3");
    expect(r, "hvm.msix", XPCI_LEVEL_WARN, "BAR 0 + 0x800",
           "before Xen 4.19");
    assert_int_equal(r->verdict, XPCI_LEVEL_WARN);

    r = check(f, "0000:00:01.2");
    for (unsigned i = 0; i < r->n_checks; i++)
        assert_null(strstr(r->checks[i].id, "hvm."));
}

static bool has_check(const struct xpci_report *r, const char *id)
{
    for (unsigned i = 0; i < r->n_checks; i++)
        if (!strcmp(r->checks[i].id, id))
            return true;
    return false;
}

/* A legacy IRQ of 16 or more may be an HVM guest's own pirq: noted, with
 * the remedy; not for an IRQ below 16, 255 (not connected) or none. */
static void test_hvm_intx_note(void **state)
{
    struct fixture *f = *state;
    struct fake_pci p = fake_pci_default(0x8086, 0x100e, 0x020000);
    const struct xpci_report *r;

    topo_host_bridge(f->t);
    p.iommu_group = 40;
    p.irq = 21;
    fake_sysfs_add_device(f->t, "0000:00:04.0", NULL, &p);
    p.iommu_group = 41;
    p.irq = 11;
    fake_sysfs_add_device(f->t, "0000:00:05.0", NULL, &p);
    p.iommu_group = 42;
    p.irq = 255;
    fake_sysfs_add_device(f->t, "0000:00:06.0", NULL, &p);
    scan(f, true);

    r = check(f, "0000:00:04.0");
    expect(r, "hvm.intx", XPCI_LEVEL_PASS, "IRQ 21", "pirq 21");
    assert_non_null(strstr(find_check(r, "hvm.intx")->remedy, "pci=[...]"));
    assert_false(has_check(check(f, "0000:00:05.0"), "hvm.intx"));
    assert_false(has_check(check(f, "0000:00:06.0"), "hvm.intx"));
}

static void test_bridges_are_refused(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_host_bridge(f->t);
    topo_nic(f->t);
    topo_pcie_to_pci(f->t);
    scan(f, true);
    r = check(f, "0000:00:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "device.endpoint", XPCI_LEVEL_FAIL, "host bridge", NULL);
    r = check(f, "0000:00:1c.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "device.endpoint", XPCI_LEVEL_FAIL, "PCIe root port", NULL);
    r = check(f, "0000:05:00.0");
    expect(r, "device.endpoint", XPCI_LEVEL_FAIL, "PCI bridge", NULL);
}

static void test_device_already_in_pciback_passes(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_pciback(f->t);
    scan(f, true);
    r = check(f, "0000:09:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_PASS);
    expect(r, "state", XPCI_LEVEL_PASS, "already assignable", "pciback");
}

static void test_pciback_bound_but_not_in_slots_warns(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_pciback(f->t);
    fake_sysfs_write(f->t, "sys/bus/pci/drivers/pciback/slots", "", 0);
    scan(f, true);
    r = check(f, "0000:09:00.0");
    expect(r, "state", XPCI_LEVEL_WARN, "missing from pciback's slots",
           NULL);
}

static void test_malformed_sysfs_gives_per_device_error(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic(f->t);
    topo_malformed(f->t);
    scan(f, true);
    r = check(f, "0000:00:10.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "device.readable", XPCI_LEVEL_FAIL, "0000:00:10.0",
           "config: truncated to 10 bytes");
    r = check(f, "0000:00:11.0");
    expect(r, "device.readable", XPCI_LEVEL_FAIL, "resource: malformed",
           NULL);
    r = check(f, "0000:00:12.0");
    expect(r, "device.readable", XPCI_LEVEL_FAIL, "config:", "vendor");
    r = check(f, "0000:00:13.0");
    expect(r, "device.readable", XPCI_LEVEL_FAIL, "iommu_group", "dangling");
    /* the healthy neighbour is unaffected */
    r = check(f, "0000:01:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_PASS);
}

static void test_host_info_names_the_xen_it_talks_to(void **state)
{
    struct fixture *f = *state;
    struct xpci_host_info info;
    const char *why = NULL;
    const char *const *noop = xpci_spec_noop_options(&why);

    fake_hv_set_version(f->hv, "4.20.4");
    topo_nic(f->t);
    scan(f, true);
    xpci_host_get_info(f->host, &info);
    assert_string_equal(info.xen_version, "4.20.4");
    assert_non_null(info.built_for);
    assert_non_null(strchr(info.built_for, '.'));
    assert_string_equal(noop[0], "msitranslate");
    assert_string_equal(noop[1], "power_mgmt");
    assert_null(noop[2]);
    assert_non_null(strstr(why, "qemu-xen"));
}

static void test_host_info_version_unknown_is_null(void **state)
{
    struct fixture *f = *state;
    struct xpci_host_info info;

    /* a hypervisor that does not say (the fake's default), and none */
    topo_nic(f->t);
    scan(f, true);
    xpci_host_get_info(f->host, &info);
    assert_null(info.xen_version);
    xpci_host_free(f->host);
    xpci_ctx_free(f->ctx);
    f->host = NULL;
    f->ctx = NULL;
    scan(f, false);
    xpci_host_get_info(f->host, &info);
    assert_null(info.xen_version);
}

static void test_without_xen_hypervisor_facts_are_unknown(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    struct xpci_host_info info;

    topo_nic(f->t);
    scan(f, false);
    xpci_host_get_info(f->host, &info);
    assert_int_equal(info.iommu_enabled, XPCI_UNKNOWN);
    r = check(f, "0000:01:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_UNKNOWN);
    expect(r, "xen.iommu", XPCI_LEVEL_UNKNOWN, "Xen is not running",
           "/dev/xen/privcmd absent");
    expect(r, "group.xen", XPCI_LEVEL_UNKNOWN, "Xen is not running", NULL);
    expect(r, "rmrr", XPCI_LEVEL_UNKNOWN, NULL, NULL);
    /* sysfs-only facts are still judged */
    expect(r, "reset", XPCI_LEVEL_PASS, "flr", NULL);
}

static void test_xen_without_iommu_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic(f->t);
    fake_hv_set_iommu(f->hv, false);
    scan(f, true);
    r = check(f, "0000:01:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "xen.iommu", XPCI_LEVEL_FAIL, "without an IOMMU", NULL);
}

static void test_xen_device_group_members_go_together(void **state)
{
    struct fixture *f = *state;
    static const char *const grp[] = {"0000:01:00.0", "0000:02:00.0"};
    const struct xpci_report *r;

    topo_nic(f->t);
    topo_nic_default_route(f->t);
    fake_hv_set_group(f->hv, grp, 2);
    scan(f, true);
    r = check(f, "0000:01:00.0");
    expect(r, "group.xen", XPCI_LEVEL_WARN, "0000:02:00.0", NULL);
    assert_true(together_has(r, "0000:02:00.0"));
}

static void test_rmrr_warns_with_rdm_policy(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic(f->t);
    fake_hv_add_rdm(f->hv, "0000:01:00.0", 0xbd000, 16);
    scan(f, true);
    r = check(f, "0000:01:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_WARN);
    expect(r, "rmrr", XPCI_LEVEL_WARN, "1 reserved memory region",
           "0xbd000000");
    assert_non_null(strstr(find_check(r, "rmrr")->remedy, "relaxed"));
}

static void test_rmrr_more_than_32_regions_are_all_read(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic(f->t);
    for (unsigned i = 0; i < 40; i++)
        fake_hv_add_rdm(f->hv, "0000:01:00.0", 0xbd000 + 16 * i, 16);
    scan(f, true);
    r = check(f, "0000:01:00.0");
    expect(r, "rmrr", XPCI_LEVEL_WARN, "40 reserved memory region",
           "first at 0xbd000000 (16 pages)");
}

static void test_device_held_by_guest_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic(f->t);
    fake_hv_add_domain(f->hv, 3);
    fake_hv_set_owner(f->hv, "0000:01:00.0", 3);
    scan(f, true);
    r = check(f, "0000:01:00.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "state", XPCI_LEVEL_FAIL, "assigned to a guest", NULL);
}

static void test_quarantined_device_is_not_held_by_a_guest(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_pciback(f->t);
    fake_hv_set_owner(f->hv, "0000:09:00.0", XPCI_DOMID_IO);
    scan(f, true);
    r = check(f, "0000:09:00.0");
    expect(r, "state", XPCI_LEVEL_PASS, "pciback", NULL);
}

/* Two functions of one card whose small BARs share a page, and a third
 * whose BAR crosses a page boundary on its own. */
static void add_sub_page_card(struct fixture *f)
{
    static const struct {
        const char *bdf;
        uint64_t start, size;
    } fns[] = {
        {"0000:0a:00.0", 0xfa000000, 0x800},
        {"0000:0a:00.1", 0xfa000800, 0x800},
        {"0000:0a:00.2", 0xfa001800, 0x1000},
    };

    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        struct fake_pci p = fake_pci_default(0x8086, 0x1521, 0x020000);

        p.multifunction = true;
        p.pcie_type = 0;
        p.iommu_group = 40 + (int)i;
        p.driver = "igb";
        p.res[0] = (struct fake_res){.start = fns[i].start,
                                     .size = fns[i].size};
        fake_sysfs_add_device(f->t, fns[i].bdf, NULL, &p);
    }
}

static void test_bar_sharing_a_page_warns(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    add_sub_page_card(f);
    topo_nic(f->t);
    scan(f, true);
    r = check(f, "0000:0a:00.0");
    expect(r, "device.bar-page", XPCI_LEVEL_WARN, "0000:0a:00.1", NULL);
    r = check(f, "0000:0a:00.1");
    expect(r, "device.bar-page", XPCI_LEVEL_WARN, "0000:0a:00.0", NULL);
    /* a page of its own, though it spans two: nothing to say */
    r = check(f, "0000:0a:00.2");
    for (unsigned i = 0; i < r->n_checks; i++)
        assert_string_not_equal(r->checks[i].id, "device.bar-page");
    r = check(f, "0000:01:00.0");
    for (unsigned i = 0; i < r->n_checks; i++)
        assert_string_not_equal(r->checks[i].id, "device.bar-page");
}

static void test_permissive_left_in_pciback_warns(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_pciback(f->t);
    fake_sysfs_write(f->t, "sys/bus/pci/drivers/pciback/permissive",
                     "0000:09:00.0\n", 13);
    scan(f, true);
    r = check(f, "0000:09:00.0");
    expect(r, "pciback.permissive", XPCI_LEVEL_WARN, "permissive", NULL);
    assert_int_equal(r->verdict, XPCI_LEVEL_WARN);
}

/* ---- dom0 layouts ---- */

static void test_nvme_multipath_root_fails_on_every_controller(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    const struct xpci_device *d;

    topo_nvme_multipath(f->t);
    scan(f, true);
    r = check(f, "0000:0a:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "nvme0n1p2 on /",
           "nvme0n1p1 on /boot/efi");
    r = check(f, "0000:0b:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "nvme0n1p2 on /", NULL);
    /* the head and its partitions count as the function's disks */
    assert_int_equal(xpci_host_find(f->host, "0000:0a:00.0", &d), 0);
    assert_true(d->n_blockdevs >= 3);
}

static void test_nvme_namespace_counts_only_where_it_has_a_path(void **s)
{
    struct fixture *f = *s;
    const struct xpci_report *r;
    char cmd[1200];

    /* the second controller detached from the namespace: its path node
     * is gone, though the subsystem still links to it */
    topo_nvme_multipath(f->t);
    fake_sysfs_unlink(f->t, "sys/class/block/nvme0c1n1");
    snprintf(cmd, sizeof(cmd), "rm -r '%s/sys/%s/nvme/nvme1/nvme0c1n1'",
             fake_sysfs_root(f->t), fake_sysfs_dev_path(f->t, "0000:0b:00.0"));
    assert_int_equal(system(cmd), 0);
    scan(f, true);
    r = check(f, "0000:0a:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "nvme0n1p2 on /", NULL);
    r = check(f, "0000:0b:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_PASS, "no block devices", NULL);
}

static void test_nvme_multipath_links_of_newer_kernels(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    char link[1024], target[512];

    /* Linux 6.15: <head>/multipath/<path node>; only controller 0 */
    topo_nvme_multipath(f->t);
    snprintf(link, sizeof(link), "sys/devices/virtual/nvme-subsystem/"
                                 "nvme-subsys0/nvme0n1/multipath/nvme0c0n1");
    snprintf(target, sizeof(target), "../../../../../%s/nvme/nvme0/nvme0c0n1",
             fake_sysfs_dev_path(f->t, "0000:0a:00.0") + strlen("devices/"));
    fake_sysfs_mkdir(f->t, "sys/devices/virtual/nvme-subsystem/nvme-subsys0/"
                           "nvme0n1/multipath");
    fake_sysfs_symlink(f->t, link, target);
    scan(f, true);
    r = check(f, "0000:0a:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "nvme0n1p2 on /", NULL);
    r = check(f, "0000:0b:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_PASS, NULL, NULL);
}

static void test_btrfs_root_fails_on_every_member(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_btrfs_root(f->t);
    scan(f, true);
    r = check(f, "0000:0c:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "nvme0n1p2 on / (btrfs)",
           "nvme0n1p1 on /boot/efi");
    r = check(f, "0000:0d:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "nvme1n1p1 on / (btrfs)",
           "on /home (btrfs)");
}

static void test_btrfs_on_dm_crypt_is_found_by_mapper_name(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    char path[1024];

    /* / on btrfs inside LUKS: the source names the mapping */
    topo_nic(f->t);
    fake_sysfs_add_disk(f->t, "0000:01:00.0", "nvme0n1", 259, 0);
    fake_sysfs_add_partition(f->t, "nvme0n1", "nvme0n1p3", 259, 3);
    fake_sysfs_add_holder(f->t, "nvme0n1p3", "dm-0", 253, 0);
    snprintf(path, sizeof(path), "sys/devices/virtual/block/dm-0/dm/name");
    fake_sysfs_write(f->t, path, "cryptroot\n", 10);
    fake_sysfs_add_pseudo_mounts(f->t);
    fake_sysfs_add_mount_source(f->t, 0, 33, "/@", "/", "btrfs",
                                "/dev/mapper/cryptroot",
                                "rw,subvolid=256,subvol=/@");
    scan(f, true);
    r = check(f, "0000:01:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "dm-0 on / (btrfs)", NULL);
}

static void test_bcachefs_multi_device_source(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic(f->t);
    topo_nvme_root(f->t);
    fake_sysfs_add_disk(f->t, "0000:01:00.0", "nvme1n1", 259, 8);
    fake_sysfs_add_mount_source(f->t, 0, 34, "/", "/srv", "bcachefs",
                                "/dev/nvme0n1p1:/dev/nvme1n1", "rw");
    scan(f, true);
    r = check(f, "0000:01:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_WARN, "nvme1n1 on /srv (bcachefs)",
           NULL);
}

static void test_untraceable_mount_makes_block_unknown(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic(f->t);
    fake_sysfs_add_disk(f->t, "0000:01:00.0", "nvme0n1", 259, 0);
    fake_sysfs_add_pseudo_mounts(f->t);
    fake_sysfs_add_mount_source(f->t, 0, 40, "/", "/", "zfs",
                                "rpool/ROOT/debian", "rw,xattr,noacl");
    scan(f, true);
    r = check(f, "0000:01:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_UNKNOWN, "nvme0n1",
           "/ (zfs rpool/ROOT/debian)");
    assert_int_equal(r->verdict, XPCI_LEVEL_UNKNOWN);
}

static void test_pseudo_filesystems_leave_block_known(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nvme_root(f->t);
    topo_nic(f->t);
    fake_sysfs_add_disk(f->t, "0000:01:00.0", "nvme1n1", 259, 8);
    fake_sysfs_add_pseudo_mounts(f->t);
    fake_sysfs_add_mount_source(f->t, 0, 45, "/", "/home/u/remote",
                                "nfs4", "server:/export/home", "rw");
    fake_sysfs_add_mount_source(f->t, 0, 46, "/", "/run/user/1000/gvfs",
                                "fuse.gvfsd-fuse", "gvfsd-fuse", "rw");
    scan(f, true);
    r = check(f, "0000:01:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_PASS, "nvme1n1", "not mounted");
    r = check(f, "0000:03:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "nvme0n1p2 on /", NULL);
}

static void test_overlay_root_is_traced_through_its_layers(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    /* a live system: / is an overlay of a squashfs (on loop0, whose
     * image lives on the boot disk) and a tmpfs */
    topo_nic(f->t);
    fake_sysfs_add_disk(f->t, "0000:01:00.0", "nvme0n1", 259, 0);
    fake_sysfs_add_partition(f->t, "nvme0n1", "nvme0n1p1", 259, 1);
    fake_sysfs_add_loop(f->t, "loop0", 7, 0,
                        "/run/live/medium/live/filesystem.squashfs");
    fake_sysfs_add_pseudo_mounts(f->t);
    fake_sysfs_add_mount(f->t, 259, 1, "/run/live/medium", "vfat");
    fake_sysfs_add_mount(f->t, 7, 0, "/run/live/rootfs/filesystem.squashfs",
                         "squashfs");
    fake_sysfs_add_mount_source(f->t, 0, 30, "/", "/run/live/overlay",
                                "tmpfs", "tmpfs", "rw");
    fake_sysfs_add_mount_source(
        f->t, 0, 31, "/", "/", "overlay", "overlay",
        "rw,lowerdir=/run/live/rootfs/filesystem.squashfs/,"
        "upperdir=/run/live/overlay/rw,workdir=/run/live/overlay/work");
    scan(f, true);
    r = check(f, "0000:01:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "loop0 on / (overlay)",
           "nvme0n1p1 on /run/live/medium");
}

static void test_md_loop_and_swap_file_are_uses(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_stacked(f->t);
    scan(f, true);
    r = check(f, "0000:0e:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_WARN, "md0 on /srv",
           "loop0 on /mnt/guest");
    expect(r, "dom0.block", XPCI_LEVEL_WARN,
           "holds swap file /var/lib/images/swap.img", NULL);
}

static void test_too_deep_a_stack_is_unknown(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    char lower[16] = "nvme1n1", upper[16];

    topo_nic(f->t);
    fake_sysfs_add_disk(f->t, "0000:01:00.0", "nvme1n1", 259, 8);
    for (unsigned i = 0; i < 12; i++) {
        snprintf(upper, sizeof(upper), "dm-%u", i);
        fake_sysfs_add_holder(f->t, lower, upper, 253, i);
        snprintf(lower, sizeof(lower), "%s", upper);
    }
    scan(f, true);
    r = check(f, "0000:01:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_UNKNOWN, "stacked on its disks",
           NULL);
}

static void test_bcache_cache_device_is_used_by_the_backing_fs(void **s)
{
    struct fixture *f = *s;
    const struct xpci_report *r;

    /* the SSD caches (writeback) the HDD-backed bcache0 holding / */
    topo_nvme_root(f->t);
    topo_nic(f->t);
    fake_sysfs_add_disk(f->t, "0000:01:00.0", "nvme1n1", 259, 8);
    fake_sysfs_add_bcache(f->t, "nvme1n1", "nvme0n1p1", "bcache0", 252, 0,
                          "8a5c2d9e-1f3b-4c6d-9e8f-0a1b2c3d4e5f");
    fake_sysfs_add_mount(f->t, 252, 0, "/var", "ext4");
    scan(f, true);
    r = check(f, "0000:01:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_WARN, "bcache0 on /var", NULL);
}

static void test_root_on_md_raid_fails_on_each_member(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nvme_root(f->t);
    topo_nic(f->t);
    fake_sysfs_add_disk(f->t, "0000:01:00.0", "nvme1n1", 259, 8);
    fake_sysfs_add_partition(f->t, "nvme1n1", "nvme1n1p1", 259, 9);
    fake_sysfs_add_holder(f->t, "nvme0n1p1", "md127", 9, 127);
    fake_sysfs_add_holder(f->t, "nvme1n1p1", "md127", 9, 127);
    fake_sysfs_add_mount(f->t, 9, 127, "/srv/raid", "ext4");
    fake_sysfs_add_swap_file(f->t, "/swap.img");
    scan(f, true);
    r = check(f, "0000:01:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_WARN, "md127 on /srv/raid", NULL);
    r = check(f, "0000:03:00.0");
    expect(r, "dom0.block", XPCI_LEVEL_FAIL, "md127 on /srv/raid",
           "nvme0n1p2 holds swap file /swap.img");
}

static void test_bridge_port_of_the_route_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_bridge(f->t);
    scan(f, true);
    r = check(f, "0000:0f:00.0");
    expect(r, "dom0.net", XPCI_LEVEL_FAIL,
           "enp15s0 is a port of bridge xenbr0, which carries dom0's "
           "default route",
           NULL);
}

static void test_bridge_port_with_only_a_master_link_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    char path[1024];

    /* kernels before 3.11 have "master" but no upper_<name> links */
    topo_bridge(f->t);
    snprintf(path, sizeof(path), "sys/%s/net/enp15s0/upper_xenbr0",
             fake_sysfs_dev_path(f->t, "0000:0f:00.0"));
    fake_sysfs_unlink(f->t, path);
    scan(f, true);
    r = check(f, "0000:0f:00.0");
    expect(r, "dom0.net", XPCI_LEVEL_FAIL, "a port of bridge xenbr0",
           "default route");
}

/* Kernels before 3.11: no upper_ or lower_ links at all; the bridge's
 * ports are found from its brif/, the bond's from bonding/slaves. */
static void test_ports_without_adjacency_links_fail(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    char path[1024];

    topo_bridge(f->t);
    topo_bond_vlan(f->t);
    snprintf(path, sizeof(path), "sys/%s/net/enp15s0/upper_xenbr0",
             fake_sysfs_dev_path(f->t, "0000:0f:00.0"));
    fake_sysfs_unlink(f->t, path);
    fake_sysfs_unlink(f->t, "sys/devices/virtual/net/xenbr0/lower_enp15s0");
    for (int fn = 0; fn < 2; fn++) {
        char bdf[16];

        snprintf(bdf, sizeof(bdf), "0000:10:00.%d", fn);
        snprintf(path, sizeof(path), "sys/%s/net/enp16s0f%d/upper_bond0",
                 fake_sysfs_dev_path(f->t, bdf), fn);
        fake_sysfs_unlink(f->t, path);
        snprintf(path, sizeof(path),
                 "sys/devices/virtual/net/bond0/lower_enp16s0f%d", fn);
        fake_sysfs_unlink(f->t, path);
    }
    scan(f, true);
    r = check(f, "0000:0f:00.0");
    expect(r, "dom0.net", XPCI_LEVEL_FAIL, "a port of bridge xenbr0",
           "default route");
    r = check(f, "0000:10:00.1");
    expect(r, "dom0.net", XPCI_LEVEL_FAIL,
           "enp16s0f1 is a member of bond bond0, which is the link of VLAN "
           "bond0.100, which carries dom0's default route",
           NULL);
}

static void test_bond_vlan_members_fail_and_macvlan_warns(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_bond_vlan(f->t);
    scan(f, true);
    r = check(f, "0000:10:00.1");
    expect(r, "dom0.net", XPCI_LEVEL_FAIL,
           "enp16s0f1 is a member of bond bond0, which is the link of VLAN "
           "bond0.100, which carries dom0's default route",
           NULL);
    r = check(f, "0000:11:00.0");
    expect(r, "dom0.net", XPCI_LEVEL_WARN,
           "enp17s0 is the link of macvlan macvlan0, which is up", NULL);
}

static void test_nfs_root_interface_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nfs_root(f->t);
    topo_nic(f->t);
    scan(f, true);
    r = check(f, "0000:12:00.0");
    expect(r, "dom0.net", XPCI_LEVEL_FAIL,
           "root filesystem comes over the network (nfs)", "enp18s0");
    /* ip= names enp18s0: the other NIC is not concerned */
    r = check(f, "0000:01:00.0");
    expect(r, "dom0.net", XPCI_LEVEL_PASS, NULL, NULL);
}

static void test_nfs_root_without_device_uses_the_route(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_nic_default_route(f->t);
    topo_nic(f->t);
    fake_sysfs_add_netdev(f->t, "0000:01:00.0", "enp1s0d1", true);
    fake_sysfs_cmdline_append(f->t, "root=/dev/nfs ip=dhcp");
    scan(f, true);
    r = check(f, "0000:02:00.0");
    expect(r, "dom0.net", XPCI_LEVEL_FAIL, "over the network (nfs)",
           "enp2s0");
    r = check(f, "0000:01:00.0");
    expect(r, "dom0.net", XPCI_LEVEL_WARN, "enp1s0d1 is up", NULL);
}

static void test_iscsi_root_interface_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    /* dracut's iSCSI root; / is a SCSI disk of the session, not PCI */
    topo_nic_default_route(f->t);
    fake_sysfs_cmdline_append(f->t, "netroot=iscsi:192.168.2.1::::"
                                    "iqn.2026-01.org.example:dom0 ip=dhcp");
    scan(f, true);
    r = check(f, "0000:02:00.0");
    expect(r, "dom0.net", XPCI_LEVEL_FAIL, "over the network (iscsi)",
           "enp2s0");
}

static void test_isa_bridge_with_header_type_0_fails(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    struct fake_pci other = fake_pci_default(0x8086, 0x1234, 0x068000);

    topo_lpc(f->t);
    other.iommu_group = 60;
    fake_sysfs_add_device(f->t, "0000:00:1e.0", NULL, &other);
    scan(f, true);
    r = check(f, "0000:00:1f.0");
    assert_int_equal(r->verdict, XPCI_LEVEL_FAIL);
    expect(r, "device.endpoint", XPCI_LEVEL_FAIL, "ISA bridge",
           "class 0601");
    r = check(f, "0000:00:1e.0");
    expect(r, "device.endpoint", XPCI_LEVEL_WARN, "class 0680", NULL);
}

static void test_empty_reset_method_warns(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_reset_disabled(f->t);
    scan(f, true);
    r = check(f, "0000:13:00.0");
    expect(r, "reset", XPCI_LEVEL_WARN, "reset_method of 0000:13:00.0 is "
           "empty", "disabled");
}

static void test_pciback_states_are_reported(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;
    const struct xpci_device *d;

    topo_pciback_states(f->t);
    scan(f, true);
    r = check(f, "0000:14:00.0");
    expect(r, "state", XPCI_LEVEL_WARN, "listed in pciback's slots",
           "bound to e1000e");
    r = check(f, "0000:15:00.0");
    expect(r, "state", XPCI_LEVEL_WARN, "driver_override is pciback",
           "no driver holds it");
    r = check(f, "0000:16:00.0");
    expect(r, "state", XPCI_LEVEL_WARN,
           "given back now (e1000e), hidden again at next boot",
           "xen-pciback.hide=");
    r = check(f, "0000:17:00.0");
    expect(r, "state", XPCI_LEVEL_PASS, "in pciback",
           "hidden again at next boot (xen-pciback.hide=");
    r = check(f, "0000:18:00.0");
    expect(r, "state", XPCI_LEVEL_WARN, "hidden again at next boot",
           "modprobe.d");
    r = check(f, "0000:19:00.0");
    expect(r, "state", XPCI_LEVEL_WARN, "driver_override is vfio-pci",
           NULL);
    assert_int_equal(xpci_host_find(f->host, "0000:18:00.0", &d), 0);
    assert_int_equal(d->hidden_at_boot, XPCI_BOOT_HIDE_MODPROBE);
}

static void test_hidden_now_comes_back_at_boot(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_pciback(f->t);
    scan(f, true);
    r = check(f, "0000:09:00.0");
    expect(r, "state", XPCI_LEVEL_PASS, "in pciback",
           "hidden now, comes back to dom0 at next boot");
}

/* The check's remedy contains s. */
static void remedy_has(const struct xpci_report *rep, const char *id,
                       const char *s)
{
    const struct xpci_check *c = find_check(rep, id);

    if (!c->remedy || !strstr(c->remedy, s))
        fail_msg("%s %s: remedy \"%s\" lacks \"%s\"", rep->dev->bdf_str, id,
                 c->remedy ? c->remedy : "(none)", s);
}

static void test_large_bars_and_the_hvm_mmio_hole(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_gpu_large_bar(f->t);
    topo_gpu_audio(f->t);
    topo_nic(f->t);
    scan(f, false);

    /* 16 GiB can't be below 4 GiB at all: above it, as a 64-bit BAR */
    r = check(f, "0000:3a:00.0");
    expect(r, "guest.mmio-hole", XPCI_LEVEL_WARN, "16.3 GiB",
           "BAR 0: 16 GiB, 64-bit");
    remedy_has(r, "guest.mmio-hole", "above 4 GiB");
    remedy_has(r, "guest.mmio-hole", "32-bit BARs fit the default hole");

    /* 272.5 MiB of BARs, the largest 256 MiB: a 512 MiB hole whose start
     * (0xe0000000) is aligned for it */
    r = check(f, "0000:04:00.0");
    expect(r, "guest.mmio-hole", XPCI_LEVEL_WARN, "272.5 MiB", NULL);
    remedy_has(r, "guest.mmio-hole", "mmio_hole=512");

    r = check(f, "0000:01:00.0");
    expect(r, "guest.mmio-hole", XPCI_LEVEL_PASS, "fit", NULL);
}

static void test_vf_needs_e820_host_in_a_pv_guest(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    topo_sriov(f->t);
    scan(f, false);
    r = check(f, "0000:07:10.2");
    expect(r, "guest.pv-e820", XPCI_LEVEL_WARN, "VF of 0000:07:00.0",
           "PV guest");
    remedy_has(r, "guest.pv-e820", "e820_host=1");
    r = check(f, "0000:07:00.0");
    expect(r, "guest.pv-e820", XPCI_LEVEL_PASS, "not an SR-IOV VF", NULL);
}

static void test_known_reset_quirk_warns_with_its_source(void **state)
{
    struct fixture *f = *state;
    const struct xpci_report *r;

    /* an AMD VGA function: the kernel's PM reset does nothing to it */
    topo_gpu_large_bar(f->t);
    topo_gpu_audio(f->t);
    scan(f, false);
    r = check(f, "0000:3a:00.0");
    expect(r, "reset.quirk", XPCI_LEVEL_WARN, "1002:73bf", "D3hot");
    remedy_has(r, "reset.quirk", "drivers/pci/quirks.c quirk_no_pm_reset");
    /* its audio function (class 0403) and an NVIDIA GPU outside the
     * 0x2340 family have none */
    expect(check(f, "0000:3a:00.1"), "reset.quirk", XPCI_LEVEL_PASS,
           "1002:ab28", NULL);
    expect(check(f, "0000:04:00.0"), "reset.quirk", XPCI_LEVEL_PASS, NULL,
           NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_plain_nic_passes_every_check),
        T(test_nic_holding_default_route_fails),
        T(test_nic_up_without_route_warns),
        T(test_nvme_holding_root_filesystem_fails),
        T(test_nvme_with_data_mount_and_swap_warns),
        T(test_root_on_device_mapper_holder_fails),
        T(test_gpu_and_audio_go_together_and_boot_vga_warns),
        T(test_multifunction_without_acs_groups_siblings_in_dom0),
        T(test_devices_behind_pcie_to_pci_bridge_share_requester_id),
        T(test_sriov_pf_with_vfs_in_use_fails),
        T(test_vf_whose_pf_has_no_driver_fails),
        T(test_device_without_reset_method_warns),
        T(test_hvm_msix_and_pirq_notes),
        T(test_hvm_intx_note),
        T(test_bridges_are_refused),
        T(test_device_already_in_pciback_passes),
        T(test_pciback_bound_but_not_in_slots_warns),
        T(test_malformed_sysfs_gives_per_device_error),
        T(test_host_info_names_the_xen_it_talks_to),
        T(test_host_info_version_unknown_is_null),
        T(test_without_xen_hypervisor_facts_are_unknown),
        T(test_xen_without_iommu_fails),
        T(test_xen_device_group_members_go_together),
        T(test_rmrr_warns_with_rdm_policy),
        T(test_rmrr_more_than_32_regions_are_all_read),
        T(test_device_held_by_guest_fails),
        T(test_quarantined_device_is_not_held_by_a_guest),
        T(test_bar_sharing_a_page_warns),
        T(test_permissive_left_in_pciback_warns),
        T(test_nvme_multipath_root_fails_on_every_controller),
        T(test_nvme_namespace_counts_only_where_it_has_a_path),
        T(test_nvme_multipath_links_of_newer_kernels),
        T(test_btrfs_root_fails_on_every_member),
        T(test_btrfs_on_dm_crypt_is_found_by_mapper_name),
        T(test_bcachefs_multi_device_source),
        T(test_untraceable_mount_makes_block_unknown),
        T(test_pseudo_filesystems_leave_block_known),
        T(test_overlay_root_is_traced_through_its_layers),
        T(test_md_loop_and_swap_file_are_uses),
        T(test_root_on_md_raid_fails_on_each_member),
        T(test_bcache_cache_device_is_used_by_the_backing_fs),
        T(test_too_deep_a_stack_is_unknown),
        T(test_bridge_port_of_the_route_fails),
        T(test_bridge_port_with_only_a_master_link_fails),
        T(test_ports_without_adjacency_links_fail),
        T(test_bond_vlan_members_fail_and_macvlan_warns),
        T(test_nfs_root_interface_fails),
        T(test_nfs_root_without_device_uses_the_route),
        T(test_iscsi_root_interface_fails),
        T(test_isa_bridge_with_header_type_0_fails),
        T(test_empty_reset_method_warns),
        T(test_pciback_states_are_reported),
        T(test_hidden_now_comes_back_at_boot),
        T(test_large_bars_and_the_hvm_mmio_hole),
        T(test_vf_needs_e820_host_in_a_pv_guest),
        T(test_known_reset_quirk_warns_with_its_source),
    };
#undef T

    return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
