/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * tar.c - the archive of a host capture: a POSIX tar (ustar, with pax
 * headers for long names) of directories, regular files and symbolic
 * links, written deterministically (owner 0, time 0), and its extraction
 * into an empty directory, which trusts nothing in the archive: only
 * sys/, proc/ and etc/modprobe.d/ paths, no "..", no absolute or escaping links, nothing
 * written through a link, bounded sizes and counts.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "xpci-internal.h"

#define BLOCK 512
/* Bounds of an archive we extract. */
#define MAX_MEMBER (16U << 20) /* one file */
#define MAX_TOTAL (1ULL << 30) /* all files */
#define MAX_MEMBERS 2000000U
#define MAX_PATH 4096
#define MAX_DEPTH 64

struct ustar {
    char name[100];
    char mode[8];
    char uid[8];
    char gid[8];
    char size[12];
    char mtime[12];
    char chksum[8];
    char typeflag;
    char linkname[100];
    char magic[6];
    char version[2];
    char uname[32];
    char gname[32];
    char devmajor[8];
    char devminor[8];
    char prefix[155];
    char pad[12];
};

_Static_assert(sizeof(struct ustar) == BLOCK, "ustar header is a block");

static int write_all(struct xpci__tar *t, const void *buf, size_t len)
{
    const char *p = buf;

    if (t->err)
        return t->err;
    while (len) {
        ssize_t r = write(t->fd, p, len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            t->err = r < 0 ? -errno : -EIO;
            return t->err;
        }
        p += r;
        len -= (size_t)r;
        t->bytes += (uint64_t)r;
    }
    return 0;
}

static int pad_block(struct xpci__tar *t, size_t len)
{
    static const char zero[BLOCK];
    size_t rest = len % BLOCK;

    return rest ? write_all(t, zero, BLOCK - rest) : 0;
}

static void octal(char *field, size_t size, uint64_t v)
{
    snprintf(field, size, "%0*llo", (int)size - 1, (unsigned long long)v);
}

static int header(struct xpci__tar *t, const char *name, char type,
                  unsigned mode, uint64_t size, const char *link)
{
    struct ustar h;
    unsigned sum = 0;

    memset(&h, 0, sizeof(h));
    /* a longer name went in a pax header before: this one may be cut */
    memcpy(h.name, name, strnlen(name, sizeof(h.name)));
    octal(h.mode, sizeof(h.mode), mode & 07777);
    octal(h.uid, sizeof(h.uid), 0);
    octal(h.gid, sizeof(h.gid), 0);
    octal(h.size, sizeof(h.size), size);
    octal(h.mtime, sizeof(h.mtime), 0);
    h.typeflag = type;
    if (link)
        memcpy(h.linkname, link, strnlen(link, sizeof(h.linkname)));
    memcpy(h.magic, "ustar", 6);
    memcpy(h.version, "00", 2);
    memset(h.chksum, ' ', sizeof(h.chksum));
    for (size_t i = 0; i < sizeof(h); i++)
        sum += ((unsigned char *)&h)[i];
    snprintf(h.chksum, sizeof(h.chksum), "%06o", sum);
    return write_all(t, &h, sizeof(h));
}

/* A pax record "LEN key=value\n", LEN counting itself. */
static int pax_record(char **buf, size_t *len, const char *key, const char *val)
{
    size_t body = strlen(key) + strlen(val) + 3; /* ' ', '=', '\n' */
    size_t n = body + 1, digits;
    char *nb;

    for (;;) {
        digits = (size_t)snprintf(NULL, 0, "%zu", n);
        if (body + digits == n)
            break;
        n = body + digits;
    }
    nb = realloc(*buf, *len + n + 1);
    if (!nb)
        return -ENOMEM;
    *buf = nb;
    snprintf(nb + *len, n + 1, "%zu %s=%s\n", n, key, val);
    *len += n;
    return 0;
}

