/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-state.c - what xpci reads back and remembers, given hostile or
 * stale input: names, the persistent set's fields and identities, boot
 * reconcile after a card moved or a bus was renumbered, the udev match,
 * journals cut short or pointing out of their tree, and planted symlinks
 * or loose permissions in the state directory.  Fake kernel, fake
 * hypervisor, in-memory xenstore.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-hv.h"
#include "fake-sysfs.h"
#include "fake-xs.h"
#include "topologies.h"
#include "xpci.h"

#define NIC_PORT "0000:00:06.0"
#define NIC_LOC "pci0000:00/06.0/00.0"
#define NVME "0000:03:00.0" /* holds the root filesystem */
#define NVME_LOC "pci0000:00/1e.0/00.0"
#define DSN 0x0011223344556677ULL

struct fixture {
    struct fake_sysfs *t;
    struct fake_hv *hv;
    struct fake_xs *xs;
    xpci_ctx *ctx;
    char nic[16];            /* the NIC's BDF in this boot */
    char state_dir[512];
    char audit[512];
    char outside[256];       /* a directory outside the tree */
    bool plain;              /* plain sysfs writes (not the fake's) */
};

/* The NIC below root port 00:06.0, on bus `bus`, with a serial number. */
static void add_nic(struct fixture *f, int bus, uint16_t device, uint64_t dsn)
{
    struct fake_pci rp = fake_pci_default(0x8086, 0x2922, 0x060400);
    struct fake_pci d = fake_pci_default(0x8086, device, 0x020000);

    rp.header_type = 1;
    rp.pcie_type = 4;
    rp.driver = "pcieport";
    rp.iommu_group = 40;
    rp.subsys_vendor = 0x8086;
    fake_sysfs_add_device(f->t, NIC_PORT, NULL, &rp);
    d.subsys_vendor = 0x8086;
    d.subsys_device = 0xa01f;
    d.pcie_type = 0;
    d.flr = true;
    d.msix = true;
    d.driver = "e1000e";
    d.iommu_group = 41;
    d.reset_method = "flr bus";
    d.res[0] = (struct fake_res){.start = 0xf0000000, .size = 0x20000};
    d.has_dsn = dsn != 0;
    d.dsn = dsn;
    snprintf(f->nic, sizeof(f->nic), "0000:%02x:00.0", bus);
    fake_sysfs_add_device(f->t, f->nic, NIC_PORT, &d);
}

static void build(struct fixture *f, int bus, uint16_t device, uint64_t dsn)
{
    f->t = fake_sysfs_new();
    f->hv = fake_hv_new();
    fake_hv_set_iommu(f->hv, true);
    f->xs = fake_xs_new();
    fake_xs_set(f->xs, "/libxl", "");
    topo_host_bridge(f->t);
    topo_nvme_root(f->t);
    add_nic(f, bus, device, dsn);
    snprintf(f->state_dir, sizeof(f->state_dir), "%s/var/lib/xpci",
             fake_sysfs_root(f->t));
    snprintf(f->audit, sizeof(f->audit), "%s/var/log/xpci/audit.log",
             fake_sysfs_root(f->t));
}

static void open_ctx(struct fixture *f)
{
    struct xpci_params p = {
        .sysfs_root = fake_sysfs_sys(f->t),
        .proc_root = fake_sysfs_proc(f->t),
        .sysfs_ops = f->plain ? NULL : &fake_sysfs_ops,
        .sysfs_priv = f->t,
        .hv_ops = &fake_hv_ops,
        .hv_priv = f->hv,
        .xs_ops = &fake_xs_ops,
        .xs_priv = f->xs,
        .state_dir = f->state_dir,
        .audit_log = f->audit,
        .flags = XPCI_CTX_NO_SYSLOG,
    };

    xpci_ctx_free(f->ctx);
    f->ctx = NULL;
    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
}

static void teardown_host(struct fixture *f)
{
    xpci_ctx_free(f->ctx);
    f->ctx = NULL;
    fake_xs_free(f->xs);
    fake_hv_free(f->hv);
    fake_sysfs_free(f->t);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    build(f, 0x20, 0x10d3, DSN);
    snprintf(f->outside, sizeof(f->outside), "/tmp/xpci-outside-XXXXXX");
    assert_non_null(mkdtemp(f->outside));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[400];

    teardown_host(f);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->outside);
    assert_int_equal(system(cmd), 0);
    unsetenv("XPCI_TEST_NO_OPENAT2");
    free(f);
    return 0;
}

