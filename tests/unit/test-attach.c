/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-attach.c - giving functions to a PV guest and taking them back, on a
 * fake kernel, a fake hypervisor and an in-memory xenstore whose "peer"
 * plays pciback and pcifront at once: the backend layout libxl uses, the
 * hot-plug cycle, renumbering on detach, the hypervisor permissions, and
 * all-or-nothing rollback with every mutating call made to fail in turn,
 * a guest that never answers and a crash at every journal record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake-hv.h"
#include "abandon.h"
#include "fake-sysfs.h"
#include "fake-xs.h"
#include "topologies.h"
#include "xpci.h"

#define GUEST 5
#define OTHER 6
#define NIC "0000:01:00.0"   /* e1000e, made assignable in setup */
#define HIDDEN "0000:09:00.0" /* in pciback from the start */
#define PF "0000:07:00.0"     /* bound to ixgbe: not assignable */
#define BE "/local/domain/0/backend/pci/5/0"
#define FE "/local/domain/5/device/pci/0"

enum peer_mode {
    PEER_OK,
    PEER_SILENT,     /* the guest never answers */
    PEER_NO_RELEASE, /* the guest takes functions but never gives one up */
    /* one state change at a time, the way pciback and pcifront step
     * through a reconfiguration, each after step_ms: */
    PEER_SLOW,       /* a loaded host: slow, but every step comes */
    PEER_RELEASED,   /* both ends let a function go, then silence */
    PEER_FRONT_ONLY, /* pcifront lets it go, pciback never answers */
    PEER_CONNECTING, /* pcifront publishes its ring to a new backend, then
                      * silence */
    PEER_STARVED,    /* pciback exports to a new backend, pcifront shows
                      * nothing (a guest starved of CPU mid-probe) */
    PEER_TAKING,     /* a hot-plug is taken up to pciback Reconfigured and
                      * pcifront Reconfiguring, then silence */
};

struct fixture {
    struct fake_sysfs *t;
    struct fake_hv *hv;
    struct fake_xs *xs;
    xpci_ctx *ctx;
    char state_dir[512];
    char audit[512];
    enum peer_mode mode;
    int step_ms;
    int timeout_ms; /* attach1 / detach1's deadline; 0: quick's */
};

static int fail_at; /* fail the Nth mutating call (0: none) */
static int calls;

static bool inject(void)
{
    return fail_at && ++calls == fail_at;
}

/* ------------------------------------------------------------ the peer */

static int peer_set(struct fake_xs *xs, const char *path, const char *val)
{
    const char *cur = fake_xs_get(xs, path);

    if (cur && !strcmp(cur, val))
        return 0;
    fake_xs_set(xs, path, val);
    return 1;
}

/* The number at BE/key, or at BE/key-i when i >= 0; -1 when absent. */
static int num_at(struct fake_xs *xs, const char *key, int i)
{
    char path[128];
    const char *v;

    if (i >= 0)
        snprintf(path, sizeof(path), BE "/%s-%d", key, i);
    else
        snprintf(path, sizeof(path), BE "/%s", key);
    v = fake_xs_get(xs, path);
    return v ? atoi(v) : -1;
}

/*
 * pciback and pcifront of domain GUEST in one step: a new backend
 * connects with every function exported; Reconfiguring exports the
 * Initialising functions and drops the Closing ones, then both ends are
 * Connected again.
 */
/* The stepping peer: one change per call (the next one the protocol
 * makes), after f->step_ms.  Hot-plug and removal both go: pcifront
 * Reconfiguring, pciback exports (state-N Initialised) or drops (state-N
 * Closed) the function and goes Reconfigured, pcifront Connected, pciback
 * Connected. */
static int peer_step(struct fake_xs *xs, struct fixture *f)
{
    int st = num_at(xs, "state", -1), n = num_at(xs, "num_devs", -1);
    const char *fev = fake_xs_get(xs, FE "/state");
    int fe = fev ? atoi(fev) : -1;
    char path[128], val[32];

    if (f->step_ms)
        usleep((useconds_t)f->step_ms * 1000);
    if (st == 7 && fe != 7)
        return peer_set(xs, FE "/state", "7");
    if (st == 1 || st == 7) {
        for (int i = 0; i < n; i++) {
            int sub = num_at(xs, "state", i);

            if (f->mode == PEER_FRONT_ONLY)
                return 0;
            snprintf(path, sizeof(path), BE "/state-%d", i);
            if (sub == 5)
                return peer_set(xs, path, "6");
            if (sub != 1)
                continue;
            snprintf(val, sizeof(val), "0000:00:%02x.00", i);
            peer_set(xs, path, "3");
            snprintf(path, sizeof(path), BE "/vdev-%d", i);
            return peer_set(xs, path, val) + 1;
        }
        if (st == 1 && f->mode == PEER_STARVED)
            return peer_set(xs, BE "/state", "3");
        /* a new backend: pcifront connects (ring, Initialised) */
        if (st == 1 && fe == 1) {
            peer_set(xs, FE "/pci-op-ref", "8");
            return peer_set(xs, FE "/state", "3") + 1;
        }
        if (st == 1 && f->mode == PEER_CONNECTING)
            return 0;
        return peer_set(xs, BE "/state", st == 1 ? "4" : "8");
    }
    if (st == 8 && (f->mode == PEER_RELEASED || f->mode == PEER_TAKING))
        return 0;
    if ((st == 8 || st == 4) && fe != 4)
        return peer_set(xs, FE "/state", "4");
    if (st == 8)
        return peer_set(xs, BE "/state", "4");
    return 0;
}

static int peer(struct fake_xs *xs, void *arg)
{
    struct fixture *f = arg;

    int state = num_at(xs, "state", -1);
    int n = num_at(xs, "num_devs", -1), changed = 0;
    bool closing = false;
    char path[128], val[32];

    if (f->mode >= PEER_SLOW)
        return peer_step(xs, f);

    if (f->mode == PEER_SILENT || state < 0 ||
        (state != 1 && state != 7))
        return 0;
    for (int i = 0; i < n; i++) {
        int sub = num_at(xs, "state", i);

        closing |= sub == 5;
        if (sub != 1)
            continue;
        snprintf(path, sizeof(path), BE "/vdev-%d", i);
        snprintf(val, sizeof(val), "0000:00:%02x.00", i);
        changed += peer_set(xs, path, val);
        snprintf(path, sizeof(path), BE "/state-%d", i);
        changed += peer_set(xs, path, "3");
    }
    if (closing && f->mode == PEER_NO_RELEASE)
        return changed;
    changed += peer_set(xs, BE "/state", "4");
    changed += peer_set(xs, FE "/state", "4");
    return changed;
}

/* ------------------------------------------------------------ fixture */

static struct xpci_hv_ops wrapped_hv;
static struct xpci_xs_ops wrapped_xs;

static int w_assign(void *p, uint32_t d, uint32_t s, uint32_t fl)
{
    return inject() ? -EBUSY : fake_hv_ops.assign(p, d, s, fl);
}

static int w_deassign(void *p, uint32_t d, uint32_t s)
{
    return inject() ? -EPERM : fake_hv_ops.deassign(p, d, s);
}

static int w_iomem(void *p, uint32_t d, uint64_t a, uint64_t n, bool allow)
{
    return inject() ? -EPERM : fake_hv_ops.iomem_permission(p, d, a, n, allow);
}

static int w_ioport(void *p, uint32_t d, uint32_t a, uint32_t n, bool allow)
{
    return inject() ? -EPERM
                    : fake_hv_ops.ioport_permission(p, d, a, n, allow);
}

static int w_map_pirq(void *p, uint32_t d, int irq, int *pirq)
{
    return inject() ? -ENOSPC : fake_hv_ops.map_pirq(p, d, irq, pirq);
}

static int w_irq_perm(void *p, uint32_t d, int pirq, bool allow)
{
    return inject() ? -EPERM : fake_hv_ops.irq_permission(p, d, pirq, allow);
}

static int w_xs_write(void *p, uint32_t txn, const char *path, const char *v)
{
    return inject() ? -EACCES : fake_xs_ops.write(p, txn, path, v);
}

static int w_xs_rm(void *p, uint32_t txn, const char *path)
{
    return inject() ? -EACCES : fake_xs_ops.rm(p, txn, path);
}

/* A guest that answers a removal the moment xpci's wait for it ran out:
 * at the next transaction once the backend is Reconfiguring with a
 * Closing entry, pcifront has dropped the function (Reconfiguring) and
 * pciback released it (Reconfigured). */
static bool answer_at_deadline;

static int w_xs_txn_start(void *p, uint32_t *txn_r)
{
    struct fake_xs *xs = p;
    const char *fe = fake_xs_get(xs, FE "/state");
    int n = num_at(xs, "num_devs", -1);
    bool closing = false;

    for (int i = 0; i < n; i++)
        closing |= num_at(xs, "state", i) == 5;
    if (answer_at_deadline && closing && num_at(xs, "state", -1) == 7 &&
        fe && atoi(fe) == 4) {
        answer_at_deadline = false;
        fake_xs_set(xs, FE "/state", "7");
        fake_xs_set(xs, BE "/state", "8");
    }
    return fake_xs_ops.txn_start(p, txn_r);
}

static void open_ctx(struct fixture *f)
{
    struct xpci_params p = {
        .sysfs_root = fake_sysfs_sys(f->t),
        .proc_root = fake_sysfs_proc(f->t),
        .sysfs_ops = &fake_sysfs_ops,
        .sysfs_priv = f->t,
        .hv_ops = &wrapped_hv,
        .hv_priv = f->hv,
        .xs_ops = &wrapped_xs,
        .xs_priv = f->xs,
        .state_dir = f->state_dir,
        .audit_log = f->audit,
        .flags = XPCI_CTX_NO_SYSLOG,
    };

    xpci_ctx_free(f->ctx);
    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *nic[] = {NIC};
    struct xpci_result *res = NULL;

    assert_non_null(f);
    f->t = fake_sysfs_new();
    f->hv = fake_hv_new();
    fake_hv_set_iommu(f->hv, true);
    fake_hv_add_domain(f->hv, GUEST);
    fake_hv_add_domain(f->hv, OTHER);
    f->xs = fake_xs_new();
    fake_xs_set(f->xs, "/libxl", "");
    fake_xs_set(f->xs, "/local/domain/0/name", "Domain-0");
    fake_xs_set(f->xs, "/local/domain/5/name", "guest");
    fake_xs_set(f->xs, "/libxl/5/type", "pv");
    fake_xs_set(f->xs, "/local/domain/6/name", "other");
    fake_xs_set(f->xs, "/libxl/6/type", "pv");
    fake_xs_set_peer(f->xs, peer, f);
    snprintf(f->state_dir, sizeof(f->state_dir), "%s/var/lib/xpci",
             fake_sysfs_root(f->t));
    snprintf(f->audit, sizeof(f->audit), "%s/var/log/xpci/audit.log",
             fake_sysfs_root(f->t));
    topo_host_bridge(f->t);
    topo_nic(f->t);
    topo_sriov(f->t);
    topo_pciback(f->t);

    wrapped_hv = fake_hv_ops;
    wrapped_hv.assign = w_assign;
    wrapped_hv.deassign = w_deassign;
    wrapped_hv.iomem_permission = w_iomem;
    wrapped_hv.ioport_permission = w_ioport;
    wrapped_hv.map_pirq = w_map_pirq;
    wrapped_hv.irq_permission = w_irq_perm;
    wrapped_xs = fake_xs_ops;
    wrapped_xs.write = w_xs_write;
    wrapped_xs.rm = w_xs_rm;
    wrapped_xs.txn_start = w_xs_txn_start;
    answer_at_deadline = false;
    fail_at = calls = 0;

    open_ctx(f);
    assert_int_equal(xpci_assignable_add(f->ctx, nic, 1, NULL, &res), 0);
    xpci_result_free(res);
    fake_hv_set_owner(f->hv, HIDDEN, XPCI_DOMID_IO);
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
    return 0;
}

