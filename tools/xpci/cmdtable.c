/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cmdtable.c - the table of xpci's commands, their one-line summaries,
 * argument synopses and options.
 */
#include <string.h>

#include "xpci-cli.h"

const struct cmd_spec cmd_table[] = {
    {"list", cmd_list, "List PCI functions with driver and assignability",
     "[--json]",
     "  --json       machine-readable output (schema xpci-list/1)\n"},
    {"check", cmd_check,
     "Explain whether PCI functions can be assigned to a guest",
     "[--json] (--all | DEV...)",
     "  DEV          a BDF ([DDDD:]BB:DD.F) or a location path\n"
     "               (pci0000:00/1c.0/00.0)\n"
     "  -a, --all    every function of the host\n"
     "  --json       machine-readable output (schema xpci-check/1)\n"
     "Exits 1 when any requested function fails a check.\n"},
    {"help", cmd_help, "Show help", "[COMMAND]", ""},
};

const unsigned cmd_table_n = sizeof(cmd_table) / sizeof(cmd_table[0]);

const struct cmd_spec *cmd_lookup(const char *name)
{
    for (unsigned i = 0; i < cmd_table_n; i++)
        if (!strcmp(cmd_table[i].name, name))
            return &cmd_table[i];
    return NULL;
}

void cmd_usage(const struct cmd_spec *cmd, FILE *f)
{
    fprintf(f, "Usage: xpci %s %s\n\n%s.\n", cmd->name, cmd->usage,
            cmd->summary);
    if (cmd->options && *cmd->options)
        fprintf(f, "\nOptions:\n%s", cmd->options);
}
