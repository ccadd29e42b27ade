/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * attach.c - giving assignable functions to running guests and taking
 * them back.
 *
 * Attaching one function is, in order: libxl's "held by" record
 * (/libxl/pci/<key>/domid), the guest's permissions on the function's BARs
 * (iomem, ioport) and legacy IRQ (pirq), xc_assign_device (out of the
 * quarantine into the guest's IOMMU context), then the guest side: for a
 * PV guest pciback's backend entry and the hot-plug handshake with
 * pcifront, for an HVM guest device_add through the device model's QMP.
 * Detaching is the same backwards (the guest lets go, its permissions are
 * revoked, then Xen's deassign puts the function back into the quarantine,
 * DOMID_IO).  Every step has its inverse in the plan,
 * so op.c can undo a failure or an interrupted run.
 *
 * A brief comment about the PV handshake (drivers/xen/xen-pciback/xenbus.c
 * and drivers/pci/xen-pcifront.c): the toolstack only writes backend
 * nodes.  A new backend directory makes pciback export its dev-N and go
 * Initialised; pcifront publishes its ring and both go Connected.  For a
 * hot-plug the toolstack appends dev-N with state-N = Initialising and
 * sets the backend to Reconfiguring; pcifront answers Reconfiguring,
 * pciback exports the new function (state-N = Initialised) and goes
 * Reconfigured, pcifront scans and goes Connected, and pciback follows.
 * Removal is the same cycle with state-N = Closing.  So "done" is: backend
 * Connected again and, for an added function, its state-N Initialised.
 * libxl returns before that cycle ends; xpci waits for it, so a guest that
 * never answers is noticed and rolled back rather than left half-done.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "qmp.h"
#include "xpci-internal.h"

#define PCIBACK "pciback"
#define PCIBACK_PERMISSIVE "bus/pci/drivers/pciback/permissive"
#define XS_ERROR_FMT "/local/domain/0/error/backend/pci/%u/0/error"
#define XS_LIBXL_TYPE_FMT "/libxl/%u/type"
#define XS_DOMAIN_NAME_FMT "/local/domain/%u/name"
#define XS_BACKENDS "/local/domain/0/backend/pci"
#define QMP_SOCKET_FMT "%s/qmp-libxl-%u"
#define PAGE_SHIFT 12

/* XenbusState values (xen/include/public/io/xenbus.h). */
enum {
    XB_INITIALISING = 1,
    XB_INITIALISED = 3,
    XB_CONNECTED = 4,
    XB_CLOSING = 5,
    XB_RECONFIGURING = 7,
};

/* ------------------------------------------------------------ domains */

static int read_domain_name(xpci_ctx *ctx, uint32_t domid, char **name_r)
{
    char path[64];

    snprintf(path, sizeof(path), XS_DOMAIN_NAME_FMT, domid);
    return xpci__xs_read(ctx, XPCI_XS_NO_TXN, path, name_r);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

int xpci_domain_resolve(xpci_ctx *ctx, const char *domain, uint32_t *domid_r,
                        char **name_r)
{
    _cleanup_free_ char *name = NULL;
    char **ids = NULL;
    unsigned n = 0;
    int r;

    if (!domain || !*domain)
        return -EINVAL;
    if (all_digits(domain)) {
        unsigned long id = strtoul(domain, NULL, 10);

        if (id >= XPCI_DOMID_IO)
            return -ESRCH;
        if (ctx->hv && ctx->hv->domain_exists &&
            (r = ctx->hv->domain_exists(ctx->hv_priv, (uint32_t)id)) < 0)
            return r;
        r = ctx->xs ? read_domain_name(ctx, (uint32_t)id, &name) : -ENOENT;
        if (r < 0 && r != -ENOENT)
            return r;
        if (r == -ENOENT && !(ctx->hv && ctx->hv->domain_exists))
            return ctx->xs ? -ESRCH : -ENOTCONN;
        *domid_r = (uint32_t)id;
        if (name_r)
            *name_r = TAKE_PTR(name);
        return 0;
    }
    if (!ctx->xs)
        return -ENOTCONN;
    r = ctx->xs->directory(ctx->xs_priv, XPCI_XS_NO_TXN, "/local/domain",
                           &ids, &n);
    if (r < 0)
        return r == -ENOENT ? -ESRCH : r;
    r = -ESRCH;
    for (unsigned i = 0; i < n && r == -ESRCH; i++) {
        char *cand = NULL;

        if (!all_digits(ids[i]) ||
            read_domain_name(ctx, (uint32_t)strtoul(ids[i], NULL, 10),
                             &cand) < 0)
            continue;
        if (!strcmp(cand, domain)) {
            *domid_r = (uint32_t)strtoul(ids[i], NULL, 10);
            if (name_r)
                *name_r = TAKE_PTR(cand);
            r = 0;
        }
        free(cand);
    }
    xpci__strv_free(ids, n);
    return r;
}

/* PV or HVM; PVH is refused (no passthrough for PVH guests in 4.17).
 * libxl records the type at /libxl/<domid>/type; the hypervisor's flag
 * is the fallback. */
static int domain_type(xpci_ctx *ctx, uint32_t domid, char **why_r)
{
    _cleanup_free_ char *type = NULL;
    char path[64];

    snprintf(path, sizeof(path), XS_LIBXL_TYPE_FMT, domid);
    if (xpci__xs_read(ctx, XPCI_XS_NO_TXN, path, &type) == 0) {
        if (!strcmp(type, "pv"))
            return XPCI_DOMAIN_PV;
        if (!strcmp(type, "hvm"))
            return XPCI_DOMAIN_HVM;
        *why_r = xpci__sprintf("domain %u is a %s guest: Xen 4.17 passes "
                               "PCI devices through to PV and HVM guests "
                               "only", domid, type);
        return -EOPNOTSUPP;
    }
    if (ctx->hv && ctx->hv->domain_type)
        return ctx->hv->domain_type(ctx->hv_priv, domid);
    return XPCI_DOMAIN_PV;
}

/* ------------------------------------------------------------ encoding */
/*
 * Step values of the guest-side steps, one line of space-separated
 * fields so the journal can carry them:
 *   pv-add / qmp-add:      "VDEVFN WAIT OPTS [NAME]"  (VDEVFN -1: none)
 *   pv-remove / qmp-del:   "FORCE"
 * path is the domid in decimal for every attach step.
 */
struct entry {
    int vdevfn;
    bool wait;
    char opts[96];
    const char *name;   /* points into the value, or NULL */
};

static int entry_parse(const char *val, struct entry *e)
{
    int wait = 0, n = 0;

    memset(e, 0, sizeof(*e));
    if (!val || sscanf(val, "%d %d %95s %n", &e->vdevfn, &wait, e->opts,
                       &n) < 3)
        return -EINVAL;
    e->wait = wait;
    e->name = val[n] ? val + n : NULL;
    return 0;
}

static char *entry_format(int vdevfn, bool wait, const char *opts,
                          const char *name)
{
    return xpci__sprintf("%d %d %s%s%s", vdevfn, wait, opts,
                         name ? " " : "", name ? name : "");
}

static char *opts_format(int msitranslate, int power_mgmt, int permissive,
                         int rdm_policy)
{
    return xpci__sprintf("msitranslate=%d,power_mgmt=%d,permissive=%d,"
                         "rdm_policy=%s",
                         msitranslate > 0, power_mgmt > 0, permissive > 0,
                         rdm_policy == XPCI_RDM_POLICY_RELAXED ? "relaxed"
                                                               : "strict");
}

static int step_domid(const struct xpci__action *a, uint32_t *domid_r)
{
    char *end;
    unsigned long v;

    if (!a->path)
        return -EINVAL;
    v = strtoul(a->path, &end, 10);
    if (*end || v >= XPCI_DOMID_IO)
        return -EINVAL;
    *domid_r = (uint32_t)v;
    return 0;
}

char *xpci__attach_describe(const char *dev, const struct xpci__action *a)
{
    const char *d = a->path ? a->path : "?";
    const char *v = a->val ? a->val : "";
    unsigned long long x = 0, y = 0;
    struct entry e;

    switch (a->kind) {
    case XPCI__STEP_ASSIGN:
        return xpci__sprintf("%s: xc_assign_device(d%s, flags=%s)", dev, d,
                             v);
    case XPCI__STEP_DEASSIGN:
        return xpci__sprintf("%s: xc_deassign_device(d%s) (back to "
                             "quarantine)", dev, d);
    case XPCI__STEP_IOMEM_ALLOW:
    case XPCI__STEP_IOMEM_REVOKE:
        sscanf(v, "%llx %llx", &x, &y);
        return xpci__sprintf("%s: xc_domain_iomem_permission(d%s, mfn "
                             "0x%llx, %llu pages, %s)", dev, d, x, y,
                             a->kind == XPCI__STEP_IOMEM_ALLOW ? "allow"
                                                               : "revoke");
    case XPCI__STEP_IOPORT_ALLOW:
    case XPCI__STEP_IOPORT_REVOKE:
        sscanf(v, "%llx %llx", &x, &y);
        return xpci__sprintf("%s: xc_domain_ioport_permission(d%s, port "
                             "0x%llx, %llu ports, %s)", dev, d, x, y,
                             a->kind == XPCI__STEP_IOPORT_ALLOW ? "allow"
                                                                : "revoke");
    case XPCI__STEP_IRQ_ALLOW:
        return xpci__sprintf("%s: xc_physdev_map_pirq(d%s, irq %s) + "
                             "xc_domain_irq_permission(allow)", dev, d, v);
    case XPCI__STEP_IRQ_REVOKE:
        return xpci__sprintf("%s: xc_domain_irq_permission(d%s, pirq %s, "
                             "revoke) + xc_physdev_unmap_pirq", dev, d, v);
    case XPCI__STEP_PV_ADD:
        if (entry_parse(v, &e) < 0)
            break;
        return xpci__sprintf("%s: xenstore: add to pciback backend of d%s "
                             "(%s%s%s)%s", dev, d, e.opts,
                             e.name ? ", name=" : "", e.name ? e.name : "",
                             e.wait ? ", hot-plug and wait for the guest"
                                    : "");
    case XPCI__STEP_PV_REMOVE:
        return xpci__sprintf("%s: xenstore: remove from pciback backend of "
                             "d%s (state-N=Closing, wait for the guest%s)",
                             dev, d, atoi(v) ? "; forced" : "");
    case XPCI__STEP_QMP_ADD:
        if (entry_parse(v, &e) < 0)
            break;
        return xpci__sprintf("%s: QMP device_add xen-pci-passthrough to "
                             "d%s's device model (%s) + backend entry", dev,
                             d, e.opts);
    case XPCI__STEP_QMP_DEL:
        return xpci__sprintf("%s: QMP device_del from d%s's device model, "
                             "wait for DEVICE_DELETED%s", dev, d,
                             atoi(v) ? "; forced" : "");
    default:
        break;
    }
    return xpci__sprintf("%s: %s (malformed step)", dev, v);
}

/* ------------------------------------------------- pciback's backend */

static void backend_path(uint32_t domid, char *buf, size_t len)
{
    snprintf(buf, len, XPCI__XS_PCIBACK_FMT, domid);
}

static int xs_write_at(xpci_ctx *ctx, uint32_t txn, const char *dir,
                       const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int xs_write_at(xpci_ctx *ctx, uint32_t txn, const char *dir,
                       const char *key, const char *fmt, ...)
{
    char path[256];
    _cleanup_free_ char *val = NULL;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&val, fmt, ap);
    va_end(ap);
    if (r < 0) {
        val = NULL;
        return -ENOMEM;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return ctx->xs->write(ctx->xs_priv, txn, path, val);
}

static int xs_read_at(xpci_ctx *ctx, uint32_t txn, const char *dir,
                      const char *key, char **val_r)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xpci__xs_read(ctx, txn, path, val_r);
}

static int xs_rm_at(xpci_ctx *ctx, uint32_t txn, const char *dir,
                    const char *key)
{
    char path[256];
    int r;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    r = ctx->xs->rm(ctx->xs_priv, txn, path);
    return r == -ENOENT ? 0 : r;
}

/* num_devs of the backend at be; -ENOENT when there is no backend. */
static int backend_num(xpci_ctx *ctx, uint32_t txn, const char *be,
                       unsigned *n_r)
{
    _cleanup_free_ char *v = NULL;
    char *end;
    int r = xs_read_at(ctx, txn, be, "num_devs", &v);

    if (r < 0)
        return r;
    *n_r = (unsigned)strtoul(v, &end, 10);
    return *end || *n_r > 256 ? -EBADMSG : 0;
}

/* Index of dev in the backend, or -ENOENT. */
static int backend_index(xpci_ctx *ctx, uint32_t txn, const char *be,
                         unsigned n, const struct xpci_bdf *bdf)
{
    for (unsigned i = 0; i < n; i++) {
        _cleanup_free_ char *v = NULL;
        struct xpci_bdf b;
        char key[32];

        snprintf(key, sizeof(key), "dev-%u", i);
        if (xs_read_at(ctx, txn, be, key, &v) == 0 &&
            xpci_bdf_parse(v, &b) == 0 && !xpci_bdf_cmp(&b, bdf))
            return (int)i;
    }
    return -ENOENT;
}

struct be_add {
    uint32_t domid;
    const char *dom_name;
    struct xpci_bdf bdf;
    const char *dev;
    struct entry e;
    bool hvm;
    /* out */
    bool present;   /* already listed */
    bool created;   /* this call made the backend */
    unsigned index;
};

/* libxl's first-device layout: backend readable by the guest, frontend
 * owned by the guest and readable by dom0. */
static int create_backend(xpci_ctx *ctx, uint32_t txn, struct be_add *req,
                          const char *be, const char *fe)
{
    const struct xpci_xs_perm be_perms[] = {
        {.domid = 0, .perms = XPCI_XS_PERM_NONE},
        {.domid = req->domid, .perms = XPCI_XS_PERM_READ},
    };
    const struct xpci_xs_perm fe_perms[] = {
        {.domid = req->domid, .perms = XPCI_XS_PERM_NONE},
        {.domid = 0, .perms = XPCI_XS_PERM_READ},
    };
    int r;

    ctx->xs->rm(ctx->xs_priv, txn, be);
    if ((r = ctx->xs->mkdir(ctx->xs_priv, txn, be)) < 0 ||
        (r = ctx->xs->set_perms(ctx->xs_priv, txn, be, be_perms, 2)) < 0 ||
        (r = xs_write_at(ctx, txn, be, "frontend", "%s", fe)) < 0 ||
        (r = xs_write_at(ctx, txn, be, "frontend-id", "%u", req->domid)) < 0 ||
        (r = xs_write_at(ctx, txn, be, "online", "1")) < 0 ||
        (r = xs_write_at(ctx, txn, be, "state", "%d", XB_INITIALISING)) < 0 ||
        (r = xs_write_at(ctx, txn, be, "domain", "%s",
                         req->dom_name ? req->dom_name : "")) < 0)
        return r;
    ctx->xs->rm(ctx->xs_priv, txn, fe);
    if ((r = ctx->xs->mkdir(ctx->xs_priv, txn, fe)) < 0 ||
        (r = ctx->xs->set_perms(ctx->xs_priv, txn, fe, fe_perms, 2)) < 0 ||
        (r = xs_write_at(ctx, txn, fe, "backend", "%s", be)) < 0 ||
        (r = xs_write_at(ctx, txn, fe, "backend-id", "0")) < 0 ||
        (r = xs_write_at(ctx, txn, fe, "state", "%d", XB_INITIALISING)) < 0)
        return r;
    return 0;
}

static int be_add_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct be_add *req = arg;
    char be[64], fe[64], key[32];
    unsigned n = 0;
    int r;

    req->present = req->created = false;
    backend_path(req->domid, be, sizeof(be));
    snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, req->domid);
    r = backend_num(ctx, txn, be, &n);
    if (r == -ENOENT) {
        if ((r = create_backend(ctx, txn, req, be, fe)) < 0)
            return r;
        req->created = true;
        n = 0;
    } else if (r < 0) {
        return r;
    } else if ((r = backend_index(ctx, txn, be, n, &req->bdf)) >= 0) {
        _cleanup_free_ char *sub = NULL;

        req->index = (unsigned)r;
        snprintf(key, sizeof(key), "state-%u", req->index);
        if (xs_read_at(ctx, txn, be, key, &sub) < 0 ||
            atoi(sub) < XB_CLOSING) {
            req->present = true;
            return 0;
        }
        /* Being (or been) released, as an interrupted detach leaves it:
         * plug it in again. */
        if ((r = xs_write_at(ctx, txn, be, key, "%d", XB_INITIALISING)) < 0)
            return r;
        return req->hvm ? 0 : xs_write_at(ctx, txn, be, "state", "%d",
                                          XB_RECONFIGURING);
    }
    req->index = n;
    snprintf(key, sizeof(key), "key-%u", n);
    if ((r = xs_write_at(ctx, txn, be, key, "%s", req->dev)) < 0)
        return r;
    snprintf(key, sizeof(key), "dev-%u", n);
    if ((r = xs_write_at(ctx, txn, be, key, "%s", req->dev)) < 0)
        return r;
    if (req->e.vdevfn >= 0) {
        snprintf(key, sizeof(key), "vdevfn-%u", n);
        if ((r = xs_write_at(ctx, txn, be, key, "%x", req->e.vdevfn)) < 0)
            return r;
    }
    if (req->e.name) {
        snprintf(key, sizeof(key), "name-%u", n);
        if ((r = xs_write_at(ctx, txn, be, key, "%s", req->e.name)) < 0)
            return r;
    }
    snprintf(key, sizeof(key), "opts-%u", n);
    if ((r = xs_write_at(ctx, txn, be, key, "%s", req->e.opts)) < 0)
        return r;
    snprintf(key, sizeof(key), "state-%u", n);
    if ((r = xs_write_at(ctx, txn, be, key, "%d", XB_INITIALISING)) < 0 ||
        (r = xs_write_at(ctx, txn, be, "num_devs", "%u", n + 1)) < 0)
        return r;
    /* A running PV guest learns of an added function by Reconfiguring. */
    if (!req->created && !req->hvm)
        r = xs_write_at(ctx, txn, be, "state", "%d", XB_RECONFIGURING);
    return r;
}

