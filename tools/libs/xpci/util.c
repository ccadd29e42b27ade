/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * util.c - small helpers shared by the library: string vectors, the
 * field escaping of the journal and the persistent set, opening a path
 * beneath a root directory, and readers of sysfs/procfs attributes
 * relative to a directory fd.  Helpers never log; they return -errno.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "xpci-internal.h"

char *xpci__sprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&s, fmt, ap);
    va_end(ap);
    return r < 0 ? NULL : s;
}

int xpci__strv_push(char ***strv, unsigned *n, const char *s)
{
    char **v;
    char *copy = strdup(s);

    if (!copy)
        return -ENOMEM;
    v = realloc(*strv, (*n + 2) * sizeof(*v));
    if (!v) {
        free(copy);
        return -ENOMEM;
    }
    v[(*n)++] = copy;
    v[*n] = NULL;
    *strv = v;
    return 0;
}

void xpci__strv_free(char **strv, unsigned n)
{
    if (!strv)
        return;
    for (unsigned i = 0; i < n; i++)
        free(strv[i]);
    free(strv);
}

void xpci__strv_freep(char ***strv)
{
    if (*strv) {
        for (char **p = *strv; *p; p++)
            free(*p);
        free(*strv);
    }
}

bool xpci__strv_contains(char *const *strv, unsigned n, const char *s)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(strv[i], s))
            return true;
    return false;
}

/* ------------------------------------------------------------ escaping */