/* ---------------------------------------------------------- helpers */

static char *slurp(const char *path)
{
    static char buf[65536];
    int fd = open(path, O_RDONLY);
    ssize_t r;

    if (fd < 0)
        return NULL;
    r = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[r < 0 ? 0 : r] = '\0';
    return buf;
}

static void put_file(const char *path, const char *text)
{
    FILE *out = fopen(path, "w");

    assert_non_null(out);
    fputs(text, out);
    assert_int_equal(fclose(out), 0);
}

static void state_path(struct fixture *f, const char *name, char *buf,
                       size_t len)
{
    snprintf(buf, len, "%s/%s", f->state_dir, name);
}

static void make_state_dir(struct fixture *f)
{
    char cmd[1200];

    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && chmod 0700 '%s'",
             f->state_dir, f->state_dir);
    assert_int_equal(system(cmd), 0);
}

static const char *state_text(struct fixture *f)
{
    char path[600];

    state_path(f, "assignable", path, sizeof(path));
    return slurp(path);
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
        return "-";
    link[r] = '\0';
    return strrchr(link, '/') + 1;
}

static int add(struct fixture *f, const char *dev,
               const struct xpci_op_opts *opts, struct xpci_result **res)
{
    open_ctx(f);
    return xpci_assignable_add(f->ctx, &dev, 1, opts, res);
}

static int reconcile(struct fixture *f, struct xpci_result **res)
{
    open_ctx(f);
    return xpci_reconcile(f->ctx, NULL, res);
}

static bool has_note(const struct xpci_result *res, const char *needle)
{
    for (unsigned i = 0; i < res->n_notes; i++)
        if (strstr(res->notes[i], needle))
            return true;
    return false;
}

/*
 * A reboot: the persistent set survives, everything else is new (a fresh
 * tree whose NIC may sit on another bus or be another card, a hypervisor
 * that forgot its quarantine, an empty xenstore).
 */
static void reboot(struct fixture *f, int bus, uint16_t device, uint64_t dsn)
{
    const char *text = state_text(f);
    char *saved = text ? strdup(text) : NULL;
    char path[600];

    teardown_host(f);
    build(f, bus, device, dsn);
    if (saved) {
        make_state_dir(f);
        state_path(f, "assignable", path, sizeof(path));
        put_file(path, saved);
        free(saved);
    }
}

/* The identity the library records for the fixture's NIC or NVMe. */
#define NIC_IDENT "8086:10d3/8086:a01f/020000/dsn=0011223344556677"
#define NVME_IDENT "8086:5845/1af4:1100/010802"

/* ---------------------------------------------------------- names */

static void test_name_valid_accepts_only_the_strict_set(void **state)
{
    char long_name[80];

    (void)state;
    assert_true(xpci_name_valid("uplink"));
    assert_true(xpci_name_valid("gpu-0.1_a:b+c"));
    assert_false(xpci_name_valid(NULL));
    assert_false(xpci_name_valid(""));
    assert_false(xpci_name_valid("two words"));
    assert_false(xpci_name_valid("a\nb"));
    assert_false(xpci_name_valid("tab\there"));
    assert_false(xpci_name_valid("caf\xc3\xa9"));
    assert_false(xpci_name_valid("a/b"));
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    assert_true(xpci_name_valid(long_name));
    long_name[64] = 'a';
    long_name[65] = '\0';
    assert_false(xpci_name_valid(long_name));
}

/* A newline in a name once added a line to the persistent set, and the
 * next boot hid what that line named: here the root disk. */
static void test_name_with_newline_or_space_is_refused(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "x - -\n0000:03:00.0 " NVME_LOC " nvme", "two words", "", "a\tb"};
    struct xpci_result *res = NULL;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct xpci_op_opts o = {.name = bad[i]};

        assert_int_equal(add(f, f->nic, &o, &res), -EINVAL);
        assert_non_null(strstr(res->error, "invalid name"));
        xpci_result_free(res);
        assert_null(state_text(f));
        assert_string_equal(driver_of(f, f->nic), "e1000e");
        assert_null(fake_xs_get(f->xs, "/libxl/pci/0000-20-00-0/name"));
    }
    /* and the boot that follows hides nothing */
    assert_int_equal(reconcile(f, &res), 0);
    xpci_result_free(res);
    assert_string_equal(driver_of(f, NVME), "nvme");
}