static const struct xpci_attach_opts quick = {.timeout_ms = 50};
/* For a fake device model, a thread that a busy machine may be slow to
 * run. */
static const struct xpci_attach_opts patient = {.timeout_ms = 1000};

/* Whether one of res's notes says what. */
static bool has_note(const struct xpci_result *res, const char *what)
{
    for (unsigned i = 0; i < res->n_notes; i++)
        if (strstr(res->notes[i], what))
            return true;
    return false;
}

static int attach1(struct fixture *f, const char *spec,
                   struct xpci_result **res_r)
{
    const char *specs[] = {spec};
    struct xpci_attach_opts o = quick;

    if (f->timeout_ms)
        o.timeout_ms = f->timeout_ms;
    return xpci_attach(f->ctx, "guest", specs, 1, &o, res_r);
}

static int detach1(struct fixture *f, const char *dev, bool force,
                   struct xpci_result **res_r)
{
    const char *devs[] = {dev};
    struct xpci_attach_opts o = quick;

    o.force = force;
    if (f->timeout_ms)
        o.timeout_ms = f->timeout_ms;
    return xpci_detach(f->ctx, "guest", devs, 1, &o, res_r);
}

/* Everything attach may touch, as one string. */
static char *snapshot(struct fixture *f)
{
    static const char *const devs[] = {NIC, HIDDEN};
    static const char *const nodes[] = {
        BE "/num_devs", BE "/state", FE "/state",
        "/libxl/pci/0000-01-00-0/domid", "/libxl/pci/0000-09-00-0/domid",
    };
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char path[600];

    assert_non_null(m);
    for (size_t i = 0; i < 2; i++)
        fprintf(m, "%s owner=%ld\n", devs[i], fake_hv_owner(f->hv, devs[i]));
    fprintf(m, "grants=%u\n", fake_hv_grants(f->hv, GUEST));
    fprintf(m, "backend nodes=%u frontend nodes=%u\n",
            fake_xs_count(f->xs, "/local/domain/0/backend/pci/5"),
            fake_xs_count(f->xs, "/local/domain/5/device/pci"));
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        const char *v = fake_xs_get(f->xs, nodes[i]);

        fprintf(m, "%s=%s\n", nodes[i], v ? v : "(absent)");
    }
    /* Backend entries by function: a rollback that plugs a function in
     * again may give it another index. */
    for (size_t i = 0; i < 2; i++) {
        int num = num_at(f->xs, "num_devs", -1);

        for (int k = 0; k < num; k++) {
            char p2[128];
            const char *dev;

            snprintf(p2, sizeof(p2), BE "/dev-%d", k);
            dev = fake_xs_get(f->xs, p2);
            if (!dev || strcmp(dev, devs[i]))
                continue;
            snprintf(p2, sizeof(p2), BE "/opts-%d", k);
            fprintf(m, "entry %s state=%d opts=%s\n", dev,
                    num_at(f->xs, "state", k),
                    fake_xs_get(f->xs, p2) ? fake_xs_get(f->xs, p2) : "-");
        }
    }
    snprintf(path, sizeof(path), "%s/journal", f->state_dir);
    fprintf(m, "journal %s\n", access(path, F_OK) == 0 ? "present" : "absent");
    fclose(m);
    return buf;
}

/* The lines of after that differ from before's, for failure messages. */
static void report_diff(int k, const char *err, const char *before,
                        const char *after)
{
    char *a = strdup(before), *b = strdup(after), *sa = NULL, *sb = NULL;
    char *la = strtok_r(a, "\n", &sa), *lb = strtok_r(b, "\n", &sb);

    print_error("call %d: %s\n", k, err ? err : "(no error)");
    while (la || lb) {
        if (!la || !lb || strcmp(la, lb))
            print_error("  before: %s\n  after:  %s\n", la ? la : "",
                        lb ? lb : "");
        la = la ? strtok_r(NULL, "\n", &sa) : NULL;
        lb = lb ? strtok_r(NULL, "\n", &sb) : NULL;
    }
    free(a);
    free(b);
    fail();
}

static void expect_node(struct fixture *f, const char *path, const char *val)
{
    const char *v = fake_xs_get(f->xs, path);

    if (!v || strcmp(v, val))
        fail_msg("%s: expected \"%s\", got %s%s%s", path, val, v ? "\"" : "",
                 v ? v : "(absent)", v ? "\"" : "");
}

static void expect_perms(struct fixture *f, const char *path,
                         uint32_t owner, uint32_t reader)
{
    struct xpci_xs_perm *perms = NULL;
    unsigned n = 0;

    assert_int_equal(fake_xs_ops.get_perms(f->xs, 0, path, &perms, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(perms[0].domid, owner);
    assert_int_equal(perms[0].perms, XPCI_XS_PERM_NONE);
    assert_int_equal(perms[1].domid, reader);
    assert_int_equal(perms[1].perms, XPCI_XS_PERM_READ);
    free(perms);
}

/* ------------------------------------------------------------ tests */

static void test_attach_first_function(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    assert_int_equal(attach1(f, NIC, &res), 0);
    assert_null(res->error);
    /* the backend and frontend libxl would write, as pciback left them */
    expect_node(f, BE "/frontend", FE);
    expect_node(f, BE "/frontend-id", "5");
    expect_node(f, BE "/online", "1");
    expect_node(f, BE "/domain", "guest");
    expect_node(f, BE "/num_devs", "1");
    expect_node(f, BE "/key-0", NIC);
    expect_node(f, BE "/dev-0", NIC);
    expect_node(f, BE "/opts-0",
                "msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict");
    expect_node(f, BE "/state-0", "3");
    expect_node(f, BE "/state", "4");
    expect_node(f, FE "/backend", BE);
    expect_node(f, FE "/backend-id", "0");
    assert_null(fake_xs_get(f->xs, BE "/vdevfn-0"));
    expect_perms(f, BE, 0, GUEST);
    expect_perms(f, FE, GUEST, 0);
    expect_node(f, "/libxl/pci/0000-01-00-0/domid", "5");
    /* the hypervisor side: owner, BARs (pages / ports) and the IRQ */
    assert_int_equal(fake_hv_owner(f->hv, NIC), GUEST);
    assert_true(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfebc0+0x20"));
    assert_true(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfebe0+0x4"));
    assert_true(fake_hv_has_grant(f->hv, GUEST, "ioport 0xc000+0x20"));
    assert_true(fake_hv_has_grant(f->hv, GUEST, "irq 16"));
    assert_true(fake_hv_has_grant(f->hv, GUEST, "pirq 16"));
    xpci_result_free(res);

    /* again: nothing to do */
    res = NULL;
    assert_int_equal(attach1(f, NIC, &res), 0);
    assert_int_equal(res->n_plan, 0);
    assert_non_null(strstr(res->notes[0], "already attached"));
    xpci_result_free(res);
}

static void test_hotplug_and_detach_renumbers(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    struct xpci_attached *list = NULL;
    size_t n = 0;

    assert_int_equal(attach1(f, NIC, &res), 0);
    xpci_result_free(res);
    assert_int_equal(attach1(f, HIDDEN "@4,permissive=1", &res), 0);
    xpci_result_free(res);
    expect_node(f, BE "/num_devs", "2");
    expect_node(f, BE "/dev-1", HIDDEN);
    expect_node(f, BE "/vdevfn-1", "20");
    expect_node(f, BE "/opts-1",
                "msitranslate=0,power_mgmt=0,permissive=1,rdm_policy=strict");
    expect_node(f, BE "/state-1", "3");
    expect_node(f, BE "/state", "4");

    assert_int_equal(xpci_attached_list(f->ctx, "5", &list, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].bdf, NIC);
    assert_string_equal(list[0].domain, "guest");
    assert_int_equal(list[0].vdevfn, -1);
    assert_string_equal(list[1].bdf, HIDDEN);
    assert_int_equal(list[1].vdevfn, 0x20);
    assert_int_equal(list[1].permissive, 1);
    assert_string_equal(list[1].vdev, "0000:00:01.00");
    xpci_attached_list_free(list, n);

    /* the first goes: the second moves down to index 0 */
    assert_int_equal(detach1(f, NIC, false, &res), 0);
    xpci_result_free(res);
    expect_node(f, BE "/num_devs", "1");
    expect_node(f, BE "/dev-0", HIDDEN);
    expect_node(f, BE "/key-0", HIDDEN);
    expect_node(f, BE "/vdevfn-0", "20");
    expect_node(f, BE "/state-0", "3");
    assert_null(fake_xs_get(f->xs, BE "/dev-1"));
    assert_null(fake_xs_get(f->xs, BE "/state-1"));
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    assert_false(fake_hv_has_grant(f->hv, GUEST, "irq 16") &&
                 fake_hv_grants(f->hv, GUEST) > 5);
    assert_null(fake_xs_get(f->xs, "/libxl/pci/0000-01-00-0/domid"));

    /* the last one takes both directories with it */
    assert_int_equal(detach1(f, "09:00.0", false, &res), 0);
    xpci_result_free(res);
    assert_int_equal(fake_xs_count(f->xs, BE), 0);
    assert_int_equal(fake_xs_count(f->xs, FE), 0);
    assert_int_equal(fake_hv_grants(f->hv, GUEST), 0);
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), XPCI_DOMID_IO);

    /* detaching what is not attached is a no-op */
    assert_int_equal(detach1(f, NIC, false, &res), 0);
    assert_int_equal(res->n_plan, 0);
    assert_non_null(strstr(res->notes[0], "not attached"));
    xpci_result_free(res);
}

static void test_two_specs_one_call(void **state)
{
    struct fixture *f = *state;
    const char *specs[] = {NIC, HIDDEN};
    struct xpci_result *res = NULL;

    assert_int_equal(xpci_attach(f->ctx, "5", specs, 2, &quick, &res), 0);
    xpci_result_free(res);
    expect_node(f, BE "/num_devs", "2");
    assert_int_equal(fake_hv_owner(f->hv, NIC), GUEST);
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), GUEST);
    assert_int_equal(xpci_detach(f->ctx, "guest", specs, 2, &quick, &res), 0);
    xpci_result_free(res);
    assert_int_equal(fake_xs_count(f->xs, BE), 0);
    assert_int_equal(fake_hv_grants(f->hv, GUEST), 0);
}

