/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * out.c - output helpers of the xpci command: colour (only on a terminal),
 * aligned text tables, JSON members (json.c), the result of a mutating
 * command (text or xpci-result/1), and device names from the pci.ids
 * database.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xpci-cli.h"

/* ------------------------------------------------------------ colour */
bool out_color(void)
{
    static int color = -1;

    if (color < 0) {
        const char *term = getenv("TERM");

        color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && term &&
                strcmp(term, "dumb");
    }
    return color;
}

const char *out_level_color(enum xpci_level level)
{
    static const char *const colors[] = {
        [XPCI_LEVEL_PASS] = "\033[32m",
        [XPCI_LEVEL_WARN] = "\033[33m",
        [XPCI_LEVEL_UNKNOWN] = "\033[35m",
        [XPCI_LEVEL_FAIL] = "\033[1;31m",
    };

    return out_color() ? colors[level] : "";
}

const char *out_reset(void)
{
    return out_color() ? "\033[0m" : "";
}

/* ------------------------------------------------------------ tables */
struct table {
    unsigned ncols;
    unsigned n;       /* cells */
    unsigned alloc;
    char **cells;
    const char **colors;
};

struct table *table_new(unsigned ncols)
{
    struct table *t = calloc(1, sizeof(*t));

    if (t)
        t->ncols = ncols;
    return t;
}

void table_add(struct table *t, const char *cell, const char *color)
{
    if (t->n == t->alloc) {
        unsigned na = t->alloc ? t->alloc * 2 : 64;
        char **nc = realloc(t->cells, na * sizeof(*nc));
        const char **ncol;

        if (!nc)
            abort();
        t->cells = nc;
        ncol = realloc(t->colors, na * sizeof(*ncol));
        if (!ncol)
            abort();
        t->colors = ncol;
        t->alloc = na;
    }
    t->cells[t->n] = strdup(cell ? cell : "-");
    if (!t->cells[t->n])
        abort();
    t->colors[t->n++] = color;
}

void table_print(struct table *t, FILE *f)
{
    size_t *width = calloc(t->ncols, sizeof(*width));

    if (!width)
        abort();
    for (unsigned i = 0; i < t->n; i++) {
        size_t len = strlen(t->cells[i]);

        if (len > width[i % t->ncols])
            width[i % t->ncols] = len;
    }
    for (unsigned i = 0; i < t->n; i++) {
        unsigned col = i % t->ncols;
        bool last = col == t->ncols - 1 || i == t->n - 1;
        const char *color = t->colors[i];

        fprintf(f, "%s%s%s", color ? color : "", t->cells[i],
                color && *color ? out_reset() : "");
        if (last)
            fputc('\n', f);
        else
            fprintf(f, "%*s", (int)(width[col] - strlen(t->cells[i]) + 2),
                    "");
    }
    free(width);
}

void table_free(struct table *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < t->n; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t->colors);
    free(t);
}

/* ------------------------------------------------------------ JSON */
void json_str(json_gen g, const char *s)
{
    if (s)
        json_string(g, s, strlen(s));
    else
        json_null(g);
}

void json_kv_str(json_gen g, const char *k, const char *v)
{
    json_str(g, k);
    json_str(g, v);
}

void json_kv_int(json_gen g, const char *k, long long v)
{
    json_str(g, k);
    json_integer(g, v);
}

void json_kv_u64(json_gen g, const char *k, uint64_t v)
{
    char num[24];

    /* json_integer takes a long long: print the digits ourselves */
    snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    json_str(g, k);
    json_number(g, num, strlen(num));
}

void json_kv_bool(json_gen g, const char *k, bool v)
{
    json_str(g, k);
    json_bool(g, v);
}

void json_kv_tristate(json_gen g, const char *k, enum xpci_tristate v)
{
    json_str(g, k);
    if (v == XPCI_UNKNOWN)
        json_null(g);
    else
        json_bool(g, v == XPCI_YES);
}

