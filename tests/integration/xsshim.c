/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xsshim.c - an LD_PRELOAD object that lets Xen's C xenstored (4.17 or
 * 4.20) run without a hypervisor, and lets libxl open a context in a test
 * process.  It answers only the calls the daemon makes to Xen; the store,
 * permissions, transactions, watches and quotas stay the daemon's own.
 *
 * What xenstored asks of Xen (tools/xenstore/xenstored_domain.c,
 * xenstored_posix.c at RELEASE-4.17.x; tools/xenstored/domain.c at
 * RELEASE-4.20.x), and what it gets here:
 *   - xc_interface_open/close: a dummy handle.  The daemon asks whether a
 *     domain exists with xc_domain_getinfo (4.17) or
 *     xc_domain_getinfo_single (4.18 on; see xen-compat.h), other tools
 *     with xc_domain_getinfolist: the domain ids listed in
 *     XPCI_SHIM_DOMAINS exist, no other.  The daemon asks whenever a
 *     permission names a domain: a node cannot be given to a domain that
 *     does not exist, and entries for such domains are ignored.
 *   - xenevtchn_*: the daemon polls xenevtchn_fd() in its main loop.
 *     With XPCI_SHIM_DIR set that fd is a FIFO in that directory, so a
 *     client can wake the daemon by writing a port number; the port bound
 *     to domain N is XSD_PORT(N), and a notify on it writes a byte to
 *     that domain's kick FIFO, if someone listens there.  Without the
 *     directory it is an event fd that never fires.
 *   - xengnttab_*: the page the daemon maps as domain N's ring is a file
 *     in XPCI_SHIM_DIR (so a test can map the same page and speak the
 *     ring protocol as that guest), else an anonymous page.
 *   - open("/proc/xen/xsd_port") and open("/proc/xen/xsd_kva"): dom0's
 *     event channel port as text, and a page for dom0's ring.  Without
 *     them dom0 is never introduced, and with -D (no domain init) 4.17
 *     dies on the first request: every request is accounted to the
 *     domain of the connection, dom0 for sockets.  The daemon uses plain
 *     open(2) for both (checked with strace); fopen(3) is not involved.
 *
 * In a test process only xc_interface_open matters (libxl_ctx_alloc needs
 * a handle); the harness re-executes the test binary with this object
 * preloaded rather than linking it in, so the daemon and the tests run
 * exactly the same interposer.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "xsd.h"

#define PROC_XSD_PORT "/proc/xen/xsd_port"
#define PROC_XSD_KVA "/proc/xen/xsd_kva"
#define MAX_DOMAINS 64

/* The opaque handle types of the Xen libraries, ours to define here. */
struct xc_interface_core {
    int unused;
};
struct xenevtchn_handle {
    int fd;
    bool fifo; /* else an event fd */
};
struct xengntdev_handle {
    int unused;
};

/* Marker the harness looks up to know the shim is in this process. */
int xpci_xsshim_loaded(void);
int xpci_xsshim_loaded(void)
{
    return 1;
}

/* ------------------------------------------------------------ domains */

static uint32_t domains[MAX_DOMAINS];
static unsigned n_domains;
static bool domains_read;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* XPCI_SHIM_DOMAINS, sorted, read once. */
static void read_domains(void)
{
    const char *s = getenv(XSD_ENV_DOMAINS);

    if (domains_read)
        return;
    domains_read = true;
    if (!s || !*s)
        s = "0";
    while (*s && n_domains < MAX_DOMAINS) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);

        if (end == s)
            break;
        domains[n_domains++] = (uint32_t)v;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    qsort(domains, n_domains, sizeof(domains[0]), cmp_u32);
}

xc_interface *xc_interface_open(xentoollog_logger *logger,
                                xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    (void)logger;
    (void)dombuild_logger;
    (void)open_flags;
    read_domains();
    return calloc(1, sizeof(struct xc_interface_core));
}

int xc_interface_close(xc_interface *xch)
{
    free(xch);
    return 0;
}

