/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cmd_capture.c - "xpci capture [-o FILE] [--with-mac]": the PCI part of
 * this host's sysfs and its relevant proc files as a tar archive, for a
 * bug report or a test; `xpci --root FILE` reads it back.  Also the other
 * half: a --root that names an archive is extracted into a private
 * temporary directory, removed at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xpci-cli.h"

enum { OPT_WITH_MAC = 256 };

static char *extracted; /* the temporary root made from an archive */

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static void remove_extracted(void)
{
    if (!extracted)
        return;
    nftw(extracted, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(extracted);
    extracted = NULL;
}

int cli_root_from_archive(const char *path, const char **root_r)
{
    const char *tmp = getenv("TMPDIR");
    struct stat st;
    char *why = NULL;
    int fd, r;

    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0; /* a directory (or nothing): used as it is */
    if (asprintf(&extracted, "%s/xpci-root.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp") < 0) {
        extracted = NULL;
        fprintf(stderr, "xpci: out of memory\n");
        return EXIT_FAILED;
    }
    if (!mkdtemp(extracted)) {
        fprintf(stderr,
                "xpci: --root %s: cannot make a directory to "
                "extract it in (%s): %s\n",
                path, extracted, strerror(errno));
        free(extracted);
        extracted = NULL;
        return EXIT_FAILED;
    }
    atexit(remove_extracted);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "xpci: --root %s: %s\n", path, strerror(errno));
        return EXIT_FAILED;
    }
    r = xpci_capture_extract(fd, extracted, &why);
    close(fd);
    if (r < 0) {
        fprintf(stderr, "xpci: --root %s: not a capture xpci reads: %s\n", path,
                why ? why : strerror(-r));
        free(why);
        return EXIT_FAILED;
    }
    *root_r = extracted;
    return 0;
}

int cmd_capture(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"output", required_argument, NULL, 'o'},
        {"with-mac", no_argument, NULL, OPT_WITH_MAC},
        {NULL, 0, NULL, 0},
    };
    const struct cmd_spec *self = cmd_lookup("capture");
    const char *out = NULL;
    unsigned flags = 0;
    xpci_ctx *ctx = NULL;
    char *why = NULL;
    int c, fd, r;

    optind = 0;
    while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cmd_usage(self, stdout);
            return EXIT_OK;
        case 'o':
            out = optarg;
            break;
        case OPT_WITH_MAC:
            flags |= XPCI_CAPTURE_WITH_MAC;
            break;
        default:
            cmd_usage(self, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cmd_usage(self, stderr);
        return EXIT_USAGE;
    }
    if (!out && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "xpci capture: give -o FILE, or redirect the "
                        "output: it is a tar archive\n");
        return EXIT_USAGE;
    }
    if (cli_open_ctx(&ctx))
        return EXIT_FAILED;
    fd = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
             : STDOUT_FILENO;
    if (fd < 0) {
        fprintf(stderr, "xpci capture: %s: %s\n", out, strerror(errno));
        xpci_ctx_free(ctx);
        return EXIT_FAILED;
    }
    r = xpci_capture(ctx, fd, flags, &why);
    if (out && close(fd) < 0 && r == 0) {
        r = -errno;
        free(why);
        why = NULL;
    }
    if (r < 0) {
        fprintf(stderr, "xpci capture: %s\n", why ? why : strerror(-r));
        if (out)
            unlink(out);
    }
    free(why);
    xpci_ctx_free(ctx);
    return r < 0 ? EXIT_FAILED : EXIT_OK;
}