/* What the wait for the guest looks at: both ends Connected (pcifront
 * acts on a backend change only while it is Connected itself, so a
 * reconfiguration must wait for it, not just for pciback), and the
 * function's own state. */
struct be_wait {
    const char *be, *fe;
    int index;        /* state-N that must read want_sub, or -1 */
    int want_sub;
};

static int read_int_at(xpci_ctx *ctx, const char *dir, const char *key)
{
    _cleanup_free_ char *v = NULL;

    if (xs_read_at(ctx, XPCI_XS_NO_TXN, dir, key, &v) < 0)
        return -1;
    return atoi(v);
}

static int backend_settled(xpci_ctx *ctx, void *arg)
{
    struct be_wait *w = arg;
    char key[32];

    if (read_int_at(ctx, w->be, "state") != XB_CONNECTED ||
        read_int_at(ctx, w->fe, "state") != XB_CONNECTED)
        return 0;
    if (w->index < 0)
        return 1;
    snprintf(key, sizeof(key), "state-%d", w->index);
    return read_int_at(ctx, w->be, key) == w->want_sub;
}

static int guest_timeout(const xpci_ctx *ctx)
{
    return ctx->guest_timeout_ms > 0 ? ctx->guest_timeout_ms
                                     : XPCI_GUEST_TIMEOUT_MS;
}

