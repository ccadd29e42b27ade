/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xsd.h - the integration harness: Xen's own C xenstored (of the release
 * xpci is built for), started per test on a private socket in a temp dir
 * with the xsshim.so preload answering its few hypervisor calls, and a
 * client that speaks to it over a shared ring as a guest domain would.  Also the conventions shared by
 * the harness and the shim (environment, file names, event channel
 * ports).
 */
#ifndef XSD_H
#define XSD_H

#include <stdbool.h>
#include <stddef.h>

#include "xen-compat.h"

/* ---- conventions between the harness and xsshim.so ---- */

/* Domain ids the hypervisor reports as existing: "0,1,5" (default "0"). */
#define XSD_ENV_DOMAINS "XPCI_SHIM_DOMAINS"
/* Directory for the event channel FIFO and the shared ring pages; without
 * it the shim hands out an event fd that never fires and anonymous
 * pages. */
#define XSD_ENV_DIR "XPCI_SHIM_DIR"
/* Explicit path of xsshim.so (else found from top_builddir or next to the
 * test binary). */
#define XSD_ENV_SHIM "XPCI_SHIM"
/* Explicit path of the daemon. */
#define XSD_ENV_DAEMON "XPCI_XENSTORED"
/* Default: the xenstored of the release xpci is built for (configure's
 * XEN_LIBEXECDIR, /usr/lib/xen-4.20/bin on Debian 13). */
#define XSD_DEFAULT_DAEMON XPCI_XEN_LIBEXECDIR "/xenstored"

/* In XSD_ENV_DIR: the daemon's event channel (a FIFO carrying 32-bit
 * port numbers, one per event), the notifications of domain N (a FIFO,
 * one byte per notification) and the ring page of domain N. */
#define XSD_EVTCHN_NAME "evtchn"
#define XSD_KICK_FMT "%s/kick-%u"
#define XSD_RING_FMT "%s/ring-%u"

/* Event channel ports as the shim numbers them. */
#define XSD_PORT_VIRQ 1   /* VIRQ_DOM_EXC: makes the daemon rescan */
#define XSD_PORT_XENBUS 2 /* dom0's remote port, in /proc/xen/xsd_port */
#define XSD_PORT_BASE 16  /* the local port bound to domain N is */
#define XSD_PORT(domid) (XSD_PORT_BASE + (domid)) /* BASE + N */

/* ---- the daemon ---- */

struct xsd {
    int pid;
    char dir[64]; /* private run directory */
    char socket[96];
    double start_ms; /* fork to "ready" */
    double stop_ms;  /* filled by xsd_stop */
};

/*
 * Start the daemon with `domains` (XSD_ENV_DOMAINS syntax, NULL: "0") as
 * the existing domains, wait until it serves its socket, and point this
 * process's libxenstore at it (XENSTORED_PATH).  Returns 0, -ENOENT when
 * the daemon or the shim is missing, or -errno (the daemon's stderr is
 * copied to ours when it failed to come up).
 */
int xsd_start(struct xsd **xsd_r, const char *domains);
/*
 * Stop the daemon and remove its directory (kept when XPCI_XSD_KEEP is
 * set).  Returns 0, or -ECHILD when the daemon had died on its own (a
 * crash; its stderr is copied to ours).  NULL is a no-op.
 */
int xsd_stop(struct xsd *xsd);

/* Absolute path of xsshim.so, or NULL when it cannot be found. */
const char *xsd_shim_path(void);
/* The daemon to run: XPCI_XENSTORED or the default. */
const char *xsd_daemon_path(void);
/*
 * Make sure this process runs with xsshim.so preloaded (libxl needs
 * xc_interface_open to answer): re-executes /proc/self/exe with
 * LD_PRELOAD set unless the shim is already in.  Returns 0 when it is,
 * -errno when it could not be (then it does not return at all on
 * success of the exec).
 */
int xsd_preload_self(char **argv);

/* ---- acting as a guest ---- */

struct xsd_dom;

/*
 * Introduce domain domid to the daemon (XS_INTRODUCE from a dom0
 * connection) with a ring page shared with this process, and connect to
 * it as that domain.  The daemon answers the ring exactly as it would a
 * guest's: its own permission checks apply.
 */
int xsd_dom_open(struct xsd *xsd, unsigned domid, struct xsd_dom **dom_r);
/* Release the domain (XS_RELEASE) and drop the connection. */
void xsd_dom_close(struct xsd_dom *dom);

/* Requests as the domain; 0 or -errno as xenstored answered it
 * (-EACCES, -ENOENT, ...), -ETIMEDOUT when it did not. */
int xsd_dom_read(struct xsd_dom *dom, const char *path, char **val_r);
int xsd_dom_write(struct xsd_dom *dom, const char *path, const char *val);
int xsd_dom_rm(struct xsd_dom *dom, const char *path);
/* Permissions as xenstored spells them ("n0", "r1"), '\n'-separated;
 * caller frees. */
int xsd_dom_get_perms(struct xsd_dom *dom, const char *path, char **perms_r);

/*
 * Watches as the domain: the daemon reports only changes to nodes the
 * domain may read.  Events that arrive while a request waits for its
 * reply are queued.  One thread at a time per domain connection.
 */
int xsd_dom_watch(struct xsd_dom *dom, const char *path, const char *token);
int xsd_dom_unwatch(struct xsd_dom *dom, const char *path, const char *token);
/* Readable when the daemon notified the domain; then call
 * xsd_dom_next_event until it answers -EAGAIN. */
int xsd_dom_fd(const struct xsd_dom *dom);
/* The oldest event not yet taken (path and token malloc'd), or -EAGAIN
 * when there is none now. */
int xsd_dom_next_event(struct xsd_dom *dom, char **path_r, char **token_r);

#endif /* XSD_H */
