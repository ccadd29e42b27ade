/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xpci-internal.h - what the library's files share: the context, cleanup
 * helpers, sysfs attribute readers and the default backends.  Internal
 * cross-file functions are named xpci__*.
 */
#ifndef XPCI_INTERNAL_H
#define XPCI_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "xpci.h"


/* ---- scope cleanup (systemd style) ---- */
static inline void xpci__freep(void *p)
{
    free(*(void **)p);
}
static inline void xpci__closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
void xpci__strv_freep(char ***strv);

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(xpci__freep)
#define _cleanup_close_ _cleanup_(xpci__closep)
#define _cleanup_strv_ _cleanup_(xpci__strv_freep)

/* Hand a pointer out of a cleanup scope. */
#define TAKE_PTR(p)                                                        \
    ({                                                                     \
        __typeof__(p) taken_ = (p);                                        \
        (p) = NULL;                                                        \
        taken_;                                                            \
    })
#define TAKE_FD(fd)                                                        \
    ({                                                                     \
        int taken_ = (fd);                                                 \
        (fd) = -1;                                                         \
        taken_;                                                            \
    })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the context ---- */
struct xpci_ctx {
    int sysfs_fd;  /* O_PATH directory: every sysfs access is relative */
    int proc_fd;   /* O_PATH directory of the proc root, or -1 */
    char *sysfs_root;
    char *proc_root;
    char *etc_root;  /* modprobe configuration is read below it */

    const struct xpci_hv_ops *hv;
    void *hv_priv;
    char *hv_why;  /* why hv is NULL */
    bool xen_absent; /* the probe found no Xen at all */

    const struct xpci_xs_ops *xs;
    void *xs_priv;
    char *xs_why;  /* why xs is NULL */

    const struct xpci_sysfs_ops *sysfs;
    void *sysfs_priv;

    char *state_dir;   /* persistent set, journal, lock */
    int state_fd;      /* state_dir once opened (state.c), or -1 */
    dev_t state_dev;   /* ... and what it is */
    ino_t state_ino;
    char *audit_log;
    char *run_dir;     /* device model QMP sockets */
    /* The running attach/detach: how long the guest gets, and what the
     * last step that waited for it found (pv.c, hvm.c). */
    int guest_timeout_ms;
    char *step_detail;
    char *step_note;   /* what a step that went on anyway wants said */
    bool step_untouched; /* the step that failed changed nothing */
    bool no_syslog;
};

/* ---- steps of a mutating operation (op.c) ---- */
enum xpci__step_kind {
    XPCI__STEP_NONE = 0,
    XPCI__STEP_WRITE,        /* write val to sysfs attribute path */
    XPCI__STEP_MODPROBE,     /* load module path */
    XPCI__STEP_RESET,        /* write "1" to path (a function's reset) */
    XPCI__STEP_QUARANTINE,   /* assign dev to DOMID_IO */
    XPCI__STEP_UNQUARANTINE, /* deassign dev from DOMID_IO */
    XPCI__STEP_XS_WRITE,     /* write val at xenstore path (dom0 only) */
    XPCI__STEP_XS_RM,        /* remove xenstore path */
    XPCI__STEP_STATE_ADD,    /* add line val to the persistent set */
    XPCI__STEP_STATE_DEL,    /* remove dev from the persistent set */
    /* Giving dev to a guest (grant.c, pv.c, hvm.c); path is the domid in
     * decimal. */
    XPCI__STEP_ASSIGN,       /* xc_assign_device(domid, dev, flags=val) */
    XPCI__STEP_DEASSIGN,     /* xc_deassign_device(domid, dev) */
    XPCI__STEP_IOMEM_ALLOW,  /* val "FIRST_MFN NR_MFNS" */
    XPCI__STEP_IOMEM_REVOKE,
    XPCI__STEP_IOPORT_ALLOW, /* val "FIRST_PORT NR_PORTS" */
    XPCI__STEP_IOPORT_REVOKE,
    XPCI__STEP_IRQ_ALLOW,    /* val IRQ: map the pirq, allow it */
    XPCI__STEP_IRQ_REVOKE,   /* disallow and unmap */
    XPCI__STEP_PV_ADD,       /* backend entry + hot-plug; val: see attach.h */
    XPCI__STEP_PV_REMOVE,
    XPCI__STEP_QMP_ADD,      /* device model device_add + backend entry */
    XPCI__STEP_QMP_DEL,
    /* pciback's permissive flag of dev (host_steps.c): set it; clear it
     * by taking dev out of pciback and back (only that forgets it). */
    XPCI__STEP_PERMISSIVE,
    XPCI__STEP_PERMISSIVE_CLEAR,
};

