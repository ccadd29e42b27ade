/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake-xs.c - the in-memory xenstore of the unit tests (see fake-xs.h).
 * Nodes live in a flat array of absolute paths; parents are created on
 * write as xenstored does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake-xs.h"

struct node {
    char *path;
    char *val;
    struct xpci_xs_perm perms[4];
    unsigned n_perms;
};

struct fake_xs {
    struct node *nodes;
    unsigned n, alloc;
    char fail_op[32];
    int fail_err, fail_count;
    int (*peer)(struct fake_xs *xs, void *arg);
    void *peer_arg;
    /* the store as a transaction found it, for an abort */
    struct node *saved;
    unsigned n_saved;
    bool in_txn;
};

static void nodes_free(struct node *nodes, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        free(nodes[i].path);
        free(nodes[i].val);
    }
    free(nodes);
}

static struct node *nodes_copy(const struct node *nodes, unsigned n)
{
    struct node *c = calloc(n ? n : 1, sizeof(*c));

    if (!c)
        abort();
    for (unsigned i = 0; i < n; i++) {
        c[i] = nodes[i];
        c[i].path = strdup(nodes[i].path);
        c[i].val = strdup(nodes[i].val);
        if (!c[i].path || !c[i].val)
            abort();
    }
    return c;
}

void fake_xs_set_peer(struct fake_xs *xs,
                      int (*peer)(struct fake_xs *xs, void *arg), void *arg)
{
    xs->peer = peer;
    xs->peer_arg = arg;
}

struct fake_xs *fake_xs_new(void)
{
    struct fake_xs *xs = calloc(1, sizeof(*xs));

    if (!xs)
        abort();
    return xs;
}

void fake_xs_free(struct fake_xs *xs)
{
    if (!xs)
        return;
    nodes_free(xs->nodes, xs->n);
    nodes_free(xs->saved, xs->n_saved);
    free(xs);
}

static int failing(struct fake_xs *xs, const char *op)
{
    if (!xs->fail_count || strcmp(xs->fail_op, op))
        return 0;
    if (xs->fail_count > 0)
        xs->fail_count--;
    return xs->fail_err;
}

void fake_xs_fail(struct fake_xs *xs, const char *op, int err, int count)
{
    strncpy(xs->fail_op, op, sizeof(xs->fail_op) - 1);
    xs->fail_err = -err;
    xs->fail_count = count;
}

static struct node *find(const struct fake_xs *xs, const char *path)
{
    for (unsigned i = 0; i < xs->n; i++)
        if (!strcmp(xs->nodes[i].path, path))
            return &xs->nodes[i];
    return NULL;
}

static struct node *create(struct fake_xs *xs, const char *path)
{
    struct node *n = find(xs, path);
    char *parent, *slash;

    if (n)
        return n;
    parent = strdup(path);
    slash = parent ? strrchr(parent, '/') : NULL;
    if (slash && slash != parent) {
        *slash = '\0';
        create(xs, parent);
    }
    free(parent);
    if (xs->n == xs->alloc) {
        xs->alloc = xs->alloc ? xs->alloc * 2 : 32;
        xs->nodes = realloc(xs->nodes, xs->alloc * sizeof(*xs->nodes));
        if (!xs->nodes)
            abort();
    }
    n = &xs->nodes[xs->n++];
    memset(n, 0, sizeof(*n));
    n->path = strdup(path);
    n->val = strdup("");
    n->n_perms = 1; /* owner dom0, no access for others */
    return n;
}

const char *fake_xs_get(const struct fake_xs *xs, const char *path)
{
    struct node *n = find(xs, path);

    return n ? n->val : NULL;
}

void fake_xs_set(struct fake_xs *xs, const char *path, const char *val)
{
    struct node *n = create(xs, path);

    free(n->val);
    n->val = strdup(val);
}

static bool below(const char *path, const char *top)
{
    size_t len = strlen(top);

    return !strncmp(path, top, len) && (path[len] == '\0' || path[len] == '/');
}

unsigned fake_xs_count(const struct fake_xs *xs, const char *path)
{
    unsigned c = 0;

    for (unsigned i = 0; i < xs->n; i++)
        c += below(xs->nodes[i].path, path);
    return c;
}

static void xs_close(void *priv)
{
}

/* One transaction at a time; an abort puts the store back as the
 * transaction found it (a commit never conflicts). */
static int xs_txn_start(void *priv, uint32_t *txn_r)
{
    struct fake_xs *xs = priv;
    int r = failing(priv, "txn_start");

    if (r)
        return r;
    nodes_free(xs->saved, xs->n_saved);
    xs->saved = nodes_copy(xs->nodes, xs->n);
    xs->n_saved = xs->n;
    xs->in_txn = true;
    *txn_r = 1;
    return 0;
}

