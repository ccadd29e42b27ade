/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cmd_prepare.c - "xpci prepare DOMAIN.cfg": read an xl domain config with
 * libxlutil's reader, parse every entry of its `pci = [ ... ]` list, and
 * make every function it names assignable in one all-or-nothing call, so
 * that `xl create DOMAIN.cfg` then finds them in pciback.
 *
 * seize=1 in an entry, or pci_seize=1 for the whole config, is the
 * administrator's consent to take that function from the dom0 driver
 * using it: for that function it acts as --force (libxl itself would
 * seize it at create time, without any checks).  Named entries (name=)
 * must name a function made assignable with that name already.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

#include "xpci-cli.h"

enum { OPT_DRY_RUN = 256, OPT_JSON };

/* One function to make assignable. */
struct fn {
    char bdf[XPCI_BDF_STRLEN];
    unsigned entry;   /* index of the first pci entry naming it */
    const char *spec; /* that entry, as written */
    bool force;       /* seize (or --force) */
    bool already;     /* assignable before this run */
    int permissive, msitranslate, power_mgmt, rdm_policy; /* as xl sees */
};

/* The config's domain-wide pci_* settings (-1: not given). */
struct defaults {
    long permissive, msitranslate, power_mgmt, seize;
    const char *rdm;
};

struct prep {
    const char *path;
    bool qemu_xen; /* an HVM guest with the qemu-xen device model */
    struct defaults def;
    struct fn *fns;
    unsigned n;
    char *error; /* why the config can't be prepared, or NULL */
};

/* Record why the config can't be prepared (the first reason wins). */
__attribute__((format(printf, 2, 3))) static int
prep_error(struct prep *p, const char *fmt, ...)
{
    va_list ap;

    if (!p->error) {
        va_start(ap, fmt);
        if (vasprintf(&p->error, fmt, ap) < 0)
            p->error = NULL;
        va_end(ap);
    }
    return -EINVAL;
}

static void cleanup_cfg(XLU_Config **cfg)
{
    if (*cfg)
        xlu_cfg_destroy(*cfg);
}

static int add_fn(struct prep *p, const char *bdf, unsigned entry,
                  const char *text, const struct xpci_spec *spec, bool force)
{
    struct fn *f;

    for (unsigned i = 0; i < p->n; i++) {
        if (!strcmp(p->fns[i].bdf, bdf)) {
            p->fns[i].force |= force;
            return 0;
        }
    }
    f = realloc(p->fns, (p->n + 1) * sizeof(*f));
    if (!f)
        return -ENOMEM;
    p->fns = f;
    f = &p->fns[p->n++];
    memset(f, 0, sizeof(*f));
    snprintf(f->bdf, sizeof(f->bdf), "%s", bdf);
    f->entry = entry;
    f->spec = text;
    f->force = force;
    /* xl starts every entry from the pci_* defaults */
    f->permissive = spec->permissive != XPCI_OPT_UNSET ? spec->permissive
                    : p->def.permissive >= 0           ? !!p->def.permissive
                                                       : XPCI_OPT_UNSET;
    f->msitranslate = spec->msitranslate != XPCI_OPT_UNSET ? spec->msitranslate
                      : p->def.msitranslate >= 0 ? !!p->def.msitranslate
                                                 : XPCI_OPT_UNSET;
    f->power_mgmt = spec->power_mgmt != XPCI_OPT_UNSET ? spec->power_mgmt
                    : p->def.power_mgmt >= 0           ? !!p->def.power_mgmt
                                                       : XPCI_OPT_UNSET;
    f->rdm_policy = spec->rdm_policy;
    return 0;
}

static const struct xpci_assignable *
find_assignable(const struct xpci_assignable *l, size_t n, const char *bdf,
                const char *name)
{
    for (size_t i = 0; i < n; i++)
        if ((bdf && !strcmp(l[i].bdf, bdf)) ||
            (name && l[i].name && !strcmp(l[i].name, name)))
            return &l[i];
    return NULL;
}

/*
 * The functions of one parsed entry: its BDF, every function of the slot
 * for "BB:DD.*", or the assignable function of that name.  Prints the
 * error itself.
 */
