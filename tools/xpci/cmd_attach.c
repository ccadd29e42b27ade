/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cmd_attach.c - "xpci attach", "detach" and "attached": giving assignable
 * functions to a running domain, taking them back into quarantine, and
 * listing what domains hold (table, or JSON with schema xpci-attached/1).
 *
 * Specs are checked here, before the library is opened, so that a
 * malformed one is a usage error (exit 2, as xl pci-attach) naming the
 * spec; everything else is the library's to judge.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xpci-cli.h"

enum { OPT_DRY_RUN = 256, OPT_JSON, OPT_SEIZE, OPT_TIMEOUT };

#define MAX_TIMEOUT_S (24 * 3600)

int cli_parse_timeout(const char *cmd, const char *arg)
{
    char *end = NULL;
    double s;

    errno = 0;
    s = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(s) || s <= 0 ||
        s > MAX_TIMEOUT_S) {
        fprintf(stderr,
                "xpci %s: --timeout '%s': expected seconds, more than 0 "
                "and at most %d\n",
                cmd, arg, MAX_TIMEOUT_S);
        return -1;
    }
    /* at least 1 ms: 0 would mean the library's default */
    return s * 1000 < 1 ? 1 : (int)(s * 1000);
}

/* A spec must parse; says why not, naming it. */
static bool spec_ok(const char *cmd, const char *s)
{
    struct xpci_spec spec;
    char *why = NULL;
    int r = xpci_spec_parse(s, &spec, &why);

    if (r == 0) {
        xpci_spec_dispose(&spec);
        return true;
    }
    /* the parser's message names the spec */
    if (why)
        fprintf(stderr, "xpci %s: %s\n", cmd, why);
    else
        fprintf(stderr, "xpci %s: malformed PCI_SPEC_STRING '%s': %s\n", cmd, s,
                strerror(-r));
    free(why);
    return false;
}

/*
 * detach also takes assignable names and location paths, which are not
 * specs: a word that does not parse as a spec passes when it has none of
 * a spec's punctuation (a name), or is a location path.
 */
static bool dev_ok(const char *s)
{
    struct xpci_spec spec;

    if (xpci_spec_parse(s, &spec, NULL) == 0) {
        xpci_spec_dispose(&spec);
        return true;
    }
    if (!strncmp(s, "pci", 3) && strchr(s, '/') && !strpbrk(s, ",=@"))
        return true;
    return *s && !strpbrk(s, ",=@: \t");
}

struct move_args {
    bool detach;
    struct xpci_attach_opts opts;
    bool json;
    const char *domain;
    char **devs;
    unsigned n;
    struct cli_select sel;
};

static int parse_move(const struct cmd_spec *self, int argc, char **argv,
                      struct move_args *a)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"force", no_argument, NULL, 'f'},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"json", no_argument, NULL, OPT_JSON},
        {"seize", no_argument, NULL, OPT_SEIZE},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        CLI_COMMON_LONGOPTS,
        CLI_SELECT_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int c, r;

    optind = 0; /* afresh: permute, so options may follow operands */
    while ((c = getopt_long(argc, argv, a->detach ? "hf" : "h", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'h':
            cmd_usage(self, stdout);
            return EXIT_OK;
        case 'f':
            if (!a->detach)
                goto usage;
            a->opts.force = true;
            break;
        case OPT_SEIZE:
            if (a->detach)
                goto usage;
            a->opts.seize = true;
            break;
        case OPT_DRY_RUN:
            a->opts.dry_run = true;
            break;
        case OPT_JSON:
            a->json = true;
            break;
        case OPT_TIMEOUT:
            a->opts.timeout_ms = cli_parse_timeout(self->name, optarg);
            if (a->opts.timeout_ms < 0)
                return EXIT_USAGE;
            break;
        default:
            r = cli_common_opt(self, &a->sel, c, optarg);
            if (r < 0)
                return EXIT_USAGE;
            if (!r)
                goto usage;
        }
    }
    if (cli_select_check(self, &a->sel) < 0)
        goto usage;
    if (argc - optind < 2 - (a->sel.n ? 1 : 0)) {
        fprintf(stderr, "xpci %s: give a domain and at least one %s\n",
                self->name, a->detach ? "device" : "PCI_SPEC_STRING");
        goto usage;
    }
    a->domain = argv[optind];
    a->devs = argv + optind + 1;
    a->n = (unsigned)(argc - optind - 1);
    if (!*a->domain) {
        fprintf(stderr, "xpci %s: empty domain\n", self->name);
        return EXIT_USAGE;
    }
    for (unsigned i = 0; i < a->n; i++) {
        if (!a->detach && !spec_ok(self->name, a->devs[i]))
            return EXIT_USAGE;
        if (a->detach && !dev_ok(a->devs[i])) {
            fprintf(stderr,
                    "xpci %s: '%s' is neither a PCI_SPEC_STRING, a BDF, a "
                    "location path nor a name\n",
                    self->name, a->devs[i]);
            return EXIT_USAGE;
        }
    }
    return -1;
usage:
    cmd_usage(self, stderr);
    return EXIT_USAGE;
}