struct xpci__action {
    enum xpci__step_kind kind;
    char *path;
    char *val;
};

struct xpci__step {
    char dev[XPCI_BDF_STRLEN];
    struct xpci__action fwd;
    struct xpci__action undo; /* kind NONE: nothing to undo */
    int applied;              /* 1 changed something, 0 was a no-op,
                                 -1 unknown (interrupted) */
};

struct xpci__plan {
    struct xpci__step *steps;
    unsigned n, alloc;
    const char *op; /* "assignable-add", ... */
    /* The guest every step acts on (attach, detach): once it no longer
     * exists there is nothing to put back into it. */
    bool has_guest;
    uint32_t guest;
    /* A step that failed with -EINPROGRESS left what it began to the
     * guest (an attach the guest began taking): every step done so far
     * stays, nothing is undone. */
    bool keep_on_inprogress;
};

int xpci__plan_add(struct xpci__plan *plan, const char *dev,
                   enum xpci__step_kind kind, const char *path,
                   const char *val, enum xpci__step_kind undo_kind,
                   const char *undo_path, const char *undo_val);
void xpci__plan_dispose(struct xpci__plan *plan);
/* One line per action, for --dry-run and results; caller frees. */
char *xpci__action_describe(const char *dev, const struct xpci__action *a);
/* Run the plan under a journal; on failure undo what was done, in
 * reverse.  Fills res (plan, n_done, error, rolled_back). */
int xpci__plan_run(xpci_ctx *ctx, struct xpci__plan *plan,
                   struct xpci_result *res);
/* Describe the plan into res->plan without running it. */
int xpci__plan_describe(const struct xpci__plan *plan,
                        struct xpci_result *res);