/* Every mutating call of a two-function attach fails in turn: each time
 * everything is as before. */
static void test_attach_rolls_back_at_every_step(void **state)
{
    struct fixture *f = *state;
    const char *specs[] = {NIC, HIDDEN};
    struct xpci_result *res = NULL;
    char *before = snapshot(f);
    int total;

    calls = 0;
    fail_at = -1; /* count only */
    assert_int_equal(xpci_attach(f->ctx, "guest", specs, 2, &quick, &res), 0);
    xpci_result_free(res);
    total = calls;
    assert_true(total > 10);
    assert_int_equal(xpci_detach(f->ctx, "guest", specs, 2, &quick, &res), 0);
    xpci_result_free(res);

    for (int k = 1; k <= total; k++) {
        char *after;

        calls = 0;
        fail_at = k;
        res = NULL;
        if (xpci_attach(f->ctx, "guest", specs, 2, &quick, &res) == 0) {
            /* a call whose failure is harmless (removing what is not
             * there): the attach must then be complete */
            fail_at = 0;
            assert_int_equal(fake_hv_owner(f->hv, NIC), GUEST);
            assert_string_equal(fake_xs_get(f->xs, BE "/state"), "4");
            assert_string_equal(fake_xs_get(f->xs, BE "/num_devs"), "2");
            xpci_result_free(res);
            assert_int_equal(xpci_detach(f->ctx, "guest", specs, 2, &quick,
                                         &res), 0);
            xpci_result_free(res);
            continue;
        }
        assert_non_null(res->error);
        if (!res->rolled_back)
            fail_msg("call %d: not rolled back: %s", k, res->error);
        fail_at = 0;
        after = snapshot(f);
        if (strcmp(before, after))
            report_diff(k, res->error, before, after);
        free(after);
        xpci_result_free(res);
    }
    free(before);
}

/* The same for detach: each failure leaves both functions attached. */
static void test_detach_rolls_back_at_every_step(void **state)
{
    struct fixture *f = *state;
    const char *specs[] = {NIC, HIDDEN};
    struct xpci_result *res = NULL;
    char *before;
    int total;

    assert_int_equal(xpci_attach(f->ctx, "guest", specs, 2, &quick, &res), 0);
    xpci_result_free(res);
    before = snapshot(f);
    calls = 0;
    fail_at = -1;
    assert_int_equal(xpci_detach(f->ctx, "guest", specs, 2, &quick, &res), 0);
    xpci_result_free(res);
    total = calls;
    assert_int_equal(xpci_attach(f->ctx, "guest", specs, 2, &quick, &res), 0);
    xpci_result_free(res);

    for (int k = 1; k <= total; k++) {
        char *after;

        calls = 0;
        fail_at = k;
        res = NULL;
        if (xpci_detach(f->ctx, "guest", specs, 2, &quick, &res) == 0) {
            /* a harmless failure: the detach must then be complete */
            fail_at = 0;
            assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
            assert_int_equal(fake_hv_grants(f->hv, GUEST), 0);
            assert_int_equal(fake_xs_count(f->xs, BE), 0);
            xpci_result_free(res);
            assert_int_equal(xpci_attach(f->ctx, "guest", specs, 2, &quick,
                                         &res), 0);
            xpci_result_free(res);
            continue;
        }
        fail_at = 0;
        if (!res->rolled_back)
            fail_msg("call %d: not rolled back: %s; undo: %s", k, res->error,
                     res->n_undo_errors ? res->undo_errors[0] : "-");
        after = snapshot(f);
        if (strcmp(before, after))
            report_diff(k, res->error, before, after);
        free(after);
        xpci_result_free(res);
    }
    free(before);
}

static void test_silent_guest_times_out_and_rolls_back(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char *before = snapshot(f), *after;

    f->mode = PEER_SILENT;
    assert_int_equal(attach1(f, NIC, &res), -ETIMEDOUT);
    assert_true(res->rolled_back);
    assert_non_null(strstr(res->error, NIC));
    assert_non_null(strstr(res->error, "did not take"));
    assert_non_null(strstr(res->error, "backend state 1"));
    after = snapshot(f);
    assert_string_equal(before, after);
    free(after);
    free(before);
    xpci_result_free(res);
}

/* snap with the backend's state Reconfiguring read as Connected, as it
 * was before an undo that leaves it for the guest to answer. */
static const char *reconfiguring(char *snap)
{
    static const char key[] = "/backend/pci/5/0/state=";
    char *p = strstr(snap, key);

    assert_non_null(p);
    p += strlen(key);
    assert_int_equal(*p, '7');
    *p = '4';
    return snap;
}

static void test_guest_that_keeps_a_function(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char *before, *after;

    assert_int_equal(attach1(f, NIC, &res), 0);
    xpci_result_free(res);
    before = snapshot(f);
    f->mode = PEER_NO_RELEASE;
    assert_int_equal(detach1(f, NIC, false, &res), -ETIMEDOUT);
    assert_non_null(strstr(res->error, "did not release"));
    assert_true(res->rolled_back);
    /* as before, but the backend is left Reconfiguring: the guest may
     * still answer (be_restore in pv.c) */
    after = snapshot(f);
    assert_string_equal(before, reconfiguring(after));
    free(after);
    xpci_result_free(res);

    /* -f takes it anyway */
    assert_int_equal(detach1(f, NIC, true, &res), 0);
    xpci_result_free(res);
    assert_int_equal(fake_xs_count(f->xs, BE), 0);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    assert_int_equal(fake_hv_grants(f->hv, GUEST), 0);
    free(before);
}

static void test_refusals(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    const char *specs[] = {NIC};
    char *before = snapshot(f), *after;

    assert_int_equal(xpci_attach(f->ctx, "nosuch", specs, 1, &quick, &res),
                     -ESRCH);
    assert_non_null(strstr(res->error, "nosuch"));
    xpci_result_free(res);

    assert_int_equal(attach1(f, PF, &res), -EPERM);
    assert_non_null(strstr(res->error, "not assignable"));
    assert_non_null(strstr(res->error, "assignable-add " PF));
    xpci_result_free(res);

    assert_int_equal(attach1(f, "0000:0a:00.0", &res), -ENODEV);
    xpci_result_free(res);

    assert_int_equal(attach1(f, "01:00.0,bogus", &res), -EINVAL);
    assert_non_null(strstr(res->error, "bogus"));
    xpci_result_free(res);

    assert_int_equal(xpci_attach(f->ctx, "0", specs, 1, &quick, &res),
                     -EINVAL);
    xpci_result_free(res);

    /* a domain created without passthrough has no IOMMU context */
    fake_hv_set_passthrough(f->hv, GUEST, false);
    assert_int_equal(attach1(f, NIC, &res), -EOPNOTSUPP);
    assert_non_null(strstr(res->error, "passthrough=\"enabled\""));
    assert_true(res->rolled_back);
    xpci_result_free(res);
    fake_hv_set_passthrough(f->hv, GUEST, true);

    after = snapshot(f);
    assert_string_equal(before, after);
    free(after);
    free(before);
}

/* A function another guest holds (attached by xl: libxl's layout) */
static void test_held_by_another_domain(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    const char *devs[] = {HIDDEN};

    fake_xs_set(f->xs, "/local/domain/0/backend/pci/6/0/num_devs", "1");
    fake_xs_set(f->xs, "/local/domain/0/backend/pci/6/0/dev-0", HIDDEN);
    fake_hv_set_owner(f->hv, HIDDEN, OTHER);
    assert_int_equal(attach1(f, HIDDEN, &res), -EBUSY);
    assert_non_null(strstr(res->error, "other (d6)"));
    xpci_result_free(res);
    assert_int_equal(xpci_detach(f->ctx, "guest", devs, 1, &quick, &res),
                     -EBUSY);
    assert_non_null(strstr(res->error, "other (d6)"));
    xpci_result_free(res);
}

/* A guest destroyed while its driver would not let go: libxl gives up and
 * leaves its backend behind.  The domain is gone, so it holds nothing; its
 * backend goes first, before the function is exported again. */
#define STALE "/local/domain/0/backend/pci/7/0"
static void test_backend_left_by_a_destroyed_domain(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    const char *devs[] = {HIDDEN};

    fake_xs_set(f->xs, STALE "/frontend", "/local/domain/7/device/pci/0");
    fake_xs_set(f->xs, STALE "/state", "6");
    fake_xs_set(f->xs, STALE "/num_devs", "1");
    fake_xs_set(f->xs, STALE "/key-0", HIDDEN);
    fake_xs_set(f->xs, STALE "/dev-0", HIDDEN);
    fake_xs_set(f->xs, STALE "/state-0", "5");
    fake_xs_set(f->xs, "/local/domain/0/error/backend/pci/7/0/error",
                "16 remove timed out");

    /* not a holder to detach from */
    assert_int_equal(xpci_detach(f->ctx, "guest", devs, 1, &quick, &res), 0);
    assert_null(res->error);
    assert_non_null(strstr(res->notes[0], "not attached"));
    xpci_result_free(res);
    expect_node(f, STALE "/dev-0", HIDDEN);

    res = NULL;
    assert_int_equal(attach1(f, HIDDEN, &res), 0);
    assert_null(res->error);
    assert_non_null(strstr(res->notes[0], "domain 7, which no longer exists"));
    assert_true(res->n_plan > 2);
    assert_non_null(strstr(res->plan[0], "rm /local/domain/0/backend/pci/7"));
    assert_non_null(
        strstr(res->plan[1], "rm /local/domain/0/error/backend/pci/7"));
    xpci_result_free(res);
    assert_int_equal(fake_xs_count(f->xs, "/local/domain/0/backend/pci/7"), 0);
    assert_int_equal(
        fake_xs_count(f->xs, "/local/domain/0/error/backend/pci/7"), 0);
    expect_node(f, BE "/dev-0", HIDDEN);
    expect_node(f, BE "/state-0", "3");
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), GUEST);
}

