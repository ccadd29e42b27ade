/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * attach.c - giving assignable functions to running guests: the plan of
 * an attach and its entry point, and what attach and detach share (the
 * domain they act on, the functions a spec names, running the plan).
 *
 * Attaching one function is, in order: libxl's "held by" record
 * (/libxl/pci/<key>/domid), the guest's permissions on the function's BARs
 * (iomem, ioport) and legacy IRQ (pirq), xc_assign_device (out of the
 * quarantine into the guest's IOMMU context) (grant.c), then the guest
 * side: for a PV guest pciback's backend entry and the hot-plug handshake
 * with pcifront (pv.c), for an HVM guest device_add through the device
 * model's QMP (hvm.c).  Detaching (detach.c) is the same backwards (the
 * guest lets go, its permissions are revoked, then Xen's deassign puts
 * the function back into the quarantine, DOMID_IO).  Every step has its
 * inverse in the plan, so op.c can undo a failure or an interrupted run.
 */
#include <stdio.h>

#include "attach.h"

void xpci__att_dispose(struct xpci__att *at)
{
    xpci__plan_dispose(&at->plan);
    free(at->chosen);
    free(at->planned);
    free(at->dom_name);
    xpci__pciback_list_free(at->attached, at->n_attached);
    xpci_assignable_list_free(at->hidden, at->n_hidden);
    xpci_host_free(at->host);
    if (at->lock >= 0)
        close(at->lock);
    free(at->ctx->step_detail);
    at->ctx->step_detail = NULL;
    free(at->ctx->step_note);
    at->ctx->step_note = NULL;
    at->ctx->guest_timeout_ms = 0;
}

const char *xpci__att_dom_label(const struct xpci__att *at, char *buf,
                                size_t len)
{
    if (at->dom_name)
        snprintf(buf, len, "%s (d%u)", at->dom_name, at->domid);
    else
        snprintf(buf, len, "d%u", at->domid);
    return buf;
}

int xpci__att_begin(struct xpci__att *at, xpci_ctx *ctx, const char *domain,
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
    /* Nothing goes into a guest that runs no more; what one holds can
     * still be taken back. */
    if (!strcmp(op_name, "attach") && ctx->hv && ctx->hv->domain_exists &&
        ctx->hv->domain_exists(ctx->hv_priv, at->domid) == -ESHUTDOWN) {
        xpci__result_error(at->res, "domain '%s' (d%u) has shut down "
                                    "(crashed, powered off or rebooted): it "
                                    "runs no more", domain, at->domid);
        return -ESHUTDOWN;
    }
    snprintf(at->domid_str, sizeof(at->domid_str), "%u", at->domid);
    at->plan.has_guest = true;
    at->plan.guest = at->domid;
    at->type = xpci__domain_type(ctx, at->domid, &why);
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
    at->planned = calloc(at->host->n ? at->host->n : 1, sizeof(bool));
    if (!at->planned)
        return -ENOMEM;
    r = xpci__xs_pciback_list(ctx, at->domid, &at->attached,
                              &at->n_attached);
    if (r < 0) {
        xpci__result_error(at->res, "cannot read the PCI backend of d%u: %s",
                           at->domid, strerror(-r));
        return r;
    }
    return 0;
}

const struct xpci__pciback_dev *
xpci__att_attached_entry(const struct xpci__att *at,
                         const struct xpci_bdf *bdf)
{
    for (size_t i = 0; i < at->n_attached; i++)
        if (!xpci_bdf_cmp(&at->attached[i].bdf, bdf))
            return &at->attached[i];
    return NULL;
}


static bool is_hidden(const struct xpci_device *d)
{
    return d->driver && !strcmp(d->driver, XPCI__PCIBACK) &&
           d->in_pciback_slots;
}

