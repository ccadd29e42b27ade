/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xsd.c - the integration harness: runs Xen's own xenstored per test on a
 * private socket (xsd_start/xsd_stop) and talks to it as a guest domain
 * over a shared ring (xsd_dom_*).  See xsd.h for the conventions shared
 * with xsshim.so.
 *
 * Readiness: xsd_start connects to the daemon's socket until it accepts
 * (every 5 ms, with a deadline): the daemon serves what the socket took
 * once its loop runs, after dom0 is introduced.  4.17's -P (print the pid
 * when ready) would spare the polling, but 4.20 no longer has it.  -N
 * keeps the daemon in the foreground, so its pid is ours to kill and to
 * reap.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h> /* after errno.h: xs_wire.h then has xsd_errors[] */

#include "xsd.h"

#define READY_TIMEOUT_MS 5000
#define REPLY_TIMEOUT_MS 5000
#define LOG_NAME "xenstored.log"
#define TRACE_NAME "trace"
/* Set in the environment of the re-executed test binary. */
#define REEXEC_ENV "XPCI_XSD_REEXEC"
#define SHIM_MARKER "xpci_xsshim_loaded"
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

extern char **environ;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_ms_f(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Milliseconds left before deadline for poll(2); 0 when it has passed. */
static int left_ms(int64_t deadline)
{
    int64_t rest = deadline - now_ms();

    return rest <= 0 ? 0 : rest > INT_MAX ? INT_MAX : (int)rest;
}

/* ------------------------------------------------------------ finding */

const char *xsd_daemon_path(void)
{
    const char *p = getenv(XSD_ENV_DAEMON);

    return p && *p ? p : XSD_DEFAULT_DAEMON;
}

static bool try_shim(const char *cand, char *out)
{
    return realpath(cand, out) && access(out, R_OK) == 0;
}

/*
 * libtool puts a module in .libs/ of its directory.  make check exports
 * top_builddir; a binary run by hand finds the shim next to itself.
 */
const char *xsd_shim_path(void)
{
    static char path[PATH_MAX];
    const char *env = getenv(XSD_ENV_SHIM);
    const char *top = getenv("top_builddir");
    char cand[PATH_MAX + 64], exe[PATH_MAX];
    ssize_t len;
    char *slash;

    if (env && *env)
        return try_shim(env, path) ? path : NULL;
    if (top && *top) {
        snprintf(cand, sizeof(cand), "%s/tests/integration/.libs/xsshim.so",
                 top);
        if (try_shim(cand, path))
            return path;
        snprintf(cand, sizeof(cand), "%s/tests/integration/xsshim.so", top);
        if (try_shim(cand, path))
            return path;
    }
    len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0)
        return NULL;
    exe[len] = '\0';
    slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    snprintf(cand, sizeof(cand), "%s/.libs/xsshim.so", exe);
    if (try_shim(cand, path))
        return path;
    snprintf(cand, sizeof(cand), "%s/xsshim.so", exe);
    if (try_shim(cand, path))
        return path;
    /* A libtool wrapper runs the real binary from .libs/ itself. */
    snprintf(cand, sizeof(cand), "%s/../.libs/xsshim.so", exe);
    return try_shim(cand, path) ? path : NULL;
}

int xsd_preload_self(char **argv)
{
    const char *shim, *old;
    char *val;

    if (dlsym(RTLD_DEFAULT, SHIM_MARKER))
        return 0;
    /* Already re-executed and still no shim: LD_PRELOAD did not take. */
    if (getenv(REEXEC_ENV))
        return -ELIBACC;
    shim = xsd_shim_path();
    if (!shim)
        return -ENOENT;
    old = getenv("LD_PRELOAD");
    if (asprintf(&val, "%s%s%s", shim, old && *old ? " " : "", old ? old : "") <
        0)
        return -ENOMEM;
    if (setenv("LD_PRELOAD", val, 1) < 0 || setenv(REEXEC_ENV, "1", 1) < 0) {
        free(val);
        return -errno;
    }
    free(val);
    execv("/proc/self/exe", argv);
    return -errno;
}

/* ------------------------------------------------------------- daemon */

static void copy_log(const char *dir)
{
    char path[128], buf[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/" LOG_NAME, dir);
    f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(buf, sizeof(buf), f))
        fprintf(stderr, "xenstored: %s", buf);
    fclose(f);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
    rmdir(dir);
}

static bool env_is(const char *entry, const char *name)
{
    size_t len = strlen(name);

    return !strncmp(entry, name, len) && entry[len] == '=';
}