char *xpci__escape(const char *s)
{
    char *out, *w;

    /* Fields are split on blanks, so neither NULL nor "" may be empty. */
    if (!s)
        return strdup("%-");
    if (!*s)
        return strdup("%.");
    out = w = malloc(3 * strlen(s) + 1);
    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c <= ' ' || c >= 0x7f || c == '%')
            w += sprintf(w, "%%%02x", c);
        else
            *w++ = (char)c;
    }
    *w = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int xpci__unescape(const char *s, char **out_r)
{
    char *out, *w;

    if (!strcmp(s, "%-")) {
        *out_r = NULL;
        return 0;
    }
    if (!strcmp(s, "%.")) {
        *out_r = strdup("");
        return *out_r ? 0 : -ENOMEM;
    }
    out = malloc(strlen(s) + 1);
    if (!out)
        return -ENOMEM;
    for (w = out; *s; s++) {
        int hi, lo;

        if (*s != '%') {
            if ((unsigned char)*s < ' ' || (unsigned char)*s == 0x7f)
                goto bad;
            *w++ = *s;
            continue;
        }
        /* Exactly two hex digits, and never a NUL: a record cut inside
         * an escape ends here, not past the string. */
        if ((hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0 ||
            (hi == 0 && lo == 0))
            goto bad;
        *w++ = (char)(hi << 4 | lo);
        s += 2;
    }
    *w = '\0';
    *out_r = out;
    return 0;
bad:
    free(out);
    return -EBADMSG;
}

/* ------------------------------------------------------------ beneath */

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* The canonical path of an open fd, from /proc/self/fd. */
static int fd_path(int fd, char *buf, size_t len)
{
    char link[64];
    ssize_t r;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    r = readlink(link, buf, len - 1);
    if (r < 0)
        return -errno;
    if ((size_t)r >= len - 1)
        return -ENAMETOOLONG;
    buf[r] = '\0';
    return 0;
}

/*
 * Without openat2 (Linux < 5.6, or a filter that hides it): refuse what
 * names its way out, open, then check that what was opened lies below
 * the root.  A symlink swapped in between can race this; openat2 can't
 * be raced.
 */
static int open_beneath_fallback(int dirfd, const char *path, int flags,
                                 mode_t mode)
{
    char root[PATH_MAX], got[PATH_MAX];
    size_t rl;
    int fd, r;

    if (xpci__path_escapes(path))
        return -EXDEV;
    fd = openat(dirfd, path, flags | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    if ((r = fd_path(dirfd, root, sizeof(root))) < 0 ||
        (r = fd_path(fd, got, sizeof(got))) < 0) {
        close(fd);
        return r;
    }
    rl = strlen(root);
    if (!(rl == 1 && root[0] == '/') &&
        (strncmp(got, root, rl) || (got[rl] != '/' && got[rl] != '\0'))) {
        close(fd);
        return -EXDEV;
    }
    return fd;
}

bool xpci__path_escapes(const char *path)
{
    const char *p = path;

    if (!path || path[0] == '/')
        return true;
    while (*p) {
        size_t n = strcspn(p, "/");

        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += n;
        p += strspn(p, "/");
    }
    return false;
}

int xpci__open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    static bool no_openat2; /* learnt once; a race only costs a retry */
    long fd = -1;

    /* The process's own view (hv_xenctrl's absolute /proc paths). */
    if (dirfd == AT_FDCWD) {
        int r = openat(dirfd, path, flags | O_CLOEXEC, mode);

        return r < 0 ? -errno : r;
    }
    if (!no_openat2 && !getenv("XPCI_TEST_NO_OPENAT2")) {
        /* EAGAIN: a rename raced the lookup of ".." (fs/namei.c) */
        for (int tries = 0; tries < 16; tries++) {
            fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
            if (fd >= 0 || errno != EAGAIN)
                break;
        }
        if (fd >= 0)
            return (int)fd;
        /* ENOSYS: before Linux 5.6; EPERM: a seccomp filter's answer */
        if (errno != ENOSYS && errno != EPERM)
            return -errno;
        if (errno == ENOSYS)
            no_openat2 = true;
    }
    return open_beneath_fallback(dirfd, path, flags, mode);
}

/* Split path at its last '/': the parent opened beneath dirfd (O_PATH),
 * and the last component. */
static int open_parent(int dirfd, const char *path, const char **base_r)
{
    const char *slash = strrchr(path, '/');
    _cleanup_free_ char *dir = NULL;

    if (!slash || dirfd == AT_FDCWD) {
        *base_r = path;
        return -ENOENT; /* no parent to open: use dirfd itself */
    }
    dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return -ENOMEM;
    *base_r = slash + 1;
    return xpci__open_beneath(dirfd, *dir ? dir : "/", O_PATH | O_DIRECTORY,
                              0);
}

static ssize_t readlink_beneath(int dirfd, const char *path, char *buf,
                                size_t len)
{
    const char *base;
    int pfd = open_parent(dirfd, path, &base);
    ssize_t r;

    if (pfd < 0 && pfd != -ENOENT)
        return pfd;
    r = readlinkat(pfd >= 0 ? pfd : dirfd, base, buf, len);
    if (r < 0)
        r = -errno;
    if (pfd >= 0)
        close(pfd);
    return r;
}

/* A whole attribute as a number (strtol base 0); -EINVAL otherwise. */
static int parse_long(const char *s, long *val_r)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 0);
    if (errno || end == s || *end != '\0')
        return -EINVAL;
    *val_r = v;
    return 0;
}

/*
 * Readers refuse what is not a regular file and never block: a FIFO
 * planted in a tree would wait for a writer, a device node (an attribute
 * linked to /dev/zero) would read forever.  Every open is O_NONBLOCK, so
 * opening a FIFO returns at once, and every read is a pread(2) of a
 * bounded size: a FIFO, a socket or a terminal is a stream, and pread
 * answers ESPIPE for it without waiting, which refuses it at no cost of
 * its own (an fstat(2) per attribute was a fifth of a scan's system
 * calls).  Links are never followed out of the root (openat2 beneath it,
 * or O_NOFOLLOW where the name is one component), so a device node could
 * only be one made inside the tree with CAP_MKNOD; xpci's own extraction
 * of a capture makes none.  Such a node is read once, bounded, without
 * blocking, like any regular file.
 */
