/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-xenstore.c - the xenstore backend and helpers against Xen 4.17's
 * own xenstored (one daemon per test, see xsd.h): node operations,
 * permissions as the daemon stores and enforces them for a guest,
 * transaction conflicts and the retry runner, watches and waits with a
 * deadline, and libxl itself as the oracle for what xpci reads of a
 * guest's PCI backend.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>
#include <xentoollog.h>

#include "xpci-internal.h"
#include "xsd.h"

#define GUEST 1U
#define BACKEND "/local/domain/0/backend/pci/1/0"
#define FRONTEND "/local/domain/1/device/pci/0"

struct fixture {
    struct xsd *xsd;
    char tmp[64]; /* sysfs root, state dir */
    char sys[96];
    xpci_ctx *ctx;
    double t_setup; /* to compute the cost of each test */
};

/* Costs of the daemon per test, reported at the end. */
static struct {
    unsigned n;
    double start_sum, start_max, stop_sum, stop_max;
} cost;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* An empty sysfs tree: the context only needs bus/pci/devices. */
static void make_tree(struct fixture *f)
{
    char path[160];

    snprintf(f->tmp, sizeof(f->tmp), "/tmp/xpci-it-XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    snprintf(f->sys, sizeof(f->sys), "%s/sys", f->tmp);
    assert_int_equal(mkdir(f->sys, 0755), 0);
    snprintf(path, sizeof(path), "%s/bus", f->sys);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/bus/pci", f->sys);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/bus/pci/devices", f->sys);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void remove_tree(struct fixture *f)
{
    static const char *const dirs[] = {"sys/bus/pci/devices", "sys/bus/pci",
                                       "sys/bus", "sys", ""};
    char path[160];

    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        snprintf(path, sizeof(path), "%s/%s", f->tmp, dirs[i]);
        rmdir(path);
    }
}

static xpci_ctx *new_ctx(struct fixture *f)
{
    char state[128];
    struct xpci_params p = {
        .sysfs_root = f->sys,
        .flags = XPCI_CTX_NO_HYPERVISOR | XPCI_CTX_NO_SYSLOG,
        .state_dir = state,
        .audit_log = "/dev/null",
    };
    xpci_ctx *ctx = NULL;

    snprintf(state, sizeof(state), "%s/state", f->tmp);
    assert_int_equal(xpci_ctx_new(&ctx, &p), 0);
    return ctx;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    int r;

    assert_non_null(f);
    f->t_setup = now_ms();
    make_tree(f);
    r = xsd_start(&f->xsd, "0,1");
    assert_int_equal(r, 0);
    f->ctx = new_ctx(f);
    /* The context's constructor connected through xs_xenstore.c. */
    assert_null(xpci_ctx_xs_unavailable(f->ctx));
    assert_non_null(f->ctx->xs);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    double t0, start_ms = f->xsd->start_ms, stop_ms;
    int r;

    xpci_ctx_free(f->ctx);
    t0 = now_ms();
    r = xsd_stop(f->xsd);
    stop_ms = now_ms() - t0;
    remove_tree(f);
    fprintf(stderr,
            "    xenstored: start %.1f ms, stop %.1f ms, "
            "test with daemon %.1f ms\n",
            start_ms, stop_ms, now_ms() - f->t_setup);
    cost.n++;
    cost.start_sum += start_ms;
    cost.stop_sum += stop_ms;
    if (start_ms > cost.start_max)
        cost.start_max = start_ms;
    if (stop_ms > cost.stop_max)
        cost.stop_max = stop_ms;
    free(f);
    /* A daemon that died on its own is a failure of the test. */
    assert_int_equal(r, 0);
    return 0;
}

/* A second, independent connection (another toolstack process). */
static void *other_conn(const struct xpci_xs_ops **ops_r)
{
    void *priv = NULL;
    char *why = NULL;

    assert_int_equal(xpci__xs_xenstore_open(ops_r, &priv, &why), 0);
    assert_null(why);
    return priv;
}

#define XS(f) ((f)->ctx->xs)
#define PRIV(f) ((f)->ctx->xs_priv)

static void assert_node(struct fixture *f, const char *path,
                        const char *expected)
{
    char *val = NULL;

    assert_int_equal(xpci__xs_read(f->ctx, XPCI_XS_NO_TXN, path, &val), 0);
    assert_string_equal(val, expected);
    free(val);
}

static void put(struct fixture *f, uint32_t txn, const char *path,
                const char *val)
{
    assert_int_equal(XS(f)->write(PRIV(f), txn, path, val), 0);
}

/* --------------------------------------------------------------- nodes */

