#!/usr/bin/python
# SPDX-License-Identifier: GPL-2.0-only

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: xpci_attach
short_description: Give assignable PCI functions to a running Xen domain, or take them back
description:
  - C(state=attached) runs C(xpci attach), C(state=detached)
    C(xpci detach), with C(--json); several functions are one transaction
    (all or none), and functions already where asked are left alone.
  - The task changed something when xpci's plan has steps; in check mode
    xpci runs with C(--dry-run).
  - In diff mode, before and after are what the domain holds
    (C(xpci attached)); in check mode, after is the plan.
options:
  state:
    description: Held by the domain (attached) or back in quarantine (detached).
    type: str
    choices: [attached, detached]
    default: attached
  domain:
    description: The domain's name or id.
    type: str
    required: true
  specs:
    description:
      - xl PCI_SPEC_STRINGs (C(0000:01:00.0,permissive=1), C(name=web));
        for detached also BDFs, names and C(BB:DD.*).
    type: list
    elements: str
    default: []
  match:
    description: Selectors picking functions by what they are (see xpci(8)).
    type: list
    elements: str
    default: []
  expect:
    description: Fail unless the selectors pick exactly this many functions.
    type: int
  seize:
    description: Make functions assignable first (attached).
    type: bool
    default: false
  force:
    description: Take them even when the guest does not release them (detached).
    type: bool
    default: false
  timeout:
    description: Seconds the guest or device model may take.
    type: float
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
- name: Give the hidden NIC to web1
  xpci.passthrough.xpci_attach:
    domain: web1
    specs: ["name=webnic"]
"""

RETURN = r"""
plan:
  description: The steps xpci did (or would do, in check mode).
  returned: always
  type: list
  elements: str
notes:
  description: Outcomes xpci reports (a function already attached, ...).
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


def held(xpci, domain):
    data = xpci.query("attached", (), [domain])
    return lines(sorted("%s%s" % (d.get("bdf"),
                                  " (%s)" % d["name"] if d.get("name") else "")
                        for d in data.get("devices", [])))


def main():
    spec = dict(
        state=dict(type="str", choices=["attached", "detached"],
                   default="attached"),
        domain=dict(type="str", required=True),
        specs=dict(type="list", elements="str", default=[]),
        seize=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
        timeout=dict(type="float"),
    )
    spec.update(COMMON_ARGS)
    spec.update(SELECT_ARGS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_one_of=[("specs", "match")])
    p = module.params
    xpci = Xpci(module)
    args = select_args(p)
    if p["state"] == "attached":
        command = "attach"
        if p["seize"]:
            args.append("--seize")
    else:
        command = "detach"
        if p["force"]:
            args.append("--force")
    if p["timeout"] is not None:
        args += ["--timeout", "%g" % p["timeout"]]

    before = held(xpci, p["domain"]) if module._diff else None
    changed, data = mutate(module, xpci, command, args,
                           [p["domain"]] + p["specs"])
    result = dict(changed=changed, plan=data.get("plan", []),
                  notes=data.get("notes", []), result=data)
    if module._diff:
        if module.check_mode:
            after = lines(data.get("plan", []))
            header = "planned (dry run)"
        else:
            after = held(xpci, p["domain"])
            header = "held by %s" % p["domain"]
        result["diff"] = dict(before=before, after=after,
                              before_header="held by %s" % p["domain"],
                              after_header=header)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
