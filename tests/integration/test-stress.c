/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test-stress.c - many xpci processes at once.  N = 2, 4 and 8 processes
 * run assignable-add, assignable-remove -r, attach and detach to a running
 * PV guest, recover, and an add or attach killed with SIGKILL part-way,
 * for a few seconds, on the same functions (overlapping) or on one
 * function each (disjoint), against the fake kernel (one tree on disk,
 * shared by every process), a hypervisor whose device owners and guest
 * permissions live in shared memory, the real xenstored, and the guest's
 * pcifront and dom0's pciback played by fake-pv against it.  Beside them
 * an xl-style writer keeps rewriting its own records under /libxl/pci in
 * transactions.
 *
 * Afterwards one recover, then: no journal left, no duplicate line in the
 * persistent set, and every function in one of the three states a serial
 * order of those operations leaves (attached: the guest's by Xen, its
 * iomem and irq permissions, libxl's record with the domid, pciback's
 * backend entry, seen by the guest; hidden: pciback, quarantined, libxl's
 * record, one persistent line, nothing of the guest's; or given back: its
 * driver, dom0's, no record, no line), the writer's records all there
 * with its last values, and no operation longer than the lock's wait.
 * The matrix of processes x operations x outcomes is printed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "fake-hv.h"
#include "fake-pv.h"
#include "fake-sysfs.h"
#include "topologies.h"
#include "xpci-internal.h"
#include "xsd.h"

#define N_FNS 6
#define RUN_MS 4000
/* Longest an operation may take: the lock's own wait (30 s in state.c)
 * is far above what any of these needs. */
#define OP_MAX_MS 20000
/* A process not done this long after the run has hung. */
#define HANG_MS (OP_MAX_MS + 10000)

#define GUEST 1
#define GUEST_NAME "stressg"
/* The guest's deadline per attach or detach. */
#define GUEST_MS 3000
#define IRQ_BASE 20
/* Each function's BAR: 0x20 pages from this frame on. */
#define BAR_MFN(i) (0xf0000ULL + (uint64_t)(i) * 0x100)

enum op { OP_ADD, OP_REMOVE, OP_ATTACH, OP_DETACH, OP_RECOVER, OP_KILLED,
          N_OPS };
enum outcome { OUT_OK, OUT_BUSY, OUT_PENDING, OUT_REFUSED, OUT_INPROGRESS,
               OUT_KILLED, N_OUTCOMES };

static const char *const op_names[N_OPS] = {
    "add", "remove -r", "attach", "detach", "recover", "add|attach+kill"};
static const char *const outcome_names[N_OUTCOMES] = {
    "ok", "lock busy", "journal pending", "refused", "guest midway",
    "killed"};

/* What every process shares: the hypervisor's owners, the counts. */
struct shared {
    pthread_mutex_t lock;
    long owner[N_FNS];
    /* the guest's permissions on each function's BAR and legacy irq */
    int iomem[N_FNS], irq[N_FNS];
    unsigned long count[N_OPS][N_OUTCOMES];
    long max_op_ms;
    unsigned long xl_txns, xl_retries;
    char failure[256];
    /* over every run */
    unsigned long attach_ok, detach_ok;
};

static struct shared *sh;
static char fns[N_FNS][XPCI_BDF_STRLEN];
static struct fake_sysfs *tree;
static struct xsd *xsd;
static struct fake_pv *pv;
static char state_dir[512], audit[512];

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------- hypervisor */

/*
 * The unit tests' fake hypervisor, one per process, with the owners of
 * the functions copied in from shared memory before each call and back
 * after it, under a process-shared lock: every process sees one Xen.
 */
static struct fake_hv *hv;

/*
 * The lock is robust: a process killed while holding it (the killed adds)
 * hands it to the next one.  Each owner is one word, so what the dead one
 * wrote back is each function's old owner or its new one.
 */
static void shared_lock(void)
{
    if (pthread_mutex_lock(&sh->lock) == EOWNERDEAD)
        pthread_mutex_consistent(&sh->lock);
}

static void hv_enter(void)
{
    shared_lock();
    for (int i = 0; i < N_FNS; i++)
        fake_hv_set_owner(hv, fns[i], (uint32_t)sh->owner[i]);
}

static void hv_leave(void)
{
    for (int i = 0; i < N_FNS; i++) {
        long o = fake_hv_owner(hv, fns[i]);

        sh->owner[i] = o < 0 ? 0 : o;
    }
    pthread_mutex_unlock(&sh->lock);
}

#define SHARED_CALL(call)                                                      \
    do {                                                                       \
        int r_;                                                                \
        hv_enter();                                                            \
        r_ = fake_hv_ops.call;                                                 \
        hv_leave();                                                            \
        return r_;                                                             \
    } while (0)

static int s_physinfo(void *p, struct xpci_hv_info *i)
{
    SHARED_CALL(physinfo(p, i));
}

static int s_device_group(void *p, uint32_t sbdf, uint32_t *sbdfs,
                          unsigned max)
{
    SHARED_CALL(device_group(p, sbdf, sbdfs, max));
}

static int s_rdm_map(void *p, uint32_t sbdf, struct xpci_rdm *e, unsigned max,
                     unsigned *needed)
{
    SHARED_CALL(rdm_map(p, sbdf, e, max, needed));
}

static int s_test_assign(void *p, uint32_t domid, uint32_t sbdf)
{
    SHARED_CALL(test_assign(p, domid, sbdf));
}

static int s_assign(void *p, uint32_t domid, uint32_t sbdf, uint32_t flags)
{
    SHARED_CALL(assign(p, domid, sbdf, flags));
}

static int s_deassign(void *p, uint32_t domid, uint32_t sbdf)
{
    SHARED_CALL(deassign(p, domid, sbdf));
}

static int s_domain_exists(void *p, uint32_t domid)
{
    SHARED_CALL(domain_exists(p, domid));
}

static int s_domain_type(void *p, uint32_t domid)
{
    SHARED_CALL(domain_type(p, domid));
}

/* Which function a guest permission is on, or -1. */
static int fn_of_mfn(uint64_t mfn)
{
    for (int i = 0; i < N_FNS; i++)
        if (mfn >= BAR_MFN(i) && mfn < BAR_MFN(i) + 0x20)
            return i;
    return -1;
}

static int s_iomem_permission(void *p, uint32_t domid, uint64_t first_mfn,
                              uint64_t nr, bool allow)
{
    int i = fn_of_mfn(first_mfn), r;

    hv_enter();
    r = fake_hv_ops.iomem_permission(p, domid, first_mfn, nr, allow);
    if (r == 0 && i >= 0 && domid == GUEST)
        sh->iomem[i] = allow;
    hv_leave();
    return r;
}

static int s_irq_permission(void *p, uint32_t domid, int pirq, bool allow)
{
    int i = pirq - IRQ_BASE, r;

    hv_enter();
    r = fake_hv_ops.irq_permission(p, domid, pirq, allow);
    if (r == 0 && i >= 0 && i < N_FNS && domid == GUEST)
        sh->irq[i] = allow;
    hv_leave();
    return r;
}

static void s_close(void *p)
{
}

static struct xpci_hv_ops shared_hv;

static void shared_hv_init(void)
{
    shared_hv = fake_hv_ops;
    shared_hv.close = s_close;
    shared_hv.physinfo = s_physinfo;
    shared_hv.device_group = s_device_group;
    shared_hv.rdm_map = s_rdm_map;
    shared_hv.test_assign = s_test_assign;
    shared_hv.assign = s_assign;
    shared_hv.deassign = s_deassign;
    shared_hv.domain_exists = s_domain_exists;
    shared_hv.domain_type = s_domain_type;
    shared_hv.iomem_permission = s_iomem_permission;
    shared_hv.irq_permission = s_irq_permission;
}

/* ---------------------------------------------------------- the host */

/* A host bridge and N_FNS e1000e NICs, each on its own root port, with an
 * interface (down), so a rebind is seen at once. */
static void build_tree(void)
{
    tree = fake_sysfs_new();
    topo_host_bridge(tree);
    for (int i = 0; i < N_FNS; i++) {
        struct fake_pci d = fake_pci_default(0x8086, 0x10d3, 0x020000);
        struct fake_pci rp = fake_pci_default(0x8086, 0x2922, 0x060400);
        char port[16], ifname[16];

        rp.header_type = 1;
        rp.pcie_type = 4;
        rp.driver = "pcieport";
        rp.iommu_group = 40 + 2 * i;
        snprintf(port, sizeof(port), "0000:00:%02x.0", 0x10 + i);
        snprintf(fns[i], sizeof(fns[i]), "0000:%02x:00.0", 0x20 + i);
        fake_sysfs_add_device(tree, port, NULL, &rp);
        d.pcie_type = 0;
        d.flr = true;
        d.msix = true;
        d.driver = "e1000e";
        d.iommu_group = 41 + 2 * i;
        d.reset_method = "flr bus";
        d.irq = IRQ_BASE + i;
        d.res[0] = (struct fake_res){.start = BAR_MFN(i) * 0x1000ULL,
                                     .size = 0x20000};
        fake_sysfs_add_device(tree, fns[i], port, &d);
        snprintf(ifname, sizeof(ifname), "enp%ds0", 0x20 + i);
        fake_sysfs_add_netdev(tree, fns[i], ifname, false);
    }
    fake_sysfs_load_pciback(tree);
    snprintf(state_dir, sizeof(state_dir), "%s/var/lib/xpci",
             fake_sysfs_root(tree));
    snprintf(audit, sizeof(audit), "%s/audit.log", fake_sysfs_root(tree));
}

static int open_ctx(xpci_ctx **ctx_r)
{
    struct xpci_params p = {
        .sysfs_root = fake_sysfs_sys(tree),
        .proc_root = fake_sysfs_proc(tree),
        .sysfs_ops = &fake_sysfs_ops,
        .sysfs_priv = tree,
        .hv_ops = &shared_hv,
        .hv_priv = hv,
        .state_dir = state_dir,
        .audit_log = audit,
        .flags = XPCI_CTX_NO_SYSLOG,
    };

    /* xs_ops NULL: libxenstore, to the test's xenstored */
    return xpci_ctx_new(ctx_r, &p);
}

/* ---------------------------------------------------------- workers */

static void count(enum op op, enum outcome out, int64_t ms)
{
    shared_lock();
    sh->count[op][out]++;
    if (ms > sh->max_op_ms)
        sh->max_op_ms = ms;
    pthread_mutex_unlock(&sh->lock);
}

static void fail_shared(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void fail_shared(const char *fmt, ...)
{
    va_list ap;

    shared_lock();
    if (!sh->failure[0]) {
        va_start(ap, fmt);
        vsnprintf(sh->failure, sizeof(sh->failure), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&sh->lock);
}

static enum outcome classify(int r, const struct xpci_result *res)
{
    const char *e = res && res->error ? res->error : "";

    if (r >= 0)
        return OUT_OK;
    if (r == -EBUSY && strstr(e, "xpci recover"))
        return OUT_PENDING;
    if (r == -EINPROGRESS)
        return OUT_INPROGRESS;
    if (r == -EBUSY)
        return OUT_BUSY;
    return OUT_REFUSED;
}

/* One operation on the functions picked; returns its outcome. */
static enum outcome run_op(enum op op, const char **devs, unsigned n)
{
    struct xpci_op_opts back = {.rebind = true};
    struct xpci_attach_opts guest = {.timeout_ms = GUEST_MS};
    struct xpci_result *res = NULL;
    xpci_ctx *ctx = NULL;
    enum outcome out;
    int r = open_ctx(&ctx);

    if (r < 0) {
        fail_shared("xpci_ctx_new: %s", strerror(-r));
        return OUT_REFUSED;
    }
    if (op == OP_ADD)
        r = xpci_assignable_add(ctx, devs, n, NULL, &res);
    else if (op == OP_REMOVE)
        r = xpci_assignable_remove(ctx, devs, n, &back, &res);
    else if (op == OP_ATTACH)
        r = xpci_attach(ctx, GUEST_NAME, devs, n, &guest, &res);
    else if (op == OP_DETACH)
        r = xpci_detach(ctx, GUEST_NAME, devs, n, &guest, &res);
    else
        r = xpci_recover(ctx, &res);
    out = classify(r, res);
    /* an undo that failed leaves a function half-way: never acceptable */
    if (res && res->n_undo_errors)
        fail_shared("%s: undo failed: %s", op_names[op], res->undo_errors[0]);
    xpci_result_free(res);
    xpci_ctx_free(ctx);
    return out;
}

/* An add or an attach in a child killed with SIGKILL after 0-15 ms (an
 * attach: 0-60 ms, the handshake with the guest included). */
static enum outcome killed_op(const char **devs, unsigned n, unsigned *seed)
{
    int status;
    bool attach = rand_r(seed) % 2;
    pid_t pid = fork();

    if (pid == 0) {
        run_op(attach ? OP_ATTACH : OP_ADD, devs, n);
        _exit(0);
    }
    usleep((useconds_t)(rand_r(seed) % (attach ? 60000 : 15000)));
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) ? OUT_KILLED : OUT_OK;
}

static void worker(unsigned id, bool disjoint, int64_t until)
{
    unsigned seed = id * 7919 + 17;

    hv = fake_hv_new();
    fake_hv_set_iommu(hv, true);
    fake_hv_add_domain(hv, GUEST);
    while (now_ms() < until) {
        const char *devs[2];
        unsigned n = 1;
        enum op op = (enum op)(rand_r(&seed) % N_OPS);
        int64_t t0 = now_ms();
        enum outcome out;

        if (disjoint) {
            devs[0] = fns[id % N_FNS];
        } else {
            devs[0] = fns[rand_r(&seed) % N_FNS];
            devs[1] = fns[rand_r(&seed) % N_FNS];
            n = strcmp(devs[0], devs[1]) ? 1 + rand_r(&seed) % 2 : 1;
        }
        /* a kill is rarer than the rest */
        if (op == OP_KILLED && rand_r(&seed) % 3)
            op = OP_RECOVER;
        out = op == OP_KILLED ? killed_op(devs, n, &seed)
                              : run_op(op, devs, n);
        count(op, out, now_ms() - t0);
    }
    fake_hv_free(hv);
}

/* ---------------------------------------------------------- xl writer */

#define XL_KEYS 4

/* What xl would write for functions xpci never touches, in transactions
 * on the same directory xpci's records go to; returns when until passes.
 * The last value written to each key is v<last>. */
static void xl_writer(int64_t until)
{
    struct xs_handle *xs = xs_open(0);
    unsigned long round = 0;

    if (!xs) {
        fail_shared("xl writer: xs_open: %m");
        return;
    }
    while (now_ms() < until) {
        char val[32];

        round++;
        snprintf(val, sizeof(val), "v%lu", round);
        for (;;) {
            xs_transaction_t t = xs_transaction_start(xs);
            bool ok = t != XBT_NULL;

            for (int k = 0; ok && k < XL_KEYS; k++) {
                char path[96];

                snprintf(path, sizeof(path),
                         "/libxl/pci/0000-5%d-00-0/driver_path", k);
                ok = xs_write(xs, t, path, val, strlen(val));
            }
            if (ok && xs_transaction_end(xs, t, false))
                break;
            if (errno != EAGAIN) {
                fail_shared("xl writer: %m");
                xs_close(xs);
                return;
            }
            shared_lock();
            sh->xl_retries++;
            pthread_mutex_unlock(&sh->lock);
        }
        shared_lock();
        sh->xl_txns = round;
        pthread_mutex_unlock(&sh->lock);
    }
    xs_close(xs);
}

/* ---------------------------------------------------------- checks */

static char *driver_of(const char *bdf)
{
    char path[600], link[256];
    ssize_t r;

    snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver",
             fake_sysfs_sys(tree), bdf);
    r = readlink(path, link, sizeof(link) - 1);
    if (r < 0)
        return strdup("(none)");
    link[r] = '\0';
    return strdup(strrchr(link, '/') + 1);
}

static unsigned lines_with(const char *text, const char *bdf)
{
    unsigned n = 0;

    for (const char *p = text; p && *p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (!strncmp(p, bdf, strlen(bdf)) && p[strlen(bdf)] == ' ')
            n++;
    }
    return n;
}

static bool in_slots(const char *bdf)
{
    char path[600];
    char *slots = NULL;
    bool in;

    snprintf(path, sizeof(path), "%s/bus/pci/drivers/pciback/slots",
             fake_sysfs_sys(tree));
    if (xpci__read_file(AT_FDCWD, path, &slots) < 0)
        return false;
    in = strstr(slots, bdf) != NULL;
    free(slots);
    return in;
}

/* libxl's record for bdf: its driver_path and domid nodes (NULL when
 * absent); caller frees both. */
static void libxl_record(struct xs_handle *xs, const char *bdf, char **drv_r,
                         char **domid_r)
{
    char key[XPCI__XS_LIBXL_KEY_LEN], path[128];
    struct xpci_bdf b;
    unsigned len = 0;

    xpci_bdf_parse(bdf, &b);
    xpci__xs_libxl_key(&b, key);
    snprintf(path, sizeof(path), XPCI__XS_LIBXL_PCI "/%s/driver_path", key);
    *drv_r = xs_read(xs, XBT_NULL, path, &len);
    snprintf(path, sizeof(path), XPCI__XS_LIBXL_PCI "/%s/domid", key);
    *domid_r = xs_read(xs, XBT_NULL, path, &len);
}

/*
 * Every function attached, hidden or given back in full; counts the
 * hidden and the attached ones.
 */
static void check_states(struct xs_handle *xs, unsigned *hidden_r,
                         unsigned *attached_r)
{
    char path[600];
    char *set = NULL;

    *hidden_r = *attached_r = 0;
    snprintf(path, sizeof(path), "%s/" XPCI_JOURNAL_FILE, state_dir);
    if (access(path, F_OK) == 0)
        fail_msg("a journal is left behind after recover");
    snprintf(path, sizeof(path), "%s/" XPCI_STATE_FILE, state_dir);
    if (xpci__read_file(AT_FDCWD, path, &set) < 0)
        set = strdup("");
    for (int i = 0; i < N_FNS; i++) {
        _cleanup_free_ char *drv = driver_of(fns[i]);
        char *rec = NULL, *domid = NULL;
        unsigned lines = lines_with(set, fns[i]);
        long owner = sh->owner[i];
        bool slot = in_slots(fns[i]);
        bool pciback;
        bool exported = fake_pv_exported(pv, fns[i]);
        bool seen = fake_pv_guest_sees(pv, fns[i], NULL);
        bool perms = sh->iomem[i] || sh->irq[i];

        libxl_record(xs, fns[i], &rec, &domid);
        pciback = !strcmp(drv, "pciback") && slot && lines == 1 && rec &&
                  !strcmp(rec, "/sys/bus/pci/drivers/e1000e");
        if (lines > 1)
            fail_msg("%s: %u lines in the persistent set", fns[i], lines);
        if (pciback && owner == GUEST && domid && !strcmp(domid, "1") &&
            exported && seen && sh->iomem[i] && sh->irq[i])
            (*attached_r)++;
        else if (pciback && owner == XPCI_DOMID_IO && !domid && !exported &&
                 !seen && !perms)
            (*hidden_r)++;
        else if (strcmp(drv, "e1000e") || slot || owner != 0 || rec ||
                 domid || lines != 0 || exported || seen || perms) {
            char cmd[700];

            /* what happened to it, for the log */
            snprintf(cmd, sizeof(cmd), "grep -F '%s' '%s' | tail -n 12",
                     fns[i], audit);
            if (system(cmd) < 0)
                perror("system");
            fail_msg("%s: neither attached, hidden nor given back: driver "
                     "%s, %s pciback's slots, owner %ld, libxl record %s "
                     "domid %s, %u persistent line(s), %s by pciback, %s "
                     "by the guest, iomem %s, irq %s",
                     fns[i], drv, slot ? "in" : "not in", owner,
                     rec ? rec : "none", domid ? domid : "none", lines,
                     exported ? "exported" : "not exported",
                     seen ? "seen" : "not seen",
                     sh->iomem[i] ? "granted" : "not granted",
                     sh->irq[i] ? "granted" : "not granted");
        }
        free(rec);
        free(domid);
    }
    free(set);
}

/* Whether the guest's backend lists bdf. */
static bool backend_lists(struct xs_handle *xs, const char *bdf)
{
    char path[96];
    unsigned len, n = 0;
    char *v;
    bool found = false;

    snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%d/0/num_devs",
             GUEST);
    if ((v = xs_read(xs, XBT_NULL, path, &len)))
        n = (unsigned)atoi(v);
    free(v);
    for (unsigned i = 0; i < n && i < 64 && !found; i++) {
        snprintf(path, sizeof(path), "/local/domain/0/backend/pci/%d/0/dev-%u",
                 GUEST, i);
        if ((v = xs_read(xs, XBT_NULL, path, &len)))
            found = !strcmp(v, bdf);
        free(v);
    }
    return found;
}