static void test_nodes_write_read_mkdir_rm_directory(void **state)
{
    struct fixture *f = *state;
    char **names = NULL;
    unsigned n = 0;
    bool seen_a = false, seen_b = false, seen_c = false;

    put(f, XPCI_XS_NO_TXN, "/t/a", "one");
    put(f, XPCI_XS_NO_TXN, "/t/b", "");
    assert_int_equal(XS(f)->mkdir(PRIV(f), XPCI_XS_NO_TXN, "/t/c/d"), 0);
    assert_node(f, "/t/a", "one");
    assert_node(f, "/t/b", "");
    /* mkdir makes the parents, with empty values. */
    assert_node(f, "/t/c", "");
    assert_node(f, "/t/c/d", "");

    assert_int_equal(
        XS(f)->directory(PRIV(f), XPCI_XS_NO_TXN, "/t", &names, &n), 0);
    assert_int_equal(n, 3);
    for (unsigned i = 0; i < n; i++) {
        seen_a = seen_a || !strcmp(names[i], "a");
        seen_b = seen_b || !strcmp(names[i], "b");
        seen_c = seen_c || !strcmp(names[i], "c");
    }
    assert_true(seen_a && seen_b && seen_c);
    xpci__strv_free(names, n);

    /* rm takes the whole subtree. */
    assert_int_equal(XS(f)->rm(PRIV(f), XPCI_XS_NO_TXN, "/t/c"), 0);
    assert_int_equal(
        XS(f)->directory(PRIV(f), XPCI_XS_NO_TXN, "/t", &names, &n), 0);
    assert_int_equal(n, 2);
    xpci__strv_free(names, n);

    /* Overwrite in place. */
    put(f, XPCI_XS_NO_TXN, "/t/a", "two");
    assert_node(f, "/t/a", "two");
}

static void test_missing_node_is_enoent(void **state)
{
    struct fixture *f = *state;
    char *val = (char *)"untouched";
    char **names = NULL;
    unsigned n = 0;

    assert_int_equal(xpci__xs_read(f->ctx, XPCI_XS_NO_TXN, "/nope", &val),
                     -ENOENT);
    /* Out-parameters are written only on success. */
    assert_string_equal(val, "untouched");
    assert_int_equal(
        XS(f)->directory(PRIV(f), XPCI_XS_NO_TXN, "/nope", &names, &n),
        -ENOENT);
    assert_int_equal(XS(f)->rm(PRIV(f), XPCI_XS_NO_TXN, "/nope/deeper"),
                     -ENOENT);
}

/* --------------------------------------------------------- permissions */

static void assert_perms(struct fixture *f, const char *path,
                         const struct xpci_xs_perm *want, unsigned n_want)
{
    struct xpci_xs_perm *perms = NULL;
    unsigned n = 0;

    assert_int_equal(
        XS(f)->get_perms(PRIV(f), XPCI_XS_NO_TXN, path, &perms, &n), 0);
    assert_int_equal(n, n_want);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(perms[i].domid, want[i].domid);
        assert_int_equal(perms[i].perms, want[i].perms);
    }
    free(perms);
}

static const struct xpci_xs_perm back_perms[] = {
    {.domid = 0, .perms = XPCI_XS_PERM_NONE},
    {.domid = GUEST, .perms = XPCI_XS_PERM_READ},
};
static const struct xpci_xs_perm front_perms[] = {
    {.domid = GUEST, .perms = XPCI_XS_PERM_NONE},
    {.domid = 0, .perms = XPCI_XS_PERM_READ},
};
static const struct xpci_xs_perm dom0_only[] = {
    {.domid = 0, .perms = XPCI_XS_PERM_NONE},
};

static void test_perms_read_back_and_inherited(void **state)
{
    struct fixture *f = *state;
    static const struct xpci_xs_perm both[] = {
        {.domid = 0, .perms = XPCI_XS_PERM_READ | XPCI_XS_PERM_WRITE},
        {.domid = GUEST, .perms = XPCI_XS_PERM_WRITE},
    };

    /* Nodes dom0 creates are its own, closed to others ("n0"). */
    put(f, XPCI_XS_NO_TXN, "/p/plain", "x");
    assert_perms(f, "/p/plain", dom0_only, 1);

    assert_int_equal(XS(f)->mkdir(PRIV(f), XPCI_XS_NO_TXN, "/p/back"), 0);
    assert_int_equal(
        XS(f)->set_perms(PRIV(f), XPCI_XS_NO_TXN, "/p/back", back_perms, 2), 0);
    assert_perms(f, "/p/back", back_perms, 2);
    /* A node created below inherits its parent's list (as libxl relies
     * on for the keys of a backend). */
    put(f, XPCI_XS_NO_TXN, "/p/back/num_devs", "1");
    assert_perms(f, "/p/back/num_devs", back_perms, 2);

    /* "b" (both) and "w" round-trip too. */
    assert_int_equal(
        XS(f)->set_perms(PRIV(f), XPCI_XS_NO_TXN, "/p/plain", both, 2), 0);
    assert_perms(f, "/p/plain", both, 2);
}