/* The host functions a spec names; -errno with res->error. */
int xpci__att_spec_functions(struct xpci__att *at, const struct xpci_spec *sp,
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

int xpci__att_others(const struct xpci__att *at, const struct xpci_device *d,
                     const struct xpci_device ***others_r, size_t *n_r)
{
    const struct xpci_device **v;
    size_t n = 0;

    v = calloc(at->host->n ? at->host->n : 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < at->host->n; i++) {
        const struct xpci_device *o = &at->host->devs[i];

        if (o != d && (at->planned[i] ||
                       (!at->chosen[i] &&
                        xpci__att_attached_entry(at, &o->bdf))))
            v[n++] = o;
    }
    *others_r = v;
    *n_r = n;
    return 0;
}

void xpci__att_record_path(const struct xpci_device *d, char *buf,
                           size_t len)
{
    char key[XPCI__XS_LIBXL_KEY_LEN];

    xpci__xs_libxl_key(&d->bdf, key);
    snprintf(buf, len, XPCI__XS_LIBXL_PCI "/%s/domid", key);
}

/* Refuse what can't be given to the domain; -errno with res->error. */
/* Plan the removal of the PCI backend a gone domain left behind, once,
 * first of all: pciback lets go of d only when it disappears. */
static int note_stale(struct xpci__att *at, const struct xpci_device *d,
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
    snprintf(be, sizeof(be), XPCI__XS_BACKENDS "/%ld", domid);
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

static int vet_attach(struct xpci__att *at, const struct xpci_device *d,
                      bool seize, bool *skip_r)
{
    const xpci_ctx *ctx = at->ctx;
    char who[96], dom[96];
    long holder, stale = -1;
    int r;

    *skip_r = false;
    xpci__att_dom_label(at, dom, sizeof(dom));
    if (xpci__att_attached_entry(at, &d->bdf)) {
        xpci__result_note(at->res, "%s: already attached to %s", d->bdf_str,
                          dom);
        *skip_r = true;
        return 0;
    }
    holder = d->xen_domid >= 0 && (uint32_t)d->xen_domid != at->domid
                 ? d->xen_domid
                 : xpci__other_holder(at->ctx, &d->bdf, at->domid, &stale);
    if (holder < 0 && stale >= 0 && (r = note_stale(at, d, stale)) < 0)
        return r;
    if (holder >= 0) {
        xpci__holder_label(at->ctx, holder, who, sizeof(who));
        xpci__result_error(at->res, "%s: assigned to %s: detach it there "
                                    "first (xpci detach %ld %s)",
                           d->bdf_str, who, holder, d->bdf_str);
        return -EBUSY;
    }
    if (d->is_bridge || d->is_host_bridge || d->is_platform_bridge) {
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
            xpci__holder_label(at->ctx, vf->xen_domid, who, sizeof(who));
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

/*
 * A legacy IRQ hot-plugged into an HVM guest that takes its interrupts
 * over event channels becomes the guest's pirq of the same number (libxl
 * and the device model both map pirq == IRQ).  A Linux guest numbers the
 * pirqs of its emulated devices from 16 up (Xen's get_free_pirq), and at
 * the detach the device model unmaps that pirq: PHYSDEVOP_unmap_pirq on
 * an HVM domain drops the guest's own binding of the number too, and the
 * emulated device (its serial port, say) gets no interrupt again.  A
 * function given at creation had its pirq before the guest's kernel
 * numbered anything.
 */
static void note_pirq_clash(struct xpci__att *at, const struct xpci_device *d)
{
    const struct xpci_hv_ops *hv = at->ctx->hv;

    if (at->type != XPCI_DOMAIN_HVM || !xpci__irq_may_be_guest_pirq(d) ||
        !hv || !hv->domain_pirqs ||
        hv->domain_pirqs(at->ctx->hv_priv, at->domid) != 1)
        return;
    xpci__result_note(at->res,
                      "%s: its IRQ %d becomes d%u's pirq %d (as with xl); "
                      "this guest takes interrupts over event channels and "
                      "a Linux guest numbers its emulated devices' pirqs "
                      "from 16: if %d is one of them, that device's "
                      "interrupt dies when the device model unmaps it at "
                      "the detach; a function given at creation (pci=[...]) "
                      "is safe", d->bdf_str, d->irq, at->domid, d->irq,
                      d->irq);
}

/* d's permissions, with respect to what the domain's other functions
 * need. */
static int plan_grants(struct xpci__att *at, const struct xpci_device *d,
                       bool give)
{
    _cleanup_free_ const struct xpci_device **others = NULL;
    size_t n = 0;
    int r = xpci__att_others(at, d, &others, &n);

    if (r < 0)
        return r;
    if (give)
        note_pirq_clash(at, d);
    return xpci__grant_plan(&at->plan, d, at->domid_str, give, others, n,
                            at->res);
}

static int plan_attach_one(struct xpci__att *at, const struct want *w)
{
    const struct xpci_device *d = &at->host->devs[w->idx];
    _cleanup_free_ char *opts = NULL, *val = NULL;
    char rec[96], flags[4];
    bool hvm = at->type == XPCI_DOMAIN_HVM;
    int r;

    if (d->irq == XPCI__IRQ_NOT_CONNECTED)
        xpci__result_note(at->res, "%s: legacy IRQ 255 is \"not "
                                   "connected\": no IRQ to grant",
                          d->bdf_str);
    /* Only qemu-xen-traditional reads them (libxl writes them to its
     * xenstore options); qemu-xen's xen-pci-passthrough has no such
     * properties, and xpci speaks QMP to qemu-xen only. */
    if (hvm && w->msitranslate > 0)
        xpci__result_note(at->res, "%s: msitranslate=1 has no effect: "
                                   "qemu-xen, this HVM guest's device model, "
                                   "ignores it", d->bdf_str);
    if (hvm && w->power_mgmt > 0)
        xpci__result_note(at->res, "%s: power_mgmt=1 has no effect: "
                                   "qemu-xen, this HVM guest's device model, "
                                   "ignores it", d->bdf_str);
    xpci__att_record_path(d, rec, sizeof(rec));
    if ((r = xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_XS_WRITE, rec,
                            at->domid_str, XPCI__STEP_XS_RM, rec, NULL)) < 0 ||
        (r = plan_grants(at, d, true)) < 0)
        return r;
    /* permissive as asked; one an earlier guest left is cleared */
    if (w->permissive > 0)
        r = xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_PERMISSIVE,
                           NULL, NULL, XPCI__STEP_PERMISSIVE_CLEAR, NULL,
                           NULL);
    else if (xpci__pciback_permissive(at->ctx, d->bdf_str) == XPCI_YES)
        r = xpci__plan_add(&at->plan, d->bdf_str,
                           XPCI__STEP_PERMISSIVE_CLEAR, NULL, NULL,
                           XPCI__STEP_PERMISSIVE, NULL, NULL);
    if (r < 0)
        return r;
    snprintf(flags, sizeof(flags), "%u",
             w->rdm_policy == XPCI_RDM_POLICY_RELAXED
                 ? XPCI_ASSIGN_RDM_RELAXED : 0U);
    if ((r = xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_ASSIGN,
                            at->domid_str, flags, XPCI__STEP_DEASSIGN,
                            at->domid_str, NULL)) < 0)
        return r;
    opts = xpci__guest_opts_format(w->msitranslate, w->power_mgmt,
                                   w->permissive, w->rdm_policy);
    val = opts ? xpci__guest_entry_format(w->vdevfn, !hvm, opts, w->name)
               : NULL;
    if (!val)
        return -ENOMEM;
    return hvm ? xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_QMP_ADD,
                                at->domid_str, val, XPCI__STEP_QMP_DEL,
                                at->domid_str, "1")
               : xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_PV_ADD,
                                at->domid_str, val, XPCI__STEP_PV_REMOVE,
                                at->domid_str, "1");
}