void json_kv_strv(json_gen g, const char *k, char *const *v, unsigned n)
{
    json_str(g, k);
    json_array_open(g);
    for (unsigned i = 0; i < n; i++)
        json_str(g, v[i]);
    json_array_close(g);
}

void json_host_info(json_gen g, const struct xpci_host *host)
{
    struct xpci_host_info info;
    const char *why;
    const char *const *noop = xpci_spec_noop_options(&why);
    unsigned n_noop = 0;

    xpci_host_get_info(host, &info);
    while (noop[n_noop])
        n_noop++;
    json_str(g, "xen");
    json_map_open(g);
    json_kv_tristate(g, "running", info.xen_running);
    json_kv_tristate(g, "iommu", info.iommu_enabled);
    json_kv_str(g, "unavailable", info.hv_unavailable);
    json_kv_str(g, "xenstore_unavailable", info.xs_unavailable);
    json_kv_str(g, "version", info.xen_version);
    json_kv_str(g, "built_for", info.built_for);
    json_kv_strv(g, "noop_options", (char *const *)noop, n_noop);
    json_kv_str(g, "noop_reason", why);
    json_map_close(g);
}

/* "4.20.4" and "4.20" name the same release. */
static bool same_release(const char *version, const char *release)
{
    size_t n = strlen(release);

    return !strncmp(version, release, n) &&
           (version[n] == '\0' || version[n] == '.' || version[n] == '-');
}

void out_host_header(const struct xpci_host *host)
{
    struct xpci_host_info info;
    const char *why;
    const char *const *noop = xpci_spec_noop_options(&why);

    xpci_host_get_info(host, &info);
    if (info.xen_version)
        printf("Xen %s (xpci built for Xen %s)\n", info.xen_version,
               info.built_for);
    else if (info.xen_running == XPCI_NO)
        printf("Xen not running (xpci built for Xen %s)\n", info.built_for);
    else
        printf("Xen version unknown: %s (xpci built for Xen %s)\n",
               info.hv_unavailable ? info.hv_unavailable : "not reported",
               info.built_for);
    if (info.xen_version && !same_release(info.xen_version, info.built_for))
        printf("  mismatch: libxenctrl's interface changes with every "
               "release; build xpci for Xen %s\n", info.xen_version);
    printf("  options with no effect:");
    for (unsigned i = 0; noop[i]; i++)
        printf("%s %s", i ? "," : "", noop[i]);
    printf(" (%s)\n\n", why);
}

void json_checks(json_gen g, const struct xpci_report *rep)
{
    json_kv_str(g, "verdict", xpci_level_name(rep->verdict));
    json_kv_strv(g, "together", rep->together, rep->n_together);
    json_str(g, "checks");
    json_array_open(g);
    for (unsigned i = 0; i < rep->n_checks; i++) {
        const struct xpci_check *c = &rep->checks[i];

        json_map_open(g);
        json_kv_str(g, "id", c->id);
        json_kv_str(g, "level", xpci_level_name(c->level));
        json_kv_str(g, "reason", c->reason);
        json_kv_str(g, "remedy", c->remedy);
        json_map_close(g);
    }
    json_array_close(g);
}

/* ------------------------------------------------------------ results */
int cli_exit_code(int r)
{
    if (r == 0)
        return EXIT_OK;
    return r == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
}

int out_finish(const char *op, struct xpci_result *res, bool dry_run, int r,
               bool json, xpci_ctx *ctx)
{
    out_result(op, res, dry_run, r, json, NULL, NULL);
    xpci_result_free(res);
    xpci_ctx_free(ctx);
    return cli_exit_code(r);
}

