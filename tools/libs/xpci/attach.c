/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * attach.c - giving assignable functions to guests and taking them back.
 */
#include <stdio.h>

#include "xpci-internal.h"

int xpci_domain_resolve(xpci_ctx *ctx, const char *domain, uint32_t *domid_r,
                        char **name_r)
{
    (void)ctx; (void)domain; (void)domid_r; (void)name_r;
    return -EOPNOTSUPP;
}

int xpci_attach(xpci_ctx *ctx, const char *domain, const char *const *specs,
                unsigned n, const struct xpci_attach_opts *opts,
                struct xpci_result **res_r)
{
    (void)ctx; (void)domain; (void)specs; (void)n; (void)opts;
    *res_r = calloc(1, sizeof(**res_r));
    return -EOPNOTSUPP;
}

int xpci_detach(xpci_ctx *ctx, const char *domain, const char *const *devs,
                unsigned n, const struct xpci_attach_opts *opts,
                struct xpci_result **res_r)
{
    (void)ctx; (void)domain; (void)devs; (void)n; (void)opts;
    *res_r = calloc(1, sizeof(**res_r));
    return -EOPNOTSUPP;
}

int xpci_attached_list(xpci_ctx *ctx, const char *domain,
                       struct xpci_attached **list_r, size_t *n_r)
{
    (void)ctx; (void)domain;
    *list_r = NULL;
    *n_r = 0;
    return -EOPNOTSUPP;
}

void xpci_attached_list_free(struct xpci_attached *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i].domain);
        free(list[i].vdev);
        free(list[i].name);
        free(list[i].opts);
    }
    free(list);
}