/* The daemon's environment: ours, with its directory, socket, shim and
 * domains set.  The strings set here live in `owned`; the array is
 * malloc'd. */
static char **daemon_env(const struct xsd *xsd, const char *shim,
                         const char *domains, char owned[5][PATH_MAX + 32])
{
    static const char *const ours[] = {
        "LD_PRELOAD",       XSD_ENV_DOMAINS,  XSD_ENV_DIR,
        "XENSTORED_RUNDIR", "XENSTORED_PATH",
    };
    size_t n = 0, k = 0;
    char **envp;

    for (char **p = environ; *p; p++)
        n++;
    envp = calloc(n + ARRAY_LEN(ours) + 1, sizeof(*envp));
    if (!envp)
        return NULL;
    for (char **p = environ; *p; p++) {
        bool skip = false;

        for (size_t i = 0; i < ARRAY_LEN(ours); i++)
            skip = skip || env_is(*p, ours[i]);
        if (!skip)
            envp[k++] = *p;
    }
    snprintf(owned[0], PATH_MAX + 32, "LD_PRELOAD=%s", shim);
    snprintf(owned[1], PATH_MAX + 32, XSD_ENV_DOMAINS "=%s",
             domains ? domains : "0");
    snprintf(owned[2], PATH_MAX + 32, XSD_ENV_DIR "=%s", xsd->dir);
    snprintf(owned[3], PATH_MAX + 32, "XENSTORED_RUNDIR=%s", xsd->dir);
    snprintf(owned[4], PATH_MAX + 32, "XENSTORED_PATH=%s", xsd->socket);
    for (size_t i = 0; i < ARRAY_LEN(ours); i++)
        envp[k++] = owned[i];
    envp[k] = NULL;
    return envp;
}

/*
 * Wait until the daemon accepts connections on its socket.  (4.17's -P,
 * "print the pid when ready", is gone in 4.20; a connection that the
 * listening socket takes is served once the daemon's loop runs, in either.)
 */
static int wait_ready(const char *socket_path, pid_t pid)
{
    int64_t deadline = now_ms() + READY_TIMEOUT_MS;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    if (strlen(socket_path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int r;

        if (fd < 0)
            return -errno;
        r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
        if (r == 0)
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -ECHILD; /* exited before it was ready */
        if (left_ms(deadline) <= 0)
            return -ETIMEDOUT;
        usleep(5000);
    }
}

int xsd_start(struct xsd **xsd_r, const char *domains)
{
    static char owned[5][PATH_MAX + 32];
    double t0 = now_ms_f();
    const char *daemon = xsd_daemon_path(), *shim = xsd_shim_path();
    const char *tmp = getenv("TMPDIR");
    char log[128], trace[128];
    char *argv[8];
    char **envp;
    struct xsd *xsd;
    int logfd, r, argc = 0;
    pid_t pid;

    if (access(daemon, X_OK) < 0 || !shim)
        return -ENOENT;
    xsd = calloc(1, sizeof(*xsd));
    if (!xsd)
        return -ENOMEM;
    /* A socket path must fit in sun_path (108 bytes). */
    if (!tmp || !*tmp || strlen(tmp) > 32)
        tmp = "/tmp";
    snprintf(xsd->dir, sizeof(xsd->dir), "%s/xpci-xsd-XXXXXX", tmp);
    if (!mkdtemp(xsd->dir)) {
        r = -errno;
        free(xsd);
        return r;
    }
    snprintf(xsd->socket, sizeof(xsd->socket), "%s/socket", xsd->dir);
    snprintf(log, sizeof(log), "%s/" LOG_NAME, xsd->dir);
    snprintf(trace, sizeof(trace), "%s/" TRACE_NAME, xsd->dir);

    argv[argc++] = (char *)daemon;
    argv[argc++] = "-N"; /* no fork */
    if (getenv("XPCI_XSD_TRACE")) {
        argv[argc++] = "-T";
        argv[argc++] = trace;
    }
    argv[argc] = NULL;

    envp = daemon_env(xsd, shim, domains, owned);
    if (!envp) {
        r = -ENOMEM;
        goto fail_dir;
    }
    logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (logfd < 0) {
        r = -errno;
        goto fail_env;
    }

    pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until execve. */
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execve(daemon, argv, envp);
        _exit(127);
    }
    r = pid < 0 ? -errno : 0;
    close(logfd);
    free(envp);
    if (r == 0) {
        xsd->pid = pid;
        r = wait_ready(xsd->socket, pid);
        if (r == -ECHILD)
            xsd->pid = 0; /* reaped */
    }
    if (r < 0) {
        if (xsd->pid > 0) {
            kill(xsd->pid, SIGKILL);
            waitpid(xsd->pid, NULL, 0);
        }
        fprintf(stderr, "xsd: %s did not come up: %s\n", daemon, strerror(-r));
        copy_log(xsd->dir);
        goto fail_dir;
    }

    /* libxenstore in this process now finds this daemon. */
    setenv("XENSTORED_PATH", xsd->socket, 1);
    xsd->start_ms = now_ms_f() - t0;
    *xsd_r = xsd;
    return 0;

fail_env:
    free(envp);
fail_dir:
    remove_dir(xsd->dir);
    free(xsd);
    return r;
}