/* Why a wait on the backend of domid ended without the guest: the states
 * and pciback's own error, if it wrote one. */
static void remember_stall(xpci_ctx *ctx, uint32_t domid, const char *be,
                           const char *what)
{
    _cleanup_free_ char *err = NULL;
    char path[96], fe[64];

    snprintf(path, sizeof(path), XS_ERROR_FMT, domid);
    xpci__xs_read(ctx, XPCI_XS_NO_TXN, path, &err);
    snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, domid);
    if (ctx->step_detail)
        return; /* the first stall is the one to tell (undo may stall too) */
    ctx->step_detail = xpci__sprintf(
        "%s: backend state %d, frontend state %d after %d ms%s%s", what,
        read_int_at(ctx, be, "state"), read_int_at(ctx, fe, "state"),
        guest_timeout(ctx), err ? "; pciback: " : "", err ? err : "");
}

static int wait_backend(xpci_ctx *ctx, uint32_t domid, const char *be,
                        int index, int want_sub, const char *what)
{
    char fe[64];
    const char *paths[] = {be, fe};
    struct be_wait w = {.be = be, .fe = fe, .index = index,
                        .want_sub = want_sub};
    int r;

    snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, domid);
    r = xpci__xs_wait_cond(ctx, paths, 2, backend_settled, &w,
                           guest_timeout(ctx));

    if (r == -ETIMEDOUT)
        remember_stall(ctx, domid, be, what);
    return r;
}

static int be_add(xpci_ctx *ctx, uint32_t domid, const char *dev,
                  const struct entry *e, bool hvm)
{
    _cleanup_free_ char *name = NULL;
    struct be_add req = {.domid = domid, .dev = dev, .e = *e, .hvm = hvm};
    char be[64];
    unsigned n;
    int r;

    if (!ctx->xs)
        return -ENOTCONN;
    if (xpci_bdf_parse(dev, &req.bdf) < 0)
        return -EINVAL;
    read_domain_name(ctx, domid, &name);
    req.dom_name = name;
    backend_path(domid, be, sizeof(be));
    /* libxl waits for a connected backend before it adds to it */
    if (e->wait && backend_num(ctx, XPCI_XS_NO_TXN, be, &n) == 0 &&
        (r = wait_backend(ctx, domid, be, -1, 0,
                          "the guest's PCI backend is busy")) < 0)
        return r;
    r = xpci__xs_txn_run(ctx, be_add_txn, &req);
    if (r < 0)
        return r;
    if (req.present)
        return 0;
    if (e->wait && (r = wait_backend(ctx, domid, be, (int)req.index,
                                     XB_INITIALISED,
                                     "the guest did not take the "
                                     "function")) < 0)
        return r;
    return 1;
}

struct be_del {
    uint32_t domid;
    struct xpci_bdf bdf;
    unsigned n, index;
    bool closing;   /* phase 1: mark; else phase 2: remove */
    int prev_sub;   /* phase 1 out: state-N before */
    int prev_state; /* phase 1 out: backend state before */
};

/* Remove path, then its parent if that is left empty. */
static int rm_with_parent(xpci_ctx *ctx, uint32_t txn, const char *path)
{
    _cleanup_free_ char *parent = strdup(path);
    char **names = NULL;
    unsigned n = 0;
    char *slash;
    int r = ctx->xs->rm(ctx->xs_priv, txn, path);

    if (r < 0 && r != -ENOENT)
        return r;
    if (!parent || !(slash = strrchr(parent, '/')))
        return parent ? 0 : -ENOMEM;
    *slash = '\0';
    r = ctx->xs->directory(ctx->xs_priv, txn, parent, &names, &n);
    xpci__strv_free(names, n);
    if (r == 0 && n == 0 && (r = ctx->xs->rm(ctx->xs_priv, txn, parent)) < 0 &&
        r != -ENOENT)
        return r;
    return 0;
}

static const char *const entry_keys[] = {"state", "key", "dev", "vdev",
                                         "opts", "vdevfn", "name"};

static int be_del_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct be_del *req = arg;
    char be[64], fe[64], key[32];
    int r;

    backend_path(req->domid, be, sizeof(be));
    if ((r = backend_num(ctx, txn, be, &req->n)) < 0 ||
        (r = backend_index(ctx, txn, be, req->n, &req->bdf)) < 0)
        return r;
    req->index = (unsigned)r;
    if (req->closing) {
        _cleanup_free_ char *sub = NULL, *st = NULL;

        snprintf(key, sizeof(key), "state-%u", req->index);
        req->prev_sub = xs_read_at(ctx, txn, be, key, &sub) == 0 ? atoi(sub)
                                                                 : -1;
        req->prev_state = xs_read_at(ctx, txn, be, "state", &st) == 0
                              ? atoi(st) : -1;
        if ((r = xs_write_at(ctx, txn, be, key, "%d", XB_CLOSING)) < 0)
            return r;
        return xs_write_at(ctx, txn, be, "state", "%d", XB_RECONFIGURING);
    }
    if (req->n == 1) {
        /* the last one: the whole device goes, as libxl's destroy does,
         * with the parents it leaves empty */
        snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, req->domid);
        if ((r = rm_with_parent(ctx, txn, be)) < 0)
            return r;
        return rm_with_parent(ctx, txn, fe);
    }
    for (size_t k = 0; k < ARRAY_SIZE(entry_keys); k++) {
        snprintf(key, sizeof(key), "%s-%u", entry_keys[k], req->index);
        if ((r = xs_rm_at(ctx, txn, be, key)) < 0)
            return r;
    }
    /* later entries move down one */
    for (unsigned j = req->index + 1; j < req->n; j++) {
        for (size_t k = 0; k < ARRAY_SIZE(entry_keys); k++) {
            _cleanup_free_ char *v = NULL;

            snprintf(key, sizeof(key), "%s-%u", entry_keys[k], j);
            r = xs_read_at(ctx, txn, be, key, &v);
            if (r == -ENOENT)
                continue;
            if (r < 0 || (r = xs_rm_at(ctx, txn, be, key)) < 0)
                return r;
            snprintf(key, sizeof(key), "%s-%u", entry_keys[k], j - 1);
            if ((r = xs_write_at(ctx, txn, be, key, "%s", v)) < 0)
                return r;
        }
    }
    return xs_write_at(ctx, txn, be, "num_devs", "%u", req->n - 1);
}

struct be_restore {
    uint32_t domid;
    unsigned index;
    int sub, state;
};