/* xl pci-attach's work, detached by xpci */
static void test_detach_what_libxl_attached(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    fake_xs_set(f->xs, BE "/frontend", FE);
    fake_xs_set(f->xs, BE "/state", "4");
    fake_xs_set(f->xs, BE "/num_devs", "1");
    fake_xs_set(f->xs, BE "/key-0", HIDDEN);
    fake_xs_set(f->xs, BE "/dev-0", HIDDEN);
    fake_xs_set(f->xs, BE "/state-0", "3");
    fake_xs_set(f->xs, BE "/name-0", "nic1");
    fake_xs_set(f->xs, BE "/opts-0", "msitranslate=0,power_mgmt=0,"
                                     "permissive=0,rdm_policy=relaxed");
    fake_xs_set(f->xs, FE "/state", "4");
    fake_xs_set(f->xs, "/libxl/pci/0000-09-00-0/domid", "5");
    fake_hv_set_owner(f->hv, HIDDEN, GUEST);
    assert_int_equal(detach1(f, "nic1", false, &res), 0);
    assert_null(res->error);
    xpci_result_free(res);
    assert_int_equal(fake_xs_count(f->xs, BE), 0);
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), XPCI_DOMID_IO);
    assert_null(fake_xs_get(f->xs, "/libxl/pci/0000-09-00-0/domid"));
}

static void test_dry_run_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct xpci_attach_opts o = {.dry_run = true};
    const char *specs[] = {NIC};
    struct xpci_result *res = NULL;
    char *before = snapshot(f), *after;
    bool assign = false, pv = false;

    assert_int_equal(xpci_attach(f->ctx, "guest", specs, 1, &o, &res), 0);
    for (unsigned i = 0; i < res->n_plan; i++) {
        assign |= strstr(res->plan[i], "xc_assign_device(d5") != NULL;
        pv |= strstr(res->plan[i], "pciback backend of d5") != NULL;
    }
    assert_true(assign && pv);
    xpci_result_free(res);
    after = snapshot(f);
    assert_string_equal(before, after);
    free(after);
    free(before);
}

/* Stopped after each journal record of an attach (as by kill -9: nothing
 * after the record runs), then xpci_recover: everything is as before.  The
 * fakes live in this process, so the stop is a signal that jumps back
 * here; what the dead operation left open is closed as the kernel would. */
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

static void test_crash_at_every_record(void **state)
{
    struct fixture *f = *state;
    const char *specs[] = {NIC, HIDDEN};
    char *before = snapshot(f);
    struct sigaction sa = {.sa_handler = crash_handler};
    int k;

    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    for (k = 1;; k++) {
        struct xpci_result *res = NULL;
        volatile int r = 1;
        char env[16], *after;
        int first_fd = dup(0);

        close(first_fd);
        snprintf(env, sizeof(env), "%d", k);
        setenv("XPCI_TEST_CRASH_AFTER", env, 1);
        setenv("XPCI_TEST_CRASH_SIGNAL", "10", 1); /* SIGUSR1 */
        abandoned_begin();
        if (sigsetjmp(crash_jmp, 1) == 0)
            r = xpci_attach(f->ctx, "guest", specs, 2, &quick, &res);
        abandoned_end();
        unsetenv("XPCI_TEST_CRASH_AFTER");
        unsetenv("XPCI_TEST_CRASH_SIGNAL");
        if (r == 0) {
            xpci_result_free(res);
            break; /* k is past the last record */
        }
        assert_int_equal(r, 1);
        close_fds_from(first_fd);
        res = NULL;
        assert_int_equal(xpci_recover(f->ctx, &res), 0);
        if (res->n_undo_errors)
            fail_msg("record %d: %s", k, res->undo_errors[0]);
        xpci_result_free(res);
        after = snapshot(f);
        if (strcmp(before, after))
            report_diff(k, "crash", before, after);
        free(after);
    }
    assert_true(k > 20);
    free(before);
}


/* ------------------------------------------------------------ HVM */
/*
 * A device model for domain OTHER (made HVM): a thread serving QMP on
 * <run_dir>/qmp-libxl-6, one connection after another.  It keeps the
 * passthrough devices added, answers query-pci with them, refuses
 * device_add when told to, and sends DEVICE_DELETED after device_del.
 */
struct fake_dm {
    char dir[96];
    int lfd;
    pthread_t thread;
    bool refuse_add;
    bool hold_del;         /* device_del answered; the guest never ejects */
    char die_on_del[32];   /* device_del of this id: the domain is destroyed
                              (and its device model with it) */
    bool die_shut_down;    /* ... or only shut down (crashed, kept) */
    volatile bool stopped; /* kill -STOP: connections wait, no greeting */
    struct fake_hv *hv;
    size_t hv_calls_at_del; /* hypervisor calls made before device_del */
    char ids[4][32];
    int slots[4];
    unsigned n;
    char log[4096];
};

/* A client that gave up has closed its end: no SIGPIPE for that. */
static void dm_send(int fd, const char *s)
{
    size_t len = strlen(s);
    ssize_t r = send(fd, s, len, MSG_NOSIGNAL);

    assert_true(r == (ssize_t)len || (r < 0 && errno == EPIPE));
}

static void dm_json_str(const char *line, const char *key, char *out,
                        size_t len)
{
    char pat[48];
    const char *p;

    snprintf(pat, sizeof(pat), "\"%s\"", key);
    out[0] = '\0';
    if (!(p = strstr(line, pat)) || !(p = strchr(p + strlen(pat), '"')))
        return;
    snprintf(out, len, "%.*s", (int)strcspn(p + 1, "\""), p + 1);
}

static void dm_serve(struct fake_dm *dm, int fd)
{
    char buf[4096], reply[2048];
    size_t have = 0;

    dm_send(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7}}, "
                "\"capabilities\": []}}\n");
    for (;;) {
        char *nl, id[32], cmd[32], dev[32];
        ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);

        if (r <= 0)
            return;
        have += (size_t)r;
        buf[have] = '\0';
        while ((nl = strchr(buf, '\n'))) {
            *nl = '\0';
            if (strlen(dm->log) + strlen(buf) + 2 < sizeof(dm->log)) {
                strcat(dm->log, buf);
                strcat(dm->log, "\n");
            }
            dm_json_str(buf, "execute", cmd, sizeof(cmd));
            dm_json_str(buf, "id", dev, sizeof(dev));
            {
                /* the command's id comes after its arguments' */
                const char *p = NULL, *q = buf;

                while ((q = strstr(q, "\"id\":")))
                    p = q++;
                snprintf(id, sizeof(id), "%.*s",
                         p ? (int)strcspn(p + 5, ",}") : 1, p ? p + 5 : "0");
            }
            if (!strcmp(cmd, "device_add") && dm->refuse_add) {
                snprintf(reply, sizeof(reply),
                         "{\"error\": {\"class\": \"GenericError\", \"desc\":"
                         " \"xen-pci-passthrough: no such host device\"}, "
                         "\"id\": %s}\n", id);
            } else if (!strcmp(cmd, "device_add")) {
                char did[32];
                const char *args = strstr(buf, "\"arguments\"");

                dm_json_str(args ? args : buf, "id", did, sizeof(did));
                snprintf(dm->ids[dm->n], sizeof(dm->ids[0]), "%s", did);
                dm->slots[dm->n] = 4 + (int)dm->n;
                dm->n++;
                snprintf(reply, sizeof(reply), "{\"return\": {}, \"id\": %s}\n",
                         id);
            } else if (!strcmp(cmd, "device_del")) {
                char did[32];
                const char *args = strstr(buf, "\"arguments\"");
                const char *const *c = fake_hv_calls(dm->hv);

                dm_json_str(args ? args : buf, "id", did, sizeof(did));
                for (dm->hv_calls_at_del = 0; c[dm->hv_calls_at_del];)
                    dm->hv_calls_at_del++;
                if (dm->die_on_del[0] && !strcmp(did, dm->die_on_del)) {
                    /* accepted, then QEMU goes with its domain */
                    snprintf(reply, sizeof(reply),
                             "{\"return\": {}, \"id\": %s}\n", id);
                    dm_send(fd, reply);
                    if (dm->die_shut_down)
                        fake_hv_shutdown_domain(dm->hv, OTHER);
                    else
                        fake_hv_destroy_domain(dm->hv, OTHER);
                    shutdown(dm->lfd, SHUT_RDWR);
                    return;
                }
                if (dm->hold_del) {
                    snprintf(reply, sizeof(reply),
                             "{\"return\": {}, \"id\": %s}\n", id);
                    dm_send(fd, reply);
                    have -= (size_t)(nl + 1 - buf);
                    memmove(buf, nl + 1, have + 1);
                    continue;
                }
                for (unsigned i = 0; i < dm->n; i++)
                    if (!strcmp(dm->ids[i], did)) {
                        dm->ids[i][0] = '\0';
                    }
                snprintf(reply, sizeof(reply),
                         "{\"return\": {}, \"id\": %s}\n{\"event\": "
                         "\"DEVICE_DELETED\", \"data\": {\"device\": \"%s\","
                         " \"path\": \"/machine/peripheral/%s\"}, "
                         "\"timestamp\": {\"seconds\": 1, "
                         "\"microseconds\": 2}}\n", id, did, did);
            } else if (!strcmp(cmd, "query-pci")) {
                char devs[1024] = "";

                for (unsigned i = 0; i < dm->n; i++) {
                    char one[256];

                    if (!dm->ids[i][0])
                        continue;
                    snprintf(one, sizeof(one),
                             "%s{\"bus\": 0, \"slot\": %d, \"function\": 0, "
                             "\"qdev_id\": \"%s\", \"class_info\": "
                             "{\"class\": 512}, \"id\": {\"vendor\": 32902, "
                             "\"device\": 4307}, \"regions\": []}",
                             devs[0] ? ", " : "", dm->slots[i], dm->ids[i]);
                    strncat(devs, one, sizeof(devs) - strlen(devs) - 1);
                }
                snprintf(reply, sizeof(reply),
                         "{\"return\": [{\"bus\": 0, \"devices\": [%s]}], "
                         "\"id\": %s}\n", devs, id);
            } else {
                snprintf(reply, sizeof(reply), "{\"return\": {}, \"id\": %s}\n",
                         id);
            }
            dm_send(fd, reply);
            have -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, have + 1);
        }
    }
}

static void *dm_thread(void *arg)
{
    struct fake_dm *dm = arg;
    int fd;

    while ((fd = accept(dm->lfd, NULL, NULL)) >= 0) {
        char c;

        if (dm->stopped) {
            /* what a stopped QEMU's client sees: nothing, until it
             * gives up and closes */
            while (read(fd, &c, 1) > 0)
                ;
        } else {
            dm_serve(dm, fd);
        }
        close(fd);
    }
    return NULL;
}

