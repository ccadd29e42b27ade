/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * mktree.c - build named host topologies into a directory, for the CLI
 * golden tests and the benchmark:
 *
 *   mktree TOPOLOGY[,TOPOLOGY...] DIR   DIR/sys and DIR/proc
 *   mktree --list                       the names, one a line
 *
 * Exit status: 0 done, 1 the tree could not be built, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topologies.h"

static int usage(FILE *out, int code)
{
    fprintf(out, "usage: mktree TOPOLOGY[,TOPOLOGY...] DIR\n"
                 "       mktree --list\n");
    return code;
}

int main(int argc, char **argv)
{
    struct fake_sysfs *t;
    char *names, *name, *save = NULL;

    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (const struct topo_entry *e = topo_table; e->name; e++)
            puts(e->name);
        return 0;
    }
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
        return usage(stdout, 0);
    if (argc != 3)
        return usage(stderr, 2);

    /* check every name before touching the directory */
    names = strdup(argv[1]);
    if (!names)
        return 1;
    for (name = strtok_r(names, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        if (!topo_lookup(name)) {
            fprintf(stderr, "mktree: unknown topology '%s' (see --list)\n",
                    name);
            free(names);
            return 2;
        }
    }
    free(names);

    t = fake_sysfs_new_at(argv[2]);
    names = strdup(argv[1]);
    if (!names)
        return 1;
    for (name = strtok_r(names, ",", &save); name;
         name = strtok_r(NULL, ",", &save))
        topo_lookup(name)->build(t);
    free(names);
    fake_sysfs_free(t);
    return 0;
}
