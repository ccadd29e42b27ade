#!/usr/bin/python
# SPDX-License-Identifier: GPL-2.0-only

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: xpci_info
short_description: What xpci knows about a Xen host's PCI functions
description:
  - Runs C(xpci list), C(xpci check), C(xpci assignable-list) and
    C(xpci attached) with C(--json) and returns their output unchanged
    (schemas C(xpci-list/1), C(xpci-check/1), C(xpci-assignable/1),
    C(xpci-attached/1), see xpci(8)).
  - Also sets the fact C(xpci) to the same answers.
options:
  gather:
    description: What to ask for.
    type: list
    elements: str
    choices: [list, check, assignable, attached]
    default: [list, assignable]
  match:
    description:
      - Selectors (C(vendor=8086,device=1572), C(class=0200),
        C(pf=0000:3b:00.0), ...) limiting C(list) and C(check) to the
        functions they pick; C(check) without one covers every function.
    type: list
    elements: str
    default: []
  expect:
    description: Fail unless the selectors pick exactly this many functions.
    type: int
  domain:
    description: Only the functions this domain holds (for C(attached)).
    type: str
  xpci_path:
    description: The xpci command.
    type: str
    default: xpci
  root:
    description: Read this host tree instead of the running system (C(--root)).
    type: path
author: xpci maintainers
"""

EXAMPLES = r"""
- name: Every NIC of the Intel X710 family on this host
  xpci.passthrough.xpci_info:
    gather: [list, check]
    match: ["vendor=8086,device=1572"]
  register: nics
"""

RETURN = r"""
list:
  description: C(xpci list --json) (schema xpci-list/1).
  returned: when gathered
  type: dict
check:
  description: C(xpci check --json) (schema xpci-check/1).
  returned: when gathered
  type: dict
assignable:
  description: C(xpci assignable-list --json) (schema xpci-assignable/1).
  returned: when gathered
  type: dict
attached:
  description: C(xpci attached --json) (schema xpci-attached/1).
  returned: when gathered
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.xpci.passthrough.plugins.module_utils.xpci import (
    COMMON_ARGS, SELECT_ARGS, Xpci, select_args)


def main():
    spec = dict(
        gather=dict(type="list", elements="str",
                    choices=["list", "check", "assignable", "attached"],
                    default=["list", "assignable"]),
        domain=dict(type="str"),
    )
    spec.update(COMMON_ARGS)
    spec.update(SELECT_ARGS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    xpci = Xpci(module)
    sel = select_args(module.params)
    gather = module.params["gather"]
    facts = {}

    if "list" in gather:
        facts["list"] = xpci.query("list", sel)
    if "check" in gather:
        # exit 1 only says a function failed a check: the JSON is the answer
        facts["check"] = xpci.query("check", sel if sel else ["--all"],
                                    ok_rcs=(0, 1))
    if "assignable" in gather:
        facts["assignable"] = xpci.query("assignable-list")
    if "attached" in gather:
        dom = module.params.get("domain")
        facts["attached"] = xpci.query("attached", (),
                                       [dom] if dom else ())
    result = dict(changed=False, ansible_facts=dict(xpci=facts))
    result.update(facts)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
