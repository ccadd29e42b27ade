/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * attach.h - what the files that give functions to guests share: the
 * domains (domain.c), the values their steps carry, the hypervisor grants
 * (grant.c), pciback's backend (pv.c) and the device model (hvm.c).
 * attach.c and detach.c plan with them; op.c runs their steps through the
 * step tables only.
 */
#ifndef XPCI_ATTACH_H
#define XPCI_ATTACH_H

#include "xpci-internal.h"

#define XPCI__PCIBACK "pciback"
#define XPCI__XS_BACKENDS "/local/domain/0/backend/pci"

/* XenbusState values (xen/include/public/io/xenbus.h). */
enum {
    XB_INITIALISING = 1,
    XB_INITIALISED = 3,
    XB_CONNECTED = 4,
    XB_CLOSING = 5,
    XB_CLOSED = 6,
    XB_RECONFIGURING = 7,
    XB_RECONFIGURED = 8,
};

/* ---- domains (domain.c) ---- */
bool xpci__all_digits(const char *s);
/* /local/domain/<domid>/name; -ENOENT when there is none. */
int xpci__domain_name(xpci_ctx *ctx, uint32_t domid, char **name_r);
/* XPCI_DOMAIN_PV or XPCI_DOMAIN_HVM; -EOPNOTSUPP with a reason in *why_r
 * for a type that takes no PCI devices. */
int xpci__domain_type(xpci_ctx *ctx, uint32_t domid, char **why_r);
/* A domain Xen no longer runs. */
bool xpci__domain_gone(xpci_ctx *ctx, uint32_t domid);
/* Which domain other than self lists bdf in its PCI backend; -1 when
 * none.  A gone domain's backend that lists it goes to *stale_r. */
long xpci__other_holder(xpci_ctx *ctx, const struct xpci_bdf *bdf,
                        uint32_t self, long *stale_r);
/* "domain NAME (dN)" or "domain N". */
void xpci__holder_label(xpci_ctx *ctx, long domid, char *buf, size_t len);
/* How long a guest or its device model gets to answer, in ms. */
int xpci__guest_timeout(const xpci_ctx *ctx);

/*
 * Step values of the guest-side steps, one line of space-separated
 * fields so the journal can carry them:
 *   pv-add / qmp-add:      "VDEVFN WAIT OPTS [NAME]"  (VDEVFN -1: none)
 *   pv-remove / qmp-del:   "FORCE"
 * path is the domid in decimal for every attach step.
 */
struct xpci__guest_entry {
    int vdevfn;
    bool wait;
    char opts[96];
    const char *name;   /* points into the value, or NULL */
};
int xpci__guest_entry_parse(const char *val, struct xpci__guest_entry *e);
char *xpci__guest_entry_format(int vdevfn, bool wait, const char *opts,
                               const char *name);
char *xpci__guest_opts_format(int msitranslate, int power_mgmt,
                              int permissive, int rdm_policy);
/* The domid a step's path names. */
int xpci__step_domid(const struct xpci__action *a, uint32_t *domid_r);

/* ---- hypervisor grants (grant.c) ---- */
/* Whether d has a legacy IRQ to grant: not none (0), not 0xff. */
bool xpci__grant_irq(const struct xpci_device *d);
/* Plan the guest's iomem, ioport and IRQ permissions on d: granted with
 * give, revoked without; each with its inverse.  others are the domain's
 * other functions that keep theirs: what they need too is not revoked
 * (with a note in res), and its grant is not undone.  -errno with
 * res->error for a BAR that can't be granted. */
int xpci__grant_plan(struct xpci__plan *plan, const struct xpci_device *d,
                     const char *domid_str, bool give,
                     const struct xpci_device *const *others,
                     size_t n_others, struct xpci_result *res);

/* ---- pciback's backend (pv.c) ---- */
/* Add dev to domid's backend (for a PV guest with e->wait: hot-plug it
 * and wait for the guest).  1 added, 0 was there, -errno. */
int xpci__pv_backend_add(xpci_ctx *ctx, uint32_t domid, const char *dev,
                         const struct xpci__guest_entry *e, bool hvm);
/* Take dev out of domid's backend, asking the guest first with wait. */
int xpci__pv_backend_remove(xpci_ctx *ctx, uint32_t domid, const char *dev,
                            bool wait, bool force);

/* ---- the device model (hvm.c) ---- */
int xpci__hvm_where(xpci_ctx *ctx, uint32_t domid, const struct xpci_bdf *bdfs,
                    size_t n, int *vdevfn);

/* ---- an attach or detach under way (attach.c) ---- */
struct xpci__att {
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
    bool *planned; /* given to the domain by the plan so far */
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

/* Resolve domain, lock, scan and read its backend; -errno with
 * (*res_r)->error.  Dispose of at in any case. */
int xpci__att_begin(struct xpci__att *at, xpci_ctx *ctx, const char *domain,
                    unsigned n, const struct xpci_attach_opts *opts,
                    struct xpci_result **res_r, const char *op_name);
void xpci__att_dispose(struct xpci__att *at);
/* "NAME (dN)" or "dN". */
const char *xpci__att_dom_label(const struct xpci__att *at, char *buf,
                                size_t len);
/* The domain's backend entry of bdf, or NULL. */
const struct xpci__pciback_dev *
xpci__att_attached_entry(const struct xpci__att *at,
                         const struct xpci_bdf *bdf);
/* The host functions a spec names (indices into at->host->devs, at most
 * max); -errno with res->error. */
int xpci__att_spec_functions(struct xpci__att *at, const struct xpci_spec *sp,
                             const char *text, size_t *idx, unsigned max,
                             unsigned *n_r);
/* The domain's functions other than d that keep their permissions
 * through the plan: those its backend lists that the plan does not take
 * (at->chosen), and those the plan gives it before d (at->planned);
 * caller frees. */
int xpci__att_others(const struct xpci__att *at, const struct xpci_device *d,
                     const struct xpci_device ***others_r, size_t *n_r);
/* libxl's "held by" node of d: /libxl/pci/<key>/domid. */
void xpci__att_record_path(const struct xpci_device *d, char *buf,
                           size_t len);
/* Run (or, dry, describe) the plan, explain a failure, audit. */
int xpci__att_run(struct xpci__att *at, const char *op_name);

#endif /* XPCI_ATTACH_H */
