/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli_select.c - the options every command shares after its name (--root)
 * and the selector options of the commands that take devices: --match
 * SELECTOR (repeatable; a function is picked when any selector picks it)
 * and --expect N (the number of functions the selectors must pick).
 * Selectors are parsed by the library, once, while options are read, so a
 * malformed one is a usage error before anything is opened.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xpci-cli.h"

#define MAX_EXPECT 65536

void cli_select_free(struct cli_select *s)
{
    for (unsigned i = 0; i < s->n; i++)
        xpci_selector_free(s->sel[i]);
    s->n = 0;
}

static int take_match(const struct cmd_spec *cmd, struct cli_select *s,
                      const char *arg)
{
    char *why = NULL;
    int r;

    if (s->n == CLI_MAX_MATCH) {
        fprintf(stderr, "xpci %s: at most %d --match options\n", cmd->name,
                CLI_MAX_MATCH);
        return -1;
    }
    r = xpci_selector_parse(arg, &s->sel[s->n], &why);
    if (r < 0) {
        fprintf(stderr, "xpci %s: %s\n", cmd->name,
                why ? why : strerror(-r));
        free(why);
        return -1;
    }
    s->expr[s->n++] = arg;
    return 1;
}

static int take_expect(const struct cmd_spec *cmd, struct cli_select *s,
                       const char *arg)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < 0 || v > MAX_EXPECT ||
        strspn(arg, "0123456789") != strlen(arg)) {
        fprintf(stderr, "xpci %s: --expect '%s': expected a count\n",
                cmd->name, arg);
        return -1;
    }
    s->expect = v;
    return 1;
}

int cli_common_opt(const struct cmd_spec *cmd, struct cli_select *s, int c,
                   const char *arg)
{
    switch (c) {
    case OPT_ROOT:
        opt_root = *arg ? arg : NULL;
        return 1;
    case OPT_MATCH:
    case OPT_EXPECT:
        if (!s) {
            fprintf(stderr, "xpci %s: takes no --match or --expect\n",
                    cmd->name);
            return -1;
        }
        return c == OPT_MATCH ? take_match(cmd, s, arg)
                              : take_expect(cmd, s, arg);
    default:
        return 0;
    }
}

int cli_select_check(const struct cmd_spec *cmd, const struct cli_select *s)
{
    if (s->expect >= 0 && !s->n) {
        fprintf(stderr, "xpci %s: --expect counts what --match picks; give "
                        "a --match\n",
                cmd->name);
        return -1;
    }
    return 0;
}

int cli_select_run(const char *cmd, const struct cli_select *s,
                   const struct xpci_host *host, bool refuse_empty,
                   const struct xpci_device ***devs_r, size_t *n_r)
{
    size_t total = xpci_host_count(host), n = 0;
    const struct xpci_device **devs = calloc(total ? total : 1,
                                             sizeof(*devs));
    unsigned *hits = calloc(s->n ? s->n : 1, sizeof(*hits));

    if (!devs || !hits)
        abort();
    for (size_t i = 0; i < total; i++) {
        const struct xpci_device *d = xpci_host_device(host, i);
        bool picked = false;

        for (unsigned k = 0; k < s->n; k++) {
            if (xpci_selector_match(s->sel[k], host, d)) {
                hits[k]++;
                picked = true;
            }
        }
        if (picked)
            devs[n++] = d;
    }
    for (unsigned k = 0; refuse_empty && k < s->n; k++) {
        if (!hits[k]) {
            fprintf(stderr, "xpci %s: --match '%s' picks no function\n",
                    cmd, s->expr[k]);
            goto fail;
        }
    }
    if (s->expect >= 0 && (long)n != s->expect) {
        fprintf(stderr, "xpci %s: --match picks %zu function%s, --expect "
                        "says %ld:",
                cmd, n, n == 1 ? "" : "s", s->expect);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %s", devs[i]->bdf_str);
        fputc('\n', stderr);
        goto fail;
    }
    free(hits);
    *devs_r = devs;
    *n_r = n;
    return EXIT_OK;
fail:
    free(hits);
    free(devs);
    return EXIT_FAILED;
}

int cli_select_devs(const char *cmd, const struct cli_select *s,
                    char *const *ops, unsigned n_ops, char ***devs_r,
                    unsigned *n_r)
{
    const struct xpci_device **picked = NULL;
    struct xpci_host *host = NULL;
    xpci_ctx *ctx = NULL;
    size_t n_picked = 0;
    char **devs;
    int rc;

    if (s->n) {
        if (cli_open_host(&ctx, 0, &host))
            return EXIT_FAILED;
        rc = cli_select_run(cmd, s, host, true, &picked, &n_picked);
        if (rc) {
            xpci_host_free(host);
            xpci_ctx_free(ctx);
            return rc;
        }
    }
    devs = calloc(n_ops + n_picked + 1, sizeof(*devs));
    if (!devs)
        abort();
    for (unsigned i = 0; i < n_ops; i++)
        if (!(devs[i] = strdup(ops[i])))
            abort();
    for (size_t i = 0; i < n_picked; i++)
        if (!(devs[n_ops + i] = strdup(picked[i]->bdf_str)))
            abort();
    free(picked);
    xpci_host_free(host);
    xpci_ctx_free(ctx);
    *devs_r = devs;
    *n_r = n_ops + (unsigned)n_picked;
    return EXIT_OK;
}

void cli_devs_free(char **devs)
{
    for (char **p = devs; p && *p; p++)
        free(*p);
    free(devs);
}