/* xenstored asks the hypervisor (the shim's domain list "0,1") whether
 * the owner exists; a node cannot be given to a domain that does not. */
static void test_perms_owner_must_exist(void **state)
{
    struct fixture *f = *state;
    static const struct xpci_xs_perm to_guest[] = {{GUEST, 0}};
    static const struct xpci_xs_perm to_ghost[] = {{7, 0}};

    put(f, XPCI_XS_NO_TXN, "/p/node", "x");
    assert_int_equal(
        XS(f)->set_perms(PRIV(f), XPCI_XS_NO_TXN, "/p/node", to_ghost, 1),
        -ENOENT);
    assert_perms(f, "/p/node", dom0_only, 1);
    assert_int_equal(
        XS(f)->set_perms(PRIV(f), XPCI_XS_NO_TXN, "/p/node", to_guest, 1), 0);
    assert_perms(f, "/p/node", to_guest, 1);
    /* An empty list is refused before it reaches the daemon. */
    assert_int_equal(
        XS(f)->set_perms(PRIV(f), XPCI_XS_NO_TXN, "/p/node", to_guest, 0),
        -EINVAL);
}

/* --------------------------------------- a backend as libxl writes it */

struct backend_dev {
    const char *bdf;
    const char *vdevfn; /* NULL: not written (PV) */
    const char *opts;
    const char *state;
};

static const struct backend_dev backend_devs[] = {
    /* What Xen 4.17.7's xl pci-attach left for a PV guest. */
    {"0000:01:00.0", NULL,
     "msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict", "3"},
    /* What an HVM-style attach with a virtual slot adds: vdevfn in hex. */
    {"0000:03:00.1", "28",
     "msitranslate=1,power_mgmt=1,permissive=1,rdm_policy=relaxed", "1"},
};

static int write_backend_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    const struct xpci_xs_ops *xs = ctx->xs;
    void *p = ctx->xs_priv;
    char path[128], val[16];
    int r;

    (void)arg;
#define W(k, v)                                                                \
    do {                                                                       \
        if ((r = xs->write(p, txn, BACKEND "/" k, v)) < 0)                     \
            return r;                                                          \
    } while (0)
#define WF(k, v)                                                               \
    do {                                                                       \
        if ((r = xs->write(p, txn, FRONTEND "/" k, v)) < 0)                    \
            return r;                                                          \
    } while (0)

    /* libxl__device_generic_add: both directories first, with their
     * permissions; every key below inherits them. */
    if ((r = xs->mkdir(p, txn, BACKEND)) < 0 ||
        (r = xs->set_perms(p, txn, BACKEND, back_perms, 2)) < 0 ||
        (r = xs->mkdir(p, txn, FRONTEND)) < 0 ||
        (r = xs->set_perms(p, txn, FRONTEND, front_perms, 2)) < 0)
        return r;
    W("frontend", FRONTEND);
    W("frontend-id", "1");
    W("online", "1");
    W("state", "4");
    W("domain", "guest1");
    for (unsigned i = 0; i < ARRAY_SIZE(backend_devs); i++) {
        const struct backend_dev *d = &backend_devs[i];

        snprintf(path, sizeof(path), BACKEND "/key-%u", i);
        if ((r = xs->write(p, txn, path, d->bdf)) < 0)
            return r;
        snprintf(path, sizeof(path), BACKEND "/dev-%u", i);
        if ((r = xs->write(p, txn, path, d->bdf)) < 0)
            return r;
        if (d->vdevfn) {
            snprintf(path, sizeof(path), BACKEND "/vdevfn-%u", i);
            if ((r = xs->write(p, txn, path, d->vdevfn)) < 0)
                return r;
        }
        snprintf(path, sizeof(path), BACKEND "/opts-%u", i);
        if ((r = xs->write(p, txn, path, d->opts)) < 0)
            return r;
        snprintf(path, sizeof(path), BACKEND "/state-%u", i);
        if ((r = xs->write(p, txn, path, d->state)) < 0)
            return r;
    }
    snprintf(val, sizeof(val), "%zu", ARRAY_SIZE(backend_devs));
    W("num_devs", val);
    /* pciback's own keys */
    W("vdev-0", "0000:00:00.00");
    W("root-0", "0000:00");
    W("root_num", "1");

    WF("backend", BACKEND);
    WF("backend-id", "0");
    WF("state", "4");
#undef W
#undef WF
    return 0;
}

static void write_backend(struct fixture *f)
{
    assert_int_equal(xpci__xs_txn_run(f->ctx, write_backend_txn, NULL), 0);
}

