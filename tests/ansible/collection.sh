#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# collection.sh - the xpci.passthrough Ansible collection run by
# ansible-playbook on this host: tree.yml with the real xpci on a generated
# host tree (facts, selectors, xpci's errors as msg), and scenario.yml
# (hide, attach, detach, give back, each step run twice and in check mode)
# with fake-xpci, which keeps what would need Xen in a state file and
# leaves reading and selectors to the real xpci.  The same scenario runs
# against real Xen with the real xpci (xpci_path unset).  Skipped (77)
# without ansible-playbook.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
MKTREE="$top_builddir/tests/unit/mktree"
export XPCI_PCI_IDS="$top_srcdir/tests/data/pci.ids"
unset XPCI_ROOT

if ! command -v ansible-playbook >/dev/null; then
    echo "SKIP: ansible-playbook not installed (apt-get install ansible-core)"
    exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
# rebinds WHAT: every give-back in the fake xpci's log passed --rebind,
# and there was at least one
rebinds() {
    local n_gb n_rb
    n_gb=$(grep -c '^assignable-remove ' "$XPCI_FAKE_LOG")
    n_rb=$(grep '^assignable-remove ' "$XPCI_FAKE_LOG" | grep -c -- '--rebind')
    if [ "$n_gb" -gt 0 ] && [ "$n_gb" = "$n_rb" ]; then
        ok "ansible: $1 gives back with --rebind ($n_gb calls)"
    else
        not_ok "ansible: $1: $n_rb of $n_gb give-back calls rebind"
    fi
}

mkdir "$work/host"
"$MKTREE" host "$work/host" || not_ok "mktree host"

export ANSIBLE_COLLECTIONS_PATH="$top_srcdir/ansible"
export ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_REMOTE_TEMP="$work/tmp"
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_PYTHON_INTERPRETER=${ANSIBLE_PYTHON_INTERPRETER:-/usr/bin/python3}
INV=(-i localhost, -c local)

# playbook DESCRIPTION PLAYBOOK ARGS...: runs it; the recap must show no
# failed task (ignored failures are the expected ones)
playbook() {
    local what=$1 book=$2
    shift 2
    if ansible-playbook "${INV[@]}" "$top_srcdir/tests/ansible/$book" "$@" \
        >"$work/out" 2>&1 &&
        grep -Eq 'failed=0 ' "$work/out"; then
        ok "ansible: $what ($(grep -Eo 'ok=[0-9]+ +changed=[0-9]+' \
            "$work/out" | tr -s ' '))"
    else
        not_ok "ansible: $what"
        grep -E 'fatal|FAILED|Assertion|msg' "$work/out" | head -n 30 |
            sed 's/^/#   /'
    fi
}

playbook "facts and refusals with the real xpci on a host tree" tree.yml \
    -e "xpci_path=$top_builddir/tools/xpci/xpci" -e "xpci_root=$work/host"

export XPCI_REAL="$top_builddir/tools/xpci/xpci" XPCI_FAKE_TREE="$work/host"
export XPCI_FAKE_STATE="$work/state.json" XPCI_FAKE_LOG="$work/calls"
: >"$XPCI_FAKE_LOG"
playbook "round trip: hide, attach, detach, give back, each idempotent" \
    scenario.yml -e "xpci_path=$top_srcdir/tests/ansible/fake-xpci" \
    -e domain=guest3 -e "match=pf=0000:07:00.0" -e expect=2

# giving back returns the functions to dom0's drivers (xl's -r): without
# --rebind a real host leaves them with no driver at all
rebinds "scenario.yml"

# check mode: only --dry-run calls reach a mutating command
if grep -E '^(assignable-add|attach) ' "$XPCI_FAKE_LOG" | head -n 1 |
    grep -q -- '--dry-run'; then
    ok "ansible: check mode passes --dry-run to xpci"
else
    not_ok "ansible: the first hide or attach was not a dry run"
fi
# the whole playbook in --check: nothing changes, every mutating call is a
# dry run (the run stops at the first assertion that wants a real change)
rm -f "$XPCI_FAKE_STATE"
: >"$XPCI_FAKE_LOG"
ansible-playbook "${INV[@]}" "$top_srcdir/tests/ansible/scenario.yml" \
    --check -e "xpci_path=$top_srcdir/tests/ansible/fake-xpci" \
    -e domain=guest3 -e "match=pf=0000:07:00.0" -e expect=2 \
    >"$work/out" 2>&1
n_mut=$(grep -cE '^(assignable-add|assignable-remove|attach|detach) ' \
    "$XPCI_FAKE_LOG")
n_dry=$(grep -E '^(assignable-add|assignable-remove|attach|detach) ' \
    "$XPCI_FAKE_LOG" | grep -c -- '--dry-run')
if [ "$n_mut" -gt 0 ] && [ "$n_mut" = "$n_dry" ]; then
    ok "ansible: --check: $n_mut mutating calls, all with --dry-run"
else
    not_ok "ansible: --check: $n_dry of $n_mut mutating calls were dry runs"
fi
if [ ! -e "$XPCI_FAKE_STATE" ]; then
    ok "ansible: ansible-playbook --check changes nothing"
else
    not_ok "ansible: --check wrote state: $(cat "$XPCI_FAKE_STATE")"
fi

# the declared state (state.yml): each way once, then no change; --check
# from either side changes nothing
# state WANT CHANGE [ARGS...]: one run; CHANGE is none or some
state() {
    local want=$1 change=$2 n
    shift 2
    ansible-playbook "${INV[@]}" "$top_srcdir/tests/ansible/state.yml" \
        -e "xpci_path=$top_srcdir/tests/ansible/fake-xpci" -e want="$want" \
        -e domain=guest3 -e "match=pf=0000:07:00.0" -e expect=2 "$@" \
        >"$work/out" 2>&1
    n=$(sed -n 's/.* changed=\([0-9]*\) .*failed=0 .*/\1/p' "$work/out")
    if [ -n "$n" ] && { { [ "$change" = none ] && [ "$n" = 0 ]; } ||
        { [ "$change" = some ] && [ "$n" != 0 ]; }; }; then
        ok "ansible: state.yml want=$want $* (changed=$n)"
    else
        not_ok "ansible: state.yml want=$want $*: changed=${n:-?}," \
            "expected $change"
        grep -E 'fatal|FAILED|msg' "$work/out" | head -n 20 | sed 's/^/#   /'
    fi
}
rm -f "$XPCI_FAKE_STATE"
state attached some --check
[ ! -e "$XPCI_FAKE_STATE" ] && ok "ansible: state.yml --check wrote nothing" ||
    not_ok "ansible: state.yml --check wrote state"
state attached some
state attached none
state attached none --check
cp "$XPCI_FAKE_STATE" "$work/held.json"
state absent some --check
cmp -s "$XPCI_FAKE_STATE" "$work/held.json" &&
    ok "ansible: state.yml want=absent --check changed nothing" ||
    not_ok "ansible: state.yml want=absent --check changed the state"
: >"$XPCI_FAKE_LOG"
state absent some
rebinds "state.yml want=absent"
state absent none

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