static void dm_start(struct fixture *f, struct fake_dm *dm)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct xpci_params p = {
        .sysfs_root = fake_sysfs_sys(f->t),
        .proc_root = fake_sysfs_proc(f->t),
        .sysfs_ops = &fake_sysfs_ops,
        .sysfs_priv = f->t,
        .hv_ops = &wrapped_hv,
        .hv_priv = f->hv,
        .xs_ops = &wrapped_xs,
        .xs_priv = f->xs,
        .state_dir = f->state_dir,
        .audit_log = f->audit,
        .run_dir = dm->dir,
        .flags = XPCI_CTX_NO_SYSLOG,
    };

    dm->hv = f->hv;
    snprintf(dm->dir, sizeof(dm->dir), "%s/run", fake_sysfs_root(f->t));
    assert_int_equal(mkdir(dm->dir, 0700), 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp-libxl-6", dm->dir);
    dm->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(dm->lfd >= 0);
    assert_int_equal(bind(dm->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(dm->lfd, 4), 0);
    assert_int_equal(pthread_create(&dm->thread, NULL, dm_thread, dm), 0);
    fake_hv_set_hvm(f->hv, OTHER, true);
    fake_xs_set(f->xs, "/libxl/6/type", "hvm");
    xpci_ctx_free(f->ctx);
    assert_int_equal(xpci_ctx_new(&f->ctx, &p), 0);
}

static void dm_stop(struct fake_dm *dm)
{
    shutdown(dm->lfd, SHUT_RDWR);
    /* a model that died closed its socket: accept fails either way */
    close(dm->lfd);
    pthread_join(dm->thread, NULL);
}

#define HBE "/local/domain/0/backend/pci/6/0"

static void test_hvm_through_the_device_model(void **state)
{
    struct fixture *f = *state;
    struct fake_dm dm = {0};
    const char *specs[] = {NIC "@7,permissive=1"};
    struct xpci_result *res = NULL;

    dm_start(f, &dm);
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 1, &patient, &res), 0);
    xpci_result_free(res);
    /* libxl's device_add, exactly */
    assert_non_null(strstr(dm.log, "\"execute\":\"device_add\""));
    assert_non_null(strstr(dm.log, "\"driver\":\"xen-pci-passthrough\""));
    assert_non_null(strstr(dm.log, "\"id\":\"pci-pt-01_00.0\""));
    assert_non_null(strstr(dm.log, "\"hostaddr\":\"0000:01:00.0\""));
    assert_non_null(strstr(dm.log, "\"addr\":\"7.0\""));
    assert_non_null(strstr(dm.log, "\"permissive\":true"));
    /* the backend entry libxl keeps for HVM guests, with the devfn QEMU
     * reported, no hot-plug cycle */
    assert_string_equal(fake_xs_get(f->xs, HBE "/dev-0"), NIC);
    assert_string_equal(fake_xs_get(f->xs, HBE "/vdevfn-0"), "20");
    assert_string_equal(fake_xs_get(f->xs, HBE "/state"), "1");
    assert_int_equal(fake_hv_owner(f->hv, NIC), OTHER);
    assert_true(fake_hv_has_grant(f->hv, OTHER, "iomem 0xfebc0+0x20"));

    dm.log[0] = '\0';
    {
        const char *devs[] = {NIC};

        assert_int_equal(xpci_detach(f->ctx, "6", devs, 1, &patient, &res), 0);
        xpci_result_free(res);
    }
    assert_non_null(strstr(dm.log, "\"execute\":\"device_del\""));
    assert_int_equal(fake_xs_count(f->xs, HBE), 0);
    assert_int_equal(fake_hv_grants(f->hv, OTHER), 0);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);

    /* QEMU refuses: its words reach the error, and nothing stays */
    dm.refuse_add = true;
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 1, &patient, &res),
                     -EIO);
    assert_non_null(strstr(res->error, "no such host device"));
    assert_true(res->rolled_back);
    xpci_result_free(res);
    assert_int_equal(fake_hv_grants(f->hv, OTHER), 0);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    assert_int_equal(fake_xs_count(f->xs, HBE), 0);
    dm_stop(&dm);
}

/*
 * The guest was asked (device_del accepted) but has not ejected the
 * function when the wait ends: the request stands, so the function must
 * not be plugged back (a device_add racing the guest's eject), and it
 * stays the guest's (assigned, granted, listed) until the guest lets it go;
 * a second detach then finishes without asking again.
 */
static void test_hvm_pending_unplug_is_not_plugged_back(void **state)
{
    struct fixture *f = *state;
    struct fake_dm dm = {0};
    const char *specs[] = {NIC}, *devs[] = {NIC};
    struct xpci_result *res = NULL;

    dm_start(f, &dm);
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 1, &patient, &res), 0);
    xpci_result_free(res);
    dm.hold_del = true;
    dm.log[0] = '\0';
    assert_int_equal(xpci_detach(f->ctx, "6", devs, 1, &patient, &res),
                     -EINPROGRESS);
    assert_non_null(strstr(dm.log, "\"execute\":\"device_del\""));
    assert_null(strstr(dm.log, "device_add"));
    assert_non_null(strstr(res->error, "stands"));
    assert_non_null(strstr(res->error, "xpci detach"));
    assert_int_equal(res->n_undo_errors, 0);
    xpci_result_free(res);
    assert_int_equal(fake_hv_owner(f->hv, NIC), OTHER);
    assert_true(fake_hv_has_grant(f->hv, OTHER, "iomem 0xfebc0+0x20"));
    assert_string_equal(fake_xs_get(f->xs, HBE "/dev-0"), NIC);

    /* the guest ejects it; detach again */
    dm.hold_del = false;
    dm.ids[0][0] = '\0';
    dm.log[0] = '\0';
    assert_int_equal(xpci_detach(f->ctx, "6", devs, 1, &patient, &res), 0);
    xpci_result_free(res);
    assert_null(strstr(dm.log, "device_del"));
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    assert_int_equal(fake_hv_grants(f->hv, OTHER), 0);
    assert_int_equal(fake_xs_count(f->xs, HBE), 0);
    dm_stop(&dm);
}

static long call_index(const char *const *log, const char *prefix,
                       size_t from)
{
    for (size_t i = from; log[i]; i++)
        if (!strncmp(log[i], prefix, strlen(prefix)))
            return (long)i;
    return -1;
}

/*
 * HVM detach in libxl's order (libxl_pci.c, 4.18: do_pci_remove,
 * pci_remove_detached): device_del and the wait, then the grants are
 * revoked (the legacy IRQ's pirq unmapped before its permission goes),
 * then the function is reset and deassigned; nothing is revoked while the
 * device model still has the function.
 */
static void test_hvm_detach_in_libxl_order(void **state)
{
    struct fixture *f = *state;
    struct fake_dm dm = {0};
    const char *specs[] = {NIC}, *devs[] = {NIC};
    struct xpci_result *res = NULL;
    const char *const *c;
    long unmap, irq_revoke, iomem_revoke, deassign;

    dm_start(f, &dm);
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 1, &patient, &res), 0);
    xpci_result_free(res);
    fake_hv_clear_calls(f->hv);
    assert_int_equal(xpci_detach(f->ctx, "6", devs, 1, &patient, &res), 0);
    xpci_result_free(res);
    c = fake_hv_calls(f->hv);
    iomem_revoke = call_index(c, "iomem_permission(6, 0xfebc0, 0x20, 0)", 0);
    unmap = call_index(c, "unmap_pirq(6, 16)", 0);
    irq_revoke = call_index(c, "irq_permission(6, 16, 0)", 0);
    deassign = call_index(c, "deassign(6, 0000:01:00.0)", 0);
    assert_true(iomem_revoke >= (long)dm.hv_calls_at_del);
    assert_true(unmap >= (long)dm.hv_calls_at_del);
    assert_true(unmap < irq_revoke);
    assert_true(irq_revoke < deassign);
    assert_true(iomem_revoke < deassign);
    dm_stop(&dm);
}

/*
 * The domain goes (destroyed, or crashed and restarted) while xpci works
 * on it: what cannot be put back into a guest that no longer exists is
 * not an undo failure.  Xen quarantined its functions with it.
 */
static void test_hvm_undo_after_the_domain_is_gone(void **state)
{
    struct fixture *f = *state;
    struct fake_dm dm = {0};
    const char *specs[] = {NIC, HIDDEN}, *devs[] = {NIC, HIDDEN};
    struct xpci_result *res = NULL;
    int r;

    dm_start(f, &dm);
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 2, &patient, &res), 0);
    xpci_result_free(res);
    snprintf(dm.die_on_del, sizeof(dm.die_on_del), "pci-pt-09_00.0");
    r = xpci_detach(f->ctx, "6", devs, 2, &patient, &res);
    assert_true(r < 0);
    assert_int_equal(res->n_undo_errors, 0);
    assert_true(has_note(res, "no longer exists"));
    xpci_result_free(res);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), XPCI_DOMID_IO);
    /* no record names the gone domain */
    assert_null(fake_xs_get(f->xs, "/libxl/pci/0000-01-00-0/domid"));
    dm_stop(&dm);
}

/*
 * A legacy IRQ hot-plugged into an HVM guest that takes its interrupts
 * over event channels becomes its pirq of the same number, which a Linux
 * guest may have given one of its emulated devices: said, only then.
 */
static void test_hvm_pirq_clash_noted(void **state)
{
    struct fixture *f = *state;
    struct fake_dm dm = {0};
    const char *specs[] = {NIC}, *devs[] = {NIC};
    struct xpci_result *res = NULL;

    dm_start(f, &dm);
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 1, &patient, &res), 0);
    assert_false(has_note(res, "pirq"));
    xpci_result_free(res);
    assert_int_equal(xpci_detach(f->ctx, "6", devs, 1, &patient, &res), 0);
    xpci_result_free(res);

    fake_hv_set_pirqs(f->hv, OTHER, true);
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 1, &patient, &res), 0);
    assert_true(has_note(res, NIC ": its IRQ 16 becomes d6's pirq 16"));
    assert_true(has_note(res, "pci=[...]"));
    xpci_result_free(res);
    dm_stop(&dm);
}

/*
 * A detach that cannot reach the device model (stopped: no QMP greeting)
 * sent it nothing: there is nothing to plug back, and trying to would
 * only fail the same way (UNDO FAILED).  The function stays the guest's,
 * all of it, and a detach once the model runs again takes it.
 */