static int be_restore_txn(xpci_ctx *ctx, uint32_t txn, void *arg)
{
    struct be_restore *req = arg;
    char be[64], key[32];
    int r;

    backend_path(req->domid, be, sizeof(be));
    snprintf(key, sizeof(key), "state-%u", req->index);
    if (req->sub >= 0 &&
        (r = xs_write_at(ctx, txn, be, key, "%d", req->sub)) < 0)
        return r;
    return req->state >= 0
               ? xs_write_at(ctx, txn, be, "state", "%d", req->state)
               : 0;
}

/* Take dev out of the backend.  With wait, the guest is asked to release
 * it first; a guest that does not answer leaves everything as it was
 * (-ETIMEDOUT) unless force. */
static int be_remove(xpci_ctx *ctx, uint32_t domid, const char *dev,
                     bool wait, bool force)
{
    struct be_del req = {.domid = domid};
    char be[64], fe[64];
    int r;

    if (!ctx->xs)
        return -ENOTCONN;
    if (xpci_bdf_parse(dev, &req.bdf) < 0)
        return -EINVAL;
    backend_path(domid, be, sizeof(be));
    snprintf(fe, sizeof(fe), XPCI__XS_PCIFRONT_FMT, domid);
    /* A forced removal from a connection that is not up (the guest never
     * answered) does not ask the guest first. */
    if (wait && force &&
        (read_int_at(ctx, be, "state") != XB_CONNECTED ||
         read_int_at(ctx, fe, "state") != XB_CONNECTED))
        wait = false;
    if (wait) {
        r = wait_backend(ctx, domid, be, -1, 0,
                         "the guest's PCI backend is busy");
        if (r < 0)
            return r;
        req.closing = true;
        r = xpci__xs_txn_run(ctx, be_del_txn, &req);
        if (r == -ENOENT)
            return 0;
        if (r < 0)
            return r;
        r = wait_backend(ctx, domid, be, -1, 0,
                         "the guest did not release the function");
        if (r < 0 && !(force && r == -ETIMEDOUT)) {
            struct be_restore back = {.domid = domid, .index = req.index,
                                      .sub = req.prev_sub,
                                      .state = req.prev_state};

            xpci__xs_txn_run(ctx, be_restore_txn, &back);
            return r;
        }
    }
    req.closing = false;
    r = xpci__xs_txn_run(ctx, be_del_txn, &req);
    if (r == -ENOENT)
        return 0;
    return r < 0 ? r : 1;
}

/* ------------------------------------------------------------ QMP */

static int qmp_connect(xpci_ctx *ctx, uint32_t domid, struct xpci__qmp **q_r)
{
    _cleanup_free_ char *path = NULL, *err = NULL;
    int r;

    path = xpci__sprintf(QMP_SOCKET_FMT, ctx->run_dir, domid);
    if (!path)
        return -ENOMEM;
    r = xpci__qmp_open(path, guest_timeout(ctx), q_r, &err);
    if (r < 0) {
        free(ctx->step_detail);
        ctx->step_detail = xpci__sprintf("device model of d%u at %s: %s",
                                         domid, path,
                                         err ? err : strerror(-r));
    }
    return r;
}

static void qmp_detail(xpci_ctx *ctx, const char *what, char *err)
{
    if (!err)
        return;
    free(ctx->step_detail);
    ctx->step_detail = xpci__sprintf("%s: %s", what, err);
    free(err);
}

static int qmp_add(xpci_ctx *ctx, uint32_t domid, const char *dev,
                   const struct entry *e)
{
    struct xpci__qmp *q = NULL;
    struct entry rec = *e;
    struct xpci_bdf bdf;
    char *err = NULL;
    int vdevfn = -1, r;

    if (xpci_bdf_parse(dev, &bdf) < 0)
        return -EINVAL;
    if ((r = qmp_connect(ctx, domid, &q)) < 0)
        return r;
    r = xpci__qmp_pt_find(q, &bdf, guest_timeout(ctx), &vdevfn, &err);
    if (r == 0) {
        free(err);
        err = NULL;
        r = xpci__qmp_pt_add(q, &bdf, e->vdevfn,
                             strstr(e->opts, "permissive=1") != NULL,
                             guest_timeout(ctx), &vdevfn, &err);
        if (r == 0)
            r = 1;
    }
    xpci__qmp_close(q);
    if (r < 0) {
        qmp_detail(ctx, "QMP device_add", err);
        return r;
    }
    free(err);
    /* libxl keeps an HVM guest's functions in the backend too, with the
     * guest address the device model chose. */
    rec.vdevfn = vdevfn;
    rec.wait = false;
    return be_add(ctx, domid, dev, &rec, true) < 0 ? -EIO : r;
}

static int qmp_del(xpci_ctx *ctx, uint32_t domid, const char *dev, bool force)
{
    struct xpci__qmp *q = NULL;
    struct xpci_bdf bdf;
    char *err = NULL;
    int r;

    if (xpci_bdf_parse(dev, &bdf) < 0)
        return -EINVAL;
    r = qmp_connect(ctx, domid, &q);
    if (r >= 0) {
        r = xpci__qmp_pt_del(q, &bdf, guest_timeout(ctx), &err);
        xpci__qmp_close(q);
    }
    if (r < 0 && !force) {
        qmp_detail(ctx, "QMP device_del", err);
        return r;
    }
    free(err);
    r = be_remove(ctx, domid, dev, false, true);
    return r < 0 ? r : 1;
}

/* ------------------------------------------------------------ steps */

static bool held_by_record(xpci_ctx *ctx, const struct xpci_bdf *bdf,
                           uint32_t domid)
{
    struct xpci__libxl_record rec;
    bool held;

    /* Xen must see it with some guest (test-assign refuses it), and the
     * record name that guest. */
    if (!ctx->hv->test_assign ||
        ctx->hv->test_assign(ctx->hv_priv, domid, xpci_bdf_to_sbdf(bdf)) !=
            -EINVAL ||
        xpci__xs_libxl_record(ctx, bdf, &rec) < 0)
        return false;
    held = rec.domid >= 0 && (uint32_t)rec.domid == domid;
    xpci__libxl_record_dispose(&rec);
    return held;
}

static int two_hex(const char *v, unsigned long long *x, unsigned long long *y)
{
    return v && sscanf(v, "%llx %llx", x, y) == 2 ? 0 : -EINVAL;
}

int xpci__attach_act(xpci_ctx *ctx, const char *dev,
                     const struct xpci__action *a)
{
    const struct xpci_hv_ops *hv = ctx->hv;
    unsigned long long x, y;
    struct xpci_bdf bdf;
    struct entry e;
    uint32_t domid, sbdf;
    int r, pirq;

    if ((r = step_domid(a, &domid)) < 0 || xpci_bdf_parse(dev, &bdf) < 0)
        return -EINVAL;
    sbdf = xpci_bdf_to_sbdf(&bdf);
    switch (a->kind) {
    case XPCI__STEP_ASSIGN:
        if (!hv || !hv->assign)
            return -ENOSYS;
        r = hv->assign(ctx->hv_priv, domid, sbdf,
                       a->val ? (uint32_t)atoi(a->val) : 0);
        /* Busy because it is domid's already (an undone deassign that
         * failed): the record written before the assign says so. */
        if (r == -EBUSY && held_by_record(ctx, &bdf, domid))
            return 0;
        return r < 0 ? r : 1;
    case XPCI__STEP_DEASSIGN:
        if (!hv || !hv->deassign)
            return -ENOSYS;
        r = hv->deassign(ctx->hv_priv, domid, sbdf);
        /* not held by domid (any more): nothing to do */
        if (r == -ENODEV || r == -ESRCH)
            return 0;
        return r < 0 ? r : 1;
    case XPCI__STEP_IOMEM_ALLOW:
    case XPCI__STEP_IOMEM_REVOKE:
        if (!hv || !hv->iomem_permission)
            return -ENOSYS;
        if (two_hex(a->val, &x, &y) < 0)
            return -EINVAL;
        r = hv->iomem_permission(ctx->hv_priv, domid, x, y,
                                 a->kind == XPCI__STEP_IOMEM_ALLOW);
        if (r == -ESRCH && a->kind == XPCI__STEP_IOMEM_REVOKE)
            return 0; /* the domain is gone, and its permissions with it */
        return r < 0 ? r : 1;
    case XPCI__STEP_IOPORT_ALLOW:
    case XPCI__STEP_IOPORT_REVOKE:
        if (!hv || !hv->ioport_permission)
            return -ENOSYS;
        if (two_hex(a->val, &x, &y) < 0)
            return -EINVAL;
        r = hv->ioport_permission(ctx->hv_priv, domid, (uint32_t)x,
                                  (uint32_t)y,
                                  a->kind == XPCI__STEP_IOPORT_ALLOW);
        if (r == -ESRCH && a->kind == XPCI__STEP_IOPORT_REVOKE)
            return 0;
        return r < 0 ? r : 1;
    case XPCI__STEP_IRQ_ALLOW:
        if (!hv || !hv->map_pirq || !hv->irq_permission)
            return -ENOSYS;
        if ((r = hv->map_pirq(ctx->hv_priv, domid, atoi(a->val), &pirq)) < 0)
            return r;
        r = hv->irq_permission(ctx->hv_priv, domid, pirq, true);
        if (r < 0) {
            hv->unmap_pirq(ctx->hv_priv, domid, pirq);
            return r;
        }
        return 1;
    case XPCI__STEP_IRQ_REVOKE:
        if (!hv || !hv->unmap_pirq || !hv->irq_permission)
            return -ENOSYS;
        /* For a GSI Xen hands the guest pirq == irq (libxl relies on the
         * same when it revokes). */
        r = hv->irq_permission(ctx->hv_priv, domid, atoi(a->val), false);
        if (r == -ESRCH)
            return 0;
        if (r < 0)
            return r;
        r = hv->unmap_pirq(ctx->hv_priv, domid, atoi(a->val));
        return r < 0 && r != -EINVAL && r != -ESRCH ? r : 1;
    case XPCI__STEP_PV_ADD:
        if (entry_parse(a->val, &e) < 0)
            return -EINVAL;
        return be_add(ctx, domid, dev, &e, false);
    case XPCI__STEP_PV_REMOVE:
        return be_remove(ctx, domid, dev, true, a->val && atoi(a->val));
    case XPCI__STEP_QMP_ADD:
        if (entry_parse(a->val, &e) < 0)
            return -EINVAL;
        return qmp_add(ctx, domid, dev, &e);
    case XPCI__STEP_QMP_DEL:
        return qmp_del(ctx, domid, dev, a->val && atoi(a->val));
    default:
        return -EINVAL;
    }
}

