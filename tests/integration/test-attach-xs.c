/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-attach-xs.c - giving functions to a PV guest and taking them back
 * against Xen 4.17's own xenstored, with both kernel ends played by
 * fake-pv (pciback in dom0, pcifront as the guest over its own ring).  The
 * kernel's sysfs and the hypervisor are the unit tests' fakes.
 *
 * Two halves.  The "peer" tests drive the handshake with the writes libxl
 * 4.17 makes (libxl__device_pci_add_xenstore, ..._remove_xenstore), which
 * pins the protocol the peer plays and gives the layout xpci must leave.
 * The "xpci" tests do the same through xpci_attach / xpci_detach and check
 * the store, the permissions as the guest and a third domain meet them,
 * libxl_device_pci_list as an oracle, what the guest sees and the
 * hypervisor's records, including the guest that never answers, the guest
 * that never lets go and pciback's refusal.
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
#include <time.h>
#include <unistd.h>

#include <libxl.h>
#include <xentoollog.h>

#include "fake-hv.h"
#include "fake-pv.h"
#include "fake-sysfs.h"
#include "topologies.h"
#include "xpci-internal.h"
#include "xsd.h"

#define GUEST 1U
#define THIRD 2U
#define GUEST_NAME "guest1"
#define NIC "0000:01:00.0"    /* e1000e, made assignable in setup */
#define HIDDEN "0000:09:00.0" /* in pciback from the start */
#define NIC_KEY "0000-01-00-0"
#define HIDDEN_KEY "0000-09-00-0"
#define BE "/local/domain/0/backend/pci/1/0"
#define FE "/local/domain/1/device/pci/0"
#define BE_ERROR "/local/domain/0/error/backend/pci/1/0/error"
#define OPTS_DEFAULT                                                           \
    "msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict"
#define OPTS_PERMISSIVE                                                        \
    "msitranslate=0,power_mgmt=0,permissive=1,rdm_policy=strict"

/* Handshakes take milliseconds here; waits are generous but bounded. */
#define WAIT_MS 3000
#define SHORT_MS 250

struct fixture {
    double t0;
    struct fake_sysfs *t;
    struct fake_hv *hv;
    struct xsd *xsd;
    struct fake_pv *pv;
    xpci_ctx *ctx;
    char state_dir[512], audit[512];
};

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#define XS(f) ((f)->ctx->xs)
#define PRIV(f) ((f)->ctx->xs_priv)

static void put(struct fixture *f, const char *path, const char *val)
{
    assert_int_equal(XS(f)->write(PRIV(f), XPCI_XS_NO_TXN, path, val), 0);
}

static void put_perms(struct fixture *f, const char *path, uint32_t owner,
                      int reader)
{
    struct xpci_xs_perm p[2] = {{owner, XPCI_XS_PERM_NONE},
                                {(uint32_t)reader, XPCI_XS_PERM_READ}};

    assert_int_equal(
        XS(f)->set_perms(PRIV(f), XPCI_XS_NO_TXN, path, p, reader < 0 ? 1 : 2),
        0);
}

/* What libxl__domain_make and xl leave for a running PV guest. */
static void make_domain(struct fixture *f, unsigned domid, const char *name)
{
    char path[96], val[16];

    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    assert_int_equal(XS(f)->mkdir(PRIV(f), XPCI_XS_NO_TXN, path), 0);
    put_perms(f, path, 0, (int)domid);
    snprintf(path, sizeof(path), "/local/domain/%u/device", domid);
    assert_int_equal(XS(f)->mkdir(PRIV(f), XPCI_XS_NO_TXN, path), 0);
    put_perms(f, path, 0, (int)domid);
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    put(f, path, name);
    snprintf(path, sizeof(path), "/local/domain/%u/domid", domid);
    snprintf(val, sizeof(val), "%u", domid);
    put(f, path, val);
    snprintf(path, sizeof(path), "/libxl/%u/type", domid);
    put(f, path, "pv");
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct xpci_params p = {.flags = XPCI_CTX_NO_SYSLOG};
    static const char *const nic[] = {NIC};
    struct xpci_result *res = NULL;

    assert_non_null(f);
    f->t0 = now_ms();
    f->t = fake_sysfs_new();
    topo_host_bridge(f->t);
    topo_nic(f->t);
    topo_pciback(f->t);
    f->hv = fake_hv_new();
    fake_hv_set_iommu(f->hv, true);
    fake_hv_add_domain(f->hv, GUEST);
    fake_hv_add_domain(f->hv, THIRD);
    assert_int_equal(xsd_start(&f->xsd, "0,1,2"), 0);
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
    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
    assert_null(xpci_ctx_xs_unavailable(f->ctx));

    put(f, "/local/domain/0/name", "Domain-0");
    make_domain(f, GUEST, GUEST_NAME);
    make_domain(f, THIRD, "third");
    assert_int_equal(fake_pv_start(f->xsd, GUEST, FAKE_PV_GUEST_OK, &f->pv), 0);

    /* NIC hidden by xpci, HIDDEN by xl (pciback, quarantined) */
    assert_int_equal(xpci_assignable_add(f->ctx, nic, 1, NULL, &res), 0);
    xpci_result_free(res);
    fake_hv_set_owner(f->hv, HIDDEN, XPCI_DOMID_IO);
    put(f, "/libxl/pci/" HIDDEN_KEY "/driver_path",
        "/sys/bus/pci/drivers/e1000e");
    put_perms(f, "/libxl/pci/" HIDDEN_KEY, 0, -1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int r;

    fake_pv_stop(f->pv);
    xpci_ctx_free(f->ctx);
    r = xsd_stop(f->xsd);
    fake_hv_free(f->hv);
    fake_sysfs_free(f->t);
    fprintf(stderr, "    %.0f ms with the daemon\n", now_ms() - f->t0);
    free(f);
    assert_int_equal(r, 0);
    return 0;
}

/* ------------------------------------------------------------ helpers */

static char *get(struct fixture *f, const char *path)
{
    char *val = NULL;

    return xpci__xs_read(f->ctx, XPCI_XS_NO_TXN, path, &val) == 0 ? val : NULL;
}

/* Permissions as "n0,r1". */
static void perms_text(struct fixture *f, const char *path, char *buf,
                       size_t size)
{
    struct xpci_xs_perm *p = NULL;
    unsigned n = 0;
    size_t used = 0;

    buf[0] = '\0';
    if (XS(f)->get_perms(PRIV(f), XPCI_XS_NO_TXN, path, &p, &n) < 0)
        return;
    for (unsigned i = 0; i < n && used < size; i++)
        used +=
            (size_t)snprintf(buf + used, size - used, "%s%c%u", i ? "," : "",
                             p[i].perms == XPCI_XS_PERM_NONE    ? 'n'
                             : p[i].perms == XPCI_XS_PERM_READ  ? 'r'
                             : p[i].perms == XPCI_XS_PERM_WRITE ? 'w'
                                                                : 'b',
                             p[i].domid);
    free(p);
}

/* Every node at and below path, "path = "value" (perms)", sorted as the
 * daemon lists them. */
static void dump_node(struct fixture *f, FILE *m, const char *path, bool perms)
{
    char **names = NULL, *val = get(f, path);
    unsigned n = 0;

    if (!val)
        return;
    fprintf(m, "%s = \"%s\"", path, val);
    free(val);
    if (perms) {
        char p[64];

        perms_text(f, path, p, sizeof(p));
        fprintf(m, " (%s)", p);
    }
    fprintf(m, "\n");
    if (XS(f)->directory(PRIV(f), XPCI_XS_NO_TXN, path, &names, &n) < 0)
        return;
    for (unsigned i = 0; i < n; i++) {
        char child[256];

        snprintf(child, sizeof(child), "%s/%s", path, names[i]);
        dump_node(f, m, child, perms);
    }
    xpci__strv_free(names, n);
}

static char *dump(struct fixture *f, const char *path, bool perms)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);

    assert_non_null(m);
    dump_node(f, m, path, perms);
    fclose(m);
    return buf;
}

