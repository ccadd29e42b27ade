/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake-xs.h - an in-memory xenstore for unit tests: nodes with values and
 * permissions, directories, recursive removal, and a failure to inject.
 * Transactions always commit.  Watches are accepted; a wait for one asks
 * the peer, if set, to act and fires when it changed something, else it
 * times out at once (the integration suite runs the real xenstored).
 */
#ifndef FAKE_XS_H
#define FAKE_XS_H

#include "xpci.h"

struct fake_xs;

struct fake_xs *fake_xs_new(void);
void fake_xs_free(struct fake_xs *xs);
extern const struct xpci_xs_ops fake_xs_ops;

/* Value at path, or NULL when absent. */
const char *fake_xs_get(const struct fake_xs *xs, const char *path);
void fake_xs_set(struct fake_xs *xs, const char *path, const char *val);
/* Number of nodes at or below path. */
unsigned fake_xs_count(const struct fake_xs *xs, const char *path);
/* Make hook `op` ("write", "rm", ...) fail with -err, count times (-1:
 * always). */
void fake_xs_fail(struct fake_xs *xs, const char *op, int err, int count);

/* The other end of a protocol: called on every wait for a watch; returns
 * how many nodes it changed (0: nothing to do, so the wait times out). */
void fake_xs_set_peer(struct fake_xs *xs,
                      int (*peer)(struct fake_xs *xs, void *arg), void *arg);

#endif /* FAKE_XS_H */
