/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-assignable.c - hiding functions from dom0 and giving them back, on a
 * fake kernel, a fake hypervisor and an in-memory xenstore: what each step
 * does, refusals, all-or-nothing rollback when any step fails (every
 * mutating step made to fail in turn), and recovery after a crash at every
 * journal record, compared in full (kernel, hypervisor, xenstore, files).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-hv.h"
#include "abandon.h"
#include "fake-sysfs.h"
#include "fake-xs.h"
#include "topologies.h"
#include "xpci.h"

/* ---------------------------------------------------------- fixture */

struct fixture {
    struct fake_sysfs *t;
    struct fake_hv *hv;
    struct fake_xs *xs;
    xpci_ctx *ctx;
    char state_dir[512];
    char audit[512];
    bool no_hv;
};

static struct fixture *current; /* for the fault-injecting wrappers */
static int fail_at;             /* fail the Nth mutating call (0: none) */
static int calls;               /* mutating calls seen */

/* Resets run in parallel threads: count atomically. */
static bool inject(void)
{
    return fail_at && __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST) ==
                          fail_at;
}

/* When set, the function vanishes (hot-unplug) as pciback's new_slot is
 * written for it. */
static const char *vanish_bdf;

static void vanish(struct fake_sysfs *t, const char *bdf)
{
    char cmd[1200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s/sys/%s' '%s/sys/bus/pci/devices/%s'",
             fake_sysfs_root(t), fake_sysfs_dev_path(t, bdf),
             fake_sysfs_root(t), bdf);
    assert_int_equal(system(cmd), 0);
}

static int w_write(void *priv, int rootfd, const char *path, const char *val,
                   size_t len)
{
    int r;

    if (inject())
        return -EIO;
    r = fake_sysfs_ops.write(priv, rootfd, path, val, len);
    if (vanish_bdf && strstr(path, "pciback/new_slot") &&
        !strncmp(val, vanish_bdf, strlen(vanish_bdf))) {
        vanish(priv, vanish_bdf);
        vanish_bdf = NULL;
    }
    return r;
}

static int w_modprobe(void *priv, const char *module)
{
    if (inject())
        return -EIO;
    return fake_sysfs_ops.modprobe(priv, module);
}

static struct xpci_sysfs_ops wrapped_sysfs;
static struct xpci_hv_ops wrapped_hv;
static struct xpci_xs_ops wrapped_xs;

static int w_assign(void *priv, uint32_t domid, uint32_t sbdf, uint32_t fl)
{
    if (inject())
        return -EBUSY;
    return fake_hv_ops.assign(priv, domid, sbdf, fl);
}

static int w_deassign(void *priv, uint32_t domid, uint32_t sbdf)
{
    if (inject())
        return -EPERM;
    return fake_hv_ops.deassign(priv, domid, sbdf);
}

static int w_xs_write(void *priv, uint32_t txn, const char *path,
                      const char *val)
{
    if (inject())
        return -EACCES;
    return fake_xs_ops.write(priv, txn, path, val);
}

static int w_xs_rm(void *priv, uint32_t txn, const char *path)
{
    if (inject())
        return -EACCES;
    return fake_xs_ops.rm(priv, txn, path);
}

static void wrap_backends(void)
{
    wrapped_sysfs = fake_sysfs_ops;
    wrapped_sysfs.write = w_write;
    wrapped_sysfs.modprobe = w_modprobe;
    wrapped_hv = fake_hv_ops;
    wrapped_hv.assign = w_assign;
    wrapped_hv.deassign = w_deassign;
    wrapped_xs = fake_xs_ops;
    wrapped_xs.write = w_xs_write;
    wrapped_xs.rm = w_xs_rm;
}

static void open_ctx(struct fixture *f)
{
    struct xpci_params p = {
        .sysfs_root = fake_sysfs_sys(f->t),
        .proc_root = fake_sysfs_proc(f->t),
        .sysfs_ops = &wrapped_sysfs,
        .sysfs_priv = f->t,
        .hv_ops = &wrapped_hv,
        .hv_priv = f->hv,
        .xs_ops = &wrapped_xs,
        .xs_priv = f->xs,
        .state_dir = f->state_dir,
        .audit_log = f->audit,
        .flags = XPCI_CTX_NO_SYSLOG,
    };

    if (f->no_hv) {
        p.hv_ops = NULL;
        p.flags |= XPCI_CTX_NO_HYPERVISOR;
    }
    xpci_ctx_free(f->ctx);
    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
}

/* Build the host: four healthy NIC-like endpoints on their own root ports,
 * plus the topologies the refusals need. */