/* The store and the peer's log, when a check fails. */
static void show_state(struct fixture *f)
{
    char *be = dump(f, "/local/domain/0/backend/pci", true);
    char *fe = dump(f, "/local/domain/1/device", true);
    char *lx = dump(f, "/libxl/pci", false);
    char *er = dump(f, "/local/domain/0/error", false);
    char *log = fake_pv_log_text(f->pv);

    /* print_error truncates; this can be long */
    fprintf(stderr, "--- xenstore\n%s%s%s%s--- peer\n%s", be ? be : "",
            fe ? fe : "", lx ? lx : "", er ? er : "", log ? log : "");
    free(be);
    free(fe);
    free(lx);
    free(er);
    free(log);
}

#define check(f, cond)                                                         \
    do {                                                                       \
        if (!(cond)) {                                                         \
            show_state(f);                                                     \
            fail_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                  \
        }                                                                      \
    } while (0)

static void expect_node(struct fixture *f, const char *path, const char *val)
{
    char *v = get(f, path);

    if (!v || strcmp(v, val)) {
        show_state(f);
        fail_msg("%s: expected \"%s\", got %s%s%s", path, val, v ? "\"" : "",
                 v ? v : "(absent)", v ? "\"" : "");
    }
    free(v);
}

static void expect_absent(struct fixture *f, const char *path)
{
    char *v = get(f, path);

    if (v) {
        show_state(f);
        fail_msg("%s: expected absent, got \"%s\"", path, v);
    }
}

static void expect_perms(struct fixture *f, const char *path, const char *want)
{
    char have[64];

    perms_text(f, path, have, sizeof(have));
    if (strcmp(have, want)) {
        show_state(f);
        fail_msg("%s: permissions expected (%s), got (%s)", path, want, have);
    }
}

static void wait_node(struct fixture *f, const char *path, const char *val,
                      int timeout_ms)
{
    int r = xpci__xs_wait_value(f->ctx, path, val, timeout_ms);

    if (r < 0) {
        show_state(f);
        fail_msg("%s did not become %s: %s", path, val ? val : "(absent)",
                 strerror(-r));
    }
}

static void wait_guest(struct fixture *f, unsigned n)
{
    if (fake_pv_wait_guest(f->pv, n, WAIT_MS) < 0) {
        show_state(f);
        fail_msg("the guest does not see %u function(s) but %u", n,
                 fake_pv_guest_count(f->pv));
    }
}

/* ----------------------------------------------- libxl's own writes */

struct lx_dev {
    const char *bdf;
    int vdevfn;       /* 0: none (libxl writes vdevfn-N only when set) */
    const char *name; /* or NULL */
    const char *opts;
};

struct lx_add {
    const struct lx_dev *d;
    int num; /* num_devs before, -1: no backend yet */
};

static int lx_add_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    static const struct xpci_xs_perm be_perms[] = {{0, XPCI_XS_PERM_NONE},
                                                   {GUEST, XPCI_XS_PERM_READ}};
    static const struct xpci_xs_perm fe_perms[] = {{GUEST, XPCI_XS_PERM_NONE},
                                                   {0, XPCI_XS_PERM_READ}};
    const struct xpci_xs_ops *xs = ctx->xs;
    struct lx_add *a = arg;
    void *p = ctx->xs_priv;
    int num = a->num < 0 ? 0 : a->num, r;
    char path[128], val[32];

#define LXW(fmt, v)                                                            \
    do {                                                                       \
        snprintf(path, sizeof(path), BE "/" fmt, num);                         \
        if ((r = xs->write(p, txn, path, v)) < 0)                              \
            return r;                                                          \
    } while (0)

    if (a->num < 0) {
        /* libxl__create_pci_backend */
        xs->rm(p, txn, BE);
        if ((r = xs->mkdir(p, txn, BE)) < 0 ||
            (r = xs->set_perms(p, txn, BE, be_perms, 2)) < 0 ||
            (r = xs->write(p, txn, BE "/frontend", FE)) < 0 ||
            (r = xs->write(p, txn, BE "/frontend-id", "1")) < 0 ||
            (r = xs->write(p, txn, BE "/online", "1")) < 0 ||
            (r = xs->write(p, txn, BE "/state", "1")) < 0 ||
            (r = xs->write(p, txn, BE "/domain", GUEST_NAME)) < 0)
            return r;
        xs->rm(p, txn, FE);
        if ((r = xs->mkdir(p, txn, FE)) < 0 ||
            (r = xs->set_perms(p, txn, FE, fe_perms, 2)) < 0 ||
            (r = xs->write(p, txn, FE "/backend", BE)) < 0 ||
            (r = xs->write(p, txn, FE "/backend-id", "0")) < 0 ||
            (r = xs->write(p, txn, FE "/state", "1")) < 0)
            return r;
    }
    /* libxl_create_pci_backend_device */
    LXW("key-%d", a->d->bdf);
    LXW("dev-%d", a->d->bdf);
    if (a->d->vdevfn) {
        snprintf(val, sizeof(val), "%x", a->d->vdevfn);
        LXW("vdevfn-%d", val);
    }
    if (a->d->name)
        LXW("name-%d", a->d->name);
    LXW("opts-%d", a->d->opts);
    LXW("state-%d", "1");
    snprintf(val, sizeof(val), "%d", num + 1);
    if ((r = xs->write(p, txn, BE "/num_devs", val)) < 0)
        return r;
    if (a->num > 0 && (r = xs->write(p, txn, BE "/state", "7")) < 0)
        return r;
#undef LXW
    return 0;
}

/* xl pci-attach's xenstore part for a PV guest, then its record of the
 * holder; waits for Connected as libxl does before a second device. */
static void lx_attach(struct fixture *f, const struct lx_dev *d)
{
    struct lx_add a = {.d = d, .num = -1};
    char *num = get(f, BE "/num_devs");
    char path[96];

    if (num) {
        a.num = atoi(num);
        free(num);
        wait_node(f, BE "/state", "4", WAIT_MS);
    }
    assert_int_equal(xpci__xs_txn_run(f->ctx, lx_add_txn, &a), 0);
    snprintf(path, sizeof(path), "/libxl/pci/%.4s-%.2s-%.2s-%.1s/domid", d->bdf,
             d->bdf + 5, d->bdf + 8, d->bdf + 11);
    put(f, path, "1");
}

