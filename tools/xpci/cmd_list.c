/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cmd_list.c - "xpci list": every PCI function with its driver, who holds
 * it and whether it can be assigned; --json gives every fact discovered
 * (schema xpci-list/1, see xpci(8)).
 */
#include <stdlib.h>
#include <string.h>

#include "xpci-cli.h"

static const char *pcie_type_name(enum xpci_pcie_type t)
{
    switch (t) {
    case XPCI_PCIE_ENDPOINT: return "endpoint";
    case XPCI_PCIE_LEGACY_ENDPOINT: return "legacy-endpoint";
    case XPCI_PCIE_RC_INTEGRATED: return "rc-integrated";
    case XPCI_PCIE_RC_EVENT_COLLECTOR: return "rc-event-collector";
    case XPCI_PCIE_ROOT_PORT: return "root-port";
    case XPCI_PCIE_UPSTREAM_PORT: return "upstream-port";
    case XPCI_PCIE_DOWNSTREAM_PORT: return "downstream-port";
    case XPCI_PCIE_TO_PCI_BRIDGE: return "pcie-to-pci-bridge";
    case XPCI_PCI_TO_PCIE_BRIDGE: return "pci-to-pcie-bridge";
    default: return NULL;
    }
}

static const char *bar_type_name(enum xpci_bar_type t)
{
    switch (t) {
    case XPCI_BAR_IO: return "io";
    case XPCI_BAR_MEM32: return "mem32";
    case XPCI_BAR_MEM64: return "mem64";
    default: return "unused";
    }
}

static bool in_pciback(const struct xpci_device *d)
{
    return d->driver && !strcmp(d->driver, "pciback");
}

/* pciback's view of the function now and at the next boot, as XAPI
 * shows it; NULL when neither pciback nor a boot setting knows it. */
static const char *pciback_state(const struct xpci_device *d)
{
    bool boot = d->hidden_at_boot != 0;

    if (in_pciback(d))
        return boot ? "hidden" : "hidden now, comes back at next boot";
    if (boot)
        return "given back now, hidden again at next boot";
    if (d->in_pciback_slots)
        return "in pciback's slots, not bound to it";
    if (d->driver_override && !strcmp(d->driver_override, "pciback"))
        return "driver_override pciback, not bound to it";
    return NULL;
}

/* Who holds the function now (and whether that changes at boot). */
static void holder(const struct xpci_device *d, char *buf, size_t len)
{
    bool boot = d->hidden_at_boot != 0;

    if (d->xen_domid > 0)
        snprintf(buf, len, "domain %d", d->xen_domid);
    else if (d->xen_assignable == XPCI_NO)
        snprintf(buf, len, "a guest");
    else if (in_pciback(d))
        snprintf(buf, len, boot ? "pciback" : "pciback until boot");
    else if (boot)
        snprintf(buf, len, "dom0 until boot");
    else if (pciback_state(d))
        snprintf(buf, len, "dom0 (pciback pending)");
    else
        snprintf(buf, len, "dom0");
}

static void json_hex(json_gen g, const char *k, unsigned width,
                     unsigned long long v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%0*llx", (int)width, v);
    json_kv_str(g, k, buf);
}