static void build_host(struct fixture *f)
{
    topo_host_bridge(f->t);
    topo_nic(f->t);           /* 0000:01:00.0 e1000e, interface down */
    topo_nic_default_route(f->t); /* 0000:02:00.0 holds the route */
    topo_nvme_root(f->t);     /* 0000:03:00.0 root filesystem */
    topo_gpu_audio(f->t);     /* 0000:04:00.0 + .1 */
    topo_sriov(f->t);         /* 0000:07:00.0, VFs 07:10.0 / 07:10.2 */
    topo_no_reset(f->t);      /* 0000:08:00.0 */
    topo_pciback(f->t);       /* 0000:09:00.0 already in pciback */
    for (int i = 0; i < 3; i++) {
        struct fake_pci d = fake_pci_default(0x8086, 0x10d3, 0x020000);
        struct fake_pci rp = fake_pci_default(0x8086, 0x2922, 0x060400);
        char port[16], dev[16];

        rp.header_type = 1;
        rp.pcie_type = 4;
        rp.driver = "pcieport";
        rp.iommu_group = 40 + 2 * i;
        snprintf(port, sizeof(port), "0000:00:0%d.0", 5 + i + 1);
        snprintf(dev, sizeof(dev), "0000:%02x:00.0", 0x20 + i);
        fake_sysfs_add_device(f->t, port, NULL, &rp);
        d.pcie_type = 0;
        d.flr = true;
        d.msix = true;
        d.driver = "e1000e";
        d.iommu_group = 41 + 2 * i;
        d.reset_method = "flr bus";
        d.res[0] = (struct fake_res){.start = 0xf0000000 + i * 0x100000,
                                     .size = 0x20000};
        fake_sysfs_add_device(f->t, dev, port, &d);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->t = fake_sysfs_new();
    f->hv = fake_hv_new();
    fake_hv_set_iommu(f->hv, true);
    f->xs = fake_xs_new();
    fake_xs_set(f->xs, "/libxl", "");
    snprintf(f->state_dir, sizeof(f->state_dir), "%s/var/lib/xpci",
             fake_sysfs_root(f->t));
    snprintf(f->audit, sizeof(f->audit), "%s/var/log/xpci/audit.log",
             fake_sysfs_root(f->t));
    build_host(f);
    wrap_backends();
    fail_at = calls = 0;
    vanish_bdf = NULL;
    current = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    xpci_ctx_free(f->ctx);
    fake_xs_free(f->xs);
    fake_hv_free(f->hv);
    fake_sysfs_free(f->t);
    free(f);
    current = NULL;
    return 0;
}

/* ---------------------------------------------------------- snapshots */

/* Everything an operation may change, as one string: per function its
 * driver, override and slot, its owner in Xen, the xenstore records, the
 * persistent set and the journal. */
static char *snapshot(struct fixture *f, const char *const *bdfs, unsigned n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char path[1024], link[512];

    assert_non_null(m);
    for (unsigned i = 0; i < n; i++) {
        char ov[128] = "";
        ssize_t r;
        FILE *in;

        snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver",
                 fake_sysfs_sys(f->t), bdfs[i]);
        r = readlink(path, link, sizeof(link) - 1);
        link[r < 0 ? 0 : r] = '\0';
        snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override",
                 fake_sysfs_sys(f->t), bdfs[i]);
        if ((in = fopen(path, "r"))) {
            if (!fgets(ov, sizeof(ov), in))
                ov[0] = '\0';
            fclose(in);
        }
        /* never moved (-1) and given back (0) both mean dom0 */
        fprintf(m, "%s driver=%s override=%s owner=%ld\n", bdfs[i],
                strrchr(link, '/') ? strrchr(link, '/') + 1 : "-", ov,
                fake_hv_owner(f->hv, bdfs[i]) < 0
                    ? 0
                    : fake_hv_owner(f->hv, bdfs[i]));
    }
    /* pciback's slots, sorted: their order carries no meaning */
    snprintf(path, sizeof(path), "%s/bus/pci/drivers/pciback/slots",
             fake_sysfs_sys(f->t));
    {
        FILE *in = fopen(path, "r");
        char lines[64][32];
        unsigned nl = 0;

        while (in && nl < 64 && fgets(lines[nl], sizeof(lines[nl]), in))
            nl++;
        if (in)
            fclose(in);
        qsort(lines, nl, sizeof(lines[0]),
              (int (*)(const void *, const void *))strcmp);
        for (unsigned i = 0; i < nl; i++)
            fprintf(m, "slot %s", lines[i]);
    }
    fprintf(m, "xs nodes below /libxl/pci: %u\n",
            fake_xs_count(f->xs, "/libxl/pci") -
                (fake_xs_get(f->xs, "/libxl/pci") ? 1 : 0));
    snprintf(path, sizeof(path), "%s/assignable", f->state_dir);
    {
        FILE *in = fopen(path, "r");
        char line[512];

        while (in && fgets(line, sizeof(line), in))
            if (line[0] != '#')
                fprintf(m, "state %s", line);
        if (in)
            fclose(in);
    }
    snprintf(path, sizeof(path), "%s/journal", f->state_dir);
    fprintf(m, "journal %s\n", access(path, F_OK) == 0 ? "present" : "absent");
    fclose(m);
    return buf;
}

/* The snapshot now equals want (the snapshot is freed, want is not). */
static void assert_snapshot(struct fixture *f, const char *const *bdfs,
                            unsigned n, const char *want)
{
    char *now = snapshot(f, bdfs, n);

    if (strcmp(now, want)) {
        print_error("snapshot now:\n%s\nexpected:\n%s\n", now, want);
        free(now);
        fail();
    }
    free(now);
}

static const char *driver_of(struct fixture *f, const char *bdf)
{
    static char link[512];
    char path[1024];
    ssize_t r;

    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver",
             fake_sysfs_sys(f->t), bdf);
    r = readlink(path, link, sizeof(link) - 1);
    if (r < 0)
        return NULL;
    link[r] = '\0';
    return strrchr(link, '/') + 1;
}

