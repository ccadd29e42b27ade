/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xen-compat.h - what differs between the Xen releases xpci builds
 * against, each difference under one name.  configure reads the release
 * from xencontrol's pkg-config file and probes the headers; this is the
 * only place that turns those results into names, and nothing else in the
 * tree compares Xen versions.
 *
 *   Xen 4.17  xc_domain_getinfo() with xc_dominfo_t (what 4.17's
 *             xenstored calls), xc_domain_getinfolist() for the rest.
 *   Xen 4.18  xc_dominfo_t and xc_domain_getinfo() removed; one domain
 *             is xc_domain_getinfo_single() with the domctl's own
 *             xc_domaininfo_t (what 4.20's xenstored calls; it answers
 *             -1/ESRCH for a domain that does not exist).
 * xc_domain_getinfolist() and xc_version() are the same in all of them.
 */
#ifndef XPCI_XEN_COMPAT_H
#define XPCI_XEN_COMPAT_H

#include "config.h"

/* "4.20": the release of the libxenctrl this build uses. */
#define XPCI_XEN_BUILT_FOR XPCI_XEN_RELEASE

#ifdef HAVE_XC_DOMINFO_T
#define XPCI_XEN_HAS_DOMINFO_T 1
#else
#define XPCI_XEN_HAS_DOMINFO_T 0
#endif

#if HAVE_DECL_XC_DOMAIN_GETINFO_SINGLE
#define XPCI_XEN_HAS_GETINFO_SINGLE 1
#else
#define XPCI_XEN_HAS_GETINFO_SINGLE 0
#endif

#endif
