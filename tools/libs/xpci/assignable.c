/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * assignable.c - hiding functions from dom0 and giving them back: the
 * plans of "assignable-add" (checks, driver_override, unbind, pciback
 * new_slot + bind, reset, quarantine, libxl's record, persistent set),
 * "assignable-remove" (the same, backwards, optionally rebinding the
 * original driver), the list of hidden functions, and the boot-time
 * reconcile of the persistent set.
 *
 * A brief comment about pciback: it only binds functions listed in its
 * "slots" (new_slot), and a bind to pciback resets the function itself
 * (drivers/xen/xen-pciback/pci_stub.c).  driver_override = pciback keeps
 * every other driver off the function when the bus is rescanned or a
 * driver is loaded.  libxl 4.17 uses new_slot + bind and records the
 * original driver at /libxl/pci/<DDDD-BB-SS-F>/driver_path; so do we.
 */
#include <stdio.h>
#include <time.h>

#include <fcntl.h>

#include "attach.h"

#define PCIBACK "pciback"
#define PCIBACK_MODULE "xen-pciback"
#define SYSFS_DRIVERS "bus/pci/drivers"
#define SYSFS_DEVICES "bus/pci/devices"
#define REBIND_WAIT_MS 5000
#define REBIND_POLL_MS 100

struct op {
    xpci_ctx *ctx;
    struct xpci_host *host;
    const struct xpci_op_opts *opts;
    bool force;          /* opts->force, or force_each of the device at hand */
    struct xpci_result *res;
    struct xpci__plan plan;
    bool *chosen;        /* per host device */
    struct xpci__entry *state;
    size_t n_state;
    char **relines;      /* reconcile: per host device, the entry's line
                            rewritten (BDF, identity), or NULL */
    int lock;            /* the state directory's lock, or -1 */
};

static void op_dispose(struct op *op)
{
    xpci__plan_dispose(&op->plan);
    for (size_t i = 0; op->relines && i < op->host->n; i++)
        free(op->relines[i]);
    free(op->relines);
    free(op->chosen);
    xpci__state_free(op->state, op->n_state);
    xpci_host_free(op->host);
    if (op->lock >= 0)
        close(op->lock);
}

/* The persistent entry of d: by location path, which survives bus
 * renumbering, else by BDF. */
static const struct xpci__entry *state_entry(const struct op *op,
                                             const struct xpci_device *d)
{
    for (size_t i = 0; i < op->n_state; i++)
        if (xpci__entry_is(&op->state[i], d->bdf_str, d->location))
            return &op->state[i];
    return NULL;
}

static void xs_record_path(const struct xpci_device *d, char *buf, size_t len)
{
    char key[XPCI__XS_LIBXL_KEY_LEN];

    xpci__xs_libxl_key(&d->bdf, key);
    snprintf(buf, len, XPCI__XS_LIBXL_PCI "/%s", key);
}

/*
 * Start an operation: take the lock (unless only planning), then scan the
 * host and read the persistent set under it.
 */
static int op_begin(struct op *op, xpci_ctx *ctx,
                    const struct xpci_op_opts *opts,
                    struct xpci_result **res_r, const char *name)
{
    int r;

    memset(op, 0, sizeof(*op));
    op->lock = -1;
    op->ctx = ctx;
    op->opts = opts;
    op->force = opts->force;
    op->plan.op = name;
    op->res = calloc(1, sizeof(*op->res));
    if (!op->res)
        return -ENOMEM;
    *res_r = op->res;
    if (!opts->dry_run && (op->lock = xpci__op_lock(ctx, op->res)) < 0)
        return op->lock;
    r = xpci__op_scan(ctx, 0, op->res, &op->host, &op->chosen);
    if (r < 0)
        return r;
    r = xpci__state_load(ctx, &op->state, &op->n_state);
    if (r < 0)
        xpci__result_error(op->res, "cannot read the persistent set in %s: "
                                    "%s",
                           ctx->state_dir,
                           r == -EBADMSG ? "a line is not a record"
                                         : xpci__state_dir_why(r));
    return r;
}

/* A BDF, a location path, or a name given at assignable-add time. */
static int resolve(struct op *op, const char *id, ssize_t *idx_r)
{
    const struct xpci_device *d;
    int r = xpci_host_find(op->host, id, &d);

    if (r == -EINVAL) {
        for (size_t i = 0; i < op->host->n; i++) {
            const struct xpci__entry *e;

            d = &op->host->devs[i];
            e = state_entry(op, d);
            if ((d->libxl_name && !strcmp(d->libxl_name, id)) ||
                (e && e->name && !strcmp(e->name, id))) {
                *idx_r = (ssize_t)i;
                return 0;
            }
        }
        xpci__result_error(op->res,
                           "'%s' is neither a BDF ([DDDD:]BB:DD.F), a location "
                           "path (pci0000:00/1c.0/00.0) nor a known name",
                           id);
        return -EINVAL;
    }
    if (r < 0) {
        xpci__result_error(op->res, "%s: no such PCI function", id);
        return r;
    }
    *idx_r = d - op->host->devs;
    return 0;
}

static bool is_hidden(const struct xpci_device *d)
{
    return d->driver && !strcmp(d->driver, PCIBACK) && d->in_pciback_slots;
}

/* ------------------------------------------------------------ add */

/*
 * Would assignable-add refuse rep's function (force: with --force)?  A
 * failing check or Xen without an IOMMU always refuses; dom0's own use of
 * the function (a dom0.* warning), or use the checks could not rule out
 * (a dom0.* unknown), refuses unless forced.  Returns 0, or
 * -EPERM with the reason in *why_r (caller frees).  Warnings that do not
 * refuse go to notes when notes is given.
 */
static int refusal(const struct xpci_report *rep, bool force,
                   struct xpci_result *notes, char **why_r)
{
    const char *dev = rep->dev->bdf_str;

    *why_r = NULL;
    for (unsigned i = 0; i < rep->n_checks; i++) {
        const struct xpci_check *c = &rep->checks[i];
        bool dom0 = !strncmp(c->id, "dom0.", 5);
        bool no_iommu =
            !strcmp(c->id, "xen.iommu") && c->level != XPCI_LEVEL_PASS;
        bool failed = c->level == XPCI_LEVEL_FAIL;
        bool maybe_used = c->level == XPCI_LEVEL_UNKNOWN && dom0 && !force;
        bool in_use = c->level == XPCI_LEVEL_WARN && dom0 && !force;

        if (!no_iommu && !failed && !maybe_used && !in_use) {
            if (c->level == XPCI_LEVEL_WARN && notes)
                xpci__result_note(notes, "%s: %s: %s", dev, c->id, c->reason);
            continue;
        }
        if (no_iommu)
            *why_r = xpci__sprintf("%s: refused by check xen.iommu: %s", dev,
                                   c->reason);
        else if (failed)
            *why_r = xpci__sprintf("%s: refused by check %s: %s%s%s%s", dev,
                                   c->id, c->reason, c->remedy ? " (" : "",
                                   c->remedy ? c->remedy : "",
                                   c->remedy ? ")" : "");
        else if (maybe_used)
            *why_r = xpci__sprintf("%s: refused by check %s: %s (use "
                                   "--force if dom0 does not need it)",
                                   dev, c->id, c->reason);
        else
            *why_r = xpci__sprintf("%s: refused by check %s: %s (use "
                                   "--force to take it from dom0 anyway)",
                                   dev, c->id, c->reason);
        return *why_r ? -EPERM : -ENOMEM;
    }
    return 0;
}

/* Refuse what the checks refuse.  Returns 0 or -EPERM with res->error. */
static int vet(struct op *op, const struct xpci_report *rep)
{
    _cleanup_free_ char *why = NULL;
    int r = refusal(rep, op->force, op->res, &why);

    if (r == -EPERM)
        xpci__result_error(op->res, "%s", why);
    return r;
}

/*
 * Choose the requested functions and those that must go with them (the
 * checks' "together" sets, followed transitively), vetting each.
 */
static int choose_with_companions(struct op *op, size_t first)
{
    size_t *queue = calloc(op->host->n + 1, sizeof(*queue));
    size_t head = 0, tail = 0;
    int r = 0;

    if (!queue)
        return -ENOMEM;
    if (!op->chosen[first]) {
        op->chosen[first] = true;
        queue[tail++] = first;
    }
    while (head < tail && r == 0) {
        const struct xpci_device *d = &op->host->devs[queue[head++]];
        struct xpci_report *rep = NULL;

        r = xpci_check_device(op->host, d, &rep);
        if (r < 0)
            break;
        if (!is_hidden(d))
            r = vet(op, rep);
        for (unsigned k = 0; r == 0 && k < rep->n_together; k++) {
            ssize_t j = xpci__host_index(op->host, rep->together[k]);

            if (j < 0 || op->chosen[j])
                continue;
            op->chosen[j] = true;
            queue[tail++] = (size_t)j;
            xpci__result_note(op->res, "%s goes with %s: hiding both",
                              rep->together[k], d->bdf_str);
        }
        xpci_report_free(rep);
    }
    free(queue);
    return r;
}

#define ADD(...)                                                           \
    do {                                                                   \
        if ((r = xpci__plan_add(&op->plan, __VA_ARGS__)) < 0)              \
            return r;                                                      \
    } while (0)

/*
 * The steps of hiding d that belong to `phase`: unbind from its driver,
 * set the override, pciback's new_slot, bind to pciback, clear the
 * override, reset, quarantine, libxl's records, the persistent set.  The
 * plan runs phase by phase over all functions, so that the slow steps
 * (unbinds, binds, resets) of many functions stand together and run at
 * once (see op.c).
 */
enum { PHASE_UNBIND, PHASE_OVERRIDE, PHASE_SLOT, PHASE_BIND, PHASE_UNOVERRIDE,
       PHASE_RESET, PHASE_QUARANTINE, PHASE_XS, PHASE_STATE, N_PHASES };

static int plan_hide(struct op *op, const struct xpci_device *d,
                     const char *name, bool persist, bool requarantine,
                     int phase)
{
    const char *dev = d->bdf_str;
    char p1[256], p2[256], xs[64];
    bool to_pciback = !d->driver || strcmp(d->driver, PCIBACK);
    int r;

    /*
     * The override keeps every other driver off the function while it has
     * none, and goes once pciback has it: a bound function can't be
     * grabbed, and xl's pci-assignable-remove -r binds the original driver
     * without clearing an override (the kernel would refuse that bind).
     * Unbind comes before the override: the kernel refuses a bind to any
     * driver but the override, so in reverse the override must be gone
     * before the original driver is bound again.  An unbind probes
     * nothing, so nothing grabs the function in between.
     */
    if (phase == PHASE_UNBIND && d->driver && to_pciback) {
        snprintf(p1, sizeof(p1), SYSFS_DRIVERS "/%s/unbind", d->driver);
        snprintf(p2, sizeof(p2), SYSFS_DRIVERS "/%s/bind", d->driver);
        ADD(dev, XPCI__STEP_WRITE, p1, dev, XPCI__STEP_WRITE, p2, dev);
    }
    snprintf(p1, sizeof(p1), SYSFS_DEVICES "/%s/driver_override", dev);
    if (phase == PHASE_OVERRIDE && to_pciback &&
        (!d->driver_override || strcmp(d->driver_override, PCIBACK)))
        ADD(dev, XPCI__STEP_WRITE, p1, PCIBACK, XPCI__STEP_WRITE, p1,
            d->driver_override ? d->driver_override : "");
    if (phase == PHASE_SLOT && !d->in_pciback_slots)
        ADD(dev, XPCI__STEP_WRITE, SYSFS_DRIVERS "/" PCIBACK "/new_slot", dev,
            XPCI__STEP_WRITE, SYSFS_DRIVERS "/" PCIBACK "/remove_slot", dev);
    if (phase == PHASE_BIND && to_pciback)
        ADD(dev, XPCI__STEP_WRITE, SYSFS_DRIVERS "/" PCIBACK "/bind", dev,
            XPCI__STEP_WRITE, SYSFS_DRIVERS "/" PCIBACK "/unbind", dev);
    if (phase == PHASE_UNOVERRIDE && (to_pciback || d->driver_override))
        ADD(dev, XPCI__STEP_WRITE, p1, "", XPCI__STEP_WRITE, p1, PCIBACK);
    if (phase == PHASE_RESET && d->has_reset) {
        snprintf(p1, sizeof(p1), SYSFS_DEVICES "/%s/reset", dev);
        ADD(dev, XPCI__STEP_RESET, p1, NULL, XPCI__STEP_NONE, NULL, NULL);
    }
    /* A function xl hid is already in quarantine, unless Xen rebooted
     * since. */
    if (phase == PHASE_QUARANTINE && (!d->libxl_assignable || requarantine))
        ADD(dev, XPCI__STEP_QUARANTINE, NULL, NULL, XPCI__STEP_UNQUARANTINE,
            NULL, NULL);
    if (phase == PHASE_XS && op->ctx->xs && !d->libxl_assignable) {
        char path[128], drv[128];

        xs_record_path(d, xs, sizeof(xs));
        snprintf(path, sizeof(path), "%s/driver_path", xs);
        if (d->driver && to_pciback) {
            snprintf(drv, sizeof(drv), "/sys/bus/pci/drivers/%s", d->driver);
            ADD(dev, XPCI__STEP_XS_WRITE, path, drv, XPCI__STEP_XS_RM, xs,
                NULL);
        }
        if (name) {
            snprintf(path, sizeof(path), "%s/name", xs);
            ADD(dev, XPCI__STEP_XS_WRITE, path, name, XPCI__STEP_XS_RM, xs,
                NULL);
        }
    }
    if (phase == PHASE_STATE && persist) {
        const struct xpci__entry *old = state_entry(op, d);
        struct xpci__entry e = {
            .location = d->location,
            .driver = to_pciback ? d->driver : old ? old->driver : NULL,
            .name = (char *)name,
        };
        _cleanup_free_ char *ident = NULL, *line = NULL, *oldline = NULL;

        /* What the function is, so that the boot never hides another
         * card found in its slot. */
        r = xpci__identity_read(op->ctx, dev, &ident);
        if (r < 0) {
            xpci__result_error(op->res, "%s: cannot read its identity "
                                        "(ids, class) to record it: %s",
                               dev, strerror(-r));
            return r;
        }
        memcpy(e.bdf, dev, sizeof(e.bdf));
        e.ident = ident;
        line = xpci__state_line(&e);
        oldline = old ? xpci__state_line(old) : NULL;
        if (!line || (old && !oldline))
            return -ENOMEM;
        if (!oldline || strcmp(oldline, line))
            ADD(dev, XPCI__STEP_STATE_ADD, NULL, line,
                oldline ? XPCI__STEP_STATE_ADD : XPCI__STEP_STATE_DEL,
                oldline ? NULL : d->location, oldline);
    }
    if (phase == PHASE_STATE && !persist && op->relines &&
        op->relines[d - op->host->devs]) {
        const struct xpci__entry *old = state_entry(op, d);
        _cleanup_free_ char *oldline = old ? xpci__state_line(old) : NULL;

        if (!oldline)
            return -ENOMEM;
        ADD(dev, XPCI__STEP_STATE_ADD, NULL, op->relines[d - op->host->devs],
            XPCI__STEP_STATE_ADD, NULL, oldline);
    }
    return 0;
}

static int plan_pciback_module(struct op *op, const char *dev)
{
    int r;

    if (faccessat(op->ctx->sysfs_fd, SYSFS_DRIVERS "/" PCIBACK, F_OK, 0) == 0)
        return 0;
    ADD(dev, XPCI__STEP_MODPROBE, PCIBACK_MODULE, NULL, XPCI__STEP_NONE, NULL,
        NULL);
    return 0;
}

static void note_resets(struct op *op)
{
    for (size_t i = 0; i < op->host->n; i++) {
        const struct xpci_device *d = &op->host->devs[i];
        char method[32] = "";

        if (!op->chosen[i] || is_hidden(d))
            continue;
        if (d->reset_method)
            sscanf(d->reset_method, "%31s", method);
        if (d->has_reset)
            xpci__result_note(op->res, "%s: reset (%s)", d->bdf_str,
                              *method ? method : "kernel's choice");
        else
            xpci__result_note(op->res,
                              "%s: no reset method: not reset (its state "
                              "carries over)",
                              d->bdf_str);
    }
}

static void audit_add(struct op *op, const char *op_name, int r)
{
    for (size_t i = 0; i < op->host->n; i++) {
        const struct xpci_device *d = &op->host->devs[i];

        if (!op->chosen[i])
            continue;
        if (r == 0)
            xpci__audit(op->ctx,
                        "op=%s dev=%s location=%s from=%s to=" PCIBACK
                        " quarantined=%s result=ok",
                        op_name, d->bdf_str, d->location ? d->location : "-",
                        d->driver ? d->driver : "none",
                        op->ctx->hv ? "yes" : "no");
        else
            xpci__audit(op->ctx, "op=%s dev=%s result=failed rolled_back=%s "
                                 "error=\"%s\"",
                        op_name, d->bdf_str,
                        op->res->rolled_back ? "yes" : "NO",
                        op->res->error ? op->res->error : "");
    }
}

/* Plan and run (or describe) hiding every chosen function. */
static int hide_chosen(struct op *op, const char *name, bool persist,
                       bool at_boot, const char *op_name)
{
    bool any = false;
    int r;

    bool *todo = calloc(op->host->n ? op->host->n : 1, sizeof(bool));

    if (!todo)
        return -ENOMEM;
    for (size_t i = 0; i < op->host->n; i++) {
        const struct xpci_device *d = &op->host->devs[i];

        if (!op->chosen[i])
            continue;
        /* After a reboot Xen has forgotten the quarantine: redo it. */
        if (!at_boot && is_hidden(d) &&
            (d->libxl_assignable || state_entry(op, d))) {
            xpci__result_note(op->res, "%s: already assignable", d->bdf_str);
            if (!persist || state_entry(op, d))
                continue;
        }
        if (!any && (r = plan_pciback_module(op, d->bdf_str)) < 0)
            goto out;
        any = true;
        todo[i] = true;
    }
    for (int phase = 0; phase < N_PHASES; phase++)
        for (size_t i = 0; i < op->host->n; i++)
            if (todo[i] && (r = plan_hide(op, &op->host->devs[i], name,
                                          persist, at_boot, phase)) < 0)
                goto out;
    r = 0;
out:
    free(todo);
    if (r < 0)
        return r;
    if (op->opts->dry_run)
        return xpci__plan_describe(&op->plan, op->res);
    r = xpci__plan_run(op->ctx, &op->plan, op->res);
    if (op->plan.n) {
        if (r == 0)
            note_resets(op);
        audit_add(op, op_name, r);
    }
    return r;
}

int xpci_assignable_add(xpci_ctx *ctx, const char *const *devs, unsigned n,
                        const struct xpci_op_opts *opts,
                        struct xpci_result **res_r)
{
    static const struct xpci_op_opts defaults;
    struct op op;
    int r;

    opts = opts ? opts : &defaults;
    r = op_begin(&op, ctx, opts, res_r, "assignable-add");
    if (r < 0)
        goto out;
    if (opts->name && !xpci_name_valid(opts->name)) {
        xpci__result_error(op.res, "invalid name: a name is 1 to %d of "
                                   "A-Z a-z 0-9 . _ : + -",
                           XPCI_NAME_MAX);
        r = -EINVAL;
        goto out;
    }
    if (opts->name && n != 1) {
        xpci__result_error(op.res, "a name (-n) names one function; %u given",
                           n);
        r = -EINVAL;
        goto out;
    }
    for (unsigned k = 0; k < n; k++) {
        ssize_t idx;

        /* A function's force covers those that go with it. */
        op.force = opts->force || (opts->force_each && opts->force_each[k]);
        if ((r = resolve(&op, devs[k], &idx)) < 0 ||
            (r = choose_with_companions(&op, (size_t)idx)) < 0)
            goto out;
    }
    r = hide_chosen(&op, opts->name, !opts->no_persist, false,
                    "assignable-add");
out:
    op_dispose(&op);
    return r;
}

/* ------------------------------------------------------------ remove */

static const char *original_driver(const struct op *op,
                                   const struct xpci_device *d, char *buf,
                                   size_t len)
{
    const struct xpci__entry *e = state_entry(op, d);
    const char *base;

    if (e && e->driver)
        return e->driver;
    if (d->libxl_driver_path) {
        base = strrchr(d->libxl_driver_path, '/');
        snprintf(buf, len, "%s", base ? base + 1 : d->libxl_driver_path);
        return *buf ? buf : NULL;
    }
    return NULL;
}

static int plan_give_back(struct op *op, const struct xpci_device *d)
{
    const struct xpci__entry *e = state_entry(op, d);
    const char *dev = d->bdf_str;
    char p1[256], p2[256], xs[64], drvbuf[128];
    const char *orig = original_driver(op, d, drvbuf, sizeof(drvbuf));
    int r;

    if (op->ctx->hv)
        ADD(dev, XPCI__STEP_UNQUARANTINE, NULL, NULL, XPCI__STEP_QUARANTINE,
            NULL, NULL);
    if (d->driver && !strcmp(d->driver, PCIBACK))
        ADD(dev, XPCI__STEP_WRITE, SYSFS_DRIVERS "/" PCIBACK "/unbind", dev,
            XPCI__STEP_WRITE, SYSFS_DRIVERS "/" PCIBACK "/bind", dev);
    if (d->in_pciback_slots)
        ADD(dev, XPCI__STEP_WRITE, SYSFS_DRIVERS "/" PCIBACK "/remove_slot",
            dev, XPCI__STEP_WRITE, SYSFS_DRIVERS "/" PCIBACK "/new_slot", dev);
    if (d->driver_override) {
        snprintf(p1, sizeof(p1), SYSFS_DEVICES "/%s/driver_override", dev);
        ADD(dev, XPCI__STEP_WRITE, p1, "", XPCI__STEP_WRITE, p1,
            d->driver_override);
    }
    if (op->opts->rebind) {
        if (orig && strcmp(orig, PCIBACK)) {
            snprintf(p1, sizeof(p1), SYSFS_DRIVERS "/%s/bind", orig);
            snprintf(p2, sizeof(p2), SYSFS_DRIVERS "/%s/unbind", orig);
            ADD(dev, XPCI__STEP_WRITE, p1, dev, XPCI__STEP_WRITE, p2, dev);
        } else {
            /* Original driver unknown: let the kernel pick one. */
            ADD(dev, XPCI__STEP_WRITE, "bus/pci/drivers_probe", dev,
                XPCI__STEP_NONE, NULL, NULL);
        }
    }
    if (d->libxl_assignable) {
        char path[128];

        xs_record_path(d, xs, sizeof(xs));
        snprintf(path, sizeof(path), "%s/driver_path", xs);
        ADD(dev, XPCI__STEP_XS_RM, xs, NULL,
            d->libxl_driver_path ? XPCI__STEP_XS_WRITE : XPCI__STEP_NONE,
            path, d->libxl_driver_path);
    }
    if (e) {
        _cleanup_free_ char *line = xpci__state_line(e);

        /* Removed by location: the entry may carry an older BDF. */
        if (!line)
            return -ENOMEM;
        ADD(dev, XPCI__STEP_STATE_DEL, e->location, NULL,
            XPCI__STEP_STATE_ADD, NULL, line);
    }
    return 0;
}

/* Is d back on its original driver, with an interface or a disk when it
 * is a NIC or a storage controller? */
static bool came_up(const struct op *op, const struct xpci_device *d,
                    const struct xpci_device *now)
{
    char drvbuf[128];
    const char *orig = original_driver(op, d, drvbuf, sizeof(drvbuf));
    bool wants_child = (d->class_code >> 16) == 0x01 ||
                       (d->class_code >> 16) == 0x02;

    return now->driver && (!orig || !strcmp(now->driver, orig)) &&
           (!wants_child || now->n_netdevs || now->n_blockdevs);
}

/*
 * After a rebind: did the drivers come up?  All functions are watched
 * together, with one deadline, rescanning the host on each poll.  A driver
 * that binds but shows no interface or disk is reported, not undone (an
 * NVMe controller without namespaces has no disk).
 */
static void verify_rebind(struct op *op)
{
    struct timespec poll = {0, REBIND_POLL_MS * 1000000L};
    struct xpci_host *h = NULL;

    for (int waited = 0;; waited += REBIND_POLL_MS) {
        bool all = true;

        xpci_host_free(h);
        h = NULL;
        if (xpci_host_scan(op->ctx, &h) < 0)
            return;
        for (size_t i = 0; i < op->host->n && all; i++) {
            const struct xpci_device *now;

            if (op->chosen[i])
                all = xpci_host_find(h, op->host->devs[i].bdf_str, &now) ==
                          0 &&
                      came_up(op, &op->host->devs[i], now);
        }
        if (all || waited >= REBIND_WAIT_MS)
            break;
        nanosleep(&poll, NULL);
    }
    for (size_t i = 0; i < op->host->n; i++) {
        const struct xpci_device *d = &op->host->devs[i], *now;

        if (!op->chosen[i] || xpci_host_find(h, d->bdf_str, &now) < 0)
            continue;
        if (came_up(op, d, now) && (now->n_netdevs || now->n_blockdevs))
            xpci__result_note(op->res, "%s: back on %s with %s", d->bdf_str,
                              now->driver,
                              now->n_netdevs ? now->netdevs[0]
                                             : now->blockdevs[0]);
        else if (came_up(op, d, now))
            xpci__result_note(op->res, "%s: back on %s", d->bdf_str,
                              now->driver);
        else
            xpci__result_note(op->res,
                              "%s: WARNING: bound to %s, but no interface "
                              "or disk appeared within %d s",
                              d->bdf_str, now->driver ? now->driver : "nothing",
                              REBIND_WAIT_MS / 1000);
    }
    xpci_host_free(h);
}

/*
 * libxl's domid record is not the only witness of a guest holding d: a
 * guest's PCI backend lists what pciback gives it, whoever attached it
 * (another toolstack, a record lost or never written).  A live domain's
 * backend that lists d keeps it; a gone domain's holds nothing.
 */
static int vet_backends(struct op *op, const struct xpci_device *d)
{
    long holder;
    char who[96];

    if (!op->ctx->xs)
        return 0;
    holder = xpci__other_holder(op->ctx, &d->bdf, XPCI_DOMID_INVALID, NULL);
    if (holder < 0)
        return 0;
    xpci__holder_label(op->ctx, holder, who, sizeof(who));
    xpci__result_error(op->res, "%s: listed by the PCI backend of %s; "
                                "detach it first (xpci detach %ld %s)",
                       d->bdf_str, who, holder, d->bdf_str);
    return -EBUSY;
}

int xpci_assignable_remove(xpci_ctx *ctx, const char *const *devs,
                           unsigned n, const struct xpci_op_opts *opts,
                           struct xpci_result **res_r)
{
    static const struct xpci_op_opts defaults;
    struct op op;
    int r;

    opts = opts ? opts : &defaults;
    r = op_begin(&op, ctx, opts, res_r, "assignable-remove");
    if (r < 0)
        goto out;
    for (unsigned k = 0; k < n; k++) {
        const struct xpci_device *d;
        ssize_t idx;

        if ((r = resolve(&op, devs[k], &idx)) < 0)
            goto out;
        d = &op.host->devs[idx];
        if ((d->xen_domid > 0 && d->xen_domid != (int)XPCI_DOMID_IO) ||
            d->xen_assignable == XPCI_NO) {
            if (d->xen_domid > 0)
                xpci__result_error(op.res,
                                   "%s: held by domain %d; detach it first",
                                   d->bdf_str, d->xen_domid);
            else
                xpci__result_error(op.res,
                                   "%s: Xen reports it held by a guest; "
                                   "detach it first",
                                   d->bdf_str);
            r = -EBUSY;
            goto out;
        }
        if ((r = vet_backends(&op, d)) < 0)
            goto out;
        if (!(d->driver && !strcmp(d->driver, PCIBACK)) &&
            !d->in_pciback_slots && !d->libxl_assignable &&
            !state_entry(&op, d) && !d->driver_override) {
            xpci__result_note(op.res, "%s: not assignable: nothing to do",
                              d->bdf_str);
            continue;
        }
        if (!op.chosen[idx]) {
            op.chosen[idx] = true;
            if ((r = plan_give_back(&op, d)) < 0)
                goto out;
        }
    }
    if (opts->dry_run) {
        r = xpci__plan_describe(&op.plan, op.res);
        goto out;
    }
    r = xpci__plan_run(ctx, &op.plan, op.res);
    for (size_t i = 0; op.plan.n && i < op.host->n; i++)
        if (op.chosen[i])
            xpci__audit(ctx, "op=assignable-remove dev=%s rebind=%s "
                             "result=%s%s%s",
                        op.host->devs[i].bdf_str, opts->rebind ? "yes" : "no",
                        r == 0 ? "ok" : "failed", r ? " error=" : "",
                        r && op.res->error ? op.res->error : "");
    if (r == 0 && opts->rebind)
        verify_rebind(&op);
out:
    op_dispose(&op);
    return r;
}

/* ------------------------------------------------------------ list */

int xpci_assignable_list(xpci_ctx *ctx, struct xpci_assignable **list_r,
                         size_t *n_r)
{
    struct xpci_host *host = NULL;
    struct xpci__entry *ents = NULL;
    struct xpci_assignable *list = NULL;
    size_t n_ents = 0, n = 0;
    int r;

    if ((r = xpci_host_scan(ctx, &host)) < 0)
        return r;
    if ((r = xpci__state_load(ctx, &ents, &n_ents)) < 0)
        goto out;
    list = calloc(host->n + n_ents + 1, sizeof(*list));
    if (!list) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < host->n; i++) {
        const struct xpci_device *d = &host->devs[i];
        const struct xpci__entry *e = NULL;
        struct xpci_assignable *a = &list[n];
        const char *base;

        for (size_t k = 0; k < n_ents; k++)
            if (xpci__entry_is(&ents[k], d->bdf_str, d->location))
                e = &ents[k];
        a->in_pciback = d->driver && !strcmp(d->driver, PCIBACK);
        if (!a->in_pciback && !d->in_pciback_slots && !d->libxl_assignable &&
            !e)
            continue;
        n++;
        memcpy(a->bdf, d->bdf_str, sizeof(a->bdf));
        a->present = true;
        a->location = d->location ? strdup(d->location) : NULL;
        a->persistent = e != NULL;
        a->libxl_record = d->libxl_assignable;
        /* Xen tells "no guest holds it" (dom0 or the quarantine) from
         * "a guest holds it, or I don't know it", not dom0 from the
         * quarantine: quarantined is what the records say, unless Xen
         * says a guest has it. */
        a->xen_free = d->xen_assignable;
        a->quarantined = a->in_pciback && (e || d->libxl_assignable) &&
                         a->xen_free != XPCI_NO;
        a->domid = d->xen_domid;
        if (e && e->name)
            a->name = strdup(e->name);
        else if (d->libxl_name)
            a->name = strdup(d->libxl_name);
        if (e && e->driver)
            a->original_driver = strdup(e->driver);
        else if (d->libxl_driver_path &&
                 (base = strrchr(d->libxl_driver_path, '/')))
            a->original_driver = strdup(base + 1);
    }
    /* Persisted functions that are not on the bus now. */
    for (size_t k = 0; k < n_ents; k++) {
        struct xpci_assignable *a = &list[n];

        const struct xpci_device *d;

        if (ents[k].location
                ? xpci_host_find(host, ents[k].location, &d) == 0
                : xpci__host_index(host, ents[k].bdf) >= 0)
            continue;
        n++;
        memcpy(a->bdf, ents[k].bdf, sizeof(a->bdf));
        a->persistent = true;
        a->domid = -1;
        a->xen_free = XPCI_UNKNOWN;
        a->location = ents[k].location ? strdup(ents[k].location) : NULL;
        a->name = ents[k].name ? strdup(ents[k].name) : NULL;
        a->original_driver = ents[k].driver ? strdup(ents[k].driver) : NULL;
    }
    *list_r = list;
    *n_r = n;
    list = NULL;
out:
    free(list);
    xpci__state_free(ents, n_ents);
    xpci_host_free(host);
    return r;
}

