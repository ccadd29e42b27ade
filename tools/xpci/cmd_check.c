/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cmd_check.c - "xpci check": the assignability report, one block per
 * function (or JSON, schema xpci-check/1, see xpci(8)).  Exits 1 when any
 * requested function fails a check (with --all: any function but the
 * platform's bridges).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xpci-cli.h"

static void print_report(const struct xpci_report *rep)
{
    const struct xpci_device *d = rep->dev;
    struct table *t = table_new(3);

    if (!t)
        abort();
    printf("%s  %s  [%s]\n  %s\n", d->bdf_str, out_device_name(d),
           d->driver ? d->driver : "no driver",
           d->location ? d->location : "(location unknown)");
    printf("  verdict: %s%s%s\n", out_level_color(rep->verdict),
           xpci_level_name(rep->verdict), out_reset());
    for (unsigned i = 0; i < rep->n_checks; i++) {
        const struct xpci_check *c = &rep->checks[i];
        char indent_level[16];

        snprintf(indent_level, sizeof(indent_level), "  %s",
                 xpci_level_name(c->level));
        table_add(t, indent_level, out_level_color(c->level));
        table_add(t, c->id, NULL);
        table_add(t, c->reason, NULL);
        if (c->remedy && c->level != XPCI_LEVEL_PASS) {
            char *fix = NULL;

            if (asprintf(&fix, "-> %s", c->remedy) < 0)
                abort();
            table_add(t, "", NULL);
            table_add(t, "", NULL);
            table_add(t, fix, NULL);
            free(fix);
        }
    }
    table_print(t, stdout);
    table_free(t);
    if (rep->n_together) {
        printf("  goes together with:");
        for (unsigned i = 0; i < rep->n_together; i++)
            printf(" %s", rep->together[i]);
        printf("\n");
    }
    printf("\n");
}

static void json_report(json_gen g, const struct xpci_report *rep)
{
    const struct xpci_device *d = rep->dev;
    char buf[16];

    json_map_open(g);
    json_kv_str(g, "bdf", d->bdf_str);
    json_kv_str(g, "location", d->location);
    snprintf(buf, sizeof(buf), "%04x", d->vendor);
    json_kv_str(g, "vendor", buf);
    snprintf(buf, sizeof(buf), "%04x", d->device);
    json_kv_str(g, "device", buf);
    snprintf(buf, sizeof(buf), "%06x", d->class_code);
    json_kv_str(g, "class", buf);
    json_kv_str(g, "name", out_device_name(d));
    json_kv_str(g, "driver", d->driver);
    json_kv_str(g, "error", d->error);
    json_checks(g, rep);
    json_map_close(g);
}

/*
 * Host bridges, PCI bridges and the other bridge classes (ISA/LPC, ...:
 * device.endpoint fails) are the platform:
 * never candidates for a guest, so with --all their failure does not make
 * the exit status 1.  A function named on the command line always counts.
 */
static bool counts_for_exit(const struct xpci_device *d, bool all)
{
    return !all ||
           !(d->is_bridge || d->is_host_bridge || d->is_platform_bridge);
}

int cmd_check(int argc, char **argv)
{
    const struct cmd_spec *self = cmd_lookup("check");
    struct cli_select sel = CLI_SELECT_INIT;
    const struct xpci_device **devs = NULL, **picked = NULL;
    struct xpci_host *host = NULL;
    xpci_ctx *ctx = NULL;
    json_gen g = NULL;
    bool json = false, all = false;
    int idx = cli_getopt(self, argc, argv, &json, &all, &sel);
    int rc = EXIT_OK;
    size_t n = 0, n_ops, n_picked = 0;

    if (idx < 0) {
        cli_select_free(&sel);
        return idx == -2 ? EXIT_OK : EXIT_USAGE;
    }
    n_ops = (size_t)(argc - idx);
    if (all == (n_ops > 0 || sel.n > 0)) {
        fprintf(stderr,
                "xpci check: give either --all or devices (or --match)\n");
        cmd_usage(self, stderr);
        cli_select_free(&sel);
        return EXIT_USAGE;
    }
    if (cli_open_host(&ctx, XPCI_SCAN_NO_NUMA, &host)) {
        cli_select_free(&sel);
        return EXIT_FAILED;
    }
    if (sel.n &&
        cli_select_run(self->name, &sel, host, true, &picked, &n_picked)) {
        rc = EXIT_FAILED;
        goto out;
    }

    n = all ? xpci_host_count(host) : n_ops + n_picked;
    devs = calloc(n ? n : 1, sizeof(*devs));
    if (!devs)
        abort();
    for (size_t i = 0; i < n; i++) {
        int r;

        if (all) {
            devs[i] = xpci_host_device(host, i);
            continue;
        }
        if (i >= n_ops) {
            devs[i] = picked[i - n_ops];
            continue;
        }
        r = xpci_host_find(host, argv[idx + (int)i], &devs[i]);
        if (r == -EINVAL) {
            fprintf(stderr,
                    "xpci check: '%s' is neither a BDF ([DDDD:]BB:DD.F) nor a "
                    "location path (pci0000:00/1c.0/00.0)\n",
                    argv[idx + (int)i]);
            rc = EXIT_USAGE;
            goto out;
        }
        if (r < 0) {
            fprintf(stderr, "xpci check: %s: no such PCI function\n",
                    argv[idx + (int)i]);
            rc = EXIT_FAILED;
            goto out;
        }
    }

    out_names_load(host);
    if (json) {
        g = json_open();
        json_map_open(g);
        json_kv_str(g, "schema", "xpci-check/1");
        json_host_info(g, host);
        json_str(g, "devices");
        json_array_open(g);
    } else {
        out_host_header(host);
    }
    for (size_t i = 0; i < n; i++) {
        struct xpci_report *rep = NULL;
        int r = xpci_check_device(host, devs[i], &rep);

        if (r < 0) {
            fprintf(stderr, "xpci check: %s: %s\n", devs[i]->bdf_str,
                    strerror(-r));
            rc = EXIT_FAILED;
            break;
        }
        if (rep->verdict == XPCI_LEVEL_FAIL && counts_for_exit(devs[i], all))
            rc = EXIT_FAILED;
        if (json)
            json_report(g, rep);
        else
            print_report(rep);
        xpci_report_free(rep);
    }
    if (json) {
        json_array_close(g);
        json_map_close(g);
        json_close(g);
        fputc('\n', stdout);
    }
    out_names_free();
out:
    free(devs);
    free(picked);
    cli_select_free(&sel);
    xpci_host_free(host);
    xpci_ctx_free(ctx);
    return rc;
}
