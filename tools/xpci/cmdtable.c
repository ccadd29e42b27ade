/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cmdtable.c - the table of xpci's commands, their one-line summaries,
 * argument synopses and options.
 */
#include <string.h>

#include "xpci-cli.h"

const struct cmd_spec cmd_table[] = {
    {"list", cmd_list, "List PCI functions with driver and assignability",
     "[--json] [--match SELECTOR]... [--expect N]",
     "  --json       machine-readable output (schema xpci-list/1)\n"
     "  --match SEL  only the functions selector SEL picks, e.g.\n"
     "               vendor=8086,device=1572 class=02 pf=0000:3b:00.0\n"
     "               (keys: vendor device class address location\n"
     "               driver pf numa; see xpci(8)); repeat for a union\n"
     "  --expect N   fail unless the selectors pick exactly N\n"},
    {"check", cmd_check,
     "Explain whether PCI functions can be assigned to a guest",
     "[--json] (--all | DEV... | --match SELECTOR...)",
     "  DEV          a BDF ([DDDD:]BB:DD.F) or a location path\n"
     "               (pci0000:00/1c.0/00.0)\n"
     "  -a, --all    every function of the host\n"
     "  --match SEL  the functions selector SEL picks (see xpci(8));\n"
     "               --expect N: exactly N of them\n"
     "  --json       machine-readable output (schema xpci-check/1)\n"
     "Exits 1 when any requested function fails a check; with --all,\n"
     "bridges (never candidates for a guest) do not count.\n"},
    {"assignable-add", cmd_assignable_add,
     "Hide functions from dom0 so guests can have them",
     "[-n NAME] [-f] [--dry-run] [--json] (DEV... | --match SEL...)",
     "  DEV            a BDF, a location path or a name\n"
     "  --match SEL    also the functions selector SEL picks (see\n"
     "                 xpci(8)); --expect N: exactly N of them; with\n"
     "                 --match, the devices may be left out\n"
     "  -n, --name     name the (single) function\n"
     "  -f, --force    take it even though dom0 uses it (warn-level\n"
     "                 findings only; a missing IOMMU always refuses)\n"
     "  --dry-run      print every step and change nothing\n"
     "  --no-persist   don't keep it hidden across reboots\n"
     "  --json         machine-readable result (schema xpci-result/1)\n"
     "Functions that must go together are hidden together.  All or\n"
     "nothing: a failure puts every function back as it was.\n"},
    {"assignable-remove", cmd_assignable_remove,
     "Give hidden functions back to dom0",
     "[-r] [--dry-run] [--json] (DEV... | --match SEL...)",
     "  --match SEL    also the functions selector SEL picks (see\n"
     "                 xpci(8)); --expect N: exactly N of them; with\n"
     "                 --match, the devices may be left out\n"
     "  -r, --rebind   bind the original driver again and check it came up\n"
     "  --dry-run      print every step and change nothing\n"
     "  --json         machine-readable result (schema xpci-result/1)\n"},
    {"assignable-list", cmd_assignable_list,
     "List hidden functions (by xpci or xl)", "[--json]",
     "  --json         machine-readable output (schema "
     "xpci-assignable/1)\n"},
    {"prepare", cmd_prepare,
     "Make the functions of an xl domain config assignable",
     "[-f] [--dry-run] [--json] DOMAIN.cfg",
     "  DOMAIN.cfg     an xl domain config; every entry of its pci list\n"
     "                 is parsed, and every function it names is hidden\n"
     "                 from dom0 in one step, so xl create can have them\n"
     "  -f, --force    take them even though dom0 uses them; seize=1 in an\n"
     "                 entry (or pci_seize=1) does this for its function\n"
     "  --dry-run      print every step and change nothing\n"
     "  --json         machine-readable result (schema xpci-result/1)\n"
     "All or nothing, as assignable-add.\n"},
    {"attach", cmd_attach, "Give assignable functions to a running domain",
     "[--dry-run] [--json] [--seize] [--timeout SEC] [--match SEL]... "
     "DOMAIN SPEC...",
     "  DOMAIN         a domain name or id\n"
     "  SPEC           an xl PCI_SPEC_STRING: BDF[@VSLOT][,KEY=VALUE...]\n"
     "                 or name=NAME (see xl-pci-configuration(5))\n"
     "  --match SEL    also the functions selector SEL picks (see\n"
     "                 xpci(8)); --expect N: exactly N of them; with\n"
     "                 --match, the devices may be left out\n"
     "  --seize        make functions that are not assignable yet\n"
     "                 assignable first (as seize=1 in every SPEC)\n"
     "  --timeout SEC  how long the guest or device model may take\n"
     "                 (default 10)\n"
     "  --dry-run      print every step and change nothing\n"
     "  --json         machine-readable result (schema xpci-result/1)\n"
     "Several SPECs are one transaction: all are attached or none.\n"},
    {"detach", cmd_detach, "Take functions back from a domain",
     "[-f] [--dry-run] [--json] [--timeout SEC] [--match SEL]... "
     "DOMAIN DEV...",
     "  DEV            a BDF, a PCI_SPEC_STRING or an assignable name;\n"
     "                 BB:DD.* is every attached function of the slot\n"
     "  --match SEL    also the functions selector SEL picks (see\n"
     "                 xpci(8)); --expect N: exactly N of them; with\n"
     "                 --match, the devices may be left out\n"
     "  -f, --force    take them even when the guest does not release\n"
     "                 them in time\n"
     "  --timeout SEC  how long the guest may take (default 10)\n"
     "  --dry-run      print every step and change nothing\n"
     "  --json         machine-readable result (schema xpci-result/1)\n"
     "The functions stay assignable (in pciback, quarantined).\n"},
    {"attached", cmd_attached, "List the functions domains hold",
     "[DOMAIN] [--json]",
     "  DOMAIN         only this domain (name or id)\n"
     "  --json         machine-readable output (schema xpci-attached/1)\n"},
    {"recover", cmd_recover,
     "Undo an operation interrupted by a crash", "[--json]",
     "  --json         machine-readable result (schema xpci-result/1)\n"},
    {"capture", cmd_capture,
     "Write this host's PCI sysfs and proc files as a tar archive",
     "[-o FILE] [--with-mac]",
     "  -o, --output FILE  write the archive to FILE (else to stdout)\n"
     "  --with-mac         keep network interfaces' MAC addresses\n"
     "xpci --root FILE reads the archive back.\n"},
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