static bool file_has(const char *path, const char *needle)
{
    char buf[65536];
    int fd = open(path, O_RDONLY);
    ssize_t r;

    if (fd < 0)
        return false;
    r = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[r < 0 ? 0 : r] = '\0';
    return strstr(buf, needle) != NULL;
}

static bool in_slots(struct fixture *f, const char *bdf)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/bus/pci/drivers/pciback/slots",
             fake_sysfs_sys(f->t));
    return file_has(path, bdf);
}

static int add(struct fixture *f, const char *const *devs, unsigned n,
               const struct xpci_op_opts *opts, struct xpci_result **res)
{
    open_ctx(f);
    return xpci_assignable_add(f->ctx, devs, n, opts, res);
}

static int give_back(struct fixture *f, const char *const *devs, unsigned n,
                     bool rebind, struct xpci_result **res)
{
    struct xpci_op_opts o = {.rebind = rebind};

    open_ctx(f);
    return xpci_assignable_remove(f->ctx, devs, n, &o, res);
}

/* ---------------------------------------------------------- behaviour */

static void test_add_hides_quarantines_and_records_the_nic(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;
    const char *const *w;
    bool saw_unbind = false, saw_bind = false;

    assert_int_equal(add(f, nic, 1, NULL, &res), 0);
    assert_null(res->error);
    assert_string_equal(driver_of(f, "0000:01:00.0"), "pciback");
    assert_true(in_slots(f, "0000:01:00.0"));
    assert_int_equal(fake_hv_owner(f->hv, "0000:01:00.0"), XPCI_DOMID_IO);
    assert_string_equal(
        fake_xs_get(f->xs, "/libxl/pci/0000-01-00-0/driver_path"),
        "/sys/bus/pci/drivers/e1000e");
    {
        char path[600];

        snprintf(path, sizeof(path), "%s/assignable", f->state_dir);
        assert_true(file_has(path, "0000:01:00.0 pci0000:00/1c.0/00.0 e1000e"));
        assert_true(file_has(f->audit, "op=assignable-add dev=0000:01:00.0"));
        assert_true(file_has(f->audit, "from=e1000e to=pciback"));
    }
    /* the kernel saw the unbind before the pciback bind */
    for (w = fake_sysfs_writes(f->t); *w; w++) {
        if (strstr(*w, "drivers/e1000e/unbind"))
            saw_unbind = true;
        if (strstr(*w, "drivers/pciback/bind")) {
            assert_true(saw_unbind);
            saw_bind = true;
        }
    }
    assert_true(saw_bind);
    xpci_result_free(res);
}

static void test_add_twice_changes_nothing_the_second_time(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;
    char *before;

    assert_int_equal(add(f, nic, 1, NULL, &res), 0);
    xpci_result_free(res);
    before = snapshot(f, nic, 1);
    fake_sysfs_clear_writes(f->t);
    assert_int_equal(add(f, nic, 1, NULL, &res), 0);
    assert_int_equal(res->n_plan, 0);
    assert_null(fake_sysfs_writes(f->t)[0]);
    assert_snapshot(f, nic, 1, before);
    free(before);
    xpci_result_free(res);
}

static void test_dry_run_prints_every_step_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_op_opts o = {.dry_run = true};
    struct xpci_result *res = NULL;
    char *before = snapshot(f, nic, 1);
    bool has_unbind = false, has_hypercall = false, has_xs = false;

    assert_int_equal(add(f, nic, 1, &o, &res), 0);
    for (unsigned i = 0; i < res->n_plan; i++) {
        has_unbind |= !!strstr(res->plan[i], "/sys/bus/pci/drivers/e1000e/unbind");
        has_hypercall |= !!strstr(res->plan[i], "xc_assign_device(DOMID_IO)");
        has_xs |= !!strstr(res->plan[i], "xenstore write /libxl/pci/0000-01-00-0");
    }
    assert_true(has_unbind && has_hypercall && has_xs);
    assert_snapshot(f, nic, 1, before);
    assert_null(fake_sysfs_writes(f->t)[0]);
    free(before);
    xpci_result_free(res);
}