static void test_hvm_detach_with_the_model_stopped_undoes_nothing(void **state)
{
    struct fixture *f = *state;
    struct fake_dm dm = {0};
    const char *specs[] = {NIC}, *devs[] = {NIC};
    struct xpci_result *res = NULL;
    int r;

    dm_start(f, &dm);
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 1, &patient, &res), 0);
    xpci_result_free(res);
    dm.stopped = true;
    r = xpci_detach(f->ctx, "6", devs, 1, &quick, &res);
    assert_true(r < 0);
    assert_int_equal(res->n_undo_errors, 0);
    assert_true(res->rolled_back);
    assert_non_null(strstr(res->error, "device_del"));
    xpci_result_free(res);
    assert_null(strstr(dm.log, "device_del"));
    assert_int_equal(fake_hv_owner(f->hv, NIC), OTHER);
    assert_true(fake_hv_has_grant(f->hv, OTHER, "iomem 0xfebc0+0x20"));
    assert_non_null(fake_xs_get(f->xs, HBE "/dev-0"));

    dm.stopped = false;
    assert_int_equal(xpci_detach(f->ctx, "6", devs, 1, &patient, &res), 0);
    xpci_result_free(res);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    dm_stop(&dm);
}

/*
 * The guest crashes while xpci takes a function back and its device model
 * goes, but the domain is kept (on_crash="preserve", or not destroyed
 * yet): it runs no more, so nothing is put back into it and that is no
 * undo failure.  What it still holds stays its own until it is destroyed;
 * nothing new goes into it.
 */
static void test_hvm_undo_after_the_guest_crashed(void **state)
{
    struct fixture *f = *state;
    struct fake_dm dm = {0};
    const char *specs[] = {NIC, HIDDEN}, *devs[] = {NIC, HIDDEN};
    struct xpci_result *res = NULL;
    int r;

    dm_start(f, &dm);
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 2, &patient, &res), 0);
    xpci_result_free(res);
    snprintf(dm.die_on_del, sizeof(dm.die_on_del), "pci-pt-09_00.0");
    dm.die_shut_down = true;
    r = xpci_detach(f->ctx, "6", devs, 2, &patient, &res);
    assert_true(r < 0);
    assert_int_equal(res->n_undo_errors, 0);
    assert_true(has_note(res, "domain 6 has shut down"));
    xpci_result_free(res);
    /* the device model let NIC go: it went all the way to quarantine */
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    assert_false(fake_hv_has_grant(f->hv, OTHER, "iomem 0xfebc0+0x20"));
    /* HIDDEN is the crashed guest's until it is destroyed */
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), OTHER);

    r = xpci_attach(f->ctx, "6", specs, 1, &patient, &res);
    assert_int_equal(r, -ESHUTDOWN);
    assert_non_null(strstr(res->error, "has shut down"));
    xpci_result_free(res);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);

    fake_hv_destroy_domain(f->hv, OTHER);
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), XPCI_DOMID_IO);
    dm_stop(&dm);
}

/*
 * xpci attached for an HVM guest: the guest address is where the device
 * model has the function (query-pci), not pciback's vdev-N, and the state
 * is the model's view, not the backend's never-connected state-N.
 */
