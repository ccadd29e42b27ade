/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cmd_assignable.c - "xpci assignable-add", "assignable-remove",
 * "assignable-list" and "recover": hiding functions from dom0, giving them
 * back, listing them, and undoing an interrupted operation.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "xpci-cli.h"

enum { OPT_DRY_RUN = 256, OPT_JSON, OPT_NO_PERSIST };

/* Shared by add and remove: parse, open, run, print. */
static int run_mutation(const char *op, int argc, char **argv, bool add)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"name", required_argument, NULL, 'n'},
        {"force", no_argument, NULL, 'f'},
        {"rebind", no_argument, NULL, 'r'},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"no-persist", no_argument, NULL, OPT_NO_PERSIST},
        {"json", no_argument, NULL, OPT_JSON},
        CLI_COMMON_LONGOPTS,
        CLI_SELECT_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const struct cmd_spec *self = cmd_lookup(op);
    struct cli_select sel = CLI_SELECT_INIT;
    struct xpci_op_opts opts = {0};
    char **devs = NULL;
    unsigned n = 0;
    struct xpci_result *res = NULL;
    xpci_ctx *ctx = NULL;
    bool json = false;
    int c, r;

    optind = 0; /* afresh, and permute: options may follow operands */
    while ((c = getopt_long(argc, argv, add ? "hn:f" : "hr", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'h':
            cmd_usage(self, stdout);
            cli_select_free(&sel);
            return EXIT_OK;
        case 'n':
            opts.name = optarg;
            break;
        case 'f':
            opts.force = true;
            break;
        case 'r':
            opts.rebind = true;
            break;
        case OPT_DRY_RUN:
            opts.dry_run = true;
            break;
        case OPT_NO_PERSIST:
            opts.no_persist = true;
            break;
        case OPT_JSON:
            json = true;
            break;
        default:
            r = cli_common_opt(self, &sel, c, optarg);
            if (r > 0)
                break;
            if (!r)
                cmd_usage(self, stderr);
            cli_select_free(&sel);
            return EXIT_USAGE;
        }
    }
    if ((optind >= argc && !sel.n) || (!add && (opts.name || opts.force)) ||
        (add && opts.rebind) || cli_select_check(self, &sel) < 0) {
        cmd_usage(self, stderr);
        cli_select_free(&sel);
        return EXIT_USAGE;
    }
    if (opts.name && !xpci_name_valid(opts.name)) {
        fprintf(stderr, "xpci %s: invalid name: a name is 1 to %d of "
                        "A-Z a-z 0-9 . _ : + -\n",
                op, XPCI_NAME_MAX);
        cli_select_free(&sel);
        return EXIT_USAGE;
    }
    r = cli_select_devs(op, &sel, argv + optind, (unsigned)(argc - optind),
                        &devs, &n);
    cli_select_free(&sel);
    if (r)
        return r;
    cli_warn_tree(op);
    if (cli_open_ctx(&ctx)) {
        cli_devs_free(devs);
        return EXIT_FAILED;
    }
    if (add)
        r = xpci_assignable_add(ctx, (const char *const *)devs, n, &opts,
                                &res);
    else
        r = xpci_assignable_remove(ctx, (const char *const *)devs, n, &opts,
                                   &res);
    cli_devs_free(devs);
    return out_finish(op, res, opts.dry_run, r, json, ctx);
}

int cmd_assignable_add(int argc, char **argv)
{
    return run_mutation("assignable-add", argc, argv, true);
}

int cmd_assignable_remove(int argc, char **argv)
{
    return run_mutation("assignable-remove", argc, argv, false);
}

int cmd_assignable_list(int argc, char **argv)
{
    const struct cmd_spec *self = cmd_lookup("assignable-list");
    struct xpci_assignable *list = NULL;
    xpci_ctx *ctx = NULL;
    bool json = false;
    size_t n = 0;
    int rc = cli_getopt_json_only(self, argc, argv, &json), r;

    if (rc >= 0)
        return rc;
    if (cli_open_ctx(&ctx))
        return EXIT_FAILED;
    r = xpci_assignable_list(ctx, &list, &n);
    if (r < 0) {
        fprintf(stderr, "xpci assignable-list: %s\n", strerror(-r));
        xpci_ctx_free(ctx);
        return EXIT_FAILED;
    }
    if (json) {
        json_gen g = json_open();

        json_map_open(g);
        json_kv_str(g, "schema", "xpci-assignable/1");
        json_str(g, "devices");
        json_array_open(g);
        for (size_t i = 0; i < n; i++) {
            json_map_open(g);
            json_kv_str(g, "bdf", list[i].bdf);
            json_kv_str(g, "location", list[i].location);
            json_kv_str(g, "name", list[i].name);
            json_kv_str(g, "original_driver", list[i].original_driver);
            json_kv_bool(g, "present", list[i].present);
            json_kv_bool(g, "in_pciback", list[i].in_pciback);
            json_kv_bool(g, "quarantined", list[i].quarantined);
            json_str(g, "xen_free");
            if (list[i].xen_free == XPCI_UNKNOWN)
                json_null(g);
            else
                json_bool(g, list[i].xen_free == XPCI_YES);
            json_kv_bool(g, "persistent", list[i].persistent);
            json_kv_bool(g, "libxl_record", list[i].libxl_record);
            json_str(g, "domid");
            if (list[i].domid >= 0)
                json_integer(g, list[i].domid);
            else
                json_null(g);
            json_map_close(g);
        }
        json_array_close(g);
        json_map_close(g);
        json_close(g);
        fputc('\n', stdout);
    } else {
        struct table *t = table_new(6);
        static const char *const head[] = {"BDF",        "NAME",
                                           "ORIG DRIVER", "STATE",
                                           "HELD BY",    "LOCATION"};

        for (unsigned k = 0; k < 6; k++)
            table_add(t, head[k], NULL);
        for (size_t i = 0; i < n; i++) {
            char held[32];

            snprintf(held, sizeof(held), list[i].domid > 0 ? "domain %d"
                                                          : "-",
                     list[i].domid);
            table_add(t, list[i].bdf, NULL);
            table_add(t, list[i].name, NULL);
            table_add(t, list[i].original_driver, NULL);
            table_add(t,
                      !list[i].present       ? "absent"
                      : list[i].xen_free == XPCI_NO ? "held (Xen)"
                      : list[i].quarantined  ? "quarantined"
                      : list[i].in_pciback   ? "pciback"
                                             : "recorded",
                      NULL);
            table_add(t, held, NULL);
            table_add(t, list[i].location, NULL);
        }
        table_print(t, stdout);
        table_free(t);
    }
    xpci_assignable_list_free(list, n);
    xpci_ctx_free(ctx);
    return EXIT_OK;
}

int cmd_recover(int argc, char **argv)
{
    const struct cmd_spec *self = cmd_lookup("recover");
    struct xpci_result *res = NULL;
    xpci_ctx *ctx = NULL;
    bool json = false;
    int rc = cli_getopt_json_only(self, argc, argv, &json), r;

    if (rc >= 0)
        return rc;
    cli_warn_tree("recover");
    if (cli_open_ctx(&ctx))
        return EXIT_FAILED;
    r = xpci_recover(ctx, &res);
    return out_finish("recover", res, false, r, json, ctx);
}
