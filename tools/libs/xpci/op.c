/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * op.c - running a mutating operation: a plan of steps, each with its
 * inverse, executed under a journal so that a failure undoes everything
 * done so far and a crash can be undone later by xpci_recover().
 *
 * Every step is guarded by the state it expects: a bind to the driver the
 * function already has, a remove_slot of a slot that isn't there, a
 * deassign of a function that isn't quarantined are no-ops.  That makes
 * undo safe for a step that was interrupted half-way, and makes the
 * operations idempotent.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "xpci-internal.h"

extern char **environ;

static const char *const kind_names[] = {
    [XPCI__STEP_NONE] = "none",
    [XPCI__STEP_WRITE] = "write",
    [XPCI__STEP_MODPROBE] = "modprobe",
    [XPCI__STEP_RESET] = "reset",
    [XPCI__STEP_QUARANTINE] = "quarantine",
    [XPCI__STEP_UNQUARANTINE] = "unquarantine",
    [XPCI__STEP_XS_WRITE] = "xs-write",
    [XPCI__STEP_XS_RM] = "xs-rm",
    [XPCI__STEP_STATE_ADD] = "state-add",
    [XPCI__STEP_STATE_DEL] = "state-del",
    [XPCI__STEP_ASSIGN] = "assign",
    [XPCI__STEP_DEASSIGN] = "deassign",
    [XPCI__STEP_IOMEM_ALLOW] = "iomem-allow",
    [XPCI__STEP_IOMEM_REVOKE] = "iomem-revoke",
    [XPCI__STEP_IOPORT_ALLOW] = "ioport-allow",
    [XPCI__STEP_IOPORT_REVOKE] = "ioport-revoke",
    [XPCI__STEP_IRQ_ALLOW] = "irq-allow",
    [XPCI__STEP_IRQ_REVOKE] = "irq-revoke",
    [XPCI__STEP_PV_ADD] = "pv-add",
    [XPCI__STEP_PV_REMOVE] = "pv-remove",
    [XPCI__STEP_QMP_ADD] = "qmp-add",
    [XPCI__STEP_QMP_DEL] = "qmp-del",
};

int xpci__plan_add(struct xpci__plan *plan, const char *dev,
                   enum xpci__step_kind kind, const char *path,
                   const char *val, enum xpci__step_kind undo_kind,
                   const char *undo_path, const char *undo_val)
{
    struct xpci__step *st;

    if (plan->n == plan->alloc) {
        unsigned na = plan->alloc ? plan->alloc * 2 : 32;
        struct xpci__step *ns = realloc(plan->steps, na * sizeof(*ns));

        if (!ns)
            return -ENOMEM;
        plan->steps = ns;
        plan->alloc = na;
    }
    st = &plan->steps[plan->n];
    memset(st, 0, sizeof(*st));
    snprintf(st->dev, sizeof(st->dev), "%s", dev);
    st->fwd.kind = kind;
    st->undo.kind = undo_kind;
    st->fwd.path = path ? strdup(path) : NULL;
    st->fwd.val = val ? strdup(val) : NULL;
    st->undo.path = undo_path ? strdup(undo_path) : NULL;
    st->undo.val = undo_val ? strdup(undo_val) : NULL;
    if ((path && !st->fwd.path) || (val && !st->fwd.val) ||
        (undo_path && !st->undo.path) || (undo_val && !st->undo.val)) {
        free(st->fwd.path);
        free(st->fwd.val);
        free(st->undo.path);
        free(st->undo.val);
        return -ENOMEM;
    }
    plan->n++;
    return 0;
}

void xpci__plan_dispose(struct xpci__plan *plan)
{
    for (unsigned i = 0; i < plan->n; i++) {
        free(plan->steps[i].fwd.path);
        free(plan->steps[i].fwd.val);
        free(plan->steps[i].undo.path);
        free(plan->steps[i].undo.val);
    }
    free(plan->steps);
    memset(plan, 0, sizeof(*plan));
}

char *xpci__action_describe(const char *dev, const struct xpci__action *a)
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
    case XPCI__STEP_NONE:
        break;
    default:
        return xpci__attach_describe(dev, a);
    }
    return xpci__sprintf("%s: nothing", dev);
}

static int vnote(char ***v, unsigned *n, const char *fmt, va_list ap)
{
    char *s;
    int r;

    if (vasprintf(&s, fmt, ap) < 0)
        return -ENOMEM;
    r = xpci__strv_push(v, n, s);
    free(s);
    return r;
}

int xpci__result_note(struct xpci_result *res, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vnote(&res->notes, &res->n_notes, fmt, ap);
    va_end(ap);
    return r;
}

