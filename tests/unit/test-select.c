/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-select.c - selectors: the strict parser (every malformed or hostile
 * form refused with a message naming it) and what each key picks on the
 * fake kernel's host topology.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-sysfs.h"
#include "topologies.h"
#include "xpci.h"

struct fixture {
    struct fake_sysfs *t;
    xpci_ctx *ctx;
    struct xpci_host *host;
    char picked[1024];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct fake_pci numa = fake_pci_default(0x15b3, 0x101b, 0x020000);
    struct xpci_params p = {0};

    assert_non_null(f);
    f->t = fake_sysfs_new();
    topo_host(f->t);
    /* a second segment whose function sits on NUMA node 1 */
    numa.numa_node = 1;
    numa.driver = "mlx5_core";
    numa.iommu_group = 40;
    fake_sysfs_add_device(f->t, "0001:00:02.0", NULL, &numa);
    p.sysfs_root = fake_sysfs_sys(f->t);
    p.proc_root = fake_sysfs_proc(f->t);
    p.flags = XPCI_CTX_NO_HYPERVISOR | XPCI_CTX_NO_XENSTORE;
    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
    assert_int_equal(xpci_host_scan(f->ctx, &f->host), 0);
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

/* The BDFs expr picks, space-separated. */
static const char *pick(struct fixture *f, const char *expr)
{
    struct xpci_selector *sel = NULL;
    char *why = NULL;
    size_t off = 0;

    if (xpci_selector_parse(expr, &sel, &why) != 0)
        fail_msg("'%s' refused: %s", expr, why ? why : "?");
    f->picked[0] = '\0';
    for (size_t i = 0; i < xpci_host_count(f->host); i++) {
        const struct xpci_device *d = xpci_host_device(f->host, i);

        if (xpci_selector_match(sel, f->host, d))
            off += (size_t)snprintf(f->picked + off, sizeof(f->picked) - off,
                                    "%s%s", off ? " " : "", d->bdf_str);
    }
    xpci_selector_free(sel);
    return f->picked;
}

static void test_vendor_and_device_pick_the_same_model(void **state)
{
    struct fixture *f = *state;

    assert_string_equal(pick(f, "vendor=8086,device=10ed"),
                        "0000:07:10.0 0000:07:10.2");
    assert_string_equal(pick(f, "vendor_id=8086,product_id=10FB"),
                        "0000:07:00.0");
    assert_string_equal(pick(f, "vendor=15b3,device=*"), "0001:00:02.0");
    assert_string_equal(pick(f, "vendor=1234"), "");
}

static void test_class_is_a_prefix(void **state)
{
    struct fixture *f = *state;
    const char *nics = pick(f, "class=0200");

    assert_non_null(strstr(nics, "0000:01:00.0"));
    assert_non_null(strstr(nics, "0001:00:02.0"));
    assert_null(strstr(nics, "0000:03:00.0"));
    assert_string_equal(pick(f, "class=02"), pick(f, "class=0200"));
    assert_string_equal(pick(f, "class=0108"), "0000:03:00.0");
    assert_string_equal(pick(f, "class=060000"), "0000:00:00.0");
}

static void test_address_wildcards(void **state)
{
    struct fixture *f = *state;

    assert_string_equal(pick(f, "address=0000:07:*.*"),
                        "0000:07:00.0 0000:07:10.0 0000:07:10.2");
    assert_string_equal(pick(f, "address=07:10.*"),
                        "0000:07:10.0 0000:07:10.2");
    /* no domain: any segment */
    assert_string_equal(pick(f, "address=00:02.0"),
                        "0000:00:02.0 0001:00:02.0");
    assert_string_equal(pick(f, "address=0001:*:*.*"), "0001:00:02.0");
    assert_string_equal(pick(f, "address=*:07:00.0"), "0000:07:00.0");
}

static void test_location_pattern_reaches_below_a_port(void **state)
{
    struct fixture *f = *state;

    assert_string_equal(pick(f, "location=pci0000:00/03.0/*"),
                        "0000:07:00.0 0000:07:10.0 0000:07:10.2");
    assert_string_equal(pick(f, "location=pci0000:00/1c.0/00.0"),
                        "0000:01:00.0");
    assert_string_equal(pick(f, "location=pci0000:00/02.0/00.0/0?.0"),
                        "0000:06:01.0 0000:06:02.0");
}

static void test_driver_and_no_driver(void **state)
{
    struct fixture *f = *state;
    const char *unbound;

    assert_string_equal(pick(f, "driver=ixgbevf"), "0000:07:10.0");
    assert_string_equal(pick(f, "driver=pciback"), "0000:09:00.0");
    unbound = pick(f, "driver=");
    assert_non_null(strstr(unbound, "0000:07:10.2"));
    assert_null(strstr(unbound, "0000:07:10.0"));
}

static void test_pf_picks_its_vfs(void **state)
{
    struct fixture *f = *state;

    assert_string_equal(pick(f, "pf=0000:07:00.0"),
                        "0000:07:10.0 0000:07:10.2");
    assert_string_equal(pick(f, "pf=07:00.0,driver="), "0000:07:10.2");
    assert_string_equal(pick(f, "pf=pci0000:00/03.0/00.0"),
                        "0000:07:10.0 0000:07:10.2");
    /* a PF that is not there, or a function that is no PF: nothing */
    assert_string_equal(pick(f, "pf=0000:3b:00.0"), "");
    assert_string_equal(pick(f, "pf=0000:01:00.0"), "");
}

static void test_numa_node(void **state)
{
    struct fixture *f = *state;

    assert_string_equal(pick(f, "numa=1"), "0001:00:02.0");
    assert_string_equal(pick(f, "numa=0"), "");
    assert_string_equal(pick(f, "numa=1,class=02,driver=mlx5_core"),
                        "0001:00:02.0");
    assert_string_equal(pick(f, "numa=1,driver=ixgbe"), "");
}

static void test_malformed_selectors_are_refused(void **state)
{
    static const char *const bad[] = {
        "", ",", "vendor=8086,", ",vendor=8086", "vendor=8086,,device=1572",
        "vendor", "=8086", "vendor=", "vendor=808", "vendor=80861",
        "vendor=80g6", "vendor=0x8086", "vendor=8086,vendor=8086",
        "vendor=8086,vendor_id=8086", "colour=blue", "VENDOR=8086",
        "vendor =8086", "vendor=8086 ", "class=", "class=1234567",
        "class=zz", "address=3b", "address=3b:00", "address=0000:3b:00.8",
        "address=0000:3b:20.0", "address=10000:3b:00.0", "address=3b:00.0.1",
        "address=0:0:3b:00.0", "address=3b:00.*x", "address=3b:**.0",
        "location=", "location=pci0000:00/../x", "location=pci0000:00//1c.0",
        "location=pci0000:00/[1]c.0", "location=/etc/passwd*",
        "driver=a/b", "driver=e1000e;rm", "pf=", "pf=eth0", "pf=pci/../x",
        "numa=", "numa=-1", "numa=1x", "numa=4096", "numa=99999999999",
        "vendor=8086=1", "driver=\n", "address=\t3b:00.0",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct xpci_selector *sel = NULL;
        char *why = NULL;
        int r = xpci_selector_parse(bad[i], &sel, &why);

        if (r != -EINVAL)
            fail_msg("'%s' accepted (%d)", bad[i], r);
        assert_null(sel);
        assert_non_null(why);
        assert_non_null(strstr(why, "selector '"));
        for (const char *p = why; *p; p++)
            assert_true(*p >= ' ' && *p < 0x7f);
        free(why);
    }
}

static void test_bounds_on_length_and_terms(void **state)
{
    struct xpci_selector *sel = NULL;
    char buf[XPCI_SELECTOR_MAX + 16], *why = NULL;
    size_t off = 0;

    (void)state;
    /* longer than the bound: refused before anything else is read */
    memset(buf, 'a', sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    assert_int_equal(xpci_selector_parse(buf, &sel, &why), -EINVAL);
    assert_non_null(strstr(why, "longer than"));
    assert_true(strlen(why) < 200);
    free(why);
    /* 17 terms of wildcard keys would need repeats: refused either way */
    while (off < 17 * 9)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%snuma=*",
                                off ? "," : "");
    assert_int_equal(xpci_selector_parse(buf, &sel, &why), -EINVAL);
    free(why);
    /* NULL err_r: still refused, no message */
    assert_int_equal(xpci_selector_parse("bogus", &sel, NULL), -EINVAL);
    assert_null(sel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_vendor_and_device_pick_the_same_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_class_is_a_prefix, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_address_wildcards, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_location_pattern_reaches_below_a_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_driver_and_no_driver, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pf_picks_its_vfs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_numa_node, setup, teardown),
        cmocka_unit_test(test_malformed_selectors_are_refused),
        cmocka_unit_test(test_bounds_on_length_and_terms),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