/* ------------------------------------------------------------ planning */

struct att {
    xpci_ctx *ctx;
    struct xpci_host *host;
    const struct xpci_attach_opts *opts;
    struct xpci_result *res;
    struct xpci__plan plan;
    int lock;
    uint32_t domid;
    char domid_str[12];
    char *dom_name;
    int type;
    /* per host device: chosen, and its guest-side entry */
    bool *chosen;
    struct xpci__pciback_dev *attached; /* the domain's backend entries */
    size_t n_attached;
    struct xpci_assignable *hidden;     /* assignable functions, read */
    size_t n_hidden;                    /* when a name needs them */
    bool hidden_read;
    /* backends of domains that are gone, to be removed before the
     * functions they list can be exported again */
    uint32_t stale[8];
    unsigned n_stale;
};

static void att_dispose(struct att *at)
{
    xpci__plan_dispose(&at->plan);
    free(at->chosen);
    free(at->dom_name);
    xpci__pciback_list_free(at->attached, at->n_attached);
    xpci_assignable_list_free(at->hidden, at->n_hidden);
    xpci_host_free(at->host);
    if (at->lock >= 0)
        close(at->lock);
    free(at->ctx->step_detail);
    at->ctx->step_detail = NULL;
    at->ctx->guest_timeout_ms = 0;
}

static const char *dom_label(const struct att *at, char *buf, size_t len)
{
    if (at->dom_name)
        snprintf(buf, len, "%s (d%u)", at->dom_name, at->domid);
    else
        snprintf(buf, len, "d%u", at->domid);
    return buf;
}

static int att_begin(struct att *at, xpci_ctx *ctx, const char *domain,
                     unsigned n, const struct xpci_attach_opts *opts,
                     struct xpci_result **res_r, const char *op_name)
{
    _cleanup_free_ char *why = NULL;
    int r;

    memset(at, 0, sizeof(*at));
    at->ctx = ctx;
    at->opts = opts;
    at->lock = -1;
    at->plan.op = op_name;
    at->res = calloc(1, sizeof(*at->res));
    if (!at->res)
        return -ENOMEM;
    *res_r = at->res;
    ctx->guest_timeout_ms = opts->timeout_ms;

    if (!ctx->xs) {
        xpci__result_error(at->res, "xenstore is not available: %s",
                           xpci_ctx_xs_unavailable(ctx));
        return -ENOTCONN;
    }
    r = xpci_domain_resolve(ctx, domain, &at->domid, &at->dom_name);
    if (r < 0) {
        xpci__result_error(at->res, "domain '%s': %s", domain,
                           r == -ESRCH ? "no such domain" : strerror(-r));
        return r;
    }
    if (at->domid == 0) {
        xpci__result_error(at->res, "domain '%s' is dom0: functions are "
                                    "given back to dom0 with xpci "
                                    "assignable-remove", domain);
        return -EINVAL;
    }
    snprintf(at->domid_str, sizeof(at->domid_str), "%u", at->domid);
    at->type = domain_type(ctx, at->domid, &why);
    if (at->type < 0) {
        xpci__result_error(at->res, "domain '%s': %s", domain,
                           why ? why : strerror(-at->type));
        return at->type;
    }
    if (!n) {
        xpci__result_error(at->res, "nothing to %s", op_name);
        return -EINVAL;
    }
    if (!opts->dry_run && (at->lock = xpci__op_lock(ctx, at->res)) < 0)
        return at->lock;
    r = xpci__op_scan(ctx, XPCI__SCAN_LIGHT, at->res, &at->host, &at->chosen);
    if (r < 0)
        return r;
    r = xpci__xs_pciback_list(ctx, at->domid, &at->attached,
                              &at->n_attached);
    if (r < 0) {
        xpci__result_error(at->res, "cannot read the PCI backend of d%u: %s",
                           at->domid, strerror(-r));
        return r;
    }
    return 0;
}

static const struct xpci__pciback_dev *
attached_entry(const struct att *at, const struct xpci_bdf *bdf)
{
    for (size_t i = 0; i < at->n_attached; i++)
        if (!xpci_bdf_cmp(&at->attached[i].bdf, bdf))
            return &at->attached[i];
    return NULL;
}

/* A domain Xen no longer runs (or, without the hypervisor, that has no
 * home in xenstore). */
static bool domain_gone(xpci_ctx *ctx, uint32_t domid)
{
    _cleanup_free_ char *v = NULL;
    char path[40];

    if (ctx->hv && ctx->hv->domain_exists)
        return ctx->hv->domain_exists(ctx->hv_priv, domid) == -ESRCH;
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    return xpci__xs_read(ctx, XPCI_XS_NO_TXN, path, &v) == -ENOENT;
}

/* Which other domain lists bdf in its PCI backend; -1 when none.  The
 * backend of a domain that is gone holds nothing any more: a destruction
 * whose guest would not let go leaves it behind (libxl gives up waiting
 * and leaves it).  Such a domain goes to *stale_r (-1 when none), as
 * pciback keeps the function until that backend is removed. */
static long other_holder(xpci_ctx *ctx, const struct xpci_bdf *bdf,
                         uint32_t self, long *stale_r)
{
    char **ids = NULL;
    unsigned n = 0;
    long holder = -1;

    if (stale_r)
        *stale_r = -1;
    if (ctx->xs->directory(ctx->xs_priv, XPCI_XS_NO_TXN, XS_BACKENDS, &ids,
                           &n) < 0)
        return -1;
    for (unsigned i = 0; i < n && holder < 0; i++) {
        struct xpci__pciback_dev *devs = NULL;
        size_t nd = 0;
        bool listed = false;
        uint32_t id;

        if (!all_digits(ids[i]) || (id = (uint32_t)atol(ids[i])) == self ||
            xpci__xs_pciback_list(ctx, id, &devs, &nd) < 0)
            continue;
        for (size_t k = 0; k < nd; k++)
            if (!xpci_bdf_cmp(&devs[k].bdf, bdf))
                listed = true;
        xpci__pciback_list_free(devs, nd);
        if (!listed)
            continue;
        if (!domain_gone(ctx, id))
            holder = id;
        else if (stale_r)
            *stale_r = id;
    }
    xpci__strv_free(ids, n);
    return holder;
}

static void holder_label(xpci_ctx *ctx, long domid, char *buf, size_t len)
{
    _cleanup_free_ char *name = NULL;

    if (read_domain_name(ctx, (uint32_t)domid, &name) == 0)
        snprintf(buf, len, "domain %s (d%ld)", name, domid);
    else
        snprintf(buf, len, "domain %ld", domid);
}

static bool is_hidden(const struct xpci_device *d)
{
    return d->driver && !strcmp(d->driver, PCIBACK) && d->in_pciback_slots;
}