static void json_result(const char *op, const struct xpci_result *res,
                        bool dry_run, int r, out_json_fn extra,
                        const void *arg)
{
    json_gen g = json_open();

    json_map_open(g);
    json_kv_str(g, "schema", "xpci-result/1");
    json_kv_str(g, "op", op);
    json_kv_bool(g, "ok", r == 0);
    json_kv_bool(g, "dry_run", dry_run);
    json_kv_strv(g, "plan", res ? res->plan : NULL, res ? res->n_plan : 0);
    json_kv_int(g, "done", res ? res->n_done : 0);
    json_kv_strv(g, "notes", res ? res->notes : NULL, res ? res->n_notes : 0);
    json_kv_str(g, "error",
                res && res->error ? res->error : r ? strerror(-r) : NULL);
    json_kv_bool(g, "rolled_back", res && res->rolled_back);
    json_kv_strv(g, "undo_errors", res ? res->undo_errors : NULL,
                 res ? res->n_undo_errors : 0);
    if (extra)
        extra(g, arg);
    json_map_close(g);
    json_close(g);
    fputc('\n', stdout);
}

void out_result(const char *op, const struct xpci_result *res, bool dry_run,
                int r, bool json, out_json_fn extra, const void *arg)
{
    if (json) {
        json_result(op, res, dry_run, r, extra, arg);
        return;
    }
    if (!res) {
        fprintf(stderr, "xpci %s: %s\n", op, strerror(-r));
        return;
    }
    if (dry_run && r == 0) {
        printf("%s would run %u step(s):\n", op, res->n_plan);
        for (unsigned i = 0; i < res->n_plan; i++)
            printf("  %2u. %s\n", i + 1, res->plan[i]);
    } else if (opt_verbose) {
        for (unsigned i = 0; i < res->n_done && i < res->n_plan; i++)
            printf("  done: %s\n", res->plan[i]);
    }
    for (unsigned i = 0; i < res->n_notes; i++)
        printf("%s\n", res->notes[i]);
    if (r == 0)
        return;
    fprintf(stderr, "xpci %s: %s\n", op,
            res->error ? res->error : strerror(-r));
    if (res->rolled_back)
        fprintf(stderr, "xpci %s: undone: every function is as it was\n", op);
    for (unsigned i = 0; i < res->n_undo_errors; i++)
        fprintf(stderr, "xpci %s: UNDO FAILED: %s\n", op,
                res->undo_errors[i]);
}

/* ------------------------------------------------------------ names */
/*
 * pci.ids holds "VVVV  vendor", "\tDDDD  device", "\t\tSSSS SSSS  subsys"
 * and, after the devices, "C CC  class" with "\tSS  subclass" lines.  Only
 * the entries of the functions present are kept, in one pass.
 */
struct name_entry {
    uint32_t key;   /* vendor << 16 | device; 0xffff0000 | vendor for a
                       vendor; class entries in their own table */
    char *name;
};

static struct name_entry *ids, *classes;
static size_t n_ids, n_classes;
static char name_buf[768];

static int cmp_entry(const void *a, const void *b)
{
    uint32_t x = ((const struct name_entry *)a)->key;
    uint32_t y = ((const struct name_entry *)b)->key;

    return x < y ? -1 : x > y;
}

static struct name_entry *find(struct name_entry *tab, size_t n, uint32_t key)
{
    struct name_entry k = {.key = key};

    return n ? bsearch(&k, tab, n, sizeof(*tab), cmp_entry) : NULL;
}

/* Unique sorted keys with NULL names. */
static struct name_entry *make_keys(const struct xpci_host *host, bool cls,
                                    size_t *n_r)
{
    size_t n = xpci_host_count(host), k = 0;
    struct name_entry *tab = calloc(2 * n + 1, sizeof(*tab));

    if (!tab)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const struct xpci_device *d = xpci_host_device(host, i);

        if (cls) {
            tab[k++].key = 0xff0000U | (d->class_code >> 16);
            tab[k++].key = d->class_code >> 8;
        } else {
            tab[k++].key = 0xffff0000U | d->vendor;
            tab[k++].key = (uint32_t)d->vendor << 16 | d->device;
        }
    }
    qsort(tab, k, sizeof(*tab), cmp_entry);
    n = 0;
    for (size_t i = 0; i < k; i++)
        if (!n || tab[n - 1].key != tab[i].key)
            tab[n++] = tab[i];
    *n_r = n;
    return tab;
}

