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
 * operations idempotent.  What each kind of step does is its owner's
 * business (steps.c); this file only orders, journals and undoes.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "xpci-internal.h"

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
    return xpci__step_ops(a->kind)->describe(dev, a);
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

/* Perform one action.  Returns 1 if it changed something, 0 if it was
 * already in effect, or -errno. */
static int act(xpci_ctx *ctx, const char *dev, const struct xpci__action *a)
{
    return xpci__step_ops(a->kind)->act(ctx, dev, a);
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
    fprintf(f, "\t%s\t", xpci__step_ops(a->kind)->name);
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
    return xpci__step_kind_by_name(s);
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