/* The guest and its pciback act on xenstore's watches in a thread of
 * their own: give them time (a loaded host delays them) to catch up with
 * what the last operation did, that is until each function the backend
 * lists is exported and seen and no other is.  check_states says what is
 * wrong if they never do. */
static void peer_catch_up(struct xs_handle *xs)
{
    int64_t end = now_ms() + 10000;

    while (now_ms() < end) {
        bool agree = true;

        for (int i = 0; i < N_FNS && agree; i++) {
            bool listed = backend_lists(xs, fns[i]);

            agree = fake_pv_exported(pv, fns[i]) == listed &&
                    fake_pv_guest_sees(pv, fns[i], NULL) == listed;
        }
        if (agree)
            return;
        usleep(20000);
    }
}

/* ---------------------------------------------------------- the runs */

static void run_matrix_row(unsigned nproc, bool disjoint)
{
    int64_t t0 = now_ms(), until = t0 + RUN_MS;
    pid_t pids[9];
    struct xpci_result *res = NULL;
    struct xs_handle *xs;
    xpci_ctx *ctx = NULL;
    unsigned hidden, attached, n = 0;
    unsigned long txns;

    memset(sh->count, 0, sizeof(sh->count));
    sh->max_op_ms = 0;
    sh->xl_txns = sh->xl_retries = 0;
    /* forked with the guest's peer thread parked (fake_pv_pause) */
    fake_pv_pause(pv);
    for (unsigned i = 0; i <= nproc; i++) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
            if (i == nproc)
                xl_writer(until);
            else
                worker(i, disjoint, until);
            _exit(0);
        }
        pids[n++] = pid;
    }
    fake_pv_resume(pv);
    /* every process must be done soon after the run: a hang fails */
    for (unsigned i = 0; i < n; i++) {
        int status;
        pid_t r;

        while ((r = waitpid(pids[i], &status, WNOHANG)) == 0 &&
               now_ms() < until + HANG_MS)
            usleep(20000);
        if (r == 0) {
            for (unsigned k = i; k < n; k++)
                kill(pids[k], SIGKILL);
            fail_msg("process %u still running %d ms after the end", i,
                     HANG_MS);
        }
        assert_int_equal(r, pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status))
            fail_msg("process %u ended with status 0x%x", i, status);
    }
    if (sh->failure[0])
        fail_msg("%s", sh->failure);

    /* what a crash left: one recover puts it right */
    hv = fake_hv_new();
    fake_hv_set_iommu(hv, true);
    fake_hv_add_domain(hv, GUEST);
    assert_int_equal(open_ctx(&ctx), 0);
    assert_int_equal(xpci_recover(ctx, &res), 0);
    assert_int_equal(res->n_undo_errors, 0);
    xpci_result_free(res);
    xpci_ctx_free(ctx);
    fake_hv_free(hv);
    hv = NULL;

    xs = xs_open(0);
    assert_non_null(xs);
    peer_catch_up(xs);
    check_states(xs, &hidden, &attached);
    txns = sh->xl_txns;
    for (int k = 0; k < XL_KEYS; k++) {
        char path[96], want[32];
        unsigned len;
        char *v;

        snprintf(path, sizeof(path), "/libxl/pci/0000-5%d-00-0/driver_path",
                 k);
        snprintf(want, sizeof(want), "v%lu", txns);
        v = xs_read(xs, XBT_NULL, path, &len);
        if (!v || strcmp(v, want))
            fail_msg("xl's %s is %s, its last write was %s", path,
                     v ? v : "gone", want);
        free(v);
    }
    xs_close(xs);

    printf("N=%u %-11s %5.1f s, of %d: %u attached, %u hidden at the end, "
           "longest operation %ld ms, xl writer %lu transactions (%lu "
           "retried)\n",
           nproc, disjoint ? "disjoint" : "overlapping",
           (now_ms() - t0) / 1000.0, N_FNS, attached, hidden,
           sh->max_op_ms, txns, sh->xl_retries);
    for (int op = 0; op < N_OPS; op++) {
        printf("    %-10s", op_names[op]);
        for (int o = 0; o < N_OUTCOMES; o++)
            if (sh->count[op][o])
                printf("  %s %lu", outcome_names[o], sh->count[op][o]);
        printf("\n");
    }
    fflush(stdout);
    if (sh->max_op_ms > OP_MAX_MS)
        fail_msg("an operation took %ld ms", sh->max_op_ms);
    /* the runs must really have raced for the lock, and the guest must
     * have taken functions and given them back */
    assert_true(sh->count[OP_ADD][OUT_OK] + sh->count[OP_REMOVE][OUT_OK] > 0);
    sh->attach_ok += sh->count[OP_ATTACH][OUT_OK];
    sh->detach_ok += sh->count[OP_DETACH][OUT_OK];
}

