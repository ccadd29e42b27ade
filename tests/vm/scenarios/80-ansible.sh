#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# xpci-vm: timeout=1200
#
# 80-ansible - the xpci.passthrough collection driven by Debian's
# ansible-playbook in dom0 against the real xpci (as installed in dom0) on
# a real Xen: a declared state (tests/ansible/state.yml) hides the e1000e
# and gives it to a running PV guest, a second run reports no change,
# --check runs change nothing on the host; the state withdrawn takes it
# from the guest and gives it back to dom0's driver.  (The round trip of
# tests/ansible/scenario.yml, each module once with its refusals, runs
# against a host tree in make check: ten minutes of TCG here.)  The
# host's state (driver, pciback's slots,
# libxl's xenstore record, xl's assignable list, pciback's backend entry,
# Xen's owner, xl pci-list, the guest's pcifront) is read before and after
# every run, without Ansible.  Outputs in $XPCI_VM_OUT/80-*.txt.  Python under
# TCG makes each ansible-playbook run take one to two minutes, hence the
# boot's longer limit.
. "$XPCI_VM_IN/lib.sh"

E1000E_ID=8086:10d3
MATCH=vendor=8086,device=10d3
G=xpci-ans
trap 'guest_destroy_all' EXIT

if [ "${XPCI_VM_HAVE_XPCI:-0}" != 1 ]; then
    tap_skip_all "no xpci in dom0 (neither XPCI_VM_DEBS nor XPCI_STAGE)"
    exit 0
fi
if ! command -v ansible-playbook > /dev/null; then
    tap_fail "Ansible: ansible-playbook is in the dom0 image"
    tap_done
    exit 1
fi

export LC_ALL=C.UTF-8 HOME=/root
export ANSIBLE_COLLECTIONS_PATH="$XPCI_VM_IN/ansible"
export ANSIBLE_LOCAL_TEMP=/tmp/ansible-local ANSIBLE_REMOTE_TEMP=/tmp/ansible-remote
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PIPELINING=1
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
BOOKS=$XPCI_VM_IN/playbooks

if [ "${XPCI_VM_XPCI_FROM:-}" = deb ]; then
    tap_check "xpci runs from its package (dpkg -S)" \
        sh -c 'dpkg -S "$(command -v xpci)" | grep -q "^xpci:"'
fi

bdf=$(find_bdf "$E1000E_ID")
[ -n "$bdf" ] || { tap_fail "an e1000e is present"; tap_done; exit 1; }
for i in $(dev_netif "$bdf"); do ip link set "$i" down; done

# The host's state as dom0, xenstore and Xen see it, one line: the
# driver, pciback's slots, libxl's record of the hidden function, xl's
# lists, pciback's backend entry for the guest (its XenbusState), Xen's
# owner and the guest's pcifront.
host_state()
{
    local a=no h=no g=- slot=no rec be
    xl_assignable "$bdf" && a=yes
    xl_pci_has "$G" "$bdf" && h=yes
    guest_has "$G" "$E1000E_ID" && g=$E1000E_ID
    grep -qx "$bdf" /sys/bus/pci/drivers/pciback/slots 2> /dev/null &&
        slot=yes
    rec=$(xenstore-read "/libxl/pci/$(bdf_key "$bdf")/driver_path" \
        2> /dev/null || echo -)
    be=$(pci_backend_sub "$(guest_domid "$G")" "$bdf" || echo -)
    echo "driver=$(dev_driver "$bdf") pciback-slot=$slot libxl-record=$rec" \
        "xl-assignable=$a xen-owner=$(xen_dev_owner "$bdf" || echo dom0)" \
        "backend-entry-state=$be xl-pci-list=$h guest=$g"
}

