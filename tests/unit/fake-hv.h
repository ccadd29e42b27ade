/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake-hv.h - an in-memory hypervisor for unit tests: IOMMU on/off, device
 * groups, reserved memory, which domain owns which device, and a failure
 * to inject into any hook.  Behaves like Xen 4.17 as recorded in
 * shared/REFERENCE-real-xen.md (test-assign -EINVAL while a guest holds a
 * device, deassign of a device not held -ENODEV, ...).
 */
#ifndef FAKE_HV_H
#define FAKE_HV_H

#include <stdbool.h>
#include <stdint.h>

#include "xpci.h"

struct fake_hv;

struct fake_hv *fake_hv_new(void);
void fake_hv_free(struct fake_hv *hv);

/* The ops table; pass the fake_hv as hv_priv.  Its close hook does not
 * free the fake (tests keep it to inspect). */
extern const struct xpci_hv_ops fake_hv_ops;

void fake_hv_set_iommu(struct fake_hv *hv, bool enabled);
/* What physinfo reports as the hypervisor's version ("4.20.4"). */
void fake_hv_set_version(struct fake_hv *hv, const char *version);
/* Put sbdfs[0..n) into one Xen device group. */
void fake_hv_set_group(struct fake_hv *hv, const char *const *bdfs,
                       unsigned n);
void fake_hv_add_rdm(struct fake_hv *hv, const char *bdf, uint64_t start_pfn,
                     uint64_t nr_pages);
/* Record that domid owns bdf (0 = dom0, XPCI_DOMID_IO = quarantine). */
void fake_hv_set_owner(struct fake_hv *hv, const char *bdf, uint32_t domid);
/* -1 when never set (dom0). */
long fake_hv_owner(const struct fake_hv *hv, const char *bdf);
/* A running domain created with passthrough enabled (an IOMMU context). */
void fake_hv_add_domain(struct fake_hv *hv, uint32_t domid);
/* Whether an added domain has an IOMMU context; assign -EOPNOTSUPP when
 * not (a domain created without pci= or passthrough="enabled"). */
void fake_hv_set_passthrough(struct fake_hv *hv, uint32_t domid,
                             bool enabled);
/* Make an added domain HVM (domain_type answers XPCI_DOMAIN_HVM). */
void fake_hv_set_hvm(struct fake_hv *hv, uint32_t domid, bool hvm);
/* Make an HVM domain route interrupts over event channels (pirqs). */
void fake_hv_set_pirqs(struct fake_hv *hv, uint32_t domid, bool pirqs);
/* Destroy an added domain as Xen does: its devices go to quarantine, its
 * permissions with it; domctls naming it then fail with -ESRCH. */
void fake_hv_destroy_domain(struct fake_hv *hv, uint32_t domid);
/* The domain crashed or powered off: domain_exists says -ESHUTDOWN. */
void fake_hv_shutdown_domain(struct fake_hv *hv, uint32_t domid);
/* Permissions domid holds now (iomem / ioport ranges, irqs, mapped
 * pirqs); allow adds one, revoke / unmap removes it. */
unsigned fake_hv_grants(const struct fake_hv *hv, uint32_t domid);
/* One of them, as "iomem 0xFIRST+0xNR", "ioport 0xFIRST+0xNR",
 * "irq N" or "pirq N".  iomem and ioport are rangesets as in Xen: a
 * revoke cuts whatever ranges hold what it names, and a range is held
 * when every unit of it is. */
bool fake_hv_has_grant(const struct fake_hv *hv, uint32_t domid,
                       const char *what);
/* Devices never mentioned exist and belong to dom0; this one does not
 * exist for Xen (test_assign -EINVAL, assign -ENODEV). */
void fake_hv_remove_device(struct fake_hv *hv, const char *bdf);
/* Make hook `op` ("physinfo", "assign", ...) fail with -err, `count` times
 * (-1: always). */
void fake_hv_fail(struct fake_hv *hv, const char *op, int err, int count);
/* Calls made so far, "op(args)" each, in order; NULL-terminated. */
const char *const *fake_hv_calls(const struct fake_hv *hv);
void fake_hv_clear_calls(struct fake_hv *hv);

#endif /* FAKE_HV_H */
