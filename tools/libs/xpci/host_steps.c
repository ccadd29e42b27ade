/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * host_steps.c - the steps that change dom0's side, as assignable-add and
 * assignable-remove plan them (and attach's records): sysfs writes (bind,
 * unbind, slots, driver_override), loading a module, resetting a
 * function, xenstore records, the persistent set, the quarantine, and
 * pciback's permissive flag.
 *
 * Every step is guarded by the state it expects: a bind to the driver the
 * function already has, a remove_slot of a slot that isn't there, a
 * deassign of a function that isn't quarantined are no-ops.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>

#include "xpci-internal.h"

#define PCIBACK_DRIVER "bus/pci/drivers/pciback"
#define PCIBACK_PERMISSIVE PCIBACK_DRIVER "/permissive"

extern char **environ;

/* "bus/pci/drivers/<drv>/<attr>" -> drv (into buf), attr. */
static const char *driver_attr(const char *path, char *drv, size_t len)
{
    const char *p = path + strlen("bus/pci/drivers/");
    const char *slash;

    if (strncmp(path, "bus/pci/drivers/", 16) || !(slash = strchr(p, '/')))
        return NULL;
    snprintf(drv, len, "%.*s", (int)(slash - p), p);
    return slash + 1;
}

static bool bound_to(xpci_ctx *ctx, const char *dev, const char *drv)
{
    char path[128];
    _cleanup_free_ char *cur = NULL;

    snprintf(path, sizeof(path), "bus/pci/devices/%s/driver", dev);
    if (xpci__readlink_base(ctx->sysfs_fd, path, &cur) < 0)
        return drv == NULL;
    return drv && !strcmp(cur, drv);
}