static int run_move(const char *op, int argc, char **argv, bool detach)
{
    const struct cmd_spec *self = cmd_lookup(op);
    struct move_args a = {.detach = detach, .sel = CLI_SELECT_INIT};
    struct xpci_result *res = NULL;
    xpci_ctx *ctx = NULL;
    char **devs = NULL;
    unsigned n = 0;
    int rc = parse_move(self, argc, argv, &a), r;

    /* the functions the selectors pick join the operands, by BDF */
    if (rc < 0 && cli_select_devs(op, &a.sel, a.devs, a.n, &devs, &n))
        rc = EXIT_FAILED;
    cli_select_free(&a.sel);
    if (rc >= 0)
        return rc;
    cli_warn_tree(detach ? "detach" : "attach");
    if (cli_open_ctx(&ctx)) {
        cli_devs_free(devs);
        return EXIT_FAILED;
    }
    if (detach)
        r = xpci_detach(ctx, a.domain, (const char *const *)devs, n, &a.opts,
                        &res);
    else
        r = xpci_attach(ctx, a.domain, (const char *const *)devs, n, &a.opts,
                        &res);
    cli_devs_free(devs);
    return out_finish(op, res, a.opts.dry_run, r, a.json, ctx);
}

int cmd_attach(int argc, char **argv)
{
    return run_move("attach", argc, argv, false);
}

int cmd_detach(int argc, char **argv)
{
    return run_move("detach", argc, argv, true);
}

/* ------------------------------------------------------------ attached */

/* XenbusState (xen/include/public/io/xenbus.h). */
static const char *xenbus_state_name(int state)
{
    static const char *const names[] = {
        "unknown", "initialising", "initwait",      "initialised",  "connected",
        "closing", "closed",       "reconfiguring", "reconfigured",
    };

    if (state < 0 || state >= (int)(sizeof(names) / sizeof(names[0])))
        return NULL;
    return names[state];
}

/* An HVM guest's function as its device model has it (query-pci); NULL
 * for a PV guest's. */
static const char *dm_state_name(const struct xpci_attached *a)
{
    if (!a->hvm)
        return NULL;
    return a->dm_present > 0    ? "plugged"
           : a->dm_present == 0 ? "unplugged"
                                : "unknown";
}

/* pciback's XenbusState for PV, the device model's view for HVM. */
static const char *state_name(const struct xpci_attached *a)
{
    return a->hvm ? dm_state_name(a) : xenbus_state_name(a->state);
}

static const char *rdm_policy_name(int p)
{
    return p == XPCI_RDM_POLICY_STRICT    ? "strict"
           : p == XPCI_RDM_POLICY_RELAXED ? "relaxed"
                                          : NULL;
}

static void json_opt(json_gen g, const char *k, int v)
{
    json_str(g, k);
    if (v == XPCI_OPT_UNSET)
        json_null(g);
    else
        json_bool(g, v);
}

static void json_int_or_null(json_gen g, const char *k, int v)
{
    json_str(g, k);
    if (v >= 0)
        json_integer(g, v);
    else
        json_null(g);
}

static void json_attached(const char *domain, const struct xpci_attached *l,
                          size_t n)
{
    json_gen g = json_open();

    json_map_open(g);
    json_kv_str(g, "schema", "xpci-attached/1");
    json_kv_str(g, "domain", domain);
    json_str(g, "devices");
    json_array_open(g);
    for (size_t i = 0; i < n; i++) {
        json_map_open(g);
        json_kv_int(g, "domid", l[i].domid);
        json_kv_str(g, "domain", l[i].domain);
        json_kv_str(g, "bdf", l[i].bdf);
        json_int_or_null(g, "vdevfn", l[i].vdevfn);
        json_int_or_null(g, "vslot", l[i].vdevfn >= 0 ? l[i].vdevfn >> 3 : -1);
        json_kv_str(g, "vdev", l[i].vdev);
        json_int_or_null(g, "state", l[i].state);
        json_kv_str(g, "state_name", state_name(&l[i]));
        json_kv_str(g, "device_model", dm_state_name(&l[i]));
        json_kv_str(g, "name", l[i].name);
        json_kv_str(g, "opts", l[i].opts);
        json_opt(g, "permissive", l[i].permissive);
        json_opt(g, "msitranslate", l[i].msitranslate);
        json_opt(g, "power_mgmt", l[i].power_mgmt);
        json_kv_str(g, "rdm_policy", rdm_policy_name(l[i].rdm_policy));
        /* what pciback grants, whatever the options say */
        json_opt(g, "pciback_permissive", l[i].pciback_permissive);
        json_map_close(g);
    }
    json_array_close(g);
    json_map_close(g);
    json_close(g);
    fputc('\n', stdout);
}

