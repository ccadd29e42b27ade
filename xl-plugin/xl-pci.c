/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xl-pci.c - xl's pci-* commands on libxpci: the same arguments, options,
 * output and exit codes as xl 4.17's, so that a script moves over by
 * changing "xl" to "xl-pci".
 *
 *   xl-pci [-v] [-f] [-t] [-T] [-N] COMMAND [ARGS]
 *
 * The interface kept from xl (tools/xl/xl_pci.c, xl_cmdtable.c, xl.c and
 * xl_utils.c of Xen 4.17):
 * - exit 0 on success, 1 when the operation failed, 2 for a usage error,
 *   a malformed BDF or a malformed PCI_SPEC_STRING; an unknown command, an
 *   unknown global option, no command, and -N (which no pci command has)
 *   exit 1;
 * - a command's options come before its operands: xl's first getopt()
 *   with "+" leaves glibc in that mode for the command's own, so what
 *   follows the operands (even "-f") is ignored, as are operands beyond
 *   the required ones; -h prints the help and exits 0, a missing operand
 *   exits 2;
 * - a domain made only of digits is a domain id taken as it is (the empty
 *   string is domain 0); anything else is a name, and an unknown name
 *   exits 1 before the other operands are looked at;
 * - pci-list prints "Vdev Device" and one "SS.F DDDD:BB:DD.F" line per
 *   function, and nothing at all when the domain has none; it, and
 *   pci-assignable-list ("DDDD:BB:DD.F NAME" with a space even when there
 *   is no name), exit 0 whenever the domain was found;
 * - pci-assignable-remove tries its operand as a name first.
 * Where xl's libxlutil accepts a BDF with trailing junk ("01:00.0x"), we
 * refuse it as malformed.  What libxpci adds is kept: its checks run
 * before a function is taken from dom0 (the global -f overrides the
 * warnings about dom0's use, as --force does for xpci), and every change
 * is one transaction.  As with xl, pci-assignable-add does not survive a
 * reboot (xpci assignable-add does).
 *
 * XPCI_ROOT, as for xpci, reads a captured host tree without Xen.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpci.h"

#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

struct xlpci_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    int nargs; /* operands required */
    const char *summary;
    const char *usage;
    const char *options; /* or NULL */
};

static const struct xlpci_cmd *lookup(const char *name);

static bool opt_force;  /* global -f */
static int opt_verbose; /* global -v */

/* ------------------------------------------------------------ helpers */

static void cmd_help(const struct xlpci_cmd *cmd, FILE *f)
{
    fprintf(f, "Usage: xl-pci [-vf] %s %s\n\n%s.\n", cmd->name, cmd->usage,
            cmd->summary);
    if (cmd->options)
        fprintf(f, "\nOptions:\n%s", cmd->options);
}

/*
 * getopt for one command, with xl's rules: -h/--help shows the help and
 * exits 0; an unknown option or fewer than nargs operands exits 2.
 * Returns the option character, or -1 when the options are done.
 */
