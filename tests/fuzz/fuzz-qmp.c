/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz-qmp.c - libFuzzer target: the QMP client reading whatever a device
 * model sends.  The input is the whole stream from the server (greeting,
 * answers, events); the client opens over a socket pair, runs query-pci
 * walks for two functions, a command, and waits for an event, until the
 * stream ends.  Answers match commands by id (1, 2, ...), so the seeds
 * carry ids and the fuzzer keeps them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "qmp.h"

/* Longest stream tried: what one socket buffer takes at once. */
#define STREAM_MAX (256u << 10)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct xpci_bdf a = {0, 1, 0, 0}, b = {0x12, 3, 0x1f, 7};
    struct xpci__qmp *q = NULL;
    int sv[2], buf = STREAM_MAX * 2, vdevfn;
    char *err = NULL, *ret = NULL;

    if (size > STREAM_MAX)
        return 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                   sv))
        abort();
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    if (size && write(sv[1], data, size) != (ssize_t)size) {
        close(sv[0]);
        close(sv[1]);
        return 0; /* the socket took less: not a stream to try */
    }
    /* the server has said everything: then end of stream */
    shutdown(sv[1], SHUT_WR);
    if (xpci__qmp_open_fd(sv[0], 1000, &q, &err) < 0) {
        close(sv[0]);
        goto out;
    }
    xpci__qmp_pt_find(q, &a, 1000, &vdevfn, &err);
    free(err);
    err = NULL;
    xpci__qmp_pt_find(q, &b, 1000, &vdevfn, &err);
    free(err);
    err = NULL;
    if (xpci__qmp_command(q, "query-status", NULL, 1000, &ret, &err) == 0)
        free(ret);
    free(err);
    err = NULL;
    xpci__qmp_wait_event(q, "DEVICE_DELETED", "pci-pt-01_00.0", 1000, &err);
    xpci__qmp_close(q);
out:
    free(err);
    close(sv[1]);
    return 0;
}