int xsd_stop(struct xsd *xsd)
{
    int status, r = 0;

    if (!xsd)
        return 0;
    if (waitpid(xsd->pid, &status, WNOHANG) == xsd->pid) {
        fprintf(stderr, "xsd: xenstored died (status 0x%x)\n", status);
        copy_log(xsd->dir);
        r = -ECHILD;
    } else {
        /* Nothing of its state is worth keeping. */
        kill(xsd->pid, SIGKILL);
        waitpid(xsd->pid, &status, 0);
    }
    unsetenv("XENSTORED_PATH");
    if (getenv("XPCI_XSD_KEEP"))
        fprintf(stderr, "xsd: kept %s\n", xsd->dir);
    else
        remove_dir(xsd->dir);
    free(xsd);
    return r;
}

/* ------------------------------------------------------------- a guest */

/* A watch event that arrived while a request waited for its reply. */
struct dom_event {
    struct dom_event *next;
    char *path, *token;
};

struct xsd_dom {
    unsigned domid;
    struct xs_handle *dom0; /* introduced the domain, releases it */
    struct xenstore_domain_interface *intf;
    int kick_fd;   /* the daemon's notifications to this domain */
    int evtchn_fd; /* wakes the daemon */
    uint32_t req_id;
    struct dom_event *events, **events_tail; /* queued, oldest first */
};

static void dom_free(struct xsd_dom *dom)
{
    while (dom->events) {
        struct dom_event *e = dom->events;

        dom->events = e->next;
        free(e->path);
        free(e->token);
        free(e);
    }
    if (dom->dom0)
        xs_close(dom->dom0);
    if (dom->intf)
        munmap(dom->intf, (size_t)getpagesize());
    if (dom->kick_fd >= 0)
        close(dom->kick_fd);
    if (dom->evtchn_fd >= 0)
        close(dom->evtchn_fd);
    free(dom);
}

int xsd_dom_open(struct xsd *xsd, unsigned domid, struct xsd_dom **dom_r)
{
    size_t page = (size_t)getpagesize();
    struct xsd_dom *dom;
    char path[128];
    void *p;
    int fd, r;

    dom = calloc(1, sizeof(*dom));
    if (!dom)
        return -ENOMEM;
    dom->domid = domid;
    dom->kick_fd = dom->evtchn_fd = -1;
    dom->events_tail = &dom->events;

    /* O_RDWR: the FIFO keeps a writer (us), so poll() never sees a hang
     * up after the daemon's short-lived writes. */
    snprintf(path, sizeof(path), XSD_KICK_FMT, xsd->dir, domid);
    if (mkfifo(path, 0600) < 0 && errno != EEXIST)
        goto fail_errno;
    dom->kick_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (dom->kick_fd < 0)
        goto fail_errno;

    snprintf(path, sizeof(path), XSD_RING_FMT, xsd->dir, domid);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail_errno;
    if (ftruncate(fd, (off_t)page) < 0) {
        close(fd);
        goto fail_errno;
    }
    p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        goto fail_errno;
    dom->intf = p;

    snprintf(path, sizeof(path), "%s/" XSD_EVTCHN_NAME, xsd->dir);
    dom->evtchn_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (dom->evtchn_fd < 0)
        goto fail_errno;

    /* What the toolstack does for a new guest (the gfn is not used by
     * xenstored; the shim maps the ring file instead). */
    dom->dom0 = xs_open(0);
    if (!dom->dom0)
        goto fail_errno;
    if (!xs_introduce_domain(dom->dom0, domid, 0, XSD_PORT_XENBUS))
        goto fail_errno;
    *dom_r = dom;
    return 0;

fail_errno:
    r = errno ? -errno : -EIO;
    dom_free(dom);
    return r;
}

void xsd_dom_close(struct xsd_dom *dom)
{
    if (!dom)
        return;
    xs_release_domain(dom->dom0, dom->domid);
    dom_free(dom);
}

