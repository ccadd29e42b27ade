/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * util.c - small helpers shared by the library: string vectors and readers
 * of sysfs/procfs attributes relative to a directory fd.  Helpers never
 * log; they return -errno.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

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

ssize_t xpci__read_bin(int dirfd, const char *path, void *buf, size_t size)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    size_t got = 0;

    if (fd < 0)
        return -errno;
    /* sysfs hands out a whole attribute per read; binary files such as
     * "config" may come in pieces, so loop until EOF. */
    while (got < size) {
        ssize_t r = read(fd, (char *)buf + got, size - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
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
    for (size_t i = 0; i < n; i++) {
        fds[i] = openat(dirfd, reqs[i].name, O_RDONLY | O_CLOEXEC);
        reqs[i].len = fds[i] < 0 ? -errno : 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct xpci__attr_req *q = &reqs[i];
        size_t want = q->binary ? q->size : q->size - 1;
        size_t got = 0;
        ssize_t r;

        if (fds[i] < 0)
            continue;
        while (got < want) {
            r = read(fds[i], (char *)q->buf + got, want - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                q->len = -errno;
                break;
            }
            got += (size_t)r;
            /* sysfs hands out a text attribute whole, and config space
             * in one piece of 64, 256 or 4096 bytes: no read for EOF */
            if (r == 0 || !q->binary || got == 64 || got == 256)
                break;
        }
        if (q->len < 0)
            continue;
        q->len = (ssize_t)got;
        if (q->binary)
            continue;
        if (got == want && want) {
            q->len = -EFBIG;
            continue;
        }
        ((char *)q->buf)[got] = '\0';
        if (got > 0 && ((char *)q->buf)[got - 1] == '\n')
            ((char *)q->buf)[--q->len] = '\0';
    }
    if (!fds_r)
        xpci__close_fds(fds, n);
}

ssize_t xpci__read_attr(int dirfd, const char *path, char *buf, size_t size)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    ssize_t r;

    if (fd < 0)
        return -errno;
    do
        r = read(fd, buf, size);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if ((size_t)r == size)
        return -EFBIG;
    buf[r] = '\0';
    if (r > 0 && buf[r - 1] == '\n')
        buf[--r] = '\0';
    return r;
}

ssize_t xpci__read_file(int dirfd, const char *path, char **buf_r)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    _cleanup_free_ char *buf = NULL;
    size_t len = 0, alloc = 0;

    if (fd < 0)
        return -errno;
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
    char buf[64], *end;
    ssize_t r = xpci__read_attr(dirfd, path, buf, sizeof(buf));
    long v;

    if (r < 0)
        return (int)r;
    errno = 0;
    v = strtol(buf, &end, 0);
    if (errno || end == buf || *end != '\0')
        return -EINVAL;
    *val_r = v;
    return 0;
}

int xpci__readlink(int dirfd, const char *path, char **target_r)
{
    char buf[4096];
    ssize_t r = readlinkat(dirfd, path, buf, sizeof(buf) - 1);
    char *s;

    if (r < 0)
        return -errno;
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
    ssize_t r = readlinkat(dirfd, path, buf, sizeof(buf) - 1);
    const char *base;
    char *s;

    if (r < 0)
        return -errno;
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
    _cleanup_close_ int fd = openat(rootfd, path, O_WRONLY | O_CLOEXEC);
    ssize_t r;

    if (fd < 0)
        return -errno;
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