static void test_backend_reader_agrees_with_libxl(void **state)
{
    struct fixture *f = *state;
    xentoollog_logger_stdiostream *lg;
    struct xpci__pciback_dev *devs = NULL;
    libxl_device_pci *pcis;
    libxl_ctx *lctx = NULL;
    size_t n = 0;
    int num = 0;

    write_backend(f);
    assert_int_equal(xpci__xs_pciback_list(f->ctx, GUEST, &devs, &n), 0);
    assert_int_equal(n, ARRAY_SIZE(backend_devs));

    /* libxl's own reader, through the daemon's socket; its context wants
     * an xc handle, which the shim hands out. */
    lg = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
    assert_non_null(lg);
    assert_int_equal(
        libxl_ctx_alloc(&lctx, LIBXL_VERSION, 0, (xentoollog_logger *)lg), 0);
    pcis = libxl_device_pci_list(lctx, GUEST, &num);
    assert_non_null(pcis);
    assert_int_equal(num, (int)n);

    for (size_t i = 0; i < n; i++) {
        const struct xpci__pciback_dev *d = &devs[i];
        const libxl_device_pci *l = &pcis[i];
        struct xpci_bdf want;

        assert_int_equal(xpci_bdf_parse(backend_devs[i].bdf, &want), 0);
        assert_int_equal(d->index, i);
        assert_int_equal(xpci_bdf_cmp(&d->bdf, &want), 0);
        assert_int_equal(d->bdf.domain, l->domain);
        assert_int_equal(d->bdf.bus, l->bus);
        assert_int_equal(d->bdf.dev, l->dev);
        assert_int_equal(d->bdf.func, l->func);
        /* libxl reads an absent vdevfn as 0. */
        assert_int_equal(d->vdevfn < 0 ? 0 : d->vdevfn, (int)l->vdevfn);
        assert_int_equal(d->msitranslate, l->msitranslate);
        assert_int_equal(d->power_mgmt, l->power_mgmt);
        assert_int_equal(d->permissive, l->permissive);
        assert_int_equal(d->rdm_policy, (int)l->rdm_policy);
        assert_string_equal(d->opts, backend_devs[i].opts);
        assert_int_equal(d->state, atoi(backend_devs[i].state));
    }
    assert_int_equal(devs[0].vdevfn, -1);
    assert_int_equal(devs[1].vdevfn, 0x28);

    libxl_device_pci_list_free(pcis, num);
    libxl_ctx_free(lctx);
    xtl_logger_destroy((xentoollog_logger *)lg);
    xpci__pciback_list_free(devs, n);
}

static void test_backend_reader_without_backend_is_empty(void **state)
{
    struct fixture *f = *state;
    struct xpci__pciback_dev *devs = (void *)1;
    size_t n = 42;

    assert_int_equal(xpci__xs_pciback_list(f->ctx, 5, &devs, &n), 0);
    assert_int_equal(n, 0);
    assert_null(devs);

    /* A garbled count is an error, not an empty list. */
    put(f, XPCI_XS_NO_TXN, "/local/domain/0/backend/pci/5/0/num_devs", "many");
    assert_int_equal(xpci__xs_pciback_list(f->ctx, 5, &devs, &n), -EBADMSG);
}

/* The guest sees its backend, not dom0's other nodes, and writes only
 * where it owns: the daemon's checks, exercised over a guest's ring. */
static void test_perms_enforced_for_guest(void **state)
{
    struct fixture *f = *state;
    struct xsd_dom *dom = NULL;
    char *val = NULL, *perms = NULL;

    write_backend(f);
    put(f, XPCI_XS_NO_TXN, "/libxl/pci/0000-01-00-0/driver_path",
        "/sys/bus/pci/drivers/e1000e");
    assert_perms(f, BACKEND "/key-0", back_perms, 2);
    assert_perms(f, FRONTEND "/state", front_perms, 2);

    assert_int_equal(xsd_dom_open(f->xsd, GUEST, &dom), 0);

    /* Readable: r1 on the backend. */
    assert_int_equal(xsd_dom_read(dom, BACKEND "/num_devs", &val), 0);
    assert_string_equal(val, "2");
    free(val);
    assert_int_equal(xsd_dom_get_perms(dom, BACKEND "/dev-0", &perms), 0);
    assert_string_equal(perms, "n0\nr1");
    free(perms);
    /* Not writable: r1 only. */
    assert_int_equal(xsd_dom_write(dom, BACKEND "/state", "6"), -EACCES);
    assert_int_equal(xsd_dom_rm(dom, BACKEND "/key-0"), -EACCES);
    assert_node(f, BACKEND "/state", "4");
    /* dom0's private records: n0. */
    assert_int_equal(
        xsd_dom_read(dom, "/libxl/pci/0000-01-00-0/driver_path", &val),
        -EACCES);
    /* Its own frontend: owner. */
    assert_int_equal(xsd_dom_write(dom, FRONTEND "/state", "3"), 0);
    assert_node(f, FRONTEND "/state", "3");
    /* What it creates is its own, readable by dom0 as inherited. */
    assert_int_equal(xsd_dom_write(dom, FRONTEND "/magic", "7"), 0);
    assert_perms(f, FRONTEND "/magic", front_perms, 2);

    xsd_dom_close(dom);
}