static void set_name(struct name_entry *e, const char *s)
{
    size_t len = strcspn(s, "\n");

    if (e && !e->name) {
        e->name = strndup(s, len);
    }
}

void out_names_load(const struct xpci_host *host)
{
    static const char *const paths[] = {
        "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids",
        "/usr/share/pci.ids"};
    const char *path = getenv("XPCI_PCI_IDS");
    char line[1024];
    uint32_t vendor = 0, cls = 0;
    bool in_class = false, vendor_wanted = false;
    FILE *f = NULL;

    ids = make_keys(host, false, &n_ids);
    classes = make_keys(host, true, &n_classes);
    if (path)
        f = fopen(path, "re");
    for (size_t i = 0; !path && !f && i < sizeof(paths) / sizeof(*paths); i++)
        f = fopen(paths[i], "re");
    if (!f || !ids || !classes) {
        if (f)
            fclose(f);
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        unsigned v;

        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (line[0] == 'C' && line[1] == ' ') {
            in_class = sscanf(line + 2, "%2x", &v) == 1;
            cls = v;
            if (in_class && strlen(line) > 6)
                set_name(find(classes, n_classes, 0xff0000U | cls), line + 6);
        } else if (in_class && line[0] == '\t' && line[1] != '\t') {
            if (sscanf(line + 1, "%2x", &v) == 1 && strlen(line) > 5)
                set_name(find(classes, n_classes, cls << 8 | v), line + 5);
        } else if (!in_class && line[0] != '\t') {
            vendor_wanted = false;
            if (sscanf(line, "%4x", &v) == 1 && strlen(line) > 6) {
                struct name_entry *e = find(ids, n_ids, 0xffff0000U | v);

                vendor = v;
                vendor_wanted = e != NULL;
                set_name(e, line + 6);
            }
        } else if (!in_class && vendor_wanted && line[1] != '\t') {
            if (sscanf(line + 1, "%4x", &v) == 1 && strlen(line) > 7)
                set_name(find(ids, n_ids, vendor << 16 | v), line + 7);
        }
    }
    fclose(f);
}

const char *out_device_name(const struct xpci_device *d)
{
    struct name_entry *sub = find(classes, n_classes, d->class_code >> 8);
    struct name_entry *base =
        find(classes, n_classes, 0xff0000U | (d->class_code >> 16));
    struct name_entry *ven = find(ids, n_ids, 0xffff0000U | d->vendor);
    struct name_entry *dev =
        find(ids, n_ids, (uint32_t)d->vendor << 16 | d->device);
    char cls[128], vend[256], devn[256];

    if (sub && sub->name)
        snprintf(cls, sizeof(cls), "%s", sub->name);
    else if (base && base->name)
        snprintf(cls, sizeof(cls), "%s", base->name);
    else
        snprintf(cls, sizeof(cls), "Class %04x", d->class_code >> 8);
    if (ven && ven->name)
        snprintf(vend, sizeof(vend), "%s", ven->name);
    else
        snprintf(vend, sizeof(vend), "Vendor %04x", d->vendor);
    if (dev && dev->name)
        snprintf(devn, sizeof(devn), "%s", dev->name);
    else
        snprintf(devn, sizeof(devn), "Device %04x", d->device);
    snprintf(name_buf, sizeof(name_buf), "%s: %s %s", cls, vend, devn);
    return name_buf;
}

void out_names_free(void)
{
    for (size_t i = 0; i < n_ids; i++)
        free(ids[i].name);
    for (size_t i = 0; i < n_classes; i++)
        free(classes[i].name);
    free(ids);
    free(classes);
    ids = classes = NULL;
    n_ids = n_classes = 0;
}