static bool in_slots(xpci_ctx *ctx, const char *dev)
{
    _cleanup_free_ char *slots = NULL;
    char *line, *save = NULL;

    if (xpci__read_file(ctx->sysfs_fd, "bus/pci/drivers/pciback/slots",
                        &slots) < 0)
        return false;
    for (line = strtok_r(slots, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        if (!strcmp(line, dev))
            return true;
    return false;
}

/*
 * Is the write already in effect?  Returns true to skip it.  Binds and
 * unbinds look at the function's driver link, slot edits at pciback's
 * slots, an override at its current value.
 */
static bool write_in_effect(xpci_ctx *ctx, const char *dev,
                            const struct xpci__action *a)
{
    char drv[64], buf[256];
    const char *attr = driver_attr(a->path, drv, sizeof(drv));

    if (attr && !strcmp(attr, "bind"))
        return bound_to(ctx, dev, drv);
    if (attr && !strcmp(attr, "unbind"))
        return !bound_to(ctx, dev, drv);
    if (attr && !strcmp(attr, "new_slot"))
        return in_slots(ctx, dev);
    if (attr && !strcmp(attr, "remove_slot"))
        return !in_slots(ctx, dev);
    if (strstr(a->path, "/driver_override") &&
        xpci__read_attr(ctx->sysfs_fd, a->path, buf, sizeof(buf)) >= 0) {
        const char *want = a->val && *a->val ? a->val : "(null)";

        return !strcmp(buf, want);
    }
    return false;
}

static int run_modprobe(xpci_ctx *ctx, const char *module)
{
    char *const argv[] = {"modprobe", "-q", (char *)module, NULL};
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int r, status;

    if (ctx->sysfs->modprobe)
        return ctx->sysfs->modprobe(ctx->sysfs_priv, module);
    /* modprobe(8) loads into the running kernel: not for a tree. */
    if (strcmp(ctx->sysfs_root, "/sys"))
        return -EPERM;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY,
                                     0);
    r = posix_spawnp(&pid, "modprobe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r)
        return -r;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENOENT;
}

static int dev_sbdf(const char *dev, uint32_t *sbdf_r)
{
    struct xpci_bdf b;

    if (xpci_bdf_parse(dev, &b) < 0)
        return -EINVAL;
    *sbdf_r = xpci_bdf_to_sbdf(&b);
    return 0;
}

static int act_write(xpci_ctx *ctx, const char *dev,
                     const struct xpci__action *a)
{
    int r;

    if (write_in_effect(ctx, dev, a))
        return 0;
    /* An empty value clears an attribute such as driver_override. */
    r = xpci__sysfs_write(ctx, a->path, a->val && *a->val ? a->val : "\n");
    return r < 0 ? r : 1;
}

static int act_modprobe(xpci_ctx *ctx, const char *dev,
                        const struct xpci__action *a)
{
    int r = run_modprobe(ctx, a->path);

    (void)dev;
    return r < 0 ? r : 1;
}

/*
 * -ENOTTY: the kernel has no reset it can do now.  A multi-function slot
 * whose only method is a secondary bus reset is the common case: the
 * kernel listed "bus" when it probed function 0 alone, but resets no
 * function that shares its bus with others (pci_parent_bus_reset in
 * drivers/pci/pci.c).  As libxl, go on without it: 0, nothing done, and
 * the run notes it (xpci__plan_run).
 */
static int act_reset(xpci_ctx *ctx, const char *dev,
                     const struct xpci__action *a)
{
    int r = xpci__sysfs_write(ctx, a->path, "1");

    (void)dev;
    if (r == -ENOTTY)
        return 0;
    return r < 0 ? r : 1;
}

static int act_quarantine(xpci_ctx *ctx, const char *dev,
                          const struct xpci__action *a)
{
    uint32_t sbdf;
    int r;

    if (!ctx->hv || !ctx->hv->assign || !ctx->hv->deassign)
        return -ENOSYS;
    if ((r = dev_sbdf(dev, &sbdf)) < 0)
        return r;
    if (a->kind == XPCI__STEP_QUARANTINE)
        r = ctx->hv->assign(ctx->hv_priv, XPCI_DOMID_IO, sbdf, 0);
    else
        r = ctx->hv->deassign(ctx->hv_priv, XPCI_DOMID_IO, sbdf);
    /* Xen answers ENODEV to a deassign of a function not in
     * quarantine (REFERENCE: second deassign). */
    if (r == -ENODEV && a->kind == XPCI__STEP_UNQUARANTINE)
        return 0;
    return r < 0 ? r : 1;
}

static int act_xs_write(xpci_ctx *ctx, const char *dev,
                        const struct xpci__action *a)
{
    struct xpci_xs_perm owner_only = {.domid = 0,
                                      .perms = XPCI_XS_PERM_NONE};
    char *cur = NULL;
    int r;

    (void)dev;
    if (!ctx->xs)
        return 0;
    if (xpci__xs_read(ctx, XPCI_XS_NO_TXN, a->path, &cur) == 0 &&
        !strcmp(cur, a->val ? a->val : "")) {
        free(cur);
        return 0;
    }
    free(cur);
    r = ctx->xs->write(ctx->xs_priv, XPCI_XS_NO_TXN, a->path,
                       a->val ? a->val : "");
    if (r == 0 && ctx->xs->set_perms)
        r = ctx->xs->set_perms(ctx->xs_priv, XPCI_XS_NO_TXN, a->path,
                               &owner_only, 1);
    return r < 0 ? r : 1;
}

static int act_xs_rm(xpci_ctx *ctx, const char *dev,
                     const struct xpci__action *a)
{
    int r;

    (void)dev;
    if (!ctx->xs)
        return 0;
    r = ctx->xs->rm(ctx->xs_priv, XPCI_XS_NO_TXN, a->path);
    if (r == -ENOENT)
        return 0;
    return r < 0 ? r : 1;
}

static int act_state_add(xpci_ctx *ctx, const char *dev,
                         const struct xpci__action *a)
{
    int r = xpci__state_put(ctx, a->val);

    (void)dev;
    return r < 0 ? r : 1;
}

static int act_state_del(xpci_ctx *ctx, const char *dev,
                         const struct xpci__action *a)
{
    /* path: the entry's location, which outlives a renumbered BDF */
    int r = xpci__state_del(ctx, dev, a->path);

    return r < 0 ? r : 1;
}

/*
 * A brief comment about pciback's permissive flag
 * (drivers/xen/xen-pciback/pci_stub.c): writing a BDF to the driver's
 * "permissive" attribute sets a flag in pciback's per-device data, and
 * reading it lists the functions that have it.  Nothing clears it: a
 * guest letting go of the function keeps it (pcistub_put_pci_dev), only
 * the function leaving pciback frees that data (pcistub_device_release),
 * and a bind makes it anew, cleared.  So clearing is an unbind from
 * pciback and a bind back, which also resets the function, as the bind of
 * assignable-add did.
 */
enum xpci_tristate xpci__pciback_permissive(xpci_ctx *ctx, const char *dev)
{
    _cleanup_free_ char *list = NULL;
    char *line, *save = NULL;

    if (xpci__read_file(ctx->sysfs_fd, PCIBACK_PERMISSIVE, &list) < 0)
        return XPCI_UNKNOWN;
    for (line = strtok_r(list, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        if (!strcmp(line, dev))
            return XPCI_YES;
    return XPCI_NO;
}

static int act_permissive(xpci_ctx *ctx, const char *dev,
                          const struct xpci__action *a)
{
    enum xpci_tristate now = xpci__pciback_permissive(ctx, dev);
    int r;

    if (a->kind == XPCI__STEP_PERMISSIVE) {
        if (now == XPCI_YES)
            return 0;
        r = xpci__sysfs_write(ctx, PCIBACK_PERMISSIVE, dev);
        return r < 0 ? r : 1;
    }
    if (now != XPCI_YES)
        return 0;
    if ((r = xpci__sysfs_write(ctx, PCIBACK_DRIVER "/unbind", dev)) < 0)
        return r;
    r = xpci__sysfs_write(ctx, PCIBACK_DRIVER "/bind", dev);
    if (r < 0)
        return r;
    return xpci__pciback_permissive(ctx, dev) == XPCI_YES ? -EBUSY : 1;
}

static char *describe(const char *dev, const struct xpci__action *a)
{
    const char *v = a->val ? a->val : "";

    switch (a->kind) {
    case XPCI__STEP_WRITE:
        return xpci__sprintf("%s: write \"%s\" > /sys/%s", dev,
                             *v ? v : "\\n", a->path);
    case XPCI__STEP_MODPROBE:
        return xpci__sprintf("%s: modprobe %s", dev, a->path);
    case XPCI__STEP_RESET:
        return xpci__sprintf("%s: reset: write \"1\" > /sys/%s", dev,
                             a->path);
    case XPCI__STEP_QUARANTINE:
        return xpci__sprintf("%s: xc_assign_device(DOMID_IO) (quarantine)",
                             dev);
    case XPCI__STEP_UNQUARANTINE:
        return xpci__sprintf(
            "%s: xc_deassign_device(DOMID_IO) (leave quarantine)", dev);
    case XPCI__STEP_XS_WRITE:
        return xpci__sprintf("%s: xenstore write %s = \"%s\"", dev, a->path,
                             v);
    case XPCI__STEP_XS_RM:
        return xpci__sprintf("%s: xenstore rm %s", dev, a->path);
    case XPCI__STEP_STATE_ADD:
        return xpci__sprintf("%s: persistent set: add \"%s\"", dev, v);
    case XPCI__STEP_STATE_DEL:
        return xpci__sprintf("%s: persistent set: remove", dev);
    case XPCI__STEP_PERMISSIVE:
        return xpci__sprintf("%s: write \"%s\" > /sys/" PCIBACK_PERMISSIVE
                             " (permissive config space access)", dev, dev);
    case XPCI__STEP_PERMISSIVE_CLEAR:
        return xpci__sprintf("%s: clear pciback's permissive flag: unbind "
                             "from pciback and bind again", dev);
    default:
        return xpci__sprintf("%s: nothing", dev);
    }
}

const struct xpci__step_ops xpci__host_steps[] = {
    {XPCI__STEP_WRITE, "write", act_write, describe},
    {XPCI__STEP_MODPROBE, "modprobe", act_modprobe, describe},
    {XPCI__STEP_RESET, "reset", act_reset, describe},
    {XPCI__STEP_QUARANTINE, "quarantine", act_quarantine, describe},
    {XPCI__STEP_UNQUARANTINE, "unquarantine", act_quarantine, describe},
    {XPCI__STEP_XS_WRITE, "xs-write", act_xs_write, describe},
    {XPCI__STEP_XS_RM, "xs-rm", act_xs_rm, describe},
    {XPCI__STEP_STATE_ADD, "state-add", act_state_add, describe},
    {XPCI__STEP_STATE_DEL, "state-del", act_state_del, describe},
    {XPCI__STEP_PERMISSIVE, "permissive", act_permissive, describe},
    {XPCI__STEP_PERMISSIVE_CLEAR, "permissive-clear", act_permissive,
     describe},
    {0},
};