static int xs_txn_end(void *priv, uint32_t txn, bool abort)
{
    struct fake_xs *xs = priv;
    int r = failing(priv, "txn_end");

    (void)txn;
    if (xs->in_txn && (abort || r)) {
        nodes_free(xs->nodes, xs->n);
        xs->nodes = xs->saved;
        xs->n = xs->alloc = xs->n_saved;
        xs->saved = NULL;
        xs->n_saved = 0;
    }
    xs->in_txn = false;
    return r;
}

static int xs_read(void *priv, uint32_t txn, const char *path, char **val_r)
{
    struct node *n = find(priv, path);
    int r = failing(priv, "read");

    if (r)
        return r;
    if (!n)
        return -ENOENT;
    *val_r = strdup(n->val);
    return *val_r ? 0 : -ENOMEM;
}

static int xs_write(void *priv, uint32_t txn, const char *path,
                    const char *val)
{
    int r = failing(priv, "write");

    if (r)
        return r;
    fake_xs_set(priv, path, val);
    return 0;
}

static int xs_mkdir(void *priv, uint32_t txn, const char *path)
{
    int r = failing(priv, "mkdir");

    if (r)
        return r;
    create(priv, path);
    return 0;
}

static int xs_rm(void *priv, uint32_t txn, const char *path)
{
    struct fake_xs *xs = priv;
    int r = failing(priv, "rm");
    unsigned w = 0;

    if (r)
        return r;
    if (!find(xs, path))
        return -ENOENT;
    for (unsigned i = 0; i < xs->n; i++) {
        if (below(xs->nodes[i].path, path)) {
            free(xs->nodes[i].path);
            free(xs->nodes[i].val);
        } else {
            xs->nodes[w++] = xs->nodes[i];
        }
    }
    xs->n = w;
    return 0;
}

static int xs_directory(void *priv, uint32_t txn, const char *path,
                        char ***names_r, unsigned *n_r)
{
    struct fake_xs *xs = priv;
    size_t len = strlen(path);
    char **names = calloc(xs->n + 1, sizeof(*names));
    unsigned n = 0;
    int r = failing(priv, "directory");

    if (!names)
        return -ENOMEM;
    if (r || !find(xs, path)) {
        free(names);
        return r ? r : -ENOENT;
    }
    for (unsigned i = 0; i < xs->n; i++) {
        const char *p = xs->nodes[i].path;

        if (!strncmp(p, path, len) && p[len] == '/' &&
            !strchr(p + len + 1, '/'))
            names[n++] = strdup(p + len + 1);
    }
    *names_r = names;
    *n_r = n;
    return 0;
}

static int xs_get_perms(void *priv, uint32_t txn, const char *path,
                        struct xpci_xs_perm **perms_r, unsigned *n_r)
{
    struct node *n = find(priv, path);

    if (!n)
        return -ENOENT;
    *perms_r = calloc(n->n_perms, sizeof(**perms_r));
    if (!*perms_r)
        return -ENOMEM;
    memcpy(*perms_r, n->perms, n->n_perms * sizeof(**perms_r));
    *n_r = n->n_perms;
    return 0;
}

static int xs_set_perms(void *priv, uint32_t txn, const char *path,
                        const struct xpci_xs_perm *perms, unsigned n)
{
    struct node *node = find(priv, path);
    int r = failing(priv, "set_perms");

    if (r)
        return r;
    if (!node)
        return -ENOENT;
    if (n > 4)
        return -E2BIG;
    memcpy(node->perms, perms, n * sizeof(*perms));
    node->n_perms = n;
    return 0;
}

static int xs_watch(void *priv, const char *path, const char *token)
{
    return 0;
}

/* Time does not pass here: a wait ends at once, with an event when the
 * peer (the other end of a protocol) changed something, else with
 * -ETIMEDOUT. */
static int xs_wait_watch(void *priv, int timeout_ms, char **path_r,
                         char **token_r)
{
    struct fake_xs *xs = priv;

    (void)timeout_ms;
    if (!xs->peer || xs->peer(xs, xs->peer_arg) <= 0)
        return -ETIMEDOUT;
    *path_r = strdup("/");
    *token_r = strdup("peer");
    return *path_r && *token_r ? 0 : -ENOMEM;
}

const struct xpci_xs_ops fake_xs_ops = {
    .close = xs_close,
    .txn_start = xs_txn_start,
    .txn_end = xs_txn_end,
    .read = xs_read,
    .write = xs_write,
    .mkdir = xs_mkdir,
    .rm = xs_rm,
    .directory = xs_directory,
    .get_perms = xs_get_perms,
    .set_perms = xs_set_perms,
    .watch = xs_watch,
    .unwatch = xs_watch,
    .wait_watch = xs_wait_watch,
};
