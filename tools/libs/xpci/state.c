/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * state.c - what survives a reboot and what is written down: the state
 * directory itself (opened once, refused unless it is ours and closed to
 * others), the persistent set of functions that belong to guests (the
 * source of truth for xpci_reconcile at boot), the lock that serializes
 * xpci invocations, and the audit trail (append-only file plus syslog).
 *
 * The set is a text file, one function a line:
 *   BDF LOCATION ORIGINAL-DRIVER NAME IDENTITY
 * each field escaped as the journal's are (xpci__escape: "%-" for an
 * absent one), rewritten whole through a temporary file and rename(2).
 * Files of older versions have four fields, "-" for an absent one, and no
 * identity; they are still read.
 */
#include <ctype.h>
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
#define STATE_MAX_BYTES (16u << 20)
#define STATE_HEADER "# xpci-assignable 2: BDF LOCATION ORIGINAL-DRIVER " \
                     "NAME IDENTITY\n"

/* ------------------------------------------------------------ names */

bool xpci_name_valid(const char *name)
{
    size_t n = 0;

    if (!name)
        return false;
    for (; name[n]; n++) {
        unsigned char c = (unsigned char)name[n];

        if (n >= XPCI_NAME_MAX ||
            !(isascii(c) && (isalnum(c) || strchr("._:+-", c))))
            return false;
    }
    return n > 0;
}

/* ------------------------------------------------------------ directory */

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

/*
 * Open a directory that xpci keeps files in, without following a symlink
 * in its place, and refuse it unless the running user owns it and nobody
 * else may write to it: whoever can write there could plant the files
 * xpci trusts at the next boot.
 */
static int open_private_dir(const char *path, mode_t mode, bool create)
{
    struct stat st;
    int fd, r;

    if (create && (r = mkdir_p(path, mode)) < 0)
        return r;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOTDIR ? -ELOOP : -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        close(fd);
        return -EPERM;
    }
    return fd;
}

int xpci__state_dirfd(xpci_ctx *ctx, bool create)
{
    struct stat st;
    int fd;

    /* Still the directory opened before?  A caller may have closed every
     * fd an interrupted operation left (as the kernel does for a killed
     * process), and the number may now be another file's: then it is not
     * ours to use or close. */
    if (ctx->state_fd >= 0) {
        if (fstat(ctx->state_fd, &st) == 0 &&
            st.st_dev == ctx->state_dev && st.st_ino == ctx->state_ino)
            return ctx->state_fd;
        ctx->state_fd = -1;
    }
    fd = open_private_dir(ctx->state_dir, 0700, create);
    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0) {
        int r = -errno;

        close(fd);
        return r;
    }
    ctx->state_fd = fd;
    ctx->state_dev = st.st_dev;
    ctx->state_ino = st.st_ino;
    return fd;
}

const char *xpci__state_dir_why(int r)
{
    switch (r) {
    case -EPERM:
        return "not owned by this user, or writable by others: refused";
    case -ELOOP:
        return "a symbolic link: refused";
    default:
        return strerror(-r);
    }
}