/* The domctl's record of a running domain. */
static void fill_domaininfo(xc_domaininfo_t *info, uint32_t domid)
{
    memset(info, 0, sizeof(*info));
    info->domain = (domid_t)domid;
    info->flags = XEN_DOMINF_running;
}

#if XPCI_XEN_HAS_GETINFO_SINGLE
/* One domain, as Xen 4.18 and later ask: -1/ESRCH when it does not exist. */
int xc_domain_getinfo_single(xc_interface *xch, uint32_t domid,
                             xc_domaininfo_t *info)
{
    (void)xch;
    read_domains();
    for (unsigned i = 0; i < n_domains; i++) {
        if (domains[i] == domid) {
            fill_domaininfo(info, domid);
            return 0;
        }
    }
    errno = ESRCH;
    return -1;
}
#endif

#if XPCI_XEN_HAS_DOMINFO_T
/* Domains from first_domid upwards, like the hypercall (Xen 4.17). */
int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
                      unsigned int max_doms, xc_dominfo_t *info)
{
    unsigned n = 0;

    (void)xch;
    read_domains();
    for (unsigned i = 0; i < n_domains && n < max_doms; i++) {
        if (domains[i] < first_domid)
            continue;
        memset(&info[n], 0, sizeof(info[n]));
        info[n].domid = domains[i];
        info[n].running = 1;
        info[n].nr_online_vcpus = 1;
        n++;
    }
    return (int)n;
}
#endif

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
                          unsigned int max_domains, xc_domaininfo_t *info)
{
    unsigned n = 0;

    (void)xch;
    read_domains();
    for (unsigned i = 0; i < n_domains && n < max_domains; i++) {
        if (domains[i] < first_domain)
            continue;
        fill_domaininfo(&info[n], domains[i]);
        n++;
    }
    return (int)n;
}

/* ---------------------------------------------------------- libc opens */

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