static int member(struct xpci__tar *t, const char *path, char type,
                  unsigned mode, const void *data, size_t len, const char *link)
{
    if (t->err)
        return t->err;
    if (strlen(path) > 99 || (link && strlen(link) > 99)) {
        _cleanup_free_ char *pax = NULL;
        size_t plen = 0;
        int r = pax_record(&pax, &plen, "path", path);

        if (r == 0 && link)
            r = pax_record(&pax, &plen, "linkpath", link);
        if (r < 0)
            return t->err = r;
        if (header(t, "././@PaxHeader", 'x', 0644, plen, NULL) ||
            write_all(t, pax, plen) || pad_block(t, plen))
            return t->err;
    }
    if (header(t, path, type, mode, len, link))
        return t->err;
    if (len && (write_all(t, data, len) || pad_block(t, len)))
        return t->err;
    t->members++;
    return 0;
}

int xpci__tar_dir(struct xpci__tar *t, const char *path, unsigned mode)
{
    _cleanup_free_ char *slash = xpci__sprintf("%s/", path);

    if (!slash)
        return t->err = -ENOMEM;
    return member(t, slash, '5', mode, NULL, 0, NULL);
}

int xpci__tar_file(struct xpci__tar *t, const char *path, unsigned mode,
                   const void *data, size_t len)
{
    return member(t, path, '0', mode, data, len, NULL);
}

int xpci__tar_symlink(struct xpci__tar *t, const char *path, const char *target)
{
    return member(t, path, '2', 0777, NULL, 0, target);
}

int xpci__tar_finish(struct xpci__tar *t)
{
    static const char zero[2 * BLOCK];

    return write_all(t, zero, sizeof(zero));
}