int xpci__state_open(xpci_ctx *ctx, const char *name, int flags, mode_t mode)
{
    struct stat st;
    int dfd = xpci__state_dirfd(ctx, (flags & O_CREAT) != 0);
    int fd, r;

    if (dfd < 0)
        return dfd;
    fd = openat(dfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    /* Reads and writes of a regular file block as usual. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

int xpci__state_read(xpci_ctx *ctx, const char *name, char **buf_r)
{
    _cleanup_close_ int fd = xpci__state_open(ctx, name, O_RDONLY, 0);
    ssize_t r;

    if (fd < 0)
        return fd;
    r = xpci__read_fd(fd, STATE_MAX_BYTES, buf_r);
    return r < 0 ? (int)r : 0;
}

int xpci__state_unlink(xpci_ctx *ctx, const char *name)
{
    int dfd = xpci__state_dirfd(ctx, false);

    if (dfd < 0)
        return dfd;
    return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
}

/* ------------------------------------------------------------ the set */

void xpci__state_free(struct xpci__entry *ents, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xpci__entry_dispose(&ents[i]);
    free(ents);
}

void xpci__entry_dispose(struct xpci__entry *e)
{
    free(e->location);
    free(e->driver);
    free(e->name);
    free(e->ident);
    memset(e, 0, sizeof(*e));
}

bool xpci__entry_is(const struct xpci__entry *e, const char *bdf,
                    const char *location)
{
    /* The location names the slot whatever the bus numbers are. */
    if (e->location && location)
        return !strcmp(e->location, location);
    return !strcmp(e->bdf, bdf);
}

static int old_field(const char *s, char **out_r)
{
    *out_r = NULL;
    if (!strcmp(s, "-"))
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return -EBADMSG;
    *out_r = strdup(s);
    return *out_r ? 0 : -ENOMEM;
}

int xpci__entry_parse(const char *line, struct xpci__entry *e)
{
    _cleanup_free_ char *copy = strdup(line);
    char *f[6], *save = NULL, *bdf = NULL;
    unsigned nf = 0;
    struct xpci_bdf b;
    int r = 0;

    memset(e, 0, sizeof(*e));
    if (!copy)
        return -ENOMEM;
    for (char *tok = strtok_r(copy, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        if (nf == ARRAY_SIZE(f))
            return -EBADMSG;
        f[nf++] = tok;
    }
    if (nf == 5) {
        if ((r = xpci__unescape(f[0], &bdf)) < 0 ||
            (r = xpci__unescape(f[1], &e->location)) < 0 ||
            (r = xpci__unescape(f[2], &e->driver)) < 0 ||
            (r = xpci__unescape(f[3], &e->name)) < 0 ||
            (r = xpci__unescape(f[4], &e->ident)) < 0)
            goto fail;
    } else if (nf == 4) {
        /* the first format: "-" for an absent field, no identity; a name
         * it allowed that is no longer valid is dropped */
        if ((r = old_field(f[0], &bdf)) < 0 ||
            (r = old_field(f[1], &e->location)) < 0 ||
            (r = old_field(f[2], &e->driver)) < 0 ||
            (r = old_field(f[3], &e->name)) < 0)
            goto fail;
        if (e->name && !xpci_name_valid(e->name)) {
            free(e->name);
            e->name = NULL;
        }
    } else {
        return -EBADMSG;
    }
    r = -EBADMSG;
    if (!bdf || xpci_bdf_parse(bdf, &b) < 0 ||
        (e->name && !xpci_name_valid(e->name)) ||
        (e->location && xpci__path_escapes(e->location)) ||
        (e->driver && (strchr(e->driver, '/') || !strcmp(e->driver, ".."))))
        goto fail;
    xpci_bdf_format(&b, e->bdf);
    free(bdf);
    return 0;
fail:
    free(bdf);
    xpci__entry_dispose(e);
    return r;
}

int xpci__state_load(xpci_ctx *ctx, struct xpci__entry **ents_r, size_t *n_r)
{
    _cleanup_free_ char *buf = NULL;
    struct xpci__entry *ents = NULL;
    char *line, *save = NULL;
    size_t n = 0;
    int r;

    r = xpci__state_read(ctx, XPCI_STATE_FILE, &buf);
    if (r == -ENOENT) {
        *ents_r = NULL;
        *n_r = 0;
        return 0;
    }
    if (r < 0)
        return r;
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        struct xpci__entry *ne;

        if (line[0] == '#')
            continue;
        ne = realloc(ents, (n + 1) * sizeof(*ne));
        if (!ne) {
            xpci__state_free(ents, n);
            return -ENOMEM;
        }
        ents = ne;
        /* A line that isn't a record is an error, not something to skip:
         * rewriting the set would lose it silently. */
        if ((r = xpci__entry_parse(line, &ents[n])) < 0) {
            xpci__state_free(ents, n);
            return r;
        }
        n++;
    }
    *ents_r = ents;
    *n_r = n;
    return 0;
}

char *xpci__state_line(const struct xpci__entry *e)
{
    _cleanup_free_ char *b = xpci__escape(e->bdf);
    _cleanup_free_ char *l = xpci__escape(e->location);
    _cleanup_free_ char *d = xpci__escape(e->driver);
    _cleanup_free_ char *n = xpci__escape(e->name);
    _cleanup_free_ char *i = xpci__escape(e->ident);

    if (!b || !l || !d || !n || !i)
        return NULL;
    return xpci__sprintf("%s %s %s %s %s", b, l, d, n, i);
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int write_all(int fd, const char *s)
{
    size_t len = strlen(s);

    while (len) {
        ssize_t r = write(fd, s, len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        s += r;
        len -= (size_t)r;
    }
    return 0;
}

/* Write lines to a fresh temporary file, then rename it over the set and
 * make the rename itself durable. */
static int state_write(xpci_ctx *ctx, char **lines, unsigned n)
{
    static const char tmp[] = "." XPCI_STATE_FILE ".tmp";
    int dfd = xpci__state_dirfd(ctx, true);
    int fd, r = 0;

    if (dfd < 0)
        return dfd;
    /* A leftover of a crash, or something planted: remove the name (not
     * what a symlink points to) and create afresh. */
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0600);
    if (fd < 0 && errno == EEXIST && unlinkat(dfd, tmp, 0) == 0)
        fd = openat(dfd, tmp,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
    if (fd < 0)
        return -errno;
    r = write_all(fd, STATE_HEADER);
    for (unsigned i = 0; i < n && r == 0; i++)
        if ((r = write_all(fd, lines[i])) == 0)
            r = write_all(fd, "\n");
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && renameat(dfd, tmp, dfd, XPCI_STATE_FILE) < 0)
        r = -errno;
    if (r < 0) {
        unlinkat(dfd, tmp, 0);
        return r;
    }
    return fsync(dfd) < 0 ? -errno : 0;
}

/* Rewrite the set: every entry except the one of (bdf, location), plus
 * `add` if given, in BDF order. */
static int state_rewrite(xpci_ctx *ctx, const char *bdf, const char *location,
                         const struct xpci__entry *add)
{
    struct xpci__entry *ents = NULL;
    char **lines = NULL;
    unsigned n_lines = 0;
    size_t n = 0;
    int r;

    r = xpci__state_load(ctx, &ents, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n && r == 0; i++) {
        _cleanup_free_ char *l = NULL;

        if (xpci__entry_is(&ents[i], bdf, location) ||
            (add && xpci__entry_is(&ents[i], add->bdf, add->location)))
            continue;
        l = xpci__state_line(&ents[i]);
        r = l ? xpci__strv_push(&lines, &n_lines, l) : -ENOMEM;
    }
    xpci__state_free(ents, n);
    if (r == 0 && add) {
        _cleanup_free_ char *l = xpci__state_line(add);

        r = l ? xpci__strv_push(&lines, &n_lines, l) : -ENOMEM;
    }
    if (r < 0)
        goto out;
    /* BDFs lead each line in canonical form: sorting lines sorts them. */
    if (n_lines)
        qsort(lines, n_lines, sizeof(*lines), cmp_line);
    r = state_write(ctx, lines, n_lines);
out:
    xpci__strv_free(lines, n_lines);
    return r;
}

int xpci__state_put(xpci_ctx *ctx, const char *line)
{
    struct xpci__entry e;
    int r;

    if (!line || (r = xpci__entry_parse(line, &e)) < 0)
        return -EINVAL;
    r = state_rewrite(ctx, e.bdf, e.location, &e);
    xpci__entry_dispose(&e);
    return r;
}

int xpci__state_del(xpci_ctx *ctx, const char *bdf, const char *location)
{
    return state_rewrite(ctx, bdf, location, NULL);
}

/* ------------------------------------------------------------ lock */

int xpci__lock(xpci_ctx *ctx)
{
    struct timespec poll = {0, LOCK_POLL_MS * 1000000L};
    int fd, r;

    fd = xpci__state_open(ctx, XPCI_LOCK_FILE, O_RDWR | O_CREAT, 0600);
    if (fd < 0)
        return fd;
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

/* ------------------------------------------------------------ audit */

static int open_audit(xpci_ctx *ctx)
{
    _cleanup_free_ char *dir = strdup(ctx->audit_log);
    _cleanup_close_ int dfd = -1;
    const char *base;
    char *slash;
    struct stat st;
    int fd;

    if (!dir)
        return -ENOMEM;
    slash = strrchr(dir, '/');
    if (!slash || slash == dir || !slash[1])
        return -EINVAL;
    *slash = '\0';
    base = slash + 1;
    dfd = open_private_dir(dir, 0750, true);
    if (dfd < 0)
        return dfd;
    fd = openat(dfd, base,
                O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
                    O_CLOEXEC,
                0640);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    return fd;
}

void xpci__audit(xpci_ctx *ctx, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL, *rec = NULL;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;
    int fd;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return;
    /* One record a line, whatever a value contained. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p == 0x7f)
            *p = '?';
    if (!ctx->no_syslog) {
        openlog("xpci", LOG_PID, LOG_DAEMON);
        syslog(LOG_NOTICE, "uid=%u %s", (unsigned)getuid(), msg);
        closelog();
    }
    fd = open_audit(ctx);
    if (fd < 0) {
        if (!ctx->no_syslog)
            syslog(LOG_WARNING, "xpci: audit log %s: %s", ctx->audit_log,
                   xpci__state_dir_why(fd));
        return;
    }
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    rec = xpci__sprintf("%s uid=%u pid=%ld %s\n", stamp, (unsigned)getuid(),
                        (long)getpid(), msg);
    if (rec)
        write_all(fd, rec);
    close(fd);
}