static void test_hvm_attached_shows_the_device_model_view(void **state)
{
    struct fixture *f = *state;
    struct fake_dm dm = {0};
    const char *specs[] = {NIC};
    struct xpci_result *res = NULL;
    struct xpci_attached *l = NULL;
    size_t n = 0;

    dm_start(f, &dm);
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 1, &patient, &res), 0);
    xpci_result_free(res);
    /* what pciback writes when it sees the backend */
    fake_xs_set(f->xs, HBE "/vdev-0", "0000:00:00.00");
    assert_int_equal(xpci_attached_list(f->ctx, "other", &l, &n), 0);
    assert_int_equal(n, 1);
    assert_true(l[0].hvm);
    assert_int_equal(l[0].vdevfn, 4 << 3);
    assert_string_equal(l[0].vdev, "0000:00:04.0");
    assert_int_equal(l[0].state, -1);
    assert_int_equal(l[0].dm_present, 1);
    xpci_attached_list_free(l, n);

    /* the model no longer has it (the guest ejected it on its own) */
    dm.ids[0][0] = '\0';
    assert_int_equal(xpci_attached_list(f->ctx, "other", &l, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(l[0].dm_present, 0);
    assert_string_equal(l[0].vdev, "0000:00:04.0"); /* libxl's record */
    xpci_attached_list_free(l, n);

    /* no model to ask */
    dm_stop(&dm);
    assert_int_equal(xpci_attached_list(f->ctx, "other", &l, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(l[0].dm_present, -1);
    xpci_attached_list_free(l, n);
}

/* msitranslate and power_mgmt mean nothing to qemu-xen: said, not
 * refused. */
static void test_hvm_notes_msitranslate_and_power_mgmt(void **state)
{
    struct fixture *f = *state;
    struct fake_dm dm = {0};
    const char *specs[] = {NIC ",msitranslate=1,power_mgmt=1"};
    struct xpci_result *res = NULL;

    dm_start(f, &dm);
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 1, &patient, &res), 0);
    assert_true(has_note(res, "msitranslate=1 has no effect"));
    assert_true(has_note(res, "power_mgmt=1 has no effect"));
    xpci_result_free(res);
    dm_stop(&dm);
}

/* A legacy IRQ of 255 is the "not connected" interrupt line: nothing to
 * map or grant, and no error. */
static void test_irq_255_is_not_connected(void **state)
{
    struct fixture *f = *state;
    struct fake_pci p = fake_pci_default(0x8086, 0x10d3, 0x020000);
    const char *specs[] = {"0000:00:0a.0"};
    struct xpci_result *res = NULL;
    const char *const *c;

    p.pcie_type = 9; /* root complex integrated endpoint */
    p.iommu_group = 22;
    p.res[0] = (struct fake_res){.start = 0xfe400000, .size = 0x20000};
    p.irq = 255;
    p.driver = "pciback";
    fake_sysfs_add_device(f->t, "0000:00:0a.0", NULL, &p);
    fake_sysfs_pciback_add_slot(f->t, "0000:00:0a.0");
    fake_hv_set_owner(f->hv, "0000:00:0a.0", XPCI_DOMID_IO);
    fake_hv_clear_calls(f->hv);
    assert_int_equal(xpci_attach(f->ctx, "guest", specs, 1, &quick, &res), 0);
    assert_true(has_note(res, "IRQ 255"));
    xpci_result_free(res);
    for (c = fake_hv_calls(f->hv); *c; c++) {
        assert_null(strstr(*c, "map_pirq"));
        assert_null(strstr(*c, "irq_permission"));
    }
    assert_true(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfe400+0x20"));
}

/*
 * A journal left after a crash names the ranges and IRQs recover gives
 * back or takes away: values outside the port or page-frame space, that
 * wrap, are empty, signed or not numbers at all are refused with the
 * step named, and the hypervisor is never asked.
 */
static void test_recover_refuses_hostile_grant_values(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[][2] = {
        {"ioport-revoke", "fff0 100"},  /* past port 0xffff */
        {"ioport-revoke", "10000 1"},
        {"ioport-revoke", "1f0 0"},      /* empty */
        {"ioport-revoke", "-10 8"},
        {"ioport-revoke", " 1f0 8"},
        {"ioport-revoke", "0x1f0 8"},
        {"iomem-revoke", "ffffffffffffff00 200"}, /* wraps */
        {"iomem-revoke", "10000000000 1"},        /* past 52 bits */
        {"iomem-revoke", "fe400 20 1"},
        {"iomem-revoke", "fe400"},
        {"irq-revoke", "-1"},
        {"irq-revoke", "99999999999"},
        {"irq-revoke", "0"},
        {"irq-revoke", "12abc"},
        {"irq-allow", ""},
        {"assign", "7"},
    };
    char path[600];

    snprintf(path, sizeof(path), "%s/journal", f->state_dir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct xpci_result *res = NULL;
        const char *const *c;
        FILE *j = fopen(path, "w");

        assert_non_null(j);
        /* the step's undo is the hostile one; done, so recover runs it */
        fprintf(j, "xpci-journal 1\tattach\t4242\n"
                   "intent\t0\t%s\tnone\t-\t-\t%s\t%d\t%s\n"
                   "done\t0\t1\n",
                NIC, bad[i][0], GUEST, bad[i][1]);
        assert_int_equal(fclose(j), 0);
        fake_hv_clear_calls(f->hv);
        xpci_recover(f->ctx, &res);
        assert_non_null(res);
        if (res->n_undo_errors == 0 && !res->error)
            fail_msg("%s \"%s\": recover accepted it", bad[i][0],
                     bad[i][1]);
        for (c = fake_hv_calls(f->hv); *c; c++)
            if (strstr(*c, "permission") || strstr(*c, "pirq") ||
                strstr(*c, "assign("))
                fail_msg("%s \"%s\": the hypervisor was asked: %s",
                         bad[i][0], bad[i][1], *c);
        xpci_result_free(res);
        unlink(path);
    }
}

/* No device model listening: a clear error naming the socket. */
static void test_hvm_without_device_model(void **state)
{
    struct fixture *f = *state;
    const char *specs[] = {NIC};
    struct xpci_result *res = NULL;

    fake_hv_set_hvm(f->hv, OTHER, true);
    fake_xs_set(f->xs, "/libxl/6/type", "hvm");
    assert_true(xpci_attach(f->ctx, "other", specs, 1, &quick, &res) < 0);
    assert_non_null(strstr(res->error, "qmp-libxl-6"));
    assert_true(res->rolled_back);
    xpci_result_free(res);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
}

static void test_pvh_refused(void **state)
{
    struct fixture *f = *state;
    const char *specs[] = {NIC};
    struct xpci_result *res = NULL;

    fake_xs_set(f->xs, "/libxl/6/type", "pvh");
    assert_int_equal(xpci_attach(f->ctx, "other", specs, 1, &quick, &res),
                     -EOPNOTSUPP);
    assert_non_null(strstr(res->error, "pvh"));
    xpci_result_free(res);
}

/* ------------------------------------------- shared and page-sized grants */

/* NIC and HIDDEN share IRQ 16 (as two functions on one GSI do): one
 * leaving, or failing to arrive, must not take it from the other. */
static void test_shared_irq_survives_rollback_and_detach(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    assert_int_equal(attach1(f, HIDDEN, &res), 0);
    xpci_result_free(res);
    assert_true(fake_hv_has_grant(f->hv, GUEST, "irq 16"));

    /* the NIC's attach fails after its IRQ step and is rolled back */
    fake_hv_fail(f->hv, "assign", EBUSY, 1);
    assert_int_equal(attach1(f, NIC, &res), -EBUSY);
    assert_true(res->rolled_back);
    xpci_result_free(res);
    assert_true(fake_hv_has_grant(f->hv, GUEST, "irq 16"));
    assert_true(fake_hv_has_grant(f->hv, GUEST, "pirq 16"));
    assert_false(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfebc0+0x20"));

    /* attached, then detached alone: HIDDEN keeps the IRQ */
    assert_int_equal(attach1(f, NIC, &res), 0);
    xpci_result_free(res);
    assert_int_equal(detach1(f, NIC, false, &res), 0);
    assert_true(res->n_notes > 0);
    assert_non_null(strstr(res->notes[0], "IRQ 16 stays"));
    assert_non_null(strstr(res->notes[0], HIDDEN));
    xpci_result_free(res);
    assert_true(fake_hv_has_grant(f->hv, GUEST, "irq 16"));
    assert_true(fake_hv_has_grant(f->hv, GUEST, "pirq 16"));
    assert_false(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfebc0+0x20"));
    assert_false(fake_hv_has_grant(f->hv, GUEST, "ioport 0xc000+0x20"));
    assert_true(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfe600+0x20"));

    /* its last user's detach revokes it */
    assert_int_equal(detach1(f, HIDDEN, false, &res), 0);
    xpci_result_free(res);
    assert_int_equal(fake_hv_grants(f->hv, GUEST), 0);
}

#define SUB_A "0000:0a:00.0" /* BAR 0xfa000000+0x800 */
#define SUB_B "0000:0a:00.1" /* BAR 0xfa000800+0x800: A's page */
#define CROSS "0000:0a:00.2" /* BAR 0xfa001800+0x1000: two pages; and a
                                64-bit BAR above 4 GiB */

/* A card of three assignable functions with small BARs, in pciback. */
static void add_sub_page_card(struct fixture *f)
{
    static const struct {
        const char *bdf;
        uint64_t start, size;
    } fns[] = {
        {SUB_A, 0xfa000000, 0x800},
        {SUB_B, 0xfa000800, 0x800},
        {CROSS, 0xfa001800, 0x1000},
    };

    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        struct fake_pci p = fake_pci_default(0x8086, 0x1521, 0x020000);

        p.multifunction = true;
        p.pcie_type = 0;
        p.iommu_group = 40 + (int)i;
        p.driver = "pciback";
        p.res[0] = (struct fake_res){.start = fns[i].start,
                                     .size = fns[i].size};
        if (!strcmp(fns[i].bdf, CROSS))
            p.res[2] = (struct fake_res){.start = 0x4000000000ULL,
                                         .size = 0x200000, .mem64 = true};
        fake_sysfs_add_device(f->t, fns[i].bdf, NULL, &p);
        fake_sysfs_pciback_add_slot(f->t, fns[i].bdf);
        fake_hv_set_owner(f->hv, fns[i].bdf, XPCI_DOMID_IO);
    }
}

static void test_sub_page_and_page_crossing_bars(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    add_sub_page_card(f);
    assert_int_equal(attach1(f, SUB_A, &res), 0);
    xpci_result_free(res);
    assert_true(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfa000+0x1"));
    /* first page of its first byte to the page of its last */
    assert_int_equal(attach1(f, CROSS, &res), 0);
    xpci_result_free(res);
    assert_true(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfa001+0x2"));
    assert_true(fake_hv_has_grant(f->hv, GUEST, "iomem 0x4000000+0x200"));

    /* B arrives in A's page and fails: A keeps the page */
    fake_hv_fail(f->hv, "assign", EBUSY, 1);
    assert_int_equal(attach1(f, SUB_B, &res), -EBUSY);
    assert_true(res->rolled_back);
    xpci_result_free(res);
    assert_true(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfa000+0x1"));

    /* B comes and goes: A keeps the page */
    assert_int_equal(attach1(f, SUB_B, &res), 0);
    xpci_result_free(res);
    assert_int_equal(detach1(f, SUB_B, false, &res), 0);
    assert_non_null(strstr(res->notes[0], "pages 0xfa000-0xfa000 stay"));
    xpci_result_free(res);
    assert_true(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfa000+0x1"));

    /* A goes: its page with it, CROSS keeps both of its own */
    assert_int_equal(detach1(f, SUB_A, false, &res), 0);
    xpci_result_free(res);
    assert_false(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfa000+0x1"));
    assert_true(fake_hv_has_grant(f->hv, GUEST, "iomem 0xfa001+0x2"));
    assert_int_equal(detach1(f, CROSS, false, &res), 0);
    xpci_result_free(res);
    assert_int_equal(fake_hv_grants(f->hv, GUEST), 0);
}

/* ------------------------------------------------------------ permissive */

static bool permissive_listed(struct fixture *f, const char *bdf)
{
    char path[600], line[64];
    bool found = false;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/bus/pci/drivers/pciback/permissive",
             fake_sysfs_sys(f->t));
    fp = fopen(path, "r");
    assert_non_null(fp);
    while (!found && fgets(line, sizeof(line), fp))
        found = !strncmp(line, bdf, strlen(bdf));
    fclose(fp);
    return found;
}

static bool bound_to_pciback(struct fixture *f, const char *bdf)
{
    char path[600], target[600];
    ssize_t n;

    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver",
             fake_sysfs_sys(f->t), bdf);
    n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return false;
    target[n] = '\0';
    return strstr(target, "/pciback") != NULL;
}

/* pciback keeps permissive until the function leaves it: rollback and
 * detach clear it, and an attach without it clears a leftover one. */
static void test_permissive_undone_by_rollback_and_detach(void **state)
{
    struct fixture *f = *state;
    struct xpci_attached *list = NULL;
    struct xpci_result *res = NULL;
    size_t n = 0;

    f->mode = PEER_SILENT;
    assert_int_equal(attach1(f, HIDDEN ",permissive=1", &res), -ETIMEDOUT);
    assert_true(res->rolled_back);
    xpci_result_free(res);
    assert_false(permissive_listed(f, HIDDEN));
    assert_true(bound_to_pciback(f, HIDDEN));

    f->mode = PEER_OK;
    assert_int_equal(attach1(f, HIDDEN ",permissive=1", &res), 0);
    xpci_result_free(res);
    assert_true(permissive_listed(f, HIDDEN));
    assert_int_equal(xpci_attached_list(f->ctx, "guest", &list, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].permissive, 1);
    assert_int_equal(list[0].pciback_permissive, XPCI_YES);
    xpci_attached_list_free(list, n);

    assert_int_equal(detach1(f, HIDDEN, false, &res), 0);
    xpci_result_free(res);
    assert_false(permissive_listed(f, HIDDEN));
    assert_true(bound_to_pciback(f, HIDDEN));
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), XPCI_DOMID_IO);

    /* one an older toolstack left behind goes at the next attach */
    fake_sysfs_write(f->t, "sys/bus/pci/drivers/pciback/permissive",
                     HIDDEN "\n", strlen(HIDDEN) + 1);
    assert_int_equal(attach1(f, HIDDEN, &res), 0);
    xpci_result_free(res);
    assert_false(permissive_listed(f, HIDDEN));
    assert_int_equal(xpci_attached_list(f->ctx, "guest", &list, &n), 0);
    assert_int_equal(list[0].pciback_permissive, XPCI_NO);
    xpci_attached_list_free(list, n);
}

/* ------------------------------------------------- handshakes under load */

/* A guest that answers every step, but slowly (each step after 20 ms,
 * against a 50 ms timeout): attach, hot-plug and detach all finish. */
static void test_slow_but_progressing_guest_is_waited_for(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    /* each step well inside the deadline of silence, all of them well
     * past it, with room for a loaded machine's late wake-ups */
    f->mode = PEER_SLOW;
    f->step_ms = 150;
    f->timeout_ms = 500;
    assert_int_equal(attach1(f, NIC, &res), 0);
    xpci_result_free(res);
    assert_int_equal(attach1(f, HIDDEN, &res), 0);
    xpci_result_free(res);
    expect_node(f, BE "/num_devs", "2");
    expect_node(f, BE "/state-1", "3");
    expect_node(f, BE "/state", "4");
    expect_node(f, FE "/state", "4");
    assert_int_equal(detach1(f, NIC, false, &res), 0);
    xpci_result_free(res);
    expect_node(f, BE "/num_devs", "1");
    expect_node(f, BE "/dev-0", HIDDEN);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
}

/* A detach of the NIC that finishes though the guest fell silent (with
 * a note saying so): nothing is left of the attach. */
static void detach_finished_despite_silence(struct fixture *f)
{
    struct xpci_result *res = NULL;

    assert_int_equal(detach1(f, NIC, false, &res), 0);
    assert_null(res->error);
    assert_int_equal(res->n_notes, 1);
    assert_non_null(strstr(res->notes[0], "fell silent"));
    xpci_result_free(res);
    assert_int_equal(fake_xs_count(f->xs, BE), 0);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    assert_int_equal(fake_hv_grants(f->hv, GUEST), 0);
    assert_null(fake_xs_get(f->xs, "/libxl/pci/0000-01-00-0/domid"));
}

/* Both ends let the function go, then the guest falls silent before the
 * last step: the removal is finished, not undone behind its back. */
static void test_released_then_silent_guest_is_finished(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    assert_int_equal(attach1(f, NIC, &res), 0);
    xpci_result_free(res);
    f->mode = PEER_RELEASED;
    detach_finished_despite_silence(f);
}

/* The guest and pciback answer just as the wait runs out, before the
 * undo: the removal goes forward, never put back (pciback no longer holds
 * the function, so a later removal would stall in it for good). */
static void test_answer_at_the_deadline_goes_forward(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    assert_int_equal(attach1(f, NIC, &res), 0);
    xpci_result_free(res);
    f->mode = PEER_SILENT;
    answer_at_deadline = true;
    detach_finished_despite_silence(f);
    assert_false(answer_at_deadline);
}

static void check_grant(struct fixture *f, const char *grant, bool want)
{
    if (fake_hv_has_grant(f->hv, GUEST, grant) != want)
        fail_msg("d%d %s %s", GUEST, want ? "lacks" : "still has", grant);
}

/* The guest enables MSI through pciback: dom0's config space says MSI
 * is on and the kernel's irq attribute shows the MSI's IRQ. */
static void guest_enables_msi(struct fixture *f, const char *bdf, int irq)
{
    char path[600];
    unsigned char cfg[256];
    unsigned ptr;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config",
             fake_sysfs_sys(f->t), bdf);
    assert_non_null(fp = fopen(path, "r+b"));
    assert_int_equal(fread(cfg, 1, sizeof(cfg), fp), sizeof(cfg));
    for (ptr = cfg[0x34]; ptr >= 0x40 && cfg[ptr] != 0x05; ptr = cfg[ptr + 1])
        ;
    assert_true(ptr >= 0x40);
    cfg[ptr + 2] |= 1;
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    assert_int_equal(fwrite(cfg, 1, sizeof(cfg), fp), sizeof(cfg));
    fclose(fp);
    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/irq",
             fake_sysfs_sys(f->t), bdf);
    assert_non_null(fp = fopen(path, "w"));
    fprintf(fp, "%d\n", irq);
    fclose(fp);
}

/* While the guest has MSI on, the kernel shows the MSI's IRQ, not the
 * legacy one attach granted: detach revokes no IRQ it never granted (Xen
 * would refuse, and the undo of that could not map it back) and says the
 * legacy one stays the domain's. */
static void test_detach_with_msi_on_revokes_no_msi_irq(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;

    assert_int_equal(attach1(f, NIC, &res), 0);
    xpci_result_free(res);
    check_grant(f, "irq 16", true);
    guest_enables_msi(f, NIC, 52);
    assert_int_equal(detach1(f, NIC, false, &res), 0);
    assert_null(res->error);
    assert_int_equal(res->n_notes, 1);
    assert_non_null(strstr(res->notes[0], "MSI is on"));
    assert_non_null(strstr(res->notes[0], NIC));
    xpci_result_free(res);
    assert_int_equal(fake_xs_count(f->xs, BE), 0);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    /* the BARs are revoked, the legacy IRQ stays */
    check_grant(f, "iomem 0xfebc0+0x20", false);
    check_grant(f, "irq 16", true);
    check_grant(f, "irq 52", false);
}

/* pcifront dropped the function, pciback never answers: it is left
 * Closing ("detaching"), never put back, and a later detach finishes. */
static void test_dropped_function_is_left_detaching(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    int r;

    assert_int_equal(attach1(f, NIC, &res), 0);
    xpci_result_free(res);
    f->mode = PEER_FRONT_ONLY;
    assert_int_equal(detach1(f, NIC, false, &res), -EINPROGRESS);
    assert_non_null(strstr(res->error, "detaching"));
    assert_non_null(strstr(res->error, NIC));
    assert_false(res->rolled_back);
    xpci_result_free(res);
    expect_node(f, BE "/state-0", "5");
    expect_node(f, BE "/num_devs", "1");

    f->mode = PEER_OK;
    r = detach1(f, NIC, false, &res);
    if (r)
        fail_msg("detach again: %s", res->error);
    xpci_result_free(res);
    assert_int_equal(fake_xs_count(f->xs, BE), 0);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    assert_int_equal(fake_hv_grants(f->hv, GUEST), 0);
}

/* A guest slow to connect to its first function: pcifront published its
 * ring, then fell silent past the timeout.  The backend it is connecting
 * to is not pulled away, nor the function's permissions or assignment:
 * the function stays the guest's, and detach takes it back once the
 * guest answers. */
static void test_connecting_guest_keeps_first_function(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    struct xpci_attached *list = NULL;
    size_t n = 0;
    int r;

    f->mode = PEER_CONNECTING;
    r = attach1(f, NIC, &res);
    if (r != -EINPROGRESS)
        fail_msg("attach: %d %s", r, res->error ? res->error : "");
    assert_non_null(strstr(res->error, NIC));
    assert_non_null(strstr(res->error, "xpci detach"));
    assert_false(res->rolled_back);
    xpci_result_free(res);
    /* xenstore, Xen and xpci attached agree: the guest's */
    expect_node(f, BE "/num_devs", "1");
    expect_node(f, BE "/dev-0", NIC);
    expect_node(f, BE "/state-0", "3");
    expect_node(f, FE "/state", "3");
    expect_node(f, "/libxl/pci/0000-01-00-0/domid", "5");
    assert_int_equal(fake_hv_owner(f->hv, NIC), GUEST);
    assert_true(fake_hv_grants(f->hv, GUEST) > 0);
    assert_int_equal(xpci_attached_list(f->ctx, "guest", &list, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].bdf, NIC);
    xpci_attached_list_free(list, n);

    /* the guest comes back: detach takes the function back cleanly */
    f->mode = PEER_SLOW;
    r = detach1(f, NIC, false, &res);
    if (r)
        fail_msg("detach: %s", res->error);
    xpci_result_free(res);
    assert_int_equal(fake_xs_count(f->xs, BE), 0);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    assert_int_equal(fake_hv_grants(f->hv, GUEST), 0);
    assert_null(fake_xs_get(f->xs, "/libxl/pci/0000-01-00-0/domid"));
}

/* The real run's first function: pciback exported it (backend
 * Initialised) while the starved guest's pcifront still showed
 * Initialising.  The backend stays (pcifront may be mid-probe), and so
 * does the rest; detach -f takes it from a guest that never connects. */
static void test_starved_guest_keeps_exported_first_function(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    struct xpci_attached *list = NULL;
    size_t n = 0;
    int r;

    f->mode = PEER_STARVED;
    r = attach1(f, NIC, &res);
    if (r != -EINPROGRESS)
        fail_msg("attach: %d %s", r, res->error ? res->error : "");
    assert_non_null(strstr(res->error, NIC));
    assert_non_null(strstr(res->error, "backend state 3, frontend state 1"));
    assert_false(res->rolled_back);
    xpci_result_free(res);
    expect_node(f, BE "/dev-0", NIC);
    expect_node(f, FE "/state", "1");
    assert_int_equal(fake_hv_owner(f->hv, NIC), GUEST);
    assert_true(fake_hv_grants(f->hv, GUEST) > 0);
    assert_int_equal(xpci_attached_list(f->ctx, "guest", &list, &n), 0);
    assert_int_equal(n, 1);
    xpci_attached_list_free(list, n);

    /* a guest that never connects: detach -f takes it */
    r = detach1(f, NIC, true, &res);
    if (r)
        fail_msg("detach -f: %s", res->error);
    xpci_result_free(res);
    assert_int_equal(fake_xs_count(f->xs, BE), 0);
    assert_int_equal(fake_hv_owner(f->hv, NIC), XPCI_DOMID_IO);
    assert_int_equal(fake_hv_grants(f->hv, GUEST), 0);
}

/* A hot-plug the guest began (pciback Reconfigured, pcifront
 * Reconfiguring: its driver may be probing the function), then silence:
 * the entry stays, the permissions are not revoked and the function not
 * deassigned; the function attached before it stays too. */
static void test_hotplug_begun_by_guest_is_not_undone(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    struct xpci_attached *list = NULL;
    size_t n = 0;
    unsigned g1;
    int r;

    assert_int_equal(attach1(f, NIC, &res), 0);
    xpci_result_free(res);
    g1 = fake_hv_grants(f->hv, GUEST);
    f->mode = PEER_TAKING;
    r = attach1(f, HIDDEN, &res);
    if (r != -EINPROGRESS)
        fail_msg("attach: %d %s", r, res->error ? res->error : "");
    assert_non_null(strstr(res->error, HIDDEN));
    assert_non_null(strstr(res->error, "xpci detach"));
    assert_false(res->rolled_back);
    assert_int_equal(res->n_undo_errors, 0);
    xpci_result_free(res);
    expect_node(f, BE "/state", "8");
    expect_node(f, FE "/state", "7");
    expect_node(f, BE "/num_devs", "2");
    expect_node(f, BE "/dev-1", HIDDEN);
    expect_node(f, BE "/state-1", "3");
    expect_node(f, "/libxl/pci/0000-09-00-0/domid", "5");
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), GUEST);
    assert_int_equal(fake_hv_owner(f->hv, NIC), GUEST);
    assert_true(fake_hv_grants(f->hv, GUEST) > g1);
    assert_int_equal(xpci_attached_list(f->ctx, "guest", &list, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[1].bdf, HIDDEN);
    xpci_attached_list_free(list, n);

    /* no journal left behind: the guest finishes, detach takes it back */
    f->mode = PEER_SLOW;
    r = detach1(f, HIDDEN, false, &res);
    if (r)
        fail_msg("detach: %s", res->error);
    xpci_result_free(res);
    expect_node(f, BE "/num_devs", "1");
    expect_node(f, BE "/dev-0", NIC);
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), XPCI_DOMID_IO);
    assert_int_equal(fake_hv_grants(f->hv, GUEST), g1);
}