struct lx_rm {
    int i, num;
};

static int lx_closing_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct lx_rm *m = arg;
    char path[96];
    int r;

    snprintf(path, sizeof(path), BE "/state-%d", m->i);
    if ((r = ctx->xs->write(ctx->xs_priv, txn, path, "5")) < 0)
        return r;
    return ctx->xs->write(ctx->xs_priv, txn, BE "/state", "7");
}

/* The renumbering of libxl__device_pci_remove_xenstore. */
static int lx_renumber_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    static const char *const keys[] = {"state", "key",    "dev", "vdev",
                                       "opts",  "vdevfn", "name"};
    const struct xpci_xs_ops *xs = ctx->xs;
    struct lx_rm *m = arg;
    void *p = ctx->xs_priv;
    char path[96], to[96], val[16], *v;

    for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
        snprintf(path, sizeof(path), BE "/%s-%d", keys[k], m->i);
        xs->rm(p, txn, path);
    }
    snprintf(val, sizeof(val), "%d", m->num - 1);
    if (xs->write(p, txn, BE "/num_devs", val) < 0)
        return -EIO;
    for (int j = m->i + 1; j < m->num; j++)
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
            snprintf(path, sizeof(path), BE "/%s-%d", keys[k], j);
            if (xs->read(p, txn, path, &v) < 0)
                continue;
            snprintf(to, sizeof(to), BE "/%s-%d", keys[k], j - 1);
            xs->write(p, txn, to, v);
            xs->rm(p, txn, path);
            free(v);
        }
    return 0;
}

/* libxl__xs_path_cleanup: the node, then each parent left empty (an
 * empty value and no children). */
static void lx_path_cleanup(xpci_ctx *ctx, uint32_t txn, const char *node)
{
    char path[96], *slash, *val;
    char **names;
    unsigned n;

    snprintf(path, sizeof(path), "%s", node);
    if (ctx->xs->rm(ctx->xs_priv, txn, path) < 0)
        return;
    while ((slash = strrchr(path, '/')) && slash != path) {
        *slash = '\0';
        if (ctx->xs->read(ctx->xs_priv, txn, path, &val) < 0)
            return;
        n = *val ? 1 : 0;
        free(val);
        if (n)
            return;
        names = NULL;
        if (ctx->xs->directory(ctx->xs_priv, txn, path, &names, &n) < 0)
            return;
        xpci__strv_free(names, n);
        if (n || ctx->xs->rm(ctx->xs_priv, txn, path) < 0)
            return;
    }
}

/* libxl__device_destroy of the PCI device: frontend, then backend. */
static int lx_destroy_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    (void)arg;
    lx_path_cleanup(ctx, txn, FE);
    lx_path_cleanup(ctx, txn, BE);
    return 0;
}

/* xl pci-detach's xenstore part for a PV guest.  Returns 0, or
 * -ETIMEDOUT when the backend did not come back to Connected (libxl
 * gives up there too, leaving the Closing entry). */
static int lx_detach(struct fixture *f, const char *bdf, int timeout_ms)
{
    struct lx_rm m = {.i = -1};
    char *num = get(f, BE "/num_devs"), path[96];

    assert_non_null(num);
    m.num = atoi(num);
    free(num);
    wait_node(f, BE "/state", "4", WAIT_MS);
    for (int i = 0; i < m.num && m.i < 0; i++) {
        char *d;

        snprintf(path, sizeof(path), BE "/dev-%d", i);
        d = get(f, path);
        if (d && !strcmp(d, bdf))
            m.i = i;
        free(d);
    }
    assert_true(m.i >= 0);
    assert_int_equal(xpci__xs_txn_run(f->ctx, lx_closing_txn, &m), 0);
    if (xpci__xs_wait_value(f->ctx, BE "/state", "4", timeout_ms) < 0)
        return -ETIMEDOUT;
    assert_int_equal(xpci__xs_txn_run(f->ctx, lx_renumber_txn, &m), 0);
    if (m.num == 1)
        assert_int_equal(xpci__xs_txn_run(f->ctx, lx_destroy_txn, NULL), 0);
    snprintf(path, sizeof(path), "/libxl/pci/%.4s-%.2s-%.2s-%.1s/domid", bdf,
             bdf + 5, bdf + 8, bdf + 11);
    XS(f)->rm(PRIV(f), XPCI_XS_NO_TXN, path);
    return 0;
}

static const struct lx_dev lx_nic = {NIC, 0, NULL, OPTS_DEFAULT};
static const struct lx_dev lx_hidden = {HIDDEN, 0x20, NULL, OPTS_PERMISSIVE};

/* ------------------------------------------------------ libxl, oracle */

struct lx_want {
    const char *bdf;
    int vdevfn;
    int permissive;
};

/* libxl_device_pci_list of the guest is exactly want[0..n). */
static void expect_libxl_list(struct fixture *f, const struct lx_want *want,
                              int n)
{
    xentoollog_logger_stdiostream *lg;
    libxl_device_pci *pcis;
    libxl_ctx *lctx = NULL;
    int num = -1;

    lg = xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);
    assert_non_null(lg);
    assert_int_equal(
        libxl_ctx_alloc(&lctx, LIBXL_VERSION, 0, (xentoollog_logger *)lg), 0);
    pcis = libxl_device_pci_list(lctx, GUEST, &num);
    if (num != n)
        show_state(f);
    assert_int_equal(num, n);
    for (int i = 0; i < n; i++) {
        struct xpci_bdf b;

        assert_int_equal(xpci_bdf_parse(want[i].bdf, &b), 0);
        assert_int_equal(pcis[i].domain, b.domain);
        assert_int_equal(pcis[i].bus, b.bus);
        assert_int_equal(pcis[i].dev, b.dev);
        assert_int_equal(pcis[i].func, b.func);
        assert_int_equal(pcis[i].vdevfn, want[i].vdevfn);
        assert_int_equal(pcis[i].permissive, want[i].permissive);
        assert_int_equal(pcis[i].msitranslate, 0);
        assert_int_equal(pcis[i].power_mgmt, 0);
        assert_int_equal(pcis[i].rdm_policy, LIBXL_RDM_RESERVE_POLICY_STRICT);
    }
    if (pcis)
        libxl_device_pci_list_free(pcis, num);
    libxl_ctx_free(lctx);
    xtl_logger_destroy((xentoollog_logger *)lg);
}

/* ------------------------------------------------ permissions, as met */

/* The guest reads its backend and owns its frontend, but cannot change
 * the backend; a third domain sees neither. */