static void test_add_loads_pciback_when_it_is_missing(void **state)
{
    struct fixture *f = *state;
    static const char *const dev[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;

    /* a host where pciback was never loaded */
    fake_sysfs_free(f->t);
    f->t = fake_sysfs_new();
    topo_host_bridge(f->t);
    topo_nic(f->t);
    snprintf(f->state_dir, sizeof(f->state_dir), "%s/var/lib/xpci",
             fake_sysfs_root(f->t));
    assert_int_equal(add(f, dev, 1, NULL, &res), 0);
    assert_true(res->n_plan > 0);
    assert_non_null(strstr(res->plan[0], "modprobe xen-pciback"));
    assert_string_equal(driver_of(f, "0000:01:00.0"), "pciback");
    xpci_result_free(res);
}

static void test_add_refuses_the_root_disk_even_with_force(void **state)
{
    struct fixture *f = *state;
    static const char *const nvme[] = {"0000:03:00.0"};
    struct xpci_op_opts o = {.force = true};
    struct xpci_result *res = NULL;
    char *before = snapshot(f, nvme, 1);

    assert_int_equal(add(f, nvme, 1, &o, &res), -EPERM);
    assert_non_null(strstr(res->error, "0000:03:00.0"));
    assert_non_null(strstr(res->error, "dom0.block"));
    assert_snapshot(f, nvme, 1, before);
    free(before);
    xpci_result_free(res);
}

/* Replace the host with one topology alone (its BDFs overlap the
 * build_host ones). */
static void host_of(struct fixture *f, void (*topo)(struct fake_sysfs *))
{
    xpci_ctx_free(f->ctx);
    f->ctx = NULL;
    fake_sysfs_free(f->t);
    f->t = fake_sysfs_new();
    snprintf(f->state_dir, sizeof(f->state_dir), "%s/var/lib/xpci",
             fake_sysfs_root(f->t));
    snprintf(f->audit, sizeof(f->audit), "%s/var/log/xpci/audit.log",
             fake_sysfs_root(f->t));
    topo(f->t);
}

/* dom0 lives on it: refused without --force, nothing changed. */
static void expect_refused(struct fixture *f, const char *bdf,
                           const char *check, const char *why)
{
    const char *const devs[] = {bdf};
    struct xpci_result *res = NULL;
    char *before = snapshot(f, devs, 1);
    char *after;

    assert_int_equal(add(f, devs, 1, NULL, &res), -EPERM);
    if (!strstr(res->error, check) || !strstr(res->error, why))
        fail_msg("%s: error \"%s\" lacks %s / %s", bdf, res->error, check,
                 why);
    after = snapshot(f, devs, 1);
    assert_string_equal(after, before);
    assert_int_equal(res->n_done, 0);
    free(before);
    free(after);
    xpci_result_free(res);
}

static void test_add_refuses_a_multipath_controller_holding_root(void **s)
{
    struct fixture *f = *s;

    host_of(f, topo_nvme_multipath);
    expect_refused(f, "0000:0a:00.0", "dom0.block", "nvme0n1p2 on /");
    expect_refused(f, "0000:0b:00.0", "dom0.block", "nvme0n1p2 on /");
}

static void test_add_refuses_a_btrfs_member_disk(void **state)
{
    struct fixture *f = *state;

    host_of(f, topo_btrfs_root);
    expect_refused(f, "0000:0c:00.0", "dom0.block", "on / (btrfs)");
    expect_refused(f, "0000:0d:00.0", "dom0.block", "nvme1n1p1 on / (btrfs)");
}

static void test_add_refuses_a_port_of_the_default_route_bridge(void **s)
{
    struct fixture *f = *s;

    host_of(f, topo_bridge);
    expect_refused(f, "0000:0f:00.0", "dom0.net",
                   "enp15s0 is a port of bridge xenbr0, which carries "
                   "dom0's default route");
}

static void test_add_refuses_an_untraceable_root_without_force(void **s)
{
    struct fixture *f = *s;
    static const char *const nvme[] = {"0000:0e:00.0"};
    struct xpci_op_opts o = {.force = true};
    struct xpci_result *res = NULL;

    /* / on ZFS: which disks hold the pool is not in sysfs */
    host_of(f, topo_stacked);
    fake_sysfs_add_mount_source(f->t, 0, 40, "/", "/", "zfs",
                                "rpool/ROOT/debian", "rw,xattr,posixacl");
    expect_refused(f, nvme[0], "dom0.block", "rpool/ROOT/debian");
    assert_int_equal(add(f, nvme, 1, &o, &res), 0);
    assert_string_equal(driver_of(f, nvme[0]), "pciback");
    xpci_result_free(res);
}

static void test_add_does_not_reset_when_reset_is_disabled(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:13:00.0"};
    struct xpci_result *res = NULL;

    host_of(f, topo_reset_disabled);
    assert_int_equal(add(f, nic, 1, NULL, &res), 0);
    for (const char *const *w = fake_sysfs_writes(f->t); *w; w++)
        assert_null(strstr(*w, "/reset="));
    assert_string_equal(driver_of(f, nic[0]), "pciback");
    xpci_result_free(res);
}

static void test_up_interface_needs_force(void **state)
{
    struct fixture *f = *state;
    static const char *const vf[] = {"0000:07:10.0"}; /* enp7s16 up */
    struct xpci_op_opts o = {.force = true};
    struct xpci_result *res = NULL;

    assert_int_equal(add(f, vf, 1, NULL, &res), -EPERM);
    assert_non_null(strstr(res->error, "dom0.net"));
    assert_non_null(strstr(res->error, "--force"));
    assert_string_equal(driver_of(f, "0000:07:10.0"), "ixgbevf");
    xpci_result_free(res);
    assert_int_equal(add(f, vf, 1, &o, &res), 0);
    assert_string_equal(driver_of(f, "0000:07:10.0"), "pciback");
    xpci_result_free(res);
}

static void test_force_each_covers_only_its_own_function(void **state)
{
    struct fixture *f = *state;
    /* the VF's interface is up; the NIC's is down */
    static const char *const devs[] = {"0000:01:00.0", "0000:07:10.0"};
    static const bool wrong[] = {true, false}, right[] = {false, true};
    struct xpci_op_opts o = {.force_each = wrong};
    struct xpci_result *res = NULL;

    assert_int_equal(add(f, devs, 2, &o, &res), -EPERM);
    assert_non_null(strstr(res->error, "0000:07:10.0"));
    assert_non_null(strstr(res->error, "dom0.net"));
    assert_string_equal(driver_of(f, "0000:01:00.0"), "e1000e");
    assert_string_equal(driver_of(f, "0000:07:10.0"), "ixgbevf");
    xpci_result_free(res);
    o.force_each = right;
    assert_int_equal(add(f, devs, 2, &o, &res), 0);
    assert_string_equal(driver_of(f, "0000:01:00.0"), "pciback");
    assert_string_equal(driver_of(f, "0000:07:10.0"), "pciback");
    xpci_result_free(res);
}

static void test_no_iommu_refuses_even_with_force(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_op_opts o = {.force = true};
    struct xpci_result *res = NULL;

    fake_hv_set_iommu(f->hv, false);
    assert_int_equal(add(f, nic, 1, &o, &res), -EPERM);
    assert_non_null(strstr(res->error, "xen.iommu"));
    assert_string_equal(driver_of(f, "0000:01:00.0"), "e1000e");
    xpci_result_free(res);
}

static void test_without_xen_nothing_is_hidden(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;

    f->no_hv = true;
    assert_int_equal(add(f, nic, 1, NULL, &res), -EPERM);
    assert_non_null(strstr(res->error, "xen.iommu"));
    assert_string_equal(driver_of(f, "0000:01:00.0"), "e1000e");
    xpci_result_free(res);
}

static void test_functions_that_go_together_are_hidden_together(void **st)
{
    struct fixture *f = *st;
    static const char *const gpu[] = {"0000:04:00.0"};
    struct xpci_op_opts o = {.force = true}; /* boot VGA */
    struct xpci_result *res = NULL;
    bool noted = false;

    assert_int_equal(add(f, gpu, 1, &o, &res), 0);
    assert_string_equal(driver_of(f, "0000:04:00.0"), "pciback");
    assert_string_equal(driver_of(f, "0000:04:00.1"), "pciback");
    assert_int_equal(fake_hv_owner(f->hv, "0000:04:00.1"), XPCI_DOMID_IO);
    for (unsigned i = 0; i < res->n_notes; i++)
        noted |= !!strstr(res->notes[i], "0000:04:00.1 goes with 0000:04:00.0");
    assert_true(noted);
    xpci_result_free(res);
}

/*
 * A multi-function slot whose only reset is a secondary bus reset: the
 * kernel lists "bus" for each function but refuses (ENOTTY) to reset one
 * while the other shares its bus.  The slot is hidden all the same, as
 * libxl does, and the result says which function went unreset.
 */
static void test_bus_reset_refused_in_a_shared_slot_is_noted(void **st)
{
    struct fixture *f = *st;
    static const char *const slot[] = {"0000:04:00.0", "0000:04:00.1"};
    struct xpci_op_opts o = {.force = true}; /* boot VGA */
    struct xpci_result *res = NULL;
    bool noted0 = false, noted1 = false;

    assert_int_equal(add(f, slot, 2, &o, &res), 0);
    assert_string_equal(driver_of(f, "0000:04:00.0"), "pciback");
    assert_string_equal(driver_of(f, "0000:04:00.1"), "pciback");
    assert_int_equal(fake_hv_owner(f->hv, "0000:04:00.0"), XPCI_DOMID_IO);
    assert_int_equal(fake_hv_owner(f->hv, "0000:04:00.1"), XPCI_DOMID_IO);
    for (unsigned i = 0; i < res->n_notes; i++) {
        noted0 |= !!strstr(res->notes[i], "0000:04:00.0: not reset");
        noted1 |= !!strstr(res->notes[i], "0000:04:00.1: not reset");
    }
    assert_true(noted0);
    assert_true(noted1);
    assert_int_equal(res->n_undo_errors, 0);
    xpci_result_free(res);
}

static void test_name_and_location_path_select_the_function(void **state)
{
    struct fixture *f = *state;
    static const char *const by_path[] = {"pci0000:00/1c.0/00.0"};
    static const char *const by_name[] = {"uplink"};
    struct xpci_op_opts o = {.name = "uplink"};
    struct xpci_result *res = NULL;

    assert_int_equal(add(f, by_path, 1, &o, &res), 0);
    assert_string_equal(fake_xs_get(f->xs, "/libxl/pci/0000-01-00-0/name"),
                        "uplink");
    xpci_result_free(res);
    assert_int_equal(give_back(f, by_name, 1, true, &res), 0);
    assert_string_equal(driver_of(f, "0000:01:00.0"), "e1000e");
    xpci_result_free(res);
}

static void test_remove_gives_the_nic_back_to_its_driver(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;
    char *before = snapshot(f, nic, 1);

    assert_int_equal(add(f, nic, 1, NULL, &res), 0);
    xpci_result_free(res);
    assert_int_equal(give_back(f, nic, 1, true, &res), 0);
    assert_null(res->error);
    assert_snapshot(f, nic, 1, before);
    assert_true(file_has(f->audit, "op=assignable-remove dev=0000:01:00.0"));
    free(before);
    xpci_result_free(res);
}

static void test_remove_of_unquarantined_pciback_device_works(void **state)
{
    struct fixture *f = *state;
    static const char *const dev[] = {"0000:09:00.0"};
    struct xpci_result *res = NULL;

    /* hidden by hand (no quarantine, no records): still given back */
    assert_int_equal(give_back(f, dev, 1, true, &res), 0);
    assert_false(in_slots(f, "0000:09:00.0"));
    assert_non_null(driver_of(f, "0000:09:00.0"));
    assert_string_not_equal(driver_of(f, "0000:09:00.0"), "pciback");
    xpci_result_free(res);
}

static void test_remove_refused_while_a_domain_holds_it(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;

    assert_int_equal(add(f, nic, 1, NULL, &res), 0);
    xpci_result_free(res);
    fake_hv_add_domain(f->hv, 5);
    fake_hv_set_owner(f->hv, "0000:01:00.0", 5);
    assert_int_equal(give_back(f, nic, 1, true, &res), -EBUSY);
    assert_non_null(strstr(res->error, "0000:01:00.0"));
    assert_string_equal(driver_of(f, "0000:01:00.0"), "pciback");
    xpci_result_free(res);
}

static void test_refused_bind_rolls_everything_back(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;
    char *before = snapshot(f, nic, 1);

    fake_sysfs_refuse(f->t, "bus/pci/drivers/pciback/bind", ENODEV);
    assert_int_equal(add(f, nic, 1, NULL, &res), -ENODEV);
    /* the error names the device and the step */
    assert_non_null(strstr(res->error, "0000:01:00.0"));
    assert_non_null(strstr(res->error, "drivers/pciback/bind"));
    assert_true(res->rolled_back);
    assert_int_equal(res->n_undo_errors, 0);
    assert_snapshot(f, nic, 1, before);
    free(before);
    xpci_result_free(res);
}

static void test_failed_reset_rolls_back(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;
    char *before = snapshot(f, nic, 1);

    fake_sysfs_refuse(f->t, "bus/pci/devices/0000:01:00.0/reset", EIO);
    assert_int_equal(add(f, nic, 1, NULL, &res), -EIO);
    assert_non_null(strstr(res->error, "reset"));
    assert_snapshot(f, nic, 1, before);
    free(before);
    xpci_result_free(res);
}

static void test_hypercall_busy_rolls_back(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;
    char *before = snapshot(f, nic, 1);

    fake_hv_fail(f->hv, "assign", EBUSY, 1);
    assert_int_equal(add(f, nic, 1, NULL, &res), -EBUSY);
    assert_non_null(strstr(res->error, "xc_assign_device"));
    assert_snapshot(f, nic, 1, before);
    free(before);
    xpci_result_free(res);
}

static void test_pending_journal_blocks_new_operations(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;
    char path[600];
    int fd;

    snprintf(path, sizeof(path), "mkdir -p '%s'", f->state_dir);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof(path), "%s/journal", f->state_dir);
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(add(f, nic, 1, NULL, &res), -EBUSY);
    assert_non_null(strstr(res->error, "xpci recover"));
    assert_string_equal(driver_of(f, "0000:01:00.0"), "e1000e");
    xpci_result_free(res);
}