static int entry_functions(struct prep *p, const struct xpci_host *host,
                           const struct xpci_assignable *al, size_t an,
                           unsigned i, const char *text,
                           const struct xpci_spec *spec, bool force)
{
    char bdf[XPCI_BDF_STRLEN];
    struct xpci_bdf last = {0};
    unsigned found = 0;
    int r;

    if (spec->name) {
        const struct xpci_assignable *a =
            find_assignable(al, an, NULL, spec->name);

        if (!a)
            return prep_error(p,
                              "%s: pci entry %u '%s': no assignable "
                              "function is named '%s' (name one with xpci "
                              "assignable-add -n)",
                              p->path, i, text, spec->name);
        return add_fn(p, a->bdf, i, text, spec, force);
    }
    if (!spec->all_functions) {
        xpci_bdf_format(&spec->bdf, bdf);
        return add_fn(p, bdf, i, text, spec, force);
    }
    /* libxl places a slot's functions together at the slot it is given
     * (device_pci_add_stubdom_done) and refuses the entry without one. */
    if (spec->vslot < 0)
        return prep_error(p,
                          "%s: pci entry %u '%s': every function of a slot "
                          "goes to a guest slot named with @SLOT ('%s@5', "
                          "say): xl create fails without one (\"Must "
                          "specify a v-slot for multi-function devices\")",
                          p->path, i, text, text);
    for (size_t k = 0; k < xpci_host_count(host); k++) {
        const struct xpci_device *d = xpci_host_device(host, k);

        if (d->bdf.domain != spec->bdf.domain || d->bdf.bus != spec->bdf.bus ||
            d->bdf.dev != spec->bdf.dev)
            continue;
        if ((r = add_fn(p, d->bdf_str, i, text, spec, force)) < 0)
            return r;
        if (!found++ || d->bdf.func > last.func)
            last = d->bdf;
    }
    if (!found)
        return prep_error(p,
                          "%s: pci entry %u '%s': no function in slot "
                          "%04x:%02x:%02x",
                          p->path, i, text, spec->bdf.domain, spec->bdf.bus,
                          spec->bdf.dev);
    /* libxl 4.17 and 4.20 (device_pci_add_stubdom_done) add the slot's
     * highest function and report the entry done: the guest gets no
     * function 0, so it sees none of them. */
    if (found > 1) {
        xpci_bdf_format(&last, bdf);
        fprintf(stderr,
                "xpci prepare: warning: %s: pci entry %u '%s': xl gives "
                "the guest only %s of it (libxl adds a slot's last "
                "function and stops): give each function an entry of its "
                "own\n",
                p->path, i, text, bdf);
    }
    return 0;
}

/*
 * msitranslate and power_mgmt reach only qemu-xen-traditional (libxl
 * writes them to its xenstore options); qemu-xen's xen-pci-passthrough has
 * no such properties, so libxl's QMP device_add leaves them out and MSI /
 * MSI-X go to the guest as they are.  Say so when a config asks for them.
 */
static bool noop_opt(const struct prep *p, const struct fn *f, bool msi)
{
    return p->qemu_xen && (msi ? f->msitranslate : f->power_mgmt) == 1;
}

static void print_noop_notes(const struct prep *p, FILE *out)
{
    for (int msi = 1; msi >= 0; msi--)
        for (unsigned i = 0; i < p->n; i++)
            if (noop_opt(p, &p->fns[i], msi))
                fprintf(out, "note: %s: %s=1 (pci[%u]) has no effect: "
                             "qemu-xen, this HVM guest's device model, "
                             "ignores it (only qemu-xen-traditional reads "
                             "it)\n",
                        p->fns[i].bdf, msi ? "msitranslate" : "power_mgmt",
                        p->fns[i].entry);
}

/* A 0/1 setting, or null when not given (-1). */
static void json_opt(json_gen g, const char *k, long v)
{
    json_str(g, k);
    if (v < 0)
        json_null(g);
    else
        json_bool(g, v);
}

