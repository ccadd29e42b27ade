/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz-spec.c - libFuzzer target: xl's PCI_SPEC_STRING (xpci_spec_parse),
 * the BDF parser and device lookup by BDF, location path or name, on any
 * bytes.  Differential against Xen 4.17's libxlutil: where both parsers
 * accept a spec they must agree on the function, the virtual slot and
 * every flag given.  libxlutil's known bugs (tests/unit/test-spec.c) are
 * avoided: strings that make it read an uninitialised %n are not given to
 * it, and the options it reads differently (atoi booleans, rdm_policy) are
 * not compared.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

#include "fuzz.h"
#include "xlu-unsafe.h"
#include "xpci.h"

static XLU_Config *xlu;
static struct fuzz_host host;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    xlu = xlu_cfg_init(fopen("/dev/null", "w"), "fuzz");
    if (!xlu)
        abort();
    fuzz_host_build(&host);
    return 0;
}

static void differential(const char *s, const struct xpci_spec *ours)
{
    libxl_device_pci a;

    if (xlu_reads_uninitialised(s))
        return;
    libxl_device_pci_init(&a);
    if (xlu_pci_parse_spec_string(xlu, &a, s) == 0 && ours->has_bdf) {
        /* a function both accept is the same function */
        if (a.domain != ours->bdf.domain || a.bus != ours->bdf.bus ||
            a.dev != ours->bdf.dev ||
            (!ours->all_functions && a.func != ours->bdf.func)) {
            fprintf(stderr, "\"%s\": xpci %04x:%02x:%02x.%x, libxlutil "
                            "%04x:%02x:%02x.%x\n",
                    s, ours->bdf.domain, ours->bdf.bus, ours->bdf.dev,
                    ours->bdf.func, a.domain, a.bus, a.dev, a.func);
            abort();
        }
        if (ours->vslot >= 0 &&
            a.vdevfn != (unsigned)(ours->vslot << 3 |
                                   (ours->vfunc < 0 ? 0 : ours->vfunc))) {
            fprintf(stderr, "\"%s\": vdevfn 0x%x vs libxlutil 0x%x\n", s,
                    (unsigned)(ours->vslot << 3), a.vdevfn);
            abort();
        }
        if (ours->name && (!a.name || strcmp(a.name, ours->name))) {
            fprintf(stderr, "\"%s\": name differs\n", s);
            abort();
        }
    }
    libxl_device_pci_dispose(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    struct xpci_spec spec;
    struct xpci_bdf bdf;
    const struct xpci_device *d;
    char *err = NULL;

    if (xpci_spec_parse(s, &spec, &err) == 0) {
        if (err)
            abort(); /* a message only on failure */
        differential(s, &spec);
        xpci_spec_dispose(&spec);
    } else if (!err) {
        abort(); /* a refusal always says why */
    }
    free(err);
    if (xpci_bdf_parse(s, &bdf) == 0) {
        char back[XPCI_BDF_STRLEN];
        struct xpci_bdf again;

        /* what the parser accepts formats and parses back the same */
        xpci_bdf_format(&bdf, back);
        if (xpci_bdf_parse(back, &again) || xpci_bdf_cmp(&bdf, &again))
            abort();
    }
    xpci_host_find(host.host, s, &d);
    free(s);
    return 0;
}
