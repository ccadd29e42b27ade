/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-perms - print what a domain may touch, as Xen itself keeps it: the
 * domain's interrupt, I/O memory and I/O port rangesets.
 *
 * Usage: xen-perms DOMID
 * Output, one range a line (frames and ports in hex, interrupts decimal):
 *   irq 16
 *   iomem fe800-fe81f
 *   ioport c000-c03f
 * Exit status: 0 printed, 1 failed (reason on stderr), 2 usage.
 *
 * Xen has no hypercall that reads these sets back; its 'q' debug key
 * (dump_domains, xen/common/keyhandler.c) prints them for every domain
 * ("Rangesets belonging to domain N:", xen/common/rangeset.c).  This asks
 * for that dump through libxenctrl and reads it from the console ring.
 * It changes nothing.  Built for the VM suite's dom0 (Debian's
 * libxenctrl); not installed with xpci.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenctrl.h>

#define RING_MAX (4U << 20)
#define HEADER "Rangesets belonging to domain "

/* The console ring as one string; NULL on failure. */
static char *read_ring(xc_interface *xch)
{
    unsigned int n = RING_MAX - 1;
    char *buf = malloc(RING_MAX);

    if (!buf)
        return NULL;
    if (xc_readconsolering(xch, buf, &n, 0, 0, NULL) < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* How many dumps of domid the ring holds, and where the last starts. */
static unsigned count_dumps(const char *ring, unsigned domid,
                            const char **last_r)
{
    char want[64];
    unsigned n = 0;
    const char *p = ring;

    snprintf(want, sizeof(want), HEADER "%u:", domid);
    *last_r = NULL;
    while ((p = strstr(p, want))) {
        *last_r = p;
        n++;
        p += strlen(want);
    }
    return n;
}

/* "    Interrupts { 16, 24-27 }" -> "irq 16", "irq 24-27". */
static int print_set(const char *line)
{
    static const struct {
        const char *name, *out;
    } sets[] = {
        {"Interrupts", "irq"},
        {"I/O Memory", "iomem"},
        {"I/O Ports", "ioport"},
    };
    const char *open = strchr(line, '{'), *close, *p;

    if (!open || !(close = strchr(open, '}')))
        return 0;
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        const char *at = strstr(line, sets[i].name);

        if (!at || at > open)
            continue;
        for (p = open + 1; p < close;) {
            size_t len;

            while (p < close && (*p == ' ' || *p == ','))
                p++;
            len = strcspn(p, ", }");
            if (len && p + len <= close)
                printf("%s %.*s\n", sets[i].out, (int)len, p);
            p += len;
        }
        return 1;
    }
    return 1; /* a set this probe does not report */
}

int main(int argc, char **argv)
{
    const char *last = NULL, *p;
    xc_interface *xch;
    unsigned domid, before, tries;
    char *ring, *end;

    if (argc != 2 || !*argv[1]) {
        fprintf(stderr, "usage: xen-perms DOMID\n");
        return 2;
    }
    domid = (unsigned)strtoul(argv[1], &end, 10);
    if (*end) {
        fprintf(stderr, "xen-perms: not a domid: %s\n", argv[1]);
        return 2;
    }
    xch = xc_interface_open(NULL, NULL, 0);
    if (!xch) {
        perror("xen-perms: xc_interface_open");
        return 1;
    }
    ring = read_ring(xch);
    before = ring ? count_dumps(ring, domid, &last) : 0;
    free(ring);
    if (xc_send_debug_keys(xch, "q") < 0) {
        perror("xen-perms: xc_send_debug_keys");
        return 1;
    }
    /* The dump may be printed from a tasklet: poll for it (5 s). */
    for (tries = 0, ring = NULL; tries < 50; tries++) {
        free(ring);
        ring = read_ring(xch);
        if (ring && count_dumps(ring, domid, &last) > before)
            break;
        last = NULL;
        usleep(100000);
    }
    xc_interface_close(xch);
    if (!last) {
        fprintf(stderr, "xen-perms: no rangeset dump for domain %u "
                        "(no such domain?)\n", domid);
        free(ring);
        return 1;
    }
    /* The lines after the header, up to the first that is not a set. */
    p = strchr(last, '\n');
    while (p && *++p) {
        const char *nl = strchr(p, '\n');
        char line[4096];
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        if (len >= sizeof(line))
            len = sizeof(line) - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        if (!print_set(line))
            break;
        p = nl;
    }
    free(ring);
    return 0;
}