/* The host functions a spec names; -errno with res->error. */
static int spec_functions(struct att *at, const struct xpci_spec *sp,
                          const char *text, size_t *idx, unsigned max,
                          unsigned *n_r)
{
    struct xpci_bdf want = sp->bdf;
    unsigned n = 0;

    if (!sp->has_bdf) {
        /* name=: the name given at assignable-add time */
        if (!at->hidden_read) {
            int r = xpci_assignable_list(at->ctx, &at->hidden,
                                         &at->n_hidden);

            if (r < 0) {
                xpci__result_error(at->res, "cannot list assignable "
                                            "functions: %s", strerror(-r));
                return r;
            }
            at->hidden_read = true;
        }
        for (size_t i = 0; i < at->n_hidden; i++)
            if (at->hidden[i].name && !strcmp(at->hidden[i].name, sp->name) &&
                xpci_bdf_parse(at->hidden[i].bdf, &want) == 0)
                goto found;
        xpci__result_error(at->res, "%s: no assignable function is named "
                                    "'%s'", text, sp->name);
        return -ENODEV;
    }
found:
    for (size_t i = 0; i < at->host->n && n < max; i++) {
        const struct xpci_bdf *b = &at->host->devs[i].bdf;

        if (b->domain == want.domain && b->bus == want.bus &&
            b->dev == want.dev && (sp->all_functions || b->func == want.func))
            idx[n++] = i;
    }
    if (!n) {
        xpci__result_error(at->res, "%s: no such PCI function%s", text,
                           sp->all_functions ? " in that slot" : "");
        return -ENODEV;
    }
    *n_r = n;
    return 0;
}

static int plan_perms(struct att *at, const struct xpci_device *d, bool give)
{
    const char *dev = d->bdf_str;
    char val[64];
    int r;

    for (unsigned i = 0; i < XPCI_NUM_RESOURCES; i++) {
        const struct xpci_bar *b = &d->bars[i];
        enum xpci__step_kind fwd, back;

        if (b->type == XPCI_BAR_UNUSED || !b->start || !b->size)
            continue;
        if (b->type == XPCI_BAR_IO) {
            snprintf(val, sizeof(val), "%" PRIx64 " %" PRIx64, b->start,
                     b->size);
            fwd = XPCI__STEP_IOPORT_ALLOW;
            back = XPCI__STEP_IOPORT_REVOKE;
        } else {
            snprintf(val, sizeof(val), "%" PRIx64 " %" PRIx64,
                     b->start >> PAGE_SHIFT,
                     (b->size + (1U << PAGE_SHIFT) - 1) >> PAGE_SHIFT);
            fwd = XPCI__STEP_IOMEM_ALLOW;
            back = XPCI__STEP_IOMEM_REVOKE;
        }
        r = give ? xpci__plan_add(&at->plan, dev, fwd, at->domid_str, val,
                                  back, at->domid_str, val)
                 : xpci__plan_add(&at->plan, dev, back, at->domid_str, val,
                                  fwd, at->domid_str, val);
        if (r < 0)
            return r;
    }
    if (d->irq > 0) {
        snprintf(val, sizeof(val), "%d", d->irq);
        r = give ? xpci__plan_add(&at->plan, dev, XPCI__STEP_IRQ_ALLOW,
                                  at->domid_str, val, XPCI__STEP_IRQ_REVOKE,
                                  at->domid_str, val)
                 : xpci__plan_add(&at->plan, dev, XPCI__STEP_IRQ_REVOKE,
                                  at->domid_str, val, XPCI__STEP_IRQ_ALLOW,
                                  at->domid_str, val);
        if (r < 0)
            return r;
    }
    return 0;
}

static void record_path(const struct xpci_device *d, char *buf, size_t len)
{
    char key[XPCI__XS_LIBXL_KEY_LEN];

    xpci__xs_libxl_key(&d->bdf, key);
    snprintf(buf, len, XPCI__XS_LIBXL_PCI "/%s/domid", key);
}

/* Refuse what can't be given to the domain; -errno with res->error. */
/* Plan the removal of the PCI backend a gone domain left behind, once,
 * first of all: pciback lets go of d only when it disappears. */
static int note_stale(struct att *at, const struct xpci_device *d,
                      long domid)
{
    char be[64];
    int r;

    for (unsigned i = 0; i < at->n_stale; i++)
        if (at->stale[i] == (uint32_t)domid)
            return 0;
    if (at->n_stale == sizeof(at->stale) / sizeof(at->stale[0]))
        return 0;
    at->stale[at->n_stale++] = (uint32_t)domid;
    snprintf(be, sizeof(be), XS_BACKENDS "/%ld", domid);
    xpci__result_note(at->res, "%s: still listed by the PCI backend of "
                               "domain %ld, which no longer exists; that "
                               "backend (%s) is removed first",
                      d->bdf_str, domid, be);
    if ((r = xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_XS_RM, be,
                            NULL, XPCI__STEP_NONE, NULL, NULL)) < 0)
        return r;
    snprintf(be, sizeof(be), "/local/domain/0/error/backend/pci/%ld", domid);
    return xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_XS_RM, be, NULL,
                          XPCI__STEP_NONE, NULL, NULL);
}

static int vet_attach(struct att *at, const struct xpci_device *d,
                      bool seize, bool *skip_r)
{
    const xpci_ctx *ctx = at->ctx;
    char who[96], dom[96];
    long holder, stale = -1;
    int r;

    *skip_r = false;
    dom_label(at, dom, sizeof(dom));
    if (attached_entry(at, &d->bdf)) {
        xpci__result_note(at->res, "%s: already attached to %s", d->bdf_str,
                          dom);
        *skip_r = true;
        return 0;
    }
    holder = d->xen_domid >= 0 && (uint32_t)d->xen_domid != at->domid
                 ? d->xen_domid
                 : other_holder(at->ctx, &d->bdf, at->domid, &stale);
    if (holder < 0 && stale >= 0 && (r = note_stale(at, d, stale)) < 0)
        return r;
    if (holder >= 0) {
        holder_label(at->ctx, holder, who, sizeof(who));
        xpci__result_error(at->res, "%s: assigned to %s: detach it there "
                                    "first (xpci detach %ld %s)",
                           d->bdf_str, who, holder, d->bdf_str);
        return -EBUSY;
    }
    if (d->is_bridge || d->is_host_bridge) {
        xpci__result_error(at->res, "%s: a bridge cannot be given to a "
                                    "guest", d->bdf_str);
        return -EPERM;
    }
    /* A PF whose VFs are out with guests stays: resetting or handing it
     * over would pull the VFs from under them. */
    for (unsigned v = 0; v < d->n_virtfns; v++) {
        const struct xpci_device *vf;

        if (xpci_host_find(at->host, d->virtfns[v], &vf) == 0 &&
            vf->xen_domid >= 0) {
            holder_label(at->ctx, vf->xen_domid, who, sizeof(who));
            xpci__result_error(at->res, "%s: its VF %s is assigned to %s; "
                                        "a PF can't be given away while "
                                        "its VFs are",
                               d->bdf_str, vf->bdf_str, who);
            return -EBUSY;
        }
    }
    if (!is_hidden(d) && !seize) {
        xpci__result_error(at->res, "%s: not assignable (%s%s): make it "
                                    "assignable first (xpci assignable-add "
                                    "%s), or attach with --seize",
                           d->bdf_str, d->driver ? "bound to " : "no driver",
                           d->driver ? d->driver : "", d->bdf_str);
        return -EPERM;
    }
    if (!ctx->hv || !ctx->hv->test_assign) {
        xpci__result_error(at->res, "%s: the hypervisor is not available: "
                                    "%s", d->bdf_str,
                           xpci_ctx_hv_unavailable(ctx));
        return -ENOSYS;
    }
    if (!is_hidden(d))
        return 0; /* seized: tested after the hiding */
    r = ctx->hv->test_assign(ctx->hv_priv, at->domid, xpci_bdf_to_sbdf(&d->bdf));
    if (r == -EINVAL) {
        /* Xen answers the same for "assigned elsewhere" and "unknown". */
        xpci__result_error(at->res, "%s: Xen refuses it (EINVAL): it is "
                                    "assigned to a domain that neither "
                                    "libxl nor xpci recorded, or Xen does "
                                    "not know this function (a device "
                                    "added after boot that Xen was not told "
                                    "of)", d->bdf_str);
        return -EBUSY;
    }
    if (r == -EOPNOTSUPP) {
        xpci__result_error(at->res, "%s: Xen cannot assign it: the IOMMU is "
                                    "off (boot Xen with iommu=1)",
                           d->bdf_str);
        return r;
    }
    if (r < 0) {
        xpci__result_error(at->res, "%s: xc_test_assign_device(d%u): %s",
                           d->bdf_str, at->domid, strerror(-r));
        return r;
    }
    return 0;
}

struct want {
    size_t idx;
    int vdevfn;
    int permissive, msitranslate, power_mgmt, rdm_policy;
    bool seize;
    char *name;
};

static void wants_free(struct want *wants, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        free(wants[i].name);
    free(wants);
}