static void kick_daemon(struct xsd_dom *dom)
{
    uint32_t port = XSD_PORT(dom->domid);

    if (write(dom->evtchn_fd, &port, sizeof(port)) < 0) {
        /* A full FIFO already has the daemon's attention. */
    }
}

/* Wait for a notification from the daemon, then drain them all. */
static int wait_kick(struct xsd_dom *dom, int64_t deadline)
{
    struct pollfd pfd = {.fd = dom->kick_fd, .events = POLLIN};
    char buf[64];
    int r;

    do
        r = poll(&pfd, 1, left_ms(deadline));
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == 0)
        return -ETIMEDOUT;
    while (read(dom->kick_fd, buf, sizeof(buf)) > 0)
        ;
    return 0;
}

static int ring_put(struct xsd_dom *dom, const void *data, size_t len,
                    int64_t deadline)
{
    struct xenstore_domain_interface *intf = dom->intf;
    const char *p = data;

    while (len) {
        XENSTORE_RING_IDX cons =
            __atomic_load_n(&intf->req_cons, __ATOMIC_ACQUIRE);
        XENSTORE_RING_IDX prod = intf->req_prod;
        size_t space = XENSTORE_RING_SIZE - (prod - cons);
        size_t chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod);
        int r;

        if (space == 0) {
            if ((r = wait_kick(dom, deadline)) < 0)
                return r;
            continue;
        }
        if (chunk > space)
            chunk = space;
        if (chunk > len)
            chunk = len;
        memcpy(intf->req + MASK_XENSTORE_IDX(prod), p, chunk);
        __atomic_store_n(&intf->req_prod, prod + (XENSTORE_RING_IDX)chunk,
                         __ATOMIC_RELEASE);
        p += chunk;
        len -= chunk;
        kick_daemon(dom);
    }
    return 0;
}

static int ring_get(struct xsd_dom *dom, void *data, size_t len,
                    int64_t deadline)
{
    struct xenstore_domain_interface *intf = dom->intf;
    char *p = data;

    while (len) {
        XENSTORE_RING_IDX prod =
            __atomic_load_n(&intf->rsp_prod, __ATOMIC_ACQUIRE);
        XENSTORE_RING_IDX cons = intf->rsp_cons;
        size_t avail = prod - cons;
        size_t chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons);
        int r;

        if (avail == 0) {
            if ((r = wait_kick(dom, deadline)) < 0)
                return r;
            continue;
        }
        if (chunk > avail)
            chunk = avail;
        if (chunk > len)
            chunk = len;
        memcpy(p, intf->rsp + MASK_XENSTORE_IDX(cons), chunk);
        __atomic_store_n(&intf->rsp_cons, cons + (XENSTORE_RING_IDX)chunk,
                         __ATOMIC_RELEASE);
        p += chunk;
        len -= chunk;
        kick_daemon(dom); /* room for more replies */
    }
    return 0;
}

static int errno_of(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(xsd_errors); i++)
        if (!strcmp(xsd_errors[i].errstring, name))
            return xsd_errors[i].errnum;
    return EIO;
}

/* Queue a watch event ("path\0token\0" as the daemon sends it); one
 * that cannot be parsed or stored is dropped. */
static void queue_event(struct xsd_dom *dom, const char *body, size_t len)
{
    size_t plen = strnlen(body, len);
    struct dom_event *e;

    if (plen == len)
        return;
    e = calloc(1, sizeof(*e));
    if (!e)
        return;
    e->path = strdup(body);
    e->token = strndup(body + plen + 1, len - plen - 1);
    if (!e->path || !e->token) {
        free(e->path);
        free(e->token);
        free(e);
        return;
    }
    *dom->events_tail = e;
    dom->events_tail = &e->next;
}

/* Read one whole message from the ring; the body NUL-terminated. */
static int ring_get_msg(struct xsd_dom *dom, struct xsd_sockmsg *hdr,
                        char **body_r, int64_t deadline)
{
    char *body;
    int r;

    if ((r = ring_get(dom, hdr, sizeof(*hdr), deadline)) < 0)
        return r;
    if (hdr->len > XENSTORE_PAYLOAD_MAX)
        return -EPROTO;
    body = malloc(hdr->len + 1);
    if (!body)
        return -ENOMEM;
    if ((r = ring_get(dom, body, hdr->len, deadline)) < 0) {
        free(body);
        return r;
    }
    body[hdr->len] = '\0';
    *body_r = body;
    return 0;
}

/* One request and its reply (payload NUL-terminated for convenience);
 * watch events in between are queued for xsd_dom_next_event. */
