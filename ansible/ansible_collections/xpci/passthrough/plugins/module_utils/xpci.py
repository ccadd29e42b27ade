# SPDX-License-Identifier: GPL-2.0-only
"""Run xpci with --json and hand its answer back: the one place the
modules of this collection talk to xpci.  Every decision (what to change,
whether a function may be taken, what a selector picks) is xpci's; this
only builds the command line and reads the JSON."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

COMMON_ARGS = dict(
    xpci_path=dict(type="str", default="xpci"),
    root=dict(type="path"),
)

SELECT_ARGS = dict(
    match=dict(type="list", elements="str", default=[]),
    expect=dict(type="int"),
)


class Xpci(object):
    def __init__(self, module):
        self.module = module
        path = module.params["xpci_path"]
        if "/" not in path:
            path = module.get_bin_path(path, required=True)
        self.path = path
        self.root = module.params.get("root")

    def run(self, command, args=(), operands=(), json_out=True):
        """Run `xpci [--root R] COMMAND [--json] ARGS -- OPERANDS`.
        Returns (rc, parsed JSON or None, stderr)."""
        cmd = [self.path]
        if self.root:
            cmd += ["--root", self.root]
        cmd.append(command)
        if json_out:
            cmd.append("--json")
        cmd += list(args)
        if operands:
            cmd += ["--"] + list(operands)
        rc, out, err = self.module.run_command(cmd)
        data = None
        if out.strip():
            try:
                data = json.loads(out)
            except ValueError:
                data = None
        return rc, data, err

    def fail(self, command, rc, data, err, **extra):
        """Fail the task with xpci's own error as msg."""
        why = None
        if isinstance(data, dict):
            why = data.get("error")
        if not why:
            lines = [l for l in (err or "").splitlines() if l.strip()]
            why = "; ".join(lines) if lines else "exit status %d" % rc
        self.module.fail_json(msg=why, rc=rc, stderr=err, command=command,
                              result=data, **extra)

    def query(self, command, args=(), operands=(), ok_rcs=(0,)):
        """A read-only command: its JSON, or the task fails."""
        rc, data, err = self.run(command, args, operands)
        if rc not in ok_rcs or not isinstance(data, dict):
            self.fail(command, rc, data, err)
        return data


def select_args(params):
    """--match/--expect from the module's match and expect options."""
    args = []
    for sel in params.get("match") or []:
        args += ["--match", sel]
    if params.get("expect") is not None:
        args += ["--expect", str(params["expect"])]
    return args


def mutate(module, xpci, command, args, operands):
    """Run a mutating command (with --dry-run in check mode); fail with
    xpci's error; return (changed, result JSON).  A change is a step xpci
    planned: an empty plan means everything already was as asked."""
    if module.check_mode:
        args = list(args) + ["--dry-run"]
    rc, data, err = xpci.run(command, args, operands)
    if rc != 0 or not isinstance(data, dict) or not data.get("ok"):
        xpci.fail(command, rc, data, err)
    return bool(data.get("plan")), data


def lines(items):
    return "".join("%s\n" % i for i in items)
