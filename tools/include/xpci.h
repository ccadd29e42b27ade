/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xpci.h - public interface of libxpci, a PCI passthrough library for Xen
 * dom0.
 *
 * Conventions: functions return 0 (or a count) on success and -errno on
 * failure; out-parameters end in _r and are written only on success.
 * Strings handed out by the library are owned by the object they came from
 * unless the comment says the caller frees them.
 */
#ifndef XPCI_H
#define XPCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* PCI addresses and xl PCI_SPEC_STRINGs                               */
/* ------------------------------------------------------------------ */

struct xpci_bdf {
    uint16_t domain; /* PCI segment */
    uint8_t bus;
    uint8_t dev;     /* 0..31 */
    uint8_t func;    /* 0..7 */
};

/* "DDDD:BB:DD.F" plus the terminating NUL. */
#define XPCI_BDF_STRLEN 13

/*
 * Parse "[DDDD:]BB:DD.F" (hex, case-insensitive; the domain defaults to 0).
 * Trailing characters are an error.  Returns 0 or -EINVAL.
 */
int xpci_bdf_parse(const char *s, struct xpci_bdf *bdf_r);

/* Format as "DDDD:BB:DD.F" into buf (at least XPCI_BDF_STRLEN bytes). */
void xpci_bdf_format(const struct xpci_bdf *bdf, char *buf);

/* Xen's machine SBDF encoding: segment << 16 | bus << 8 | dev << 3 | func. */
uint32_t xpci_bdf_to_sbdf(const struct xpci_bdf *bdf);
void xpci_bdf_from_sbdf(uint32_t sbdf, struct xpci_bdf *bdf_r);

/* Total order on BDFs (domain, bus, device, function). */
int xpci_bdf_cmp(const struct xpci_bdf *a, const struct xpci_bdf *b);

enum xpci_rdm_policy {
    XPCI_RDM_POLICY_STRICT = 0,
    XPCI_RDM_POLICY_RELAXED = 1,
};

/* A tri-state option value in a spec: not given, or given as 0/1. */
#define XPCI_OPT_UNSET (-1)

/*
 * One element of xl's `pci = [ ... ]` list or an xl pci-attach argument:
 *   [BDF][@VSLOT][,KEY=VALUE...]   (xl-disk-configuration style keys)
 * See xpci_spec_parse() for the grammar accepted.
 */
struct xpci_spec {
    struct xpci_bdf bdf;
    bool has_bdf;           /* false when the device is named (name=) */
    bool all_functions;     /* "BB:DD.*": every function of the slot */
    int vslot;              /* virtual slot, or -1 when not given */
    int vfunc;              /* virtual function, or -1 when not given */
    int permissive;         /* XPCI_OPT_UNSET, 0 or 1 */
    int msitranslate;       /* XPCI_OPT_UNSET, 0 or 1 */
    int seize;              /* XPCI_OPT_UNSET, 0 or 1 */
    int power_mgmt;         /* XPCI_OPT_UNSET, 0 or 1 */
    int rdm_policy;         /* XPCI_OPT_UNSET or enum xpci_rdm_policy */
    char *name;             /* name= (assignable device name) or NULL */
};

/*
 * Parse an xl PCI_SPEC_STRING.  Accepts and rejects what Xen 4.17's
 * libxlutil accepts and rejects, except where its behaviour is a known bug
 * (documented in spec.c).  On failure, if err_r is non-NULL, *err_r gets a
 * malloc'd message naming the offending part (caller frees).
 * Returns 0, -EINVAL (malformed) or -ENOMEM.  Free with xpci_spec_dispose().
 */
int xpci_spec_parse(const char *s, struct xpci_spec *spec_r, char **err_r);
void xpci_spec_init(struct xpci_spec *spec);
void xpci_spec_dispose(struct xpci_spec *spec);

/* ------------------------------------------------------------------ */
/* Backends                                                            */
/* ------------------------------------------------------------------ */

/*
 * Hypervisor backend.  The default talks to libxenctrl.  Every function
 * returns 0 (or a count) or -errno.  Hooks a backend cannot serve may be
 * NULL; the library then reports the fact as unknown / the step as
 * unsupported (-EOPNOTSUPP).
 */