static void expect_access(struct fixture *f)
{
    struct xsd_dom *third = NULL;
    char *val = NULL, *perms = NULL;

    assert_int_equal(fake_pv_guest_read(f->pv, BE "/dev-0", &val), 0);
    free(val);
    val = NULL;
    assert_int_equal(fake_pv_guest_read(f->pv, BE "/num_devs", &val), 0);
    free(val);
    assert_int_equal(fake_pv_guest_get_perms(f->pv, BE, &perms), 0);
    assert_string_equal(perms, "n0\nr1");
    free(perms);
    assert_int_equal(fake_pv_guest_write(f->pv, BE "/state", "6"), -EACCES);
    assert_int_equal(fake_pv_guest_write(f->pv, BE "/dev-0", "0000:00:1f.0"),
                     -EACCES);
    assert_int_equal(fake_pv_guest_rm(f->pv, BE "/key-0"), -EACCES);
    assert_int_equal(fake_pv_guest_write(f->pv, FE "/probe", "1"), 0);
    assert_int_equal(fake_pv_guest_rm(f->pv, FE "/probe"), 0);
    assert_int_equal(
        fake_pv_guest_read(f->pv, "/libxl/pci/" NIC_KEY "/domid", &val),
        -EACCES);

    assert_int_equal(xsd_dom_open(f->xsd, THIRD, &third), 0);
    val = NULL;
    assert_int_equal(xsd_dom_read(third, BE "/dev-0", &val), -EACCES);
    assert_int_equal(xsd_dom_read(third, FE "/state", &val), -EACCES);
    assert_int_equal(xsd_dom_write(third, FE "/state", "6"), -EACCES);
    assert_int_equal(xsd_dom_write(third, BE "/state", "6"), -EACCES);
    assert_null(val);
    xsd_dom_close(third);
}

/* ================================================= the peer, by libxl */

/* The first function: what Xen 4.17's xl pci-attach leaves
 * (shared/REFERENCE-real-xen.md), reached through the peer alone. */
static void test_peer_connects_first_function(void **state)
{
    struct fixture *f = *state;
    static const struct lx_want want[] = {{NIC, 0, 0}};
    char vdev[16];

    lx_attach(f, &lx_nic);
    wait_node(f, BE "/state", "4", WAIT_MS);
    wait_guest(f, 1);
    wait_node(f, FE "/state", "4", WAIT_MS);
    check(f, fake_pv_guest_sees(f->pv, NIC, vdev));
    assert_string_equal(vdev, "0000:00:00.00");
    check(f, fake_pv_exported(f->pv, NIC));
    expect_node(f, BE "/vdev-0", "0000:00:00.00");
    expect_node(f, BE "/state-0", "3");
    expect_node(f, BE "/root-0", "0000:00");
    expect_node(f, BE "/root_num", "1");
    expect_node(f, FE "/pci-op-ref", "8");
    expect_node(f, FE "/event-channel", "8");
    expect_node(f, FE "/magic", "7");
    /* what the guest wrote is its own, readable by dom0 */
    expect_perms(f, FE "/magic", "n1,r0");
    expect_perms(f, BE "/vdev-0", "n0,r1");
    /* both state machines, in the order the kernel takes them */
    check(f, fake_pv_log_has(f->pv, "be=2", "export " NIC " 0000:00:00.00",
                             "be=3", "be=4", "see " NIC, "fe=4", NULL));
    check(f, fake_pv_log_has(f->pv, "fe=3", "be=4", NULL));
    assert_int_equal(fake_pv_log_count(f->pv, "be=4"), 1);
    expect_libxl_list(f, want, 1);
    expect_access(f);
}

/* Hot-plug (7 -> 8 -> 4), detach with renumbering, detach of the last. */
static void test_peer_hotplug_and_detach(void **state)
{
    struct fixture *f = *state;
    static const struct lx_want both[] = {{NIC, 0, 0}, {HIDDEN, 0x20, 1}};
    static const struct lx_want second[] = {{HIDDEN, 0x20, 1}};
    char vdev[16];

    lx_attach(f, &lx_nic);
    wait_guest(f, 1);
    fake_pv_log_clear(f->pv);
    lx_attach(f, &lx_hidden);
    wait_guest(f, 2);
    wait_node(f, BE "/state", "4", WAIT_MS);
    check(f, fake_pv_log_has(f->pv, "fe=7", "export " HIDDEN " 0000:00:01.00",
                             "be=8", "see " HIDDEN, "fe=4", "be=4", NULL));
    check(f, fake_pv_guest_sees(f->pv, HIDDEN, vdev));
    assert_string_equal(vdev, "0000:00:01.00");
    expect_node(f, BE "/state-1", "3");
    expect_node(f, BE "/vdev-1", "0000:00:01.00");
    expect_node(f, BE "/root_num", "1");
    expect_libxl_list(f, both, 2);

    fake_pv_log_clear(f->pv);
    assert_int_equal(lx_detach(f, NIC, WAIT_MS), 0);
    wait_guest(f, 1);
    check(f, fake_pv_log_has(f->pv, "drop " NIC, "fe=7", "release " NIC, "be=8",
                             "fe=4", "be=4", NULL));
    check(f, !fake_pv_exported(f->pv, NIC));
    check(f, fake_pv_exported(f->pv, HIDDEN));
    expect_node(f, BE "/num_devs", "1");
    expect_node(f, BE "/dev-0", HIDDEN);
    expect_node(f, BE "/key-0", HIDDEN);
    expect_node(f, BE "/vdev-0", "0000:00:01.00");
    expect_node(f, BE "/vdevfn-0", "20");
    expect_node(f, BE "/opts-0", OPTS_PERMISSIVE);
    expect_node(f, BE "/state-0", "3");
    expect_absent(f, BE "/dev-1");
    expect_absent(f, BE "/state-1");
    expect_libxl_list(f, second, 1);

    assert_int_equal(lx_detach(f, HIDDEN, WAIT_MS), 0);
    wait_guest(f, 0);
    expect_absent(f, BE);
    expect_absent(f, FE);
    /* the last one too goes through Closing before the directories */
    check(f, fake_pv_log_has(f->pv, "drop " HIDDEN, "release " HIDDEN, NULL));
    check(f, fake_pv_exported_count(f->pv) == 0);
    expect_libxl_list(f, NULL, 0);
}

/* No pcifront: pciback does its part, the frontend stays Initialising. */
static void test_peer_silent_guest(void **state)
{
    struct fixture *f = *state;
    double t0;

    fake_pv_set_guest(f->pv, FAKE_PV_GUEST_SILENT);
    lx_attach(f, &lx_nic);
    wait_node(f, BE "/state", "3", WAIT_MS);
    t0 = now_ms();
    assert_int_equal(xpci__xs_wait_value(f->ctx, BE "/state", "4", SHORT_MS),
                     -ETIMEDOUT);
    assert_true(now_ms() - t0 >= SHORT_MS - 1);
    expect_node(f, FE "/state", "1");
    expect_absent(f, FE "/magic");
    assert_int_equal(fake_pv_guest_count(f->pv), 0);
    check(f, fake_pv_exported(f->pv, NIC));
}

/* A guest that takes functions but never gives one up: hot-plug works,
 * the detach is never answered. */