/* Every field is escaped: a driver whose name has a "%" (a tree may say
 * anything) reads back whole. */
static void test_state_fields_are_escaped(void **state)
{
    struct fixture *f = *state;
    struct fake_pci d = fake_pci_default(0x8086, 0x10d3, 0x020000);
    struct xpci_assignable *list = NULL;
    struct xpci_result *res = NULL;
    const char *dev = "0000:30:00.0";
    size_t n = 0;
    bool seen = false;

    d.pcie_type = 0;
    d.driver = "odd%drv";
    d.iommu_group = 50;
    d.res[0] = (struct fake_res){.start = 0xf4000000, .size = 0x1000};
    fake_sysfs_add_device(f->t, dev, NULL, &d);
    assert_int_equal(add(f, dev, NULL, &res), 0);
    xpci_result_free(res);
    assert_non_null(strstr(state_text(f), " odd%25drv "));
    assert_int_equal(xpci_assignable_list(f->ctx, &list, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i].bdf, dev)) {
            assert_string_equal(list[i].original_driver, "odd%drv");
            assert_null(list[i].name);
            seen = true;
        }
    assert_true(seen);
    xpci_assignable_list_free(list, n);
}

/* ---------------------------------------------------------- reconcile */

static void test_add_records_the_identity(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    assert_int_equal(add(f, f->nic, NULL, &res), 0);
    xpci_result_free(res);
    assert_non_null(strstr(state_text(f), "0000:20:00.0 " NIC_LOC
                                          " e1000e %- " NIC_IDENT "\n"));
}

static void test_reconcile_rehides_the_same_card(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    assert_int_equal(add(f, f->nic, NULL, &res), 0);
    xpci_result_free(res);
    reboot(f, 0x20, 0x10d3, DSN);
    assert_int_equal(reconcile(f, &res), 0);
    xpci_result_free(res);
    assert_string_equal(driver_of(f, f->nic), "pciback");
    assert_int_equal(fake_hv_owner(f->hv, f->nic), XPCI_DOMID_IO);
}

/* Another card in the remembered slot is not taken from dom0. */
static void test_reconcile_skips_a_moved_card(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    assert_int_equal(add(f, f->nic, NULL, &res), 0);
    xpci_result_free(res);
    reboot(f, 0x20, 0x10d4, DSN);
    assert_int_equal(reconcile(f, &res), 0);
    assert_true(has_note(res, "another card is there now"));
    xpci_result_free(res);
    assert_string_equal(driver_of(f, f->nic), "e1000e");
    assert_true(fake_hv_owner(f->hv, f->nic) < 0);
    assert_non_null(strstr(slurp(f->audit), "skipped=another-card"));
    /* the entry stays, for the card when it comes back */
    assert_non_null(strstr(state_text(f), NIC_IDENT));
}

/* The same model, another unit: the serial number tells them apart. */
static void test_reconcile_skips_a_card_with_another_serial(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    assert_int_equal(add(f, f->nic, NULL, &res), 0);
    xpci_result_free(res);
    reboot(f, 0x20, 0x10d3, DSN + 1);
    assert_int_equal(reconcile(f, &res), 0);
    assert_true(has_note(res, "another card is there now"));
    xpci_result_free(res);
    assert_string_equal(driver_of(f, f->nic), "e1000e");
}

/* An entry for the function holding / (with its true identity, or in the
 * old format without one) is never hidden: the checks refuse it. */
static void test_reconcile_never_hides_what_dom0_uses(void **state)
{
    struct fixture *f = *state;
    static const char *const sets[] = {
        "0000:03:00.0 " NVME_LOC " nvme %- " NVME_IDENT "\n",
        "0000:03:00.0 " NVME_LOC " nvme -\n",
    };
    struct xpci_result *res = NULL;
    char path[600];

    make_state_dir(f);
    state_path(f, "assignable", path, sizeof(path));
    for (size_t i = 0; i < 2; i++) {
        put_file(path, sets[i]);
        assert_int_equal(reconcile(f, &res), 0);
        assert_true(has_note(res, "refused by check dom0.block"));
        xpci_result_free(res);
        assert_non_null(strstr(slurp(f->audit), "skipped=refused"));
        assert_string_equal(driver_of(f, NVME), "nvme");
        assert_true(fake_hv_owner(f->hv, NVME) < 0);
        /* an old entry is not adopted either */
        assert_string_equal(slurp(path), sets[i]);
    }
}