static int cmd_getopt(const struct xlpci_cmd *cmd, int argc, char **argv,
                      const char *optstring, const struct option *longopts)
{
    static const struct option help_only[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    opterr = 0;
    c = getopt_long(argc, argv, optstring, longopts ? longopts : help_only,
                    NULL);
    if (c == 'h') {
        cmd_help(cmd, stdout);
        exit(EXIT_OK);
    }
    if (c == '?' || c == ':') {
        if (optopt && strchr(optstring, optopt))
            fprintf(stderr, "xl-pci %s: option -%c needs a value\n", cmd->name,
                    optopt);
        else if (optopt)
            fprintf(stderr, "xl-pci %s: option -%c not supported\n", cmd->name,
                    optopt);
        else
            fprintf(stderr, "xl-pci %s: option %s not supported\n", cmd->name,
                    argv[optind - 1]);
        exit(EXIT_USAGE);
    }
    if (c != -1)
        return c;
    if (argc - optind < cmd->nargs) {
        fprintf(stderr, "xl-pci %s: needs %d operand%s\n\n", cmd->name,
                cmd->nargs, cmd->nargs > 1 ? "s" : "");
        cmd_help(cmd, stderr);
        exit(EXIT_USAGE);
    }
    return -1;
}

/* Open the library (XPCI_ROOT honoured).  op: the command, when it
 * changes things (a tree then gets a warning on stderr), else NULL. */
static xpci_ctx *open_ctx(const char *op)
{
    const char *root = getenv("XPCI_ROOT");
    struct xpci_params params = {0};
    char *sys = NULL, *proc = NULL, *state = NULL, *audit = NULL;
    xpci_ctx *ctx = NULL;
    int r;

    if (root && *root) {
        if (asprintf(&sys, "%s/sys", root) < 0 ||
            asprintf(&proc, "%s/proc", root) < 0 ||
            asprintf(&state, "%s/var/lib/xpci", root) < 0 ||
            asprintf(&audit, "%s/var/log/xpci/audit.log", root) < 0) {
            fprintf(stderr, "xl-pci: out of memory\n");
            exit(EXIT_FAILED);
        }
        params.sysfs_root = sys;
        params.proc_root = proc;
        params.state_dir = state;
        params.audit_log = audit;
        params.flags =
            XPCI_CTX_NO_HYPERVISOR | XPCI_CTX_NO_XENSTORE | XPCI_CTX_NO_SYSLOG;
        params.no_hv_reason = "reading a host tree (XPCI_ROOT)";
        if (op)
            fprintf(stderr,
                    "xl-pci %s: WARNING: acting on the tree %s (XPCI_ROOT), "
                    "not on this host: its sys/ and var/lib/xpci are "
                    "changed, the hypervisor and xenstore are not\n",
                    op, root);
    }
    r = xpci_ctx_new(&ctx, &params);
    free(sys);
    free(proc);
    free(state);
    free(audit);
    if (r < 0) {
        fprintf(stderr, "xl-pci: cannot open sysfs: %s\n", strerror(-r));
        exit(EXIT_FAILED);
    }
    return ctx;
}

/*
 * xl's find_domain(): digits only (or nothing) is a domain id, taken
 * without asking whether it exists; anything else must name a domain.
 * Writes the domain id, in decimal, to buf.  Exits 1 on an unknown name.
 */
static void find_domain(xpci_ctx *ctx, const char *dom, char *buf, size_t len)
{
    uint32_t domid;
    const char *p;
    int r;

    for (p = dom; *p && isdigit((unsigned char)*p); p++)
        ;
    if (!*p) {
        snprintf(buf, len, "%" PRIu32, (uint32_t)strtoul(dom, NULL, 10));
        return;
    }
    r = xpci_domain_resolve(ctx, dom, &domid, NULL);
    if (r < 0) {
        fprintf(stderr, "xl-pci: %s is not a domain: %s\n", dom,
                r == -ESRCH ? "no domain has that name"
                : r == -ENOTCONN && xpci_ctx_xs_unavailable(ctx)
                    ? xpci_ctx_xs_unavailable(ctx)
                    : strerror(-r));
        exit(EXIT_FAILED);
    }
    snprintf(buf, len, "%" PRIu32, domid);
}

/* A plain BDF as xl's pci-assignable-* read it; canonical form in buf. */
static bool parse_bdf(const char *s, char *buf)
{
    struct xpci_spec spec;
    bool ok;

    if (xpci_spec_parse(s, &spec, NULL) < 0)
        return false;
    ok = spec.has_bdf && !spec.name && spec.vslot < 0 &&
         spec.permissive == XPCI_OPT_UNSET &&
         spec.msitranslate == XPCI_OPT_UNSET && spec.seize == XPCI_OPT_UNSET &&
         spec.power_mgmt == XPCI_OPT_UNSET &&
         spec.rdm_policy == XPCI_OPT_UNSET && !strchr(s, '=');
    /* xl reads "BB:DD.*" as function 0 of the slot */
    if (ok)
        xpci_bdf_format(&spec.bdf, buf);
    xpci_spec_dispose(&spec);
    return ok;
}

/* The library's error (once), and with -v its notes. */
static int report(const char *cmd, int r, const struct xpci_result *res)
{
    if (res && opt_verbose)
        for (unsigned i = 0; i < res->n_notes; i++)
            fprintf(stderr, "xl-pci %s: %s\n", cmd, res->notes[i]);
    if (r == 0)
        return EXIT_OK;
    fprintf(stderr, "xl-pci %s: %s\n", cmd,
            res && res->error ? res->error : strerror(-r));
    for (unsigned i = 0; res && i < res->n_undo_errors; i++)
        fprintf(stderr, "xl-pci %s: UNDO FAILED: %s\n", cmd,
                res->undo_errors[i]);
    return EXIT_FAILED;
}

/* ------------------------------------------------------------ commands */

static int pci_list(int argc, char **argv)
{
    const struct xlpci_cmd *self = lookup("pci-list");
    struct xpci_attached *list = NULL;
    char domid[16];
    xpci_ctx *ctx;
    size_t n = 0;
    int r;

    while (cmd_getopt(self, argc, argv, "+h", NULL) != -1)
        ;
    ctx = open_ctx(NULL);
    find_domain(ctx, argv[optind], domid, sizeof(domid));
    r = xpci_attached_list(ctx, domid, &list, &n);
    /* xl says nothing when the domain has no backend, and exits 0 even
     * when it can't read it */
    if (r < 0 && r != -ESRCH && r != -ENOENT)
        fprintf(stderr, "xl-pci pci-list: %s\n",
                r == -ENOTCONN && xpci_ctx_xs_unavailable(ctx)
                    ? xpci_ctx_xs_unavailable(ctx)
                    : strerror(-r));
    if (r == 0 && n) {
        printf("Vdev Device\n");
        for (size_t i = 0; i < n; i++) {
            int vdevfn = list[i].vdevfn < 0 ? 0 : list[i].vdevfn;

            printf("%02x.%01x %s\n", (vdevfn >> 3) & 0x1f, vdevfn & 7,
                   list[i].bdf);
        }
    }
    if (r == 0)
        xpci_attached_list_free(list, n);
    xpci_ctx_free(ctx);
    return EXIT_OK;
}

/* pci-attach and pci-detach. */
static int pci_move(int argc, char **argv, bool detach)
{
    const struct xlpci_cmd *self = lookup(detach ? "pci-detach" : "pci-attach");
    struct xpci_attach_opts opts = {0};
    struct xpci_result *res = NULL;
    struct xpci_spec spec;
    const char *spec_str;
    char domid[16], *why = NULL;
    xpci_ctx *ctx;
    int c, r;

    while ((c = cmd_getopt(self, argc, argv, detach ? "+hf" : "+h", NULL)) !=
           -1)
        if (c == 'f')
            opts.force = true;
    ctx = open_ctx(self->name);
    find_domain(ctx, argv[optind], domid, sizeof(domid));
    spec_str = argv[optind + 1];
    if (xpci_spec_parse(spec_str, &spec, &why) < 0) {
        /* the parser's message names the spec */
        if (why)
            fprintf(stderr, "xl-pci %s: %s\n", self->name, why);
        else
            fprintf(stderr, "xl-pci %s: malformed PCI_SPEC_STRING \"%s\"\n",
                    self->name, spec_str);
        free(why);
        xpci_ctx_free(ctx);
        return EXIT_USAGE;
    }
    xpci_spec_dispose(&spec);
    if (detach)
        r = xpci_detach(ctx, domid, &spec_str, 1, &opts, &res);
    else
        r = xpci_attach(ctx, domid, &spec_str, 1, &opts, &res);
    r = report(self->name, r, res);
    xpci_result_free(res);
    xpci_ctx_free(ctx);
    return r;
}

static int pci_attach(int argc, char **argv)
{
    return pci_move(argc, argv, false);
}

static int pci_detach(int argc, char **argv)
{
    return pci_move(argc, argv, true);
}

static int pci_assignable_list(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"show-names", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct xlpci_cmd *self = lookup("pci-assignable-list");
    struct xpci_assignable *list = NULL;
    bool names = false;
    xpci_ctx *ctx;
    size_t n = 0;
    int c, r;

    while ((c = cmd_getopt(self, argc, argv, "+hn", longopts)) != -1)
        if (c == 'n')
            names = true;
    ctx = open_ctx(NULL);
    r = xpci_assignable_list(ctx, &list, &n);
    if (r < 0) {
        fprintf(stderr, "xl-pci pci-assignable-list: %s\n", strerror(-r));
        xpci_ctx_free(ctx);
        return EXIT_OK;
    }
    /* as xl: bound to pciback now and not held by a domain */
    for (size_t i = 0; i < n; i++)
        if (list[i].present && list[i].in_pciback && list[i].domid < 0)
            printf("%s %s\n", list[i].bdf,
                   names && list[i].name ? list[i].name : "");
    xpci_assignable_list_free(list, n);
    xpci_ctx_free(ctx);
    return EXIT_OK;
}

static int pci_assignable_add(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct xlpci_cmd *self = lookup("pci-assignable-add");
    /* not kept across reboots, as with xl */
    struct xpci_op_opts opts = {.force = opt_force, .no_persist = true};
    struct xpci_result *res = NULL;
    char bdf[XPCI_BDF_STRLEN];
    const char *dev = bdf;
    xpci_ctx *ctx;
    int c, r;

    while ((c = cmd_getopt(self, argc, argv, "+hn:", longopts)) != -1)
        if (c == 'n')
            opts.name = optarg;
    if (!parse_bdf(argv[optind], bdf)) {
        fprintf(stderr, "xl-pci pci-assignable-add: malformed BDF \"%s\"\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    if (opts.name && !xpci_name_valid(opts.name)) {
        fprintf(stderr, "xl-pci pci-assignable-add: invalid name: a name is "
                        "1 to %d of A-Z a-z 0-9 . _ : + -\n",
                XPCI_NAME_MAX);
        return EXIT_USAGE;
    }
    ctx = open_ctx(self->name);
    r = xpci_assignable_add(ctx, &dev, 1, &opts, &res);
    r = report(self->name, r, res);
    xpci_result_free(res);
    xpci_ctx_free(ctx);
    return r;
}

static int pci_assignable_remove(int argc, char **argv)
{
    const struct xlpci_cmd *self = lookup("pci-assignable-remove");
    struct xpci_op_opts opts = {0};
    struct xpci_assignable *list = NULL;
    struct xpci_result *res = NULL;
    char bdf[XPCI_BDF_STRLEN] = "";
    const char *ident, *dev = bdf;
    xpci_ctx *ctx;
    size_t n = 0;
    int c, r;

    while ((c = cmd_getopt(self, argc, argv, "+hr", NULL)) != -1)
        if (c == 'r')
            opts.rebind = true;
    ident = argv[optind];
    ctx = open_ctx(self->name);
    /* a name first, then a BDF, as xl */
    if (xpci_assignable_list(ctx, &list, &n) == 0) {
        for (size_t i = 0; i < n && !*bdf; i++)
            if (list[i].name && !strcmp(list[i].name, ident))
                snprintf(bdf, sizeof(bdf), "%s", list[i].bdf);
        xpci_assignable_list_free(list, n);
    }
    if (!*bdf && !parse_bdf(ident, bdf)) {
        fprintf(stderr, "xl-pci pci-assignable-remove: malformed BDF '%s'\n",
                ident);
        xpci_ctx_free(ctx);
        return EXIT_USAGE;
    }
    r = xpci_assignable_remove(ctx, &dev, 1, &opts, &res);
    r = report(self->name, r, res);
    xpci_result_free(res);
    xpci_ctx_free(ctx);
    return r;
}

static const struct xlpci_cmd commands[] = {
    {"pci-attach", pci_attach, 2, "Give an assignable PCI function to a domain",
     "<Domain> <PCI_SPEC_STRING>", NULL},
    {"pci-detach", pci_detach, 2, "Take a PCI function back from a domain",
     "[-f] <Domain> <PCI_SPEC_STRING>",
     "-f                      Take it even if the guest does not release "
     "it.\n"},
    {"pci-list", pci_list, 1, "List the PCI functions a domain holds",
     "<Domain>", NULL},
    {"pci-assignable-add", pci_assignable_add, 1,
     "Hide a PCI function from dom0 so that guests can have it",
     "[options] <BDF>",
     "-n NAME, --name=NAME    Name the function.\n"
     "-h                      Print this help.\n"},
    {"pci-assignable-remove", pci_assignable_remove, 1,
     "Give a hidden PCI function back to dom0", "[options] <BDF>|NAME",
     "-h                      Print this help.\n"
     "-r                      Bind its original driver again.\n"},
    {"pci-assignable-list", pci_assignable_list, 0,
     "List the hidden PCI functions no domain holds", "[options]",
     "-h                      Print this help.\n"
     "-n, --show-names        Show the names given to them.\n"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct xlpci_cmd *lookup(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static void main_help(FILE *f)
{
    fprintf(f, "Usage: xl-pci [-vf] <subcommand> [args]\n\n"
               "xl's PCI passthrough commands, done by libxpci.\n\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, " %-22s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n-f lets pci-assignable-add take a function dom0 uses.\n");
}

int main(int argc, char **argv)
{
    const struct xlpci_cmd *cmd;
    bool dry_run = false;
    int c;

    /* xl's global options; -t and -T (progress, timestamps) do nothing */
    opterr = 0;
    while ((c = getopt(argc, argv, "+vftTN")) != -1) {
        switch (c) {
        case 'v':
            opt_verbose++;
            break;
        case 'f':
            opt_force = true;
            break;
        case 'N':
            dry_run = true;
            break;
        case 't':
        case 'T':
            break;
        default:
            fprintf(stderr, "xl-pci: unknown global option\n");
            return EXIT_FAILED;
        }
    }
    if (optind >= argc) {
        main_help(stderr);
        return EXIT_FAILED;
    }
    argv += optind;
    argc -= optind;
    optind = 0; /* start afresh (the "+" of each command takes effect) */
    if (!strcmp(argv[0], "help")) {
        cmd = argc > 1 ? lookup(argv[1]) : NULL;
        if (cmd)
            cmd_help(cmd, stdout);
        else if (argc > 1)
            printf("xl-pci: no command \"%s\"\n", argv[1]);
        else
            main_help(stdout);
        return EXIT_OK;
    }
    cmd = lookup(argv[0]);
    if (!cmd) {
        fprintf(stderr,
                "xl-pci: command \"%s\" not implemented (only "
                "xl's pci-* commands are)\n",
                argv[0]);
        return EXIT_FAILED;
    }
    if (dry_run) {
        fprintf(stderr, "xl-pci %s: no dry run (-N) for this command\n",
                cmd->name);
        return EXIT_FAILED;
    }
    return cmd->fn(argc, argv);
}
