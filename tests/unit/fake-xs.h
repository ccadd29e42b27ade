/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake-xs.h - an in-memory xenstore for unit tests: nodes with values and
 * permissions, directories, recursive removal, and a failure to inject.
 * Transactions always commit; watches are accepted and never fire (the
 * integration suite runs the real xenstored for those).
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

#endif /* FAKE_XS_H */
