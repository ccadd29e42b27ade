/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake-pv.h - the two kernel drivers a PV guest's PCI passthrough talks
 * to, played against the test's real xenstored: xen-pciback's xenbus side
 * in dom0 (a normal connection) and xen-pcifront in the guest (the guest's
 * own ring, see xsd_dom_open), each driven only by xenstore watches, as
 * drivers/xen/xen-pciback/xenbus.c and drivers/pci/xen-pcifront.c are.
 * One peer serves one guest, from a thread of its own.
 *
 * What they do, in short (XenbusState numbers):
 *  - pciback: a new backend directory in state 1 -> 2; in 2 it exports
 *    every dev-N (vdev-N, state-N = 3, root-0, root_num) -> 3; frontend at
 *    3 with pci-op-ref, event-channel and magic "7" -> 4.  Frontend 7
 *    while the backend is 7: exports the state-N = 1 entries, releases the
 *    state-N = 5 ones -> 8.  Frontend 4 -> 4.
 *  - pcifront: a new frontend directory in state 1 -> writes pci-op-ref,
 *    event-channel, magic, -> 3; backend 4 -> sees the exported functions,
 *    -> 4; backend 7 -> drops the functions whose state-N is 5, -> 7;
 *    backend 8 -> sees the new ones, -> 4.
 * A refusal is reported as xenbus_dev_fatal does: "<errno> <text>" at
 * /local/domain/0/error/<backend path>/error and the backend -> 5.
 */
#ifndef FAKE_PV_H
#define FAKE_PV_H

#include <stdbool.h>

#include "xsd.h"

/* How the guest behaves. */
enum fake_pv_guest {
    FAKE_PV_GUEST_OK = 0,
    /* No pcifront: the frontend is never answered. */
    FAKE_PV_GUEST_SILENT,
    /* Takes functions, but never lets one go: a backend 7 with a function
     * in state 5 is left unanswered. */
    FAKE_PV_GUEST_NO_RELEASE,
};

struct fake_pv;

/*
 * Start serving guest domid of the daemon xsd (connects as dom0 and, with
 * xsd_dom_open, as the guest; the daemon must list domid as existing).
 * Returns 0 or -errno.
 */
int fake_pv_start(struct xsd *xsd, unsigned domid, enum fake_pv_guest mode,
                  struct fake_pv **pv_r);
/* Stop the thread, drop both connections, free.  NULL is a no-op. */
void fake_pv_stop(struct fake_pv *pv);

/* A guest that changes its ways catches up at once on the backend's
 * state, as a stalled guest handles its queued watch event. */
void fake_pv_set_guest(struct fake_pv *pv, enum fake_pv_guest mode);
/* Park the peer's thread between events, holding no lock, until
 * fake_pv_resume: a process forked meanwhile inherits no lock the thread
 * held (AddressSanitizer's allocator does not take its locks around a
 * fork, so a child forked while the thread allocates can hang). */
void fake_pv_pause(struct fake_pv *pv);
void fake_pv_resume(struct fake_pv *pv);
/* A busy guest: pcifront gets to each change of the backend's state ms
 * late (and then reads the state as it is by then, as the kernel does). */
void fake_pv_set_guest_delay(struct fake_pv *pv, int ms);
/* A guest descheduled mid-removal: pcifront reads which functions are
 * Closing as soon as the backend goes Reconfiguring, then drops them and
 * answers ms later (whatever the backend says by then). */
void fake_pv_set_guest_drop_stall(struct fake_pv *pv, int ms);
/* Make pciback refuse to export bdf ("DDDD:BB:DD.F"), as when the
 * function is not one of its seized devices. */
void fake_pv_refuse(struct fake_pv *pv, const char *bdf);

/* Functions the guest sees now, and whether it sees bdf (its guest
 * address, "0000:00:SS.FF", copied to vdev_r when non-NULL, 16 bytes). */
unsigned fake_pv_guest_count(struct fake_pv *pv);
bool fake_pv_guest_sees(struct fake_pv *pv, const char *bdf, char *vdev_r);
/* Functions pciback holds for the guest now. */
unsigned fake_pv_exported_count(struct fake_pv *pv);
bool fake_pv_exported(struct fake_pv *pv, const char *bdf);
/* Wait until the guest sees exactly n functions: 0 or -ETIMEDOUT. */
int fake_pv_wait_guest(struct fake_pv *pv, unsigned n, int timeout_ms);

/*
 * What the two sides did, in order, one entry each: "be=N" / "fe=N"
 * (state written), "export BDF VDEV", "release BDF", "see BDF",
 * "drop BDF", "error TEXT".  fake_pv_log_has checks that the entries given
 * (NULL-terminated) appear in this order, not necessarily adjacent;
 * fake_pv_log_count counts entries equal to s.
 */
bool fake_pv_log_has(struct fake_pv *pv, ...);
unsigned fake_pv_log_count(struct fake_pv *pv, const char *s);
/* The whole log, one entry a line; caller frees. */
char *fake_pv_log_text(struct fake_pv *pv);
void fake_pv_log_clear(struct fake_pv *pv);

/* Requests as the guest, carried out by the peer's thread over the
 * guest's ring; results as xsd_dom_*. */
int fake_pv_guest_read(struct fake_pv *pv, const char *path, char **val_r);
int fake_pv_guest_write(struct fake_pv *pv, const char *path, const char *val);
int fake_pv_guest_rm(struct fake_pv *pv, const char *path);
int fake_pv_guest_get_perms(struct fake_pv *pv, const char *path,
                            char **perms_r);

#endif /* FAKE_PV_H */