static int plan_attach_one(struct att *at, const struct want *w)
{
    const struct xpci_device *d = &at->host->devs[w->idx];
    _cleanup_free_ char *opts = NULL, *val = NULL;
    char rec[96], flags[4];
    bool hvm = at->type == XPCI_DOMAIN_HVM;
    int r;

    record_path(d, rec, sizeof(rec));
    if ((r = xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_XS_WRITE, rec,
                            at->domid_str, XPCI__STEP_XS_RM, rec, NULL)) < 0 ||
        (r = plan_perms(at, d, true)) < 0)
        return r;
    if (w->permissive > 0 &&
        (r = xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_WRITE,
                            PCIBACK_PERMISSIVE, d->bdf_str, XPCI__STEP_NONE,
                            NULL, NULL)) < 0)
        return r;
    snprintf(flags, sizeof(flags), "%u",
             w->rdm_policy == XPCI_RDM_POLICY_RELAXED
                 ? XPCI_ASSIGN_RDM_RELAXED : 0U);
    if ((r = xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_ASSIGN,
                            at->domid_str, flags, XPCI__STEP_DEASSIGN,
                            at->domid_str, NULL)) < 0)
        return r;
    opts = opts_format(w->msitranslate, w->power_mgmt, w->permissive,
                       w->rdm_policy);
    val = opts ? entry_format(w->vdevfn, !hvm, opts, w->name) : NULL;
    if (!val)
        return -ENOMEM;
    return hvm ? xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_QMP_ADD,
                                at->domid_str, val, XPCI__STEP_QMP_DEL,
                                at->domid_str, "1")
               : xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_PV_ADD,
                                at->domid_str, val, XPCI__STEP_PV_REMOVE,
                                at->domid_str, "1");
}

/* After a failed run, say more than "step: errno" where we know more. */
static void explain_failure(struct att *at, int r)
{
    const struct xpci__step *st;
    _cleanup_free_ char *msg = NULL;

    if (at->res->n_done >= at->plan.n)
        return;
    st = &at->plan.steps[at->res->n_done];
    if (st->fwd.kind == XPCI__STEP_ASSIGN && r == -EOPNOTSUPP)
        msg = xpci__sprintf("%s; the domain has no IOMMU context: create it "
                            "with passthrough=\"enabled\" or a pci=[...] "
                            "list", at->res->error);
    else if (at->ctx->step_detail)
        msg = xpci__sprintf("%s (%s)", at->res->error, at->ctx->step_detail);
    if (msg) {
        free(at->res->error);
        at->res->error = TAKE_PTR(msg);
    }
}

static void audit_run(struct att *at, const char *op_name, int r)
{
    char dom[96];

    dom_label(at, dom, sizeof(dom));
    for (size_t i = 0; i < at->host->n; i++) {
        if (!at->chosen[i])
            continue;
        if (r == 0)
            xpci__audit(at->ctx, "op=%s dev=%s domain=\"%s\" result=ok",
                        op_name, at->host->devs[i].bdf_str, dom);
        else
            xpci__audit(at->ctx, "op=%s dev=%s domain=\"%s\" result=failed "
                                 "rolled_back=%s error=\"%s\"",
                        op_name, at->host->devs[i].bdf_str, dom,
                        at->res->rolled_back ? "yes" : "NO",
                        at->res->error ? at->res->error : "");
    }
}

static int run_plan(struct att *at, const char *op_name)
{
    int r;

    if (at->opts->dry_run)
        return xpci__plan_describe(&at->plan, at->res);
    r = xpci__plan_run(at->ctx, &at->plan, at->res);
    if (r < 0)
        explain_failure(at, r);
    if (at->plan.n)
        audit_run(at, op_name, r);
    return r;
}

/* Make the seized functions assignable (their own all-or-nothing op). */
static int seize(xpci_ctx *ctx, const struct att *at, char **devs,
                 unsigned n, struct xpci_result *res)
{
    struct xpci_op_opts o = {.dry_run = at->opts->dry_run,
                             .no_persist = true};
    struct xpci_result *sub = NULL;
    int r = xpci_assignable_add(ctx, (const char *const *)devs, n, &o, &sub);

    if (sub) {
        for (unsigned i = 0; i < sub->n_plan; i++)
            xpci__strv_push(&res->plan, &res->n_plan, sub->plan[i]);
        for (unsigned i = 0; i < sub->n_notes; i++)
            xpci__strv_push(&res->notes, &res->n_notes, sub->notes[i]);
        if (r < 0)
            xpci__result_error(res, "seizing: %s",
                               sub->error ? sub->error : strerror(-r));
    }
    xpci_result_free(sub);
    return r;
}

static void unseize(xpci_ctx *ctx, char **devs, unsigned n,
                    struct xpci_result *res)
{
    struct xpci_op_opts o = {.rebind = true, .no_persist = true};
    struct xpci_result *sub = NULL;

    if (xpci_assignable_remove(ctx, (const char *const *)devs, n, &o, &sub) <
        0)
        xpci__strv_push(&res->undo_errors, &res->n_undo_errors,
                        sub && sub->error ? sub->error
                                          : "giving seized functions back "
                                            "failed");
    else
        xpci__result_note(res, "seized functions given back to their "
                               "drivers");
    xpci_result_free(sub);
}

static int collect(struct att *at, const char *const *specs, unsigned n,
                   struct want **wants_r, unsigned *nw_r)
{
    struct want *wants = NULL;
    unsigned nw = 0;
    int r = 0;

    for (unsigned k = 0; k < n && r == 0; k++) {
        struct xpci_spec sp;
        char *err = NULL;
        size_t idx[8];
        unsigned ni = 0;

        r = xpci_spec_parse(specs[k], &sp, &err);
        if (r < 0) {
            xpci__result_error(at->res, "'%s': %s", specs[k],
                               err ? err : strerror(-r));
            free(err);
            break;
        }
        r = spec_functions(at, &sp, specs[k], idx, ARRAY_SIZE(idx), &ni);
        for (unsigned f = 0; f < ni && r == 0; f++) {
            const struct xpci_device *d = &at->host->devs[idx[f]];
            struct want *w;
            bool dup = false;

            for (unsigned j = 0; j < nw; j++)
                dup |= wants[j].idx == idx[f];
            if (dup)
                continue;
            w = realloc(wants, (nw + 1) * sizeof(*wants));
            if (!w) {
                r = -ENOMEM;
                break;
            }
            wants = w;
            w = &wants[nw++];
            memset(w, 0, sizeof(*w));
            w->idx = idx[f];
            w->vdevfn = sp.vslot >= 0
                            ? sp.vslot << 3 |
                                  (sp.all_functions ? d->bdf.func
                                   : sp.vfunc >= 0 ? sp.vfunc : 0)
                            : -1;
            w->permissive = sp.permissive;
            w->msitranslate = sp.msitranslate;
            w->power_mgmt = sp.power_mgmt;
            w->rdm_policy = sp.rdm_policy;
            w->seize = sp.seize > 0 || at->opts->seize;
            /* libxl records a name= as name-N */
            if (sp.name && !(w->name = strdup(sp.name)))
                r = -ENOMEM;
        }
        xpci_spec_dispose(&sp);
    }
    if (r < 0) {
        wants_free(wants, nw);
        return r;
    }
    *wants_r = wants;
    *nw_r = nw;
    return 0;
}

int xpci_attach(xpci_ctx *ctx, const char *domain, const char *const *specs,
                unsigned n, const struct xpci_attach_opts *opts,
                struct xpci_result **res_r)
{
    static const struct xpci_attach_opts defaults;
    struct want *wants = NULL;
    char **seized = NULL;
    unsigned nw = 0, n_seized = 0;
    struct att at;
    int r;

    opts = opts ? opts : &defaults;
    r = att_begin(&at, ctx, domain, n, opts, res_r, "attach");
    if (r < 0)
        goto out;
    if ((r = collect(&at, specs, n, &wants, &nw)) < 0)
        goto out;
    for (unsigned k = 0; k < nw; k++) {
        const struct xpci_device *d = &at.host->devs[wants[k].idx];
        bool skip;

        if ((r = vet_attach(&at, d, wants[k].seize, &skip)) < 0)
            goto out;
        if (skip)
            continue;
        at.chosen[wants[k].idx] = true;
        if (!is_hidden(d) &&
            (r = xpci__strv_push(&seized, &n_seized, d->bdf_str)) < 0)
            goto out;
    }
    if (n_seized) {
        /* hiding takes the lock itself */
        if (at.lock >= 0) {
            close(at.lock);
            at.lock = -1;
        }
        if ((r = seize(ctx, &at, seized, n_seized, at.res)) < 0)
            goto out;
        if (!opts->dry_run && (at.lock = xpci__op_lock(ctx, at.res)) < 0) {
            r = at.lock;
            unseize(ctx, seized, n_seized, at.res);
            goto out;
        }
    }
    for (unsigned k = 0; k < nw; k++)
        if (at.chosen[wants[k].idx] &&
            (r = plan_attach_one(&at, &wants[k])) < 0)
            goto out;
    r = run_plan(&at, "attach");
    if (r < 0 && n_seized && !opts->dry_run) {
        close(at.lock);
        at.lock = -1;
        unseize(ctx, seized, n_seized, at.res);
    }
out:
    wants_free(wants, nw);
    xpci__strv_free(seized, n_seized);
    att_dispose(&at);
    return r;
}