/* ------------------------------------------------------------ reading */

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len) {
        ssize_t r = read(fd, p, len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EPROTO; /* truncated */
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

static int parse_octal(const char *f, size_t size, uint64_t *v_r)
{
    uint64_t v = 0;
    size_t i = 0;

    while (i < size && f[i] == ' ')
        i++;
    for (; i < size && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return -EPROTO;
        v = v << 3 | (uint64_t)(f[i] - '0');
    }
    if (i < size && f[i] != '\0' && f[i] != ' ')
        return -EPROTO;
    *v_r = v;
    return 0;
}

static bool checksum_ok(const struct ustar *h)
{
    const unsigned char *b = (const unsigned char *)h;
    uint64_t want;
    unsigned sum = 0;

    if (parse_octal(h->chksum, sizeof(h->chksum), &want) < 0)
        return false;
    for (size_t i = 0; i < BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : b[i];
    return sum == want;
}

/* A member's path, made safe: relative, no "." or ".." components, no
 * empty ones, under sys/ or proc/.  Rewrites p in place (drops "./" and
 * trailing '/'); NULL when unacceptable. */
static char *safe_path(char *p)
{
    size_t n;

    while (!strncmp(p, "./", 2))
        p += 2;
    n = strlen(p);
    while (n && p[n - 1] == '/')
        p[--n] = '\0';
    if (!n || n >= MAX_PATH || p[0] == '/')
        return NULL;
    if (strcmp(p, "sys") && strcmp(p, "proc") && strncmp(p, "sys/", 4) &&
        strncmp(p, "proc/", 5) && strcmp(p, "etc") &&
        strcmp(p, "etc/modprobe.d") && strncmp(p, "etc/modprobe.d/", 15))
        return NULL;
    for (const char *c = p; *c;) {
        const char *e = strchrnul(c, '/');
        size_t len = (size_t)(e - c);

        if (!len || (len == 1 && c[0] == '.') ||
            (len == 2 && c[0] == '.' && c[1] == '.'))
            return NULL;
        c = *e ? e + 1 : e;
    }
    return p;
}

/* Whether link target, relative to the directory of path, stays inside
 * the archive's root (lexically: the extraction never follows it). */
static bool link_ok(const char *path, const char *target)
{
    int depth = 0;

    if (!*target || target[0] == '/' || strlen(target) >= MAX_PATH)
        return false;
    for (const char *c = path; (c = strchr(c, '/')); c++)
        depth++;
    for (const char *c = target; *c;) {
        const char *e = strchrnul(c, '/');
        size_t len = (size_t)(e - c);

        if (len == 2 && c[0] == '.' && c[1] == '.') {
            if (--depth < 0)
                return false;
        } else if (len && !(len == 1 && c[0] == '.')) {
            depth++;
        }
        c = *e ? e + 1 : e;
    }
    return true;
}

/* Open the directory that holds the last component of path, below rootfd,
 * creating missing directories and following no link on the way.
 * Returns an fd and sets *base_r, or -errno. */
static int open_parent(int rootfd, char *path, const char **base_r)
{
    char *slash = strrchr(path, '/');
    int fd = dup(rootfd);
    int depth = 0;

    if (fd < 0)
        return -errno;
    *base_r = slash ? slash + 1 : path;
    if (!slash)
        return fd;
    *slash = '\0';
    for (char *c = path; c && *c; depth++) {
        char *e = strchr(c, '/');
        int nfd;

        if (depth > MAX_DEPTH) {
            close(fd);
            *slash = '/';
            return -ELOOP;
        }
        if (e)
            *e = '\0';
        if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST) {
            int r = -errno;

            close(fd);
            if (e)
                *e = '/';
            *slash = '/';
            return r;
        }
        nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (e)
            *e = '/';
        close(fd);
        if (nfd < 0) {
            *slash = '/';
            return -errno;
        }
        fd = nfd;
        c = e ? e + 1 : NULL;
    }
    *slash = '/';
    return fd;
}

/* Take a pax header's path and linkpath, if any. */
static int read_pax(int fd, uint64_t size, char **path_r, char **link_r)
{
    _cleanup_free_ char *buf = NULL;
    size_t padded;
    char *p, *end;
    int r;

    if (size > 65536)
        return -EPROTO;
    padded = (size_t)((size + BLOCK - 1) / BLOCK * BLOCK);
    buf = malloc(padded + 1);
    if (!buf)
        return -ENOMEM;
    if ((r = read_full(fd, buf, padded)) < 0)
        return r;
    buf[size] = '\0';
    for (p = buf, end = buf + size; p < end;) {
        char *sp, *eq, *nl;
        unsigned long n = strtoul(p, &sp, 10);

        if (sp == p || *sp != ' ' || n == 0 || n > (size_t)(end - p))
            return -EPROTO;
        nl = p + n - 1;
        if (*nl != '\n')
            return -EPROTO;
        *nl = '\0';
        eq = strchr(sp + 1, '=');
        if (!eq)
            return -EPROTO;
        *eq = '\0';
        if (!strcmp(sp + 1, "path")) {
            free(*path_r);
            if (!(*path_r = strdup(eq + 1)))
                return -ENOMEM;
        } else if (!strcmp(sp + 1, "linkpath")) {
            free(*link_r);
            if (!(*link_r = strdup(eq + 1)))
                return -ENOMEM;
        }
        p = nl + 1;
    }
    return 0;
}

int xpci__tar_extract(int fd, const char *dir, char **why_r)
{
    _cleanup_close_ int rootfd =
        open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_free_ char *pax_path = NULL, *pax_link = NULL;
    _cleanup_free_ char *data = NULL;
    uint64_t total = 0;
    unsigned members = 0;
    int r;

    *why_r = NULL;
    if (rootfd < 0)
        return -errno;
    for (;;) {
        struct ustar h;
        char name[MAX_PATH], link[MAX_PATH];
        const char *base = NULL;
        char *path;
        uint64_t size, mode;
        int pfd;

        if ((r = read_full(fd, &h, sizeof(h))) < 0) {
            *why_r =
                xpci__sprintf("archive truncated after %u members", members);
            return r;
        }
        if (!h.name[0] && !memcmp(&h, (char[BLOCK]){0}, BLOCK))
            return 0; /* end of archive */
        if (!checksum_ok(&h) ||
            parse_octal(h.size, sizeof(h.size), &size) < 0 ||
            parse_octal(h.mode, sizeof(h.mode), &mode) < 0) {
            *why_r = xpci__sprintf("member %u: bad header", members + 1);
            return -EPROTO;
        }
        if (++members > MAX_MEMBERS) {
            *why_r = xpci__sprintf("more than %u members", MAX_MEMBERS);
            return -E2BIG;
        }
        if (h.typeflag == 'x') {
            if ((r = read_pax(fd, size, &pax_path, &pax_link)) < 0) {
                *why_r = xpci__sprintf("member %u: bad pax header", members);
                return r;
            }
            continue;
        }
        if (pax_path)
            snprintf(name, sizeof(name), "%s", pax_path);
        else if (h.prefix[0] && memcmp(h.magic, "ustar", 5) == 0)
            snprintf(name, sizeof(name), "%.155s/%.100s", h.prefix, h.name);
        else
            snprintf(name, sizeof(name), "%.100s", h.name);
        if (pax_link)
            snprintf(link, sizeof(link), "%s", pax_link);
        else
            snprintf(link, sizeof(link), "%.100s", h.linkname);
        free(pax_path);
        free(pax_link);
        pax_path = pax_link = NULL;

        if (!(path = safe_path(name))) {
            *why_r = xpci__sprintf("member %u: path '%.200s' outside sys/, "
                                   "proc/ and etc/modprobe.d/ or not plain",
                                   members, name);
            return -EPERM;
        }
        if (h.typeflag != '0' && h.typeflag != '\0' && h.typeflag != '5' &&
            h.typeflag != '2') {
            *why_r = xpci__sprintf("%.200s: member type '%c' not taken "
                                   "(only files, directories, links)",
                                   path, h.typeflag);
            return -EPERM;
        }
        if (h.typeflag == '2' && !link_ok(path, link)) {
            *why_r = xpci__sprintf("%.200s: link to '%.200s' leaves the "
                                   "tree",
                                   path, link);
            return -EPERM;
        }
        if (h.typeflag != '0' && h.typeflag != '\0' && size) {
            *why_r =
                xpci__sprintf("%.200s: a link or directory with data", path);
            return -EPROTO;
        }
        if (size > MAX_MEMBER || (total += size) > MAX_TOTAL) {
            *why_r = xpci__sprintf("%.200s: too large", path);
            return -EFBIG;
        }
        pfd = open_parent(rootfd, path, &base);
        if (pfd < 0) {
            *why_r = xpci__sprintf("%.200s: %s", path, strerror(-pfd));
            return pfd;
        }
        if (h.typeflag == '5') {
            /* the mode only on a directory made here (a name that is
             * there already may be a link: never chmod through it) */
            if (mkdirat(pfd, base, 0755) == 0)
                r = fchmodat(pfd, base, ((unsigned)mode & 0777) | 0700,
                             AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOTSUP
                        ? -errno
                        : 0;
            else
                r = errno == EEXIST ? 0 : -errno;
        } else if (h.typeflag == '2') {
            r = symlinkat(link, pfd, base) < 0 ? -errno : 0;
        } else {
            int ffd = openat(
                pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                ((unsigned)mode & 0777) | 0200);
            size_t padded = (size_t)((size + BLOCK - 1) / BLOCK * BLOCK);
            char *nd;

            r = ffd < 0 ? -errno : 0;
            if (r == 0 && padded) {
                nd = realloc(data, padded);
                if (!nd)
                    r = -ENOMEM;
                else
                    data = nd;
            }
            if (r == 0 && padded)
                r = read_full(fd, data, padded);
            if (r == 0 && size) {
                size_t off = 0;

                while (off < size) {
                    ssize_t w = write(ffd, data + off, (size_t)size - off);

                    if (w < 0 && errno == EINTR)
                        continue;
                    if (w <= 0) {
                        r = w < 0 ? -errno : -EIO;
                        break;
                    }
                    off += (size_t)w;
                }
            }
            if (r == 0)
                (void)fchmod(ffd, (unsigned)mode & 0777);
            if (ffd >= 0)
                close(ffd);
        }
        close(pfd);
        if (r < 0) {
            *why_r = xpci__sprintf("%.200s: %s", path, strerror(-r));
            return r;
        }
    }
}
