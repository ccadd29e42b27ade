/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * state.c - what survives a reboot and what is written down: the
 * persistent set of functions that belong to guests (the source of truth
 * for xpci_reconcile at boot), the lock that serializes xpci invocations,
 * and the audit trail (append-only file plus syslog).
 *
 * The set is a text file, one function a line:
 *   BDF LOCATION ORIGINAL-DRIVER NAME      ("-" for an absent field)
 * rewritten whole through a temporary file and rename(2).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "xpci-internal.h"

#define LOCK_WAIT_MS 30000
#define LOCK_POLL_MS 20

static int mkdir_p(const char *path, mode_t mode)
{
    _cleanup_free_ char *copy = strdup(path);

    if (!copy)
        return -ENOMEM;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static char *field(const char *s)
{
    return strcmp(s, "-") ? strdup(s) : NULL;
}

void xpci__state_free(struct xpci__entry *ents, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ents[i].location);
        free(ents[i].driver);
        free(ents[i].name);
    }
    free(ents);
}

int xpci__state_load(xpci_ctx *ctx, struct xpci__entry **ents_r, size_t *n_r)
{
    _cleanup_free_ char *path = NULL, *buf = NULL;
    struct xpci__entry *ents = NULL;
    char *line, *save = NULL;
    size_t n = 0;
    ssize_t r;

    path = xpci__sprintf("%s/" XPCI_STATE_FILE, ctx->state_dir);
    if (!path)
        return -ENOMEM;
    r = xpci__read_file(AT_FDCWD, path, &buf);
    if (r == -ENOENT) {
        *ents_r = NULL;
        *n_r = 0;
        return 0;
    }
    if (r < 0)
        return (int)r;
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char bdf[32], loc[512], drv[128], name[256];
        struct xpci__entry *ne;
        struct xpci_bdf b;

        if (line[0] == '#' ||
            sscanf(line, "%31s %511s %127s %255s", bdf, loc, drv, name) != 4 ||
            xpci_bdf_parse(bdf, &b) < 0)
            continue;
        ne = realloc(ents, (n + 1) * sizeof(*ne));
        if (!ne) {
            xpci__state_free(ents, n);
            return -ENOMEM;
        }
        ents = ne;
        xpci_bdf_format(&b, ents[n].bdf);
        ents[n].location = field(loc);
        ents[n].driver = field(drv);
        ents[n].name = field(name);
        n++;
    }
    *ents_r = ents;
    *n_r = n;
    return 0;
}

char *xpci__state_line(const char *bdf, const char *location,
                       const char *driver, const char *name)
{
    return xpci__sprintf("%s %s %s %s", bdf,
                         location && *location ? location : "-",
                         driver && *driver ? driver : "-",
                         name && *name ? name : "-");
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rewrite the set: every entry except `bdf`, plus `line` if given, in BDF
 * order. */
static int state_rewrite(xpci_ctx *ctx, const char *bdf, const char *line)
{
    _cleanup_free_ char *path = NULL, *tmp = NULL;
    struct xpci__entry *ents = NULL;
    char **lines = NULL;
    unsigned n_lines = 0;
    size_t n = 0;
    FILE *f;
    int r;

    r = mkdir_p(ctx->state_dir, 0700);
    if (r < 0)
        return r;
    r = xpci__state_load(ctx, &ents, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n && r == 0; i++) {
        _cleanup_free_ char *l = NULL;

        if (!strcmp(ents[i].bdf, bdf))
            continue;
        l = xpci__state_line(ents[i].bdf, ents[i].location, ents[i].driver,
                             ents[i].name);
        r = l ? xpci__strv_push(&lines, &n_lines, l) : -ENOMEM;
    }
    xpci__state_free(ents, n);
    if (r == 0 && line)
        r = xpci__strv_push(&lines, &n_lines, line);
    path = xpci__sprintf("%s/" XPCI_STATE_FILE, ctx->state_dir);
    tmp = xpci__sprintf("%s/." XPCI_STATE_FILE ".tmp", ctx->state_dir);
    if (r == 0 && (!path || !tmp))
        r = -ENOMEM;
    if (r < 0)
        goto out;
    /* BDFs lead each line in canonical form: sorting lines sorts them. */
    if (n_lines)
        qsort(lines, n_lines, sizeof(*lines), cmp_line);
    f = fopen(tmp, "we");
    if (!f) {
        r = -errno;
        goto out;
    }
    fprintf(f, "# xpci: PCI functions kept for guests (BDF LOCATION "
               "ORIGINAL-DRIVER NAME)\n");
    for (unsigned i = 0; i < n_lines; i++)
        fprintf(f, "%s\n", lines[i]);
    if (fflush(f) || fsync(fileno(f))) {
        r = -errno;
        fclose(f);
        unlink(tmp);
        goto out;
    }
    fclose(f);
    if (rename(tmp, path) < 0) {
        r = -errno;
        unlink(tmp);
    }
out:
    xpci__strv_free(lines, n_lines);
    return r;
}

int xpci__state_put(xpci_ctx *ctx, const char *line)
{
    char bdf[32];
    struct xpci_bdf b;

    if (!line || sscanf(line, "%31s", bdf) != 1 || xpci_bdf_parse(bdf, &b))
        return -EINVAL;
    xpci_bdf_format(&b, bdf);
    return state_rewrite(ctx, bdf, line);
}

int xpci__state_del(xpci_ctx *ctx, const char *bdf)
{
    return state_rewrite(ctx, bdf, NULL);
}

int xpci__lock(xpci_ctx *ctx)
{
    _cleanup_free_ char *path = NULL;
    struct timespec poll = {0, LOCK_POLL_MS * 1000000L};
    int fd, r;

    r = mkdir_p(ctx->state_dir, 0700);
    if (r < 0)
        return r;
    path = xpci__sprintf("%s/" XPCI_LOCK_FILE, ctx->state_dir);
    if (!path)
        return -ENOMEM;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    /* Wait for another xpci to finish, but not forever. */
    for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0;
         waited += LOCK_POLL_MS) {
        if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MS) {
            r = errno == EWOULDBLOCK ? -EBUSY : -errno;
            close(fd);
            return r;
        }
        nanosleep(&poll, NULL);
    }
    return fd;
}

void xpci__audit(xpci_ctx *ctx, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL, *dir = NULL;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;
    char *slash;
    int fd;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return;
    if (!ctx->no_syslog) {
        openlog("xpci", LOG_PID, LOG_DAEMON);
        syslog(LOG_NOTICE, "uid=%u %s", (unsigned)getuid(), msg);
        closelog();
    }
    dir = strdup(ctx->audit_log);
    if (dir && (slash = strrchr(dir, '/')) && slash != dir) {
        *slash = '\0';
        mkdir_p(dir, 0750);
    }
    fd = open(ctx->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    dprintf(fd, "%s uid=%u pid=%ld %s\n", stamp, (unsigned)getuid(),
            (long)getpid(), msg);
    close(fd);
}