/* -------------------------------------------------------- transactions */

static void test_txn_conflict_gives_eagain(void **state)
{
    struct fixture *f = *state;
    const struct xpci_xs_ops *ops2;
    void *other = other_conn(&ops2);
    uint32_t txn = 0;
    char *val = NULL;

    put(f, XPCI_XS_NO_TXN, "/c/x", "0");
    assert_int_equal(XS(f)->txn_start(PRIV(f), &txn), 0);
    assert_int_not_equal(txn, XPCI_XS_NO_TXN);
    assert_int_equal(XS(f)->read(PRIV(f), txn, "/c/x", &val), 0);
    free(val);
    /* Another writer changes what the transaction read... */
    assert_int_equal(ops2->write(other, XPCI_XS_NO_TXN, "/c/x", "1"), 0);
    /* ...which the transaction does not see, */
    assert_int_equal(XS(f)->read(PRIV(f), txn, "/c/x", &val), 0);
    assert_string_equal(val, "0");
    free(val);
    assert_int_equal(XS(f)->write(PRIV(f), txn, "/c/y", "derived"), 0);
    /* and so it cannot commit. */
    assert_int_equal(XS(f)->txn_end(PRIV(f), txn, false), -EAGAIN);
    assert_int_equal(xpci__xs_read(f->ctx, XPCI_XS_NO_TXN, "/c/y", &val),
                     -ENOENT);
    assert_node(f, "/c/x", "1");

    /* Without interference the same commits. */
    assert_int_equal(XS(f)->txn_start(PRIV(f), &txn), 0);
    assert_int_equal(XS(f)->write(PRIV(f), txn, "/c/y", "derived"), 0);
    assert_int_equal(XS(f)->txn_end(PRIV(f), txn, false), 0);
    assert_node(f, "/c/y", "derived");

    /* An abandoned transaction leaves nothing. */
    assert_int_equal(XS(f)->txn_start(PRIV(f), &txn), 0);
    assert_int_equal(XS(f)->write(PRIV(f), txn, "/c/z", "gone"), 0);
    assert_int_equal(XS(f)->txn_end(PRIV(f), txn, true), 0);
    assert_int_equal(xpci__xs_read(f->ctx, XPCI_XS_NO_TXN, "/c/z", &val),
                     -ENOENT);

    ops2->close(other);
}

struct bump {
    const struct xpci_xs_ops *ops2;
    void *other;
    unsigned attempts;
    unsigned interfere; /* attempts during which the other writer races */
};

/* Read-modify-write of /c/n; while interfere lasts, another connection
 * changes /c/n between our read and our commit. */
static int bump_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct bump *b = arg;
    _cleanup_free_ char *val = NULL;
    char buf[16];
    int r;

    b->attempts++;
    r = xpci__xs_read(ctx, txn, "/c/n", &val);
    if (r < 0)
        return r;
    if (b->attempts <= b->interfere) {
        snprintf(buf, sizeof(buf), "%u", 10 * b->attempts);
        r = b->ops2->write(b->other, XPCI_XS_NO_TXN, "/c/n", buf);
        if (r < 0)
            return r;
    }
    snprintf(buf, sizeof(buf), "%d", atoi(val) + 1);
    r = ctx->xs->write(ctx->xs_priv, txn, "/c/n", buf);
    return r < 0 ? r : atoi(buf);
}

static void test_txn_run_retries_after_conflict(void **state)
{
    struct fixture *f = *state;
    struct bump b = {.interfere = 1};

    b.other = other_conn(&b.ops2);
    put(f, XPCI_XS_NO_TXN, "/c/n", "0");
    /* First attempt: reads 0, loses to the other writer's 10.  Second:
     * reads 10, commits 11.  fn's result comes back. */
    assert_int_equal(xpci__xs_txn_run(f->ctx, bump_txn, &b), 11);
    assert_int_equal(b.attempts, 2);
    assert_node(f, "/c/n", "11");
    b.ops2->close(b.other);
}

static void test_txn_run_gives_up_after_bounded_attempts(void **state)
{
    struct fixture *f = *state;
    struct bump b = {.interfere = 1000};

    b.other = other_conn(&b.ops2);
    put(f, XPCI_XS_NO_TXN, "/c/n", "0");
    assert_int_equal(xpci__xs_txn_run(f->ctx, bump_txn, &b), -EAGAIN);
    assert_int_equal(b.attempts, XPCI__XS_TXN_ATTEMPTS);
    /* Only the other writer's values ever landed. */
    assert_node(f, "/c/n", "160");
    b.ops2->close(b.other);
}