static void test_peer_guest_keeps_function(void **state)
{
    struct fixture *f = *state;

    lx_attach(f, &lx_nic);
    wait_guest(f, 1);
    fake_pv_set_guest(f->pv, FAKE_PV_GUEST_NO_RELEASE);
    lx_attach(f, &lx_hidden);
    wait_guest(f, 2);
    wait_node(f, BE "/state", "4", WAIT_MS);
    assert_int_equal(lx_detach(f, NIC, SHORT_MS), -ETIMEDOUT);
    expect_node(f, BE "/state", "7");
    expect_node(f, BE "/state-0", "5");
    expect_node(f, FE "/state", "4");
    assert_int_equal(fake_pv_guest_count(f->pv), 2);
    check(f, fake_pv_exported(f->pv, NIC));
    check(f, fake_pv_log_has(f->pv, "guest holds on", NULL));
}

/*
 * A busy guest and a quick second xl pci-attach: libxl waits only for the
 * backend to be Connected before it writes Reconfiguring, and pcifront,
 * reading the backend state late, never sees Connected: it stays
 * Initialised and ignores Reconfiguring.  The kernel's behaviour, which a
 * toolstack must not race.
 */
static void test_peer_busy_guest_misses_connected(void **state)
{
    struct fixture *f = *state;

    /* half a second late: the second attach comes well inside that even
     * on a loaded machine, and the wait gives the guest time to act */
    fake_pv_set_guest_delay(f->pv, 500);
    lx_attach(f, &lx_nic);
    lx_attach(f, &lx_hidden); /* waits for backend Connected only */
    assert_int_equal(xpci__xs_wait_value(f->ctx, FE "/state", "4", 1500),
                     -ETIMEDOUT);
    expect_node(f, BE "/state", "7");
    expect_node(f, FE "/state", "3");
    assert_int_equal(fake_pv_guest_count(f->pv), 0);
    check(f, !fake_pv_log_has(f->pv, "fe=7", NULL));
}

/* The same busy guest, hot-plugged once its frontend is Connected. */
static void test_peer_busy_guest_after_connected(void **state)
{
    struct fixture *f = *state;

    fake_pv_set_guest_delay(f->pv, 50);
    lx_attach(f, &lx_nic);
    wait_node(f, FE "/state", "4", WAIT_MS);
    lx_attach(f, &lx_hidden);
    wait_guest(f, 2);
    wait_node(f, BE "/state", "4", WAIT_MS);
    assert_int_equal(lx_detach(f, NIC, WAIT_MS), 0);
    wait_guest(f, 1);
    check(f, fake_pv_guest_sees(f->pv, HIDDEN, NULL));
}

/* pciback refuses: xenbus_dev_fatal's error node, backend Closing, and
 * both ends Closed after it. */
static void test_peer_pciback_refuses(void **state)
{
    struct fixture *f = *state;

    fake_pv_refuse(f->pv, NIC);
    lx_attach(f, &lx_nic);
    wait_node(f, BE_ERROR,
              "22 Couldn't locate PCI device (0000:01:00.0)! perhaps "
              "already in-use?",
              WAIT_MS);
    /* Closing; pcifront answers Closed, and pciback follows */
    wait_node(f, BE "/state", "6", WAIT_MS);
    check(f, fake_pv_log_has(f->pv, "be=5", "fe=6", "be=6", NULL));
    expect_absent(f, BE "/vdev-0");
    expect_node(f, BE "/state-0", "1");
    assert_int_equal(fake_pv_guest_count(f->pv), 0);
    assert_int_equal(fake_pv_exported_count(f->pv), 0);
}

/* =========================================================== xpci */

static const struct xpci_attach_opts quick = {.timeout_ms = WAIT_MS};
/* Where a failure may cost the whole deadline. */
static const struct xpci_attach_opts medium = {.timeout_ms = 1000};

static int do_attach(struct fixture *f, const char *const *specs, unsigned n,
                     const struct xpci_attach_opts *o,
                     struct xpci_result **res_r)
{
    return xpci_attach(f->ctx, GUEST_NAME, specs, n, o ? o : &quick, res_r);
}

/* Fail with the library's message, freeing the result first. */
static void fail_with(struct fixture *f, const char *what, int r,
                      struct xpci_result *res)
{
    char msg[1024];

    snprintf(msg, sizeof(msg), "%s",
             res && res->error ? res->error : "no message");
    xpci_result_free(res);
    show_state(f);
    fail_msg("%s: %s (%s)", what, strerror(-r), msg);
}

static void attach_ok(struct fixture *f, const char *spec)
{
    const char *specs[] = {spec};
    struct xpci_result *res = NULL;
    int r = do_attach(f, specs, 1, NULL, &res);

    if (r < 0)
        fail_with(f, spec, r, res);
    xpci_result_free(res);
}

static int do_detach(struct fixture *f, const char *const *devs, unsigned n,
                     const struct xpci_attach_opts *o,
                     struct xpci_result **res_r)
{
    return xpci_detach(f->ctx, GUEST_NAME, devs, n, o ? o : &quick, res_r);
}

static void detach_ok(struct fixture *f, const char *dev)
{
    const char *devs[] = {dev};
    struct xpci_result *res = NULL;
    int r = do_detach(f, devs, 1, NULL, &res);

    if (r < 0)
        fail_with(f, dev, r, res);
    xpci_result_free(res);
}

/* NIC as the first function of the guest, with its hypervisor side. */
static void expect_nic_attached(struct fixture *f)
{
    check(f, fake_hv_owner(f->hv, NIC) == GUEST);
    check(f, fake_hv_has_grant(f->hv, GUEST, "iomem 0xfebc0+0x20"));
    check(f, fake_hv_has_grant(f->hv, GUEST, "iomem 0xfebe0+0x4"));
    check(f, fake_hv_has_grant(f->hv, GUEST, "ioport 0xc000+0x20"));
    check(f, fake_hv_has_grant(f->hv, GUEST, "irq 16"));
    check(f, fake_hv_has_grant(f->hv, GUEST, "pirq 16"));
    expect_node(f, "/libxl/pci/" NIC_KEY "/domid", "1");
}

/* Nothing of an attach is left: no backend or frontend, no holder
 * record, no permissions, both functions quarantined. */
/* The fake pciback, like the real one, runs in its own thread and drops
 * what it exports only when it sees the backend go: give it a moment. */
static bool wait_unexported(struct fixture *f)
{
    double t0 = now_ms();

    while (fake_pv_exported_count(f->pv) != 0) {
        if (now_ms() - t0 > WAIT_MS)
            return false;
        usleep(10000);
    }
    return true;
}

static void expect_nothing_attached(struct fixture *f)
{
    expect_absent(f, BE);
    expect_absent(f, FE);
    expect_absent(f, "/libxl/pci/" NIC_KEY "/domid");
    expect_absent(f, "/libxl/pci/" HIDDEN_KEY "/domid");
    check(f, fake_hv_grants(f->hv, GUEST) == 0);
    check(f, fake_hv_owner(f->hv, NIC) == XPCI_DOMID_IO);
    check(f, fake_hv_owner(f->hv, HIDDEN) == XPCI_DOMID_IO);
    check(f, wait_unexported(f));
}