struct xpci_hv_info {
    bool iommu_enabled;     /* XEN_SYSCTL_PHYSCAP_directio */
    bool hvm;               /* HVM guests possible */
    uint32_t max_domid_hint;
    /* The hypervisor's own version, "4.20.4" (XENVER_version and
     * XENVER_extraversion), or "" when the backend cannot tell. */
    char version[32];
};

struct xpci_rdm {
    uint64_t start_pfn;
    uint64_t nr_pages;
};

#define XPCI_DOMID_IO 0x7FF1U      /* Xen's DOMID_IO: the quarantine */
#define XPCI_DOMID_INVALID 0x7FF4U /* Xen's DOMID_INVALID: "no domain" */
#define XPCI_ASSIGN_RDM_RELAXED 1U /* XEN_DOMCTL_DEV_RDM_RELAXED */

struct xpci_hv_ops {
    void (*close)(void *priv);
    int (*physinfo)(void *priv, struct xpci_hv_info *info_r);
    /* SBDFs in the same IOMMU group as sbdf (may include sbdf itself);
     * returns the count, up to max, or -errno. */
    int (*device_group)(void *priv, uint32_t sbdf, uint32_t *sbdfs,
                        unsigned max);
    /* Reserved device memory ranges of sbdf; count (up to max), -errno,
     * or -ENOBUFS with *needed_r set when max is too small. */
    int (*rdm_map)(void *priv, uint32_t sbdf, struct xpci_rdm *ents,
                   unsigned max, unsigned *needed_r);
    int (*test_assign)(void *priv, uint32_t domid, uint32_t sbdf);
    int (*assign)(void *priv, uint32_t domid, uint32_t sbdf, uint32_t flags);
    int (*deassign)(void *priv, uint32_t domid, uint32_t sbdf);
    int (*iomem_permission)(void *priv, uint32_t domid, uint64_t first_mfn,
                            uint64_t nr_mfns, bool allow);
    int (*ioport_permission)(void *priv, uint32_t domid, uint32_t first_port,
                             uint32_t nr_ports, bool allow);
    int (*map_pirq)(void *priv, uint32_t domid, int irq, int *pirq_r);
    int (*unmap_pirq)(void *priv, uint32_t domid, int pirq);
    int (*irq_permission)(void *priv, uint32_t domid, int pirq, bool allow);
    /* 0 if the domain exists, -ESRCH if not (or while it is being
     * destroyed), -ESHUTDOWN if it has shut down for good (crashed,
     * powered off, rebooted: it runs no more, its toolstack destroys or
     * keeps it). */
    int (*domain_exists)(void *priv, uint32_t domid);
    /* enum xpci_domain_type of a running domain, or -ESRCH. */
    int (*domain_type)(void *priv, uint32_t domid);
    /* 1 if an HVM domain routes interrupts over event channels
     * (XEN_X86_EMU_USE_PIRQ: Xen up to 4.18 by default, hvm_pirq=1
     * since 4.19), 0 if not, -errno. */
    int (*domain_pirqs)(void *priv, uint32_t domid);
};

enum xpci_domain_type {
    XPCI_DOMAIN_PV = 1,
    XPCI_DOMAIN_HVM = 2, /* HVM and PVH (Xen's hvm_guest flag) */
};

/*
 * Xenstore backend.  The default talks to libxenstore.  Paths are absolute.
 * XPCI_XS_NO_TXN is "no transaction".  Every function returns 0 or -errno
 * (-ENOENT for a missing node, -EAGAIN when a transaction must be retried).
 */
#define XPCI_XS_NO_TXN 0U

enum xpci_xs_perm_flags {
    XPCI_XS_PERM_NONE = 0,
    XPCI_XS_PERM_READ = 1,
    XPCI_XS_PERM_WRITE = 2,
};

struct xpci_xs_perm {
    uint32_t domid;
    unsigned perms; /* enum xpci_xs_perm_flags */
};