int xpci__result_error(struct xpci_result *res, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s)
        return -ENOMEM;
    free(res->error);
    res->error = s;
    return 0;
}

int xpci__plan_describe(const struct xpci__plan *plan,
                        struct xpci_result *res)
{
    for (unsigned i = 0; i < plan->n; i++) {
        _cleanup_free_ char *d =
            xpci__action_describe(plan->steps[i].dev, &plan->steps[i].fwd);

        if (!d || xpci__strv_push(&res->plan, &res->n_plan, d) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* ------------------------------------------------------------ guards */

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

/* Perform one action.  Returns 1 if it changed something, 0 if it was
 * already in effect, or -errno. */
static int act(xpci_ctx *ctx, const char *dev, const struct xpci__action *a)
{
    struct xpci_xs_perm owner_only = {.domid = 0,
                                      .perms = XPCI_XS_PERM_NONE};
    uint32_t sbdf;
    char *cur = NULL;
    int r;

    switch (a->kind) {
    case XPCI__STEP_NONE:
        return 0;
    case XPCI__STEP_WRITE:
        if (write_in_effect(ctx, dev, a))
            return 0;
        /* An empty value clears an attribute such as driver_override. */
        r = xpci__sysfs_write(ctx, a->path,
                              a->val && *a->val ? a->val : "\n");
        return r < 0 ? r : 1;
    case XPCI__STEP_MODPROBE:
        r = run_modprobe(ctx, a->path);
        return r < 0 ? r : 1;
    case XPCI__STEP_RESET:
        r = xpci__sysfs_write(ctx, a->path, "1");
        return r < 0 ? r : 1;
    case XPCI__STEP_QUARANTINE:
    case XPCI__STEP_UNQUARANTINE:
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
    case XPCI__STEP_XS_WRITE:
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
    case XPCI__STEP_XS_RM:
        if (!ctx->xs)
            return 0;
        r = ctx->xs->rm(ctx->xs_priv, XPCI_XS_NO_TXN, a->path);
        if (r == -ENOENT)
            return 0;
        return r < 0 ? r : 1;
    case XPCI__STEP_STATE_ADD:
        r = xpci__state_put(ctx, a->val);
        return r < 0 ? r : 1;
    case XPCI__STEP_STATE_DEL:
        r = xpci__state_del(ctx, dev);
        return r < 0 ? r : 1;
    default:
        return xpci__attach_act(ctx, dev, a);
    }
}

/* ------------------------------------------------- operation helpers */

int xpci__op_lock(xpci_ctx *ctx, struct xpci_result *res)
{
    int fd = xpci__lock(ctx);

    if (fd < 0)
        xpci__result_error(res, "cannot lock %s: %s", ctx->state_dir,
                           fd == -EBUSY ? "another xpci is running"
                                        : strerror(-fd));
    return fd;
}

int xpci__op_scan(xpci_ctx *ctx, unsigned flags, struct xpci_result *res,
                  struct xpci_host **host_r, bool **chosen_r)
{
    int r = xpci__host_scan(ctx, flags, host_r);

    if (r < 0) {
        xpci__result_error(res, "cannot list PCI functions: %s",
                           strerror(-r));
        return r;
    }
    *chosen_r = calloc((*host_r)->n ? (*host_r)->n : 1, sizeof(bool));
    return *chosen_r ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------ journal */
/*
 * The journal is a text file in the state directory: a header line, then
 * per step an intent record written before the step runs, and a done
 * record after it.  Fields are tab-separated; tabs, newlines and '%' in
 * values are %-escaped.  Each record reaches the kernel before the step
 * runs, so it outlives xpci being killed; it is not forced to the disk,
 * as what it describes (driver bindings, the hypervisor's assignments,
 * xenstore) does not outlive the host either.
 */
#define JOURNAL_MAGIC "xpci-journal 1"

static void put_escaped(FILE *f, const char *s)
{
    /* Fields are split on tabs, so neither NULL nor "" may be empty. */
    if (!s || !*s) {
        fputs(s ? "%." : "%-", f);
        return;
    }
    for (; *s; s++) {
        if (*s == '\t' || *s == '\n' || *s == '%')
            fprintf(f, "%%%02x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
}

static char *get_escaped(const char *s)
{
    char *out, *w;

    if (!strcmp(s, "%-"))
        return NULL;
    if (!strcmp(s, "%."))
        return strdup("");
    out = w = malloc(strlen(s) + 1);
    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned v;

        if (s[0] == '%' && sscanf(s + 1, "%2x", &v) == 1) {
            *w++ = (char)v;
            s += 2;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
    return out;
}

struct journal {
    FILE *f;
    char *path;
    long records;
    long crash_after; /* test hook: die after this many records */
};

static int journal_sync(struct journal *j)
{
    if (fflush(j->f))
        return -errno;
    /* Test hook (XPCI_TEST_CRASH_AFTER=N): die like a kill -9 after the
     * Nth journal record, to exercise xpci_recover(). */
    if (j->crash_after > 0 && ++j->records == j->crash_after) {
        /* XPCI_TEST_CRASH_SIGNAL: stop with that signal instead, for a
         * test whose fakes live in its own memory. */
        const char *sig = getenv("XPCI_TEST_CRASH_SIGNAL");

        raise(sig ? atoi(sig) : SIGKILL);
    }
    return 0;
}

static int journal_open(xpci_ctx *ctx, const char *op, struct journal *j)
{
    const char *crash = getenv("XPCI_TEST_CRASH_AFTER");
    int fd;

    memset(j, 0, sizeof(*j));
    j->crash_after = crash ? atol(crash) : 0;
    j->path = xpci__sprintf("%s/" XPCI_JOURNAL_FILE, ctx->state_dir);
    if (!j->path)
        return -ENOMEM;
    fd = open(j->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int r = errno == EEXIST ? -EALREADY : -errno;

        free(j->path);
        return r;
    }
    j->f = fdopen(fd, "w");
    if (!j->f) {
        close(fd);
        unlink(j->path);
        free(j->path);
        return -ENOMEM;
    }
    fprintf(j->f, JOURNAL_MAGIC "\t%s\t%ld\n", op, (long)getpid());
    return journal_sync(j);
}

static void put_action(FILE *f, const struct xpci__action *a)
{
    fprintf(f, "\t%s\t", kind_names[a->kind]);
    put_escaped(f, a->path);
    fputc('\t', f);
    put_escaped(f, a->val);
}

static int journal_intent(struct journal *j, unsigned i,
                          const struct xpci__step *st)
{
    fprintf(j->f, "intent\t%u\t%s", i, st->dev);
    put_action(j->f, &st->fwd);
    put_action(j->f, &st->undo);
    fputc('\n', j->f);
    return journal_sync(j);
}

static int journal_done(struct journal *j, unsigned i, int applied)
{
    fprintf(j->f, "done\t%u\t%d\n", i, applied);
    return journal_sync(j);
}

static void journal_close(struct journal *j, bool remove)
{
    if (j->f)
        fclose(j->f);
    if (remove && j->path)
        unlink(j->path);
    free(j->path);
    memset(j, 0, sizeof(*j));
}

static enum xpci__step_kind kind_by_name(const char *s)
{
    for (size_t k = 0; k < ARRAY_SIZE(kind_names); k++)
        if (!strcmp(kind_names[k], s))
            return (enum xpci__step_kind)k;
    return XPCI__STEP_NONE;
}

/* Rebuild the plan a journal records; steps never marked done are
 * applied == -1 (may or may not have happened). */
static int journal_load(const char *path, struct xpci__plan *plan,
                        char **op_r)
{
    _cleanup_free_ char *buf = NULL;
    char *line, *save = NULL;
    ssize_t len = xpci__read_file(AT_FDCWD, path, &buf);
    int r;

    if (len < 0)
        return (int)len;
    line = strtok_r(buf, "\n", &save);
    if (!line || strncmp(line, JOURNAL_MAGIC "\t", strlen(JOURNAL_MAGIC) + 1))
        return -EBADMSG;
    *op_r = strndup(line + strlen(JOURNAL_MAGIC) + 1,
                    strcspn(line + strlen(JOURNAL_MAGIC) + 1, "\t"));
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[10], *s2 = NULL;
        unsigned nf = 0, idx;

        for (char *tok = strtok_r(line, "\t", &s2); tok && nf < 10;
             tok = strtok_r(NULL, "\t", &s2))
            f[nf++] = tok;
        if (nf == 9 && !strcmp(f[0], "intent")) {
            _cleanup_free_ char *p1 = get_escaped(f[4]), *v1 = get_escaped(f[5]);
            _cleanup_free_ char *p2 = get_escaped(f[7]), *v2 = get_escaped(f[8]);

            r = xpci__plan_add(plan, f[2], kind_by_name(f[3]), p1, v1,
                               kind_by_name(f[6]), p2, v2);
            if (r < 0)
                return r;
            plan->steps[plan->n - 1].applied = -1;
        } else if (nf == 3 && !strcmp(f[0], "done") &&
                   sscanf(f[1], "%u", &idx) == 1 && idx < plan->n) {
            plan->steps[idx].applied = atoi(f[2]);
        }
    }
    return 0;
}

/* ------------------------------------------------------------ running */

static bool function_present(xpci_ctx *ctx, const char *dev)
{
    char path[64];

    snprintf(path, sizeof(path), "bus/pci/devices/%s", dev);
    return faccessat(ctx->sysfs_fd, path, F_OK, 0) == 0;
}

static int undo_steps(xpci_ctx *ctx, struct xpci__plan *plan, unsigned upto,
                      struct xpci_result *res)
{
    int failures = 0;

    for (unsigned i = upto; i-- > 0;) {
        struct xpci__step *st = &plan->steps[i];
        int r;

        if (st->applied == 0 || st->undo.kind == XPCI__STEP_NONE)
            continue;
        r = act(ctx, st->dev, &st->undo);
        /* A function unplugged meanwhile has nothing left to put back. */
        if (r < 0 && !function_present(ctx, st->dev)) {
            char note[96];

            snprintf(note, sizeof(note), "%s: gone from the bus: nothing to "
                                         "put back", st->dev);
            if (!xpci__strv_contains(res->notes, res->n_notes, note))
                xpci__strv_push(&res->notes, &res->n_notes, note);
            continue;
        }
        if (r < 0) {
            _cleanup_free_ char *d = xpci__action_describe(st->dev, &st->undo);

            failures++;
            if (d) {
                char *msg = xpci__sprintf("%s: %s", d, strerror(-r));

                if (msg)
                    xpci__strv_push(&res->undo_errors, &res->n_undo_errors,
                                    msg);
                free(msg);
            }
        }
    }
    return failures;
}

/*
 * Consecutive slow steps of different functions run at once: resets, and
 * binds and unbinds through one driver.  They mostly wait (an FLR takes
 * 100 ms, pci_reset_function in drivers/pci/pci.c; pciback resets on bind;
 * a driver quiesces its device on unbind), and the kernel serializes per
 * device, so hiding many functions costs about one of each, not one per
 * function.
 */
static bool batchable(const struct xpci__step *st)
{
    const char *p = st->fwd.path, *tail;

    if (st->fwd.kind == XPCI__STEP_RESET)
        return true;
    if (st->fwd.kind != XPCI__STEP_WRITE || !p ||
        strncmp(p, "bus/pci/drivers/", 16) || !(tail = strrchr(p, '/')))
        return false;
    return !strcmp(tail, "/bind") || !strcmp(tail, "/unbind");
}

/* Does step b join a batch that starts at a (same action, another
 * function than every one in [a, b))? */
static bool joins_batch(const struct xpci__plan *plan, unsigned a, unsigned b)
{
    const struct xpci__step *first = &plan->steps[a], *st = &plan->steps[b];

    if (!batchable(st) || st->fwd.kind != first->fwd.kind ||
        (st->fwd.kind == XPCI__STEP_WRITE &&
         strcmp(st->fwd.path, first->fwd.path)))
        return false;
    for (unsigned k = a; k < b; k++)
        if (!strcmp(plan->steps[k].dev, st->dev))
            return false;
    return true;
}
struct reset_job {
    xpci_ctx *ctx;
    struct xpci__step *st;
    pthread_t thread;
    bool started;
    int r;
};

static void *reset_thread(void *arg)
{
    struct reset_job *job = arg;

    job->r = act(job->ctx, job->st->dev, &job->st->fwd);
    return NULL;
}

/* Run steps [first, end) (one batch) together; returns the index of the
 * first failing one, or -1. */
static long run_batch(xpci_ctx *ctx, struct xpci__plan *plan, unsigned first,
                       unsigned end, int *err_r)
{
    struct reset_job *jobs = calloc(end - first, sizeof(*jobs));
    long failed = -1;

    if (!jobs) {
        *err_r = -ENOMEM;
        return first;
    }
    for (unsigned i = first; i < end; i++) {
        struct reset_job *job = &jobs[i - first];

        job->ctx = ctx;
        job->st = &plan->steps[i];
        job->started =
            pthread_create(&job->thread, NULL, reset_thread, job) == 0;
        if (!job->started)
            reset_thread(job);
    }
    for (unsigned i = first; i < end; i++) {
        struct reset_job *job = &jobs[i - first];

        if (job->started)
            pthread_join(job->thread, NULL);
        plan->steps[i].applied = job->r < 0 ? -1 : job->r;
        if (job->r < 0 && failed < 0) {
            failed = i;
            *err_r = job->r;
        }
    }
    free(jobs);
    return failed;
}

int xpci__plan_run(xpci_ctx *ctx, struct xpci__plan *plan,
                   struct xpci_result *res)
{
    struct journal j;
    int r;

    r = xpci__plan_describe(plan, res);
    if (r < 0)
        return r;
    if (plan->n == 0)
        return 0;
    r = journal_open(ctx, plan->op, &j);
    if (r == -EALREADY) {
        xpci__result_error(res, "an interrupted operation is pending in %s/"
                                XPCI_JOURNAL_FILE ": run xpci recover first",
                           ctx->state_dir);
        return -EBUSY;
    }
    if (r < 0) {
        xpci__result_error(res, "cannot write the journal in %s: %s",
                           ctx->state_dir, strerror(-r));
        return r;
    }
    for (unsigned i = 0; i < plan->n; i++) {
        struct xpci__step *st = &plan->steps[i];
        unsigned end = i + 1;

        while (batchable(st) && end < plan->n && joins_batch(plan, i, end))
            end++;
        if (end > i + 1) {
            long bad = -1;

            r = 0;
            for (unsigned k = i; k < end && r == 0; k++) {
                plan->steps[k].applied = -1;
                r = journal_intent(&j, k, &plan->steps[k]);
            }
            if (r == 0)
                bad = run_batch(ctx, plan, i, end, &r);
            for (unsigned k = i; k < end && bad < 0 && r == 0; k++)
                journal_done(&j, k, plan->steps[k].applied);
            if (r == 0) {
                i = end - 1;
                continue;
            }
            /* report the failing reset; undo everything before the run */
            st = &plan->steps[bad >= 0 ? (unsigned)bad : i];
            i = end - 1;
        } else {
            r = journal_intent(&j, i, st);
            if (r == 0) {
                st->applied = -1;
                r = act(ctx, st->dev, &st->fwd);
            }
        }
        if (r < 0) {
            _cleanup_free_ char *d = xpci__action_describe(st->dev, &st->fwd);

            xpci__result_error(res, "%s: %s", d ? d : st->dev, strerror(-r));
            /* The failed step may have half-happened: undo it too. */
            res->n_done = i;
            res->rolled_back = undo_steps(ctx, plan, i + 1, res) == 0;
            journal_close(&j, res->rolled_back);
            return r;
        }
        st->applied = r;
        journal_done(&j, i, r);
    }
    res->n_done = plan->n;
    journal_close(&j, true);
    return 0;
}

int xpci_recover(xpci_ctx *ctx, struct xpci_result **res_r)
{
    struct xpci__plan plan = {0};
    struct xpci_result *res = calloc(1, sizeof(*res));
    _cleanup_free_ char *path = NULL, *op = NULL;
    int lock, r;

    if (!res)
        return -ENOMEM;
    *res_r = res;
    path = xpci__sprintf("%s/" XPCI_JOURNAL_FILE, ctx->state_dir);
    if (!path)
        return -ENOMEM;
    lock = xpci__op_lock(ctx, res);
    if (lock < 0)
        return lock;
    r = journal_load(path, &plan, &op);
    if (r == -ENOENT) {
        xpci__result_note(res, "no interrupted operation");
        r = 0;
        goto out;
    }
    if (r < 0) {
        xpci__result_error(res, "journal %s unreadable: %s", path,
                           strerror(-r));
        goto out;
    }
    for (unsigned i = 0; i < plan.n; i++) {
        _cleanup_free_ char *d =
            xpci__action_describe(plan.steps[i].dev, &plan.steps[i].undo);

        if (plan.steps[i].undo.kind != XPCI__STEP_NONE &&
            plan.steps[i].applied != 0 && d)
            xpci__strv_push(&res->plan, &res->n_plan, d);
    }
    if (undo_steps(ctx, &plan, plan.n, res)) {
        xpci__result_error(res, "%u undo step(s) of the interrupted %s "
                                "failed; the journal is kept",
                           res->n_undo_errors, op ? op : "operation");
        r = -EIO;
        goto out;
    }
    res->rolled_back = true;
    unlink(path);
    xpci__result_note(res, "undid the interrupted %s (%u step(s) recorded)",
                      op ? op : "operation", plan.n);
    xpci__audit(ctx, "op=recover undid=%s steps=%u", op ? op : "?", plan.n);
out:
    xpci__plan_dispose(&plan);
    close(lock);
    return r;
}

void xpci_result_free(struct xpci_result *res)
{
    if (!res)
        return;
    xpci__strv_free(res->plan, res->n_plan);
    xpci__strv_free(res->notes, res->n_notes);
    xpci__strv_free(res->undo_errors, res->n_undo_errors);
    free(res->error);
    free(res);
}