static void test_xpci_attach_one_function(void **state)
{
    struct fixture *f = *state;
    static const struct lx_want want[] = {{NIC, 0, 0}};
    char vdev[16];

    attach_ok(f, NIC);
    expect_node(f, BE "/frontend", FE);
    expect_node(f, BE "/frontend-id", "1");
    expect_node(f, BE "/online", "1");
    expect_node(f, BE "/domain", GUEST_NAME);
    expect_node(f, BE "/num_devs", "1");
    expect_node(f, BE "/key-0", NIC);
    expect_node(f, BE "/dev-0", NIC);
    expect_node(f, BE "/opts-0", OPTS_DEFAULT);
    expect_absent(f, BE "/vdevfn-0");
    expect_node(f, BE "/state", "4");
    expect_node(f, FE "/backend", BE);
    expect_node(f, FE "/backend-id", "0");
    expect_perms(f, BE, "n0,r1");
    expect_perms(f, BE "/dev-0", "n0,r1");
    expect_perms(f, BE "/state", "n0,r1");
    expect_perms(f, FE, "n1,r0");
    expect_perms(f, FE "/state", "n1,r0");
    wait_guest(f, 1);
    wait_node(f, BE "/state-0", "3", WAIT_MS);
    check(f, fake_pv_guest_sees(f->pv, NIC, vdev));
    assert_string_equal(vdev, "0000:00:00.00");
    /* the handshake the kernel would have made, from Initialising */
    check(f, fake_pv_log_has(f->pv, "be=2", "be=3", "be=4", NULL));
    expect_nic_attached(f);
    expect_libxl_list(f, want, 1);
    expect_access(f);
}

/* The same layout, compared with what libxl leaves after the same
 * sequence (attach NIC, hot-plug HIDDEN@4,permissive=1, detach NIC). */
static void test_xpci_hotplug_and_detach_match_libxl(void **state)
{
    struct fixture *f = *state;
    static const struct lx_want both[] = {{NIC, 0, 0}, {HIDDEN, 0x20, 1}};
    static const struct lx_want second[] = {{HIDDEN, 0x20, 1}};
    char *ours, *theirs, *ours_fe, *theirs_fe;

    attach_ok(f, NIC);
    wait_guest(f, 1);
    fake_pv_log_clear(f->pv);
    attach_ok(f, HIDDEN "@4,permissive=1");
    wait_guest(f, 2);
    /* the toolstack's Reconfiguring, answered 7 -> 8 -> 4 */
    check(f, fake_pv_log_has(f->pv, "fe=7", "export " HIDDEN " 0000:00:01.00",
                             "be=8", "see " HIDDEN, "fe=4", "be=4", NULL));
    expect_node(f, BE "/state", "4");
    expect_node(f, BE "/num_devs", "2");
    expect_node(f, BE "/dev-1", HIDDEN);
    expect_node(f, BE "/vdevfn-1", "20");
    expect_node(f, BE "/opts-1", OPTS_PERMISSIVE);
    expect_node(f, BE "/state-1", "3");
    check(f, fake_hv_owner(f->hv, HIDDEN) == GUEST);
    expect_node(f, "/libxl/pci/" HIDDEN_KEY "/domid", "1");
    expect_libxl_list(f, both, 2);

    fake_pv_log_clear(f->pv);
    detach_ok(f, NIC);
    wait_guest(f, 1);
    check(f, fake_pv_log_has(f->pv, "drop " NIC, "fe=7", "release " NIC, "be=8",
                             NULL));
    check(f, !fake_pv_guest_sees(f->pv, NIC, NULL));
    check(f, fake_pv_guest_sees(f->pv, HIDDEN, NULL));
    expect_node(f, BE "/state", "4");
    expect_libxl_list(f, second, 1);
    check(f, fake_hv_owner(f->hv, NIC) == XPCI_DOMID_IO);
    check(f, !fake_hv_has_grant(f->hv, GUEST, "iomem 0xfebc0+0x20"));
    check(f, !fake_hv_has_grant(f->hv, GUEST, "ioport 0xc000+0x20"));
    expect_absent(f, "/libxl/pci/" NIC_KEY "/domid");
    ours = dump(f, BE, true);
    ours_fe = dump(f, FE, true);

    detach_ok(f, "09:00.0");
    wait_guest(f, 0);
    expect_nothing_attached(f);
    expect_libxl_list(f, NULL, 0);

    /* libxl's writes, same sequence, same peer */
    lx_attach(f, &lx_nic);
    wait_guest(f, 1);
    lx_attach(f, &lx_hidden);
    wait_guest(f, 2);
    assert_int_equal(lx_detach(f, NIC, WAIT_MS), 0);
    wait_guest(f, 1);
    theirs = dump(f, BE, true);
    theirs_fe = dump(f, FE, true);
    if (strcmp(ours, theirs) || strcmp(ours_fe, theirs_fe))
        fail_msg("xpci left\n%s%s\nlibxl leaves\n%s%s", ours, ours_fe, theirs,
                 theirs_fe);
    free(ours);
    free(theirs);
    free(ours_fe);
    free(theirs_fe);
}

/*
 * Two functions in one call, to a guest that reacts 50 ms late (a busy
 * vCPU).  pcifront acts on the backend state it reads when it gets to the
 * event: a backend already moved on from Connected to Reconfiguring finds
 * a frontend still Initialised, which pcifront_detach_devices ignores,
 * and the handshake stalls.  So the second function may only be
 * hot-plugged once both ends are Connected, or go in the first
 * transaction.
 */
static void test_xpci_two_specs_one_call(void **state)
{
    struct fixture *f = *state;
    static const char *const specs[] = {NIC, HIDDEN};
    static const struct lx_want both[] = {{NIC, 0, 0}, {HIDDEN, 0, 0}};
    struct xpci_result *res = NULL;
    int r;

    fake_pv_set_guest_delay(f->pv, 50);
    r = do_attach(f, specs, 2, &medium, &res);
    if (r < 0)
        fail_with(f, "attach of two", r, res);
    xpci_result_free(res);
    wait_guest(f, 2);
    expect_node(f, BE "/num_devs", "2");
    expect_node(f, BE "/state-0", "3");
    expect_node(f, BE "/state-1", "3");
    expect_node(f, BE "/state", "4");
    check(f, fake_hv_owner(f->hv, NIC) == GUEST);
    check(f, fake_hv_owner(f->hv, HIDDEN) == GUEST);
    expect_libxl_list(f, both, 2);

    res = NULL;
    assert_int_equal(do_detach(f, specs, 2, NULL, &res), 0);
    xpci_result_free(res);
    wait_guest(f, 0);
    expect_nothing_attached(f);
}

/* No pcifront answers, but pciback exported the guest's first function:
 * a pcifront starved of CPU may be connecting without a sign in xenstore
 * yet, so the backend is not taken from under it.  The function is left
 * the guest's, and detach -f takes it from a guest that never connects. */