static int fail_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    unsigned *calls = arg;

    (*calls)++;
    assert_int_equal(ctx->xs->write(ctx->xs_priv, txn, "/c/half", "x"), 0);
    return -EPERM;
}

static void test_txn_run_abandons_on_error(void **state)
{
    struct fixture *f = *state;
    unsigned calls = 0;
    char *val = NULL;

    assert_int_equal(xpci__xs_txn_run(f->ctx, fail_txn, &calls), -EPERM);
    assert_int_equal(calls, 1);
    assert_int_equal(xpci__xs_read(f->ctx, XPCI_XS_NO_TXN, "/c/half", &val),
                     -ENOENT);
}

/* ------------------------------------------------------------- watches */

static void expect_event(struct fixture *f, int timeout_ms, const char *path,
                         const char *token)
{
    char *p = NULL, *t = NULL;

    assert_int_equal(XS(f)->wait_watch(PRIV(f), timeout_ms, &p, &t), 0);
    assert_string_equal(p, path);
    assert_string_equal(t, token);
    free(p);
    free(t);
}

static void test_watch_fires_on_write(void **state)
{
    struct fixture *f = *state;
    const struct xpci_xs_ops *ops2;
    void *other = other_conn(&ops2);
    char *p = NULL, *t = NULL;
    double t0;

    put(f, XPCI_XS_NO_TXN, "/w", "");
    assert_int_equal(XS(f)->watch(PRIV(f), "/w", "tok"), 0);
    /* xenstored fires a new watch once at once. */
    expect_event(f, 1000, "/w", "tok");
    /* A write below the watched node, by anyone, fires it. */
    assert_int_equal(ops2->write(other, XPCI_XS_NO_TXN, "/w/state", "4"), 0);
    expect_event(f, 1000, "/w/state", "tok");
    assert_int_equal(ops2->rm(other, XPCI_XS_NO_TXN, "/w/state"), 0);
    expect_event(f, 1000, "/w/state", "tok");

    /* Nothing else happens: the wait ends at its deadline. */
    t0 = now_ms();
    assert_int_equal(XS(f)->wait_watch(PRIV(f), 50, &p, &t), -ETIMEDOUT);
    assert_true(now_ms() - t0 >= 49.0);
    assert_null(p);

    /* After unwatch a change is not reported. */
    assert_int_equal(XS(f)->unwatch(PRIV(f), "/w", "tok"), 0);
    assert_int_equal(ops2->write(other, XPCI_XS_NO_TXN, "/w/state", "5"), 0);
    assert_int_equal(XS(f)->wait_watch(PRIV(f), 50, &p, &t), -ETIMEDOUT);
    ops2->close(other);
}

struct later {
    const struct xpci_xs_ops *ops2;
    void *other;
    unsigned calls;
};

/*
 * The predicate itself starts the change it waits for, the first time it
 * sees the node absent: the watch is then already set, so the wait can
 * only end through the event (no sleeps, no threads).
 */
static int connected_later(const char *val, void *arg)
{
    struct later *l = arg;

    l->calls++;
    if (val && !strcmp(val, "4"))
        return 1;
    if (l->calls == 1)
        assert_int_equal(
            l->ops2->write(l->other, XPCI_XS_NO_TXN, "/w/dev/state", "4"), 0);
    return 0;
}

static void test_wait_for_sees_later_write(void **state)
{
    struct fixture *f = *state;
    struct later l = {0};
    double t0;

    l.other = other_conn(&l.ops2);
    t0 = now_ms();
    assert_int_equal(
        xpci__xs_wait_for(f->ctx, "/w/dev/state", connected_later, &l, 2000),
        0);
    assert_true(now_ms() - t0 < 1000.0);
    /* Read at the start, then once per event (the watch's first firing
     * and the write): never polled. */
    assert_in_range(l.calls, 2, 3);

    /* Already true: returns at once. */
    assert_int_equal(xpci__xs_wait_value(f->ctx, "/w/dev/state", "4", 0), 0);
    /* Wait for removal. */
    assert_int_equal(l.ops2->rm(l.other, XPCI_XS_NO_TXN, "/w/dev"), 0);
    assert_int_equal(xpci__xs_wait_value(f->ctx, "/w/dev/state", NULL, 1000),
                     0);
    l.ops2->close(l.other);
}