/* A journal whose last record was cut inside a %XX escape (the fuzzer's
 * find): recover reads it without running past the record's end. */
static void test_recover_reads_a_record_cut_inside_an_escape(void **state)
{
    struct fixture *f = *state;
    static const char journal[] =
        "xpci-journal 1\tassignable-add\t4242\n"
        "intent\t0\t0000:01:00.0\twrite\tbus/pci/devices/0000:01:00.0/"
        "driver_override\tpciback\twrite\tbus/pci/devices/0000:01:00.0/"
        "driver_override\t%4";
    struct xpci_result *res = NULL;
    char path[600];
    int fd;

    snprintf(path, sizeof(path), "mkdir -p '%s'", f->state_dir);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof(path), "%s/journal", f->state_dir);
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, journal, strlen(journal)),
                     (ssize_t)strlen(journal));
    close(fd);
    open_ctx(f);
    xpci_recover(f->ctx, &res);
    xpci_result_free(res);
    assert_string_equal(driver_of(f, "0000:01:00.0"), "e1000e");
}

static const char *const *four_devs(void);

/* A function unplugged half-way: the operation fails naming it, and the
 * others are put back exactly. */
static void test_function_vanishing_midway_rolls_back_the_others(void **st)
{
    struct fixture *f = *st;
    static const char *const others[] = {"0000:01:00.0", "0000:20:00.0",
                                         "0000:22:00.0"};
    struct xpci_result *res = NULL;
    char *before = snapshot(f, others, 3);

    vanish_bdf = "0000:21:00.0";
    assert_true(add(f, four_devs(), 4, NULL, &res) < 0);
    vanish_bdf = NULL;
    assert_non_null(strstr(res->error, "0000:21:00.0"));
    assert_true(res->rolled_back);
    assert_snapshot(f, others, 3, before);
    free(before);
    xpci_result_free(res);
}

