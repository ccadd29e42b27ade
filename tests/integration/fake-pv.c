/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake-pv.c - xen-pciback's and xen-pcifront's xenbus sides for the
 * integration tests (see fake-pv.h).  One thread polls the dom0
 * connection, the guest's ring and a wake-up pipe; every reaction starts
 * from a watch event and reads the store as the driver would, so what the
 * peer does depends only on what is in xenstored.
 *
 * Both sides act on state changes of the other end, not on levels: a
 * watch on the other end's "state" node, and a check of their own state
 * before each step (pciback's "make sure we only do this once" guards),
 * as the kernel does.  The own state is cached (xenbus's dev->state), so
 * a side never rewrites a state it already wrote, while the toolstack's
 * writes to the backend "state" (7 for a reconfiguration) are seen only
 * when read.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "fake-pv.h"

/* XenbusState, include/xen/interface/io/xenbus.h */
enum {
    ST_UNKNOWN = 0,
    ST_INITIALISING = 1,
    ST_INITWAIT = 2,
    ST_INITIALISED = 3,
    ST_CONNECTED = 4,
    ST_CLOSING = 5,
    ST_CLOSED = 6,
    ST_RECONFIGURING = 7,
    ST_RECONFIGURED = 8,
};

#define MAX_FUNCS 32
#define MAX_LOG 512
#define PV_MAGIC "7" /* XEN_PCI_MAGIC */
/* What pcifront publishes: a grant reference and an event channel port
 * (the values seen on a real guest). */
#define FRONT_GREF "8"
#define FRONT_EVTCHN "8"

struct func {
    char bdf[16];
    char vdev[16];
};

enum req_op { REQ_READ, REQ_WRITE, REQ_RM, REQ_PERMS };

/* A request made as the guest from another thread. */
struct req {
    enum req_op op;
    const char *path, *val;
    char *out;
    int r;
    bool done;
};

struct fake_pv {
    unsigned domid;
    struct xs_handle *xs;  /* pciback, as dom0 */
    struct xsd_dom *guest; /* pcifront, as the guest */
    pthread_t thread;
    bool running;
    int wake[2];

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;  /* a change, or a request done */
    bool stop;
    bool paused, parked; /* fake_pv_pause: the thread waits, holding nothing */
    enum fake_pv_guest mode;
    int delay_ms; /* the guest's latency before each reaction */
    int drop_stall_ms; /* and between seeing a removal and answering it */
    bool catch_up;     /* a silent guest woke: it reads the backend again */
    char refused[MAX_FUNCS][16];
    unsigned n_refused;
    struct req *req;
    char *log[MAX_LOG];
    unsigned n_log;

    /* pciback; the thread writes, tests read exported under the lock */
    char be[64], be_state[80], err_path[96];
    char be_fe[80], fe_state[96]; /* the frontend it was told of */
    bool be_bound;                /* probed and not yet gone */
    bool be_dead;  /* frontend vanished: unregistered until re-created */
    int be_cached; /* own state as last written */
    struct func exported[MAX_FUNCS];
    unsigned n_exported;

    /* pcifront; the thread writes, tests read under the lock */
    char fe[64], dev_dir[64];
    char other[80], other_state[96]; /* the backend it was told of */
    bool fe_bound;
    int fe_cached;
    struct func seen[MAX_FUNCS];
    unsigned n_seen;
};

/* ------------------------------------------------------------- log */

static void logf_locked(struct fake_pv *pv, const char *fmt, va_list ap)
{
    char *s;

    if (pv->n_log == MAX_LOG || vasprintf(&s, fmt, ap) < 0)
        return;
    pv->log[pv->n_log++] = s;
    if (getenv("XPCI_FAKE_PV_TRACE"))
        fprintf(stderr, "fake-pv: %s\n", s);
}

/* A log entry made with the lock held, so that a change of the lists
 * and its entry are seen together. */
static void __attribute__((format(printf, 2, 3)))
note_locked(struct fake_pv *pv, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    logf_locked(pv, fmt, ap);
    va_end(ap);
    pthread_cond_broadcast(&pv->cond);
}

static void __attribute__((format(printf, 2, 3)))
note(struct fake_pv *pv, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&pv->lock);
    va_start(ap, fmt);
    logf_locked(pv, fmt, ap);
    va_end(ap);
    pthread_cond_broadcast(&pv->cond);
    pthread_mutex_unlock(&pv->lock);
}

/* ------------------------------------------------------------ helpers */

static int parse_state(const char *s)
{
    char *end;
    long v;

    if (!s)
        return ST_UNKNOWN;
    v = strtol(s, &end, 10);
    return end == s || *end ? ST_UNKNOWN : (int)v;
}

/* "%x:%x:%x.%x" as the drivers scan dev-N and vdev-N. */
static bool parse_bdf(const char *s, unsigned *d, unsigned *b, unsigned *sl,
                      unsigned *fn)
{
    return s && sscanf(s, "%x:%x:%x.%x", d, b, sl, fn) == 4;
}

static char *be_read(struct fake_pv *pv, const char *key)
{
    char path[160];
    unsigned len;

    snprintf(path, sizeof(path), "%s/%s", pv->be, key);
    return xs_read(pv->xs, XBT_NULL, path, &len);
}

static int be_read_int(struct fake_pv *pv, const char *key, int *val_r)
{
    char *s = be_read(pv, key), *end;
    long v;

    if (!s)
        return -ENOENT;
    v = strtol(s, &end, 10);
    if (end == s || *end) {
        free(s);
        return -EINVAL;
    }
    free(s);
    *val_r = (int)v;
    return 0;
}

static bool be_write(struct fake_pv *pv, const char *key, const char *val)
{
    char path[160];

    snprintf(path, sizeof(path), "%s/%s", pv->be, key);
    return xs_write(pv->xs, XBT_NULL, path, val, strlen(val));
}

static int dom0_state(struct fake_pv *pv, const char *path)
{
    unsigned len;
    char *s = xs_read(pv->xs, XBT_NULL, path, &len);
    int st = parse_state(s);

    free(s);
    return st;
}

/* ------------------------------------------------------------ pciback */

/* xenbus_switch_state: a no-op when already there or when the node has
 * gone (the device is being removed). */
static void be_switch(struct fake_pv *pv, int state)
{
    char path[96], val[8];
    unsigned len;
    char *cur;

    if (state == pv->be_cached)
        return;
    snprintf(path, sizeof(path), "%s/state", pv->be);
    cur = xs_read(pv->xs, XBT_NULL, path, &len);
    if (!cur)
        return;
    free(cur);
    snprintf(val, sizeof(val), "%d", state);
    /* Logged first: a test woken by the write finds it in the log. */
    note(pv, "be=%d", state);
    if (xs_write(pv->xs, XBT_NULL, path, val, strlen(val)))
        pv->be_cached = state;
    else
        note(pv, "be=%d failed", state);
}

/* xenbus_dev_fatal: "<errno> <text>" under dom0's error/<nodename>, then
 * Closing. */
static void __attribute__((format(printf, 3, 4)))
be_fatal(struct fake_pv *pv, int err, const char *fmt, ...)
{
    char *text = NULL, *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    if (text && asprintf(&msg, "%d %s", -err, text) >= 0) {
        note(pv, "error %s", msg);
        xs_write(pv->xs, XBT_NULL, pv->err_path, msg, strlen(msg));
    }
    free(text);
    free(msg);
    be_switch(pv, ST_CLOSING);
}

static bool is_refused(struct fake_pv *pv, const char *bdf)
{
    bool r = false;

    pthread_mutex_lock(&pv->lock);
    for (unsigned i = 0; i < pv->n_refused; i++)
        r = r || !strcmp(pv->refused[i], bdf);
    pthread_mutex_unlock(&pv->lock);
    return r;
}

/*
 * The virtual bus (xen-pciback/vpci.c): functions of one physical slot
 * share a virtual slot and keep their function number; anything else
 * takes the first free slot.
 */
static void vpci_place(struct fake_pv *pv, unsigned d, unsigned b, unsigned sl,
                       unsigned fn, char *vdev)
{
    bool used[32] = {false};

    for (unsigned i = 0; i < pv->n_exported; i++) {
        unsigned d2, b2, s2, f2, vd, vb, vs, vf;

        if (!parse_bdf(pv->exported[i].bdf, &d2, &b2, &s2, &f2) ||
            !parse_bdf(pv->exported[i].vdev, &vd, &vb, &vs, &vf))
            continue;
        if (vs < 32)
            used[vs] = true;
        if (d2 == d && b2 == b && s2 == sl) {
            snprintf(vdev, 16, "%04x:%02x:%02x.%02x", 0, 0, vs, fn);
            return;
        }
    }
    for (unsigned s = 0; s < 32; s++)
        if (!used[s]) {
            snprintf(vdev, 16, "%04x:%02x:%02x.%02x", 0, 0, s, fn);
            return;
        }
    snprintf(vdev, 16, "none");
}

/* Export dev-<i>: 0, or the error already reported as fatal. */
static int be_export(struct fake_pv *pv, unsigned i)
{
    unsigned d, b, sl, fn;
    char key[32], bdf[16], vdev[16];
    char *s;
    struct func *f;

    snprintf(key, sizeof(key), "dev-%u", i);
    s = be_read(pv, key);
    if (!s) {
        be_fatal(pv, -ENOENT, "Error reading device configuration");
        return -ENOENT;
    }
    if (!parse_bdf(s, &d, &b, &sl, &fn)) {
        free(s);
        be_fatal(pv, -EINVAL, "Error parsing pci device configuration");
        return -EINVAL;
    }
    free(s);
    snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", d, b, sl, fn);
    if (is_refused(pv, bdf) || pv->n_exported == MAX_FUNCS) {
        be_fatal(pv, -EINVAL,
                 "Couldn't locate PCI device (%04x:%02x:%02x.%u)! "
                 "perhaps already in-use?",
                 d, b, sl, fn);
        return -EINVAL;
    }
    vpci_place(pv, d, b, sl, fn, vdev);
    pthread_mutex_lock(&pv->lock);
    f = &pv->exported[pv->n_exported++];
    snprintf(f->bdf, sizeof(f->bdf), "%s", bdf);
    snprintf(f->vdev, sizeof(f->vdev), "%s", vdev);
    pthread_mutex_unlock(&pv->lock);
    note(pv, "export %s %s", bdf, vdev);
    snprintf(key, sizeof(key), "vdev-%u", i);
    be_write(pv, key, vdev);
    return 0;
}

/* The vpci backend has one root, 0000:00, published once. */
static void be_publish_root(struct fake_pv *pv)
{
    int n = 0;
    char key[32], val[16];

    if (be_read_int(pv, "root_num", &n) < 0)
        n = 0;
    for (int i = 0; i < n; i++) {
        char *s;
        bool same;

        snprintf(key, sizeof(key), "root-%d", i);
        s = be_read(pv, key);
        same = s && !strcmp(s, "0000:00");
        free(s);
        if (same)
            return;
    }
    snprintf(key, sizeof(key), "root-%d", n);
    be_write(pv, key, "0000:00");
    snprintf(val, sizeof(val), "%d", n + 1);
    be_write(pv, "root_num", val);
}

static void be_release(struct fake_pv *pv, const char *vdev)
{
    char bdf[16];

    pthread_mutex_lock(&pv->lock);
    for (unsigned i = 0; i < pv->n_exported; i++) {
        if (strcmp(pv->exported[i].vdev, vdev))
            continue;
        snprintf(bdf, sizeof(bdf), "%s", pv->exported[i].bdf);
        pv->exported[i] = pv->exported[--pv->n_exported];
        note_locked(pv, "release %s", bdf);
        break;
    }
    pthread_mutex_unlock(&pv->lock);
}

static void be_release_all(struct fake_pv *pv)
{
    while (pv->n_exported) {
        char vdev[16];

        snprintf(vdev, sizeof(vdev), "%s", pv->exported[0].vdev);
        be_release(pv, vdev);
    }
}

/* xen_pcibk_attach: both ends Initialised and the frontend's ring
 * published -> Connected. */
static void be_attach(struct fake_pv *pv)
{
    char path[160];
    char *gref, *evtchn, *magic;
    unsigned len;

    if (dom0_state(pv, pv->be_state) != ST_INITIALISED ||
        dom0_state(pv, pv->fe_state) != ST_INITIALISED)
        return;
    snprintf(path, sizeof(path), "%s/pci-op-ref", pv->be_fe);
    gref = xs_read(pv->xs, XBT_NULL, path, &len);
    snprintf(path, sizeof(path), "%s/event-channel", pv->be_fe);
    evtchn = xs_read(pv->xs, XBT_NULL, path, &len);
    snprintf(path, sizeof(path), "%s/magic", pv->be_fe);
    magic = xs_read(pv->xs, XBT_NULL, path, &len);
    if (!gref || !evtchn)
        be_fatal(pv, -ENOENT, "Error reading configuration from frontend");
    else if (!magic || strcmp(magic, PV_MAGIC))
        be_fatal(pv, -EFAULT,
                 "version mismatch (%s/%s) with pcifront - halting "
                 "pciback",
                 magic ? magic : "(null)", PV_MAGIC);
    else
        be_switch(pv, ST_CONNECTED);
    free(gref);
    free(evtchn);
    free(magic);
}

/* xen_pcibk_setup_backend: in InitWait, export every dev-N. */
static void be_setup(struct fake_pv *pv)
{
    int num;
    char key[32];

    if (dom0_state(pv, pv->be_state) != ST_INITWAIT)
        return;
    if (be_read_int(pv, "num_devs", &num) < 0 || num < 0) {
        be_fatal(pv, -EINVAL, "Error reading number of devices");
        return;
    }
    for (int i = 0; i < num; i++) {
        if (be_export(pv, (unsigned)i) < 0)
            return;
        snprintf(key, sizeof(key), "state-%d", i);
        be_write(pv, key, "3");
    }
    be_publish_root(pv);
    be_switch(pv, ST_INITIALISED);
    be_attach(pv);
}

/* xen_pcibk_reconfigure: the frontend asked, while the toolstack holds
 * the backend at Reconfiguring. */
static void be_reconfigure(struct fake_pv *pv)
{
    int num;
    char key[32];

    if (dom0_state(pv, pv->be_state) != ST_RECONFIGURING)
        return;
    if (be_read_int(pv, "num_devs", &num) < 0 || num < 0) {
        be_fatal(pv, -EINVAL, "Error reading number of devices");
        return;
    }
    for (int i = 0; i < num; i++) {
        int sub = ST_UNKNOWN;
        char *vdev;

        snprintf(key, sizeof(key), "state-%d", i);
        if (be_read_int(pv, key, &sub) < 0)
            sub = ST_UNKNOWN;
        if (sub == ST_INITIALISING) {
            if (be_export(pv, (unsigned)i) < 0)
                return;
            be_publish_root(pv);
            be_write(pv, key, "3");
        } else if (sub == ST_CLOSING) {
            snprintf(key, sizeof(key), "vdev-%d", i);
            vdev = be_read(pv, key);
            if (!vdev) {
                be_fatal(pv, -ENOENT, "Error reading device configuration");
                return;
            }
            be_release(pv, vdev);
            free(vdev);
        }
    }
    be_switch(pv, ST_RECONFIGURED);
}

static void be_frontend_changed(struct fake_pv *pv)
{
    int fe = dom0_state(pv, pv->fe_state);

    switch (fe) {
    case ST_INITIALISED:
        be_attach(pv);
        break;
    case ST_RECONFIGURING:
        be_reconfigure(pv);
        break;
    case ST_CONNECTED:
        be_switch(pv, ST_CONNECTED);
        break;
    case ST_CLOSING:
        be_switch(pv, ST_CLOSING);
        break;
    case ST_CLOSED:
        be_switch(pv, ST_CLOSED);
        break;
    case ST_UNKNOWN:
        /* The frontend is gone: xenbus unregisters the backend device,
         * which gives every function back to pciback. */
        be_release_all(pv);
        pv->be_dead = true;
        note(pv, "backend unregistered");
        break;
    default:
        break;
    }
}

/* Anything changed at or below the backend directory. */
static void be_changed(struct fake_pv *pv)
{
    int st = dom0_state(pv, pv->be_state);
    char *fe, *fe_id;

    if (st == ST_UNKNOWN) {
        if (pv->be_bound) {
            xs_unwatch(pv->xs, pv->fe_state, "fe");
            be_release_all(pv);
            pv->be_bound = pv->be_dead = false;
            note(pv, "backend removed");
        }
        return;
    }
    if (pv->be_dead)
        return;
    if (!pv->be_bound) {
        /* xenbus_probe_node: only a device in Initialising, with its
         * frontend named, is probed. */
        if (st != ST_INITIALISING)
            return;
        fe = be_read(pv, "frontend");
        fe_id = be_read(pv, "frontend-id");
        if (!fe || !fe_id) {
            free(fe);
            free(fe_id);
            return;
        }
        snprintf(pv->be_fe, sizeof(pv->be_fe), "%s", fe);
        snprintf(pv->fe_state, sizeof(pv->fe_state), "%s/state", fe);
        free(fe);
        free(fe_id);
        pv->be_bound = true;
        pv->be_cached = ST_INITIALISING;
        be_switch(pv, ST_INITWAIT);
        /* The other end's state, watched from now on; the watch fires
         * once at once, which delivers the frontend's current state. */
        xs_watch(pv->xs, pv->fe_state, "fe");
    }
    be_setup(pv);
}

/* ----------------------------------------------------------- pcifront */

static int g_read(struct fake_pv *pv, const char *path, char **val_r)
{
    return xsd_dom_read(pv->guest, path, val_r);
}

static int g_state(struct fake_pv *pv, const char *path)
{
    char *s = NULL;
    int st;

    if (g_read(pv, path, &s) < 0)
        return ST_UNKNOWN;
    st = parse_state(s);
    free(s);
    return st;
}

static char *g_be_read(struct fake_pv *pv, const char *be, const char *key)
{
    char path[160], *s = NULL;

    snprintf(path, sizeof(path), "%s/%s", be, key);
    return g_read(pv, path, &s) < 0 ? NULL : s;
}

static void fe_switch(struct fake_pv *pv, int state)
{
    char path[96], val[8];

    if (state == pv->fe_cached)
        return;
    snprintf(path, sizeof(path), "%s/state", pv->fe);
    snprintf(val, sizeof(val), "%d", state);
    note(pv, "fe=%d", state);
    if (xsd_dom_write(pv->guest, path, val) == 0)
        pv->fe_cached = state;
    else
        note(pv, "fe=%d failed", state);
}

static void fe_see(struct fake_pv *pv, const char *bdf, const char *vdev)
{
    pthread_mutex_lock(&pv->lock);
    for (unsigned i = 0; i < pv->n_seen; i++)
        if (!strcmp(pv->seen[i].vdev, vdev))
            goto out;
    if (pv->n_seen < MAX_FUNCS) {
        snprintf(pv->seen[pv->n_seen].bdf, 16, "%s", bdf);
        snprintf(pv->seen[pv->n_seen].vdev, 16, "%s", vdev);
        pv->n_seen++;
        note_locked(pv, "see %s", bdf);
    }
out:
    pthread_mutex_unlock(&pv->lock);
}

static void fe_drop(struct fake_pv *pv, const char *vdev)
{
    char bdf[16];

    pthread_mutex_lock(&pv->lock);
    for (unsigned i = 0; i < pv->n_seen; i++) {
        if (strcmp(pv->seen[i].vdev, vdev))
            continue;
        snprintf(bdf, sizeof(bdf), "%s", pv->seen[i].bdf);
        pv->seen[i] = pv->seen[--pv->n_seen];
        note_locked(pv, "drop %s", bdf);
        break;
    }
    pthread_mutex_unlock(&pv->lock);
}

static void fe_drop_all(struct fake_pv *pv)
{
    while (pv->n_seen) {
        char vdev[16];

        snprintf(vdev, sizeof(vdev), "%s", pv->seen[0].vdev);
        fe_drop(pv, vdev);
    }
}

/*
 * Scan the virtual root bus: the guest finds what pciback serves, which
 * is every exported entry (vdev-N written, state-N Initialised).  Read
 * as the guest, so a backend it may not read shows nothing.
 */
static int fe_scan(struct fake_pv *pv, const char *be)
{
    char key[32], *s, *vdev, *bdf;
    int num;

    s = g_be_read(pv, be, "num_devs");
    num = s ? atoi(s) : -1;
    free(s);
    if (num < 0)
        return -ENOENT;
    for (int i = 0; i < num; i++) {
        snprintf(key, sizeof(key), "state-%d", i);
        s = g_be_read(pv, be, key);
        if (parse_state(s) != ST_INITIALISED) {
            free(s);
            continue;
        }
        free(s);
        snprintf(key, sizeof(key), "vdev-%d", i);
        vdev = g_be_read(pv, be, key);
        snprintf(key, sizeof(key), "dev-%d", i);
        bdf = g_be_read(pv, be, key);
        if (vdev && bdf)
            fe_see(pv, bdf, vdev);
        free(vdev);
        free(bdf);
    }
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* pcifront_detach_devices; with hold, a guest that never lets go.  The
 * functions to drop are those Closing when it looks; a guest stalled
 * mid-removal drops them, and answers, drop_stall_ms later. */
static void fe_detach(struct fake_pv *pv, const char *be, bool hold)
{
    char key[32], *s, *drop[MAX_FUNCS];
    unsigned n_drop = 0;
    int num, stall;

    s = g_be_read(pv, be, "num_devs");
    num = s ? atoi(s) : 0;
    free(s);
    for (int i = 0; i < num && n_drop < MAX_FUNCS; i++) {
        snprintf(key, sizeof(key), "state-%d", i);
        s = g_be_read(pv, be, key);
        if (parse_state(s) != ST_CLOSING) {
            free(s);
            continue;
        }
        free(s);
        if (hold) {
            note(pv, "guest holds on");
            goto out;
        }
        snprintf(key, sizeof(key), "vdev-%d", i);
        if ((drop[n_drop] = g_be_read(pv, be, key)))
            n_drop++;
    }
    pthread_mutex_lock(&pv->lock);
    stall = pv->drop_stall_ms;
    pthread_mutex_unlock(&pv->lock);
    sleep_ms(stall);
    for (unsigned k = 0; k < n_drop; k++)
        fe_drop(pv, drop[k]);
    fe_switch(pv, ST_RECONFIGURING);
out:
    for (unsigned k = 0; k < n_drop; k++)
        free(drop[k]);
}

static enum fake_pv_guest guest_mode(struct fake_pv *pv)
{
    enum fake_pv_guest m;

    pthread_mutex_lock(&pv->lock);
    m = pv->mode;
    pthread_mutex_unlock(&pv->lock);
    return m;
}

/* pcifront_backend_changed */
static void fe_backend_changed(struct fake_pv *pv)
{
    const char *be = pv->other;
    char path[96];
    int st, own;

    if (!pv->fe_bound || guest_mode(pv) == FAKE_PV_GUEST_SILENT)
        return;
    st = g_state(pv, pv->other_state);
    snprintf(path, sizeof(path), "%s/state", pv->fe);
    own = g_state(pv, path);
    switch (st) {
    case ST_CONNECTED:
        if (own == ST_INITIALISED && fe_scan(pv, be) == 0)
            fe_switch(pv, ST_CONNECTED);
        break;
    case ST_RECONFIGURING:
        if (own == ST_CONNECTED)
            fe_detach(pv, be, guest_mode(pv) == FAKE_PV_GUEST_NO_RELEASE);
        break;
    case ST_RECONFIGURED:
        if (own == ST_RECONFIGURING && fe_scan(pv, be) == 0)
            fe_switch(pv, ST_CONNECTED);
        break;
    case ST_CLOSING:
    case ST_CLOSED:
        if (own < ST_CLOSING) {
            fe_drop_all(pv);
            fe_switch(pv, ST_CLOSED);
        }
        break;
    default:
        break;
    }
}

/* Anything changed below the guest's device directory. */
static void fe_changed(struct fake_pv *pv)
{
    char path[96], *be = NULL;
    int st;

    snprintf(path, sizeof(path), "%s/state", pv->fe);
    st = g_state(pv, path);
    if (st == ST_UNKNOWN) {
        if (pv->fe_bound) {
            xsd_dom_unwatch(pv->guest, pv->other_state, "be");
            fe_drop_all(pv);
            pv->fe_bound = false;
            note(pv, "frontend removed");
        }
        return;
    }
    if (pv->fe_bound || st != ST_INITIALISING ||
        guest_mode(pv) == FAKE_PV_GUEST_SILENT)
        return;
    snprintf(path, sizeof(path), "%s/backend", pv->fe);
    if (g_read(pv, path, &be) < 0)
        return;
    snprintf(pv->other, sizeof(pv->other), "%s", be);
    snprintf(pv->other_state, sizeof(pv->other_state), "%s/state", be);
    free(be);
    pv->fe_bound = true;
    pv->fe_cached = ST_INITIALISING;
    /* pcifront_publish_info: the shared page and the event channel. */
    snprintf(path, sizeof(path), "%s/pci-op-ref", pv->fe);
    xsd_dom_write(pv->guest, path, FRONT_GREF);
    snprintf(path, sizeof(path), "%s/event-channel", pv->fe);
    xsd_dom_write(pv->guest, path, FRONT_EVTCHN);
    snprintf(path, sizeof(path), "%s/magic", pv->fe);
    xsd_dom_write(pv->guest, path, PV_MAGIC);
    fe_switch(pv, ST_INITIALISED);
    xsd_dom_watch(pv->guest, pv->other_state, "be");
}

/* ------------------------------------------------------------- thread */

static void serve_request(struct fake_pv *pv)
{
    struct req *q;

    pthread_mutex_lock(&pv->lock);
    q = pv->req;
    pthread_mutex_unlock(&pv->lock);
    if (!q || q->done)
        return;
    switch (q->op) {
    case REQ_READ:
        q->r = xsd_dom_read(pv->guest, q->path, &q->out);
        break;
    case REQ_WRITE:
        q->r = xsd_dom_write(pv->guest, q->path, q->val);
        break;
    case REQ_RM:
        q->r = xsd_dom_rm(pv->guest, q->path);
        break;
    case REQ_PERMS:
        q->r = xsd_dom_get_perms(pv->guest, q->path, &q->out);
        break;
    }
    pthread_mutex_lock(&pv->lock);
    q->done = true;
    pv->req = NULL;
    pthread_cond_broadcast(&pv->cond);
    pthread_mutex_unlock(&pv->lock);
}

static void dom0_events(struct fake_pv *pv)
{
    char **ev;

    while ((ev = xs_check_watch(pv->xs))) {
        if (!strcmp(ev[XS_WATCH_TOKEN], "be"))
            be_changed(pv);
        else if (!strcmp(ev[XS_WATCH_TOKEN], "fe") && pv->be_bound &&
                 !pv->be_dead)
            be_frontend_changed(pv);
        free(ev);
    }
}

/* A busy guest: its vCPU gets to the event late. */
static void guest_latency(struct fake_pv *pv)
{
    int ms;

    pthread_mutex_lock(&pv->lock);
    ms = pv->delay_ms;
    pthread_mutex_unlock(&pv->lock);
    sleep_ms(ms);
}

static void guest_events(struct fake_pv *pv)
{
    char *path, *token;

    while (xsd_dom_next_event(pv->guest, &path, &token) == 0) {
        if (!strcmp(token, "dev")) {
            fe_changed(pv);
        } else if (!strcmp(token, "be")) {
            guest_latency(pv);
            fe_backend_changed(pv);
        }
        free(path);
        free(token);
    }
}

static void wake(struct fake_pv *pv);

static void *run(void *arg)
{
    struct fake_pv *pv = arg;

    for (;;) {
        struct pollfd fds[3] = {
            {.fd = pv->wake[0], .events = POLLIN},
            {.fd = xs_fileno(pv->xs), .events = POLLIN},
            {.fd = xsd_dom_fd(pv->guest), .events = POLLIN},
        };
        char buf[16];
        bool stop, catch_up;

        /* Events a request of ours queued come first. */
        guest_events(pv);
        dom0_events(pv);
        if (poll(fds, 3, -1) < 0 && errno != EINTR)
            break;
        while (read(pv->wake[0], buf, sizeof(buf)) > 0)
            ;
        pthread_mutex_lock(&pv->lock);
        while (pv->paused && !pv->stop) {
            pv->parked = true;
            pthread_cond_broadcast(&pv->cond);
            pthread_cond_wait(&pv->cond, &pv->lock);
        }
        pv->parked = false;
        stop = pv->stop;
        catch_up = pv->catch_up;
        pv->catch_up = false;
        pthread_mutex_unlock(&pv->lock);
        if (stop)
            break;
        if (catch_up)
            fe_backend_changed(pv);
        serve_request(pv);
    }
    return NULL;
}

static void wake(struct fake_pv *pv)
{
    if (write(pv->wake[1], "", 1) < 0) {
        /* a full pipe wakes the thread all the same */
    }
}

int fake_pv_start(struct xsd *xsd, unsigned domid, enum fake_pv_guest mode,
                  struct fake_pv **pv_r)
{
    struct fake_pv *pv = calloc(1, sizeof(*pv));
    pthread_condattr_t attr;
    int r;

    if (!pv)
        return -ENOMEM;
    pv->domid = domid;
    pv->mode = mode;
    pv->wake[0] = pv->wake[1] = -1;
    pthread_mutex_init(&pv->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pv->cond, &attr);
    pthread_condattr_destroy(&attr);
    snprintf(pv->be, sizeof(pv->be), "/local/domain/0/backend/pci/%u/0", domid);
    snprintf(pv->be_state, sizeof(pv->be_state), "%s/state", pv->be);
    snprintf(pv->err_path, sizeof(pv->err_path),
             "/local/domain/0/error/backend/pci/%u/0/error", domid);
    snprintf(pv->fe, sizeof(pv->fe), "/local/domain/%u/device/pci/0", domid);
    snprintf(pv->dev_dir, sizeof(pv->dev_dir), "/local/domain/%u/device",
             domid);
    if (pipe2(pv->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
        r = -errno;
        goto fail;
    }
    pv->xs = xs_open(0);
    if (!pv->xs) {
        r = errno ? -errno : -EIO;
        goto fail;
    }
    if ((r = xsd_dom_open(xsd, domid, &pv->guest)) < 0)
        goto fail;
    /* The backend bus and the guest's device bus, as xenbus watches
     * them; both fire once at once. */
    if (!xs_watch(pv->xs, pv->be, "be")) {
        r = errno ? -errno : -EIO;
        goto fail;
    }
    if ((r = xsd_dom_watch(pv->guest, pv->dev_dir, "dev")) < 0)
        goto fail;
    if ((r = -pthread_create(&pv->thread, NULL, run, pv)) < 0)
        goto fail;
    pv->running = true;
    *pv_r = pv;
    return 0;

fail:
    fake_pv_stop(pv);
    return r;
}

void fake_pv_stop(struct fake_pv *pv)
{
    if (!pv)
        return;
    if (pv->running) {
        pthread_mutex_lock(&pv->lock);
        pv->stop = true;
        pthread_mutex_unlock(&pv->lock);
        wake(pv);
        pthread_join(pv->thread, NULL);
    }
    if (pv->guest)
        xsd_dom_close(pv->guest);
    if (pv->xs)
        xs_close(pv->xs);
    if (pv->wake[0] >= 0)
        close(pv->wake[0]);
    if (pv->wake[1] >= 0)
        close(pv->wake[1]);
    for (unsigned i = 0; i < pv->n_log; i++)
        free(pv->log[i]);
    pthread_mutex_destroy(&pv->lock);
    pthread_cond_destroy(&pv->cond);
    free(pv);
}

void fake_pv_set_guest(struct fake_pv *pv, enum fake_pv_guest mode)
{
    pthread_mutex_lock(&pv->lock);
    if (pv->mode != mode)
        pv->catch_up = true;
    pv->mode = mode;
    pthread_mutex_unlock(&pv->lock);
    wake(pv);
}

void fake_pv_set_guest_delay(struct fake_pv *pv, int ms)
{
    pthread_mutex_lock(&pv->lock);
    pv->delay_ms = ms;
    pthread_mutex_unlock(&pv->lock);
}

void fake_pv_pause(struct fake_pv *pv)
{
    pthread_mutex_lock(&pv->lock);
    pv->paused = true;
    pthread_mutex_unlock(&pv->lock);
    wake(pv);
    pthread_mutex_lock(&pv->lock);
    while (!pv->parked && pv->running)
        pthread_cond_wait(&pv->cond, &pv->lock);
    pthread_mutex_unlock(&pv->lock);
}

void fake_pv_resume(struct fake_pv *pv)
{
    pthread_mutex_lock(&pv->lock);
    pv->paused = false;
    pthread_cond_broadcast(&pv->cond);
    pthread_mutex_unlock(&pv->lock);
}

void fake_pv_set_guest_drop_stall(struct fake_pv *pv, int ms)
{
    pthread_mutex_lock(&pv->lock);
    pv->drop_stall_ms = ms;
    pthread_mutex_unlock(&pv->lock);
}

void fake_pv_refuse(struct fake_pv *pv, const char *bdf)
{
    pthread_mutex_lock(&pv->lock);
    if (pv->n_refused < MAX_FUNCS)
        snprintf(pv->refused[pv->n_refused++], 16, "%s", bdf);
    pthread_mutex_unlock(&pv->lock);
}

/* ------------------------------------------------------------ queries */

unsigned fake_pv_guest_count(struct fake_pv *pv)
{
    unsigned n;

    pthread_mutex_lock(&pv->lock);
    n = pv->n_seen;
    pthread_mutex_unlock(&pv->lock);
    return n;
}

bool fake_pv_guest_sees(struct fake_pv *pv, const char *bdf, char *vdev_r)
{
    bool found = false;

    pthread_mutex_lock(&pv->lock);
    for (unsigned i = 0; i < pv->n_seen && !found; i++) {
        if (strcmp(pv->seen[i].bdf, bdf))
            continue;
        found = true;
        if (vdev_r)
            snprintf(vdev_r, 16, "%s", pv->seen[i].vdev);
    }
    pthread_mutex_unlock(&pv->lock);
    return found;
}

unsigned fake_pv_exported_count(struct fake_pv *pv)
{
    unsigned n;

    pthread_mutex_lock(&pv->lock);
    n = pv->n_exported;
    pthread_mutex_unlock(&pv->lock);
    return n;
}

bool fake_pv_exported(struct fake_pv *pv, const char *bdf)
{
    bool found = false;

    pthread_mutex_lock(&pv->lock);
    for (unsigned i = 0; i < pv->n_exported; i++)
        found = found || !strcmp(pv->exported[i].bdf, bdf);
    pthread_mutex_unlock(&pv->lock);
    return found;
}

static void deadline_of(struct timespec *ts, int timeout_ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int fake_pv_wait_guest(struct fake_pv *pv, unsigned n, int timeout_ms)
{
    struct timespec ts;
    int r = 0;

    deadline_of(&ts, timeout_ms);
    pthread_mutex_lock(&pv->lock);
    while (pv->n_seen != n && r == 0)
        r = pthread_cond_timedwait(&pv->cond, &pv->lock, &ts);
    r = pv->n_seen == n ? 0 : -ETIMEDOUT;
    pthread_mutex_unlock(&pv->lock);
    return r;
}

bool fake_pv_log_has(struct fake_pv *pv, ...)
{
    unsigned at = 0;
    bool ok = true;
    const char *want;
    va_list ap;

    va_start(ap, pv);
    pthread_mutex_lock(&pv->lock);
    while (ok && (want = va_arg(ap, const char *))) {
        while (at < pv->n_log && strcmp(pv->log[at], want))
            at++;
        ok = at < pv->n_log;
        at++;
    }
    pthread_mutex_unlock(&pv->lock);
    va_end(ap);
    return ok;
}

unsigned fake_pv_log_count(struct fake_pv *pv, const char *s)
{
    unsigned n = 0;

    pthread_mutex_lock(&pv->lock);
    for (unsigned i = 0; i < pv->n_log; i++)
        n += !strcmp(pv->log[i], s);
    pthread_mutex_unlock(&pv->lock);
    return n;
}

char *fake_pv_log_text(struct fake_pv *pv)
{
    size_t len = 1;
    char *s, *p;

    pthread_mutex_lock(&pv->lock);
    for (unsigned i = 0; i < pv->n_log; i++)
        len += strlen(pv->log[i]) + 1;
    s = p = malloc(len);
    if (s) {
        *p = '\0';
        for (unsigned i = 0; i < pv->n_log; i++)
            p += sprintf(p, "%s\n", pv->log[i]);
    }
    pthread_mutex_unlock(&pv->lock);
    return s;
}

void fake_pv_log_clear(struct fake_pv *pv)
{
    pthread_mutex_lock(&pv->lock);
    for (unsigned i = 0; i < pv->n_log; i++)
        free(pv->log[i]);
    pv->n_log = 0;
    pthread_mutex_unlock(&pv->lock);
}

/* ----------------------------------------------------- guest requests */

static int request(struct fake_pv *pv, enum req_op op, const char *path,
                   const char *val, char **out_r)
{
    struct req q = {.op = op, .path = path, .val = val, .r = -EIO};

    pthread_mutex_lock(&pv->lock);
    while (pv->req)
        pthread_cond_wait(&pv->cond, &pv->lock);
    pv->req = &q;
    pthread_mutex_unlock(&pv->lock);
    wake(pv);
    pthread_mutex_lock(&pv->lock);
    while (!q.done)
        pthread_cond_wait(&pv->cond, &pv->lock);
    pthread_mutex_unlock(&pv->lock);
    if (out_r && q.r == 0)
        *out_r = q.out;
    else
        free(q.out);
    return q.r;
}

int fake_pv_guest_read(struct fake_pv *pv, const char *path, char **val_r)
{
    return request(pv, REQ_READ, path, NULL, val_r);
}

int fake_pv_guest_write(struct fake_pv *pv, const char *path, const char *val)
{
    return request(pv, REQ_WRITE, path, val, NULL);
}

int fake_pv_guest_rm(struct fake_pv *pv, const char *path)
{
    return request(pv, REQ_RM, path, NULL, NULL);
}

int fake_pv_guest_get_perms(struct fake_pv *pv, const char *path,
                            char **perms_r)
{
    return request(pv, REQ_PERMS, path, NULL, perms_r);
}