struct xpci_xs_ops {
    void (*close)(void *priv);
    int (*txn_start)(void *priv, uint32_t *txn_r);
    int (*txn_end)(void *priv, uint32_t txn, bool abort);
    /* *val_r is malloc'd and NUL-terminated; caller frees. */
    int (*read)(void *priv, uint32_t txn, const char *path, char **val_r);
    int (*write)(void *priv, uint32_t txn, const char *path, const char *val);
    int (*mkdir)(void *priv, uint32_t txn, const char *path);
    int (*rm)(void *priv, uint32_t txn, const char *path);
    /* *names_r is a malloc'd array of malloc'd strings; caller frees. */
    int (*directory)(void *priv, uint32_t txn, const char *path,
                     char ***names_r, unsigned *n_r);
    /* perms[0] is the owner and the default for domains not listed. */
    int (*get_perms)(void *priv, uint32_t txn, const char *path,
                     struct xpci_xs_perm **perms_r, unsigned *n_r);
    int (*set_perms)(void *priv, uint32_t txn, const char *path,
                     const struct xpci_xs_perm *perms, unsigned n);
    int (*watch)(void *priv, const char *path, const char *token);
    int (*unwatch)(void *priv, const char *path, const char *token);
    /* Wait up to timeout_ms for a watch event; -ETIMEDOUT when none came.
     * *path_r and *token_r are malloc'd; caller frees. */
    int (*wait_watch)(void *priv, int timeout_ms, char **path_r,
                      char **token_r);
};

/*
 * Sysfs backend.  Paths are relative to the sysfs root ("bus/pci/devices").
 * The default does plain file I/O below the root given in the parameters;
 * a test backend may add kernel behaviour on writes (a write to a driver's
 * "bind" makes the device's "driver" link appear).  Reads go through the
 * root directly; only writes go through these hooks.
 */
struct xpci_sysfs_ops {
    /* Write val (len bytes) to the attribute at path; -errno on failure,
     * as the kernel would fail the write(2). */
    int (*write)(void *priv, int rootfd, const char *path, const char *val,
                 size_t len);
    /* Load a kernel module ("xen-pciback"); NULL: run modprobe(8). */
    int (*modprobe)(void *priv, const char *module);
};

enum xpci_ctx_flags {
    /* Do not consult the hypervisor at all (captured trees, tests). */
    XPCI_CTX_NO_HYPERVISOR = 1U << 0,
    /* Do not connect to xenstore. */
    XPCI_CTX_NO_XENSTORE = 1U << 1,
    /* Do not copy audit records to syslog (tests). */
    XPCI_CTX_NO_SYSLOG = 1U << 2,
};

struct xpci_params {
    const char *sysfs_root;    /* default "/sys" */
    const char *proc_root;     /* default "/proc" */
    const char *dev_root;      /* default "/dev" (probes /dev/xen/privcmd) */
    unsigned flags;            /* enum xpci_ctx_flags */
    const char *no_hv_reason;  /* reason shown with XPCI_CTX_NO_HYPERVISOR */
    const struct xpci_hv_ops *hv_ops; /* NULL: libxenctrl */
    void *hv_priv;
    const struct xpci_xs_ops *xs_ops; /* NULL: libxenstore */
    void *xs_priv;
    const struct xpci_sysfs_ops *sysfs_ops; /* NULL: plain writes */
    void *sysfs_priv;
    /* Where the persistent set, the journal and the lock live; default
     * LOCALSTATEDIR/lib/xpci. */
    const char *state_dir;
    /* Append-only audit log; default LOCALSTATEDIR/log/xpci/audit.log.
     * Every change also goes to syslog unless XPCI_CTX_NO_SYSLOG. */
    const char *audit_log;
    /* Where device models listen: <run_dir>/qmp-libxl-<domid>; default
     * "/var/run/xen". */
    const char *run_dir;
    /* Where modprobe's configuration is read (modprobe.d, files *.conf), for
     * the functions xen-pciback hides at boot; default "/etc" when
     * sysfs_root is the default too, else none is read. */
    const char *etc_root;
};

typedef struct xpci_ctx xpci_ctx;

/*
 * Create a library context.  params may be NULL for the defaults.  The
 * context opens even when Xen or xenstored is not there; the facts they
 * would give are then reported as unknown, with the reason from
 * xpci_ctx_hv_unavailable() / xpci_ctx_xs_unavailable().
 * Returns 0, -ENOENT/-ENOTDIR when the sysfs root can't be opened, -ENOMEM.
 * Backends passed in are closed (their close hook) by xpci_ctx_free().
 */
int xpci_ctx_new(xpci_ctx **ctx_r, const struct xpci_params *params);
void xpci_ctx_free(xpci_ctx *ctx);