static void json_prepare(json_gen g, const void *arg)
{
    const struct prep *p = arg;

    json_kv_str(g, "config", p->path);
    json_str(g, "defaults");
    json_map_open(g);
    json_opt(g, "pci_permissive", p->def.permissive);
    json_opt(g, "pci_msitranslate", p->def.msitranslate);
    json_opt(g, "pci_power_mgmt", p->def.power_mgmt);
    json_opt(g, "pci_seize", p->def.seize);
    json_kv_str(g, "rdm", p->def.rdm);
    json_map_close(g);
    json_str(g, "functions");
    json_array_open(g);
    for (unsigned i = 0; i < p->n; i++) {
        const struct fn *f = &p->fns[i];

        json_map_open(g);
        json_kv_str(g, "bdf", f->bdf);
        json_kv_int(g, "entry", f->entry);
        json_kv_str(g, "spec", f->spec);
        json_kv_bool(g, "seize", f->force);
        json_kv_bool(g, "already_assignable", f->already);
        json_opt(g, "permissive", f->permissive);
        json_opt(g, "msitranslate", f->msitranslate);
        json_opt(g, "power_mgmt", f->power_mgmt);
        if (noop_opt(p, f, true) || noop_opt(p, f, false)) {
            json_str(g, "no_effect");
            json_array_open(g);
            if (noop_opt(p, f, true))
                json_str(g, "msitranslate");
            if (noop_opt(p, f, false))
                json_str(g, "power_mgmt");
            json_array_close(g);
        }
        json_kv_str(g, "rdm_policy",
                    f->rdm_policy == XPCI_RDM_POLICY_STRICT    ? "strict"
                    : f->rdm_policy == XPCI_RDM_POLICY_RELAXED ? "relaxed"
                                                               : NULL);
        json_map_close(g);
    }
    json_array_close(g);
}

static void print_list(const struct prep *p, bool already, const char *label)
{
    bool any = false;

    for (unsigned i = 0; i < p->n; i++) {
        if (p->fns[i].already != already)
            continue;
        printf("%s%s", any ? " " : label, p->fns[i].bdf);
        any = true;
    }
    if (any)
        printf("\n");
}

static void print_prepare(const struct prep *p, bool dry_run, bool before)
{
    if (before) {
        printf("%s: %u function(s) for pci passthrough\n", p->path, p->n);
        for (unsigned i = 0; i < p->n; i++)
            printf("  %s  pci[%u] %s%s%s\n", p->fns[i].bdf, p->fns[i].entry,
                   p->fns[i].spec, p->fns[i].force ? "  (seize)" : "",
                   p->fns[i].already ? "  (already assignable)" : "");
        print_noop_notes(p, stdout);
        return;
    }
    print_list(p, false, dry_run ? "would hide: " : "hidden: ");
    print_list(p, true, "already assignable: ");
    if (!dry_run)
        printf("ready: xl create %s\n", p->path);
}

/* Read the config's pci_* settings and parse its pci list into p. */
static int read_config(struct prep *p, XLU_Config *cfg,
                       const struct xpci_host *host,
                       const struct xpci_assignable *al, size_t an, bool force)
{
    static const char *const keys[] = {"pci_permissive", "pci_msitranslate",
                                       "pci_power_mgmt", "pci_seize"};
    long *vals[] = {&p->def.permissive, &p->def.msitranslate,
                    &p->def.power_mgmt, &p->def.seize};
    XLU_ConfigList *list = NULL;
    const char *type = NULL, *dm = NULL;
    int count = 0, r;

    /* xl: type = "hvm" (or the older builder = "hvm"); qemu-xen unless
     * device_model_version says otherwise */
    if (xlu_cfg_get_string(cfg, "type", &type, 0) &&
        xlu_cfg_get_string(cfg, "builder", &type, 0))
        type = NULL;
    if (xlu_cfg_get_string(cfg, "device_model_version", &dm, 0))
        dm = NULL;
    p->qemu_xen = type && !strcmp(type, "hvm") &&
                  (!dm || strcmp(dm, "qemu-xen-traditional"));

    for (unsigned k = 0; k < 4; k++) {
        long v;

        *vals[k] = -1;
        /* a malformed value is reported by the reader; xl ignores it */
        if (!xlu_cfg_get_long(cfg, keys[k], &v, 0))
            *vals[k] = v != 0;
    }
    if (xlu_cfg_get_string(cfg, "rdm", &p->def.rdm, 0))
        p->def.rdm = NULL;
    r = xlu_cfg_get_list(cfg, "pci", &list, &count, 1);
    if (r == ESRCH)
        return 0;
    if (r)
        return prep_error(p, "%s: pci is not a list", p->path);
    for (int i = 0; i < count; i++) {
        const char *text = xlu_cfg_get_listitem(list, i);
        struct xpci_spec spec;
        char *why = NULL;

        if (!text)
            return prep_error(p, "%s: pci entry %d is not a string", p->path,
                              i);
        r = xpci_spec_parse(text, &spec, &why);
        if (r < 0) {
            /* the parser's message names the entry's text */
            if (why)
                prep_error(p, "%s: pci entry %d: %s", p->path, i, why);
            else
                prep_error(p, "%s: pci entry %d '%s': %s", p->path, i, text,
                           strerror(-r));
            free(why);
            return -EINVAL;
        }
        r = entry_functions(
            p, host, al, an, (unsigned)i, text, &spec,
            force || spec.seize == 1 ||
                (spec.seize == XPCI_OPT_UNSET && p->def.seize == 1));
        xpci_spec_dispose(&spec);
        if (r < 0)
            return r;
    }
    for (unsigned i = 0; i < p->n; i++) {
        const struct xpci_assignable *a =
            find_assignable(al, an, p->fns[i].bdf, NULL);

        /* as the library judges "already": pciback holds it and xl's
         * record or the persistent set says it was hidden on purpose */
        p->fns[i].already = a && a->present && a->in_pciback &&
                            (a->libxl_record || a->persistent);
    }
    return 0;
}