static void test_xpci_silent_guest_keeps_exported_function(void **state)
{
    struct fixture *f = *state;
    static const char *const specs[] = {NIC};
    struct xpci_attach_opts o = {.timeout_ms = SHORT_MS};
    struct xpci_result *res = NULL;
    double t0, took;
    int r;

    fake_pv_set_guest(f->pv, FAKE_PV_GUEST_SILENT);
    t0 = now_ms();
    r = do_attach(f, specs, 1, &o, &res);
    took = now_ms() - t0;
    fprintf(stderr, "    %s\n", res && res->error ? res->error : "");
    assert_int_equal(r, -EINPROGRESS);
    /* about the deadline: not before it, not much after */
    if (took < SHORT_MS - 1 || took > 2 * SHORT_MS + 5000)
        fail_msg("gave up after %.0f ms for a %d ms deadline", took,
                 SHORT_MS);
    assert_non_null(res->error);
    if (!strstr(res->error, NIC) || !strstr(res->error, "state") ||
        !strstr(res->error, "xpci detach"))
        fail_msg("error does not name the device, the step and the way "
                 "back: %s", res->error);
    assert_false(res->rolled_back);
    assert_int_equal(res->n_undo_errors, 0);
    xpci_result_free(res);
    expect_nic_attached(f);
    expect_node(f, BE "/dev-0", NIC);
    check(f, fake_pv_exported(f->pv, NIC));

    o.force = true;
    res = NULL;
    r = do_detach(f, specs, 1, &o, &res);
    if (r < 0)
        fail_with(f, "forced detach", r, res);
    xpci_result_free(res);
    expect_nothing_attached(f);
    assert_int_equal(fake_pv_guest_count(f->pv), 0);
}

/* A hot-plug the guest never noticed (pcifront stays Connected) is rolled
 * back, and the backend is Connected again. */
/* After an undo the guest may still answer what it was asked before: a
 * guest descheduled mid-removal.  It must find pciback ready to finish
 * the cycle (a backend left Connected makes pciback ignore the guest's
 * Reconfiguring, and both ends stay stuck). */
static void wait_answer(struct fixture *f)
{
    double t0 = now_ms();

    while (fake_pv_log_count(f->pv, "fe=7") == 0) {
        if (now_ms() - t0 > WAIT_MS) {
            show_state(f);
            fail_msg("the stalled guest never answered");
        }
        usleep(10000);
    }
}

static void wait_settled(struct fixture *f)
{
    wait_node(f, FE "/state", "4", WAIT_MS);
    wait_node(f, BE "/state", "4", WAIT_MS);
}

static void test_xpci_silent_guest_rolls_back_hotplug(void **state)
{
    struct fixture *f = *state;
    static const char *const specs[] = {HIDDEN};
    struct xpci_attach_opts o = {.timeout_ms = SHORT_MS};
    struct xpci_result *res = NULL;
    int r;

    attach_ok(f, NIC);
    wait_guest(f, 1);
    fake_pv_set_guest(f->pv, FAKE_PV_GUEST_SILENT);
    r = do_attach(f, specs, 1, &o, &res);
    fprintf(stderr, "    %s\n", res && res->error ? res->error : "");
    assert_int_equal(r, -ETIMEDOUT);
    if (!strstr(res->error, HIDDEN) || !strstr(res->error, "state"))
        fail_msg("error does not name the device and the step: %s",
                 res->error);
    assert_true(res->rolled_back);
    assert_int_equal(res->n_undo_errors, 0);
    xpci_result_free(res);
    expect_nic_attached(f);
    expect_node(f, BE "/num_devs", "1");
    /* left Reconfiguring for the guest to answer when it can */
    expect_node(f, BE "/state", "7");
    expect_absent(f, "/libxl/pci/" HIDDEN_KEY "/domid");
    check(f, fake_hv_owner(f->hv, HIDDEN) == XPCI_DOMID_IO);

    fake_pv_set_guest(f->pv, FAKE_PV_GUEST_OK);
    wait_settled(f);
    check(f, !fake_pv_exported(f->pv, HIDDEN));
    detach_ok(f, NIC);
    wait_guest(f, 0);
    expect_nothing_attached(f);
}

static void test_xpci_guest_keeps_function(void **state)
{
    struct fixture *f = *state;
    static const char *const nic[] = {NIC};
    static const char *const both[] = {NIC, HIDDEN};
    struct xpci_attach_opts o = {.timeout_ms = SHORT_MS};
    struct xpci_result *res = NULL;
    char *before, *after, *reconf;
    unsigned grants;
    int r;

    attach_ok(f, NIC);
    wait_guest(f, 1);
    before = dump(f, BE, true);
    grants = fake_hv_grants(f->hv, GUEST);
    fake_pv_set_guest(f->pv, FAKE_PV_GUEST_NO_RELEASE);

    r = do_detach(f, nic, 1, &o, &res);
    fprintf(stderr, "    %s\n", res && res->error ? res->error : "");
    assert_int_equal(r, -ETIMEDOUT);
    assert_non_null(res->error);
    if (!strstr(res->error, NIC))
        fail_msg("error does not name the device: %s", res->error);
    assert_true(res->rolled_back);
    xpci_result_free(res);
    /* still attached, as before, the backend left Reconfiguring for the
     * guest to answer */
    expect_node(f, BE "/state", "7");
    after = dump(f, BE, true);
    reconf = strstr(after, BE "/state = \"7\"");
    assert_non_null(reconf);
    reconf[strlen(BE "/state = \"")] = '4';
    if (strcmp(before, after)) {
        show_state(f);
        fail_msg("backend before\n%safter\n%s", before, after);
    }
    free(before);
    free(after);
    expect_nic_attached(f);
    check(f, fake_hv_grants(f->hv, GUEST) == grants);
    check(f, fake_pv_guest_sees(f->pv, NIC, NULL));
    check(f, fake_pv_exported(f->pv, NIC));

    /* the guest answers at last: nothing to let go, and usable: a
     * hot-plug goes through */
    fake_pv_set_guest(f->pv, FAKE_PV_GUEST_OK);
    wait_settled(f);
    check(f, fake_pv_guest_sees(f->pv, NIC, NULL));
    attach_ok(f, HIDDEN);
    wait_guest(f, 2);
    expect_node(f, BE "/state", "4");

    /* -f takes them anyway */
    o.force = true;
    res = NULL;
    r = do_detach(f, both, 2, &o, &res);
    if (r < 0)
        fail_with(f, "forced detach", r, res);
    xpci_result_free(res);
    expect_nothing_attached(f);
    wait_guest(f, 0);
}

/* With the NIC attached and the guest stalling mid-reconfiguration,
 * detach the NIC (hotplug false) or hot-plug HIDDEN: xpci gives up and
 * undoes it, then the stalled guest answers. */