/* ---------------------------------------------------------- faults */

static const char *const four[] = {"0000:01:00.0", "0000:20:00.0",
                                   "0000:21:00.0", "0000:22:00.0"};

static const char *const *four_devs(void)
{
    return four;
}

/* Fail each mutating call of a four-function add in turn; after each,
 * every function must be exactly as before. */
static void test_every_failing_step_of_add_leaves_all_as_before(void **st)
{
    struct fixture *f = *st;
    struct xpci_result *res = NULL;
    char *orig = snapshot(f, four, 4);
    int total;

    fail_at = 0;
    calls = 0;
    assert_int_equal(add(f, four, 4, NULL, &res), 0);
    xpci_result_free(res);
    /* count the mutating calls of a successful run */
    fail_at = -1;
    calls = 0;
    assert_int_equal(give_back(f, four, 4, true, &res), 0);
    xpci_result_free(res);
    assert_snapshot(f, four, 4, orig);
    fail_at = 1 << 30;
    calls = 0;
    assert_int_equal(add(f, four, 4, NULL, &res), 0);
    total = calls;
    xpci_result_free(res);
    fail_at = 0;
    assert_int_equal(give_back(f, four, 4, true, &res), 0);
    xpci_result_free(res);
    assert_true(total >= 4 * 6);

    for (int k = 1; k <= total; k++) {
        char *now;

        fail_at = k;
        calls = 0;
        assert_true(add(f, four, 4, NULL, &res) < 0);
        assert_true(res->rolled_back);
        fail_at = 0;
        now = snapshot(f, four, 4);
        if (strcmp(now, orig))
            fail_msg("step %d of %d (%s): state differs:\n%s\nvs\n%s", k,
                     total, res->error, now, orig);
        free(now);
        xpci_result_free(res);
    }
    print_message("fault injection (add): %d steps over 4 functions, "
                  "invariant held every time\n",
                  total);
    free(orig);
}

