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
                           fd == -EBUSY   ? "another xpci is running"
                           : fd == -EINVAL ? "its lock is not a regular "
                                             "file: refused"
                                           : xpci__state_dir_why(fd));
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
 * record after it.  Fields are tab-separated and escaped as the
 * persistent set's are (xpci__escape).  Each record reaches the kernel
 * before the step runs, so it outlives xpci being killed; it is not
 * forced to the disk, as what it describes (driver bindings, the
 * hypervisor's assignments, xenstore) does not outlive the host either.
 * It is read back strictly (see journal_load): recover replays nothing
 * from a journal it can't fully account for.
 */
#define JOURNAL_MAGIC "xpci-journal 1"

static int put_escaped(FILE *f, const char *s)
{
    _cleanup_free_ char *e = xpci__escape(s);

    if (!e)
        return -ENOMEM;
    fputs(e, f);
    return 0;
}

struct journal {
    FILE *f;
    char *path;
    long records;
    long crash_after; /* test hook: die after this many records */
};

static int journal_sync(struct journal *j)
{
    if (ferror(j->f) || fflush(j->f))
        return errno ? -errno : -EIO;
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

/* The journal while its first line is written (see journal_open). */
#define JOURNAL_NEW "." XPCI_JOURNAL_FILE ".new"

static int journal_open(xpci_ctx *ctx, const char *op, struct journal *j)
{
    const char *crash = getenv("XPCI_TEST_CRASH_AFTER");
    int fd;

    memset(j, 0, sizeof(*j));
    j->crash_after = crash ? atol(crash) : 0;
    j->path = xpci__sprintf("%s/" XPCI_JOURNAL_FILE, ctx->state_dir);
    if (!j->path)
        return -ENOMEM;
    /*
     * The journal appears with its first line or not at all: written
     * under another name, then linked into place.  A process killed
     * between creating the file and writing that line would otherwise
     * leave an empty journal that recover refuses and that blocks every
     * later operation.  The lock is held: no one else writes JOURNAL_NEW.
     */
    xpci__state_unlink(ctx, JOURNAL_NEW);
    fd = xpci__state_open(ctx, JOURNAL_NEW, O_WRONLY | O_CREAT | O_EXCL,
                          0600);
    if (fd < 0) {
        free(j->path);
        j->path = NULL;
        return fd;
    }
    j->f = fdopen(fd, "w");
    if (!j->f) {
        close(fd);
        xpci__state_unlink(ctx, JOURNAL_NEW);
        free(j->path);
        j->path = NULL;
        return -ENOMEM;
    }
    fprintf(j->f, JOURNAL_MAGIC "\t%s\t%ld\n", op, (long)getpid());
    /* linkat fails with EEXIST on a journal already there (or anything
     * planted under its name, a symlink included): a pending operation */
    if (fflush(j->f) == EOF ||
        linkat(ctx->state_fd, JOURNAL_NEW, ctx->state_fd, XPCI_JOURNAL_FILE,
               0) < 0) {
        int r = errno == EEXIST ? -EALREADY : -errno;

        fclose(j->f);
        xpci__state_unlink(ctx, JOURNAL_NEW);
        free(j->path);
        memset(j, 0, sizeof(*j));
        return r;
    }
    xpci__state_unlink(ctx, JOURNAL_NEW);
    return journal_sync(j);
}

static int put_action(FILE *f, const struct xpci__action *a)
{
    int r;

    fprintf(f, "\t%s\t", xpci__step_ops(a->kind)->name);
    if ((r = put_escaped(f, a->path)) < 0)
        return r;
    fputc('\t', f);
    return put_escaped(f, a->val);
}

static int journal_intent(struct journal *j, unsigned i,
                          const struct xpci__step *st)
{
    int r;

    fprintf(j->f, "intent\t%u\t%s", i, st->dev);
    /* A record left without its newline is a cut one: recover refuses
     * it rather than guess. */
    if ((r = put_action(j->f, &st->fwd)) < 0 ||
        (r = put_action(j->f, &st->undo)) < 0) {
        fflush(j->f);
        return r;
    }
    fputc('\n', j->f);
    return journal_sync(j);
}

static int journal_done(struct journal *j, unsigned i, int applied)
{
    fprintf(j->f, "done\t%u\t%d\n", i, applied);
    return journal_sync(j);
}

static void journal_close(xpci_ctx *ctx, struct journal *j, bool remove)
{
    if (j->f)
        fclose(j->f);
    if (remove && j->path)
        xpci__state_unlink(ctx, XPCI_JOURNAL_FILE);
    free(j->path);
    memset(j, 0, sizeof(*j));
}

static int kind_by_name(const char *s, enum xpci__step_kind *kind_r)
{
    enum xpci__step_kind k = xpci__step_kind_by_name(s);

    /* The table answers "none" for a name it does not know. */
    if (k == XPCI__STEP_NONE && strcmp(s, xpci__step_ops(k)->name))
        return -EBADMSG;
    *kind_r = k;
    return 0;
}

static bool all_of(const char *s, const char *set)
{
    return s && *s && s[strspn(s, set)] == '\0';
}

#define DIGITS "0123456789"
#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS

/*
 * Is a recorded action one xpci could have planned?  A journal is read
 * back from disk, possibly from a tree someone else made: a sysfs write
 * goes below bus/pci/ of the root and nowhere else, a module is a module
 * name, xenstore paths are libxl's or a domain's, a state entry parses.
 */
static bool action_valid(const struct xpci__action *a)
{
    struct xpci__entry e;

    switch (a->kind) {
    case XPCI__STEP_NONE:
        return true; /* does nothing; a planner may leave fields in it */
    case XPCI__STEP_WRITE:
    case XPCI__STEP_RESET:
        return a->path && !xpci__path_escapes(a->path) &&
               !strncmp(a->path, "bus/pci/", 8);
    case XPCI__STEP_MODPROBE:
        return all_of(a->path, ALNUM "_-");
    case XPCI__STEP_QUARANTINE:
    case XPCI__STEP_UNQUARANTINE:
        return !a->path && !a->val;
    case XPCI__STEP_XS_WRITE:
    case XPCI__STEP_XS_RM:
        return a->path && !strstr(a->path, "/../") &&
               (!strncmp(a->path, XPCI__XS_LIBXL_PCI "/", 11) ||
                !strncmp(a->path, "/local/domain/", 14));
    case XPCI__STEP_STATE_ADD:
        if (!a->val || xpci__entry_parse(a->val, &e) < 0)
            return false;
        xpci__entry_dispose(&e);
        return true;
    case XPCI__STEP_STATE_DEL:
        return !a->path || !xpci__path_escapes(a->path);
    default:
        /* attach.c's steps: the path is a domain id */
        return !a->path || all_of(a->path, DIGITS);
    }
}

/* Parse one intent record's action (kind, path, val fields). */
static int parse_action(char **f, struct xpci__action *a)
{
    int r;

    memset(a, 0, sizeof(*a));
    if ((r = kind_by_name(f[0], &a->kind)) < 0 ||
        (r = xpci__unescape(f[1], &a->path)) < 0 ||
        (r = xpci__unescape(f[2], &a->val)) < 0)
        return r;
    return action_valid(a) ? 0 : -EBADMSG;
}

/* Split a record on tabs into at most max fields; the count, or -1 when
 * there are more. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;

    for (char *p = line;; p++) {
        char *tab = strchr(p, '\t');

        if (n == max)
            return -1;
        f[n++] = p;
        if (!tab)
            return n;
        *tab = '\0';
        p = tab;
    }
}

static int journal_record(char *line, struct xpci__plan *plan)
{
    char *f[10], *end;
    int nf = split_tabs(line, f, 10), r;
    struct xpci__action fwd = {0}, undo = {0};
    struct xpci_bdf b;
    char canon[XPCI_BDF_STRLEN];
    unsigned long idx;
    long applied;

    if (nf < 3 || !all_of(f[1], DIGITS))
        return -EBADMSG;
    errno = 0;
    idx = strtoul(f[1], &end, 10);
    if (errno || *end)
        return -EBADMSG;
    if (nf == 9 && !strcmp(f[0], "intent")) {
        if (idx != plan->n || xpci_bdf_parse(f[2], &b) < 0)
            return -EBADMSG;
        xpci_bdf_format(&b, canon);
        if (strcmp(canon, f[2]))
            return -EBADMSG;
        r = parse_action(f + 3, &fwd);
        if (r == 0)
            r = parse_action(f + 6, &undo);
        if (r == 0)
            r = xpci__plan_add(plan, canon, fwd.kind, fwd.path, fwd.val,
                               undo.kind, undo.path, undo.val);
        free(fwd.path);
        free(fwd.val);
        free(undo.path);
        free(undo.val);
        if (r < 0)
            return r;
        plan->steps[plan->n - 1].applied = -1;
        return 0;
    }
    if (nf == 3 && !strcmp(f[0], "done") && idx < plan->n) {
        errno = 0;
        applied = strtol(f[2], &end, 10);
        if (errno || *end || end == f[2] || applied < -1 || applied > 1)
            return -EBADMSG;
        plan->steps[idx].applied = (int)applied;
        return 0;
    }
    return -EBADMSG;
}

/*
 * Rebuild the plan a journal records; steps never marked done are
 * applied == -1 (may or may not have happened).  Strict: any record that
 * xpci could not have written (a cut one included) is -EBADMSG, with its
 * line number in *bad_r; nothing is replayed from such a journal.
 */
static int journal_load(xpci_ctx *ctx, struct xpci__plan *plan, char **op_r,
                        unsigned *bad_r)
{
    _cleanup_free_ char *buf = NULL;
    char *line, *nl, *op;
    unsigned lineno = 1;
    int r;

    *bad_r = 0;
    r = xpci__state_read(ctx, XPCI_JOURNAL_FILE, &buf);
    if (r < 0)
        return r;
    line = buf;
    nl = strchr(line, '\n');
    if (!nl || strncmp(line, JOURNAL_MAGIC "\t", strlen(JOURNAL_MAGIC) + 1)) {
        *bad_r = 1;
        return -EBADMSG;
    }
    *nl = '\0';
    op = line + strlen(JOURNAL_MAGIC) + 1;
    *op_r = strndup(op, strcspn(op, "\t"));
    if (!*op_r)
        return -ENOMEM;
    if (!all_of(*op_r, "abcdefghijklmnopqrstuvwxyz-")) {
        *bad_r = 1;
        return -EBADMSG;
    }
    for (line = nl + 1; *line; line = nl + 1) {
        lineno++;
        /* A record without its newline was cut short. */
        if (!(nl = strchr(line, '\n'))) {
            *bad_r = lineno;
            return -EBADMSG;
        }
        *nl = '\0';
        if ((r = journal_record(line, plan)) < 0) {
            *bad_r = lineno;
            return r;
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

/*
 * The plan's guest is gone (destroyed, or crashed and restarted as another
 * domain): Xen released its functions to quarantine with it
 * (pci_release_devices), its permissions died with it, and its device
 * model went too.  Nothing can be put back into it, and failing to is no
 * undo failure.  A guest that has shut down for good (crashed and kept,
 * or not destroyed yet) runs no more either: what it still holds Xen
 * takes back when it is destroyed, and its device model may be gone.
 */
static bool guest_gone(xpci_ctx *ctx, const struct xpci__plan *plan,
                       struct xpci_result *res)
{
    char note[160];
    int r;

    if (!plan->has_guest || !ctx->hv || !ctx->hv->domain_exists)
        return false;
    r = ctx->hv->domain_exists(ctx->hv_priv, plan->guest);
    if (r == -ESRCH)
        snprintf(note, sizeof(note), "domain %u no longer exists: Xen took "
                                     "its functions back to quarantine; "
                                     "nothing to put back into it",
                 plan->guest);
    else if (r == -ESHUTDOWN)
        snprintf(note, sizeof(note), "domain %u has shut down: Xen takes the "
                                     "functions it holds back to quarantine "
                                     "when it is destroyed; nothing to put "
                                     "back into it", plan->guest);
    else
        return false;
    if (!xpci__strv_contains(res->notes, res->n_notes, note))
        xpci__strv_push(&res->notes, &res->n_notes, note);
    return true;
}

static int undo_steps(xpci_ctx *ctx, struct xpci__plan *plan, unsigned upto,
                      struct xpci_result *res)
{
    int failures = 0;

    if (guest_gone(ctx, plan, res))
        return 0;
    for (unsigned i = upto; i-- > 0;) {
        struct xpci__step *st = &plan->steps[i];
        int r;

        if (st->applied == 0 || st->undo.kind == XPCI__STEP_NONE)
            continue;
        r = act(ctx, st->dev, &st->undo);
        /* The guest went while we undid: the rest is moot too. */
        if (r < 0 && guest_gone(ctx, plan, res))
            return 0;
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

/* A reset step that did nothing: the kernel had no reset for it then. */
static void note_skipped_resets(const struct xpci__plan *plan,
                                struct xpci_result *res)
{
    for (unsigned i = 0; i < plan->n; i++)
        if (plan->steps[i].fwd.kind == XPCI__STEP_RESET &&
            plan->steps[i].applied == 0)
            xpci__result_note(res, "%s: not reset: the kernel refused "
                                   "(ENOTTY; a bus reset needs it alone "
                                   "on its bus): what its last user left "
                                   "in it stays", plan->steps[i].dev);
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
                           ctx->state_dir, xpci__state_dir_why(r));
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
                ctx->step_untouched = false;
                r = act(ctx, st->dev, &st->fwd);
                if (r < 0 && ctx->step_untouched)
                    st->applied = 0;
            }
        }
        if (r < 0) {
            _cleanup_free_ char *d = xpci__action_describe(st->dev, &st->fwd);

            xpci__result_error(res, "%s: %s", d ? d : st->dev, strerror(-r));
            /* The failed step may have half-happened: undo it too
             * (undo_steps passes over it when it says it changed
             * nothing). */
            res->n_done = i;
            /* -EINPROGRESS: the step started something that cannot be
             * taken back (a guest asked to unplug): leave it, undo the
             * rest; or, where the plan says so (a guest began taking a
             * function), leave everything done so far as it is. */
            if (r == -EINPROGRESS && plan->keep_on_inprogress) {
                res->rolled_back = false;
                journal_close(ctx, &j, true);
                return r;
            }
            res->rolled_back =
                undo_steps(ctx, plan, r == -EINPROGRESS ? i : i + 1, res) ==
                0;
            journal_close(ctx, &j, res->rolled_back);
            return r;
        }
        st->applied = r;
        journal_done(&j, i, r);
    }
    res->n_done = plan->n;
    journal_close(ctx, &j, true);
    note_skipped_resets(plan, res);
    return 0;
}

int xpci_recover(xpci_ctx *ctx, struct xpci_result **res_r)
{
    struct xpci__plan plan = {0};
    struct xpci_result *res = calloc(1, sizeof(*res));
    _cleanup_free_ char *path = NULL, *op = NULL;
    unsigned bad = 0;
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
    r = journal_load(ctx, &plan, &op, &bad);
    if (r == -ENOENT) {
        xpci__result_note(res, "no interrupted operation");
        r = 0;
        goto out;
    }
    if (r == -EBADMSG) {
        xpci__result_error(res, "journal %s: record %u is malformed or cut "
                                "short: nothing replayed (inspect the file, "
                                "put things right by hand, then remove it)",
                           path, bad);
        goto out;
    }
    if (r < 0) {
        xpci__result_error(res, "journal %s unreadable: %s", path,
                           r == -ELOOP || r == -EINVAL
                               ? "not a regular file: refused"
                               : xpci__state_dir_why(r));
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
    xpci__state_unlink(ctx, XPCI_JOURNAL_FILE);
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