static void undone_then_answered(struct fixture *f, bool hotplug)
{
    static const char *const nic[] = {NIC};
    static const char *const hidden[] = {HIDDEN};
    struct xpci_attach_opts o = {.timeout_ms = SHORT_MS};
    struct xpci_result *res = NULL;
    int r;

    attach_ok(f, NIC);
    wait_guest(f, 1);
    fake_pv_set_guest_drop_stall(f->pv, 4 * SHORT_MS);
    r = hotplug ? do_attach(f, hidden, 1, &o, &res)
                : do_detach(f, nic, 1, &o, &res);
    fprintf(stderr, "    %s\n", res && res->error ? res->error : "");
    assert_int_equal(r, -ETIMEDOUT);
    assert_true(res->rolled_back);
    xpci_result_free(res);
    wait_answer(f);
    wait_settled(f);
    wait_guest(f, 1);
    check(f, fake_pv_guest_sees(f->pv, NIC, NULL));
    check(f, fake_pv_exported(f->pv, NIC));
    check(f, !fake_pv_exported(f->pv, HIDDEN));
    expect_node(f, BE "/num_devs", "1");
    expect_node(f, BE "/state-0", "3");
    check(f, fake_hv_owner(f->hv, HIDDEN) == XPCI_DOMID_IO);
    expect_nic_attached(f);

    fake_pv_set_guest_drop_stall(f->pv, 0);
    detach_ok(f, NIC);
    wait_guest(f, 0);
    expect_nothing_attached(f);
}

/* The guest drops the function it saw Closing, then answers; pciback
 * finds nothing to release and the guest's rescan finds it again. */
static void test_xpci_guest_answers_detach_after_undo(void **state)
{
    struct fixture *f = *state;

    undone_then_answered(f, false);
    assert_true(fake_pv_log_has(f->pv, "drop " NIC, "fe=7", "be=8",
                                "see " NIC, "fe=4", "be=4", NULL));
}

/* The guest finds nothing to take, and the cycle ends. */
static void test_xpci_guest_answers_hotplug_after_undo(void **state)
{
    struct fixture *f = *state;

    undone_then_answered(f, true);
    assert_true(fake_pv_log_has(f->pv, "fe=7", "be=8", "fe=4", "be=4",
                                NULL));
}

static void test_xpci_pciback_refuses(void **state)
{
    struct fixture *f = *state;
    static const char *const specs[] = {NIC};
    struct xpci_result *res = NULL;
    int r;

    double t0 = now_ms();

    fake_pv_refuse(f->pv, NIC);
    r = do_attach(f, specs, 1, &medium, &res);
    fprintf(stderr, "    refused after %.0f ms (deadline %d ms): %s\n",
            now_ms() - t0, medium.timeout_ms,
            res && res->error ? res->error : "");
    assert_true(r < 0);
    assert_non_null(res->error);
    if (!strstr(res->error, "Couldn't locate PCI device"))
        fail_msg("pciback's reason is not in the error: %s", res->error);
    if (!strstr(res->error, NIC))
        fail_msg("error does not name the device: %s", res->error);
    assert_true(res->rolled_back);
    xpci_result_free(res);
    expect_nothing_attached(f);
    assert_int_equal(fake_pv_guest_count(f->pv), 0);
}

/* xl pci-attach's work (libxl's layout and holder record), listed and
 * extended and taken back by xpci. */
static void test_xpci_takes_over_what_xl_attached(void **state)
{
    struct fixture *f = *state;
    static const struct lx_dev named = {HIDDEN, 0, "nic1",
                                        "msitranslate=0,power_mgmt=0,"
                                        "permissive=0,rdm_policy=relaxed"};
    static const struct lx_want after[] = {{NIC, 0, 0}};
    struct xpci_attached *list = NULL;
    size_t n = 0;
    int r;

    lx_attach(f, &named);
    wait_guest(f, 1);
    fake_hv_set_owner(f->hv, HIDDEN, GUEST);

    r = xpci_attached_list(f->ctx, GUEST_NAME, &list, &n);
    assert_int_equal(r, 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].domid, GUEST);
    assert_string_equal(list[0].bdf, HIDDEN);
    assert_string_equal(list[0].domain, GUEST_NAME);
    assert_string_equal(list[0].vdev, "0000:00:00.00");
    assert_string_equal(list[0].name, "nic1");
    assert_int_equal(list[0].state, 3);
    assert_int_equal(list[0].vdevfn, -1);
    assert_int_equal(list[0].rdm_policy, XPCI_RDM_POLICY_RELAXED);
    assert_int_equal(list[0].permissive, 0);
    xpci_attached_list_free(list, n);
    /* every domain: the same one */
    list = NULL;
    assert_int_equal(xpci_attached_list(f->ctx, NULL, &list, &n), 0);
    assert_int_equal(n, 1);
    xpci_attached_list_free(list, n);

    /* a second function on libxl's backend */
    attach_ok(f, NIC);
    wait_guest(f, 2);
    expect_node(f, BE "/num_devs", "2");
    expect_node(f, BE "/dev-1", NIC);
    expect_node(f, BE "/state", "4");

    /* xl's function, taken back by its name */
    detach_ok(f, "nic1");
    wait_guest(f, 1);
    check(f, fake_hv_owner(f->hv, HIDDEN) == XPCI_DOMID_IO);
    expect_absent(f, "/libxl/pci/" HIDDEN_KEY "/domid");
    expect_node(f, BE "/num_devs", "1");
    expect_node(f, BE "/dev-0", NIC);
    expect_absent(f, BE "/name-0");
    expect_libxl_list(f, after, 1);

    detach_ok(f, NIC);
    wait_guest(f, 0);
    expect_nothing_attached(f);
}

int main(int argc, char **argv)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_peer_connects_first_function),
        T(test_peer_hotplug_and_detach),
        T(test_peer_silent_guest),
        T(test_peer_guest_keeps_function),
        T(test_peer_busy_guest_misses_connected),
        T(test_peer_busy_guest_after_connected),
        T(test_peer_pciback_refuses),
        T(test_xpci_attach_one_function),
        T(test_xpci_hotplug_and_detach_match_libxl),
        T(test_xpci_two_specs_one_call),
        T(test_xpci_silent_guest_keeps_exported_function),
        T(test_xpci_silent_guest_rolls_back_hotplug),
        T(test_xpci_guest_keeps_function),
        T(test_xpci_guest_answers_detach_after_undo),
        T(test_xpci_guest_answers_hotplug_after_undo),
        T(test_xpci_pciback_refuses),
        T(test_xpci_takes_over_what_xl_attached),
    };
#undef T
    const char *daemon = xsd_daemon_path();
    int r;

    (void)argc;
    if (access(daemon, X_OK) < 0) {
        fprintf(stderr, "SKIP: no xenstored at %s (set %s)\n", daemon,
                XSD_ENV_DAEMON);
        return 77;
    }
    /* libxl_ctx_alloc needs xc_interface_open: the shim, preloaded. */
    r = xsd_preload_self(argv);
    if (r < 0) {
        fprintf(stderr, "ERROR: cannot preload xsshim.so: %s (set %s)\n",
                strerror(-r), XSD_ENV_SHIM);
        return 99;
    }
    r = cmocka_run_group_tests_name("attach-xenstore", tests, NULL, NULL);
    fprintf(stderr, "test-attach-xs: %zu tests, %d failed\n", ARRAY_SIZE(tests),
            r);
    return r;
}