/* NULL when the hypervisor backend is usable, else why it is not. */
const char *xpci_ctx_hv_unavailable(const xpci_ctx *ctx);
/* NULL when the xenstore backend is usable, else why it is not. */
const char *xpci_ctx_xs_unavailable(const xpci_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Discovery                                                           */
/* ------------------------------------------------------------------ */

enum xpci_bar_type {
    XPCI_BAR_UNUSED = 0,
    XPCI_BAR_IO,
    XPCI_BAR_MEM32,
    XPCI_BAR_MEM64,
};

#define XPCI_NUM_RESOURCES 7 /* BAR0..5 + expansion ROM (index 6) */

struct xpci_bar {
    enum xpci_bar_type type;
    bool prefetchable;
    uint64_t start;
    uint64_t size;
};

enum xpci_pcie_type {
    XPCI_PCIE_NONE = -1,        /* not PCI Express */
    XPCI_PCIE_ENDPOINT = 0,
    XPCI_PCIE_LEGACY_ENDPOINT = 1,
    XPCI_PCIE_RC_INTEGRATED = 9,
    XPCI_PCIE_RC_EVENT_COLLECTOR = 10,
    XPCI_PCIE_ROOT_PORT = 4,
    XPCI_PCIE_UPSTREAM_PORT = 5,
    XPCI_PCIE_DOWNSTREAM_PORT = 6,
    XPCI_PCIE_TO_PCI_BRIDGE = 7,
    XPCI_PCI_TO_PCIE_BRIDGE = 8,
};

/* Where a function is hidden from dom0 at the next boot. */
enum xpci_boot_hide {
    XPCI_BOOT_HIDE_CMDLINE = 1U << 0,  /* xen-pciback.hide= (kernel) */
    XPCI_BOOT_HIDE_MODPROBE = 1U << 1, /* options xen-pciback hide= */
    XPCI_BOOT_HIDE_XPCI = 1U << 2,     /* xpci's persistent set */
};

/* A fact that may not be known (unreadable, or needs the hypervisor). */
enum xpci_tristate {
    XPCI_UNKNOWN = -1,
    XPCI_NO = 0,
    XPCI_YES = 1,
};

/*
 * Everything xpci knows about one PCI function.  Read-only for callers;
 * owned by the host snapshot it came from.
 */
/* xpci_device.irq while the function's MSI is enabled: its legacy IRQ is
 * not known. */
#define XPCI_IRQ_UNKNOWN (-1)

struct xpci_device {
    struct xpci_bdf bdf;
    char bdf_str[XPCI_BDF_STRLEN];
    char *location;        /* stable path, e.g. "pci0000:00/1c.0/00.0" */
    char *sysfs_path;      /* relative to the sysfs root: "devices/pci…" */
    char *error;           /* why this device could not be read fully */

    uint16_t vendor, device, subsys_vendor, subsys_device;
    uint32_t class_code;   /* 24 bits: base << 16 | sub << 8 | prog-if */
    uint8_t revision;
    uint8_t header_type;   /* without the multifunction bit */
    bool multifunction;
    bool is_bridge;        /* header type 1 or 2 */
    bool is_host_bridge;   /* class 0x0600 */
    bool is_platform_bridge; /* any other class 0x06 function with header
                                type 0 (ISA/LPC, PCMCIA, ...), but 0x0680 */

    char *driver;          /* bound driver name, or NULL */
    char *driver_override; /* or NULL when "(null)" / absent */
    int iommu_group;       /* -1 when absent */
    int numa_node;         /* -1 when unknown */
    int irq;               /* legacy IRQ, 0 when none, XPCI_IRQ_UNKNOWN
                            * while MSI is enabled (the kernel then shows
                            * the MSI's IRQ instead) */
    struct xpci_bar bars[XPCI_NUM_RESOURCES];
    /* Another function with a memory BAR in a page that one of this
     * function's memory BARs uses (its bdf_str, owned by the same host
     * snapshot), or NULL: a guest given either gets the other's
     * registers in that page. */
    const char *bar_page_peer;

    /* From config space capabilities. */
    bool config_full;      /* more than the 64-byte header was readable */
    bool has_msi, has_msix, has_pm, has_sriov, has_af;
    /* MSI-X: table and PBA as BAR index (BIR) and offset, the table's
     * size in vectors; msix_table_bar -1 without MSI-X. */
    int msix_table_bar, msix_pba_bar;
    uint32_t msix_table_offset, msix_pba_offset;
    unsigned msix_vectors;
    enum xpci_pcie_type pcie_type;
    bool flr;              /* PCIe DevCap FLR or AF FLR */
    bool pm_no_soft_reset; /* PM NoSoftReset: D3->D0 resets nothing */
    bool acs;              /* has an ACS capability */

    char *reset_method;    /* kernel's reset_method, or NULL if absent;
                              "" when every method was disabled */
    bool has_reset;        /* a write to "reset" can reset it */
    int boot_vga;          /* -1 when absent, else 0/1 */

    /* Parent chain, closest first, up to the root port (BDF strings). */
    char **parents;
    unsigned n_parents;

    /* SR-IOV */
    bool is_vf;
    char *physfn;          /* PF BDF of a VF, or NULL */
    int sriov_totalvfs, sriov_numvfs; /* -1 when not a PF */
    char **virtfns;        /* VF BDFs of a PF */
    unsigned n_virtfns;

    /* Pciback */
    bool in_pciback_slots; /* listed in pciback's "slots" */
    /* listed in pciback's "permissive" (config space writes unfiltered);
     * XPCI_UNKNOWN for a function in pciback whose list can't be read */
    enum xpci_tristate pciback_permissive;
    unsigned hidden_at_boot; /* enum xpci_boot_hide bits: who hides it
                                at the next boot */

    /* Hypervisor view (XPCI_UNKNOWN when Xen is not consulted). */
    enum xpci_tristate xen_assignable; /* xc_test_assign_device(dom0)==0 */
    int xen_domid;         /* holder from xenstore (/libxl/pci/…/domid), -1 */
    bool libxl_assignable; /* /libxl/pci/<bdf> exists (hidden by xl/xpci) */
    char *libxl_driver_path; /* original driver recorded by libxl, or NULL */
    char *libxl_name;      /* name recorded by libxl, or NULL */

    /* dom0 use found under this device */
    char **netdevs;        /* network interfaces */
    unsigned n_netdevs;
    char **blockdevs;      /* whole disks and partitions */
    unsigned n_blockdevs;
    bool has_fb;           /* a framebuffer (console) lives on it */
};

struct xpci_host;

/*
 * Scan every PCI function under the context's sysfs root, plus the dom0
 * state the checks need (mounts, routes, swap) and, when available, the
 * hypervisor's view.  A device whose sysfs entries are malformed is still
 * listed, with ->error set.  Returns 0, -ENOENT when there is no PCI bus in
 * the tree, or -ENOMEM.
 */
int xpci_host_scan(xpci_ctx *ctx, struct xpci_host **host_r);
/* The same, leaving out what the caller does not need (flags below). */
#define XPCI_SCAN_NO_NUMA 0x1U /* numa_node stays -1: no check uses it */
int xpci_host_scan_with(xpci_ctx *ctx, unsigned flags,
                        struct xpci_host **host_r);
void xpci_host_free(struct xpci_host *host);

/*
 * A capture of the host for a bug report or a test: the PCI part of the
 * context's sysfs (the PCI device trees and what lives below them, the
 * bus/pci links and drivers, IOMMU groups, the class directories the
 * checks read and the virtual devices they point at, btrfs membership,
 * pciback's parameters), its proc files of mounts, swap, routes and
 * command line, and modprobe's configuration below the context's etc
 * root, written to fd as a tar archive of sys/, proc/ and etc/ that
 * xpci_capture_extract (and so --root) reads back.  Links stay relative,
 * config space binary; BAR and ROM contents are never read, MAC addresses
 * left out unless XPCI_CAPTURE_WITH_MAC.  Bounded in depth, entries and
 * bytes.  Returns 0 or -errno with a malloc'd reason in *why_r.
 */
#define XPCI_CAPTURE_WITH_MAC 0x1U
int xpci_capture(xpci_ctx *ctx, int fd, unsigned flags, char **why_r);
/*
 * Extract a capture read from fd into the empty directory dir, trusting
 * nothing in it: only directories, files and links under sys/, proc/ and
 * etc/modprobe.d/,
 * links that stay inside dir, nothing written through a link, bounded
 * sizes.  Returns 0 or -errno with a malloc'd reason in *why_r.
 */
int xpci_capture_extract(int fd, const char *dir, char **why_r);

size_t xpci_host_count(const struct xpci_host *host);
/* Devices in BDF order. */
const struct xpci_device *xpci_host_device(const struct xpci_host *host,
                                           size_t i);
/*
 * Find by BDF ("[DDDD:]BB:DD.F") or location path ("pci0000:00/1c.0/00.0").
 * Returns 0, -EINVAL (neither form), -ENODEV (no such device).
 */
int xpci_host_find(const struct xpci_host *host, const char *id,
                   const struct xpci_device **dev_r);

/*
 * Selectors: a comma-separated list of KEY=VALUE terms, all of which must
 * hold (the vocabulary of OpenStack Nova's [pci] device_spec):
 *   vendor=HHHH, device=HHHH   (also vendor_id=, product_id=; "*" any)
 *   class=H..                  a prefix of the 6-digit class code
 *   address=[DDDD:]BB:SS.F     each field hex or "*"; no domain: any
 *   location=PATTERN           fnmatch(3) on the location path; "*"
 *                              also matches "/"
 *   driver=NAME                the bound driver; "driver=" none bound
 *   pf=DEV                     the VFs of the PF DEV (BDF or location)
 *   numa=N                     the NUMA node
 * Parsing is strict: unknown or repeated keys, empty terms, malformed or
 * out-of-range values and selectors longer than XPCI_SELECTOR_MAX are
 * refused.  On failure, if err_r is non-NULL, *err_r gets a malloc'd
 * message quoting the selector (caller frees).  Returns 0, -EINVAL or
 * -ENOMEM; free the selector with xpci_selector_free().
 */
#define XPCI_SELECTOR_MAX 1024
struct xpci_selector;
int xpci_selector_parse(const char *expr, struct xpci_selector **sel_r,
                        char **err_r);
void xpci_selector_free(struct xpci_selector *sel);
/* Does dev of host satisfy every term of sel? */
bool xpci_selector_match(const struct xpci_selector *sel,
                         const struct xpci_host *host,
                         const struct xpci_device *dev);

/* Host-wide facts */
struct xpci_host_info {
    enum xpci_tristate xen_running;
    enum xpci_tristate iommu_enabled;
    const char *hv_unavailable; /* reason, or NULL */
    const char *xs_unavailable; /* reason, or NULL */
    /* The running hypervisor's version ("4.20.4"), or NULL if unknown. */
    const char *xen_version;
    /* The Xen release whose libxenctrl this build uses ("4.20"). */
    const char *built_for;
};
void xpci_host_get_info(const struct xpci_host *host,
                        struct xpci_host_info *info_r);

/*
 * PCI_SPEC_STRING options that this Xen release accepts and ignores: a
 * NULL-terminated list of option names; *why_r (static) says why.
 */
const char *const *xpci_spec_noop_options(const char **why_r);

/* ------------------------------------------------------------------ */
/* Assignability checks                                                */
/* ------------------------------------------------------------------ */

/* Ordered by severity for verdicts: pass < warn < unknown < fail. */
enum xpci_level {
    XPCI_LEVEL_PASS = 0,
    XPCI_LEVEL_WARN = 1,
    XPCI_LEVEL_UNKNOWN = 2,
    XPCI_LEVEL_FAIL = 3,
};

const char *xpci_level_name(enum xpci_level level);

struct xpci_check {
    const char *id;      /* stable identifier, e.g. "dom0.block" */
    enum xpci_level level;
    char *reason;        /* one line */
    char *remedy;        /* one line, or NULL when nothing is to be done */
};

struct xpci_report {
    const struct xpci_device *dev;
    enum xpci_level verdict; /* the most severe level of the checks */
    struct xpci_check *checks;
    unsigned n_checks;
    /* Functions that must be assigned together with dev (BDF strings,
     * dev itself not included). */
    char **together;
    unsigned n_together;
};

/*
 * Run every assignability check on dev.  Never fails on odd device state
 * (that becomes a failing check); returns 0 or -ENOMEM.
 */
int xpci_check_device(const struct xpci_host *host,
                      const struct xpci_device *dev,
                      struct xpci_report **report_r);
void xpci_report_free(struct xpci_report *report);

/* ------------------------------------------------------------------ */
/* Hiding functions from dom0 and giving them back                     */
/* ------------------------------------------------------------------ */

/* The longest name of an assignable function. */
#define XPCI_NAME_MAX 64
/*
 * Is name acceptable for an assignable function: 1 to XPCI_NAME_MAX
 * characters from A-Z a-z 0-9 . _ : + - ?  Nothing else is accepted (a
 * name lands in the persistent set, xenstore and the audit trail).
 */
bool xpci_name_valid(const char *name);

struct xpci_op_opts {
    /* assignable-add: a name for the (single) device; see
     * xpci_name_valid */
    const char *name;
    bool force;        /* proceed over warn-level dom0-use findings */
    bool rebind;       /* assignable-remove: rebind the original driver */
    bool dry_run;      /* plan only: change nothing */
    bool no_persist;   /* don't record the change in the persistent set */
    /* assignable-add: force for devs[i] alone (and the functions that go
     * with it), as with seize=1 in an xl config; NULL: none */
    const bool *force_each;
};

/*
 * What an operation did or would do.  plan lists every step (each sysfs
 * write, hypercall, xenstore change and state-file change) in order;
 * notes carry outcomes worth reporting (the reset method used, a device
 * skipped because it already was where asked).  error, when the call
 * failed, names the device and the step.
 */
struct xpci_result {
    char **plan;
    unsigned n_plan;
    unsigned n_done;    /* steps carried out (and undone, on failure) */
    char **notes;
    unsigned n_notes;
    char *error;
    bool rolled_back;   /* the failure was undone in full */
    char **undo_errors; /* undo steps that failed (should stay empty) */
    unsigned n_undo_errors;
};
void xpci_result_free(struct xpci_result *res);

/*
 * Hide functions from dom0: checks, then for each function (and those that
 * must go with it) driver_override, unbind, pciback new_slot + bind, reset,
 * quarantine (assign to DOMID_IO), libxl's xenstore record and the
 * persistent set.  All or nothing: on any failure every step done is undone
 * in reverse.  Idempotent: a function already hidden is left as it is.
 * *res_r is always set (even on failure) unless -ENOMEM.
 * Returns 0, -EINVAL (bad device), -ENODEV, -EPERM (a check refused it),
 * -EBUSY (locked or held by a domain) or the failing step's -errno.
 */
int xpci_assignable_add(xpci_ctx *ctx, const char *const *devs, unsigned n,
                        const struct xpci_op_opts *opts,
                        struct xpci_result **res_r);
/*
 * Give hidden functions back: de-quarantine (whether or not quarantined),
 * release from pciback, clear the override, with opts->rebind bind the
 * original driver and verify it came up.  Refused while a domain holds one.
 */
int xpci_assignable_remove(xpci_ctx *ctx, const char *const *devs,
                           unsigned n, const struct xpci_op_opts *opts,
                           struct xpci_result **res_r);

struct xpci_assignable {
    char bdf[XPCI_BDF_STRLEN];
    char *location;
    char *name;            /* or NULL */
    char *original_driver; /* or NULL when unknown */
    bool in_pciback;       /* bound to pciback now */
    /* In pciback and recorded as quarantined (libxl's record or the
     * persistent set), and Xen does not say a guest holds it: Xen cannot
     * tell dom0 from the quarantine, so this is what the records say. */
    bool quarantined;
    /* Xen's test-assign: XPCI_YES no guest holds it, XPCI_NO a guest
     * holds it (or Xen does not know it), XPCI_UNKNOWN not asked. */
    enum xpci_tristate xen_free;
    bool persistent;       /* in the persistent set */
    bool libxl_record;     /* /libxl/pci/<bdf> exists */
    int domid;             /* holder, or -1 */
    bool present;          /* the function exists now */
};
/* Functions hidden by xpci or by xl (pciback slots, libxl records and the
 * persistent set, merged). */
int xpci_assignable_list(xpci_ctx *ctx, struct xpci_assignable **list_r,
                         size_t *n_r);
void xpci_assignable_list_free(struct xpci_assignable *list, size_t n);

/* Undo an operation that a crash or kill interrupted (from the journal).
 * Returns 0 (nothing to do or undone), or -errno. */
int xpci_recover(xpci_ctx *ctx, struct xpci_result **res_r);

/*
 * Is the function bdf (as named in sysfs) in the persistent set?  Matches by
 * location path, so a renumbered bus never matches the wrong function.
 * Cheap: reads one sysfs link and the state file (for udev).  Returns 1, 0
 * or -errno.
 */
int xpci_persistent_match(xpci_ctx *ctx, const char *bdf);

/* At boot: re-hide and re-quarantine exactly the persistent set, matching
 * functions by location path. */
int xpci_reconcile(xpci_ctx *ctx, const struct xpci_op_opts *opts,
                   struct xpci_result **res_r);

/* ------------------------------------------------------------------ */
/* Giving functions to guests and taking them back                     */
/* ------------------------------------------------------------------ */

/* How long a guest or device model gets to answer, by default. */
#define XPCI_GUEST_TIMEOUT_MS 10000

struct xpci_attach_opts {
    bool dry_run;   /* plan only: change nothing */
    /* detach: when the guest does not release a function in time, take
     * it anyway (as xl pci-detach -f) */
    bool force;
    /* attach: make functions that are not assignable yet assignable first,
     * as if every spec said seize=1 */
    bool seize;
    int timeout_ms; /* guest / device model deadline; 0: the default */
};

/*
 * Resolve a domain given by name or by id.  *name_r (may be NULL) gets a
 * malloc'd copy of its name, or NULL when it has none.  Returns 0,
 * -ESRCH (no such domain), -ENOTCONN (no xenstore) or -errno.
 */
int xpci_domain_resolve(xpci_ctx *ctx, const char *domain, uint32_t *domid_r,
                        char **name_r);

/*
 * Give assignable functions to a running domain.  specs are xl
 * PCI_SPEC_STRINGs ("01:00.0@4,permissive=1", "name=nic0", "02:00.*").
 * For every function: xc_test_assign_device, the guest's permissions on
 * its BARs (iomem, ioport) and legacy IRQ (pirq), xc_assign_device with
 * the RDM flag of its rdm_policy, then for a PV guest pciback's backend
 * entries and the hot-plug handshake with pcifront, for an HVM guest
 * device_add of xen-pci-passthrough through the device model's QMP.  All
 * of the specs or none: on failure every step done is undone in reverse,
 * the functions end where they were (quarantined in pciback).  libxl's
 * xenstore layout is used throughout, so xl pci-list and xl destroy see
 * the result.  Returns 0, -ESRCH (no such domain), -EINVAL (bad spec),
 * -ENODEV, -EBUSY (held by another domain), -EPERM (not assignable),
 * -ETIMEDOUT (the guest did not answer) or the failing step's -errno.
 */
int xpci_attach(xpci_ctx *ctx, const char *domain, const char *const *specs,
                unsigned n, const struct xpci_attach_opts *opts,
                struct xpci_result **res_r);

/*
 * Take functions back from a domain into quarantine (assignable, in
 * pciback, owned by DOMID_IO).  devs are BDFs, specs or assignable names;
 * "BB:DD.*" takes every attached function of the slot.  Functions libxl
 * attached are handled the same way.  All or nothing, as xpci_attach.
 */
int xpci_detach(xpci_ctx *ctx, const char *domain, const char *const *devs,
                unsigned n, const struct xpci_attach_opts *opts,
                struct xpci_result **res_r);

struct xpci_attached {
    uint32_t domid;
    char *domain;          /* its name, or NULL */
    char bdf[XPCI_BDF_STRLEN];
    int vdevfn;            /* guest slot << 3 | function, -1 when unknown
                              (HVM: where the device model has it) */
    char *vdev;            /* the guest's address: pciback's for PV
                              ("0000:00:00.00"), "0000:00:SS.F" for HVM;
                              or NULL */
    int state;             /* state-N (XenbusState), -1 when absent; -1
                              for HVM, whose backend entry is a record */
    bool hvm;              /* an HVM guest's (through its device model) */
    int dm_present;        /* HVM: 1 the device model has it (query-pci),
                              0 it does not (unplugged, or the guest has
                              not let it go), -1 it did not answer; PV: -1 */
    char *name;            /* name-N, or NULL */
    char *opts;            /* opts-N verbatim, or NULL */
    int permissive;        /* XPCI_OPT_UNSET, 0 or 1 */
    int msitranslate;
    int power_mgmt;
    int rdm_policy;        /* XPCI_OPT_UNSET or enum xpci_rdm_policy */
    /* what pciback itself grants: listed in its "permissive" */
    enum xpci_tristate pciback_permissive;
};

/* Functions attached to domain (NULL: to every domain), in domain then
 * backend order.  Reads pciback's backend entries, so functions libxl
 * attached are listed too; for an HVM guest asks its device model
 * (query-pci) where each is. */
int xpci_attached_list(xpci_ctx *ctx, const char *domain,
                       struct xpci_attached **list_r, size_t *n_r);
void xpci_attached_list_free(struct xpci_attached *list, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* XPCI_H */