# book NAME PLAYBOOK ARGS...: ansible-playbook on this host; output kept
# in $XPCI_VM_OUT/80-NAME.txt, the recap's changed count in CHANGED.
# Fails unless the run succeeded with no failed task.
book()
{
    local name=$1 file=$2 out t0 recap
    shift 2
    out=$XPCI_VM_OUT/80-$name.txt
    t0=$(date +%s)
    ansible-playbook -i localhost, -c local "$BOOKS/$file" \
        -e "domain=$G" -e "match=$MATCH" -e expect=1 "$@" > "$out" 2>&1
    RC=$?
    recap=$(grep -E '^localhost +:' "$out" | tail -n 1 | tr -s ' ')
    CHANGED=$(echo "$recap" | sed -n 's/.* changed=\([0-9]*\).*/\1/p')
    echo "ansible-playbook $file $*: $(($(date +%s) - t0)) s, exit $RC:" \
        "${recap#localhost : }"
    if [ "$RC" != 0 ] || ! echo "$recap" | grep -q ' failed=0 '; then
        grep -E 'fatal|FAILED|Assertion|msg' "$out" | head -n 20
        return 1
    fi
}

# run_book DESC CHANGE NAME PLAYBOOK ARGS...: one test point: the run
# succeeds and its changed count is 0 (CHANGE=none) or more (some).
# Skipped when the scenario's time would not allow it (twice the last
# run's duration, from LAST).
T0=$(date +%s)
LAST=0
run_book()
{
    local desc=$1 want=$2 out t0 left
    shift 2
    left=$((T0 + ${XPCI_VM_SCENARIO_TIMEOUT:-510} - 30 - $(date +%s)))
    if [ "$left" -lt $((2 * LAST)) ]; then
        tap_skip "$desc" "${left}s left, the last ansible-playbook run took ${LAST}s"
        return 0
    fi
    t0=$(date +%s)
    book "$@" > /tmp/80-book.out
    RC=$?
    LAST=$(($(date +%s) - t0))
    out=$(cat /tmp/80-book.out)
    if [ "$RC" != 0 ]; then
        tap_fail "$desc" "$out"
    elif [ "$want" = none ] && [ "$CHANGED" != 0 ]; then
        tap_fail "$desc: changed=0" "$out" "changed=$CHANGED"
    elif [ "$want" = some ] && [ "${CHANGED:-0}" = 0 ]; then
        tap_fail "$desc: changed>0" "$out" "changed=$CHANGED"
    else
        tap_ok "$desc"
        [ -z "$out" ] || diag "$out"
    fi
}

# unchanged DESC BEFORE: the host's state is still BEFORE.
unchanged()
{
    local now
    now=$(host_state)
    if [ "$now" = "$2" ]; then
        tap_ok "$1"
    else
        tap_fail "$1" "before: $2" "after:  $now"
    fi
}

back_on_e1000e() { [ "$(dev_driver "$bdf")" = e1000e ]; }
on_pciback() { [ "$(dev_driver "$bdf")" = pciback ]; }

guest_create "$G" || { tap_fail "PV guest $G boots"; tap_done; exit 1; }
s0=$(host_state)
diag "host: $s0"

# ---------------------------------------------------------------- a state
run_book "Ansible: --check of the attached state: would change, no failure" \
    some check-attach state.yml -e want=attached --check --diff
unchanged "Ansible: --check left the host as it was" "$s0"

run_book "Ansible: the attached state applied (hide, attach to $G)" \
    some attach state.yml -e want=attached --diff
tap_check "the e1000e is on pciback" on_pciback
tap_check "xl pci-list $G lists it" xl_pci_has "$G" "$bdf"
tap_check "$G's pcifront sees the e1000e" \
    wait_for 30 "the guest's report" guest_has "$G" "$E1000E_ID"
s1=$(host_state)
diag "host: $s1"

run_book "Ansible: the attached state again: no change" \
    none attach-again state.yml -e want=attached
unchanged "Ansible: the second run left the host as it was" "$s1"
run_book "Ansible: --check of the absent state: would change, no failure" \
    some check-absent state.yml -e want=absent --check --diff
unchanged "Ansible: these --check runs left the host as it was" "$s1"

run_book "Ansible: the absent state applied (detach, give back)" \
    some absent state.yml -e want=absent --diff
tap_check "$G's pcifront saw it go" \
    wait_for 30 "the guest's report" guest_lacks "$G" "$E1000E_ID"
tap_check "the e1000e is back on its driver" wait_for 30 e1000e back_on_e1000e
tap_check "xl pci-assignable-list no longer shows it" \
    sh -c "! xl pci-assignable-list | grep -q '^$bdf'"
s2=$(host_state)
diag "host: $s2"
unchanged "Ansible: given back, the host is as before the first run" "$s0"

tap_done
exit $?