int xpci__result_note(struct xpci_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int xpci__result_error(struct xpci_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * What a step kind is: its name in the journal, how it is performed
 * (act: 1 changed something, 0 was already so, -errno) and a line that
 * describes it (caller frees).  The undo of a step is a step of its own
 * kind, recorded beside it in the plan and the journal.  The module that
 * owns a kind provides its entry in a table ending with a NULL name;
 * steps.c gathers the tables, and op.c knows nothing but them.
 */
struct xpci__step_ops {
    enum xpci__step_kind kind;
    const char *name;
    int (*act)(xpci_ctx *ctx, const char *dev, const struct xpci__action *a);
    char *(*describe)(const char *dev, const struct xpci__action *a);
};
/* The entry of kind; never NULL (an unknown kind acts as "none"). */
const struct xpci__step_ops *xpci__step_ops(enum xpci__step_kind kind);
/* The kind named name in a journal; XPCI__STEP_NONE when unknown. */
enum xpci__step_kind xpci__step_kind_by_name(const char *name);
/* The tables of the modules (host_steps.c, grant.c, pv.c, hvm.c). */
extern const struct xpci__step_ops xpci__host_steps[];
extern const struct xpci__step_ops xpci__grant_steps[];
extern const struct xpci__step_ops xpci__pv_steps[];
extern const struct xpci__step_ops xpci__hvm_steps[];

/* ---- persistent set, lock, audit (state.c) ---- */
struct xpci__entry {
    char bdf[XPCI_BDF_STRLEN]; /* where it was last seen */
    char *location;
    char *driver; /* NULL: none / unknown */
    char *name;   /* NULL: none */
    char *ident;  /* xpci__identity_read's answer; NULL: not recorded */
};
int xpci__state_load(xpci_ctx *ctx, struct xpci__entry **ents_r, size_t *n_r);
void xpci__state_free(struct xpci__entry *ents, size_t n);
void xpci__entry_dispose(struct xpci__entry *e);
/* Does entry e stand for the function at (bdf, location)?  By location
 * when both have one, else by BDF. */
bool xpci__entry_is(const struct xpci__entry *e, const char *bdf,
                    const char *location);
/* One line of the set (escaped fields); caller frees; NULL on ENOMEM. */
char *xpci__state_line(const struct xpci__entry *e);
/* Parse a line of either format, strictly; -EBADMSG. */
int xpci__entry_parse(const char *line, struct xpci__entry *e);
/* Add the entry of line, replacing the one of the same function. */
int xpci__state_put(xpci_ctx *ctx, const char *line);
/* Remove the entry of the function at (bdf, location). */
int xpci__state_del(xpci_ctx *ctx, const char *bdf, const char *location);
/*
 * The state directory, opened once per context (O_NOFOLLOW) and refused
 * (-EPERM) unless owned by the effective user and not writable by group
 * or others; created first when create.  The fd stays the context's.
 */
int xpci__state_dirfd(xpci_ctx *ctx, bool create);
/* Why xpci__state_dirfd or xpci__state_open failed, for a message. */
const char *xpci__state_dir_why(int r);
/* Open a regular file of the state directory, never through a symlink;
 * O_CREAT creates the directory too.  Returns an fd or -errno. */
int xpci__state_open(xpci_ctx *ctx, const char *name, int flags, mode_t mode);
/* Read a file of the state directory whole (bounded); *buf_r malloc'd. */
int xpci__state_read(xpci_ctx *ctx, const char *name, char **buf_r);
int xpci__state_unlink(xpci_ctx *ctx, const char *name);

/* ---- a function's identity (identity.c) ---- */
/*
 * What the function at bdf is, as one string: vendor:device, subsystem
 * vendor:device, class, and the PCIe Device Serial Number when it has
 * one ("8086:10d3/8086:a01f/020000" + "/dsn=0123456789abcdef").  Returns
 * 0 or -errno (the function can't be identified).  Caller frees.
 */
int xpci__identity_read(xpci_ctx *ctx, const char *bdf, char **ident_r);

/* Exclusive lock on the state directory, waited for with a deadline;
 * returns an fd or -errno (-EBUSY when it stays held). */
int xpci__lock(xpci_ctx *ctx);
/* The same for an operation: why it could not be taken goes to res. */
int xpci__op_lock(xpci_ctx *ctx, struct xpci_result *res);
/* An operation's view of the host: the scan (flags as xpci__host_scan)
 * and one "chosen" flag per function, all false; a failure goes to res. */
int xpci__op_scan(xpci_ctx *ctx, unsigned flags, struct xpci_result *res,
                  struct xpci_host **host_r, bool **chosen_r);
void xpci__audit(xpci_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Files in the state directory. */
#define XPCI_STATE_FILE "assignable"
#define XPCI_JOURNAL_FILE "journal"
#define XPCI_LOCK_FILE "lock"

/* ---- host snapshot (scan.c, dom0*.c) ---- */
struct xpci__mount {
    unsigned major, minor;
    char *mountpoint;
    char *fstype;
    char *source;
    char *super_opts;
    /* Block devices the filesystem lives on, by name: the one its device
     * number names, or, for an anonymous one (btrfs, bcachefs, overlay:
     * 0:NN), those its source, btrfs membership or layers name. */
    char **on;
    unsigned n_on;
    bool pseudo;         /* on no device at all (proc, tmpfs, nfs, ...) */
    bool network;        /* a network filesystem (nfs, cifs, ...) */
    bool attributed;     /* pseudo, or every device behind it is known */
};

struct xpci__swapfile {
    char *path;
    ssize_t mount;       /* index of the mount holding it, or -1 */
};

/* "lower is used by upper" where no holders/ link says so: a loop device
 * whose backing file lives on lower, a bcache device cached on lower. */
struct xpci__stacking {
    char *lower, *upper;
};

struct xpci__netdev {
    char *name;
    size_t dev;          /* index of the PCI function in host->devs */
    bool up;
    bool default_route;
    /* The chain of upper devices (bridge, bond, VLAN, macvlan) it is
     * under, closest first, with what each is to the one below. */
    char **uppers;
    unsigned n_uppers;
    char *upper_route;   /* the upper holding the default route, or NULL */
    char *upper_up;      /* the first upper that is up, or NULL */
    bool net_root;       /* dom0's root filesystem comes through it */
};

struct xpci__blockdev {
    char *name;
    size_t dev;          /* index of the PCI function */
    char **users;        /* "nvme0n1p2 on /", "swap", via holders */
    unsigned n_users;
    bool root;           /* holds the root filesystem */
    bool incomplete;     /* too deep or too wide a stack to follow */
};

struct xpci_host {
    xpci_ctx *ctx;
    struct xpci_device *devs; /* sorted by BDF */
    size_t n;
    size_t *by_group;    /* indices of functions with an IOMMU group,
                            sorted by group */
    size_t n_by_group;
    struct xpci_host_info info;
    char xen_version[32]; /* info.xen_version points here */

    bool proc_known;     /* mounts, swaps and routes could be read */
    struct xpci__mount *mounts;
    size_t n_mounts;
    char **swaps;        /* block device names ("nvme0n1p3") */
    unsigned n_swaps;
    char **route_ifs;    /* interfaces holding a default route */
    unsigned n_route_ifs;
    char **console_ttys; /* active consoles ("tty0", "ttyS0") */
    unsigned n_console_ttys;

    char *net_root;      /* "nfs", "iscsi"... when / comes over the
                            network, else NULL */
    char *net_root_if;   /* the interface named by ip=, or NULL */
    struct xpci__swapfile *swap_files;
    size_t n_swap_files;
    struct xpci__stacking *stackings;
    size_t n_stackings;
    char **unattributed; /* mounts no device could be found for */
    unsigned n_unattributed;

    struct xpci__netdev *netdevs;
    size_t n_netdevs;
    size_t *netdevs_by_dev; /* indices into netdevs by function, each
                               function's in the order of netdevs */
    struct xpci__blockdev *blockdevs;
    size_t n_blockdevs;
    size_t *console_devs; /* functions a console tty lives on */
    size_t n_console_devs;
};

/* xpci_host_scan with flags: XPCI__SCAN_LIGHT reads the functions, pciback
 * and libxl's records only, not the hypervisor's view (a hypercall per
 * function) nor dom0's use of each function (what attach needs). */
#define XPCI__SCAN_LIGHT 0x100U
/* Public flags (XPCI_SCAN_*) pass through in the low byte. */
int xpci__host_scan(xpci_ctx *ctx, unsigned flags, struct xpci_host **host_r);
/* Index of the function whose sysfs path is the longest prefix of path
 * (a sysfs-relative "devices/..." path), or -1. */
ssize_t xpci__host_owner_of(const struct xpci_host *host, const char *path);
/* Location path ("pci0000:00/1c.0/00.0") of the function whose
 * bus/pci/devices link is bdf; caller frees. */
int xpci__location_of(xpci_ctx *ctx, const char *bdf, char **loc_r);
/* The functions of IOMMU group `group`: sets *first_r to their first
 * position in host->by_group and returns how many there are. */
size_t xpci__host_group(const struct xpci_host *host, int group,
                        size_t *first_r);
/* Index by BDF string, or -1. */
ssize_t xpci__host_index(const struct xpci_host *host, const char *bdf);
/* Read mounts, swaps, routes and what lives on each function (dom0.c). */
int xpci__dom0_scan(struct xpci_host *host);
void xpci__dom0_free(struct xpci_host *host);
/* Block side (dom0_block.c): mounts, swap, holders, what each function's
 * disks carry.  Network side (dom0_net.c): routes, interfaces, their
 * upper devices, a network root.  Both fill host; -ENOMEM only. */
int xpci__dom0_block_scan(struct xpci_host *host);
/* Mounts and swap (dom0_mounts.c), below the block side: fills
 * host->mounts, swaps, swap_files and unattributed. */
int xpci__dom0_mounts_scan(struct xpci_host *host);
void xpci__dom0_mounts_free(struct xpci_host *host);
/* The mount whose mountpoint is the longest prefix of path (the later of
 * two on one point), other than except; -1 when none. */
ssize_t xpci__mount_of_path(const struct xpci_host *host, const char *path,
                            ssize_t except);
void xpci__dom0_block_free(struct xpci_host *host);
int xpci__dom0_net_scan(struct xpci_host *host);
void xpci__dom0_net_free(struct xpci_host *host);
/* The interfaces of function dev: its first position in
 * host->netdevs_by_dev in *first_r, and how many it has. */
size_t xpci__host_netdevs(const struct xpci_host *host, size_t dev,
                          size_t *first_r);
/* Helpers shared by the dom0 files (dom0_class.c): the function a sysfs
 * entry ("class/net/eth0") lives on, or -1; a directory of the sysfs
 * tree, or NULL; the kernel command line (bounded), or NULL. */
ssize_t xpci__class_owner(struct xpci_host *host, const char *entry);
/* The same for the entry name of dir, a class directory opened as dirfd
 * (beneath the root): one readlinkat(2), no open of its own.  path_r (may
 * be NULL) gets the sysfs-relative path of the entry's own directory when
 * it has an owner. */
ssize_t xpci__class_owner_at(struct xpci_host *host, int dirfd,
                             const char *dir, const char *name,
                             char **path_r);
DIR *xpci__sysfs_opendir(struct xpci_host *host, const char *path);
/* The same, opened beneath the root (no link out of it followed). */
DIR *xpci__sysfs_opendir_beneath(struct xpci_host *host, const char *path);

/* The network interfaces below some (dom0_net_below.c). */
#define XPCI__NET_BELOW_DEPTH 8 /* as deep as the walk up goes */
#define XPCI__NET_BELOW_MAX 512
struct xpci__net_below {
    char **names;        /* every interface reached, breadth first */
    unsigned n;
    unsigned char depth[XPCI__NET_BELOW_MAX];
    bool below[XPCI__NET_BELOW_MAX]; /* a lower of one reached */
    bool all;            /* too many, or a required start is missing:
                            take every interface as below */
};
/*
 * Walk down lower_<name> links (brif/ or bonding/slaves where there are
 * none) from starts, XPCI__NET_BELOW_DEPTH deep; the first n_required
 * starts must exist in class/net.  0 or -ENOMEM; free b either way.
 */
int xpci__net_below(struct xpci_host *host, char *const *starts,
                    unsigned n_starts, unsigned n_required,
                    struct xpci__net_below *b);
bool xpci__net_is_below(const struct xpci__net_below *b, const char *name);
void xpci__net_below_free(struct xpci__net_below *b);
char *xpci__cmdline(xpci_ctx *ctx);
/* The value of parameter name on the command line ("ip", "root"), last
 * occurrence; NULL when absent; caller frees. */
char *xpci__cmdline_param(const char *cmdline, const char *name);
/* Which functions are hidden at boot (pciback_boot.c): sets each
 * function's hidden_at_boot.  -ENOMEM only. */
int xpci__pciback_boot_scan(struct xpci_host *host);

/* ---- checks from Xen's and Linux's sources (check_guest.c) ---- */
/* One check's result: id, level, reason and remedy (NULL: none). */
struct xpci__finding {
    const char *id;
    enum xpci_level level;
    char *reason;
    char *remedy;
};
void xpci__finding_dispose(struct xpci__finding *f);
/* Each fills f for dev; 0 or -ENOMEM.  "guest.mmio-hole": the memory
 * BARs against an HVM guest's default MMIO hole, with the mmio_hole= that
 * fits; "guest.pv-e820": a VF needs e820_host=1 in a PV guest;
 * "reset.quirk": a reset the kernel knows to be broken for the device. */
int xpci__check_mmio_hole(const struct xpci_device *dev,
                          struct xpci__finding *f);
int xpci__check_pv_e820(const struct xpci_device *dev,
                        struct xpci__finding *f);
int xpci__check_reset_quirk(const struct xpci_device *dev,
                            struct xpci__finding *f);
/* The interrupt line value that means "not connected" (PCI Local Bus
 * spec, Interrupt Line register); some firmware leaves it as a
 * function's legacy IRQ. */
#define XPCI__IRQ_NOT_CONNECTED 0xff
/* Whether dev's legacy IRQ, mapped as an HVM guest's pirq of the same
 * number (libxl, the device model), may be one the guest's kernel took
 * for its own emulated devices: Xen hands those out from 16 up. */
bool xpci__irq_may_be_guest_pirq(const struct xpci_device *dev);
/* What breaks when dev is reset, from the known quirks, or NULL; the
 * source that says so in *source_r. */
const char *xpci__reset_quirk(const struct xpci_device *dev,
                              const char **source_r);

/* ---- tar archives of host captures (tar.c) ---- */
struct xpci__tar {
    int fd;
    int err;          /* first error, then every call returns it */
    uint64_t bytes;   /* written so far */
    unsigned members;
};
/* Add a member (owner 0, time 0, pax headers for long names); 0 or the
 * first -errno. */
int xpci__tar_dir(struct xpci__tar *t, const char *path, unsigned mode);
int xpci__tar_file(struct xpci__tar *t, const char *path, unsigned mode,
                   const void *data, size_t len);
int xpci__tar_symlink(struct xpci__tar *t, const char *path,
                      const char *target);
/* The two zero blocks that end an archive. */
int xpci__tar_finish(struct xpci__tar *t);
/* Extract the archive read from fd into the empty directory dir: only
 * directories, files and links under sys/, proc/ and etc/modprobe.d/, links that stay in
 * the tree, nothing written through a link, sizes bounded.  0 or -errno
 * with a malloc'd reason in *why_r. */
int xpci__tar_extract(int fd, const char *dir, char **why_r);

/* Parse config space into dev (config.c); len is what could be read. */
void xpci__config_parse(struct xpci_device *dev, const uint8_t *cfg,
                        size_t len);

/* ---- small string helpers (util.c) ---- */
/*
 * One field of the journal or the persistent set: every byte outside
 * '!'..'~', and '%', as %XX; NULL as "%-" and "" as "%.".  Caller frees;
 * NULL on ENOMEM.
 */
char *xpci__escape(const char *s);
/* Its strict inverse: -EBADMSG for anything xpci__escape can't produce
 * (a cut or invalid escape, %00, a raw control byte). */
int xpci__unescape(const char *s, char **out_r);
/* asprintf that returns NULL on failure. */
char *xpci__sprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Append a copy of s to a NULL-terminated vector; 0 or -ENOMEM. */
int xpci__strv_push(char ***strv, unsigned *n, const char *s);
void xpci__strv_free(char **strv, unsigned n);
bool xpci__strv_contains(char *const *strv, unsigned n, const char *s);

/* ---- sysfs / procfs readers (util.c) ---- */
/*
 * Read a small attribute relative to dirfd in one pread(2), NUL-terminate,
 * strip one trailing newline.  Returns the length or -errno (-EFBIG when it
 * does not fit).
 */
ssize_t xpci__read_attr(int dirfd, const char *path, char *buf, size_t size);
/*
 * The same for name, one component of dirfd (no '/'), never followed when
 * it is a link (ELOOP): an attribute of a directory already opened.
 */
ssize_t xpci__read_attr_at(int dirfd, const char *name, char *buf,
                           size_t size);
/* xpci__read_attr_at as a number (strtol base 0), 0 or -errno. */
int xpci__read_long_at(int dirfd, const char *name, long *val_r);
/*
 * Read several attributes of one directory at once: every open, then every
 * read, then the closes (one close_range(2) when it can).  Text requests
 * behave as xpci__read_attr (buf NUL-terminated, one newline stripped,
 * -EFBIG when it does not fit); binary ones as xpci__read_bin.  len gets
 * the length or -errno.  Each name is opened from dirfd with O_NOFOLLOW
 * (an attribute is never a link).  At most XPCI__MAX_ATTR_REQS requests.
 * With fds_r (n entries), the fds stay open and are handed to the caller,
 * who closes them with xpci__close_fds, possibly with others of its own.
 */
#define XPCI__MAX_ATTR_REQS 16
struct xpci__attr_req {
    const char *name;
    void *buf;
    size_t size;
    bool binary;
    ssize_t len;
};
void xpci__read_attrs(int dirfd, struct xpci__attr_req *reqs, size_t n,
                      int *fds_r);
/* Close fds (-1 entries skipped), each run of consecutive numbers with
 * one close_range(2): every fd in such a run is the caller's. */
void xpci__close_fds(const int *fds, size_t n);
/* Longest file xpci__read_file reads. */
#define XPCI__READ_FILE_MAX (16u << 20)
/* Read a whole file of up to XPCI__READ_FILE_MAX bytes (else -EFBIG);
 * *buf_r malloc'd, NUL-terminated.  The readers open regular files only,
 * without blocking (a FIFO or device node in a tree is -EINVAL). */
ssize_t xpci__read_file(int dirfd, const char *path, char **buf_r);
/* The same from an open fd, refusing more than max bytes (-EFBIG). */
ssize_t xpci__read_fd(int fd, size_t max, char **buf_r);
/*
 * Open path beneath the directory dirfd and never outside it: no
 * absolute path, no ".." above it, no symlink leading out, no /proc magic
 * link (openat2 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; checked after the
 * fact where the kernel lacks openat2).  O_CLOEXEC is added.  AT_FDCWD
 * opens as openat(2) does.  Returns an fd or -errno (-EXDEV for a way
 * out).
 */
int xpci__open_beneath(int dirfd, const char *path, int flags, mode_t mode);
/* Is path absolute, or does any component of it say ".."? */
bool xpci__path_escapes(const char *path);
/* Read binary up to size bytes; returns the count or -errno. */
ssize_t xpci__read_bin(int dirfd, const char *path, void *buf, size_t size);
/* Attribute parsed as an integer (base 0: "0x" prefixes accepted). */
int xpci__read_long(int dirfd, const char *path, long *val_r);
/* readlinkat into a malloc'd string. */
int xpci__readlink(int dirfd, const char *path, char **target_r);
/* Last component of a symlink's target ("../../../bus/pci/drivers/e1000e"
 * -> "e1000e"). */
int xpci__readlink_base(int dirfd, const char *path, char **name_r);

/* Is dev listed in pciback's "permissive"?  XPCI_UNKNOWN when that list
 * cannot be read (pciback not loaded). */
enum xpci_tristate xpci__pciback_permissive(xpci_ctx *ctx, const char *dev);

/* Write an attribute under the sysfs root through the sysfs backend. */
int xpci__sysfs_write(xpci_ctx *ctx, const char *path, const char *val);

/* ---- default backends ---- */
/*
 * Open libxenctrl unless Xen is plainly absent.  On failure returns -errno
 * and a malloc'd reason in *why_r ("Xen is not running: /dev/xen/privcmd
 * absent").
 */
int xpci__hv_xenctrl_open(const char *dev_root, const char *proc_root,
                          const struct xpci_hv_ops **ops_r, void **priv_r,
                          char **why_r);
int xpci__xs_xenstore_open(const struct xpci_xs_ops **ops_r, void **priv_r,
                           char **why_r);

/* ---- xenstore helpers over the ops table (xs.c) ---- */
/*
 * Xenstore paths.  libxl keys its records of assignable functions as
 * DDDD-BB-SS-F ('-' where the BDF has ':' and '.'); the PCI backend of a
 * guest lives under dom0 with a single device index 0 for all functions.
 */
#define XPCI__XS_LIBXL_PCI "/libxl/pci"
#define XPCI__XS_LIBXL_KEY_FMT "%04x-%02x-%02x-%x"
#define XPCI__XS_LIBXL_KEY_LEN 13 /* "0000-01-00-0" plus NUL */
#define XPCI__XS_PCIBACK_FMT "/local/domain/0/backend/pci/%u/0"
#define XPCI__XS_PCIFRONT_FMT "/local/domain/%u/device/pci/0"

/* Read a node; -ENOENT if absent, -ENOTCONN if no xenstore. */
int xpci__xs_read(xpci_ctx *ctx, uint32_t txn, const char *path,
                  char **val_r);

/* Most attempts xpci__xs_txn_run makes before giving up with -EAGAIN. */
#define XPCI__XS_TXN_ATTEMPTS 16
/*
 * Run fn inside a transaction and commit; redo the whole transaction when
 * fn or the commit answers -EAGAIN (another writer touched a node the
 * transaction used), up to XPCI__XS_TXN_ATTEMPTS times.  On any other
 * failure of fn the transaction is abandoned and fn's result returned.
 * fn may run several times, so it must not keep side effects outside
 * xenstore.  A backend without transactions runs fn once with
 * XPCI_XS_NO_TXN.  Returns fn's (non-negative) result, or -errno.
 */
int xpci__xs_txn_run(xpci_ctx *ctx,
                     int (*fn)(xpci_ctx *, uint32_t txn, void *arg),
                     void *arg);

/*
 * Predicate for xpci__xs_wait_for: val is the node's value, NULL when the
 * node is absent.  Returns 1 when the wait is over, 0 to keep waiting,
 * -errno to give up with that error.
 */
typedef int (*xpci__xs_pred)(const char *val, void *arg);
/*
 * Wait until pred holds for the node at path, for at most timeout_ms (< 0:
 * no limit).  Built on a xenstore watch: the node is read at the start and
 * again on every event, never polled.  Returns 0, -ETIMEDOUT, -ENOTCONN
 * (no xenstore), -EOPNOTSUPP (backend without watches), pred's error or
 * the backend's.
 */
int xpci__xs_wait_for(xpci_ctx *ctx, const char *path, xpci__xs_pred pred,
                      void *arg, int timeout_ms);
/*
 * The general form: wait until cond(ctx, arg) answers 1 (0: keep waiting,
 * -errno: give up), evaluating it at the start and after every change at
 * or below any of the n_paths paths.
 */
int xpci__xs_wait_cond(xpci_ctx *ctx, const char *const *paths,
                       unsigned n_paths, int (*cond)(xpci_ctx *, void *),
                       void *arg, int timeout_ms);
/* The same for the common case: wait until the node reads expected, or,
 * when expected is NULL, until it is gone. */
int xpci__xs_wait_value(xpci_ctx *ctx, const char *path,
                        const char *expected, int timeout_ms);

/* The libxl record key of bdf ("0000-01-00-0") into buf
 * (XPCI__XS_LIBXL_KEY_LEN bytes), and back; the parser returns -EINVAL
 * for anything else. */
void xpci__xs_libxl_key(const struct xpci_bdf *bdf, char *buf);
int xpci__xs_libxl_key_parse(const char *key, struct xpci_bdf *bdf_r);

/* libxl's record of an assignable function, /libxl/pci/<key>/. */
struct xpci__libxl_record {
    struct xpci_bdf bdf;
    char *driver_path; /* original driver's sysfs dir, or NULL */
    char *name;        /* assignable name, or NULL */
    int domid;         /* domain holding it, -1 when none */
};
/* Read the record of bdf in one transaction.  Returns 0, -ENOENT when
 * there is none, -ENOTCONN without xenstore, or -errno. */
int xpci__xs_libxl_record(xpci_ctx *ctx, const struct xpci_bdf *bdf,
                          struct xpci__libxl_record *rec_r);
/* Every record under /libxl/pci, in one transaction, in the store's
 * order; keys that are not a BDF are skipped.  0 records when there is no
 * /libxl/pci at all. */
int xpci__xs_libxl_records(xpci_ctx *ctx, struct xpci__libxl_record **recs_r,
                           size_t *n_r);
void xpci__libxl_record_dispose(struct xpci__libxl_record *rec);
void xpci__libxl_records_free(struct xpci__libxl_record *recs, size_t n);

/* One function of a guest's PCI backend (index N of key-N, dev-N, ...). */
struct xpci__pciback_dev {
    unsigned index;
    struct xpci_bdf bdf;  /* dev-N */
    int vdevfn;           /* vdevfn-N (hex, written for HVM), -1 if absent */
    int state;            /* state-N (XenbusState), -1 if absent */
    char *opts;           /* opts-N verbatim, or NULL */
    char *vdev;           /* vdev-N (written by pciback), or NULL */
    char *name;           /* name-N, or NULL */
    /* opts-N parsed: XPCI_OPT_UNSET when not listed. */
    int msitranslate, power_mgmt, permissive;
    int rdm_policy;       /* XPCI_OPT_UNSET or enum xpci_rdm_policy */
};
/*
 * The functions attached to domid as its PCI backend in dom0 lists them
 * (num_devs entries), read in one transaction.  An entry without a
 * readable dev-N is skipped.  Returns 0 with *n_r = 0 when the domain has
 * no PCI backend; -ENOTCONN without xenstore; -errno.
 */
int xpci__xs_pciback_list(xpci_ctx *ctx, uint32_t domid,
                          struct xpci__pciback_dev **devs_r, size_t *n_r);
void xpci__pciback_list_free(struct xpci__pciback_dev *devs, size_t n);

/* Default sysfs write (plain open/write/close relative to rootfd). */
int xpci__sysfs_plain_write(void *priv, int rootfd, const char *path,
                            const char *val, size_t len);

#endif /* XPCI_INTERNAL_H */