/* ------------------------------------------------------------ detach */

static int detach_targets(struct att *at, const char *id, size_t *idx,
                          unsigned max, unsigned *n_r)
{
    struct xpci_spec sp;
    struct xpci_bdf bdf;
    char *err = NULL;
    unsigned n = 0;
    int r;

    /* A name-N of this domain's backend, or an assignable name */
    for (size_t i = 0; i < at->n_attached; i++)
        if (at->attached[i].name && !strcmp(at->attached[i].name, id)) {
            char s[XPCI_BDF_STRLEN];
            const struct xpci_device *d;

            xpci_bdf_format(&at->attached[i].bdf, s);
            if (xpci_host_find(at->host, s, &d) == 0) {
                idx[0] = (size_t)(d - at->host->devs);
                *n_r = 1;
                return 0;
            }
        }
    if (xpci_bdf_parse(id, &bdf) == 0) {
        memset(&sp, 0, sizeof(sp));
        sp.bdf = bdf;
        sp.has_bdf = true;
        return spec_functions(at, &sp, id, idx, max, n_r);
    }
    r = xpci_spec_parse(id, &sp, &err);
    if (r < 0) {
        /* a bare word: an assignable name */
        free(err);
        memset(&sp, 0, sizeof(sp));
        sp.name = (char *)id;
        return spec_functions(at, &sp, id, idx, max, n_r);
    }
    free(err);
    r = spec_functions(at, &sp, id, idx, max, &n);
    xpci_spec_dispose(&sp);
    if (r < 0)
        return r;
    *n_r = n;
    return 0;
}

static int plan_detach_one(struct att *at, const struct xpci_device *d,
                           const struct xpci__pciback_dev *e)
{
    _cleanup_free_ char *opts = NULL, *val = NULL;
    char rec[96], flags[4], force[2];
    bool hvm = at->type == XPCI_DOMAIN_HVM;
    int r;

    snprintf(force, sizeof(force), "%d", at->opts->force);
    opts = e->opts ? strdup(e->opts)
                   : opts_format(0, 0, 0, XPCI_RDM_POLICY_STRICT);
    val = opts ? entry_format(e->vdevfn, !hvm, opts, e->name) : NULL;
    if (!val)
        return -ENOMEM;
    r = hvm ? xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_QMP_DEL,
                             at->domid_str, force, XPCI__STEP_QMP_ADD,
                             at->domid_str, val)
            : xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_PV_REMOVE,
                             at->domid_str, force, XPCI__STEP_PV_ADD,
                             at->domid_str, val);
    if (r < 0)
        return r;
    snprintf(flags, sizeof(flags), "%u",
             e->rdm_policy == XPCI_RDM_POLICY_RELAXED
                 ? XPCI_ASSIGN_RDM_RELAXED : 0U);
    /* the guest's permissions go first, then the function itself */
    if ((r = plan_perms(at, d, false)) < 0 ||
        (r = xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_DEASSIGN,
                            at->domid_str, NULL, XPCI__STEP_ASSIGN,
                            at->domid_str, flags)) < 0)
        return r;
    record_path(d, rec, sizeof(rec));
    return xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_XS_RM, rec, NULL,
                          XPCI__STEP_XS_WRITE, rec, at->domid_str);
}

int xpci_detach(xpci_ctx *ctx, const char *domain, const char *const *devs,
                unsigned n, const struct xpci_attach_opts *opts,
                struct xpci_result **res_r)
{
    static const struct xpci_attach_opts defaults;
    struct att at;
    char dom[96];
    int r;

    opts = opts ? opts : &defaults;
    r = att_begin(&at, ctx, domain, n, opts, res_r, "detach");
    if (r < 0)
        goto out;
    dom_label(&at, dom, sizeof(dom));
    for (unsigned k = 0; k < n; k++) {
        size_t idx[8];
        unsigned ni = 0, found = 0;

        if ((r = detach_targets(&at, devs[k], idx, ARRAY_SIZE(idx), &ni)) <
            0)
            goto out;
        for (unsigned f = 0; f < ni; f++) {
            const struct xpci_device *d = &at.host->devs[idx[f]];
            const struct xpci__pciback_dev *e = attached_entry(&at, &d->bdf);

            if (!e || at.chosen[idx[f]])
                continue;
            at.chosen[idx[f]] = true;
            found++;
            if ((r = plan_detach_one(&at, d, e)) < 0)
                goto out;
        }
        if (!found) {
            long holder = ni ? other_holder(ctx, &at.host->devs[idx[0]].bdf,
                                            at.domid, NULL)
                             : -1;

            if (holder >= 0) {
                char who[96];

                holder_label(ctx, holder, who, sizeof(who));
                xpci__result_error(at.res, "%s: not attached to %s but to "
                                           "%s", devs[k], dom, who);
                r = -EBUSY;
                goto out;
            }
            xpci__result_note(at.res, "%s: not attached to %s", devs[k],
                              dom);
        }
    }
    r = run_plan(&at, "detach");
out:
    att_dispose(&at);
    return r;
}

/* ------------------------------------------------------------ listing */

static int list_domain(xpci_ctx *ctx, uint32_t domid,
                       struct xpci_attached **list, size_t *n)
{
    struct xpci__pciback_dev *devs = NULL;
    _cleanup_free_ char *name = NULL;
    size_t nd = 0;
    int r = xpci__xs_pciback_list(ctx, domid, &devs, &nd);

    if (r < 0)
        return r;
    read_domain_name(ctx, domid, &name);
    if (nd) {
        struct xpci_attached *nl =
            realloc(*list, (*n + nd) * sizeof(**list));

        if (!nl) {
            xpci__pciback_list_free(devs, nd);
            return -ENOMEM;
        }
        *list = nl;
    }
    for (size_t i = 0; i < nd; i++) {
        struct xpci_attached *a = &(*list)[(*n)++];

        memset(a, 0, sizeof(*a));
        a->domid = domid;
        a->domain = name ? strdup(name) : NULL;
        xpci_bdf_format(&devs[i].bdf, a->bdf);
        a->vdevfn = devs[i].vdevfn;
        a->vdev = TAKE_PTR(devs[i].vdev);
        a->state = devs[i].state;
        a->name = TAKE_PTR(devs[i].name);
        a->opts = TAKE_PTR(devs[i].opts);
        a->permissive = devs[i].permissive;
        a->msitranslate = devs[i].msitranslate;
        a->power_mgmt = devs[i].power_mgmt;
        a->rdm_policy = devs[i].rdm_policy;
    }
    xpci__pciback_list_free(devs, nd);
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

int xpci_attached_list(xpci_ctx *ctx, const char *domain,
                       struct xpci_attached **list_r, size_t *n_r)
{
    struct xpci_attached *list = NULL;
    uint32_t *ids = NULL;
    char **names = NULL;
    unsigned nn = 0, nids = 0;
    size_t n = 0;
    int r = 0;

    if (!ctx->xs)
        return -ENOTCONN;
    if (domain) {
        uint32_t domid;

        if ((r = xpci_domain_resolve(ctx, domain, &domid, NULL)) < 0)
            return r;
        r = list_domain(ctx, domid, &list, &n);
    } else {
        r = ctx->xs->directory(ctx->xs_priv, XPCI_XS_NO_TXN, XS_BACKENDS,
                               &names, &nn);
        if (r == -ENOENT)
            r = 0;
        ids = calloc(nn ? nn : 1, sizeof(*ids));
        if (!ids)
            r = -ENOMEM;
        for (unsigned i = 0; i < nn && r == 0; i++)
            if (all_digits(names[i]))
                ids[nids++] = (uint32_t)strtoul(names[i], NULL, 10);
        qsort(ids, nids, sizeof(*ids), cmp_u32);
        for (unsigned i = 0; i < nids && r == 0; i++)
            r = list_domain(ctx, ids[i], &list, &n);
        xpci__strv_free(names, nn);
        free(ids);
    }
    if (r < 0) {
        xpci_attached_list_free(list, n);
        return r;
    }
    *list_r = list;
    *n_r = n;
    return 0;
}

void xpci_attached_list_free(struct xpci_attached *list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++) {
        free(list[i].domain);
        free(list[i].vdev);
        free(list[i].name);
        free(list[i].opts);
    }
    free(list);
}