/* dom0's and the guest's nodes as xl creates them. */
static void make_guest(void)
{
    struct xs_permissions own[2] = {
        {.id = GUEST, .perms = XS_PERM_NONE},
        {.id = 0, .perms = XS_PERM_READ},
    };
    static const char *const nodes[][2] = {
        {"/local/domain/0/name", "Domain-0"},
        {"/local/domain/" "1" "/name", GUEST_NAME},
        {"/local/domain/" "1" "/domid", "1"},
        {"/libxl/" "1" "/type", "pv"},
    };
    struct xs_handle *xs = xs_open(0);

    assert_non_null(xs);
    assert_true(xs_mkdir(xs, XBT_NULL, "/local/domain/1"));
    assert_true(xs_mkdir(xs, XBT_NULL, "/local/domain/1/device"));
    assert_true(xs_set_permissions(xs, XBT_NULL, "/local/domain/1", own, 2));
    assert_true(xs_set_permissions(xs, XBT_NULL, "/local/domain/1/device",
                                   own, 2));
    for (size_t i = 0; i < sizeof(nodes) / sizeof(*nodes); i++)
        assert_true(xs_write(xs, XBT_NULL, nodes[i][0], nodes[i][1],
                             strlen(nodes[i][1])));
    xs_close(xs);
}