/* Whether a function other than dev had steps done. */
static bool others_done(const struct xpci__att *at, const char *dev)
{
    for (unsigned i = 0; i < at->res->n_done && i < at->plan.n; i++)
        if (strcmp(at->plan.steps[i].dev, dev))
            return true;
    return false;
}

/* After a failed run, say more than "step: errno" where we know more. */
static void explain_failure(struct xpci__att *at, int r)
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
    else if (r == -EINPROGRESS && st->fwd.kind == XPCI__STEP_PV_ADD)
        /* the guest began taking it: it stays (pv.c), and so do the
         * functions attached before it */
        msg = xpci__sprintf("%s (%s)%s", at->res->error,
                            at->ctx->step_detail ? at->ctx->step_detail
                                                 : "the guest began taking "
                                                   "it",
                            others_done(at, st->dev)
                                ? "; the functions before it are attached"
                                : "");
    else if (r == -EINPROGRESS)
        /* as libxl: a device_del cannot be taken back; the function
         * stays the guest's until it has let it go */
        msg = xpci__sprintf("%s (%s); %s stays attached until the guest "
                            "lets it go: run xpci detach again then, or "
                            "with --force", at->res->error,
                            at->ctx->step_detail ? at->ctx->step_detail
                                                 : "the guest was asked",
                            st->dev);
    else if (at->ctx->step_detail)
        msg = xpci__sprintf("%s (%s)", at->res->error, at->ctx->step_detail);
    if (msg) {
        free(at->res->error);
        at->res->error = TAKE_PTR(msg);
    }
}

static void audit_run(struct xpci__att *at, const char *op_name, int r)
{
    char dom[96];

    xpci__att_dom_label(at, dom, sizeof(dom));
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

int xpci__att_run(struct xpci__att *at, const char *op_name)
{
    int r;

    if (at->opts->dry_run)
        return xpci__plan_describe(&at->plan, at->res);
    r = xpci__plan_run(at->ctx, &at->plan, at->res);
    if (at->ctx->step_note)
        xpci__result_note(at->res, "%s", at->ctx->step_note);
    if (r < 0)
        explain_failure(at, r);
    if (at->plan.n)
        audit_run(at, op_name, r);
    return r;
}

/* Make the seized functions assignable (their own all-or-nothing op). */
static int seize(xpci_ctx *ctx, const struct xpci__att *at, char **devs,
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

static int collect(struct xpci__att *at, const char *const *specs,
                   unsigned n,
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
        r = xpci__att_spec_functions(at, &sp, specs[k], idx,
                                     ARRAY_SIZE(idx), &ni);
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
    struct xpci__att at;
    int r;

    opts = opts ? opts : &defaults;
    r = xpci__att_begin(&at, ctx, domain, n, opts, res_r, "attach");
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
    for (unsigned k = 0; k < nw; k++) {
        if (!at.chosen[wants[k].idx])
            continue;
        if ((r = plan_attach_one(&at, &wants[k])) < 0)
            goto out;
        at.planned[wants[k].idx] = true;
    }
    /* a function the guest began taking is left to it (pv.c) */
    at.plan.keep_on_inprogress = true;
    r = xpci__att_run(&at, "attach");
    if (r == -EINPROGRESS && n_seized)
        xpci__result_note(at.res, "the seized functions stay assignable "
                                  "(in pciback)");
    else if (r < 0 && n_seized && !opts->dry_run) {
        close(at.lock);
        at.lock = -1;
        unseize(ctx, seized, n_seized, at.res);
    }
out:
    wants_free(wants, nw);
    xpci__strv_free(seized, n_seized);
    xpci__att_dispose(&at);
    return r;
}