void xpci_assignable_list_free(struct xpci_assignable *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i].location);
        free(list[i].name);
        free(list[i].original_driver);
    }
    free(list);
}

/* ------------------------------------------------------------ reconcile */

/*
 * A brief comment about the boot: the persistent set says which slots
 * belong to guests, but a slot may hold another card by now (moved,
 * replaced, or the bus renumbered under it).  An entry is honoured only
 * when the function at its location is still the one recorded (ids,
 * class, serial number) and assignable-add would take it without --force
 * today.  An entry written before identities were recorded is adopted on
 * its first reconcile when those checks pass, and its identity recorded
 * then; until then the udev rule leaves it alone.
 */

/* Would the boot hide the function the udev event names (bdf)? */
int xpci_persistent_match(xpci_ctx *ctx, const char *bdf)
{
    struct xpci__entry *ents = NULL;
    _cleanup_free_ char *loc = NULL, *ident = NULL;
    const struct xpci__entry *e = NULL;
    struct xpci_host *host = NULL;
    const struct xpci_device *d;
    struct xpci_bdf b;
    size_t n = 0;
    int r;

    if (xpci_bdf_parse(bdf, &b) < 0)
        return -EINVAL;
    if ((r = xpci__location_of(ctx, bdf, &loc)) < 0 ||
        (r = xpci__state_load(ctx, &ents, &n)) < 0)
        return r;
    for (size_t i = 0; i < n && !e; i++)
        if (xpci__entry_is(&ents[i], bdf, loc))
            e = &ents[i];
    r = 0;
    if (!e || !e->ident)
        goto out;
    if (xpci__identity_read(ctx, bdf, &ident) < 0 || strcmp(ident, e->ident))
        goto out;
    /* dom0's use of it: what the checks say (the hypervisor is not asked
     * here, only the boot's reconcile asks it). */
    if ((r = xpci_host_scan(ctx, &host)) < 0)
        goto out;
    r = 1;
    if (xpci_host_find(host, bdf, &d) < 0) {
        r = 0;
    } else {
        struct xpci_report *rep = NULL;

        if ((r = xpci_check_device(host, d, &rep)) < 0)
            goto out;
        r = 1;
        for (unsigned i = 0; i < rep->n_checks; i++)
            if (!strncmp(rep->checks[i].id, "dom0.", 5) &&
                rep->checks[i].level != XPCI_LEVEL_PASS)
                r = 0;
        xpci_report_free(rep);
    }
out:
    xpci_host_free(host);
    xpci__state_free(ents, n);
    return r;
}