static void test_every_failing_step_of_remove_leaves_all_hidden(void **st)
{
    struct fixture *f = *st;
    struct xpci_result *res = NULL;
    char *hidden;
    int total;

    assert_int_equal(add(f, four, 4, NULL, &res), 0);
    xpci_result_free(res);
    hidden = snapshot(f, four, 4);
    fail_at = 1 << 30;
    calls = 0;
    assert_int_equal(give_back(f, four, 4, true, &res), 0);
    total = calls;
    xpci_result_free(res);
    fail_at = 0;
    assert_int_equal(add(f, four, 4, NULL, &res), 0);
    xpci_result_free(res);
    assert_snapshot(f, four, 4, hidden);

    for (int k = 1; k <= total; k++) {
        char *now;

        fail_at = k;
        calls = 0;
        assert_true(give_back(f, four, 4, true, &res) < 0);
        fail_at = 0;
        now = snapshot(f, four, 4);
        if (strcmp(now, hidden))
            fail_msg("step %d of %d (%s): state differs:\n%s\nvs\n%s", k,
                     total, res->error, now, hidden);
        free(now);
        xpci_result_free(res);
    }
    print_message("fault injection (remove): %d steps over 4 functions, "
                  "invariant held every time\n",
                  total);
    free(hidden);
}

/*
 * Stop the operation after each journal record (as kill -9 would: nothing
 * after the record runs), then recover: every function, the hypervisor's
 * quarantine, the xenstore records, the persistent set and the journal
 * are exactly as before.  The fakes live in this process, so the stop is
 * a signal that jumps back here; what the stopped operation held open is
 * closed as the kernel would close it, and its context is abandoned.
 */
static sigjmp_buf crash_jmp;

static void crash_handler(int sig)
{
    (void)sig;
    siglongjmp(crash_jmp, 1);
}

static void close_fds_from(int first)
{
    for (int fd = first; fd < first + 64; fd++)
        close(fd);
}

static void test_recover_after_a_crash_at_every_journal_record(void **st)
{
    struct fixture *f = *st;
    char *orig = snapshot(f, four, 4);
    struct sigaction sa = {.sa_handler = crash_handler};
    bool quarantined_once = false;
    int k;

    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    for (k = 1;; k++) {
        struct xpci_result *res = NULL;
        volatile int r = 1;
        char env[32], *now;
        int first_fd;

        open_ctx(f);
        first_fd = dup(0);
        close(first_fd);
        snprintf(env, sizeof(env), "%d", k);
        setenv("XPCI_TEST_CRASH_AFTER", env, 1);
        setenv("XPCI_TEST_CRASH_SIGNAL", "10", 1); /* SIGUSR1 */
        abandoned_begin();
        if (sigsetjmp(crash_jmp, 1) == 0)
            r = xpci_assignable_add(f->ctx, four, 4, NULL, &res);
        abandoned_end();
        unsetenv("XPCI_TEST_CRASH_AFTER");
        unsetenv("XPCI_TEST_CRASH_SIGNAL");
        if (r == 0) {
            /* ran to the end: no more records to crash after */
            xpci_result_free(res);
            break;
        }
        assert_int_equal(r, 1);
        /* The stopped operation's memory is lost with it; its files
         * (lock, journal, state directory) are closed. */
        f->ctx = NULL;
        close_fds_from(first_fd);
        for (unsigned i = 0; i < 4; i++)
            quarantined_once |= fake_hv_owner(f->hv, four[i]) == XPCI_DOMID_IO;
        open_ctx(f);
        res = NULL;
        assert_int_equal(xpci_recover(f->ctx, &res), 0);
        if (res->n_undo_errors)
            fail_msg("record %d: %s", k, res->undo_errors[0]);
        xpci_result_free(res);
        now = snapshot(f, four, 4);
        if (strcmp(now, orig))
            fail_msg("crash after record %d: state differs:\n%s\nvs\n%s", k,
                     now, orig);
        free(now);
    }
    print_message("crash recovery: stopped after each of %d journal "
                  "records, recovered every time\n",
                  k - 1);
    assert_true(k > 10);
    /* the comparison covered the hypervisor: some crash left functions in
     * quarantine for recover to take out */
    assert_true(quarantined_once);
    free(orig);
}