/* A set written before identities were recorded: read, adopted at the
 * first reconcile when the checks pass, and its identity written then. */
static void test_old_format_entry_is_adopted_when_checks_pass(void **state)
{
    struct fixture *f = *state;
    struct xpci_assignable *list = NULL;
    struct xpci_result *res = NULL;
    char path[600];
    size_t n = 0;

    make_state_dir(f);
    state_path(f, "assignable", path, sizeof(path));
    put_file(path, "# xpci: PCI functions kept for guests\n"
                   "0000:20:00.0 " NIC_LOC " e1000e uplink\n");
    open_ctx(f);
    assert_int_equal(xpci_assignable_list(f->ctx, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_true(list[0].persistent);
    assert_string_equal(list[0].name, "uplink");
    xpci_assignable_list_free(list, n);
    assert_int_equal(xpci_persistent_match(f->ctx, f->nic), 0);
    assert_int_equal(reconcile(f, &res), 0);
    assert_true(has_note(res, "identity recorded"));
    xpci_result_free(res);
    assert_string_equal(driver_of(f, f->nic), "pciback");
    assert_non_null(strstr(state_text(f), "0000:20:00.0 " NIC_LOC
                                          " e1000e uplink " NIC_IDENT "\n"));
    open_ctx(f);
    assert_int_equal(xpci_persistent_match(f->ctx, f->nic), 1);
}

/* The bus renumbered: reconcile finds the function by location, rewrites
 * its BDF, and giving it back then clears the entry. */
static void test_renumbered_bus_then_give_back_clears_the_entry(void **st)
{
    struct fixture *f = *st;
    struct xpci_op_opts rebind = {.rebind = true};
    struct xpci_result *res = NULL;
    const char *dev;

    assert_int_equal(add(f, f->nic, NULL, &res), 0);
    xpci_result_free(res);
    reboot(f, 0x25, 0x10d3, DSN);
    assert_int_equal(reconcile(f, &res), 0);
    assert_true(has_note(res, "0000:20:00.0 is now 0000:25:00.0"));
    xpci_result_free(res);
    assert_string_equal(driver_of(f, "0000:25:00.0"), "pciback");
    assert_non_null(strstr(state_text(f), "0000:25:00.0 " NIC_LOC " "));
    assert_null(strstr(state_text(f), "0000:20:00.0"));

    dev = "0000:25:00.0";
    open_ctx(f);
    assert_int_equal(xpci_assignable_remove(f->ctx, &dev, 1, &rebind, &res),
                     0);
    xpci_result_free(res);
    assert_string_equal(driver_of(f, "0000:25:00.0"), "e1000e");
    assert_null(strstr(state_text(f), NIC_LOC));
    /* the next boot leaves it alone */
    reboot(f, 0x25, 0x10d3, DSN);
    assert_int_equal(reconcile(f, &res), 0);
    xpci_result_free(res);
    assert_string_equal(driver_of(f, "0000:25:00.0"), "e1000e");
}

/* The same, given back before any reconcile ran: still found by location. */
static void test_give_back_after_renumbering_finds_the_entry(void **st)
{
    struct fixture *f = *st;
    struct xpci_result *res = NULL;
    const char *dev = "0000:26:00.0";
    char path[600];

    make_state_dir(f);
    state_path(f, "assignable", path, sizeof(path));
    put_file(path, "0000:20:00.0 " NIC_LOC " e1000e %- " NIC_IDENT "\n");
    reboot(f, 0x26, 0x10d3, DSN);
    open_ctx(f);
    assert_int_equal(xpci_assignable_remove(f->ctx, &dev, 1, NULL, &res), 0);
    xpci_result_free(res);
    assert_null(strstr(state_text(f), NIC_LOC));
}

/* The udev rule's question follows the same rules as reconcile. */
static void test_udev_match_follows_the_reconcile_rules(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char path[600];

    assert_int_equal(add(f, f->nic, NULL, &res), 0);
    xpci_result_free(res);
    /* a boot where the same card comes up unbound */
    reboot(f, 0x21, 0x10d3, DSN);
    open_ctx(f);
    assert_int_equal(xpci_persistent_match(f->ctx, f->nic), 1);
    assert_int_equal(xpci_persistent_match(f->ctx, NVME), 0);
    assert_int_equal(xpci_persistent_match(f->ctx, "0000:00:00.0"), 0);
    assert_true(xpci_persistent_match(f->ctx, "../../x") < 0);
    /* another card there */
    reboot(f, 0x21, 0x10d4, DSN);
    open_ctx(f);
    assert_int_equal(xpci_persistent_match(f->ctx, f->nic), 0);
    /* the root disk, even with its true identity */
    state_path(f, "assignable", path, sizeof(path));
    put_file(path, "0000:03:00.0 " NVME_LOC " nvme %- " NVME_IDENT "\n");
    open_ctx(f);
    assert_int_equal(xpci_persistent_match(f->ctx, NVME), 0);
}

/* ---------------------------------------------------------- journal */

static void plant_journal(struct fixture *f, const char *text)
{
    char path[600];

    make_state_dir(f);
    state_path(f, "journal", path, sizeof(path));
    put_file(path, text);
}

#define JHEAD "xpci-journal 1\tassignable-add\t1\n"

/* A record cut inside a %XX escape (disk full, power lost) once made the
 * decoder run past the end of the string.  Now it is a journal error and
 * nothing is replayed. */
static void test_journal_cut_inside_an_escape_is_refused(void **state)
{
    struct fixture *f = *state;
    static const char *const journals[] = {
        JHEAD "intent\t0\t0000:20:00.0\twrite\tbus/pci/drivers/e1000e/unbind"
              "\t0000:20:00.0\twrite\tbus/pci/drivers/e1000e/bind\t0000%3",
        JHEAD "intent\t0\t0000:20:00.0\twrite\tbus/pci/drivers/e1000e/unbind"
              "\t0000:20:00.0\twrite\tbus/pci/drivers/e1000e/bind\t0000%",
        JHEAD "intent\t0\t0000:20:00.0\twrite\tbus/pci/drivers/e1000e/unbind"
              "\t0000:20:00.0\twrite\tbus/pci/drivers/e1000e/bind\t0000%3\n",
        JHEAD "intent\t0\t0000:20:00.0\twrite\tbus/pci/drivers/e1000e/unbind"
              "\t0000:20:00.0\twrite\tbus/pci/drivers/e1000e/bind\t00%zz\n",
        JHEAD "intent\t0\t0000:20:00.0\twrite\tbus/pci/drivers/e1000e/unbind"
              "\t0000:20:00.0\twrite\tbus/pci/drivers/e1000e/bind\t%00\n",
        JHEAD "intent\t0\t0000:20:00.0\tfrobnicate\t%-\t%-\tnone\t%-\t%-\n",
        JHEAD "done\t7\t1\n",
        "xpci-journal 1\tassignable-add",
    };
    struct xpci_result *res = NULL;
    char path[600];

    for (size_t i = 0; i < sizeof(journals) / sizeof(journals[0]); i++) {
        plant_journal(f, journals[i]);
        fake_sysfs_clear_writes(f->t);
        open_ctx(f);
        assert_int_equal(xpci_recover(f->ctx, &res), -EBADMSG);
        assert_non_null(strstr(res->error, "malformed or cut short"));
        assert_false(res->rolled_back);
        xpci_result_free(res);
        assert_null(fake_sysfs_writes(f->t)[0]);
        assert_string_equal(driver_of(f, f->nic), "e1000e");
        state_path(f, "journal", path, sizeof(path));
        assert_int_equal(access(path, F_OK), 0); /* kept for inspection */
    }
}

/* ---------------------------------------------------------- --root */

static void make_outside_file(struct fixture *f, char *path, size_t len)
{
    snprintf(path, len, "%s/precious", f->outside);
    put_file(path, "precious\n");
}

/* A journal found in a foreign tree that names paths out of it: refused
 * before anything runs. */
static void test_journal_paths_out_of_the_tree_are_refused(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char outside[400], j[2048];
    const char *const prefix[] = {"bus/pci/../../../../../..", "../..", ""};

    make_outside_file(f, outside, sizeof(outside));
    f->plain = true;
    for (size_t i = 0; i < 3; i++) {
        char p[600];

        snprintf(p, sizeof(p), "%s%s", prefix[i], outside);
        snprintf(j, sizeof(j),
                 JHEAD "intent\t0\t0000:20:00.0\twrite\t%s\tx\twrite\t%s\tx\n",
                 p, p);
        plant_journal(f, j);
        open_ctx(f);
        assert_int_equal(xpci_recover(f->ctx, &res), -EBADMSG);
        xpci_result_free(res);
        assert_string_equal(slurp(outside), "precious\n");
    }
}

/* A well-formed journal, but the tree's device link leads out of it: the
 * write is refused by the open beneath the root (openat2, and the check
 * that stands in for it without openat2). */
static void symlink_out_of_the_tree(struct fixture *f, bool fallback)
{
    struct xpci_result *res = NULL;
    char link[700], target[400], j[1024];

    if (fallback)
        setenv("XPCI_TEST_NO_OPENAT2", "1", 1);
    snprintf(target, sizeof(target), "%s/driver_override", f->outside);
    put_file(target, "precious\n");
    snprintf(link, sizeof(link), "%s/bus/pci/devices/%s",
             fake_sysfs_sys(f->t), f->nic);
    assert_int_equal(unlink(link), 0);
    assert_int_equal(symlink(f->outside, link), 0);
    snprintf(j, sizeof(j),
             JHEAD "intent\t0\t%s\twrite\tbus/pci/devices/%s/driver_override"
                   "\tpciback\twrite\tbus/pci/devices/%s/driver_override"
                   "\tevil\n",
             f->nic, f->nic, f->nic);
    plant_journal(f, j);
    f->plain = true;
    open_ctx(f);
    assert_int_equal(xpci_recover(f->ctx, &res), -EIO);
    assert_int_equal(res->n_undo_errors, 1);
    assert_non_null(strstr(res->undo_errors[0], "cross-device"));
    xpci_result_free(res);
    assert_string_equal(slurp(target), "precious\n");
}

static void test_symlink_out_of_the_tree_is_not_written(void **state)
{
    symlink_out_of_the_tree(*state, false);
}

static void test_symlink_out_of_the_tree_is_not_written_without_openat2(
    void **state)
{
    symlink_out_of_the_tree(*state, true);
}

/* ---------------------------------------------------------- state dir */

static void plant_link(struct fixture *f, const char *name, const char *to)
{
    char path[600];

    make_state_dir(f);
    state_path(f, name, path, sizeof(path));
    assert_int_equal(symlink(to, path), 0);
}

static void test_planted_state_file_symlink_is_refused(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char outside[400];

    make_outside_file(f, outside, sizeof(outside));
    plant_link(f, "assignable", outside);
    assert_int_equal(add(f, f->nic, NULL, &res), -ELOOP);
    assert_non_null(strstr(res->error, "symbolic link"));
    xpci_result_free(res);
    assert_string_equal(driver_of(f, f->nic), "e1000e");
    assert_string_equal(slurp(outside), "precious\n");
}

static void test_planted_lock_symlink_is_refused(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char target[400];

    snprintf(target, sizeof(target), "%s/created", f->outside);
    plant_link(f, "lock", target);
    assert_int_equal(add(f, f->nic, NULL, &res), -ELOOP);
    assert_non_null(strstr(res->error, "cannot lock"));
    xpci_result_free(res);
    assert_int_equal(access(target, F_OK), -1);
}

/* A temporary file planted (or left by a crash) is replaced, never
 * written through. */
static void test_planted_tmp_symlink_is_not_written_through(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char outside[400];
    struct stat st;

    make_outside_file(f, outside, sizeof(outside));
    plant_link(f, ".assignable.tmp", outside);
    assert_int_equal(add(f, f->nic, NULL, &res), 0);
    xpci_result_free(res);
    assert_string_equal(slurp(outside), "precious\n");
    assert_non_null(strstr(state_text(f), NIC_IDENT));
    {
        char path[600];

        state_path(f, "assignable", path, sizeof(path));
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
    }
}

static void test_planted_journal_symlink_is_not_replayed(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char target[400];

    snprintf(target, sizeof(target), "%s/journal", f->outside);
    put_file(target, JHEAD "intent\t0\t0000:20:00.0\twrite\tbus/pci/drivers/"
                           "e1000e/unbind\t0000:20:00.0\tnone\t%-\t%-\n");
    plant_link(f, "journal", target);
    open_ctx(f);
    assert_true(xpci_recover(f->ctx, &res) < 0);
    assert_non_null(strstr(res->error, "refused"));
    xpci_result_free(res);
    assert_string_equal(driver_of(f, f->nic), "e1000e");
    /* and no operation starts over it */
    assert_int_equal(add(f, f->nic, NULL, &res), -EBUSY);
    xpci_result_free(res);
}

static void test_planted_audit_symlink_is_not_appended_to(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char outside[400], cmd[1200];

    make_outside_file(f, outside, sizeof(outside));
    snprintf(cmd, sizeof(cmd), "mkdir -p -m 0750 '%s/var/log/xpci' && "
                               "ln -s '%s' '%s'",
             fake_sysfs_root(f->t), outside, f->audit);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(add(f, f->nic, NULL, &res), 0);
    xpci_result_free(res);
    assert_string_equal(slurp(outside), "precious\n");

    /* the audit directory itself a link */
    teardown_host(f);
    build(f, 0x20, 0x10d3, DSN);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s/var/log' && ln -s '%s' "
                               "'%s/var/log/xpci'",
             fake_sysfs_root(f->t), f->outside, fake_sysfs_root(f->t));
    assert_int_equal(system(cmd), 0);
    assert_int_equal(add(f, f->nic, NULL, &res), 0);
    xpci_result_free(res);
    snprintf(cmd, sizeof(cmd), "%s/audit.log", f->outside);
    assert_int_equal(access(cmd, F_OK), -1);
}

static void test_state_dir_symlink_is_refused(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char cmd[1200], probe[400];

    snprintf(cmd, sizeof(cmd), "mkdir -p '%s/var/lib' && chmod 0700 '%s' && "
                               "ln -s '%s' '%s'",
             fake_sysfs_root(f->t), f->outside, f->outside, f->state_dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(add(f, f->nic, NULL, &res), -ELOOP);
    assert_non_null(strstr(res->error, "symbolic link"));
    xpci_result_free(res);
    assert_string_equal(driver_of(f, f->nic), "e1000e");
    snprintf(probe, sizeof(probe), "%s/lock", f->outside);
    assert_int_equal(access(probe, F_OK), -1);
}

static void test_state_dir_open_to_others_is_refused(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    static const char *const how[] = {"chmod 0770", "chmod 0702",
                                      "chown 65534"};

    for (size_t i = 0; i < 3; i++) {
        char cmd[800];

        make_state_dir(f);
        snprintf(cmd, sizeof(cmd), "%s '%s'", how[i], f->state_dir);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(add(f, f->nic, NULL, &res), -EPERM);
        assert_non_null(strstr(res->error, "writable by others"));
        xpci_result_free(res);
        assert_string_equal(driver_of(f, f->nic), "e1000e");
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->state_dir);
        assert_int_equal(system(cmd), 0);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_name_valid_accepts_only_the_strict_set),
        T(test_name_with_newline_or_space_is_refused),
        T(test_state_fields_are_escaped),
        T(test_add_records_the_identity),
        T(test_reconcile_rehides_the_same_card),
        T(test_reconcile_skips_a_moved_card),
        T(test_reconcile_skips_a_card_with_another_serial),
        T(test_reconcile_never_hides_what_dom0_uses),
        T(test_old_format_entry_is_adopted_when_checks_pass),
        T(test_renumbered_bus_then_give_back_clears_the_entry),
        T(test_give_back_after_renumbering_finds_the_entry),
        T(test_udev_match_follows_the_reconcile_rules),
        T(test_journal_cut_inside_an_escape_is_refused),
        T(test_journal_paths_out_of_the_tree_are_refused),
        T(test_symlink_out_of_the_tree_is_not_written),
        T(test_symlink_out_of_the_tree_is_not_written_without_openat2),
        T(test_planted_state_file_symlink_is_refused),
        T(test_planted_lock_symlink_is_refused),
        T(test_planted_tmp_symlink_is_not_written_through),
        T(test_planted_journal_symlink_is_not_replayed),
        T(test_planted_audit_symlink_is_not_appended_to),
        T(test_state_dir_symlink_is_refused),
        T(test_state_dir_open_to_others_is_refused),
    };
#undef T

    return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