static int setup(void **state)
{
    pthread_mutexattr_t a;

    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(sh != MAP_FAILED);
    memset(sh, 0, sizeof(*sh));
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&sh->lock, &a);
    pthread_mutexattr_destroy(&a);
    shared_hv_init();
    build_tree();
    assert_int_equal(xsd_start(&xsd, "0,1"), 0);
    make_guest();
    assert_int_equal(fake_pv_start(xsd, GUEST, FAKE_PV_GUEST_OK, &pv), 0);
    return 0;
}

static int teardown(void **state)
{
    int r;

    fake_pv_stop(pv);
    r = xsd_stop(xsd);

    fake_sysfs_free(tree);
    pthread_mutex_destroy(&sh->lock);
    munmap(sh, sizeof(*sh));
    assert_int_equal(r, 0);
    return 0;
}

static void test_concurrent_processes_leave_serial_states(void **state)
{
    static const unsigned nprocs[] = {2, 4, 8};

    for (unsigned i = 0; i < sizeof(nprocs) / sizeof(*nprocs); i++) {
        run_matrix_row(nprocs[i], false);
        run_matrix_row(nprocs[i], true);
    }
    printf("attaches that succeeded %lu, detaches %lu\n", sh->attach_ok,
           sh->detach_ok);
    assert_true(sh->attach_ok > 0);
    assert_true(sh->detach_ok > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_concurrent_processes_leave_serial_states, setup, teardown),
    };
    const char *daemon = xsd_daemon_path();

    if (access(daemon, X_OK) < 0) {
        fprintf(stderr, "SKIP: no xenstored at %s (set %s)\n", daemon,
                XSD_ENV_DAEMON);
        return 77;
    }
    return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