/* Decide whether entry e is honoured at boot; on yes, *d_r is its
 * function and *reline_r, when the entry must change (a new BDF, an
 * identity to record), its new line. */
static int reconcile_entry(struct op *op, const struct xpci__entry *e,
                           const struct xpci_device **d_r, char **reline_r)
{
    _cleanup_free_ char *ident = NULL, *why = NULL;
    const char *where = e->location ? e->location : e->bdf;
    const struct xpci_device *d = NULL;
    struct xpci_report *rep = NULL;
    int r;

    *reline_r = NULL;
    /* The location names the slot whatever the bus numbers are now; a
     * BDF alone could name another function after renumbering. */
    if (xpci_host_find(op->host, where, &d) < 0) {
        xpci__result_note(op->res, "%s (%s): not present; skipped", e->bdf,
                          where);
        return 0;
    }
    r = xpci__identity_read(op->ctx, d->bdf_str, &ident);
    if (r < 0) {
        xpci__result_note(op->res, "%s (%s): cannot read its identity: %s; "
                                   "not hidden",
                          d->bdf_str, where, strerror(-r));
        return 0;
    }
    if (e->ident && strcmp(e->ident, ident)) {
        xpci__result_note(op->res, "%s (%s): another card is there now "
                                   "(recorded %s, found %s); not hidden",
                          d->bdf_str, where, e->ident, ident);
        if (!op->opts->dry_run)
            xpci__audit(op->ctx, "op=reconcile dev=%s location=%s "
                                 "skipped=another-card recorded=%s found=%s",
                        d->bdf_str, where, e->ident, ident);
        return 0;
    }
    if (!is_hidden(d)) {
        if ((r = xpci_check_device(op->host, d, &rep)) < 0)
            return r;
        r = refusal(rep, false, NULL, &why);
        xpci_report_free(rep);
        if (r == -EPERM) {
            xpci__result_note(op->res, "%s; not hidden at boot", why);
            if (!op->opts->dry_run)
                xpci__audit(op->ctx, "op=reconcile dev=%s location=%s "
                                     "skipped=refused reason=\"%s\"",
                            d->bdf_str, where, why);
            return 0;
        }
        if (r < 0)
            return r;
    }
    if (strcmp(d->bdf_str, e->bdf))
        xpci__result_note(op->res, "%s is now %s (bus renumbered)", e->bdf,
                          d->bdf_str);
    if (!e->ident)
        xpci__result_note(op->res, "%s: identity recorded (%s)", d->bdf_str,
                          ident);
    if (!e->ident || strcmp(d->bdf_str, e->bdf)) {
        struct xpci__entry ne = *e;

        memcpy(ne.bdf, d->bdf_str, sizeof(ne.bdf));
        ne.ident = ident;
        if (!(*reline_r = xpci__state_line(&ne)))
            return -ENOMEM;
    }
    *d_r = d;
    return 1;
}

int xpci_reconcile(xpci_ctx *ctx, const struct xpci_op_opts *opts,
                   struct xpci_result **res_r)
{
    static const struct xpci_op_opts defaults;
    struct op op;
    int r;

    opts = opts ? opts : &defaults;
    r = op_begin(&op, ctx, opts, res_r, "reconcile");
    if (r < 0)
        goto out;
    op.relines = calloc(op.host->n ? op.host->n : 1, sizeof(*op.relines));
    if (!op.relines) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < op.n_state; k++) {
        const struct xpci_device *d = NULL;
        char *reline = NULL;
        size_t i;

        r = reconcile_entry(&op, &op.state[k], &d, &reline);
        if (r < 0)
            goto out;
        if (r == 0)
            continue;
        i = (size_t)(d - op.host->devs);
        op.chosen[i] = true;
        free(op.relines[i]);
        op.relines[i] = reline;
    }
    r = hide_chosen(&op, NULL, false, true, "reconcile");
out:
    op_dispose(&op);
    return r;
}