/* A hot-plug the guest never noticed (pcifront still Connected) is
 * rolled back; the backend is left Reconfiguring, so that a guest that
 * read the request and answers late finds pciback ready to end the cycle
 * (a backend put back to Connected would leave both ends stuck). */
static void test_unnoticed_hotplug_is_rolled_back(void **state)
{
    struct fixture *f = *state;
    struct xpci_result *res = NULL;
    char *before, *after;

    assert_int_equal(attach1(f, NIC, &res), 0);
    xpci_result_free(res);
    before = snapshot(f);
    f->mode = PEER_SILENT;
    assert_int_equal(attach1(f, HIDDEN, &res), -ETIMEDOUT);
    assert_true(res->rolled_back);
    assert_non_null(strstr(res->error, HIDDEN));
    xpci_result_free(res);
    expect_node(f, BE "/state", "7");
    after = snapshot(f);
    assert_string_equal(before, reconfiguring(after));
    assert_int_equal(fake_hv_owner(f->hv, HIDDEN), XPCI_DOMID_IO);
    free(after);
    free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_recover_refuses_hostile_grant_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_first_function, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hotplug_and_detach_renumbers,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_specs_one_call, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_attach_rolls_back_at_every_step,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach_rolls_back_at_every_step,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_silent_guest_times_out_and_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_answer_at_the_deadline_goes_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_detach_with_msi_on_revokes_no_msi_irq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_that_keeps_a_function,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_by_another_domain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backend_left_by_a_destroyed_domain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach_what_libxl_attached,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_crash_at_every_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hvm_through_the_device_model,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_hvm_without_device_model, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_hvm_pending_unplug_is_not_plugged_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hvm_detach_in_libxl_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_hvm_notes_msitranslate_and_power_mgmt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irq_255_is_not_connected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_hvm_attached_shows_the_device_model_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hvm_undo_after_the_domain_is_gone,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_hvm_undo_after_the_guest_crashed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_hvm_detach_with_the_model_stopped_undoes_nothing, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_hvm_pirq_clash_noted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pvh_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_shared_irq_survives_rollback_and_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sub_page_and_page_crossing_bars,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_permissive_undone_by_rollback_and_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_slow_but_progressing_guest_is_waited_for, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_released_then_silent_guest_is_finished, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_dropped_function_is_left_detaching, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_connecting_guest_keeps_first_function, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_starved_guest_keeps_exported_first_function, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_hotplug_begun_by_guest_is_not_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_unnoticed_hotplug_is_rolled_back, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