static int dom_request(struct xsd_dom *dom, enum xsd_sockmsg_type type,
                       const char *payload, size_t len, char **reply_r,
                       size_t *len_r)
{
    int64_t deadline = now_ms() + REPLY_TIMEOUT_MS;
    struct xsd_sockmsg hdr = {
        .type = type,
        .req_id = ++dom->req_id,
        .tx_id = 0,
        .len = (uint32_t)len,
    };
    char *body;
    int r;

    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    if ((r = ring_put(dom, &hdr, sizeof(hdr), deadline)) < 0 ||
        (r = ring_put(dom, payload, len, deadline)) < 0)
        return r;
    for (;;) {
        if ((r = ring_get_msg(dom, &hdr, &body, deadline)) < 0)
            return r;
        if (hdr.type != XS_WATCH_EVENT)
            break;
        queue_event(dom, body, hdr.len);
        free(body);
    }
    if (hdr.type == XS_ERROR) {
        r = -errno_of(body);
        free(body);
        return r;
    }
    if (reply_r)
        *reply_r = body;
    else
        free(body);
    if (len_r)
        *len_r = hdr.len;
    return 0;
}

int xsd_dom_read(struct xsd_dom *dom, const char *path, char **val_r)
{
    return dom_request(dom, XS_READ, path, strlen(path) + 1, val_r, NULL);
}

int xsd_dom_write(struct xsd_dom *dom, const char *path, const char *val)
{
    size_t plen = strlen(path) + 1, vlen = strlen(val);
    char *buf = malloc(plen + vlen);
    int r;

    if (!buf)
        return -ENOMEM;
    memcpy(buf, path, plen);
    memcpy(buf + plen, val, vlen);
    r = dom_request(dom, XS_WRITE, buf, plen + vlen, NULL, NULL);
    free(buf);
    return r;
}

int xsd_dom_rm(struct xsd_dom *dom, const char *path)
{
    return dom_request(dom, XS_RM, path, strlen(path) + 1, NULL, NULL);
}

int xsd_dom_get_perms(struct xsd_dom *dom, const char *path, char **perms_r)
{
    char *reply;
    size_t len;
    int r;

    r = dom_request(dom, XS_GET_PERMS, path, strlen(path) + 1, &reply, &len);
    if (r < 0)
        return r;
    /* "n0\0r1\0" -> "n0\nr1" */
    for (size_t i = 0; i < len; i++)
        if (reply[i] == '\0')
            reply[i] = i + 1 == len ? '\0' : '\n';
    *perms_r = reply;
    return 0;
}

static int watch_request(struct xsd_dom *dom, enum xsd_sockmsg_type type,
                         const char *path, const char *token)
{
    size_t plen = strlen(path) + 1, tlen = strlen(token) + 1;
    char *buf = malloc(plen + tlen);
    int r;

    if (!buf)
        return -ENOMEM;
    memcpy(buf, path, plen);
    memcpy(buf + plen, token, tlen);
    r = dom_request(dom, type, buf, plen + tlen, NULL, NULL);
    free(buf);
    return r;
}

int xsd_dom_watch(struct xsd_dom *dom, const char *path, const char *token)
{
    return watch_request(dom, XS_WATCH, path, token);
}

int xsd_dom_unwatch(struct xsd_dom *dom, const char *path, const char *token)
{
    return watch_request(dom, XS_UNWATCH, path, token);
}

int xsd_dom_fd(const struct xsd_dom *dom)
{
    return dom->kick_fd;
}

int xsd_dom_next_event(struct xsd_dom *dom, char **path_r, char **token_r)
{
    struct xenstore_domain_interface *intf = dom->intf;
    struct xsd_sockmsg hdr;
    struct dom_event *e;
    char buf[64], *body;
    int r;

    /* Drain the notifications first: whatever arrives after the check
     * below notifies again. */
    while (read(dom->kick_fd, buf, sizeof(buf)) > 0)
        ;
    while (!dom->events) {
        XENSTORE_RING_IDX prod =
            __atomic_load_n(&intf->rsp_prod, __ATOMIC_ACQUIRE);

        if (prod == intf->rsp_cons)
            return -EAGAIN;
        r = ring_get_msg(dom, &hdr, &body, now_ms() + REPLY_TIMEOUT_MS);
        if (r < 0)
            return r;
        /* Nothing else is in flight: a reply here is a stray one. */
        if (hdr.type == XS_WATCH_EVENT)
            queue_event(dom, body, hdr.len);
        free(body);
    }
    e = dom->events;
    dom->events = e->next;
    if (!dom->events)
        dom->events_tail = &dom->events;
    *path_r = e->path;
    *token_r = e->token;
    free(e);
    return 0;
}
