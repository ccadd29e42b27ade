/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xpci-pciback.c - the privileged boot helper: "reconcile" re-hides and
 * re-quarantines the persistent set at boot (run by xpci-pciback.service
 * before udev loads device drivers), and "match" tells the udev rule
 * whether a function that just appeared belongs to guests.  Both honour
 * an entry only for the card recorded in it (ids, class, serial number)
 * and only when dom0's checks let the function go.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpci.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
    fprintf(f, "Usage: xpci-pciback reconcile [--dry-run]\n"
               "       xpci-pciback match BDF\n\n"
               "reconcile  hide and quarantine every function of xpci's\n"
               "           persistent set, found by location path, that is\n"
               "           still the card recorded there and that dom0's\n"
               "           checks let go; print a note for each one skipped\n"
               "match      print \"pciback\" and exit 0 when BDF belongs to\n"
               "           the persistent set by the same rules (for udev),\n"
               "           else exit 1\n");
}

static int reconcile(int argc, char **argv)
{
    struct xpci_op_opts opts = {0};
    struct xpci_result *res = NULL;
    xpci_ctx *ctx = NULL;
    int r;

    if (argc == 2 && !strcmp(argv[1], "--dry-run"))
        opts.dry_run = true;
    else if (argc != 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    r = xpci_ctx_new(&ctx, NULL);
    if (r < 0) {
        fprintf(stderr, "xpci-pciback: %s\n", strerror(-r));
        return EXIT_FAILURE;
    }
    r = xpci_reconcile(ctx, &opts, &res);
    for (unsigned i = 0; res && opts.dry_run && i < res->n_plan; i++)
        printf("would: %s\n", res->plan[i]);
    for (unsigned i = 0; res && i < res->n_notes; i++)
        printf("%s\n", res->notes[i]);
    if (r < 0)
        fprintf(stderr, "xpci-pciback reconcile: %s%s\n",
                res && res->error ? res->error : strerror(-r),
                res && res->rolled_back ? " (undone)" : "");
    xpci_result_free(res);
    xpci_ctx_free(ctx);
    return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int match(int argc, char **argv)
{
    struct xpci_params p = {
        .flags = XPCI_CTX_NO_HYPERVISOR | XPCI_CTX_NO_XENSTORE,
    };
    xpci_ctx *ctx = NULL;
    int r;

    if (argc != 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (xpci_ctx_new(&ctx, &p) < 0)
        return EXIT_FAILURE;
    r = xpci_persistent_match(ctx, argv[1]);
    xpci_ctx_free(ctx);
    if (r > 0)
        printf("pciback\n");
    return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_SUCCESS;
    }
    if (!strcmp(argv[1], "reconcile"))
        return reconcile(argc - 1, argv + 1);
    if (!strcmp(argv[1], "match"))
        return match(argc - 1, argv + 1);
    fprintf(stderr, "xpci-pciback: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