static void *next_sym(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* A memory file with contents and a size; the fd or -1. */
static int mem_file(const char *name, const char *text, size_t size)
{
    int fd = memfd_create(name, MFD_CLOEXEC);

    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)size) < 0 ||
        (text && pwrite(fd, text, strlen(text), 0) < 0)) {
        int saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* The fd standing in for a /proc/xen file, or -2 when path is another. */
static int proc_xen_open(const char *path)
{
    char port[16];

    if (!path)
        return -2;
    if (!strcmp(path, PROC_XSD_PORT)) {
        snprintf(port, sizeof(port), "%d\n", XSD_PORT_XENBUS);
        return mem_file("xsd_port", port, strlen(port));
    }
    if (!strcmp(path, PROC_XSD_KVA))
        return mem_file("xsd_kva", NULL, (size_t)getpagesize());
    return -2;
}

static mode_t open_mode(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
               ? (mode_t)va_arg(ap, int)
               : 0;
}

int open(const char *path, int flags, ...)
{
    static open_fn next;
    va_list ap;
    mode_t mode;
    int fd = proc_xen_open(path);

    if (fd != -2)
        return fd;
    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    if (!next)
        next = (open_fn)next_sym("open");
    return next(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    static open_fn next;
    va_list ap;
    mode_t mode;
    int fd = proc_xen_open(path);

    if (fd != -2)
        return fd;
    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    if (!next)
        next = (open_fn)next_sym("open64");
    return next(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    static openat_fn next;
    va_list ap;
    mode_t mode;
    int fd = path[0] == '/' ? proc_xen_open(path) : -2;

    if (fd != -2)
        return fd;
    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    if (!next)
        next = (openat_fn)next_sym("openat");
    return next(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    static openat_fn next;
    va_list ap;
    mode_t mode;
    int fd = path[0] == '/' ? proc_xen_open(path) : -2;

    if (fd != -2)
        return fd;
    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    if (!next)
        next = (openat_fn)next_sym("openat64");
    return next(dirfd, path, flags, mode);
}

/* ------------------------------------------------------ event channels */

/* The real open(2), bypassing our interposer (paths here are ours). */
static int sys_open(const char *path, int flags, mode_t mode)
{
    static openat_fn next;

    if (!next)
        next = (openat_fn)next_sym("openat");
    return next(AT_FDCWD, path, flags, mode);
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
                                 unsigned int open_flags)
{
    const char *dir = getenv(XSD_ENV_DIR);
    int cloexec = open_flags & XENEVTCHN_NO_CLOEXEC ? 0 : O_CLOEXEC;
    xenevtchn_handle *h;

    (void)logger;
    h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    if (dir) {
        char path[256];

        snprintf(path, sizeof(path), "%s/" XSD_EVTCHN_NAME, dir);
        if (mkfifo(path, 0600) < 0 && errno != EEXIST)
            goto fail;
        /* O_RDWR: a FIFO that never reports end of file when a writer
         * goes away, and opens without waiting for one. */
        h->fd = sys_open(path, O_RDWR | O_NONBLOCK | cloexec, 0);
        h->fifo = true;
    } else {
        h->fd = eventfd(0, EFD_NONBLOCK | (cloexec ? EFD_CLOEXEC : 0));
    }
    if (h->fd < 0)
        goto fail;
    return h;

fail:
    free(h);
    return NULL;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
    if (!xce)
        return 0;
    close(xce->fd);
    free(xce);
    return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
    return xce->fd;
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce,
                                              unsigned int virq)
{
    (void)xce;
    (void)virq;
    return XSD_PORT_VIRQ;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce,
                                                     uint32_t domid,
                                                     evtchn_port_t remote_port)
{
    (void)xce;
    (void)remote_port;
    return (xenevtchn_port_or_error_t)XSD_PORT(domid);
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
    (void)xce;
    (void)port;
    return 0;
}

/* Tell domain N's client that its ring moved; nobody listening is fine. */
int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
    const char *dir = getenv(XSD_ENV_DIR);
    char path[256];
    int fd;

    (void)xce;
    if (!dir || port < XSD_PORT_BASE)
        return 0;
    snprintf(path, sizeof(path), XSD_KICK_FMT, dir, port - XSD_PORT_BASE);
    fd = sys_open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    if (write(fd, "!", 1) < 0) {
        /* A full FIFO already says there is something to look at. */
    }
    close(fd);
    return 0;
}

/*
 * Called when the fd polled readable.  The daemon treats -1 as fatal, so
 * anything short of a whole port number reads as the VIRQ, which only
 * makes it look at its domains again.
 */
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
    uint32_t port;
    uint64_t count;

    if (!xce->fifo) {
        if (read(xce->fd, &count, sizeof(count)) < 0) {
            /* nothing pending: still answer the VIRQ */
        }
        return XSD_PORT_VIRQ;
    }
    if (read(xce->fd, &port, sizeof(port)) != sizeof(port))
        return XSD_PORT_VIRQ;
    return (xenevtchn_port_or_error_t)port;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
    (void)xce;
    (void)port;
    return 0;
}

/* -------------------------------------------------------- grant tables */

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
                                 unsigned open_flags)
{
    (void)logger;
    (void)open_flags;
    return calloc(1, sizeof(struct xengntdev_handle));
}

int xengnttab_close(xengnttab_handle *xgt)
{
    free(xgt);
    return 0;
}

int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
    (void)xgt;
    (void)nr_grants;
    return 0;
}

/* The daemon maps grant GNTTAB_RESERVED_XENSTORE of domain N: its ring. */
void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
                              uint32_t ref, int prot)
{
    const char *dir = getenv(XSD_ENV_DIR);
    size_t page = (size_t)getpagesize();
    struct stat st;
    char path[256];
    void *p;
    int fd;

    (void)xgt;
    (void)ref;
    if (!dir) {
        p = mmap(NULL, page, prot, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    snprintf(path, sizeof(path), XSD_RING_FMT, dir, domid);
    fd = sys_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0 ||
        ((size_t)st.st_size < page && ftruncate(fd, (off_t)page) < 0)) {
        close(fd);
        return NULL;
    }
    p = mmap(NULL, page, prot, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
    (void)xgt;
    return munmap(start_address, (size_t)count * (size_t)getpagesize());
}