/* Whether xl 4.17 builds a PV guest from cfg: "type" and the older
 * "builder" are matched as prefixes ("h" is hvm, "p" pv), and a config
 * with neither is PV on x86 (tools/xl/xl_parse.c parse_config_data). */
static bool config_is_pv(XLU_Config *cfg)
{
    const char *v;

    if (!xlu_cfg_get_string(cfg, "type", &v, 0))
        return strncmp(v, "hvm", strlen(v)) && !strncmp(v, "pv", strlen(v));
    if (!xlu_cfg_get_string(cfg, "builder", &v, 0))
        return strncmp(v, "hvm", strlen(v)) &&
               !strncmp(v, "generic", strlen(v));
    return true;
}

/*
 * A PV guest maps a VF's BARs where the host has them, in its PCI holes:
 * it needs the host's memory map, e820_host=1 (xl.cfg(5)).  xl 4.17 turns
 * it on for a PV config with pci= entries, even over e820_host=0; a config
 * that says so itself keeps working when the VF comes by hot-plug or
 * through another toolstack.
 */
static void warn_pv_e820(const struct prep *p, XLU_Config *cfg,
                         const struct xpci_host *host)
{
    const struct xpci_device *d;
    char list[256] = "";
    size_t len = 0;
    long e820 = -1;

    if (!config_is_pv(cfg))
        return;
    if (!xlu_cfg_get_long(cfg, "e820_host", &e820, 0) && e820)
        return;
    for (unsigned i = 0; i < p->n; i++) {
        if (xpci_host_find(host, p->fns[i].bdf, &d) || !d->is_vf)
            continue;
        if (len + XPCI_BDF_STRLEN + 2 < sizeof(list))
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
                                    len ? ", " : "", p->fns[i].bdf);
    }
    if (!len)
        return;
    fprintf(stderr,
            "xpci prepare: warning: %s: PV guest given SR-IOV VF(s) %s "
            "without e820_host=1%s: their BARs lie in the host's PCI "
            "holes, which a PV guest's own memory map covers with RAM; "
            "xl 4.17 sets e820_host at create for a PV config with pci= "
            "entries, write e820_host=1 so the guest has it however the "
            "VFs arrive\n",
            p->path, list, e820 == 0 ? " (e820_host=0)" : "");
}

/* Longest domain config read. */
#define CFG_MAX (1 << 20)

/*
 * Read the config into cfg.  libxlutil's lexer asserts (aborts the
 * process) on a NUL byte inside a string, so a file that is not text is
 * refused here, before it sees it.  Returns 0 or an errno value (EINVAL:
 * not a config, after saying why when the reason is ours).
 */
static int read_text(const struct prep *p, XLU_Config *cfg)
{
    FILE *f = fopen(p->path, "re");
    char *buf;
    size_t len;
    int r;

    if (!f)
        return errno;
    buf = malloc(CFG_MAX + 1);
    if (!buf) {
        fclose(f);
        return ENOMEM;
    }
    len = fread(buf, 1, CFG_MAX + 1, f);
    r = ferror(f) ? EIO : 0;
    fclose(f);
    if (!r && len > CFG_MAX) {
        fprintf(stderr, "xpci prepare: %s: longer than %d bytes\n", p->path,
                CFG_MAX);
        r = EINVAL;
    } else if (!r && memchr(buf, '\0', len)) {
        fprintf(stderr, "xpci prepare: %s: not a text file (a NUL byte at "
                        "offset %zu)\n",
                p->path, (size_t)((char *)memchr(buf, '\0', len) - buf));
        r = EINVAL;
    } else if (!r) {
        r = xlu_cfg_readdata(cfg, buf, (int)len);
    }
    free(buf);
    return r;
}