static void test_wait_for_times_out(void **state)
{
    struct fixture *f = *state;
    double t0, took;

    put(f, XPCI_XS_NO_TXN, "/w/state", "1");
    t0 = now_ms();
    assert_int_equal(xpci__xs_wait_value(f->ctx, "/w/state", "4", 100),
                     -ETIMEDOUT);
    took = now_ms() - t0;
    assert_true(took >= 99.0);
    assert_true(took < 1000.0);
    /* The wait's watch is gone: nothing left to report. */
    {
        char *p = NULL, *t = NULL;

        put(f, XPCI_XS_NO_TXN, "/w/state", "2");
        assert_int_equal(XS(f)->wait_watch(PRIV(f), 20, &p, &t), -ETIMEDOUT);
    }
}

/* ------------------------------------------------------ libxl records */

static void test_libxl_records(void **state)
{
    struct fixture *f = *state;
    struct xpci__libxl_record rec, *recs = NULL;
    struct xpci_bdf bdf;
    char key[XPCI__XS_LIBXL_KEY_LEN];
    size_t n = 0;

    /* What Xen 4.17.7's xl pci-assignable-add leaves, and a
     * second device named and held by domain 1. */
    put(f, XPCI_XS_NO_TXN, "/libxl/pci/0000-01-00-0/driver_path",
        "/sys/bus/pci/drivers/e1000e");
    put(f, XPCI_XS_NO_TXN, "/libxl/pci/0000-03-00-1/driver_path",
        "/sys/bus/pci/drivers/igb");
    put(f, XPCI_XS_NO_TXN, "/libxl/pci/0000-03-00-1/name", "nic1");
    put(f, XPCI_XS_NO_TXN, "/libxl/pci/0000-03-00-1/domid", "1");
    put(f, XPCI_XS_NO_TXN, "/libxl/pci/not-a-bdf", "");
    assert_node(f, "/libxl/pci/0000-01-00-0", "");
    assert_perms(f, "/libxl/pci/0000-01-00-0", dom0_only, 1);

    assert_int_equal(xpci_bdf_parse("0000:01:00.0", &bdf), 0);
    xpci__xs_libxl_key(&bdf, key);
    assert_string_equal(key, "0000-01-00-0");
    assert_int_equal(xpci__xs_libxl_record(f->ctx, &bdf, &rec), 0);
    assert_string_equal(rec.driver_path, "/sys/bus/pci/drivers/e1000e");
    assert_null(rec.name);
    assert_int_equal(rec.domid, -1);
    assert_int_equal(xpci_bdf_cmp(&rec.bdf, &bdf), 0);
    xpci__libxl_record_dispose(&rec);

    assert_int_equal(xpci_bdf_parse("0000:03:00.1", &bdf), 0);
    assert_int_equal(xpci__xs_libxl_record(f->ctx, &bdf, &rec), 0);
    assert_string_equal(rec.driver_path, "/sys/bus/pci/drivers/igb");
    assert_string_equal(rec.name, "nic1");
    assert_int_equal(rec.domid, 1);
    xpci__libxl_record_dispose(&rec);

    assert_int_equal(xpci_bdf_parse("0000:05:00.0", &bdf), 0);
    assert_int_equal(xpci__xs_libxl_record(f->ctx, &bdf, &rec), -ENOENT);

    assert_int_equal(xpci__xs_libxl_records(f->ctx, &recs, &n), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        xpci__xs_libxl_key(&recs[i].bdf, key);
        assert_true(!strcmp(key, "0000-01-00-0") ||
                    !strcmp(key, "0000-03-00-1"));
        assert_non_null(recs[i].driver_path);
    }
    xpci__libxl_records_free(recs, n);

    /* No /libxl/pci at all: no records. */
    assert_int_equal(XS(f)->rm(PRIV(f), XPCI_XS_NO_TXN, "/libxl"), 0);
    assert_int_equal(xpci__xs_libxl_records(f->ctx, &recs, &n), 0);
    assert_int_equal(n, 0);
}

static void test_libxl_key_parse(void **state)
{
    struct xpci_bdf bdf;

    (void)state;
    assert_int_equal(xpci__xs_libxl_key_parse("0000-01-00-0", &bdf), 0);
    assert_int_equal(bdf.bus, 1);
    assert_int_equal(xpci__xs_libxl_key_parse("0001-ff-1f-7", &bdf), 0);
    assert_int_equal(bdf.domain, 1);
    assert_int_equal(bdf.dev, 0x1f);
    assert_int_equal(bdf.func, 7);
    assert_int_equal(xpci__xs_libxl_key_parse("0000:01:00.0", &bdf), -EINVAL);
    assert_int_equal(xpci__xs_libxl_key_parse("01-00-0", &bdf), -EINVAL);
    assert_int_equal(xpci__xs_libxl_key_parse("0000-01-20-0", &bdf), -EINVAL);
    assert_int_equal(xpci__xs_libxl_key_parse("0000-01-00-0-1", &bdf), -EINVAL);
}

