/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * check_guest.c - checks about what a guest will need from its config to
 * use a function, and the known reset quirks of a function: facts the
 * kernel does not show, taken from Xen's and Linux's sources.  Each check
 * fills a finding that check.c adds to the report.
 */
#include <stdarg.h>
#include <stdio.h>

#include "xpci-internal.h"

#define KIB (1ULL << 10)
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

/*
 * A brief comment about the HVM MMIO hole: hvmloader puts the BARs of an
 * HVM guest's devices in a hole below 4 GiB that starts at
 * HVM_BELOW_4G_MMIO_START (0xf0000000, xen/include/public/hvm/e820.h) and
 * ends at RESERVED_MEMBASE (0xfc000000, tools/firmware/hvmloader/config.h):
 * 192 MiB for BARs.  With qemu-xen, the default device model, libxl
 * forbids hvmloader to move guest RAM out of the way
 * (hvmloader/allow-memory-relocate = 0, tools/libs/light/libxl_dm.c), so
 * the hole only grows as far as the guest's RAM leaves room; when the
 * BARs do not fit, hvmloader moves 64-bit BARs above 4 GiB, largest first
 * (tools/firmware/hvmloader/pci.c pci_setup).  xl's mmio_hole=MBYTES sets
 * the hole's size, 256 to 3840 (xl.cfg(5)); the hole's start must be
 * aligned to the largest BAR it holds.
 */
#define HOLE_START 0xf0000000ULL
#define HOLE_END 0xfc000000ULL
#define HOLE_BARS (HOLE_END - HOLE_START)
#define HOLE_RESERVED ((1ULL << 32) - HOLE_END) /* above the BARs */
#define MMIO_HOLE_MIN_MB 256ULL
#define MMIO_HOLE_MAX_MB 3840ULL

void xpci__finding_dispose(struct xpci__finding *f)
{
    free(f->reason);
    free(f->remedy);
    f->reason = f->remedy = NULL;
}

