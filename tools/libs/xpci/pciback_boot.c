/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * pciback_boot.c - which functions xen-pciback takes at the next boot:
 * xen-pciback.hide= on the kernel command line, "options xen-pciback
 * hide=" in modprobe's configuration (read below the configured etc
 * root, so a captured tree answers for its own host), and xpci's own
 * persistent set, which xpci-pciback reconcile re-hides at boot.  The
 * checks compare this with what pciback holds now.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "xpci-internal.h"

#define MODPROBE_DIR "modprobe.d"
#define MODPROBE_MAX (64 * 1024) /* one configuration file */
#define MAX_CONF_FILES 256
#define MAX_HIDE 1024

/* One (DDDD:BB:SS.F) of a hide list; -1 is pciback's '*'. */
struct hide {
    int domain, bus, slot, func;
};

struct hides {
    struct hide v[MAX_HIDE];
    unsigned n;
};

/*
 * The hide parameter's grammar, as xen-pciback's pcistub_init parses it
 * (drivers/xen/xen-pciback/pci_stub.c): a sequence of
 * "(DDDD:BB:SS.F)", "(BB:SS.F)", where SS.F may be "SS.*" or "*.*".
 * Parsing stops at the first malformed entry, as the driver does.
 */
static void parse_hide(const char *s, struct hides *h)
{
    while (*s && h->n < MAX_HIDE) {
        unsigned a, b, c, d;
        struct hide e = {0, 0, -1, -1};
        int n = 0;

        while (*s == ' ')
            s++;
        if (!*s)
            break;
        if (sscanf(s, "(%x:%x:%x.%x)%n", &a, &b, &c, &d, &n) == 4 && n)
            e = (struct hide){(int)a, (int)b, (int)c, (int)d};
        else if ((n = 0, sscanf(s, "(%x:%x:%x.*)%n", &a, &b, &c, &n)) == 3 &&
                 n)
            e = (struct hide){(int)a, (int)b, (int)c, -1};
        else if ((n = 0, sscanf(s, "(%x:%x:*.*)%n", &a, &b, &n)) == 2 && n)
            e = (struct hide){(int)a, (int)b, -1, -1};
        else if ((n = 0, sscanf(s, "(%x:%x.%x)%n", &b, &c, &d, &n)) == 3 &&
                 n)
            e = (struct hide){0, (int)b, (int)c, (int)d};
        else if ((n = 0, sscanf(s, "(%x:%x.*)%n", &b, &c, &n)) == 2 && n)
            e = (struct hide){0, (int)b, (int)c, -1};
        else if ((n = 0, sscanf(s, "(%x:*.*)%n", &b, &n)) == 1 && n)
            e = (struct hide){0, (int)b, -1, -1};
        else
            break;
        h->v[h->n++] = e;
        s += n;
    }
}

static bool hides(const struct hides *h, const struct xpci_bdf *b)
{
    for (unsigned i = 0; i < h->n; i++) {
        const struct hide *e = &h->v[i];

        if (e->domain == b->domain && e->bus == b->bus &&
            (e->slot < 0 || e->slot == b->dev) &&
            (e->func < 0 || e->func == b->func))
            return true;
    }
    return false;
}

/* "options xen-pciback hide=(...)" lines of one configuration file
 * (modprobe.d(5); '-' and '_' are the same in module names). */
static void parse_conf(char *buf, struct hides *h)
{
    char *line, *save = NULL;

    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *tok, *tsave = NULL;

        tok = strtok_r(line, " \t", &tsave);
        if (!tok || strcmp(tok, "options"))
            continue;
        tok = strtok_r(NULL, " \t", &tsave);
        if (!tok || (strcmp(tok, "xen-pciback") && strcmp(tok, "xen_pciback")))
            continue;
        while ((tok = strtok_r(NULL, " \t", &tsave))) {
            if (tok[0] == '#')
                break;
            if (!strncmp(tok, "hide=", 5))
                parse_hide(tok[5] == '"' ? tok + 6 : tok + 5, h);
        }
    }
}

/* One regular file, never through a link; NUL-terminated. */
static ssize_t read_conf(int dirfd, const char *name, char *buf, size_t size)
{
    _cleanup_close_ int fd =
        openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    size_t len = 0;

    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return -EINVAL;
    while (len < size - 1) {
        ssize_t r = read(fd, buf + len, size - 1 - len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    return (ssize_t)len;
}

static void read_modprobe(xpci_ctx *ctx, struct hides *h)
{
    _cleanup_close_ int etc = -1;
    _cleanup_free_ char *buf = NULL;
    DIR *dir;
    struct dirent *de;
    unsigned files = 0;
    int fd;

    if (!ctx->etc_root ||
        (etc = open(ctx->etc_root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return;
    fd = openat(etc, MODPROBE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(dir = fdopendir(fd))) {
        if (fd >= 0)
            close(fd);
        return;
    }
    if (!(buf = malloc(MODPROBE_MAX))) {
        closedir(dir);
        return;
    }
    while ((de = readdir(dir)) && files++ < MAX_CONF_FILES) {
        size_t len = strlen(de->d_name);

        /* only *.conf counts; no following links out of the tree */
        if (de->d_name[0] == '.' || len < 6 ||
            strcmp(de->d_name + len - 5, ".conf"))
            continue;
        if (read_conf(dirfd(dir), de->d_name, buf, MODPROBE_MAX) > 0)
            parse_conf(buf, h);
    }
    closedir(dir);
}

int xpci__pciback_boot_scan(struct xpci_host *host)
{
    _cleanup_free_ char *cmdline = xpci__cmdline(host->ctx);
    _cleanup_free_ char *hide = NULL;
    _cleanup_free_ struct hides *cmd = calloc(1, sizeof(*cmd));
    _cleanup_free_ struct hides *conf = calloc(1, sizeof(*conf));
    struct xpci__entry *ents = NULL;
    size_t n_ents = 0;

    if (!cmd || !conf)
        return -ENOMEM;
    if (cmdline && (hide = xpci__cmdline_param(cmdline, "xen-pciback.hide")))
        parse_hide(hide, cmd);
    read_modprobe(host->ctx, conf);
    if (xpci__state_load(host->ctx, &ents, &n_ents) == -ENOMEM)
        return -ENOMEM;
    for (size_t i = 0; i < host->n; i++) {
        struct xpci_device *d = &host->devs[i];

        if (hides(cmd, &d->bdf))
            d->hidden_at_boot |= XPCI_BOOT_HIDE_CMDLINE;
        if (hides(conf, &d->bdf))
            d->hidden_at_boot |= XPCI_BOOT_HIDE_MODPROBE;
        /* the persistent set matches by location, as reconcile does */
        for (size_t k = 0; k < n_ents; k++)
            if (ents[k].location && d->location &&
                !strcmp(ents[k].location, d->location))
                d->hidden_at_boot |= XPCI_BOOT_HIDE_XPCI;
    }
    xpci__state_free(ents, n_ents);
    return 0;
}