/* ------------------------------------------------------ without daemon */

static void test_no_daemon_gives_reason(void **state)
{
    static const char prefix[] =
        "xenstore unavailable: cannot connect to xenstored (";
    struct fixture f = {0};
    const struct xpci_xs_ops *ops = NULL;
    void *priv = NULL;
    char *why = NULL, *val = NULL, path[128];
    struct xpci__pciback_dev *devs;
    size_t n;
    xpci_ctx *ctx;

    (void)state;
    make_tree(&f);
    snprintf(path, sizeof(path), "%s/no-socket", f.tmp);
    setenv("XENSTORED_PATH", path, 1);

    assert_true(xpci__xs_xenstore_open(&ops, &priv, &why) < 0);
    assert_null(ops);
    assert_non_null(why);
    assert_true(!strncmp(why, prefix, sizeof(prefix) - 1));
    free(why);

    /* The context opens all the same and says why xenstore is absent. */
    ctx = new_ctx(&f);
    assert_non_null(xpci_ctx_xs_unavailable(ctx));
    assert_int_equal(xpci__xs_read(ctx, XPCI_XS_NO_TXN, "/x", &val), -ENOTCONN);
    assert_int_equal(xpci__xs_txn_run(ctx, fail_txn, NULL), -ENOTCONN);
    assert_int_equal(xpci__xs_wait_value(ctx, "/x", "1", 10), -ENOTCONN);
    assert_int_equal(xpci__xs_pciback_list(ctx, 1, &devs, &n), -ENOTCONN);
    xpci_ctx_free(ctx);
    unsetenv("XENSTORED_PATH");
    remove_tree(&f);
}

/* ---------------------------------------------------------------- cost */

/* The whole cycle a test pays: start, connect, one query, stop. */
static void test_start_query_stop_cost(void **state)
{
    enum { ROUNDS = 10 };
    double total = 0, worst = 0;

    (void)state;
    for (int i = 0; i < ROUNDS; i++) {
        const struct xpci_xs_ops *ops;
        struct xsd *xsd = NULL;
        double t0 = now_ms(), took;
        void *priv;
        char *val = NULL;

        assert_int_equal(xsd_start(&xsd, "0"), 0);
        priv = other_conn(&ops);
        assert_int_equal(
            ops->read(priv, XPCI_XS_NO_TXN, "/tool/xenstored", &val), 0);
        free(val);
        ops->close(priv);
        assert_int_equal(xsd_stop(xsd), 0);
        took = now_ms() - t0;
        total += took;
        if (took > worst)
            worst = took;
    }
    fprintf(stderr,
            "    start-query-stop: mean %.1f ms, worst %.1f ms "
            "over %d rounds\n",
            total / ROUNDS, worst, ROUNDS);
    /* Generous: catches a harness that sleeps, not a slow machine. */
    assert_true(total / ROUNDS < 500.0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libxl_key_parse),
        cmocka_unit_test(test_no_daemon_gives_reason),
        cmocka_unit_test_setup_teardown(
            test_nodes_write_read_mkdir_rm_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_node_is_enoent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_perms_read_back_and_inherited,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_perms_owner_must_exist, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_perms_enforced_for_guest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_txn_conflict_gives_eagain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_txn_run_retries_after_conflict,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_txn_run_gives_up_after_bounded_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_txn_run_abandons_on_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_watch_fires_on_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wait_for_sees_later_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wait_for_times_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backend_reader_agrees_with_libxl,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_backend_reader_without_backend_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_libxl_records, setup, teardown),
        cmocka_unit_test(test_start_query_stop_cost),
    };
    const char *daemon = xsd_daemon_path();
    int r;

    (void)argc;
    if (access(daemon, X_OK) < 0) {
        fprintf(stderr, "SKIP: no xenstored at %s (set %s)\n", daemon,
                XSD_ENV_DAEMON);
        return 77;
    }
    /* libxl_ctx_alloc needs xc_interface_open to answer: run this binary
     * with the shim preloaded, as the daemon is. */
    r = xsd_preload_self(argv);
    if (r < 0) {
        fprintf(stderr, "ERROR: cannot preload xsshim.so: %s (set %s)\n",
                strerror(-r), XSD_ENV_SHIM);
        return 99;
    }

    r = cmocka_run_group_tests(tests, NULL, NULL);
    if (cost.n)
        fprintf(stderr,
                "xenstored per test: start mean %.1f ms (worst %.1f), "
                "stop mean %.1f ms (worst %.1f), %u daemons\n",
                cost.start_sum / cost.n, cost.start_max, cost.stop_sum / cost.n,
                cost.stop_max, cost.n);
    fprintf(stderr, "test-xenstore: %zu tests, %d failed\n", ARRAY_SIZE(tests),
            r);
    return r;
}