static int set(struct xpci__finding *f, const char *id, enum xpci_level level,
               char *remedy, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Fill f; takes remedy (may be NULL).  0 or -ENOMEM. */
static int set(struct xpci__finding *f, const char *id, enum xpci_level level,
               char *remedy, const char *fmt, ...)
{
    va_list ap;
    int r;

    f->id = id;
    f->level = level;
    f->remedy = remedy;
    va_start(ap, fmt);
    r = vasprintf(&f->reason, fmt, ap);
    va_end(ap);
    if (r < 0) {
        f->reason = NULL;
        xpci__finding_dispose(f);
        return -ENOMEM;
    }
    return 0;
}

/* "16 GiB", "272.5 MiB", "4 KiB": one decimal when not whole. */
static void size_str(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    uint64_t div = 1;

    while (u + 1 < ARRAY_SIZE(units) && n >= div * 1024) {
        div *= 1024;
        u++;
    }
    if (n % div == 0)
        snprintf(buf, len, "%llu %s", (unsigned long long)(n / div), units[u]);
    else
        snprintf(buf, len, "%.1f %s", (double)n / (double)div, units[u]);
}

static bool is_mem(const struct xpci_bar *b)
{
    return b->size && (b->type == XPCI_BAR_MEM32 || b->type == XPCI_BAR_MEM64);
}

/* The mmio_hole (MiB) that holds `bars` bytes of BARs whose largest is
 * `largest`, or 0 when none does. */
static uint64_t hole_for(uint64_t bars, uint64_t largest)
{
    uint64_t align = largest > MIB ? largest : MIB;
    uint64_t need = bars + HOLE_RESERVED;
    uint64_t mb;

    if (need / align > (1ULL << 32) / align)
        return 0;
    need = (need + align - 1) / align * align;
    mb = need / MIB;
    if (mb < MMIO_HOLE_MIN_MB)
        mb = MMIO_HOLE_MIN_MB;
    return mb <= MMIO_HOLE_MAX_MB ? mb : 0;
}

int xpci__check_mmio_hole(const struct xpci_device *d, struct xpci__finding *f)
{
    uint64_t total = 0, largest = 0, low = 0, low_largest = 0;
    unsigned big = 0;
    char tot[32], lg[32], why[160];
    uint64_t all_mb, low_mb;
    char *remedy;

    for (unsigned i = 0; i < XPCI_NUM_RESOURCES; i++) {
        const struct xpci_bar *b = &d->bars[i];

        if (!is_mem(b))
            continue;
        total += b->size;
        if (b->size > largest) {
            largest = b->size;
            big = i;
        }
        if (b->type != XPCI_BAR_MEM64) {
            low += b->size;
            if (b->size > low_largest)
                low_largest = b->size;
        }
    }
    size_str(total, tot, sizeof(tot));
    if (total <= HOLE_BARS)
        return set(f, "guest.mmio-hole", XPCI_LEVEL_PASS, NULL,
                   "memory BARs (%s) fit an HVM guest's default MMIO hole "
                   "(192 MiB below 4 GiB)",
                   total ? tot : "none");
    size_str(largest, lg, sizeof(lg));
    if (big == XPCI_NUM_RESOURCES - 1)
        snprintf(why, sizeof(why), "ROM: %s", lg);
    else
        snprintf(why, sizeof(why), "BAR %u: %s%s", big, lg,
                 d->bars[big].type == XPCI_BAR_MEM64 ? ", 64-bit" : "");
    all_mb = hole_for(total, largest);
    low_mb = low > HOLE_BARS ? hole_for(low, low_largest) : 0;
    if (all_mb)
        remedy = xpci__sprintf(
            "for an HVM guest set mmio_hole=%llu in its config (MiB below "
            "4 GiB: room for all its BARs); PV guests are unaffected",
            (unsigned long long)all_mb);
    else if (low <= HOLE_BARS)
        remedy = xpci__sprintf(
            "no mmio_hole holds %s below 4 GiB (at most 3840 MiB): an HVM "
            "guest gets its 64-bit BARs above 4 GiB, where hvmloader moves "
            "them when the hole is full, so it needs a 64-bit OS; its "
            "32-bit BARs fit the default hole",
            tot);
    else if (low_mb)
        remedy = xpci__sprintf(
            "no mmio_hole holds %s below 4 GiB (at most 3840 MiB): an HVM "
            "guest gets its 64-bit BARs above 4 GiB (a 64-bit OS); set "
            "mmio_hole=%llu for the BARs that must stay below 4 GiB",
            tot, (unsigned long long)low_mb);
    else
        remedy = xpci__sprintf(
            "its 32-bit BARs cannot fit below 4 GiB in any HVM guest; "
            "PV guests are unaffected");
    if (!remedy)
        return -ENOMEM;
    return set(f, "guest.mmio-hole", XPCI_LEVEL_WARN, remedy,
               "memory BARs total %s (largest %s): more than an HVM "
               "guest's default MMIO hole (192 MiB below 4 GiB, which "
               "hvmloader does not grow over guest RAM with qemu-xen)",
               tot, why);
}

/*
 * A brief comment about e820_host: a PV guest maps a passed-through BAR
 * at the same pseudo-physical address as the host's; with its default
 * memory map (one block of RAM) those addresses are RAM, and a pvops
 * Linux guest cannot map the BARs.  e820_host=1 gives it the host's map
 * and its holes (xl.cfg(5)).  xl sets it itself for a PV guest whose
 * config lists pci= devices at creation (tools/xl/xl_parse.c), not for a
 * guest that gets a device by hot-plug.  A VF's BARs sit inside its PF's
 * SR-IOV BAR windows, in the host's PCI holes.
 */
int xpci__check_pv_e820(const struct xpci_device *d, struct xpci__finding *f)
{
    char *remedy;

    if (!d->is_vf)
        return set(f, "guest.pv-e820", XPCI_LEVEL_PASS, NULL,
                   "not an SR-IOV VF");
    remedy = strdup("give a PV guest e820_host=1 in its config (xl sets it "
                    "when the config lists the VF in pci=, not for a "
                    "hot-plugged VF); HVM and PVH guests are unaffected");
    if (!remedy)
        return -ENOMEM;
    return set(f, "guest.pv-e820", XPCI_LEVEL_WARN, remedy,
               "SR-IOV VF of %s: its BARs lie in the host's PCI holes, "
               "which a PV guest's default memory map covers with RAM",
               d->physfn ? d->physfn : "an unknown PF");
}

/*
 * Reset quirks the kernel knows and the reset_method file does not show:
 * what breaks, and where it is written down.  Devices matched on vendor
 * and device (or class), each with its source.
 */
struct reset_quirk {
    uint16_t vendor;
    uint16_t device, device_mask; /* device & mask == device */
    uint32_t class_code;          /* base << 8 | sub, 0: any */
    const char *what;
    const char *source;
};

#define ANY_DEVICE 0x0000, 0x0000
static const struct reset_quirk reset_quirks[] = {
    {0x1002, ANY_DEVICE, 0x0300,
     "AMD/ATI GPU: a D3hot->D0 transition leaves it as it was (frame "
     "buffer, display), so no PM reset; many such GPUs have no working "
     "FLR or bus reset either and keep state from one guest to the next",
     "Linux drivers/pci/quirks.c quirk_no_pm_reset (PCI_VENDOR_ID_ATI, "
     "PCI_CLASS_DISPLAY_VGA)"},
    {0x1022, 0x1487, 0xffff, 0,
     "AMD Starship/Matisse HD Audio: FLR hangs the device",
     "Linux drivers/pci/quirks.c quirk_no_flr (AMD 0x1487)"},
    {0x1022, 0x148c, 0xffff, 0,
     "AMD Starship USB 3.0 controller: FLR hangs the device",
     "Linux drivers/pci/quirks.c quirk_no_flr (AMD 0x148c)"},
    {0x1022, 0x149c, 0xffff, 0,
     "AMD Matisse USB 3.0 controller: FLR hangs the device",
     "Linux drivers/pci/quirks.c quirk_no_flr (AMD 0x149c)"},
    {0x1022, 0x7901, 0xffff, 0, "AMD FCH SATA (AHCI): FLR leaves it unusable",
     "Linux drivers/pci/quirks.c quirk_no_flr (AMD 0x7901)"},
    {0x8086, 0x1502, 0xffff, 0, "Intel 82579LM: FLR may hang the device",
     "Linux drivers/pci/quirks.c quirk_no_flr (Intel 0x1502)"},
    {0x8086, 0x1503, 0xffff, 0, "Intel 82579V: FLR may hang the device",
     "Linux drivers/pci/quirks.c quirk_no_flr (Intel 0x1503)"},
    {0x8086, 0x15bc, 0xffff, 0,
     "Intel I219-V: erratum, the Advanced Features capability (its FLR) "
     "is missing from the capability list, so the kernel finds no FLR",
     "QubesOS/qubes-linux-kernel pull request 1380 (I219 AF FLR quirk, "
     "not in mainline Linux)"},
    {0x10de, 0x2340, 0xffc0, 0, "NVIDIA GPU: a secondary bus reset breaks it",
     "Linux drivers/pci/quirks.c quirk_nvidia_no_bus_reset "
     "((device & 0xffc0) == 0x2340)"},
    {0x168c, 0x0030, 0xffff, 0, "Atheros Wi-Fi: bus reset breaks it",
     "Linux drivers/pci/quirks.c quirk_no_bus_reset (Atheros 0x0030)"},
    {0x168c, 0x0032, 0xffff, 0, "Atheros Wi-Fi: bus reset breaks it",
     "Linux drivers/pci/quirks.c quirk_no_bus_reset (Atheros 0x0032)"},
    {0x168c, 0x0033, 0xffff, 0, "Atheros Wi-Fi: bus reset breaks it",
     "Linux drivers/pci/quirks.c quirk_no_bus_reset (Atheros 0x0033)"},
    {0x168c, 0x0034, 0xffff, 0, "Atheros Wi-Fi: bus reset breaks it",
     "Linux drivers/pci/quirks.c quirk_no_bus_reset (Atheros 0x0034)"},
    {0x168c, 0x003c, 0xffff, 0, "Atheros Wi-Fi: bus reset breaks it",
     "Linux drivers/pci/quirks.c quirk_no_bus_reset (Atheros 0x003c)"},
    {0x177d, 0xa100, 0xffff, 0, "Cavium ThunderX: bus reset does not work",
     "Linux drivers/pci/quirks.c quirk_no_bus_reset (Cavium 0xa100)"},
    {0x1b21, 0x1164, 0xffff, 0,
     "ASMedia ASM1164 SATA: after a bus reset the link fails to retrain",
     "Linux drivers/pci/quirks.c quirk_no_bus_reset (ASMedia 0x1164)"},
};

const char *xpci__reset_quirk(const struct xpci_device *d,
                              const char **source_r)
{
    for (size_t i = 0; i < ARRAY_SIZE(reset_quirks); i++) {
        const struct reset_quirk *q = &reset_quirks[i];

        if (d->vendor != q->vendor ||
            (d->device & q->device_mask) != q->device ||
            (q->class_code && (d->class_code >> 8) != q->class_code))
            continue;
        if (source_r)
            *source_r = q->source;
        return q->what;
    }
    return NULL;
}

int xpci__check_reset_quirk(const struct xpci_device *d,
                            struct xpci__finding *f)
{
    const char *source = NULL;
    const char *what = xpci__reset_quirk(d, &source);
    char *remedy;

    if (!what)
        return set(f, "reset.quirk", XPCI_LEVEL_PASS, NULL,
                   "no known reset quirk for %04x:%04x", d->vendor, d->device);
    remedy = xpci__sprintf("give it to one trusted guest and reboot the "
                           "host before giving it to another (source: %s)",
                           source);
    if (!remedy)
        return -ENOMEM;
    return set(f, "reset.quirk", XPCI_LEVEL_WARN, remedy, "%04x:%04x: %s",
               d->vendor, d->device, what);
}

/*
 * Xen's get_free_pirq hands a guest that asks for a pirq of its own (a
 * Linux HVM guest with XENFEAT_hvm_pirqs, for each emulated interrupt
 * line) the first free one from 16 up; below 16 none is handed out.
 */
bool xpci__irq_may_be_guest_pirq(const struct xpci_device *dev)
{
    return dev->irq >= 16 && dev->irq != XPCI__IRQ_NOT_CONNECTED;
}
