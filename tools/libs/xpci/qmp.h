/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * qmp.h - a small synchronous client of QEMU's machine protocol (QMP), for
 * the device model of an HVM guest (<run_dir>/qmp-libxl-<domid>), and the
 * xen-pci-passthrough commands libxl sends through it.
 *
 * Every call takes a deadline in milliseconds (< 0: none); a device model
 * that does not answer in time gives -ETIMEDOUT.  On failure, when err_r is
 * non-NULL, *err_r gets a malloc'd one-line message (caller frees): QMP's
 * own "Class: desc" for a refused command, else what went wrong; on
 * success *err_r is left alone.  One handle serves one thread at a time.
 */
#ifndef XPCI_QMP_H
#define XPCI_QMP_H

#include <stdbool.h>

#include "xpci.h"

struct xpci__qmp;

/*
 * Connect to the QMP socket at path, read the greeting and negotiate
 * capabilities (qmp_capabilities).  Returns 0, -ENOENT/-ECONNREFUSED (no
 * device model there), -EPROTO (not QMP), -ETIMEDOUT or -errno.
 */
int xpci__qmp_open(const char *path, int timeout_ms, struct xpci__qmp **q_r,
                   char **err_r);
/*
 * The same over an already connected stream socket fd (non-blocking),
 * which the handle then owns (closed by xpci__qmp_close, not on failure).
 */
int xpci__qmp_open_fd(int fd, int timeout_ms, struct xpci__qmp **q_r,
                      char **err_r);
void xpci__qmp_close(struct xpci__qmp *q);

/*
 * Run command with arguments args_json (a JSON object's text, or NULL).
 * On success *ret_r (may be NULL) gets the text of the "return" value
 * (malloc'd).  Events that arrive meanwhile are kept for
 * xpci__qmp_wait_event.  Returns 0, -EIO when QEMU answered with an error
 * (message in *err_r), -ETIMEDOUT, -EPROTO or -errno.
 */
int xpci__qmp_command(struct xpci__qmp *q, const char *command,
                      const char *args_json, int timeout_ms, char **ret_r,
                      char **err_r);

/*
 * Wait for event (e.g. "DEVICE_DELETED"); when device is non-NULL, only
 * an event whose data.device equals it counts.  An event already received
 * (while a command waited for its answer) counts; the one that matches is
 * used up.  Other events that arrive meanwhile are kept.  Returns 0 or
 * -ETIMEDOUT / -errno.
 */
int xpci__qmp_wait_event(struct xpci__qmp *q, const char *event,
                         const char *device, int timeout_ms, char **err_r);

/* libxl's qdev id of a passed-through function: "pci-pt-BB_DD.F". */
#define XPCI__QMP_PT_ID_FMT "pci-pt-%02x_%02x.%01x"
#define XPCI__QMP_PT_ID_LEN 16

void xpci__qmp_pt_id(const struct xpci_bdf *bdf, char *buf);

/*
 * The device_add arguments libxl sends for a xen-pci-passthrough device:
 * {"driver":"xen-pci-passthrough","id":"pci-pt-01_00.0",
 *  "hostaddr":"0000:01:00.0"[,"addr":"4.0"][,"permissive":true]}
 * addr only when vdevfn >= 0 (slot.function in hex), permissive only when
 * true.  libxl leaves addr out when its vdevfn is 0; here "no particular
 * slot" is -1.  *json_r malloc'd.  Returns 0, -EINVAL (vdevfn > 0xff) or
 * -ENOMEM.
 */
int xpci__qmp_pt_add_args(const struct xpci_bdf *bdf, int vdevfn,
                          bool permissive, char **json_r);

/*
 * device_add the passthrough device, then find it with query-pci (by its
 * qdev id) and return its guest devfn (slot << 3 | function) in *vdevfn_r.
 * Returns 0, -EIO (QEMU refused: message in *err_r), -ENODEV (added but
 * not listed by query-pci), -ETIMEDOUT or -errno.
 */
int xpci__qmp_pt_add(struct xpci__qmp *q, const struct xpci_bdf *bdf,
                     int vdevfn, bool permissive, int timeout_ms, int *vdevfn_r,
                     char **err_r);

/*
 * device_del the passthrough device and wait until it is gone: its
 * DEVICE_DELETED event, or query-pci (asked once a second, as libxl does)
 * no longer listing it.  A device QEMU no longer has (query-pci, asked
 * first, does not list it, or device_del answers DeviceNotFound) counts
 * as deleted, and no device_del is sent for one query-pci does not list.
 * Returns 0; -EINPROGRESS once device_del was accepted but the device did
 * not go in time (or the connection failed afterwards): the guest was
 * asked and may still eject it, so it must not be plugged back; before
 * that -ETIMEDOUT (no answer), -EIO (an error answer) or -errno, and
 * nothing was asked of the guest.
 */
int xpci__qmp_pt_del(struct xpci__qmp *q, const struct xpci_bdf *bdf,
                     int timeout_ms, char **err_r);

/*
 * Is the passthrough device of bdf present (query-pci)?  Returns 1 with
 * *vdevfn_r set, 0 when absent, or -errno.
 */
int xpci__qmp_pt_find(struct xpci__qmp *q, const struct xpci_bdf *bdf,
                      int timeout_ms, int *vdevfn_r, char **err_r);

#endif /* XPCI_QMP_H */