/* Xen is asked whether a guest holds a hidden function: the records
 * alone don't make it "quarantined". */
static void test_list_asks_xen_whether_a_guest_holds_it(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_assignable *list = NULL;
    struct xpci_result *res = NULL;
    size_t n = 0;
    bool seen = false;

    assert_int_equal(add(f, nic, 1, NULL, &res), 0);
    xpci_result_free(res);
    assert_int_equal(xpci_assignable_list(f->ctx, &list, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i].bdf, nic[0])) {
            seen = true;
            assert_true(list[i].quarantined);
            assert_int_equal(list[i].xen_free, XPCI_YES);
        }
    assert_true(seen);
    xpci_assignable_list_free(list, n);

    /* a guest got it behind the records' back */
    fake_hv_add_domain(f->hv, 5);
    fake_hv_set_owner(f->hv, nic[0], 5);
    seen = false;
    assert_int_equal(xpci_assignable_list(f->ctx, &list, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i].bdf, nic[0])) {
            seen = true;
            assert_false(list[i].quarantined);
            assert_int_equal(list[i].xen_free, XPCI_NO);
        }
    assert_true(seen);
    xpci_assignable_list_free(list, n);
}

/* A live guest's PCI backend lists the function, with no domid record
 * (another toolstack attached it): it stays hidden.  A gone guest's
 * backend holds nothing. */
static void test_remove_refused_while_a_backend_lists_it(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_result *res = NULL;

    assert_int_equal(add(f, nic, 1, NULL, &res), 0);
    xpci_result_free(res);
    fake_hv_add_domain(f->hv, 5);
    fake_xs_set(f->xs, "/local/domain/5/name", "guest");
    fake_xs_set(f->xs, "/local/domain/0/backend/pci/5/0/num_devs", "1");
    fake_xs_set(f->xs, "/local/domain/0/backend/pci/5/0/dev-0", nic[0]);
    fake_xs_set(f->xs, "/local/domain/0/backend/pci/5/0/state-0", "4");
    assert_int_equal(give_back(f, nic, 1, true, &res), -EBUSY);
    assert_non_null(strstr(res->error, nic[0]));
    assert_non_null(strstr(res->error, "PCI backend of domain guest (d5)"));
    assert_string_equal(driver_of(f, nic[0]), "pciback");
    xpci_result_free(res);

    /* the same left by a domain that is gone */
    assert_int_equal(
        fake_xs_ops.rm(f->xs, 0, "/local/domain/0/backend/pci/5"), 0);
    fake_xs_set(f->xs, "/local/domain/0/backend/pci/9/0/num_devs", "1");
    fake_xs_set(f->xs, "/local/domain/0/backend/pci/9/0/dev-0", nic[0]);
    assert_int_equal(give_back(f, nic, 1, true, &res), 0);
    assert_string_equal(driver_of(f, nic[0]), "e1000e");
    xpci_result_free(res);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_add_hides_quarantines_and_records_the_nic),
        T(test_add_twice_changes_nothing_the_second_time),
        T(test_dry_run_prints_every_step_and_changes_nothing),
        T(test_add_loads_pciback_when_it_is_missing),
        T(test_add_refuses_the_root_disk_even_with_force),
        T(test_add_refuses_a_multipath_controller_holding_root),
        T(test_add_refuses_a_btrfs_member_disk),
        T(test_add_refuses_a_port_of_the_default_route_bridge),
        T(test_add_refuses_an_untraceable_root_without_force),
        T(test_add_does_not_reset_when_reset_is_disabled),
        T(test_up_interface_needs_force),
        T(test_force_each_covers_only_its_own_function),
        T(test_no_iommu_refuses_even_with_force),
        T(test_without_xen_nothing_is_hidden),
        T(test_functions_that_go_together_are_hidden_together),
        T(test_bus_reset_refused_in_a_shared_slot_is_noted),
        T(test_name_and_location_path_select_the_function),
        T(test_remove_gives_the_nic_back_to_its_driver),
        T(test_remove_of_unquarantined_pciback_device_works),
        T(test_remove_refused_while_a_domain_holds_it),
        T(test_refused_bind_rolls_everything_back),
        T(test_failed_reset_rolls_back),
        T(test_hypercall_busy_rolls_back),
        T(test_pending_journal_blocks_new_operations),
        T(test_recover_reads_a_record_cut_inside_an_escape),
        T(test_function_vanishing_midway_rolls_back_the_others),
        T(test_every_failing_step_of_add_leaves_all_as_before),
        T(test_every_failing_step_of_remove_leaves_all_hidden),
        T(test_recover_after_a_crash_at_every_journal_record),
        T(test_list_asks_xen_whether_a_guest_holds_it),
        T(test_remove_refused_while_a_backend_lists_it),
    };
#undef T

    return cmocka_run_group_tests_name("assignable", tests, NULL, NULL);
}
