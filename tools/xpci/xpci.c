/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xpci.c - the xpci command: global options, dispatch through the command
 * table, and the shared host opening.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xpci-cli.h"

const char *opt_root;
int opt_verbose;

static void main_usage(FILE *f)
{
    fprintf(f, "Usage: xpci [-v] [--root DIR] COMMAND [ARGS]\n\n"
               "PCI passthrough for Xen dom0.\n\n"
               "Global options:\n"
               "  --root DIR   read DIR/sys and DIR/proc instead of /sys and "
               "/proc\n"
               "               (also XPCI_ROOT); the hypervisor is not "
               "consulted\n"
               "  -v           more detail\n"
               "  -h, --help   this help\n"
               "  -V, --version\n\n"
               "Commands:\n");
    for (unsigned i = 0; i < cmd_table_n; i++)
        fprintf(f, "  %-18s %s\n", cmd_table[i].name, cmd_table[i].summary);
    fprintf(f, "\nxpci help COMMAND shows a command's options.\n");
}

int cmd_help(int argc, char **argv)
{
    const struct cmd_spec *cmd;

    if (argc < 2) {
        main_usage(stdout);
        return EXIT_OK;
    }
    cmd = cmd_lookup(argv[1]);
    if (!cmd) {
        fprintf(stderr, "xpci: unknown command '%s'\n", argv[1]);
        return EXIT_USAGE;
    }
    cmd_usage(cmd, stdout);
    return EXIT_OK;
}

int cli_getopt(const struct cmd_spec *cmd, int argc, char **argv,
               bool *json_r, bool *all_r, struct cli_select *sel)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, 'j'},
        {"all", no_argument, NULL, 'a'},
        CLI_COMMON_LONGOPTS,
        CLI_SELECT_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int c, r;

    optind = 0; /* afresh, and permute: options may follow operands */
    while ((c = getopt_long(argc, argv, "hja", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cmd_usage(cmd, stdout);
            return -2;
        case 'j':
            if (!json_r)
                goto bad;
            *json_r = true;
            break;
        case 'a':
            if (!all_r)
                goto bad;
            *all_r = true;
            break;
        default:
            r = cli_common_opt(cmd, sel, c, optarg);
            if (r < 0)
                return -1;
            if (!r)
                goto bad;
        }
    }
    if (sel && cli_select_check(cmd, sel) < 0)
        return -1;
    return optind;
bad:
    cmd_usage(cmd, stderr);
    return -1;
}

int cli_getopt_json_only(const struct cmd_spec *cmd, int argc, char **argv,
                         bool *json_r)
{
    int idx = cli_getopt(cmd, argc, argv, json_r, NULL, NULL);

    if (idx == -2)
        return EXIT_OK;
    if (idx >= 0 && idx != argc)
        cmd_usage(cmd, stderr);
    return idx == argc ? -1 : EXIT_USAGE;
}

int cli_open_ctx(xpci_ctx **ctx_r)
{
    struct xpci_params params = {0};
    char *sys = NULL, *proc = NULL, *why = NULL, *state = NULL, *audit = NULL;
    char *etc = NULL;
    int r;

    if (opt_root) {
        if (asprintf(&sys, "%s/sys", opt_root) < 0 ||
            asprintf(&proc, "%s/proc", opt_root) < 0 ||
            asprintf(&etc, "%s/etc", opt_root) < 0 ||
            asprintf(&state, "%s/var/lib/xpci", opt_root) < 0 ||
            asprintf(&audit, "%s/var/log/xpci/audit.log", opt_root) < 0 ||
            asprintf(&why, "reading a host tree (--root): the hypervisor "
                           "is not consulted") < 0) {
            fprintf(stderr, "xpci: out of memory\n");
            return EXIT_FAILED;
        }
        params.sysfs_root = sys;
        params.proc_root = proc;
        params.etc_root = etc;
        params.state_dir = state;
        params.audit_log = audit;
        params.flags = XPCI_CTX_NO_HYPERVISOR | XPCI_CTX_NO_XENSTORE |
                       XPCI_CTX_NO_SYSLOG;
        params.no_hv_reason = why;
    }
    r = xpci_ctx_new(ctx_r, &params);
    if (r < 0)
        fprintf(stderr, "xpci: cannot open sysfs at %s: %s\n",
                sys ? sys : "/sys", strerror(-r));
    free(sys);
    free(proc);
    free(etc);
    free(why);
    free(state);
    free(audit);
    return r < 0 ? EXIT_FAILED : EXIT_OK;
}

void cli_warn_tree(const char *op)
{
    if (!opt_root)
        return;
    fprintf(stderr,
            "xpci %s: WARNING: acting on the tree %s (--root or XPCI_ROOT), "
            "not on this host: its sys/ and var/lib/xpci are changed, the "
            "hypervisor and xenstore are not\n",
            op, opt_root);
}

int cli_open_host(xpci_ctx **ctx_r, unsigned scan_flags,
                  struct xpci_host **host_r)
{
    xpci_ctx *ctx = NULL;
    int r;

    if (cli_open_ctx(&ctx))
        return EXIT_FAILED;
    r = xpci_host_scan_with(ctx, scan_flags, host_r);
    if (r < 0) {
        fprintf(stderr, "xpci: cannot list PCI devices%s%s: %s\n",
                opt_root ? " under " : "", opt_root ? opt_root : "",
                strerror(-r));
        xpci_ctx_free(ctx);
        return EXIT_FAILED;
    }
    *ctx_r = ctx;
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const struct cmd_spec *cmd;
    int c;

    opt_root = getenv("XPCI_ROOT");
    if (opt_root && !*opt_root)
        opt_root = NULL;
    /* "+": stop at the command name; its options are its own. */
    while ((c = getopt_long(argc, argv, "+vhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            opt_root = optarg;
            break;
        case 'v':
            opt_verbose++;
            break;
        case 'h':
            main_usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("xpci %s\n", PACKAGE_VERSION);
            return EXIT_OK;
        default:
            main_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        main_usage(stderr);
        return EXIT_USAGE;
    }
    /* --root may name a capture: read it from a temporary tree */
    if (opt_root && cli_root_from_archive(opt_root, &opt_root))
        return EXIT_FAILED;
    cmd = cmd_lookup(argv[optind]);
    if (!cmd) {
        fprintf(stderr, "xpci: unknown command '%s'\n", argv[optind]);
        main_usage(stderr);
        return EXIT_USAGE;
    }
    return cmd->fn(argc - optind, argv + optind);
}