#define READ_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY)

/* pread(2) at off, EINTR retried; a stream is -EINVAL (see above). */
static ssize_t pread_regular(int fd, void *buf, size_t size, off_t off)
{
    ssize_t r;

    do
        r = pread(fd, buf, size, off);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return errno == ESPIPE ? -EINVAL : -errno;
    return r;
}

/* Read fd into q as xpci__read_attrs describes; the length or -errno. */
static ssize_t read_req(int fd, const struct xpci__attr_req *q)
{
    size_t want = q->size, got = 0;
    char *buf = q->buf;

    while (got < want) {
        ssize_t r = pread_regular(fd, buf + got, want - got, (off_t)got);

        if (r < 0)
            return r;
        got += (size_t)r;
        /* sysfs hands out a text attribute whole, and config space
         * in one piece of 64, 256 or 4096 bytes: no read for EOF */
        if (r == 0 || !q->binary || got == 64 || got == 256)
            break;
    }
    if (q->binary)
        return (ssize_t)got;
    if (got == want) /* no room for the NUL: more than fits */
        return -EFBIG;
    buf[got] = '\0';
    if (got > 0 && buf[got - 1] == '\n')
        buf[--got] = '\0';
    return (ssize_t)got;
}

ssize_t xpci__read_bin(int dirfd, const char *path, void *buf, size_t size)
{
    _cleanup_close_ int fd = xpci__open_beneath(dirfd, path, READ_FLAGS, 0);
    size_t got = 0;

    if (fd < 0)
        return fd;
    /* sysfs hands out a whole attribute per read; binary files such as
     * "config" may come in pieces, so loop until EOF. */
    while (got < size) {
        ssize_t r = pread_regular(fd, (char *)buf + got, size - got,
                                  (off_t)got);

        if (r < 0)
            return r;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Close fds[0..n) (-1 entries skipped): each run of consecutive numbers
 * with one close_range(2), as every fd in such a run is one of ours. */
void xpci__close_fds(const int *fds, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t j;

        if (fds[i] < 0) {
            i++;
            continue;
        }
        for (j = i + 1; j < n && fds[j] == fds[j - 1] + 1; j++)
            ;
        if (j - i == 1 ||
            close_range((unsigned)fds[i], (unsigned)fds[j - 1], 0) < 0)
            for (size_t k = i; k < j; k++)
                close(fds[k]);
        i = j;
    }
}

void xpci__read_attrs(int dirfd, struct xpci__attr_req *reqs, size_t n,
                      int *fds_r)
{
    int own[XPCI__MAX_ATTR_REQS], *fds = fds_r ? fds_r : own;

    if (n > XPCI__MAX_ATTR_REQS)
        n = XPCI__MAX_ATTR_REQS;
    /* An attribute is never a link: O_NOFOLLOW refuses one (ELOOP). */
    for (size_t i = 0; i < n; i++) {
        int fd = openat(dirfd, reqs[i].name,
                        READ_FLAGS | O_NOFOLLOW | O_CLOEXEC);

        reqs[i].len = fd < 0 ? -errno : 0;
        fds[i] = fd;
    }
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            reqs[i].len = read_req(fds[i], &reqs[i]);
    if (!fds_r)
        xpci__close_fds(fds, n);
}

ssize_t xpci__read_attr_at(int dirfd, const char *name, char *buf,
                           size_t size)
{
    struct xpci__attr_req q = {name, buf, size, false, 0};

    if (!size || strchr(name, '/') || !strcmp(name, "..") ||
        !strcmp(name, "."))
        return -EINVAL;
    xpci__read_attrs(dirfd, &q, 1, NULL);
    return q.len;
}

int xpci__read_long_at(int dirfd, const char *name, long *val_r)
{
    char buf[64];
    ssize_t r = xpci__read_attr_at(dirfd, name, buf, sizeof(buf));

    if (r < 0)
        return (int)r;
    return parse_long(buf, val_r);
}

ssize_t xpci__read_attr(int dirfd, const char *path, char *buf, size_t size)
{
    struct xpci__attr_req q = {path, buf, size, false, 0};
    _cleanup_close_ int fd = -1;

    if (!size)
        return -EINVAL;
    fd = xpci__open_beneath(dirfd, path, READ_FLAGS, 0);
    if (fd < 0)
        return fd;
    return read_req(fd, &q);
}

/*
 * The mount table, the routes, the command line: read whole, a few a
 * run, so the fstat(2) that refuses a device node outright stays.
 */
static int regular_only(int fd)
{
    struct stat st;

    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    return fd;
}

ssize_t xpci__read_file(int dirfd, const char *path, char **buf_r)
{
    _cleanup_close_ int fd =
        regular_only(xpci__open_beneath(dirfd, path, READ_FLAGS, 0));

    if (fd < 0)
        return fd;
    return xpci__read_fd(fd, XPCI__READ_FILE_MAX, buf_r);
}

ssize_t xpci__read_fd(int fd, size_t max, char **buf_r)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0, alloc = 0;

    for (;;) {
        ssize_t r;

        if (alloc - len < 4096) {
            char *nbuf;

            alloc = alloc ? alloc * 2 : 8192;
            nbuf = realloc(buf, alloc);
            if (!nbuf)
                return -ENOMEM;
            buf = nbuf;
        }
        r = read(fd, buf + len, alloc - len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > max)
            return -EFBIG;
    }
    if (!buf) {
        buf = strdup("");
        if (!buf)
            return -ENOMEM;
    }
    buf[len] = '\0';
    *buf_r = TAKE_PTR(buf);
    return (ssize_t)len;
}