int cmd_prepare(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"force", no_argument, NULL, 'f'},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"json", no_argument, NULL, OPT_JSON},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const struct cmd_spec *self = cmd_lookup("prepare");
    __attribute__((cleanup(cleanup_cfg))) XLU_Config *cfg = NULL;
    struct xpci_op_opts opts = {0};
    struct xpci_assignable *al = NULL;
    struct xpci_result *res = NULL;
    struct xpci_host *host = NULL;
    struct prep p = {0};
    const char **devs = NULL;
    bool *force_each = NULL;
    xpci_ctx *ctx = NULL;
    bool json = false;
    size_t an = 0;
    int c, r, rc = EXIT_FAILED;

    optind = 0; /* afresh: permute, so options may follow operands */
    while ((c = getopt_long(argc, argv, "hf", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cmd_usage(self, stdout);
            return EXIT_OK;
        case 'f':
            opts.force = true;
            break;
        case OPT_DRY_RUN:
            opts.dry_run = true;
            break;
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
    if (argc - optind != 1) {
        fprintf(stderr, "xpci prepare: give one domain config file\n");
        cmd_usage(self, stderr);
        return EXIT_USAGE;
    }
    p.path = argv[optind];

    cfg = xlu_cfg_init(stderr, p.path);
    if (!cfg) {
        fprintf(stderr, "xpci prepare: out of memory\n");
        return EXIT_FAILED;
    }
    r = read_text(&p, cfg);
    if (r) {
        /* the reader has described a syntax error already */
        if (r == EINVAL)
            fprintf(stderr, "xpci prepare: %s is not a valid xl config\n",
                    p.path);
        else
            fprintf(stderr, "xpci prepare: cannot read %s: %s\n", p.path,
                    strerror(r));
        return EXIT_FAILED;
    }
    cli_warn_tree("prepare");
    if (cli_open_host(&ctx, 0, &host))
        return EXIT_FAILED;
    r = xpci_assignable_list(ctx, &al, &an);
    if (r < 0)
        prep_error(&p, "cannot list assignable functions: %s", strerror(-r));
    else if ((r = read_config(&p, cfg, host, al, an, opts.force)) == -ENOMEM)
        prep_error(&p, "out of memory");
    if (p.error) {
        struct xpci_result fail = {.error = p.error};

        out_result("prepare", &fail, opts.dry_run, -EINVAL, json, json_prepare,
                   &p);
        goto out;
    }
    if (!p.n) {
        if (json) {
            out_result("prepare", NULL, opts.dry_run, 0, true, json_prepare,
                       &p);
        } else {
            printf("%s: no pci entries: nothing to do\n", p.path);
        }
        rc = EXIT_OK;
        goto out;
    }

    warn_pv_e820(&p, cfg, host);
    devs = calloc(p.n, sizeof(*devs));
    force_each = calloc(p.n, sizeof(*force_each));
    if (!devs || !force_each)
        abort();
    for (unsigned i = 0; i < p.n; i++) {
        devs[i] = p.fns[i].bdf;
        force_each[i] = p.fns[i].force;
    }
    opts.force_each = force_each;
    if (!json)
        print_prepare(&p, opts.dry_run, true);
    r = xpci_assignable_add(ctx, devs, p.n, &opts, &res);
    out_result("prepare", res, opts.dry_run, r, json, json_prepare, &p);
    if (!json && r == 0)
        print_prepare(&p, opts.dry_run, false);
    /* the devices come from the config, not the command line: a bad one
     * is a failure, not a usage error */
    rc = r == 0 ? EXIT_OK : EXIT_FAILED;
out:
    free(devs);
    free(force_each);
    free(p.fns);
    free(p.error);
    xpci_result_free(res);
    xpci_assignable_list_free(al, an);
    xpci_host_free(host);
    xpci_ctx_free(ctx);
    return rc;
}
