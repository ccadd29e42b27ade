/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * detach.c - taking functions back from running guests: for each, the
 * guest lets go (pv.c, hvm.c), its permissions are revoked, Xen's
 * deassign puts it back into the quarantine (grant.c), and libxl's "held
 * by" record goes.  Each step with its inverse, so a failure undoes all.
 */
#include <stdio.h>

#include "attach.h"

static int detach_targets(struct xpci__att *at, const char *id,
                          size_t *idx,
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
        return xpci__att_spec_functions(at, &sp, id, idx, max, n_r);
    }
    r = xpci_spec_parse(id, &sp, &err);
    if (r < 0) {
        /* a bare word: an assignable name */
        free(err);
        memset(&sp, 0, sizeof(sp));
        sp.name = (char *)id;
        return xpci__att_spec_functions(at, &sp, id, idx, max, n_r);
    }
    free(err);
    r = xpci__att_spec_functions(at, &sp, id, idx, max, &n);
    xpci_spec_dispose(&sp);
    if (r < 0)
        return r;
    *n_r = n;
    return 0;
}

/* d's permissions go, but not what the domain's other functions need. */
static int plan_revokes(struct xpci__att *at, const struct xpci_device *d)
{
    _cleanup_free_ const struct xpci_device **others = NULL;
    size_t n = 0;
    int r = xpci__att_others(at, d, &others, &n);

    if (r < 0)
        return r;
    return xpci__grant_plan(&at->plan, d, at->domid_str, false, others, n,
                            at->res);
}

static int plan_detach_one(struct xpci__att *at, const struct xpci_device *d,
                           const struct xpci__pciback_dev *e)
{
    _cleanup_free_ char *opts = NULL, *val = NULL;
    char rec[96], flags[4], force[2];
    bool hvm = at->type == XPCI_DOMAIN_HVM;
    int r;

    snprintf(force, sizeof(force), "%d", at->opts->force);
    opts = e->opts ? strdup(e->opts)
                   : xpci__guest_opts_format(0, 0, 0, XPCI_RDM_POLICY_STRICT);
    val = opts ? xpci__guest_entry_format(e->vdevfn, !hvm, opts, e->name)
               : NULL;
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
    if ((r = plan_revokes(at, d)) < 0 ||
        (r = xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_DEASSIGN,
                            at->domid_str, NULL, XPCI__STEP_ASSIGN,
                            at->domid_str, flags)) < 0)
        return r;
    /* pciback keeps the flag until the function leaves it */
    if ((e->permissive > 0 ||
         xpci__pciback_permissive(at->ctx, d->bdf_str) == XPCI_YES) &&
        (r = xpci__plan_add(&at->plan, d->bdf_str,
                            XPCI__STEP_PERMISSIVE_CLEAR, NULL, NULL,
                            XPCI__STEP_PERMISSIVE, NULL, NULL)) < 0)
        return r;
    xpci__att_record_path(d, rec, sizeof(rec));
    return xpci__plan_add(&at->plan, d->bdf_str, XPCI__STEP_XS_RM, rec, NULL,
                          XPCI__STEP_XS_WRITE, rec, at->domid_str);
}

int xpci_detach(xpci_ctx *ctx, const char *domain, const char *const *devs,
                unsigned n, const struct xpci_attach_opts *opts,
                struct xpci_result **res_r)
{
    static const struct xpci_attach_opts defaults;
    struct xpci__att at;
    char dom[96];
    int r;

    opts = opts ? opts : &defaults;
    r = xpci__att_begin(&at, ctx, domain, n, opts, res_r, "detach");
    if (r < 0)
        goto out;
    xpci__att_dom_label(&at, dom, sizeof(dom));
    for (unsigned k = 0; k < n; k++) {
        size_t idx[8];
        unsigned ni = 0, found = 0;

        if ((r = detach_targets(&at, devs[k], idx, ARRAY_SIZE(idx), &ni)) <
            0)
            goto out;
        for (unsigned f = 0; f < ni; f++) {
            const struct xpci_device *d = &at.host->devs[idx[f]];
            const struct xpci__pciback_dev *e =
                xpci__att_attached_entry(&at, &d->bdf);

            if (!e || at.chosen[idx[f]])
                continue;
            at.chosen[idx[f]] = true;
            found++;
            if ((r = plan_detach_one(&at, d, e)) < 0)
                goto out;
        }
        if (!found) {
            long holder =
                ni ? xpci__other_holder(ctx, &at.host->devs[idx[0]].bdf,
                                        at.domid, NULL)
                   : -1;

            if (holder >= 0) {
                char who[96];

                xpci__holder_label(ctx, holder, who, sizeof(who));
                xpci__result_error(at.res, "%s: not attached to %s but to "
                                           "%s", devs[k], dom, who);
                r = -EBUSY;
                goto out;
            }
            xpci__result_note(at.res, "%s: not attached to %s", devs[k],
                              dom);
        }
    }
    r = xpci__att_run(&at, "detach");
    /* a guest that began letting go is not given the function back: that
     * one is left detaching, the rest are as they were */
    if (r == -EINPROGRESS && at.res->rolled_back) {
        at.res->rolled_back = false;
        xpci__result_note(at.res, "the other functions are as they were");
    }
out:
    xpci__att_dispose(&at);
    return r;
}