int xpci__read_long(int dirfd, const char *path, long *val_r)
{
    char buf[64];
    ssize_t r = xpci__read_attr(dirfd, path, buf, sizeof(buf));

    if (r < 0)
        return (int)r;
    return parse_long(buf, val_r);
}

int xpci__readlink(int dirfd, const char *path, char **target_r)
{
    char buf[4096];
    ssize_t r = readlink_beneath(dirfd, path, buf, sizeof(buf) - 1);
    char *s;

    if (r < 0)
        return (int)r;
    buf[r] = '\0';
    s = strdup(buf);
    if (!s)
        return -ENOMEM;
    *target_r = s;
    return 0;
}

int xpci__readlink_base(int dirfd, const char *path, char **name_r)
{
    char buf[4096];
    ssize_t r = readlink_beneath(dirfd, path, buf, sizeof(buf) - 1);
    const char *base;
    char *s;

    if (r < 0)
        return (int)r;
    buf[r] = '\0';
    base = strrchr(buf, '/');
    base = base ? base + 1 : buf;
    if (!*base)
        return -EINVAL;
    s = strdup(base);
    if (!s)
        return -ENOMEM;
    *name_r = s;
    return 0;
}

int xpci__sysfs_plain_write(void *priv, int rootfd, const char *path,
                            const char *val, size_t len)
{
    _cleanup_close_ int fd = -1;
    ssize_t r;

    (void)priv;
    /* Never outside the root, whatever a journal or a tree says. */
    if (xpci__path_escapes(path))
        return -EXDEV;
    fd = xpci__open_beneath(rootfd, path, O_WRONLY, 0);
    if (fd < 0)
        return fd;
    /* One write(2): the kernel acts on the whole buffer at once. */
    r = write(fd, val, len);
    if (r < 0)
        return -errno;
    if ((size_t)r != len)
        return -EIO;
    return 0;
}

int xpci__sysfs_write(xpci_ctx *ctx, const char *path, const char *val)
{
    return ctx->sysfs->write(ctx->sysfs_priv, ctx->sysfs_fd, path, val,
                             strlen(val));
}
