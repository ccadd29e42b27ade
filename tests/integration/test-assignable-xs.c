/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-assignable-xs.c - xpci's records of hidden functions in a real
 * xenstored, in libxl's layout, and xl's records read and cleaned up by
 * xpci: the interop that lets "xl pci-assignable-list"
 * and "xl pci-assignable-remove -r" work on functions xpci hid, and the
 * other way round.  The kernel and the hypervisor are the unit tests'
 * fakes; xenstore is the real daemon.
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
#include <unistd.h>


#include "fake-hv.h"
#include "fake-sysfs.h"
#include "topologies.h"
#include "xpci-internal.h"
#include "xsd.h"

struct fixture {
    struct fake_sysfs *t;
    struct fake_hv *hv;
    struct xsd *xsd;
    xpci_ctx *ctx;
    char state_dir[512], audit[512];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct xpci_params p = {.flags = XPCI_CTX_NO_SYSLOG};

    assert_non_null(f);
    f->t = fake_sysfs_new();
    topo_host_bridge(f->t);
    topo_nic(f->t);
    topo_pciback(f->t);
    f->hv = fake_hv_new();
    fake_hv_set_iommu(f->hv, true);
    assert_int_equal(xsd_start(&f->xsd, "0,1"), 0);
    snprintf(f->state_dir, sizeof(f->state_dir), "%s/var/lib/xpci",
             fake_sysfs_root(f->t));
    snprintf(f->audit, sizeof(f->audit), "%s/audit.log", fake_sysfs_root(f->t));
    p.sysfs_root = fake_sysfs_sys(f->t);
    p.proc_root = fake_sysfs_proc(f->t);
    p.sysfs_ops = &fake_sysfs_ops;
    p.sysfs_priv = f->t;
    p.hv_ops = &fake_hv_ops;
    p.hv_priv = f->hv;
    p.state_dir = f->state_dir;
    p.audit_log = f->audit;
    /* xs_ops NULL: the real libxenstore backend, to the test's daemon */
    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
    assert_null(xpci_ctx_xs_unavailable(f->ctx));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int r;

    xpci_ctx_free(f->ctx);
    r = xsd_stop(f->xsd);
    fake_hv_free(f->hv);
    fake_sysfs_free(f->t);
    free(f);
    assert_int_equal(r, 0);
    return 0;
}

static char *xs_get(struct fixture *f, const char *path)
{
    char *val = NULL;

    return xpci__xs_read(f->ctx, XPCI_XS_NO_TXN, path, &val) == 0 ? val
                                                                  : NULL;
}

/* The records as libxl 4.17 writes them (shared/REFERENCE-real-xen.md):
 * /libxl/pci/0000-01-00-0/driver_path = "/sys/bus/pci/drivers/e1000e",
 * .../name, owned by dom0 with no access for others.  (libxl 4.17 has no
 * public reader of them that works without a real pciback, so the layout
 * and the permissions are asserted, and a guest's view is checked through
 * the daemon itself.) */
