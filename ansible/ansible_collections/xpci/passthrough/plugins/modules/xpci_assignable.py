#!/usr/bin/python
# SPDX-License-Identifier: GPL-2.0-only

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: xpci_assignable
short_description: Hide PCI functions from dom0 for Xen guests, or give them back
description:
  - C(state=present) runs C(xpci assignable-add), C(state=absent)
    C(xpci assignable-remove), with C(--json); xpci runs its checks, does
    every step in one undoable transaction and leaves functions that
    already are as asked alone.
  - The task changed something when xpci's plan has steps; in check mode
    xpci runs with C(--dry-run) and the plan is what would be done.
  - In diff mode, before and after are the functions xpci or xl hid
    (C(xpci assignable-list)); in check mode, after is the plan.
options:
  state:
    description: Hidden from dom0 (present) or given back (absent).
    type: str
    choices: [present, absent]
    default: present
  devices:
    description: BDFs, location paths or assignable names.
    type: list
    elements: str
    default: []
  match:
    description:
      - Selectors picking functions by what they are (see xpci(8)), for
        hosts whose BDFs differ; each must pick at least one function.
    type: list
    elements: str
    default: []
  expect:
    description: Fail unless the selectors pick exactly this many functions.
    type: int
  name:
    description: A name for the (single) function (present).
    type: str
  force:
    description: Take functions even though dom0 uses them (present).
    type: bool
    default: false
  rebind:
    description: Bind the original driver again (absent).
    type: bool
    default: false
  persist:
    description: Keep them hidden across reboots (present).
    type: bool
    default: true
  xpci_path:
    description: The xpci command.
    type: str
    default: xpci
  root:
    description: Act on this host tree (C(--root)).
    type: path
author: xpci maintainers
"""

EXAMPLES = r"""
- name: Hide the VFs of the first X710 port, exactly four of them
  xpci.passthrough.xpci_assignable:
    match: ["pf=pci0000:00/03.0/00.0"]
    expect: 4
"""

RETURN = r"""
plan:
  description: The steps xpci did (or would do, in check mode).
  returned: always
  type: list
  elements: str
notes:
  description: Outcomes xpci reports (a function already hidden, the reset used).
  returned: always
  type: list
  elements: str
result:
  description: xpci's answer (schema xpci-result/1).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.xpci.passthrough.plugins.module_utils.xpci import (
    COMMON_ARGS, SELECT_ARGS, Xpci, lines, mutate, select_args)


def hidden(xpci):
    data = xpci.query("assignable-list")
    return lines(sorted("%s%s" % (d.get("bdf"),
                                  " (%s)" % d["name"] if d.get("name") else "")
                        for d in data.get("devices", [])))


def main():
    spec = dict(
        state=dict(type="str", choices=["present", "absent"],
                   default="present"),
        devices=dict(type="list", elements="str", default=[]),
        name=dict(type="str"),
        force=dict(type="bool", default=False),
        rebind=dict(type="bool", default=False),
        persist=dict(type="bool", default=True),
    )
    spec.update(COMMON_ARGS)
    spec.update(SELECT_ARGS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_one_of=[("devices", "match")])
    p = module.params
    xpci = Xpci(module)
    args = select_args(p)
    if p["state"] == "present":
        command = "assignable-add"
        if p["name"] is not None:
            args += ["--name", p["name"]]
        if p["force"]:
            args.append("--force")
        if not p["persist"]:
            args.append("--no-persist")
    else:
        command = "assignable-remove"
        if p["rebind"]:
            args.append("--rebind")

    before = hidden(xpci) if module._diff else None
    changed, data = mutate(module, xpci, command, args, p["devices"])
    result = dict(changed=changed, plan=data.get("plan", []),
                  notes=data.get("notes", []), result=data)
    if module._diff:
        if module.check_mode:
            after = lines(data.get("plan", []))
            header = "planned (dry run)"
        else:
            after = hidden(xpci)
            header = "hidden from dom0"
        result["diff"] = dict(before=before, after=after,
                              before_header="hidden from dom0",
                              after_header=header)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