/* opts-N as the backend has it, else what the parsed fields say. */
static void options_cell(const struct xpci_attached *a, char *buf, size_t len)
{
    static const char *const keys[] = {"permissive", "msitranslate",
                                       "power_mgmt"};
    const int vals[] = {a->permissive, a->msitranslate, a->power_mgmt};
    size_t off = 0;

    buf[0] = '\0';
    if (a->opts && *a->opts) {
        off = (size_t)snprintf(buf, len, "%s", a->opts);
    } else {
        for (unsigned k = 0; k < 3 && off < len; k++)
            if (vals[k] != XPCI_OPT_UNSET)
                off += (size_t)snprintf(buf + off, len - off, "%s%s=%d",
                                        off ? "," : "", keys[k], vals[k]);
        if (off < len && rdm_policy_name(a->rdm_policy))
            off += (size_t)snprintf(buf + off, len - off, "%srdm_policy=%s",
                                    off ? "," : "",
                                    rdm_policy_name(a->rdm_policy));
    }
    if (off < len && a->name)
        off += (size_t)snprintf(buf + off, len - off, "%sname=%s",
                                off ? "," : "", a->name);
    /* pciback's own flag, when it disagrees with the options */
    if (off < len && a->pciback_permissive == XPCI_YES && a->permissive != 1)
        snprintf(buf + off, len - off, "%spciback:permissive",
                 off ? "," : "");
    else if (off < len && a->pciback_permissive == XPCI_NO &&
             a->permissive == 1)
        snprintf(buf + off, len - off, "%spciback:not-permissive",
                 off ? "," : "");
}

static void table_attached(const struct xpci_attached *l, size_t n)
{
    static const char *const head[] = {"DOMAIN", "DOMID", "BDF",
                                       "VDEV",   "STATE", "OPTIONS"};
    struct table *t = table_new(6);

    if (!t)
        abort();
    for (unsigned k = 0; k < 6; k++)
        table_add(t, head[k], NULL);
    for (size_t i = 0; i < n; i++) {
        char domid[16], vdev[64], state[16], opts[512];

        snprintf(domid, sizeof(domid), "%u", l[i].domid);
        /* the guest's address: pciback's for PV, the device model's
         * slot.function for HVM */
        if (l[i].vdev)
            snprintf(vdev, sizeof(vdev), "%s", l[i].vdev);
        else if (l[i].vdevfn >= 0)
            snprintf(vdev, sizeof(vdev), "%02x.%x", l[i].vdevfn >> 3,
                     l[i].vdevfn & 7);
        else
            snprintf(vdev, sizeof(vdev), "-");
        snprintf(state, sizeof(state), "%d", l[i].state);
        options_cell(&l[i], opts, sizeof(opts));
        table_add(t, l[i].domain, NULL);
        table_add(t, domid, NULL);
        table_add(t, l[i].bdf, NULL);
        table_add(t, vdev, NULL);
        table_add(t,
                  state_name(&l[i]) ? state_name(&l[i])
                  : l[i].state < 0  ? "-"
                                    : state,
                  NULL);
        table_add(t, *opts ? opts : "-", NULL);
    }
    table_print(t, stdout);
    table_free(t);
}

int cmd_attached(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, OPT_JSON},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const struct cmd_spec *self = cmd_lookup("attached");
    struct xpci_attached *list = NULL;
    const char *domain = NULL;
    xpci_ctx *ctx = NULL;
    bool json = false;
    size_t n = 0;
    int c, r;

    optind = 0; /* afresh: permute, so options may follow operands */
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cmd_usage(self, stdout);
            return EXIT_OK;
        case OPT_JSON:
            json = true;
            break;
        default:
            r = cli_common_opt(self, NULL, c, optarg);
            if (r > 0)
                break;
            if (!r)
                cmd_usage(self, stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "xpci attached: at most one domain\n");
        cmd_usage(self, stderr);
        return EXIT_USAGE;
    }
    if (optind < argc)
        domain = argv[optind];
    if (cli_open_ctx(&ctx))
        return EXIT_FAILED;
    r = xpci_attached_list(ctx, domain, &list, &n);
    if (r < 0) {
        fprintf(stderr, "xpci attached: %s%s%s\n", domain ? domain : "",
                domain ? ": " : "",
                r == -ESRCH ? "no such domain"
                : r == -ENOTCONN && xpci_ctx_xs_unavailable(ctx)
                    ? xpci_ctx_xs_unavailable(ctx)
                    : strerror(-r));
        xpci_ctx_free(ctx);
        return EXIT_FAILED;
    }
    if (json)
        json_attached(domain, list, n);
    else
        table_attached(list, n);
    xpci_attached_list_free(list, n);
    xpci_ctx_free(ctx);
    return EXIT_OK;
}