static void test_records_have_libxl_layout_and_permissions(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_op_opts o = {.name = "uplink"};
    struct xpci_result *res = NULL;
    struct xpci_xs_perm *perms = NULL;
    struct xsd_dom *guest = NULL;
    unsigned n = 0;
    char *val;

    assert_int_equal(xpci_assignable_add(f->ctx, nic, 1, &o, &res), 0);
    xpci_result_free(res);
    val = xs_get(f, "/libxl/pci/0000-01-00-0/driver_path");
    assert_non_null(val);
    assert_string_equal(val, "/sys/bus/pci/drivers/e1000e");
    free(val);
    val = xs_get(f, "/libxl/pci/0000-01-00-0/name");
    assert_non_null(val);
    assert_string_equal(val, "uplink");
    free(val);
    assert_int_equal(f->ctx->xs->get_perms(f->ctx->xs_priv, XPCI_XS_NO_TXN,
                                           "/libxl/pci/0000-01-00-0/name",
                                           &perms, &n),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(perms[0].domid, 0);
    assert_int_equal(perms[0].perms, XPCI_XS_PERM_NONE);
    free(perms);

    /* a guest can't read them */
    assert_int_equal(xsd_dom_open(f->xsd, 1, &guest), 0);
    val = NULL;
    assert_int_equal(
        xsd_dom_read(guest, "/libxl/pci/0000-01-00-0/driver_path", &val),
        -EACCES);
    xsd_dom_close(guest);

    /* and xpci's own reader (the one it uses for xl's records) agrees */
    {
        struct xpci_assignable *list = NULL;
        size_t nl = 0;
        bool found = false;

        assert_int_equal(xpci_assignable_list(f->ctx, &list, &nl), 0);
        for (size_t i = 0; i < nl; i++)
            if (!strcmp(list[i].bdf, "0000:01:00.0")) {
                found = true;
                assert_true(list[i].libxl_record);
                assert_true(list[i].quarantined);
                assert_string_equal(list[i].name, "uplink");
            }
        assert_true(found);
        xpci_assignable_list_free(list, nl);
    }
}

static void test_give_back_removes_the_records(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {"0000:01:00.0"};
    struct xpci_op_opts o = {.name = "uplink"};
    struct xpci_op_opts back = {.rebind = true};
    struct xpci_result *res = NULL;

    assert_int_equal(xpci_assignable_add(f->ctx, nic, 1, &o, &res), 0);
    xpci_result_free(res);
    assert_int_equal(xpci_assignable_remove(f->ctx, nic, 1, &back, &res), 0);
    xpci_result_free(res);
    assert_null(xs_get(f, "/libxl/pci/0000-01-00-0"));
    /* libxl's parent node stays, as libxl leaves it */
    assert_int_equal(fake_hv_owner(f->hv, "0000:01:00.0") == XPCI_DOMID_IO,
                     0);
}

/* xl hid 0000:09:00.0 (pciback, and libxl's record of its e1000e): xpci
 * lists it and gives it back to e1000e, cleaning xl's record. */
static void test_xpci_gives_back_what_xl_hid(void **state)
{
    struct fixture *f = *state;
    static const char *const dev[] = {"0000:09:00.0"};
    struct xpci_op_opts back = {.rebind = true};
    struct xpci_assignable *list = NULL;
    struct xpci_result *res = NULL;
    struct xpci_xs_perm n0 = {0, XPCI_XS_PERM_NONE};
    size_t n = 0;
    bool found = false;

    assert_int_equal(f->ctx->xs->write(f->ctx->xs_priv, XPCI_XS_NO_TXN,
                                       "/libxl/pci/0000-09-00-0/driver_path",
                                       "/sys/bus/pci/drivers/e1000e"),
                     0);
    assert_int_equal(f->ctx->xs->set_perms(f->ctx->xs_priv, XPCI_XS_NO_TXN,
                                           "/libxl/pci/0000-09-00-0", &n0, 1),
                     0);
    assert_int_equal(xpci_assignable_list(f->ctx, &list, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].bdf, "0000:09:00.0"))
            continue;
        found = true;
        assert_true(list[i].libxl_record);
        assert_true(list[i].in_pciback);
        assert_string_equal(list[i].original_driver, "e1000e");
    }
    assert_true(found);
    xpci_assignable_list_free(list, n);

    assert_int_equal(xpci_assignable_remove(f->ctx, dev, 1, &back, &res), 0);
    xpci_result_free(res);
    assert_null(xs_get(f, "/libxl/pci/0000-09-00-0"));
    {
        char path[600], link[256];
        ssize_t r;

        snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:09:00.0/driver",
                 fake_sysfs_sys(f->t));
        r = readlink(path, link, sizeof(link) - 1);
        assert_true(r > 0);
        link[r] = '\0';
        assert_non_null(strstr(link, "/e1000e"));
    }
}

/* A running guest's PCI backend lists the function and no domid record
 * says so (another toolstack attached it): assignable-remove leaves it
 * alone, as pciback would pull it from under the guest. */
static void test_remove_refused_while_a_backend_lists_it(void **state)
{
    struct fixture *f = *state;
    static const char *const dev[] = {"0000:09:00.0"};
    static const char *const nodes[][2] = {
        {"/local/domain/1/name", "guest"},
        {"/local/domain/0/backend/pci/1/0/frontend-id", "1"},
        {"/local/domain/0/backend/pci/1/0/num_devs", "1"},
        {"/local/domain/0/backend/pci/1/0/dev-0", "0000:09:00.0"},
        {"/local/domain/0/backend/pci/1/0/state-0", "4"},
        {"/local/domain/0/backend/pci/1/0/state", "4"},
    };
    struct xpci_op_opts back = {.rebind = true};
    struct xpci_result *res = NULL;
    char path[600], link[256];
    ssize_t r;

    fake_hv_add_domain(f->hv, 1);
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
        assert_int_equal(f->ctx->xs->write(f->ctx->xs_priv, XPCI_XS_NO_TXN,
                                           nodes[i][0], nodes[i][1]),
                         0);
    assert_int_equal(xpci_assignable_remove(f->ctx, dev, 1, &back, &res),
                     -EBUSY);
    assert_non_null(res->error);
    assert_non_null(strstr(res->error, "0000:09:00.0"));
    assert_non_null(strstr(res->error, "PCI backend of domain guest (d1)"));
    xpci_result_free(res);
    snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:09:00.0/driver",
             fake_sysfs_sys(f->t));
    r = readlink(path, link, sizeof(link) - 1);
    assert_true(r > 0);
    link[r] = '\0';
    assert_non_null(strstr(link, "/pciback"));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_records_have_libxl_layout_and_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_give_back_removes_the_records,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_xpci_gives_back_what_xl_hid,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_remove_refused_while_a_backend_lists_it, setup, teardown),
    };
    const char *daemon = xsd_daemon_path();
    (void)argc;
    (void)argv;
    if (access(daemon, X_OK) < 0) {
        fprintf(stderr, "SKIP: no xenstored at %s (set %s)\n", daemon,
                XSD_ENV_DAEMON);
        return 77;
    }
    return cmocka_run_group_tests_name("assignable-xenstore", tests, NULL,
                                       NULL);
}