static void json_device(json_gen g, const struct xpci_device *d,
                        const struct xpci_report *rep)
{
    char buf[64];

    json_map_open(g);
    json_kv_str(g, "bdf", d->bdf_str);
    json_kv_str(g, "location", d->location);
    json_kv_str(g, "sysfs_path", d->sysfs_path);
    json_kv_str(g, "name", out_device_name(d));
    json_hex(g, "vendor", 4, d->vendor);
    json_hex(g, "device", 4, d->device);
    json_hex(g, "subsystem_vendor", 4, d->subsys_vendor);
    json_hex(g, "subsystem_device", 4, d->subsys_device);
    json_hex(g, "class", 6, d->class_code);
    json_hex(g, "revision", 2, d->revision);
    json_kv_int(g, "header_type", d->header_type);
    json_kv_bool(g, "multifunction", d->multifunction);
    json_kv_bool(g, "bridge",
                 d->is_bridge || d->is_host_bridge || d->is_platform_bridge);
    json_kv_str(g, "pcie_type", pcie_type_name(d->pcie_type));
    json_kv_str(g, "driver", d->driver);
    json_kv_str(g, "driver_override", d->driver_override);
    json_str(g, "iommu_group");
    if (d->iommu_group >= 0)
        json_integer(g, d->iommu_group);
    else
        json_null(g);
    json_kv_int(g, "numa_node", d->numa_node);
    json_kv_int(g, "irq", d->irq);
    json_kv_bool(g, "msi", d->has_msi);
    json_kv_bool(g, "msix", d->has_msix);
    json_kv_bool(g, "flr", d->flr);
    json_kv_bool(g, "acs", d->acs);
    json_str(g, "reset_methods");
    json_array_open(g);
    if (d->reset_method) {
        char *copy = strdup(d->reset_method), *save = NULL;

        for (char *m = copy ? strtok_r(copy, " ", &save) : NULL; m;
             m = strtok_r(NULL, " ", &save))
            json_str(g, m);
        free(copy);
    }
    json_array_close(g);
    json_kv_tristate(g, "boot_vga", d->boot_vga < 0    ? XPCI_UNKNOWN
                                    : d->boot_vga ? XPCI_YES
                                                  : XPCI_NO);
    json_str(g, "bars");
    json_array_open(g);
    for (int i = 0; i < XPCI_NUM_RESOURCES; i++) {
        const struct xpci_bar *b = &d->bars[i];

        if (b->type == XPCI_BAR_UNUSED)
            continue;
        json_map_open(g);
        json_kv_int(g, "index", i);
        json_kv_str(g, "type", i == 6 ? "rom" : bar_type_name(b->type));
        json_kv_bool(g, "prefetchable", b->prefetchable);
        snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)b->start);
        json_kv_str(g, "start", buf);
        json_kv_u64(g, "size", b->size);
        json_map_close(g);
    }
    json_array_close(g);
    json_kv_strv(g, "parents", d->parents, d->n_parents);
    json_str(g, "sriov");
    json_map_open(g);
    json_kv_bool(g, "vf", d->is_vf);
    json_kv_str(g, "physfn", d->physfn);
    json_kv_int(g, "totalvfs", d->sriov_totalvfs);
    json_kv_int(g, "numvfs", d->sriov_numvfs);
    json_kv_strv(g, "virtfns", d->virtfns, d->n_virtfns);
    json_map_close(g);
    json_str(g, "pciback");
    json_map_open(g);
    json_kv_bool(g, "bound", in_pciback(d));
    json_kv_bool(g, "slot", d->in_pciback_slots);
    json_str(g, "hidden_at_boot");
    json_array_open(g);
    if (d->hidden_at_boot & XPCI_BOOT_HIDE_CMDLINE)
        json_str(g, "cmdline");
    if (d->hidden_at_boot & XPCI_BOOT_HIDE_MODPROBE)
        json_str(g, "modprobe");
    if (d->hidden_at_boot & XPCI_BOOT_HIDE_XPCI)
        json_str(g, "xpci");
    json_array_close(g);
    json_kv_str(g, "state", pciback_state(d));
    json_map_close(g);
    json_str(g, "xen");
    json_map_open(g);
    json_kv_tristate(g, "assignable", d->xen_assignable);
    json_str(g, "domid");
    if (d->xen_domid >= 0)
        json_integer(g, d->xen_domid);
    else
        json_null(g);
    json_kv_bool(g, "libxl_assignable", d->libxl_assignable);
    json_kv_str(g, "libxl_driver_path", d->libxl_driver_path);
    json_kv_str(g, "libxl_name", d->libxl_name);
    json_map_close(g);
    json_kv_strv(g, "netdevs", d->netdevs, d->n_netdevs);
    json_kv_strv(g, "blockdevs", d->blockdevs, d->n_blockdevs);
    json_kv_str(g, "error", d->error);
    json_kv_str(g, "verdict", xpci_level_name(rep->verdict));
    json_map_close(g);
}

int cmd_list(int argc, char **argv)
{
    const struct cmd_spec *self = cmd_lookup("list");
    struct cli_select sel = CLI_SELECT_INIT;
    const struct xpci_device **devs = NULL;
    struct xpci_host *host = NULL;
    xpci_ctx *ctx = NULL;
    struct table *t = NULL;
    json_gen g = NULL;
    bool json = false;
    size_t n;
    int idx = cli_getopt(self, argc, argv, &json, NULL, &sel);
    int rc = EXIT_OK;

    if (idx < 0 || idx != argc) {
        if (idx >= 0)
            cmd_usage(self, stderr);
        cli_select_free(&sel);
        return idx == -2 ? EXIT_OK : EXIT_USAGE;
    }
    if (cli_open_host(&ctx, 0, &host)) {
        cli_select_free(&sel);
        return EXIT_FAILED;
    }
    n = xpci_host_count(host);
    /* what the selectors pick; empty is an answer, not an error */
    if (sel.n && cli_select_run(self->name, &sel, host, false, &devs, &n)) {
        rc = EXIT_FAILED;
        goto out;
    }
    out_names_load(host);
    if (json) {
        g = json_open();
        json_map_open(g);
        json_kv_str(g, "schema", "xpci-list/1");
        json_host_info(g, host);
        json_str(g, "devices");
        json_array_open(g);
    } else {
        t = table_new(6);
        if (!t)
            abort();
        for (unsigned i = 0; i < 6; i++)
            table_add(t, (const char *[]){"BDF", "ID", "DRIVER", "HELD BY",
                                          "ASSIGNABLE", "DESCRIPTION"}[i],
                      NULL);
    }
    for (size_t i = 0; i < n; i++) {
        const struct xpci_device *d = devs ? devs[i]
                                           : xpci_host_device(host, i);
        struct xpci_report *rep = NULL;
        char id[16], held[48];
        int r = xpci_check_device(host, d, &rep);

        if (r < 0) {
            fprintf(stderr, "xpci: %s: checks failed: %s\n", d->bdf_str,
                    strerror(-r));
            rc = EXIT_FAILED;
            break;
        }
        if (json) {
            json_device(g, d, rep);
        } else {
            snprintf(id, sizeof(id), "%04x:%04x", d->vendor, d->device);
            holder(d, held, sizeof(held));
            table_add(t, d->bdf_str, NULL);
            table_add(t, id, NULL);
            table_add(t, d->driver, NULL);
            table_add(t, held, NULL);
            table_add(t, xpci_level_name(rep->verdict),
                      out_level_color(rep->verdict));
            table_add(t, out_device_name(d), NULL);
        }
        xpci_report_free(rep);
    }
    if (json) {
        json_array_close(g);
        json_map_close(g);
        json_close(g);
        fputc('\n', stdout);
    } else {
        table_print(t, stdout);
        table_free(t);
    }
    out_names_free();
out:
    free(devs);
    cli_select_free(&sel);
    xpci_host_free(host);
    xpci_ctx_free(ctx);
    return rc;
}
