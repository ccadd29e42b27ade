#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# net-walk.sh - what `xpci check --all` costs in dom0's network interfaces:
# it walks down from the interfaces that are up or hold a route (a bridge,
# a bond, their ports) and never lists the directory of an interface that
# is down with nothing above it.  The opens are seen with strace; without
# strace, or where it cannot trace, the test is skipped.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "SKIP: no strace"; exit 77; }
strace -o /dev/null true 2>/dev/null ||
    { echo "SKIP: strace cannot trace"; exit 77; }

# a NIC that is down, SR-IOV VFs with interfaces, a bridge port, a bond
"$MKTREE" host_bridge,nic,sriov,bridge,bond_vlan "$work/t" ||
    { not_ok "mktree"; finish; exit; }
strace -f -e trace=openat,openat2 -o "$work/trace" \
    "${XPCI[@]}" --root "$work/t" check --all --json >"$work/out" 2>"$work/err"
rc=$?
if [ "$rc" = 0 ] || [ "$rc" = 1 ]; then
    ok "check --all ran under strace (exit $rc)"
else
    not_ok "check --all under strace: exit $rc"
    sed 's/^/#   /' "$work/err"
fi

# opened ifname: the trace opened class/net/IFNAME as a directory
opened() {
    grep -q "\"class/net/$1\", O_RDONLY[^\"]*O_DIRECTORY" "$work/trace"
}

down=0
for dir in "$work/t/sys/class/net"/*; do
    name=${dir##*/}
    flags=$(cat "$dir/flags")
    if [ $((flags & 1)) = 1 ] || compgen -G "$dir/upper_*" >/dev/null; then
        continue
    fi
    down=$((down + 1))
    if opened "$name"; then
        not_ok "$name is down with nothing above it, yet it was listed"
    else
        ok "$name (down, nothing above it) left alone"
    fi
done
[ "$down" -gt 0 ] || not_ok "the tree has no interface that is down"

# the walk down reaches the ports below the route (the control: the trace
# does show the directories that are listed)
for name in xenbr0 enp15s0 bond0.100 bond0 enp16s0f1; do
    if opened "$name"; then
        ok "$name listed on the way down from the route"
    else
        not_ok "$name was not listed"
    fi
done
if grep -q 'enp15s0 is a port of bridge xenbr0' "$work/out"; then
    ok "the bridge port is reported"
else
    not_ok "the bridge port is not reported"
fi

finish
